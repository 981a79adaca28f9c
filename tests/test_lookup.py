"""Runs the pyuvm bench of the lookup subsystem (tb/lookup) against the HBM model."""
from __future__ import annotations

import pytest

from models.config import load_config
from tb.lookup.dut import (BANK_FULL_BUILD, BENCH, CACHE_BUILD, SMALL_BUILD, TINY_BUILD, WIDE_BUILD,
                           WIDE_CONFIG)
from tb.lookup.layout import LookupLayout

TESTS = ["LookupUniformTest", "LookupZipfTest", "LookupEdgeTest", "LookupBackpressureTest",
         "LookupBadIndexTest", "LookupAxiErrorTest", "LookupStuckChannelTest", "LookupBadConfigTest", "LookupCapacityTest",
         "LookupRandomConfigTest", "LookupSerialTest", "LookupUnexpectedRidTest", "LookupPaddedStrideTest",
         "LookupArAfterValidTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", TESTS)
def test_lookup_tiny(testcase, seed):
    BENCH.run(TINY_BUILD, testcase, seed, queries=150)


# u280 HBM timing on the tiny build: reads overtake each other across IDs
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupUniformTest", "LookupBackpressureTest"])
def test_lookup_tiny_u280(testcase, seed):
    BENCH.run(TINY_BUILD, testcase, seed, preset="u280", queries=150)


# hot-row caches in front of the 4 channels (contracts s.11), enabled: Zipf traffic with
# every cache counter exact under both policies; tables reloaded at the same addresses
# between two streams (LookupCacheReloadTest: a commit must flush, else stale rows come
# back); random models committed one after another;
# SLVERR fills (error lines, s.11.5); bad indices (no read, so never a cache access); backpressure and u280 timing (hits pass misses)
@pytest.mark.rtl
@pytest.mark.parametrize("policy", ["lru", "freq"])
@pytest.mark.parametrize("testcase", ["LookupCacheTest", "LookupCacheReloadTest", "LookupRandomConfigTest",
                                      "LookupAxiErrorTest", "LookupBadIndexTest"])
def test_lookup_cache(testcase, policy, seed):
    BENCH.run(CACHE_BUILD, testcase, seed, queries=200, cache_policy=policy)


@pytest.mark.rtl
def test_lookup_cache_u280(seed):
    BENCH.run(CACHE_BUILD, "LookupCacheTest", seed, preset="u280", queries=200, cache_policy="freq")


# bank 0 exactly full: edge queries read the last word and a table one row longer
# must be rejected (CFG_BAD_EXTENT)
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupEdgeTest", "LookupBadConfigTest"])
def test_lookup_bank_full(testcase, seed):
    layout = LookupLayout(load_config("tiny"), BANK_FULL_BUILD)
    last = max(d.base + d.rows * d.stride for d in layout.descs if d.onchip and d.channel == 0)
    assert last == BANK_FULL_BUILD.bank_words * BANK_FULL_BUILD.word_bytes, "bank 0 is no longer exactly full"
    BENCH.run(BANK_FULL_BUILD, testcase, seed, queries=100)


# several tables per channel (4 on the one HBM channel), rows of 2..64 elements
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupUniformTest", "LookupBackpressureTest", "LookupBadIndexTest",
                                      "LookupAxiErrorTest", "LookupRandomConfigTest", "LookupSerialTest"])
def test_lookup_wide_rows(testcase, seed):
    BENCH.run(WIDE_BUILD, testcase, seed, config=WIDE_CONFIG, queries=120)


# every read ID of channel 0 busy at once: four tables on it, a 600-cycle memory, the
# query ring full (QDEPTH 16 x 4 lookups > 2^ID_W = 32 IDs); results and counters exact
@pytest.mark.rtl
def test_lookup_id_pool_saturated(seed):
    BENCH.run(WIDE_BUILD, "LookupIdSaturationTest", seed, config=WIDE_CONFIG, queries=120, latency=600,
              in_idle=0.0, out_stall=0.0)


# Cartesian products: category x city (features not adjacent), brand x user
PRODUCT_PAIRS = [(2, 4), (3, 0)]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupUniformTest", "LookupEdgeTest", "LookupBadIndexTest",
                                      "LookupBadIndexLagTest"])
def test_lookup_products(testcase, seed):
    BENCH.run(TINY_BUILD, testcase, seed, pairs=PRODUCT_PAIRS, queries=150)


# full-size microrec_small shapes (42 tables, 0.7 GiB, procedural rows) on u280 timing
@pytest.mark.rtl
@pytest.mark.fullsize
@pytest.mark.parametrize("testcase", ["LookupZipfTest"])
def test_lookup_microrec_small(testcase, seed):
    BENCH.run(SMALL_BUILD, testcase, seed, config="microrec_small", preset="u280", queries=300, out_stall=0.2)


# Batched mode (knob batch, tb/lookup/batch.py): the harness's SV query source and feature
# sink drive the streams from a file of queries per batch, with the same input idles and
# output stalls as the pyuvm agents; the scoreboard checks every logged vector in bulk and
# the end-of-test counter checks are the same. Tests that need the per-transaction agents
# (LookupCapacityTest holds the output itself) refuse the knob.
BATCH_TESTS = [t for t in TESTS if t != "LookupCapacityTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", BATCH_TESTS)
def test_lookup_batched(testcase, seed):
    BENCH.run(TINY_BUILD, testcase, seed, queries=150, batch=True)


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupUniformTest", "LookupBackpressureTest"])
def test_lookup_batched_u280(testcase, seed):
    BENCH.run(TINY_BUILD, testcase, seed, preset="u280", queries=1500, batch=True)


@pytest.mark.rtl
def test_lookup_batched_refused_where_unsupported(seed):
    BENCH.run(TINY_BUILD, "LookupCapacityTest", seed, queries=40, batch=True, expect_fail=True,
              expect_in_log="batch: LookupCapacityTest needs the per-transaction agents")


# Each define breaks the lookup path in one way; the scoreboard must notice.
LOOKUP_BUGS = ["LOOKUP_BUG_ADDR", "LOOKUP_BUG_DROP_ROW"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", LOOKUP_BUGS)
def test_lookup_injected_bug_is_caught(bug, seed):
    BENCH.run(TINY_BUILD, "LookupUniformTest", seed, defines={bug: 1}, queries=40,
              expect_fail=True, expect_in_log="MISMATCH")


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", LOOKUP_BUGS)
def test_lookup_batched_check_catches_injected_bug(bug, seed):
    """The batched check must go red too, naming the query, table, element, expected and got."""
    BENCH.run(TINY_BUILD, "LookupUniformTest", seed, defines={bug: 1}, queries=40, batch=True,
              expect_fail=True, expect_in_log=["MISMATCH query #", " element ", ": expected ", " got "])


@pytest.mark.rtl
@pytest.mark.mutant
def test_lookup_unexpected_rid_detector_is_checked(seed):
    """The unexpected-RID detector switched off: the test that makes the memory send beats
    with an ID not in flight must fail on st_unexpected_r."""
    BENCH.run(TINY_BUILD, "LookupUnexpectedRidTest", seed, defines={"LOOKUP_BUG_UNEXPECTED_IGNORED": 1},
              queries=40, expect_fail=True, expect_in_log="MISMATCH st_unexpected_r: expected 1")


# Bugs the exact counter checks and the port monitor see (results stay exact, or are
# wrong in a way the monitor names first): define, build, test, message.
LOOKUP_CHECK_BUGS = {
    "LOOKUP_BUG_PERF_TIER": ("tiny", "LookupUniformTest", "MISMATCH counter lookups_mem"),
    # a commit that does not flush the caches: rows of the previous model come back
    "LOOKUP_BUG_CACHE_COMMIT_KEEPS": ("cache", "LookupCacheReloadTest", "MISMATCH query"),
    "LOOKUP_BUG_BURST_LEN": ("wide", "LookupUniformTest", "its rows take"),
}


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", sorted(LOOKUP_CHECK_BUGS))
def test_lookup_check_catches_injected_bug(bug, seed):
    build, testcase, message = LOOKUP_CHECK_BUGS[bug]
    kw = dict(config=WIDE_CONFIG) if build == "wide" else {}
    builds = {"wide": WIDE_BUILD, "cache": CACHE_BUILD, "tiny": TINY_BUILD}
    BENCH.run(builds[build], testcase, seed, defines={bug: 1}, queries=40,
              expect_fail=True, expect_in_log=message, **kw)


@pytest.mark.rtl
@pytest.mark.mutant
def test_lookup_hang_is_reported(seed):
    """A stuck channel with the RTL watchdog off (timeout 0) hangs the DUT: the bench
    watchdog must fail the test within its 20000-cycle limit and name the stuck reads."""
    BENCH.run(TINY_BUILD, "LookupStuckChannelTest", seed, queries=40, timeout=0, expect_fail=True,
              expect_in_log=["lookup watchdog: no progress for 20000 cycles", "reads outstanding"])


@pytest.mark.rtl
@pytest.mark.mutant
def test_lookup_assertion_fires(seed):
    """An AR payload that moves before ARREADY must trip the engine's SVA (not just the memory model)."""
    BENCH.run(TINY_BUILD, "LookupBackpressureTest", seed, defines={"LOOKUP_BUG_AR_UNSTABLE": 1}, queries=40,
              expect_fail=True, expect_in_log="AR changed or dropped before ARREADY")
