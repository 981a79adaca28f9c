"""The memory model's self-test harness (tb/hdl/hbm_tb_top.sv): builds, knobs, DUT."""
from __future__ import annotations

from dataclasses import dataclass

from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import TB_DIR
from tb.common.bench_def import BenchDef

# the self-tests live in three modules; one simulator run loads all of them
MODULES = "tb.hbm.tb_hbm_data,tb.hbm.tb_hbm_timing,tb.hbm.tb_hbm_faults"


@dataclass(frozen=True)
class HbmHarnessBuild:
    num_ch: int = 32
    data_w: int = 256
    id_w: int = 6
    addr_w: int = 34

    def sv_parameters(self) -> dict:
        return {"NUM_CH": self.num_ch, "DATA_W": self.data_w, "ID_W": self.id_w, "ADDR_W": self.addr_w}


@dataclass(frozen=True)
class HbmKnobs:
    soak_bursts: int = 300          # bursts per channel in test_data_all_channels
    bench_mode: str = "idle"        # apps/bench hbm speed: idle | idle1k | bench | log
    bench_cycles: int = 200_000


def make_dut(build: HbmHarnessBuild, defines: dict) -> Dut:
    files = read_filelist(TB_DIR / "hdl" / "hbm_harness.f")
    return Dut(name=f"hbm_tb_c{build.num_ch}_w{build.data_w}_i{build.id_w}", toplevel="hbm_tb_top",
               sources=tuple(files.sources), includes=tuple(files.includes),
               parameters=build.sv_parameters(), defines=defines, ports_only=True)


BENCH = BenchDef("hbm", MODULES, HbmHarnessBuild, HbmKnobs, make_dut)
