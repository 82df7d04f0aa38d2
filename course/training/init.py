"""Weight initialisation (lecture 004, "initialisation"; lecture 001, training tricks).

The scale of the initial weights decides whether activations and gradients keep their size through
depth. For a layer y = x W with fan_in inputs and independent zero-mean weights of variance s^2,
Var(y) = fan_in s^2 Var(x), so:

- Glorot / Xavier (tanh, sigmoid, linear): s^2 = 2 / (fan_in + fan_out), a compromise between keeping the
  forward variance (fan_in) and the backward variance (fan_out).
- He / Kaiming (ReLU): s^2 = 2 / fan_in, because ReLU zeroes half of its inputs and halves the variance.
- Orthogonal (recurrent weights): every singular value is 1, so repeated products neither blow up nor
  vanish (lecture 004, "orthogonal initialisation").

A uniform U(-a, a) has variance a^2 / 3, hence a = sqrt(3) s for the uniform variants.

Every function takes (shape, rng, dtype) and returns a NumPy array (move it with
``course.core.backend.to_device``). Shapes follow the library: (D, M) = (fan_in, fan_out) for affine weights,
(F, C, HH, WW) for convolution filters (fan_in = C HH WW, fan_out = F HH WW).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from course.core.validation import check_positive


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape.

    - (D,): (D, D); (D, M): (D, M), since our affine layers compute x @ w;
    - (F, C, k_1, ...): (C * k_1 * ..., F * k_1 * ...), convolution filters.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0 or any(s <= 0 for s in shape):
        raise ValueError(f"fans: shape must have positive dimensions, got {shape}")
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _check(func: str, shape: Sequence[int], rng: Any, gain: float) -> None:
    """Validate the arguments (``fans`` rejects a shape without positive dimensions)."""
    fans(shape)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{func}: rng must be a numpy.random.Generator, got {type(rng).__name__}")
    check_positive(func, "gain", gain)


def glorot_uniform(
    shape: Sequence[int], rng: np.random.Generator, dtype: Any = np.float32, gain: float = 1.0
) -> np.ndarray:
    """Glorot/Xavier uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Returns an array of ``shape`` and ``dtype``; its variance is gain^2 * 2 / (fan_in + fan_out).
    """
    _check("glorot_uniform", shape, rng, gain)
    # BEGIN GRADED a04.glorot_uniform
    fan_in, fan_out = fans(shape)
    limit = gain * np.sqrt(6.0 / (fan_in + fan_out))  # U(-a, a) has variance a^2 / 3
    return rng.uniform(-limit, limit, size=tuple(shape)).astype(dtype)
    # END GRADED


def glorot_normal(
    shape: Sequence[int], rng: np.random.Generator, dtype: Any = np.float32, gain: float = 1.0
) -> np.ndarray:
    """Glorot/Xavier normal: N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out))."""
    _check("glorot_normal", shape, rng, gain)
    # BEGIN GRADED a04.glorot_normal
    fan_in, fan_out = fans(shape)
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    return (std * rng.standard_normal(tuple(shape))).astype(dtype)
    # END GRADED


def he_normal(shape: Sequence[int], rng: np.random.Generator, dtype: Any = np.float32) -> np.ndarray:
    """He/Kaiming normal for ReLU layers: N(0, s^2) with s = sqrt(2 / fan_in)."""
    _check("he_normal", shape, rng, 1.0)
    # BEGIN GRADED a04.he_normal
    fan_in, _ = fans(shape)
    std = np.sqrt(2.0 / fan_in)  # ReLU zeroes half of its inputs: twice the 1 / fan_in of a linear layer
    return (std * rng.standard_normal(tuple(shape))).astype(dtype)
    # END GRADED


def he_uniform(shape: Sequence[int], rng: np.random.Generator, dtype: Any = np.float32) -> np.ndarray:
    """He/Kaiming uniform for ReLU layers: U(-a, a) with a = sqrt(6 / fan_in) (variance 2 / fan_in)."""
    _check("he_uniform", shape, rng, 1.0)
    # BEGIN GRADED a04.he_uniform
    fan_in, _ = fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=tuple(shape)).astype(dtype)
    # END GRADED


def orthogonal(
    shape: Sequence[int], rng: np.random.Generator, dtype: Any = np.float32, gain: float = 1.0
) -> np.ndarray:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2014), e.g. for recurrent weights (H, H).

    The weight is viewed as a matrix (shape[0], prod(shape[1:])). A Gaussian matrix is factored A = Q R;
    multiplying each column of Q by sign(R_ii) makes Q uniformly (Haar) distributed instead of biased
    by the QR algorithm's sign convention. Tall results have orthonormal columns (Q^T Q = I), wide ones
    orthonormal rows (Q Q^T = I).
    """
    _check("orthogonal", shape, rng, gain)
    shape = tuple(shape)
    rows = shape[0]
    cols = math.prod(shape[1:]) if len(shape) > 1 else 1
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)  # q: (max, min) with orthonormal columns
    q *= np.sign(np.diag(r))  # fixes each column's sign; np.sign(0) cannot occur for a Gaussian matrix
    if rows < cols:
        q = q.T  # (rows, cols), orthonormal rows
    return (gain * q).reshape(shape).astype(dtype)


def zeros(
    shape: Sequence[int], rng: np.random.Generator | None = None, dtype: Any = np.float32
) -> np.ndarray:
    """All zeros (biases); ``rng`` is accepted and ignored so every initialiser has the same signature."""
    fans(shape)
    return np.zeros(tuple(shape), dtype=dtype)
