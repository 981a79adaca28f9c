// the MAC processing element alone
mac_pe.sv
