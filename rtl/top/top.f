// the accelerator top: CSRs, lookup subsystem, config DMA, MLP engine
-f ../lookup/lookup.f
-f ../csr/csr.f
-f ../mlp/mlp_engine.f
../mlp/dot_interaction.sv
config_dma.sv
microrec_top.sv
../topk/topk_unit.sv
../topk/topk_result_path.sv
