// the reusable HBM/DDR AXI memory model (its Python side is tb/hbm/)
+incdir+.
hbm_pkg.sv
hbm_channel.sv
hbm_mem_model.sv
