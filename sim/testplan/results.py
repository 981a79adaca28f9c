"""Test results: pytest JUnit XML files and the per-simulation cocotb
results (build/tests/<node id>/results.xml), gathered into one ResultSet."""
from __future__ import annotations

import ast
import datetime as _dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from ..runner import _sanitize
from ..toolchain import BUILD_ROOT, ROOT
from .plan import COCOTB_ROOT, TESTS_DIR, TIME_SLACK_S, split_nodeid

# --------------------------------------------------------------------------- results

@dataclass
class Result:
    nodeid: str
    outcome: str  # passed | failed | skipped
    message: str = ""
    cocotb: str | None = None  # the cocotb test inside the run, for per-simulation results
    source: str = ""


@dataclass
class ResultSet:
    pytest: list[Result] = field(default_factory=list)
    cocotb: dict[str, list[Result]] = field(default_factory=dict)  # pytest node id -> its cocotb tests
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not self.pytest and not self.cocotb


def _outcome(case: ET.Element) -> tuple[str, str]:
    for tag in ("failure", "error"):
        el = case.find(tag)
        if el is not None:
            msg = (el.get("message") or el.text or "").strip().splitlines()
            return "failed", (msg[0][:200] if msg else tag)
    if case.find("skipped") is not None:
        return "skipped", ""
    return "passed", ""


def classname_to_nodeid(classname: str, name: str, root: Path = ROOT) -> str:
    """JUnit ``tests.test_top`` + ``test_x[p]`` -> ``tests/test_top.py::test_x[p]`` (pytest classes kept)."""
    parts = classname.split(".") if classname else []
    for i in range(len(parts), 0, -1):
        cand = "/".join(parts[:i]) + ".py"
        if (root / cand).exists():
            return "::".join([cand, *parts[i:], name])
    return ("/".join(parts) + ".py::" if parts else "") + name


def _parse_time(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        t = _dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return t.timestamp()  # naive stamps are local time, which .timestamp() assumes


def parse_junit(path: Path, root: Path = ROOT) -> tuple[list[Result], tuple[float, float]]:
    """pytest JUnit -> (results, (start, end) of the run as epoch seconds)."""
    tree = ET.parse(path)
    by_id: dict[str, Result] = {}
    starts = []
    for suite in tree.getroot().iter("testsuite"):
        t = _parse_time(suite.get("timestamp"))
        if t is not None:
            starts.append(t)
    for case in tree.getroot().iter("testcase"):
        nodeid = classname_to_nodeid(case.get("classname", ""), case.get("name", ""), root)
        outcome, message = _outcome(case)
        prev = by_id.get(nodeid)
        # a test failing in teardown is reported twice: failure wins
        if prev is None or (outcome == "failed" and prev.outcome != "failed"):
            by_id[nodeid] = Result(nodeid, outcome, message, None, str(path))
    end = path.stat().st_mtime
    start = min(starts) if starts else end - float(tree.getroot().get("time") or 0.0)
    return list(by_id.values()), (start, end)


@lru_cache(maxsize=4)
def _test_functions(tests_dir: Path, root: Path) -> tuple[tuple[str, bool], ...]:
    """("tests/x.py::test_f", expects_failure) for every module-level test function."""
    out = []
    for path in sorted(tests_dir.rglob("test_*.py")):
        rel = path.relative_to(root).as_posix()
        try:
            tree = ast.parse(path.read_text(errors="replace"))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                expect_fail = any(isinstance(k, ast.keyword) and k.arg == "expect_fail"
                                  and isinstance(k.value, ast.Constant) and k.value.value is True
                                  for k in ast.walk(node))
                out.append((f"{rel}::{node.name}", expect_fail))
    return tuple(out)


def dir_to_nodeid_resolver(tests_dir: Path = TESTS_DIR, root: Path = ROOT) -> Callable[[str], str | None]:
    """Map a build/tests/<dir> back to its pytest node id (the longest known function wins).

    sim/runner.py names the directory ``_sanitize(nodeid)``; parameters come
    back with their dashes, other characters the sanitizer replaced do not.
    """
    prefixes = sorted(((_sanitize(fn), fn) for fn, _ in _test_functions(tests_dir, root)),
                      key=lambda x: -len(x[0]))

    def resolve(dirname: str) -> str | None:
        for prefix, fn in prefixes:
            if dirname == prefix:
                return fn
            if dirname.startswith(prefix + "_"):
                return f"{fn}[{dirname[len(prefix) + 1:]}]"
        return None

    return resolve


def expects_failure(nodeid: str, tests_dir: Path = TESTS_DIR, root: Path = ROOT) -> bool:
    """True for tests that run an injected bug (``run_test(..., expect_fail=True)``)."""
    path, base, _ = split_nodeid(nodeid)
    return dict(_test_functions(tests_dir, root)).get(f"{path}::{base}", False)


def parse_cocotb_results(test_root: Path, resolve: Callable[[str], str | None],
                         window: tuple[float, float] | None = None,
                         notes: list[str] | None = None) -> dict[str, list[Result]]:
    """build/tests/*/results.xml -> {pytest node id: [one Result per cocotb test]}."""
    out: dict[str, list[Result]] = {}
    if not test_root.is_dir():
        return out
    for xml in sorted(test_root.glob("*/results.xml")):
        mtime = xml.stat().st_mtime
        if window and not (window[0] - TIME_SLACK_S <= mtime <= window[1] + TIME_SLACK_S):
            continue
        nodeid = resolve(xml.parent.name)
        if nodeid is None:
            continue
        try:
            root = ET.parse(xml).getroot()
        except ET.ParseError as exc:
            if notes is not None:
                notes.append(f"unreadable {xml}: {exc}")
            continue
        for case in root.iter("testcase"):
            outcome, message = _outcome(case)
            out.setdefault(nodeid, []).append(Result(nodeid, outcome, message, case.get("name", ""), str(xml)))
    return out


def _rel(path: Path) -> str:
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_absolute() and path.is_relative_to(ROOT) else str(path)


def latest_junit(build_root: Path = BUILD_ROOT) -> Path | None:
    cands = [p for p in [build_root / "test-results.xml", *sorted(build_root.glob("regress/*/junit.xml"))]
             if p.exists()]
    return max(cands, key=lambda p: p.stat().st_mtime) if cands else None


def collect_results(junits: Iterable[Path] = (), cocotb_root: Path | None = COCOTB_ROOT,
                    root: Path = ROOT, tests_dir: Path = TESTS_DIR) -> ResultSet:
    """Results from JUnit files plus the cocotb results each run wrote.

    With JUnit files, only cocotb results written during those runs and
    belonging to their node ids count; without, every results.xml under
    ``cocotb_root`` counts (possibly from different runs: noted).
    """
    rs = ResultSet()
    windows = []
    by_id: dict[str, Result] = {}
    for j in junits:
        j = Path(j)
        recs, window = parse_junit(j, root)
        windows.append(window)
        rs.sources.append(_rel(j))
        for r in recs:
            prev = by_id.get(r.nodeid)
            if prev is None or r.outcome == "failed":
                by_id[r.nodeid] = r
    rs.pytest = list(by_id.values())
    if cocotb_root is None:
        return rs
    if windows:
        by_dir = {_sanitize(n): n for n in by_id}
        for w in windows:
            found = parse_cocotb_results(cocotb_root, by_dir.get, w, rs.notes)
            for n, cs in found.items():
                rs.cocotb.setdefault(n, []).extend(cs)
    else:
        rs.cocotb = parse_cocotb_results(cocotb_root, dir_to_nodeid_resolver(tests_dir, root), None, rs.notes)
        if rs.cocotb:
            rs.notes.append(f"no JUnit file: every cocotb result under {_rel(cocotb_root)} counts, whatever run "
                            "wrote it; model-only tests show NOT RUN; injected-bug runs pass when their "
                            "bench failed")
    if rs.cocotb:
        rs.sources.append(f"{_rel(cocotb_root)}/*/results.xml ({sum(map(len, rs.cocotb.values()))} cocotb tests "
                          f"in {len(rs.cocotb)} runs)")
    return rs

