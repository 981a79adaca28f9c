// A bank of N saturating-free event counters (CNT_W wide, wrap after 2^CNT_W),
// each advanced by its own INC_W-bit increment every cycle; cleared by reset
// or by `clear`. Counter i is count[i*CNT_W +: CNT_W].
module mlp_perf_counters #(
    parameter int N     = 4,
    parameter int CNT_W = 48,
    parameter int INC_W = 1
) (
    input  logic               clk,
    input  logic               rst_n,
    input  logic               clear,
    input  logic [N*INC_W-1:0] inc,
    output logic [N*CNT_W-1:0] count
);
    always_ff @(posedge clk) begin
        if (!rst_n || clear) begin
            count <= '0;
        end else begin
            for (int i = 0; i < N; i++) begin
                count[i*CNT_W +: CNT_W] <= count[i*CNT_W +: CNT_W] + CNT_W'(inc[i*INC_W +: INC_W]);
            end
        end
    end
endmodule
