"""Analytical performance model: lookup rounds, bandwidth, MLP cycles, pipelining.

Everything is in clock cycles of the accelerator; microseconds and items/s
follow from `PerfParams.clock_hz`. The defaults describe MicroRec's board at
its kernel clock (docs/reference.md): 120 MHz; an HBM or DDR random
access "a couple of hundred ns" (HBM 300 ns = 36 cycles, DDR 333 ns = 40);
an on-chip lookup about a third of HBM (12 cycles); 256-bit data beats. With
them the lookup stage of microrec_small takes 55 cycles = 458 ns at one DRAM
round and 88 cycles = 733 ns at two (MicroRec Table 3: 458 ns and 774 ns).
Every constant is a field, so `calibrate` can fit them to cycle counts
measured on the RTL (the HBM model's `u280` preset will replace the guesses).

Stages (one query flows through them in order; queries overlap):
- lookup: the query's indices arrive (`ceil(T / indices_per_beat)` beats),
  then every memory channel and on-chip bank serves its lookups. A channel
  with L lookups of B beats in total, latency `lat` and `o` reads in flight
  takes `ceil(L / o) * lat + B` cycles (the rounds term plus the bandwidth
  term) and can accept a new query every `max(B, ceil(L * lat / o))`
  cycles. The stage takes the slowest channel plus `lookup_overhead`.
  With `outstanding` >= the lookups of every channel (this project's lookup
  RTL: one AXI ID per read, 64 IDs) a channel's latency is one memory
  latency plus its beats: DRAM rounds cost bus cycles, not memory
  latencies. `lookup_issue` adds cycles per lookup beyond the first
  (engine issue rate, DRAM bank conflicts), fitted to RTL runs.
- MLP layer l (in -> out) on P_l PEs of U MAC lanes: `ceil(out / P_l) *
  ceil(in / U)` cycles of MACs, plus `layer_overhead` cycles of latency
  (PE pipeline, requantize, hand-off); the interval is the MAC cycles plus
  `layer_interval_overhead`. With `MlpArch(shared=True)` (this project's
  MLP engine: one P x U array runs the layers one after another, the bank
  plan of tb/mlp/mlp_layout.py) the layers form one stage whose interval
  is the sum of their MAC cycles.
Latency = sum of the stage latencies; throughput = 1 / max stage interval.

DRAM refresh (optional, off by default): a memory channel c with refresh
interval tREFI, blackout tRFC and phase c * step (the HBM model's rule:
a read that would start inside [k*tREFI - phase, +tRFC) waits for its
end) delays a query arriving at time t by the rest of the blackout. The
lookup latency is then the median over arrival times t (uniform over the
refresh period) of max over channels (channel latency + its refresh wait):
with 32 staggered HBM channels some channel is always refreshing, so the
median query waits for one; with a few channels most queries do not.

`predict_lookup` gives the lookup stage alone (what the lookup RTL bench
measures); `Sample(lookup_only=True)` calibrates against it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, fields, replace
from typing import Sequence

import numpy as np

from .config import ModelConfig
from .placement import Placement, Platform, place


@dataclass(frozen=True)
class PerfParams:
    clock_hz: float = 120e6          # MicroRec's kernel clock (120-140 MHz)
    lat_hbm: int = 36                # cycles per HBM random read (300 ns)
    lat_ddr: int = 40                # cycles per DDR random read (333 ns)
    lat_onchip: int = 12             # cycles per on-chip read (a third of HBM)
    bus_bytes: int = 32              # memory data beat (256-bit AXI)
    outstanding: int = 1             # reads in flight per memory channel
    onchip_outstanding: int = 1      # reads in flight per on-chip bank
    indices_per_beat: int = 8        # 32-bit indices per query-stream beat
    lookup_overhead: int = 8         # decode, address, feature assembly
    lookup_issue: int = 0            # extra cycles per lookup after a channel's first
    hbm_refi: int = 0                # HBM refresh interval tREFI, cycles (0: no refresh)
    hbm_rfc: int = 0                 # HBM refresh blackout tRFC, cycles
    hbm_ref_step: int = 0            # refresh phase of AXI channel c: c * step (staggered)
    ddr_refi: int = 0                # the same for DDR channels
    ddr_rfc: int = 0
    ddr_ref_step: int = 0
    layer_overhead: int = 4          # per MLP layer latency beyond the MACs
    layer_interval_overhead: int = 0  # per MLP layer interval beyond the MACs

    def __post_init__(self) -> None:
        if not self.clock_hz > 0:
            raise ValueError(f"PerfParams.clock_hz: must be > 0, got {self.clock_hz}")
        for f in fields(self):
            if f.name == "clock_hz":
                continue
            v = getattr(self, f.name)
            lo = 1 if f.name in ("bus_bytes", "outstanding", "onchip_outstanding",
                                 "indices_per_beat", "lat_hbm", "lat_ddr", "lat_onchip") else 0
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"PerfParams.{f.name}: must be an integer >= {lo}, got {v!r}")

    def latency(self, tier: str) -> int:
        return {"hbm": self.lat_hbm, "ddr": self.lat_ddr, "onchip": self.lat_onchip}[tier]

    def onchip_lookups_per_round(self) -> int:
        """On-chip lookups per bank that finish strictly within one HBM round."""
        return (self.lat_hbm - 1) // self.lat_onchip

    def ns(self, cycles: float) -> float:
        return cycles * 1e9 / self.clock_hz


@dataclass(frozen=True)
class MlpArch:
    """MLP engine: PEs per layer (one int for all layers, or one per layer), lanes each.

    MicroRec's small-model build: 128 / 128 / 32 PEs of 8 lanes for its
    hidden layers (`MICROREC_MLP`; the 1-wide output layer gets 1 PE).
    """
    pes: int | tuple[int, ...] = 16
    lanes: int = 8
    shared: bool = False   # one array for all layers, run in sequence (our mlp_engine)

    def pes_for(self, num_layers: int) -> list[int]:
        if isinstance(self.pes, int):
            p = [self.pes] * num_layers
        else:
            p = list(self.pes)
            if len(p) != num_layers:
                raise ValueError(f"MlpArch.pes: {len(p)} entries for {num_layers} layers")
        if any(x < 1 for x in p) or self.lanes < 1:
            raise ValueError("MlpArch: PEs and lanes must be >= 1")
        return p


MICROREC_MLP = MlpArch(pes=(128, 128, 32, 1), lanes=8)
# This project's MLP engine (apps/microrec_sim.py): one array of 128 PEs x 24 lanes = 3072 MAC lanes.
ENGINE_MLP = MlpArch(pes=128, lanes=24, shared=True)


@dataclass(frozen=True)
class Stage:
    name: str
    latency: int    # cycles from input to output
    interval: int   # cycles between successive queries


@dataclass
class PerfResult:
    params: PerfParams
    stages: list[Stage]
    dram_rounds: int
    onchip_rounds: int
    channel_cycles: dict[str, int] = field(default_factory=dict)  # per channel/bank latency

    @property
    def latency_cycles(self) -> int:
        return sum(s.latency for s in self.stages)

    @property
    def interval_cycles(self) -> int:
        return max(s.interval for s in self.stages)

    @property
    def bottleneck(self) -> str:
        return max(self.stages, key=lambda s: s.interval).name

    @property
    def latency_us(self) -> float:
        return self.latency_cycles / self.params.clock_hz * 1e6

    @property
    def items_per_cycle(self) -> float:
        return 1.0 / self.interval_cycles

    @property
    def items_per_s(self) -> float:
        return self.params.clock_hz / self.interval_cycles

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def batch_cycles(self, n: int) -> int:
        """Cycles for n back-to-back queries: first latency, then one per interval."""
        return self.latency_cycles + (int(n) - 1) * self.interval_cycles if n > 0 else 0

    def summary(self) -> dict:
        return {"latency_cycles": self.latency_cycles, "latency_us": self.latency_us,
                "interval_cycles": self.interval_cycles, "items_per_cycle": self.items_per_cycle,
                "items_per_s": self.items_per_s, "bottleneck": self.bottleneck,
                "dram_rounds": self.dram_rounds,
                "stages": {s.name: (s.latency, s.interval) for s in self.stages}}


@dataclass(frozen=True)
class LookupProfile:
    """What the lookup stage needs from a placement: per channel/bank (tier, lookups, beats)."""
    num_tables: int
    channels: tuple[tuple[str, str, int, int], ...]  # (label, tier, lookups, beats)

    @classmethod
    def from_placement(cls, pl: Placement, bus_bytes: int = 32) -> LookupProfile:
        acc: dict[tuple[str, int], list[int]] = {}
        for p in range(pl.num_physical):
            tier, ch = pl.tiers[p], pl.channels[p]
            beats = 1 if tier == "onchip" else -(-pl.plan.stride(p) // bus_bytes)
            a = acc.setdefault((tier, ch), [0, 0])
            a[0] += 1
            a[1] += beats
        order = sorted(acc.items(), key=lambda kv: (kv[0][0] == "onchip", kv[0][1]))
        chans = tuple((f"{'bank' if t == 'onchip' else 'ch'}{c}", t, n, b)
                      for (t, c), (n, b) in order)
        return cls(pl.cfg.num_tables, chans)


REFRESH_HORIZON = 1 << 16   # arrival times sampled for the refresh median (cycles)


def refresh_waits(channels: Sequence[tuple[int, str]], params: PerfParams) -> np.ndarray | None:
    """Refresh wait [channel, t] for arrival times t over one common refresh
    period (capped at REFRESH_HORIZON); None when no channel refreshes.
    `channels`: (AXI channel index, tier) of the memory channels in use."""
    spec = []
    for ch, tier in channels:
        refi, rfc, step = ((params.hbm_refi, params.hbm_rfc, params.hbm_ref_step) if tier == "hbm"
                           else (params.ddr_refi, params.ddr_rfc, params.ddr_ref_step))
        spec.append((refi, rfc, (ch * step) % refi if refi else 0))
    refis = [r for r, f, _ in spec if r and f]
    if not refis:
        return None
    horizon = min(math.lcm(*refis), REFRESH_HORIZON)
    t = np.arange(horizon)
    out = np.zeros((len(spec), horizon), dtype=np.int64)
    for i, (refi, rfc, phase) in enumerate(spec):
        if refi and rfc:
            ph = (t + phase) % refi
            out[i] = np.where(ph < rfc, rfc - ph, 0)
    return out


def lookup_stage(profile: LookupProfile, params: PerfParams) -> tuple[Stage, dict[str, int]]:
    per: dict[str, int] = {}
    lat_max, iv_max = 0, 0
    mem: list[tuple[int, str, int]] = []
    for label, tier, n, beats in profile.channels:
        o = params.onchip_outstanding if tier == "onchip" else params.outstanding
        lat = params.latency(tier)
        c_lat = -(-n // o) * lat + beats + (n - 1) * params.lookup_issue
        c_iv = max(beats + (n - 1) * params.lookup_issue, -(-n * lat // o))
        per[label] = c_lat
        lat_max, iv_max = max(lat_max, c_lat), max(iv_max, c_iv)
        if tier != "onchip":
            mem.append((int(label[2:]), tier, c_lat))   # label "ch<AXI index>"
    waits = refresh_waits([(c, t) for c, t, _ in mem], params) if mem else None
    if waits is not None:
        onchip_max = max([v for k, v in per.items() if k.startswith("bank")], default=0)
        per_t = (np.array([c for _, _, c in mem])[:, None] + waits).max(axis=0)
        lat_max = max(onchip_max, int(np.ceil(np.median(per_t))))
    in_beats = -(-profile.num_tables // params.indices_per_beat)
    return Stage("lookup", params.lookup_overhead + in_beats + lat_max,
                 max(in_beats, iv_max)), per


def mlp_macs(cfg: ModelConfig, mlp: MlpArch) -> list[int]:
    """MAC cycles per layer: ceil(out / P) rounds x ceil(in / U) beats (the bank plan)."""
    return [math.ceil(fan_out / p) * math.ceil(fan_in / mlp.lanes)
            for (fan_in, fan_out), p in zip(cfg.layer_shapes, mlp.pes_for(len(cfg.layer_shapes)))]


def mlp_stages(cfg: ModelConfig, mlp: MlpArch, params: PerfParams) -> list[Stage]:
    macs = mlp_macs(cfg, mlp)
    if mlp.shared:
        n = len(macs)
        return [Stage("mlp", sum(macs) + n * params.layer_overhead,
                      sum(macs) + n * params.layer_interval_overhead)]
    return [Stage(f"mlp{layer}", m + params.layer_overhead, m + params.layer_interval_overhead)
            for layer, m in enumerate(macs)]


def predict(placement: Placement, params: PerfParams | None = None,
            mlp: MlpArch | None = None) -> PerfResult:
    """Latency and throughput of `placement`'s model on the accelerator."""
    params = params or PerfParams()
    mlp = mlp or MlpArch()
    prof = LookupProfile.from_placement(placement, params.bus_bytes)
    return _predict(placement.cfg, prof, params, mlp, placement.dram_rounds,
                    placement.onchip_rounds)


def predict_lookup(placement: Placement, params: PerfParams | None = None) -> PerfResult:
    """The lookup stage alone (what the lookup subsystem RTL measures)."""
    params = params or PerfParams()
    prof = LookupProfile.from_placement(placement, params.bus_bytes)
    return _predict(placement.cfg, prof, params, None, placement.dram_rounds,
                    placement.onchip_rounds)


def _predict(cfg, prof, params, mlp, dram_rounds, onchip_rounds) -> PerfResult:
    """mlp None: the lookup stage only."""
    look, per = lookup_stage(prof, params)
    stages = [look] + (mlp_stages(cfg, mlp, params) if mlp is not None else [])
    return PerfResult(params, stages, dram_rounds, onchip_rounds, per)


def predict_config(cfg: ModelConfig, pairs=(), platform: Platform | None = None,
                   params: PerfParams | None = None, mlp: MlpArch | None = None,
                   **place_kw) -> PerfResult:
    """`predict` after `placement.place(cfg, pairs, platform, **place_kw)`."""
    return predict(place(cfg, pairs, platform, **place_kw), params, mlp)


# ---- calibration -----------------------------------------------------------

@dataclass
class Sample:
    """A measurement to fit: a placement and MLP engine, and what the RTL took."""
    placement: Placement
    mlp: MlpArch = field(default_factory=MlpArch)
    latency_cycles: float | None = None
    interval_cycles: float | None = None
    lookup_only: bool = False   # measured the lookup stage alone (lookup RTL bench)


@dataclass
class Calibration:
    params: PerfParams
    errors: list[tuple[float | None, float | None]]  # relative (latency, interval) error per sample

    @property
    def max_rel_error(self) -> float:
        return max((abs(e) for pair in self.errors for e in pair if e is not None), default=0.0)


CALIBRATABLE = ("lat_hbm", "lat_ddr", "lat_onchip", "lookup_overhead", "lookup_issue",
                "layer_overhead", "layer_interval_overhead")
LINEAR = ("lookup_overhead", "layer_overhead")  # latency is linear in these


def calibrate(samples: Sequence[Sample], params: PerfParams | None = None,
              fit: Sequence[str] = ("lat_hbm", "lookup_overhead", "layer_overhead"),
              max_iter: int = 50, starts: Sequence[dict] = ()) -> Calibration:
    """Fit integer parameters `fit` to measured cycles (least squared relative error).

    Latency is linear in `lookup_overhead` and `layer_overhead`: those are
    solved by least squares (then the best integer neighbour) for every trial
    value of the others, which are searched by coordinate descent with
    doubling/halving steps. Parameters not in `fit` stay as given.
    `starts`: further starting points (dicts of parameter values) for the
    descent, the best result kept (once refresh and the max over channels
    enter, the loss is piecewise constant in the latencies and one descent
    can stop in a local minimum). Returns the fitted params and the
    relative errors (predicted - measured) / measured per sample.
    """
    params = params or PerfParams()
    for f in fit:
        if f not in CALIBRATABLE:
            raise ValueError(f"fit: cannot calibrate {f!r} (choose from {CALIBRATABLE})")
    lin = [f for f in fit if f in LINEAR]
    nonlin = [f for f in fit if f not in LINEAR]
    prepared = [(s, LookupProfile.from_placement(s.placement, params.bus_bytes),
                 s.placement.dram_rounds, s.placement.onchip_rounds) for s in samples]

    def errors(p: PerfParams):
        out = []
        for s, prof, dr, orr in prepared:
            r = _predict(s.placement.cfg, prof, p, None if s.lookup_only else s.mlp, dr, orr)
            el = None if s.latency_cycles is None else \
                (r.latency_cycles - s.latency_cycles) / s.latency_cycles
            ei = None if s.interval_cycles is None else \
                (r.interval_cycles - s.interval_cycles) / s.interval_cycles
            out.append((el, ei))
        return out

    def loss(p: PerfParams) -> float:
        return sum(e * e for pair in errors(p) for e in pair if e is not None)

    def fit_linear(p: PerfParams) -> tuple[PerfParams, float]:
        if not lin:
            return p, loss(p)
        zero = replace(p, **{f: 0 for f in lin})
        rows, rhs = [], []
        for s, prof, dr, orr in prepared:
            if s.latency_cycles is None:
                continue
            base = _predict(s.placement.cfg, prof, zero, None if s.lookup_only else s.mlp,
                            dr, orr).latency_cycles
            coef = {"lookup_overhead": 1,
                    "layer_overhead": 0 if s.lookup_only else len(s.placement.cfg.layer_shapes)}
            rows.append([coef[f] / s.latency_cycles for f in lin])
            rhs.append((s.latency_cycles - base) / s.latency_cycles)
        if not rows:
            return p, loss(p)
        sol = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
        best, best_loss = None, float("inf")
        for delta in itertools.product((-1, 0, 1), repeat=len(lin)):
            vals = {f: max(0, int(round(v)) + d) for f, v, d in zip(lin, sol, delta)}
            q = replace(p, **vals)
            lq = loss(q)
            if lq < best_loss:
                best, best_loss = q, lq
        return best, best_loss

    results = [_descend(replace(params, **st), nonlin, fit_linear, max_iter)
               for st in [{}] + list(starts)]
    best = min(results, key=lambda r: r[1])[0]
    return Calibration(best, errors(best))


def _descend(start: PerfParams, nonlin, fit_linear, max_iter: int) -> tuple[PerfParams, float]:
    """Coordinate descent over `nonlin` (doubling/halving integer steps)."""
    best, best_loss = fit_linear(start)
    for _ in range(max_iter):
        improved = False
        for f in nonlin:
            lo = 1 if f.startswith("lat_") else 0
            step = max(1, getattr(best, f) // 2)
            while step >= 1:
                moved = False
                for cand in (getattr(best, f) - step, getattr(best, f) + step):
                    if cand < lo:
                        continue
                    q, lq = fit_linear(replace(best, **{f: cand}))
                    if lq < best_loss - 1e-15:
                        best, best_loss, moved, improved = q, lq, True, True
                        break
                step = step * 2 if moved else step // 2
        if not improved:
            break
    return best, best_loss
