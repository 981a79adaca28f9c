"""Agents shared by several benches (the query stream of the lookup and the top)."""
