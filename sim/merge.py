"""`make merge DIR=<dir>`: join the shards of a regression into the report of one run.

``make regress SHARD=i/N`` (sim/regress.py) leaves one results directory per
shard, each with a ``regress.json`` manifest; they may come from different
machines (a GitHub matrix, a Slurm array) and sit anywhere below DIR. This
finds them, checks they are the N slices of one regression (same profile,
markers, -k, seeds, base seed and coverage; every shard once; slices
disjoint, their union the whole selection), and writes DIR/merged/:

  junit.xml        every shard's test cases in one suite, sorted by node id
  tests/<node>/    every simulation's cocotb results and functional coverage
  coverage/        the per-test Verilator .dat files, their sum (coverage.dat),
                   lcov, summary.json: the same report as an unsharded run's
  regress.json, summary.md, testplan_status.*

then prints the summary table, the testplan status and (with coverage) the
coverage report that an unsharded regression prints. Exit 1 when a test
failed, a shard is missing or the shards disagree.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from .regress import MANIFEST, PROFILES, clear_results, parse_junit, report_results
from .shard import shard_slice
from .toolchain import ROOT

# what must be equal for shards to belong to one regression
RUN_KEYS = ("profile", "markers", "k", "seeds", "base_seed", "coverage", "total")


class MergeError(Exception):
    pass


def find_shards(root: Path, exclude: Path | None = None) -> list[tuple[Path, dict]]:
    """Every shard results directory below ``root``: (dir, manifest)."""
    found = []
    for path in sorted(root.rglob(MANIFEST)):
        if exclude is not None and path.resolve().is_relative_to(exclude.resolve()):
            continue
        try:
            man = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise MergeError(f"unreadable manifest {path}: {exc}") from None
        if man.get("shard"):
            found.append((path.parent, man))
    return found


def run_key(man: dict) -> tuple:
    return tuple(json.dumps(man.get(k)) for k in RUN_KEYS) + (man["shard"][1],)


def pick_regression(shards: list[tuple[Path, dict]]) -> tuple[list[tuple[Path, dict]], list[str]]:
    """The shards of one regression; with several below DIR, the newest (the others named in a warning)."""
    groups: dict[tuple, list] = {}
    for d, man in shards:
        groups.setdefault(run_key(man), []).append((d, man))
    if len(groups) == 1:
        return next(iter(groups.values())), []
    newest = max(groups.values(), key=lambda g: max((d / MANIFEST).stat().st_mtime for d, _ in g))
    ignored = [str(d) for g in groups.values() if g is not newest for d, _ in g]
    return newest, [f"DIR holds shards of {len(groups)} different regressions; merging the newest, "
                    f"ignoring {len(ignored)} shard dirs: {', '.join(ignored)}"]


def check_shards(shards: list[tuple[Path, dict]]) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a set of shards of one regression."""
    errors, warnings = [], []
    n = shards[0][1]["shard"][1]
    seen: dict[int, Path] = {}
    for d, man in shards:
        i = man["shard"][0]
        if i in seen:
            errors.append(f"shard {i}/{n} twice: {seen[i]} and {d}")
        seen[i] = d
    missing = [i for i in range(1, n + 1) if i not in seen]
    if missing:
        errors.append(f"missing shards: {', '.join(f'{i}/{n}' for i in missing)} (have {len(seen)} of {n})")
    owner: dict[str, int] = {}
    for _, man in shards:
        for nodeid in man["selected"]:
            if nodeid in owner and owner[nodeid] != man["shard"][0]:
                errors.append(f"{nodeid} is in shards {owner[nodeid]} and {man['shard'][0]}")
            owner[nodeid] = man["shard"][0]
    if not missing:
        union = sorted(owner)
        total = shards[0][1]["total"]
        if len(union) != total:
            errors.append(f"the shards hold {len(union)} runs, the regression selected {total}")
        for _, man in shards:
            if sorted(man["selected"]) != shard_slice(union, *man["shard"]):
                errors.append(f"shard {man['shard'][0]}/{n} is not the slice sim/shard.py gives "
                              "(different code or selection?)")
    commits = {man.get("commit") for _, man in shards}
    if len(commits) > 1:
        warnings.append(f"the shards ran {len(commits)} different commits: {', '.join(sorted(map(str, commits)))}")
    return errors, warnings


def _stamp(stamp: str | None) -> float:
    try:
        return _dt.datetime.fromisoformat(stamp).timestamp() if stamp else float("inf")
    except ValueError:
        return float("inf")


def merge_junit(paths: list[Path], dest: Path, shard_notes: list[str]) -> int:
    """One <testsuite> with every test case of ``paths``, sorted; returns the number of cases."""
    cases, suites = [], []
    for p in paths:
        root = ET.parse(p).getroot()
        for suite in root.iter("testsuite"):
            suites.append(suite)
            cases += list(suite.iter("testcase"))
    cases.sort(key=lambda c: (c.get("classname", ""), c.get("name", "")))
    first = min(suites, key=lambda s: _stamp(s.get("timestamp")), default=None)

    def count(tag: str) -> int:
        return sum(c.find(tag) is not None for c in cases)

    suite = ET.Element("testsuite", {
        "name": "pytest", "errors": str(count("error")), "failures": str(count("failure")),
        "skipped": str(count("skipped")), "tests": str(len(cases)),
        "time": f"{max((float(s.get('time', 0)) for s in suites), default=0.0):.3f}",
        "timestamp": first.get("timestamp", "") if first is not None else "",
        "hostname": ",".join(sorted({s.get("hostname", "") for s in suites})),
    })
    props = ET.SubElement(suite, "properties")
    for note in shard_notes:
        ET.SubElement(props, "property", {"name": "merged_shard", "value": note})
    suite.extend(cases)
    top = ET.Element("testsuites")
    top.append(suite)
    ET.indent(top)
    dest.write_bytes(ET.tostring(top, encoding="utf-8", xml_declaration=True))
    return len(cases)


def copy_tree_once(src: Path, dst: Path, owner: dict[str, Path]) -> None:
    """Copy each entry of ``src`` into ``dst``; an entry two shards both wrote is an error."""
    if not src.is_dir():
        return
    dst.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        if entry.name in owner:
            raise MergeError(f"{entry.name} comes from two shards: {owner[entry.name]} and {src}")
        owner[entry.name] = src
        if entry.is_dir():
            shutil.copytree(entry, dst / entry.name)
        else:
            shutil.copy2(entry, dst / entry.name)


def copy_coverage(src: Path, dst: Path, owner: dict[str, Path], shard_root: str | None) -> None:
    """Copy a shard's Verilator .dat files; a shard that ran in another checkout
    (another machine's path) names its sources under that path: rebase them onto
    this checkout, which is where the report looks for rtl/."""
    if not src.is_dir():
        return
    dst.mkdir(parents=True, exist_ok=True)
    old = f"\x01f\x02{shard_root}/" if shard_root and shard_root != str(ROOT) else None
    for dat in sorted(src.glob("*.dat")):
        if dat.name in owner:
            raise MergeError(f"{dat.name} comes from two shards: {owner[dat.name]} and {src}")
        owner[dat.name] = src
        if old is None:
            shutil.copy2(dat, dst / dat.name)
        else:
            text = dat.read_text(errors="surrogateescape")
            (dst / dat.name).write_text(text.replace(old, f"\x01f\x02{ROOT}/"), errors="surrogateescape")


def merge(root: Path, out: Path) -> int:
    shards = find_shards(root, exclude=out)
    if not shards:
        print(f"merge: no shard results below {root} (each has a {MANIFEST} from `make regress SHARD=i/N`)",
              file=sys.stderr)
        return 1
    shards, warnings = pick_regression(shards)
    shards.sort(key=lambda s: s[1]["shard"][0])
    errors, more = check_shards(shards)
    warnings += more
    for w in warnings:
        print(f"merge: warning: {w}")
    for e in errors:
        print(f"merge: ERROR: {e}")

    n = shards[0][1]["shard"][1]
    out.mkdir(parents=True, exist_ok=True)
    clear_results(out)
    junits = [d / "junit.xml" for d, _ in shards if (d / "junit.xml").exists()]
    for d, man in shards:
        if not (d / "junit.xml").exists():
            errors.append(f"shard {man['shard'][0]}/{n} has no junit.xml ({d})")
    test_owner: dict[str, Path] = {}
    cov_owner: dict[str, Path] = {}
    try:
        for d, man in shards:
            copy_tree_once(d / "tests", out / "tests", test_owner)
            copy_coverage(d / "coverage" / "raw", out / "coverage" / "raw", cov_owner, man.get("root"))
    except MergeError as exc:
        print(f"merge: ERROR: {exc}")
        return 1
    # The testplan counts a simulation's results only when written inside the JUnit run's
    # time window (it guards against stale results in a shared build/tests). Everything here
    # belongs to the merged run by construction, and downloads do not keep file times:
    # stamp the results now, then write the JUnit (whose time ends the window).
    now = time.time()
    for xml in (out / "tests").glob("*/results.xml"):
        os.utime(xml, (now, now))
    notes = [f"{man['shard'][0]}/{n} {man.get('host', '')} {man.get('commit', '')[:12]} {man.get('wall_s', 0)} s"
             for _, man in shards]
    merge_junit(junits, out / "junit.xml", notes)

    first = shards[0][1]
    walls = [man.get("wall_s", 0.0) for _, man in shards]
    if PROFILES.get(first["profile"], {}).get("random_timing"):
        os.environ["MICROREC_RANDOM_TIMING"] = "1"   # so the printed rerun commands carry it
    manifest = {k: first[k] for k in RUN_KEYS}
    manifest.update({
        "shard": None, "merged_from": [str(d) for d, _ in shards], "shards": n,
        "selected": sorted(x for _, man in shards for x in man["selected"]),
        "wall_s": max(walls), "commit": first.get("commit", ""),
        "scope": f", merged from {len(shards)} of {n} shards (longest {max(walls):.0f} s, "
                 f"all shards {sum(walls):.0f} s)",
    })
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"merge: {len(shards)} shards of {n} from {root}: {len(junits)} JUnit files, "
          f"{len(test_owner)} simulation results, {len(cov_owner)} coverage files -> {out}")
    rows = parse_junit(out / "junit.xml")
    nfail = report_results(out, manifest, rows, coverage_report=True)
    ran = {r["nodeid"] for r in rows}
    lost = sorted(set(manifest["selected"]) - ran)
    if lost:
        errors.append(f"{len(lost)} selected runs have no result, e.g. {lost[0]}")
    if errors:
        print(f"\nmerge: INCOMPLETE or inconsistent ({len(errors)} problems above or here):")
        for e in errors:
            print(f"  {e}")
        return 1
    return 1 if nfail else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="directory holding the shard results (searched recursively)")
    ap.add_argument("--out", type=Path, default=None, help="merged results (default DIR/merged)")
    args = ap.parse_args(argv)
    if not args.dir.is_dir():
        print(f"merge: DIR={args.dir}: no such directory", file=sys.stderr)
        return 2
    root = args.dir.resolve()
    try:
        return merge(root, (args.out or root / "merged").resolve())
    except MergeError as exc:
        print(f"merge: ERROR: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
