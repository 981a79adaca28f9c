"""Signal layer of the MAC PE bench: the beat driver and the result monitor."""
from __future__ import annotations

import cocotb
from cocotb.triggers import ClockCycles, RisingEdge
from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
)

from tb.common.seeding import py_random
from tb.mac_pe.seq_lib import PE_LATENCY


# --------------------------------------------------------------------------
# driver and monitor (the signal layer)
# --------------------------------------------------------------------------
def pack16(values, lanes: int) -> int:
    word = 0
    for i, v in enumerate(values):
        word |= (int(v) & 0xFFFF) << (16 * i)
    return word


def pack8(values) -> int:
    """int8 operands: element j in byte j (lane j // 2, low byte for even j; contracts s.6)."""
    word = 0
    for j, v in enumerate(values):
        word |= (int(v) & 0xFF) << (8 * j)
    return word


class MacDriver(uvm_driver):
    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.lanes = int(ConfigDB().get(self, "", "lanes"))
        self.idle_prob = ConfigDB().get(self, "", "idle_prob")
        self.rnd = py_random(100)
        self.last_cfg = None
        self.in_flight_until = 0

    async def drive_idle(self):
        self.dut.in_valid.value = 0
        await RisingEdge(self.dut.clk)

    async def run_phase(self):
        dut = self.dut
        dut.in_valid.value = 0
        dut.in_first.value = 0
        dut.in_last.value = 0
        while True:
            item = await self.seq_item_port.get_next_item()
            cfg = (item.frac_bits, item.relu, item.out32, item.out8)
            if cfg != self.last_cfg and self.last_cfg is not None:
                # the PE's settings are static per dot product: drain first
                dut.in_valid.value = 0
                await ClockCycles(dut.clk, PE_LATENCY + 1)
            dut.cfg_frac_bits.value = item.frac_bits
            dut.cfg_relu.value = int(item.relu)
            dut.cfg_out32.value = int(item.out32)
            dut.cfg_out8.value = int(item.out8)
            self.last_cfg = cfg
            n = item.fanin
            per = 2 * self.lanes if item.int8 else self.lanes
            beats = (n + per - 1) // per
            for k in range(beats):
                while self.rnd.random() < self.idle_prob:
                    item.idles += 1
                    await self.drive_idle()
                a = item.a[k * per:(k + 1) * per]
                b = item.b[k * per:(k + 1) * per]
                dut.in_int8.value = int(item.int8)
                dut.in_a.value = pack8(a) if item.int8 else pack16(a, self.lanes)
                dut.in_b.value = pack8(b) if item.int8 else pack16(b, self.lanes)
                dut.in_bias.value = int(item.bias) & 0xFFFFFFFF
                dut.in_first.value = int(k == 0)
                dut.in_last.value = int(k == beats - 1)
                dut.in_valid.value = 1
                await RisingEdge(dut.clk)
            dut.in_valid.value = 0
            self.ap.write(item)
            self.seq_item_port.item_done()


class MacResultMonitor(uvm_component):
    """Samples the result pulse; publishes raw result dicts in output order."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.count = 0

    async def run_phase(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            # registers power up random (Verilator x-initial follows the seed):
            # nothing on the outputs means anything until reset is released
            if int(dut.rst_n.value) and int(dut.out_valid.value):
                self.count += 1
                self.ap.write({
                    "y": dut.out_y.value.to_signed(),
                    "acc": dut.out_acc.value.to_signed(),
                    "sat": bool(int(dut.out_sat.value)),
                    "relu_zero": bool(int(dut.out_relu_zero.value)),
                })
