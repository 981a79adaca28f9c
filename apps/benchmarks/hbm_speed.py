"""Speed benchmark of the SV memory model: `python -m apps.benchmarks.hbm_speed` (`make bench-hbm`).

Runs the same 32-channel build three times (Python idle, a normal bench's
per-batch Python, per-transaction logging), all channels busy, and prints
simulated cycles per second and the ratio to the idle run. Writes
build/bench/hbm_speed.json. Target (issue 3): >= 50k cycles/s busy and
>= 25% of the idle figure.
"""
from __future__ import annotations

import argparse
import json
import sys

from sim.toolchain import BUILD_ROOT
from tb.hbm.dut import BENCH, HbmHarnessBuild


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cycles", type=int, default=200000)
    ap.add_argument("--modes", default="idle,idle1k,bench,log")
    args = ap.parse_args(argv)
    results = {}
    for mode in args.modes.split(","):
        r = BENCH.run(HbmHarnessBuild(), "bench_speed", 1, module="apps.benchmarks.tb_hbm_speed",
                      name=f"bench_hbm_speed_{mode}", coverage=False, waves=False,
                      bench_mode=mode, bench_cycles=args.cycles)
        results[mode] = json.loads((r.test_dir / "hbm_bench.json").read_text())
    idle = results.get("idle", {}).get("cycles_per_s")
    idle_cpu = results.get("idle", {}).get("cycles_per_cpu_s")
    print("cycles/s: per wall-clock second (shared machine: noisy) and per CPU second of the sim process")
    print(f"{'mode':6} {'cycles':>8} {'wall s':>7} {'cycles/s':>9} {'vs idle':>8} {'cyc/cpu-s':>9} "
          f"{'vs idle':>8} {'beats/cyc/ch':>12}")
    for mode, r in results.items():
        ratio = f"{r['cycles_per_s'] / idle:7.1%}" if idle else "-"
        ratio_c = f"{r['cycles_per_cpu_s'] / idle_cpu:7.1%}" if idle_cpu else "-"
        print(f"{mode:6} {r['cycles']:8d} {r['wall_s']:7.2f} {r['cycles_per_s']:9.0f} {ratio:>8} "
              f"{r['cycles_per_cpu_s']:9.0f} {ratio_c:>8} {r['beats_per_cycle_per_channel']:12.3f}")
    out = BUILD_ROOT / "bench" / "hbm_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"written {out}")
    if "bench" in results and idle:
        b = results["bench"]["cycles_per_cpu_s"]
        ok = b >= 50000 and b / idle_cpu >= 0.25
        # a benchmark reports; it never fails on host speed (a busy machine is not a bug)
        print(f"target (>= 50k cycles per CPU-second and >= 25% of idle, 32 busy channels): {'MET' if ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
