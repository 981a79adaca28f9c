// Bench harness for the multi-hot query path (tb/dlrm_ingress): the packet
// ingress and the bag pooling side by side, each with its own ports; the
// bench's behavioural row fetch (Python) connects the one to the other.
// WIDE = 0: query_packet_ingress (one index entry per cycle, m_idx_mask tied to
// 1); WIDE = 1: query_packet_ingress_wide (a group of up to W entries per cycle).
module dlrm_ingress_tb_top #(
    parameter int W     = 4,
    parameter int T_MAX = 8,
    parameter int D_MAX = 4,
    parameter int L_MAX = 64,
    parameter int DIM   = 4,
    parameter int SLOTS = 4,
    parameter bit WIDE  = 1'b0,
    localparam int LANES  = WIDE ? W : 1,
    localparam int SLOT_W = SLOTS > 1 ? $clog2(SLOTS) : 1
) (
    input  logic                 clk,
    input  logic                 rst_n,
    input  logic [7:0]           cfg_num_tables,
    input  logic [7:0]           cfg_num_dense,
    input  logic [T_MAX*16-1:0]  cfg_bag_max,
    input  logic [T_MAX*32-1:0]  cfg_rows,
    input  logic                 s_tvalid,
    output logic                 s_tready,
    input  logic [W*32-1:0]      s_tdata,
    input  logic                 s_tlast,
    output logic                 m_hdr_valid,
    input  logic                 m_hdr_ready,
    output logic [31:0]          m_hdr_qid,
    output logic [15:0]          m_hdr_seq,
    output logic [15:0]          m_hdr_num,
    output logic [T_MAX*16-1:0]  m_hdr_len,
    output logic [D_MAX*16-1:0]  m_hdr_dense,
    output logic                 m_idx_valid,
    input  logic                 m_idx_ready,
    output logic [LANES-1:0]     m_idx_mask,
    output logic [LANES*8-1:0]   m_idx_table,
    output logic [LANES*32-1:0]  m_idx_index,
    output logic [LANES-1:0]     m_idx_void,
    output logic [LANES-1:0]     m_idx_last_bag,
    output logic [LANES-1:0]     m_idx_last_query,
    output logic [LANES-1:0]     m_idx_abort,
    output logic                 m_err_valid,
    input  logic                 m_err_ready,
    output logic [31:0]          m_err_qid,
    output logic [15:0]          m_err_seq,
    output logic [3:0]           m_err_code,
    output logic [7:0]           m_err_table,
    input  logic                 s_bag_valid,
    output logic                 s_bag_ready,
    input  logic [SLOT_W-1:0]    s_bag_slot,
    input  logic [7:0]           s_bag_table,
    input  logic [15:0]          s_bag_len,
    input  logic [3:0]           s_bag_shift,
    input  logic                 s_drop_valid,
    output logic                 s_drop_ready,
    input  logic [SLOT_W-1:0]    s_drop_slot,
    input  logic                 s_row_valid,
    output logic                 s_row_ready,
    input  logic [SLOT_W-1:0]    s_row_slot,
    input  logic [7:0]           s_row_table,
    input  logic [DIM*16-1:0]    s_row_data,
    output logic                 m_pool_valid,
    input  logic                 m_pool_ready,
    output logic [SLOT_W-1:0]    m_pool_slot,
    output logic [7:0]           m_pool_table,
    output logic [DIM*16-1:0]    m_pool_data,
    // the build, read back by the bench
    output logic [31:0]          cap_w,
    output logic [31:0]          cap_l_max,
    output logic [31:0]          cap_lanes
);
    assign cap_w     = 32'(W);
    assign cap_l_max = 32'(L_MAX);
    assign cap_lanes = 32'(LANES);

    if (WIDE) begin : g_wide
        query_packet_ingress_wide #(.W(W), .T_MAX(T_MAX), .D_MAX(D_MAX), .L_MAX(L_MAX)) u_ingress (.*);
    end else begin : g_narrow
        assign m_idx_mask = 1'b1;
        query_packet_ingress #(.W(W), .T_MAX(T_MAX), .D_MAX(D_MAX), .L_MAX(L_MAX)) u_ingress (.*);
    end
    bag_pool #(.DIM(DIM), .L_MAX(L_MAX), .SLOTS(SLOTS), .T_MAX(T_MAX)) u_pool (.*);
endmodule
