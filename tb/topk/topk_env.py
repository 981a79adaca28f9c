"""pyuvm environment for rtl/topk/topk_unit.sv.

One transaction (``TopkRequest``) is a whole request: K and its beats
(score, id, keep), the last one marked last. The driver streams the beats
(optional idle cycles), the monitor collects each answer (optional output
stalls), and the scoreboard compares every answer beat with
``models.topk.unit_answer``, the contract's top-k, written independently of
the RTL. The unit's build (K_MAX, N_MAX) comes from its constant ports."""
from __future__ import annotations


from pyuvm import (
    ConfigDB,
    uvm_env,
    uvm_sequencer,
)

from tb.common.watchdog import Watchdog

from tb.topk.agent import TopkAnswerMonitor, TopkDriver
from tb.topk.scoreboard import TopkCoverage, TopkScoreboard


# --------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------
class TopkEnv(uvm_env):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        ConfigDB().set(None, "*", "SEQR", self.seqr)
        self.driver = TopkDriver.create("driver", self)
        self.monitor = TopkAnswerMonitor.create("monitor", self)
        self.scoreboard = TopkScoreboard.create("scoreboard", self)
        self.coverage = TopkCoverage.create("coverage", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.ap.connect(self.scoreboard.sent_export)
        self.monitor.ap.connect(self.scoreboard.answer_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)

    def watchdog(self, clk, limit: int) -> Watchdog:
        wd = Watchdog(clk, limit, self.scoreboard.outstanding, "topk watchdog").start()
        self.scoreboard.progress = wd
        return wd
