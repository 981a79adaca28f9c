"""CSR host access: AXI4-Lite bus, pyuvm agent, generated register model."""
