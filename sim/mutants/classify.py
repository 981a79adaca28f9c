"""What a mutant's test run proves: killed only by a failing check.

The input is the ``failure.json`` record sim/runner.py leaves beside a
failing run's sim.log (or ``None`` when pytest failed without one). A kill
needs evidence that a check saw the change:

- an RTL assertion fired (Verilator prints ``%Error: <file>.sv:<n>: Assertion
  failed in <instance>: <message>``);
- a bench check raised: an ``assert`` in this repository's code (scoreboard
  MISMATCH, "sent but never answered", a watchdog's "no progress", a status
  or error-code comparison), the HBM model's protocol checker, or a CSR /
  host-driver error on a legal access.

Anything else is not a kill: a build that Verilator or the compiler rejects
(an error line in build.log) is ``invalid`` (the mutant never ran; a build
killed without an error is ``crashed``), a cocotb/pyuvm time limit or the wall-clock limit of ``make mutate`` is
``timeout``, and any other failure (a Python error in the bench unrelated to
a check, the simulator dying without an assertion message, zero tests run)
is ``crashed``.
"""
from __future__ import annotations

import re

KILLED = "killed"
SURVIVED = "survived"
EQUIVALENT = "equivalent"
INVALID = "invalid"
TIMEOUT = "timeout"
CRASHED = "crashed"
PASSED = "passed"        # one test node: ran and passed

SVA_RE = re.compile(r"%Error: (\S+\.sv):(\d+): Assertion failed in (\S+?): ?(.*)$")
# exceptions a bench raises when it catches the DUT doing something wrong
CHECK_TYPES = frozenset({"AssertionError", "HbmProtocolError", "CsrBusError", "HostError"})
TIMEOUT_TYPES = frozenset({"SimTimeoutError"})


def _first_line(text: str, limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:limit]


def is_interrupted_build(record: dict | None) -> bool:
    """A build that died without any error line: worth one retry, says nothing of the mutant."""
    return bool(record) and record.get("phase") == "build" and not record.get("build_errors")


def classify_failure(record: dict | None) -> tuple[str, str]:
    """(status, evidence) of one failing test node; status is KILLED, INVALID,
    TIMEOUT or CRASHED."""
    if record is None:
        return CRASHED, "pytest failed without a failure record (the failure is outside sim.runner)"
    if record.get("phase") == "build":
        errs = record.get("build_errors") or []
        if errs:
            return INVALID, "build failed: " + _first_line(errs[0])
        # nothing rejected the design: the build itself died (a signal, the machine)
        return CRASHED, (f"build interrupted (return code {record.get('build_returncode')}) "
                         "with no Verilator or compiler error")
    for line in record.get("log_errors", []):
        m = SVA_RE.search(line)
        if m:
            return KILLED, f"assertion {m.group(3).rsplit('.', 1)[-1]}: {m.group(4).strip()}"
    failures = record.get("failures", [])
    for f in failures:
        if f.get("type") in CHECK_TYPES and f.get("in_repo"):
            return KILLED, f"{f.get('test')}: {f['type']}: {_first_line(f.get('message', ''))} ({f.get('where')})"
    for f in failures:
        if f.get("type") in TIMEOUT_TYPES:
            return TIMEOUT, f"{f.get('test')}: {f['type']}: {_first_line(f.get('message', ''))}"
    if failures:
        f = failures[0]
        return CRASHED, (f"{f.get('test')}: {f.get('type')}: {_first_line(f.get('message', ''))}"
                         + (f" ({f['where']})" if f.get("where") else ""))
    errs = record.get("log_errors") or []
    return CRASHED, _first_line(record.get("reason", "")) + (f"; sim: {_first_line(errs[0])}" if errs else "")


# a mutant's verdict from its nodes: a kill or a failed build ends the run, the
# rest are reported in this order of weight when no check fired
_PRECEDENCE = (INVALID, KILLED, TIMEOUT, CRASHED)


def mutant_verdict(node_statuses: list[str]) -> str:
    """The mutant's status from its test nodes' statuses (PASSED for a pass)."""
    for status in _PRECEDENCE:
        if status in node_statuses:
            return status
    return SURVIVED
