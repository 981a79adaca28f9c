// Embedding lookup subsystem: MicroRec's first half. Queries (an id and one
// index per logical table) enter a ring of QDEPTH slots; NUM_CH memory
// engines and NUM_BANKS on-chip engines each serve the physical tables placed
// on them, in parallel; the gather emits each query's feature vector (in
// logical concatenation order) in query order, with its first error.
module emb_lookup_top
    import lookup_pkg::*;
#(
    parameter int NUM_CH     = 4,
    parameter int NUM_BANKS  = 1,
    parameter int BANK_WORDS = 1024,
    parameter int QDEPTH     = 16,
    parameter int P_MAX      = 16,
    parameter int LIST_MAX   = 16,
    parameter int T_MAX      = 16,
    parameter int DIM_MAX    = 64,
    parameter int FEAT_MAX   = 256,
    parameter int DATA_W     = 256,
    parameter int ADDR_W     = 34,
    parameter int ID_W       = 5,
    parameter int QID_W      = 32,
    // hot-row cache in front of every memory channel (contracts s.11): 0 = none built
    parameter int CACHE            = 0,
    parameter int CACHE_LINES      = 64,
    parameter int CACHE_WAYS       = 4,
    parameter int CACHE_LINE_BEATS = 1,
    // derived
    parameter int NUM_ENG    = NUM_CH + NUM_BANKS,
    parameter int PID_W      = $clog2(P_MAX),
    parameter int SLOT_W     = $clog2(QDEPTH),
    parameter int BWA_W      = $clog2(BANK_WORDS),
    parameter int BSEL_W     = (NUM_BANKS > 1) ? $clog2(NUM_BANKS) : 1
) (
    input  logic                              clk,
    input  logic                              rst_n,
    // configuration
    input  logic                              desc_we,
    input  logic [PID_W-1:0]                  desc_waddr,
    input  desc_t                             desc_wdata,
    input  logic [7:0]                        cfg_num_logical,
    input  logic                              cfg_commit,
    input  logic [31:0]                       cfg_timeout,   // stuck-channel watchdog (cycles, 0 = off)
    output logic                              cfg_ready,
    output logic                              cfg_bad,
    output logic [3:0]                        cfg_err_code,
    output logic [PID_W-1:0]                  cfg_err_table,
    // on-chip bank load port
    input  logic                              bank_we,
    input  logic [BSEL_W-1:0]                 bank_sel,
    input  logic [BWA_W-1:0]                  bank_waddr,
    input  logic [DATA_W-1:0]                 bank_wdata,
    // queries in
    input  logic                              s_query_valid,
    output logic                              s_query_ready,
    input  logic [QID_W-1:0]                  s_query_id,
    input  logic [T_MAX*32-1:0]               s_query_idx,
    // feature vectors out, in query order
    output logic                              m_feat_valid,
    input  logic                              m_feat_ready,
    output logic [QID_W-1:0]                  m_feat_id,
    output logic [FEAT_MAX*16-1:0]            m_feat_data,
    output logic [3:0]                        m_feat_err,
    output logic [7:0]                        m_feat_err_table,
    output logic [7:0]                        m_feat_err_engine,
    // AXI4 read masters, one per memory channel
    output logic [NUM_CH-1:0]                 m_axi_arvalid,
    input  logic [NUM_CH-1:0]                 m_axi_arready,
    output logic [NUM_CH-1:0][ADDR_W-1:0]     m_axi_araddr,
    output logic [NUM_CH-1:0][7:0]            m_axi_arlen,
    output logic [NUM_CH-1:0][2:0]            m_axi_arsize,
    output logic [NUM_CH-1:0][1:0]            m_axi_arburst,
    output logic [NUM_CH-1:0][ID_W-1:0]       m_axi_arid,
    input  logic [NUM_CH-1:0]                 m_axi_rvalid,
    output logic [NUM_CH-1:0]                 m_axi_rready,
    input  logic [NUM_CH-1:0][DATA_W-1:0]     m_axi_rdata,
    input  logic [NUM_CH-1:0][ID_W-1:0]       m_axi_rid,
    input  logic [NUM_CH-1:0][1:0]            m_axi_rresp,
    input  logic [NUM_CH-1:0]                 m_axi_rlast,
    // performance counters and sticky status
    input  logic                              perf_clear,
    output logic                              st_busy,       // a query is in the ring
    output logic [63:0]                       perf_cycles,
    output logic [63:0]                       perf_queries,
    output logic [63:0]                       perf_lookups_mem,
    output logic [63:0]                       perf_lookups_onchip,
    output logic [63:0]                       perf_beats,
    output logic [63:0]                       perf_ar_stall,
    output logic [63:0]                       perf_in_stall,
    output logic [63:0]                       perf_out_stall,
    output logic [63:0]                       perf_errors,
    output logic [63:0]                       perf_ooo,
    output logic [NUM_ENG-1:0][ID_W:0]        st_outstanding,
    output logic                              st_unexpected_r,
    output logic [NUM_ENG-1:0]                st_dead,         // engines the watchdog declared stuck
    // hot-row caches (CACHE = 1; contracts s.11.6): control and counters summed over channels
    input  logic                              cfg_cache_enable,
    input  logic                              cfg_cache_policy, // 0 lru, 1 freq
    input  logic                              cache_flush,      // pulse; a commit flushes too (s.11.7)
    output logic                              st_cache_enabled, // every channel's cache is on
    output logic [63:0]                       perf_cache_hits,
    output logic [63:0]                       perf_cache_misses,
    output logic [63:0]                       perf_cache_fills,
    output logic [63:0]                       perf_cache_evictions,
    output logic [63:0]                       perf_cache_bypasses,
    output logic [63:0]                       perf_cache_uncached,
    output logic [63:0]                       perf_cache_bytes_saved
);
    localparam int QSEQ_W   = SLOT_W + 1;
    localparam int LK_W     = $clog2(LIST_MAX);
    localparam int TID_W    = $clog2(T_MAX);
    localparam int ROW_W    = DIM_MAX * 16;
    localparam int ENG_W    = (NUM_ENG > 1) ? $clog2(NUM_ENG) : 1;

    // ---------------------------------------------------------------------
    // query ring
    // ---------------------------------------------------------------------
    logic [QSEQ_W-1:0] q_head, q_tail;
    logic [31:0]       idx_mem [QDEPTH][T_MAX];
    logic [QID_W-1:0]  qid_mem [QDEPTH];
    logic              ring_full, ring_empty, q_accept, q_emit;
    logic              cfg_draining;

    assign ring_empty    = q_head == q_tail;
    assign ring_full     = (q_tail - q_head) == QSEQ_W'(QDEPTH);
    assign s_query_ready = cfg_ready && !cfg_draining && !ring_full;
    assign q_accept      = s_query_valid && s_query_ready;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            q_head <= '0;
            q_tail <= '0;
        end else begin
            if (q_accept) q_tail <= q_tail + 1'b1;
            if (q_emit)   q_head <= q_head + 1'b1;
        end
    end

    always_ff @(posedge clk) begin
        if (q_accept) begin
            for (int t = 0; t < T_MAX; t++) begin
                idx_mem[q_tail[SLOT_W-1:0]][t] <= s_query_idx[32*t +: 32];
            end
            qid_mem[q_tail[SLOT_W-1:0]] <= s_query_id;
        end
    end

    // ---------------------------------------------------------------------
    // configuration
    // ---------------------------------------------------------------------
    logic [NUM_ENG-1:0][PID_W-1:0]               eng_desc_p;
    desc_t [NUM_ENG-1:0]                         eng_desc;
    logic [PID_W:0]                              n_lookups;
    logic [NUM_ENG-1:0][LK_W:0]                  list_count;
    logic [NUM_ENG-1:0][LIST_MAX-1:0][PID_W-1:0] list;

    lookup_config #(
        .NUM_CH(NUM_CH), .NUM_BANKS(NUM_BANKS), .P_MAX(P_MAX), .LIST_MAX(LIST_MAX),
        .T_MAX(T_MAX), .DIM_MAX(DIM_MAX), .FEAT_MAX(FEAT_MAX),
        .BANK_BYTES(BANK_WORDS * DATA_W / 8), .ADDR_W(ADDR_W)
    ) u_config (
        .clk, .rst_n, .desc_we, .desc_waddr, .desc_wdata,
        .num_logical(cfg_num_logical), .commit(cfg_commit), .ring_empty,
        .rd_p(eng_desc_p), .rd_desc(eng_desc),
        .cfg_ready, .cfg_draining, .cfg_bad, .cfg_err_code, .cfg_err_p(cfg_err_table),
        .n_lookups, .list_count, .list
    );

    // ---------------------------------------------------------------------
    // engines: memory channels first, then on-chip banks
    // ---------------------------------------------------------------------
    logic [NUM_ENG-1:0]                arvalid, arready, rvalid, rready, rlast;
    logic [NUM_ENG-1:0][ADDR_W-1:0]    araddr;
    logic [NUM_ENG-1:0][7:0]           arlen;
    logic [NUM_ENG-1:0][2:0]           arsize;
    logic [NUM_ENG-1:0][1:0]           arburst, rresp;
    logic [NUM_ENG-1:0][ID_W-1:0]      arid, rid;
    logic [NUM_ENG-1:0][DATA_W-1:0]    rdata;

    logic [NUM_ENG-1:0][QSEQ_W-1:0]    eng_q_next;
    logic [NUM_ENG-1:0][SLOT_W-1:0]    eng_idx_slot;
    logic [NUM_ENG-1:0][TID_W-1:0]     eng_ta, eng_tb;
    logic [NUM_ENG-1:0][31:0]          eng_idx_a, eng_idx_b;

    logic [NUM_ENG-1:0]                res_valid;
    logic [NUM_ENG-1:0][SLOT_W-1:0]    res_slot;
    logic [NUM_ENG-1:0][3:0]           res_err;
    logic [NUM_ENG-1:0][PID_W-1:0]     res_p;
    logic [NUM_ENG-1:0][ROW_W-1:0]     res_row;
    logic [NUM_ENG-1:0][8:0]           res_dim, res_dim_a;
    logic [NUM_ENG-1:0][15:0]          res_off_a, res_off_b;
    logic [NUM_ENG-1:0]                st_issue, st_beat, st_ar_stall, st_unexp, st_ooo;

    // per-channel cache counters (CACHE = 1); summed below
    logic [NUM_CH-1:0]        cache_on;
    logic [NUM_CH-1:0][63:0]  c_hits, c_misses, c_fills, c_evictions, c_bypasses, c_uncached, c_saved;

    for (genvar e = 0; e < NUM_ENG; e++) begin : g_eng
        assign eng_idx_a[e] = idx_mem[eng_idx_slot[e]][eng_ta[e]];
        assign eng_idx_b[e] = idx_mem[eng_idx_slot[e]][eng_tb[e]];

        emb_lookup_engine #(
            .QDEPTH(QDEPTH), .P_MAX(P_MAX), .LIST_MAX(LIST_MAX), .T_MAX(T_MAX),
            .DIM_MAX(DIM_MAX), .DATA_W(DATA_W), .ADDR_W(ADDR_W), .ID_W(ID_W)
        ) u_engine (
            // under an illegal config the gather answers every query at once with
            // ERR_BAD_CONFIG, so the engines must not read for it: their results
            // would land in ring slots already handed to later queries
            .clk, .rst_n, .cfg_ready(cfg_ready && !cfg_bad), .cfg_timeout,
            .list_count(list_count[e]), .list(list[e]),
            .desc_p(eng_desc_p[e]), .desc(eng_desc[e]),
            .q_tail, .q_next(eng_q_next[e]),
            .idx_slot(eng_idx_slot[e]), .idx_ta(eng_ta[e]), .idx_tb(eng_tb[e]),
            .idx_a(eng_idx_a[e]), .idx_b(eng_idx_b[e]),
            .m_arvalid(arvalid[e]), .m_arready(arready[e]), .m_araddr(araddr[e]),
            .m_arlen(arlen[e]), .m_arsize(arsize[e]), .m_arburst(arburst[e]), .m_arid(arid[e]),
            .m_rvalid(rvalid[e]), .m_rready(rready[e]), .m_rdata(rdata[e]), .m_rid(rid[e]),
            .m_rresp(rresp[e]), .m_rlast(rlast[e]),
            .res_valid(res_valid[e]), .res_slot(res_slot[e]), .res_err(res_err[e]),
            .res_p(res_p[e]), .res_row(res_row[e]), .res_dim(res_dim[e]),
            .res_dim_a(res_dim_a[e]), .res_off_a(res_off_a[e]), .res_off_b(res_off_b[e]),
            .st_issue(st_issue[e]), .st_beat(st_beat[e]), .st_ar_stall(st_ar_stall[e]),
            .st_outstanding(st_outstanding[e]), .st_unexpected_r(st_unexp[e]), .st_ooo(st_ooo[e]),
            .st_dead(st_dead[e])
        );

        if (e < NUM_CH) begin : g_mem
            if (CACHE != 0) begin : g_cache
                // the engine's read master enters the cache, the cache's goes to memory;
                // the timing-dependent counters and the decision trace are for the cache's
                // own bench, not the CSRs
                localparam int WAY_W = (CACHE_WAYS > 1) ? $clog2(CACHE_WAYS) : 1;
                logic [63:0]      t_pending, t_stalls;
                logic             t_valid, t_evict, t_pend;
                logic [1:0]       t_kind;
                logic [WAY_W-1:0] t_way;
                logic [ID_W-1:0]  t_id;
                logic             unused_trace;
                assign unused_trace = ^{t_pending, t_stalls, t_valid, t_evict, t_pend, t_kind, t_way, t_id};
                emb_row_cache #(
                    .LINES(CACHE_LINES), .WAYS(CACHE_WAYS), .LINE_BEATS(CACHE_LINE_BEATS),
                    .DATA_W(DATA_W), .ADDR_W(ADDR_W), .ID_W(ID_W)
                ) u_cache (
                    .clk, .rst_n,
                    .cfg_enable(cfg_cache_enable), .cfg_policy(cfg_cache_policy),
`ifdef INJECT_BUGS
                    // injected bug (+LOOKUP_BUG_CACHE_COMMIT_KEEPS): a commit leaves the lines valid
                    .flush(cache_flush || (cfg_commit && !$test$plusargs("LOOKUP_BUG_CACHE_COMMIT_KEEPS"))),
`else
                    .flush(cache_flush || cfg_commit),
`endif
                    .cnt_clear(perf_clear), .st_enabled(cache_on[e]),
                    .s_arvalid(arvalid[e]), .s_arready(arready[e]), .s_araddr(araddr[e]),
                    .s_arlen(arlen[e]), .s_arsize(arsize[e]), .s_arburst(arburst[e]), .s_arid(arid[e]),
                    .s_rvalid(rvalid[e]), .s_rready(rready[e]), .s_rdata(rdata[e]), .s_rid(rid[e]),
                    .s_rresp(rresp[e]), .s_rlast(rlast[e]),
                    .m_arvalid(m_axi_arvalid[e]), .m_arready(m_axi_arready[e]), .m_araddr(m_axi_araddr[e]),
                    .m_arlen(m_axi_arlen[e]), .m_arsize(m_axi_arsize[e]), .m_arburst(m_axi_arburst[e]),
                    .m_arid(m_axi_arid[e]),
                    .m_rvalid(m_axi_rvalid[e]), .m_rready(m_axi_rready[e]), .m_rdata(m_axi_rdata[e]),
                    .m_rid(m_axi_rid[e]), .m_rresp(m_axi_rresp[e]), .m_rlast(m_axi_rlast[e]),
                    .cnt_hits(c_hits[e]), .cnt_misses(c_misses[e]), .cnt_fills(c_fills[e]),
                    .cnt_evictions(c_evictions[e]), .cnt_bypasses(c_bypasses[e]),
                    .cnt_uncached(c_uncached[e]), .cnt_bytes_saved(c_saved[e]),
                    .cnt_hit_pending(t_pending), .cnt_stall_cycles(t_stalls),
                    .dec_valid(t_valid), .dec_kind(t_kind), .dec_way(t_way), .dec_evict(t_evict),
                    .dec_pending(t_pend), .dec_id(t_id)
                );
            end else begin : g_wire
                assign m_axi_arvalid[e] = arvalid[e];
                assign arready[e]       = m_axi_arready[e];
                assign m_axi_araddr[e]  = araddr[e];
                assign m_axi_arlen[e]   = arlen[e];
                assign m_axi_arsize[e]  = arsize[e];
                assign m_axi_arburst[e] = arburst[e];
                assign m_axi_arid[e]    = arid[e];
                assign rvalid[e]        = m_axi_rvalid[e];
                assign m_axi_rready[e]  = rready[e];
                assign rdata[e]         = m_axi_rdata[e];
                assign rid[e]           = m_axi_rid[e];
                assign rresp[e]         = m_axi_rresp[e];
                assign rlast[e]         = m_axi_rlast[e];
            end
        end else begin : g_bank
            localparam int B = e - NUM_CH;
            // a bank always serves full-width INCR bursts
            logic unused_bank_ar;
            assign unused_bank_ar = ^{arsize[e], arburst[e]};
            onchip_table_ram #(
                .WORDS(BANK_WORDS), .DATA_W(DATA_W), .ADDR_W(ADDR_W), .ID_W(ID_W)
            ) u_bank (
                .clk, .rst_n,
                .wr_en(bank_we && 32'(bank_sel) == B), .wr_addr(bank_waddr), .wr_data(bank_wdata),
                .s_arvalid(arvalid[e]), .s_arready(arready[e]), .s_araddr(araddr[e]),
                .s_arlen(arlen[e]), .s_arid(arid[e]),
                .s_rvalid(rvalid[e]), .s_rready(rready[e]), .s_rdata(rdata[e]), .s_rid(rid[e]),
                .s_rresp(rresp[e]), .s_rlast(rlast[e])
            );
        end
    end

    // ---------------------------------------------------------------------
    // gather and output
    // ---------------------------------------------------------------------
    logic             head_ready;
    logic [3:0]       head_err;
    logic [PID_W-1:0] head_err_p;
    logic [ENG_W-1:0] head_err_eng;

    feature_gather #(
        .NUM_ENG(NUM_ENG), .QDEPTH(QDEPTH), .P_MAX(P_MAX), .DIM_MAX(DIM_MAX),
        .FEAT_MAX(FEAT_MAX)
    ) u_gather (
        .clk, .rst_n, .n_lookups, .cfg_bad,
        .alloc(q_accept), .alloc_slot(q_tail[SLOT_W-1:0]), .q_head, .q_tail,
        .res_valid, .res_slot, .res_err, .res_p, .res_row, .res_dim, .res_dim_a,
        .res_off_a, .res_off_b,
        .head_ready, .head_feat(m_feat_data), .head_err, .head_err_p, .head_err_eng
    );

    assign m_feat_valid      = head_ready;
    assign m_feat_id         = qid_mem[q_head[SLOT_W-1:0]];
    assign m_feat_err        = head_err;
    assign m_feat_err_table  = 8'(head_err_p);
    assign m_feat_err_engine = 8'(head_err_eng);
    assign q_emit            = m_feat_valid && m_feat_ready;

    // engine progress is implied by the gather's completion counts
    logic unused_q_next;
    assign unused_q_next = ^eng_q_next;

    // ---------------------------------------------------------------------
    // cache counters: the channels' sums (each channel counts only while enabled)
    // ---------------------------------------------------------------------
    if (CACHE != 0) begin : g_cache_sum
        always_comb begin
            perf_cache_hits        = '0;
            perf_cache_misses      = '0;
            perf_cache_fills       = '0;
            perf_cache_evictions   = '0;
            perf_cache_bypasses    = '0;
            perf_cache_uncached    = '0;
            perf_cache_bytes_saved = '0;
            for (int c = 0; c < NUM_CH; c++) begin
                perf_cache_hits        = perf_cache_hits + c_hits[c];
                perf_cache_misses      = perf_cache_misses + c_misses[c];
                perf_cache_fills       = perf_cache_fills + c_fills[c];
                perf_cache_evictions   = perf_cache_evictions + c_evictions[c];
                perf_cache_bypasses    = perf_cache_bypasses + c_bypasses[c];
                perf_cache_uncached    = perf_cache_uncached + c_uncached[c];
                perf_cache_bytes_saved = perf_cache_bytes_saved + c_saved[c];
            end
        end
        assign st_cache_enabled = &cache_on;
    end else begin : g_no_cache
        assign cache_on               = '0;
        assign {c_hits, c_misses, c_fills, c_evictions, c_bypasses, c_uncached, c_saved} = '0;
        assign perf_cache_hits        = '0;
        assign perf_cache_misses      = '0;
        assign perf_cache_fills       = '0;
        assign perf_cache_evictions   = '0;
        assign perf_cache_bypasses    = '0;
        assign perf_cache_uncached    = '0;
        assign perf_cache_bytes_saved = '0;
        assign st_cache_enabled       = 1'b0;
        logic unused_cache_cfg;
        assign unused_cache_cfg = ^{cfg_cache_enable, cfg_cache_policy, cache_flush, cache_on,
                                    c_hits, c_misses, c_fills, c_evictions, c_bypasses, c_uncached, c_saved};
    end

    // ---------------------------------------------------------------------
    // performance counters
    // ---------------------------------------------------------------------
    function automatic logic [63:0] popcount(input logic [NUM_ENG-1:0] v);
        popcount = '0;
        for (int i = 0; i < NUM_ENG; i++) popcount = popcount + 64'(v[i]);
    endfunction

    assign st_busy = !ring_empty;

    // assertions hold from the first reset on: simulation starts from random state
    // (Verilator --x-initial unique), with no meaning before reset; the initial value
    // is the point here (an FPGA register's power-up value), hence the one waiver
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    // the feature stream holds its vector until taken; the ring never overflows
    a_feat_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_feat_valid && !m_feat_ready |=> m_feat_valid && $stable(m_feat_id) && $stable(m_feat_err))
        else $error("emb_lookup_top: feature vector dropped or changed before ready");
    a_ring_bound: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) (q_tail - q_head) <= QSEQ_W'(QDEPTH))
        else $error("emb_lookup_top: query ring holds more than QDEPTH queries");

    always_ff @(posedge clk) begin
        if (!rst_n || perf_clear) begin
            perf_cycles         <= '0;
            perf_queries        <= '0;
            perf_lookups_mem    <= '0;
            perf_lookups_onchip <= '0;
            perf_beats          <= '0;
            perf_ar_stall       <= '0;
            perf_in_stall       <= '0;
            perf_out_stall      <= '0;
            perf_errors         <= '0;
            perf_ooo            <= '0;
        end else begin
            perf_cycles         <= perf_cycles + 64'd1;
            perf_queries        <= perf_queries + 64'(q_emit);
`ifdef INJECT_BUGS
            // injected bug (+LOOKUP_BUG_PERF_TIER): on-chip lookups counted as memory lookups too
            if ($test$plusargs("LOOKUP_BUG_PERF_TIER")) perf_lookups_mem <= perf_lookups_mem + popcount(st_issue);
            else
`endif
            perf_lookups_mem    <= perf_lookups_mem + popcount(st_issue & NUM_ENG'((1 << NUM_CH) - 1));
            perf_lookups_onchip <= perf_lookups_onchip + popcount(st_issue & ~NUM_ENG'((1 << NUM_CH) - 1));
            perf_beats          <= perf_beats + popcount(st_beat & NUM_ENG'((1 << NUM_CH) - 1));
            perf_ar_stall       <= perf_ar_stall + popcount(st_ar_stall);
            perf_in_stall       <= perf_in_stall + 64'(s_query_valid && !s_query_ready);
            perf_out_stall      <= perf_out_stall + 64'(m_feat_valid && !m_feat_ready);
            perf_errors         <= perf_errors + 64'(q_emit && m_feat_err != ERR_NONE);
            perf_ooo            <= perf_ooo + popcount(st_ooo);
        end
    end

    // sticky status survives perf_clear; only reset clears it
    always_ff @(posedge clk) begin
        if (!rst_n)          st_unexpected_r <= 1'b0;
`ifdef INJECT_BUGS
        // injected bug (+LOOKUP_BUG_UNEXPECTED_IGNORED): the detector never fires (tests/test_lookup.py must notice)
        else if ($test$plusargs("LOOKUP_BUG_UNEXPECTED_IGNORED")) begin end
`endif
        else if (|st_unexp)  st_unexpected_r <= 1'b1;
    end
endmodule
