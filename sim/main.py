"""`make sim`: the main job. The whole accelerator, from query to logit.

1. The golden model on the chosen config: its own CPU speed at batch 1 and
   batch 2048 (NumPy, this machine), and the fixed-point vs float error.
2. The RTL accelerator top (CSRs, lookup engines over the HBM model with
   `u280` timing, configuration DMA, MLP engine of 128 PEs x 24 lanes =
   3072 MAC lanes) in Verilator: the host driver loads the model through
   the CSRs and DMA; unloaded latency is measured one query at a time, then
   throughput over QUERIES back-to-back queries; every logit is compared
   with golden_infer() bit for bit.
Prints a summary next to MicroRec's published figures (../shared/reference.md)
and writes build/sim/result.json; exits non-zero on any mismatch or failure.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time

import numpy as np

from .runner import SimFailure, run_test
from .toolchain import BUILD_ROOT

CLOCK_MHZ = 120.0          # MicroRec's kernel clock for its end-to-end figures
MICROREC = {"latency_cycles": 1956, "latency_us": 16.3, "items_per_cycle": 2.54e-3, "items_per_s": 3.05e5}


def step(msg: str) -> None:
    print(f"[sim] {msg}", flush=True)


def golden_part(cfg_name: str, seed: int) -> dict:
    from models.config import check_fit, load_config
    from models.golden import float_infer, golden_infer, mlp_weights
    from models.queries import uniform_queries

    cfg = load_config(cfg_name)
    check_fit(cfg)
    step(f"config {cfg.name}: {cfg.num_tables} tables, feature length {cfg.feature_len}, "
         f"MLP {'-'.join(str(n) for n in [cfg.feature_len] + list(cfg.mlp))}, "
         f"{cfg.total_bytes / 2**30:.2f} GiB of tables (procedural, never materialised)")
    weights = mlp_weights(cfg)
    idx = uniform_queries(cfg, 2048, seed=seed)
    step("golden model speed: batch 1 (50 runs) and batch 2048 ...")
    golden_infer(cfg, idx[:8], weights)                     # warm-up
    t0 = time.perf_counter()
    logits = golden_infer(cfg, idx, weights)
    t_batch = time.perf_counter() - t0
    lat = []
    for i in range(50):
        t1 = time.perf_counter()
        golden_infer(cfg, idx[i:i + 1], weights)
        lat.append(time.perf_counter() - t1)
    err = np.abs(logits / 2.0**cfg.frac_bits - float_infer(cfg, idx, weights))
    return {"config": cfg.name, "tables": cfg.num_tables, "feature_len": cfg.feature_len,
            "mlp": list(cfg.mlp), "table_bytes": cfg.total_bytes,
            "batch2048_items_per_s": 2048 / t_batch, "batch1_median_ms": 1e3 * statistics.median(lat),
            "fixed_vs_float_max_abs": float(err.max()), "fixed_vs_float_mean_abs": float(err.mean())}


def sim_build(cfg_name: str, pes: int, lanes: int):
    """One build sized for the config (maxima rounded up, so similar models share it)."""
    from models.config import load_config
    from tb.host.microrec_host import TopBuild
    from tb.lookup.layout import LookupBuild
    from tb.mlp.mlp_layout import EngineBuild, bank_plan

    cfg = load_config(cfg_name)
    pow2 = lambda n: 1 << max(0, int(n) - 1).bit_length()  # noqa: E731
    t_max = max(64, pow2(cfg.num_tables))
    plan = bank_plan(EngineBuild(P=pes, U=lanes), list(cfg.layer_shapes))
    wdepth = max(512, pow2(plan[-1]["wbase"] + plan[-1]["cycles"]))
    bdepth = max(16, pow2(plan[-1]["bbase"] + plan[-1]["rounds"]))
    return TopBuild(LookupBuild(num_ch=34, num_banks=4, bank_words=16384, qdepth=64, p_max=t_max,
                                list_max=8, t_max=t_max, dim_max=max(16, pow2(max(t.dim for t in cfg.tables))),
                                feat_max=max(352, cfg.feature_len), id_w=6),
                    EngineBuild(P=pes, U=lanes, MAX_LAYERS=4, MAX_DIM=1024, WDEPTH=wdepth, BDEPTH=bdepth))


def tail_progress(log_path, stop: threading.Event) -> None:
    """Echo the bench's [progress] lines while the simulation runs."""
    pos = 0
    while not stop.is_set():
        try:
            with open(log_path, errors="replace") as fh:
                fh.seek(pos)
                for line in fh:
                    if "[progress]" in line:
                        print("[sim]   " + line.split("[progress]", 1)[1].strip(), flush=True)
                pos = fh.tell()
        except FileNotFoundError:
            pass
        stop.wait(1.0)


def rtl_part(cfg_name: str, queries: int, seed: int, pes: int, lanes: int) -> dict:
    from tests.test_top import top_dut, top_env

    build = sim_build(cfg_name, pes, lanes)
    step(f"RTL: accelerator top, {build.lookup.num_ch} memory channels (u280 HBM + DDR4 timing at "
         f"{CLOCK_MHZ:.0f} MHz), MLP {pes} PEs x {lanes} lanes = {pes * lanes} MAC lanes")
    step("building with Verilator if needed (a few minutes the first time) ...")
    log = BUILD_ROOT / "tests" / "sim_main_top" / "sim.log"
    stop = threading.Event()
    th = threading.Thread(target=tail_progress, args=(log, stop), daemon=True)
    th.start()
    t0 = time.perf_counter()
    try:
        res = run_test(top_dut(build, name=f"sim_{pes}x{lanes}"), "tb.top.tb_top", testcase="TopSimTest",
                       seed=seed, name="sim_main_top",
                       extra_env=top_env(build, cfg_name, queries=queries, preset="u280", mhz=CLOCK_MHZ))
    finally:
        stop.set()
        th.join()
    out = json.loads((res.test_dir / "sim_result.json").read_text())
    out.update(wall_s=time.perf_counter() - t0, log=str(res.log),
               fcov=[str(p) for p in sorted(res.test_dir.glob("fcov_*.json"))])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="microrec_small")
    ap.add_argument("--queries", type=int, default=1000, help="queries in the throughput run")
    ap.add_argument("--pes", type=int, default=128)
    ap.add_argument("--lanes", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    out = {"ok": False, "clock_mhz": CLOCK_MHZ}
    try:
        out["golden"] = golden_part(args.config, args.seed)
        out["rtl"] = rtl_part(args.config, args.queries, args.seed, args.pes, args.lanes)
        out["ok"] = out["rtl"]["mismatches"] == 0
    except SimFailure as exc:
        out["error"] = str(exc)
        print(exc)
    g, r = out.get("golden"), out.get("rtl")
    us = lambda c: c / CLOCK_MHZ  # noqa: E731
    print("\n==================== make sim summary ====================")
    print(f"result            : {'PASS' if out['ok'] else 'FAIL'}")
    if g:
        print(f"model             : {g['config']}: {g['tables']} tables, feature {g['feature_len']}, MLP "
              f"{g['feature_len']}-{'-'.join(map(str, g['mlp']))}, {g['table_bytes'] / 2**30:.2f} GiB of tables")
    if r:
        print(f"queries           : {r['queries']} checked against golden_infer(), mismatches {r['mismatches']}")
        print(f"latency (unloaded): min {r['latency_min']}, median {r['latency_median']}, p99 {r['latency_p99']} "
              f"cycles = {us(r['latency_median']):.2f} us median at {CLOCK_MHZ:.0f} MHz "
              f"({r['latency_queries']} queries one at a time)")
        ipc = r["items_per_cycle"]
        print(f"throughput        : {ipc:.3e} items/cycle = {ipc * CLOCK_MHZ * 1e6:.3g} items/s at "
              f"{CLOCK_MHZ:.0f} MHz ({r['throughput_queries']} queries back to back)")
        print(f"lookups           : {r['lookups_per_query']} per query ({r['dram_lookups_per_query']} in DRAM), "
              f"{r['dram_rounds']} DRAM round(s); {r['counters']['ooo']} reads returned out of order")
        util = list(r["channel_utilization"].values())
        if util:
            print(f"memory channels   : {len(util)} in use, R-channel utilization mean {np.mean(util):.1%}, "
                  f"max {max(util):.1%}")
        print(f"MLP               : {r['mlp_lanes']} MAC lanes, {r['mlp_utilization']:.1%} busy-cycle utilization")
        print("\n|                      | this design (RTL sim) | MicroRec 16-bit (U280) |")
        print("|---|---|---|")
        print(f"| latency, cycles      | {r['latency_median']} | {MICROREC['latency_cycles']} |")
        print(f"| latency @ 120 MHz    | {us(r['latency_median']):.2f} us | {MICROREC['latency_us']} us |")
        print(f"| items/cycle          | {ipc:.3e} | {MICROREC['items_per_cycle']:.3e} |")
        print(f"| items/s @ 120 MHz    | {ipc * CLOCK_MHZ * 1e6:.3g} | {MICROREC['items_per_s']:.3g} |")
    if g:
        print(f"| NumPy golden, batch 1    | {g['batch1_median_ms']:.3f} ms median (this machine) | |")
        print(f"| NumPy golden, batch 2048 | {g['batch2048_items_per_s']:.3g} items/s (this machine) | |")
        print(f"\nfixed vs float    : max |err| {g['fixed_vs_float_max_abs']:.4f}, "
              f"mean {g['fixed_vs_float_mean_abs']:.4f} (logit units, 2048 queries)")
    if r:
        print(f"simulation        : throughput phase {r['counters']['cycles']} cycles; whole run {r['wall_s']:.0f} s "
              f"wall incl. build and model load; log {r['log']}")
        print(f"coverage files    : {', '.join(r['fcov']) or 'none'}")
    path = BUILD_ROOT / "sim" / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=str))
    print(f"result file       : {path}")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
