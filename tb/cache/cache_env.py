"""pyuvm environment of the hot-row cache bench (tb/hdl/cache_tb_top.sv).

The bench is the engine's side of one memory channel: an AXI read master
(``ArDriver``, reads of table rows from sequences, several IDs in flight,
one read per ID) and a backpressuring R sink (``RSink``), with the cache
between it and the HBM model. The cycle loop (``CacheEnv.cycle_loop``)
drives at the falling edge and samples the settled handshakes once per
cycle in ReadOnly (``CacheMonitor``), so every component sees the same
cycle. The scoreboard runs ``models/row_cache.py`` on the accepted reads in
AR order and checks each decision (kind, way, eviction), every response
(data bit-exact against ``models/tables.py`` through the HBM model's
golden bytes; the response code against the fault ranges) and the
counters.
"""
from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass

import cocotb
from cocotb.triggers import Event, FallingEdge, ReadOnly
from pyuvm import uvm_analysis_port, uvm_component, uvm_driver, uvm_env, uvm_sequence_item, uvm_sequencer, uvm_subscriber

from models.row_cache import FILL, HIT, KIND_NAMES, UNCACHED, RowCache, set_index
from models.row_cache import COUNTER_NAMES as EXACT_COUNTERS
from tb.common.config_db import knob
from tb.common.fcov import Covergroup
from tb.common.seeding import py_random
from tb.common.spec import run_dir
from tb.hbm.regions import HbmRegion

CNT_NAMES = EXACT_COUNTERS + ("hit_pending", "stall_cycles")   # cache_tb_top's packed cnt, in order
RESP_NAMES = {0: "OKAY", 1: "EXOKAY", 2: "SLVERR", 3: "DECERR"}


def read_counters(dut) -> dict:
    v = int(dut.cnt.value)
    return {n: (v >> (64 * i)) & ((1 << 64) - 1) for i, n in enumerate(CNT_NAMES)}


# --------------------------------------------------------------------------
# the tables on the channel and what a row read looks like
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class RowSpace:
    """Tables on channel 0 and the read the engine issues for a row (design.md s.4)."""
    regions: tuple
    beat_bytes: int = 32

    def read_of(self, t: int, row: int) -> tuple[int, int]:
        """(araddr, arlen) of row ``row`` of table ``t``: one beat holding a narrow row, else the row."""
        g = self.regions[t]
        a = g.row_addr(row)
        if g.stride <= self.beat_bytes:
            return a - a % self.beat_bytes, 0
        return a, g.stride // self.beat_bytes - 1

    def locate(self, addr: int) -> str:
        for t, g in enumerate(self.regions):
            if g.base <= addr < g.end:
                return f"table {t} row {(addr - g.base) // g.stride}"
        return "no table"


def bench_tables(beat_bytes: int = 32) -> RowSpace:
    """Four tables: one-beat rows, narrow rows (4 per beat), two-beat rows, four-beat rows
    (longer than a two-beat line: uncached), each at a 4 KiB-aligned base."""
    # (rows, dim, base): bases spread over the 34-bit channel so every tag and address bit moves
    shapes = [(96, 16, 0x0_0000_0000), (192, 4, 0x1_5555_4000), (48, 32, 0x2_AAAA_8000), (24, 64, 0x3_FFFF_F000)]
    regions = tuple(HbmRegion(ch=0, base=base, rows=rows, dim=dim, table=t)
                    for t, (rows, dim, base) in enumerate(shapes))
    return RowSpace(regions, beat_bytes)


def fault_response(ranges, addr: int, length: int, beat: int) -> int:
    """The first non-OKAY response memory gives the beats of (addr, len) (per-beat fault ranges)."""
    for b in range(length + 1):
        a = addr + b * beat
        for lo, hi, resp in ranges:
            if lo <= a < hi:
                return {"SLVERR": 2, "DECERR": 3}[resp]
    return 0


# --------------------------------------------------------------------------
# items, driver, sink, monitor
# --------------------------------------------------------------------------
class ReadItem(uvm_sequence_item):
    def __init__(self, name="read", addr=0, length=0, size=5, burst=1, gap=0, what=""):
        super().__init__(name)
        self.addr, self.length, self.size, self.burst, self.gap, self.what = addr, length, size, burst, gap, what

    def __str__(self):
        return f"read {self.what} addr {self.addr:#x} len {self.length}"


class ArDriver(uvm_driver):
    """Presents reads on s_ar with a free ID (random among those not in flight)."""

    def build_phase(self):
        self.queue: deque = deque()
        self.room = Event()
        self.rnd = py_random(31)
        self.idle_prob = knob("ar_idle", 0.0)
        self.ids = knob("ids", 16)
        self.cur = None
        self.cur_id = 0
        self.gap = 0
        self.hold = False          # a test may stop new reads
        self.sent = 0

    async def run_phase(self):
        while True:
            item = await self.seq_item_port.get_next_item()
            self.queue.append(item)
            while len(self.queue) >= 4:
                self.room.clear()
                await self.room.wait()
            self.seq_item_port.item_done()

    def drive(self, dut, busy: set) -> None:
        """At the falling edge: keep the read presented, or present the next one."""
        if self.cur is None and not self.hold and self.queue:
            if self.gap > 0:
                self.gap -= 1
            elif self.rnd.random() >= self.idle_prob:
                free = [i for i in range(self.ids) if i not in busy]
                if free:
                    self.cur = self.queue.popleft()
                    self.room.set()
                    self.cur_id = self.rnd.choice(free)
                    self.gap = self.cur.gap
        if self.cur is None:
            dut.s_arvalid.value = 0
            return
        it = self.cur
        dut.s_arvalid.value = 1
        dut.s_araddr.value = it.addr
        dut.s_arlen.value = it.length
        dut.s_arsize.value = it.size
        dut.s_arburst.value = it.burst
        dut.s_arid.value = self.cur_id

    def taken(self) -> None:
        self.cur = None
        self.sent += 1


class RSink(uvm_component):
    """Backpressure on s_rready (probability r_stall per cycle)."""

    def build_phase(self):
        self.rnd = py_random(32)
        self.stall = knob("r_stall", 0.0)

    def drive(self, dut) -> None:
        dut.s_rready.value = int(self.stall <= 0.0 or self.rnd.random() >= self.stall)


class CacheMonitor(uvm_component):
    """Samples the settled handshakes of one cycle (ReadOnly) and publishes, in order:
    ("ar", fields), ("flush",), ("dec", fields), ("resp", fields). It also counts the
    cycles the cache's ``stall_cycles`` must count (contracts s.11.8): enabled, a request
    accepted on s_ar in an earlier cycle waits in the decision stage (not yet decided),
    and no memory AR is presented for it (m_arvalid low: the decision waits for its victim
    line); the cycle of a ``cnt_clear`` pulse restarts the count at 0."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.busy: set = set()
        self.beats: dict = {}
        self.cycle = 0
        self.trace = [] if knob("trace", False) else None
        self.deciding = False         # a request accepted while enabled waits to be decided
        self.stall_cycles = 0

    def sample(self, dut) -> bool:
        """Returns whether the AR handshake happened (the driver's read was taken)."""
        self.cycle += 1
        c = self.cycle
        took = bool(int(dut.s_arvalid.value) and int(dut.s_arready.value))
        if took:
            ar = {"id": int(dut.s_arid.value), "addr": int(dut.s_araddr.value), "len": int(dut.s_arlen.value),
                  "size": int(dut.s_arsize.value), "burst": int(dut.s_arburst.value), "cycle": c}
            self.busy.add(ar["id"])
            self.ap.write(("ar", ar))
            if self.trace is not None:
                self.trace.append([c, "ar", ar["id"], ar["addr"], ar["len"]])
        if int(dut.flush.value):
            self.ap.write(("flush", c))
        if int(dut.dec_valid.value):
            self.ap.write(("dec", {"id": int(dut.dec_id.value), "kind": int(dut.dec_kind.value),
                                   "way": int(dut.dec_way.value), "evict": int(dut.dec_evict.value),
                                   "pending": int(dut.dec_pending.value), "cycle": c}))
        dec = bool(int(dut.dec_valid.value))
        enabled = bool(int(dut.st_enabled.value))
        if int(dut.cnt_clear.value):
            self.stall_cycles = 0
        elif enabled and self.deciding and not dec and not (int(dut.arvalid.value) & 1):
            self.stall_cycles += 1
        self.deciding = (self.deciding and not dec) or (took and enabled)
        if int(dut.s_rvalid.value) and int(dut.s_rready.value):
            rid, last = int(dut.s_rid.value), int(dut.s_rlast.value)
            data, resp = int(dut.s_rdata.value), int(dut.s_rresp.value)
            self.beats.setdefault(rid, []).append((data, resp))
            if self.trace is not None:
                self.trace.append([c, "r", rid, resp, last, f"{data:x}"])
            if last:
                self.busy.discard(rid)
                self.ap.write(("resp", {"id": rid, "beats": self.beats.pop(rid), "cycle": c}))
        return took

    def report_phase(self):
        if self.trace is not None:
            (run_dir() / "trace.json").write_text(json.dumps(self.trace))


# --------------------------------------------------------------------------
# scoreboard
# --------------------------------------------------------------------------
class CacheScoreboard(uvm_subscriber):
    """The model decides every accepted read in AR order; the RTL must agree on each
    decision, each response and the counters. Mismatches say MISMATCH and name the
    request, its table and row, and expected vs got."""

    def build_phase(self):
        self.checked_ap = uvm_analysis_port("checked_ap", self)
        self.build_cfg = knob("cache_build", None)
        self.space: RowSpace = knob("row_space", None)
        self.mem = None                      # set by the test once the memory model exists
        self.model = RowCache(self.build_cfg.cache_config(), knob("policy", "lru"), response=self.fault)
        self.fault_ranges: list = []
        self.enabled = True
        self.beat = self.build_cfg.data_w // 8
        self.expect_dec: deque = deque()
        self.outstanding: dict = {}
        self.requests = 0
        self.responses = 0
        self.decisions = 0
        self.flushes = 0
        self.mismatches: list[str] = []
        self.outcomes: list = []             # (addr, kind) per decided request, for tests

    def fault(self, addr: int, length: int) -> int:
        return fault_response(self.fault_ranges, addr, length, self.beat)

    def fail(self, msg: str) -> None:
        msg = "MISMATCH " + msg
        self.logger.error(msg)
        self.mismatches.append(msg)

    def write(self, ev):
        kind = ev[0]
        if kind == "ar":
            self.on_ar(ev[1])
        elif kind == "flush":
            if self.enabled:
                self.model.flush()
                self.flushes += 1
                self.checked_ap.write(("flush", len(self.outstanding)))
        elif kind == "dec":
            self.on_dec(ev[1])
        else:
            self.on_resp(ev[1])

    def on_ar(self, ar: dict) -> None:
        i = self.requests
        self.requests += 1
        if self.enabled:
            m = self.model
            st = m.cfg
            full = None
            if m.cacheable(ar["addr"], ar["len"], ar["size"], ar["burst"]):
                s = set_index(ar["addr"] >> st.beat_log2, st.set_bits)
                full = sum(m.valid[s])
            out = m.access(ar["addr"], ar["len"], ar["size"], ar["burst"])
            self.expect_dec.append((i, ar, out, full))
            resp = out.resp if out.kind == HIT else self.fault(ar["addr"], ar["len"])
        else:
            out = None
            resp = self.fault(ar["addr"], ar["len"])
        if ar["id"] in self.outstanding:
            self.fail(f"request #{i}: ARID {ar['id']} reused while in flight (bench bug)")
        self.outstanding[ar["id"]] = (i, ar, out, resp)

    def on_dec(self, d: dict) -> None:
        if not self.expect_dec:
            self.fail(f"decision for ARID {d['id']} with no request waiting to be decided")
            return
        i, ar, out, full = self.expect_dec.popleft()
        self.decisions += 1
        where = f"request #{i} id {ar['id']} addr {ar['addr']:#x} len {ar['len']} ({self.space.locate(ar['addr'])})"
        exp = f"{KIND_NAMES[out.kind]}" + (f" way {out.way}" if out.kind in (HIT, FILL) else "")
        got = f"{KIND_NAMES[d['kind']]}" + (f" way {d['way']}" if d["kind"] in (HIT, FILL) else "")
        problems = []
        if d["id"] != ar["id"]:
            problems.append(f"decided ARID {d['id']}, expected {ar['id']} (AR order lost)")
        if exp != got:
            problems.append(f"expected {exp} got {got}")
        elif out.kind == FILL and bool(d["evict"]) != (out.evicted is not None):
            problems.append(f"eviction: expected {out.evicted is not None} got {bool(d['evict'])}")
        if problems:
            self.fail(f"{where}: " + "; ".join(problems))
        self.checked_ap.write(("dec", out, full, d, ar, self.model.policy))
        self.outcomes.append((ar["addr"], out.kind))

    def on_resp(self, r: dict) -> None:
        self.responses += 1
        if r["id"] not in self.outstanding:
            self.fail(f"response for ARID {r['id']} with no read in flight")
            return
        i, ar, out, exp_resp = self.outstanding.pop(r["id"])
        where = f"request #{i} id {ar['id']} addr {ar['addr']:#x} ({self.space.locate(ar['addr'])})"
        beats = r["beats"]
        if len(beats) != ar["len"] + 1:
            self.fail(f"{where}: {len(beats)} beats, expected {ar['len'] + 1}")
            return
        got_resp = next((rs for _, rs in beats if rs != 0), 0)
        if got_resp != exp_resp:
            self.fail(f"{where}: response expected {RESP_NAMES[exp_resp]} got {RESP_NAMES[got_resp]}")
        elif exp_resp == 0:
            want = self.mem.expected_bytes(0, ar["addr"], len(beats) * self.beat)
            got = b"".join(d.to_bytes(self.beat, "little") for d, _ in beats)
            if got != want:
                k = next(j for j in range(len(got)) if got[j] != want[j]) // 2
                e = int.from_bytes(want[2 * k:2 * k + 2], "little", signed=True)
                g = int.from_bytes(got[2 * k:2 * k + 2], "little", signed=True)
                kind = KIND_NAMES[out.kind] if out else "disabled"
                self.fail(f"{where} ({kind}): int16 element {k} of the burst expected {e} got {g}")
        elif out is not None and out.kind == HIT:
            # an error line: every beat carries the error, and no data
            if any(rs != exp_resp or d != 0 for d, rs in beats):
                self.fail(f"{where} (hit on an error line): every beat must be "
                          f"{RESP_NAMES[exp_resp]} with zero data, got {[(RESP_NAMES[rs], d != 0) for d, rs in beats]}")
        self.checked_ap.write(("resp", out, exp_resp, ar))

    def check_counters(self, got: dict, stall_cycles: int | None = None) -> None:
        """The RTL counters against the model's (exact); the timing-only ones: hit_pending
        no more than the hits, stall_cycles exactly the monitor's count (``stall_cycles``,
        CacheMonitor) of cycles a request waited undecided with no memory AR."""
        exp = self.model.counters
        bad = [f"{n}: expected {exp[n]} got {got[n]}" for n in EXACT_COUNTERS if got[n] != exp[n]]
        if got["hit_pending"] > got["hits"]:
            bad.append(f"hit_pending {got['hit_pending']} > hits {got['hits']}")
        if stall_cycles is not None and got["stall_cycles"] != stall_cycles:
            bad.append(f"stall_cycles: expected {stall_cycles} (cycles a request waited in the decision "
                       f"stage with m_arvalid low, seen at the ports) got {got['stall_cycles']}")
        if bad:
            self.fail("counters after request #" + str(self.requests - 1) + ": " + "; ".join(bad))
        self.checked_ap.write(("counters", got))

    def check_phase(self):
        assert not self.mismatches, f"{len(self.mismatches)} mismatches; first: {self.mismatches[0]}"
        assert not self.expect_dec, f"{len(self.expect_dec)} requests never decided"
        assert not self.outstanding, f"{len(self.outstanding)} reads never answered: {sorted(self.outstanding)}"
        assert self.responses > 0, "scoreboard checked nothing"
        self.logger.info(f"scoreboard: {self.requests} reads, {self.decisions} decisions and "
                         f"{self.responses} responses matched the model; counters {self.model.counters}")

    def report_phase(self):
        (run_dir() / "scoreboard.json").write_text(json.dumps(
            {"requests": self.requests, "decisions": self.decisions, "responses": self.responses,
             "flushes": self.flushes, "mismatches": len(self.mismatches), "counters": self.model.counters}))


# --------------------------------------------------------------------------
# functional coverage
# --------------------------------------------------------------------------
class CacheCoverage(uvm_subscriber):
    """Decisions x the state of their set, races, errors, flushes, policies, burst shapes."""

    def build_phase(self):
        ways = knob("cache_build", None).ways
        self.ways = ways
        self.cg = Covergroup("cache")
        # a hit needs a valid way and a bypass a valid victim: the other pairs cannot happen
        bins = ["hit_partial", "hit_full", "fill_empty", "fill_partial", "fill_full", "bypass_full"]
        if ways == 1:
            bins = [b for b in bins if not b.endswith("partial")]
        self.cg.point("decision_x_set", bins,
                      "hit / fill / bypass against an empty, partly and completely filled set")
        self.cg.point("policy", ["lru", "freq"], "both replacement policies decided requests")
        self.cg.point("race", ["hit_pending", "victim_stall", "flush_in_flight"],
                      "a hit on a line whose fill is in flight; a fill waiting for its victim; "
                      "a flush with reads in flight")
        self.cg.point("eviction", ["evict"], "a fill replaced a valid line")
        self.cg.point("error", ["fill_error", "hit_error_line"], "an error fill; a hit answered by an error line")
        self.cg.point("shape", ["line_1beat", "line_2beat", "uncached"], "line lengths cached and a burst too long")

    def write(self, ev):
        kind = ev[0]
        if kind == "dec":
            _, out, full, d, ar, policy = ev
            self.cg.sample("policy", policy)
            if out.kind != UNCACHED:
                state = "empty" if full == 0 else "full" if full == self.ways else "partial"
                self.cg.sample("decision_x_set", f"{KIND_NAMES[out.kind]}_{state}")
                self.cg.sample("shape", "line_1beat" if ar["len"] == 0 else "line_2beat")
            else:
                self.cg.sample("shape", "uncached")
            if d["pending"]:
                self.cg.sample("race", "hit_pending")
            if out.kind == FILL and out.evicted is not None:
                self.cg.sample("eviction", "evict")
        elif kind == "resp":
            _, out, resp, ar = ev
            if resp and out is not None:
                if out.kind == FILL:
                    self.cg.sample("error", "fill_error")
                elif out.kind == HIT:
                    self.cg.sample("error", "hit_error_line")
        elif kind == "flush":
            if ev[1]:
                self.cg.sample("race", "flush_in_flight")
        elif kind == "counters":
            if ev[1]["stall_cycles"]:
                self.cg.sample("race", "victim_stall")

    def report_phase(self):
        self.cg.report(self.logger)


# --------------------------------------------------------------------------
# env
# --------------------------------------------------------------------------
class CacheEnv(uvm_env):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = ArDriver.create("driver", self)
        self.sink = RSink.create("sink", self)
        self.monitor = CacheMonitor.create("monitor", self)
        self.scoreboard = CacheScoreboard.create("scoreboard", self)
        self.coverage = CacheCoverage.create("coverage", self)
        self.flush_req = False
        self.clear_req = False

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.monitor.ap.connect(self.scoreboard.analysis_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)

    async def cycle_loop(self):
        """Once per cycle: drive at the falling edge, sample the settled values in ReadOnly."""
        dut = cocotb.top
        while True:
            await FallingEdge(dut.clk)
            self.driver.drive(dut, self.monitor.busy)
            self.sink.drive(dut)
            dut.flush.value = int(self.flush_req)
            dut.cnt_clear.value = int(self.clear_req)
            self.flush_req = self.clear_req = False
            await ReadOnly()
            if self.monitor.sample(dut):
                self.driver.taken()

    def idle(self) -> bool:
        d = self.driver
        return d.cur is None and not d.queue and not self.monitor.busy
