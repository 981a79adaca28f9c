"""cocotb self-tests of the SV memory model on hbm_tb_top (run through tests/test_hbm_model.py).

The independent masters are cocotbext-axi's AxiMaster (channel 0 via m0_axi_*)
and the SV traffic generators (every other channel); protocol violations are
driven by hand on m0_axi_*. Expected data always comes from models/tables.py.
"""
from __future__ import annotations

import os

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import ClockCycles, FallingEdge, First, ReadOnly, RisingEdge, Timer
from cocotbext.axi import AxiBurstType, AxiBus, AxiMaster
from pyuvm import ConfigDB, uvm_env, uvm_subscriber, uvm_test

from models import tables
from tb.common.bench import CLK_PERIOD_NS, py_random, rng, start_clock_and_reset, test_seed
from tb.hbm import HbmConfig, HbmCoverage, HbmMemory, HbmMemoryAgent, HbmRegion, ideal, u280
from tb.hbm import regs as R
from tb.hbm.tgen import TgenCfg, TrafficGens

NUM_CH = int(os.environ.get("HBM_NUM_CH", "32"))
DATA_W = int(os.environ.get("HBM_DATA_W", "256"))
ID_W = int(os.environ.get("HBM_ID_W", "6"))
BEAT = DATA_W // 8


def make_cfg(name="ideal", **kw) -> HbmConfig:
    kw.setdefault("rng_seed", test_seed())
    kw.setdefault("seed", 0xC0FFEE)
    if name == "ideal":
        t = kw.pop("timing", ideal(kw.pop("latency", 10)))
        return HbmConfig(num_ch=NUM_CH, data_w=DATA_W, id_w=ID_W, timing=t, **kw)
    return HbmConfig.preset(name, num_ch=NUM_CH, data_w=DATA_W, id_w=ID_W, **kw)


async def bring_up(cfg: HbmConfig, ext=(1, 0), start=True) -> HbmMemory:
    dut = cocotb.top
    dut.hbm_cmd_valid.value = 0
    dut.tg_cfg_valid.value = 0
    dut.ext_sel.value = ext[0] | (ext[1] << 1)
    for m in ("m0", "m1"):
        for s in ("arvalid", "awvalid", "wvalid", "rready", "bready"):
            getattr(dut, f"{m}_axi_{s}").value = 0
    if not _clock_started:
        await start_clock_and_reset(dut.clk, dut.rst_n)
        _clock_started.append(True)
    else:
        dut.rst_n.value = 0
        await ClockCycles(dut.clk, 5)
        dut.rst_n.value = 1
        await RisingEdge(dut.clk)
    mem = HbmMemory(cfg)
    if start:
        await mem.start()
    return mem


_clock_started: list = []
_masters: dict = {}


def axi_master(name="m0_axi") -> AxiMaster:
    """One AxiMaster per port for the whole simulation (it follows resets itself)."""
    dut = cocotb.top
    if name not in _masters:
        _masters[name] = AxiMaster(AxiBus.from_prefix(dut, name), dut.clk, dut.rst_n,
                                   reset_active_level=False)
    return _masters[name]


async def expect_done(tg: TrafficGens, mem: HbmMemory, cycles: int, channels=(1,)) -> None:
    if not await tg.wait_done(cycles):
        info = [(ch, await tg.status(ch), (await mem.stats([ch]))[0].as_dict()) for ch in channels]
        raise AssertionError(f"traffic generators not done after {cycles} cycles: {info}")


def sample_regions(ch: int = 0) -> list[HbmRegion]:
    """Plain tables of several strides (rows sharing a beat, spanning beats, odd dims)
    and two products (even and odd dim_A), 4 KiB aligned."""
    specs = [dict(rows=1000, dim=8, table=3), dict(rows=777, dim=16, table=0),
             dict(rows=300, dim=20, table=7), dict(rows=50, dim=3, table=41),
             dict(rows=40 * 90, dim=24, table=5, table_b=9, rows_b=90, dim_a=8),
             dict(rows=13 * 11, dim=8, table=2, table_b=4, rows_b=11, dim_a=3)]
    out, base = [], 0
    for s in specs:
        g = HbmRegion(ch=ch, base=base, **s)
        out.append(g)
        base += -(-g.nbytes // 4096) * 4096
    return out


def rows_direct(mem: HbmMemory, g: HbmRegion, idx) -> np.ndarray:
    """The rows straight from models/tables.py's public functions (not via expected_bytes)."""
    idx = np.asarray(idx)
    if not g.is_product:
        return tables.table_rows(mem.cfg.seed, g.table, idx, g.dim, mem.cfg.emb_shift)
    a = tables.table_rows(mem.cfg.seed, g.table, idx // g.rows_b, g.dim_a, mem.cfg.emb_shift)
    b = tables.table_rows(mem.cfg.seed, g.table_b, idx % g.rows_b, g.dim - g.dim_a, mem.cfg.emb_shift)
    return np.concatenate([a, b], axis=-1)


def as_rows(data: bytes, g: HbmRegion) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").reshape(-1, g.stride // 2)[:, :g.dim]


# ---------------------------------------------------------------------------- data
@cocotb.test()
async def test_data(dut):
    """Procedural rows (plain, product, odd dims) over AXI and backdoor equal models/tables.py;
    backdoor and AXI writes override them, byte exact."""
    r = rng(1)
    # cocotbext-axi issues unaligned INCR starts for unaligned byte ranges (legal AXI)
    mem = await bring_up(make_cfg(allow_unaligned=True))
    for seed, shift in ((0xC0FFEE, 5), (0xFFFFFFFF, 0)):
        mem.cfg.seed, mem.cfg.emb_shift = seed, shift
        await mem.configure()
        await mem.clear_overrides()
        regions = sample_regions(0)
        await mem.set_regions(regions)
        m = axi_master()
        for g in regions:
            idx = r.integers(0, g.rows, size=12)
            idx[0], idx[1] = 0, g.rows - 1
            want = rows_direct(mem, g, idx)
            for i, row in zip(idx, want):
                got = await m.read(g.row_addr(int(i)), g.stride)
                assert got.resp == 0, f"resp {got.resp}"
                np.testing.assert_array_equal(as_rows(got.data, g)[0], row,
                                              err_msg=f"AXI row {i} of {g} seed {seed:#x}")
            # a run of rows through the backdoor (one command per beat)
            r0 = int(r.integers(0, max(1, g.rows - 8)))
            n = min(8, g.rows - r0)
            bd = await mem.backdoor_read(0, g.row_addr(r0), n * g.stride)
            np.testing.assert_array_equal(as_rows(bd, g), rows_direct(mem, g, np.arange(r0, r0 + n)),
                                          err_msg=f"backdoor rows {r0}.. of {g}")
            # unaligned multi-beat AXI read across rows, against the byte image
            a = g.base + int(r.integers(0, g.nbytes - 100))
            got = await m.read(a, 97)
            assert got.data == mem.expected_bytes(0, a, 97), f"unaligned read at {a:#x}"
        # past the last row of a table and between regions: zeros
        g = regions[0]
        got = await m.read(g.end, 64)
        assert got.data == bytes(64)
        # overrides: full-range rows through the backdoor
        g = regions[1]
        full = r.integers(-32768, 32768, size=(3, g.dim)).astype(np.int16)
        full[0, 0], full[0, 1] = -32768, 32767
        await mem.write_rows(g, 10, full)
        for k in range(3):
            got = await m.read(g.row_addr(10 + k), g.stride)
            np.testing.assert_array_equal(as_rows(got.data, g)[0], full[k])
        nb = await m.read(g.row_addr(13), g.stride)   # neighbour untouched
        np.testing.assert_array_equal(as_rows(nb.data, g)[0], rows_direct(mem, g, [13])[0])
        # partial AXI write (unaligned, narrow strobes) merges with the procedural bytes
        a = regions[0].base + 5 * BEAT + 3
        payload = bytes(r.integers(0, 256, size=45).astype(np.uint8))
        await m.write(a, payload)
        got = await m.read(a - 3, 51)
        exp = bytearray(mem.expected_bytes(0, a - 3, 51))
        exp[3:48] = payload
        assert got.data == bytes(exp), "AXI write did not merge with procedural content"
        assert await mem.backdoor_read(0, a - 3, 51) == bytes(exp)
        st = (await mem.stats([0]))[0]
        assert st.writes >= 1 and st.reads > 0 and st.violations == 0
        mem.check()


@cocotb.test()
async def test_data_all_channels(dut):
    """Every channel serves its own regions: SV generators on all channels, random addresses,
    backpressure on both sides, u280 timing; XOR of all beats equals models/tables.py."""
    cfg = make_cfg("u280")
    mem = await bring_up(cfg, ext=(0, 0))
    tg = TrafficGens(dut, DATA_W, NUM_CH)
    regions = []
    n_bursts = int(os.environ.get("HBM_SOAK_BURSTS", "300"))
    for ch in range(NUM_CH):
        g = HbmRegion(ch=ch, base=0x10000 * (ch % 3), rows=4096, dim=(8, 16, 13)[ch % 3],
                      table=ch, table_b=(ch + 7) % 40 if ch % 4 == 3 else 0,
                      rows_b=64 if ch % 4 == 3 else 0, dim_a=5 if ch % 4 == 3 else 0)
        if g.is_product:
            g = HbmRegion(ch=ch, base=g.base, rows=64 * 64, dim=16, table=ch, table_b=(ch + 7) % 40,
                          rows_b=64, dim_a=5)
        regions.append(g)
        span = g.nbytes // BEAT
        length = (0, 3, 1)[ch % 3]
        await tg.setup(ch, TgenCfg(base=g.base, idx_mask=(span // (length + 1)) - 1,
                                   stride_lg=(BEAT * (length + 1)).bit_length() - 1, len=length,
                                   n_ids=1 + ch % 8, p_issue=0.5 + 0.5 * (ch % 2),
                                   p_rready=1.0 if ch % 3 else 0.7, count=n_bursts,
                                   seed=test_seed() * 100 + ch, addr_seed=ch + 1))
    await mem.set_regions(regions)
    await mem.set_faults(5, ar_stall=0.3, r_stall=0.3)
    await tg.start()
    assert await tg.wait_done(200 * n_bursts), "generators did not finish"
    stats = await mem.stats()
    for ch in range(NUM_CH):
        st = await tg.status(ch)
        assert st["issued"] == n_bursts and st["done"] == n_bursts, f"ch{ch}: {st}"
        assert st["rlast_errs"] == 0 and st["resp_errs"] == 0, f"ch{ch}: {st}"
        exp = tg.expected_xor(ch, n_bursts, regions, cfg.seed, cfg.emb_shift)
        assert st["xor"] == exp, f"ch{ch}: data XOR {st['xor']:#x} != models/tables.py {exp:#x}"
        s = stats[ch]
        assert s.reads == n_bursts and s.read_beats == st["beats"], f"ch{ch}: {s.as_dict()}"
        assert s.row_hit + s.row_miss + s.row_closed == n_bursts
    assert stats[5].ar_stall > 0
    cocotb.log.info("ch0 stats: %s", stats[0].as_dict())
    mem.check()


# ---------------------------------------------------------------------------- timing
async def measure_latency(m_prefix="m0_axi", addr=0, arid=0, arlen=0, size=None):
    """Drive one AR by hand, return cycles from the AR handshake edge to the first R handshake
    edge. Signals are sampled and driven at the falling edge, so each observation is exactly
    what the next rising edge will see."""
    dut = cocotb.top
    g = lambda n: getattr(dut, f"{m_prefix}_{n}")  # noqa: E731
    await FallingEdge(dut.clk)
    g("araddr").value = addr
    g("arid").value = arid
    g("arlen").value = arlen
    g("arsize").value = (BEAT.bit_length() - 1) if size is None else size
    g("arburst").value = 1
    g("arvalid").value = 1
    g("rready").value = 1
    t_ar = first = None
    n = 0                                   # index of the coming rising edge
    while True:
        # at a falling edge: these values are what rising edge n sees
        if t_ar is None and int(g("arready").value):
            t_ar = n
        if int(g("rvalid").value):
            if first is None:
                first = n
            if int(g("rlast").value):
                break
        await FallingEdge(dut.clk)
        n += 1
        if t_ar is not None:
            g("arvalid").value = 0
        assert n < 5000, "no read response"
    g("arvalid").value = 0
    await RisingEdge(dut.clk)
    return first - t_ar


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


# ---------------------------------------------------------------------------- faults
@cocotb.test()
async def test_faults(dut):
    """SLVERR/DECERR ranges, random errors, capacity DECERR, stuck channels, backpressure."""
    cfg = make_cfg(ch_bytes=1 << 24, allow_unaligned=True)
    mem = await bring_up(cfg, ext=(1, 0))
    regions = sample_regions(0)
    await mem.set_regions(regions)
    m = axi_master()
    await mem.set_faults(0, err_ranges=[(0x1000, 0x1040, "SLVERR"), (0x3000, 0x3020, "DECERR")])
    assert (await m.read(0x1000, BEAT)).resp == 2
    assert (await m.read(0x0FE0, BEAT)).resp == 0
    assert (await m.read(0x3000, BEAT)).resp == 3
    got = await m.read(0x0FE0, 3 * BEAT)          # only the middle beat is in the range
    assert got.resp == 2 and got.data[:BEAT] == mem.expected_bytes(0, 0x0FE0, BEAT)
    assert (await m.read((1 << 24) - BEAT, BEAT)).resp == 0
    assert (await m.read(1 << 24, BEAT)).resp == 3, "beyond capacity must be DECERR"
    # random error rate, DECERR flavour
    await mem.set_faults(0, err_rate=0.25, err_resp="DECERR")
    await mem.clear_stats(0)
    resps = [(await m.read(BEAT * i, BEAT)).resp for i in range(120)]
    nerr = sum(1 for x in resps if x == 3)
    assert set(resps) <= {0, 3} and 10 <= nerr <= 55, f"{nerr} DECERR of 120 at rate 0.25"
    s = (await mem.stats([0]))[0]
    assert s.err_beats == nerr
    # random AR and R backpressure: data still correct, stalls counted
    await mem.set_faults(0, ar_stall=0.5, r_stall=0.5)
    await mem.clear_stats(0)
    for i in range(10):
        a = regions[1].row_addr(i * 37)
        got = await m.read(a, 4 * BEAT)
        assert got.resp == 0 and got.data == mem.expected_bytes(0, a, 4 * BEAT)
    s = (await mem.stats([0]))[0]
    assert s.ar_stall > 0 and s.read_beats == 40
    cyc0 = await mem.cycle()
    # stuck, accepting: AR is taken, nothing ever comes back
    await mem.set_faults(0, stuck="no_response")
    op = m.init_read(0x100, BEAT)
    await First(op.wait(), ClockCycles(dut.clk, 2000))
    assert not op.is_set(), "stuck channel answered"
    s = (await mem.stats([0]))[0]
    assert s.stuck_drops == 1 and s.outstanding >= 1
    # stuck, not ready: ARREADY stays low
    await mem.set_faults(1, stuck="no_ready")
    tg = TrafficGens(dut, DATA_W, NUM_CH)
    await tg.setup(1, TgenCfg(count=5))
    await tg.start([1])
    await ClockCycles(dut.clk, 500)
    st = await tg.status(1)
    assert st["issued"] == 0 and st["done"] == 0, st
    assert (await mem.stats([1]))[0].ar_stall >= 400
    await mem.set_faults(1)
    assert await tg.wait_done(5000), "channel 1 did not recover after the fault was cleared"
    cocotb.log.info("faults ok after %d cycles", await mem.cycle() - cyc0)
    mem.stop()


# ---------------------------------------------------------------------------- protocol
def _m0(dut, **kw):
    for k, v in kw.items():
        getattr(dut, f"m0_axi_{k}").value = v


async def _ar(dut, addr, arlen=0, size=None, burst=1, arid=0, hold=None, change=None):
    """One AR on m0; hold: drop ARVALID before READY; change: alter the payload while waiting."""
    await FallingEdge(dut.clk)
    _m0(dut, araddr=addr, arlen=arlen, arsize=(BEAT.bit_length() - 1) if size is None else size,
        arburst=burst, arid=arid, arvalid=1, rready=1)
    await Timer(1, unit="ps")                 # let the write land, then sample ARREADY first
    if int(dut.m0_axi_arready.value):
        await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
        _m0(dut, arvalid=0)
        return
    while True:
        await FallingEdge(dut.clk)            # values written now are seen by the next rising edge
        if int(dut.m0_axi_arready.value):
            await RisingEdge(dut.clk)          # handshake
            break
        if hold:
            _m0(dut, arvalid=0)
            return
        if change:
            _m0(dut, araddr=addr + BEAT)
    await FallingEdge(dut.clk)
    _m0(dut, arvalid=0)


async def _handshake(dut, valid: str, ready: str):
    await Timer(1, unit="ps")
    while True:
        if int(getattr(dut, ready).value):
            await RisingEdge(dut.clk)
            return
        await FallingEdge(dut.clk)


async def _violation(mem: HbmMemory, cycles=200):
    dut = cocotb.top
    if not int(dut.hbm_viol_any.value):
        await First(RisingEdge(dut.hbm_viol_any), ClockCycles(dut.clk, cycles))
    await ReadOnly()
    v = mem._read_violation() if int(dut.hbm_viol_any.value) else None
    await Timer(1, unit="ps")
    await ClockCycles(dut.clk, 80)          # let responses to the bad burst drain
    await mem.clear_violations()
    return v


@cocotb.test()
async def test_protocol_rules(dut):
    """Each rule, broken on purpose from m0, is reported with rule, channel, cycle and burst."""
    cfg = make_cfg(fail_on_violation=False, timing=ideal(5).with_(max_outstanding=4, axi3=False))
    mem = await bring_up(cfg, ext=(1, 0), start=False)
    await mem.configure()
    await mem.set_faults(0, ar_stall=0.0)
    await mem.idle()
    size_lg = BEAT.bit_length() - 1
    cases = [
        ("CROSS_4K", dict(addr=0x1000 - BEAT, arlen=1)),
        ("BURST_RESERVED", dict(addr=0x0, burst=3)),
        ("SIZE_TOO_BIG", dict(addr=0x0, size=size_lg + 1)),
        ("UNALIGNED", dict(addr=0x2, size=2)),
        ("WRAP_LEN", dict(addr=0x0, arlen=2, burst=2)),
        ("FIXED_LEN", dict(addr=0x0, arlen=16, burst=0)),
    ]
    seen = []
    for rule, kw in cases:
        cyc = await mem.cycle()
        await _ar(dut, arid=5, **kw)
        v = await _violation(mem)
        assert v is not None, f"{rule} not reported"
        assert v.rule == rule and v.channel == 0 and v.axi_channel == "AR", str(v)
        assert v.addr == kw["addr"] and v.id == 5 and cyc <= v.cycle <= cyc + 50, str(v)
        seen.append(rule)
    # AXI3 length limit
    await mem.write_reg(0, R.R_CTRL, cfg.channel_regs(0)[R.R_CTRL] | 16)
    await mem.idle()
    await _ar(dut, addr=0, arlen=16)
    v = await _violation(mem)
    assert v and v.rule == "LEN_AXI3", str(v)
    seen.append(v.rule)
    await mem.write_reg(0, R.R_CTRL, cfg.channel_regs(0)[R.R_CTRL])
    # VALID dropped / payload changed before READY
    for rule, kw in (("VALID_DROP", dict(hold=True)), ("PAYLOAD_CHANGE", dict(change=True))):
        await mem.set_faults(0, ar_stall=1.0)
        task = cocotb.start_soon(_ar(dut, addr=0x200, arid=3, **kw))
        await ClockCycles(dut.clk, 3)
        await mem.set_faults(0)
        await task
        v = await _violation(mem)
        assert v and v.rule == rule and v.addr == 0x200 and v.id == 3, f"{rule}: {v}"
        seen.append(rule)
    # outstanding limit: 5 reads with max 4, model keeps ARREADY high (no flow control)
    await mem.set_faults(0, stuck="no_response")
    await ClockCycles(dut.clk, 100)
    before = (await mem.stats([0]))[0].outstanding
    n = 4 - before + 1
    for i in range(n):
        await _ar(dut, addr=BEAT * i, arid=i)
    v = await _violation(mem)
    assert v and v.rule == "OUTSTANDING" and v.id == n - 1, f"{v} ({before} outstanding before)"
    seen.append(v.rule)
    # WLAST at the wrong beat: a 2-beat write with WLAST on the first beat
    mem2 = mem
    await mem2.set_faults(0)
    await mem2.idle()
    await FallingEdge(dut.clk)
    _m0(dut, awaddr=0x800, awlen=1, awsize=size_lg, awburst=1, awid=1, awvalid=1, bready=1)
    await _handshake(dut, "m0_axi_awvalid", "m0_axi_awready")
    await FallingEdge(dut.clk)
    _m0(dut, awvalid=0, wdata=0x1234, wstrb=(1 << BEAT) - 1, wlast=1, wvalid=1)
    await _handshake(dut, "m0_axi_wvalid", "m0_axi_wready")
    await FallingEdge(dut.clk)
    _m0(dut, wvalid=0)
    v = await _violation(mem)
    assert v and v.rule == "WLAST" and v.axi_channel == "W" and v.addr == 0x800, str(v)
    seen.append(v.rule)
    cocotb.log.info("protocol rules reported: %s", ", ".join(seen))
    expected = {"CROSS_4K", "BURST_RESERVED", "SIZE_TOO_BIG", "UNALIGNED", "WRAP_LEN", "FIXED_LEN",
                "LEN_AXI3", "VALID_DROP", "PAYLOAD_CHANGE", "OUTSTANDING", "WLAST"}
    assert set(seen) == expected


@cocotb.test()
async def test_violation_fails_test(dut):
    """With the default fail_on_violation the violation itself fails the test (checked by pytest)."""
    mem = await bring_up(make_cfg(), ext=(1, 0))
    await mem.idle()
    await _ar(dut, addr=0x1000 - BEAT, arlen=3)
    await ClockCycles(dut.clk, 100)


# ---------------------------------------------------------------------------- pyuvm face
class ReadScoreboard(uvm_subscriber):
    def build_phase(self):
        self.seen = []

    def write(self, txn):
        self.seen.append(txn)


class HbmEnv(uvm_env):
    def build_phase(self):
        self.mem = HbmMemoryAgent.create("mem", self)
        self.cov = HbmCoverage.create("cov", self)
        self.sb = ReadScoreboard.create("sb", self)

    def connect_phase(self):
        self.mem.ap.connect(self.cov.analysis_export)
        self.mem.ap.connect(self.sb.analysis_export)


@pyuvm.test()
class HbmAgentTest(uvm_test):
    """The pyuvm face: agent from ConfigDB, analysis port into coverage and a subscriber."""

    def build_phase(self):
        cfg = make_cfg("u280", log=True, allow_unaligned=True)
        ConfigDB().set(None, "*", "hbm_cfg", cfg)
        ConfigDB().set(None, "*", "hbm_regions", sample_regions(0))
        self.env = HbmEnv("env", self)

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        dut.hbm_cmd_valid.value = 0
        dut.tg_cfg_valid.value = 0
        dut.ext_sel.value = 1
        m = axi_master()   # drives the master's VALIDs low from time 0 (no garbage AW/AR in reset)
        await start_clock_and_reset(dut.clk, dut.rst_n)
        await self.env.mem.ready.wait()
        mem = self.env.mem.mem
        await m.write(0x100, bytes(range(64)))
        r = py_random(3)
        for i in range(40):
            a = r.randrange(0, 1 << 18, 4 * BEAT)   # up to 3 beats never cross 4 KiB (no split)
            got = await m.read(a, BEAT * r.choice((1, 2, 3)))
            assert got.data[:BEAT] == (await mem.backdoor_read(0, a, BEAT))
        n_reads = 40
        # an unaligned start in the last beat before a 4 KiB boundary is legal (no CROSS_4K)
        got = await m.read(0x1000 - 16, 16)
        assert got.data == await mem.backdoor_read(0, 0x1000 - 16, 16), "unaligned read below 4 KiB"
        n_reads += 1
        # burst types and lengths no RTL master here issues: the model serves any AXI4 master
        a = 0x2000
        got = await m.read(a + BEAT, 4 * BEAT, burst=AxiBurstType.WRAP)
        want = b"".join([await mem.backdoor_read(0, a + ((1 + i) % 4) * BEAT, BEAT) for i in range(4)])
        assert got.data == want, "WRAP burst: beats not wrapped at the 4-beat boundary"
        got = await m.read(a, 3 * BEAT, burst=AxiBurstType.FIXED)
        assert got.data == (await mem.backdoor_read(0, a, BEAT)) * 3, "FIXED burst: every beat is the same address"
        for beats in (8, 40):
            got = await m.read(0x4000, beats * BEAT)
            assert got.data == await mem.backdoor_read(0, 0x4000, beats * BEAT), f"{beats}-beat INCR burst"
        n_reads += 4
        # many IDs at once over closed, open and conflicting rows: younger bursts overtake
        reads = [m.init_read(r.randrange(0, 1 << 22, 2 * BEAT), BEAT * r.choice((1, 2)), arid=i % 8) for i in range(24)]
        for ev in reads:
            await ev.wait()
        n_reads += 24
        await mem.set_faults(0, err_ranges=[(0x0, 0x40, "SLVERR"), (0x40, 0x80, "DECERR")])
        await m.read(0x0, BEAT)
        await m.read(0x40, BEAT)
        n_reads += 2
        await mem.drain()
        assert len(self.env.sb.seen) == 1 + n_reads, len(self.env.sb.seen)
        assert [t.kind for t in self.env.sb.seen].count("W") == 1
        assert {t.row for t in self.env.sb.seen} >= {"hit", "miss", "closed"}
        self.drop_objection()
