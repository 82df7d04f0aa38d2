"""Benchmarks of the library against PyTorch and against pure matrix products (not part of the library)."""
