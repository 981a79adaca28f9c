"""Stimulus of the interaction bench: configuration groups of queries.

A *group* is one configuration (mode, n, d, flen, F) and its queries; the
expected R of every query comes from ``models.dlrm.interact`` on a
``ModelConfig`` that has exactly that shape, so the bench never computes an
expected value itself. Query kinds:

- ``random``: int16 anywhere;
- ``small``: |v| < 64 (no saturation, every rounding case);
- ``half``: every element odd times 2^a, the exponents chosen so the products
  carry 2^(F-1) and an odd number of them are summed: each dot product (all
  of them for odd F, those with x for even F) lands exactly on .5 after the
  shift, both signs;
- ``sat``: +-32767 / -32768 everywhere: every pair saturates, both ways;
- ``boundary``: x = (2^F, 2^(F-1), 0..) against tables starting
  (+32767 | -32768, -2..2): Z one either side of the int16 limits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from cocotb.utils import get_sim_time
from pyuvm import ConfigDB, uvm_sequence, uvm_sequence_item

from models.config import MAX_DIM, ModelConfig, TableConfig
from models.dlrm import interact
from tb.common.clock_reset import CLK_PERIOD_NS
from tb.common.seeding import rng

KINDS = ("random", "small", "half", "sat", "boundary")


def cycle_now() -> int:
    return int(get_sim_time("ns")) // CLK_PERIOD_NS


@dataclass(frozen=True)
class GroupCfg:
    dot: bool
    n: int          # dot: tables
    d: int          # x length (dot: every vector's d)
    flen: int       # concat: pooled elements (dot: n * d)
    frac_bits: int

    @property
    def r_len(self) -> int:
        return self.d + (self.n * (self.n + 1) // 2 if self.dot else self.flen)

    def model(self) -> ModelConfig:
        """A model with exactly this interaction shape (only interact() reads it)."""
        if self.dot:
            tables = [TableConfig(f"t{t}", 16, self.d, "onchip") for t in range(self.n)]
        else:
            dims = [min(MAX_DIM, self.flen - o) for o in range(0, self.flen, MAX_DIM)]
            tables = [TableConfig(f"t{t}", 16, dim, "onchip") for t, dim in enumerate(dims)]
        return ModelConfig(f"ia_{'dot' if self.dot else 'cat'}_n{self.n}_d{self.d}", tables, [1],
                           frac_bits=self.frac_bits, dense=1 if self.d else 0,
                           bottom_mlp=[self.d] if self.d else [],
                           interaction="dot" if self.dot else "concat")

    def issue_cycles(self, dot_lanes: int, feat_lanes: int) -> int:
        """Contract s.9.4: cycles a query holds the issue stage (capture included)."""
        if self.dot:
            return (1 + -(-self.d // feat_lanes)
                    + self.n * (self.n + 1) // 2 * -(-self.d // dot_lanes))
        return 1 + -(-(self.d + self.flen) // feat_lanes)


class InterQuery(uvm_sequence_item):
    def __init__(self, name="query", cfg: GroupCfg | None = None, qid=0, kind="random",
                 x=None, pooled=None, r=None, acc=None):
        super().__init__(name)
        self.cfg, self.qid, self.kind = cfg, qid, kind
        self.x, self.pooled, self.r, self.acc = x, pooled, r, acc
        self.t_in = None        # cycle the query was taken
        self.idles = 0          # idle cycles the driver put before it

    def __str__(self):
        c = self.cfg
        return (f"query {self.qid} ({self.kind}, {'dot' if c.dot else 'concat'} n={c.n} d={c.d} "
                f"flen={c.flen} F={c.frac_bits})")


def _odd(g, exp: int, size) -> np.ndarray:
    """Odd numbers times 2^exp, |v| < 2^15."""
    lim = max(0, (32767 >> exp) - 1) // 2
    o = 2 * g.integers(-lim - 1, lim + 1, size=size) + 1
    return o << exp


def draw_vectors(g: np.random.Generator, cfg: GroupCfg, kind: str, b: int):
    """(x [b, d], pooled [b, n*d or flen]) int64 for one kind."""
    d, f = cfg.d, cfg.frac_bits
    plen = cfg.n * d if cfg.dot else cfg.flen
    if kind == "random":
        return g.integers(-32768, 32768, (b, d)), g.integers(-32768, 32768, (b, plen))
    if kind == "small":
        return g.integers(-64, 64, (b, d)), g.integers(-64, 64, (b, plen))
    if kind == "sat":
        x = g.choice([32767, -32768], (b, d))
        return x, g.choice([32767, -32768], (b, plen))
    if kind == "half":
        # exponents a_x + a_t = F - 1 (pairs with x) and, for odd F, a_t + a_t = F - 1 too
        a_t = (f - 1) // 2
        a_x = f - 1 - a_t
        x, p = _odd(g, a_x, (b, d)), _odd(g, a_t, (b, plen))
        if d % 2 == 0:      # an odd count of odd products: drop the last element
            x[:, d - 1] = 0
            if cfg.dot:
                p.reshape(b, cfg.n, d)[:, :, d - 1] = 0
        return x, p
    if kind == "boundary":
        x = np.zeros((b, d), dtype=np.int64)
        x[:, 0] = 1 << f
        if d >= 2:
            x[:, 1] = 1 << (f - 1)
        p = g.integers(-64, 64, (b, plen))
        if cfg.dot:
            v = p.reshape(b, cfg.n, d)
            v[:, :, 0] = g.choice([32767, -32768, 32766, -32767], (b, cfg.n))
            if d >= 2:
                v[:, :, 1] = g.integers(-2, 3, (b, cfg.n))
        return x, p
    raise ValueError(f"kind: unknown {kind!r}")


def make_group(cfg: GroupCfg, kinds: list[str], first_qid: int, stream: int) -> list[InterQuery]:
    g = rng(stream)
    xs, ps, ks = [], [], []
    for kind in kinds:
        x, p = draw_vectors(g, cfg, kind, 1)
        xs.append(x)
        ps.append(p)
        ks.append(kind)
    x, p = np.concatenate(xs), np.concatenate(ps)
    r, acc = interact(cfg.model(), x, p)
    return [InterQuery(f"q{first_qid + q}", cfg, first_qid + q, ks[q], x[q], p[q], r[q],
                       None if acc is None else acc[q]) for q in range(len(kinds))]


@dataclass
class Plan:
    """What a sequence sends: groups of (config, kinds)."""
    groups: list = field(default_factory=list)


def build_info():
    return ConfigDB().get(None, "", "ia_build")


class InterBaseSeq(uvm_sequence):
    """Sends the groups of ``plan()``; subclasses say which."""

    stream = 100

    def plan(self, build, queries: int) -> list[tuple[GroupCfg, list[str]]]:
        raise NotImplementedError

    async def body(self):
        build = build_info()
        queries = ConfigDB().get(None, "", "ia_queries")
        qid = 0
        for gi, (cfg, kinds) in enumerate(self.plan(build, queries)):
            for item in make_group(cfg, kinds, qid, self.stream + gi):
                await self.start_item(item)
                await self.finish_item(item)
            qid += len(kinds)


def _rand_cfg(g, build, dot: bool) -> GroupCfg:
    f = int(g.integers(1, 15))
    if dot:
        n = int(g.integers(1, build.N_MAX + 1))
        d = int(g.integers(1, min(build.D_MAX, build.POOL_MAX // n) + 1))
        return GroupCfg(True, n, d, n * d, f)
    d = int(g.integers(0, build.D_MAX + 1))
    return GroupCfg(False, 0, d, int(g.integers(1, build.POOL_MAX + 1)), f)


class InterRandomSeq(InterBaseSeq):
    """Random dot shapes (with n >= 3 in most, so pair order matters), each kind mixed in."""

    stream = 200

    def plan(self, build, queries):
        g = rng(self.stream)
        out = []
        for _ in range(4):
            cfg = _rand_cfg(g, build, True)
            out.append((cfg, list(g.choice(KINDS, queries // 4))))
        return out


class InterEdgeSeq(InterBaseSeq):
    """n and d at 1 and at the build maximum, every F class, the edge kinds."""

    stream = 300

    def plan(self, build, queries):
        nmax = min(build.N_MAX, build.POOL_MAX // build.D_MAX)
        shapes = [(1, 1), (1, build.D_MAX), (nmax, 1), (nmax, build.D_MAX), (3, 2)]
        out = []
        per = max(len(KINDS), queries // len(shapes))
        for s, (n, d) in enumerate(shapes):
            for f in (1, 14, 7 + s % 2):
                kinds = [KINDS[k % len(KINDS)] for k in range(per)]
                out.append((GroupCfg(True, n, d, n * d, f), kinds))
        return out


class InterConcatSeq(InterBaseSeq):
    """concat: x of 0, 1, D_MAX elements (and random), pooled of 1, POOL_MAX (and random)."""

    stream = 400

    def plan(self, build, queries):
        g = rng(self.stream)
        shapes = [(0, 1), (0, build.POOL_MAX), (build.D_MAX, build.POOL_MAX), (1, 1),
                  (build.D_MAX, 1)]
        shapes += [(int(g.integers(0, build.D_MAX + 1)), int(g.integers(1, build.POOL_MAX + 1)))
                   for _ in range(3)]
        per = max(2, queries // len(shapes))
        return [(GroupCfg(False, 0, d, fl, int(g.integers(1, 15))), ["random", "small"] * (per // 2))
                for d, fl in shapes]


class InterCycleSeq(InterBaseSeq):
    """A few shapes, several queries each: the bench measures the issue period."""

    stream = 500

    def plan(self, build, queries):
        nmax = min(build.N_MAX, build.POOL_MAX // build.D_MAX)
        shapes = [GroupCfg(True, nmax, build.D_MAX, nmax * build.D_MAX, 8),
                  GroupCfg(True, 1, 1, 1, 3),
                  GroupCfg(True, min(3, nmax), build.D_MAX - 1, min(3, nmax) * (build.D_MAX - 1), 5),
                  GroupCfg(False, 0, build.D_MAX, build.POOL_MAX, 8),
                  GroupCfg(False, 0, 0, 1, 8)]
        return [(cfg, ["small"] * 4) for cfg in shapes]


class InterAllSeq(InterBaseSeq):
    """Edges, random and concat in one run (the injected-bug checks)."""

    stream = 600

    def plan(self, build, queries):
        return (InterEdgeSeq.plan(self, build, queries) + InterRandomSeq.plan(self, build, queries)
                + InterConcatSeq.plan(self, build, queries))
