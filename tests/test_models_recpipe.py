"""The RecPipe golden model (models/recpipe.py) and the top-k it is built on
(models/topk.py), docs/contracts.md section 10: pure Python, no simulation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from models import recpipe as rp
from models.config import ConfigError, builtin
from models.golden import golden_infer, mlp_weights
from models.topk import TopkErr, request_error, topk, unit_answer

# --------------------------------------------------------------------------- top-k order


def brute_topk(scores, ids, k):
    """The contract's order by plain Python sorting: higher score, then lower id."""
    pairs = sorted(zip(scores, ids), key=lambda p: (-int(p[0]), int(p[1])))[:k]
    return [int(i) for _, i in pairs], [int(s) for s, _ in pairs]


def test_topk_tie_break_lower_id_first():
    ids, scores = topk(np.array([5, 7, 7, 5, 7]), 4, ids=np.array([10, 4, 9, 2, 3]))
    assert ids.tolist() == [3, 4, 9, 2]
    assert scores.tolist() == [7, 7, 7, 5]
    # default ids are positions
    assert topk(np.array([1, 1, 1]), 2)[0].tolist() == [0, 1]


@pytest.mark.parametrize("trial", range(5))
def test_topk_matches_brute_force(trial):
    rng = np.random.default_rng(trial)
    n = int(rng.integers(1, 300))
    scores = rng.integers(-3, 4, n) if trial % 2 else rng.integers(-(2**31), 2**31, n)
    ids = rng.permutation(n)
    k = int(rng.integers(1, n + 1))
    got_ids, got_scores = topk(scores, k, ids)
    assert (got_ids.tolist(), got_scores.tolist()) == brute_topk(scores, ids, k)


def test_topk_extremes_of_int32():
    ids, scores = topk(np.array([-(2**31), 2**31 - 1, 0, 2**31 - 1]), 3)
    assert ids.tolist() == [1, 3, 2] and scores.tolist() == [2**31 - 1, 2**31 - 1, 0]


@pytest.mark.parametrize("args, field", [
    ((np.array([], dtype=np.int64), 1), "scores"),
    ((np.array([1, 2]), 0), "k"),
    ((np.array([1, 2]), 3), "k"),
    ((np.array([1.0, 2.0]), 1), "scores"),
    ((np.array([2**31]), 1), "scores"),
])
def test_topk_rejects_bad_arguments_naming_the_field(args, field):
    with pytest.raises((ValueError, TypeError), match=rf"^{field}:"):
        topk(*args)


def test_topk_rejects_ids_of_another_shape():
    with pytest.raises(ValueError, match=r"^ids:"):
        topk(np.array([1, 2, 3]), 1, ids=np.array([0, 1]))


@pytest.mark.parametrize("k, n, code", [
    (0, 0, TopkErr.K_ZERO),            # K = 0 wins over N = 0
    (0, 5000, TopkErr.K_ZERO),
    (300, 0, TopkErr.K_OVER_MAX),      # K > K_MAX before N = 0
    (300, 5000, TopkErr.K_OVER_MAX),
    (5, 0, TopkErr.N_ZERO),
    (5, 4097, TopkErr.N_OVER_MAX),     # N > N_MAX before K > N
    (10, 9, TopkErr.K_OVER_N),
    (10, 10, TopkErr.NONE),
    (256, 4096, TopkErr.NONE),
])
def test_unit_answer_error_order(k, n, code):
    assert request_error(k, n, 256, 4096) == code


def test_unit_answer_beats():
    ans = unit_answer([3, 9, 9], [7, 8, 2], 2, 8, 48)
    assert ans.beats() == [(9, 2, 0, False), (9, 8, 0, True)]
    bad = unit_answer([3, 9, 9], [7, 8, 2], 4, 8, 48)
    assert bad.err == TopkErr.K_OVER_N and bad.beats() == [(0, 0, 5, True)]


# --------------------------------------------------------------------------- requests


def test_table_split_covers_every_table_once():
    for name in ("tiny", "microrec_small"):
        cfg = builtin(name)
        split = rp.table_split(cfg)
        assert sorted(split.user + split.item) == list(range(cfg.num_tables))
    small = builtin("microrec_small")
    split = rp.table_split(small)
    assert sum(small.tables[t].dim for t in split.item) == 128
    assert small.tables[split.key].name == "ddr1"
    with pytest.raises(ConfigError, match=r"^model:"):
        rp.table_split(builtin("dlrm_kaggle"))


def test_requests_are_seeded_distinct_and_share_the_user():
    cfg = builtin("tiny")
    a = rp.make_requests(cfg, 3, 200, seed=5)
    b = rp.make_requests(cfg, 3, 200, seed=5)
    c = rp.make_requests(cfg, 3, 200, seed=6)
    for x, y in zip(a, b):
        assert np.array_equal(x.indices, y.indices)
    assert not np.array_equal(a[0].indices, c[0].indices)
    split = rp.table_split(cfg)
    for r in a:
        assert len(set(r.items.tolist())) == 200
        assert (r.indices[:, list(split.user)] == r.user[None, :]).all()
        golden_infer(cfg, r.indices)   # every index in range
    # a near-full catalog still yields distinct items
    full = rp.make_requests(cfg, 1, cfg.tables[split.key].rows, seed=1)[0]
    assert sorted(full.items.tolist()) == list(range(cfg.tables[split.key].rows))


def test_item_attributes_belong_to_the_item():
    cfg = builtin("microrec_small")
    items = np.array([5, 17, 5, 9_999_999])
    attrs = rp.item_attributes(cfg, items)
    assert np.array_equal(attrs[0], attrs[2]) and not np.array_equal(attrs[0], attrs[1])
    assert (attrs[:, 0] == items).all()
    rows = np.array([cfg.tables[t].rows for t in rp.table_split(cfg).item])
    assert (attrs < rows[None, :]).all() and (attrs >= 0).all()
    with pytest.raises(ValueError, match=r"^items:"):
        rp.item_attributes(cfg, [10_000_000])


@pytest.mark.parametrize("kwargs, field", [
    ({"count": 0, "n": 5}, "count"),
    ({"count": 1, "n": 0}, "n"),
    ({"count": 1, "n": 601}, "n"),     # tiny's key table has 600 items
])
def test_make_requests_rejects_bad_sizes(kwargs, field):
    with pytest.raises(ConfigError, match=rf"^{field}:"):
        rp.make_requests(builtin("tiny"), **kwargs)


# --------------------------------------------------------------------------- models and cost


def test_mlp_cycles_is_the_bank_plan():
    from tb.mlp.mlp_layout import EngineBuild, bank_plan
    for name in ("tiny", "microrec_small"):
        shapes = builtin(name).layer_shapes
        for P, U in ((128, 24), (6, 20), (1, 1)):
            plan = bank_plan(EngineBuild(P=P, U=U), shapes)
            assert rp.mlp_cycles(shapes, P, U) == sum(lp["beats"] * lp["rounds"] for lp in plan)
    assert rp.mlp_cycles(builtin("microrec_small").layer_shapes, 128, 24) == 347   # README figure


def test_ranker_decay_zero_is_the_model_and_decay_concentrates():
    cfg = builtin("tiny")
    assert all(np.array_equal(a, c) and np.array_equal(b, d)
               for (a, b), (c, d) in zip(rp.ranker_weights(cfg, 0.0), mlp_weights(cfg)))
    w = rp.ranker_weights(builtin("microrec_small"), 1.0)
    assert all(wl.dtype == np.int16 and bl.dtype == np.int32 for wl, bl in w)
    norms = np.linalg.norm(w[1][0].astype(float), axis=0)
    assert norms[:16].mean() > 5 * norms[-256:].mean()
    for bad in (-0.1, 5.0, float("nan"), True, "1"):
        with pytest.raises(ConfigError, match=r"^decay:"):
            rp.ranker_weights(cfg, bad)


def tiny_filter(widths=(8,), decay=0.0):
    return rp.derive_filter(rp.ranker("tiny", decay), rp.FilterSpec(widths, calib_requests=4,
                                                                   calib_candidates=200))


def test_filter_is_an_ordinary_fixed_point_model():
    rank = rp.ranker("tiny")
    filt = tiny_filter((8, 4))
    assert filt.cfg.tables == rank.cfg.tables and filt.cfg.mlp == [8, 4, 1]
    filt.cfg.validate()
    for (w, b), (fan_in, fan_out) in zip(filt.weights, filt.cfg.layer_shapes):
        assert w.shape == (fan_out, fan_in) and w.dtype == np.int16
        assert b.shape == (fan_out,) and b.dtype == np.int32
    # layer 0 computes the ranker's own neurons exactly
    w0, b0 = rank.weights[0]
    for row, bias in zip(*filt.weights[0]):
        hits = [n for n in range(w0.shape[0]) if np.array_equal(w0[n], row) and b0[n] == bias]
        assert hits
    req = rp.make_requests(rank.cfg, 1, 50, seed=3)[0]
    assert golden_infer(filt.cfg, req.indices, filt.weights).shape == (50,)


def test_filter_derivation_is_deterministic():
    a, b = tiny_filter((8, 4), 0.5), tiny_filter((8, 4), 0.5)
    assert a.cfg.to_dict() == b.cfg.to_dict()
    for (wa, ba), (wb, bb) in zip(a.weights, b.weights):
        assert np.array_equal(wa, wb) and np.array_equal(ba, bb)
    assert rp.load_filter("tiny", (8,)) is rp.load_filter("tiny", (8,))


@pytest.mark.parametrize("spec, field", [
    (rp.FilterSpec(()), "widths"),
    (rp.FilterSpec((4, 4, 4)), "widths"),     # tiny has two hidden layers
    (rp.FilterSpec((17,)), r"widths\[0\]"),   # wider than the ranker's 16
    (rp.FilterSpec((8, 0)), r"widths\[1\]"),
    (rp.FilterSpec((8,), calib_requests=0), "calib_requests"),
    (rp.FilterSpec((8,), calib_candidates=1), "calib_candidates"),
])
def test_filter_spec_errors_name_the_field(spec, field):
    with pytest.raises(ConfigError, match=rf"^{field}:"):
        rp.derive_filter(rp.ranker("tiny"), spec)


# --------------------------------------------------------------------------- the pipeline


@pytest.mark.parametrize("k_keep, top_k", [(1, 1), (20, 10), (64, 10), (150, 150)])
def test_pipeline_is_bit_exact_against_brute_force(k_keep, top_k):
    rank, filt = rp.ranker("tiny", 0.5), tiny_filter((8,), 0.5)
    req = rp.make_requests(rank.cfg, 1, 150, seed=11)[0]
    # brute force: every query on its own, plain sorting
    f = [int(golden_infer(filt.cfg, req.indices[i:i + 1], filt.weights)[0]) for i in range(req.n)]
    kept, _ = brute_topk(f, range(req.n), k_keep)
    r = {i: int(golden_infer(rank.cfg, req.indices[i:i + 1], rank.weights)[0]) for i in kept}
    ids, scores = brute_topk([r[i] for i in kept], kept, top_k)
    got = rp.pipeline(filt, rank, req, k_keep, top_k)
    assert got.ids.tolist() == ids and got.scores.tolist() == scores
    assert got.kept.tolist() == kept and got.filter_scores.tolist() == f


def test_keeping_everything_is_the_reference():
    rank, filt = rp.ranker("tiny"), tiny_filter()
    req = rp.make_requests(rank.cfg, 1, 120, seed=2)[0]
    got = rp.pipeline(filt, rank, req, 120, 10)
    ref_ids, ref_scores = rp.reference(rank, req, 10)
    assert np.array_equal(got.ids, ref_ids) and np.array_equal(got.scores, ref_scores)


@pytest.mark.parametrize("n, k_keep, top_k, limits, field", [
    (0, 1, 1, {}, "n"),
    (30, 31, 10, {}, "k_keep"),
    (30, 20, 21, {}, "top_k"),
    (30, 0, 1, {}, "k_keep"),
    (30, 20, 0, {}, "top_k"),
    (30, 20, 10, {"k_max": 16}, "k_keep"),
    (30, 10, 10, {"n_max": 29}, "n"),
])
def test_pipeline_errors_name_the_field(n, k_keep, top_k, limits, field):
    rank, filt = rp.ranker("tiny"), tiny_filter()
    idx = rp.make_requests(rank.cfg, 1, 30, seed=1)[0].indices[:n]
    with pytest.raises(ConfigError, match=rf"^{field}:"):
        rp.pipeline(filt, rank, idx, k_keep, top_k, **limits)


def test_pipeline_rejects_a_filter_on_other_tables():
    small = rp.ranker("tiny")
    other = rp.RecModel(builtin("microrec_small"), mlp_weights(builtin("microrec_small")))
    idx = rp.make_requests(small.cfg, 1, 30, seed=1)[0].indices
    with pytest.raises(ConfigError, match=r"^filter:"):
        rp.pipeline(other, small, idx, 10, 5)


# --------------------------------------------------------------------------- quality


def test_recall_and_ndcg_on_hand_made_rankings():
    ref = [1, 2, 3]
    ideal = 3 + 2 / math.log2(3) + 1 / 2
    assert rp.recall_at([1, 2, 3], ref) == 1.0 and rp.ndcg_at([1, 2, 3], ref) == pytest.approx(1.0)
    assert rp.recall_at([3, 2, 1], ref) == 1.0
    assert rp.ndcg_at([3, 2, 1], ref) == pytest.approx((1 + 2 / math.log2(3) + 3 / 2) / ideal)
    assert rp.recall_at([9, 8, 7], ref) == 0.0 and rp.ndcg_at([9, 8, 7], ref) == 0.0
    assert rp.recall_at([2, 9, 8], ref) == pytest.approx(1 / 3)
    assert rp.ndcg_at([2, 9, 8], ref) == pytest.approx(2 / ideal)
    assert rp.ndcg_at([9, 1, 8], ref) == pytest.approx(3 / math.log2(3) / ideal)
    with pytest.raises(ValueError, match=r"^answer:"):
        rp.recall_at([1, 2], ref)
    with pytest.raises(ValueError, match=r"^ref:"):
        rp.ndcg_at([], [])
    with pytest.raises(ValueError, match=r"^ref:"):
        rp.ndcg_at([1, 2], [1, 1])


def test_evaluate_agrees_with_the_pipeline():
    rank, filt = rp.ranker("tiny", 0.5), tiny_filter((8,), 0.5)
    reqs = rp.make_requests(rank.cfg, 3, 100, seed=4)
    ev = rp.evaluate(rank, {"f": filt}, [10, 40, 100], reqs, top_k=10, P=4, U=4)
    for p in ev.points:
        rec = [rp.recall_at(rp.pipeline(filt, rank, r, p.k_keep, 10).ids, rp.reference(rank, r, 10)[0])
               for r in reqs]
        assert p.recall == pytest.approx(np.mean(rec))
        assert p.latency == 100 * filt.cycles(4, 4) + p.k_keep * rank.cycles(4, 4)
    assert [p.recall for p in ev.points if p.k_keep == 100] == [1.0]   # keeping all is exact
    assert ev.single_stage[-1]["recall"] == 1.0                      # the ranker on all N


def test_microrec_small_goal_with_a_concentrated_ranker():
    """Issue 18's goal (N = 1024, top 10: >= 4x lower latency at recall@10 >= 0.9) on the
    decay-0.75 ranker with the 256x128x128 filter keeping 64 (10.5); about 30 s."""
    rank = rp.load_ranker("microrec_small", 0.75)
    filt = rp.load_filter("microrec_small", (256, 128, 128), 0.75)
    reqs = rp.make_requests(rank.cfg, 8, 1024, seed=1)
    (p,) = rp.evaluate(rank, {"f": filt}, [64], reqs, top_k=10, P=128, U=24).points
    assert p.speedup >= 4.0 and p.recall >= 0.9, p
