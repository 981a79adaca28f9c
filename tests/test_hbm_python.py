"""Python side of the HBM model without a simulator: presets, register map, golden bytes."""
from __future__ import annotations

import numpy as np
import pytest

from models import tables
from tb.hbm import HbmConfig, HbmRegion, ddr4, expected_bytes, ideal, u280
from tb.hbm import regs as R
from tb.hbm.tgen import TgenCfg, xs32


def test_register_map_parsed_from_sv_package():
    assert R.N_STAT == R.S_HIST + R.N_HIST
    assert R.VIOLATION_NAMES[R.V_CROSS_4K] == "CROSS_4K"
    assert len(set(R.STAT_NAMES.values())) == len(R.STAT_NAMES)
    assert R.T["T_CTRL"] == 0 and "T_ADDR_SEED" in R.T


def test_u280_preset_numbers():
    t = u280()
    assert (t.hit_latency, t.closed_latency, t.miss_latency) == (48, 55, 62)
    assert t.t_refi == 1755 and t.t_rfc == 117          # 3.9 us and 260 ns at 450 MHz
    assert abs(t.bw_beats_per_cycle * 450e6 * 32 - 14.375e9) < 1e3
    assert t.ooo and t.max_outstanding == 64
    slow = u280(axi_mhz=125)                             # the same channel seen from a kernel clock
    assert slow.hit_latency < t.hit_latency and slow.bw_beats_per_cycle >= 1.0
    d = ddr4()
    assert d.hit_latency * 1000 / d.axi_mhz > t.hit_latency * 1000 / t.axi_mhz   # slower in ns
    assert not ideal().ooo and not ideal().bank_model


def test_channel_regs():
    cfg = HbmConfig.preset("u280", num_ch=4)
    regs = cfg.channel_regs(2)
    assert regs[R.R_CTRL] & 1 and regs[R.R_CTRL] & 32 and regs[R.R_CTRL] & 8
    assert regs[R.R_BW_NUM] < 65536 and regs[R.R_MAX_OUT] == 64
    assert regs[R.R_REF_PHASE] == 2 * cfg.timing.ref_phase_step
    assert HbmConfig().channel_regs(0)[R.R_BW_NUM] == 65536
    with pytest.raises(ValueError):
        HbmConfig(data_w=96).validate()


@pytest.mark.parametrize("dim", [1, 3, 8, 16, 20, 64])
def test_expected_bytes_matches_tables(dim):
    g = HbmRegion(ch=0, base=8192, rows=100, dim=dim, table=6)
    img = expected_bytes([g], 42, 5, 0, g.base, g.nbytes)
    rows = np.frombuffer(bytes(img), dtype="<i2").reshape(100, -1)[:, :dim]
    np.testing.assert_array_equal(rows, tables.table_rows(42, 6, np.arange(100), dim, 5))
    assert expected_bytes([g], 42, 5, 0, 0, 64) == bytearray(64)


def test_product_region_matches_tables():
    g = HbmRegion(ch=1, base=0, rows=7 * 5, dim=11, table=2, table_b=9, rows_b=5, dim_a=3)
    img = expected_bytes([g], 7, 2, 1, 0, g.nbytes)
    rows = np.frombuffer(bytes(img), dtype="<i2").reshape(35, -1)[:, :11]
    for p in range(35):
        a = tables.table_rows(7, 2, [p // 5], 3, 2)[0]
        b = tables.table_rows(7, 9, [p % 5], 8, 2)[0]
        np.testing.assert_array_equal(rows[p], np.concatenate([a, b]))


def test_tgen_address_stream():
    s = 1
    seq = []
    for _ in range(3):
        s = xs32(s)
        seq.append(s)
    assert seq[0] == 270369        # xorshift32(1) with shifts 13, 17, 5
    cfg = TgenCfg(base=0x1000, idx_mask=0xFF, stride_lg=5, addr_seed=1)
    assert list(cfg.addresses(3)) == [0x1000 + ((x & 0xFF) << 5) for x in seq]
