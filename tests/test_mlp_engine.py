"""Runs the pyuvm bench of the MLP engine (tb/mlp) on a small P x U build.

One build (P=6, U=20: neither divides the microrec_small sizes) serves every
shape: tiny, random odd shapes and microrec_small (352-1024-512-256-1).
"""
from __future__ import annotations

import pytest

from sim.runner import Dut, run_test
from sim.toolchain import RTL_DIR
from tb.mlp.mlp_layout import EngineBuild

SOURCES = tuple(RTL_DIR / "mlp" / f for f in (
    "mac_pe.sv", "mlp_ram.sv", "mlp_fifo.sv", "mlp_perf_counters.sv", "mlp_layer_cfg.sv",
    "mlp_pe_array.sv", "mlp_engine.sv"))

TEST_BUILD = EngineBuild()  # P=6, U=20, MAX_DIM=1024, banks sized for microrec_small


def mlp_dut(build: EngineBuild = TEST_BUILD, defines: dict | None = None) -> Dut:
    tag = "".join(f"_{d}" for d in (defines or {}))
    return Dut(name=f"mlp_engine_p{build.P}_u{build.U}{tag}", toplevel="mlp_engine",
               sources=SOURCES, parameters=build.parameters(), defines=defines or {},
               ports_only=True)


TESTS = ["MlpRandomTest", "MlpBackpressureTest", "MlpOddShapeTest", "MlpExtremeTest",
         "MlpReluTest", "MlpReconfigTest", "MlpModelTest", "MlpCfgErrorTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", TESTS)
def test_mlp_engine(testcase, seed):
    run_test(mlp_dut(), "tb.mlp.tb_mlp_engine", testcase=testcase, seed=seed,
             extra_env=TEST_BUILD.env())


@pytest.mark.rtl
def test_mlp_engine_microrec_small(seed):
    """microrec_small shapes and golden weights on the small build (52k bank writes)."""
    run_test(mlp_dut(), "tb.mlp.tb_mlp_engine", testcase="MlpModelTest", seed=seed,
             extra_env={**TEST_BUILD.env(), "MLP_MODEL": "microrec_small", "MLP_ITEMS": "3"})


# Each define breaks the engine in one way; the bench must notice.
INJECTED_BUGS = ["MLP_ENGINE_BUG_PINGPONG", "MLP_ENGINE_BUG_LAST_NEURON"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", INJECTED_BUGS)
def test_mlp_engine_injected_bug_is_caught(bug, seed):
    result = run_test(mlp_dut(defines={bug: 1}), "tb.mlp.tb_mlp_engine", testcase="MlpAllTest",
                      seed=seed, extra_env={**TEST_BUILD.env(), "MLP_ITEMS": "3"},
                      expect_fail=True, expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1
