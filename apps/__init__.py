"""Applications built on the flow library (sim/) and the benches (tb/): `make sim`
(microrec_sim) and the performance benchmarks (benchmarks/)."""
