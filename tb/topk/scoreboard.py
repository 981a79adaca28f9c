"""Top-k scoreboard (every answer beat against models.topk.unit_answer) and coverage."""
from __future__ import annotations

from pyuvm import (
    ConfigDB,
    uvm_subscriber,
)

from models.topk import SCORE_MAX, SCORE_MIN, TopkErr
from tb.common.fcov import Covergroup
from tb.common.inorder_scoreboard import InOrderScoreboard



# --------------------------------------------------------------------------
# scoreboard and coverage
# --------------------------------------------------------------------------
class TopkScoreboard(InOrderScoreboard):
    """Pairs answers with requests in order; every beat must equal models.topk.unit_answer."""

    noun = "request"
    model = "models.topk"
    records_key = "latencies"

    @property
    def latencies(self) -> list[dict]:
        return self.records

    def label(self, item) -> str:
        return f"request #{self.checked} {item}"

    def compare(self, item, got):
        build = ConfigDB().get(None, "", "topk_build")
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
        record = {"request": item.get_name(), "k": item.k, "n": item.n,
                  "beats_in": len(item.beats), "err": int(exp.err),
                  "cycles": got["t_last"] - item.t_first + 1,
                  "in_to_out": got["t_first"] - item.t_last_in,
                  "stalled": got["stalled"], "idles": item.idles}
        return diffs, (item, exp, got), record


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
