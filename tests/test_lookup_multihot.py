"""Multi-hot queries through the lookup (contracts s.9.9): emb_lookup_top built with its
multi-hot front end (MH = 1), dlrm_tiny's packets checked against models.dlrm
(tb/lookup/tb_lookup_mh.py), and the one-hot tests on the same build with cfg_multihot = 0."""
from __future__ import annotations

import pytest

from tb.lookup.dut import BENCH, TINY_MH_BUILD

MH_TESTS = ["LookupMultihotTest", "LookupMultihotEdgeTest", "LookupMultihotSaturationTest",
            "LookupMultihotBackpressureTest", "LookupMultihotAxiErrorTest", "LookupMultihotBadConfigTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", MH_TESTS)
def test_lookup_multihot(testcase, seed):
    BENCH.run(TINY_MH_BUILD, testcase, seed, config="dlrm_tiny", queries=120)


# u280 HBM timing: reads of one bag overtake each other across IDs
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupMultihotTest", "LookupMultihotBackpressureTest"])
def test_lookup_multihot_u280(testcase, seed):
    BENCH.run(TINY_MH_BUILD, testcase, seed, config="dlrm_tiny", preset="u280", queries=120)


# the one-hot tests, unchanged, on the multi-hot build (cfg_multihot = 0: bag_accum is a wire)
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupUniformTest", "LookupBadIndexTest", "LookupAxiErrorTest",
                                      "LookupBackpressureTest", "LookupCapacityTest", "LookupBadConfigTest"])
def test_lookup_multihot_build_one_hot(testcase, seed):
    BENCH.run(TINY_MH_BUILD, testcase, seed, queries=150)


# bag_accum ignores the last sub-query of every query: the pooled vectors must go red
@pytest.mark.rtl
@pytest.mark.mutant
def test_lookup_multihot_injected_bug_is_caught(seed):
    BENCH.run(TINY_MH_BUILD, "LookupMultihotTest", seed, config="dlrm_tiny", queries=40,
              defines={"LOOKUP_BUG_BAG_DROP_LAST": 1}, expect_fail=True,
              expect_in_log=["MISMATCH query #", " element ", ": expected ", " got "])
