"""Hot-row cache benchmark (issue 17, `make bench-cache`): RTL sweep of the caches
inside the multi-hot lookup stage over Zipf exponent, cache size and policy, beside
the caches off, plus a dense model-only grid.

What runs. emb_lookup_top with MH = 1 and CACHE = 1 (one emb_row_cache per memory
channel, contracts s.11.11) on the lookup harness and its SV memory model, with
dlrm_kaggle's own placement (14 memory tables, one per channel: 13 HBM + C3 on DDR;
the 12 small tables on chip, one per bank, so the banks allow 1/20 query per
cycle like the engines), bags of 20 rows per table, Zipf(s) indices scattered over
each table. "off" is the same build with cfg_cache_enable = 0, which is a wire
(s.11.6: cycle-identical to no cache). Per point: `warmup` queries, then `queries`
measured in the same stream, then `lat_queries` one at a time. Every answer is
checked against models.dlrm, the lookup counters against the bags, and every cache
counter against models/row_cache.py (tb/lookup/cache_check.py): a run that
disagrees fails the bench (apps/benchmarks/tb_cache_rate.py).

Cache sizes: one CACHE_LINES for every channel, at most 2% of the smallest memory
table (C19, 2173 rows: 43 lines); the default 16 and 32 lines, 4 ways.

Why a slow tier. Each engine takes one R beat per cycle, hit or miss (s.11.9), so
the caches raise throughput only where memory delivers less than that. On the
U280 at the 120 MHz kernel clock an HBM pseudo-channel gives 3.7 beats/cycle, a
DDR4 channel 2.5 (at 50% efficiency on random rows): the lookup stage is bound by
its engines (20 beats per query per channel), and the caches save bandwidth but not
time (the `u280` points show it; the full accelerator is bound by its MLP anyway).
The `ddr4x2` tier is where memory binds: all 14 memory tables of dlrm_kaggle on the
card's two DDR4-2400 channels (a model whose tables do not fit HBM, or HBM left to
other kernels), 7 tables per channel, so each table's engine gets 1/7 of a channel:
2.5 / 7 = 0.357 beats per cycle (the memory model's per-channel bandwidth cap,
tb/hbm/config.py HbmTiming.bw_beats_per_cycle, with the ddr4 preset's latency). The
memory bound is then 0.357 / 20 = 0.018 query/cycle without caches and rises as
1 / (1 - hit rate) until the engines' 1/20.

Output: a table in the terminal, build/bench/cache.json and cache.png (hit rate and
memory reads/query vs Zipf per policy and size; throughput vs Zipf for off, lru and
freq). Points marked RTL are simulations; "model" lines are models/row_cache.py
alone over the same channels and cache shapes (more queries, more exponents).

    python -m apps.benchmarks.cache [--tiny] [--zipf 0.6 0.9 1.05 1.3] [--lines 16 32] ...
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np

from models.config import builtin
from models.memory_bound import memory_bound
from models.multihot import multihot_queries
from models.row_cache import RowCache, RowCacheConfig
from sim.toolchain import BUILD_ROOT
from tb.common.bench_def import BenchDef
from tb.hbm import config as hbm_timing
from tb.lookup.dut import TINY_MH_BUILD, LookupKnobs, make_dut
from tb.lookup.layout import LookupBuild, LookupLayout

CONFIG = "dlrm_kaggle"
MHZ = 120.0               # the kernel clock the memory timing is restated at
DIMMS = 2                 # the U280's DDR4 channels
BAG = 20


@dataclass(frozen=True)
class CacheBenchKnobs(LookupKnobs):
    """The lookup bench's knobs and those of CacheRateTest."""
    zipf: float = 1.05       # Zipf exponent of the bags' indices (0: uniform)
    bag: int = BAG           # rows per bag (every table)
    cache_on: bool = True    # cfg_cache_enable (False: the caches are wires)
    mem_bw: float = 0.0      # every memory channel's bandwidth cap, beats/cycle (0: the preset's)
    warmup: int = 50         # queries before the measured window, same stream
    lat_queries: int = 10    # queries sent one at a time after the stream (unloaded latency)

    def __post_init__(self):
        super().__post_init__()
        if self.zipf < 0 or self.bag < 1 or self.mem_bw < 0 or self.warmup < 0 or self.lat_queries < 0:
            raise ValueError(f"zipf {self.zipf}, bag {self.bag}, mem_bw {self.mem_bw}, warmup {self.warmup}, "
                             f"lat_queries {self.lat_queries}: none may be negative (bag >= 1)")


BENCH = BenchDef("lookup", "apps.benchmarks.tb_cache_rate", LookupBuild, CacheBenchKnobs, make_dut)


def kaggle_build(lines: int, ways: int = 4, config: str = CONFIG) -> LookupBuild:
    """dlrm_kaggle's placement: 13 HBM + 1 DDR channels with a cache each, 12 banks. The
    smoke run (--tiny, config dlrm_tiny) uses the 4-channel multi-hot test build instead:
    a build of a minute, not three."""
    if config != CONFIG:
        return dataclasses.replace(TINY_MH_BUILD, cache=1, cache_lines=lines, cache_ways=min(ways, lines))
    return LookupBuild(num_ch=14, num_banks=12, bank_words=2048, qdepth=64, p_max=32, list_max=4, t_max=32,
                       dim_max=16, feat_max=416, id_w=6, mh=1, pkt_w=32, l_max=64, dense_max=16,
                       cache=1, cache_lines=lines, cache_ways=min(ways, lines), cache_line_beats=1)


def tiers(mhz: float = MHZ, config: str = CONFIG) -> dict:
    """name -> (memory preset, per-channel bandwidth cap or 0, description)."""
    cfg = builtin(config)
    mem_tables = sum(t.tier in ("hbm", "ddr") for t in cfg.tables)
    per_dimm = math.ceil(mem_tables / DIMMS)
    ddr = hbm_timing.ddr4(axi_mhz=mhz).bw_beats_per_cycle
    hbm = hbm_timing.u280(axi_mhz=mhz).bw_beats_per_cycle
    return {"ddr4x2": ("ddr4", ddr / per_dimm,
                       f"{mem_tables} memory tables on {DIMMS} DDR4-2400 channels ({per_dimm} per channel): "
                       f"{ddr:.2f}/{per_dimm} = {ddr / per_dimm:.3f} beats/cycle per table at {mhz:.0f} MHz"),
            "u280": ("u280", 0.0, f"U280 HBM, one pseudo-channel per table: {hbm:.2f} beats/cycle at "
                                  f"{mhz:.0f} MHz (> 1: the engine's beat per cycle binds)")}


def stage_bounds(build: LookupBuild, bw: float, busiest_mem_beats: float, config: str = CONFIG) -> dict:
    """Queries/cycle the lookup stage cannot exceed (models/memory_bound.py): the busiest memory
    channel at ``bw`` beats/cycle carrying ``busiest_mem_beats`` per query, its engine (20 beats
    per query, hit or miss), the on-chip banks and the packet stream."""
    cfg = builtin(config)
    lay = LookupLayout(cfg, build)
    mb = memory_bound(lay.placement, [min(BAG, t.bag_max) for t in cfg.tables], bus_bytes=build.word_bytes,
                      words_per_beat=build.pkt_w)
    mem = min(1.0, bw) / busiest_mem_beats if busiest_mem_beats > 0 else float("inf")
    # the engine first: where memory gives a beat per cycle or more, the tie is the engine's
    b = {"engine": mb.memory, "memory": mem, "onchip": mb.onchip, "stream": mb.stream}
    lim = min(b, key=b.get)
    return {**b, "bound": b[lim], "limiter": lim}


def model_grid(build_lines, alphas, policies, queries: int, warmup: int, ways: int, seed: int = 17,
               config: str = CONFIG) -> list[dict]:
    """models/row_cache.py alone: the same channels and cache shapes as the RTL builds,
    bags of 20, more exponents and queries; figures over the queries after ``warmup``."""
    cfg = builtin(config)
    out = []
    for alpha in alphas:
        bags = multihot_queries(cfg, warmup + queries, lengths="fixed", length=BAG, indices="zipf", alpha=alpha,
                                scatter=True, seed=seed)
        for lines in build_lines:
            lay = LookupLayout(cfg, kaggle_build(lines, ways, config))
            mem = [d for d in lay.descs if not d.onchip]
            for policy in policies:
                hits = misses = 0
                busiest = 0.0
                for d in mem:
                    c = RowCache(RowCacheConfig(lines=lines, ways=min(ways, lines)), policy)
                    la = (d.base + bags.values[d.lt_a] * d.stride) // 32 * 32
                    cut = int(bags.lengths[:warmup, d.lt_a].sum())
                    c.run_lines(la[:cut].tolist())
                    h, m = c.run_lines(la[cut:].tolist())
                    hits, misses = hits + h, misses + m
                    busiest = max(busiest, m / queries)
                out.append({"zipf": alpha, "lines": lines, "policy": policy, "hit_rate": hits / (hits + misses),
                            "mem_reads_per_query": misses / queries, "busiest_channel_mem_beats": busiest})
    return out


def run_point(build, tier: str, zipf: float, policy: str, args, seed: int) -> dict:
    preset, bw, _ = tiers(args.mhz, args.config)[tier]
    name = f"bench_cache_{tier}_z{zipf:g}_{policy}_{build.cache_lines}l"
    t0 = time.perf_counter()
    res = BENCH.run(build, "CacheRateTest", seed, name=name, config=args.config, preset=preset, mhz=args.mhz,
                    mem_bw=bw, zipf=zipf, bag=BAG, cache_on=policy != "off",
                    cache_policy=policy if policy != "off" else "lru", queries=args.queries,
                    warmup=args.warmup, lat_queries=args.lat_queries)
    r = json.loads((res.test_dir / "cache_rate.json").read_text())
    r.update(tier=tier, wall_s=time.perf_counter() - t0, source="RTL",
             bounds=stage_bounds(build, bw if bw > 0 else hbm_timing.preset(preset, axi_mhz=args.mhz)
                                 .bw_beats_per_cycle, r["window_busiest_channel_mem_beats"], args.config))
    return r


def plan(args) -> list[tuple]:
    """(tier, zipf, lines, policy): per tier and exponent off once (on the largest build: a
    disabled cache is a wire), then each size x policy."""
    pts = []
    big = max(args.lines)
    for z in args.zipf:
        pts.append(("ddr4x2", z, big, "off"))
        for lines in args.lines:
            for pol in args.policies:
                pts.append(("ddr4x2", z, lines, pol))
    for z in args.u280_zipf:
        pts.append(("u280", z, big, "off"))
        for lines in args.lines:
            for pol in args.policies:
                pts.append(("u280", z, lines, pol))
    return pts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zipf", type=float, nargs="+", default=[0.6, 0.9, 1.05, 1.3], help="Zipf exponents (RTL)")
    ap.add_argument("--lines", type=int, nargs="+", default=[16, 32], help="cache lines per channel (RTL builds)")
    ap.add_argument("--ways", type=int, default=4)
    ap.add_argument("--policies", nargs="+", default=["lru", "freq"], choices=["lru", "freq"])
    ap.add_argument("--u280-zipf", type=float, nargs="*", default=[0.6, 1.05],
                    help="exponents also run on the u280 tier (engine-bound; none: skip)")
    ap.add_argument("--queries", type=int, default=300, help="measured queries per point")
    ap.add_argument("--warmup", type=int, default=100, help="queries before the measured window")
    ap.add_argument("--lat-queries", type=int, default=10, help="one-at-a-time queries per point (latency)")
    ap.add_argument("--mhz", type=float, default=MHZ)
    ap.add_argument("--model-queries", type=int, default=600, help="queries per point of the model-only grid")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tiny", action="store_true",
                    help="smoke run (tests): dlrm_tiny on the 4-channel multi-hot build, Zipf 1.05, 16 lines, "
                         "off/lru/freq on ddr4x2, few queries, small model grid")
    ap.add_argument("--out", default="cache", help="file stem in build/bench/")
    ap.add_argument("--size-rule", choices=("table", "total"), default="table",
                    help="the 2%% bound on --lines: 'table' (default) every memory table's caches hold <= 2%% "
                         "of its rows (one size for all channels: the smallest table sets it); 'total' "
                         "all the caches together hold <= 2%% of the memory tables' rows (issue 17's "
                         "'a cache of <= 2%% of table rows' read over the whole model)")
    a = ap.parse_args(argv)
    if a.tiny:
        a.zipf, a.lines, a.u280_zipf = [1.05], [16], []
        a.queries, a.warmup, a.lat_queries, a.model_queries = 40, 20, 3, 100
    a.config = "dlrm_tiny" if a.tiny else CONFIG
    mem_rows = [t.rows for t in builtin(a.config).tables if t.tier in ("hbm", "ddr")]
    small = min(mem_rows)
    for n in a.lines:
        if n & (n - 1) or n < a.ways:
            ap.error(f"--lines {n}: a power of two >= ways")
        if a.tiny:
            continue
        if a.size_rule == "table" and n > 0.02 * small:
            ap.error(f"--lines {n}: <= 2% of the smallest memory table ({small} rows: {int(0.02 * small)}; "
                     f"--size-rule total bounds the caches' sum instead)")
        if a.size_rule == "total" and n * len(mem_rows) > 0.02 * sum(mem_rows):
            ap.error(f"--lines {n}: {len(mem_rows)} channels x {n} lines exceed 2% of the memory tables' "
                     f"{sum(mem_rows)} rows")
    tdesc = tiers(a.mhz, a.config)
    t0 = time.time()
    print(f"[bench-cache] {a.config}, bags of {BAG}, lookup stage (emb_lookup_top MH=1 CACHE=1), "
          f"{a.warmup} warm-up + {a.queries} measured + {a.lat_queries} one-at-a-time queries per point", flush=True)
    for k, (_, _, d) in tdesc.items():
        print(f"[bench-cache] tier {k}: {d}", flush=True)
    rows = []
    for i, (tier, z, lines, pol) in enumerate(pts := plan(a)):
        build = kaggle_build(lines, a.ways, a.config)
        print(f"[bench-cache] ({i + 1}/{len(pts)}) {tier} zipf {z:g} {pol} {lines if pol != 'off' else '-'} lines "
              f"... [{time.time() - t0:.0f} s]", flush=True)
        r = run_point(build, tier, z, pol, a, a.seed)
        if pol == "off":
            r["lines"] = 0
        rows.append(r)
        print(f"[bench-cache]    {r['throughput_qpc']:.5f} q/cycle, hit {100 * r['window_hit_rate']:.1f}%, "
              f"{r['window_mem_reads_per_query']:.1f} mem reads/query, memory read latency "
              f"{r['mem_read_latency']:.0f} cycles, latency median "
              f"{r['latency']['median'] if r['latency'] else '-'}; counters = model, 0 mismatches "
              f"({r['wall_s']:.0f} s)", flush=True)
    print(f"[bench-cache] model-only grid ({a.model_queries} queries per point) ...", flush=True)
    alphas = sorted(set([round(x, 2) for x in np.arange(0.5, 1.41, 0.1)] + list(a.zipf))) if not a.tiny else a.zipf
    grid = model_grid(a.lines, alphas, a.policies, a.model_queries, max(50, a.model_queries // 6), a.ways,
                      config=a.config)
    for r in rows:
        off = next((o for o in rows if o["tier"] == r["tier"] and o["zipf"] == r["zipf"] and o["policy"] == "off"), None)
        r["vs_off"] = r["throughput_qpc"] / off["throughput_qpc"] if off else None
    table(rows, small)
    out = BUILD_ROOT / "bench"
    out.mkdir(parents=True, exist_ok=True)
    doc = {"config": a.config, "tiny": a.tiny, "bag": BAG, "mhz": a.mhz, "ways": a.ways, "tiers": {k: {"preset": v[0], "mem_bw": v[1],
           "why": v[2]} for k, v in tdesc.items()}, "smallest_memory_table_rows": small,
           "rtl": rows, "model": grid, "wall_s": time.time() - t0}
    (out / f"{a.out}.json").write_text(json.dumps(doc, indent=1, default=float))
    _plot(rows, grid, out / f"{a.out}.png", tdesc["ddr4x2"][1])
    print(f"\nwrote {out / (a.out + '.json')} and {a.out}.png; done in {time.time() - t0:.0f} s")
    return 0


def table(rows, small: int) -> None:
    print("\nhit rate and memory reads: the measured window (queries after the warm-up) from models/row_cache.py, "
          "whose counts over the whole run the RTL counters equalled (the whole-run RTL hit rate beside it)")
    print("\n| tier | Zipf | cache | hit rate (RTL whole run) | mem reads/query | busiest ch beats/q | stage bound q/cycle (limiter) "
          "| throughput q/cycle | vs off | latency median (min-max) | RTL counters = model |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cache = "off" if r["policy"] == "off" else f"{r['policy']} {r['lines']}x{r['ways']} " \
                f"({100 * r['lines'] / small:.2f}%)"
        lat = r["latency"]
        b = r["bounds"]
        vs = "-" if r["vs_off"] is None else f"{r['vs_off']:.3f}x"
        lat_s = f"{lat['median']:.0f} ({lat['min']}-{lat['max']})" if lat else "-"
        same = "yes" if r["rtl_cache"] == r["model_cache"] else "NO"
        print(f"| {r['tier']} | {r['zipf']:g} | {cache} | {100 * r['window_hit_rate']:.1f}% "
              f"({100 * r['rtl_hit_rate']:.1f}%) | "
              f"{r['window_mem_reads_per_query']:.1f} | {r['window_busiest_channel_mem_beats']:.2f} | "
              f"{b['bound']:.4f} ({b['limiter']}) | {r['throughput_qpc']:.4f} | {vs} | {lat_s} | {same} |")

def _plot(rows, grid, path, slow_bw: float) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(19, 5.5))
    styles = {"lru": "--", "freq": "-"}
    sizes = sorted({g["lines"] for g in grid})
    colors = dict(zip(sizes, ["tab:blue", "tab:orange", "tab:green", "tab:red"]))
    for pol in styles:
        for n in sizes:
            g = sorted((x for x in grid if x["policy"] == pol and x["lines"] == n), key=lambda x: x["zipf"])
            lab = f"{pol} {n} lines (model)"
            a1.plot([x["zipf"] for x in g], [100 * x["hit_rate"] for x in g], styles[pol], color=colors[n], label=lab)
            a2.plot([x["zipf"] for x in g], [x["mem_reads_per_query"] for x in g], styles[pol], color=colors[n],
                    label=lab)
            rr = [r for r in rows if r["tier"] == "ddr4x2" and r["policy"] == pol and r["lines"] == n]
            mk = "o" if pol == "lru" else "s"
            a1.plot([r["zipf"] for r in rr], [100 * r["window_hit_rate"] for r in rr], mk, color=colors[n],
                    label=f"{pol} {n} lines (RTL)")
            a2.plot([r["zipf"] for r in rr], [r["window_mem_reads_per_query"] for r in rr], mk, color=colors[n])
    off = sorted((r for r in rows if r["tier"] == "ddr4x2" and r["policy"] == "off"), key=lambda r: r["zipf"])
    a2.plot([r["zipf"] for r in off], [r["window_mem_reads_per_query"] for r in off], "k^-", label="off (RTL)")
    for tier, mk in (("ddr4x2", "-"), ("u280", ":")):
        for pol, color in (("off", "k"), ("lru", "tab:blue"), ("freq", "tab:orange")):
            big = max([r["lines"] for r in rows if r["policy"] != "off"], default=0)
            rr = sorted((r for r in rows if r["tier"] == tier and r["policy"] == pol
                         and (pol == "off" or r["lines"] == big)), key=lambda r: r["zipf"])
            if rr:
                a3.plot([r["zipf"] for r in rr], [r["throughput_qpc"] for r in rr], "o" + mk, color=color,
                        label=f"{tier} {pol}" + (f" {big} lines" if pol != "off" else ""))
    big = max(sizes)
    for pol, color in (("lru", "tab:blue"), ("freq", "tab:orange")):
        g = sorted((x for x in grid if x["policy"] == pol and x["lines"] == big), key=lambda x: x["zipf"])
        a3.plot([x["zipf"] for x in g], [min(0.05, slow_bw / x["busiest_channel_mem_beats"]) for x in g], "-",
                color=color, lw=0.7, alpha=0.5, label=f"ddr4x2 {pol} {big} lines: model memory bound")
    a3.axhline(0.05, color="grey", lw=0.6)
    a3.text(0.5, 0.0505, "engine bound 1/20", fontsize=8, color="grey")
    a1.set(xlabel="Zipf exponent", ylabel="hit rate (%)", title="dlrm_kaggle bags of 20: hit rate")
    a2.set(xlabel="Zipf exponent", ylabel="memory reads per query (14 tables x 20)", title="memory reads/query")
    a3.set(xlabel="Zipf exponent", ylabel="queries (items) per cycle", title="lookup stage throughput (RTL)")
    for ax in (a1, a2, a3):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    with warnings.catch_warnings():      # legends larger than the small runs' axes: keep the figure anyway
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
