// multi-hot (DLRM-class) query ingress and bag pooling (contracts s.9.9); the wide ingress is also in lookup.f
lookup_pkg.sv
query_packet_ingress.sv
query_packet_ingress_wide.sv
bag_pool.sv
