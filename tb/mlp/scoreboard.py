"""In-order logit check of the MLP engine against the golden model
(models.golden.mlp_forward, in batches per phase), or on a VEC_OUT build an
in-order check of every output vector, element by element, against the
hidden-layer rule on every layer (models.golden.run_layers with
logit_last=False, the rule of models.dlrm.bottom_forward), plus the engine's counters
(MACs, busy beats, saturation and ReLU events per layer) against the golden
trace and the shapes."""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import Event
from pyuvm import (
    ConfigDB,
    uvm_analysis_port,
    uvm_component,
    uvm_tlm_analysis_fifo,
)

from models import fixed_point as fx
from models.golden import Trace, mlp_forward, run_layers
from models.quant import qforward
from tb.mlp.mlp_layout import engine_counts, vec_beats
from tb.mlp.seq_lib import MlpInferItem, MlpPhaseItem


# --------------------------------------------------------------------------
# scoreboard and coverage
# --------------------------------------------------------------------------
def golden_batch(items):
    """Fill item.expected for items of one phase with one golden-model call:
    (logit, per-layer acc, per-layer stored input). A quantized phase runs
    models.quant.qforward (contracts s.8), an int16 one models.golden.mlp_forward."""
    ph = items[0].phase
    feats = np.stack([it.features for it in items])
    if ph.qmodel is not None:
        logits, trace = qforward(ph.qmodel, feats, return_layers=True)
        inputs = trace.inputs
    elif ph.vec:   # contracts s.9.3: relu(sat16) on every layer, the whole last layer out
        trace = Trace(features=feats)
        logits = run_layers(ph.cfg, feats.astype(np.int64), ph.weights, trace, logit_last=False)
        inputs = [feats.astype(np.int64)] + trace.out[:-1]
    else:
        logits, trace = mlp_forward(ph.cfg, feats, ph.weights, return_layers=True)
        inputs = [trace.features.astype(np.int64)] + trace.out[:-1]
    for i, it in enumerate(items):
        y = logits[i] if ph.vec else int(logits[i])
        it.expected = (y, [a[i] for a in trace.acc], [x[i] for x in inputs])


def layer_format(ph, l: int) -> tuple[int, int, bool]:
    """(shift, output bits, relu) of layer l of a phase (contracts s.3 / s.8.1)."""
    last = l == len(ph.shapes) - 1 and not ph.vec
    if ph.qmodel is not None:
        lp = ph.qmodel.layers[l]
        return lp.shift, lp.out_bits, lp.relu
    return ph.cfg.frac_bits, 32 if last else 16, not last


class MlpScoreboard(uvm_component):
    """In-order logit check against the golden model, plus the counters."""

    def build_phase(self):
        self.sent_fifo = uvm_tlm_analysis_fifo("sent_fifo", self)
        self.result_fifo = uvm_tlm_analysis_fifo("result_fifo", self)
        self.phase_fifo = uvm_tlm_analysis_fifo("phase_fifo", self)
        self.sent_export = self.sent_fifo.analysis_export
        self.result_export = self.result_fifo.analysis_export
        self.phase_export = self.phase_fifo.analysis_export
        self.checked_ap = uvm_analysis_port("checked_ap", self)
        self.build = ConfigDB().get(self, "", "build")
        self.pending: list[MlpInferItem] = []
        self.checked = 0
        self.sent = 0
        self.phase_items: dict[int, list] = {}
        self.mismatches: list[str] = []
        self.progress = Event()

    def outstanding(self) -> str:
        self._drain_sent()
        lines = [f"{self.sent} sent, {self.checked} checked, {len(self.pending)} outstanding"]
        lines += [f"  {it}" for it in self.pending[:8]]
        return "\n".join(lines)

    def _drain_sent(self):
        while True:
            ok, it = self.sent_fifo.try_get()
            if not ok:
                return
            self.pending.append(it)
            self.sent += 1
            self.phase_items.setdefault(it.phase.index, []).append(it)

    async def run_phase(self):
        cocotb.start_soon(self._phases())
        while True:
            got = await self.result_fifo.get()
            self._drain_sent()
            if not self.pending:
                self.mismatches.append(f"MISMATCH: logit {got} with no inference sent")
                continue
            item = self.pending.pop(0)
            if item.expected is None:
                golden_batch([it for it in self.pending if it.phase is item.phase] + [item])
            if "vec" in got:
                self.check_vec(item, got)
            else:
                self.check_logit(item, got)
            self.checked += 1
            self.checked_ap.write(("infer", item))
            self.progress.set()

    def mismatch(self, msg: str) -> None:
        self.logger.error(msg)
        self.mismatches.append(msg)

    def check_logit(self, item, got) -> None:
        exp_logit = item.expected[0]
        if got["logit"] != exp_logit or got["tag"] != item.tag:
            self.mismatch(f"MISMATCH inference #{self.checked} {item}: expected logit {exp_logit} "
                          f"tag {item.tag}, got logit {got['logit']} tag {got['tag']}")

    def check_vec(self, item, got) -> None:
        """One output vector (contracts s.6): ceil(d / VEC_LANES) beats, the item's tag on
        every beat, element e = the golden x[e], lanes past d zero, out_logit 0."""
        exp = np.asarray(item.expected[0], dtype=np.int64)
        if item.expected_vec is not None:   # MlpVecBottomSeq: models.dlrm.bottom_forward's x
            if not np.array_equal(item.expected_vec, exp):
                self.mismatch(f"MISMATCH bench: bottom_forward and run_layers disagree for {item}")
            exp = np.asarray(item.expected_vec, dtype=np.int64)
        d, where = len(exp), f"inference #{self.checked} {item}"
        want_beats = vec_beats(self.build, d)
        if got["beats"] != want_beats:
            self.mismatch(f"MISMATCH {where}: expected {want_beats} beats of {self.build.VEC_LANES} for "
                          f"{d} elements, got {got['beats']}")
        bad_tags = [t for t in got["tags"] if t != item.tag]
        if bad_tags:
            self.mismatch(f"MISMATCH {where}: expected tag {item.tag} on every beat, got {got['tags']}")
        if got["logit"] != 0:
            self.mismatch(f"MISMATCH {where}: expected out_logit 0 in VEC_OUT mode, got {got['logit']}")
        vec = got["vec"]
        bad = [(e, int(exp[e]), vec[e]) for e in range(min(d, len(vec))) if vec[e] != exp[e]]
        bad += [(e, 0, vec[e]) for e in range(d, len(vec)) if vec[e] != 0]
        for e, want, have in bad[:4]:
            self.mismatch(f"MISMATCH {where}: element {e} expected {want}, got {have}")
        if len(bad) > 4:
            self.mismatch(f"MISMATCH {where}: {len(bad)} elements differ in all")

    async def _phases(self):
        while True:
            ph = await self.phase_fifo.get()
            self._drain_sent()
            items = self.phase_items.pop(ph.index, [])
            self.check_perf(ph, items)
            self.checked_ap.write(("phase", ph))

    def check_perf(self, ph: MlpPhaseItem, items):
        """Counters of a drained phase vs the shapes and the golden trace."""
        perf, n = ph.perf, len(items)
        if not items:
            return
        todo = [it for it in items if it.expected is None]
        if todo:
            golden_batch(todo)
        inputs = [np.stack([it.expected[2][l] for it in items]) for l in range(len(ph.shapes))]
        counts = engine_counts(self.build, ph.precisions, ph.shapes, inputs, ph.zero_skip)
        for l, (beats, macs) in enumerate(counts):
            shift, bits, relu = layer_format(ph, l)
            sat = relu0 = 0
            for it in items:
                r = fx.round_shift_q(it.expected[1][l], shift)
                y = fx.sat(r, bits)
                sat += int(np.count_nonzero(y != r))
                relu0 += int(np.count_nonzero((y < 0) & relu))
            want = {"perf_macs": macs, "perf_busy": beats, "perf_sat": sat, "perf_relu0": relu0}
            for k, v in want.items():
                if perf[k][l] != v:
                    self.mismatch(f"MISMATCH counter {k}[{l}] of {ph}: expected {v}, got {perf[k][l]} "
                                  f"({n} inferences)")

    def check_phase(self):
        self._drain_sent()
        assert not self.mismatches, f"{len(self.mismatches)} mismatches, first: {self.mismatches[0]}"
        assert not self.pending, f"{len(self.pending)} inferences sent but never answered"
        assert self.checked > 0, "scoreboard checked nothing"
        self.logger.info(f"scoreboard: {self.checked} inferences matched the golden model")
