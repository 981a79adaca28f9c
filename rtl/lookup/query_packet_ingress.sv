// Query packet ingress for multi-hot (DLRM-class) queries: docs/contracts.md
// sections 9.6, 9.7 and 9.9.
//
// Consumes the 9.7 packet stream (W 32-bit words per beat, tlast on the last
// beat) and checks every packet against the committed configuration (T, D,
// per table bag_max and rows). Per packet it emits, with backpressure on
// every output:
//   - header record (m_hdr_*): for a packet whose header passes the checks
//     (T, D, N = sum of lengths, no bag longer than bag_max, no tlast inside
//     the header unless N = 0): query id, N, the T bag lengths, the D dense
//     features (zero above T / D);
//   - its index stream (m_idx_*), one entry per cycle, table-major: table,
//     index, last_bag (last index of its bag), last_query (last entry of the
//     query; every headed query has exactly one), void (issue no read: the
//     index is out of range, or an earlier one of the query was), abort (on
//     the last_query entry: the query failed, its error record follows on
//     m_err). A query with N = 0, or whose packet ends early, is closed by one
//     terminator entry (void, last_query, table 0, index 0);
//   - exactly one error record (m_err_*) per failing packet: query id (word
//     0), code and table with the priority of 9.6: ERR_PACKET (table 0) >
//     ERR_BAG_LEN > ERR_IDX_RANGE (lowest failing logical table). A packet
//     that fails in its header gets the error record only.
// Header and error records carry the packet's sequence number (packets as
// tlast delimits them, from 0 after reset), so a consumer can put the
// answers of both streams back into packet order.
// A malformed packet is consumed up to and including the next tlast (a short
// one ends at its own, a long one swallows beats until one arrives), so every
// packet that ends in a tlast ends in a record.
//
// Rate: one header or index beat per cycle in, one index entry per cycle out
// (W entries of a beat leave in W cycles while the next beat waits); the next
// packet's header is taken once the previous query's last entry has left and
// its header record has been taken.
//
// Runtime configuration (cfg_*) must hold still while a packet is in flight
// (the commit drains the lookup first) and satisfy cfg_num_tables <= T_MAX,
// cfg_num_dense <= D_MAX, bag_max[t] <= L_MAX (checked at commit). A length
// above L_MAX is refused as ERR_BAG_LEN whatever bag_max says, so the pooling
// never sees a bag longer than it was built for.
module query_packet_ingress
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
    // index stream
    output logic                 m_idx_valid,
    input  logic                 m_idx_ready,
    output logic [7:0]           m_idx_table,
    output logic [31:0]          m_idx_index,
    output logic                 m_idx_void,
    output logic                 m_idx_last_bag,
    output logic                 m_idx_last_query,
    output logic                 m_idx_abort,
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
    localparam int LANE_W = $clog2(W + 1);

    typedef enum logic [2:0] {S_HDR, S_IDX, S_SKIP, S_DRAIN, S_END} state_e;
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
    logic [7:0]  first_bag_bad, first_nz;
    assign n_hdr  = hdr_next[1][15:0];
    assign hdr_ok = hdr_next[1][23:16] == cfg_num_tables && hdr_next[1][31:24] == cfg_num_dense
                    && 21'(n_hdr) == n_sum;
    always_comb begin
        any_bag_bad = 1'b0;
        first_bag_bad = '0;
        first_nz = '0;
        for (int t = T_MAX - 1; t >= 0; t--) begin
            if (bag_bad[t]) begin
                any_bag_bad = 1'b1;
                first_bag_bad = 8'(t);
            end
            if (t_on[t] && len_n[t] != 16'd0) first_nz = 8'(t);
        end
    end

    function automatic logic [15:0] len_of(input logic [15:0] lens [T_MAX], input logic [7:0] t);
        len_of = '0;
        for (int i = 0; i < T_MAX; i++) if (8'(i) == t) len_of = lens[i];
    endfunction

    // ---- index-stream state ----------------------------------------------------------
    logic [7:0]  t_cur;         // table of the next entry
    logic [15:0] rem;           // entries left in its bag
    logic [7:0]  t_next;        // the next table with a non-empty bag
    logic [16:0] ib, ib_exp;    // index beats taken / expected (ceil(N / W))
    logic [16:0] left;          // indices not yet loaded into the beat buffer
    logic        bad;           // an index of the query was out of range
    logic [7:0]  bad_tab;

    always_comb begin
        t_next = '0;
        for (int t = T_MAX - 1; t >= 0; t--)
            if (t_on[t] && len_r[t] != 16'd0 && 8'(t) > t_cur) t_next = 8'(t);
    end

    logic [31:0] rows_cur;
    always_comb begin
        rows_cur = '0;
        for (int t = 0; t < T_MAX; t++)
            if (8'(t) == t_cur) rows_cur = cfg_rows[32 * t +: 32];
    end

    // beat buffer: one index beat, emitted one word per cycle
    logic [31:0]       buf_w [W];
    logic              buf_valid;
    logic [LANE_W-1:0] lane, buf_n;
    logic              buf_final;   // holds the query's last index
    logic              buf_long;    // ... and the packet goes on past it (no tlast)

    // end of packet: the pending error record and terminator entry
    logic              err_pend, term_pend;
    logic [SEQ_W-1:0]  cur_seq, hdr_seq;   // the packet being walked; the pending header's
    logic [3:0]        end_code;
    logic [7:0]        end_table;

    logic [31:0] cur_index;
    logic        cur_oob, idx_out, idx_fire, buf_drained, last_lane;
    assign cur_index = buf_w[lane[$clog2(W)-1:0]];
    assign cur_oob   = cur_index >= rows_cur;
    assign last_lane = lane == buf_n - 1'b1;
    assign idx_out   = state == S_IDX && buf_valid;
    assign idx_fire  = m_idx_valid && m_idx_ready;
    assign buf_drained = !buf_valid || (idx_fire && last_lane);

    // ---- outputs -----------------------------------------------------------------------
    always_comb begin
        m_idx_valid      = idx_out || (state == S_END && term_pend);
        m_idx_table      = idx_out ? t_cur : 8'd0;
        m_idx_index      = idx_out ? cur_index : 32'd0;
        m_idx_void       = idx_out ? (bad || cur_oob) : 1'b1;
        m_idx_last_bag   = idx_out && rem == 16'd1;
        m_idx_last_query = idx_out ? (buf_final && last_lane) : 1'b1;
        m_idx_abort      = idx_out ? (buf_final && last_lane && (buf_long || bad || cur_oob))
                                   : end_code != ERR_NONE;
    end

    assign m_err_valid = state == S_END && err_pend;
    assign m_err_qid   = hdr_w[0];
    assign m_err_seq   = cur_seq;
    assign m_hdr_seq   = hdr_seq;
    assign m_err_code  = end_code;
    assign m_err_table = end_table;

    assign m_hdr_qid = hdr_w[0];
    assign m_hdr_num = hdr_w[1][15:0];
    always_comb begin
        logic [8:0] dbase;
        logic [8:0] pos;
        dbase = 9'd2 + 9'((int'(cfg_num_tables) + 1) / 2);
        for (int t = 0; t < T_MAX; t++) m_hdr_len[16 * t +: 16] = t_on[t] ? len_r[t] : 16'd0;
        for (int m = 0; m < D_MAX; m++) begin
            pos = dbase + 9'(m / 2);
            m_hdr_dense[16 * m +: 16] = '0;
            for (int p = 0; p < HWORDS; p++)
                if (m < int'(cfg_num_dense) && 9'(p) == pos) m_hdr_dense[16 * m +: 16] = hdr_w[p][16 * (m % 2) +: 16];
        end
    end

    always_comb begin
        case (state)
            S_HDR:   s_tready = !m_hdr_valid;
            S_IDX:   s_tready = ib != ib_exp && buf_drained;
            S_SKIP,
            S_DRAIN: s_tready = 1'b1;
            default: s_tready = 1'b0;
        endcase
    end

    // ---- the packet walk ---------------------------------------------------------------
    // the walk goes back to S_HDR this cycle: the packet is done (its tlast taken)
    logic state_next_hdr;
    assign state_next_hdr =
        (state == S_END && (!err_pend || m_err_ready) && (!term_pend || m_idx_ready))
        || (idx_out && m_idx_ready && buf_final && last_lane && !buf_long && !bad && !cur_oob);

    logic last_hb, last_ib;
    assign last_hb = hb == cfg_hb - 1'b1;
    assign last_ib = ib == ib_exp - 1'b1;

    always_ff @(posedge clk) begin
        if (s_fire && state == S_HDR)
            for (int p = 0; p < HWORDS; p++) hdr_w[p] <= hdr_next[p];
        if (s_fire && state == S_IDX)
            for (int k = 0; k < W; k++) buf_w[k] <= s_tdata[32 * k +: 32];
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            state       <= S_HDR;
            hb          <= '0;
            ib          <= '0;
            ib_exp      <= '0;
            left        <= '0;
            t_cur       <= '0;
            rem         <= '0;
            bad         <= 1'b0;
            bad_tab     <= '0;
            buf_valid   <= 1'b0;
            lane        <= '0;
            buf_n       <= '0;
            buf_final   <= 1'b0;
            buf_long    <= 1'b0;
            err_pend    <= 1'b0;
            term_pend   <= 1'b0;
            end_code    <= ERR_NONE;
            end_table   <= '0;
            m_hdr_valid <= 1'b0;
            cur_seq     <= '0;
            hdr_seq     <= '0;
        end else begin
            if (m_hdr_valid && m_hdr_ready) m_hdr_valid <= 1'b0;
            if (state != S_HDR && state_next_hdr) cur_seq <= cur_seq + 1'b1;

            // an entry leaves the beat buffer
            if (idx_out && m_idx_ready) begin
                if (cur_oob && !bad) begin
                    bad     <= 1'b1;
                    bad_tab <= t_cur;
                end
                if (rem == 16'd1) begin
                    t_cur <= t_next;
                    rem   <= len_of(len_r, t_next);
                end else begin
                    rem <= rem - 16'd1;
                end
                lane <= lane + 1'b1;
                if (last_lane) buf_valid <= 1'b0;
                if (buf_final && last_lane) begin
                    if (buf_long) begin
                        end_code  <= ERR_PACKET;
                        end_table <= '0;
                        state     <= S_DRAIN;
                    end else if (bad || cur_oob) begin
                        end_code  <= ERR_IDX_RANGE;
                        end_table <= bad ? bad_tab : t_cur;
                        err_pend  <= 1'b1;
                        state     <= S_END;
                    end else begin
                        state <= S_HDR;
                    end
                end
            end

            if (state == S_END) begin
                if (m_err_valid && m_err_ready) err_pend <= 1'b0;
                if (m_idx_valid && m_idx_ready) term_pend <= 1'b0;
                if ((!err_pend || m_err_ready) && (!term_pend || m_idx_ready)) begin
                    err_pend  <= 1'b0;
                    term_pend <= 1'b0;
                    state     <= S_HDR;
                end
            end

            if (s_fire) begin
                case (state)
                    S_HDR: begin
                        hb <= hb + 1'b1;
                        end_table <= '0;
                        if (s_tlast && !last_hb) begin                  // short, inside the header
                            hb <= '0;
                            end_code <= ERR_PACKET;
                            err_pend <= 1'b1;
                            state    <= S_END;
                        end else if (last_hb) begin
                            hb     <= '0;
                            ib     <= '0;
                            ib_exp <= 17'((int'(n_hdr) + W - 1) / W);
                            left   <= 17'(n_hdr);
                            if (!hdr_ok || (n_hdr == 16'd0 && !s_tlast) || (n_hdr != 16'd0 && s_tlast)) begin
                                end_code <= ERR_PACKET;               // T, D, N; long or short
                                if (s_tlast) begin
                                    err_pend <= 1'b1;
                                    state    <= S_END;
                                end else begin
                                    state <= S_DRAIN;
                                end
                            end else if (any_bag_bad) begin            // N > 0 here
                                end_code  <= ERR_BAG_LEN;
                                end_table <= first_bag_bad;
                                state     <= S_SKIP;
                            end else if (n_hdr == 16'd0) begin
                                end_code    <= ERR_NONE;
                                m_hdr_valid <= 1'b1;
                                hdr_seq     <= cur_seq;
                                term_pend   <= 1'b1;
                                state       <= S_END;
                            end else begin
                                end_code    <= ERR_NONE;
                                m_hdr_valid <= 1'b1;
                                hdr_seq     <= cur_seq;
                                t_cur       <= first_nz;
                                rem         <= len_of(len_n, first_nz);
                                bad         <= 1'b0;
                                bad_tab     <= '0;
                                state       <= S_IDX;
                            end
                        end
                    end
                    S_IDX: begin
                        ib <= ib + 1'b1;
                        if (s_tlast && !last_ib) begin                 // short: close with a terminator
                            end_code  <= ERR_PACKET;
                            end_table <= '0;
                            err_pend  <= 1'b1;
                            term_pend <= 1'b1;
                            state     <= S_END;
                        end else begin
                            buf_valid <= 1'b1;
                            lane      <= '0;
                            buf_n     <= left > 17'(W) ? LANE_W'(W) : LANE_W'(left);
                            left      <= left > 17'(W) ? left - 17'(W) : 17'd0;
                            buf_final <= last_ib;
                            buf_long  <= last_ib && !s_tlast;
                        end
                    end
                    S_SKIP: begin
                        ib <= ib + 1'b1;
                        if (s_tlast) begin
                            if (!last_ib) end_code <= ERR_PACKET;
                            if (!last_ib) end_table <= '0;
                            err_pend <= 1'b1;
                            state    <= S_END;
                        end else if (last_ib) begin                    // long
                            end_code  <= ERR_PACKET;
                            end_table <= '0;
                            state     <= S_DRAIN;
                        end
                    end
                    S_DRAIN: begin
                        if (s_tlast) begin
                            err_pend <= 1'b1;
                            state    <= S_END;
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
        else $error("query_packet_ingress: header record changed before m_hdr_ready");
    a_idx_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_idx_valid && !m_idx_ready |=> m_idx_valid && $stable(m_idx_index) && $stable(m_idx_table)
                                        && $stable(m_idx_last_query) && $stable(m_idx_abort))
        else $error("query_packet_ingress: index entry changed before m_idx_ready");
    a_err_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_err_valid && !m_err_ready |=> m_err_valid && $stable(m_err_code) && $stable(m_err_qid))
        else $error("query_packet_ingress: error record changed before m_err_ready");
    a_cfg_fits: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        s_tvalid |-> int'(cfg_num_tables) <= T_MAX && int'(cfg_num_dense) <= D_MAX)
        else $error("query_packet_ingress: committed T or D above T_MAX / D_MAX");

    initial begin
        if (W < 2) $error("query_packet_ingress: W must be >= 2");
        if (L_MAX < 64) $error("query_packet_ingress: L_MAX must be >= 64");
        if (T_MAX > 255 || D_MAX > 255) $error("query_packet_ingress: T_MAX, D_MAX <= 255");
    end
endmodule
