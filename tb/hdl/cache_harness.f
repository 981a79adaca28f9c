// hot-row cache harness (rtl/cache/cache.f is added by tb/cache/dut.py)
-f hbm_model.f
cache_tb_top.sv
