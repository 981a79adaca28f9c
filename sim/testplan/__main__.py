"""CLI of `python -m sim.testplan` (see the package docstring)."""
from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ..toolchain import BUILD_ROOT, ROOT
from . import __doc__ as PACKAGE_DOC
from .plan import (COCOTB_ROOT, STATUS_JSON, STATUS_MD, TESTPLAN_MD, TestplanError, load_testplan, render_md,
                   static_check)
from .report import report
from .results import latest_junit

# --------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=PACKAGE_DOC.splitlines()[0],
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
