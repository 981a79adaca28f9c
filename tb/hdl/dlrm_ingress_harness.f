// multi-hot query path harness (rtl/lookup/dlrm_ingress.f is added by tb/dlrm_ingress/dut.py)
dlrm_ingress_tb_top.sv
