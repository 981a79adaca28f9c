"""cocotb/pyuvm tests for rtl/csr/microrec_csr.sv (run through tests/test_csr.py).

Every register access goes through the generated peakrdl-pyuvm register
model (frontdoor: uvm_reg -> CsrAdapter -> CsrSequencer -> CsrDriver ->
AxiLiteMaster), except the error-response checks, which need the raw AXI
response and use CsrBus. Register addresses come from the generated model;
what this file spells out by hand is only the wrapper's port map (which
register lands on which output bits), i.e. the spec being checked.

A ``PortMonitor`` samples the wrapper's outputs every cycle and records
pulses (with desc_idx/desc_data at desc_we); checks that fail log and raise
with "MISMATCH" in the message (the injected-bug test looks for it).
"""
from __future__ import annotations

import cocotb
import pyuvm
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge
from pyuvm import ConfigDB, uvm_component, uvm_env, uvm_test

from tb.common.clock_reset import start_clock_and_reset
from tb.common.seeding import py_random
from tb.csr.csr_agent import (
    PERF_NAMES,
    CsrAgent,
    CsrBus,
    CsrRegs,
)
from tb.lookup.descriptor import DESC_FIELDS, pack_desc

TIMEOUT_US = 500

PULSES = {  # CSR field -> wrapper output
    ("CTRL", "commit"): "cfg_commit",
    ("CTRL", "soft_reset"): "soft_reset",
    ("CTRL", "dma_start"): "dma_start",
    ("CTRL", "err_clear"): "err_clear",
    ("CTRL", "perf_clear"): "perf_clear",
    ("DESC_WRITE", "go"): "desc_we",
    ("TBL_WRITE", "go"): "tbl_we",
    ("CACHE_CTRL", "flush"): "cache_flush",
}
# registers that are pulses only (rw registers are checked by CsrRwTest)
PULSE_REGS = ("CTRL", "DESC_WRITE", "TBL_WRITE")
# CACHE_CTRL mixes rw fields and a pulse: field -> output port (CsrRwTest checks it on its own)
CACHE_CTRL_PORTS = {"enable": "cache_enable", "policy": "cache_policy"}
PULSE_PORTS = sorted(set(PULSES.values()))

# rw register -> (output port, lsb within it)
RW_PORTS = {
    "NUM_TABLES": ("num_tables", 0),
    "DESC_IDX": ("desc_idx", 0),
    **{f"DESC_DATA{w}": ("desc_data", 32 * w) for w in range(6)},
    "MLP_NUM_LAYERS": ("mlp_num_layers", 0),
    "MLP_IN_DIM": ("mlp_in_dim", 0),
    **{f"MLP_OUT_DIM{layer}": ("mlp_out_dims", 16 * layer) for layer in range(4)},
    "MLP_SHIFT": ("mlp_shift", 0),
    "MLP_QUANT": ("mlp_quant", 0),
    "MLP_LSHIFT": ("mlp_lshift", 0),
    "DMA_SRC_LO": ("dma_src", 0),
    "DMA_SRC_HI": ("dma_src", 32),
    "DMA_CH": ("dma_ch", 0),
    "DMA_TARGET": ("dma_target", 0),
    "DMA_BANK": ("dma_bank", 0),
    "DMA_WORDS": ("dma_words", 0),
    "DMA_NBANKS": ("dma_nbanks", 0),
    "LOOKUP_TIMEOUT": ("lookup_timeout", 0),
    "DLRM_CTRL": ("dlrm_ctrl", 0),
    "DLRM_N": ("dlrm_n", 0),
    "DLRM_D": ("dlrm_d", 0),
    "DLRM_FLEN": ("dlrm_flen", 0),
    "DLRM_NUM_DENSE": ("dlrm_num_dense", 0),
    "BOT_NUM_LAYERS": ("bot_num_layers", 0),
    "BOT_IN_DIM": ("bot_in_dim", 0),
    **{f"BOT_OUT_DIM{layer}": ("bot_out_dims", 16 * layer) for layer in range(4)},
    "BOT_SHIFT": ("bot_shift", 0),
    "MULTIHOT": ("multihot_en", 0),
    "TBL_IDX": ("tbl_idx", 0),
    "TBL_POOL": ("tbl_pool", 0),
    "MLP_WBASE": ("mlp_wbase", 0),
    "MLP_BBASE": ("mlp_bbase", 0),
}
# TOPK_CTRL: two fields on two ports (contracts s.10.6), checked on its own by CsrRwTest
TOPK_CTRL_PORTS = {"enable": "topk_enable", "k": "topk_k"}

STATUS_INPUTS = {  # STATUS field -> input port (err_sticky is internal)
    "cfg_ready": "cfg_ready", "cfg_bad": "cfg_bad", "busy": "busy",
    "dma_busy": "dma_busy", "dma_err": "dma_err", "mlp_cfg_err": "mlp_cfg_err", "cache_on": "cache_on",
}
INPUTS = ["cfg_ready", "cfg_bad", "cfg_err_code", "cfg_err_table", "busy", "dma_busy",
          "dma_err", "mlp_cfg_err", "cache_on", "err_valid", "err_code", "err_table", "err_engine",
          "err_qid", "perf", "s_axil_awprot", "s_axil_arprot"]


def mismatch(what: str, got, exp) -> AssertionError:
    msg = f"MISMATCH {what}: got {_fmt(got)}, expected {_fmt(exp)}"
    cocotb.log.error(msg)
    return AssertionError(msg)


def _fmt(v):
    return hex(v) if isinstance(v, int) else repr(v)


def check(what: str, got, exp) -> None:
    if got != exp:
        raise mismatch(what, got, exp)


# --------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------
class PortMonitor(uvm_component):
    """Samples the wrapper's outputs after every rising edge."""

    def build_phase(self):
        self.cycle = 0
        self.pulses = []   # (cycle, port)
        self.descs = []    # (cycle, desc_idx, desc_data)

    async def run_phase(self):
        dut = cocotb.top
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            self.cycle += 1
            if not int(dut.rst_n.value):
                continue
            for port in PULSE_PORTS:
                if int(getattr(dut, port).value):
                    self.pulses.append((self.cycle, port))
            if int(dut.desc_we.value):
                self.descs.append((self.cycle, int(dut.desc_idx.value), int(dut.desc_data.value)))

    def take(self):
        pulses, descs = self.pulses, self.descs
        self.pulses, self.descs = [], []
        return pulses, descs


class CsrEnv(uvm_env):
    def build_phase(self):
        self.agent = CsrAgent("csr_agent", self)
        self.mon = PortMonitor("mon", self)


class CsrBaseTest(uvm_test):
    """Clock, reset, the agent and the register model; subclasses add ``check``."""

    def build_phase(self):
        dut = cocotb.top
        for name in INPUTS:
            getattr(dut, name).value = 0
        self.bus = CsrBus(dut, dut.clk, dut.rst_n)  # per test: cocotb ends its tasks with the test
        ConfigDB().set(None, "*", "csr_bus", self.bus)
        self.env = CsrEnv("env", self)

    def connect_phase(self):
        self.csr = CsrRegs(agent=self.env.agent)
        self.rnd = py_random(7)

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await start_clock_and_reset(dut.clk, dut.rst_n)
        await ClockCycles(dut.clk, 2)
        await self.check(dut)
        await ClockCycles(dut.clk, 4)
        self.drop_objection()

    async def check(self, dut):
        raise NotImplementedError

    # helpers -------------------------------------------------------------
    def width(self, reg: str) -> int:
        """Bits implemented by a single-field register (from the model)."""
        return sum(f.get_n_bits() for f in self.csr.reg(reg).get_fields())

    async def settle(self, cycles: int = 3):
        await ClockCycles(cocotb.top.clk, cycles)


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------
@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class CsrIdTest(CsrBaseTest):
    """ID / VERSION constants, and every register's reset value (from the register model: rw regs 0, LOOKUP_TIMEOUT 4096)."""

    async def check(self, dut):
        check("ID", await self.csr.read("ID"), 0x4D524543)
        # the map version is the SystemRDL's (through the generated model), major 1: a map
        # that grows registers bumps the minor (1.2: CACHE_CTRL, STATUS.cache_on, PERF_CACHE_*)
        version = await self.csr.read("VERSION")
        check("VERSION", version, int(self.csr.reg("VERSION").get_reset()))
        check("VERSION major", version >> 16, 1)
        check("VERSION minor >= 2 (CACHE_CTRL exists)", int((version & 0xFFFF) >= 2), 1)
        for name in self.csr.names():
            reg = self.csr.reg(name)
            got = await self.csr.read(name)
            # the model's reset value (its mirror after reset()) is what the RTL must show
            check(f"{name} after reset", got, int(reg.get_reset()))


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class CsrRwTest(CsrBaseTest):
    """Random values into every rw register: bus readback, model mirror and the port bits."""

    async def check(self, dut):
        assert set(RW_PORTS) == {n for n in self.csr.names()
                                 if self.csr.reg(n).get_rights() == "RW"
                                 and n not in PULSE_REGS + ("CACHE_CTRL", "TOPK_CTRL")}, "RW_PORTS out of date"
        for rnd_round in range(4):
            written = {}
            for name in self.rnd.sample(sorted(RW_PORTS), len(RW_PORTS)):
                value = self.rnd.getrandbits(32) if rnd_round else 0xFFFFFFFF
                await self.csr.write(name, value)
                written[name] = value & ((1 << self.width(name)) - 1)
            await self.settle()
            for name, exp in written.items():
                check(f"{name} readback", await self.csr.read(name), exp)
                check(f"{name} model mirror", int(self.csr.reg(name).get_mirrored_value()), exp)
                port, lsb = RW_PORTS[name]
                got = (int(getattr(dut, port).value) >> lsb) & ((1 << self.width(name)) - 1)
                check(f"{name} -> {port}[{lsb}+:{self.width(name)}]", got, exp)
        pulses, _ = self.env.mon.take()
        check("pulses during rw writes", pulses, [])
        # CACHE_CTRL: enable and policy are rw (read back, on their ports); flush reads 0
        lsb = {f: self.csr.field_mask("CACHE_CTRL", f)[0] for f in ("enable", "policy", "flush")}
        for value in (0x3, 0x1, 0x2, 0x0, 0x3):
            await self.csr.write_fields("CACHE_CTRL", enable=value & 1, policy=value >> 1)
            await self.settle()
            exp = sum(((value >> i) & 1) << lsb[f] for i, f in enumerate(("enable", "policy")))
            check(f"CACHE_CTRL={value:#x} readback", await self.csr.read("CACHE_CTRL"), exp)
            for i, (field, port) in enumerate(CACHE_CTRL_PORTS.items()):
                check(f"CACHE_CTRL.{field} -> {port}", int(getattr(dut, port).value), (value >> i) & 1)
        # a flush write keeps enable and policy as written with it
        await self.csr.write_fields("CACHE_CTRL", enable=1, policy=1, flush=1)
        await self.settle()
        check("CACHE_CTRL after a flush write", await self.csr.read("CACHE_CTRL"),
              (1 << lsb["enable"]) | (1 << lsb["policy"]))
        pulses, _ = self.env.mon.take()
        check("CACHE_CTRL flush write pulses", [p for _, p in pulses], ["cache_flush"])
        # TOPK_CTRL: enable[0] and k[31:16], each on its port
        for enable, k in ((1, 0xFFFF), (0, 0), (1, self.rnd.getrandbits(16)), (0, self.rnd.getrandbits(16))):
            await self.csr.write_fields("TOPK_CTRL", enable=enable, k=k)
            await self.settle()
            check(f"TOPK_CTRL enable={enable} k={k:#x} readback", await self.csr.read_fields("TOPK_CTRL"),
                  {"enable": enable, "k": k})
            for field, value in (("enable", enable), ("k", k)):
                check(f"TOPK_CTRL.{field} -> {TOPK_CTRL_PORTS[field]}",
                      int(getattr(dut, TOPK_CTRL_PORTS[field]).value), value)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class CsrPulseTest(CsrBaseTest):
    """Each singlepulse field: exactly one cycle on its port and nothing elsewhere;
    several fields at once pulse together; writing 0 pulses nothing."""

    async def check(self, dut):
        self.env.mon.take()
        for (reg, field), port in PULSES.items():
            await self.csr.write_fields(reg, **{field: 1})
            await self.settle(4)
            pulses, _ = self.env.mon.take()
            check(f"{reg}.{field} pulses", [p for _, p in pulses], [port])
            check(f"{reg} reads back", await self.csr.read(reg), 0)
        # every CTRL field in one write: one common cycle
        await self.csr.write("CTRL", 0x1F)
        await self.settle(4)
        pulses, _ = self.env.mon.take()
        ctrl_ports = sorted(p for (r, _), p in PULSES.items() if r == "CTRL")
        check("CTRL=0x1f pulses", sorted(p for _, p in pulses), ctrl_ports)
        check("CTRL=0x1f one cycle", len({c for c, _ in pulses}), 1)
        for reg in PULSE_REGS + ("CACHE_CTRL",):
            await self.csr.write(reg, 0)
        await self.settle(4)
        check("pulses after writing 0", self.env.mon.take()[0], [])
        # back-to-back writes give one pulse each
        for _ in range(3):
            await self.csr.write_fields("CTRL", commit=1)
        await self.settle(4)
        pulses, _ = self.env.mon.take()
        check("3 commits", [p for _, p in pulses], ["cfg_commit"] * 3)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class CsrDescTest(CsrBaseTest):
    """Random descriptors written as 6 words: desc_we pulses once with desc_idx and
    the assembled desc_data (contracts.md section 5 field order)."""

    async def check(self, dut):
        self.env.mon.take()
        for i in range(24):
            desc = {name: self.rnd.getrandbits(width) for name, width in DESC_FIELDS}
            if i == 0:
                desc = {name: (1 << width) - 1 for name, width in DESC_FIELDS}  # all ones
            bits = pack_desc(desc)
            idx = self.rnd.getrandbits(8)
            await self.csr.write_descriptor(idx, bits)
            await self.settle(3)
            pulses, descs = self.env.mon.take()
            check(f"desc {i}: desc_we pulses", [p for _, p in pulses], ["desc_we"])
            check(f"desc {i}: desc_we count", len(descs), 1)
            _, got_idx, got_bits = descs[0]
            check(f"desc {i}: desc_idx", got_idx, idx)
            check(f"desc {i}: desc_data", got_bits, bits)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class CsrStatusTest(CsrBaseTest):
    """Status, CFG_ERR and the perf counters (every PERF_*_LO/HI pair of the map) driven from the bench, read back;
    PERF_x_HI returns the half latched by the PERF_x_LO read."""

    async def check(self, dut):
        for _ in range(8):
            sts = {port: self.rnd.getrandbits(1) for port in STATUS_INPUTS.values()}
            for port, v in sts.items():
                getattr(dut, port).value = v
            code, table = self.rnd.getrandbits(8), self.rnd.getrandbits(8)   # code: 8 bits (s.10.6)
            dut.cfg_err_code.value = code
            dut.cfg_err_table.value = table
            await self.settle(1)
            fields = await self.csr.read_fields("STATUS")
            for field, port in STATUS_INPUTS.items():
                check(f"STATUS.{field}", fields[field], sts[port])
            check("STATUS.err_sticky", fields["err_sticky"], 0)
            check("CFG_ERR", await self.csr.read_fields("CFG_ERR"), {"code": code, "table_id": table})

        for _ in range(3):
            values = [self.rnd.getrandbits(64) for _ in PERF_NAMES]
            dut.perf.value = sum(v << (64 * i) for i, v in enumerate(values))
            await self.settle(1)
            for i, name in enumerate(PERF_NAMES):
                check(f"perf {name}", await self.csr.read_perf(name), values[i])

        # HI is latched by the LO read: change the counter between the two reads
        for i, name in enumerate(PERF_NAMES):
            before = self.rnd.getrandbits(64)
            dut.perf.value = before << (64 * i)
            await self.settle(1)
            lo = await self.csr.read(f"PERF_{name.upper()}_LO")
            dut.perf.value = (before ^ (0xFFFFFFFF << 32)) << (64 * i)
            await self.settle(1)
            hi = await self.csr.read(f"PERF_{name.upper()}_HI")
            check(f"perf {name} LO/HI pair", (hi << 32) | lo, before)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class CsrPerfHiResetTest(CsrBaseTest):
    """PERF_x_HI read before any PERF_x_LO read after a reset: the snapshot the reset
    left, 0 (contracts.md s.7.1), whatever the counter holds; then a LO read latches it,
    and a second HI read without a LO read returns the same snapshot."""

    async def check(self, dut):
        # every counter's HI half non-zero and odd (bit 0 set), LO half random
        values = [((self.rnd.getrandbits(31) << 1 | 1) << 32) | self.rnd.getrandbits(32) for _ in PERF_NAMES]
        dut.perf.value = sum(v << (64 * i) for i, v in enumerate(values))
        await self.settle(1)
        for name in PERF_NAMES:
            check(f"PERF_{name.upper()}_HI before any LO read after reset",
                  await self.csr.read(f"PERF_{name.upper()}_HI"), 0)
        for i, name in enumerate(PERF_NAMES):
            check(f"perf {name} after the first LO read", await self.csr.read_perf(name), values[i])
        dut.perf.value = 0
        await self.settle(1)
        for i, name in enumerate(PERF_NAMES):
            check(f"PERF_{name.upper()}_HI again without a LO read",
                  await self.csr.read(f"PERF_{name.upper()}_HI"), values[i] >> 32)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class CsrErrTest(CsrBaseTest):
    """ERR/ERR_QID keep the first error record since err_clear; err_sticky."""

    async def pulse_err(self, dut, code, table, engine, qid, wait=True):
        if wait:
            await FallingEdge(dut.clk)
        dut.err_valid.value = 1
        dut.err_code.value = code
        dut.err_table.value = table
        dut.err_engine.value = engine
        dut.err_qid.value = qid
        await FallingEdge(dut.clk)
        dut.err_valid.value = 0

    def record(self):
        return (self.rnd.getrandbits(4), self.rnd.getrandbits(8), self.rnd.getrandbits(8),
                self.rnd.getrandbits(32))

    async def expect(self, rec, sticky):
        fields = await self.csr.read_fields("ERR")
        code, table, engine, qid = rec
        check("ERR", (fields["code"], fields["table_id"], fields["engine"]), (code, table, engine))
        check("ERR_QID", await self.csr.read("ERR_QID"), qid)
        check("STATUS.err_sticky", (await self.csr.read_fields("STATUS"))["err_sticky"], sticky)

    async def check(self, dut):
        zero = (0, 0, 0, 0)
        await self.expect(zero, 0)
        for _ in range(4):
            first = self.record()
            await self.pulse_err(dut, *first)
            for _ in range(3):  # later records (some back to back) are ignored
                await self.pulse_err(dut, *self.record(), wait=self.rnd.random() < 0.5)
            await self.expect(first, 1)
            await self.csr.write_fields("CTRL", err_clear=1)
            await self.settle(2)
            await self.expect(zero, 0)

        # an error in the same cycle as the err_clear pulse starts the new epoch
        same = self.record()
        old = self.record()
        await self.pulse_err(dut, *old)
        clear = cocotb.start_soon(self.csr.write_fields("CTRL", err_clear=1))
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            if int(dut.err_clear.value):
                break
        await self.pulse_err(dut, *same)   # err_valid during the err_clear cycle
        await clear
        await self.settle(2)
        await self.expect(same, 1)


@pyuvm.test(timeout_time=TIMEOUT_US, timeout_unit="us")
class CsrBadAccessTest(CsrBaseTest):
    """Unmapped addresses and writes to read-only registers answer SLVERR
    (rdata 0) and change nothing; mapped accesses answer OKAY."""

    async def check(self, dut):
        bus = self.bus
        mapped = {self.csr.address(n) for n in self.csr.names()}
        top = 1 << len(dut.s_axil_araddr)
        holes = [a for a in range(0, top, 4) if a not in mapped]
        assert holes, "no unmapped address in the block's range"
        picks = sorted(set(self.rnd.sample(holes, min(12, len(holes))) + [holes[0], holes[-1]]))
        await self.csr.write("NUM_TABLES", 0x5A)
        for addr in picks:
            data, resp = await bus.read_resp(addr)
            check(f"read 0x{addr:03x} resp", resp, 2)
            check(f"read 0x{addr:03x} data", data, 0)
            check(f"write 0x{addr:03x} resp", await bus.write_resp(addr, 0xFFFFFFFF), 2)
        for name in self.csr.names():
            if self.csr.reg(name).get_rights() == "RO":
                addr = self.csr.address(name)
                before = await bus.read(addr)
                check(f"write RO {name} resp", await bus.write_resp(addr, ~before & 0xFFFFFFFF), 2)
                check(f"RO {name} unchanged", await bus.read(addr), before)
        check("NUM_TABLES survives bad accesses", await self.csr.read("NUM_TABLES"), 0x5A)
        check("pulses from bad accesses", self.env.mon.take()[0], [])
        _, resp = await bus.read_resp(self.csr.address("ID"))
        check("mapped read resp", resp, 0)


@pyuvm.test(timeout_time=4 * TIMEOUT_US, timeout_unit="us")
class CsrAllTest(CsrBaseTest):
    """Desc + rw + status in one run (what the injected-bug check uses)."""

    async def check(self, dut):
        for cls in (CsrDescTest, CsrRwTest, CsrStatusTest):
            await cls.check(self, dut)
