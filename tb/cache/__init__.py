"""pyuvm bench of the hot-row cache (rtl/cache/) on the HBM memory model."""
