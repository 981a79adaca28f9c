"""The hot-row cache (rtl/cache/) between the bench's AXI read master and the
HBM model (tb/hdl/cache_tb_top.sv): named builds, bench knobs and DUT. Every
build size of the cache bench is chosen here."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from models.row_cache import RowCacheConfig
from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import RTL_DIR, TB_DIR
from tb.common.bench_def import BenchDef, defines_tag


@dataclass(frozen=True)
class CacheBuild:
    """One cache_tb_top build (its SV parameters)."""
    present: int = 1          # 0: a wire in the cache's place (the no-cache reference)
    lines: int = 16
    ways: int = 4
    line_beats: int = 2
    data_w: int = 256
    addr_w: int = 34
    id_w: int = 4
    cm_log2: int | None = None
    age_log2: int | None = None

    def cache_config(self) -> RowCacheConfig:
        """The model's shape: the same numbers the RTL is elaborated with."""
        return RowCacheConfig(lines=self.lines, ways=self.ways, line_beats=self.line_beats,
                              data_w=self.data_w, addr_w=self.addr_w, cm_log2=self.cm_log2,
                              age_log2=self.age_log2)

    def sv_parameters(self) -> dict:
        p = self.cache_config().sv_parameters()
        return {"PRESENT": self.present, "ID_W": self.id_w, **p}


# small enough that a few hundred reads evict, fill races and stall on busy victims:
# 4 sets x 4 ways, lines of up to 2 beats, 16 IDs
MAIN_BUILD = CacheBuild()
# the same harness with a wire instead of the cache
NO_CACHE_BUILD = dataclasses.replace(MAIN_BUILD, present=0)
# direct-mapped, one-beat lines: every conflict evicts, 4-beat bursts pass through uncached
DIRECT_BUILD = CacheBuild(lines=8, ways=1, line_beats=1, id_w=3)
# fully associative: one set (SET_W = 0), the set index is the constant 0
FULLY_ASSOC_BUILD = CacheBuild(lines=4, ways=4)


@dataclass(frozen=True)
class CacheKnobs:
    requests: int = 600            # reads per phase of a test
    preset: str = "ideal"          # memory timing: ideal | u280
    latency: int = 24              # ideal memory latency, cycles
    mhz: float = 140.0             # clock the u280 timing is restated at
    policy: str = "lru"            # lru | freq (tests with both run each phase per policy)
    ar_idle: float = 0.2           # probability of an idle AR cycle between reads
    r_stall: float = 0.2           # probability of s_rready low
    ids: int = 0                   # IDs the master uses (0: all 2^ID_W)
    zipf: float = 1.0              # Zipf exponent of the skewed streams
    trace: bool = False            # write every AR and R handshake with its cycle (trace.json)

    def __post_init__(self):
        if self.preset not in ("ideal", "u280"):
            raise ValueError(f"preset {self.preset!r}: one of ideal, u280")
        if self.policy not in ("lru", "freq"):
            raise ValueError(f"policy {self.policy!r}: one of lru, freq")
        for name in ("ar_idle", "r_stall"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ValueError(f"{name} {v}: a probability in [0, 1)")
        if self.requests < 1:
            raise ValueError(f"requests {self.requests}: at least 1")


def make_dut(build: CacheBuild, defines: dict) -> Dut:
    files = read_filelist(RTL_DIR / "cache" / "cache.f") + read_filelist(TB_DIR / "hdl" / "cache_harness.f")
    return Dut(name=f"cache_tb_top{defines_tag(defines)}", toplevel="cache_tb_top",
               sources=tuple(files.sources), includes=tuple(files.includes),
               parameters=build.sv_parameters(), defines=defines, ports_only=True)


BENCH = BenchDef("cache", "tb.cache.tb_cache", CacheBuild, CacheKnobs, make_dut)
