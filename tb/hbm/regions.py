"""Region descriptors: which table sits where on a channel, and what it reads as.

A region is one table (or Cartesian product A x B) on one channel at a base
address (design.md section 4). The SV model computes every row nobody wrote
from the descriptor with the contract hash; ``expected_bytes`` computes the
same bytes here from models/tables.py, so a test can compare the two.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import tables
from models.config import TABLE_ALIGN, stride_for_dim

from . import regs as R


@dataclass(frozen=True)
class HbmRegion:
    ch: int
    base: int
    rows: int
    dim: int
    table: int                 # logical table id (A of a product)
    table_b: int = 0           # product only: logical id of B
    rows_b: int = 0            # product only: rows of B (0: plain table)
    dim_a: int = 0             # product only: dim of A

    @property
    def stride(self) -> int:
        return stride_for_dim(self.dim)

    @property
    def stride_log2(self) -> int:
        return self.stride.bit_length() - 1

    @property
    def nbytes(self) -> int:
        return self.rows * self.stride

    @property
    def end(self) -> int:
        return self.base + self.nbytes

    @property
    def is_product(self) -> bool:
        return self.rows_b != 0

    def row_addr(self, r: int) -> int:
        return self.base + int(r) * self.stride

    @classmethod
    def for_table(cls, cfg, t: int, ch: int, base: int) -> "HbmRegion":
        tab = cfg.tables[t]
        return cls(ch=ch, base=base, rows=tab.rows, dim=tab.dim, table=t)

    @classmethod
    def for_product(cls, cfg, prod, ch: int, base: int) -> "HbmRegion":
        """``prod``: a models.cartesian.ProductTable."""
        return cls(ch=ch, base=base, rows=prod.rows, dim=prod.dim, table=prod.a, table_b=prod.b,
                   rows_b=prod.rows_b, dim_a=cfg.tables[prod.a].dim)

    def validate(self, beat_bytes: int) -> None:
        if self.base % max(beat_bytes, 2):
            raise ValueError(f"region on channel {self.ch}: base {self.base:#x} not beat aligned")
        if self.is_product and not 0 < self.dim_a < self.dim:
            raise ValueError(f"product region: dim_a {self.dim_a} must be inside 1..{self.dim - 1}")
        if self.stride > 4096:
            raise ValueError(f"region dim {self.dim}: stride above 4 KiB")

    def fields(self) -> list[int]:
        """The REG_FIELDS register values in SV order."""
        return [self.base, self.rows, self.stride_log2, self.dim, self.table, self.table_b,
                self.rows_b, self.dim_a]

    # ---------------------------------------------------------------- golden content
    def rows_values(self, seed: int, emb_shift: int, idx) -> np.ndarray:
        """int16 [len(idx), dim] from models/tables.py."""
        idx = np.asarray(idx, dtype=np.int64)
        if not self.is_product:
            return tables.table_rows(seed, self.table, idx, self.dim, emb_shift)
        ia, ib = idx // self.rows_b, idx % self.rows_b
        a = tables.table_rows(seed, self.table, ia, self.dim_a, emb_shift)
        b = tables.table_rows(seed, self.table_b, ib, self.dim - self.dim_a, emb_shift)
        return np.concatenate([a, b], axis=-1)

    def image(self, seed: int, emb_shift: int, first_row: int, n_rows: int) -> bytes:
        n_rows = max(0, min(n_rows, self.rows - first_row))
        if n_rows == 0:
            return b""
        vals = self.rows_values(seed, emb_shift, np.arange(first_row, first_row + n_rows))
        return tables.row_bytes(vals, self.stride).tobytes()


def expected_bytes(regions, seed: int, emb_shift: int, ch: int, addr: int, n: int) -> bytearray:
    """Procedural bytes [addr, addr+n) of channel ``ch`` (zero outside every region)."""
    out = bytearray(n)
    for g in regions:
        if g.ch != ch or g.end <= addr or g.base >= addr + n:
            continue
        lo, hi = max(addr, g.base), min(addr + n, g.end)
        r0 = (lo - g.base) // g.stride
        r1 = (hi - 1 - g.base) // g.stride
        img = g.image(seed, emb_shift, r0, r1 - r0 + 1)
        off = g.base + r0 * g.stride
        out[lo - addr:hi - addr] = img[lo - off:hi - off]
    return out


def layout(cfg, channel_of=None, products=()) -> list[HbmRegion]:
    """Place tables (and ``products``, models.cartesian.ProductTable) on channels.

    Each table goes to ``channel_of(t)`` (default: the table's configured
    channel), packed at 4 KiB-aligned bases in list order. Products go to the
    channel of their A table. A test harness layout, not the host's.
    """
    used: dict[int, int] = {}
    out = []
    in_products = {p.a for p in products} | {p.b for p in products}

    def place(ch, nbytes):
        base = used.get(ch, 0)
        used[ch] = base + -(-nbytes // TABLE_ALIGN) * TABLE_ALIGN
        return base

    for t, tab in enumerate(cfg.tables):
        if t in in_products or tab.tier == "onchip":
            continue
        ch = channel_of(t) if channel_of else tab.channel
        g = HbmRegion.for_table(cfg, t, ch, 0)
        out.append(HbmRegion.for_table(cfg, t, ch, place(ch, g.nbytes)))
    for p in products:
        ch = channel_of(p.a) if channel_of else cfg.tables[p.a].channel
        g = HbmRegion.for_product(cfg, p, ch, 0)
        out.append(HbmRegion.for_product(cfg, p, ch, place(ch, g.nbytes)))
    return out


__all__ = ["HbmRegion", "expected_bytes", "layout", "R"]
