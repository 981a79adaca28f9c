"""`make regress`: RTL tests x seeds in parallel, per named profile.

Profiles (OpenTitan style): ``smoke`` is fixed-seed and quick, ``nightly``
reseeds from the clock (or ``--base-seed``) and runs many more seeds,
including tests marked slow. Prints a per-test table, writes JUnit XML and a
Markdown summary, and for each failure the one command that reruns it with
its seed and waves; then each testplan feature's status (sim/testplan.py).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from .runner import rerun_command
from .toolchain import BUILD_ROOT, ROOT

PROFILES = {
    "smoke": {"seeds": 2, "markers": "rtl and not slow", "reseed": False,
              "about": "every RTL test, 2 fixed seeds"},
    "nightly": {"seeds": 10, "markers": "rtl and not mutant", "reseed": True, "random_timing": True,
                "about": "every RTL test incl. slow and full-size ones (not the injected-bug builds), "
                         "10 fresh seeds, memory timing and backpressure drawn from each seed"},
}

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


def summarize(rows: list[dict], profile: str, base_seed: int, seeds: int, wall: float) -> tuple[str, int]:
    by_test: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_test[f"{r['file']}::{r['test']}"].append(r)
    width = max([len(t) for t in by_test] + [4])
    lines = [f"regression profile '{profile}': base seed {base_seed}, {seeds} seeds per test, "
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


def print_testplan_status(junit: Path, out: Path) -> None:
    """Per-feature status of this regression (docs/testplan.toml), printed and
    written to ``out``/testplan_status.md and .json. Features with no RTL test
    in the profile show NOT RUN; the regression's exit status is its tests'."""
    from . import testplan

    try:
        text, _ = testplan.report([junit], out_dir=out, title="testplan status of this regression")
    except Exception as exc:  # noqa: BLE001 - a broken testplan must not hide the regression result
        print(f"\nregress: no testplan status: {exc}")
        return
    print()
    print(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="smoke", choices=sorted(PROFILES))
    ap.add_argument("--jobs", default="auto")
    ap.add_argument("--seeds", type=int, default=None, help="override the profile's seed count")
    ap.add_argument("--base-seed", type=int, default=None)
    ap.add_argument("-k", default=None, help="pytest -k filter")
    args = ap.parse_args(argv)
    prof = PROFILES[args.profile]
    seeds = args.seeds or prof["seeds"]
    base = args.base_seed if args.base_seed is not None else (
        int(time.time()) % 1_000_000 if prof["reseed"] else 1)
    out = BUILD_ROOT / "regress" / args.profile
    out.mkdir(parents=True, exist_ok=True)
    junit = out / "junit.xml"
    junit.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", "tests", "-q", "-n", str(args.jobs), "-m", prof["markers"],
           "--seeds", str(seeds), "--base-seed", str(base), f"--junitxml={junit}", "-p", "no:cacheprovider"]
    if args.k:
        cmd += ["-k", args.k]
    print(f"regress: profile {args.profile} ({prof['about']}), base seed {base}")
    print("  " + " ".join(cmd), flush=True)
    t0 = time.time()
    env = dict(os.environ)
    if prof.get("random_timing"):
        env["MICROREC_RANDOM_TIMING"] = "1"
        os.environ["MICROREC_RANDOM_TIMING"] = "1"   # so the printed rerun commands carry it
    proc = subprocess.run(cmd, cwd=ROOT, env=env)
    wall = time.time() - t0
    if not junit.exists():
        print(f"regress: pytest wrote no JUnit file (exit {proc.returncode})")
        return 1
    rows = parse_junit(junit)
    text, nfail = summarize(rows, args.profile, base, seeds, wall)
    (out / "summary.md").write_text(text + "\n")
    print()
    print(text)
    print(f"\nJUnit: {junit}\nsummary: {out / 'summary.md'}")
    print_testplan_status(junit, out)
    if not rows:
        print("regress: zero tests ran; that is a failure")
        return 1
    return 1 if (nfail or proc.returncode not in (0,)) else 0


if __name__ == "__main__":
    sys.exit(main())
