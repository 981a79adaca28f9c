"""cocotb test of my_harness.sv: procedural table rows served by the HBM model,
read over AXI by cocotbext-axi, checked against models.tables (the same
content function the golden model uses)."""
from __future__ import annotations

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, Timer
from cocotbext.axi import AxiMasterRead, AxiReadBus

from models import tables
from tb.hbm import HbmConfig, HbmMemory, HbmRegion

SEED, EMB_SHIFT = 0xC0FFEE, 5


@cocotb.test()
async def rows_over_axi_match_models_tables(dut):
    dut.rst_n.value = 0
    dut.hbm_cmd_valid.value = 0
    dut.m_axi_arvalid.value = 0
    await Timer(1, unit="ns")
    Clock(dut.clk, 10, unit="ns").start()
    await ClockCycles(dut.clk, 5)
    dut.rst_n.value = 1
    await RisingEdge(dut.clk)

    # two channels, u280 timing restated at 200 MHz, the golden model's table contents
    mem = HbmMemory(HbmConfig.preset("u280", num_ch=2, id_w=4, seed=SEED, emb_shift=EMB_SHIFT,
                                     rng_seed=cocotb.RANDOM_SEED, allow_unaligned=True))
    await mem.start()
    table = HbmRegion(ch=0, base=0x4000, rows=5000, dim=16, table=3)   # logical table 3, 32-byte rows
    await mem.set_regions([table])

    axi = AxiMasterRead(AxiReadBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst_n, reset_active_level=False)
    rng = np.random.default_rng(cocotb.RANDOM_SEED)
    rows = rng.integers(0, table.rows, size=40)
    for r in rows:
        got = await axi.read(table.row_addr(int(r)), table.stride)
        row = np.frombuffer(got.data, dtype="<i2")[:table.dim]
        want = tables.table_rows(SEED, 3, np.array([r]), table.dim, EMB_SHIFT)[0]
        assert np.array_equal(row, want), f"row {r}: got {row.tolist()} expected {want.tolist()}"
    stats = (await mem.stats([0]))[0]
    assert stats.reads == len(rows), stats.as_dict()
    mem.check()                  # no AXI protocol violation seen by the model
    dut._log.info(f"{len(rows)} rows exact; latency {stats.lat_min}..{stats.lat_max} cycles")
