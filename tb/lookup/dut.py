"""The lookup subsystem (rtl/lookup/) on the HBM model (tb/hdl/lookup_tb_top.sv):
named builds, bench knobs and DUT. Every build size of the lookup benches is
chosen here."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import RTL_DIR, TB_DIR
from tb.common.bench_def import BenchDef, defines_tag
from tb.lookup.layout import LookupBuild

# a small build for tiny-shaped models: fast to compile and to simulate
TINY_BUILD = LookupBuild(num_ch=4, num_banks=2, bank_words=512, qdepth=16, p_max=8, list_max=8,
                         t_max=8, dim_max=16, feat_max=64, id_w=5)
# the same with the multi-hot front end (contracts s.9.9): dlrm_tiny's packets, 4 words a beat
# (so a header and a long bag span several beats), bags up to L_MAX = 64, 16 dense features
TINY_MH_BUILD = dataclasses.replace(TINY_BUILD, mh=1, pkt_w=4, l_max=64, dense_max=16)
# bank 0 exactly full: tiny's 100-row x 16 B on-chip table ends on the last word of a
# 50-word bank (not a power of two); LIST_MAX 4 < P_MAX 8, so list overflow can fire too
BANK_FULL_BUILD = dataclasses.replace(TINY_BUILD, bank_words=50, list_max=4)
# several tables per channel, rows of 2..64 elements (multi-beat bursts, odd dims)
WIDE_BUILD = LookupBuild(num_ch=2, num_banks=2, bank_words=256, qdepth=16, p_max=8, list_max=8,
                         t_max=8, dim_max=64, feat_max=160, id_w=5)
# full-size microrec_small shapes: 32 HBM + 2 DDR channels, 4 on-chip banks
SMALL_BUILD = LookupBuild(num_ch=34, num_banks=4, bank_words=16384, qdepth=64, p_max=64, list_max=8,
                          t_max=64, dim_max=16, feat_max=352, id_w=6)
# one table on each of 32 channels, rows of one beat (the ideal-memory benchmark)
ONE_PER_CHANNEL_BUILD = LookupBuild(num_ch=32, num_banks=1, bank_words=64, qdepth=64, p_max=32, list_max=4,
                                    t_max=32, dim_max=16, feat_max=256, id_w=6)

# TINY_BUILD with a hot-row cache of 16 lines, 4 ways, in front of each of its 4 channels:
# small enough that tiny's Zipf traffic fills, hits, evicts and (freq) bypasses
CACHE_BUILD = dataclasses.replace(TINY_BUILD, cache=1, cache_lines=16, cache_ways=4)
# the same caches on the multi-hot build (dlrm_tiny's packets; also `make bench-cache --tiny`)
TINY_MH_CACHE_BUILD = dataclasses.replace(TINY_MH_BUILD, cache=1, cache_lines=16, cache_ways=4)

# the channel sweep of `make bench-model`: one build family for every model (one Verilator
# build per channel count), 8 on-chip banks of which a placement uses some, room for
# microrec_large (84 tables, feature 876) and up to 32 tables on one channel (NREG)
SWEEP_DDR = 2


def sweep_build(hbm_channels: int) -> LookupBuild:
    return LookupBuild(num_ch=hbm_channels + SWEEP_DDR, num_banks=8, bank_words=16384, qdepth=64, p_max=128,
                       list_max=32, t_max=128, dim_max=32, feat_max=896, id_w=6, nreg=32)


WIDE_CONFIG = str(TB_DIR / "lookup" / "configs" / "wide_rows.json")
# tiny with full-scale embeddings (emb_shift 0) and F=6: ~8% of layer-0 outputs saturate
SAT_CONFIG = str(TB_DIR / "lookup" / "configs" / "tiny_saturating.json")
# tiny's tables with a four-layer MLP (48-24-16-8-1): every per-layer counter of the top counts
DEEP_CONFIG = str(TB_DIR / "lookup" / "configs" / "tiny_deep.json")


@dataclass(frozen=True)
class LookupKnobs:
    config: str = "tiny"            # model config: a built-in name or a JSON path
    queries: int = 200
    preset: str = "ideal"           # memory timing: ideal | u280 | ddr4
    latency: int = 20               # ideal memory latency, cycles
    mhz: float = 140.0              # accelerator clock the memory timing is restated at
    in_idle: float | None = None    # probability of an idle input cycle (None: the test's own)
    out_stall: float | None = None  # probability of a stalled output cycle (None: the test's own)
    pairs: tuple = ()               # Cartesian products [(A, B), ...] of logical tables
    timeout: int = 4096             # LOOKUP_TIMEOUT: stuck-channel watchdog (0: off)
    random_configs: int = 16        # LookupRandomConfigTest: models committed one after another
    ddr: int | None = None          # planner placement: DDR channels of the build (None: config's tiers)
    banks: int | None = None        # planner placement: on-chip banks it may use (None: all)
    # True: the harness's SV query source and feature sink drive the streams from a file of
    # queries per batch, and the scoreboard checks the logged vectors in bulk (tb/lookup/batch.py);
    # False: the per-transaction pyuvm agents (needed by LookupCapacityTest)
    batch: bool = False
    idle_cycles: int = 0            # LookupIdleSpeedTest (apps/benchmarks): its window (0: 100 x queries)
    cache_policy: str = "lru"       # CACHE builds: the caches' policy (lru | freq); they are enabled

    def __post_init__(self):
        if self.preset not in ("ideal", "u280", "ddr4"):
            raise ValueError(f"preset {self.preset!r}: one of ideal, u280, ddr4")
        for name in ("in_idle", "out_stall"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v < 1.0:
                raise ValueError(f"{name} {v}: a probability in [0, 1)")
        if self.queries < 1:
            raise ValueError(f"queries {self.queries}: at least 1")
        if self.cache_policy not in ("lru", "freq"):
            raise ValueError(f"cache_policy {self.cache_policy!r}: one of lru, freq")


def make_dut(build: LookupBuild, defines: dict) -> Dut:
    files = read_filelist(RTL_DIR / "lookup" / "lookup.f") + read_filelist(TB_DIR / "hdl" / "lookup_harness.f")
    return Dut(name=f"lookup_tb_top{defines_tag(defines)}", toplevel="lookup_tb_top",
               sources=tuple(files.sources), includes=tuple(files.includes),
               parameters={**build.sv_parameters(), "NREG": build.nreg}, defines=defines, ports_only=True)


BENCH = BenchDef("lookup", "tb.lookup.tb_lookup", LookupBuild, LookupKnobs, make_dut)
