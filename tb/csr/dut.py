"""The CSR block (rtl/csr/: PeakRDL regblock + flat-port wrapper): DUT and bench."""
from __future__ import annotations

from dataclasses import dataclass

from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import RTL_DIR
from tb.common.bench_def import BenchDef, defines_tag


@dataclass(frozen=True)
class CsrBuild:
    """The wrapper has no parameters: one build."""

    def sv_parameters(self) -> dict:
        return {}


@dataclass(frozen=True)
class CsrKnobs:
    """The CSR bench has no knobs."""


def make_dut(build: CsrBuild, defines: dict) -> Dut:
    files = read_filelist(RTL_DIR / "csr" / "csr.f")
    return Dut(name=f"microrec_csr{defines_tag(defines)}", toplevel="microrec_csr",
               sources=tuple(files.sources), includes=tuple(files.includes),
               parameters=build.sv_parameters(), defines=defines, ports_only=True)


BENCH = BenchDef("csr", "tb.csr.tb_csr", CsrBuild, CsrKnobs, make_dut)
