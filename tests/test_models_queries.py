"""Query generators: range, reproducibility, Zipf skew, memory at 10M+ rows."""

import tracemalloc

import numpy as np
import pytest

from models import BUILTINS, ModelConfig, TableConfig, builtin
from models.queries import _scatter, uniform_queries, zipf_queries, zipf_rejection


def _in_range(cfg, q):
    rows = np.array([t.rows for t in cfg.tables])
    return q.dtype == np.int64 and (q >= 0).all() and (q < rows).all()


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_indices_in_range_for_every_builtin(name):
    cfg = builtin(name)
    for q in (uniform_queries(cfg, 500, seed=1), zipf_queries(cfg, 500, 1.1, seed=1),
              zipf_queries(cfg, 200, 0.8, seed=2, scatter=True)):
        assert q.shape == (q.shape[0], cfg.num_tables) and _in_range(cfg, q)


def test_reproducible_and_seed_dependent():
    cfg = builtin("tiny")
    assert np.array_equal(uniform_queries(cfg, 50, 3), uniform_queries(cfg, 50, 3))
    assert np.array_equal(zipf_queries(cfg, 50, 1.0, 3), zipf_queries(cfg, 50, 1.0, 3))
    assert not np.array_equal(uniform_queries(cfg, 50, 3), uniform_queries(cfg, 50, 4))
    assert not np.array_equal(zipf_queries(cfg, 50, 1.0, 3), zipf_queries(cfg, 50, 1.0, 4))


def test_columns_do_not_depend_on_other_tables():
    cfg = builtin("tiny")
    fewer = ModelConfig("fewer", cfg.tables[:3], cfg.mlp)
    assert np.array_equal(uniform_queries(cfg, 30, 5)[:, :3], uniform_queries(fewer, 30, 5))


def _harmonic(n, alpha):
    return (np.arange(1, n + 1, dtype=np.float64) ** -alpha).sum()


def test_zipf_rank1_frequency():
    cfg = builtin("tiny")
    n = 20_000
    q = zipf_queries(cfg, n, alpha=1.0, seed=7)
    for t, tab in enumerate(cfg.tables):
        f1 = np.mean(q[:, t] == 0)
        p1 = 1.0 / _harmonic(tab.rows, 1.0)
        assert f1 > 3.0 / tab.rows            # well above uniform
        assert abs(f1 - p1) < 5 * np.sqrt(p1 / n) + 1e-3
        counts = np.bincount(q[:, t], minlength=tab.rows)
        assert counts.argmax() == 0


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0, 1.5])
def test_rejection_sampler_matches_exact_pmf(alpha):
    rows, n = 60, 60_000
    ranks = zipf_rejection(np.random.default_rng(3), rows, alpha, n)
    assert ranks.min() >= 1 and ranks.max() <= rows
    pmf = np.arange(1, rows + 1, dtype=np.float64) ** -alpha
    pmf /= pmf.sum()
    emp = np.bincount(ranks, minlength=rows + 1)[1:] / n
    # total variation distance; sampling noise alone is ~0.01 at this n
    assert 0.5 * np.abs(emp - pmf).sum() < 0.04


def test_large_tables_need_no_rows_sized_arrays():
    cfg = ModelConfig("huge", [TableConfig("x", 10_000_000, 16, "ddr", 0),
                               TableConfig("y", 2 ** 32 - 1, 8, "ddr", 1)], [1])
    tracemalloc.start()
    try:
        q = zipf_queries(cfg, 10_000, alpha=1.05, seed=1, scatter=True)
        zipf_queries(cfg, 10_000, alpha=0.9, seed=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _in_range(cfg, q)
    assert peak < 8 << 20          # one float64 per row of x alone would be 80 MB
    q = zipf_queries(cfg, 50_000, alpha=1.0, seed=2)
    assert np.mean(q[:, 0] == 0) > 0.04   # 1 / H(1e7) = 0.060


def test_scatter_is_a_bijection():
    for rows in (1, 2, 7, 1000, 1024):
        out = _scatter(np.arange(rows), rows)
        assert sorted(out.tolist()) == list(range(rows))


def test_alpha_validation():
    with pytest.raises(ValueError, match="alpha"):
        zipf_queries(builtin("tiny"), 5, alpha=-0.5)
