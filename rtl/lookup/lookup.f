// embedding lookup subsystem: engines per channel/bank, config, gather, and the
// hot-row caches in front of the memory channels (built when CACHE = 1)
-f ../cache/cache.f
lookup_pkg.sv
emb_lookup_engine.sv
onchip_table_ram.sv
lookup_config.sv
feature_gather.sv
emb_lookup_top.sv
