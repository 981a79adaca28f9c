"""cocotb/pyuvm tests for rtl/topk/topk_unit.sv (run through tests/test_topk.py).

Each variant is a test class: class attributes set its settings (requests,
idle and stall probabilities, the K corner) and a factory override picks the
main sequence. The build (K_MAX, N_MAX) is read from the DUT's ports, so
one class serves every build.
"""
from __future__ import annotations

import json

import cocotb
import pyuvm
from cocotb.triggers import ClockCycles, Event
from pyuvm import ConfigDB, uvm_factory

from tb.common.bench_test import BenchTest
from tb.common.clock_reset import pass_cycles, start_clock_and_reset
from tb.common.spec import run_dir
from tb.topk.dut import TopkUnitBuild, TopkUnitKnobs
from tb.topk.topk_env import TopkEnv
from tb.topk.seq_lib import (
    TopkAllEqualSeq,
    TopkAllSeq,
    TopkErrorSeq,
    TopkFixedKSeq,
    TopkKChangesSeq,
    TopkLatencySeq,
    TopkRandomSeq,
    TopkReverseSortedSeq,
    TopkSortedSeq,
    read_build,
)

TIMEOUT_MS = 20   # simulated; the watchdog reports a hang long before


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkRandomTest(BenchTest):
    """Base test: random requests, random idle cycles in, random stalls out."""

    Build, Knobs = TopkUnitBuild, TopkUnitKnobs
    sequence = TopkRandomSeq
    settings = {"num_requests": 30, "in_idle_prob": 0.2, "out_stall_prob": 0.3}

    def build_phase(self):
        super().build_phase()
        if self.sequence is not TopkRandomSeq:
            uvm_factory().set_type_override_by_type(TopkRandomSeq, self.sequence)
        cdb = ConfigDB()
        for name, value in {**TopkRandomTest.settings, **self.settings}.items():
            cdb.set(None, "*", name, value)
        self.reset_done = Event()
        cdb.set(None, "*", "reset_done", self.reset_done)
        cdb.set(None, "*", "topk_build", read_build(cocotb.top))
        self.env = TopkEnv("env", self)

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await start_clock_and_reset(dut.clk, dut.rst_n)
        self.reset_done.set()
        build = ConfigDB().get(None, "", "topk_build")
        wd = self.env.watchdog(dut.clk, 4 * (build.n_max + build.k_max) + 2000)
        seq = TopkRandomSeq.create("main_seq")
        await seq.start(self.env.seqr)
        while self.env.scoreboard.checked < self.env.driver.sent:   # the last answers
            await pass_cycles(16)
        await ClockCycles(dut.clk, 4)
        wd.stop()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkBackToBackTest(TopkRandomTest):
    """No idle cycle in and no stall out: each request starts right after the last answer."""

    settings = {"num_requests": 40, "in_idle_prob": 0.0, "out_stall_prob": 0.0}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkBackpressureTest(TopkRandomTest):
    """The answer side mostly stalled (m_ready low 80% of cycles)."""

    settings = {"num_requests": 30, "in_idle_prob": 0.0, "out_stall_prob": 0.8}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkAllEqualTest(TopkRandomTest):
    sequence = TopkAllEqualSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkSortedTest(TopkRandomTest):
    sequence = TopkSortedSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkReverseSortedTest(TopkRandomTest):
    sequence = TopkReverseSortedSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkK1Test(TopkRandomTest):
    sequence = TopkFixedKSeq
    settings = {"k_mode": "k1"}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkKEqualsNTest(TopkRandomTest):
    sequence = TopkFixedKSeq
    settings = {"k_mode": "k_eq_n"}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkKMaxTest(TopkRandomTest):
    sequence = TopkFixedKSeq
    settings = {"k_mode": "k_max", "num_requests": 6}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkNMaxTest(TopkRandomTest):
    sequence = TopkFixedKSeq
    settings = {"k_mode": "n_max", "num_requests": 3}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkErrorTest(TopkRandomTest):
    """Every illegal request gets its error code, and the next legal one its answer."""

    sequence = TopkErrorSeq
    settings = {"num_requests": 24}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkKChangesTest(TopkRandomTest):
    """s_k changing inside a request is ignored until the next request (contracts s.10.2)."""

    sequence = TopkKChangesSeq
    settings = {"num_requests": 30, "n_cap": 40}


@pyuvm.test(timeout_time=4 * TIMEOUT_MS, timeout_unit="ms")
class TopkAllTest(TopkRandomTest):
    """Every stimulus class in one run: what the injected-bug checks use."""

    sequence = TopkAllSeq
    settings = {"num_requests": 12, "n_cap": 64}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class TopkLatencyTest(TopkRandomTest):
    """N = 1024 with K = 64 and K = 256, no gaps, no stalls: B + K cycles each (10.2)."""

    sequence = TopkLatencySeq
    settings = {"in_idle_prob": 0.0, "out_stall_prob": 0.0}

    def check_phase(self):
        rows = self.env.scoreboard.latencies
        with open(run_dir() / "topk_latency.json", "w") as fh:
            json.dump(rows, fh, indent=1)
        for r in rows:
            self.logger.info(f"top-k latency N={r['n']} K={r['k']}: {r['cycles']} cycles from first "
                             f"score in to last result out (first result {r['in_to_out']} cycle "
                             f"after the last score)")
            assert r["cycles"] == r["beats_in"] + r["k"], f"latency {r} differs from B + K"
            assert r["in_to_out"] == 1, f"first result not in the cycle after the last score: {r}"
