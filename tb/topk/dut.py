"""The streaming top-k unit (rtl/topk/topk_unit.sv): named builds and DUT.

The bench also reads K_MAX and N_MAX back from the unit's constant ports
(cap_k_max, cap_n_max), so a build that disagrees with its parameters shows.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import RTL_DIR
from tb.common.bench_def import BenchDef, defines_tag


@dataclass(frozen=True)
class TopkUnitBuild:
    K_MAX: int = 256
    N_MAX: int = 4096
    SCORE_W: int = 32
    ID_W: int = 16
    K_W: int = 16

    def sv_parameters(self) -> dict:
        return {"K_MAX": self.K_MAX, "N_MAX": self.N_MAX, "SCORE_W": self.SCORE_W, "ID_W": self.ID_W,
                "K_W": self.K_W}


@dataclass(frozen=True)
class TopkUnitKnobs:
    """The top-k tests set their traffic per test class: no run-time knobs."""


# every corner is cheap to reach on the small build; the full one is the accelerator's
SMALL_BUILD = TopkUnitBuild(K_MAX=8, N_MAX=48, SCORE_W=32, ID_W=8, K_W=6)
FULL_BUILD = TopkUnitBuild()


def make_dut(build: TopkUnitBuild, defines: dict) -> Dut:
    files = read_filelist(RTL_DIR / "topk" / "topk.f")
    return Dut(name=f"topk_unit_k{build.K_MAX}_n{build.N_MAX}{defines_tag(defines)}", toplevel="topk_unit",
               sources=tuple(files.sources), includes=tuple(files.includes),
               parameters=build.sv_parameters(), defines=defines, ports_only=True)


BENCH = BenchDef("topk", "tb.topk.tb_topk", TopkUnitBuild, TopkUnitKnobs, make_dut)
