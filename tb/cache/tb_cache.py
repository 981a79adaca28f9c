"""cocotb/pyuvm tests of the hot-row cache (run through tests/test_cache.py).

Each test runs one or more phases of reads (a sequence, then wait until every
read is answered), changing the cache's controls or the memory between
phases the way a host would: policy, flush, enable, a table reload (a new
content seed), fault ranges. The scoreboard checks every decision, response
and, after each phase, the counters against models/row_cache.py.
"""
from __future__ import annotations

import dataclasses

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import ClockCycles, RisingEdge
from pyuvm import ConfigDB, uvm_sequence

from models.queries import zipf_ranks
from models.row_cache import HIT, set_index
from tb.cache.cache_env import CacheEnv, ReadItem, RowSpace, bench_tables, read_counters
from tb.cache.dut import CacheBuild, CacheKnobs
from tb.common.bench_test import BenchTest
from tb.common.clock_reset import start_clock_and_reset
from tb.common.seeding import rng, soak_stimulus, test_seed
from tb.hbm import config as hbm_timing
from tb.hbm.config import HbmConfig
from tb.hbm.memory import HbmMemory

CONTENT_SEED = 0x5EED
EMB_SHIFT = 0        # full-range int16 rows: every bit of a wrong beat shows


class ReadSeq(uvm_sequence):
    """Reads given as (addr, len, what) or (addr, len, what, arburst)."""

    def __init__(self, name, reads):
        super().__init__(name)
        self.reads = reads

    async def body(self):
        for addr, length, what, *burst in self.reads:
            item = ReadItem("read", addr, length, burst=burst[0] if burst else 1, what=what)
            await self.start_item(item)
            await self.finish_item(item)


# --------------------------------------------------------------------------
# read streams
# --------------------------------------------------------------------------
def row_reads(space: RowSpace, picks) -> list:
    out = []
    for t, r in picks:
        a, n = space.read_of(t, int(r))
        out.append((a, n, f"t{t}r{int(r)}"))
    return out


def uniform_reads(space: RowSpace, n: int, gen: np.random.Generator, weights=(0.5, 0.2, 0.2, 0.1)) -> list:
    ts = gen.choice(len(space.regions), size=n, p=np.asarray(weights) / sum(weights))
    return row_reads(space, [(int(t), gen.integers(0, space.regions[t].rows)) for t in ts])


def fixed_burst_reads(space: RowSpace, n: int, gen: np.random.Generator) -> list:
    """One-beat FIXED bursts of table 0 rows: not cacheable (s.11.1), the same data."""
    return [(a, 0, w, 0) for a, _, w in row_reads(space, [(0, int(r)) for r in gen.integers(0, 96, n)])]


def zipf_reads(space: RowSpace, n: int, gen: np.random.Generator, alpha: float,
               weights=(0.6, 0.25, 0.15, 0.0)) -> list:
    ts = gen.choice(len(space.regions), size=n, p=np.asarray(weights) / sum(weights))
    picks = []
    for t in ts:
        rows = space.regions[t].rows
        picks.append((int(t), int(zipf_ranks(gen, rows, alpha, 1)[0]) - 1))
    return row_reads(space, picks)


def same_set_rows(space: RowSpace, build: CacheBuild, t: int, want: int, set_no: int = 0) -> list:
    """Rows of table t whose line maps to set set_no (for conflicts and full sets)."""
    cfg = build.cache_config()
    rows = []
    for r in range(space.regions[t].rows):
        a, _ = space.read_of(t, r)
        if set_index(a >> cfg.beat_log2, cfg.set_bits) == set_no and (not rows or space.read_of(t, rows[-1])[0] != a):
            rows.append(r)
        if len(rows) == want:
            break
    return rows


# --------------------------------------------------------------------------
# the base test
# --------------------------------------------------------------------------
@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheRandomTest(BenchTest):
    """Uniform reads over four tables (one-beat, narrow, two-beat and uncached rows)."""

    Build, Knobs = CacheBuild, CacheKnobs
    enable = 1
    trace = False
    soak_ok = True      # nightly soak may draw the memory timing and backpressure from the seed

    def build_phase(self):
        super().build_phase()
        soak = soak_stimulus() if self.soak_ok else None
        if soak:
            self.knobs = dataclasses.replace(self.knobs, preset=soak["preset"], latency=soak["latency"],
                                             ar_idle=soak["in_idle"], r_stall=soak["out_stall"] * 0.9)
            self.logger.info(f"soak stimulus from the seed: {soak}")
        k = self.knobs
        self.space = bench_tables(self.build.data_w // 8)
        self.gen = rng(41)
        cdb = ConfigDB()
        cdb.set(None, "*", "cache_build", self.build)
        cdb.set(None, "*", "row_space", self.space)
        cdb.set(None, "*", "policy", k.policy)
        cdb.set(None, "*", "ar_idle", k.ar_idle)
        cdb.set(None, "*", "r_stall", k.r_stall)
        cdb.set(None, "*", "ids", k.ids or (1 << self.build.id_w))
        cdb.set(None, "*", "trace", k.trace or self.trace)
        self.env = CacheEnv("env", self)

    def hbm_config(self) -> HbmConfig:
        k, b = self.knobs, self.build
        timing = (hbm_timing.ideal(k.latency) if k.preset == "ideal"
                  else hbm_timing.u280(axi_mhz=k.mhz, data_w=b.data_w))
        return HbmConfig(num_ch=1, data_w=b.data_w, id_w=b.id_w, addr_w=b.addr_w, ch_bytes=1 << b.addr_w,
                         timing=timing, seed=CONTENT_SEED, emb_shift=EMB_SHIFT, rng_seed=test_seed())

    async def bring_up(self) -> None:
        dut = cocotb.top
        for sig in ("s_arvalid", "s_rready", "flush", "cnt_clear", "hbm_cmd_valid"):
            getattr(dut, sig).value = 0
        dut.cfg_enable.value = self.enable
        dut.cfg_policy.value = int(self.knobs.policy == "freq")
        await start_clock_and_reset(dut.clk, dut.rst_n)
        self.mem = HbmMemory(self.hbm_config(), dut)
        await self.mem.start()
        await self.mem.set_regions(list(self.space.regions))
        self.env.scoreboard.mem = self.mem
        self.env.scoreboard.enabled = bool(self.enable) and self.build.present == 1
        cocotb.start_soon(self.env.cycle_loop())

    async def run_reads(self, reads, limit: int = 200000) -> None:
        """One phase: send the reads, wait until each is answered, check the counters."""
        await ReadSeq("reads", reads).start(self.env.seqr)
        await self.wait_idle(limit)
        self.check_counters()

    async def wait_idle(self, limit: int = 200000) -> None:
        env, waited = self.env, 0
        while not env.idle():
            await ClockCycles(cocotb.top.clk, 8)
            waited += 8
            assert waited < limit, (f"no progress: {len(env.monitor.busy)} reads in flight "
                                    f"(ids {sorted(env.monitor.busy)}), {len(env.driver.queue)} queued")
        await ClockCycles(cocotb.top.clk, 2)

    def check_counters(self) -> None:
        sb = self.env.scoreboard
        got = read_counters(cocotb.top)
        if sb.enabled:
            sb.check_counters(got, self.env.monitor.stall_cycles)
        self.logger.info(f"counters: {got}")

    async def flush(self) -> None:
        self.env.flush_req = True
        await RisingEdge(cocotb.top.clk)

    async def set_policy(self, policy: str) -> None:
        """Between phases (idle), as the host would."""
        cocotb.top.cfg_policy.value = int(policy == "freq")
        self.env.scoreboard.model.set_policy(policy)
        await RisingEdge(cocotb.top.clk)

    async def stimulus(self) -> None:
        reads = uniform_reads(self.space, self.knobs.requests, self.gen)
        fixed = fixed_burst_reads(self.space, len(reads) // 20, self.gen)
        for r in fixed:
            reads.insert(int(self.gen.integers(0, len(reads))), r)
        await self.run_reads(reads)

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        await self.stimulus()
        self.mem.check()
        self.drop_objection()


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheZipfTest(CacheRandomTest):
    """Zipf-skewed reads, once per policy (lru, then freq; a policy switch between phases)."""

    async def stimulus(self) -> None:
        for policy in ("lru", "freq"):
            await self.set_policy(policy)
            await self.run_reads(zipf_reads(self.space, self.knobs.requests, self.gen, self.knobs.zipf))


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheFillRaceTest(CacheRandomTest):
    """Misses to rows whose fill is in flight (hit on a pending line), and fills whose victim
    line is still in use (the decision waits): a few rows read again and again while their
    first fill travels; then more rows of one set than it has ways, round robin."""

    async def stimulus(self) -> None:
        g = self.gen
        hot = [(0, int(r)) for r in g.choice(self.space.regions[0].rows, size=6, replace=False)]
        picks = [hot[int(g.integers(0, len(hot)))] for _ in range(self.knobs.requests // 2)]
        await self.run_reads(row_reads(self.space, picks))
        rows = same_set_rows(self.space, self.build, 0, self.build.ways + 2, set_no=1)
        picks = [(0, rows[i % len(rows)]) for i in range(self.knobs.requests // 2)]
        await self.run_reads(row_reads(self.space, picks))


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheAllWaysTest(CacheRandomTest):
    """One set filled way by way, then one line more (the LRU way goes), re-touches that
    reorder the ages, under both policies; the scoreboard checks every way chosen."""

    async def stimulus(self) -> None:
        b = self.build
        rows = same_set_rows(self.space, b, 0, b.ways + 1, set_no=0)
        order = list(range(b.ways)) + [0, b.ways] + list(range(b.ways, -1, -1)) + [1, 1, b.ways, 0]
        for policy in ("lru", "freq"):
            await self.set_policy(policy)
            await self.flush()
            await self.run_reads(row_reads(self.space, [(0, rows[i]) for i in order * 3]))


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheFlushTest(CacheRandomTest):
    """Flushes under traffic (reads in flight), then a table reload: traffic stops, the
    memory's content changes (a new model seed), the host flushes, and the same rows are
    read again: every row must be the new one."""

    async def stimulus(self) -> None:
        g, k = self.gen, self.knobs
        reads = zipf_reads(self.space, k.requests, g, k.zipf)
        seq = cocotb.start_soon(self.run_reads(reads))
        for _ in range(4):
            await ClockCycles(cocotb.top.clk, int(g.integers(20, 200)))
            await self.flush()
        await seq
        # reload: the same rows again after the content changed
        await self.mem.set_content(CONTENT_SEED + 1, EMB_SHIFT)
        await self.flush()
        await self.run_reads(reads)


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheErrorTest(CacheRandomTest):
    """SLVERR on some one-beat rows, DECERR on the second beat of some two-beat rows: the
    error reaches every read of such a row (its fill's requester, hits waiting on the
    fill, later hits) and no data is ever served from an error line; after the faults
    are gone and a flush, the rows read as data again."""

    async def stimulus(self) -> None:
        g, k, sp = self.gen, self.knobs, self.space
        t0, t2 = sp.regions[0], sp.regions[2]
        # whole one-beat rows; the last beat of a two-beat row; the first beat of another
        # (the line keeps the first non-OKAY response, s.11.5)
        ranges = [(t0.row_addr(0), t0.row_addr(3), "SLVERR"),
                  (t2.row_addr(1) + 32, t2.row_addr(1) + 64, "DECERR"),
                  (t2.row_addr(2), t2.row_addr(2) + 32, "SLVERR")]
        await self.mem.set_faults(0, err_ranges=ranges)
        self.env.scoreboard.fault_ranges = ranges
        picks = [(0, int(g.integers(0, 6))) if g.random() < 0.6 else (2, int(g.integers(0, 3)))
                 for _ in range(k.requests // 2)]
        await self.run_reads(row_reads(sp, picks))
        await self.mem.clear_faults(0)
        self.env.scoreboard.fault_ranges = []
        await self.flush()
        await self.run_reads(row_reads(sp, picks[: k.requests // 4]))


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheScanTest(CacheRandomTest):
    """A hot set read over and over while a long sequential scan passes: with frequency
    admission the scan must not evict the hot set (its rows keep hitting); LRU for
    comparison. Both checked decision by decision against the model."""

    async def stimulus(self) -> None:
        b, sp = self.build, self.space
        hot_n = b.lines // 2
        warm = [(0, i % hot_n) for i in range(hot_n * 6)]
        scan_rows = [(1, r) for r in range(0, sp.regions[1].rows, 4)] + [(0, r) for r in range(hot_n, sp.regions[0].rows)]
        mixed = []
        for i, s in enumerate(scan_rows):
            mixed.append(s)
            if i % 2 == 0:
                mixed.append((0, (i // 2) % hot_n))
        rates = {}
        for policy in ("lru", "freq"):
            await self.set_policy(policy)
            await self.flush()
            await self.run_reads(row_reads(sp, warm))
            sb = self.env.scoreboard
            start = len(sb.outcomes)
            await self.run_reads(row_reads(sp, mixed))
            hot_addrs = {sp.read_of(0, r)[0] for r in range(hot_n)}
            hot = [kind for a, kind in sb.outcomes[start:] if a in hot_addrs]
            rates[policy] = sum(k == HIT for k in hot) / len(hot)
        self.logger.info(f"hot-set hit rate during the scan: {rates}")
        assert rates["freq"] >= 0.9, f"frequency admission let the scan evict the hot set: {rates}"


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheLatencyTest(CacheRandomTest):
    """Ideal memory, one read at a time: a miss takes the memory latency + 1 cycle
    (contracts s.11.9; + 0 without the cache or disabled), a hit on a filled line 4."""

    trace = True
    soak_ok = False     # exact cycle counts need the ideal memory

    async def stimulus(self) -> None:
        L, sp = self.knobs.latency, self.space
        mon = self.env.monitor
        lat = []
        for t, r in [(0, 5), (0, 5), (2, 3), (2, 3)]:
            start = len(mon.trace)
            await self.run_reads(row_reads(sp, [(t, r)]))
            ev = mon.trace[start:]
            ar = next(e for e in ev if e[1] == "ar")
            r0 = next(e for e in ev if e[1] == "r")
            lat.append(r0[0] - ar[0])
        cached = self.build.present == 1 and self.enable
        want = [L + 1, 4, L + 1, 4] if cached else [L] * 4
        self.logger.info(f"first-beat latencies (miss, hit, 2-beat miss, 2-beat hit): {lat}")
        assert lat == want, f"latency: expected {want} got {lat}"


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheDisabledTest(CacheRandomTest):
    """cfg_enable = 0 from reset: every read passes through (tests/test_cache.py compares
    the handshake trace, cycle by cycle, with a build without the cache); counters stay 0."""

    enable = 0
    trace = True
    soak_ok = False     # compared cycle by cycle with another run of the same seed

    async def stimulus(self) -> None:
        await self.run_reads(zipf_reads(self.space, self.knobs.requests, self.gen, self.knobs.zipf))
        got = read_counters(cocotb.top)
        assert all(v == 0 for v in got.values()), f"a disabled cache counted: {got}"


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class CacheEnableToggleTest(CacheRandomTest):
    """Enabled, then disabled (a pass-through; the table is reloaded meanwhile), then
    enabled again: re-enabling must not serve a row from before the reload."""

    async def stimulus(self) -> None:
        g, k, dut, sb = self.gen, self.knobs, cocotb.top, self.env.scoreboard
        reads = zipf_reads(self.space, k.requests // 2, g, k.zipf)
        await self.run_reads(reads)
        dut.cfg_enable.value = 0
        await ClockCycles(dut.clk, 2)
        assert int(dut.st_enabled.value) == 0
        sb.enabled = False
        sb.model.flush()
        await self.mem.set_content(CONTENT_SEED + 7, EMB_SHIFT)
        await self.run_reads(reads[:50])
        dut.cfg_enable.value = 1
        await ClockCycles(dut.clk, 2)
        assert int(dut.st_enabled.value) == 1
        sb.enabled = True
        await self.run_reads(reads)
