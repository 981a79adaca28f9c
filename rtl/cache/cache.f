// hot-row cache in front of one memory channel (docs/contracts.md s.11)
cache_pkg.sv
emb_row_cache.sv
