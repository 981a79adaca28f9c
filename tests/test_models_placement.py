"""Placement: invariants, balance, capacities, errors, descriptors that read back right."""

from collections import Counter
from dataclasses import fields

import numpy as np
import pytest

from models import ModelConfig, TableConfig, builtin
from models.cartesian import ProductTable, apply_products
from models.config import SMALL_47_FACTORS, TABLE_ALIGN
from models.golden import gather
from models.placement import (
    DESC_BITS,
    PhysicalDescriptor,
    Placement,
    PlacementError,
    Platform,
    auto_tiers,
    pack_banks,
    place,
)
from models.queries import uniform_queries
from models.tables import table_rows

CONTRACT_FIELDS = ["valid", "onchip", "channel", "base", "stride_log2", "rows", "dim",
                   "is_product", "lt_a", "lt_b", "rows_b", "dim_a", "feat_off_a", "feat_off_b"]


def check_invariants(pl: Placement) -> None:
    """Every physical table placed exactly once, aligned, inside its channel, no overlaps."""
    plat = pl.platform
    seen = Counter()
    for ch, regs in pl.layout.items():
        assert 0 <= ch < plat.num_channels
        end = 0
        for r in regs:
            assert r.base % TABLE_ALIGN == 0 and r.base >= end
            assert r.size == pl.plan.rows(r.table) * pl.plan.stride(r.table)
            end = r.base + r.size
            seen[r.table] += 1
            assert (pl.tiers[r.table], pl.channels[r.table], pl.bases[r.table]) == \
                (plat.channel_tier(ch), ch, r.base)
        assert end <= plat.channel_bytes(ch)
    for b, regs in pl.onchip_layout.items():
        assert 0 <= b < plat.onchip_banks
        end = 0
        for r in regs:
            stride = pl.plan.stride(r.table)
            assert r.base % max(stride, plat.onchip_word_bytes) == 0 and r.base >= end
            assert r.size == pl.plan.rows(r.table) * stride
            end = r.base + r.size
            seen[r.table] += 1
            assert (pl.tiers[r.table], pl.channels[r.table], pl.bases[r.table]) == \
                ("onchip", b, r.base)
        assert end <= plat.bank_bytes
    assert seen == Counter(range(pl.num_physical))
    assert sum(pl.lookups_per_channel().values()) + sum(pl.lookups_per_bank().values()) \
        == pl.num_physical
    for d in pl.descriptors:
        d.check(plat.onchip_word_bytes)


def read_back(pl: Placement, q: np.ndarray) -> np.ndarray:
    """The lookup engine, from the descriptor fields and models.tables only.

    Row r of a physical table is at byte base + r * stride of its channel or
    bank; the table that owns that address comes from the layout, its
    contents from the logical tables the descriptor names.
    """
    cfg = pl.cfg
    feats = np.zeros((q.shape[0], cfg.feature_len), dtype=np.int16)
    for d in pl.descriptors:
        assert d.valid
        r = q[:, d.lt_a] * d.rows_b + q[:, d.lt_b] if d.is_product else q[:, d.lt_a]
        assert (r < d.rows).all()
        addr = d.base + r * d.stride
        regs = (pl.onchip_layout if d.onchip else pl.layout)[d.channel]
        owner = [g for g in regs if g.base <= addr.min() and addr.max() < g.base + g.size]
        assert len(owner) == 1 and owner[0].base == d.base
        row = (addr - d.base) // d.stride
        ia, ib = (row // d.rows_b, row % d.rows_b) if d.is_product else (row, None)
        a = table_rows(cfg.seed, d.lt_a, ia, d.dim_a, cfg.emb_shift)
        feats[:, d.feat_off_a:d.feat_off_a + d.dim_a] = a
        if d.is_product:
            nb = d.dim - d.dim_a
            assert nb == cfg.tables[d.lt_b].dim
            feats[:, d.feat_off_b:d.feat_off_b + nb] = table_rows(cfg.seed, d.lt_b, ib, nb,
                                                                  cfg.emb_shift)
    return feats


def _queries(cfg, n=40, seed=3):
    q = uniform_queries(cfg, n, seed=seed)
    q[0] = [t.rows - 1 for t in cfg.tables]
    q[1] = 0
    return q


# ---- platform --------------------------------------------------------------

def test_platform_numbering_and_defaults():
    p = Platform()
    assert p.num_channels == 34 and p.onchip_slots == 8 and p.bank_bytes == 2 << 20
    assert p.bank_words == (2 << 20) // 32
    assert [p.channel_tier(c) for c in (0, 31, 32, 33)] == ["hbm", "hbm", "ddr", "ddr"]
    assert p.axi_channel("hbm", 5) == 5 and p.axi_channel("ddr", 1) == 33
    assert p.channel_bytes(0) == 256 << 20 and p.channel_bytes(33) == 16 << 30
    with pytest.raises(ValueError):
        p.channel_tier(34)
    with pytest.raises(ValueError, match="ddr channel 2"):
        p.axi_channel("ddr", 2)
    with pytest.raises(ValueError, match="onchip_word_bytes"):
        Platform(onchip_word_bytes=24)
    with pytest.raises(ValueError, match="hbm_channels"):
        Platform(hbm_channels=-1)


def test_descriptor_has_exactly_the_contract_fields():
    assert [f.name for f in fields(PhysicalDescriptor)] == CONTRACT_FIELDS
    assert set(DESC_BITS) <= set(CONTRACT_FIELDS)


# ---- configs that carry tiers and channels ---------------------------------

@pytest.mark.parametrize("name", ["tiny", "microrec_small", "microrec_large", "dlrm_kaggle",
                                  "microrec_small_47"])
def test_respects_configured_tiers_and_channels(name):
    cfg = builtin(name)
    plat = Platform(onchip_banks=8) if name == "microrec_large" else Platform()
    pl = place(cfg, platform=plat)
    check_invariants(pl)
    for p, t in enumerate(cfg.tables):
        assert pl.tiers[p] == t.tier
        if t.tier != "onchip":
            assert pl.channels[p] == plat.axi_channel(t.tier, t.channel)
    q = _queries(cfg)
    assert np.array_equal(read_back(pl, q), gather(cfg, q))
    assert np.array_equal(pl.lookup_features(q), gather(cfg, q))


def test_microrec_small_is_one_round():
    pl = place(builtin("microrec_small"))
    assert pl.dram_rounds == 1 and pl.dram_tables == 34 and pl.onchip_tables == 8
    assert pl.onchip_rounds == 2 and set(pl.lookups_per_channel().values()) == {1}


def test_tiny_descriptors_by_hand():
    cfg = builtin("tiny")   # user item category brand city history; offsets 0 8 24 28 36 40
    pl = place(cfg, [("category", "city")])
    d = pl.descriptors
    assert len(d) == 5
    # category x city takes category's place (physical 2); both were onchip/hbm -> DRAM
    prod = d[2]
    assert (prod.is_product, prod.lt_a, prod.lt_b, prod.rows, prod.rows_b, prod.dim,
            prod.dim_a, prod.feat_off_a, prod.feat_off_b, prod.stride_log2, prod.onchip) == \
        (1, 2, 4, 16 * 300, 300, 8, 4, 24, 36, 4, 0)
    user = d[0]
    assert (user.valid, user.onchip, user.channel, user.base, user.stride_log2, user.rows,
            user.dim, user.is_product, user.lt_a, user.lt_b, user.rows_b, user.dim_a,
            user.feat_off_a, user.feat_off_b) == (1, 0, 0, 0, 4, 1000, 8, 0, 0, 0, 0, 8, 0, 0)
    brand = d[3]
    assert (brand.onchip, brand.base, brand.rows, brand.lt_a, brand.feat_off_a) == \
        (1, 0, 100, 3, 28)
    hist = d[4]
    assert (hist.onchip, hist.channel, hist.lt_a, hist.feat_off_a) == (0, 32, 5, 40)
    assert prod.to_dict()["rows_b"] == 300 and prod.rows_a == 16 and prod.stride == 16


# ---- automatic placement ---------------------------------------------------

def _uniform_cfg(n, rows=1000, dim=8, tier="hbm"):
    return ModelConfig("u", [TableConfig(f"t{i}", rows + i, dim, tier) for i in range(n)], [1])


@pytest.mark.parametrize("n, hbm, ddr", [(40, 8, 2), (34, 32, 2), (35, 32, 2), (7, 3, 0),
                                         (100, 32, 2)])
def test_balance_is_ceil_of_lookups_over_channels(n, hbm, ddr):
    plat = Platform(hbm_channels=hbm, ddr_channels=ddr, onchip_banks=0)
    pl = place(_uniform_cfg(n), platform=plat, tiers=["dram"] * n)
    check_invariants(pl)
    assert pl.dram_rounds == -(-n // (hbm + ddr))
    loads = pl.lookups_per_channel().values()
    assert max(loads) - min(loads) <= 1


def test_capacity_beats_balance_when_it_must():
    # 3 channels of 4 MiB; two 3.5 MiB tables leave 0.5 MiB in their channels,
    # so all four 0.6 MiB tables must share the third: 4 rounds, not 2
    plat = Platform(hbm_channels=3, hbm_channel_bytes=4 << 20, ddr_channels=0, onchip_banks=0)
    tables = [TableConfig(f"big{i}", 229_376, 8, "hbm") for i in range(2)] + \
        [TableConfig(f"small{i}", 39_321, 8, "hbm") for i in range(4)]
    pl = place(ModelConfig("m", tables, [1]), platform=plat)
    check_invariants(pl)
    assert pl.dram_rounds == 4
    assert {pl.channels[p] for p in range(2, 6)} == {pl.channels[2]}
    # big tables go where they fit (DDR), small ones balance over the rest
    plat = Platform(hbm_channels=2, hbm_channel_bytes=1 << 20, ddr_channels=1)
    tables = [TableConfig("big", 1 << 20, 8, "hbm")] + \
        [TableConfig(f"s{i}", 100, 8, "hbm") for i in range(5)]
    pl = place(ModelConfig("m", tables, [1]), platform=plat, respect_tiers=False)
    check_invariants(pl)
    assert pl.tiers[0] == "ddr"


def test_ignoring_configured_channels_rebalances():
    cfg = builtin("microrec_small_47")
    assert place(cfg).dram_rounds == 2
    pl = place(cfg, respect_channels=False)
    check_invariants(pl)
    assert pl.dram_rounds == 2 and max(pl.lookups_per_channel().values()) == 2
    assert Counter(pl.lookups_per_channel().values()) == {1: 29, 2: 5}


def test_fewer_channels_than_configured_needs_auto_channels():
    cfg = builtin("microrec_small")
    plat = Platform(hbm_channels=8)
    with pytest.raises(PlacementError, match="'hbm08'.*hbm channel 8 does not exist"):
        place(cfg, platform=plat)
    pl = place(cfg, platform=plat, respect_channels=False)
    check_invariants(pl)
    assert pl.dram_rounds == -(-34 // 10)


def test_auto_tiers_cache_the_smallest_within_slots():
    cfg = builtin("microrec_small")
    plan = apply_products(cfg, [])
    tiers = auto_tiers(plan, Platform())
    chosen = [p for p, t in enumerate(tiers) if t == "onchip"]
    assert [cfg.tables[p].name for p in chosen] == [f"chip{i}" for i in range(8)]
    assert auto_tiers(plan, Platform(onchip_banks=0)) == ["dram"] * 42
    one = auto_tiers(plan, Platform(onchip_banks=2, onchip_lookups_per_bank=1))
    assert one.count("onchip") == 2
    # tables larger than a bank never go on chip; wide rows may
    big = ModelConfig("b", [TableConfig("a", 70_000, 16, "onchip"),
                            TableConfig("w", 4, 64, "onchip")], [1])
    assert auto_tiers(apply_products(big, []), Platform()) == ["dram", "onchip"]


def test_pack_banks():
    plat = Platform(onchip_banks=2, onchip_bytes=2 * 100)   # 100 bytes per bank
    assert pack_banks({0: 60, 1: 50, 2: 40}, plat) == {0: 0, 1: 1, 2: 1}
    assert pack_banks({0: 60, 1: 50, 2: 50}, plat) == {0: 0, 1: 1, 2: 1}   # exactly full
    assert pack_banks({0: 60, 1: 50, 2: 51}, plat) is None
    assert pack_banks({0: 10, 1: 10, 2: 10}, plat, cap=1) is None
    assert pack_banks({0: 10, 1: 10}, plat, fixed={0: 1}) == {0: 1, 1: 0}


# ---- infeasible models -----------------------------------------------------

def test_table_larger_than_every_channel_is_named():
    cfg = ModelConfig("huge", [TableConfig("small", 10, 8, "hbm", 0),
                               TableConfig("giant", 2_000_000_000, 16, "ddr")], [1])
    with pytest.raises(PlacementError, match=r"'giant'.*fits no ddr channel.*16 GiB"):
        place(cfg)
    with pytest.raises(PlacementError, match=r"'giant'.*256 MiB.*16 GiB"):
        place(cfg, respect_tiers=False)


def test_overfull_configured_channel_is_named():
    cfg = ModelConfig("fat", [TableConfig("a", 9_000_000, 16, "hbm", 3),
                              TableConfig("b", 10, 16, "hbm", 3)], [1])
    with pytest.raises(PlacementError, match=r"'a'.*hbm channel 3.*256 MiB"):
        place(cfg)


def test_too_many_tables_for_the_total_capacity():
    # 5 tables of 150 MiB on two 256 MiB channels: the third one has nowhere to go
    plat = Platform(hbm_channels=2, ddr_channels=0)
    cfg = _uniform_cfg(5, rows=150 << 16, dim=8)
    with pytest.raises(PlacementError, match=r"table 't\d'.*hbm channels hold 256 MiB each"):
        place(cfg, platform=plat, respect_channels=False)


def test_onchip_overflow_is_named():
    cfg = ModelConfig("chip", [TableConfig("c0", 60_000, 8, "onchip"),     # 960000 B
                               TableConfig("c1", 80_000, 8, "onchip")], [1])  # 1280000 B
    plat = Platform(onchip_banks=1, onchip_bytes=2 << 20)
    with pytest.raises(PlacementError, match=r"'c0'.*960000 bytes do not fit on chip.*2 MiB"):
        place(cfg, platform=plat)
    with pytest.raises(PlacementError, match=r"'c1'.*1280000 bytes do not fit an on-chip bank"):
        place(cfg, platform=Platform(onchip_banks=8, onchip_bytes=8 << 20))


def test_descriptor_limits():
    many = ModelConfig("many", [TableConfig(f"t{i}", 2, 1, "hbm") for i in range(257)], [1])
    with pytest.raises(PlacementError, match="257 logical tables"):
        place(many, respect_channels=False)
    d = PhysicalDescriptor(1, 0, 0, 4096, 4, 10, 8, 0, 0, 0, 0, 8, 0, 0)
    d.check()
    for bad in (dict(base=100), dict(stride_log2=13), dict(dim=512), dict(channel=256)):
        with pytest.raises(PlacementError):
            PhysicalDescriptor(**{**d.to_dict(), **bad}).check()


# ---- descriptors read back what the golden model gathers --------------------

@pytest.mark.parametrize("name, pairs", [
    ("tiny", [(2, 4), (5, 0)]),
    ("tiny", [("brand", "category")]),          # a product that stays on chip
    ("microrec_small_47", "factors"),
    ("dlrm_kaggle", [(5, 8), (16, 19), (0, 21)]),
])
def test_descriptors_round_trip_with_products(name, pairs):
    cfg = builtin(name)
    if name == "dlrm_kaggle":   # multi-hot tables never merge: use its one-hot variant
        for t in cfg.tables:
            t.bag_max = 1
    if pairs == "factors":
        pairs = [(cfg.table_index(f"hbm{i:02d}a"), cfg.table_index(f"hbm{i:02d}b"))
                 for i in SMALL_47_FACTORS]
    for kw in (dict(), dict(respect_tiers=False, respect_channels=False)):
        pl = place(cfg, pairs, **kw)
        check_invariants(pl)
        assert sum(d.is_product for d in pl.descriptors) == len(pairs)
        q = _queries(cfg, seed=len(pairs))
        want = gather(cfg, q)
        assert np.array_equal(read_back(pl, q), want)
        assert np.array_equal(pl.lookup_features(q), want)
        phys = pl.physical_indices(q)
        assert np.array_equal(phys, pl.plan.map_indices(q))
        for p, e in enumerate(pl.plan.tables):
            if isinstance(e, ProductTable):
                assert np.array_equal(phys[:, p], q[:, e.a] * e.rows_b + q[:, e.b])


def test_onchip_rows_use_the_byte_address_rule():
    cfg = builtin("tiny")
    pl = place(cfg, [("category", "brand")])
    p = next(i for i, d in enumerate(pl.descriptors) if d.is_product)
    d = pl.descriptors[p]
    assert d.onchip == 1 and d.rows == 1600 and d.stride_log2 == 5
    row = pl.read_rows(True, d.channel, [d.base + (7 * 100 + 42) * 32], d.dim)
    assert np.array_equal(row[0, :4], table_rows(cfg.seed, 2, np.array([7]), 4, cfg.emb_shift)[0])
    assert np.array_equal(row[0, 4:], table_rows(cfg.seed, 3, np.array([42]), 8, cfg.emb_shift)[0])


def test_lookup_features_rejects_bad_indices():
    cfg = builtin("tiny")
    pl = place(cfg)
    q = _queries(cfg, 4)
    q[2, 3] = cfg.tables[3].rows
    with pytest.raises(IndexError, match="table 3"):
        pl.lookup_features(q)
    with pytest.raises(IndexError, match="outside every table"):
        pl.read_rows(False, 0, [1 << 24], 8)
    with pytest.raises(IndexError, match="row start"):
        pl.read_rows(False, 0, [8], 8)
    # narrow on-chip rows share a bank word: category (dim 4, 8 B rows) packs 4 a word
    d = pl.descriptors[2]
    assert d.onchip and d.stride == 8
    assert np.array_equal(pl.read_rows(True, d.channel, [d.base + 8 * 5], 4)[0],
                          table_rows(cfg.seed, 2, np.array([5]), 4, cfg.emb_shift)[0])
