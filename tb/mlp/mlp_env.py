"""pyuvm environment for rtl/mlp/mlp_engine.sv.

Transactions are whole objects, never single beats: a ``MlpPhaseItem`` is a
(re)configuration (layer shapes, shift, weights; the driver waits for the
engine to go idle, programs the cfg ports and loads the banks through the
weight loader), a ``MlpInferItem`` is one feature vector. The signal layer
acts at mid-cycle (falling clock edge) on ports only, so the bench wakes per
beat of real traffic and not per cycle: a big P x U build stays usable.

Expected logits come from the golden model (models.golden.mlp_forward),
computed in batches per phase; the scoreboard also checks the engine's
performance counters (MACs, busy beats, saturation and ReLU events per
layer) against the golden trace and the shapes.
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import Event, FallingEdge, RisingEdge
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
from models.config import builtin
from models.golden import gather, mlp_forward, mlp_weights
from models.queries import uniform_queries
from tb.common.bench import py_random, rng
from tb.common.fcov import Covergroup
from tb.mlp.mlp_layout import (
    EngineBuild,
    bank_plan,
    config_ports,
    feature_beats,
    fits,
    shape_config,
    weight_writes,
)

INT16_MIN, INT16_MAX = -32768, 32767


def knob(name, default):
    try:
        return ConfigDB().get(None, "", name)
    except Exception:  # noqa: BLE001 - pyuvm raises its own error type
        return default


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


class MlpAllSeq(MlpBaseSeq):
    """Every stimulus class in one run (the injected-bug check uses it)."""

    async def body(self):
        for cls in (MlpModelSeq, MlpRandomSeq, MlpOddShapeSeq, MlpExtremeSeq, MlpReluSeq):
            await cls(cls.__name__).start(self.sequencer)


# --------------------------------------------------------------------------
# signal layer: weight loader, feature driver, logit monitor
# --------------------------------------------------------------------------
PERF_GLOBAL = ("perf_cycles", "perf_idle", "perf_out_stall")
PERF_LAYER = ("perf_busy", "perf_macs", "perf_stall_dst", "perf_stall_arr", "perf_sat", "perf_relu0")


def read_perf(dut, build: EngineBuild) -> dict:
    perf = {k: int(getattr(dut, k).value) for k in PERF_GLOBAL}
    mask = (1 << build.CNT_W) - 1
    for k in PERF_LAYER:
        v = int(getattr(dut, k).value)
        perf[k] = [(v >> (build.CNT_W * l)) & mask for l in range(build.MAX_LAYERS)]
    return perf


class MlpWeightLoader(uvm_component):
    """Drives the bank write port (what the accelerator's DMA will do)."""

    def build_phase(self):
        self.dut = cocotb.top
        self.build = ConfigDB().get(self, "", "build")
        self.words = 0

    async def load(self, weights):
        """Call at mid-cycle; returns at mid-cycle, one write per cycle."""
        dut = self.dut
        for bias, pe, addr, data in weight_writes(self.build, weights):
            dut.w_bias.value = bias
            dut.w_pe.value = pe
            dut.w_addr.value = addr
            dut.w_data.value = data
            dut.w_we.value = 1
            await FallingEdge(dut.clk)
            self.words += 1
        dut.w_we.value = 0


class MlpDriver(uvm_driver):
    """Phase items: wait idle, configure, load; inference items: stream beats."""

    def build_phase(self):
        self.dut = cocotb.top
        self.build = ConfigDB().get(self, "", "build")
        self.sent_ap = uvm_analysis_port("sent_ap", self)
        self.phase_ap = uvm_analysis_port("phase_ap", self)
        self.idle_prob = knob("feat_idle_prob", 0.0)
        self.rnd = py_random(101)
        self.loader = None  # connected by the env
        self.phase = None
        self.tag = 0
        self.beats = 0

    async def wait_idle(self):
        dut = self.dut
        while not int(dut.idle.value):
            await RisingEdge(dut.idle)
            await FallingEdge(dut.clk)

    async def end_phase(self):
        """Wait for the engine to drain, then publish the phase's counters."""
        if self.phase is None:
            return
        await self.wait_idle()
        self.phase.perf = read_perf(self.dut, self.build)
        self.phase_ap.write(self.phase)
        self.phase = None

    async def run_phase(self):
        dut = self.dut
        for s in ("feat_valid", "w_we", "perf_clear"):
            getattr(dut, s).value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        await FallingEdge(dut.clk)
        while True:
            item = await self.seq_item_port.get_next_item()
            if isinstance(item, MlpPhaseItem):
                await self.end_phase()
                for port, val in config_ports(self.build, item.shapes, item.cfg.frac_bits).items():
                    getattr(dut, port).value = val
                await self.loader.load(item.weights)
                for _ in range(2):
                    await FallingEdge(dut.clk)
                assert not int(dut.cfg_err.value), f"engine rejected the configuration of {item}"
                dut.perf_clear.value = 1
                await FallingEdge(dut.clk)
                dut.perf_clear.value = 0
                self.phase = item
            else:
                await self.drive(item)
            self.seq_item_port.item_done()

    async def drive(self, item: MlpInferItem):
        dut = self.dut
        self.tag = (self.tag + 1) % (1 << self.build.ID_W)
        item.tag = self.tag
        self.sent_ap.write(item)
        dut.feat_tag.value = item.tag
        for beat in feature_beats(self.build, item.features):
            while self.idle_prob and self.rnd.random() < self.idle_prob:
                dut.feat_valid.value = 0
                await FallingEdge(dut.clk)
            dut.feat_data.value = beat
            dut.feat_valid.value = 1
            while not int(dut.feat_ready.value):
                await RisingEdge(dut.feat_ready)
                await FallingEdge(dut.clk)
            await FallingEdge(dut.clk)  # the rising edge in between took the beat
            self.beats += 1
        dut.feat_valid.value = 0


class MlpLogitMonitor(uvm_component):
    """Takes logits off the output stream, stalling it at random (knob
    out_stall_prob); publishes {logit, tag} in arrival order."""

    def build_phase(self):
        self.dut = cocotb.top
        self.ap = uvm_analysis_port("ap", self)
        self.stall_prob = knob("out_stall_prob", 0.0)
        self.rnd = py_random(102)
        self.count = 0

    async def run_phase(self):
        dut = self.dut
        dut.out_ready.value = 0
        await ConfigDB().get(self, "", "reset_done").wait()
        await FallingEdge(dut.clk)
        while True:
            if not int(dut.out_valid.value):
                await RisingEdge(dut.out_valid)
                await FallingEdge(dut.clk)
            ready = self.rnd.random() >= self.stall_prob
            dut.out_ready.value = int(ready)
            if ready:  # valid and ready at mid-cycle: taken at the next edge
                self.count += 1
                self.ap.write({"logit": dut.out_logit.value.to_signed(), "tag": int(dut.out_tag.value)})
            await FallingEdge(dut.clk)
            dut.out_ready.value = 0


# --------------------------------------------------------------------------
# scoreboard and coverage
# --------------------------------------------------------------------------
def golden_batch(items):
    """Fill item.expected for items of one phase with one golden-model call."""
    ph = items[0].phase
    feats = np.stack([it.features for it in items])
    logits, trace = mlp_forward(ph.cfg, feats, ph.weights, return_layers=True)
    for i, it in enumerate(items):
        it.expected = (int(logits[i]), [a[i] for a in trace.acc])


class MlpScoreboard(uvm_component):
    """In-order logit check against the golden model, plus the counters."""

    def build_phase(self):
        self.sent_fifo = uvm_tlm_analysis_fifo("sent_fifo", self)
        self.result_fifo = uvm_tlm_analysis_fifo("result_fifo", self)
        self.phase_fifo = uvm_tlm_analysis_fifo("phase_fifo", self)
        self.sent_export = self.sent_fifo.analysis_export
        self.result_export = self.result_fifo.analysis_export
        self.phase_export = self.phase_fifo.analysis_export
        self.checked_ap = uvm_analysis_port("checked_ap", self)
        self.build = ConfigDB().get(self, "", "build")
        self.pending: list[MlpInferItem] = []
        self.checked = 0
        self.sent = 0
        self.phase_items: dict[int, list] = {}
        self.mismatches: list[str] = []
        self.progress = Event()

    def outstanding(self) -> str:
        self._drain_sent()
        lines = [f"{self.sent} sent, {self.checked} checked, {len(self.pending)} outstanding"]
        lines += [f"  {it}" for it in self.pending[:8]]
        return "\n".join(lines)

    def _drain_sent(self):
        while True:
            ok, it = self.sent_fifo.try_get()
            if not ok:
                return
            self.pending.append(it)
            self.sent += 1
            self.phase_items.setdefault(it.phase.index, []).append(it)

    async def run_phase(self):
        cocotb.start_soon(self._phases())
        while True:
            got = await self.result_fifo.get()
            self._drain_sent()
            if not self.pending:
                self.mismatches.append(f"MISMATCH: logit {got} with no inference sent")
                continue
            item = self.pending.pop(0)
            if item.expected is None:
                golden_batch([it for it in self.pending if it.phase is item.phase] + [item])
            exp_logit = item.expected[0]
            if got["logit"] != exp_logit or got["tag"] != item.tag:
                msg = (f"MISMATCH inference #{self.checked} {item}: expected logit {exp_logit} "
                       f"tag {item.tag}, got logit {got['logit']} tag {got['tag']}")
                self.logger.error(msg)
                self.mismatches.append(msg)
            self.checked += 1
            self.checked_ap.write(("infer", item))
            self.progress.set()

    async def _phases(self):
        while True:
            ph = await self.phase_fifo.get()
            self._drain_sent()
            items = self.phase_items.pop(ph.index, [])
            self.check_perf(ph, items)
            self.checked_ap.write(("phase", ph))

    def check_perf(self, ph: MlpPhaseItem, items):
        """Counters of a drained phase vs the shapes and the golden trace."""
        perf, n = ph.perf, len(items)
        if not items:
            return
        todo = [it for it in items if it.expected is None]
        if todo:
            golden_batch(todo)
        plan = bank_plan(self.build, ph.shapes)
        last = len(plan) - 1
        for l, lp in enumerate(plan):
            f = ph.cfg.frac_bits
            sat = relu0 = 0
            for it in items:
                _, s, rz = fx.requant(it.expected[1][l], f, relu=l != last, out32=l == last)
                sat += int(np.count_nonzero(s))
                relu0 += int(np.count_nonzero(rz))
            want = {"perf_macs": n * lp["macs"], "perf_busy": n * lp["cycles"],
                    "perf_sat": sat, "perf_relu0": relu0}
            for k, v in want.items():
                if perf[k][l] != v:
                    msg = f"MISMATCH counter {k}[{l}] of {ph}: expected {v}, got {perf[k][l]}"
                    self.logger.error(msg)
                    self.mismatches.append(msg)

    def check_phase(self):
        self._drain_sent()
        assert not self.mismatches, f"{len(self.mismatches)} mismatches, first: {self.mismatches[0]}"
        assert not self.pending, f"{len(self.pending)} inferences sent but never answered"
        assert self.checked > 0, "scoreboard checked nothing"
        self.logger.info(f"scoreboard: {self.checked} inferences matched the golden model")


class MlpCoverage(uvm_subscriber):
    """Shape classes, saturation, ReLU clipping and stall causes (declared bins)."""

    def build_phase(self):
        self.build = b = ConfigDB().get(self, "", "build")
        self.cg = Covergroup("mlp_engine")
        self.cg.point("layers", [str(i) for i in range(1, b.MAX_LAYERS + 1)], "number of layers")
        self.cg.point("fan_in", ["lt_U", "eq_U", "multiple_U", "partial_U"], "layer fan-in vs U lanes")
        self.cg.point("fan_out", ["one", "lt_P", "eq_P", "multiple_P", "partial_P"], "layer size vs P PEs")
        self.cg.point("hidden_sat", ["hi", "lo"], "int16 saturation in a hidden layer")
        self.cg.point("logit_sat", ["hi", "lo", "none"], "int32 saturation of the logit")
        self.cg.point("relu", ["none", "some", "all"], "ReLU clipping within one hidden layer")
        self.cg.point("stall", ["out_backpressure", "dst_full", "array_busy", "starved"],
                      "why a layer or the array waited")
        self.cg.point("phases", ["single", "reconfigured"], "shapes changed between runs")
        self.phases = 0

    def write(self, tup):
        kind, obj = tup
        if kind == "phase":
            self.phases += 1
            self.sample_phase(obj)
        else:
            self.sample_infer(obj)

    def sample_phase(self, ph):
        b, perf = self.build, ph.perf
        self.cg.sample("layers", str(len(ph.shapes)))
        for fan_in, fan_out in ph.shapes:
            self.cg.sample("fan_in", "lt_U" if fan_in < b.U else "eq_U" if fan_in == b.U
                           else "multiple_U" if fan_in % b.U == 0 else "partial_U")
            self.cg.sample("fan_out", "one" if fan_out == 1 else "lt_P" if fan_out < b.P
                           else "eq_P" if fan_out == b.P else "multiple_P" if fan_out % b.P == 0
                           else "partial_P")
        if perf["perf_out_stall"]:
            self.cg.sample("stall", "out_backpressure")
        if any(perf["perf_stall_dst"]):
            self.cg.sample("stall", "dst_full")
        if any(perf["perf_stall_arr"]):
            self.cg.sample("stall", "array_busy")
        if perf["perf_idle"] > 0:
            self.cg.sample("stall", "starved")
        self.cg.sample("phases", "single" if self.phases == 1 else "reconfigured")

    def sample_infer(self, item):
        f = item.phase.cfg.frac_bits
        accs = item.expected[1]
        for l, acc in enumerate(accs[:-1]):
            r = fx.round_shift(acc, f)
            if np.any(r > INT16_MAX):
                self.cg.sample("hidden_sat", "hi")
            if np.any(r < INT16_MIN):
                self.cg.sample("hidden_sat", "lo")
            neg = int(np.count_nonzero(r < 0))
            self.cg.sample("relu", "none" if neg == 0 else "all" if neg == len(r) else "some")
        r = int(fx.round_shift(accs[-1], f)[0])
        self.cg.sample("logit_sat", "hi" if r > 2**31 - 1 else "lo" if r < -(2**31) else "none")

    def report_phase(self):
        self.cg.report(self.logger)


# --------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------
class MlpEnv(uvm_env):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        ConfigDB().set(None, "*", "SEQR", self.seqr)
        self.loader = MlpWeightLoader.create("loader", self)
        self.driver = MlpDriver.create("driver", self)
        self.monitor = MlpLogitMonitor.create("monitor", self)
        self.scoreboard = MlpScoreboard.create("scoreboard", self)
        self.coverage = MlpCoverage.create("coverage", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.loader = self.loader
        self.driver.sent_ap.connect(self.scoreboard.sent_export)
        self.driver.phase_ap.connect(self.scoreboard.phase_export)
        self.monitor.ap.connect(self.scoreboard.result_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)
