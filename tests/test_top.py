"""Runs the end-to-end pyuvm bench of the accelerator top (tb/top)."""
from __future__ import annotations

import json

import pytest

from sim.runner import Dut, run_test
from sim.toolchain import RTL_DIR, TB_DIR
from tb.host.microrec_host import TopBuild
from tb.lookup.layout import LookupBuild
from tb.mlp.mlp_layout import EngineBuild


def top_sources() -> tuple:
    rtl, hdl = RTL_DIR, TB_DIR / "hdl"
    gen = sorted((rtl / "csr" / "generated").glob("*_pkg.sv")) + \
        sorted(p for p in (rtl / "csr" / "generated").glob("*.sv") if not p.name.endswith("_pkg.sv"))
    return (rtl / "lookup" / "lookup_pkg.sv", hdl / "hbm_pkg.sv", *gen,
            *sorted((rtl / "csr" / "generated").glob("*.vlt")),
            rtl / "csr" / "microrec_csr.sv",
            *sorted((rtl / "lookup").glob("*.sv")),
            *sorted((rtl / "mlp").glob("*.sv")),
            rtl / "top" / "config_dma.sv", rtl / "top" / "microrec_top.sv",
            hdl / "hbm_channel.sv", hdl / "hbm_mem_model.sv", hdl / "microrec_tb_top.sv")


def top_dut(build: TopBuild, defines: dict | None = None, name: str = "top") -> Dut:
    return Dut(name="microrec_tb_top_" + name + "".join(f"_{d}" for d in (defines or {})),
               toplevel="microrec_tb_top",
               sources=tuple(dict.fromkeys(top_sources())),   # packages once, in order
               parameters=build.sv_parameters(), defines=defines or {},
               includes=(TB_DIR / "hdl",), ports_only=True)


def top_env(build: TopBuild, config="tiny", **kw) -> dict:
    env = {"TOP_CONFIG": config, "TOP_BUILD": json.dumps(build.to_dict())}
    env.update({f"TOP_{k.upper()}": str(v) for k, v in kw.items()})
    return env


# small build that runs tiny and the wide-row model (feature 133): MLP of 6 PEs x 20 lanes
# (neither divides any layer size)
TINY_TOP = TopBuild(LookupBuild(num_ch=4, num_banks=2, bank_words=512, qdepth=16, p_max=8, list_max=8,
                                t_max=8, dim_max=64, feat_max=160, id_w=5),
                    EngineBuild(P=6, U=20, MAX_LAYERS=4, MAX_DIM=1024, WDEPTH=2048, BDEPTH=256))
WIDE_CONFIG = str(TB_DIR / "lookup" / "configs" / "wide_rows.json")
# tiny with full-scale embeddings (emb_shift 0) and F=6: ~8% of layer-0 outputs saturate
SAT_CONFIG = str(TB_DIR / "lookup" / "configs" / "tiny_saturating.json")

# full-size microrec_small tables and MLP (352-1024-512-256-1) on u280 timing, 768 MAC lanes
SMALL_TOP = TopBuild(LookupBuild(num_ch=34, num_banks=4, bank_words=16384, qdepth=64, p_max=64, list_max=8,
                                 t_max=64, dim_max=16, feat_max=352, id_w=6),
                     EngineBuild(P=32, U=24, MAX_LAYERS=4, MAX_DIM=1024, WDEPTH=2048, BDEPTH=64))


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["TopRandomTest", "TopZipfTest", "TopBadIndexTest", "TopAxiErrorTest",
                                      "TopIllegalCsrTest", "TopStuckChannelTest", "TopDmaErrorTest",
                                      "TopResetMidTrafficTest", "TopBackpressureTest"])
def test_top_tiny(testcase, seed):
    run_test(top_dut(TINY_TOP), "tb.top.tb_top", testcase=testcase, seed=seed,
             extra_env=top_env(TINY_TOP, queries=150))


@pytest.mark.rtl
def test_top_reconfigure_without_rebuild(seed):
    run_test(top_dut(TINY_TOP), "tb.top.tb_top", testcase="TopReconfigTest", seed=seed,
             extra_env=top_env(TINY_TOP, f"tiny,{WIDE_CONFIG},{SAT_CONFIG},tiny", queries=80))


@pytest.mark.rtl
@pytest.mark.fullsize
def test_top_microrec_small_1000_queries(seed):
    run_test(top_dut(SMALL_TOP, name="small"), "tb.top.tb_top", testcase="TopThroughputTest", seed=seed,
             extra_env=top_env(SMALL_TOP, "microrec_small", queries=1000, preset="u280"))


# Injected bugs in the lookup address and the MLP schedule: the end-to-end
# scoreboard must see both through the logits.
TOP_BUGS = ["LOOKUP_BUG_ADDR", "MLP_ENGINE_BUG_LAST_NEURON"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", TOP_BUGS)
def test_top_injected_bug_is_caught(bug, seed):
    run_test(top_dut(TINY_TOP, {bug: 1}), "tb.top.tb_top", testcase="TopRandomTest", seed=seed,
             extra_env=top_env(TINY_TOP, queries=40), expect_fail=True, expect_in_log="MISMATCH")
