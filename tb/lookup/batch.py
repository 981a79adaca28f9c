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

QUERY_FILE = "lookup_batch_queries.bin"   # tb/hdl/lookup_query_src.sv QUERY_FILE
SENT_LOG = "lookup_batch_sent.bin"        # tb/hdl/lookup_query_src.sv LOG_FILE
FEAT_LOG = "lookup_batch_feats.bin"       # tb/hdl/lookup_feat_sink.sv LOG_FILE
BQ_DEPTH = 1024                           # tb/hdl/lookup_tb_top.sv BQ_DEPTH (queries per load)


def prob_threshold(p: float) -> int:
    """A probability as the SV side's 32-bit threshold (a draw below it fires)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"probability {p}: must be in [0, 1)")
    return min(int(round(p * 2**32)), 2**32 - 1)


def query_words(batch: QueryBatch, t_max: int) -> bytes:
    """The source's query file ($fread): one word per query, {indices (table 0 lowest), id},
    4 * (t_max + 1) bytes, most significant byte first."""
    n, t = batch.idx.shape
    if t > t_max:
        raise ValueError(f"queries have {t} tables, the build's T_MAX is {t_max}")
    words = np.zeros((n, t_max + 1), dtype=">u4")          # most significant 32 bits first
    words[:, t_max - t:t_max] = batch.idx[:, ::-1] & 0xFFFFFFFF   # ..., table 1, table 0
    words[:, t_max] = batch.qids & 0xFFFFFFFF                   # the id: the lowest 32 bits
    return words.tobytes()


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


SENT_REC = np.dtype([("cycle", "<u8"), ("id", "<u4")])       # tb/hdl/lookup_query_src.sv log record
FEAT_MARK = 0xA5                                             # top byte of a sink record's third word


def feat_record(feat_max: int) -> np.dtype:
    """One record of the sink's log (tb/hdl/lookup_feat_sink.sv): $fwrite %u pads each
    field to whole 4-byte words, little endian."""
    pad = -(2 * feat_max) % 4
    fields = [("cycle", "<u8"), ("id", "<u4"), ("err", "u1"), ("err_table", "u1"), ("err_engine", "u1"),
              ("mark", "u1"), ("data", "<i2", (feat_max,))]
    return np.dtype(fields + ([("pad", "u1", (pad,))] if pad else []))


class _LogReader:
    """Incremental reader of a binary log the simulator appends fixed-size records to
    (after a flush): the records written since the last call, as a structured array."""

    def __init__(self, name: str, record: np.dtype):
        self.path = Path(os.getcwd()) / name
        self.record = record
        self.pos = 0

    def records(self) -> np.ndarray:
        if not self.path.exists():
            return np.zeros(0, dtype=self.record)
        with open(self.path, "rb") as fh:
            fh.seek(self.pos)
            data = fh.read()
        n = len(data) // self.record.itemsize     # a partial last record waits for the next read
        self.pos += n * self.record.itemsize
        return np.frombuffer(data, dtype=self.record, count=n)


def parse_feats(rec: np.ndarray) -> BatchResults:
    """The sink's records as arrays; a record out of step (marker byte wrong) is a bench fault."""
    bad = np.nonzero(rec["mark"] != FEAT_MARK)[0]
    if len(bad):
        raise ValueError(f"{FEAT_LOG}: record {int(bad[0])} has marker {int(rec['mark'][bad[0]]):#x}, "
                         f"not {FEAT_MARK:#x} (record size {rec.dtype.itemsize} bytes out of step?)")
    i64 = lambda name: rec[name].astype(np.int64)  # noqa: E731
    return BatchResults(i64("cycle"), i64("id"), i64("err"), i64("err_table"), i64("err_engine"),
                        rec["data"].astype(np.int64))


class BatchStreams:
    """The harness's batch source and sink, as one object the test drives."""

    def __init__(self, dut, mem, t_max: int, feat_max: int, idle_prob: float, stall_prob: float, seed: int):
        self.dut, self.mem, self.t_max, self.feat_max = dut, mem, t_max, feat_max
        self.sent_log, self.feat_log = _LogReader(SENT_LOG, SENT_REC), _LogReader(FEAT_LOG, feat_record(feat_max))
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
        Path(os.getcwd(), QUERY_FILE).write_bytes(query_words(part, self.t_max))
        dut.bq_count.value = len(part)
        dut.bq_load.value = 1
        await RisingEdge(dut.clk)
        dut.bq_load.value = 0
        await FallingEdge(dut.clk)

    async def read(self) -> tuple[np.ndarray, np.ndarray, BatchResults]:
        """Everything logged since the last read: (accept cycle, id) of each query sent,
        and the vectors taken."""
        await self.mem.flush_logs()
        sent = self.sent_log.records()
        res = parse_feats(self.feat_log.records())
        self.got_total += len(res)
        return sent["cycle"].astype(np.int64), sent["id"].astype(np.int64), res


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
