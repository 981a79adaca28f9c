"""Host driver of the accelerator: what software on the host does, in Python.

Given a model config it plans placement (models/placement.py), loads the
memory model (table regions served procedurally; MLP weights, biases and
on-chip table images written as DMA images), programs descriptors and layer
shapes through the CSRs, runs the configuration DMAs, and then runs queries
and reads counters. Usable from a pyuvm test or from a plain cocotb test;
only the CSR bus and the memory model are needed.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge

from models.config import ModelConfig
from models.golden import mlp_weights
from models.placement import TABLE_ALIGN
from tb.csr.csr_agent import PERF_NAMES
from tb.lookup.layout import LookupBuild, LookupLayout
from tb.mlp.mlp_layout import EngineBuild, bank_plan, ceil_div, weight_writes
from tb.common.clock_reset import pass_cycles

DMA_WEIGHTS, DMA_BIASES, DMA_BANK = 0, 1, 2
DMA_BOT_WEIGHTS, DMA_BOT_BIASES = 3, 4     # the bottom MLP's banks (DLRM builds, contracts s.7.2)
PERF_COUNTERS = PERF_NAMES      # the CSR map's counters (read from the SystemRDL)


class HostError(RuntimeError):
    """The accelerator refused a configuration; the message says which and why."""


@dataclass(frozen=True)
class DlrmBuild:
    """The DLRM back half of a microrec_top build (DLRM = 1, contracts s.7.2): the bottom
    engine is BP x BU (BP = 0: P / 2, at least 1; BU = 0: U)."""
    dense_max: int = 16
    bp: int = 0
    bu: int = 0
    bmax_layers: int = 4
    bmax_dim: int = 512
    bwdepth: int = 256
    bbdepth: int = 64
    dot_lanes: int = 4      # DOT_LANES: the interaction's products per cycle (s.9.4)


@dataclass(frozen=True)
class TopBuild:
    """Build-time maxima of one microrec_tb_top build (``dlrm`` None: a DLRM = 0 build).
    ``cache`` 1: a hot-row cache of ``cache_lines`` lines, ``cache_ways`` ways and bursts up
    to ``cache_line_beats`` beats in front of every memory channel (contracts s.11.11; the
    build parameters CACHE*, kept in ``lookup`` too, which passes them)."""
    lookup: LookupBuild = field(default_factory=LookupBuild)
    mlp: EngineBuild = field(default_factory=EngineBuild)
    dlrm: DlrmBuild | None = None
    cache: int = 0
    cache_lines: int = 64
    cache_ways: int = 4
    cache_line_beats: int = 1
    topk: int = 0               # 1: the top-k unit after the MLP (contracts s.10.6)
    topk_k_max: int = 256
    topk_n_max: int = 4096

    def __post_init__(self):
        # read back from a bench spec (JSON): the parts arrive as dicts
        if isinstance(self.lookup, dict):
            object.__setattr__(self, "lookup", LookupBuild(**self.lookup))
        if isinstance(self.mlp, dict):
            object.__setattr__(self, "mlp", EngineBuild(**self.mlp))
        if isinstance(self.dlrm, dict):
            object.__setattr__(self, "dlrm", DlrmBuild(**self.dlrm))
        # one source for the lookup's cache parameters: these fields when set, else the lookup's
        names = ("cache", "cache_lines", "cache_ways", "cache_line_beats")
        if self.cache:
            object.__setattr__(self, "lookup", replace(self.lookup, **{n: getattr(self, n) for n in names}))
        elif self.lookup.cache:
            for n in names:
                object.__setattr__(self, n, getattr(self.lookup, n))
        if self.cache and (self.cache_lines < 1 or self.cache_lines & (self.cache_lines - 1)
                           or self.cache_ways < 1 or self.cache_ways & (self.cache_ways - 1)
                           or self.cache_ways > min(16, self.cache_lines)
                           or self.cache_line_beats < 1 or self.cache_line_beats & (self.cache_line_beats - 1)):
            raise ValueError(f"cache: lines {self.cache_lines}, ways {self.cache_ways} (1..16, <= lines), "
                             f"line beats {self.cache_line_beats}: each a power of two")

    @property
    def cache_tag(self) -> str:
        """Build-directory suffix of a CACHE build ('' otherwise)."""
        return f"_c{self.cache_lines}w{self.cache_ways}b{self.cache_line_beats}" if self.cache else ""

    @property
    def topk_tag(self) -> str:
        """Build-directory suffix of a TOPK build ('' otherwise)."""
        return f"_tk{self.topk_k_max}n{self.topk_n_max}" if self.topk else ""

    @property
    def bottom(self) -> EngineBuild | None:
        """The bottom engine as an EngineBuild (its bank layout is the top engine's rule)."""
        d = self.dlrm
        if d is None:
            return None
        bp = d.bp or max(1, self.mlp.P // 2)
        return EngineBuild(P=bp, U=d.bu or self.mlp.U, MAX_LAYERS=d.bmax_layers, MAX_DIM=d.bmax_dim,
                           WDEPTH=d.bwdepth, BDEPTH=d.bbdepth, FEAT_LANES=d.dense_max, VEC_OUT=1,
                           VEC_LANES=-(-16 // bp) * bp)

    def sv_parameters(self) -> dict:
        m = self.mlp
        p = {**self.lookup.sv_parameters(), "P": m.P, "U": m.U, "MAX_LAYERS": m.MAX_LAYERS,
             "MAX_DIM": m.MAX_DIM, "WDEPTH": m.WDEPTH, "BDEPTH": m.BDEPTH,
             "FEAT_LANES": m.FEAT_LANES}
        if self.dlrm is not None:   # a DLRM = 0 build keeps exactly the parameters it always had
            b = self.bottom
            p.update({"DLRM": 1, "DENSE_MAX": self.dlrm.dense_max, "BP": b.P, "BU": b.U,
                      "BMAX_LAYERS": b.MAX_LAYERS, "BMAX_DIM": b.MAX_DIM, "BWDEPTH": b.WDEPTH,
                      "BBDEPTH": b.BDEPTH})
            if self.dlrm.dot_lanes != 4:   # builds at the RTL default keep their parameter set
                p["DOT_LANES"] = self.dlrm.dot_lanes
        if self.topk:               # a TOPK = 0 build keeps exactly the parameters it always had
            p.update({"TOPK": 1, "TOPK_K_MAX": self.topk_k_max, "TOPK_N_MAX": self.topk_n_max})
        return p



def pack_words(words: list[int], word_bytes: int) -> bytes:
    return b"".join(int(w).to_bytes(word_bytes, "little") for w in words)


class MicrorecHost:
    """One accelerator instance: its CSRs (tb.csr CsrRegs) and memory (tb.hbm HbmMemory)."""

    def __init__(self, dut, csr, mem, build: TopBuild, image_channel: int = 0):
        self.dut = dut
        self.csr = csr
        self.mem = mem
        self.build = build
        self.image_channel = image_channel
        self.cfg: ModelConfig | None = None
        self.layout: LookupLayout | None = None
        self.weights = None
        self.counter_model = None   # a bench's tb.top.counters.CounterModel, told of DMAs and clears
        self.cache_ctrl = {"enable": 0, "policy": 0}   # CACHE_CTRL as last written (contracts s.11.11)
        self.last_dma_err = 0       # STATUS.dma_err after the last DMA this driver ran
        self.qmodel = None          # models.quant.QuantModel of the loaded model (None: int16, section 3)
        self.zero_skip = False      # MLP_QUANT.zero_skip of the loaded model
        self.precision = "int16"    # what load_model quantizes to unless told: int16 | int8 | mixed | [per layer]
        self.written: dict = {}     # MLP_QUANT / MLP_LSHIFT as last written (CSRs keep them over a soft reset)

    # ------------------------------------------------------------------ images
    def mlp_images(self, weights, precisions=None, build: EngineBuild | None = None) -> tuple[bytes, int, bytes, int]:
        """(weight image, words per bank, bias image, words per bank) for the DMA; an int8
        layer's words pack 2U weights (tb/mlp/mlp_layout.py, contracts s.6). ``build``: the
        engine the images are for (default the top MLP; the bottom engine for DLRM)."""
        b, lb = build or self.build.mlp, self.build.lookup
        beat = lb.word_bytes
        wbeats = ceil_div(b.U * 16, lb.data_w)
        plan = bank_plan(b, [(np.shape(w)[1], np.shape(w)[0]) for w, _ in weights], precisions)
        n_w = plan[-1]["wbase"] + plan[-1]["cycles"]
        n_b = plan[-1]["bbase"] + plan[-1]["rounds"]
        wimg = [[0] * n_w for _ in range(b.P)]
        bimg = [[0] * n_b for _ in range(b.P)]
        for is_bias, pe, addr, data in weight_writes(b, weights, precisions):
            (bimg if is_bias else wimg)[pe][addr] = data
        wbytes = pack_words([w for bank in wimg for w in bank], wbeats * beat)
        bbytes = pack_words([w for bank in bimg for w in bank], beat)
        return wbytes, n_w, bbytes, n_b

    def image_base(self) -> int:
        used = self.layout.placement.channel_bytes_used(self.image_channel)
        return -(-used // TABLE_ALIGN) * TABLE_ALIGN + TABLE_ALIGN

    # ------------------------------------------------------------------ CSR steps
    async def status(self) -> dict:
        return await self.csr.read_fields("STATUS")

    async def wait_status(self, field: str, value: int, cycles: int = 200000) -> dict:
        """Poll STATUS until ``field`` equals ``value``: every 16 cycles at first, then less
        often (up to every 1024) so a long DMA costs a few dozen CSR reads, not thousands."""
        waited, step = 0, 16
        while waited <= cycles:
            st = await self.status()
            if st[field] == value:
                return st
            await pass_cycles(step)
            waited += step
            step = min(2 * step, 1024)
        raise HostError(f"STATUS.{field} never became {value} within {cycles} cycles: {await self.status()}")

    async def dma(self, src: int, target: int, words: int, nbanks: int, bank: int = 0) -> None:
        await self.csr.write_dma_src(src)
        await self.csr.write("DMA_CH", self.image_channel)
        await self.csr.write("DMA_TARGET", target)
        await self.csr.write("DMA_BANK", bank)
        await self.csr.write("DMA_WORDS", words)
        await self.csr.write("DMA_NBANKS", nbanks)
        await self.csr.write_fields("CTRL", dma_start=1)
        if self.counter_model is not None:
            self.counter_model.dma_start()      # flushes the hot-row caches (s.11.7)
        await ClockCycles(self.dut.clk, 2)
        st = await self.wait_status("dma_busy", 0, cycles=50_000_000)
        self.last_dma_err = st["dma_err"]
        if self.counter_model is not None:
            self.counter_model.dma(words, nbanks)
        if st["dma_err"]:
            raise HostError(f"DMA to target {target} (bank {bank}) from {src:#x} failed")

    def quantized(self, cfg: ModelConfig, precision):
        """The QuantModel load_model runs for ``precision`` (None for plain int16: MLP_SHIFT = F
        for every layer, section 3); "mixed" is models.quant.mixed_precisions."""
        from models.quant import MIXED, mixed_precisions, quantize
        if precision == "int16":
            return None
        if precision == MIXED:
            precision = mixed_precisions(len(cfg.layer_shapes))
        return quantize(cfg, precision)

    async def load_model(self, cfg: ModelConfig, pairs=(), weights=None, check: bool = True,
                         relocate=None, precision=None, zero_skip=None, commit: bool = True) -> LookupLayout:
        """Place, load memory, program CSRs, run DMAs, commit; raise on any refusal.
        ``relocate=(rng, lo, hi)`` moves the memory tables to random bases in [lo, hi)
        (above the DMA images, which stay after the compact placement). ``precision``
        (default self.precision) and ``zero_skip`` (default self.zero_skip) set the
        MLP's precisions (models.quant.quantize) and zero-skipping (contracts s.8).
        ``commit=False``: everything but the commit (a reload of memory contents and DMA
        images under the descriptors already active, e.g. a new table seed: only the
        DMAs' CTRL.dma_start flush the hot-row caches then, contracts s.11.7)."""
        self.cfg = cfg
        precision = self.precision if precision is None else precision
        self.zero_skip = self.zero_skip if zero_skip is None else bool(zero_skip)
        self.qmodel = None if weights is not None else self.quantized(cfg, precision)
        self.layout = LookupLayout(cfg, self.build.lookup, pairs=pairs)
        if relocate is not None:
            from tb.lookup.random_config import relocate as relocate_tables
            g, lo, hi = relocate
            relocate_tables(g, self.layout, hi - lo, lo=lo)
        self.weights = (weights if weights is not None else self.qmodel.weights if self.qmodel is not None
                        else mlp_weights(cfg))
        # a DLRM model (a bottom MLP): its weights from models.dlrm (contracts s.9.5)
        self.bottom_weights = None
        if cfg.bottom_mlp:
            if self.build.dlrm is None:
                raise HostError(f"{cfg.name}: a bottom MLP needs a DLRM build (TopBuild.dlrm)")
            from models.dlrm import bottom_weights
            self.bottom_weights = bottom_weights(cfg)
        lb = self.build.lookup
        # the host owns the memory layout: bytes a previous model wrote (its DMA
        # images) would otherwise shadow this model's procedural table rows
        await self.mem.clear_overrides()
        # procedural rows are a function of this model's seed and emb_shift
        await self.mem.set_content(seed=cfg.seed, emb_shift=cfg.emb_shift)
        # tables: the memory model serves their rows procedurally
        await self.mem.set_regions(self.layout.hbm_regions())
        # DMA images after the tables on the image channel
        base = self.image_base()
        wbytes, n_w, bbytes, n_b = self.mlp_images(self.weights, self.precisions)
        images = [("weights", DMA_WEIGHTS, 0, wbytes, n_w, self.build.mlp.P),
                  ("biases", DMA_BIASES, 0, bbytes, n_b, self.build.mlp.P)]
        if self.bottom_weights is not None:
            bw, bn_w, bb, bn_b = self.mlp_images(self.bottom_weights, None, self.build.bottom)
            images += [("bottom weights", DMA_BOT_WEIGHTS, 0, bw, bn_w, self.build.bottom.P),
                       ("bottom biases", DMA_BOT_BIASES, 0, bb, bn_b, self.build.bottom.P)]
        for bank, img in sorted(self.layout.bank_images().items()):
            n = max(img) + 1
            data = pack_words([img.get(a, 0) for a in range(n)], lb.word_bytes)
            images.append((f"bank{bank}", DMA_BANK, bank, data, n, 1))
        addr = base
        plan = []
        self.dma_plan = plan   # (target, bank, src, words, nbanks) per image, for fault tests
        for name, target, bank, data, words, nbanks in images:
            await self.mem.bulk_load(self.image_channel, addr, data)
            plan.append((target, bank, addr, words, nbanks))
            addr += -(-len(data) // TABLE_ALIGN) * TABLE_ALIGN
        # lookup descriptors (every slot, so a previous model leaves nothing behind)
        for p in range(lb.p_max):
            await self.csr.write_descriptor(p, self.layout.words[p] if p < len(self.layout.words) else 0)
        await self.csr.write("NUM_TABLES", cfg.num_tables)
        await self.program_mlp(cfg)
        await self.program_dlrm(cfg)
        await self.program_multihot(cfg)
        for target, bank, src, words, nbanks in plan:
            await self.dma(src, target, words, nbanks, bank)
        if not commit:
            return self.layout
        await self.csr.write_fields("CTRL", commit=1)
        if self.counter_model is not None:
            self.counter_model.commit()
        await ClockCycles(self.dut.clk, 2)
        st = await self.wait_status("cfg_ready", 1)
        if check:
            await self.check_config(st)
        return self.layout

    @property
    def precisions(self) -> list[str] | None:
        return self.qmodel.precisions if self.qmodel is not None else None

    def quant_fields(self) -> dict:
        """MLP_QUANT of the loaded model (contracts s.6): int16 without a QuantModel keeps
        the single MLP_SHIFT (lshift 0)."""
        q = self.qmodel
        return {"int8": sum(1 << l for l, p in enumerate(q.precisions) if p == "int8") if q else 0,
                "sparse24": 0, "input_shift": q.input_shift if q else 0,
                "zero_skip": int(self.zero_skip), "lshift": int(q is not None)}

    async def program_mlp(self, cfg: ModelConfig, shapes=None, frac_bits=None) -> None:
        shapes = shapes or list(cfg.layer_shapes)
        await self.csr.write("MLP_NUM_LAYERS", len(shapes))
        await self.csr.write("MLP_IN_DIM", shapes[0][0])
        for l in range(4):
            await self.csr.write(f"MLP_OUT_DIM{l}", shapes[l][1] if l < len(shapes) else 0)
        await self.csr.write("MLP_SHIFT", cfg.frac_bits if frac_bits is None else frac_bits)
        # written only when they change (both reset to 0): an int16 dense model then programs
        # exactly the registers of before, so its timing (and make sim's figures) is unchanged
        q = self.qmodel
        lshift = sum(s << (4 * l) for l, s in enumerate(q.shifts)) if q else 0
        if lshift != self.written.get("MLP_LSHIFT", 0):
            await self.csr.write("MLP_LSHIFT", lshift)
            self.written["MLP_LSHIFT"] = lshift
        fields = self.quant_fields()
        if fields != self.written.get("MLP_QUANT", self.QUANT_RESET):
            await self.csr.write_fields("MLP_QUANT", **fields)
            self.written["MLP_QUANT"] = fields

    def dlrm_fields(self, cfg: ModelConfig) -> dict:
        """The DLRM_* and BOT_* registers of a model (contracts s.7.2); a model without a
        bottom MLP leaves DLRM_CTRL.enable 0 (MicroRec)."""
        if not cfg.bottom_mlp:
            return {"DLRM_CTRL": 0}
        dot = cfg.interaction == "dot"
        shapes = list(cfg.bottom_layer_shapes)
        f = {"DLRM_CTRL": 1 | (int(dot) << 1), "DLRM_N": cfg.num_tables if dot else 0,
             "DLRM_D": cfg.bottom_mlp[-1], "DLRM_FLEN": 0 if dot else cfg.feature_len,
             "DLRM_NUM_DENSE": cfg.dense, "BOT_NUM_LAYERS": len(shapes), "BOT_IN_DIM": shapes[0][0],
             "BOT_SHIFT": cfg.frac_bits}
        for l in range(4):
            f[f"BOT_OUT_DIM{l}"] = shapes[l][1] if l < len(shapes) else 0
        return f

    async def program_dlrm(self, cfg: ModelConfig, **override) -> None:
        """Write the DLRM registers that differ from what was last written (all reset to 0),
        so a MicroRec model on any build programs exactly the registers of before."""
        fields = {**self.dlrm_fields(cfg), **override}
        for name, value in fields.items():
            if value != self.written.get(name, 0):
                await self.csr.write(name, value)
                self.written[name] = value

    @staticmethod
    def is_multihot(cfg: ModelConfig) -> bool:
        """A model whose queries are packets (contracts s.9.7): some table takes bags longer
        than one or pools with a shift. One-hot models, DLRM ones included, keep s_query."""
        return any(t.bag_max > 1 or t.pool_shift for t in cfg.tables)

    async def program_multihot(self, cfg: ModelConfig) -> None:
        """MULTIHOT and every table's TBL_POOL (bag_max, pool_shift) on an MH build; a
        one-hot model leaves MULTIHOT 0, so it programs exactly the registers of before."""
        mh = self.is_multihot(cfg)
        if mh and not self.build.lookup.mh:
            raise HostError(f"{cfg.name}: multi-hot tables need an MH build (LookupBuild.mh)")
        if int(mh) != self.written.get("MULTIHOT", 0):
            await self.csr.write("MULTIHOT", int(mh))
            self.written["MULTIHOT"] = int(mh)
        if not mh:
            return
        for t, tab in enumerate(cfg.tables):
            await self.csr.write("TBL_IDX", t)
            await self.csr.write_fields("TBL_POOL", bag_max=tab.bag_max, pool_shift=tab.pool_shift)
            await self.csr.write_fields("TBL_WRITE", go=1)

    QUANT_RESET = {"int8": 0, "sparse24": 0, "input_shift": 0, "zero_skip": 0, "lshift": 0}

    async def write_quant(self, **fields) -> None:
        """Write MLP_QUANT directly (fault tests); the driver remembers it."""
        await self.csr.write_fields("MLP_QUANT", **fields)
        self.written["MLP_QUANT"] = dict(fields)

    def mlp_inputs(self, indices, failing=None, zero_features: bool = False) -> list:
        """Per layer, the values stored as that layer's input for one query (what zero-
        skipping sees, contracts s.8.4): features with failed lookups zeroed (all zero when
        the lookup refused its configuration), through the golden model of the loaded model."""
        from models.golden import gather, mlp_forward
        from models.quant import qforward
        # an out-of-range index reads nothing (its table is in `failing`, zeroed below)
        rows = [t.rows for t in self.cfg.tables]
        idx = np.minimum(np.asarray(indices, dtype=np.int64), np.asarray(rows) - 1)
        feats = gather(self.cfg, idx[None, :]).astype(np.int64)
        if zero_features:
            feats[:] = 0
        elif failing:
            self.layout.zero_failed(feats[0], failing)
        if self.qmodel is not None:
            _, tr = qforward(self.qmodel, feats, return_layers=True)
            return [x[0] for x in tr.inputs]
        _, tr = mlp_forward(self.cfg, feats, self.weights, return_layers=True)
        return [x[0] for x in [tr.features.astype(np.int64)] + tr.out[:-1]]

    async def check_config(self, st: dict | None = None) -> None:
        st = st or await self.status()
        if st["cfg_bad"]:
            e = await self.csr.read_fields("CFG_ERR")
            raise HostError(f"lookup configuration refused: code {e['code']} at table {e['table_id']}")
        if st["mlp_cfg_err"]:
            raise HostError("MLP layer shapes refused (above the build maxima or F outside 1..14)")

    async def soft_reset(self) -> None:
        """Reset the datapath; returns once reads in flight have drained (STATUS.busy low).
        The counters and STATUS.dma_err restart (contracts s.7.1); the error record stays."""
        await self.csr.write_fields("CTRL", soft_reset=1)
        await ClockCycles(self.dut.clk, 2)
        await self.wait_status("busy", 0)
        self.last_dma_err = 0
        if self.counter_model is not None:
            self.counter_model.new_epoch(reset=True)

    async def perf_clear(self) -> None:
        """Zero the performance counters (not UNEXPECTED_R, a sticky status)."""
        await self.csr.write_fields("CTRL", perf_clear=1)
        if self.counter_model is not None:
            self.counter_model.new_epoch()

    async def err_clear(self) -> None:
        """Forget the error record: STATUS.err_sticky, ERR and ERR_QID read 0 until the next."""
        await self.csr.write_fields("CTRL", err_clear=1)
        if self.counter_model is not None:
            self.counter_model.err_clear()

    async def program_cache(self, enable: bool = True, policy: str = "lru", flush: bool = False,
                            wait: bool = True) -> None:
        """CACHE_CTRL (contracts s.11.11): the hot-row caches on or off, their policy (lru |
        freq), optionally a flush. ``wait``: until STATUS.cache_on says the change is in force
        (a CACHE build; enable on a build without caches is refused, CFG_ERR 15)."""
        if policy not in ("lru", "freq"):
            raise ValueError(f"cache policy {policy!r}: one of lru, freq")
        fields = {"enable": int(bool(enable)), "policy": int(policy == "freq")}
        await self.csr.write_fields("CACHE_CTRL", **fields, flush=int(flush))
        self.cache_ctrl = fields
        if self.counter_model is not None:
            self.counter_model.cache_control(bool(enable), policy, flush)
        if wait and self.build.lookup.cache:
            await self.wait_status("cache_on", int(bool(enable)))

    async def cache_flush(self) -> None:
        """CACHE_CTRL.flush, enable and policy as they are."""
        c = self.cache_ctrl
        await self.program_cache(bool(c["enable"]), "freq" if c["policy"] else "lru", flush=True, wait=False)

    async def counters(self) -> dict:
        return {name: await self.csr.read_perf(name) for name in PERF_COUNTERS if name != "unexpected_r"}

    # ------------------------------------------------------------------ queries
    async def run_queries(self, indices, backpressure: float = 0.0, rnd=None) -> list[dict]:
        """Simple blocking driver for use outside pyuvm: all queries in, all results out."""
        dut = self.dut
        results: list[dict] = []
        n = len(indices)

        async def collect():
            while len(results) < n:
                ready = int(rnd is None or rnd.random() >= backpressure)
                dut.m_result_ready.value = ready
                await RisingEdge(dut.clk)
                if ready and int(dut.m_result_valid.value):
                    results.append({"qid": int(dut.m_result_id.value),
                                    "logit": dut.m_result_logit.value.to_signed(),
                                    "err": int(dut.m_result_err.value)})
            dut.m_result_ready.value = 0

        import cocotb
        task = cocotb.start_soon(collect())
        for q, row in enumerate(indices):
            word = 0
            for t, v in enumerate(row):
                word |= (int(v) & 0xFFFFFFFF) << (32 * t)
            dut.s_query_id.value = q
            dut.s_query_idx.value = word
            dut.s_query_valid.value = 1
            while True:
                await RisingEdge(dut.clk)
                if int(dut.s_query_ready.value):
                    break
        dut.s_query_valid.value = 0
        await task
        return results
