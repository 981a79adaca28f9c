// hbm_mem_model: NUM_CH AXI4 slave memory channels (HBM pseudo-channels or DDR)
// with procedural table content, a sparse override store, a timing model,
// fault injection, protocol checks of the master and statistics.
//
// Reusable as a submodule: instantiate it in any harness, connect the
// flattened per-channel AXI vectors (channel c uses bits [c*W +: W]) to the
// masters, and bring the control ports (cmd_*, stat_vec, viol_*, cycle) out
// to the harness toplevel under a common prefix (e.g. "hbm_"), so that
// tb.hbm.HbmMemory(prefix="hbm_") can configure and observe it. Ports,
// registers and the Python API are described in tb/hbm/README.md.
//
// Control port protocol: drive cmd_valid for one clock with cmd_op, cmd_ch,
// cmd_addr, cmd_wdata, cmd_wstrb; read results (cmd_rdata, stat_vec) after
// the edge. cmd_ch 255 addresses every channel (register writes, clears).
// Behavioural testbench model: int/longint arithmetic is mixed with port widths on purpose.
/* verilator lint_off WIDTH */
module hbm_mem_model
  import hbm_pkg::*;
#(
  parameter int NUM_CH   = 32,
  parameter int DATA_W   = 256,
  parameter int ID_W     = 6,
  parameter int ADDR_W   = 34,
  parameter int NREG     = 8,
  parameter int CH_BASE  = 0,            // channel number printed in messages and logs
  parameter     LOG_FILE = "hbm_txn.log" // transaction log (written only when enabled)
) (
  input  logic                       clk,
  input  logic                       rst_n,
  // control
  input  logic                       cmd_valid,
  input  logic [3:0]                 cmd_op,
  input  logic [7:0]                 cmd_ch,
  input  logic [63:0]                cmd_addr,
  input  logic [DATA_W-1:0]          cmd_wdata,
  input  logic [DATA_W/8-1:0]        cmd_wstrb,
  output logic [DATA_W-1:0]          cmd_rdata,
  output logic [64*N_STAT-1:0]       stat_vec,
  output logic [63:0]                cycle,
  // first protocol violation (sticky until OP_CLEAR_VIOL) and the count
  output logic                       viol_any,
  output logic [31:0]                viol_count,
  output logic [7:0]                 viol_code,
  output logic [2:0]                 viol_kind,
  output logic [7:0]                 viol_ch,
  output logic [63:0]                viol_cycle,
  output logic [63:0]                viol_addr,
  output logic [15:0]                viol_id,
  output logic [7:0]                 viol_len,
  output logic [2:0]                 viol_size,
  output logic [1:0]                 viol_burst,
  // AXI4 slaves, flattened per channel
  input  logic [NUM_CH-1:0]          s_axi_arvalid,
  output logic [NUM_CH-1:0]          s_axi_arready,
  input  logic [NUM_CH*ID_W-1:0]     s_axi_arid,
  input  logic [NUM_CH*ADDR_W-1:0]   s_axi_araddr,
  input  logic [NUM_CH*8-1:0]        s_axi_arlen,
  input  logic [NUM_CH*3-1:0]        s_axi_arsize,
  input  logic [NUM_CH*2-1:0]        s_axi_arburst,
  output logic [NUM_CH-1:0]          s_axi_rvalid,
  input  logic [NUM_CH-1:0]          s_axi_rready,
  output logic [NUM_CH*ID_W-1:0]     s_axi_rid,
  output logic [NUM_CH*DATA_W-1:0]   s_axi_rdata,
  output logic [NUM_CH*2-1:0]        s_axi_rresp,
  output logic [NUM_CH-1:0]          s_axi_rlast,
  input  logic [NUM_CH-1:0]          s_axi_awvalid,
  output logic [NUM_CH-1:0]          s_axi_awready,
  input  logic [NUM_CH*ID_W-1:0]     s_axi_awid,
  input  logic [NUM_CH*ADDR_W-1:0]   s_axi_awaddr,
  input  logic [NUM_CH*8-1:0]        s_axi_awlen,
  input  logic [NUM_CH*3-1:0]        s_axi_awsize,
  input  logic [NUM_CH*2-1:0]        s_axi_awburst,
  input  logic [NUM_CH-1:0]          s_axi_wvalid,
  output logic [NUM_CH-1:0]          s_axi_wready,
  input  logic [NUM_CH*DATA_W-1:0]   s_axi_wdata,
  input  logic [NUM_CH*DATA_W/8-1:0] s_axi_wstrb,
  input  logic [NUM_CH-1:0]          s_axi_wlast,
  output logic [NUM_CH-1:0]          s_axi_bvalid,
  input  logic [NUM_CH-1:0]          s_axi_bready,
  output logic [NUM_CH*ID_W-1:0]     s_axi_bid,
  output logic [NUM_CH*2-1:0]        s_axi_bresp
);
  initial begin
    if (NUM_CH < 1 || NUM_CH > 64) $fatal(1, "hbm_mem_model: NUM_CH %0d outside 1..64", NUM_CH);
    if (DATA_W < 64 || DATA_W > 512 || (DATA_W & (DATA_W - 1)) != 0)
      $fatal(1, "hbm_mem_model: DATA_W %0d must be a power of two in 64..512", DATA_W);
    if (ID_W < 1 || ID_W > 16) $fatal(1, "hbm_mem_model: ID_W %0d outside 1..16", ID_W);
    if (ADDR_W < 12 || ADDR_W > 64) $fatal(1, "hbm_mem_model: ADDR_W %0d outside 12..64", ADDR_W);
  end

  int log_fd;
  initial begin
    log_fd = $fopen(LOG_FILE, "w");
    $display("hbm_mem_model: transaction log %s fd %0h", LOG_FILE, log_fd);
  end

  logic [63:0] cyc;
  assign cycle = cyc;
  always @(posedge clk) begin
    if (!rst_n) cyc <= 0;
    else cyc <= cyc + 1;
  end

  logic [DATA_W-1:0]     ch_rdata [NUM_CH];
  logic [64*N_STAT-1:0]  ch_snap  [NUM_CH];
  logic [NUM_CH-1:0]     v_pulse;
  logic [7:0]            v_code   [NUM_CH];
  logic [2:0]            v_kind   [NUM_CH];
  logic [63:0]           v_addr   [NUM_CH];
  logic [15:0]           v_id     [NUM_CH];
  logic [7:0]            v_len    [NUM_CH];
  logic [2:0]            v_size   [NUM_CH];
  logic [1:0]            v_burst  [NUM_CH];

  for (genvar c = 0; c < NUM_CH; c++) begin : g_ch
    hbm_channel #(
      .DATA_W(DATA_W), .ID_W(ID_W), .ADDR_W(ADDR_W), .NREG(NREG)
    ) u_ch (
      .clk, .rst_n, .cyc, .log_fd, .ch_num(8'(CH_BASE + c)),
      // channel numbers on the command port are local (0..NUM_CH-1, 255 = all)
      .cmd_valid(cmd_valid && (cmd_ch == 8'(c) || cmd_ch == 8'hFF)),
      .cmd_op, .cmd_wdata, .cmd_wstrb, .cmd_addr,
      .ch_rdata(ch_rdata[c]),
      .ch_snap (ch_snap[c]),
      .v_pulse (v_pulse[c]),
      .v_code  (v_code[c]), .v_kind(v_kind[c]), .v_addr(v_addr[c]), .v_id(v_id[c]),
      .v_len   (v_len[c]), .v_size(v_size[c]), .v_burst(v_burst[c]),
      .arvalid (s_axi_arvalid[c]),
      .arready (s_axi_arready[c]),
      .arid    (s_axi_arid[c*ID_W +: ID_W]),
      .araddr  (s_axi_araddr[c*ADDR_W +: ADDR_W]),
      .arlen   (s_axi_arlen[c*8 +: 8]),
      .arsize  (s_axi_arsize[c*3 +: 3]),
      .arburst (s_axi_arburst[c*2 +: 2]),
      .rvalid  (s_axi_rvalid[c]),
      .rready  (s_axi_rready[c]),
      .rid     (s_axi_rid[c*ID_W +: ID_W]),
      .rdata   (s_axi_rdata[c*DATA_W +: DATA_W]),
      .rresp   (s_axi_rresp[c*2 +: 2]),
      .rlast   (s_axi_rlast[c]),
      .awvalid (s_axi_awvalid[c]),
      .awready (s_axi_awready[c]),
      .awid    (s_axi_awid[c*ID_W +: ID_W]),
      .awaddr  (s_axi_awaddr[c*ADDR_W +: ADDR_W]),
      .awlen   (s_axi_awlen[c*8 +: 8]),
      .awsize  (s_axi_awsize[c*3 +: 3]),
      .awburst (s_axi_awburst[c*2 +: 2]),
      .wvalid  (s_axi_wvalid[c]),
      .wready  (s_axi_wready[c]),
      .wdata   (s_axi_wdata[c*DATA_W +: DATA_W]),
      .wstrb   (s_axi_wstrb[c*DATA_W/8 +: DATA_W/8]),
      .wlast   (s_axi_wlast[c]),
      .bvalid  (s_axi_bvalid[c]),
      .bready  (s_axi_bready[c]),
      .bid     (s_axi_bid[c*ID_W +: ID_W]),
      .bresp   (s_axi_bresp[c*2 +: 2])
    );
  end

  // results of reads and stat selection, from the addressed channel
  logic [7:0] rd_ch;
  always @(posedge clk) begin
    if (cmd_valid && (int'(cmd_op) == OP_MEM_READ || int'(cmd_op) == OP_REG_READ) && cmd_ch < NUM_CH)
      rd_ch <= cmd_ch;
    if (cmd_valid && int'(cmd_op) == OP_STAT_SEL && cmd_ch < NUM_CH)
      stat_vec <= ch_snap[cmd_ch];
    if (cmd_valid && int'(cmd_op) == OP_FLUSH_LOG && log_fd != 0)
      $fflush(log_fd);
  end
  assign cmd_rdata = ch_rdata[rd_ch < NUM_CH ? rd_ch : 0];

  // first violation, sticky; the count goes on
  always @(posedge clk) begin : viol_latch
    int n;
    if (cmd_valid && int'(cmd_op) == OP_CLEAR_VIOL) begin
      viol_any <= 1'b0;
      viol_count <= 0;
    end else if (rst_n && |v_pulse) begin
      n = 0;
      for (int c = 0; c < NUM_CH; c++) if (v_pulse[c]) n++;
      viol_count <= viol_count + 32'(n);
      if (!viol_any) begin
        for (int c = NUM_CH - 1; c >= 0; c--)
          if (v_pulse[c]) begin
            viol_ch    <= 8'(CH_BASE + c);
            viol_code  <= v_code[c];
            viol_kind  <= v_kind[c];
            viol_addr  <= v_addr[c];
            viol_id    <= v_id[c];
            viol_len   <= v_len[c];
            viol_size  <= v_size[c];
            viol_burst <= v_burst[c];
          end
        viol_cycle <= cyc - 1;
        viol_any <= 1'b1;
      end
    end
  end
  initial begin
    viol_any = 1'b0;
    viol_count = 0;
    rd_ch = 0;
  end
endmodule
