// Bench harness of the hot-row cache: the bench's AXI read master (Python,
// the s_* ports) -> emb_row_cache -> one channel of the HBM memory model.
// PRESENT=0 builds the same harness with a wire in the cache's place, the
// reference for "a disabled cache is cycle-identical to no cache".
module cache_tb_top
    import hbm_pkg::*;
#(
    parameter int PRESENT    = 1,
    parameter int LINES      = 16,
    parameter int WAYS       = 4,
    parameter int LINE_BEATS = 2,
    parameter int DATA_W     = 256,
    parameter int ADDR_W     = 34,
    parameter int ID_W       = 4,
    parameter int CM_LOG2    = $clog2(LINES) + 1,
    parameter int AGE_LOG2   = $clog2(LINES) + 3,
    parameter int NREG       = 8,
    parameter int NUM_CH     = 1,
    parameter int WAY_W      = (WAYS > 1) ? $clog2(WAYS) : 1
) (
    input  logic              clk,
    input  logic              rst_n,
    input  logic              cfg_enable,
    input  logic              cfg_policy,
    input  logic              flush,
    input  logic              cnt_clear,
    output logic              st_enabled,
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
    // counters, packed 64-bit (tb/cache/cache_env.py CNT_NAMES)
    output logic [9*64-1:0]   cnt,
    output logic              dec_valid,
    output logic [1:0]        dec_kind,
    output logic [WAY_W-1:0]  dec_way,
    output logic              dec_evict,
    output logic              dec_pending,
    output logic [ID_W-1:0]   dec_id,
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

    if (PRESENT != 0) begin : g_cache
        emb_row_cache #(
            .LINES(LINES), .WAYS(WAYS), .LINE_BEATS(LINE_BEATS), .DATA_W(DATA_W), .ADDR_W(ADDR_W),
            .ID_W(ID_W), .CM_LOG2(CM_LOG2), .AGE_LOG2(AGE_LOG2)
        ) u_cache (
            .clk, .rst_n(core_rst_n),
            .cfg_enable, .cfg_policy, .flush, .cnt_clear, .st_enabled,
            .s_arvalid, .s_arready, .s_araddr, .s_arlen, .s_arsize, .s_arburst, .s_arid,
            .s_rvalid, .s_rready, .s_rdata, .s_rid, .s_rresp, .s_rlast,
            .m_arvalid(arvalid[0]), .m_arready(arready[0]), .m_araddr(araddr[0]), .m_arlen(arlen[0]),
            .m_arsize(arsize[0]), .m_arburst(arburst[0]), .m_arid(arid[0]),
            .m_rvalid(rvalid[0]), .m_rready(rready[0]), .m_rdata(rdata[0]), .m_rid(rid[0]),
            .m_rresp(rresp[0]), .m_rlast(rlast[0]),
            .cnt_hits(cnt[0*64 +: 64]), .cnt_misses(cnt[1*64 +: 64]), .cnt_fills(cnt[2*64 +: 64]),
            .cnt_evictions(cnt[3*64 +: 64]), .cnt_bypasses(cnt[4*64 +: 64]), .cnt_uncached(cnt[5*64 +: 64]),
            .cnt_bytes_saved(cnt[6*64 +: 64]), .cnt_hit_pending(cnt[7*64 +: 64]),
            .cnt_stall_cycles(cnt[8*64 +: 64]),
            .dec_valid, .dec_kind, .dec_way, .dec_evict, .dec_pending, .dec_id
        );
    end else begin : g_wire
        assign arvalid[0] = s_arvalid;
        assign s_arready  = arready[0];
        assign araddr[0]  = s_araddr;
        assign arlen[0]   = s_arlen;
        assign arsize[0]  = s_arsize;
        assign arburst[0] = s_arburst;
        assign arid[0]    = s_arid;
        assign s_rvalid   = rvalid[0];
        assign rready[0]  = s_rready;
        assign s_rdata    = rdata[0];
        assign s_rid      = rid[0];
        assign s_rresp    = rresp[0];
        assign s_rlast    = rlast[0];
        assign cnt        = '0;
        assign st_enabled = 1'b0;
        assign {dec_valid, dec_kind, dec_way, dec_evict, dec_pending, dec_id} = '0;
        logic unused_ctrl;
        assign unused_ctrl = ^{cfg_enable, cfg_policy, flush, cnt_clear};
    end

    `include "hbm_read_only.svh"
endmodule
