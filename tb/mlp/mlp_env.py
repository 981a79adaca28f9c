"""pyuvm environment of rtl/mlp/mlp_engine.sv: the pieces wired together.

seq_lib (items, sequences) -> agent (loader, driver, monitor) ->
scoreboard (golden model, counters) -> coverage."""
from __future__ import annotations

from pyuvm import (
    ConfigDB,
    uvm_env,
    uvm_sequencer,
)

from tb.mlp.agent import MlpDriver, MlpLogitMonitor, MlpVecMonitor, MlpWeightLoader
from tb.mlp.coverage import MlpCoverage
from tb.mlp.scoreboard import MlpScoreboard


# --------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------
class MlpEnv(uvm_env):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        ConfigDB().set(None, "*", "SEQR", self.seqr)
        self.loader = MlpWeightLoader.create("loader", self)
        self.driver = MlpDriver.create("driver", self)
        vec = ConfigDB().get(self, "", "build").VEC_OUT
        self.monitor = (MlpVecMonitor if vec else MlpLogitMonitor).create("monitor", self)
        self.scoreboard = MlpScoreboard.create("scoreboard", self)
        self.coverage = MlpCoverage.create("coverage", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.loader = self.loader
        self.driver.sent_ap.connect(self.scoreboard.sent_export)
        self.driver.phase_ap.connect(self.scoreboard.phase_export)
        self.monitor.ap.connect(self.scoreboard.result_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)
