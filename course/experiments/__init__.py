"""Experiments that produce the data behind the course's plots (functions return arrays; notebooks plot)."""
