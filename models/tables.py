"""Procedural embedding tables (contracts.md section 1).

Every row is a pure integer function of (seed, table, row), so any row of a
15 GB model can be produced on demand, here and in the SV memory model, and
nothing ever materialises a whole table. Arithmetic runs on uint64 arrays
masked to 32 bits: the products of two 32-bit words fit, nothing overflows
and NumPy never warns, for arrays and Python ints alike.
"""

from __future__ import annotations

import numbers

import numpy as np

from .config import ModelConfig

M32 = 0xFFFFFFFF
TABLE_MUL = 0x9E3779B9
PAIR_MUL = 0x85EBCA6B
MIX_MUL1 = 0x7FEB352D
MIX_MUL2 = 0x846CA68B


def _u32(x) -> np.ndarray:
    """Any integer (array) as uint64 holding its low 32 bits (two's complement wrap)."""
    if isinstance(x, numbers.Integral):
        return np.uint64(int(x) & M32)
    a = np.asarray(x)
    if a.dtype.kind not in "iu":
        raise TypeError(f"expected integers, got dtype {a.dtype}")
    return a.astype(np.uint64) & np.uint64(M32)


def _mix(x: np.ndarray) -> np.ndarray:
    """lowbias32 on uint64-held 32-bit values."""
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(MIX_MUL1)) & np.uint64(M32)
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(MIX_MUL2)) & np.uint64(M32)
    return x ^ (x >> np.uint64(16))


def _out(x, like):
    return int(x) if isinstance(like, numbers.Integral) else np.asarray(x, dtype=np.uint32)


def mix32(x):
    """lowbias32 hash; int in -> int out, array in -> uint32 array out."""
    return _out(_mix(_u32(x)), x)


def row_key(seed: int, t: int, r):
    """mix32(mix32(seed ^ (t * 0x9E3779B9)) ^ r)."""
    tk = _mix(_u32(seed) ^ ((np.uint64(int(t) & M32) * np.uint64(TABLE_MUL)) & np.uint64(M32)))
    return _out(_mix(tk ^ _u32(r)), r)


def pair_word(key, j):
    """mix32(key ^ (j * 0x85EBCA6B)): elements 2j (low half) and 2j+1 (high half)."""
    jm = (_u32(j) * np.uint64(PAIR_MUL)) & np.uint64(M32)
    return _out(_mix(_u32(key) ^ jm), key if isinstance(j, numbers.Integral) else j)


def table_rows(seed: int, t: int, rows_idx, dim: int, emb_shift: int) -> np.ndarray:
    """Rows `rows_idx` of logical table `t`: int16 array of shape rows_idx.shape + (dim,)."""
    idx = np.asarray(rows_idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"row indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() > M32):
        raise IndexError(f"table {t}: row index outside 0..2^32-1")
    keys = _u32(row_key(seed, t, idx.reshape(-1)))
    npairs = (int(dim) + 1) // 2
    jm = (np.arange(npairs, dtype=np.uint64) * np.uint64(PAIR_MUL)) & np.uint64(M32)
    words = _mix(keys[:, None] ^ jm[None, :])
    halves = np.empty(words.shape + (2,), dtype=np.uint16)
    halves[..., 0] = words & np.uint64(0xFFFF)
    halves[..., 1] = words >> np.uint64(16)
    vals = halves.reshape(len(keys), 2 * npairs)[:, :dim].view(np.int16)
    return (vals >> int(emb_shift)).astype(np.int16).reshape(idx.shape + (int(dim),))


def element(seed: int, t: int, r: int, k: int, emb_shift: int) -> int:
    """One element; the readable form of `table_rows` for scoreboards and tests."""
    return int(table_rows(seed, t, np.array([r], dtype=np.int64), k + 1, emb_shift)[0, k])


def check_rows(cfg: ModelConfig, t: int, idx) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"table {t}: row indices must be integers, got dtype {idx.dtype}")
    rows = cfg.tables[t].rows
    bad = (idx < 0) | (idx >= rows)
    if bad.any():
        pos = tuple(int(p[0]) for p in np.nonzero(bad))
        raise IndexError(f"table {t} ({cfg.tables[t].name!r}): index {int(idx[pos])} "
                         f"at position {pos} outside 0..{rows - 1}")
    return idx


def lookup(cfg: ModelConfig, t: int, idx) -> np.ndarray:
    """Rows of logical table `t` of `cfg`, range-checked."""
    idx = check_rows(cfg, t, idx)
    tab = cfg.tables[t]
    return table_rows(cfg.seed, t, idx, tab.dim, cfg.emb_shift)


def product_rows(cfg: ModelConfig, a: int, b: int, prod_idx) -> np.ndarray:
    """Rows of the product table A x B: row iA * rows_B + iB is A[iA] ++ B[iB]."""
    p = np.asarray(prod_idx, dtype=np.int64)
    ra, rb = cfg.tables[a].rows, cfg.tables[b].rows
    if p.size and (p.min() < 0 or p.max() >= ra * rb):
        raise IndexError(f"product table {a}x{b}: index outside 0..{ra * rb - 1}")
    return np.concatenate([lookup(cfg, a, p // rb), lookup(cfg, b, p % rb)], axis=-1)


def row_bytes(rows: np.ndarray, stride: int) -> np.ndarray:
    """Memory image of rows: element k little-endian at byte 2k, zero padded to `stride`."""
    rows = np.asarray(rows)
    if rows.ndim != 2:
        raise ValueError(f"rows must be 2-D [n, dim], got shape {rows.shape}")
    n, dim = rows.shape
    if 2 * dim > stride or stride % 2:
        raise ValueError(f"dim {dim} does not fit stride {stride}")
    img = np.zeros((n, stride // 2), dtype="<i2")
    img[:, :dim] = rows
    return img.view(np.uint8)
