"""Runs the pyuvm bench of the MLP engine (tb/mlp) on its small P x U build."""
from __future__ import annotations

import pytest

from tb.mlp.dut import BENCH, TEST_BUILD, VEC_BUILD

TESTS = ["MlpRandomTest", "MlpBackpressureTest", "MlpOddShapeTest", "MlpExtremeTest",
         "MlpReluTest", "MlpReconfigTest", "MlpModelTest", "MlpCfgErrorTest", "MlpLayerCountersTest",
         "MlpInt8Test", "MlpInt8EdgeTest", "MlpSkipPatternTest", "MlpPrecisionSwitchTest",
         "MlpQuantCfgErrorTest", "MlpStreamRateTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", TESTS)
def test_mlp_engine(testcase, seed):
    BENCH.run(TEST_BUILD, testcase, seed)


@pytest.mark.rtl
def test_mlp_engine_microrec_small(seed):
    """microrec_small shapes and golden weights on the small build (52k bank writes)."""
    BENCH.run(TEST_BUILD, "MlpModelTest", seed, model="microrec_small", items=3)


@pytest.mark.rtl
def test_mlp_engine_dlrm_bottom(seed):
    """dlrm_tiny's bottom MLP on the vector-output build (VEC_OUT = 1): every output
    vector element bit-exact against models.dlrm.bottom_forward (contracts s.9.3)."""
    BENCH.run(VEC_BUILD, "MlpVecBottomTest", seed, items=6)


@pytest.mark.rtl
def test_mlp_engine_vec_out(seed):
    """The vector-output build (contracts s.6, s.9.3): cfg_err on a vector longer than the
    output FIFO, then dlrm_tiny's bottom, random bottom MLPs and last-layer sizes around
    P and VEC_LANES under random backpressure, element by element against the golden model."""
    BENCH.run(VEC_BUILD, "MlpVecTest", seed, items=4)


# Each define breaks the engine in one way; the bench must notice.
INJECTED_BUGS = ["MLP_ENGINE_BUG_PINGPONG", "MLP_ENGINE_BUG_LAST_NEURON", "MLP_ENGINE_BUG_SKIP_INDEX",
                 "MLP_ENGINE_BUG_INT8_PACK"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", INJECTED_BUGS)
def test_mlp_engine_injected_bug_is_caught(bug, seed):
    result = BENCH.run(TEST_BUILD, "MlpAllTest", seed, defines={bug: 1}, items=3,
                       expect_fail=True, expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1


# the vector-output build's own injected bug, caught by its bench
VEC_INJECTED_BUGS = ["MLP_ENGINE_BUG_VEC_NO_RELU"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", VEC_INJECTED_BUGS)
def test_mlp_engine_vec_injected_bug_is_caught(bug, seed):
    result = BENCH.run(VEC_BUILD, "MlpVecTest", seed, defines={bug: 1}, items=3,
                       expect_fail=True, expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1
