// streaming exact top-k unit (multi-stage ranking, contracts s.10)
topk_unit.sv
