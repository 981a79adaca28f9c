// MicroRec-style accelerator top (design.md section 5): AXI4-Lite CSRs, a
// query stream in, a result stream out in query order, NUM_CH AXI4 read
// masters shared by the lookup engines and the configuration DMA.
//
// Pipeline: lookup subsystem -> feature serializer -> MLP engine -> result.
// Lookups of later queries overlap the MLP of earlier ones (the lookup ring
// and the MLP's in-flight inferences are independent), so throughput is set
// by the slower stage. Every query leaves as exactly one result: a query
// whose lookup failed still flows through the MLP (its failed rows read as
// zero) so order is kept for free, and leaves with its error record and
// logit 0. An illegal MLP configuration bypasses the MLP: each query then
// leaves at once with ERR_BAD_CONFIG instead of waiting forever.
//
// DLRM back half (build parameter DLRM = 1, runtime DLRM_CTRL.enable;
// contracts s.7.2): each query's dense features (s_query_dense, captured with
// the query) run through a second, smaller mlp_engine (the bottom MLP, VEC_OUT
// = 1) while its rows are looked up; the bottom's output x is joined, in query
// order, with the lookup's pooled feature vector in dot_interaction, whose R
// beats feed the top MLP instead of the feature serializer. With DLRM = 0 none
// of this is built and the top is cycle for cycle the MicroRec top.
//
// Hot-row caches (build parameter CACHE = 1, runtime CACHE_CTRL; contracts
// s.11.11): the lookup puts one emb_row_cache in front of each memory channel;
// the DMA's reads do not pass them. They are flushed by CTRL.commit (inside the
// lookup), CTRL.dma_start, CACHE_CTRL.flush and a soft reset (the datapath
// reset); their counters are PERF_CACHE_*. CACHE_CTRL.enable on a CACHE = 0
// build is an illegal configuration (CFG_ERR 15).
//
// RecPipe (contracts s.10.6): MLP_WBASE / MLP_BBASE place the MLP model anywhere in
// the weight / bias memories (two models side by side; every build). With TOPK = 1
// and TOPK_CTRL.enable, every MLP result is a top-k candidate (rtl/topk/
// topk_result_path.sv) and the unit's answer beats leave on m_result instead. With
// TOPK = 0 nothing of it is built and the top is cycle for cycle as before.
module microrec_top
    import lookup_pkg::*;
#(
    // lookup subsystem
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
    // MLP engine
    parameter int P          = 8,
    parameter int U          = 8,
    parameter int ACC_W      = 48,
    parameter int MAX_LAYERS = 4,
    parameter int MAX_DIM    = 1024,
    parameter int WDEPTH     = 1024,
    parameter int BDEPTH     = 64,
    parameter int FEAT_LANES = 16,
    // glue
    parameter int PEND_DEPTH = 32,
    // DLRM back half (contracts s.7.2, s.9.3, s.9.4)
    parameter bit DLRM        = 1'b0,       // 1: build the bottom MLP and the interaction
    parameter int DENSE_MAX   = 16,         // dense features per query
    // multi-hot queries (contracts s.9.7, s.9.9): the packet port and the lookup's front end
    parameter bit MH          = 1'b0,       // 1: build the lookup's multi-hot front end
    parameter int PKT_W       = 32,         // 32-bit words per packet beat
    parameter int L_MAX       = 64,         // longest bag of the build
    parameter int BP          = (P / 2 > 0) ? P / 2 : 1,   // bottom engine PEs
    parameter int BU          = U,          // bottom engine MAC lanes
    parameter int BMAX_LAYERS = 4,
    parameter int BMAX_DIM    = 512,
    parameter int BWDEPTH     = 1024,
    parameter int BBDEPTH     = 64,
    parameter int DOT_LANES   = 4,
    // hot-row caches (contracts s.11, s.11.11): one emb_row_cache of CACHE_LINES lines,
    // CACHE_WAYS ways, bursts up to CACHE_LINE_BEATS beats, in front of each memory channel
    parameter int CACHE            = 0,   // 0: none built (every existing build, cycle for cycle)
    parameter int CACHE_LINES      = 64,
    parameter int CACHE_WAYS       = 4,
    parameter int CACHE_LINE_BEATS = 1,
    // top-k after the MLP (contracts s.10.2, s.10.6)
    parameter bit TOPK             = 1'b0,   // 0: none built (every existing build, cycle for cycle)
    parameter int TOPK_K_MAX       = 256,
    parameter int TOPK_N_MAX       = 4096,
    localparam int CSR_AW    = microrec_csr_regs_pkg::MICROREC_CSR_REGS_MIN_ADDR_WIDTH,
    localparam int PID_W     = $clog2(P_MAX),
    localparam int BSEL_W    = (NUM_BANKS > 1) ? $clog2(NUM_BANKS) : 1,
    localparam int BWA_W     = $clog2(BANK_WORDS)
) (
    input  logic                          clk,
    input  logic                          rst_n,
    // CSRs
    input  logic                          s_axil_awvalid,
    output logic                          s_axil_awready,
    input  logic [CSR_AW-1:0]             s_axil_awaddr,
    input  logic [2:0]                    s_axil_awprot,
    input  logic                          s_axil_wvalid,
    output logic                          s_axil_wready,
    input  logic [31:0]                   s_axil_wdata,
    input  logic [3:0]                    s_axil_wstrb,
    output logic                          s_axil_bvalid,
    input  logic                          s_axil_bready,
    output logic [1:0]                    s_axil_bresp,
    input  logic                          s_axil_arvalid,
    output logic                          s_axil_arready,
    input  logic [CSR_AW-1:0]             s_axil_araddr,
    input  logic [2:0]                    s_axil_arprot,
    output logic                          s_axil_rvalid,
    input  logic                          s_axil_rready,
    output logic [31:0]                   s_axil_rdata,
    output logic [1:0]                    s_axil_rresp,
    // queries: an id and one 32-bit index per logical table
    input  logic                          s_query_valid,
    output logic                          s_query_ready,
    input  logic [31:0]                   s_query_id,
    input  logic [T_MAX*32-1:0]           s_query_idx,
    input  logic [DENSE_MAX*16-1:0]       s_query_dense,   // DLRM: dense feature k in [16k +: 16]
    // multi-hot queries as packets (MULTIHOT.enable on an MH build; s_query is then unused)
    input  logic                          s_pkt_tvalid,
    output logic                          s_pkt_tready,
    input  logic [PKT_W*32-1:0]           s_pkt_tdata,
    input  logic                          s_pkt_tlast,
    // results, in query order: the int32 logit or an error record
    output logic                          m_result_valid,
    input  logic                          m_result_ready,
    output logic [31:0]                   m_result_id,
    output logic [31:0]                   m_result_logit,
    output logic [3:0]                    m_result_err,
    output logic [7:0]                    m_result_err_table,
    output logic [7:0]                    m_result_err_engine,
    // memory: AXI4 read masters, flattened per channel
    output logic [NUM_CH-1:0]             m_axi_arvalid,
    input  logic [NUM_CH-1:0]             m_axi_arready,
    output logic [NUM_CH-1:0][ADDR_W-1:0] m_axi_araddr,
    output logic [NUM_CH-1:0][7:0]        m_axi_arlen,
    output logic [NUM_CH-1:0][2:0]        m_axi_arsize,
    output logic [NUM_CH-1:0][1:0]        m_axi_arburst,
    output logic [NUM_CH-1:0][ID_W-1:0]   m_axi_arid,
    input  logic [NUM_CH-1:0]             m_axi_rvalid,
    output logic [NUM_CH-1:0]             m_axi_rready,
    input  logic [NUM_CH-1:0][DATA_W-1:0] m_axi_rdata,
    input  logic [NUM_CH-1:0][ID_W-1:0]   m_axi_rid,
    input  logic [NUM_CH-1:0][1:0]        m_axi_rresp,
    input  logic [NUM_CH-1:0]             m_axi_rlast
);
    localparam int DIM_W  = $clog2(MAX_DIM + 1);
    localparam int NL_W   = $clog2(MAX_LAYERS + 1);
    localparam int PE_W   = (P > 1) ? $clog2(P) : 1;
    localparam int WA_W   = (WDEPTH > 1) ? $clog2(WDEPTH) : 1;
    localparam int TAG_W  = 16;
    localparam int NBEATS = (FEAT_MAX + FEAT_LANES - 1) / FEAT_LANES;
    localparam int CNT_W  = 48;
    localparam int CH_W   = (NUM_CH > 1) ? $clog2(NUM_CH) : 1;
    // DLRM: x (the bottom MLP's output) is at most XD_MAX elements, one bottom output
    // beat of BVL lanes (a multiple of BP, mlp_engine's rule); CFG_ERR reason 14
    localparam int XD_MAX = 16;
    localparam int BVL    = ((XD_MAX + BP - 1) / BP) * BP;
    localparam int BWA_W_E = (BWDEPTH > 1) ? $clog2(BWDEPTH) : 1;
    localparam int DWA_W  = (DLRM && BWA_W_E > WA_W) ? BWA_W_E : WA_W;   // DMA word address

    // ---------------------------------------------------------------------
    // CSRs
    // ---------------------------------------------------------------------
    logic              cfg_commit, soft_reset, dma_start, err_clear, perf_clear;
    logic [7:0]        num_tables;
    logic              desc_we;
    logic [7:0]        desc_idx;
    logic [184:0]      desc_data;
    logic [3:0]        mlp_num_layers, mlp_shift;
    logic [3:0]        mlp_int8, mlp_sparse24, mlp_input_shift;
    logic              mlp_zero_skip, mlp_lshift_en;
    logic [15:0]       mlp_lshift;
    logic [15:0]       mlp_in_dim;
    logic [4*16-1:0]   mlp_out_dims;
    logic [63:0]       dma_src;
    logic [7:0]        dma_ch, dma_bank;
    logic [2:0]        dma_target;
    logic [31:0]       dma_words;
    logic [15:0]       dma_nbanks;
    logic [31:0]       lookup_timeout;
    logic              lk_cfg_ready, lk_cfg_bad;
    logic [3:0]        lk_cfg_err_code;
    logic [PID_W-1:0]  lk_cfg_err_table;
    logic              busy, dma_busy, dma_err, mlp_cfg_bad;
    logic [23*64-1:0]  perf;
    logic [1:0]        dlrm_ctrl;
    logic [7:0]        dlrm_n, dlrm_d, dlrm_num_dense;
    logic [15:0]       dlrm_flen, bot_in_dim;
    logic [3:0]        bot_num_layers, bot_shift;
    logic [4*16-1:0]   bot_out_dims;
    logic              multihot_en, tbl_we;
    logic [7:0]        tbl_idx;
    logic [19:0]       tbl_pool;
    logic              dlrm_bad;
    logic [7:0]        dlrm_bad_why;
    logic              cache_enable, cache_policy, cache_flush_csr, cache_flush, cache_on;
    logic              cache_bad;     // CACHE_CTRL.enable on a build without caches (CFG_ERR 15)
    logic [15:0]       mlp_wbase, mlp_bbase, topk_k;
    logic              topk_enable;
    logic              base_bad;      // the model runs past WDEPTH / BDEPTH at its offsets (CFG_ERR 16)
    logic [7:0]        base_bad_why;
    logic              topk_bad;      // TOPK_CTRL.enable on a build without the unit (CFG_ERR 17)
    logic              e_valid;       // an error record for the CSR capture (ERR / ERR_QID)
    logic [3:0]        e_code;
    logic [7:0]        e_table, e_engine;
    logic [31:0]       e_qid;

    microrec_csr u_csr (
        .clk, .rst_n,
        .s_axil_awvalid, .s_axil_awready, .s_axil_awaddr, .s_axil_awprot,
        .s_axil_wvalid, .s_axil_wready, .s_axil_wdata, .s_axil_wstrb,
        .s_axil_bvalid, .s_axil_bready, .s_axil_bresp,
        .s_axil_arvalid, .s_axil_arready, .s_axil_araddr, .s_axil_arprot,
        .s_axil_rvalid, .s_axil_rready, .s_axil_rdata, .s_axil_rresp,
        .cfg_commit, .soft_reset, .dma_start, .err_clear, .perf_clear,
        .num_tables, .desc_we, .desc_idx, .desc_data,
        .mlp_num_layers, .mlp_in_dim, .mlp_out_dims, .mlp_shift,
        .mlp_quant({mlp_lshift_en, mlp_zero_skip, mlp_input_shift, mlp_sparse24, mlp_int8}), .mlp_lshift,
        .dma_src, .dma_ch, .dma_target, .dma_bank, .dma_words, .dma_nbanks, .lookup_timeout,
        .dlrm_ctrl, .dlrm_n, .dlrm_d, .dlrm_flen, .dlrm_num_dense, .bot_num_layers, .bot_in_dim,
        .bot_out_dims, .bot_shift, .multihot_en, .tbl_idx, .tbl_pool, .tbl_we,
        .cache_enable, .cache_policy, .cache_flush(cache_flush_csr),
        .mlp_wbase, .mlp_bbase, .topk_enable, .topk_k,
        .cfg_ready(lk_cfg_ready),
        .cfg_bad(lk_cfg_bad || slot_bad || dma_bad || quant_bad || dlrm_bad || cache_bad || base_bad || topk_bad),
        .cfg_err_code(slot_bad ? 8'(CFG_BAD_SLOT) : dma_bad ? 8'(CFG_DMA_FAILED) : quant_bad ? 8'(CFG_BAD_QUANT)
                      : dlrm_bad ? 8'(CFG_BAD_DLRM) : cache_bad ? 8'(CFG_BAD_CACHE) : base_bad ? CFG_BAD_MLP_BASE
                      : topk_bad ? CFG_BAD_TOPK : 8'(lk_cfg_err_code)),
        .cfg_err_table((slot_bad || dma_bad) ? slot_bad_idx : quant_bad ? quant_layer
                       : dlrm_bad ? dlrm_bad_why : cache_bad ? 8'd1 : base_bad ? base_bad_why
                       : topk_bad ? 8'd1 : 8'(lk_cfg_err_table)),
        .busy, .dma_busy, .dma_err, .mlp_cfg_err(mlp_cfg_bad), .cache_on,
        .err_valid(e_valid), .err_code(e_code), .err_table(e_table),
        .err_engine(e_engine), .err_qid(e_qid),
        .perf
    );

    // soft reset clears the datapath, not the CSRs
    // Soft reset also quiesces the memory masters: the datapath stays in reset
    // until every burst accepted before it has returned its last beat (drained
    // with RREADY high and dropped), so no stale beat can answer a read issued
    // afterwards with the same ARID. A channel that never answers is given up
    // after LOOKUP_TIMEOUT cycles (0: wait forever).
    logic dp_rst_n, draining, drain_give_up, all_quiet;
    logic [31:0] drain_cycles;
    logic [NUM_CH-1:0][9:0] rd_bursts;   // bursts in flight per channel; hard reset only
    assign dp_rst_n = rst_n && !soft_reset && !draining;
    assign drain_give_up = draining && lookup_timeout != 32'd0 && drain_cycles >= lookup_timeout;

    always_comb begin
        all_quiet = 1'b1;
        for (int c = 0; c < NUM_CH; c++) begin
            if (rd_bursts[c] != 10'd0) all_quiet = 1'b0;
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            rd_bursts <= '0;
        end else if (drain_give_up) begin
            rd_bursts <= '0;
        end else begin
            for (int c = 0; c < NUM_CH; c++) begin
                rd_bursts[c] <= rd_bursts[c] + 10'(m_axi_arvalid[c] && m_axi_arready[c])
                              - 10'(m_axi_rvalid[c] && m_axi_rready[c] && m_axi_rlast[c] && rd_bursts[c] != 10'd0);
            end
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            draining     <= 1'b0;
            drain_cycles <= '0;
        end else if (soft_reset) begin
            draining     <= 1'b1;
            drain_cycles <= '0;
        end else if (draining) begin
            if (all_quiet || drain_give_up) draining <= 1'b0;
            drain_cycles <= drain_cycles + 32'd1;
        end
    end

    // a descriptor aimed past the table store is refused, and stays an error
    // (every query answers ERR_BAD_CONFIG) until a soft reset
    logic       slot_bad;
    logic [7:0] slot_bad_idx;
    // a DMA that lost words left weights or a bank partly stale: the same
    // treatment, so no query is answered from half-loaded images
    logic       dma_bad;
    always_ff @(posedge clk) begin
        if (!dp_rst_n) begin
            slot_bad     <= 1'b0;
            slot_bad_idx <= '0;
        end else if (desc_we && 32'(desc_idx) >= P_MAX && !slot_bad) begin
            slot_bad     <= 1'b1;
            slot_bad_idx <= desc_idx;
        end
    end

    // the CSR block keeps the first error record itself
    logic unused_err_clear;
    assign unused_err_clear = err_clear;

    // ---------------------------------------------------------------------
    // lookup subsystem
    // ---------------------------------------------------------------------
    logic [NUM_CH-1:0]             lk_arvalid, lk_arready, lk_rvalid, lk_rready;
    logic [NUM_CH-1:0][ADDR_W-1:0] lk_araddr;
    logic [NUM_CH-1:0][7:0]        lk_arlen;
    logic [NUM_CH-1:0][2:0]        lk_arsize;
    logic [NUM_CH-1:0][1:0]        lk_arburst;
    logic [NUM_CH-1:0][ID_W-1:0]   lk_arid;
    logic                          bank_we;
    logic [BSEL_W-1:0]             bank_sel;
    logic [BWA_W-1:0]              bank_waddr;
    logic [DATA_W-1:0]             bank_wdata;
    logic                          feat_valid, feat_ready;
    logic                          lk_query_valid, lk_query_ready;
    logic [31:0]                   feat_id;
    logic [FEAT_MAX*16-1:0]        feat_data;
    logic [3:0]                    feat_err;
    logic [7:0]                    feat_err_table, feat_err_engine;
    logic                          lk_busy;
    logic [63:0]                   lk_cycles, lk_queries, lk_lookups_mem, lk_lookups_onchip, lk_beats,
                                   lk_ar_stall, lk_in_stall, lk_out_stall, lk_errors, lk_ooo;
    logic                          lk_unexpected_r;
    logic [NUM_CH+NUM_BANKS-1:0][ID_W:0] lk_outstanding;
    logic [NUM_CH+NUM_BANKS-1:0]         lk_dead;   // visible as ERR_TIMEOUT records naming the engine

    logic [6:0][63:0] lk_cache_cnt;   // hits, misses, fills, evictions, bypasses, uncached, bytes_saved

    // the caches: illegal without a build (CFG_ERR 15, s.11.11); flushed by CACHE_CTRL.flush
    // and by every CTRL.dma_start (a configuration load, s.11.7; refused requests included),
    // by CTRL.commit inside the lookup, and by a soft reset (the lookup's reset)
    assign cache_bad = CACHE == 0 && cache_enable;
`ifdef INJECT_BUGS
    // injected bug (+TOP_BUG_CACHE_DMA_NO_FLUSH): a DMA leaves the cached lines valid
    assign cache_flush = cache_flush_csr || (dma_start && !$test$plusargs("TOP_BUG_CACHE_DMA_NO_FLUSH"));
`else
    assign cache_flush = cache_flush_csr || dma_start;
`endif
    // the lookup's early dense stream (multi-hot): one beat per query, in result order
    logic                          lk_dense_valid, lk_dense_ready;
    logic [31:0]                   lk_dense_id;
    logic [DENSE_MAX*16-1:0]       lk_dense_data;
    logic [63:0]                   lk_lookups_void;

    // the multi-hot settings of the lookup (contracts s.9.9): per logical table, from TBL_POOL
    logic [T_MAX*16-1:0] mh_bag_max;
    logic [T_MAX*4-1:0]  mh_pool_shift;
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            for (int t = 0; t < T_MAX; t++) begin
                mh_bag_max[16*t +: 16]  <= 16'd1;
                mh_pool_shift[4*t +: 4] <= 4'd0;
            end
        end else if (tbl_we) begin
            for (int t = 0; t < T_MAX; t++) begin
                if (32'(tbl_idx) == t) begin
                    mh_bag_max[16*t +: 16]  <= tbl_pool[15:0];
                    mh_pool_shift[4*t +: 4] <= tbl_pool[19:16];
                end
            end
        end
    end


    emb_lookup_top #(
        .NUM_CH(NUM_CH), .NUM_BANKS(NUM_BANKS), .BANK_WORDS(BANK_WORDS), .QDEPTH(QDEPTH),
        .P_MAX(P_MAX), .LIST_MAX(LIST_MAX), .T_MAX(T_MAX), .DIM_MAX(DIM_MAX),
        .FEAT_MAX(FEAT_MAX), .DATA_W(DATA_W), .ADDR_W(ADDR_W), .ID_W(ID_W), .QID_W(32),
        .MH(MH ? 1 : 0), .PKT_W(PKT_W), .L_MAX(L_MAX), .DENSE_MAX(DENSE_MAX),
        .CACHE(CACHE), .CACHE_LINES(CACHE_LINES), .CACHE_WAYS(CACHE_WAYS), .CACHE_LINE_BEATS(CACHE_LINE_BEATS)
    ) u_lookup (
        .clk, .rst_n(dp_rst_n),
        .desc_we(desc_we && 32'(desc_idx) < P_MAX), .desc_waddr(PID_W'(desc_idx)),
        .desc_wdata(desc_t'(desc_data)),
        .cfg_num_logical(num_tables), .cfg_commit, .cfg_timeout(lookup_timeout),
        .cfg_ready(lk_cfg_ready), .cfg_bad(lk_cfg_bad), .cfg_err_code(lk_cfg_err_code),
        .cfg_err_table(lk_cfg_err_table),
        .bank_we, .bank_sel, .bank_waddr, .bank_wdata,
        .s_query_valid(lk_query_valid), .s_query_ready(lk_query_ready), .s_query_id, .s_query_idx,
        .cfg_multihot(multihot_en), .cfg_bag_max(mh_bag_max), .cfg_pool_shift(mh_pool_shift),
        .cfg_num_dense(dlrm_num_dense),
        .s_pkt_tvalid, .s_pkt_tready, .s_pkt_tdata, .s_pkt_tlast,
        .m_dense_valid(lk_dense_valid), .m_dense_ready(lk_dense_ready), .m_dense_id(lk_dense_id),
        .m_dense_data(lk_dense_data), .perf_lookups_void(lk_lookups_void),
        .m_feat_valid(feat_valid), .m_feat_ready(feat_ready), .m_feat_id(feat_id),
        .m_feat_data(feat_data), .m_feat_err(feat_err), .m_feat_err_table(feat_err_table),
        .m_feat_err_engine(feat_err_engine),
        .m_axi_arvalid(lk_arvalid), .m_axi_arready(lk_arready), .m_axi_araddr(lk_araddr),
        .m_axi_arlen(lk_arlen), .m_axi_arsize(lk_arsize), .m_axi_arburst(lk_arburst),
        .m_axi_arid(lk_arid), .m_axi_rvalid(lk_rvalid), .m_axi_rready(lk_rready),
        .m_axi_rdata, .m_axi_rid, .m_axi_rresp, .m_axi_rlast,
        .perf_clear, .st_busy(lk_busy),
        .perf_cycles(lk_cycles), .perf_queries(lk_queries), .perf_lookups_mem(lk_lookups_mem),
        .perf_lookups_onchip(lk_lookups_onchip), .perf_beats(lk_beats), .perf_ar_stall(lk_ar_stall),
        .perf_in_stall(lk_in_stall), .perf_out_stall(lk_out_stall), .perf_errors(lk_errors),
        .perf_ooo(lk_ooo), .st_outstanding(lk_outstanding), .st_unexpected_r(lk_unexpected_r),
        .st_dead(lk_dead),
        // hot-row caches (contracts s.11.11); a CACHE = 0 lookup ignores the controls
        .cfg_cache_enable(CACHE != 0 && cache_enable), .cfg_cache_policy(cache_policy), .cache_flush,
        .st_cache_enabled(cache_on),
        .perf_cache_hits(lk_cache_cnt[0]), .perf_cache_misses(lk_cache_cnt[1]),
        .perf_cache_fills(lk_cache_cnt[2]), .perf_cache_evictions(lk_cache_cnt[3]),
        .perf_cache_bypasses(lk_cache_cnt[4]), .perf_cache_uncached(lk_cache_cnt[5]),
        .perf_cache_bytes_saved(lk_cache_cnt[6])
    );

    // ---------------------------------------------------------------------
    // configuration DMA, sharing one channel with the lookup engines
    // ---------------------------------------------------------------------
    logic              dma_arvalid, dma_arready, dma_rvalid, dma_rready;
    logic [ADDR_W-1:0] dma_araddr;
    logic [7:0]        dma_arlen;
    logic [2:0]        dma_arsize;
    logic [1:0]        dma_arburst;
    logic [ID_W-1:0]   dma_arid;
    logic [7:0]        dma_ch_q;
    logic              dma_go, dma_refused, dma_run_err, dma_data_lost;
    logic [63:0]       dma_words_done;
    logic              w_we, w_bias;
    logic [PE_W-1:0]   w_pe;
    logic [DWA_W-1:0]  w_addr;
    logic [U*16-1:0]   w_data;
    logic              dma_bot;     // the running DMA fills the bottom engine (targets 3, 4)

    // the DMA owns a channel only while nothing else uses the memory, and only for a
    // target that exists (contracts s.7): banks past the last PE or on-chip bank, or
    // words past the depth of the target memory, are refused like a bad address
    logic dma_no_target;
    always_comb begin
        case (dma_target)
            3'd0:    dma_no_target = 32'(dma_nbanks) > P || dma_words > 32'(WDEPTH);
            3'd1:    dma_no_target = 32'(dma_nbanks) > P || dma_words > 32'(BDEPTH);
            3'd2:    dma_no_target = 32'(dma_bank) + 32'(dma_nbanks) > NUM_BANKS || dma_words > 32'(BANK_WORDS);
            // the bottom engine's banks exist on DLRM builds only
            3'd3:    dma_no_target = !DLRM || 32'(dma_nbanks) > BP || dma_words > 32'(BWDEPTH);
            3'd4:    dma_no_target = !DLRM || 32'(dma_nbanks) > BP || dma_words > 32'(BBDEPTH);
            default: dma_no_target = 1'b1;
        endcase
    end
    assign dma_go = dma_start && !busy && 32'(dma_ch) < NUM_CH && !dma_no_target;

    always_ff @(posedge clk) begin
        if (!dp_rst_n) begin
            dma_ch_q    <= '0;
            dma_refused <= 1'b0;
            dma_bot     <= 1'b0;
        end else if (dma_start) begin
            dma_refused <= !dma_go;
            if (dma_go) begin
                dma_ch_q <= dma_ch;
                dma_bot  <= dma_target[2] || dma_target == 3'd3;
            end
        end
    end
    assign dma_err = dma_refused || dma_run_err;

    always_ff @(posedge clk) begin
        if (!dp_rst_n) dma_bad <= 1'b0;
        else if (dma_data_lost) dma_bad <= 1'b1;
    end

    config_dma #(
        .DATA_W(DATA_W), .ADDR_W(ADDR_W), .ID_W(ID_W), .U(U), .PE_W(PE_W), .WA_W(DWA_W),
        .NUM_BANKS(NUM_BANKS), .BSEL_W(BSEL_W), .BWA_W(BWA_W)
    ) u_dma (
        // bottom targets 3 / 4 run as weights / biases (BU = U: the same word format)
        .clk, .rst_n(dp_rst_n), .start(dma_go), .src(dma_src),
        .target((dma_target == 3'd3) ? 2'd0 : (dma_target == 3'd4) ? 2'd1 : dma_target[1:0]),
        .bank(dma_bank), .words(dma_words), .nbanks(dma_nbanks),
        .busy(dma_busy), .err(dma_run_err), .data_lost(dma_data_lost), .words_done(dma_words_done),
        .m_arvalid(dma_arvalid), .m_arready(dma_arready), .m_araddr(dma_araddr),
        .m_arlen(dma_arlen), .m_arsize(dma_arsize), .m_arburst(dma_arburst), .m_arid(dma_arid),
        .m_rvalid(dma_rvalid), .m_rready(dma_rready),
        .m_rdata(m_axi_rdata[dma_ch_q[CH_W-1:0]]),
        .m_rresp(m_axi_rresp[dma_ch_q[CH_W-1:0]]),
        .m_rlast(m_axi_rlast[dma_ch_q[CH_W-1:0]]),
        .mlp_we(w_we), .mlp_bias(w_bias), .mlp_pe(w_pe), .mlp_addr(w_addr), .mlp_data(w_data),
        .bank_we, .bank_sel, .bank_waddr, .bank_wdata
    );

    // The channel mux, one block per direction: in one block every output would seem to
    // depend on every input, and a hot-row cache's rready follows its rvalid, so
    // lk_rready -> lk_rvalid would look like a combinational loop (Verilator UNOPTFLAT on
    // coverage builds) although no bit depends on itself.
    logic [NUM_CH-1:0] dma_owns;   // channel c carries the DMA's burst
    always_comb for (int c = 0; c < NUM_CH; c++) dma_owns[c] = dma_busy && dma_ch_q == 8'(c);

    always_comb begin   // AR
        dma_arready = 1'b0;
        for (int c = 0; c < NUM_CH; c++) begin
            if (dma_owns[c]) begin
                m_axi_arvalid[c] = dma_arvalid;
                m_axi_araddr[c]  = dma_araddr;
                m_axi_arlen[c]   = dma_arlen;
                m_axi_arsize[c]  = dma_arsize;
                m_axi_arburst[c] = dma_arburst;
                m_axi_arid[c]    = dma_arid;
                lk_arready[c]    = 1'b0;
                dma_arready      = m_axi_arready[c];
            end else begin
                m_axi_arvalid[c] = lk_arvalid[c];
                m_axi_araddr[c]  = lk_araddr[c];
                m_axi_arlen[c]   = lk_arlen[c];
                m_axi_arsize[c]  = lk_arsize[c];
                m_axi_arburst[c] = lk_arburst[c];
                m_axi_arid[c]    = lk_arid[c];
                lk_arready[c]    = m_axi_arready[c];
            end
        end
    end

    always_comb begin   // R ready (a drain takes every beat)
        for (int c = 0; c < NUM_CH; c++)
            m_axi_rready[c] = (dma_owns[c] ? dma_rready : lk_rready[c]) || draining;
    end

    always_comb begin   // R valid
        dma_rvalid = 1'b0;
        for (int c = 0; c < NUM_CH; c++) begin
            lk_rvalid[c] = !dma_owns[c] && m_axi_rvalid[c];
            if (dma_owns[c]) dma_rvalid = m_axi_rvalid[c];
        end
    end

    // ---------------------------------------------------------------------
    // MLP configuration (contracts.md s.6, s.8): F for every layer, or a shift
    // per layer (MLP_QUANT.lshift); precision, 2:4 flags, input shift, zero-skip
    // ---------------------------------------------------------------------
    // the CSR map has four MLP_OUT_DIM registers
    if (MAX_LAYERS > 4) begin : g_bad_layers
        $error("microrec_top: MAX_LAYERS=%0d; the CSR map holds at most 4 layers", MAX_LAYERS);
    end
    logic [MAX_LAYERS*DIM_W-1:0] cfg_out_dims;
    logic [MAX_LAYERS*4-1:0]     cfg_shift;
    logic                        mlp_engine_err, shape_bad, quant_bad;
    logic [7:0]                  quant_layer;

    always_comb begin
        shape_bad = 32'(mlp_num_layers) > MAX_LAYERS || mlp_num_layers == 4'd0 ||
                    32'(mlp_in_dim) > MAX_DIM || (!dlrm_on && 32'(mlp_in_dim) > FEAT_MAX) ||
                    mlp_shift == 4'd0 || mlp_shift > 4'd14;
        for (int l = 0; l < MAX_LAYERS; l++) begin
            if (32'(mlp_out_dims[16*l +: 16]) > MAX_DIM) shape_bad = 1'b1;
            cfg_out_dims[DIM_W*l +: DIM_W] = DIM_W'(mlp_out_dims[16*l +: 16]);
`ifdef INJECT_BUGS
            // injected bug (+TOP_BUG_LSHIFT_IGNORED): the per-layer shifts are ignored
            if ($test$plusargs("TOP_BUG_LSHIFT_IGNORED")) cfg_shift[4*l +: 4] = mlp_shift;
            else
`endif
            cfg_shift[4*l +: 4] = mlp_lshift_en ? mlp_lshift[4*l +: 4] : mlp_shift;
        end
    end
    // flags of layers this build does not have (MAX_LAYERS < 4) are rejected here,
    // the rest by the engine (mlp_layer_cfg.sv)
    logic       eng_quant_bad;
    logic [7:0] eng_quant_layer;
    always_comb begin
        quant_bad   = eng_quant_bad;
        quant_layer = eng_quant_layer;
        for (int l = 3; l >= MAX_LAYERS; l--) begin
            if (!eng_quant_bad && (mlp_int8[l] || mlp_sparse24[l])) begin
                quant_bad   = 1'b1;
                quant_layer = 8'(l);
            end
        end
    end
    assign mlp_cfg_bad = shape_bad || mlp_engine_err || quant_bad;
    // the model at MLP_WBASE / MLP_BBASE (contracts s.10.6): past the memories is CFG_ERR 16,
    // table_id 1 weights, 2 biases (the engine's cfg_err closes its input meanwhile)
    logic [1:0]  eng_base_bad;
    logic [15:0] mlp_wbase_eff;
`ifdef INJECT_BUGS
    // injected bug (+TOP_BUG_MLP_WBASE_IGNORED): weights read without MLP_WBASE
    assign mlp_wbase_eff = $test$plusargs("TOP_BUG_MLP_WBASE_IGNORED") ? 16'd0 : mlp_wbase;
`else
    assign mlp_wbase_eff = mlp_wbase;
`endif
    assign base_bad     = eng_base_bad != 2'b00;
    assign base_bad_why = eng_base_bad[0] ? 8'd1 : 8'd2;
    logic  cfg_bypass;   // no query can be answered correctly: answer each with ERR_BAD_CONFIG
    assign cfg_bypass  = mlp_cfg_bad || slot_bad || dma_bad || dlrm_bad || cache_bad || topk_bad;

    // ---------------------------------------------------------------------
    // feature serializer: a whole vector in, FEAT_LANES elements a beat out;
    // each query's record waits in the pending FIFO for its logit
    // ---------------------------------------------------------------------
    typedef struct packed {
        logic [31:0]      qid;
        logic [3:0]       err;
        logic [7:0]       err_table;
        logic [7:0]       err_engine;
        logic             bypass;     // never entered the MLP (illegal MLP config)
        logic [TAG_W-1:0] tag;
    } pend_t;

    logic [NBEATS*FEAT_LANES*16-1:0] vec;
    logic                            holding;
    logic [DIM_W-1:0]                beat, nbeats;
    logic [TAG_W-1:0]                tag_next, hold_tag;
    logic                            pend_push, pend_pop, pend_full, pend_empty;
    pend_t                           pend_in, pend_head;
    logic                            mlp_feat_valid, mlp_feat_ready;
    logic [FEAT_LANES*16-1:0]        mlp_feat_data;
    logic [TAG_W-1:0]                mlp_feat_tag;
    logic                            mlp_out_valid, mlp_out_ready, mlp_idle;
    logic [31:0]                     mlp_out_logit;
    logic [TAG_W-1:0]                mlp_out_tag;
    logic [FEAT_LANES*16-1:0]        mlp_out_vec;     // VEC_OUT = 0: constant 0
    logic                            mlp_out_last;    // VEC_OUT = 0: constant 1

    assign nbeats     = DIM_W'((32'(mlp_in_dim) + FEAT_LANES - 1) / FEAT_LANES);
    // DLRM: a query leaves the lookup only together with its x (the join below)
    assign feat_ready = dlrm_run ? join_ready : !holding && !pend_full;
    assign pend_push  = feat_valid && feat_ready;
    assign pend_in    = '{qid: feat_id, err: cfg_bypass && feat_err == ERR_NONE ? ERR_BAD_CONFIG : feat_err,
                          err_table: feat_err_table, err_engine: feat_err_engine,
                          bypass: cfg_bypass, tag: tag_next};

    always_ff @(posedge clk) begin
        if (!dp_rst_n) begin
            holding  <= 1'b0;
            beat     <= '0;
            tag_next <= '0;
        end else begin
            if (pend_push) begin
                tag_next <= tag_next + 1'b1;
                holding  <= !cfg_bypass && !dlrm_run;
                beat     <= '0;
            end else if (holding && mlp_feat_ready) begin
                if (beat + 1'b1 == nbeats) holding <= 1'b0;
                beat <= beat + 1'b1;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (pend_push) begin
            vec      <= (NBEATS*FEAT_LANES*16)'(feat_data);
            hold_tag <= tag_next;
        end
    end

    // the top MLP's features: the serializer, or (DLRM) the interaction's R beats
    assign mlp_feat_valid = dlrm_run ? ia_m_valid : holding;
    assign mlp_feat_data  = dlrm_run ? ia_m_data : vec[32'(beat) * FEAT_LANES * 16 +: FEAT_LANES * 16];
    assign mlp_feat_tag   = dlrm_run ? ia_m_tag : hold_tag;
    assign ia_m_ready     = dlrm_run && mlp_feat_ready;

    logic [$clog2(PEND_DEPTH + 1)-1:0] pend_count;
    assign pend_full = 32'(pend_count) == PEND_DEPTH;

    mlp_fifo #(.WIDTH($bits(pend_t)), .DEPTH(PEND_DEPTH)) u_pending (
        .clk, .rst_n(dp_rst_n),
        .push(pend_push), .push_data(pend_in),
        .pop(pend_pop), .head(pend_head), .empty(pend_empty), .count(pend_count)
    );

    mlp_engine #(
        .P(P), .U(U), .ACC_W(ACC_W), .MAX_LAYERS(MAX_LAYERS), .MAX_DIM(MAX_DIM),
        .WDEPTH(WDEPTH), .BDEPTH(BDEPTH), .FEAT_LANES(FEAT_LANES), .ID_W(TAG_W), .CNT_W(CNT_W),
        .VEC_LANES(FEAT_LANES)
    ) u_mlp (
        .clk, .rst_n(dp_rst_n),
        .cfg_num_layers(NL_W'(mlp_num_layers)), .cfg_in_dim(DIM_W'(mlp_in_dim)),
        .cfg_out_dims, .cfg_shift, .cfg_int8(mlp_int8[MAX_LAYERS-1:0]),
        .cfg_sparse(mlp_sparse24[MAX_LAYERS-1:0]), .cfg_input_shift(mlp_input_shift),
        .cfg_zero_skip(mlp_zero_skip), .cfg_wbase_off(mlp_wbase_eff), .cfg_bbase_off(mlp_bbase),
        .cfg_err(mlp_engine_err), .cfg_err_quant(eng_quant_bad),
        .cfg_err_qlayer(eng_quant_layer), .cfg_err_base(eng_base_bad), .idle(mlp_idle),
        .w_we(w_we && !dma_bot), .w_bias, .w_pe, .w_addr(WA_W'(w_addr)), .w_data,
        .feat_valid(mlp_feat_valid), .feat_ready(mlp_feat_ready),
        .feat_data(mlp_feat_data),
        .feat_tag(mlp_feat_tag),
        .out_valid(mlp_out_valid), .out_ready(mlp_out_ready), .out_logit(mlp_out_logit),
        .out_tag(mlp_out_tag),
        .out_vec(mlp_out_vec), .out_last(mlp_out_last),   // logit build (VEC_OUT = 0): 0 and 1
        .perf_clear, .perf_cycles(mlp_perf_cycles), .perf_idle(mlp_perf_idle),
        .perf_out_stall(mlp_perf_out_stall), .perf_busy(mlp_perf_busy), .perf_macs(mlp_perf_macs),
        .perf_stall_dst(mlp_perf_stall_dst), .perf_stall_arr(mlp_perf_stall_arr),
        .perf_sat(mlp_perf_sat), .perf_relu0(mlp_perf_relu0)
    );


    // ---------------------------------------------------------------------
    // DLRM back half (contracts s.7.2): dense -> bottom MLP -> x; x joined with
    // the query's pooled vector -> dot_interaction -> R -> the top MLP
    // ---------------------------------------------------------------------
    logic dlrm_on;    // DLRM_CTRL.enable on a DLRM build
    logic dlrm_run;   // ... with a legal configuration: queries take the DLRM path
    assign dlrm_on  = DLRM && dlrm_ctrl[0];
    assign dlrm_run = dlrm_on && !cfg_bypass;

    // interaction output (the top MLP's features while dlrm_run)
    logic                     ia_m_valid, ia_m_ready;
    logic [FEAT_LANES*16-1:0] ia_m_data;
    logic [TAG_W-1:0]         ia_m_tag;
    logic                     join_ready;   // a query's pooled vector may be taken now
    logic                     dlrm_busy;
    logic                     dn_full;      // the dense source cannot take another query

    // the lookup takes a query only while its dense features have room
    assign lk_query_valid = s_query_valid && !(dlrm_on && dn_full);
    assign s_query_ready  = lk_query_ready && !(dlrm_on && dn_full);
    // the lookup's dense beats: into the dense FIFO on the DLRM path, else dropped
    assign lk_dense_ready = !dlrm_on || !dn_full;

    if (DLRM) begin : g_dlrm
        localparam int BDIM_W = $clog2(BMAX_DIM + 1);
        localparam int BNL_W  = $clog2(BMAX_LAYERS + 1);
        localparam int BPE_W  = (BP > 1) ? $clog2(BP) : 1;
        localparam int IN_W   = $clog2(T_MAX + 1);
        localparam int ID_W_X = $clog2(XD_MAX + 1);
        localparam int IPL_W  = $clog2(FEAT_MAX + 1);
        if (BMAX_LAYERS > 4) begin : g_bad_blayers
            $error("microrec_top: BMAX_LAYERS=%0d; the CSR map holds at most 4 bottom layers", BMAX_LAYERS);
        end

        // ---- configuration checks (CFG_ERR code 14, table_id = the reason) ----
        logic                         bot_err, ia_cfg_err, bot_bad, ia_bad, len_bad;
        logic [BMAX_LAYERS*BDIM_W-1:0] bcfg_out_dims;
        logic [15:0]                  bot_last, r_len;
        always_comb begin
            bot_last = 16'd0;
            bot_bad  = bot_num_layers == 4'd0 || 32'(bot_num_layers) > BMAX_LAYERS ||
                       bot_in_dim == 16'd0 || 32'(bot_in_dim) > DENSE_MAX ||
                       bot_in_dim != 16'(dlrm_num_dense) ||
                       bot_shift == 4'd0 || bot_shift > 4'd14 || bot_err;
            for (int l = 0; l < BMAX_LAYERS; l++) begin
                if (32'(l) < 32'(bot_num_layers) && 32'(bot_out_dims[16*l +: 16]) > BMAX_DIM) bot_bad = 1'b1;
                if (32'(l) + 1 == 32'(bot_num_layers)) bot_last = bot_out_dims[16*l +: 16];
                bcfg_out_dims[BDIM_W*l +: BDIM_W] = BDIM_W'(bot_out_dims[16*l +: 16]);
            end
            if (bot_last != 16'(dlrm_d)) bot_bad = 1'b1;       // x is the d of the interaction
            // the interaction's own checks, on the full CSR values (its ports are narrower)
            ia_bad   = ia_cfg_err || 32'(dlrm_d) > XD_MAX ||
                       (dlrm_ctrl[1] ? 32'(dlrm_n) > T_MAX : 32'(dlrm_flen) > FEAT_MAX);
            r_len    = dlrm_ctrl[1] ? 16'(dlrm_d) + 16'((32'(dlrm_n) * (32'(dlrm_n) + 1)) / 2)
                                    : 16'(dlrm_d) + dlrm_flen;
            len_bad  = mlp_in_dim != r_len;
        end
        always_comb begin
            dlrm_bad     = dlrm_ctrl[0] && (ia_bad || bot_bad || len_bad);
            dlrm_bad_why = ia_bad ? 8'd2 : bot_bad ? 8'd3 : 8'd4;
        end

        // ---- the dense source: one beat per query, in query order ----------
        // This is the one place to switch to the lookup's early m_dense stream:
        // dn_valid / dn_ready / dn_data are all the rest of the back half sees.
        logic                     dn_valid, dn_ready;
        logic [DENSE_MAX*16-1:0]  dn_data;
        logic                     dn_empty;
        logic [$clog2(QDEPTH + 1)-1:0] dn_count;
        mlp_fifo #(.WIDTH(DENSE_MAX*16), .DEPTH(QDEPTH)) u_dense (
            .clk, .rst_n(dp_rst_n),
            // one-hot queries carry their dense features on s_query_dense; multi-hot ones
            // in the packet, which the lookup hands over early on m_dense (one per query)
            .push(dlrm_on && (multihot_en ? lk_dense_valid && lk_dense_ready : s_query_valid && s_query_ready)),
            .push_data(multihot_en ? lk_dense_data : s_query_dense),
            .pop(dn_valid && dn_ready), .head(dn_data), .empty(dn_empty), .count(dn_count)
        );
        assign dn_full  = 32'(dn_count) == QDEPTH;
        assign dn_valid = !dn_empty;

        // ---- bottom MLP: a VEC_OUT engine, BP x BU ------------------------------
        // Under an illegal configuration the dense beats are dropped (their queries
        // bypass everything and answer ERR_BAD_CONFIG).
        logic                 bot_feat_ready, bot_idle, bot_out_valid, bot_out_ready, bot_out_last;
        logic [TAG_W-1:0]     dn_tag, bot_out_tag;
        logic [BVL*16-1:0]    bot_out_vec;
        logic [31:0]          bot_out_logit;
        logic                 bot_err_quant;
        logic [1:0]           bot_err_base;   // offsets 0: never set
        logic [7:0]           bot_err_qlayer;
        logic [CNT_W-1:0]     bp_cycles, bp_idle, bp_out_stall;
        logic [BMAX_LAYERS*CNT_W-1:0] bp_busy, bp_macs, bp_stall_dst, bp_stall_arr, bp_sat, bp_relu0;
        assign dn_ready = dlrm_run ? bot_feat_ready : 1'b1;
        // dense beats numbered as they enter the bottom engine; x_tag numbers the x's joined
        logic [TAG_W-1:0] x_tag;
        always_ff @(posedge clk) begin
            if (!dp_rst_n) begin
                dn_tag <= '0;
                x_tag  <= '0;
            end else begin
                if (dn_valid && dlrm_run && bot_feat_ready) dn_tag <= dn_tag + 1'b1;
                if (bot_out_valid && bot_out_ready) x_tag <= x_tag + 1'b1;
            end
        end

        mlp_engine #(
            .P(BP), .U(BU), .ACC_W(ACC_W), .MAX_LAYERS(BMAX_LAYERS), .MAX_DIM(BMAX_DIM),
            .WDEPTH(BWDEPTH), .BDEPTH(BBDEPTH), .FEAT_LANES(DENSE_MAX), .ID_W(TAG_W), .CNT_W(CNT_W),
            .OUT_DEPTH(2), .VEC_OUT(1'b1), .VEC_LANES(BVL)
        ) u_bottom (
            .clk, .rst_n(dp_rst_n),
            .cfg_num_layers(BNL_W'(bot_num_layers)), .cfg_in_dim(BDIM_W'(bot_in_dim)),
            .cfg_out_dims(bcfg_out_dims), .cfg_shift({BMAX_LAYERS{bot_shift}}),
            .cfg_int8('0), .cfg_sparse('0), .cfg_input_shift(4'd0), .cfg_zero_skip(1'b0),
            .cfg_wbase_off(16'd0), .cfg_bbase_off(16'd0),
            .cfg_err(bot_err), .cfg_err_quant(bot_err_quant), .cfg_err_qlayer(bot_err_qlayer),
            .cfg_err_base(bot_err_base),
            .idle(bot_idle),
            .w_we(w_we && dma_bot), .w_bias, .w_pe(BPE_W'(w_pe)), .w_addr(BWA_W_E'(w_addr)),
            .w_data(w_data[BU*16-1:0]),
            .feat_valid(dn_valid && dlrm_run), .feat_ready(bot_feat_ready), .feat_data(dn_data),
            .feat_tag(dn_tag),
            .out_valid(bot_out_valid), .out_ready(bot_out_ready), .out_logit(bot_out_logit),
            .out_tag(bot_out_tag), .out_vec(bot_out_vec), .out_last(bot_out_last),
            .perf_clear, .perf_cycles(bp_cycles), .perf_idle(bp_idle), .perf_out_stall(bp_out_stall),
            .perf_busy(bp_busy), .perf_macs(bp_macs), .perf_stall_dst(bp_stall_dst),
            .perf_stall_arr(bp_stall_arr), .perf_sat(bp_sat), .perf_relu0(bp_relu0)
        );

        // ---- the join: x of query k with the pooled vector of query k ----------
        logic                ia_s_ready, ia_idle, ia_m_last;
        logic [XD_MAX*16-1:0] x_now, x_join;
        assign x_now = bot_out_vec[XD_MAX*16-1:0];
`ifdef INJECT_BUGS
        // injected bug (+TOP_BUG_DLRM_JOIN): each pooled vector meets the previous query's x
        logic [XD_MAX*16-1:0] x_prev;
        always_ff @(posedge clk) begin
            if (!dp_rst_n) x_prev <= '0;
            else if (bot_out_valid && bot_out_ready) x_prev <= x_now;
        end
        assign x_join = $test$plusargs("TOP_BUG_DLRM_JOIN") ? x_prev : x_now;
`else
        assign x_join = x_now;
`endif
        assign join_ready    = bot_out_valid && ia_s_ready && !pend_full;
        assign bot_out_ready = dlrm_run && feat_valid && ia_s_ready && !pend_full;

        dot_interaction #(
            .N_MAX(T_MAX), .D_MAX(XD_MAX), .POOL_MAX(FEAT_MAX), .DOT_LANES(DOT_LANES),
            .FEAT_LANES(FEAT_LANES), .ACC_W(ACC_W), .ID_W(TAG_W), .OUT_DEPTH(8)
        ) u_interaction (
            .clk, .rst_n(dp_rst_n),
            .cfg_dot(dlrm_ctrl[1]), .cfg_n(IN_W'(dlrm_n)), .cfg_d(ID_W_X'(dlrm_d)),
            .cfg_flen(IPL_W'(dlrm_flen)), .cfg_frac_bits(bot_shift), .cfg_err(ia_cfg_err),
            .idle(ia_idle),
            .s_valid(dlrm_run && feat_valid && bot_out_valid && !pend_full), .s_ready(ia_s_ready),
            .s_x(x_join), .s_pooled(feat_data), .s_tag(tag_next),
            .m_valid(ia_m_valid), .m_ready(ia_m_ready), .m_data(ia_m_data), .m_last(ia_m_last),
            .m_tag(ia_m_tag)
        );

        assign dlrm_busy = dn_valid || !bot_idle || !ia_idle;

        // the bottom MLP answers in input order: the k-th x joined is the k-th dense beat
        always_ff @(posedge clk) begin
            if (dp_rst_n && sva_armed && bot_out_valid && bot_out_ready) begin
                assert (bot_out_tag == x_tag)
                else $error("microrec_top: bottom-MLP x of dense beat %0d joined as x number %0d",
                            bot_out_tag, x_tag);
            end
        end

        logic unused_dlrm;
        assign unused_dlrm = ^{bot_out_logit, bot_out_last, bot_err_quant, bot_err_base, bot_err_qlayer, bp_cycles, bp_idle,
                               bp_out_stall, bp_busy, bp_macs, bp_stall_dst, bp_stall_arr, bp_sat, bp_relu0,
                               ia_m_last, bot_out_vec};
    end else begin : g_no_dlrm
        assign dlrm_bad     = dlrm_ctrl[0];   // enabled on a build without the back half
        assign dlrm_bad_why = 8'd1;
        assign dn_full      = 1'b0;
        assign join_ready   = 1'b0;
        assign ia_m_valid   = 1'b0;
        assign ia_m_data    = '0;
        assign ia_m_tag     = '0;
        assign dlrm_busy    = 1'b0;
        logic unused_no_dlrm;
        assign unused_no_dlrm = ^{s_query_dense, lk_dense_valid, lk_dense_data, ia_m_ready, dlrm_ctrl, dlrm_n, dlrm_d, dlrm_flen, dlrm_num_dense,
                                  bot_num_layers, bot_in_dim, bot_out_dims, bot_shift, dma_bot};
    end

    // ---------------------------------------------------------------------
    // results in query order
    // ---------------------------------------------------------------------
    // r_*: one result per query, in query order (the pending FIFO's head)
    logic        r_valid, r_ready;
    logic [31:0] r_logit;
    logic        topk_busy;    // an answer of the top-k waits to leave
    assign r_valid       = !pend_empty && (pend_head.bypass || mlp_out_valid);
    assign mlp_out_ready = !pend_empty && !pend_head.bypass && r_ready;
    assign pend_pop      = r_valid && r_ready;
    assign r_logit       = (pend_head.err != ERR_NONE) ? 32'd0 : mlp_out_logit;

    if (TOPK) begin : g_topk
        // contracts s.10.6: queries the top answers ERR_BAD_CONFIG (an illegal
        // configuration, the lookup's included) bypass the top-k, as today
        logic cand_taken;
        topk_result_path #(.K_MAX(TOPK_K_MAX), .N_MAX(TOPK_N_MAX)) u_topk_path (
            .clk, .rst_n(dp_rst_n), .cfg_k(topk_k),
            .r_valid, .r_ready,
            .r_pass(!topk_enable || pend_head.bypass || pend_head.err == ERR_BAD_CONFIG),
            .r_id(pend_head.qid), .r_logit, .r_err(pend_head.err), .r_err_table(pend_head.err_table),
            .r_err_engine(pend_head.err_engine),
            .m_valid(m_result_valid), .m_ready(m_result_ready), .m_id(m_result_id),
            .m_logit(m_result_logit), .m_err(m_result_err), .m_err_table(m_result_err_table),
            .m_err_engine(m_result_err_engine),
            .e_valid, .e_code, .e_table, .e_engine, .e_qid, .busy(topk_busy), .cand_taken
        );
        assign topk_bad = 1'b0;
        logic unused_cand;
        assign unused_cand = cand_taken;
    end else begin : g_no_topk
        assign topk_bad            = topk_enable;   // enabled on a build without the unit
        assign topk_busy           = 1'b0;
        assign r_ready             = m_result_ready;
        assign m_result_valid      = r_valid;
        assign m_result_id         = pend_head.qid;
        assign m_result_err        = pend_head.err;
        assign m_result_err_table  = pend_head.err_table;
        assign m_result_err_engine = pend_head.err_engine;
        assign m_result_logit      = r_logit;
        assign e_valid             = pend_pop && pend_head.err != ERR_NONE;
        assign e_code              = pend_head.err;
        assign e_table             = pend_head.err_table;
        assign e_engine            = pend_head.err_engine;
        assign e_qid               = pend_head.qid;
        logic unused_no_topk;
        assign unused_no_topk = ^{topk_k};
    end

    // assertions hold from the first reset on: simulation starts from random state
    // (Verilator --x-initial unique), with no meaning before reset; the initial value
    // is the point here (an FPGA register's power-up value), hence the one waiver
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    // the MLP answers in input order; a different tag means the pipeline lost its place
    always_ff @(posedge clk) begin
        if (dp_rst_n && sva_armed && mlp_out_valid && mlp_out_ready) begin
            assert (mlp_out_tag == pend_head.tag)
            else $error("microrec_top: MLP result tag %0d but query tag %0d is next", mlp_out_tag,
                        pend_head.tag);
        end
    end

    // results hold until taken; the pending FIFO never under/overflows
    a_result_stable: assert property (@(posedge clk) disable iff (!dp_rst_n || !sva_armed)
        m_result_valid && !m_result_ready |=> m_result_valid && $stable(m_result_id) &&
                                              $stable(m_result_err) && $stable(m_result_logit))
        else $error("microrec_top: result dropped or changed before ready");
    a_pend_no_underflow: assert property (@(posedge clk) disable iff (!dp_rst_n || !sva_armed) pend_pop |-> !pend_empty)
        else $error("microrec_top: result popped with no query pending");
    a_pend_no_overflow: assert property (@(posedge clk) disable iff (!dp_rst_n || !sva_armed) pend_push |-> !pend_full)
        else $error("microrec_top: pending FIFO overflow");
    a_dma_one_owner: assert property (@(posedge clk) disable iff (!dp_rst_n || !sva_armed) dma_busy |-> !lk_busy)
        else $error("microrec_top: the DMA and the lookup engines share a channel");

    assign busy = lk_busy || feat_valid || holding || !pend_empty || !mlp_idle || dma_busy || draining ||
                  dlrm_busy || topk_busy;

    // ---------------------------------------------------------------------
    // performance counters (order: docs/csr map PERF0..15)
    // ---------------------------------------------------------------------
    logic [CNT_W-1:0]            mlp_perf_idle, mlp_perf_cycles, mlp_perf_out_stall;
    logic [MAX_LAYERS*CNT_W-1:0] mlp_perf_busy, mlp_perf_macs, mlp_perf_stall_dst, mlp_perf_stall_arr,
                                 mlp_perf_sat, mlp_perf_relu0;
    logic [63:0]                 cnt_queries, cnt_results, cnt_out_stall;
    logic [63:0]                 mlp_busy_sum, mlp_macs_sum;

    always_comb begin
        mlp_busy_sum = '0;
        mlp_macs_sum = '0;
        for (int l = 0; l < MAX_LAYERS; l++) begin
            mlp_busy_sum = mlp_busy_sum + 64'(mlp_perf_busy[CNT_W*l +: CNT_W]);
            mlp_macs_sum = mlp_macs_sum + 64'(mlp_perf_macs[CNT_W*l +: CNT_W]);
        end
    end

    always_ff @(posedge clk) begin
        if (!dp_rst_n || perf_clear) begin
            cnt_queries   <= '0;
            cnt_results   <= '0;
            cnt_out_stall <= '0;
        end else begin
            // a query is a s_query handshake, or a packet's last beat (multi-hot)
            cnt_queries   <= cnt_queries + 64'(s_query_valid && s_query_ready)
                                         + 64'(s_pkt_tvalid && s_pkt_tready && s_pkt_tlast);
            cnt_results   <= cnt_results + 64'(m_result_valid && m_result_ready);   // answer beats (s.10.6)
`ifdef INJECT_BUGS
            // injected bug (+TOP_BUG_OUT_STALL): counts every cycle with a result offered, taken or not
            if ($test$plusargs("TOP_BUG_OUT_STALL")) cnt_out_stall <= cnt_out_stall + 64'(m_result_valid);
            else
`endif
            cnt_out_stall <= cnt_out_stall + 64'(m_result_valid && !m_result_ready);
        end
    end

    // DMA_WORDS restarts with the other counters on perf_clear (the DMA's own count
    // restarts only with the datapath)
    logic [63:0] dma_words_base;
    always_ff @(posedge clk) begin
        if (!dp_rst_n)       dma_words_base <= '0;
        else if (perf_clear) dma_words_base <= dma_words_done;
    end

    assign perf = {lk_cache_cnt[6], lk_cache_cnt[5], lk_cache_cnt[4], lk_cache_cnt[3], lk_cache_cnt[2],
                   lk_cache_cnt[1], lk_cache_cnt[0], 64'(lk_unexpected_r), dma_words_done - dma_words_base, 64'(mlp_perf_idle), mlp_macs_sum,
                   mlp_busy_sum, lk_ooo, lk_errors, cnt_out_stall, lk_in_stall, lk_ar_stall,
                   lk_beats, lk_lookups_onchip, lk_lookups_mem, cnt_results, cnt_queries, lk_cycles};

    // counters the CSR map does not carry (the unit benches read them directly)
    logic unused_top;
    assign unused_top = ^{lk_dead, lk_queries, lk_out_stall, lk_outstanding, mlp_perf_cycles, mlp_perf_out_stall,
                          mlp_perf_stall_dst, mlp_perf_stall_arr, mlp_perf_sat, mlp_perf_relu0,
                          mlp_out_vec, mlp_out_last, lk_dense_id, lk_lookups_void};
endmodule
