"""cocotb/pyuvm tests of the multi-hot query path (run through tests/test_dlrm_ingress.py):
rtl/lookup/query_packet_ingress.sv (or query_packet_ingress_wide.sv, build WIDE = 1) ->
behavioural row fetch -> rtl/lookup/bag_pool.sv.

Each variant is a test class: the bench model, the mix of packet kinds and the
idle / stall probabilities. Every expected code and pooled vector comes from
the golden model (tb/dlrm_ingress/stimulus.py says which function); a run
also checks that its stimulus reached what the variant is about (e.g. the
saturation test must saturate both ways).
"""
from __future__ import annotations

import cocotb
import pyuvm
from cocotb.triggers import ClockCycles, Event
from pyuvm import ConfigDB

from models.query_stream import header_words
from tb.common.bench_test import BenchTest
from tb.common.clock_reset import pass_cycles, start_clock_and_reset
from tb.common.seeding import py_random, soak_stimulus
from tb.common.watchdog import Watchdog
from tb.dlrm_ingress.dut import DlrmIngressBuild, DlrmIngressKnobs
from tb.dlrm_ingress.env import Cycles, DlrmCoverage, DlrmIngressEnv, check_codes_agree
from tb.dlrm_ingress.stimulus import ERROR_KINDS, KINDS, bench_model, expected, make_stream

TIMEOUT_MS = 40   # simulated; the watchdog reports a hang long before

MIX = {"good": 8.0, "corner": 2.0, "padded": 1.0, **{k: 0.4 for k in ERROR_KINDS}}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressRandomTest(BenchTest):
    """dlrm_tiny, mostly good packets with every error kind now and then, idles and stalls."""

    Build, Knobs = DlrmIngressBuild, DlrmIngressKnobs
    model = "dlrm_tiny"
    kinds = MIX
    settings = {"in_idle": 0.2, "out_stall": 0.3}
    reach: dict = {}          # coverpoint -> bins this variant must hit
    soak_ok = True            # False: the variant is about its own idle/stall settings
    queries: int | None = None   # the variant's own packet count (None: the queries knob)

    def build_phase(self):
        super().build_phase()
        self.cfg = bench_model(self.model)
        settings = dict(self.settings)
        soak = soak_stimulus() if self.soak_ok else None
        if soak:                  # nightly soak: the spacing and backpressure drawn from the seed
            settings.update(in_idle=soak["in_idle"], out_stall=soak["out_stall"], row_latency=(1, soak["latency"]))
        for name in ("in_idle", "out_stall"):
            if getattr(self.knobs, name) is not None:
                settings[name] = getattr(self.knobs, name)
        cdb = ConfigDB()
        for name, value in settings.items():
            cdb.set(None, "*", name, value)
        cdb.set(None, "*", "model", self.cfg)
        cdb.set(None, "*", "slots", self.build.SLOTS)
        self.reset_done = Event()
        cdb.set(None, "*", "reset_done", self.reset_done)
        self.env = DlrmIngressEnv("env", self)

    async def run_phase(self):
        self.raise_objection()
        dut, cfg, build = cocotb.top, self.cfg, self.build
        check_codes_agree()
        assert int(dut.cap_w.value) == build.W and int(dut.cap_l_max.value) == build.L_MAX \
            and int(dut.cap_lanes.value) == (build.W if build.WIDE else 1), \
            f"harness built with W={int(dut.cap_w.value)}, L_MAX={int(dut.cap_l_max.value)}, " \
            f"{int(dut.cap_lanes.value)} index lanes; spec says {build}"
        assert cfg.num_tables <= build.T_MAX and cfg.dense <= build.D_MAX
        assert all(t.dim == build.DIM for t in cfg.tables), "bench models have rows DIM wide"
        # every valid and ready driven before the reset ends (Verilator starts from random state)
        for name in ("s_tvalid", "s_bag_valid", "s_drop_valid", "s_row_valid", "m_hdr_ready", "m_idx_ready", "m_err_ready",
                     "m_pool_ready"):
            getattr(dut, name).value = 0
        dut.cfg_num_tables.value = cfg.num_tables
        dut.cfg_num_dense.value = cfg.dense
        dut.cfg_bag_max.value = sum(t.bag_max << (16 * i) for i, t in enumerate(cfg.tables))
        dut.cfg_rows.value = sum(t.rows << (32 * i) for i, t in enumerate(cfg.tables))
        pkts = make_stream(cfg, self.kinds, self.queries or self.knobs.queries, build.W, build.L_MAX, py_random(20))
        exp = expected(cfg, pkts, build.W, build.L_MAX)
        self.env.driver.beats = [bt for p in pkts for bt in p.beats]
        cov = DlrmCoverage()
        cov.sample_expected(cfg, exp, build.L_MAX)
        await start_clock_and_reset(dut.clk, dut.rst_n)
        cycles = Cycles(dut.clk)
        cocotb.start_soon(cycles.run())
        self.env.start(dut, exp, cycles)
        self.reset_done.set()
        sb = self.env.scoreboard
        wd = Watchdog(dut.clk, 4000, sb.outstanding, "dlrm_ingress watchdog").start()
        sb.progress = wd
        while not sb.done():
            await pass_cycles(16)
        self.cycles_used = cycles.now
        self.exp = exp
        self.pkts = pkts
        await ClockCycles(dut.clk, 64)       # a record too many shows here
        wd.stop()
        self.finish_coverage(cov, exp)
        self.drop_objection()

    def finish_coverage(self, cov, exp):
        cg = cov.cg
        drv = self.env.driver
        cg.sample("input", "with_idles" if drv.idles else "back_to_back")
        stalled = any(s.stall_prob > 0 for s in self.env.sinks.values())
        cg.sample("output", "stalled" if stalled else "no_stall")
        cg.report(self.logger)
        for point, bins in self.reach.items():
            hits = cg.points[point].hits
            missing = [b for b in bins if not hits[b]]
            assert not missing, f"stimulus never reached {point} {missing} ({len(exp.packets)} packets)"
        self.logger.info(f"{drv.sent} beats in ({drv.idles} idle cycles), {self.env.fetch.opened} bags opened, "
                         f"{self.env.fetch.aborted} aborted queries drained and dropped "
                         f"({self.env.fetch.discarded} of their pooled vectors discarded)")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressCornerTest(DlrmIngressRandomTest):
    """Bags of 0, 1, bag_max (L_MAX on table 0), bag_max + 1 and L_MAX + 1; duplicates."""

    kinds = {"corner": 4.0, "good": 1.0, "bag_len": 1.0}
    reach = {"bag_len": ["0", "1", "L_MAX", "bag_max+1", "above_L_MAX"], "duplicates": ["some"]}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressErrorTest(DlrmIngressRandomTest):
    """Every error kind often: bad index, bag too long, both, T/D/N mismatch, short, long, garbage."""

    kinds = {"good": 2.0, **{k: 1.0 for k in ERROR_KINDS}}
    reach = {"kind": list(ERROR_KINDS), "code": ["none", "idx_range", "bag_len", "packet"]}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressSaturationTest(DlrmIngressRandomTest):
    """emb_shift 0, sum pooling of long bags of one repeated row: sat16 both ways."""

    model = "saturating"
    kinds = {"saturate": 3.0, "good": 1.0}
    reach = {"pooled": ["sat_hi", "sat_lo", "in_range"]}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressMeanTest(DlrmIngressRandomTest):
    """mean with pool_shift 1, 2, 3 and 15 (emb_shift 0): sums exactly halfway, both signs."""

    model = "mean"
    kinds = {"good": 3.0, "corner": 1.0, "saturate": 1.0}
    reach = {"mean_half": ["pos", "neg"]}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressFullShapeTest(DlrmIngressRandomTest):
    """T = T_MAX and D = D_MAX (no padding halves in the header), a one-row table, two L_MAX tables."""

    model = "full"
    kinds = {"good": 4.0, "corner": 2.0, "padded": 1.0, **{k: 0.5 for k in ERROR_KINDS}}
    reach = {"code": ["none", "idx_range", "bag_len", "packet"], "bag_len": ["0", "1", "L_MAX"]}


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressBackpressureTest(DlrmIngressRandomTest):
    """Every output mostly stalled (ready low 80% of cycles), input back to back."""

    settings = {"in_idle": 0.0, "out_stall": 0.8}
    soak_ok = False


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressBackToBackTest(DlrmIngressRandomTest):
    """No idle cycle in, no stall out."""

    settings = {"in_idle": 0.0, "out_stall": 0.0}
    soak_ok = False

    def check_phase(self):
        # the ingress rate (contracts s.9.9). Narrow: one beat per cycle in the header, one entry per
        # cycle out; bound = header beats + entries (index beats overlap the entries they carry).
        # Wide: one beat per cycle, always: with no idles or stalls a packet costs exactly its beats
        # (HB + IB for a well-formed one), asserted per packet.
        exp, w = self.exp, self.build.W
        beats = len(self.env.driver.beats)
        hb = -(-header_words(self.cfg.num_tables, self.cfg.dense) // w)
        if not self.build.WIDE:
            bound = hb * len(exp.packets) + len(exp.entries)
            self.logger.info(f"ingress rate, no idles or stalls: {len(exp.packets)} packets, {beats} beats, "
                             f"{len(exp.entries)} index entries in {self.cycles_used} cycles "
                             f"({self.cycles_used / len(exp.packets):.1f} per packet; header beats + entries "
                             f"= {bound}, {bound / self.cycles_used:.0%} of the cycles)")
            return
        self.check_wide_rate(hb)

    def check_wide_rate(self, hb: int):
        exp, w, at = self.exp, self.build.W, self.env.driver.taken_at
        assert len(at) == len(self.env.driver.beats), f"{len(at)} of {len(self.env.driver.beats)} beats taken"
        starts, b = [], 0
        for p in self.pkts:
            starts.append(b)
            b += len(p.beats)
        starts.append(b)
        per_packet = []
        for i, p in enumerate(self.pkts):
            first, last = starts[i], starts[i + 1] - 1
            took = at[last] - at[first] + 1
            want = len(p.beats)
            if p.kind in ("good", "corner", "saturate", "padded", "bag20"):   # well formed: HB + IB beats
                n = (p.beats[0][0] >> 32) & 0xFFFF          # word 1 [15:0]: N (s.9.7)
                want_hb_ib = hb + -(-n // w)
                assert want == want_hb_ib, f"bench: packet {i} has {want} beats, HB + IB = {want_hb_ib}"
                per_packet.append((took, n))
            assert took == want, (f"packet {i} (query {p.qid:#x}, {p.kind}): its {want} beats took {took} cycles "
                                  f"with no idles or stalls (contracts s.9.9: one beat per cycle)")
            if i + 1 < len(self.pkts):
                gap = at[starts[i + 1]] - at[last]
                assert gap == 1, f"packet {i + 1} (query {self.pkts[i + 1].qid:#x}): first beat taken {gap} " \
                                 f"cycles after packet {i}'s last (contracts s.9.9: back to back)"
        total = at[-1] - at[0] + 1
        self.rate = per_packet
        self.logger.info(f"wide ingress rate, no idles or stalls: {len(self.pkts)} packets, {len(at)} beats in "
                         f"{total} cycles ({total / len(self.pkts):.2f} per packet, HB = {hb}); well-formed packets: "
                         + ", ".join(f"N={n}: {c}" for c, n in per_packet[:6]) + (" ..." if len(per_packet) > 6 else "")
                         + f"; {len(exp.entries)} index entries in {self.env.scoreboard.groups} groups")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressWideRateTest(DlrmIngressBackToBackTest):
    """dlrm_kaggle-shaped packets (26 tables, 13 dense, bags of 20: N = 520), back to back, no stalls:
    each takes exactly HB + IB cycles on the wide ingress (W = 32: 1 + 17 = 18)."""

    model = "kaggle"
    kinds = {"bag20": 1.0}
    queries = 12
    reach = {"kind": ["bag20"], "code": ["none"]}

    def check_phase(self):
        assert self.build.WIDE, "the rate of contracts s.9.9 is the wide ingress's"
        super().check_phase()
        hb = -(-header_words(self.cfg.num_tables, self.cfg.dense) // self.build.W)
        cycles = {c for c, _ in self.rate}
        ns = {n for _, n in self.rate}
        self.logger.info(f"dlrm_kaggle-shaped packet (N = {sorted(ns)}, W = {self.build.W}): measured "
                         f"{sorted(cycles)} cycles per packet back to back; HB + IB = "
                         f"{[hb + -(-n // self.build.W) for n in sorted(ns)]}")


@pyuvm.test(timeout_time=TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressMultiBadTest(DlrmIngressRandomTest):
    """Several indices out of range in one query, in any tables (on the wide ingress often several lanes of
    one beat): the error record names the lowest table, every index from the first bad one on is void."""

    kinds = {"good": 2.0, "bad_index_multi": 3.0, "bad_index": 1.0}
    reach = {"kind": ["bad_index_multi"], "code": ["none", "idx_range"]}


@pyuvm.test(timeout_time=2 * TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressKaggleMixTest(DlrmIngressRandomTest):
    """dlrm_kaggle-shaped packets (26 tables, 13 dense) with every packet kind, idles and stalls: at W = 32 a
    beat spans many bags and tables, so lane tables, bag ends and several bad indices share a beat."""

    model = "kaggle"
    kinds = {"good": 4.0, "corner": 1.0, **{k: 1.0 for k in ERROR_KINDS}, "bad_index_multi": 1.0}
    queries = 40
    reach = {"code": ["none", "idx_range", "bag_len", "packet"]}


@pyuvm.test(timeout_time=2 * TIMEOUT_MS, timeout_unit="ms")
class DlrmIngressAllTest(DlrmIngressRandomTest):
    """Every packet kind in one run: what the injected-bug checks use."""

    kinds = {k: (3.0 if k in ("good", "corner") else 1.0) for k in KINDS}
