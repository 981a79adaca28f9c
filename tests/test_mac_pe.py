"""Runs the pyuvm bench of the MAC processing element (tb/mac_pe)."""
from __future__ import annotations

import pytest

from sim.runner import Dut, run_test
from sim.toolchain import RTL_DIR

LANE_COUNTS = [1, 4]
TESTS = ["MacRandomTest", "MacBackToBackTest", "MacExtremeTest", "MacRoundingTest", "MacReluTest",
         "MacModelTest"]


def mac_pe_dut(lanes: int, defines: dict | None = None) -> Dut:
    return Dut(
        name=f"mac_pe_l{lanes}" + "".join(f"_{d}" for d in (defines or {})),
        toplevel="mac_pe",
        sources=(RTL_DIR / "mlp" / "mac_pe.sv",),
        parameters={"LANES": lanes, "ACC_W": 48},
        defines=defines or {},
    )


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", TESTS)
@pytest.mark.parametrize("lanes", LANE_COUNTS, ids=[f"lanes{n}" for n in LANE_COUNTS])
def test_mac_pe(lanes, testcase, seed):
    run_test(mac_pe_dut(lanes), "tb.mac_pe.tb_mac_pe", testcase=testcase, seed=seed,
             extra_env={"MAC_PE_LANES": str(lanes)})


# Each define breaks the PE in one way; the bench must notice every one.
INJECTED_BUGS = ["MAC_PE_BUG_ROUND_TRUNC", "MAC_PE_BUG_SAT_BOUND", "MAC_PE_BUG_ACC_DROP_FIRST"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", INJECTED_BUGS)
def test_mac_pe_injected_bug_is_caught(bug, seed):
    result = run_test(mac_pe_dut(4, {bug: 1}), "tb.mac_pe.tb_mac_pe", testcase="MacAllTest",
                      seed=seed, extra_env={"MAC_PE_LANES": "4", "MAC_PE_ITEMS": "60"},
                      expect_fail=True, expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1


@pytest.mark.rtl
@pytest.mark.mutant
def test_runner_fails_a_run_with_zero_tests(seed):
    """The safety net of sim/runner.py: a run that selects no cocotb test (a typo in a
    test name, an import error) is a failure, although the simulator exits cleanly."""
    from sim.runner import SimFailure
    with pytest.raises(SimFailure, match="no cocotb test ran"):
        run_test(mac_pe_dut(1), "tb.mac_pe.tb_mac_pe", testcase="NoSuchTest", seed=seed,
                 extra_env={"MAC_PE_LANES": "1"})
