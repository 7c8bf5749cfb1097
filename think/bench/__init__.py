"""Benchmarks run on the user's machine: speed of the sampler, stopping rules, accuracy."""
