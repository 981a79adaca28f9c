// Bench harness of the whole accelerator: microrec_top's AXI4 read masters on
// the HBM memory model. Python sees only this module's ports: the top's
// CSR (s_axil_*), query and result streams, and the memory model's control
// ports under the prefix "hbm_" (the host loads tables, weights and DMA
// images through the model's backdoor), and the counts of a port monitor on the
// lookup engines and the streams (mon_*, tb/hdl/lookup_port_monitor.sv).
module microrec_tb_top
    import hbm_pkg::*;
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
    parameter int NREG       = 8,
    parameter int P          = 8,
    parameter int U          = 8,
    parameter int MAX_LAYERS = 4,
    parameter int MAX_DIM    = 1024,
    parameter int WDEPTH     = 1024,
    parameter int BDEPTH     = 64,
    parameter int FEAT_LANES = 16,
    // DLRM back half (microrec_top: contracts s.7.2); DLRM = 0 builds none of it
    parameter bit DLRM        = 1'b0,
    parameter int DENSE_MAX   = 16,
    parameter bit MH          = 1'b0,
    parameter int PKT_W       = 32,
    parameter int L_MAX       = 64,
    parameter int BP          = (P / 2 > 0) ? P / 2 : 1,
    parameter int BU          = U,
    parameter int BMAX_LAYERS = 4,
    parameter int BMAX_DIM    = 512,
    parameter int BWDEPTH     = 1024,
    parameter int BBDEPTH     = 64,
    parameter int DOT_LANES   = 4,
    // hot-row caches (microrec_top: contracts s.11.11); CACHE = 0 builds none
    parameter int CACHE            = 0,
    parameter int CACHE_LINES      = 64,
    parameter int CACHE_WAYS       = 4,
    parameter int CACHE_LINE_BEATS = 1,
    // top-k after the MLP (microrec_top: contracts s.10.6); TOPK = 0 builds none
    parameter bit TOPK             = 1'b0,
    parameter int TOPK_K_MAX       = 256,
    parameter int TOPK_N_MAX       = 4096,
    localparam int CSR_AW    = microrec_csr_regs_pkg::MICROREC_CSR_REGS_MIN_ADDR_WIDTH
) (
    input  logic                     clk,
    input  logic                     rst_n,
    input  logic                     s_axil_awvalid,
    output logic                     s_axil_awready,
    input  logic [CSR_AW-1:0]        s_axil_awaddr,
    input  logic [2:0]               s_axil_awprot,
    input  logic                     s_axil_wvalid,
    output logic                     s_axil_wready,
    input  logic [31:0]              s_axil_wdata,
    input  logic [3:0]               s_axil_wstrb,
    output logic                     s_axil_bvalid,
    input  logic                     s_axil_bready,
    output logic [1:0]               s_axil_bresp,
    input  logic                     s_axil_arvalid,
    output logic                     s_axil_arready,
    input  logic [CSR_AW-1:0]        s_axil_araddr,
    input  logic [2:0]               s_axil_arprot,
    output logic                     s_axil_rvalid,
    input  logic                     s_axil_rready,
    output logic [31:0]              s_axil_rdata,
    output logic [1:0]               s_axil_rresp,
    input  logic                     s_query_valid,
    output logic                     s_query_ready,
    input  logic [31:0]              s_query_id,
    input  logic [T_MAX*32-1:0]      s_query_idx,
    input  logic [DENSE_MAX*16-1:0]  s_query_dense,
    input  logic                     s_pkt_tvalid,
    output logic                     s_pkt_tready,
    input  logic [PKT_W*32-1:0]      s_pkt_tdata,
    input  logic                     s_pkt_tlast,
    output logic                     m_result_valid,
    input  logic                     m_result_ready,
    output logic [31:0]              m_result_id,
    output logic [31:0]              m_result_logit,
    output logic [3:0]               m_result_err,
    output logic [7:0]               m_result_err_table,
    output logic [7:0]               m_result_err_engine,
    // the port monitor's independent counts, cleared with the DUT's counters
    output logic [63:0]              mon_ar_stall_mem,
    output logic [63:0]              mon_ar_stall_bank,
    output logic [63:0]              mon_in_stall,
    output logic [63:0]              mon_out_stall,
    output logic [63:0]              mon_mem_beats,
    // read bursts the memory accepted and has not finished (all channels, DMA included):
    // lets a test place a soft reset while reads are outstanding
    output logic [15:0]              mon_rd_inflight,
    `include "hbm_ctrl_ports.svh"
);
`include "reset_guard.svh"
    logic [NUM_CH-1:0]             arvalid, arready, rvalid, rready, rlast;
    logic [NUM_CH-1:0][ADDR_W-1:0] araddr;
    logic [NUM_CH-1:0][7:0]        arlen;
    logic [NUM_CH-1:0][2:0]        arsize;
    logic [NUM_CH-1:0][1:0]        arburst, rresp;
    logic [NUM_CH-1:0][ID_W-1:0]   arid, rid;
    logic [NUM_CH-1:0][DATA_W-1:0] rdata;


    microrec_top #(
        .NUM_CH(NUM_CH), .NUM_BANKS(NUM_BANKS), .BANK_WORDS(BANK_WORDS), .QDEPTH(QDEPTH),
        .P_MAX(P_MAX), .LIST_MAX(LIST_MAX), .T_MAX(T_MAX), .DIM_MAX(DIM_MAX), .FEAT_MAX(FEAT_MAX),
        .DATA_W(DATA_W), .ADDR_W(ADDR_W), .ID_W(ID_W), .P(P), .U(U), .MAX_LAYERS(MAX_LAYERS),
        .MAX_DIM(MAX_DIM), .WDEPTH(WDEPTH), .BDEPTH(BDEPTH), .FEAT_LANES(FEAT_LANES),
        .DLRM(DLRM), .DENSE_MAX(DENSE_MAX), .MH(MH), .PKT_W(PKT_W), .L_MAX(L_MAX), .BP(BP), .BU(BU), .BMAX_LAYERS(BMAX_LAYERS),
        .BMAX_DIM(BMAX_DIM), .BWDEPTH(BWDEPTH), .BBDEPTH(BBDEPTH), .DOT_LANES(DOT_LANES),
        .CACHE(CACHE), .CACHE_LINES(CACHE_LINES), .CACHE_WAYS(CACHE_WAYS), .CACHE_LINE_BEATS(CACHE_LINE_BEATS),
        .TOPK(TOPK), .TOPK_K_MAX(TOPK_K_MAX), .TOPK_N_MAX(TOPK_N_MAX)
    ) u_dut (
        .clk, .rst_n(core_rst_n),
        .s_axil_awvalid, .s_axil_awready, .s_axil_awaddr, .s_axil_awprot,
        .s_axil_wvalid, .s_axil_wready, .s_axil_wdata, .s_axil_wstrb,
        .s_axil_bvalid, .s_axil_bready, .s_axil_bresp,
        .s_axil_arvalid, .s_axil_arready, .s_axil_araddr, .s_axil_arprot,
        .s_axil_rvalid, .s_axil_rready, .s_axil_rdata, .s_axil_rresp,
        .s_query_valid, .s_query_ready, .s_query_id, .s_query_idx, .s_query_dense,
        .s_pkt_tvalid, .s_pkt_tready, .s_pkt_tdata, .s_pkt_tlast,
        .m_result_valid, .m_result_ready, .m_result_id, .m_result_logit, .m_result_err,
        .m_result_err_table, .m_result_err_engine,
        .m_axi_arvalid(arvalid), .m_axi_arready(arready), .m_axi_araddr(araddr),
        .m_axi_arlen(arlen), .m_axi_arsize(arsize), .m_axi_arburst(arburst), .m_axi_arid(arid),
        .m_axi_rvalid(rvalid), .m_axi_rready(rready), .m_axi_rdata(rdata), .m_axi_rid(rid),
        .m_axi_rresp(rresp), .m_axi_rlast(rlast)
    );

    // the lookup engines' ports (memory channels as the lookup sees them, without the
    // DMA's traffic, and on-chip banks) by hierarchical reference, a bench-only construct;
    // cleared as the CSR counters are: datapath reset and CTRL.perf_clear
    lookup_port_monitor #(
        .NUM_ENG(NUM_CH + NUM_BANKS), .NUM_CH(NUM_CH), .ID_W(ID_W), .ADDR_W(ADDR_W)
    ) u_port_mon (
        .clk, .rst_n(u_dut.dp_rst_n), .clear(u_dut.perf_clear),
        .flush(hbm_cmd_valid && hbm_cmd_op == 4'(OP_FLUSH_LOG)),
        .arvalid(u_dut.u_lookup.arvalid), .arready(u_dut.u_lookup.arready), .araddr(u_dut.u_lookup.araddr),
        .arlen(u_dut.u_lookup.arlen), .arid(u_dut.u_lookup.arid), .rvalid(u_dut.u_lookup.rvalid),
        .rready(u_dut.u_lookup.rready), .rlast(u_dut.u_lookup.rlast), .rid(u_dut.u_lookup.rid),
        .rresp(u_dut.u_lookup.rresp),
        // the query input is s_query or, multi-hot, the packet stream (one of the two is idle)
        .in_valid(s_query_valid || s_pkt_tvalid), .in_ready(s_query_valid ? s_query_ready : s_pkt_tready),
        .out_valid(m_result_valid), .out_ready(m_result_ready),
        .mon_ar_stall_mem, .mon_ar_stall_bank, .mon_in_stall, .mon_out_stall, .mon_mem_beats
    );

    always_ff @(posedge clk) begin
        if (!core_rst_n) begin
            mon_rd_inflight <= '0;
        end else begin
            mon_rd_inflight <= mon_rd_inflight + 16'($countones(arvalid & arready))
                             - 16'($countones(rvalid & rready & rlast));
        end
    end

    `include "hbm_read_only.svh"
endmodule
