"""The query stream agent (``s_query_*``), shared by the lookup and top benches.

A transaction is one query: an id and one index per logical table. The BFM
(:class:`QueryDriver`) packs the indices into the flat ``s_query_idx`` word,
waits for ``s_query_ready`` by sleeping on its edge (not by polling every
cycle) and publishes each accepted query, stamped with the cycle it was
taken, on its analysis port.
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge
from pyuvm import uvm_agent, uvm_analysis_port, uvm_driver, uvm_sequence_item, uvm_sequencer, uvm_subscriber

from tb.common.config_db import knob
from tb.common.seeding import py_random, soak_stimulus


class QueryItem(uvm_sequence_item):
    def __init__(self, name="query", qid=0, indices=None, bad_table=None):
        super().__init__(name)
        self.qid = qid
        self.indices = np.asarray(indices, dtype=np.int64)
        self.bad_table = bad_table     # logical table given an out-of-range index
        self.t_sent = 0                # cycle the query was accepted

    def __str__(self):
        return f"Query(id={self.qid}, idx={self.indices.tolist()[:8]}{'...' if len(self.indices) > 8 else ''})"


def query_id(n: int) -> int:
    """The id of the n-th query of a test: a bijection of the 32-bit counter, so ids stay
    unique but every bit of the id paths toggles (ids are opaque to the RTL)."""
    return (n * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF


def pack_indices(indices) -> int:
    """One 32-bit index per logical table, table 0 in the low bits."""
    word = 0
    for t, v in enumerate(indices):
        word |= (int(v) & 0xFFFFFFFF) << (32 * t)
    return word


async def offer_query(dut, qid: int, indices, idle_prob: float = 0.0, rnd=None, payload=None) -> int:
    """One s_query handshake: optional idle cycles first (``idle_prob`` per cycle, drawn from
    ``rnd``), then the beat held until taken; ``payload(dut)`` drives the fields a DUT takes
    beyond id and indices. Returns the memory model's cycle counter at the handshake."""
    while idle_prob and rnd is not None and rnd.random() < idle_prob:
        dut.s_query_valid.value = 0
        await RisingEdge(dut.clk)
    dut.s_query_id.value = int(qid)
    dut.s_query_idx.value = pack_indices(indices)
    if payload is not None:
        payload(dut)
    dut.s_query_valid.value = 1
    while True:
        await RisingEdge(dut.clk)
        if int(dut.s_query_ready.value):
            break
        # a full ring can stall for thousands of cycles: sleep until ready
        # rises instead of waking every cycle (the handshake is the next edge)
        await RisingEdge(dut.s_query_ready)
    t = int(dut.hbm_cycle.value)
    dut.s_query_valid.value = 0
    return t


class QueryDriver(uvm_driver):
    """Drives s_query_*; optional idle cycles between queries (knob in_idle_prob)."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.idle_prob = knob("in_idle_prob", 0.0)
        self.rnd = py_random(21)

    async def run_phase(self):
        dut = self.dut
        dut.s_query_valid.value = 0
        while True:
            item = await self.seq_item_port.get_next_item()
            item.t_sent = await offer_query(dut, item.qid, item.indices, self.idle_prob, self.rnd,
                                            lambda _dut, item=item: self.drive_payload(item))
            self.ap.write(item)
            self.seq_item_port.item_done()

    def drive_payload(self, item) -> None:
        """Hook: fields a DUT takes with the query beyond id and indices (none here)."""


class QueryAgent(uvm_agent):
    """Sequencer + driver of the query stream; ``ap`` publishes accepted queries."""

    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = QueryDriver.create("driver", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.ap = self.driver.ap


class SentQueryTap(uvm_subscriber):
    """Every query the driver sent, in order, for predictions made in batches: a
    scoreboard asks for the expectation of its oldest query and computes it, at once,
    for every query sent since (a batch of the golden model costs far less per query
    than one call per query)."""

    def build_phase(self):
        self.items = []

    def write(self, item):
        self.items.append(item)

    def take_unpredicted(self, attr: str) -> list:
        """The queries sent since the last call that have no ``attr`` yet."""
        todo = [it for it in self.items if getattr(it, attr, None) is None]
        self.items.clear()
        return todo


def configure_stream_stimulus(test, cdb) -> dict | None:
    """Input idle and output stall probabilities of a query-stream bench, into the
    ConfigDB for the driver and the result sink: the test class's defaults
    (``in_idle_prob``, ``out_stall_prob``), overridden by the spec's knobs, raised to
    the soak draw in soak mode. Returns the soak draw (None outside soak), whose
    memory timing the bench applies too."""
    k = test.knobs
    soak = soak_stimulus()
    in_idle = test.in_idle_prob if k.in_idle is None else k.in_idle
    out_stall = test.out_stall_prob if k.out_stall is None else k.out_stall
    if soak:
        in_idle, out_stall = max(in_idle, soak["in_idle"]), max(out_stall, soak["out_stall"])
        test.logger.info(f"soak stimulus from the seed: {soak}")
    cdb.set(None, "*", "in_idle_prob", in_idle)
    cdb.set(None, "*", "out_stall_prob", out_stall)
    cdb.set(None, "*", "first_qid", 0)
    return soak
