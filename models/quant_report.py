"""Fidelity and zero-skip figures of the int8 / 2:4 models (contracts.md s.8.7).

    python -m models.quant_report [models...] [--queries N] [--P 128] [--U 24]

Prints, per model, the fidelity of each variant against the int16 and float
models, and for int16 (S = U) and int8 (S = 2U) the zero fraction of every
layer's input and the MAC cycles per item on a P x U array: dense (bank
plan), zero-skip with the residue-class schedule, and the compacted bound.
"""

from __future__ import annotations

import argparse

import numpy as np

from .config import builtin
from .quant import (
    DEFAULT_VARIANTS,
    FIDELITY_SEED,
    MIXED,
    SCHEDULES,
    fidelity,
    golden_infer_q,
    lanes_for,
    mixed_precisions,
    layer_beats,
    quantize,
)
from .queries import uniform_queries



def report_variants(cfg) -> tuple:
    """The default variants and "mixed" (models.quant.mixed_precisions)."""
    return DEFAULT_VARIANTS + ((MIXED, mixed_precisions(len(cfg.mlp)), None),)


def fidelity_lines(cfg, n_queries: int) -> list[str]:
    fid = fidelity(cfg, n_queries, variants=report_variants(cfg))
    m = fid["int16_vs_float"]
    lines = [f"{cfg.name}: {n_queries} queries (seed {FIDELITY_SEED:#x}); int16 vs float: mean "
             f"{m['mean_abs']:.4f} max {m['max_abs']:.4f} spearman {m['spearman']:.5f} "
             f"top10 {m['top_overlap']:.1f}",
             f"{'variant':<10} {'vs':<6} {'mean|d|':>8} {'max|d|':>8} {'spearman':>9} {'top10':>6}"
             f"  shifts / in_frac / w_frac / q"]
    for name, v in fid["variants"].items():
        lay = v["describe"]["layers"]
        tag = (f"{[x['shift'] for x in lay]} {[x['in_frac'] for x in lay]} "
               f"{[x['w_frac'] for x in lay]} {v['describe']['input_shift']}")
        for ref in ("int16", "float"):
            m = v[f"vs_{ref}"]
            lines.append(f"{name:<10} {ref:<6} {m['mean_abs']:8.4f} {m['max_abs']:8.4f} "
                         f"{m['spearman']:9.5f} {m['top_overlap']:6.1f}  {tag if ref == 'int16' else ''}")
    return lines


def skip_lines(cfg, n_queries: int, p: int, u: int) -> list[str]:
    idx = uniform_queries(cfg, n_queries, seed=FIDELITY_SEED)
    lines = []
    for prec, sparsity in (("int16", None), ("int8", None), ("int8", "2:4")):
        qm = quantize(cfg, prec, sparsity)
        _, trace = golden_infer_q(cfg, idx, qm, return_layers=True)
        s = lanes_for(prec, u)
        rounds = [-(-o // p) for _, o in cfg.layer_shapes]
        zf = [float(np.mean(x == 0)) for x in trace.inputs]
        label = prec + ("+2:4" if sparsity else "")
        lines.append(f"{label} S={s} P={p}: zero fraction per layer input "
                     f"{[round(z, 3) for z in zf]}, rounds {rounds}")
        for sched in (False,) + (() if sparsity else tuple(SCHEDULES)):
            per_layer = [layer_beats(lp, fi, x, u, sched)
                         for lp, (fi, _), x in zip(qm.layers, cfg.layer_shapes, trace.inputs)]
            cyc = sum(r * b for r, b in zip(rounds, per_layer))
            beats = [round(float(b.mean()), 1) for b in per_layer]
            lines.append(f"    {sched or 'dense':<8} beats/round {beats}: cycles/item mean "
                         f"{cyc.mean():.1f} median {np.median(cyc):.0f} max {cyc.max()} = "
                         f"{1 / cyc.mean():.3e} items/cycle")
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=["tiny", "microrec_small"])
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--P", type=int, default=128)
    ap.add_argument("--U", type=int, default=24)
    a = ap.parse_args(argv)
    for name in a.models:
        cfg = builtin(name)
        print("\n".join([""] + fidelity_lines(cfg, a.queries) + skip_lines(cfg, a.queries, a.P, a.U)))


if __name__ == "__main__":
    main()
