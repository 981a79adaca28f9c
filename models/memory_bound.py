"""How fast multi-hot lookups can possibly go: beats per query and the memory bound.

contracts.md section 9.8. A row read costs ceil(stride / bus_bytes) beats
on its memory channel (one beat per cycle per channel), an on-chip row
ceil(stride / word_bytes) reads of its bank (one per cycle per bank), and a
query ceil-packed into the query stream HB + IB beats (one per cycle). The
lookup stage cannot beat the slowest of the three, so a measured
queries/cycle divided by `MemoryBound.memory` is "% of the HBM bound".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .cartesian import ProductTable
from .multihot import Bags
from .placement import Placement
from .query_stream import packet_beats


@dataclass(frozen=True)
class MemoryBound:
    channel_beats: dict[int, float]     # memory channel (AXI index) -> beats per query
    bank_reads: dict[int, float]        # on-chip bank -> reads per query
    stream_beats: float | None          # query-stream beats per query (None: not given)

    @property
    def beats_per_query(self) -> float:
        """HBM (and DDR) beats per query, all channels."""
        return float(sum(self.channel_beats.values()))

    @staticmethod
    def _bound(per_query) -> float:
        worst = max(per_query, default=0.0)
        return float("inf") if worst <= 0 else 1.0 / worst

    @property
    def memory(self) -> float:
        """Queries per cycle the busiest memory channel allows: the HBM bound."""
        return self._bound(self.channel_beats.values())

    @property
    def onchip(self) -> float:
        return self._bound(self.bank_reads.values())

    @property
    def stream(self) -> float:
        return self._bound([] if self.stream_beats is None else [self.stream_beats])

    @property
    def bound(self) -> float:
        return min(self.memory, self.onchip, self.stream)

    @property
    def limiter(self) -> str:
        return min((self.memory, "memory"), (self.onchip, "onchip"), (self.stream, "stream"))[1]

    def pct_of_memory_bound(self, queries_per_cycle: float) -> float:
        return 100.0 * queries_per_cycle / self.memory

    def summary(self) -> dict:
        return {"hbm_beats_per_query": self.beats_per_query,
                "max_channel_beats": float(max(self.channel_beats.values(), default=0.0)),
                "max_bank_reads": float(max(self.bank_reads.values(), default=0.0)),
                "stream_beats": self.stream_beats, "memory_bound_qpc": self.memory,
                "onchip_bound_qpc": self.onchip, "stream_bound_qpc": self.stream,
                "limiter": self.limiter}


def reads_per_query(pl: Placement, lengths) -> np.ndarray:
    """Mean row reads per query of every physical table: float [num_physical].

    `lengths`: a Bags batch or int [B, T] (exact means), or T mean lengths
    (a product then counts max(La, Lb): exact when lengths are constant).
    A product (one-hot halves) reads once when either bag is non-empty.
    """
    if isinstance(lengths, Bags):
        lengths = lengths.lengths
    lens = np.asarray(lengths, dtype=np.float64)
    per_query = lens.ndim == 2
    if lens.shape[-1] != pl.cfg.num_tables:
        raise ValueError(f"lengths: {lens.shape[-1]} tables, config has {pl.cfg.num_tables}")
    out = np.zeros(pl.num_physical)
    for p, e in enumerate(pl.plan.tables):
        if isinstance(e, ProductTable):
            a, b = lens[..., e.a], lens[..., e.b]
            out[p] = ((a > 0) | (b > 0)).mean() if per_query else max(a, b)
        else:
            out[p] = lens[..., e].mean() if per_query else lens[e]
    return out


def memory_bound(pl: Placement, lengths, bus_bytes: int = 32,
                 words_per_beat: int | None = None) -> MemoryBound:
    """Beats per query per channel and bank, and the stream's beats (if W is given)."""
    reads = reads_per_query(pl, lengths)
    chans = {ch: 0.0 for ch in range(pl.platform.num_channels)}
    banks = {b: 0.0 for b in range(pl.platform.onchip_banks)}
    word = pl.platform.onchip_word_bytes
    for p, (tier, ch) in enumerate(zip(pl.tiers, pl.channels)):
        stride = pl.plan.stride(p)
        if tier == "onchip":
            banks[ch] += reads[p] * -(-stride // word)
        else:
            chans[ch] += reads[p] * -(-stride // bus_bytes)
    stream = None
    if words_per_beat is not None:
        cfg = pl.cfg
        if isinstance(lengths, Bags):
            lengths = lengths.lengths
        lens = np.asarray(lengths)
        ns: Sequence[int] = (lens.sum(axis=1) if lens.ndim == 2
                             else [int(np.ceil(lens.sum()))])
        stream = float(np.mean([packet_beats(cfg.num_tables, cfg.dense, int(n), words_per_beat)
                                for n in ns]))
    return MemoryBound({c: float(v) for c, v in chans.items()},
                       {b: float(v) for b, v in banks.items()}, stream)
