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
    """A configuration: golden-model config (shape, F) plus weights; or a
    models.quant.QuantModel (per-layer precision and shift, its own weights);
    and whether the engine skips zero activations."""

    count = 0

    def __init__(self, name="phase", cfg=None, weights=None, label="", qmodel=None, zero_skip=False,
                 vec=False):
        super().__init__(name)
        self.vec = bool(vec)   # a VEC_OUT build: the last layer is relu(sat16), all of it leaves
        self.cfg = qmodel.cfg if qmodel is not None else cfg
        self.weights = qmodel.weights if qmodel is not None else weights
        self.qmodel = qmodel
        self.zero_skip = bool(zero_skip)
        self.label = label or name
        MlpPhaseItem.count += 1
        self.index = MlpPhaseItem.count
        self.perf = None  # filled by the driver when the phase ends

    @property
    def shapes(self):
        return list(self.cfg.layer_shapes)

    @property
    def precisions(self):
        return self.qmodel.precisions if self.qmodel is not None else ["int16"] * len(self.shapes)

    def __str__(self):
        q = (f", {'/'.join(self.qmodel.precisions)} shifts {self.qmodel.shifts} q={self.qmodel.input_shift}"
             if self.qmodel is not None else "")
        return (f"Phase#{self.index}({self.label}: {self.shapes}, F={self.cfg.frac_bits}{q}, "
                f"zero_skip={int(self.zero_skip)}{', vector out' if self.vec else ''})")


class MlpInferItem(uvm_sequence_item):
    def __init__(self, name="infer", features=None, phase=None):
        super().__init__(name)
        self.features = np.asarray(features, dtype=np.int16)
        self.phase = phase
        self.tag = 0
        self.expected = None  # (logit or vector, per-layer acc list, per-layer input), golden model
        self.expected_vec = None  # a sequence's own golden vector, when it has one (MlpVecBottomSeq)

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

    async def phase(self, cfg, weights, label, qmodel=None, zero_skip=False) -> MlpPhaseItem:
        ph = MlpPhaseItem(label, cfg, weights, label, qmodel=qmodel, zero_skip=zero_skip,
                          vec=bool(self.build().VEC_OUT))
        await self.send(ph)
        return ph

    async def infer(self, ph, feats):
        for i, x in enumerate(feats):
            await self.send(MlpInferItem(f"{ph.label}.{i}", x, ph))

    def random_shape(self, rnd, max_layers=None, max_dim=None, min_layers=1):
        """Random layer sizes; the last is 1 (a logit), or on a VEC_OUT build any size
        whose vector fits the output FIFO."""
        b = self.build()
        max_layers = max_layers or b.MAX_LAYERS
        max_dim = min(max_dim or 70, b.MAX_DIM)
        while True:
            n = rnd.randint(min_layers, max_layers)
            in_dim = rnd.randint(1, max_dim)
            last = rnd.randint(1, min(max_dim, b.OUT_DEPTH * b.VEC_LANES)) if b.VEC_OUT else 1
            mlp = [rnd.randint(1, max_dim) for _ in range(n - 1)] + [last]
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
    """Random shapes (odd sizes included), F, weights and activations; zero-skip on or off."""

    async def body(self):
        rnd, g = py_random(11), rng(11)
        for p in range(knob("num_phases", 3)):
            in_dim, mlp = self.random_shape(rnd)
            cfg = shape_config(in_dim, mlp, frac_bits=rnd.choice([4, 8, 8, 10, 14]))
            ph = await self.phase(cfg, self.random_weights(g, cfg), f"random{p}",
                                  zero_skip=rnd.random() < 0.5)
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


class MlpVecBottomSeq(MlpBaseSeq):
    """A DLRM bottom MLP (dlrm_tiny: 3-8-4, its models.dlrm weights) on a VEC_OUT build:
    every layer relu(sat16), the last included, and the whole vector out (contracts
    s.9.3); each item's expected vector is models.dlrm.bottom_forward's x. Dense
    features small (F-scale) and extreme (whole int16 range), so hidden layers
    saturate and the last ReLU zeroes some outputs while others stay positive."""

    model = "dlrm_tiny"

    async def body(self):
        from models.dlrm import bottom_forward, bottom_weights
        dlrm = builtin(self.model)
        g = rng(17)
        n = knob("num_items", 8)
        f = dlrm.frac_bits
        dense = np.concatenate([g.integers(-(1 << f), 1 << f, size=(n, dlrm.dense)),
                                g.integers(-32768, 32768, size=(n, dlrm.dense))])
        x = bottom_forward(dlrm, dense, bottom_weights(dlrm))
        assert (x == 0).any() and (x > 0).any(), "bottom stimulus: want ReLU zeros and positives"
        cfg = shape_config(dlrm.dense, dlrm.bottom_mlp, frac_bits=f, name=f"{self.model}_bottom", vec=True)
        ph = await self.phase(cfg, list(bottom_weights(dlrm)), f"{self.model}_bottom")
        for i in range(len(dense)):
            it = MlpInferItem(f"{ph.label}.{i}", dense[i], ph)
            it.expected_vec = x[i]
            await self.send(it)


class MlpVecRandomSeq(MlpBaseSeq):
    """VEC_OUT: random bottom MLPs (1..MAX_LAYERS layers, last layer of any size up to
    the output FIFO), F, weights (some all-negative last layers: ReLU zeroes whole
    vectors) and activations, zero-skip on or off."""

    async def body(self):
        rnd, g = py_random(31), rng(31)
        for p in range(knob("num_phases", 4)):
            in_dim, mlp = self.random_shape(rnd)
            cfg = shape_config(in_dim, mlp, frac_bits=rnd.choice([2, 4, 8, 8, 14]), vec=True)
            weights = self.random_weights(g, cfg)
            if p == 1:
                w, bias = weights[-1]
                weights[-1] = (-np.abs(w) - 1, -np.abs(bias) - 1)
            ph = await self.phase(cfg, weights, f"vec_random{p}", zero_skip=rnd.random() < 0.5)
            s = int(g.choice([32767, 2000, 256]))
            await self.infer(ph, g.integers(-s - 1, s + 1, size=(knob("num_items", 6), in_dim)))


class MlpVecShapeSeq(MlpBaseSeq):
    """VEC_OUT: last-layer sizes around P and VEC_LANES (1, P-1, P, P+1, VEC_LANES-1,
    VEC_LANES, VEC_LANES+1, the largest that fits: OUT_DEPTH beats), as the only layer
    and after a hidden one; extreme weights so the last layer saturates both ways."""

    async def body(self):
        b = self.build()
        rnd, g = py_random(32), rng(32)
        vl, full = b.VEC_LANES, b.OUT_DEPTH * b.VEC_LANES
        outs = sorted({1, max(1, b.P - 1), b.P, b.P + 1, vl - 1, vl, vl + 1, 2 * vl + b.P, full})
        ext = np.array([INT16_MIN, INT16_MAX, -1, 0, 1, 300, -300], dtype=np.int64)
        for n, out in enumerate(o for o in outs if o <= b.MAX_DIM):
            mlp = [out] if n % 2 == 0 else [rnd.randint(1, 30), out]
            in_dim = rnd.randint(1, 2 * b.U + 1)
            cfg = shape_config(in_dim, mlp, frac_bits=rnd.choice([1, 8]), vec=True)
            weights = [(g.choice(ext, size=(o, i)).astype(np.int16),
                        g.integers(-(2**24), 2**24, size=o).astype(np.int32)) for i, o in cfg.layer_shapes]
            ph = await self.phase(cfg, weights, f"vec_out{out}")
            await self.infer(ph, g.choice(ext, size=(3, in_dim)))


class MlpVecAllSeq(MlpBaseSeq):
    """Every VEC_OUT stimulus class in one run (the VEC_OUT bench and its injected bug)."""

    async def body(self):
        for cls in (MlpVecBottomSeq, MlpVecRandomSeq, MlpVecShapeSeq):
            await cls(cls.__name__).start(self.sequencer)


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
        for cls in (MlpModelSeq, MlpRandomSeq, MlpOddShapeSeq, MlpExtremeSeq, MlpReluSeq, MlpInt8Seq,
                    MlpInt8EdgeSeq, MlpSkipPatternSeq):
            await cls(cls.__name__).start(self.sequencer)


# --------------------------------------------------------------------------
# INT8, mixed precision and zero-skipping (contracts s.8)
# --------------------------------------------------------------------------
INT8_MIN, INT8_MAX = -128, 127


def random_qmodel(rnd, g, cfg, precisions, w_scale=None, bias_scale=None):
    """A valid QuantModel of ``cfg`` with random in_frac / w_frac per int8 layer (so every
    shift 0..15 and input shift 0..F occurs over a run) and random weights: int8 layers
    over the whole int8 range, int16 as random_weights. Retries until the shifts fit."""
    from models.config import ConfigError
    from models.quant import LayerPrecision, QuantModel

    f, n = cfg.frac_bits, len(cfg.layer_shapes)
    for _ in range(1000):
        fa = [rnd.randint(0, f) if p == "int8" else f for p in precisions]
        fw = [rnd.randint(0, 15) if p == "int8" else f for p in precisions]
        layers = []
        for l, p in enumerate(precisions):
            last = l == n - 1
            out_bits, out_frac = (32, f) if last else (8, fa[l + 1]) if precisions[l + 1] == "int8" else (16, f)
            layers.append(LayerPrecision(p, fa[l], fw[l], fa[l] + fw[l] - out_frac, out_bits, not last))
        if all(0 <= lp.shift <= 15 for lp in layers):
            break
    weights = []
    for (fan_in, fan_out), p in zip(cfg.layer_shapes, precisions):
        if p == "int8":
            s = w_scale or int(g.choice([128, 40, 8]))
            w = g.integers(max(INT8_MIN, -s), min(INT8_MAX, s) + 1, size=(fan_out, fan_in)).astype(np.int8)
        else:
            s = w_scale or int(g.choice([32767, 4096, 600]))
            w = g.integers(-s - 1, s + 1, size=(fan_out, fan_in)).astype(np.int16)
        bs = bias_scale or int(g.choice([2**8, 2**14, 2**20]))
        weights.append((w, g.integers(-bs, bs + 1, size=fan_out).astype(np.int32)))
    try:
        return QuantModel(cfg, layers, weights, f - fa[0] if precisions[0] == "int8" else 0)
    except ConfigError as e:   # a bench bug, not a DUT failure: say which
        raise AssertionError(f"random_qmodel built an invalid model: {e}") from None


def activation_patterns(g, n_items, in_dim, lo=-300, hi=300):
    """(name, [n, in_dim] int16) feature sets: all zero, all non-zero, alternating zero and
    non-zero (both phases), one non-zero, and random with about half zeros."""
    nz = g.integers(1, hi + 1, size=(n_items, in_dim)) * g.choice([-1, 1], size=(n_items, in_dim))
    alt = nz.copy()
    alt[:, ::2] = 0
    alt2 = nz.copy()
    alt2[:, 1::2] = 0
    one = np.zeros((n_items, in_dim), dtype=np.int64)
    one[np.arange(n_items), g.integers(0, in_dim, size=n_items)] = nz[:, 0]
    rnd = g.integers(lo, hi + 1, size=(n_items, in_dim)) * (g.random((n_items, in_dim)) < 0.5)
    return [("all_zero", np.zeros((n_items, in_dim), dtype=np.int64)), ("all_nonzero", nz),
            ("alternating", alt), ("alternating_odd", alt2), ("one_nonzero", one), ("random", rnd)]


class MlpInt8Seq(MlpBaseSeq):
    """Random int8 and mixed-precision models (random scales: every shift, input shift 0..F,
    int8 weights over the whole range, sat8 of features and hidden layers), zero-skip
    on and off, under every activation pattern."""

    async def body(self):
        rnd, g = py_random(21), rng(21)
        for p in range(knob("num_phases", 4)):
            in_dim, mlp = self.random_shape(rnd, max_dim=90, min_layers=2)
            n = len(mlp)
            kind = ["int8", "mixed", "int8", "mixed"][p % 4]
            while True:
                precs = [rnd.choice(["int16", "int8"]) for _ in range(n)] if kind == "mixed" else ["int8"] * n
                if kind != "mixed" or len(set(precs)) == 2:
                    break
            if not fits(self.build(), list(zip([in_dim] + mlp[:-1], mlp)), precs):
                continue
            cfg = shape_config(in_dim, mlp, frac_bits=rnd.choice([4, 8, 8, 12]))
            qm = random_qmodel(rnd, g, cfg, precs)
            skip = p % 2 == 0
            ph = await self.phase(None, None, f"{kind}{p}", qmodel=qm, zero_skip=skip)
            feats = np.concatenate([x for _, x in activation_patterns(g, 2, in_dim)])
            await self.infer(ph, feats)


class MlpInt8EdgeSeq(MlpBaseSeq):
    """int8 saturation and rounding edges: extreme int8 weights and features, biases on
    the round-half points of every shift (+-0.5 -> 1 / 0, -1.5 -> -1) reached with
    all-zero inputs (the acc is the bias: a round of one beat, requant(bias)), and
    hidden outputs pinned at +127 / -128 feeding a saturating int32 logit."""

    async def body(self):
        rnd, g = py_random(22), rng(22)
        ext8 = np.array([INT8_MIN, INT8_MAX, INT8_MIN + 1, -1, 0, 1], dtype=np.int64)
        for p in range(knob("num_phases", 3)):
            in_dim, mlp = self.random_shape(rnd, max_dim=40, min_layers=2)
            cfg = shape_config(in_dim, mlp, frac_bits=rnd.choice([2, 4, 8]))
            precs = ["int8"] * len(mlp)
            qm = random_qmodel(rnd, g, cfg, precs)
            weights = []
            for (fan_in, fan_out), lp in zip(cfg.layer_shapes, qm.layers):
                w = g.choice(ext8, size=(fan_out, fan_in)).astype(np.int8)
                s = lp.shift
                half = 1 << (s - 1) if s else 0
                cand = np.array([half, -half, 3 * half, -3 * half, half - 1, -half + 1, 2**31 - 1, -(2**31),
                                 127 << s, 128 << s, -(128 << s), -(129 << s)], dtype=np.int64)
                cand = np.clip(cand, -(2**31), 2**31 - 1)
                weights.append((w, g.choice(cand, size=fan_out).astype(np.int32)))
            from models.quant import QuantModel
            qm = QuantModel(cfg, qm.layers, weights, qm.input_shift)
            ph = await self.phase(None, None, f"int8_edge{p}", qmodel=qm, zero_skip=p % 2 == 0)
            feats = g.choice(np.array([-32768, 32767, -300, 300, -1, 0, 1, 127, 128, -128, -129]),
                             size=(4, in_dim))
            feats = np.concatenate([feats, np.zeros((2, in_dim), dtype=np.int64)])
            await self.infer(ph, feats)
        from models.quant import LayerPrecision, QuantModel
        # the layer-0 conversion alone: one int8 layer of weights 1, shift 0, so the logit is
        # the plain sum of sat8(rshift(x, q)) and a clamp bound off by one moves it (the
        # saturating phases above would hide that); q = 0, 1 and 3
        for fa in (4, 3, 1):
            q = 4 - fa
            cfg = shape_config(16, [1], frac_bits=4)
            qm = QuantModel(cfg, [LayerPrecision("int8", fa, 4 - fa, 0, 32, False)],
                            [(np.ones((1, 16), np.int8), np.zeros(1, np.int32))], q)
            ph = await self.phase(None, None, f"int8_input_q{q}", qmodel=qm, zero_skip=q == 1)
            edge = [v << q for v in (-129, -128, -127, 126, 127, 128)]
            if q:
                edge += [(v << q) - (1 << (q - 1)) - 1 for v in (-127, 128)]
            # one edge value per row (alone, so nothing else can mask it), then all mixed
            rows = [np.full(16, e) for e in edge] + [g.choice(np.array(edge), size=16) for _ in range(2)]
            await self.infer(ph, np.clip(np.array(rows), -32768, 32767).astype(np.int64))
        # hidden int8 outputs pinned at +127 feed a logit that saturates int32 high, then low
        for sign in (1, -1):
            cfg = shape_config(9, [17, 1], frac_bits=4)
            layers = [LayerPrecision("int8", 4, 0, 0, 8, True), LayerPrecision("int8", 4, 0, 0, 32, False)]
            w0 = np.full((17, 9), INT8_MAX, dtype=np.int8)
            w1 = np.full((1, 17), INT8_MAX if sign > 0 else INT8_MIN, dtype=np.int8)
            weights = [(w0, np.zeros(17, np.int32)), (w1, np.array([sign * (2**31 - 1)], np.int32))]
            qm = QuantModel(cfg, layers, weights, 0)
            ph = await self.phase(None, None, f"int8_logit_sat{'+' if sign > 0 else '-'}", qmodel=qm,
                                  zero_skip=sign > 0)
            await self.infer(ph, np.full((2, 9), 1000, dtype=np.int16))


class MlpSkipPatternSeq(MlpBaseSeq):
    """Zero-skip exactness: int16 and int8 layers, skip on, every activation pattern
    (nothing skipped, everything skipped, alternating, one non-zero), around the lane
    counts (fan-in U-1, U, U+1, 2U, 2U+1, odd); the counters must match the residue
    schedule beat for beat."""

    async def body(self):
        b = self.build()
        rnd, g = py_random(23), rng(23)
        ins = [max(1, b.U - 1), b.U + 1, 2 * b.U, 2 * b.U + 1, 3 * b.U + 5]
        for n, in_dim in enumerate(ins[:knob("num_phases", 5)]):
            for prec in ("int16", "int8"):
                cfg = shape_config(in_dim, [b.P + 1, 2 * b.U + 3, 1], frac_bits=8)
                precs = [prec, "int8" if prec == "int16" else "int16", prec]
                qm = random_qmodel(rnd, g, cfg, precs, w_scale=40, bias_scale=2**6)
                ph = await self.phase(None, None, f"skip_{prec}{n}", qmodel=qm, zero_skip=True)
                feats = np.concatenate([x for _, x in activation_patterns(g, 1, in_dim, -100, 100)])
                await self.infer(ph, feats)


class MlpPrecisionSwitchSeq(MlpBaseSeq):
    """Back-to-back precision changes on one build, no reset: tiny int16, int8, mixed
    (from models.quant.quantize), int16 again; skip alternating."""

    async def body(self):
        from models.quant import quantize
        tiny = builtin("tiny")
        n = len(tiny.layer_shapes)
        idx = uniform_queries(tiny, knob("num_items", 6), seed=int(rng(24).integers(1 << 30)))
        feats = gather(tiny, idx)
        mixed = ["int8" if l % 2 == 0 else "int16" for l in range(n)]
        for i, prec in enumerate(("int16", "int8", mixed, ["int16" if p == "int8" else "int8" for p in mixed],
                                  "int16")):
            qm = quantize(tiny, prec)
            label = prec if isinstance(prec, str) else "mixed_" + "".join(p[3:] for p in prec)
            ph = await self.phase(None, None, f"switch{i}_{label}", qmodel=qm, zero_skip=i % 2 == 1)
            await self.infer(ph, feats)
