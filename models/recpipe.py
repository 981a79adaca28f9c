"""RecPipe golden model: requests, a ranker and its derived filter, the two-stage
pipeline and its quality against latency (docs/contracts.md 10.3-10.5).

A request is one user and N candidate items; it becomes N ordinary queries
of a built-in model. Stage 1 scores all N with a cheap *filter* and keeps
the top ``k_keep`` (models/topk.py); stage 2 scores those with the *ranker*
and returns the top ``top_k``. Both models are ordinary fixed-point models
(same tables, own MLP weights) that the accelerator runs bit-exactly.

``python -m models.recpipe`` prints the quality / latency table (recall@K,
NDCG@K, MLP cycles on a P x U array) for a grid of filters and k kept.
"""
from __future__ import annotations

import argparse
import json
import math
import numbers
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from .config import ConfigError, ModelConfig, builtin
from .fixed_point import INT16_MAX, INT16_MIN, INT32_MAX, INT32_MIN
from .golden import Weights, golden_infer, mlp_forward, gather, mlp_weights
from .queries import zipf_ranks
from .tables import mix32
from .topk import topk

N_MAX = 4096            # candidates per request (the top-k unit's build)
K_MAX = 256             # largest k kept / returned (the top-k unit's build)
ATTR_SALT = 0x5EED0000  # item attribute hash (10.3)
REQUEST_SALT = 0x2EC9
USER_ALPHA = 1.0
ITEM_ALPHA = 0.8
CALIB_SEED = 0xCA11B    # calibration requests; evaluation uses other seeds
MAX_DECAY = 4.0

# 10.3: the item tables of each model, the item key table first; the rest are user tables
ITEM_TABLES = {
    "tiny": ("item", "category", "brand"),
    "microrec_small": ("ddr1", "hbm31", "hbm30", "hbm29", "hbm28", "hbm27", "hbm26", "hbm25",
                       "hbm24", "chip4", "chip5", "chip6", "chip7"),
}


# --------------------------------------------------------------------------
# requests
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class TableSplit:
    """Logical table ids of the user context and of the candidate item; item[0] is the key."""
    user: tuple[int, ...]
    item: tuple[int, ...]

    @property
    def key(self) -> int:
        return self.item[0]


def base_name(cfg: ModelConfig) -> str:
    """The built-in model a config derives from (a filter is named '<ranker>.filter...')."""
    return cfg.name.split(".", 1)[0]


def table_split(cfg: ModelConfig) -> TableSplit:
    name = base_name(cfg)
    if name not in ITEM_TABLES:
        raise ConfigError(f"model: no user/item table split for {cfg.name!r} "
                          f"(known: {', '.join(ITEM_TABLES)})")
    item = tuple(cfg.table_index(t) for t in ITEM_TABLES[name])
    user = tuple(t for t in range(cfg.num_tables) if t not in item)
    return TableSplit(user, item)


def item_attributes(cfg: ModelConfig, items) -> np.ndarray:
    """Each item's index in every item table: int64 [N, len(split.item)] (10.3)."""
    split = table_split(cfg)
    ids = np.asarray(items, dtype=np.int64)
    key_rows = cfg.tables[split.key].rows
    if ids.ndim != 1 or (ids.size and (ids.min() < 0 or ids.max() >= key_rows)):
        raise ValueError(f"items: must be a 1-D array of rows of table "
                         f"{cfg.tables[split.key].name!r} (0..{key_rows - 1})")
    out = np.empty((ids.size, len(split.item)), dtype=np.int64)
    out[:, 0] = ids
    for j, t in enumerate(split.item[1:], start=1):
        salt = mix32((cfg.seed ^ ATTR_SALT ^ t) & 0xFFFFFFFF)
        h = mix32(np.uint32(salt) ^ ids.astype(np.uint32)).astype(np.int64)
        out[:, j] = h % cfg.tables[t].rows
    return out


@dataclass(frozen=True)
class Request:
    """One user and N candidates; ``indices`` holds the N queries [N, T]."""
    user: np.ndarray      # int64 [len(split.user)]
    items: np.ndarray     # int64 [N] catalog item ids (rows of the key table)
    indices: np.ndarray   # int64 [N, T]

    @property
    def n(self) -> int:
        return int(self.items.size)


def request_queries(cfg: ModelConfig, user, items) -> np.ndarray:
    """The N queries of a request: user indices in user tables, item attributes in item tables."""
    split = table_split(cfg)
    u = np.asarray(user, dtype=np.int64)
    if u.shape != (len(split.user),):
        raise ValueError(f"user: expected {len(split.user)} indices (one per user table), "
                         f"got shape {u.shape}")
    attrs = item_attributes(cfg, items)
    q = np.empty((attrs.shape[0], cfg.num_tables), dtype=np.int64)
    q[:, list(split.user)] = u[None, :]
    q[:, list(split.item)] = attrs
    return q


def make_requests(cfg: ModelConfig, count: int, n: int, seed: int = 0,
                  user_alpha: float = USER_ALPHA, item_alpha: float = ITEM_ALPHA) -> list[Request]:
    """``count`` seeded requests of ``n`` distinct candidates (10.3)."""
    split = table_split(cfg)
    _check_int("count", count, 1, None)
    key_rows = cfg.tables[split.key].rows
    _check_int("n", n, 1, min(N_MAX, key_rows))
    out = []
    for r in range(int(count)):
        rng = np.random.default_rng([int(seed), REQUEST_SALT, r])
        user = np.array([zipf_ranks(rng, cfg.tables[t].rows, user_alpha, 1)[0] - 1
                         for t in split.user], dtype=np.int64)
        items = _distinct_zipf(rng, key_rows, item_alpha, int(n))
        out.append(Request(user, items, request_queries(cfg, user, items)))
    return out


def _distinct_zipf(rng, rows: int, alpha: float, n: int) -> np.ndarray:
    """n distinct rows in draw order; after 64 rounds the rest in rank order (near-full catalogs)."""
    seen: dict[int, None] = {}
    for _ in range(64):
        for v in (zipf_ranks(rng, rows, alpha, n) - 1).tolist():
            if v not in seen:
                seen[v] = None
                if len(seen) == n:
                    return np.fromiter(seen, dtype=np.int64, count=n)
    for v in range(rows):
        if v not in seen:
            seen[v] = None
            if len(seen) == n:
                break
    return np.fromiter(seen, dtype=np.int64, count=n)


# --------------------------------------------------------------------------
# models and their cost
# --------------------------------------------------------------------------
def mlp_cycles(shapes, P: int, U: int) -> int:
    """MLP cycles per item on a P x U array: sum of ceil(in / U) * ceil(out / P) (s.6)."""
    _check_int("P", P, 1, None)
    _check_int("U", U, 1, None)
    return sum(-(-int(i) // U) * -(-int(o) // P) for i, o in shapes)


@dataclass(frozen=True, eq=False)
class RecModel:
    """An ordinary fixed-point model: a config and its int16 / int32 weights."""
    cfg: ModelConfig
    weights: Weights
    note: str = ""

    @property
    def name(self) -> str:
        return self.cfg.name

    def logits(self, indices) -> np.ndarray:
        return golden_infer(self.cfg, indices, self.weights)

    def cycles(self, P: int, U: int) -> int:
        return mlp_cycles(self.cfg.layer_shapes, P, U)


def ranker_weights(cfg: ModelConfig, decay: float = 0.0) -> Weights:
    """s.2 weights, with neuron importance concentrated by ``decay`` (10.5)."""
    if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not math.isfinite(decay) \
            or not 0.0 <= decay <= MAX_DECAY:
        raise ConfigError(f"decay: must be a number in 0..{MAX_DECAY}, got {decay!r}")
    weights = mlp_weights(cfg)
    if decay == 0.0:
        return weights
    out = [weights[0]]
    for w, b in weights[1:]:
        fan_in = w.shape[1]
        s = np.arange(1, fan_in + 1, dtype=np.float64) ** -float(decay)
        s *= math.sqrt(fan_in / float(np.sum(s * s)))
        wq = np.clip(np.rint(w.astype(np.float64) * s[None, :]), INT16_MIN, INT16_MAX)
        out.append((wq.astype(np.int16), b))
    return out


def ranker(name: str = "microrec_small", decay: float = 0.0) -> RecModel:
    """A built-in model as the ranker; decay 0 is the model exactly as s.2 defines it."""
    cfg = builtin(name)
    table_split(cfg)    # a ranker must have a user/item split
    note = "s.2 weights" if decay == 0 else f"s.2 weights, importance decay {decay}"
    return RecModel(cfg, ranker_weights(cfg, decay), note)


@dataclass(frozen=True)
class FilterSpec:
    """A filter: hidden widths kept from the ranker's layers, and its calibration."""
    widths: tuple[int, ...]
    calib_requests: int = 16
    calib_candidates: int = 1024
    calib_seed: int = CALIB_SEED

    def label(self) -> str:
        return "x".join(str(w) for w in self.widths)


def _check_spec(rank: RecModel, spec: FilterSpec) -> None:
    hidden = rank.cfg.mlp[:-1]
    widths = tuple(spec.widths) if isinstance(spec.widths, (tuple, list)) else None
    if not widths or len(widths) > len(hidden):
        raise ConfigError(f"widths: must list 1..{len(hidden)} hidden widths (the ranker "
                          f"{rank.name!r} has {len(hidden)} hidden layers), got {spec.widths!r}")
    for l, (m, h) in enumerate(zip(widths, hidden)):
        _check_int(f"widths[{l}]", m, 1, h)
    _check_int("calib_requests", spec.calib_requests, 1, None)
    _check_int("calib_candidates", spec.calib_candidates, 2, N_MAX)
    _check_int("calib_seed", spec.calib_seed, 0, None)


def derive_filter(rank: RecModel, spec: FilterSpec) -> RecModel:
    """The filter of 10.5: the ranker's most important neurons, output layer refit."""
    _check_spec(rank, spec)
    cfg = rank.cfg
    split = table_split(cfg)
    widths = tuple(int(m) for m in spec.widths)
    depth = len(widths)
    n_cal = min(spec.calib_candidates, cfg.tables[split.key].rows)
    reqs = make_requests(cfg, spec.calib_requests, n_cal, seed=spec.calib_seed)
    idx = np.concatenate([r.indices for r in reqs])
    feats = gather(cfg, idx)
    y, trace = mlp_forward(cfg, feats, rank.weights, return_layers=True)
    hid = [trace.out[l].astype(np.float64) for l in range(depth)]

    kept = []
    for l, m in enumerate(widths):
        w_next = rank.weights[l + 1][0].astype(np.float64)
        imp = np.linalg.norm(w_next, axis=0) * hid[l].std(axis=0)
        top = np.lexsort((np.arange(imp.size), -imp))[:m]   # largest first, ties: lower n
        kept.append(np.sort(top))

    layers: Weights = []
    prev = np.arange(cfg.feature_len)
    for l, keep in enumerate(kept):
        w, b = rank.weights[l]
        wk = np.ascontiguousarray(w[np.ix_(keep, prev)]).astype(np.int16)
        bk = b[keep].astype(np.int64)
        if l > 0:
            dropped = np.setdiff1d(np.arange(w.shape[1]), prev)
            if dropped.size:
                mean_in = hid[l - 1][:, dropped].mean(axis=0)
                bk = bk + np.rint(w[np.ix_(keep, dropped)].astype(np.float64) @ mean_in).astype(np.int64)
        layers.append((wk, np.clip(bk, INT32_MIN, INT32_MAX).astype(np.int32)))
        prev = keep

    # the filter's own last hidden layer, bit-exact, with a placeholder output layer
    fcfg = replace(cfg, name=f"{base_name(cfg)}.filter{spec.label()}", mlp=list(widths) + [1])
    fcfg.validate()
    probe = layers + [(np.zeros((1, widths[-1]), np.int16), np.zeros(1, np.int32))]
    _, ftrace = mlp_forward(fcfg, feats, probe, return_layers=True)
    h = ftrace.out[depth - 1].astype(np.float64)

    groups = np.repeat(np.arange(len(reqs)), n_cal)
    hc = h - _group_mean(h, groups)
    yc = y.astype(np.float64) - _group_mean(y.astype(np.float64), groups)
    beta = np.linalg.lstsq(hc, yc, rcond=None)[0]
    scale = float(1 << cfg.frac_bits)
    w_out = np.clip(np.rint(beta * scale), INT16_MIN, INT16_MAX).astype(np.int16)[None, :]
    b_out = np.clip(np.rint((y.mean() - h.mean(axis=0) @ beta) * scale), INT32_MIN, INT32_MAX)
    layers.append((w_out, np.array([b_out], dtype=np.int32)))
    note = (f"layers 0..{depth - 1}: ranker neurons kept {list(widths)}; output layer least squares "
            f"on {len(reqs)} x {n_cal} calibration candidates")
    return RecModel(fcfg, layers, note)


def _group_mean(a: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row's group mean (rows of one request share a group)."""
    sums = np.zeros((groups.max() + 1,) + a.shape[1:])
    np.add.at(sums, groups, a)
    counts = np.bincount(groups).reshape((-1,) + (1,) * (a.ndim - 1))
    return (sums / counts)[groups]


def calib_settings(name: str) -> dict:
    """The filter calibration of ``load_filter`` for a built-in model (10.5): the defaults,
    except for the tiny catalog (600 items, fewer than the default 1024 candidates)."""
    return {"calib_requests": 4, "calib_candidates": 64} if name == "tiny" else {}


@lru_cache(maxsize=32)
def load_ranker(name: str = "microrec_small", decay: float = 0.0) -> RecModel:
    return ranker(name, decay)


@lru_cache(maxsize=64)
def load_filter(name: str = "microrec_small", widths: tuple[int, ...] = (256, 128, 128),
                decay: float = 0.0, calib_requests: int = 16,
                calib_candidates: int = 1024) -> RecModel:
    """The filter's ModelConfig and weights, derived deterministically from the ranker
    ``(name, decay)``; what a system bench loads next to ``load_ranker(name, decay)``."""
    return derive_filter(load_ranker(name, decay),
                         FilterSpec(tuple(widths), calib_requests, calib_candidates))


# --------------------------------------------------------------------------
# the pipeline
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class PipelineResult:
    ids: np.ndarray             # final candidate ids (positions in the request), best first
    scores: np.ndarray          # their ranker logits
    kept: np.ndarray            # stage-1 survivors, best first by the filter
    filter_scores: np.ndarray   # stage-1 logits of all N


def check_sizes(n: int, k_keep: int, top_k: int, k_max: int = K_MAX, n_max: int = N_MAX) -> None:
    """The request sizes a two-stage pipeline accepts (10.4); raises naming the field."""
    _check_int("n_max", n_max, 1, None)
    _check_int("k_max", k_max, 1, None)
    _check_int("n", n, 0, None)
    if n == 0:
        raise ConfigError("n: a request needs at least one candidate, got 0")
    if n > n_max:
        raise ConfigError(f"n: {n} candidates exceed n_max = {n_max}")
    for name, k in (("k_keep", k_keep), ("top_k", top_k)):
        _check_int(name, k, 1, None)
        if k > k_max:
            raise ConfigError(f"{name}: {k} exceeds k_max = {k_max}")
    if k_keep > n:
        raise ConfigError(f"k_keep: {k_keep} exceeds the request's N = {n}")
    if top_k > k_keep:
        raise ConfigError(f"top_k: {top_k} exceeds k_keep = {k_keep} (stage 2 ranks only the kept)")


def _request_indices(indices) -> np.ndarray:
    idx = np.asarray(indices.indices if isinstance(indices, Request) else indices)
    if idx.ndim != 2:
        raise ValueError(f"indices: expected [N, T] queries, got shape {idx.shape}")
    return idx


def pipeline(filt: RecModel, rank: RecModel, indices, k_keep: int, top_k: int,
             k_max: int = K_MAX, n_max: int = N_MAX) -> PipelineResult:
    """Stage 1: filter all N, keep the top k_keep; stage 2: rank them, return the top top_k."""
    idx = _request_indices(indices)
    check_sizes(idx.shape[0], k_keep, top_k, k_max, n_max)
    if filt.cfg.tables != rank.cfg.tables:
        raise ConfigError(f"filter: {filt.name!r} does not read the tables of {rank.name!r}")
    fscores = filt.logits(idx)
    kept, _ = topk(fscores, k_keep)
    ids, scores = topk(rank.logits(idx[kept]), top_k, ids=kept)
    return PipelineResult(ids, scores, kept, fscores)


def reference(rank: RecModel, indices, top_k: int, k_max: int = K_MAX,
              n_max: int = N_MAX) -> tuple[np.ndarray, np.ndarray]:
    """The ranker alone over all N: the reference top_k (ids, scores)."""
    idx = _request_indices(indices)
    check_sizes(idx.shape[0], top_k, top_k, k_max, n_max)
    return topk(rank.logits(idx), top_k)


# --------------------------------------------------------------------------
# quality and latency
# --------------------------------------------------------------------------
def recall_at(answer, ref) -> float:
    """|answer ∩ ref| / K, K = len(ref)."""
    a, r = _answer_ref(answer, ref)
    return len(set(a.tolist()) & set(r.tolist())) / r.size


def ndcg_at(answer, ref) -> float:
    """NDCG@K with relevance K - (0-based rank in ref) for ref members, 0 otherwise (10.4)."""
    a, r = _answer_ref(answer, ref)
    k = r.size
    rel = {int(c): k - j for j, c in enumerate(r)}
    disc = 1.0 / np.log2(np.arange(k) + 2.0)
    dcg = sum(rel.get(int(c), 0) * disc[j] for j, c in enumerate(a[:k]))
    ideal = sum((k - j) * disc[j] for j in range(k))
    return float(dcg / ideal)


def _answer_ref(answer, ref) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(answer, dtype=np.int64).ravel()
    r = np.asarray(ref, dtype=np.int64).ravel()
    if r.size == 0:
        raise ValueError("ref: the reference ranking is empty")
    if a.size != r.size:
        raise ValueError(f"answer: {a.size} ids, the reference has {r.size} (K)")
    if len(set(r.tolist())) != r.size:
        raise ValueError("ref: repeated candidate ids")
    return a, r


@dataclass
class QualityPoint:
    filter: str
    k_keep: int
    recall: float
    ndcg: float
    filter_cycles: int
    ranker_cycles: int
    latency: int          # N * filter_cycles + k_keep * ranker_cycles
    baseline: int         # N * ranker_cycles
    speedup: float
    recall_min: float = 0.0      # worst request
    single_recall: float = 0.0   # the ranker alone on as many candidates as this latency buys
    note: str = ""


@dataclass
class Evaluation:
    ranker: str
    n: int
    top_k: int
    requests: int
    P: int
    U: int
    points: list[QualityPoint] = field(default_factory=list)
    single_stage: list[dict] = field(default_factory=list)   # the ranker on the first m candidates

    def to_dict(self) -> dict:
        d = asdict(self)
        d["points"] = [asdict(p) for p in self.points]
        return d


def evaluate(rank: RecModel, filters: dict[str, RecModel], k_keeps, requests: list[Request],
             top_k: int = 10, P: int = 128, U: int = 24) -> Evaluation:
    """recall@top_k, NDCG@top_k and the latency estimate of every (filter, k_keep).

    Stage 2 reuses the ranker's logits on all N (inference is per query, so
    scoring the survivors alone gives the same numbers: tests check
    `pipeline` against this).
    """
    if not requests:
        raise ValueError("requests: empty")
    n = requests[0].n
    if any(r.n != n for r in requests):
        raise ValueError("requests: all must have the same N")
    ks = sorted({int(k) for k in k_keeps})
    for k in ks:
        check_sizes(n, k, top_k)
    rc = rank.cycles(P, U)
    ev = Evaluation(rank.name + (f" ({rank.note})" if rank.note else ""), n, top_k,
                    len(requests), P, U)
    r_scores = [rank.logits(r.indices) for r in requests]
    refs = [topk(s, top_k)[0] for s in r_scores]

    def single(m: int) -> float:
        """Mean recall of the ranker alone on the first m candidates (fewer than K: all of them)."""
        if m <= 0:
            return 0.0
        return float(np.mean([len(set(topk(s[:m], min(m, top_k))[0].tolist()) & set(ref.tolist()))
                              / top_k for s, ref in zip(r_scores, refs)]))

    for m in sorted({max(1, n * f // 32) for f in range(1, 33)}):
        ev.single_stage.append({"candidates": m, "latency": m * rc, "recall": single(m)})
    for label, filt in filters.items():
        fc = filt.cycles(P, U)
        f_scores = [filt.logits(r.indices) for r in requests]
        for k in ks:
            rec, nd = [], []
            for fs, rs, ref in zip(f_scores, r_scores, refs):
                kept, _ = topk(fs, k)
                ans, _ = topk(rs[kept], top_k, ids=kept)
                rec.append(recall_at(ans, ref))
                nd.append(ndcg_at(ans, ref))
            lat = n * fc + k * rc
            ev.points.append(QualityPoint(label, k, float(np.mean(rec)), float(np.mean(nd)), fc, rc,
                                          lat, n * rc, n * rc / lat, float(np.min(rec)),
                                          single(min(n, lat // rc)), filt.note))
    return ev


def best_points(ev: Evaluation, min_recall: float = 0.9) -> list[QualityPoint]:
    """Points at or above min_recall, fastest first."""
    return sorted((p for p in ev.points if p.recall >= min_recall), key=lambda p: p.latency)


def pareto(ev: Evaluation) -> list[QualityPoint]:
    """Points no other point beats on both latency and recall, by latency."""
    pts = sorted(ev.points, key=lambda p: (p.latency, -p.recall))
    out, best = [], -1.0
    for p in pts:
        if p.recall > best:
            out.append(p)
            best = p.recall
    return out


# --------------------------------------------------------------------------
# command line: the quality table
# --------------------------------------------------------------------------
DEFAULT_WIDTHS = {
    "microrec_small": [(128,), (256,), (128, 128), (256, 128), (128, 128, 128), (256, 128, 128)],
    "tiny": [(4,), (8,), (8, 4)],
}
DEFAULT_KEEPS = [16, 32, 48, 64, 96, 128, 192, 256]


def _format(ev: Evaluation) -> str:
    lines = [f"ranker {ev.ranker}: N = {ev.n}, top {ev.top_k}, {ev.requests} requests, "
             f"P x U = {ev.P} x {ev.U}, ranker alone {ev.points[0].baseline if ev.points else 0} cycles",
             f"{'filter':>14} {'cyc':>4} {'k':>4} {'recall':>7} {'min':>5} {'ndcg':>6} "
             f"{'latency':>8} {'speedup':>7} {'alone@lat':>9}"]
    for p in ev.points:
        lines.append(f"{p.filter:>14} {p.filter_cycles:>4} {p.k_keep:>4} {p.recall:>7.3f} "
                     f"{p.recall_min:>5.2f} {p.ndcg:>6.3f} {p.latency:>8} {p.speedup:>6.2f}x "
                     f"{p.single_recall:>9.3f}")
    best = best_points(ev)
    if best:
        b = best[0]
        lines.append(f"fastest at recall >= 0.9: filter {b.filter}, k {b.k_keep}: recall {b.recall:.3f}, "
                     f"NDCG {b.ndcg:.3f}, {b.speedup:.2f}x lower latency")
    else:
        top = max(ev.points, key=lambda p: p.recall)
        lines.append(f"no point reaches recall 0.9 (best {top.recall:.3f}: filter {top.filter}, "
                     f"k {top.k_keep}, {top.speedup:.2f}x)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="microrec_small")
    ap.add_argument("--decays", default="0,0.75,1", help="ranker importance decays (10.5)")
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--keeps", default=",".join(map(str, DEFAULT_KEEPS)))
    ap.add_argument("--widths", default=None, help="filters, e.g. 128,256x128 (default: a grid per model)")
    ap.add_argument("--P", type=int, default=128)
    ap.add_argument("--U", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1, help="evaluation requests (calibration uses its own)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--plot", type=Path, default=None, help="PNG of recall against latency")
    a = ap.parse_args(argv)
    cfg = builtin(a.model)
    n = min(a.n, cfg.tables[table_split(cfg).key].rows)
    keeps = [k for k in (int(v) for v in a.keeps.split(",")) if k <= n]
    reqs = make_requests(cfg, a.requests, n, seed=a.seed)
    results = []
    for decay in (float(v) for v in a.decays.split(",")):
        rank = load_ranker(a.model, decay)
        grid = ([tuple(int(v) for v in w.split("x")) for w in a.widths.split(",")] if a.widths
                else DEFAULT_WIDTHS.get(a.model, [(max(1, cfg.mlp[0] // 4),)]))
        filters = {"x".join(map(str, w)): load_filter(a.model, w, decay) for w in grid}
        ev = evaluate(rank, filters, keeps, reqs, a.top_k, a.P, a.U)
        results.append({"decay": decay, **ev.to_dict()})
        print(_format(ev), flush=True)
        print()
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(results, indent=1))
    if a.plot:
        _plot(results, a.plot)
    return 0


def _plot(results: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4), squeeze=False)
    for ax, res in zip(axes[0], results):
        ss = res["single_stage"]
        ax.plot([s["latency"] for s in ss], [s["recall"] for s in ss], "k--", label="ranker alone, first m")
        for label in dict.fromkeys(p["filter"] for p in res["points"]):
            pts = [p for p in res["points"] if p["filter"] == label]
            ax.plot([p["latency"] for p in pts], [p["recall"] for p in pts], "o-", label=f"filter {label}")
        ax.axhline(0.9, color="grey", lw=0.5)
        ax.axvline(res["points"][0]["baseline"] / 4, color="grey", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("MLP cycles per request")
        ax.set_ylabel(f"recall@{res['top_k']}")
        ax.set_title(f"decay {res['decay']}", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def _check_int(path: str, v, lo: int | None, hi: int | None) -> None:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise ConfigError(f"{path}: must be an integer, got {v!r}")
    if lo is not None and v < lo:
        raise ConfigError(f"{path}: must be >= {lo}, got {v}")
    if hi is not None and v > hi:
        raise ConfigError(f"{path}: must be <= {hi}, got {v}")


if __name__ == "__main__":
    raise SystemExit(main())
