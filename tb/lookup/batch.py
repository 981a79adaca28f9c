"""Batched mode of the lookup bench (knob ``batch``): the streams are driven in SV.

The per-transaction pyuvm agents cost Python work on every query and every
feature vector, which is most of a simulation's wall time on a 32-channel
build. In batched mode the harness's own query source and feature sink
(tb/hdl/lookup_query_src.sv, lookup_feat_sink.sv; ``bq_mode`` = 1) own the
streams: Python writes a whole batch of queries to a file and pulses
``bq_load``; the source drives ``s_query_*`` with the same idle-cycle
probability as the pyuvm driver and the sink drives ``m_feat_ready`` with the
same stall probability as the pyuvm monitor, each from a generator seeded from
the test seed, and both log every handshake with its cycle. Python sleeps
meanwhile (a few wake-ups per thousand cycles), then reads both logs at once
and the scoreboard checks every element of every vector against the golden
model in one batch (LookupScoreboard.check_batch: same messages as the
per-transaction check, which it uses for every vector that differs or carries
an error record).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cocotb.triggers import FallingEdge, First, RisingEdge, Timer

from tb.agents.query_seqs import QueryBatch
from tb.common.clock_reset import CLK_PERIOD_NS, pass_cycles

QUERY_FILE = "lookup_batch_queries.hex"   # tb/hdl/lookup_query_src.sv QUERY_FILE
SENT_LOG = "lookup_batch_sent.log"        # tb/hdl/lookup_query_src.sv LOG_FILE
FEAT_LOG = "lookup_batch_feats.log"       # tb/hdl/lookup_feat_sink.sv LOG_FILE
BQ_DEPTH = 1024                           # tb/hdl/lookup_tb_top.sv BQ_DEPTH (queries per load)


def prob_threshold(p: float) -> int:
    """A probability as the SV side's 32-bit threshold (a draw below it fires)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"probability {p}: must be in [0, 1)")
    return min(int(round(p * 2**32)), 2**32 - 1)


def query_words(batch: QueryBatch, t_max: int) -> str:
    """$readmemh text: one word per query, {indices (table 0 lowest), id}, as hex."""
    n, t = batch.idx.shape
    if t > t_max:
        raise ValueError(f"queries have {t} tables, the build's T_MAX is {t_max}")
    words = np.zeros((n, t_max + 1), dtype=">u4")          # most significant 32 bits first
    words[:, t_max - t:t_max] = batch.idx[:, ::-1] & 0xFFFFFFFF   # ..., table 1, table 0
    words[:, t_max] = batch.qids & 0xFFFFFFFF                   # the id: the lowest 32 bits
    hexw = 8 * (t_max + 1)
    text = words.tobytes().hex()
    return "\n".join(text[i * hexw:(i + 1) * hexw] for i in range(n)) + "\n"


@dataclass
class BatchResults:
    """What the sink took, in order: cycle, id, error record, features (int16 as int64)."""
    cycle: np.ndarray
    qid: np.ndarray
    err: np.ndarray
    err_table: np.ndarray
    err_engine: np.ndarray
    feats: np.ndarray

    def __len__(self) -> int:
        return len(self.qid)

    def row(self, i: int) -> dict:
        """One vector in the pyuvm monitor's form (what the per-transaction check takes)."""
        return {"qid": int(self.qid[i]), "features": self.feats[i], "err": int(self.err[i]),
                "err_table": int(self.err_table[i]), "err_engine": int(self.err_engine[i]),
                "cycle": int(self.cycle[i])}


_HEX = np.full(256, 255, dtype=np.uint8)          # ASCII -> hex digit value (255: not a digit)
_HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_HEX[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)


class _LogReader:
    """Incremental reader of a log file the simulator appends to (after a flush), whose
    lines all have one width: an [n, width - 1] array of characters, newlines dropped."""

    def __init__(self, name: str, width: int):
        self.path = Path(os.getcwd()) / name
        self.width = width              # characters per line, newline included
        self.pos = 0

    def rows(self) -> np.ndarray:
        if not self.path.exists():
            return np.zeros((0, self.width - 1), dtype=np.uint8)
        with open(self.path, "rb") as fh:
            fh.seek(self.pos)
            data = fh.read()
        n = len(data) // self.width     # a partial last line waits for the next read
        self.pos += n * self.width
        rows = np.frombuffer(data, dtype=np.uint8, count=n * self.width).reshape(n, self.width)
        bad = np.nonzero(rows[:, -1] != ord("\n"))[0]
        if len(bad):
            raise ValueError(f"{self.path.name}: line {int(bad[0]) + 1} is not {self.width - 1} characters: "
                             f"{bytes(rows[bad[0]]).decode(errors='replace')[:80]!r}")
        return rows[:, :-1]


def hex_fields(rows: np.ndarray, start: int, digits: int) -> np.ndarray:
    """The hex number of ``digits`` digits at column ``start`` of each row (as int64: the
    top digit of a 16-digit field must be below 8)."""
    nib = _HEX[rows[:, start:start + digits]].astype(np.int64)
    if np.any(nib > 15):
        raise ValueError(f"not a hex digit in columns {start}..{start + digits - 1} (X or Z bits?)")
    return (nib << (4 * np.arange(digits - 1, -1, -1, dtype=np.int64))).sum(axis=1)


def parse_sent(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The source's lines "<cycle hex16> <id hex8>": (cycles, ids)."""
    return hex_fields(rows, 0, 16), hex_fields(rows, 17, 8)


_DATA0 = 16 + 1 + 8 + 1 + 1 + 1 + 2 + 1 + 2 + 1    # first column of a sink line's data


def feat_line_width(feat_max: int) -> int:
    """Characters of one sink line, newline included (tb/hdl/lookup_feat_sink.sv)."""
    return _DATA0 + 4 * feat_max + 1


def parse_feats(rows: np.ndarray, feat_max: int) -> BatchResults:
    """The sink's lines: <cycle hex16> <id hex8> <err hex1> <err_table hex2> <err_engine hex2>
    <data: FEAT_MAX 16-bit elements in hex, element 0 last>."""
    n = len(rows)
    nib = _HEX[rows[:, _DATA0:_DATA0 + 4 * feat_max]]
    if np.any(nib > 15):
        raise ValueError(f"{FEAT_LOG}: a feature word that is not hex (X or Z bits?)")
    nib = nib.reshape(n, feat_max, 4).astype(np.uint16)
    words = (nib[:, :, 0] << 12) | (nib[:, :, 1] << 8) | (nib[:, :, 2] << 4) | nib[:, :, 3]
    feats = words.view(np.int16)[:, ::-1].astype(np.int64)      # element 0 is the lowest 16 bits
    return BatchResults(hex_fields(rows, 0, 16), hex_fields(rows, 17, 8), hex_fields(rows, 26, 1),
                        hex_fields(rows, 28, 2), hex_fields(rows, 31, 2), feats)


class BatchStreams:
    """The harness's batch source and sink, as one object the test drives."""

    def __init__(self, dut, mem, t_max: int, feat_max: int, idle_prob: float, stall_prob: float, seed: int):
        self.dut, self.mem, self.t_max, self.feat_max = dut, mem, t_max, feat_max
        self.sent_log, self.feat_log = _LogReader(SENT_LOG, 26), _LogReader(FEAT_LOG, feat_line_width(feat_max))
        self.got_total = 0            # vectors read from the sink's log so far
        self.sent_total = 0           # queries loaded so far
        dut.bq_load.value = 0
        dut.bq_count.value = 0
        dut.bq_idle_thr.value = prob_threshold(idle_prob)
        dut.bq_stall_thr.value = prob_threshold(stall_prob)
        dut.bq_seed.value = seed & (2**64 - 1)
        dut.bq_mode.value = 1

    def taken(self) -> int:
        """Vectors the sink has taken since reset (its counter, no log read)."""
        return int(self.dut.bq_got.value)

    async def send(self, batch: QueryBatch, dog=None, step: int = 1024) -> None:
        """Load the batch (in loads of at most BQ_DEPTH) and return once the source has
        handed every query to the DUT; answers may still be on their way. Sleeps until the
        source is done, waking every ``step`` cycles to kick the watchdog on progress."""
        dut = self.dut
        for lo in range(0, len(batch), BQ_DEPTH):
            part = QueryBatch(batch.qids[lo:lo + BQ_DEPTH], batch.idx[lo:lo + BQ_DEPTH], batch.bad[lo:lo + BQ_DEPTH])
            await self.load(part)
            last = -1
            while int(dut.bq_busy.value):
                sent = int(dut.bq_sent.value)
                if sent != last and dog is not None:
                    last = sent
                    dog.kick()
                await First(FallingEdge(dut.bq_busy), Timer(step * CLK_PERIOD_NS, unit="ns"))
            self.sent_total += len(part)

    async def load(self, part: QueryBatch) -> None:
        """Hand the source one load (at most BQ_DEPTH queries) and return at once."""
        if len(part) > BQ_DEPTH:
            raise ValueError(f"a load of {len(part)} queries: at most BQ_DEPTH={BQ_DEPTH}")
        dut = self.dut
        Path(os.getcwd(), QUERY_FILE).write_text(query_words(part, self.t_max))
        dut.bq_count.value = len(part)
        dut.bq_load.value = 1
        await RisingEdge(dut.clk)
        dut.bq_load.value = 0
        await FallingEdge(dut.clk)

    async def read(self) -> tuple[np.ndarray, np.ndarray, BatchResults]:
        """Everything logged since the last read: (accept cycle, id) of each query sent,
        and the vectors taken."""
        await self.mem.flush_logs()
        cycles, ids = parse_sent(self.sent_log.rows())
        res = parse_feats(self.feat_log.rows(), self.feat_max)
        self.got_total += len(res)
        return cycles, ids, res


async def wait_answers(streams: BatchStreams, total: int, dog, step: int = 64) -> None:
    """Sleep until the sink has taken ``total`` vectors since reset, kicking the watchdog on progress."""
    last = -1
    while True:
        got = streams.taken()
        if got != last:
            last = got
            dog.kick()
        if got >= total:
            return
        await pass_cycles(step)
