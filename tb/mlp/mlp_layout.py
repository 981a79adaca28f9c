"""Host-side view of the MLP engine (rtl/mlp/mlp_engine.sv): build settings,
the weight/bias bank layout (mlp_layer_cfg.sv header) and the configuration
port values. What a host driver or the accelerator's DMA computes; the bench
and the benchmark use it. Layout only: no arithmetic of the golden model.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from models.config import ModelConfig, TableConfig


@dataclass(frozen=True)
class EngineBuild:
    """Build-time parameters of one mlp_engine build."""

    P: int = 6
    U: int = 20
    MAX_LAYERS: int = 4
    MAX_DIM: int = 1024
    WDEPTH: int = 9216
    BDEPTH: int = 320
    FEAT_LANES: int = 16
    ID_W: int = 16
    OUT_DEPTH: int = 4
    ACC_W: int = 48
    CNT_W: int = 48
    VEC_OUT: int = 0     # 1: the last layer is relu(sat16) and leaves as a vector (contracts s.9.3)
    VEC_LANES: int = 16  # VEC_OUT: int16 elements per output beat (a multiple of P)

    def parameters(self) -> dict:
        return asdict(self)

    def sv_parameters(self) -> dict:
        p = asdict(self)
        if not self.VEC_OUT:   # the logit build: exactly the parameters it always had
            del p["VEC_OUT"], p["VEC_LANES"]
        return p

    @property
    def dim_w(self) -> int:
        return (self.MAX_DIM).bit_length()  # $clog2(MAX_DIM + 1)

    @property
    def lanes(self) -> int:
        return self.P * self.U


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def shapes_of(cfg: ModelConfig) -> list[tuple[int, int]]:
    return list(cfg.layer_shapes)


def lanes_of(build: EngineBuild, precision: str) -> int:
    """Inputs a beat takes (S): U for int16, 2U for int8 (two int8 MACs per lane)."""
    return 2 * build.U if precision == "int8" else build.U


def bank_plan(build: EngineBuild, shapes, precisions=None) -> list[dict]:
    """Per layer: fan_in, fan_out, beats, rounds, wbase, bbase (as the RTL derives).
    An int8 layer packs 2U weights to a word: beats = ceil(fan_in / 2U)."""
    precisions = precisions or ["int16"] * len(shapes)
    plan, w, b = [], 0, 0
    for (fan_in, fan_out), prec in zip(shapes, precisions):
        beats, rounds = ceil_div(fan_in, lanes_of(build, prec)), ceil_div(fan_out, build.P)
        plan.append({"fan_in": fan_in, "fan_out": fan_out, "beats": beats, "rounds": rounds,
                     "wbase": w, "bbase": b, "cycles": beats * rounds,
                     "macs": fan_in * fan_out})
        w += beats * rounds
        b += rounds
    return plan


def fits(build: EngineBuild, shapes, precisions=None) -> bool:
    plan = bank_plan(build, shapes, precisions)
    last = plan[-1]
    out_ok = (vec_beats(build, shapes[-1][1]) <= build.OUT_DEPTH if build.VEC_OUT else shapes[-1][1] == 1)
    return (len(shapes) <= build.MAX_LAYERS
            and all(1 <= i <= build.MAX_DIM and 1 <= o <= build.MAX_DIM for i, o in shapes)
            and out_ok
            and last["wbase"] + last["cycles"] <= build.WDEPTH
            and last["bbase"] + last["rounds"] <= build.BDEPTH)


def vec_beats(build: EngineBuild, out_dim: int) -> int:
    """Output beats of one vector of a VEC_OUT build (contracts s.6)."""
    return ceil_div(out_dim, build.VEC_LANES)


def _words(lanes: np.ndarray) -> list[int]:
    """Rows of int16 lanes -> packed little-endian ints (lane i at bits 16i)."""
    raw = np.ascontiguousarray(lanes.astype("<i2"))
    nbytes = raw.shape[1] * 2
    buf = raw.tobytes()
    return [int.from_bytes(buf[i:i + nbytes], "little") for i in range(0, len(buf), nbytes)]


def _words8(lanes: np.ndarray) -> list[int]:
    """Rows of int8 elements -> packed little-endian ints (element j at bits 8j)."""
    raw = np.ascontiguousarray(lanes.astype("i1"))
    nbytes = raw.shape[1]
    buf = raw.tobytes()
    return [int.from_bytes(buf[i:i + nbytes], "little") for i in range(0, len(buf), nbytes)]


def weight_writes(build: EngineBuild, weights, precisions=None) -> list[tuple[int, int, int, int]]:
    """(bias, pe, addr, data) writes that load `weights` [(W[out,in], b[out])].

    An int8 layer's word holds 2U two's-complement bytes, byte j = W[n, k*2U + j]
    (lane i of the int16 view carries inputs k*2U + 2i in its low byte and
    k*2U + 2i + 1 in its high byte); contracts s.6."""
    shapes = [(np.shape(w)[1], np.shape(w)[0]) for w, _ in weights]
    precisions = precisions or ["int16"] * len(shapes)
    plan = bank_plan(build, shapes, precisions)
    P = build.P
    writes = []
    for (w, bias), lp, prec in zip(weights, plan, precisions):
        out, fin = np.shape(w)
        S = lanes_of(build, prec)
        pad = np.zeros((lp["rounds"] * P, lp["beats"] * S), dtype=np.int8 if prec == "int8" else np.int16)
        pad[:out, :fin] = w
        bpad = np.zeros(lp["rounds"] * P, dtype=np.int64)
        bpad[:out] = bias
        # neuron n = r*P + p -> [r, p, k, lane]
        blocks = pad.reshape(lp["rounds"], P, lp["beats"], S)
        pack = _words8 if prec == "int8" else _words
        for p in range(P):
            rows = blocks[:, p].reshape(-1, S)           # r-major, then beat k
            for i, word in enumerate(pack(rows)):
                if (i // lp["beats"]) * P + p < out:     # padding neurons stay unwritten
                    writes.append((0, p, lp["wbase"] + i, word))
            for r in range(lp["rounds"]):
                if r * P + p < out:
                    writes.append((1, p, lp["bbase"] + r, int(bpad[r * P + p]) & 0xFFFFFFFF))
    return writes


def feature_beats(build: EngineBuild, vec) -> list[int]:
    """One feature vector -> FEAT_LANES-wide beats (last beat zero-padded)."""
    v = np.asarray(vec, dtype=np.int64)
    n = ceil_div(len(v), build.FEAT_LANES) * build.FEAT_LANES
    pad = np.zeros(n, dtype=np.int16)
    pad[:len(v)] = v
    return _words(pad.reshape(-1, build.FEAT_LANES))


def config_ports(build: EngineBuild, shapes, frac_bits: int, qmodel=None, zero_skip: bool = False) -> dict:
    """Values of the cfg_* ports for `shapes` [(fan_in, fan_out)] and one F, or the
    per-layer shifts, precisions and input shift of a models.quant.QuantModel."""
    dw = build.dim_w
    outs = 0
    shift = 0
    int8 = 0
    for l, (_, o) in enumerate(shapes):
        outs |= o << (l * dw)
        shift |= (qmodel.shifts[l] if qmodel is not None else frac_bits) << (l * 4)
        if qmodel is not None and qmodel.precisions[l] == "int8":
            int8 |= 1 << l
    return {"cfg_num_layers": len(shapes), "cfg_in_dim": shapes[0][0],
            "cfg_out_dims": outs, "cfg_shift": shift, "cfg_int8": int8, "cfg_sparse": 0,
            "cfg_input_shift": qmodel.input_shift if qmodel is not None else 0,
            "cfg_zero_skip": int(bool(zero_skip)),
            # one model at word 0 (contracts s.10.6): a harness that does not drive the offsets
            # leaves them X, and the engine rejects the model as past its memories
            "cfg_wbase_off": 0, "cfg_bbase_off": 0}


def engine_counts(build: EngineBuild, precisions, shapes, inputs, zero_skip: bool) -> list[tuple]:
    """Per layer, (beats, MACs) the array issues for a batch: ``inputs`` [layer] is the
    [B, fan_in] array of the values stored as that layer's input (models.quant QTrace.inputs).

    The RTL runs the residue-class schedule of contracts s.8.7 (models.quant.skip_beats):
    a round takes max(1, max_c nnz_c) beats with skipping, ceil(fan_in / S) dense; each
    input a lane issues is one MAC per neuron (MACs = fan_out x issued inputs)."""
    from models.quant import skip_beats
    out = []
    for prec, (fan_in, fan_out), x in zip(precisions, shapes, inputs):
        x = np.atleast_2d(np.asarray(x))
        S, rounds = lanes_of(build, prec), ceil_div(fan_out, build.P)
        if zero_skip:
            beats = int(skip_beats(x, S).sum()) * rounds
            macs = int(np.count_nonzero(x)) * fan_out
        else:
            beats = x.shape[0] * ceil_div(fan_in, S) * rounds
            macs = x.shape[0] * fan_in * fan_out
        out.append((beats, macs))
    return out


@dataclass(frozen=True)
class VecShapeConfig:
    """A VEC_OUT phase's shape and F: a bottom-MLP-like stack whose last layer has any
    size (a ModelConfig's top MLP must end in one logit). What models.golden.run_layers
    reads (frac_bits, acc_w) plus the shape."""

    name: str
    in_dim: int
    mlp: tuple
    frac_bits: int = 8
    acc_w: int = 48

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        return list(zip((self.in_dim,) + self.mlp[:-1], self.mlp))

    @property
    def feature_len(self) -> int:
        return self.in_dim


def shape_config(in_dim: int, mlp: list[int], frac_bits: int = 8, name: str = "shape",
                 seed: int = 1, vec: bool = False):
    """A golden-model config with the given MLP shape (tables only set the feature length);
    with ``vec`` a VecShapeConfig (last layer of any size, a VEC_OUT build)."""
    if vec:
        return VecShapeConfig(name, in_dim, tuple(mlp), frac_bits)
    tables, left, i = [], in_dim, 0
    while left > 0:
        d = min(256, left)
        tables.append(TableConfig(f"t{i}", 1, d, "onchip"))
        left -= d
        i += 1
    return ModelConfig(name, tables, list(mlp), frac_bits=frac_bits, seed=seed)


@dataclass(frozen=True)
class ModelImages:
    """Several models side by side in one weight and one bias image (contracts s.10.6).

    ``weights[p]`` / ``biases[p]``: the words of weight / bias bank ``p`` from address 0,
    model after model; ``offsets[m]``: (MLP_WBASE, MLP_BBASE) of model ``m``, i.e. where
    its words start in every bank (its own s.6 layout from there). ``n_w`` / ``n_b``:
    words per bank (the DMA's DMA_WORDS)."""

    weights: list
    biases: list
    offsets: list

    @property
    def n_w(self) -> int:
        return len(self.weights[0])

    @property
    def n_b(self) -> int:
        return len(self.biases[0])


def model_extent(build: EngineBuild, shapes, precisions=None) -> tuple[int, int]:
    """(weight words, bias words) one model takes in every bank (s.6 layout from 0)."""
    plan = bank_plan(build, shapes, precisions)
    return plan[-1]["wbase"] + plan[-1]["cycles"], plan[-1]["bbase"] + plan[-1]["rounds"]


def combined_images(build: EngineBuild, models, check: bool = True) -> ModelImages:
    """``models`` [(weights, precisions or None)]: each model's s.6 words placed after the
    previous model's, per bank (the DMA writes from word 0, so the host concatenates).
    ``check``: raise ValueError when the whole image does not fit WDEPTH / BDEPTH."""
    P = build.P
    wimg = [[] for _ in range(P)]
    bimg = [[] for _ in range(P)]
    offsets = []
    for weights, precisions in models:
        shapes = [(np.shape(w)[1], np.shape(w)[0]) for w, _ in weights]
        n_w, n_b = model_extent(build, shapes, precisions)
        woff, boff = len(wimg[0]), len(bimg[0])
        offsets.append((woff, boff))
        for bank in wimg:
            bank.extend([0] * n_w)
        for bank in bimg:
            bank.extend([0] * n_b)
        for is_bias, pe, addr, data in weight_writes(build, weights, precisions):
            if is_bias:
                bimg[pe][boff + addr] = data
            else:
                wimg[pe][woff + addr] = data
    if check and (len(wimg[0]) > build.WDEPTH or len(bimg[0]) > build.BDEPTH):
        raise ValueError(f"models: {len(wimg[0])} weight / {len(bimg[0])} bias words per bank exceed "
                         f"WDEPTH {build.WDEPTH} / BDEPTH {build.BDEPTH}")
    return ModelImages(wimg, bimg, offsets)
