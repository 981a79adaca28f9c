"""In-order scoreboard of a query stream, shared by the lookup and top benches.

Both DUTs answer every accepted query exactly once, in acceptance order, with
a record that carries the query id and an error record. What differs is only
the payload and its expectation (features vs a logit), so a bench subclasses
:class:`QueryScoreboard` and writes :meth:`compare`: given the oldest query
sent and the record that came out, return the problems found (empty: a match).
The base class owns the pairing, the bookkeeping (checked, errors, latency,
first/last cycle), the end-of-test checks and the ``scoreboard.json`` report
that the benchmarks read.
"""
from __future__ import annotations

import json

from pyuvm import uvm_analysis_port, uvm_component, uvm_tlm_analysis_fifo

from tb.agents.query_agent import SentQueryTap
from tb.common.spec import run_dir


class QueryScoreboard(uvm_component):
    """Pairs each output record with the oldest query not yet answered."""

    WHAT = "results"          # what a match is, for the end-of-test log line

    def build_phase(self):
        self.sent_tap = SentQueryTap("sent_tap", self)
        self.sent_fifo = uvm_tlm_analysis_fifo("sent_fifo", self)
        self.got_fifo = uvm_tlm_analysis_fifo("got_fifo", self)
        self.sent_export = self.sent_fifo.analysis_export
        self.got_export = self.got_fifo.analysis_export
        self.checked_ap = uvm_analysis_port("checked_ap", self)
        self.checked = 0
        self.dropped = 0          # in flight at a soft reset: the contract drops them
        self.errors_seen = 0
        self.mismatches: list[str] = []
        self.latencies: list[int] = []
        self.first_sent, self.last_out = 1 << 64, 0
        self.unanswered = 0       # queries a bulk check (lookup batched mode) found no record for

    # -- what a subclass provides ------------------------------------------------
    def compare(self, item, got) -> tuple[list[str], tuple]:
        """(problems, what checked_ap publishes) for one query and its record."""
        raise NotImplementedError

    def expect_traffic(self) -> bool:
        return True

    # -- the pairing -------------------------------------------------------------
    def mismatch(self, msg: str) -> None:
        self.logger.error(msg)
        self.mismatches.append(msg)

    async def run_phase(self):
        while True:
            got = await self.got_fifo.get()
            ok, item = self.sent_fifo.try_get()
            if not ok:
                self.mismatch(f"MISMATCH record for query id {got['qid']} that was never sent "
                              f"(duplicated or invented)")
                continue
            self.check_pair(item, got)

    def check_pair(self, item, got) -> None:
        """One query and its record: compared, counted, timed, published to coverage."""
        problems, published = self.compare(item, got)
        if problems:
            self.mismatch(f"MISMATCH query #{self.checked} id {item.qid}: " + "; ".join(problems))
        self.checked += 1
        self.errors_seen += int(got["err"] != 0)
        self.latencies.append(got["cycle"] - item.t_sent)
        self.first_sent = min(self.first_sent, item.t_sent)
        self.last_out = max(self.last_out, got["cycle"])
        self.checked_ap.write(published)

    def flush_in_flight(self) -> int:
        """A soft reset drops the queries in flight: forget them. A record for one
        of them afterwards would then mismatch the next query's id."""
        n = 0
        while True:
            ok, _ = self.sent_fifo.try_get()
            if not ok:
                break
            n += 1
        self.dropped += n
        return n

    def check_phase(self):
        left = self.sent_fifo.used() + self.unanswered
        assert not self.mismatches, f"{len(self.mismatches)} mismatches; first: {self.mismatches[0]}"
        assert left == 0, f"{left} queries sent but never answered"
        if self.expect_traffic():
            assert self.checked > 0, "scoreboard checked nothing"
        self.logger.info(f"scoreboard: {self.checked} {self.WHAT} matched bit for bit "
                         f"({self.errors_seen} error records as expected)")

    def report_phase(self):
        lat = sorted(self.latencies) or [0]
        pick = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))]  # noqa: E731
        with open(run_dir() / "scoreboard.json", "w") as fh:
            json.dump({"checked": self.checked, "mismatches": len(self.mismatches),
                       "first_mismatch": self.mismatches[0] if self.mismatches else None,
                       "errors": self.errors_seen, "latency_min": lat[0], "latency_median": pick(0.5),
                       "latency_p99": pick(0.99), "latency_max": lat[-1],
                       "first_sent": self.first_sent if self.checked else 0, "last_out": self.last_out}, fh)
