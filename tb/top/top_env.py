"""pyuvm environment of the whole accelerator (tb/hdl/microrec_tb_top.sv).

Queries go in through the shared query agent (tb/agents/: the same
transaction and stimulus classes as the lookup bench); results come out through
ResultMonitor; the scoreboard compares every logit with golden_infer() bit
for bit, and every error record with the one the query must produce.
"""
from __future__ import annotations

import cocotb
import numpy as np
from pyuvm import uvm_analysis_port, uvm_component, uvm_env, uvm_subscriber

from models.golden import golden_infer
from models.quant import golden_infer_q
from tb.agents.query_agent import QueryAgent, QueryDriver
from tb.agents.query_scoreboard import QueryScoreboard
from tb.common.config_db import knob
from tb.common.fcov import Covergroup
from tb.common.seeding import py_random
from tb.common.stream_sink import StreamSink
from tb.common.sv_source import lookup_err_names
from tb.csr.csr_agent import CsrAgent

ERR_NAMES = lookup_err_names()     # lookup_pkg::err_code_e

ERR_CODES = {v: k for k, v in ERR_NAMES.items()}


DENSE_EXTREMES = (-32768, -32767, 32767, -16384, 16384)


def draw_dense(rnd, cfg) -> np.ndarray:
    """A query's dense features: int16 around +-4 in F fractional bits, one in five an
    extreme value (so bottom-MLP layers saturate and its last ReLU zeroes outputs)."""
    scale = 4 << cfg.frac_bits
    return np.array([rnd.choice(DENSE_EXTREMES) if rnd.random() < 0.2 else
                     max(-32768, min(32767, int(rnd.gauss(0, scale)))) for _ in range(cfg.dense)],
                    dtype=np.int64)


def pack_dense(dense) -> int:
    """Dense feature k in bits [16k +: 16] of s_query_dense (two's complement)."""
    word = 0
    for k, v in enumerate(dense):
        word |= (int(v) & 0xFFFF) << (16 * k)
    return word


class DlrmQueryDriver(QueryDriver):
    """QueryDriver that also drives s_query_dense, captured with the query (contracts
    s.7.2): each item gets ``dense`` (drawn here, seeded) for the scoreboard."""

    def build_phase(self):
        super().build_phase()
        self.dense_rnd = py_random(23)

    def drive_payload(self, item) -> None:
        cfg = knob("model_cfg", None)
        item.dense = draw_dense(self.dense_rnd, cfg) if cfg is not None and cfg.dense else None
        self.dut.s_query_dense.value = pack_dense(item.dense if item.dense is not None else [])


class ResultMonitor(uvm_component):
    """Drives m_result_ready (knob out_stall_prob); publishes each result record;
    event-driven (tb/common/stream_sink.py): no Python while m_result_valid is low."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.stall_prob = knob("out_stall_prob", 0.0)
        self.rnd = py_random(31)
        self.count = 0
        self.cycles = []      # cycle each result was taken (throughput figures)
        self.hold_from = None  # a count: m_result_ready held low once that many results were taken
        self.sink = None

    @property
    def stall_prob(self) -> float:
        return self._stall_prob

    @stall_prob.setter
    def stall_prob(self, p: float) -> None:
        """Takes effect at once, also while the sink runs."""
        self._stall_prob = p
        if getattr(self, "sink", None) is not None:
            self.sink.stall_prob = p

    def holding(self) -> bool:
        return self.hold_from is not None and self.count >= self.hold_from

    async def run_phase(self):
        dut = self.dut
        self.sink = StreamSink(dut.clk, dut.m_result_valid, dut.m_result_ready, dut.rst_n, self.stall_prob,
                               self.rnd, hold=self.holding)
        await self.sink.run(self.take)

    def take(self) -> None:
        """At mid-cycle before the handshake edge; stamped with the cycle it is taken in
        (the same convention as the query driver's t_sent)."""
        dut = self.dut
        self.count += 1
        self.cycles.append(int(dut.hbm_cycle.value))
        self.ap.write({"qid": int(dut.m_result_id.value),
                       "logit": dut.m_result_logit.value.to_signed(),
                       "err": int(dut.m_result_err.value),
                       "err_table": int(dut.m_result_err_table.value),
                       "err_engine": int(dut.m_result_err_engine.value),
                       "cycle": int(dut.hbm_cycle.value)})


class TopScoreboard(QueryScoreboard):
    """Every result against the golden model (golden_infer, golden_infer_q for int8, dlrm_infer for
    DLRM models); error records against the cause injected."""

    WHAT = "results (golden model: golden_infer, golden_infer_q or dlrm_infer)"

    def expected(self, item):
        """(logit or None, acceptable error records {(code, physical table)}, failing
        lookups {physical table: code} or None when the configuration is illegal)."""
        host = knob("host", None)
        forced = knob("forced_error", None)       # e.g. "bad_config": every query answers with it
        if forced is not None:
            return None, {(ERR_CODES[forced], None)}, None
        failing = host.layout.failing_lookups(item.indices, item.bad_table, knob("fault_rows", {}))
        errs = {(code, p) for p, code in failing.items()}
        if errs:
            return 0, errs, failing
        if getattr(item, "golden_logit", None) is None:
            self.predict_pending(host)
        return item.golden_logit, set(), failing

    def predict_pending(self, host) -> None:
        """golden_infer() for every query sent and not yet predicted, in one batch (the
        per-query call costs ~30x more per item than a batch; the model is the host's current
        one, which a test only changes once every query of the previous model is answered)."""
        todo = self.sent_tap.take_unpredicted("golden_logit")
        for it in todo:
            if it.bad_table is not None:
                it.golden_logit = 0          # an index out of range: answered with an error record
        todo = [it for it in todo if it.bad_table is None]
        packets = [it for it in todo if getattr(it, "bags", None) is not None]
        if packets:                       # multi-hot queries: their bags, pooled (s.9.2)
            from models.dlrm import DlrmWeights, dlrm_infer
            from tb.agents.packet_driver import batch_of
            logits = dlrm_infer(host.cfg, batch_of(packets),
                                DlrmWeights(host.bottom_weights, host.weights)).logits
            for it, v in zip(packets, logits):
                it.golden_logit = int(v)
            todo = [it for it in todo if getattr(it, "bags", None) is None]
        if todo:
            idx = np.stack([it.indices for it in todo])
            if host.cfg.bottom_mlp:
                logits = self.dlrm_logits(host, idx, np.stack([it.dense for it in todo]))
            else:
                logits = (golden_infer_q(host.cfg, idx, host.qmodel) if host.qmodel is not None
                          else golden_infer(host.cfg, idx, host.weights))
            for it, v in zip(todo, logits):
                it.golden_logit = int(v)

    @staticmethod
    def dlrm_logits(host, idx, dense) -> np.ndarray:
        """models.dlrm.dlrm_infer with bags of one (the lookup is one-hot: each table's
        index is the query's, pooled = the row) and the queries' dense features."""
        from models.dlrm import DlrmWeights, dlrm_infer
        from models.multihot import Bags
        b, t = idx.shape
        bags = Bags(np.ones((b, t), dtype=np.int64), [idx[:, i] for i in range(t)], dense)
        return dlrm_infer(host.cfg, bags, DlrmWeights(host.bottom_weights, host.weights)).logits

    @staticmethod
    def predict_counters(host, failing, got, item=None) -> None:
        """This result's share of the CSR counters (tb/top/counters.py). An illegal
        configuration answers every query at once: found by the lookup (its commit
        failed: no reads, the records are the lookup's, the MLP still runs) or by the top
        (MLP shape, descriptor slot, lost DMA words: reads as usual, MLP bypassed)."""
        cm = knob("counter_model", None)
        if cm is None:
            return
        shapes = list(host.cfg.layer_shapes)
        q = {"precisions": host.precisions, "zero_skip": host.zero_skip}
        needs_inputs = host.zero_skip and item is not None
        if failing is None:
            by_lookup = knob("forced_origin", "top") == "lookup"
            # a lookup that refused its configuration sends all-zero features through the MLP
            ins = host.mlp_inputs(item.indices, zero_features=True) if needs_inputs and by_lookup else None
            cm.result(host.layout, shapes, {}, lookups=not by_lookup, mlp=by_lookup, lookup_error=by_lookup,
                      got=got, mlp_inputs=ins, indices=None if item is None else item.indices,
                      bags=getattr(item, "bags", None), **q)
        else:
            ins = host.mlp_inputs(item.indices, failing) if needs_inputs else None
            bags = getattr(item, "bags", None)
            cm.result(host.layout, shapes, failing, lookups=True, mlp=True, lookup_error=bool(failing), got=got,
                      mlp_inputs=ins, bag_lengths=None if bags is None else [len(b) for b in bags],
                      indices=item.indices, bags=bags, **q)

    def compare(self, item, got) -> tuple[list[str], tuple]:
        exp_logit, exp_errs, failing = self.expected(item)
        self.predict_counters(knob("host", None), failing, got, item)
        problems = []
        if got["qid"] != item.qid:
            problems.append(f"query id: expected {item.qid} got {got['qid']} (lost, duplicated or reordered)")
        if exp_errs:
            want = " or ".join(f"{ERR_NAMES[c]}" + (f" at physical table {p}" if p is not None else "")
                               for c, p in sorted(exp_errs, key=str))
            match = any(got["err"] == c and (p is None or got["err_table"] == p) for c, p in exp_errs)
            if not match:
                problems.append(f"error record: expected {want} got {ERR_NAMES.get(got['err'], got['err'])}"
                                f" at physical table {got['err_table']}")
            elif got["logit"] != 0:
                # an error record carries logit 0, never a value computed from zeroed rows
                problems.append(f"error record with logit {got['logit']}, expected 0 (found by make mutate)")
        elif got["err"]:
            problems.append(f"error record {ERR_NAMES.get(got['err'], got['err'])} at physical table "
                            f"{got['err_table']} engine {got['err_engine']} where none was expected")
        elif got["logit"] != exp_logit:
            problems.append(f"logit: expected {exp_logit} got {got['logit']} "
                            f"(indices {item.indices.tolist()[:8]}...)")
        return problems, (item, got, exp_logit)


class TopCoverage(uvm_subscriber):
    """Result classes, error records, configurations seen."""

    def build_phase(self):
        self.cg = Covergroup("top")
        self.cg.point("logit", ["positive", "negative"], "sign of the int32 logit")
        self.cg.point("error", ["none"] + list(knob("expected_errors", [])), "error records produced")
        self.cg.point("config", list(knob("configs", ["tiny"])), "model configs run on one build")
        self.current = knob("configs", ["tiny"])[0]

    def write(self, tup):
        item, got, exp_logit = tup
        name = ERR_NAMES.get(got["err"], "other")
        if name in self.cg.points["error"].hits:
            self.cg.sample("error", name)
        if not got["err"]:
            self.cg.sample("logit", "positive" if got["logit"] >= 0 else "negative")
        self.cg.sample("config", self.current)

    def report_phase(self):
        self.cg.report(self.logger)


class TopEnv(uvm_env):
    def build_phase(self):
        self.query_agent = QueryAgent.create("query_agent", self)
        self.monitor = ResultMonitor.create("monitor", self)
        self.scoreboard = TopScoreboard.create("scoreboard", self)
        self.coverage = TopCoverage.create("coverage", self)
        # CSR accesses go through the generated register model's frontdoor and this agent
        self.csr_agent = CsrAgent.create("csr_agent", self)

    def connect_phase(self):
        self.seqr = self.query_agent.seqr
        self.query_agent.ap.connect(self.scoreboard.sent_export)
        self.query_agent.ap.connect(self.scoreboard.sent_tap.analysis_export)
        self.monitor.ap.connect(self.scoreboard.got_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)
