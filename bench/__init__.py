"""Benchmarks: run by a command, print figures; not timed tests."""
