"""Small generated data sets for pictures and quick experiments (lectures 002 and 004).

All generators are seeded through ``rng`` (a ``numpy.random.Generator``; None means
``default_rng(0)``), so a notebook draws the same points every run.

- ``make_spirals``: C interleaved arms, the classic "a linear classifier cannot do this" set.
- ``make_circles``: two concentric rings.
- ``make_xor``: four quadrants, label = sign(x1) xor sign(x2).
- ``make_polynomial_regression``: t = f(x) + noise in 1-D for fitting polynomials of order 1, 2, 9.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course.core.validation import check_positive


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return np.random.default_rng(0) if rng is None else rng


def make_spirals(
    n_per_class: int = 100,
    n_classes: int = 3,
    noise: float = 0.2,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Spiral arms: arm c has radius r in [0, 1] and angle 4c + 4r + noise * N(0, 1).

    Returns X (N, 2) of ``dtype`` with N = n_per_class * n_classes, and y (N,) int64 in 0..C-1.
    """
    check_positive("make_spirals", "n_per_class", n_per_class)
    check_positive("make_spirals", "n_classes", n_classes)
    check_positive("make_spirals", "noise", noise, allow_zero=True)
    rng = _rng(rng)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)  # (N,)
    y = np.repeat(np.arange(n_classes), n_per_class)  # (N,)
    t = 4.0 * y + 4.0 * r + noise * rng.standard_normal(len(r))
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)  # (N, 2)
    return X.astype(dtype), y.astype(np.int64)


def make_circles(
    n: int = 200,
    noise: float = 0.1,
    factor: float = 0.5,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: label 0 on the unit circle, label 1 on radius ``factor``, plus N(0, noise^2).

    Returns X (n, 2) of ``dtype`` and y (n,) int64 (the first n // 2 points are the outer circle).
    """
    check_positive("make_circles", "n", n)
    check_positive("make_circles", "noise", noise, allow_zero=True)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor!r}")
    rng = _rng(rng)
    n_outer = n // 2
    y = (np.arange(n) >= n_outer).astype(np.int64)  # (n,)
    angle = rng.uniform(0.0, 2 * np.pi, n)
    radius = np.where(y == 0, 1.0, factor)
    X = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (n, 2)
    X += noise * rng.standard_normal(X.shape)
    return X.astype(dtype), y


def make_xor(
    n: int = 200,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """XOR: x uniform in [-1, 1]^2, y = 1 where x1 and x2 differ in sign, then N(0, noise^2) jitter.

    Returns X (n, 2) of ``dtype`` and y (n,) int64.
    """
    check_positive("make_xor", "n", n)
    check_positive("make_xor", "noise", noise, allow_zero=True)
    rng = _rng(rng)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    # labels come from the clean points, so noise blurs the boundary instead of moving it
    X += noise * rng.standard_normal(X.shape)
    return X.astype(dtype), y


def _sin_2pi(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x)


def make_polynomial_regression(
    n: int = 20,
    true_fn: Callable[[np.ndarray], np.ndarray] | None = None,
    noise: float = 0.2,
    rng: np.random.Generator | None = None,
    x_range: tuple[float, float] = (0.0, 1.0),
    dtype: Any = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """1-D regression data t = f(x) + N(0, noise^2) with x uniform in ``x_range``.

    Inputs:
    - true_fn: the function f; default sin(2 pi x), which no low-order polynomial fits exactly, so
      orders 1, 2 and 9 show under-fitting, a good fit and over-fitting.
    - dtype: float64 by default because a degree-9 design matrix is badly conditioned in float32.

    Returns x (n,) sorted ascending (nicer to plot) and t (n,), both of ``dtype``.
    """
    check_positive("make_polynomial_regression", "n", n)
    check_positive("make_polynomial_regression", "noise", noise, allow_zero=True)
    rng = _rng(rng)
    f = _sin_2pi if true_fn is None else true_fn
    x = np.sort(rng.uniform(x_range[0], x_range[1], n))
    t = f(x) + noise * rng.standard_normal(n)
    return x.astype(dtype), t.astype(dtype)
