// MLP engine: P output-stationary PEs x U MAC lanes run every layer of the
// MLP (design.md s.3) with runtime layer shapes up to build-time maxima.
//
// Dataflow
// - Activations live in MAX_LAYERS ping-pong buffers: buffer 0 holds input
//   feature vectors (filled by the feat_* stream), buffer b >= 1 holds the
//   output of layer b-1. Each buffer has two halves with a `full` flag, so
//   every layer boundary is a 2-deep queue of whole activation vectors.
// - A *job* is one layer of one inference: layer j reads a full half of
//   buffer j and writes a free half of buffer j+1 (the last layer writes the
//   logit FIFO instead). Jobs run one at a time on the whole array, back to
//   back without a bubble; the scheduler picks the deepest layer whose input
//   is full and whose destination is free, so up to MAX_LAYERS inferences are
//   in flight at different layers and a layer never waits for its own
//   predecessor's pipeline to drain (work from another inference fills it).
// - Within a job, PE p computes neurons p, p+P, ... (one per round). A beat
//   broadcasts U input activations to all PEs and reads U weights from each
//   PE's bank at one shared address; a round takes ceil(fan_in/U) beats and
//   ends with P results written to the destination at once.
// - Output backpressure: a last-layer job starts only when it can reserve a
//   slot in the logit FIFO, so a stalled consumer stalls the pipeline and
//   nothing is dropped.
// - INT8 and zero-skipping (contracts s.6, s.8): a layer runs int16 (S = U
//   inputs a beat) or int8 (S = 2U, two int8 MACs per lane; its weight words
//   pack 2U bytes). Beats follow the residue-class schedule: lane c (of S)
//   takes the inputs i with i % S == c, in order, one per beat, reading its
//   own weight W[n, i] at word i / S of the round; a round ends when every
//   lane has issued all of its inputs (at least one beat). Dense
//   (cfg_zero_skip = 0) a lane takes every input below the fan-in, which is
//   exactly ceil(fan_in / S) beats with all lanes in step (the int16 schedule
//   of old); with cfg_zero_skip = 1 it takes only the non-zero ones, so a
//   round costs max(1, max_c nnz_c) beats. Each stored activation keeps a
//   non-zero flag, written with it. Layer-0 int8 features are converted on
//   the way in: sat8(rshift(x, cfg_input_shift)).
// - Vector output (VEC_OUT = 1, contracts s.6 / s.9.3; a DLRM bottom MLP): the
//   last layer runs with the hidden-layer rule (ReLU, sat16) and all of its
//   out_dim results leave as one vector per inference on the same out_*
//   stream: ceil(out_dim / VEC_LANES) beats of VEC_LANES int16 (out_vec,
//   element e in lane e % VEC_LANES of beat e / VEC_LANES, lanes past the end
//   0), out_last on the last beat, out_tag on every beat; out_logit is 0.
//   OUT_DEPTH then counts beats, and a last-layer job reserves all of its
//   vector's beats before it starts (a larger vector is a cfg_err). With
//   VEC_OUT = 0 out_vec is 0 and out_last 1 (a logit is a one-beat item).
// Weight/bias bank layout: see mlp_layer_cfg.sv. Configuration inputs must be
// stable while `idle` is low; after changing them wait 2 cycles before
// sending features.
module mlp_engine #(
    parameter int P          = 8,
    parameter int U          = 8,
    parameter int ACC_W      = 48,
    parameter int MAX_LAYERS = 4,
    parameter int MAX_DIM    = 1024,
    parameter int WDEPTH     = 1024,
    parameter int BDEPTH     = 64,
    parameter int FEAT_LANES = 16,
    parameter int ID_W       = 16,
    parameter int OUT_DEPTH  = 4,
    parameter int CNT_W      = 48,
    parameter bit VEC_OUT    = 1'b0,   // last layer: 0 the int32 logit, 1 a relu(sat16) vector
    parameter int VEC_LANES  = 16,     // VEC_OUT: int16 elements per output beat (a multiple of P)
    localparam int DIM_W = $clog2(MAX_DIM + 1),
    localparam int NL_W  = $clog2(MAX_LAYERS + 1),
    localparam int LI_W  = (MAX_LAYERS > 1) ? $clog2(MAX_LAYERS) : 1,
    localparam int PE_W  = (P > 1) ? $clog2(P) : 1,
    localparam int WA_W  = (WDEPTH > 1) ? $clog2(WDEPTH) : 1,
    localparam int BA_W  = (BDEPTH > 1) ? $clog2(BDEPTH) : 1
) (
    input  logic                        clk,
    input  logic                        rst_n,
    // ---- layer configuration (a CSR block drives these) -----------------
    input  logic [NL_W-1:0]             cfg_num_layers,
    input  logic [DIM_W-1:0]            cfg_in_dim,     // feature length
    input  logic [MAX_LAYERS*DIM_W-1:0] cfg_out_dims,   // layer l size in [l*DIM_W +: DIM_W]
    input  logic [MAX_LAYERS*4-1:0]     cfg_shift,      // layer l shift in [l*4 +: 4], 0..15
    input  logic [MAX_LAYERS-1:0]       cfg_int8,       // layer l runs int8
    input  logic [MAX_LAYERS-1:0]       cfg_sparse,     // layer l 2:4 (rejected: not in this build)
    input  logic [3:0]                  cfg_input_shift,// layer-0 int8 conversion shift q
    input  logic                        cfg_zero_skip,  // skip zero activations
    input  logic [15:0]                 cfg_wbase_off,  // the model's weights start here (s.10.6; 0: s.6)
    input  logic [15:0]                 cfg_bbase_off,  // the model's biases start here
    output logic                        cfg_err,        // shapes exceed the build maxima, or cfg_err_quant
    output logic                        cfg_err_quant,  // an illegal precision / 2:4 combination
    output logic [7:0]                  cfg_err_qlayer, // its first layer
    output logic [1:0]                  cfg_err_base,   // past WDEPTH (bit 0) / BDEPTH (bit 1) at its offset
    output logic                        idle,           // nothing in flight
    // ---- weight / bias bank write port (the DMA drives it) ---------------
    input  logic                        w_we,
    input  logic                        w_bias,
    input  logic [PE_W-1:0]             w_pe,
    input  logic [WA_W-1:0]             w_addr,
    input  logic [U*16-1:0]             w_data,
    // ---- feature vectors in: ceil(in_dim / FEAT_LANES) beats each --------
    input  logic                        feat_valid,
    output logic                        feat_ready,
    input  logic [FEAT_LANES*16-1:0]    feat_data,
    input  logic [ID_W-1:0]             feat_tag,       // sampled on the last beat
    // ---- logits out, in input order -------------------------------------
    output logic                        out_valid,
    input  logic                        out_ready,
    output logic [31:0]                 out_logit,
    output logic [ID_W-1:0]             out_tag,
    output logic [VEC_LANES*16-1:0]     out_vec,        // VEC_OUT: one beat of the vector (else 0)
    output logic                        out_last,       // VEC_OUT: last beat of a vector (else 1)
    // ---- performance counters --------------------------------------------
    input  logic                        perf_clear,
    output logic [CNT_W-1:0]            perf_cycles,     // cycles since clear
    output logic [CNT_W-1:0]            perf_idle,       // array issued no beat
    output logic [CNT_W-1:0]            perf_out_stall,  // out_valid && !out_ready
    output logic [MAX_LAYERS*CNT_W-1:0] perf_busy,       // beats issued for layer l
    output logic [MAX_LAYERS*CNT_W-1:0] perf_macs,       // useful MACs of layer l
    output logic [MAX_LAYERS*CNT_W-1:0] perf_stall_dst,  // input waiting, destination full
    output logic [MAX_LAYERS*CNT_W-1:0] perf_stall_arr,  // input waiting, array busy elsewhere
    output logic [MAX_LAYERS*CNT_W-1:0] perf_sat,        // outputs clipped by saturation
    output logic [MAX_LAYERS*CNT_W-1:0] perf_relu0       // outputs clipped to 0 by ReLU
);
    if (MAX_LAYERS < 2) begin : g_bad_layers
        $error("mlp_engine: MAX_LAYERS=%0d must be >= 2", MAX_LAYERS);
    end
    if (VEC_OUT && (VEC_LANES < P || VEC_LANES % P != 0)) begin : g_bad_vec_lanes
        $error("mlp_engine: VEC_LANES=%0d must be a multiple of P=%0d", VEC_LANES, P);
    end

    // ---------------------------------------------------------------------
    // derived configuration
    // ---------------------------------------------------------------------
    logic [DIM_W-1:0] l_in [MAX_LAYERS], l_out [MAX_LAYERS];
    logic [DIM_W-1:0] l_beats [MAX_LAYERS], l_rounds [MAX_LAYERS];
    logic [WA_W-1:0]  l_wbase [MAX_LAYERS];
    logic [BA_W-1:0]  l_bbase [MAX_LAYERS];
    logic [DIM_W-1:0] feat_beats;
    logic             err;

    mlp_layer_cfg #(
        .P(P), .U(U), .FEAT_LANES(FEAT_LANES), .MAX_LAYERS(MAX_LAYERS),
        .MAX_DIM(MAX_DIM), .WDEPTH(WDEPTH), .BDEPTH(BDEPTH),
        .VEC_OUT(VEC_OUT), .VEC_LANES(VEC_LANES), .OUT_BEATS(OUT_DEPTH)
    ) u_cfg (
        .clk(clk), .cfg_num_layers(cfg_num_layers), .cfg_in_dim(cfg_in_dim),
        .cfg_out_dims(cfg_out_dims), .cfg_int8(cfg_int8), .cfg_sparse(cfg_sparse),
        .cfg_input_shift(cfg_input_shift), .cfg_woff(cfg_wbase_off), .cfg_boff(cfg_bbase_off), .fan_in(l_in), .fan_out(l_out), .beats(l_beats),
        .rounds(l_rounds), .wbase(l_wbase), .bbase(l_bbase), .feat_beats(feat_beats),
        .err(err), .err_quant(cfg_err_quant), .err_qlayer(cfg_err_qlayer),
        .err_base(cfg_err_base)
    );
    assign cfg_err = err;

    logic [LI_W-1:0] last_layer;
    assign last_layer = LI_W'(int'(cfg_num_layers) - 1);

    // ---------------------------------------------------------------------
    // activation buffers and their flags
    // ---------------------------------------------------------------------
    logic [15:0]     abuf  [MAX_LAYERS][2][MAX_DIM];
    logic [MAX_DIM-1:0] anz [MAX_LAYERS][2];   // activation i of the half is non-zero
    logic [ID_W-1:0] atag  [MAX_LAYERS][2];
    logic [1:0]      full  [MAX_LAYERS];   // half holds a complete vector
    logic [1:0]      wbusy [MAX_LAYERS];   // half claimed by a running job
    logic            rd_ptr [MAX_LAYERS];  // next half a job of this layer reads
    logic            wr_ptr [MAX_LAYERS];  // next half written into this buffer
    logic [DIM_W-1:0] fcnt;                // feature beats received of this vector
    localparam int OC_W = $clog2(OUT_DEPTH + 1);
    logic [OC_W-1:0] out_resv;             // logit slots (VEC_OUT: beats) reserved or occupied
    // output slots a last-layer job takes: 1 logit, or (VEC_OUT) its vector's beats
    // (cfg_err keeps the count <= OUT_DEPTH whenever a job may start)
    logic [OC_W-1:0] job_slots;
    assign job_slots = VEC_OUT ? OC_W'((int'(l_out[last_layer]) + VEC_LANES - 1) / VEC_LANES) : OC_W'(1);

    // ---------------------------------------------------------------------
    // job selection: deepest layer with a full input and a free destination
    // ---------------------------------------------------------------------
    logic [MAX_LAYERS-1:0] in_rdy, dst_free, can;
    always_comb begin
        for (int j = 0; j < MAX_LAYERS; j++) begin
            in_rdy[j] = (j < int'(cfg_num_layers)) && full[j][rd_ptr[j]];
            if (j == int'(cfg_num_layers) - 1) begin
                dst_free[j] = int'(out_resv) + int'(job_slots) <= OUT_DEPTH;
            end else begin
                dst_free[j] = !full[(j + 1) % MAX_LAYERS][wr_ptr[(j + 1) % MAX_LAYERS]]
                           && !wbusy[(j + 1) % MAX_LAYERS][wr_ptr[(j + 1) % MAX_LAYERS]];
            end
            can[j] = in_rdy[j] && dst_free[j] && !err;
        end
    end

    logic [LI_W-1:0] pick;
    always_comb begin
        pick = '0;
        for (int j = 0; j < MAX_LAYERS; j++) begin
            if (can[j]) pick = LI_W'(j);
        end
    end

    // ---------------------------------------------------------------------
    // the running job
    // ---------------------------------------------------------------------
    logic             active;
    logic [LI_W-1:0]  cur_layer;
    logic             cur_hi, cur_ho, cur_lastl;
    logic [DIM_W-1:0] cur_in, cur_out, cur_beats, cur_rounds;
    logic [3:0]       cur_shift;
    logic             cur_int8, cur_out8;
    logic [ID_W-1:0]  cur_tag;
    logic [DIM_W-1:0] r;              // round
    logic             rfirst;         // the next beat is the first of its round
    logic [DIM_W-1:0] nbase;          // first neuron of this round
    logic [WA_W-1:0]  rbase;          // weight word of beat 0 of this round
    logic [BA_W-1:0]  baddr;

    // ---- per-lane schedule (residue classes) ------------------------------
    localparam int S_MAX = 2 * U;                     // lanes of an int8 layer
    localparam int KW    = (MAX_DIM + U - 1) / U;     // inputs per lane, at most
    localparam int KI_W  = (KW > 1) ? $clog2(KW) : 1;
    logic [KW-1:0]   lmask [S_MAX];    // inputs lane c has still to issue in this round
    logic [KW-1:0]   imask [S_MAX];    // a round's initial masks
    logic [KW-1:0]   lmask_nx [S_MAX]; // after this beat
    logic [KI_W-1:0] lk [S_MAX];       // word of lane c's input this beat
    logic [S_MAX-1:0] lhas;            // lane c issues an input this beat
    logic            beat_last;

    // initial masks of a round: of the job that starts now, else of the running job
    logic             m_int8;
    logic [DIM_W-1:0] m_in;
    logic [MAX_DIM-1:0] m_vec;
    always_comb begin
        int fan;
        logic [MAX_DIM-1:0] v;
        m_int8 = start ? cfg_int8[pick] : cur_int8;
        m_in   = start ? l_in[pick] : cur_in;
        m_vec  = start ? anz[pick][rd_ptr[pick]] : anz[cur_layer][cur_hi];
        fan = int'(m_in);
        for (int i = 0; i < MAX_DIM; i++) begin
            v[i] = (i < fan) && (m_vec[i] || !cfg_zero_skip);
        end
        for (int c = 0; c < S_MAX; c++) begin
            for (int kk = 0; kk < KW; kk++) begin
                if (m_int8) begin
                    imask[c][kk] = (kk * S_MAX + c < MAX_DIM) ? v[(kk * S_MAX + c) % MAX_DIM] : 1'b0;
                end else begin
                    imask[c][kk] = (c < U && kk * U + c < MAX_DIM) ? v[(kk * U + c) % MAX_DIM] : 1'b0;
                end
            end
        end
    end

    // each lane's next input: the lowest set bit of its mask
    always_comb begin
        beat_last = 1'b1;
        for (int c = 0; c < S_MAX; c++) begin
            lhas[c]     = |lmask[c];
            lk[c]       = '0;
            for (int kk = KW - 1; kk >= 0; kk--) begin
                if (lmask[c][kk]) lk[c] = KI_W'(kk);
            end
            lmask_nx[c] = lmask[c] & (lmask[c] - KW'(1));
            if (lmask_nx[c] != '0) beat_last = 1'b0;
        end
    end

    // the column addresses of the weight banks and the activation indices
    logic [2*U*WA_W-1:0] col_addr;
    logic [DIM_W-1:0]    lidx [S_MAX];
    always_comb begin
        for (int c = 0; c < S_MAX; c++) begin
`ifdef INJECT_BUGS
            // injected bug (+MLP_ENGINE_BUG_SKIP_INDEX): int8 lanes index activations with the int16 stride
            if ($test$plusargs("MLP_ENGINE_BUG_SKIP_INDEX")) lidx[c] = DIM_W'(int'(lk[c]) * U + c);
            else
`endif
            lidx[c] = cur_int8 ? DIM_W'(int'(lk[c]) * S_MAX + c) : DIM_W'(int'(lk[c]) * U + c);
        end
        for (int j = 0; j < 2 * U; j++) begin
            col_addr[j*WA_W +: WA_W] = rbase + WA_W'(lk[cur_int8 ? j : j / 2]);
        end
    end

    logic job_last_beat, start;
    assign job_last_beat = active && beat_last && (r == cur_rounds - DIM_W'(1));
    assign start         = (|can) && (!active || job_last_beat);

    // ---- stage-1 beat control (aligned with the bank read data) ---------
    typedef struct packed {
        logic             valid;     // a beat
        logic             first;
        logic             last;      // last beat of a round
        logic             job_end;   // last beat of the job
        logic             lastl;     // job of the last layer
        logic [LI_W-1:0]  layer;
        logic             ho;        // destination half
        logic [DIM_W-1:0] nbase;
        logic [3:0]       shift;
        logic             int8;      // an int8 beat
        logic             out8;      // the layer's output is int8 (sat8)
        logic [ID_W-1:0]  tag;
    } beat_t;
    beat_t           s1, s2, s3;
    // the write-back stage uses only part of the bundle (not first/shift)
    /* verilator lint_off UNUSEDSIGNAL */
    beat_t           s4;
    /* verilator lint_on UNUSEDSIGNAL */
    logic [P-1:0]    s1_mask, s2_mask, s3_mask, s4_mask;
    logic [U*16-1:0] s1_act;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            active   <= 1'b0;
            for (int b = 0; b < MAX_LAYERS; b++) begin
                full[b]   <= '0;
                wbusy[b]  <= '0;
                rd_ptr[b] <= 1'b0;
                wr_ptr[b] <= 1'b0;
            end
            fcnt     <= '0;
            out_resv <= '0;
        end else begin
            // ---- feature stream into buffer 0 ----
            if (feat_valid && feat_ready) begin
                if (fcnt == feat_beats - DIM_W'(1)) begin
                    fcnt         <= '0;
                    full[0][wr_ptr[0]] <= 1'b1;
                    atag[0][wr_ptr[0]] <= feat_tag;
                    wr_ptr[0]    <= !wr_ptr[0];
                end else begin
                    fcnt <= fcnt + DIM_W'(1);
                end
            end
            // ---- job sequencing ----
            if (active && !job_last_beat) begin
                if (beat_last) begin
                    rfirst <= 1'b1;
                    r     <= r + DIM_W'(1);
                    baddr <= baddr + BA_W'(1);
                    nbase <= nbase + DIM_W'(P);
                    rbase <= WA_W'(int'(rbase) + int'(cur_beats));
                    lmask <= imask;
                end else begin
                    rfirst <= 1'b0;
                    lmask  <= lmask_nx;
                end
            end
            if (job_last_beat) begin
                full[cur_layer][cur_hi] <= 1'b0;   // input consumed: release the half
                active <= 1'b0;
            end
            if (start) begin
                active     <= 1'b1;
                cur_layer  <= pick;
`ifdef INJECT_BUGS
                // injected bug (+MLP_ENGINE_BUG_PINGPONG): layer 0 always reads feature half 0
                if ($test$plusargs("MLP_ENGINE_BUG_PINGPONG")) cur_hi <= (pick == '0) ? 1'b0 : rd_ptr[pick];
                else
`endif
                cur_hi     <= rd_ptr[pick];
                cur_ho     <= wr_ptr[(int'(pick) + 1) % MAX_LAYERS];
                cur_lastl  <= (pick == last_layer);
                cur_in     <= l_in[pick];
                cur_out    <= l_out[pick];
                cur_beats  <= l_beats[pick];
                cur_rounds <= l_rounds[pick];
                cur_shift  <= cfg_shift[int'(pick)*4 +: 4];
                cur_int8   <= cfg_int8[pick];
                cur_out8   <= (pick != last_layer) && cfg_int8[(int'(pick) + 1) % MAX_LAYERS];
                cur_tag    <= atag[pick][rd_ptr[pick]];
                r          <= '0;
                rfirst     <= 1'b1;
                nbase      <= '0;
                rbase      <= l_wbase[pick];
                baddr      <= l_bbase[pick];
                lmask      <= imask;
                rd_ptr[pick] <= !rd_ptr[pick];
                if (pick == last_layer) begin
                    out_resv <= out_resv + job_slots - OC_W'(out_valid && out_ready);
                end else begin
                    wr_ptr[int'(pick) + 1] <= !wr_ptr[int'(pick) + 1];
                    wbusy[int'(pick) + 1][wr_ptr[int'(pick) + 1]] <= 1'b1;
                end
            end
            if (!(start && pick == last_layer) && out_valid && out_ready) begin
                out_resv <= out_resv - OC_W'(1);
            end
            // ---- write-back completes a job: the destination half is full ----
            if (s4.valid && s4.job_end && !s4.lastl) begin
                full[int'(s4.layer) + 1][s4.ho]  <= 1'b1;
                wbusy[int'(s4.layer) + 1][s4.ho] <= 1'b0;
                atag[int'(s4.layer) + 1][s4.ho]  <= s4.tag;
            end
        end
    end

    // feature data and write-back data (no reset: contents are don't-care
    // until their full flag says otherwise)
    logic [P-1:0]  pe_valid, pe_sat, pe_relu0;
    logic [31:0]   pe_y [P];
    logic          wb;
    assign wb = s4.valid && s4.last && !s4.lastl;

    // layer-0 input: unchanged for int16, sat8(rshift(x, q)) for int8 (contracts s.8.1)
    logic [15:0] feat_in [FEAT_LANES];
    always_comb begin
        for (int i = 0; i < FEAT_LANES; i++) begin
            logic signed [16:0] x, rs;
            x  = $signed({feat_data[16*i + 15], feat_data[16*i +: 16]});
            rs = (cfg_input_shift == 4'd0) ? x
               : (x + (17'sd1 <<< (cfg_input_shift - 4'd1))) >>> cfg_input_shift;
            if (!cfg_int8[0])        feat_in[i] = feat_data[16*i +: 16];
            else if (rs > 17'sd127)  feat_in[i] = 16'sd127;
            else if (rs < -17'sd128) feat_in[i] = -16'sd128;
            else                     feat_in[i] = rs[15:0];
        end
    end

    always_ff @(posedge clk) begin
        if (feat_valid && feat_ready) begin
            for (int i = 0; i < FEAT_LANES; i++) begin
                if (int'(fcnt) * FEAT_LANES + i < int'(cfg_in_dim)) begin
                    abuf[0][wr_ptr[0]][int'(fcnt) * FEAT_LANES + i] <= feat_in[i];
                    anz[0][wr_ptr[0]][int'(fcnt) * FEAT_LANES + i]  <= feat_in[i] != '0;
                end
            end
        end
        if (wb) begin
            for (int p = 0; p < P; p++) begin
                if (s4_mask[p]) begin
                    abuf[int'(s4.layer) + 1][s4.ho][int'(s4.nbase) + p] <= pe_y[p][15:0];
                    anz[int'(s4.layer) + 1][s4.ho][int'(s4.nbase) + p]  <= pe_y[p][15:0] != '0;
                end
            end
        end
    end

    // ---- stage 0 -> 1: beat control and broadcast activations ----------
    logic [P-1:0] mask0;
    always_comb begin
        for (int p = 0; p < P; p++) begin
`ifdef INJECT_BUGS
            // injected bug (+MLP_ENGINE_BUG_LAST_NEURON): the last neuron of every layer is never computed
            if ($test$plusargs("MLP_ENGINE_BUG_LAST_NEURON")) mask0[p] = int'(nbase) + p + 1 < int'(cur_out);
            else
`endif
            mask0[p] = int'(nbase) + p < int'(cur_out);
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            s1.valid <= 1'b0;
        end else begin
            s1.valid <= active;
        end
        s1.first   <= rfirst;
        s1.last    <= beat_last;
        s1.job_end <= job_last_beat;
        s1.lastl   <= cur_lastl;
        s1.layer   <= cur_layer;
        s1.ho      <= cur_ho;
        s1.nbase   <= nbase;
        s1.shift   <= cur_shift;
        s1.int8    <= cur_int8;
        s1.out8    <= cur_out8;
        s1.tag     <= cur_tag;
        s1_mask    <= mask0;
        // a lane with nothing to issue carries zeros (its product is then 0,
        // whatever weight its column read)
        for (int i = 0; i < U; i++) begin
            if (cur_int8) begin
`ifdef INJECT_BUGS
                // injected bug (+MLP_ENGINE_BUG_INT8_PACK): the two int8 inputs of a lane in the wrong bytes
                if ($test$plusargs("MLP_ENGINE_BUG_INT8_PACK")) begin
                    s1_act[16*i + 8 +: 8] <= lhas[2*i] ? abuf[cur_layer][cur_hi][int'(lidx[2*i])][7:0] : 8'd0;
                    s1_act[16*i +: 8]     <= lhas[2*i + 1] ? abuf[cur_layer][cur_hi][int'(lidx[2*i + 1])][7:0] : 8'd0;
                end else
`endif
                begin
                    s1_act[16*i +: 8]     <= lhas[2*i] ? abuf[cur_layer][cur_hi][int'(lidx[2*i])][7:0] : 8'd0;
                    s1_act[16*i + 8 +: 8] <= lhas[2*i + 1] ? abuf[cur_layer][cur_hi][int'(lidx[2*i + 1])][7:0] : 8'd0;
                end
            end else begin
                s1_act[16*i +: 16]    <= lhas[i] ? abuf[cur_layer][cur_hi][int'(lidx[i])] : 16'd0;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            s2.valid <= 1'b0;
            s3.valid <= 1'b0;
            s4.valid <= 1'b0;
        end else begin
            s2.valid <= s1.valid;
            s3.valid <= s2.valid;
            s4.valid <= s3.valid;
        end
        {s2.first, s2.last, s2.job_end, s2.lastl, s2.layer, s2.ho, s2.nbase, s2.shift, s2.int8, s2.out8, s2.tag} <=
            {s1.first, s1.last, s1.job_end, s1.lastl, s1.layer, s1.ho, s1.nbase, s1.shift, s1.int8, s1.out8, s1.tag};
        {s3.first, s3.last, s3.job_end, s3.lastl, s3.layer, s3.ho, s3.nbase, s3.shift, s3.int8, s3.out8, s3.tag} <=
            {s2.first, s2.last, s2.job_end, s2.lastl, s2.layer, s2.ho, s2.nbase, s2.shift, s2.int8, s2.out8, s2.tag};
        {s4.first, s4.last, s4.job_end, s4.lastl, s4.layer, s4.ho, s4.nbase, s4.shift, s4.int8, s4.out8, s4.tag} <=
            {s3.first, s3.last, s3.job_end, s3.lastl, s3.layer, s3.ho, s3.nbase, s3.shift, s3.int8, s3.out8, s3.tag};
        s2_mask <= s1_mask;
        s3_mask <= s2_mask;
        s4_mask <= s3_mask;
    end

    // ---------------------------------------------------------------------
    // the PE array
    // ---------------------------------------------------------------------
    // the last layer's rule: the int32 logit (no ReLU), or with VEC_OUT the
    // hidden-layer rule relu(sat16) (contracts s.9.3)
    logic last_relu;
    always_comb begin
`ifdef INJECT_BUGS
        // injected bug (+MLP_ENGINE_BUG_VEC_NO_RELU): the vector-output last layer skips its ReLU
        if ($test$plusargs("MLP_ENGINE_BUG_VEC_NO_RELU")) last_relu = 1'b0;
        else
`endif
        last_relu = VEC_OUT;
    end

    mlp_pe_array #(
        .P(P), .U(U), .ACC_W(ACC_W), .WDEPTH(WDEPTH), .BDEPTH(BDEPTH)
    ) u_array (
        .clk(clk), .rst_n(rst_n),
        .w_we(w_we), .w_bias(w_bias), .w_pe(w_pe), .w_addr(w_addr), .w_data(w_data),
        .rd_en(active), .rd_waddr(col_addr), .rd_baddr(baddr),
        .in_valid(s1.valid), .in_first(s1.first), .in_last(s1.last), .in_int8(s1.int8),
        .in_mask(s1_mask), .in_act(s1_act),
        .cfg_frac_bits(s3.shift), .cfg_relu(!s3.lastl || last_relu), .cfg_out32(s3.lastl && !VEC_OUT), .cfg_out8(s3.out8),
        .out_valid(pe_valid), .out_y(pe_y), .out_sat(pe_sat), .out_relu_zero(pe_relu0)
    );

    // ---------------------------------------------------------------------
    // output FIFO: logits, or (VEC_OUT) vector beats
    // ---------------------------------------------------------------------
    logic out_push;   // a last-layer round ends in the write-back stage
    assign out_push = s4.valid && s4.last && s4.lastl;

    if (VEC_OUT) begin : g_vec
        // A round's P results land in lanes nbase % VEC_LANES + p of the beat being
        // assembled (VEC_LANES is a multiple of P, so a round never straddles two
        // beats); the beat is pushed when its last lane is written or the job ends.
        localparam int VL_W = (VEC_LANES > 1) ? $clog2(VEC_LANES) : 1;
        logic [VEC_LANES*16-1:0] vstage, vbeat;
        logic [VL_W-1:0]         vlane;
        logic                    vpush;
        assign vlane = VL_W'(int'(s4.nbase) % VEC_LANES);
        always_comb begin
            vbeat = vstage;
            for (int p = 0; p < P; p++) begin
                vbeat[(int'(vlane) + p) % VEC_LANES * 16 +: 16] = s4_mask[p] ? pe_y[p][15:0] : 16'd0;
            end
        end
        assign vpush = out_push && (s4.job_end || int'(vlane) + P == VEC_LANES);
        always_ff @(posedge clk) begin
            if (!rst_n) begin
                vstage <= '0;
            end else if (out_push) begin
                vstage <= vpush ? '0 : vbeat;   // lanes past a vector's end stay 0
            end
        end

        logic [ID_W+VEC_LANES*16:0] fifo_head;
        /* verilator lint_off UNUSEDSIGNAL */
        logic [OC_W-1:0]  fifo_count;   // occupancy is tracked by out_resv
        logic             fifo_empty;
        /* verilator lint_on UNUSEDSIGNAL */
        mlp_fifo #(.WIDTH(ID_W + 1 + VEC_LANES * 16), .DEPTH(OUT_DEPTH)) u_out_fifo (
            .clk(clk), .rst_n(rst_n),
            .push(vpush), .push_data({s4.tag, s4.job_end, vbeat}),
            .pop(out_ready), .head(fifo_head), .empty(fifo_empty), .count(fifo_count)
        );
        assign out_valid = !fifo_empty;
        assign {out_tag, out_last, out_vec} = fifo_head;
        assign out_logit = '0;
    end else begin : g_logit
        logic [ID_W+31:0] fifo_head;
        logic             fifo_empty;
        /* verilator lint_off UNUSEDSIGNAL */
        logic [OC_W-1:0]  fifo_count;   // occupancy is tracked by out_resv
        /* verilator lint_on UNUSEDSIGNAL */

        mlp_fifo #(.WIDTH(ID_W + 32), .DEPTH(OUT_DEPTH)) u_out_fifo (
            .clk(clk), .rst_n(rst_n),
            .push(out_push), .push_data({s4.tag, pe_y[0]}),
            .pop(out_ready), .head(fifo_head), .empty(fifo_empty), .count(fifo_count)
        );
        assign out_valid = !fifo_empty;
        assign {out_tag, out_logit} = fifo_head;
        assign out_vec  = '0;
        assign out_last = 1'b1;
    end

    // ---------------------------------------------------------------------
    // stream ready, idle
    // ---------------------------------------------------------------------
    assign feat_ready = !full[0][wr_ptr[0]] && !err;

    always_comb begin
        idle = !active && (fcnt == '0) && (out_resv == '0);
        for (int b = 0; b < MAX_LAYERS; b++) begin
            if (full[b] != '0 || wbusy[b] != '0) idle = 1'b0;
        end
    end

    // ---------------------------------------------------------------------
    // performance counters
    // ---------------------------------------------------------------------
    localparam int MAC_W = $clog2(2 * P * U + 1);
    logic [MAX_LAYERS-1:0]       ev_busy, ev_stall_dst, ev_stall_arr;
    logic [MAX_LAYERS*MAC_W-1:0] ev_macs;
    logic [MAX_LAYERS*MAC_W-1:0] ev_sat, ev_relu0;
    logic [MAC_W-1:0]            n_pe, n_lane, n_sat, n_relu0;

    always_comb begin
        int pe_left;
        pe_left   = int'(cur_out) - int'(nbase);
        n_pe   = MAC_W'((pe_left < P) ? pe_left : P);
        // MACs issued: the lanes that carry an input this beat
        n_lane = '0;
        for (int c = 0; c < S_MAX; c++) n_lane = n_lane + MAC_W'(lhas[c]);
        n_sat   = '0;
        n_relu0 = '0;
        for (int p = 0; p < P; p++) begin
            n_sat   = n_sat + MAC_W'(pe_valid[p] && s4_mask[p] && pe_sat[p]);
            n_relu0 = n_relu0 + MAC_W'(pe_valid[p] && s4_mask[p] && pe_relu0[p]);
        end
        for (int j = 0; j < MAX_LAYERS; j++) begin
            ev_busy[j]      = active && int'(cur_layer) == j;
            ev_macs[j*MAC_W +: MAC_W] = ev_busy[j] ? MAC_W'(int'(n_pe) * int'(n_lane)) : '0;
            ev_stall_dst[j] = in_rdy[j] && !dst_free[j];
            ev_stall_arr[j] = in_rdy[j] && dst_free[j] && !(start && int'(pick) == j);
            ev_sat[j*MAC_W +: MAC_W]   = (s4.valid && s4.last && int'(s4.layer) == j) ? n_sat : '0;
            ev_relu0[j*MAC_W +: MAC_W] = (s4.valid && s4.last && int'(s4.layer) == j) ? n_relu0 : '0;
        end
    end

    // assertions hold from the first reset on: simulation starts from random state
    // (Verilator --x-initial unique), with no meaning before reset; the initial value
    // is the point here (an FPGA register's power-up value), hence the one waiver
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    mlp_perf_counters #(.N(3), .CNT_W(CNT_W), .INC_W(1)) u_perf_glob (
        .clk(clk), .rst_n(rst_n), .clear(perf_clear),
        .inc({out_valid && !out_ready, !active, 1'b1}),
        .count({perf_out_stall, perf_idle, perf_cycles})
    );
    mlp_perf_counters #(.N(2 * MAX_LAYERS), .CNT_W(CNT_W), .INC_W(1)) u_perf_flags (
        .clk(clk), .rst_n(rst_n), .clear(perf_clear),
        .inc({ev_stall_arr, ev_stall_dst}),
        .count({perf_stall_arr, perf_stall_dst})
    );
    mlp_perf_counters #(.N(MAX_LAYERS), .CNT_W(CNT_W), .INC_W(1)) u_perf_busy (
        .clk(clk), .rst_n(rst_n), .clear(perf_clear), .inc(ev_busy), .count(perf_busy)
    );
    mlp_perf_counters #(.N(3 * MAX_LAYERS), .CNT_W(CNT_W), .INC_W(MAC_W)) u_perf_macs (
        .clk(clk), .rst_n(rst_n), .clear(perf_clear),
        .inc({ev_relu0, ev_sat, ev_macs}),
        .count({perf_relu0, perf_sat, perf_macs})
    );
    // the logit stream holds its beat until taken (AXI-Stream rule)
    a_out_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        out_valid && !out_ready |=> out_valid && $stable(out_logit) && $stable(out_tag)
                                    && $stable(out_vec) && $stable(out_last))
        else $error("mlp_engine: out_valid/out_logit changed before out_ready");
endmodule
