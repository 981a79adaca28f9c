"""Functional coverage of the multi-hot lookup (contracts s.9.7, s.9.9): covergroup
``lookup_multihot``, sampled from what the DUT answered.

Bag lengths, duplicates and pooling saturation are counted only for queries the
DUT answered without an error (their vectors were checked exact, so the bag the
stimulus sent is the bag the hardware pooled); answer kinds come from the DUT's
error records; backpressure from its stall counters. The bins are drawn from the
configuration: a length class no table of a kind can have (a one-hot table has
no "mid" bag; only tables whose bag_max is L_MAX can have a bag of L_MAX) is
excluded with the reason, so the report never lists a hole nothing could fill.
"""
from __future__ import annotations

import numpy as np

from models.dlrm import ERR_NONE
from tb.common.fcov import Covergroup

LEN_CLASSES = ("0", "1", "mid", "bag_max", "l_max")
STALLS = ("none", "output", "memory")
ANSWERS = ("none", "idx_range", "bag_len", "packet", "slverr", "bad_config")
FAULT_POSITIONS = ("only", "first", "middle", "last")
INT16_MAX, INT16_MIN = 32767, -32768


def table_kind(tab) -> str:
    if tab.bag_max <= 1:
        return "one_hot"
    return "multi_mean" if tab.pool_shift else "multi_sum"


def len_class(n: int, bag_max: int, l_max: int) -> str:
    if n <= 1:
        return str(n)
    if n == l_max:
        return "l_max"
    return "bag_max" if n == bag_max else "mid"


class MultihotCoverage:
    def __init__(self, cfg, l_max: int, err_names: dict):
        self.cfg, self.l_max, self.err_names = cfg, l_max, err_names
        self.kinds = [table_kind(t) for t in cfg.tables]
        cg = self.cg = Covergroup("lookup_multihot")
        kinds = sorted(set(self.kinds))
        possible = {k: set() for k in kinds}
        for tab, k in zip(cfg.tables, self.kinds):
            possible[k] |= {len_class(n, tab.bag_max, l_max) for n in range(tab.bag_max + 1)}
        cg.cross("bag_len", {"kind": kinds, "len": LEN_CLASSES},
                 "bag lengths pooled, by table kind (one-hot: bag_max 1; multi_mean: pool_shift > 0)",
                 exclude=[(k, c, f"no {k} table of {cfg.name} can have it (bag_max)")
                          for k in kinds for c in LEN_CLASSES if c not in possible[k]])
        cg.point("duplicates", ["distinct", "dup"], "bags of 2+ rows with and without a repeated index")
        multi = [k for k in kinds if k != "one_hot"]
        if multi:
            cg.cross("saturation", {"kind": multi, "bound": ["pos", "neg"]},
                     "pooled elements clamped to +32767 / -32768 (s.9.2)")
        cg.point("answer", ANSWERS, "answers the DUT gave (error records by kind)")
        cg.point("fault_position", FAULT_POSITIONS,
                 "where in its bag the row whose read failed sits (the SLVERR reached the query)")
        cg.cross("stall_x_bag", {"stall": STALLS, "bag": LEN_CLASSES},
                 "each backpressure the DUT met in a run (output: m_feat/m_dense stalled; memory: ARREADY low), by the bag length classes its good queries pooled")
        self.seen = set()

    # ---- per answer -------------------------------------------------------------------------
    def sample_answers(self, exp: list[dict], got: list[dict], fault_pos=None) -> None:
        """``exp`` and ``got`` in query order (as compared); ``fault_pos(bags)`` gives the
        position of the failing row in its bag, or None."""
        cfg = self.cfg
        offs = cfg.feature_offsets
        for e, g in zip(exp, got):
            name = self.err_names.get(g["err"], "other")
            if name in self.cg.points["answer"].hits:
                self.cg.sample("answer", name)
            if name == "slverr" and fault_pos is not None and e["bags"] is not None:
                pos = fault_pos(e["bags"])
                if pos is not None:
                    self.cg.sample("fault_position", pos)
            if g["err"] != ERR_NONE or e["code"] != ERR_NONE or e["bags"] is None:
                continue
            for t, (tab, kind) in enumerate(zip(cfg.tables, self.kinds)):
                bag = list(e["bags"][t])
                cls = len_class(len(bag), tab.bag_max, self.l_max)
                self.cg.sample("bag_len", kind, cls)
                self.seen.add(cls)
                if len(bag) >= 2:
                    self.cg.sample("duplicates", "dup" if len(set(bag)) < len(bag) else "distinct")
                if kind != "one_hot" and len(bag) >= 2:
                    f = np.asarray(g["feat"][offs[t]:offs[t] + tab.dim])
                    if (f == INT16_MAX).any():
                        self.cg.sample("saturation", kind, "pos")
                    if (f == INT16_MIN).any():
                        self.cg.sample("saturation", kind, "neg")

    # ---- per run ----------------------------------------------------------------------------
    def sample_run(self, perf: dict) -> None:
        # backpressure put on the DUT (its own input stalls are its answer to load, not stimulus)
        stalls = [s for s, key in (("output", "out_stall"), ("memory", "ar_stall")) if perf.get(key)]
        for s in stalls or ["none"]:
            for cls in sorted(self.seen):
                self.cg.sample("stall_x_bag", s, cls)
        self.seen = set()

    def report(self, logger) -> None:
        self.cg.report(logger)
