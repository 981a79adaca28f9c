// hbm_pkg: shared definitions of the HBM/DDR AXI memory model (tb/hdl).
//
// The procedural row content (docs/contracts.md section 1) lives here, so the
// memory model and any other SV bench compute exactly what models/tables.py
// computes. Register, statistic and violation numbering is mirrored in
// tb/hbm/regs.py; change both together.
package hbm_pkg;

  // ---------------------------------------------------------------- hash
  localparam logic [31:0] TABLE_MUL = 32'h9E3779B9;
  localparam logic [31:0] PAIR_MUL  = 32'h85EBCA6B;

  // xorshift32: the models' fault/backpressure randomness (not the table contents)
  function automatic logic [31:0] xs32(input logic [31:0] s_in);
    logic [31:0] s;
    s = s_in;
    s = s ^ (s << 13);
    s = s ^ (s >> 17);
    s = s ^ (s << 5);
    return s;
  endfunction

  // xorshift64*: the lookup harness's batch source and sink draw idle/stall cycles
  // with it (one step, then the scrambled upper half)
  function automatic longint unsigned xs64(input longint unsigned s_in);
    longint unsigned s;
    s = s_in;
    s = s ^ (s >> 12);
    s = s ^ (s << 25);
    return s ^ (s >> 27);
  endfunction
  function automatic logic [31:0] xs64_out(input longint unsigned s);
    longint unsigned m;
    m = s * 64'h2545_F491_4F6C_DD1D;
    return m[63:32];
  endfunction

  function automatic logic [31:0] mix32(input logic [31:0] x_in);
    logic [31:0] x;
    x = x_in;
    x = x ^ (x >> 16);
    x = x * 32'h7FEB352D;
    x = x ^ (x >> 15);
    x = x * 32'h846CA68B;
    x = x ^ (x >> 16);
    return x;
  endfunction

  // mix32(seed ^ (t * 0x9E3779B9)): the per-table part of row_key.
  function automatic logic [31:0] table_key(input logic [31:0] seed, input logic [31:0] t);
    return mix32(seed ^ (t * TABLE_MUL));
  endfunction

  function automatic logic [31:0] row_key(input logic [31:0] tkey, input logic [31:0] r);
    return mix32(tkey ^ r);
  endfunction

  function automatic logic [31:0] pair_word(input logic [31:0] key, input logic [31:0] j);
    return mix32(key ^ (j * PAIR_MUL));
  endfunction

  // ---------------------------------------------------------------- commands
  localparam int OP_NOP        = 0;
  localparam int OP_REG_WRITE  = 1;  // ch reg[addr] = wdata[63:0]   (ch 255: all channels)
  localparam int OP_MEM_WRITE  = 2;  // backdoor beat write, byte strobes
  localparam int OP_MEM_READ   = 3;  // rdata = beat at addr (overrides merged with procedural)
  localparam int OP_REG_READ   = 4;  // rdata = reg[addr]
  localparam int OP_SNAPSHOT   = 5;  // stats of every channel -> shadow copy
  localparam int OP_STAT_SEL   = 6;  // stat_vec = shadow stats of channel ch
  localparam int OP_CLEAR_STAT = 7;  // zero the live statistics (ch 255: all)
  localparam int OP_FLUSH_LOG  = 8;  // $fflush the transaction log
  localparam int OP_CLEAR_MEM  = 9;  // drop every override of channel ch (255: all)
  localparam int OP_CLEAR_VIOL = 10; // clear the sticky violation record
  localparam int OP_MEM_LOAD   = 11; // backdoor: wdata[31:0] whole beats from the file hbm_load.bin at addr

  // ---------------------------------------------------------------- registers
  localparam int R_CTRL       = 0;   // bit0 ooo, bit1 log, bit2 ar flow control, bit3 checks,
                                     // bit4 axi3 (len<=16), bit5 bank model,
                                     // bit6 allow unaligned start addresses
  localparam int R_LAT_BASE   = 1;
  localparam int R_T_CL       = 2;
  localparam int R_T_RCD      = 3;
  localparam int R_T_RP       = 4;
  localparam int R_COL_BITS   = 5;
  localparam int R_BANK_BITS  = 6;
  localparam int R_T_REFI     = 7;   // 0: no refresh
  localparam int R_T_RFC      = 8;
  localparam int R_REF_PHASE  = 9;
  localparam int R_BW_NUM     = 10;  // beats per cycle = num / 65536 (>= 65536: uncapped)
  localparam int R_BW_BURST   = 11;  // token bucket depth in beats
  localparam int R_MAX_OUT    = 12;
  localparam int R_CH_BYTES   = 13;  // capacity: addresses at or above -> DECERR
  localparam int R_P_AR_STALL = 14;  // probabilities in 1/65536
  localparam int R_P_R_STALL  = 15;
  localparam int R_P_W_STALL  = 16;
  localparam int R_P_ERR      = 17;
  localparam int R_ERR_RESP   = 18;  // resp of random errors (2 SLVERR, 3 DECERR)
  localparam int R_STUCK      = 19;  // 0 ok, 1 accepts but never answers, 2 never ready
  localparam int R_JITTER     = 20;  // extra read latency, uniform 0..jitter
  localparam int R_RNG_SEED   = 21;
  localparam int R_W_LAT      = 22;
  localparam int R_HIST_SHIFT = 23;
  localparam int R_NREG       = 24;
  localparam int R_SEED       = 25;  // model seed (contracts.md 1)
  localparam int R_EMB_SHIFT  = 26;
  localparam int R_N_ERR_RNG  = 27;
  localparam int R_PHANTOM    = 28;  // fault: R beats still to send with an ID not in flight
  localparam int R_AR_AFTER_VALID = 29;  // 1: ARREADY only after ARVALID waited a cycle (AXI A3.2.1 lets a slave wait)
  localparam int R_ERR_BASE   = 32;  // + 4*i: lo, hi (exclusive), resp
  localparam int N_ERR_RANGES = 4;
  localparam int R_REG_BASE   = 64;  // + 8*r: base, rows, stride_log2, dim, tA, tB, rows_B, dim_A
  localparam int REG_FIELDS   = 8;

  // ---------------------------------------------------------------- statistics
  localparam int S_READS = 0, S_READ_BEATS = 1, S_WRITES = 2, S_WRITE_BEATS = 3,
                 S_R_BUSY = 4, S_CYCLES = 5, S_LAT_SUM = 6, S_LAT_MIN = 7, S_LAT_MAX = 8,
                 S_ROW_HIT = 9, S_ROW_MISS = 10, S_ROW_CLOSED = 11, S_REF_STALLS = 12,
                 S_REF_STALL_CYC = 13, S_ERR_BEATS = 14, S_AR_STALL = 15, S_R_STALL = 16,
                 S_MAX_OUT = 17, S_OUTSTANDING = 18, S_VIOLATIONS = 19, S_BW_STALL = 20,
                 S_W_STALL = 21, S_BURST_SUM = 22, S_STUCK_DROPS = 23, S_PHANTOM = 24, S_HIST = 25;
  localparam int N_HIST = 16;
  localparam int N_STAT = S_HIST + N_HIST;

  // ---------------------------------------------------------------- violations
  localparam int V_NONE = 0, V_VALID_DROP = 1, V_PAYLOAD_CHANGE = 2, V_CROSS_4K = 3,
                 V_BURST_RESERVED = 4, V_SIZE_TOO_BIG = 5, V_WRAP_LEN = 6, V_FIXED_LEN = 7,
                 V_LEN_AXI3 = 8, V_UNALIGNED = 9, V_XZ_CONTROL = 10, V_OUTSTANDING = 11,
                 V_WLAST = 12;
  // which AXI channel a violation was seen on
  localparam int K_AR = 0, K_AW = 1, K_W = 2, K_R = 3, K_B = 4;

endpackage
