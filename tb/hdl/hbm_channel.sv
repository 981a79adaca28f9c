// hbm_channel: one AXI4 slave channel of the memory model (see hbm_mem_model.sv).
//
// Behavioural, non-synthesizable SV for Verilator. Everything that happens per
// cycle (timing, data, faults, protocol checks, statistics) is here, so the
// Python side only configures and reads results per batch.
//
// Timing model (per read burst, decided when AR is accepted, O(1) per burst):
//   start  = max(accept, bank_free[bank]); a start inside a refresh blackout
//            [k*tREFI - phase, +tRFC) moves to its end and closes every row;
//   lat    = base + CL (row hit) | base + tRCD + CL (closed) | base + tRP + tRCD + CL (miss);
//   ready  = start + lat + jitter, then raised to keep AXI order: to the ready
//            time of the previous burst of the same ID (ooo=1) or of any ID (ooo=0).
// Bursts wait in a queue sorted by (ready, arrival); the R channel sends the
// head when its ready time has come, one beat per cycle at most, limited by a
// token bucket (bandwidth cap) and random RVALID gaps. Bursts do not
// interleave. Writes: W is accepted only for an accepted AW; B follows the
// last W beat after W_LAT cycles, in order.
// Phantom-beat fault (R_PHANTOM = n): n times, in a cycle the R channel has
// nothing to send while reads are in flight, it sends one beat (RLAST, OKAY,
// data 0xBAD0_0000 + k) whose RID is the highest ID not in flight, and only
// when at least two IDs are free: a master that allocates IDs from the lowest
// (the lookup engine) cannot have just reused it. Such a beat answers no read.
// Ready-after-valid (R_AR_AFTER_VALID = 1): ARREADY rises only in the cycle after
// ARVALID was seen low-ready, one AR every two cycles at best.
// Behavioural testbench model: int/longint arithmetic is mixed with port widths on purpose.
/* verilator lint_off WIDTH */
module hbm_channel
  import hbm_pkg::*;
#(
  parameter int DATA_W = 256,
  parameter int ID_W   = 6,
  parameter int ADDR_W = 34,
  parameter int NREG   = 8
) (
  input  logic                  clk,
  input  logic [7:0]            ch_num,     // channel number for messages and the log
  input  logic                  rst_n,
  input  logic [63:0]           cyc,
  input  int                    log_fd,
  // command port (shared by all channels)
  input  logic                  cmd_valid,   // a command for this channel (or all)
  input  logic [3:0]            cmd_op,
  input  logic [63:0]           cmd_addr,
  input  logic [DATA_W-1:0]     cmd_wdata,
  input  logic [DATA_W/8-1:0]   cmd_wstrb,
  output logic [DATA_W-1:0]     ch_rdata,
  output logic [64*N_STAT-1:0]  ch_snap,
  // violation pulse and the offending transaction
  output logic                  v_pulse,
  output logic [7:0]            v_code,
  output logic [2:0]            v_kind,
  output logic [63:0]           v_addr,
  output logic [15:0]           v_id,
  output logic [7:0]            v_len,
  output logic [2:0]            v_size,
  output logic [1:0]            v_burst,
  // AXI4 slave
  input  logic                  arvalid,
  output logic                  arready,
  input  logic [ID_W-1:0]       arid,
  input  logic [ADDR_W-1:0]     araddr,
  input  logic [7:0]            arlen,
  input  logic [2:0]            arsize,
  input  logic [1:0]            arburst,
  output logic                  rvalid,
  input  logic                  rready,
  output logic [ID_W-1:0]       rid,
  output logic [DATA_W-1:0]     rdata,
  output logic [1:0]            rresp,
  output logic                  rlast,
  input  logic                  awvalid,
  output logic                  awready,
  input  logic [ID_W-1:0]       awid,
  input  logic [ADDR_W-1:0]     awaddr,
  input  logic [7:0]            awlen,
  input  logic [2:0]            awsize,
  input  logic [1:0]            awburst,
  input  logic                  wvalid,
  output logic                  wready,
  input  logic [DATA_W-1:0]     wdata,
  input  logic [DATA_W/8-1:0]   wstrb,
  input  logic                  wlast,
  output logic                  bvalid,
  input  logic                  bready,
  output logic [ID_W-1:0]       bid,
  output logic [1:0]            bresp
);
  /*verilator no_inline_module*/   // one C++ class shared by every channel: fast builds
  localparam int BEAT    = DATA_W / 8;
  localparam int BEAT_LG = $clog2(BEAT);
  localparam string LOAD_FILE = "hbm_load.bin";   // OP_MEM_LOAD's image, in the simulation's directory
  localparam int NLANE   = DATA_W / 16;
  localparam int NREGS   = R_REG_BASE + REG_FIELDS * NREG;
  localparam int MAX_MSG = 10;

  typedef struct {
    longint unsigned ready;
    longint unsigned acc;
    longint unsigned addr;
    int unsigned     id;
    int unsigned     len;
    int unsigned     size;
    int unsigned     burst;
    int unsigned     err;      // forced resp for every beat (random error), 0 none
    int unsigned     rowst;    // 0 none, 1 hit, 2 closed, 3 miss
    int unsigned     refd;     // delayed by refresh
  } rreq_t;

  typedef struct {
    longint unsigned acc;
    longint unsigned addr;
    int unsigned     id;
    int unsigned     len;
    int unsigned     size;
    int unsigned     burst;
  } wreq_t;

  typedef struct {
    longint unsigned ready;
    longint unsigned acc;
    longint unsigned first;
    longint unsigned addr;
    int unsigned     id;
    int unsigned     len;
    int unsigned     size;
    int unsigned     burst;
    int unsigned     resp;
  } bresp_t;

  // ------------------------------------------------------------------ state
  longint unsigned regs [NREGS];
  logic [31:0]     tk_a [NREG];
  logic [31:0]     tk_b [NREG];
  longint unsigned reg_end [NREG];
  int              last_reg;

  longint unsigned stats [N_STAT];
  logic [DATA_W-1:0] ovr_data [longint unsigned];
  logic [DATA_W-1:0] ovr_mask [longint unsigned];

  rreq_t  pend_q [$];
  wreq_t  aw_q   [$];
  bresp_t b_q    [$];
  longint unsigned last_ready_id [int unsigned];
  longint unsigned last_ready_any;

  longint unsigned bank_free  [64];
  longint unsigned bank_row   [64];
  longint unsigned bank_epoch [64];
  logic            bank_open  [64];

  logic [31:0] rng;
  longint unsigned tokens;
  int unsigned outstanding, w_outstanding;
  int unsigned msgs;

  // current read burst on R
  logic            r_phantom;   // the beat on R is a phantom (fault), not part of a burst
  logic            r_active;
  rreq_t           r_cur;
  longint unsigned r_addr;
  int unsigned     r_beat;
  longint unsigned r_first;
  int unsigned     r_worst;
  // current write burst on W
  logic            w_active;
  wreq_t           w_cur;
  longint unsigned w_addr;
  int unsigned     w_beat;
  int unsigned     w_worst;
  longint unsigned w_first;

  // previous-cycle handshake state for the stability checks
  logic            ar_wait, aw_wait, w_wait;
  logic [ADDR_W-1:0] ar_s_addr, aw_s_addr;
  logic [ID_W-1:0]   ar_s_id, aw_s_id;
  logic [7:0]        ar_s_len, aw_s_len;
  logic [2:0]        ar_s_size, aw_s_size;
  logic [1:0]        ar_s_burst, aw_s_burst;
  logic [DATA_W-1:0] w_s_data;
  logic [DATA_W/8-1:0] w_s_strb;
  logic              w_s_last;
  logic              vflag;   // a violation was reported this cycle
  int                vq_code, vq_kind;
  longint unsigned   vq_addr;
  int unsigned       vq_id, vq_len, vq_size, vq_burst;

  // ------------------------------------------------------------------ helpers

  // true with probability p/65536
  function automatic logic chance(input longint unsigned p);
    if (p == 0) return 1'b0;
    if (p >= 65536) return 1'b1;
    rng = xs32(rng);
    return longint'(rng[15:0]) < p;
  endfunction

  function automatic void recompute_keys();
    /*verilator unroll_disable*/
    for (int g = 0; g < NREG; g++) begin
      tk_a[g] = table_key(regs[R_SEED][31:0], regs[R_REG_BASE + REG_FIELDS*g + 4][31:0]);
      tk_b[g] = table_key(regs[R_SEED][31:0], regs[R_REG_BASE + REG_FIELDS*g + 5][31:0]);
      reg_end[g] = regs[R_REG_BASE + REG_FIELDS*g] +
                   (regs[R_REG_BASE + REG_FIELDS*g + 1] << regs[R_REG_BASE + REG_FIELDS*g + 2]);
    end
  endfunction

  function automatic int find_region(input longint unsigned a);
    int n;
    n = int'(regs[R_NREG]);
    if (n > NREG) n = NREG;
    if (last_reg < n && a >= regs[R_REG_BASE + REG_FIELDS*last_reg] && a < reg_end[last_reg])
      return last_reg;
    for (int g = 0; g < n; g++)
      if (a >= regs[R_REG_BASE + REG_FIELDS*g] && a < reg_end[g]) begin
        last_reg = g;
        return g;
      end
    return -1;
  endfunction

  // Procedural content of one beat of a region at byte offset off (pure: one C++ function).
  function automatic logic [DATA_W-1:0] region_beat(
      input longint unsigned off, input longint unsigned rows, input int slog, input int dim,
      input longint unsigned rows_b, input int dim_a, input logic [31:0] tka, input logic [31:0] tkb,
      input int shift);
    /*verilator no_inline_task*/
    logic [DATA_W-1:0] d;
    int k, kk, tsel, c_tab;
    longint unsigned o, r, smask, row, c_row, c_r, i_a, i_b;
    longint unsigned j, c_j;
    logic [31:0] key, w;
    logic [15:0] half;
    logic c_key, c_w, c_prod, prod;
    d = '0;
    prod  = rows_b != 0;
    smask = (64'd1 << slog) - 1;
    // fast path: a plain table whose rows are at least a beat wide (one row key, whole pairs)
    if (!prod && slog >= BEAT_LG) begin
      r = off >> slog;
      if (r >= rows) return d;
      k = int'((off & smask) >> 1);           // even: off is beat aligned
      key = row_key(tka, r[31:0]);
      /*verilator unroll_disable*/
      for (int p = 0; p < NLANE / 2; p++) begin
        kk = k + 2 * p;
        if (kk >= dim) break;
        w = pair_word(key, 32'(kk >> 1));
        d[32*p +: 32] = {(kk + 1 < dim) ? 16'($signed(w[31:16]) >>> shift) : 16'h0,
                         16'($signed(w[15:0]) >>> shift)};
      end
      return d;
    end
    c_key = 0; c_w = 0; c_prod = 0;
    c_row = 0; c_r = 0; c_j = 0; c_tab = 0; key = 0; w = 0; i_a = 0; i_b = 0;
    /*verilator unroll_disable*/
    for (int i = 0; i < NLANE; i++) begin
      o = off + 64'(2 * i);
      r = o >> slog;
      k = int'((o & smask) >> 1);
      if (r >= rows || k >= dim) continue;
      if (prod) begin
        if (!c_prod || r != c_r) begin
          i_a = r / rows_b;
          i_b = r - i_a * rows_b;
          c_r = r;
          c_prod = 1;
        end
        if (k < dim_a) begin tsel = 0; row = i_a; kk = k; end
        else begin tsel = 1; row = i_b; kk = k - dim_a; end
      end else begin
        tsel = 0; row = r; kk = k;
      end
      if (!c_key || row != c_row || tsel != c_tab) begin
        key = row_key(tsel != 0 ? tkb : tka, row[31:0]);
        c_row = row; c_tab = tsel; c_key = 1; c_w = 0;
      end
      j = longint'(kk >> 1);
      if (!c_w || j != c_j) begin
        w = pair_word(key, j[31:0]);
        c_j = j; c_w = 1;
      end
      half = kk[0] ? w[31:16] : w[15:0];
      d[16*i +: 16] = 16'($signed(half) >>> shift);
    end
    return d;
  endfunction

  // Procedural content of the beat at byte address baddr (beat aligned).
  function automatic logic [DATA_W-1:0] proc_beat(input longint unsigned baddr);
    int g, b;
    g = find_region(baddr);
    if (g < 0) return '0;
    b = R_REG_BASE + REG_FIELDS * g;
    return region_beat(baddr - regs[b], regs[b + 1], int'(regs[b + 2]), int'(regs[b + 3]), regs[b + 6],
                       int'(regs[b + 7]), tk_a[g], tk_b[g], int'(regs[R_EMB_SHIFT]));
  endfunction

  function automatic logic [DATA_W-1:0] beat_data(input longint unsigned addr);
    longint unsigned key;
    logic [DATA_W-1:0] m;
    key = addr >> BEAT_LG;
    if (ovr_mask.num() != 0 && ovr_mask.exists(key)) begin
      m = ovr_mask[key];
      if (&m) return ovr_data[key];
      return (proc_beat(key << BEAT_LG) & ~m) | (ovr_data[key] & m);
    end
    return proc_beat(key << BEAT_LG);
  endfunction

  function automatic void write_beat(input longint unsigned addr, input logic [DATA_W-1:0] data,
                                     input logic [DATA_W/8-1:0] strb);
    longint unsigned key;
    logic [DATA_W-1:0] m, old, oldm;
    key = addr >> BEAT_LG;
    m = '0;
    /*verilator unroll_disable*/
    for (int b = 0; b < BEAT; b++) if (strb[b]) m[8*b +: 8] = 8'hFF;
    if (m == '0) return;
    if (ovr_mask.exists(key)) begin
      old = ovr_data[key];
      oldm = ovr_mask[key];
    end else begin
      old = '0;
      oldm = '0;
    end
    ovr_data[key] = (old & ~m) | (data & m);
    ovr_mask[key] = oldm | m;
  endfunction

  // A bulk image (MLP weights, on-chip bank images) in one command instead of one
  // command per beat: the bench writes it to LOAD_FILE in the simulation's
  // directory; every byte is written (full strobes) from the beat-aligned addr.
  function automatic void load_file(input longint unsigned addr, input int unsigned nbeats);
    int fd, c;
    longint unsigned key;
    logic [DATA_W-1:0] word;
    fd = $fopen(LOAD_FILE, "rb");
    if (fd == 0) begin
      $error("hbm_channel: OP_MEM_LOAD cannot open %s", LOAD_FILE);
      return;
    end
    key = addr >> BEAT_LG;
    /*verilator unroll_disable*/
    for (int unsigned i = 0; i < nbeats; i++) begin
      /*verilator unroll_disable*/
      for (int b = 0; b < BEAT; b++) begin
        c = $fgetc(fd);
        word[8*b +: 8] = (c < 0) ? 8'h00 : 8'(c);
      end
      ovr_data[key + longint'(i)] = word;
      ovr_mask[key + longint'(i)] = '1;
    end
    $fclose(fd);
  endfunction

  function automatic longint unsigned next_addr(input longint unsigned a, input int unsigned size,
                                                input int unsigned burst, input int unsigned len);
    longint unsigned sz, al, wb, lo;
    sz = 64'd1 << size;
    al = a & ~(sz - 1);
    if (burst == 0) return a;                // FIXED
    if (burst == 2) begin                    // WRAP
      wb = sz * longint'(len + 1);
      lo = a & ~(wb - 1);
      return (al + sz >= lo + wb) ? lo : al + sz;
    end
    return al + sz;                          // INCR
  endfunction

  // resp of one beat: capacity, random error of the burst, error ranges
  function automatic int unsigned beat_resp(input longint unsigned a, input int unsigned forced);
    int n;
    if (a >= regs[R_CH_BYTES]) return 3;
    if (forced != 0) return forced;
    n = int'(regs[R_N_ERR_RNG]);
    for (int i = 0; i < N_ERR_RANGES; i++)
      if (i < n && a >= regs[R_ERR_BASE + 4*i] && a < regs[R_ERR_BASE + 4*i + 1])
        return int'(regs[R_ERR_BASE + 4*i + 2][1:0]);
    return 0;
  endfunction

  function automatic void violation(input int code, input int kind, input longint unsigned a,
                                    input int unsigned id, input int unsigned len,
                                    input int unsigned size, input int unsigned burst);
    stats[S_VIOLATIONS] = stats[S_VIOLATIONS] + 1;
    if (!vflag) begin
      vflag = 1;
      vq_code = code; vq_kind = kind; vq_addr = a; vq_id = id; vq_len = len; vq_size = size;
      vq_burst = burst;
    end
  endfunction

  // burst legality shared by AR and AW: the first broken rule, V_NONE if legal
  function automatic int burst_rule(input longint unsigned a, input int unsigned len,
                                    input int unsigned size, input int unsigned burst,
                                    input logic axi3, input logic unaligned_ok);
    /*verilator no_inline_task*/
    longint unsigned sz;
    sz = 64'd1 << size;
    if (burst == 3) return V_BURST_RESERVED;
    if (size > BEAT_LG) return V_SIZE_TOO_BIG;
    if (!unaligned_ok && (a & (sz - 1)) != 0) return V_UNALIGNED;
    if (burst == 2 && !(len == 1 || len == 3 || len == 7 || len == 15)) return V_WRAP_LEN;
    if (burst == 0 && len > 15) return V_FIXED_LEN;
    if (axi3 && len > 15) return V_LEN_AXI3;
    // the burst spans [aligned start, aligned start + (len+1) << size): an unaligned
    // start's first beat still belongs to its aligned slot (AXI A3.4.1)
    if (burst == 1 && ((a & 64'hFFF) & ~((64'd1 << size) - 64'd1)) + (longint'(len + 1) << size) > 64'h1000)
      return V_CROSS_4K;
    return V_NONE;
  endfunction

  function automatic void log_txn(input string kind, input int unsigned id, input longint unsigned a,
                                  input int unsigned len, input int unsigned size, input int unsigned burst,
                                  input int unsigned resp, input longint unsigned t_acc,
                                  input longint unsigned t_first, input longint unsigned t_done,
                                  input int unsigned rowst, input int unsigned refd);
    if (log_fd != 0)
      $fwrite(log_fd, "%s %0d %0h %0h %0d %0d %0d %0d %0d %0d %0d %0d %0d\n", kind, ch_num, id, a, len,
              size, burst, resp, t_acc, t_first, t_done, rowst, refd);
  endfunction

  // The highest ID no accepted read (nor the AR waiting now) holds, when at least two
  // are free; -1 otherwise.
  function automatic int phantom_id(input logic ar_waiting, input int unsigned ar_id);
    logic [(1 << ID_W)-1:0] busy;
    int free_n, pick;
    busy = '0;
    foreach (pend_q[i]) busy[pend_q[i].id] = 1'b1;
    if (r_active) busy[r_cur.id] = 1'b1;
    if (ar_waiting) busy[ar_id] = 1'b1;
    free_n = 0;
    pick = -1;
    for (int i = 0; i < (1 << ID_W); i++)
      if (!busy[i]) begin
        free_n++;
        pick = i;
      end
    return (free_n >= 2) ? pick : -1;
  endfunction

  function automatic void clear_stats();
    /*verilator unroll_disable*/
    for (int s = 0; s < N_STAT; s++) stats[s] = 0;
    stats[S_LAT_MIN] = 64'hFFFF_FFFF_FFFF_FFFF;
  endfunction

  function automatic void reset_dynamic();
    pend_q.delete();
    aw_q.delete();
    b_q.delete();
    last_ready_id.delete();
    last_ready_any = 0;
    /*verilator unroll_disable*/
    for (int b = 0; b < 64; b++) begin
      bank_free[b] = 0; bank_row[b] = 0; bank_epoch[b] = 0; bank_open[b] = 0;
    end
    outstanding = 0; w_outstanding = 0;
    r_active = 0; r_phantom = 0; w_active = 0; r_beat = 0; w_beat = 0;
    ar_wait = 0; aw_wait = 0; w_wait = 0;
    tokens = regs[R_BW_BURST] << 16;
  endfunction

  // ------------------------------------------------------------------ init
  initial begin
    /*verilator unroll_disable*/
    for (int i = 0; i < NREGS; i++) regs[i] = 0;
    regs[R_CTRL]     = 64'h8;           // checks on, everything else off: the ideal preset
    regs[R_LAT_BASE] = 10;
    regs[R_BW_NUM]   = 65536;
    regs[R_BW_BURST] = 4;
    regs[R_MAX_OUT]  = 64;
    regs[R_CH_BYTES] = 64'd256 << 20;
    regs[R_ERR_RESP] = 2;
    regs[R_W_LAT]    = 10;
    regs[R_HIST_SHIFT] = 3;
    regs[R_RNG_SEED] = 64'(32'h1234_5678);
    rng = regs[R_RNG_SEED][31:0];
    last_reg = 0;
    msgs = 0;
    recompute_keys();
    clear_stats();
    reset_dynamic();
    v_pulse = 1'b0;
  end

  // ------------------------------------------------------------------ main
  always @(posedge clk) begin : main
    longint unsigned now, start, lat, ready, bank, row, epoch, ph, refi;
    longint unsigned sbank, scol;
    int unsigned rs, pos, bin;
    rreq_t req;
    logic fire, ar_ok;

    vflag = 0;
    now = cyc;

    // ---------------- commands (work in and out of reset)
    if (cmd_valid) begin
      case (int'(cmd_op))
        OP_REG_WRITE: if (cmd_addr < NREGS) begin
          regs[cmd_addr] = cmd_wdata[63:0];
          if (cmd_addr == R_RNG_SEED) rng = (cmd_wdata[31:0] == 0) ? 32'h1 : cmd_wdata[31:0];
          if (cmd_addr == R_SEED || cmd_addr >= R_REG_BASE) recompute_keys();
        end
        OP_MEM_WRITE: write_beat(cmd_addr, cmd_wdata, cmd_wstrb);
        OP_MEM_LOAD:  load_file(cmd_addr, cmd_wdata[31:0]);
        OP_MEM_READ:  ch_rdata <= beat_data(cmd_addr);
        OP_REG_READ:  ch_rdata <= (cmd_addr < NREGS) ? DATA_W'(regs[cmd_addr]) : '0;
        OP_CLEAR_STAT: clear_stats();
        OP_CLEAR_MEM: begin ovr_data.delete(); ovr_mask.delete(); end
        default: ;
      endcase
    end
    if (cmd_valid && int'(cmd_op) == OP_SNAPSHOT) begin
      stats[S_OUTSTANDING] = longint'(outstanding);
      /*verilator unroll_disable*/
      for (int s = 0; s < N_STAT; s++) ch_snap[64*s +: 64] <= stats[s];
    end

    if (!rst_n) begin
      reset_dynamic();
      arready <= 0; rvalid <= 0; rlast <= 0; awready <= 0; wready <= 0; bvalid <= 0;
      rid <= '0; rdata <= '0; rresp <= '0; bid <= '0; bresp <= '0;
    end else begin
      stats[S_CYCLES] = stats[S_CYCLES] + 1;

      // ---------------- protocol: no X/Z on control (4-state simulators only)
      if (regs[R_CTRL][3] && $isunknown({arvalid, rready, awvalid, wvalid, bready}))
        violation(V_XZ_CONTROL, K_AR, 0, 0, 0, 0, 0);

      // ---------------- protocol: VALID held until READY, payload stable
      if (regs[R_CTRL][3]) begin
        if (ar_wait) begin
          if (!arvalid)
            violation(V_VALID_DROP, K_AR, ar_s_addr, ar_s_id, ar_s_len, ar_s_size, ar_s_burst);
          else if ({araddr, arid, arlen, arsize, arburst} != {ar_s_addr, ar_s_id, ar_s_len, ar_s_size, ar_s_burst})
            violation(V_PAYLOAD_CHANGE, K_AR, ar_s_addr, ar_s_id, ar_s_len, ar_s_size, ar_s_burst);
        end
        if (aw_wait) begin
          if (!awvalid)
            violation(V_VALID_DROP, K_AW, aw_s_addr, aw_s_id, aw_s_len, aw_s_size, aw_s_burst);
          else if ({awaddr, awid, awlen, awsize, awburst} != {aw_s_addr, aw_s_id, aw_s_len, aw_s_size, aw_s_burst})
            violation(V_PAYLOAD_CHANGE, K_AW, aw_s_addr, aw_s_id, aw_s_len, aw_s_size, aw_s_burst);
        end
        if (w_wait) begin
          if (!wvalid)
            violation(V_VALID_DROP, K_W, w_addr, w_cur.id, w_cur.len, w_cur.size, w_cur.burst);
          else if ({wdata, wstrb, wlast} != {w_s_data, w_s_strb, w_s_last})
            violation(V_PAYLOAD_CHANGE, K_W, w_addr, w_cur.id, w_cur.len, w_cur.size, w_cur.burst);
        end
      end

      // ---------------- AR accept
      if (arvalid && arready) begin
        req.acc = now;
        req.addr = longint'(araddr);
        req.id = int'(arid);
        req.len = int'(arlen);
        req.size = int'(arsize);
        req.burst = int'(arburst);
        req.err = 0;
        req.rowst = 0;
        req.refd = 0;
        stats[S_READS] = stats[S_READS] + 1;
        stats[S_BURST_SUM] = stats[S_BURST_SUM] + longint'(req.len + 1);
        if (regs[R_CTRL][3]) begin
          rs = burst_rule(req.addr, req.len, req.size, req.burst, regs[R_CTRL][4], regs[R_CTRL][6]);
          if (rs != V_NONE) violation(rs, K_AR, req.addr, req.id, req.len, req.size, req.burst);
          if (longint'(outstanding + 1) > regs[R_MAX_OUT])
            violation(V_OUTSTANDING, K_AR, req.addr, req.id, req.len, req.size, req.burst);
        end
        // timing
        start = now;
        lat = regs[R_LAT_BASE];
        if (regs[R_CTRL][5]) begin
          scol = regs[R_COL_BITS];
          sbank = regs[R_BANK_BITS];
          bank = (req.addr >> scol) & ((64'd1 << sbank) - 1);
          row = req.addr >> (scol + sbank);
          if (bank_free[bank] > start) start = bank_free[bank];
          refi = regs[R_T_REFI];
          epoch = 0;
          if (refi != 0) begin
            ph = (start + regs[R_REF_PHASE]) % refi;
            if (ph < regs[R_T_RFC]) begin
              stats[S_REF_STALLS] = stats[S_REF_STALLS] + 1;
              stats[S_REF_STALL_CYC] = stats[S_REF_STALL_CYC] + (regs[R_T_RFC] - ph);
              start = start + (regs[R_T_RFC] - ph);
              req.refd = 1;
            end
            epoch = (start + regs[R_REF_PHASE]) / refi;
          end
          if (!bank_open[bank] || bank_epoch[bank] != epoch) begin
            req.rowst = 2;
            lat = lat + regs[R_T_RCD] + regs[R_T_CL];
            bank_free[bank] = start + regs[R_T_RCD] + longint'(req.len + 1);
            stats[S_ROW_CLOSED] = stats[S_ROW_CLOSED] + 1;
          end else if (bank_row[bank] == row) begin
            req.rowst = 1;
            lat = lat + regs[R_T_CL];
            bank_free[bank] = start + longint'(req.len + 1);
            stats[S_ROW_HIT] = stats[S_ROW_HIT] + 1;
          end else begin
            req.rowst = 3;
            lat = lat + regs[R_T_RP] + regs[R_T_RCD] + regs[R_T_CL];
            bank_free[bank] = start + regs[R_T_RP] + regs[R_T_RCD] + longint'(req.len + 1);
            stats[S_ROW_MISS] = stats[S_ROW_MISS] + 1;
          end
          bank_open[bank] = 1;
          bank_row[bank] = row;
          bank_epoch[bank] = epoch;
        end
        if (regs[R_JITTER] != 0) begin
          rng = xs32(rng);
          lat = lat + longint'(rng) % (regs[R_JITTER] + 1);
        end
        ready = start + lat;
        if (regs[R_CTRL][0]) begin
          if (last_ready_id.exists(req.id) && last_ready_id[req.id] > ready) ready = last_ready_id[req.id];
        end else if (last_ready_any > ready) ready = last_ready_any;
        last_ready_id[req.id] = ready;
        if (ready > last_ready_any) last_ready_any = ready;
        req.ready = ready;
        if (chance(regs[R_P_ERR])) req.err = int'(regs[R_ERR_RESP][1:0]);
        outstanding = outstanding + 1;
        if (longint'(outstanding) > stats[S_MAX_OUT]) stats[S_MAX_OUT] = longint'(outstanding);
        if (regs[R_STUCK] == 1) stats[S_STUCK_DROPS] = stats[S_STUCK_DROPS] + 1;
        else begin
          pos = pend_q.size();
          while (pos > 0 && pend_q[pos - 1].ready > ready) pos = pos - 1;
          pend_q.insert(pos, req);
        end
      end else if (arvalid) begin
        stats[S_AR_STALL] = stats[S_AR_STALL] + 1;
      end
      ar_wait = arvalid && !arready;
      if (ar_wait) begin
        ar_s_addr = araddr; ar_s_id = arid; ar_s_len = arlen; ar_s_size = arsize; ar_s_burst = arburst;
      end

      // ---------------- R beat handshake
      if (rvalid && rready && r_phantom) begin
        r_phantom = 0;
        stats[S_PHANTOM] = stats[S_PHANTOM] + 1;
        if (regs[R_CTRL][1])
          log_txn("P", int'(rid), 0, 0, BEAT_LG, 1, 0, now, now, now, 0, 0);
      end else if (rvalid && rready) begin
        stats[S_READ_BEATS] = stats[S_READ_BEATS] + 1;
        if (rresp != 0) stats[S_ERR_BEATS] = stats[S_ERR_BEATS] + 1;
        if (int'(rresp) > r_worst) r_worst = int'(rresp);
        if (rlast) begin
          r_active = 0;
          outstanding = outstanding - 1;
          lat = r_first - r_cur.acc;
          stats[S_LAT_SUM] = stats[S_LAT_SUM] + lat;
          if (lat < stats[S_LAT_MIN]) stats[S_LAT_MIN] = lat;
          if (lat > stats[S_LAT_MAX]) stats[S_LAT_MAX] = lat;
          bin = int'(lat >> regs[R_HIST_SHIFT]);
          if (bin >= N_HIST) bin = N_HIST - 1;
          stats[S_HIST + bin] = stats[S_HIST + bin] + 1;
          if (regs[R_CTRL][1])
            log_txn("R", r_cur.id, r_cur.addr, r_cur.len, r_cur.size, r_cur.burst, r_worst,
                    r_cur.acc, r_first, now, r_cur.rowst, r_cur.refd);
        end
      end else if (rvalid) begin
        stats[S_R_STALL] = stats[S_R_STALL] + 1;
      end

      // ---------------- bandwidth tokens
      if (regs[R_BW_NUM] < 65536) begin
        tokens = tokens + regs[R_BW_NUM];
        if (tokens > (regs[R_BW_BURST] << 16)) tokens = regs[R_BW_BURST] << 16;
      end

      // ---------------- next R beat
      if (!(rvalid && !rready)) begin
        fire = 0;
        if (regs[R_STUCK] != 0) begin
          fire = 0;
        end else if (r_active || (pend_q.size() != 0 && pend_q[0].ready <= now + 1)) begin
          if (regs[R_BW_NUM] < 65536 && tokens < 65536) begin
            stats[S_BW_STALL] = stats[S_BW_STALL] + 1;
          end else if (!chance(regs[R_P_R_STALL])) begin
            fire = 1;
          end
        end
        if (fire) begin
          if (regs[R_BW_NUM] < 65536) tokens = tokens - 65536;
          if (!r_active) begin
            r_cur = pend_q.pop_front();
            r_active = 1;
            r_addr = r_cur.addr;
            r_beat = 0;
            r_first = now + 1;
            r_worst = 0;
          end else begin
            r_addr = next_addr(r_addr, r_cur.size, r_cur.burst, r_cur.len);
            r_beat = r_beat + 1;
          end
          rs = beat_resp(r_addr, r_cur.err);
          rvalid <= 1'b1;
          rid <= ID_W'(r_cur.id);
          rresp <= 2'(rs);
          rlast <= (r_beat == r_cur.len);
`ifdef INJECT_BUGS
          // injected model bug (+HBM_BUG_BEAT_ORDER): beats 0 and 1 of a burst trade places (their XOR stays the same)
          if ($test$plusargs("HBM_BUG_BEAT_ORDER"))
            rdata <= (rs == 3) ? '0 : beat_data((r_cur.len == 0 || r_beat > 1) ? r_addr :
                                                (r_beat == 0) ? next_addr(r_addr, r_cur.size, r_cur.burst, r_cur.len)
                                                              : r_cur.addr);
          else
`endif
          rdata <= (rs == 3) ? '0 : beat_data(r_addr);
          stats[S_R_BUSY] = stats[S_R_BUSY] + 1;
        end else if (regs[R_PHANTOM] != 0 && regs[R_STUCK] == 0 && !r_active && outstanding != 0 &&
                     phantom_id(arvalid && !arready, int'(arid)) >= 0) begin
          rs = phantom_id(arvalid && !arready, int'(arid));
          regs[R_PHANTOM] = regs[R_PHANTOM] - 1;
          r_phantom = 1;
          rvalid <= 1'b1;
          rid <= ID_W'(rs);
          rresp <= 2'b00;
          rlast <= 1'b1;
          rdata <= {(DATA_W / 32){32'hBAD0_0000 | 32'(stats[S_PHANTOM][15:0])}};
          stats[S_R_BUSY] = stats[S_R_BUSY] + 1;
        end else begin
          rvalid <= 1'b0;
          rlast <= 1'b0;
        end
      end else begin
        stats[S_R_BUSY] = stats[S_R_BUSY] + 1;
      end

      // ---------------- AW accept
      if (awvalid && awready) begin
        if (regs[R_CTRL][3]) begin
          rs = burst_rule(longint'(awaddr), int'(awlen), int'(awsize), int'(awburst), regs[R_CTRL][4],
                          regs[R_CTRL][6]);
          if (rs != V_NONE)
            violation(rs, K_AW, longint'(awaddr), int'(awid), int'(awlen), int'(awsize), int'(awburst));
          if (longint'(w_outstanding + 1) > regs[R_MAX_OUT])
            violation(V_OUTSTANDING, K_AW, longint'(awaddr), int'(awid), int'(awlen), int'(awsize), int'(awburst));
        end
        aw_q.push_back('{acc: now, addr: longint'(awaddr), id: int'(awid), len: int'(awlen),
                         size: int'(awsize), burst: int'(awburst)});
        w_outstanding = w_outstanding + 1;
        stats[S_WRITES] = stats[S_WRITES] + 1;
      end
      aw_wait = awvalid && !awready;
      if (aw_wait) begin
        aw_s_addr = awaddr; aw_s_id = awid; aw_s_len = awlen; aw_s_size = awsize; aw_s_burst = awburst;
      end

      // ---------------- W beat
      if (wvalid && wready) begin
        if (!w_active) begin
          w_cur = aw_q.pop_front();
          w_active = 1;
          w_addr = w_cur.addr;
          w_beat = 0;
          w_worst = 0;
          w_first = now;
        end else begin
          w_addr = next_addr(w_addr, w_cur.size, w_cur.burst, w_cur.len);
          w_beat = w_beat + 1;
        end
        stats[S_WRITE_BEATS] = stats[S_WRITE_BEATS] + 1;
        rs = beat_resp(w_addr, 0);
        if (rs > w_worst) w_worst = rs;
        if (rs == 0) write_beat(w_addr, wdata, wstrb);
        if (regs[R_CTRL][3] && (wlast != (w_beat == w_cur.len)))
          violation(V_WLAST, K_W, w_cur.addr, w_cur.id, w_cur.len, w_cur.size, w_cur.burst);
        if (wlast || w_beat == w_cur.len) begin
          w_active = 0;
          b_q.push_back('{ready: now + regs[R_W_LAT], acc: w_cur.acc, first: w_first, addr: w_cur.addr,
                          id: w_cur.id, len: w_cur.len, size: w_cur.size, burst: w_cur.burst, resp: w_worst});
        end
      end else if (wvalid && w_active) begin
        stats[S_W_STALL] = stats[S_W_STALL] + 1;
      end
      w_wait = wvalid && !wready && (w_active || aw_q.size() != 0);
      if (w_wait) begin
        w_s_data = wdata; w_s_strb = wstrb; w_s_last = wlast;
        if (!w_active && aw_q.size() != 0) begin
          w_cur = aw_q[0];  // for the report only
          w_addr = w_cur.addr;
        end
      end

      // ---------------- B channel
      if (bvalid && bready) begin
        w_outstanding = w_outstanding - 1;
        if (regs[R_CTRL][1])
          log_txn("W", b_q[0].id, b_q[0].addr, b_q[0].len, b_q[0].size, b_q[0].burst, b_q[0].resp,
                  b_q[0].acc, b_q[0].first, now, 0, 0);
        void'(b_q.pop_front());
      end
      if (!(bvalid && !bready)) begin
        if (b_q.size() != 0 && b_q[0].ready <= now + 1 && regs[R_STUCK] == 0) begin
          bvalid <= 1'b1;
          bid <= ID_W'(b_q[0].id);
          bresp <= 2'(b_q[0].resp);
        end else begin
          bvalid <= 1'b0;
        end
      end

      // ---------------- ready signals for the next cycle
      ar_ok = regs[R_STUCK] != 2 && !chance(regs[R_P_AR_STALL]);
      if (regs[R_CTRL][2] && longint'(outstanding) >= regs[R_MAX_OUT]) ar_ok = 0;
      // a slave that waits for ARVALID before raising ARREADY: ready only in the cycle
      // after a request was seen waiting, so a master that waits for ARREADY before
      // raising ARVALID (an AXI violation no other mode exposes) never gets a handshake
      if (regs[R_AR_AFTER_VALID] != 0 && !(arvalid && !arready)) ar_ok = 0;
      arready <= ar_ok;
      awready <= regs[R_STUCK] != 2 && !chance(regs[R_P_W_STALL]) &&
                 !(regs[R_CTRL][2] && longint'(w_outstanding) >= regs[R_MAX_OUT]);
      // W only for the burst in progress or an accepted AW
      wready <= regs[R_STUCK] != 2 && (w_active || aw_q.size() != 0) && !chance(regs[R_P_W_STALL]);
    end
    v_pulse <= vflag;
    if (vflag && msgs < MAX_MSG) begin
      $display("HBM PROTOCOL VIOLATION ch=%0d cycle=%0d code=%0d kind=%0d id=0x%0h addr=0x%0h len=%0d size=%0d burst=%0d",
               ch_num, cyc, vq_code, vq_kind, vq_id, vq_addr, vq_len, vq_size, vq_burst);
      msgs = msgs + 1;
    end
    if (vflag) begin
      v_code  <= 8'(vq_code);
      v_kind  <= 3'(vq_kind);
      v_addr  <= vq_addr;
      v_id    <= 16'(vq_id);
      v_len   <= 8'(vq_len);
      v_size  <= 3'(vq_size);
      v_burst <= 2'(vq_burst);
    end
  end

endmodule
