"""The hot-row caches inside the lookup (contracts s.11, CACHE = 1 builds): what their
counters must read.

Every memory read an engine issues passes its channel's cache, in an order fixed
by the query stream alone: queries in acceptance order, and within a query the
physical tables of the channel in ascending index (the engine's list, s.5). So
the exact model (models/row_cache.py, one RowCache per channel) predicts every
hit, fill, eviction and bypass from the queries the scoreboard pairs, without
knowing a cycle. A commit flushes every cache (s.11.7), and so does the model.
"""
from __future__ import annotations

from models.row_cache import COUNTER_NAMES, RowCache, RowCacheConfig
from tb.common.sv_source import lookup_harness_cache_names

CACHE_NAMES = lookup_harness_cache_names()   # the harness's packed cache counters, in order
assert set(CACHE_NAMES) == set(COUNTER_NAMES), (CACHE_NAMES, COUNTER_NAMES)


def read_cache(dut) -> dict:
    v = int(dut.perf_cache.value)
    return {n: (v >> (64 * i)) & ((1 << 64) - 1) for i, n in enumerate(CACHE_NAMES)}


class CachePrediction:
    """One RowCache per memory channel, fed the reads the engines issue."""

    def __init__(self, build, policy: str):
        self.cfg = RowCacheConfig(lines=build.cache_lines, ways=build.cache_ways,
                                  line_beats=build.cache_line_beats, data_w=build.data_w, addr_w=build.addr_w)
        self.word_bytes = build.word_bytes
        self.caches = [RowCache(self.cfg, policy) for _ in range(build.num_ch)]

    def flush(self) -> None:
        for c in self.caches:
            c.flush()

    def query(self, layout, indices, skipped) -> None:
        """The reads of one query: every memory table's row, but the physical tables in
        ``skipped`` (failed before reading: index out of range)."""
        wb = self.word_bytes
        for p, d in enumerate(layout.descs):
            if d.onchip or p in skipped:
                continue
            addr = d.base + layout.physical_row(p, indices) * d.stride
            if d.stride <= wb:       # a narrow row: the engine reads the beat that holds it
                addr, length = addr & ~(wb - 1), 0
            else:
                length = d.stride // wb - 1
            self.caches[d.channel].access(addr, length)

    def counters(self) -> dict:
        return {n: sum(c.counters[n] for c in self.caches) for n in COUNTER_NAMES}

    def saved_beats(self) -> int:
        return self.counters()["bytes_saved"] // self.word_bytes
