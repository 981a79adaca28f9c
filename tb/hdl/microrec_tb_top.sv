// Bench harness of the whole accelerator: microrec_top's AXI4 read masters on
// the HBM memory model. Python sees only this module's ports: the top's
// CSR (s_axil_*), query and result streams, and the memory model's control
// ports under the prefix "hbm_" (the host loads tables, weights and DMA
// images through the model's backdoor).
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
    output logic                     m_result_valid,
    input  logic                     m_result_ready,
    output logic [31:0]              m_result_id,
    output logic [31:0]              m_result_logit,
    output logic [3:0]               m_result_err,
    output logic [7:0]               m_result_err_table,
    output logic [7:0]               m_result_err_engine,
    // memory model control
    input  logic                     hbm_cmd_valid,
    input  logic [3:0]               hbm_cmd_op,
    input  logic [7:0]               hbm_cmd_ch,
    input  logic [63:0]              hbm_cmd_addr,
    input  logic [DATA_W-1:0]        hbm_cmd_wdata,
    input  logic [DATA_W/8-1:0]      hbm_cmd_wstrb,
    output logic [DATA_W-1:0]        hbm_cmd_rdata,
    output logic [64*N_STAT-1:0]     hbm_stat_vec,
    output logic [63:0]              hbm_cycle,
    output logic                     hbm_viol_any,
    output logic [31:0]              hbm_viol_count,
    output logic [7:0]               hbm_viol_code,
    output logic [2:0]               hbm_viol_kind,
    output logic [7:0]               hbm_viol_ch,
    output logic [63:0]              hbm_viol_cycle,
    output logic [63:0]              hbm_viol_addr,
    output logic [15:0]              hbm_viol_id,
    output logic [7:0]               hbm_viol_len,
    output logic [2:0]               hbm_viol_size,
    output logic [1:0]               hbm_viol_burst
);
    logic [NUM_CH-1:0]             arvalid, arready, rvalid, rready, rlast;
    logic [NUM_CH-1:0][ADDR_W-1:0] araddr;
    logic [NUM_CH-1:0][7:0]        arlen;
    logic [NUM_CH-1:0][2:0]        arsize;
    logic [NUM_CH-1:0][1:0]        arburst, rresp;
    logic [NUM_CH-1:0][ID_W-1:0]   arid, rid;
    logic [NUM_CH-1:0][DATA_W-1:0] rdata;

    // the accelerator only reads memory: the write data bus is tied off per
    // channel (one '0 on NUM_CH * DATA_W bits trips Verilator's replication limit)
    logic [NUM_CH-1:0][DATA_W-1:0] no_wdata;
    for (genvar c = 0; c < NUM_CH; c++) begin : g_no_wdata
        assign no_wdata[c] = '0;
    end

    microrec_top #(
        .NUM_CH(NUM_CH), .NUM_BANKS(NUM_BANKS), .BANK_WORDS(BANK_WORDS), .QDEPTH(QDEPTH),
        .P_MAX(P_MAX), .LIST_MAX(LIST_MAX), .T_MAX(T_MAX), .DIM_MAX(DIM_MAX), .FEAT_MAX(FEAT_MAX),
        .DATA_W(DATA_W), .ADDR_W(ADDR_W), .ID_W(ID_W), .P(P), .U(U), .MAX_LAYERS(MAX_LAYERS),
        .MAX_DIM(MAX_DIM), .WDEPTH(WDEPTH), .BDEPTH(BDEPTH), .FEAT_LANES(FEAT_LANES)
    ) u_dut (
        .clk, .rst_n,
        .s_axil_awvalid, .s_axil_awready, .s_axil_awaddr, .s_axil_awprot,
        .s_axil_wvalid, .s_axil_wready, .s_axil_wdata, .s_axil_wstrb,
        .s_axil_bvalid, .s_axil_bready, .s_axil_bresp,
        .s_axil_arvalid, .s_axil_arready, .s_axil_araddr, .s_axil_arprot,
        .s_axil_rvalid, .s_axil_rready, .s_axil_rdata, .s_axil_rresp,
        .s_query_valid, .s_query_ready, .s_query_id, .s_query_idx,
        .m_result_valid, .m_result_ready, .m_result_id, .m_result_logit, .m_result_err,
        .m_result_err_table, .m_result_err_engine,
        .m_axi_arvalid(arvalid), .m_axi_arready(arready), .m_axi_araddr(araddr),
        .m_axi_arlen(arlen), .m_axi_arsize(arsize), .m_axi_arburst(arburst), .m_axi_arid(arid),
        .m_axi_rvalid(rvalid), .m_axi_rready(rready), .m_axi_rdata(rdata), .m_axi_rid(rid),
        .m_axi_rresp(rresp), .m_axi_rlast(rlast)
    );

    hbm_mem_model #(
        .NUM_CH(NUM_CH), .DATA_W(DATA_W), .ID_W(ID_W), .ADDR_W(ADDR_W), .NREG(NREG)
    ) u_mem (
        .clk, .rst_n,
        .cmd_valid(hbm_cmd_valid), .cmd_op(hbm_cmd_op), .cmd_ch(hbm_cmd_ch),
        .cmd_addr(hbm_cmd_addr), .cmd_wdata(hbm_cmd_wdata), .cmd_wstrb(hbm_cmd_wstrb),
        .cmd_rdata(hbm_cmd_rdata), .stat_vec(hbm_stat_vec), .cycle(hbm_cycle),
        .viol_any(hbm_viol_any), .viol_count(hbm_viol_count), .viol_code(hbm_viol_code),
        .viol_kind(hbm_viol_kind), .viol_ch(hbm_viol_ch), .viol_cycle(hbm_viol_cycle),
        .viol_addr(hbm_viol_addr), .viol_id(hbm_viol_id), .viol_len(hbm_viol_len),
        .viol_size(hbm_viol_size), .viol_burst(hbm_viol_burst),
        .s_axi_arvalid(arvalid), .s_axi_arready(arready), .s_axi_arid(arid),
        .s_axi_araddr(araddr), .s_axi_arlen(arlen), .s_axi_arsize(arsize), .s_axi_arburst(arburst),
        .s_axi_rvalid(rvalid), .s_axi_rready(rready), .s_axi_rid(rid), .s_axi_rdata(rdata),
        .s_axi_rresp(rresp), .s_axi_rlast(rlast),
        // reads only: the lookup path never writes memory
        .s_axi_awvalid('0), .s_axi_awready(), .s_axi_awid('0), .s_axi_awaddr('0),
        .s_axi_awlen('0), .s_axi_awsize('0), .s_axi_awburst('0),
        .s_axi_wvalid('0), .s_axi_wready(), .s_axi_wdata(no_wdata), .s_axi_wstrb('0), .s_axi_wlast('0),
        .s_axi_bvalid(), .s_axi_bready({NUM_CH{1'b1}}), .s_axi_bid(), .s_axi_bresp()
    );
endmodule
