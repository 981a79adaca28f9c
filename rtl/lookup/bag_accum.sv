// Bag accumulator (docs/contracts.md s.9.2, s.9.9): the pooling stage after
// the feature gather when queries are multi-hot.
//
// Multi-hot mode: each query's record (bag_expander, in query order) says how
// many sub-queries it was split into; their feature vectors leave the gather
// in the same order. Every element is summed over the query's sub-queries in a
// 32-bit signed accumulator (void lookups read as zero rows, so each element
// sums exactly its table's bag); with the last sub-query, per element, the
// pool_shift of the logical table owning it (elem_lt, from the descriptors'
// feature offsets) is applied, round half up, then sat16. An error record
// (from the ingress) leaves at once with a zero vector; a memory error of any
// sub-query makes the query an error: the first in sub-query order is kept
// and the vector is zero.
// One-hot mode (cfg_multihot = 0): a wire from the gather to m_feat.
module bag_accum
    import lookup_pkg::*;
#(
    parameter int FEAT_MAX = 256,
    parameter int T_MAX    = 16,
    parameter int L_MAX    = 64,
    parameter int QID_W    = 32,
    parameter int PID_W    = 4,
    parameter int ENG_W    = 3,
    parameter int NSUB_W   = $clog2(L_MAX + 1),
    parameter int TID_W    = $clog2(T_MAX)
) (
    input  logic                              clk,
    input  logic                              rst_n,
    input  logic                              cfg_multihot,
    input  logic [T_MAX*4-1:0]                cfg_pool_shift,   // table t in [4t +: 4]
    input  logic [FEAT_MAX-1:0][TID_W-1:0]    elem_lt,          // logical table of each feature element
    // query records, in query order
    input  logic                              s_rec_valid,
    output logic                              s_rec_ready,
    input  logic [31:0]                       s_rec_qid,
    input  logic [3:0]                        s_rec_err,
    input  logic [7:0]                        s_rec_table,
    input  logic [NSUB_W-1:0]                 s_rec_nsub,
    // the gather's head: one feature vector per (sub-)query
    input  logic                              s_valid,
    output logic                              s_ready,
    input  logic [QID_W-1:0]                  s_id,
    input  logic [FEAT_MAX*16-1:0]            s_data,
    input  logic [3:0]                        s_err,
    input  logic [PID_W-1:0]                  s_err_p,
    input  logic [ENG_W-1:0]                  s_err_eng,
    // pooled feature vectors
    output logic                              m_valid,
    input  logic                              m_ready,
    output logic [QID_W-1:0]                  m_id,
    output logic [FEAT_MAX*16-1:0]            m_data,
    output logic [3:0]                        m_err,
    output logic [7:0]                        m_err_table,
    output logic [7:0]                        m_err_engine,
    output logic                              busy
);
    logic signed [31:0] acc [FEAT_MAX];
    logic [NSUB_W-1:0]  cnt;            // sub-queries of the head record taken so far
    logic [3:0]         a_err;
    logic [PID_W-1:0]   a_err_p;
    logic [ENG_W-1:0]   a_err_eng;

    logic               o_valid;
    logic [QID_W-1:0]   o_id;
    logic [FEAT_MAX*16-1:0] o_data;
    logic [3:0]         o_err;
    logic [7:0]         o_table, o_eng;

    logic o_free, rec_is_err, last, take_sub, take_err;
    assign o_free     = !o_valid || m_ready;
    assign rec_is_err = s_rec_err != ERR_NONE;
    assign last       = cnt + 1'b1 >= s_rec_nsub;

    // multi-hot: a sub-query is taken while its record is known (and, for the last, the output is free)
    logic mh_s_ready;
    assign mh_s_ready = s_rec_valid && !rec_is_err && (!last || o_free);
    assign take_sub   = cfg_multihot && s_valid && mh_s_ready;
    assign take_err   = cfg_multihot && s_rec_valid && rec_is_err && o_free;
    assign s_rec_ready = cfg_multihot && ((rec_is_err && o_free) || (!rec_is_err && s_valid && mh_s_ready && last));

    // the running sums with this sub-query added, and the first error so far
    logic signed [31:0] sum [FEAT_MAX];
    logic [3:0]         e_new;
    logic [PID_W-1:0]   e_new_p;
    logic [ENG_W-1:0]   e_new_eng;
    always_comb begin
        for (int k = 0; k < FEAT_MAX; k++) begin
            automatic logic signed [31:0] base = (cnt == '0) ? 32'sd0 : acc[k];
`ifdef INJECT_BUGS
            // injected bug (+LOOKUP_BUG_BAG_DROP_LAST): the last sub-query of a bag is not added
            if ($test$plusargs("LOOKUP_BUG_BAG_DROP_LAST") && last) sum[k] = base;
            else
`endif
            sum[k] = base + 32'(signed'(s_data[16 * k +: 16]));
        end
        // a query with no error names table 0, engine 0 (as the gather does)
        e_new     = (cnt == '0) ? ERR_NONE : a_err;
        e_new_p   = (cnt == '0) ? '0 : a_err_p;
        e_new_eng = (cnt == '0) ? '0 : a_err_eng;
        if (e_new == ERR_NONE && s_err != ERR_NONE) begin
            e_new     = s_err;
            e_new_p   = s_err_p;
            e_new_eng = s_err_eng;
        end
    end

    // s.9.2: sat16(S) or sat16((S + 2^(s-1)) >>> s), s the element's table's pool_shift
    function automatic logic [15:0] pool_elem(input logic signed [31:0] s, input logic [3:0] sh);
        logic signed [31:0] r;
        if (sh == 4'd0) r = s;
        else            r = (s + (32'sd1 <<< (sh - 4'd1))) >>> sh;
        if (r > 32'sd32767)       return 16'h7FFF;
        else if (r < -32'sd32768) return 16'h8000;
        else                      return r[15:0];
    endfunction

    logic [FEAT_MAX*16-1:0] pooled;
    always_comb begin
        for (int k = 0; k < FEAT_MAX; k++) begin
            pooled[16 * k +: 16] = pool_elem(sum[k], cfg_pool_shift[4 * 32'(elem_lt[k]) +: 4]);
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            cnt     <= '0;
            o_valid <= 1'b0;
            a_err   <= ERR_NONE;
        end else begin
            if (m_valid && m_ready && cfg_multihot) o_valid <= 1'b0;
            if (take_err) begin
                o_valid <= 1'b1;
            end else if (take_sub) begin
                if (last) begin
                    cnt     <= '0;
                    o_valid <= 1'b1;
                end else begin
                    cnt <= cnt + 1'b1;
                end
                a_err <= e_new;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (take_err) begin
            o_id    <= QID_W'(s_rec_qid);
            o_data  <= '0;
            o_err   <= s_rec_err;
            o_table <= s_rec_table;
            o_eng   <= '0;
        end else if (take_sub) begin
            for (int k = 0; k < FEAT_MAX; k++) acc[k] <= sum[k];
            a_err_p   <= e_new_p;
            a_err_eng <= e_new_eng;
            if (last) begin
                o_id    <= QID_W'(s_rec_qid);
                o_data  <= (e_new == ERR_NONE) ? pooled : '0;
                o_err   <= e_new;
                o_table <= 8'(e_new_p);
                o_eng   <= 8'(e_new_eng);
            end
        end
    end

    // one-hot mode: the gather's head straight through
    assign s_ready      = cfg_multihot ? mh_s_ready : m_ready;
    assign m_valid      = cfg_multihot ? o_valid : s_valid;
    assign m_id         = cfg_multihot ? o_id : s_id;
    assign m_data       = cfg_multihot ? o_data : s_data;
    assign m_err        = cfg_multihot ? o_err : s_err;
    assign m_err_table  = cfg_multihot ? o_table : 8'(s_err_p);
    assign m_err_engine = cfg_multihot ? o_eng : 8'(s_err_eng);
    assign busy         = cfg_multihot && (cnt != '0 || o_valid);

    // a record and the vectors it counts must agree: nothing but a sub-query arrives for it
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */
    a_sub_has_record: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        cfg_multihot && s_valid && cnt != '0 |-> s_rec_valid && !rec_is_err)
        else $error("bag_accum: a sub-query vector with no query record open");
    a_nsub_legal: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        cfg_multihot && s_rec_valid && !rec_is_err |-> s_rec_nsub != '0)
        else $error("bag_accum: a query record with no sub-queries");
endmodule
