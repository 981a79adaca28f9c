"""Self-tests of the memory model: fault injection and the AXI protocol checks on its masters."""
from __future__ import annotations

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, First

from tb.hbm import ideal
from tb.hbm import regs as R
from tb.hbm.harness import (BEAT, DATA_W, ID_W, NUM_CH, _ar, _handshake, _m0, _violation, axi_master, bring_up,
                            make_cfg, sample_regions)
from tb.hbm.tgen import TgenCfg, TrafficGens


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



@cocotb.test()
async def test_phantom_beats(dut):
    """phantom=n: n single beats (RLAST, OKAY, 0xBAD0_0000 + k) with the highest ID not in
    flight, sent while a read waits for its data; the read itself still returns exact."""
    from cocotb.triggers import ReadOnly, RisingEdge, Timer
    mem = await bring_up(make_cfg(timing=ideal(60)), ext=(1, 0))
    regions = sample_regions(0)
    await mem.set_regions(regions)
    await mem.set_faults(0, phantom=2)
    await mem.clear_stats(0)
    await mem.idle()
    addr = regions[1].row_addr(5)
    beats = []

    async def collect():
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            if int(dut.m0_axi_rvalid.value) and int(dut.m0_axi_rready.value):
                beats.append((int(dut.m0_axi_rid.value), int(dut.m0_axi_rlast.value),
                              int(dut.m0_axi_rresp.value), int(dut.m0_axi_rdata.value)))

    task = cocotb.start_soon(collect())
    await Timer(1, unit="ps")
    await _ar(dut, addr, arlen=1, arid=3)
    await ClockCycles(dut.clk, 120)
    task.cancel()
    top_id = (1 << ID_W) - 1
    pattern = lambda k: int.from_bytes((0xBAD00000 + k).to_bytes(4, "little") * (BEAT // 4), "little")  # noqa: E731
    assert [b[:3] for b in beats[:2]] == [(top_id, 1, 0)] * 2, f"phantom beats: {beats[:2]}"
    assert [b[3] for b in beats[:2]] == [pattern(0), pattern(1)], "phantom data"
    data = b"".join(b[3].to_bytes(BEAT, "little") for b in beats[2:])
    assert [b[:3] for b in beats[2:]] == [(3, 0, 0), (3, 1, 0)], f"the read's beats: {beats[2:]}"
    assert data == mem.expected_bytes(0, addr, 2 * BEAT), "the read's data after the phantom beats"
    s = (await mem.stats([0]))[0]
    assert (s.phantom, s.read_beats, s.reads) == (2, 2, 1), s.as_dict()
    mem.stop()


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

