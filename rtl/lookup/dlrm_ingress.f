// multi-hot (DLRM-class) query ingress and bag pooling (contracts s.9.9); not yet in emb_lookup_top
lookup_pkg.sv
query_packet_ingress.sv
query_packet_ingress_wide.sv
bag_pool.sv
