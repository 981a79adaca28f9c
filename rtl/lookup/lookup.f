// embedding lookup subsystem: engines per channel/bank, config, gather
lookup_pkg.sv
emb_lookup_engine.sv
onchip_table_ram.sv
lookup_config.sv
feature_gather.sv
emb_lookup_top.sv
