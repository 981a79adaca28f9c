// lookup subsystem harness (rtl/lookup/lookup.f is added by tb/lookup/dut.py)
-f hbm_model.f
lookup_port_monitor.sv
lookup_query_src.sv
lookup_feat_sink.sv
lookup_tb_top.sv
