"""Runs the pyuvm bench of the hot-row cache (tb/cache) against the HBM model."""
from __future__ import annotations

import json

import pytest

from tb.cache.dut import BENCH, DIRECT_BUILD, FULLY_ASSOC_BUILD, MAIN_BUILD, NO_CACHE_BUILD

TESTS = ["CacheRandomTest", "CacheZipfTest", "CacheAllWaysTest", "CacheFlushTest", "CacheErrorTest",
         "CacheScanTest", "CacheEnableToggleTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", TESTS)
def test_cache(testcase, seed):
    BENCH.run(MAIN_BUILD, testcase, seed, requests=400)


# u280 HBM timing: fills return out of order across IDs, refresh stalls
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["CacheZipfTest", "CacheFlushTest"])
def test_cache_u280(testcase, seed):
    BENCH.run(MAIN_BUILD, testcase, seed, preset="u280", requests=400)


# long memory latency, no idle cycles: fills in flight are the rule
@pytest.mark.rtl
def test_cache_fill_races(seed):
    BENCH.run(MAIN_BUILD, "CacheFillRaceTest", seed, latency=60, ar_idle=0.0, r_stall=0.0, requests=400)


# direct-mapped, one-beat lines (two-beat rows pass through uncached)
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["CacheRandomTest", "CacheZipfTest", "CacheErrorTest"])
def test_cache_direct_mapped(testcase, seed):
    BENCH.run(DIRECT_BUILD, testcase, seed, requests=300)


# fully associative (one set): the SET_W = 0 branch of the set index (a sampled
# mutant there survived every multi-set build)
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["CacheRandomTest", "CacheZipfTest"])
def test_cache_fully_associative(testcase, seed):
    BENCH.run(FULLY_ASSOC_BUILD, testcase, seed, requests=300)


@pytest.mark.rtl
@pytest.mark.parametrize("build", [MAIN_BUILD, NO_CACHE_BUILD], ids=["cache", "no_cache"])
def test_cache_latency(build, seed):
    BENCH.run(build, "CacheLatencyTest", seed, ar_idle=0.0, r_stall=0.0)


@pytest.mark.rtl
def test_cache_disabled_is_cycle_identical(seed):
    """The same stimulus (same seed) through a disabled cache and through a wire: every
    AR and R handshake in the same cycle with the same payload."""
    knobs = dict(requests=300, preset="u280", trace=True)
    a = BENCH.run(MAIN_BUILD, "CacheDisabledTest", seed, name="cache_disabled[cache]", **knobs)
    b = BENCH.run(NO_CACHE_BUILD, "CacheDisabledTest", seed, name="cache_disabled[no_cache]", **knobs)
    ta = json.loads((a.test_dir / "trace.json").read_text())
    tb = json.loads((b.test_dir / "trace.json").read_text())
    assert len(ta) > 600, f"trace too short to mean anything: {len(ta)} events"
    first = next((i for i, (x, y) in enumerate(zip(ta, tb)) if x != y), None)
    assert first is None and len(ta) == len(tb), (
        f"disabled cache differs from no cache at event {first}: {ta[first] if first is not None else ''} "
        f"vs {tb[first] if first is not None else ''} ({len(ta)} vs {len(tb)} events)")


# Each define breaks the cache in one way; the scoreboard must notice.
CACHE_BUGS = [("ROW_CACHE_BUG_STALE_FLUSH", "CacheFlushTest"),
              ("ROW_CACHE_BUG_WRONG_WAY", "CacheRandomTest"),
              ("ROW_CACHE_BUG_ADMIT_TIES", "CacheZipfTest")]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug,testcase", CACHE_BUGS, ids=[b for b, _ in CACHE_BUGS])
def test_cache_injected_bug_is_caught(bug, testcase, seed):
    BENCH.run(MAIN_BUILD, testcase, seed, defines={bug: 1}, requests=300,
              expect_fail=True, expect_in_log="MISMATCH")
