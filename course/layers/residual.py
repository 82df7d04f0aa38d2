"""The residual block of ResNets (lectures 002 and 004, "Resnets", He et al. 2015).

Two 3x3 convolutions learn a correction F(x) that is added to the unchanged input:
    out = relu(x + conv2(relu(conv1(x))))
Padding 1 and stride 1 keep the (C, H, W) shape, so the identity skip needs no projection. Backward
shows why the skip helps very deep nets: the gradient reaching x is dout' + (the path through the
convolutions), so even when the convolutions pass little gradient the identity term still carries it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.module import Module
from course.core.validation import check_array
from course.layers.activations import relu_backward, relu_forward
from course.layers.convolution import Conv2d, conv_im2col_backward, conv_im2col_forward


def residual_block_forward(x: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> tuple[Any, tuple]:
    """Residual block forward pass, out = relu(x + conv(relu(conv(x, w1, b1)), w2, b2)), 3x3 convs, pad 1.

    Inputs:
    - x: (N, C, H, W).
    - w1: (C, C, 3, 3), b1: (C,): first convolution (C filters, so the shape is kept).
    - w2: (C, C, 3, 3), b2: (C,): second convolution.

    Returns:
    - out: (N, C, H, W).
    - cache: (conv1 cache, relu1 cache, conv2 cache, relu2 cache).
    """
    dims: dict[str, int] = {}
    check_array("residual_block_forward", "x", x, ("N", "C", "H", "W"), dims=dims, dtype_kind="f")
    check_array("residual_block_forward", "w1", w1, ("C", "C", 3, 3), dims=dims, dtype_kind="f")
    check_array("residual_block_forward", "b1", b1, ("C",), dims=dims, dtype_kind="f")
    check_array("residual_block_forward", "w2", w2, ("C", "C", 3, 3), dims=dims, dtype_kind="f")
    check_array("residual_block_forward", "b2", b2, ("C",), dims=dims, dtype_kind="f")
    # BEGIN GRADED a05.residual_block_forward
    a, conv1_cache = conv_im2col_forward(x, w1, b1, 1, 1)  # (N, C, H, W)
    h, relu1_cache = relu_forward(a)
    f, conv2_cache = conv_im2col_forward(h, w2, b2, 1, 1)  # (N, C, H, W)
    out, relu2_cache = relu_forward(x + f)  # the identity skip
    cache = (conv1_cache, relu1_cache, conv2_cache, relu2_cache)
    return out, cache
    # END GRADED


def residual_block_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any]:
    """Residual block backward pass.

    x is used twice (the skip and the first convolution), so dx is the sum of both paths.

    Inputs:
    - dout: (N, C, H, W) upstream gradient.
    - cache: from ``residual_block_forward``.

    Returns:
    - dx: (N, C, H, W), dw1: (C, C, 3, 3), db1: (C,), dw2: (C, C, 3, 3), db2: (C,).
    """
    relu2_out = cache[3]
    check_array("residual_block_backward", "dout", dout, tuple(relu2_out.shape), dtype_kind="f")
    # BEGIN GRADED a05.residual_block_backward
    conv1_cache, relu1_cache, conv2_cache, relu2_cache = cache
    ds = relu_backward(dout, relu2_cache)  # gradient of s = x + f
    dh, dw2, db2 = conv_im2col_backward(ds, conv2_cache)
    da = relu_backward(dh, relu1_cache)
    dx_conv, dw1, db1 = conv_im2col_backward(da, conv1_cache)
    dx = dx_conv + ds  # the skip path: x was used twice, its gradients add up
    return dx, dw1, db1, dw2, db2
    # END GRADED


class ResidualBlock(Module):
    """A residual block with C channels: two 3x3 convolutions (children ``conv1``, ``conv2``) and a skip.

    ``rng`` is a ``numpy.random.Generator`` or an int seed (None means seed 0).
    """

    def __init__(
        self, channels: int, *, rng: np.random.Generator | int | None = None, dtype: Any = np.float32
    ):
        super().__init__()
        rng = np.random.default_rng(0 if rng is None else rng)  # a Generator passes through unchanged
        self.children["conv1"] = Conv2d(channels, channels, 3, 1, 1, rng=rng, dtype=dtype)
        self.children["conv2"] = Conv2d(channels, channels, 3, 1, 1, rng=rng, dtype=dtype)

    def forward(self, x: Any) -> Any:
        c1, c2 = self.children["conv1"], self.children["conv2"]
        out, self.cache = residual_block_forward(
            x, c1.params["w"], c1.params["b"], c2.params["w"], c2.params["b"]
        )
        return out

    def backward(self, dout: Any) -> Any:
        dx, dw1, db1, dw2, db2 = residual_block_backward(dout, self.cache)
        self.children["conv1"].accumulate("w", dw1)
        self.children["conv1"].accumulate("b", db1)
        self.children["conv2"].accumulate("w", dw2)
        self.children["conv2"].accumulate("b", db2)
        return dx
