"""Splitting a data set and walking it in minibatches (lecture 004, "the ML workflow").

``train_val_test_split`` shuffles once and cuts; ``minibatch_indices`` draws one epoch's order of
mini-batches (assignment 04); ``iterate_minibatches`` yields the (x, y) batches of that order, a new one
each epoch when ``shuffle`` is on. The splits and batches work on NumPy and CuPy arrays.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.validation import check_positive


def _check_pair(func: str, X: Any, y: Any) -> None:
    if y is not None and len(X) != len(y):
        raise ValueError(f"{func}: X and y must have the same length, got {len(X)} and {len(y)}")


def train_val_test_split(
    X: Any,
    y: Any,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    rng: np.random.Generator | None = None,
) -> tuple[tuple[Any, Any], tuple[Any, Any], tuple[Any, Any]]:
    """Shuffle and split (X, y) into ((X_train, y_train), (X_val, y_val), (X_test, y_test)).

    Inputs:
    - X: (N, ...) array; y: (N, ...) array.
    - fractions: three non-negative numbers summing to 1; sizes are rounded, test takes the rest.
    - rng: the shuffle's generator (None means ``default_rng(0)``).

    The three parts are disjoint and together hold every example exactly once.
    """
    _check_pair("train_val_test_split", X, y)
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(
            f"train_val_test_split: fractions must be 3 non-negative numbers summing to 1, got {fractions}"
        )
    rng = np.random.default_rng(0) if rng is None else rng
    xp = get_array_module(X, y)
    n = len(X)
    n_train = int(round(fractions[0] * n))
    n_val = min(int(round(fractions[1] * n)), n - n_train)
    perm = xp.asarray(rng.permutation(n))
    parts = perm[:n_train], perm[n_train : n_train + n_val], perm[n_train + n_val :]
    return tuple((X[p], y[p]) for p in parts)  # type: ignore[return-value]


def minibatch_indices(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The index arrays of one epoch of shuffled mini-batches: ``rng.permutation(n)`` cut into pieces.

    Inputs:
    - n: the number of examples N; batch_size: B.
    - rng: the generator of the order; each call draws a new one.

    Returns ceil(N / B) integer arrays, order[0:B], order[B:2B], ... (the last one may be shorter): every
    index 0 .. N-1 exactly once.
    """
    check_positive("minibatch_indices", "n", n)
    check_positive("minibatch_indices", "batch_size", batch_size)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"minibatch_indices: rng must be a numpy.random.Generator, got {type(rng).__name__}")
    # BEGIN GRADED a04.minibatch_indices
    order = rng.permutation(n)  # a new order every epoch
    return [order[start : start + batch_size] for start in range(0, n, batch_size)]
    # END GRADED


def iterate_minibatches(
    X: Any,
    y: Any,
    batch_size: int,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
) -> Iterator[tuple[Any, Any]]:
    """Yield (X_batch, y_batch) pairs covering every example once; the last batch may be smaller.

    Inputs:
    - X: (N, ...) array; y: (N, ...) array or None (then y_batch is None, e.g. for autoencoders).
    - batch_size: B.
    - rng: generator for the order (None means ``default_rng(0)``); ignored when ``shuffle`` is False.

    Shuffling every epoch matters: a fixed order lets the same examples always share a batch, which
    biases the gradient noise of SGD. The shuffled order is ``minibatch_indices``'s.
    """
    _check_pair("iterate_minibatches", X, y)
    check_positive("iterate_minibatches", "batch_size", batch_size)
    xp = get_array_module(X, y)
    n = len(X)
    if shuffle:
        rng = np.random.default_rng(0) if rng is None else rng
        batches = [xp.asarray(idx) for idx in minibatch_indices(n, batch_size, rng)]
    else:
        batches = [slice(start, start + batch_size) for start in range(0, n, batch_size)]  # views
    for sl in batches:
        yield X[sl], (None if y is None else y[sl])
