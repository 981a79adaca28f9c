"""Simulation-speed baseline for `make bench-lookup`: the lookup bench's build and env,
configured as for traffic, then the same number of cycles with the Python side asleep
(no queries: the env's driver and monitors wait on events). The traffic run's speed
(LookupUniformTest, perf.json "speed") divided by this is the bench's Python overhead."""
from __future__ import annotations

import json
import time

import cocotb
import pyuvm
from cocotb.triggers import Timer
from pyuvm import ConfigDB

from tb.common.clock_reset import CLK_PERIOD_NS
from tb.common.spec import run_dir
from tb.lookup import tb_lookup
from tb.lookup.tb_lookup import program_lookup


@pyuvm.test(timeout_time=400, timeout_unit="ms")
class LookupIdleSpeedTest(tb_lookup.LookupUniformTest):
    """Knob `queries` is read as the number of cycles x 100 to idle for."""

    def build_phase(self):
        super().build_phase()
        ConfigDB().set(None, "*", "expect_traffic", False)

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await self.bring_up()
        await self.mem.set_regions(self.layout.hbm_regions())
        await program_lookup(dut, self.layout, self.knobs.timeout)
        cycles = 100 * self.knobs.queries
        c0, w0, p0 = int(dut.hbm_cycle.value), time.perf_counter(), time.process_time()
        await Timer(cycles * CLK_PERIOD_NS, unit="ns")
        speed = {"cycles": int(dut.hbm_cycle.value) - c0, "wall_s": time.perf_counter() - w0,
                 "cpu_s": time.process_time() - p0}
        (run_dir() / "idle_speed.json").write_text(json.dumps(speed))
        self.mem.stop()
        self.drop_objection()

    def report_phase(self):
        pass
