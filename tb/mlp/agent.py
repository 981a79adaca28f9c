"""Signal layer of the MLP engine bench: the weight loader (what the top's DMA does),
the driver (phases and feature beats) and the logit monitor. They act at
mid-cycle (falling edge) on ports only, so the bench wakes per beat of real
traffic, not per cycle: a big P x U build stays usable."""
from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge
from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
)

from tb.common.seeding import py_random
from tb.common.stream_sink import StreamSink
from tb.mlp.mlp_layout import (
    EngineBuild,
    config_ports,
    feature_beats,
    weight_writes,
)
from tb.common.config_db import knob
from tb.mlp.seq_lib import MlpInferItem, MlpPhaseItem


# --------------------------------------------------------------------------
# signal layer: weight loader, feature driver, logit monitor
# --------------------------------------------------------------------------
PERF_GLOBAL = ("perf_cycles", "perf_idle", "perf_out_stall")
PERF_LAYER = ("perf_busy", "perf_macs", "perf_stall_dst", "perf_stall_arr", "perf_sat", "perf_relu0")


def read_perf(dut, build: EngineBuild) -> dict:
    perf = {k: int(getattr(dut, k).value) for k in PERF_GLOBAL}
    mask = (1 << build.CNT_W) - 1
    for k in PERF_LAYER:
        v = int(getattr(dut, k).value)
        perf[k] = [(v >> (build.CNT_W * l)) & mask for l in range(build.MAX_LAYERS)]
    return perf


class MlpWeightLoader(uvm_component):
    """Drives the bank write port (what the accelerator's DMA will do)."""

    def build_phase(self):
        self.dut = cocotb.top
        self.build = ConfigDB().get(self, "", "build")
        self.words = 0

    async def load(self, weights, precisions=None):
        """Call at mid-cycle; returns at mid-cycle, one write per cycle."""
        dut = self.dut
        for bias, pe, addr, data in weight_writes(self.build, weights, precisions):
            dut.w_bias.value = bias
            dut.w_pe.value = pe
            dut.w_addr.value = addr
            dut.w_data.value = data
            dut.w_we.value = 1
            await FallingEdge(dut.clk)
            self.words += 1
        dut.w_we.value = 0


class MlpDriver(uvm_driver):
    """Phase items: wait idle, configure, load; inference items: stream beats."""

    def build_phase(self):
        self.dut = cocotb.top
        self.build = ConfigDB().get(self, "", "build")
        self.sent_ap = uvm_analysis_port("sent_ap", self)
        self.phase_ap = uvm_analysis_port("phase_ap", self)
        self.idle_prob = knob("feat_idle_prob", 0.0)
        self.rnd = py_random(101)
        self.loader = None  # connected by the env
        self.phase = None
        self.tag = 0
        self.beats = 0

    async def wait_idle(self):
        dut = self.dut
        while not int(dut.idle.value):
            await RisingEdge(dut.idle)
            await FallingEdge(dut.clk)

    async def end_phase(self):
        """Wait for the engine to drain, then publish the phase's counters."""
        if self.phase is None:
            return
        await self.wait_idle()
        self.phase.perf = read_perf(self.dut, self.build)
        self.phase_ap.write(self.phase)
        self.phase = None

    async def run_phase(self):
        dut = self.dut
        for s in ("feat_valid", "w_we", "perf_clear", "cfg_int8", "cfg_sparse", "cfg_input_shift",
                  "cfg_zero_skip", "cfg_wbase_off", "cfg_bbase_off"):
            getattr(dut, s).value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        await FallingEdge(dut.clk)
        while True:
            item = await self.seq_item_port.get_next_item()
            if isinstance(item, MlpPhaseItem):
                await self.end_phase()
                for port, val in config_ports(self.build, item.shapes, item.cfg.frac_bits, item.qmodel,
                                              item.zero_skip).items():
                    getattr(dut, port).value = val
                await self.loader.load(item.weights, item.precisions)
                for _ in range(2):
                    await FallingEdge(dut.clk)
                assert not int(dut.cfg_err.value), f"engine rejected the configuration of {item}"
                dut.perf_clear.value = 1
                await FallingEdge(dut.clk)
                dut.perf_clear.value = 0
                self.phase = item
            else:
                await self.drive(item)
            self.seq_item_port.item_done()

    async def drive(self, item: MlpInferItem):
        dut = self.dut
        self.tag = (self.tag + 1) % (1 << self.build.ID_W)
        item.tag = self.tag
        self.sent_ap.write(item)
        dut.feat_tag.value = item.tag
        for beat in feature_beats(self.build, item.features):
            while self.idle_prob and self.rnd.random() < self.idle_prob:
                dut.feat_valid.value = 0
                await FallingEdge(dut.clk)
            dut.feat_data.value = beat
            dut.feat_valid.value = 1
            while not int(dut.feat_ready.value):
                await RisingEdge(dut.feat_ready)
                await FallingEdge(dut.clk)
            await FallingEdge(dut.clk)  # the rising edge in between took the beat
            self.beats += 1
        dut.feat_valid.value = 0


class MlpLogitMonitor(uvm_component):
    """Takes logits off the output stream, stalling it at random (knob
    out_stall_prob); publishes {logit, tag} in arrival order."""

    def build_phase(self):
        self.dut = cocotb.top
        self.ap = uvm_analysis_port("ap", self)
        self.stall_prob = knob("out_stall_prob", 0.0)
        self.rnd = py_random(102)
        self.count = 0

    async def run_phase(self):
        dut = self.dut
        dut.out_ready.value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        sink = StreamSink(dut.clk, dut.out_valid, dut.out_ready, dut.rst_n, self.stall_prob, self.rnd)
        await sink.run(self.take)

    def take(self) -> None:
        """Valid and ready at mid-cycle: taken at the next edge."""
        dut = self.dut
        self.count += 1
        self.ap.write({"logit": dut.out_logit.value.to_signed(), "tag": int(dut.out_tag.value)})


class MlpVecMonitor(uvm_component):
    """VEC_OUT builds: takes vector beats off the output stream, stalling it at random
    (knob out_stall_prob), and publishes one {vec, tags, beats} per vector when the
    beat with out_last arrives: vec holds every lane of every beat (padding included,
    the scoreboard checks it is 0), tags the tag of each beat."""

    def build_phase(self):
        self.dut = cocotb.top
        self.build = ConfigDB().get(self, "", "build")
        self.ap = uvm_analysis_port("ap", self)
        self.stall_prob = knob("out_stall_prob", 0.0)
        self.rnd = py_random(103)
        self.count = 0
        self.lanes, self.tags = [], []

    async def run_phase(self):
        dut = self.dut
        dut.out_ready.value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        sink = StreamSink(dut.clk, dut.out_valid, dut.out_ready, dut.rst_n, self.stall_prob, self.rnd)
        await sink.run(self.take)

    def take(self) -> None:
        """Valid and ready at mid-cycle: the beat is taken at the next edge."""
        dut, vl = self.dut, self.build.VEC_LANES
        raw = int(dut.out_vec.value)
        for i in range(vl):
            e = (raw >> (16 * i)) & 0xFFFF
            self.lanes.append(e - 0x10000 if e & 0x8000 else e)
        self.tags.append(int(dut.out_tag.value))
        if int(dut.out_last.value):
            self.count += 1
            self.ap.write({"vec": self.lanes, "tags": self.tags, "beats": len(self.tags),
                           "logit": dut.out_logit.value.to_signed()})
            self.lanes, self.tags = [], []
