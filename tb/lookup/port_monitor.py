"""Python side of the engine-port monitor (tb/hdl/lookup_port_monitor.sv).

The SV monitor logs every AR handshake and every last R beat of every lookup
engine (memory channels and on-chip banks) and counts stall cycles itself;
this module reads the log in batches (no per-cycle Python) and derives what
the DUT did: which table each read was for (through the layout the DUT was
programmed with), the burst shapes, completion order in the DUT's own terms
(contracts s.5.1, ``ooo``), reads answered with an ID not in flight, and the
R beats of completed reads. Coverage is sampled from here, and the exact
counter checks compare the DUT's counters against it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LOG_NAME = "lookup_ports.bin"
# one record of the monitor's binary log: cycle, address (A only), then the word
# {kind, engine, id, x} little endian (x: ARLEN for A, RRESP for R)
LOG_RECORD = np.dtype([("cycle", "<u8"), ("addr", "<u8"), ("x", "u1"), ("id", "u1"), ("eng", "u1"), ("kind", "u1")])
MON_NAMES = ("ar_stall_mem", "ar_stall_bank", "in_stall", "out_stall", "mem_beats")


def read_monitor(dut) -> dict:
    """The monitor's own counts, on the harness ports ``mon_<name>``."""
    return {n: int(getattr(dut, f"mon_{n}").value) for n in MON_NAMES}


@dataclass
class PortEvent:
    kind: str          # A (AR handshake), R (last R beat), C (counters cleared), X (left reset)
    cycle: int
    eng: int = 0
    id: int = 0
    addr: int = 0
    len: int = 0
    resp: int = 0


class PortLog:
    """Incremental reader of the monitor's log file (call after the memory model's
    log flush, HbmMemory.flush_logs, which flushes this log too)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path or os.path.join(os.getcwd(), LOG_NAME))
        self.pos = 0

    def read_new(self) -> list[PortEvent]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.pos)
            data = fh.read()
        n = len(data) // LOG_RECORD.itemsize      # a partial last record waits for the next read
        self.pos += n * LOG_RECORD.itemsize
        rec = np.frombuffer(data, dtype=LOG_RECORD, count=n)
        kinds = rec["kind"]
        bad = np.nonzero(~np.isin(kinds, np.frombuffer(b"ARCX", dtype=np.uint8)))[0]
        if len(bad):
            raise ValueError(f"{self.path.name}: record {int(bad[0])} has kind {int(kinds[bad[0]]):#x} "
                             f"(not A, R, C or X: the log is out of step)")
        out = []
        for kind, cyc, eng, id_, addr, x in zip(kinds.tolist(), rec["cycle"].tolist(), rec["eng"].tolist(),
                                                rec["id"].tolist(), rec["addr"].tolist(), rec["x"].tolist()):
            if kind == 0x41:
                out.append(PortEvent("A", cyc, eng, id_, addr, x))
            elif kind == 0x52:
                out.append(PortEvent("R", cyc, eng, id_, resp=x))
            else:
                out.append(PortEvent(chr(kind), cyc))
        return out


def engine_name(layout, e: int) -> str:
    return f"ch{e}" if e < layout.build.num_ch else f"bank{e - layout.build.num_ch}"


def burst_beats(layout, d) -> int:
    return max(1, d.stride // layout.build.word_bytes)


@dataclass
class _Engine:
    issue_rank: int = 0
    done_rank: int = 0
    inflight: dict = field(default_factory=dict)   # id -> (issue rank, table, beats)


class PortAnalysis:
    """What the engine ports show, accumulated over batches of log events.

    Counts follow the DUT's counters: they restart at a C (perf_clear) line and at
    an X (reset) line, and an event in the same cycle as a clear is not counted.
    Completion ranks restart only at reset, as the engines' own do.
    """

    def __init__(self, num_eng: int):
        self.num_eng = num_eng
        self.eng = [_Engine() for _ in range(num_eng)]
        self.problems: list[str] = []
        self.samples: list[tuple[str, str, str]] = []     # (engine, plain|product, beats) per read
        self.count_from = 0
        self.unexpected_since_reset = 0     # what the sticky flag sees: perf_clear leaves it
        self.unexpected_total = 0           # the whole test: neither reset nor perf_clear clears it
        self.clear_counts()

    def clear_counts(self) -> None:
        self.ooo = 0
        self.unexpected = 0
        self.completed_beats = 0            # memory engines: beats of completed reads + unexpected beats
        self.reads = [0] * self.num_eng

    def feed(self, events, layout) -> None:
        """Events in log order; ``layout`` is the placement the DUT ran them under."""
        nch = layout.build.num_ch
        for ev in events:
            if ev.kind == "X":
                self.eng = [_Engine() for _ in range(self.num_eng)]
                self.clear_counts()
                self.unexpected_since_reset = 0
                self.count_from = ev.cycle + 1
                continue
            if ev.kind == "C":
                self.clear_counts()
                self.count_from = ev.cycle + 1
                continue
            counted = ev.cycle >= self.count_from
            e = self.eng[ev.eng]
            if ev.kind == "A":
                p = self.table_of(layout, ev.eng, ev.addr)
                beats = ev.len + 1
                if p is None:
                    self.problems.append(f"MONITOR engine {engine_name(layout, ev.eng)} read {ev.len + 1} beats "
                                         f"at {ev.addr:#x} (cycle {ev.cycle}): no table placed there")
                else:
                    d = layout.descs[p]
                    wb = layout.build.word_bytes
                    aligned = (ev.addr - d.base) % d.stride == 0 if d.stride >= wb else ev.addr % wb == 0
                    if not aligned:
                        self.problems.append(f"MONITOR engine {engine_name(layout, ev.eng)} read physical "
                                             f"table {p} at {ev.addr:#x} (cycle {ev.cycle}), not a row start")
                    if beats != burst_beats(layout, d):
                        self.problems.append(f"MONITOR engine {engine_name(layout, ev.eng)} read {beats} beats "
                                             f"of physical table {p} at {ev.addr:#x} (cycle {ev.cycle}), "
                                             f"its rows take {burst_beats(layout, d)}")
                    self.samples.append((engine_name(layout, ev.eng), "product" if d.is_product else "plain",
                                         str(beats)))
                if ev.id in e.inflight:
                    self.problems.append(f"MONITOR engine {engine_name(layout, ev.eng)} reused ARID {ev.id} "
                                         f"while in flight (cycle {ev.cycle})")
                e.inflight[ev.id] = (e.issue_rank, p, beats)
                e.issue_rank += 1
                if counted:
                    self.reads[ev.eng] += 1
            elif ev.kind == "R":
                if ev.id in e.inflight:
                    rank, _p, beats = e.inflight.pop(ev.id)
                    if counted and rank != e.done_rank:
                        self.ooo += 1
                    e.done_rank += 1
                    if counted and ev.eng < nch:
                        self.completed_beats += beats
                else:
                    self.unexpected_total += 1
                    self.unexpected_since_reset += 1
                    if counted:
                        self.unexpected += 1
                        if ev.eng < nch:
                            self.completed_beats += 1

    @staticmethod
    def table_of(layout, eng: int, addr: int) -> int | None:
        """The physical table on engine ``eng`` whose rows hold byte ``addr``."""
        nch, wb = layout.build.num_ch, layout.build.word_bytes
        for p, d in enumerate(layout.descs):
            on_eng = (nch + d.channel) if d.onchip else d.channel
            if on_eng != eng:
                continue
            end = d.base + d.rows * d.stride
            end += -end % wb
            if d.base - d.base % wb <= addr < end:
                return p
        return None
