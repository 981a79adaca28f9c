"""Query generators: uniform and Zipf-skewed index streams.

Each table draws from its own generator seeded [seed, salt, table], so a
query set is reproducible from its seed and adding a table leaves the other
columns unchanged. Zipf sampling never allocates rows-sized arrays above
ZIPF_EXACT_MAX_ROWS, so 10M- and 4G-row tables cost the same as small ones.
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np

from .config import ModelConfig

UNIFORM_SALT = 0x0F1A
ZIPF_SALT = 0x21BF
ZIPF_EXACT_MAX_ROWS = 1 << 20


def _rng(seed: int, salt: int, t: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), salt, t])


def uniform_queries(cfg: ModelConfig, n: int, seed: int = 0) -> np.ndarray:
    """n queries with indices uniform over each table: int64 [n, T]."""
    out = np.empty((int(n), cfg.num_tables), dtype=np.int64)
    for t, tab in enumerate(cfg.tables):
        out[:, t] = _rng(seed, UNIFORM_SALT, t).integers(0, tab.rows, size=int(n))
    return out


def zipf_queries(cfg: ModelConfig, n: int, alpha: float = 1.0, seed: int = 0,
                 scatter: bool = False) -> np.ndarray:
    """n queries with P(index of rank k) proportional to k^-alpha: int64 [n, T].

    Rank 1 is row 0 unless `scatter`, which spreads the hot rows over the
    table with a fixed bijection r -> (r * m + c) mod rows (hot rows then
    land in different DRAM pages, as real ids do).
    """
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha: must be finite and >= 0, got {alpha}")
    out = np.empty((int(n), cfg.num_tables), dtype=np.int64)
    for t, tab in enumerate(cfg.tables):
        rng = _rng(seed, ZIPF_SALT, t)
        idx = zipf_ranks(rng, tab.rows, float(alpha), int(n)) - 1
        out[:, t] = _scatter(idx, tab.rows) if scatter else idx
    return out


def zipf_ranks(rng: np.random.Generator, rows: int, alpha: float, n: int) -> np.ndarray:
    """n ranks in 1..rows from the truncated Zipf law; exact for every size."""
    if rows <= ZIPF_EXACT_MAX_ROWS:
        cdf = _zipf_cdf(int(rows), float(alpha))
        ranks = np.searchsorted(cdf, rng.random(n), side="right") + 1
        return np.minimum(ranks, rows).astype(np.int64)
    return zipf_rejection(rng, rows, alpha, n)


@lru_cache(maxsize=16)
def _zipf_cdf(rows: int, alpha: float) -> np.ndarray:
    w = np.arange(1, rows + 1, dtype=np.float64) ** -alpha
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    cdf.flags.writeable = False
    return cdf


def zipf_rejection(rng: np.random.Generator, rows: int, alpha: float, n: int) -> np.ndarray:
    """Rejection-inversion sampling (Hoermann and Derflinger 1996), O(1) memory per sample.

    Follows Apache Commons RNG's RejectionInversionZipfSampler, vectorized:
    draw all, redraw the rejected few.
    """
    q = 1.0 - alpha

    def h(x):
        return np.exp(-alpha * np.log(x))

    def h_int(x):  # integral of h: (x^q - 1) / q, stable at q = 0
        lx = np.log(x)
        return _expm1_over(q * lx) * lx

    def h_int_inv(y):
        t = np.maximum(y * q, -1.0)
        return np.exp(_log1p_over(t) * y)

    h_x1 = h_int(1.5) - 1.0
    h_n = h_int(rows + 0.5)
    s = 2.0 - h_int_inv(h_int(2.5) - h(2.0))
    out = np.empty(n, dtype=np.int64)
    todo = np.arange(n)
    while todo.size:
        u = h_n + rng.random(todo.size) * (h_x1 - h_n)
        x = h_int_inv(u)
        k = np.clip(np.floor(x + 0.5), 1, rows)
        ok = (k - x <= s) | (u >= h_int(k + 0.5) - h(k))
        out[todo[ok]] = k[ok].astype(np.int64)
        todo = todo[~ok]
    return out


def _log1p_over(x):
    x = np.asarray(x, dtype=np.float64)
    safe = np.where(np.abs(x) > 1e-8, x, 1.0)
    series = 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    return np.where(np.abs(x) > 1e-8, np.log1p(safe) / safe, series)


def _expm1_over(x):
    x = np.asarray(x, dtype=np.float64)
    safe = np.where(np.abs(x) > 1e-8, x, 1.0)
    series = 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    return np.where(np.abs(x) > 1e-8, np.expm1(safe) / safe, series)


def _scatter(idx: np.ndarray, rows: int) -> np.ndarray:
    m = max(1, int(rows * 0.6180339887498949)) | 1
    while gcd(m, rows) != 1:
        m += 2 if rows % 2 == 0 else 1
    c = rows // 3
    prod = (idx.astype(np.uint64) * np.uint64(m % rows)) % np.uint64(rows)
    return ((prod + np.uint64(c)) % np.uint64(rows)).astype(np.int64)
