"""cocotb/pyuvm test for `make bench-model` (apps/benchmarks/model_sweep.py): the lookup
RTL with the planner's placement.

The stock tb.lookup.tb_lookup tests place a model by its config's tiers and
channels, which only exist on the full 32 HBM + 2 DDR platform. This test
instead places the model the way models.planner does (automatic tiers,
balanced channels) on the platform of the build (knob ``ddr``: how many of
its NUM_CH channels are DDR; ``banks``: how many on-chip banks the placement
may use), so a sweep over channel counts measures exactly the placement the
performance model predicts. Everything else (knobs, scoreboard, perf.json)
is the base test's.
"""
from __future__ import annotations

import pyuvm

from tb.lookup import tb_lookup
from tb.lookup.layout import LookupLayout, planner_placement


@pyuvm.test(timeout_time=400, timeout_unit="ms")
class BenchLookupTest(tb_lookup.LookupUniformTest):
    """Uniform queries; placement by the planner's rule on this build's platform."""

    def make_layout(self) -> LookupLayout:
        k = self.knobs
        placement = planner_placement(self.cfg, self.build, k.pairs, k.ddr or 0, k.banks)
        return LookupLayout(self.cfg, self.build, placement=placement)
