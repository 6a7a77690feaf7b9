"""Sample content: the demo built from the seed pages (load_demo) and
synthetic data at scale for bench/ (seed_bench)."""
