// lookup_feat_sink: a bench-side receiver of the feature stream for the lookup
// harness's batched mode (tb/lookup/batch.py). It drives ready itself, low in a
// cycle with probability stall_thr / 2^32 (the pyuvm monitor's out_stall_prob,
// from its own xorshift64* generator, seeded with `seed` when `seed_load` is high),
// and logs every feature vector it takes to LOG_FILE, one binary record each ($fwrite %u:
// little endian, each field padded to whole 4-byte words):
//   cycle (8 bytes), id (4), {8'hA5 marker, err_engine, err_table, 4'h0, err} (4),
//   data (FEAT_MAX x 16 bits, element 0 first)
// stamped with the memory model's cycle counter in the handshake cycle (the same
// convention as the pyuvm monitor, which reads the beat at mid-cycle). Python reads
// the whole log at once and checks every element (tb/lookup/lookup_env.py).
// `count` counts the vectors taken since reset. The log is flushed with the memory
// model's (OP_FLUSH_LOG on its command port).
// Behavioural testbench code: int/longint arithmetic is mixed with port widths on purpose.
/* verilator lint_off WIDTH */
module lookup_feat_sink #(
  parameter int FEAT_MAX = 256,
  parameter     LOG_FILE = "lookup_batch_feats.bin"
) (
  input  logic                    clk,
  input  logic                    rst_n,
  input  logic                    enable,      // 0: ready stays low
  input  logic [31:0]             stall_thr,
  input  logic [63:0]             seed,
  input  logic                    seed_load,
  input  logic [63:0]             cycle,
  input  logic                    flush,
  input  logic                    valid,
  output logic                    ready,
  input  logic [31:0]             id,
  input  logic [FEAT_MAX*16-1:0]  data,
  input  logic [3:0]              err,
  input  logic [7:0]              err_table,
  input  logic [7:0]              err_engine,
  output logic [31:0]             count
);
  int fd;
  longint unsigned rs;

  initial begin
    fd = $fopen(LOG_FILE, "wb");
    rs = 64'hD1B5_4A32_D192_ED03;
  end

  // one draw: true with probability thr / 2^32 (advances rs; xorshift64*, hbm_pkg)
  function automatic logic draw_below(logic [31:0] thr);
    rs = hbm_pkg::xs64(rs);
    return hbm_pkg::xs64_out(rs) < thr;
  endfunction

  always @(posedge clk) begin : take
    if (flush && fd != 0) $fflush(fd);
    if (seed_load) rs = (seed == 0) ? 64'hD1B5_4A32_D192_ED03 : seed;
    if (!rst_n) begin
      ready <= 1'b0;
      count <= '0;
    end else begin
      if (valid && ready) begin
        if (fd != 0) $fwrite(fd, "%u%u%u%u", cycle, id, {8'hA5, err_engine, err_table, 4'h0, err}, data);
        count <= count + 1;
      end
      ready <= enable && (stall_thr == 0 || !draw_below(stall_thr));
    end
  end
endmodule
