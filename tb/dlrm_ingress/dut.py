"""The multi-hot query path (rtl/lookup/query_packet_ingress.sv and
rtl/lookup/bag_pool.sv, side by side in tb/hdl/dlrm_ingress_tb_top.sv):
named builds, bench knobs and DUT."""
from __future__ import annotations

from dataclasses import dataclass

from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import RTL_DIR, TB_DIR
from tb.common.bench_def import BenchDef, defines_tag


@dataclass(frozen=True)
class DlrmIngressBuild:
    W: int = 4          # words per packet beat
    T_MAX: int = 8      # logical tables
    D_MAX: int = 4      # dense features
    L_MAX: int = 64     # longest bag
    DIM: int = 4        # elements per row (every table of the bench's models)
    SLOTS: int = 4      # query slots of the pooling
    WIDE: int = 0       # 1: query_packet_ingress_wide (a beat's W entries per cycle), 0: one entry per cycle

    def __post_init__(self):
        if self.W < 2:
            raise ValueError(f"W {self.W}: at least 2 (contracts s.9.7)")
        if self.L_MAX < 64:
            raise ValueError(f"L_MAX {self.L_MAX}: at least 64 (contracts s.9.7)")
        if self.WIDE not in (0, 1):
            raise ValueError(f"WIDE {self.WIDE}: 0 (query_packet_ingress) or 1 (query_packet_ingress_wide)")

    def sv_parameters(self) -> dict:
        return {"W": self.W, "T_MAX": self.T_MAX, "D_MAX": self.D_MAX, "L_MAX": self.L_MAX,
                "DIM": self.DIM, "SLOTS": self.SLOTS,
                "WIDE": self.WIDE}


@dataclass(frozen=True)
class DlrmIngressKnobs:
    queries: int = 120               # packets of the main sequence
    in_idle: float | None = None     # probability of an idle input cycle (None: the test's own)
    out_stall: float | None = None   # probability of a stalled output cycle (None: the test's own)

    def __post_init__(self):
        for name in ("in_idle", "out_stall"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v < 1.0:
                raise ValueError(f"{name} {v}: a probability in [0, 1)")
        if self.queries < 1:
            raise ValueError(f"queries {self.queries}: at least 1")


BUILD_W4 = DlrmIngressBuild()
BUILD_W2 = DlrmIngressBuild(W=2)     # the narrowest legal beat: id and counts fill beat 0
BUILD_W3 = DlrmIngressBuild(W=3)     # not a power of two: HB and IB are real divisions
BUILD_W4_WIDE = DlrmIngressBuild(WIDE=1)            # the wide index output (contracts s.9.9)
BUILD_W3_WIDE = DlrmIngressBuild(W=3, WIDE=1)       # ... with a beat that is not a power of two
# W = 7: the largest header (T_MAX = 8, D_MAX = 4: 2 + 4 + 2 = 8 words, HW_MAX) is one word more than
# a beat, so HB_MAX = 2 beats hold it only if HW_MAX is computed right; the full-shape model fills it
BUILD_W7 = DlrmIngressBuild(W=7)
BUILD_W7_WIDE = DlrmIngressBuild(W=7, WIDE=1)
BUILD_W32_WIDE = DlrmIngressBuild(W=32, T_MAX=32, D_MAX=16, WIDE=1)   # dlrm_kaggle-shaped packets (26 x 13)


def make_dut(build: DlrmIngressBuild, defines: dict) -> Dut:
    files = (read_filelist(RTL_DIR / "lookup" / "dlrm_ingress.f")
             + read_filelist(TB_DIR / "hdl" / "dlrm_ingress_harness.f"))
    return Dut(name=f"dlrm_ingress_w{build.W}{'_wide' if build.WIDE else ''}"
                    f"{f'_t{build.T_MAX}d{build.D_MAX}' if (build.T_MAX, build.D_MAX) != (8, 4) else ''}"
                    f"{defines_tag(defines)}", toplevel="dlrm_ingress_tb_top",
               sources=tuple(files.sources), includes=tuple(files.includes),
               parameters=build.sv_parameters(), defines=defines, ports_only=True)


BENCH = BenchDef("dlrm_ingress", "tb.dlrm_ingress.tb_dlrm_ingress", DlrmIngressBuild, DlrmIngressKnobs, make_dut)
