"""The testplan (docs/testplan.toml, sim/testplan.py): pure Python, no simulation.

The checked-in Markdown is generated from the TOML, every test the TOML names
exists, and the per-feature status logic is right on small synthetic JUnit
and cocotb result files.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sim import testplan as tp
from sim.runner import _sanitize

# --------------------------------------------------------------------------- the real testplan


def test_markdown_matches_toml():
    """`python -m sim.testplan --write-md` output is what is checked in."""
    problems = tp.check_md()
    assert not problems, "\n".join(problems)


def test_every_test_in_the_testplan_exists():
    """`python -m sim.testplan --check`: pytest --collect-only plus the cocotb names in tb/."""
    errors, _warnings = tp.static_check()
    assert not errors, "\n".join(errors)


def test_testplan_covers_every_design_section_with_tests():
    features = tp.load_testplan()
    assert len({f.name for f in features}) == len(features)
    sections = tp.design_sections()
    assert sections, "docs/design.md has no numbered sections"
    assert {"s.3", "s.4", "s.5", "s.6", "s.7"} <= {f.design for f in features} <= sections
    assert sum(bool(f.tests) for f in features) >= len(features) - 1


# --------------------------------------------------------------------------- fixtures

PLAN = """
[[feature]]
name = "adder"
design = "s.3"
description = "adds"
tests = ["tests/test_add.py::test_add"]
coverage = ["alu.op", "alu.carry.set"]

[[feature]]
name = "pe"
design = "s.3"
description = "MAC PE, only the random test at 4 lanes"
tests = ["tests/test_mac_pe.py::test_mac_pe[*lanes4*]::MacRandomTest"]
coverage = ["mac_pe.*"]

[[feature]]
name = "csr-rw"
design = "s.5"
description = "CSR read/write (one simulation runs all CSR tests)"
tests = ["tests/test_csr.py::test_csr::CsrRwTest"]

[[feature]]
name = "csr-err"
design = "s.5"
description = "CSR errors"
tests = ["tests/test_csr.py::test_csr::CsrErrTest"]

[[feature]]
name = "models"
design = "s.4"
description = "a whole file of model tests"
tests = ["tests/test_models.py"]

[[feature]]
name = "mutants"
design = "s.6"
description = "injected bug"
tests = ["tests/test_mac_pe.py::test_mac_pe_injected_bug_is_caught[*ROUND*]"]
evidence = ["mutant MAC_PE_BUG_ROUND"]
"""


TB_NAMES = {"MacRandomTest", "MacReluTest", "MacAllTest", "CsrRwTest", "CsrErrTest", "CsrBaseTest"}


def features():
    return tp.parse_testplan(PLAN, "fixture")


def junit(path: Path, cases: list[tuple[str, str, str]], start: float | None = None) -> Path:
    """cases: (classname, name, outcome in passed|failed|error|skipped)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(start if start is not None else time.time() - 60))
    body = []
    for cls, name, outcome in cases:
        inner = {"passed": "", "failed": '<failure message="AssertionError: MISMATCH q3">tb</failure>',
                 "error": '<error message="setup failed">tb</error>',
                 "skipped": '<skipped message="slow" />'}[outcome]
        body.append(f'<testcase classname="{cls}" name="{name}" time="0.1">{inner}</testcase>')
    path.write_text('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
                    f'<testsuite name="pytest" errors="0" failures="0" skipped="0" tests="{len(cases)}" '
                    f'time="1.0" timestamp="{stamp}" hostname="vm">{"".join(body)}</testsuite></testsuites>')
    return path


def cocotb_results(root: Path, nodeid: str, cases: dict[str, str], mtime: float | None = None) -> Path:
    """build/tests/<sanitized node id>/results.xml as the cocotb runner writes it."""
    d = root / _sanitize(nodeid)
    d.mkdir(parents=True, exist_ok=True)
    body = "".join(
        f'<testcase classname="tb.x" name="{n}" time="0.1">'
        + ('<failure message="Test failed with RANDOM_SEED=1" />' if o == "failed" else "") + "</testcase>"
        for n, o in cases.items())
    xml = d / "results.xml"
    xml.write_text(f'<testsuites name="cocotb tests"><testsuite name="tb.x">{body}</testsuite></testsuites>')
    if mtime is not None:
        os.utime(xml, (mtime, mtime))
    return xml


def status_of(statuses, name):
    return next(s for s in statuses if s.feature.name == name)


ALL_PASS = [
    ("tests.test_add", "test_add[seed1]", "passed"),
    ("tests.test_add", "test_add[seed2]", "passed"),
    ("tests.test_mac_pe", "test_mac_pe[seed1-lanes4-MacRandomTest]", "passed"),
    ("tests.test_mac_pe", "test_mac_pe[seed1-lanes1-MacRandomTest]", "passed"),
    ("tests.test_mac_pe", "test_mac_pe[seed1-lanes4-MacReluTest]", "failed"),  # not listed anywhere
    ("tests.test_csr", "test_csr[seed1]", "passed"),
    ("tests.test_models", "test_a", "passed"),
    ("tests.test_models", "test_b[x-1]", "passed"),
    ("tests.test_mac_pe", "test_mac_pe_injected_bug_is_caught[seed1-MAC_PE_BUG_ROUND]", "passed"),
]


def evaluate(tmp_path, cases, cocotb: dict | None = None, start=None):
    j = junit(tmp_path / "junit.xml", cases, start)
    croot = tmp_path / "tests_out"
    croot.mkdir(exist_ok=True)
    for nodeid, cs in (cocotb or {}).items():
        cocotb_results(croot, nodeid, cs)
    rs = tp.collect_results([j], croot, root=tmp_path, tests_dir=tmp_path / "tests")
    return tp.evaluate(features(), rs, tests_dir=tmp_path / "tests", root=tmp_path, tb_names=TB_NAMES), rs


# --------------------------------------------------------------------------- status logic


def test_nodeids_from_junit_classnames():
    assert tp.classname_to_nodeid("tests.test_top", "test_top_tiny[seed1-TopZipfTest]") == \
        "tests/test_top.py::test_top_tiny[seed1-TopZipfTest]"
    assert tp.param_tokens("tests/test_mac_pe.py::test_mac_pe[seed7-lanes4-MacRandomTest]") == \
        ["seed7", "lanes4", "MacRandomTest"]
    p = tp.Pattern.parse("tests/test_mac_pe.py::test_mac_pe[*lanes4*]::MacRandomTest")
    assert p.matches_node("tests/test_mac_pe.py::test_mac_pe[seed1-lanes4-MacRandomTest]")
    assert not p.matches_node("tests/test_mac_pe.py::test_mac_pe[seed1-lanes1-MacRandomTest]")
    # a function pattern without brackets matches every parametrization, not a longer name
    f = tp.Pattern.parse("tests/test_mlp_engine.py::test_mlp_engine")
    assert f.matches_node("tests/test_mlp_engine.py::test_mlp_engine[seed1-MlpRandomTest]")
    assert not f.matches_node("tests/test_mlp_engine.py::test_mlp_engine_microrec_small[seed1]")


def test_all_listed_tests_passed(tmp_path):
    statuses, _ = evaluate(tmp_path, ALL_PASS, {
        "tests/test_csr.py::test_csr[seed1]": {"CsrRwTest": "passed", "CsrErrTest": "passed"}})
    got = {s.feature.name: s.status for s in statuses}
    assert got == {"adder": "PASS", "pe": "PASS", "csr-rw": "PASS", "csr-err": "PASS", "models": "PASS",
                   "mutants": "PASS"}
    adder = status_of(statuses, "adder")
    assert (adder.runs, adder.passed, adder.failed) == (2, 2, 0)
    # parametrized: only the lanes4 run of MacRandomTest, chosen by its id
    pe = status_of(statuses, "pe")
    assert pe.runs == 1 and pe.passed == 1
    assert status_of(statuses, "models").runs == 2
    assert tp.exit_code(statuses) == 0 and tp.exit_code(statuses, require_all=True) == 0


def test_a_failed_run_fails_its_feature_and_is_named(tmp_path):
    cases = [c if c[1] != "test_add[seed2]" else (c[0], c[1], "failed") for c in ALL_PASS]
    statuses, _ = evaluate(tmp_path, cases, {
        "tests/test_csr.py::test_csr[seed1]": {"CsrRwTest": "passed", "CsrErrTest": "passed"}})
    adder = status_of(statuses, "adder")
    assert adder.status == "FAIL"
    assert (adder.runs, adder.passed, adder.failed) == (2, 1, 1)
    assert [r.label for r in adder.failures] == ["tests/test_add.py::test_add[seed2]"]
    assert "MISMATCH" in adder.failures[0].message
    assert tp.exit_code(statuses) == 1
    text = tp.format_status(statuses)
    assert "FAIL: tests/test_add.py::test_add[seed2]" in text


def test_error_in_junit_counts_as_failure(tmp_path):
    cases = [c if c[1] != "test_a" else (c[0], c[1], "error") for c in ALL_PASS]
    statuses, _ = evaluate(tmp_path, cases)
    assert status_of(statuses, "models").status == "FAIL"


def test_unmatched_test_is_not_run(tmp_path):
    cases = [c for c in ALL_PASS if c[0] != "tests.test_add"]  # e.g. a profile deselected it
    statuses, _ = evaluate(tmp_path, cases, {
        "tests/test_csr.py::test_csr[seed1]": {"CsrRwTest": "passed", "CsrErrTest": "passed"}})
    adder = status_of(statuses, "adder")
    assert adder.status == "NOT RUN" and adder.not_run == ["tests/test_add.py::test_add"]
    assert tp.exit_code(statuses) == 0
    assert tp.exit_code(statuses, require_all=True) == 1
    assert "NOT RUN (1 of 1 listed): tests/test_add.py::test_add" in tp.format_status(statuses)


def test_skipped_is_not_a_run(tmp_path):
    cases = [(c[0], c[1], "skipped") if c[0] == "tests.test_add" else c for c in ALL_PASS]
    statuses, _ = evaluate(tmp_path, cases)
    adder = status_of(statuses, "adder")
    assert adder.status == "NOT RUN" and adder.skipped == 2 and adder.runs == 0
    assert "(skipped)" in adder.not_run[0]


def test_cocotb_test_names_judged_by_their_own_results(tmp_path):
    """One simulation ran CsrRwTest and CsrErrTest; only CsrErrTest failed, so pytest failed."""
    cases = [c if c[0] != "tests.test_csr" else (c[0], c[1], "failed") for c in ALL_PASS]
    statuses, rs = evaluate(tmp_path, cases, {
        "tests/test_csr.py::test_csr[seed1]": {"CsrRwTest": "passed", "CsrErrTest": "failed"}})
    assert status_of(statuses, "csr-rw").status == "PASS"
    err = status_of(statuses, "csr-err")
    assert err.status == "FAIL"
    assert [r.label for r in err.failures] == ["tests/test_csr.py::test_csr[seed1]::CsrErrTest"]
    assert any("cocotb tests in 1 runs" in s for s in rs.sources)


def test_cocotb_name_without_results_when_the_pytest_run_failed(tmp_path):
    """A build failure leaves no cocotb results: the listed cocotb test fails with its pytest test."""
    cases = [c if c[0] != "tests.test_csr" else (c[0], c[1], "failed") for c in ALL_PASS]
    statuses, _ = evaluate(tmp_path, cases)
    assert status_of(statuses, "csr-rw").status == "FAIL"
    # a passed multi-test run with no result for the name does not count as a run
    (tmp_path / "b").mkdir()
    statuses, _ = evaluate(tmp_path / "b", ALL_PASS)
    assert status_of(statuses, "csr-rw").status == "NOT RUN"


def test_cocotb_results_from_other_runs_are_ignored(tmp_path):
    """Only results.xml written during the JUnit's run (by file time) attach to it."""
    start = time.time() - 30
    j = junit(tmp_path / "junit.xml", [("tests.test_csr", "test_csr[seed1]", "passed")], start)
    croot = tmp_path / "out"
    cocotb_results(croot, "tests/test_csr.py::test_csr[seed1]", {"CsrRwTest": "failed"}, mtime=start - 3600)
    rs = tp.collect_results([j], croot, root=tmp_path, tests_dir=tmp_path / "tests")
    assert rs.cocotb == {}
    cocotb_results(croot, "tests/test_csr.py::test_csr[seed1]", {"CsrRwTest": "failed"}, mtime=start + 5)
    rs = tp.collect_results([j], croot, root=tmp_path, tests_dir=tmp_path / "tests")
    assert [c.cocotb for c in rs.cocotb["tests/test_csr.py::test_csr[seed1]"]] == ["CsrRwTest"]


def test_cocotb_results_alone(tmp_path):
    """No JUnit: directories map back to node ids; injected-bug runs pass when the bench failed."""
    tests_dir = tmp_path / "tests"
    tests_dir.mkdir()
    (tests_dir / "test_mac_pe.py").write_text(
        "def test_mac_pe(lanes, testcase, seed):\n    run_test(testcase=testcase)\n\n"
        "def test_mac_pe_injected_bug_is_caught(bug, seed):\n    run_test(expect_fail=True)\n")
    (tests_dir / "test_csr.py").write_text("def test_csr(seed):\n    run_test()\n")
    croot = tmp_path / "out"
    cocotb_results(croot, "tests/test_mac_pe.py::test_mac_pe[seed1-lanes4-MacRandomTest]",
                   {"MacRandomTest": "passed"})
    cocotb_results(croot, "tests/test_mac_pe.py::test_mac_pe_injected_bug_is_caught[seed1-MAC_PE_BUG_ROUND]",
                   {"MacAllTest": "failed"})
    cocotb_results(croot, "tests/test_csr.py::test_csr[seed1]", {"CsrRwTest": "passed", "CsrErrTest": "failed"})
    (croot / "bench_hbm_speed_idle").mkdir()
    (croot / "bench_hbm_speed_idle" / "results.xml").write_text("<testsuites/>")
    resolve = tp.dir_to_nodeid_resolver(tests_dir, tmp_path)
    assert resolve(_sanitize("tests/test_mac_pe.py::test_mac_pe_injected_bug_is_caught[seed1-MAC_PE_BUG_ROUND]")) \
        == "tests/test_mac_pe.py::test_mac_pe_injected_bug_is_caught[seed1-MAC_PE_BUG_ROUND]"
    assert resolve("bench_hbm_speed_idle") is None
    rs = tp.collect_results([], croot, root=tmp_path, tests_dir=tests_dir)
    assert rs.notes and not rs.pytest
    statuses = tp.evaluate(features(), rs, tests_dir=tests_dir, root=tmp_path, tb_names=TB_NAMES)
    got = {s.feature.name: s.status for s in statuses}
    assert got == {"adder": "NOT RUN", "pe": "PASS", "csr-rw": "PASS", "csr-err": "FAIL", "models": "NOT RUN",
                   "mutants": "PASS"}


def test_report_writes_markdown_and_json(tmp_path):
    j = junit(tmp_path / "junit.xml", ALL_PASS)
    text, rc = tp.report([j], out_dir=tmp_path / "out", cocotb_root=None, features=features())
    assert rc == 0
    md = (tmp_path / "out" / "testplan_status.md").read_text()
    assert "| feature" in md and "| adder" in md and "tests run" in md
    data = json.loads((tmp_path / "out" / "testplan_status.json").read_text())
    assert data["summary"]["PASS"] == 4  # csr-rw/csr-err: no cocotb results
    assert {f["name"]: f["status"] for f in data["features"]}["csr-rw"] == "NOT RUN"


def test_cli_on_the_real_testplan_fails_on_a_failure(tmp_path, capsys):
    j = junit(tmp_path / "junit.xml", [
        ("tests.test_models_fixed_point", "test_sat_generic_bits", "failed"),
        ("tests.test_models_tables", "test_row_bytes_layout", "passed")])
    rc = tp.main(["--results", str(j), "--no-cocotb", "--out-dir", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "fixed-point-numbers" in out and "FAIL: tests/test_models_fixed_point.py::test_sat_generic_bits" in out
    assert tp.main(["--results", str(tmp_path / "missing.xml")]) == 1


# --------------------------------------------------------------------------- static check


COLLECTED = [
    "tests/test_add.py::test_add[seed1]",
    "tests/test_mac_pe.py::test_mac_pe[seed1-lanes4-MacRandomTest]",
    "tests/test_mac_pe.py::test_mac_pe[seed1-lanes4-MacReluTest]",
    "tests/test_mac_pe.py::test_mac_pe_injected_bug_is_caught[seed1-MAC_PE_BUG_ROUND]",
    "tests/test_csr.py::test_csr[seed1]",
    "tests/test_models.py::test_a",
]
RTL = [n for n in COLLECTED if "models" not in n]


def resolver_root(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "tests" / "test_csr.py").write_text('TESTS = ["CsrRwTest", "CsrErrTest"]\n')
    return tmp_path


def test_resolver_accepts_the_fixture_plan(tmp_path):
    errors, warnings = tp.check_patterns(features(), COLLECTED, RTL, TB_NAMES, root=resolver_root(tmp_path))
    assert errors == []
    # MacReluTest runs in its own parametrization that no feature lists
    assert warnings == ["RTL test listed by no feature: tests/test_mac_pe.py::test_mac_pe[lanes4-MacReluTest]"]


@pytest.mark.parametrize("pattern, expect", [
    ("tests/test_add.py::test_addd", "no collected test in that file matches"),
    ("tests/test_nope.py", "no such test file"),
    ("tests/test_mac_pe.py::test_mac_pe::MacBogusTest", "no cocotb test MacBogusTest in tb/"),
    ("tests/test_mac_pe.py::test_mac_pe::CsrRwTest", "test_mac_pe never runs CsrRwTest"),
    ("tests/test_csr.py::test_csr::CsrBaseTest", "never names 'CsrBaseTest'"),
    ("tests/test_mac_pe.py::test_mac_pe_injected_bug_is_caught[*NOT_A_BUG*]", "no collected test"),
])
def test_bogus_test_name_is_an_error(tmp_path, pattern, expect):
    plan = PLAN + f'\n[[feature]]\nname = "bogus"\ndesign = "s.5"\ndescription = "x"\ntests = ["{pattern}"]\n'
    errors, _ = tp.check_patterns(tp.parse_testplan(plan), COLLECTED, RTL, TB_NAMES, root=resolver_root(tmp_path))
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"bogus: {pattern}: ") and expect in errors[0]


def test_bogus_test_name_fails_the_real_check(monkeypatch, capsys):
    """End to end through --check: collect-only, then the error names the feature and pattern."""
    real = tp.load_testplan()
    bad = tp.Pattern.parse("tests/test_top.py::test_top_tiny::TopNoSuchTest")
    real[0].tests.append(bad)
    monkeypatch.setattr("sim.testplan.__main__.load_testplan", lambda *a, **k: real)
    monkeypatch.setattr("sim.testplan.plan.check_md", lambda *a, **k: [])
    rc = tp.main(["--check"])
    out = capsys.readouterr().out
    assert rc == 1
    assert f"ERROR: {real[0].name}: {bad.text}: no cocotb test TopNoSuchTest in tb/" in out


@pytest.mark.parametrize("plan, expect", [
    ('[[feature]]\nname = "a"\ndesign = "s.3"\ndescription = "x"\ntests = ["tests/a.py"]\n' * 2, "duplicate"),
    ('[[feature]]\nname = "a"\ndesign = "3"\ndescription = "x"\ntests = []\n', "design"),
    ('[[feature]]\nname = "a"\ndesign = "s.3"\ndescription = "x"\ntests = ["test_a"]\n', "expected tests/"),
    ('[[feature]]\nname = "a"\ndesign = "s.3"\ndescription = "x"\ntests = []\ncoverge = []\n', "unknown keys"),
    ('[[feature]]\nname = "a"\ndesign = "s.3"\ntests = []\n', "missing"),
    ('[[feature]]\nname = "a"\ndesign = "s.3"\ndescription = "x"\ntests = "tests/a.py"\n', "list"),
    ("not toml [", "fixture"),
])
def test_malformed_testplan_is_rejected(plan, expect):
    with pytest.raises(tp.TestplanError, match=expect):
        tp.parse_testplan(plan, "fixture")


def test_markdown_drift_is_detected(tmp_path):
    md = tmp_path / "testplan.md"
    md.write_text(tp.render_md(features()))
    assert tp.check_md(features(), md) == []
    md.write_text(md.read_text().replace("adds", "subtracts"))
    problems = tp.check_md(features(), md)
    assert problems and "--write-md" in problems[0]


# --------------------------------------------------------------------------- functional coverage


def test_feature_coverage():
    groups = {
        "alu": {"op": {"add": 3, "sub": 0}, "carry": {"set": 2, "clear": 0}},
        "mac_pe": {"frac_bits": {"1": 1, "8": 4}, "spacing": {"back_to_back": 2}},
    }
    rows = {r["feature"]: r for r in tp.feature_coverage(groups, features())}
    adder = {i["name"]: i for i in rows["adder"]["items"]}
    assert adder["alu.op"]["status"] == "partial" and adder["alu.op"]["missing"] == ["alu.op.sub"]
    assert adder["alu.carry.set"]["status"] == "hit"  # one bin named
    assert rows["adder"]["hit"] == ["alu.carry.set"] and rows["adder"]["missed"] == ["alu.op"]
    assert rows["pe"]["hit"] == ["mac_pe.*"]  # wildcard point: every bin of every point
    assert rows["pe"]["items"][0]["bins_total"] == 3
    assert rows["models"]["items"] == []
    # waived bins count as hit; names nobody sampled are "unknown"
    rows = {r["feature"]: r for r in tp.feature_coverage(groups, features(), waivers={"alu.op.sub"})}
    assert rows["adder"]["missed"] == []
    rows = {r["feature"]: r for r in tp.feature_coverage({}, features())}
    assert [i["status"] for i in rows["adder"]["items"]] == ["unknown", "unknown"]
    assert "alu.op (no data)" in tp.format_feature_coverage(list(rows.values()))


def test_feature_coverage_names_of_the_real_testplan_are_declared():
    declared = tp.declared_coverpoints()
    for f in tp.load_testplan():
        for item in f.coverage:
            g, p = item.split(".")[:2]
            assert g in declared and any(tp.glob_match(p, x) for x in declared[g]), (f.name, item)
