// Types shared by the embedding-lookup subsystem. The descriptor layout is
// the contract of docs/contracts.md section 5; tb/lookup/descriptor.py packs
// the same fields in the same order (MSB first).
package lookup_pkg;

    typedef struct packed {
        logic        valid;
        logic        onchip;
        logic [7:0]  channel;
        logic [39:0] base;
        logic [3:0]  stride_log2;
        logic [31:0] rows;
        logic [8:0]  dim;
        logic        is_product;
        logic [7:0]  lt_a;
        logic [7:0]  lt_b;
        logic [31:0] rows_b;
        logic [8:0]  dim_a;
        logic [15:0] feat_off_a;
        logic [15:0] feat_off_b;
    } desc_t;

    // Error codes of a lookup / a query's error record (0 = none).
    typedef enum logic [3:0] {
        ERR_NONE       = 4'd0,
        ERR_IDX_RANGE  = 4'd1,   // an index outside its table
        ERR_AXI_SLVERR = 4'd2,   // memory answered SLVERR
        ERR_AXI_DECERR = 4'd3,   // memory answered DECERR
        ERR_TIMEOUT    = 4'd4,   // a read never came back (watchdog)
        ERR_BAD_CONFIG = 4'd5,   // the committed descriptors are illegal
        ERR_BAG_LEN    = 4'd6,   // a bag longer than its table's bag_max (contracts 9.6)
        ERR_PACKET     = 4'd7,   // a malformed query packet (contracts 9.7)
        ERR_TOPK       = 4'd8    // an illegal top-k request (top level, contracts 10.6; err_table = the unit's code)
    } err_code_e;

    // Why a descriptor was rejected at commit (status register detail).
    typedef enum logic [3:0] {
        CFG_OK            = 4'd0,
        CFG_BAD_ENGINE    = 4'd1,  // channel / bank does not exist in this build
        CFG_BAD_STRIDE    = 4'd2,  // stride_log2 outside 1..12 or stride < 2*dim
        CFG_BAD_DIM       = 4'd3,  // dim 0, above DIM_MAX, or dim_a > dim
        CFG_BAD_TABLE_ID  = 4'd4,  // lt_a / lt_b >= number of logical tables
        CFG_BAD_FEATURE   = 4'd5,  // a half does not fit in the feature vector
        CFG_BAD_BASE      = 4'd6,  // memory table not 4 KiB aligned
        CFG_BAD_ROWS      = 4'd7,  // rows or rows_b zero
        CFG_LIST_OVERFLOW = 4'd8,  // more tables on one engine than LIST_MAX
        CFG_BAD_SLOT      = 4'd9,  // a descriptor written to a slot >= P_MAX (top level)
        CFG_BAD_EXTENT    = 4'd10, // the table runs past its bank / the address space
        CFG_DMA_FAILED    = 4'd11, // a DMA lost words (error response); until soft reset (top level)
        CFG_BAD_QUANT     = 4'd12, // an illegal MLP precision / 2:4 combination (MLP_QUANT, top level)
        CFG_BAD_MULTIHOT  = 4'd13, // multi-hot mode not built, a bag_max outside 1..L_MAX, a product
                                   // while multi-hot, or too many tables / dense features (s.9.9)
        CFG_BAD_DLRM      = 4'd14, // an illegal DLRM back-half configuration (top level, s.7.2)
        CFG_BAD_CACHE     = 4'd15  // CACHE_CTRL.enable on a build without hot-row caches (top level, s.11.11)
    } cfg_err_e;

    // Top-level reasons past the 4-bit cfg_err_e (CFG_ERR.code is 8 bits wide, contracts s.10.6).
    typedef enum logic [7:0] {
        CFG_BAD_MLP_BASE = 8'd16,  // a model past WDEPTH / BDEPTH at MLP_WBASE / MLP_BBASE
        CFG_BAD_TOPK     = 8'd17   // TOPK_CTRL.enable on a build without the top-k unit
    } cfg_err_top_e;

endpackage
