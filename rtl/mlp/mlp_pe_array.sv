// P processing elements (mac_pe, U lanes each), each with its own weight bank
// (WDEPTH words of U int16) and bias bank (BDEPTH int32). Output stationary:
// every PE computes one neuron per round; all PEs read the same bank addresses
// and the same U input activations (broadcast) in a beat.
//
// Zero-skipping (contracts s.6, s.8.4): a weight bank is 2U byte columns, each
// its own RAM with its own read address (rd_waddr column j in
// [j*WA_W +: WA_W]); a write stores a whole word (all columns at w_addr). An
// int16 lane i reads columns 2i, 2i+1 at one address, an int8 lane c column c,
// so each lane fetches the weight of the input it was given. Every PE sees the
// same column addresses (the same neurons' rows sit at the same addresses).
//
// Timing: a read request (rd_en, addresses) in cycle t delivers the bank words
// in cycle t+1, where the beat control (in_*) must be presented; the PE result
// appears mac_pe.PE_LATENCY (3) cycles after that. The requantize settings
// (cfg_*) are sampled by mac_pe two cycles after the beat's in_* cycle.
module mlp_pe_array #(
    parameter int P      = 8,
    parameter int U      = 8,
    parameter int ACC_W  = 48,
    parameter int WDEPTH = 1024,
    parameter int BDEPTH = 64,
    localparam int PE_W = (P > 1) ? $clog2(P) : 1,
    localparam int WA_W = (WDEPTH > 1) ? $clog2(WDEPTH) : 1,
    localparam int BA_W = (BDEPTH > 1) ? $clog2(BDEPTH) : 1
) (
    input  logic              clk,
    input  logic              rst_n,
    // bank write port: w_bias selects the bias bank (data in w_data[31:0])
    input  logic              w_we,
    input  logic              w_bias,
    input  logic [PE_W-1:0]   w_pe,
    input  logic [WA_W-1:0]   w_addr,
    input  logic [U*16-1:0]   w_data,
    // read request (cycle t)
    input  logic              rd_en,
    input  logic [2*U*WA_W-1:0] rd_waddr,
    input  logic [BA_W-1:0]   rd_baddr,
    // beat (cycle t+1)
    input  logic              in_valid,
    input  logic              in_first,
    input  logic              in_last,
    input  logic              in_int8,
    input  logic [P-1:0]      in_mask,
    input  logic [U*16-1:0]   in_act,
    // requantize settings (cycle t+3)
    input  logic [3:0]        cfg_frac_bits,
    input  logic              cfg_relu,
    input  logic              cfg_out32,
    input  logic              cfg_out8,
    // results (cycle t+4 for the last beat of a round)
    output logic [P-1:0]      out_valid,
    output logic [31:0]       out_y [P],
    output logic [P-1:0]      out_sat,
    output logic [P-1:0]      out_relu_zero
);
    if (BDEPTH > WDEPTH) begin : g_bad_depth
        $error("mlp_pe_array: BDEPTH=%0d must not exceed WDEPTH=%0d", BDEPTH, WDEPTH);
    end

    for (genvar p = 0; p < P; p++) begin : g_pe
        logic [U*16-1:0] wq;
        logic [31:0]     bq;
        // the raw accumulator is a debug output of mac_pe the engine does not use
        /* verilator lint_off UNUSEDSIGNAL */
        logic [ACC_W-1:0] acc_unused;
        /* verilator lint_on UNUSEDSIGNAL */

        // 2U byte columns, one RAM each (contents undefined until written)
        logic [7:0] wmem [2*U][WDEPTH];
        always_ff @(posedge clk) begin
            for (int j = 0; j < 2 * U; j++) begin
                if (w_we && !w_bias && w_pe == PE_W'(p)) wmem[j][w_addr] <= w_data[8*j +: 8];
                if (rd_en) wq[8*j +: 8] <= wmem[j][rd_waddr[j*WA_W +: WA_W]];
            end
        end

        mlp_ram #(.WIDTH(32), .DEPTH(BDEPTH)) u_bbank (
            .clk   (clk),
            .we    (w_we && w_bias && w_pe == PE_W'(p)),
            .waddr (w_addr[BA_W-1:0]),
            .wdata (w_data[31:0]),
            .re    (rd_en),
            .raddr (rd_baddr),
            .rdata (bq)
        );

        mac_pe #(.LANES(U), .ACC_W(ACC_W)) u_pe (
            .clk           (clk),
            .rst_n         (rst_n),
            .cfg_frac_bits (cfg_frac_bits),
            .cfg_relu      (cfg_relu),
            .cfg_out32     (cfg_out32),
            .cfg_out8      (cfg_out8),
            .in_valid      (in_valid && in_mask[p]),
            .in_first      (in_first),
            .in_last       (in_last),
            .in_int8       (in_int8),
            .in_a          (in_act),
            .in_b          (wq),
            .in_bias       (bq),
            .out_valid     (out_valid[p]),
            .out_y         (out_y[p]),
            .out_acc       (acc_unused),
            .out_sat       (out_sat[p]),
            .out_relu_zero (out_relu_zero[p])
        );
    end
endmodule
