"""`make sim PIPELINE=recpipe`: RecPipe two-stage ranking on the accelerator top
(issue 18; contracts s.10, s.10.6).

The ranker (a built-in model with importance decay DECAY, s.10.5) and the
filter derived from it (hidden widths FILTER) are loaded side by side in the
MLP's weight memory; the top-k unit sits after the MLP. Each request (one
user, CANDIDATES candidates, s.10.3) runs stage 1 (filter over all N, the unit
keeps KEEP), then stage 2 (ranker over the survivors, the unit returns the
top TOPK), the host switching the model between stages by CSR. Every answer
(ids, order, scores) is checked against models.recpipe.pipeline; then the
ranker alone scores all N of the first request (the single-stage baseline,
checked against models.recpipe.reference). Prints latency per request, both
ways, requests/s at CLOCK_MHZ, the MLP-idle bubble between the stages (what
overlapping them could win at most), and recall@K / NDCG@K against the
ranker alone, on the RTL's answers and on more golden-only requests.
Writes build/sim/recpipe_result.json; exits non-zero on any mismatch.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

import numpy as np

from sim.runner import SimFailure
from sim.toolchain import BUILD_ROOT

RUN_NAME = "sim_recpipe_top"
TOPK_K_MAX, TOPK_N_MAX = 256, 4096        # the accelerator's top-k unit (contracts s.10.2)


class UsageError(ValueError):
    """Bad command-line input: one line naming the knob."""


def step(msg: str) -> None:
    print(f"[sim] {msg}", flush=True)


def parse_widths(text: str) -> tuple[int, ...]:
    try:
        w = tuple(int(v) for v in str(text).split("x"))
    except ValueError:
        raise UsageError(f"FILTER={text}: hidden widths like 256x128x128") from None
    if not w or min(w) < 1:
        raise UsageError(f"FILTER={text}: hidden widths like 256x128x128, each at least 1")
    return w


def check(model: str, decay: float, widths: tuple[int, ...], n: int, k_keep: int, top_k: int,
          requests: int) -> None:
    """Every knob, named, before anything is built."""
    from models.config import ConfigError, builtin
    from models.recpipe import ITEM_TABLES, MAX_DECAY, check_sizes, table_split

    if model not in ITEM_TABLES:
        raise UsageError(f"CONFIG={model}: PIPELINE=recpipe runs {', '.join(ITEM_TABLES)} "
                         f"(the models with a user/item table split, contracts s.10.3)")
    if not 0.0 <= decay <= MAX_DECAY:
        raise UsageError(f"DECAY={decay}: in 0..{MAX_DECAY}")
    if requests < 1:
        raise UsageError(f"REQUESTS={requests}: at least 1")
    cfg = builtin(model)
    hidden = list(cfg.mlp[:-1])
    if len(widths) > len(hidden) or any(w > h for w, h in zip(widths, hidden)):
        raise UsageError(f"FILTER={'x'.join(map(str, widths))}: at most {len(hidden)} hidden layers, "
                         f"each no wider than the ranker's {'x'.join(map(str, hidden))} (contracts s.10.5)")
    key_rows = cfg.tables[table_split(cfg).key].rows
    if n > key_rows:
        raise UsageError(f"CANDIDATES={n}: the catalog ({cfg.tables[table_split(cfg).key].name}) has {key_rows} items")
    try:
        check_sizes(n, k_keep, top_k, TOPK_K_MAX, TOPK_N_MAX)
    except ConfigError as e:
        field = str(e).split(":")[0]
        knob = {"n": ("CANDIDATES", n), "k_keep": ("KEEP", k_keep), "top_k": ("TOP_K", top_k)}.get(field)
        raise UsageError(f"{knob[0]}={knob[1]}: {e}" if knob else str(e)) from None


def recpipe_build(model: str, widths: tuple[int, ...], decay: float, pes: int, lanes: int):
    """The `make sim` platform of the model with the top-k unit, and a weight and bias
    memory deep enough for the ranker and the filter side by side (s.10.6)."""
    from models.config import builtin
    from models.recpipe import calib_settings, load_filter
    from tb.mlp.mlp_layout import EngineBuild, bank_plan
    from tb.top.dut import build_for_model

    build = build_for_model(model, pes, lanes)
    filt = load_filter(model, widths, decay, **calib_settings(model))
    pow2 = lambda v: 1 << max(0, int(v) - 1).bit_length()  # noqa: E731
    eb = EngineBuild(P=pes, U=lanes)
    words = biases = 0
    for cfg in (builtin(model), filt.cfg):
        plan = bank_plan(eb, list(cfg.layer_shapes))
        words += plan[-1]["wbase"] + plan[-1]["cycles"]
        biases += plan[-1]["bbase"] + plan[-1]["rounds"]
    mlp = dataclasses.replace(build.mlp, WDEPTH=max(build.mlp.WDEPTH, pow2(words)),
                              BDEPTH=max(build.mlp.BDEPTH, pow2(biases)))
    return dataclasses.replace(build, mlp=mlp, topk=1, topk_k_max=TOPK_K_MAX, topk_n_max=TOPK_N_MAX)


def run_rtl(model: str, decay: float, widths: tuple[int, ...], n: int, k_keep: int, top_k: int,
            requests: int, pes: int, lanes: int, seed: int = 1, name: str = RUN_NAME,
            quality_requests: int = 16, preset: str = "u280", mhz: float = 120.0) -> dict:
    """Run TopRecPipeSimTest and return its result, with the model's cycles beside it."""
    from apps.microrec_sim import ProgressTail
    from models.recpipe import calib_settings, load_filter, load_ranker
    from tb.top.dut import BENCH

    build = recpipe_build(model, widths, decay, pes, lanes)
    knob = json.dumps({"decay": decay, "widths": list(widths), "n": n, "k_keep": k_keep, "top_k": top_k,
                       "requests": requests, "calib": calib_settings(model)})
    t0 = time.perf_counter()
    try:
        with ProgressTail(BUILD_ROOT / "tests" / name / "sim.log"):
            res = BENCH.run(build, "TopRecPipeSimTest", seed, name=name, configs=[model], preset=preset, mhz=mhz,
                            recpipe=knob, coverage=False, waves=False)
    except SimFailure as exc:
        return {"ok": False, "error": str(exc), "mismatches": -1}
    out = json.loads((res.test_dir / "recpipe_result.json").read_text())
    rank, filt = load_ranker(model, decay), load_filter(model, widths, decay, **calib_settings(model))
    c_r, c_f = rank.cycles(pes, lanes), filt.cycles(pes, lanes)
    reqs = out["requests"]
    two = [r["two_stage_cycles"] for r in reqs]
    s1 = [r["stage1_cycles"] for r in reqs]
    out.update(
        ok=out["mismatches"] == 0, wall_s=time.perf_counter() - t0, log=str(res.log), filter="x".join(map(str, widths)),
        n=n, k_keep=k_keep, top_k=top_k, c_filter=c_f, c_ranker=c_r,
        two_stage_cycles=int(np.median(two)), model_two_stage=n * c_f + k_keep * c_r,
        model_single=n * c_r,
        overhead={"stage1": int(np.median(s1)) - n * c_f,
                  "stage2": int(np.median(two)) - int(np.median(s1)) - k_keep * c_r,
                  "single": out["single_cycles"] - n * c_r})
    out["recall"] = float(np.mean([r["recall"] for r in reqs]))
    if quality_requests:
        out["golden_quality"] = golden_quality(model, decay, widths, n, k_keep, top_k, quality_requests, seed)
    return out


def golden_quality(model, decay, widths, n, k_keep, top_k, count, seed) -> dict:
    """recall@K and NDCG@K of the same (filter, k) over more requests, golden model only."""
    from models.config import builtin
    from models.recpipe import (calib_settings, load_filter, load_ranker, make_requests, ndcg_at, pipeline,
                                recall_at, reference)

    rank, filt = load_ranker(model, decay), load_filter(model, widths, decay, **calib_settings(model))
    rec, nd = [], []
    for r in make_requests(builtin(model), count, n, seed=seed + 1000):
        ans = pipeline(filt, rank, r.indices, k_keep, top_k).ids
        ref = reference(rank, r.indices, top_k)[0]
        rec.append(recall_at(ans, ref))
        nd.append(ndcg_at(ans, ref))
    return {"requests": count, "recall": float(np.mean(rec)), "recall_min": float(np.min(rec)),
            "ndcg": float(np.mean(nd))}


def summary(out: dict, args) -> None:
    mhz = args.clock_mhz
    print("\n==================== make sim PIPELINE=recpipe summary ====================")
    print(f"result            : {'PASS' if out.get('ok') else 'FAIL'}")
    if "requests" not in out:
        print(f"error             : {out.get('error', '?')}")
        return
    us = lambda c: c / mhz  # noqa: E731
    print(f"models            : ranker {args.config} (decay {args.decay}), MLP {out['ranker_shape']} = "
          f"{out['c_ranker']} cycles/item; filter {out['filter_shape']} = {out['c_filter']} cycles/item on "
          f"{args.pes} x {args.lanes} MAC lanes, side by side in the weight memory")
    print(f"requests          : {len(out['requests'])} of N = {out['n']} candidates, keep {out['k_keep']}, "
          f"top {out['top_k']}; answers (ids, order, scores) checked against models.recpipe.pipeline, "
          f"mismatches {out['mismatches']}; ranker alone checked against models.recpipe.reference")
    two, single = out["two_stage_cycles"], out["single_cycles"]
    print(f"latency/request   : two-stage {two} cycles = {us(two):.1f} us at {mhz:g} MHz (model {out['model_two_stage']}: "
          f"N c_f + k c_r); ranker alone {single} cycles = {us(single):.1f} us (model {out['model_single']})")
    print(f"speedup           : {single / two:.2f}x lower latency than the ranker alone over all N "
          f"(goal >= 4x at recall@10 >= 0.9)")
    print(f"requests/s        : {mhz * 1e6 / two:.0f} two-stage, {mhz * 1e6 / single:.0f} ranker alone, at "
          f"{mhz:g} MHz (requests one after another)")
    b = out["bubble"]
    print(f"stage overlap     : MLP idle {b['mlp_idle']} of {two} cycles per request ({b['mlp_idle'] / two:.1%}), "
          f"{b['between_stages']} of them between the stages (stage 1's last answer beat to stage 2's first query: the host switching the model): "
          f"overlapping stage 1 of request r+1 with stage 2 of r could save at most this; the array is shared and "
          f"the model switch needs an idle top (contracts s.10.6)")
    q = out.get("golden_quality")
    print(f"quality (RTL)     : recall@{out['top_k']} {out['recall']:.3f}, NDCG {np.mean([r['ndcg'] for r in out['requests']]):.3f} "
          f"over the {len(out['requests'])} simulated requests")
    if q:
        print(f"quality (golden)  : recall@{out['top_k']} {q['recall']:.3f} (worst {q['recall_min']:.2f}), NDCG "
              f"{q['ndcg']:.3f} over {q['requests']} more requests of the same pipeline")
    print(f"simulation        : whole run {out['wall_s']:.0f} s wall incl. build; log {out['log']}")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="microrec_small")
    ap.add_argument("--decay", type=float, default=0.75)
    ap.add_argument("--filter", default="256x128x128")
    ap.add_argument("--candidates", type=int, default=1024)
    ap.add_argument("--keep", type=int, default=64)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--requests", type=int, default=2)
    ap.add_argument("--quality-requests", type=int, default=16)
    ap.add_argument("--pes", type=int, default=128)
    ap.add_argument("--lanes", type=int, default=24)
    ap.add_argument("--preset", default="u280")
    ap.add_argument("--clock-mhz", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        widths = parse_widths(args.filter)
        check(args.config, args.decay, widths, args.candidates, args.keep, args.top_k, args.requests)
    except UsageError as e:
        print(f"make sim: {e}", file=sys.stderr)
        return 2
    step(f"RecPipe on the accelerator top: {args.config}, filter {args.filter}, N {args.candidates}, keep "
         f"{args.keep}, top {args.top_k}, {args.requests} request(s); building with Verilator if needed ...")
    out = run_rtl(args.config, args.decay, widths, args.candidates, args.keep, args.top_k, args.requests,
                  args.pes, args.lanes, args.seed, quality_requests=args.quality_requests, preset=args.preset,
                  mhz=args.clock_mhz)
    summary(out, args)
    path = BUILD_ROOT / "sim" / "recpipe_result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=str))
    print(f"result file       : {path}")
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
