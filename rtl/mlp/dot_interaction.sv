// DLRM feature interaction (docs/contracts.md s.9.4): from the bottom-MLP
// output x (d int16) and the query's pooled vectors it forms the top MLP's
// input R and streams it out FEAT_LANES elements a beat, the way
// rtl/mlp/mlp_engine.sv takes a feature vector (element e in lane
// e % FEAT_LANES of beat e / FEAT_LANES, lanes past the end zero, m_last on
// the last beat).
//
//   dot    (cfg_dot = 1): T_0 = x, T_{t+1} = pooled_t (t < n, each d wide,
//          pooled_t[k] at s_pooled element t*d + k). For i in 1..n, j < i
//          (DLRM order, pair position i(i-1)/2 + j):
//            Z_ij = sat16((sum_k T_i[k] * T_j[k] + 2^(F-1)) >>> F)
//          R = x ++ Zflat: d + n(n+1)/2 elements.
//   concat (cfg_dot = 0): R = x[0 .. d-1] ++ pooled[0 .. flen-1] (d may be 0).
//
// Datapath: one mac_pe (LANES = DOT_LANES, bias 0, no ReLU, sat16): the
// contract's dot product is exactly the PE's hidden-layer rule without bias
// and ReLU, so the bits cannot drift from the MLP's. Pairs are computed one
// after another, ceil(d / DOT_LANES) beats each, back to back. x (and, in
// concat mode, the whole R) leaves as aligned FEAT_LANES-wide beats, one a
// cycle, delayed by the PE's latency so that beats and dot products reach the
// output assembly in R order through one write port.
//
// Timing (no output stall, input always valid): a query occupies the issue
// stage for  1 + ceil(d/FEAT_LANES) + n(n+1)/2 * ceil(d/DOT_LANES)  cycles
// (dot) or  1 + ceil((d+flen)/FEAT_LANES)  cycles (concat), the 1 being the
// capture cycle; that is the period between accepted queries. A query's last
// beat leaves PE_LATENCY + 1 = 4 cycles after its last issue cycle.
//
// Backpressure: each output beat reserves a slot of the OUT_DEPTH output FIFO
// when its first element issues; issue waits while none is free, so nothing
// in the PE's pipeline is ever dropped.
//
// Configuration (cfg_*) must be stable while `idle` is low. Illegal values
// raise cfg_err and close the input (s_ready low) until fixed:
// F outside 1..14; dot: n outside 1..N_MAX, d outside 1..D_MAX, n*d > POOL_MAX;
// concat: d > D_MAX, flen > POOL_MAX, d + flen == 0.
module dot_interaction #(
    parameter int N_MAX      = 26,          // tables (dot mode)
    parameter int D_MAX      = 16,          // x length / vector dim
    parameter int POOL_MAX   = N_MAX * D_MAX,  // pooled elements of the input
    parameter int DOT_LANES  = 4,           // products per cycle
    parameter int FEAT_LANES = 16,          // elements per output beat (mlp_engine's)
    parameter int ACC_W      = 48,
    parameter int ID_W       = 16,
    parameter int OUT_DEPTH  = 8,
    localparam int N_W  = $clog2(N_MAX + 1),
    localparam int D_W  = $clog2(D_MAX + 1),
    localparam int PL_W = $clog2(POOL_MAX + 1)
) (
    input  logic                      clk,
    input  logic                      rst_n,
    // ---- configuration (CSRs later); stable while idle is low ----------
    input  logic                      cfg_dot,        // 1: dot, 0: concat
    input  logic [N_W-1:0]            cfg_n,          // dot: tables n
    input  logic [D_W-1:0]            cfg_d,          // x length (dot: every vector's d)
    input  logic [PL_W-1:0]           cfg_flen,       // concat: pooled elements
    input  logic [3:0]                cfg_frac_bits,  // F, 1..14
    output logic                      cfg_err,
    output logic                      idle,           // nothing captured or in flight
    // ---- one query in: x and the pooled vectors --------------------------
    input  logic                      s_valid,
    output logic                      s_ready,
    input  logic [D_MAX*16-1:0]       s_x,            // x[k] in [16k +: 16]
    input  logic [POOL_MAX*16-1:0]    s_pooled,       // element e in [16e +: 16]
    input  logic [ID_W-1:0]           s_tag,
    // ---- R out: ceil(len / FEAT_LANES) beats a query ----------------------
    output logic                      m_valid,
    input  logic                      m_ready,
    output logic [FEAT_LANES*16-1:0]  m_data,
    output logic                      m_last,
    output logic [ID_W-1:0]           m_tag
);
    localparam int PE_LATENCY = 3;
    localparam int FL   = FEAT_LANES;
    localparam int DL   = DOT_LANES;
    localparam int XB_MAX = (D_MAX + POOL_MAX + FL - 1) / FL;   // x beats (concat: all of R)
    localparam int XB_W = $clog2(XB_MAX + 1);
    localparam int KB_MAX = (D_MAX + DL - 1) / DL;
    localparam int KB_W = $clog2(KB_MAX + 1);
    localparam int FL_W = $clog2(FL + 1);
    localparam int OC_W = $clog2(OUT_DEPTH + 1);

    // the worst dot product, d * 2^30 (contracts s.9.1), must fit ACC_W
    if (ACC_W < 31 + $clog2(D_MAX + 2)) begin : g_bad_acc_w
        $error("dot_interaction: ACC_W=%0d < 31 + clog2(D_MAX + 2) = %0d", ACC_W, 31 + $clog2(D_MAX + 2));
    end
    if (OUT_DEPTH < 1 || FL < 1 || DL < 1) begin : g_bad_sizes
        $error("dot_interaction: OUT_DEPTH, FEAT_LANES and DOT_LANES must be >= 1");
    end

    // ---------------------------------------------------------------------
    // configuration checks and derived sizes
    // ---------------------------------------------------------------------
    int n_i, d_i, len_i;
    always_comb begin
        n_i   = int'(cfg_n);
        d_i   = int'(cfg_d);
        len_i = cfg_dot ? d_i : d_i + int'(cfg_flen);
        cfg_err = cfg_frac_bits == 4'd0 || cfg_frac_bits > 4'd14;
        if (cfg_dot) begin
            if (n_i < 1 || n_i > N_MAX || d_i < 1 || d_i > D_MAX || n_i * d_i > POOL_MAX) cfg_err = 1'b1;
        end else begin
            if (d_i > D_MAX || int'(cfg_flen) > POOL_MAX || len_i == 0) cfg_err = 1'b1;
        end
    end

    logic [XB_W-1:0] xbeats;   // aligned beats of the x (concat: whole-R) phase
    logic [KB_W-1:0] kbeats;   // beats of one dot product
    assign xbeats = XB_W'((len_i + FL - 1) / FL);
    assign kbeats = KB_W'((d_i + DL - 1) / DL);

    // ---------------------------------------------------------------------
    // the captured query
    // ---------------------------------------------------------------------
    logic [15:0]     xbuf [D_MAX];
    logic [15:0]     pbuf [POOL_MAX];
    logic [ID_W-1:0] qtag;

    // ---- issue state ----
    logic            busy;      // a query is captured and issuing
    logic            phase_z;   // 0: x beats, 1: pairs
    logic [XB_W-1:0] xb;        // x beat
    logic [N_W-1:0]  pi, pj;    // the pair (i, j)
    logic [KB_W-1:0] pk;        // beat of its dot product
    logic [FL_W-1:0] zfill;     // R position of the next Z, modulo FL
    logic [OC_W-1:0] resv;      // output slots reserved or occupied

    assign s_ready = !busy && !cfg_err;

    logic need_resv, can_issue, issue, x_last, z_last_pair, pair_last_beat;
    assign need_resv      = !phase_z || (pk == '0 && zfill == '0);
    assign can_issue      = busy && (!need_resv || int'(resv) < OUT_DEPTH);
    assign issue          = can_issue;
    assign x_last         = !phase_z && xb == xbeats - XB_W'(1);
    assign pair_last_beat = phase_z && pk == kbeats - KB_W'(1);
    assign z_last_pair    = pi == N_W'(n_i) && pj == N_W'(n_i - 1);   // (n, n-1) ends either order

    // the element of vector v (0: x, t+1: pooled t) at position e, 0 past d
    // (a legal configuration keeps every index in range: d <= D_MAX, n * d <= POOL_MAX)
    function automatic logic [15:0] t_elem(input logic [N_W-1:0] v, input int e);
        if (e >= d_i) return '0;
        if (v == '0) return xbuf[e];
        return pbuf[(int'(v) - 1) * d_i + e];
    endfunction

    // ---- PE operands: DL lanes of T_i and T_j ----
    logic [DL*16-1:0] pe_a, pe_b;
    always_comb begin
        for (int l = 0; l < DL; l++) begin
            pe_a[16*l +: 16] = t_elem(pi, int'(pk) * DL + l);
            pe_b[16*l +: 16] = t_elem(pj, int'(pk) * DL + l);
        end
    end

    // ---- x / concat beat: R elements xb*FL .. xb*FL + FL - 1 ----
    // (in hardware: x is aligned; the pooled part is a window of two pooled
    // beats rotated by d % FL, the same for every beat of a query)
    logic [FL*16-1:0] xdata;
    logic [FL_W-1:0]  xlanes;
    always_comb begin
        int left;
        for (int l = 0; l < FL; l++) begin
            int i;
            i = int'(xb) * FL + l;
            if (i < d_i)                                       xdata[16*l +: 16] = xbuf[i];
            else if (!cfg_dot && i - d_i < int'(cfg_flen))     xdata[16*l +: 16] = pbuf[i - d_i];
            else                                               xdata[16*l +: 16] = '0;
        end
        left   = len_i - int'(xb) * FL;
        xlanes = FL_W'((left < FL) ? left : FL);
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            busy <= 1'b0;
        end else begin
            if (s_valid && s_ready) begin
                busy    <= 1'b1;
                phase_z <= 1'b0;
                xb      <= '0;
                pi      <= N_W'(1);
                pj      <= '0;
                pk      <= '0;
            end else if (issue) begin
                if (!phase_z) begin
                    xb <= xb + XB_W'(1);
                    if (x_last) begin
                        if (cfg_dot) phase_z <= 1'b1;
                        else         busy    <= 1'b0;
                        zfill <= FL_W'(d_i % FL);
                    end
                end else if (!pair_last_beat) begin
                    pk <= pk + KB_W'(1);
                end else begin
                    pk    <= '0;
                    zfill <= (int'(zfill) == FL - 1) ? '0 : zfill + FL_W'(1);
                    if (z_last_pair) begin
                        busy <= 1'b0;
`ifdef INJECT_BUGS
                    // injected bug (+DOT_BUG_PAIR_ORDER): pairs in j-major order (j outer, i inner)
                    end else if ($test$plusargs("DOT_BUG_PAIR_ORDER")) begin
                        if (pi == N_W'(n_i)) begin
                            pj <= pj + N_W'(1);
                            pi <= pj + N_W'(2);
                        end else begin
                            pi <= pi + N_W'(1);
                        end
`endif
                    end else if (pj == pi - N_W'(1)) begin
                        pi <= pi + N_W'(1);
                        pj <= '0;
                    end else begin
                        pj <= pj + N_W'(1);
                    end
                end
            end
        end
    end

    always_ff @(posedge clk) begin
        if (s_valid && s_ready) begin
            for (int k = 0; k < D_MAX; k++) xbuf[k] <= s_x[16*k +: 16];
            for (int e = 0; e < POOL_MAX; e++) pbuf[e] <= s_pooled[16*e +: 16];
            qtag <= s_tag;
        end
    end

    // ---------------------------------------------------------------------
    // the dot-product PE
    // ---------------------------------------------------------------------
    logic        pe_valid;
    logic [31:0] pe_bias;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [31:0] pe_y;             // sat16, sign-extended: the low half is Z
    logic [ACC_W-1:0] pe_acc;      // the raw sum: not part of R
    logic        pe_sat, pe_relu0; // flags of the MLP's counters
    /* verilator lint_on UNUSEDSIGNAL */
`ifdef INJECT_BUGS
    // injected bug (+DOT_BUG_ROUND_TRUNC): a bias of -2^(F-1) cancels the rounding half (truncation)
    assign pe_bias = $test$plusargs("DOT_BUG_ROUND_TRUNC") ? -(32'd1 << (cfg_frac_bits - 4'd1)) : 32'd0;
`else
    assign pe_bias = 32'd0;
`endif

    mac_pe #(.LANES(DL), .ACC_W(ACC_W)) u_pe (
        .clk(clk), .rst_n(rst_n),
        .cfg_frac_bits(cfg_frac_bits), .cfg_relu(1'b0), .cfg_out32(1'b0), .cfg_out8(1'b0),
        .in_valid(issue && phase_z), .in_first(pk == '0), .in_last(pair_last_beat), .in_int8(1'b0),
        .in_a(pe_a), .in_b(pe_b), .in_bias(pe_bias),
        .out_valid(pe_valid), .out_y(pe_y), .out_acc(pe_acc), .out_sat(pe_sat), .out_relu_zero(pe_relu0)
    );

    // ---------------------------------------------------------------------
    // delay line: x beats and pair ends reach the assembly in issue order
    // ---------------------------------------------------------------------
    typedef struct packed {
        logic             valid;
        logic             is_x;      // an x beat (else the end of a pair: pe_y)
        logic             last;      // the last element(s) of R
        logic [FL_W-1:0]  lanes;     // x beat: elements it carries
        logic [ID_W-1:0]  tag;
        logic [FL*16-1:0] data;
    } op_t;
    op_t dl [PE_LATENCY];
    op_t op_in;

    always_comb begin
        op_in.valid = issue && (!phase_z || pair_last_beat);
        op_in.is_x  = !phase_z;
        op_in.last  = phase_z ? z_last_pair : (x_last && !cfg_dot);
        op_in.lanes = xlanes;
        op_in.tag   = qtag;
        op_in.data  = xdata;
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            for (int s = 0; s < PE_LATENCY; s++) dl[s].valid <= 1'b0;
        end else begin
            dl[0].valid <= op_in.valid;
            for (int s = 1; s < PE_LATENCY; s++) dl[s].valid <= dl[s-1].valid;
        end
        {dl[0].is_x, dl[0].last, dl[0].lanes, dl[0].tag, dl[0].data} <=
            {op_in.is_x, op_in.last, op_in.lanes, op_in.tag, op_in.data};
        for (int s = 1; s < PE_LATENCY; s++) begin
            {dl[s].is_x, dl[s].last, dl[s].lanes, dl[s].tag, dl[s].data} <=
                {dl[s-1].is_x, dl[s-1].last, dl[s-1].lanes, dl[s-1].tag, dl[s-1].data};
        end
    end

    // ---------------------------------------------------------------------
    // output assembly: fill a beat, push it when full or at the end of R
    // ---------------------------------------------------------------------
    op_t              a;
    logic [FL*16-1:0] asm_q, asm_nx;
    logic [FL_W-1:0]  afill, afill_nx;
    logic             push;
    assign a = dl[PE_LATENCY-1];

    always_comb begin
        asm_nx   = asm_q;
        afill_nx = afill;
        push     = 1'b0;
        if (a.valid) begin
            if (a.is_x) begin
                asm_nx   = a.data;
                afill_nx = a.lanes;
            end else begin
                asm_nx[16*int'(afill) +: 16] = pe_y[15:0];
                afill_nx = afill + FL_W'(1);
            end
            push = (int'(afill_nx) == FL) || a.last;
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            afill <= '0;
            resv  <= '0;
        end else begin
            afill <= push ? '0 : afill_nx;
            resv  <= resv + OC_W'(issue && need_resv) - OC_W'(m_valid && m_ready);
        end
    end

    // no reset: every query's R starts with an x beat, which writes all lanes
    always_ff @(posedge clk) begin
        asm_q <= push ? '0 : asm_nx;
    end

    logic             fifo_empty;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [$clog2(OUT_DEPTH + 1)-1:0] fifo_count;   // occupancy is tracked by resv
    /* verilator lint_on UNUSEDSIGNAL */
    mlp_fifo #(.WIDTH(1 + ID_W + FL * 16), .DEPTH(OUT_DEPTH)) u_out (
        .clk(clk), .rst_n(rst_n),
        .push(push), .push_data({a.last, a.tag, asm_nx}),
        .pop(m_ready), .head({m_last, m_tag, m_data}), .empty(fifo_empty), .count(fifo_count)
    );
    assign m_valid = !fifo_empty;

    assign idle = !busy && resv == '0;

    // ---------------------------------------------------------------------
    // assertions
    // ---------------------------------------------------------------------
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    // a Z with no room left in its beat, or a pair end without a PE result
    always_ff @(posedge clk) begin
        if (rst_n && sva_armed && a.valid && !a.is_x) begin
            assert (pe_valid && int'(afill) < FL) else $error("dot_interaction: assembly out of step with the PE");
        end
    end
    a_out_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        m_valid && !m_ready |=> m_valid && $stable(m_data) && $stable(m_last) && $stable(m_tag))
        else $error("dot_interaction: output changed before m_ready");
endmodule
