// Derives the per-layer schedule of the MLP engine from the runtime layer
// shapes, and checks the shapes against the build-time maxima.
//
// Layer l (0 <= l < cfg_num_layers) has fan_in[l] inputs (cfg_in_dim for
// l = 0, else the size of layer l-1) and fan_out[l] outputs. PE p owns the
// neurons n with n % P == p; neuron n is computed in round n / P. One round
// streams beats[l] = ceil(fan_in / U) weight words of U int16 through every
// PE. Weight bank layout (the host / DMA writes it this way, see
// tb/mlp/mlp_layout.py):
//   weight word (layer l, neuron n, beat k) -> bank n % P,
//       address wbase[l] + (n / P) * beats[l] + k, lanes = W[n, k*U +: U]
//       (lanes past fan_in are zero)
//   bias of (l, n) -> bias bank n % P, address bbase[l] + n / P
// with wbase[0] = bbase[0] = 0, wbase[l+1] = wbase[l] + rounds[l] * beats[l],
// bbase[l+1] = bbase[l] + rounds[l], rounds[l] = ceil(fan_out / P).
// INT8 layers (contracts s.8, s.6): an int8 layer packs 2U int8 weights in a
// word (byte j = W[n, k*2U + j]), so beats[l] = ceil(fan_in / (2U)).
// Combinations this build rejects (err_quant, CFG_ERR code 12 at the top,
// err_qlayer = the first layer at fault): a 2:4 flag on a layer in use (this
// build has no 2:4 datapath); a precision or 2:4 flag on a layer >= the
// number of layers; input_shift != 0 while layer 0 is int16.
// VEC_OUT = 1 (mlp_engine's vector-output build, contracts s.6/s.9.3): the
// last layer may have any size; its ceil(fan_out / VEC_LANES) output beats
// must fit the OUT_BEATS-beat output FIFO.
// Base offsets (contracts s.6, s.10.6): every layer's weights start cfg_woff words and
// its biases cfg_boff words further up (two models side by side in one image); a model
// that fits alone but runs past WDEPTH / BDEPTH with its offset is an error (err, and
// err_base: bit 0 weights, bit 1 biases). Offset 0 is the layout above, unchanged.
// Outputs are registered: they follow a configuration change one cycle later.
module mlp_layer_cfg #(
    parameter int P          = 8,
    parameter int U          = 8,
    parameter int FEAT_LANES = 16,
    parameter int MAX_LAYERS = 4,
    parameter int MAX_DIM    = 1024,
    parameter int WDEPTH     = 1024,
    parameter int BDEPTH     = 64,
    parameter bit VEC_OUT    = 1'b0,
    parameter int VEC_LANES  = 16,
    parameter int OUT_BEATS  = 4,
    localparam int DIM_W = $clog2(MAX_DIM + 1),
    localparam int NL_W  = $clog2(MAX_LAYERS + 1),
    localparam int WA_W  = (WDEPTH > 1) ? $clog2(WDEPTH) : 1,
    localparam int BA_W  = (BDEPTH > 1) ? $clog2(BDEPTH) : 1
) (
    input  logic                        clk,
    input  logic [NL_W-1:0]             cfg_num_layers,
    input  logic [DIM_W-1:0]            cfg_in_dim,
    input  logic [MAX_LAYERS*DIM_W-1:0] cfg_out_dims,
    input  logic [MAX_LAYERS-1:0]       cfg_int8,        // layer l runs int8
    input  logic [MAX_LAYERS-1:0]       cfg_sparse,      // layer l 2:4 (not in this build)
    input  logic [3:0]                  cfg_input_shift, // int16 features -> int8 (layer 0 int8)
    input  logic [15:0]                 cfg_woff,        // weight-word offset of the model
    input  logic [15:0]                 cfg_boff,        // bias-word offset of the model
    output logic [DIM_W-1:0]            fan_in  [MAX_LAYERS],
    output logic [DIM_W-1:0]            fan_out [MAX_LAYERS],
    output logic [DIM_W-1:0]            beats   [MAX_LAYERS],
    output logic [DIM_W-1:0]            rounds  [MAX_LAYERS],
    output logic [WA_W-1:0]             wbase   [MAX_LAYERS],
    output logic [BA_W-1:0]             bbase   [MAX_LAYERS],
    output logic [DIM_W-1:0]            feat_beats,
    output logic                        err,
    output logic                        err_quant,
    output logic [7:0]                  err_qlayer,
    output logic [1:0]                  err_base         // fits alone, not at its offset: {biases, weights}
);
    logic [DIM_W-1:0] c_in     [MAX_LAYERS];
    logic [DIM_W-1:0] c_out    [MAX_LAYERS];
    logic [DIM_W-1:0] c_beats  [MAX_LAYERS];
    logic [DIM_W-1:0] c_rounds [MAX_LAYERS];
    logic [WA_W-1:0]  c_wbase  [MAX_LAYERS];
    logic [BA_W-1:0]  c_bbase  [MAX_LAYERS];
    logic             c_err, c_qerr;
    logic [1:0]       c_berr;
    logic [7:0]       c_qlayer;

    always_comb begin
        int nl, wsum, bsum;
        nl   = int'(cfg_num_layers);
        wsum = int'(cfg_woff);
        bsum = int'(cfg_boff);
        c_err = (nl == 0) || (nl > MAX_LAYERS) || (cfg_in_dim == '0)
                || (int'(cfg_in_dim) > MAX_DIM);
        c_qerr   = 1'b0;
        c_qlayer = '0;
        if (cfg_input_shift != 4'd0 && !cfg_int8[0]) c_qerr = 1'b1;
        for (int l = 0; l < MAX_LAYERS; l++) begin
            c_out[l] = cfg_out_dims[l*DIM_W +: DIM_W];
            c_in[l]  = (l == 0) ? cfg_in_dim : cfg_out_dims[((l == 0) ? 0 : l - 1)*DIM_W +: DIM_W];
            c_beats[l]  = cfg_int8[l] ? DIM_W'((int'(c_in[l]) + 2 * U - 1) / (2 * U))
                                      : DIM_W'((int'(c_in[l]) + U - 1) / U);
            if (!c_qerr && (cfg_sparse[l] || (l >= nl && cfg_int8[l]))) begin
                c_qerr   = 1'b1;
                c_qlayer = 8'(l);
            end
            c_rounds[l] = DIM_W'((int'(c_out[l]) + P - 1) / P);
            c_wbase[l]  = WA_W'(wsum);
            c_bbase[l]  = BA_W'(bsum);
            if (l < nl) begin
                wsum = wsum + int'(c_beats[l]) * int'(c_rounds[l]);
                bsum = bsum + int'(c_rounds[l]);
                if (c_out[l] == '0 || int'(c_out[l]) > MAX_DIM) c_err = 1'b1;
                // the last layer yields the one int32 logit, or (VEC_OUT) a vector
                // of beats that fits the output FIFO
                if (l == nl - 1) begin
                    if (!VEC_OUT && int'(c_out[l]) != 1) c_err = 1'b1;
                    if (VEC_OUT && (int'(c_out[l]) + VEC_LANES - 1) / VEC_LANES > OUT_BEATS) c_err = 1'b1;
                end
            end
        end
        // the model's own words from 0: too many is a shape error; fitting only without
        // the offset is a base error
        c_berr = {bsum > BDEPTH && bsum - int'(cfg_boff) <= BDEPTH,
                  wsum > WDEPTH && wsum - int'(cfg_woff) <= WDEPTH};
        if (wsum > WDEPTH || bsum > BDEPTH) c_err = 1'b1;
    end

    always_ff @(posedge clk) begin
        fan_in     <= c_in;
        fan_out    <= c_out;
        beats      <= c_beats;
        rounds     <= c_rounds;
        wbase      <= c_wbase;
        bbase      <= c_bbase;
        feat_beats <= DIM_W'((int'(cfg_in_dim) + FEAT_LANES - 1) / FEAT_LANES);
        err        <= c_err || c_qerr;
        err_quant  <= c_qerr;
        err_qlayer <= c_qlayer;
        err_base   <= c_berr;
    end
endmodule
