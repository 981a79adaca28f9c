"""`make regress`: RTL tests x seeds in parallel, per named profile, optionally one shard of it.

Profiles (OpenTitan style): ``smoke`` is fixed-seed and quick, ``nightly``
reseeds from the clock (or ``--base-seed``) and runs many more seeds,
including tests marked slow. Prints a per-test table, writes JUnit XML and a
Markdown summary, and for each failure the one command that reruns it with
its seed and waves; then each testplan feature's status (sim/testplan.py).

``--shard i/N`` runs a deterministic 1/N slice of the (test x seed) list
(sim/shard.py) so N machines can share a regression; ``make merge`` (sim/merge.py)
joins the shards into the report one unsharded run would give. Every run
writes a self-contained results directory, ``build/regress/<profile>/`` or
``build/regress/<profile>/shard-i-of-N/``:

  regress.json          what ran: profile, markers, -k, seeds, base seed, shard, node ids
  junit.xml, summary.md the pytest JUnit and the per-test table
  tests/<node>/         each simulation's cocotb results.xml and functional coverage
                        (fcov_*.json); sim.log of the failed ones
  coverage/raw/*.dat    Verilator line/toggle/branch coverage, one per test (``--coverage``)
  testplan_status.*     per-feature status of these results
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from .runner import _sanitize, rerun_command
from .shard import parse_shard, shard_dir_name, shard_slice
from .toolchain import BUILD_ROOT, ROOT

PROFILES = {
    "smoke": {"seeds": 2, "markers": "rtl and not slow", "reseed": False,
              "about": "every RTL test, 2 fixed seeds"},
    "nightly": {"seeds": 10, "markers": "(rtl and not mutant) or install", "reseed": True, "random_timing": True,
                "about": "every RTL test incl. slow and full-size ones (not the injected-bug builds), "
                         "10 fresh seeds, memory timing and backpressure drawn from each seed; "
                         "and the fresh-venv install of the package (tests marked install)"},
}
# coverage builds leave out the injected-bug builds (broken RTL) and the full-size shapes, as `make coverage` does
COVERAGE_MARKERS = "not mutant and not fullsize"
MANIFEST = "regress.json"

SEED_RE = re.compile(r"seed(\d+)")


def parse_junit(path: Path) -> list[dict]:
    rows = []
    for case in ET.parse(path).getroot().iter("testcase"):
        cls = case.get("classname", "")
        name = case.get("name", "")
        nodeid = cls.replace(".", "/") + ".py::" + name
        outcome = "passed"
        message = ""
        for tag in ("failure", "error"):
            el = case.find(tag)
            if el is not None:
                outcome = "failed"
                message = (el.get("message") or "").splitlines()[0][:160] if el.get("message") else ""
        if case.find("skipped") is not None:
            outcome = "skipped"
        m = SEED_RE.search(name)
        rows.append({
            "nodeid": nodeid,
            "test": SEED_RE.sub("", name).replace("[-", "[").replace("--", "-").replace("-]", "]"),
            "file": cls,
            "seed": int(m.group(1)) if m else None,
            "outcome": outcome,
            "time": float(case.get("time", 0.0)),
            "message": message,
        })
    return rows


def summarize(rows: list[dict], profile: str, base_seed: int, seeds: int, wall: float,
              scope: str = "") -> tuple[str, int]:
    """The per-test table and failure list; ``scope`` says what part of the regression this is."""
    by_test: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_test[f"{r['file']}::{r['test']}"].append(r)
    width = max([len(t) for t in by_test] + [4])
    lines = [f"regression profile '{profile}'{scope}: base seed {base_seed}, {seeds} seeds per test, "
             f"{len(rows)} runs in {wall:.0f} s wall",
             "",
             f"| {'test':{width}} | runs | pass | fail | sim s |",
             f"|{'-' * (width + 2)}|------|------|------|-------|"]
    failed = []
    for test in sorted(by_test):
        rs = by_test[test]
        npass = sum(r["outcome"] == "passed" for r in rs)
        nfail = sum(r["outcome"] == "failed" for r in rs)
        failed += [r for r in rs if r["outcome"] == "failed"]
        lines.append(f"| {test:{width}} | {len(rs):4} | {npass:4} | {nfail:4} | {sum(r['time'] for r in rs):5.0f} |")
    total_pass = sum(r["outcome"] == "passed" for r in rows)
    lines += ["", f"{total_pass} passed, {len(failed)} failed"]
    if failed:
        lines += ["", "failures (rerun each with waves):"]
        for r in failed:
            lines.append(f"  {r['nodeid']}  seed {r['seed']}: {r['message']}")
            lines.append(f"    {rerun_command(r['nodeid'], r['seed'])}")
    return "\n".join(lines), len(failed)


def print_testplan_status(junit: Path, cocotb_dir: Path, out: Path) -> None:
    """Per-feature status of these results (docs/testplan.toml), printed and
    written to ``out``/testplan_status.md and .json. Features with no RTL test
    in the selection show NOT RUN; the regression's exit status is its tests'.
    Through the CLI, the testplan's stable interface."""
    cmd = [sys.executable, "-m", "sim.testplan", "--results", str(junit), "--cocotb-dir", str(cocotb_dir),
           "--out-dir", str(out)]
    print(flush=True)
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode not in (0, 1):   # 1: some feature FAILs, which the test table already shows
        print(f"regress: no testplan status (exit {proc.returncode})")


def report_results(out: Path, manifest: dict, rows: list[dict], coverage_report: bool) -> int:
    """Summary table, testplan status and (with coverage) the coverage report of
    one results directory; the same for an unsharded run and a merge. Returns
    the number of failed runs."""
    shard = manifest.get("shard")
    scope = (f", shard {shard[0]}/{shard[1]}" if shard else "") + manifest.get("scope", "")
    text, nfail = summarize(rows, manifest["profile"], manifest["base_seed"], manifest["seeds"],
                            manifest["wall_s"], scope)
    (out / "summary.md").write_text(text + "\n")
    print()
    print(text)
    print(f"\nJUnit: {out / 'junit.xml'}\nsummary: {out / 'summary.md'}")
    print_testplan_status(out / "junit.xml", out / "tests", out)
    if manifest.get("coverage"):
        raw = sorted((out / "coverage" / "raw").glob("*.dat"))
        if coverage_report:
            from . import coverage
            coverage.report(files=raw, cov_dir=out / "coverage", test_root=out / "tests")
        else:
            print(f"\ncoverage: {len(raw)} files in {out / 'coverage' / 'raw'}; `make merge` reports them "
                  "with the other shards'")
    return nfail


def collect(cmd: list[str], env: dict) -> list[str]:
    """The node ids pytest selects with these options (no run)."""
    proc = subprocess.run(cmd + ["--collect-only", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    ids = [ln.strip() for ln in proc.stdout.splitlines() if "::" in ln and not ln.startswith(" ")]
    if proc.returncode not in (0, 5):   # 5: nothing selected
        raise RuntimeError(f"pytest collection failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}"
                           f"{proc.stderr[-2000:]}")
    return ids


def harvest(nodeids, out: Path, failed: set[str], coverage: bool) -> tuple[int, int]:
    """Copy each run's cocotb results and functional coverage (and the log of a
    failure) from build/tests into ``out``/tests, its Verilator coverage file into
    ``out``/coverage/raw. copy2 keeps file times: the testplan status counts a
    simulation's results only when written inside the JUnit run's time window."""
    n_dirs = n_cov = 0
    for nodeid in nodeids:
        name = _sanitize(nodeid)
        src = BUILD_ROOT / "tests" / name
        if src.is_dir():
            dst = out / "tests" / name
            dst.mkdir(parents=True, exist_ok=True)
            files = [src / "results.xml", *sorted(src.glob("fcov_*.json"))]
            if nodeid in failed:
                files.append(src / "sim.log")
            for f in files:
                if f.exists():
                    shutil.copy2(f, dst / f.name)
            n_dirs += 1
        dat = BUILD_ROOT / "coverage" / "raw" / f"{name}.dat"
        if coverage and dat.exists():
            (out / "coverage" / "raw").mkdir(parents=True, exist_ok=True)
            shutil.copy2(dat, out / "coverage" / "raw" / dat.name)
            n_cov += 1
    return n_dirs, n_cov


RESULT_ENTRIES = ("tests", "coverage", MANIFEST, "junit.xml", "summary.md", "testplan_status.md",
                  "testplan_status.json")


def clear_results(out: Path) -> None:
    """Remove what a previous run wrote to ``out`` (only that: shard-*/ and merged/ beside it stay)."""
    for entry in RESULT_ENTRIES:
        p = out / entry
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def default_base_seed(prof: dict, sharded: bool) -> int:
    if not prof["reseed"]:
        return 1
    if sharded:
        # every shard must draw the same seeds without talking to the others: today's UTC date
        return int(time.strftime("%y%m%d", time.gmtime()))
    return int(time.time()) % 1_000_000


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke", choices=sorted(PROFILES))
    ap.add_argument("--jobs", default="auto")
    ap.add_argument("--seeds", type=int, default=None, help="override the profile's seed count")
    ap.add_argument("--base-seed", type=int, default=None)
    ap.add_argument("-k", default=None, help="pytest -k filter on top of the profile's selection")
    ap.add_argument("--shard", default=None, metavar="i/N", help="run the i-th of N deterministic slices")
    ap.add_argument("--coverage", action="store_true",
                    help="Verilator line/toggle/branch coverage (leaves out injected-bug and full-size builds)")
    ap.add_argument("--out", type=Path, default=None,
                    help="results directory (default build/regress/<profile>[/shard-i-of-N])")
    args = ap.parse_args(argv)
    prof = PROFILES[args.profile]
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        print(f"regress: {exc}", file=sys.stderr)
        return 2
    if args.seeds is not None and args.seeds < 1:
        print(f"regress: SEEDS={args.seeds}: need at least 1", file=sys.stderr)
        return 2
    seeds = args.seeds or prof["seeds"]
    base = args.base_seed if args.base_seed is not None else default_base_seed(prof, shard is not None)
    markers = prof["markers"] + (f" and {COVERAGE_MARKERS}" if args.coverage else "")
    out = args.out.resolve() if args.out else BUILD_ROOT / "regress" / args.profile
    if shard and args.out is None:
        out = out / shard_dir_name(*shard)
    out.mkdir(parents=True, exist_ok=True)
    clear_results(out)
    junit = out / "junit.xml"

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if prof.get("random_timing"):
        env["MICROREC_RANDOM_TIMING"] = "1"
        os.environ["MICROREC_RANDOM_TIMING"] = "1"   # so the printed rerun commands carry it
    select = [sys.executable, "-m", "pytest", "tests", "-m", markers, "--seeds", str(seeds),
              "--base-seed", str(base), "-p", "no:cacheprovider", "-p", "sim.shard"]
    if args.k:
        select += ["-k", args.k]
    try:
        everything = collect(select, env)
    except RuntimeError as exc:
        print(f"regress: {exc}", file=sys.stderr)
        return 1
    chosen = shard_slice(everything, *shard) if shard else sorted(everything)
    if not chosen:
        print(f"regress: no test selected (markers {markers!r}{', -k ' + repr(args.k) if args.k else ''}"
              f"{', shard ' + args.shard if shard else ''}); that is a failure")
        return 1
    # every result in the results directory must come from this run: clear the old ones of these tests
    for nodeid in chosen:
        name = _sanitize(nodeid)
        shutil.rmtree(BUILD_ROOT / "tests" / name, ignore_errors=True)
        (BUILD_ROOT / "coverage" / "raw" / f"{name}.dat").unlink(missing_ok=True)

    cmd = select + ["-q", "-n", str(args.jobs), f"--junitxml={junit}"]
    if shard:
        cmd += ["--shard", f"{shard[0]}/{shard[1]}"]
    if args.coverage:
        cmd += ["--coverage-rtl"]
    what = f"shard {shard[0]}/{shard[1]}: {len(chosen)} of {len(everything)} runs" if shard else f"{len(chosen)} runs"
    print(f"regress: profile {args.profile} ({prof['about']}), base seed {base}, {what}"
          + (", with coverage" if args.coverage else ""))
    print("  " + shlex.join(cmd), flush=True)
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env)
    wall = time.time() - t0
    if not junit.exists():
        print(f"regress: pytest wrote no JUnit file (exit {proc.returncode})")
        return 1
    rows = parse_junit(junit)
    ran = {r["nodeid"] for r in rows}
    failed = {r["nodeid"] for r in rows if r["outcome"] == "failed"}
    n_dirs, n_cov = harvest(sorted(ran), out, failed, args.coverage)
    manifest = {
        "profile": args.profile, "markers": markers, "k": args.k, "seeds": seeds, "base_seed": base,
        "shard": list(shard) if shard else None, "total": len(everything), "selected": chosen,
        "coverage": args.coverage, "wall_s": round(wall, 1), "pytest_exit": proc.returncode,
        "commit": git_commit(), "host": platform.node(), "root": str(ROOT), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                                                                    time.localtime(t0)),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    nfail = report_results(out, manifest, rows, coverage_report=shard is None)
    print(f"\nresults: {out} ({n_dirs} simulation results" + (f", {n_cov} coverage files" if args.coverage else "")
          + ")")
    missing = sorted(set(chosen) - ran)
    if missing:
        print(f"regress: {len(missing)} selected runs have no JUnit result, e.g. {missing[0]}; that is a failure")
        return 1
    if not rows:
        print("regress: zero tests ran; that is a failure")
        return 1
    return 1 if (nfail or proc.returncode not in (0,)) else 0


if __name__ == "__main__":
    sys.exit(main())
