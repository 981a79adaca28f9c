"""`make mutate`: apply RTL mutations one at a time, run the fast benches, count kills.

Each mutant is a copy of rtl/ (under build/mutate/<name>/rtl) with one
textual change: an operator swap, an off-by-one in a bound or counter, a
stuck bit, a dropped handshake. The tests run against the copy through
MICROREC_RTL_DIR, so the working tree is never touched. A mutant is killed
when its test selection fails; a survivor means the benches cannot see that
change and needs a test (or a written reason in SURVIVOR_REASONS).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

from .toolchain import BUILD_ROOT, ROOT


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str        # under rtl/
    old: str         # exact text, must occur once
    new: str
    tests: str       # pytest -k expression selecting the benches that should kill it


MAC = "test_mac_pe and lanes4 and not injected"
LOOK = "test_lookup_tiny and (Uniform or BadIndex or AxiError or Backpressure or Stuck or Capacity)"
LOOKW = "(test_lookup_tiny or test_lookup_wide_rows or test_lookup_products) and not injected and not assertion"
MLP = "test_mlp_engine and not injected and not microrec"
TOP = "test_top_tiny and (Random or IllegalCsr or Stuck)"

MUTATIONS = [
    # MAC processing element
    Mutation("pe_round_off_by_one", "mlp/mac_pe.sv", "(cfg_frac_bits - 4'd1)", "(cfg_frac_bits - 4'd0)", MAC),
    Mutation("pe_sat16_bound", "mlp/mac_pe.sv", "hi16 = shifted > (ACC_W+1)'(32767);",
             "hi16 = shifted > (ACC_W+1)'(32768);", MAC),
    Mutation("pe_relu_on_logit", "mlp/mac_pe.sv", "out_y         <= (cfg_relu && !cfg_out32 && y_sat[31]) ? '0 : y_sat;",
             "out_y         <= (cfg_relu && y_sat[31]) ? '0 : y_sat;", MAC),
    Mutation("pe_bias_stuck", "mlp/mac_pe.sv", "s1_bias <= $signed(in_bias);", "s1_bias <= $signed({in_bias[31:1], 1'b0});", MAC),
    # lookup engine
    Mutation("eng_idx_bound", "lookup/emb_lookup_engine.sv", "idx_ok = idx_a < desc.rows;",
             "idx_ok = idx_a <= desc.rows;", LOOK),
    Mutation("eng_prod_bound", "lookup/emb_lookup_engine.sv", "idx_ok = (idx_b < desc.rows_b) && (row64 < 64'(desc.rows));",
             "idx_ok = (row64 < 64'(desc.rows));", LOOKW),
    Mutation("eng_len_off_by_one", "lookup/emb_lookup_engine.sv", "BEAT_LG)) - 1);", "BEAT_LG)) - 2);", LOOKW),
    Mutation("eng_resp_ignored", "lookup/emb_lookup_engine.sv", "(r_resp_all == 2'b10) ? ERR_AXI_SLVERR :",
             "(r_resp_all == 2'b01) ? ERR_AXI_SLVERR :", LOOK),
    Mutation("eng_timeout_never", "lookup/emb_lookup_engine.sv", "if (cfg_timeout != 32'd0 && stall_cnt >= cfg_timeout) begin",
             "if (1'b0) begin", LOOK),
    Mutation("eng_ar_drop", "lookup/emb_lookup_engine.sv", "        end else if (m_arready) begin\n            m_arvalid <= 1'b0;",
             "        end else begin\n            m_arvalid <= 1'b0;", LOOK),
    # lookup config and gather
    Mutation("cfg_dim_check", "lookup/lookup_config.sv", "32'(d.dim) > DIM_MAX", "32'(d.dim) > DIM_MAX + 1", LOOKW),
    Mutation("cfg_commit_admits", "lookup/lookup_config.sv", "assign cfg_draining = state == S_WAIT;",
             "assign cfg_draining = 1'b0;", LOOK),
    Mutation("cfg_list_count", "lookup/lookup_config.sv", "list_count[eng_i] + 1'b1;", "list_count[eng_i] + 2'd2;", LOOK),
    Mutation("gather_offset_b", "lookup/feature_gather.sv", ": 32'(off_b) + 32'(kk) - 32'(dim_a);",
             ": 32'(off_b) + 32'(kk) - 32'(dim_a) + 32'd1;", LOOKW),
    Mutation("gather_first_error", "lookup/feature_gather.sv",
             "if (res_err[e] != ERR_NONE && code_next[res_slot[e]] == ERR_NONE) begin",
             "if (res_err[e] != ERR_NONE) begin", LOOK),
    Mutation("ring_full_off_by_one", "lookup/emb_lookup_top.sv", "assign ring_full     = (q_tail - q_head) == QSEQ_W'(QDEPTH);",
             "assign ring_full     = (q_tail - q_head) == QSEQ_W'(QDEPTH - 1);", LOOK),
    Mutation("bank_decerr_bound", "lookup/onchip_table_ram.sv", "if (32'(cur_word) < WORDS) begin",
             "if (32'(cur_word) < WORDS - 1) begin", "test_lookup_bank_full"),
    Mutation("cfg_extent_bound", "lookup/lookup_config.sv", "assign d_outside = d.onchip ? (d_end > 46'(BANK_BYTES))",
             "assign d_outside = d.onchip ? (d_end >= 46'(BANK_BYTES))", "test_lookup_bank_full"),
    # MLP engine and top
    Mutation("fifo_count", "mlp/mlp_fifo.sv", "count <= count + CW'(push) - CW'(pop && !empty);",
             "count <= count + CW'(push) - CW'(pop);", f"({MLP}) or ({TOP})"),
    Mutation("top_err_logit", "top/microrec_top.sv", "assign m_result_logit      = (pend_head.err != ERR_NONE) ? 32'd0 : mlp_out_logit;",
             "assign m_result_logit      = mlp_out_logit;", TOP),
    Mutation("top_slot_check", "top/microrec_top.sv", "end else if (desc_we && 32'(desc_idx) >= P_MAX && !slot_bad) begin",
             "end else if (desc_we && 32'(desc_idx) > P_MAX && !slot_bad) begin", TOP),
    Mutation("top_no_drain", "top/microrec_top.sv", "assign dp_rst_n = rst_n && !soft_reset && !draining;",
             "assign dp_rst_n = rst_n && !soft_reset;", "test_top_tiny and ResetMid"),
    Mutation("top_dma_loss_ignored", "top/microrec_top.sv", "else if (dma_data_lost) dma_bad <= 1'b1;",
             "else if (1'b0) dma_bad <= 1'b1;", "test_top_tiny and DmaError"),
    Mutation("dma_word_beats", "top/config_dma.sv", "assign word_done = r_fire && (beat_in_word + 1 == wbeats);",
             "assign word_done = r_fire && (beat_in_word == wbeats);", TOP),
]

# why a surviving mutant is acceptable (name -> reason); empty means every survivor is a gap
SURVIVOR_REASONS: dict[str, str] = {
    "gather_first_error": "which of two lookups failing in one query is named is unspecified (contracts.md s.5); "
                          "the scoreboards accept any failing table",
}


def run_mutant(m: Mutation, jobs: str) -> dict:
    work = BUILD_ROOT / "mutate" / m.name
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ROOT / "rtl", work / "rtl")
    path = work / "rtl" / m.file
    text = path.read_text()
    if text.count(m.old) != 1:
        return {"name": m.name, "status": "stale", "why": f"pattern found {text.count(m.old)} times in {m.file}"}
    path.write_text(text.replace(m.old, m.new))
    env = dict(os.environ, MICROREC_RTL_DIR=str(work / "rtl"), MICROREC_BUILD=str(work / "build"))
    cmd = [sys.executable, "-m", "pytest", "tests", "-q", "-x", "-n", jobs, "-m", "rtl", "-k", m.tests,
           "-p", "no:cacheprovider"]
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    # pytest -x under xdist exits 2 on the first failure, so read the summary line
    if " failed" in last:
        status = "killed"
    elif proc.returncode == 0 and " passed" in last:
        status = "survived"
    else:
        status = "error"
    shutil.rmtree(work / "build", ignore_errors=True)   # builds are large; keep the mutated source
    return {"name": m.name, "file": m.file, "status": status, "pytest": last, "seconds": round(time.time() - t0)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", default="2")
    ap.add_argument("--only", nargs="*", help="mutation names to run (default: all)")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    muts = [m for m in MUTATIONS if not args.only or m.name in args.only]
    if args.list:
        for m in muts:
            print(f"{m.name:24} {m.file:32} tests: {m.tests}")
        return 0
    results = []
    for i, m in enumerate(muts, 1):
        print(f"[mutate] {i}/{len(muts)} {m.name} ({m.file}) ...", flush=True)
        r = run_mutant(m, args.jobs)
        print(f"[mutate]   {r['status']}: {r.get('pytest') or r.get('why')}", flush=True)
        results.append(r)
    scored = [r for r in results if r["status"] in ("killed", "survived")]
    killed = sum(r["status"] == "killed" for r in scored)
    print(f"\nmutation check: {killed} of {len(scored)} killed "
          f"({100.0 * killed / max(1, len(scored)):.0f}%), target 95%")
    for r in results:
        if r["status"] != "killed":
            print(f"  {r['status']:8} {r['name']:24} {SURVIVOR_REASONS.get(r['name'], r.get('why', 'needs a test'))}")
    out = BUILD_ROOT / "mutate" / "summary.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"summary: {out}")
    survivors = [r for r in scored if r["status"] == "survived" and r["name"] not in SURVIVOR_REASONS]
    return 1 if survivors or any(r["status"] in ("stale", "error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
