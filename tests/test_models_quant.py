"""INT8 layers, 2:4 sparsity and zero-skip figures (contracts.md section 8).

The scalar reference below is written from the text of contracts.md s.8 with
plain Python ints (Fractions for the weight scaling), one value at a time,
and imports nothing from `models` for its arithmetic: the golden model
(`models.quant`) is checked against it, never against itself.
"""

from __future__ import annotations

import copy
from fractions import Fraction

import numpy as np
import pytest

from conftest_models import ref_features, ref_weights
from models import ConfigError, ModelConfig, TableConfig, builtin, fixed_point, quant
from models.golden import gather, golden_infer, mlp_weights
from models.quant import (
    LayerPrecision,
    QuantModel,
    average_ranks,
    check_2_4,
    compact_beats,
    compress_2_4,
    decompress_2_4,
    fidelity,
    golden_infer_q,
    logit_metrics,
    mlp_cycles,
    prune_2_4,
    qforward,
    quantize,
    skip_beats,
    spearman,
    top_k,
    zero_fractions,
)
from models.queries import uniform_queries

# ---- scalar reference (contracts.md s.8, re-derived) -------------------------


def r_sat(x: int, bits: int) -> int:
    return min(max(x, -(2 ** (bits - 1))), 2 ** (bits - 1) - 1)


def r_rshift(acc: int, s: int) -> int:
    """(acc + 2^(s-1)) >>> s for s >= 1; acc for s = 0."""
    return acc if s == 0 else (acc + 2 ** (s - 1)) // 2 ** s


def r_prune_row(row: list[int]) -> list[int]:
    """Keep the 2 largest |w| of each group of 4, ties -> lower position."""
    out = [0] * len(row)
    for g in range(0, len(row), 4):
        pos = sorted(range(g, min(g + 4, len(row))), key=lambda i: (-abs(row[i]), i))[:2]
        for i in pos:
            out[i] = row[i]
    return out


def r_weights(f: int, w16, b16, precisions, fa, fw, sparse):
    """Stored weights per layer: pruned (if 2:4), then int8 by s.8.3 for int8 layers."""
    out = []
    for l, (w, b) in enumerate(zip(w16, b16)):
        w = [r_prune_row(list(r)) if sparse[l] else list(r) for r in w]
        if precisions[l] == "int8":
            w = [[r_sat(round(Fraction(v) * Fraction(2) ** (fw[l] - f)), 8) for v in r] for r in w]
            b = [r_sat(round(Fraction(v) * Fraction(2) ** (fa[l] + fw[l] - 2 * f)), 32) for v in b]
        out.append((w, list(b)))
    return out


def r_forward(f: int, precisions, fa, fw, weights, feats16: list[int]):
    """One query; returns (logit, [per layer (input, acc, out)])."""
    n = len(weights)
    frac_in = [fa[l] if p == "int8" else f for l, p in enumerate(precisions)]
    frac_w = [fw[l] if p == "int8" else f for l, p in enumerate(precisions)]
    x = list(feats16)
    if precisions[0] == "int8":
        x = [r_sat(r_rshift(v, f - fa[0]), 8) for v in x]
    layers = []
    for l, (w, b) in enumerate(weights):
        accs = [sum(wi * xi for wi, xi in zip(row, x)) + bj for row, bj in zip(w, b)]
        acc_frac = frac_in[l] + frac_w[l]
        if l == n - 1:
            y = [r_sat(r_rshift(a, acc_frac - f), 32) for a in accs]
        elif precisions[l + 1] == "int8":
            y = [max(r_sat(r_rshift(a, acc_frac - fa[l + 1]), 8), 0) for a in accs]
        else:
            y = [max(r_sat(r_rshift(a, acc_frac - f), 16), 0) for a in accs]
        layers.append((x, accs, y))
        x = y
    return x[0], layers


def assert_matches_reference(qm: QuantModel, feats, w16, b16, stored: bool = False) -> None:
    """qforward == the scalar reference, layer by layer, query by query.

    w16/b16 are the int16 source weights (quantized here by s.8.3), or with
    `stored` the weights as stored (hand-built models).
    """
    f = qm.cfg.frac_bits
    prec = qm.precisions
    fa = [lp.in_frac for lp in qm.layers]
    fw = [lp.w_frac for lp in qm.layers]
    rw = list(zip(w16, b16)) if stored else \
        r_weights(f, w16, b16, prec, fa, fw, [s == "2:4" for s in qm.sparsities])
    for l, ((w, b), (gw, gb)) in enumerate(zip(rw, qm.weights)):
        assert np.asarray(gw).tolist() == w, f"layer {l}: stored weights differ"
        assert np.asarray(gb).tolist() == b, f"layer {l}: stored bias differs"
    logits, trace = qforward(qm, feats, return_layers=True)
    for q, row in enumerate(np.asarray(feats).tolist()):
        want, layers = r_forward(f, prec, fa, fw, rw, row)
        for l, (x, acc, y) in enumerate(layers):
            for name, got, exp in (("input", trace.inputs[l][q], x), ("acc", trace.acc[l][q], acc),
                                   ("out", trace.out[l][q], y)):
                if got.tolist() != exp:
                    e = next(i for i, (g, r) in enumerate(zip(got.tolist(), exp)) if g != r)
                    raise AssertionError(f"query {q}, layer {l} {name}[{e}]: expected {exp[e]}, "
                                         f"got {int(got[e])}")
        assert int(logits[q]) == want, f"query {q}: logit expected {want}, got {int(logits[q])}"


# ---- helpers ---------------------------------------------------------------------


def shape_cfg(in_dim: int, mlp: list[int], frac_bits: int = 8, seed: int = 1,
              emb_shift: int = 5) -> ModelConfig:
    tables, left, i = [], in_dim, 0
    while left > 0:
        d = min(7, left)
        tables.append(TableConfig(f"t{i}", 50, d, "onchip"))
        left -= d
        i += 1
    return ModelConfig("q", tables, mlp, frac_bits=frac_bits, seed=seed, emb_shift=emb_shift)


def random_weights(cfg: ModelConfig, rng, scale: int = 60):
    """int16 weights of mixed magnitudes (odd values give rounding ties when scaled down)."""
    ws = []
    for fan_in, fan_out in cfg.layer_shapes:
        w = rng.integers(-scale, scale + 1, size=(fan_out, fan_in))
        w[rng.random(w.shape) < 0.2] = 0
        b = rng.integers(-(1 << 14), 1 << 14, size=fan_out)
        ws.append((w.astype(np.int16), b.astype(np.int32)))
    return ws


def ref_ws(cfg: ModelConfig, weights):
    return [np.asarray(w).tolist() for w, _ in weights], [np.asarray(b).tolist() for _, b in weights]


def hand_model(f: int, feat_len: int, precisions, fa, fw, weights, acc_w: int = 48) -> QuantModel:
    """A QuantModel built by the s.8.1 table from explicit fa/fw and stored weights."""
    mlp = [np.shape(w)[0] for w, _ in weights]
    cfg = shape_cfg(feat_len, mlp, frac_bits=f)
    cfg.acc_w = acc_w
    n = len(weights)
    layers = []
    for l, p in enumerate(precisions):
        fi, fwl = (fa[l], fw[l]) if p == "int8" else (f, f)
        if l == n - 1:
            bits, fo = 32, f
        elif precisions[l + 1] == "int8":
            bits, fo = 8, fa[l + 1]
        else:
            bits, fo = 16, f
        layers.append(LayerPrecision(p, fi, fwl, fi + fwl - fo, bits, l != n - 1))
    q = f - fa[0] if precisions[0] == "int8" else 0
    return QuantModel(cfg, layers, weights, q)


@pytest.fixture(scope="module")
def tiny():
    return builtin("tiny")


# ---- int16 is unchanged ------------------------------------------------------------


@pytest.mark.parametrize("name", ["tiny", "microrec_small"])
def test_all_int16_equals_golden_infer(name):
    cfg = builtin(name)
    qm = quantize(cfg, "int16")
    assert qm.shifts == [cfg.frac_bits] * len(cfg.mlp) and qm.input_shift == 0
    for (w, b), (gw, gb) in zip(qm.weights, mlp_weights(cfg)):
        assert np.array_equal(w, gw) and np.array_equal(b, gb)
    idx = uniform_queries(cfg, 20, seed=5)
    got, qt = golden_infer_q(cfg, idx, qm, return_layers=True)
    want, t = golden_infer(cfg, idx, return_layers=True)
    assert np.array_equal(got, want)
    for l in range(len(cfg.mlp)):
        assert np.array_equal(qt.acc[l], t.acc[l]) and np.array_equal(qt.out[l], t.out[l])


def test_golden_infer_q_rejects_other_config(tiny):
    other = builtin("tiny")
    other.seed = 9
    with pytest.raises(ValueError, match="qmodel"):
        golden_infer_q(other, uniform_queries(other, 2), quantize(tiny, "int8"))


# ---- cross-check against the scalar reference ------------------------------------------


STACKS = [
    ["int8", "int8", "int8"],
    ["int16", "int8", "int16"],
    ["int8", "int16", "int8"],
    ["int16", "int16", "int8"],
    ["int8", "int8", "int16"],
]


@pytest.mark.parametrize("case", [1, 2, 3])
@pytest.mark.parametrize("stack", STACKS, ids="-".join)
def test_random_shapes_match_scalar_reference(case, stack):
    rng = np.random.default_rng([case, len(stack), sum(map(len, stack))])
    cfg = shape_cfg(int(rng.integers(3, 30)), [int(rng.integers(1, 20)), int(rng.integers(1, 12)), 1],
                    frac_bits=int(rng.integers(4, 11)), seed=case)
    ws = random_weights(cfg, rng, scale=int(rng.choice([30, 300, 2000])))  # 2000 / 2^4 < 127.5: an int8 scale exists)
    qm = quantize(cfg, stack, weights=ws)
    feats = gather(cfg, uniform_queries(cfg, 12, seed=case))
    feats[0] = 32767
    feats[1] = -32768
    assert_matches_reference(qm, feats, *ref_ws(cfg, ws))


@pytest.mark.parametrize("stack", [["int16", "int8", "int16", "int8"], ["int8", "int16", "int8", "int16"],
                                   ["int8"] * 4], ids="-".join)
def test_mixed_precision_stacks_with_procedural_weights(stack):
    cfg = shape_cfg(20, [24, 16, 8, 1], seed=7)
    qm = quantize(cfg, stack)
    assert qm.precisions == stack
    for l, lp in enumerate(qm.layers[:-1]):
        assert lp.out_bits == (8 if stack[l + 1] == "int8" else 16)
    assert qm.layers[-1].out_bits == 32 and not qm.layers[-1].relu
    feats = gather(cfg, uniform_queries(cfg, 30, seed=2))
    assert_matches_reference(qm, feats, *ref_ws(cfg, mlp_weights(cfg)))


def test_tiny_int8_and_sparse_match_scalar_reference(tiny):
    w16, b16 = ref_ws(tiny, mlp_weights(tiny))
    feats = gather(tiny, uniform_queries(tiny, 25, seed=4))
    for sparsity in (None, "2:4"):
        qm = quantize(tiny, "int8", sparsity)
        assert_matches_reference(qm, feats, w16, b16)


def test_int8_rounding_and_saturation_edges():
    f = 8
    w0 = np.eye(4, dtype=np.int8)
    b0 = np.array([1, -1, 255, 0], dtype=np.int32)
    feats = np.array([[0, 0, 0, 0],          # acc 1 -> +0.5 rounds to 1; acc -1 -> -0.5 to 0
                      [2, 2, 2, 300],        # 1.5 -> 2 (acc 3), acc 1 -> 1; 300 -> 127 in
                      [-2, -3, 1, -300],     # acc -1 -> 0, -4 -> -2 -> relu 0; -300 -> -128 in
                      [127, 127, 127, 127],  # acc 256 -> 128 -> sat8 127 (hidden)
                      [-128, -128, -128, -128]], dtype=np.int16)
    # layer 1 is the logit with shift 0 (fa1 = 8, fw1 = 0): sat32 of the raw acc
    for b1, w1 in (((1 << 31) - 1, [127] * 4), (-(1 << 31), [-128] * 4), (-3, [1, 0, 0, 0])):
        weights = [(w0, b0), (np.array([w1], dtype=np.int8), np.array([b1], dtype=np.int32))]
        qm = hand_model(f, 4, ["int8", "int8"], fa=[8, 8], fw=[1, 0], weights=weights)
        assert qm.input_shift == 0 and qm.shifts == [1, 0]
        assert_matches_reference(qm, feats, [w.tolist() for w, _ in weights],
                                 [b.tolist() for _, b in weights], stored=True)
        logits, tr = qforward(qm, feats, return_layers=True)
        acc0 = tr.acc[0]
        assert (acc0 % 2 == 1).any() and ((acc0 == 1) | (acc0 == -1)).any()    # +-0.5 ties hit
        assert tr.inputs[0].max() == 127 and tr.inputs[0].min() == -128      # input conversion clips
        assert (tr.out[0] == 127).any() and (acc0 > 255).any()                 # sat8 hit
    # the last two models saturated the logit both ways
    w1 = np.array([[127] * 4], dtype=np.int8)
    qm = hand_model(f, 4, ["int8", "int8"], [8, 8], [1, 0], [(w0, b0), (w1, np.array([(1 << 31) - 1], np.int32))])
    assert qforward(qm, feats).max() == (1 << 31) - 1
    w1 = np.array([[-128] * 4], dtype=np.int8)
    qm = hand_model(f, 4, ["int8", "int8"], [8, 8], [1, 0], [(w0, b0), (w1, np.array([-(1 << 31)], np.int32))])
    assert qforward(qm, feats).min() == -(1 << 31)


def test_int8_input_conversion_rounds_half_up():
    """x8 = sat8(rshift(x16, q)): with q = 3, x16 = 4 -> 1, -4 -> 0, -12 -> -1, 1023 -> 127."""
    f = 8
    weights = [(np.eye(5, dtype=np.int8), np.zeros(5, np.int32)),
               (np.ones((1, 5), dtype=np.int8), np.zeros(1, np.int32))]
    qm = hand_model(f, 5, ["int8", "int8"], fa=[5, 5], fw=[0, 3], weights=weights)
    assert qm.input_shift == 3
    feats = np.array([[4, -4, -12, 1023, -1024], [3, -5, 12, 1020, 1019]], dtype=np.int16)
    assert_matches_reference(qm, feats, [w.tolist() for w, _ in weights], [b.tolist() for _, b in weights],
                             stored=True)
    _, tr = qforward(qm, feats, return_layers=True)
    assert tr.inputs[0].tolist()[0] == [1, 0, -1, 127, -128]     # contract examples of s.8.1


def test_all_zero_and_all_nonzero_activations():
    cfg = shape_cfg(12, [16, 8, 1])
    rng = np.random.default_rng(3)
    feats = gather(cfg, uniform_queries(cfg, 6, seed=1))
    # all-zero hidden: a bias far below any sum -> ReLU zeroes layer 0's outputs entirely
    w0 = rng.integers(-50, 50, size=(16, 12))
    zero_ws = [(w0.astype(np.int16), np.full(16, -(1 << 30), np.int32)),
               (rng.integers(-40, 40, size=(8, 16)).astype(np.int16),
                rng.integers(1 << 12, 1 << 14, size=8).astype(np.int32)),
               (rng.integers(-40, 40, size=(1, 8)).astype(np.int16), np.array([-5], np.int32))]
    # all-non-zero: positive weights and biases keep every hidden value >= 1
    pos_ws = [(rng.integers(1, 50, size=(16, 12)).astype(np.int16), np.full(16, 1 << 16, np.int32)),
              (rng.integers(1, 40, size=(8, 16)).astype(np.int16), np.full(8, 1 << 16, np.int32)),
              (rng.integers(-40, 40, size=(1, 8)).astype(np.int16), np.array([7], np.int32))]
    pos_feats = np.abs(feats.astype(np.int64)).clip(256, 32767).astype(np.int16)
    for stack in (["int8"] * 3, ["int16", "int8", "int16"], ["int16"] * 3):
        qm = quantize(cfg, stack, weights=zero_ws)
        _, tr = qforward(qm, feats, return_layers=True)
        assert (tr.inputs[1] == 0).all()
        assert (tr.acc[1] == np.asarray(qm.weights[1][1])[None, :]).all()   # acc = bias only
        assert (tr.out[1] != 0).any()                                       # requant(bias), not 0
        assert_matches_reference(qm, feats, *ref_ws(cfg, zero_ws))
        assert (skip_beats(tr.inputs[1], 4) == 1).all()
        qm = quantize(cfg, stack, weights=pos_ws)
        _, tr = qforward(qm, pos_feats, return_layers=True)
        assert all((x != 0).all() for x in tr.inputs)
        assert_matches_reference(qm, pos_feats, *ref_ws(cfg, pos_ws))
        assert (skip_beats(tr.inputs[1], 4) == 4).all()                     # ceil(16 / 4): dense


# ---- the check can fail: mutated models --------------------------------------------------


def _truncating_shift(acc, shift):
    return np.asarray(acc, dtype=np.int64) >> shift if shift else np.asarray(acc, dtype=np.int64)


def _sat_one_low(x, bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(np.asarray(x, dtype=np.int64), lo, hi - 1 if bits == 8 else hi)


@pytest.mark.parametrize("target, attr, bug", [
    (fixed_point, "round_shift_q", _truncating_shift),     # rounding rule: truncate
    (fixed_point, "sat", _sat_one_low),                     # sat8 one below 127
    (quant, "sat8", lambda x: np.asarray(x, dtype=np.int64)),  # input conversion does not clip
], ids=["truncate", "sat8-high", "input-no-clip"])
def test_cross_check_catches_a_mutated_model(monkeypatch, tiny, target, attr, bug):
    feats = gather(tiny, uniform_queries(tiny, 40, seed=8))
    feats[0] = 32767
    qm = quantize(tiny, "int8")
    w16, b16 = ref_ws(tiny, mlp_weights(tiny))
    assert_matches_reference(qm, feats, w16, b16)
    monkeypatch.setattr(target, attr, bug)
    with pytest.raises(AssertionError):
        assert_matches_reference(qm, feats, w16, b16)


# ---- scale choice (s.8.3) ---------------------------------------------------------------


def r_w_frac(f: int, w16) -> int:
    m = max(abs(v) for row in w16 for v in row)
    return max(c for c in range(16) if round(Fraction(m) * Fraction(2) ** (c - f)) <= 127)


def r_error(values: list[int], f: int, c: int) -> int:
    k = f - c
    return sum((r_sat(r_rshift(a, k), 8) * 2 ** k - a) ** 2 for a in values)


def test_scale_choice_follows_the_rule(tiny):
    """fw: largest scale without clipping; fa: least squared error on the calibration set."""
    f = tiny.frac_bits
    qm = quantize(tiny, "int8")
    w16 = ref_weights(tiny.seed, f, tiny.layer_shapes)
    for lp, (w, _) in zip(qm.layers, w16):
        assert lp.w_frac == r_w_frac(f, w)
    # int16 values entering each layer on the calibration set, by the scalar reference
    dims = [t.dim for t in tiny.tables]
    calib = uniform_queries(tiny, quant.CALIB_QUERIES, seed=quant.CALIB_SEED)
    seen = [[] for _ in w16]
    for row in calib.tolist():
        x = ref_features(tiny.seed, tiny.emb_shift, dims, row)
        for l, (w, b) in enumerate(w16):
            seen[l] += x
            x = [max(r_sat(r_rshift(sum(a * v for a, v in zip(r, x)) + bj, f), 16), 0)
                 for r, bj in zip(w, b)]
    for l, lp in enumerate(qm.layers):
        errs = {c: r_error(seen[l], f, c) for c in range(f + 1)}
        best = min(errs.values())
        assert lp.in_frac == max(c for c, e in errs.items() if e == best), f"layer {l}: {errs}"


def test_scale_choice_is_deterministic(tiny):
    a = quantize(tiny, "int8", "2:4")
    np.random.seed(123)                      # global NumPy state must not matter
    np.random.random(1000)
    b = quantize(copy.deepcopy(tiny), "int8", "2:4")
    assert a.describe() == b.describe()
    for (wa, ba), (wb, bb) in zip(a.weights, b.weights):
        assert np.array_equal(wa, wb) and np.array_equal(ba, bb)
    assert a.weights[0][0].dtype == np.int8 and a.weights[0][1].dtype == np.int32


def test_scale_search_keeps_every_shift_in_range():
    """F = 14 squeezes the shifts (int16 -> int8 needs fa >= 2F - 15 = 13)."""
    cfg = shape_cfg(10, [12, 6, 1], frac_bits=14, emb_shift=0)
    for stack in (["int16", "int8", "int16"], ["int16", "int8", "int8"], ["int8"] * 3,
                  ["int8", "int16", "int8"]):
        qm = quantize(cfg, stack)           # validate() checks every shift is 0..15
        assert all(0 <= s <= 15 for s in qm.shifts)
        if stack[0] == "int16" and stack[1] == "int8":
            assert qm.layers[1].in_frac >= 13
        feats = gather(cfg, uniform_queries(cfg, 8, seed=1))
        assert_matches_reference(qm, feats, *ref_ws(cfg, mlp_weights(cfg)))


def test_feasible_in_fracs_always_allows_f():
    for precisions in (["int8"] * 3, ["int16", "int8", "int8"], ["int8", "int16", "int8"]):
        for fw in ({0: 0, 1: 0, 2: 0}, {0: 15, 1: 15, 2: 15}, {0: 3, 1: 12, 2: 0}):
            for f in (1, 8, 14):
                feas = quant.feasible_in_fracs(precisions, fw, f)
                assert all(f in v for v in feas.values())


# ---- validation names the field -------------------------------------------------------


def _tiny_layers(tiny):
    qm = quantize(tiny, ["int8", "int8", "int16"])
    return qm, list(qm.layers)


@pytest.mark.parametrize("l, change, field", [
    (0, {"precision": "int4"}, r"layers\[0\]\.precision"),
    (1, {"sparsity": "1:4"}, r"layers\[1\]\.sparsity"),
    (1, {"shift": lambda lp: lp.shift + 1}, r"layers\[1\]\.shift"),
    (0, {"in_frac": 9, "shift": 9 + 7 - 4}, r"layers\[0\]\.in_frac"),
    (1, {"w_frac": 16, "shift": 20 - 8}, r"layers\[1\]\.w_frac"),
    (1, {"w_frac": 15}, r"layers\[1\]\.shift: must be"),   # frac(acc) changed, shift not
    (2, {"in_frac": 7, "shift": 7}, r"layers\[2\]\.in_frac"),  # int16 uses F
    (1, {"out_bits": 8}, r"layers\[1\]\.out_bits"),
    (2, {"relu": True}, r"layers\[2\]\.relu"),
    (0, {"shift": True}, r"layers\[0\]\.shift"),
])
def test_validation_names_the_field(tiny, l, change, field):
    qm, layers = _tiny_layers(tiny)
    d = qm.layers[l].__dict__ | {k: v(qm.layers[l]) if callable(v) else v for k, v in change.items()}
    layers[l] = LayerPrecision(**d)
    with pytest.raises(ConfigError, match=field):
        QuantModel(qm.cfg, layers, qm.weights, qm.input_shift)


def test_validation_of_shift_range_weights_and_input_shift(tiny):
    qm, layers = _tiny_layers(tiny)
    with pytest.raises(ConfigError, match="input_shift"):
        QuantModel(qm.cfg, layers, qm.weights, qm.input_shift + 1)
    with pytest.raises(ConfigError, match="layers: 2 entries"):
        QuantModel(qm.cfg, layers[:2], qm.weights, qm.input_shift)
    bad = list(qm.weights)
    bad[0] = (qm.weights[0][0].astype(np.int16) * 3, qm.weights[0][1])
    with pytest.raises(ConfigError, match=r"weights\[0\]: W outside the int8 range"):
        QuantModel(qm.cfg, layers, bad, qm.input_shift)
    bad[0] = (qm.weights[0][0][:, :3], qm.weights[0][1])
    with pytest.raises(ConfigError, match=r"weights\[0\]: expected W"):
        QuantModel(qm.cfg, layers, bad, qm.input_shift)
    # shifts outside 0..15: a last int8 layer with fa + fw < F; int16 -> int8 at F = 14 with fa = 0
    ws = [(np.eye(2, dtype=np.int8), np.zeros(2, np.int32)), (np.ones((1, 2), np.int8), np.zeros(1, np.int32))]
    with pytest.raises(ConfigError, match=r"layers\[1\]\.shift: .* = -8 is outside 0\.\.15"):
        hand_model(8, 2, ["int8", "int8"], [0, 0], [0, 0], ws)
    ws[0] = (np.eye(2, dtype=np.int16), np.zeros(2, np.int32))
    with pytest.raises(ConfigError, match=r"layers\[0\]\.shift: .* = 28 is outside 0\.\.15"):
        hand_model(14, 2, ["int16", "int8"], [None, 0], [None, 14], ws)
    # acc_w below the int16 bound (a config edited after validation)
    cfg = copy.deepcopy(qm.cfg)
    cfg.acc_w = 34                           # int16 layer 2 (fan-in 8) needs 35
    with pytest.raises(ConfigError, match="acc_w: layer 2"):
        QuantModel(cfg, layers, qm.weights, qm.input_shift)


def test_int8_accumulator_bound_is_tight():
    for fan_in in (1, 100, 1 << 16, (1 << 17) + 1, 1 << 20):
        w = quant.min_acc_w_int8(fan_in)
        worst = fan_in * (1 << 14) + (1 << 31)
        assert worst <= 1 << (w - 1) and worst > 1 << (w - 2)
    assert quant.min_acc_w_int8(1 << 16) == 33


def test_quantize_argument_errors(tiny):
    with pytest.raises(ConfigError, match=r"precision\[1\]"):
        quantize(tiny, ["int8", "fp8", "int8"])
    with pytest.raises(ConfigError, match="precision: 2 entries"):
        quantize(tiny, ["int8", "int8"])
    with pytest.raises(ConfigError, match=r"sparsity\[0\]"):
        quantize(tiny, "int8", "4:8")
    ws = mlp_weights(tiny)
    ws[1] = (np.full_like(ws[1][0], 32767), ws[1][1])   # 128 in real units: no int8 scale
    with pytest.raises(ConfigError, match=r"layers\[1\]\.w_frac"):
        quantize(tiny, "int8", weights=ws)
    assert quantize(tiny, ["int8", "int16", "int8"], weights=ws).layers[1].precision == "int16"


# ---- 2:4 sparsity (s.8.5) ----------------------------------------------------------------


def test_prune_keeps_two_largest_ties_to_lower_position():
    w = np.array([[5, -5, 5, 1, 0, 0, 3, 0, -7, 2],
                  [1, 2, 3, 4, 4, 3, 2, 1, 0, 0]])
    p = prune_2_4(w)
    assert p.tolist() == [[5, -5, 0, 0, 0, 0, 3, 0, -7, 2],
                          [0, 0, 3, 4, 4, 3, 0, 0, 0, 0]]
    rng = np.random.default_rng(0)
    for fan_in in (1, 2, 3, 4, 5, 11, 64):
        w = rng.integers(-4, 5, size=(7, fan_in))
        p = prune_2_4(w)
        assert p.tolist() == [r_prune_row(r) for r in w.tolist()]
        assert np.array_equal(prune_2_4(p), p)                       # idempotent
        check_2_4(p)
        vals, pos = compress_2_4(p)
        assert (pos[..., 0] < pos[..., 1]).all() and pos.max() <= 3
        assert np.array_equal(decompress_2_4(vals, pos, fan_in), p)


def test_compress_positions_are_canonical():
    vals, pos = compress_2_4(np.array([[0, 0, 3, 0, 0, 0, 0, 0, 0, -2, 0, 5, 7]]))
    assert pos[0].tolist() == [[0, 2], [0, 1], [1, 3], [0, 1]]
    assert vals[0].tolist() == [[0, 3], [0, 0], [-2, 5], [7, 0]]


def test_check_2_4_names_neuron_and_group():
    w = np.zeros((3, 9), dtype=np.int64)
    w[2, 4:7] = [1, 1, 1]
    with pytest.raises(ConfigError, match="neuron 2 group 1"):
        check_2_4(w, "weights[0]")
    qm = quantize(builtin("tiny"), "int8", "2:4")
    layers = qm.layers
    bad = list(qm.weights)
    bad[1] = (np.ones_like(qm.weights[1][0]), qm.weights[1][1])
    with pytest.raises(ConfigError, match=r"weights\[1\]: neuron 0 group 0"):
        QuantModel(qm.cfg, layers, bad, qm.input_shift)


def test_sparse_int8_is_the_quantized_pruned_model(tiny):
    sp16 = quantize(tiny, "int16", "2:4")
    sp8 = quantize(tiny, "int8", "2:4")
    for (w16, _), (w8, _), lp in zip(sp16.weights, sp8.weights, sp8.layers):
        check_2_4(w8)
        assert np.array_equal(w16, prune_2_4(w16))
        exp = np.rint(np.ldexp(w16.astype(float), lp.w_frac - tiny.frac_bits))
        assert np.array_equal(w8, exp)
    idx = uniform_queries(tiny, 10, seed=1)
    pruned = [(w, b) for w, b in sp16.weights]
    assert np.array_equal(golden_infer_q(tiny, idx, sp16), golden_infer(tiny, idx, pruned))


# ---- fidelity metrics and the zero-skip model (s.8.7) ----------------------------------


def test_rank_metrics():
    assert average_ranks([10, 20, 20, 5]).tolist() == [2.0, 3.5, 3.5, 1.0]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert top_k([3, 5, 5, 1, 5], 2).tolist() == [1, 2]          # ties -> lower index
    m = logit_metrics([0.0, 1.0, 2.0], [0.5, 1.0, 2.0], k=1)
    assert m["mean_abs"] == pytest.approx(0.5 / 3) and m["max_abs"] == 0.5 and m["top_overlap"] == 1.0


def test_fidelity_report_shape_and_sanity(tiny):
    fid = fidelity(tiny, n_queries=200)
    v = fid["variants"]
    assert set(v) == {"int16", "int8", "int8+2:4", "int16+2:4"}
    assert v["int16"]["vs_int16"] == {"mean_abs": 0.0, "max_abs": 0.0, "spearman": 1.0,
                                      "top_overlap": 1.0}
    # int8 stays close to int16: well inside the logit spread (loose regression guard)
    assert v["int8"]["vs_int16"]["spearman"] > 0.99
    assert v["int8"]["vs_int16"]["mean_abs"] < 0.1 * np.std(golden_infer(
        tiny, uniform_queries(tiny, 200, seed=quant.FIDELITY_SEED)) / 256)
    assert fid["int16_vs_float"]["max_abs"] < 0.05


def r_skip_beats(x: list[int], s: int) -> int:
    lanes = [0] * s
    for i, v in enumerate(x):
        if v != 0:
            lanes[i % s] += 1
    return max(1, max(lanes))


def test_skip_beats_matches_loop_reference():
    rng = np.random.default_rng(5)
    s = 6
    patterns = [np.zeros(20), np.ones(20), np.arange(20) % 2, (np.arange(20) % s == 0),
                np.ones(1), rng.random(37) < 0.5, rng.random(37) < 0.1]
    for x in patterns:
        x = np.asarray(x, dtype=np.int64)
        assert skip_beats(x, s)[0] == r_skip_beats(x.tolist(), s)
        assert compact_beats(x, s)[0] == max(1, -(-int(np.count_nonzero(x)) // s))
        assert compact_beats(x, s)[0] <= skip_beats(x, s)[0] <= -(-len(x) // s)
    assert skip_beats(np.ones(20), s)[0] == 4 and skip_beats(np.zeros(20), s)[0] == 1
    # alternating zeros with an even lane count: half the lanes idle, no gain
    assert skip_beats(np.arange(24) % 2, s)[0] == 4


def test_zero_skip_order_changes_no_number():
    """s.8.4: summing only the non-zero inputs, lane by lane in residue-class order, gives acc."""
    cfg = shape_cfg(30, [40, 20, 1], seed=4)
    s = 6
    for prec in ("int8", "int16"):
        qm = quantize(cfg, prec)
        _, tr = qforward(qm, gather(cfg, uniform_queries(cfg, 5, seed=6)), return_layers=True)
        for l, (w, b) in enumerate(qm.weights):
            w, b = np.asarray(w).tolist(), np.asarray(b).tolist()
            for q, x in enumerate(tr.inputs[l].tolist()):
                for n in range(len(w)):
                    acc = b[n]
                    for c in range(s):
                        for i in range(c, len(x), s):
                            if x[i] != 0:
                                acc += w[n][i] * x[i]
                    assert acc == tr.acc[l][q][n]


def test_mlp_cycles_dense_is_the_bank_plan():
    from tb.mlp.mlp_layout import EngineBuild, bank_plan
    cfg = builtin("microrec_small")
    idx = uniform_queries(cfg, 16, seed=3)
    for prec, u in (("int16", 24), ("int8", 24)):
        qm = quantize(cfg, prec)
        lanes = u if prec == "int16" else 2 * u
        plan = bank_plan(EngineBuild(P=128, U=lanes), cfg.layer_shapes)
        dense = mlp_cycles(qm, idx, 128, u)
        assert (dense == sum(p["cycles"] for p in plan)).all()
        skip = mlp_cycles(qm, idx, 128, u, skip=True)
        compact = mlp_cycles(qm, idx, 128, u, skip="compact")
        assert (compact <= skip).all() and (skip <= dense).all() and (skip < dense).any()
        zf = zero_fractions(qm, idx)
        assert len(zf) == 4 and zf[0] < 0.05 and all(0.3 < z < 0.7 for z in zf[1:])
    qm = quantize(cfg, "int8", "2:4")
    plan = bank_plan(EngineBuild(P=128, U=2 * 2 * 24), [(-(-i // 4) * 4, o) for i, o in cfg.layer_shapes])
    assert (mlp_cycles(qm, idx, 128, 24) == sum(p["cycles"] for p in plan)).all()
    with pytest.raises(ValueError, match="skip"):
        mlp_cycles(qm, idx, 128, 24, skip=True)
    with pytest.raises(ValueError, match="skip"):
        mlp_cycles(quantize(cfg, "int8"), idx, 128, 24, skip="greedy")


def test_fixed_point_shift_helpers():
    for acc in (-(1 << 40) - 1, -3, -2, -1, 0, 1, 2, 3, (1 << 40) + 1):
        for s in range(16):
            assert fixed_point.round_shift_q(acc, s) == r_rshift(acc, s)
            assert fixed_point.round_shift_q(np.array([acc]), s)[0] == r_rshift(acc, s)
            for bits in (8, 16, 32):
                for relu in (False, True):
                    want = r_sat(r_rshift(acc, s), bits)
                    want = max(want, 0) if relu else want
                    assert fixed_point.requant_q(acc, s, bits, relu) == want
    assert fixed_point.sat8(200) == 127 and fixed_point.sat8(-200) == -128
    with pytest.raises(ValueError, match="shift"):
        fixed_point.round_shift_q(1, 16)
    with pytest.raises(ValueError, match="out_bits"):
        fixed_point.requant_q(1, 1, 12, False)


def test_report_runs(capsys):
    from models.quant_report import main
    main(["tiny", "--queries", "50", "--P", "4", "--U", "4"])
    out = capsys.readouterr().out
    for want in ("int8+2:4", "mixed", "residue", "compact", "items/cycle"):
        assert want in out


def test_mixed_has_one_meaning():
    """"mixed" is one stack everywhere: the host driver, `make sim` and the fidelity report
    all take models.quant.mixed_precisions (they once disagreed on which layers were int8)."""
    from models.config import builtin
    from models.quant import MIXED, mixed_precisions
    from models.quant_report import report_variants
    from tb.host.microrec_host import MicrorecHost
    cfg = builtin("microrec_small")
    n = len(cfg.layer_shapes)
    assert mixed_precisions(n) == ["int16"] + ["int8"] * (n - 1)
    assert dict((v[0], v[1]) for v in report_variants(cfg))[MIXED] == mixed_precisions(n)
    host = MicrorecHost.__new__(MicrorecHost)
    assert host.quantized(cfg, MIXED).precisions == mixed_precisions(n)
    with pytest.raises(ValueError, match="n_layers"):
        mixed_precisions(0)
