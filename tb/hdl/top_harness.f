// accelerator harness (rtl/top/top.f is added by tb/top/dut.py)
-f hbm_model.f
microrec_tb_top.sv
