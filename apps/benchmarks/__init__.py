"""Performance benchmarks (`make bench-*`): tables in the terminal, JSON and PNG in
build/bench/. Each ``tb_*.py`` here is the cocotb module a benchmark runs."""
