// CSR block of the accelerator: the PeakRDL-regblock output
// (rtl/csr/generated/microrec_csr_regs.sv, from rtl/csr/microrec_csr.rdl)
// behind flat, named ports, so the accelerator top never touches hwif structs.
//
// Address width: ADDR_W below, equal to the generated package's
// microrec_csr_regs_pkg::MICROREC_CSR_REGS_MIN_ADDR_WIDTH (byte address; the
// block decodes bits [ADDR_W-1:2]). The top declares its AXI4-Lite address
// with that package constant.
//
// Bus responses (generated with --err-if-bad-addr --err-if-bad-rw): OKAY for
// mapped accesses; SLVERR (rdata 0, no effect) for an unmapped address and for
// a write to a read-only register.
//
// Held here, outside the generated block:
//  * the error record: the first err_valid since err_clear (or reset) is
//    latched into ERR/ERR_QID and sets STATUS.err_sticky; later records are
//    ignored until CTRL.err_clear, which clears the record. An err_valid in
//    the same cycle as the err_clear pulse is the first of the new epoch and
//    is captured.
//  * the high halves of the performance counters: reading PERF_x_LO latches
//    perf[x][63:32] in the same cycle into the value PERF_x_HI returns, so an
//    LO-then-HI read pair is consistent.
module microrec_csr #(
    localparam int ADDR_W = microrec_csr_regs_pkg::MICROREC_CSR_REGS_MIN_ADDR_WIDTH,
    localparam int NUM_PERF = 23     // the PERF_*_LO/HI pairs of the map
) (
    input  logic              clk,
    input  logic              rst_n,

    // AXI4-Lite slave
    input  logic              s_axil_awvalid,
    output logic              s_axil_awready,
    input  logic [ADDR_W-1:0] s_axil_awaddr,
    input  logic [2:0]        s_axil_awprot,
    input  logic              s_axil_wvalid,
    output logic              s_axil_wready,
    input  logic [31:0]       s_axil_wdata,
    input  logic [3:0]        s_axil_wstrb,
    output logic              s_axil_bvalid,
    input  logic              s_axil_bready,
    output logic [1:0]        s_axil_bresp,
    input  logic              s_axil_arvalid,
    output logic              s_axil_arready,
    input  logic [ADDR_W-1:0] s_axil_araddr,
    input  logic [2:0]        s_axil_arprot,
    output logic              s_axil_rvalid,
    input  logic              s_axil_rready,
    output logic [31:0]       s_axil_rdata,
    output logic [1:0]        s_axil_rresp,

    // one-cycle pulses (CTRL, DESC_WRITE)
    output logic              cfg_commit,
    output logic              soft_reset,
    output logic              dma_start,
    output logic              err_clear,
    output logic              perf_clear,

    // configuration
    output logic [7:0]        num_tables,
    output logic              desc_we,
    output logic [7:0]        desc_idx,
    output logic [184:0]      desc_data,
    output logic [3:0]        mlp_num_layers,
    output logic [15:0]       mlp_in_dim,
    output logic [4*16-1:0]   mlp_out_dims,     // layer l at [16*l +: 16]
    output logic [3:0]        mlp_shift,
    output logic [13:0]       mlp_quant,        // MLP_QUANT: {lshift, zero_skip, input_shift, sparse24, int8}
    output logic [15:0]       mlp_lshift,
    output logic [63:0]       dma_src,
    output logic [7:0]        dma_ch,
    output logic [2:0]        dma_target,
    output logic [7:0]        dma_bank,
    output logic [31:0]       dma_words,
    output logic [15:0]       dma_nbanks,
    output logic [31:0]       lookup_timeout,
    // DLRM back half (contracts s.7.2): DLRM_CTRL {dot, enable}, interaction sizes,
    // bottom MLP shape; multi-hot settings for the lookup side (TBL_WRITE: a pulse
    // storing TBL_POOL {pool_shift, bag_max} into table TBL_IDX)
    output logic [1:0]        dlrm_ctrl,
    output logic [7:0]        dlrm_n,
    output logic [7:0]        dlrm_d,
    output logic [15:0]       dlrm_flen,
    output logic [7:0]        dlrm_num_dense,
    output logic [3:0]        bot_num_layers,
    output logic [15:0]       bot_in_dim,
    output logic [4*16-1:0]   bot_out_dims,     // layer l at [16*l +: 16]
    output logic [3:0]        bot_shift,
    output logic              multihot_en,
    output logic [7:0]        tbl_idx,
    output logic [19:0]       tbl_pool,
    output logic              tbl_we,
    // hot-row caches (contracts s.11.11): CACHE_CTRL {flush (pulse), policy, enable}
    output logic              cache_enable,
    output logic              cache_policy,
    output logic              cache_flush,
    // two resident models and the top-k (contracts s.10.6)
    output logic [15:0]       mlp_wbase,
    output logic [15:0]       mlp_bbase,
    output logic              topk_enable,
    output logic [15:0]       topk_k,

    // status
    input  logic              cfg_ready,
    input  logic              cfg_bad,
    input  logic [7:0]        cfg_err_code,
    input  logic [7:0]        cfg_err_table,
    input  logic              busy,
    input  logic              dma_busy,
    input  logic              dma_err,
    input  logic              mlp_cfg_err,
    input  logic              cache_on,

    // query error records (err_valid: one left this cycle)
    input  logic              err_valid,
    input  logic [3:0]        err_code,
    input  logic [7:0]        err_table,
    input  logic [7:0]        err_engine,
    input  logic [31:0]       err_qid,

    // performance counters: counter i at [64*i +: 64] (PERF_i_LO at 0x100 + 8*i)
    input  logic [NUM_PERF*64-1:0] perf
);

    microrec_csr_regs_pkg::microrec_csr_regs__in_t  hwif_in;
    microrec_csr_regs_pkg::microrec_csr_regs__out_t hwif_out;

    microrec_csr_regs u_regs (
        .clk            (clk),
        .rst_n          (rst_n),
        .s_axil_awready (s_axil_awready),
        .s_axil_awvalid (s_axil_awvalid),
        .s_axil_awaddr  (s_axil_awaddr),
        .s_axil_awprot  (s_axil_awprot),
        .s_axil_wready  (s_axil_wready),
        .s_axil_wvalid  (s_axil_wvalid),
        .s_axil_wdata   (s_axil_wdata),
        .s_axil_wstrb   (s_axil_wstrb),
        .s_axil_bready  (s_axil_bready),
        .s_axil_bvalid  (s_axil_bvalid),
        .s_axil_bresp   (s_axil_bresp),
        .s_axil_arready (s_axil_arready),
        .s_axil_arvalid (s_axil_arvalid),
        .s_axil_araddr  (s_axil_araddr),
        .s_axil_arprot  (s_axil_arprot),
        .s_axil_rready  (s_axil_rready),
        .s_axil_rvalid  (s_axil_rvalid),
        .s_axil_rdata   (s_axil_rdata),
        .s_axil_rresp   (s_axil_rresp),
        .hwif_in        (hwif_in),
        .hwif_out       (hwif_out)
    );

    // ------------------------------------------------------------ outputs
    assign cfg_commit = hwif_out.CTRL.commit.value;
    assign soft_reset = hwif_out.CTRL.soft_reset.value;
    assign dma_start  = hwif_out.CTRL.dma_start.value;
    assign err_clear  = hwif_out.CTRL.err_clear.value;
    assign perf_clear = hwif_out.CTRL.perf_clear.value;

    assign num_tables = hwif_out.NUM_TABLES.value.value;
    assign desc_we    = hwif_out.DESC_WRITE.go.value;
    assign desc_idx   = hwif_out.DESC_IDX.value.value;
`ifdef INJECT_BUGS
    // injected bug (+MICROREC_CSR_BUG_SWAP_DESC_WORDS, tests/test_csr.py): DATA1 and DATA2 trade places
    assign desc_data  = $test$plusargs("MICROREC_CSR_BUG_SWAP_DESC_WORDS")
                      ? {hwif_out.DESC_DATA5.value.value, hwif_out.DESC_DATA4.value.value,
                         hwif_out.DESC_DATA3.value.value, hwif_out.DESC_DATA1.value.value,
                         hwif_out.DESC_DATA2.value.value, hwif_out.DESC_DATA0.value.value}
                      : {hwif_out.DESC_DATA5.value.value, hwif_out.DESC_DATA4.value.value,
                         hwif_out.DESC_DATA3.value.value, hwif_out.DESC_DATA2.value.value,
                         hwif_out.DESC_DATA1.value.value, hwif_out.DESC_DATA0.value.value};
`else
    assign desc_data  = {hwif_out.DESC_DATA5.value.value, hwif_out.DESC_DATA4.value.value,
                         hwif_out.DESC_DATA3.value.value, hwif_out.DESC_DATA2.value.value,
                         hwif_out.DESC_DATA1.value.value, hwif_out.DESC_DATA0.value.value};
`endif

    assign mlp_num_layers = hwif_out.MLP_NUM_LAYERS.value.value;
    assign mlp_in_dim     = hwif_out.MLP_IN_DIM.value.value;
    assign mlp_out_dims   = {hwif_out.MLP_OUT_DIM3.value.value, hwif_out.MLP_OUT_DIM2.value.value,
                             hwif_out.MLP_OUT_DIM1.value.value, hwif_out.MLP_OUT_DIM0.value.value};
    assign mlp_shift      = hwif_out.MLP_SHIFT.value.value;
    assign mlp_quant      = {hwif_out.MLP_QUANT.lshift.value, hwif_out.MLP_QUANT.zero_skip.value,
                             hwif_out.MLP_QUANT.input_shift.value, hwif_out.MLP_QUANT.sparse24.value,
                             hwif_out.MLP_QUANT.int8.value};
    assign mlp_lshift     = hwif_out.MLP_LSHIFT.value.value;

    assign dma_src    = {hwif_out.DMA_SRC_HI.value.value, hwif_out.DMA_SRC_LO.value.value};
    assign dma_ch     = hwif_out.DMA_CH.value.value;
    assign dma_target = hwif_out.DMA_TARGET.value.value;
    assign dma_bank   = hwif_out.DMA_BANK.value.value;
    assign dma_words  = hwif_out.DMA_WORDS.value.value;
    assign dma_nbanks = hwif_out.DMA_NBANKS.value.value;
    assign lookup_timeout = hwif_out.LOOKUP_TIMEOUT.value.value;

    assign dlrm_ctrl      = {hwif_out.DLRM_CTRL.dot.value, hwif_out.DLRM_CTRL.enable.value};
    assign dlrm_n         = hwif_out.DLRM_N.value.value;
    assign dlrm_d         = hwif_out.DLRM_D.value.value;
    assign dlrm_flen      = hwif_out.DLRM_FLEN.value.value;
    assign dlrm_num_dense = hwif_out.DLRM_NUM_DENSE.value.value;
    assign bot_num_layers = hwif_out.BOT_NUM_LAYERS.value.value;
    assign bot_in_dim     = hwif_out.BOT_IN_DIM.value.value;
    assign bot_out_dims   = {hwif_out.BOT_OUT_DIM3.value.value, hwif_out.BOT_OUT_DIM2.value.value,
                             hwif_out.BOT_OUT_DIM1.value.value, hwif_out.BOT_OUT_DIM0.value.value};
    assign bot_shift      = hwif_out.BOT_SHIFT.value.value;
    assign multihot_en    = hwif_out.MULTIHOT.enable.value;
    assign tbl_idx        = hwif_out.TBL_IDX.value.value;
    assign tbl_pool       = {hwif_out.TBL_POOL.pool_shift.value, hwif_out.TBL_POOL.bag_max.value};
    assign tbl_we         = hwif_out.TBL_WRITE.go.value;

    assign cache_enable   = hwif_out.CACHE_CTRL.enable.value;
    assign cache_policy   = hwif_out.CACHE_CTRL.policy.value;
    assign cache_flush    = hwif_out.CACHE_CTRL.flush.value;

    assign mlp_wbase      = hwif_out.MLP_WBASE.value.value;
    assign mlp_bbase      = hwif_out.MLP_BBASE.value.value;
    assign topk_enable    = hwif_out.TOPK_CTRL.enable.value;
    assign topk_k         = hwif_out.TOPK_CTRL.k.value;

    // ------------------------------------------------------- error record
    logic        err_sticky_q;
    logic [3:0]  err_code_q;
    logic [7:0]  err_table_q;
    logic [7:0]  err_engine_q;
    logic [31:0] err_qid_q;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            err_sticky_q <= 1'b0;
            err_code_q   <= '0;
            err_table_q  <= '0;
            err_engine_q <= '0;
            err_qid_q    <= '0;
`ifdef INJECT_BUGS
        // injected bug (+MICROREC_CSR_BUG_ERR_LAST): every record overwrites the capture (the last one, not the first)
        end else if (err_valid && ($test$plusargs("MICROREC_CSR_BUG_ERR_LAST") || !err_sticky_q || err_clear)) begin
`else
        end else if (err_valid && (!err_sticky_q || err_clear)) begin
`endif
            err_sticky_q <= 1'b1;
            err_code_q   <= err_code;
            err_table_q  <= err_table;
            err_engine_q <= err_engine;
            err_qid_q    <= err_qid;
        end else if (err_clear) begin
            err_sticky_q <= 1'b0;
            err_code_q   <= '0;
            err_table_q  <= '0;
            err_engine_q <= '0;
            err_qid_q    <= '0;
        end
    end

    // ------------------------------------------------ perf counter halves
    logic [NUM_PERF-1:0] perf_lo_rd;        // PERF_i_LO is being read
    logic [31:0]         perf_hi_q [NUM_PERF];

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            for (int i = 0; i < NUM_PERF; i++) perf_hi_q[i] <= '0;
        end else begin
            for (int i = 0; i < NUM_PERF; i++) begin
                if (perf_lo_rd[i]) perf_hi_q[i] <= perf[64*i + 32 +: 32];
            end
        end
    end

    // ------------------------------------------------------------- inputs
    // Counter i: LO is the live perf[64i +: 32], HI the half latched by the
    // last LO read. One line per counter (the registers are named, not an array).
`define MICROREC_CSR_PERF(I, NAME) \
        hwif_in.PERF_``NAME``_LO.value.next = perf[64*(I) +: 32]; \
        hwif_in.PERF_``NAME``_HI.value.next = perf_hi_q[I]; \
        perf_lo_rd[I] = hwif_out.PERF_``NAME``_LO.value.swacc;

    always_comb begin
        hwif_in.STATUS.cfg_ready.next   = cfg_ready;
        hwif_in.STATUS.cfg_bad.next     = cfg_bad;
        hwif_in.STATUS.busy.next        = busy;
        hwif_in.STATUS.dma_busy.next    = dma_busy;
        hwif_in.STATUS.dma_err.next     = dma_err;
        hwif_in.STATUS.mlp_cfg_err.next = mlp_cfg_err;
        hwif_in.STATUS.err_sticky.next  = err_sticky_q;
        hwif_in.STATUS.cache_on.next    = cache_on;
        hwif_in.CFG_ERR.code.next       = cfg_err_code;
        hwif_in.CFG_ERR.table_id.next   = cfg_err_table;
        hwif_in.ERR.code.next           = err_code_q;
        hwif_in.ERR.table_id.next       = err_table_q;
        hwif_in.ERR.engine.next         = err_engine_q;
        hwif_in.ERR_QID.value.next      = err_qid_q;
        `MICROREC_CSR_PERF(0,  CYCLES)
        `MICROREC_CSR_PERF(1,  QUERIES)
        `MICROREC_CSR_PERF(2,  RESULTS)
        `MICROREC_CSR_PERF(3,  LOOKUPS_MEM)
        `MICROREC_CSR_PERF(4,  LOOKUPS_ONCHIP)
        `MICROREC_CSR_PERF(5,  MEM_BEATS)
        `MICROREC_CSR_PERF(6,  AR_STALL)
        `MICROREC_CSR_PERF(7,  IN_STALL)
        `MICROREC_CSR_PERF(8,  OUT_STALL)
        `MICROREC_CSR_PERF(9,  LOOKUP_ERRORS)
        `MICROREC_CSR_PERF(10, OOO)
        `MICROREC_CSR_PERF(11, MLP_BUSY)
        `MICROREC_CSR_PERF(12, MLP_MACS)
        `MICROREC_CSR_PERF(13, MLP_IDLE)
        `MICROREC_CSR_PERF(14, DMA_WORDS)
        `MICROREC_CSR_PERF(15, UNEXPECTED_R)
        `MICROREC_CSR_PERF(16, CACHE_HITS)
        `MICROREC_CSR_PERF(17, CACHE_MISSES)
        `MICROREC_CSR_PERF(18, CACHE_FILLS)
        `MICROREC_CSR_PERF(19, CACHE_EVICTIONS)
        `MICROREC_CSR_PERF(20, CACHE_BYPASSES)
        `MICROREC_CSR_PERF(21, CACHE_UNCACHED)
        `MICROREC_CSR_PERF(22, CACHE_BYTES_SAVED)
    end
`undef MICROREC_CSR_PERF

endmodule
