"""`python -m apps.benchmarks.model_sweep` (`make bench-model`): lookup RTL sweeps, the performance model, plots.

For tiny, microrec_small (the 47-table shape microrec_small_47, without
products and with the planner's), dlrm_kaggle and microrec_large, without
Cartesian products (`plan_none`) and with them (`plan_search`), over H HBM
channels + 2 DDR channels (fewer channels: more lookups per channel, i.e.
more DRAM rounds):

- the lookup subsystem RTL (tb/hdl/lookup_tb_top.sv) over the HBM model
  with `u280` HBM / `ddr4` DDR timing restated at 140 MHz, placed by the
  planner's rule (apps/benchmarks/tb_model_sweep.py): unloaded latency (median,
  queries spaced well beyond the channels' busy time) and throughput
  (queries back to back);
- the MLP engine's cycles per item from its bank plan at 128 PEs x 24 lanes
  (tb/mlp/mlp_layout.py; the engine's measured steady state equals it);
- models/perf_model.py's prediction of the same placements, with constants
  calibrated on the runs without products at the fewest and the most
  channels of each model and checked on the others (held out);
- end to end: predicted (perf_model: lookup + MLP stages) and simulated
  (RTL lookup latency + MLP bank-plan cycles; throughput = the slower of the
  RTL lookup throughput and the MLP interval).
Also MicroRec's published numbers and the golden model's own CPU speed
(models.golden.golden_infer, microrec_small, batch 1 and 2048) measured in
this run. One simulation at a time; one Verilator build per channel count
(cached by sim.runner, about 1-3 minutes each the first time).

Default: HBM channels 1, 8, 32 (+2 DDR) for every model, 120 queries per
latency run and 240 per throughput run. `--full`: channels 1, 8, 16, 32.
Writes build/bench/bench.json, bench.md and PNG plots in build/bench/.
Cycles are simulated cycles; nothing here times the host except the golden
model's CPU speed.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

from models.config import builtin
from models.perf_model import ENGINE_MLP, PerfParams, Sample, calibrate, mlp_macs, predict, predict_lookup
from models.placement import PlacementError
from models.planner import plan_none, plan_search
from sim.toolchain import BUILD_ROOT
from tb.lookup.dut import SWEEP_DDR, sweep_build
from tb.lookup.layout import LookupBuild
from tb.lookup.layout import planner_platform as bench_platform

CLOCK_MHZ = 140.0
DDR = SWEEP_DDR
OUT = BUILD_ROOT / "bench"

# label -> (config without products, on-chip banks the platform offers)
MODELS = {
    "tiny": ("tiny", 4),
    "microrec_small": ("microrec_small_47", 4),   # MicroRec: 8 tables in 4 PLRAM banks
    "dlrm_kaggle": ("dlrm_kaggle", 4),
    "microrec_large": ("microrec_large", 8),      # 16 on chip, as MicroRec Table 3 (68 in DRAM)
}
FIT_DESC = "the runs without products at the fewest and the most channels of each model"


def in_fit_set(p: dict, channels) -> bool:
    """Calibration runs: no products, fewest and most channels; the rest are held out."""
    return p["variant"] == "none" and p["hbm"] in (min(channels), max(channels))
DEFAULT_CHANNELS = (1, 8, 32)
FULL_CHANNELS = (1, 8, 16, 32)


def base_params() -> PerfParams:
    """The lookup RTL: 64 AXI IDs per channel (one per read in flight), the query
    arrives in one beat, on-chip RAMs are pipelined (one read per cycle); the
    refresh of the memory model's presets at this clock. Latencies and
    overheads here are starting points for `calibrate`."""
    from tb.hbm.config import ddr4, u280

    h, d = u280(axi_mhz=CLOCK_MHZ), ddr4(axi_mhz=CLOCK_MHZ)
    return PerfParams(clock_hz=CLOCK_MHZ * 1e6, outstanding=1 << sweep_build(1).id_w,
                      onchip_outstanding=64, indices_per_beat=sweep_build(1).t_max,
                      lat_hbm=h.closed_latency, lat_ddr=d.closed_latency, lat_onchip=4,
                      lookup_overhead=10, layer_overhead=0,
                      hbm_refi=h.t_refi, hbm_rfc=h.t_rfc, hbm_ref_step=h.ref_phase_step,
                      ddr_refi=d.t_refi, ddr_rfc=d.t_rfc, ddr_ref_step=d.ref_phase_step)


BASE_PARAMS = base_params()
FIT = ("lat_hbm", "lat_ddr", "lat_onchip", "lookup_overhead", "lookup_issue")

# docs/reference.md (MicroRec Tables 2 and 3)
MICROREC = {
    "microrec_small": {"lookup_ns": (774.0, 458.0), "e2e_us": 16.3, "items_per_s": 3.05e5,
                       "cpu_b1_ms": 3.34, "cpu_items_per_s": 7.27e4},
    "microrec_large": {"lookup_ns": (1380.0, 1030.0), "e2e_us": 22.6, "items_per_s": 1.95e5,
                       "cpu_b1_ms": None, "cpu_items_per_s": 3.59e4},
}


def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def lookup_build(hbm: int) -> LookupBuild:
    return sweep_build(hbm)


# ---- model side (pure Python) ----------------------------------------------

def plan_points(channels, models=MODELS) -> list[dict]:
    """Every sweep point: plan, placement and RTL feasibility (no simulation)."""
    pts = []
    for label, (cfg_name, banks) in models.items():
        cfg = builtin(cfg_name) if isinstance(cfg_name, str) else cfg_name
        cfg_name = cfg.name
        for hbm in channels:
            build = lookup_build(hbm)
            plat = bench_platform(build, DDR, banks)
            for variant, fn in (("none", plan_none), ("cartesian", plan_search)):
                pt = {"model": label, "config": cfg_name, "hbm": hbm, "ddr": DDR, "banks": banks,
                      "variant": variant, "feasible": True}
                try:
                    plan = fn(cfg, plat)
                except PlacementError as e:
                    pt.update(feasible=False, reason=f"placement: {e}")
                    pts.append(pt)
                    continue
                pl = plan.placement
                lpc = max(pl.lookups_per_channel().values(), default=0)
                pt.update(pairs=[list(p) for p in plan.pairs], plan=plan.summary(),
                          tables=plan.num_physical, dram_tables=plan.dram_lookups,
                          dram_rounds=plan.dram_rounds, storage_bytes=plan.storage_bytes,
                          storage_pct=plan.storage_pct, lookups_per_channel_max=lpc,
                          placement=pl)
                why = rtl_limits(cfg, build, pl)
                if why:
                    pt.update(rtl_feasible=False, rtl_reason=why)
                else:
                    pt["rtl_feasible"] = True
                pts.append(pt)
    return pts


def rtl_limits(cfg, build: LookupBuild, pl) -> str | None:
    """Why this build's RTL bench cannot run the placement (None: it can)."""
    try:
        build.check_fits(cfg, pl.descriptors)
    except ValueError as e:
        return str(e)
    lpc = max(pl.lookups_per_channel().values(), default=0)
    lpb = max(pl.lookups_per_bank().values(), default=0)
    if max(lpc, lpb) > build.list_max:
        return f"{max(lpc, lpb)} tables on one engine exceed LIST_MAX={build.list_max}"
    if lpc > build.nreg:
        return f"{lpc} tables on one channel exceed the memory model's NREG={build.nreg}"
    return None


def mlp_cycles(cfg) -> int:
    """Cycles per item of the MLP engine (128 x 24): sum of beats x rounds of its bank plan."""
    return sum(mlp_macs(cfg, ENGINE_MLP))


def fit_params(points, base: PerfParams = BASE_PARAMS):
    """Calibrate the lookup constants on the measured points marked `fit`."""
    samples = [Sample(p["placement"], latency_cycles=p["rtl"]["latency_median"], lookup_only=True)
               for p in points if p.get("fit") and p.get("rtl")]
    if not samples:
        return base
    return calibrate(samples, base, fit=FIT).params


def rel_err(pred: float, meas: float) -> float:
    return (pred - meas) / meas


# ---- RTL side -----------------------------------------------------------------

def run_rtl(pt: dict, queries_lat: int, queries_thr: int, seed: int = 1) -> dict:
    from tb.lookup.dut import BENCH

    build = lookup_build(pt["hbm"])
    # unloaded: mean gap between queries >= 4x the predicted busy time of a channel
    iv = predict_lookup(pt["placement"], BASE_PARAMS).interval_cycles
    gap = max(19.0, 4.0 * iv)
    in_idle = gap / (1.0 + gap)
    out = {"in_idle": round(in_idle, 4)}
    for kind, q, idle in (("lat", queries_lat, in_idle), ("thr", queries_thr, 0.0)):
        t0 = time.perf_counter()
        res = BENCH.run(build, "BenchLookupTest", seed, module="apps.benchmarks.tb_model_sweep",
                        name=f"bench_{pt['model']}_{pt['variant']}_h{pt['hbm']}_{kind}",
                        config=pt["config"], preset="u280", mhz=CLOCK_MHZ, queries=q, in_idle=idle,
                        pairs=pt["pairs"], ddr=DDR, banks=pt["banks"])
        sb = json.loads((res.test_dir / "scoreboard.json").read_text())
        if sb.get("mismatches") or sb.get("checked") != q:
            raise RuntimeError(f"{pt['model']} {pt['variant']} h{pt['hbm']}: scoreboard {sb}")
        span = max(1, sb["last_out"] - sb["first_sent"])
        if kind == "lat":
            out.update(latency_min=sb["latency_min"], latency_median=sb["latency_median"],
                       latency_p99=sb["latency_p99"], latency_max=sb["latency_max"])
        else:
            out.update(throughput=sb["checked"] / span)
        out[f"wall_{kind}_s"] = round(time.perf_counter() - t0, 2)
    return out


# ---- golden CPU speed -----------------------------------------------------------

def golden_speed(seed: int = 1, runs: int = 30) -> dict:
    from models.golden import golden_infer, mlp_weights
    from models.queries import uniform_queries

    cfg = builtin("microrec_small")
    w = mlp_weights(cfg)
    idx = uniform_queries(cfg, 2048, seed=seed)
    golden_infer(cfg, idx[:8], w)
    t0 = time.perf_counter()
    golden_infer(cfg, idx, w)
    t_b = time.perf_counter() - t0
    lat = []
    for i in range(runs):
        t1 = time.perf_counter()
        golden_infer(cfg, idx[i:i + 1], w)
        lat.append(time.perf_counter() - t1)
    return {"batch1_median_ms": statistics.median(lat) * 1e3, "batch2048_items_per_s": 2048 / t_b}


# ---- report -----------------------------------------------------------------------

def us(c: float) -> float:
    return c / CLOCK_MHZ


def fmt(v, spec=".0f", none="-"):
    return none if v is None else format(v, spec)


def table(points, params: PerfParams, golden: dict | None) -> str:
    head = ("| model | variant | HBM+DDR ch | tables (DRAM) | rounds | storage | lookup pred cyc | "
            "lookup RTL cyc (median) | err | lookup RTL ns | lookup q/cycle RTL / pred | MLP cyc/item | "
            "e2e latency pred / sim | e2e us (sim) | e2e items/s pred / sim |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for p in points:
        ch = f"{p['hbm']}+{p['ddr']}"
        if not p["feasible"]:
            lines.append(f"| {p['model']} | {p['variant']} | {ch} | infeasible: {p['reason'][:90]} |"
                         + " |" * 11)
            continue
        r = p.get("rtl")
        lk = p["pred_lookup"]
        e2e = p["pred_e2e"]
        mlp = p["mlp_cycles"]
        err = fmt(100 * p["err_latency"], "+.1f") + "%" if r else "-"
        sim_lat = r["latency_median"] + mlp if r else None
        sim_ips = min(r["throughput"], 1.0 / mlp) * CLOCK_MHZ * 1e6 if r else None
        rtl_col = f"{r['latency_median']}" if r else f"not run ({p.get('rtl_reason', '')[:60]})"
        lines.append(
            f"| {p['model']} | {p['variant']} | {ch} | {p['tables']} ({p['dram_tables']}) | {p['dram_rounds']} | "
            f"{p['storage_pct']:.1f}% | {lk['latency_cycles']} | {rtl_col} | {err} | "
            f"{fmt(r and r['latency_median'] * 1e3 / CLOCK_MHZ)} | "
            f"{fmt(r and r['throughput'], '.3f')} / {lk['items_per_cycle']:.3f} | {mlp} | "
            f"{e2e['latency_cycles']} / {fmt(sim_lat)} | {fmt(sim_lat and us(sim_lat), '.2f')} | "
            f"{e2e['items_per_s']:.3g} / {fmt(sim_ips, '.3g')} |")
    out = ["", f"Clock {CLOCK_MHZ:.0f} MHz (u280 HBM / ddr4 DDR timing restated at it). "
                 "Lookup: the lookup RTL alone; e2e sim = RTL lookup latency + MLP bank-plan cycles "
                 "(128 PEs x 24 lanes), e2e throughput = min(RTL lookup throughput, 1 / MLP cycles).",
           ""] + lines
    out += ["", "Reference points (docs/reference.md) and this machine's golden model:", "",
            "| what | latency | throughput |", "|---|---|---|"]
    for m, ref in MICROREC.items():
        out.append(f"| MicroRec {m}: lookup, no products -> products | {ref['lookup_ns'][0]:.0f} -> "
                   f"{ref['lookup_ns'][1]:.0f} ns | |")
        out.append(f"| MicroRec {m}: FPGA 16-bit end to end (U280, 120 MHz) | {ref['e2e_us']} us | "
                   f"{ref['items_per_s']:.3g} items/s |")
        out.append(f"| MicroRec {m}: CPU (16 vCPU, TF Serving) | "
                   f"{fmt(ref['cpu_b1_ms'], '.2f')} ms (B=1) | {ref['cpu_items_per_s']:.3g} items/s (B=2048) |")
    out.append("| NumPy float32, 2 cores (reference.md, microrec_small) | 0.42 ms (B=1) | 4.7e4 items/s (B=2048) |")
    if golden:
        out.append(f"| golden_infer (bit-exact fixed point, this run, microrec_small) | "
                   f"{golden['batch1_median_ms']:.2f} ms (B=1) | "
                   f"{golden['batch2048_items_per_s']:.3g} items/s (B=2048) |")
    out += ["", f"Performance model constants (fitted on {FIT_DESC}): "
            + ", ".join(f"{k}={getattr(params, k)}" for k in FIT)
            + f", outstanding={params.outstanding}, indices_per_beat={params.indices_per_beat}, "
            f"refresh HBM tREFI/tRFC/step {params.hbm_refi}/{params.hbm_rfc}/{params.hbm_ref_step}, "
            f"DDR {params.ddr_refi}/{params.ddr_rfc}/{params.ddr_ref_step} cycles"]
    return "\n".join(out)


def validation(points) -> tuple[str, dict]:
    """Per model: lookup latency errors of the fit runs and of the held-out runs."""
    lines = ["| model | fit runs: max abs error | held-out runs | held out: max abs error | mean abs | "
             "all runs: errors (channels/variant) | throughput error max abs |",
             "|---|---|---|---|---|---|---|"]
    summary = {}
    for m in dict.fromkeys(p["model"] for p in points):
        pts = [p for p in points if p["model"] == m and p.get("rtl") and not p.get("duplicate")]
        if not pts:
            continue
        fit = [abs(p["err_latency"]) for p in pts if p["fit"]]
        held = [abs(p["err_latency"]) for p in pts if not p["fit"]]
        summary[m] = {"fit_runs": len(fit), "fit_max_abs": max(fit, default=None),
                      "held_runs": len(held), "held_max_abs": max(held, default=None),
                      "held_mean_abs": sum(held) / len(held) if held else None,
                      "max_abs": max(fit + held),
                      "thr_max_abs": max(abs(p["err_throughput"]) for p in pts),
                      "errors": {f"{p['hbm']}+{p['ddr']} {p['variant']}": round(p["err_latency"], 4) for p in pts}}
        allerr = ", ".join(f"{p['hbm']}{'c' if p['variant'] == 'cartesian' else ''}: {100 * p['err_latency']:+.0f}%"
                           for p in pts)
        pc = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
        lines.append(f"| {m} | {pc(summary[m]['fit_max_abs'])} | {len(held)} | {pc(summary[m]['held_max_abs'])} | "
                     f"{pc(summary[m]['held_mean_abs'])} | {allerr} | {pc(summary[m]['thr_max_abs'])} |")
    lines.append("")
    lines.append("Runs: distinct simulations (a Cartesian point whose plan equals the no-product plan is "
                 "the same run, counted once); 'Nc' = with products at N HBM channels.")
    return "\n".join(lines), summary


# ---- plots --------------------------------------------------------------------------

def plots(points, out_dir: Path) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    models = list(dict.fromkeys(p["model"] for p in points))
    # 1. lookup latency vs channels
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.8), squeeze=False)
    for ax, m in zip(axes[0], models):
        for variant, color in (("none", "tab:red"), ("cartesian", "tab:blue")):
            pts = [p for p in points if p["model"] == m and p["variant"] == variant and p["feasible"]]
            xs = [p["hbm"] for p in pts]
            ax.plot(xs, [p["pred_lookup"]["latency_cycles"] for p in pts], "--", color=color,
                    label=f"{variant}: model")
            sim = [(p["hbm"], p["rtl"]["latency_median"]) for p in pts if p.get("rtl")]
            if sim:
                ax.plot(*zip(*sim), "o-", color=color, label=f"{variant}: RTL median")
            for p in pts:
                ax.annotate(f"{p['dram_rounds']}r", (p["hbm"], p["pred_lookup"]["latency_cycles"]),
                            textcoords="offset points", xytext=(4, 4 if variant == "none" else -10),
                            fontsize=7, color=color)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted({p["hbm"] for p in points}))
        ax.set_xticklabels([str(x) for x in sorted({p["hbm"] for p in points})])
        ax.set_xlabel(f"HBM channels (+{DDR} DDR)")
        ax.set_ylabel(f"lookup latency, cycles @ {CLOCK_MHZ:.0f} MHz")
        ax.set_title(m)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Lookup latency vs memory channels (unloaded; 'Nr' = DRAM rounds)")
    fig.tight_layout()
    paths.append(out_dir / "latency_vs_channels.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    # 2. rounds and storage with/without products, per model and channel count
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.2))
    labels, r_none, r_cart, s_none, s_cart = [], [], [], [], []
    for m in models:
        for h in sorted({p["hbm"] for p in points}):
            pn = next((p for p in points if p["model"] == m and p["hbm"] == h and p["variant"] == "none"), None)
            pc = next((p for p in points if p["model"] == m and p["hbm"] == h and p["variant"] == "cartesian"), None)
            if pn is None or not pn["feasible"] or pc is None or not pc["feasible"]:
                continue
            labels.append(f"{m}\n{h}+{DDR}")
            r_none.append(pn["dram_rounds"])
            r_cart.append(pc["dram_rounds"])
            s_none.append(pn["storage_bytes"] / 2**30)
            s_cart.append(pc["storage_bytes"] / 2**30)
    x = range(len(labels))
    w = 0.4
    a1.bar([i - w / 2 for i in x], r_none, w, label="no products", color="tab:red")
    a1.bar([i + w / 2 for i in x], r_cart, w, label="Cartesian (plan_search)", color="tab:blue")
    for i, (a, b) in enumerate(zip(r_none, r_cart)):
        a1.annotate(str(a), (i - w / 2, max(a, 0.9)), ha="center", va="bottom", fontsize=6)
        a1.annotate(str(b), (i + w / 2, max(b, 0.9)), ha="center", va="bottom", fontsize=6)
    a1.set_yscale("symlog", linthresh=1)
    a1.set_ylabel("DRAM rounds (max lookups per channel)")
    a2.bar([i - w / 2 for i in x], s_none, w, label="no products", color="tab:red")
    a2.bar([i + w / 2 for i in x], s_cart, w, label="Cartesian (plan_search)", color="tab:blue")
    for i, (a, b) in enumerate(zip(s_none, s_cart)):
        if a:
            a2.annotate(f"{100 * (b / a - 1):+.1f}%", (i + w / 2, b), ha="center", va="bottom", fontsize=6)
    a2.set_yscale("log")
    a2.set_ylabel("table storage, GiB")
    for ax in (a1, a2):
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, fontsize=6.5, rotation=60)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    a1.set_title("DRAM rounds")
    a2.set_title("Storage (label: overhead of the products)")
    fig.tight_layout()
    paths.append(out_dir / "rounds_storage.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    # 3. predicted vs simulated
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.8))
    markers = dict(zip(models, "osD^v"))
    colors = dict(zip(models, ("tab:green", "tab:blue", "tab:orange", "tab:purple", "tab:red")))
    for m in models:
        for fit in (True, False):
            pts = [p for p in points if p["model"] == m and p.get("rtl") and p["fit"] == fit
                   and not p.get("duplicate")]
            if not pts:
                continue
            kw = dict(marker=markers[m], edgecolors=colors[m], s=40,
                      facecolors=colors[m] if fit else "none",
                      label=f"{m} ({'fit' if fit else 'held out'})")
            a1.scatter([p["rtl"]["latency_median"] for p in pts],
                       [p["pred_lookup"]["latency_cycles"] for p in pts], **kw)
            a2.scatter([p["rtl"]["throughput"] for p in pts],
                       [p["pred_lookup"]["items_per_cycle"] for p in pts], **kw)
    for ax, what in ((a1, "lookup latency, cycles"), (a2, "lookup throughput, queries/cycle")):
        lo, hi = ax.get_xlim()
        lo2, hi2 = ax.get_ylim()
        lo, hi = min(lo, lo2), max(hi, hi2)
        ax.plot([lo, hi], [lo, hi], "k-", lw=1, label="y = x")
        ax.fill_between([lo, hi], [0.9 * lo, 0.9 * hi], [1.1 * lo, 1.1 * hi], color="grey", alpha=0.2,
                        label="+-10%")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"RTL simulation: {what}")
        ax.set_ylabel(f"performance model: {what}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    a1.set_title("Lookup latency (unloaded median)")
    a2.set_title("Lookup throughput (back to back)")
    fig.tight_layout()
    paths.append(out_dir / "predicted_vs_simulated.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


# ---- main ---------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="HBM channels 1, 8, 16, 32 (default 1, 8, 32)")
    ap.add_argument("--channels", type=int, nargs="+", help="HBM channel counts to sweep")
    ap.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    ap.add_argument("--queries", type=int, default=120, help="queries per latency run")
    ap.add_argument("--thr-queries", type=int, default=240, help="queries per throughput run")
    ap.add_argument("--no-rtl", action="store_true", help="model side only (no simulation)")
    ap.add_argument("--reuse", action="store_true",
                    help="take RTL results of matching points from the last build/bench/bench.json "
                         "(same model, variant, channels and pairs) instead of simulating them again")
    args = ap.parse_args(argv)
    channels = tuple(args.channels or (FULL_CHANNELS if args.full else DEFAULT_CHANNELS))
    models = {m: MODELS[m] for m in args.models}
    OUT.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    progress("golden model CPU speed (microrec_small, batch 1 and 2048) ...")
    golden = golden_speed()
    progress(f"  batch 1: {golden['batch1_median_ms']:.2f} ms, batch 2048: "
             f"{golden['batch2048_items_per_s']:.3g} items/s")

    progress(f"planning {len(models)} models x HBM channels {channels} (+{DDR} DDR) x "
             "{no products, plan_search} ...")
    points = plan_points(channels, models)
    for p in points:
        p["mlp_cycles"] = mlp_cycles(builtin(MODELS[p["model"]][0]))
        if not p["feasible"]:
            progress(f"  {p['model']} {p['variant']} {p['hbm']}+{DDR}: infeasible ({p['reason'][:100]})")
    todo = [p for p in points if p["feasible"] and p["rtl_feasible"]]
    cache: dict = {}
    if args.reuse and (OUT / "bench.json").exists():
        for q in json.loads((OUT / "bench.json").read_text())["points"]:
            if q.get("rtl"):
                cache[(q["config"], q["hbm"], q["banks"], json.dumps(q["pairs"]))] = q["rtl"]
        progress(f"reusing {len(cache)} RTL results from {OUT / 'bench.json'}")
    if not args.no_rtl or cache:
        seen = set()
        for i, p in enumerate(sorted(todo, key=lambda p: p["hbm"])):
            key = (p["config"], p["hbm"], p["banks"], json.dumps(p["pairs"]))
            p["duplicate"] = key in seen     # same placement as an earlier point: same run
            seen.add(key)
            if key in cache:
                p["rtl"] = {k: v for k, v in cache[key].items() if k != "duplicate"}
                progress(f"  [{i + 1}/{len(todo)}] {p['model']} {p['variant']} {p['hbm']}+{DDR}: "
                         "same placement already simulated, reusing its run")
                continue
            if args.no_rtl:
                continue
            progress(f"  [{i + 1}/{len(todo)}] RTL {p['model']} {p['variant']} {p['hbm']}+{DDR} channels "
                     f"({p['tables']} tables, {p['dram_rounds']} rounds) ...")
            p["rtl"] = run_rtl(p, args.queries, args.thr_queries)
            cache[key] = p["rtl"]
            progress(f"      latency median {p['rtl']['latency_median']} cycles, throughput "
                     f"{p['rtl']['throughput']:.3f} q/cycle ({p['rtl']['wall_lat_s'] + p['rtl']['wall_thr_s']:.0f} s)")
    for p in points:
        p["fit"] = bool(p.get("rtl")) and in_fit_set(p, channels)
    progress(f"calibrating the performance model on {FIT_DESC} ...")
    params = fit_params(points)
    for p in points:
        if not p["feasible"]:
            continue
        lk = predict_lookup(p["placement"], params)
        e2e = predict(p["placement"], params, ENGINE_MLP)
        p["pred_lookup"] = lk.summary()
        p["pred_e2e"] = e2e.summary()
        if p.get("rtl"):
            p["err_latency"] = rel_err(lk.latency_cycles, p["rtl"]["latency_median"])
            p["err_throughput"] = rel_err(lk.items_per_cycle, p["rtl"]["throughput"])
    md = table(points, params, golden)
    val_md, val = validation(points)
    print("\n" + md + "\n\nPerformance model vs RTL (relative error of the predicted lookup latency):\n\n" + val_md)
    paths = plots(points, OUT) if any(p["feasible"] for p in points) else []
    (OUT / "bench.md").write_text(md + "\n\n" + val_md + "\n")
    dump = {"clock_mhz": CLOCK_MHZ, "channels": channels, "params": dataclasses.asdict(params),
            "golden": golden, "validation": val,
            "points": [{k: v for k, v in p.items() if k != "placement"} for p in points]}
    (OUT / "bench.json").write_text(json.dumps(dump, indent=1, default=str))
    progress(f"done in {time.perf_counter() - t_start:.0f} s; wrote {OUT / 'bench.md'}, {OUT / 'bench.json'}, "
             + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
