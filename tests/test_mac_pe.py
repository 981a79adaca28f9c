"""Runs the pyuvm bench of the MAC processing element (tb/mac_pe)."""
from __future__ import annotations

import pytest

from sim.runner import SimFailure
from tb.mac_pe.dut import BENCH, MacPeBuild

LANE_COUNTS = [1, 4]
TESTS = ["MacRandomTest", "MacBackToBackTest", "MacExtremeTest", "MacRoundingTest", "MacReluTest",
         "MacModelTest", "MacInt8Test"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", TESTS)
@pytest.mark.parametrize("lanes", LANE_COUNTS, ids=[f"lanes{n}" for n in LANE_COUNTS])
def test_mac_pe(lanes, testcase, seed):
    BENCH.run(MacPeBuild(lanes=lanes), testcase, seed)


# Each define breaks the PE in one way; the bench must notice every one.
INJECTED_BUGS = ["MAC_PE_BUG_ROUND_TRUNC", "MAC_PE_BUG_SAT_BOUND", "MAC_PE_BUG_ACC_DROP_FIRST",
                 "MAC_PE_BUG_INT8_UNSIGNED", "MAC_PE_BUG_SAT8_BOUND"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", INJECTED_BUGS)
def test_mac_pe_injected_bug_is_caught(bug, seed):
    result = BENCH.run(MacPeBuild(lanes=4), "MacAllTest", seed, defines={bug: 1}, items=60,
                       expect_fail=True, expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1


@pytest.mark.rtl
@pytest.mark.mutant
def test_runner_fails_a_run_with_zero_tests(seed):
    """The safety net of sim/runner.py: a run that selects no cocotb test (a typo in a
    test name, an import error) is a failure, although the simulator exits cleanly."""
    with pytest.raises(SimFailure, match="no cocotb test ran"):
        BENCH.run(MacPeBuild(lanes=1), "NoSuchTest", seed)


@pytest.mark.rtl
@pytest.mark.mutant
def test_misspelt_knob_is_an_error(seed):
    """A knob the bench does not have fails before anything is built, naming the key."""
    from tb.common.spec import SpecError
    with pytest.raises(SpecError, match="unknown key 'itemz'.*valid: items"):
        BENCH.run(MacPeBuild(lanes=1), "MacRandomTest", seed, itemz=3)
