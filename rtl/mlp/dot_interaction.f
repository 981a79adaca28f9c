// DLRM dot / concat interaction: one MAC PE and the output FIFO
-f mac_pe.f
mlp_fifo.sv
dot_interaction.sv
