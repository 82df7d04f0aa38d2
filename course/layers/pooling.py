"""Max pooling: the largest value of each window, channel by channel (lecture 002, "Max pooling").

Formula: out[n, c, i, j] = max_{p, q < size} x[n, c, i * stride + p, j * stride + q], with
H' = 1 + (H - size) // stride (floored, as in PyTorch: rows no window reaches are ignored).
Max is a switch (lecture 000's "max module" quiz): the gradient goes to the element that won and nowhere
else, so backward only needs the winner's position.

Ties: when several elements of a window share the maximum, the *first* in row-major window order wins
(``argmax``), and only it receives the gradient, as in PyTorch's CPU max_pool2d. This keeps the gradient
total equal to dout's (it is not duplicated on ties); gradient checks use inputs without ties, since
max is not differentiable there.

``max_pool_forward`` / ``max_pool_backward`` are the exercises (assignment 05): one strided slice per
window offset. ``max_pool_fast_forward`` / ``max_pool_fast_backward`` expose tiling windows (size ==
stride, dims divisible: the usual 2x2 pooling) with a reshape instead; ``MaxPool2d`` uses them, and
tests/test_pooling.py proves them equal to the teaching pair.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array, check_positive


def _pool_output_size(func: str, H: int, W: int, size: int, stride: int) -> tuple[int, int]:
    for name, value in (("size", size), ("stride", stride)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ValueError(f"{func}: {name} must be an int, got {value!r}")
        check_positive(func, name, value)
    if H < size or W < size:
        raise ValueError(
            f"{func}: the {size}x{size} window does not fit in the {H}x{W} input: the output would be empty"
        )
    return 1 + (H - size) // stride, 1 + (W - size) // stride


def max_pool_forward(x: Any, size: int = 2, stride: int = 2) -> tuple[Any, tuple]:
    """Max pooling forward pass over size x size windows taken every ``stride`` pixels.

    Inputs:
    - x: (N, C, H, W).
    - size: window height and width.
    - stride: step between windows.

    Returns:
    - out: (N, C, H', W') with H' = 1 + (H - size) // stride, W' likewise.
    - cache: (x_shape, idx, size, stride); idx (N, C, H', W') is the row-major position p * size + q of
      each window's winner.
    """
    check_array("max_pool_forward", "x", x, ndim=4, dtype_kind="f")
    _pool_output_size("max_pool_forward", x.shape[2], x.shape[3], size, stride)
    # BEGIN GRADED a05.max_pool_forward
    xp = get_array_module(x)
    N, C, H, W = x.shape
    Ho = 1 + (H - size) // stride
    Wo = 1 + (W - size) // stride
    # One strided slice of x per window offset (p, q), stacked on a last axis in row-major order.
    windows = xp.stack(
        [
            x[:, :, p : p + stride * (Ho - 1) + 1 : stride, q : q + stride * (Wo - 1) + 1 : stride]
            for p in range(size)
            for q in range(size)
        ],
        axis=-1,
    )  # (N, C, H', W', size * size)
    idx = windows.argmax(axis=-1)  # (N, C, H', W'): the first maximum wins a tie
    out = xp.take_along_axis(windows, idx[..., None], axis=-1)[..., 0]  # (N, C, H', W')
    cache = (x.shape, idx, size, stride)
    return out, cache
    # END GRADED


def max_pool_backward(dout: Any, cache: tuple) -> Any:
    """Max pooling backward pass: each window's gradient goes to its winner only.

    Inputs:
    - dout: (N, C, H', W') upstream gradient.
    - cache: from ``max_pool_forward``.

    Returns:
    - dx: (N, C, H, W); zero everywhere except at winners. Overlapping windows (stride < size) that
      share a winner add their gradients there.
    """
    check_array("max_pool_backward", "dout", dout, tuple(cache[1].shape), dtype_kind="f")
    # BEGIN GRADED a05.max_pool_backward
    xp = get_array_module(dout)
    x_shape, idx, size, stride = cache
    Ho, Wo = dout.shape[2], dout.shape[3]
    dx = xp.zeros(x_shape, dtype=dout.dtype)
    for k in range(size * size):
        p, q = divmod(k, size)
        # Within one offset the pixels are distinct; across offsets (overlapping windows) += accumulates.
        rows = slice(p, p + stride * (Ho - 1) + 1, stride)
        cols = slice(q, q + stride * (Wo - 1) + 1, stride)
        dx[:, :, rows, cols] += dout * (idx == k)
    return dx
    # END GRADED


# ---------------------------------------------------------------------------------------------------
# Fast paths (not exercises): windows that tile the image are a reshape away.
# ---------------------------------------------------------------------------------------------------


def _tiles(H: int, W: int, size: int, stride: int) -> bool:
    """True when windows tile the image exactly (size == stride, dims divide): a reshape exposes them."""
    return size == stride and H % size == 0 and W % size == 0


def max_pool_fast_forward(x: Any, size: int = 2, stride: int = 2) -> tuple[Any, tuple]:
    """``max_pool_forward`` with a reshape instead of size * size slices when the windows tile x.

    Other geometries go to ``max_pool_forward``. Inputs, outputs and cache as ``max_pool_forward``
    (the first maximum wins a tie, as there), so either backward pass takes either cache.
    """
    check_array("max_pool_fast_forward", "x", x, ndim=4, dtype_kind="f")
    N, C, H, W = x.shape
    Ho, Wo = _pool_output_size("max_pool_fast_forward", H, W, size, stride)
    if not _tiles(H, W, size, stride):
        return max_pool_forward(x, size, stride)
    # BEGIN FAST a05.max_pool_forward
    xp = get_array_module(x)
    # Non-overlapping windows tiling x: a reshape splits each spatial axis into (window, offset).
    windows = x.reshape(N, C, Ho, size, Wo, size).transpose(0, 1, 2, 4, 3, 5)  # (N, C, H', W', s, s)
    windows = windows.reshape(N, C, Ho, Wo, size * size)  # (N, C, H', W', s s), offsets row-major
    idx = xp.argmax(windows, axis=-1)  # (N, C, H', W')
    out = xp.take_along_axis(windows, idx[..., None], axis=-1)[..., 0]  # (N, C, H', W')
    return out, (x.shape, idx, size, stride)
    # END FAST


def max_pool_fast_backward(dout: Any, cache: tuple) -> Any:
    """``max_pool_backward`` as a one-hot product and the forward reshape run backwards, when the windows
    tile the image; other geometries go to ``max_pool_backward``. Inputs and outputs as there."""
    x_shape, idx, size, stride = cache
    N, C, H, W = x_shape
    check_array("max_pool_fast_backward", "dout", dout, tuple(idx.shape), dtype_kind="f")
    if not _tiles(H, W, size, stride):
        return max_pool_backward(dout, cache)
    # BEGIN FAST a05.max_pool_backward
    xp = get_array_module(dout, idx)
    Ho, Wo = idx.shape[2], idx.shape[3]
    onehot = idx[..., None] == xp.arange(size * size)  # (N, C, H', W', s s)
    dwin = onehot * dout[..., None]  # (N, C, H', W', s s)
    dx = dwin.reshape(N, C, Ho, Wo, size, size).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)
    return dx.astype(dout.dtype, copy=False)
    # END FAST


class MaxPool2d(Module):
    """Max pooling as a module (no parameters) over the fast pair; ``stride`` defaults to ``size``."""

    def __init__(self, size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        self.size = size
        self.stride = size if stride is None else stride

    def forward(self, x: Any) -> Any:
        out, self.cache = max_pool_fast_forward(x, self.size, self.stride)
        return out

    def backward(self, dout: Any) -> Any:
        return max_pool_fast_backward(dout, self.cache)
