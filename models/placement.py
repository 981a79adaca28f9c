"""Placement of physical tables over on-chip banks, HBM and DDR channels.

Input: a model config and a Cartesian plan (pairs of logical tables, or a
`cartesian.PhysicalPlan`). Output: a `Placement` holding, for every physical
table, its tier, channel and base, the `PhysicalDescriptor`s of
docs/contracts.md section 5 (what the host driver writes into the CSRs), and
the per-channel memory layout (what goes into each channel's image).

Numbering (the host driver and the lookup RTL use the same):
- Memory channels are AXI masters `m_axi_mem[ch]`: HBM pseudo-channels first
  (`0 .. hbm_channels-1`), then DDR channels (`hbm_channels + j`). A config's
  `TableConfig.channel` is tier-local (HBM 5, DDR 1) and is translated.
- On-chip banks are numbered `0 .. onchip_banks-1`; a bank is a RAM of
  `onchip_word_bytes`-wide words (the bus word), addressed in bytes.
- Both tiers use one address rule (contracts.md section 5): row `r` is at
  byte `base + (r << stride_log2)` of its channel or bank; narrow rows share
  a word. A memory-tier table starts 4 KiB aligned, an on-chip table aligned
  to max(stride, bus word).

Channel choice balances lookups: every physical table costs one lookup per
query, so a channel holding `L` tables needs `L` DRAM rounds. The placer
finds the smallest round count `R` (starting at ceil(lookups / channels))
for which a greedy largest-first assignment with at most `R` tables per
channel respects every capacity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import NamedTuple, Sequence

import numpy as np

from .cartesian import PhysicalPlan, ProductTable, apply_products, physical_rows
from .config import (
    DDR_CHANNEL_BYTES,
    DDR_CHANNELS,
    HBM_CHANNEL_BYTES,
    HBM_CHANNELS,
    ONCHIP_BYTES,
    TABLE_ALIGN,
    ModelConfig,
    stride_for_dim,
)
from .golden import check_indices

MEMORY_TIERS = ("hbm", "ddr")
DRAM = "dram"  # tier request: any memory channel (HBM or DDR), placer's choice

# Descriptor field widths (docs/contracts.md section 5).
DESC_BITS = {"channel": 8, "base": 40, "stride_log2": 4, "rows": 32, "dim": 9, "lt_a": 8,
             "lt_b": 8, "rows_b": 32, "dim_a": 9, "feat_off_a": 16, "feat_off_b": 16}


class PlacementError(ValueError):
    """A model does not fit the platform; the message names the table and the capacity."""


def _mib(n: int) -> str:
    if n >= 1 << 30 and n % (1 << 30) == 0:
        return f"{n >> 30} GiB"
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    return f"{n} bytes"


def align_up(n: int, a: int = TABLE_ALIGN) -> int:
    return -(-int(n) // a) * a


@dataclass(frozen=True)
class Platform:
    """Memory system the tables are placed on (defaults: U280-like, MicroRec's board).

    `onchip_lookups_per_bank` is how many on-chip lookups a bank serves while
    one DRAM round is in flight (an on-chip read takes about a third of a
    DRAM access, so two fit strictly under one round; MicroRec's build puts
    two tables in each of its PLRAM banks). The automatic tier choice caches
    at most `onchip_banks * onchip_lookups_per_bank` tables on chip.
    `perf_model.PerfParams.onchip_lookups_per_round()` derives the same number
    from the latencies.
    """
    hbm_channels: int = HBM_CHANNELS
    hbm_channel_bytes: int = HBM_CHANNEL_BYTES
    ddr_channels: int = DDR_CHANNELS
    ddr_channel_bytes: int = DDR_CHANNEL_BYTES
    onchip_banks: int = 4
    onchip_bytes: int = ONCHIP_BYTES          # total over all banks
    onchip_word_bytes: int = 32               # bank word = bus word (256 bits)
    onchip_lookups_per_bank: int = 2

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"Platform.{f.name}: must be an integer >= 0, got {v!r}")
        if self.num_channels > 1 << DESC_BITS["channel"] or \
                self.onchip_banks > 1 << DESC_BITS["channel"]:
            raise ValueError("Platform: at most 256 memory channels and 256 on-chip banks "
                             "(8-bit descriptor channel field)")
        w = self.onchip_word_bytes
        if w & (w - 1) or not 2 <= w <= 4096:
            raise ValueError(f"Platform.onchip_word_bytes: must be a power of two in "
                             f"2..4096, got {w}")
        for name in ("hbm_channel_bytes", "ddr_channel_bytes"):
            if getattr(self, name) % TABLE_ALIGN:
                raise ValueError(f"Platform.{name}: must be a multiple of {TABLE_ALIGN}")

    @property
    def num_channels(self) -> int:
        """Memory channels (AXI masters): HBM + DDR."""
        return self.hbm_channels + self.ddr_channels

    @property
    def bank_bytes(self) -> int:
        return self.onchip_bytes // self.onchip_banks if self.onchip_banks else 0

    @property
    def bank_words(self) -> int:
        return self.bank_bytes // self.onchip_word_bytes

    @property
    def onchip_slots(self) -> int:
        """Tables the automatic tier choice may cache on chip."""
        return self.onchip_banks * self.onchip_lookups_per_bank

    def channel_tier(self, ch: int) -> str:
        if 0 <= ch < self.hbm_channels:
            return "hbm"
        if self.hbm_channels <= ch < self.num_channels:
            return "ddr"
        raise ValueError(f"no memory channel {ch} (platform has {self.num_channels})")

    def channel_bytes(self, ch: int) -> int:
        return self.hbm_channel_bytes if self.channel_tier(ch) == "hbm" else self.ddr_channel_bytes

    def channels(self, tier: str) -> range:
        if tier == "hbm":
            return range(0, self.hbm_channels)
        if tier == "ddr":
            return range(self.hbm_channels, self.num_channels)
        if tier == DRAM:
            return range(0, self.num_channels)
        raise ValueError(f"tier {tier!r} has no memory channels")

    def axi_channel(self, tier: str, ch: int) -> int:
        """Tier-local channel number (TableConfig.channel) -> AXI master index."""
        n = self.hbm_channels if tier == "hbm" else self.ddr_channels
        if not 0 <= ch < n:
            raise ValueError(f"{tier} channel {ch} does not exist (platform has {n})")
        return ch if tier == "hbm" else self.hbm_channels + ch


@dataclass(frozen=True)
class PhysicalDescriptor:
    """One physical table, field for field as docs/contracts.md section 5."""
    valid: int
    onchip: int
    channel: int
    base: int
    stride_log2: int
    rows: int
    dim: int
    is_product: int
    lt_a: int
    lt_b: int
    rows_b: int
    dim_a: int
    feat_off_a: int
    feat_off_b: int

    @property
    def stride(self) -> int:
        return 1 << self.stride_log2

    @property
    def rows_a(self) -> int:
        return self.rows // self.rows_b if self.is_product else self.rows

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def check(self, word_bytes: int | None = None) -> None:
        """Raise PlacementError unless every field fits its CSR width and the
        base is aligned (4 KiB; on chip max(stride, word_bytes) if given)."""
        for name, bits in DESC_BITS.items():
            v = getattr(self, name)
            if not 0 <= v < 1 << bits:
                raise PlacementError(f"descriptor field {name}={v} exceeds {bits} bits")
        if not 1 <= self.stride_log2 <= 12:
            raise PlacementError(f"descriptor stride_log2={self.stride_log2} outside 1..12")
        if not self.onchip and self.base % TABLE_ALIGN:
            raise PlacementError(f"descriptor base {self.base:#x} not 4 KiB aligned")
        if self.onchip and word_bytes and self.base % max(self.stride, word_bytes):
            raise PlacementError(f"on-chip descriptor base {self.base:#x} not aligned to "
                                 f"{max(self.stride, word_bytes)} bytes")
        if self.is_product and (self.rows_b == 0 or self.rows % self.rows_b):
            raise PlacementError(f"descriptor rows {self.rows} not a multiple of rows_b")


class Region(NamedTuple):
    """One table in a channel or bank image (bytes; size = rows * stride)."""
    base: int
    size: int
    table: int  # physical table id


@dataclass
class Placement:
    """Where every physical table lives; descriptors and per-channel layouts."""
    cfg: ModelConfig
    plan: PhysicalPlan
    platform: Platform
    tiers: list[str]              # per physical table: "onchip", "hbm" or "ddr"
    channels: list[int]           # AXI master index (memory) or bank (on-chip)
    bases: list[int]              # byte address of row 0 in the channel or bank
    layout: dict[int, list[Region]] = field(default_factory=dict)         # memory channels
    onchip_layout: dict[int, list[Region]] = field(default_factory=dict)  # banks

    @property
    def num_physical(self) -> int:
        return self.plan.num_physical

    @property
    def descriptors(self) -> list[PhysicalDescriptor]:
        offs = self.cfg.feature_offsets
        out = []
        for p, e in enumerate(self.plan.tables):
            dim = self.plan.dim(p)
            common = dict(valid=1, onchip=int(self.tiers[p] == "onchip"),
                          channel=self.channels[p], base=self.bases[p],
                          stride_log2=stride_for_dim(dim).bit_length() - 1,
                          rows=self.plan.rows(p), dim=dim)
            if isinstance(e, ProductTable):
                d = PhysicalDescriptor(**common, is_product=1, lt_a=e.a, lt_b=e.b,
                                       rows_b=e.rows_b, dim_a=self.cfg.tables[e.a].dim,
                                       feat_off_a=offs[e.a], feat_off_b=offs[e.b])
            else:
                d = PhysicalDescriptor(**common, is_product=0, lt_a=e, lt_b=0, rows_b=0,
                                       dim_a=dim, feat_off_a=offs[e], feat_off_b=0)
            out.append(d)
        return out

    # ---- summary numbers --------------------------------------------------
    def lookups_per_channel(self) -> dict[int, int]:
        """Lookups per query on every memory channel (0 for empty ones)."""
        n = {ch: 0 for ch in range(self.platform.num_channels)}
        for t, ch in zip(self.tiers, self.channels):
            if t != "onchip":
                n[ch] += 1
        return n

    def lookups_per_bank(self) -> dict[int, int]:
        n = {b: 0 for b in range(self.platform.onchip_banks)}
        for t, ch in zip(self.tiers, self.channels):
            if t == "onchip":
                n[ch] += 1
        return n

    @property
    def dram_rounds(self) -> int:
        """Max lookups per query on any memory channel."""
        return max(self.lookups_per_channel().values(), default=0)

    @property
    def onchip_rounds(self) -> int:
        return max(self.lookups_per_bank().values(), default=0)

    @property
    def dram_tables(self) -> int:
        return sum(t != "onchip" for t in self.tiers)

    @property
    def onchip_tables(self) -> int:
        return sum(t == "onchip" for t in self.tiers)

    @property
    def onchip_bytes(self) -> int:
        """Bank bytes used, alignment padding included."""
        return sum(onchip_size(self.plan, r.table, self.platform)
                   for regs in self.onchip_layout.values() for r in regs)

    def channel_bytes_used(self, ch: int) -> int:
        regs = self.layout.get(ch, [])
        return align_up(regs[-1].base + regs[-1].size) if regs else 0

    # ---- index mapping and a descriptor-driven reference of the lookup RTL --
    def physical_indices(self, indices) -> np.ndarray:
        """Logical indices [B, T] -> row of every physical table [B, num_physical]."""
        return self.plan.map_indices(indices)

    def read_rows(self, onchip: bool, channel: int, addrs, dim: int) -> np.ndarray:
        """Emulated memory: the `dim` elements stored at byte addresses `addrs`.

        Decodes each address through the layout (which table, which row), as
        the memory images are built, and returns the row's first `dim`
        elements; an address that hits no table row start raises.
        """
        regs = (self.onchip_layout if onchip else self.layout).get(channel, [])
        a = np.asarray(addrs, dtype=np.int64).reshape(-1)
        out = np.zeros((a.size, dim), dtype=np.int16)
        if not a.size:
            return out
        bases = np.array([r.base for r in regs], dtype=np.int64)
        k = np.searchsorted(bases, a, side="right") - 1
        for i in np.unique(k):
            sel = k == i
            if i < 0 or not (a[sel] < regs[i].base + regs[i].size).all():
                raise IndexError(f"{'bank' if onchip else 'channel'} {channel}: address "
                                 f"outside every table")
            p = regs[i].table
            off = a[sel] - regs[i].base
            stride = self.plan.stride(p)
            if (off % stride).any():
                raise IndexError(f"channel {channel}: address not at a row start of table {p}")
            rows = physical_rows(self.plan, p, off // stride)
            n = min(dim, rows.shape[1])
            out[sel, :n] = rows[:, :n]
        return out

    def lookup_features(self, indices) -> np.ndarray:
        """What the lookup engine delivers, computed from the descriptors alone.

        For each descriptor: check the original indices, form the product
        index, read the row at byte `base + index * stride` of its channel or
        bank, split it at `dim_a` and write both halves at their feature
        offsets. Equals `golden.gather` (tests check it).
        """
        idx = check_indices(self.cfg, indices)
        feats = np.zeros((idx.shape[0], self.cfg.feature_len), dtype=np.int16)
        for d in self.descriptors:
            if not d.valid:
                continue
            ia = idx[:, d.lt_a]
            if d.is_product:
                ib = idx[:, d.lt_b]
                if (ia >= d.rows // d.rows_b).any() or (ib >= d.rows_b).any():
                    raise IndexError(f"descriptor lt_a={d.lt_a}: index out of range")
                r = ia * d.rows_b + ib
            else:
                if (ia >= d.rows).any():
                    raise IndexError(f"descriptor lt_a={d.lt_a}: index out of range")
                r = ia
            addr = d.base + (r << d.stride_log2)
            row = self.read_rows(bool(d.onchip), d.channel, addr, d.dim)
            feats[:, d.feat_off_a:d.feat_off_a + d.dim_a] = row[:, :d.dim_a]
            if d.is_product:
                nb = d.dim - d.dim_a
                feats[:, d.feat_off_b:d.feat_off_b + nb] = row[:, d.dim_a:]
        return feats

    def summary(self) -> dict:
        return {"physical_tables": self.num_physical, "dram_tables": self.dram_tables,
                "onchip_tables": self.onchip_tables, "dram_rounds": self.dram_rounds,
                "onchip_rounds": self.onchip_rounds, "onchip_bytes": self.onchip_bytes}


# ---- tier choice -----------------------------------------------------------

def onchip_align(stride: int, platform: Platform) -> int:
    return max(stride, platform.onchip_word_bytes)


def onchip_size(plan: PhysicalPlan, p: int, platform: Platform) -> int:
    """Bank bytes a table takes: rows * stride, padded to its base alignment."""
    return align_up(plan.rows(p) * plan.stride(p), onchip_align(plan.stride(p), platform))


def _onchip_ok(plan: PhysicalPlan, p: int, platform: Platform) -> bool:
    return onchip_size(plan, p, platform) <= platform.bank_bytes


def pack_banks(sizes: dict[int, int], platform: Platform, cap: int | None = None,
               fixed: dict[int, int] | None = None) -> dict[int, int] | None:
    """Tables (id -> bytes) onto banks, fewest tables first; None if they do not fit.

    Largest first; each goes to the bank with the fewest tables (then the
    most free bytes) that has room and, with `cap`, fewer than `cap` tables.
    `fixed` pins tables to banks.
    """
    fixed = fixed or {}
    banks = range(platform.onchip_banks)
    load = {b: 0 for b in banks}
    free = {b: platform.bank_bytes for b in banks}
    out: dict[int, int] = {}
    for t, b in fixed.items():
        if b not in load or free[b] < sizes[t]:
            return None
        load[b] += 1
        free[b] -= sizes[t]
        out[t] = b
    for t in sorted((t for t in sizes if t not in fixed), key=lambda t: (-sizes[t], t)):
        ok = [b for b in banks if free[b] >= sizes[t] and (cap is None or load[b] < cap)]
        if not ok:
            return None
        b = min(ok, key=lambda b: (load[b], -free[b], b))
        load[b] += 1
        free[b] -= sizes[t]
        out[t] = b
    return out


def auto_tiers(plan: PhysicalPlan, platform: Platform) -> list[str]:
    """MicroRec's caching rule: the smallest tables on chip, while slots and banks allow.

    Smallest first (ties: tables the config already marks on-chip, then
    physical order), up to `platform.onchip_slots` tables with at most
    `onchip_lookups_per_bank` per bank, so on-chip lookups stay under one
    DRAM round; tables that do not fit the banks are skipped. Everything
    else goes to DRAM (placer's channel choice).
    """
    cfg = plan.cfg
    order = sorted(range(plan.num_physical), key=lambda p: (
        plan.rows(p) * plan.stride(p),
        0 if (not isinstance(plan.tables[p], ProductTable)
              and cfg.tables[plan.tables[p]].tier == "onchip") else 1, p))
    chosen: dict[int, int] = {}
    for p in order:
        if len(chosen) >= platform.onchip_slots:
            break
        if not _onchip_ok(plan, p, platform):
            continue  # larger than a bank
        trial = {**chosen, p: onchip_size(plan, p, platform)}
        if pack_banks(trial, platform, cap=platform.onchip_lookups_per_bank) is not None:
            chosen = trial
    return ["onchip" if p in chosen else DRAM for p in range(plan.num_physical)]


def _config_tier(plan: PhysicalPlan, p: int, platform: Platform) -> str:
    """The config's tier; a product keeps its tables' common tier (on chip only
    if it still fits a bank), else any memory channel."""
    cfg, e = plan.cfg, plan.tables[p]
    if isinstance(e, ProductTable):
        ta, tb = cfg.tables[e.a].tier, cfg.tables[e.b].tier
        if ta != tb or (ta == "onchip" and not _onchip_ok(plan, p, platform)):
            return DRAM
        return ta
    return cfg.tables[e].tier


# ---- placement -------------------------------------------------------------

def _as_plan(cfg: ModelConfig, plan_or_pairs) -> PhysicalPlan:
    if isinstance(plan_or_pairs, PhysicalPlan):
        if plan_or_pairs.cfg is not cfg and plan_or_pairs.cfg != cfg:
            raise ValueError("plan: built for a different config")
        return plan_or_pairs
    return apply_products(cfg, list(plan_or_pairs or ()))


def place(cfg: ModelConfig, plan=(), platform: Platform | None = None, *,
          tiers: Sequence[str | None] | None = None,
          respect_tiers: bool = True, respect_channels: bool = True) -> Placement:
    """Place the physical tables of `cfg` (with Cartesian `plan`) on `platform`.

    plan: pairs of logical tables (indices or names) or a PhysicalPlan.
    tiers: optional per-physical-table tier request ("onchip", "hbm", "ddr",
    "dram" = any memory channel, None = derive). Derived tiers: with
    `respect_tiers`, the config's tier (a product keeps its tables' common
    tier, else "dram"); without, `auto_tiers` (MicroRec's caching rule).
    respect_channels: keep a plain table's configured channel when it stays
    in its configured tier. Raises PlacementError when something does not fit.
    """
    platform = platform or Platform()
    plan = _as_plan(cfg, plan)
    n = plan.num_physical
    if cfg.num_tables > 1 << DESC_BITS["lt_a"]:
        raise PlacementError(f"model has {cfg.num_tables} logical tables; descriptors "
                             f"address at most {1 << DESC_BITS['lt_a']}")
    if cfg.feature_len > 1 << DESC_BITS["feat_off_a"]:
        raise PlacementError(f"feature length {cfg.feature_len} exceeds 16-bit offsets")
    if tiers is not None and len(tiers) != n:
        raise ValueError(f"tiers: expected {n} entries (one per physical table), got {len(tiers)}")
    auto = None if respect_tiers else auto_tiers(plan, platform)
    req: list[str] = []
    for p, e in enumerate(plan.tables):
        t = tiers[p] if tiers is not None and tiers[p] is not None else \
            (_config_tier(plan, p, platform) if respect_tiers else auto[p])
        if t not in ("onchip", "hbm", "ddr", DRAM):
            raise ValueError(f"tiers[{p}]: unknown tier {t!r}")
        req.append(t)
    fixed: dict[int, int] = {}
    if respect_channels:
        for p, e in enumerate(plan.tables):
            if isinstance(e, ProductTable):
                continue
            tc = cfg.tables[e]
            if tc.channel is None or tc.tier != req[p]:
                continue
            if tc.tier == "onchip":
                if tc.channel >= platform.onchip_banks:
                    raise PlacementError(f"table {tc.name!r}: on-chip bank {tc.channel} does "
                                         f"not exist (platform has {platform.onchip_banks})")
                fixed[p] = tc.channel
            else:
                try:
                    fixed[p] = platform.axi_channel(tc.tier, tc.channel)
                except ValueError as err:
                    raise PlacementError(f"table {tc.name!r}: {err}") from None

    tiers_out = [""] * n
    chans = [0] * n
    bases = [0] * n
    onchip_layout = _place_onchip(plan, platform, req, fixed, tiers_out, chans, bases)
    layout = _place_memory(plan, platform, req, fixed, tiers_out, chans, bases)
    pl = Placement(cfg, plan, platform, tiers_out, chans, bases, layout, onchip_layout)
    for d in pl.descriptors:
        d.check(platform.onchip_word_bytes)
    return pl


def _name(plan: PhysicalPlan, p: int) -> str:
    e = plan.tables[p]
    if isinstance(e, ProductTable):
        return f"{plan.cfg.tables[e.a].name} x {plan.cfg.tables[e.b].name}"
    return plan.cfg.tables[e].name


def _place_onchip(plan, platform, req, fixed, tiers_out, chans, bases):
    ids = [p for p in range(plan.num_physical) if req[p] == "onchip"]
    sizes = {p: onchip_size(plan, p, platform) for p in ids}
    for p in ids:
        if sizes[p] > platform.bank_bytes:
            raise PlacementError(
                f"table {_name(plan, p)!r}: {sizes[p]} bytes do not fit an on-chip bank "
                f"({platform.onchip_banks} banks of {_mib(platform.bank_bytes)}, "
                f"{_mib(platform.onchip_bytes)} on chip)")
    pinned = {p: b for p, b in fixed.items() if req[p] == "onchip"}
    banks = pack_banks(sizes, platform, fixed=pinned)
    if banks is None:
        # name the table that broke it: add tables largest first until it fails
        trial: dict[int, int] = {}
        for p in sorted(ids, key=lambda p: (-sizes[p], p)):
            trial[p] = sizes[p]
            if pack_banks(trial, platform, fixed={q: b for q, b in pinned.items()
                                                  if q in trial}) is None:
                raise PlacementError(
                    f"table {_name(plan, p)!r}: {sizes[p]} bytes do not fit on chip "
                    f"({platform.onchip_banks} banks of {_mib(platform.bank_bytes)} = "
                    f"{_mib(platform.onchip_bytes)}; {sum(sizes.values())} bytes requested)")
        raise PlacementError("on-chip tables do not fit")  # pragma: no cover
    layout: dict[int, list[Region]] = {}
    for b in range(platform.onchip_banks):
        # largest alignment first: every base is then aligned without padding
        nxt = 0
        for p in sorted((q for q in ids if banks[q] == b),
                        key=lambda q: (-onchip_align(plan.stride(q), platform), q)):
            layout.setdefault(b, []).append(Region(nxt, plan.rows(p) * plan.stride(p), p))
            tiers_out[p], chans[p], bases[p] = "onchip", b, nxt
            nxt += sizes[p]
    return layout


def _place_memory(plan, platform, req, fixed, tiers_out, chans, bases):
    ids = [p for p in range(plan.num_physical) if req[p] != "onchip"]
    size = {p: align_up(plan.rows(p) * plan.stride(p)) for p in ids}
    cap = {ch: platform.channel_bytes(ch) for ch in range(platform.num_channels)}

    def describe(p: int) -> str:
        parts = [f"{k} channels hold {_mib(v)} each ({n} channels)" for k, v, n in
                 (("hbm", platform.hbm_channel_bytes, platform.hbm_channels),
                  ("ddr", platform.ddr_channel_bytes, platform.ddr_channels))
                 if req[p] in (k, DRAM)]
        return "; ".join(parts) or "no channel of that tier"

    # fixed tables first: their channel is given
    used0 = {ch: 0 for ch in cap}
    load0 = {ch: 0 for ch in cap}
    for p in sorted(q for q in ids if q in fixed):
        ch = fixed[p]
        if used0[ch] + size[p] > cap[ch]:
            raise PlacementError(
                f"table {_name(plan, p)!r} ({plan.rows(p) * plan.stride(p)} bytes) does not fit "
                f"{platform.channel_tier(ch)} channel {ch}: {used0[ch]} bytes already used "
                f"of {_mib(cap[ch])}")
        used0[ch] += size[p]
        load0[ch] += 1
    free_ids = sorted((p for p in ids if p not in fixed), key=lambda p: (-size[p], p))
    allowed = {}
    for p in free_ids:
        chs = list(platform.channels(req[p]))
        if not any(size[p] <= cap[ch] for ch in chs):
            raise PlacementError(f"table {_name(plan, p)!r} ({plan.rows(p) * plan.stride(p)} "
                                 f"bytes) fits no {req[p]} channel: {describe(p)}")
        allowed[p] = chs
    tier_rank = {"hbm": 0, "ddr": 1}

    def attempt(limit: int | None):
        used, load, assign = dict(used0), dict(load0), {}
        for p in free_ids:
            ok = [ch for ch in allowed[p] if used[ch] + size[p] <= cap[ch]
                  and (limit is None or load[ch] < limit)]
            if not ok:
                return None, p
            ch = min(ok, key=lambda c: (load[c], tier_rank[platform.channel_tier(c)],
                                        used[c] - cap[c], c))
            used[ch] += size[p]
            load[ch] += 1
            assign[p] = ch
        return assign, None

    assign, bad = attempt(None)
    if assign is None:
        raise PlacementError(f"table {_name(plan, bad)!r} ({plan.rows(bad) * plan.stride(bad)} "
                             f"bytes) does not fit: {describe(bad)}, all too full")
    nch = max(1, platform.num_channels)
    lo = max([-(-len(ids) // nch)] + list(load0.values()))
    for limit in range(lo, len(ids) + 1):
        a, _ = attempt(limit)
        if a is not None:
            assign = a
            break
    assign.update({p: fixed[p] for p in ids if p in fixed})
    layout: dict[int, list[Region]] = {}
    for ch in range(platform.num_channels):
        nxt = 0
        for p in sorted(q for q in ids if assign[q] == ch):
            layout.setdefault(ch, []).append(Region(nxt, plan.rows(p) * plan.stride(p), p))
            tiers_out[p], chans[p], bases[p] = platform.channel_tier(ch), ch, nxt
            nxt += size[p]
    return layout
