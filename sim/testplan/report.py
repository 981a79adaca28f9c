"""Each feature's status (PASS / FAIL / NOT RUN) from a ResultSet, its text
and JSON reports, and functional coverage per feature."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..toolchain import BUILD_ROOT, ROOT
from .plan import (COCOTB_ROOT, FAIL, NO_TESTS, NOT_RUN, PASS, STATUS_JSON, STATUS_MD, TESTS_DIR, Feature,
                   Pattern, cocotb_test_names, glob_match, load_testplan, param_tokens)
from .results import ResultSet, _rel, collect_results, expects_failure

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

