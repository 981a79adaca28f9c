"""Runs the pyuvm bench of the streaming top-k unit (tb/topk).

Two builds: a small one (K_MAX = 8, N_MAX = 48, 8-bit ids, 6-bit K) where
every corner is cheap to reach, and the accelerator's size (K_MAX = 256,
N_MAX = 4096) for the K_MAX, N_MAX and latency cases.
"""
from __future__ import annotations

import json

import pytest

from sim.runner import Dut, run_test
from sim.toolchain import RTL_DIR

SMALL = {"K_MAX": 8, "N_MAX": 48, "SCORE_W": 32, "ID_W": 8, "K_W": 6}
FULL = {"K_MAX": 256, "N_MAX": 4096, "SCORE_W": 32, "ID_W": 16, "K_W": 16}


def topk_dut(params: dict, defines: dict | None = None) -> Dut:
    tag = f"k{params['K_MAX']}_n{params['N_MAX']}" + "".join(f"_{d}" for d in (defines or {}))
    return Dut(name=f"topk_unit_{tag}", toplevel="topk_unit",
               sources=(RTL_DIR / "topk" / "topk_unit.sv",), parameters=params,
               defines=defines or {}, ports_only=True)


SMALL_TESTS = ["TopkRandomTest", "TopkBackToBackTest", "TopkBackpressureTest", "TopkAllEqualTest",
               "TopkSortedTest", "TopkReverseSortedTest", "TopkK1Test", "TopkKEqualsNTest",
               "TopkKMaxTest", "TopkNMaxTest", "TopkErrorTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", SMALL_TESTS)
def test_topk_small(testcase, seed):
    run_test(topk_dut(SMALL), "tb.topk.tb_topk", testcase=testcase, seed=seed)


# the error test streams N_MAX + 1..3 candidates four times over: 30 s
FULL_TESTS = ["TopkKMaxTest", "TopkNMaxTest", pytest.param("TopkErrorTest", marks=pytest.mark.slow)]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", FULL_TESTS)
def test_topk_full(testcase, seed):
    run_test(topk_dut(FULL), "tb.topk.tb_topk", testcase=testcase, seed=seed)


@pytest.mark.rtl
def test_topk_latency(seed):
    """N = 1024 candidates, K = 64 and 256, on the full build: exactly N + K cycles each."""
    result = run_test(topk_dut(FULL), "tb.topk.tb_topk", testcase="TopkLatencyTest", seed=seed)
    rows = json.loads((result.test_dir / "topk_latency.json").read_text())
    assert sorted(r["k"] for r in rows) == [64, 256]


# Each define breaks the unit in one way; the bench must notice every one.
INJECTED_BUGS = ["TOPK_BUG_TIE_REVERSED", "TOPK_BUG_K_OFF_BY_ONE", "TOPK_BUG_K_OVER_N_BOUND"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", INJECTED_BUGS)
def test_topk_injected_bug_is_caught(bug, seed):
    result = run_test(topk_dut(SMALL, {bug: 1}), "tb.topk.tb_topk", testcase="TopkAllTest", seed=seed,
                      expect_fail=True, expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1


@pytest.mark.rtl
@pytest.mark.mutant
def test_topk_assertion_fires(seed):
    """An answer that moves while m_ready is low must trip the unit's own SVA."""
    run_test(topk_dut(SMALL, {"TOPK_BUG_STALL_SHIFT": 1}), "tb.topk.tb_topk",
             testcase="TopkBackpressureTest", seed=seed, expect_fail=True,
             expect_in_log="topk_unit: result changed before m_ready", coverage=False)
