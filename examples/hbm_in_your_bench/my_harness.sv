// Your own harness around the HBM memory model: here the "DUT" is whatever
// drives the m_axi_* read ports (in this example, cocotbext-axi's AxiMaster
// on channel 0; channel 1 is tied idle). The model's control ports come out
// with the prefix hbm_ so tb.hbm.HbmMemory can configure it.
module my_harness
  import hbm_pkg::*;
#(
  parameter int NUM_CH = 2,
  parameter int DATA_W = 256,
  parameter int ID_W   = 4,
  parameter int ADDR_W = 34,
  parameter int NREG   = 8
) (
  input  logic              clk,
  input  logic              rst_n,
  // channel 0 read port, for a Python AXI master
  input  logic              m_axi_arvalid,
  output logic              m_axi_arready,
  input  logic [ID_W-1:0]   m_axi_arid,
  input  logic [ADDR_W-1:0] m_axi_araddr,
  input  logic [7:0]        m_axi_arlen,
  input  logic [2:0]        m_axi_arsize,
  input  logic [1:0]        m_axi_arburst,
  output logic              m_axi_rvalid,
  input  logic              m_axi_rready,
  output logic [ID_W-1:0]   m_axi_rid,
  output logic [DATA_W-1:0] m_axi_rdata,
  output logic [1:0]        m_axi_rresp,
  output logic              m_axi_rlast,
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

  always_comb begin
    arvalid = '0; araddr = '0; arlen = '0; arsize = '0; arburst = '0; arid = '0;
    rready  = {NUM_CH{1'b1}};
    arvalid[0] = m_axi_arvalid;  araddr[0] = m_axi_araddr;  arlen[0] = m_axi_arlen;
    arsize[0]  = m_axi_arsize;   arburst[0] = m_axi_arburst; arid[0] = m_axi_arid;
    rready[0]  = m_axi_rready;
  end
  assign m_axi_arready = arready[0];
  assign m_axi_rvalid  = rvalid[0];
  assign m_axi_rid     = rid[0];
  assign m_axi_rdata   = rdata[0];
  assign m_axi_rresp   = rresp[0];
  assign m_axi_rlast   = rlast[0];

  `include "hbm_read_only.svh"
endmodule
