// hbm_tb_top: self-test and benchmark harness of hbm_mem_model.
//
// Every channel has an SV traffic generator (hbm_axi_tgen); channels 0 and 1
// can instead be driven from the toplevel ports m0_axi_* / m1_axi_* (for
// cocotbext-axi's AxiMaster, or raw signal driving in the protocol tests)
// by setting ext_sel[0] / ext_sel[1]. The model's control ports appear with
// the prefix hbm_, the generators' with tg_.
// Behavioural testbench model: int/longint arithmetic is mixed with port widths on purpose.
/* verilator lint_off WIDTH */
module hbm_tb_top
  import hbm_pkg::*;
#(
  parameter int NUM_CH = 32,
  parameter int DATA_W = 256,
  parameter int ID_W   = 6,
  parameter int ADDR_W = 34
) (
  input  logic                      clk,
  input  logic                      rst_n,
  // memory model control (see hbm_mem_model)
  input  logic                      hbm_cmd_valid,
  input  logic [3:0]                hbm_cmd_op,
  input  logic [7:0]                hbm_cmd_ch,
  input  logic [63:0]               hbm_cmd_addr,
  input  logic [DATA_W-1:0]         hbm_cmd_wdata,
  input  logic [DATA_W/8-1:0]       hbm_cmd_wstrb,
  output logic [DATA_W-1:0]         hbm_cmd_rdata,
  output logic [64*N_STAT-1:0]      hbm_stat_vec,
  output logic [63:0]               hbm_cycle,
  output logic                      hbm_viol_any,
  output logic [31:0]               hbm_viol_count,
  output logic [7:0]                hbm_viol_code,
  output logic [2:0]                hbm_viol_kind,
  output logic [7:0]                hbm_viol_ch,
  output logic [63:0]               hbm_viol_cycle,
  output logic [63:0]               hbm_viol_addr,
  output logic [15:0]               hbm_viol_id,
  output logic [7:0]                hbm_viol_len,
  output logic [2:0]                hbm_viol_size,
  output logic [1:0]                hbm_viol_burst,
  // traffic generators: cfg writes reg tg_cfg_addr of generator tg_cfg_ch (255: all);
  // tg_cfg_addr 255 selects generator tg_cfg_ch for the tg_st_* outputs
  input  logic                      tg_cfg_valid,
  input  logic [7:0]                tg_cfg_ch,
  input  logic [7:0]                tg_cfg_addr,
  input  logic [63:0]               tg_cfg_data,
  output logic [63:0]               tg_st_issued,
  output logic [63:0]               tg_st_done,
  output logic [63:0]               tg_st_beats,
  output logic [63:0]               tg_st_errs,
  output logic [63:0]               tg_st_resp_err,
  output logic [DATA_W-1:0]         tg_st_xor,
  output logic                      tg_done_all,
  output logic [DATA_W-1:0]         tg_xor_all,   // keeps every generator's data observable
  // external masters for channels 0 and 1
  input  logic [1:0]                ext_sel,
  input  logic [ID_W-1:0]          m0_axi_awid,
  input  logic [ADDR_W-1:0]        m0_axi_awaddr,
  input  logic [8-1:0]             m0_axi_awlen,
  input  logic [3-1:0]             m0_axi_awsize,
  input  logic [2-1:0]             m0_axi_awburst,
  input  logic                     m0_axi_awvalid,
  output logic                     m0_axi_awready,
  input  logic [DATA_W-1:0]        m0_axi_wdata,
  input  logic [DATA_W/8-1:0]      m0_axi_wstrb,
  input  logic                     m0_axi_wlast,
  input  logic                     m0_axi_wvalid,
  output logic                     m0_axi_wready,
  output logic [ID_W-1:0]          m0_axi_bid,
  output logic [2-1:0]             m0_axi_bresp,
  output logic                     m0_axi_bvalid,
  input  logic                     m0_axi_bready,
  input  logic [ID_W-1:0]          m0_axi_arid,
  input  logic [ADDR_W-1:0]        m0_axi_araddr,
  input  logic [8-1:0]             m0_axi_arlen,
  input  logic [3-1:0]             m0_axi_arsize,
  input  logic [2-1:0]             m0_axi_arburst,
  input  logic                     m0_axi_arvalid,
  output logic                     m0_axi_arready,
  output logic [ID_W-1:0]          m0_axi_rid,
  output logic [DATA_W-1:0]        m0_axi_rdata,
  output logic [2-1:0]             m0_axi_rresp,
  output logic                     m0_axi_rlast,
  output logic                     m0_axi_rvalid,
  input  logic                     m0_axi_rready,
  input  logic [ID_W-1:0]          m1_axi_awid,
  input  logic [ADDR_W-1:0]        m1_axi_awaddr,
  input  logic [8-1:0]             m1_axi_awlen,
  input  logic [3-1:0]             m1_axi_awsize,
  input  logic [2-1:0]             m1_axi_awburst,
  input  logic                     m1_axi_awvalid,
  output logic                     m1_axi_awready,
  input  logic [DATA_W-1:0]        m1_axi_wdata,
  input  logic [DATA_W/8-1:0]      m1_axi_wstrb,
  input  logic                     m1_axi_wlast,
  input  logic                     m1_axi_wvalid,
  output logic                     m1_axi_wready,
  output logic [ID_W-1:0]          m1_axi_bid,
  output logic [2-1:0]             m1_axi_bresp,
  output logic                     m1_axi_bvalid,
  input  logic                     m1_axi_bready,
  input  logic [ID_W-1:0]          m1_axi_arid,
  input  logic [ADDR_W-1:0]        m1_axi_araddr,
  input  logic [8-1:0]             m1_axi_arlen,
  input  logic [3-1:0]             m1_axi_arsize,
  input  logic [2-1:0]             m1_axi_arburst,
  input  logic                     m1_axi_arvalid,
  output logic                     m1_axi_arready,
  output logic [ID_W-1:0]          m1_axi_rid,
  output logic [DATA_W-1:0]        m1_axi_rdata,
  output logic [2-1:0]             m1_axi_rresp,
  output logic                     m1_axi_rlast,
  output logic                     m1_axi_rvalid,
  input  logic                     m1_axi_rready
);
`include "reset_guard.svh"
  // per-channel bundles on the model side
  logic [NUM_CH-1:0]          arvalid, arready, rvalid, rready, rlast, awvalid, awready,
                              wvalid, wready, wlast, bvalid, bready;
  logic [NUM_CH*ID_W-1:0]     arid, rid, awid, bid;
  logic [NUM_CH*ADDR_W-1:0]   araddr, awaddr;
  logic [NUM_CH*8-1:0]        arlen, awlen;
  logic [NUM_CH*3-1:0]        arsize, awsize;
  logic [NUM_CH*2-1:0]        arburst, awburst, rresp, bresp;
  logic [NUM_CH*DATA_W-1:0]   rdata, wdata;
  logic [NUM_CH*DATA_W/8-1:0] wstrb;

  hbm_mem_model #(.NUM_CH(NUM_CH), .DATA_W(DATA_W), .ID_W(ID_W), .ADDR_W(ADDR_W)) u_mem (
    .clk, .rst_n(core_rst_n),
    .cmd_valid(hbm_cmd_valid), .cmd_op(hbm_cmd_op), .cmd_ch(hbm_cmd_ch), .cmd_addr(hbm_cmd_addr),
    .cmd_wdata(hbm_cmd_wdata), .cmd_wstrb(hbm_cmd_wstrb), .cmd_rdata(hbm_cmd_rdata),
    .stat_vec(hbm_stat_vec), .cycle(hbm_cycle),
    .viol_any(hbm_viol_any), .viol_count(hbm_viol_count), .viol_code(hbm_viol_code),
    .viol_kind(hbm_viol_kind), .viol_ch(hbm_viol_ch), .viol_cycle(hbm_viol_cycle),
    .viol_addr(hbm_viol_addr), .viol_id(hbm_viol_id), .viol_len(hbm_viol_len),
    .viol_size(hbm_viol_size), .viol_burst(hbm_viol_burst),
    .s_axi_arvalid(arvalid), .s_axi_arready(arready), .s_axi_arid(arid), .s_axi_araddr(araddr),
    .s_axi_arlen(arlen), .s_axi_arsize(arsize), .s_axi_arburst(arburst),
    .s_axi_rvalid(rvalid), .s_axi_rready(rready), .s_axi_rid(rid), .s_axi_rdata(rdata),
    .s_axi_rresp(rresp), .s_axi_rlast(rlast),
    .s_axi_awvalid(awvalid), .s_axi_awready(awready), .s_axi_awid(awid), .s_axi_awaddr(awaddr),
    .s_axi_awlen(awlen), .s_axi_awsize(awsize), .s_axi_awburst(awburst),
    .s_axi_wvalid(wvalid), .s_axi_wready(wready), .s_axi_wdata(wdata), .s_axi_wstrb(wstrb),
    .s_axi_wlast(wlast),
    .s_axi_bvalid(bvalid), .s_axi_bready(bready), .s_axi_bid(bid), .s_axi_bresp(bresp)
  );

  // generator outputs
  logic [NUM_CH-1:0]          g_arvalid, g_rready, g_done;
  logic [NUM_CH*ID_W-1:0]     g_arid;
  logic [NUM_CH*ADDR_W-1:0]   g_araddr;
  logic [NUM_CH*8-1:0]        g_arlen;
  logic [NUM_CH*3-1:0]        g_arsize;
  logic [NUM_CH*2-1:0]        g_arburst;
  logic [63:0]                g_issued [NUM_CH], g_dn [NUM_CH], g_beats [NUM_CH], g_errs [NUM_CH],
                              g_rerr [NUM_CH];
  logic [DATA_W-1:0]          g_xor [NUM_CH];
  logic [NUM_CH-1:0]          ext;

  // every generator's beat log (tb/hbm/tgen.py reads it; flushed with the model's log)
  int tg_log_fd;
  initial tg_log_fd = $fopen("hbm_tgen_beats.log", "w");
  always @(posedge clk)
    if (hbm_cmd_valid && hbm_cmd_op == 4'(OP_FLUSH_LOG) && tg_log_fd != 0) $fflush(tg_log_fd);

  for (genvar c = 0; c < NUM_CH; c++) begin : g_tg
    assign ext[c] = (c < 2) ? ext_sel[c % 2] : 1'b0;
    hbm_axi_tgen #(.DATA_W(DATA_W), .ID_W(ID_W), .ADDR_W(ADDR_W)) u_tg (
      .clk, .rst_n(core_rst_n), .log_fd(tg_log_fd), .log_ch(8'(c)),
      .cfg_valid(tg_cfg_valid && (tg_cfg_ch == 8'(c) || tg_cfg_ch == 8'hFF)),
      .cfg_addr(tg_cfg_addr), .cfg_data(tg_cfg_data),
      .st_issued(g_issued[c]), .st_done(g_dn[c]), .st_beats(g_beats[c]), .st_errs(g_errs[c]),
      .st_resp_err(g_rerr[c]), .st_xor(g_xor[c]), .done(g_done[c]),
      .arvalid(g_arvalid[c]), .arready(arready[c] && !ext[c]),
      .arid(g_arid[c*ID_W +: ID_W]), .araddr(g_araddr[c*ADDR_W +: ADDR_W]),
      .arlen(g_arlen[c*8 +: 8]), .arsize(g_arsize[c*3 +: 3]), .arburst(g_arburst[c*2 +: 2]),
      .rvalid(rvalid[c] && !ext[c]), .rready(g_rready[c]), .rid(rid[c*ID_W +: ID_W]),
      .rdata(rdata[c*DATA_W +: DATA_W]), .rresp(rresp[c*2 +: 2]), .rlast(rlast[c])
    );
  end

  // channels 2..: generators only (reads), write side idle
  for (genvar c = 2; c < NUM_CH; c++) begin : g_gen_only
    assign arvalid[c] = g_arvalid[c];
    assign arid[c*ID_W +: ID_W] = g_arid[c*ID_W +: ID_W];
    assign araddr[c*ADDR_W +: ADDR_W] = g_araddr[c*ADDR_W +: ADDR_W];
    assign arlen[c*8 +: 8] = g_arlen[c*8 +: 8];
    assign arsize[c*3 +: 3] = g_arsize[c*3 +: 3];
    assign arburst[c*2 +: 2] = g_arburst[c*2 +: 2];
    assign rready[c] = g_rready[c];
    assign awvalid[c] = 1'b0;
    assign awid[c*ID_W +: ID_W] = '0;
    assign awaddr[c*ADDR_W +: ADDR_W] = '0;
    assign awlen[c*8 +: 8] = '0;
    assign awsize[c*3 +: 3] = '0;
    assign awburst[c*2 +: 2] = '0;
    assign wvalid[c] = 1'b0;
    assign wdata[c*DATA_W +: DATA_W] = '0;
    assign wstrb[c*DATA_W/8 +: DATA_W/8] = '0;
    assign wlast[c] = 1'b0;
    assign bready[c] = 1'b1;
  end

  // channel 0: generator or m0_axi_*
  if (NUM_CH > 0) begin : g_ext0
    assign arvalid[0] = ext[0] ? m0_axi_arvalid : g_arvalid[0];
    assign arid[0*ID_W +: ID_W] = ext[0] ? m0_axi_arid : g_arid[0*ID_W +: ID_W];
    assign araddr[0*ADDR_W +: ADDR_W] = ext[0] ? m0_axi_araddr : g_araddr[0*ADDR_W +: ADDR_W];
    assign arlen[0*8 +: 8] = ext[0] ? m0_axi_arlen : g_arlen[0*8 +: 8];
    assign arsize[0*3 +: 3] = ext[0] ? m0_axi_arsize : g_arsize[0*3 +: 3];
    assign arburst[0*2 +: 2] = ext[0] ? m0_axi_arburst : g_arburst[0*2 +: 2];
    assign rready[0] = ext[0] ? m0_axi_rready : g_rready[0];
    assign awvalid[0] = ext[0] & m0_axi_awvalid;
    assign awid[0*ID_W +: ID_W] = m0_axi_awid;
    assign awaddr[0*ADDR_W +: ADDR_W] = m0_axi_awaddr;
    assign awlen[0*8 +: 8] = m0_axi_awlen;
    assign awsize[0*3 +: 3] = m0_axi_awsize;
    assign awburst[0*2 +: 2] = m0_axi_awburst;
    assign wvalid[0] = ext[0] & m0_axi_wvalid;
    assign wdata[0*DATA_W +: DATA_W] = m0_axi_wdata;
    assign wstrb[0*DATA_W/8 +: DATA_W/8] = m0_axi_wstrb;
    assign wlast[0] = m0_axi_wlast;
    assign bready[0] = ext[0] ? m0_axi_bready : 1'b1;
    assign m0_axi_arready = ext[0] & arready[0];
    assign m0_axi_rvalid = ext[0] & rvalid[0];
    assign m0_axi_rid = rid[0*ID_W +: ID_W];
    assign m0_axi_rdata = rdata[0*DATA_W +: DATA_W];
    assign m0_axi_rresp = rresp[0*2 +: 2];
    assign m0_axi_rlast = rlast[0];
    assign m0_axi_awready = ext[0] & awready[0];
    assign m0_axi_wready = ext[0] & wready[0];
    assign m0_axi_bvalid = ext[0] & bvalid[0];
    assign m0_axi_bid = bid[0*ID_W +: ID_W];
    assign m0_axi_bresp = bresp[0*2 +: 2];
  end else begin : g_noext0
    assign m0_axi_arready = 1'b0;
    assign m0_axi_rvalid = 1'b0;
    assign m0_axi_rid = '0;
    assign m0_axi_rdata = '0;
    assign m0_axi_rresp = '0;
    assign m0_axi_rlast = 1'b0;
    assign m0_axi_awready = 1'b0;
    assign m0_axi_wready = 1'b0;
    assign m0_axi_bvalid = 1'b0;
    assign m0_axi_bid = '0;
    assign m0_axi_bresp = '0;
  end

  // channel 1: generator or m1_axi_*
  if (NUM_CH > 1) begin : g_ext1
    assign arvalid[1] = ext[1] ? m1_axi_arvalid : g_arvalid[1];
    assign arid[1*ID_W +: ID_W] = ext[1] ? m1_axi_arid : g_arid[1*ID_W +: ID_W];
    assign araddr[1*ADDR_W +: ADDR_W] = ext[1] ? m1_axi_araddr : g_araddr[1*ADDR_W +: ADDR_W];
    assign arlen[1*8 +: 8] = ext[1] ? m1_axi_arlen : g_arlen[1*8 +: 8];
    assign arsize[1*3 +: 3] = ext[1] ? m1_axi_arsize : g_arsize[1*3 +: 3];
    assign arburst[1*2 +: 2] = ext[1] ? m1_axi_arburst : g_arburst[1*2 +: 2];
    assign rready[1] = ext[1] ? m1_axi_rready : g_rready[1];
    assign awvalid[1] = ext[1] & m1_axi_awvalid;
    assign awid[1*ID_W +: ID_W] = m1_axi_awid;
    assign awaddr[1*ADDR_W +: ADDR_W] = m1_axi_awaddr;
    assign awlen[1*8 +: 8] = m1_axi_awlen;
    assign awsize[1*3 +: 3] = m1_axi_awsize;
    assign awburst[1*2 +: 2] = m1_axi_awburst;
    assign wvalid[1] = ext[1] & m1_axi_wvalid;
    assign wdata[1*DATA_W +: DATA_W] = m1_axi_wdata;
    assign wstrb[1*DATA_W/8 +: DATA_W/8] = m1_axi_wstrb;
    assign wlast[1] = m1_axi_wlast;
    assign bready[1] = ext[1] ? m1_axi_bready : 1'b1;
    assign m1_axi_arready = ext[1] & arready[1];
    assign m1_axi_rvalid = ext[1] & rvalid[1];
    assign m1_axi_rid = rid[1*ID_W +: ID_W];
    assign m1_axi_rdata = rdata[1*DATA_W +: DATA_W];
    assign m1_axi_rresp = rresp[1*2 +: 2];
    assign m1_axi_rlast = rlast[1];
    assign m1_axi_awready = ext[1] & awready[1];
    assign m1_axi_wready = ext[1] & wready[1];
    assign m1_axi_bvalid = ext[1] & bvalid[1];
    assign m1_axi_bid = bid[1*ID_W +: ID_W];
    assign m1_axi_bresp = bresp[1*2 +: 2];
  end else begin : g_noext1
    assign m1_axi_arready = 1'b0;
    assign m1_axi_rvalid = 1'b0;
    assign m1_axi_rid = '0;
    assign m1_axi_rdata = '0;
    assign m1_axi_rresp = '0;
    assign m1_axi_rlast = 1'b0;
    assign m1_axi_awready = 1'b0;
    assign m1_axi_wready = 1'b0;
    assign m1_axi_bvalid = 1'b0;
    assign m1_axi_bid = '0;
    assign m1_axi_bresp = '0;
  end

  // generator status: selected one, all done, xor of all
  always @(posedge clk) begin : tg_status
    logic [DATA_W-1:0] x;
    if (tg_cfg_valid && tg_cfg_addr == 8'hFF && tg_cfg_ch < NUM_CH) begin
      tg_st_issued   <= g_issued[tg_cfg_ch];
      tg_st_done     <= g_dn[tg_cfg_ch];
      tg_st_beats    <= g_beats[tg_cfg_ch];
      tg_st_errs     <= g_errs[tg_cfg_ch];
      tg_st_resp_err <= g_rerr[tg_cfg_ch];
      tg_st_xor      <= g_xor[tg_cfg_ch];
    end
    tg_done_all <= &g_done;
    if (tg_cfg_valid && tg_cfg_addr == 8'hFE) begin
      x = '0;
      for (int c = 0; c < NUM_CH; c++) x ^= g_xor[c];
      tg_xor_all <= x;
    end
  end
endmodule
