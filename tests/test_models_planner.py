"""Cartesian planners: MicroRec Table 3 pattern, known optima, brute force, errors."""

from collections import Counter
from functools import lru_cache

import numpy as np
import pytest

from models import ModelConfig, TableConfig, builtin
from models.config import SMALL_47_FACTORS
from models.golden import gather
from models.placement import PlacementError, Platform
from models.planner import (
    _Matcher,
    compare,
    evaluate,
    heuristic_pairs,
    max_matching,
    pair_ok,
    plan,
    plan_heuristic,
    plan_none,
    plan_search,
    product_cost,
)
from models.queries import uniform_queries


def shapes(p):
    pl = p.physical
    return Counter((pl.rows(i), pl.dim(i)) for i in range(pl.num_physical))


# ---- MicroRec Table 3 ------------------------------------------------------

@pytest.fixture(scope="module")
def table3():
    return compare(builtin("microrec_small_47"))


def test_table3_baseline(table3):
    base = table3["none"]
    assert (base.num_logical, base.num_physical, base.lookups_per_query) == (47, 47, 47)
    assert (base.dram_lookups, base.onchip_tables, base.dram_rounds) == (39, 8, 2)
    assert base.storage_overhead_pct == 0.0


@pytest.mark.parametrize("method", ["heuristic", "search"])
def test_table3_pattern(table3, method):
    """47 -> 42 tables, 39 -> 34 in DRAM, 2 -> 1 rounds, storage overhead under 5%."""
    p = table3[method]
    cfg = p.cfg
    assert (p.num_physical, p.lookups_per_query, p.dram_lookups, p.onchip_tables) == (42, 42, 34, 8)
    assert p.dram_rounds == 1 and p.exact == (method == "search")
    assert 0 < p.storage_overhead_pct < 5
    assert p.storage_overhead_pct == pytest.approx(0.9474, abs=1e-4)
    assert shapes(p) == Counter((t.rows, t.dim) for t in builtin("microrec_small").tables)
    assert sorted(p.pair_names) == [(f"hbm{i:02d}a", f"hbm{i:02d}b") for i in SMALL_47_FACTORS]
    assert p.onchip_bytes <= 8 << 20
    q = uniform_queries(cfg, 8, seed=4)
    assert np.array_equal(p.placement.lookup_features(q), gather(cfg, q))


def test_microrec_small_47_config():
    cfg = builtin("microrec_small_47")
    assert cfg.num_tables == 47 and cfg.feature_len == 352
    order = sorted(cfg.tables, key=lambda t: (t.table_bytes, t.name))
    assert {t.name[-1] for t in order[:10]} == {"a", "b"}           # the factors are smallest
    assert order[9].table_bytes < order[10].table_bytes == 8000       # strictly below 1000 x 4
    assert heuristic_pairs(cfg, 10) == sorted(
        (cfg.table_index(f"hbm{i:02d}a"), cfg.table_index(f"hbm{i:02d}b"))
        for i in SMALL_47_FACTORS)


def test_configs_already_planned_need_no_products():
    for p in compare(builtin("microrec_small")).values():
        assert p.pairs == [] and p.dram_rounds == 1 and p.num_physical == 42


# ---- hand-made cases with known optima -------------------------------------

DIMS_CASE = [("x", 100, 1), ("y", 10, 16), ("w", 200, 1), ("z", 20, 16),
             ("big0", 100_000, 4), ("big1", 100_001, 4)]
TWO_CHANNELS = Platform(hbm_channels=2, ddr_channels=0, onchip_banks=0)


@pytest.fixture(scope="module")
def dims_case():
    return ModelConfig("dims", [TableConfig(n, r, d, "hbm") for n, r, d in DIMS_CASE], [1])


def test_product_cost_by_hand(dims_case):
    # x x w: 20000 rows of dim 2 (4 B) = 80000 B, minus 200 + 400
    assert product_cost(dims_case, 0, 2) == 80_000 - 600
    # y x z: 200 rows of dim 32 (64 B) = 12800 B, minus 320 + 640
    assert product_cost(dims_case, 1, 3) == 12_800 - 960
    # x x z and y x w: 2000 rows of dim 17 (64 B) each
    assert product_cost(dims_case, 0, 3) == 128_000 - 840
    assert product_cost(dims_case, 1, 2) == 128_000 - 720


def test_search_beats_heuristic_on_storage(dims_case):
    """6 tables on 2 channels: 3 rounds; 2 pairs give 2 rounds.

    By bytes the four small tables sort x(200) y(320) w(400) z(640), so the
    heuristic pairs x-z and y-w: +254440 B. Pairing alike dims, x-w and y-z,
    costs +91240 B, the optimum (the only other pairings use a 400 kB table).
    """
    h = plan_heuristic(dims_case, TWO_CHANNELS, storage_budget_pct=None)
    s = plan_search(dims_case, TWO_CHANNELS, storage_budget_pct=None)
    assert h.dram_rounds == s.dram_rounds == 2
    assert h.pair_names == [("x", "z"), ("y", "w")]
    assert s.pair_names == [("x", "w"), ("y", "z")]
    assert h.storage_bytes - h.base_storage_bytes == 254_440
    assert s.storage_bytes - s.base_storage_bytes == 91_240
    assert s.base_storage_bytes == 1_601_568


def test_search_reaches_fewer_rounds_within_budget(dims_case):
    # 10% of 1601568 B allows 160156 B: the heuristic's 4-table pairing is
    # over it and its 2-table one does not save a round; the search's is under.
    h = plan_heuristic(dims_case, TWO_CHANNELS, storage_budget_pct=10.0)
    s = plan_search(dims_case, TWO_CHANNELS, storage_budget_pct=10.0)
    assert (h.dram_rounds, h.num_physical, h.pairs) == (3, 6, [])
    assert (s.dram_rounds, s.num_physical) == (2, 4)
    assert s.storage_overhead_pct == pytest.approx(100 * 91_240 / 1_601_568)
    # and nothing fits a 1% budget: both stay at 3 rounds
    assert plan_search(dims_case, TWO_CHANNELS, storage_budget_pct=1.0).dram_rounds == 3


def test_equal_dims_smallest_with_largest_is_optimal():
    cfg = ModelConfig("eq", [TableConfig(f"t{r}", r, 4, "hbm") for r in
                             (10, 20, 30, 40, 5000, 6000)], [1])
    h = plan_heuristic(cfg, TWO_CHANNELS, storage_budget_pct=None)
    s = plan_search(cfg, TWO_CHANNELS, storage_budget_pct=None)
    # 10*40 + 20*30 = 1000 product rows of 16 B, the minimum over pairings
    assert h.pair_names == s.pair_names == [("t10", "t40"), ("t20", "t30")]
    assert s.storage_bytes - s.base_storage_bytes == 1000 * 16 - 100 * 8


def test_onchip_slots_count_towards_rounds():
    # 2 channels + 1 on-chip slot: 7 tables = 1 on chip + 6 in DRAM = 3 rounds;
    # one pair leaves 5 in DRAM (still 3 rounds), two pairs 4 (2 rounds)
    plat = Platform(hbm_channels=2, ddr_channels=0, onchip_banks=1, onchip_lookups_per_bank=1)
    cfg = ModelConfig("c", [TableConfig(f"t{i}", 10 + i, 4, "hbm") for i in range(7)], [1])
    assert plan_none(cfg, plat).dram_rounds == 3
    s = plan_search(cfg, plat, storage_budget_pct=None)
    assert (s.dram_rounds, len(s.pairs), s.onchip_tables, s.dram_lookups) == (2, 2, 1, 4)


# ---- search against brute force --------------------------------------------

def _random_cfg(rng, n):
    tables = [TableConfig(f"t{i}", int(rng.integers(2, 3000)), int(rng.choice([1, 2, 4, 8, 16])),
                          "hbm") for i in range(n)]
    return ModelConfig("r", tables, [1])


def _matchings(items):
    if len(items) < 2:
        yield []
        return
    first, rest = items[0], items[1:]
    yield from _matchings(rest)                       # first unpaired
    for i, other in enumerate(rest):
        for m in _matchings(rest[:i] + rest[i + 1:]):
            yield [(first, other)] + m


@pytest.mark.parametrize("case", range(6))
def test_matcher_is_exact(case):
    rng = np.random.default_rng([case, 77])
    cfg = _random_cfg(rng, 10)
    plat = Platform(hbm_channel_bytes=1 << 20, ddr_channels=0)   # some pairs too big
    legal = {(a, b) for a in range(10) for b in range(a + 1, 10) if pair_ok(cfg, a, b, plat)}

    @lru_cache(None)
    def best(mask, need):
        if need == 0:
            return 0
        free = [t for t in range(10) if not mask >> t & 1]
        if len(free) < 2 * need:
            return float("inf")
        a, out = free[0], best(mask | 1 << free[0], need)
        for b in free[1:]:
            if (a, b) in legal:
                out = min(out, product_cost(cfg, a, b) + best(mask | 1 << a | 1 << b, need - 1))
        return out

    matcher = _Matcher(cfg, plat, 10**6)
    for m in range(1, 6):
        res = matcher.solve(m)
        want = best(0, m)
        if want == float("inf"):
            assert res is None
        else:
            cost, pairs, exact = res
            assert exact and cost == want and len(pairs) == m
            assert cost == sum(product_cost(cfg, a, b) for a, b in pairs)


@pytest.mark.parametrize("case", range(4))
def test_search_matches_brute_force(case):
    rng = np.random.default_rng([case, 99])
    cfg = _random_cfg(rng, 7)
    plat = [Platform(hbm_channels=2, ddr_channels=0, onchip_banks=1, onchip_lookups_per_bank=1),
            Platform(hbm_channels=1, ddr_channels=1, onchip_banks=0),
            Platform(hbm_channels=2, ddr_channels=0, hbm_channel_bytes=1 << 20, onchip_banks=2,
                     onchip_lookups_per_bank=1)][case % 3]
    keys = []
    for pairs in _matchings(list(range(7))):
        if not all(pair_ok(cfg, a, b, plat) for a, b in pairs):
            continue
        try:
            p = evaluate(cfg, pairs, plat)
        except PlacementError:
            continue
        keys.append((p.dram_rounds, p.storage_bytes, p.lookups_per_query))
    s = plan_search(cfg, plat, storage_budget_pct=None)
    assert (s.dram_rounds, s.storage_bytes, s.lookups_per_query) == min(keys)
    h = plan_heuristic(cfg, plat, storage_budget_pct=None)
    assert (h.dram_rounds, h.storage_bytes) >= (s.dram_rounds, s.storage_bytes)


@pytest.mark.parametrize("case", range(5))
def test_max_matching_against_brute_force(case):
    rng = np.random.default_rng([case, 11])
    n = 9
    edges = [(a, b) for a in range(n) for b in range(a + 1, n) if rng.random() < 0.3]
    adj = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    want = max(len(m) for m in _matchings(list(range(n)))
               if all(tuple(sorted(p)) in edges for p in m))
    assert max_matching(n, adj) == want
    # odd cycles need blossoms: a 5-cycle with a pendant has a matching of 3
    five = [[1, 4, 5], [0, 2], [1, 3], [2, 4], [3, 0], [0]]
    assert max_matching(6, five) == 3


def test_matcher_proves_infeasible_counts_fast():
    cfg = builtin("microrec_large")
    m = _Matcher(cfg, Platform(), 10**6)
    # products of two tables with >= 40000 rows exceed 16 GiB, so every pair
    # needs one of the 16 small tables: 20 pairs are impossible
    assert m.solve(20) is None and m.nodes <= 1
    cost, pairs, exact = m.solve(8)
    assert exact and len(pairs) == 8
    # on the default platform DDR is full at 2 rounds, and only 5 products fit
    # an HBM channel: the search proves 2 rounds impossible, keeps 3
    assert m.solve(8, max_big=0) is None
    assert plan_search(cfg, storage_budget_pct=None).dram_rounds == 3


# ---- options and errors ----------------------------------------------------

def test_plan_dispatch_and_errors(dims_case):
    assert plan(dims_case, "none", TWO_CHANNELS).pairs == []
    assert plan(dims_case, "heuristic", TWO_CHANNELS, n=4,
                storage_budget_pct=None).pair_names == [("x", "z"), ("y", "w")]
    assert plan(dims_case, "search", TWO_CHANNELS).dram_rounds == 3         # 5% budget
    assert plan(dims_case, "search", TWO_CHANNELS, storage_budget_pct=6.0).dram_rounds == 2
    with pytest.raises(ValueError, match="method"):
        plan(dims_case, "greedy")


def test_infeasible_model_raises_with_the_table_name():
    cfg = ModelConfig("huge", [TableConfig("ok", 10, 8, "hbm"),
                               TableConfig("giant", 2_000_000_000, 16, "ddr")], [1])
    for method in ("none", "heuristic", "search"):
        with pytest.raises(PlacementError, match="'giant'"):
            plan(cfg, method)


def test_summary_fields():
    s = plan_search(builtin("microrec_small_47")).summary()
    assert s["tables"] == "47 -> 42" and s["dram_rounds"] == 1 and s["lookups_per_query"] == 42
    assert set(s) >= {"method", "pairs", "dram_tables", "onchip_tables",
                      "storage_overhead_pct", "onchip_bytes", "exact"}
