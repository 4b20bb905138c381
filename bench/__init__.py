"""Benchmarks of s2ipf (``make bench``): timings and memory, never asserted in tests."""
