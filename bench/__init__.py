"""Benchmark and soak scripts (run by hand; see docs/performance.md). Not part of the tests."""
