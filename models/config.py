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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIERS = ("hbm", "ddr", "onchip")
MAX_ROWS = (1 << 32) - 1  # row ids are hashed as uint32 (contracts.md section 1)
MAX_DIM = 256
MAX_STRIDE = 4096  # a row never crosses a 4 KiB boundary (design.md section 4)
MAX_FAN_IN = 1 << 16  # the accumulator-width rule is stated up to this fan-in
MAX_SEED = (1 << 32) - 1
MAX_BAG = 1 << 15          # a pooled sum of 2^15 int16 rows plus rounding fits 32 bits (contracts s.9.2)
MAX_QUERY_INDICES = (1 << 16) - 1  # the packet's 16-bit index count (contracts s.9.7)
MAX_DENSE = 255            # the packet's 8-bit dense-feature count
POOLINGS = ("sum", "mean")
INTERACTIONS = ("concat", "dot")

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
    bag_max: int = 1          # longest bag (contracts s.9.1); 1 = one-hot
    pooling: str = "sum"
    pool_shift: int = 0       # mean = sum >>> pool_shift, round half up (s.9.2)

    @property
    def stride(self) -> int:
        return stride_for_dim(self.dim)

    @property
    def one_hot(self) -> bool:
        """At most one row per query and no shift: a bag of one is the row itself."""
        return self.bag_max == 1 and self.pool_shift == 0

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
    dense: int = 0                                  # D dense features (contracts s.9.1)
    bottom_mlp: list[int] = field(default_factory=list)
    interaction: str = "concat"

    def __post_init__(self) -> None:
        for fld in ("tables", "mlp", "bottom_mlp"):
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
    def emb_dim(self) -> int | None:
        """The common table dim, or None when the dims differ."""
        dims = {t.dim for t in self.tables}
        return dims.pop() if len(dims) == 1 else None

    @property
    def bottom_out(self) -> int:
        """Elements of the bottom MLP's output (0 without one)."""
        return self.bottom_mlp[-1] if self.bottom_mlp else 0

    @property
    def interaction_pairs(self) -> list[tuple[int, int]]:
        """DLRM's (li, lj) over T = [bottom output, pooled 0 .. n-1]: i > j, i-major."""
        return [(i, j) for i in range(self.num_tables + 1) for j in range(i)]

    @property
    def top_in(self) -> int:
        """Fan-in of the top MLP: the length of R (contracts s.9.1)."""
        if self.interaction == "dot":
            return self.bottom_out + len(self.interaction_pairs)
        return self.bottom_out + self.feature_len

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        """Top MLP (fan_in, fan_out) per layer; layer 0 reads R (top_in wide)."""
        ins = [self.top_in] + self.mlp[:-1]
        return list(zip(ins, self.mlp))

    @property
    def bottom_layer_shapes(self) -> list[tuple[int, int]]:
        ins = [self.dense] + self.bottom_mlp[:-1]
        return list(zip(ins, self.bottom_mlp))

    @property
    def max_fan_in(self) -> int:
        """Largest MAC fan-in of any layer, bottom and top, and of a dot product."""
        fans = [i for i, _ in self.layer_shapes + self.bottom_layer_shapes]
        if self.interaction == "dot":
            fans.append(self.emb_dim or 0)
        return max(fans)

    @property
    def microrec_compatible(self) -> bool:
        """One-hot-equivalent concat model: golden_infer applies (contracts s.9.1)."""
        return (self.dense == 0 and not self.bottom_mlp and self.interaction == "concat"
                and all(t.pool_shift == 0 for t in self.tables))

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
            _check_int(f"{p}.bag_max", t.bag_max, 1, MAX_BAG)
            if t.pooling not in POOLINGS:
                raise ConfigError(f"{p}.pooling: must be one of {POOLINGS}, got {t.pooling!r}")
            if t.pooling == "sum" and t.pool_shift != 0:
                raise ConfigError(f"{p}.pool_shift: must be 0 for 'sum' pooling, got {t.pool_shift!r}")
            _check_int(f"{p}.pool_shift", t.pool_shift, 0, 15)
        bags = sum(t.bag_max for t in self.tables)
        if bags > MAX_QUERY_INDICES:
            raise ConfigError(f"tables: bag_max sums to {bags} indices per query, more than "
                              f"the packet's {MAX_QUERY_INDICES}")
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
        self._validate_dlrm()
        # Fan-in of layer 0 is the feature length (set by the tables), of
        # layer l > 0 the size of layer l-1.
        for layer, (fan_in, _) in enumerate(self.layer_shapes):
            if fan_in > MAX_FAN_IN:
                where = ("interaction" if self.interaction == "dot" else "tables") if layer == 0 \
                    else f"mlp[{layer - 1}]"
                raise ConfigError(f"{where}: fan-in {fan_in} of layer {layer} "
                                  f"exceeds {MAX_FAN_IN}")
        for layer, (fan_in, _) in enumerate(self.bottom_layer_shapes):
            if fan_in > MAX_FAN_IN:
                where = "dense" if layer == 0 else f"bottom_mlp[{layer - 1}]"
                raise ConfigError(f"{where}: fan-in {fan_in} of bottom layer "
                                  f"{layer} exceeds {MAX_FAN_IN}")
        need = min_acc_w(self.max_fan_in)
        if self.acc_w < need:
            raise ConfigError(f"acc_w: must be >= {need} for max fan-in "
                              f"{self.max_fan_in}, got {self.acc_w}")

    def _validate_dlrm(self) -> None:
        """Dense features, bottom MLP and interaction (contracts s.9.1)."""
        _check_int("dense", self.dense, 0, MAX_DENSE)
        for i, n in enumerate(self.bottom_mlp):
            _check_int(f"bottom_mlp[{i}]", n, 1, None)
        if self.dense and not self.bottom_mlp:
            raise ConfigError(f"bottom_mlp: dense={self.dense} features need a bottom MLP")
        if self.bottom_mlp and not self.dense:
            raise ConfigError("dense: a bottom MLP needs dense features (dense >= 1)")
        if self.interaction not in INTERACTIONS:
            raise ConfigError(f"interaction: must be one of {INTERACTIONS}, "
                              f"got {self.interaction!r}")
        if self.interaction == "dot":
            if not self.bottom_mlp:
                raise ConfigError("interaction: 'dot' needs a bottom MLP (its output is T_0)")
            d = self.bottom_mlp[-1]
            for i, t in enumerate(self.tables):
                if t.dim != d:
                    raise ConfigError(f"tables[{i}].dim: 'dot' interaction needs every dim "
                                      f"equal to bottom_mlp[-1] = {d}, got {t.dim}")

    # ---- dict / JSON ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Fields at their defaults are left out, so MicroRec configs keep their old form."""
        tables = []
        for t in self.tables:
            d = {"name": t.name, "rows": int(t.rows), "dim": int(t.dim), "tier": t.tier}
            if t.channel is not None:
                d["channel"] = int(t.channel)
            if t.bag_max != 1:
                d["bag_max"] = int(t.bag_max)
            if t.pooling != "sum":
                d["pooling"] = t.pooling
            if t.pool_shift:
                d["pool_shift"] = int(t.pool_shift)
            tables.append(d)
        out = {"name": self.name, "tables": tables, "mlp": [int(n) for n in self.mlp],
               "frac_bits": int(self.frac_bits), "acc_w": int(self.acc_w),
               "seed": int(self.seed), "emb_shift": int(self.emb_shift)}
        if self.dense:
            out["dense"] = int(self.dense)
        if self.bottom_mlp:
            out["bottom_mlp"] = [int(n) for n in self.bottom_mlp]
        if self.interaction != "concat":
            out["interaction"] = self.interaction
        return out

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


_MODEL_KEYS = ("name", "tables", "mlp", "frac_bits", "acc_w", "seed", "emb_shift",
               "dense", "bottom_mlp", "interaction")
_TABLE_KEYS = ("name", "rows", "dim", "tier", "channel", "bag_max", "pooling", "pool_shift")


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


DLRM_BAG_MAX = 64          # L_MAX of the RTL build (contracts s.9.7: >= 64)
# Rows in [-0.25, 0.25) (F = 8), small as trained DLRM rows are: with sum-pooled
# bags of 20 (tiny tables repeat rows, so their sums grow ~linearly) the dot
# products stay about 4x inside int16; with emb_shift 8 they touch its limit.
DLRM_EMB_SHIFT = 9


def _dlrm_kaggle() -> ModelConfig:
    """DLRM's Criteo Kaggle model (reference.md): 26 sum-pooled tables of dim 16,
    13 dense features, bottom MLP 13-512-256-64-16, dot interaction, top MLP
    367-512-256-1. Bags of up to DLRM_BAG_MAX rows per table.
    """
    tables, hbm_ch, ddr_ch = [], 0, 0
    for i, rows in enumerate(DLRM_KAGGLE_ROWS):
        tier = dlrm_tier(rows * stride_for_dim(16))
        ch = None
        if tier == "hbm":
            ch, hbm_ch = hbm_ch % HBM_CHANNELS, hbm_ch + 1
        elif tier == "ddr":
            ch, ddr_ch = ddr_ch % DDR_CHANNELS, ddr_ch + 1
        tables.append(TableConfig(f"C{i + 1}", rows, 16, tier, ch, bag_max=DLRM_BAG_MAX))
    return ModelConfig("dlrm_kaggle", tables, [512, 256, 1], emb_shift=DLRM_EMB_SHIFT,
                       dense=13, bottom_mlp=[512, 256, 64, 16], interaction="dot")


def _dlrm_tiny() -> ModelConfig:
    """A DLRM small enough for RTL tests: five dim-4 tables over all tiers, mixed
    one-hot (bag_max 1) and multi-hot tables, one mean-pooled; 3 dense
    features, bottom MLP 3-8-4, dot interaction (4 + 5*6/2 = 19), top 19-8-1.
    Table 0 allows bags of DLRM_BAG_MAX (the L_MAX edge); the others are short.
    """
    return ModelConfig("dlrm_tiny", [
        TableConfig("history", 1000, 4, "hbm", 0, bag_max=DLRM_BAG_MAX),
        TableConfig("item", 500, 4, "hbm", 1),
        TableConfig("category", 16, 4, "onchip", bag_max=8, pooling="mean", pool_shift=2),
        TableConfig("tags", 200, 4, "ddr", 0, bag_max=8),
        TableConfig("city", 64, 4, "onchip"),
    ], [8, 1], emb_shift=DLRM_EMB_SHIFT, dense=3, bottom_mlp=[8, 4], interaction="dot")


BUILTINS: dict[str, ModelConfig] = {
    "tiny": _tiny(),
    "microrec_small": _microrec_small(),
    "microrec_small_47": _microrec_small_47(),
    "microrec_large": _microrec_large(),
    "dlrm_kaggle": _dlrm_kaggle(),
    "dlrm_tiny": _dlrm_tiny(),
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
