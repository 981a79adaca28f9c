// MLP engine: P x U MAC PEs, weight/bias banks, layer sequencing
-f mac_pe.f
mlp_ram.sv
mlp_fifo.sv
mlp_perf_counters.sv
mlp_layer_cfg.sv
mlp_pe_array.sv
mlp_engine.sv
