"""Self-tests of the memory model: data (procedural rows, overrides, all channels) and its pyuvm face."""
from __future__ import annotations

import cocotb
import numpy as np
import pyuvm
from cocotbext.axi import AxiBurstType
from pyuvm import ConfigDB, uvm_env, uvm_subscriber, uvm_test

from tb.common.clock_reset import start_clock_and_reset
from tb.common.seeding import py_random, rng, test_seed
from tb.hbm import HbmCoverage, HbmMemoryAgent, HbmRegion
from tb.hbm.harness import (BEAT, DATA_W, KNOBS, NUM_CH, as_rows, axi_master, bring_up, make_cfg, rows_direct,
                            sample_regions)
from tb.hbm.tgen import TgenCfg, TrafficGens


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
        # a bulk image (one OP_MEM_LOAD for the whole beats, backdoor writes at the ends),
        # unaligned at both ends: AXI, backdoor and the Python mirror all see it
        a = regions[2].base + 7
        image = bytes(r.integers(0, 256, size=20 * BEAT + 11).astype(np.uint8))
        await mem.bulk_load(0, a, image)
        got = await m.read(a - 5, len(image) + 10)
        exp = mem.expected_bytes(0, a - 5, len(image) + 10)
        assert exp[5:-5] == image, "expected_bytes does not hold the bulk image"
        assert got.data == exp, "AXI read of a bulk-loaded image"
        assert await mem.backdoor_read(0, a - 5, len(image) + 10) == exp
        st = (await mem.stats([0]))[0]
        assert st.writes >= 1 and st.reads > 0 and st.violations == 0
        mem.check()


@cocotb.test()
async def test_data_all_channels(dut):
    """Every channel serves its own regions: SV generators on all channels, random addresses,
    several IDs, backpressure on both sides, u280 timing (reordering across IDs); every beat
    equals models/tables.py, in AXI order (per ID, bursts in issue order)."""
    cfg = make_cfg("u280")
    mem = await bring_up(cfg, ext=(0, 0))
    tg = TrafficGens(dut, DATA_W, NUM_CH)
    regions = []
    n_bursts = KNOBS.soak_bursts
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
                                   seed=test_seed() * 100 + ch, addr_seed=ch + 1, log_beats=True))
    await mem.set_regions(regions)
    await mem.set_faults(5, ar_stall=0.3, r_stall=0.3)
    await tg.start()
    assert await tg.wait_done(200 * n_bursts), "generators did not finish"
    stats = await mem.stats()
    await mem.flush_logs()
    beats = tg.read_beat_log()
    problems = []
    for ch in range(NUM_CH):
        st = await tg.status(ch)
        assert st["issued"] == n_bursts and st["done"] == n_bursts, f"ch{ch}: {st}"
        assert st["rlast_errs"] == 0 and st["resp_errs"] == 0, f"ch{ch}: {st}"
        problems += tg.check_beats(ch, n_bursts, beats.get(ch, []), regions, cfg.seed, cfg.emb_shift)
        s = stats[ch]
        assert s.reads == n_bursts and s.read_beats == st["beats"], f"ch{ch}: {s.as_dict()}"
        assert s.row_hit + s.row_miss + s.row_closed == n_bursts
    for msg in problems[:20]:
        cocotb.log.error(msg)
    assert not problems, f"{len(problems)} beats differ from models/tables.py; first: {problems[0]}"
    cocotb.log.info("%d beats on %d channels equal models/tables.py in AXI order",
                    sum(len(b) for b in beats.values()), NUM_CH)
    assert stats[5].ar_stall > 0
    cocotb.log.info("ch0 stats: %s", stats[0].as_dict())
    mem.check()



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
        written = {0x100 + i: i for i in range(64)}     # the one AXI write (not mirrored by mem)

        def golden(a: int, n: int) -> bytes:
            """models/tables.py bytes of [a, a+n) on channel 0, with the AXI write over them."""
            out = bytearray(mem.expected_bytes(0, a, n))
            for i in range(n):
                if a + i in written:
                    out[i] = written[a + i]
            return bytes(out)

        checked = 0

        def check(what: str, a: int, got, want: bytes) -> None:
            nonlocal checked
            assert got.resp == 0, f"{what} at {a:#x}: resp {got.resp}"
            for b in range(0, len(want), BEAT):
                assert got.data[b:b + BEAT] == want[b:b + BEAT], \
                    f"MISMATCH {what} at {a:#x}, beat {b // BEAT}: data differs from models/tables.py"
            checked += -(-len(want) // BEAT)

        await m.write(0x100, bytes(range(64)))
        r = py_random(3)
        for i in range(40):
            a = r.randrange(0, 1 << 18, 4 * BEAT)   # up to 3 beats never cross 4 KiB (no split)
            n = BEAT * r.choice((1, 2, 3))
            check("read", a, await m.read(a, n), golden(a, n))
        n_reads = 40
        # an unaligned start in the last beat before a 4 KiB boundary is legal (no CROSS_4K)
        check("unaligned read below 4 KiB", 0x1000 - 16, await m.read(0x1000 - 16, 16), golden(0x1000 - 16, 16))
        n_reads += 1
        # burst types and lengths no RTL master here issues: the model serves any AXI4 master
        a = 0x2000
        check("WRAP burst", a + BEAT, await m.read(a + BEAT, 4 * BEAT, burst=AxiBurstType.WRAP),
              b"".join(golden(a + ((1 + i) % 4) * BEAT, BEAT) for i in range(4)))
        check("FIXED burst", a, await m.read(a, 3 * BEAT, burst=AxiBurstType.FIXED), golden(a, BEAT) * 3)
        for beats in (8, 40):
            check(f"{beats}-beat INCR burst", 0x4000, await m.read(0x4000, beats * BEAT), golden(0x4000, beats * BEAT))
        n_reads += 4
        # many IDs at once over closed, open and conflicting rows: younger bursts overtake,
        # and every burst still carries its own address's data, beat by beat
        req = [(r.randrange(0, 1 << 22, 2 * BEAT), BEAT * r.choice((1, 2)), i % 8) for i in range(24)]
        reads = [m.init_read(a, n, arid=i) for a, n, i in req]
        for ev in reads:
            await ev.wait()
        for (a, n, i), ev in zip(req, reads):
            check(f"read with ARID {i}", a, ev.data, golden(a, n))
        n_reads += 24
        await mem.set_faults(0, err_ranges=[(0x0, 0x40, "SLVERR"), (0x40, 0x80, "DECERR")])
        assert (await m.read(0x0, BEAT)).resp == 2
        assert (await m.read(0x40, BEAT)).resp == 3
        n_reads += 2
        await mem.drain()
        assert len(self.env.sb.seen) == 1 + n_reads, len(self.env.sb.seen)
        assert [t.kind for t in self.env.sb.seen].count("W") == 1
        assert {t.row for t in self.env.sb.seen} >= {"hit", "miss", "closed"}
        self.logger.info(f"{checked} beats of {n_reads - 2} reads equal models/tables.py")
        self.drop_objection()
