"""Independent scalar reference for the golden-model tests.

Written from the text of docs/contracts.md with plain Python ints, one value
at a time, and deliberately importing nothing from `models`: a shared
misreading of the contract would otherwise pass unnoticed. Slow by design;
use it on tiny inputs only.
"""

from __future__ import annotations

import numpy as np

M32 = 0xFFFFFFFF


def ref_mix32(x: int) -> int:
    x &= M32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & M32
    x ^= x >> 16
    return x


def ref_row_key(seed: int, t: int, r: int) -> int:
    return ref_mix32(ref_mix32(seed ^ ((t * 0x9E3779B9) & M32)) ^ r)


def ref_element(seed: int, t: int, r: int, k: int, emb_shift: int) -> int:
    w = ref_mix32(ref_row_key(seed, t, r) ^ (((k // 2) * 0x85EBCA6B) & M32))
    half = (w & 0xFFFF) if k % 2 == 0 else (w >> 16)
    if half >= 0x8000:
        half -= 0x10000
    return half >> emb_shift  # Python >> on ints is arithmetic (floor)


def ref_round_shift(acc: int, f: int) -> int:
    return (acc + 2 ** (f - 1)) // 2 ** f


def ref_sat(x: int, bits: int) -> int:
    return min(max(x, -(2 ** (bits - 1))), 2 ** (bits - 1) - 1)


def ref_weights(seed: int, f: int, shapes: list[tuple[int, int]], tag: int = 0x3A1F):
    """contracts.md section 2 (tag 0x3A1F: top MLP; 0xB07B: bottom MLP, s.9.5),
    re-derived: nested lists of Python ints."""
    out = []
    for layer, (fan_in, fan_out) in enumerate(shapes):
        rng = np.random.default_rng([seed, tag, layer])
        w = rng.normal(0.0, 1.0 / fan_in ** 0.5, size=(fan_out, fan_in))
        b = rng.normal(0.0, 0.05, size=fan_out)
        wq = [[ref_sat(int(round(v * 2 ** f)), 16) for v in row] for row in w]
        bq = [ref_sat(int(round(v * 2 ** (2 * f))), 32) for v in b]
        out.append((wq, bq))
    return out


def ref_features(seed: int, emb_shift: int, dims: list[int], query: list[int]) -> list[int]:
    feats = []
    for t, (dim, r) in enumerate(zip(dims, query)):
        feats += [ref_element(seed, t, r, k, emb_shift) for k in range(dim)]
    return feats


def ref_mlp(features: list[int], weights, f: int) -> int:
    """One query through the MLP with exact integers; returns the int32 logit."""
    x = list(features)
    for layer, (w, b) in enumerate(weights):
        accs = [sum(wi * xi for wi, xi in zip(row, x)) + bj for row, bj in zip(w, b)]
        if layer == len(weights) - 1:
            x = [ref_sat(ref_round_shift(a, f), 32) for a in accs]
        else:
            x = [max(ref_sat(ref_round_shift(a, f), 16), 0) for a in accs]
    assert len(x) == 1
    return x[0]


def ref_layer(x: list[int], w, b, f: int, relu: bool) -> list[int]:
    """One fixed-point layer, hidden-layer output rule (s.3)."""
    out = []
    for row, bj in zip(w, b):
        y = ref_sat(ref_round_shift(sum(int(wi) * xi for wi, xi in zip(row, x)) + int(bj), f), 16)
        out.append(max(y, 0) if relu else y)
    return out


def ref_dlrm(cfg, bags: list[list[int]], dense: list[int], bottom_w, top_w) -> dict:
    """contracts.md section 9 for one query, one value at a time.

    `cfg` is read for plain fields only. Returns the stages, or the error
    record {"err": code, "table": t} (bag length checked over every table
    before any index, each naming the lowest failing table).
    """
    f, seed, es = cfg.frac_bits, cfg.seed, cfg.emb_shift
    for t, tab in enumerate(cfg.tables):
        if len(bags[t]) > tab.bag_max:
            return {"err": 6, "table": t, "logit": 0}
    for t, tab in enumerate(cfg.tables):
        if any(not 0 <= i < tab.rows for i in bags[t]):
            return {"err": 1, "table": t, "logit": 0}
    pooled = []
    for t, tab in enumerate(cfg.tables):
        vec = []
        for k in range(tab.dim):
            s = sum(ref_element(seed, t, i, k, es) for i in bags[t])
            if tab.pool_shift:
                s = ref_round_shift(s, tab.pool_shift)
            vec.append(ref_sat(s, 16))
        pooled.append(vec)
    x = list(dense) if bottom_w else []
    for w, b in bottom_w:
        x = ref_layer(x, w, b, f, relu=True)        # ReLU after every bottom layer
    if cfg.interaction == "dot":
        vecs = [x] + pooled
        z = []
        for i in range(len(vecs)):
            for j in range(i):
                acc = sum(a * c for a, c in zip(vecs[i], vecs[j]))
                z.append(ref_sat(ref_round_shift(acc, f), 16))
        r = x + z
    else:
        r = x + [v for vec in pooled for v in vec]
    return {"err": 0, "table": 0, "pooled": pooled, "bottom": x, "r": r,
            "logit": ref_mlp(r, top_w, f)}
