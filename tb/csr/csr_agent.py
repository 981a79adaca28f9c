"""Host access to the CSR block (rtl/csr/microrec_csr.sv).

Three layers, usable separately:

``CsrBus``
    32-bit reads and writes through cocotbext-axi's ``AxiLiteMaster`` on the
    ``s_axil`` ports. No pyuvm needed (the host driver can use it directly).
    ``read``/``write`` raise :class:`CsrBusError` on a non-OKAY response;
    ``read_resp``/``write_resp`` return the response instead.

``CsrAgent`` (pyuvm)
    ``CsrItem`` / ``CsrSequencer`` / ``CsrDriver`` (drives ``CsrBus``) and
    ``CsrAdapter`` (``uvm_reg_adapter``), so the generated peakrdl-pyuvm
    register model (tb/csr/generated/microrec_csr_ral.py) reaches the DUT by
    frontdoor: ``await regs.DMA_SRC_LO.write(v)``, ``await regs.ID.read()``.

``CsrRegs``
    Named access on top of the register model: ``await csr.write("DMA_SRC_LO",
    v)``, ``await csr.read("ID")``, ``csr.address("ERR")``, 64-bit
    ``read_perf("mlp_macs")`` and ``write_descriptor(idx, bits)``. With an agent
    it goes through the model's frontdoor; without one (outside pyuvm) it
    takes the addresses from the same generated model and uses ``CsrBus``.
    Addresses are never typed by hand.
"""
from __future__ import annotations

import logging

from cocotbext.axi import AxiLiteBus, AxiLiteMaster
from cocotbext.axi.constants import AxiResp
from pyuvm import (
    uvm_agent,
    uvm_driver,
    uvm_reg_adapter,
    uvm_sequence_item,
    uvm_sequencer,
)
from pyuvm._reg.uvm_reg_model import uvm_access_e, uvm_endianness_e, uvm_status_e

from tb.common.sv_source import csr_perf_names
from tb.csr.generated.microrec_csr_ral import microrec_csr_regs

# Performance counter index order, read from the SystemRDL: index i is
# PERF_<NAME>_LO/HI and the wrapper's perf[64*i +: 64].
PERF_NAMES = csr_perf_names()
DESC_WORDS = 6          # DESC_DATA0..5
DESC_W = 185

RESP_NAMES = {0: "OKAY", 1: "EXOKAY", 2: "SLVERR", 3: "DECERR"}


class CsrBusError(RuntimeError):
    def __init__(self, kind: str, addr: int, resp: int):
        super().__init__(f"CSR {kind} at 0x{addr:03x}: {RESP_NAMES.get(resp, resp)}")
        self.kind, self.addr, self.resp = kind, addr, resp


# --------------------------------------------------------------------------
# raw bus
# --------------------------------------------------------------------------
class CsrBus:
    """32-bit AXI4-Lite accesses on ``<prefix>_*`` ports of ``dut``."""

    def __init__(self, dut, clk, rst_n, prefix: str = "s_axil", quiet: bool = True):
        if quiet:  # cocotbext-axi logs a banner and every reset edge at INFO
            logging.getLogger(f"cocotb.{dut._name}.{prefix}").setLevel(logging.WARNING)
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, prefix), clk, rst_n,
                                  reset_active_level=False)
        self.reads = 0
        self.writes = 0

    async def write_resp(self, addr: int, value: int) -> int:
        rsp = await self.axil.write(addr, int(value & 0xFFFFFFFF).to_bytes(4, "little"))
        self.writes += 1
        return int(rsp.resp)

    async def read_resp(self, addr: int) -> tuple[int, int]:
        rsp = await self.axil.read(addr, 4)
        self.reads += 1
        return int.from_bytes(rsp.data, "little"), int(rsp.resp)

    async def write(self, addr: int, value: int) -> None:
        resp = await self.write_resp(addr, value)
        if resp != AxiResp.OKAY:
            raise CsrBusError("write", addr, resp)

    async def read(self, addr: int) -> int:
        value, resp = await self.read_resp(addr)
        if resp != AxiResp.OKAY:
            raise CsrBusError("read", addr, resp)
        return value


# --------------------------------------------------------------------------
# pyuvm agent + register adapter
# --------------------------------------------------------------------------
class CsrItem(uvm_sequence_item):
    def __init__(self, name="csr_item", addr=0, data=0, write=False):
        super().__init__(name)
        self.addr = addr
        self.data = data
        self.write = write
        self.resp = None  # AXI response code, filled by the driver

    def __str__(self):
        kind = "W" if self.write else "R"
        return f"CsrItem({kind} 0x{self.addr:03x} = 0x{self.data:08x}, resp={self.resp})"


class CsrSequencer(uvm_sequencer):
    pass


class CsrDriver(uvm_driver):
    """Performs each ``CsrItem`` on the bus; fills in data (reads) and resp."""

    bus: CsrBus = None

    async def run_phase(self):
        while True:
            item = await self.seq_item_port.get_next_item()
            if item.write:
                item.resp = await self.bus.write_resp(item.addr, item.data)
            else:
                item.data, item.resp = await self.bus.read_resp(item.addr)
            self.seq_item_port.item_done()


class CsrAdapter(uvm_reg_adapter):
    """uvm_reg_bus_op <-> CsrItem. The driver updates the request item in
    place, so no separate response is expected (provides_responses False)."""

    def __init__(self, name="csr_adapter"):
        super().__init__(name)
        self.supports_byte_enable = False
        self.provides_responses = False

    def reg2bus(self, rw):
        return CsrItem("csr_reg_item", addr=int(rw.addr), data=int(rw.data),
                       write=rw.kind == uvm_access_e.UVM_WRITE)

    def bus2reg(self, bus_item, rw):
        rw.kind = uvm_access_e.UVM_WRITE if bus_item.write else uvm_access_e.UVM_READ
        rw.addr = bus_item.addr
        rw.data = bus_item.data
        rw.status = (uvm_status_e.UVM_IS_OK if bus_item.resp == AxiResp.OKAY
                     else uvm_status_e.UVM_NOT_OK)


class CsrAgent(uvm_agent):
    """Sequencer + driver; ``bus`` must be set (ConfigDB "csr_bus") before run."""

    def build_phase(self):
        self.seqr = CsrSequencer("seqr", self)
        self.driver = CsrDriver("driver", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.bus = self.cdb_get("csr_bus")


class MicrorecCsrModel(microrec_csr_regs):
    """The generated block with one fix for pyuvm 5.0.

    peakrdl-pyuvm 0.9 creates its map with ``UVM_NO_ENDIAN``; pyuvm 5.0's
    ``uvm_reg_map`` cannot compute any register address under that (it
    reports "Map has no specified endianness" and then fails with a
    TypeError in lock_model()). AXI4-Lite is little endian, so the map is
    created little endian instead; everything else is the generated code.
    """

    def create_map(self, name, base_addr, n_bytes, endian, byte_addressing=True):
        if endian == uvm_endianness_e.UVM_NO_ENDIAN:
            endian = uvm_endianness_e.UVM_LITTLE_ENDIAN
        return super().create_map(name, base_addr, n_bytes, endian, byte_addressing)


def build_reg_model(name: str = "csr_regs") -> microrec_csr_regs:
    """The generated register model, built, locked and reset (mirror = reset values)."""
    regs = MicrorecCsrModel(name)
    regs.build()
    regs.lock_model()  # the generated build() does not lock; addresses need it
    regs.reset()
    return regs


# --------------------------------------------------------------------------
# named access
# --------------------------------------------------------------------------
class CsrRegs:
    """Named CSR access from the generated register model.

    ``frontdoor=True`` (needs ``agent``): every access is a uvm_reg
    read/write through the model's map, the adapter and the agent's
    sequencer. Otherwise the model only supplies addresses and ``bus`` does
    the access (usable without a running pyuvm test).
    """

    def __init__(self, bus: CsrBus | None = None, agent: CsrAgent | None = None,
                 model: microrec_csr_regs | None = None):
        self.model = model or build_reg_model()
        self.bus = bus
        self.frontdoor = agent is not None
        if agent is not None:
            self.adapter = CsrAdapter()
            reg_map = self.model.get_default_map()
            reg_map.set_sequencer(agent.seqr, self.adapter)
            # no bus predictor: the model's mirror follows its own accesses
            reg_map.set_auto_predict(True)
        elif bus is None:
            raise ValueError("CsrRegs needs a CsrBus or a CsrAgent")
        self._regs = {r.get_name(): r for r in self.model.get_registers()}

    # -- map queries ------------------------------------------------------
    def reg(self, name: str):
        try:
            return self._regs[name]
        except KeyError:
            raise KeyError(f"no CSR named {name!r}; known: {sorted(self._regs)}") from None

    def address(self, name: str) -> int:
        return int(self.reg(name).get_address())

    def names(self) -> list[str]:
        return sorted(self._regs, key=self.address)

    def field_mask(self, name: str, fieldname: str) -> tuple[int, int]:
        """(lsb, width) of a field, from the model."""
        f = self.reg(name).get_field_by_name(fieldname)
        return int(f.get_lsb_pos()), int(f.get_n_bits())

    # -- accesses ---------------------------------------------------------
    async def write(self, name: str, value: int) -> None:
        if self.frontdoor:
            status = await self.reg(name).write(int(value))
            if status != uvm_status_e.UVM_IS_OK:
                raise CsrBusError("write", self.address(name), 2)
        else:
            await self.bus.write(self.address(name), value)

    async def read(self, name: str) -> int:
        if self.frontdoor:
            status, value = await self.reg(name).read()
            if status != uvm_status_e.UVM_IS_OK:
                raise CsrBusError("read", self.address(name), 2)
            return int(value)
        return await self.bus.read(self.address(name))

    async def write_fields(self, name: str, **fields) -> None:
        """Write a register built from field values (others 0): e.g.
        ``write_fields("CTRL", commit=1)``."""
        value = 0
        for fname, fval in fields.items():
            lsb, width = self.field_mask(name, fname)
            if not 0 <= int(fval) < (1 << width):
                raise ValueError(f"{name}.{fname}={fval} does not fit in {width} bits")
            value |= int(fval) << lsb
        await self.write(name, value)

    async def read_fields(self, name: str) -> dict:
        value = await self.read(name)
        out = {}
        for f in self.reg(name).get_fields():
            lsb, width = int(f.get_lsb_pos()), int(f.get_n_bits())
            out[f.get_name()] = (value >> lsb) & ((1 << width) - 1)
        return out

    async def read_perf(self, counter: str | int) -> int:
        """A 64-bit counter: LO first (latches HI), then HI."""
        name = PERF_NAMES[counter] if isinstance(counter, int) else counter
        lo = await self.read(f"PERF_{name.upper()}_LO")
        hi = await self.read(f"PERF_{name.upper()}_HI")
        return (hi << 32) | lo

    async def write_descriptor(self, idx: int, bits: int) -> None:
        """DESC_DATA0..5 <- the 185-bit descriptor (contracts.md section 5,
        tb/lookup/descriptor.pack_desc), DESC_IDX <- idx, then DESC_WRITE."""
        if not 0 <= bits < (1 << DESC_W):
            raise ValueError("descriptor does not fit in 185 bits")
        for w in range(DESC_WORDS):
            await self.write(f"DESC_DATA{w}", (bits >> (32 * w)) & 0xFFFFFFFF)
        await self.write("DESC_IDX", idx)
        await self.write_fields("DESC_WRITE", go=1)

    async def write_dma_src(self, addr: int) -> None:
        await self.write("DMA_SRC_LO", addr & 0xFFFFFFFF)
        await self.write("DMA_SRC_HI", (addr >> 32) & 0xFFFFFFFF)
