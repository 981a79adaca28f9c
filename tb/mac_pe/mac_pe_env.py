"""pyuvm environment of rtl/mlp/mac_pe.sv: seq_lib -> agent -> scoreboard/coverage."""
from __future__ import annotations

from pyuvm import (
    ConfigDB,
    uvm_env,
    uvm_sequencer,
)

from tb.mac_pe.agent import MacDriver, MacResultMonitor
from tb.mac_pe.scoreboard import MacCoverage, MacScoreboard


# --------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------
class MacEnv(uvm_env):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        ConfigDB().set(None, "*", "SEQR", self.seqr)
        self.driver = MacDriver.create("driver", self)
        self.monitor = MacResultMonitor.create("monitor", self)
        self.scoreboard = MacScoreboard.create("scoreboard", self)
        self.coverage = MacCoverage.create("coverage", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.ap.connect(self.scoreboard.sent_export)
        self.monitor.ap.connect(self.scoreboard.answer_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)
