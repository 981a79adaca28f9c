"""What the accelerator's CSR counters, error record and STATUS must read after a run
(docs/contracts.md s.7.1), predicted from the model and from what the benches saw.

Event counters come from the model: every result the scoreboard checked adds its
share (queries, results, lookups per tier, memory beats, lookup errors, MLP beats
and MACs of its layer shapes), every DMA the host ran adds its words. Counters
that depend on timing are checked against the exact relation the RTL promises,
observed without per-cycle Python: the SV port monitor counts stall cycles
(tb/hdl/lookup_port_monitor.sv), its log gives completion order, and the cycle
counters are read with the memory model's cycle counter as a time stamp.
"""
from __future__ import annotations

from models.row_cache import COUNTER_NAMES as CACHE_COUNTERS
from tb.lookup.cache_check import CachePrediction
from tb.mlp.mlp_layout import bank_plan, engine_counts

EVENT_COUNTERS = ("queries", "results", "lookups_mem", "lookups_onchip", "mem_beats", "lookup_errors",
                  "mlp_busy", "mlp_macs", "dma_words")


class CounterModel:
    """Predicted counters of the current epoch (since the last perf_clear or datapath
    reset) and the predicted error record (since the last err_clear or hard reset)."""

    def __init__(self, build):
        self.build = build
        self.first_error: dict | None = None
        # CACHE builds: the hot-row caches (contracts s.11.11), off until CACHE_CTRL.enable
        self.cache = CachePrediction(build.lookup, "lru") if build.lookup.cache else None
        if self.cache is not None:
            self.cache.enabled = False
        self.new_epoch()

    def new_epoch(self, reset: bool = False) -> None:
        """perf_clear (the caches keep their lines) or, ``reset``, a soft reset (the caches
        go back to the state of a flush)."""
        self.pred = {k: 0 for k in EVENT_COUNTERS}
        if self.cache is not None:
            self.cache.reset() if reset else self.cache.clear_counters()

    # hot-row cache events (s.11.7, s.11.11)
    def commit(self) -> None:
        if self.cache is not None:
            self.cache.flush()

    def dma_start(self) -> None:
        if self.cache is not None:
            self.cache.flush()

    def cache_control(self, enable: bool, policy: str, flush: bool = False) -> None:
        if self.cache is not None:
            self.cache.control(enable, policy)
            if flush:
                self.cache.flush()

    @property
    def cache_on(self) -> int:
        """STATUS.cache_on: the caches are built and enabled."""
        return int(self.cache is not None and self.cache.enabled)

    def cache_pred(self) -> dict:
        """PERF_CACHE_* as the model has them (all 0 without caches or while disabled)."""
        return self.cache.counters() if self.cache is not None else dict.fromkeys(CACHE_COUNTERS, 0)

    def err_clear(self) -> None:
        self.first_error = None

    def result(self, layout, shapes, failing: dict | None, *, lookups: bool, mlp: bool,
               lookup_error: bool, got: dict, mlp_inputs=None, precisions=None, zero_skip: bool = False,
               bag_lengths=None, indices=None, bags=None) -> None:
        """One result left: ``failing`` {physical table: error code} of its lookups;
        ``lookups``: the engines read for it (the lookup's configuration was legal);
        ``mlp_inputs``: per layer the values stored as its input (needed with zero-skipping,
        whose beats and MACs depend on them; contracts s.8.7), ``precisions`` per layer;
        ``mlp``: its features went through the MLP (no bypass under an illegal
        configuration of the top); ``lookup_error``: its error record came from the lookup;
        ``bag_lengths`` (multi-hot): per logical table the query's bag length, each entry one
        lookup of its table (void sub-query slots are not lookups, s.5.1); ``indices`` /
        ``bags`` (multi-hot) the query's, for the hot-row caches (each engine's reads in AR
        order: this result is the next in query order)."""
        p = self.pred
        p["queries"] += 1
        p["results"] += 1
        p["lookup_errors"] += int(lookup_error)
        if lookups and self.cache is not None:
            if bags is not None:
                if not failing:           # a multi-hot query that failed reads nothing (s.9.9)
                    self.cache.query_bags(layout, bags)
            elif indices is not None:     # index range, timeout: no read
                self.cache.query(layout, indices, {t for t, c in (failing or {}).items() if c in (1, 4)})
        if lookups:
            for t, d in enumerate(layout.descs):
                n = 1 if bag_lengths is None else int(bag_lengths[d.lt_a])
                p["lookups_onchip" if d.onchip else "lookups_mem"] += n
                if not d.onchip and (failing or {}).get(t, 0) not in (1, 4):   # index range, timeout: no beats
                    p["mem_beats"] += n * max(1, d.stride // layout.build.word_bytes)
        if mlp and zero_skip:
            precs = precisions or ["int16"] * len(shapes)
            for beats, macs in engine_counts(self.build.mlp, precs, shapes, mlp_inputs, zero_skip):
                p["mlp_busy"] += beats
                p["mlp_macs"] += macs
        elif mlp:
            for lp in bank_plan(self.build.mlp, shapes, precisions):
                p["mlp_busy"] += lp["cycles"]
                p["mlp_macs"] += lp["macs"]
        if got["err"] and self.first_error is None:
            self.first_error = {k: got[k] for k in ("err", "err_table", "err_engine", "qid")}

    def dma(self, words: int, nbanks: int) -> None:
        """An accepted DMA: every target word is read, including words lost to an error."""
        self.pred["dma_words"] += words * nbanks


def counter_problems(got: dict, pred: dict, mon: dict, ports, phantoms_since_reset: int,
                     unexpected_r: int, cache_pred: dict | None = None) -> list[str]:
    """The CSR counters against the model's events and the monitors' observations;
    ``cache_pred`` the PERF_CACHE_* counters (models/row_cache.py; None: all 0)."""
    want = [(k, pred[k], "model") for k in EVENT_COUNTERS if k != "mem_beats"]
    cache_pred = cache_pred or dict.fromkeys(CACHE_COUNTERS, 0)
    want += [(f"cache_{n}", cache_pred[n], "hot-row cache model, models/row_cache.py") for n in CACHE_COUNTERS]
    want += [
        ("mem_beats", pred["mem_beats"] + ports.unexpected, "rows read (model) + beats with an ID not in flight"),
        ("mem_beats", mon["mem_beats"], "R beats seen on the lookup's memory ports"),
        ("mem_beats", ports.completed_beats, "beats of the reads completed in the port log"),
        ("ar_stall", mon["ar_stall_mem"] + mon["ar_stall_bank"], "cycles ARVALID && !ARREADY, all engines"),
        ("in_stall", mon["in_stall"], "cycles s_query_valid && !s_query_ready"),
        ("out_stall", mon["out_stall"], "cycles m_result_valid && !m_result_ready"),
        ("ooo", ports.ooo, "reads whose completion rank differs from their issue rank (port log)"),
    ]
    out = [f"MISMATCH counter {name}: expected {exp} ({why}), got {got[name]}"
           for name, exp, why in want if got[name] != exp]
    if unexpected_r != int(phantoms_since_reset > 0):
        out.append(f"MISMATCH counter unexpected_r: expected {int(phantoms_since_reset > 0)} "
                   f"({phantoms_since_reset} beats with an ID not in flight since reset), got {unexpected_r}")
    return out + ports.problems
