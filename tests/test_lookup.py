"""Runs the pyuvm bench of the lookup subsystem (tb/lookup) against the HBM model."""
from __future__ import annotations

import dataclasses
import json

import pytest

from sim.runner import Dut, run_test
from sim.toolchain import RTL_DIR, TB_DIR
from models.config import load_config
from tb.lookup.layout import LookupBuild, LookupLayout

# a small build for tiny-shaped models: fast to compile and to simulate
TINY_BUILD = LookupBuild(num_ch=4, num_banks=2, bank_words=512, qdepth=16, p_max=8, list_max=8,
                         t_max=8, dim_max=16, feat_max=64, id_w=5)


def lookup_dut(build: LookupBuild, defines: dict | None = None) -> Dut:
    rtl = RTL_DIR / "lookup"
    hdl = TB_DIR / "hdl"
    return Dut(
        name="lookup_tb_top" + "".join(f"_{d}" for d in (defines or {})),
        toplevel="lookup_tb_top",
        sources=(rtl / "lookup_pkg.sv", hdl / "hbm_pkg.sv", rtl / "emb_lookup_engine.sv",
                 rtl / "onchip_table_ram.sv", rtl / "lookup_config.sv", rtl / "feature_gather.sv",
                 rtl / "emb_lookup_top.sv", hdl / "hbm_channel.sv", hdl / "hbm_mem_model.sv",
                 hdl / "lookup_tb_top.sv"),
        parameters=build.sv_parameters(),
        defines=defines or {},
        includes=(TB_DIR / "hdl",),
        ports_only=True,
    )


def lookup_env(build: LookupBuild, config="tiny", **kw) -> dict:
    env = {"LOOKUP_CONFIG": config, "LOOKUP_BUILD": json.dumps(build.__dict__)}
    env.update({f"LOOKUP_{k.upper()}": str(v) for k, v in kw.items()})
    return env


TESTS = ["LookupUniformTest", "LookupZipfTest", "LookupEdgeTest", "LookupBackpressureTest",
         "LookupBadIndexTest", "LookupAxiErrorTest", "LookupStuckChannelTest", "LookupBadConfigTest", "LookupCapacityTest",
         "LookupRandomConfigTest", "LookupSerialTest"]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", TESTS)
def test_lookup_tiny(testcase, seed):
    run_test(lookup_dut(TINY_BUILD), "tb.lookup.tb_lookup", testcase=testcase, seed=seed,
             extra_env=lookup_env(TINY_BUILD, queries=150))


# u280 HBM timing on the tiny build: reads overtake each other across IDs
@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupUniformTest", "LookupBackpressureTest"])
def test_lookup_tiny_u280(testcase, seed):
    run_test(lookup_dut(TINY_BUILD), "tb.lookup.tb_lookup", testcase=testcase, seed=seed,
             extra_env=lookup_env(TINY_BUILD, preset="u280", queries=150))


# bank 0 exactly full: tiny's 100-row x 16 B on-chip table ends on the last word of a
# 50-word bank (not a power of two), so edge queries read the last word and a
# table one row longer must be rejected (CFG_BAD_EXTENT)
# (LIST_MAX 4 < P_MAX 8, so the list-overflow check can fire too)
BANK_FULL_BUILD = dataclasses.replace(TINY_BUILD, bank_words=50, list_max=4)


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupEdgeTest", "LookupBadConfigTest"])
def test_lookup_bank_full(testcase, seed):
    layout = LookupLayout(load_config("tiny"), BANK_FULL_BUILD)
    last = max(d.base + d.rows * d.stride for d in layout.descs if d.onchip and d.channel == 0)
    assert last == BANK_FULL_BUILD.bank_words * BANK_FULL_BUILD.word_bytes, "bank 0 is no longer exactly full"
    run_test(lookup_dut(BANK_FULL_BUILD), "tb.lookup.tb_lookup", testcase=testcase, seed=seed,
             extra_env=lookup_env(BANK_FULL_BUILD, queries=100))


# several tables per channel (4 on the one HBM channel), rows of 2..64 elements
# (multi-beat bursts, an odd dim, narrow rows sharing a beat)
WIDE_BUILD = LookupBuild(num_ch=2, num_banks=2, bank_words=256, qdepth=16, p_max=8, list_max=8,
                         t_max=8, dim_max=64, feat_max=160, id_w=5)
WIDE_CONFIG = str(TB_DIR / "lookup" / "configs" / "wide_rows.json")


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupUniformTest", "LookupBackpressureTest", "LookupBadIndexTest",
                                      "LookupAxiErrorTest", "LookupRandomConfigTest", "LookupSerialTest"])
def test_lookup_wide_rows(testcase, seed):
    run_test(lookup_dut(WIDE_BUILD), "tb.lookup.tb_lookup", testcase=testcase, seed=seed,
             extra_env=lookup_env(WIDE_BUILD, WIDE_CONFIG, queries=120))


# Cartesian products: category x city (features not adjacent), brand x user
PRODUCT_PAIRS = [[2, 4], [3, 0]]


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["LookupUniformTest", "LookupEdgeTest", "LookupBadIndexTest"])
def test_lookup_products(testcase, seed):
    run_test(lookup_dut(TINY_BUILD), "tb.lookup.tb_lookup", testcase=testcase, seed=seed,
             extra_env=lookup_env(TINY_BUILD, pairs=json.dumps(PRODUCT_PAIRS), queries=150))


# full-size microrec_small shapes (42 tables, 0.7 GiB, procedural rows) on u280 timing:
# 32 HBM + 2 DDR channels, 4 on-chip banks
SMALL_BUILD = LookupBuild(num_ch=34, num_banks=4, bank_words=16384, qdepth=64, p_max=64, list_max=8,
                          t_max=64, dim_max=16, feat_max=352, id_w=6)


@pytest.mark.rtl
@pytest.mark.fullsize
@pytest.mark.parametrize("testcase", ["LookupZipfTest"])
def test_lookup_microrec_small(testcase, seed):
    run_test(lookup_dut(SMALL_BUILD), "tb.lookup.tb_lookup", testcase=testcase, seed=seed,
             extra_env=lookup_env(SMALL_BUILD, "microrec_small", preset="u280", queries=300, out_stall=0.2))


# Each define breaks the lookup path in one way; the scoreboard must notice.
LOOKUP_BUGS = ["LOOKUP_BUG_ADDR", "LOOKUP_BUG_DROP_ROW"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", LOOKUP_BUGS)
def test_lookup_injected_bug_is_caught(bug, seed):
    run_test(lookup_dut(TINY_BUILD, {bug: 1}), "tb.lookup.tb_lookup", testcase="LookupUniformTest",
             seed=seed, extra_env=lookup_env(TINY_BUILD, queries=40), expect_fail=True,
             expect_in_log="MISMATCH")


@pytest.mark.rtl
@pytest.mark.mutant
def test_lookup_hang_is_reported(seed):
    """A stuck channel with the RTL watchdog off (LOOKUP_TIMEOUT=0) hangs the DUT: the bench
    watchdog must fail the test within its 20000-cycle limit and name the stuck reads."""
    run_test(lookup_dut(TINY_BUILD), "tb.lookup.tb_lookup", testcase="LookupStuckChannelTest", seed=seed,
             extra_env=lookup_env(TINY_BUILD, queries=40, timeout=0), expect_fail=True,
             expect_in_log=["lookup watchdog: no progress for 20000 cycles", "reads outstanding"])


@pytest.mark.rtl
@pytest.mark.mutant
def test_lookup_assertion_fires(seed):
    """An AR payload that moves before ARREADY must trip the engine's SVA (not just the memory model)."""
    run_test(lookup_dut(TINY_BUILD, {"LOOKUP_BUG_AR_UNSTABLE": 1}), "tb.lookup.tb_lookup",
             testcase="LookupBackpressureTest", seed=seed, extra_env=lookup_env(TINY_BUILD, queries=40),
             expect_fail=True, expect_in_log="AR changed or dropped before ARREADY")
