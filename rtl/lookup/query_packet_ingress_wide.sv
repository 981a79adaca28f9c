// Wide query packet ingress for multi-hot (DLRM-class) queries: docs/contracts.md
// sections 9.6, 9.7 and 9.9 ("wide index output").
//
// The packet checks, the header record, the error record (codes, tables,
// priority ERR_PACKET > ERR_BAG_LEN > ERR_IDX_RANGE) and the sequence numbers
// are query_packet_ingress's; the index stream is W entries wide: each index
// beat is consumed in one cycle and leaves, one cycle later, as one group of
// up to W entries (m_idx_mask: lanes 0 .. n-1). Per lane k of index beat b
// (index j = b * W + k of the packet):
//   - table: the t with end[t - 1] <= j < end[t], end[t] the running sum of
//     the bag lengths of tables 0 .. t (registered with the header);
//   - last_bag: j + 1 is some end[t]; last_query: j = N - 1;
//   - void: index >= rows[table], or an earlier index of the query (an earlier
//     lane, or an earlier beat) was; abort on the last_query lane as in s.9.9.
// The short-packet and N = 0 terminator is a group of one lane.
//
// Rate: one beat in per cycle in every state, whatever the packet holds
// (header, index, swallowed or skipped beats), while the outputs are free or
// being emptied: back to back with no stall a packet costs exactly its beats,
// HB + IB for a well-formed one. Every output is registered; the error record
// is set on the packet's tlast beat and the header record on its last header
// beat, and the next beat is taken as they leave.
//
// Runtime configuration (cfg_*): as query_packet_ingress.
module query_packet_ingress_wide
    import lookup_pkg::*;
#(
    parameter int W     = 4,     // 32-bit words per beat, >= 2
    parameter int T_MAX = 32,    // logical tables (<= 255)
    parameter int D_MAX = 16,    // dense features (<= 255)
    parameter int L_MAX = 64,    // longest bag of the build (>= 64)
    parameter int SEQ_W = 16     // packet sequence number bits
) (
    input  logic                 clk,
    input  logic                 rst_n,
    // committed configuration
    input  logic [7:0]           cfg_num_tables,
    input  logic [7:0]           cfg_num_dense,
    input  logic [T_MAX*16-1:0]  cfg_bag_max,      // table t in [16t +: 16]
    input  logic [T_MAX*32-1:0]  cfg_rows,         // table t in [32t +: 32]
    // the packet stream (9.7)
    input  logic                 s_tvalid,
    output logic                 s_tready,
    input  logic [W*32-1:0]      s_tdata,
    input  logic                 s_tlast,
    // header record
    output logic                 m_hdr_valid,
    input  logic                 m_hdr_ready,
    output logic [31:0]          m_hdr_qid,
    output logic [SEQ_W-1:0]     m_hdr_seq,        // the packet's number since reset (mod 2^SEQ_W)
    output logic [15:0]          m_hdr_num,        // N
    output logic [T_MAX*16-1:0]  m_hdr_len,        // bag length of table t in [16t +: 16]
    output logic [D_MAX*16-1:0]  m_hdr_dense,      // dense feature m in [16m +: 16]
    // index stream: one group of up to W entries per cycle (lane k in [8k +: 8], [32k +: 32], bit k)
    output logic                 m_idx_valid,
    input  logic                 m_idx_ready,
    output logic [W-1:0]         m_idx_mask,       // lanes that carry an entry: always lanes 0 .. n-1
    output logic [W*8-1:0]       m_idx_table,
    output logic [W*32-1:0]      m_idx_index,
    output logic [W-1:0]         m_idx_void,
    output logic [W-1:0]         m_idx_last_bag,
    output logic [W-1:0]         m_idx_last_query,
    output logic [W-1:0]         m_idx_abort,
    // error record
    output logic                 m_err_valid,
    input  logic                 m_err_ready,
    output logic [31:0]          m_err_qid,
    output logic [SEQ_W-1:0]     m_err_seq,        // the packet's number since reset (mod 2^SEQ_W)
    output logic [3:0]           m_err_code,
    output logic [7:0]           m_err_table
);
    localparam int HW_MAX = 2 + (T_MAX + 1) / 2 + (D_MAX + 1) / 2;   // header words, largest
    localparam int HB_MAX = (HW_MAX + W - 1) / W;                      // header beats, largest
    localparam int HWORDS = HB_MAX * W;
    localparam int HB_W   = $clog2(HB_MAX + 1);

    typedef enum logic [1:0] {S_HDR, S_IDX, S_SKIP, S_DRAIN} state_e;
    state_e state;

    // ---- the header, as words at their packet positions ---------------------------
    logic [31:0]     hdr_w    [HWORDS];
    logic [31:0]     hdr_next [HWORDS];   // hdr_w with the beat being taken written in
    logic [HB_W-1:0] hb;                  // header beat of the packet
    logic            s_fire;

    assign s_fire = s_tvalid && s_tready;

    always_comb begin
        for (int p = 0; p < HWORDS; p++) begin
            hdr_next[p] = hdr_w[p];
            if (s_fire && state == S_HDR && 32'(hb) == p / W) hdr_next[p] = s_tdata[32 * (p % W) +: 32];
        end
    end

    // the committed header size in beats
    logic [8:0]  cfg_hw;
    logic [HB_W-1:0] cfg_hb;
    assign cfg_hw = 9'd2 + 9'((int'(cfg_num_tables) + 1) / 2) + 9'((int'(cfg_num_dense) + 1) / 2);
    assign cfg_hb = HB_W'((int'(cfg_hw) + W - 1) / W);

    // per table: length (header being completed / registered), limit, in range of T
    logic [15:0] len_n [T_MAX];
    logic [15:0] len_r [T_MAX];
    logic        t_on  [T_MAX];
    logic        bag_bad [T_MAX];
    logic [20:0] n_sum;
    always_comb begin
        n_sum = '0;
        for (int t = 0; t < T_MAX; t++) begin
            t_on[t]  = t < int'(cfg_num_tables);
            len_n[t] = hdr_next[2 + t / 2][16 * (t % 2) +: 16];
            len_r[t] = hdr_w[2 + t / 2][16 * (t % 2) +: 16];
`ifdef INJECT_BUGS
            // injected bug (+INGRESS_BUG_BAG_MAX_OFF_BY_ONE): a bag one longer than bag_max passes
            if ($test$plusargs("INGRESS_BUG_BAG_MAX_OFF_BY_ONE"))
                bag_bad[t] = t_on[t] && (len_n[t] > cfg_bag_max[16 * t +: 16] + 16'd1 || 32'(len_n[t]) > L_MAX);
            else
`endif
            bag_bad[t] = t_on[t] && (len_n[t] > cfg_bag_max[16 * t +: 16] || 32'(len_n[t]) > L_MAX);
            if (t_on[t]) n_sum = n_sum + 21'(len_n[t]);
        end
    end

    logic [15:0] n_hdr;
    logic        hdr_ok, any_bag_bad;
    logic [7:0]  first_bag_bad;
    assign n_hdr  = hdr_next[1][15:0];
    assign hdr_ok = hdr_next[1][23:16] == cfg_num_tables && hdr_next[1][31:24] == cfg_num_dense
                    && 21'(n_hdr) == n_sum;
    always_comb begin
        any_bag_bad = 1'b0;
        first_bag_bad = '0;
        for (int t = T_MAX - 1; t >= 0; t--) begin
            if (bag_bad[t]) begin
                any_bag_bad = 1'b1;
                first_bag_bad = 8'(t);
            end
        end
    end


    // ---- index-section state ----------------------------------------------------------
    logic [16:0] end_n [T_MAX];   // running sums of the lengths of the header being completed
    logic [16:0] end_r [T_MAX];   // ... registered with the header
    logic [16:0] pos;             // index of lane 0 of the next index beat
    logic [16:0] n_r;             // N
    logic [16:0] ib, ib_exp;      // index beats taken / expected (ceil(N / W))
    logic        bad;             // an index of the query was out of range
    logic [7:0]  bad_tab;         // the table of the first one

    always_comb begin
        logic [16:0] acc;
        acc = '0;
        for (int t = 0; t < T_MAX; t++) begin
            if (t_on[t]) acc = acc + 17'(len_n[t]);
            end_n[t] = acc;
        end
    end

    // ---- the lanes of the beat being offered -------------------------------------------
    logic [16:0] lane_j    [W];
    logic        lane_act  [W];
    logic [7:0]  lane_tab_ok [W];   // the table that holds index j
    logic [7:0]  lane_tab  [W];
    logic        lane_lastb [W];
    logic        lane_lastq [W];
    logic        lane_oob  [W];
    logic        lane_void [W];
    logic [31:0] lane_idx  [W];
    logic        beat_oob;          // some active lane out of range
    logic [7:0]  beat_oob_tab;      // the table of the first one

    always_comb begin
        for (int k = 0; k < W; k++) begin
            lane_j[k]     = pos + 17'(k);
            lane_act[k]   = lane_j[k] < n_r;
            lane_idx[k]   = s_tdata[32 * k +: 32];
            lane_tab_ok[k] = '0;
            lane_lastb[k] = 1'b0;
            for (int t = 0; t < T_MAX; t++) begin
                if (t_on[t] && end_r[t] <= lane_j[k]) lane_tab_ok[k] = lane_tab_ok[k] + 8'd1;
                if (t_on[t] && end_r[t] == lane_j[k] + 17'd1) lane_lastb[k] = lane_act[k];
            end
            lane_lastq[k] = lane_act[k] && lane_j[k] + 17'd1 == n_r;
        end
        for (int k = 0; k < W; k++) begin
`ifdef INJECT_BUGS
            // injected bug (+INGRESS_BUG_LANE_TABLE): a lane that starts a new bag keeps the previous lane's table
            if ($test$plusargs("INGRESS_BUG_LANE_TABLE") && k > 0 && lane_lastb[k > 0 ? k - 1 : 0])
                lane_tab[k] = lane_tab_ok[k > 0 ? k - 1 : 0];
            else
`endif
            lane_tab[k] = lane_tab_ok[k];
        end
    end

    always_comb begin
        logic seen;
        beat_oob = 1'b0;
        beat_oob_tab = '0;
        seen = bad;
        for (int k = 0; k < W; k++) begin
            logic [31:0] rows_k;
            rows_k = '0;
            for (int t = 0; t < T_MAX; t++)
                if (8'(t) == lane_tab[k]) rows_k = cfg_rows[32 * t +: 32];
            lane_oob[k] = lane_act[k] && lane_idx[k] >= rows_k;
            if (lane_oob[k] && !beat_oob) beat_oob_tab = lane_tab[k];
            beat_oob = beat_oob || lane_oob[k];
            seen = seen || lane_oob[k];
            lane_void[k] = seen;
        end
    end

    // ---- registered outputs --------------------------------------------------------------
    logic             err_valid;
    logic [3:0]       end_code;      // the packet's code so far (also the error record's)
    logic [7:0]       end_table;
    logic [SEQ_W-1:0] cur_seq, hdr_seq, err_seq;
    logic             o_valid;
    logic [W-1:0]     o_mask, o_void, o_lastb, o_lastq, o_abort;
    logic [W*8-1:0]   o_table;
    logic [W*32-1:0]  o_index;

    assign m_idx_valid      = o_valid;
    assign m_idx_mask       = o_mask;
    assign m_idx_table      = o_table;
    assign m_idx_index      = o_index;
    assign m_idx_void       = o_void;
    assign m_idx_last_bag   = o_lastb;
    assign m_idx_last_query = o_lastq;
    assign m_idx_abort      = o_abort;

    assign m_err_valid = err_valid;
    assign m_err_qid   = hdr_w[0];    // changes only as a beat is taken: never under a pending record
    assign m_err_seq   = err_seq;
    assign m_err_code  = end_code;
    assign m_err_table = end_table;

    assign m_hdr_seq = hdr_seq;
    assign m_hdr_qid = hdr_w[0];
    assign m_hdr_num = hdr_w[1][15:0];
    always_comb begin
        logic [8:0] dbase;
        logic [8:0] pos_d;
        dbase = 9'd2 + 9'((int'(cfg_num_tables) + 1) / 2);
        for (int t = 0; t < T_MAX; t++) m_hdr_len[16 * t +: 16] = t_on[t] ? len_r[t] : 16'd0;
        for (int m = 0; m < D_MAX; m++) begin
            pos_d = dbase + 9'(m / 2);
            m_hdr_dense[16 * m +: 16] = '0;
            for (int p = 0; p < HWORDS; p++)
                if (m < int'(cfg_num_dense) && 9'(p) == pos_d) m_hdr_dense[16 * m +: 16] = hdr_w[p][16 * (m % 2) +: 16];
        end
    end

    // a beat is taken while every output it may load is free or being emptied
    assign s_tready = (!err_valid || m_err_ready) && (!o_valid || m_idx_ready)
                      && (state != S_HDR || !m_hdr_valid || m_hdr_ready);

    logic last_hb, last_ib;
    assign last_hb = hb == cfg_hb - 1'b1;
    assign last_ib = ib == ib_exp - 1'b1;

    always_ff @(posedge clk) begin
        if (s_fire && state == S_HDR)
            for (int p = 0; p < HWORDS; p++) hdr_w[p] <= hdr_next[p];
        if (s_fire && state == S_HDR && last_hb)
            for (int t = 0; t < T_MAX; t++) end_r[t] <= end_n[t];
        // a group of entries: an index beat (or the terminator, lane 0)
        if (s_fire && state == S_IDX && !(s_tlast && !last_ib)) begin
            for (int k = 0; k < W; k++) begin
                o_mask[k]            <= lane_act[k];
                o_table[8 * k +: 8]  <= lane_act[k] ? lane_tab[k] : 8'd0;
                o_index[32 * k +: 32] <= lane_act[k] ? lane_idx[k] : 32'd0;
                o_void[k]            <= lane_act[k] && lane_void[k];
                o_lastb[k]           <= lane_lastb[k];
                o_lastq[k]           <= lane_lastq[k];
                o_abort[k]           <= lane_lastq[k] && (!s_tlast || bad || beat_oob);
            end
        end else if (s_fire && ((state == S_IDX && s_tlast && !last_ib)
                                || (state == S_HDR && last_hb && s_tlast && hdr_ok && !any_bag_bad
                                    && n_hdr == 16'd0))) begin
            o_mask  <= W'(1);
            o_table <= '0;
            o_index <= '0;
            o_void  <= W'(1);
            o_lastb <= '0;
            o_lastq <= W'(1);
            o_abort <= W'(state == S_IDX);
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            state       <= S_HDR;
            hb          <= '0;
            ib          <= '0;
            ib_exp      <= '0;
            pos         <= '0;
            n_r         <= '0;
            bad         <= 1'b0;
            bad_tab     <= '0;
            o_valid     <= 1'b0;
            err_valid   <= 1'b0;
            end_code    <= ERR_NONE;
            end_table   <= '0;
            m_hdr_valid <= 1'b0;
            cur_seq     <= '0;
            hdr_seq     <= '0;
            err_seq     <= '0;
        end else begin
            if (m_hdr_valid && m_hdr_ready) m_hdr_valid <= 1'b0;
            if (err_valid && m_err_ready) err_valid <= 1'b0;
            if (o_valid && m_idx_ready) o_valid <= 1'b0;
            if (s_fire && s_tlast) begin
                cur_seq <= cur_seq + 1'b1;
                err_seq <= cur_seq;
            end

            if (s_fire) begin
                case (state)
                    S_HDR: begin
                        hb <= hb + 1'b1;
                        end_table <= '0;
                        if (s_tlast && !last_hb) begin                  // short, inside the header
                            hb <= '0;
                            end_code  <= ERR_PACKET;
                            err_valid <= 1'b1;
                        end else if (last_hb) begin
                            hb     <= '0;
                            ib     <= '0;
                            ib_exp <= 17'((int'(n_hdr) + W - 1) / W);
                            if (!hdr_ok || (n_hdr == 16'd0 && !s_tlast) || (n_hdr != 16'd0 && s_tlast)) begin
                                end_code <= ERR_PACKET;               // T, D, N; long or short
                                if (s_tlast) err_valid <= 1'b1;
                                else state <= S_DRAIN;
                            end else if (any_bag_bad) begin            // N > 0 here
                                end_code  <= ERR_BAG_LEN;
                                end_table <= first_bag_bad;
                                state     <= S_SKIP;
                            end else begin                             // headed; N = 0: the terminator
                                end_code    <= ERR_NONE;
                                m_hdr_valid <= 1'b1;
                                hdr_seq     <= cur_seq;
                                if (n_hdr == 16'd0) begin
                                    o_valid <= 1'b1;
                                end else begin
                                    pos     <= '0;
                                    n_r     <= 17'(n_hdr);
                                    bad     <= 1'b0;
                                    bad_tab <= '0;
                                    state   <= S_IDX;
                                end
                            end
                        end
                    end
                    S_IDX: begin
                        ib      <= ib + 1'b1;
                        pos     <= pos + 17'(W);
                        o_valid <= 1'b1;
                        if (s_tlast && !last_ib) begin                 // short: the terminator
                            end_code  <= ERR_PACKET;
                            end_table <= '0;
                            err_valid <= 1'b1;
                            state     <= S_HDR;
                        end else begin
                            if (beat_oob && !bad) begin
                                bad     <= 1'b1;
                                bad_tab <= beat_oob_tab;
                            end
                            if (last_ib) begin
                                if (!s_tlast) begin                    // long: swallow to the next tlast
                                    end_code  <= ERR_PACKET;
                                    end_table <= '0;
                                    state     <= S_DRAIN;
                                end else if (bad || beat_oob) begin
                                    end_code  <= ERR_IDX_RANGE;
                                    end_table <= bad ? bad_tab : beat_oob_tab;
                                    err_valid <= 1'b1;
                                    state     <= S_HDR;
                                end else begin
                                    state <= S_HDR;
                                end
                            end
                        end
                    end
                    S_SKIP: begin
                        ib <= ib + 1'b1;
                        if (s_tlast) begin
                            if (!last_ib) end_code <= ERR_PACKET;
                            if (!last_ib) end_table <= '0;
                            err_valid <= 1'b1;
                            state     <= S_HDR;
                        end else if (last_ib) begin                    // long
                            end_code  <= ERR_PACKET;
                            end_table <= '0;
                            state     <= S_DRAIN;
                        end
                    end
                    S_DRAIN: begin
                        if (s_tlast) begin
                            err_valid <= 1'b1;
                            state     <= S_HDR;
                        end
                    end
                    default: ;
                endcase
            end
        end
    end

    // ---- assertions ----------------------------------------------------------------------
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    a_hdr_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_hdr_valid && !m_hdr_ready |=> m_hdr_valid && $stable(m_hdr_qid) && $stable(m_hdr_len)
                                        && $stable(m_hdr_dense))
        else $error("query_packet_ingress_wide: header record changed before m_hdr_ready");
    a_idx_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_idx_valid && !m_idx_ready |=> m_idx_valid && $stable(m_idx_mask) && $stable(m_idx_index)
                                        && $stable(m_idx_table) && $stable(m_idx_last_query) && $stable(m_idx_abort))
        else $error("query_packet_ingress_wide: index group changed before m_idx_ready");
    a_idx_mask: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_idx_valid |-> m_idx_mask[0] && ((m_idx_mask & (m_idx_mask + 1'b1)) == '0))
        else $error("query_packet_ingress_wide: index group lanes not 0 .. n-1");
    a_err_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_err_valid && !m_err_ready |=> m_err_valid && $stable(m_err_code) && $stable(m_err_qid)
                                        && $stable(m_err_seq))
        else $error("query_packet_ingress_wide: error record changed before m_err_ready");
    a_cfg_fits: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        s_tvalid |-> int'(cfg_num_tables) <= T_MAX && int'(cfg_num_dense) <= D_MAX)
        else $error("query_packet_ingress_wide: committed T or D above T_MAX / D_MAX");

    initial begin
        if (W < 2) $error("query_packet_ingress_wide: W must be >= 2");
        if (L_MAX < 64) $error("query_packet_ingress_wide: L_MAX must be >= 64");
        if (T_MAX > 255 || D_MAX > 255) $error("query_packet_ingress_wide: T_MAX, D_MAX <= 255");
    end
endmodule
