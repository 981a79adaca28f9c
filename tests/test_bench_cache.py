"""`make bench-cache` (apps/benchmarks/cache.py) and the caches' read model of multi-hot
queries (tb/lookup/cache_check.py), model side only: no simulation."""
import argparse
import dataclasses

import pytest

from apps.benchmarks import cache as bench
from models.config import builtin
from tb.lookup.cache_check import CachePrediction
from tb.lookup.dut import TINY_MH_CACHE_BUILD
from tb.lookup.layout import LookupLayout


def test_kaggle_build_places_dlrm_kaggle_memory_bound_on_the_slow_tier():
    """14 memory channels with one table each, the 12 small tables one per bank: engines and
    banks allow 1/20 query per cycle; the ddr4x2 tier's memory 0.357/20 binds without caches."""
    build = bench.kaggle_build(32)
    lay = LookupLayout(builtin("dlrm_kaggle"), build)
    mem = [d.channel for d in lay.descs if not d.onchip]
    assert sorted(mem) == list(range(14))
    preset, bw, why = bench.tiers()["ddr4x2"]
    assert preset == "ddr4" and bw == pytest.approx(2.5 / 7) and "7 per channel" in why
    b = bench.stage_bounds(build, bw, 20.0)
    assert b["limiter"] == "memory" and b["bound"] == pytest.approx(bw / 20)
    assert b["engine"] == pytest.approx(0.05) and b["onchip"] == pytest.approx(0.05)
    u = bench.stage_bounds(build, bench.tiers()["u280"][1] or 3.7, 20.0)
    assert u["limiter"] == "engine" and u["bound"] == pytest.approx(0.05)


def test_plan_has_off_once_per_tier_and_exponent():
    a = argparse.Namespace(zipf=[0.6, 1.05], lines=[16, 32], policies=["lru", "freq"], u280_zipf=[1.05])
    pts = bench.plan(a)
    assert len(pts) == 2 * 5 + 5
    assert [p for p in pts if p[3] == "off"] == [("ddr4x2", 0.6, 32, "off"), ("ddr4x2", 1.05, 32, "off"),
                                                 ("u280", 1.05, 32, "off")]


def test_sizes_above_two_percent_of_a_memory_table_are_refused(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--lines", "64"])          # 64 > 2% of C19's 2173 rows
    assert "2% of the smallest memory table" in capsys.readouterr().err


def test_model_grid_hits_rise_with_skew():
    g = bench.model_grid([16], [0.6, 1.3], ["freq"], queries=60, warmup=20, ways=4)
    lo, hi = (x for x in g)
    assert 0 <= lo["hit_rate"] < hi["hit_rate"] <= 1
    assert hi["mem_reads_per_query"] < lo["mem_reads_per_query"] <= 14 * 20


def test_query_bags_refused_query_reads_nothing():
    """A bad index or a bag longer than bag_max anywhere: the ingress refuses the query and no
    entry, good ones included, reaches a cache; a good query reads every entry."""
    cfg = builtin("dlrm_tiny")
    lay = LookupLayout(cfg, TINY_MH_CACHE_BUILD)
    good = [[1, 2, 3][:t.bag_max] for t in cfg.tables]
    pred = CachePrediction(TINY_MH_CACHE_BUILD, "lru")
    bad_idx = [list(b) for b in good]
    bad_idx[3] = [0, cfg.tables[3].rows]               # out of range in the last memory table
    long_bag = [list(b) for b in good]
    long_bag[1] = [0] * (cfg.tables[1].bag_max + 1)     # item: bag_max 1
    for bags in (bad_idx, long_bag):
        assert pred.query_bags(lay, bags) is False
        assert not any(pred.counters().values()) and not any(pred.beats)
    assert pred.query_bags(lay, good) is True
    mem_entries = sum(len(good[d.lt_a]) for d in lay.descs if not d.onchip)
    c = pred.counters()
    assert c["hits"] + c["misses"] == mem_entries


def test_knobs_refuse_negative_values():
    with pytest.raises(ValueError):
        dataclasses.replace(bench.CacheBenchKnobs(), mem_bw=-1.0)
