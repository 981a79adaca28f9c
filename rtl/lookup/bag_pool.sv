// Bag pooling accumulator: docs/contracts.md sections 9.2 and 9.9.
//
// A bag context per (query slot, logical table): SLOTS * T_MAX contexts of
// DIM signed ACC_W-bit accumulators. A bag is opened (s_bag_*: slot, table,
// its length L <= L_MAX and its pool_shift), then its L rows arrive on s_row_*
// in any order, interleaved with other bags' rows; a duplicate index is just
// another row. The row that completes a bag leaves as the pooled vector
//     pooled[k] = sat16(S[k])                               pool_shift = 0 (sum)
//               = sat16((S[k] + 2^(s-1)) >>> s)             s = pool_shift >= 1 (mean)
// with S the exact sum of the L rows (ACC_W = 32 never overflows for L_MAX <=
// 2^15). An empty bag (L = 0) leaves as zeros when it is opened. A slot drop
// (s_drop_*) closes every bag of a slot whatever its count: a query that
// failed after its bags were opened (contracts 9.6) gives its slot back once
// its reads have drained. One event per cycle, in priority order: a bag open,
// a drop, a row. Opens and rows are taken while the output register is free
// or being emptied, a drop only while it is empty (so every vector the slot
// produced has left before the slot can be reused).
//
// The upstream's duties (checked by assertions): open a bag before its rows,
// never reopen a bag still collecting, send exactly L rows, L <= L_MAX, no
// row for a slot after its drop.
module bag_pool #(
    parameter int DIM   = 16,    // int16 elements per row
    parameter int L_MAX = 64,    // longest bag (>= 64)
    parameter int SLOTS = 4,     // query slots in flight
    parameter int T_MAX = 32,    // logical tables
    parameter int ACC_W = 32,    // accumulator bits (>= 17 + clog2(L_MAX))
    localparam int SLOT_W = SLOTS > 1 ? $clog2(SLOTS) : 1
) (
    input  logic                clk,
    input  logic                rst_n,
    // bag open
    input  logic                s_bag_valid,
    output logic                s_bag_ready,
    input  logic [SLOT_W-1:0]   s_bag_slot,
    input  logic [7:0]          s_bag_table,
    input  logic [15:0]         s_bag_len,
    input  logic [3:0]          s_bag_shift,     // pool_shift: 0 = sum, s >= 1 = mean
    // slot drop: close every bag of the slot (a failed query's)
    input  logic                s_drop_valid,
    output logic                s_drop_ready,
    input  logic [SLOT_W-1:0]   s_drop_slot,
    // rows, any order
    input  logic                s_row_valid,
    output logic                s_row_ready,
    input  logic [SLOT_W-1:0]   s_row_slot,
    input  logic [7:0]          s_row_table,
    input  logic [DIM*16-1:0]   s_row_data,      // element k in [16k +: 16]
    // pooled vectors, one per bag, in completion order
    output logic                m_pool_valid,
    input  logic                m_pool_ready,
    output logic [SLOT_W-1:0]   m_pool_slot,
    output logic [7:0]          m_pool_table,
    output logic [DIM*16-1:0]   m_pool_data
);
    localparam int CTX   = SLOTS * T_MAX;
    localparam int CTX_W = CTX > 1 ? $clog2(CTX) : 1;
    localparam int LEN_W = $clog2(L_MAX + 1);

    logic signed [ACC_W-1:0] acc   [CTX][DIM];
    logic [LEN_W-1:0]        cnt   [CTX];
    logic [LEN_W-1:0]        blen  [CTX];
    logic [3:0]              bshift[CTX];
    logic                    bopen [CTX];

    logic out_free, bag_fire, row_fire, drop_fire;
    assign out_free     = !m_pool_valid || m_pool_ready;
    assign s_bag_ready  = out_free;
    assign s_drop_ready = !m_pool_valid && !s_bag_valid;
    assign s_row_ready  = out_free && !s_bag_valid && !s_drop_valid;
    assign bag_fire     = s_bag_valid && s_bag_ready;
    assign drop_fire    = s_drop_valid && s_drop_ready;
    assign row_fire     = s_row_valid && s_row_ready;

    logic [CTX_W-1:0] bag_ctx, row_ctx;
    assign bag_ctx = CTX_W'(int'(s_bag_slot) * T_MAX + int'(s_bag_table));
    assign row_ctx = CTX_W'(int'(s_row_slot) * T_MAX + int'(s_row_table));

    // the row added to its bag's sums, and whether it is the bag's last
    logic signed [ACC_W-1:0] sum [DIM];
    logic                    row_last;
    always_comb begin
        for (int k = 0; k < DIM; k++)
            sum[k] = acc[row_ctx][k] + ACC_W'($signed(s_row_data[16 * k +: 16]));
        row_last = cnt[row_ctx] + 1'b1 == blen[row_ctx];
    end

    function automatic logic [15:0] pool_elem(input logic signed [ACC_W-1:0] s, input logic [3:0] sh);
        logic signed [ACC_W:0] r;
        if (sh == 4'd0) r = (ACC_W+1)'(s);
`ifdef INJECT_BUGS
        // injected bug (+BAG_POOL_BUG_ROUND_TRUNC): the mean shift truncates instead of rounding half up
        else if ($test$plusargs("BAG_POOL_BUG_ROUND_TRUNC")) r = (ACC_W+1)'(s) >>> sh;
`endif
        else r = ((ACC_W+1)'(s) + ((ACC_W+1)'(1) <<< (sh - 4'd1))) >>> sh;
        if (r > (ACC_W+1)'(32767)) return 16'h7FFF;
        if (r < -(ACC_W+1)'(32768)) return 16'h8000;
        return r[15:0];
    endfunction

    always_ff @(posedge clk) begin
        if (bag_fire) begin
            for (int k = 0; k < DIM; k++) acc[bag_ctx][k] <= '0;
            cnt[bag_ctx]    <= '0;
            blen[bag_ctx]   <= LEN_W'(s_bag_len);
            bshift[bag_ctx] <= s_bag_shift;
        end else if (row_fire) begin
            for (int k = 0; k < DIM; k++) acc[row_ctx][k] <= sum[k];
            cnt[row_ctx] <= cnt[row_ctx] + 1'b1;
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            m_pool_valid <= 1'b0;
            m_pool_slot  <= '0;
            m_pool_table <= '0;
            m_pool_data  <= '0;
            for (int c = 0; c < CTX; c++) bopen[c] <= 1'b0;
        end else begin
            if (m_pool_valid && m_pool_ready) m_pool_valid <= 1'b0;
            if (drop_fire)
                for (int t = 0; t < T_MAX; t++) bopen[int'(s_drop_slot) * T_MAX + t] <= 1'b0;
            if (bag_fire) begin
                bopen[bag_ctx] <= s_bag_len != 16'd0;
                if (s_bag_len == 16'd0) begin               // empty bag: zeros, no row
                    m_pool_valid <= 1'b1;
                    m_pool_slot  <= s_bag_slot;
                    m_pool_table <= s_bag_table;
                    m_pool_data  <= '0;
                end
            end else if (row_fire && row_last) begin
                bopen[row_ctx] <= 1'b0;
                m_pool_valid   <= 1'b1;
                m_pool_slot    <= s_row_slot;
                m_pool_table   <= s_row_table;
                for (int k = 0; k < DIM; k++)
`ifdef INJECT_BUGS
                    // injected bug (+BAG_POOL_BUG_DROP_LAST_ROW): the row completing a bag is left out
                    if ($test$plusargs("BAG_POOL_BUG_DROP_LAST_ROW"))
                        m_pool_data[16 * k +: 16] <= pool_elem(acc[row_ctx][k], bshift[row_ctx]);
                    else
`endif
                    m_pool_data[16 * k +: 16] <= pool_elem(sum[k], bshift[row_ctx]);
            end
        end
    end

    // ---- assertions ----------------------------------------------------------------------
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    a_out_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_pool_valid && !m_pool_ready |=> m_pool_valid && $stable(m_pool_data) && $stable(m_pool_slot)
                                          && $stable(m_pool_table))
        else $error("bag_pool: pooled vector changed before m_pool_ready");
    a_row_open: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        row_fire |-> bopen[row_ctx])
        else $error("bag_pool: a row for a bag that is not open (slot %0d table %0d)", s_row_slot, s_row_table);
    a_bag_closed: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        bag_fire |-> !bopen[bag_ctx])
        else $error("bag_pool: bag (slot %0d table %0d) reopened while collecting", s_bag_slot, s_bag_table);
    a_bag_len: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        s_bag_valid |-> int'(s_bag_len) <= L_MAX && int'(s_bag_table) < T_MAX && int'(s_bag_slot) < SLOTS)
        else $error("bag_pool: bag length %0d above L_MAX or table/slot outside the build", s_bag_len);
    a_drop_slot: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        s_drop_valid |-> int'(s_drop_slot) < SLOTS)
        else $error("bag_pool: drop of a slot outside the build");
    a_row_ctx: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        s_row_valid |-> int'(s_row_table) < T_MAX && int'(s_row_slot) < SLOTS)
        else $error("bag_pool: row table/slot outside the build");

    initial begin
        if (L_MAX < 64) $error("bag_pool: L_MAX must be >= 64");
        if (ACC_W < 17 + $clog2(L_MAX)) $error("bag_pool: ACC_W below 17 + clog2(L_MAX)");
    end
endmodule
