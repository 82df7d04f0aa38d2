"""Element-wise non-linearities: ReLU, sigmoid and tanh (lectures 001 "ReLU vs sigmoid/tanh" and 002).

Each backward pass reads the forward *output* rather than the input, because the local derivative is
cheapest written in terms of it: relu' = [out > 0], sigmoid' = s (1 - s), tanh' = 1 - t^2.
"""

from __future__ import annotations

from typing import Any

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array


def relu_forward(x: Any) -> tuple[Any, Any]:
    """ReLU, out = max(x, 0).

    Inputs:
    - x: any shape.

    Returns:
    - out: same shape as x.
    - cache: out (its positive entries are where the gradient passes).
    """
    check_array("relu_forward", "x", x, dtype_kind="f")
    # BEGIN GRADED a02.relu_forward
    xp = get_array_module(x)
    out = xp.maximum(x, 0)
    return out, out
    # END GRADED


def relu_backward(dout: Any, cache: Any) -> Any:
    """ReLU backward, dx = dout * [x > 0] (the subgradient at 0 is taken as 0, as PyTorch does).

    Inputs:
    - dout: upstream gradient, shaped like the output.
    - cache: the forward output.

    Returns:
    - dx: shaped like x.
    """
    check_array("relu_backward", "dout", dout, tuple(cache.shape), dtype_kind="f")
    # BEGIN GRADED a02.relu_backward
    out = cache
    return dout * (out > 0)
    # END GRADED


def sigmoid_forward(x: Any) -> tuple[Any, Any]:
    """Logistic sigmoid, out = 1 / (1 + exp(-x)), computed without overflow.

    exp(-x) overflows for x below about -710 (float64) or -89 (float32). With z = exp(-|x|) <= 1 both
    branches are safe: sigmoid(x) = 1 / (1 + z) for x >= 0 and z / (1 + z) for x < 0.

    Inputs:
    - x: any shape.

    Returns:
    - out: same shape as x, in [0, 1].
    - cache: out.
    """
    check_array("sigmoid_forward", "x", x, dtype_kind="f")
    # BEGIN GRADED a02.sigmoid_forward
    xp = get_array_module(x)
    z = xp.exp(-xp.abs(x))
    out = xp.where(x >= 0, 1, z) / (1 + z)
    return out, out
    # END GRADED


def sigmoid_backward(dout: Any, cache: Any) -> Any:
    """Sigmoid backward, dx = dout * s (1 - s) with s the forward output.

    Inputs:
    - dout: upstream gradient, shaped like the output.
    - cache: s, the forward output.

    Returns:
    - dx: shaped like x.
    """
    check_array("sigmoid_backward", "dout", dout, tuple(cache.shape), dtype_kind="f")
    # BEGIN GRADED a02.sigmoid_backward
    s = cache
    return dout * s * (1 - s)
    # END GRADED


def tanh_forward(x: Any) -> tuple[Any, Any]:
    """Hyperbolic tangent, out = tanh(x) (stable as provided by the array library).

    Inputs:
    - x: any shape.

    Returns:
    - out: same shape as x, in [-1, 1].
    - cache: out.
    """
    check_array("tanh_forward", "x", x, dtype_kind="f")
    # BEGIN GRADED a02.tanh_forward
    xp = get_array_module(x)
    out = xp.tanh(x)
    return out, out
    # END GRADED


def tanh_backward(dout: Any, cache: Any) -> Any:
    """Tanh backward, dx = dout * (1 - t^2) with t the forward output.

    Inputs:
    - dout: upstream gradient, shaped like the output.
    - cache: t, the forward output.

    Returns:
    - dx: shaped like x.
    """
    check_array("tanh_backward", "dout", dout, tuple(cache.shape), dtype_kind="f")
    # BEGIN GRADED a02.tanh_backward
    t = cache
    return dout * (1 - t * t)
    # END GRADED


class ReLU(Module):
    """ReLU as a module (no parameters)."""

    def forward(self, x: Any) -> Any:
        out, self.cache = relu_forward(x)
        return out

    def backward(self, dout: Any) -> Any:
        return relu_backward(dout, self.cache)


class Sigmoid(Module):
    """Sigmoid as a module (no parameters)."""

    def forward(self, x: Any) -> Any:
        out, self.cache = sigmoid_forward(x)
        return out

    def backward(self, dout: Any) -> Any:
        return sigmoid_backward(dout, self.cache)


class Tanh(Module):
    """Tanh as a module (no parameters)."""

    def forward(self, x: Any) -> Any:
        out, self.cache = tanh_forward(x)
        return out

    def backward(self, dout: Any) -> Any:
        return tanh_backward(dout, self.cache)
