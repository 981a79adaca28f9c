"""Runs the pyuvm bench of the multi-hot query path (tb/dlrm_ingress): the
9.7 packet ingress and the 9.2 bag pooling, joined by a behavioural row fetch.

The W = 4 build runs every variant; W = 2 (the narrowest beat) and W = 3 (not
a power of two) run the all-kinds test. The wide ingress (query_packet_ingress_wide,
a beat's W entries per cycle) runs on the same bench with WIDE = 1: the same
records bit for bit, and its cycle rule (back to back, a packet costs exactly
its beats, HB + IB) asserted at W = 4 and on dlrm_kaggle-shaped packets at W = 32.
"""
from __future__ import annotations

import pytest

from tb.dlrm_ingress.dut import (BENCH, BUILD_W2, BUILD_W3, BUILD_W3_WIDE, BUILD_W4, BUILD_W4_WIDE, BUILD_W7,
                                 BUILD_W7_WIDE, BUILD_W32_WIDE)

TESTS = ["DlrmIngressRandomTest", "DlrmIngressCornerTest", "DlrmIngressErrorTest", "DlrmIngressSaturationTest",
         "DlrmIngressMeanTest", "DlrmIngressFullShapeTest", "DlrmIngressBackpressureTest", "DlrmIngressBackToBackTest",
         "DlrmIngressMultiBadTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", TESTS)
def test_dlrm_ingress(testcase, seed):
    BENCH.run(BUILD_W4, testcase, seed)


@pytest.mark.rtl
@pytest.mark.parametrize("build", [BUILD_W2, BUILD_W3], ids=["w2", "w3"])
def test_dlrm_ingress_widths(build, seed):
    BENCH.run(build, "DlrmIngressAllTest", seed)


@pytest.mark.rtl
@pytest.mark.parametrize("build", [BUILD_W7, BUILD_W7_WIDE], ids=["narrow", "wide"])
def test_dlrm_ingress_full_header_w7(build, seed):
    """T = T_MAX, D = D_MAX at W = 7: the largest header (8 words, HW_MAX) spills one word (dense
    features 2 and 3) into a second beat; both ingresses must size their header buffer for it."""
    BENCH.run(build, "DlrmIngressFullShapeTest", seed)


# Each define breaks one block in one way; the bench must notice every one.
INJECTED_BUGS = ["INGRESS_BUG_BAG_MAX_OFF_BY_ONE", "BAG_POOL_BUG_DROP_LAST_ROW", "BAG_POOL_BUG_ROUND_TRUNC"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", INJECTED_BUGS)
def test_dlrm_ingress_injected_bug_is_caught(bug, seed):
    result = BENCH.run(BUILD_W4, "DlrmIngressAllTest", seed, defines={bug: 1}, expect_fail=True,
                       expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1


def test_error_codes_have_one_source():
    """The codes of lookup_pkg::err_code_e (what the benches name) are the ones
    models/dlrm.py writes into its records (contracts s.9.6)."""
    from tb.dlrm_ingress.env import check_codes_agree

    check_codes_agree()


# ---- the wide ingress (rtl/lookup/query_packet_ingress_wide.sv, contracts s.9.9) ----------
WIDE_TESTS = ["DlrmIngressRandomTest", "DlrmIngressCornerTest", "DlrmIngressErrorTest", "DlrmIngressFullShapeTest",
              "DlrmIngressBackpressureTest", "DlrmIngressBackToBackTest", "DlrmIngressMultiBadTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", WIDE_TESTS)
def test_dlrm_ingress_wide(testcase, seed):
    """The same records, bit for bit, a beat's W entries per cycle; back to back every packet takes
    exactly its beats (asserted in DlrmIngressBackToBackTest)."""
    BENCH.run(BUILD_W4_WIDE, testcase, seed)


@pytest.mark.rtl
def test_dlrm_ingress_wide_w3(seed):
    BENCH.run(BUILD_W3_WIDE, "DlrmIngressAllTest", seed)


@pytest.mark.rtl
def test_dlrm_ingress_wide_kaggle_mix(seed):
    """dlrm_kaggle-shaped packets of every kind at W = 32, idles and stalls."""
    BENCH.run(BUILD_W32_WIDE, "DlrmIngressKaggleMixTest", seed)


@pytest.mark.rtl
def test_dlrm_ingress_wide_rate_kaggle(seed):
    """dlrm_kaggle-shaped packets at W = 32, back to back: HB + IB = 1 + 17 = 18 cycles each (asserted)."""
    BENCH.run(BUILD_W32_WIDE, "DlrmIngressWideRateTest", seed)


WIDE_INJECTED_BUGS = ["INGRESS_BUG_LANE_TABLE", "INGRESS_BUG_BAG_MAX_OFF_BY_ONE"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", WIDE_INJECTED_BUGS)
def test_dlrm_ingress_wide_injected_bug_is_caught(bug, seed):
    result = BENCH.run(BUILD_W4_WIDE, "DlrmIngressAllTest", seed, defines={bug: 1}, expect_fail=True,
                       expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1
