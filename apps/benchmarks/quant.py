"""INT8 and zero-skipping on the whole accelerator (contracts s.8, issue 15):
items/cycle and unloaded latency for {int16, int8} x {dense, zero-skip}, measured
in the RTL (the `make sim` test, TopSimTest: every logit checked bit for bit
against golden_infer_q), beside MicroRec's published figures (docs/reference.md)
and the fidelity of each precision (models.quant.fidelity: logits vs the int16
and float models). The cycle model of the same schedule (models.quant.mlp_cycles)
is printed next to the measured MLP beats as a cross-check.

    .venv/bin/python -m apps.benchmarks.quant                       # microrec_small, 128 x 24
    .venv/bin/python -m apps.benchmarks.quant --config tiny --pes 8 --lanes 8 --queries 20

Prints a table, writes build/bench/quant.json and build/bench/quant.png.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from apps.microrec_sim import MICROREC
from sim.toolchain import BUILD_ROOT

VARIANTS = (("int16", False), ("int16", True), ("int8", False), ("int8", True))
# issue 15: microrec_small, int8 + zero-skip, <= 3072 lanes
TARGETS = {"min_items_per_cycle": 5.1e-3, "max_latency": 300, "max_lanes": 3072}


def run_variant(args, precision: str, skip: bool) -> dict:
    from tb.top.dut import BENCH, build_for_model

    build = build_for_model(args.config, args.pes, args.lanes)
    name = f"bench_quant_{precision}_{'skip' if skip else 'dense'}"
    t0 = time.perf_counter()
    res = BENCH.run(build, "TopSimTest", args.seed, name=name, configs=[args.config], queries=args.queries,
                    lat_queries=args.lat_queries, preset=args.preset, mhz=args.clock_mhz, precision=precision,
                    zero_skip=skip, coverage=False, waves=False)
    r = json.loads((res.test_dir / "sim_result.json").read_text())
    r["wall_s"] = time.perf_counter() - t0
    return r


def model_cycles(config: str, pes: int, lanes: int, precision: str, skip: bool, n: int = 200) -> float:
    """Mean MLP beats per query of the residue schedule (models.quant.mlp_cycles)."""
    from models.config import load_config
    from models.quant import mlp_cycles, quantize
    from models.queries import uniform_queries

    cfg = load_config(config)
    qm = quantize(cfg, precision)
    return float(np.mean(mlp_cycles(qm, uniform_queries(cfg, n, seed=7), pes, lanes, skip=skip)))


def fidelity_rows(config: str, n: int) -> dict:
    from models.config import load_config
    from models.quant import fidelity

    fid = fidelity(load_config(config), n_queries=n,
                   variants=(("int16", "int16", None), ("int8", "int8", None)))
    return {"int16_vs_float": fid["int16_vs_float"],
            **{k: {"vs_int16": v["vs_int16"], "vs_float": v["vs_float"]} for k, v in fid["variants"].items()}}


def report(rows: list[dict], fid: dict, args) -> str:
    ref = MICROREC.get(rows[0]["config"]) if rows else None
    lines = [f"{'variant':<16} {'items/cycle':>11} {'items/s':>9} {'lat med':>7} {'lat p99':>7} "
             f"{'MLP beats/q':>11} {'model':>7} {'mism':>4}  fidelity vs float (mean|d|, spearman, top10)"]
    for r in rows:
        f = fid["int16_vs_float"] if r["precision"] == "int16" else fid["int8"]["vs_float"]
        lines.append(f"{r['precision'] + (' zero-skip' if r['zero_skip'] else ' dense'):<16} "
                     f"{r['items_per_cycle']:>11.3e} {r['items_per_cycle'] * args.clock_mhz * 1e6:>9.3g} "
                     f"{r['latency_median']:>7} {r['latency_p99']:>7} {r['mlp_beats_per_query']:>11.1f} "
                     f"{r['model_beats_per_query']:>7.1f} {r['mismatches']:>4}  "
                     f"{f['mean_abs']:.4f}, {f['spearman']:.5f}, {f['top_overlap']:.1f}")
    if ref:
        lines.append(f"{'MicroRec 16-bit':<16} {ref['items_per_s'] / (args.clock_mhz * 1e6):>11.3e} "
                     f"{ref['items_per_s']:>9.3g} {ref['latency_us'] * args.clock_mhz:>7.0f} {'':>7} {'':>11} "
                     f"{'':>7} {'':>4}  (U280, {ref['latency_us']} us at 120 MHz, docs/reference.md)")
    i8 = fid["int8"]["vs_int16"]
    lines.append(f"\nint8 vs int16 logits ({args.fidelity_queries} queries): mean |d| {i8['mean_abs']:.4f}, "
                 f"max {i8['max_abs']:.4f}, spearman {i8['spearman']:.5f}, top-10 overlap {i8['top_overlap']:.1f}")
    best = next((r for r in rows if r["precision"] == "int8" and r["zero_skip"]), None)
    if best and best["config"] == "microrec_small":
        ok = {f"lanes {best['mlp_lanes']} <= {TARGETS['max_lanes']}": best["mlp_lanes"] <= TARGETS["max_lanes"],
              f"items/cycle {best['items_per_cycle']:.3e} >= {TARGETS['min_items_per_cycle']:.1e}":
                  best["items_per_cycle"] >= TARGETS["min_items_per_cycle"],
              f"median latency {best['latency_median']} <= {TARGETS['max_latency']} cycles":
                  best["latency_median"] <= TARGETS["max_latency"]}
        lines.append("\ntargets (issue 15), int8 + zero-skip:\n" +
                     "\n".join(f"  [{'ok' if v else 'MISS'}] {k}" for k, v in ok.items()))
    return "\n".join(lines)


def plot(rows: list[dict], path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"{r['precision']}\n{'skip' if r['zero_skip'] else 'dense'}" for r in rows]
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].bar(names, [r["items_per_cycle"] * 1e3 for r in rows], color="tab:blue")
    ax[0].set_ylabel("items / 1000 cycles")
    ax[0].set_title(f"throughput, {rows[0]['config']}")
    ax[1].bar(names, [r["latency_median"] for r in rows], color="tab:orange")
    ax[1].set_ylabel("median unloaded latency, cycles")
    ax[1].set_title(f"{rows[0]['mlp_lanes']} MAC lanes")
    ref = MICROREC.get(rows[0]["config"])
    if ref:
        ax[0].axhline(ref["items_per_s"] / 120e6 * 1e3, ls="--", color="gray", label="MicroRec (120 MHz)")
        ax[1].axhline(ref["latency_us"] * 120, ls="--", color="gray", label="MicroRec (120 MHz)")
        ax[0].legend()
        ax[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="microrec_small")
    ap.add_argument("--pes", type=int, default=128)
    ap.add_argument("--lanes", type=int, default=24)
    ap.add_argument("--queries", type=int, default=300, help="queries of each throughput run")
    ap.add_argument("--lat-queries", type=int, default=30, help="queries of each one-at-a-time latency run")
    ap.add_argument("--preset", default="u280")
    ap.add_argument("--clock-mhz", type=float, default=120.0)
    ap.add_argument("--fidelity-queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rows = []
    for precision, skip in VARIANTS:
        print(f"[bench] {args.config} {precision} {'zero-skip' if skip else 'dense'} on {args.pes} x {args.lanes} ...",
              flush=True)
        r = run_variant(args, precision, skip)
        c = r["counters"]
        r["mlp_beats_per_query"] = c["mlp_busy"] / max(1, r["throughput_queries"])
        r["model_beats_per_query"] = model_cycles(args.config, args.pes, args.lanes, precision, skip)
        rows.append(r)
    fid = fidelity_rows(args.config, args.fidelity_queries)
    print(report(rows, fid, args))
    out = BUILD_ROOT / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "quant.json").write_text(json.dumps({"rows": rows, "fidelity": fid, "microrec": MICROREC.get(args.config)},
                                               indent=1, default=str))
    plot(rows, out / "quant.png")
    bad = sum(r["mismatches"] for r in rows)
    print(f"\nwrote {out / 'quant.json'} and {out / 'quant.png'}" + (f"; {bad} MISMATCHES" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
