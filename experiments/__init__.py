"""Training runs and experiments behind docs/results_*.md (not part of the library)."""
