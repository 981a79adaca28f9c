"""Queries as packets (contracts s.9.7) on ``s_pkt_*``: the multi-hot form of the query agent.

A multi-hot query is a :class:`PacketQueryItem`: per logical table a bag of
indices, and the dense features. :class:`PacketQueryDriver` replaces the
query agent's driver by a pyuvm factory override (``use_packet_driver``), so
the agent, its analysis port and every scoreboard that pairs records with
sent queries stay as they are. It packs each item with
``models.query_stream.pack_query`` (or sends the item's own ``beats``, for a
malformed packet made on purpose), one beat per cycle, idle cycles between
beats at the knob ``in_idle_prob``, and stamps ``t_sent`` with the cycle of
the packet's first beat (as QueryDriver stamps a query): latency counts from
the query's first word in.
:class:`MultihotQuerySeq` draws queries with ``models.multihot``.
"""
from __future__ import annotations

import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge
from pyuvm import ConfigDB, uvm_factory, uvm_sequence

from models.multihot import Bags, multihot_queries
from models.query_stream import pack_query
from tb.agents.query_agent import QueryDriver, QueryItem, query_id
from tb.common.config_db import knob
from tb.common.seeding import py_random


class PacketQueryItem(QueryItem):
    """One multi-hot query: ``bags[t]`` the indices of logical table t, ``dense`` the D
    int16 features; ``beats`` (optional) the packet as sent when it is malformed on purpose."""

    def __init__(self, name="packet", qid=0, bags=(), dense=(), beats=None, kind="ok"):
        first = [b[0] if len(b) else 0 for b in bags]
        super().__init__(name, qid=qid, indices=first)
        self.bags = [list(map(int, b)) for b in bags]
        self.dense = list(map(int, dense))
        self.beats = beats
        self.kind = kind

    def as_bags(self) -> Bags:
        return Bags.from_lists([self.bags], [self.dense])

    def __str__(self):
        lens = [len(b) for b in self.bags]
        return f"Packet(id={self.qid}, {self.kind}, bag lengths {lens[:8]}{'...' if len(lens) > 8 else ''})"


class PacketQueryDriver(QueryDriver):
    """Drives ``s_pkt_tvalid/tready/tdata/tlast``, ``pkt_words`` 32-bit words per beat."""

    def build_phase(self):
        super().build_phase()
        self.words = int(knob("pkt_words", 32))

    async def run_phase(self):
        dut = self.dut
        dut.s_pkt_tvalid.value = 0
        dut.s_pkt_tlast.value = 0
        while True:
            item = await self.seq_item_port.get_next_item()
            beats = item.beats if item.beats is not None else pack_query(item.qid, item.bags, item.dense,
                                                                         self.words)
            for i, beat in enumerate(beats):
                while self.rnd.random() < self.idle_prob:
                    dut.s_pkt_tvalid.value = 0
                    await RisingEdge(dut.clk)
                dut.s_pkt_tdata.value = beat
                dut.s_pkt_tlast.value = int(i == len(beats) - 1)
                dut.s_pkt_tvalid.value = 1
                while True:
                    await ReadOnly()
                    taken = bool(int(dut.s_pkt_tready.value))
                    await RisingEdge(dut.clk)
                    if taken:
                        break
                    if not int(dut.s_pkt_tready.value):
                        # a full lookup can hold a packet for thousands of cycles: sleep until
                        # tready rises (as QueryDriver does) instead of waking every cycle
                        await RisingEdge(dut.s_pkt_tready)
                if i == 0:
                    item.t_sent = int(dut.hbm_cycle.value)   # as QueryDriver stamps it
            dut.s_pkt_tvalid.value = 0
            dut.s_pkt_tlast.value = 0
            self.ap.write(item)
            self.seq_item_port.item_done()


def use_packet_driver() -> None:
    """Every query agent built after this call drives packets (a factory override)."""
    uvm_factory().set_type_override_by_type(QueryDriver, PacketQueryDriver)


class MultihotQuerySeq(uvm_sequence):
    """``num_queries`` valid multi-hot queries of the knob model (``model_cfg``): bag lengths
    of kind ``bag_lengths`` (fixed | uniform | lognormal) around ``bag_length``, indices
    uniform or Zipf(``zipf_alpha``) when that knob is > 0; continues ``first_qid``."""

    def make(self, cfg, n: int) -> Bags:
        alpha = float(knob("zipf_alpha", 0.0) or 0.0)
        return multihot_queries(cfg, n, lengths=knob("bag_lengths", "fixed"), length=int(knob("bag_length", 20)),
                                indices="zipf" if alpha > 0 else "uniform", alpha=alpha or 1.0,
                                scatter=alpha > 0, seed=py_random(15).randrange(2**31))

    async def body(self):
        cfg = knob("model_cfg", None)
        n = int(knob("num_queries", 100))
        first = knob("first_qid", 0)
        bags = self.make(cfg, n)
        for q in range(n):
            blist, dense = bags.query(q)
            item = PacketQueryItem(f"q{first + q}", qid=query_id(first + q), bags=blist, dense=dense)
            await self.start_item(item)
            await self.finish_item(item)
        ConfigDB().set(None, "*", "first_qid", first + n)


def batch_of(items) -> Bags:
    """The queries of ``items`` (PacketQueryItems) as one golden-model batch."""
    items = list(items)
    return Bags.from_lists([it.bags for it in items], np.array([it.dense for it in items], dtype=np.int64)
                           .reshape(len(items), -1))
