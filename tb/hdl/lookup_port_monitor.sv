// lookup_port_monitor: a bench-side observer of the lookup subsystem's engine
// ports (memory channels and on-chip banks alike) and of its two streams.
//
// Per-cycle work stays in SV: it counts stall cycles (valid && !ready) and
// memory R beats itself, independently of the DUT's performance counters,
// and writes one log record per AR handshake and per last R beat, which Python
// reads in batches (tb/lookup/port_monitor.py) to sample coverage from what
// the DUT did and to predict the order-dependent counters. Records are binary
// (formatting text for every read was most of the simulator's time under
// traffic), 20 bytes each, written with $fwrite %u (little endian): the cycle
// (8 bytes), the address (8; 0 but for A), then one word {kind, engine, id, x}:
//   kind "A": AR handshake, x = ARLEN
//   kind "R": R handshake with RLAST, x = RRESP
//   kind "C": counters cleared (perf_clear); kind "X": the DUT left reset (engine, id, x 0)
// The log is flushed with the memory model's (OP_FLUSH_LOG on its command port).
// Behavioural testbench code: int/longint arithmetic is mixed with port widths on purpose.
/* verilator lint_off WIDTH */
module lookup_port_monitor
  import hbm_pkg::*;
#(
  parameter int NUM_ENG  = 5,
  parameter int NUM_CH   = 4,     // engines 0..NUM_CH-1 are memory channels, the rest banks
  parameter int ID_W     = 5,
  parameter int ADDR_W   = 34,
  parameter     LOG_FILE = "lookup_ports.bin"
) (
  input  logic                             clk,
  input  logic                             rst_n,      // the DUT's reset
  input  logic                             clear,      // the DUT's perf_clear
  input  logic                             flush,      // $fflush the log
  input  logic [NUM_ENG-1:0]               arvalid,
  input  logic [NUM_ENG-1:0]               arready,
  input  logic [NUM_ENG-1:0][ADDR_W-1:0]   araddr,
  input  logic [NUM_ENG-1:0][7:0]          arlen,
  input  logic [NUM_ENG-1:0][ID_W-1:0]     arid,
  input  logic [NUM_ENG-1:0]               rvalid,
  input  logic [NUM_ENG-1:0]               rready,
  input  logic [NUM_ENG-1:0]               rlast,
  input  logic [NUM_ENG-1:0][ID_W-1:0]     rid,
  input  logic [NUM_ENG-1:0][1:0]          rresp,
  input  logic                             in_valid,   // query stream in
  input  logic                             in_ready,
  input  logic                             out_valid,  // feature (or result) stream out
  input  logic                             out_ready,
  output logic [63:0]                      mon_ar_stall_mem,
  output logic [63:0]                      mon_ar_stall_bank,
  output logic [63:0]                      mon_in_stall,
  output logic [63:0]                      mon_out_stall,
  output logic [63:0]                      mon_mem_beats
);
  int fd;
  longint unsigned cyc;
  logic was_reset;

  initial begin
    if (ID_W > 8 || NUM_ENG > 256) $fatal(1, "lookup_port_monitor: log records hold 8-bit ids and engines");
    fd = $fopen(LOG_FILE, "wb");
    cyc = 0;
    was_reset = 1'b1;
  end

  always @(posedge clk) begin : observe
    longint unsigned ars_m, ars_b, beats;
    cyc = cyc + 1;
    if (flush && fd != 0) $fflush(fd);
    if (!rst_n || clear) begin
      mon_ar_stall_mem  <= '0;
      mon_ar_stall_bank <= '0;
      mon_in_stall      <= '0;
      mon_out_stall     <= '0;
      mon_mem_beats     <= '0;
    end
    if (!rst_n) begin
      was_reset = 1'b1;
    end else begin
      if (was_reset && fd != 0) $fwrite(fd, "%u%u%u", cyc, 64'd0, {8'h58, 24'd0});
      was_reset = 1'b0;
      if (clear && fd != 0) $fwrite(fd, "%u%u%u", cyc, 64'd0, {8'h43, 24'd0});
      ars_m = 0; ars_b = 0; beats = 0;
      for (int e = 0; e < NUM_ENG; e++) begin
        if (arvalid[e] && !arready[e]) begin
          if (e < NUM_CH) ars_m++;
          else ars_b++;
        end
        if (arvalid[e] && arready[e] && fd != 0)
          $fwrite(fd, "%u%u%u", cyc, 64'(araddr[e]), {8'h41, 8'(e), 8'(arid[e]), arlen[e]});
        if (rvalid[e] && rready[e]) begin
          if (e < NUM_CH) beats++;
          if (rlast[e] && fd != 0) $fwrite(fd, "%u%u%u", cyc, 64'd0, {8'h52, 8'(e), 8'(rid[e]), 6'd0, rresp[e]});
        end
      end
      if (!clear) begin
        mon_ar_stall_mem  <= mon_ar_stall_mem + ars_m;
        mon_ar_stall_bank <= mon_ar_stall_bank + ars_b;
        mon_in_stall      <= mon_in_stall + longint'(in_valid && !in_ready);
        mon_out_stall     <= mon_out_stall + longint'(out_valid && !out_ready);
        mon_mem_beats     <= mon_mem_beats + beats;
      end
    end
  end
endmodule
