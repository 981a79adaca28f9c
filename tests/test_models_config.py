"""Model configs: built-in shapes, every validation error, JSON round trip."""

import copy
import json
from collections import Counter

import pytest

from models import (
    BUILTINS,
    ConfigError,
    ModelConfig,
    TableConfig,
    builtin,
    load_config,
    save_config,
)
from models.config import DLRM_KAGGLE_ROWS, channel_usage, check_fit, dlrm_tier, min_acc_w


# ---- built-in shapes -------------------------------------------------------

def test_tiny():
    cfg = builtin("tiny")
    assert 5 <= cfg.num_tables <= 8
    assert {t.tier for t in cfg.tables} == {"hbm", "ddr", "onchip"}
    assert {t.dim for t in cfg.tables} == {4, 8, 16}
    assert all(16 <= t.rows <= 1000 for t in cfg.tables)
    assert cfg.mlp[-1] == 1 and cfg.feature_len == 48
    assert cfg.layer_shapes == [(48, 16), (16, 8), (8, 1)]
    assert cfg.feature_offsets == [0, 8, 24, 28, 36, 40]


def test_microrec_small():
    cfg = builtin("microrec_small")
    assert cfg.num_tables == 42 and cfg.feature_len == 352
    assert cfg.mlp == [1024, 512, 256, 1]
    assert cfg.layer_shapes == [(352, 1024), (1024, 512), (512, 256), (256, 1)]
    by_tier = {tier: [t for t in cfg.tables if t.tier == tier]
               for tier in ("hbm", "ddr", "onchip")}
    assert Counter((t.rows, t.dim) for t in by_tier["hbm"]) == Counter(
        {(10_000, 8): 12, (20_000, 8): 1, (30_000, 8): 1, (100_000, 8): 14,
         (500_000, 8): 2, (500_000, 16): 1, (1_000_000, 16): 1})
    assert [(t.rows, t.dim) for t in by_tier["ddr"]] == [(10_000_000, 16)] * 2
    assert Counter((t.rows, t.dim) for t in by_tier["onchip"]) == Counter(
        {(1000, 4): 4, (3000, 8): 1, (10_000, 8): 3})
    assert [t.channel for t in by_tier["hbm"]] == list(range(32))
    assert [t.channel for t in by_tier["ddr"]] == [0, 1]
    check_fit(cfg)


def test_microrec_large():
    cfg = builtin("microrec_large")
    assert cfg.num_tables == 84 and cfg.feature_len == 876
    assert cfg.mlp == [1024, 512, 256, 1]
    assert sum(t.tier != "onchip" for t in cfg.tables) == 68      # MicroRec Table 3
    assert 14.5e9 <= cfg.total_bytes <= 15.5e9
    assert {t.dim for t in cfg.tables} >= {16, 32}
    check_fit(cfg)
    use = channel_usage(cfg)
    assert max(v for (tier, _), v in use.items() if tier == "hbm") <= 256 << 20
    assert use[("onchip", None)] <= 8 << 20


def test_dlrm_kaggle():
    cfg = builtin("dlrm_kaggle")
    assert [t.rows for t in cfg.tables] == DLRM_KAGGLE_ROWS and len(DLRM_KAGGLE_ROWS) == 26
    assert {t.dim for t in cfg.tables} == {16}
    assert cfg.feature_len == 416 and cfg.mlp == [512, 256, 1]
    for t in cfg.tables:
        assert t.tier == dlrm_tier(t.rows * 32)
        assert (t.channel is None) == (t.tier == "onchip")
    assert Counter(t.tier for t in cfg.tables) == {"onchip": 12, "hbm": 13, "ddr": 1}
    check_fit(cfg)


def test_derived_sizes():
    cfg = builtin("microrec_small")
    assert cfg.stride(0) == 16 and cfg.stride("hbm31") == 32 and cfg.stride(cfg.tables[-1]) == 16
    assert cfg.table_bytes("ddr0") == 10_000_000 * 32
    assert cfg.total_bytes == sum(t.rows * t.stride for t in cfg.tables)
    assert cfg.max_fan_in == 1024


def test_builtin_returns_a_copy():
    cfg = builtin("tiny")
    cfg.tables[0].rows = 5
    cfg.mlp[0] = 3
    assert BUILTINS["tiny"].tables[0].rows == 1000 and builtin("tiny").mlp[0] == 16


# ---- validation ------------------------------------------------------------

def _tiny_dict():
    return builtin("tiny").to_dict()


def _set(path, value):
    """Mutation of the tiny config's dict at a dotted path like 'tables.3.rows'."""
    def mutate(d):
        keys = path.split(".")
        for k in keys[:-1]:
            d = d[int(k)] if k.isdigit() else d[k]
        last = keys[-1]
        if last.isdigit():
            d[int(last)] = value
        else:
            d[last] = value
    return mutate


def _delete(path):
    def mutate(d):
        *head, last = path.split(".")
        for k in head:
            d = d[int(k)] if k.isdigit() else d[k]
        del d[last]
    return mutate


def _many_wide_tables(d):
    d["tables"] = [{"name": f"t{i}", "rows": 2, "dim": 256, "tier": "onchip"}
                   for i in range(257)]


BAD = [
    ("name", _set("name", "")),
    ("name", _set("name", 7)),
    ("tables", _set("tables", [])),
    ("tables", _set("tables", {"a": 1})),
    ("tables", _many_wide_tables),                         # fan-in 65792 > 65536
    ("tables[0].name", _set("tables.0.name", "")),
    ("tables[4].name", _set("tables.4.name", "user")),     # duplicate
    ("tables[3].rows", _set("tables.3.rows", 0)),
    ("tables[3].rows", _set("tables.3.rows", 2 ** 32)),
    ("tables[0].rows", _set("tables.0.rows", "10")),
    ("tables[0].rows", _set("tables.0.rows", 10.0)),
    ("tables[0].rows", _set("tables.0.rows", True)),
    ("tables[1].dim", _set("tables.1.dim", 0)),
    ("tables[1].dim", _set("tables.1.dim", 257)),
    ("tables[2].tier", _set("tables.2.tier", "sram")),
    ("tables[0].channel", _set("tables.0.channel", -1)),
    ("tables[2].colour", _set("tables.2.colour", "red")),  # unknown key
    ("tables[2].rows", _delete("tables.2.rows")),          # missing key
    ("tables[1]", _set("tables.1", 5)),
    ("mlp", _set("mlp", [])),
    ("mlp", _set("mlp", 4)),
    ("mlp", _delete("mlp")),
    ("mlp[1]", _set("mlp", [16, 0, 1])),
    ("mlp[2]", _set("mlp", [16, 8, 2])),
    ("mlp[0]", _set("mlp", [65537, 1])),                   # fan-in of layer 1
    ("frac_bits", _set("frac_bits", 0)),
    ("frac_bits", _set("frac_bits", 15)),
    ("emb_shift", _set("emb_shift", -1)),
    ("emb_shift", _set("emb_shift", 16)),
    ("seed", _set("seed", -1)),
    ("seed", _set("seed", 2 ** 32)),
    ("acc_w", _set("acc_w", 32)),
    ("acc_w", _set("acc_w", 65)),
    ("acc_w", _set("acc_w", 36)),                          # tiny (fan-in 48) needs 31 + 6 = 37
    ("extra", _set("extra", 1)),                           # unknown top-level key
]


@pytest.mark.parametrize("field, mutate", BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)])
def test_validation_error_names_the_field(field, mutate):
    d = _tiny_dict()
    mutate(d)
    with pytest.raises(ConfigError) as e:
        ModelConfig.from_dict(d)
    assert str(e.value).startswith(field + ":"), str(e.value)
    assert isinstance(e.value, ValueError)


def test_direct_construction_validates():
    with pytest.raises(ConfigError, match=r"^tables\[0\]\.tier:"):
        ModelConfig("x", [TableConfig("a", 1, 1, "flash")], [1])
    cfg = builtin("tiny")
    cfg.frac_bits = 20
    with pytest.raises(ConfigError, match="^frac_bits:"):
        cfg.validate()


@pytest.mark.parametrize("fan_in, acc_w", [(1, 33), (2, 33), (3, 34), (48, 37), (1024, 42),
                                           (16384, 46), (65534, 47), (65536, 48)])
def test_acc_w_bound_is_tight(fan_in, acc_w):
    assert min_acc_w(fan_in) == acc_w
    # the worst accumulator fits acc_w bits and does not fit acc_w - 1
    worst = fan_in * (-32768) ** 2 + 2 ** 31 - 1
    assert worst <= 2 ** (acc_w - 1) - 1
    assert worst > 2 ** (acc_w - 2) - 1
    tables = [TableConfig("a", 1, 1, "onchip")]
    ModelConfig("ok", tables, [fan_in, 1], acc_w=acc_w)
    with pytest.raises(ConfigError, match="^acc_w:"):
        ModelConfig("low", tables, [fan_in, 1], acc_w=acc_w - 1)


def test_accepted_edges():
    t = [TableConfig("a", 2 ** 32 - 1, 256, "ddr", 0), TableConfig("b", 1, 1, "onchip")]
    cfg = ModelConfig("edges", t, [1], frac_bits=14, emb_shift=15, seed=2 ** 32 - 1, acc_w=64)
    assert cfg.stride(0) == 512 and cfg.stride(1) == 2
    ModelConfig("edges", t, [1], frac_bits=1, emb_shift=0, seed=0)


def test_check_fit_reports_overfull_channel():
    cfg = ModelConfig("fat", [TableConfig("a", 9_000_000, 16, "hbm", 3)], [1])
    with pytest.raises(ConfigError, match="hbm channel 3"):
        check_fit(cfg)
    cfg = ModelConfig("nochan", [TableConfig("a", 10, 16, "hbm")], [1])
    with pytest.raises(ConfigError, match=r"^tables\[0\]\.channel:"):
        check_fit(cfg)


# ---- loading ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_json_round_trip(tmp_path, name):
    cfg = builtin(name)
    path = tmp_path / f"{name}.json"
    save_config(cfg, path)
    back = load_config(path)
    assert back == cfg
    assert load_config(str(path)) == cfg
    assert json.loads(path.read_text()) == cfg.to_dict()


def test_load_config_by_name_and_defaults(tmp_path):
    assert load_config("tiny") == builtin("tiny")
    d = {"name": "m", "tables": [{"name": "a", "rows": 3, "dim": 2, "tier": "onchip"}],
         "mlp": [4, 1]}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(d))
    cfg = load_config(path)
    assert (cfg.frac_bits, cfg.acc_w, cfg.seed, cfg.emb_shift) == (8, 48, 1, 5)
    assert cfg.tables[0].channel is None
    assert ModelConfig.from_dict(copy.deepcopy(cfg.to_dict())) == cfg


def test_load_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="^name:.*no_such_model"):
        load_config("no_such_model")
    with pytest.raises(ConfigError, match="^name:"):
        load_config(tmp_path / "model.yaml")
    with pytest.raises(ConfigError, match="^path:"):
        load_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="^path:"):
        load_config(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="^config:"):
        load_config(bad)
