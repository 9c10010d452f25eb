"""Benchmarks (`make bench`) and fault injection (`make faults`)."""
