"""Every user-facing target runs at a tiny size in `make test`, so a refactor cannot
silently break one (bench-model once did): `make sim`, each `make bench-*`.

The targets run through make itself, in a subprocess, exactly as a user types them.
Their builds are the real ones (a benchmark's Verilator build is what rots), only
the sizes are small. Marked ``app``: kept out of coverage, mutation and soak runs.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from models.config import builtin, save_config

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.app


def make(*args: str, cwd: Path = ROOT, timeout: int = 1800) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTEST_CURRENT_TEST", None)      # the nested runs name their own test dirs
    env.pop("PYTEST_XDIST_WORKER", None)
    env["PWD"] = str(cwd)                     # as a shell sets it: make sim resolves CONFIG paths from it
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"make {' '.join(args)} exited {proc.returncode}\n--- stdout (tail) ---\n"
                    f"{proc.stdout[-4000:]}\n--- stderr (tail) ---\n{proc.stderr[-3000:]}")
    return proc


def sim_result() -> dict:
    return json.loads((ROOT / "build" / "sim" / "result.json").read_text())


SIM_TINY = ("PES=8", "LANES=8", "QUERIES=20")


def test_make_sim_tiny_then_another_config(tmp_path):
    """`make sim CONFIG=tiny QUERIES=20` passes; then a second, different config given as a
    path relative to the caller's directory runs on the same build, and its progress lines
    and summary are its own, not the first run's (the stale-log race of issue 14)."""
    first = make("sim", "CONFIG=tiny", *SIM_TINY)
    assert "result            : PASS" in first.stdout
    r1 = sim_result()["rtl"]
    assert r1["mismatches"] == 0 and r1["queries"] == 20 + 50
    assert any("model loaded (6 physical tables" in line for line in r1["progress"]), r1["progress"]
    # tiny without its last table: 5 physical tables, same build maxima
    cfg = builtin("tiny")
    cfg.tables = cfg.tables[:-1]
    cfg.name = "tiny_five_tables"
    save_config(cfg, tmp_path / "five.json")
    second = make("sim", "CONFIG=five.json", "PES=8", "LANES=8", "QUERIES=30", cwd=tmp_path)
    assert "result            : PASS" in second.stdout
    r2 = sim_result()["rtl"]
    assert r2["config"] == "tiny_five_tables" and r2["queries"] == 30 + 50
    assert any("model loaded (5 physical tables" in line for line in r2["progress"]), r2["progress"]
    assert not any("(6 physical tables" in line for line in r2["progress"]), "progress of the previous run"
    assert "[sim]   model loaded (5 physical tables" in second.stdout
    assert "MicroRec 16-bit" not in second.stdout, "published figures beside a config they are not for"


@pytest.mark.parametrize("args, why", [
    (("CONFIG=nosuch",), "CONFIG=nosuch"),
    (("QUERIES=0",), "QUERIES=0"),
    (("PRESET=hbm9",), "PRESET=hbm9"),
    (("PRECISION=int4",), "PRECISION=int4"),
    (("ZERO_SKIP=2",), "ZERO_SKIP=2"),
    (("BAG_LENGTH=-1",), "BAG_LENGTH=-1"),
    (("BAG_LENGTHS=zipf",), "BAG_LENGTHS=zipf"),
    (("CONFIG=dlrm_tiny", "PRECISION=int8"), "PRECISION=int8"),
    (("CACHE=maybe",), "CACHE=maybe"),
    (("CACHE=on", "CACHE_LINES=100"), "CACHE_LINES=100"),
    (("CACHE=on", "CACHE_WAYS=32"), "CACHE_WAYS=32"),
    (("CACHE=on", "CACHE_POLICY=fifo"), "CACHE_POLICY=fifo"),
])
def test_make_sim_bad_input_is_one_line(args, why):
    env = dict(os.environ)
    env.pop("PYTEST_CURRENT_TEST", None)
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "sim", *args], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    err = [ln for ln in proc.stderr.splitlines() if ln.startswith("make sim:")]
    assert len(err) == 1 and why in err[0], proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_make_bench_model_tiny():
    out = make("bench-model", "BENCH_ARGS=--models tiny --channels 1 --queries 8 --thr-queries 8").stdout
    assert "| tiny | none | 1+2 |" in out and "done in" in out


def test_make_bench_lookup_tiny():
    out = make("bench-lookup", "BENCH_ARGS=--queries 20 --lat-queries 10 --models").stdout
    assert "ideal L=20, 32 tables/32 ch" in out
    # the speed of the batched env against the same build sending the same queries with Python asleep
    assert "(SV batch source/sink)" in out and "same queries from the SV source, Python asleep" in out


def test_make_bench_mlp_tiny():
    out = make("bench-mlp", "BENCH_ARGS=--only 4x8 --items 16 --model tiny").stdout
    assert "4 x 8" in out


def test_make_bench_hbm_tiny():
    out = make("bench-hbm", "BENCH_ARGS=--cycles 3000 --modes idle,bench").stdout
    assert "bench" in out and "written" in out


def test_make_sim_int8_tiny():
    """`make sim PRECISION=int8 ZERO_SKIP=1`: exact against golden_infer_q; result.json
    says which precision and sparsity it ran (contracts s.8)."""
    out = make("sim", "CONFIG=tiny", "PRECISION=int8", "ZERO_SKIP=1", *SIM_TINY).stdout
    assert "result            : PASS" in out
    r = sim_result()
    assert r["precision"] == "int8" and r["sparsity"] == "zero-skip", (r["precision"], r["sparsity"])
    assert r["rtl"]["mismatches"] == 0 and r["rtl"]["queries"] == 20 + 50


def test_make_sim_cache_tiny():
    """`make sim CACHE=on`: hot-row caches in front of every memory channel, Zipf traffic; the
    logits exact and the summary's hit rate and memory reads per query those of the CSR
    counters, which the bench checked against models/row_cache.py."""
    out = make("sim", "CONFIG=tiny", "CACHE=on", "CACHE_LINES=64", "CACHE_WAYS=4", "CACHE_POLICY=freq",
               "ZIPF=1.1", *SIM_TINY).stdout
    assert "result            : PASS" in out
    c = sim_result()["rtl"]["cache"]
    assert c["rtl"] == c["model"] and c["lines"] == 64 and c["policy"] == "freq"
    assert c["hit_rate"] == c["model_hit_rate"] and c["rtl"]["hits"] > 0
    assert "hot-row caches    : 64 lines" in out and "memory reads/query" in out


def test_make_sim_dlrm_tiny():
    """`make sim CONFIG=dlrm_tiny`: multi-hot packets through the whole DLRM top, every logit
    exact against dlrm_infer; the summary reports HBM bytes per query and the memory bound."""
    out = make("sim", "CONFIG=dlrm_tiny", "BAG_LENGTH=6", *SIM_TINY).stdout
    assert "result            : PASS" in out and "models.dlrm.dlrm_infer()" in out
    assert "bytes/query read from HBM/DDR" in out
    r = sim_result()["rtl"]
    assert r["mismatches"] == 0 and r["queries"] == 20 + 50 and r["multihot"] and r["dlrm"]
    assert r["lookups_per_query"] > r["physical_tables"], "bags of several rows: more lookups than tables"


def test_make_bench_dlrm_tiny():
    out = make("bench-dlrm", "BENCH_ARGS=--config dlrm_tiny --pes 8 --lanes 8 --queries 20 --lat-queries 4 "
                             "--bag-length 6").stdout
    assert "CPU dlrm_infer" in out and "0 mismatches" in out and "wrote" in out


def test_make_bench_quant_tiny():
    out = make("bench-quant", "BENCH_ARGS=--config tiny --pes 8 --lanes 8 --queries 12 --lat-queries 4 "
                              "--fidelity-queries 50").stdout
    assert "int8 zero-skip" in out and "int16 dense" in out and "wrote" in out and "MISMATCH" not in out


def recpipe_result() -> dict:
    return json.loads((ROOT / "build" / "sim" / "recpipe_result.json").read_text())


def test_make_sim_recpipe_tiny():
    """`make sim PIPELINE=recpipe`: two-stage requests on the top with the top-k unit, every
    stage's ids, order and scores against models.recpipe.pipeline, the ranker alone against
    models.recpipe.reference; the summary's figures are the result file's."""
    out = make("sim", "PIPELINE=recpipe", "CONFIG=tiny", "PES=8", "LANES=8", "CANDIDATES=64", "KEEP=16",
               "TOP_K=4", "FILTER=8x4", "REQUESTS=2").stdout
    assert "result            : PASS" in out and "mismatches 0" in out
    r = recpipe_result()
    assert r["ok"] and r["mismatches"] == 0 and len(r["requests"]) == 2 and r["n"] == 64
    assert f"two-stage {r['two_stage_cycles']} cycles" in out and f"ranker alone {r['single_cycles']} cycles" in out
    # every stage costs at least its MLP cycles (contracts s.10.4): the model is a lower bound
    assert r["two_stage_cycles"] >= r["model_two_stage"] and r["single_cycles"] >= r["model_single"]


@pytest.mark.parametrize("args, why", [
    (("FILTER=32",), "FILTER=32"),                      # wider than the ranker's 16
    (("KEEP=2", "TOP_K=4", "CANDIDATES=64"), "TOP_K"),  # top_k > k_keep
    (("CANDIDATES=0",), "CANDIDATES"),
    (("PIPELINE=bogus",), "PIPELINE=bogus"),
])
def test_make_sim_recpipe_bad_input_is_one_line(args, why):
    env = dict(os.environ)
    env.pop("PYTEST_CURRENT_TEST", None)
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "sim", "PIPELINE=recpipe",
                           "CONFIG=tiny", "FILTER=8x4", *args], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode != 0
    err = [ln for ln in proc.stderr.splitlines() if ln.startswith("make sim:")]
    assert len(err) == 1 and why in err[0], proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_make_bench_recpipe_tiny():
    out = make("bench-recpipe", "BENCH_ARGS=--tiny").stdout
    assert "RTL check at this N" in out and "0 mismatches" in out and "pareto front" in out and "wrote" in out
    res = json.loads((ROOT / "build" / "bench" / "recpipe.json").read_text())
    assert [r["n"] for r in res["results"]] == [64, 128] and res["rtl"]["mismatches"] == 0


def test_make_bench_cache_tiny():
    """`make bench-cache --tiny`: dlrm_tiny on the 4-channel multi-hot build, caches off, lru
    and freq at one Zipf exponent; every answer exact and every cache counter of the RTL
    that of models/row_cache.py (the bench fails otherwise), the JSON says so per point."""
    out = make("bench-cache", "BENCH_ARGS=--tiny --out cache_tiny").stdout
    assert "| ddr4x2 | 1.05 | off |" in out and "wrote" in out
    doc = json.loads((ROOT / "build" / "bench" / "cache_tiny.json").read_text())
    pts = {(r["tier"], r["zipf"], r["policy"]): r for r in doc["rtl"]}
    assert set(pts) == {("ddr4x2", 1.05, p) for p in ("off", "lru", "freq")}, sorted(pts)
    for (_, _, pol), r in pts.items():
        assert r["mismatches"] == 0 and r["answers"] == r["warmup"] + r["queries"] + r["lat_queries"]
        assert r["rtl_cache"] == r["model_cache"], (pol, r["rtl_cache"], r["model_cache"])
        assert r["throughput_qpc"] > 0 and r["latency"]["median"] > 0
        if pol == "off":
            assert not any(r["rtl_cache"].values()), "a disabled cache counted"
            assert r["mem_beats_sent"] == r["lookup_perf"]["beats"]
        else:
            assert r["rtl_cache"]["hits"] > 0 and r["window_hit_rate"] > 0
            assert r["mem_beats_sent"] < r["lookup_perf"]["beats"], "the hits still read memory"
    assert {g["policy"] for g in doc["model"]} == {"lru", "freq"}
    assert (ROOT / "build" / "bench" / "cache_tiny.png").exists()
