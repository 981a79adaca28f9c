// On-chip table bank (BRAM/URAM in a device): the same row format as memory,
// behind the same AXI4 read subset the lookup engine speaks, so one engine
// design serves both tiers. Pipelined: a beat per cycle, two cycles from
// AR to the first beat. Loaded through a word write port (by the top's DMA,
// or by a bench). A read past the bank answers DECERR.
module onchip_table_ram #(
    parameter int WORDS  = 1024,
    parameter int DATA_W = 256,
    parameter int ADDR_W = 34,
    parameter int ID_W   = 5,
    parameter int WA_W   = $clog2(WORDS)
) (
    input  logic              clk,
    input  logic              rst_n,
    // write port (one bus word per cycle)
    input  logic              wr_en,
    input  logic [WA_W-1:0]   wr_addr,
    input  logic [DATA_W-1:0] wr_data,
    // AXI4 read subset
    input  logic              s_arvalid,
    output logic              s_arready,
    input  logic [ADDR_W-1:0] s_araddr,
    input  logic [7:0]        s_arlen,
    input  logic [ID_W-1:0]   s_arid,
    output logic              s_rvalid,
    input  logic              s_rready,
    output logic [DATA_W-1:0] s_rdata,
    output logic [ID_W-1:0]   s_rid,
    output logic [1:0]        s_rresp,
    output logic              s_rlast
);
    localparam int BEAT_LG = $clog2(DATA_W / 8);

    logic [DATA_W-1:0] mem [WORDS];

    // bursts are beat aligned; the byte offset within a beat is the engine's
    logic unused_addr_lsb;
    assign unused_addr_lsb = ^s_araddr[BEAT_LG-1:0];

    always_ff @(posedge clk) begin
        if (wr_en) mem[wr_addr] <= wr_data;
    end

    // burst walker: issues one word address per cycle
    logic [ADDR_W-BEAT_LG-1:0] cur_word;
    logic [8:0]                cur_left;
    logic [ID_W-1:0]           cur_id;
    logic                      issue;

    assign issue     = cur_left != 9'd0;
    // the next burst may start while the last beat of this one issues
    assign s_arready = (cur_left <= 9'd1) && s_rready;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            cur_left <= '0;
        end else if (s_arvalid && s_arready) begin
            cur_word <= s_araddr[ADDR_W-1:BEAT_LG];
            cur_left <= 9'(s_arlen) + 9'd1;
            cur_id   <= s_arid;
        end else if (issue && s_rready) begin
            cur_word <= cur_word + 1'b1;
            cur_left <= cur_left - 1'b1;
        end
    end

    // registered read: the engine keeps rready high, so no skid is needed
    always_ff @(posedge clk) begin
        if (!rst_n) begin
            s_rvalid <= 1'b0;
        end else if (s_rready) begin
            s_rvalid <= issue;
        end
    end

    always_ff @(posedge clk) begin
        if (issue && s_rready) begin
            if (32'(cur_word) < WORDS) begin
                s_rdata <= mem[cur_word[WA_W-1:0]];
                s_rresp <= 2'b00;
            end else begin
                s_rdata <= '0;
                s_rresp <= 2'b11;   // DECERR: outside the bank
            end
            s_rid   <= cur_id;
            s_rlast <= cur_left == 9'd1;
        end
    end
endmodule
