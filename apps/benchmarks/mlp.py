"""MLP engine benchmark: MACs/cycle, utilization per layer and in steady state,
cycles per inference on microrec_small shapes, and simulation speed vs P x U.

    .venv/bin/python -m apps.benchmarks.mlp                 # the sweep (default)
    .venv/bin/python -m apps.benchmarks.mlp --only 128x24   # one point

Each point is its own Verilator build (ports_only). Prints a table, writes
build/bench/mlp_engine.json and build/bench/mlp_engine.png.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from models.config import builtin
from tb.mlp.dut import BENCH, build_for_model
from sim.toolchain import BUILD_ROOT
from tb.mlp.mlp_layout import bank_plan

# the target point (3072 lanes) last: the biggest build
SWEEP = [(4, 8), (8, 16), (16, 24), (32, 24), (64, 24), (128, 24)]
TARGETS = {"max_lanes": 3072, "max_cycles": 1956, "min_throughput": 2.54e-3, "min_util": 0.90}


def run_point(p: int, u: int, model: str, seed: int, items: int | None = None) -> dict:
    build = build_for_model(p, u, model)
    ideal = sum(lp["cycles"] for lp in bank_plan(build, builtin(model).layer_shapes))
    items = items or max(20, min(40, 150_000 // ideal))
    t0 = time.perf_counter()
    res = BENCH.run(build, "mlp_bench", seed, module="apps.benchmarks.tb_mlp_speed", name=f"bench_mlp_p{p}_u{u}",
                    coverage=False, waves=False, model=model, items=items)
    out = json.loads((res.test_dir / "bench.json").read_text())
    out["total_wall_s"] = time.perf_counter() - t0
    return out


def report(points: list[dict]) -> str:
    lines = [f"{'P x U':>9} {'lanes':>5} {'ideal':>6} {'interval':>8} {'inf/cyc':>9} {'MAC/cyc':>8} "
             f"{'util':>6} {'latency':>7} {'loaded':>7} {'sim cyc/s':>9} {'wall s':>6}"]
    for r in points:
        lines.append(f"{r['P']:>4} x {r['U']:<3} {r['lanes']:>5} {r['ideal_cycles_per_inference']:>6} "
                     f"{r['steady_interval_cycles']:>8.1f} {r['throughput_inf_per_cycle']:>9.3e} "
                     f"{r['steady_macs_per_cycle']:>8.1f} {r['steady_utilization']:>6.1%} "
                     f"{r['latency_cycles']:>7} {r['latency_loaded_median']:>7} {r['sim_cycles_per_s']:>9.0f} {r['total_wall_s']:>6.1f}")
    for r in points:
        lines.append(f"\nper layer, P={r['P']} U={r['U']} ({r['items']} inferences back to back, "
                     f"{r['run_cycles']} cycles):")
        lines.append(f"  {'layer':>14} {'busy':>8} {'MACs':>10} {'MAC/cyc':>8} {'util':>6} "
                     f"{'time':>6} {'stall_dst':>9} {'stall_arr':>9}")
        for l, lay in enumerate(r["layers"]):
            lines.append(f"  {l}: {str(tuple(lay['shape'])):>11} {lay['busy']:>8} {lay['macs']:>10} "
                         f"{lay['macs'] / max(1, lay['busy']):>8.1f} {lay['util_while_busy']:>6.1%} "
                         f"{lay['share_of_time']:>6.1%} {lay['stall_dst']:>9} {lay['stall_arr']:>9}")
        lines.append(f"  whole run: {r['run_utilization']:.1%} of {r['lanes']} lanes, "
                     f"array idle {r['idle_cycles']} cycles")
    return "\n".join(lines)


def verdict(r: dict) -> str:
    ok = {
        f"lanes {r['lanes']} <= {TARGETS['max_lanes']}": r["lanes"] <= TARGETS["max_lanes"],
        f"steady utilization {r['steady_utilization']:.1%} >= 90%": r["steady_utilization"] >= TARGETS["min_util"],
        f"latency {r['latency_cycles']} <= {TARGETS['max_cycles']} cycles": r["latency_cycles"] <= TARGETS["max_cycles"],
        f"interval {r['steady_interval_cycles']:.1f} <= {TARGETS['max_cycles']} cycles":
            r["steady_interval_cycles"] <= TARGETS["max_cycles"],
        f"throughput {r['throughput_inf_per_cycle']:.3e} >= 2.54e-3 inf/cycle":
            r["throughput_inf_per_cycle"] >= TARGETS["min_throughput"],
    }
    return "\n".join(f"  [{'ok' if v else 'MISS'}] {k}" for k, v in ok.items())


def plot(points: list[dict], path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lanes = [r["lanes"] for r in points]
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].loglog(lanes, [r["sim_cycles_per_s"] for r in points], "o-")
    ax[0].set_xlabel("MAC lanes (P x U)")
    ax[0].set_ylabel("simulated cycles / s")
    ax[0].set_title("Verilator speed vs array size")
    ax[1].semilogx(lanes, [100 * r["steady_utilization"] for r in points], "o-")
    ax[1].axhline(90, ls="--", color="gray")
    ax[1].set_xlabel("MAC lanes (P x U)")
    ax[1].set_ylabel("steady-state utilization %")
    ax[1].set_title("microrec_small MLP")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="microrec_small")
    ap.add_argument("--only", help="one point, e.g. 128x24")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--items", type=int, help="inferences per point (default: 20-40 by size)")
    args = ap.parse_args(argv)
    sweep = [tuple(int(v) for v in args.only.split("x"))] if args.only else SWEEP
    points = []
    for p, u in sweep:
        print(f"[bench] P={p} U={u} ({p * u} lanes) ...", flush=True)
        points.append(run_point(p, u, args.model, args.seed, args.items))
    print(report(points))
    target = [r for r in points if r["lanes"] <= TARGETS["max_lanes"]]
    if target:
        best = max(target, key=lambda r: r["lanes"])
        print(f"\ntargets (issue 5) at P={best['P']} U={best['U']}:\n{verdict(best)}")
    out = BUILD_ROOT / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "mlp_engine.json").write_text(json.dumps(points, indent=1))
    if len(points) > 1:
        plot(points, out / "mlp_engine.png")
    print(f"\nwrote {out / 'mlp_engine.json'}" + (f" and {out / 'mlp_engine.png'}" if len(points) > 1 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
