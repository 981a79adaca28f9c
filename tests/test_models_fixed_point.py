"""Fixed-point edge rules (contracts.md section 3)."""

import numpy as np
import pytest

from conftest_models import ref_round_shift, ref_sat
from models.fixed_point import (
    requant,
    requant_hidden,
    requant_logit,
    round_shift,
    sat,
    sat16,
    sat32,
)

I64_MIN, I64_MAX = -(2 ** 63), 2 ** 63 - 1


@pytest.mark.parametrize("acc, f, want", [
    # F = 1: one LSB is 0.5
    (1, 1, 1), (-1, 1, 0), (-3, 1, -1), (3, 1, 2), (-2, 1, -1), (0, 1, 0),
    # F = 8: +0.5 -> 1, -0.5 -> 0, -1.5 -> -1, and one LSB either side
    (128, 8, 1), (127, 8, 0), (-128, 8, 0), (-129, 8, -1), (-384, 8, -1),
    (-385, 8, -2), (384, 8, 2), (-256, 8, -1),
    # F = 14
    (8192, 14, 1), (8191, 14, 0), (-8192, 14, 0), (-8193, 14, -1),
    (-24576, 14, -1), (24576, 14, 2),
    # int64 extremes: the rounding add must not overflow
    (I64_MAX, 1, 2 ** 62), (I64_MIN, 1, -(2 ** 62)), (I64_MAX, 14, 2 ** 49),
    (I64_MIN, 14, -(2 ** 49)),
])
def test_round_shift_edges(acc, f, want):
    assert ref_round_shift(acc, f) == want  # the reference agrees with the text
    assert round_shift(acc, f) == want
    assert round_shift(np.array([acc], dtype=np.int64), f)[0] == want


def test_round_shift_matches_reference_on_random_int64():
    rng = np.random.default_rng(7)
    acc = np.concatenate([rng.integers(-2 ** 47, 2 ** 47, 2000),
                          rng.integers(-300, 300, 600),
                          [I64_MIN, I64_MIN + 1, I64_MAX, I64_MAX - 1, -1, 0, 1]])
    for f in (1, 2, 8, 13, 14):
        got = round_shift(acc, f)
        assert got.dtype == np.int64
        assert got.tolist() == [ref_round_shift(int(a), f) for a in acc]


def test_round_shift_rejects_zero_frac_bits():
    with pytest.raises(ValueError, match="frac_bits"):
        round_shift(5, 0)


@pytest.mark.parametrize("x, want16, want32", [
    (-32769, -32768, -32769), (-32768, -32768, -32768), (32767, 32767, 32767),
    (32768, 32767, 32768), (0, 0, 0),
    (2 ** 31 - 1, 32767, 2 ** 31 - 1), (2 ** 31, 32767, 2 ** 31 - 1),
    (-(2 ** 31), -32768, -(2 ** 31)), (-(2 ** 31) - 1, -32768, -(2 ** 31)),
    (I64_MAX, 32767, 2 ** 31 - 1), (I64_MIN, -32768, -(2 ** 31)),
])
def test_sat_edges(x, want16, want32):
    assert sat16(x) == want16 == ref_sat(x, 16)
    assert sat32(x) == want32 == ref_sat(x, 32)
    arr = np.array([x], dtype=np.int64)
    assert sat16(arr)[0] == want16 and sat32(arr)[0] == want32
    assert isinstance(sat16(x), int)


def test_sat_generic_bits():
    assert sat(100, 8) == 100 and sat(128, 8) == 127 and sat(-129, 8) == -128


@pytest.mark.parametrize("f", [1, 8, 14])
def test_requant_hidden_around_int16_limits(f):
    one = 1 << f
    half = 1 << (f - 1)
    cases = {
        32767 * one: 32767,
        32767 * one + half - 1: 32767,
        32767 * one + half: 32767,           # rounds to 32768, saturates
        -32768 * one: 0,                     # ReLU
        -half: 0,                            # -0.5 rounds to 0
        half: 1,                             # +0.5 rounds to 1
        5 * one - half: 5,                   # 4.5 -> 5
    }
    for acc, want in cases.items():
        assert requant_hidden(acc, f) == want, (acc, f)
    assert requant_hidden(-32768 * one - half - 1, f, relu=False) == -32768
    assert requant_hidden(-32769 * one, f, relu=False) == -32768
    assert requant_hidden(-3 * half, f, relu=False) == -1   # -1.5 -> -1
    accs = np.array(list(cases), dtype=np.int64)
    assert requant_hidden(accs, f).tolist() == list(cases.values())


@pytest.mark.parametrize("f", [1, 8, 14])
def test_requant_logit_around_int32_limits(f):
    one, half = 1 << f, 1 << (f - 1)
    top, bot = 2 ** 31 - 1, -(2 ** 31)
    cases = {
        top * one: top, top * one + half: top, (top + 5) * one: top,
        bot * one: bot, bot * one - half: bot,   # -2^31 - 0.5 rounds to -2^31
        bot * one - half - 1: bot, (bot - 7) * one: bot,
        -half: 0, -3 * half: -1, half: 1, -12345 * one: -12345,
    }
    for acc, want in cases.items():
        assert requant_logit(acc, f) == want, (acc, f)
    accs = np.array(list(cases), dtype=np.int64)
    assert requant_logit(accs, f).tolist() == list(cases.values())


def test_requant_flags():
    f = 8
    assert requant(-256 * 5, f, relu=True, out32=False) == (0, False, True)
    assert requant(256 * 40000, f, relu=True, out32=False) == (32767, True, False)
    assert requant(-256 * 40000, f, relu=True, out32=False) == (0, True, True)
    assert requant(-256 * 40000, f, relu=False, out32=False) == (-32768, True, False)
    assert requant(-256 * 40000, f, relu=False, out32=True) == (-40000, False, False)
    assert requant(256 * 7, f, relu=True, out32=False) == (7, False, False)
    y, s, z = requant(np.array([-256 * 40000, 256 * 3, -1]), f, relu=True, out32=False)
    assert y.tolist() == [0, 3, 0] and s.tolist() == [True, False, False]
    assert z.tolist() == [True, False, False]   # -1/256 rounds to 0: not clipped by ReLU
