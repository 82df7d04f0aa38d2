"""Dropout and dropconnect (lecture 000 "dropout vs dropconnect", lecture 001 "consider using dropout").

Dropout:     y = matmul(dropout(x), w)   -- zero random *activations*.
Dropconnect: y = matmul(x, dropout(w))   -- zero random *weights*, a fresh mask for every example.

Throughout, ``p`` is the probability of *dropping* a unit (PyTorch's convention; p = 0.5 drops half).
Both are "inverted": the kept values are divided by (1 - p) during training, so every unit's expected
value is unchanged and evaluation mode is the plain layer, with no rescaling at test time.

Masks come from a ``numpy.random.Generator`` and are moved to the input's array module, so a seeded
generator gives the same mask on CPU and GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array, check_choice


def _check_p(func: str, p: float) -> None:
    if not 0 <= p < 1:
        raise ValueError(f"{func}: p (the drop probability) must be in [0, 1), got {p!r}")


def _check_dropout_args(func: str, p: float, mode: str, rng: Any) -> None:
    _check_p(func, p)
    check_choice(func, "mode", mode, ("train", "eval"))
    if mode == "train" and not isinstance(rng, np.random.Generator):
        raise ValueError(f"{func}: rng must be a numpy.random.Generator in 'train' mode, got {rng!r}")


def dropout_forward(x: Any, p: float, mode: str, rng: np.random.Generator | None = None) -> tuple[Any, Any]:
    """Inverted dropout: out = x * mask / (1 - p), mask ~ Bernoulli(1 - p) per element (so per example).

    Inputs:
    - x: any shape, (N, ...).
    - p: probability of dropping each unit, in [0, 1).
    - mode: 'train' (drop and rescale) or 'eval' (identity).
    - rng: the generator the mask is drawn from (needed in 'train' mode).

    Returns:
    - out: same shape as x.
    - cache: the scaled mask, shaped like x (None in 'eval' mode).
    """
    check_array("dropout_forward", "x", x, dtype_kind="f")
    _check_dropout_args("dropout_forward", p, mode, rng)
    # BEGIN GRADED a04.dropout_forward
    if mode == "eval":
        return x, None
    xp = get_array_module(x)
    keep = rng.random(x.shape) >= p  # True with probability 1 - p
    mask = xp.asarray(keep / (1 - p), dtype=x.dtype)  # the scaled mask, on x's device
    return x * mask, mask
    # END GRADED


def dropout_backward(dout: Any, cache: Any) -> Any:
    """Dropout backward: dx = dout * mask / (1 - p), the same mask as the forward pass (identity in eval).

    Inputs:
    - dout: upstream gradient, shaped like x.
    - cache: from ``dropout_forward``.

    Returns:
    - dx: shaped like x.
    """
    check_array(
        "dropout_backward", "dout", dout, None if cache is None else tuple(cache.shape), dtype_kind="f"
    )
    # BEGIN GRADED a04.dropout_backward
    if cache is None:  # eval mode: the identity
        return dout
    return dout * cache  # the scaled mask of the forward pass
    # END GRADED


def dropconnect_forward(
    x: Any, w: Any, b: Any, p: float, mode: str, rng: np.random.Generator | None = None
) -> tuple[Any, tuple]:
    """Dropconnect affine layer: out_n = x_n @ (w * mask_n / (1 - p)) + b, a weight mask per example n.

    Inputs:
    - x: (N, D) inputs.
    - w: (D, M) weights.
    - b: (M,) biases (never dropped).
    - p: probability of dropping each weight, in [0, 1).
    - mode: 'train' or 'eval' (plain affine layer).
    - rng: the generator the masks are drawn from (needed in 'train' mode).

    Returns:
    - out: (N, M).
    - cache: (x, w, mask) with the scaled mask (N, D, M), or None for it in 'eval' mode.
    """
    dims: dict[str, int] = {}
    check_array("dropconnect_forward", "x", x, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("dropconnect_forward", "w", w, ("D", "M"), dims=dims, dtype_kind="f")
    check_array("dropconnect_forward", "b", b, ("M",), dims=dims, dtype_kind="f")
    _check_dropout_args("dropconnect_forward", p, mode, rng)
    # BEGIN GRADED a04.dropconnect_forward
    if mode == "eval":
        return x @ w + b, (x, w, None)
    xp = get_array_module(x, w)
    n, (d, m) = x.shape[0], w.shape
    keep = rng.random((n, d, m)) >= p
    mask = xp.asarray(keep / (1 - p), dtype=w.dtype)  # (N, D, M)
    out = xp.einsum("nd,ndm->nm", x, w * mask) + b  # (N, M): each example sees its own weights
    return out, (x, w, mask)
    # END GRADED


def dropconnect_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Dropconnect backward.

    With w_n = w * mask_n: dx_n = dout_n @ w_n^T, dw = sum_n mask_n * outer(x_n, dout_n), db = sum_n dout_n.

    Inputs:
    - dout: (N, M) upstream gradient.
    - cache: from ``dropconnect_forward``.

    Returns:
    - dx: (N, D); dw: (D, M); db: (M,).
    """
    check_array("dropconnect_backward", "dout", dout, (cache[0].shape[0], cache[1].shape[1]), dtype_kind="f")
    # BEGIN GRADED a04.dropconnect_backward
    x, w, mask = cache
    db = dout.sum(axis=0)  # (M,)
    if mask is None:  # eval mode: the affine layer
        return dout @ w.T, x.T @ dout, db
    xp = get_array_module(dout, x)
    dx = xp.einsum("nm,ndm->nd", dout, w * mask)  # (N, D)
    dw = xp.einsum("nd,nm,ndm->dm", x, dout, mask)  # (D, M)
    return dx, dw, db
    # END GRADED


class Dropout(Module):
    """Inverted dropout as a module; drops with probability ``p`` in training mode, identity in eval mode.

    ``rng`` is a ``numpy.random.Generator`` or an int seed (None means seed 0).
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        _check_p("Dropout", p)
        self.p = p
        self.rng = np.random.default_rng(0 if rng is None else rng)

    def forward(self, x: Any) -> Any:
        out, self.cache = dropout_forward(x, self.p, "train" if self.training else "eval", self.rng)
        return out

    def backward(self, dout: Any) -> Any:
        return dropout_backward(dout, self.cache)
