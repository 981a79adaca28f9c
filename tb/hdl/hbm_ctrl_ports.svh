// Port declarations of the HBM memory model's control side, as a harness
// toplevel brings them out for tb.hbm.HbmMemory (prefix "hbm_"). Included at
// the end of a harness port list; the includer declares DATA_W.
    input  logic                     hbm_cmd_valid,
    input  logic [3:0]               hbm_cmd_op,
    input  logic [7:0]               hbm_cmd_ch,
    input  logic [63:0]              hbm_cmd_addr,
    input  logic [DATA_W-1:0]        hbm_cmd_wdata,
    input  logic [DATA_W/8-1:0]      hbm_cmd_wstrb,
    output logic [DATA_W-1:0]        hbm_cmd_rdata,
    output logic [64*N_STAT-1:0]     hbm_stat_vec,
    output logic [63:0]              hbm_cycle,
    output logic                     hbm_viol_any,
    output logic [31:0]              hbm_viol_count,
    output logic [7:0]               hbm_viol_code,
    output logic [2:0]               hbm_viol_kind,
    output logic [7:0]               hbm_viol_ch,
    output logic [63:0]              hbm_viol_cycle,
    output logic [63:0]              hbm_viol_addr,
    output logic [15:0]              hbm_viol_id,
    output logic [7:0]               hbm_viol_len,
    output logic [2:0]               hbm_viol_size,
    output logic [1:0]               hbm_viol_burst
