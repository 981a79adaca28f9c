"""The hot-row cache's exact model (docs/contracts.md section 11).

Given one channel's read requests in the order the cache accepts them (AR
handshake order) and the flushes between them, it says for every request
whether it hits, fills a line (and which way, evicting what), bypasses
(a miss the frequency admission refused) or is not cacheable, plus the
counters the RTL keeps (`rtl/cache/emb_row_cache.sv`). Hit/miss does not
depend on timing: the RTL decides every request at AR acceptance, in
order, against state that only decisions change (a line whose fill is in
flight already counts as present). Nothing here knows cycles.

`response` (optional) gives the AXI response a fill of (address, len)
receives from memory (0 OKAY, 2 SLVERR, 3 DECERR; the memory model's fault
ranges): a line keeps its fill's response, so a hit on an error line
answers that error (11.5).

Pure Python; `RowCache.run_lines` is the tight loop the benchmarks use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from .config import ConfigError

MASK32 = 0xFFFFFFFF
CM_K0 = 0x9E3779B1        # sketch row 0 multiplier (odd)
CM_K1 = 0x85EBCA77        # sketch row 1 multiplier (odd)
CM_MAX = 15               # 4-bit saturating counters

POLICIES = ("lru", "freq")    # CSR encoding 0, 1

# outcome kinds, encoded as the RTL's decision trace (dec_kind)
UNCACHED, HIT, FILL, BYPASS = 0, 1, 2, 3
KIND_NAMES = {UNCACHED: "uncached", HIT: "hit", FILL: "fill", BYPASS: "bypass"}

COUNTER_NAMES = ("hits", "misses", "fills", "evictions", "bypasses", "uncached", "bytes_saved")


def clog2(n: int) -> int:
    return max(0, (int(n) - 1).bit_length())


@dataclass(frozen=True)
class RowCacheConfig:
    """Build-time shape of one channel's cache (the RTL parameters of the same names)."""
    lines: int = 64          # LINES: capacity in lines (power of two)
    ways: int = 4            # WAYS: associativity (power of two, <= lines)
    line_beats: int = 1      # LINE_BEATS: longest burst a line holds (power of two)
    data_w: int = 256        # DATA_W: bus width, bits
    addr_w: int = 34         # ADDR_W
    cm_log2: int | None = None    # CM_LOG2: log2 counters per sketch row (default clog2(lines) + 1)
    age_log2: int | None = None   # AGE_LOG2: sketch halves every 2^AGE_LOG2 decisions (default clog2(lines) + 3)

    def __post_init__(self):
        def pow2(name, v, lo=1):
            if not isinstance(v, int) or v < lo or v & (v - 1):
                raise ConfigError(f"{name}: must be a power of two >= {lo}, got {v!r}")
        pow2("lines", self.lines)
        pow2("ways", self.ways)
        if self.ways > self.lines:
            raise ConfigError(f"ways: {self.ways} exceeds lines {self.lines}")
        if self.ways > 16:
            raise ConfigError(f"ways: at most 16 (one LRU age compare per way), got {self.ways}")
        pow2("line_beats", self.line_beats)
        if self.line_beats > 256:
            raise ConfigError(f"line_beats: at most 256 (one AXI burst), got {self.line_beats}")
        pow2("data_w", self.data_w, 64)
        if self.data_w > 1024:
            raise ConfigError(f"data_w: 64..1024, got {self.data_w}")
        if not 12 <= self.addr_w <= 64:
            raise ConfigError(f"addr_w: 12..64, got {self.addr_w}")
        if not 1 <= self.cm_bits <= 24:
            raise ConfigError(f"cm_log2: 1..24, got {self.cm_bits}")
        if not 1 <= self.age_bits <= 31:
            raise ConfigError(f"age_log2: 1..31, got {self.age_bits}")

    @property
    def sets(self) -> int:
        return self.lines // self.ways

    @property
    def set_bits(self) -> int:
        return clog2(self.sets)

    @property
    def beat_bytes(self) -> int:
        return self.data_w // 8

    @property
    def beat_log2(self) -> int:
        return clog2(self.beat_bytes)

    @property
    def cm_bits(self) -> int:
        return clog2(self.lines) + 1 if self.cm_log2 is None else self.cm_log2

    @property
    def age_bits(self) -> int:
        return clog2(self.lines) + 3 if self.age_log2 is None else self.age_log2

    def sv_parameters(self) -> dict:
        return {"LINES": self.lines, "WAYS": self.ways, "LINE_BEATS": self.line_beats,
                "DATA_W": self.data_w, "ADDR_W": self.addr_w,
                "CM_LOG2": self.cm_bits, "AGE_LOG2": self.age_bits}

    def storage_bits(self, id_w: int = 5) -> dict:
        """State of one RTL instance, in bits (the area figure of the report):
        line store, tags (line address, length, valid, response, LRU age),
        the sketch and the per-ARID entries."""
        way_w = max(1, clog2(self.ways))
        len_w = max(1, clog2(self.line_beats))
        slot_w = max(1, clog2(self.lines))
        la_w = self.addr_w - self.beat_log2
        outs = 1 << id_w
        return {"data": self.lines * self.line_beats * self.data_w,
                "tags": self.lines * (la_w + len_w + 1 + 2 + way_w),
                "sketch": 2 * (1 << self.cm_bits) * 4 + self.age_bits,
                "entries": outs * (5 + 2 + slot_w + len_w + id_w + 8 + 2),
                "outbuf": 2 * (self.data_w + id_w + 3)}


def set_index(line_addr: int, set_bits: int) -> int:
    """XOR of the line address's set_bits-wide chunks (11.2): a bijection on any
    aligned block of 2^set_bits lines, and tables at 4 KiB-aligned bases do not
    all start in set 0."""
    if set_bits == 0:
        return 0
    m, s = (1 << set_bits) - 1, 0
    while line_addr:
        s ^= line_addr & m
        line_addr >>= set_bits
    return s


def sketch_index(line_addr: int, k: int, cm_bits: int) -> int:
    x = (line_addr ^ (line_addr >> 32)) & MASK32
    return ((x * k) & MASK32) >> (32 - cm_bits)


@dataclass
class Outcome:
    kind: int                 # UNCACHED, HIT, FILL, BYPASS
    set: int = 0
    way: int = 0              # HIT: the way hit; FILL: the way filled; else 0
    evicted: int | None = None    # FILL over a valid line: its line address
    resp: int = 0             # HIT: the response its line keeps (its fill's)

    @property
    def name(self) -> str:
        return KIND_NAMES[self.kind]


@dataclass
class RowCache:
    cfg: RowCacheConfig
    policy: str = "lru"
    response: Callable[[int, int], int] | None = None
    counters: dict = field(default_factory=lambda: dict.fromkeys(COUNTER_NAMES, 0))

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ConfigError(f"policy: one of {POLICIES}, got {self.policy!r}")
        c = self.cfg    # derived shape, read once (access() is the benchmarks' inner loop)
        self._ways, self._sets, self._set_bits = c.ways, c.sets, c.set_bits
        self._beat_log2, self._beat_bytes, self._cm_bits = c.beat_log2, c.beat_bytes, c.cm_bits
        self._age_period, self._line_beats = 1 << c.age_bits, c.line_beats
        self.flush()

    # -- state -------------------------------------------------------------
    def flush(self) -> None:
        """Back to the reset state (11.6); the counters keep counting."""
        c = self.cfg
        self.valid = [[False] * c.ways for _ in range(c.sets)]
        self.tag = [[(0, 0)] * c.ways for _ in range(c.sets)]
        self.resp = [[0] * c.ways for _ in range(c.sets)]
        self.age = [list(range(c.ways)) for _ in range(c.sets)]
        self.cm = [[0] * (1 << c.cm_bits), [0] * (1 << c.cm_bits)]
        self.age_count = 0

    def clear_counters(self) -> None:
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)

    def set_policy(self, policy: str) -> None:
        if policy not in POLICIES:
            raise ConfigError(f"policy: one of {POLICIES}, got {policy!r}")
        self.policy = policy

    def cacheable(self, addr: int, length: int, size: int | None = None, burst: int = 1) -> bool:
        return ((size is None or size == self._beat_log2) and burst == 1
                and length + 1 <= self._line_beats and addr & (self._beat_bytes - 1) == 0)

    # -- one request ---------------------------------------------------------
    def access(self, addr: int, length: int = 0, size: int | None = None, burst: int = 1) -> Outcome:
        """Decide one read request (araddr, arlen, arsize, arburst) as the RTL does."""
        if not self.cacheable(addr, length, size, burst):
            self.counters["uncached"] += 1
            return Outcome(UNCACHED)
        ways = self._ways
        la = addr >> self._beat_log2
        s = set_index(la, self._set_bits)
        key = (la, length)
        valid, tags, ages = self.valid[s], self.tag[s], self.age[s]
        # the sketch counts every cacheable request, before the decision
        cm0, cm1, cb = self.cm[0], self.cm[1], self._cm_bits
        i0, i1 = sketch_index(la, CM_K0, cb), sketch_index(la, CM_K1, cb)
        if cm0[i0] < CM_MAX:
            cm0[i0] += 1
        if cm1[i1] < CM_MAX:
            cm1[i1] += 1
        out = None
        for w in range(ways):
            if valid[w] and tags[w] == key:
                self._touch(ages, w)
                self.counters["hits"] += 1
                self.counters["bytes_saved"] += (length + 1) * self._beat_bytes
                out = Outcome(HIT, s, w, resp=self.resp[s][w])
                break
        if out is None:
            self.counters["misses"] += 1
            victim = valid.index(False) if False in valid else ages.index(ways - 1)
            admit = True
            if self.policy == "freq" and valid[victim]:
                vla = tags[victim][0]
                est_new = min(cm0[i0], cm1[i1])
                est_vic = min(cm0[sketch_index(vla, CM_K0, cb)], cm1[sketch_index(vla, CM_K1, cb)])
                admit = est_new > est_vic
            if admit:
                evicted = tags[victim][0] if valid[victim] else None
                if evicted is not None:
                    self.counters["evictions"] += 1
                self.counters["fills"] += 1
                valid[victim] = True
                tags[victim] = key
                self.resp[s][victim] = self.response(addr, length) if self.response else 0
                self._touch(ages, victim)
                out = Outcome(FILL, s, victim, evicted)
            else:
                self.counters["bypasses"] += 1
                out = Outcome(BYPASS, s)
        self.age_count += 1
        if self.age_count == self._age_period:
            self.age_count = 0
            self.cm = [[v >> 1 for v in cm0], [v >> 1 for v in cm1]]
        return out

    @staticmethod
    def _touch(ages: list, w: int) -> None:
        a = ages[w]
        for v in range(len(ages)):
            if ages[v] < a:
                ages[v] += 1
        ages[w] = 0

    def run(self, requests: Iterable) -> list[Outcome]:
        """requests: (addr, len) pairs, or the string "flush" between them."""
        out = []
        for r in requests:
            if isinstance(r, str):
                if r != "flush":
                    raise ValueError(f"requests: unknown event {r!r} (only 'flush')")
                self.flush()
                continue
            out.append(self.access(*r))
        return out

    def run_lines(self, addrs, length: int = 0) -> tuple[int, int]:
        """Benchmark loop: many cacheable requests of one length; returns
        (hits, memory reads) of this call. Same decisions as access()."""
        h0 = self.counters["hits"]
        m0 = self.counters["misses"]
        access = self.access
        for a in addrs:
            access(int(a), length)
        return self.counters["hits"] - h0, self.counters["misses"] - m0
