// One lookup engine per memory channel (or on-chip bank): walks the list of
// physical tables placed on its channel for every query in the ring, forms
// the row address from the descriptor (design.md s.4, contracts.md s.5),
// checks the indices, and issues AXI4 read bursts with one ARID per
// outstanding read. Responses may return in any order across IDs: each ID
// owns an entry that remembers where its row goes, so no reorder buffer is
// needed. Completed rows (or error results) go to the feature gather.
// A void lookup (a multi-hot sub-query past the end of its bag, contracts
// s.9.9) issues no read: it leaves as a zero row with ERR_NONE through the
// same parked-result path as an index error.
module emb_lookup_engine
    import lookup_pkg::*;
#(
    parameter int QDEPTH   = 16,
    parameter int P_MAX    = 16,
    parameter int LIST_MAX = 16,
    parameter int T_MAX    = 16,
    parameter int DIM_MAX  = 64,
    parameter int DATA_W   = 256,
    parameter int ADDR_W   = 34,
    parameter int ID_W     = 5,
    // 1: a parked result may be replaced in the cycle it leaves (one void lookup per
    // cycle; multi-hot builds); 0: one parked result per two cycles (one-hot builds)
    parameter bit PARK_REFILL = 1'b0,
    // derived
    parameter int SLOT_W   = $clog2(QDEPTH),
    parameter int QSEQ_W   = SLOT_W + 1,
    parameter int PID_W    = $clog2(P_MAX),
    parameter int K_W      = $clog2(LIST_MAX),
    parameter int TID_W    = $clog2(T_MAX),
    parameter int ROW_W    = DIM_MAX * 16
) (
    input  logic                          clk,
    input  logic                          rst_n,
    // configuration (stable while cfg_ready)
    input  logic                          cfg_ready,
    input  logic [31:0]                   cfg_timeout,   // stuck-channel watchdog, 0 = off
    input  logic [K_W:0]                  list_count,
    input  logic [LIST_MAX-1:0][PID_W-1:0] list,
    output logic [PID_W-1:0]              desc_p,
    input  desc_t                         desc,
    // query ring
    input  logic [QSEQ_W-1:0]             q_tail,
    output logic [QSEQ_W-1:0]             q_next,
    output logic [SLOT_W-1:0]             idx_slot,
    output logic [TID_W-1:0]              idx_ta,
    output logic [TID_W-1:0]              idx_tb,
    input  logic [31:0]                   idx_a,
    input  logic [31:0]                   idx_b,
    input  logic                          idx_void_a,    // lookup lt_a of this slot is void (no read)
    // AXI4 read address / data
    output logic                          m_arvalid,
    input  logic                          m_arready,
    output logic [ADDR_W-1:0]             m_araddr,
    output logic [7:0]                    m_arlen,
    output logic [2:0]                    m_arsize,
    output logic [1:0]                    m_arburst,
    output logic [ID_W-1:0]               m_arid,
    input  logic                          m_rvalid,
    output logic                          m_rready,
    input  logic [DATA_W-1:0]             m_rdata,
    input  logic [ID_W-1:0]               m_rid,
    input  logic [1:0]                    m_rresp,
    input  logic                          m_rlast,
    // result to the gather
    output logic                          res_valid,
    output logic [SLOT_W-1:0]             res_slot,
    output logic [3:0]                    res_err,
    output logic [PID_W-1:0]              res_p,
    output logic [ROW_W-1:0]              res_row,
    output logic [8:0]                    res_dim,
    output logic [8:0]                    res_dim_a,
    output logic [15:0]                   res_off_a,
    output logic [15:0]                   res_off_b,
    // statistics and status
    output logic                          st_issue,      // a lookup left the engine (void ones excepted)
    output logic                          st_void,       // a void lookup left the engine
    output logic                          st_beat,       // an R beat arrived
    output logic                          st_ar_stall,   // AR valid, not ready
    output logic [ID_W:0]                 st_outstanding,
    output logic                          st_unexpected_r, // R beat for an ID not in flight
    output logic                          st_ooo,         // a read completed before an older one
    output logic                          st_dead         // the watchdog declared the channel stuck
);
    localparam int OUTS       = 1 << ID_W;
    localparam int BEAT_BYTES = DATA_W / 8;
    localparam int BEAT_LG    = $clog2(BEAT_BYTES);
    localparam int MAXB       = (ROW_W + DATA_W - 1) / DATA_W;   // beats of the widest row
    localparam int BUF_W      = MAXB * DATA_W;

    // ---------------------------------------------------------------------
    // stage A: which lookup is next, its address and index check
    // ---------------------------------------------------------------------
    logic [K_W-1:0] k;
    logic           have_work;
    logic [63:0]    row64;
    logic           idx_ok;
    logic [63:0]    byte_addr;
    logic           narrow;
    logic [7:0]     len;
    logic [BEAT_LG-1:0] beat_off;

    assign have_work = cfg_ready && (list_count != '0) && (q_next != q_tail);
    assign desc_p    = list[k];
    assign idx_slot  = q_next[SLOT_W-1:0];
    assign idx_ta    = desc.lt_a[TID_W-1:0];
    assign idx_tb    = desc.lt_b[TID_W-1:0];

    always_comb begin
        if (desc.is_product) begin
            row64  = 64'(idx_a) * 64'(desc.rows_b) + 64'(idx_b);
            idx_ok = (idx_b < desc.rows_b) && (row64 < 64'(desc.rows));
        end else begin
            row64  = 64'(idx_a);
            idx_ok = idx_a < desc.rows;
        end
`ifdef INJECT_BUGS
        // injected bug (+LOOKUP_BUG_ADDR): the stride is one power of two too small
        if ($test$plusargs("LOOKUP_BUG_ADDR")) byte_addr = 64'(desc.base) + (row64 << (desc.stride_log2 - 4'd1));
        else
`endif
        byte_addr = 64'(desc.base) + (row64 << desc.stride_log2);
        narrow    = 32'(desc.stride_log2) <= BEAT_LG;
`ifdef INJECT_BUGS
        // injected bug (+LOOKUP_BUG_BURST_LEN): a row wider than a beat reads one beat too few
        if ($test$plusargs("LOOKUP_BUG_BURST_LEN")) len = narrow ? 8'd0 : 8'((32'd1 << (32'(desc.stride_log2) - BEAT_LG)) - 2);
        else
`endif
        len       = narrow ? 8'd0 : 8'((32'd1 << (32'(desc.stride_log2) - BEAT_LG)) - 1);
        beat_off  = narrow ? byte_addr[BEAT_LG-1:0] : '0;
    end

    // ---------------------------------------------------------------------
    // outstanding reads: one entry per ARID
    // ---------------------------------------------------------------------
    logic [OUTS-1:0]    ent_busy;
    logic [SLOT_W-1:0]  ent_slot  [OUTS];
    logic [PID_W-1:0]   ent_p     [OUTS];
    logic [BEAT_LG-1:0] ent_off   [OUTS];
    logic [7:0]         ent_beat  [OUTS];
    logic [1:0]         ent_resp  [OUTS];
    logic [8:0]         ent_dim   [OUTS];
    logic [8:0]         ent_dim_a [OUTS];
    logic [15:0]        ent_off_a [OUTS];
    logic [15:0]        ent_off_b [OUTS];
    logic [BUF_W-1:0]   ent_buf   [OUTS];
    // issue order, to count completions that overtake an older read
    logic [ID_W:0]      ent_seq   [OUTS];
    logic [ID_W:0]      issue_seq, done_seq;

    logic [ID_W-1:0] free_id;
    logic            free_any;
    always_comb begin
        free_id  = '0;
        free_any = 1'b0;
        for (int i = OUTS - 1; i >= 0; i--) begin
            if (!ent_busy[i]) begin
                free_id  = ID_W'(i);
                free_any = 1'b1;
            end
        end
    end

    // ---------------------------------------------------------------------
    // stuck-channel watchdog: reads outstanding and no R beat for
    // cfg_timeout cycles -> the channel is dead until reset (a soft reset in
    // the top): outstanding reads fail one by one with ERR_TIMEOUT, later
    // lookups fail at once without a read, so no query waits forever.
    // ---------------------------------------------------------------------
    logic [31:0]     stall_cnt;
    logic            dead;
    logic            flush_emit;     // this cycle the result port carries a flushed read
    logic [ID_W-1:0] flush_id;
    logic            flush_any;
    always_comb begin
        flush_id  = '0;
        flush_any = 1'b0;
        for (int i = OUTS - 1; i >= 0; i--) begin
            if (ent_busy[i]) begin
                flush_id  = ID_W'(i);
                flush_any = 1'b1;
            end
        end
    end
    assign st_dead    = dead;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            stall_cnt <= '0;
            dead      <= 1'b0;
        end else begin
            if (m_rvalid || !(|ent_busy)) begin
                stall_cnt <= '0;
            end else if (stall_cnt != 32'hFFFF_FFFF) begin
                stall_cnt <= stall_cnt + 32'd1;
            end
            if (cfg_timeout != 32'd0 && stall_cnt >= cfg_timeout) begin
                dead <= 1'b1;
            end
        end
    end

    // index-error results wait here until the result port is free
    logic              xerr_valid;
    logic [SLOT_W-1:0] xerr_slot;
    logic [PID_W-1:0]  xerr_p;
    logic [3:0]        xerr_code;
    logic [8:0]        xerr_dim, xerr_dim_a;
    logic [15:0]       xerr_off_a, xerr_off_b;

    // ---------------------------------------------------------------------
    // R channel: collect beats, complete on RLAST
    // ---------------------------------------------------------------------
    logic               r_take;
    logic               r_done;
    logic [BUF_W-1:0]   r_assembled;
    logic [DATA_W-1:0]  r_shifted;
    logic [ROW_W-1:0]   r_row;
    logic [1:0]         r_resp_all;

    assign m_rready        = 1'b1;   // every ID has its buffer reserved
    assign r_take          = m_rvalid && ent_busy[m_rid];
    assign r_done          = r_take && m_rlast;
    assign st_unexpected_r = m_rvalid && !ent_busy[m_rid];
    assign st_beat         = m_rvalid;

    always_comb begin
        r_assembled = ent_buf[m_rid];
        if (32'(ent_beat[m_rid]) < MAXB) begin
            r_assembled[32'(ent_beat[m_rid]) * DATA_W +: DATA_W] = m_rdata;
        end
        r_shifted  = m_rdata >> (32'(ent_off[m_rid]) * 8);
        // single-beat rows sit at a byte offset inside the beat
        if (ent_beat[m_rid] == 8'd0) begin
            r_row = ROW_W'(r_shifted);
        end else begin
            r_row = r_assembled[ROW_W-1:0];
        end
        r_resp_all = (ent_resp[m_rid] != 2'b00) ? ent_resp[m_rid] : m_rresp;
    end

    // ---------------------------------------------------------------------
    // stage A fires: issue a read, or park an index error
    // ---------------------------------------------------------------------
    logic ar_free;
    logic fire;
    logic fire_read;
    logic fire_err;

    assign ar_free   = !m_arvalid || m_arready;
    logic park_free;
    assign park_free = !xerr_valid || (PARK_REFILL && !r_done && !flush_emit);
    assign fire_read = have_work && !idx_void_a && idx_ok && !dead && ar_free && free_any;
    assign fire_err  = have_work && (idx_void_a || !idx_ok || dead) && park_free;
    assign flush_emit = dead && flush_any && !r_done;
    assign fire      = fire_read || fire_err;
    assign st_issue  = fire && !idx_void_a;
    assign st_void   = fire_err && idx_void_a;
    assign st_ar_stall = m_arvalid && !m_arready;

    always_ff @(posedge clk) begin
        if (!rst_n || !cfg_ready) begin
            k      <= '0;
            q_next <= q_tail;
        end else if (list_count == '0) begin
            q_next <= q_tail;
        end else if (fire) begin
            if (32'(k) + 1 >= 32'(list_count)) begin
                k      <= '0;
                q_next <= q_next + 1'b1;
            end else begin
                k <= k + 1'b1;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            m_arvalid <= 1'b0;
        end else if (fire_read) begin
            m_arvalid <= 1'b1;
        end else if (m_arready) begin
            m_arvalid <= 1'b0;
        end
    end

    always_ff @(posedge clk) begin
        if (fire_read) begin
            m_araddr <= ADDR_W'(narrow ? (byte_addr & ~64'(BEAT_BYTES - 1)) : byte_addr);
            m_arlen  <= len;
            m_arid   <= free_id;
        end
    end
    assign m_arsize  = 3'(BEAT_LG);
    assign m_arburst = 2'b01;   // INCR

    // reads complete in issue order unless the memory reorders across IDs
    assign st_ooo = r_done && (ent_seq[m_rid] != done_seq);
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            issue_seq <= '0;
            done_seq  <= '0;
        end else begin
            if (fire_read) issue_seq <= issue_seq + 1'b1;
            if (r_done)    done_seq  <= done_seq + 1'b1;
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            ent_busy <= '0;
        end else begin
            if (r_done) begin
                ent_busy[m_rid] <= 1'b0;
            end
            if (flush_emit) begin
                ent_busy[flush_id] <= 1'b0;
            end
            if (fire_read) begin
                ent_busy[free_id] <= 1'b1;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (fire_read) begin
            ent_slot[free_id]  <= idx_slot;
            ent_p[free_id]     <= desc_p;
            ent_off[free_id]   <= beat_off;
            ent_beat[free_id]  <= '0;
            ent_resp[free_id]  <= 2'b00;
            ent_dim[free_id]   <= desc.dim;
            ent_dim_a[free_id] <= desc.is_product ? desc.dim_a : desc.dim;
            ent_off_a[free_id] <= desc.feat_off_a;
            ent_off_b[free_id] <= desc.feat_off_b;
            ent_seq[free_id]   <= issue_seq;
        end
        if (r_take && !m_rlast) begin
            ent_buf[m_rid]  <= r_assembled;
            ent_beat[m_rid] <= ent_beat[m_rid] + 8'd1;
            ent_resp[m_rid] <= r_resp_all;
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            xerr_valid <= 1'b0;
        end else if (fire_err) begin
            xerr_valid <= 1'b1;
        end else if (xerr_valid && !r_done && !flush_emit) begin
            xerr_valid <= 1'b0;
        end
    end

    always_ff @(posedge clk) begin
        if (fire_err) begin
            xerr_code  <= idx_void_a ? ERR_NONE : idx_ok ? ERR_TIMEOUT : ERR_IDX_RANGE;
            xerr_slot  <= idx_slot;
            xerr_p     <= desc_p;
            xerr_dim   <= desc.dim;
            xerr_dim_a <= desc.is_product ? desc.dim_a : desc.dim;
            xerr_off_a <= desc.feat_off_a;
            xerr_off_b <= desc.feat_off_b;
        end
    end

    // ---------------------------------------------------------------------
    // result register: completed reads first, parked index errors otherwise
    // ---------------------------------------------------------------------
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            res_valid <= 1'b0;
        end else begin
            res_valid <= r_done || flush_emit || xerr_valid;
        end
    end

    always_ff @(posedge clk) begin
        if (r_done) begin
            res_slot  <= ent_slot[m_rid];
            res_p     <= ent_p[m_rid];
            res_err   <= (r_resp_all == 2'b10) ? ERR_AXI_SLVERR :
                         (r_resp_all == 2'b11) ? ERR_AXI_DECERR : ERR_NONE;
            res_row   <= (r_resp_all[1]) ? '0 : r_row;
            res_dim   <= ent_dim[m_rid];
            res_dim_a <= ent_dim_a[m_rid];
            res_off_a <= ent_off_a[m_rid];
            res_off_b <= ent_off_b[m_rid];
        end else if (flush_emit) begin
            res_slot  <= ent_slot[flush_id];
            res_p     <= ent_p[flush_id];
            res_err   <= ERR_TIMEOUT;
            res_row   <= '0;
            res_dim   <= ent_dim[flush_id];
            res_dim_a <= ent_dim_a[flush_id];
            res_off_a <= ent_off_a[flush_id];
            res_off_b <= ent_off_b[flush_id];
        end else if (xerr_valid) begin
            res_slot  <= xerr_slot;
            res_p     <= xerr_p;
            res_err   <= xerr_code;
            res_row   <= '0;
            res_dim   <= xerr_dim;
            res_dim_a <= xerr_dim_a;
            res_off_a <= xerr_off_a;
            res_off_b <= xerr_off_b;
        end
    end

    // placement fields are the config block's business, not the engine's
    logic unused_desc;
    assign unused_desc = ^{desc.valid, desc.onchip, desc.channel};

    // assertions hold from the first reset on: simulation starts from random state
    // (Verilator --x-initial unique), with no meaning before reset; the initial value
    // is the point here (an FPGA register's power-up value), hence the one waiver
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    // ---------------------------------------------------------------------
    // protocol assertions (active in every simulation: Verilator --assert)
    // ---------------------------------------------------------------------
    // AXI: a read request, once valid, stays valid and unchanged until taken
    a_ar_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_arvalid && !m_arready |=> m_arvalid && $stable(m_araddr) && $stable(m_arlen) && $stable(m_arid))
        else $error("emb_lookup_engine: AR changed or dropped before ARREADY");
    // an ARID is never reused while its read is in flight
    a_id_free: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) fire_read |-> !ent_busy[free_id])
        else $error("emb_lookup_engine: ARID %0d reused while in flight", free_id);

`ifdef INJECT_BUGS
    // injected bug (+LOOKUP_BUG_AR_UNSTABLE): the address moves while AR waits for ready (assertion must fire)
    always_ff @(posedge clk) if ($test$plusargs("LOOKUP_BUG_AR_UNSTABLE") && m_arvalid && !m_arready) m_araddr[5] <= !m_araddr[5];
`endif

    always_comb begin
        st_outstanding = '0;
        for (int i = 0; i < OUTS; i++) begin
            st_outstanding = st_outstanding + (ID_W + 1)'(ent_busy[i]);
        end
    end
endmodule
