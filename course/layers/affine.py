"""The affine (fully connected) layer: out = x W + b (lecture 000, "the fully connected module vectorised").

The bias is added to every row by broadcasting, so its gradient is the sum of the upstream gradient over
the batch (lecture 000, "bias-adding (broadcasting)"). The backward pass is two matrix products:
dx = dout W^T and dW = x^T dout.

``affine_forward`` / ``affine_backward`` are the teaching pair (assignment 02). ``affine_forward_fast`` /
``affine_backward_fast`` compute the same values with two speed tricks, and ``Linear`` uses them: the bias
is added in place (no second (N, M) temporary), and the first layer of a network can skip dx, which costs
as much as dw (one of the three large matrix products of a training step). ``tests/test_affine.py``
proves the two pairs equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from course.core.module import Module
from course.core.validation import check_array, check_choice
from course.training.init import glorot_normal, he_normal


def _check_forward(func: str, x: Any, w: Any, b: Any) -> None:
    check_array(func, "x", x, min_ndim=2, dtype_kind="f")
    dims = {"D": math.prod(x.shape[1:])}
    check_array(func, "w", w, ("D", "M"), dims=dims, dtype_kind="f")
    check_array(func, "b", b, ("M",), dims=dims, dtype_kind="f")


def _check_backward(func: str, dout: Any, cache: tuple) -> None:
    x, w = cache
    check_array(func, "dout", dout, (x.shape[0], w.shape[1]), dtype_kind="f")


def affine_forward(x: Any, w: Any, b: Any) -> tuple[Any, tuple]:
    """Affine layer forward pass, out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: (N, d_1, ..., d_k) inputs; each example is flattened to D = d_1 * ... * d_k values.
    - w: (D, M) weights.
    - b: (M,) biases.

    Returns:
    - out: (N, M).
    - cache: (x, w), what the backward pass reads.
    """
    _check_forward("affine_forward", x, w, b)
    # BEGIN GRADED a02.affine_forward
    out = x.reshape(x.shape[0], -1) @ w + b  # (N, D) @ (D, M) + (M,) -> (N, M)
    cache = (x, w)
    return out, cache
    # END GRADED


def affine_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Affine layer backward pass: dx = dout w^T, dw = x^T dout, db = sum_n dout_n.

    Inputs:
    - dout: (N, M) upstream gradient.
    - cache: (x, w) from ``affine_forward``.

    Returns:
    - dx: gradient of x, in x's original shape (N, d_1, ..., d_k).
    - dw: (D, M) gradient of w.
    - db: (M,) gradient of b (the bias was broadcast over N rows, so its gradient sums over them).
    """
    _check_backward("affine_backward", dout, cache)
    # BEGIN GRADED a02.affine_backward
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)  # (N, D) -> (N, d_1, ..., d_k)
    dw = x.reshape(x.shape[0], -1).T @ dout  # (D, M): a sum of outer products, one per example
    db = dout.sum(axis=0)  # (M,)
    return dx, dw, db
    # END GRADED


def affine_forward_fast(x: Any, w: Any, b: Any) -> tuple[Any, tuple]:
    """``affine_forward`` with the bias added in place: the same (N, M) output, one temporary fewer.

    Inputs and outputs as ``affine_forward``.
    """
    _check_forward("affine_forward_fast", x, w, b)
    # BEGIN FAST a02.affine_forward
    out = x.reshape(x.shape[0], -1) @ w  # (N, M), a new array we own
    out += b  # in place: the bias broadcasts over the N rows without a second (N, M) temporary
    return out, (x, w)
    # END FAST


def affine_backward_fast(dout: Any, cache: tuple, *, need_dx: bool = True) -> tuple[Any, Any, Any]:
    """``affine_backward`` that can skip dx (returned as None when ``need_dx`` is False).

    The first layer of a network never needs the gradient of its input (data), and dx costs as much as
    dw. Inputs and outputs otherwise as ``affine_backward``.
    """
    _check_backward("affine_backward_fast", dout, cache)
    # BEGIN FAST a02.affine_backward
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape) if need_dx else None  # (N, D) -> (N, d_1, ..., d_k)
    dw = x.reshape(x.shape[0], -1).T @ dout  # (D, M)
    db = dout.sum(axis=0)  # (M,)
    return dx, dw, db
    # END FAST


Init = Callable[[np.random.Generator, tuple[int, int]], Any]


class Linear(Module):
    """A fully connected layer holding ``w`` (in_features, out_features) and ``b`` (out_features,).

    - rng: a ``numpy.random.Generator`` or an int seed (None means seed 0, so a model built twice is the
      same model).
    - init: how ``w`` is drawn: "he" (``course.training.init.he_normal``, std sqrt(2 / in_features), for
      ReLU nets), "glorot" (``glorot_normal``, std sqrt(2 / (in_features + out_features))), or a callable
      ``init(rng, (in_features, out_features)) -> array``, cast to ``dtype`` (notebooks before
      assignment 04, where the named initialisers are still exercises, pass their own draw).
    - input_grad: False makes ``backward`` skip the gradient of the input and return None: use it for a
      network's first layer, whose input is data.

    The bias starts at zero. Forward and backward use the fast pair ``affine_forward_fast`` /
    ``affine_backward_fast``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
        init: str | Init = "he",
        input_grad: bool = True,
    ) -> None:
        super().__init__()
        shape = (in_features, out_features)
        rng = np.random.default_rng(0 if rng is None else rng)
        if callable(init):
            w = np.asarray(init(rng, shape)).astype(dtype)
            if w.shape != shape:
                raise ValueError(
                    f"Linear: init(rng, {shape}) must return an array of shape {shape}, got {w.shape}"
                )
        else:
            check_choice("Linear", "init", init, ("he", "glorot"))
            w = (he_normal if init == "he" else glorot_normal)(shape, rng, dtype)
        self.add_param("w", w)
        self.add_param("b", np.zeros(out_features, dtype=dtype))
        self.input_grad = input_grad

    def forward(self, x: Any) -> Any:
        out, self.cache = affine_forward_fast(x, self.params["w"], self.params["b"])
        return out

    def backward(self, dout: Any) -> Any:
        dx, dw, db = affine_backward_fast(dout, self.cache, need_dx=self.input_grad)
        self.accumulate("w", dw)
        self.accumulate("b", db)
        return dx
