"""Signal layer of the top-k bench: the request driver and the answer monitor."""
from __future__ import annotations


import cocotb
from cocotb.triggers import FallingEdge, ReadOnly
from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
)

from tb.common.config_db import knob
from tb.common.seeding import py_random
from tb.common.stream_sink import StreamSink

from tb.topk.seq_lib import cycle_now


# --------------------------------------------------------------------------
# driver and monitor
# --------------------------------------------------------------------------
class TopkDriver(uvm_driver):
    """Streams each request's beats; idle cycles at random (knob in_idle_prob)."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.idle_prob = knob("in_idle_prob", 0.0)
        self.rnd = py_random(11)
        self.sent = 0

    def idle(self):
        self.dut.s_valid.value = 0

    async def run_phase(self):
        dut = self.dut
        self.idle()
        # a beat offered during reset would look taken (s_ready comes from the state)
        await ConfigDB().get(self, "", "reset_done").wait()
        await FallingEdge(dut.clk)
        while True:
            item = await self.seq_item_port.get_next_item()
            for j, (score, cid, keep) in enumerate(item.beats):
                while self.rnd.random() < self.idle_prob:
                    item.idles += 1
                    self.idle()
                    await FallingEdge(dut.clk)
                dut.s_score.value = score & 0xFFFFFFFF
                dut.s_id.value = cid
                dut.s_keep.value = int(keep)
                dut.s_last.value = int(j == len(item.beats) - 1)
                dut.s_k.value = item.k if item.beat_k is None else item.beat_k[j]
                dut.s_valid.value = 1
                while True:
                    await ReadOnly()
                    taken = bool(int(dut.s_ready.value))
                    await FallingEdge(dut.clk)
                    if taken:   # valid and ready mid-cycle: taken at the edge in between
                        break
                if j == 0:
                    item.t_first = cycle_now()
                item.t_last_in = cycle_now()
            self.idle()
            self.sent += 1
            self.ap.write(item)
            self.seq_item_port.item_done()


class TopkAnswerMonitor(uvm_component):
    """Takes answer beats (stalling m_ready at random, knob out_stall_prob) and
    publishes each whole answer: {beats: [(score, id, err, last)], t_first, t_last}."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.stall_prob = knob("out_stall_prob", 0.0)
        self.rnd = py_random(12)
        self.count = 0
        self.stalls = 0

    async def run_phase(self):
        dut = self.dut
        dut.m_ready.value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        self.sink = StreamSink(dut.clk, dut.m_valid, dut.m_ready, dut.rst_n, self.stall_prob, self.rnd)
        self.beats, self.t_first, self.stalls_seen = [], None, 0
        await self.sink.run(self.take)

    def take(self) -> None:
        """At the falling edge before the handshake; cycles count from that coming edge."""
        dut = self.dut
        beat = (dut.m_score.value.to_signed(), int(dut.m_id.value), int(dut.m_err.value),
                bool(int(dut.m_last.value)))
        now = cycle_now() + 1
        if self.t_first is None:
            self.t_first = now
        self.beats.append(beat)
        if beat[3]:
            stalled = self.sink.stalls - self.stalls_seen
            self.count += 1
            self.stalls += stalled
            self.ap.write({"beats": self.beats, "t_first": self.t_first, "t_last": now, "stalled": stalled})
            self.beats, self.t_first, self.stalls_seen = [], None, self.sink.stalls
