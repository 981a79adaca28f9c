"""Transactions and sequences of the MLP engine bench: a phase item (shapes, F and
weights: a (re)configuration) and an inference item (one feature vector); random,
odd-shape, extreme, ReLU, model, reconfiguration and all-in-one sequences."""
from __future__ import annotations

import numpy as np
from pyuvm import (
    ConfigDB,
    uvm_sequence,
    uvm_sequence_item,
)

from models.config import builtin
from models.golden import gather, mlp_weights
from models.queries import uniform_queries
from tb.common.seeding import py_random, rng
from tb.mlp.mlp_layout import (
    EngineBuild,
    fits,
    shape_config,
)
from tb.common.config_db import knob

INT16_MIN, INT16_MAX = -32768, 32767


# --------------------------------------------------------------------------
# transactions
# --------------------------------------------------------------------------
class MlpPhaseItem(uvm_sequence_item):
    """A configuration: golden-model config (shape, F) plus weights."""

    count = 0

    def __init__(self, name="phase", cfg=None, weights=None, label=""):
        super().__init__(name)
        self.cfg = cfg
        self.weights = weights
        self.label = label or name
        MlpPhaseItem.count += 1
        self.index = MlpPhaseItem.count
        self.perf = None  # filled by the driver when the phase ends

    @property
    def shapes(self):
        return list(self.cfg.layer_shapes)

    def __str__(self):
        return f"Phase#{self.index}({self.label}: {self.shapes}, F={self.cfg.frac_bits})"


class MlpInferItem(uvm_sequence_item):
    def __init__(self, name="infer", features=None, phase=None):
        super().__init__(name)
        self.features = np.asarray(features, dtype=np.int16)
        self.phase = phase
        self.tag = 0
        self.expected = None  # (logit, per-layer acc list), from the golden model

    def __str__(self):
        return f"Infer(tag={self.tag}, {self.phase}, x[:6]={self.features[:6].tolist()})"


# --------------------------------------------------------------------------
# sequences
# --------------------------------------------------------------------------
class MlpBaseSeq(uvm_sequence):
    """Helpers: make a phase, send it, send inferences."""

    def build(self) -> EngineBuild:
        return ConfigDB().get(None, "", "build")

    async def send(self, item):
        await self.start_item(item)
        await self.finish_item(item)

    async def phase(self, cfg, weights, label) -> MlpPhaseItem:
        ph = MlpPhaseItem(label, cfg, weights, label)
        await self.send(ph)
        return ph

    async def infer(self, ph, feats):
        for i, x in enumerate(feats):
            await self.send(MlpInferItem(f"{ph.label}.{i}", x, ph))

    def random_shape(self, rnd, max_layers=None, max_dim=None):
        b = self.build()
        max_layers = max_layers or b.MAX_LAYERS
        max_dim = min(max_dim or 70, b.MAX_DIM)
        while True:
            n = rnd.randint(1, max_layers)
            in_dim = rnd.randint(1, max_dim)
            mlp = [rnd.randint(1, max_dim) for _ in range(n - 1)] + [1]
            shapes = list(zip([in_dim] + mlp[:-1], mlp))
            if fits(b, shapes):
                return in_dim, mlp

    @staticmethod
    def random_weights(g, cfg, scale=None):
        out = []
        for fan_in, fan_out in cfg.layer_shapes:
            s = scale or int(g.choice([32767, 4096, 600, 60]))
            w = g.integers(-s - 1, s + 1, size=(fan_out, fan_in)).astype(np.int16)
            b = g.integers(-(2**20), 2**20, size=fan_out).astype(np.int32)
            out.append((w, b))
        return out


class MlpRandomSeq(MlpBaseSeq):
    """Random shapes (odd sizes included), F, weights and activations."""

    async def body(self):
        rnd, g = py_random(11), rng(11)
        for p in range(knob("num_phases", 3)):
            in_dim, mlp = self.random_shape(rnd)
            cfg = shape_config(in_dim, mlp, frac_bits=rnd.choice([4, 8, 8, 10, 14]))
            ph = await self.phase(cfg, self.random_weights(g, cfg), f"random{p}")
            s = int(g.choice([32767, 2000, 256]))
            await self.infer(ph, g.integers(-s - 1, s + 1, size=(knob("num_items", 6), in_dim)))


class MlpOddShapeSeq(MlpBaseSeq):
    """Sizes around the multiples of P and U: 1, U-1, U, U+1, P-1, P, P+1, 2P+1."""

    async def body(self):
        b = self.build()
        rnd, g = py_random(12), rng(12)
        ins = sorted({1, max(1, b.U - 1), b.U, b.U + 1, 2 * b.U, 2 * b.U + 1})
        outs = sorted({1, max(1, b.P - 1), b.P, b.P + 1, 2 * b.P, 2 * b.P + 1})
        cases = [(i, [o, 1]) for i in ins for o in outs]
        rnd.shuffle(cases)
        for n, (in_dim, mlp) in enumerate(cases[:knob("num_phases", 8)]):
            if rnd.random() < 0.5:
                mlp = [rnd.choice(outs)] + mlp
            cfg = shape_config(in_dim, mlp, frac_bits=8)
            ph = await self.phase(cfg, self.random_weights(g, cfg, 3000), f"odd{n}")
            await self.infer(ph, g.integers(-3000, 3001, size=(3, in_dim)))


class MlpExtremeSeq(MlpBaseSeq):
    """Saturation at both int16 bounds in hidden layers and int32 at the logit."""

    async def body(self):
        rnd, g = py_random(13), rng(13)
        ext = np.array([INT16_MIN, INT16_MAX, INT16_MIN + 1, -1, 0, 1], dtype=np.int64)
        for p in range(knob("num_phases", 3)):
            in_dim, mlp = self.random_shape(rnd, max_dim=40)
            cfg = shape_config(in_dim, mlp, frac_bits=rnd.choice([1, 2, 8, 14]))
            weights = []
            for fan_in, fan_out in cfg.layer_shapes:
                w = g.choice(ext, size=(fan_out, fan_in)).astype(np.int16)
                bias = g.choice(np.array([-(2**31), 2**31 - 1, 0, -1]), size=fan_out).astype(np.int32)
                weights.append((w, bias))
            ph = await self.phase(cfg, weights, f"extreme{p}")
            await self.infer(ph, g.choice(ext, size=(knob("num_items", 6), in_dim)))
        # every hidden-layer size class vs P (fewer, equal, a multiple, a partial last round)
        # saturating, so idle PEs' flags in a partial round are seen not to count
        b = self.build()
        for n, mlp in enumerate(([max(1, b.P - 1), b.P, 2 * b.P, 1], [2 * b.P + 1, b.P + 1, 1])):
            cfg = shape_config(23, mlp, frac_bits=2)
            weights = [(g.choice(ext, size=(o, i)).astype(np.int16), np.zeros(o, np.int32))
                       for i, o in cfg.layer_shapes]
            ph = await self.phase(cfg, weights, f"sat_shapes{n}")
            await self.infer(ph, g.choice(ext, size=(3, 23)))
        # hidden outputs pinned at +32767 feed a logit that saturates int32 high, then low
        for sign in (1, -1):
            cfg = shape_config(9, [17, 1], frac_bits=1)
            w0 = np.full((17, 9), INT16_MAX, dtype=np.int16)
            w1 = np.full((1, 17), INT16_MAX if sign > 0 else INT16_MIN, dtype=np.int16)
            weights = [(w0, np.zeros(17, np.int32)), (w1, np.array([sign * (2**31 - 1)], np.int32))]
            ph = await self.phase(cfg, weights, f"logit_sat{'+' if sign > 0 else '-'}")
            await self.infer(ph, np.full((2, 9), INT16_MAX, dtype=np.int16))


class MlpReluSeq(MlpBaseSeq):
    """An all-zero layer, then an all-negative layer (ReLU clips every output)."""

    async def body(self):
        g = rng(14)
        for kind in ("zero", "negative"):
            cfg = shape_config(37, [13, 7, 1], frac_bits=8)
            weights = self.random_weights(g, cfg, 2000)
            w, bias = weights[1]
            if kind == "zero":
                weights[1] = (np.zeros_like(w), np.zeros_like(bias))
            else:
                weights[0] = (np.abs(weights[0][0]), np.abs(weights[0][1]))
                weights[1] = (-np.abs(w) - 1, -np.abs(bias) - 1)
            ph = await self.phase(cfg, weights, f"relu_{kind}")
            await self.infer(ph, g.integers(0, 3000, size=(4, 37)))


class MlpModelSeq(MlpBaseSeq):
    """A built-in model with its golden weights and real looked-up features."""

    model = "tiny"

    async def body(self):
        cfg = builtin(knob("model", self.model))
        idx = uniform_queries(cfg, knob("num_items", 8), seed=int(rng(15).integers(1 << 30)))
        ph = await self.phase(cfg, mlp_weights(cfg), cfg.name)
        await self.infer(ph, gather(cfg, idx))


class MlpReconfigSeq(MlpBaseSeq):
    """Shapes change between runs of one build: tiny, random, tiny again."""

    async def body(self):
        rnd, g = py_random(16), rng(16)
        tiny = builtin("tiny")
        for n in range(3):
            if n == 1:
                in_dim, mlp = self.random_shape(rnd)
                cfg = shape_config(in_dim, mlp, frac_bits=rnd.choice([6, 9]))
                weights, label = self.random_weights(g, cfg), "reconf_random"
            else:
                cfg, weights, label = tiny, mlp_weights(tiny), f"reconf_tiny{n}"
            ph = await self.phase(cfg, weights, label)
            await self.infer(ph, g.integers(-500, 501, size=(5, cfg.feature_len)))


class MlpLayerCountersSeq(MlpBaseSeq):
    """Layers 1 and 3 (not only 0 and 2) as hidden and as last layers, quiet and saturating:
    their per-layer counters (busy, MACs, saturation, ReLU, both stall causes) count as
    much as layer 0's, and every hidden-layer size class is seen without saturation too."""

    async def body(self):
        b = self.build()
        g = rng(17)
        ext = np.array([INT16_MIN, INT16_MAX, INT16_MIN + 1, -1, 0, 1], dtype=np.int64)
        n = max(40, knob("num_items", 6))
        for label, mlp, extreme in (("quiet4", [max(1, b.P - 1), 2 * b.P, b.P, 1], False),
                                    ("extreme4", [b.P + 1, 2 * b.P + 1, max(1, b.P - 1), 1], True),
                                    ("extreme2", [2 * b.P + 1, 1], True)):
            cfg = shape_config(23, mlp, frac_bits=2 if extreme else 8)
            if extreme:
                weights = [(g.choice(ext, size=(o, i)).astype(np.int16), np.zeros(o, np.int32))
                           for i, o in cfg.layer_shapes]
                feats = g.choice(ext, size=(n, 23))
            else:
                weights = self.random_weights(g, cfg, 60)
                feats = g.integers(-200, 201, size=(n, 23))
            ph = await self.phase(cfg, weights, label)
            await self.infer(ph, feats)


class MlpAllSeq(MlpBaseSeq):
    """Every stimulus class in one run (the injected-bug check uses it)."""

    async def body(self):
        for cls in (MlpModelSeq, MlpRandomSeq, MlpOddShapeSeq, MlpExtremeSeq, MlpReluSeq):
            await cls(cls.__name__).start(self.sequencer)
