// accelerator harness (rtl/top/top.f is added by tb/top/dut.py)
-f hbm_model.f
lookup_port_monitor.sv
microrec_tb_top.sv
