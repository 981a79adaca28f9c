"""A bench as one object: its cocotb module, build and knob types, and DUT.

``tb/<dut>/dut.py`` defines one :class:`BenchDef`; a pytest entry point only
picks a named build, knobs and a test case and calls :meth:`BenchDef.run`.
The build goes to Verilator as SV parameters and to the bench inside the
spec, both from the same object.

Injected bugs (the "can this check fail" tests) are named ``*_BUG_*`` and
asked for as defines, ``defines={"LOOKUP_BUG_ADDR": 1}``. They are not built
one Verilator model each: every bug sits in the RTL under ``ifdef
INJECT_BUGS`` behind ``$test$plusargs("<name>")``, so one build per DUT and
parameter set carries them all and the run switches one on with
``+<name>`` (docs/toolchain.md, "Injected bugs").
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
        return self.make_dut(build, bug_switches(defines)[0])

    def run(self, build, testcase, seed, *, defines: dict | None = None, module: str | None = None,
            **kw) -> RunResult:
        """Run ``testcase`` (a name or a list) on ``build``; ``kw`` holds knobs and run options."""
        opts = {k: kw.pop(k) for k in RUN_OPTIONS if k in kw}
        defines, bugs = bug_switches(defines)
        if bugs:
            opts["plusargs"] = [*opts.get("plusargs", ()), *bugs]
        return run_test(self.make_dut(build, defines), module or self.module, spec=self.spec(build, **kw),
                        testcase=testcase, seed=seed, **opts)


def is_injected_bug(name: str) -> bool:
    return "_BUG_" in name


def bug_switches(defines: dict | None) -> tuple[dict, list[str]]:
    """Split ``defines`` into the build's defines and the run's plusargs: every
    ``*_BUG_*`` name becomes ``+<name>`` on the shared ``INJECT_BUGS`` build."""
    defines = dict(defines or {})
    bugs = [f"+{name}" for name in defines if is_injected_bug(name)]
    for name in defines.copy():
        if is_injected_bug(name):
            if defines[name] not in (1, True, "1"):
                raise ValueError(f"defines: injected bug {name}={defines[name]!r}: bugs are switched on with 1")
            del defines[name]
    if bugs:
        defines["INJECT_BUGS"] = 1
    return defines, bugs


def defines_tag(defines: dict | None) -> str:
    """Build-name suffix for injected-bug defines (one build dir per define set)."""
    return "".join(f"_{d}" for d in (defines or {}))
