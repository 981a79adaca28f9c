// the memory model's self-test harness: the model, SV traffic generators, external masters
-f hbm_model.f
hbm_axi_tgen.sv
hbm_tb_top.sv
