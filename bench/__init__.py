"""Benchmarks that measure and print figures (never pass/fail on a time). `python -m bench` lists them."""
