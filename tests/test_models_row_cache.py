"""The hot-row cache model (models/row_cache.py) against contracts.md s.11, by hand."""
from __future__ import annotations

import pytest

from models.config import ConfigError
from models.row_cache import (BYPASS, FILL, HIT, UNCACHED, RowCache, RowCacheConfig, set_index,
                              sketch_index, CM_K0)


def addr_in_set(cfg: RowCacheConfig, s: int, n: int) -> list[int]:
    """n line-aligned addresses whose line maps to set s."""
    out, la = [], 0
    while len(out) < n:
        if set_index(la, cfg.set_bits) == s:
            out.append(la * cfg.beat_bytes)
        la += 1
    return out


@pytest.mark.parametrize("field,kw", [("lines", {"lines": 12}), ("ways", {"ways": 3}),
                                      ("ways", {"lines": 4, "ways": 8}), ("line_beats", {"line_beats": 0}),
                                      ("data_w", {"data_w": 48}), ("addr_w", {"addr_w": 8}),
                                      ("cm_log2", {"cm_log2": 0})])
def test_bad_config_names_the_field(field, kw):
    with pytest.raises(ConfigError, match=field):
        RowCacheConfig(**kw)
    with pytest.raises(ConfigError, match="policy"):
        RowCache(RowCacheConfig(), "fifo")


def test_set_index_is_a_bijection_on_aligned_blocks():
    for bits in (1, 3, 5):
        for block in (0, 7, 123):
            got = {set_index((block << bits) + i, bits) for i in range(1 << bits)}
            assert got == set(range(1 << bits))
    assert set_index(12345, 0) == 0


def test_sketch_index_rule():
    la = 0x1234_5678_9
    x = (la ^ (la >> 32)) & 0xFFFFFFFF
    assert sketch_index(la, CM_K0, 5) == ((x * CM_K0) & 0xFFFFFFFF) >> 27


def test_lru_fills_lowest_invalid_way_then_evicts_least_recent():
    cfg = RowCacheConfig(lines=8, ways=4)
    c = RowCache(cfg)
    a = addr_in_set(cfg, 1, 6)
    assert [c.access(x).way for x in a[:4]] == [0, 1, 2, 3]        # lowest invalid way first
    assert c.access(a[0]).kind == HIT                              # a0 now most recent; a1 is LRU
    o = c.access(a[4])
    assert (o.kind, o.way, o.evicted) == (FILL, 1, a[1] // 32)
    assert c.access(a[1]).way == 2                                 # a2 was next oldest
    assert c.counters == {"hits": 1, "misses": 6, "fills": 6, "evictions": 2, "bypasses": 0,
                          "uncached": 0, "bytes_saved": 32}


def test_key_includes_len_and_uncacheable_requests_pass():
    cfg = RowCacheConfig(lines=8, ways=2, line_beats=2)
    c = RowCache(cfg)
    assert c.access(0x100, 1).kind == FILL
    assert c.access(0x100, 1).kind == HIT
    assert c.access(0x100, 0).kind == FILL                         # same address, other length: other line
    assert c.access(0x200, 3).kind == UNCACHED                     # longer than a line
    assert c.access(0x210, 0).kind == UNCACHED                     # not beat-aligned
    assert c.access(0x200, 0, size=4).kind == UNCACHED             # narrow beats
    assert c.access(0x200, 0, burst=2).kind == UNCACHED            # WRAP
    assert c.counters["uncached"] == 4 and c.counters["bytes_saved"] == 64


def test_frequency_admission_keeps_the_hot_set_through_a_scan():
    cfg = RowCacheConfig(lines=16, ways=4)
    hot = [i * 32 for i in range(8)]
    rates = {}
    for policy in ("lru", "freq"):
        c = RowCache(cfg, policy)
        for _ in range(6):
            for a in hot:
                c.access(a)
        hits = n = 0
        for i in range(400):
            c.access((1000 + i) * 32)                              # a scan: each line once
            if i % 3 == 0:
                hits += c.access(hot[(i // 3) % 8]).kind == HIT
                n += 1
        rates[policy] = hits / n
    assert rates["freq"] > 0.9 > rates["lru"]
    c = RowCache(cfg, "freq")
    for _ in range(3):
        for i in range(16):                                        # every way of every set valid
            c.access(i * 32)
    assert c.access(5000 * 32).kind == BYPASS                      # once-seen line vs a hot victim


def test_admission_is_strict_and_invalid_victims_always_admit():
    cfg = RowCacheConfig(lines=4, ways=4, cm_log2=12)
    c = RowCache(cfg, "freq")
    a = addr_in_set(cfg, 0, 6)
    for x in a[:4]:
        assert c.access(x).kind == FILL                            # invalid ways: admitted
    assert c.access(a[4]).kind == BYPASS                           # est 1 vs victim est 1: a tie keeps the victim
    assert c.access(a[4]).kind == FILL                             # est 2 > 1
    assert c.counters["bypasses"] == 1


def test_sketch_ages():
    cfg = RowCacheConfig(lines=4, ways=4, cm_log2=6, age_log2=2)
    c = RowCache(cfg, "freq")
    for _ in range(3):
        c.access(0)
    c.access(32)                                                   # 4th decision: halve
    i = sketch_index(0, CM_K0, 6)
    assert c.cm[0][i] == 1                                         # 3 >> 1


def test_error_line_keeps_its_response_until_flush():
    bad = {0x40}
    cfg = RowCacheConfig(lines=8, ways=2)
    c = RowCache(cfg, response=lambda a, n: 2 if a in bad else 0)
    assert c.access(0x40).kind == FILL
    assert (c.access(0x40).kind, c.access(0x40).resp) == (HIT, 2)
    bad.clear()
    assert c.access(0x40).resp == 2                                # sticky (s.11.5)
    c.flush()
    assert c.access(0x40).kind == FILL and c.access(0x40).resp == 0


def test_flush_resets_state_but_not_counters():
    c = RowCache(RowCacheConfig(lines=8, ways=2))
    c.run([(0, 0), (0, 0), "flush", (0, 0)])
    assert c.counters["hits"] == 1 and c.counters["fills"] == 2
    with pytest.raises(ValueError, match="flush"):
        c.run(["reset"])


def test_model_benchmark_quick(tmp_path, monkeypatch):
    """apps/benchmarks/cache_model.py at a tiny size: it runs, writes its JSON, and
    frequency admission beats LRU on a skewed stream (seeded: deterministic)."""
    import json

    from apps.benchmarks import cache_model
    monkeypatch.setattr(cache_model, "BUILD_ROOT", tmp_path)
    assert cache_model.main(["--quick"]) == 0
    runs = {(r["alpha"], r["policy"]): r for r in json.loads((tmp_path / "bench" / "cache_model.json").read_text())}
    assert runs[(1.05, "freq")]["hit_rate"] > runs[(1.05, "lru")]["hit_rate"] > runs[(0.6, "lru")]["hit_rate"]
    for r in runs.values():
        assert r["cache_fraction"] <= 0.02
        assert abs(r["reads_cut"] - r["hit_rate"]) < 1e-9       # one-beat rows: a hit is a read saved
