"""Runs the pyuvm bench of the DLRM interaction unit (tb/interaction).

Builds: a small one (n <= 5, d <= 6, 3 products a cycle, 4-lane beats, a
5-deep output FIFO) where every corner is cheap, the same with a 1-deep
FIFO for backpressure, and dlrm_kaggle's size (n = 26, d = 16, 4 products a
cycle, 16-lane beats) for its cycle figure.
"""
from __future__ import annotations

import json

import pytest

from tb.interaction.dut import BENCH, KAGGLE_BUILD, SMALL_BUILD, TIGHT_BUILD

SMALL_TESTS = ["InterRandomTest", "InterEdgeTest", "InterConcatTest", "InterCycleTest", "InterCfgErrorTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", SMALL_TESTS)
def test_dot_interaction_small(testcase, seed):
    BENCH.run(SMALL_BUILD, testcase, seed)


@pytest.mark.rtl
def test_dot_interaction_backpressure(seed):
    """The output mostly stalled and the input mostly idle (knobs through the bench spec),
    on the small build and on the 1-deep output FIFO."""
    BENCH.run(SMALL_BUILD, "InterRandomTest", seed, in_idle_prob=0.5, out_stall_prob=0.8, queries=24)
    BENCH.run(TIGHT_BUILD, "InterAllTest", seed, in_idle_prob=0.1, out_stall_prob=0.5, queries=12)


@pytest.mark.rtl
def test_dot_interaction_kaggle(seed):
    """dlrm_kaggle's shape (n = 26, d = 16): bit-exact, and its issue period per the contract."""
    result = BENCH.run(KAGGLE_BUILD, ["InterCycleTest", "InterEdgeTest"], seed, queries=10)
    rows = json.loads((result.test_dir / "interaction_cycles.json").read_text())
    kaggle = [r for r in rows if "n=26, d=16" in r["cfg"]]
    assert kaggle and all(r["period"] == 1 + 1 + 351 * 4 for r in kaggle)


# Each define breaks the unit in one way; the bench must notice.
INJECTED_BUGS = ["DOT_BUG_PAIR_ORDER", "DOT_BUG_ROUND_TRUNC", "MAC_PE_BUG_ROUND_TRUNC", "MAC_PE_BUG_SAT_BOUND"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", INJECTED_BUGS)
def test_dot_interaction_injected_bug_is_caught(bug, seed):
    result = BENCH.run(SMALL_BUILD, "InterAllTest", seed, defines={bug: 1}, queries=12,
                       expect_fail=True, expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1
