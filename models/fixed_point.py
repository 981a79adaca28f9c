"""Fixed-point rules of design.md section 3 / contracts.md section 3.

Every function takes a Python int (returns an int) or an integer NumPy array
(returns int64), so scoreboards can check one value and the golden model a
whole batch with the same code.
"""

from __future__ import annotations

import numbers

import numpy as np

INT8_MIN, INT8_MAX = -(1 << 7), (1 << 7) - 1
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def _is_scalar(x) -> bool:
    return isinstance(x, numbers.Integral)


def sat(x, bits: int):
    """Clamp to the signed `bits`-bit range."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if _is_scalar(x):
        return min(max(int(x), lo), hi)
    return np.clip(np.asarray(x, dtype=np.int64), lo, hi)


def sat8(x):
    return sat(x, 8)


def sat16(x):
    return sat(x, 16)


def sat32(x):
    return sat(x, 32)


def round_shift(acc, frac_bits: int):
    """Round half up then arithmetic shift: (acc + (1 << (F-1))) >> F.

    Computed as (acc >> F) + bit F-1 of acc, which is the same value but
    cannot overflow int64 when acc is near the top of a 64-bit accumulator.
    """
    f = int(frac_bits)
    if f < 1:
        raise ValueError(f"frac_bits: must be >= 1, got {f}")
    if _is_scalar(acc):
        a = int(acc)
        return (a >> f) + ((a >> (f - 1)) & 1)
    a = np.asarray(acc, dtype=np.int64)
    return (a >> f) + ((a >> (f - 1)) & 1)


def requant_hidden(acc, frac_bits: int, relu: bool = True):
    """Hidden layer output: relu(sat16(round_shift(acc)))."""
    y = sat16(round_shift(acc, frac_bits))
    if relu:
        y = max(y, 0) if _is_scalar(y) else np.maximum(y, 0)
    return y


def requant_logit(acc, frac_bits: int):
    """Last layer output: sat32(round_shift(acc)), no ReLU."""
    return sat32(round_shift(acc, frac_bits))


def requant(acc, frac_bits: int, *, relu: bool, out32: bool):
    """The MAC PE output stage: (y, sat, relu_zero), as the RTL flags it.

    `sat` is set when the rounded value fell outside the output range (before
    ReLU); `relu_zero` when ReLU replaced a negative (saturated) value by 0.
    """
    r = round_shift(acc, frac_bits)
    bits = 32 if out32 else 16
    s = sat(r, bits)
    clipped = s != r
    y = s
    if relu:
        y = max(s, 0) if _is_scalar(s) else np.maximum(s, 0)
    relu_zero = (s < 0) & bool(relu)
    return y, clipped, relu_zero


# ---- contracts.md section 8: per-layer shifts, int8 outputs ------------------

MAX_SHIFT = 15  # the engine's cfg_shift field is 4 bits


def round_shift_q(acc, shift: int):
    """rshift of contracts.md s.8.1: round_shift for shift 1..15, identity for 0.

    Separate from `round_shift` (which keeps rejecting F = 0, the int16
    contract's range) because an int8 layer may legally need no shift.
    """
    s = int(shift)
    if not 0 <= s <= MAX_SHIFT:
        raise ValueError(f"shift: must be in 0..{MAX_SHIFT}, got {s}")
    if s == 0:
        return int(acc) if _is_scalar(acc) else np.asarray(acc, dtype=np.int64)
    return round_shift(acc, s)


def requant_q(acc, shift: int, out_bits: int, relu: bool):
    """Layer output of contracts.md s.8.1: relu?(sat_{out_bits}(rshift(acc, shift)))."""
    if out_bits not in (8, 16, 32):
        raise ValueError(f"out_bits: must be 8, 16 or 32, got {out_bits}")
    y = sat(round_shift_q(acc, shift), out_bits)
    if relu:
        y = max(y, 0) if _is_scalar(y) else np.maximum(y, 0)
    return y
