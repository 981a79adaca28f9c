// Hot-row cache in front of one memory channel (docs/contracts.md s.11).
//
// AXI4 read slave toward a lookup engine, AXI4 read master toward memory.
// Every request is decided the cycle after its AR handshake, in AR order,
// against state only decisions change (tags, valid bits, LRU ages, the
// frequency sketch): a line is valid from the moment its fill is issued, so
// which request hits never depends on when memory answers, and
// models/row_cache.py predicts every decision. Memory reads carry the
// requester's ARID (the engine keeps IDs unique), so one entry per ID
// tracks what each request waits for: its fill (FILL), a forwarded read
// (PASS) or its turn on the line store (HIT).
//
// One cache per channel: each table lives on one channel, so a shared cache
// would buy a crossbar and NUM_CH tag lookups per cycle for no sharing.
//
// Disabled, the cache is wires (cycle-identical to no cache). Tags, LRU ages
// and the sketch are flops read asynchronously by the decision; a build sized
// for URAM would read them at AR acceptance instead (one cycle earlier, with
// write forwarding from the decision), which changes no rule of s.11.
module emb_row_cache
    import cache_pkg::*;
#(
    parameter int LINES      = 64,     // capacity, lines (power of two)
    parameter int WAYS       = 4,      // associativity (power of two, <= 16)
    parameter int LINE_BEATS = 1,      // longest burst a line holds (power of two)
    parameter int DATA_W     = 256,
    parameter int ADDR_W     = 34,
    parameter int ID_W       = 5,
    parameter int CM_LOG2    = $clog2(LINES) + 1,   // sketch: 2^CM_LOG2 counters per row
    parameter int AGE_LOG2   = $clog2(LINES) + 3,   // sketch halves every 2^AGE_LOG2 decisions
    // derived
    parameter int WAY_W      = (WAYS > 1) ? $clog2(WAYS) : 1
) (
    input  logic              clk,
    input  logic              rst_n,
    // control (s.11.6)
    input  logic              cfg_enable,
    input  logic              cfg_policy,     // 0 lru, 1 freq (frequency admission)
    input  logic              flush,          // pulse
    input  logic              cnt_clear,      // pulse
    output logic              st_enabled,     // the mode in force
    // AXI4 read slave (toward the engine)
    input  logic              s_arvalid,
    output logic              s_arready,
    input  logic [ADDR_W-1:0] s_araddr,
    input  logic [7:0]        s_arlen,
    input  logic [2:0]        s_arsize,
    input  logic [1:0]        s_arburst,
    input  logic [ID_W-1:0]   s_arid,
    output logic              s_rvalid,
    input  logic              s_rready,
    output logic [DATA_W-1:0] s_rdata,
    output logic [ID_W-1:0]   s_rid,
    output logic [1:0]        s_rresp,
    output logic              s_rlast,
    // AXI4 read master (toward memory)
    output logic              m_arvalid,
    input  logic              m_arready,
    output logic [ADDR_W-1:0] m_araddr,
    output logic [7:0]        m_arlen,
    output logic [2:0]        m_arsize,
    output logic [1:0]        m_arburst,
    output logic [ID_W-1:0]   m_arid,
    input  logic              m_rvalid,
    output logic              m_rready,
    input  logic [DATA_W-1:0] m_rdata,
    input  logic [ID_W-1:0]   m_rid,
    input  logic [1:0]        m_rresp,
    input  logic              m_rlast,
    // counters (s.11.8)
    output logic [63:0]       cnt_hits,
    output logic [63:0]       cnt_misses,
    output logic [63:0]       cnt_fills,
    output logic [63:0]       cnt_evictions,
    output logic [63:0]       cnt_bypasses,
    output logic [63:0]       cnt_uncached,
    output logic [63:0]       cnt_bytes_saved,
    output logic [63:0]       cnt_hit_pending,
    output logic [63:0]       cnt_stall_cycles,
    // decision trace: one per decided request, in AR order
    output logic              dec_valid,
    output logic [1:0]        dec_kind,
    output logic [WAY_W-1:0]  dec_way,
    output logic              dec_evict,
    output logic              dec_pending,
    output logic [ID_W-1:0]   dec_id
);
    localparam int OUTS       = 1 << ID_W;
    localparam int BEAT_BYTES = DATA_W / 8;
    localparam int BEAT_LG    = $clog2(BEAT_BYTES);
    localparam int SETS       = LINES / WAYS;
    localparam int SET_W      = $clog2(SETS);              // 0: fully associative
    localparam int SET_IW     = (SET_W > 0) ? SET_W : 1;
    localparam int SLOT_W     = (LINES > 1) ? $clog2(LINES) : 1;
    localparam int LA_W       = ADDR_W - BEAT_LG;
    localparam int LEN_W      = (LINE_BEATS > 1) ? $clog2(LINE_BEATS) : 1;
    localparam int DADDR_W    = (LINES * LINE_BEATS > 1) ? $clog2(LINES * LINE_BEATS) : 1;
    localparam int CM_N       = 1 << CM_LOG2;

    localparam logic [31:0] CM_K0  = 32'h9E37_79B1;   // sketch row multipliers (odd)
    localparam logic [31:0] CM_K1  = 32'h85EB_CA77;
    localparam logic [3:0]  CM_MAX = 4'd15;           // saturating 4-bit counters

    typedef enum logic [1:0] { K_PASS = 2'd0, K_FILL = 2'd1, K_HIT = 2'd2 } ent_kind_e;

    // ---------------------------------------------------------------------
    // set index and sketch hashes (contracts s.11.2, s.11.3)
    // ---------------------------------------------------------------------
    function automatic logic [SET_IW-1:0] set_of(input logic [LA_W-1:0] la);
        logic [SET_IW-1:0] s;
        s = '0;
        if (SET_W > 0) begin
            for (int i = 0; i < LA_W; i += SET_IW) begin
                s = s ^ SET_IW'(la >> i);
            end
        end
        return s;
    endfunction

    function automatic logic [CM_LOG2-1:0] cm_index(input logic [LA_W-1:0] la, input logic [31:0] k);
        return CM_LOG2'((fold32(64'(la)) * k) >> (32 - CM_LOG2));
    endfunction

    function automatic logic [3:0] sat_inc(input logic [3:0] c);
        return (c == CM_MAX) ? c : c + 4'd1;
    endfunction

    function automatic logic [SLOT_W-1:0] slot_of(input logic [SET_IW-1:0] s, input logic [WAY_W-1:0] w);
        return SLOT_W'((32'(s) * WAYS) + 32'(w));
    endfunction

    // ---------------------------------------------------------------------
    // state
    // ---------------------------------------------------------------------
    logic [LA_W-1:0]  tag_la   [LINES];
    logic [LEN_W-1:0] tag_len  [LINES];
    logic [LINES-1:0] line_valid;
    logic [1:0]       line_resp [LINES];
    logic [WAY_W-1:0] line_age [LINES];      // LRU age within its set, 0 = most recent
    logic [3:0]       cm0 [CM_N];
    logic [3:0]       cm1 [CM_N];
    logic [AGE_LOG2-1:0] age_cnt;
    logic [DATA_W-1:0] data_mem [LINES * LINE_BEATS];

    // one entry per ARID
    logic [OUTS-1:0]   ent_busy;
    ent_kind_e         ent_kind  [OUTS];
    logic [SLOT_W-1:0] ent_slot  [OUTS];
    logic [LEN_W-1:0]  ent_len   [OUTS];
    logic [OUTS-1:0]   ent_wait;             // HIT waiting for the fill of ent_fill
    logic [ID_W-1:0]   ent_fill  [OUTS];
    logic [OUTS-1:0]   ent_served;           // HIT taken by the line-store reader
    logic [LEN_W-1:0]  ent_beat  [OUTS];     // FILL: beats arrived (a fill is at most LINE_BEATS)
    logic [1:0]        ent_resp  [OUTS];     // FILL: first non-OKAY response

    logic en_q;
    logic switch_pending, flush_pending, clear_all;
    logic [ID_W:0] in_flight;                // accepted on s_ar, last beat not yet given back

    // ---------------------------------------------------------------------
    // decision stage: the request accepted last cycle
    // ---------------------------------------------------------------------
    logic              d_valid;
    logic [ADDR_W-1:0] d_addr;
    logic [7:0]        d_len;
    logic [2:0]        d_size;
    logic [1:0]        d_burst;
    logic [ID_W-1:0]   d_id;

    logic              d_cacheable;
    logic [LA_W-1:0]   d_la;
    logic [SET_IW-1:0] d_set;
    logic [WAYS-1:0]   hit_vec, inv_vec;
    logic              d_hit;
    logic [WAY_W-1:0]  hit_way, vic_way;
    logic [SLOT_W-1:0] hit_slot, vic_slot;
    logic              vic_valid;
    logic [CM_LOG2-1:0] i0, i1, j0, j1;
    logic [3:0]        n0, n1, c0, c1, est_new, est_vic;
    logic              admit;
    dec_kind_e         d_kind;
    logic [OUTS-1:0]   pend_match, vic_match;
    logic              d_pending, d_blocked, d_done;
    logic [ID_W-1:0]   pend_id;

    // memory-side R beat bookkeeping needed by the CAMs below
    logic mem_take, fill_beat, fill_done;

    always_comb begin
        d_cacheable = (d_burst == 2'b01) && (d_size == 3'(BEAT_LG)) && (32'(d_len) < LINE_BEATS)
                      && (d_addr[BEAT_LG-1:0] == '0);
        d_la  = d_addr[ADDR_W-1:BEAT_LG];
        d_set = set_of(d_la);
        hit_vec = '0;
        inv_vec = '0;
        for (int w = 0; w < WAYS; w++) begin
            hit_vec[w] = line_valid[slot_of(d_set, WAY_W'(w))]
                         && tag_la[slot_of(d_set, WAY_W'(w))] == d_la
                         && tag_len[slot_of(d_set, WAY_W'(w))] == d_len[LEN_W-1:0];
            inv_vec[w] = !line_valid[slot_of(d_set, WAY_W'(w))];
        end
        d_hit   = |hit_vec;
        hit_way = '0;
        for (int w = WAYS - 1; w >= 0; w--) if (hit_vec[w]) hit_way = WAY_W'(w);
        // victim: the lowest invalid way, else the oldest
        vic_way = '0;
        for (int w = WAYS - 1; w >= 0; w--) begin
            if (line_age[slot_of(d_set, WAY_W'(w))] == WAY_W'(WAYS - 1)) vic_way = WAY_W'(w);
        end
        for (int w = WAYS - 1; w >= 0; w--) if (inv_vec[w]) vic_way = WAY_W'(w);
`ifdef INJECT_BUGS
        // injected bug (+ROW_CACHE_BUG_WRONG_WAY): a hit reads its neighbour way's line
        if ($test$plusargs("ROW_CACHE_BUG_WRONG_WAY")) hit_slot = slot_of(d_set, hit_way ^ WAY_W'(1));
        else
`endif
        hit_slot = slot_of(d_set, hit_way);
        vic_slot  = slot_of(d_set, vic_way);
        vic_valid = line_valid[vic_slot];
        // frequency sketch: this request counted first, then both estimates
        i0 = cm_index(d_la, CM_K0);
        i1 = cm_index(d_la, CM_K1);
        n0 = sat_inc(cm0[i0]);
        n1 = sat_inc(cm1[i1]);
        j0 = cm_index(tag_la[vic_slot], CM_K0);
        j1 = cm_index(tag_la[vic_slot], CM_K1);
        c0 = (j0 == i0) ? n0 : cm0[j0];
        c1 = (j1 == i1) ? n1 : cm1[j1];
        est_new = (n0 < n1) ? n0 : n1;
        est_vic = (c0 < c1) ? c0 : c1;
`ifdef INJECT_BUGS
        // injected bug (+ROW_CACHE_BUG_ADMIT_TIES): a tie admits (the counters no longer match the model)
        if ($test$plusargs("ROW_CACHE_BUG_ADMIT_TIES")) admit = !cfg_policy || !vic_valid || est_new >= est_vic;
        else
`endif
        admit = !cfg_policy || !vic_valid || est_new > est_vic;
        d_kind = !d_cacheable ? DEC_UNCACHED : d_hit ? DEC_HIT : admit ? DEC_FILL : DEC_BYPASS;
        // a fill completing this cycle is no longer pending; a victim in use blocks a fill
        for (int e = 0; e < OUTS; e++) begin
            pend_match[e] = ent_busy[e] && ent_kind[e] == K_FILL && ent_slot[e] == hit_slot
                            && !(fill_done && m_rid == ID_W'(e));
            vic_match[e]  = ent_busy[e] && ent_kind[e] != K_PASS && ent_slot[e] == vic_slot;
        end
        pend_id = '0;
        for (int e = OUTS - 1; e >= 0; e--) if (pend_match[e]) pend_id = ID_W'(e);
        d_pending = d_kind == DEC_HIT && |pend_match;
        d_blocked = d_kind == DEC_FILL && |vic_match;
    end

    // the decision completes when its memory read (if any) is accepted
    assign d_done = en_q && d_valid && (d_kind == DEC_HIT || (!d_blocked && m_arready));

    // ---------------------------------------------------------------------
    // AR: the slave side, the decision register, the master side
    // ---------------------------------------------------------------------
    logic s_ar_take;
    assign switch_pending = cfg_enable != en_q;
    always_comb begin
        if (switch_pending) begin
            s_arready = 1'b0;
        end else if (en_q) begin
            s_arready = !flush_pending && (!d_valid || d_done);
        end else begin
            s_arready = m_arready;
        end
    end
    assign s_ar_take = s_arvalid && s_arready;

    // in reset the master side is the wire of the disabled cache: en_q and the decision
    // registers hold random values until the first reset edge (the engine's request is
    // reset-clean), so nothing of them reaches memory, and a constant sideband stays constant
    always_comb begin
        if (en_q && rst_n) begin
            m_arvalid = d_valid && d_kind != DEC_HIT && !d_blocked;
            m_araddr  = d_addr;
            m_arlen   = d_len;
            m_arsize  = d_size;
            m_arburst = d_burst;
            m_arid    = d_id;
        end else begin
            m_arvalid = s_arvalid && !switch_pending;
            m_araddr  = s_araddr;
            m_arlen   = s_arlen;
            m_arsize  = s_arsize;
            m_arburst = s_arburst;
            m_arid    = s_arid;
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            d_valid <= 1'b0;
        end else if (en_q && s_ar_take) begin
            d_valid <= 1'b1;
        end else if (d_done) begin
            d_valid <= 1'b0;
        end
    end
    always_ff @(posedge clk) begin
        if (en_q && s_ar_take) begin
            d_addr  <= s_araddr;
            d_len   <= s_arlen;
            d_id    <= s_arid;
        end
    end
    // The AXI sideband is reset to the full-width INCR burst every engine issues, so a
    // port whose requests never vary keeps m_arsize/m_arburst constant from reset on
    // (the coverage waivers count on that; an unreset register would toggle 0 -> size once).
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            d_size  <= 3'(BEAT_LG);
            d_burst <= 2'b01;
        end else if (en_q && s_ar_take) begin
            d_size  <= s_arsize;
            d_burst <= s_arburst;
        end
    end

    // ---------------------------------------------------------------------
    // mode, flush, requests in flight
    // ---------------------------------------------------------------------
    logic s_r_last_take;
    assign s_r_last_take = s_rvalid && s_rready && s_rlast;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            in_flight <= '0;
        end else begin
            in_flight <= in_flight + (ID_W + 1)'(s_ar_take) - (ID_W + 1)'(s_r_last_take);
        end
    end

    // a flush waits for the request being decided (it was accepted before the pulse)
    logic flush_apply, switch_apply;
    assign flush_apply  = flush_pending && (!d_valid || d_done);
    assign switch_apply = switch_pending && in_flight == '0;
    assign clear_all    = flush_apply || switch_apply;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            en_q          <= cfg_enable;
            flush_pending <= 1'b0;
        end else begin
            if (switch_apply) en_q <= cfg_enable;
            if (flush && en_q) flush_pending <= 1'b1;
            else if (flush_apply) flush_pending <= 1'b0;
        end
    end
    assign st_enabled = en_q;

    // ---------------------------------------------------------------------
    // tags, valid bits, LRU ages, sketch: written by decisions and cleared by
    // flush / mode switch / reset (the clear wins: it comes after the decision
    // it waited for)
    // ---------------------------------------------------------------------
    logic d_install, d_touch;
    logic [WAY_W-1:0] touch_way;
    assign d_install = d_done && d_kind == DEC_FILL;
    assign d_touch   = d_done && (d_kind == DEC_HIT || d_kind == DEC_FILL);
    assign touch_way = (d_kind == DEC_HIT) ? hit_way : vic_way;

    logic d_count;            // a cacheable decision: the sketch counts it
    logic age_wrap;
    assign d_count  = d_done && d_kind != DEC_UNCACHED;
    assign age_wrap = d_count && age_cnt == '1;

    always_ff @(posedge clk) begin
        if (d_install) begin
            tag_la[vic_slot]  <= d_la;
            tag_len[vic_slot] <= d_len[LEN_W-1:0];
        end
    end

    logic [WAY_W-1:0] touch_age;
    assign touch_age = line_age[slot_of(d_set, touch_way)];

    logic lines_clear;
`ifdef INJECT_BUGS
    // injected bug (+ROW_CACHE_BUG_STALE_FLUSH): a flush leaves every line valid (stale rows after a reload)
    assign lines_clear = $test$plusargs("ROW_CACHE_BUG_STALE_FLUSH") ? switch_apply : clear_all;
`else
    assign lines_clear = clear_all;
`endif

    always_ff @(posedge clk) begin
        if (!rst_n || lines_clear) begin
            line_valid <= '0;
            for (int l = 0; l < LINES; l++) line_age[l] <= WAY_W'(l % WAYS);
        end else begin
            if (d_install) line_valid[vic_slot] <= 1'b1;
            if (d_touch) begin
                for (int w = 0; w < WAYS; w++) begin
                    if (WAY_W'(w) == touch_way) begin
                        line_age[slot_of(d_set, WAY_W'(w))] <= '0;
                    end else if (line_age[slot_of(d_set, WAY_W'(w))] < touch_age) begin
                        line_age[slot_of(d_set, WAY_W'(w))] <= line_age[slot_of(d_set, WAY_W'(w))] + 1'b1;
                    end
                end
            end
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n || clear_all) begin
            for (int i = 0; i < CM_N; i++) begin
                cm0[i] <= '0;
                cm1[i] <= '0;
            end
            age_cnt <= '0;
        end else if (d_count) begin
            age_cnt <= age_cnt + 1'b1;
            if (age_wrap) begin
                for (int i = 0; i < CM_N; i++) begin
                    cm0[i] <= ((CM_LOG2'(i) == i0) ? n0 : cm0[i]) >> 1;
                    cm1[i] <= ((CM_LOG2'(i) == i1) ? n1 : cm1[i]) >> 1;
                end
            end else begin
                cm0[i0] <= n0;
                cm1[i1] <= n1;
            end
        end
    end

    // ---------------------------------------------------------------------
    // memory R: forward, and write fills into the line store
    // ---------------------------------------------------------------------
    logic grant_hit;          // the R port serves the line store this cycle
    logic [1:0] fill_resp;
    assign m_rready  = en_q ? (!grant_hit && s_rready) : s_rready;
    assign mem_take  = en_q && m_rvalid && m_rready;
    assign fill_beat = mem_take && ent_busy[m_rid] && ent_kind[m_rid] == K_FILL;
    assign fill_done = fill_beat && m_rlast;
    assign fill_resp = (ent_resp[m_rid] != 2'b00) ? ent_resp[m_rid] : m_rresp;

    always_ff @(posedge clk) begin
        if (fill_beat) begin
            data_mem[DADDR_W'(32'(ent_slot[m_rid]) * LINE_BEATS + 32'(ent_beat[m_rid]))] <= m_rdata;
        end
        if (fill_done) begin
            line_resp[ent_slot[m_rid]] <= fill_resp;
        end
    end

    // ---------------------------------------------------------------------
    // entries (one per ARID)
    // ---------------------------------------------------------------------
    logic              srv_pick;
    logic [ID_W-1:0]   pick_id;
    logic              pop, pop_last;
    logic [ID_W-1:0]   pop_id;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            ent_busy   <= '0;
            ent_wait   <= '0;
            ent_served <= '0;
        end else begin
            if (mem_take && m_rlast) ent_busy[m_rid] <= 1'b0;
            if (pop_last) ent_busy[pop_id] <= 1'b0;
            if (fill_done) begin
                for (int e = 0; e < OUTS; e++) begin
                    if (ent_wait[e] && ent_fill[e] == m_rid) ent_wait[e] <= 1'b0;
                end
            end
            if (srv_pick) ent_served[pick_id] <= 1'b1;
            if (d_done) begin
                ent_busy[d_id]   <= 1'b1;
                ent_wait[d_id]   <= d_pending;
                ent_served[d_id] <= 1'b0;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (d_done) begin
            ent_kind[d_id] <= (d_kind == DEC_HIT) ? K_HIT : (d_kind == DEC_FILL) ? K_FILL : K_PASS;
            ent_slot[d_id] <= (d_kind == DEC_HIT) ? hit_slot : vic_slot;
            ent_len[d_id]  <= d_len[LEN_W-1:0];
            ent_fill[d_id] <= pend_id;
            ent_beat[d_id] <= '0;
            ent_resp[d_id] <= 2'b00;
        end
        if (fill_beat && !m_rlast) begin
            ent_beat[m_rid] <= ent_beat[m_rid] + 1'b1;
            ent_resp[m_rid] <= fill_resp;
        end
    end

    // ---------------------------------------------------------------------
    // line-store reader: hits whose line is filled, round robin over IDs,
    // one beat per cycle into a two-beat output buffer
    // ---------------------------------------------------------------------
    logic [OUTS-1:0]   ready_vec;
    logic [ID_W-1:0]   rr_ptr;
    logic              srv_active;
    logic [ID_W-1:0]   srv_id;
    logic [SLOT_W-1:0] srv_slot;
    logic [LEN_W-1:0]  srv_len;
    logic [LEN_W-1:0]  srv_beat;
    logic              srv_issue, srv_finish, buf_space;

    typedef struct packed {
        logic [DATA_W-1:0] data;
        logic [ID_W-1:0]   id;
        logic [1:0]        resp;
        logic              last;
    } hit_beat_t;
    hit_beat_t  obuf [2];
    logic [1:0] obuf_cnt;
    logic       obuf_wr, obuf_rd;

    always_comb begin
        for (int e = 0; e < OUTS; e++) begin
            ready_vec[e] = ent_busy[e] && ent_kind[e] == K_HIT && !ent_wait[e] && !ent_served[e];
        end
        // first ready ID at or after rr_ptr, else the first ready one
        pick_id = '0;
        for (int e = OUTS - 1; e >= 0; e--) if (ready_vec[e]) pick_id = ID_W'(e);
        for (int e = OUTS - 1; e >= 0; e--) if (ready_vec[e] && ID_W'(e) >= rr_ptr) pick_id = ID_W'(e);
    end

    assign buf_space  = obuf_cnt < 2'd2 || pop;
    assign srv_issue  = srv_active && buf_space;
    assign srv_finish = srv_issue && srv_beat == srv_len;
    assign srv_pick   = (!srv_active || srv_finish) && |ready_vec;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            srv_active <= 1'b0;
            rr_ptr     <= '0;
        end else begin
            if (srv_pick) begin
                srv_active <= 1'b1;
                srv_id     <= pick_id;
                srv_slot   <= ent_slot[pick_id];
                srv_len    <= ent_len[pick_id];
                srv_beat   <= '0;
                rr_ptr     <= pick_id + 1'b1;
            end else if (srv_finish) begin
                srv_active <= 1'b0;
            end else if (srv_issue) begin
                srv_beat <= srv_beat + 1'b1;
            end
        end
    end

    // the read of the line store lands in the output buffer (a synchronous read)
    logic       obuf_wp, obuf_rp;
    logic [1:0] srv_resp;
    assign obuf_wr  = srv_issue;
    assign obuf_rd  = pop;
    assign srv_resp = line_resp[srv_slot];
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            obuf_cnt <= '0;
            obuf_wp  <= 1'b0;
            obuf_rp  <= 1'b0;
        end else begin
            obuf_cnt <= obuf_cnt + 2'(obuf_wr) - 2'(obuf_rd);
            if (obuf_wr) obuf_wp <= !obuf_wp;
            if (obuf_rd) obuf_rp <= !obuf_rp;
        end
    end
    always_ff @(posedge clk) begin
        if (obuf_wr) begin
            // an error line answers its fill's response with zero data (s.11.5)
            obuf[obuf_wp].data <= srv_resp[1] ? '0
                                  : data_mem[DADDR_W'(32'(srv_slot) * LINE_BEATS + 32'(srv_beat))];
            obuf[obuf_wp].id   <= srv_id;
            obuf[obuf_wp].resp <= srv_resp;
            obuf[obuf_wp].last <= srv_beat == srv_len;
        end
    end

    // ---------------------------------------------------------------------
    // R to the requester: memory beats and line-store beats, burst by burst,
    // alternating when both wait
    // ---------------------------------------------------------------------
    logic hv;
    logic lock_mem, lock_hit, prefer_hit;
    hit_beat_t head;
    assign hv   = obuf_cnt != 2'd0;
    assign head = obuf[obuf_rp];
    always_comb begin
        if (lock_hit)      grant_hit = 1'b1;
        else if (lock_mem) grant_hit = 1'b0;
        else               grant_hit = hv && (!m_rvalid || prefer_hit);
    end

    always_comb begin
        if (en_q && grant_hit) begin
            s_rvalid = hv;
            s_rdata  = head.data;
            s_rid    = head.id;
            s_rresp  = head.resp;
            s_rlast  = head.last;
        end else begin
            s_rvalid = m_rvalid;
            s_rdata  = m_rdata;
            s_rid    = m_rid;
            s_rresp  = m_rresp;
            s_rlast  = m_rlast;
        end
    end
    assign pop      = en_q && grant_hit && hv && s_rready;
    assign pop_last = pop && head.last;
    assign pop_id   = head.id;

    always_ff @(posedge clk) begin
        if (!rst_n || !en_q) begin
            lock_mem   <= 1'b0;
            lock_hit   <= 1'b0;
            prefer_hit <= 1'b0;
        end else if (s_rvalid && s_rready) begin
            lock_hit <= grant_hit && !s_rlast;
            lock_mem <= !grant_hit && !s_rlast;
            if (s_rlast) prefer_hit <= !grant_hit;
        end
    end

    // ---------------------------------------------------------------------
    // counters and the decision trace
    // ---------------------------------------------------------------------
    always_ff @(posedge clk) begin
        if (!rst_n || cnt_clear) begin
            cnt_hits <= '0;  cnt_misses <= '0;  cnt_fills <= '0;  cnt_evictions <= '0;
            cnt_bypasses <= '0;  cnt_uncached <= '0;  cnt_bytes_saved <= '0;
            cnt_hit_pending <= '0;  cnt_stall_cycles <= '0;
        end else begin
            if (d_done) begin
                case (d_kind)
                    DEC_HIT: begin
                        cnt_hits        <= cnt_hits + 64'd1;
                        cnt_bytes_saved <= cnt_bytes_saved + (64'(d_len) + 64'd1) * 64'(BEAT_BYTES);
                        if (d_pending) cnt_hit_pending <= cnt_hit_pending + 64'd1;
                    end
                    DEC_FILL: begin
                        cnt_misses <= cnt_misses + 64'd1;
                        cnt_fills  <= cnt_fills + 64'd1;
                        if (vic_valid) cnt_evictions <= cnt_evictions + 64'd1;
                    end
                    DEC_BYPASS: begin
                        cnt_misses   <= cnt_misses + 64'd1;
                        cnt_bypasses <= cnt_bypasses + 64'd1;
                    end
                    default: cnt_uncached <= cnt_uncached + 64'd1;
                endcase
            end
            if (en_q && d_valid && d_blocked) cnt_stall_cycles <= cnt_stall_cycles + 64'd1;
        end
    end

    assign dec_valid   = d_done;
    assign dec_kind    = d_kind;
    assign dec_way     = (d_kind == DEC_HIT) ? hit_way : (d_kind == DEC_FILL) ? vic_way : '0;
    assign dec_evict   = d_kind == DEC_FILL && vic_valid;
    assign dec_pending = d_pending;
    assign dec_id      = d_id;

    // ---------------------------------------------------------------------
    // assertions (Verilator --assert)
    // ---------------------------------------------------------------------
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    // s.11.1: one read per ARID in flight (the memory side reuses the requester's IDs)
    a_id_unique: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) d_done |-> !ent_busy[d_id])
        else $error("emb_row_cache: ARID %0d reused while its read is in flight", d_id);
    // a line is in at most one way of its set
    a_one_way: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) en_q && d_valid |-> $onehot0(hit_vec))
        else $error("emb_row_cache: line in two ways of set %0d", d_set);
    // the memory-side request holds still until taken
    a_m_ar_stable: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed)
        en_q && m_arvalid && !m_arready && !switch_pending |=> m_arvalid && $stable(m_araddr) && $stable(m_arid))
        else $error("emb_row_cache: memory AR changed before ARREADY");
    // a memory beat for an ID with no read in flight
    a_r_known: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) mem_take |-> ent_busy[m_rid])
        else $error("emb_row_cache: R beat for ARID %0d with no read in flight", m_rid);
    a_obuf_bound: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) obuf_cnt <= 2'd2)
        else $error("emb_row_cache: output buffer overflow");
endmodule
