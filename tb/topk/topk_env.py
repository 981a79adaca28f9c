"""pyuvm environment for rtl/topk/topk_unit.sv.

One transaction (``TopkRequest``) is a whole request: K and its beats
(score, id, keep), the last one marked last. The driver streams the beats
(optional idle cycles), the monitor collects each answer (optional output
stalls), and the scoreboard compares every answer beat with
``models.topk.unit_answer``, the contract's top-k, written independently of
the RTL. The unit's build (K_MAX, N_MAX) comes from its constant ports.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time
from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
    uvm_env,
    uvm_sequence,
    uvm_sequence_item,
    uvm_sequencer,
    uvm_subscriber,
    uvm_tlm_analysis_fifo,
)

from models.topk import SCORE_MAX, SCORE_MIN, TopkErr, unit_answer
from tb.common.bench import CLK_PERIOD_NS, Watchdog, py_random, test_dir
from tb.common.fcov import Covergroup


@dataclass(frozen=True)
class TopkBuild:
    """The unit's build parameters, as its ports report them."""
    k_max: int
    n_max: int
    id_w: int
    k_w: int


def read_build(dut) -> TopkBuild:
    """The one place the bench learns the build: the DUT's constant ports and widths."""
    return TopkBuild(k_max=int(dut.cap_k_max.value), n_max=int(dut.cap_n_max.value),
                     id_w=len(dut.s_id), k_w=len(dut.s_k))


def knob(name, default):
    try:
        return ConfigDB().get(None, "", name)
    except Exception:  # noqa: BLE001 - pyuvm raises its own type for a missing key
        return default


def cycle_now() -> int:
    return int(get_sim_time("ns")) // CLK_PERIOD_NS


# --------------------------------------------------------------------------
# transaction
# --------------------------------------------------------------------------
class TopkRequest(uvm_sequence_item):
    """K and the request's beats [(score, id, keep)]; the last beat carries s_last."""

    def __init__(self, name="topk_request", k=1, beats=(), kind="random"):
        super().__init__(name)
        self.k = int(k)
        self.beats = [(int(s), int(i), bool(keep)) for s, i, keep in beats]
        self.kind = kind          # the stimulus class, for coverage and messages
        self.idles = 0            # idle cycles the driver inserted inside the request
        self.t_first = None       # cycle its first beat was accepted
        self.t_last_in = None     # cycle its last beat was accepted

    @property
    def candidates(self) -> list[tuple[int, int]]:
        return [(s, i) for s, i, keep in self.beats if keep]

    @property
    def n(self) -> int:
        return len(self.candidates)

    def expected(self, build: TopkBuild):
        c = self.candidates
        return unit_answer([s for s, _ in c], [i for _, i in c], self.k, build.k_max, build.n_max)

    def __str__(self):
        return f"{self.get_name()}({self.kind}, K={self.k}, N={self.n}, beats={len(self.beats)})"


# --------------------------------------------------------------------------
# sequences
# --------------------------------------------------------------------------
class TopkBaseSeq(uvm_sequence):
    """Helpers shared by the stimulus classes; the build comes from ConfigDB."""

    stream = 1

    def setup(self):
        self.build = ConfigDB().get(None, "", "topk_build")
        self.rnd = py_random(self.stream)
        self.count = knob("num_requests", 20)
        self.n_cap = min(knob("n_cap", self.build.n_max), self.build.n_max)

    async def send(self, item: TopkRequest):
        await self.start_item(item)
        await self.finish_item(item)

    def ids_for(self, n: int, style: str = "shuffled") -> list[int]:
        """Candidate ids: positions (a RecPipe request), shuffled positions, or random ids."""
        id_max = (1 << self.build.id_w) - 1
        if style == "random":
            return [self.rnd.randint(0, id_max) for _ in range(n)]
        ids = list(range(n)) if n <= id_max + 1 else [self.rnd.randint(0, id_max) for _ in range(n)]
        if style == "shuffled":
            self.rnd.shuffle(ids)
        return ids

    def request(self, name, k, scores, ids=None, kind="random", null_prob=0.0) -> TopkRequest:
        ids = self.ids_for(len(scores)) if ids is None else ids
        beats = []
        for s, i in zip(scores, ids):
            while self.rnd.random() < null_prob:
                beats.append((self.rnd.randint(SCORE_MIN, SCORE_MAX), self.rnd.randint(0, 255), False))
            beats.append((s, i, True))
        if not beats:
            beats.append((0, 0, False))
        return TopkRequest(name, k, beats, kind)

    def random_scores(self, n: int) -> list[int]:
        style = self.rnd.choice(["full", "full", "narrow", "extreme"])
        if style == "full":
            return [self.rnd.randint(SCORE_MIN, SCORE_MAX) for _ in range(n)]
        if style == "narrow":   # many ties
            return [self.rnd.randint(-3, 3) for _ in range(n)]
        return [self.rnd.choice([SCORE_MIN, SCORE_MIN + 1, -1, 0, 1, SCORE_MAX - 1, SCORE_MAX])
                for _ in range(n)]


class TopkRandomSeq(TopkBaseSeq):
    """Random K <= N, random N, scores full-range, narrow (ties) or extreme; some null beats."""

    async def body(self):
        self.setup()
        b = self.build
        for r in range(self.count):
            n = self.rnd.randint(1, self.n_cap)
            k = self.rnd.randint(1, min(n, b.k_max))
            null = self.rnd.choice([0.0, 0.0, 0.1])
            ids = self.ids_for(n, self.rnd.choice(["shuffled", "positions", "random"]))
            await self.send(self.request(f"random{r}", k, self.random_scores(n), ids, "random", null))


class TopkAllEqualSeq(TopkBaseSeq):
    """Every score equal: the answer is the K lowest ids, so ids arrive shuffled."""

    async def body(self):
        self.setup()
        for r in range(self.count):
            n = self.rnd.randint(1, self.n_cap)
            k = self.rnd.randint(1, min(n, self.build.k_max))
            v = self.rnd.choice([SCORE_MIN, -1, 0, 7, SCORE_MAX])
            await self.send(self.request(f"equal{r}", k, [v] * n, kind="all_equal"))


class TopkSortedSeq(TopkBaseSeq):
    """Ascending scores: every candidate beats all slots (inserts at slot 0)."""

    kind = "ascending"

    def scores(self, n):
        base = self.rnd.randint(SCORE_MIN, SCORE_MAX - 4 * n)
        return [base + 3 * j for j in range(n)]

    async def body(self):
        self.setup()
        for r in range(self.count):
            n = self.rnd.randint(1, self.n_cap)
            k = self.rnd.randint(1, min(n, self.build.k_max))
            s = self.scores(n)
            if self.kind == "descending":
                s = s[::-1]
            await self.send(self.request(f"{self.kind}{r}", k, s, kind=self.kind))


class TopkReverseSortedSeq(TopkSortedSeq):
    """Descending scores: every candidate loses to all slots (appends or drops)."""

    kind = "descending"


class TopkFixedKSeq(TopkBaseSeq):
    """K = 1, K = N, K = K_MAX and N = N_MAX corners (knob ``k_mode``)."""

    async def body(self):
        self.setup()
        b = self.build
        mode = knob("k_mode", "k1")
        for r in range(self.count):
            if mode == "k1":
                n = self.rnd.randint(1, self.n_cap)
                k = 1
            elif mode == "k_eq_n":
                n = self.rnd.randint(1, min(self.n_cap, b.k_max))
                k = n
            elif mode == "k_max":
                n = self.rnd.randint(b.k_max, max(b.k_max, self.n_cap))
                k = b.k_max
            else:  # n_max
                n = b.n_max
                k = self.rnd.choice([1, b.k_max, self.rnd.randint(1, b.k_max)])
            await self.send(self.request(f"{mode}{r}", k, self.random_scores(n), kind=mode))


class TopkErrorSeq(TopkBaseSeq):
    """Each illegal request, each followed by a legal one (the unit recovers)."""

    async def body(self):
        self.setup()
        b = self.build
        k_top = (1 << b.k_w) - 1
        for r in range(max(1, self.count // 6)):
            n = self.rnd.randint(1, min(self.n_cap, b.k_max - 1) if b.k_max > 1 else 1)
            cases = [
                ("k_zero", 0, self.random_scores(n)),
                ("n_zero", self.rnd.randint(1, b.k_max), []),
                ("n_over_max", self.rnd.randint(1, b.k_max), self.random_scores(b.n_max + self.rnd.randint(1, 3))),
                ("k_over_n", n + 1 if n < b.k_max else None, self.random_scores(n)),
            ]
            if b.k_max < k_top:
                cases.append(("k_over_max", self.rnd.randint(b.k_max + 1, min(k_top, b.k_max + 50)),
                              self.random_scores(n)))
            for kind, k, scores in cases:
                if k is None:
                    continue
                req = self.request(f"{kind}{r}", k, scores, kind=kind)
                if kind == "n_zero" and r % 2:   # empty: one null beat, or several
                    req.beats = [(1, 2, False)] * self.rnd.randint(2, 4)
                await self.send(req)
                good_n = self.rnd.randint(1, self.n_cap)
                await self.send(self.request(f"after_{kind}{r}", self.rnd.randint(1, min(good_n, b.k_max)),
                                             self.random_scores(good_n), kind="random"))


class TopkLatencySeq(TopkBaseSeq):
    """The measured cases: N = 1024 with K = 64 and K = 256 (random scores), alone."""

    async def body(self):
        self.setup()
        for k in knob("latency_ks", [64, 256]):
            n = knob("latency_n", 1024)
            await self.send(self.request(f"latency_n{n}_k{k}", k,
                                         [self.rnd.randint(SCORE_MIN, SCORE_MAX) for _ in range(n)],
                                         list(range(n)), kind="latency"))


class TopkAllSeq(TopkBaseSeq):
    """Every stimulus class in one run (what the injected-bug checks use)."""

    async def body(self):
        for cls in (TopkRandomSeq, TopkAllEqualSeq, TopkSortedSeq, TopkReverseSortedSeq, TopkErrorSeq):
            await cls(cls.__name__).start(self.sequencer)


# --------------------------------------------------------------------------
# driver and monitor
# --------------------------------------------------------------------------
class TopkDriver(uvm_driver):
    """Streams each request's beats; idle cycles at random (knob in_idle_prob)."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.idle_prob = knob("in_idle_prob", 0.0)
        self.rnd = py_random(11)
        self.sent = 0

    def idle(self):
        self.dut.s_valid.value = 0

    async def run_phase(self):
        dut = self.dut
        self.idle()
        # a beat offered during reset would look taken (s_ready comes from the state)
        await ConfigDB().get(self, "", "reset_done").wait()
        await FallingEdge(dut.clk)
        while True:
            item = await self.seq_item_port.get_next_item()
            for j, (score, cid, keep) in enumerate(item.beats):
                while self.rnd.random() < self.idle_prob:
                    item.idles += 1
                    self.idle()
                    await FallingEdge(dut.clk)
                dut.s_score.value = score & 0xFFFFFFFF
                dut.s_id.value = cid
                dut.s_keep.value = int(keep)
                dut.s_last.value = int(j == len(item.beats) - 1)
                dut.s_k.value = item.k
                dut.s_valid.value = 1
                while True:
                    await ReadOnly()
                    taken = bool(int(dut.s_ready.value))
                    await FallingEdge(dut.clk)
                    if taken:   # valid and ready mid-cycle: taken at the edge in between
                        break
                if j == 0:
                    item.t_first = cycle_now()
                item.t_last_in = cycle_now()
            self.idle()
            self.sent += 1
            self.ap.write(item)
            self.seq_item_port.item_done()


class TopkAnswerMonitor(uvm_component):
    """Takes answer beats (stalling m_ready at random, knob out_stall_prob) and
    publishes each whole answer: {beats: [(score, id, err, last)], t_first, t_last}."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.stall_prob = knob("out_stall_prob", 0.0)
        self.rnd = py_random(12)
        self.count = 0
        self.stalls = 0

    async def run_phase(self):
        dut = self.dut
        dut.m_ready.value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        await FallingEdge(dut.clk)
        beats, t_first, stalled = [], None, 0
        while True:
            if not int(dut.m_valid.value):
                dut.m_ready.value = 0
                await RisingEdge(dut.m_valid)
                await FallingEdge(dut.clk)
            ready = self.rnd.random() >= self.stall_prob
            dut.m_ready.value = int(ready)
            if not ready:
                stalled += 1
                await FallingEdge(dut.clk)
                continue
            await ReadOnly()
            beat = (dut.m_score.value.to_signed(), int(dut.m_id.value), int(dut.m_err.value),
                    bool(int(dut.m_last.value)))
            await FallingEdge(dut.clk)
            if t_first is None:
                t_first = cycle_now()
            beats.append(beat)
            if beat[3]:
                self.count += 1
                self.stalls += stalled
                self.ap.write({"beats": beats, "t_first": t_first, "t_last": cycle_now(),
                               "stalled": stalled})
                beats, t_first, stalled = [], None, 0


# --------------------------------------------------------------------------
# scoreboard and coverage
# --------------------------------------------------------------------------
class TopkScoreboard(uvm_component):
    """Pairs answers with requests in order; every beat must equal models.topk.unit_answer."""

    def build_phase(self):
        self.sent_fifo = uvm_tlm_analysis_fifo("sent_fifo", self)
        self.answer_fifo = uvm_tlm_analysis_fifo("answer_fifo", self)
        self.sent_export = self.sent_fifo.analysis_export
        self.answer_export = self.answer_fifo.analysis_export
        self.checked_ap = uvm_analysis_port("checked_ap", self)
        self.checked = 0
        self.mismatches: list[str] = []
        self.latencies: list[dict] = []
        self.progress = None   # a Watchdog, kicked per answer

    def outstanding(self) -> str:
        return f"{self.sent_fifo.used()} requests sent and not answered, {self.checked} checked"

    async def run_phase(self):
        build = ConfigDB().get(None, "", "topk_build")
        while True:
            got = await self.answer_fifo.get()
            if self.progress:
                self.progress.kick()
            ok, item = self.sent_fifo.try_get()
            if not ok:
                self.mismatches.append(f"MISMATCH answer #{self.checked} with no request sent: "
                                       f"{got['beats'][:4]}")
                continue
            exp = item.expected(build)
            want = exp.beats()
            diffs = []
            if len(want) != len(got["beats"]):
                diffs.append(f"{len(want)} beats expected, got {len(got['beats'])}")
            for j, (w, g) in enumerate(zip(want, got["beats"])):
                if w != g:
                    diffs.append(f"beat {j}: expected (score, id, err, last) {w} got {g}")
                    if len(diffs) >= 4:
                        break
            if diffs:
                msg = f"MISMATCH request #{self.checked} {item}: " + "; ".join(diffs)
                self.logger.error(msg)
                self.mismatches.append(msg)
            self.latencies.append({"request": item.get_name(), "k": item.k, "n": item.n,
                                   "beats_in": len(item.beats), "err": int(exp.err),
                                   "cycles": got["t_last"] - item.t_first + 1,
                                   "in_to_out": got["t_first"] - item.t_last_in,
                                   "stalled": got["stalled"], "idles": item.idles})
            self.checked += 1
            self.checked_ap.write((item, exp, got))

    def check_phase(self):
        assert not self.mismatches, f"{len(self.mismatches)} mismatches, first: {self.mismatches[0]}"
        leftover = self.sent_fifo.used()
        assert leftover == 0, f"{leftover} requests sent but never answered"
        assert self.checked > 0, "scoreboard checked nothing"
        self.logger.info(f"scoreboard: {self.checked} answers matched models.topk")

    def report_phase(self):
        with open(f"{test_dir()}/scoreboard.json", "w") as fh:
            json.dump({"checked": self.checked, "mismatches": len(self.mismatches),
                       "first_mismatch": self.mismatches[0] if self.mismatches else None,
                       "latencies": self.latencies}, fh, indent=1)


class TopkCoverage(uvm_subscriber):
    """What the stimulus reached, in bins declared up front."""

    def build_phase(self):
        self.cg = Covergroup("topk")
        self.cg.point("k", ["1", "2..k_max-1", "k_max"], "K of legal requests")
        self.cg.point("n", ["1", "2..k_max", "above_k_max", "n_max"], "N of legal requests")
        self.cg.point("k_vs_n", ["k_lt_n", "k_eq_n"], "K against N, legal requests")
        self.cg.point("err", [e.name.lower() for e in TopkErr], "answer kinds")
        self.cg.point("pattern", ["random", "all_equal", "ascending", "descending", "ties_in_answer"],
                      "score patterns")
        self.cg.point("extremes", ["int32_min", "int32_max"], "extreme scores among the candidates")
        self.cg.point("null_beats", ["none", "some"], "null beats (s_keep = 0) in a request")
        self.cg.point("input", ["back_to_back", "with_idles"], "input beat spacing")
        self.cg.point("output", ["no_stall", "stalled"], "output backpressure on the answer")

    def write(self, tup):
        item, exp, got = tup
        build = ConfigDB().get(None, "", "topk_build")
        self.cg.sample("err", exp.err.name.lower())
        if exp.err == TopkErr.NONE:
            k, n = item.k, item.n
            self.cg.sample("k", "1" if k == 1 else "k_max" if k == build.k_max else "2..k_max-1")
            self.cg.sample("n", "n_max" if n == build.n_max else "1" if n == 1
                           else "2..k_max" if n <= build.k_max else "above_k_max")
            self.cg.sample("k_vs_n", "k_eq_n" if k == n else "k_lt_n")
            if len(set(exp.scores)) < len(exp.scores):
                self.cg.sample("pattern", "ties_in_answer")
        if item.kind in ("random", "all_equal", "ascending", "descending"):
            self.cg.sample("pattern", item.kind)
        scores = {s for s, _ in item.candidates}
        if SCORE_MIN in scores:
            self.cg.sample("extremes", "int32_min")
        if SCORE_MAX in scores:
            self.cg.sample("extremes", "int32_max")
        self.cg.sample("null_beats", "some" if item.n < len(item.beats) else "none")
        self.cg.sample("input", "with_idles" if item.idles else "back_to_back")
        self.cg.sample("output", "stalled" if got["stalled"] else "no_stall")

    def report_phase(self):
        self.cg.report(self.logger)


# --------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------
class TopkEnv(uvm_env):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        ConfigDB().set(None, "*", "SEQR", self.seqr)
        self.driver = TopkDriver.create("driver", self)
        self.monitor = TopkAnswerMonitor.create("monitor", self)
        self.scoreboard = TopkScoreboard.create("scoreboard", self)
        self.coverage = TopkCoverage.create("coverage", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.ap.connect(self.scoreboard.sent_export)
        self.monitor.ap.connect(self.scoreboard.answer_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)

    def watchdog(self, clk, limit: int) -> Watchdog:
        wd = Watchdog(clk, limit, self.scoreboard.outstanding, "topk watchdog").start()
        self.scoreboard.progress = wd
        return wd
