"""pyuvm environment for rtl/mlp/mac_pe.sv.

One transaction (``MacItem``) is a whole dot product: fan-in ``n`` pairs, a
bias and the requantize settings. The driver splits it into LANES-wide beats;
the monitor collects each result pulse; the scoreboard recomputes the result
with the golden model's fixed-point functions (models/fixed_point.py), never
with a copy of the RTL's arithmetic.
"""
from __future__ import annotations

import cocotb
from cocotb.triggers import ClockCycles, RisingEdge
from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
    uvm_env,
    uvm_sequence,
    uvm_sequence_item,
    uvm_sequencer,
    uvm_subscriber,
    uvm_tlm_analysis_fifo,
)

from models import fixed_point as fx
from tb.common.bench import py_random
from tb.common.fcov import Covergroup

PE_LATENCY = 3
INT16_MIN, INT16_MAX = -32768, 32767


# --------------------------------------------------------------------------
# transaction
# --------------------------------------------------------------------------
class MacItem(uvm_sequence_item):
    def __init__(self, name="mac_item", a=(), b=(), bias=0, frac_bits=8, relu=True, out32=False):
        super().__init__(name)
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
                f"out32={self.out32}, a[:4]={self.a[:4]}, b[:4]={self.b[:4]})")


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


class MacAllSeq(MacBaseSeq):
    """Every stimulus class in one run (the smoke test)."""

    async def body(self):
        # direct construction: the factory may map MacRandomSeq to this class
        for cls in (MacRandomSeq, MacExtremeSeq, MacRoundingSeq, MacReluSeq):
            await cls(cls.__name__).start(self.sequencer)


# --------------------------------------------------------------------------
# driver and monitor (the signal layer)
# --------------------------------------------------------------------------
def pack16(values, lanes: int) -> int:
    word = 0
    for i, v in enumerate(values):
        word |= (int(v) & 0xFFFF) << (16 * i)
    return word


class MacDriver(uvm_driver):
    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.lanes = int(ConfigDB().get(self, "", "lanes"))
        self.idle_prob = ConfigDB().get(self, "", "idle_prob")
        self.rnd = py_random(100)
        self.last_cfg = None
        self.in_flight_until = 0

    async def drive_idle(self):
        self.dut.in_valid.value = 0
        await RisingEdge(self.dut.clk)

    async def run_phase(self):
        dut = self.dut
        dut.in_valid.value = 0
        dut.in_first.value = 0
        dut.in_last.value = 0
        while True:
            item = await self.seq_item_port.get_next_item()
            cfg = (item.frac_bits, item.relu, item.out32)
            if cfg != self.last_cfg and self.last_cfg is not None:
                # the PE's settings are static per dot product: drain first
                dut.in_valid.value = 0
                await ClockCycles(dut.clk, PE_LATENCY + 1)
            dut.cfg_frac_bits.value = item.frac_bits
            dut.cfg_relu.value = int(item.relu)
            dut.cfg_out32.value = int(item.out32)
            self.last_cfg = cfg
            n = item.fanin
            beats = (n + self.lanes - 1) // self.lanes
            for k in range(beats):
                while self.rnd.random() < self.idle_prob:
                    item.idles += 1
                    await self.drive_idle()
                a = item.a[k * self.lanes:(k + 1) * self.lanes]
                b = item.b[k * self.lanes:(k + 1) * self.lanes]
                dut.in_a.value = pack16(a, self.lanes)
                dut.in_b.value = pack16(b, self.lanes)
                dut.in_bias.value = int(item.bias) & 0xFFFFFFFF
                dut.in_first.value = int(k == 0)
                dut.in_last.value = int(k == beats - 1)
                dut.in_valid.value = 1
                await RisingEdge(dut.clk)
            dut.in_valid.value = 0
            self.ap.write(item)
            self.seq_item_port.item_done()


class MacResultMonitor(uvm_component):
    """Samples the result pulse; publishes raw result dicts in output order."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.count = 0

    async def run_phase(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            # registers power up random (Verilator x-initial follows the seed):
            # nothing on the outputs means anything until reset is released
            if int(dut.rst_n.value) and int(dut.out_valid.value):
                self.count += 1
                self.ap.write({
                    "y": dut.out_y.value.to_signed(),
                    "acc": dut.out_acc.value.to_signed(),
                    "sat": bool(int(dut.out_sat.value)),
                    "relu_zero": bool(int(dut.out_relu_zero.value)),
                })


# --------------------------------------------------------------------------
# scoreboard and coverage
# --------------------------------------------------------------------------
class MacScoreboard(uvm_component):
    """Pairs results with sent items in order; any difference fails the test."""

    def build_phase(self):
        self.sent_fifo = uvm_tlm_analysis_fifo("sent_fifo", self)
        self.result_fifo = uvm_tlm_analysis_fifo("result_fifo", self)
        self.sent_export = self.sent_fifo.analysis_export
        self.result_export = self.result_fifo.analysis_export
        self.checked_ap = uvm_analysis_port("checked_ap", self)
        self.checked = 0
        self.mismatches: list[str] = []

    async def run_phase(self):
        while True:
            got = await self.result_fifo.get()
            ok, item = self.sent_fifo.try_get()
            if not ok:
                self.mismatches.append(f"result #{self.checked} with no dot product sent: {got}")
                continue
            exp = item.expected()
            diffs = [f"{k}: expected {exp[k]} got {got[k]}" for k in ("y", "acc", "sat", "relu_zero")
                     if exp[k] != got[k]]
            if item.golden_y is not None and item.golden_y != got["y"]:
                diffs.append(f"y vs golden model ({item.tag}): expected {item.golden_y} got {got['y']}")
            if diffs:
                msg = f"MISMATCH dot product #{self.checked} {item}: " + "; ".join(diffs)
                self.logger.error(msg)
                self.mismatches.append(msg)
            self.checked += 1
            self.checked_ap.write((item, exp))

    def check_phase(self):
        leftover = self.sent_fifo.used()
        assert not self.mismatches, f"{len(self.mismatches)} mismatches, first: {self.mismatches[0]}"
        assert leftover == 0, f"{leftover} dot products sent but never answered"
        assert self.checked > 0, "scoreboard checked nothing"
        self.logger.info(f"scoreboard: {self.checked} dot products matched the golden model")

    def report_phase(self):
        import json
        import os
        from cocotb.utils import get_sim_time
        path = os.path.join(os.environ.get("MICROREC_TEST_DIR", "."), "scoreboard.json")
        with open(path, "w") as fh:
            json.dump({"checked": self.checked, "mismatches": len(self.mismatches),
                       "first_mismatch": self.mismatches[0] if self.mismatches else None,
                       "sim_ns": get_sim_time("ns")}, fh)


class MacCoverage(uvm_subscriber):
    """What the stimulus reached, in bins declared up front (holes are named)."""

    def build_phase(self):
        lanes = int(ConfigDB().get(self, "", "lanes"))
        self.lanes = lanes
        self.cg = Covergroup("mac_pe")
        self.cg.point("frac_bits", ["1", "2-7", "8", "9-13", "14"], "requantize shift classes")
        fan_bins = ["single_beat", "multi_beat_full"] + (["multi_beat_partial", "partial_single"] if lanes > 1 else [])
        self.cg.point("fanin", fan_bins, "dot-product lengths vs lane count")
        self.cg.point("out16", ["positive", "zero", "relu_clipped", "negative_no_relu", "sat_hi", "sat_lo"],
                      "hidden-layer outcomes")
        self.cg.point("out32", ["positive", "negative", "sat_hi", "sat_lo"], "logit outcomes")
        self.cg.point("rounding", ["exact_half_pos", "exact_half_neg", "other"], "round-half-up cases")
        self.cg.point("bias", ["int32_min", "int32_max", "other"], "bias extremes")
        self.cg.point("spacing", ["back_to_back", "with_idles"], "input beat spacing")

    def write(self, tup):
        item, exp = tup
        f = item.frac_bits
        self.cg.sample("frac_bits", "1" if f == 1 else "8" if f == 8 else "14" if f == 14
                       else "2-7" if f < 8 else "9-13")
        n, lanes = item.fanin, self.lanes
        if n <= lanes:
            self.cg.sample("fanin", "single_beat" if n == lanes or lanes == 1 else "partial_single")
        else:
            self.cg.sample("fanin", "multi_beat_full" if n % lanes == 0 else "multi_beat_partial")
        r = exp["rounded"]
        if item.out32:
            self.cg.sample("out32", "sat_hi" if r > 2**31 - 1 else "sat_lo" if r < -(2**31)
                           else "positive" if r >= 0 else "negative")
        else:
            if r > INT16_MAX:
                self.cg.sample("out16", "sat_hi")
            elif r < INT16_MIN:
                self.cg.sample("out16", "sat_lo")
            elif r == 0:
                self.cg.sample("out16", "zero")
            elif r > 0:
                self.cg.sample("out16", "positive")
            else:
                self.cg.sample("out16", "relu_clipped" if item.relu else "negative_no_relu")
        frac = exp["acc"] & ((1 << f) - 1)
        if frac == 1 << (f - 1):
            self.cg.sample("rounding", "exact_half_pos" if exp["acc"] >= 0 else "exact_half_neg")
        else:
            self.cg.sample("rounding", "other")
        self.cg.sample("bias", "int32_min" if item.bias == -(2**31) else
                       "int32_max" if item.bias == 2**31 - 1 else "other")
        self.cg.sample("spacing", "with_idles" if item.idles else "back_to_back")

    def report_phase(self):
        self.cg.report(self.logger)


# --------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------
class MacEnv(uvm_env):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        ConfigDB().set(None, "*", "SEQR", self.seqr)
        self.driver = MacDriver.create("driver", self)
        self.monitor = MacResultMonitor.create("monitor", self)
        self.scoreboard = MacScoreboard.create("scoreboard", self)
        self.coverage = MacCoverage.create("coverage", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.ap.connect(self.scoreboard.sent_export)
        self.monitor.ap.connect(self.scoreboard.result_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)
