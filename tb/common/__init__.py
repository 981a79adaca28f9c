"""Reusable bench pieces: functional coverage, clock/reset, watchdogs."""
