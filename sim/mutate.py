"""`make mutate`: apply RTL mutations one at a time, run the benches, score them honestly.

Two sets of mutants:

- **named**: the hand-written ones below (an operator swap, an off-by-one, a
  stuck bit, a dropped handshake ...), each with the test selection that
  should kill it. ``make mutate`` runs these.
- **sampled**: ``make mutate SAMPLE=n SEED=s`` draws n mutants from every
  design line of the hand-written RTL (sim/mutants/generate.py) and runs each
  against the benches whose DUT compiles the mutated file
  (sim/mutants/benches.py), unit benches first. Only the sampled set runs
  unless ``--named`` is given too, so the two figures stay separate.

How a run is scored (sim/mutants/classify.py):

1. The baseline: the union of every selected mutant's test nodes runs on an
   unmutated copy of rtl/ with the same seeds. If any node fails, the run
   stops with exit status 2: a broken baseline must never count as kills.
2. Each mutant runs on a copy of rtl/ with one change (MICROREC_RTL_DIR, so
   the working tree is never touched), one pytest node at a time per job
   slot, until the first node that kills it. A kill needs a failing check
   (RTL assertion, scoreboard MISMATCH, a bench assert or watchdog); the
   evidence is read from the failure.json sim/runner.py writes. A failed
   build makes the mutant *invalid*; a node whose simulation runs over its
   wall-clock limit (--limit-factor x its baseline simulation time +
   --limit-extra, counted from the end of the build) or a cocotb time limit
   is a *timeout*; any other failure is *crashed*; none
   of these stop the mutant's other nodes, and none is a kill.
3. A mutant no node kills is *survived*, or *equivalent* when
   sim/mutants/equivalent.toml lists its id with a reviewed reason.

Output: ``mutation check: K of N killed (R%)`` per set, where N counts
killed, survived, timeout and crashed mutants (invalid and equivalent ones
are reported apart), and build/mutate/summary.json with every mutant's record.
Exit status: 0 when every set meets its target (named 95%, sampled 90%),
1 when one does not, 2 when the baseline fails or a named mutant is stale.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .mutants import classify as C
from .mutants import generate
from .runner import FAILURE_FILE, SIM_STARTED_FILE, test_dir_for
from .toolchain import BUILD_ROOT, ROOT

MUTATE_DIR = BUILD_ROOT / "mutate"
EQUIVALENT_FILE = ROOT / "sim" / "mutants" / "equivalent.toml"
TARGETS = {"named": 95.0, "sampled": 90.0}
# pytest nodes a mutant may run: RTL tests, never the injected-bug self-checks
MARKERS = "rtl and not mutant"


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
MAC8 = "test_mac_pe and lanes4 and MacInt8Test"
MLP8 = "test_mlp_engine and (MlpInt8Test or MlpInt8EdgeTest or MlpSkipPatternTest)"
DOT = "test_dot_interaction_small or test_dot_interaction_backpressure"
TOPDLRM = "test_top_dlrm and (TopDlrmTest or TopDlrmIllegalTest) and not injected and not rate and not plain"
DLRM = "test_dlrm_ingress and (Random or Error or Corner or Saturation or Mean) and not injected and not wide"
DLRMW = "test_dlrm_ingress_wide and (Random or Error or Corner or BackToBack or MultiBad) and not injected"
VEC = "test_mlp_engine_vec_out"
MHL = "test_lookup_multihot and not rate and not u280 and not one_hot and not injected"
TOPCACHE = "(test_top_cache and lru) or test_top_cache_reload or test_top_cache_enable_on_plain_build"
RECPIPE = "test_top_recpipe and not injected"

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
    Mutation("cfg_list_count", "lookup/lookup_config.sv", "list_count[eng_i] + 1'b1;", "list_count[eng_i] + 1'b1 + 1'b1;", LOOK),
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
    Mutation("top_err_logit", "top/microrec_top.sv", "assign r_logit       = (pend_head.err != ERR_NONE) ? 32'd0 : mlp_out_logit;",
             "assign r_logit       = mlp_out_logit;", TOP),
    Mutation("top_slot_check", "top/microrec_top.sv", "end else if (desc_we && 32'(desc_idx) >= P_MAX && !slot_bad) begin",
             "end else if (desc_we && 32'(desc_idx) > P_MAX && !slot_bad) begin", TOP),
    Mutation("top_no_drain", "top/microrec_top.sv", "assign dp_rst_n = rst_n && !soft_reset && !draining;",
             "assign dp_rst_n = rst_n && !soft_reset;", "test_top_tiny and ResetMid"),
    Mutation("top_dma_loss_ignored", "top/microrec_top.sv", "else if (dma_data_lost) dma_bad <= 1'b1;",
             "else if (1'b0) dma_bad <= 1'b1;", "test_top_tiny and DmaError"),
    Mutation("dma_word_beats", "top/config_dma.sv", "assign word_done = r_fire && (beat_in_word + 1 == wbeats);",
             "assign word_done = r_fire && (beat_in_word == wbeats);", TOP),
    # INT8 and zero-skipping (issue 15, contracts s.6 / s.8)
    Mutation("pe_int8_low_sign", "mlp/mac_pe.sv", "a_lo = $signed({in_int8 && in_a[16*i + 7], in_a[16*i +: 8]});",
             "a_lo = $signed({1'b0, in_a[16*i +: 8]});", MAC8),
    Mutation("pe_sat8_bound", "mlp/mac_pe.sv", "hi8  = shifted > (ACC_W+1)'(127);",
             "hi8  = shifted > (ACC_W+1)'(128);", MAC8),
    Mutation("eng_int8_beats", "mlp/mlp_layer_cfg.sv", "DIM_W'((int'(c_in[l]) + 2 * U - 1) / (2 * U))",
             "DIM_W'((int'(c_in[l]) + U - 1) / U)", MLP8),
    Mutation("eng_skip_stride", "mlp/mlp_engine.sv",
             "lidx[c] = cur_int8 ? DIM_W'(int'(lk[c]) * S_MAX + c) : DIM_W'(int'(lk[c]) * U + c);",
             "lidx[c] = cur_int8 ? DIM_W'(int'(lk[c]) * S_MAX + c + 1) : DIM_W'(int'(lk[c]) * U + c);", MLP8),
    # results stay exact: only the exact MLP_BUSY / MACs checks can see it
    Mutation("eng_skip_never", "mlp/mlp_engine.sv", "v[i] = (i < fan) && (m_vec[i] || !cfg_zero_skip);",
             "v[i] = (i < fan);", MLP8),
    Mutation("eng_input_shift_round", "mlp/mlp_engine.sv",
             ": (x + (17'sd1 <<< (cfg_input_shift - 4'd1))) >>> cfg_input_shift;",
             ": x >>> cfg_input_shift;", MLP8),
    Mutation("cfg_quant_unused_layer", "mlp/mlp_layer_cfg.sv",
             "if (!c_qerr && (cfg_sparse[l] || (l >= nl && cfg_int8[l]))) begin",
             "if (!c_qerr && cfg_sparse[l]) begin", "test_mlp_engine and MlpQuantCfgErrorTest"),
    Mutation("top_quant_code", "top/microrec_top.sv", "dma_bad ? 8'(CFG_DMA_FAILED) : quant_bad ? 8'(CFG_BAD_QUANT)",
             "dma_bad ? 8'(CFG_DMA_FAILED) : quant_bad ? 8'(CFG_DMA_FAILED)", "test_top_tiny and TopQuantCfgErrorTest"),
    Mutation("top_lshift_select", "top/microrec_top.sv",
             "cfg_shift[4*l +: 4] = mlp_lshift_en ? mlp_lshift[4*l +: 4] : mlp_shift;",
             "cfg_shift[4*l +: 4] = mlp_lshift_en ? mlp_lshift[4*0 +: 4] : mlp_shift;", "test_top_tiny and TopQuantTest"),
    # DLRM interaction (issue 16, contracts s.9.4)
    Mutation("dot_pair_order", "mlp/dot_interaction.sv",
             "end else if (pj == pi - N_W'(1)) begin\n                        pi <= pi + N_W'(1);\n"
             "                        pj <= '0;\n                    end else begin\n                        pj <= pj + N_W'(1);",
             "end else if (pi == N_W'(n_i)) begin\n                        pj <= pj + N_W'(1);\n"
             "                        pi <= pj + N_W'(2);\n                    end else begin\n                        pi <= pi + N_W'(1);",
             DOT),
    Mutation("dot_round_trunc", "mlp/dot_interaction.sv", "assign pe_bias = 32'd0;",
             "assign pe_bias = -(32'd1 << (cfg_frac_bits - 4'd1));", DOT),
    Mutation("dot_concat_offset", "mlp/dot_interaction.sv", "xdata[16*l +: 16] = pbuf[i - d_i];",
             "xdata[16*l +: 16] = pbuf[i - d_i + 1];", DOT),
    Mutation("dot_zfill_start", "mlp/dot_interaction.sv", "zfill <= FL_W'(d_i % FL);", "zfill <= '0;", DOT),
    Mutation("dot_resv_bound", "mlp/dot_interaction.sv", "(!need_resv || int'(resv) < OUT_DEPTH)",
             "(!need_resv || int'(resv) <= OUT_DEPTH)", DOT),
    # multi-hot query ingress and bag pooling (issue 16, contracts s.9.2, 9.6, 9.7, 9.9)
    Mutation("ing_bag_max_off_by_one", "lookup/query_packet_ingress.sv",
             "bag_bad[t] = t_on[t] && (len_n[t] > cfg_bag_max[16 * t +: 16] ||",
             "bag_bad[t] = t_on[t] && (len_n[t] >= cfg_bag_max[16 * t +: 16] ||", DLRM),
    Mutation("ing_n_unchecked", "lookup/query_packet_ingress.sv", "&& 21'(n_hdr) == n_sum;", "&& 1'b1;", DLRM),
    Mutation("ing_long_unseen", "lookup/query_packet_ingress.sv", "buf_long  <= last_ib && !s_tlast;",
             "buf_long  <= 1'b0;", DLRM),
    Mutation("ing_short_header_unseen", "lookup/query_packet_ingress.sv",
             "if (s_tlast && !last_hb) begin", "if (1'b0) begin", DLRM),
    Mutation("ing_void_not_sticky", "lookup/query_packet_ingress.sv",
             "m_idx_void       = idx_out ? (bad || cur_oob) : 1'b1;", "m_idx_void       = idx_out ? cur_oob : 1'b1;", DLRM),
    Mutation("ing_seq_stuck", "lookup/query_packet_ingress.sv",
             "if (state != S_HDR && state_next_hdr) cur_seq <= cur_seq + 1'b1;", "if (1'b0) cur_seq <= cur_seq + 1'b1;", DLRM),
    Mutation("ing_last_bag", "lookup/query_packet_ingress.sv", "m_idx_last_bag   = idx_out && rem == 16'd1;",
             "m_idx_last_bag   = idx_out && rem == 16'd0;", DLRM),
    # the wide ingress (a beat's W entries per cycle, contracts s.9.9)
    Mutation("ingw_lane_table", "lookup/query_packet_ingress_wide.sv",
             "if (t_on[t] && end_r[t] <= lane_j[k]) lane_tab_ok[k]", "if (t_on[t] && end_r[t] < lane_j[k]) lane_tab_ok[k]",
             DLRMW),
    Mutation("ingw_last_bag", "lookup/query_packet_ingress_wide.sv",
             "end_r[t] == lane_j[k] + 17'd1) lane_lastb[k]", "end_r[t] == lane_j[k]) lane_lastb[k]", DLRMW),
    Mutation("ingw_mask_one_over", "lookup/query_packet_ingress_wide.sv", "lane_act[k]   = lane_j[k] < n_r;",
             "lane_act[k]   = lane_j[k] <= n_r;", DLRMW),
    Mutation("ingw_pos_stuck", "lookup/query_packet_ingress_wide.sv", "pos     <= pos + 17'(W);",
             "pos     <= pos + 17'(W - 1);", DLRMW),
    Mutation("ingw_void_lane_not_sticky", "lookup/query_packet_ingress_wide.sv", "seen = seen || lane_oob[k];",
             "seen = bad || lane_oob[k];", DLRMW),
    Mutation("ingw_first_oob_table", "lookup/query_packet_ingress_wide.sv",
             "if (lane_oob[k] && !beat_oob) beat_oob_tab = lane_tab[k];", "if (lane_oob[k]) beat_oob_tab = lane_tab[k];",
             DLRMW),
    Mutation("ingw_abort_long_unseen", "lookup/query_packet_ingress_wide.sv",
             "<= lane_lastq[k] && (!s_tlast || bad || beat_oob);", "<= lane_lastq[k] && (bad || beat_oob);", DLRMW),
    Mutation("ingw_rate_bubble", "lookup/query_packet_ingress_wide.sv",
             "assign s_tready = (!err_valid || m_err_ready) && (!o_valid || m_idx_ready)",
             "assign s_tready = (!err_valid || m_err_ready) && !o_valid", DLRMW),
    Mutation("ingw_err_seq", "lookup/query_packet_ingress_wide.sv", "err_seq <= cur_seq;", "err_seq <= cur_seq + 1'b1;",
             DLRMW),
    Mutation("pool_drop_last_row", "lookup/bag_pool.sv",
             "m_pool_data[16 * k +: 16] <= pool_elem(sum[k], bshift[row_ctx]);",
             "m_pool_data[16 * k +: 16] <= pool_elem(acc[row_ctx][k], bshift[row_ctx]);", DLRM),
    Mutation("pool_no_sat_lo", "lookup/bag_pool.sv", "if (r < -(ACC_W+1)'(32768)) return 16'h8000;",
             "if (1'b0) return 16'h8000;", DLRM),
    Mutation("pool_round_bias", "lookup/bag_pool.sv", "<<< (sh - 4'd1))) >>> sh;", "<<< sh)) >>> sh;", DLRM),
    Mutation("pool_count_late", "lookup/bag_pool.sv", "row_last = cnt[row_ctx] + 1'b1 == blen[row_ctx];",
             "row_last = cnt[row_ctx] == blen[row_ctx];", DLRM),
    Mutation("pool_empty_bag_open", "lookup/bag_pool.sv", "bopen[bag_ctx] <= s_bag_len != 16'd0;",
             "bopen[bag_ctx] <= 1'b1;", DLRM),
    Mutation("pool_drop_ignored", "lookup/bag_pool.sv", "if (drop_fire)", "if (1'b0)", DLRM),
    # multi-hot lookup: sub-query expansion and pooling (issue 16, contracts s.9.9)
    Mutation("mhx_void_off_by_one", "lookup/bag_expander.sv", "m_sq_void[t]          = j >= b_len[xp][t];",
             "m_sq_void[t]          = j > b_len[xp][t];", MHL),
    # an aborted query's error record taken while its header still waits for a buffer (a hang)
    Mutation("mhx_err_before_hdr", "lookup/bag_expander.sv",
             "s_err_seq == next_seq && !(s_hdr_valid && s_hdr_seq == next_seq);", "s_err_seq == next_seq;", MHL),
    Mutation("mha_shift_of_table0", "lookup/bag_accum.sv",
             "pool_elem(sum[k], cfg_pool_shift[4 * 32'(elem_lt[k]) +: 4]);", "pool_elem(sum[k], cfg_pool_shift[3:0]);",
             MHL),
    # mlp_engine vector output (issue 16, contracts s.6 / s.9.3)
    Mutation("vec_beat_not_pushed", "mlp/mlp_engine.sv",
             "assign vpush = out_push && (s4.job_end || int'(vlane) + P == VEC_LANES);",
             "assign vpush = out_push && (s4.job_end || int'(vlane) + P > VEC_LANES);", VEC),
    Mutation("vec_pad_not_cleared", "mlp/mlp_engine.sv", "vstage <= vpush ? '0 : vbeat;",
             "vstage <= vbeat;", VEC),
    Mutation("vec_resv_one_slot", "mlp/mlp_engine.sv",
             "assign job_slots = VEC_OUT ? OC_W'((int'(l_out[last_layer]) + VEC_LANES - 1) / VEC_LANES) : OC_W'(1);",
             "assign job_slots = OC_W'(1);", VEC),
    # DLRM back half at the top (issue 16, contracts s.7.2)
    Mutation("top_dlrm_len_dot", "top/microrec_top.sv",
             "r_len    = dlrm_ctrl[1] ? 16'(dlrm_d) + 16'((32'(dlrm_n) * (32'(dlrm_n) + 1)) / 2)",
             "r_len    = dlrm_ctrl[1] ? 16'(dlrm_d) + 16'((32'(dlrm_n) * (32'(dlrm_n) - 1)) / 2)", TOPDLRM),
    Mutation("top_dlrm_last_dim_unchecked", "top/microrec_top.sv",
             "if (bot_last != 16'(dlrm_d)) bot_bad = 1'b1;", "if (1'b0) bot_bad = 1'b1;", TOPDLRM),
    Mutation("top_dlrm_dense_not_dropped", "top/microrec_top.sv",
             "assign dn_ready = dlrm_run ? bot_feat_ready : 1'b1;", "assign dn_ready = bot_feat_ready;", TOPDLRM),
    # hot-row caches at the top (issue 17, contracts s.11.11)
    Mutation("top_cache_dma_no_flush", "top/microrec_top.sv",
             "assign cache_flush = cache_flush_csr || dma_start;", "assign cache_flush = cache_flush_csr;", TOPCACHE),
    Mutation("top_cache_enable_unchecked", "top/microrec_top.sv",
             "assign cache_bad = CACHE == 0 && cache_enable;", "assign cache_bad = 1'b0;", TOPCACHE),
    Mutation("top_cache_counters_swapped", "top/microrec_top.sv",
             "lk_cache_cnt[1], lk_cache_cnt[0], 64'(lk_unexpected_r),",
             "lk_cache_cnt[0], lk_cache_cnt[1], 64'(lk_unexpected_r),", TOPCACHE),
    # RecPipe on the top (issue 18, contracts s.10.6)
    Mutation("top_topk_error_kept", "topk/topk_result_path.sv",
             "    assign tk_keep = !r_id[30] && r_err == ERR_NONE;\n`endif",
             "    assign tk_keep = !r_id[30];\n`endif", RECPIPE),
    Mutation("top_mlp_bbase_ignored", "mlp/mlp_layer_cfg.sv",
             "bsum = int'(cfg_boff);", "bsum = 0;", RECPIPE),
    Mutation("top_results_per_query", "top/microrec_top.sv",
             "cnt_results   <= cnt_results + 64'(m_result_valid && m_result_ready);",
             "cnt_results   <= cnt_results + 64'(pend_pop);", RECPIPE),
]


# ---------------------------------------------------------------------------
# a mutant to run: named or sampled, one interface
# ---------------------------------------------------------------------------

@dataclass
class Job:
    id: str
    set: str                       # "named" | "sampled"
    file: str
    line: int | None
    op: str
    old: str
    new: str
    selections: list[tuple[str, str]]          # (bench, pytest -k), in run order
    apply: Callable[[Path], str] = field(repr=False)   # mutate rtl copy, return original text

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.id} ({where})" if self.set == "named" else f"{self.id} {where} {self.op}: {self.old!r} -> {self.new!r}"


def named_jobs(names: list[str] | None = None) -> list[Job]:
    if names:     # the ids make mutate prints ("named:x") are accepted too
        names = [n.removeprefix("named:") for n in names]
        unknown = sorted(set(names) - {m.name for m in MUTATIONS})
        if unknown:
            raise SystemExit(f"mutate --only: no named mutant {', '.join(unknown)} (see --list)")
    jobs = []
    for m in MUTATIONS:
        if names and m.name not in names:
            continue

        def apply(rtl: Path, m=m) -> str:
            path = rtl / m.file
            text = path.read_text()
            if text.count(m.old) != 1:
                raise StaleMutant(f"named mutant {m.name}: pattern found {text.count(m.old)} times in {m.file}")
            path.write_text(text.replace(m.old, m.new))
            return text
        jobs.append(Job(f"named:{m.name}", "named", m.file, None, "named", m.old.strip(), m.new.strip(),
                        [("named", m.tests)], apply))
    return jobs


def is_sampled_id(name: str) -> bool:
    """A sampled mutant's id (``<file>:<op>:<hash>``), as opposed to a named one (``x`` or ``named:x``)."""
    return not name.startswith("named:") and name.count(":") == 2


def sampled_jobs(n: int, seed: int, rtl_dir: Path = ROOT / "rtl", ids: list[str] | None = None) -> list[Job]:
    """The n mutants a seed draws, or, with ``ids``, those generated mutants (from every
    design line, drawn or not: a survivor of any draw can be rerun alone)."""
    from .mutants.benches import benches_for
    if ids:
        pool = {m.id: m for m in generate.all_mutants(rtl_dir)}
        unknown = sorted(set(ids) - set(pool))
        if unknown:
            raise SystemExit(f"mutate --only: no sampled mutant {', '.join(unknown)} in the current RTL "
                             "(see --list --sample n --seed s)")
        mutants = [pool[i] for i in dict.fromkeys(ids)]
    else:
        mutants = generate.sample(rtl_dir, n, seed)
    jobs = []
    for m in mutants:
        sel = [(b.name, b.select) for b in benches_for(m.file)]
        jobs.append(Job(m.id, "sampled", m.file, m.line, f"{m.op}: {m.detail}", m.old.strip(), m.new.strip(),
                        sel, lambda rtl, m=m: generate.apply(m, rtl)))
    return jobs


class StaleMutant(RuntimeError):
    """A named mutant's pattern no longer matches the RTL exactly once."""


def load_equivalents(path: Path = EQUIVALENT_FILE) -> dict[str, str]:
    """id -> reviewed reason. Every entry needs a non-empty reason."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    out = {}
    for mid, entry in data.get("mutant", {}).items():
        reason = (entry or {}).get("reason", "").strip()
        if not reason:
            raise ValueError(f"{path}: mutant {mid!r} has no reason")
        out[mid] = reason
    return out


# ---------------------------------------------------------------------------
# running pytest nodes
# ---------------------------------------------------------------------------

def _pytest_base(test_seed: int) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
            "--seed", str(test_seed)]


_collect_cache: dict[tuple[str, int], list[str]] = {}


def collect(select: str, test_seed: int) -> list[str]:
    """Node ids of the RTL tests a -k expression selects, in collection order."""
    key = (select, test_seed)
    if key not in _collect_cache:
        cmd = _pytest_base(test_seed) + ["--collect-only", "-m", MARKERS, "-k", select, "tests"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        nodes = [ln.strip() for ln in proc.stdout.splitlines() if "::" in ln and not ln.startswith(" ")]
        if proc.returncode not in (0, 5) or not nodes:
            raise RuntimeError(f"selection {select!r} collects no RTL test (pytest rc {proc.returncode}):\n"
                               f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        _collect_cache[key] = nodes
    return _collect_cache[key]


def job_nodes(job: Job, test_seed: int) -> list[str]:
    out: list[str] = []
    for _, select in job.selections:
        out += [n for n in collect(select, test_seed) if n not in out]
    return out


@dataclass
class NodeResult:
    nodeid: str
    status: str          # C.PASSED / KILLED / INVALID / TIMEOUT / CRASHED
    evidence: str
    seconds: float       # wall clock, pytest start to end (a build included)
    record: dict | None = None
    sim_seconds: float | None = None   # from the end of the build (None: never simulated)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)   # the node's own session: pytest and its simulator
    except ProcessLookupError:
        pass
    proc.wait()


def _node_outcome(nodeid: str, rc: int, build_root: Path, out_path: Path) -> tuple[str, str, dict | None]:
    if rc == 0:
        return C.PASSED, "", None
    rec_path = test_dir_for(nodeid, build_root) / FAILURE_FILE
    record = json.loads(rec_path.read_text()) if rec_path.exists() else None
    if rc != 1 and record is None:
        tail = out_path.read_text(errors="replace").strip().splitlines()[-1:] if out_path.exists() else []
        return C.CRASHED, f"pytest exit status {rc}: {' '.join(tail)[:200]}", None
    status, evidence = C.classify_failure(record)
    return status, evidence, record


def _sim_started(nodeid: str, build_root: Path) -> float | None:
    marker = test_dir_for(nodeid, build_root) / SIM_STARTED_FILE
    try:
        return marker.stat().st_mtime
    except FileNotFoundError:
        return None


def run_nodes(nodes: list[str], *, env: dict, build_root: Path, log_dir: Path, jobs: int, test_seed: int,
              sim_limit: Callable[[str], float], build_limit: float, stop_on_kill: bool) -> list[NodeResult]:
    """Run pytest nodes, ``jobs`` at a time. A node's simulation gets ``sim_limit(node)``
    seconds of wall clock from the end of its build (the runner marks it), the whole
    node ``build_limit`` before that; over either it is a TIMEOUT. With ``stop_on_kill``,
    the first KILLED or INVALID node ends the run (nodes still running are stopped and
    dropped). A node whose build died without an error (killed by a signal) runs once more."""
    log_dir.mkdir(parents=True, exist_ok=True)
    pending = list(nodes)
    retried: set[str] = set()
    running: dict[str, tuple[subprocess.Popen, float, Path]] = {}
    done: dict[str, NodeResult] = {}
    stop = False
    try:
        while running or (pending and not stop):
            while pending and not stop and len(running) < jobs:
                nodeid = pending.pop(0)
                out_path = log_dir / (generate_safe(nodeid) + ".txt")
                with open(out_path, "w") as fh:
                    proc = subprocess.Popen(_pytest_base(test_seed) + [nodeid], cwd=ROOT, env=env, stdout=fh,
                                            stderr=subprocess.STDOUT, start_new_session=True)
                running[nodeid] = (proc, time.time(), out_path)
            time.sleep(0.25)
            for nodeid, (proc, t0, out_path) in list(running.items()):
                rc = proc.poll()
                now = time.time()
                started = _sim_started(nodeid, build_root)
                started = started if started is not None and started >= t0 - 1 else None
                sim_s = now - started if started is not None else None
                if rc is None and sim_s is not None and sim_s > sim_limit(nodeid):
                    _kill(proc)
                    res = NodeResult(nodeid, C.TIMEOUT, f"simulation over its wall-clock limit of "
                                     f"{sim_limit(nodeid):.0f} s", now - t0, None, sim_s)
                elif rc is None and sim_s is None and now - t0 > build_limit:
                    _kill(proc)
                    res = NodeResult(nodeid, C.TIMEOUT, f"build over its wall-clock limit of {build_limit:.0f} s",
                                     now - t0)
                elif rc is None:
                    continue
                else:
                    status, evidence, record = _node_outcome(nodeid, rc, build_root, out_path)
                    res = NodeResult(nodeid, status, evidence, now - t0, record, sim_s)
                del running[nodeid]
                if C.is_interrupted_build(res.record) and nodeid not in retried:
                    retried.add(nodeid)
                    pending.insert(0, nodeid)
                    continue
                done[nodeid] = res
                if stop_on_kill and res.status in (C.KILLED, C.INVALID):
                    stop = True
            if stop and running:
                for proc, _, _ in running.values():
                    _kill(proc)
                running.clear()
    finally:
        for proc, _, _ in running.values():
            _kill(proc)
    return [done[n] for n in nodes if n in done]


def generate_safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._=-" else "_" for ch in name)[:150]


# ---------------------------------------------------------------------------
# the campaign
# ---------------------------------------------------------------------------

@dataclass
class Workspace:
    root: Path

    @property
    def rtl(self) -> Path:
        return self.root / "rtl"

    @property
    def build(self) -> Path:
        return self.root / "build"

    def fresh(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(ROOT / "rtl", self.rtl)

    def clean_build(self) -> None:
        shutil.rmtree(self.build, ignore_errors=True)

    def env(self) -> dict:
        env = dict(os.environ, MICROREC_RTL_DIR=str(self.rtl), MICROREC_BUILD=str(self.build))
        for k in ("MICROREC_COVERAGE", "MICROREC_WAVES", "MICROREC_RANDOM_TIMING", "PYTEST_ADDOPTS"):
            env.pop(k, None)
        return env


def rtl_hash(rtl_dir: Path = ROOT / "rtl") -> str:
    h = hashlib.sha1()
    for p in sorted(rtl_dir.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(rtl_dir).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:12]


def run_baseline(nodes: list[str], ws: Workspace, args) -> tuple[bool, list[NodeResult], float]:
    ws.clean_build()
    t0 = time.time()
    results = run_nodes(nodes, env=ws.env(), build_root=ws.build, log_dir=ws.root / "logs" / "baseline",
                        jobs=args.jobs, test_seed=args.test_seed, sim_limit=lambda n: args.build_limit,
                        build_limit=args.build_limit, stop_on_kill=False)
    ok = len(results) == len(nodes) and all(r.status == C.PASSED for r in results)
    return ok, results, time.time() - t0


def run_job(job: Job, ws: Workspace, args, base_seconds: dict[str, float], equivalents: dict[str, str]) -> dict:
    ws.clean_build()
    t0 = time.time()
    record = {"id": job.id, "set": job.set, "file": job.file, "line": job.line, "op": job.op,
              "old": job.old, "new": job.new, "benches": [b for b, _ in job.selections]}
    try:
        original = job.apply(ws.rtl)
    except (StaleMutant, ValueError) as exc:
        return {**record, "status": "stale", "evidence": str(exc), "seconds": 0, "nodes": []}
    try:
        nodes = job_nodes(job, args.test_seed)
        log_dir = ws.root / "logs" / generate_safe(job.id)
        results = run_nodes(nodes, env=ws.env(), build_root=ws.build, log_dir=log_dir, jobs=args.jobs,
                            test_seed=args.test_seed,
                            sim_limit=lambda n: args.limit_factor * base_seconds.get(n, 60.0) + args.limit_extra,
                            build_limit=args.build_limit, stop_on_kill=True)
    finally:
        (ws.rtl / job.file).write_text(original)
    status = C.mutant_verdict([r.status for r in results])
    decisive = next((r for r in results if r.status == status), None)
    evidence = decisive.evidence if decisive else f"all {len(results)} nodes passed"
    if status == C.SURVIVED and job.id in equivalents:
        status, evidence = C.EQUIVALENT, equivalents[job.id]
    keep = MUTATE_DIR / "mutants" / generate_safe(job.id)
    shutil.rmtree(keep, ignore_errors=True)
    for r in results:
        if r.status != C.PASSED:
            keep.mkdir(parents=True, exist_ok=True)
            name = generate_safe(r.nodeid)
            if r.record is not None:
                (keep / f"{name}.failure.json").write_text(json.dumps(r.record, indent=1))
            src = log_dir / f"{name}.txt"
            if src.exists():
                shutil.copy(src, keep / f"{name}.pytest.txt")
    return {**record, "status": status, "evidence": evidence,
            "node": decisive.nodeid if decisive else None,
            "seconds": round(time.time() - t0, 1), "nodes_run": len(results), "nodes_total": len(nodes),
            "nodes": [{"node": r.nodeid, "status": r.status, "evidence": r.evidence,
                       "seconds": round(r.seconds, 1)} for r in results]}


STATUSES = (C.KILLED, C.SURVIVED, C.TIMEOUT, C.CRASHED, C.INVALID, C.EQUIVALENT, "stale")


def totals(records: list[dict]) -> dict:
    t = {s: sum(r["status"] == s for r in records) for s in STATUSES}
    scored = t[C.KILLED] + t[C.SURVIVED] + t[C.TIMEOUT] + t[C.CRASHED]
    t.update(mutants=len(records), scored=scored,
             rate=round(100.0 * t[C.KILLED] / scored, 1) if scored else None,
             seconds=round(sum(r.get("seconds", 0) for r in records), 1))
    return t


def score_line(t: dict) -> str:
    pct = math.floor(100.0 * t[C.KILLED] / t["scored"]) if t["scored"] else 0
    return f"mutation check: {t[C.KILLED]} of {t['scored']} killed ({pct}%)"


def report(set_name: str, records: list[dict], t: dict, target: float) -> None:
    print(f"\n{set_name} mutants: {t['mutants']}, {t['seconds']:.0f} s")
    print(score_line(t))
    print(f"  invalid {t[C.INVALID]}, timeout {t[C.TIMEOUT]}, crashed {t[C.CRASHED]}, "
          f"survived {t[C.SURVIVED]}, equivalent {t[C.EQUIVALENT]}" + (f", stale {t['stale']}" if t["stale"] else "")
          + f"; target {target:.0f}%")
    for r in records:
        if r["status"] != C.KILLED:
            where = f"{r['file']}:{r['line']}" if r.get("line") else r["file"]
            print(f"  {r['status']:10} {r['id']:44} {where}: {r['evidence'][:160]}")


def write_summary(sets: dict[str, dict]) -> Path:
    out = MUTATE_DIR / "summary.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = {}
    if out.exists():
        try:
            previous = json.loads(out.read_text()).get("sets", {})
        except (json.JSONDecodeError, AttributeError):
            previous = {}
    previous.update(sets)     # a run replaces the sets it ran, keeps the others (dated, with their rtl hash)
    out.write_text(json.dumps({"sets": previous}, indent=1))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", default="2", help="pytest nodes run at once (auto = CPU count)")
    ap.add_argument("--only", nargs="*",
                    help="mutants to run, by the id make mutate prints: named (x or named:x) or sampled "
                         "(<file>:<op>:<hash>, any generated mutant, drawn by --sample or not)")
    ap.add_argument("--sample", type=int, default=0, help="draw this many mutants from all of rtl/")
    ap.add_argument("--seed", type=int, default=1, help="generator seed of --sample")
    ap.add_argument("--named", action="store_true", help="with --sample: run the named set as well")
    ap.add_argument("--test-seed", type=int, default=1, help="bench seed (baseline and mutants alike)")
    ap.add_argument("--limit-factor", type=float, default=3.0,
                    help="wall-clock limit of a mutant's simulation: factor x the node's baseline simulation "
                         "time + --limit-extra")
    ap.add_argument("--limit-extra", type=float, default=60.0, help="seconds added to each simulation's limit")
    ap.add_argument("--build-limit", type=float, default=1800.0,
                    help="wall-clock limit of a build (and of a baseline simulation)")
    ap.add_argument("--list", action="store_true", help="list the mutants and their selections, run nothing")
    args = ap.parse_args(argv)
    args.jobs = (os.cpu_count() or 1) if args.jobs == "auto" else int(args.jobs)

    sets: dict[str, list[Job]] = {}
    only_named = [o for o in args.only or [] if not is_sampled_id(o)]
    only_sampled = [o for o in args.only or [] if is_sampled_id(o)]
    if only_named or (not args.only and (not args.sample or args.named)):
        sets["named"] = named_jobs(only_named)
    if only_sampled:
        sets["sampled"] = sampled_jobs(0, args.seed, ids=only_sampled)
    elif args.sample and not args.only:
        sets["sampled"] = sampled_jobs(args.sample, args.seed)
    if args.list:
        for name, jobs in sets.items():
            print(f"{name} ({len(jobs)}):")
            for j in jobs:
                print(f"  {j.describe()}\n      benches: {', '.join(f'{b}: {s}' for b, s in j.selections)}")
        return 0
    equivalents = load_equivalents()

    # the baseline: every node any selected mutant may run, on unmutated RTL
    all_nodes: list[str] = []
    for jobs in sets.values():
        for j in jobs:
            all_nodes += [n for n in job_nodes(j, args.test_seed) if n not in all_nodes]
    ws = Workspace(MUTATE_DIR / "work")
    ws.fresh()
    print(f"[mutate] baseline: {len(all_nodes)} test nodes on unmutated RTL (seed {args.test_seed}) ...", flush=True)
    ok, base, base_s = run_baseline(all_nodes, ws, args)
    base_seconds = {r.nodeid: r.sim_seconds if r.sim_seconds is not None else r.seconds for r in base}
    baseline = {"passed": ok, "nodes": len(all_nodes), "seconds": round(base_s, 1),
                "node_seconds": {k: round(v, 1) for k, v in base_seconds.items()},
                "failures": [{"node": r.nodeid, "status": r.status, "evidence": r.evidence}
                             for r in base if r.status != C.PASSED]}
    if not ok:
        print(f"[mutate] baseline FAILED ({len(baseline['failures'])} of {len(all_nodes)} nodes): the unmutated RTL "
              "fails its own selection, so no mutant can be scored", flush=True)
        for f in baseline["failures"]:
            print(f"  {f['status']:8} {f['node']}: {f['evidence'][:200]}")
        write_summary({name: {"baseline": baseline, "error": "baseline failed"} for name in sets})
        return 2
    print(f"[mutate] baseline passed: {len(all_nodes)} nodes in {base_s:.0f} s", flush=True)

    summary, rc = {}, 0
    for name, jobs in sets.items():
        records = []
        for i, job in enumerate(jobs, 1):
            print(f"[mutate] {name} {i}/{len(jobs)} {job.describe()} ...", flush=True)
            r = run_job(job, ws, args, base_seconds, equivalents)
            print(f"[mutate]   {r['status']} in {r['seconds']:.0f} s ({r.get('nodes_run', 0)}/"
                  f"{r.get('nodes_total', 0)} nodes): {r['evidence'][:160]}", flush=True)
            records.append(r)
        t = totals(records)
        summary[name] = {"generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         "rtl_hash": rtl_hash(), "test_seed": args.test_seed,
                         **({"sample": args.sample, "seed": args.seed} if name == "sampled" and not args.only else {}),
                         **({"only": [j.id for j in jobs]} if args.only else {}),
                         "baseline": baseline, "totals": t, "mutants": records}
        if t["stale"]:
            rc = 2
        elif (t["rate"] or 0.0) < TARGETS[name] and rc == 0:
            rc = 1
    ws.clean_build()
    print(f"\n[mutate] baseline: passed, {len(all_nodes)} nodes, {base_s:.0f} s")
    for name, s in summary.items():
        report(name, s["mutants"], s["totals"], TARGETS[name])
    print(f"summary: {write_summary(summary)}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
