"""Model configurations: table shapes, placement tiers and MLP sizes.

One `ModelConfig` drives the golden model, the memory images, the CSR
programming and the performance model, so every limit the hardware relies on
is checked here once (`validate`), with messages that start with the dotted
field name so a bad JSON file points at its own line.
"""

from __future__ import annotations

import copy
import json
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIERS = ("hbm", "ddr", "onchip")
MAX_ROWS = (1 << 32) - 1  # row ids are hashed as uint32 (contracts.md section 1)
MAX_DIM = 256
MAX_STRIDE = 4096  # a row never crosses a 4 KiB boundary (design.md section 4)
MAX_FAN_IN = 1 << 16  # the accumulator-width rule is stated up to this fan-in
MAX_SEED = (1 << 32) - 1

# Capacities of the U280-like platform the built-in models are sized for.
HBM_CHANNELS = 32
HBM_CHANNEL_BYTES = 256 << 20
DDR_CHANNELS = 2
DDR_CHANNEL_BYTES = 16 << 30
ONCHIP_BYTES = 8 << 20
TABLE_ALIGN = 4096


class ConfigError(ValueError):
    """Invalid configuration; the message starts with the dotted field name."""


def stride_for_dim(dim: int) -> int:
    """Row stride in bytes: next power of two >= 2*dim (so rows never straddle 4 KiB)."""
    need = max(2, 2 * int(dim))
    return 1 << (need - 1).bit_length()


def min_acc_w(max_fan_in: int) -> int:
    """Narrowest accumulator that cannot overflow: 31 + ceil(log2(fan_in + 2)).

    Worst case |acc| is fan_in * 2^30 (every product (-32768)^2) plus a bias
    of 2^31, i.e. 2^30 * (fan_in + 2), which a signed W-bit word holds when
    fan_in + 2 <= 2^(W - 31). Gives 48 bits for fan-in 2^16 (design.md s.3).
    """
    return 31 + (int(max_fan_in) + 1).bit_length()  # bit_length(n+1) == ceil(log2(n + 2))


@dataclass
class TableConfig:
    name: str
    rows: int
    dim: int
    tier: str
    channel: int | None = None

    @property
    def stride(self) -> int:
        return stride_for_dim(self.dim)

    @property
    def table_bytes(self) -> int:
        return self.rows * self.stride


@dataclass
class ModelConfig:
    name: str
    tables: list[TableConfig]
    mlp: list[int]
    frac_bits: int = 8
    acc_w: int = 48
    seed: int = 1
    emb_shift: int = 5

    def __post_init__(self) -> None:
        for fld in ("tables", "mlp"):
            v = getattr(self, fld)
            if not isinstance(v, (list, tuple)):
                raise ConfigError(f"{fld}: must be a list, got {type(v).__name__}")
            setattr(self, fld, list(v))
        self.validate()

    # ---- derived shapes -------------------------------------------------
    @property
    def num_tables(self) -> int:
        return len(self.tables)

    @property
    def feature_len(self) -> int:
        return sum(t.dim for t in self.tables)

    @property
    def feature_offsets(self) -> list[int]:
        """Start column of each table's vector in the concatenated feature."""
        offs, acc = [], 0
        for t in self.tables:
            offs.append(acc)
            acc += t.dim
        return offs

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        ins = [self.feature_len] + self.mlp[:-1]
        return list(zip(ins, self.mlp))

    @property
    def max_fan_in(self) -> int:
        return max(i for i, _ in self.layer_shapes)

    @property
    def total_bytes(self) -> int:
        return sum(t.table_bytes for t in self.tables)

    def table(self, t: int | str | TableConfig) -> TableConfig:
        if isinstance(t, TableConfig):
            return t
        if isinstance(t, str):
            return self.tables[self.table_index(t)]
        return self.tables[t]

    def table_index(self, name: str) -> int:
        for i, t in enumerate(self.tables):
            if t.name == name:
                return i
        raise KeyError(f"no table named {name!r} in config {self.name!r}")

    def stride(self, t: int | str | TableConfig) -> int:
        return self.table(t).stride

    def table_bytes(self, t: int | str | TableConfig) -> int:
        return self.table(t).table_bytes

    # ---- validation -----------------------------------------------------
    def validate(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"name: must be a non-empty string, got {self.name!r}")
        if not self.tables:
            raise ConfigError("tables: must not be empty")
        seen: dict[str, int] = {}
        for i, t in enumerate(self.tables):
            p = f"tables[{i}]"
            if not isinstance(t, TableConfig):
                raise ConfigError(f"{p}: must be a TableConfig, got {type(t).__name__}")
            if not isinstance(t.name, str) or not t.name:
                raise ConfigError(f"{p}.name: must be a non-empty string, got {t.name!r}")
            if t.name in seen:
                raise ConfigError(f"{p}.name: duplicate of tables[{seen[t.name]}] ({t.name!r})")
            seen[t.name] = i
            _check_int(f"{p}.rows", t.rows, 1, MAX_ROWS)
            _check_int(f"{p}.dim", t.dim, 1, MAX_DIM)
            if t.stride > MAX_STRIDE:
                raise ConfigError(f"{p}.dim: stride {t.stride} exceeds {MAX_STRIDE} bytes")
            if t.tier not in TIERS:
                raise ConfigError(f"{p}.tier: must be one of {TIERS}, got {t.tier!r}")
            if t.channel is not None:
                _check_int(f"{p}.channel", t.channel, 0, None)
        if not self.mlp:
            raise ConfigError("mlp: must be a non-empty list of layer sizes")
        for i, n in enumerate(self.mlp):
            _check_int(f"mlp[{i}]", n, 1, None)
        if self.mlp[-1] != 1:
            raise ConfigError(f"mlp[{len(self.mlp) - 1}]: last layer must have size 1, "
                              f"got {self.mlp[-1]}")
        _check_int("frac_bits", self.frac_bits, 1, 14)
        _check_int("emb_shift", self.emb_shift, 0, 15)
        _check_int("seed", self.seed, 0, MAX_SEED)
        _check_int("acc_w", self.acc_w, 33, 64)
        # Fan-in of layer 0 is the feature length (set by the tables), of
        # layer l > 0 the size of layer l-1.
        for layer, (fan_in, _) in enumerate(self.layer_shapes):
            if fan_in > MAX_FAN_IN:
                where = "tables" if layer == 0 else f"mlp[{layer - 1}]"
                raise ConfigError(f"{where}: fan-in {fan_in} of layer {layer} "
                                  f"exceeds {MAX_FAN_IN}")
        need = min_acc_w(self.max_fan_in)
        if self.acc_w < need:
            raise ConfigError(f"acc_w: must be >= {need} for max fan-in "
                              f"{self.max_fan_in}, got {self.acc_w}")

    # ---- dict / JSON ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        tables = []
        for t in self.tables:
            d = {"name": t.name, "rows": int(t.rows), "dim": int(t.dim), "tier": t.tier}
            if t.channel is not None:
                d["channel"] = int(t.channel)
            tables.append(d)
        return {"name": self.name, "tables": tables, "mlp": [int(n) for n in self.mlp],
                "frac_bits": int(self.frac_bits), "acc_w": int(self.acc_w),
                "seed": int(self.seed), "emb_shift": int(self.emb_shift)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        _check_keys("", d, _MODEL_KEYS, required=("name", "tables", "mlp"))
        if not isinstance(d["tables"], list):
            raise ConfigError("tables: must be a list")
        tables = []
        for i, td in enumerate(d["tables"]):
            _check_keys(f"tables[{i}].", td, _TABLE_KEYS,
                        required=("name", "rows", "dim", "tier"))
            tables.append(TableConfig(**td))
        opts = {k: d[k] for k in _MODEL_KEYS if k in d and k != "tables"}
        return cls(tables=tables, **opts)


_MODEL_KEYS = ("name", "tables", "mlp", "frac_bits", "acc_w", "seed", "emb_shift")
_TABLE_KEYS = ("name", "rows", "dim", "tier", "channel")


def _check_int(path: str, v: Any, lo: int | None, hi: int | None) -> None:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise ConfigError(f"{path}: must be an integer, got {v!r}")
    if lo is not None and v < lo:
        raise ConfigError(f"{path}: must be >= {lo}, got {v}")
    if hi is not None and v > hi:
        raise ConfigError(f"{path}: must be <= {hi}, got {v}")


def _check_keys(prefix: str, d: Any, allowed: tuple[str, ...],
                required: tuple[str, ...]) -> None:
    if not isinstance(d, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: must be an object, "
                          f"got {type(d).__name__}")
    for k in d:
        if k not in allowed:
            raise ConfigError(f"{prefix}{k}: unknown key (allowed: {', '.join(allowed)})")
    for k in required:
        if k not in d:
            raise ConfigError(f"{prefix}{k}: missing")


# ---- built-in models -------------------------------------------------------

def _tiny() -> ModelConfig:
    """Six small tables over all three tiers; runs in milliseconds."""
    return ModelConfig("tiny", [
        TableConfig("user", 1000, 8, "hbm", 0),
        TableConfig("item", 600, 16, "hbm", 1),
        TableConfig("category", 16, 4, "onchip"),
        TableConfig("brand", 100, 8, "onchip"),
        TableConfig("city", 300, 4, "hbm", 2),
        TableConfig("history", 1000, 8, "ddr", 0),
    ], [16, 8, 1])


# The 42 post-Cartesian tables of MicroRec's small model (reference.md), in
# tier order: 32 HBM (one per pseudo-channel), 2 DDR, 8 on-chip.
_SMALL_HBM = ([(10_000, 8)] * 12 + [(20_000, 8), (30_000, 8)] + [(100_000, 8)] * 14
              + [(500_000, 8)] * 2 + [(500_000, 16), (1_000_000, 16)])
_SMALL_DDR = [(10_000_000, 16)] * 2
_SMALL_ONCHIP = [(1_000, 4)] * 4 + [(3_000, 8)] + [(10_000, 8)] * 3


def _microrec_small() -> ModelConfig:
    """MicroRec small: 42 tables, feature length 352.

    Stride-based size is about 0.73 GB (16-bit elements); the paper's 1.3 GB
    counts its own storage format.
    """
    tables = [TableConfig(f"hbm{i:02d}", r, d, "hbm", i)
              for i, (r, d) in enumerate(_SMALL_HBM)]
    tables += [TableConfig(f"ddr{i}", r, d, "ddr", i) for i, (r, d) in enumerate(_SMALL_DDR)]
    tables += [TableConfig(f"chip{i}", r, d, "onchip")
               for i, (r, d) in enumerate(_SMALL_ONCHIP)]
    return ModelConfig("microrec_small", tables, [1024, 512, 256, 1])


# MicroRec small before its Cartesian products (47 tables, Table 3): the 42
# shapes above with five HBM tables replaced by the two tables each one is
# the product of. The ten factors are the ten smallest tables (each under
# the 8000 bytes of a 1000 x 4 table), and pairing the smallest with the
# largest (MicroRec's rule) gives back exactly the five products.
# hbm index -> (rows, dim) of A, (rows, dim) of B; A x B = the 42-table shape.
SMALL_47_FACTORS = {
    13: ((16, 6), (1875, 2)),     # 30000 x 8
    14: ((125, 4), (800, 4)),     # 100000 x 8
    15: ((160, 4), (625, 4)),
    16: ((200, 4), (500, 4)),
    17: ((250, 4), (400, 4)),
}


def _microrec_small_47() -> ModelConfig:
    """MicroRec small before Cartesian products: 47 tables, feature length 352.

    Tiers as without products: the 8 smallest tables on chip, the other 39 in
    DRAM (HBM channel i % 32; the two 10M-row tables on DDR), so 2 DRAM
    rounds; `models.planner` merges the five factor pairs back into 42.
    """
    tables, hbm = [], []
    for i, (r, d) in enumerate(_SMALL_HBM):
        if i in SMALL_47_FACTORS:
            (ra, da), (rb, db) = SMALL_47_FACTORS[i]
            hbm += [(f"hbm{i:02d}a", ra, da), (f"hbm{i:02d}b", rb, db)]
        else:
            hbm.append((f"hbm{i:02d}", r, d))
    hbm += [(f"chip{i}", r, d) for i, (r, d) in enumerate(_SMALL_ONCHIP)]
    smallest = sorted(hbm, key=lambda t: (t[1] * stride_for_dim(t[2]), t[0]))[:8]
    ch = 0
    for name, r, d in hbm:
        if (name, r, d) in smallest:
            tables.append(TableConfig(name, r, d, "onchip"))
        else:
            tables.append(TableConfig(name, r, d, "hbm", ch % HBM_CHANNELS))
            ch += 1
    tables += [TableConfig(f"ddr{i}", r, d, "ddr", i) for i, (r, d) in enumerate(_SMALL_DDR)]
    return ModelConfig("microrec_small_47", tables, [1024, 512, 256, 1])


LARGE_HBM_ROW_SCALE = 4
LARGE_DDR_ROWS = 56_000_000


def _microrec_large() -> ModelConfig:
    """MicroRec large stand-in: 84 tables, feature length 876, about 15.1 GB.

    The public build gives no per-table shapes for the large model, so this is
    a documented variant of the small one:
    - two copies ("a", "b") of the 42 small shapes: 64 HBM + 4 DDR = 68 tables
      in DRAM and 16 on chip, as in MicroRec Table 3 (98 -> 84, 68 in DRAM);
    - HBM rows x4; copy a and copy b of HBM table i share pseudo-channel i
      (the fullest channel holds 2 x 4M x 32 B = 244 MiB <= 256 MiB);
    - the 4 DDR tables get 56M rows and dim 32 (+64 features), two per
      channel (7.2 GB of 16 GiB each); they hold ~95% of the bytes;
    - the first 13 HBM tables of copy b widen 8 -> 16 (+104) and copy b's
      first on-chip table 4 -> 8 (+4): 2 * 352 + 64 + 104 + 4 = 876.
    """
    tables = []
    for copy_id in ("a", "b"):
        for i, (r, d) in enumerate(_SMALL_HBM):
            if copy_id == "b" and i < 13:
                d = 16
            rows = r * LARGE_HBM_ROW_SCALE
            tables.append(TableConfig(f"{copy_id}_hbm{i:02d}", rows, d, "hbm", i))
        for i, _ in enumerate(_SMALL_DDR):
            tables.append(TableConfig(f"{copy_id}_ddr{i}", LARGE_DDR_ROWS, 32, "ddr", i))
        for i, (r, d) in enumerate(_SMALL_ONCHIP):
            if copy_id == "b" and i == 0:
                d = 8
            tables.append(TableConfig(f"{copy_id}_chip{i}", r, d, "onchip"))
    return ModelConfig("microrec_large", tables, [1024, 512, 256, 1])


DLRM_KAGGLE_ROWS = [1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683,
                    8351593, 3194, 27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18,
                    15, 286181, 105, 142572]


def dlrm_tier(table_bytes: int) -> str:
    """Size rule used for dlrm_kaggle: <= 64 KiB on chip, <= one HBM channel, else DDR."""
    if table_bytes <= 64 << 10:
        return "onchip"
    if table_bytes <= HBM_CHANNEL_BYTES:
        return "hbm"
    return "ddr"


def _dlrm_kaggle() -> ModelConfig:
    """DLRM's Criteo Kaggle tables (dim 16) with a 416-512-256-1 MLP.

    This accelerator has no bottom MLP and no dot-product interaction: the 26
    looked-up vectors are concatenated (26 * 16 = 416) and fed to the MLP.
    """
    tables, hbm_ch, ddr_ch = [], 0, 0
    for i, rows in enumerate(DLRM_KAGGLE_ROWS):
        tier = dlrm_tier(rows * stride_for_dim(16))
        ch = None
        if tier == "hbm":
            ch, hbm_ch = hbm_ch % HBM_CHANNELS, hbm_ch + 1
        elif tier == "ddr":
            ch, ddr_ch = ddr_ch % DDR_CHANNELS, ddr_ch + 1
        tables.append(TableConfig(f"C{i + 1}", rows, 16, tier, ch))
    return ModelConfig("dlrm_kaggle", tables, [512, 256, 1])


BUILTINS: dict[str, ModelConfig] = {
    "tiny": _tiny(),
    "microrec_small": _microrec_small(),
    "microrec_small_47": _microrec_small_47(),
    "microrec_large": _microrec_large(),
    "dlrm_kaggle": _dlrm_kaggle(),
}


def builtin(name: str) -> ModelConfig:
    """A fresh copy of a built-in model, so callers may edit it freely."""
    if name not in BUILTINS:
        raise ConfigError(f"name: unknown built-in config {name!r} "
                          f"(known: {', '.join(BUILTINS)})")
    return copy.deepcopy(BUILTINS[name])


def load_config(name_or_path: str | Path | ModelConfig) -> ModelConfig:
    """A built-in name, or a path to a JSON file holding `ModelConfig.to_dict()`."""
    if isinstance(name_or_path, ModelConfig):
        return name_or_path
    if isinstance(name_or_path, str) and name_or_path in BUILTINS:
        return builtin(name_or_path)
    path = Path(name_or_path)
    if path.suffix.lower() != ".json":
        raise ConfigError(f"name: {str(name_or_path)!r} is neither a built-in config "
                          f"({', '.join(BUILTINS)}) nor a .json file")
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"path: cannot read {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"path: {path} is not valid JSON: {e}") from e
    return ModelConfig.from_dict(data)


def channel_usage(cfg: ModelConfig) -> dict[tuple[str, int | None], int]:
    """Bytes per (tier, channel), each table rounded up to its 4 KiB-aligned base."""
    use: dict[tuple[str, int | None], int] = {}
    for t in cfg.tables:
        key = (t.tier, None if t.tier == "onchip" else t.channel)
        use[key] = use.get(key, 0) + -(-t.table_bytes // TABLE_ALIGN) * TABLE_ALIGN
    return use


def check_fit(cfg: ModelConfig) -> None:
    """Raise unless every table fits the U280-like platform (32 HBM, 2 DDR, 8 MiB on chip)."""
    limits = {"hbm": (HBM_CHANNELS, HBM_CHANNEL_BYTES), "ddr": (DDR_CHANNELS, DDR_CHANNEL_BYTES)}
    for i, t in enumerate(cfg.tables):
        if t.tier != "onchip" and (t.channel is None or t.channel >= limits[t.tier][0]):
            raise ConfigError(f"tables[{i}].channel: {t.tier} needs a channel in "
                              f"0..{limits[t.tier][0] - 1}, got {t.channel}")
    for (tier, ch), used in channel_usage(cfg).items():
        cap = ONCHIP_BYTES if tier == "onchip" else limits[tier][1]
        if used > cap:
            where = tier if ch is None else f"{tier} channel {ch}"
            raise ConfigError(f"tables: {where} holds {used} bytes, capacity {cap}")


def save_config(cfg: ModelConfig, path: str | Path) -> None:
    Path(path).write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
