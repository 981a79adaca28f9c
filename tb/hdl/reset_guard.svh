// Included by each harness top: everything below it sees core_rst_n, which is
// low until the bench has driven its first reset. Verilator starts from random
// state (--x-initial unique), inputs included, so without this the DUT, its
// assertions and the memory model would act on garbage at the time-0 edge.
logic seen_reset = 1'b0;
always @(posedge clk) if (!rst_n) seen_reset <= 1'b1;
logic core_rst_n;
assign core_rst_n = rst_n && seen_reset;
