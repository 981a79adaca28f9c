"""`make sim`: the main job. Runs the most complete system that exists.

Today that is (1) the golden model on the chosen config: procedural tables,
gather and bit-exact inference, its CPU speed at batch 1 and batch N, and
the fixed-point error against the float path; and (2) the RTL MAC processing
element computing real neurons of that model (every layer) in Verilator,
each checked against the golden model's own layer outputs. As the lookup
engines, MLP engine and accelerator top land, this grows into the full
query-to-logit run (issue 6).

Prints a summary and writes build/sim/result.json; exits non-zero on any
mismatch or failure.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

from .runner import Dut, SimFailure, run_test
from .toolchain import BUILD_ROOT, RTL_DIR


def step(msg: str) -> None:
    print(f"[sim] {msg}", flush=True)


def golden_part(cfg_name: str, queries: int, seed: int) -> dict:
    from models.config import check_fit, load_config
    from models.golden import float_infer, golden_infer, mlp_weights
    from models.queries import uniform_queries

    cfg = load_config(cfg_name)
    cfg.validate()
    check_fit(cfg)
    step(f"config {cfg.name}: {cfg.num_tables} tables, feature length {cfg.feature_len}, "
         f"MLP {'-'.join(str(n) for n in [cfg.feature_len] + list(cfg.mlp))}, "
         f"{cfg.total_bytes / 2**30:.2f} GiB of tables (procedural, never materialised)")
    weights = mlp_weights(cfg)
    idx = uniform_queries(cfg, queries, seed=seed)
    step(f"golden model: {queries} queries, batch {queries} ...")
    t0 = time.perf_counter()
    logits = golden_infer(cfg, idx, weights)
    t_batch = time.perf_counter() - t0
    lat = []
    for i in range(min(50, queries)):
        t1 = time.perf_counter()
        golden_infer(cfg, idx[i:i + 1], weights)
        lat.append(time.perf_counter() - t1)
    fl = float_infer(cfg, idx, weights)
    err = np.abs(logits / 2.0**cfg.frac_bits - fl)
    return {
        "config": cfg.name, "tables": cfg.num_tables, "feature_len": cfg.feature_len,
        "mlp": list(cfg.mlp), "table_bytes": cfg.total_bytes, "queries": queries,
        "batch_items_per_s": queries / t_batch, "batch1_median_ms": 1e3 * statistics.median(lat),
        "fixed_vs_float_max_abs": float(err.max()), "fixed_vs_float_mean_abs": float(err.mean()),
        "logit_range": [int(logits.min()), int(logits.max())],
    }


def rtl_part(cfg_name: str, rtl_queries: int, neurons: int, lanes: int, seed: int) -> dict:
    dut = Dut(name=f"mac_pe_l{lanes}", toplevel="mac_pe", sources=(RTL_DIR / "mlp" / "mac_pe.sv",),
              parameters={"LANES": lanes, "ACC_W": 48})
    step(f"RTL: mac_pe (LANES={lanes}) computing {neurons} neurons per layer for {rtl_queries} "
         f"queries of {cfg_name} (building with Verilator if needed) ...")
    t0 = time.perf_counter()
    res = run_test(dut, "tb.mac_pe.tb_mac_pe", testcase="MacModelTest", seed=seed, name="sim_main_mac_pe",
                   extra_env={"MAC_PE_LANES": str(lanes), "MAC_PE_MODEL": cfg_name,
                              "MAC_PE_MODEL_QUERIES": str(rtl_queries),
                              "MAC_PE_MODEL_NEURONS": str(neurons)})
    wall = time.perf_counter() - t0
    sb = json.loads((res.test_dir / "scoreboard.json").read_text())
    fcov = {}
    for f in res.test_dir.glob("fcov_*.json"):
        data = json.loads(f.read_text())
        bins = [n for p in data["points"].values() for n in p["bins"].values()]
        fcov[data["group"]] = f"{sum(1 for n in bins if n)}/{len(bins)} bins"
    cycles = sb["sim_ns"] / 10
    return {"dut": "mac_pe", "lanes": lanes, "tests": res.tests, "failed": res.failed,
            "dot_products_checked": sb["checked"], "mismatches": sb["mismatches"],
            "sim_cycles": int(cycles), "wall_s": wall, "functional_coverage": fcov,
            "log": str(res.log)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="microrec_small")
    ap.add_argument("--queries", type=int, default=1000, help="queries through the golden model")
    ap.add_argument("--rtl-queries", type=int, default=4, help="queries whose neurons the PE computes")
    ap.add_argument("--neurons", type=int, default=32, help="neurons per layer per query on the PE")
    ap.add_argument("--lanes", type=int, default=8, help="PE MAC lanes (MicroRec used 8)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    out = {"ok": False}
    rc = 1
    try:
        out["golden"] = golden_part(args.config, args.queries, args.seed)
        out["rtl"] = rtl_part(args.config, args.rtl_queries, args.neurons, args.lanes, args.seed)
        rc = 0 if out["rtl"]["mismatches"] == 0 and out["rtl"]["failed"] == 0 else 1
        out["ok"] = rc == 0
    except SimFailure as exc:
        out["error"] = str(exc)
        print(exc)
    g, r = out.get("golden"), out.get("rtl")
    print("\n================ make sim summary ================")
    print(f"result          : {'PASS' if out['ok'] else 'FAIL'}")
    if g:
        print(f"model           : {g['config']}: {g['tables']} tables, feature {g['feature_len']}, "
              f"MLP {g['feature_len']}-{'-'.join(map(str, g['mlp']))}, {g['table_bytes'] / 2**30:.2f} GiB")
        print(f"golden model    : {g['queries']} queries; batch-{g['queries']} {g['batch_items_per_s']:.3g} items/s, "
              f"batch-1 median {g['batch1_median_ms']:.3f} ms (NumPy, this machine)")
        print(f"fixed vs float  : max |err| {g['fixed_vs_float_max_abs']:.4f}, mean {g['fixed_vs_float_mean_abs']:.4f} "
              f"(logit units)")
    if r:
        print(f"RTL             : {r['dut']} LANES={r['lanes']}: {r['dot_products_checked']} neurons of "
              f"{args.rtl_queries} queries checked against golden_infer layer outputs, "
              f"mismatches {r['mismatches']}")
        print(f"                  {r['sim_cycles']} simulated cycles in {r['wall_s']:.1f} s wall; "
              f"functional coverage {r['functional_coverage']}")
        print(f"                  log {r['log']}")
    print("not yet in RTL  : lookup engines + HBM model (issues 3-4), MLP engine (5), accelerator top (6)")
    path = BUILD_ROOT / "sim" / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"result file     : {path}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
