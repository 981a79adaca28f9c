"""The testplan itself: docs/testplan.toml parsed into features with test
patterns, the generated docs/testplan.md, and the static check that every
pattern names a test that exists (pytest node ids and cocotb test names)."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..toolchain import BUILD_ROOT, ROOT, TB_DIR

TESTPLAN_TOML = ROOT / "docs" / "testplan.toml"
TESTPLAN_MD = ROOT / "docs" / "testplan.md"
DESIGN_MD = ROOT / "docs" / "design.md"
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

Each feature of `docs/design.md`, the tests that check it and the
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
    """``Covergroup("g")`` ... ``.point("p", ...)`` / ``.cross("p", ...)`` literals in tb/, group -> points."""
    groups: dict[str, set[str]] = {}
    tok = re.compile(r"""Covergroup\(\s*["'](\w+)["']|\.(?:point|cross)\(\s*["'](\w+)["']""")
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

