"""cocotb/pyuvm tests for rtl/mlp/mac_pe.sv (run through tests/test_mac_pe.py).

Test variants are the base test with a factory override of its main
sequence (pyuvm TinyALU style) plus ConfigDB knobs (idle probability,
number of items).
"""
from __future__ import annotations

import cocotb
import pyuvm
from cocotb.triggers import ClockCycles
from pyuvm import ConfigDB, uvm_factory

from tb.common.bench_test import BenchTest
from tb.common.clock_reset import start_clock_and_reset
from tb.mac_pe.dut import MacPeBuild, MacPeKnobs
from tb.mac_pe.mac_pe_env import MacEnv
from tb.mac_pe.seq_lib import (
    PE_LATENCY,
    MacAllSeq,
    MacExtremeSeq,
    MacInt8Seq,
    MacModelSeq,
    MacRandomSeq,
    MacReluSeq,
    MacRoundingSeq,
)

TIMEOUT_US = 2000  # simulated time; a stuck PE fails long before this


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class MacRandomTest(BenchTest):
    """Base test: random dot products with random idle cycles between beats."""

    Build, Knobs = MacPeBuild, MacPeKnobs
    idle_prob = 0.2

    def build_phase(self):
        super().build_phase()
        cdb = ConfigDB()
        cdb.set(None, "*", "lanes", self.build.lanes)
        cdb.set(None, "*", "idle_prob", self.idle_prob)
        cdb.set(None, "*", "num_items", self.knobs.items)
        cdb.set(None, "*", "model", self.knobs.model)
        cdb.set(None, "*", "model_queries", self.knobs.model_queries)
        cdb.set(None, "*", "model_neurons", self.knobs.model_neurons)
        self.env = MacEnv("env", self)

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await start_clock_and_reset(dut.clk, dut.rst_n)
        seq = MacRandomSeq.create("main_seq")
        await seq.start(self.env.seqr)
        await ClockCycles(dut.clk, PE_LATENCY + 2)  # let the last result out
        self.drop_objection()


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class MacBackToBackTest(MacRandomTest):
    """No idle cycles: a new dot product every beat after the last one."""

    idle_prob = 0.0


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class MacExtremeTest(MacRandomTest):
    def build_phase(self):
        uvm_factory().set_type_override_by_type(MacRandomSeq, MacExtremeSeq)
        super().build_phase()


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class MacRoundingTest(MacRandomTest):
    def build_phase(self):
        uvm_factory().set_type_override_by_type(MacRandomSeq, MacRoundingSeq)
        super().build_phase()


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class MacReluTest(MacRandomTest):
    def build_phase(self):
        uvm_factory().set_type_override_by_type(MacRandomSeq, MacReluSeq)
        super().build_phase()


@pyuvm.test(timeout_time=4 * TIMEOUT_US, timeout_unit="us")
class MacAllTest(MacRandomTest):
    """Every stimulus class in one run: what the injected-bug check uses."""

    def build_phase(self):
        uvm_factory().set_type_override_by_type(MacRandomSeq, MacAllSeq)
        super().build_phase()


@pyuvm.test(timeout_time=20 * TIMEOUT_US, timeout_unit="us")
class MacModelTest(MacRandomTest):
    """Neurons of a real model config (knob `model`) against golden_infer's layers."""

    idle_prob = 0.0

    def build_phase(self):
        uvm_factory().set_type_override_by_type(MacRandomSeq, MacModelSeq)
        super().build_phase()


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class MacInt8Test(MacRandomTest):
    """int8 dot products: two MACs per lane, sat8, every shift, int16 beats in between."""

    def build_phase(self):
        uvm_factory().set_type_override_by_type(MacRandomSeq, MacInt8Seq)
        super().build_phase()
