"""Transactions and sequences of the MAC PE bench: one dot product per item;
random, extreme, rounding, ReLU, model-neuron and all-in-one sequences."""
from __future__ import annotations

from pyuvm import (
    ConfigDB,
    uvm_sequence,
    uvm_sequence_item,
)

from models import fixed_point as fx
from tb.common.seeding import py_random


PE_LATENCY = 3
INT16_MIN, INT16_MAX = -32768, 32767

# --------------------------------------------------------------------------
# transaction
# --------------------------------------------------------------------------
class MacItem(uvm_sequence_item):
    def __init__(self, name="mac_item", a=(), b=(), bias=0, frac_bits=8, relu=True, out32=False,
                 int8=False, out8=False):
        super().__init__(name)
        self.int8 = int8        # int8 operands, two per lane per beat (contracts s.8)
        self.out8 = out8        # hidden output saturates to int8 (cfg_out8)
        self.a = list(a)
        self.b = list(b)
        self.bias = bias
        self.frac_bits = frac_bits
        self.relu = relu
        self.out32 = out32
        self.idles = 0          # idle cycles the driver inserted
        self.golden_y = None    # the golden model's own layer output, when known
        self.tag = ""           # where the item came from (query/layer/neuron)

    @property
    def fanin(self) -> int:
        return len(self.a)

    def expected(self) -> dict:
        """Golden result of this dot product (models/fixed_point.py)."""
        acc = int(self.bias) + sum(int(x) * int(y) for x, y in zip(self.a, self.b))
        if self.int8 or self.out8 or self.frac_bits in (0, 15):
            # contracts s.8.1: rshift for every shift 0..15, sat8 / sat16 / sat32
            rounded = int(fx.round_shift_q(acc, self.frac_bits))
            bits = 32 if self.out32 else 8 if self.out8 else 16
            s = int(fx.sat(rounded, bits))
            relu = self.relu and not self.out32
            return {"acc": acc, "y": int(fx.requant_q(acc, self.frac_bits, bits, relu)), "sat": s != rounded,
                    "relu_zero": bool(relu and s < 0), "rounded": rounded}
        rounded = int(fx.round_shift(acc, self.frac_bits))
        if self.out32:
            y = int(fx.requant_logit(acc, self.frac_bits))
            sat = not (-(2**31) <= rounded <= 2**31 - 1)
            relu_zero = False
        else:
            y = int(fx.requant_hidden(acc, self.frac_bits, relu=self.relu))
            sat = not (INT16_MIN <= rounded <= INT16_MAX)
            relu_zero = bool(self.relu and int(fx.sat16(rounded)) < 0)
        return {"acc": acc, "y": y, "sat": sat, "relu_zero": relu_zero, "rounded": rounded}

    def __str__(self):
        return (f"MacItem(n={self.fanin}, bias={self.bias}, F={self.frac_bits}, relu={self.relu}, "
                f"out32={self.out32}, int8={self.int8}, out8={self.out8}, a[:4]={self.a[:4]}, b[:4]={self.b[:4]})")


# --------------------------------------------------------------------------
# sequences
# --------------------------------------------------------------------------
class MacBaseSeq(uvm_sequence):
    """Knobs come from ConfigDB so tests vary them without subclassing."""

    def knob(self, name, default):
        try:
            return ConfigDB().get(None, "", name)
        except Exception:  # noqa: BLE001 - pyuvm raises its own error type
            return default

    async def send(self, item: MacItem):
        await self.start_item(item)
        await self.finish_item(item)


class MacRandomSeq(MacBaseSeq):
    """Random operands over the full int16 range, random fan-in and settings."""

    async def body(self):
        rnd = py_random(1)
        count = self.knob("num_items", 200)
        max_fanin = self.knob("max_fanin", 40)
        for i in range(count):
            n = rnd.randint(1, max_fanin)
            scale = rnd.choice([32767, 2047, 255, 15])
            item = MacItem(
                f"rand{i}",
                a=[rnd.randint(-scale - 1, scale) for _ in range(n)],
                b=[rnd.randint(-scale - 1, scale) for _ in range(n)],
                bias=rnd.randint(-(2**31), 2**31 - 1) if rnd.random() < 0.3 else rnd.randint(-5000, 5000),
                frac_bits=rnd.choice([1, 4, 8, 8, 8, 12, 14]),
                relu=rnd.random() < 0.6,
                out32=rnd.random() < 0.3,
            )
            await self.send(item)


class MacExtremeSeq(MacBaseSeq):
    """Saturation on both sides in both output widths, from extreme operands."""

    async def body(self):
        rnd = py_random(2)
        count = self.knob("num_items", 200)
        extremes = [INT16_MIN, INT16_MAX, INT16_MIN + 1, -1, 0, 1]
        for i in range(count):
            n = rnd.choice([1, 2, 3, 7, 16, 64])
            item = MacItem(
                f"extreme{i}",
                a=[rnd.choice(extremes) for _ in range(n)],
                b=[rnd.choice(extremes) for _ in range(n)],
                bias=rnd.choice([-(2**31), 2**31 - 1, 0, -1]),
                frac_bits=rnd.choice([1, 2, 8, 14]),
                relu=rnd.random() < 0.5,
                out32=rnd.random() < 0.5,
            )
            await self.send(item)


class MacRoundingSeq(MacBaseSeq):
    """Accumulators that sit exactly on .5 (both signs) and next to it."""

    async def body(self):
        rnd = py_random(3)
        count = self.knob("num_items", 200)
        for i in range(count):
            f = rnd.randint(1, 14)
            # half the time right at the int16 saturation edges (found by `make mutate`)
            whole = rnd.choice([rnd.randint(-40000, 40000), 32766, 32767, 32768, -32767, -32768, -32769])
            frac = rnd.choice([1 << (f - 1), (1 << (f - 1)) - 1, (1 << (f - 1)) + 1, 0])
            acc = whole * (1 << f) + frac
            # the bias carries the accumulator; one zero product keeps the beat path live
            item = MacItem(f"round{i}", a=[0], b=[rnd.randint(INT16_MIN, INT16_MAX)],
                           bias=max(-(2**31), min(2**31 - 1, acc)), frac_bits=f,
                           relu=rnd.random() < 0.3, out32=rnd.random() < 0.5)
            await self.send(item)
        # the int32 (logit) saturation edges: rounded results of exactly 2^31 - 1, 2^31,
        # -2^31 and -2^31 - 1, each from just below and just above the .5 point (found by
        # `make mutate`: lo32 at exactly -2^31). The bias alone cannot reach 2^(31 + F), so
        # products of +-2^30 carry the accumulator and the bias the rest.
        rnd32 = py_random(4)
        cases = [(edge, j) for edge in (2**31 - 1, 2**31, -(2**31), -(2**31) - 1) for j in range(4)]
        for i, (edge, j) in enumerate(cases):
            f = rnd32.randint(1, 3)
            half = 1 << (f - 1)
            acc = edge * (1 << f) + [half - 1, half, half + 1 - (1 << f), -half][j]
            k = round(acc / 2**30)
            a, b = [-32768] * abs(k), [-32768 if k > 0 else 32767] * abs(k)
            bias = acc - sum(x * y for x, y in zip(a, b))
            a, b = a + [0], b + [rnd32.randint(INT16_MIN, INT16_MAX)]
            await self.send(MacItem(f"round32_{i}", a=a, b=b, bias=bias, frac_bits=f, relu=False, out32=True))


class MacReluSeq(MacBaseSeq):
    """Mostly negative dot products in hidden-layer mode: ReLU clips them."""

    async def body(self):
        rnd = py_random(4)
        count = self.knob("num_items", 200)
        for i in range(count):
            n = rnd.randint(1, 24)
            item = MacItem(f"relu{i}", a=[rnd.randint(1, 3000) for _ in range(n)],
                           b=[rnd.randint(-3000, 100) for _ in range(n)],
                           bias=rnd.randint(-100000, 1000), frac_bits=8,
                           relu=rnd.random() < 0.8, out32=False)
            await self.send(item)


class MacModelSeq(MacBaseSeq):
    """Real neurons of a model config: activations and weights from the golden model.

    Each item is one neuron of one layer for one query; it carries the
    golden model's own output for that neuron (golden_infer with
    return_layers), so the PE is checked against the whole model, not just
    against the fixed-point helper functions.
    """

    async def body(self):
        from models.config import load_config
        from models.golden import golden_infer, mlp_weights
        from models.queries import uniform_queries

        cfg = load_config(self.knob("model", "tiny"))
        nq = self.knob("model_queries", 4)
        per_layer = self.knob("model_neurons", 16)
        rnd = py_random(5)
        weights = mlp_weights(cfg)
        idx = uniform_queries(cfg, nq, seed=rnd.randrange(2**31))
        _, trace = golden_infer(cfg, idx, weights, return_layers=True)
        last = len(weights) - 1
        for q in range(nq):
            for layer, (w, b) in enumerate(weights):
                x = trace.features[q] if layer == 0 else trace.out[layer - 1][q]
                neurons = rnd.sample(range(w.shape[0]), min(per_layer, w.shape[0]))
                for j in neurons:
                    item = MacItem(f"q{q}l{layer}n{j}", a=[int(v) for v in x], b=[int(v) for v in w[j]],
                                   bias=int(b[j]), frac_bits=cfg.frac_bits, relu=layer != last,
                                   out32=layer == last)
                    item.golden_y = int(trace.out[layer][q, j])
                    item.tag = f"{cfg.name} query {q} layer {layer} neuron {j}"
                    await self.send(item)


INT8_MIN, INT8_MAX = -128, 127


class MacInt8Seq(MacBaseSeq):
    """int8 dot products (two MACs per lane): random and extreme operands (-128 x -128,
    127 x -128), fan-ins around 2 x lanes, every shift 0..15, int8 / int16 / int32 outputs,
    biases on the round-half points and at the int8 saturation edges; int16 items in
    between, so the precision changes from one beat to the next without a drain."""

    async def body(self):
        rnd = py_random(6)
        count = self.knob("num_items", 200)
        lanes = int(ConfigDB().get(None, "", "lanes"))
        ext = [INT8_MIN, INT8_MAX, INT8_MIN + 1, -1, 0, 1]
        for i in range(count):
            if rnd.random() < 0.15:       # an int16 dot product between int8 ones
                n = rnd.randint(1, 3 * lanes)
                await self.send(MacItem(f"i16_{i}", a=[rnd.randint(-300, 300) for _ in range(n)],
                                        b=[rnd.randint(-300, 300) for _ in range(n)], bias=rnd.randint(-5000, 5000),
                                        frac_bits=8, relu=True, out32=False))
                continue
            n = rnd.choice([1, 2 * lanes - 1, 2 * lanes, 2 * lanes + 1, 4 * lanes + 1, rnd.randint(1, 60)])
            kind = rnd.choice(["random", "extreme", "round"])
            s = rnd.randint(0, 15)
            out = rnd.choice(["out8", "out8", "out16", "out32"])
            if kind == "round":
                # the bias carries the accumulator; zero products keep the beat path live
                half = 1 << (s - 1) if s else 0
                whole = rnd.choice([rnd.randint(-200, 200), 127, 128, -128, -129, 0, -1])
                frac = rnd.choice([half, half - 1 if half else 0, half + 1, 0])
                a, b = [0] * n, [rnd.randint(INT8_MIN, INT8_MAX) for _ in range(n)]
                bias = max(-(2**31), min(2**31 - 1, whole * (1 << s) + frac * rnd.choice([1, -1])))
            elif kind == "extreme":
                a = [rnd.choice(ext) for _ in range(n)]
                b = [rnd.choice(ext) for _ in range(n)]
                bias = rnd.choice([-(2**31), 2**31 - 1, 0, -1, 127 << s, -(128 << s)])
            else:
                a = [rnd.randint(INT8_MIN, INT8_MAX) for _ in range(n)]
                b = [rnd.randint(INT8_MIN, INT8_MAX) for _ in range(n)]
                bias = rnd.randint(-(2**20), 2**20)
            await self.send(MacItem(f"i8_{kind}{i}", a=a, b=b, bias=bias, frac_bits=s,
                                    relu=rnd.random() < 0.6, out32=out == "out32", int8=True,
                                    out8=out == "out8"))


class MacAllSeq(MacBaseSeq):
    """Every stimulus class in one run (the smoke test)."""

    async def body(self):
        # direct construction: the factory may map MacRandomSeq to this class
        for cls in (MacRandomSeq, MacExtremeSeq, MacRoundingSeq, MacReluSeq, MacInt8Seq):
            await cls(cls.__name__).start(self.sequencer)
