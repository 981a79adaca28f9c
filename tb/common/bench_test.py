"""The base of every bench's pyuvm tests: the spec, read once, typed.

A bench's base test names its build and knob dataclasses; ``build_phase``
reads the run's spec (tb/common/spec.py) into ``self.spec``, ``self.build``
and ``self.knobs`` before anything else, so a misspelt knob fails at once.
"""
from __future__ import annotations

from pyuvm import uvm_test

from tb.common.spec import load_spec


class BenchTest(uvm_test):
    Build = None      # the bench's build dataclass (its SV parameters)
    Knobs = None      # the bench's knob dataclass

    def build_phase(self):
        self.spec = load_spec()
        self.build = self.spec.build_as(self.Build) if self.Build else None
        self.knobs = self.spec.knobs_as(self.Knobs) if self.Knobs else None
