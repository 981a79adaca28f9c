"""Host-side view of a lookup configuration: what gets written where.

From a model config and a placement (models/placement.py) this derives the
descriptor words for the DUT, the HBM model's region descriptors (so it
serves each table's procedural rows) and the on-chip bank images. Pure
Python: usable by any bench or by the accelerator's host driver.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from models import tables
from models.config import ModelConfig
from models.placement import Placement, Platform, place
from tb.hbm import config as hbm_timing
from tb.hbm.config import HbmConfig
from tb.hbm.regions import HbmRegion
from tb.lookup.descriptor import pack_desc


@dataclass(frozen=True)
class LookupBuild:
    """Build-time maxima of one lookup_tb_top build (its SV parameters)."""
    num_ch: int = 4
    num_banks: int = 1
    bank_words: int = 1024
    qdepth: int = 16
    p_max: int = 16
    list_max: int = 16
    t_max: int = 16
    dim_max: int = 64
    feat_max: int = 256
    data_w: int = 256
    addr_w: int = 34
    id_w: int = 5
    nreg: int = 8      # bench harness only: the memory model's table regions per channel (NREG)
    # multi-hot front end (contracts s.9.9)
    mh: int = 0
    pkt_w: int = 32
    l_max: int = 64
    dense_max: int = 16
    # hot-row caches in front of the memory channels (contracts s.11); 0 = none built
    cache: int = 0
    cache_lines: int = 64
    cache_ways: int = 4
    cache_line_beats: int = 1

    def sv_parameters(self) -> dict:
        """The RTL's parameters (emb_lookup_top and the accelerator top; the multi-hot and
        cache ones only on builds that have them, so other builds keep their parameter sets)."""
        out = {"NUM_CH": self.num_ch, "NUM_BANKS": self.num_banks, "BANK_WORDS": self.bank_words,
               "QDEPTH": self.qdepth, "P_MAX": self.p_max, "LIST_MAX": self.list_max,
               "T_MAX": self.t_max, "DIM_MAX": self.dim_max, "FEAT_MAX": self.feat_max,
               "DATA_W": self.data_w, "ADDR_W": self.addr_w, "ID_W": self.id_w}
        if self.mh:
            out.update({"MH": 1, "PKT_W": self.pkt_w, "L_MAX": self.l_max, "DENSE_MAX": self.dense_max})
        if self.cache:
            out.update({"CACHE": 1, "CACHE_LINES": self.cache_lines, "CACHE_WAYS": self.cache_ways,
                        "CACHE_LINE_BEATS": self.cache_line_beats})
        return out

    @property
    def word_bytes(self) -> int:
        return self.data_w // 8

    def platform(self, ddr_channels: int = 0, hbm_bytes: int = 256 << 20) -> Platform:
        return Platform(hbm_channels=self.num_ch - ddr_channels, hbm_channel_bytes=hbm_bytes,
                        ddr_channels=ddr_channels, onchip_banks=self.num_banks,
                        onchip_bytes=self.num_banks * self.bank_words * self.word_bytes,
                        onchip_word_bytes=self.word_bytes)

    def check_fits(self, cfg: ModelConfig, descs) -> None:
        """Raise naming the field when a model exceeds this build's maxima."""
        limits = [("tables", cfg.num_tables, self.t_max, "T_MAX"),
                  ("physical tables", len(descs), self.p_max, "P_MAX"),
                  ("feature_len", cfg.feature_len, self.feat_max, "FEAT_MAX"),
                  ("max dim", max(d.dim for d in descs), self.dim_max, "DIM_MAX")]
        for what, have, cap, param in limits:
            if have > cap:
                raise ValueError(f"{cfg.name}: {what} {have} exceeds this build's {param}={cap}")


class LookupLayout:
    """Descriptors, memory regions and bank images of one placed model."""

    def __init__(self, cfg: ModelConfig, build: LookupBuild, placement: Placement | None = None,
                 pairs=(), ddr_channels: int | None = None):
        self.cfg = cfg
        self.build = build
        if placement is None:
            ddr = ddr_channels if ddr_channels is not None else max(
                [(t.channel or 0) + 1 for t in cfg.tables if t.tier == "ddr"], default=0)
            placement = place(cfg, pairs, build.platform(ddr_channels=ddr))
        self.placement = placement
        if placement.platform.onchip_banks and placement.platform.onchip_word_bytes != build.word_bytes:
            raise ValueError(f"on-chip word of {placement.platform.onchip_word_bytes} bytes differs from the "
                             f"{build.word_bytes}-byte bus word of this build")
        descs = list(placement.descriptors)   # on-chip bases are byte addresses, as in memory
        self.descs = descs
        build.check_fits(cfg, descs)
        self.num_ch = build.num_ch

    @property
    def words(self) -> list[int]:
        return [pack_desc(d) for d in self.descs]

    def padded(self, extra_log2: int) -> "LookupLayout":
        """The same tables with every plain table's stride 2^extra_log2 times wider (at
        most 4 KiB): a legal descriptor (contracts s.5 asks only stride >= 2 * dim) whose
        engine reads the whole stride, stride / bus bytes beats, and keeps the first
        2 * dim bytes. Bases are laid out again per channel and bank, in the old order (a
        memory table 4 KiB aligned, an on-chip one aligned to max(stride, bus word)). In
        memory the padding holds the row's further procedural elements (the region is
        described with dim = stride / 2; element k depends on (seed, table, row, k) only,
        s.1), so a read that kept a later beat instead of the first shows; on chip it is
        zero (the bank image's row bytes)."""
        wb = self.build.word_bytes
        out = LookupLayout.__new__(LookupLayout)
        out.cfg, out.build, out.placement, out.num_ch = self.cfg, self.build, self.placement, self.num_ch
        descs, cursor = [], {}
        order = sorted(range(len(self.descs)), key=lambda p: (self.descs[p].onchip, self.descs[p].channel,
                                                             self.descs[p].base))
        new = {}
        for p in order:
            d = self.descs[p]
            lg = d.stride_log2 if d.is_product else min(12, d.stride_log2 + extra_log2)
            align = max(1 << lg, wb) if d.onchip else 4096
            key = (d.onchip, d.channel)
            base = -(-cursor.get(key, 0) // align) * align
            cursor[key] = base + d.rows * (1 << lg)
            if d.onchip and cursor[key] > self.build.bank_words * wb:
                raise ValueError(f"padded layout: bank {d.channel} overflows ({cursor[key]} bytes)")
            new[p] = dataclasses.replace(d, stride_log2=lg, base=base)
        descs = [new[p] for p in range(len(self.descs))]
        out.descs = descs
        out.region_dim = {p: max(d.dim, d.stride // 2) for p, d in enumerate(descs)
                          if not d.onchip and not d.is_product}
        return out

    def engine_of(self, p: int) -> int:
        d = self.descs[p]
        return self.num_ch + d.channel if d.onchip else d.channel

    def hbm_regions(self) -> list[HbmRegion]:
        out = []
        for p, d in enumerate(self.descs):
            if d.onchip:
                continue
            if d.is_product:
                out.append(HbmRegion(ch=d.channel, base=d.base, rows=d.rows, dim=d.dim, table=d.lt_a,
                                     table_b=d.lt_b, rows_b=d.rows_b, dim_a=d.dim_a))
            else:
                dim = getattr(self, "region_dim", {}).get(p, d.dim)   # padded(): the stride's elements
                out.append(HbmRegion(ch=d.channel, base=d.base, rows=d.rows, dim=dim, table=d.lt_a))
        return out

    def bank_images(self) -> dict[int, dict[int, int]]:
        """bank -> {word address: word value} of every on-chip table."""
        wb = self.build.word_bytes
        images: dict[int, dict[int, bytearray]] = {}
        for d in self.descs:
            if not d.onchip:
                continue
            if d.is_product:
                rows = tables.product_rows(self.cfg, d.lt_a, d.lt_b, np.arange(d.rows))
            else:
                rows = tables.lookup(self.cfg, d.lt_a, np.arange(d.rows))
            img = tables.row_bytes(rows, d.stride).reshape(-1)
            bank = images.setdefault(d.channel, {})
            for off in range(0, len(img), wb):
                addr = d.base + off
                word = bank.setdefault(addr // wb, bytearray(wb))
                chunk = img[off:off + wb].tobytes()
                word[addr % wb: addr % wb + len(chunk)] = chunk
        return {b: {w: int.from_bytes(v, "little") for w, v in img.items()} for b, img in images.items()}

    def physical_row(self, p: int, query) -> int:
        """Row of physical table p that a query reads (the product index for a product)."""
        d = self.descs[p]
        ia = int(query[d.lt_a])
        return ia * d.rows_b + int(query[d.lt_b]) if d.is_product else ia

    def expected_error_table(self, query) -> int | None:
        """The physical table of the first out-of-range index of a query (for one bad index)."""
        for p, d in enumerate(self.descs):
            ia = int(query[d.lt_a])
            if d.is_product:
                if ia >= d.rows // d.rows_b or int(query[d.lt_b]) >= d.rows_b:
                    return p
            elif ia >= d.rows:
                return p
        return None

    def failing_lookups(self, query, bad_table=None, fault_rows=None) -> dict[int, int]:
        """{physical table: error code} of the lookups a query must see fail: an
        out-of-range index (code 1) where ``bad_table`` was given one, and reads of
        rows inside injected memory faults ``fault_rows`` {p: (lo row, hi row, code)}
        (or a list of such ranges per table)."""
        failing = {}
        if bad_table is not None:
            failing[self.expected_error_table(query)] = 1
        for p, ranges in (fault_rows or {}).items():
            for lo, hi, code in (ranges if isinstance(ranges, list) else [ranges]):
                if p not in failing and lo <= self.physical_row(p, query) < hi:
                    failing[p] = code
        return failing

    def zero_failed(self, feats, failing) -> None:
        """A failed lookup's features read as zero (in place on a logical feature vector)."""
        offs = self.cfg.feature_offsets
        for p in failing:
            d = self.descs[p]
            for lt, dim in ((d.lt_a, d.dim_a),) + (((d.lt_b, d.dim - d.dim_a),) if d.is_product else ()):
                feats[offs[lt]:offs[lt] + dim] = 0

def planner_platform(build: LookupBuild, ddr: int, banks: int | None = None) -> Platform:
    """The build's platform with ``ddr`` DDR channels and the first ``banks`` on-chip banks."""
    plat = build.platform(ddr_channels=ddr)
    if banks is not None and banks != build.num_banks:
        if not 0 <= banks <= build.num_banks:
            raise ValueError(f"banks: {banks} outside 0..{build.num_banks} of this build")
        plat = dataclasses.replace(plat, onchip_banks=banks,
                                   onchip_bytes=banks * build.bank_words * build.word_bytes)
    return plat


def planner_placement(cfg: ModelConfig, build: LookupBuild, pairs, ddr: int, banks: int | None = None) -> Placement:
    """The placement the planner's rule gives on the build's platform (automatic tiers,
    balanced channels), which is what models/perf_model.py predicts."""
    return place(cfg, [tuple(p) for p in pairs], planner_platform(build, ddr, banks),
                 respect_tiers=False, respect_channels=False)


def memory_config(layout: LookupLayout, preset: str = "ideal", latency: int = 20, mhz: float = 140.0,
                  rng_seed: int = 1) -> HbmConfig:
    """The memory model for a placed model: `ideal` at `latency` cycles, or `u280`
    HBM with `ddr4` on the DDR channels, both restated at the accelerator clock `mhz`."""
    build, cfg, platform = layout.build, layout.cfg, layout.placement.platform
    common = dict(num_ch=build.num_ch, data_w=build.data_w, id_w=build.id_w, addr_w=build.addr_w,
                  seed=cfg.seed, emb_shift=cfg.emb_shift, rng_seed=rng_seed,
                  ch_bytes=max(platform.hbm_channel_bytes,
                               platform.ddr_channel_bytes if platform.ddr_channels else 0))
    if preset == "ideal":
        return HbmConfig(timing=hbm_timing.ideal(latency), **common)
    ddr = hbm_timing.ddr4(axi_mhz=mhz, data_w=build.data_w)
    return HbmConfig(timing=hbm_timing.preset(preset, axi_mhz=mhz, data_w=build.data_w),
                     per_channel={ch: ddr for ch in platform.channels("ddr")}, **common)
