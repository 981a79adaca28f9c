// Streaming exact top-k (docs/contracts.md section 10.2).
//
// A sorted insertion array of K_MAX slots, best first. Every accepted
// candidate is compared with all slots at once; the slots it beats move one
// place down and it takes the first of them, so the array stays sorted and
// holds the best K_MAX seen so far after one candidate per cycle. After the
// request's last beat the array shifts out from slot 0, one result per
// cycle, and is cleared for the next request.
//
// Cost: K_MAX slots of SCORE_W + ID_W + 1 flops, K_MAX comparators of
// SCORE_W + ID_W bits (the order of 10.1 is one unsigned compare of
// {score with its sign bit flipped, ~id}) and a 3-way mux per slot.
// Latency: a request of B beats with K results takes B + K cycles from its
// first beat in to its last result out; the input stalls while the answer
// is output (one array: no overlap of a request's input with the previous
// answer).
module topk_unit #(
    parameter int K_MAX   = 256,
    parameter int N_MAX   = 4096,
    parameter int SCORE_W = 32,
    parameter int ID_W    = 16,
    parameter int K_W     = 16,
    localparam int N_W    = $clog2(N_MAX + 2)   // counts up to N_MAX + 1 (saturating)
) (
    input  logic                      clk,
    input  logic                      rst_n,
    // candidates: one per beat; s_keep = 0 is a null beat; s_k read on a request's first beat
    input  logic                      s_valid,
    output logic                      s_ready,
    input  logic signed [SCORE_W-1:0] s_score,
    input  logic [ID_W-1:0]           s_id,
    input  logic                      s_keep,
    input  logic                      s_last,
    input  logic [K_W-1:0]            s_k,
    // answer: K results best first, or one error beat
    output logic                      m_valid,
    input  logic                      m_ready,
    output logic signed [SCORE_W-1:0] m_score,
    output logic [ID_W-1:0]           m_id,
    output logic [2:0]                m_err,
    output logic                      m_last,
    // the build, for a bench or a CSR block
    output logic [31:0]               cap_k_max,
    output logic [31:0]               cap_n_max
);
    localparam int KEY_W = SCORE_W + ID_W;
    localparam int CNT_W = $clog2(K_MAX + 1);

    // error codes (models/topk.py TopkErr)
    localparam logic [2:0] ERR_NONE       = 3'd0;
    localparam logic [2:0] ERR_K_ZERO     = 3'd1;
    localparam logic [2:0] ERR_K_OVER_MAX = 3'd2;
    localparam logic [2:0] ERR_N_ZERO     = 3'd3;
    localparam logic [2:0] ERR_N_OVER_MAX = 3'd4;
    localparam logic [2:0] ERR_K_OVER_N   = 3'd5;

    assign cap_k_max = 32'(K_MAX);
    assign cap_n_max = 32'(N_MAX);

    // one unsigned compare gives the order of 10.1: higher score first, then lower id
    function automatic logic [KEY_W-1:0] key_of(input logic [SCORE_W-1:0] score,
                                                input logic [ID_W-1:0] id);
`ifdef INJECT_BUGS
        // injected bug (+TOPK_BUG_TIE_REVERSED): equal scores put the higher id first
        if ($test$plusargs("TOPK_BUG_TIE_REVERSED")) return {~score[SCORE_W-1], score[SCORE_W-2:0], id};
`endif
        return {~score[SCORE_W-1], score[SCORE_W-2:0], ~id};
    endfunction

    typedef enum logic {ST_IN, ST_OUT} state_e;
    state_e state;

    logic [SCORE_W-1:0] slot_score [K_MAX];
    logic [ID_W-1:0]    slot_id    [K_MAX];
    logic               slot_vld   [K_MAX];

    logic             first;      // the next accepted beat starts a request
    logic [K_W-1:0]   k_reg;
    logic [N_W-1:0]   n_cnt;      // candidates so far, saturating at N_MAX + 1
    logic [CNT_W-1:0] out_cnt;    // results sent of this answer
    logic [2:0]       err_reg;

    wire in_fire  = s_valid && s_ready;
    wire out_fire = m_valid && m_ready;
    wire insert   = in_fire && s_keep;

    // ---- the request's K, N and error code at its last beat ----------------
    logic [K_W-1:0] k_now;
    logic [N_W-1:0] n_now;
    logic [2:0]     err_now;
    localparam int KN_W = (K_W > N_W) ? K_W : N_W;   // compares K with N
    assign k_now = first ? s_k : k_reg;
    assign n_now = (s_keep && n_cnt <= N_W'(N_MAX)) ? n_cnt + N_W'(1) : n_cnt;

    always_comb begin
        if (k_now == '0)                          err_now = ERR_K_ZERO;
        else if (32'(k_now) > 32'(K_MAX))         err_now = ERR_K_OVER_MAX;
        else if (n_now == '0)                     err_now = ERR_N_ZERO;
        else if (32'(n_now) > 32'(N_MAX))         err_now = ERR_N_OVER_MAX;
`ifdef INJECT_BUGS
        // injected bug (+TOPK_BUG_K_OVER_N_BOUND): K = N + 1 passes the check (and answers with an empty slot)
        else if ($test$plusargs("TOPK_BUG_K_OVER_N_BOUND") && KN_W'(k_now) == KN_W'(n_now) + KN_W'(1)) err_now = ERR_NONE;
`endif
        else if (KN_W'(k_now) > KN_W'(n_now))            err_now = ERR_K_OVER_N;
        else                                             err_now = ERR_NONE;
    end

    // ---- the insertion array ----------------------------------------------
    // beats[i]: the incoming candidate ranks before slot i (an empty slot loses
    // to anything). The slots are sorted with the valid ones first, so beats is
    // 0...01...1 and the candidate lands in the first slot it beats, the slots
    // below it moving down one place.
    logic [KEY_W-1:0] in_key;
    logic [K_MAX-1:0] beats;
    logic [K_MAX-1:0] beats_above;   // beats of the slot above (none above slot 0)
    assign in_key = key_of(s_score, s_id);
    always_comb begin
        for (int i = 0; i < K_MAX; i++)
            beats[i] = !slot_vld[i] || in_key > key_of(slot_score[i], slot_id[i]);
    end
    assign beats_above = beats << 1;

    logic shift_out;   // the answer beat in slot 0 is taken: every slot moves up one
`ifdef INJECT_BUGS
    // injected bug (+TOPK_BUG_STALL_SHIFT): the array shifts whether or not the result was taken
    assign shift_out = ($test$plusargs("TOPK_BUG_STALL_SHIFT") ? m_valid : out_fire) && err_reg == ERR_NONE;
`else
    assign shift_out = out_fire && err_reg == ERR_NONE;
`endif
    wire answer_done = out_fire && m_last;

    for (genvar i = 0; i < K_MAX; i++) begin : g_slot
        logic [SCORE_W-1:0] above_score, below_score;   // slot i-1 and slot i+1
        logic [ID_W-1:0]    above_id, below_id;
        logic               above_vld, below_vld;
        if (i == 0) begin : g_first
            // never used: the candidate itself is what lands in slot 0
            assign above_score = s_score;
            assign above_id    = s_id;
            assign above_vld   = 1'b1;
        end else begin : g_above
            assign above_score = slot_score[i - 1];
            assign above_id    = slot_id[i - 1];
            assign above_vld   = slot_vld[i - 1];
        end
        if (i == K_MAX - 1) begin : g_last
            assign below_score = '0;
            assign below_id    = '0;
            assign below_vld   = 1'b0;
        end else begin : g_below
            assign below_score = slot_score[i + 1];
            assign below_id    = slot_id[i + 1];
            assign below_vld   = slot_vld[i + 1];
        end

        always_ff @(posedge clk) begin
            if (!rst_n || answer_done) begin
                slot_vld[i] <= 1'b0;
            end else if (insert && beats[i]) begin
                slot_score[i] <= beats_above[i] ? above_score : s_score;
                slot_id[i]    <= beats_above[i] ? above_id : s_id;
                slot_vld[i]   <= beats_above[i] ? above_vld : 1'b1;
            end else if (shift_out) begin
                slot_score[i] <= below_score;
                slot_id[i]    <= below_id;
                slot_vld[i]   <= below_vld;
            end
        end
    end

    // ---- control ------------------------------------------------------------
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            state   <= ST_IN;
            first   <= 1'b1;
            k_reg   <= '0;
            n_cnt   <= '0;
            out_cnt <= '0;
            err_reg <= ERR_NONE;
        end else begin
            case (state)
                ST_IN: if (in_fire) begin
                    first <= s_last;
                    if (first) k_reg <= s_k;
                    if (s_last) begin
                        state   <= ST_OUT;
                        k_reg   <= k_now;
                        err_reg <= err_now;
                        n_cnt   <= '0;
                        out_cnt <= '0;
                    end else begin
                        n_cnt <= n_now;
                    end
                end
                default: if (out_fire) begin
                    out_cnt <= out_cnt + CNT_W'(1);
                    if (m_last) state <= ST_IN;
                end
            endcase
        end
    end

    assign s_ready = state == ST_IN;
    assign m_valid = state == ST_OUT;
    assign m_err   = err_reg;
    assign m_score = err_reg == ERR_NONE ? slot_score[0] : '0;
    assign m_id    = err_reg == ERR_NONE ? slot_id[0] : '0;
`ifdef INJECT_BUGS
    // injected bug (+TOPK_BUG_K_OFF_BY_ONE): one result too many
    assign m_last  = err_reg != ERR_NONE || 32'(out_cnt) + ($test$plusargs("TOPK_BUG_K_OFF_BY_ONE") ? 0 : 1) == 32'(k_reg);
`else
    assign m_last  = err_reg != ERR_NONE || 32'(out_cnt) + 1 == 32'(k_reg);
`endif

    // ---- assertions -------------------------------------------------------------
    // assertions hold from the first reset on: simulation starts from random state
    // (Verilator --x-initial unique), with no meaning before reset; the initial value
    // is the point here (an FPGA register's power-up value), hence the one waiver
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    // an offered result stays until taken; so must an offered candidate (the
    // upstream's duty, checked here so a system bench sees who broke it)
    a_out_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_valid && !m_ready |=> m_valid && $stable(m_score) && $stable(m_id) && $stable(m_err)
                                && $stable(m_last))
        else $error("topk_unit: result changed before m_ready");
    a_in_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        s_valid && !s_ready |=> s_valid && $stable(s_score) && $stable(s_id) && $stable(s_keep)
                                && $stable(s_last))
        else $error("topk_unit: candidate changed before s_ready");

    // the slots stay sorted, valid ones first: what makes the insertion exact
    logic slots_sorted;
    always_comb begin
        slots_sorted = 1'b1;
        for (int i = 0; i + 1 < K_MAX; i++) begin
            if (slot_vld[i + 1] && (!slot_vld[i]
                    || key_of(slot_score[i], slot_id[i]) < key_of(slot_score[i + 1], slot_id[i + 1])))
                slots_sorted = 1'b0;
        end
    end
    a_slots_sorted: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) slots_sorted)
        else $error("topk_unit: slots out of order");
endmodule
