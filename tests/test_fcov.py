"""Functional coverage crosses (tb/common/fcov.py): bins, exclusions, and the merge and
report of sim/coverage.py."""
from __future__ import annotations

import json

import pytest

from sim import coverage
from tb.common.fcov import Covergroup


def test_cross_bins_are_the_product_minus_exclusions():
    g = Covergroup("lk")
    c = g.cross("error_x_engine", {"error": ["idx_range", "slverr"], "engine": ["ch0", "bank0"]}, "records",
                exclude=[("slverr", "bank0", "banks answer OKAY")])
    assert list(c.hits) == ["idx_range/ch0", "idx_range/bank0", "slverr/ch0"]
    assert "slverr/bank0 excluded: banks answer OKAY" in c.description
    g.sample("error_x_engine", "slverr", "ch0")
    assert c.hits["slverr/ch0"] == 1 and c.holes() == ["idx_range/ch0", "idx_range/bank0"]


def test_an_excluded_combination_that_happens_is_an_error():
    g = Covergroup("lk")
    g.cross("x", {"a": ["1", "2"], "b": ["p", "q"]}, exclude=[("2", "*", "2 never happens")])
    assert list(g.points["x"].hits) == ["1/p", "1/q"]
    with pytest.raises(KeyError, match="declared impossible"):
        g.sample("x", "2", "q")
    with pytest.raises(ValueError):
        Covergroup("lk").cross("y", {"a": ["1"], "b": ["p"]}, exclude=[("1", "why")])


def test_crosses_merge_over_tests_and_are_reported(tmp_path, monkeypatch):
    for n, hit in enumerate((("idx_range", "ch0"), ("slverr", "ch0"))):
        g = Covergroup("lk")
        g.cross("error_x_engine", {"error": ["idx_range", "slverr"], "engine": ["ch0"]})
        g.sample("error_x_engine", *hit)
        (tmp_path / f"t{n}").mkdir()
        g.save(tmp_path / f"t{n}")
    merged = coverage.merge_functional(tmp_path)
    assert merged["lk"]["error_x_engine"] == {"idx_range/ch0": 1, "slverr/ch0": 1}
    assert coverage.CROSSES["lk.error_x_engine"] == ["error", "engine"]
    data = json.loads((tmp_path / "t0" / "fcov_lk.json").read_text())
    assert data["points"]["error_x_engine"]["cross"] == ["error", "engine"]
