"""RecPipe host driver on the accelerator top (docs/contracts.md s.10.6): two resident
MLP models side by side, stage by stage through the top-k unit of a TOPK = 1 build.

API (cocotb coroutines; no pyuvm needed, so a `make sim PIPELINE=recpipe` bench can use it):

    beats = BeatQueue(dut)                 # result beats as taken: a sink that drives
    await beats.start(stall_prob, rnd)     #   m_result_ready itself (or feed beats.take()
                                           #   from an existing monitor: BeatQueue(dut, own_sink=False))
    drv = RecPipeDriver(host, beats)       # host: tb.host.microrec_host.MicrorecHost
    await drv.load_models(rank, filt)      # models.recpipe.RecModel x 2: tables of rank.cfg placed,
                                           #   both models' weights in one image (ranker at 0, the
                                           #   filter after it, per bank), DMA'd, committed
    ans = await drv.run_request(indices, k_keep, top_k)   # indices [N, T] (models.recpipe
                                           #   request_queries); stage 1 filter + top k_keep,
                                           #   stage 2 ranker over the survivors + top top_k
    ans.ids, ans.scores                    # final answer, best first (candidate positions)
    ans.stages[0], ans.stages[1]           # StageRun: ids, scores, err (the unit's code, 0 ok),
                                           #   t_first_sent, t_last_answer (hbm_cycle of the first
                                           #   query's handshake / the last answer beat's),
                                           #   mlp_busy, mlp_idle (PERF_MLP_* over the stage,
                                           #   read before the first query and after the answer)
    ans.bubble                             # cycles from stage 1's last answer beat to stage 2's
                                           #   first query (the model switch: MLP idle)

Lower level: ``select(name)`` programs a loaded model's shape and MLP_WBASE / MLP_BBASE;
``set_k(k)`` writes TOPK_CTRL; ``run_stage(rows, ids, k, nulls=...)`` sends one top-k
request (query id = candidate id | bit 31 on the last | bit 30 on a null query; a request of
no candidate is one null query) and returns its StageRun. The host changes models and K
only while STATUS.busy is low: the driver waits for it before each switch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cocotb
from cocotb.queue import Queue
from cocotb.triggers import ClockCycles

from tb.agents.query_agent import offer_query
from tb.common.stream_sink import StreamSink
from tb.host.microrec_host import DMA_BIASES, DMA_WEIGHTS, MicrorecHost, pack_words
from models.placement import TABLE_ALIGN
from tb.mlp.mlp_layout import ModelImages, ceil_div, combined_images

LAST = 1 << 31        # query id bit 31: the request's last query
NULL = 1 << 30        # query id bit 30: a placeholder, not a candidate


class BeatQueue:
    """Result beats as they are taken from m_result, in order, with the cycle
    (``hbm_cycle``) each was taken in. ``own_sink``: drive m_result_ready here (a
    StreamSink with ``stall_prob``); else a monitor calls ``take()`` at each handshake."""

    def __init__(self, dut, own_sink: bool = True):
        self.dut = dut
        self.q: Queue = Queue()
        self.own_sink = own_sink
        self.sink = None
        self.count = 0

    async def start(self, stall_prob: float = 0.0, rnd=None) -> None:
        if self.own_sink:
            import random
            dut = self.dut
            self.sink = StreamSink(dut.clk, dut.m_result_valid, dut.m_result_ready, dut.rst_n, stall_prob,
                                   rnd or random.Random(0))
            cocotb.start_soon(self.sink.run(self.take))

    def take(self) -> None:
        """At the falling edge before the handshake (the monitors' convention)."""
        dut = self.dut
        self.count += 1
        self.q.put_nowait({"qid": int(dut.m_result_id.value), "logit": dut.m_result_logit.value.to_signed(),
                           "err": int(dut.m_result_err.value), "err_table": int(dut.m_result_err_table.value),
                           "err_engine": int(dut.m_result_err_engine.value), "cycle": int(dut.hbm_cycle.value)})

    def put(self, beat: dict) -> None:
        """For a monitor that already built the record."""
        self.count += 1
        self.q.put_nowait(beat)

    async def get(self) -> dict:
        return await self.q.get()

    def empty(self) -> bool:
        return self.q.empty()


@dataclass
class StageRun:
    """One top-k request through the accelerator (one stage)."""
    model: str
    n: int                       # queries sent (null ones included)
    k: int
    ids: list = field(default_factory=list)      # answer candidate ids, best first
    scores: list = field(default_factory=list)   # their logits
    err: int = 0                 # the unit's code (1..5) of an ERR_TOPK answer, else 0
    beats: list = field(default_factory=list)    # the raw answer beats
    passed: list = field(default_factory=list)   # beats that were not top-k answers (ERR_BAD_CONFIG)
    t_first_sent: int = 0
    t_last_answer: int = 0
    mlp_busy: int = 0
    mlp_idle: int = 0

    @property
    def cycles(self) -> int:
        return self.t_last_answer - self.t_first_sent + 1


@dataclass
class RecPipeAnswer:
    ids: list
    scores: list
    stages: list

    @property
    def bubble(self) -> int:
        return self.stages[1].t_first_sent - self.stages[0].t_last_answer if len(self.stages) > 1 else 0


class RecPipeDriver:
    def __init__(self, host: MicrorecHost, beats: BeatQueue, in_idle: float = 0.0, rnd=None):
        self.host = host
        self.dut = host.dut
        self.csr = host.csr
        self.beats = beats
        self.in_idle = in_idle
        self.rnd = rnd
        self.models: dict = {}           # name -> RecModel
        self.offsets: dict = {}          # name -> (MLP_WBASE, MLP_BBASE)
        self.images: ModelImages | None = None
        self.current: str | None = None
        self.k: int | None = None

    # ------------------------------------------------------------------ loading
    async def load_models(self, rank, filt, names=("ranker", "filter")) -> ModelImages:
        """Place the tables (ranker's config; the filter reads the same tables), load the
        ranker as usual, then DMA one image holding both models (ranker's words at 0, the
        filter's after them in every bank); commit. Leaves the ranker selected."""
        host, lb, eb = self.host, self.host.build.lookup, self.host.build.mlp
        if filt.cfg.tables != rank.cfg.tables:
            raise ValueError(f"filter {filt.name!r} does not read the tables of {rank.name!r}")
        await host.load_model(rank.cfg, weights=rank.weights)
        self.images = combined_images(eb, [(rank.weights, None), (filt.weights, None)])
        wbytes = pack_words([w for bank in self.images.weights for w in bank],
                            ceil_div(eb.U * 16, lb.data_w) * lb.word_bytes)
        bbytes = pack_words([w for bank in self.images.biases for w in bank], lb.word_bytes)
        wbeat = ceil_div(eb.U * 16, lb.data_w) * lb.word_bytes
        end = max(src + words * nbanks * (wbeat if target == DMA_WEIGHTS else lb.word_bytes)
                  for target, _, src, words, nbanks in host.dma_plan)
        addr = -(-end // TABLE_ALIGN) * TABLE_ALIGN + TABLE_ALIGN
        for target, data, words in ((DMA_WEIGHTS, wbytes, self.images.n_w), (DMA_BIASES, bbytes, self.images.n_b)):
            await host.mem.bulk_load(host.image_channel, addr, data)
            await host.dma(addr, target, words, eb.P)
            addr += -(-len(data) // TABLE_ALIGN) * TABLE_ALIGN
        for name, model, off in zip(names, (rank, filt), self.images.offsets):
            self.models[name] = model
            self.offsets[name] = off
        self.current = names[0]
        await self.write_bases(*self.offsets[names[0]])
        await host.check_config()
        return self.images

    async def write_bases(self, wbase: int, bbase: int) -> None:
        await self.csr.write("MLP_WBASE", wbase)
        await self.csr.write("MLP_BBASE", bbase)

    async def select(self, name: str) -> None:
        """Switch the MLP to a loaded model: its shape, F and offsets (STATUS.busy low)."""
        if name == self.current:
            return
        await self.host.wait_status("busy", 0)
        m = self.models[name]
        await self.host.program_mlp(m.cfg)
        await self.write_bases(*self.offsets[name])
        self.host.cfg, self.host.weights = m.cfg, m.weights
        self.current = name

    async def set_k(self, k: int, enable: bool = True) -> None:
        if (k, enable) == (self.k, True):
            return
        await self.host.wait_status("busy", 0)
        await self.csr.write_fields("TOPK_CTRL", enable=int(enable), k=int(k))
        self.k = int(k) if enable else None

    # ------------------------------------------------------------------ traffic
    async def send(self, rows, qids) -> int:
        """Queries in order; returns the cycle the first was accepted in."""
        first = None
        for row, qid in zip(rows, qids):
            t = await offer_query(self.dut, qid, row, self.in_idle, self.rnd)
            first = t if first is None else first
        return first

    async def run_stage(self, rows, ids, k: int | None = None, model: str | None = None,
                        nulls=()) -> StageRun:
        """One top-k request: query j carries rows[j] and candidate id ids[j], bit 31 on the
        last, bit 30 on the positions in ``nulls`` (a request of no candidate: one
        placeholder row with ``nulls=(0,)``). ``model`` / ``k``: switch first. Waits for the
        whole answer (K beats up to the one with bit 31, or one ERR_TOPK beat; with the top-k
        off or under an illegal configuration, one passing result per query)."""
        if model is not None:
            await self.select(model)
        if k is not None:
            await self.set_k(k)
        n = len(rows)
        qids = [(int(i) & 0xFFFF) | (NULL if j in nulls else 0) | (LAST if j == n - 1 else 0)
                for j, i in enumerate(ids)]
        run = StageRun(self.current, n, self.k or 0)
        run.mlp_busy = -await self.csr.read_perf("mlp_busy")
        run.mlp_idle = -await self.csr.read_perf("mlp_idle")
        sender = cocotb.start_soon(self.send(rows, qids))
        while True:
            b = await self.beats.get()
            run.beats.append(b)
            if b["err"] == 8:                                    # ERR_TOPK: the request was illegal
                run.err = b["err_table"]
                break
            if b["err"] or not self.k:
                run.passed.append(b)                             # not a top-k answer (bypass)
                if len(run.passed) == n:
                    break
                continue
            run.ids.append(b["qid"] & 0xFFFF)
            run.scores.append(b["logit"])
            if b["qid"] & LAST:
                break
        run.t_last_answer = run.beats[-1]["cycle"]
        run.t_first_sent = await sender
        run.mlp_busy += await self.csr.read_perf("mlp_busy")
        run.mlp_idle += await self.csr.read_perf("mlp_idle")
        return run

    async def run_request(self, indices, k_keep: int, top_k: int, filter_name: str = "filter",
                          ranker_name: str = "ranker") -> RecPipeAnswer:
        """Stage 1: the filter over all N candidates (ids 0..N-1), top k_keep; stage 2: the
        ranker over the survivors (their rows, ids = their positions), top top_k."""
        rows = [list(r) for r in indices]
        s1 = await self.run_stage(rows, range(len(rows)), k_keep, filter_name)
        if s1.err:
            return RecPipeAnswer([], [], [s1])
        s2 = await self.run_stage([rows[i] for i in s1.ids], s1.ids, top_k, ranker_name)
        return RecPipeAnswer(s2.ids, s2.scores, [s1, s2])

    async def idle(self, cycles: int = 8) -> None:
        await ClockCycles(self.dut.clk, cycles)
