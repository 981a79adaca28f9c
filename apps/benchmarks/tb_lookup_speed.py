"""Simulation-speed baselines for `make bench-lookup`: the lookup bench's build and env,
configured as for traffic, then the traffic run's number of cycles (knob ``idle_cycles``)
with the Python side asleep (one Timer for the whole window: no driver, monitor or
scoreboard work). With knob ``batch`` the harness's SV query source is loaded with the
same queries as the traffic run (same seed, same sequence) and the SV sink takes every
vector, so the simulator does the same work as in the traffic run and the ratio of the
two speeds is the Python env's overhead alone; without it no query is sent (the DUT
idles: the ratio then also counts what the traffic costs the simulator itself). The
traffic run's speed is LookupUniformTest's perf.json "speed"."""
from __future__ import annotations

import json
import time

import cocotb
import pyuvm
from cocotb.triggers import FallingEdge, First, Timer
from pyuvm import ConfigDB

from tb.agents.query_seqs import UniformQuerySeq
from tb.common.clock_reset import CLK_PERIOD_NS
from tb.common.spec import run_dir
from tb.lookup import tb_lookup
from tb.lookup.batch import BQ_DEPTH, QueryBatch
from tb.lookup.tb_lookup import program_lookup


@pyuvm.test(timeout_time=400, timeout_unit="ms")
class LookupIdleSpeedTest(tb_lookup.LookupUniformTest):
    """Knob ``idle_cycles``: the window (0: 100 x ``queries``); with ``batch`` the traffic
    run's ``queries`` are loaded into the SV source (one Python wake-up per BQ_DEPTH)."""

    def build_phase(self):
        super().build_phase()
        ConfigDB().set(None, "*", "expect_traffic", False)

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await self.bring_up()
        await self.mem.set_regions(self.layout.hbm_regions())
        await program_lookup(dut, self.layout, self.knobs.timeout)
        cycles = self.knobs.idle_cycles or 100 * self.knobs.queries
        parts = []
        if self.streams is not None:
            b = UniformQuerySeq.create("main_seq").make_batch()
            parts = [QueryBatch(b.qids[lo:lo + BQ_DEPTH], b.idx[lo:lo + BQ_DEPTH], b.bad[lo:lo + BQ_DEPTH])
                     for lo in range(0, len(b), BQ_DEPTH)]
            await self.streams.load(parts.pop(0))
        c0, w0, p0 = int(dut.hbm_cycle.value), time.perf_counter(), time.process_time()
        end = c0 + cycles
        for part in parts:     # batches above BQ_DEPTH: one wake-up per further load
            await First(FallingEdge(dut.bq_busy), Timer((end - int(dut.hbm_cycle.value)) * CLK_PERIOD_NS, unit="ns"))
            if int(dut.hbm_cycle.value) >= end:
                break
            await self.streams.load(part)
        left = end - int(dut.hbm_cycle.value)
        if left > 0:
            await Timer(left * CLK_PERIOD_NS, unit="ns")
        speed = {"cycles": int(dut.hbm_cycle.value) - c0, "wall_s": time.perf_counter() - w0,
                 "cpu_s": time.process_time() - p0, "traffic": self.streams is not None,
                 "answered": int(dut.bq_got.value)}
        (run_dir() / "idle_speed.json").write_text(json.dumps(speed))
        self.mem.stop()
        self.drop_objection()

    def report_phase(self):
        pass
