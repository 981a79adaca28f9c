"""`python -m sim.testplan`: the testplan and each feature's status from test results.

The testplan's one source is docs/testplan.toml (one ``[[feature]]`` per
feature of ../shared/design.md: the tests that check it as pytest node-id
patterns, optionally naming one cocotb test, and its functional coverage
points). docs/testplan.md is generated from it (``--write-md``).

Status of every feature from results (default: the newest of
build/test-results.xml and build/regress/*/junit.xml):

  * pytest JUnit XML (``pytest --junitxml``, also what ``make regress``
    writes): one testcase per pytest node id, e.g.
    ``tests/test_top.py::test_top_tiny[seed1-TopZipfTest]``;
  * the per-simulation cocotb results, build/tests/<node id>/results.xml
    (sim/runner.py names the directory after the sanitized node id), so a
    pattern ``file::function::CocotbTest`` is judged by that cocotb test's
    own result. With a JUnit file only the ones written during that pytest
    run count (by file time); without one, every directory counts.

A feature is PASS when every listed test matched a result and all passed,
FAIL when any matched result failed, NOT RUN when a listed test matched no
result (e.g. a profile deselected it). Prints a Markdown table and writes
build/testplan_status.md and .json. Exit 1 on any FAIL (and, with
``--require-all``, on any NOT RUN).

``--check``: docs/testplan.md is up to date and every pattern names a test
that exists (``pytest --collect-only``; a cocotb name must be a
``@pyuvm.test`` class or ``@cocotb.test`` function in tb/); RTL tests no
feature lists are warnings. Exit 1 on any error.

:func:`feature_coverage` maps merged functional coverage (``{group: {point:
{bin: count}}}``, sim/coverage.py) onto the features.
"""
from __future__ import annotations

import argparse
import ast
import datetime as _dt
import json
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from .runner import _sanitize
from .toolchain import BUILD_ROOT, ROOT, TB_DIR

TESTPLAN_TOML = ROOT / "docs" / "testplan.toml"
TESTPLAN_MD = ROOT / "docs" / "testplan.md"
DESIGN_MD = ROOT.parent / "shared" / "design.md"
TESTS_DIR = ROOT / "tests"
DEFAULT_JUNIT = BUILD_ROOT / "test-results.xml"
COCOTB_ROOT = BUILD_ROOT / "tests"
STATUS_MD = "testplan_status.md"
STATUS_JSON = "testplan_status.json"

PASS, FAIL, NOT_RUN, NO_TESTS = "PASS", "FAIL", "NOT RUN", "NO TESTS"
FEATURE_KEYS = {"name", "design", "description", "tests", "notes", "coverage", "evidence"}
REQUIRED_KEYS = {"name", "design", "description", "tests"}
# a file's time may lag the JUnit timestamps a little (coarse clocks, buffering)
TIME_SLACK_S = 2.0


class TestplanError(Exception):
    """The testplan file is malformed."""


# --------------------------------------------------------------------------- patterns

@lru_cache(maxsize=None)
def _glob_re(pattern: str) -> re.Pattern:
    """``*`` and ``?`` are wildcards; everything else (brackets too) is literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def glob_match(pattern: str, text: str) -> bool:
    return _glob_re(pattern).fullmatch(text) is not None


def split_nodeid(nodeid: str) -> tuple[str, str, str]:
    """``tests/a.py::f[p]`` -> (``tests/a.py``, ``f``, ``p``)."""
    path, _, name = nodeid.partition("::")
    base, bracket, params = name.partition("[")
    return path, base, params[:-1] if bracket and params.endswith("]") else params


def param_tokens(nodeid: str) -> list[str]:
    """The dash-separated ids of a parametrized node id (``seed1-TopZipfTest`` -> 2 tokens)."""
    params = split_nodeid(nodeid)[2]
    return params.split("-") if params else []


@dataclass(frozen=True)
class Pattern:
    """``path[::function[::cocotb test]]``; ``function`` may carry ``[param glob]``."""

    text: str
    path: str
    func: str | None = None
    cocotb: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Pattern":
        if not isinstance(text, str) or not text.strip():
            raise TestplanError(f"test pattern {text!r}: not a non-empty string")
        parts = text.split("::")
        if len(parts) > 3 or not parts[0].endswith(".py") or any(not p for p in parts):
            raise TestplanError(f"test pattern {text!r}: expected tests/<file>.py[::<function>[::<cocotb test>]]")
        if len(parts) == 3 and not re.fullmatch(r"[A-Za-z_]\w*", parts[2]):
            raise TestplanError(f"test pattern {text!r}: cocotb test name {parts[2]!r} is not an identifier")
        return cls(text, parts[0], parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None)

    def matches_node(self, nodeid: str) -> bool:
        """Path and function part against a pytest node id (the cocotb part is not judged here)."""
        path, _, name = nodeid.partition("::")
        if not glob_match(self.path, path):
            return False
        if self.func is None:
            return True
        if not name:
            return False
        return glob_match(self.func, name if "[" in self.func else name.partition("[")[0])

    @property
    def node_part(self) -> str:
        return self.path + (f"::{self.func}" if self.func else "")


# --------------------------------------------------------------------------- the testplan

@dataclass
class Feature:
    name: str
    design: str
    description: str
    tests: list[Pattern]
    notes: str = ""
    coverage: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def _str_list(entry: dict, key: str, where: str) -> list[str]:
    val = entry.get(key, [])
    if not isinstance(val, list) or not all(isinstance(v, str) and v.strip() for v in val):
        raise TestplanError(f"{where}: {key} must be a list of non-empty strings")
    return list(val)


def parse_testplan(text: str, source: str = "testplan") -> list[Feature]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TestplanError(f"{source}: {exc}") from exc
    unknown_top = set(data) - {"feature"}
    if unknown_top:
        raise TestplanError(f"{source}: unknown top-level keys {sorted(unknown_top)} (only [[feature]])")
    entries = data.get("feature", [])
    if not isinstance(entries, list) or not entries:
        raise TestplanError(f"{source}: no [[feature]] entries")
    features, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"{source}: feature #{i + 1} ({entry.get('name', '?')})"
        missing = REQUIRED_KEYS - set(entry)
        if missing:
            raise TestplanError(f"{where}: missing {sorted(missing)}")
        unknown = set(entry) - FEATURE_KEYS
        if unknown:
            raise TestplanError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("name", "design", "description", "notes"):
            if key in entry and not isinstance(entry[key], str):
                raise TestplanError(f"{where}: {key} must be a string")
        name = entry["name"].strip()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
            raise TestplanError(f"{where}: name {name!r}: use lowercase letters, digits, '-', '_', '.'")
        if name in seen:
            raise TestplanError(f"{where}: duplicate feature name {name!r}")
        seen.add(name)
        if not re.fullmatch(r"s\.\d+", entry["design"]):
            raise TestplanError(f"{where}: design {entry['design']!r}: expected 's.<section number>'")
        try:
            tests = [Pattern.parse(t) for t in _str_list(entry, "tests", where)]
        except TestplanError as exc:
            raise TestplanError(f"{where}: {exc}") from None
        features.append(Feature(name, entry["design"], entry["description"].strip(), tests,
                                entry.get("notes", "").strip(), _str_list(entry, "coverage", where),
                                _str_list(entry, "evidence", where)))
    return features


def load_testplan(path: Path = TESTPLAN_TOML) -> list[Feature]:
    return parse_testplan(Path(path).read_text(), str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path))


# --------------------------------------------------------------------------- Markdown

MD_HEADER = """\
# Testplan

<!-- Generated from docs/testplan.toml by `python -m sim.testplan --write-md`: edit the TOML, not this file. -->

Each feature of `../shared/design.md`, the tests that check it and the
functional coverage that shows the stimulus reached it. The source is
[testplan.toml](testplan.toml); this table is generated from it, and
`tests/test_testplan.py` fails when the two drift apart or when the TOML
names a test that does not exist.

Tests are pytest node ids under `tests/` (a file, a test function with all
its parametrizations, or `function[*id*]` for some of them); a name in
brackets is the cocotb test (pyuvm test class or cocotb test function in
`tb/`) that the entry means. Coverage is `group.point` (or
`group.point.bin`) of the `tb/common/fcov.py` covergroups, merged by
`make coverage`. Every RTL test compares against the golden model
(`models/`), never against a copy of the RTL's arithmetic. Mutant tests
(`*_injected_bug_is_caught`, `test_lookup_assertion_fires`) build the RTL
with an injected bug and must fail with a scoreboard MISMATCH (or the named
assertion).

Status: `make test` and `make regress` print each feature's status (PASS,
FAIL with the failing tests, NOT RUN with the tests no result matched) from
their JUnit results and write it to `build/testplan_status.md` / `.json`
(`build/regress/<profile>/` for a regression); `make testplan` checks this
plan and prints the status of the latest results.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _render_tests(tests: list[Pattern]) -> str:
    """Patterns in order; cocotb names of one pytest test gathered in brackets after it."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for p in tests:
        groups.setdefault((p.node_part, p.cocotb is not None), [])
        if p.cocotb:
            groups[(p.node_part, True)].append(p.cocotb)
    return "; ".join(f"`{node}`" + (f" [{', '.join(names)}]" if names else "") for (node, _), names in groups.items())


def render_md(features: list[Feature]) -> str:
    lines = [MD_HEADER,
             "| feature | design.md | description | tests | coverage | other evidence |",
             "|---|---|---|---|---|---|"]
    for f in features:
        tests = _render_tests(f.tests) or "(none: see evidence)"
        if f.notes:
            tests += f" -- {f.notes}"
        lines.append("| " + " | ".join(_cell(c) for c in (
            f"`{f.name}`", f.design, f.description, tests,
            ", ".join(f"`{c}`" for c in f.coverage), "; ".join(f.evidence))) + " |")
    return "\n".join(lines) + "\n"


def check_md(features: list[Feature] | None = None, md_path: Path = TESTPLAN_MD) -> list[str]:
    """Problems when the checked-in Markdown differs from a fresh rendering."""
    import difflib

    want = render_md(features if features is not None else load_testplan())
    have = md_path.read_text() if md_path.exists() else ""
    if have == want:
        return []
    diff = "\n".join(list(difflib.unified_diff(have.splitlines(), want.splitlines(), "checked in",
                                               "from docs/testplan.toml", lineterm=""))[:40])
    return [f"{md_path.name} is out of date with testplan.toml: run `python -m sim.testplan --write-md`\n{diff}"]


# --------------------------------------------------------------------------- static check

def collect_nodeids(markers: str | None = None, root: Path = ROOT) -> list[str]:
    """Node ids from ``pytest --collect-only -q tests`` (no simulation)."""
    cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"]
    if markers:
        cmd += ["-m", markers]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    ids = [ln.strip() for ln in proc.stdout.splitlines() if "::" in ln and not ln.startswith(" ")]
    if proc.returncode not in (0, 5):  # 5: nothing collected
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"pytest --collect-only failed (exit {proc.returncode}):\n{tail}")
    return ids


_COCOTB_TEST_RE = re.compile(r"^[ \t]*@(?:pyuvm|cocotb)\.test\b.*?^[ \t]*(?:class|async[ \t]+def|def)[ \t]+(\w+)",
                             re.MULTILINE | re.DOTALL)


def cocotb_test_names(tb_dir: Path = TB_DIR) -> set[str]:
    """The cocotb tests in tb/**/*.py: ``@pyuvm.test`` classes and ``@cocotb.test`` functions."""
    names: set[str] = set()
    for path in sorted(tb_dir.rglob("*.py")):
        names.update(_COCOTB_TEST_RE.findall(path.read_text(errors="replace")))
    return names


def declared_coverpoints(tb_dir: Path = TB_DIR) -> dict[str, set[str]]:
    """``Covergroup("g")`` ... ``.point("p", ...)`` literals in tb/, group -> points."""
    groups: dict[str, set[str]] = {}
    tok = re.compile(r"""Covergroup\(\s*["'](\w+)["']|\.point\(\s*["'](\w+)["']""")
    for path in sorted(tb_dir.rglob("*.py")):
        current = None
        for m in tok.finditer(path.read_text(errors="replace")):
            if m.group(1):
                current = m.group(1)
                groups.setdefault(current, set())
            elif current:
                groups[current].add(m.group(2))
    return groups


def design_sections(path: Path = DESIGN_MD) -> set[str] | None:
    if not path.exists():
        return None
    return {f"s.{m}" for m in re.findall(r"^##\s+(\d+)\.", path.read_text(), re.MULTILINE)}


def _strip_seed(nodeid: str) -> str:
    path, base, params = split_nodeid(nodeid)
    toks = [t for t in params.split("-") if t and not re.fullmatch(r"seed\d+", t)] if params else []
    return f"{path}::{base}" + (f"[{'-'.join(toks)}]" if toks else "")


def check_patterns(features: list[Feature], collected: list[str], rtl_collected: list[str],
                   tb_names: set[str], root: Path = ROOT,
                   coverpoints: dict[str, set[str]] | None = None,
                   sections: set[str] | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings): unknown tests are errors; unlisted RTL tests are warnings."""
    errors: list[str] = []
    warnings: list[str] = []
    sources: dict[str, str] = {}

    def source(path_glob: str) -> str:
        if path_glob not in sources:
            sources[path_glob] = "\n".join(q.read_text(errors="replace") for q in sorted(root.glob(path_glob)))
        return sources[path_glob]

    for f in features:
        if sections is not None and f.design not in sections:
            errors.append(f"{f.name}: design section {f.design} is not a section of design.md")
        if not f.tests:
            warnings.append(f"{f.name}: lists no pytest test (evidence only: {'; '.join(f.evidence) or 'none'})")
        for p in f.tests:
            matched = [n for n in collected if p.matches_node(n)]
            if not matched:
                files = [n for n in collected if glob_match(p.path, n.partition("::")[0])]
                why = ("no collected test in that file matches" if files else
                       "no such test file" if not any(root.glob(p.path)) else "the file has no collected tests")
                errors.append(f"{f.name}: {p.text}: {why}")
                continue
            if p.cocotb is None:
                continue
            if p.cocotb not in tb_names:
                errors.append(f"{f.name}: {p.text}: no cocotb test {p.cocotb} in {TB_DIR.name}/ "
                              f"(a @pyuvm.test class or @cocotb.test function)")
                continue
            dispatched = [n for n in matched if any(t in tb_names for t in param_tokens(n))]
            if dispatched:
                # the function is parametrized by cocotb test name: the name must be one of them
                if not any(p.cocotb in param_tokens(n) for n in dispatched):
                    ran = sorted({t for n in dispatched for t in param_tokens(n) if t in tb_names})
                    errors.append(f"{f.name}: {p.text}: {p.func} never runs {p.cocotb} (it runs {', '.join(ran)})")
            elif not re.search(r"""["']""" + re.escape(p.cocotb) + r"""["']""", source(p.path)):
                errors.append(f"{f.name}: {p.text}: {p.path} never names {p.cocotb!r}, so {p.func} cannot run it")
        if coverpoints is not None:
            for item in f.coverage:
                parts = item.split(".")
                if len(parts) < 2 or not any(
                        glob_match(parts[0], g) and any(glob_match(parts[1], pt) for pt in pts)
                        for g, pts in coverpoints.items()):
                    warnings.append(f"{f.name}: coverage {item!r}: no such covergroup point declared in tb/")

    all_patterns = [p for f in features for p in f.tests]
    unlisted: dict[str, None] = {}
    for n in rtl_collected:
        toks = param_tokens(n)
        named = [t for t in toks if t in tb_names]
        if not any(p.matches_node(n) and (p.cocotb is None or p.cocotb in toks or not named)
                   for p in all_patterns):
            unlisted[_strip_seed(n)] = None
    for n in unlisted:
        warnings.append(f"RTL test listed by no feature: {n}")
    return errors, warnings


def static_check(features: list[Feature] | None = None) -> tuple[list[str], list[str]]:
    """The whole ``--check``: Markdown drift, patterns vs collected tests, coverage names."""
    from concurrent.futures import ThreadPoolExecutor

    errors: list[str] = []
    try:
        features = features if features is not None else load_testplan()
    except TestplanError as exc:
        return [str(exc)], []
    errors += check_md(features)
    with ThreadPoolExecutor(2) as ex:
        fut_all, fut_rtl = ex.submit(collect_nodeids), ex.submit(collect_nodeids, "rtl")
        try:
            collected, rtl = fut_all.result(), fut_rtl.result()
        except RuntimeError as exc:
            return errors + [str(exc)], []
    errs, warnings = check_patterns(features, collected, rtl, cocotb_test_names(),
                                    coverpoints=declared_coverpoints(), sections=design_sections())
    return errors + errs, warnings


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


# --------------------------------------------------------------------------- status

@dataclass
class Run:
    label: str
    outcome: str  # passed | failed
    message: str = ""


def match_pattern(p: Pattern, rs: ResultSet, tests_dir: Path = TESTS_DIR, root: Path = ROOT,
                  tb_names: Iterable[str] = ()) -> tuple[list[Run], int]:
    """The runs a pattern matched, and how many matches were skipped.

    ``tb_names``: the cocotb test names that exist; a run whose parameter id
    names another one of them (``test_mac_pe[seed1-MacReluTest]``) belongs to
    that test, not to ``::MacRandomTest``.
    """
    tb_names = set(tb_names)
    runs: list[Run] = []
    skipped = 0
    recs = [r for r in rs.pytest if p.matches_node(r.nodeid)]
    for r in recs:
        if r.outcome == "skipped":
            skipped += 1
            continue
        if p.cocotb is None:
            runs.append(Run(r.nodeid, r.outcome, r.message))
            continue
        toks = param_tokens(r.nodeid)
        dedicated = p.cocotb in toks
        if not dedicated and any(t in tb_names for t in toks):
            continue  # the run of another cocotb test
        cs = [c for c in rs.cocotb.get(r.nodeid, []) if c.cocotb == p.cocotb]
        if cs:
            for c in cs:
                if c.outcome == "skipped":
                    skipped += 1
                    continue
                bad = c.outcome == "failed" or (dedicated and r.outcome == "failed")
                runs.append(Run(r.nodeid if dedicated else f"{r.nodeid}::{c.cocotb}",
                                "failed" if bad else "passed",
                                (c.message or r.message) if bad else ""))
        elif dedicated:
            runs.append(Run(r.nodeid, r.outcome, r.message))
        elif r.outcome == "failed":
            runs.append(Run(f"{r.nodeid}::{p.cocotb}", "failed",
                            f"the test failed and no result of {p.cocotb} was found: {r.message}"))
        # a passed multi-test run without a result for this cocotb test does not count
    if not recs:
        # no pytest-level result: judge by the cocotb results alone
        for node, cs in sorted(rs.cocotb.items()):
            if not p.matches_node(node):
                continue
            sel = cs if p.cocotb is None else [c for c in cs if c.cocotb == p.cocotb]
            live = [c for c in sel if c.outcome != "skipped"]
            skipped += len(sel) - len(live)
            if not live:
                continue
            label = node if p.cocotb is None or p.cocotb in param_tokens(node) else f"{node}::{p.cocotb}"
            bad = [c for c in live if c.outcome == "failed"]
            if expects_failure(node, tests_dir, root):
                runs.append(Run(label, "passed" if bad else "failed",
                                "" if bad else "expected the injected bug to fail the bench, but it passed"))
            else:
                runs.append(Run(label, "failed" if bad else "passed",
                                "; ".join(f"{c.cocotb}: {c.message}" for c in bad)))
    return runs, skipped


@dataclass
class FeatureStatus:
    feature: Feature
    status: str
    runs: int
    passed: int
    failed: int
    skipped: int
    failures: list[Run]
    not_run: list[str]
    per_pattern: dict[str, dict]

    def to_dict(self) -> dict:
        f = self.feature
        return {"name": f.name, "design": f.design, "description": f.description, "status": self.status,
                "runs": self.runs, "passed": self.passed, "failed": self.failed, "skipped": self.skipped,
                "failures": [{"test": r.label, "message": r.message} for r in self.failures],
                "not_run": self.not_run, "tests": self.per_pattern}


def feature_status(f: Feature, rs: ResultSet, tests_dir: Path = TESTS_DIR, root: Path = ROOT,
                   tb_names: Iterable[str] = ()) -> FeatureStatus:
    runs: dict[str, Run] = {}
    per_pattern = {}
    not_run = []
    skipped = 0
    for p in f.tests:
        prs, sk = match_pattern(p, rs, tests_dir, root, tb_names)
        skipped += sk
        per_pattern[p.text] = {"runs": len(prs), "passed": sum(r.outcome == "passed" for r in prs),
                               "failed": sum(r.outcome == "failed" for r in prs), "skipped": sk}
        if not prs:
            not_run.append(p.text + (" (skipped)" if sk else ""))
        for r in prs:  # patterns may overlap: count each run once, failure wins
            if r.label not in runs or r.outcome == "failed":
                runs[r.label] = r
    failures = [r for r in runs.values() if r.outcome == "failed"]
    status = (FAIL if failures else NOT_RUN if not_run else PASS if f.tests else NO_TESTS)
    return FeatureStatus(f, status, len(runs), len(runs) - len(failures), len(failures), skipped,
                         failures, not_run, per_pattern)


def evaluate(features: list[Feature], rs: ResultSet, tests_dir: Path = TESTS_DIR, root: Path = ROOT,
             tb_names: Iterable[str] | None = None) -> list[FeatureStatus]:
    names = cocotb_test_names() if tb_names is None else set(tb_names)
    return [feature_status(f, rs, tests_dir, root, names) for f in features]


def _brief(items: list[str], n: int = 2) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def format_status(statuses: list[FeatureStatus], rs: ResultSet | None = None, title: str | None = None) -> str:
    rows = [("feature", "design", "tests run", "passed", "failed", "status")]
    for s in statuses:
        cell = s.status
        if s.status == FAIL:
            cell += ": " + _brief([r.label for r in s.failures])
        elif s.status == NOT_RUN:
            cell += f" ({len(s.not_run)} of {len(s.feature.tests)} listed): " + _brief(s.not_run)
        rows.append((s.feature.name, s.feature.design, str(s.runs), str(s.passed), str(s.failed), cell))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    if title:
        lines += [title, ""]
    if rs is not None:
        lines += [f"results: {src}" for src in rs.sources] or ["results: none found"]
        lines += [f"note: {n}" for n in rs.notes]
        lines.append("")
    for i, r in enumerate(rows):
        lines.append("| " + " | ".join(
            r[c].ljust(widths[c]) if c in (0, 1) else r[c].rjust(widths[c]) for c in range(5)) + f" | {r[5]} |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|---|")
    counts = {k: sum(s.status == k for s in statuses) for k in (PASS, FAIL, NOT_RUN, NO_TESTS)}
    lines += ["", ", ".join(f"{n} {k}" for k, n in counts.items() if n) + f" of {len(statuses)} features"]
    details = [s for s in statuses if s.failures or s.not_run]
    if details:
        lines += ["", "details:"]
        for s in details:
            for r in s.failures:
                lines.append(f"  {s.feature.name}: FAIL {r.label}" + (f": {r.message}" if r.message else ""))
            if s.not_run:
                lines.append(f"  {s.feature.name}: NOT RUN {', '.join(s.not_run)}")
    return "\n".join(lines)


def write_status(statuses: list[FeatureStatus], rs: ResultSet, text: str, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / STATUS_MD, out_dir / STATUS_JSON
    md.write_text(text + "\n")
    js.write_text(json.dumps({
        "sources": rs.sources, "notes": rs.notes,
        "summary": {k: sum(s.status == k for s in statuses) for k in (PASS, FAIL, NOT_RUN, NO_TESTS)},
        "features": [s.to_dict() for s in statuses]}, indent=1) + "\n")
    return md, js


def exit_code(statuses: list[FeatureStatus], require_all: bool = False) -> int:
    if any(s.status == FAIL for s in statuses):
        return 1
    if require_all and any(s.status == NOT_RUN for s in statuses):
        return 1
    return 0


def report(junits: Iterable[Path] = (), out_dir: Path = BUILD_ROOT, cocotb_root: Path | None = COCOTB_ROOT,
           require_all: bool = False, title: str | None = "testplan status",
           features: list[Feature] | None = None) -> tuple[str, int]:
    """Status of every feature from these results: the table text and an exit code; writes md/json."""
    features = features if features is not None else load_testplan()
    rs = collect_results(junits, cocotb_root)
    statuses = evaluate(features, rs)
    text = format_status(statuses, rs, title)
    md, js = write_status(statuses, rs, text, out_dir)
    text += f"\n\nwritten: {_rel(md)}, {_rel(js)}"
    if rs.empty():
        text += "\nno results found: run `make test` or `make regress` first"
        return text, 1 if require_all else 0
    return text, exit_code(statuses, require_all)


# --------------------------------------------------------------------------- functional coverage

def feature_coverage(groups: dict, features: list[Feature] | None = None,
                     waivers: Iterable[str] = ()) -> list[dict]:
    """Per feature, which of its listed coverage items were hit, given merged
    functional coverage ``{group: {point: {bin: count}}}`` (sim/coverage.py
    ``merge_functional``).

    An item is ``group.point`` (every bin of the point) or ``group.point.bin``;
    ``*``/``?`` wildcards work in each part. A bin counts as hit when its count
    is non-zero or it is waived (``group.point.bin`` in ``waivers``). Item
    status: ``hit`` (all its bins hit), ``partial``, ``missed`` (no bin hit) or
    ``unknown`` (no such bins in the data: never sampled, or a wrong name).
    Returns ``[{"feature", "design", "items": [{"name", "status", "bins_hit",
    "bins_total", "missing"}], "hit": [...], "missed": [...]}]``, where
    ``missed`` holds every item that is not fully hit.
    """
    features = features if features is not None else load_testplan()
    waived = set(waivers)
    out = []
    for f in features:
        items = []
        for item in f.coverage:
            parts = item.split(".", 2)
            gpat, ppat = parts[0], parts[1] if len(parts) > 1 else "*"
            bpat = parts[2] if len(parts) > 2 else "*"
            bins = [(f"{g}.{p}.{b}", n) for g, points in sorted(groups.items()) if glob_match(gpat, g)
                    for p, bs in sorted(points.items()) if glob_match(ppat, p)
                    for b, n in bs.items() if glob_match(bpat, str(b))]
            hit = [name for name, n in bins if n or name in waived]
            missing = [name for name, n in bins if not (n or name in waived)]
            status = ("unknown" if not bins else "hit" if not missing else "partial" if hit else "missed")
            items.append({"name": item, "status": status, "bins_hit": len(hit), "bins_total": len(bins),
                          "missing": missing})
        out.append({"feature": f.name, "design": f.design, "items": items,
                    "hit": [i["name"] for i in items if i["status"] == "hit"],
                    "missed": [i["name"] for i in items if i["status"] != "hit"]})
    return out


def format_feature_coverage(rows: list[dict]) -> str:
    """One line per feature that lists coverage: hit items and the holes by name."""
    lines = []
    for r in rows:
        if not r["items"]:
            continue
        n_hit = len(r["hit"])
        line = f"  {r['feature']:24} {n_hit}/{len(r['items'])} points fully hit"
        holes = []
        for i in r["items"]:
            if i["status"] == "unknown":
                holes.append(f"{i['name']} (no data)")
            elif i["status"] != "hit":
                holes.append(f"{i['name']} ({', '.join(m.rsplit('.', 1)[1] for m in i['missing'])})")
        lines.append(line + (f"; missing: {'; '.join(holes)}" if holes else ""))
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", action="append", type=Path, default=[], metavar="JUNIT",
                    help="pytest JUnit XML to report on (repeatable); default: the newest of "
                         "build/test-results.xml and build/regress/*/junit.xml")
    ap.add_argument("--cocotb-dir", type=Path, default=COCOTB_ROOT,
                    help="per-simulation cocotb results, <dir>/*/results.xml (default: build/tests)")
    ap.add_argument("--no-cocotb", action="store_true", help="ignore the per-simulation cocotb results")
    ap.add_argument("--no-junit", action="store_true",
                    help="judge by the per-simulation cocotb results alone (whatever runs wrote them)")
    ap.add_argument("--out-dir", type=Path, default=BUILD_ROOT,
                    help=f"where {STATUS_MD} and {STATUS_JSON} go (default: build)")
    ap.add_argument("--require-all", action="store_true", help="a NOT RUN feature is an error too")
    ap.add_argument("--check", action="store_true",
                    help="static check only: docs/testplan.md up to date, every test pattern exists")
    ap.add_argument("--status", action="store_true", help="with --check: also report the status")
    ap.add_argument("--write-md", action="store_true", help="regenerate docs/testplan.md from docs/testplan.toml")
    args = ap.parse_args(argv)

    try:
        features = load_testplan()
    except TestplanError as exc:
        print(f"testplan: {exc}", file=sys.stderr)
        return 1
    if args.write_md:
        TESTPLAN_MD.write_text(render_md(features))
        print(f"testplan: wrote {TESTPLAN_MD.relative_to(ROOT)} ({len(features)} features)")
        return 0

    rc = 0
    if args.check:
        errors, warnings = static_check(features)
        for w in warnings:
            print(f"testplan: warning: {w}")
        for e in errors:
            print(f"testplan: ERROR: {e}")
        n_tests = sum(len(f.tests) for f in features)
        print(f"testplan --check: {len(features)} features, {n_tests} test patterns: "
              f"{len(errors)} errors, {len(warnings)} warnings")
        rc = 1 if errors else 0
        if not args.status:
            return rc
        print()

    junits = args.results
    if args.no_junit:
        junits = []
    elif not junits:
        latest = latest_junit()
        junits = [latest] if latest else []
    missing = [j for j in junits if not j.exists()]
    if missing:
        print(f"testplan: no such results file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 1
    try:
        text, status_rc = report(junits, args.out_dir, None if args.no_cocotb else args.cocotb_dir,
                                 args.require_all, features=features)
    except ET.ParseError as exc:
        print(f"testplan: unreadable results file: {exc}", file=sys.stderr)
        return 1
    print(text)
    return rc or status_rc


if __name__ == "__main__":
    sys.exit(main())
