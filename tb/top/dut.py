"""The accelerator top (rtl/top/) on the HBM model (tb/hdl/microrec_tb_top.sv):
named builds, the build `make sim` sizes for a model, bench knobs and DUT."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from models.config import ModelConfig, load_config
from sim.filelist import read_filelist
from sim.runner import Dut
from sim.toolchain import RTL_DIR, TB_DIR
from tb.common.bench_def import BenchDef, defines_tag
from tb.host.microrec_host import DlrmBuild, MicrorecHost, TopBuild
from tb.lookup.dut import DEEP_CONFIG, SAT_CONFIG, WIDE_CONFIG  # noqa: F401 - configs the top tests run
from tb.lookup.layout import LookupBuild
from tb.mlp.mlp_layout import EngineBuild, bank_plan

# small build that runs tiny and the wide-row model (feature 133): MLP of 6 PEs x 20 lanes
# (neither divides any layer size)
TINY_TOP = TopBuild(LookupBuild(num_ch=4, num_banks=2, bank_words=512, qdepth=16, p_max=8, list_max=8,
                                t_max=8, dim_max=64, feat_max=160, id_w=5),
                    EngineBuild(P=6, U=20, MAX_LAYERS=4, MAX_DIM=1024, WDEPTH=2048, BDEPTH=256))
# full-size microrec_small tables and MLP (352-1024-512-256-1) on u280 timing, 768 MAC lanes
SMALL_TOP = TopBuild(LookupBuild(num_ch=34, num_banks=4, bank_words=16384, qdepth=64, p_max=64, list_max=8,
                                 t_max=64, dim_max=16, feat_max=352, id_w=6),
                     EngineBuild(P=32, U=24, MAX_LAYERS=4, MAX_DIM=1024, WDEPTH=2048, BDEPTH=64))

# TINY_TOP with the DLRM back half (contracts s.7.2): bottom engine 3 PEs x 20 lanes
DLRM_TOP = TopBuild(TINY_TOP.lookup, TINY_TOP.mlp, DlrmBuild(dense_max=16, bmax_layers=4, bmax_dim=512,
                                                            bwdepth=256, bbdepth=64))

# DLRM_TOP with the lookup's multi-hot front end (contracts s.9.9): packets of 4 words per
# beat, so dlrm_tiny's 7-word header and its bags span several beats
DLRM_MH_TOP = TopBuild(dataclasses.replace(TINY_TOP.lookup, mh=1, pkt_w=4), TINY_TOP.mlp, DLRM_TOP.dlrm)

# TINY_TOP with the top-k unit after the MLP (contracts s.10.6), small maxima for speed
TOPK_TOP = TopBuild(TINY_TOP.lookup, TINY_TOP.mlp, topk=1, topk_k_max=16, topk_n_max=64)

# DLRM configs the top runs one-hot: the lookup is one-hot (one index per table, pooled =
# the row), so dlrm_tiny's tables become bags of one, sum pooling; layout without products
DLRM_CONFIGS = {"dlrm_tiny_dot": "dot", "dlrm_tiny_concat": "concat"}


def dlrm_one_hot(name: str) -> ModelConfig:
    """dlrm_tiny with every table one-hot (bag_max 1, sum, pool_shift 0) and the named
    interaction: dlrm_infer with bags of one is then what the one-hot lookup computes."""
    import dataclasses
    base = load_config("dlrm_tiny")
    tables = [dataclasses.replace(t, bag_max=1, pooling="sum", pool_shift=0) for t in base.tables]
    return dataclasses.replace(base, tables=tables, interaction=DLRM_CONFIGS[name], name=name)


def bench_config(name: str) -> ModelConfig:
    """A model config by name: the DLRM one-hot variants above, else load_config."""
    return dlrm_one_hot(name) if name in DLRM_CONFIGS else load_config(name)


def build_for_model(cfg: ModelConfig | str, pes: int, lanes: int) -> TopBuild:
    """The platform `make sim` builds for a model: 32 HBM + 2 DDR channels, 4 on-chip
    banks and a P x U MLP, every maximum rounded up to a power of two so similar models
    share one Verilator build. A DLRM model (a bottom MLP) adds the back half: a bottom
    engine of P/2 x U (contracts s.9.3) and an interaction of 16 products per cycle (one
    pair of d = 16 per cycle); a multi-hot one the lookup's packet front end (32 words per
    beat, bags up to 64)."""
    cfg = load_config(cfg) if isinstance(cfg, str) else cfg
    pow2 = lambda n: 1 << max(0, int(n) - 1).bit_length()  # noqa: E731
    t_max = max(64, pow2(cfg.num_tables))
    plan = bank_plan(EngineBuild(P=pes, U=lanes), list(cfg.layer_shapes))
    wdepth = max(512, pow2(plan[-1]["wbase"] + plan[-1]["cycles"]))
    bdepth = max(16, pow2(plan[-1]["bbase"] + plan[-1]["rounds"]))
    mh = MicrorecHost.is_multihot(cfg)
    lookup = LookupBuild(num_ch=34, num_banks=4, bank_words=16384, qdepth=64, p_max=t_max,
                         list_max=8, t_max=t_max, dim_max=max(16, pow2(max(t.dim for t in cfg.tables))),
                         feat_max=max(352, cfg.feature_len), id_w=6, mh=int(mh), pkt_w=32, l_max=64)
    dlrm = None
    if cfg.bottom_mlp:
        bp = max(1, pes // 2)
        bplan = bank_plan(EngineBuild(P=bp, U=lanes), list(cfg.bottom_layer_shapes))
        dlrm = DlrmBuild(dense_max=16, bp=bp, bu=lanes, bmax_layers=4, bmax_dim=512,
                         bwdepth=max(256, pow2(bplan[-1]["wbase"] + bplan[-1]["cycles"])),
                         bbdepth=max(16, pow2(bplan[-1]["bbase"] + bplan[-1]["rounds"])), dot_lanes=16)
    return TopBuild(lookup, EngineBuild(P=pes, U=lanes, MAX_LAYERS=4, MAX_DIM=1024, WDEPTH=wdepth, BDEPTH=bdepth),
                    dlrm)


@dataclass(frozen=True)
class TopKnobs:
    configs: tuple = ("tiny",)      # model configs run one after another (names or JSON paths)
    queries: int = 200              # queries per traffic phase (TopSimTest: the throughput run)
    lat_queries: int = 50           # TopSimTest: queries of the one-at-a-time latency run
    zipf: float = 0.0               # TopSimTest: Zipf exponent of the throughput run (0: uniform)
    preset: str = "ideal"           # memory timing: ideal | u280 | ddr4
    latency: int = 20               # ideal memory latency, cycles
    mhz: float = 140.0              # accelerator clock the memory timing is restated at
    in_idle: float | None = None    # probability of an idle input cycle (None: the test's own)
    out_stall: float | None = None  # probability of a stalled output cycle (None: the test's own)
    precision: str = "int16"        # MLP precisions the host loads: int16 | int8 | mixed (contracts s.8)
    zero_skip: bool = False         # MLP_QUANT.zero_skip: skip zero activations
    bag_length: int = 20            # multi-hot models: rows per bag (clipped to each table's bag_max)
    bag_lengths: str = "fixed"      # multi-hot models: fixed | uniform | lognormal (models.multihot)
    cache_policy: str = "lru"       # CACHE builds: the hot-row caches' policy (lru | freq); they are enabled
    recpipe: str = ""               # TopRecPipeSimTest: JSON {decay, widths, n, k_keep, top_k, requests, calib}

    def __post_init__(self):
        if isinstance(self.configs, str):
            object.__setattr__(self, "configs", (self.configs,))
        if not self.configs:
            raise ValueError("configs: at least one model config")
        if self.preset not in ("ideal", "u280", "ddr4"):
            raise ValueError(f"preset {self.preset!r}: one of ideal, u280, ddr4")
        for name in ("in_idle", "out_stall"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v < 1.0:
                raise ValueError(f"{name} {v}: a probability in [0, 1)")
        if self.precision not in ("int16", "int8", "mixed"):
            raise ValueError(f"precision {self.precision!r}: one of int16, int8, mixed")
        if self.zipf < 0:
            raise ValueError(f"zipf {self.zipf}: 0 (uniform) or an exponent > 0")
        if self.cache_policy not in ("lru", "freq"):
            raise ValueError(f"cache_policy {self.cache_policy!r}: one of lru, freq")
        if self.queries < 1 or self.lat_queries < 1:
            raise ValueError(f"queries {self.queries} / lat_queries {self.lat_queries}: at least 1")


def make_dut(build: TopBuild, defines: dict) -> Dut:
    files = read_filelist(RTL_DIR / "top" / "top.f") + read_filelist(TB_DIR / "hdl" / "top_harness.f")
    dlrm = f"_dlrm{build.bottom.P}" if build.dlrm is not None else ""
    return Dut(name=f"microrec_tb_top_p{build.mlp.P}u{build.mlp.U}{dlrm}{build.cache_tag}{build.topk_tag}{defines_tag(defines)}",
               toplevel="microrec_tb_top",
               sources=tuple(files.sources), includes=tuple(files.includes),
               parameters=build.sv_parameters(), defines=defines, ports_only=True)


BENCH = BenchDef("top", "tb.top.tb_top", TopBuild, TopKnobs, make_dut)
