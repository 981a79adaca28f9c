"""The hot-row caches inside the lookup (contracts s.11, CACHE = 1 builds): what their
counters must read.

Every memory read an engine issues passes its channel's cache, in an order fixed
by the query stream alone: queries in acceptance order, and within a query the
physical tables of the channel in ascending index (the engine's list, s.5). So
the exact model (models/row_cache.py, one RowCache per channel) predicts every
hit, fill, eviction and bypass from the queries the scoreboard pairs, without
knowing a cycle. A commit flushes every cache (s.11.7), and so does the model.

The accelerator top's bench (tb/top/counters.py) uses the same prediction for its
PERF_CACHE_* counters, with the top's extra events: CACHE_CTRL (enable, policy,
flush), CTRL.dma_start and soft reset flush, perf_clear restarts the counters, and
multi-hot queries read their bags sub-query by sub-query (``query_bags``).
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
        self.enabled = True      # disabled caches are wires: no decisions, no counts (s.11.6)
        self.beats = [0] * build.num_ch   # R beats the engines asked for per channel (while enabled)

    def flush(self) -> None:
        for c in self.caches:
            c.flush()

    def clear_counters(self) -> None:
        for c in self.caches:
            c.clear_counters()

    def reset(self) -> None:
        """A datapath reset (the top's soft reset): the state of a flush, counters 0."""
        self.flush()
        self.clear_counters()

    def control(self, enable: bool, policy: str) -> None:
        """CACHE_CTRL written: a change of enable invalidates every line (s.11.6); the
        policy applies from the next decision."""
        if bool(enable) != self.enabled:
            self.flush()
        self.enabled = bool(enable)
        for c in self.caches:
            c.set_policy(policy)

    def read(self, channel: int, desc, row: int) -> None:
        """One engine read of ``row`` of a memory table: a burst of the row, or the beat
        that holds it when rows are narrower than a beat."""
        if not self.enabled:
            return
        wb = self.word_bytes
        addr = desc.base + row * desc.stride
        if desc.stride <= wb:       # a narrow row: the engine reads the beat that holds it
            addr, length = addr & ~(wb - 1), 0
        else:
            length = desc.stride // wb - 1
        self.beats[channel] += length + 1
        self.caches[channel].access(addr, length)

    def memory_beats(self) -> list[int]:
        """Per channel, the beats memory sends: those asked for minus those the hits answered."""
        return [b - c.counters["bytes_saved"] // self.word_bytes for b, c in zip(self.beats, self.caches)]

    def query_bags(self, layout, bags) -> bool:
        """The reads of one multi-hot query (``bags[t]``: logical table t's indices):
        sub-query j reads entry j of every bag, physical tables ascending (a multi-hot
        layout has no products: physical table = logical table, s.9.9); void entries
        (past the end of a bag) read nothing. A query the ingress refuses (a bag longer
        than its table's bag_max, ERR_BAG_LEN, or an index out of range, ERR_IDX_RANGE,
        in any bag: s.9.6) reads nothing at all, not even its good entries: returns
        False then. A memory error does not refuse: every entry is read, the failing
        one too (its fill becomes an error line, s.11.5), so its bags are read in full."""
        for t, bag in enumerate(bags):
            tab = layout.cfg.tables[t]
            if len(bag) > tab.bag_max or any(not 0 <= int(i) < tab.rows for i in bag):
                return False
        nsub = max([1] + [len(b) for b in bags])
        for j in range(nsub):
            for d in layout.descs:
                bag = bags[d.lt_a]
                if not d.onchip and j < len(bag):
                    self.read(d.channel, d, int(bag[j]))
        return True

    def query(self, layout, indices, skipped) -> None:
        """The reads of one query: every memory table's row, but the physical tables in
        ``skipped`` (failed before reading: index out of range)."""
        for p, d in enumerate(layout.descs):
            if d.onchip or p in skipped:
                continue
            self.read(d.channel, d, layout.physical_row(p, indices))

    def counters(self) -> dict:
        return {n: sum(c.counters[n] for c in self.caches) for n in COUNTER_NAMES}

    def saved_beats(self) -> int:
        return self.counters()["bytes_saved"] // self.word_bytes
