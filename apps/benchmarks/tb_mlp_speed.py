"""cocotb benchmark of rtl/mlp/mlp_engine.sv (driven by apps/benchmarks/mlp.py).

Loads a model (the knob `model`, default microrec_small) with its golden weights,
measures the latency of one inference on an idle engine, then streams
`items` inferences back to back with the output always ready and measures
the steady-state interval, MACs/cycle and per-layer utilization from the
engine's own counters. Every logit is checked against the golden model.
Python acts per feature beat and per logit only. Writes bench.json into the
test directory.
"""
from __future__ import annotations

import json
import time

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from models.config import builtin
from models.golden import gather, mlp_forward, mlp_weights
from models.queries import uniform_queries
from tb.common.clock_reset import start_clock_and_reset
from tb.common.spec import load_spec, run_dir
from tb.mlp.dut import MlpKnobs
from tb.mlp.agent import read_perf
from tb.mlp.mlp_layout import EngineBuild, bank_plan, config_ports, feature_beats, weight_writes


def macs_total(dut, build) -> int:
    v, mask = int(dut.perf_macs.value), (1 << build.CNT_W) - 1
    return sum((v >> (build.CNT_W * l)) & mask for l in range(build.MAX_LAYERS))


async def send(dut, beats, tag, starts=None):
    dut.feat_tag.value = tag
    for i, beat in enumerate(beats):
        dut.feat_data.value = beat
        dut.feat_valid.value = 1
        while not int(dut.feat_ready.value):
            await RisingEdge(dut.feat_ready)
            await FallingEdge(dut.clk)
        if i == 0 and starts is not None:
            starts.append(int(dut.perf_cycles.value))  # taken at the coming edge
        await FallingEdge(dut.clk)
    dut.feat_valid.value = 0


async def collect(dut, n, out, build):
    """Output always ready; records (logit, tag, cycle counter, MACs so far) per logit."""
    while len(out) < n:
        if not int(dut.out_valid.value):
            await RisingEdge(dut.out_valid)
            await FallingEdge(dut.clk)
        out.append((dut.out_logit.value.to_signed(), int(dut.out_tag.value), int(dut.perf_cycles.value),
                    macs_total(dut, build)))
        await FallingEdge(dut.clk)


@cocotb.test()
async def mlp_bench(dut):
    spec = load_spec()
    build, knobs = spec.build_as(EngineBuild), spec.knobs_as(MlpKnobs)
    cfg = builtin(knobs.model or "microrec_small")
    n = knobs.items
    weights = mlp_weights(cfg)
    feats = gather(cfg, uniform_queries(cfg, n + 1, seed=7))
    want = mlp_forward(cfg, feats, weights)
    plan = bank_plan(build, cfg.layer_shapes)

    for s in ("feat_valid", "w_we", "perf_clear", "out_ready"):
        getattr(dut, s).value = 0
    await start_clock_and_reset(dut.clk, dut.rst_n)
    await FallingEdge(dut.clk)
    for port, val in config_ports(build, cfg.layer_shapes, cfg.frac_bits).items():
        getattr(dut, port).value = val
    t0 = time.perf_counter()
    writes = weight_writes(build, weights)
    for bias, pe, addr, data in writes:
        dut.w_bias.value = bias
        dut.w_pe.value = pe
        dut.w_addr.value = addr
        dut.w_data.value = data
        dut.w_we.value = 1
        await FallingEdge(dut.clk)
    dut.w_we.value = 0
    t_load = time.perf_counter() - t0
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    assert not int(dut.cfg_err.value), "configuration rejected"
    beats = [feature_beats(build, x) for x in feats]

    # ---- latency: one inference on an idle engine ------------------------
    dut.perf_clear.value = 1
    await FallingEdge(dut.clk)
    dut.perf_clear.value = 0
    out = []
    dut.out_ready.value = 1
    mon = cocotb.start_soon(collect(dut, 1, out, build))
    c0 = int(dut.perf_cycles.value)
    await send(dut, beats[0], 0)
    await mon
    latency = out[0][2] - c0 + 1  # first feature beat taken .. logit presented
    single = read_perf(dut, build)
    while not int(dut.idle.value):
        await FallingEdge(dut.clk)

    # ---- steady state: n inferences back to back -------------------------
    dut.perf_clear.value = 1
    await FallingEdge(dut.clk)
    dut.perf_clear.value = 0
    dut.out_ready.value = 1
    out = []
    t0 = time.perf_counter()
    mon = cocotb.start_soon(collect(dut, n, out, build))
    starts = []
    for i in range(n):
        await send(dut, beats[i + 1], i + 1, starts)
    await mon
    wall = time.perf_counter() - t0
    perf = read_perf(dut, build)
    got = [o[0] for o in out]
    assert got == [int(v) for v in want[1:]], "logits differ from the golden model"
    assert [o[1] for o in out] == list(range(1, n + 1)), "tags out of order"

    arrivals = [o[2] for o in out]
    # steady state: skip the fill (first L+2 logits) and the drain (last L+3,
    # sent when no more input was queued behind them)
    nl = len(cfg.layer_shapes)
    a, b = nl + 2, n - 1 - (nl + 3)
    assert b - a >= 4, f"items={n} too small for a steady-state window (at least {2 * nl + 10})"
    steady_interval = (arrivals[b] - arrivals[a]) / (b - a)
    steady_macs = (out[b][3] - out[a][3]) / (arrivals[b] - arrivals[a])
    loaded = [arr - st for arr, st in zip(arrivals, starts)]
    macs_inf = sum(lp["macs"] for lp in plan)
    lanes = build.P * build.U
    res = {
        "P": build.P, "U": build.U, "lanes": lanes, "model": cfg.name,
        "shapes": cfg.layer_shapes, "items": n,
        "macs_per_inference": macs_inf,
        "ideal_cycles_per_inference": sum(lp["cycles"] for lp in plan),
        "latency_cycles": latency,
        "single_idle_cycles": single["perf_idle"],
        "steady_interval_cycles": steady_interval,
        "throughput_inf_per_cycle": 1.0 / steady_interval,
        "steady_macs_per_cycle": steady_macs,
        "steady_utilization": steady_macs / lanes,
        "steady_window": [a, b],
        "latency_loaded_median": int(np.median(loaded[a:b + 1])),
        "latency_loaded_max": max(loaded),
        "run_cycles": perf["perf_cycles"],
        "run_utilization": sum(perf["perf_macs"]) / perf["perf_cycles"] / lanes,
        "first_arrival": arrivals[0],
        "layers": [
            {"shape": list(s), "busy": perf["perf_busy"][l], "macs": perf["perf_macs"][l],
             "stall_dst": perf["perf_stall_dst"][l], "stall_arr": perf["perf_stall_arr"][l],
             "util_while_busy": perf["perf_macs"][l] / max(1, perf["perf_busy"][l]) / lanes,
             "share_of_time": perf["perf_busy"][l] / perf["perf_cycles"]}
            for l, s in enumerate(cfg.layer_shapes)
        ],
        "idle_cycles": perf["perf_idle"],
        "weight_words": len(writes), "load_wall_s": t_load,
        "stream_wall_s": wall, "sim_cycles_per_s": perf["perf_cycles"] / wall,
    }
    (run_dir() / "bench.json").write_text(json.dumps(res, indent=1))
    dut._log.info("bench: " + json.dumps({k: v for k, v in res.items() if k != "layers"}))
