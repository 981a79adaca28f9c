"""apps/benchmarks/model_sweep.py, model side only (no simulation): sweep points, RTL limits, infeasible points."""
import pytest

from models import ModelConfig, TableConfig, builtin
from apps.benchmarks import model_sweep as bench


def test_points_of_tiny_and_an_infeasible_model():
    huge = ModelConfig("huge", [TableConfig("a", 1 << 31, 8, "ddr", 0),   # 32 GiB > 16 GiB per DDR channel
                                TableConfig("b", 100, 8, "hbm", 0)], [4, 1])
    pts = bench.plan_points((1, 32), {"tiny": ("tiny", 1), "huge": (huge, 1)})
    assert [(p["model"], p["hbm"], p["variant"]) for p in pts] == [
        (m, h, v) for m in ("tiny", "huge") for h in (1, 32) for v in ("none", "cartesian")]
    for p in pts[:4]:
        assert p["feasible"] and p["rtl_feasible"]
        # one bank: 2 tables on chip, 4 in DRAM over 1 + 2 or 32 + 2 channels
        assert p["placement"].platform.onchip_banks == 1
        assert p["placement"].platform.num_channels == p["hbm"] + bench.DDR
    none1 = pts[0]
    assert none1["tables"] == 6 and none1["dram_tables"] == 4 and none1["dram_rounds"] == 2
    for p in pts[4:]:
        assert not p["feasible"] and "fits no" in p["reason"]


def test_rtl_limits_name_the_parameter():
    pts = bench.plan_points((1,), {"microrec_large": ("microrec_large", 8)})
    build = bench.lookup_build(1)
    cfg = builtin("microrec_large")
    p = pts[0]
    assert bench.rtl_limits(cfg, build, p["placement"]) is None     # 31 tables per channel fit
    small = build.__class__(**{**build.__dict__, "list_max": 16})
    assert "LIST_MAX=16" in bench.rtl_limits(cfg, small, p["placement"])
    narrow = build.__class__(**{**build.__dict__, "feat_max": 352})
    assert "FEAT_MAX" in bench.rtl_limits(cfg, narrow, p["placement"])


def test_mlp_cycles_and_error():
    assert bench.mlp_cycles(builtin("microrec_small")) == 347
    assert bench.rel_err(110, 100) == pytest.approx(0.10)
