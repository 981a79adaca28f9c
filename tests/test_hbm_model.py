"""Self-tests of the SV HBM/DDR memory model (tb/hdl/hbm_mem_model.sv, tb/hbm/).

One 32-channel 256-bit build serves most tests; small builds check other
widths. The cocotb tests live in tb/hbm/tb_hbm_{data,timing,faults}.py.
"""
from __future__ import annotations

import pytest

from tb.hbm.dut import BENCH, HbmHarnessBuild

MAIN = HbmHarnessBuild()
MAIN_TESTS = ["test_data", "test_data_all_channels", "test_ideal_timing", "test_ideal_bandwidth_exact",
              "test_u280_rows_refresh", "test_out_of_order", "test_faults", "test_phantom_beats", "test_protocol_rules",
              "HbmAgentTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", MAIN_TESTS)
def test_hbm_model(testcase, seed):
    BENCH.run(MAIN, testcase, seed)


@pytest.mark.rtl
def test_hbm_violation_fails_the_test(seed):
    """A master that breaks a rule must fail the test, and say where and what."""
    result = BENCH.run(MAIN, "test_violation_fails_test", seed, expect_fail=True,
                       expect_in_log="AXI protocol violation CROSS_4K on memory channel 0 (AR) at cycle")
    assert result.failed == 1


@pytest.mark.rtl
@pytest.mark.mutant
def test_hbm_beat_check_sees_a_reordered_burst(seed):
    """A model that swaps beats 0 and 1 of every burst keeps the XOR of all beats the
    same; the per-beat, in-order check must fail."""
    BENCH.run(HbmHarnessBuild(num_ch=8), "test_data_all_channels", seed, defines={"HBM_BUG_BEAT_ORDER": 1},
              soak_bursts=60, expect_fail=True, expect_in_log="beats differ from models/tables.py")


WIDTHS = [(2, 64, 4), (4, 512, 8)]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["test_data", "test_ideal_timing", "test_protocol_rules"])
@pytest.mark.parametrize("num_ch,data_w,id_w", WIDTHS, ids=[f"c{c}w{w}" for c, w, _ in WIDTHS])
def test_hbm_widths(num_ch, data_w, id_w, testcase, seed):
    BENCH.run(HbmHarnessBuild(num_ch=num_ch, data_w=data_w, id_w=id_w), testcase, seed)


@pytest.mark.rtl
@pytest.mark.slow
def test_hbm_soak_all_channels(seed):
    """Long run of every channel with generators, backpressure and u280 timing."""
    BENCH.run(MAIN, "test_data_all_channels", seed, soak_bursts=20000)
