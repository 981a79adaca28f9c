"""Packs physical table descriptors into the bits of lookup_pkg::desc_t.

The field list mirrors rtl/lookup/lookup_pkg.sv (MSB first) and
docs/contracts.md section 5; tests/test_lookup_descriptor.py parses the SV
struct and checks the two agree, so neither can drift alone.
"""
from __future__ import annotations

DESC_FIELDS = [  # (name, bits), MSB first
    ("valid", 1), ("onchip", 1), ("channel", 8), ("base", 40), ("stride_log2", 4),
    ("rows", 32), ("dim", 9), ("is_product", 1), ("lt_a", 8), ("lt_b", 8),
    ("rows_b", 32), ("dim_a", 9), ("feat_off_a", 16), ("feat_off_b", 16),
]
DESC_W = sum(w for _, w in DESC_FIELDS)


def _get(desc, name):
    if isinstance(desc, dict):
        return desc.get(name, 0)
    return getattr(desc, name, 0)


def pack_desc(desc) -> int:
    """Descriptor (object with the contract's fields, or a dict) -> desc_t bits."""
    word = 0
    for name, width in DESC_FIELDS:
        value = int(_get(desc, name))
        if not 0 <= value < (1 << width):
            raise ValueError(f"descriptor.{name}: {value} does not fit in {width} bits")
        word = (word << width) | value
    return word


def unpack_desc(word: int) -> dict:
    out = {}
    for name, width in reversed(DESC_FIELDS):
        out[name] = word & ((1 << width) - 1)
        word >>= width
    return out
