"""The DLRM interaction unit (rtl/mlp/dot_interaction.sv): named builds, knobs and DUT.

Three builds: a small one where every corner is cheap (n up to 5, d up to 6,
3 products a cycle so d = 6 takes two beats and d = 4 a partial one, 4-lane
output beats so R spans many beats with partial ones, the 5-deep output FIFO
the full-rate contract needs), the same with a 1-deep FIFO (every beat waits
for its slot: the reservation logic at its tightest), and dlrm_kaggle's size
(n = 26, d = 16, 4 products a cycle, mlp_engine's 16-lane feature beats) for
its cycle figure.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import RTL_DIR
from tb.common.bench_def import BenchDef, defines_tag


@dataclass(frozen=True)
class InteractionBuild:
    N_MAX: int = 26
    D_MAX: int = 16
    POOL_MAX: int = 416
    DOT_LANES: int = 4
    FEAT_LANES: int = 16
    ACC_W: int = 48
    ID_W: int = 16
    OUT_DEPTH: int = 8

    def sv_parameters(self) -> dict:
        return {"N_MAX": self.N_MAX, "D_MAX": self.D_MAX, "POOL_MAX": self.POOL_MAX,
                "DOT_LANES": self.DOT_LANES, "FEAT_LANES": self.FEAT_LANES, "ACC_W": self.ACC_W,
                "ID_W": self.ID_W, "OUT_DEPTH": self.OUT_DEPTH}


@dataclass(frozen=True)
class InteractionKnobs:
    queries: int = 40             # queries per configuration group (the sequences scale it)
    in_idle_prob: float = 0.2     # an idle cycle before a query is offered
    out_stall_prob: float = 0.3   # m_ready low in a cycle
    stall_cycles: int = 20000     # bench watchdog: cycles without an output beat


SMALL_BUILD = InteractionBuild(N_MAX=5, D_MAX=6, POOL_MAX=30, DOT_LANES=3, FEAT_LANES=4, ACC_W=34,
                               ID_W=8, OUT_DEPTH=5)
TIGHT_BUILD = InteractionBuild(N_MAX=5, D_MAX=6, POOL_MAX=30, DOT_LANES=3, FEAT_LANES=4, ACC_W=34,
                               ID_W=8, OUT_DEPTH=1)
KAGGLE_BUILD = InteractionBuild()


def make_dut(build: InteractionBuild, defines: dict) -> Dut:
    files = read_filelist(RTL_DIR / "mlp" / "dot_interaction.f")
    return Dut(name=f"dot_interaction_n{build.N_MAX}_d{build.D_MAX}_l{build.DOT_LANES}{defines_tag(defines)}",
               toplevel="dot_interaction", sources=tuple(files.sources), includes=tuple(files.includes),
               parameters=build.sv_parameters(), defines=defines, ports_only=True)


BENCH = BenchDef("interaction", "tb.interaction.tb_interaction", InteractionBuild, InteractionKnobs, make_dut)
