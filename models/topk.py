"""The top-k order and the top-k unit's answer (docs/contracts.md 10.1, 10.2).

`topk` is the selection every stage of the RecPipe golden model uses; it
rejects bad arguments with the field name. `unit_answer` is what the RTL
unit (rtl/topk/topk_unit.sv) must answer for one request, error records
included; the bench's scoreboard compares against it.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

SCORE_MIN, SCORE_MAX = -(1 << 31), (1 << 31) - 1


class TopkErr(IntEnum):
    """Error codes of the unit's answer, checked in this order (10.2)."""
    NONE = 0
    K_ZERO = 1
    K_OVER_MAX = 2
    N_ZERO = 3
    N_OVER_MAX = 4
    K_OVER_N = 5


def order(scores, ids) -> np.ndarray:
    """Positions of (scores, ids) sorted best first: higher score, then lower id."""
    s = np.asarray(scores, dtype=np.int64)
    i = np.asarray(ids, dtype=np.int64)
    if s.shape != i.shape or s.ndim != 1:
        raise ValueError(f"ids: expected shape {s.shape} like scores, got {i.shape}")
    # lexsort sorts by the last key first; -score is exact in int64 for int32 scores
    return np.lexsort((i, -s))


def topk(scores, k: int, ids=None) -> tuple[np.ndarray, np.ndarray]:
    """The best k candidates: (ids, scores) as int64 arrays, best first.

    ``ids`` default to the positions 0..N-1 (a RecPipe request's candidate ids).
    """
    s = np.asarray(scores)
    if s.ndim != 1:
        raise ValueError(f"scores: expected a 1-D array, got shape {s.shape}")
    if s.dtype.kind not in "iu":
        raise TypeError(f"scores: must be integers, got dtype {s.dtype}")
    if s.size and (s.min() < SCORE_MIN or s.max() > SCORE_MAX):
        raise ValueError("scores: values outside int32")
    n = s.size
    i = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids)
    if i.shape != s.shape:
        raise ValueError(f"ids: expected shape {s.shape} like scores, got {i.shape}")
    if i.dtype.kind not in "iu" or (i.size and i.min() < 0):
        raise ValueError("ids: must be non-negative integers")
    if n == 0:
        raise ValueError("scores: no candidates (N = 0)")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"k: must be an integer in 1..N ({n}), got {k!r}")
    pos = order(s, i)[:int(k)]
    return i[pos].astype(np.int64), s[pos].astype(np.int64)


def request_error(k: int, n: int, k_max: int, n_max: int) -> TopkErr:
    """The unit's verdict on a request of K = k, N = n candidates (first failing check)."""
    if k == 0:
        return TopkErr.K_ZERO
    if k > k_max:
        return TopkErr.K_OVER_MAX
    if n == 0:
        return TopkErr.N_ZERO
    if n > n_max:
        return TopkErr.N_OVER_MAX
    if k > n:
        return TopkErr.K_OVER_N
    return TopkErr.NONE


@dataclass(frozen=True)
class UnitAnswer:
    """What the unit outputs for one request: results best first, or one error beat."""
    err: TopkErr
    ids: tuple[int, ...] = ()
    scores: tuple[int, ...] = ()

    def beats(self) -> list[tuple[int, int, int, bool]]:
        """The output beats as (score, id, err, last)."""
        if self.err != TopkErr.NONE:
            return [(0, 0, int(self.err), True)]
        n = len(self.ids)
        return [(s, i, 0, j == n - 1) for j, (s, i) in enumerate(zip(self.scores, self.ids))]


def unit_answer(scores, ids, k: int, k_max: int, n_max: int) -> UnitAnswer:
    """The answer of a top-k unit built with (k_max, n_max) to one request."""
    s = np.asarray(scores, dtype=np.int64)
    err = request_error(int(k), s.size, k_max, n_max)
    if err != TopkErr.NONE:
        return UnitAnswer(err)
    top_ids, top_scores = topk(s, int(k), np.asarray(ids, dtype=np.int64))
    return UnitAnswer(err, tuple(int(v) for v in top_ids), tuple(int(v) for v in top_scores))
