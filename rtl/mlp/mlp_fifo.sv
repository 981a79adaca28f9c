// Small synchronous FIFO (first-word fall-through) for the logit output.
// push into a full FIFO is a caller bug (the engine reserves a slot before it
// starts the job that will push), flagged by an assertion.
module mlp_fifo #(
    parameter int WIDTH = 32,
    parameter int DEPTH = 4,
    localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1,
    localparam int CW = $clog2(DEPTH + 1)
) (
    input  logic             clk,
    input  logic             rst_n,
    input  logic             push,
    input  logic [WIDTH-1:0] push_data,
    input  logic             pop,
    output logic [WIDTH-1:0] head,
    output logic             empty,
    output logic [CW-1:0]    count
);
    logic [WIDTH-1:0] mem [DEPTH];
    logic [AW-1:0]    rd_ptr, wr_ptr;

    function automatic logic [AW-1:0] incr(input logic [AW-1:0] p);
        return (32'(p) == DEPTH - 1) ? '0 : p + AW'(1);
    endfunction

    assign empty = (count == '0);
    assign head  = mem[rd_ptr];

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            rd_ptr <= '0;
            wr_ptr <= '0;
            count  <= '0;
        end else begin
            if (push) begin
                mem[wr_ptr] <= push_data;
                wr_ptr <= incr(wr_ptr);
            end
            if (pop && !empty) rd_ptr <= incr(rd_ptr);
            count <= count + CW'(push) - CW'(pop && !empty);
        end
    end

    // assertions hold from the first reset on: simulation starts from random state
    // (Verilator --x-initial unique), with no meaning before reset; the initial value
    // is the point here (an FPGA register's power-up value), hence the one waiver
    /* verilator lint_off PROCASSINIT */
    logic sva_armed = 1'b0;
    always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
    /* verilator lint_on PROCASSINIT */

    // push into a full FIFO would lose a logit
    always_ff @(posedge clk) begin
        if (rst_n && sva_armed && push && !(pop && !empty)) begin
            assert (32'(count) < DEPTH) else $error("mlp_fifo: push while full");
        end
    end
endmodule
