// CSR block: PeakRDL regblock (generated, with its lint waivers) + flat-port wrapper
generated/microrec_csr_regs.vlt
generated/microrec_csr_regs_pkg.sv
generated/microrec_csr_regs.sv
microrec_csr.sv
