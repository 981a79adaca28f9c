"""The MLP engine (rtl/mlp/mlp_engine.sv): named builds, bench knobs and DUT.

One build (P=6, U=20: neither divides the microrec_small sizes) serves every
shape the bench runs: tiny, random odd shapes and microrec_small
(352-1024-512-256-1). VEC_BUILD is the vector-output engine of a DLRM bottom
MLP (contracts s.9.3: P = 4, U = 8), with 8-lane output beats so small vectors
already take several beats, and a small MAX_DIM to keep the model fast.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import RTL_DIR
from tb.common.bench_def import BenchDef, defines_tag
from tb.mlp.mlp_layout import EngineBuild, bank_plan

TEST_BUILD = EngineBuild()  # P=6, U=20, MAX_DIM=1024, banks sized for microrec_small
VEC_BUILD = EngineBuild(P=4, U=8, MAX_DIM=128, WDEPTH=1024, BDEPTH=128, OUT_DEPTH=8,
                        VEC_OUT=1, VEC_LANES=8)


def build_for_model(p: int, u: int, model) -> EngineBuild:
    """A P x U engine with banks just deep enough for ``model`` (`make bench-mlp`'s points)."""
    from models.config import load_config
    plan = bank_plan(EngineBuild(P=p, U=u), load_config(model).layer_shapes)
    words = plan[-1]["wbase"] + plan[-1]["cycles"]
    rounds = plan[-1]["bbase"] + plan[-1]["rounds"]
    return EngineBuild(P=p, U=u, WDEPTH=max(64, words), BDEPTH=max(16, rounds))


@dataclass(frozen=True)
class MlpKnobs:
    items: int = 6                  # inferences per phase
    model: str | None = None        # MlpModelTest: model config (None: the sequence's default, tiny)
    stall_us: int = 400             # bench watchdog: simulated time without progress


def make_dut(build: EngineBuild, defines: dict) -> Dut:
    files = read_filelist(RTL_DIR / "mlp" / "mlp_engine.f")
    vec = f"_vec{build.VEC_LANES}" if build.VEC_OUT else ""
    return Dut(name=f"mlp_engine_p{build.P}_u{build.U}{vec}{defines_tag(defines)}", toplevel="mlp_engine",
               sources=tuple(files.sources), includes=tuple(files.includes),
               parameters=build.sv_parameters(), defines=defines, ports_only=True)


BENCH = BenchDef("mlp", "tb.mlp.tb_mlp_engine", EngineBuild, MlpKnobs, make_dut)
