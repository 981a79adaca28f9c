"""Transactions and sequences of the top-k bench: one request (K and its beats);
random, all-equal, sorted, reverse-sorted, fixed-K, illegal and latency requests."""
from __future__ import annotations

from dataclasses import dataclass

from cocotb.utils import get_sim_time
from pyuvm import (
    ConfigDB,
    uvm_sequence,
    uvm_sequence_item,
)

from models.topk import SCORE_MAX, SCORE_MIN, unit_answer
from tb.common.clock_reset import CLK_PERIOD_NS
from tb.common.config_db import knob
from tb.common.seeding import py_random



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
        self.beat_k = None        # s_k of each beat (None: K on every beat); only the first counts
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


class TopkKChangesSeq(TopkBaseSeq):
    """s_k changes after a request's first beat (contracts s.10.2: K is the first beat's
    s_k, later beats' is ignored): later beats carry random K values, 0, K_MAX + 1, the
    all-ones K, values above N; some requests start with an illegal K and go on with
    legal ones (the first beat's error must be answered). Requests of one beat and of
    null beats only are mixed in, and consecutive requests use different K."""

    async def body(self):
        self.setup()
        b = self.build
        k_top = (1 << b.k_w) - 1
        noise = [0, 1, b.k_max, min(k_top, b.k_max + 1), k_top]
        for r in range(self.count):
            n = self.rnd.randint(2, self.n_cap)
            if r % 5 == 4:   # first beat illegal (0 or over K_MAX), the rest legal
                k = self.rnd.choice([0, min(k_top, b.k_max + 1)])
            else:
                k = self.rnd.randint(1, min(n, b.k_max))
            req = self.request(f"k_changes{r}", k, self.random_scores(n), kind="k_changes",
                               null_prob=self.rnd.choice([0.0, 0.2]))
            later = [self.rnd.choice(noise + [self.rnd.randint(0, k_top), self.rnd.randint(1, min(n, b.k_max))])
                     for _ in req.beats[1:]]
            if r % 5 == 4:
                later = [self.rnd.randint(1, min(n, b.k_max)) for _ in req.beats[1:]]
            # the last beat's K always differs from the first's: a unit that took it is seen
            later[-1] = (k + 1 + self.rnd.randint(0, 2)) % (k_top + 1) if later[-1] == k else later[-1]
            req.beat_k = [k] + later
            await self.send(req)


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
