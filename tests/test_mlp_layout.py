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
