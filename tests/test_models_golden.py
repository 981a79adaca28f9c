"""Golden inference: bit-exact against the scalar reference, close to float."""

import numpy as np
import pytest

from conftest_models import ref_features, ref_mlp, ref_weights
from models import ModelConfig, TableConfig, builtin
from models.golden import (
    float_forward,
    float_infer,
    gather,
    golden_infer,
    mlp_forward,
    mlp_weights,
)
from models.queries import uniform_queries


@pytest.fixture(scope="module")
def tiny():
    return builtin("tiny")


@pytest.fixture(scope="module")
def small():
    return builtin("microrec_small")


def test_weights_follow_contract_rule(tiny):
    ws = mlp_weights(tiny)
    ref = ref_weights(tiny.seed, tiny.frac_bits, tiny.layer_shapes)
    assert len(ws) == 3
    for (w, b), (rw, rb), (fan_in, fan_out) in zip(ws, ref, tiny.layer_shapes):
        assert w.dtype == np.int16 and w.shape == (fan_out, fan_in)
        assert b.dtype == np.int32 and b.shape == (fan_out,)
        assert w.tolist() == rw and b.tolist() == rb


def test_weights_depend_on_seed_and_frac_bits(tiny):
    other = builtin("tiny")
    other.seed = 2
    assert not np.array_equal(mlp_weights(tiny)[0][0], mlp_weights(other)[0][0])
    other = builtin("tiny")
    other.frac_bits = 10
    w8, w10 = mlp_weights(tiny)[0][0], mlp_weights(other)[0][0]
    assert np.abs(w10.astype(int) - 4 * w8.astype(int)).max() <= 2


def test_gather_matches_scalar_reference(tiny):
    q = uniform_queries(tiny, 6, seed=3)
    q[0] = [t.rows - 1 for t in tiny.tables]       # last row of every table
    q[1] = 0
    feats = gather(tiny, q)
    assert feats.dtype == np.int16 and feats.shape == (6, tiny.feature_len)
    dims = [t.dim for t in tiny.tables]
    for i in range(len(q)):
        assert feats[i].tolist() == ref_features(tiny.seed, tiny.emb_shift, dims, q[i].tolist())


def test_golden_infer_matches_scalar_reference(tiny):
    q = uniform_queries(tiny, 8, seed=11)
    logits = golden_infer(tiny, q)
    assert logits.dtype == np.int64 and logits.shape == (8,)
    ref_w = ref_weights(tiny.seed, tiny.frac_bits, tiny.layer_shapes)
    dims = [t.dim for t in tiny.tables]
    for i in range(len(q)):
        feats = ref_features(tiny.seed, tiny.emb_shift, dims, q[i].tolist())
        assert logits[i] == ref_mlp(feats, ref_w, tiny.frac_bits)


@pytest.mark.parametrize("frac_bits", [1, 14])
def test_saturating_mlp_matches_scalar_reference(frac_bits):
    """Full-range features and extreme weights drive every clamp and ReLU."""
    cfg = ModelConfig("sat", [TableConfig("a", 4, 6, "onchip")], [5, 3, 1],
                      frac_bits=frac_bits)
    rng = np.random.default_rng(frac_bits)
    feats = rng.choice([-32768, 32767, -1, 0, 1, 12345], size=(16, 6)).astype(np.int16)
    feats[0] = -32768
    feats[1] = 32767
    weights = []
    for fan_in, fan_out in cfg.layer_shapes:
        w = rng.choice([-32768, 32767, -3, 0, 2, 255], size=(fan_out, fan_in)).astype(np.int16)
        b = rng.choice([-(2 ** 31), 2 ** 31 - 1, -7, 0], size=fan_out).astype(np.int32)
        weights.append((w, b))
    logits, trace = mlp_forward(cfg, feats, weights, return_layers=True)
    ref_w = [(w.tolist(), b.tolist()) for w, b in weights]
    assert logits.tolist() == [ref_mlp(f.tolist(), ref_w, frac_bits) for f in feats]
    hidden = np.concatenate([o.ravel() for o in trace.out[:-1]])
    assert hidden.max() == 32767 and hidden.min() == 0 and (hidden == 0).any()


def test_trace_is_consistent(tiny):
    q = uniform_queries(tiny, 5, seed=2)
    logits, trace = golden_infer(tiny, q, return_layers=True)
    assert np.array_equal(trace.features, gather(tiny, q))
    assert [a.shape for a in trace.acc] == [(5, n) for n in tiny.mlp]
    assert np.array_equal(trace.out[-1][:, 0], logits)
    assert all((o >= 0).all() for o in trace.out[:-1])
    assert np.array_equal(mlp_forward(tiny, trace.features), logits)


def test_explicit_weights_are_used(tiny):
    q = uniform_queries(tiny, 3, seed=4)
    ws = mlp_weights(tiny)
    zero = [(np.zeros_like(w), np.zeros_like(b)) for w, b in ws]
    assert np.array_equal(golden_infer(tiny, q, ws), golden_infer(tiny, q))
    assert golden_infer(tiny, q, zero).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        golden_infer(tiny, q, [ws[0], (ws[1][0][:, :3], ws[1][1]), ws[2]])


@pytest.mark.parametrize("q, t, bad", [(0, 0, -1), (2, 3, 100), (1, 5, 1000)])
def test_out_of_range_index_names_query_table_and_index(tiny, q, t, bad):
    idx = uniform_queries(tiny, 3, seed=1)
    idx[q, t] = bad
    msg = rf"query {q}, table {t} \('{tiny.tables[t].name}'\): index {bad}\b"
    with pytest.raises(IndexError, match=msg):
        golden_infer(tiny, idx)


def test_shape_errors(tiny):
    with pytest.raises(ValueError, match="indices"):
        gather(tiny, np.zeros((2, 5), dtype=np.int64))
    with pytest.raises(ValueError, match="features"):
        mlp_forward(tiny, np.zeros((2, 47), dtype=np.int16))
    with pytest.raises(ValueError, match="int16"):
        mlp_forward(tiny, np.full((1, 48), 40000))


def _error_bound(cfg, weights):
    """Worst-case |fixed - float| of the logit, in real units, without saturation.

    Both paths see the same features and weights, so the only error is the
    rounding of each layer's output (at most half an LSB, 2^-(F+1)); a layer
    passes its input error on scaled by at most its largest absolute row sum
    (ReLU is 1-Lipschitz). So e_l <= ||W_l||_inf * e_(l-1) + 2^-(F+1), e_(-1) = 0.
    """
    scale = 2.0 ** cfg.frac_bits
    err = 0.0
    for w, _ in weights:
        err = np.abs(w.astype(np.float64) / scale).sum(axis=1).max() * err + 0.5 / scale
    return err


@pytest.mark.parametrize("name, n", [("tiny", 256), ("microrec_small", 32)])
def test_fixed_point_error_is_small(name, n):
    cfg = builtin(name)
    ws = mlp_weights(cfg)
    q = uniform_queries(cfg, n, seed=5)
    logits, trace = golden_infer(cfg, q, ws, return_layers=True)
    # the bound assumes nothing saturated
    assert all(np.abs(o).max() < 32767 for o in trace.out[:-1])
    err = np.abs(logits / 2.0 ** cfg.frac_bits - float_infer(cfg, q, ws))
    bound = _error_bound(cfg, ws)
    assert err.max() <= bound + 1e-9
    # Typical error is far below the worst case: roundings are independent,
    # so they add in quadrature (~ ||row||_2 ~ 1 per layer, not ||row||_1).
    # Eight logit LSBs is a comfortable margin for that (observed ~1.3).
    assert err.max() <= 8 / 2.0 ** cfg.frac_bits
    assert np.abs(float_infer(cfg, q, ws)).max() > 0.1      # not trivially zero


def test_float_forward_matches_float_infer(tiny):
    q = uniform_queries(tiny, 4, seed=8)
    assert np.array_equal(float_forward(tiny, gather(tiny, q)), float_infer(tiny, q))


def test_microrec_small_runs(small):
    q = uniform_queries(small, 4, seed=1)
    q[0] = [t.rows - 1 for t in small.tables]
    logits = golden_infer(small, q)
    assert logits.shape == (4,) and logits.dtype == np.int64
    assert len(set(logits.tolist())) > 1
