// embedding lookup subsystem: engines per channel/bank, config, gather, the multi-hot
// front end (MH = 1), and the hot-row caches in front of the memory channels (CACHE = 1)
-f ../cache/cache.f
lookup_pkg.sv
emb_lookup_engine.sv
onchip_table_ram.sv
lookup_config.sv
feature_gather.sv
query_packet_ingress_wide.sv
bag_expander.sv
bag_accum.sv
emb_lookup_top.sv
