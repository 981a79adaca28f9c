"""cocotb/pyuvm end-to-end tests of the accelerator (run through tests/test_top.py).

Everything a host does goes through the CSRs and the memory model: the
host driver (tb/host/microrec_host.py) places the model, loads the DMA
images, programs the descriptors and layer shapes and starts the DMAs.
The build, model and knobs come from the bench spec (tb/top/dut.py: TopBuild, TopKnobs).
"""
from __future__ import annotations

import dataclasses
import json
import os
import random

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import ClockCycles
from pyuvm import ConfigDB, uvm_factory

from tb.agents.query_agent import QueryDriver, configure_stream_stimulus
from tb.agents.query_seqs import BadIndexSeq, UniformQuerySeq, ZipfQuerySeq
from tb.common.bench_test import BenchTest
from tb.common.clock_reset import pass_cycles, start_clock_and_reset
from tb.common.seeding import test_seed
from tb.common.spec import run_dir
from tb.common.sv_source import cfg_err_names
from tb.common.watchdog import Watchdog
from tb.csr.csr_agent import CsrBus, CsrRegs
from tb.hbm.memory import HbmMemory
from tb.host.microrec_host import DMA_BANK, HostError, MicrorecHost, TopBuild
from tb.lookup.layout import LookupLayout, memory_config
from tb.lookup.port_monitor import PortAnalysis, PortLog, read_monitor
from tb.mlp.mlp_layout import bank_plan
from tb.top.counters import CounterModel, counter_problems
from tb.top.dut import TopKnobs
from tb.top.dut import bench_config as load_config  # dlrm_tiny one-hot variants by name, else models.config
from tb.agents.packet_driver import MultihotQuerySeq, use_packet_driver
from tb.top.top_env import DlrmQueryDriver, ResultMonitor, TopEnv, TopScoreboard

TIMEOUT_MS = 200


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopRandomTest(BenchTest):
    """Base test: load the model through the host driver, run random queries."""

    Build, Knobs = TopBuild, TopKnobs
    in_idle_prob = 0.1
    out_stall_prob = 0.2
    expected_errors: list = []
    mem_ch_bytes = 0          # memory capacity per channel (0: the placement's platform)
    mem_latency = None        # ideal memory latency for this test (None: the knob's)

    def build_phase(self):
        super().build_phase()
        k = self.knobs
        self.configs = list(k.configs)
        self.cfg = load_config(self.configs[0])
        if MicrorecHost.is_multihot(self.cfg):
            # multi-hot models take packets (contracts s.9.7): bags and dense features in one
            use_packet_driver()
            ConfigDB().set(None, "*", "pkt_words", self.build.lookup.pkt_w)
            ConfigDB().set(None, "*", "bag_length", k.bag_length)
            ConfigDB().set(None, "*", "bag_lengths", k.bag_lengths)
        elif self.build.dlrm is not None:
            # a DLRM build takes dense features with every query (s_query_dense)
            uvm_factory().set_type_override_by_type(QueryDriver, DlrmQueryDriver)
        cdb = ConfigDB()
        cdb.set(None, "*", "model_cfg", self.cfg)
        cdb.set(None, "*", "num_queries", k.queries)
        self.soak = configure_stream_stimulus(self, cdb)
        cdb.set(None, "*", "expected_errors", self.expected_errors)
        cdb.set(None, "*", "configs", [os.path.basename(c).removesuffix(".json") for c in self.configs])
        cdb.set(None, "*", "fault_rows", {})
        cdb.set(None, "*", "forced_error", None)
        cdb.set(None, "*", "csr_bus", CsrBus(cocotb.top, cocotb.top.clk, cocotb.top.rst_n))
        self.env = TopEnv("env", self)

    # ---------------------------------------------------------------- helpers
    def sent(self) -> int:
        return ConfigDB().get(None, "", "first_qid")

    def outstanding(self) -> str:
        sb = self.env.scoreboard
        return (f"  queries sent {self.sent()}, results checked {sb.checked}, "
                f"waiting for a result {sb.sent_fifo.used()}")

    async def bring_up(self):
        dut = cocotb.top
        for sig in ("s_query_valid", "m_result_ready", "hbm_cmd_valid", "s_axil_awvalid", "s_axil_wvalid",
                    "s_axil_arvalid"):
            getattr(dut, sig).value = 0
        await start_clock_and_reset(dut.clk, dut.rst_n)
        # memory timing needs the placement of the first model
        layout = LookupLayout(self.cfg, self.build.lookup)
        soak, k = self.soak or {}, self.knobs
        latency = soak.get("latency", self.mem_latency or k.latency)
        mem_cfg = memory_config(layout, soak.get("preset", k.preset), latency=latency,
                                mhz=k.mhz, rng_seed=test_seed())
        if self.mem_ch_bytes:
            mem_cfg = dataclasses.replace(mem_cfg, ch_bytes=self.mem_ch_bytes)
        self.mem = HbmMemory(mem_cfg, dut)
        await self.mem.start()
        # named registers of the generated pyuvm model, accessed through its frontdoor
        self.csr = CsrRegs(agent=self.env.csr_agent)
        self.host = MicrorecHost(dut, self.csr, self.mem, self.build)
        self.host.precision, self.host.zero_skip = k.precision, bool(k.zero_skip)
        ConfigDB().set(None, "*", "host", self.host)
        # what the counters, the error record and STATUS must read (tb/top/counters.py)
        self.cm = CounterModel(self.build)
        self.host.counter_model = self.cm
        ConfigDB().set(None, "*", "counter_model", self.cm)
        self.port_log = PortLog()
        self.ports = PortAnalysis(self.build.lookup.num_ch + self.build.lookup.num_banks)
        # a CACHE build runs with its hot-row caches on (contracts s.11.11), policy from the knob
        if self.build.lookup.cache:
            await self.host.program_cache(True, k.cache_policy)

    async def observe_ports(self) -> None:
        """Read what the port monitor logged so far, under the layout the DUT ran it with."""
        await self.mem.flush_logs()
        events = self.port_log.read_new()
        if self.host.layout is not None:
            self.ports.feed(events, self.host.layout)

    async def stamped(self, reg: str) -> tuple[int, int]:
        """A CSR read on the raw bus and the memory model's cycle counter just after it.
        Reads made the same way take the same number of cycles, so two stamps differ
        exactly as the cycles at which the CSR block sampled the two values."""
        bus = ConfigDB().get(None, "", "csr_bus")
        value = await bus.read(self.csr.address(reg))
        return value, int(cocotb.top.hbm_cycle.value)

    async def check_counters(self) -> None:
        """Every CSR counter, the error record and STATUS against the prediction
        (contracts s.7.1); the datapath must be idle."""
        dut = cocotb.top
        await self.observe_ports()
        got = await self.host.counters()
        unexpected = await self.csr.read_perf("unexpected_r")
        mon = read_monitor(dut)
        problems = counter_problems(got, self.cm.pred, mon, self.ports, self.ports.unexpected_since_reset,
                                    unexpected, self.cm.cache_pred())
        # a beat with an ID not in flight may only be one the memory made up on purpose
        # (phantom fault): a stale beat of a read issued before a soft reset must have
        # been drained by the top, never handed to the engines (mutant top_no_drain)
        injected = sum(s.phantom for s in await self.mem.stats())
        if self.ports.unexpected_total != injected:
            problems.append(f"MISMATCH port monitor: {self.ports.unexpected_total} beats with an ID not in flight "
                            f"reached the engines, the memory injected {injected} (stale beats after a reset?)")
        # CYCLES counts every cycle, MLP_IDLE every cycle the array issues no beat, so
        # MLP_IDLE + MLP_BUSY = CYCLES; the array is idle from t1 to t3
        c1, t1 = await self.stamped("PERF_CYCLES_LO")
        c2, t2 = await self.stamped("PERF_CYCLES_LO")
        i3, t3 = await self.stamped("PERF_MLP_IDLE_LO")
        if c2 - c1 != t2 - t1:
            problems.append(f"MISMATCH counter cycles: read {c1} then {c2}, {t2 - t1} cycles apart")
        if i3 - (t3 - t1) + got["mlp_busy"] != c1:
            problems.append(f"MISMATCH counter mlp_idle: MLP_IDLE + MLP_BUSY = {i3 - (t3 - t1)} + "
                            f"{got['mlp_busy']}, CYCLES = {c1} (same instant)")
        # the first error record since err_clear, and STATUS
        fe = self.cm.first_error
        err = await self.csr.read_fields("ERR")
        want_err = (fe["err"], fe["err_table"], fe["err_engine"], fe["qid"]) if fe else (0, 0, 0, 0)
        got_err = (err["code"], err["table_id"], err["engine"], await self.csr.read("ERR_QID"))
        if got_err != want_err:
            problems.append(f"MISMATCH ERR/ERR_QID: expected the first error record since err_clear "
                            f"(code, table, engine, query id) {want_err}, got {got_err}")
        st = await self.host.status()
        want_st = {"cfg_ready": 1, "cfg_bad": 0, "busy": 0, "dma_busy": 0, "mlp_cfg_err": 0,
                   "dma_err": self.host.last_dma_err, "err_sticky": int(fe is not None),
                   "cache_on": self.cm.cache_on}
        bad = {k: (v, st[k]) for k, v in want_st.items() if st[k] != v}
        if bad:
            problems.append(f"MISMATCH STATUS: (expected, got) {bad}")
        for msg in problems:
            self.logger.error(msg)
        assert not problems, f"{len(problems)} counter/status mismatches; first: {problems[0]}"
        self.logger.info(f"counters, error record and STATUS exact: {got}")

    async def traffic(self, seq, limit_cycles: int = 200_000, progress_every: int = 0):
        """Run a sequence to completion: every query sent has its result checked."""
        dut = cocotb.top
        sb = self.env.scoreboard
        dog = Watchdog(dut.clk, limit_cycles, self.outstanding, "top watchdog").start()
        task = cocotb.start_soon(seq.start(self.env.seqr))
        last, shown = -1, 0
        while not task.done() or sb.checked + sb.dropped < self.sent():
            await pass_cycles(64)
            if sb.checked != last:
                last = sb.checked
                dog.kick()
            if progress_every and sb.checked >= shown + progress_every:
                shown = sb.checked - sb.checked % progress_every
                self.logger.info(f"[progress] {sb.checked} results checked, {len(sb.mismatches)} mismatches")
        dog.stop()
        await self.observe_ports()       # under this layout, before a reload replaces it

    async def finish(self):
        await ClockCycles(cocotb.top.clk, 8)
        await self.check_counters()
        self.counters = await self.host.counters()
        self.mem.check()
        st = await self.host.status()
        self.mem.stop()
        return st

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        await self.host.load_model(self.cfg)
        await self.traffic(UniformQuerySeq.create("main_seq"))
        await self.finish()
        self.drop_objection()

    def report_phase(self):
        with open(run_dir() / "perf.json", "w") as fh:
            json.dump({"counters": getattr(self, "counters", {})}, fh)

    async def held_error_record(self, queries: int, take: int) -> None:
        """Send ``queries`` queries, take the first ``take`` results, then hold the output
        with the next one, an error record, waiting while the lookup and the MLP finish
        everything: STATUS.busy must stay 1 until it is taken (a query is in flight until
        answered, contracts s.7; an ERR_BAD_CONFIG record under an illegal configuration
        bypasses the MLP, so only the pending-results FIFO says so)."""
        clk, mon, host = cocotb.top.clk, self.env.monitor, self.host
        mon.hold_from = mon.count + take
        ConfigDB().set(None, "*", "num_queries", queries)
        task = cocotb.start_soon(self.traffic(UniformQuerySeq.create("held_seq")))
        while mon.count < mon.hold_from:
            await ClockCycles(clk, 8)
        await ClockCycles(clk, 2000)           # the lookup and the MLP are long done
        assert int(cocotb.top.m_result_valid.value) and int(cocotb.top.m_result_err.value), \
            "held_error_record: no error record waiting at the output"
        st = await host.status()
        assert st["busy"], f"MISMATCH STATUS.busy 0 with an error record not yet taken: STATUS {st}"
        mon.hold_from = None
        await task
        await host.wait_status("busy", 0, cycles=10_000)
        self.logger.info("an error record held at the output kept STATUS.busy 1 until taken")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopZipfTest(TopRandomTest):
    def build_phase(self):
        uvm_factory().set_type_override_by_type(UniformQuerySeq, ZipfQuerySeq)
        super().build_phase()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopReconfigTest(TopRandomTest):
    """Every config in TOP_CONFIG in turn on one build: no rebuild between models; then
    the first again with its memory tables spread over the upper half of the ADDR_W space."""

    mem_ch_bytes = 1 << 34

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        for name in self.configs:
            cfg = load_config(name)
            ConfigDB().set(None, "*", "model_cfg", cfg)
            self.env.coverage.current = os.path.basename(name).removesuffix(".json")
            await self.host.load_model(cfg)
            await self.traffic(UniformQuerySeq.create(f"seq_{cfg.name}"))
        cfg = load_config(self.configs[0])
        ConfigDB().set(None, "*", "model_cfg", cfg)
        space = 1 << self.build.lookup.addr_w
        layout = await self.host.load_model(cfg, relocate=(np.random.default_rng(test_seed()), space // 2, space))
        self.logger.info("relocated: " + ", ".join(f"ch{d.channel}@{d.base:#x}" for d in layout.descs if not d.onchip))
        await self.traffic(UniformQuerySeq.create(f"seq_{cfg.name}_relocated"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopBackpressureTest(TopRandomTest):
    """Extreme backpressure on every stream at once: queries offered 40% of cycles,
    results taken 15% of cycles, memory AR and R stalled half the time."""

    in_idle_prob = 0.6
    out_stall_prob = 0.85

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        await self.host.load_model(self.cfg)
        await self.mem.set_faults(255, ar_stall=0.5, r_stall=0.5)
        await self.traffic(UniformQuerySeq.create("main_seq"))
        await self.mem.clear_faults()
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopBadIndexTest(TopRandomTest):
    """Out-of-range indices end to end: an error record, the other queries exact; one
    error record held at the output keeps STATUS.busy 1 until taken."""

    expected_errors = ["idx_range"]

    def build_phase(self):
        uvm_factory().set_type_override_by_type(UniformQuerySeq, BadIndexSeq)
        super().build_phase()

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        await self.host.load_model(self.cfg)
        await self.traffic(UniformQuerySeq.create("main_seq"))
        await self.held_error_record(queries=2, take=1)   # BadIndexSeq: query 1 is the bad one
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopAxiErrorTest(TopRandomTest):
    """SLVERR on half of one table: those queries get the record, none is lost."""

    expected_errors = ["slverr"]

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        layout = await self.host.load_model(self.cfg)
        p = next(p for p, d in enumerate(layout.descs) if not d.onchip)
        d = layout.descs[p]
        await self.mem.set_faults(d.channel, err_ranges=[(d.base, d.base + (d.rows // 2) * d.stride, "SLVERR")])
        ConfigDB().set(None, "*", "fault_rows", {p: (0, d.rows // 2, 2)})
        await self.traffic(UniformQuerySeq.create("main_seq"))
        await self.mem.clear_faults()
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopIllegalCsrTest(TopRandomTest):
    """Illegal CSR values: each sets its status, every query still gets exactly one
    answer (ERR_BAD_CONFIG), and a good configuration afterwards works again. In each
    illegal state one record is held at the output: STATUS.busy stays 1 until it is taken
    (under an illegal MLP configuration the record bypasses the MLP)."""

    expected_errors = ["bad_config"]

    async def illegal_round(self, what: str, expect_status: str, code: int | None = None, by: str = "top"):
        st = await self.host.status()
        assert st[expect_status], f"{what}: STATUS.{expect_status} not set ({st})"
        if code is not None:
            got = (await self.csr.read_fields("CFG_ERR"))["code"]
            assert got == code, f"{what}: CFG_ERR.code {got}, expected {code}"
        ConfigDB().set(None, "*", "forced_error", "bad_config")
        ConfigDB().set(None, "*", "forced_origin", by)
        ConfigDB().set(None, "*", "num_queries", 20)
        await self.traffic(UniformQuerySeq.create(f"seq_{expect_status}"))
        await self.held_error_record(queries=1, take=0)
        ConfigDB().set(None, "*", "forced_error", None)
        self.logger.info(f"{what}: STATUS.{expect_status} set, 20 queries answered with bad_config")

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        host, csr = self.host, self.csr
        n = self.knobs.queries
        # 1. MLP shapes above the build maxima
        await host.load_model(self.cfg, check=False)
        await csr.write("MLP_OUT_DIM0", 0xFFFF)     # the largest value the register holds
        await ClockCycles(cocotb.top.clk, 4)
        assert (await host.status())["mlp_cfg_err"], "MLP_OUT_DIM0 = 0xFFFF accepted"
        await csr.write("MLP_OUT_DIM0", self.build.mlp.MAX_DIM + 1)   # the boundary
        await ClockCycles(cocotb.top.clk, 4)
        await self.illegal_round("MLP layer above MAX_DIM", "mlp_cfg_err")
        await host.program_mlp(self.cfg)
        # 2. a product pairing a table that does not exist
        bad = dict(host.layout.descs[0].to_dict(), is_product=1, lt_b=self.cfg.num_tables + 3,
                   rows_b=2, dim_a=1)
        from tb.lookup.descriptor import pack_desc
        await csr.write_descriptor(0, pack_desc(bad))
        await csr.write_fields("CTRL", commit=1)
        await host.wait_status("cfg_ready", 1)
        await self.illegal_round("product of a missing table", "cfg_bad", code=4, by="lookup")
        # 2b. a descriptor outside memory: the table runs past the end of the address space
        p = next(i for i, d in enumerate(host.layout.descs) if not d.onchip)
        good = host.layout.descs[p].to_dict()
        bad = dict(good, base=(1 << self.build.lookup.addr_w) - 4096, rows=4096 // (1 << good["stride_log2"]) + 1)
        await host.load_model(self.cfg, check=False)
        await csr.write_descriptor(p, pack_desc(bad))
        await csr.write_fields("CTRL", commit=1)
        await host.wait_status("cfg_ready", 1)
        await self.illegal_round("descriptor outside memory", "cfg_bad", code=10, by="lookup")
        # 3. a descriptor slot past the table store: sticky until soft reset
        await host.load_model(self.cfg, check=False)
        await csr.write_descriptor(self.build.lookup.p_max, 0)   # the first slot past the store
        await self.illegal_round("descriptor slot >= P_MAX", "cfg_bad", code=9)
        # recovery: soft reset, load again, exact results
        await host.soft_reset()
        await host.load_model(self.cfg)
        ConfigDB().set(None, "*", "num_queries", n)
        await self.traffic(UniformQuerySeq.create("seq_recovered"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopDmaErrorTest(TopRandomTest):
    """A DMA that reads SLVERR (weights) or DECERR (an on-chip bank image): STATUS.dma_err,
    CFG_ERR.code 11, every query answered ERR_BAD_CONFIG (never from half-loaded
    images) until a soft reset and a reload, then exact results."""

    expected_errors = ["bad_config"]

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        host, csr = self.host, self.csr
        await host.load_model(self.cfg)
        plan = list(host.dma_plan)
        # requests the DMA refuses before reading anything: dma_err, but nothing was lost,
        # so the configuration stays good and queries stay exact
        target, bank, src, words, nbanks = plan[0]
        space = 1 << self.build.lookup.addr_w
        refused = [("unaligned source", dict(src=src + 64)),
                   ("source beyond ADDR_W", dict(src=space)),
                   ("image running past ADDR_W", dict(src=space - 4096)),
                   ("no such channel", dict(ch=self.build.lookup.num_ch)),
                   ("source at the top of the 64-bit register", dict(src=(1 << 64) - 4096)),
                   ("an image of 2^48 words", dict(words=0xFFFFFFFF, nbanks=0xFFFF))]
        for why, change in refused:
            await csr.write_dma_src(change.get("src", src))
            await csr.write("DMA_CH", change.get("ch", host.image_channel))
            await csr.write("DMA_TARGET", target)
            await csr.write("DMA_BANK", bank)
            await csr.write("DMA_WORDS", change.get("words", words))
            await csr.write("DMA_NBANKS", change.get("nbanks", nbanks))
            await csr.write_fields("CTRL", dma_start=1)
            await ClockCycles(cocotb.top.clk, 4)
            st = await host.status()
            assert st["dma_err"] and not st["dma_busy"] and not st["cfg_bad"], f"{why}: STATUS {st}"
            self.host.last_dma_err = 1
            self.logger.info(f"DMA refused ({why}): dma_err set, configuration still good")
        ConfigDB().set(None, "*", "num_queries", 20)
        await self.traffic(UniformQuerySeq.create("after_refusals"))
        targets = [("SLVERR", plan[0])] + [("DECERR", step) for step in plan if step[0] == DMA_BANK][:1]
        for resp, (target, bank, src, words, nbanks) in targets:
            # one bad beat in the middle of the image
            mid = src + (words * nbanks // 2) * 32
            await self.mem.set_faults(host.image_channel, err_ranges=[(mid, mid + 32, resp)])
            try:
                await host.dma(src, target, words, nbanks, bank)
                raise AssertionError(f"DMA over a {resp} beat reported no error")
            except HostError:
                pass
            st = await host.status()
            assert st["dma_err"] and st["cfg_bad"], f"{resp} DMA: STATUS {st}"
            cfg_err = await csr.read_fields("CFG_ERR")
            assert cfg_err["code"] == 11, f"{resp} DMA: CFG_ERR.code {cfg_err['code']}, expected 11 (DMA lost words)"
            # contracts s.7: code 11 names no slot, table_id 0 (not a stale slot index)
            assert cfg_err["table_id"] == 0, (
                f"MISMATCH {resp} DMA: CFG_ERR.table_id {cfg_err['table_id']}, expected 0 with code 11")
            await self.mem.clear_faults()
            ConfigDB().set(None, "*", "forced_error", "bad_config")
            ConfigDB().set(None, "*", "num_queries", 20)
            await self.traffic(UniformQuerySeq.create(f"after_{resp}"))
            ConfigDB().set(None, "*", "forced_error", None)
            self.logger.info(f"DMA target {target} bank {bank} with a {resp} beat: dma_err, CFG_ERR.code 11, "
                             "20 queries answered bad_config")
            # recovery
            await host.soft_reset()
            await host.load_model(self.cfg)
            ConfigDB().set(None, "*", "num_queries", 60)
            await self.traffic(UniformQuerySeq.create(f"recovered_{resp}"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopResetMidTrafficTest(TopRandomTest):
    """Soft resets while queries are in flight (reads outstanding on the memory, results
    stalled): the queries in flight are dropped, nothing stale comes out afterwards, and
    after a reload every later query is answered exactly once and correctly. Each reset
    is placed while the memory holds read bursts (the harness's count of bursts accepted
    and not finished), on a memory slow enough that their beats come back after the
    reset pulse: the drain must swallow them (without it, mutant ``top_no_drain``, they
    reach engines that no longer expect them)."""

    mem_latency = 80

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        host, sb = self.host, self.env.scoreboard
        dut = cocotb.top
        await host.load_model(self.cfg)
        rnd = random.Random(test_seed())
        ConfigDB().set(None, "*", "num_queries", 100)
        for r in range(3):
            task = cocotb.start_soon(self.traffic(UniformQuerySeq.create(f"seq{r}")))
            target = sb.checked + sb.dropped + rnd.randint(10, 60)
            while (sb.checked + sb.dropped < target or self.sent() - sb.checked - sb.dropped < 4
                   or int(dut.mon_rd_inflight.value) == 0):
                assert not task.done(), f"round {r}: the traffic ended before the reset point"
                await ClockCycles(dut.clk, 1)
            inflight = int(dut.mon_rd_inflight.value)
            await host.soft_reset()
            dropped = sb.flush_in_flight()
            self.logger.info(f"soft reset {r} at result {sb.checked}: {dropped} queries in flight dropped, "
                             f"{inflight} read bursts outstanding on the memory")
            assert dropped >= 1, "no query was in flight at the reset"
            await host.load_model(self.cfg)
            await task       # the rest of the round after the reload: exact
        await self.traffic(UniformQuerySeq.create("after"))
        assert sb.dropped > 0
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=4 * TIMEOUT_MS, timeout_unit="ms")
class TopThroughputTest(TopRandomTest):
    """No idle input, no output stall: what the benchmark and `make sim` measure."""

    in_idle_prob = 0.0
    out_stall_prob = 0.0


@pyuvm.test(timeout_time=100_000, timeout_unit="ms")
class TopSimTest(TopRandomTest):
    """`make sim`: unloaded latency (one query at a time), then saturated
    throughput over the knob `queries` queries; writes sim_result.json."""

    in_idle_prob = 0.0
    out_stall_prob = 0.0

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        self.logger.info("[progress] loading the model: memory images, descriptors, DMA ...")
        layout = await self.host.load_model(self.cfg)
        self.logger.info(f"[progress] model loaded ({len(layout.descs)} physical tables, "
                         f"{layout.placement.dram_rounds} DRAM rounds)")
        sb = self.env.scoreboard
        n_lat = self.knobs.lat_queries
        mh = MicrorecHost.is_multihot(self.cfg)
        ConfigDB().set(None, "*", "num_queries", 1)
        lat = []
        for i in range(n_lat):
            await self.traffic((MultihotQuerySeq if mh else UniformQuerySeq).create(f"lat{i}"))
            lat.append(sb.latencies[-1])
        self.logger.info(f"[progress] latency phase: {n_lat} queries one at a time, median "
                         f"{sorted(lat)[len(lat) // 2]} cycles")
        n = self.knobs.queries
        ConfigDB().set(None, "*", "num_queries", n)
        await self.mem.clear_stats()
        c0 = await self.host.counters()
        m0 = self.cm.cache_pred()
        cp = self.cm.cache
        b0 = (list(cp.beats), cp.memory_beats()) if cp is not None else None
        sb.first_sent, sb.last_out = 1 << 64, 0
        ConfigDB().set(None, "*", "zipf_alpha", self.knobs.zipf)
        if mh:       # bags of the knob's length; Zipf indices when the knob zipf > 0
            seq = MultihotQuerySeq.create("throughput")
        else:
            seq = ZipfQuerySeq.create("throughput") if self.knobs.zipf else UniformQuerySeq.create("throughput")
        await self.traffic(seq, progress_every=max(1, n // 10))
        span = sb.last_out - sb.first_sent
        c1 = await self.host.counters()
        m1 = self.cm.cache_pred()
        stats = [st.as_dict() for st in await self.mem.stats()]
        await self.finish()
        lat.sort()
        pick = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))]  # noqa: E731
        delta = {k: c1[k] - c0.get(k, 0) for k in c1}
        used = sorted({d.channel for d in layout.descs if not d.onchip})
        util = {st["ch"]: st.get("utilization", 0.0) for st in stats if st["ch"] in used}
        result = {
            "config": self.cfg.name, "queries": sb.checked, "mismatches": len(sb.mismatches),
            "latency_queries": n_lat, "latency_min": lat[0], "latency_median": pick(0.5),
            "latency_p99": pick(0.99), "latency_max": lat[-1],
            "throughput_queries": n, "throughput_cycles": span, "items_per_cycle": n / max(1, span),
            "physical_tables": len(layout.descs),
            # one-hot: one lookup per physical table; multi-hot: one per bag entry (the counters)
            "lookups_per_query": ((delta["lookups_mem"] + delta["lookups_onchip"]) / max(1, n) if mh
                                  else len(layout.descs)),
            "hbm_bytes_per_query": delta["mem_beats"] * self.build.lookup.word_bytes / max(1, n),
            "multihot": mh, "dlrm": bool(self.cfg.bottom_mlp),
            "dram_rounds": layout.placement.dram_rounds,
            "dram_lookups_per_query": (delta["lookups_mem"] / max(1, n) if mh
                                       else sum(1 for d in layout.descs if not d.onchip)),
            "channel_utilization": util, "counters": delta,
            "mlp_lanes": self.build.mlp.P * self.build.mlp.U,
            # MAC slots: U per PE per beat for int16 layers, 2U for int8 ones
            "mlp_utilization": delta["mlp_macs"] / max(1, delta["mlp_busy"] * self.build.mlp.P * self.build.mlp.U
                                                       * (2 if self.knobs.precision == "int8" else 1)),
            "precision": self.knobs.precision, "zero_skip": bool(self.knobs.zero_skip),
            "quant": self.host.qmodel.describe() if self.host.qmodel is not None else None,
        }
        if self.build.lookup.cache:        # the caches over the throughput run: counters and model
            rtl = {name: delta[f"cache_{name}"] for name in m1}
            mod = {name: m1[name] - m0[name] for name in m1}
            wb = self.build.lookup.word_bytes
            reads = lambda c: c["fills"] + c["bypasses"] + c["uncached"]  # noqa: E731
            rate = lambda c: c["hits"] / max(1, c["hits"] + c["misses"])  # noqa: E731
            result["cache"] = {
                "lines": self.build.cache_lines, "ways": self.build.cache_ways,
                "line_beats": self.build.cache_line_beats, "policy": self.knobs.cache_policy,
                "rtl": rtl, "model": mod, "hit_rate": rate(rtl), "model_hit_rate": rate(mod),
                "mem_reads_per_query": reads(rtl) / max(1, n), "model_mem_reads_per_query": reads(mod) / max(1, n),
                "reads_per_query_uncached": delta["lookups_mem"] / max(1, n),
                "mem_bytes_per_query": (delta["mem_beats"] * wb - rtl["bytes_saved"]) / max(1, n),
            }
            # the memory stage's bound (one beat per cycle per channel, the busiest channel sets it),
            # from the model's per-channel beats over this run: with the caches and without
            asked = [b - a for a, b in zip(b0[0], cp.beats)]
            sent = [b - a for a, b in zip(b0[1], cp.memory_beats())]
            result["cache"]["model_mem_bound_qpc"] = n / max(1, max(sent))
            result["cache"]["model_mem_bound_qpc_uncached"] = n / max(1, max(asked))
        with open(run_dir() / "sim_result.json", "w") as fh:
            json.dump(result, fh, indent=1)
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopSoftResetDrainTest(TopRandomTest):
    """How long a soft reset's drain lasts (contracts s.7): until every read burst
    accepted before it has returned its last beat, not a fixed time, and at most
    LOOKUP_TIMEOUT cycles when a channel never answers.

    0. Straight after the hard reset (no read ever issued): it ends at once.
    1. Reads outstanding on a slow memory, LOOKUP_TIMEOUT far away: STATUS.busy must
       read 1 while the harness still counts bursts in flight and fall within a few CSR
       reads of the cycle the last of them returned its last beat.
    2. A channel that never answers: the drain gives up after LOOKUP_TIMEOUT cycles;
       a second soft reset right after must end at once (the given-up bursts are
       forgotten, not waited for again).
    Then a reload gives exact results and every counter is checked."""

    mem_latency = 200
    expected_errors = ["timeout"]
    FAR_TIMEOUT = 20000
    STUCK_TIMEOUT = 300

    async def busy_stamped(self) -> tuple[int, int]:
        """STATUS.busy on the raw bus and the memory cycle just after the read."""
        value, cycle = await self.stamped("STATUS")
        f = next(f for f in self.csr.reg("STATUS").get_fields() if f.get_name() == "busy")
        return (value >> int(f.get_lsb_pos())) & 1, cycle

    async def timed_soft_reset(self) -> dict:
        """Pulse CTRL.soft_reset and poll STATUS.busy back to back; the harness's count of
        bursts in flight (mon_rd_inflight) is watched every cycle alongside."""
        dut = cocotb.top
        seen = {"quiet": None}

        async def watch():
            while True:
                await ClockCycles(dut.clk, 1)
                if seen["quiet"] is None and int(dut.mon_rd_inflight.value) == 0:
                    seen["quiet"] = int(dut.hbm_cycle.value)

        inflight = int(dut.mon_rd_inflight.value)
        watcher = cocotb.start_soon(watch())
        await self.csr.write_fields("CTRL", soft_reset=1)
        start = int(dut.hbm_cycle.value)
        reads = []
        while True:
            busy, cycle = await self.busy_stamped()
            reads.append((busy, cycle))
            if not busy:
                break
            assert cycle - start < 4 * self.FAR_TIMEOUT, "STATUS.busy never fell after the soft reset"
        watcher.cancel()
        self.host.last_dma_err = 0
        if self.host.counter_model is not None:
            self.host.counter_model.new_epoch(reset=True)   # a soft reset
        gaps = [b[1] - a[1] for a, b in zip(reads, reads[1:])] or [0]
        return {"start": start, "end": reads[-1][1], "reads": reads, "read_cycles": max(gaps),
                "quiet": seen["quiet"], "inflight": inflight,
                "last_busy": max((c for b, c in reads if b), default=None)}

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        dut = cocotb.top
        sb = self.env.scoreboard
        # -- 0: nothing ever issued since the hard reset: the drain ends at once
        r = await self.timed_soft_reset()
        self.logger.info(f"drain 0 (straight after the hard reset): {r['end'] - r['start']} cycles")
        assert r["end"] - r["start"] <= 2 * r["read_cycles"] + 4, \
            (f"drain 0: a soft reset with no read ever issued since the hard reset held STATUS.busy for "
             f"{r['end'] - r['start']} cycles (LOOKUP_TIMEOUT {await self.csr.read('LOOKUP_TIMEOUT')})")
        layout = await self.host.load_model(self.cfg)
        await self.csr.write("LOOKUP_TIMEOUT", self.FAR_TIMEOUT)
        # -- 1: the drain ends with the reads, long before LOOKUP_TIMEOUT
        ConfigDB().set(None, "*", "num_queries", 100)
        task = cocotb.start_soon(self.traffic(UniformQuerySeq.create("before_reset")))
        while (sb.checked < 10 or self.sent() - sb.checked - sb.dropped < 4
               or int(dut.mon_rd_inflight.value) < 2):
            assert not task.done(), "the traffic ended before the reset point"
            await ClockCycles(dut.clk, 1)
        r = await self.timed_soft_reset()
        sb.flush_in_flight()
        slack = 2 * r["read_cycles"] + 4
        self.logger.info(f"drain 1: reset at cycle {r['start']} with {r['inflight']} bursts in flight, last beat "
                         f"in at {r['quiet']}, STATUS.busy 0 read at {r['end']} ({len(r['reads'])} reads, "
                         f"{r['read_cycles']} cycles each)")
        assert r["quiet"] is not None and r["quiet"] > r["start"], \
            f"drain 1: no burst outstanding after the reset pulse (quiet at {r['quiet']}, reset at {r['start']})"
        assert r["last_busy"] is not None and r["last_busy"] >= r["quiet"] - slack, \
            (f"drain 1: STATUS.busy read 0 at cycle {r['end']} while {r['inflight']} bursts issued before the "
             f"reset were still in flight (last beat in at {r['quiet']})")
        assert r["end"] <= r["quiet"] + slack, \
            (f"drain 1 too long: the last outstanding burst finished at cycle {r['quiet']}, STATUS.busy still 1 "
             f"at {r['last_busy']} (expected 0 within {slack} cycles; LOOKUP_TIMEOUT {self.FAR_TIMEOUT})")
        await self.host.load_model(self.cfg)
        await self.csr.write("LOOKUP_TIMEOUT", self.FAR_TIMEOUT)
        await task
        # -- 2: a channel that never answers: give up, then forget
        await self.csr.write("LOOKUP_TIMEOUT", self.STUCK_TIMEOUT)
        ch = next(d.channel for d in layout.descs if not d.onchip)
        await self.mem.set_faults(ch, stuck="no_response")
        ConfigDB().set(None, "*", "fault_rows", {p: (0, d.rows, 4) for p, d in enumerate(layout.descs)
                                                if not d.onchip and d.channel == ch})
        ConfigDB().set(None, "*", "num_queries", 20)
        await self.traffic(UniformQuerySeq.create("stuck"))
        assert int(dut.mon_rd_inflight.value) > 0, "the stuck channel holds no burst"
        r = await self.timed_soft_reset()
        self.logger.info(f"drain 2 (stuck channel): {r['end'] - r['start']} cycles, LOOKUP_TIMEOUT "
                         f"{self.STUCK_TIMEOUT}")
        assert self.STUCK_TIMEOUT <= r["end"] - r["start"] <= self.STUCK_TIMEOUT + 2 * r["read_cycles"] + 4, \
            (f"drain 2: a channel that never answers held STATUS.busy for {r['end'] - r['start']} cycles, "
             f"expected LOOKUP_TIMEOUT {self.STUCK_TIMEOUT} (+ {2 * r['read_cycles'] + 4} for the reads)")
        r = await self.timed_soft_reset()
        self.logger.info(f"drain 3 (right after a drain gave up): {r['end'] - r['start']} cycles")
        assert r["end"] - r["start"] <= 2 * r["read_cycles"] + 4, \
            (f"drain 3: a soft reset after a drain gave up held STATUS.busy for {r['end'] - r['start']} cycles; "
             f"nothing was issued since, so it must end at once (the given-up bursts are forgotten)")
        # -- the channel answers again: reload, exact results, every counter
        await self.mem.clear_faults()
        ConfigDB().set(None, "*", "fault_rows", {})
        await self.host.load_model(self.cfg)
        ConfigDB().set(None, "*", "num_queries", 60)
        await self.traffic(UniformQuerySeq.create("recovered"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopStuckChannelTest(TopRandomTest):
    """A channel that stops answering: ERR_TIMEOUT records within LOOKUP_TIMEOUT
    cycles, nothing hangs; a soft reset and a reload bring exact results back."""

    expected_errors = ["timeout"]

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        layout = await self.host.load_model(self.cfg)
        await self.csr.write("LOOKUP_TIMEOUT", 300)
        ch = next(d.channel for d in layout.descs if not d.onchip)
        await self.mem.set_faults(ch, stuck="no_response")
        ConfigDB().set(None, "*", "fault_rows", {p: (0, d.rows, 4) for p, d in enumerate(layout.descs)
                                                if not d.onchip and d.channel == ch})
        ConfigDB().set(None, "*", "num_queries", 40)
        await self.traffic(UniformQuerySeq.create("stuck"))
        # recovery: the channel answers again, soft reset clears the dead engine
        await self.mem.clear_faults()
        ConfigDB().set(None, "*", "fault_rows", {})
        await self.host.soft_reset()
        await self.host.load_model(self.cfg)
        ConfigDB().set(None, "*", "num_queries", self.knobs.queries)
        await self.traffic(UniformQuerySeq.create("recovered"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopUnexpectedRidTest(TopRandomTest):
    """Beats with an ID not in flight in the middle of traffic (the memory model's phantom
    fault, two per memory channel): every result stays exact, PERF_UNEXPECTED_R reads 1 and
    MEM_BEATS counts them (contracts s.5.1, s.7.1); perf_clear keeps the flag, a soft reset
    clears it, and traffic after a reload is exact with the flag at 0."""

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        layout = await self.host.load_model(self.cfg)
        channels = sorted({d.channel for d in layout.descs if not d.onchip})
        await self.mem.clear_stats()
        for ch in channels:
            await self.mem.set_faults(ch, phantom=2)
        await self.traffic(UniformQuerySeq.create("phantoms"))
        await self.mem.clear_faults()
        sent = sum(s.phantom for s in await self.mem.stats())
        assert sent == 2 * len(channels), f"the memory sent {sent} phantom beats, not {2 * len(channels)}"
        assert self.ports.unexpected == sent, \
            f"MISMATCH port monitor: {self.ports.unexpected} beats with an ID not in flight, the memory sent {sent}"
        await ClockCycles(cocotb.top.clk, 8)
        await self.check_counters()           # UNEXPECTED_R 1, MEM_BEATS with the phantom beats
        await self.host.perf_clear()
        assert await self.csr.read_perf("unexpected_r") == 1, "MISMATCH perf_clear cleared UNEXPECTED_R"
        await self.host.soft_reset()
        assert await self.csr.read_perf("unexpected_r") == 0, "MISMATCH a soft reset left UNEXPECTED_R set"
        await self.host.load_model(self.cfg)
        await self.traffic(UniformQuerySeq.create("after"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopCountersTest(TopRandomTest):
    """Every counter, the error record and STATUS exactly, phase by phase: an idle phase
    after perf_clear (only CYCLES and MLP_IDLE move, in step); mixed good and bad traffic
    (out-of-range indices, SLVERR rows, both tiers) under backpressure; err_clear, then a
    second batch whose first error is captured anew; a DMA reload after perf_clear
    (DMA_WORDS). check_counters() runs after each phase (contracts s.7.1)."""

    expected_errors = ["idx_range", "slverr"]
    in_idle_prob = 0.3
    out_stall_prob = 0.5

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        host, dut = self.host, cocotb.top
        layout = await host.load_model(self.cfg)
        assert {d.onchip for d in layout.descs} == {True, False}, "the run must mix on-chip and memory tables"
        await self.check_counters()                     # after the load: DMA words only
        await host.perf_clear()
        await ClockCycles(dut.clk, 500)
        await self.check_counters()                     # idle: all zero but CYCLES = MLP_IDLE
        p = next(p for p, d in enumerate(layout.descs) if not d.onchip)
        d = layout.descs[p]
        await self.mem.set_faults(d.channel, err_ranges=[(d.base, d.base + (d.rows // 3) * d.stride, "SLVERR")],
                                  ar_stall=0.3)
        ConfigDB().set(None, "*", "fault_rows", {p: (0, d.rows // 3, 2)})
        for batch in range(2):
            await self.traffic(BadIndexSeq.create(f"mixed{batch}"))
            await ClockCycles(dut.clk, 8)
            await self.check_counters()
            assert self.cm.first_error is not None, "mixed traffic produced no error record"
            await host.err_clear()
            await self.check_counters()                 # err_sticky 0, ERR and ERR_QID 0
        await self.mem.clear_faults()
        ConfigDB().set(None, "*", "fault_rows", {})
        await host.perf_clear()
        target, bank, src, words, nbanks = host.dma_plan[1]
        await host.dma(src, target, words, nbanks, bank)   # the biases again: DMA_WORDS only
        await self.check_counters()
        await self.traffic(UniformQuerySeq.create("after_reload"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopDmaRefusalTest(TopRandomTest):
    """Every DMA refusal condition of contracts s.7, each alone and at its legal boundary:
    a refused request sets STATUS.dma_err, reads nothing (DMA_WORDS unchanged) and leaves the
    configuration intact; the accepted boundary request rewrites the same data (images
    padded with zeros where the model uses nothing), so queries stay exact afterwards."""

    mem_ch_bytes = 1 << 34          # the whole address space is memory: images at its top

    async def request(self, why: str, refused: bool, *, src: int, target: int, words: int, nbanks: int,
                      bank: int = 0, ch: int | None = None) -> None:
        csr, host = self.csr, self.host
        await csr.write_dma_src(src)
        await csr.write("DMA_CH", host.image_channel if ch is None else ch)
        await csr.write("DMA_TARGET", target)
        await csr.write("DMA_BANK", bank)
        await csr.write("DMA_WORDS", words)
        await csr.write("DMA_NBANKS", nbanks)
        await csr.write_fields("CTRL", dma_start=1)
        await ClockCycles(cocotb.top.clk, 4)
        st = await host.status() if refused else await host.wait_status("dma_busy", 0, cycles=2_000_000)
        ok = (st["dma_err"] and not st["dma_busy"]) if refused else not st["dma_err"]
        assert ok and not st["cfg_bad"], \
            f"MISMATCH DMA {why}: expected {'refused' if refused else 'accepted'}, STATUS {st}"
        if not refused:
            self.cm.dma(words, nbanks)
        host.last_dma_err = int(refused)
        self.logger.info(f"DMA {why}: {'refused' if refused else 'accepted'} as the contract says")

    async def place(self, ch: int, addr: int, data: bytes) -> int:
        await self.mem.bulk_load(ch, addr, data)
        return addr

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        host, lb, mb = self.host, self.build.lookup, self.build.mlp
        space = 1 << lb.addr_w
        await host.load_model(self.cfg)
        (tw, _, src_w, n_w, nb_w), (tb_, _, src_b, n_b, nb_b) = host.dma_plan[:2]
        banks = {bank: (src, n) for t, bank, src, n, _ in host.dma_plan if t == DMA_BANK}
        assert sorted(banks) == list(range(lb.num_banks)), "the model must use every on-chip bank"
        word = lb.word_bytes
        _, _, bbytes, _ = host.mlp_images(host.weights)
        img = {b: [host.layout.bank_images()[b].get(a, 0) for a in range(lb.bank_words)] for b in banks}
        pack = lambda words: b"".join(int(w).to_bytes(word, "little") for w in words)  # noqa: E731
        bias = dict(src=src_b, target=tb_, words=n_b, nbanks=nb_b)
        R = self.request
        # 1. alignment
        await R("source 64 bytes past a 4 KiB boundary", True, **dict(bias, src=src_b + 64))
        await R("source 2 KiB past a 4 KiB boundary", True, **dict(bias, src=src_b + 2048))
        await R("source 4 KiB aligned (boundary)", False, **bias)
        # 2. the address space: an image ending exactly at 2^ADDR_W, one word more, beyond
        top = await self.place(host.image_channel, space - 4096, pack(img[0][:4096 // word]))
        await R("bank image ending exactly at 2^ADDR_W (boundary)", False, src=top, target=DMA_BANK,
                words=4096 // word, nbanks=1, bank=0)
        await R("bank image one word past 2^ADDR_W", True, src=top, target=DMA_BANK, words=4096 // word + 1,
                nbanks=1, bank=0)
        await R("source at 2^ADDR_W", True, **dict(bias, src=space))
        await R("source at the top of the 64-bit register", True, **dict(bias, src=(1 << 64) - 4096))
        # 3. the channel
        last = await self.place(lb.num_ch - 1, 1 << 20, bbytes)
        await R("the last channel (boundary)", False, **dict(bias, src=last), ch=lb.num_ch - 1)
        await R("a channel past the last", True, **dict(bias, src=last), ch=lb.num_ch)
        # 4. targets and banks that do not exist
        await R("target 3", True, **dict(bias, target=3))
        await R(f"weights for {mb.P} PEs (boundary)", False, src=src_w, target=tw, words=n_w, nbanks=mb.P)
        await R(f"weights for {mb.P + 1} PEs", True, src=src_w, target=tw, words=n_w, nbanks=mb.P + 1)
        await R(f"biases for {mb.P + 1} PEs", True, **dict(bias, nbanks=mb.P + 1))
        per_pe = [bbytes[i * n_b * word:(i + 1) * n_b * word] + bytes((mb.BDEPTH - n_b) * word) for i in range(mb.P)]
        deep = await self.place(host.image_channel, space // 2, b"".join(per_pe))
        await R(f"biases of BDEPTH={mb.BDEPTH} words (boundary)", False, src=deep, target=tb_, words=mb.BDEPTH,
                nbanks=mb.P)
        await R("biases of BDEPTH+1 words", True, src=deep, target=tb_, words=mb.BDEPTH + 1, nbanks=mb.P)
        nbk = lb.num_banks
        both = await self.place(host.image_channel, space // 2 + (1 << 20),
                                b"".join(pack(img[b]) for b in range(nbk)))
        await R(f"all {nbk} on-chip banks from bank 0 (boundary)", False, src=both, target=DMA_BANK,
                words=lb.bank_words, nbanks=nbk, bank=0)
        await R(f"{nbk} banks from bank 1", True, src=both, target=DMA_BANK, words=lb.bank_words, nbanks=nbk, bank=1)
        await R(f"bank {nbk - 1}, the last (boundary)", False, src=banks[nbk - 1][0], target=DMA_BANK,
                words=banks[nbk - 1][1], nbanks=1, bank=nbk - 1)
        await R(f"bank {nbk}, past the last", True, src=banks[0][0], target=DMA_BANK, words=banks[0][1],
                nbanks=1, bank=nbk)
        await R("BANK_WORDS+1 words into a bank", True, src=both, target=DMA_BANK, words=lb.bank_words + 1,
                nbanks=1, bank=0)
        # 5. zero counts, and the smallest legal request: one word of PE 0's biases
        await R("zero words", True, **dict(bias, words=0))
        await R("zero banks", True, **dict(bias, nbanks=0))
        one = await self.place(host.image_channel, space // 2 + (2 << 20), bbytes[:word])
        await R("one word of one bank (boundary)", False, src=one, target=tb_, words=1, nbanks=1)
        # 6. a busy datapath: queries in flight, then a DMA running
        self.env.monitor.stall_prob = 0.95
        ConfigDB().set(None, "*", "num_queries", 30)
        task = cocotb.start_soon(self.traffic(UniformQuerySeq.create("busy")))
        while not (await host.status())["busy"]:
            await ClockCycles(cocotb.top.clk, 4)
        await R("queries in flight", True, **bias)
        await task
        self.env.monitor.stall_prob = self.out_stall_prob
        await R("queries all answered (boundary)", False, **bias)
        # the same request twice in a row: the second finds the first running
        await self.csr.write_fields("CTRL", dma_start=1)
        await self.csr.write_fields("CTRL", dma_start=1)
        st = await host.status()
        assert st["dma_err"], f"MISMATCH DMA a DMA running: expected refused, STATUS {st}"
        st = await host.wait_status("dma_busy", 0)
        assert st["dma_err"] and not st["cfg_bad"], f"MISMATCH DMA a DMA running: STATUS after {st}"
        self.cm.dma(n_b, nb_b)                              # the first one completed
        host.last_dma_err = 1
        self.logger.info("DMA a DMA running: refused, the running one completed")
        await R("the DMA finished (boundary)", False, **bias)
        # every accepted request rewrote what the model needs: exact results
        ConfigDB().set(None, "*", "num_queries", 40)
        await self.traffic(UniformQuerySeq.create("after"))
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopQuantTest(TopRandomTest):
    """INT8 and zero-skipping end to end (contracts s.8): the host loads the model
    int8 with zero-skip, then mixed without, int16 with, int8 without, and int16 dense
    again, back to back through the CSRs and the DMA (packed int8 weight images) on one
    build; every logit against golden_infer_q, the counters (MLP_BUSY / MLP_MACS of
    the residue schedule) exact after each model."""

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        for precision, skip in (("int8", True), ("mixed", False), ("int16", True), ("int8", False),
                                ("int16", False)):
            await self.host.load_model(self.cfg, precision=precision, zero_skip=skip)
            self.logger.info(f"loaded {self.cfg.name} {precision} zero_skip={skip}: "
                             f"{self.host.quant_fields()}")
            await self.traffic(UniformQuerySeq.create(f"seq_{precision}_{int(skip)}"))
            await ClockCycles(cocotb.top.clk, 8)
            await self.check_counters()
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopQuantCfgErrorTest(TopIllegalCsrTest):
    """Illegal MLP_QUANT combinations: STATUS.mlp_cfg_err and cfg_bad, CFG_ERR code 12
    (CFG_BAD_QUANT, read from lookup_pkg) naming the first layer at fault; every query
    answered ERR_BAD_CONFIG; the legal neighbour of each is accepted; then int8 with
    zero-skip runs exactly after the host rewrites MLP_QUANT (no reset)."""

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        host, csr = self.host, self.csr
        code = {v: k for k, v in cfg_err_names().items()}["bad_quant"]
        nl = len(self.cfg.layer_shapes)
        await host.load_model(self.cfg, precision="int8", zero_skip=True)
        good = host.quant_fields()
        cases = [("2:4 on layer 0", {"sparse24": 1}, 0),
                 (f"2:4 on the last layer {nl - 1}", {"sparse24": 1 << (nl - 1)}, nl - 1),
                 ("input_shift with layer 0 int16", {"int8": good["int8"] & ~1, "input_shift": 3}, 0)]
        if nl < 4:
            cases.append((f"int8 on layer {nl}, past the last", {"int8": good["int8"] | (1 << nl)}, nl))
        for why, over, layer in cases:
            await host.write_quant(**{**good, **over})
            await ClockCycles(cocotb.top.clk, 4)
            e = await csr.read_fields("CFG_ERR")
            st = await host.status()
            assert (st["mlp_cfg_err"], st["cfg_bad"], e["code"], e["table_id"]) == (1, 1, code, layer), (
                f"MISMATCH {why}: (STATUS.mlp_cfg_err, cfg_bad, CFG_ERR.code, table_id) expected "
                f"(1, 1, {code}, {layer}), got {(st['mlp_cfg_err'], st['cfg_bad'], e['code'], e['table_id'])}")
            await self.illegal_round(why, "mlp_cfg_err", code=code)
            # the legal neighbour: the same fields without the offending bit
            await host.write_quant(**good)
            await ClockCycles(cocotb.top.clk, 4)
            st = await host.status()
            assert (st["mlp_cfg_err"], st["cfg_bad"]) == (0, 0), f"MISMATCH {why}: legal neighbour refused: {st}"
        ConfigDB().set(None, "*", "num_queries", self.knobs.queries)
        await self.traffic(UniformQuerySeq.create("seq_after"))
        await self.finish()
        self.drop_objection()


# ---------------------------------------------------------------------------------------------
# DLRM back half (contracts s.7.2): dense -> bottom MLP -> interaction with the pooled vector
# -> top MLP, on a DLRM build (tb/top/dut.py DLRM_TOP); the models are dlrm_tiny one-hot
# ---------------------------------------------------------------------------------------------
@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopDlrmTest(TopRandomTest):
    """Every model of the configs knob in turn on one build (dlrm_tiny one-hot with the dot
    and the concat interaction, or a MicroRec model with DLRM off): each logit bit-exact
    against models.dlrm.dlrm_infer (bags of one, the query's dense features, one in five
    extreme so bottom layers saturate). Logs the cycles between results of each model."""

    seq_type = UniformQuerySeq

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        self.rates = {}
        mon = self.env.monitor
        for name in self.configs:
            cfg = load_config(name)
            ConfigDB().set(None, "*", "model_cfg", cfg)
            self.env.coverage.current = os.path.basename(name).removesuffix(".json")
            await self.host.load_model(cfg)
            start = len(mon.cycles)
            await self.traffic(self.seq_type.create(f"seq_{cfg.name}"))
            cyc = mon.cycles[start:]
            if len(cyc) > 1:
                self.rates[cfg.name] = (cyc[-1] - cyc[0]) / (len(cyc) - 1)
        self.logger.info("cycles per result (first to last result of each model): "
                         + ", ".join(f"{k} {v:.2f}" for k, v in self.rates.items()))
        await self.finish()
        self.drop_objection()

    def report_phase(self):
        with open(run_dir() / "perf.json", "w") as fh:
            json.dump({"counters": getattr(self, "counters", {}), "cycles_per_result": getattr(self, "rates", {})},
                      fh)


@pyuvm.test(timeout_time=4 * TIMEOUT_MS, timeout_unit="ms")
class TopDlrmMultihotTest(TopDlrmTest):
    """Multi-hot DLRM end to end (an MH + DLRM build): queries as packets (bags of
    knob bag_length, kind bag_lengths, and dense features) through the lookup's multi-hot
    front end, the bottom MLP, the interaction and the top MLP; every logit bit-exact
    against models.dlrm.dlrm_infer on the same bags, every counter exact (lookups = bag
    entries)."""

    seq_type = MultihotQuerySeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopDlrmIllegalTest(TopIllegalCsrTest):
    """Illegal DLRM configurations (contracts s.7.2): each sets STATUS.cfg_bad with CFG_ERR
    code 14 (CFG_BAD_DLRM) and table_id its reason, every query answers ERR_BAD_CONFIG
    (bypassing the back half and the MLP), and the legal configuration afterwards gives
    exact logits again. On a DLRM = 0 build: DLRM_CTRL.enable alone (reason 1)."""

    CFG_BAD_DLRM = {v: k for k, v in cfg_err_names().items()}["bad_dlrm"]   # lookup_pkg, the one source

    async def dlrm_round(self, what: str, regs: dict, why: int, good: dict):
        csr = self.csr
        for name, value in regs.items():
            await csr.write(name, value)
        await ClockCycles(cocotb.top.clk, 4)
        got = await csr.read_fields("CFG_ERR")
        assert got["table_id"] == why, f"{what}: CFG_ERR.table_id {got['table_id']}, expected reason {why}"
        await self.illegal_round(what, "cfg_bad", code=self.CFG_BAD_DLRM)
        for name in regs:
            await csr.write(name, good[name])
        await ClockCycles(cocotb.top.clk, 4)
        st = await self.host.status()
        assert not st["cfg_bad"], f"{what}: the legal values restored, STATUS still {st}"

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        host = self.host
        n = self.knobs.queries
        await host.load_model(self.cfg)
        good = {**host.dlrm_fields(self.cfg), "MLP_IN_DIM": self.cfg.layer_shapes[0][0]}
        good = {k: good.get(k, 0) for k in list(good) + [f"BOT_OUT_DIM{l}" for l in range(4)]
                + ["DLRM_N", "DLRM_D", "DLRM_FLEN", "DLRM_NUM_DENSE", "BOT_NUM_LAYERS", "BOT_IN_DIM",
                   "BOT_SHIFT"]}
        if self.build.dlrm is None:
            await self.dlrm_round("DLRM enabled on a DLRM = 0 build", {"DLRM_CTRL": 1}, 1, good)
        else:
            lb, bot = self.build.lookup, self.build.bottom
            dot = self.cfg.interaction == "dot"
            nb = len(self.cfg.bottom_mlp)
            cases = [
                ("n above T_MAX", {"DLRM_N": lb.t_max + 1}, 2),
                ("n = 0", {"DLRM_N": 0}, 2),
                ("d above 16 (one bottom vector beat)", {"DLRM_D": 17}, 2),
                ("F = 15", {"BOT_SHIFT": 15}, 2),
                ("concat with flen above FEAT_MAX", {"DLRM_CTRL": 1, "DLRM_FLEN": lb.feat_max + 1}, 2),
                ("no bottom layers", {"BOT_NUM_LAYERS": 0}, 3),
                ("bottom layers above BMAX_LAYERS", {"BOT_NUM_LAYERS": bot.MAX_LAYERS + 1}, 3),
                ("BOT_IN_DIM differs from DLRM_NUM_DENSE", {"DLRM_NUM_DENSE": self.cfg.dense + 1}, 3),
                ("dense above DENSE_MAX", {"DLRM_NUM_DENSE": self.build.dlrm.dense_max + 1,
                                           "BOT_IN_DIM": self.build.dlrm.dense_max + 1}, 3),
                ("bottom layer above BMAX_DIM", {"BOT_OUT_DIM0": bot.MAX_DIM + 1}, 3),
                ("last bottom layer differs from d", {f"BOT_OUT_DIM{nb - 1}": self.cfg.bottom_mlp[-1] + 1}, 3),
                ("MLP_IN_DIM differs from len(R)", {"MLP_IN_DIM": self.cfg.layer_shapes[0][0] + 1}, 4),
            ]
            assert dot, "TopDlrmIllegalTest runs the dot model"
            for what, regs, why in cases:
                await self.dlrm_round(what, regs, why, good)
        ConfigDB().set(None, "*", "num_queries", n)
        await self.traffic(UniformQuerySeq.create("seq_recovered"))
        await self.finish()
        self.drop_objection()


# ---- hot-row caches (contracts s.11.11) on CACHE builds ---------------------------------------
@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopCacheTest(TopRandomTest):
    """A CACHE build under Zipf traffic in phases: the knob's policy; after a
    CACHE_CTRL.flush; after a perf_clear (counters restart, lines kept); after a soft
    reset and reload; under the other policy; with the caches disabled (wires: the
    counters stop, STATUS.cache_on 0). Every logit exact, and after the run the seven
    PERF_CACHE_* counters exactly models/row_cache.py's for the engines' reads (with the
    flush, the policy switch and the disable in the model too)."""

    def build_phase(self):
        uvm_factory().set_type_override_by_type(UniformQuerySeq, ZipfQuerySeq)
        super().build_phase()

    async def phase(self, name: str, n: int) -> None:
        ConfigDB().set(None, "*", "num_queries", n)
        await self.traffic(UniformQuerySeq.create(name))
        self.logger.info(f"{name}: cache counters {self.cm.cache_pred()} (model)")

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        assert self.build.lookup.cache, "TopCacheTest runs on a CACHE build"
        host, k = self.host, self.knobs
        await host.load_model(self.cfg)
        n = max(4, k.queries // 6)
        await self.phase("warm", n)
        hits = self.cm.cache_pred()["hits"]
        assert hits > 0, "Zipf traffic on a cached build and no hit in the model: the test exercises nothing"
        await host.cache_flush()
        await self.phase("after_flush", n)
        await host.perf_clear()           # the counters restart, the lines stay
        await self.phase("after_perf_clear", n)
        await host.soft_reset()           # the datapath reset: lines, sketch and counters to reset
        await host.load_model(self.cfg)
        await self.phase("after_soft_reset", n)
        other = "freq" if k.cache_policy == "lru" else "lru"
        await host.program_cache(True, other)
        await self.phase(f"policy_{other}", n)
        await host.program_cache(False, other)
        await self.phase("disabled", n)
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopCacheReloadTest(TopRandomTest):
    """No stale row after a reload (contracts s.11.7): the same Zipf query stream twice,
    with the table contents changed in between (a new table seed: new procedural rows in
    memory and new on-chip bank images, reloaded by DMA under the descriptors already
    committed, no commit). The DMAs' CTRL.dma_start must flush the caches: a line kept
    from the first stream would answer the second with an old row (a logit MISMATCH,
    injected bug TOP_BUG_CACHE_DMA_NO_FLUSH), and the counters (fills again, exact
    against the model, which flushes at every DMA) show the flush."""

    def build_phase(self):
        uvm_factory().set_type_override_by_type(UniformQuerySeq, ZipfQuerySeq)
        super().build_phase()

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        assert self.build.lookup.cache, "TopCacheReloadTest runs on a CACHE build"
        host = self.host
        await host.load_model(self.cfg)
        ConfigDB().set(None, "*", "num_queries", self.knobs.queries)
        await self.traffic(UniformQuerySeq.create("before"))        # the same stream both times
        before = dict(self.cm.cache_pred())
        new = dataclasses.replace(self.cfg, seed=self.cfg.seed + 1000)
        ConfigDB().set(None, "*", "model_cfg", new)
        await host.load_model(new, commit=False)
        await self.traffic(UniformQuerySeq.create("after"))
        after = {n: v - before[n] for n, v in self.cm.cache_pred().items()}
        self.logger.info(f"cache counters: first stream {before}, second stream (after the reload) {after}")
        assert after["fills"] == before["fills"] and after["hits"] == before["hits"], \
            "the same stream after a flush must decide as it did from the first (model)"
        await self.finish()
        self.drop_objection()


@pyuvm.test(timeout_time=4 * TIMEOUT_MS, timeout_unit="ms")
class TopCacheMultihotTest(TopDlrmMultihotTest):
    """Multi-hot DLRM on an MH + DLRM + CACHE build: bags (Zipf indices, knob zipf or
    1.05) read sub-query by sub-query through the caches; logits and every counter,
    PERF_CACHE_* included, exact."""

    def build_phase(self):
        super().build_phase()
        ConfigDB().set(None, "*", "zipf_alpha", self.knobs.zipf or 1.05)


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopCacheIllegalTest(TopIllegalCsrTest):
    """CACHE_CTRL.enable on a CACHE = 0 build (contracts s.11.11): STATUS.cfg_bad, CFG_ERR
    code 15 (CFG_BAD_CACHE) with table_id 1, every query answered ERR_BAD_CONFIG, the
    PERF_CACHE_* counters 0; clearing enable restores exact answers without a commit."""

    CFG_BAD_CACHE = {v: k for k, v in cfg_err_names().items()}["bad_cache"]   # lookup_pkg, the one source

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        assert not self.build.lookup.cache, "TopCacheIllegalTest runs on a build without caches"
        host = self.host
        await host.load_model(self.cfg)
        for policy in ("lru", "freq"):
            await host.program_cache(True, policy)
            await ClockCycles(cocotb.top.clk, 4)
            got = await self.csr.read_fields("CFG_ERR")
            assert got["table_id"] == 1, f"cache enabled without caches: CFG_ERR.table_id {got['table_id']}"
            st = await host.status()
            assert not st["cache_on"], f"STATUS.cache_on on a build without caches: {st}"
            await self.illegal_round(f"CACHE_CTRL.enable ({policy}) on a CACHE = 0 build", "cfg_bad",
                                     code=self.CFG_BAD_CACHE)
            await host.program_cache(False, policy)
            await ClockCycles(cocotb.top.clk, 4)
            st = await host.status()
            assert not st["cfg_bad"], f"CACHE_CTRL.enable cleared, STATUS still {st}"
        ConfigDB().set(None, "*", "num_queries", self.knobs.queries)
        await self.traffic(UniformQuerySeq.create("seq_recovered"))
        await self.finish()
        self.drop_objection()


# ---- RecPipe on the top (contracts s.10.6) -----------------------------------------------------
class RecPipeMonitor(ResultMonitor):
    """ResultMonitor (same m_result_ready backpressure, knob out_stall_prob) whose beats go to
    a tb.top.recpipe_driver.BeatQueue instead of the per-query scoreboard: with the top-k on,
    the result stream carries answer beats, not one result per query."""

    def build_phase(self):
        super().build_phase()
        from tb.top.recpipe_driver import BeatQueue
        self.beats = BeatQueue(self.dut, own_sink=False)

    def take(self) -> None:
        self.count += 1
        self.cycles.append(int(self.dut.hbm_cycle.value))
        self.beats.take()


class RecPipeScoreboard(TopScoreboard):
    """No per-query traffic: TopRecPipeTest checks every answer itself (RecPipeMonitor)."""

    def expect_traffic(self) -> bool:
        return False


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopRecPipeTest(TopRandomTest):
    """Two-stage RecPipe requests on a TOPK = 1 build (contracts s.10.6): the ranker and its
    derived filter (models.recpipe) resident side by side; stage 1 the filter over N
    candidates and top k_keep, stage 2 the ranker over the survivors and top top_k; every
    answer (ids, order, scores) against models.recpipe.pipeline. Then illegal requests (one
    ERR_TOPK beat each, the unit's code), candidates with an out-of-range index (they drop
    out; ERR / ERR_QID capture them), weight and bias offsets past the memories (CFG_ERR 16,
    the queries bypass the top-k with ERR_BAD_CONFIG) and a heavily stalled output;
    PERF_QUERIES / RESULTS / LOOKUP_ERRORS / MLP_BUSY exact. Per stage the cycles are logged
    and written to perf.json."""

    out_stall_prob = 0.3
    K_KEEP, TOP_K = 12, 6
    SIZES = (40, 52, 64)
    FILTER_WIDTHS = (8,)

    def build_phase(self):
        uvm_factory().set_type_override_by_type(ResultMonitor, RecPipeMonitor)
        uvm_factory().set_type_override_by_type(TopScoreboard, RecPipeScoreboard)
        super().build_phase()

    def check(self, cond: bool, msg: str) -> None:
        if not cond:
            self.logger.error(f"MISMATCH {msg}")
            self.problems.append(msg)

    def compare_stage(self, req: str, stage: int, run, exp_ids, exp_scores) -> None:
        exp_ids, exp_scores = [int(v) for v in exp_ids], [int(v) for v in exp_scores]
        self.check(run.err == 0, f"{req} stage {stage}: ERR_TOPK code {run.err}, expected an answer")
        self.check(len(run.ids) == len(exp_ids), f"{req} stage {stage}: {len(run.ids)} answer beats, "
                                                 f"expected {len(exp_ids)}")
        for pos, (ei, es, gi, gs) in enumerate(zip(exp_ids, exp_scores, run.ids, run.scores)):
            self.check((ei, es) == (gi, gs), f"{req} stage {stage} position {pos}: expected (id, score) "
                                             f"({ei}, {es}), got ({gi}, {gs})")

    def stage_cost(self, run, entered: int) -> None:
        """MLP_BUSY of a stage: every query that entered the MLP costs the model's cycles (s.7.1)."""
        want = entered * self.drv.models[run.model].cycles(self.build.mlp.P, self.build.mlp.U)
        self.check(run.mlp_busy == want, f"counter mlp_busy over a {run.model} stage of {run.n} queries: "
                                         f"expected {want}, got {run.mlp_busy}")
        self.mlp_queries += entered

    def log_request(self, name: str, ans) -> None:
        for i, s in enumerate(ans.stages):
            self.logger.info(f"[recpipe] {name} stage {i + 1} ({s.model}, N {s.n}, K {s.k}): first query sent "
                             f"@{s.t_first_sent}, last answer beat @{s.t_last_answer}: {s.cycles} cycles; "
                             f"MLP busy {s.mlp_busy} idle {s.mlp_idle}")
        self.logger.info(f"[recpipe] {name}: model switch bubble {ans.bubble} cycles")
        self.stage_log.append({"request": name, "bubble": ans.bubble,
                               "stages": [{"model": s.model, "n": s.n, "k": s.k, "first_sent": s.t_first_sent,
                                           "last_answer": s.t_last_answer, "cycles": s.cycles,
                                           "mlp_busy": s.mlp_busy, "mlp_idle": s.mlp_idle}
                                          for s in ans.stages]})

    async def good_request(self, name: str, req) -> None:
        from models.recpipe import pipeline
        ans = self.drv_last = await self.drv.run_request(req.indices, self.K_KEEP, self.TOP_K)
        exp = pipeline(self.filt, self.rank, req.indices, self.K_KEEP, self.TOP_K, k_max=self.kmax,
                       n_max=self.nmax)
        self.compare_stage(name, 1, ans.stages[0], exp.kept, exp.filter_scores[exp.kept])
        if len(ans.stages) > 1:
            self.compare_stage(name, 2, ans.stages[1], exp.ids, exp.scores)
            self.stage_cost(ans.stages[1], self.K_KEEP)
        self.stage_cost(ans.stages[0], req.n)
        self.queries += req.n + (self.K_KEEP if len(ans.stages) > 1 else 0)
        self.log_request(name, ans)

    async def illegal_request(self, name: str, rows, k: int, nulls=()) -> None:
        from models.topk import request_error
        n = len(rows) - len(nulls)
        want = int(request_error(k, n, self.kmax, self.nmax))
        run = await self.drv.run_stage(rows, range(len(rows)), k, "filter", nulls=nulls)
        await ClockCycles(cocotb.top.clk, 32)
        extra = []
        while not self.drv.beats.empty():
            extra.append(await self.drv.beats.get())
        b = run.beats[-1]
        self.check(len(run.beats) == 1 and not extra, f"{name}: {len(run.beats) + len(extra)} beats, expected "
                                                      f"one ERR_TOPK beat ({run.beats + extra})")
        self.check((b["err"], b["err_table"], b["qid"], b["logit"]) == (8, want, 1 << 31, 0),
                   f"{name}: expected (err, err_table, id, logit) (8 ERR_TOPK, {want}, 0x80000000, 0), got "
                   f"({b['err']}, {b['err_table']}, {b['qid']:#x}, {b['logit']})")
        self.stage_cost(run, len(rows))
        self.queries += len(rows)
        self.logger.info(f"[recpipe] {name}: one ERR_TOPK beat, code {b['err_table']}")

    async def expect_err_record(self, what: str, code: int, qid: int) -> None:
        st = await self.host.status()
        err = await self.csr.read_fields("ERR")
        got = (st["err_sticky"], err["code"], await self.csr.read("ERR_QID"))
        self.check(got == (1, code, qid), f"ERR/ERR_QID after {what}: expected (err_sticky, code, qid) "
                                          f"(1, {code}, {qid:#x}), got ({got[0]}, {got[1]}, {got[2]:#x})")
        await self.host.err_clear()

    async def run_phase(self):
        from models.recpipe import calib_settings, load_filter, load_ranker, make_requests
        from models.topk import topk
        from tb.top.recpipe_driver import LAST, RecPipeDriver
        self.raise_objection()
        self.problems, self.stage_log = [], []
        self.queries = self.mlp_queries = 0
        b = self.build
        assert b.topk, "TopRecPipeTest runs on a TOPK = 1 build"
        self.kmax, self.nmax = b.topk_k_max, b.topk_n_max
        await self.bring_up()
        cfg = self.cfg
        self.rank = load_ranker(cfg.name)
        self.filt = load_filter(cfg.name, self.FILTER_WIDTHS, **calib_settings(cfg.name))
        # queries offered with idle cycles between them (knob in_idle, else 10%)
        in_idle = self.knobs.in_idle if self.knobs.in_idle is not None else 0.1
        self.drv = RecPipeDriver(self.host, self.env.monitor.beats, in_idle=in_idle, rnd=random.Random(test_seed()))
        images = await self.drv.load_models(self.rank, self.filt)
        self.logger.info(f"[recpipe] ranker {self.rank.cfg.mlp} at {images.offsets[0]}, filter {self.filt.cfg.mlp} "
                         f"at {images.offsets[1]} (weight, bias words); image {images.n_w} x {images.n_b} words/bank")
        await self.host.perf_clear()
        self.results_before_clear, self.bad_queries = self.env.monitor.count, 0
        seed = test_seed()
        reqs = [make_requests(cfg, 1, n, seed=seed * 16 + i)[0] for i, n in enumerate(self.SIZES)]
        # 1. good requests, stage by stage
        for i, req in enumerate(reqs):
            await self.good_request(f"request {i} (N {req.n})", req)
        # 2. illegal requests: exactly one ERR_TOPK beat each; the next request exact
        row0 = [list(r) for r in reqs[0].indices]
        big = [list(r) for r in make_requests(cfg, 1, self.nmax + 1, seed=seed * 16 + 9)[0].indices]
        await self.illegal_request("N = 0 (one null query)", row0[:1], 4, nulls=(0,))
        await self.illegal_request("K > N", row0[:5], 8)
        await self.illegal_request("K = 0", row0[:5], 0)
        await self.illegal_request(f"K > K_MAX = {self.kmax}", row0[:20], self.kmax + 1)
        await self.illegal_request(f"N > N_MAX = {self.nmax}", big, 4)
        # an ERR_TOPK beat is an error record leaving: the first one (N = 0) is captured
        await self.expect_err_record("the illegal requests", 8, 1 << 31)
        await self.good_request("request after the illegal ones", reqs[1])
        # 3. candidates with an out-of-range index drop out (the middle one and the last one)
        from models.recpipe import table_split
        key = table_split(cfg).key
        for bad in (7, reqs[2].n - 1):
            idx = reqs[2].indices.copy()
            idx[bad, key] = cfg.tables[key].rows            # one past the table
            ok = [j for j in range(len(idx)) if j != bad]
            s1 = await self.drv.run_stage([list(r) for r in idx], range(len(idx)), self.K_KEEP, "filter")
            ids, scores = topk(self.filt.logits(idx[ok]), self.K_KEEP, ids=ok)
            self.compare_stage(f"bad index at candidate {bad}", 1, s1, ids, scores)
            if bad in s1.ids:       # the failed candidate was kept: stage 2 would score a row past its table
                first = self.problems[0] if self.problems else f"failed candidate {bad} kept by stage 1"
                raise AssertionError(f"MISMATCH {max(1, len(self.problems))} mismatches; first: {first}")
            self.stage_cost(s1, len(idx))
            self.bad_queries += 1
            await self.expect_err_record(f"a bad index at candidate {bad}", 1, bad | (LAST if bad == len(idx) - 1 else 0))
            surv = list(s1.ids)
            s2 = await self.drv.run_stage([list(idx[j]) for j in surv], surv, self.TOP_K, "ranker")
            ids2, scores2 = topk(self.rank.logits(idx[surv]), self.TOP_K, ids=surv)
            self.compare_stage(f"bad index at candidate {bad}", 2, s2, ids2, scores2)
            self.stage_cost(s2, len(surv))
            self.queries += len(idx) + len(surv)
        # 4. the filter's offsets past the weight / bias memories: CFG_ERR 16, queries bypass the top-k
        await self.drv.select("filter")
        n_w, n_b = self.drv.images.n_w - self.drv.offsets["filter"][0], self.drv.images.n_b - self.drv.offsets["filter"][1]
        for what, reg, value, why in (("weights", "MLP_WBASE", b.mlp.WDEPTH - n_w + 1, 1),
                                      ("biases", "MLP_BBASE", b.mlp.BDEPTH - n_b + 1, 2)):
            await self.csr.write(reg, value - 1)            # the last legal offset
            await ClockCycles(cocotb.top.clk, 4)
            st = await self.host.status()
            self.check(not st["mlp_cfg_err"] and not st["cfg_bad"], f"{what} ending exactly at the memory's end "
                                                                    f"({reg} = {value - 1}) refused: {st}")
            await self.csr.write(reg, value)
            await ClockCycles(cocotb.top.clk, 4)
            st = await self.host.status()
            e = await self.csr.read_fields("CFG_ERR")
            self.check((st["mlp_cfg_err"], st["cfg_bad"], e["code"], e["table_id"]) == (1, 1, 16, why),
                       f"{what} past the memory ({reg} = {value}): expected (mlp_cfg_err, cfg_bad, CFG_ERR code, "
                       f"table) (1, 1, 16, {why}), got ({st['mlp_cfg_err']}, {st['cfg_bad']}, {e['code']}, "
                       f"{e['table_id']})")
            run = await self.drv.run_stage(row0[:3], range(3), self.K_KEEP)
            got = [(x["qid"], x["err"]) for x in run.passed]
            self.check(got == [(0, 5), (1, 5), (2 | LAST, 5)],
                       f"{what} past the memory: expected three ERR_BAD_CONFIG records bypassing the top-k "
                       f"(qid, err) [(0, 5), (1, 5), (0x80000002, 5)], got {got}")
            self.queries += 3
            await self.expect_err_record(f"{what} past the memory", 5, 0)
            await self.drv.write_bases(*self.drv.offsets["filter"])
            await ClockCycles(cocotb.top.clk, 4)
            await self.host.check_config()
        # 5. a heavily stalled output during the answers
        self.env.monitor.stall_prob = 0.8
        await self.good_request("request under output stall 0.8", reqs[0])
        self.env.monitor.stall_prob = self.out_stall_prob
        # counters and STATUS over everything since the perf_clear
        await ClockCycles(cocotb.top.clk, 8)
        got = {n: await self.csr.read_perf(n) for n in ("queries", "results", "lookup_errors", "mlp_busy")}
        want = {"queries": self.queries, "results": self.env.monitor.count - self.results_before_clear,
                "lookup_errors": self.bad_queries}
        for n in ("queries", "results", "lookup_errors"):
            self.check(got[n] == want[n], f"counter {n}: expected {want[n]}, got {got[n]}")
        st = await self.host.status()
        self.check((st["busy"], st["cfg_bad"], st["mlp_cfg_err"]) == (0, 0, 0), f"STATUS at the end: {st}")
        self.mem.stop()
        for msg in self.problems[:1]:
            raise AssertionError(f"{len(self.problems)} mismatches; first: {msg}")
        self.logger.info(f"[recpipe] {len(self.stage_log)} requests exact; counters {got}")
        self.drop_objection()

    def report_phase(self):
        with open(run_dir() / "perf.json", "w") as fh:
            json.dump({"recpipe": getattr(self, "stage_log", [])}, fh, indent=1)


@pyuvm.test(timeout_time=100_000, timeout_unit="ms")
class TopRecPipeSimTest(TopRecPipeTest):
    """`make sim PIPELINE=recpipe` (apps/recpipe_sim.py): the knob ``recpipe`` (JSON: decay,
    widths, n, k_keep, top_k, requests, calib) picks the ranker and filter; ``requests``
    two-stage requests of N candidates, no input idle and no output stall, each stage
    against models.recpipe.pipeline; then the ranker alone over all N of the first request
    (the single-stage baseline, against models.recpipe.reference). Writes
    recpipe_result.json (cycles per stage and request, MLP busy/idle, the model-switch
    bubble, recall and NDCG of the RTL's answers) even when something mismatched, then
    fails on any mismatch."""

    in_idle_prob = 0.0
    out_stall_prob = 0.0

    async def run_phase(self):
        from models.recpipe import load_filter, load_ranker, make_requests, ndcg_at, recall_at, reference
        from tb.top.recpipe_driver import RecPipeDriver
        self.raise_objection()
        self.problems, self.stage_log = [], []
        self.queries = self.mlp_queries = 0
        rp = json.loads(self.knobs.recpipe)
        b = self.build
        assert b.topk, "TopRecPipeSimTest runs on a TOPK = 1 build"
        self.kmax, self.nmax = b.topk_k_max, b.topk_n_max
        self.K_KEEP, self.TOP_K = int(rp["k_keep"]), int(rp["top_k"])
        await self.bring_up()
        cfg = self.cfg
        self.rank = load_ranker(cfg.name, float(rp["decay"]))
        self.filt = load_filter(cfg.name, tuple(rp["widths"]), float(rp["decay"]), **rp.get("calib", {}))
        self.drv = RecPipeDriver(self.host, self.env.monitor.beats)
        self.logger.info("[progress] loading the ranker and the filter side by side: tables, DMA ...")
        images = await self.drv.load_models(self.rank, self.filt)
        self.logger.info(f"[progress] loaded: ranker {self.rank.cfg.mlp} at {images.offsets[0]}, filter "
                         f"{self.filt.cfg.mlp} at {images.offsets[1]} (weight, bias words per bank)")
        reqs = make_requests(cfg, int(rp["requests"]), int(rp["n"]), seed=test_seed())
        out = []
        for i, req in enumerate(reqs):
            name = f"request {i} (N {req.n})"
            before = len(self.problems)
            await self.good_request(name, req)
            s1, s2 = self.drv_last.stages
            ref = reference(self.rank, req.indices, self.TOP_K, self.kmax, self.nmax)[0]
            out.append({"two_stage_cycles": s2.t_last_answer - s1.t_first_sent + 1, "stage1_cycles": s1.cycles,
                        "stage2_cycles": s2.cycles, "bubble": self.drv_last.bubble,
                        "mlp_busy": s1.mlp_busy + s2.mlp_busy, "mlp_idle": s1.mlp_idle + s2.mlp_idle,
                        "recall": recall_at(self.drv_last.ids, ref), "ndcg": ndcg_at(self.drv_last.ids, ref),
                        "mismatches": len(self.problems) - before})
            self.logger.info(f"[progress] {name}: two-stage {out[-1]['two_stage_cycles']} cycles, "
                             f"recall@{self.TOP_K} {out[-1]['recall']:.2f}, {out[-1]['mismatches']} mismatches")
        # the single-stage baseline: the ranker alone over all N of the first request
        req = reqs[0]
        single = await self.drv.run_stage([list(r) for r in req.indices], range(req.n), self.TOP_K, "ranker")
        ids, scores = reference(self.rank, req.indices, self.TOP_K, self.kmax, self.nmax)
        self.compare_stage("ranker alone", 1, single, ids, scores)
        self.stage_cost(single, req.n)
        self.logger.info(f"[progress] ranker alone over N {req.n}: {single.cycles} cycles")
        result = {"config": cfg.name, "requests": out, "single_cycles": single.cycles,
                  "single_mlp_busy": single.mlp_busy, "mismatches": len(self.problems),
                  "problems": self.problems[:20],
                  "ranker_shape": "-".join(map(str, [cfg.feature_len, *self.rank.cfg.mlp])),
                  "filter_shape": "-".join(map(str, [cfg.feature_len, *self.filt.cfg.mlp])),
                  "offsets": [list(o) for o in images.offsets],
                  "bubble": {"mlp_idle": int(np.median([r["mlp_idle"] for r in out])),
                             "between_stages": int(np.median([r["bubble"] for r in out]))},
                  "mlp_lanes": b.mlp.P * b.mlp.U, "k_max": self.kmax, "n_max": self.nmax}
        with open(run_dir() / "recpipe_result.json", "w") as fh:
            json.dump(result, fh, indent=1)
        self.mem.stop()
        for msg in self.problems[:1]:
            raise AssertionError(f"{len(self.problems)} mismatches; first: {msg}")
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopRecPipeIllegalTest(TopIllegalCsrTest):
    """On any build: MLP_WBASE / MLP_BBASE putting the model past the weight / bias memory
    (CFG_ERR 16, table_id 1 / 2, STATUS.mlp_cfg_err; the last legal offset accepted); on a
    TOPK = 0 build TOPK_CTRL.enable (CFG_ERR 17, table_id 1). Every query meanwhile answered
    ERR_BAD_CONFIG; restoring the register restores exact answers without a commit."""

    async def run_phase(self):
        self.raise_objection()
        await self.bring_up()
        host, csr, b = self.host, self.csr, self.build
        await host.load_model(self.cfg)
        plan = bank_plan(b.mlp, list(self.cfg.layer_shapes))
        n_w, n_b = plan[-1]["wbase"] + plan[-1]["cycles"], plan[-1]["bbase"] + plan[-1]["rounds"]
        cases = [("MLP_WBASE", b.mlp.WDEPTH - n_w + 1, 1), ("MLP_BBASE", b.mlp.BDEPTH - n_b + 1, 2)]
        for reg, value, why in cases:
            await csr.write(reg, value - 1)
            await ClockCycles(cocotb.top.clk, 4)
            st = await host.status()
            assert not st["mlp_cfg_err"] and not st["cfg_bad"], \
                f"MISMATCH {reg} = {value - 1}: the model ends exactly at the memory's end, refused: {st}"
            await csr.write(reg, value)
            await ClockCycles(cocotb.top.clk, 4)
            got = await csr.read_fields("CFG_ERR")
            assert got["table_id"] == why, f"MISMATCH {reg} past the memory: CFG_ERR.table_id {got['table_id']}"
            await self.illegal_round(f"{reg} = {value}: the model past the memory", "mlp_cfg_err", code=16)
            await csr.write(reg, 0)
            await ClockCycles(cocotb.top.clk, 4)
            await host.check_config()
        if not b.topk:
            await csr.write_fields("TOPK_CTRL", enable=1, k=4)
            await ClockCycles(cocotb.top.clk, 4)
            got = await csr.read_fields("CFG_ERR")
            assert got["table_id"] == 1, f"MISMATCH top-k enabled without the unit: CFG_ERR.table_id {got['table_id']}"
            await self.illegal_round("TOPK_CTRL.enable on a TOPK = 0 build", "cfg_bad", code=17)
            await csr.write_fields("TOPK_CTRL", enable=0, k=4)
            await ClockCycles(cocotb.top.clk, 4)
            await host.check_config()
        ConfigDB().set(None, "*", "num_queries", self.knobs.queries)
        await self.traffic(UniformQuerySeq.create("seq_recovered"))
        await self.finish()
        self.drop_objection()
