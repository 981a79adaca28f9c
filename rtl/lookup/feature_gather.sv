// Feature gather: one feature buffer per query slot of the ring. Engine
// results land at the feature offsets of their descriptor (a product row's
// two halves at the offsets of A and of B, so the vector is always in the
// logical concatenation order). When a slot has all of its lookups, and it
// is the oldest, it leaves in query order with its first error, if any.
module feature_gather
    import lookup_pkg::*;
#(
    parameter int NUM_ENG  = 4,
    parameter int QDEPTH   = 16,
    parameter int P_MAX    = 16,
    parameter int DIM_MAX  = 64,
    parameter int FEAT_MAX = 256,
    parameter int SLOT_W   = $clog2(QDEPTH),
    parameter int QSEQ_W   = SLOT_W + 1,
    parameter int PID_W    = $clog2(P_MAX),
    parameter int ENG_W    = (NUM_ENG > 1) ? $clog2(NUM_ENG) : 1,
    parameter int ROW_W    = DIM_MAX * 16
) (
    input  logic                              clk,
    input  logic                              rst_n,
    input  logic [PID_W:0]                    n_lookups,   // lookups per query
    input  logic                              cfg_bad,     // committed config is illegal
    // a query enters the ring (slot = q_tail)
    input  logic                              alloc,
    input  logic [SLOT_W-1:0]                 alloc_slot,
    input  logic [QSEQ_W-1:0]                 q_head,
    input  logic [QSEQ_W-1:0]                 q_tail,
    // engine results
    input  logic [NUM_ENG-1:0]                res_valid,
    input  logic [NUM_ENG-1:0][SLOT_W-1:0]    res_slot,
    input  logic [NUM_ENG-1:0][3:0]           res_err,
    input  logic [NUM_ENG-1:0][PID_W-1:0]     res_p,
    input  logic [NUM_ENG-1:0][ROW_W-1:0]     res_row,
    input  logic [NUM_ENG-1:0][8:0]           res_dim,
    input  logic [NUM_ENG-1:0][8:0]           res_dim_a,
    input  logic [NUM_ENG-1:0][15:0]          res_off_a,
    input  logic [NUM_ENG-1:0][15:0]          res_off_b,
    // the oldest query, when complete
    output logic                              head_ready,   // all lookups of q_head are in
    output logic [FEAT_MAX*16-1:0]            head_feat,
    output logic [3:0]                        head_err,
    output logic [PID_W-1:0]                  head_err_p,
    output logic [ENG_W-1:0]                  head_err_eng
);
    logic [15:0]       feat     [QDEPTH][FEAT_MAX];
    logic [PID_W:0]    done_cnt [QDEPTH];
    logic [3:0]        err_code [QDEPTH];
    logic [PID_W-1:0]  err_p    [QDEPTH];
    logic [ENG_W-1:0]  err_eng  [QDEPTH];

    logic [SLOT_W-1:0] head_slot;
    assign head_slot = q_head[SLOT_W-1:0];

    // element k of an engine's row: where it goes in the feature vector
    function automatic logic [31:0] feat_pos(input logic [8:0] kk, input logic [8:0] dim_a,
                                             input logic [15:0] off_a, input logic [15:0] off_b);
        return (kk < dim_a) ? 32'(off_a) + 32'(kk) : 32'(off_b) + 32'(kk) - 32'(dim_a);
    endfunction

    always_ff @(posedge clk) begin
        if (alloc) begin
            for (int j = 0; j < FEAT_MAX; j++) begin
                feat[alloc_slot][j] <= '0;
            end
        end
        for (int e = 0; e < NUM_ENG; e++) begin
`ifdef INJECT_BUGS
            // injected bug (+LOOKUP_BUG_DROP_ROW): engine 0's rows are counted but never written
            if (e == 0 && $test$plusargs("LOOKUP_BUG_DROP_ROW")) begin end else
`endif
            if (res_valid[e]) begin
                for (int kk = 0; kk < DIM_MAX; kk++) begin
                    if (9'(kk) < res_dim[e]) begin
                        automatic logic [31:0] pos = feat_pos(9'(kk), res_dim_a[e], res_off_a[e], res_off_b[e]);
                        if (pos < FEAT_MAX) begin
                            feat[res_slot[e]][pos[$clog2(FEAT_MAX)-1:0]] <= res_row[e][16*kk +: 16];
                        end
                    end
                end
            end
        end
    end

    // completion counting and the first error of each slot
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            for (int s = 0; s < QDEPTH; s++) begin
                done_cnt[s] <= '0;
                err_code[s] <= ERR_NONE;
            end
        end else begin
            automatic logic [PID_W:0] cnt_next [QDEPTH];
            automatic logic [3:0]     code_next [QDEPTH];
            for (int s = 0; s < QDEPTH; s++) begin
                cnt_next[s]  = done_cnt[s];
                code_next[s] = err_code[s];
            end
            if (alloc) begin
                cnt_next[alloc_slot]  = '0;
                code_next[alloc_slot] = cfg_bad ? ERR_BAD_CONFIG : ERR_NONE;
                err_p[alloc_slot]     <= '0;
                err_eng[alloc_slot]   <= '0;
            end
            for (int e = 0; e < NUM_ENG; e++) begin
                if (res_valid[e]) begin
                    cnt_next[res_slot[e]] = cnt_next[res_slot[e]] + 1'b1;
                    if (res_err[e] != ERR_NONE && code_next[res_slot[e]] == ERR_NONE) begin
                        code_next[res_slot[e]] = res_err[e];
                        err_p[res_slot[e]]     <= res_p[e];
                        err_eng[res_slot[e]]   <= ENG_W'(e);
                    end
                end
            end
            for (int s = 0; s < QDEPTH; s++) begin
                done_cnt[s] <= cnt_next[s];
                err_code[s] <= code_next[s];
            end
        end
    end

    assign head_ready = (q_head != q_tail) &&
                        (cfg_bad || done_cnt[head_slot] == n_lookups);
    assign head_err     = err_code[head_slot];
    assign head_err_p   = err_p[head_slot];
    assign head_err_eng = err_eng[head_slot];
    always_comb begin
        for (int j = 0; j < FEAT_MAX; j++) begin
            head_feat[16*j +: 16] = feat[head_slot][j];
        end
    end
endmodule
