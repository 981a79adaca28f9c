"""Self-tests of the SV HBM/DDR memory model (tb/hdl/hbm_mem_model.sv, tb/hbm/).

One 32-channel 256-bit build serves most tests; small builds check other
widths. The cocotb tests live in tb/hbm/tb_hbm.py.
"""
from __future__ import annotations

import pytest

from sim.runner import Dut, run_test
from sim.toolchain import TB_DIR
from tb.hbm.regs import HARNESS_SOURCES

MODULE = "tb.hbm.tb_hbm"


def hbm_dut(num_ch: int = 32, data_w: int = 256, id_w: int = 6) -> Dut:
    return Dut(
        name=f"hbm_tb_c{num_ch}_w{data_w}_i{id_w}",
        toplevel="hbm_tb_top",
        sources=HARNESS_SOURCES,
        parameters={"NUM_CH": num_ch, "DATA_W": data_w, "ID_W": id_w, "ADDR_W": 34},
        includes=(TB_DIR / "hdl",),
        ports_only=True,
    )


def env(num_ch: int, data_w: int, id_w: int = 6, **extra) -> dict:
    e = {"HBM_NUM_CH": str(num_ch), "HBM_DATA_W": str(data_w), "HBM_ID_W": str(id_w)}
    e.update({k: str(v) for k, v in extra.items()})
    return e


MAIN_TESTS = ["test_data", "test_data_all_channels", "test_ideal_timing", "test_ideal_bandwidth_exact",
              "test_u280_rows_refresh", "test_out_of_order", "test_faults", "test_protocol_rules",
              "HbmAgentTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", MAIN_TESTS)
def test_hbm_model(testcase, seed):
    run_test(hbm_dut(), MODULE, testcase=testcase, seed=seed, extra_env=env(32, 256))


@pytest.mark.rtl
def test_hbm_violation_fails_the_test(seed):
    """A master that breaks a rule must fail the test, and say where and what."""
    result = run_test(hbm_dut(), MODULE, testcase="test_violation_fails_test", seed=seed,
                      extra_env=env(32, 256), expect_fail=True,
                      expect_in_log="AXI protocol violation CROSS_4K on memory channel 0 (AR) at cycle")
    assert result.failed == 1


WIDTHS = [(2, 64, 4), (4, 512, 8)]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["test_data", "test_ideal_timing", "test_protocol_rules"])
@pytest.mark.parametrize("num_ch,data_w,id_w", WIDTHS, ids=[f"c{c}w{w}" for c, w, _ in WIDTHS])
def test_hbm_widths(num_ch, data_w, id_w, testcase, seed):
    run_test(hbm_dut(num_ch, data_w, id_w), MODULE, testcase=testcase, seed=seed,
             extra_env=env(num_ch, data_w, id_w))


@pytest.mark.rtl
@pytest.mark.slow
def test_hbm_soak_all_channels(seed):
    """Long run of every channel with generators, backpressure and u280 timing."""
    run_test(hbm_dut(), MODULE, testcase="test_data_all_channels", seed=seed,
             extra_env=env(32, 256, HBM_SOAK_BURSTS=20000))
