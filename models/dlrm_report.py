"""`python -m models.dlrm_report`: the DLRM golden model's own figures.

- fixed-point vs float error of `dlrm_infer` (logit units) per config;
- CPU speed of `dlrm_infer` (NumPy, this machine) at batch 1 (median of
  runs) and batch 2048, bags of `--length` rows per table: the CPU baseline
  the accelerator bench compares with. Rows are produced by the procedural
  hash (contracts s.1), which is part of the measured time; `rows_s` says how
  much of the batch time that is;
- HBM beats per query and the memory bound of the config's own placement
  (`models.memory_bound`).
Wall-clock figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from .config import load_config
from .dlrm import dlrm_float, dlrm_infer, dlrm_weights
from .memory_bound import memory_bound
from .multihot import multihot_queries
from .placement import place
from .tables import table_rows


def fixed_vs_float(cfg, n: int, length: int, seed: int = 1) -> dict:
    w = dlrm_weights(cfg)
    bags = multihot_queries(cfg, n, length=length, seed=seed)
    res = dlrm_infer(cfg, bags, w, return_trace=True)
    ref = dlrm_float(cfg, bags, w)
    err = np.abs(res.logits / 2.0 ** cfg.frac_bits - ref)
    r = res.trace.r
    return {"queries": n, "length": length, "max_abs": float(err.max()),
            "mean_abs": float(err.mean()), "lsb": 2.0 ** -cfg.frac_bits,
            "logit_abs_max": float(np.abs(ref).max()),
            "saturated_r_elements": int((np.abs(r) >= 32767).sum()),
            "saturated_pooled": int((np.abs(res.trace.pooled) >= 32767).sum())}


def cpu_speed(cfg, length: int, batch: int = 2048, runs: int = 30, seed: int = 2) -> dict:
    w = dlrm_weights(cfg)
    bags = multihot_queries(cfg, batch, length=length, seed=seed)
    dlrm_infer(cfg, bags.select(slice(0, 8)), w)                  # warm-up
    t0 = time.perf_counter()
    dlrm_infer(cfg, bags, w)
    t_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t, tab in enumerate(cfg.tables):
        table_rows(cfg.seed, t, bags.values[t], tab.dim, cfg.emb_shift)
    t_rows = time.perf_counter() - t0
    lat = []
    for i in range(runs):
        one = bags.select([i])
        t1 = time.perf_counter()
        dlrm_infer(cfg, one, w)
        lat.append(time.perf_counter() - t1)
    return {"length": length, "batch": batch, "batch_items_per_s": batch / t_batch,
            "batch_s": t_batch, "rows_s": t_rows, "batch1_median_ms": 1e3 * statistics.median(lat)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=["dlrm_tiny", "dlrm_kaggle"])
    ap.add_argument("--length", type=int, default=20, help="rows per bag (fixed)")
    ap.add_argument("--error-queries", type=int, default=512)
    ap.add_argument("--words-per-beat", type=int, default=32)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)
    out = {}
    for name in args.configs:
        cfg = load_config(name)
        length = min(args.length, max(t.bag_max for t in cfg.tables))
        fe = fixed_vs_float(cfg, args.error_queries, length)
        sp = cpu_speed(cfg, length)
        mb = memory_bound(place(cfg), [min(length, t.bag_max) for t in cfg.tables],
                          words_per_beat=args.words_per_beat).summary()
        out[name] = {"fixed_vs_float": fe, "cpu": sp, "memory": mb}
        print(f"{name}: bags of {length} (clipped to bag_max)")
        print(f"  fixed vs float : max {fe['max_abs']:.5f}  mean {fe['mean_abs']:.5f} "
              f"(LSB {fe['lsb']:.5f}, |logit| up to {fe['logit_abs_max']:.3f}, "
              f"saturated R elements {fe['saturated_r_elements']})")
        print(f"  CPU dlrm_infer : batch 1 median {sp['batch1_median_ms']:.2f} ms, batch 2048 "
              f"{sp['batch_items_per_s']:.0f} items/s ({sp['batch_s']:.2f} s, of which "
              f"row hashing {sp['rows_s']:.2f} s)")
        print(f"  memory         : {mb['hbm_beats_per_query']:.0f} HBM/DDR beats/query, busiest "
              f"channel {mb['max_channel_beats']:.0f} -> {mb['memory_bound_qpc']:.4f} q/cycle; "
              f"busiest bank {mb['max_bank_reads']:.0f} reads -> {mb['onchip_bound_qpc']:.4f}; "
              f"stream {mb['stream_beats']:.0f} beats (W={args.words_per_beat}) -> "
              f"{mb['stream_bound_qpc']:.4f}; limiter {mb['limiter']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
