"""Speed benchmark body (run by apps/benchmarks/hbm_speed.py, not a test).

All 32 channels busy: every SV generator issues a single-beat read per cycle
(random rows, 8 IDs, u280 timing), so each channel moves about one 256-bit
beat per cycle with the procedural hash computed for every beat. Modes:
  idle  - Python only awaits one Timer for the whole window;
  idle1k - Python wakes every 1024 cycles and does nothing;
  bench - the Python a real bench runs: violation watcher armed, a Timer wake
          every 1024 cycles that reads the SV counters (stats of 4 channels)
          and checks generator progress (per batch, never per cycle);
  log   - as bench, plus the per-transaction log drained into a coverage
          subscriber every 2048 cycles (Python work per transaction).
"""
from __future__ import annotations

import json
import time

import cocotb
from cocotb.triggers import Timer

from tb.common.clock_reset import CLK_PERIOD_NS
from tb.common.spec import run_dir
from tb.hbm import HbmConfig, HbmRegion
from tb.hbm.harness import BEAT, KNOBS, NUM_CH, bring_up
from tb.hbm.tgen import TgenCfg, TrafficGens


@cocotb.test()
async def bench_speed(dut):
    mode = KNOBS.bench_mode
    cycles = KNOBS.bench_cycles
    cfg = HbmConfig.preset("u280", num_ch=NUM_CH, log=(mode == "log"), rng_seed=1)
    mem = await bring_up(cfg, ext=(0, 0))
    tg = TrafficGens(dut, BEAT * 8, NUM_CH)
    regions = [HbmRegion(ch=c, base=0, rows=1 << 20, dim=16, table=c) for c in range(NUM_CH)]
    await mem.set_regions(regions)
    for c in range(NUM_CH):
        await tg.setup(c, TgenCfg(idx_mask=(1 << 20) - 1, stride_lg=5, len=0, n_ids=8, count=0,
                                  seed=c + 1, addr_seed=c + 1))
    subscriber_hits = [0]
    if mode == "log":
        from tb.common.fcov import Covergroup
        cg = Covergroup("bench")
        cg.point("row", ["hit", "closed", "miss", "none"])

        def sub(t):
            cg.sample("row", t.row or "none")
            subscriber_hits[0] += 1
        mem.subscribers.append(sub)
    await tg.start()
    await Timer(2000 * CLK_PERIOD_NS, unit="ns")        # warm up
    await mem.clear_stats()
    c0 = await mem.cycle()
    t0 = time.perf_counter()
    p0 = time.process_time()
    if mode == "idle":
        await Timer(cycles * CLK_PERIOD_NS, unit="ns")
    elif mode == "idle1k":                       # idle, but woken every 1024 cycles
        for _ in range(cycles // 1024):
            await Timer(1024 * CLK_PERIOD_NS, unit="ns")
    else:
        batch = 1024
        polls = 0
        while await mem.cycle() - c0 < cycles:
            await Timer(batch * CLK_PERIOD_NS, unit="ns")
            st = await mem.stats([polls % NUM_CH, (polls + 8) % NUM_CH, (polls + 16) % NUM_CH,
                                  (polls + 24) % NUM_CH])
            assert all(s.violations == 0 for s in st)
            polls += 1
            if mode == "log" and polls % 2 == 0:
                await mem.drain()
    t1 = time.perf_counter()
    p1 = time.process_time()
    c1 = await mem.cycle()
    await tg.stop()
    stats = await mem.stats()
    sim_cycles = c1 - c0
    beats = sum(s.read_beats for s in stats)
    res = {"mode": mode, "cycles": sim_cycles, "wall_s": t1 - t0, "cycles_per_s": sim_cycles / (t1 - t0),
           "cpu_s": p1 - p0, "cycles_per_cpu_s": sim_cycles / (p1 - p0),
           "channels": NUM_CH, "beats": beats, "beats_per_cycle_per_channel": beats / sim_cycles / NUM_CH,
           "min_channel_util": min(s.utilization for s in stats),
           "txns_to_python": subscriber_hits[0]}
    cocotb.log.info("HBM BENCH %s", json.dumps(res))
    with open(run_dir() / "hbm_bench.json", "w") as fh:
        json.dump(res, fh)
    mem.check()
