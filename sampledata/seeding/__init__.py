"""Synthetic data at scale for bench/ (the seed_bench command)."""
