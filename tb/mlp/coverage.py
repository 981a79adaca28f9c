"""Functional coverage of the MLP engine: shape classes vs P and U, saturation,
ReLU clipping, stall causes, reconfiguration (declared bins)."""
from __future__ import annotations

import numpy as np
from pyuvm import (
    ConfigDB,
    uvm_subscriber,
)

from models import fixed_point as fx
from tb.common.fcov import Covergroup
from tb.mlp.seq_lib import INT16_MAX, INT16_MIN


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
        self.cg.point("hidden_sat8", ["hi", "lo"], "int8 saturation of a hidden layer feeding an int8 layer")
        self.cg.point("precision", ["int16", "int8", "mixed"], "layer precisions of a run")
        self.cg.point("zero_skip", ["on", "off"], "zero-skipping of a run")
        self.cg.point("skip_pattern", ["all_zero", "all_nonzero", "alternating", "mixed"],
                      "zeros in one layer input vector")
        # saturation by layer shape: a last round with idle PEs (fan_out not a multiple of P)
        # must not count their flags; sampled from the DUT's per-layer perf_sat counters
        self.cg.cross("shape_x_saturation",
                      {"layer": ["hidden_lt_P", "hidden_eq_P", "hidden_multiple_P", "hidden_partial_P", "last"],
                       "saturation": ["sat", "none"]},
                      "per layer of a run: its output count vs P x whether the DUT counted saturated outputs")
        if b.VEC_OUT:
            self.cg.point("vec_out", ["one_beat", "several_beats", "full_last_beat", "partial_last_beat",
                                      "all_zero", "sat_hi"],
                          "VEC_OUT: beats of an output vector, its last beat full or not, a vector the "
                          "last ReLU zeroes entirely, an element saturated at +32767")
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
        last = len(ph.shapes) - 1
        for l, (_fan_in, fan_out) in enumerate(ph.shapes):
            cls = ("last" if l == last else "hidden_lt_P" if fan_out < b.P else "hidden_eq_P" if fan_out == b.P
                   else "hidden_multiple_P" if fan_out % b.P == 0 else "hidden_partial_P")
            self.cg.sample("shape_x_saturation", cls, "sat" if perf["perf_sat"][l] else "none")
        if perf["perf_out_stall"]:
            self.cg.sample("stall", "out_backpressure")
        if any(perf["perf_stall_dst"]):
            self.cg.sample("stall", "dst_full")
        if any(perf["perf_stall_arr"]):
            self.cg.sample("stall", "array_busy")
        if perf["perf_idle"] > 0:
            self.cg.sample("stall", "starved")
        self.cg.sample("phases", "single" if self.phases == 1 else "reconfigured")
        precs = set(ph.precisions)
        self.cg.sample("precision", "mixed" if len(precs) == 2 else precs.pop())
        self.cg.sample("zero_skip", "on" if ph.zero_skip else "off")

    def sample_infer(self, item):
        from tb.mlp.scoreboard import layer_format
        ph = item.phase
        accs = item.expected[1]
        for l, acc in enumerate(accs if ph.vec else accs[:-1]):
            shift, bits, _ = layer_format(ph, l)
            r = fx.round_shift_q(acc, shift)
            hi, lo = (INT16_MAX, INT16_MIN) if bits == 16 else (127, -128)
            if np.any(r > hi):
                self.cg.sample("hidden_sat" if bits == 16 else "hidden_sat8", "hi")
            if np.any(r < lo):
                self.cg.sample("hidden_sat" if bits == 16 else "hidden_sat8", "lo")
            neg = int(np.count_nonzero(r < 0))
            self.cg.sample("relu", "none" if neg == 0 else "all" if neg == len(r) else "some")
        for x in item.expected[2]:
            nz = np.asarray(x) != 0
            alt = len(x) > 1 and (bool(np.all(nz[::2]) and not np.any(nz[1::2]))
                                  or bool(np.all(nz[1::2]) and not np.any(nz[::2])))
            self.cg.sample("skip_pattern", "all_zero" if not nz.any() else "all_nonzero" if nz.all()
                           else "alternating" if alt else "mixed")
        if ph.vec:
            y, vl = np.asarray(item.expected[0]), self.build.VEC_LANES
            self.cg.sample("vec_out", "one_beat" if len(y) <= vl else "several_beats")
            self.cg.sample("vec_out", "full_last_beat" if len(y) % vl == 0 else "partial_last_beat")
            if not y.any():
                self.cg.sample("vec_out", "all_zero")
            if (y == INT16_MAX).any():
                self.cg.sample("vec_out", "sat_hi")
            return
        shift, _, _ = layer_format(ph, len(accs) - 1)
        r = int(fx.round_shift_q(accs[-1], shift)[0])
        self.cg.sample("logit_sat", "hi" if r > 2**31 - 1 else "lo" if r < -(2**31) else "none")

    def report_phase(self):
        self.cg.report(self.logger)
