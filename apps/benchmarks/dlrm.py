"""DLRM on the accelerator against the CPU (issue 16): latency and throughput of the RTL
top on a DLRM model with multi-hot bags (the `make sim` test, TopSimTest: every logit
bit-exact against models.dlrm.dlrm_infer), beside dlrm_infer's own speed on this
machine's CPU (NumPy, or PyTorch if installed, for the float reference) measured in the
same run, and the lookup stage's memory bound (contracts s.9.8).

    .venv/bin/python -m apps.benchmarks.dlrm                       # dlrm_kaggle, 128 x 24, bags of 20
    .venv/bin/python -m apps.benchmarks.dlrm --config dlrm_tiny --pes 8 --lanes 8 --queries 20 --bag-length 6

Prints a table, writes build/bench/dlrm.json and build/bench/dlrm.png. Wall-clock CPU
figures are this machine's and are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from sim.toolchain import BUILD_ROOT


def run_rtl(args) -> dict:
    from tb.top.dut import BENCH, build_for_model

    build = build_for_model(args.config, args.pes, args.lanes)
    t0 = time.perf_counter()
    res = BENCH.run(build, "TopSimTest", args.seed, name="bench_dlrm", configs=[args.config],
                    queries=args.queries, lat_queries=args.lat_queries, preset=args.preset, mhz=args.clock_mhz,
                    precision="int16", zero_skip=False, bag_length=args.bag_length, coverage=False, waves=False)
    r = json.loads((res.test_dir / "sim_result.json").read_text())
    r["wall_s"] = time.perf_counter() - t0
    return r


def table(g: dict, r: dict, mhz: float) -> list[str]:
    ipc = r["items_per_cycle"]
    acc_s = ipc * mhz * 1e6
    lat_us = r["latency_median"] / mhz
    mb = g["memory"]
    rows = [
        f"DLRM {g['config']}, bags of {g['bag_length']}, accelerator at {mhz:g} MHz ({r['mlp_lanes']} top MLP lanes)",
        "",
        "| | accelerator (RTL sim, cycles) | CPU dlrm_infer (this machine) | ratio |",
        "|---|---|---|---|",
        f"| latency, one query | {r['latency_median']} cycles = {lat_us:.2f} us | {g['batch1_median_ms']:.3f} ms "
        f"(batch 1) | {g['batch1_median_ms'] * 1e3 / lat_us:.0f}x |",
        f"| throughput | {ipc:.3e} items/cycle = {acc_s:.3g} items/s | {g['batch2048_items_per_s']:.3g} items/s "
        f"(batch 2048) | {acc_s / g['batch2048_items_per_s']:.1f}x |",
        f"| lookups per query | {r['lookups_per_query']:.1f} ({r['dram_lookups_per_query']:.1f} in HBM/DDR) | | |",
        f"| HBM bytes per query | {r['hbm_bytes_per_query']:.0f} | | |",
        f"| lookup-stage bound (s.9.8) | HBM {mb['memory_bound_qpc']:.4f}, on-chip {mb['onchip_bound_qpc']:.4f} "
        f"q/cycle ({mb['limiter']}) | | |",
        "",
        f"{r['queries']} queries checked, {r['mismatches']} mismatches; fixed vs float max |err| "
        f"{g['fixed_vs_float_max_abs']:.4f} ({g['float_backend']})",
    ]
    return rows


def plot(g: dict, r: dict, mhz: float, path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    acc = r["items_per_cycle"] * mhz * 1e6
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].bar(["accelerator", "CPU batch 2048"], [acc, g["batch2048_items_per_s"]], color=["tab:blue", "tab:gray"])
    ax[0].set_ylabel("items/s")
    ax[0].set_yscale("log")
    ax[0].set_title("throughput")
    ax[1].bar(["accelerator", "CPU batch 1"], [r["latency_median"] / mhz, g["batch1_median_ms"] * 1e3],
              color=["tab:blue", "tab:gray"])
    ax[1].set_ylabel("us")
    ax[1].set_yscale("log")
    ax[1].set_title("latency, one query")
    fig.suptitle(f"{g['config']}, bags of {g['bag_length']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    from apps.microrec_sim import golden_dlrm_part

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="dlrm_kaggle")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--lat-queries", type=int, default=20)
    ap.add_argument("--pes", type=int, default=128)
    ap.add_argument("--lanes", type=int, default=24)
    ap.add_argument("--bag-length", type=int, default=20)
    ap.add_argument("--preset", default="u280")
    ap.add_argument("--clock-mhz", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    g = golden_dlrm_part(args.config, args.seed, args.bag_length)
    r = run_rtl(args)
    lines = table(g, r, args.clock_mhz)
    print("\n".join(lines))
    out_dir = BUILD_ROOT / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "dlrm.json").write_text(json.dumps({"golden": g, "rtl": r, "clock_mhz": args.clock_mhz}, indent=1,
                                                  default=str))
    plot(g, r, args.clock_mhz, out_dir / "dlrm.png")
    print(f"wrote {out_dir / 'dlrm.json'} and {out_dir / 'dlrm.png'}")
    return 0 if r["mismatches"] == 0 and r["queries"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
