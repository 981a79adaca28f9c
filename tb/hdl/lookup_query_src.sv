// lookup_query_src: a bench-side query source for the lookup harness's batched
// mode (tb/lookup/batch.py). Python writes a whole batch of queries to a file
// and pulses `load`; from then on this module drives the query stream by
// itself, with no Python per query or per cycle:
//   - $fread reads `count` words {indices (T_MAX x 32 bits, table 0 low), id (32 bits)}
//     from QUERY_FILE, binary, 4*(T_MAX+1) bytes per word, most significant byte first;
//   - before each query it idles one cycle with probability idle_thr / 2^32, drawn again
//     each idle cycle (the pyuvm driver's in_idle_prob, from its own seeded generator:
//     xorshift64* seeded with `seed` at the load);
//   - valid stays high until ready (AXI-stream: the payload does not move meanwhile);
//   - each accepted query is logged to LOG_FILE as a 12-byte binary record ($fwrite %u:
//     little endian), the memory model's cycle counter in the handshake cycle (8 bytes)
//     and the id (4 bytes).
// `busy` is high from the load until the last query of the batch is accepted; `sent`
// counts the batch's accepted queries. A load while busy is a bench error ($fatal).
// The log is flushed with the memory model's (OP_FLUSH_LOG on its command port).
// Behavioural testbench code: int/longint arithmetic is mixed with port widths on purpose.
/* verilator lint_off WIDTH */
module lookup_query_src #(
  parameter int T_MAX      = 16,
  parameter int DEPTH      = 1024,       // queries per load
  parameter     QUERY_FILE = "lookup_batch_queries.bin",
  parameter     LOG_FILE   = "lookup_batch_sent.bin"
) (
  input  logic                   clk,
  input  logic                   rst_n,
  input  logic                   load,
  input  logic [31:0]            count,
  input  logic [31:0]            idle_thr,
  input  logic [63:0]            seed,
  input  logic [63:0]            cycle,
  input  logic                   flush,
  output logic                   valid,
  input  logic                   ready,
  output logic [31:0]            id,
  output logic [T_MAX*32-1:0]    idx,
  output logic                   busy,
  output logic [31:0]            sent
);
  localparam int W = T_MAX * 32 + 32;
  logic [W-1:0] mem [DEPTH];
  int fd, qfd, got;
  int unsigned n, k;
  longint unsigned rs;

  initial begin
    fd = $fopen(LOG_FILE, "wb");
    n = 0;
    k = 0;
    rs = 64'h9E37_79B9_7F4A_7C15;
  end

  // one draw: true with probability thr / 2^32 (advances rs; xorshift64*, hbm_pkg)
  function automatic logic draw_below(logic [31:0] thr);
    rs = hbm_pkg::xs64(rs);
    return hbm_pkg::xs64_out(rs) < thr;
  endfunction

  always @(posedge clk) begin : drive
    logic take;
    if (flush && fd != 0) $fflush(fd);
    if (!rst_n) begin
      valid <= 1'b0;
      busy  <= 1'b0;
      sent  <= '0;
      n = 0;
      k = 0;
    end else begin
      take = valid && ready;
      if (take) begin
        if (fd != 0) $fwrite(fd, "%u%u", cycle, id);
        k = k + 1;
      end
      if (load) begin
        if (k < n) $fatal(1, "lookup_query_src: load with %0d queries of the batch not yet accepted", n - k);
        if (count > DEPTH) $fatal(1, "lookup_query_src: batch of %0d queries exceeds DEPTH=%0d", count, DEPTH);
        if (count != 0) begin
          qfd = $fopen(QUERY_FILE, "rb");
          if (qfd == 0) $fatal(1, "lookup_query_src: cannot open %s", QUERY_FILE);
          got = $fread(mem, qfd, 0, count);
          $fclose(qfd);
          if (got != count * (W / 8))
            $fatal(1, "lookup_query_src: read %0d bytes of %s, expected %0d", got, QUERY_FILE, count * (W / 8));
        end
        n = count;
        k = 0;
        rs = (seed == 0) ? 64'h9E37_79B9_7F4A_7C15 : seed;   // xorshift needs a non-zero state
      end
      if (valid && !take) begin
        // hold the offer until it is taken
      end else if (k < n) begin
        if (idle_thr != 0 && draw_below(idle_thr)) begin
          valid <= 1'b0;                  // an idle cycle; drawn again next cycle
        end else begin
          valid      <= 1'b1;
          {idx, id}  <= mem[k];
        end
      end else begin
        valid <= 1'b0;
      end
      busy <= (k < n);
      sent <= k;
    end
  end
endmodule
