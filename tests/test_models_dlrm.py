"""DLRM-class golden model (contracts.md section 9): bit-exact against an
independent scalar reference, edges of pooling and interaction, the query
packet, generators, the memory bound, config validation, and mutated models
that the cross-check must catch."""

from __future__ import annotations

import numpy as np
import pytest

import models.dlrm as dlrm_mod
from conftest_models import ref_dlrm, ref_round_shift, ref_sat, ref_weights
from models import ConfigError, ModelConfig, TableConfig, builtin
from models.cartesian import apply_products, make_product
from models.config import load_config, save_config
from models.dlrm import (
    ERR_BAG_LEN,
    ERR_IDX_RANGE,
    ERR_NONE,
    ERR_PACKET,
    bottom_weights,
    dlrm_float,
    dlrm_infer,
    dlrm_weights,
    interact,
    pool,
)
from models.golden import golden_infer, mlp_weights
from models.memory_bound import memory_bound, reads_per_query
from models.multihot import Bags, bag_lengths, dense_features, draw_indices, multihot_queries
from models.placement import Platform, place
from models.planner import pair_ok, plan_search
from models.query_stream import (
    header_words,
    pack_batch,
    pack_query,
    packet_beats,
    packets_to_bags,
    parse_stream,
)
from models.queries import uniform_queries
from models.tables import table_rows


# ---- configs ------------------------------------------------------------------

def tiny_dlrm(**kw) -> ModelConfig:
    cfg = builtin("dlrm_tiny")
    for k, v in kw.items():
        setattr(cfg, k, v)
    cfg.validate()
    return cfg


def concat_with_bottom() -> ModelConfig:
    """dlrm_tiny with R = x ++ pooled (4 + 20 = 24) instead of dot products."""
    return tiny_dlrm(interaction="concat")


def multihot_microrec() -> ModelConfig:
    """MicroRec's tiny tables (mixed dims) pooled from bags, no bottom MLP, concat."""
    cfg = builtin("tiny")
    cfg.tables[0].bag_max = 6
    cfg.tables[1].bag_max = 3
    cfg.tables[3].bag_max = 5
    cfg.tables[3].pooling, cfg.tables[3].pool_shift = "mean", 1
    cfg.validate()
    return cfg


CONFIGS = {"dlrm_tiny": lambda: builtin("dlrm_tiny"), "concat_bottom": concat_with_bottom,
           "multihot_microrec": multihot_microrec, "dlrm_tiny_shift0": lambda: tiny_dlrm(emb_shift=0)}


# ---- the cross-check ------------------------------------------------------------

def ref_weights_of(cfg):
    return (ref_weights(cfg.seed, cfg.frac_bits, cfg.bottom_layer_shapes, tag=0xB07B),
            ref_weights(cfg.seed, cfg.frac_bits, cfg.layer_shapes))


def cross_check(cfg: ModelConfig, bags: Bags) -> list[str]:
    """dlrm_infer vs the scalar reference, stage by stage; one line per mismatch
    naming the query, stage, table/element, expected and got."""
    res = dlrm_infer(cfg, bags, return_trace=True)
    bw, tw = ref_weights_of(cfg)
    out = []
    for q in range(bags.batch):
        blist, dense = bags.query(q)
        ref = ref_dlrm(cfg, blist, dense, bw, tw)
        got_err = (int(res.err[q]), int(res.err_table[q]))
        if got_err != (ref["err"], ref["table"]):
            out.append(f"query {q}: error record expected {(ref['err'], ref['table'])} got {got_err}")
            continue
        if ref["err"]:
            if res.logits[q] != 0:
                out.append(f"query {q}: error record with logit {res.logits[q]}, expected 0")
            continue
        for t, (tab, off) in enumerate(zip(cfg.tables, cfg.feature_offsets)):
            got = res.trace.pooled[q, off:off + tab.dim].tolist()
            for k, (e, g) in enumerate(zip(ref["pooled"][t], got)):
                if e != g:
                    out.append(f"query {q}: pooled table {t} element {k}: expected {e} got {g}")
        for stage, exp, got in (("bottom", ref["bottom"], res.trace.bottom.out[-1][q].tolist()
                                 if cfg.bottom_mlp else []),
                                ("R", ref["r"], res.trace.r[q].tolist())):
            for k, (e, g) in enumerate(zip(exp, got)):
                if e != g:
                    out.append(f"query {q}: {stage} element {k}: expected {e} got {g}")
        if ref["logit"] != int(res.logits[q]):
            out.append(f"query {q}: logit expected {ref['logit']} got {int(res.logits[q])}")
    return out


def random_batch(cfg: ModelConfig, n: int, seed: int) -> Bags:
    """Valid queries with lengths 0..bag_max on every table (table 0 capped at 12 to stay quick)."""
    b = multihot_queries(cfg, n, lengths="uniform", lo=0, hi=None, seed=seed)
    lens = np.minimum(b.lengths, 12)
    return Bags(lens, draw_indices(cfg, lens, seed=seed + 100), b.dense)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_dlrm_infer_matches_scalar_reference(name):
    cfg = CONFIGS[name]()
    bags = random_batch(cfg, 10, seed=3)
    assert (bags.lengths == 0).any() and (bags.lengths > 1).any()
    assert not cross_check(cfg, bags)


def test_weights_follow_contract_rule():
    cfg = builtin("dlrm_tiny")
    w = dlrm_weights(cfg)
    bw, tw = ref_weights_of(cfg)
    for mine, ref in ((w.bottom, bw), (w.top, tw)):
        assert [(a.tolist(), b.tolist()) for a, b in mine] == [(a, b) for a, b in ref]
        assert all(a.dtype == np.int16 and b.dtype == np.int32 for a, b in mine)
    assert [np.shape(a) for a, _ in w.bottom] == [(8, 3), (4, 8)]
    assert [np.shape(a) for a, _ in w.top] == [(8, 19), (1, 8)]
    # the top rule is unchanged and the streams never collide: a bottom and a
    # top layer of the same shape draw different numbers
    same = tiny_dlrm(bottom_mlp=[8, 4], mlp=[8, 1], dense=19)
    assert same.bottom_layer_shapes[0] == same.layer_shapes[0] == (19, 8)
    assert not np.array_equal(bottom_weights(same)[0][0], mlp_weights(same)[0][0])
    assert np.array_equal(mlp_weights(same)[0][0], mlp_weights(builtin("dlrm_tiny"))[0][0])


# ---- bag lengths, indices, duplicates ----------------------------------------

def _query(cfg, bags_t: dict[int, list[int]], dense=None) -> list:
    """A query with the given bags and one-row bags elsewhere."""
    blist = [bags_t.get(t, [t]) for t in range(cfg.num_tables)]
    return blist, (dense if dense is not None else [256] * cfg.dense)


def _batch(queries) -> Bags:
    return Bags.from_lists([b for b, _ in queries], [d for _, d in queries])


def test_bag_length_edges():
    cfg = builtin("dlrm_tiny")
    lmax = cfg.tables[0].bag_max
    assert lmax == 64
    qs = [_query(cfg, {0: []}), _query(cfg, {0: [7]}), _query(cfg, {0: list(range(lmax))}),
          _query(cfg, {0: list(range(lmax + 1))}), _query(cfg, {2: list(range(9))}),
          _query(cfg, {1: [], 4: []})]
    bags = _batch(qs)
    res = dlrm_infer(cfg, bags, return_trace=True)
    assert res.err.tolist() == [ERR_NONE, ERR_NONE, ERR_NONE, ERR_BAG_LEN, ERR_BAG_LEN, ERR_NONE]
    assert res.err_table.tolist() == [0, 0, 0, 0, 2, 0]
    assert res.logits[3] == 0 and res.logits[4] == 0
    assert not res.trace.pooled[0, 0:4].any()                   # empty bag: zeros
    one = table_rows(cfg.seed, 0, np.array([7]), 4, cfg.emb_shift)[0]
    assert res.trace.pooled[1, 0:4].tolist() == one.tolist()   # bag of one: the row
    assert not res.trace.pooled[5, 4:8].any() and not res.trace.pooled[5, 16:20].any()
    assert not cross_check(cfg, bags)


def test_bad_indices_and_error_priority():
    cfg = builtin("dlrm_tiny")
    rows = [t.rows for t in cfg.tables]
    qs = [_query(cfg, {3: [0, rows[3]]}),                       # one past the end
          _query(cfg, {1: [-1], 3: [rows[3] + 5]}),             # two tables: the lowest
          _query(cfg, {4: [rows[4]], 2: list(range(9))}),       # length beats range
          _query(cfg, {0: [rows[0] - 1] * 3})]                  # last row: fine
    res = dlrm_infer(cfg, _batch(qs))
    assert res.err.tolist() == [ERR_IDX_RANGE, ERR_IDX_RANGE, ERR_BAG_LEN, ERR_NONE]
    assert res.err_table.tolist() == [3, 1, 2, 0]
    assert res.errors.index[2, 4] and res.errors.bag_len[2, 2]   # every failing table is kept
    assert res.logits[:3].tolist() == [0, 0, 0]
    assert not cross_check(cfg, _batch(qs))


def test_duplicate_indices_count_every_time():
    cfg = builtin("dlrm_tiny")
    res = dlrm_infer(cfg, _batch([_query(cfg, {0: [5, 5, 5], 3: [9, 2, 9]})]), return_trace=True)
    r5 = table_rows(cfg.seed, 0, np.array([5]), 4, cfg.emb_shift)[0].astype(int)
    assert res.trace.pool_sum[0, 0:4].tolist() == (3 * r5).tolist()
    assert not cross_check(cfg, _batch([_query(cfg, {0: [5, 5, 5], 3: [9, 2, 9]})]))


def _rows_with(cfg, t, k, pred, n=2000) -> list[int]:
    vals = table_rows(cfg.seed, t, np.arange(min(n, cfg.tables[t].rows)), cfg.tables[t].dim,
                      cfg.emb_shift)[:, k]
    return [int(r) for r in np.nonzero(pred(vals))[0]]


def test_pooling_saturates_after_the_shift():
    cfg = tiny_dlrm(emb_shift=0)                 # full-range rows
    big = _rows_with(cfg, 0, 0, lambda v: v >= 20000)[:3]
    neg = _rows_with(cfg, 3, 1, lambda v: v <= -20000)[:2]
    cat = _rows_with(cfg, 2, 0, lambda v: v >= 20000)[:1]  # mean table, pool_shift 2
    assert len(big) == 3 and len(neg) == 2 and cat
    qs = [_query(cfg, {0: big, 3: neg, 2: cat * 2}),        # mean of 2: 40000+ >> 2, no sat
          _query(cfg, {2: cat * 8})]                        # mean of 8: sum >> 2 > 32767
    res = dlrm_infer(cfg, _batch(qs), return_trace=True)
    tr = res.trace
    assert tr.pool_sum[0, 0] > 32767 and tr.pooled[0, 0] == 32767
    assert tr.pool_sum[0, 12 + 1] < -32768 and tr.pooled[0, 12 + 1] == -32768
    s = int(tr.pool_sum[0, 8])
    assert s > 32767 and tr.pooled[0, 8] == (s + 2) >> 2 < 32767     # shift first, then sat16
    assert tr.pool_sum[1, 8] >> 2 > 32767 and tr.pooled[1, 8] == 32767
    assert not cross_check(cfg, _batch(qs))


def test_mean_pooling_rounds_half_up():
    cfg = builtin("dlrm_tiny")                   # table 2 ("category"): mean, pool_shift 2
    sums = np.zeros((1, cfg.feature_len), dtype=np.int64)
    sums[0, 8:12] = [2, -2, 6, -6]               # +0.5 -> 1, -0.5 -> 0, 1.5 -> 2, -1.5 -> -1
    sums[0, 0:4] = [2, -2, 40000, -40000]        # a sum table: no shift, saturate
    out = pool(cfg, sums)
    assert out[0, 8:12].tolist() == [ref_round_shift(v, 2) for v in (2, -2, 6, -6)] == [1, 0, 2, -1]
    assert out[0, 0:4].tolist() == [2, -2, 32767, -32768]


# ---- interaction ----------------------------------------------------------------

def dlrm_zflat(vectors: list[list[int]]) -> list[int]:
    """facebookresearch/dlrm interact_features' index lists, restated in Python."""
    ni = nj = len(vectors)
    li = [i for i in range(ni) for j in range(i)]
    lj = [j for i in range(nj) for j in range(i)]
    return [sum(a * b for a, b in zip(vectors[i], vectors[j])) for i, j in zip(li, lj)]


def test_interaction_rounding_edges_and_order():
    cfg = builtin("dlrm_tiny")                   # F = 8, d = 4, 5 tables
    x = [[1, 0, 0, 0]]
    tables = [[128, 0, 0, 0],                    # x.t0 = +0.5 LSB-of-F -> 1 (half up)
              [-128, 3, 0, 0],                   # -0.5 -> 0
              [-384, 0, 1, 0],                   # -1.5 -> -1
              [127, 0, 0, 32767],                # just under half -> 0
              [-129, 0, 0, 32767]]               # just past -0.5 -> -1
    tables[3][0], tables[4][3] = 32767, 32767    # t3.t4 = 32767^2: saturates high
    tables[2][3] = -32768                        # t2.t3 = -32768 * 32767: saturates low
    pooled = np.array([sum(tables, [])], dtype=np.int64)
    r, acc = interact(cfg, np.array(x, dtype=np.int64), pooled)
    vecs = x + tables
    want_acc = dlrm_zflat(vecs)
    assert acc[0].tolist() == want_acc
    want = [ref_sat(ref_round_shift(a, 8), 16) for a in want_acc]
    assert r[0].tolist() == x[0] + want
    assert want[:1] == [1] and 32767 in want and -32768 in want
    assert [want[cfg.interaction_pairs.index((i, 0))] for i in (1, 2, 3)] == [1, 0, -1]
    assert cfg.interaction_pairs[:4] == [(1, 0), (2, 0), (2, 1), (3, 0)]


def test_dlrm_kaggle_shape():
    cfg = builtin("dlrm_kaggle")
    assert cfg.num_tables == 26 and {t.dim for t in cfg.tables} == {16}
    assert {(t.pooling, t.pool_shift, t.bag_max) for t in cfg.tables} == {("sum", 0, 64)}
    assert cfg.dense == 13 and cfg.bottom_mlp == [512, 256, 64, 16] and cfg.interaction == "dot"
    assert cfg.bottom_layer_shapes == [(13, 512), (512, 256), (256, 64), (64, 16)]
    assert cfg.top_in == 16 + 27 * 26 // 2 == 367          # reference.md: top MLP 367-512-256-1
    assert cfg.layer_shapes == [(367, 512), (512, 256), (256, 1)]
    assert cfg.feature_len == 416                            # the lookup's pooled vector
    tiny = builtin("dlrm_tiny")
    assert tiny.top_in == 4 + 6 * 5 // 2 == 19
    assert {t.bag_max for t in tiny.tables} == {1, 8, 64}   # mixed one-hot and multi-hot


# ---- MicroRec equivalence and the float reference -------------------------------

@pytest.mark.parametrize("name, n", [("tiny", 64), ("microrec_small", 6)])
def test_one_hot_bags_reproduce_golden_infer(name, n):
    cfg = builtin(name)
    q = uniform_queries(cfg, n, seed=4)
    q[0] = [t.rows - 1 for t in cfg.tables]
    w = mlp_weights(cfg)
    res = dlrm_infer(cfg, Bags.from_one_hot(q), w)
    assert res.err.tolist() == [ERR_NONE] * n
    assert np.array_equal(res.logits, golden_infer(cfg, q, w))
    assert np.array_equal(dlrm_infer(cfg, Bags.from_one_hot(q)).logits, res.logits)


def test_golden_infer_refuses_dlrm_configs():
    for cfg, field in ((builtin("dlrm_tiny"), "dense"), (multihot_microrec(), "pool_shift")):
        q = uniform_queries(cfg, 2, seed=1)
        with pytest.raises(ValueError, match=field):
            golden_infer(cfg, q)
    # bag_max alone does not change a one-hot query: still MicroRec-compatible
    cfg = builtin("tiny")
    cfg.tables[0].bag_max = 9
    q = uniform_queries(cfg, 3, seed=1)
    assert np.array_equal(golden_infer(cfg, q), dlrm_infer(cfg, Bags.from_one_hot(q)).logits)


@pytest.mark.parametrize("name, n, kw", [
    ("dlrm_tiny", 256, dict(lengths="uniform", hi=8)),
    ("dlrm_kaggle", 64, dict(length=20)),
])
def test_fixed_point_error_is_small(name, n, kw):
    cfg = builtin(name)
    w = dlrm_weights(cfg)
    bags = multihot_queries(cfg, n, seed=6, **kw)
    res = dlrm_infer(cfg, bags, w, return_trace=True)
    tr = res.trace
    # the error argument assumes nothing saturated on the way
    assert np.abs(tr.pooled).max() < 32767 and np.abs(tr.r).max() < 32767
    ref = dlrm_float(cfg, bags, w, backend="numpy")
    err = np.abs(res.logits / 2.0 ** cfg.frac_bits - ref)
    assert err.max() <= 8 / 2.0 ** cfg.frac_bits           # observed about 1.7 LSB
    assert np.abs(ref).max() > 0.1                          # not trivially zero


def test_float_reference_skips_error_queries():
    cfg = builtin("dlrm_tiny")
    bags = _batch([_query(cfg, {}), _query(cfg, {1: [10**6]})])
    ref = dlrm_float(cfg, bags, backend="numpy")
    assert np.isfinite(ref[0]) and np.isnan(ref[1])


def test_torch_and_numpy_float_references_agree():
    pytest.importorskip("torch")
    cfg = builtin("dlrm_tiny")
    bags = random_batch(cfg, 32, seed=9)
    assert np.allclose(dlrm_float(cfg, bags, backend="torch"),
                       dlrm_float(cfg, bags, backend="numpy"), rtol=0, atol=1e-12)


# ---- mutated models: the cross-check must catch each --------------------------------

def _mutant_pairs(self):
    n = self.num_tables
    return [(i, j) for j in range(n + 1) for i in range(j + 1, n + 1)]   # j-major: wrong


def _mutant_drop_last(orig):
    def pool_sums(cfg, bags, ok=None):
        lens = np.maximum(bags.lengths - 1, 0)
        vals = []
        for t in range(bags.num_tables):
            o = bags.offsets(t)
            keep = np.ones(bags.values[t].size, dtype=bool)
            keep[o[1:][bags.lengths[:, t] > 0] - 1] = False
            vals.append(bags.values[t][keep])
        return orig(cfg, Bags(lens, vals, bags.dense), ok)
    return pool_sums


def _mutant_bottom_no_relu_last(cfg, dense, weights, trace=None):
    from models.fixed_point import requant_hidden
    x = np.asarray(dense, np.int64)
    for layer, (w, b) in enumerate(weights):
        acc = x @ np.asarray(w, np.int64).T + np.asarray(b, np.int64)
        x = requant_hidden(acc, cfg.frac_bits, relu=layer < len(weights) - 1)
        if trace is not None:
            trace.out.append(x)
    return x


def _mutant_sat_before_shift(cfg, sums):
    out = np.empty_like(sums)
    for tab, off in zip(cfg.tables, cfg.feature_offsets):
        s = np.clip(sums[:, off:off + tab.dim], -32768, 32767)
        out[:, off:off + tab.dim] = (s + (1 << (tab.pool_shift - 1)) >> tab.pool_shift) \
            if tab.pool_shift else s
    return out


def _mutant_truncating_interaction(orig):
    def interact_trunc(cfg, x, pooled):
        r, acc = orig(cfg, x, pooled)
        if acc is not None:
            r = np.concatenate([x, np.clip(acc >> cfg.frac_bits, -32768, 32767)], axis=1)
        return r, acc
    return interact_trunc


@pytest.mark.parametrize("mutant", ["pair_order", "drop_last_row", "bottom_last_relu",
                                    "sat_before_shift", "interaction_truncates"])
def test_cross_check_catches_mutated_model(mutant, monkeypatch):
    cfg = tiny_dlrm(emb_shift=0) if mutant == "sat_before_shift" else builtin("dlrm_tiny")
    bags = random_batch(cfg, 12, seed=11)
    if mutant == "sat_before_shift":           # a mean bag whose sum overflows int16
        big = _rows_with(cfg, 2, 0, lambda v: v >= 20000)[:1]
        bags = _batch([_query(cfg, {2: big * 2})])
    assert not cross_check(cfg, bags)
    if mutant == "pair_order":
        monkeypatch.setattr(ModelConfig, "interaction_pairs", property(_mutant_pairs))
    elif mutant == "drop_last_row":
        monkeypatch.setattr(dlrm_mod, "pool_sums", _mutant_drop_last(dlrm_mod.pool_sums))
    elif mutant == "bottom_last_relu":
        monkeypatch.setattr(dlrm_mod, "bottom_forward", _mutant_bottom_no_relu_last)
    elif mutant == "sat_before_shift":
        monkeypatch.setattr(dlrm_mod, "pool", _mutant_sat_before_shift)
    else:
        monkeypatch.setattr(dlrm_mod, "interact", _mutant_truncating_interaction(dlrm_mod.interact))
    problems = cross_check(cfg, bags)
    assert problems, f"mutant {mutant} not caught"
    assert all(p.startswith("query ") for p in problems)
    stage = {"pair_order": "R element", "drop_last_row": "pooled table", "bottom_last_relu":
             "bottom element", "sat_before_shift": "pooled table 2",
             "interaction_truncates": "R element"}[mutant]
    assert any(stage in p for p in problems), problems[:3]


# ---- config validation ------------------------------------------------------------

@pytest.mark.parametrize("edit, field", [
    (lambda d: d["tables"][0].update(bag_max=0), r"tables\[0\]\.bag_max"),
    (lambda d: d["tables"][0].update(bag_max=1 << 15 | 1), r"tables\[0\]\.bag_max"),
    (lambda d: d["tables"][0].update(bag_max=True), r"tables\[0\]\.bag_max"),
    (lambda d: d["tables"][1].update(pooling="max"), r"tables\[1\]\.pooling"),
    (lambda d: d["tables"][1].update(pool_shift=2), r"tables\[1\]\.pool_shift.*'sum'"),
    (lambda d: d["tables"][2].update(pool_shift=16), r"tables\[2\]\.pool_shift"),
    (lambda d: d.update(dense=-1), r"^dense"),
    (lambda d: d.update(dense=256), r"^dense"),
    (lambda d: d.update(bottom_mlp=[]), r"^bottom_mlp"),
    (lambda d: d.update(dense=0), r"^dense"),
    (lambda d: d.update(bottom_mlp=[8, 0]), r"bottom_mlp\[1\]"),
    (lambda d: d.update(bottom_mlp="8,4"), r"^bottom_mlp"),
    (lambda d: d.update(interaction="cat"), r"^interaction"),
    (lambda d: d.update(bottom_mlp=[8, 5]), r"tables\[0\]\.dim"),
    (lambda d: d["tables"][3].update(dim=8), r"tables\[3\]\.dim"),
    (lambda d: d.update(acc_w=35), r"^acc_w"),
    (lambda d: [t.update(bag_max=20000) for t in d["tables"]], r"^tables: bag_max sums"),
    (lambda d: d["tables"][0].update(lookups=3), r"tables\[0\]\.lookups: unknown key"),
])
def test_config_validation_names_the_field(edit, field):
    d = builtin("dlrm_tiny").to_dict()
    edit(d)
    with pytest.raises(ConfigError, match=field):
        ModelConfig.from_dict(d)


def test_dot_needs_a_bottom_mlp():
    d = builtin("dlrm_tiny").to_dict()
    d.update(dense=0, bottom_mlp=[])
    with pytest.raises(ConfigError, match="^interaction"):
        ModelConfig.from_dict(d)
    d["interaction"] = "concat"                  # a multi-hot MicroRec: fine
    assert ModelConfig.from_dict(d).top_in == 20


def test_acc_w_covers_bottom_and_dot_fan_in():
    d = builtin("dlrm_tiny").to_dict()
    d.update(bottom_mlp=[1024, 4], acc_w=41)     # bottom layer 1 fan-in 1024 needs 42
    with pytest.raises(ConfigError, match=r"acc_w: must be >= 42"):
        ModelConfig.from_dict(d)
    d["acc_w"] = 42
    assert ModelConfig.from_dict(d).max_fan_in == 1024


def test_json_round_trip_and_old_configs_unchanged(tmp_path):
    for name in ("dlrm_tiny", "dlrm_kaggle"):
        cfg = builtin(name)
        save_config(cfg, tmp_path / f"{name}.json")
        back = load_config(tmp_path / f"{name}.json")
        assert back == cfg and back.to_dict() == cfg.to_dict()
    old_keys = {"name", "tables", "mlp", "frac_bits", "acc_w", "seed", "emb_shift"}
    for name in ("tiny", "microrec_small", "microrec_small_47", "microrec_large"):
        d = builtin(name).to_dict()
        assert set(d) == old_keys
        assert all(set(t) <= {"name", "rows", "dim", "tier", "channel"} for t in d["tables"])
        assert builtin(name).microrec_compatible


def test_multi_hot_tables_never_form_products():
    cfg = builtin("dlrm_kaggle")
    with pytest.raises(ConfigError, match=r"pairs\[0\]\.a: table 'C6' is not one-hot"):
        apply_products(cfg, [(5, 8)])
    tiny = builtin("dlrm_tiny")
    assert not pair_ok(tiny, 0, 1, Platform()) and not pair_ok(tiny, 2, 4, Platform())
    assert pair_ok(tiny, 1, 4, Platform())       # item x city: both one-hot
    make_product(tiny, "item", "city")
    plan = plan_search(cfg, Platform())
    assert plan.pairs == []


# ---- generators ---------------------------------------------------------------------

def test_generators_are_seeded_and_respect_bag_max():
    cfg = builtin("dlrm_tiny")
    a = multihot_queries(cfg, 50, lengths="lognormal", length=6, indices="zipf", seed=3)
    b = multihot_queries(cfg, 50, lengths="lognormal", length=6, indices="zipf", seed=3)
    c = multihot_queries(cfg, 50, lengths="lognormal", length=6, indices="zipf", seed=4)
    assert np.array_equal(a.lengths, b.lengths) and np.array_equal(a.dense, b.dense)
    assert all(np.array_equal(x, y) for x, y in zip(a.values, b.values))
    assert not np.array_equal(a.lengths, c.lengths)
    bag_max = np.array([t.bag_max for t in cfg.tables])
    assert (a.lengths <= bag_max).all()
    assert not check_bags_errors(cfg, a)
    fixed = bag_lengths(cfg, 4, "fixed", length=20)
    assert fixed.tolist() == [[20, 1, 8, 8, 1]] * 4
    uni = bag_lengths(cfg, 400, "uniform", lo=2, hi=5, seed=1)
    assert uni[:, 0].min() == 2 and uni[:, 0].max() == 5 and (uni[:, 1] == 1).all()


def check_bags_errors(cfg, bags) -> bool:
    return bool((dlrm_mod.check_bags(cfg, bags).code != ERR_NONE).any())


def test_heavy_tailed_lengths():
    cfg = builtin("dlrm_kaggle")
    lens = bag_lengths(cfg, 4000, "lognormal", length=20, sigma=1.0, seed=2)[:, 0]
    assert lens.max() == 64 and lens.min() == 0
    assert 15 <= lens.mean() <= 20                 # mean 20 before clipping at 64
    assert np.median(lens) < lens.mean()           # skewed right
    assert (lens >= 40).mean() > 0.05              # a real tail


def test_zipf_indices_and_dense_features():
    cfg = builtin("dlrm_tiny")
    lens = np.full((500, cfg.num_tables), 4)
    vals = draw_indices(cfg, lens, "zipf", alpha=1.2, seed=1)
    for t, v in enumerate(vals):
        assert v.min() >= 0 and v.max() < cfg.tables[t].rows
        assert np.bincount(v).argmax() == 0
    sc = draw_indices(cfg, lens, "zipf", alpha=1.2, scatter=True, seed=1)
    assert np.bincount(sc[0]).argmax() != 0
    d = dense_features(cfg, 300, seed=5)
    assert d.shape == (300, 3) and d.min() >= 0 and d.max() <= 32767 and len(np.unique(d)) > 20
    # adding a table leaves the others' columns unchanged
    fewer = ModelConfig("fewer", cfg.tables[:3], cfg.mlp, emb_shift=cfg.emb_shift,
                        dense=3, bottom_mlp=[8, 4], interaction="dot")
    x, y = multihot_queries(cfg, 20, lengths="uniform", seed=7), \
        multihot_queries(fewer, 20, lengths="uniform", seed=7)
    assert np.array_equal(x.lengths[:, :3], y.lengths)
    assert all(np.array_equal(x.values[t], y.values[t]) for t in range(3))


def test_bags_container():
    bags = Bags.from_lists([[[1, 2], [], [3]], [[4], [5, 6, 7], []]], [[1], [2]])
    assert bags.lengths.tolist() == [[2, 0, 1], [1, 3, 0]]
    assert bags.offsets(1).tolist() == [0, 0, 3]
    assert bags.bag(1, 1).tolist() == [5, 6, 7]
    assert bags.select([1]).query(0) == ([[4], [5, 6, 7], []], [2])
    with pytest.raises(ValueError, match=r"values\[0\]"):
        Bags(np.array([[2]]), [np.array([1])], np.zeros((1, 0)))
    with pytest.raises(ValueError, match="lengths"):
        Bags(np.array([[-1]]), [np.array([], np.int64)], np.zeros((1, 0)))


# ---- the query packet ---------------------------------------------------------------

def test_packet_layout_word_by_word():
    blist = [[1, 2], [3], [], [7, 8, 9], [4]]
    beats = pack_query(0x1234, blist, [-1, 256, 3], words_per_beat=4)
    words = [0x1234, 7 | 5 << 16 | 3 << 24,
             2 | 1 << 16, 0 | 3 << 16, 1,                  # lengths, two per word
             0xFFFF | 256 << 16, 3,                        # dense int16, two per word
             0,                                            # pad to the beat end
             1, 2, 3, 7, 8, 9, 4, 0]                       # indices, table-major
    assert beats == [sum(w << (32 * k) for k, w in enumerate(words[i:i + 4]))
                     for i in range(0, 16, 4)]
    assert header_words(5, 3) == 7 and packet_beats(5, 3, 7, 4) == 4 == len(beats)


def test_packets_round_trip_and_feed_the_model():
    cfg = builtin("dlrm_tiny")
    bags = random_batch(cfg, 16, seed=2)
    for w in (2, 5, 16):
        pk = parse_stream(cfg, pack_batch(bags, range(100, 116), w), w)
        assert [p.qid for p in pk] == list(range(100, 116))
        assert all(p.err == ERR_NONE for p in pk)
        back = packets_to_bags(pk, cfg)
        assert np.array_equal(back.lengths, bags.lengths) and np.array_equal(back.dense, bags.dense)
        assert all(np.array_equal(a, b) for a, b in zip(back.values, bags.values))
        assert [p.beats for p in pk] == [packet_beats(5, 3, int(n), w) for n in bags.lengths.sum(1)]
    assert np.array_equal(dlrm_infer(cfg, back).logits, dlrm_infer(cfg, bags).logits)


def test_empty_query_is_the_header_alone():
    cfg = builtin("dlrm_tiny")
    beats = pack_query(9, [[]] * 5, [0, 0, 0], words_per_beat=8)
    assert len(beats) == 1
    (p,) = parse_stream(cfg, [(beats[0], 1)], 8)
    assert p.err == ERR_NONE and p.bags == [[]] * 5


def test_malformed_packets_get_err_packet():
    cfg = builtin("dlrm_tiny")
    w = 4
    qs = [_query(cfg, {0: [1, 2, 3, 4, 5]}), _query(cfg, {}), _query(cfg, {3: [1, 1]})]
    pk = [pack_query(10 + i, b, d, w) for i, (b, d) in enumerate(qs)]

    def stream(packets):
        return [(b, int(i == len(p) - 1)) for p in packets for i, b in enumerate(p)]

    def result(s):
        return [(p.qid, p.err) for p in parse_stream(cfg, s, w)]

    assert result(stream(pk)) == [(10, 0), (11, 0), (12, 0)]
    short = [pk[0][:-1]] + pk[1:]                                   # tlast one beat early
    assert result(stream(short)) == [(10, ERR_PACKET), (11, 0), (12, 0)]
    long_ = stream(pk)
    long_[len(pk[0]) - 1] = (long_[len(pk[0]) - 1][0], 0)          # tlast missing
    assert result(long_) == [(10, ERR_PACKET), (12, 0)]            # swallows packet 11
    in_header = [pk[0][:1]] + pk[1:]                                # tlast inside the header
    assert result(stream(in_header))[0] == (10, ERR_PACKET)
    for field_shift, delta in ((0, 1), (16, 1), (24, 1)):           # N, T, D wrong
        bad = list(pk[0])
        bad[0] += delta << (32 + field_shift)
        assert result(stream([bad] + pk[1:]))[0] == (10, ERR_PACKET)


def test_packet_beats_for_dlrm_kaggle_bags_of_20():
    """The figures quoted in contracts s.9.7."""
    assert header_words(26, 13) == 22
    assert packet_beats(26, 13, 26 * 20, 16) == 35 and packet_beats(26, 13, 26 * 20, 32) == 18
    with pytest.raises(ValueError, match="words_per_beat"):
        pack_query(0, [[1]], [], words_per_beat=1)


# ---- memory bound -------------------------------------------------------------------

def test_memory_bound_of_dlrm_kaggle_with_bags_of_20():
    cfg = builtin("dlrm_kaggle")
    pl = place(cfg)
    mb = memory_bound(pl, [20] * 26, words_per_beat=32)
    in_memory = [t for t in cfg.tables if t.tier != "onchip"]
    assert mb.beats_per_query == 20 * len(in_memory) * 1          # 32-byte rows: one beat
    assert max(mb.channel_beats.values()) == 20 and mb.memory == pytest.approx(1 / 20)
    assert mb.stream_beats == 18
    onchip = [t for t in cfg.tables if t.tier == "onchip"]
    assert sum(mb.bank_reads.values()) == 20 * len(onchip)
    assert mb.bound == min(mb.memory, mb.onchip, mb.stream)
    assert mb.pct_of_memory_bound(0.035) == pytest.approx(70.0)
    # measured lengths give the same answer as their means
    bags = multihot_queries(cfg, 8, length=20, seed=1)
    assert memory_bound(pl, bags).beats_per_query == mb.beats_per_query


def test_memory_bound_counts_wide_rows_and_products():
    cfg = ModelConfig("w", [TableConfig("a", 100, 32, "hbm", 0, bag_max=4),
                            TableConfig("b", 50, 4, "hbm", 1),
                            TableConfig("c", 20, 4, "hbm", 1)], [1])
    pl = place(cfg, [(1, 2)])
    lens = np.array([[4, 1, 0], [2, 0, 0], [0, 0, 1], [3, 1, 1]])
    reads = reads_per_query(pl, lens)
    assert reads.tolist() == [9 / 4, 3 / 4]                       # product: either half non-empty
    mb = memory_bound(pl, lens)
    assert mb.channel_beats[0] == 2 * 9 / 4                        # stride 64: two beats a row
    assert mb.channel_beats[1] == 3 / 4 and mb.limiter == "memory"
