"""Multi-hot query batches and their generators (contracts.md section 9).

A batch holds, per logical table, the bags of every query in torch
`EmbeddingBag` form: one flat array of indices (query-major, each bag in its
order) and the bag lengths, from which the offsets follow; plus the dense
features. Nothing here checks indices against the tables: a batch may carry
bad queries on purpose, and `models.dlrm.check_bags` decides their error
records.

Generators (all seeded; each table draws from its own generators, seeded
[seed, salt, table], so adding a table leaves the other columns unchanged):
- bag lengths: `fixed` (every bag `length`), `uniform` (integers in
  `lo..hi`), `lognormal` (heavy-tailed: floor(exp(N(mu, sigma))) with mu
  chosen so the untruncated mean is `length`, then clipped to `bag_max`:
  the tail above `bag_max` lands on `bag_max`, so the limit is exercised);
  every length is clipped to the table's `bag_max`.
- indices: `uniform` over the table's rows, or `zipf` (alpha, optional
  scatter) through `models.queries.zipf_ranks`.
- dense features: Criteo-like log-transformed counts,
  rint(log1p(floor(lognormal(1, 1.5))) * 2^F), clipped to int16.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .config import ModelConfig
from .fixed_point import INT16_MAX, INT16_MIN
from .queries import _scatter, zipf_ranks

LENGTH_SALT = 0x1E6B
BAG_UNIFORM_SALT = 0xBA60
BAG_ZIPF_SALT = 0xBA61
DENSE_SALT = 0xDE45
LENGTH_KINDS = ("fixed", "uniform", "lognormal")
INDEX_KINDS = ("uniform", "zipf")


@dataclass
class Bags:
    """B multi-hot queries: lengths [B, T], per-table flat indices, dense [B, D]."""
    lengths: np.ndarray          # int64 [B, T]
    values: list[np.ndarray]     # per table: int64 [lengths[:, t].sum()], query-major
    dense: np.ndarray            # int64 [B, D]

    def __post_init__(self) -> None:
        self.lengths = np.asarray(self.lengths, dtype=np.int64)
        if self.lengths.ndim != 2:
            raise ValueError(f"lengths: expected [B, T], got shape {self.lengths.shape}")
        if self.lengths.size and self.lengths.min() < 0:
            raise ValueError("lengths: must be >= 0")
        b, t = self.lengths.shape
        if len(self.values) != t:
            raise ValueError(f"values: {len(self.values)} tables, lengths has {t}")
        vals = []
        for i, v in enumerate(self.values):
            a = np.asarray(v)
            if a.size and a.dtype.kind not in "iu":
                raise TypeError(f"values[{i}]: must be integers, got dtype {a.dtype}")
            a = a.astype(np.int64).reshape(-1)
            if a.size != int(self.lengths[:, i].sum()):
                raise ValueError(f"values[{i}]: {a.size} indices, lengths sum to "
                                 f"{int(self.lengths[:, i].sum())}")
            vals.append(a)
        self.values = vals
        d = np.asarray(self.dense)
        if d.size and d.dtype.kind not in "iu":
            raise TypeError(f"dense: must be integers, got dtype {d.dtype}")
        if d.size:
            self.dense = d.astype(np.int64).reshape(b, -1)
        else:
            self.dense = np.zeros((b, d.shape[1] if d.ndim == 2 else 0), np.int64)

    @property
    def batch(self) -> int:
        return self.lengths.shape[0]

    @property
    def num_tables(self) -> int:
        return self.lengths.shape[1]

    def offsets(self, t: int) -> np.ndarray:
        """EmbeddingBag offsets of table t: int64 [B + 1], bag q is values[o[q]:o[q+1]]."""
        o = np.zeros(self.batch + 1, dtype=np.int64)
        np.cumsum(self.lengths[:, t], out=o[1:])
        return o

    def bag(self, q: int, t: int) -> np.ndarray:
        o = self.offsets(t)
        return self.values[t][o[q]:o[q + 1]]

    def query(self, q: int) -> tuple[list[list[int]], list[int]]:
        """Query q as plain lists: (bags per table, dense features)."""
        return ([self.bag(q, t).tolist() for t in range(self.num_tables)],
                self.dense[q].tolist())

    def select(self, rows: Sequence[int] | slice) -> Bags:
        """The queries `rows` (indices or a slice) as a new batch."""
        q = np.arange(self.batch)[rows]
        vals = []
        for t in range(self.num_tables):
            o = self.offsets(t)
            parts = [self.values[t][o[i]:o[i + 1]] for i in q]
            vals.append(np.concatenate(parts) if parts else np.zeros(0, np.int64))
        return Bags(self.lengths[q], vals, self.dense[q])

    @classmethod
    def from_lists(cls, bags: Sequence[Sequence[Sequence[int]]],
                   dense: Sequence[Sequence[int]] | None = None) -> Bags:
        """bags[q][t] = the indices of table t in query q."""
        if not len(bags):
            raise ValueError("bags: need at least one query")
        t = len(bags[0])
        for q, row in enumerate(bags):
            if len(row) != t:
                raise ValueError(f"bags[{q}]: {len(row)} tables, query 0 has {t}")
        lengths = np.array([[len(b) for b in row] for row in bags], dtype=np.int64).reshape(-1, t)
        values = [np.array([i for row in bags for i in row[k]], dtype=np.int64)
                  for k in range(t)]
        d = np.zeros((len(bags), 0), np.int64) if dense is None else np.asarray(dense, np.int64)
        return cls(lengths, values, d)

    @classmethod
    def from_one_hot(cls, indices, dense=None) -> Bags:
        """A bag of one per table: the MicroRec query [B, T] as a batch."""
        idx = np.asarray(indices)
        if idx.ndim != 2:
            raise ValueError(f"indices: expected [B, T], got shape {idx.shape}")
        d = np.zeros((idx.shape[0], 0), np.int64) if dense is None else dense
        return cls(np.ones(idx.shape, dtype=np.int64), [idx[:, t] for t in range(idx.shape[1])], d)


def _rng(seed: int, salt: int, t: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), salt, t])


def bag_lengths(cfg: ModelConfig, n: int, kind: str = "fixed", *, length: int = 20,
                lo: int = 0, hi: int | None = None, sigma: float = 1.0,
                seed: int = 0) -> np.ndarray:
    """Bag lengths int64 [n, T], each clipped to its table's bag_max (see module doc)."""
    n = int(n)
    if kind not in LENGTH_KINDS:
        raise ValueError(f"kind: must be one of {LENGTH_KINDS}, got {kind!r}")
    if length < 0:
        raise ValueError(f"length: must be >= 0, got {length}")
    out = np.empty((n, cfg.num_tables), dtype=np.int64)
    for t, tab in enumerate(cfg.tables):
        rng = _rng(seed, LENGTH_SALT, t)
        if kind == "fixed":
            v = np.full(n, length, dtype=np.int64)
        elif kind == "uniform":
            top = tab.bag_max if hi is None else hi
            if not 0 <= lo <= top:
                raise ValueError(f"lo, hi: need 0 <= lo <= hi, got {lo}, {top}")
            v = rng.integers(lo, top + 1, size=n)
        else:
            if length < 1 or sigma <= 0:
                raise ValueError(f"lognormal: need length >= 1 and sigma > 0, got {length}, {sigma}")
            mu = np.log(length) - sigma * sigma / 2.0
            v = np.floor(np.exp(rng.normal(mu, sigma, size=n))).astype(np.int64)
        out[:, t] = np.minimum(v, tab.bag_max)
    return out


def draw_indices(cfg: ModelConfig, lengths: np.ndarray, kind: str = "uniform", *,
                 alpha: float = 1.0, scatter: bool = False, seed: int = 0) -> list[np.ndarray]:
    """Per table, lengths[:, t].sum() indices: uniform, or Zipf(alpha) ranks - 1."""
    if kind not in INDEX_KINDS:
        raise ValueError(f"kind: must be one of {INDEX_KINDS}, got {kind!r}")
    if kind == "zipf" and (not np.isfinite(alpha) or alpha < 0):
        raise ValueError(f"alpha: must be finite and >= 0, got {alpha}")
    out = []
    for t, tab in enumerate(cfg.tables):
        k = int(lengths[:, t].sum())
        if kind == "uniform":
            out.append(_rng(seed, BAG_UNIFORM_SALT, t).integers(0, tab.rows, size=k))
        else:
            idx = zipf_ranks(_rng(seed, BAG_ZIPF_SALT, t), tab.rows, float(alpha), k) - 1
            out.append(_scatter(idx, tab.rows) if scatter else idx)
    return out


def dense_features(cfg: ModelConfig, n: int, seed: int = 0) -> np.ndarray:
    """Dense features int64 [n, D] in int16 range with F fractional bits."""
    rng = np.random.default_rng([int(seed), DENSE_SALT])
    counts = np.floor(rng.lognormal(1.0, 1.5, size=(int(n), cfg.dense)))
    x = np.rint(np.log1p(counts) * (1 << cfg.frac_bits))
    return np.clip(x, INT16_MIN, INT16_MAX).astype(np.int64)


def multihot_queries(cfg: ModelConfig, n: int, *, lengths: str = "fixed", length: int = 20,
                     lo: int = 0, hi: int | None = None, sigma: float = 1.0,
                     indices: str = "uniform", alpha: float = 1.0, scatter: bool = False,
                     seed: int = 0) -> Bags:
    """n valid queries: bag lengths, indices and dense features from one seed."""
    lens = bag_lengths(cfg, n, lengths, length=length, lo=lo, hi=hi, sigma=sigma, seed=seed)
    vals = draw_indices(cfg, lens, indices, alpha=alpha, scatter=scatter, seed=seed)
    return Bags(lens, vals, dense_features(cfg, n, seed))
