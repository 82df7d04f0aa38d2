"""Core utilities: the CPU/GPU backend, argument validation, gradient checks, the Module base class, plots."""
