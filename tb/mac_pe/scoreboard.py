"""MAC PE scoreboard (against models.fixed_point) and functional coverage."""
from __future__ import annotations

from pyuvm import (
    ConfigDB,
    uvm_subscriber,
)

from tb.common.fcov import Covergroup
from tb.common.inorder_scoreboard import InOrderScoreboard
from tb.mac_pe.seq_lib import INT16_MAX, INT16_MIN


# --------------------------------------------------------------------------
# scoreboard and coverage
# --------------------------------------------------------------------------
class MacScoreboard(InOrderScoreboard):
    """Every result against the PE's contract (s.4) and, where the item has one, the golden model."""

    noun = "dot product"
    model = "the golden model"

    def compare(self, item, got):
        exp = item.expected()
        diffs = [f"{k}: expected {exp[k]} got {got[k]}" for k in ("y", "acc", "sat", "relu_zero")
                 if exp[k] != got[k]]
        if item.golden_y is not None and item.golden_y != got["y"]:
            diffs.append(f"y vs golden model ({item.tag}): expected {item.golden_y} got {got['y']}")
        return diffs, (item, exp), None

    def report_extra(self) -> dict:
        from cocotb.utils import get_sim_time
        return {"sim_ns": get_sim_time("ns")}


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
        self.cg.point("precision", ["int16", "int8"], "operand precision of a dot product")
        self.cg.point("out8", ["positive", "zero", "relu_clipped", "negative_no_relu", "sat_hi", "sat_lo"],
                      "outcomes of an int8 hidden output (sat8)")
        self.cg.point("shift_edges", ["0", "15"], "requantize shifts only int8 layers use")

    def write(self, tup):
        item, exp = tup
        f = item.frac_bits
        self.cg.sample("precision", "int8" if item.int8 else "int16")
        self.cg.sample("spacing", "with_idles" if item.idles else "back_to_back")
        if f in (0, 15):
            self.cg.sample("shift_edges", str(f))
        if item.out8 and not item.out32:
            r = exp["rounded"]
            self.cg.sample("out8", "sat_hi" if r > 127 else "sat_lo" if r < -128 else "zero" if r == 0
                           else "positive" if r > 0 else "relu_clipped" if item.relu else "negative_no_relu")
        if item.int8 or item.out8 or f in (0, 15):
            return
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
