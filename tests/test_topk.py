"""Runs the pyuvm bench of the streaming top-k unit (tb/topk).

Two builds: a small one (K_MAX = 8, N_MAX = 48, 8-bit ids, 6-bit K) where
every corner is cheap to reach, and the accelerator's size (K_MAX = 256,
N_MAX = 4096) for the K_MAX, N_MAX and latency cases.
"""
from __future__ import annotations

import json

import pytest

from tb.topk.dut import BENCH
from tb.topk.dut import FULL_BUILD as FULL
from tb.topk.dut import SMALL_BUILD as SMALL


SMALL_TESTS = ["TopkRandomTest", "TopkBackToBackTest", "TopkBackpressureTest", "TopkAllEqualTest",
               "TopkSortedTest", "TopkReverseSortedTest", "TopkK1Test", "TopkKEqualsNTest",
               "TopkKMaxTest", "TopkNMaxTest", "TopkErrorTest", "TopkKChangesTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", SMALL_TESTS)
def test_topk_small(testcase, seed):
    BENCH.run(SMALL, testcase, seed)


# the error test streams N_MAX + 1..3 candidates four times over: 30 s
FULL_TESTS = ["TopkKMaxTest", "TopkNMaxTest", pytest.param("TopkErrorTest", marks=pytest.mark.slow)]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", FULL_TESTS)
def test_topk_full(testcase, seed):
    BENCH.run(FULL, testcase, seed)


@pytest.mark.rtl
def test_topk_latency(seed):
    """N = 1024 candidates, K = 64 and 256, on the full build: exactly N + K cycles each."""
    result = BENCH.run(FULL, "TopkLatencyTest", seed)
    rows = json.loads((result.test_dir / "topk_latency.json").read_text())
    assert sorted(r["k"] for r in rows) == [64, 256]


# Each define breaks the unit in one way; the bench must notice every one.
INJECTED_BUGS = ["TOPK_BUG_TIE_REVERSED", "TOPK_BUG_K_OFF_BY_ONE", "TOPK_BUG_K_OVER_N_BOUND"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", INJECTED_BUGS)
def test_topk_injected_bug_is_caught(bug, seed):
    result = BENCH.run(SMALL, "TopkAllTest", seed, defines={bug: 1}, expect_fail=True, expect_in_log="MISMATCH",
                       coverage=False)
    assert result.failed >= 1


@pytest.mark.rtl
@pytest.mark.mutant
def test_topk_assertion_fires(seed):
    """An answer that moves while m_ready is low must trip the unit's own SVA."""
    BENCH.run(SMALL, "TopkBackpressureTest", seed, defines={"TOPK_BUG_STALL_SHIFT": 1}, expect_fail=True,
              expect_in_log="topk_unit: result changed before m_ready", coverage=False)
