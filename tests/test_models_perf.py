"""Analytical performance model: a hand-computed example, monotonicity, calibration."""

from dataclasses import replace

import pytest

from models import ModelConfig, TableConfig, builtin
from models.perf_model import (
    MICROREC_MLP,
    MlpArch,
    PerfParams,
    Sample,
    Stage,
    calibrate,
    mlp_stages,
    predict,
    predict_config,
)
from models.placement import Platform, place
from models.planner import plan_none, plan_search


@pytest.fixture(scope="module")
def tiny_pl():
    return place(builtin("tiny"))


def test_tiny_by_hand(tiny_pl):
    """tiny: user hbm0, item hbm1, city hbm2 (1 lookup, 1 beat each), history
    on DDR (AXI channel 32), category and brand on chip banks 0/1.

    lookup: 8 overhead + ceil(6/8)=1 index beat + slowest channel, DDR:
            40 + 1 beat = 50 cycles; interval max(1 beat, 1 * 40) = 40
    mlp0 48->16 on 4 PEs x 4 lanes: ceil(16/4)*ceil(48/4) = 48 MACs, +4 = 52
    mlp1 16->8: 2*4 = 8, +4 = 12;  mlp2 8->1: 1*2 = 2, +4 = 6
    latency 50+52+12+6 = 120 cycles = 1.0 us at 120 MHz; interval 48
    (mlp0) -> 2.5e6 items/s.
    """
    r = predict(tiny_pl, PerfParams(), MlpArch(pes=4, lanes=4))
    assert [(s.name, s.latency, s.interval) for s in r.stages] == [
        ("lookup", 50, 40), ("mlp0", 52, 48), ("mlp1", 12, 8), ("mlp2", 6, 2)]
    assert r.channel_cycles == {"ch0": 37, "ch1": 37, "ch2": 37, "ch32": 41,
                                "bank0": 13, "bank1": 13}
    assert r.latency_cycles == 120 and r.interval_cycles == 48 and r.bottleneck == "mlp0"
    assert r.latency_us == pytest.approx(1.0)
    assert r.items_per_cycle == pytest.approx(1 / 48)
    assert r.items_per_s == pytest.approx(2.5e6)
    assert r.batch_cycles(1) == 120 and r.batch_cycles(10) == 120 + 9 * 48
    assert r.dram_rounds == 1 and r.onchip_rounds == 1
    s = r.summary()
    assert s["latency_cycles"] == 120 and s["stages"]["mlp0"] == (52, 48)


def test_wide_rows_cost_beats_and_outstanding_reads_overlap():
    cfg = ModelConfig("w", [TableConfig(f"t{i}", 100, 64, "hbm", 0) for i in range(3)], [1])
    pl = place(cfg)                     # 3 lookups of 128 B = 4 beats each on channel 0
    one = predict(pl, PerfParams())
    assert one.stage("lookup").latency == 8 + 1 + 3 * 36 + 12
    assert one.stage("lookup").interval == 3 * 36
    two = predict(pl, PerfParams(outstanding=2))
    assert two.stage("lookup").latency == 8 + 1 + 2 * 36 + 12
    assert two.stage("lookup").interval == 54
    many = predict(pl, PerfParams(outstanding=64))
    assert many.stage("lookup").interval == 12        # bandwidth-bound: 12 beats


def test_table3_lookup_latency_near_microrec():
    """1 round ~ 458 ns and 2 rounds ~ 774 ns in MicroRec Table 3."""
    cfg = builtin("microrec_small_47")
    before = predict(plan_none(cfg).placement).stage("lookup").latency
    after = predict(plan_search(cfg).placement).stage("lookup").latency
    p = PerfParams()
    assert before > after
    assert p.ns(after) == pytest.approx(458, rel=0.10)
    assert p.ns(before) == pytest.approx(774, rel=0.10)


def test_microrec_mlp_cycles():
    cfg = builtin("microrec_small")       # 352-1024-512-256-1 on 128/128/32/1 PEs of 8 lanes
    macs = [s.interval for s in mlp_stages(cfg, MICROREC_MLP, PerfParams())]
    assert macs == [8 * 44, 4 * 128, 8 * 64, 1 * 32]
    r = predict(place(cfg), mlp=MICROREC_MLP)
    assert r.interval_cycles == 512 and r.items_per_s == pytest.approx(120e6 / 512)


def test_monotone_in_rounds_latency_and_hardware():
    cfg = builtin("microrec_small_47")
    base = predict(place(cfg))
    # more rounds (fewer channels) never helps
    lat = [predict_config(cfg, platform=Platform(hbm_channels=c), respect_channels=False)
           .stage("lookup").latency for c in (32, 16, 8, 1)]
    assert lat == sorted(lat) and lat[0] < lat[-1]
    # slower memory never helps
    prev = None
    for h in (20, 36, 60, 120):
        r = predict(place(cfg), PerfParams(lat_hbm=h))
        if prev is not None:
            assert r.latency_cycles >= prev.latency_cycles
            assert r.interval_cycles >= prev.interval_cycles
        prev = r
    # more PEs or lanes never hurt
    for a, b in ((MlpArch(8, 8), MlpArch(16, 8)), (MlpArch(16, 4), MlpArch(16, 8))):
        ra, rb = predict(place(cfg), mlp=a), predict(place(cfg), mlp=b)
        assert rb.latency_cycles <= ra.latency_cycles and rb.interval_cycles <= ra.interval_cycles
    # the clock scales time, not cycles
    fast = predict(place(cfg), PerfParams(clock_hz=240e6))
    assert fast.latency_cycles == base.latency_cycles
    assert fast.latency_us == pytest.approx(base.latency_us / 2)
    assert fast.items_per_s == pytest.approx(2 * base.items_per_s)


def test_onchip_rule_matches_platform_default():
    assert PerfParams().onchip_lookups_per_round() == Platform().onchip_lookups_per_bank == 2
    assert PerfParams(lat_onchip=8).onchip_lookups_per_round() == 4


def test_calibrate_recovers_measurements():
    truth = PerfParams(lat_hbm=57, lookup_overhead=21, layer_overhead=9)
    samples = []
    for name, mlp in (("tiny", MlpArch(4, 4)), ("microrec_small", MICROREC_MLP),
                      ("dlrm_kaggle", MlpArch(32, 8))):
        pl = place(builtin(name))
        r = predict(pl, truth, mlp)
        samples.append(Sample(pl, mlp, r.latency_cycles, r.interval_cycles))
    start = PerfParams()
    assert max(abs(e) for s in samples for e in (
        (predict(s.placement, start, s.mlp).latency_cycles - s.latency_cycles) / s.latency_cycles,
    )) > 0.05
    cal = calibrate(samples, start)
    assert cal.max_rel_error < 1e-9
    for s in samples:
        assert predict(s.placement, cal.params, s.mlp).latency_cycles == s.latency_cycles
    # only the fitted parameters move
    fitted = dict(lat_hbm=1, lookup_overhead=0, layer_overhead=0)
    assert replace(cal.params, **fitted) == replace(start, **fitted)


def test_parameter_validation():
    with pytest.raises(ValueError, match="clock_hz"):
        PerfParams(clock_hz=0)
    with pytest.raises(ValueError, match="lat_hbm"):
        PerfParams(lat_hbm=0)
    with pytest.raises(ValueError, match="outstanding"):
        PerfParams(outstanding=0)
    with pytest.raises(ValueError, match="3 entries for 4 layers"):
        predict(place(builtin("microrec_small")), mlp=MlpArch(pes=(1, 2, 3)))
    with pytest.raises(ValueError, match="fit"):
        calibrate([], fit=("clock_hz",))


# ---- this project's engines: shared MLP array, lookup stage alone, issue cost ----

def test_shared_mlp_matches_the_engine_bank_plan():
    """One 128 x 24 array runs the layers in sequence: its interval is the sum of
    beats x rounds of tb/mlp/mlp_layout.bank_plan (352-1024-512-256-1: 15*8 +
    43*4 + 22*2 + 11*1 = 347 cycles)."""
    from models.perf_model import ENGINE_MLP, mlp_macs
    from tb.mlp.mlp_layout import EngineBuild, bank_plan

    for name in ("tiny", "microrec_small", "microrec_large", "dlrm_kaggle"):
        cfg = builtin(name)
        plan = bank_plan(EngineBuild(P=128, U=24), cfg.layer_shapes)
        assert mlp_macs(cfg, ENGINE_MLP) == [lp["cycles"] for lp in plan]
    cfg = builtin("microrec_small")
    assert sum(mlp_macs(cfg, ENGINE_MLP)) == 15 * 8 + 43 * 4 + 22 * 2 + 11 * 1 == 347
    st = mlp_stages(cfg, ENGINE_MLP, PerfParams(layer_overhead=3, layer_interval_overhead=1))
    assert [(s.name, s.latency, s.interval) for s in st] == [("mlp", 347 + 4 * 3, 347 + 4 * 1)]
    r = predict(place(cfg), PerfParams(), ENGINE_MLP)
    assert [s.name for s in r.stages] == ["lookup", "mlp"] and r.interval_cycles == 347


def test_predict_lookup_is_the_lookup_stage(tiny_pl):
    from models.perf_model import predict_lookup

    full = predict(tiny_pl, PerfParams(), MlpArch(4, 4))
    alone = predict_lookup(tiny_pl, PerfParams())
    assert [s.name for s in alone.stages] == ["lookup"]
    assert alone.stage("lookup") == full.stage("lookup")
    assert alone.latency_cycles == 50 and alone.interval_cycles == 40


def test_pipelined_channels_and_issue_cost():
    """64 reads in flight: 3 one-beat lookups on a channel take lat + 3 beats,
    plus lookup_issue per lookup after the first; the interval is the beats."""
    from models.perf_model import predict_lookup

    cfg = ModelConfig("p", [TableConfig(f"t{i}", 100, 8, "hbm", 0) for i in range(3)], [1])
    pl = place(cfg)
    p = PerfParams(outstanding=64, indices_per_beat=64, lookup_overhead=10, lat_hbm=20)
    assert predict_lookup(pl, p).stage("lookup") == Stage("lookup", 10 + 1 + 20 + 3, 3)
    q = replace(p, lookup_issue=2)
    assert predict_lookup(pl, q).stage("lookup") == Stage("lookup", 10 + 1 + 20 + 3 + 2 * 2, 3 + 2 * 2)


def test_calibrate_lookup_only_samples():
    """Samples of the lookup stage alone (the lookup RTL bench) fit the memory
    latencies, the fixed overhead and the issue cost; the MLP is ignored."""
    from models.perf_model import predict_lookup

    base = PerfParams(outstanding=64, onchip_outstanding=64, indices_per_beat=128)
    truth = replace(base, lat_hbm=17, lat_ddr=23, lookup_overhead=19, lookup_issue=1)
    samples = []
    for name in ("microrec_small_47", "dlrm_kaggle"):
        for h in (1, 8, 32):
            pl = place(builtin(name), (), Platform(hbm_channels=h), respect_tiers=False,
                       respect_channels=False)
            samples.append(Sample(pl, MICROREC_MLP, predict_lookup(pl, truth).latency_cycles,
                                  lookup_only=True))
    cal = calibrate(samples, base, fit=("lat_hbm", "lat_ddr", "lookup_overhead", "lookup_issue"))
    assert cal.max_rel_error < 0.02
    for s in samples:
        assert abs(predict_lookup(s.placement, cal.params).latency_cycles - s.latency_cycles) \
            <= 0.02 * s.latency_cycles
