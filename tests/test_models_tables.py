"""Procedural table contents (contracts.md section 1) against the scalar reference."""

import numpy as np
import pytest

from conftest_models import ref_element, ref_mix32, ref_row_key
from models import builtin
from models.config import stride_for_dim
from models.tables import (
    element,
    lookup,
    mix32,
    pair_word,
    product_rows,
    row_bytes,
    row_key,
    table_rows,
)

# lowbias32 step by step: x, x^x>>16, *0x7FEB352D, ^>>15, *0x846CA68B, ^>>16.
# The xor/shift steps check by hand (e.g. for x = 1: 0x7FEB352D >> 15 =
# 0xFFD6 and 0x352D ^ 0xFFD6 = 0xCAFB); the multiplies were computed with a
# 10-line C program on uint32_t, an implementation independent of both
# Python versions here.
MIX32_STEPS = [
    (0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000),
    (0x00000001, 0x00000001, 0x7FEB352D, 0x7FEBCAFB, 0x6889F849, 0x688990C0),
    (0x00000002, 0x00000002, 0xFFD66A5A, 0xFFD795F6, 0xD113F092, 0xD1132181),
    (0x12345678, 0x1234444C, 0x6B17BD5C, 0x6B176B73, 0xF5E7E971, 0xF5E71C96),
    (0xFFFFFFFF, 0xFFFF0000, 0xCAD30000, 0xCAD295A6, 0x6768E522, 0x6768824A),
]

# (seed, t, r, key, elements with emb_shift 0, with emb_shift 5), same C program.
ELEMENT_PINS = [
    (1, 0, 0, 0x58F54975, [-25491, 9216, 29819, 5224, 22649], [-797, 288, 931, 163, 707]),
    (1, 2, 3, 0x2A3C7E87, [20343, 20129, 383, 7058], [635, 629, 11, 220]),
    (0xDEADBEEF, 41, 0xFFFFFFFE, 0xE87387A1, [-20128, 24524, -31789], [-629, 766, -994]),
]


@pytest.mark.parametrize("steps", MIX32_STEPS, ids=lambda s: f"{s[0]:08x}")
def test_mix32_pinned_constants(steps):
    x, a, b, c, d, e = steps
    assert x ^ (x >> 16) == a
    assert (a * 0x7FEB352D) & 0xFFFFFFFF == b
    assert b ^ (b >> 15) == c
    assert (c * 0x846CA68B) & 0xFFFFFFFF == d
    assert d ^ (d >> 16) == e
    assert ref_mix32(x) == e
    assert mix32(x) == e
    assert int(mix32(np.array([x], dtype=np.uint32))[0]) == e


@pytest.mark.parametrize("mseed, t, r, key, raw, shifted", ELEMENT_PINS)
def test_element_pinned_constants(mseed, t, r, key, raw, shifted):
    seed = mseed  # "seed" as an argument is taken by conftest.py (RTL seeds)
    assert ref_row_key(seed, t, r) == key == row_key(seed, t, r)
    dim = len(raw)
    for shift, want in ((0, raw), (5, shifted)):
        assert [ref_element(seed, t, r, k, shift) for k in range(dim)] == want
        assert table_rows(seed, t, np.array([r]), dim, shift)[0].tolist() == want
        assert [element(seed, t, r, k, shift) for k in range(dim)] == want


def test_mix32_vectorized_matches_reference_and_dtypes():
    rng = np.random.default_rng(1)
    xs = rng.integers(0, 2 ** 32, 500, dtype=np.uint64)
    want = [ref_mix32(int(x)) for x in xs]
    for arr in (xs, xs.astype(np.uint32), xs.astype(np.int64)):
        got = mix32(arr)
        assert got.dtype == np.uint32 and got.shape == arr.shape
        assert got.tolist() == want
    # signed inputs wrap as 32-bit two's complement, like logic [31:0]
    assert mix32(-1) == ref_mix32(0xFFFFFFFF)
    assert mix32(np.array([[1, 2], [3, 4]])).shape == (2, 2)


def test_pair_word_matches_reference():
    key = ref_row_key(9, 4, 77)
    for j in range(5):
        want = ref_mix32(key ^ ((j * 0x85EBCA6B) & 0xFFFFFFFF))
        assert pair_word(key, j) == want
    assert pair_word(key, np.arange(5)).tolist() == [pair_word(key, j) for j in range(5)]


@pytest.mark.parametrize("dim", [1, 2, 3, 4, 7, 8, 16, 33])
@pytest.mark.parametrize("emb_shift", [0, 5, 15])
def test_table_rows_matches_scalar_reference(dim, emb_shift):
    seed, t = 0x1234ABCD, 5
    rows = np.array([0, 1, 2, 999, 2 ** 31, 2 ** 32 - 1], dtype=np.int64)
    got = table_rows(seed, t, rows, dim, emb_shift)
    assert got.dtype == np.int16 and got.shape == (len(rows), dim)
    want = [[ref_element(seed, t, int(r), k, emb_shift) for k in range(dim)] for r in rows]
    assert got.tolist() == want


def test_table_rows_shape_follows_index_shape_and_uses_sign_bit():
    got = table_rows(1, 0, np.arange(12).reshape(3, 4), 8, 0)
    assert got.shape == (3, 4, 8)
    vals = table_rows(1, 0, np.arange(4096), 8, 5)
    assert vals.min() < -900 and vals.max() > 900      # roughly full +-1024 range
    assert vals.min() >= -1024 and vals.max() <= 1023


def test_table_rows_rejects_rows_outside_uint32():
    with pytest.raises(IndexError):
        table_rows(1, 0, np.array([-1]), 4, 5)
    with pytest.raises(IndexError):
        table_rows(1, 0, np.array([2 ** 32]), 4, 5)


def test_lookup_checks_table_range():
    cfg = builtin("tiny")
    assert lookup(cfg, 2, np.array([15])).shape == (1, 4)
    with pytest.raises(IndexError, match="table 2 .*'category'.*16"):
        lookup(cfg, 2, np.array([3, 16]))


@pytest.mark.parametrize("dim, stride", [(1, 2), (2, 4), (3, 8), (4, 8), (8, 16), (16, 32),
                                         (17, 64), (256, 512)])
def test_stride(dim, stride):
    assert stride_for_dim(dim) == stride


def test_row_bytes_layout():
    rows = np.array([[1, -2, 0x1234], [-32768, 32767, -1]], dtype=np.int16)
    img = row_bytes(rows, stride_for_dim(3))
    assert img.shape == (2, 8) and img.dtype == np.uint8
    assert img[0].tolist() == [0x01, 0x00, 0xFE, 0xFF, 0x34, 0x12, 0, 0]
    assert img[1].tolist() == [0x00, 0x80, 0xFF, 0x7F, 0xFF, 0xFF, 0, 0]
    with pytest.raises(ValueError):
        row_bytes(rows, 4)


def test_product_rows_are_concatenations():
    cfg = builtin("tiny")
    a, b = 2, 4                      # category (16 x 4) x city (300 x 4)
    rows_b = cfg.tables[b].rows
    ia = np.array([0, 3, 15, 15])
    ib = np.array([0, 299, 0, 299])
    got = product_rows(cfg, a, b, ia * rows_b + ib)
    want = np.concatenate([lookup(cfg, a, ia), lookup(cfg, b, ib)], axis=1)
    assert np.array_equal(got, want)
    with pytest.raises(IndexError):
        product_rows(cfg, a, b, np.array([16 * 300]))
