"""End-to-end pyuvm bench of the accelerator top (rtl/top/microrec_top.sv)."""
