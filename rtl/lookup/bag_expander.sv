// Bag expander (docs/contracts.md s.9.9, "sub-query expansion"): turns one
// multi-hot query into a run of one-hot *sub-queries* for the lookup ring.
//
// A headed packet's index groups (query_packet_ingress_wide, W lanes) are
// written into a flat index buffer, one group per cycle at word b * W; the
// buffer is doubled, so the next packet's indices stream in while the current
// query is expanded. Sub-query j carries, for every logical table t, index j of
// t's bag (word start_t + j of the buffer, start_t = len_0 + .. + len_{t-1})
// and a void bit (j >= len_t): one sub-query per cycle, max(1, max_t len_t) of
// them (an all-empty query still emits one all-void sub-query).
//
// Header records and error records (which leave the ingress on different
// streams) are merged back into packet order by seq: the expander takes only
// the record whose seq is next. A headed query whose last entry aborts emits
// no sub-queries: its error record answers for it. For every packet exactly one
// record enters the in-order record FIFO {qid, error code and table, number of
// sub-queries} and one beat the dense FIFO {qid, dense features; zeros for an
// error record}, at the moment the query's fate is known (its last index group
// or its error record), before any of its lookups.
module bag_expander
    import lookup_pkg::*;
#(
    parameter int W           = 32,    // index lanes per group (the ingress's words per beat)
    parameter int T_MAX       = 16,
    parameter int D_MAX       = 16,
    parameter int L_MAX       = 64,
    parameter int SEQ_W       = 16,
    parameter int REC_DEPTH   = 16,    // records between the expander and bag_accum
    parameter int DENSE_DEPTH = 16,    // dense beats waiting for the consumer
    parameter int NSUB_W      = $clog2(L_MAX + 1)
) (
    input  logic                 clk,
    input  logic                 rst_n,
    // from query_packet_ingress_wide
    input  logic                 s_hdr_valid,
    output logic                 s_hdr_ready,
    input  logic [31:0]          s_hdr_qid,
    input  logic [SEQ_W-1:0]     s_hdr_seq,
    input  logic [T_MAX*16-1:0]  s_hdr_len,
    input  logic [D_MAX*16-1:0]  s_hdr_dense,
    input  logic                 s_idx_valid,
    output logic                 s_idx_ready,
    input  logic [W-1:0]         s_idx_mask,
    input  logic [W*32-1:0]      s_idx_index,
    input  logic [W-1:0]         s_idx_last_query,
    input  logic [W-1:0]         s_idx_abort,
    input  logic                 s_err_valid,
    output logic                 s_err_ready,
    input  logic [31:0]          s_err_qid,
    input  logic [SEQ_W-1:0]     s_err_seq,
    input  logic [3:0]           s_err_code,
    input  logic [7:0]           s_err_table,
    // sub-queries to the lookup ring
    output logic                 m_sq_valid,
    input  logic                 m_sq_ready,
    output logic [31:0]          m_sq_id,
    output logic [T_MAX*32-1:0]  m_sq_idx,
    output logic [T_MAX-1:0]     m_sq_void,
    // in-order query records (to bag_accum)
    output logic                 m_rec_valid,
    input  logic                 m_rec_ready,
    output logic [31:0]          m_rec_qid,
    output logic [3:0]           m_rec_err,
    output logic [7:0]           m_rec_table,
    output logic [NSUB_W-1:0]    m_rec_nsub,     // sub-queries of the query (0 for an error record)
    // dense features, one beat per query in query order
    output logic                 m_dense_valid,
    input  logic                 m_dense_ready,
    output logic [31:0]          m_dense_qid,
    output logic [D_MAX*16-1:0]  m_dense_data,
    // a query is being collected or expanded
    output logic                 busy
);
    localparam int NWORDS = ((T_MAX * L_MAX + W - 1) / W) * W;   // buffer words (whole groups)
    localparam int NROWS  = NWORDS / W;
    localparam int POS_W  = $clog2(NWORDS + L_MAX + 1);
    localparam int GRP_W  = $clog2(NROWS + 1);
    localparam int IW     = (NWORDS > 1) ? $clog2(NWORDS) : 1;
    localparam int RP_W   = (REC_DEPTH > 1) ? $clog2(REC_DEPTH) : 1;
    localparam int DP_W   = (DENSE_DEPTH > 1) ? $clog2(DENSE_DEPTH) : 1;

    // ---------------------------------------------------------------------
    // the two index buffers and their queries
    // ---------------------------------------------------------------------
    logic [31:0]       ibuf     [2][NWORDS];
    logic [NSUB_W-1:0] b_len    [2][T_MAX];
    logic [POS_W-1:0]  b_start  [2][T_MAX];
    logic [NSUB_W-1:0] b_nsub   [2];
    logic [31:0]       b_qid    [2];
    logic [1:0]        full;            // buffer holds a query ready to expand
    logic              fp, xp;          // buffer being filled / expanded
    logic              f_active;        // a header taken, its index groups coming
    logic [GRP_W-1:0]  grp;             // next group of the query being filled
    logic [D_MAX*16-1:0] f_dense;
    logic [SEQ_W-1:0]  next_seq;        // the packet whose record is due
    logic [NSUB_W-1:0] j;               // next sub-query of buffer xp

    // ---- record and dense FIFOs -------------------------------------------
    logic [31:0]        rec_qid   [REC_DEPTH];
    logic [3:0]         rec_err   [REC_DEPTH];
    logic [7:0]         rec_tab   [REC_DEPTH];
    logic [NSUB_W-1:0]  rec_nsub  [REC_DEPTH];
    logic [RP_W:0]      rec_cnt;
    logic [RP_W-1:0]    rec_rd, rec_wr;
    logic [31:0]        den_qid   [DENSE_DEPTH];
    logic [D_MAX*16-1:0] den_data [DENSE_DEPTH];
    logic [DP_W:0]      den_cnt;
    logic [DP_W-1:0]    den_rd, den_wr;
    logic               room;           // both FIFOs can take a record this cycle
    logic               push;
    logic [31:0]        push_qid;
    logic [3:0]         push_err;
    logic [7:0]         push_tab;
    logic [NSUB_W-1:0]  push_nsub;
    logic [D_MAX*16-1:0] push_dense;

    assign room = (32'(rec_cnt) < REC_DEPTH) && (32'(den_cnt) < DENSE_DEPTH);

    // ---- the header being taken: bag starts and the number of sub-queries ----
    logic [POS_W-1:0]  h_start [T_MAX];
    logic [NSUB_W-1:0] h_len   [T_MAX];
    logic [NSUB_W-1:0] h_nsub;
    always_comb begin
        automatic logic [POS_W-1:0] acc = '0;
        h_nsub = NSUB_W'(1);
        for (int t = 0; t < T_MAX; t++) begin
            // the ingress refuses a bag longer than L_MAX: the length fits NSUB_W
            h_len[t]   = NSUB_W'(s_hdr_len[16 * t +: 16]);
            h_start[t] = acc;
            acc        = acc + POS_W'(h_len[t]);
            if (h_len[t] > h_nsub) h_nsub = h_len[t];
        end
    end

    logic hdr_take, idx_take, err_take, grp_last, grp_abort, sq_take, sq_last;
    assign s_hdr_ready = !f_active && !full[fp] && s_hdr_seq == next_seq;
    assign hdr_take    = s_hdr_valid && s_hdr_ready;
    assign s_idx_ready = f_active && room;
    assign idx_take    = s_idx_valid && s_idx_ready;
    assign grp_last    = |(s_idx_mask & s_idx_last_query);
    assign grp_abort   = |(s_idx_mask & s_idx_last_query & s_idx_abort);
    // a headed packet's error record (it aborted) can be valid while its header still waits
    // for a buffer: the header and its entries go first, so the error record waits for them
    assign s_err_ready = !f_active && room && s_err_seq == next_seq && !(s_hdr_valid && s_hdr_seq == next_seq);
    assign err_take    = s_err_valid && s_err_ready;

    // one record per packet: a headed query that completed, or an error record
    always_comb begin
        push       = 1'b0;
        push_qid   = b_qid[fp];
        push_err   = ERR_NONE;
        push_tab   = '0;
        push_nsub  = b_nsub[fp];
        push_dense = f_dense;
        if (idx_take && grp_last && !grp_abort) begin
            push = 1'b1;
        end else if (err_take) begin
            push       = 1'b1;
            push_qid   = s_err_qid;
            push_err   = s_err_code;
            push_tab   = s_err_table;
            push_nsub  = '0;
            push_dense = '0;
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            f_active <= 1'b0;
            fp       <= 1'b0;
            xp       <= 1'b0;
            full     <= '0;
            grp      <= '0;
            next_seq <= '0;
            j        <= '0;
        end else begin
            if (hdr_take) begin
                f_active <= 1'b1;
                grp      <= '0;
            end
            if (idx_take) begin
                grp <= grp + 1'b1;
                if (grp_last) begin
                    f_active <= 1'b0;
                    if (!grp_abort) begin
                        full[fp] <= 1'b1;
                        fp       <= !fp;
                    end
                end
            end
            // a headed packet's record (done or aborted) or a header-less one: the next seq
            if ((idx_take && grp_last && !grp_abort) || err_take) next_seq <= next_seq + 1'b1;
            if (sq_take) begin
                if (sq_last) begin
                    j        <= '0;
                    full[xp] <= 1'b0;
                    xp       <= !xp;
                end else begin
                    j <= j + 1'b1;
                end
            end
        end
    end

    always_ff @(posedge clk) begin
        if (hdr_take) begin
            for (int t = 0; t < T_MAX; t++) begin
                b_len[fp][t]   <= h_len[t];
                b_start[fp][t] <= h_start[t];
            end
            b_nsub[fp] <= h_nsub;
            b_qid[fp]  <= s_hdr_qid;
            f_dense    <= s_hdr_dense;
        end
        if (idx_take && 32'(grp) < NROWS) begin
            for (int k = 0; k < W; k++) begin
                ibuf[fp][32'(grp) * W + k] <= s_idx_index[32 * k +: 32];
            end
        end
    end

    // ---------------------------------------------------------------------
    // expansion: sub-query j of buffer xp
    // ---------------------------------------------------------------------
    assign m_sq_valid = full[xp];
    assign m_sq_id    = b_qid[xp];
    assign sq_take    = m_sq_valid && m_sq_ready;
    assign sq_last    = j + 1'b1 >= b_nsub[xp];
    always_comb begin
        for (int t = 0; t < T_MAX; t++) begin
            automatic logic [POS_W-1:0] pos = b_start[xp][t] + POS_W'(j);
            m_sq_void[t]          = j >= b_len[xp][t];
            m_sq_idx[32 * t +: 32] = (!m_sq_void[t] && 32'(pos) < NWORDS) ? ibuf[xp][IW'(pos)] : '0;
        end
    end

    // ---------------------------------------------------------------------
    // FIFOs
    // ---------------------------------------------------------------------
    logic rec_pop, den_pop;
    assign rec_pop       = m_rec_valid && m_rec_ready;
    assign den_pop       = m_dense_valid && m_dense_ready;
    assign m_rec_valid   = rec_cnt != '0;
    assign m_rec_qid     = rec_qid[rec_rd];
    assign m_rec_err     = rec_err[rec_rd];
    assign m_rec_table   = rec_tab[rec_rd];
    assign m_rec_nsub    = rec_nsub[rec_rd];
    assign m_dense_valid = den_cnt != '0;
    assign m_dense_qid   = den_qid[den_rd];
    assign m_dense_data  = den_data[den_rd];

    function automatic logic [RP_W-1:0] rec_inc(input logic [RP_W-1:0] p);
        return (32'(p) == REC_DEPTH - 1) ? '0 : p + 1'b1;
    endfunction
    function automatic logic [DP_W-1:0] den_inc(input logic [DP_W-1:0] p);
        return (32'(p) == DENSE_DEPTH - 1) ? '0 : p + 1'b1;
    endfunction

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            rec_cnt <= '0;
            rec_rd  <= '0;
            rec_wr  <= '0;
            den_cnt <= '0;
            den_rd  <= '0;
            den_wr  <= '0;
        end else begin
            if (push)    rec_wr <= rec_inc(rec_wr);
            if (rec_pop) rec_rd <= rec_inc(rec_rd);
            rec_cnt <= rec_cnt + (RP_W + 1)'(push) - (RP_W + 1)'(rec_pop);
            if (push)    den_wr <= den_inc(den_wr);
            if (den_pop) den_rd <= den_inc(den_rd);
            den_cnt <= den_cnt + (DP_W + 1)'(push) - (DP_W + 1)'(den_pop);
        end
    end

    always_ff @(posedge clk) begin
        if (push) begin
            rec_qid[rec_wr]  <= push_qid;
            rec_err[rec_wr]  <= push_err;
            rec_tab[rec_wr]  <= push_tab;
            rec_nsub[rec_wr] <= push_nsub;
            den_qid[den_wr]  <= push_qid;
            den_data[den_wr] <= push_dense;
        end
    end

    assign busy = f_active || (|full);

    // assertions hold from the first reset on (see emb_lookup_top)
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    a_grp_fits: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) idx_take |-> 32'(grp) < NROWS)
        else $error("bag_expander: more index groups than the buffer holds");
    a_one_record: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        !(idx_take && grp_last && !grp_abort && err_take))
        else $error("bag_expander: two records in one cycle");
endmodule
