"""Lookup subsystem benchmark (issue 4): latency and throughput from RTL simulation.

1. `ideal` memory at latency L, one table per channel (32 HBM channels, rows
   of one beat): lookup latency vs L + 12, steady throughput vs 0.9 queries/cycle.
2. `u280` memory timed at the accelerator's 140 MHz clock, microrec_small
   shapes (42 tables after Cartesian products) and microrec_small_47 (47
   tables, before): lookup latency in cycles and ns next to MicroRec's
   458 ns and 774 ns.
3. simulation speed: the 32-channel throughput run (traffic and the full
   scoreboard) against the same build for the same cycles with Python asleep.
Every run drives the streams in the bench's batched mode (knob ``batch``: the
harness's SV query source and feature sink, every vector checked in bulk,
tb/lookup/batch.py) unless ``--agents uvm`` asks for the per-transaction pyuvm
agents.
Prints a table and writes build/bench/lookup.json. Figures are cycles from
simulation; nothing here is a wall-clock assertion.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from models.config import ModelConfig, TableConfig, save_config
from sim.toolchain import BUILD_ROOT
from tb.lookup.dut import BENCH, ONE_PER_CHANNEL_BUILD
from tb.lookup.dut import SMALL_BUILD as SMALL

CLOCK_MHZ = 140.0
MICROREC_NS = {"microrec_small": 458.0, "microrec_small_47": 774.0}

ONE_PER_CH = ONE_PER_CHANNEL_BUILD


def one_per_channel_config() -> str:
    cfg = ModelConfig("one_table_per_channel",
                      [TableConfig(f"t{c}", 100_000, 8, "hbm", c) for c in range(32)], [16, 1])
    path = BUILD_ROOT / "bench" / "one_table_per_channel.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_config(cfg, path)
    return str(path)


def run(build, config, name, seed=1, **kw) -> dict:
    t0 = time.perf_counter()
    res = BENCH.run(build, "LookupUniformTest", seed, name=f"bench_lookup_{name}", config=config, **kw)
    sb = json.loads((res.test_dir / "scoreboard.json").read_text())
    perf = json.loads((res.test_dir / "perf.json").read_text())
    span = max(1, sb["last_out"] - sb["first_sent"])
    sb.update(throughput=sb["checked"] / span, wall_s=time.perf_counter() - t0, perf=perf["perf"],
              speed=perf.get("speed"))
    return sb


def idle_speed(build, config, cycles: int, queries: int, traffic: bool, seed: int = 1) -> dict:
    """The same build and env for the same cycles with Python asleep: with ``traffic`` the
    SV source sends the traffic run's queries (the simulator's work is the same), else none."""
    res = BENCH.run(build, "LookupIdleSpeedTest", seed, module="apps.benchmarks.tb_lookup_speed",
                    name=f"bench_lookup_idle_speed{'_traffic' if traffic else ''}", config=config,
                    queries=queries, idle_cycles=cycles, batch=traffic)
    return json.loads((res.test_dir / "idle_speed.json").read_text())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--latency", type=int, default=20, help="ideal memory latency L (cycles)")
    ap.add_argument("--queries", type=int, default=1000, help="queries per throughput run")
    ap.add_argument("--lat-queries", type=int, default=200, help="queries per latency run (ideal memory)")
    ap.add_argument("--small-queries", type=int, default=300, help="queries per u280 latency run")
    ap.add_argument("--agents", choices=("batch", "uvm"), default="batch",
                    help="stream drivers: the SV batch source/sink (default) or the per-transaction pyuvm agents")
    ap.add_argument("--models", nargs="*", default=list(MICROREC_NS), choices=list(MICROREC_NS),
                    help="u280 runs (none: ideal memory only)")
    args = ap.parse_args(argv)
    L = args.latency
    batch = args.agents == "batch"
    rows, out = [], {}
    print("[bench] ideal memory, one table per channel ...", flush=True)
    cfg1 = one_per_channel_config()
    lat = run(ONE_PER_CH, cfg1, "ideal_latency", preset="ideal", latency=L, queries=args.lat_queries, in_idle=0.95,
              batch=batch)
    thr = run(ONE_PER_CH, cfg1, "ideal_throughput", preset="ideal", latency=L, queries=args.queries, batch=batch)
    out["ideal"] = {"L": L, "latency": lat, "throughput": thr}
    rows.append(("ideal L=%d, 32 tables/32 ch" % L, lat["latency_min"], lat["latency_median"],
                 f"<= {L + 12}", thr["throughput"], ">= 0.9", ""))
    for config in args.models:
        print(f"[bench] u280 memory at {CLOCK_MHZ:.0f} MHz, {config} ...", flush=True)
        r = run(SMALL, config, f"u280_{config}", preset="u280", queries=args.small_queries, in_idle=0.95,
                batch=batch)
        r_thr = run(SMALL, config, f"u280_{config}_thr", preset="u280", queries=args.queries, batch=batch)
        ns = r["latency_median"] * 1e3 / CLOCK_MHZ
        out[config] = {"latency": r, "throughput": r_thr, "latency_ns": ns}
        rows.append((f"u280 {config}", r["latency_min"], r["latency_median"],
                     (f"MicroRec {MICROREC_NS[config]:.0f} ns" if config in MICROREC_NS else "-"), r_thr["throughput"], "",
                     f"{ns:.0f} ns @ {CLOCK_MHZ:.0f} MHz"))
    # simulation speed: the 32-channel throughput run (traffic, the env and its scoreboard) vs the
    # same build for the same cycles with Python asleep: the same queries from the SV source
    # (the env's own cost; the goal), and no queries at all (what the traffic costs as well)
    busy = thr.get("speed") or {}
    if busy.get("cycles"):
        rate = lambda s, k: s["cycles"] / max(1e-9, s[k])  # noqa: E731
        base = {"same_traffic": idle_speed(ONE_PER_CH, cfg1, busy["cycles"], args.queries, True),
                "no_traffic": idle_speed(ONE_PER_CH, cfg1, busy["cycles"], args.queries, False)}
        out["sim_speed"] = {"agents": args.agents, "busy": busy, **{f"idle_{k}": v for k, v in base.items()}}
        mode = "SV batch source/sink" if batch else "pyuvm agents"
        print(f"\nsimulation speed, 32 channels, {busy['cycles']} cycles, {args.queries} queries: with the env "
              f"({mode}) and the scoreboard {rate(busy, 'wall_s'):.0f} cycles/s wall "
              f"({rate(busy, 'cpu_s'):.0f} per CPU-s)")
        for k, what in (("same_traffic", "same build, same queries from the SV source, Python asleep"),
                        ("no_traffic", "same build, no queries, Python asleep")):
            idle = base[k]
            rw, rc = rate(busy, "wall_s") / rate(idle, "wall_s"), rate(busy, "cpu_s") / rate(idle, "cpu_s")
            out["sim_speed"][f"ratio_{k}_wall"], out["sim_speed"][f"ratio_{k}_cpu"] = rw, rc
            print(f"  {what}: {rate(idle, 'wall_s'):.0f} ({rate(idle, 'cpu_s'):.0f}); ratio {rw:.0%} wall, "
                  f"{rc:.0%} CPU")
    print("\n| case | latency min | latency median | target | queries/cycle | target | note |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.3f} | {r[5]} | {r[6]} |")
    path = BUILD_ROOT / "bench" / "lookup.json"
    path.write_text(json.dumps(out, indent=1, default=str))
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
