// The accelerator's result path with a top-k unit (microrec_top, TOPK = 1 builds;
// docs/contracts.md s.10.6).
//
// In: the per-query results in query order (r_*: the MLP's logit or an error
// record). Out: the result stream m_* of the top.
//  * r_pass (TOPK_CTRL.enable low, or a query the top answers ERR_BAD_CONFIG
//    because its configuration is illegal): the result leaves as it is.
//  * otherwise the result is a top-k candidate: score = the logit, id = query id
//    [15:0], last = query id bit 31, keep = 0 for a null query (id bit 30) or an
//    error record. The unit's answer beats leave instead: id = {last, 15'b0,
//    candidate id}, logit = score, err 0; an illegal request one beat with err =
//    ERR_TOPK, err_table = the unit's code (1..5), id bit 31 set.
// The answer has priority at the output; a passing result waits while an answer
// is out. Within a request no passing result can sit between candidates (the
// configuration changes only while STATUS.busy is low), so a result offered on
// m_* is never replaced before it is taken.
// e_*: the error record the CSR block captures this cycle (ERR / ERR_QID): a
// candidate's error record as the unit takes it (it never leaves itself), or an
// error beat as it leaves.
module topk_result_path
    import lookup_pkg::*;
#(
    parameter int K_MAX = 256,
    parameter int N_MAX = 4096
) (
    input  logic        clk,
    input  logic        rst_n,
    input  logic [15:0] cfg_k,          // TOPK_CTRL.k
    // per-query results, in query order
    input  logic        r_valid,
    output logic        r_ready,
    input  logic        r_pass,         // leaves as it is (no top-k)
    input  logic [31:0] r_id,
    input  logic [31:0] r_logit,
    input  logic [3:0]  r_err,
    input  logic [7:0]  r_err_table,
    input  logic [7:0]  r_err_engine,
    // the result stream
    output logic        m_valid,
    input  logic        m_ready,
    output logic [31:0] m_id,
    output logic [31:0] m_logit,
    output logic [3:0]  m_err,
    output logic [7:0]  m_err_table,
    output logic [7:0]  m_err_engine,
    // error record for the CSR capture
    output logic        e_valid,
    output logic [3:0]  e_code,
    output logic [7:0]  e_table,
    output logic [7:0]  e_engine,
    output logic [31:0] e_qid,
    output logic        busy,           // an answer is waiting to leave
    output logic        cand_taken      // the unit took a candidate (keep = 1) this cycle
);
    logic        tk_s_valid, tk_s_ready, tk_keep, tk_m_valid, tk_m_ready, tk_m_last;
    logic [31:0] tk_m_score;
    logic [15:0] tk_m_id;
    logic [2:0]  tk_m_err;
    logic [31:0] cap_k_max, cap_n_max;

    assign tk_s_valid = r_valid && !r_pass;
`ifdef INJECT_BUGS
    // injected bug (+TOP_BUG_TOPK_DROP_LAST): the last candidate of a request is a null beat
    assign tk_keep = !r_id[30] && r_err == ERR_NONE && !(r_id[31] && $test$plusargs("TOP_BUG_TOPK_DROP_LAST"));
`else
    assign tk_keep = !r_id[30] && r_err == ERR_NONE;
`endif
    assign r_ready    = r_pass ? m_ready && !tk_m_valid : tk_s_ready;
    assign tk_m_ready = m_ready;
    assign cand_taken = tk_s_valid && tk_s_ready && tk_keep;

    topk_unit #(.K_MAX(K_MAX), .N_MAX(N_MAX), .SCORE_W(32), .ID_W(16), .K_W(16)) u_topk (
        .clk, .rst_n,
        .s_valid(tk_s_valid), .s_ready(tk_s_ready), .s_score(r_logit), .s_id(r_id[15:0]),
        .s_keep(tk_keep), .s_last(r_id[31]), .s_k(cfg_k),
        .m_valid(tk_m_valid), .m_ready(tk_m_ready), .m_score(tk_m_score), .m_id(tk_m_id),
        .m_err(tk_m_err), .m_last(tk_m_last), .cap_k_max, .cap_n_max
    );

    assign m_valid      = tk_m_valid || (r_valid && r_pass);
    assign m_id         = tk_m_valid ? {tk_m_last, 15'd0, tk_m_id} : r_id;
    assign m_logit      = tk_m_valid ? tk_m_score : r_logit;
    assign m_err        = !tk_m_valid ? r_err : (tk_m_err != 3'd0) ? ERR_TOPK : ERR_NONE;
    assign m_err_table  = tk_m_valid ? 8'(tk_m_err) : r_err_table;
    assign m_err_engine = tk_m_valid ? 8'd0 : r_err_engine;
    assign busy         = tk_m_valid;

    // a candidate's error record is captured as the unit takes it; the unit takes no
    // input while its answer is out, so the two sources never meet in one cycle
    logic cand_err;
    assign cand_err = tk_s_valid && tk_s_ready && r_err != ERR_NONE;
    assign e_valid  = cand_err || (m_valid && m_ready && m_err != ERR_NONE);
    assign e_code   = cand_err ? r_err : m_err;
    assign e_table  = cand_err ? r_err_table : m_err_table;
    assign e_engine = cand_err ? r_err_engine : m_err_engine;
    assign e_qid    = cand_err ? r_id : m_id;

    logic unused_caps;
    assign unused_caps = ^{cap_k_max, cap_n_max};
endmodule
