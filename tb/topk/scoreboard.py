"""Top-k scoreboard (every answer beat against models.topk.unit_answer) and coverage."""
from __future__ import annotations

import json

from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_subscriber,
    uvm_tlm_analysis_fifo,
)

from models.topk import SCORE_MAX, SCORE_MIN, TopkErr
from tb.common.spec import run_dir
from tb.common.fcov import Covergroup



# --------------------------------------------------------------------------
# scoreboard and coverage
# --------------------------------------------------------------------------
class TopkScoreboard(uvm_component):
    """Pairs answers with requests in order; every beat must equal models.topk.unit_answer."""

    def build_phase(self):
        self.sent_fifo = uvm_tlm_analysis_fifo("sent_fifo", self)
        self.answer_fifo = uvm_tlm_analysis_fifo("answer_fifo", self)
        self.sent_export = self.sent_fifo.analysis_export
        self.answer_export = self.answer_fifo.analysis_export
        self.checked_ap = uvm_analysis_port("checked_ap", self)
        self.checked = 0
        self.mismatches: list[str] = []
        self.latencies: list[dict] = []
        self.progress = None   # a Watchdog, kicked per answer

    def outstanding(self) -> str:
        return f"{self.sent_fifo.used()} requests sent and not answered, {self.checked} checked"

    async def run_phase(self):
        build = ConfigDB().get(None, "", "topk_build")
        while True:
            got = await self.answer_fifo.get()
            if self.progress:
                self.progress.kick()
            ok, item = self.sent_fifo.try_get()
            if not ok:
                self.mismatches.append(f"MISMATCH answer #{self.checked} with no request sent: "
                                       f"{got['beats'][:4]}")
                continue
            exp = item.expected(build)
            want = exp.beats()
            diffs = []
            if len(want) != len(got["beats"]):
                diffs.append(f"{len(want)} beats expected, got {len(got['beats'])}")
            for j, (w, g) in enumerate(zip(want, got["beats"])):
                if w != g:
                    diffs.append(f"beat {j}: expected (score, id, err, last) {w} got {g}")
                    if len(diffs) >= 4:
                        break
            if diffs:
                msg = f"MISMATCH request #{self.checked} {item}: " + "; ".join(diffs)
                self.logger.error(msg)
                self.mismatches.append(msg)
            self.latencies.append({"request": item.get_name(), "k": item.k, "n": item.n,
                                   "beats_in": len(item.beats), "err": int(exp.err),
                                   "cycles": got["t_last"] - item.t_first + 1,
                                   "in_to_out": got["t_first"] - item.t_last_in,
                                   "stalled": got["stalled"], "idles": item.idles})
            self.checked += 1
            self.checked_ap.write((item, exp, got))

    def check_phase(self):
        assert not self.mismatches, f"{len(self.mismatches)} mismatches, first: {self.mismatches[0]}"
        leftover = self.sent_fifo.used()
        assert leftover == 0, f"{leftover} requests sent but never answered"
        assert self.checked > 0, "scoreboard checked nothing"
        self.logger.info(f"scoreboard: {self.checked} answers matched models.topk")

    def report_phase(self):
        with open(run_dir() / "scoreboard.json", "w") as fh:
            json.dump({"checked": self.checked, "mismatches": len(self.mismatches),
                       "first_mismatch": self.mismatches[0] if self.mismatches else None,
                       "latencies": self.latencies}, fh, indent=1)


class TopkCoverage(uvm_subscriber):
    """What the stimulus reached, in bins declared up front."""

    def build_phase(self):
        self.cg = Covergroup("topk")
        self.cg.point("k", ["1", "2..k_max-1", "k_max"], "K of legal requests")
        self.cg.point("n", ["1", "2..k_max", "above_k_max", "n_max"], "N of legal requests")
        self.cg.point("k_vs_n", ["k_lt_n", "k_eq_n"], "K against N, legal requests")
        self.cg.point("err", [e.name.lower() for e in TopkErr], "answer kinds")
        self.cg.point("pattern", ["random", "all_equal", "ascending", "descending", "ties_in_answer"],
                      "score patterns")
        self.cg.point("extremes", ["int32_min", "int32_max"], "extreme scores among the candidates")
        self.cg.point("null_beats", ["none", "some"], "null beats (s_keep = 0) in a request")
        self.cg.point("input", ["back_to_back", "with_idles"], "input beat spacing")
        self.cg.point("output", ["no_stall", "stalled"], "output backpressure on the answer")
        self.cg.point("k_later_beats", ["same", "changed"], "s_k after a request's first beat (ignored)")

    def write(self, tup):
        item, exp, got = tup
        build = ConfigDB().get(None, "", "topk_build")
        self.cg.sample("err", exp.err.name.lower())
        if exp.err == TopkErr.NONE:
            k, n = item.k, item.n
            self.cg.sample("k", "1" if k == 1 else "k_max" if k == build.k_max else "2..k_max-1")
            self.cg.sample("n", "n_max" if n == build.n_max else "1" if n == 1
                           else "2..k_max" if n <= build.k_max else "above_k_max")
            self.cg.sample("k_vs_n", "k_eq_n" if k == n else "k_lt_n")
            if len(set(exp.scores)) < len(exp.scores):
                self.cg.sample("pattern", "ties_in_answer")
        if item.kind in ("random", "all_equal", "ascending", "descending"):
            self.cg.sample("pattern", item.kind)
        scores = {s for s, _ in item.candidates}
        if SCORE_MIN in scores:
            self.cg.sample("extremes", "int32_min")
        if SCORE_MAX in scores:
            self.cg.sample("extremes", "int32_max")
        self.cg.sample("null_beats", "some" if item.n < len(item.beats) else "none")
        self.cg.sample("input", "with_idles" if item.idles else "back_to_back")
        self.cg.sample("output", "stalled" if got["stalled"] else "no_stall")
        changed = item.beat_k is not None and any(k != item.k for k in item.beat_k)
        self.cg.sample("k_later_beats", "changed" if changed else "same")

    def report_phase(self):
        self.cg.report(self.logger)
