"""What every self-test of the SV memory model (tb/hdl/hbm_tb_top.sv) shares:
the harness build from the spec, bring-up, the cocotbext-axi master on
m0_axi_*, hand-driven AR bursts and latency probes, and sample regions.

Expected data always comes from models/tables.py.
"""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, FallingEdge, First, ReadOnly, RisingEdge, Timer
from cocotbext.axi import AxiBus, AxiMaster

from models import tables
from tb.common.clock_reset import start_clock_and_reset
from tb.common.seeding import test_seed
from tb.common.spec import load_spec
from tb.hbm import HbmConfig, HbmMemory, HbmRegion, ideal
from tb.hbm.dut import HbmHarnessBuild, HbmKnobs
from tb.hbm.tgen import TrafficGens

_SPEC = load_spec()
BUILD = _SPEC.build_as(HbmHarnessBuild)
KNOBS = _SPEC.knobs_as(HbmKnobs)
NUM_CH, DATA_W, ID_W = BUILD.num_ch, BUILD.data_w, BUILD.id_w
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

