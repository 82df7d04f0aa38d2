"""A seeded stochastic block model for node classification (assignment 10, lecture 004's graph networks).

The stochastic block model (Holland, Laskey & Leinhardt 1983) puts the nodes into blocks (the classes)
and draws every undirected edge independently: with probability ``p_in`` between two nodes of the same
block, ``p_out`` between blocks. With p_in >> p_out most neighbours of a node share its label
(homophily), which is what a graph network exploits.

Each node also gets noisy features, x_i = mu_{y_i} + N(0, I), around one random mean mu_c per class with
||mu_c|| about ``signal``. With a weak signal a classifier that sees one node at a time is poor, while
averaging over the neighbours cancels much of the noise: the graph carries the information.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course.core.validation import check_positive


def make_sbm(
    block_sizes: Sequence[int] = (60, 60, 60, 60),
    p_in: float = 0.1,
    p_out: float = 0.01,
    num_features: int = 16,
    signal: float = 1.0,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw a stochastic block model graph with node features and labels.

    Inputs:
    - block_sizes: the number of nodes of each block (class); N = sum(block_sizes), C = len(block_sizes).
    - p_in, p_out: edge probabilities within a block and between blocks, in [0, 1].
    - num_features: F, the feature dimension.
    - signal: the norm of the class means mu_c (mu_c = signal * g / sqrt(F), g ~ N(0, I)); the noise per
      feature has standard deviation 1.
    - rng: a ``numpy.random.Generator`` (None means ``default_rng(0)``).

    Returns:
    - X: (N, F) node features of ``dtype``.
    - y: (N,) int64 labels in 0..C-1, block by block (node order is not shuffled; shuffle a split).
    - adj: (N, N) symmetric 0/1 adjacency of ``dtype`` with a zero diagonal (no self loops).
    """
    if len(block_sizes) < 1 or any(int(s) < 1 for s in block_sizes):
        raise ValueError(f"make_sbm: block_sizes must be positive integers, got {tuple(block_sizes)}")
    for name, p in (("p_in", p_in), ("p_out", p_out)):
        if not 0 <= p <= 1:
            raise ValueError(f"make_sbm: {name} must be a probability in [0, 1], got {p}")
    check_positive("make_sbm", "num_features", num_features)
    check_positive("make_sbm", "signal", signal, allow_zero=True)
    rng = np.random.default_rng(0) if rng is None else rng
    y = np.repeat(np.arange(len(block_sizes)), block_sizes)  # (N,)
    n = len(y)
    same = y[:, None] == y[None, :]  # (N, N)
    upper = np.triu(rng.random((n, n)) < np.where(same, p_in, p_out), k=1)  # each pair drawn once
    adj = (upper | upper.T).astype(dtype)  # symmetric, zero diagonal
    means = rng.standard_normal((len(block_sizes), num_features)) * (signal / np.sqrt(num_features))
    X = means[y] + rng.standard_normal((n, num_features))  # (N, F)
    return X.astype(dtype), y.astype(np.int64), adj
