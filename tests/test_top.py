"""Runs the end-to-end pyuvm bench of the accelerator top (tb/top)."""
from __future__ import annotations

import dataclasses

import pytest

from tb.host.microrec_host import TopBuild
from tb.top.dut import BENCH, DEEP_CONFIG, DLRM_MH_TOP, DLRM_TOP, SAT_CONFIG, SMALL_TOP, TINY_TOP, WIDE_CONFIG


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["TopRandomTest", "TopZipfTest", "TopBadIndexTest", "TopAxiErrorTest",
                                      "TopIllegalCsrTest", "TopStuckChannelTest", "TopDmaErrorTest",
                                      "TopResetMidTrafficTest", "TopBackpressureTest", "TopUnexpectedRidTest",
                                      "TopCountersTest", "TopDmaRefusalTest", "TopQuantTest",
                                      "TopQuantCfgErrorTest", "TopSoftResetDrainTest"])
def test_top_tiny(testcase, seed):
    BENCH.run(TINY_TOP, testcase, seed, queries=150)


@pytest.mark.rtl
def test_top_reconfigure_without_rebuild(seed):
    BENCH.run(TINY_TOP, "TopReconfigTest", seed, configs=["tiny", WIDE_CONFIG, SAT_CONFIG, DEEP_CONFIG, "tiny"],
              queries=80)


@pytest.mark.rtl
@pytest.mark.fullsize
def test_top_microrec_small_1000_queries(seed):
    BENCH.run(SMALL_TOP, "TopThroughputTest", seed, configs=["microrec_small"], queries=1000, preset="u280")


# Injected bugs in the lookup address and the MLP schedule: the end-to-end
# scoreboard must see both through the logits.
TOP_BUGS = ["LOOKUP_BUG_ADDR", "MLP_ENGINE_BUG_LAST_NEURON"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", TOP_BUGS)
def test_top_injected_bug_is_caught(bug, seed):
    BENCH.run(TINY_TOP, "TopRandomTest", seed, defines={bug: 1}, queries=40,
              expect_fail=True, expect_in_log="MISMATCH")


# Bugs only the counter, error-record, status and DMA-refusal checks can see (results stay
# exact): each define, the test that must fail, and the message it must fail with.
CHECK_BUGS = {
    "TOP_BUG_OUT_STALL": ("TopCountersTest", "MISMATCH counter out_stall"),
    "LOOKUP_BUG_PERF_TIER": ("TopRandomTest", "MISMATCH counter lookups_mem"),
    "MICROREC_CSR_BUG_ERR_LAST": ("TopBadIndexTest", "MISMATCH ERR/ERR_QID"),
    "TOP_BUG_DMA_END": ("TopDmaRefusalTest", "MISMATCH DMA bank image ending exactly at 2^ADDR_W"),
    "LOOKUP_BUG_UNEXPECTED_IGNORED": ("TopUnexpectedRidTest", "MISMATCH counter unexpected_r: expected 1"),
    # the per-layer shifts of an int8 / mixed model never reach the engine
    "TOP_BUG_LSHIFT_IGNORED": ("TopQuantTest", "MISMATCH"),
}


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", sorted(CHECK_BUGS))
def test_top_check_catches_injected_bug(bug, seed):
    testcase, message = CHECK_BUGS[bug]
    BENCH.run(TINY_TOP, testcase, seed, defines={bug: 1}, queries=40, expect_fail=True, expect_in_log=message)


# ---- DLRM back half (contracts s.7.2) on a DLRM = 1 build of TINY_TOP ------------------------
DLRM_MODELS = ["dlrm_tiny_dot", "dlrm_tiny_concat"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["TopDlrmTest", "TopBadIndexTest", "TopAxiErrorTest", "TopBackpressureTest",
                                      "TopDlrmIllegalTest"])
def test_top_dlrm(testcase, seed):
    configs = DLRM_MODELS if testcase == "TopDlrmTest" else DLRM_MODELS[:1]
    BENCH.run(DLRM_TOP, testcase, seed, configs=configs, queries=120)


@pytest.mark.rtl
def test_top_dlrm_rate(seed):
    """No input idle, no output stall: the cycles between results, logged per model."""
    BENCH.run(DLRM_TOP, "TopDlrmTest", seed, configs=DLRM_MODELS, queries=200, in_idle=0.0, out_stall=0.0)


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["TopRandomTest", "TopCountersTest", "TopDlrmTest"])
def test_top_dlrm_build_runs_microrec(testcase, seed):
    """A DLRM = 1 build with DLRM_CTRL.enable 0 is the MicroRec accelerator; TopDlrmTest then
    switches to dlrm_tiny and back without a rebuild."""
    configs = ["tiny", "dlrm_tiny_dot", "tiny"] if testcase == "TopDlrmTest" else ["tiny"]
    BENCH.run(DLRM_TOP, testcase, seed, configs=configs, queries=80)


@pytest.mark.rtl
def test_top_dlrm_enable_on_plain_build(seed):
    """DLRM_CTRL.enable on a DLRM = 0 build: CFG_ERR 14 (reason 1), queries ERR_BAD_CONFIG."""
    BENCH.run(TINY_TOP, "TopDlrmIllegalTest", seed, queries=40)


# x joined with the previous query's pooled vector; the interaction's pairs in the wrong
# order: the end-to-end scoreboard must see both through the logits
DLRM_BUGS = ["TOP_BUG_DLRM_JOIN", "DOT_BUG_PAIR_ORDER"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", DLRM_BUGS)
def test_top_dlrm_injected_bug_is_caught(bug, seed):
    BENCH.run(DLRM_TOP, "TopDlrmTest", seed, defines={bug: 1}, configs=DLRM_MODELS[:1], queries=40,
              expect_fail=True, expect_in_log="MISMATCH")


# ---- multi-hot DLRM end to end (contracts s.9.7-9.9 + s.7.2) on an MH + DLRM build -------------
@pytest.mark.rtl
@pytest.mark.parametrize("lengths", ["fixed", "lognormal"])
def test_top_dlrm_multihot(lengths, seed):
    """dlrm_tiny as packets: bags through the lookup's front end, pooled, then the bottom MLP,
    the dot interaction and the top MLP; logits and counters exact."""
    BENCH.run(DLRM_MH_TOP, "TopDlrmMultihotTest", seed, configs=["dlrm_tiny"], queries=100, bag_length=6,
              bag_lengths=lengths)


@pytest.mark.rtl
@pytest.mark.mutant
def test_top_dlrm_multihot_injected_bug_is_caught(seed):
    """The last row of every bag dropped by the pooling: the end-to-end logits must show it."""
    BENCH.run(DLRM_MH_TOP, "TopDlrmMultihotTest", seed, defines={"LOOKUP_BUG_BAG_DROP_LAST": 1},
              configs=["dlrm_tiny"], queries=30, bag_length=6, expect_fail=True, expect_in_log="MISMATCH")


# ---- hot-row caches (contracts s.11.11) -----------------------------------------------------
# TINY_TOP with a cache of 16 lines, 4 ways in front of each of its 4 channels (small enough
# for tiny's hot rows to evict and, under freq, to bypass)
CACHE_TOP = TopBuild(TINY_TOP.lookup, TINY_TOP.mlp, cache=1, cache_lines=16, cache_ways=4)
# the multi-hot DLRM build with the same caches
DLRM_MH_CACHE_TOP = dataclasses.replace(DLRM_MH_TOP, cache=1, cache_lines=16, cache_ways=4)


@pytest.mark.rtl
@pytest.mark.parametrize("policy", ["lru", "freq"])
def test_top_cache(policy, seed):
    """Zipf traffic through the caches: flush, policy switch, disable; logits and the
    PERF_CACHE_* counters exact (models/row_cache.py)."""
    BENCH.run(CACHE_TOP, "TopCacheTest", seed, queries=160, cache_policy=policy)


@pytest.mark.rtl
def test_top_cache_reload(seed):
    """The same stream before and after a DMA reload of new table contents (no commit):
    no stale row, the counters show the flush."""
    BENCH.run(CACHE_TOP, "TopCacheReloadTest", seed, queries=60)


@pytest.mark.rtl
def test_top_cache_multihot(seed):
    """dlrm_tiny as packets (Zipf bags) through the caches of an MH + DLRM + CACHE build."""
    BENCH.run(DLRM_MH_CACHE_TOP, "TopCacheMultihotTest", seed, configs=["dlrm_tiny"], queries=60,
              bag_length=6, cache_policy="freq")


@pytest.mark.rtl
def test_top_cache_enable_on_plain_build(seed):
    """CACHE_CTRL.enable on a CACHE = 0 build: CFG_ERR 15, queries ERR_BAD_CONFIG."""
    BENCH.run(TINY_TOP, "TopCacheIllegalTest", seed, queries=40)


# a DMA that does not flush the caches: the reload test must see the stale rows
CACHE_BUGS = {"TOP_BUG_CACHE_DMA_NO_FLUSH": ("TopCacheReloadTest", "MISMATCH")}


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", sorted(CACHE_BUGS))
def test_top_cache_injected_bug_is_caught(bug, seed):
    testcase, message = CACHE_BUGS[bug]
    BENCH.run(CACHE_TOP, testcase, seed, defines={bug: 1}, queries=60, expect_fail=True, expect_in_log=message)


# ---- RecPipe on the top (contracts s.10.6): two resident models, the top-k after the MLP -------
from tb.top.dut import TOPK_TOP  # noqa: E402


@pytest.mark.rtl
def test_top_recpipe(seed):
    """tiny's ranker and derived filter side by side; two-stage requests through the top-k
    unit against models.recpipe.pipeline; illegal requests, bad indices, offsets past the
    memories, output stall."""
    BENCH.run(TOPK_TOP, "TopRecPipeTest", seed, queries=40)


# the filter stage reads the ranker's weights; the last candidate of each request never offered
RECPIPE_BUGS = ["TOP_BUG_MLP_WBASE_IGNORED", "TOP_BUG_TOPK_DROP_LAST"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", RECPIPE_BUGS)
def test_top_recpipe_injected_bug_is_caught(bug, seed):
    BENCH.run(TOPK_TOP, "TopRecPipeTest", seed, defines={bug: 1}, queries=40, expect_fail=True,
              expect_in_log="MISMATCH")


@pytest.mark.rtl
def test_top_recpipe_illegal(seed):
    """MLP_WBASE / MLP_BBASE past the memories (CFG_ERR 16) and TOPK_CTRL.enable on a TOPK = 0
    build (CFG_ERR 17): queries ERR_BAD_CONFIG, recovery without a commit."""
    BENCH.run(TINY_TOP, "TopRecPipeIllegalTest", seed, queries=40)


@pytest.mark.rtl
def test_top_recpipe_rate(seed):
    """TopRecPipeTest without input idle and output stall (except its 80% phase): the per-stage cycles and the
    model-switch bubble logged ([recpipe] lines) and in perf.json."""
    BENCH.run(TOPK_TOP, "TopRecPipeTest", seed, queries=40, in_idle=0.0, out_stall=0.0)
