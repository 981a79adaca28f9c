// MAC processing element: LANES int16 x int16 products per cycle summed into
// one ACC_W accumulator, then the fixed-point requantize of design.md s.3.
// Contract details: docs/contracts.md s.3-4 and s.8. Fixed latency PE_LATENCY = 3:
//   edge 1: products registered; edge 2: accumulator; edge 3: requantized out.
//
// INT8 (contracts s.8, per beat `in_int8`): each 16-bit lane carries two int8
// values, low byte and high byte, and the lane yields a_lo*b_lo + a_hi*b_hi.
// Each lane's multiplier is built from four 9x9 signed partial products:
// in int16 mode the low bytes are zero-extended and the four form the int16
// product (hh<<16 + (hl+lh)<<8 + ll); in int8 mode the low bytes are
// sign-extended and only hh + ll is used. Two int8 MACs per lane per cycle
// cost no extra multiplier, only the 9th bit of each partial product (a 9x9
// array instead of 8x8: 4x81 = 324 partial-product bits against 256 for a
// plain 16x16, +27%) and a 2:1 mux on the lane sum.
module mac_pe #(
    parameter int LANES = 1,
    parameter int ACC_W = 48
) (
    input  logic                    clk,
    input  logic                    rst_n,
    // runtime configuration; must be stable while a dot product is in flight
    input  logic [3:0]              cfg_frac_bits,
    input  logic                    cfg_relu,
    input  logic                    cfg_out32,
    input  logic                    cfg_out8,      // hidden layer feeding an int8 layer: sat8
    // one beat: LANES (a, b) pairs, lane i in bits [16*i +: 16]
    input  logic                    in_valid,
    input  logic                    in_first,
    input  logic                    in_last,
    input  logic                    in_int8,       // two int8 MACs per lane (packed bytes)
    input  logic [LANES*16-1:0]     in_a,
    input  logic [LANES*16-1:0]     in_b,
    input  logic [31:0]             in_bias,
    // result of a dot product, one cycle pulse
    output logic                    out_valid,
    output logic [31:0]             out_y,
    output logic [ACC_W-1:0]        out_acc,
    output logic                    out_sat,
    output logic                    out_relu_zero
);
    localparam int PROD_W = 32;
    // log2(LANES) growth bits keep the lane sum exact before it meets ACC_W
    localparam int SUM_W  = PROD_W + $clog2(LANES + 1);

    // elaboration-time check: a narrower accumulator could wrap silently
    if (ACC_W < SUM_W || ACC_W > 64) begin : g_bad_acc_w
        $error("mac_pe: ACC_W=%0d must be in [%0d, 64]", ACC_W, SUM_W);
    end

    // ---- stage 1: products ------------------------------------------------
    logic                     s1_valid, s1_first, s1_last;
    logic signed [PROD_W-1:0] s1_prod [LANES];
    logic signed [31:0]       s1_bias;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            s1_valid <= 1'b0;
            s1_first <= 1'b0;
            s1_last  <= 1'b0;
        end else begin
            s1_valid <= in_valid;
            s1_first <= in_first;
            s1_last  <= in_last;
        end
    end

    logic signed [PROD_W-1:0] prod [LANES];
    always_comb begin
        for (int i = 0; i < LANES; i++) begin
            logic signed [8:0]  a_lo, a_hi, b_lo, b_hi;
            logic signed [17:0] ll, hh, lh, hl;
            a_hi = $signed({in_a[16*i + 15], in_a[16*i + 8 +: 8]});
            b_hi = $signed({in_b[16*i + 15], in_b[16*i + 8 +: 8]});
`ifdef INJECT_BUGS
            // injected bug (+MAC_PE_BUG_INT8_UNSIGNED): the low int8 byte of a lane is read unsigned in int8 mode
            if ($test$plusargs("MAC_PE_BUG_INT8_UNSIGNED")) a_lo = $signed({1'b0, in_a[16*i +: 8]});
            else
`endif
            a_lo = $signed({in_int8 && in_a[16*i + 7], in_a[16*i +: 8]});
            b_lo = $signed({in_int8 && in_b[16*i + 7], in_b[16*i +: 8]});
            ll = a_lo * b_lo;
            hh = a_hi * b_hi;
            lh = a_lo * b_hi;
            hl = a_hi * b_lo;
            prod[i] = in_int8 ? PROD_W'(hh) + PROD_W'(ll)
                              : (PROD_W'(hh) <<< 16) + ((PROD_W'(lh) + PROD_W'(hl)) <<< 8) + PROD_W'(ll);
        end
    end

    always_ff @(posedge clk) begin
        if (in_valid) begin
            for (int i = 0; i < LANES; i++) begin
                s1_prod[i] <= prod[i];
            end
            s1_bias <= $signed(in_bias);
        end
    end

    // ---- stage 2: lane sum and accumulate ----------------------------------
    logic signed [SUM_W-1:0] lane_sum;
    always_comb begin
        lane_sum = '0;
        for (int i = 0; i < LANES; i++) begin
            lane_sum = lane_sum + SUM_W'(s1_prod[i]);
        end
    end

    logic signed [ACC_W-1:0] acc;
    logic signed [ACC_W-1:0] acc_base;
    logic                    s2_done;
    assign acc_base = s1_first ? ACC_W'(s1_bias) : acc;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            s2_done <= 1'b0;
        end else begin
            s2_done <= s1_valid && s1_last;
        end
    end

    always_ff @(posedge clk) begin
        if (s1_valid) begin
`ifdef INJECT_BUGS
            // injected bug (+MAC_PE_BUG_ACC_DROP_FIRST): the first beat of a dot product is lost
            if ($test$plusargs("MAC_PE_BUG_ACC_DROP_FIRST")) acc <= s1_first ? ACC_W'(s1_bias) : acc_base + ACC_W'(lane_sum);
            else
`endif
            acc <= acc_base + ACC_W'(lane_sum);
        end
    end

    // ---- stage 3: requantize ------------------------------------------------
    // One extra bit so adding the rounding half can never wrap.
    logic signed [ACC_W:0] rounded;
    logic        [15:0]    half;      // 2^(F-1), F <= 15
    logic signed [ACC_W:0] shifted;
    logic                  hi8, lo8, hi16, lo16, hi32, lo32;
    logic signed [31:0]    y_sat;
    logic                  sat_hit;

    always_comb begin
`ifdef INJECT_BUGS
        // injected bug (+MAC_PE_BUG_ROUND_TRUNC): truncate instead of round half up
        if ($test$plusargs("MAC_PE_BUG_ROUND_TRUNC")) half = '0;
        else
`endif
        // F = 0 is outside the contract (1..14); treat it as "no rounding"
        half = (cfg_frac_bits == 4'd0) ? '0 : 16'(1) << (cfg_frac_bits - 4'd1);
        rounded = (ACC_W+1)'(acc) + $signed({{(ACC_W-15){1'b0}}, half});
        shifted = rounded >>> cfg_frac_bits;
        hi8  = shifted > (ACC_W+1)'(127);
        lo8  = shifted < -(ACC_W+1)'(128);
        hi16 = shifted > (ACC_W+1)'(32767);
        lo16 = shifted < -(ACC_W+1)'(32768);
        hi32 = shifted > (ACC_W+1)'(64'sh7FFF_FFFF);
        lo32 = shifted < -(ACC_W+1)'(64'sh8000_0000);
        if (cfg_out32) begin
            sat_hit = hi32 || lo32;
            y_sat   = hi32 ? 32'sh7FFF_FFFF : lo32 ? 32'sh8000_0000 : shifted[31:0];
        end else if (cfg_out8) begin
            sat_hit = hi8 || lo8;
`ifdef INJECT_BUGS
            // injected bug (+MAC_PE_BUG_SAT8_BOUND): positive int8 saturation one below the maximum
            if ($test$plusargs("MAC_PE_BUG_SAT8_BOUND")) y_sat = hi8 ? 32'sd126 : lo8 ? -32'sd128 : shifted[31:0];
            else
`endif
            y_sat   = hi8 ? 32'sd127 : lo8 ? -32'sd128 : shifted[31:0];
        end else begin
            sat_hit = hi16 || lo16;
`ifdef INJECT_BUGS
            // injected bug (+MAC_PE_BUG_SAT_BOUND): positive saturation one below the int16 maximum
            if ($test$plusargs("MAC_PE_BUG_SAT_BOUND")) y_sat = hi16 ? 32'sd32766 : lo16 ? -32'sd32768 : shifted[31:0];
            else
`endif
            y_sat   = hi16 ? 32'sd32767 : lo16 ? -32'sd32768 : shifted[31:0];
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
        end else begin
            out_valid <= s2_done;
        end
    end

    always_ff @(posedge clk) begin
        if (s2_done) begin
            out_acc       <= acc;
            out_sat       <= sat_hit;
            out_relu_zero <= cfg_relu && !cfg_out32 && y_sat[31];
            out_y         <= (cfg_relu && !cfg_out32 && y_sat[31]) ? '0 : y_sat;
        end
    end
endmodule
