"""Cartesian-product tables hold exactly the rows of the tables they replace."""

import numpy as np
import pytest

from models import ConfigError, ModelConfig, TableConfig, builtin
from models.cartesian import (
    ProductTable,
    apply_products,
    make_product,
    physical_rows,
    product_index,
)
from models.golden import gather, golden_infer, mlp_forward, mlp_weights
from models.queries import uniform_queries


@pytest.fixture(scope="module")
def tiny():
    return builtin("tiny")


def test_product_index():
    assert product_index(0, 0, 300) == 0
    assert product_index(2, 5, 300) == 605
    assert product_index(np.array([0, 15]), np.array([299, 299]), 300).tolist() == [299, 4799]


def test_make_product_descriptor(tiny):
    p = make_product(tiny, "category", 4)
    assert p == ProductTable(a=2, b=4, rows=16 * 300, dim=8, rows_b=300)
    assert p.stride == 16 and p.table_bytes == 4800 * 16


@pytest.mark.parametrize("pairs", [[(2, 0), (3, 4)], [("history", "category")],
                                   [(0, 1), (2, 3), (4, 5)], []])
def test_physical_rows_equal_logical_rows(tiny, pairs):
    plan = apply_products(tiny, pairs)
    assert plan.num_physical == tiny.num_tables - len(pairs)
    q = uniform_queries(tiny, 40, seed=6)
    q[0] = [t.rows - 1 for t in tiny.tables]
    q[1] = 0
    phys = plan.map_indices(q)
    assert phys.shape == (40, plan.num_physical)
    feats = gather(tiny, q)
    offs = tiny.feature_offsets
    covered = []
    for p in range(plan.num_physical):
        assert (phys[:, p] >= 0).all() and (phys[:, p] < plan.rows(p)).all()
        rows = physical_rows(plan, p, phys[:, p])
        ids = plan.logical_ids(p)
        want = np.concatenate([feats[:, offs[t]:offs[t] + tiny.tables[t].dim] for t in ids], 1)
        assert rows.shape == (40, plan.dim(p))
        assert np.array_equal(rows, want)
        covered += ids
    assert sorted(covered) == list(range(tiny.num_tables))


def test_product_takes_place_of_earlier_table(tiny):
    plan = apply_products(tiny, [(5, 1)])
    assert plan.tables[1] == ProductTable(5, 1, 1000 * 600, 24, 600)
    assert plan.tables[0] == 0 and plan.tables[2:] == [2, 3, 4]


def test_inference_through_the_plan_is_unchanged(tiny):
    """Physical features are a column permutation; permuting W0 the same way restores logits."""
    plan = apply_products(tiny, [(4, 2), (5, 0)])
    q = uniform_queries(tiny, 16, seed=9)
    feats = plan.gather(plan.map_indices(q))
    assert np.array_equal(feats, gather(tiny, q)[:, plan.feature_perm])
    ws = mlp_weights(tiny)
    assert np.array_equal(mlp_forward(tiny, feats, plan.physical_weights(ws)),
                          golden_infer(tiny, q, ws))


def test_product_of_large_tables_is_rejected_by_row_limit():
    cfg = ModelConfig("big", [TableConfig("a", 100_000, 8, "hbm", 0),
                              TableConfig("b", 100_000, 8, "hbm", 1)], [1])
    with pytest.raises(ConfigError, match=r"^pairs\[0\]: .*rows"):
        apply_products(cfg, [(0, 1)])


@pytest.mark.parametrize("pairs, field", [
    ([(0, 1), (1, 2)], "pairs[1].a"),          # table 1 reused
    ([(0, 1), (2, 0)], "pairs[1].b"),          # table 0 reused
    ([(0, 6)], "pairs[0].b"),                  # no table 6
    ([(-1, 2)], "pairs[0].a"),
    ([("nope", 2)], "pairs[0].a"),
    ([(3, 3)], "pairs[0].b"),                  # paired with itself
    ([(0, 1, 2)], "pairs[0]"),
    ([(1.0, 2)], "pairs[0].a"),
])
def test_bad_pairs_name_the_field(tiny, pairs, field):
    with pytest.raises(ConfigError) as e:
        apply_products(tiny, pairs)
    assert str(e.value).startswith(field + ":")


def test_product_dim_limit():
    cfg = ModelConfig("wide", [TableConfig("a", 2, 200, "onchip"),
                               TableConfig("b", 2, 100, "onchip")], [1])
    with pytest.raises(ConfigError, match="dim 300"):
        make_product(cfg, 0, 1)
