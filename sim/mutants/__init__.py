"""Mutation testing of the RTL: the mutant generator, the bench map, the scorer."""
