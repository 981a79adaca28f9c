"""INT8 layers, 2:4 weight sparsity and zero-skip figures (contracts.md section 8).

`quantize` turns a model config into a `QuantModel`: a precision (int16 or
int8), a shift and an output format per layer, the weights as the engine
stores them, and the int8 input shift. It is the only source of scales, so
the host and the golden model cannot disagree. `golden_infer_q` is the
bit-exact integer inference of such a model (int64 NumPy); with every layer
int16 and dense it equals `models.golden.golden_infer` bit for bit.

`fidelity` measures how far a quantized or pruned model's logits are from
the int16 and float models; `zero_fractions`, `skip_beats` and `mlp_cycles`
are a performance model of zero-skipping (section 8.7), not part of the
numeric contract. `python -m models.quant_report` prints both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from . import fixed_point
from .config import ConfigError, ModelConfig, min_acc_w
from .fixed_point import INT8_MAX, INT8_MIN, INT16_MAX, INT16_MIN, INT32_MAX, INT32_MIN, sat8
from .golden import Weights, _check_features, _exact_matmul, float_infer, gather, mlp_forward, mlp_weights
from .queries import uniform_queries

PRECISIONS = ("int16", "int8")
MIXED = "mixed"     # the named per-layer stack of mixed_precisions()
SPARSITIES = (None, "2:4")
MAX_SHIFT = fixed_point.MAX_SHIFT   # 4-bit cfg_shift and input_shift fields
MAX_W_FRAC = 15
CALIB_SEED = 0xCA1B
CALIB_QUERIES = 256
FIDELITY_SEED = 0xF1DE
GROUP = 4          # 2:4: at most KEEP non-zero weights in every GROUP inputs
KEEP = 2


def min_acc_w_int8(fan_in: int) -> int:
    """Narrowest accumulator for an int8 layer: 15 + ceil(log2(fan_in + 2^17)).

    |acc| <= fan_in * 2^14 (every product (-128)^2) + 2^31 (largest bias),
    which a signed W-bit word holds when fan_in + 2^17 <= 2^(W - 15).
    """
    return 15 + (int(fan_in) + (1 << 17) - 1).bit_length()


@dataclass(frozen=True)
class LayerPrecision:
    """One layer as the engine runs it (contracts.md s.8.1).

    `in_frac` / `w_frac` are the fractional bits of the input activations and
    weights (both F for int16); the engine sees only `precision` and `shift`.
    """
    precision: str
    in_frac: int
    w_frac: int
    shift: int
    out_bits: int
    relu: bool
    sparsity: str | None = None

    @property
    def acc_frac(self) -> int:
        return self.in_frac + self.w_frac

    @property
    def out_frac(self) -> int:
        return self.acc_frac - self.shift

    @property
    def w_bits(self) -> int:
        return 8 if self.precision == "int8" else 16


@dataclass
class QTrace:
    """Intermediates of one forward pass: per layer the input as stored, acc, output."""
    features: np.ndarray                                      # int16 [B, feature_len]
    inputs: list[np.ndarray] = field(default_factory=list)    # int64 [B, in], what layer l reads
    acc: list[np.ndarray] = field(default_factory=list)       # int64 [B, out]
    out: list[np.ndarray] = field(default_factory=list)       # int64 [B, out], after requant


@dataclass
class QuantModel:
    """A model config with a precision, shift and weights per layer; validated on creation."""
    cfg: ModelConfig
    layers: list[LayerPrecision]
    weights: Weights                 # W int8/int16 [out, in], b int32 [out], per layer
    input_shift: int = 0             # q: int16 features -> int8 when layer 0 is int8

    def __post_init__(self) -> None:
        self.layers = list(self.layers)
        self.weights = list(self.weights)
        self.validate()

    @property
    def precisions(self) -> list[str]:
        return [lp.precision for lp in self.layers]

    @property
    def sparsities(self) -> list[str | None]:
        return [lp.sparsity for lp in self.layers]

    @property
    def shifts(self) -> list[int]:
        return [lp.shift for lp in self.layers]

    def describe(self) -> dict:
        """The per-layer settings (no weights), for result files and reports."""
        return {"model": self.cfg.name, "frac_bits": self.cfg.frac_bits,
                "input_shift": self.input_shift,
                "layers": [{"precision": lp.precision, "sparsity": lp.sparsity,
                            "in_frac": lp.in_frac, "w_frac": lp.w_frac,
                            "shift": lp.shift, "out_bits": lp.out_bits, "relu": lp.relu}
                           for lp in self.layers]}

    def validate(self) -> None:
        cfg = self.cfg
        f = cfg.frac_bits
        shapes = cfg.layer_shapes
        n = len(shapes)
        if len(self.layers) != n:
            raise ConfigError(f"layers: {len(self.layers)} entries, config has {n} layers")
        if len(self.weights) != n:
            raise ConfigError(f"weights: {len(self.weights)} layers, config has {n}")
        for l, lp in enumerate(self.layers):
            p = f"layers[{l}]"
            if not isinstance(lp, LayerPrecision):
                raise ConfigError(f"{p}: must be a LayerPrecision, got {type(lp).__name__}")
            if lp.precision not in PRECISIONS:
                raise ConfigError(f"{p}.precision: must be one of {PRECISIONS}, got {lp.precision!r}")
            if lp.sparsity not in SPARSITIES:
                raise ConfigError(f"{p}.sparsity: must be one of {SPARSITIES}, got {lp.sparsity!r}")
            for name in ("in_frac", "w_frac", "shift", "out_bits"):
                v = getattr(lp, name)
                if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                    raise ConfigError(f"{p}.{name}: must be an integer, got {v!r}")
            if lp.precision == "int16":
                for name in ("in_frac", "w_frac"):
                    if getattr(lp, name) != f:
                        raise ConfigError(f"{p}.{name}: an int16 layer uses F = {f}, "
                                          f"got {getattr(lp, name)}")
            else:
                if not 0 <= lp.in_frac <= f:
                    raise ConfigError(f"{p}.in_frac: must be in 0..{f} (F), got {lp.in_frac}")
                if not 0 <= lp.w_frac <= MAX_W_FRAC:
                    raise ConfigError(f"{p}.w_frac: must be in 0..{MAX_W_FRAC}, got {lp.w_frac}")
            last = l == n - 1
            if last:
                want_bits, want_frac = 32, f
            elif self.layers[l + 1].precision == "int8":
                want_bits, want_frac = 8, self.layers[l + 1].in_frac
            else:
                want_bits, want_frac = 16, f
            want_shift = lp.acc_frac - want_frac
            if not 0 <= want_shift <= MAX_SHIFT:
                raise ConfigError(f"{p}.shift: frac(acc) {lp.acc_frac} - frac(out) {want_frac} = "
                                  f"{want_shift} is outside 0..{MAX_SHIFT}")
            if lp.shift != want_shift:
                raise ConfigError(f"{p}.shift: must be frac(acc) {lp.acc_frac} - frac(out) "
                                  f"{want_frac} = {want_shift}, got {lp.shift}")
            if lp.out_bits != want_bits:
                raise ConfigError(f"{p}.out_bits: must be {want_bits} "
                                  f"({'last layer' if last else 'next layer ' + self.layers[l + 1].precision}), "
                                  f"got {lp.out_bits}")
            if lp.relu != (not last):
                raise ConfigError(f"{p}.relu: must be {not last} ({'last' if last else 'hidden'} layer)")
            fan_in, _ = shapes[l]
            need = min_acc_w(fan_in) if lp.precision == "int16" else min_acc_w_int8(fan_in)
            if cfg.acc_w < need:
                raise ConfigError(f"acc_w: layer {l} ({lp.precision}, fan-in {fan_in}) needs "
                                  f">= {need}, got {cfg.acc_w}")
        q = self.input_shift
        if isinstance(q, bool) or not isinstance(q, (int, np.integer)):
            raise ConfigError(f"input_shift: must be an integer, got {q!r}")
        want_q = f - self.layers[0].in_frac if self.layers[0].precision == "int8" else 0
        if q != want_q:
            raise ConfigError(f"input_shift: must be {want_q} (F - layers[0].in_frac when layer 0 "
                              f"is int8, else 0), got {q}")
        for l, ((w, b), lp, (fan_in, fan_out)) in enumerate(zip(self.weights, self.layers, shapes)):
            p = f"weights[{l}]"
            if np.shape(w) != (fan_out, fan_in) or np.shape(b) != (fan_out,):
                raise ConfigError(f"{p}: expected W {(fan_out, fan_in)} and b {(fan_out,)}, "
                                  f"got {np.shape(w)} and {np.shape(b)}")
            w, b = np.asarray(w), np.asarray(b)
            if w.dtype.kind not in "iu" or b.dtype.kind not in "iu":
                raise ConfigError(f"{p}: weights and bias must be integers, got {w.dtype}, {b.dtype}")
            lo, hi = (INT8_MIN, INT8_MAX) if lp.precision == "int8" else (INT16_MIN, INT16_MAX)
            if w.size and (w.min() < lo or w.max() > hi):
                raise ConfigError(f"{p}: W outside the {lp.precision} range {lo}..{hi}")
            if b.size and (b.min() < INT32_MIN or b.max() > INT32_MAX):
                raise ConfigError(f"{p}: bias outside int32")
            if lp.sparsity == "2:4":
                check_2_4(w, p)


# ---- 2:4 structured sparsity (contracts.md s.8.5) ----------------------------

def _groups(w: np.ndarray) -> np.ndarray:
    """W [out, in] -> [out, G, 4] with the fan-in zero-padded to a multiple of 4."""
    w = np.asarray(w, dtype=np.int64)
    out, fan_in = w.shape
    g = -(-fan_in // GROUP)
    pad = np.zeros((out, g * GROUP), dtype=np.int64)
    pad[:, :fan_in] = w
    return pad.reshape(out, g, GROUP)


def _keep_positions(groups: np.ndarray) -> np.ndarray:
    """Per group the KEEP positions with the largest |w|, ties -> lower position, ascending."""
    order = np.argsort(-np.abs(groups), axis=2, kind="stable")   # stable: lower position first
    return np.sort(order[:, :, :KEEP], axis=2)


def prune_2_4(w) -> np.ndarray:
    """Keep the 2 largest |w| of every 4 consecutive inputs of each row (int64 [out, in])."""
    w = np.asarray(w)
    groups = _groups(w)
    mask = np.zeros(groups.shape, dtype=bool)
    np.put_along_axis(mask, _keep_positions(groups), True, axis=2)
    return np.where(mask, groups, 0).reshape(w.shape[0], -1)[:, :w.shape[1]]


def check_2_4(w, where: str = "weights") -> None:
    """Raise ConfigError naming the neuron and group when a group has > 2 non-zeros."""
    nnz = np.count_nonzero(_groups(w), axis=2)
    bad = np.argwhere(nnz > KEEP)
    if bad.size:
        n, g = (int(v) for v in bad[0])
        raise ConfigError(f"{where}: neuron {n} group {g} (inputs {GROUP * g}..{GROUP * g + 3}) "
                          f"has {int(nnz[n, g])} non-zero weights, 2:4 allows {KEEP}")


def compress_2_4(w) -> tuple[np.ndarray, np.ndarray]:
    """Compressed 2:4 storage: (values int64 [out, G, 2], positions uint8 [out, G, 2]), i0 < i1."""
    check_2_4(w)
    groups = _groups(w)
    pos = _keep_positions(groups)
    return np.take_along_axis(groups, pos, axis=2), pos.astype(np.uint8)


def decompress_2_4(values, positions, fan_in: int) -> np.ndarray:
    """Inverse of compress_2_4: int64 [out, fan_in]."""
    values = np.asarray(values, dtype=np.int64)
    out, g, _ = values.shape
    groups = np.zeros((out, g, GROUP), dtype=np.int64)
    np.put_along_axis(groups, np.asarray(positions, dtype=np.int64), values, axis=2)
    return groups.reshape(out, -1)[:, :fan_in]


# ---- quantization (contracts.md s.8.3) ----------------------------------------

def mixed_precisions(n_layers: int) -> list[str]:
    """The one meaning of precision "mixed" (host, `make sim PRECISION=mixed`, the fidelity
    report): layer 0 int16, every later layer int8. Layer 0 takes the embedding rows, which
    are int16 with F fractional bits: keeping it int16 leaves them exact, and its fan-in is
    the widest of the stack, so it is where an int8 input rounding costs most."""
    if n_layers < 1:
        raise ValueError(f"n_layers: {n_layers} < 1")
    return ["int16"] + ["int8"] * (n_layers - 1)


def _per_layer(value, n: int, name: str, allowed: tuple) -> list:
    if isinstance(value, (list, tuple)):
        vals = list(value)
        if len(vals) != n:
            raise ConfigError(f"{name}: {len(vals)} entries, model has {n} layers")
    else:
        vals = [value] * n
    for l, v in enumerate(vals):
        if v not in allowed:
            raise ConfigError(f"{name}[{l}]: must be one of {allowed}, got {v!r}")
    return vals


def choose_w_frac(w16, frac_bits: int) -> int | None:
    """Largest f in 0..15 with max |rint(W16 * 2^(f-F))| <= 127, or None."""
    m = float(np.abs(np.asarray(w16, dtype=np.int64)).max(initial=0))
    for f in range(MAX_W_FRAC, -1, -1):
        if np.rint(np.ldexp(m, f - frac_bits)) <= INT8_MAX:
            return f
    return None


def int8_error(a16, frac_bits: int, f: int) -> int:
    """E(f): exact sum of squared errors (units 2^-F) of storing int16 values in int8 with f bits."""
    a = np.asarray(a16, dtype=np.int64)
    a = a.reshape(a.shape[0], -1) if a.ndim > 1 else a.reshape(1, -1)
    k = frac_bits - f
    e = (sat8(fixed_point.round_shift_q(a, k)) << k) - a
    # |e| < 2^22, rows of at most 2^16 values: each row sum fits int64; add rows as Python ints
    return sum(int(v) for v in (e * e).sum(axis=1))


def choose_in_frac(a16, frac_bits: int, candidates: Sequence[int]) -> int | None:
    """The candidate with the smallest int8_error, ties -> the larger f; None if no candidate."""
    best, best_err = None, None
    for f in sorted(candidates, reverse=True):
        err = int8_error(a16, frac_bits, f)
        if best_err is None or err < best_err:
            best, best_err = f, err
    return best


def _shift_ok(s: int) -> bool:
    return 0 <= s <= MAX_SHIFT


def feasible_in_fracs(precisions: Sequence[str], fw: dict[int, int], f: int) -> dict[int, list[int]]:
    """Per int8 layer, the fa in 0..F for which the later layers still have a choice
    keeping every shift in 0..15 (computed from the last layer down).

    fa = F for every int8 layer always qualifies (shifts F, w_frac or 0), so
    no list is empty.
    """
    n = len(precisions)
    feas: dict[int, list[int]] = {}
    for l in reversed(range(n)):
        if precisions[l] != "int8":
            continue
        ok = []
        for c in range(f + 1):
            if l == 0 and not _shift_ok(f - c):                       # input_shift q
                continue
            if l > 0 and precisions[l - 1] == "int16" and not _shift_ok(2 * f - c):
                continue
            if l == n - 1 or precisions[l + 1] == "int16":
                if not _shift_ok(c + fw[l] - f):
                    continue
            elif not any(_shift_ok(c + fw[l] - c2) for c2 in feas[l + 1]):
                continue
            ok.append(c)
        feas[l] = ok
    return feas


def calibration_inputs(cfg: ModelConfig, weights16: Weights,
                       n: int = CALIB_QUERIES, seed: int = CALIB_SEED) -> list[np.ndarray]:
    """Per layer, the int16 values entering it in the int16 model on the calibration set."""
    feats = gather(cfg, uniform_queries(cfg, n, seed=seed))
    _, trace = mlp_forward(cfg, feats, weights16, return_layers=True)
    return [trace.features.astype(np.int64)] + trace.out[:-1]


def quantize(cfg: ModelConfig, precision="int8", sparsity=None,
             weights: Weights | None = None) -> QuantModel:
    """The model of contracts.md s.8.3: precision and sparsity, model-wide or a list per layer.

    `weights` (int16, as section 2) replaces the procedural ones, for tests.
    """
    f = cfg.frac_bits
    n = len(cfg.layer_shapes)
    precisions = _per_layer(precision, n, "precision", PRECISIONS)
    sparsities = _per_layer(sparsity, n, "sparsity", SPARSITIES)
    src = mlp_weights(cfg) if weights is None else weights
    if len(src) != n:
        raise ConfigError(f"weights: {len(src)} layers, config has {n}")
    w16 = []
    for l, ((w, b), sp) in enumerate(zip(src, sparsities)):
        w = np.asarray(w, dtype=np.int64)
        if w.size and (w.min() < INT16_MIN or w.max() > INT16_MAX):
            raise ConfigError(f"weights[{l}]: W outside int16")
        w16.append((prune_2_4(w) if sp == "2:4" else w, np.asarray(b, dtype=np.int64)))

    fw: dict[int, int] = {}
    for l, p in enumerate(precisions):
        if p == "int8":
            got = choose_w_frac(w16[l][0], f)
            if got is None:
                raise ConfigError(f"layers[{l}].w_frac: no scale in 0..{MAX_W_FRAC} holds "
                                  f"max |W| = {np.abs(w16[l][0]).max()} / 2^{f} in int8")
            fw[l] = got
    fa: dict[int, int] = {}
    if fw:
        calib = calibration_inputs(cfg, [(w.astype(np.int16), b.astype(np.int32)) for w, b in w16])
        feas = feasible_in_fracs(precisions, fw, f)
        for l, p in enumerate(precisions):
            if p != "int8":
                continue
            cands = [c for c in feas[l] if l == 0 or precisions[l - 1] == "int16"
                     or _shift_ok(fa[l - 1] + fw[l - 1] - c)]
            # fa[l-1] was picked from feas[l-1], which promises a candidate here
            assert cands, f"layers[{l}].in_frac: no feasible scale (cannot happen, see feasible_in_fracs)"
            fa[l] = choose_in_frac(calib[l], f, cands)

    layers, qweights = [], []
    for l, p in enumerate(precisions):
        in_frac, w_frac = (fa[l], fw[l]) if p == "int8" else (f, f)
        last = l == n - 1
        if last:
            out_bits, out_frac = 32, f
        elif precisions[l + 1] == "int8":
            out_bits, out_frac = 8, fa[l + 1]
        else:
            out_bits, out_frac = 16, f
        layers.append(LayerPrecision(p, in_frac, w_frac, in_frac + w_frac - out_frac,
                                     out_bits, not last, sparsities[l]))
        w, b = w16[l]
        if p == "int8":
            w8 = np.rint(np.ldexp(w.astype(np.float64), w_frac - f)).astype(np.int64)
            b8 = fixed_point.sat32(np.rint(np.ldexp(b.astype(np.float64), in_frac + w_frac - 2 * f))
                                   .astype(np.int64))
            qweights.append((w8.astype(np.int8), b8.astype(np.int32)))
        else:
            qweights.append((w.astype(np.int16), b.astype(np.int32)))
    q = f - fa[0] if precisions[0] == "int8" else 0
    return QuantModel(cfg, layers, qweights, q)


# ---- bit-exact inference (contracts.md s.8.1) -----------------------------------

def qforward(qmodel: QuantModel, features, return_layers: bool = False):
    """Bit-exact MLP of `qmodel` on int16 features [B, feature_len] -> int64 logits [B]."""
    cfg = qmodel.cfg
    x = _check_features(cfg, features)
    trace = QTrace(features=x.astype(np.int16))
    if qmodel.layers[0].precision == "int8":
        x = sat8(fixed_point.round_shift_q(x, qmodel.input_shift))
    acc_lim = 1 << (cfg.acc_w - 1)
    for l, (lp, (w, b)) in enumerate(zip(qmodel.layers, qmodel.weights)):
        acc = _exact_matmul(x, w) + np.asarray(b, dtype=np.int64)
        if acc.size and (acc.min() < -acc_lim or acc.max() >= acc_lim):
            # validate() bounds acc_w, so only hand-built weights outside the ranges get here
            raise OverflowError(f"layer {l}: accumulator exceeds acc_w={cfg.acc_w}")
        y = fixed_point.requant_q(acc, lp.shift, lp.out_bits, lp.relu)
        if return_layers:
            trace.inputs.append(x)
            trace.acc.append(acc)
            trace.out.append(y)
        x = y
    logits = x[:, 0]
    return (logits, trace) if return_layers else logits


def golden_infer_q(cfg: ModelConfig, indices, qmodel: QuantModel, return_layers: bool = False):
    """Bit-exact inference of queries `indices` [B, T] by `qmodel` -> int64 logits (2^-F units)."""
    if qmodel.cfg.to_dict() != cfg.to_dict():
        raise ValueError(f"qmodel: quantized from config {qmodel.cfg.name!r}, which differs "
                         f"from {cfg.name!r}")
    return qforward(qmodel, gather(cfg, indices), return_layers)


# ---- fidelity (contracts.md s.8.7) ------------------------------------------------

DEFAULT_VARIANTS = (("int16", "int16", None), ("int8", "int8", None),
                    ("int8+2:4", "int8", "2:4"), ("int16+2:4", "int16", "2:4"))


def average_ranks(a) -> np.ndarray:
    """Ranks 1..n of `a`, ties sharing their average rank."""
    a = np.asarray(a)
    order = np.argsort(a, kind="stable")
    sa = a[order]
    ranks = np.empty(len(a), dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sa[1:] != sa[:-1]])
    ends = np.r_[starts[1:], len(a)]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0        # mean of ranks s+1 .. e
    return ranks


def spearman(a, b) -> float:
    """Spearman rank correlation: Pearson correlation of the average ranks."""
    ra, rb = average_ranks(a), average_ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / den) if den else float("nan")


def top_k(a, k: int) -> np.ndarray:
    """Indices of the k largest values, ties -> the lower index."""
    return np.argsort(-np.asarray(a, dtype=np.float64), kind="stable")[:k]


def logit_metrics(got, ref, k: int = 10) -> dict:
    """mean/max |got - ref|, Spearman, top-k overlap (fraction) of real-valued logits."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    d = np.abs(got - ref)
    common = len(set(top_k(got, k).tolist()) & set(top_k(ref, k).tolist()))
    return {"mean_abs": float(d.mean()), "max_abs": float(d.max()),
            "spearman": spearman(got, ref), "top_overlap": common / k}


def fidelity(cfg: ModelConfig, n_queries: int = 1000, seed: int = FIDELITY_SEED,
             variants=DEFAULT_VARIANTS, k: int = 10) -> dict:
    """Per variant (name, precision, sparsity): metrics vs the int16 dense and float models."""
    idx = uniform_queries(cfg, n_queries, seed=seed)
    feats = gather(cfg, idx)
    scale = float(1 << cfg.frac_bits)
    ref16 = mlp_forward(cfg, feats) / scale
    reff = float_infer(cfg, idx)
    out = {"model": cfg.name, "queries": int(n_queries), "seed": int(seed),
           "int16_vs_float": logit_metrics(ref16, reff, k), "variants": {}}
    for name, precision, sparsity in variants:
        qm = quantize(cfg, precision, sparsity)
        got = qforward(qm, feats) / scale
        out["variants"][name] = {"describe": qm.describe(),
                                 "vs_int16": logit_metrics(got, ref16, k),
                                 "vs_float": logit_metrics(got, reff, k)}
    return out


# ---- zero-skip performance model (contracts.md s.8.7; not bit-exact) ------------

def lanes_for(precision: str, u: int) -> int:
    """Inputs per beat S: U MAC lanes, two int8 MACs per lane."""
    return u if precision == "int16" else 2 * u


def zero_fractions(qmodel: QuantModel, indices) -> list[float]:
    """Per layer, the fraction of its stored input activations that are zero."""
    _, trace = golden_infer_q(qmodel.cfg, indices, qmodel, return_layers=True)
    return [float(np.mean(x == 0)) for x in trace.inputs]


def skip_beats(acts, s: int) -> np.ndarray:
    """Beats of one round under the residue-class schedule: max(1, max_c nnz_c), per vector.

    acts [B, n] (or [n]); lane c takes the non-zero inputs i with i % s == c.
    """
    a = np.atleast_2d(np.asarray(acts))
    b, n = a.shape
    cols = -(-n // s) * s
    nz = np.zeros((b, cols), dtype=bool)
    nz[:, :n] = a != 0
    per_lane = nz.reshape(b, -1, s).sum(axis=1)
    return np.maximum(per_lane.max(axis=1), 1)


def compact_beats(acts, s: int) -> np.ndarray:
    """Beats of one round if all non-zeros were packed densely: max(1, ceil(nnz / s)).

    A lower bound for any zero-skip schedule (it needs every lane to reach any
    input's weight), to judge how much the residue-class schedule leaves.
    """
    a = np.atleast_2d(np.asarray(acts))
    return np.maximum(-(-np.count_nonzero(a, axis=1) // s), 1)


SCHEDULES = {"residue": skip_beats, "compact": compact_beats}


def layer_beats(lp: LayerPrecision, fan_in: int, acts, u: int, skip) -> np.ndarray:
    """Beats per round of one layer for each query: dense or 2:4, or zero-skip with
    `skip` = True / "residue" (skip_beats) or "compact" (compact_beats)."""
    s = lanes_for(lp.precision, u)
    b = np.atleast_2d(acts).shape[0]
    if skip:
        if lp.sparsity == "2:4":
            raise ValueError("skip: zero-skipping with 2:4 weights is not modelled")
        schedule = "residue" if skip is True else skip
        if schedule not in SCHEDULES:
            raise ValueError(f"skip: must be one of {tuple(SCHEDULES)}, got {skip!r}")
        return SCHEDULES[schedule](acts, s)
    if lp.sparsity == "2:4":
        return np.full(b, -(-KEEP * -(-fan_in // GROUP) // s))
    return np.full(b, -(-fan_in // s))


def mlp_cycles(qmodel: QuantModel, indices, p: int, u: int, skip=False) -> np.ndarray:
    """MAC cycles per query on a P x U array: sum over layers of rounds * beats (bank plan)."""
    _, trace = golden_infer_q(qmodel.cfg, indices, qmodel, return_layers=True)
    total = np.zeros(len(trace.features), dtype=np.int64)
    for lp, (fan_in, fan_out), x in zip(qmodel.layers, qmodel.cfg.layer_shapes, trace.inputs):
        total += -(-fan_out // p) * layer_beats(lp, fan_in, x, u, skip)
    return total
