"""cocotb module of `make bench-cache` (apps/benchmarks/cache.py): the multi-hot lookup
stage (emb_lookup_top, MH = 1, CACHE = 1) under Zipf bags, caches on or off, on a
memory tier whose bandwidth the knobs set.

One test, ``CacheRateTest``: ``warmup + queries`` packets in one stream (no gap,
so the measured window is steady state and the caches are warm), then
``lat_queries`` packets one at a time (the unloaded latency). Every answer is
checked element by element (LookupMultihotTest.drive_and_check against
models.dlrm), the lookup counters against the bags (check_counters), and with
the caches on every cache counter against models/row_cache.py fed the same reads
in the engines' order (tb/lookup/cache_check.py, ``query_bags``); with them off
the cache counters must stay 0 and the memory model must have sent every beat.
The memory model's own beat count must equal the engines' beats minus the beats
the caches answered. Written to cache_rate.json in the run directory.
"""
from __future__ import annotations

import dataclasses
import json

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import ReadOnly, RisingEdge

from models.multihot import multihot_queries
from models.query_stream import pack_query
from models.row_cache import COUNTER_NAMES
from tb.common.clock_reset import start_clock_and_reset
from tb.common.seeding import test_seed
from tb.common.spec import run_dir
from tb.dlrm_ingress.stimulus import Pkt
from tb.hbm.memory import HbmMemory
from tb.lookup.cache_check import CachePrediction, read_cache
from tb.lookup.layout import memory_config
from tb.lookup.tb_lookup_mh import LookupMultihotTest

from apps.benchmarks.cache import CacheBenchKnobs


def _sub(a: dict, b: dict) -> dict:
    return {k: a[k] - b[k] for k in a}


@pyuvm.test(timeout_time=4000, timeout_unit="ms")
class CacheRateTest(LookupMultihotTest):
    """Knobs (CacheBenchKnobs): zipf, bag, cache_on, cache_policy, preset, mhz, mem_bw,
    warmup, queries, lat_queries."""

    Knobs = CacheBenchKnobs
    sample_coverage = False     # a reporting run on dlrm_kaggle, not dlrm_tiny's bins
    mix = {"fixed": 1}

    def packets_n(self, n: int) -> list[Pkt]:
        """``n`` packets of bags of ``bag`` rows per table, Zipf(zipf) indices scattered
        over each table (the hot rows spread as real ids are; zipf 0: uniform)."""
        k, cfg, w = self.knobs, self.cfg, self.build.pkt_w
        bags = multihot_queries(cfg, n, lengths="fixed", length=k.bag,
                                indices="zipf" if k.zipf > 0 else "uniform", alpha=k.zipf, scatter=True,
                                seed=test_seed())
        out = []
        for q in range(n):
            blist, dense = bags.query(q)
            qid = self.qid(q)
            beats = pack_query(qid, blist, dense, w)
            out.append(Pkt("zipf", qid, [(bt, int(i == len(beats) - 1)) for i, bt in enumerate(beats)]))
        return out

    async def bring_up(self):
        """The lookup harness on the memory model, the caches enabled or not from reset,
        every memory channel's bandwidth capped at ``mem_bw`` beats per cycle (0: the preset's)."""
        dut, k = cocotb.top, self.knobs
        for sig in ("desc_we", "cfg_commit", "bank_we", "s_query_valid", "m_feat_ready", "hbm_cmd_valid",
                    "bq_mode", "bq_load", "s_pkt_tvalid", "s_pkt_tlast", "m_dense_ready", "cache_flush"):
            getattr(dut, sig).value = 0
        dut.cfg_cache_enable.value = int(k.cache_on)
        dut.cfg_cache_policy.value = int(k.cache_policy == "freq")
        await start_clock_and_reset(dut.clk, dut.rst_n)
        cfg_mem = memory_config(self.layout, k.preset, latency=k.latency, mhz=k.mhz, rng_seed=test_seed())
        if k.mem_bw > 0:
            cap = lambda t: t.with_(bw_beats_per_cycle=k.mem_bw)  # noqa: E731
            cfg_mem = dataclasses.replace(cfg_mem, timing=cap(cfg_mem.timing),
                                          per_channel={c: cap(t) for c, t in cfg_mem.per_channel.items()})
        self.mem_cfg = cfg_mem
        self.mem = HbmMemory(dataclasses.replace(cfg_mem, nreg=self.build.nreg), dut)
        await self.mem.start()
        await self.mem.set_regions(self.layout.hbm_regions())

    async def run_phase(self):
        self.raise_objection()
        dut, k, lay = cocotb.top, self.knobs, self.layout
        if not self.build.cache:
            raise AssertionError("CacheRateTest needs a CACHE = 1 build (cache off is cfg_cache_enable = 0)")
        await self.bring_up()
        await self.program()
        assert not int(dut.cfg_bad.value), f"config rejected: code {int(dut.cfg_err_code.value)}"
        for _ in range(64):
            if int(dut.st_cache_enabled.value) == int(k.cache_on):
                break
            await RisingEdge(dut.clk)
        assert int(dut.st_cache_enabled.value) == int(k.cache_on), "st_cache_enabled never followed cfg_cache_enable"

        pkts = self.packets_n(k.warmup + k.queries + k.lat_queries)
        stream = pkts[:k.warmup + k.queries]
        lat_pkts = pkts[k.warmup + k.queries:]
        exp, pred = self.expectation(stream)
        lat_exp = [self.expectation([p])[0][0] for p in lat_pkts]
        for p in lat_pkts:
            for n, v in self.expectation([p])[1].items():
                pred[n] += v
        # the caches' prediction, read by read, with a snapshot at each phase boundary
        cache = CachePrediction(self.build, k.cache_policy) if k.cache_on else None
        snaps = []

        def feed(es):
            for e in es:
                if cache is not None and e["bags"] is not None:
                    cache.query_bags(lay, e["bags"])

        def snap():
            snaps.append(cache.counters() if cache else {n: 0 for n in COUNTER_NAMES})
            return cache.memory_beats() if cache else [0] * self.build.num_ch

        snap()
        feed(exp[:k.warmup])
        mem_w = snap()
        feed(exp[k.warmup:])
        mem_m = snap()
        feed(lat_exp)
        snap()

        problems = await self.drive_and_check(stream, exp)
        cyc = self.feat_cycles[k.warmup:]
        n = len(cyc)
        rate = (n - 1) / max(1, cyc[-1] - cyc[0]) if n > 1 else 0.0
        stream_cycles = self.cycles
        # the unloaded latency: one packet at a time, from the cycle its first beat is offered
        lats = []
        for p, e in zip(lat_pkts, lat_exp):
            c0 = int(dut.hbm_cycle.value)
            problems += await self.drive_and_check([p], [e])
            if self.feat_cycles:
                lats.append(self.feat_cycles[0] - c0 - 1)
        problems += await self.check_counters(pred)
        await ReadOnly()
        got = read_cache(dut)
        await RisingEdge(dut.clk)
        want = snaps[-1]
        problems += [f"MISMATCH cache counter {c}: expected {want[c]} (models/row_cache.py, "
                     f"{k.cache_policy if k.cache_on else 'disabled'}), got {got[c]}" for c in COUNTER_NAMES
                     if got[c] != want[c]]
        hbm = [s.as_dict() for s in await self.mem.stats()]
        sent = [s["read_beats"] for s in hbm]
        saved = want["bytes_saved"] // self.build.word_bytes
        if sum(sent) != self.perf["beats"] - saved:
            problems.append(f"MISMATCH memory beats: the memory model sent {sum(sent)}, the engines received "
                            f"{self.perf['beats']} of which the caches answered {saved}")
        for msg in problems[:40]:
            self.logger.error(msg)
        assert not problems, f"{len(problems)} mismatches; first: {problems[0]}"

        win = _sub(snaps[2], snaps[1])
        reads = win["hits"] + win["misses"]
        q = k.queries
        asked = [0] * self.build.num_ch          # per channel, the beats the engines asked for in the window
        for e in exp[k.warmup:]:
            for d in lay.descs:
                if not d.onchip:
                    asked[d.channel] += len(e["bags"][d.lt_a]) * max(1, d.stride // self.build.word_bytes)
        mem_per_ch = [(b - a) / q for a, b in zip(mem_w, mem_m)] if cache else [a / q for a in asked]
        out = {"zipf": k.zipf, "bag": k.bag, "cache_on": k.cache_on, "policy": k.cache_policy if k.cache_on else "off",
               "lines": self.build.cache_lines, "ways": self.build.cache_ways, "preset": k.preset, "mhz": k.mhz,
               "mem_bw": k.mem_bw or min(1.0, self.mem_cfg.timing.bw_beats_per_cycle),
               "warmup": k.warmup, "queries": q, "lat_queries": k.lat_queries,
               "throughput_qpc": rate, "stream_cycles": stream_cycles,
               "latency": {"min": min(lats), "median": float(np.median(lats)), "max": max(lats), "all": lats}
               if lats else None,
               # the measured window (queries warmup .. warmup + queries - 1), from the model whose
               # counts over the whole run the RTL counters matched exactly
               "window": win, "window_hit_rate": win["hits"] / reads if reads else 0.0,
               "window_mem_reads_per_query": sum(mem_per_ch),
               "window_mem_beats_per_channel": mem_per_ch,
               "window_busiest_channel_mem_beats": max(mem_per_ch),
               "window_engine_beats_busiest_channel": max(asked) / q,
               # the whole run, RTL counters (= the model's) and the memory model's beats
               "rtl_cache": got, "model_cache": want, "rtl_hit_rate": got["hits"] / max(1, got["hits"] + got["misses"]),
               "lookup_perf": self.perf, "mem_beats_sent": sum(sent), "mem_beats_per_channel": sent,
               # cycles from a read's AR acceptance to its first R beat at the memory model (queueing included), mean over the run
               "mem_read_latency": sum(x["lat_sum"] for x in hbm) / max(1, sum(x["reads_done"] for x in hbm)),
               "answers": len(exp) + len(lat_exp), "mismatches": 0}
        self.logger.info(f"CACHE RATE zipf {k.zipf} {out['policy']} {self.build.cache_lines} lines: "
                         f"{rate:.5f} q/cycle, window hit rate {out['window_hit_rate']:.3f}, "
                         f"mem reads/query {out['window_mem_reads_per_query']:.1f}, latency {out['latency']}")
        (run_dir() / "cache_rate.json").write_text(json.dumps(out, indent=1, default=int))
        self.mem.stop()
        self.drop_objection()
