"""A bench as one object: its cocotb module, build and knob types, and DUT.

``tb/<dut>/dut.py`` defines one :class:`BenchDef`; a pytest entry point only
picks a named build, knobs and a test case and calls :meth:`BenchDef.run`.
The build goes to Verilator as SV parameters and to the bench inside the
spec, both from the same object.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sim.runner import Dut, RunResult, run_test
from tb.common.spec import BenchSpec, build_dataclass

# options of sim.runner.run_test that are not knobs
RUN_OPTIONS = ("expect_fail", "expect_in_log", "coverage", "waves", "name", "plusargs", "extra_env")


@dataclass(frozen=True)
class BenchDef:
    name: str                                   # the spec's bench name
    module: str                                 # the cocotb test module (tb_*.py)
    Build: type                                 # build dataclass (sv_parameters())
    Knobs: type                                 # knob dataclass
    make_dut: Callable[..., Dut]                # (build, defines) -> Dut

    def spec(self, build, **knobs) -> BenchSpec:
        return BenchSpec.make(self.name, build, build_dataclass(self.Knobs, knobs, f"{self.name} bench knobs"))

    def dut(self, build, defines: dict | None = None) -> Dut:
        return self.make_dut(build, defines or {})

    def run(self, build, testcase, seed, *, defines: dict | None = None, module: str | None = None,
            **kw) -> RunResult:
        """Run ``testcase`` (a name or a list) on ``build``; ``kw`` holds knobs and run options."""
        opts = {k: kw.pop(k) for k in RUN_OPTIONS if k in kw}
        return run_test(self.dut(build, defines), module or self.module, spec=self.spec(build, **kw),
                        testcase=testcase, seed=seed, **opts)


def defines_tag(defines: dict | None) -> str:
    """Build-name suffix for injected-bug defines (one build dir per define set)."""
    return "".join(f"_{d}" for d in (defines or {}))
