"""Bit-exact DLRM-class inference (contracts.md section 9).

    bags --pool--> pooled [B, feature_len]    dense --bottom MLP--> x [B, bottom_out]
         (x, pooled) --interaction--> R [B, top_in] --top MLP--> int32 logit

Everything is int64 NumPy and must equal the RTL bit for bit; a query whose
bags break a rule is answered by an error record (logit 0) instead. The
float reference (`dlrm_float`) runs the same dequantized weights and rows
without intermediate rounding or saturation, in PyTorch (float64, DLRM's
own interaction code shape) when it is importable, else in NumPy float64;
it exists only to show the fixed-point error is small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import ModelConfig
from .fixed_point import INT16_MAX, INT16_MIN, round_shift, sat16
from .golden import (
    Trace,
    Weights,
    draw_weights,
    float_layers,
    mlp_weights,
    run_layers,
)
from .multihot import Bags
from .tables import table_rows

# Error codes of a query record (lookup_pkg::err_code_e; 6 and 7 are new in s.9.6).
ERR_NONE = 0
ERR_IDX_RANGE = 1
ERR_BAG_LEN = 6
ERR_PACKET = 7

BOTTOM_SALT = 0xB07B   # bottom-MLP weight stream tag (contracts s.9.5); the top's is 0x3A1F


@dataclass
class DlrmWeights:
    bottom: Weights   # per bottom layer (W int16 [out, in], b int32 [out])
    top: Weights      # per top layer, as golden.mlp_weights


def bottom_weights(cfg: ModelConfig) -> Weights:
    return draw_weights(cfg.seed, BOTTOM_SALT, cfg.frac_bits, cfg.bottom_layer_shapes)


def dlrm_weights(cfg: ModelConfig) -> DlrmWeights:
    return DlrmWeights(bottom_weights(cfg), mlp_weights(cfg))


def _check_weights(cfg: ModelConfig, weights) -> DlrmWeights:
    if weights is None:
        return dlrm_weights(cfg)
    if not isinstance(weights, DlrmWeights):
        if cfg.bottom_mlp:
            raise ValueError("weights: a config with a bottom MLP needs DlrmWeights")
        weights = DlrmWeights([], list(weights))
    for name, ws, shapes in (("bottom", weights.bottom, cfg.bottom_layer_shapes),
                             ("top", weights.top, cfg.layer_shapes)):
        if len(ws) != len(shapes):
            raise ValueError(f"weights.{name}: {len(ws)} layers, config has {len(shapes)}")
        for layer, ((w, b), (fan_in, fan_out)) in enumerate(zip(ws, shapes)):
            if np.shape(w) != (fan_out, fan_in) or np.shape(b) != (fan_out,):
                raise ValueError(f"weights.{name}[{layer}]: expected W {(fan_out, fan_in)} and "
                                 f"b {(fan_out,)}, got {np.shape(w)} and {np.shape(b)}")
    return weights


# ---- query checks (s.9.6) ----------------------------------------------------

@dataclass
class QueryErrors:
    """Per query the error record's code and table, and every failing table."""
    code: np.ndarray        # int64 [B]: ERR_NONE, ERR_BAG_LEN or ERR_IDX_RANGE
    table: np.ndarray       # int64 [B]: lowest logical table with that violation (0 if none)
    bag_len: np.ndarray     # bool [B, T]: bag longer than bag_max
    index: np.ndarray       # bool [B, T]: some index outside 0..rows-1

    @property
    def ok(self) -> np.ndarray:
        return self.code == ERR_NONE


def check_batch(cfg: ModelConfig, bags: Bags) -> None:
    """Shapes and dense range; a wrong batch is a caller error, not a query error."""
    if not isinstance(bags, Bags):
        raise TypeError(f"bags: expected models.multihot.Bags, got {type(bags).__name__}")
    if bags.num_tables != cfg.num_tables:
        raise ValueError(f"bags: {bags.num_tables} tables, config has {cfg.num_tables}")
    if bags.dense.shape[1] != cfg.dense:
        raise ValueError(f"bags.dense: {bags.dense.shape[1]} features, config has "
                         f"dense={cfg.dense}")
    if bags.dense.size and (bags.dense.min() < INT16_MIN or bags.dense.max() > INT16_MAX):
        raise ValueError("bags.dense: values outside int16")


def check_bags(cfg: ModelConfig, bags: Bags) -> QueryErrors:
    """ERR_BAG_LEN before ERR_IDX_RANGE; each names its lowest failing table."""
    check_batch(cfg, bags)
    b, n = bags.lengths.shape
    bag_max = np.array([t.bag_max for t in cfg.tables], dtype=np.int64)
    bad_len = bags.lengths > bag_max[None, :]
    bad_idx = np.zeros((b, n), dtype=bool)
    for t, tab in enumerate(cfg.tables):
        v = bags.values[t]
        if v.size:
            owner = np.repeat(np.arange(b), bags.lengths[:, t])
            bad = (v < 0) | (v >= tab.rows)
            bad_idx[owner[bad], t] = True
    code = np.full(b, ERR_NONE, dtype=np.int64)
    table = np.zeros(b, dtype=np.int64)
    for mask, c in ((bad_idx, ERR_IDX_RANGE), (bad_len, ERR_BAG_LEN)):   # later wins
        hit = mask.any(axis=1)
        code[hit] = c
        table[hit] = mask[hit].argmax(axis=1)
    return QueryErrors(code, table, bad_len, bad_idx)


# ---- the stages ---------------------------------------------------------------

def pool_sums(cfg: ModelConfig, bags: Bags, ok: np.ndarray | None = None) -> np.ndarray:
    """Exact per-table sums of each bag's rows: int64 [B, feature_len].

    Queries not `ok` get zeros (their indices may be out of range and are
    never read). Exact in int64 (|sum| <= 2^30).
    """
    b = bags.batch
    ok = np.ones(b, dtype=bool) if ok is None else ok
    out = np.zeros((b, cfg.feature_len), dtype=np.int64)
    for t, (tab, off) in enumerate(zip(cfg.tables, cfg.feature_offsets)):
        lens = np.where(ok, bags.lengths[:, t], 0)
        vals = bags.values[t][np.repeat(ok, bags.lengths[:, t])]
        if not vals.size:
            continue
        rows = table_rows(cfg.seed, t, vals, tab.dim, cfg.emb_shift)     # int16
        # reduceat sums from each start to the next; empty bags are left out
        # of the starts (their rows are none), so each segment is one bag
        full = lens > 0
        starts = (np.cumsum(lens) - lens)[full]
        out[full, off:off + tab.dim] = np.add.reduceat(rows, starts, axis=0, dtype=np.int64)
    return out


def pool(cfg: ModelConfig, sums: np.ndarray) -> np.ndarray:
    """sat16(sum) or sat16(round half up(sum >>> pool_shift)) per table (s.9.2)."""
    out = np.empty_like(sums)
    for tab, off in zip(cfg.tables, cfg.feature_offsets):
        s = sums[:, off:off + tab.dim]
        out[:, off:off + tab.dim] = sat16(round_shift(s, tab.pool_shift) if tab.pool_shift else s)
    return out


def bottom_forward(cfg: ModelConfig, dense: np.ndarray, weights: Weights,
                   trace: Trace | None = None) -> np.ndarray:
    """Bottom MLP: relu(sat16(round)) on every layer, the last included (s.9.3)."""
    if not cfg.bottom_mlp:
        return np.zeros((dense.shape[0], 0), dtype=np.int64)
    return run_layers(cfg, np.asarray(dense, np.int64), weights, trace, logit_last=False,
                      name="bottom layer")


def interaction_acc(cfg: ModelConfig, x: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    """Raw dot products T_i . T_j in DLRM's (li, lj) order: int64 [B, n(n+1)/2].

    Each is at most d * 2^30 <= 2^38 in magnitude and every partial sum is an
    integer, so float64 batched matmul computes them exactly.
    """
    b, d = x.shape[0], cfg.emb_dim
    tt = np.concatenate([x[:, None, :], pooled.reshape(b, cfg.num_tables, d)], axis=1)
    tf = tt.astype(np.float64)
    z = np.matmul(tf, tf.transpose(0, 2, 1)).astype(np.int64)
    li, lj = np.array(cfg.interaction_pairs, dtype=np.int64).T
    return z[:, li, lj]


def interact(cfg: ModelConfig, x: np.ndarray, pooled: np.ndarray):
    """(R [B, top_in], raw dot products or None) for the config's interaction (s.9.4)."""
    if cfg.interaction == "concat":
        return np.concatenate([x, pooled], axis=1), None
    acc = interaction_acc(cfg, x, pooled)
    lim = 1 << (cfg.acc_w - 1)
    if acc.size and (acc.min() < -lim or acc.max() >= lim):
        raise OverflowError(f"interaction: accumulator exceeds acc_w={cfg.acc_w}")
    z = sat16(round_shift(acc, cfg.frac_bits))
    return np.concatenate([x, z], axis=1), acc


# ---- the whole model ------------------------------------------------------------

@dataclass
class DlrmTrace:
    """Intermediates of one forward pass, for per-stage scoreboards."""
    pool_sum: np.ndarray                      # int64 [B, feature_len], exact sums
    pooled: np.ndarray                        # int64 [B, feature_len], after shift and sat16
    bottom: Trace                             # bottom MLP acc/out per layer
    interaction_acc: np.ndarray | None        # int64 [B, pairs] (dot only)
    r: np.ndarray                             # int64 [B, top_in], the top MLP's input
    top: Trace = field(default=None)          # top MLP acc/out per layer


@dataclass
class DlrmResult:
    logits: np.ndarray          # int64 [B], 0 for a query answered by an error record
    err: np.ndarray             # int64 [B], ERR_* code
    err_table: np.ndarray       # int64 [B]
    errors: QueryErrors
    trace: DlrmTrace | None = None


def dlrm_infer(cfg: ModelConfig, bags: Bags, weights: DlrmWeights | Weights | None = None,
               return_trace: bool = False) -> DlrmResult:
    """Bit-exact inference of a batch of multi-hot queries (contracts.md section 9)."""
    weights = _check_weights(cfg, weights)
    errs = check_bags(cfg, bags)
    sums = pool_sums(cfg, bags, errs.ok)
    pooled = pool(cfg, sums)
    bottom_trace = Trace(features=bags.dense.astype(np.int16))
    x = bottom_forward(cfg, bags.dense, weights.bottom, bottom_trace)
    r, acc = interact(cfg, x, pooled)
    top_trace = Trace(features=r.astype(np.int16))
    logits = run_layers(cfg, r, weights.top, top_trace)[:, 0].copy()
    logits[~errs.ok] = 0
    trace = DlrmTrace(sums, pooled, bottom_trace, acc, r, top_trace) if return_trace else None
    return DlrmResult(logits, errs.code.copy(), errs.table.copy(), errs, trace)


# ---- float reference ------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def float_backend() -> str:
    return "torch" if _torch() is not None else "numpy"


def _float_rows(cfg: ModelConfig, t: int, vals: np.ndarray) -> np.ndarray:
    tab = cfg.tables[t]
    return table_rows(cfg.seed, t, vals, tab.dim, cfg.emb_shift) / float(1 << cfg.frac_bits)


def dlrm_float(cfg: ModelConfig, bags: Bags, weights: DlrmWeights | Weights | None = None,
               backend: str = "auto") -> np.ndarray:
    """Real-valued logits [B] (NaN for queries with an error record).

    Mean pooling divides by 2^pool_shift as the integer rule does (s.9.2),
    so the difference to dlrm_infer / 2^F is quantization error only.
    """
    weights = _check_weights(cfg, weights)
    errs = check_bags(cfg, bags)
    if backend == "auto":
        backend = float_backend()
    if backend not in ("torch", "numpy"):
        raise ValueError(f"backend: must be 'auto', 'torch' or 'numpy', got {backend!r}")
    ok_bags = bags.select(np.nonzero(errs.ok)[0])
    fn = _float_torch if backend == "torch" else _float_numpy
    out = np.full(bags.batch, np.nan)
    if ok_bags.batch:
        out[errs.ok] = fn(cfg, ok_bags, weights)
    return out


def _float_numpy(cfg: ModelConfig, bags: Bags, weights: DlrmWeights) -> np.ndarray:
    b, f = bags.batch, cfg.frac_bits
    pooled = []
    for t, tab in enumerate(cfg.tables):
        o = bags.offsets(t)
        prefix = np.zeros((o[-1] + 1, tab.dim))
        if o[-1]:
            np.cumsum(_float_rows(cfg, t, bags.values[t]), axis=0, out=prefix[1:])
        pooled.append((prefix[o[1:]] - prefix[o[:-1]]) / float(1 << tab.pool_shift))
    x = bags.dense / float(1 << f)
    x = float_layers(cfg, x, weights.bottom, logit_last=False) if cfg.bottom_mlp \
        else np.zeros((b, 0))
    if cfg.interaction == "dot":
        tt = np.stack([x] + pooled, axis=1)
        z = np.matmul(tt, tt.transpose(0, 2, 1))
        li, lj = np.array(cfg.interaction_pairs).T
        r = np.concatenate([x, z[:, li, lj]], axis=1)
    else:
        r = np.concatenate([x] + pooled, axis=1)
    return float_layers(cfg, r, weights.top)[:, 0]


def _float_torch(cfg: ModelConfig, bags: Bags, weights: DlrmWeights) -> np.ndarray:
    """The same in torch float64, shaped as dlrm_s_pytorch.py (EmbeddingBag, bmm, li/lj)."""
    torch = _torch()
    tf = torch.float64
    b, f = bags.batch, cfg.frac_bits

    def mlp(x, ws, logit_last):
        for layer, (w, bias) in enumerate(ws):
            w_t = torch.tensor(np.asarray(w, np.float64) / (1 << f), dtype=tf)
            b_t = torch.tensor(np.asarray(bias, np.float64) / (1 << (2 * f)), dtype=tf)
            x = x @ w_t.T + b_t
            if not (logit_last and layer == len(ws) - 1):
                x = torch.relu(x)
        return x

    ly = []
    for t, tab in enumerate(cfg.tables):
        o = bags.offsets(t)
        if not o[-1]:
            ly.append(torch.zeros((b, tab.dim), dtype=tf))
            continue
        uniq, local = np.unique(bags.values[t], return_inverse=True)
        weight = torch.tensor(_float_rows(cfg, t, uniq), dtype=tf)
        v = torch.nn.functional.embedding_bag(torch.tensor(local.reshape(-1), dtype=torch.long),
                                              weight, torch.tensor(o[:-1], dtype=torch.long),
                                              mode="sum")
        ly.append(v / float(1 << tab.pool_shift))
    x = torch.tensor(bags.dense / float(1 << f), dtype=tf)
    x = mlp(x, weights.bottom, False) if cfg.bottom_mlp else torch.zeros((b, 0), dtype=tf)
    if cfg.interaction == "dot":
        d = cfg.emb_dim
        tt = torch.cat([x] + ly, dim=1).view((b, -1, d))
        z = torch.bmm(tt, torch.transpose(tt, 1, 2))
        _, ni, nj = z.shape
        li = torch.tensor([i for i in range(ni) for j in range(i)])
        lj = torch.tensor([j for i in range(nj) for j in range(i)])
        r = torch.cat([x, z[:, li, lj]], dim=1)
    else:
        r = torch.cat([x] + ly, dim=1)
    return mlp(r, weights.top, True)[:, 0].numpy()
