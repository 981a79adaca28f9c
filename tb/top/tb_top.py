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

from models.config import load_config
from tb.agents.query_seqs import BadIndexSeq, UniformQuerySeq, ZipfQuerySeq
from tb.common.bench_test import BenchTest
from tb.common.clock_reset import pass_cycles, start_clock_and_reset
from tb.common.seeding import soak_stimulus, test_seed
from tb.common.spec import run_dir
from tb.common.watchdog import Watchdog
from tb.csr.csr_agent import CsrBus, CsrRegs
from tb.hbm.memory import HbmMemory
from tb.host.microrec_host import DMA_BANK, HostError, MicrorecHost, TopBuild
from tb.lookup.layout import LookupLayout, memory_config
from tb.top.dut import TopKnobs
from tb.top.top_env import TopEnv

TIMEOUT_MS = 200


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopRandomTest(BenchTest):
    """Base test: load the model through the host driver, run random queries."""

    Build, Knobs = TopBuild, TopKnobs
    in_idle_prob = 0.1
    out_stall_prob = 0.2
    expected_errors: list = []
    mem_ch_bytes = 0          # memory capacity per channel (0: the placement's platform)

    def build_phase(self):
        super().build_phase()
        k = self.knobs
        self.configs = list(k.configs)
        self.cfg = load_config(self.configs[0])
        cdb = ConfigDB()
        cdb.set(None, "*", "model_cfg", self.cfg)
        cdb.set(None, "*", "num_queries", k.queries)
        self.soak = soak_stimulus()
        in_idle = self.in_idle_prob if k.in_idle is None else k.in_idle
        out_stall = self.out_stall_prob if k.out_stall is None else k.out_stall
        if self.soak:
            in_idle, out_stall = max(in_idle, self.soak["in_idle"]), max(out_stall, self.soak["out_stall"])
            self.logger.info(f"soak stimulus from the seed: {self.soak}")
        cdb.set(None, "*", "in_idle_prob", in_idle)
        cdb.set(None, "*", "out_stall_prob", out_stall)
        cdb.set(None, "*", "expected_errors", self.expected_errors)
        cdb.set(None, "*", "configs", [os.path.basename(c).removesuffix(".json") for c in self.configs])
        cdb.set(None, "*", "first_qid", 0)
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
        mem_cfg = memory_config(layout, soak.get("preset", k.preset), latency=soak.get("latency", k.latency),
                                mhz=k.mhz, rng_seed=test_seed())
        if self.mem_ch_bytes:
            mem_cfg = dataclasses.replace(mem_cfg, ch_bytes=self.mem_ch_bytes)
        self.mem = HbmMemory(mem_cfg, dut)
        await self.mem.start()
        # named registers of the generated pyuvm model, accessed through its frontdoor
        self.csr = CsrRegs(agent=self.env.csr_agent)
        self.host = MicrorecHost(dut, self.csr, self.mem, self.build)
        ConfigDB().set(None, "*", "host", self.host)

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

    async def finish(self):
        await ClockCycles(cocotb.top.clk, 8)
        self.counters = await self.host.counters()
        self.mem.check()
        st = await self.host.status()
        assert not (await self.csr.read_perf("unexpected_r")), "an R beat arrived for an ID not in flight"
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
    """Out-of-range indices end to end: an error record, the other queries exact."""

    expected_errors = ["idx_range"]

    def build_phase(self):
        uvm_factory().set_type_override_by_type(UniformQuerySeq, BadIndexSeq)
        super().build_phase()


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
    answer (ERR_BAD_CONFIG), and a good configuration afterwards works again."""

    expected_errors = ["bad_config"]

    async def illegal_round(self, what: str, expect_status: str, code: int | None = None):
        st = await self.host.status()
        assert st[expect_status], f"{what}: STATUS.{expect_status} not set ({st})"
        if code is not None:
            got = (await self.csr.read_fields("CFG_ERR"))["code"]
            assert got == code, f"{what}: CFG_ERR.code {got}, expected {code}"
        ConfigDB().set(None, "*", "forced_error", "bad_config")
        ConfigDB().set(None, "*", "num_queries", 20)
        await self.traffic(UniformQuerySeq.create(f"seq_{expect_status}"))
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
        await self.illegal_round("product of a missing table", "cfg_bad", code=4)
        # 2b. a descriptor outside memory: the table runs past the end of the address space
        p = next(i for i, d in enumerate(host.layout.descs) if not d.onchip)
        good = host.layout.descs[p].to_dict()
        bad = dict(good, base=(1 << self.build.lookup.addr_w) - 4096, rows=4096 // (1 << good["stride_log2"]) + 1)
        await host.load_model(self.cfg, check=False)
        await csr.write_descriptor(p, pack_desc(bad))
        await csr.write_fields("CTRL", commit=1)
        await host.wait_status("cfg_ready", 1)
        await self.illegal_round("descriptor outside memory", "cfg_bad", code=10)
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
            code = (await csr.read_fields("CFG_ERR"))["code"]
            assert code == 11, f"{resp} DMA: CFG_ERR.code {code}, expected 11 (DMA lost words)"
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
    after a reload every later query is answered exactly once and correctly."""

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
            while sb.checked + sb.dropped < target or self.sent() - sb.checked - sb.dropped < 4:
                assert not task.done(), f"round {r}: the traffic ended before the reset point"
                await ClockCycles(dut.clk, 1)
            await host.soft_reset()
            dropped = sb.flush_in_flight()
            self.logger.info(f"soft reset {r} at result {sb.checked}: {dropped} queries in flight dropped")
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
        ConfigDB().set(None, "*", "num_queries", 1)
        lat = []
        for i in range(n_lat):
            await self.traffic(UniformQuerySeq.create(f"lat{i}"))
            lat.append(sb.latencies[-1])
        self.logger.info(f"[progress] latency phase: {n_lat} queries one at a time, median "
                         f"{sorted(lat)[len(lat) // 2]} cycles")
        n = self.knobs.queries
        ConfigDB().set(None, "*", "num_queries", n)
        await self.mem.clear_stats()
        c0 = await self.host.counters()
        sb.first_sent, sb.last_out = 1 << 64, 0
        ConfigDB().set(None, "*", "zipf_alpha", self.knobs.zipf)
        await self.traffic(ZipfQuerySeq.create("throughput") if self.knobs.zipf else
                           UniformQuerySeq.create("throughput"), progress_every=max(1, n // 10))
        span = sb.last_out - sb.first_sent
        c1 = await self.host.counters()
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
            "physical_tables": len(layout.descs), "lookups_per_query": len(layout.descs),
            "dram_rounds": layout.placement.dram_rounds,
            "dram_lookups_per_query": sum(1 for d in layout.descs if not d.onchip),
            "channel_utilization": util, "counters": delta,
            "mlp_lanes": self.build.mlp.P * self.build.mlp.U,
            "mlp_utilization": delta["mlp_macs"] / max(1, delta["mlp_busy"] * self.build.mlp.P * self.build.mlp.U),
        }
        with open(run_dir() / "sim_result.json", "w") as fh:
            json.dump(result, fh, indent=1)
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
