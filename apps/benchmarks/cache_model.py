"""Hot-row cache from the model alone (no RTL): hit rate and memory reads per
query vs Zipf exponent, cache size and policy on the dlrm_kaggle table shapes.

One cache per memory channel (contracts s.11.1): every HBM/DDR table of
dlrm_kaggle sits alone on its channel, so each table gets a cache of
`frac` of its rows (rounded down to a power of two lines, `ways` ways),
fed with that table's reads in query order. Queries: bags of `bag` rows per
table, Zipf(alpha) indices scattered over the table (models/multihot.py,
hot rows spread as real ids are). Rows are dim 16 = 32 bytes = one beat,
so a read is one line and "memory reads cut" equals the hit rate. Figures
are over the second half of the queries (the first half warms the caches).

    python -m apps.benchmarks.cache_model [--queries N] [--quick]
writes build/bench/cache_model.json and cache_model.png.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from models.config import builtin
from models.multihot import draw_indices
from models.row_cache import RowCache, RowCacheConfig
from sim.toolchain import BUILD_ROOT

ALPHAS = (0.6, 0.8, 0.95, 1.05, 1.2, 1.3)
FRACS = (0.0025, 0.005, 0.01, 0.02)


def lines_for(rows: int, frac: float, ways: int) -> int:
    n = max(ways, int(rows * frac))
    return 1 << (n.bit_length() - 1)          # a power of two <= frac of the rows


def run_config(cfg, alpha: float, frac: float, policy: str, queries: int, bag: int, ways: int,
               seed: int = 17) -> dict:
    mem_tables = [t for t, tab in enumerate(cfg.tables) if tab.tier in ("hbm", "ddr")]
    lengths = np.full((queries, cfg.num_tables), bag, dtype=np.int64)
    idx = draw_indices(cfg, lengths, "zipf", alpha=alpha, scatter=True, seed=seed)
    half = queries // 2 * bag
    per_channel = {}
    hits_total = reads_total = lines_total = rows_total = 0
    for t in mem_tables:
        tab = cfg.tables[t]
        lines = lines_for(tab.rows, frac, ways)
        cc = RowCacheConfig(lines=lines, ways=min(ways, lines))
        cache = RowCache(cc, policy)
        la = idx[t]                             # base 0: line address = row (one 32-byte beat per row)
        cache.run_lines((la[:half] * 32).tolist())
        h, m = cache.run_lines((la[half:] * 32).tolist())
        n = h + m
        per_channel[tab.name] = {"rows": tab.rows, "lines": lines, "hit_rate": h / n,
                                 "reads_per_query": m / (queries - queries // 2),
                                 "bypasses": cache.counters["bypasses"]}
        hits_total += h
        reads_total += m
        lines_total += lines
        rows_total += tab.rows
    q2 = queries - queries // 2
    base = bag * len(mem_tables)
    busiest_before = bag
    busiest_after = max(v["reads_per_query"] for v in per_channel.values())
    return {"alpha": alpha, "frac": frac, "policy": policy, "queries": queries, "bag": bag, "ways": ways,
            "hit_rate": hits_total / (hits_total + reads_total),
            "reads_per_query": reads_total / q2, "reads_per_query_nocache": base,
            "reads_cut": 1 - reads_total / q2 / base,
            "busiest_channel_reads": busiest_after, "busiest_channel_reads_nocache": busiest_before,
            "cache_lines": lines_total, "cache_fraction": lines_total / rows_total,
            "per_channel": per_channel}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=20000)
    ap.add_argument("--bag", type=int, default=20)
    ap.add_argument("--ways", type=int, default=8)
    ap.add_argument("--quick", action="store_true", help="tiny run (tests): 200 queries, two alphas")
    a = ap.parse_args(argv)
    cfg = builtin("dlrm_kaggle")
    alphas, fracs, q = (ALPHAS, FRACS, a.queries) if not a.quick else ((0.6, 1.05), (0.02,), 200)
    runs = []
    t0 = time.time()
    plan = [(al, 0.02) for al in alphas] + [(1.05, f) for f in fracs if f != 0.02 and 1.05 in alphas]
    for alpha, frac in plan:
        for policy in ("lru", "freq"):
            r = run_config(cfg, alpha, frac, policy, q, a.bag, a.ways)
            runs.append(r)
            print(f"alpha {alpha:4.2f} cache {100 * r['cache_fraction']:5.2f}% of rows {policy:4}: "
                  f"hit {100 * r['hit_rate']:5.1f}%  reads/query {r['reads_per_query']:6.1f} "
                  f"(no cache {r['reads_per_query_nocache']}, cut {100 * r['reads_cut']:5.1f}%)  "
                  f"busiest channel {r['busiest_channel_reads']:5.2f}/{r['busiest_channel_reads_nocache']}"
                  f"  [{time.time() - t0:.0f} s]", flush=True)
    out = BUILD_ROOT / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cache_model.json").write_text(json.dumps(runs, indent=1))
    _plot(runs, out / "cache_model.png")
    print(f"wrote {out / 'cache_model.json'} and cache_model.png")
    return 0


def _plot(runs, path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for policy, style in (("lru", "o--"), ("freq", "s-")):
        rs = sorted((r for r in runs if r["policy"] == policy and r["frac"] == 0.02), key=lambda r: r["alpha"])
        a1.plot([r["alpha"] for r in rs], [100 * r["hit_rate"] for r in rs], style, label=policy)
        rs = sorted((r for r in runs if r["policy"] == policy and r["alpha"] == 1.05), key=lambda r: r["frac"])
        a2.plot([100 * r["cache_fraction"] for r in rs], [100 * r["hit_rate"] for r in rs], style, label=policy)
    a1.set(xlabel="Zipf exponent", ylabel="hit rate = memory reads cut (%)",
           title="dlrm_kaggle, cache <= 2% of rows per channel")
    a2.set(xlabel="cache size (% of rows)", ylabel="hit rate (%)", title="Zipf 1.05")
    for ax in (a1, a2):
        ax.axhline(50, color="grey", lw=0.5)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
