"""Query sequences: uniform, Zipf-skewed, edge rows, and bad indices.

Every sequence reads the model from the knob ``model_cfg`` and the count from
``num_queries``, and continues the test's query numbering (``first_qid``), so
tests can run several sequences back to back with unique ids.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.random  # noqa: F401  (numpy loads it lazily: here, not inside a timed window)
from pyuvm import ConfigDB, uvm_sequence

from models.queries import uniform_queries, zipf_queries
from tb.agents.query_agent import QueryItem, query_id
from tb.common.config_db import knob
from tb.common.seeding import py_random, rng


@dataclass
class QueryBatch:
    """A sequence's queries as arrays, for the lookup bench's batched mode (tb/lookup/batch.py):
    the n-th query has id ``qids[n]``, indices ``idx[n]`` and, for a query given an
    out-of-range index on purpose, that logical table in ``bad[n]`` (None otherwise)."""
    qids: np.ndarray
    idx: np.ndarray
    bad: list

    def __len__(self) -> int:
        return len(self.qids)


class QueryBaseSeq(uvm_sequence):
    """Sends rows of an index matrix as queries; subclasses choose the matrix."""

    def indices(self, cfg, n):
        raise NotImplementedError

    def bad_indices(self, cfg, n) -> tuple[np.ndarray, list]:
        """The index matrix and each query's deliberately bad table (None: all in range)."""
        return self.indices(cfg, n), [None] * n

    def make_batch(self) -> QueryBatch:
        """This sequence's queries, continuing the test's numbering (``first_qid``, advanced
        past them): the same queries ``body`` sends one by one."""
        cfg = knob("model_cfg", None)
        n = knob("num_queries", 100)
        first = knob("first_qid", 0)
        idx, bad = self.bad_indices(cfg, n)
        ConfigDB().set(None, "*", "first_qid", first + len(idx))
        return QueryBatch(np.array([query_id(first + i) for i in range(len(idx))], dtype=np.int64),
                          np.asarray(idx, dtype=np.int64), list(bad))

    async def body(self):
        cfg = knob("model_cfg", None)
        n = knob("num_queries", 100)
        first = knob("first_qid", 0)
        idx, bad = self.bad_indices(cfg, n)
        for i, row in enumerate(idx):
            item = QueryItem(f"q{first + i}", qid=query_id(first + i), indices=row, bad_table=bad[i])
            await self.start_item(item)
            await self.finish_item(item)
        ConfigDB().set(None, "*", "first_qid", first + len(idx))


class UniformQuerySeq(QueryBaseSeq):
    def indices(self, cfg, n):
        return uniform_queries(cfg, n, seed=py_random(11).randrange(2**31))


class ZipfQuerySeq(QueryBaseSeq):
    """Skewed traffic: hot rows repeat, as in production recommendation logs
    (exponent: knob ``zipf_alpha``, default 1.1)."""

    def indices(self, cfg, n):
        return zipf_queries(cfg, n, alpha=knob("zipf_alpha", 1.1), seed=py_random(12).randrange(2**31))


class EdgeQuerySeq(QueryBaseSeq):
    """Index 0, rows-1 and a repeated row, mixed per table."""

    def indices(self, cfg, n):
        g = rng(13)
        rows = np.array([t.rows for t in cfg.tables], dtype=np.int64)
        choice = g.integers(0, 3, size=(n, len(rows)))
        same = g.integers(0, rows)
        return np.where(choice == 0, 0, np.where(choice == 1, rows - 1, same)).astype(np.int64)


class BadIndexSeq(QueryBaseSeq):
    """Mostly good queries; every few, one table gets an index at or beyond its rows."""

    def bad_indices(self, cfg, n):
        g = rng(14)
        idx = uniform_queries(cfg, n, seed=int(g.integers(2**31)))
        bad = [None] * n
        for i in range(n):
            if i % 4 == 1:
                b = int(g.integers(0, cfg.num_tables))
                idx[i, b] = cfg.tables[b].rows + int(g.integers(0, 3)) * int(g.integers(0, 2**20))
                bad[i] = b
        return idx, bad
