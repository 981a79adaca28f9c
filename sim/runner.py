"""Build and run cocotb benches under Verilator: the only place flags live.

A bench describes its DUT with :class:`Dut` (in ``tb/<dut>/dut.py``, from the
file lists ``rtl/<block>/*.f``) and a test calls :func:`run_test` with the
bench spec (``tb/common/spec.py``), which is written once into the test's
directory as ``spec.json`` and read once by the bench. Builds
are cached per (DUT, parameters, defines, options) hash and locked, so pytest
-xdist workers sharing a build wait for one another instead of racing. Every
run writes its own results XML and log (and coverage file when asked); a run
that executes zero tests is a failure, since the cocotb runner does not
always raise (see docs/toolchain.md). A failing run also leaves
``failure.json`` beside its ``sim.log`` (see :func:`failure_record`), so
tools such as ``make mutate`` classify failures from facts, not from text.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shlex
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from . import toolchain
from .toolchain import BUILD_ROOT, ROOT

# Flags every build gets. -O2 is ~10-15% faster than the wheel's -Os.
BASE_BUILD_ARGS = [
    "--assert",
    "-CFLAGS", "-O2",
    "--x-assign", "unique",
    "--x-initial", "unique",
]
COVERAGE_BUILD_ARGS = ["--coverage-line", "--coverage-toggle", "--coverage-user"]
WAVES_BUILD_ARGS = ["--trace-fst", "--trace-structs"]


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Dut:
    """What to build: one toplevel with its sources and settings."""

    name: str
    toplevel: str
    sources: tuple
    parameters: Mapping[str, object] = field(default_factory=dict)
    defines: Mapping[str, object] = field(default_factory=dict)
    includes: tuple = ()
    # True: --no-public-flat-rw and only the toplevel's ports VPI-visible
    # (3.3x faster for large designs; the bench must touch ports only).
    ports_only: bool = False
    timing: bool = False

    def key(self, coverage: bool, waves: bool) -> str:
        blob = json.dumps(
            {
                "top": self.toplevel,
                "src": [str(s) for s in self.sources],
                "par": {k: str(v) for k, v in sorted(self.parameters.items())},
                "def": {k: str(v) for k, v in sorted(self.defines.items())},
                "inc": [str(i) for i in self.includes],
                "ports_only": self.ports_only,
                "timing": self.timing,
                "cov": coverage,
                "waves": waves,
                "base": BASE_BUILD_ARGS,
            },
            sort_keys=True,
        )
        return hashlib.sha1(blob.encode()).hexdigest()[:10]


@dataclass
class RunResult:
    tests: int
    failed: int
    test_dir: Path
    results_xml: Path
    log: Path
    coverage_file: Path | None


class SimFailure(AssertionError):
    """A cocotb run failed, ran nothing, or crashed; carries the rerun line."""


class BuildFailure(RuntimeError):
    """The build failed. ``errors`` holds the first error lines of build.log (empty
    when nothing rejected the design: the build was killed, e.g. by a signal,
    whose number ``returncode`` then carries, negative), ``log`` its path."""

    def __init__(self, message: str, errors: list[str], log: Path, returncode: int | None = None):
        super().__init__(message)
        self.errors = errors
        self.log = log
        self.returncode = returncode


FAILURE_FILE = "failure.json"
SIM_STARTED_FILE = "sim_started"   # touched when the build is done and the simulation starts
# what Verilator and the compiler print for a fatal problem
_BUILD_ERROR_RE = re.compile(r"^%Error|: error:|^make.*Error \d")
# simulator-side errors in sim.log: SVA / immediate assertions, $error, $fatal
_SIM_ERROR_RE = re.compile(r"%(Error|Fatal)")


def coverage_enabled() -> bool:
    return env_flag("MICROREC_COVERAGE")


def waves_enabled() -> bool:
    return env_flag("MICROREC_WAVES")


# soak runs (make regress PROFILE=nightly) draw memory timing and backpressure from the seed
SOAK_ENV = "MICROREC_RANDOM_TIMING"


def soak_enabled() -> bool:
    return env_flag(SOAK_ENV)


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _control_file(dut: Dut, build_dir: Path) -> Path:
    vlt = build_dir / "ports_public.vlt"
    vlt.write_text(
        "`verilator_config\n"
        f'public_flat_rw -module "{dut.toplevel}" -var "*"\n'
    )
    return vlt


def build(dut: Dut, *, coverage: bool | None = None, waves: bool | None = None) -> Path:
    """Build (or reuse) the simulator for ``dut``; returns its build dir."""
    from cocotb_tools.runner import get_runner

    coverage = coverage_enabled() if coverage is None else coverage
    waves = waves_enabled() if waves is None else waves
    if waves and not toolchain.have_lz4():
        raise RuntimeError("FST waves need liblz4-dev: run `make deps` (apt-get install liblz4-dev)")
    toolchain.setup_env()
    build_dir = BUILD_ROOT / "sim" / f"{dut.name}-{dut.key(coverage, waves)}"
    args = list(BASE_BUILD_ARGS)
    if coverage:
        args += COVERAGE_BUILD_ARGS
    if waves:
        args += WAVES_BUILD_ARGS
    if dut.timing:
        args += ["--timing", "-CFLAGS", "-std=c++20"]
    sources = [Path(s) for s in dut.sources]
    with _locked(build_dir.with_suffix(".lock")):
        build_dir.mkdir(parents=True, exist_ok=True)
        if dut.ports_only:
            args.append("--no-public-flat-rw")
            sources.append(_control_file(dut, build_dir))
        (build_dir / "build_args.json").write_text(json.dumps(
            {"dut": dut.name, "parameters": {k: str(v) for k, v in dut.parameters.items()},
             "defines": {k: str(v) for k, v in dut.defines.items()}, "args": args}, indent=1))
        runner = get_runner("verilator")
        log = build_dir / "build.log"
        try:
            runner.build(
                sources=sources,
                includes=[Path(i) for i in dut.includes],
                defines=dict(dut.defines),
                parameters=dict(dut.parameters),
                build_args=args,
                hdl_toplevel=dut.toplevel,
                build_dir=build_dir,
                waves=waves,
                timescale=("1ns", "1ps"),
                log_file=log,
            )
        except RuntimeError as exc:   # the cocotb runner: "Command failed with return code: N"
            text = log.read_text(errors="replace") if log.exists() else ""
            errors = [ln for ln in text.splitlines() if _BUILD_ERROR_RE.search(ln)][:20]
            m = re.search(r"return code: (-?\d+)", str(exc))
            raise BuildFailure(f"build of {dut.name} failed ({exc}); log: {log}\n" + "\n".join(errors),
                               errors, log, int(m.group(1)) if m else None) from exc
    return build_dir


def _sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_")[:150]


def test_dir_for(nodeid: str, build_root: Path | None = None) -> Path:
    """Where the run of pytest node ``nodeid`` keeps its log, results and failure.json."""
    return (build_root or BUILD_ROOT) / "tests" / _sanitize(nodeid)


def current_test_name(default: str) -> str:
    """The pytest node id of the running test, when under pytest."""
    cur = os.environ.get("PYTEST_CURRENT_TEST")
    if cur:
        return cur.rsplit(" ", 1)[0]
    return default


def rerun_command(nodeid: str, seed: int | None) -> str:
    seed_part = f" SEED={seed}" if seed is not None else ""
    # soak runs draw timing from the seed only in this mode: the rerun must use it too
    soak = f"{SOAK_ENV}=1 " if soak_enabled() else ""
    return f"{soak}make waves TEST={shlex.quote(nodeid)}{seed_part}"


def run_test(
    dut: Dut,
    module: str,
    *,
    spec=None,
    testcase: str | Sequence[str] | None = None,
    seed: int | None = None,
    name: str | None = None,
    coverage: bool | None = None,
    waves: bool | None = None,
    plusargs: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    expect_fail: bool = False,
    expect_in_log: str | Sequence[str] | None = None,
) -> RunResult:
    """Build if needed, run ``module`` (a ``tb_*`` cocotb module), check results.

    ``spec`` is the bench spec (a ``tb.common.spec.BenchSpec``): the runner adds
    the test's directory, name and the soak flag, writes it as ``spec.json``
    there and points ``MICROREC_SPEC`` at it.

    Raises :class:`SimFailure` when any test failed or none ran, with the
    seed, the log tail and the one command that reruns it with waves.
    With ``expect_fail`` the roles swap: the run must execute tests and at
    least one must fail (used by the injected-bug checks), and with
    ``expect_in_log`` the log must show that text (e.g. the scoreboard's
    MISMATCH), so a crash for another reason does not count as a catch.
    """
    from cocotb_tools.runner import get_results, get_runner

    coverage = coverage_enabled() if coverage is None else coverage
    waves = waves_enabled() if waves is None else waves
    nodeid = current_test_name(name or f"{dut.name}:{testcase}")
    test_dir = test_dir_for(nodeid)
    test_dir.mkdir(parents=True, exist_ok=True)
    results_xml = test_dir / "results.xml"
    log = test_dir / "sim.log"
    for stale in (results_xml, log, test_dir / FAILURE_FILE, test_dir / SIM_STARTED_FILE):
        stale.unlink(missing_ok=True)
    if waves:   # `make waves` picks the matching GTKWave save file by it (sim/waves.py)
        (test_dir / "toplevel.txt").write_text(dut.toplevel + "\n")
    try:
        build_dir = build(dut, coverage=coverage, waves=waves)
    except BuildFailure as exc:
        _write_failure(test_dir, {"nodeid": nodeid, "seed": seed, "phase": "build", "reason": str(exc),
                                  "build_errors": exc.errors, "build_returncode": exc.returncode,
                                  "build_log": str(exc.log)})
        raise
    plus = list(plusargs)
    if seed is not None:
        # Verilator's own randomisation (X initial values) follows the seed too.
        plus += [f"+verilator+seed+{seed % (2**31 - 1) + 1}", "+verilator+rand+reset+2"]
    cov_file = None
    if coverage:
        cov_dir = BUILD_ROOT / "coverage" / "raw"
        cov_dir.mkdir(parents=True, exist_ok=True)
        cov_file = cov_dir / f"{_sanitize(nodeid)}.dat"
        cov_file.unlink(missing_ok=True)
        plus.append(f"+verilator+coverage+file+{cov_file}")
    if spec is not None:
        spec = spec.with_run(str(test_dir), nodeid, soak=soak_enabled())
        spec_path = test_dir / "spec.json"
        spec_path.write_text(spec.to_json())
    env = {
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        # cocotbext-axi / cocotb-bus emit DeprecationWarnings from their own
        # code under cocotb 2; filter those modules only.
        "PYTHONWARNINGS": "ignore::DeprecationWarning:cocotbext.axi,ignore::DeprecationWarning:cocotb_bus._compat",
    }
    if spec is not None:
        env["MICROREC_SPEC"] = str(spec_path)
    if extra_env:
        env.update(extra_env)
    toolchain.setup_env()
    runner = get_runner("verilator")
    crashed = None
    # the build is done: a wall-clock limit on the simulation counts from here
    (test_dir / SIM_STARTED_FILE).touch()
    try:
        runner.test(
            test_module=module,
            hdl_toplevel=dut.toplevel,
            hdl_toplevel_lang="verilog",
            testcase=testcase,
            seed=seed,
            plusargs=plus,
            extra_env=env,
            waves=waves,
            build_dir=build_dir,
            test_dir=test_dir,
            results_xml=str(results_xml),
            log_file=log,
            timescale=("1ns", "1ps"),
        )
    except SystemExit as exc:  # the runner exits on failure under pytest
        crashed = exc
    except Exception as exc:  # noqa: BLE001 - reported with context below
        crashed = exc
    tests, failed = (0, 0)
    if results_xml.exists():
        tests, failed = get_results(results_xml)
    result = RunResult(tests, failed, test_dir, results_xml, log, cov_file)
    ok = tests > 0 and failed == 0
    why = None
    if expect_fail:
        caught = tests > 0 and failed > 0
        wanted = [expect_in_log] if isinstance(expect_in_log, str) else list(expect_in_log or [])
        text = log.read_text(errors="replace") if caught and wanted else ""
        missing = [w for w in wanted if w not in text]
        if caught and missing:
            why = f"the bench failed, but not with {missing[0]!r} in its log"
        elif caught:
            return result
        else:
            why = f"expected the bench to FAIL (injected bug) but it ran {tests} tests with {failed} failures"
    elif not ok:
        why = (f"{failed} of {tests} cocotb tests failed" if tests else
               f"no cocotb test ran (runner said: {crashed!r})")
    if why is None:
        return result
    _write_failure(test_dir, failure_record(result, nodeid, seed, why))
    raise SimFailure(_report(result, nodeid, seed, why, waves))


def failure_record(result: RunResult, nodeid: str, seed: int | None, why: str) -> dict:
    """The facts of a failed run, for machines: each failed cocotb test with its
    exception type, message and the innermost frame that raised it (``in_repo``:
    that frame is this repository's code, not a library), plus the simulator's
    own error lines (assertions, $error, $fatal) from sim.log."""
    failures = []
    if result.results_xml.exists():
        try:
            root = ET.parse(result.results_xml).getroot()
        except ET.ParseError:
            root = None
        for case in (root.iter("testcase") if root is not None else ()):
            for bad in list(case.findall("failure")) + list(case.findall("error")):
                failures.append({"test": case.get("name"), "type": bad.get("type") or "",
                                 "message": bad.get("message") or "",
                                 **_raise_site(bad.text or "")})
    log_errors = []
    if result.log.exists():
        with open(result.log, errors="replace") as fh:
            log_errors = [ln.rstrip() for ln in fh if _SIM_ERROR_RE.search(ln)][:20]
    return {"nodeid": nodeid, "seed": seed, "phase": "run", "reason": why,
            "tests": result.tests, "failed": result.failed, "failures": failures,
            "log_errors": log_errors, "log": str(result.log)}


_FRAME_RE = re.compile(r'File "([^"]+)", line (\d+)')


def _raise_site(traceback_text: str) -> dict:
    frames = _FRAME_RE.findall(traceback_text)
    if not frames:
        return {"where": None, "in_repo": False}
    path, line = frames[-1]
    p = Path(path)
    in_repo = "site-packages" not in p.parts and (ROOT in p.parents or not p.is_absolute())
    where = f"{p.relative_to(ROOT) if ROOT in p.parents else p}:{line}"
    return {"where": where, "in_repo": in_repo}


def _write_failure(test_dir: Path, record: dict) -> None:
    (test_dir / FAILURE_FILE).write_text(json.dumps(record, indent=1))


def _report(result: RunResult, nodeid: str, seed: int | None, why: str, waves: bool) -> str:
    tail = ""
    if result.log.exists():
        lines = result.log.read_text(errors="replace").splitlines()
        keep = [ln for ln in lines if re.search(r"FAIL|Error|error|MISMATCH|assert|Timeout", ln)]
        tail = "\n".join((keep or lines)[-40:])
    wave_note = f"\n  waves: {result.test_dir}/dump.fst" if waves else ""
    return (
        f"{nodeid}: {why}\n"
        f"  seed: {seed}\n  log: {result.log}\n  results: {result.results_xml}{wave_note}\n"
        f"  rerun with waves: {rerun_command(nodeid, seed)}\n"
        f"--- log excerpt ---\n{tail}"
    )
