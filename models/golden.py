"""The golden inference: gather, concatenate, fixed-point MLP (design.md section 3).

The int64 path is the bit-exact reference for the RTL. The float64 path runs
the same dequantized weights and inputs without intermediate rounding; it
exists only to show that the fixed-point error is small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import ModelConfig
from .fixed_point import INT16_MAX, INT16_MIN, INT32_MAX, INT32_MIN, requant_hidden, requant_logit
from .tables import table_rows

WEIGHT_SALT = 0x3A1F
BIAS_STD = 0.05

Weights = list[tuple[np.ndarray, np.ndarray]]


@dataclass
class Trace:
    """Intermediates of one forward pass, for per-layer scoreboards."""
    features: np.ndarray                                  # int16 [B, feature_len]
    acc: list[np.ndarray] = field(default_factory=list)   # int64 [B, out], before requant
    out: list[np.ndarray] = field(default_factory=list)   # int64 [B, out], after requant


def draw_weights(seed: int, salt: int, frac_bits: int,
                 shapes: list[tuple[int, int]]) -> Weights:
    """The weight rule of contracts.md section 2 for any stream tag `salt`.

    One generator per layer, seeded [seed, salt, layer]; W is drawn first
    (row-major, shape (out, in), std 1/sqrt(fan_in)), then b (std 0.05).
    """
    f = frac_bits
    weights = []
    for layer, (fan_in, fan_out) in enumerate(shapes):
        rng = np.random.default_rng([seed, salt, layer])
        w = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=(fan_out, fan_in))
        b = rng.normal(0.0, BIAS_STD, size=fan_out)
        wq = np.clip(np.rint(w * (1 << f)), INT16_MIN, INT16_MAX).astype(np.int16)
        bq = np.clip(np.rint(b * (1 << (2 * f))), INT32_MIN, INT32_MAX).astype(np.int32)
        weights.append((wq, bq))
    return weights


def mlp_weights(cfg: ModelConfig) -> Weights:
    """Top-MLP layers (W int16 [out, in], b int32 [out]): stream tag 0x3A1F (section 2)."""
    return draw_weights(cfg.seed, WEIGHT_SALT, cfg.frac_bits, cfg.layer_shapes)


def require_microrec(cfg: ModelConfig, what: str) -> None:
    """golden_infer and float_infer run one index per table, concatenated (section 9.1)."""
    if cfg.microrec_compatible:
        return
    for fld, bad in (("dense", cfg.dense != 0), ("bottom_mlp", bool(cfg.bottom_mlp)),
                     ("interaction", cfg.interaction != "concat")):
        if bad:
            break
    else:
        fld = "tables[].pool_shift"
    raise ValueError(f"{fld}: {cfg.name!r} is a DLRM-class config; {what} runs MicroRec-"
                     f"compatible configs only, use models.dlrm.dlrm_infer")


def check_indices(cfg: ModelConfig, indices) -> np.ndarray:
    """indices as int64 [B, T], or an error naming the query, table and index."""
    idx = np.asarray(indices)
    if idx.ndim != 2 or idx.shape[1] != cfg.num_tables:
        raise ValueError(f"indices: expected shape [B, {cfg.num_tables}], got {idx.shape}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices: must be integers, got dtype {idx.dtype}")
    idx = idx.astype(np.int64)
    rows = np.array([t.rows for t in cfg.tables], dtype=np.int64)
    bad = (idx < 0) | (idx >= rows[None, :])
    if bad.any():
        q, t = (int(v[0]) for v in np.nonzero(bad))
        raise IndexError(f"query {q}, table {t} ({cfg.tables[t].name!r}): index "
                         f"{int(idx[q, t])} outside 0..{rows[t] - 1}")
    return idx


def gather(cfg: ModelConfig, indices) -> np.ndarray:
    """Looked-up rows concatenated in table order: int16 [B, feature_len]."""
    idx = check_indices(cfg, indices)
    feats = np.empty((idx.shape[0], cfg.feature_len), dtype=np.int16)
    for t, (tab, off) in enumerate(zip(cfg.tables, cfg.feature_offsets)):
        feats[:, off:off + tab.dim] = table_rows(cfg.seed, t, idx[:, t], tab.dim, cfg.emb_shift)
    return feats


def _check_weights(cfg: ModelConfig, weights: Weights | None) -> Weights:
    if weights is None:
        return mlp_weights(cfg)
    if len(weights) != len(cfg.layer_shapes):
        raise ValueError(f"weights: {len(weights)} layers, config has {len(cfg.layer_shapes)}")
    for layer, ((w, b), (fan_in, fan_out)) in enumerate(zip(weights, cfg.layer_shapes)):
        if np.shape(w) != (fan_out, fan_in) or np.shape(b) != (fan_out,):
            raise ValueError(f"weights[{layer}]: expected W {(fan_out, fan_in)} and b "
                             f"{(fan_out,)}, got {np.shape(w)} and {np.shape(b)}")
    return weights


def _check_features(cfg: ModelConfig, features) -> np.ndarray:
    """The top MLP's input R: int16 [B, top_in] (= the gathered features for MicroRec)."""
    x = np.asarray(features)
    if x.ndim != 2 or x.shape[1] != cfg.top_in:
        raise ValueError(f"features: expected shape [B, {cfg.top_in}], got {x.shape}")
    if x.dtype.kind not in "iu":
        raise TypeError(f"features: must be integers, got dtype {x.dtype}")
    if x.size and (x.min() < INT16_MIN or x.max() > INT16_MAX):
        raise ValueError("features: values outside int16")
    return x.astype(np.int64)


def _exact_matmul(x: np.ndarray, w) -> np.ndarray:
    """x [B, in] int @ W.T -> int64, exactly, through float64 BLAS.

    Every product is at most 2^30 and fan-in at most 2^16 (config
    validation), so every partial sum is an integer below 2^47 < 2^53 and
    float64 represents it exactly whatever order BLAS sums in. About 10x
    faster than NumPy's int64 matmul, which has no BLAS path.
    """
    w = np.asarray(w)
    if w.shape[1] > 1 << 22:  # keep the 2^53 argument true even outside config validation
        return np.asarray(x, dtype=np.int64) @ w.astype(np.int64).T
    return (np.asarray(x, dtype=np.float64) @ w.astype(np.float64).T).astype(np.int64)


def run_layers(cfg: ModelConfig, x, weights: Weights, trace: Trace | None = None,
               logit_last: bool = True, name: str = "layer") -> np.ndarray:
    """Fixed-point layers on int64 x [B, in]: hidden relu(sat16), last sat32 unless
    `logit_last` is False (the bottom MLP: ReLU on every layer, section 9.3)."""
    f = cfg.frac_bits
    acc_lim = 1 << (cfg.acc_w - 1)
    last = len(weights) - 1
    for layer, (w, b) in enumerate(weights):
        acc = _exact_matmul(x, w) + np.asarray(b, dtype=np.int64)
        if acc.size and (acc.min() < -acc_lim or acc.max() >= acc_lim):
            # Config validation makes this impossible for int16 x int16 + int32.
            raise OverflowError(f"{name} {layer}: accumulator exceeds acc_w={cfg.acc_w}")
        x = requant_logit(acc, f) if (logit_last and layer == last) else requant_hidden(acc, f)
        if trace is not None:
            trace.acc.append(acc)
            trace.out.append(x)
    return x


def mlp_forward(cfg: ModelConfig, features, weights: Weights | None = None,
                return_layers: bool = False):
    """Bit-exact top MLP on int16 features [B, top_in] -> int64 logits [B].

    With return_layers, returns (logits, Trace).
    """
    x = _check_features(cfg, features)
    weights = _check_weights(cfg, weights)
    trace = Trace(features=x.astype(np.int16))
    x = run_layers(cfg, x, weights, trace if return_layers else None)
    logits = x[:, 0]
    return (logits, trace) if return_layers else logits


def golden_infer(cfg: ModelConfig, indices, weights: Weights | None = None,
                 return_layers: bool = False):
    """Bit-exact inference of queries `indices` [B, T] -> int64 logits [B] (2^-F units)."""
    require_microrec(cfg, "golden_infer")
    return mlp_forward(cfg, gather(cfg, indices), weights, return_layers)


def float_layers(cfg: ModelConfig, x: np.ndarray, weights: Weights,
                 logit_last: bool = True) -> np.ndarray:
    """Float64 layers on real-valued x with dequantized weights, no rounding."""
    last = len(weights) - 1
    for layer, (w, b) in enumerate(weights):
        z = x @ (np.asarray(w, np.float64).T / (1 << cfg.frac_bits)) \
            + np.asarray(b, np.float64) / (1 << (2 * cfg.frac_bits))
        x = z if (logit_last and layer == last) else np.maximum(z, 0.0)
    return x


def float_forward(cfg: ModelConfig, features, weights: Weights | None = None) -> np.ndarray:
    """Float64 MLP on dequantized features and weights -> real-valued logits [B]."""
    x = _check_features(cfg, features) / float(1 << cfg.frac_bits)
    return float_layers(cfg, x, _check_weights(cfg, weights))[:, 0]


def float_infer(cfg: ModelConfig, indices, weights: Weights | None = None) -> np.ndarray:
    """Float reference of `golden_infer`: compare with golden logits / 2^F."""
    require_microrec(cfg, "float_infer")
    return float_forward(cfg, gather(cfg, indices), weights)
