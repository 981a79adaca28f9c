// The HBM memory model on a harness whose masters only read: connects the
// includer's per-channel AR/R signals (arvalid, araddr, ... rlast) and the
// hbm_* control ports, and ties the write channels off. The includer declares
// NUM_CH, DATA_W, ID_W, ADDR_W, NREG and those signals.
    // one '0 on the whole NUM_CH * DATA_W write bus trips Verilator's replication limit
    logic [NUM_CH-1:0][DATA_W-1:0] no_wdata;
    for (genvar c = 0; c < NUM_CH; c++) begin : g_no_wdata
        assign no_wdata[c] = '0;
    end

    hbm_mem_model #(
        .NUM_CH(NUM_CH), .DATA_W(DATA_W), .ID_W(ID_W), .ADDR_W(ADDR_W), .NREG(NREG)
    ) u_mem (
        .clk, .rst_n(core_rst_n),
        .cmd_valid(hbm_cmd_valid), .cmd_op(hbm_cmd_op), .cmd_ch(hbm_cmd_ch),
        .cmd_addr(hbm_cmd_addr), .cmd_wdata(hbm_cmd_wdata), .cmd_wstrb(hbm_cmd_wstrb),
        .cmd_rdata(hbm_cmd_rdata), .stat_vec(hbm_stat_vec), .cycle(hbm_cycle),
        .viol_any(hbm_viol_any), .viol_count(hbm_viol_count), .viol_code(hbm_viol_code),
        .viol_kind(hbm_viol_kind), .viol_ch(hbm_viol_ch), .viol_cycle(hbm_viol_cycle),
        .viol_addr(hbm_viol_addr), .viol_id(hbm_viol_id), .viol_len(hbm_viol_len),
        .viol_size(hbm_viol_size), .viol_burst(hbm_viol_burst),
        .s_axi_arvalid(arvalid), .s_axi_arready(arready), .s_axi_arid(arid),
        .s_axi_araddr(araddr), .s_axi_arlen(arlen), .s_axi_arsize(arsize), .s_axi_arburst(arburst),
        .s_axi_rvalid(rvalid), .s_axi_rready(rready), .s_axi_rid(rid), .s_axi_rdata(rdata),
        .s_axi_rresp(rresp), .s_axi_rlast(rlast),
        // reads only: the lookup path never writes memory
        .s_axi_awvalid('0), .s_axi_awready(), .s_axi_awid('0), .s_axi_awaddr('0),
        .s_axi_awlen('0), .s_axi_awsize('0), .s_axi_awburst('0),
        .s_axi_wvalid('0), .s_axi_wready(), .s_axi_wdata(no_wdata), .s_axi_wstrb('0), .s_axi_wlast('0),
        .s_axi_bvalid(), .s_axi_bready({NUM_CH{1'b1}}), .s_axi_bid(), .s_axi_bresp()
    );
