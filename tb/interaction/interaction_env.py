"""pyuvm environment of rtl/mlp/dot_interaction.sv.

The driver programs each group's configuration (while the unit is idle and
every earlier answer checked) and offers its queries with random idle
cycles; the monitor takes R beats with random m_ready stalls; the scoreboard
checks each answer beat by beat against the R that ``models.dlrm.interact``
gave the sequence, naming query, element and, for a Z, its pair (i, j).
"""
from __future__ import annotations


import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly
from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
    uvm_env,
    uvm_sequencer,
    uvm_subscriber,
)

from tb.common.clock_reset import pass_cycles
from tb.common.fcov import Covergroup
from tb.common.inorder_scoreboard import InOrderScoreboard
from tb.common.seeding import py_random
from tb.common.stream_sink import StreamSink
from tb.common.watchdog import Watchdog
from tb.interaction.seq_lib import build_info, cycle_now


def _pack(values, width=16) -> int:
    out = 0
    for k, v in enumerate(values):
        out |= (int(v) & ((1 << width) - 1)) << (width * k)
    return out


def _unpack(word: int, lanes: int) -> list[int]:
    out = []
    for k in range(lanes):
        v = (word >> (16 * k)) & 0xFFFF
        out.append(v - 0x10000 if v & 0x8000 else v)
    return out


class InterDriver(uvm_driver):
    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.idle_prob = ConfigDB().get(None, "", "ia_in_idle")
        self.rnd = py_random(21)
        self.sent = 0
        self.cfg = None
        self.scoreboard = None     # set by the env: the driver waits for it at a reconfiguration

    def program(self, cfg):
        dut = self.dut
        dut.cfg_dot.value = int(cfg.dot)
        dut.cfg_n.value = cfg.n
        dut.cfg_d.value = cfg.d
        dut.cfg_flen.value = cfg.flen
        dut.cfg_frac_bits.value = cfg.frac_bits

    async def run_phase(self):
        dut = self.dut
        build = build_info()
        dut.s_valid.value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        await FallingEdge(dut.clk)
        while True:
            item = await self.seq_item_port.get_next_item()
            if item.cfg != self.cfg:
                # configuration changes only while idle, with every answer in
                while self.scoreboard.checked < self.sent or not int(dut.idle.value):
                    await FallingEdge(dut.clk)
                self.program(item.cfg)
                self.cfg = item.cfg
                await ClockCycles(dut.clk, 2)
                await FallingEdge(dut.clk)
                assert not int(dut.cfg_err.value), f"cfg_err on a legal configuration {item.cfg}"
            while self.rnd.random() < self.idle_prob:
                item.idles += 1
                dut.s_valid.value = 0
                await FallingEdge(dut.clk)
            dut.s_x.value = _pack(item.x)
            dut.s_pooled.value = _pack(item.pooled)
            dut.s_tag.value = item.qid % (1 << build.ID_W)
            dut.s_valid.value = 1
            while True:
                await ReadOnly()
                taken = bool(int(dut.s_ready.value))
                await FallingEdge(dut.clk)
                if taken:
                    break
            item.t_in = cycle_now()
            dut.s_valid.value = 0
            self.sent += 1
            self.ap.write(item)
            self.seq_item_port.item_done()


class InterMonitor(uvm_component):
    """Takes R beats (m_ready low at random) and publishes each answer."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.stall_prob = ConfigDB().get(None, "", "ia_out_stall")
        self.rnd = py_random(22)

    async def run_phase(self):
        dut = self.dut
        self.lanes = build_info().FEAT_LANES
        dut.m_ready.value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        self.sink = StreamSink(dut.clk, dut.m_valid, dut.m_ready, dut.rst_n, self.stall_prob, self.rnd)
        self.beats, self.stalls_seen = [], 0
        await self.sink.run(self.take)

    def take(self) -> None:
        """At the falling edge before the handshake: the beat the next edge hands over."""
        dut = self.dut
        beat = (_unpack(int(dut.m_data.value), self.lanes), int(dut.m_tag.value), bool(int(dut.m_last.value)))
        self.beats.append(beat)
        if beat[2]:
            # cycle_now() + 1: the handshake is at the coming rising edge
            self.ap.write({"beats": self.beats, "t_last": cycle_now() + 1,
                           "stalled": self.sink.stalls - self.stalls_seen})
            self.beats, self.stalls_seen = [], self.sink.stalls


class InterScoreboard(InOrderScoreboard):
    """Every R element against models.dlrm.interact, every beat's tag and m_last."""

    noun = "query"
    model = "models.dlrm.interact"
    records_key = "timing"

    @property
    def timing(self) -> list[dict]:
        return self.records

    def label(self, item) -> str:
        return f"{item}"

    def where(self, item, e: int) -> str:
        c = item.cfg
        if e < c.d:
            return f"element {e} (x[{e}])"
        p = e - c.d
        if c.dot:
            pairs = c.model().interaction_pairs
            return f"element {e} (pair (i,j)={pairs[p]}, acc={int(item.acc[p])})"
        return f"element {e} (pooled[{p}])"

    def diffs(self, item, got) -> list[str]:
        build = build_info()
        fl = build.FEAT_LANES
        r = [int(v) for v in item.r]
        nbeats = -(-len(r) // fl)
        diffs = []
        if len(got["beats"]) != nbeats:
            diffs.append(f"{nbeats} beats expected, got {len(got['beats'])}")
        for b, (lanes, tag, last) in enumerate(got["beats"]):
            if tag != item.qid % (1 << build.ID_W):
                diffs.append(f"beat {b}: tag expected {item.qid % (1 << build.ID_W)}, got {tag}")
            if last != (b == nbeats - 1):
                diffs.append(f"beat {b}: m_last expected {b == nbeats - 1}, got {last}")
            for ln, g in enumerate(lanes):
                e = b * fl + ln
                want = r[e] if e < len(r) else 0
                if g != want:
                    what = self.where(item, e) if e < len(r) else f"lane {ln} past the end (element {e})"
                    diffs.append(f"{what}: expected {want}, got {g}")
            if len(diffs) >= 6:
                break
        return diffs

    def compare(self, item, got):
        diffs = self.diffs(item, got)
        record = {"qid": item.qid, "cfg": str(item.cfg), "t_in": item.t_in,
                  "t_last": got["t_last"], "idles": item.idles, "stalled": got["stalled"]}
        return diffs, (item, got), record


class InterCoverage(uvm_subscriber):
    def build_phase(self):
        self.cg = Covergroup("interaction")
        self.cg.point("mode", ["dot", "concat"], "interaction mode")
        self.cg.point("n", ["1", "2..max-1", "max"], "tables n (dot)")
        self.cg.point("d", ["0", "1", "2..max-1", "max"], "x length d")
        self.cg.point("rounding", ["half_pos", "half_neg", "other", "exact"],
                      "dot products landing exactly on +-.5 after the shift")
        self.cg.point("sat", ["pos", "neg", "none"], "Z saturated at +32767 / -32768")
        self.cg.point("frac_bits", ["1", "2..13", "14"], "F")
        self.cg.point("output", ["no_stall", "stalled"], "R beats held by m_ready")
        self.cg.point("input", ["back_to_back", "with_idles"], "idle cycles before a query")

    def write(self, tup):
        item, got = tup
        b = build_info()
        c = item.cfg
        self.cg.sample("mode", "dot" if c.dot else "concat")
        nmax = min(b.N_MAX, b.POOL_MAX // max(1, c.d))
        if c.dot:
            self.cg.sample("n", "1" if c.n == 1 else "max" if c.n == nmax else "2..max-1")
        self.cg.sample("d", "0" if c.d == 0 else "1" if c.d == 1 else "max" if c.d == b.D_MAX else "2..max-1")
        f = c.frac_bits
        self.cg.sample("frac_bits", "1" if f == 1 else "14" if f == 14 else "2..13")
        self.cg.sample("output", "stalled" if got["stalled"] else "no_stall")
        self.cg.sample("input", "with_idles" if item.idles else "back_to_back")
        if c.dot:
            half = 1 << (f - 1)
            for a in (int(v) for v in item.acc):
                frac = a & ((1 << f) - 1)
                self.cg.sample("rounding", "exact" if frac == 0 else
                               ("half_pos" if a > 0 else "half_neg") if frac == half else "other")
                z = (a + half) >> f
                self.cg.sample("sat", "pos" if z > 32767 else "neg" if z < -32768 else "none")

    def report_phase(self):
        self.cg.report(self.logger)


class InterEnv(uvm_env):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = InterDriver.create("driver", self)
        self.monitor = InterMonitor.create("monitor", self)
        self.scoreboard = InterScoreboard.create("scoreboard", self)
        self.coverage = InterCoverage.create("coverage", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.ap.connect(self.scoreboard.sent_export)
        self.monitor.ap.connect(self.scoreboard.answer_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)
        self.driver.scoreboard = self.scoreboard

    def watchdog(self, clk, limit: int) -> Watchdog:
        wd = Watchdog(clk, limit, self.scoreboard.outstanding, "interaction watchdog").start()
        self.scoreboard.progress = wd
        return wd

    async def drain(self):
        while self.scoreboard.checked < self.driver.sent:
            await pass_cycles(16)
