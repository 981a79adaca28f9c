"""Self-tests of the memory model: exact ideal latency and bandwidth, u280 rows and refresh, out-of-order completion."""
from __future__ import annotations

import cocotb
from cocotb.triggers import ClockCycles

from tb.common.seeding import py_random
from tb.hbm import ideal
from tb.hbm import regs as R
from tb.hbm.harness import (BEAT, DATA_W, NUM_CH, axi_master, bring_up, expect_done, make_cfg, measure_latency, sample_regions)
from tb.hbm.tgen import TgenCfg, TrafficGens


@cocotb.test()
async def test_ideal_timing(dut):
    """ideal: exact latency L per read, exactly one beat per cycle when saturated."""
    for lat in (1, 7, 23):
        mem = await bring_up(make_cfg(timing=ideal(lat)), ext=(1, 0))
        await mem.idle()
        for k in range(3):
            got = await measure_latency(addr=k * 4096 + 64 * k)
            assert got == lat, f"ideal latency {lat}: measured {got}"
        # bandwidth: a generator with deep bursts and many outstanding reads on channel 1
        tg = TrafficGens(dut, DATA_W, NUM_CH)
        n, blen = 200, 16
        await tg.setup(1, TgenCfg(random=False, idx_mask=(1 << 12) - 1,
                                  stride_lg=(BEAT * blen).bit_length() - 1, len=blen - 1,
                                  n_ids=4, count=n))
        await mem.clear_stats(1)
        await tg.start([1])
        await expect_done(tg, mem, 100000)
        s = (await mem.stats([1]))[0]
        assert s.read_beats == n * blen
        assert s.lat_min == lat and s.lat_max >= lat
        # every cycle from the first beat to the last carries a beat: busy == beats, and the
        # whole run takes the latency plus one cycle per beat (plus generator start-up)
        assert s.r_busy == n * blen and s.r_stall == 0 and s.bw_stall == 0
        mem.stop()
        cocotb.log.info("ideal L=%d: %d beats, %d cycles, latency %d..%d", lat, s.read_beats,
                        s.cycles, s.lat_min, s.lat_max)


@cocotb.test()
async def test_ideal_bandwidth_exact(dut):
    """ideal: N back-to-back single-beat reads take exactly L + N - 1 cycles to the last beat."""
    lat, n = 12, 64
    mem = await bring_up(make_cfg(timing=ideal(lat), log=True), ext=(1, 0))
    tg = TrafficGens(dut, DATA_W, NUM_CH)
    await tg.setup(1, TgenCfg(random=False, idx_mask=4095, stride_lg=BEAT.bit_length() - 1, len=0,
                              n_ids=8, count=n))
    await tg.start([1])
    await expect_done(tg, mem, 10000)
    all_txns = await mem.drain()
    txns = [t for t in all_txns if t.ch == 1]
    assert len(txns) == n, (len(all_txns), hex(await mem.read_reg(1, R.R_CTRL)), mem._log_path)
    acc = [t.t_accept for t in txns]
    assert acc == list(range(acc[0], acc[0] + n)), "generator did not issue one read per cycle"
    firsts = [t.t_first for t in txns]
    assert firsts == [a + lat for a in acc], "latency not exactly L with one beat per cycle"
    assert max(t.t_done for t in txns) - acc[0] == lat + n - 1


@cocotb.test()
async def test_u280_rows_refresh(dut):
    """u280: closed/hit/miss latencies from CL, tRCD, tRP; refresh stalls and closes rows."""
    cfg = make_cfg("u280", log=True)
    t = cfg.timing
    mem = await bring_up(cfg, ext=(1, 0))
    await mem.write_reg(0, R.R_REF_PHASE, 0)
    await mem.idle()
    page = 1 << t.col_bits
    bank_stride = page                      # next bank
    row_stride = page << t.bank_bits        # next row, same bank
    # wait until just after a refresh window so the first three reads see no refresh
    cyc = await mem.cycle()
    k = cyc // t.t_refi + 1
    await ClockCycles(dut.clk, k * t.t_refi + t.t_rfc + 5 - cyc)
    lats = [await measure_latency(addr=0x40000),                 # closed
            await measure_latency(addr=0x40000 + 64),            # same row: hit
            await measure_latency(addr=0x40000 + row_stride),    # same bank, other row: miss
            await measure_latency(addr=0x40000 + bank_stride)]   # other bank: closed
    assert lats == [t.closed_latency, t.hit_latency, t.miss_latency, t.closed_latency], \
        f"latencies {lats}, expected closed {t.closed_latency} hit {t.hit_latency} miss {t.miss_latency}"
    assert t.hit_latency == 48 and t.closed_latency == 55 and t.miss_latency == 62
    txns = await mem.drain()
    assert [x.row for x in txns[-4:]] == ["closed", "hit", "miss", "closed"]
    # a read issued inside a refresh window waits for its end, and finds the row closed
    cyc = await mem.cycle()
    k = cyc // t.t_refi + 1
    await ClockCycles(dut.clk, k * t.t_refi + 10 - cyc)
    lat = await measure_latency(addr=0x40000 + 128)             # row was open before refresh
    txn = (await mem.drain())[-1]
    assert txn.refresh and txn.row == "closed", str(txn)
    ph = (txn.t_accept) % t.t_refi
    assert lat == t.t_rfc - ph + t.closed_latency, f"refresh: latency {lat}, phase {ph}"
    s = (await mem.stats([0]))[0]
    assert s.ref_stalls == 1 and s.ref_stall_cyc == t.t_rfc - ph
    assert s.row_hit == 1 and s.row_miss == 1 and s.row_closed == 3
    # bandwidth cap: 14.375 GB/s at 450 MHz x 32 B is 0.998 beats/cycle; saturate channel 1
    tg = TrafficGens(dut, DATA_W, NUM_CH)
    n, blen = 400, 16
    await tg.setup(1, TgenCfg(random=False, idx_mask=4095, stride_lg=(BEAT * blen).bit_length() - 1,
                              len=blen - 1, n_ids=8, count=n))
    await mem.clear_stats(1)
    await tg.start([1])
    await expect_done(tg, mem, 100000)
    s = (await mem.stats([1]))[0]
    cap = t.bw_beats_per_cycle
    busy_span = s.r_busy + s.bw_stall
    assert s.bw_stall > 0, "bandwidth cap never limited a saturated channel"
    assert abs(s.read_beats / busy_span - cap) < 0.01 or s.read_beats / s.cycles <= cap + 1e-3
    cocotb.log.info("u280 saturated: %s", s.as_dict())


@cocotb.test()
async def test_out_of_order(dut):
    """u280 (ooo on): a row hit on one ID overtakes an older miss on another; per ID in order.
    ideal (ooo off): everything in order."""
    for name in ("u280", "ideal"):
        cfg = make_cfg(name, log=True, allow_unaligned=True)
        if name == "u280":
            cfg.timing = cfg.timing.with_(t_refi=0)
        mem = await bring_up(cfg, ext=(1, 0))
        await mem.set_regions(sample_regions(0))
        m = axi_master()
        t = cfg.timing
        row_stride = (1 << t.col_bits) << t.bank_bits
        # open a row in bank 0, then: miss on ID 1 (bank 0, other row), hit on ID 2 (bank 1 after
        # opening), and a second read on ID 1 that must wait for the first
        await m.read(0x0, BEAT)
        await m.read(1 << t.col_bits, BEAT)
        await mem.drain()
        ops = [m.init_read(row_stride, BEAT, arid=1),             # miss (bank 0)
               m.init_read(1 << t.col_bits, BEAT, arid=2),        # hit (bank 1), younger
               m.init_read(row_stride + 64, BEAT, arid=1)]        # same ID as the miss
        for op in ops:
            await op.wait()
        for op, addr in zip(ops, (row_stride, 1 << t.col_bits, row_stride + 64)):
            assert op.data.data == mem.expected_bytes(0, addr, BEAT)
        txns = [x for x in await mem.drain() if x.ch == 0]
        done = {(x.id, x.addr): x for x in txns}
        miss, hit, second = done[(1, row_stride)], done[(2, 1 << t.col_bits)], done[(1, row_stride + 64)]
        if name == "u280":
            assert hit.t_done < miss.t_done and hit.t_accept > miss.t_accept, \
                f"no overtaking: {miss} / {hit}"
        else:
            assert miss.t_done < hit.t_done < second.t_done
        assert second.t_first > miss.t_done, "same-ID bursts completed out of order"
        # many random reads on 8 IDs: per-ID order holds, some overtaking happens (u280)
        r = py_random(7)
        ops = [(m.init_read(r.randrange(0, 1 << 20, BEAT), BEAT * r.choice((1, 2, 4)), arid=r.randrange(8)))
               for _ in range(60)]
        for op in ops:
            await op.wait()
        txns = [x for x in await mem.drain() if x.ch == 0]
        by_id: dict[int, list] = {}
        for x in sorted(txns, key=lambda x: x.t_accept):
            by_id.setdefault(x.id, []).append(x)
        for lst in by_id.values():
            assert all(a.t_done < b.t_first for a, b in zip(lst, lst[1:])), "per-ID order broken"
        overtakes = sum(1 for a in txns for b in txns if a.t_accept < b.t_accept and a.t_done > b.t_done)
        cocotb.log.info("%s: %d overtakes among %d reads", name, overtakes, len(txns))
        assert (overtakes > 0) == (name == "u280")
        mem.stop()

