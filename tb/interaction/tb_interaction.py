"""cocotb/pyuvm tests of rtl/mlp/dot_interaction.sv (run through tests/test_dot_interaction.py).

Each test class names its sequence; traffic knobs (queries, in_idle_prob,
out_stall_prob) come from the bench spec (tb/interaction/dut.py), except
where a class pins them (the cycle test runs without idles and stalls).
"""
from __future__ import annotations

import json

import cocotb
import pyuvm
from cocotb.triggers import ClockCycles, Event, FallingEdge, ReadOnly
from pyuvm import ConfigDB, uvm_factory

from tb.common.bench_test import BenchTest
from tb.common.clock_reset import start_clock_and_reset
from tb.common.spec import run_dir
from tb.interaction.dut import InteractionBuild, InteractionKnobs
from tb.interaction.interaction_env import InterEnv
from tb.interaction.seq_lib import (
    InterAllSeq,
    InterBaseSeq,
    InterConcatSeq,
    InterCycleSeq,
    InterEdgeSeq,
    InterRandomSeq,
)

TIMEOUT_MS = 50


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class InterRandomTest(BenchTest):
    """Random dot shapes and values, idles in and stalls out as the knobs say."""

    Build, Knobs = InteractionBuild, InteractionKnobs
    sequence = InterRandomSeq
    pinned: dict = {}          # knobs this test fixes whatever the spec says

    def build_phase(self):
        super().build_phase()
        uvm_factory().set_type_override_by_type(InterBaseSeq, self.sequence)
        k = {"in_idle_prob": self.knobs.in_idle_prob, "out_stall_prob": self.knobs.out_stall_prob,
             **self.pinned}
        cdb = ConfigDB()
        cdb.set(None, "*", "ia_build", self.build)
        cdb.set(None, "*", "ia_queries", self.knobs.queries)
        cdb.set(None, "*", "ia_in_idle", k["in_idle_prob"])
        cdb.set(None, "*", "ia_out_stall", k["out_stall_prob"])
        self.reset_done = Event()
        cdb.set(None, "*", "reset_done", self.reset_done)
        self.env = InterEnv("env", self)

    async def before_traffic(self):
        """Hook: runs after reset, before the sequence."""

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        dut.cfg_dot.value = 1
        dut.cfg_n.value = 1
        dut.cfg_d.value = 1
        dut.cfg_flen.value = 1
        dut.cfg_frac_bits.value = 8
        dut.s_valid.value = 0
        await start_clock_and_reset(dut.clk, dut.rst_n)
        await self.before_traffic()
        self.reset_done.set()
        wd = self.env.watchdog(dut.clk, self.knobs.stall_cycles)
        seq = InterBaseSeq.create("main_seq")
        await seq.start(self.env.seqr)
        await self.env.drain()
        await ClockCycles(dut.clk, 8)
        assert int(dut.idle.value), "unit not idle after every answer"
        wd.stop()
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class InterEdgeTest(InterRandomTest):
    """n, d at 1 and at the maximum; exact halves and saturation both ways must be reached."""

    sequence = InterEdgeSeq

    def check_phase(self):
        hits = self.env.coverage.cg.points
        need = {"rounding": ["half_pos", "half_neg"], "sat": ["pos", "neg"], "n": ["1", "max"],
                "d": ["1", "max"], "frac_bits": ["1", "14"]}
        for point, bins in need.items():
            for b in bins:
                assert hits[point].hits[b] > 0, f"edge stimulus never reached {point}.{b}"


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class InterConcatTest(InterRandomTest):
    sequence = InterConcatSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class InterCycleTest(InterRandomTest):
    """No idles, no stalls: the issue period and the last-beat latency of contract s.9.4."""

    sequence = InterCycleSeq
    pinned = {"in_idle_prob": 0.0, "out_stall_prob": 0.0}

    def check_phase(self):
        b = self.build
        rows = self.env.scoreboard.timing
        out, prev = [], None
        for row in rows:
            item_cfg = row["cfg"]
            if prev is not None and prev["cfg"] == item_cfg:
                out.append({**row, "period": row["t_in"] - prev["t_in"]})
            prev = row
        # the cfg objects of the rows, by their text
        cfgs = {str(c): c for c, _ in InterCycleSeq().plan(b, self.knobs.queries)}
        figures = []
        for row in out:
            cfg = cfgs[row["cfg"]]
            want = cfg.issue_cycles(b.DOT_LANES, b.FEAT_LANES)
            assert row["period"] == want, (f"query {row['qid']} {cfg}: issue period {row['period']} cycles, "
                                           f"contract s.9.4 says {want}")
            lat = row["t_last"] - row["t_in"]
            assert lat == want + 3, (f"query {row['qid']} {cfg}: last beat {lat} cycles after capture, "
                                     f"contract says period + 3 = {want + 3}")
            figures.append({"cfg": row["cfg"], "period": row["period"], "latency": lat})
        assert figures, "no back-to-back pair of queries measured"
        with open(run_dir() / "interaction_cycles.json", "w") as fh:
            json.dump(figures, fh, indent=1)
        for f in {json.dumps(x, sort_keys=True) for x in figures}:
            self.logger.info(f"interaction cycles: {f}")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class InterCfgErrorTest(InterRandomTest):
    """Each illegal configuration raises cfg_err and closes the input; a legal one reopens it."""

    sequence = InterEdgeSeq

    async def before_traffic(self):
        dut = cocotb.top
        b = self.build
        legal = dict(cfg_dot=1, cfg_n=1, cfg_d=1, cfg_flen=1, cfg_frac_bits=8)
        bad = [("F = 0", dict(cfg_frac_bits=0)), ("F = 15", dict(cfg_frac_bits=15)),
               ("dot n = 0", dict(cfg_n=0)), ("dot d = 0", dict(cfg_d=0)),
               ("concat empty", dict(cfg_dot=0, cfg_d=0, cfg_flen=0))]
        if (b.N_MAX + 1).bit_length() == b.N_MAX.bit_length():   # N_MAX + 1 fits cfg_n
            bad.append(("dot n > N_MAX", dict(cfg_n=b.N_MAX + 1)))
        if (b.D_MAX + 1).bit_length() == b.D_MAX.bit_length():   # D_MAX + 1 fits cfg_d
            bad += [("dot d > D_MAX", dict(cfg_d=b.D_MAX + 1)),
                    ("concat d > D_MAX", dict(cfg_dot=0, cfg_d=b.D_MAX + 1))]
        if (b.POOL_MAX + 1).bit_length() == b.POOL_MAX.bit_length():
            bad.append(("concat flen > POOL_MAX", dict(cfg_dot=0, cfg_flen=b.POOL_MAX + 1)))
        if b.N_MAX * b.D_MAX > b.POOL_MAX:
            bad.append(("dot n*d > POOL_MAX", dict(cfg_n=b.N_MAX, cfg_d=b.D_MAX)))
        dut.s_valid.value = 1
        for what, fields in bad:
            for k, v in {**legal, **fields}.items():
                getattr(dut, k).value = v
            await ClockCycles(dut.clk, 2)
            await ReadOnly()
            assert int(dut.cfg_err.value) == 1, f"MISMATCH illegal configuration {what}: cfg_err not raised"
            assert int(dut.s_ready.value) == 0, f"MISMATCH illegal configuration {what}: s_ready high"
            await FallingEdge(dut.clk)
        dut.s_valid.value = 0
        for k, v in legal.items():
            getattr(dut, k).value = v
        await ClockCycles(dut.clk, 2)
        await ReadOnly()
        assert int(dut.cfg_err.value) == 0, "cfg_err stays high after a legal configuration"
        assert int(dut.idle.value) == 1, "a query was taken while the configuration was illegal"
        await FallingEdge(dut.clk)


@pyuvm.test(timeout_time=4 * TIMEOUT_MS, timeout_unit="ms")
class InterAllTest(InterRandomTest):
    """Edges, random and concat in one run: what the injected-bug checks use."""

    sequence = InterAllSeq
