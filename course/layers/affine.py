"""The affine (fully connected) layer: out = x W + b (lecture 000, "the fully connected module vectorised").

The bias is added to every row by broadcasting, so its gradient is the sum of the upstream gradient over
the batch (lecture 000, "bias-adding (broadcasting)"). The backward pass is two matrix products:
dx = dout W^T and dW = x^T dout.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course.core.module import Module
from course.core.validation import check_array, check_choice


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
    check_array("affine_forward", "x", x, min_ndim=2, dtype_kind="f")
    dims = {"D": math.prod(x.shape[1:])}
    check_array("affine_forward", "w", w, ("D", "M"), dims=dims, dtype_kind="f")
    check_array("affine_forward", "b", b, ("M",), dims=dims, dtype_kind="f")
    # BEGIN GRADED a02.affine_forward
    x2d = x.reshape(x.shape[0], -1)  # (N, D); a view, not a copy, for a contiguous x
    out = x2d @ w  # (N, M)
    out += b  # in place: the bias broadcasts over the N rows without a second (N, M) temporary
    cache = (x, w)
    return out, cache
    # END GRADED


def affine_backward(dout: Any, cache: tuple, *, need_dx: bool = True) -> tuple[Any, Any, Any]:
    """Affine layer backward pass.

    Inputs:
    - dout: (N, M) upstream gradient.
    - cache: (x, w) from ``affine_forward``.
    - need_dx: False skips dx (returned as None). The first layer of a network never needs the gradient
      of its input, and dx costs as much as dw: one of the three large matrix products of a training step.

    Returns:
    - dx: gradient of x, in x's original shape (N, d_1, ..., d_k), or None when ``need_dx`` is False.
    - dw: (D, M) gradient of w.
    - db: (M,) gradient of b (the bias was broadcast over N rows, so its gradient sums over them).
    """
    x, w = cache
    check_array("affine_backward", "dout", dout, (x.shape[0], w.shape[1]), dtype_kind="f")
    # BEGIN GRADED a02.affine_backward
    x2d = x.reshape(x.shape[0], -1)  # (N, D)
    dx = (dout @ w.T).reshape(x.shape) if need_dx else None  # (N, D) -> (N, d_1, ..., d_k)
    dw = x2d.T @ dout  # (D, M): a sum of outer products, one per example
    db = dout.sum(axis=0)  # (M,)
    return dx, dw, db
    # END GRADED


def _scaled_normal(rng: np.random.Generator, shape: tuple[int, int], init: str, dtype: Any) -> np.ndarray:
    """Normal weights: He, std sqrt(2 / fan_in) (ReLU nets), or Glorot, std sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = shape
    std = math.sqrt(2.0 / fan_in) if init == "he" else math.sqrt(2.0 / (fan_in + fan_out))
    return (rng.standard_normal(shape) * std).astype(dtype)


class Linear(Module):
    """A fully connected layer holding ``w`` (in_features, out_features) and ``b`` (out_features,).

    ``rng`` is a ``numpy.random.Generator`` or an int seed (None means seed 0, so a model built twice is
    the same model). The bias starts at zero. ``input_grad=False`` makes ``backward`` skip the gradient of
    the input and return None: use it for a network's first layer, whose input is data.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
        init: str = "he",
        input_grad: bool = True,
    ) -> None:
        super().__init__()
        check_choice("Linear", "init", init, ("he", "glorot"))
        rng = np.random.default_rng(0 if rng is None else rng)
        self.add_param("w", _scaled_normal(rng, (in_features, out_features), init, dtype))
        self.add_param("b", np.zeros(out_features, dtype=dtype))
        self.input_grad = input_grad

    def forward(self, x: Any) -> Any:
        out, self.cache = affine_forward(x, self.params["w"], self.params["b"])
        return out

    def backward(self, dout: Any) -> Any:
        dx, dw, db = affine_backward(dout, self.cache, need_dx=self.input_grad)
        self.accumulate("w", dw)
        self.accumulate("b", db)
        return dx
