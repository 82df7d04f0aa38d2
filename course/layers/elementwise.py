"""Element-wise add and multiply with broadcasting (lecture 000, the operator "experts" add and multiply).

Broadcasting copies an input along the axes where it has size 1 (or is missing). In the backward pass
every copy sends its gradient back to the same original entry, so the gradient is *summed* over the
broadcast axes: that is ``unbroadcast``. The bias of an affine layer is the familiar special case.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.validation import check_array


def _check_broadcastable(func: str, x: Any, y: Any) -> None:
    check_array(func, "x", x, dtype_kind="f")
    check_array(func, "y", y, dtype_kind="f")
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"{func}: x and y must have broadcastable shapes, got x {tuple(x.shape)} and y {tuple(y.shape)}"
        ) from None


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it has ``shape`` again.

    Inputs:
    - grad: gradient with the broadcast (output) shape.
    - shape: the shape of the input before broadcasting.

    Returns:
    - an array of shape ``shape``.
    """
    # BEGIN GRADED a02.unbroadcast
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))  # leading axes the input never had
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)  # axes of size 1 that were copied
    return grad.reshape(shape)
    # END GRADED


def add_forward(x: Any, y: Any) -> tuple[Any, tuple]:
    """out = x + y, with NumPy broadcasting.

    Inputs:
    - x, y: arrays whose shapes broadcast to a common shape S.

    Returns:
    - out: shape S.
    - cache: (x.shape, y.shape): the sum's local derivative is 1, so only the shapes are needed.
    """
    _check_broadcastable("add_forward", x, y)
    # BEGIN GRADED a02.add_forward
    return x + y, (x.shape, y.shape)
    # END GRADED


def add_backward(dout: Any, cache: tuple) -> tuple[Any, Any]:
    """d(x + y): dx = unbroadcast(dout, x.shape), dy = unbroadcast(dout, y.shape).

    Inputs:
    - dout: upstream gradient, the broadcast shape S.
    - cache: from ``add_forward``.

    Returns:
    - dx: shaped like x; dy: shaped like y.
    """
    check_array("add_backward", "dout", dout, np.broadcast_shapes(*cache), dtype_kind="f")
    # BEGIN GRADED a02.add_backward
    x_shape, y_shape = cache
    return unbroadcast(dout, x_shape), unbroadcast(dout, y_shape)
    # END GRADED


def multiply_forward(x: Any, y: Any) -> tuple[Any, tuple]:
    """out = x * y element-wise, with NumPy broadcasting.

    Inputs:
    - x, y: arrays whose shapes broadcast to a common shape S.

    Returns:
    - out: shape S.
    - cache: (x, y): each input's derivative is the other input.
    """
    _check_broadcastable("multiply_forward", x, y)
    # BEGIN GRADED a02.multiply_forward
    return x * y, (x, y)
    # END GRADED


def multiply_backward(dout: Any, cache: tuple) -> tuple[Any, Any]:
    """d(x * y): dx = unbroadcast(dout * y, x.shape), dy = unbroadcast(dout * x, y.shape).

    If the same array is passed as x and y (x * x), the caller must *add* dx and dy: that is 2 x dout.

    Inputs:
    - dout: upstream gradient, the broadcast shape S.
    - cache: from ``multiply_forward``.

    Returns:
    - dx: shaped like x; dy: shaped like y.
    """
    shapes = (cache[0].shape, cache[1].shape)
    check_array("multiply_backward", "dout", dout, np.broadcast_shapes(*shapes), dtype_kind="f")
    # BEGIN GRADED a02.multiply_backward
    x, y = cache
    return unbroadcast(dout * y, x.shape), unbroadcast(dout * x, y.shape)
    # END GRADED
