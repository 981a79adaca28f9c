// hbm_axi_tgen: a small AXI4 read traffic generator (one per channel in
// hbm_tb_top). Fixed-length INCR/FIXED/WRAP bursts at addresses
// base + (idx << stride_lg), idx sequential or from an xorshift32 stream
// (reproduced in tb/hbm/tgen.py), IDs round robin over n_ids, random AR issue
// and RREADY rates. It checks RLAST, XOR-folds every data beat into st_xor (an
// observable result, so Verilator keeps the data path of the speed benchmark),
// and with T_CTRL bit 2 logs every beat it takes, in order, as
// "<channel> <rid hex> <rlast> <rresp> <hash hex>" (hash: h = mix32(h ^ word) over
// the beat's 32-bit words from word 0, h starting at 0), so Python can compare
// every beat with models/tables.py in AXI order (tb/hbm/tgen.py, check_beats).
// Behavioural testbench model: int/longint arithmetic is mixed with port widths on purpose.
/* verilator lint_off WIDTH */
module hbm_axi_tgen
  import hbm_pkg::*;
#(
  parameter int DATA_W = 256,
  parameter int ID_W   = 6,
  parameter int ADDR_W = 34
) (
  input  logic               clk,
  input  logic               rst_n,
  input  int                 log_fd,       // beat log (T_CTRL bit 2), shared by all generators
  input  logic [7:0]         log_ch,       // this generator's channel, for the log
  input  logic               cfg_valid,
  input  logic [7:0]         cfg_addr,
  input  logic [63:0]        cfg_data,
  output logic [63:0]        st_issued,
  output logic [63:0]        st_done,
  output logic [63:0]        st_beats,
  output logic [63:0]        st_errs,      // RLAST at the wrong beat
  output logic [63:0]        st_resp_err,  // beats with RRESP != OKAY
  output logic [DATA_W-1:0]  st_xor,
  output logic               done,         // count reached and all answered (or disabled)
  output logic               arvalid,
  input  logic               arready,
  output logic [ID_W-1:0]    arid,
  output logic [ADDR_W-1:0]  araddr,
  output logic [7:0]         arlen,
  output logic [2:0]         arsize,
  output logic [1:0]         arburst,
  input  logic               rvalid,
  output logic               rready,
  input  logic [ID_W-1:0]    rid,
  input  logic [DATA_W-1:0]  rdata,
  input  logic [1:0]         rresp,
  input  logic               rlast
);
  /*verilator no_inline_module*/
  localparam int T_CTRL = 0, T_BASE = 1, T_IDX_MASK = 2, T_STRIDE_LG = 3, T_LEN = 4, T_SIZE = 5,
                 T_BURST = 6, T_N_IDS = 7, T_P_ISSUE = 8, T_P_RREADY = 9, T_MAX_OUT = 10,
                 T_COUNT = 11, T_SEED = 12, T_ADDR_SEED = 13, T_CLEAR = 14, NT = 16;

  longint unsigned regs [NT];
  logic [31:0] rng, arng;
  longint unsigned issued, seq, outstanding, cur_beats;


  function automatic logic chance(input longint unsigned p);
    if (p == 0) return 1'b0;
    if (p >= 65536) return 1'b1;
    rng = xs32(rng);
    return longint'(rng[15:0]) < p;
  endfunction

  initial begin
    for (int i = 0; i < NT; i++) regs[i] = 0;
    regs[T_N_IDS] = 1;
    regs[T_P_ISSUE] = 65536;
    regs[T_P_RREADY] = 65536;
    regs[T_MAX_OUT] = 64;
    regs[T_SIZE] = $clog2(DATA_W / 8);
    regs[T_BURST] = 1;
    rng = 32'h2545F491;
    arng = 32'h1;
  end

  always @(posedge clk) begin : main
    longint unsigned idx, n_out;
    logic issue;
    logic [31:0] h;
    if (cfg_valid && cfg_addr < NT) begin
      regs[cfg_addr] = cfg_data;
      if (cfg_addr == T_SEED) rng = (cfg_data[31:0] == 0) ? 32'h1 : cfg_data[31:0];
      if (cfg_addr == T_ADDR_SEED) arng = (cfg_data[31:0] == 0) ? 32'h1 : cfg_data[31:0];
    end
    if (!rst_n) regs[T_CTRL] = 0;   // reset stops the generator; configuration stays
    if (!rst_n || (cfg_valid && cfg_addr == T_CLEAR)) begin
      issued = 0; seq = 0; outstanding = 0; cur_beats = 0;
      arvalid <= 0; rready <= 0;
      st_issued <= 0; st_done <= 0; st_beats <= 0; st_errs <= 0; st_resp_err <= 0; st_xor <= '0;
      done <= 0;
    end else begin
      n_out = outstanding;
      if (arvalid && arready) begin
        issued = issued + 1;
        n_out = n_out + 1;
      end
      if (rvalid && rready && regs[T_CTRL][2] && log_fd != 0) begin
        h = 0;
        for (int w = 0; w < DATA_W / 32; w++) h = mix32(h ^ rdata[32*w +: 32]);
        $fwrite(log_fd, "%0d %0h %0d %0d %08h\n", log_ch, rid, rlast, rresp, h);
      end
      if (rvalid && rready) begin
        st_beats <= st_beats + 1;
        st_xor <= st_xor ^ rdata;
        if (rresp != 2'b00) st_resp_err <= st_resp_err + 1;
        cur_beats = cur_beats + 1;
        if (rlast) begin
          if (cur_beats != regs[T_LEN] + 1) st_errs <= st_errs + 1;
          cur_beats = 0;
          n_out = n_out - 1;
          st_done <= st_done + 1;
        end else if (cur_beats > regs[T_LEN]) begin
          st_errs <= st_errs + 1;
        end
      end
      outstanding = n_out;
      st_issued <= issued;
      if (!arvalid || arready) begin
        issue = regs[T_CTRL][0] && (regs[T_COUNT] == 0 || issued < regs[T_COUNT]) &&
                outstanding < regs[T_MAX_OUT] && chance(regs[T_P_ISSUE]);
        if (issue) begin
          if (regs[T_CTRL][1]) begin
            arng = xs32(arng);
            idx = longint'(arng) & regs[T_IDX_MASK];
          end else begin
            idx = seq & regs[T_IDX_MASK];
          end
          arvalid <= 1;
          araddr  <= ADDR_W'(regs[T_BASE] + (idx << regs[T_STRIDE_LG]));
          arid    <= ID_W'(seq % (regs[T_N_IDS] == 0 ? 1 : regs[T_N_IDS]));
          arlen   <= 8'(regs[T_LEN]);
          arsize  <= 3'(regs[T_SIZE]);
          arburst <= 2'(regs[T_BURST]);
          seq = seq + 1;
        end else begin
          arvalid <= 0;
        end
      end
      rready <= chance(regs[T_P_RREADY]);
      done <= !regs[T_CTRL][0] || (regs[T_COUNT] != 0 && issued >= regs[T_COUNT] &&
                                    outstanding == 0 && !(arvalid && !arready));
    end
  end
endmodule
