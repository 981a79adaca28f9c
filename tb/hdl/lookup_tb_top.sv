// Bench harness of the lookup subsystem: emb_lookup_top's AXI read masters
// wired to the HBM memory model (tb/hdl/hbm_mem_model.sv). Python sees only
// this module's ports: the DUT's configuration and stream ports, its
// counters, the port monitor's own counts (mon_*, tb/hdl/lookup_port_monitor.sv,
// which also logs every AR and last R beat of every engine), and the memory
// model's control ports under the prefix "hbm_".
// Batched mode (bq_mode = 1, tb/lookup/batch.py): the query stream is driven by
// lookup_query_src from a file Python writes per batch, and the feature stream is
// taken by lookup_feat_sink, which logs every vector for Python to check in bulk;
// s_query_valid and m_feat_ready are then ignored. With bq_mode = 0 (the default of
// the pyuvm agents) Python drives both streams through the ports as before.
module lookup_tb_top
    import lookup_pkg::*;
    import hbm_pkg::*;
#(
    parameter int NUM_CH     = 4,
    parameter int NUM_BANKS  = 1,
    parameter int BANK_WORDS = 1024,
    parameter int QDEPTH     = 16,
    parameter int P_MAX      = 16,
    parameter int LIST_MAX   = 16,
    parameter int T_MAX      = 16,
    parameter int DIM_MAX    = 64,
    parameter int FEAT_MAX   = 256,
    parameter int DATA_W     = 256,
    parameter int ADDR_W     = 34,
    parameter int ID_W       = 5,
    parameter int NREG       = 8,
    parameter int BQ_DEPTH   = 1024,      // queries per batch load (lookup_query_src)
    parameter int MH         = 0,         // multi-hot front end (contracts s.9.9)
    parameter int PKT_W      = 32,
    parameter int L_MAX      = 64,
    parameter int DENSE_MAX  = 16,
    parameter int CACHE            = 0,   // hot-row caches (contracts s.11)
    parameter int CACHE_LINES      = 64,
    parameter int CACHE_WAYS       = 4,
    parameter int CACHE_LINE_BEATS = 1,
    parameter int NUM_ENG    = NUM_CH + NUM_BANKS,
    parameter int PID_W      = $clog2(P_MAX),
    parameter int BWA_W      = $clog2(BANK_WORDS),
    parameter int BSEL_W     = (NUM_BANKS > 1) ? $clog2(NUM_BANKS) : 1
) (
    input  logic                     clk,
    input  logic                     rst_n,
    // lookup configuration
    input  logic                     desc_we,
    input  logic [PID_W-1:0]         desc_waddr,
    input  logic [$bits(desc_t)-1:0] desc_wdata,
    input  logic [7:0]               cfg_num_logical,
    input  logic                     cfg_commit,
    input  logic [31:0]              cfg_timeout,
    output logic                     cfg_ready,
    output logic                     cfg_bad,
    output logic [3:0]               cfg_err_code,
    output logic [PID_W-1:0]         cfg_err_table,
    input  logic                     bank_we,
    input  logic [BSEL_W-1:0]        bank_sel,
    input  logic [BWA_W-1:0]         bank_waddr,
    input  logic [DATA_W-1:0]        bank_wdata,
    // multi-hot configuration and streams (driven by Python only)
    input  logic                     cfg_multihot,
    input  logic [T_MAX*16-1:0]      cfg_bag_max,
    input  logic [T_MAX*4-1:0]       cfg_pool_shift,
    input  logic [7:0]               cfg_num_dense,
    input  logic                     s_pkt_tvalid,
    output logic                     s_pkt_tready,
    input  logic [PKT_W*32-1:0]      s_pkt_tdata,
    input  logic                     s_pkt_tlast,
    output logic                     m_dense_valid,
    input  logic                     m_dense_ready,
    output logic [31:0]              m_dense_id,
    output logic [DENSE_MAX*16-1:0]  m_dense_data,
    output logic [63:0]              perf_void,
    // streams
    input  logic                     s_query_valid,
    output logic                     s_query_ready,
    input  logic [31:0]              s_query_id,
    input  logic [T_MAX*32-1:0]      s_query_idx,
    output logic                     m_feat_valid,
    input  logic                     m_feat_ready,
    output logic [31:0]              m_feat_id,
    output logic [FEAT_MAX*16-1:0]   m_feat_data,
    output logic [3:0]               m_feat_err,
    output logic [7:0]               m_feat_err_table,
    output logic [7:0]               m_feat_err_engine,
    // batched mode: the SV query source and feature sink own the streams
    input  logic                     bq_mode,
    input  logic                     bq_load,        // one cycle: read bq_count queries from the batch file
    input  logic [31:0]              bq_count,
    input  logic [31:0]              bq_idle_thr,    // P(idle input cycle) * 2^32
    input  logic [31:0]              bq_stall_thr,   // P(stalled output cycle) * 2^32
    input  logic [63:0]              bq_seed,        // taken at bq_load
    output logic                     bq_busy,        // queries of the batch not all accepted yet
    output logic [31:0]              bq_sent,        // queries of the batch accepted
    output logic [31:0]              bq_got,         // feature vectors taken by the sink since reset
    // counters (all 64-bit, packed: see tb/lookup/lookup_env.py PERF_NAMES)
    output logic [10*64-1:0]         perf,
    output logic [NUM_ENG*(ID_W+1)-1:0] st_outstanding,
    output logic                     st_unexpected_r,
    output logic [NUM_ENG-1:0]       st_dead,
    // hot-row caches: control, and hits, misses, fills, evictions, bypasses, uncached,
    // bytes_saved (packed in that order, 64 bits each: tb/lookup/cache_check.py)
    input  logic                     cfg_cache_enable,
    input  logic                     cfg_cache_policy,
    input  logic                     cache_flush,
    output logic                     st_cache_enabled,
    output logic [7*64-1:0]          perf_cache,
    // the port monitor's independent counts (stall cycles, memory R beats)
    output logic [63:0]              mon_ar_stall_mem,
    output logic [63:0]              mon_ar_stall_bank,
    output logic [63:0]              mon_in_stall,
    output logic [63:0]              mon_out_stall,
    output logic [63:0]              mon_mem_beats,
    `include "hbm_ctrl_ports.svh"
);
`include "reset_guard.svh"
    logic [NUM_CH-1:0]             arvalid, arready, rvalid, rready, rlast;
    logic [NUM_CH-1:0][ADDR_W-1:0] araddr;
    logic [NUM_CH-1:0][7:0]        arlen;
    logic [NUM_CH-1:0][2:0]        arsize;
    logic [NUM_CH-1:0][1:0]        arburst, rresp;
    logic [NUM_CH-1:0][ID_W-1:0]   arid, rid;
    logic [NUM_CH-1:0][DATA_W-1:0] rdata;

    // the streams as the DUT sees them: from the ports, or from the batch source/sink
    logic                 q_valid, q_ready, f_ready;
    logic [31:0]          q_id;
    logic [T_MAX*32-1:0]  q_idx;
    logic                 src_valid, sink_ready;
    logic [31:0]          src_id;
    logic [T_MAX*32-1:0]  src_idx;
    logic                 log_flush;
    assign q_valid       = bq_mode ? src_valid : s_query_valid;
    assign q_id          = bq_mode ? src_id : s_query_id;
    assign q_idx         = bq_mode ? src_idx : s_query_idx;
    assign f_ready       = bq_mode ? sink_ready : m_feat_ready;
    assign s_query_ready = q_ready;
    assign log_flush     = hbm_cmd_valid && hbm_cmd_op == 4'(OP_FLUSH_LOG);

    lookup_query_src #(.T_MAX(T_MAX), .DEPTH(BQ_DEPTH)) u_bq_src (
        .clk, .rst_n(core_rst_n), .load(bq_mode && bq_load), .count(bq_count), .idle_thr(bq_idle_thr),
        .seed(bq_seed), .cycle(hbm_cycle), .flush(log_flush),
        .valid(src_valid), .ready(q_ready), .id(src_id), .idx(src_idx), .busy(bq_busy), .sent(bq_sent)
    );

    lookup_feat_sink #(.FEAT_MAX(FEAT_MAX)) u_bq_sink (
        .clk, .rst_n(core_rst_n), .enable(bq_mode), .stall_thr(bq_stall_thr), .seed(bq_seed ^ 64'h5851_F42D_4C95_7F2D),
        .seed_load(bq_mode && bq_load), .cycle(hbm_cycle), .flush(log_flush),
        .valid(m_feat_valid), .ready(sink_ready), .id(m_feat_id), .data(m_feat_data), .err(m_feat_err),
        .err_table(m_feat_err_table), .err_engine(m_feat_err_engine), .count(bq_got)
    );


    emb_lookup_top #(
        .NUM_CH(NUM_CH), .NUM_BANKS(NUM_BANKS), .BANK_WORDS(BANK_WORDS), .QDEPTH(QDEPTH),
        .P_MAX(P_MAX), .LIST_MAX(LIST_MAX), .T_MAX(T_MAX), .DIM_MAX(DIM_MAX),
        .FEAT_MAX(FEAT_MAX), .DATA_W(DATA_W), .ADDR_W(ADDR_W), .ID_W(ID_W), .QID_W(32),
        .MH(MH), .PKT_W(PKT_W), .L_MAX(L_MAX), .DENSE_MAX(DENSE_MAX),
        .CACHE(CACHE), .CACHE_LINES(CACHE_LINES), .CACHE_WAYS(CACHE_WAYS), .CACHE_LINE_BEATS(CACHE_LINE_BEATS)
    ) u_dut (
        .clk, .rst_n(core_rst_n),
        .desc_we, .desc_waddr, .desc_wdata(desc_t'(desc_wdata)),
        .cfg_num_logical, .cfg_commit, .cfg_timeout, .cfg_ready, .cfg_bad, .cfg_err_code, .cfg_err_table,
        .bank_we, .bank_sel, .bank_waddr, .bank_wdata,
        .s_query_valid(q_valid), .s_query_ready(q_ready), .s_query_id(q_id), .s_query_idx(q_idx),
        .cfg_multihot, .cfg_bag_max, .cfg_pool_shift, .cfg_num_dense,
        .s_pkt_tvalid, .s_pkt_tready, .s_pkt_tdata, .s_pkt_tlast,
        .m_dense_valid, .m_dense_ready, .m_dense_id, .m_dense_data, .perf_lookups_void(perf_void),
        .m_feat_valid, .m_feat_ready(f_ready), .m_feat_id, .m_feat_data, .m_feat_err,
        .m_feat_err_table, .m_feat_err_engine,
        .m_axi_arvalid(arvalid), .m_axi_arready(arready), .m_axi_araddr(araddr),
        .m_axi_arlen(arlen), .m_axi_arsize(arsize), .m_axi_arburst(arburst), .m_axi_arid(arid),
        .m_axi_rvalid(rvalid), .m_axi_rready(rready), .m_axi_rdata(rdata), .m_axi_rid(rid),
        .m_axi_rresp(rresp), .m_axi_rlast(rlast),
        .perf_cycles(perf[0*64 +: 64]), .perf_queries(perf[1*64 +: 64]),
        .perf_lookups_mem(perf[2*64 +: 64]), .perf_lookups_onchip(perf[3*64 +: 64]),
        .perf_beats(perf[4*64 +: 64]), .perf_ar_stall(perf[5*64 +: 64]),
        .perf_in_stall(perf[6*64 +: 64]), .perf_out_stall(perf[7*64 +: 64]),
        .perf_errors(perf[8*64 +: 64]), .perf_ooo(perf[9*64 +: 64]),
        .perf_clear(1'b0), .st_busy(),
        .st_outstanding(st_outstanding), .st_unexpected_r, .st_dead,
        .cfg_cache_enable, .cfg_cache_policy, .cache_flush, .st_cache_enabled,
        .perf_cache_hits(perf_cache[0*64 +: 64]), .perf_cache_misses(perf_cache[1*64 +: 64]),
        .perf_cache_fills(perf_cache[2*64 +: 64]), .perf_cache_evictions(perf_cache[3*64 +: 64]),
        .perf_cache_bypasses(perf_cache[4*64 +: 64]), .perf_cache_uncached(perf_cache[5*64 +: 64]),
        .perf_cache_bytes_saved(perf_cache[6*64 +: 64])
    );

    // every engine's ports, memory channels and on-chip banks alike (the banks are
    // inside the DUT: reached by hierarchical reference, a bench-only construct)
    lookup_port_monitor #(
        .NUM_ENG(NUM_ENG), .NUM_CH(NUM_CH), .ID_W(ID_W), .ADDR_W(ADDR_W)
    ) u_port_mon (
        .clk, .rst_n(core_rst_n), .clear(1'b0),
        .flush(log_flush),
        .arvalid(u_dut.arvalid), .arready(u_dut.arready), .araddr(u_dut.araddr), .arlen(u_dut.arlen),
        .arid(u_dut.arid), .rvalid(u_dut.rvalid), .rready(u_dut.rready), .rlast(u_dut.rlast),
        .rid(u_dut.rid), .rresp(u_dut.rresp),
        // the DUT's in_stall counts a stalled query or packet input: so does the monitor
        .in_valid((q_valid && !q_ready) || (s_pkt_tvalid && !s_pkt_tready)), .in_ready(1'b0),
        .out_valid(m_feat_valid), .out_ready(f_ready),
        .mon_ar_stall_mem, .mon_ar_stall_bank, .mon_in_stall, .mon_out_stall, .mon_mem_beats
    );

    `include "hbm_read_only.svh"
endmodule
