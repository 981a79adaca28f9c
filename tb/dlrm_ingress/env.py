"""pyuvm environment of the multi-hot query path (tb/hdl/dlrm_ingress_tb_top.sv).

    packets --> query_packet_ingress[_wide] --hdr/idx/err--> [RowFetch: rows from
    models.tables, random latency, any order] --bag opens, rows--> bag_pool --> pooled

- PacketDriver streams the prepared packets (idle cycles at random);
- four sinks take the header, index, error and pooled records (stalls at random);
  an index group of the wide ingress is unpacked into its entries in lane order;
- RowFetch is the behavioural row fetch, as the lookup top would do it: a
  pool slot per headed query, its T bags opened at the header, a row per
  non-void entry returned with a random latency, so rows of many bags and
  queries arrive mixed; an aborted query's rows are drained, then its slot is
  dropped and its pooled vectors discarded (9.6);
- the scoreboard compares every record with stimulus.Expected (golden codes and
  pooled vectors, s.9.9 record format) and names query, table, element,
  expected and got.
"""
from __future__ import annotations

import random

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly
from cocotb.utils import get_sim_time
from pyuvm import ConfigDB, uvm_component, uvm_env

from models.dlrm import ERR_BAG_LEN, ERR_IDX_RANGE, ERR_NONE, ERR_PACKET
from models.tables import table_rows
from tb.common.clock_reset import CLK_PERIOD_NS
from tb.common.config_db import knob
from tb.common.fcov import Covergroup
from tb.common.seeding import py_random
from tb.common.stream_sink import StreamSink
from tb.common.sv_source import lookup_err_names
from tb.common.watchdog import Watchdog
from tb.dlrm_ingress.stimulus import EXTRA_KINDS, KINDS, as_int16, exact_half

M32 = 0xFFFFFFFF
ERR_NAMES = lookup_err_names()      # lookup_pkg::err_code_e, the one source of the codes


def check_codes_agree() -> None:
    """The golden model's codes (models/dlrm.py, from the contract) are the RTL enum's."""
    want = {"idx_range": ERR_IDX_RANGE, "bag_len": ERR_BAG_LEN, "packet": ERR_PACKET, "none": ERR_NONE}
    codes = {v: k for k, v in ERR_NAMES.items()}
    for name, code in want.items():
        assert codes.get(name) == code, f"lookup_pkg::err_code_e {name} = {codes.get(name)}, models.dlrm says {code}"


class Cycles:
    """Falling clock edges since ``run()`` started, read from the simulation time:
    one wake-up to learn the clock's phase, none per cycle after that."""

    def __init__(self, clk):
        self.clk, self.t_edge = clk, None

    async def run(self):
        await FallingEdge(self.clk)
        self.t_edge = get_sim_time("ns")

    @property
    def now(self) -> int:
        if self.t_edge is None:
            return 0
        return 1 + int((get_sim_time("ns") - self.t_edge) // CLK_PERIOD_NS)


class PacketDriver(uvm_component):
    def build_phase(self):
        self.dut = cocotb.top
        self.idle = knob("in_idle", 0.0)
        self.rnd = py_random(21)
        self.beats: list[tuple[int, int]] = []
        self.sent = 0
        self.idles = 0
        self.cycles = None               # tb Cycles, set by the env
        self.taken_at: list[int] = []    # the cycle each beat was taken

    async def run_phase(self):
        dut = self.dut
        dut.s_tvalid.value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        await FallingEdge(dut.clk)
        for beat, last in self.beats:
            while self.rnd.random() < self.idle:
                dut.s_tvalid.value = 0
                self.idles += 1
                await FallingEdge(dut.clk)
            dut.s_tdata.value = beat
            dut.s_tlast.value = last
            dut.s_tvalid.value = 1
            while True:
                await ReadOnly()
                taken = bool(int(dut.s_tready.value))
                await FallingEdge(dut.clk)
                if taken:
                    break
            self.taken_at.append(self.cycles.now if self.cycles else -1)
            self.sent += 1
        dut.s_tvalid.value = 0


class Query:
    """One headed query as the fetch sees it."""

    def __init__(self, k: int):
        self.k = k                       # its place among the headed queries
        self.hdr: dict | None = None
        self.entries: list[tuple] = []
        self.scheduled = 0               # entries handed to the row scheduler
        self.closed = False              # its last_query entry is in
        self.aborted = False
        self.slot: int | None = None
        self.opened = False              # all its bags are open in bag_pool
        self.inflight = 0                # rows asked for and not yet delivered
        self.pooled: dict[int, list[int]] = {}
        self.finished = False


class RowFetch(uvm_component):
    """Index entries -> rows, as the lookup top would do it (see module doc).

    Each headed query takes a pool slot in order and opens its T bags as soon
    as its header is in (before its index stream is over); every entry that is
    not void becomes a row request with a random latency, delivered in any
    order. A query whose last entry says abort waits until its requested rows
    are all delivered, then its slot is dropped (bag_pool s_drop) and freed;
    vectors it pooled meanwhile are discarded. A good query frees its slot when
    its T pooled vectors are in, and hands them to the scoreboard."""

    def build_phase(self):
        self.dut = cocotb.top
        self.cfg = ConfigDB().get(None, "", "model")
        self.slots = ConfigDB().get(None, "", "slots")
        self.idle = knob("in_idle", 0.0)
        self.rnd = py_random(22)
        self.latency = knob("row_latency", (1, 40))
        self.queries: list[Query] = []
        self.n_hdr = 0                     # headers in
        self.n_closed = 0                  # queries whose entries are all in
        self.free = list(range(self.slots))
        self.owner: dict[int, Query] = {}
        self.rows: list[tuple[int, Query, int, int]] = []   # (due cycle, query, table, data)
        self.cycles = None
        self.opened = 0
        self.aborted = 0
        self.discarded = 0                 # pooled vectors of aborted queries
        self.on_good = None                # (qid, {table: data}) -> None, the scoreboard's
        self.on_bad = None                 # (message) -> None: the scoreboard's MISMATCH

    def _query(self, k: int) -> Query:
        while len(self.queries) <= k:
            self.queries.append(Query(len(self.queries)))
        return self.queries[k]

    # fed by the sinks (a header may be taken after its first entries)
    def header(self, h: dict) -> None:
        self._query(self.n_hdr).hdr = h
        self.n_hdr += 1

    def entry(self, e: tuple) -> None:
        q = self._query(self.n_closed)
        q.entries.append(e)
        if e[4]:                                   # last_query
            q.closed, q.aborted = True, bool(e[5])
            self.n_closed += 1

    def pooled(self, slot: int, table: int, word: int) -> None:
        """A pooled vector out of bag_pool (its data word): to its slot's query, or a MISMATCH
        naming what came out and what was expected (on_bad, the scoreboard's) when no open bag
        of a query can have produced it."""
        q = self.owner.get(slot)
        if table >= self.cfg.num_tables or q is None or table in q.pooled:
            want = ("nothing (slot free)" if q is None else
                    f"query #{q.k} (qid {q.hdr['qid']:#x}): tables 0 .. {self.cfg.num_tables - 1} once each, "
                    f"{sorted(q.pooled)} already in")
            self.on_bad(f"pooled vector slot {slot} table {table} data {word:#x} unexpected: expected for "
                        f"slot {slot} {want}")
            return
        dim = self.cfg.tables[table].dim
        q.pooled[table] = [as_int16((word >> (16 * k)) & 0xFFFF) for k in range(dim)]
        self._maybe_finish(q)

    def _maybe_finish(self, q: Query) -> None:
        if q.finished or not q.closed or q.aborted or len(q.pooled) < self.cfg.num_tables:
            return
        q.finished = True
        del self.owner[q.slot]
        self.free.append(q.slot)
        self.on_good(q.hdr["qid"], q.pooled)

    def row_word(self, t: int, idx: int) -> int:
        tab = self.cfg.tables[t]
        row = table_rows(self.cfg.seed, t, np.array([idx], np.int64), tab.dim, self.cfg.emb_shift)[0]
        return sum((int(v) & 0xFFFF) << (16 * k) for k, v in enumerate(row))

    async def _handshake(self, valid, ready) -> None:
        valid.value = 1
        while True:
            await ReadOnly()
            taken = bool(int(ready.value))
            await FallingEdge(self.dut.clk)
            if taken:
                break
        valid.value = 0

    def _schedule(self) -> None:
        lo, hi = self.latency
        for q in self.queries:
            if not q.opened:
                continue
            while q.scheduled < len(q.entries):
                t, idx, void = q.entries[q.scheduled][:3]
                q.scheduled += 1
                if not void:
                    q.inflight += 1
                    self.rows.append((self.cycles.now + self.rnd.randint(lo, hi), q, t, self.row_word(t, idx)))

    async def run_phase(self):
        await ConfigDB().get(self, "", "reset_done").wait()
        cocotb.start_soon(self.drive_rows())
        dut = self.dut
        dut.s_bag_valid.value = 0
        dut.s_drop_valid.value = 0
        await FallingEdge(dut.clk)
        while True:
            self._schedule()
            # an aborted query whose rows have all come back gives its slot back
            done = next((q for q in self.queries if q.opened and q.aborted and not q.finished
                         and q.scheduled == len(q.entries) and q.inflight == 0), None)
            if done is not None:
                dut.s_drop_slot.value = done.slot
                await self._handshake(dut.s_drop_valid, dut.s_drop_ready)
                done.finished = True
                self.aborted += 1
                self.discarded += len(done.pooled)
                del self.owner[done.slot]
                self.free.append(done.slot)
                continue
            nxt = next((q for q in self.queries if q.slot is None), None)
            if nxt is None or nxt.hdr is None or not self.free:
                await FallingEdge(dut.clk)
                continue
            nxt.slot = self.free.pop(self.rnd.randrange(len(self.free)))
            self.owner[nxt.slot] = nxt
            for t, tab in enumerate(self.cfg.tables):
                dut.s_bag_slot.value = nxt.slot
                dut.s_bag_table.value = t
                dut.s_bag_len.value = nxt.hdr["lens"][t]
                dut.s_bag_shift.value = tab.pool_shift
                await self._handshake(dut.s_bag_valid, dut.s_bag_ready)
                self.opened += 1
            nxt.opened = True

    async def drive_rows(self):
        dut = self.dut
        dut.s_row_valid.value = 0
        await FallingEdge(dut.clk)
        while True:
            due = [i for i, r in enumerate(self.rows) if r[0] <= self.cycles.now]
            if not due or self.rnd.random() < self.idle:
                await FallingEdge(dut.clk)
                continue
            i = self.rnd.choice(due)               # any order: not the order they were asked for
            _, q, t, data = self.rows[i]
            dut.s_row_slot.value = q.slot
            dut.s_row_table.value = t
            dut.s_row_data.value = data
            await self._handshake(dut.s_row_valid, dut.s_row_ready)
            self.rows.pop(i)
            q.inflight -= 1
            self._maybe_finish(q)

    def outstanding(self) -> str:
        busy = [f"#{q.k} slot {q.slot} {'aborted' if q.aborted else 'closed' if q.closed else 'open'} "
                f"{len(q.pooled)} pooled {q.inflight} rows in flight" for q in self.queries if q.slot is not None
                and not q.finished]
        return f"fetch: {len(self.rows)} rows waiting, free slots {self.free}; " + "; ".join(busy[:8])


class Scoreboard(uvm_component):
    """Collects every record and compares it with the expectation, in order per stream."""

    def build_phase(self):
        self.exp = None                           # stimulus.Expected, set by the test
        self.errors: list[tuple] = []
        self.headers: list[dict] = []
        self.entries: list[tuple] = []
        self.groups = 0                           # index groups (handshakes on m_idx)
        self.pooled: dict[tuple[int, int], list[int]] = {}
        self.mismatches: list[str] = []
        self.progress: Watchdog | None = None
        self.fetch_state = None

    def report_mismatch(self, msg: str) -> None:
        if len(self.mismatches) < 20:
            self.logger.error("MISMATCH " + msg)
        self.mismatches.append("MISMATCH " + msg)

    def kick(self):
        if self.progress:
            self.progress.kick()

    def on_error(self, rec):
        self.kick()
        i = len(self.errors)
        self.errors.append(rec)

        def show(r):
            return f"query {r[0]:#x} (packet {r[3]}) {ERR_NAMES.get(r[1], r[1])} table {r[2]}"
        if i >= len(self.exp.errors):
            self.report_mismatch(f"error record #{i} ({show(rec)}) beyond the {len(self.exp.errors)} expected")
        elif rec != self.exp.errors[i]:
            self.report_mismatch(f"error record #{i}: expected {show(self.exp.errors[i])}, got {show(rec)}")

    def on_header(self, h):
        self.kick()
        i = len(self.headers)
        self.headers.append(h)
        if i >= len(self.exp.headers):
            self.report_mismatch(f"header record #{i} (query {h['qid']:#x}) beyond the {len(self.exp.headers)} expected")
            return
        e = self.exp.headers[i]
        for key in ("qid", "num", "seq"):
            if h[key] != e[key]:
                self.report_mismatch(f"header #{i} query {e['qid']:#x}: {key} expected {e[key]:#x} got {h[key]:#x}")
        for name in ("lens", "dense"):
            for k, (a, b) in enumerate(zip(e[name], h[name])):
                if a != b:
                    what = "table" if name == "lens" else "dense feature"
                    self.report_mismatch(f"header #{i} query {e['qid']:#x} {what} {k}: {name} expected {a} got {b}")

    def on_bad_group(self, mask: int, lanes: int):
        self.report_mismatch(f"index group after entry #{len(self.entries)}: lane mask {mask:#x} of {lanes} lanes is not "
                  f"lanes 0 .. n-1 (contracts s.9.9)")

    def on_group(self, n: int):
        self.groups += 1

    def on_entry(self, ent):
        self.kick()
        i = len(self.entries)
        self.entries.append(ent)
        if i >= len(self.exp.entries):
            self.report_mismatch(f"index entry #{i} {ent} beyond the {len(self.exp.entries)} expected")
        elif ent != self.exp.entries[i]:
            self.report_mismatch(f"index entry #{i} (query of header #{sum(e[4] for e in self.entries[:-1])}, table "
                      f"{self.exp.entries[i][0]}): expected (table, index, void, last_bag, last_query, abort) "
                      f"{self.exp.entries[i]} got {ent}")

    def on_query_pooled(self, qid: int, vectors: dict[int, list[int]]):
        """The T pooled vectors of a good query (the fetch hands them over once all are in)."""
        for t in sorted(vectors):
            self.on_pooled(qid, t, vectors[t])

    def on_pooled(self, qid: int, t: int, data: list[int]):
        self.kick()
        key = (qid, t)
        if key in self.pooled:
            self.report_mismatch(f"query {qid:#x} table {t}: pooled twice")
        self.pooled[key] = data
        want = self.exp.pooled.get(key)
        if want is None:
            self.report_mismatch(f"query {qid:#x} table {t}: pooled vector for a query that has none")
            return
        for k, (a, b) in enumerate(zip(want, data)):
            if a != b:
                self.report_mismatch(f"query {qid:#x} table {t} element {k}: pooled expected {a} got {b} "
                          f"(exact sum {self.exp.sums[key][k]})")

    def done(self) -> bool:
        e = self.exp
        return (len(self.errors) >= len(e.errors) and len(self.headers) >= len(e.headers)
                and len(self.entries) >= len(e.entries) and len(self.pooled) >= len(e.pooled))

    def outstanding(self) -> str:
        e = self.exp
        first = f"; {len(self.mismatches)} mismatches, first: {self.mismatches[0]}" if self.mismatches else ""
        first += "; " + self.fetch_state() if self.fetch_state else ""
        return (f"error records {len(self.errors)}/{len(e.errors)}, headers {len(self.headers)}/{len(e.headers)}, "
                f"index entries {len(self.entries)}/{len(e.entries)}, pooled {len(self.pooled)}/{len(e.pooled)}"
                + first)

    def check_phase(self):
        e = self.exp
        for what, got, want in (("error records", len(self.errors), len(e.errors)),
                                ("header records", len(self.headers), len(e.headers)),
                                ("index entries", len(self.entries), len(e.entries)),
                                ("pooled vectors", len(self.pooled), len(e.pooled))):
            if got != want:
                self.report_mismatch(f"{what}: expected {want} got {got}")
        assert not self.mismatches, f"{len(self.mismatches)} mismatches, first: {self.mismatches[0]}"
        assert e.packets and (e.errors or e.pooled), "scoreboard checked nothing"
        self.logger.info(f"scoreboard: {len(e.packets)} packets, {len(self.errors)} error records, "
                         f"{len(self.headers)} headers, {len(self.entries)} index entries and "
                         f"{len(self.pooled)} pooled vectors matched the golden model")


class DlrmCoverage:
    def __init__(self):
        self.cg = Covergroup("dlrm_ingress")
        self.cg.point("kind", list(KINDS + EXTRA_KINDS), "packet kinds sent (stimulus)")
        self.cg.point("code", ["none", "idx_range", "bag_len", "packet"], "query answers")
        self.cg.point("bag_len", ["0", "1", "2..L_MAX-1", "L_MAX", "bag_max+1", "above_L_MAX"],
                      "bag lengths of headed queries, and of bag-length errors")
        self.cg.point("duplicates", ["none", "some"], "a bag with a repeated index (good queries)")
        self.cg.point("pooled", ["sat_hi", "sat_lo", "in_range"], "pooled elements against sat16")
        self.cg.point("mean_half", ["pos", "neg"], "mean sums exactly halfway (round half up)")
        self.cg.point("input", ["back_to_back", "with_idles"], "packet beat spacing")
        self.cg.point("output", ["no_stall", "stalled"], "output backpressure")

    def sample_expected(self, cfg, exp, l_max: int):
        for k in exp.kinds:
            self.cg.sample("kind", k)
        for _, c, _, _ in exp.errors:
            self.cg.sample("code", ERR_NAMES[c])
        for _ in exp.good:
            self.cg.sample("code", "none")
        for p in exp.packets:
            if p.bags is None:
                continue
            for t, bag in enumerate(p.bags):
                n, bm = len(bag), cfg.tables[t].bag_max
                if n > l_max:
                    self.cg.sample("bag_len", "above_L_MAX")
                elif n > bm:
                    self.cg.sample("bag_len", "bag_max+1")
                else:
                    self.cg.sample("bag_len", "0" if n == 0 else "1" if n == 1 else "L_MAX" if n == l_max
                                   else "2..L_MAX-1")
                if p.qid in exp.good and len(set(bag)) < n:
                    self.cg.sample("duplicates", "some")
        self.cg.sample("duplicates", "none")
        for (qid, t), vals in exp.pooled.items():
            sh = cfg.tables[t].pool_shift
            for v, s in zip(vals, exp.sums[(qid, t)]):
                self.cg.sample("pooled", "sat_hi" if v == 32767 and s >> sh > 32767 else
                               "sat_lo" if v == -32768 and s >> sh < -32768 else "in_range")
                half = exact_half(s, sh)
                if half:
                    self.cg.sample("mean_half", half)


class DlrmIngressEnv(uvm_env):
    def build_phase(self):
        self.driver = PacketDriver("driver", self)
        self.fetch = RowFetch("fetch", self)
        self.scoreboard = Scoreboard("scoreboard", self)
        self.stall = knob("out_stall", 0.0)
        self.rnd = random.Random(py_random(23).getrandbits(32))

    def start(self, dut, exp, cycles: Cycles):
        """Sinks on the four outputs; the fetch and scoreboard get their records."""
        sb, fetch, cfg = self.scoreboard, self.fetch, self.fetch.cfg
        sb.exp = exp
        fetch.cycles = cycles
        self.driver.cycles = cycles
        t_n, d_n = cfg.num_tables, cfg.dense
        self.sinks = {}

        def take_hdr():
            lens_w, dense_w = int(dut.m_hdr_len.value), int(dut.m_hdr_dense.value)
            h = {"qid": int(dut.m_hdr_qid.value), "num": int(dut.m_hdr_num.value), "seq": int(dut.m_hdr_seq.value),
                 "lens": [(lens_w >> (16 * t)) & 0xFFFF for t in range(t_n)],
                 "dense": [(dense_w >> (16 * m)) & 0xFFFF for m in range(d_n)]}
            sb.on_header(h)
            fetch.header(h)

        lanes = int(dut.cap_lanes.value)

        def take_idx():
            # a group of lanes 0 .. n-1 (one lane on the narrow ingress); the entries in lane order
            mask = int(dut.m_idx_mask.value)
            n = mask.bit_length()
            if mask == 0 or mask != (1 << n) - 1:
                sb.on_bad_group(mask, lanes)
            tab, idx = int(dut.m_idx_table.value), int(dut.m_idx_index.value)
            flags = [int(getattr(dut, f"m_idx_{f}").value) for f in ("void", "last_bag", "last_query", "abort")]
            sb.on_group(n)
            for k in range(lanes):
                if (mask >> k) & 1:
                    e = ((tab >> (8 * k)) & 0xFF, (idx >> (32 * k)) & M32) + tuple((f >> k) & 1 for f in flags)
                    sb.on_entry(e)
                    fetch.entry(e)

        def take_err():
            sb.on_error((int(dut.m_err_qid.value), int(dut.m_err_code.value), int(dut.m_err_table.value),
                         int(dut.m_err_seq.value)))

        def take_pool():
            slot, t = int(dut.m_pool_slot.value), int(dut.m_pool_table.value)
            word = int(dut.m_pool_data.value)
            sb.kick()
            fetch.pooled(slot, t, word)

        fetch.on_good = sb.on_query_pooled
        fetch.on_bad = sb.report_mismatch
        sb.fetch_state = fetch.outstanding

        for name, take, seed in (("hdr", take_hdr, 31), ("idx", take_idx, 32), ("err", take_err, 33),
                                 ("pool", take_pool, 34)):
            sink = StreamSink(dut.clk, getattr(dut, f"m_{name}_valid"), getattr(dut, f"m_{name}_ready"),
                              dut.rst_n, self.stall, py_random(seed))
            self.sinks[name] = sink
            cocotb.start_soon(sink.run(take))
