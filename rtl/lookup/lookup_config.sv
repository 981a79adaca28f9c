// Descriptor store and per-engine table lists. The host writes descriptors
// and pulses commit; once no query is in flight, a scan of P_MAX cycles
// checks every descriptor and builds, for each engine, the list of physical
// tables it serves (so engines never scan descriptors per query). An illegal
// descriptor sets cfg_bad with the reason and table; queries are then still
// answered, each with an ERR_BAD_CONFIG record, so nothing waits forever.
// For multi-hot queries (contracts s.9.9) the scan also records the rows of
// every logical table (for the ingress's index check) and the logical table
// owning every feature element (for the per-table pool_shift); the checks of
// the multi-hot registers (mh_bad, computed by the top) are latched at the
// scan's start and a product descriptor is refused while multihot is set.
module lookup_config
    import lookup_pkg::*;
#(
    parameter int NUM_CH    = 4,
    parameter int NUM_BANKS = 1,
    parameter int P_MAX     = 16,
    parameter int LIST_MAX  = 16,
    parameter int T_MAX     = 16,
    parameter int DIM_MAX   = 64,
    parameter int FEAT_MAX  = 256,
    parameter int BANK_BYTES = 32768,  // bytes of one on-chip bank
    parameter int ADDR_W    = 34,      // memory byte address width
    parameter int NUM_ENG   = NUM_CH + NUM_BANKS,
    parameter int PID_W     = $clog2(P_MAX),
    parameter int K_W       = $clog2(LIST_MAX),
    parameter int ENG_W     = (NUM_ENG > 1) ? $clog2(NUM_ENG) : 1,
    parameter int TID_W     = $clog2(T_MAX)
) (
    input  logic                                       clk,
    input  logic                                       rst_n,
    input  logic                                       desc_we,
    input  logic [PID_W-1:0]                           desc_waddr,
    input  desc_t                                      desc_wdata,
    input  logic [7:0]                                 num_logical,  // tables per query
    input  logic                                       commit,
    input  logic                                       ring_empty,
    // multi-hot: the mode, and the top's check of its registers (CFG_BAD_MULTIHOT, table)
    input  logic                                       multihot,
    input  logic                                       mh_bad,
    input  logic [PID_W-1:0]                           mh_bad_t,
    output logic [T_MAX-1:0][31:0]                     lt_rows,   // rows of each logical table ('1: none)
    output logic [FEAT_MAX-1:0][TID_W-1:0]             elem_lt,   // logical table of each feature element
    // per-engine descriptor read ports
    input  logic [NUM_ENG-1:0][PID_W-1:0]              rd_p,
    output desc_t [NUM_ENG-1:0]                        rd_desc,
    // built lists
    output logic                                       cfg_ready,
    output logic                                       cfg_draining, // committed, in-flight queries finishing
    output logic                                       cfg_bad,
    output logic [3:0]                                 cfg_err_code,
    output logic [PID_W-1:0]                           cfg_err_p,
    output logic [PID_W:0]                             n_lookups,
    output logic [NUM_ENG-1:0][K_W:0]                  list_count,
    output logic [NUM_ENG-1:0][LIST_MAX-1:0][PID_W-1:0] list
);
    desc_t descs [P_MAX];

    always_ff @(posedge clk) begin
        if (desc_we) begin
            descs[desc_waddr] <= desc_wdata;
        end
    end

    for (genvar e = 0; e < NUM_ENG; e++) begin : g_rd
        assign rd_desc[e] = descs[rd_p[e]];
    end

    typedef enum logic [1:0] {S_IDLE, S_WAIT, S_SCAN} state_e;
    state_e           state;
    // new queries wait from the commit on, so the ring empties even under steady traffic
    assign cfg_draining = state == S_WAIT;
    logic [PID_W:0]   scan_p;
    desc_t            d;
    logic [ENG_W-1:0] eng_i;
    logic [3:0]       check;
    // one past the last byte of the table: a 40-bit base plus up to 2^32 rows of 4 KiB
    logic [45:0]      d_end;
    logic             d_outside;

    assign d_end     = 46'(d.base) + (46'(d.rows) << d.stride_log2);
    assign d_outside = d.onchip ? (d_end > 46'(BANK_BYTES)) : (d_end > (46'd1 << ADDR_W));

    assign d   = descs[scan_p[PID_W-1:0]];
    // the engine: memory channel c, or NUM_CH + bank (used once the channel check passed)
    assign eng_i = d.onchip ? ENG_W'(9'(NUM_CH) + 9'(d.channel)) : ENG_W'(d.channel);

    // the first rule a descriptor breaks, or CFG_OK
    always_comb begin
        check = CFG_OK;
        // a memory table's channel < NUM_CH, an on-chip table's bank < NUM_BANKS
        // (a memory channel NUM_CH.. would otherwise land on a bank's engine)
        if (d.onchip ? 32'(d.channel) >= NUM_BANKS : 32'(d.channel) >= NUM_CH) begin
            check = CFG_BAD_ENGINE;
        end else if (d.stride_log2 == 4'd0 || d.stride_log2 > 4'd12 ||
                     (32'd1 << d.stride_log2) < 32'(d.dim) * 2) begin
            check = CFG_BAD_STRIDE;
        end else if (d.dim == 9'd0 || 32'(d.dim) > DIM_MAX ||
                     (d.is_product && (d.dim_a > d.dim || d.dim_a == 9'd0))) begin
            check = CFG_BAD_DIM;
        end else if (d.lt_a >= num_logical || 32'(d.lt_a) >= T_MAX ||
                     (d.is_product && (d.lt_b >= num_logical || 32'(d.lt_b) >= T_MAX))) begin
            check = CFG_BAD_TABLE_ID;
        end else if (32'(d.feat_off_a) + 32'(d.is_product ? d.dim_a : d.dim) > FEAT_MAX ||
                     (d.is_product && 32'(d.feat_off_b) + 32'(d.dim - d.dim_a) > FEAT_MAX)) begin
            check = CFG_BAD_FEATURE;
        end else if (!d.onchip && d.base[11:0] != 12'd0) begin
            check = CFG_BAD_BASE;
        end else if (d.rows == 32'd0 || (d.is_product && d.rows_b == 32'd0)) begin
            check = CFG_BAD_ROWS;
        end else if (d_outside) begin
            check = CFG_BAD_EXTENT;
        end else if (32'(list_count[eng_i]) >= LIST_MAX) begin
            check = CFG_LIST_OVERFLOW;
        end else if (multihot && d.is_product) begin
            check = CFG_BAD_MULTIHOT;   // a bag of product rows is not the product of the sums (s.9.1)
        end
    end

    // assertions hold from the first reset on: simulation starts from random state
    // (Verilator --x-initial unique), with no meaning before reset; the initial value
    // is the point here (an FPGA register's power-up value), hence the one waiver
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            state        <= S_IDLE;
            cfg_ready    <= 1'b0;
            cfg_bad      <= 1'b0;
            cfg_err_code <= CFG_OK;
            cfg_err_p    <= '0;
            n_lookups    <= '0;
            scan_p       <= '0;
            list_count   <= '0;
        end else begin
            case (state)
                S_IDLE: if (commit) state <= S_WAIT;
                S_WAIT: if (ring_empty) begin
                    // queries in flight finish under the old lists first
                    state        <= S_SCAN;
                    cfg_ready    <= 1'b0;
                    cfg_bad      <= mh_bad;
                    cfg_err_code <= mh_bad ? CFG_BAD_MULTIHOT : CFG_OK;
                    cfg_err_p    <= mh_bad ? mh_bad_t : '0;
                    n_lookups    <= '0;
                    scan_p       <= '0;
                    list_count   <= '0;
                end
                S_SCAN: begin
                    if (32'(scan_p) == P_MAX) begin
                        state     <= S_IDLE;
                        cfg_ready <= 1'b1;
                    end else begin
                        scan_p <= scan_p + 1'b1;
                        if (d.valid) begin
                            if (check != CFG_OK) begin
                                if (!cfg_bad) begin
                                    cfg_bad      <= 1'b1;
                                    cfg_err_code <= check;
                                    cfg_err_p    <= scan_p[PID_W-1:0];
                                end
                            end else begin
                                list[eng_i][list_count[eng_i][K_W-1:0]]
                                    <= scan_p[PID_W-1:0];
                                list_count[eng_i] <=
                                    list_count[eng_i] + 1'b1;
                                n_lookups <= n_lookups + 1'b1;
                            end
                        end
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end
    // multi-hot maps, rebuilt by the same scan
    always_ff @(posedge clk) begin
        if (state == S_WAIT && ring_empty) begin
            for (int t = 0; t < T_MAX; t++) lt_rows[t] <= '1;
            for (int k = 0; k < FEAT_MAX; k++) elem_lt[k] <= '0;
        end else if (state == S_SCAN && 32'(scan_p) != P_MAX && d.valid && check == CFG_OK && !d.is_product) begin
            lt_rows[d.lt_a[TID_W-1:0]] <= d.rows;
            for (int kk = 0; kk < DIM_MAX; kk++) begin
                if (9'(kk) < d.dim && 32'(d.feat_off_a) + kk < FEAT_MAX) begin
                    elem_lt[32'(d.feat_off_a) + kk] <= d.lt_a[TID_W-1:0];
                end
            end
        end
    end

    a_state_legal: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) state inside {S_IDLE, S_WAIT, S_SCAN})
        else $error("lookup_config: illegal state encoding %0d", state);
endmodule
