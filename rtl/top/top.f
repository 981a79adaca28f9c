// the accelerator top: CSRs, lookup subsystem, config DMA, MLP engine
-f ../lookup/lookup.f
-f ../csr/csr.f
-f ../mlp/mlp_engine.f
config_dma.sv
microrec_top.sv
