"""pyuvm bench of the embedding-lookup subsystem (rtl/lookup/)."""
