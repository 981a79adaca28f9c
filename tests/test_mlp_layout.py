"""Host-side layout of the MLP engine banks (tb/mlp/mlp_layout.py): pure Python."""
from __future__ import annotations

import numpy as np

from models.config import builtin
from models.golden import mlp_weights
from tb.mlp.mlp_layout import (
    EngineBuild,
    bank_plan,
    config_ports,
    feature_beats,
    fits,
    shape_config,
    weight_writes,
)


def test_microrec_small_schedule_meets_issue_targets():
    """128 PEs x 24 lanes (3072): 347 array cycles per inference, no padding loss beyond 5%."""
    cfg = builtin("microrec_small")
    plan = bank_plan(EngineBuild(P=128, U=24), cfg.layer_shapes)
    cycles = sum(lp["cycles"] for lp in plan)
    macs = sum(lp["macs"] for lp in plan)
    assert macs == 1_016_064
    assert cycles == 347
    assert 1 / cycles >= 2.54e-3
    assert macs / cycles / 3072 >= 0.95


def test_weight_writes_cover_every_weight_once():
    b = EngineBuild(P=6, U=20)
    cfg = shape_config(45, [13, 7, 1])
    weights = mlp_weights(cfg)
    writes = weight_writes(b, weights)
    keys = [(w[0], w[1], w[2]) for w in writes]
    assert len(keys) == len(set(keys))
    plan = bank_plan(b, cfg.layer_shapes)
    n_w = sum(o * lp["beats"] for (_, o), lp in zip(cfg.layer_shapes, plan))
    n_b = sum(o for _, o in cfg.layer_shapes)
    assert sum(1 for w in writes if w[0] == 0) == n_w
    assert sum(1 for w in writes if w[0] == 1) == n_b
    # neuron 7 of layer 0 -> PE 1, round 1; beat 2 holds inputs 40..44 then zeros
    w0 = weights[0][0]
    word = {(p, a): d for bias, p, a, d in writes if bias == 0}[(1, 1 * 3 + 2)]
    lanes = [(word >> (16 * i)) & 0xFFFF for i in range(20)]
    assert lanes[:5] == [int(v) & 0xFFFF for v in w0[7, 40:45]]
    assert lanes[5:] == [0] * 15


def test_fits_and_ports():
    b = EngineBuild(P=6, U=20)
    assert fits(b, builtin("microrec_small").layer_shapes)
    assert fits(b, builtin("tiny").layer_shapes)
    assert not fits(b, [(8, 4), (4, 2)])
    assert not fits(b, [(1024, 1024)] * 3 + [(1024, 1)])
    ports = config_ports(b, [(352, 1024), (1024, 1)], 8)
    assert ports["cfg_out_dims"] == 1024 | (1 << 11)
    assert feature_beats(b, np.arange(17))[1] == 16


def test_int8_words_pack_2u_bytes_in_input_order():
    """contracts s.6: byte j of an int8 word (layer l, neuron n, beat k) is W[n, k*2U + j];
    an int8 layer takes ceil(fan_in / 2U) beats; a mixed model packs each layer its own way."""
    from models.quant import quantize
    b = EngineBuild(P=6, U=20)
    cfg = shape_config(45, [13, 7, 1])
    precs = ["int8", "int16", "int8"]
    qm = quantize(cfg, precs)
    plan = bank_plan(b, cfg.layer_shapes, precs)
    assert [lp["beats"] for lp in plan] == [2, 1, 1]          # ceil(45/40), ceil(13/20), ceil(7/40)
    writes = {(bias, pe, addr): data for bias, pe, addr, data in weight_writes(b, qm.weights, precs)}
    for l, ((w, _), lp, prec) in enumerate(zip(qm.weights, plan, precs)):
        S, width = (2 * b.U, 8) if prec == "int8" else (b.U, 16)
        out, fin = w.shape
        for n in range(out):
            for k in range(lp["beats"]):
                word = writes[(0, n % b.P, lp["wbase"] + (n // b.P) * lp["beats"] + k)]
                for j in range(S):
                    v = (word >> (width * j)) & ((1 << width) - 1)
                    v -= (1 << width) if v >> (width - 1) else 0
                    i = k * S + j
                    assert v == (int(w[n, i]) if i < fin else 0), (l, n, k, j)


def test_engine_counts_dense_equal_the_bank_plan():
    """Without skipping, beats and MACs are the bank plan's whatever the activations."""
    from tb.mlp.mlp_layout import engine_counts
    b = EngineBuild(P=6, U=20)
    shapes = [(45, 13), (13, 7), (7, 1)]
    precs = ["int8", "int16", "int8"]
    g = np.random.default_rng(3)
    inputs = [g.integers(-3, 3, size=(5, i)) for i, _ in shapes]
    plan = bank_plan(b, shapes, precs)
    got = engine_counts(b, precs, shapes, inputs, zero_skip=False)
    assert got == [(5 * lp["cycles"], 5 * lp["macs"]) for lp in plan]
    skip = engine_counts(b, precs, shapes, [np.zeros_like(x) for x in inputs], zero_skip=True)
    assert skip == [(5 * lp["rounds"], 0) for lp in plan]   # one beat a round, nothing issued
