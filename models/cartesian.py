"""Cartesian-product tables (MicroRec section 3.3, design.md section 4).

A product A x B replaces two lookups by one: its row iA * rows_B + iB holds
A[iA] followed by B[iB]. It stores no data of its own (contracts.md section
1), so the plan below only renames lookups; the values come from the logical
tables and therefore always agree with them.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .config import MAX_DIM, MAX_ROWS, ConfigError, ModelConfig, stride_for_dim
from .golden import Weights, check_indices
from .tables import lookup, product_rows


@dataclass(frozen=True)
class ProductTable:
    """Descriptor of A x B; `rows_b` is what the RTL needs to form the index."""
    a: int
    b: int
    rows: int
    dim: int
    rows_b: int

    @property
    def stride(self) -> int:
        return stride_for_dim(self.dim)

    @property
    def table_bytes(self) -> int:
        return self.rows * self.stride


def product_index(i_a, i_b, rows_b):
    """Row of A x B holding A[i_a] ++ B[i_b]."""
    if isinstance(i_a, numbers.Integral) and isinstance(i_b, numbers.Integral):
        return int(i_a) * int(rows_b) + int(i_b)
    return np.asarray(i_a, dtype=np.int64) * np.int64(rows_b) + np.asarray(i_b, dtype=np.int64)


def _table_ref(cfg: ModelConfig, ref, where: str) -> int:
    if isinstance(ref, str):
        try:
            return cfg.table_index(ref)
        except KeyError:
            raise ConfigError(f"{where}: no table named {ref!r}") from None
    if isinstance(ref, bool) or not isinstance(ref, (int, np.integer)):
        raise ConfigError(f"{where}: must be a table index or name, got {ref!r}")
    if not 0 <= ref < cfg.num_tables:
        raise ConfigError(f"{where}: no table {ref} (model has {cfg.num_tables})")
    return int(ref)


def make_product(cfg: ModelConfig, a_idx, b_idx, where: str = "") -> ProductTable:
    """Descriptor of tables a_idx x b_idx (indices or names) of `cfg`."""
    a = _table_ref(cfg, a_idx, f"{where}a")
    b = _table_ref(cfg, b_idx, f"{where}b")
    if a == b:
        raise ConfigError(f"{where}b: table {b} paired with itself")
    ta, tb = cfg.tables[a], cfg.tables[b]
    for side, t in (("a", ta), ("b", tb)):
        if not t.one_hot:
            # the pooled sum over a bag of product rows is not the product of the sums
            raise ConfigError(f"{where}{side}: table {t.name!r} is not one-hot (bag_max "
                              f"{t.bag_max}, pool_shift {t.pool_shift}); only one-hot tables "
                              f"form Cartesian products (contracts s.9.1)")
    rows, dim = ta.rows * tb.rows, ta.dim + tb.dim
    if rows > MAX_ROWS:
        raise ConfigError(f"{where.rstrip('.') or 'product'}: {ta.name} x {tb.name} has "
                          f"{rows} rows, more than {MAX_ROWS}")
    if dim > MAX_DIM:
        raise ConfigError(f"{where.rstrip('.') or 'product'}: {ta.name} x {tb.name} has "
                          f"dim {dim}, more than {MAX_DIM}")
    return ProductTable(a, b, rows, dim, tb.rows)


@dataclass
class PhysicalPlan:
    """The tables the accelerator actually reads: plain logical ids or products.

    Physical tables keep the logical order; a product takes the place of the
    earlier of its two tables.
    """
    cfg: ModelConfig
    tables: list[int | ProductTable]

    @property
    def num_physical(self) -> int:
        return len(self.tables)

    def logical_ids(self, p: int) -> tuple[int, ...]:
        e = self.tables[p]
        return (e.a, e.b) if isinstance(e, ProductTable) else (e,)

    def dim(self, p: int) -> int:
        e = self.tables[p]
        return e.dim if isinstance(e, ProductTable) else self.cfg.tables[e].dim

    def rows(self, p: int) -> int:
        e = self.tables[p]
        return e.rows if isinstance(e, ProductTable) else self.cfg.tables[e].rows

    def stride(self, p: int) -> int:
        return stride_for_dim(self.dim(p))

    @property
    def feature_perm(self) -> np.ndarray:
        """Logical feature columns in physical concatenation order."""
        offs = self.cfg.feature_offsets
        cols = [np.arange(offs[t], offs[t] + self.cfg.tables[t].dim)
                for p in range(self.num_physical) for t in self.logical_ids(p)]
        return np.concatenate(cols)

    def map_indices(self, indices) -> np.ndarray:
        """Logical indices [B, T] -> physical indices [B, num_physical]."""
        idx = check_indices(self.cfg, indices)
        out = np.empty((idx.shape[0], self.num_physical), dtype=np.int64)
        for p, e in enumerate(self.tables):
            if isinstance(e, ProductTable):
                out[:, p] = product_index(idx[:, e.a], idx[:, e.b], e.rows_b)
            else:
                out[:, p] = idx[:, e]
        return out

    def gather(self, phys_indices) -> np.ndarray:
        """Physical rows concatenated: equals logical features[:, feature_perm]."""
        phys = np.asarray(phys_indices, dtype=np.int64)
        if phys.ndim != 2 or phys.shape[1] != self.num_physical:
            raise ValueError(f"phys_indices: expected shape [B, {self.num_physical}], "
                             f"got {phys.shape}")
        return np.concatenate([physical_rows(self, p, phys[:, p])
                               for p in range(self.num_physical)], axis=1)

    def physical_weights(self, weights: Weights) -> Weights:
        """Weights with layer 0 columns permuted to the physical feature order."""
        w0, b0 = weights[0]
        w0 = np.ascontiguousarray(np.asarray(w0)[:, self.feature_perm])
        return [(w0, b0)] + list(weights[1:])


def apply_products(cfg: ModelConfig, pairs: Sequence[Sequence]) -> PhysicalPlan:
    """Plan with each (a, b) pair of logical tables (indices or names) merged into A x B."""
    products: dict[int, ProductTable] = {}
    used: dict[int, int] = {}
    for i, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ConfigError(f"pairs[{i}]: must be a pair (a, b), got {pair!r}")
        prod = make_product(cfg, pair[0], pair[1], where=f"pairs[{i}].")
        for side, t in (("a", prod.a), ("b", prod.b)):
            if t in used:
                raise ConfigError(f"pairs[{i}].{side}: table {t} "
                                  f"({cfg.tables[t].name!r}) already used in pairs[{used[t]}]")
            used[t] = i
        products[min(prod.a, prod.b)] = prod
    tables: list[int | ProductTable] = []
    for t in range(cfg.num_tables):
        if t in products:
            tables.append(products[t])
        elif t not in used:
            tables.append(t)
    return PhysicalPlan(cfg, tables)


def physical_rows(plan: PhysicalPlan, phys_id: int, idx) -> np.ndarray:
    """Rows of physical table `phys_id`: int16 [..., dim]."""
    e = plan.tables[phys_id]
    if isinstance(e, ProductTable):
        return product_rows(plan.cfg, e.a, e.b, idx)
    return lookup(plan.cfg, e, idx)
