"""The MAC processing element (rtl/mlp/mac_pe.sv): its build, bench knobs and DUT."""
from __future__ import annotations

from dataclasses import dataclass

from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import RTL_DIR
from tb.common.bench_def import BenchDef, defines_tag


@dataclass(frozen=True)
class MacPeBuild:
    lanes: int = 1        # LANES: (a, b) products per beat
    acc_w: int = 48       # ACC_W

    def sv_parameters(self) -> dict:
        return {"LANES": self.lanes, "ACC_W": self.acc_w}


@dataclass(frozen=True)
class MacPeKnobs:
    items: int = 200            # dot products per random sequence
    model: str = "tiny"         # MacModelTest: the model config whose neurons are computed
    model_queries: int = 4
    model_neurons: int = 16     # neurons per layer in MacModelTest


def make_dut(build: MacPeBuild, defines: dict) -> Dut:
    files = read_filelist(RTL_DIR / "mlp" / "mac_pe.f")
    return Dut(name=f"mac_pe_l{build.lanes}{defines_tag(defines)}", toplevel="mac_pe",
               sources=tuple(files.sources), includes=tuple(files.includes),
               parameters=build.sv_parameters(), defines=defines)


BENCH = BenchDef("mac_pe", "tb.mac_pe.tb_mac_pe", MacPeBuild, MacPeKnobs, make_dut)
