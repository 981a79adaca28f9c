"""Configuration of the SV memory model: timing presets and the per-channel registers.

A preset states its AXI clock; every ns figure is converted to cycles of
that clock (rounded up). Pass ``axi_mhz=`` to restate a preset in the clock
your harness actually runs (e.g. the 120-140 MHz kernel clock): latencies
shrink in cycles and the bandwidth cap grows in bytes per cycle.

Sources (docs/reference.md, "HBM"): U280 pseudo-channel 14.375 GB/s,
AXI 256 bit at 450 MHz, 64 IDs, tREFI 3.9 us; DRAMsim3 HBM2: CL = tRCD = tRP
= 14 ns (tCK 1 ns), tRFC 260 ns, 4 bank groups x 4 banks, open page.
Not in reference.md (assumptions, flagged in README): the 91 ns fixed
controller/switch latency (gives a 48-cycle page hit at 450 MHz, in line with
published U280 measurements), the 1 KiB page, and all DDR4 figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from . import regs as R

MIB = 1 << 20


def ns_to_cycles(ns: float, mhz: float) -> int:
    return int(math.ceil(ns * mhz / 1000.0 - 1e-9)) if ns > 0 else 0


@dataclass(frozen=True)
class HbmTiming:
    """Timing of one channel, in cycles of the harness clock."""

    name: str = "ideal"
    axi_mhz: float = 0.0             # the clock the cycle numbers assume (0: unstated, ideal)
    lat_base: int = 10               # fixed part of read latency (ideal: the whole latency)
    t_cl: int = 0
    t_rcd: int = 0
    t_rp: int = 0
    bank_model: bool = False         # open-page banks (hit/closed/miss) and bank occupancy
    col_bits: int = 10               # address bits inside a page
    bank_bits: int = 4               # banks = 2**bank_bits (<= 64)
    t_refi: int = 0                  # refresh interval, 0: no refresh
    t_rfc: int = 0                   # refresh blackout
    ref_phase_step: int = 0          # channel c refreshes at phase c * step (staggered)
    bw_beats_per_cycle: float = 1.0  # >= 1: one beat per cycle (uncapped)
    bw_burst: int = 4                # token bucket depth, beats
    max_outstanding: int = 64
    ooo: bool = False                # different IDs may complete out of order
    jitter: int = 0                  # extra latency uniform in 0..jitter
    w_lat: int = 10                  # last W beat to BVALID
    axi3: bool = False               # bursts of at most 16 beats
    ar_flow_ctrl: bool = False       # False: exceeding max_outstanding is a master violation
    hist_shift: int = 3              # latency histogram bin width 2**hist_shift cycles

    @property
    def hit_latency(self) -> int:
        return self.lat_base + self.t_cl

    @property
    def closed_latency(self) -> int:
        return self.lat_base + self.t_rcd + self.t_cl

    @property
    def miss_latency(self) -> int:
        return self.lat_base + self.t_rp + self.t_rcd + self.t_cl

    def with_(self, **kw) -> "HbmTiming":
        return replace(self, **kw)


def ideal(latency: int = 10, **kw) -> HbmTiming:
    """Fixed latency, one beat per cycle, in order: for exact unit tests."""
    return HbmTiming(name="ideal", lat_base=latency, w_lat=latency, **kw)


def u280(axi_mhz: float = 450.0, data_w: int = 256, **kw) -> HbmTiming:
    """One U280 HBM2 pseudo-channel (reference.md figures) at ``axi_mhz``."""
    c = lambda ns: ns_to_cycles(ns, axi_mhz)  # noqa: E731
    bw = 14.375e9 / (axi_mhz * 1e6) / (data_w / 8)
    t = HbmTiming(name="u280", axi_mhz=axi_mhz, lat_base=c(91.0), t_cl=c(14), t_rcd=c(14), t_rp=c(14),
                  bank_model=True, col_bits=10, bank_bits=4, t_refi=c(3900), t_rfc=c(260),
                  ref_phase_step=c(3900) // 32, bw_beats_per_cycle=bw, bw_burst=4,
                  max_outstanding=64, ooo=True, w_lat=c(91.0 + 14))
    return t.with_(**kw)


def ddr4(axi_mhz: float = 300.0, data_w: int = 256, **kw) -> HbmTiming:
    """A DDR4-2400 channel (the DDR tier): higher latency, fewer bytes per cycle."""
    c = lambda ns: ns_to_cycles(ns, axi_mhz)  # noqa: E731
    bw = 19.2e9 * 0.5 / (axi_mhz * 1e6) / (data_w / 8)  # ~50% efficiency on random rows
    t = HbmTiming(name="ddr4", axi_mhz=axi_mhz, lat_base=c(120.0), t_cl=c(13.32), t_rcd=c(13.32),
                  t_rp=c(13.32), bank_model=True, col_bits=13, bank_bits=4, t_refi=c(7800),
                  t_rfc=c(350), ref_phase_step=0, bw_beats_per_cycle=bw, bw_burst=8,
                  max_outstanding=64, ooo=True, w_lat=c(133.0))
    return t.with_(**kw)


PRESETS = {"ideal": ideal, "u280": u280, "ddr4": ddr4}


def preset(name: str, **kw) -> HbmTiming:
    if name not in PRESETS:
        raise ValueError(f"unknown HBM timing preset {name!r} (have {sorted(PRESETS)})")
    return PRESETS[name](**kw)


@dataclass
class HbmConfig:
    """Everything the model needs before traffic; see ``channel_regs``."""

    num_ch: int = 32
    data_w: int = 256
    id_w: int = 6
    addr_w: int = 34
    nreg: int = 8                       # region descriptors per channel (SV parameter NREG)
    ch_bytes: int = 256 * MIB           # capacity; accesses at or above -> DECERR
    timing: HbmTiming = field(default_factory=ideal)
    per_channel: dict = field(default_factory=dict)   # ch -> HbmTiming overriding `timing`
    seed: int = 1                       # model seed (contracts.md section 1)
    emb_shift: int = 5
    checks: bool = True                 # protocol checks of the master
    allow_unaligned: bool = False       # True: unaligned start addresses are legal (AXI allows them
                                        # for INCR; the lookup engines must not issue them)
    log: bool = False                   # transaction log -> analysis port (costs per transaction)
    rng_seed: int = 1                   # fault/backpressure randomness (set from the test seed)
    fail_on_violation: bool = True
    prefix: str = "hbm_"                # toplevel port prefix of the model's control ports

    @classmethod
    def preset(cls, name: str = "ideal", *, timing_kw: dict | None = None, **kw) -> "HbmConfig":
        data_w = kw.get("data_w", 256)
        tkw = dict(timing_kw or {})
        if name in ("u280", "ddr4"):
            tkw.setdefault("data_w", data_w)
        if name == "ddr4":
            kw.setdefault("ch_bytes", 16 << 30)
        return cls(timing=preset(name, **tkw), **kw)

    def validate(self) -> None:
        if not 1 <= self.num_ch <= 64:
            raise ValueError(f"num_ch {self.num_ch} outside 1..64")
        if self.data_w not in (64, 128, 256, 512):
            raise ValueError(f"data_w {self.data_w} not one of 64, 128, 256, 512")
        for ch in range(self.num_ch):
            t = self.timing_of(ch)
            if not 0 <= t.bank_bits <= 6:
                raise ValueError(f"channel {ch}: bank_bits {t.bank_bits} outside 0..6")
            if t.lat_base < 1:
                raise ValueError(f"channel {ch}: latency must be >= 1 cycle")

    def timing_of(self, ch: int) -> HbmTiming:
        return self.per_channel.get(ch, self.timing)

    @property
    def beat_bytes(self) -> int:
        return self.data_w // 8

    def channel_regs(self, ch: int) -> dict[int, int]:
        """Register index -> value for channel ``ch`` (faults and regions excluded)."""
        t = self.timing_of(ch)
        ctrl = ((1 if t.ooo else 0) | (2 if self.log else 0) | (4 if t.ar_flow_ctrl else 0)
                | (8 if self.checks else 0) | (16 if t.axi3 else 0) | (32 if t.bank_model else 0)
                | (64 if self.allow_unaligned else 0))
        bw = 65536 if t.bw_beats_per_cycle >= 1.0 else max(1, int(round(t.bw_beats_per_cycle * 65536)))
        return {
            R.R_CTRL: ctrl, R.R_LAT_BASE: t.lat_base, R.R_T_CL: t.t_cl, R.R_T_RCD: t.t_rcd,
            R.R_T_RP: t.t_rp, R.R_COL_BITS: t.col_bits, R.R_BANK_BITS: t.bank_bits,
            R.R_T_REFI: t.t_refi, R.R_T_RFC: t.t_rfc,
            R.R_REF_PHASE: (ch * t.ref_phase_step) % t.t_refi if t.t_refi else 0,
            R.R_BW_NUM: bw, R.R_BW_BURST: t.bw_burst, R.R_MAX_OUT: t.max_outstanding,
            R.R_CH_BYTES: self.ch_bytes, R.R_JITTER: t.jitter, R.R_W_LAT: t.w_lat,
            R.R_HIST_SHIFT: t.hist_shift, R.R_SEED: self.seed & 0xFFFFFFFF,
            R.R_EMB_SHIFT: self.emb_shift,
            R.R_RNG_SEED: ((self.rng_seed * 0x9E3779B1 + ch * 0x85EBCA6B) & 0xFFFFFFFF) or 1,
        }

    def sv_parameters(self) -> dict:
        return {"NUM_CH": self.num_ch, "DATA_W": self.data_w, "ID_W": self.id_w, "ADDR_W": self.addr_w}
