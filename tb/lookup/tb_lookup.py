"""cocotb/pyuvm tests of the lookup subsystem (run through tests/test_lookup.py).

The model config, build maxima, memory preset and knobs arrive in the bench
spec (tb/lookup/dut.py: LookupBuild, LookupKnobs), so one bench module
serves every parametrization. Variants are the base test with a factory
override of its sequence, or with knobs changed.
"""
from __future__ import annotations

import dataclasses
import json
import time

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge
from pyuvm import ConfigDB, uvm_factory

from models.config import load_config
from tb.agents.query_agent import configure_stream_stimulus
from tb.agents.query_seqs import BadIndexSeq, EdgeQuerySeq, UniformQuerySeq, ZipfQuerySeq
from tb.common.bench_test import BenchTest
from tb.common.clock_reset import pass_cycles, start_clock_and_reset
from tb.common.seeding import py_random, test_seed
from tb.common.spec import SpecError, run_dir
from tb.common.watchdog import Watchdog
from tb.hbm.config import HbmConfig
from tb.hbm.memory import HbmMemory
from tb.lookup.batch import BatchStreams, wait_answers
from tb.lookup.dut import LookupKnobs
from tb.lookup.layout import LookupBuild, LookupLayout, memory_config
from tb.lookup.cache_check import CachePrediction, read_cache
from tb.lookup.lookup_env import PERF_NAMES, LookupEnv
from tb.lookup.port_monitor import PortAnalysis, PortLog, read_monitor


async def program_lookup(dut, layout: LookupLayout, timeout: int = 4096) -> None:
    """Host side: descriptors, on-chip bank images, commit, wait until ready."""
    for p, word in enumerate(layout.words):
        dut.desc_we.value = 1
        dut.desc_waddr.value = p
        dut.desc_wdata.value = word
        await RisingEdge(dut.clk)
    for p in range(len(layout.words), layout.build.p_max):
        dut.desc_we.value = 1
        dut.desc_waddr.value = p
        dut.desc_wdata.value = 0        # valid = 0
        await RisingEdge(dut.clk)
    dut.desc_we.value = 0
    for bank, image in layout.bank_images().items():
        for addr, word in sorted(image.items()):
            dut.bank_we.value = 1
            dut.bank_sel.value = bank
            dut.bank_waddr.value = addr
            dut.bank_wdata.value = word
            await RisingEdge(dut.clk)
    dut.bank_we.value = 0
    dut.cfg_num_logical.value = layout.cfg.num_tables
    dut.cfg_timeout.value = timeout
    dut.cfg_commit.value = 1
    await RisingEdge(dut.clk)
    dut.cfg_commit.value = 0
    for _ in range(layout.build.p_max + 16):
        await RisingEdge(dut.clk)
        if int(dut.cfg_ready.value):
            break
    assert int(dut.cfg_ready.value), "lookup config never became ready after commit"


def read_perf(dut) -> dict:
    v = int(dut.perf.value)
    return {n: (v >> (64 * i)) & ((1 << 64) - 1) for i, n in enumerate(PERF_NAMES)}


def counter_problems(perf: dict, cycle: int, mon: dict, ports: PortAnalysis, pred: dict,
                     hbm_stats: list, unexpected_flag: int, cache=None) -> list[str]:
    """Every counter of the lookup against what the model predicts for the run (event
    counts) or the exact relation the RTL promises (timing-dependent counts), as written
    in docs/contracts.md s.5.1. Each line names the counter, expected and got. With
    hot-row caches (``cache``, a CachePrediction) the engines receive the beats of every
    row but memory sends only the misses': the hits' beats come from the caches."""
    mem_ar_stall = sum(s["ar_stall"] for s in hbm_stats)
    mem_beats = sum(s["read_beats"] + s["phantom"] for s in hbm_stats)
    phantoms = sum(s["phantom"] for s in hbm_stats)
    want = [
        ("cycles", cycle, "cycles since reset (the memory model's cycle counter)"),
        ("queries", pred["queries"], "feature vectors emitted"),
        ("lookups_mem", pred["lookups_mem"], "one per memory table per query (layout)"),
        ("lookups_onchip", pred["lookups_onchip"], "one per on-chip table per query (layout)"),
        ("beats", pred["beats"] + phantoms, "beats of the rows read (layout) + unexpected beats"),
        ("beats", mon["mem_beats"], "R beats seen on the memory ports"),
        ("beats", mem_beats + (cache.saved_beats() if cache else 0),
         "beats the memory model sent" + (" + beats the caches answered (hits)" if cache else "")),
        ("ar_stall", mon["ar_stall_mem"] + mon["ar_stall_bank"], "cycles ARVALID && !ARREADY, all engines"),
        ("in_stall", mon["in_stall"], "cycles s_query_valid && !s_query_ready"),
        ("out_stall", mon["out_stall"], "cycles m_feat_valid && !m_feat_ready"),
        ("errors", pred["errors"], "error records emitted"),
        ("ooo", ports.ooo, "reads whose completion rank differs from their issue rank (port log)"),
    ]
    out = [f"MISMATCH counter {name}: expected {exp} ({why}), got {perf[name]}"
           for name, exp, why in want if perf[name] != exp]
    if cache is None and mon["ar_stall_mem"] != mem_ar_stall:   # with caches, AR stalls differ by side
        out.append(f"MISMATCH port monitor: {mon['ar_stall_mem']} AR stall cycles on the memory ports, "
                   f"the memory model counted {mem_ar_stall}")
    if ports.unexpected != phantoms:
        out.append(f"MISMATCH port monitor: {ports.unexpected} R beats with an ID not in flight, "
                   f"the memory model sent {phantoms}")
    if unexpected_flag != int(phantoms > 0):
        out.append(f"MISMATCH st_unexpected_r: expected {int(phantoms > 0)} ({phantoms} beats with an ID "
                   f"not in flight), got {unexpected_flag}")
    return out + ports.problems


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupUniformTest(BenchTest):
    """Base test: uniform queries; model, build and knobs from the bench spec."""

    Build, Knobs = LookupBuild, LookupKnobs
    in_idle_prob = 0.0
    out_stall_prob = 0.0
    expected_errors: list = []
    phantoms_expected = 0     # R beats with an ID not in flight the memory must have sent
    batch_ok = True           # its traffic can run in batched mode (knob batch, tb/lookup/batch.py)

    def make_layout(self) -> LookupLayout:
        """The placement the DUT is programmed with (the model config's tiers and channels)."""
        return LookupLayout(self.cfg, self.build, pairs=[tuple(p) for p in self.knobs.pairs],
                            ddr_channels=self.knobs.ddr)

    def build_phase(self):
        super().build_phase()
        k = self.knobs
        self.cfg = load_config(k.config)
        self.layout = self.make_layout()
        cdb = ConfigDB()
        cdb.set(None, "*", "model_cfg", self.cfg)
        cdb.set(None, "*", "layout", self.layout)
        cdb.set(None, "*", "feat_max", self.build.feat_max)
        cdb.set(None, "*", "num_queries", k.queries)
        self.soak = configure_stream_stimulus(self, cdb)
        self.in_idle = cdb.get(None, "", "in_idle_prob")
        self.out_stall = cdb.get(None, "", "out_stall_prob")
        if k.batch and not self.batch_ok:
            raise SpecError(f"lookup bench knobs: batch: {type(self).__name__} needs the per-transaction "
                            f"agents (it drives the streams itself); run it with batch=False")
        cdb.set(None, "*", "batch", k.batch)
        # CACHE builds: the caches are enabled and every counter of theirs predicted, read by read
        self.cache = CachePrediction(self.build, k.cache_policy) if self.build.cache else None
        if self.cache is not None and k.batch:
            raise SpecError("lookup bench knobs: batch: a CACHE build predicts the caches query by query; "
                            "run it with batch=False")
        cdb.set(None, "*", "cache_prediction", self.cache)
        cdb.set(None, "*", "expected_errors", self.expected_errors)
        self.env = LookupEnv("env", self)

    def hbm_config(self) -> HbmConfig:
        soak, k = self.soak or {}, self.knobs
        cfg = memory_config(self.layout, soak.get("preset", k.preset), latency=soak.get("latency", k.latency),
                            mhz=k.mhz, rng_seed=test_seed())
        return dataclasses.replace(cfg, nreg=self.build.nreg)

    async def setup_memory(self, mem: HbmMemory) -> None:
        """Hook for fault tests."""

    async def bring_up(self) -> None:
        """Inputs idle, clock and reset, the memory model started (no regions yet)."""
        dut = cocotb.top
        for sig in ("desc_we", "cfg_commit", "bank_we", "s_query_valid", "m_feat_ready", "hbm_cmd_valid",
                    "bq_mode", "bq_load", "cfg_multihot", "cfg_bag_max", "cfg_pool_shift", "cfg_num_dense",
                    "s_pkt_tvalid", "s_pkt_tdata", "s_pkt_tlast", "m_dense_ready", "cache_flush"):
            getattr(dut, sig).value = 0
        dut.cfg_cache_enable.value = int(self.cache is not None)
        dut.cfg_cache_policy.value = int(self.knobs.cache_policy == "freq")
        await start_clock_and_reset(dut.clk, dut.rst_n)
        self.mem = HbmMemory(self.hbm_config(), dut)
        await self.mem.start()
        # batched mode: the harness's SV source and sink own the streams from here on
        self.streams = BatchStreams(dut, self.mem, self.build.t_max, self.build.feat_max, self.in_idle,
                                    self.out_stall, py_random(23).getrandbits(64)) if self.knobs.batch else None
        self.port_log = PortLog()
        self.ports = PortAnalysis(self.build.num_ch + self.build.num_banks)

    async def observe_ports(self) -> None:
        """Read what the port monitor logged so far, under the layout the DUT ran it with."""
        await self.mem.flush_logs()
        events = self.port_log.read_new()
        if self.env.scoreboard.layout is not None:
            self.ports.feed(events, self.env.scoreboard.layout)
        self.env.coverage.sample_ports(self.ports.samples)
        self.ports.samples.clear()

    async def finish(self) -> None:
        """End of a run: every counter checked exactly, coverage from what the DUT did."""
        dut = cocotb.top
        await ClockCycles(dut.clk, 8)
        if self.streams is not None:      # anything the sink took after the last batch was checked
            _, _, late = await self.streams.read()
            for i in range(len(late)):
                self.env.scoreboard.mismatches.append(
                    f"MISMATCH feature vector for query id {int(late.qid[i])} that was never sent")
        await self.observe_ports()
        await ReadOnly()
        self.perf, cycle, mon = read_perf(dut), int(dut.hbm_cycle.value), read_monitor(dut)
        unexpected = int(dut.st_unexpected_r.value)
        await RisingEdge(dut.clk)
        self.hbm_stats = [s.as_dict() for s in await self.mem.stats()]
        self.env.coverage.sample_run(self.perf, self.hbm_stats)
        problems = counter_problems(self.perf, cycle, mon, self.ports, self.env.scoreboard.pred,
                                    self.hbm_stats, unexpected, self.cache)
        if self.cache is not None:
            got, want = read_cache(dut), self.cache.counters()
            problems += [f"MISMATCH cache counter {n}: expected {want[n]} (models/row_cache.py, "
                         f"{self.knobs.cache_policy}), got {got[n]}" for n in want if got[n] != want[n]]
            self.cache_counts = got
            self.logger.info(f"cache counters ({self.knobs.cache_policy}): {got}")
        sent = sum(s["phantom"] for s in self.hbm_stats)
        if sent != self.phantoms_expected:
            problems.append(f"the memory sent {sent} beats with an ID not in flight, the test asked for "
                            f"{self.phantoms_expected}")
        for msg in problems:
            self.logger.error(msg)
        assert not problems, f"{len(problems)} counter mismatches; first: {problems[0]}"
        self.logger.info(f"counters exact: {self.perf}")
        self.mem.check()
        self.mem.stop()

    def outstanding(self) -> str:
        """What a hang leaves behind, per stage and per engine (the watchdog prints it)."""
        dut, sb, b = cocotb.top, self.env.scoreboard, self.build
        w, n = b.id_w + 1, b.num_ch + b.num_banks
        reads, dead = int(dut.st_outstanding.value), int(dut.st_dead.value)
        engines = []
        for e in range(n):
            k = (reads >> (w * e)) & ((1 << w) - 1)
            if k or (dead >> e) & 1:
                name = f"ch{e}" if e < b.num_ch else f"bank{e - b.num_ch}"
                engines.append(f"{name}: {k} reads outstanding" + (" (dead: timed out)" if (dead >> e) & 1 else ""))
        in_flight = sb.sent_fifo.used()   # accepted by the DUT, not answered yet
        batch = ""
        if self.streams is not None:      # batched mode: the SV source's and sink's counts
            batch = (f"  batched mode: source busy={int(dut.bq_busy.value)}, {int(dut.bq_sent.value)} queries of "
                     f"its current load accepted; the sink took {int(dut.bq_got.value) - self.taken0} vectors "
                     f"of this batch ({self.streams.sent_total} queries loaded in all)\n")
        return batch + (f"  stage 1 query input: {sb.checked + in_flight} queries accepted "
                f"(s_query_valid={int(dut.s_query_valid.value)}, s_query_ready={int(dut.s_query_ready.value)})\n"
                f"  stage 2 lookup ring: {in_flight} queries in flight\n"
                f"  stage 3 feature output: {sb.checked} answered "
                f"(m_feat_valid={int(dut.m_feat_valid.value)}, m_feat_ready={int(dut.m_feat_ready.value)})\n"
                f"  per engine: {'; '.join(engines) or 'no read outstanding'}\n"
                f"  perf {read_perf(dut)}")

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await self.bring_up()
        await self.mem.set_regions(self.layout.hbm_regions())
        await self.setup_memory(self.mem)
        await program_lookup(dut, self.layout, self.knobs.timeout)
        assert not int(dut.cfg_bad.value), (f"config rejected: code {int(dut.cfg_err_code.value)} "
                                           f"table {int(dut.cfg_err_table.value)}")
        seq = UniformQuerySeq.create("main_seq")
        c0, w0, p0 = int(dut.hbm_cycle.value), time.perf_counter(), time.process_time()
        await self.traffic(seq, poll=64)
        # simulation speed of the traffic phase (apps/benchmarks/lookup.py reports it)
        self.speed = {"cycles": int(dut.hbm_cycle.value) - c0, "wall_s": time.perf_counter() - w0,
                      "cpu_s": time.process_time() - p0}
        await self.finish()
        self.drop_objection()

    async def run_seq(self, seq):
        await self.traffic(seq, poll=32)

    async def traffic(self, seq, poll: int) -> None:
        """One sequence's queries, through the pyuvm agents (a Python wake-up per query and
        per vector) or in batched mode through the harness's SV source and sink; returns
        once every answer is checked. No progress for 20000 cycles fails the test."""
        dut = cocotb.top
        sb = self.env.scoreboard
        # batched mode: the watchdog too wakes only every 1024 cycles
        dog = Watchdog(dut.clk, 20000, self.outstanding, "lookup watchdog",
                       step=64 if self.streams is None else 1024).start()
        if self.streams is not None:
            t = [time.perf_counter()]
            batch = seq.make_batch()
            self.taken0 = self.streams.taken()
            t.append(time.perf_counter())
            await self.streams.send(batch, dog)
            t.append(time.perf_counter())
            await wait_answers(self.streams, self.taken0 + len(batch), dog, poll)
            t.append(time.perf_counter())
            t_sent, ids, res = await self.streams.read()
            t.append(time.perf_counter())
            sb.check_batch(batch, t_sent, ids, res)
            t.append(time.perf_counter())
            self.logger.info("batch of %d queries: wall ms make %.1f, send %.1f, wait %.1f, read %.1f, check %.1f"
                             % ((len(batch),) + tuple(1e3 * (b - a) for a, b in zip(t, t[1:]))))
        else:
            task = cocotb.start_soon(seq.start(self.env.seqr))
            last = -1
            while not task.done() or sb.checked < self.sent_count():
                await pass_cycles(poll)
                if sb.checked != last:
                    last = sb.checked
                    dog.kick()
        dog.stop()

    def sent_count(self) -> int:
        return ConfigDB().get(None, "", "first_qid")

    def report_phase(self):
        with open(run_dir() / "perf.json", "w") as fh:
            json.dump({"perf": getattr(self, "perf", {}), "hbm": getattr(self, "hbm_stats", []),
                       "speed": getattr(self, "speed", None)}, fh)


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupZipfTest(LookupUniformTest):
    def build_phase(self):
        uvm_factory().set_type_override_by_type(UniformQuerySeq, ZipfQuerySeq)
        super().build_phase()


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupCacheTest(LookupZipfTest):
    """A CACHE build (hot-row caches enabled, policy from the knob cache_policy) under Zipf
    traffic, which repeats rows: rows bit-exact through hits, fills, evictions and bypasses,
    every cache counter exactly models/row_cache.py's for the query stream, and memory
    beats = engine beats - the hits' beats (finish())."""

    batch_ok = False
    in_idle_prob = 0.1
    out_stall_prob = 0.1


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupCacheReloadTest(LookupCacheTest):
    """Tables reloaded between two Zipf streams over the same hot rows (contracts s.11.7):
    memory and banks get new contents (another table seed) at the same addresses, the same
    placement is committed again, and every row of the second stream must be the new one;
    a cache line that outlived the commit would serve the old row (a MISMATCH naming it)."""

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await self.bring_up()
        await self.mem.set_regions(self.layout.hbm_regions())
        await program_lookup(dut, self.layout, self.knobs.timeout)
        await self.run_seq(ZipfQuerySeq.create("before_reload"))
        cfg = dataclasses.replace(self.cfg, seed=self.cfg.seed + 1)
        layout = LookupLayout(cfg, self.build, placement=self.layout.placement)
        await self.mem.set_content(seed=cfg.seed, emb_shift=cfg.emb_shift)
        await self.mem.set_regions(layout.hbm_regions())
        await program_lookup(dut, layout, self.knobs.timeout)
        ConfigDB().set(None, "*", "model_cfg", cfg)
        self.env.scoreboard.set_model(cfg, layout)
        await self.run_seq(ZipfQuerySeq.create("after_reload"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class LookupIdSaturationTest(LookupUniformTest):
    """Every read ID of one engine busy at once (all 2^ID_W): on a slow memory
    (knob latency) with several tables on one channel, the engine must stop
    issuing until an ID comes back, not reuse a busy one; results and every
    counter stay exact. The test fails if no engine reached the full pool (it
    would prove nothing)."""

    async def watch_ids(self) -> None:
        dut, b = cocotb.top, self.build
        w, n = b.id_w + 1, b.num_ch + b.num_banks
        while True:
            await RisingEdge(dut.clk)
            reads = int(dut.st_outstanding.value)
            for e in range(n):
                k = (reads >> (w * e)) & ((1 << w) - 1)
                if k > self.peak[e]:
                    self.peak[e] = k
                if k == 1 << b.id_w:
                    self.full_cycles[e] += 1

    async def run_phase(self):
        n = self.build.num_ch + self.build.num_banks
        self.peak, self.full_cycles = [0] * n, [0] * n
        self.watcher = cocotb.start_soon(self.watch_ids())
        await super().run_phase()

    async def finish(self) -> None:
        self.watcher.cancel()
        outs = 1 << self.build.id_w
        self.logger.info(f"read IDs: peak per engine {self.peak} of {outs}; cycles with all busy "
                         f"{self.full_cycles}")
        assert max(self.peak) <= outs, f"an engine had {max(self.peak)} reads outstanding, more than {outs} IDs"
        assert any(self.full_cycles), \
            (f"no engine ever had all {outs} read IDs busy (peaks {self.peak}): the stimulus did not "
             f"saturate the ID pool (raise the knob latency)")
        await super().finish()


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupEdgeTest(LookupUniformTest):
    def build_phase(self):
        uvm_factory().set_type_override_by_type(UniformQuerySeq, EdgeQuerySeq)
        super().build_phase()


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class LookupBackpressureTest(LookupUniformTest):
    """Idle input, stalled output, and a memory that stalls AR and R at random."""

    in_idle_prob = 0.3
    out_stall_prob = 0.6

    async def setup_memory(self, mem):
        await mem.set_faults(255, ar_stall=0.3, r_stall=0.3)


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupArAfterValidTest(LookupUniformTest):
    """Memory that raises ARREADY only after ARVALID has waited a cycle (AXI lets a slave
    wait for VALID; contracts s.5: the engines never wait for ARREADY before ARVALID).
    An engine that did would never get a handshake: the watchdog names the stuck query.
    Every vector and counter exact, the AR stall cycles as the memory model counts them."""

    async def setup_memory(self, mem):
        await mem.set_faults(255, ar_after_valid=True)


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupPaddedStrideTest(LookupUniformTest):
    """Every plain table stored with a stride 8 times wider than its row (the descriptor's
    stride_log2 + 3, capped at 4 KiB; contracts s.5 asks only stride >= 2 * dim): each
    lookup reads the whole stride, more beats than the widest row of the build needs
    (2..8 beats on the tiny build, whose rows fit one), and must keep the row's first
    2 * dim bytes; the padding holds other data (in memory the row's further procedural
    elements, on chip zeros). Vectors, beats and the port monitor's burst shapes exact."""

    def make_layout(self) -> LookupLayout:
        return super().make_layout().padded(3)


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupBadIndexTest(LookupUniformTest):
    """Out-of-range indices: an error record for that query, the others unharmed."""

    expected_errors = ["idx_range"]

    def build_phase(self):
        uvm_factory().set_type_override_by_type(UniformQuerySeq, BadIndexSeq)
        super().build_phase()


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class LookupBadIndexLagTest(LookupBadIndexTest):
    """Out-of-range indices while one memory channel (the first product table's, else
    the first memory table's) accepts an AR only about one cycle in ten: its engine lags
    the others by many queries, so its index errors are parked and reach the gather after
    the query's other rows are written. The error result must write zeros to its own
    table's elements only (a product's A and B halves at feat_off_a / feat_off_b, split
    at dim_a) and leave the rows already gathered alone; the scoreboard checks every
    element of every vector, error records included."""

    async def setup_memory(self, mem):
        mem_descs = [d for d in self.layout.descs if not d.onchip]
        assert mem_descs, "the lag test needs a table in memory"
        lag = next((d for d in mem_descs if d.is_product), mem_descs[0])
        await mem.set_faults(lag.channel, ar_stall=0.9)


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupAxiErrorTest(LookupUniformTest):
    """SLVERR on the lowest eighth of the rows, DECERR on the highest eighth, of (up to
    two) tables on every memory channel: queries reading those rows get the error record
    (of whichever failing lookup finished first), the others stay exact; every channel
    reports both kinds."""

    expected_errors = ["slverr", "decerr"]

    def build_phase(self):
        super().build_phase()
        per_ch: dict = {}
        for p, d in enumerate(self.layout.descs):
            if not d.onchip and len(per_ch.setdefault(d.channel, [])) < 2:   # 4 fault ranges per channel
                per_ch[d.channel].append(p)
        assert per_ch, "the fault test needs a table in memory"
        self.faults = {}
        for tabs in per_ch.values():
            for p in tabs:
                d = self.layout.descs[p]
                # the memory answers per beat: ranges start on beat boundaries, so rows
                # sharing a beat (narrow rows) fail together
                per_beat = max(1, self.build.word_bytes // d.stride)
                n = max(per_beat, d.rows // 8 // per_beat * per_beat)
                hi = (d.rows - n) // per_beat * per_beat
                self.faults[p] = [(0, n, 2, "SLVERR"), (hi, d.rows, 3, "DECERR")]
        ConfigDB().set(None, "*", "fault_rows", {p: [f[:3] for f in fs] for p, fs in self.faults.items()})

    async def setup_memory(self, mem):
        by_ch = {}
        for p, ranges in self.faults.items():
            d = self.layout.descs[p]
            for lo, hi, _code, resp in ranges:
                by_ch.setdefault(d.channel, []).append((d.base + lo * d.stride, d.base + hi * d.stride, resp))
        for ch, ranges in by_ch.items():
            await mem.set_faults(ch, err_ranges=ranges)


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupUnexpectedRidTest(LookupUniformTest):
    """The memory sends beats with an ID not in flight (the HBM model's phantom fault), two
    on every memory channel, in the middle of traffic: the lookup drops them, raises
    st_unexpected_r (sticky until reset), counts them in perf_beats, and answers every
    query exactly as if they had never come (contracts s.5.1)."""

    async def setup_memory(self, mem):
        channels = sorted({d.channel for d in self.layout.descs if not d.onchip})
        self.phantoms_expected = 2 * len(channels)
        for ch in channels:
            await mem.set_faults(ch, phantom=2)


@pyuvm.test(timeout_time=100, timeout_unit="ms")
class LookupStuckChannelTest(LookupUniformTest):
    """Each memory channel in turn accepts reads and never answers: the engine's watchdog
    fails them with ERR_TIMEOUT, then answers later lookups on that channel at once;
    queries not touching it stay exact (none here: every query reads every table, so
    every query carries a timeout record, naming that channel's engine). A reset between
    channels revives the dead engine (the top's soft reset does the same)."""

    expected_errors = ["timeout"]

    async def reset_dut(self) -> None:
        dut = cocotb.top
        dut.rst_n.value = 0
        await ClockCycles(dut.clk, 5)
        dut.rst_n.value = 1
        await RisingEdge(dut.clk)
        await self.mem.clear_stats()         # the counters restart with the DUT: so do the model's
        self.env.scoreboard.new_epoch()

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await self.bring_up()
        await self.mem.set_regions(self.layout.hbm_regions())
        sb = self.env.scoreboard
        channels = sorted({d.channel for d in self.layout.descs if not d.onchip})
        ConfigDB().set(None, "*", "num_queries", max(8, self.knobs.queries // len(channels)))
        for i, ch in enumerate(channels):
            if i:
                await self.reset_dut()
            await self.mem.set_faults(ch, stuck="no_response")
            sb.fault_rows = {p: (0, d.rows, 4) for p, d in enumerate(self.layout.descs)
                             if not d.onchip and d.channel == ch}
            await program_lookup(dut, self.layout, self.knobs.timeout)
            await self.run_seq(UniformQuerySeq.create(f"stuck_ch{ch}"))
            await self.mem.clear_faults(ch)
            self.logger.info(f"channel {ch} stuck: every query answered with its timeout record")
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupCapacityTest(LookupUniformTest):
    """With the feature output stalled, the query ring accepts exactly QDEPTH
    queries and then holds s_query_ready low (contracts.md s.5); a commit then
    waits for the ring to drain without admitting new queries; released, every
    query is answered exactly."""

    batch_ok = False          # it holds the output itself (the pyuvm monitor's hold)

    async def run_phase(self):
        dut = cocotb.top
        self.env.monitor.hold = True
        accepted = 0
        blocked = 0

        async def count_and_release():
            nonlocal accepted, blocked
            while blocked < 200:
                await RisingEdge(dut.clk)
                if int(dut.s_query_valid.value) and int(dut.s_query_ready.value):
                    accepted += 1
                    blocked = 0
                elif int(dut.rst_n.value) and int(dut.cfg_ready.value):
                    blocked += 1
            assert accepted == self.build.qdepth, \
                f"query ring accepted {accepted} queries with the output stalled, expected QDEPTH={self.build.qdepth}"
            assert int(dut.s_query_valid.value), "the driver ran out of queries before the ring filled"
            self.logger.info(f"ring full after exactly {accepted} = QDEPTH queries; releasing the output")
            # a commit (same descriptors) while the ring is full: the queries in flight finish
            # under the old lists, and no new query enters until the lists are rebuilt
            dut.cfg_commit.value = 1
            await RisingEdge(dut.clk)
            dut.cfg_commit.value = 0
            self.env.monitor.hold = False
            entered = 0
            while int(dut.cfg_ready.value):
                await RisingEdge(dut.clk)
                entered += int(dut.s_query_valid.value) and int(dut.s_query_ready.value)
            assert entered == 0, f"{entered} queries entered between a commit and the list rebuild"
            self.logger.info("commit with the ring full: drained, rebuilt, no query slipped in")

        cocotb.start_soon(count_and_release())
        await super().run_phase()


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class LookupSerialTest(LookupUniformTest):
    """One query at a time (each waits for the previous result): the unloaded path,
    where a channel has only its own tables' reads in flight (1 or a few)."""

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await self.bring_up()
        await self.mem.set_regions(self.layout.hbm_regions())
        await program_lookup(dut, self.layout, self.knobs.timeout)
        ConfigDB().set(None, "*", "num_queries", 1)
        for i in range(30):
            await self.run_seq(EdgeQuerySeq.create(f"serial{i}") if i % 2 else UniformQuerySeq.create(f"serial{i}"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=60, timeout_unit="ms")
class LookupRandomConfigTest(LookupUniformTest):
    """Many random legal models (tables, rows, dims, tiers, channels, a Cartesian pair)
    committed one after another to the same build, each checked with queries."""

    in_idle_prob = 0.1
    out_stall_prob = 0.2

    def hbm_config(self) -> HbmConfig:
        # the whole ADDR_W space is memory here: tables are spread over all of it
        return dataclasses.replace(super().hbm_config(), ch_bytes=1 << self.build.addr_w)

    async def run_phase(self):
        from tb.lookup.random_config import random_layout
        self.raise_objection()
        dut = cocotb.top
        await self.bring_up()
        g = np.random.default_rng(test_seed())
        sb = self.env.scoreboard
        for k in range(self.knobs.random_configs):
            layout = random_layout(g, self.build, name=f"random{k}", relocate_in=1 << self.build.addr_w)
            cfg = layout.cfg
            await self.mem.set_content(seed=cfg.seed, emb_shift=cfg.emb_shift)
            await self.mem.set_regions(layout.hbm_regions())
            await program_lookup(dut, layout, self.knobs.timeout)
            assert not int(dut.cfg_bad.value), (f"random config {k} rejected: code {int(dut.cfg_err_code.value)} "
                                               f"table {int(dut.cfg_err_table.value)}: {cfg.to_dict()}")
            ConfigDB().set(None, "*", "model_cfg", cfg)
            ConfigDB().set(None, "*", "num_queries", 25)
            sb.set_model(cfg, layout)
            await self.run_seq(UniformQuerySeq.create(f"random{k}"))
            await self.observe_ports()        # under this layout, before the next replaces it
            self.logger.info(f"random config {k}: {cfg.num_tables} tables, {len(layout.descs)} physical, "
                             f"feature {cfg.feature_len}, 25 queries exact")
        await self.finish()
        self.drop_objection()


# illegal descriptor -> (field changes, lookup_pkg::cfg_err_e code the config block must report)
BAD_DESCRIPTORS = {
    "engine": ({"channel": 200}, 1),
    "stride": ({"stride_log2": 13}, 2),
    "dim": ({"dim": "DIM_MAX+1", "stride_log2": 12}, 3),
    "table_id": ({"lt_a": 250}, 4),
    "feature": ({"feat_off_a": "FEAT_MAX"}, 5),
    "base": ({"base": 0x1000 + 64, "onchip": 0}, 6),
    "rows": ({"rows": 0}, 7),
    # one row past the end of on-chip bank 0 / of the ADDR_W memory address space
    "extent_bank": ({"onchip": 1, "channel": 0, "base": 0, "rows": "BANK_ROWS+1"}, 10),
    "extent_memory": ({"base": "ADDR_END-4096", "rows": "4096/STRIDE+1"}, 10),
    "extent_huge": ({"rows": 0xFFFFFFFF, "stride_log2": 12}, 10),        # 2^44 bytes
    "base_beyond_memory": ({"base": 0xFF_FFFF_F000}, 10),                # top of the 40-bit field
    # the engine boundaries, one past the last: memory channel NUM_CH, on-chip bank NUM_BANKS
    "engine_channel": ({"onchip": 0, "channel": "NUM_CH"}, 1),
    "engine_bank": ({"onchip": 1, "channel": "NUM_BANKS", "base": 0, "rows": 1}, 1),
    # a product's A half: 1 <= dim_a <= dim (s.5); one past either end
    "product_dim_a_over_dim": ({"is_product": 1, "lt_b": "LT_A", "rows_b": 1, "dim_a": "DIM+1"}, 3),
    "product_dim_a_zero": ({"is_product": 1, "lt_b": "LT_A", "rows_b": 1, "dim_a": 0}, 3),
}

# legal descriptors exactly at those boundaries: the commit must accept them (cfg_bad low)
LEGAL_AT_LIMIT = {
    "last_channel": {"onchip": 0, "channel": "NUM_CH-1"},
    "last_bank": {"onchip": 1, "channel": "NUM_BANKS-1", "base": 0, "rows": 1},
    "product_dim_a_eq_dim": {"is_product": 1, "lt_b": "LT_A", "rows_b": 1, "dim_a": "DIM", "feat_off_b": 0},
    "product_dim_a_one": {"is_product": 1, "lt_b": "LT_A", "rows_b": 1, "dim_a": 1, "feat_off_b": 0},
}


@pyuvm.test(timeout_time=40, timeout_unit="ms")
class LookupBadConfigTest(LookupUniformTest):
    """Each kind of illegal descriptor: cfg_bad with its reason and table, every
    query answered with ERR_BAD_CONFIG (none lost, none hanging), then a good
    configuration gives exact results again."""

    expected_errors = ["bad_config"]

    async def run_phase(self):
        from tb.lookup.descriptor import pack_desc
        self.raise_objection()
        dut = cocotb.top
        await self.bring_up()
        await self.mem.set_regions(self.layout.hbm_regions())
        await program_lookup(dut, self.layout, self.knobs.timeout)
        p = next(i for i, d in enumerate(self.layout.descs) if not d.onchip)
        good = self.layout.descs[p].to_dict()
        stride = 1 << good["stride_log2"]
        limits = {"DIM_MAX+1": self.build.dim_max + 1, "FEAT_MAX": self.build.feat_max,
                  "BANK_ROWS+1": self.build.bank_words * self.build.word_bytes // stride + 1,
                  "ADDR_END-4096": (1 << self.build.addr_w) - 4096, "4096/STRIDE+1": 4096 // stride + 1,
                  "NUM_CH": self.build.num_ch, "NUM_CH-1": self.build.num_ch - 1,
                  "NUM_BANKS": self.build.num_banks, "NUM_BANKS-1": self.build.num_banks - 1,
                  "DIM": good["dim"], "DIM+1": good["dim"] + 1, "LT_A": good["lt_a"]}
        for kind, (change, code) in BAD_DESCRIPTORS.items():
            bad = dict(good, **{k: limits.get(v, v) for k, v in change.items()})
            await self.commit_one(p, pack_desc(bad))
            assert int(dut.cfg_bad.value), f"{kind}: illegal descriptor accepted"
            assert int(dut.cfg_err_code.value) == code, \
                f"{kind}: cfg_err_code {int(dut.cfg_err_code.value)}, expected {code}"
            assert int(dut.cfg_err_table.value) == p, f"{kind}: cfg_err_table {int(dut.cfg_err_table.value)}"
            ConfigDB().set(None, "*", "forced_error", 5)
            ConfigDB().set(None, "*", "num_queries", 8)
            await self.run_seq(UniformQuerySeq.create(f"bad_{kind}"))
            self.logger.info(f"illegal descriptor '{kind}': cfg_err_code {code}, 8 queries answered bad_config")
        # legal exactly at the boundaries the cases above pass by one
        for kind, change in LEGAL_AT_LIMIT.items():
            legal = dict(good, **{k: limits.get(v, v) for k, v in change.items()})
            await self.commit_one(p, pack_desc(legal))
            assert not int(dut.cfg_bad.value), \
                (f"{kind}: legal descriptor refused with cfg_err_code {int(dut.cfg_err_code.value)} at "
                 f"{int(dut.cfg_err_table.value)}: {legal}")
            self.logger.info(f"legal at the limit '{kind}': accepted")
        # two illegal descriptors at once: the first slot is the one reported
        q = next(i for i in range(p + 1, self.build.p_max) if i >= len(self.layout.descs))
        await self.write_desc(q, pack_desc(dict(good, rows=0)))
        await self.commit_one(p, pack_desc(dict(good, stride_log2=13)))
        assert (int(dut.cfg_err_code.value), int(dut.cfg_err_table.value)) == (2, p), \
            f"two bad descriptors: reported code {int(dut.cfg_err_code.value)} at {int(dut.cfg_err_table.value)}, " \
            f"expected the first (code 2 at {p})"
        await self.write_desc(q, 0)
        # more tables on one engine than LIST_MAX (builds where P_MAX > LIST_MAX)
        if self.build.p_max > self.build.list_max:
            for i in range(self.build.list_max + 1):
                await self.write_desc(i, pack_desc(good))
            await self.commit_one(self.build.list_max, pack_desc(good))
            assert (int(dut.cfg_err_code.value), int(dut.cfg_err_table.value)) == (8, self.build.list_max), \
                f"list overflow: code {int(dut.cfg_err_code.value)} at {int(dut.cfg_err_table.value)}"
            self.logger.info(f"{self.build.list_max + 1} tables on one engine: cfg_err_code 8 (LIST_MAX)")
            for i in range(self.build.list_max + 1):
                await self.write_desc(i, self.layout.words[i] if i < len(self.layout.words) else 0)
        # a good configuration again: exact results
        await self.commit_one(p, pack_desc(good))
        assert not int(dut.cfg_bad.value), "good descriptor still rejected"
        ConfigDB().set(None, "*", "forced_error", None)
        ConfigDB().set(None, "*", "num_queries", 60)
        await self.run_seq(UniformQuerySeq.create("recovered"))
        await self.finish()
        self.drop_objection()

    async def write_desc(self, p, word):
        dut = cocotb.top
        dut.desc_we.value = 1
        dut.desc_waddr.value = p
        dut.desc_wdata.value = word
        await RisingEdge(dut.clk)
        dut.desc_we.value = 0

    async def commit_one(self, p, word):
        dut = cocotb.top
        await self.write_desc(p, word)
        dut.cfg_commit.value = 1
        await RisingEdge(dut.clk)
        dut.cfg_commit.value = 0
        await ClockCycles(dut.clk, 2)
        for _ in range(self.build.p_max + 16):
            await RisingEdge(dut.clk)
            if int(dut.cfg_ready.value):
                return
        raise AssertionError("lookup config never became ready after commit")

