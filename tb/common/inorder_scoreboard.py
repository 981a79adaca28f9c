"""The in-order scoreboard every single-stream bench shares (mac_pe, interaction, top-k).

A DUT that answers its requests in order needs no matching by id: each answer
belongs to the oldest request sent and not yet answered. The subclass only
says how one answer is compared (``compare``); pairing, the MISMATCH report,
the end-of-test checks (nothing left unanswered, something checked) and
``scoreboard.json`` live here once.
"""
from __future__ import annotations

import json

from pyuvm import uvm_analysis_port, uvm_component, uvm_tlm_analysis_fifo

from tb.common.spec import run_dir


class InOrderScoreboard(uvm_component):
    """Pairs answers with requests in order; any difference fails the test.

    Subclasses set ``noun`` (what a request is, singular), ``model`` (what the answers
    are checked against, for the log) and implement ``compare``; ``records`` (one dict
    per answer, e.g. its timing) go to ``scoreboard.json`` under ``records_key``."""

    noun = "request"
    model = "the golden model"
    records_key = "records"

    def build_phase(self):
        self.sent_fifo = uvm_tlm_analysis_fifo("sent_fifo", self)
        self.answer_fifo = uvm_tlm_analysis_fifo("answer_fifo", self)
        self.sent_export = self.sent_fifo.analysis_export
        self.answer_export = self.answer_fifo.analysis_export
        self.checked_ap = uvm_analysis_port("checked_ap", self)
        self.checked = 0
        self.mismatches: list[str] = []
        self.records: list[dict] = []
        self.progress = None   # a Watchdog, kicked per answer

    def compare(self, item, got) -> tuple[list[str], object, dict | None]:
        """(differences, what to publish on checked_ap, a record or None) for one answer."""
        raise NotImplementedError

    def label(self, item) -> str:
        """How a MISMATCH line names the request."""
        return f"{self.noun} #{self.checked} {item}"

    def outstanding(self) -> str:
        return f"{self.sent_fifo.used()} {self.noun}s sent and not answered, {self.checked} checked"

    async def run_phase(self):
        while True:
            got = await self.answer_fifo.get()
            if self.progress:
                self.progress.kick()
            ok, item = self.sent_fifo.try_get()
            if not ok:
                self.mismatches.append(f"MISMATCH answer #{self.checked} with no {self.noun} sent: {got}")
                continue
            diffs, payload, record = self.compare(item, got)
            if diffs:
                msg = f"MISMATCH {self.label(item)}: " + "; ".join(diffs)
                self.logger.error(msg)
                self.mismatches.append(msg)
            if record is not None:
                self.records.append(record)
            self.checked += 1
            self.checked_ap.write(payload)

    def check_phase(self):
        assert not self.mismatches, f"{len(self.mismatches)} mismatches, first: {self.mismatches[0]}"
        leftover = self.sent_fifo.used()
        assert leftover == 0, f"{leftover} {self.noun}s sent but never answered"
        assert self.checked > 0, "scoreboard checked nothing"
        self.logger.info(f"scoreboard: {self.checked} answers matched {self.model}")

    def report_extra(self) -> dict:
        return {}

    def report_phase(self):
        out = {"checked": self.checked, "mismatches": len(self.mismatches),
               "first_mismatch": self.mismatches[0] if self.mismatches else None}
        if self.records:
            out[self.records_key] = self.records
        out.update(self.report_extra())
        with open(run_dir() / "scoreboard.json", "w") as fh:
            json.dump(out, fh, indent=1)
