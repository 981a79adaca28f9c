"""Multi-hot queries through the lookup (contracts s.9.9): emb_lookup_top built with its
multi-hot front end (MH = 1), dlrm_tiny's packets checked against models.dlrm
(tb/lookup/tb_lookup_mh.py), and the one-hot tests on the same build with cfg_multihot = 0."""
from __future__ import annotations

import pytest

from sim.toolchain import TB_DIR
from tb.lookup.dut import BENCH, TINY_MH_BUILD, TINY_MH_CACHE_BUILD
from tb.lookup.layout import LookupBuild

MH_MODULE = "tb.lookup.tb_lookup_mh"     # the multi-hot tests' cocotb module

MH_TESTS = ["LookupMultihotTest", "LookupMultihotEdgeTest", "LookupMultihotSaturationTest",
            "LookupMultihotBackpressureTest", "LookupMultihotAxiErrorTest", "LookupMultihotBadConfigTest",
            "LookupMultihotCommitTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", MH_TESTS)
def test_lookup_multihot(testcase, seed):
    BENCH.run(TINY_MH_BUILD, testcase, seed, config="dlrm_tiny", queries=120, module=MH_MODULE)


# u280 HBM timing: reads of one bag overtake each other across IDs
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupMultihotTest", "LookupMultihotBackpressureTest"])
def test_lookup_multihot_u280(testcase, seed):
    BENCH.run(TINY_MH_BUILD, testcase, seed, config="dlrm_tiny", preset="u280", queries=120, module=MH_MODULE)


# hot-row caches (contracts s.11.11) under multi-hot traffic, every cache counter predicted
# from the packets (tb/lookup/cache_check.py query_bags): Zipf bags; edge and malformed
# packets, among them bad indices and bags too long, which the ingress refuses, so none of
# their entries, good ones included, reaches a cache; SLVERR rows, which are read (and
# fill error lines) like any other entry of a query the ingress let through
@pytest.mark.rtl
@pytest.mark.parametrize("policy", ["lru", "freq"])
@pytest.mark.parametrize("testcase", ["LookupMultihotTest", "LookupMultihotEdgeTest", "LookupMultihotAxiErrorTest"])
def test_lookup_multihot_cache(testcase, policy, seed):
    BENCH.run(TINY_MH_CACHE_BUILD, testcase, seed, config="dlrm_tiny", queries=120, module=MH_MODULE,
              cache_policy=policy)


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
    BENCH.run(TINY_MH_BUILD, "LookupMultihotTest", seed, config="dlrm_tiny", queries=40, module=MH_MODULE,
              defines={"LOOKUP_BUG_BAG_DROP_LAST": 1}, expect_fail=True,
              expect_in_log=["MISMATCH query #", " element ", ": expected ", " got "])


# Throughput (reporting): dlrm_kaggle's 26 dim-16 tables, one per HBM channel (rows capped at
# 2^22), bags of 20: 20 beats per query on every channel, the memory bound 1/20 query/cycle.
# Measured (seed 1, 200 queries, steady rate from query 50 on): ideal QDEPTH 64: 0.0500 (100%);
# u280 QDEPTH 32: 0.0284 (56.8%), 64: 0.0415 (83.0%), 128: 0.0464 (92.7%). At most QDEPTH sub-queries are in flight,
# one read each per channel: the ring depth covers the HBM latency.
KAGGLE_CONFIG = str(TB_DIR / "lookup" / "configs" / "dlrm_kaggle_hbm26.json")


def kaggle_build(qdepth: int) -> LookupBuild:
    return LookupBuild(num_ch=26, num_banks=1, bank_words=64, qdepth=qdepth, p_max=32, list_max=4, t_max=32,
                       dim_max=16, feat_max=416, id_w=6, mh=1, pkt_w=32, l_max=64, dense_max=16)


@pytest.mark.rtl
@pytest.mark.fullsize
@pytest.mark.parametrize("preset,qdepth", [("ideal", 64), ("u280", 32), ("u280", 64), ("u280", 128)])
def test_lookup_multihot_rate(preset, qdepth, seed):
    BENCH.run(kaggle_build(qdepth), "LookupMultihotRateTest", seed, config=KAGGLE_CONFIG, preset=preset,
              queries=200, module=MH_MODULE)


# the multi-hot cache check can fail: freq admits on a tie of the sketch estimates (a counter
# bug, the answers stay exact), caught only by the cache counters against the model
@pytest.mark.rtl
@pytest.mark.mutant
def test_lookup_multihot_cache_injected_bug_is_caught(seed):
    BENCH.run(TINY_MH_CACHE_BUILD, "LookupMultihotTest", seed, config="dlrm_tiny", queries=120, module=MH_MODULE,
              cache_policy="freq", defines={"ROW_CACHE_BUG_ADMIT_TIES": 1}, expect_fail=True,
              expect_in_log=["MISMATCH cache counter"])
