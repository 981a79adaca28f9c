"""`make sim`: the main job. The whole accelerator, from query to logit.

1. The golden model on the chosen config: its own CPU speed at batch 1 and
   batch 2048 (NumPy, this machine), and the fixed-point vs float error.
2. The RTL accelerator top (CSRs, lookup engines over the HBM model, the
   configuration DMA, an MLP engine of PES x LANES MAC lanes) in Verilator:
   the host driver loads the model through the CSRs and DMA; unloaded
   latency is measured one query at a time, then throughput over QUERIES
   back-to-back queries; every logit is compared with golden_infer() bit
   for bit. ``CACHE=on`` builds a hot-row cache of CACHE_LINES lines (CACHE_WAYS
   ways, policy CACHE_POLICY) in front of every memory channel (contracts s.11)
   and reports its hit rate and the memory reads per query, measured by the
   CSR counters and predicted by models/row_cache.py for the same queries.
Prints a summary (next to MicroRec's published figures for the configs they
were published for, docs/reference.md) and writes build/sim/result.json;
exits non-zero on any mismatch or failure, and with one line naming the
knob on bad input.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

from sim.runner import SimFailure
from sim.toolchain import BUILD_ROOT

PRESETS = ("ideal", "u280", "ddr4")
PRECISIONS = ("int16", "int8", "mixed")   # mixed: models.quant.mixed_precisions (int16 layer 0, int8 after)
# MicroRec Table 2 (FPGA, 16-bit), at 120 MHz: only beside the config it was published for
MICROREC = {"microrec_small": {"latency_us": 16.3, "items_per_s": 3.05e5},
            "microrec_large": {"latency_us": 22.6, "items_per_s": 1.95e5}}
RUN_NAME = "sim_main_top"


class UsageError(ValueError):
    """Bad command-line input: one line naming the knob."""


def step(msg: str) -> None:
    print(f"[sim] {msg}", flush=True)


def resolve_config(value: str, cwd: Path) -> str:
    """A built-in name, or a JSON path resolved from the caller's directory."""
    from models.config import BUILTINS, ConfigError, load_config

    if value in BUILTINS:
        return value
    path = Path(value)
    if not path.is_absolute():
        path = (cwd / path).resolve()
    if path.suffix.lower() != ".json":
        raise UsageError(f"CONFIG={value}: neither a built-in config ({', '.join(BUILTINS)}) nor a .json file")
    if not path.exists():
        raise UsageError(f"CONFIG={value}: no such file ({path})")
    try:
        load_config(str(path))
    except ConfigError as e:
        raise UsageError(f"CONFIG={value}: {e}") from None
    except (KeyError, TypeError) as e:
        raise UsageError(f"CONFIG={value}: missing or malformed field {e}") from None
    return str(path)


def check_args(args) -> None:
    if args.queries < 1:
        raise UsageError(f"QUERIES={args.queries}: at least 1")
    if args.lat_queries < 1:
        raise UsageError(f"LAT_QUERIES={args.lat_queries}: at least 1")
    if args.pes < 1 or args.lanes < 1:
        raise UsageError(f"PES={args.pes} LANES={args.lanes}: both at least 1")
    if args.preset not in PRESETS:
        raise UsageError(f"PRESET={args.preset}: one of {', '.join(PRESETS)}")
    if not 1.0 <= args.clock_mhz <= 1000.0:
        raise UsageError(f"CLOCK_MHZ={args.clock_mhz}: between 1 and 1000")
    if args.zipf < 0:
        raise UsageError(f"ZIPF={args.zipf}: 0 (uniform) or a Zipf exponent > 0")
    if args.precision not in PRECISIONS:
        raise UsageError(f"PRECISION={args.precision}: one of {', '.join(PRECISIONS)}")
    if args.bag_length < 0:
        raise UsageError(f"BAG_LENGTH={args.bag_length}: at least 0")
    if args.bag_lengths not in ("fixed", "uniform", "lognormal"):
        raise UsageError(f"BAG_LENGTHS={args.bag_lengths}: one of fixed, uniform, lognormal")
    if args.zero_skip not in ("0", "1"):
        raise UsageError(f"ZERO_SKIP={args.zero_skip}: 0 (dense) or 1 (skip zero activations)")
    if args.cache not in ("on", "off"):
        raise UsageError(f"CACHE={args.cache}: on or off")
    pow2 = lambda n: n >= 1 and n & (n - 1) == 0  # noqa: E731
    if not (pow2(args.cache_lines) and 16 <= args.cache_lines <= 65536):
        raise UsageError(f"CACHE_LINES={args.cache_lines}: lines per memory channel, a power of two in 16..65536")
    if not (pow2(args.cache_ways) and args.cache_ways <= min(16, args.cache_lines)):
        raise UsageError(f"CACHE_WAYS={args.cache_ways}: a power of two in 1..16")
    if args.cache_policy not in ("lru", "freq"):
        raise UsageError(f"CACHE_POLICY={args.cache_policy}: lru or freq")


def is_dlrm(config: str) -> bool:
    from models.config import load_config
    return bool(load_config(config).bottom_mlp)


def golden_dlrm_part(config: str, seed: int, length: int) -> dict:
    """A DLRM model's golden side (models/dlrm_report.py): CPU speed of dlrm_infer at batch 1
    and 2048 with bags of ``length`` (the CPU baseline of the same run), fixed vs float, and
    the memory bound of the placement (contracts s.9.8)."""
    from models.config import check_fit, load_config
    from models.dlrm_report import cpu_speed, fixed_vs_float
    from models.memory_bound import memory_bound
    from models.placement import place

    cfg = load_config(config)
    check_fit(cfg)
    length = min(length, max(t.bag_max for t in cfg.tables))
    step(f"config {cfg.name}: {cfg.num_tables} tables (bags of {length}), {cfg.dense} dense features, bottom MLP "
         f"{'-'.join(str(n) for n in [cfg.dense] + list(cfg.bottom_mlp))}, {cfg.interaction} interaction, top MLP "
         f"{'-'.join(str(n) for n in [cfg.top_in] + list(cfg.mlp))}, {cfg.total_bytes / 2**30:.2f} GiB of tables")
    step(f"golden model speed: dlrm_infer at batch 1 (30 runs) and batch 2048, bags of {length} ...")
    sp = cpu_speed(cfg, length, seed=seed)
    fe = fixed_vs_float(cfg, 512, length, seed=seed)
    mb = memory_bound(place(cfg), [min(length, t.bag_max) for t in cfg.tables], words_per_beat=32).summary()
    return {"config": cfg.name, "tables": cfg.num_tables, "feature_len": cfg.top_in, "mlp": list(cfg.mlp),
            "table_bytes": cfg.total_bytes, "batch2048_items_per_s": sp["batch_items_per_s"],
            "batch1_median_ms": sp["batch1_median_ms"], "fixed_vs_float_max_abs": fe["max_abs"],
            "fixed_vs_float_mean_abs": fe["mean_abs"], "fixed_vs_float_queries": fe["queries"],
            "bag_length": length, "memory": mb,
            "float_backend": __import__("models.dlrm", fromlist=["float_backend"]).float_backend()}


def golden_part(config: str, seed: int) -> dict:
    from models.config import check_fit, load_config
    from models.golden import float_infer, golden_infer, mlp_weights
    from models.queries import uniform_queries

    cfg = load_config(config)
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


class ProgressTail:
    """Echoes the bench's [progress] lines while the simulation runs, from this run's log only:
    the old log is removed before tailing starts, and the tail waits for the file to appear."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.stop = threading.Event()
        self.lines: list[str] = []
        log_path.unlink(missing_ok=True)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self._read()                    # whatever arrived after the last poll

    def _run(self) -> None:
        while not self.stop.is_set():
            self._read()
            self.stop.wait(1.0)

    _pos = 0

    def _read(self) -> None:
        try:
            with open(self.log_path, errors="replace") as fh:
                fh.seek(self._pos)
                for line in fh:
                    if "[progress]" in line:
                        text = line.split("[progress]", 1)[1].strip()
                        self.lines.append(text)
                        print("[sim]   " + text, flush=True)
                self._pos = fh.tell()
        except FileNotFoundError:
            pass


def rtl_part(args) -> dict:
    from tb.top.dut import BENCH, build_for_model

    build = build_for_model(args.config, args.pes, args.lanes)
    if args.cache == "on":
        build = cached_build(build, args)
        step(f"hot-row caches: {args.cache_lines} lines x {build.cache_line_beats} beat(s), {args.cache_ways} ways, "
             f"policy {args.cache_policy}, in front of each of the {build.lookup.num_ch} memory channels")
    step(f"RTL: accelerator top, {build.lookup.num_ch} memory channels ({args.preset} timing at "
         f"{args.clock_mhz:g} MHz), MLP {args.pes} PEs x {args.lanes} lanes = {args.pes * args.lanes} MAC lanes, "
         f"{args.precision}, zero-skip {'on' if args.zero_skip == '1' else 'off'}")
    step("building with Verilator if needed (a few minutes the first time) ...")
    t0 = time.perf_counter()
    with ProgressTail(BUILD_ROOT / "tests" / RUN_NAME / "sim.log") as tail:
        res = BENCH.run(build, "TopSimTest", args.seed, name=RUN_NAME, configs=[args.config],
                        queries=args.queries, lat_queries=args.lat_queries, preset=args.preset,
                        mhz=args.clock_mhz, zipf=args.zipf, precision=args.precision,
                        zero_skip=args.zero_skip == "1", bag_length=args.bag_length,
                        bag_lengths=args.bag_lengths, cache_policy=args.cache_policy)
    out = json.loads((res.test_dir / "sim_result.json").read_text())
    out.update(wall_s=time.perf_counter() - t0, log=str(res.log), progress=tail.lines,
               fcov=[str(p) for p in sorted(res.test_dir.glob("fcov_*.json"))])
    return out


def cached_build(build, args):
    """``build`` with a hot-row cache of ``args.cache_lines`` lines and ``args.cache_ways`` ways per
    memory channel whose lines hold the model's widest memory row (a row wider than a beat is
    one burst, s.11.1)."""
    import dataclasses

    from tb.lookup.layout import LookupLayout
    from tb.top.dut import bench_config
    layout = LookupLayout(bench_config(args.config), build.lookup)
    wb = build.lookup.word_bytes
    beats = max([1] + [d.stride // wb for d in layout.descs if not d.onchip])
    beats = 1 << (beats - 1).bit_length()
    return dataclasses.replace(build, cache=1, cache_lines=args.cache_lines, cache_ways=args.cache_ways,
                               cache_line_beats=beats)


def cache_summary(c: dict) -> list[str]:
    """The cache lines of the summary: RTL counters of the throughput run and the model's."""
    rtl, mod = c["rtl"], c["model"]
    return [
        f"hot-row caches    : {c['lines']} lines x {c['line_beats']} beat(s), {c['ways']} ways, {c['policy']}, "
        f"per memory channel; hit rate {c['hit_rate']:.1%} (model {c['model_hit_rate']:.1%}) of "
        f"{rtl['hits'] + rtl['misses']} cacheable reads",
        f"memory reads/query: {c['mem_reads_per_query']:.2f} with the caches (model "
        f"{c['model_mem_reads_per_query']:.2f}), {c['reads_per_query_uncached']:.2f} without; "
        f"{c['mem_bytes_per_query']:.0f} bytes/query from HBM/DDR (counters: fills {rtl['fills']}, "
        f"bypasses {rtl['bypasses']}, evictions {rtl['evictions']}, uncached {rtl['uncached']}; model "
        f"{'identical' if rtl == mod else mod})",
        f"memory bound      : {c['model_mem_bound_qpc']:.4f} q/cycle with the caches, "
        f"{c['model_mem_bound_qpc_uncached']:.4f} without (model: the busiest channel's beats per query "
        f"over this run's queries)",
    ]


def summary(out: dict, clock_mhz: float) -> None:
    g, r = out.get("golden"), out.get("rtl")
    us = lambda c: c / clock_mhz  # noqa: E731
    print("\n==================== make sim summary ====================")
    print(f"result            : {'PASS' if out['ok'] else 'FAIL'}")
    if g:
        print(f"model             : {g['config']}: {g['tables']} tables, feature {g['feature_len']}, MLP "
              f"{g['feature_len']}-{'-'.join(map(str, g['mlp']))}, {g['table_bytes'] / 2**30:.2f} GiB of tables")
    if r:
        print(f"MLP numbers       : {out['precision']} (contracts s.8), {out['sparsity']}")
        print(f"queries           : {r['queries']} checked against "
              f"{'models.dlrm.dlrm_infer()' if r.get('dlrm') else 'golden_infer()' if out['precision'] == 'int16' else 'golden_infer_q()'}, "
              f"mismatches {r['mismatches']}")
        print(f"latency (unloaded): min {r['latency_min']}, median {r['latency_median']}, p99 {r['latency_p99']} "
              f"cycles = {us(r['latency_median']):.2f} us median at {clock_mhz:g} MHz "
              f"({r['latency_queries']} queries one at a time)")
        ipc = r["items_per_cycle"]
        print(f"throughput        : {ipc:.3e} items/cycle = {ipc * clock_mhz * 1e6:.3g} items/s at "
              f"{clock_mhz:g} MHz ({r['throughput_queries']} queries back to back)")
        print(f"lookups           : {r['lookups_per_query']} per query ({r['dram_lookups_per_query']} in DRAM), "
              f"{r['dram_rounds']} DRAM round(s); {r['counters']['ooo']} reads returned out of order")
        util = list(r["channel_utilization"].values())
        if util:
            print(f"memory channels   : {len(util)} in use, R-channel utilization mean {np.mean(util):.1%}, "
                  f"max {max(util):.1%}")
        print(f"MLP               : {r['mlp_lanes']} MAC lanes, {r['mlp_utilization']:.1%} busy-cycle utilization")
        if r.get("cache"):
            for line in cache_summary(r["cache"]):
                print(line)
        if r.get("multihot"):
            mb = (g or {}).get("memory") or {}
            c = r.get("cache")
            sent = (f"{c['mem_bytes_per_query']:.0f} bytes/query read from HBM/DDR through the caches, "
                    f"{r['hbm_bytes_per_query']:.0f} asked for by the engines" if c else
                    f"{r['hbm_bytes_per_query']:.0f} bytes/query read from HBM/DDR")
            print(f"HBM               : {sent} "
                  f"({r['dram_lookups_per_query']:.1f} memory lookups/query); lookup-stage bounds (contracts "
                  f"s.9.8): HBM {mb.get('memory_bound_qpc', 0):.4f}, on-chip banks {mb.get('onchip_bound_qpc', 0):.4f} "
                  f"q/cycle ({mb.get('limiter', '?')} limits the lookup; the end-to-end rate is the slowest stage)")
        ref = MICROREC.get(r["config"])
        if ref:
            ref_cycles = ref["latency_us"] * clock_mhz
            ref_ipc = ref["items_per_s"] / (clock_mhz * 1e6)
            print(f"\n|                      | this design (RTL sim) | MicroRec 16-bit (U280), {r['config']} |")
            print("|---|---|---|")
            print(f"| latency, cycles      | {r['latency_median']} | {ref_cycles:.0f} ({ref['latency_us']} us) |")
            print(f"| latency @ {clock_mhz:g} MHz    | {us(r['latency_median']):.2f} us | {ref['latency_us']} us "
                  f"(at MicroRec's own 120 MHz) |")
            print(f"| items/cycle          | {ipc:.3e} | {ref_ipc:.3e} |")
            print(f"| items/s @ {clock_mhz:g} MHz    | {ipc * clock_mhz * 1e6:.3g} | {ref['items_per_s']:.3g} |")
        else:
            print(f"\n(no published MicroRec figures for {r['config']}: they exist for "
                  f"{', '.join(MICROREC)} only)")
    if g:
        print(f"| NumPy golden, batch 1    | {g['batch1_median_ms']:.3f} ms median (this machine) | |")
        print(f"| NumPy golden, batch 2048 | {g['batch2048_items_per_s']:.3g} items/s (this machine) | |")
        print(f"\nfixed vs float    : max |err| {g['fixed_vs_float_max_abs']:.4f}, "
              f"mean {g['fixed_vs_float_mean_abs']:.4f} (logit units, {g.get('fixed_vs_float_queries', 2048)} queries)")
    if r:
        print(f"simulation        : throughput phase {r['counters']['cycles']} cycles; whole run {r['wall_s']:.0f} s "
              f"wall incl. build and model load; log {r['log']}")
        print(f"coverage files    : {', '.join(r['fcov']) or 'none'}")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="microrec_small", help="built-in config name or JSON path")
    ap.add_argument("--queries", type=int, default=1000, help="queries in the throughput run")
    ap.add_argument("--lat-queries", type=int, default=50, help="queries in the one-at-a-time latency run")
    ap.add_argument("--pes", type=int, default=128, help="MLP processing elements (P)")
    ap.add_argument("--lanes", type=int, default=24, help="MAC lanes per PE (U)")
    ap.add_argument("--preset", default="u280", help="memory timing: ideal | u280 | ddr4")
    ap.add_argument("--clock-mhz", type=float, default=120.0, help="accelerator clock the memory timing is stated at")
    ap.add_argument("--zipf", type=float, default=0.0, help="Zipf exponent of the throughput run (0: uniform)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--precision", default="int16", help="MLP precision: int16 | int8 | mixed (contracts s.8)")
    ap.add_argument("--zero-skip", default="1", help="1: skip zero activations (default), 0: dense")
    ap.add_argument("--bag-length", type=int, default=20, help="DLRM: rows per bag (clipped to bag_max)")
    ap.add_argument("--bag-lengths", default="fixed", help="DLRM: fixed | uniform | lognormal bag lengths")
    ap.add_argument("--cache", default="off", help="on: hot-row caches in front of the memory channels")
    ap.add_argument("--cache-lines", type=int, default=1024, help="cache lines per memory channel (power of two)")
    ap.add_argument("--cache-ways", type=int, default=8, help="cache ways (power of two, 1..16)")
    ap.add_argument("--cache-policy", default="lru", help="cache admission: lru | freq (contracts s.11.3)")
    ap.add_argument("--cwd", default=os.environ.get("MICROREC_CALLER_DIR", os.getcwd()),
                    help="directory a relative CONFIG path is resolved from (the caller's)")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_args(args)
        args.config = resolve_config(args.config, Path(args.cwd))
    except UsageError as e:
        print(f"make sim: {e}", file=sys.stderr)
        return 2
    dlrm = is_dlrm(args.config)
    if dlrm:
        if args.precision != "int16":
            print(f"make sim: PRECISION={args.precision}: DLRM configs run int16 (contracts s.9)", file=sys.stderr)
            return 2
        args.zero_skip = "0"       # the DLRM back half feeds the top MLP its R vector, dense
    out = {"ok": False, "clock_mhz": args.clock_mhz, "preset": args.preset, "zipf": args.zipf,
           "precision": args.precision, "sparsity": "zero-skip" if args.zero_skip == "1" else "dense"}
    try:
        out["golden"] = (golden_dlrm_part(args.config, args.seed, args.bag_length) if dlrm
                         else golden_part(args.config, args.seed))
        out["rtl"] = rtl_part(args)
        out["ok"] = out["rtl"]["mismatches"] == 0
    except SimFailure as exc:
        out["error"] = str(exc)
        print(exc)
    summary(out, args.clock_mhz)
    path = BUILD_ROOT / "sim" / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=str))
    print(f"result file       : {path}")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
