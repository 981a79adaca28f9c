"""pyuvm environment of the lookup subsystem (tb/hdl/lookup_tb_top.sv).

Queries come from the shared query agent (tb/agents/); the feature monitor
takes each feature vector off ``m_feat_*``. The scoreboard's expectation is
models.golden.gather() on the same indices (the feature vector in logical
order), computed independently of the placement the DUT was given; error
queries must carry the error record of the table whose index was out of
range. The HBM model answers every read from the procedural content
function, so full-size tables cost no memory.
"""
from __future__ import annotations

import cocotb
import numpy as np
from pyuvm import uvm_analysis_port, uvm_component, uvm_env, uvm_subscriber

from models.golden import gather
from tb.agents.query_agent import QueryAgent, QueryItem
from tb.agents.query_scoreboard import QueryScoreboard
from tb.common.config_db import knob
from tb.common.fcov import Covergroup
from tb.common.seeding import py_random
from tb.common.stream_sink import StreamSink
from tb.common.sv_source import lookup_err_names, lookup_harness_perf_names

PERF_NAMES = lookup_harness_perf_names()   # the harness's packed 64-bit counters, in order
ERR_NAMES = lookup_err_names()             # lookup_pkg::err_code_e
ERR_CODES = {v: k for k, v in ERR_NAMES.items()}


# --------------------------------------------------------------------------
# monitor
# --------------------------------------------------------------------------
class FeatureMonitor(uvm_component):
    """Drives m_feat_ready (backpressure knob out_stall_prob), publishes each vector;
    event-driven (tb/common/stream_sink.py): no Python while m_feat_valid is low."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.dut = cocotb.top
        self.stall_prob = knob("out_stall_prob", 0.0)
        self.feat_max = knob("feat_max", 256)
        self.rnd = py_random(22)
        self.count = 0
        self.last_seen_cycle = 0
        self.hold = False   # a test may stall the output completely

    async def run_phase(self):
        if knob("batch", False):      # batched mode: the harness's SV sink takes the vectors
            return
        dut = self.dut
        sink = StreamSink(dut.clk, dut.m_feat_valid, dut.m_feat_ready, dut.rst_n, self.stall_prob, self.rnd,
                          hold=lambda: self.hold)
        await sink.run(self.take)

    def take(self) -> None:
        """At mid-cycle before the handshake edge; stamped with the cycle it is taken in
        (the same convention as the query driver's t_sent)."""
        dut = self.dut
        raw = int(dut.m_feat_data.value)
        feats = np.frombuffer(raw.to_bytes(self.feat_max * 2, "little"), dtype="<i2").astype(np.int64)
        self.count += 1
        self.ap.write({
            "qid": int(dut.m_feat_id.value),
            "features": feats,
            "err": int(dut.m_feat_err.value),
            "err_table": int(dut.m_feat_err_table.value),
            "err_engine": int(dut.m_feat_err_engine.value),
            "cycle": int(dut.hbm_cycle.value),
        })


# --------------------------------------------------------------------------
# scoreboard and coverage
# --------------------------------------------------------------------------
class LookupScoreboard(QueryScoreboard):
    """In-order compare of every feature vector with golden gather()."""

    WHAT = "feature vectors (golden gather())"

    def build_phase(self):
        super().build_phase()
        self.set_model(knob("model_cfg", None), knob("layout", None))
        self.fault_rows = knob("fault_rows", {})   # physical table -> (lo row, hi row, err code)
        self.cache = knob("cache_prediction", None)   # tb/lookup/cache_check.py (CACHE builds)
        self.new_epoch()

    def expect_traffic(self) -> bool:
        return knob("expect_traffic", True)     # a speed baseline runs without queries

    def new_epoch(self) -> None:
        """The DUT's counters restart (reset): so do the predictions of them."""
        # what the DUT's counters must read, predicted from the layout and the queries
        self.pred = {"queries": 0, "lookups_mem": 0, "lookups_onchip": 0, "beats": 0, "errors": 0}

    def predict_counters(self, failing: dict | None, indices=None) -> None:
        """One query's share of the counters: every physical table is one lookup on its
        engine (None: the configuration is illegal and the engines read nothing); a memory
        lookup moves its row's beats unless it failed before reading (index out of range)
        or its channel never answered (timeout); SLVERR/DECERR still move every beat."""
        self.pred["queries"] += 1
        if failing is None:
            return
        if self.cache is not None and indices is not None:
            self.cache.query(self.layout, indices, {p for p, c in failing.items() if c == ERR_CODES["idx_range"]})
        for p, d in enumerate(self.layout.descs):
            self.pred["lookups_onchip" if d.onchip else "lookups_mem"] += 1
            if not d.onchip and failing.get(p, 0) not in (ERR_CODES["idx_range"], ERR_CODES["timeout"]):
                self.pred["beats"] += max(1, d.stride // self.layout.build.word_bytes)

    def set_model(self, cfg, layout) -> None:
        """The model the following queries run against (tests that reconfigure call this)."""
        self.cfg, self.layout = cfg, layout
        if getattr(self, "cache", None) is not None:
            self.cache.flush()           # the commit of this model flushed the caches (s.11.7)
        # feature element -> (logical table, element within its row)
        self.elem_table = np.concatenate([np.full(t.dim, i) for i, t in enumerate(cfg.tables)])
        self.elem_k = np.concatenate([np.arange(t.dim) for t in cfg.tables])
        self.offs = cfg.feature_offsets

    def expected(self, item: QueryItem):
        """(features, acceptable error records {(code, physical table)}, or empty, the
        failing lookups {physical table: code})."""
        failing = self.layout.failing_lookups(item.indices, item.bad_table, self.fault_rows)
        if getattr(item, "golden_features", None) is None:
            self.predict_pending()
        feats = item.golden_features.copy()
        self.layout.zero_failed(feats, failing)
        # several failing lookups: the record names whichever failed first
        return feats, {(code, p) for p, code in failing.items()}, failing

    def predict_pending(self) -> None:
        """gather() for every query sent and not yet predicted, in one batch (the model is
        the current one: tests reconfigure only once every earlier query is answered)."""
        todo = self.sent_tap.take_unpredicted("golden_features")
        if not todo:
            return
        idx = np.stack([it.indices for it in todo])
        for i, it in enumerate(todo):
            if it.bad_table is not None:
                idx[i, it.bad_table] = 0     # its row must read as zeros; the rest as usual
        feats = gather(self.cfg, idx).astype(np.int64)
        for it, f in zip(todo, feats):
            it.golden_features = f

    def compare(self, item: QueryItem, got) -> tuple[list[str], tuple]:
        forced = knob("forced_error", None)   # every query must answer with this code
        if forced is not None:
            self.pred["errors"] += 1          # a forced code is never ERR_NONE
            self.predict_counters(None)
            if got["err"] != forced or got["qid"] != item.qid:
                return [f"expected error record {ERR_NAMES.get(forced)} got "
                        f"{ERR_NAMES.get(got['err'], got['err'])} (id {got['qid']})"], (item, got)
            return [], (item, got)
        exp, exp_errs, failing = self.expected(item)
        self.predict_counters(failing, item.indices)
        self.pred["errors"] += int(bool(exp_errs))
        problems = []
        if got["qid"] != item.qid:
            problems.append(f"query id: expected {item.qid} got {got['qid']} (order or loss)")
        want = " or ".join(f"{ERR_NAMES[c]} at physical table {p}" for c, p in sorted(exp_errs)) or "none"
        if not exp_errs and got["err"] != 0:
            problems.append(f"error record: expected none got {ERR_NAMES.get(got['err'], got['err'])} "
                            f"at physical table {got['err_table']}")
        elif not exp_errs and (got["err_table"], got["err_engine"]) != (0, 0):
            # s.5: an error-free record names table 0, engine 0 (found by make mutate)
            problems.append(f"error-free record names table {got['err_table']} engine {got['err_engine']}, "
                            f"expected 0 and 0")
        elif exp_errs and (got["err"], got["err_table"]) not in exp_errs:
            problems.append(f"error record: expected {want} got {ERR_NAMES.get(got['err'], got['err'])} "
                            f"at physical table {got['err_table']}")
        elif exp_errs and got["err_engine"] != self.layout.engine_of(got["err_table"]):
            problems.append(f"error engine: expected {self.layout.engine_of(got['err_table'])} "
                            f"got {got['err_engine']}")
        n = len(exp)
        bad = np.nonzero(got["features"][:n] != exp)[0]
        for e in bad[:4]:
            t = int(self.elem_table[e])
            problems.append(f"table {t} ({self.cfg.tables[t].name}) element {int(self.elem_k[e])} "
                            f"(feature {int(e)}, row {int(item.indices[t])}): expected {int(exp[e])} "
                            f"got {int(got['features'][e])}")
        if len(bad) > 4:
            problems.append(f"... {len(bad)} elements differ in all")
        if np.any(got["features"][n:] != 0):
            problems.append("elements beyond the feature length are not zero")
        return problems, (item, got)

    def check_batch(self, batch, t_sent, sent_ids, res) -> None:
        """A whole batch (tb/lookup/batch.py): the queries ``batch`` (QueryBatch) the SV
        source sent, with the cycle each was accepted (``t_sent``) and the id it logged
        (``sent_ids``), against the vectors ``res`` (BatchResults) the SV sink took, in
        order. The golden model predicts the batch at once and every element of every
        vector is compared in one array operation; a vector that differs in anything, or
        that must or does carry an error record, goes through the per-transaction check
        (check_pair), so the messages are the same in both modes. Vectors that match
        exactly are counted in bulk (counters, latency, one coverage sample per batch)."""
        n_q, n_r = len(batch), len(res)
        if len(t_sent) != n_q or np.any(sent_ids != (batch.qids & 0xFFFFFFFF)):
            msg = (f"MISMATCH batch source: logged {len(t_sent)} accepted queries, ids "
                   f"{[hex(int(x)) for x in sent_ids[:4]]}..., for a batch of {n_q} starting "
                   f"{[hex(int(x)) for x in batch.qids[:4]]}... (bench fault)")
            self.mismatch(msg)
            return
        for i in range(n_q, n_r):
            self.mismatch(f"MISMATCH feature vector for query id {int(res.qid[i])} that was never sent")
        if n_r < n_q:
            self.unanswered += n_q - n_r
        n = min(n_q, n_r)
        bad_rows = [i for i in range(n) if batch.bad[i] is not None]
        idx = batch.idx[:n].copy()
        for i in bad_rows:
            idx[i, batch.bad[i]] = 0           # its row must read as zeros; the rest as usual
        exp = gather(self.cfg, idx).astype(np.int64)
        flen = exp.shape[1]
        forced = knob("forced_error", None) is not None
        may_fail = np.zeros(n, dtype=bool)
        may_fail[bad_rows] = True
        for p, ranges in (self.fault_rows or {}).items():
            d = self.layout.descs[p]
            rows = idx[:, d.lt_a] * d.rows_b + idx[:, d.lt_b] if d.is_product else idx[:, d.lt_a]
            for lo, hi, _code in (ranges if isinstance(ranges, list) else [ranges]):
                may_fail |= (rows >= lo) & (rows < hi)
        feats = res.feats[:n]
        flag = (may_fail | forced | (res.qid[:n] != (batch.qids[:n] & 0xFFFFFFFF)) | (res.err[:n] != 0)
                | (res.err_table[:n] != 0) | (res.err_engine[:n] != 0)
                | np.any(feats[:, :flen] != exp, axis=1) | np.any(feats[:, flen:] != 0, axis=1))
        base = self.checked                    # query #base + i is row i (the messages' numbering)
        for i in np.nonzero(flag)[0]:
            self.checked = base + int(i)
            item = QueryItem(f"q{i}", qid=int(batch.qids[i]), indices=batch.idx[i], bad_table=batch.bad[i])
            item.t_sent = int(t_sent[i])
            item.golden_features = exp[i]
            self.check_pair(item, res.row(i))
        self.checked = base + n
        ok = np.nonzero(~flag)[0]
        if len(ok):
            # exact vectors without an error record: every lookup read its whole row
            k = len(ok)
            per = self.per_query_counts()
            self.pred["queries"] += k
            for name in ("lookups_mem", "lookups_onchip", "beats"):
                self.pred[name] += k * per[name]
            lat = res.cycle[ok] - t_sent[ok]
            self.latencies.extend(lat.tolist())
            self.first_sent = min(self.first_sent, int(t_sent[ok].min()))
            self.last_out = max(self.last_out, int(res.cycle[ok].max()))
            item = QueryItem("batch", qid=int(batch.qids[ok[0]]), indices=batch.idx[ok[0]])
            self.checked_ap.write((item, res.row(int(ok[0]))))

    def per_query_counts(self) -> dict:
        """Counter increments of one query none of whose lookups fails (as predict_counters)."""
        saved, self.pred = self.pred, {"queries": 0, "lookups_mem": 0, "lookups_onchip": 0, "beats": 0,
                                       "errors": 0}
        try:
            self.predict_counters({})
            return self.pred
        finally:
            self.pred = saved


class LookupCoverage(uvm_subscriber):
    """Tiers x engines reached, burst shapes, errors, backpressure. Bins come from the
    layout (what the placement should make the DUT do); engine, kind and burst shape
    are sampled from the reads the DUT issued (the port monitor's log, ``sample_ports``),
    error records from its output, the rest from its counters and the memory's."""

    MEM_ERRORS = ("slverr", "decerr", "timeout")

    def build_phase(self):
        self.layout = knob("layout", None)
        self.cg = Covergroup("lookup")
        engines = sorted({(("bank" if d.onchip else "ch") + str(d.channel)) for d in self.layout.descs})
        self.cg.point("engine", engines, "every engine the placement uses issued a read (AR seen on its port)")
        beats = sorted({str(max(1, d.stride // self.layout.build.word_bytes)) for d in self.layout.descs
                        if not d.onchip})
        self.cg.point("burst_beats", beats or ["1"], "burst lengths the tables need, as issued on AR")
        self.cg.point("kind", sorted({"product" if d.is_product else "plain" for d in self.layout.descs}),
                      "plain and Cartesian-product tables read (AR address -> table)")
        errs = knob("expected_errors", [])
        self.cg.point("error", ["none"] + list(errs), "error records produced")
        self.cg.point("outstanding_max", ["1", "2-7", "8+"], "reads in flight on a channel at once")
        self.cg.point("completion_order", ["in_order", "out_of_order"], "reads overtaking older ones")
        self.cg.point("stall", ["ar_stall", "in_stall", "out_stall"], "backpressure seen at each stage")
        # crosses: which engine reports each kind of error record; completion order under
        # each kind of backpressure the DUT gets (its output stalled, its AR stalled)
        self.err_kinds = [k for k in ("idx_range",) + self.MEM_ERRORS if k in errs]
        if self.err_kinds:
            banks = [e for e in engines if e.startswith("bank")]
            self.cg.cross("error_x_engine", {"error": self.err_kinds, "engine": engines},
                          "error records by the engine they name",
                          exclude=[(k, b, "an on-chip bank answers every row a legal descriptor names, "
                                          "and never stalls") for k in self.err_kinds
                                   if k in self.MEM_ERRORS for b in banks])
        self.cg.cross("backpressure_x_order", {"backpressure": ["none", "output", "memory"],
                                               "order": ["in_order", "out_of_order"]},
                      "completion order of a run under each backpressure it had (output: features "
                      "stalled; memory: ARREADY low)")

    def sample_run(self, perf: dict, hbm_stats: list) -> None:
        """End-of-run counters: DUT perf registers and the memory model's statistics."""
        used = {d.channel for d in self.layout.descs if not d.onchip}
        for s in hbm_stats:
            if s["ch"] in used and s.get("max_out", 0):
                m = s["max_out"]
                self.cg.sample("outstanding_max", "1" if m == 1 else "2-7" if m < 8 else "8+")
        order = "out_of_order" if perf.get("ooo") else "in_order"
        self.cg.sample("completion_order", order)
        for name in ("ar_stall", "in_stall", "out_stall"):
            if perf.get(name):
                self.cg.sample("stall", name)
        bp = (["output"] if perf.get("out_stall") else []) + \
             (["memory"] if any(s.get("ar_stall", 0) for s in hbm_stats) else [])
        for b in bp or ["none"]:
            self.cg.sample("backpressure_x_order", b, order)

    def sample_ports(self, samples) -> None:
        """(engine, plain|product, beats) of each read the port monitor saw; reads under
        another placement (LookupRandomConfigTest) count where they fall in declared bins."""
        for name, value in ((p, v) for eng, kind, beats in samples
                            for p, v in (("engine", eng), ("kind", kind), ("burst_beats", beats))):
            if value in self.cg.points[name].hits:
                self.cg.sample(name, value)

    def write(self, tup):
        item, got = tup
        name = ERR_NAMES.get(got["err"], "other")
        if name in self.cg.points["error"].hits:
            self.cg.sample("error", name)
        if name in self.err_kinds:
            e, nch = got["err_engine"], self.layout.build.num_ch
            self.cg.sample("error_x_engine", name, f"ch{e}" if e < nch else f"bank{e - nch}")

    def report_phase(self):
        self.cg.report(self.logger)


class LookupEnv(uvm_env):
    def build_phase(self):
        self.query_agent = QueryAgent.create("query_agent", self)
        self.monitor = FeatureMonitor.create("monitor", self)
        self.scoreboard = LookupScoreboard.create("scoreboard", self)
        self.coverage = LookupCoverage.create("coverage", self)

    def connect_phase(self):
        self.seqr = self.query_agent.seqr
        self.query_agent.ap.connect(self.scoreboard.sent_export)
        self.query_agent.ap.connect(self.scoreboard.sent_tap.analysis_export)
        self.monitor.ap.connect(self.scoreboard.got_export)
        self.scoreboard.checked_ap.connect(self.coverage.analysis_export)
