"""cocotb/pyuvm tests for rtl/mlp/mlp_engine.sv (run through tests/test_mlp_engine.py).

Variants are the base test with a factory override of its main sequence and
ConfigDB knobs (input idle probability, output stall probability, items).
"""
from __future__ import annotations

import cocotb
import pyuvm
from cocotb.triggers import Event, First, Timer
from pyuvm import ConfigDB, uvm_factory

from tb.common.bench_test import BenchTest
from tb.common.clock_reset import start_clock_and_reset
from tb.mlp.dut import MlpKnobs
from tb.mlp.mlp_env import MlpEnv
from tb.mlp.seq_lib import (
    MlpAllSeq,
    MlpExtremeSeq,
    MlpInt8EdgeSeq,
    MlpInt8Seq,
    MlpPrecisionSwitchSeq,
    MlpSkipPatternSeq,
    MlpLayerCountersSeq,
    MlpModelSeq,
    MlpOddShapeSeq,
    MlpRandomSeq,
    MlpReconfigSeq,
    MlpReluSeq,
    MlpVecAllSeq,
    MlpVecBottomSeq,
)
from tb.mlp.mlp_layout import EngineBuild, config_ports

TIMEOUT_MS = 200  # simulated; each test also bounds its drain wait


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpRandomTest(BenchTest):
    """Base test: random shapes, weights and activations, back-to-back inferences."""

    Build, Knobs = EngineBuild, MlpKnobs
    feat_idle_prob = 0.0
    out_stall_prob = 0.0
    seq_type = None           # a variant's sequence: a factory override of MlpRandomSeq

    def build_phase(self):
        if self.seq_type is not None:
            uvm_factory().set_type_override_by_type(MlpRandomSeq, self.seq_type)
        super().build_phase()
        cdb = ConfigDB()
        cdb.set(None, "*", "build", self.build)
        cdb.set(None, "*", "feat_idle_prob", self.feat_idle_prob)
        cdb.set(None, "*", "out_stall_prob", self.out_stall_prob)
        cdb.set(None, "*", "num_items", self.knobs.items)
        cdb.set(None, "*", "reset_done", Event())
        if self.knobs.model is not None:
            cdb.set(None, "*", "model", self.knobs.model)
        self.env = MlpEnv("env", self)

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await start_clock_and_reset(dut.clk, dut.rst_n)
        ConfigDB().get(self, "", "reset_done").set()
        await self.run_phase_body()

    async def run_phase_body(self):
        seq = MlpRandomSeq.create("main_seq")
        await self.guarded(seq.start(self.env.seqr), "sequence")
        # drain: every logit out, counters of the last phase checked
        await self.guarded(self.env.driver.end_phase(), "drain")
        self.drop_objection()

    def progress(self) -> tuple:
        env = self.env
        return (env.scoreboard.checked, env.loader.words, env.driver.beats)

    async def watchdog(self, what: str) -> str:
        """Returns (failing the test) once nothing moved for the knob `stall_us` of
        simulated time; polls with a Timer, no per-cycle work."""
        interval = self.knobs.stall_us
        last = self.progress()
        while True:
            await Timer(interval, unit="us")
            now = self.progress()
            if now == last:
                return (f"{what}: no progress (logits checked, bank writes, feature beats = {now}) "
                        f"for {interval} us; outstanding:\n{self.env.scoreboard.outstanding()}")
            last = now

    async def guarded(self, coro, what: str):
        task = cocotb.start_soon(coro)
        dog = cocotb.start_soon(self.watchdog(what))
        await First(task, dog)
        if not task.done():
            task.cancel()
            raise AssertionError(dog.result())
        dog.cancel()
        return task.result()


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpBackpressureTest(MlpRandomTest):
    """Random idle cycles on the input and random stalls on the output."""

    feat_idle_prob = 0.3
    out_stall_prob = 0.6


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpLayerCountersTest(MlpRandomTest):
    """Deep and shallow models with the output stalled 99% of the time: the last layer (1
    or 3) waits on a full destination, and layers 1 and 3 saturate, so their counters count."""

    feat_idle_prob = 0.0
    out_stall_prob = 0.99

    seq_type = MlpLayerCountersSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpOddShapeTest(MlpRandomTest):
    seq_type = MlpOddShapeSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpExtremeTest(MlpRandomTest):
    seq_type = MlpExtremeSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpReluTest(MlpRandomTest):
    seq_type = MlpReluSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpReconfigTest(MlpRandomTest):
    seq_type = MlpReconfigSeq


@pyuvm.test(timeout_time=10 * TIMEOUT_MS, timeout_unit="ms")
class MlpModelTest(MlpRandomTest):
    """A built-in model (knob `model`, default tiny) with golden weights and features."""

    seq_type = MlpModelSeq


@pyuvm.test(timeout_time=10 * TIMEOUT_MS, timeout_unit="ms")
class MlpVecBottomTest(MlpRandomTest):
    """VEC_OUT build: dlrm_tiny's bottom MLP (relu(sat16) on every layer, the whole last
    layer out as a vector) against models.dlrm.bottom_forward, the output stalled often."""

    feat_idle_prob = 0.1
    out_stall_prob = 0.6

    seq_type = MlpVecBottomSeq


@pyuvm.test(timeout_time=10 * TIMEOUT_MS, timeout_unit="ms")
class MlpVecTest(MlpRandomTest):
    """VEC_OUT build: first a vector longer than the output FIFO raises cfg_err and closes
    the input while the longest legal one does not; then one inference at a time into an
    idle engine, the vector's last beat must be valid exactly sum_l(rounds_l x beats_l) +
    5 L cycles after the feature beat was taken (contracts s.6: no cycles beyond the
    array's, last beat PE_LATENCY + 2 after the job); then dlrm_tiny's bottom MLP, random
    bottom MLPs and last-layer sizes around P and VEC_LANES, with random input idles and
    output stalls."""

    feat_idle_prob = 0.2
    out_stall_prob = 0.5

    seq_type = MlpVecAllSeq

    async def run_phase(self):
        from cocotb.triggers import FallingEdge

        self.raise_objection()
        dut = cocotb.top
        b = self.build
        await start_clock_and_reset(dut.clk, dut.rst_n)
        full = b.OUT_DEPTH * b.VEC_LANES
        for out, err in ((full + 1, 1), (full, 0), (1, 0), (b.OUT_DEPTH * b.VEC_LANES + b.VEC_LANES, 1)):
            if out > b.MAX_DIM:
                continue
            for k, v in config_ports(b, [(8, 5), (5, out)], 8).items():
                getattr(dut, k).value = v
            for _ in range(3):
                await FallingEdge(dut.clk)
            got = (int(dut.cfg_err.value), int(dut.feat_ready.value))
            assert got == (err, 1 - err), (f"MISMATCH last layer of {out} ({-(-out // b.VEC_LANES)} beats, "
                                           f"OUT_DEPTH {b.OUT_DEPTH}): (cfg_err, feat_ready) expected "
                                           f"{(err, 1 - err)}, got {got}")
        for shapes in ([(3, 8), (8, 4)], [(14, 13), (13, 30)], [(9, 17)]):   # one feature beat each
            await self.vec_latency(shapes)
        ConfigDB().get(self, "", "reset_done").set()
        await super().run_phase_body()

    async def vec_latency(self, shapes):
        """One inference into the idle engine, output always ready: the cycle (counted
        from the edge that took the feature beat) in which the vector's last beat is
        valid must be sum_l(rounds_l x beats_l) + 5 L (dense int16; contracts s.6)."""
        from cocotb.triggers import FallingEdge

        from tb.mlp.mlp_layout import bank_plan, feature_beats
        dut, b = cocotb.top, self.build
        g = await load_idle_engine(dut, b, shapes, seed=5)
        (beat,) = feature_beats(b, g.integers(-300, 301, size=shapes[0][0]))
        dut.feat_data.value, dut.feat_tag.value, dut.feat_valid.value = beat, 7, 1
        await FallingEdge(dut.clk)          # the edge in between took it: cycle 0 starts there
        dut.feat_valid.value = 0
        want = sum(l["cycles"] for l in bank_plan(b, shapes)) + 5 * len(shapes)
        cycle = 0
        while not (int(dut.out_valid.value) and int(dut.out_last.value)):
            await FallingEdge(dut.clk)
            cycle += 1
            assert cycle <= 10 * want, f"MISMATCH latency of {shapes}: no last beat after {cycle} cycles"
        self.logger.info(f"vector latency {shapes}: last beat valid in cycle {cycle} (contract {want})")
        assert cycle == want, (f"MISMATCH latency of {shapes}: last beat expected valid in cycle {want} "
                               f"(sum rounds x beats + 5 x {len(shapes)} layers), got {cycle}")
        await FallingEdge(dut.clk)
        dut.out_ready.value = 0



async def load_idle_engine(dut, b, shapes, seed: int):
    """Random int16 weights for ``shapes`` written into the idle engine, its shape ports set,
    output ready, no input; returns the generator for the features."""
    import numpy as np
    from cocotb.triggers import FallingEdge

    from tb.mlp.mlp_layout import weight_writes
    g = np.random.default_rng(seed)
    weights = [(g.integers(-300, 301, size=(o, i)).astype("int16"), g.integers(-999, 999, size=o).astype("int32"))
               for i, o in shapes]
    for k, v in config_ports(b, shapes, 8).items():
        getattr(dut, k).value = v
    dut.out_ready.value = 1
    dut.feat_valid.value = 0
    for bias, pe, addr, data in weight_writes(b, weights):
        dut.w_bias.value, dut.w_pe.value, dut.w_addr.value, dut.w_data.value = bias, pe, addr, data
        dut.w_we.value = 1
        await FallingEdge(dut.clk)
    dut.w_we.value = 0
    for _ in range(3):
        await FallingEdge(dut.clk)
    assert int(dut.idle.value) and not int(dut.cfg_err.value), f"engine not ready for {shapes}"
    return g

@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpStreamRateTest(MlpRandomTest):
    """Back-to-back inferences into an idle engine right after reset, input never idle,
    output always ready: for a 2-layer model whose every job (rounds x beats) is at least 5
    cycles the array never idles from the first job to the last, each layer boundary's
    write-back hidden behind the other inference's job (contracts s.6, streaming), so the
    N-th logit (N even) is valid exactly in cycle N x sum_l(rounds_l x beats_l) + 5 counted
    from the edge that took the first inference's last feature beat; logits in input order.
    Then the base test's random traffic."""

    # (shapes, inferences) on P = 6, U = 20: 16-100-1 (17 + 5 cycles), 10-120-1 (20 + 6) and
    # 30-110-1 (38 + 6, two feature beats an inference)
    STREAMS = (([(16, 100), (100, 1)], 8), ([(10, 120), (120, 1)], 6), ([(30, 110), (110, 1)], 4))

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await start_clock_and_reset(dut.clk, dut.rst_n)
        for shapes, n in self.STREAMS:
            await self.stream_rate(shapes, n)
        ConfigDB().get(self, "", "reset_done").set()
        await super().run_phase_body()

    async def stream_rate(self, shapes, n):
        from cocotb.triggers import FallingEdge

        from tb.mlp.mlp_layout import bank_plan, feature_beats
        dut, b = cocotb.top, self.build
        plan = bank_plan(b, shapes)
        assert len(shapes) == 2 and all(l["cycles"] >= 5 for l in plan), f"stream {shapes}: outside the rule"
        g = await load_idle_engine(dut, b, shapes, seed=11)
        beats = [(i, w, k == len(ws) - 1) for i in range(n)
                 for ws in [feature_beats(b, g.integers(-300, 301, size=shapes[0][0]))] for k, w in enumerate(ws)]
        want = n * sum(l["cycles"] for l in plan) + 5
        tags, cycle = [], None
        dut.feat_tag.value, dut.feat_data.value, dut.feat_valid.value = beats[0][0], beats[0][1], 1
        while len(tags) < n:
            taken = bool(beats) and int(dut.feat_ready.value)   # feat_ready does not look at feat_valid
            await FallingEdge(dut.clk)
            if cycle is not None:
                cycle += 1
            elif taken and beats[0][0] == 0 and beats[0][2]:
                cycle = 0           # this edge took inference 0's last feature beat: cycle 0 starts
            if taken:
                beats.pop(0)
                if beats:
                    dut.feat_tag.value, dut.feat_data.value = beats[0][0], beats[0][1]
                else:
                    dut.feat_valid.value = 0
            if int(dut.out_valid.value):
                tags.append(int(dut.out_tag.value))
            assert cycle is None or cycle <= 10 * want, f"MISMATCH stream {shapes}: {len(tags)} of {n} logits " \
                                                         f"after {cycle} cycles"
        self.logger.info(f"stream {shapes} x {n}: last logit valid in cycle {cycle} (contract {want})")
        assert tags == list(range(n)), f"MISMATCH stream {shapes}: logit tags {tags}, expected input order"
        assert cycle == want, (f"MISMATCH stream rate {shapes} x {n}: last logit expected valid in cycle {want} "
                               f"(N x sum rounds x beats + 5: no idle array cycle), got {cycle}")
        await FallingEdge(dut.clk)
        dut.out_ready.value = 0


@pyuvm.test(timeout_time=10 * TIMEOUT_MS, timeout_unit="ms")
class MlpAllTest(MlpRandomTest):
    """Every stimulus class in one run, with light backpressure."""

    out_stall_prob = 0.2

    seq_type = MlpAllSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpCfgErrorTest(MlpRandomTest):
    """Illegal shapes raise cfg_err and close the input; a legal one clears it
    and the engine then runs tiny correctly (no rebuild, no reset)."""

    seq_type = MlpModelSeq

    async def run_phase(self):
        from cocotb.triggers import FallingEdge

        self.raise_objection()
        dut = cocotb.top
        b = self.build
        await start_clock_and_reset(dut.clk, dut.rst_n)
        big = b.MAX_DIM
        bad = {
            "no layers": [(16, 1)], "too many layers": [(8, 8)] * b.MAX_LAYERS + [(8, 1)],
            "fan-in 0": [(0, 4), (4, 1)], "fan-in > MAX_DIM": [(big + 1, 4), (4, 1)],
            "layer size 0": [(8, 0), (0, 1)], "last layer size 2": [(8, 4), (4, 2)],
            "banks overflow": [(big, big)] * (b.MAX_LAYERS - 1) + [(big, 1)],
        }
        for why, shapes in bad.items():
            ports = config_ports(b, shapes, 8)
            if why == "no layers":
                ports["cfg_num_layers"] = 0
            if why == "too many layers":
                ports = config_ports(b, shapes[:b.MAX_LAYERS], 8)
                ports["cfg_num_layers"] = b.MAX_LAYERS + 1 if b.MAX_LAYERS + 1 < 2 ** b.MAX_LAYERS.bit_length() else 0
            for k, v in ports.items():
                getattr(dut, k).value = v
            for _ in range(3):
                await FallingEdge(dut.clk)
            assert int(dut.cfg_err.value) == 1, f"cfg_err not raised for {why}: {shapes}"
            assert int(dut.feat_ready.value) == 0, f"feat_ready high with an illegal config ({why})"
        ConfigDB().get(self, "", "reset_done").set()
        await super().run_phase_body()

@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpInt8Test(MlpRandomTest):
    """Random int8 and mixed-precision models, zero-skip on and off, every activation pattern."""

    out_stall_prob = 0.2

    seq_type = MlpInt8Seq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpInt8EdgeTest(MlpRandomTest):
    """int8 saturation (features, hidden, logit) and round-half edges of every shift."""

    seq_type = MlpInt8EdgeSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpSkipPatternTest(MlpRandomTest):
    """Zero-skip with all-zero, all-non-zero, alternating and single non-zero inputs,
    int16 and int8 layers; counters exact against the residue schedule."""

    feat_idle_prob = 0.2

    seq_type = MlpSkipPatternSeq


@pyuvm.test(timeout_time=10 * TIMEOUT_MS, timeout_unit="ms")
class MlpPrecisionSwitchTest(MlpRandomTest):
    """tiny as int16, int8, two mixed stacks and int16 again, back to back on one build."""

    seq_type = MlpPrecisionSwitchSeq


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class MlpQuantCfgErrorTest(MlpRandomTest):
    """Illegal precision / 2:4 combinations raise cfg_err and cfg_err_quant naming the first
    layer at fault, and close the input; each legal neighbour does not; then a legal
    int8 model runs correctly without reset."""

    seq_type = MlpPrecisionSwitchSeq

    async def run_phase(self):
        from cocotb.triggers import FallingEdge

        self.raise_objection()
        dut = cocotb.top
        b = self.build
        await start_clock_and_reset(dut.clk, dut.rst_n)
        shapes = [(16, 8), (8, 4), (4, 1)]
        base = config_ports(b, shapes, 8)
        # (why, port overrides, expected layer or None when legal)
        cases = [
            ("2:4 on layer 0", {"cfg_sparse": 0b001}, 0),
            ("2:4 on layer 2 (last)", {"cfg_sparse": 0b100}, 2),
            ("2:4 on an unused layer", {"cfg_sparse": 1 << 3}, 3),
            ("int8 on an unused layer", {"cfg_int8": 1 << 3}, 3),
            ("input shift with layer 0 int16", {"cfg_input_shift": 1, "cfg_int8": 0b110}, 0),
            ("legal: int8 on every used layer", {"cfg_int8": 0b111}, None),
            ("legal: input shift with layer 0 int8", {"cfg_input_shift": 15, "cfg_int8": 0b001}, None),
            ("legal: zero-skip", {"cfg_zero_skip": 1, "cfg_int8": 0b010}, None),
        ]
        for why, over, layer in cases:
            for k, v in {**base, **over}.items():
                getattr(dut, k).value = v
            for _ in range(3):
                await FallingEdge(dut.clk)
            got = (int(dut.cfg_err.value), int(dut.cfg_err_quant.value), int(dut.feat_ready.value))
            want = (1, 1, 0) if layer is not None else (0, 0, 1)
            assert got == want, (f"MISMATCH {why}: (cfg_err, cfg_err_quant, feat_ready) expected {want}, "
                                 f"got {got}")
            if layer is not None:
                assert int(dut.cfg_err_qlayer.value) == layer, (
                    f"MISMATCH {why}: cfg_err_qlayer expected {layer}, got {int(dut.cfg_err_qlayer.value)}")
        ConfigDB().get(self, "", "reset_done").set()
        await super().run_phase_body()
