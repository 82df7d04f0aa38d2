"""The convolution layer, three ways: loops, im2col + matrix multiply, and one dense matrix.

Lecture 002 ("Convolution layer") slides a filter that spans the full input depth over the image and
takes a dot product at every position; lecture 000 ("convolution optimisation") turns those dot
products into one matrix multiply; lecture 004 ("can an MLP reproduce a ConvNet?") writes the whole
convolution as a single structured weight matrix.

Formula (cross-correlation, as every deep-learning library computes it), for zero padding ``pad``:
    out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * xpad[n, c, i * stride + p, j * stride + q]
Output size: H' = 1 + (H + 2 pad - HH) // stride, W' = 1 + (W + 2 pad - WW) // stride. The division
floors, as in PyTorch: when the filter does not tile the padded input exactly, the last rows/columns
that no window reaches are ignored (and get zero gradient).

The three implementations agree to round-off:
- ``conv_naive_forward`` / ``conv_naive_backward``: explicit loops, the definition;
- ``conv_im2col_forward`` / ``conv_im2col_backward``: ``im2col`` copies every receptive field into the
  columns of a matrix so that the convolution is ``w.reshape(F, -1) @ cols``; ``col2im`` sends column
  gradients back, summing where receptive fields overlap;
- ``conv_as_matrix``: the dense (F H' W', C H W) matrix M with M @ x.ravel() = out.ravel().

Those are the exercises (assignment 05), written to be read. The fast paths at the end of the file,
``im2col_fast``, ``col2im_fast`` and ``conv_im2col_fast_forward`` / ``conv_im2col_fast_backward``, compute
the same im2col convolution with tricks tuned for the CPU (every window copied by one strided copy, flat
shifted runs for "same" convolutions, chunks of images that fit in cache, outputs written in place);
``Conv2d`` and ``bench/cpu.py`` use them, and ``tests/test_convolution.py`` proves them equal to the
teaching versions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array, check_positive
from course.training.init import he_normal


def _check_hyper(func: str, stride: int, pad: int) -> None:
    if not isinstance(stride, (int, np.integer)) or isinstance(stride, bool):
        raise ValueError(f"{func}: stride must be an int, got {stride!r}")
    if not isinstance(pad, (int, np.integer)) or isinstance(pad, bool):
        raise ValueError(f"{func}: pad must be an int, got {pad!r}")
    check_positive(func, "stride", stride)
    check_positive(func, "pad", pad, allow_zero=True)


def conv_output_size(func: str, H: int, W: int, HH: int, WW: int, stride: int, pad: int) -> tuple[int, int]:
    """(H', W') = (1 + (H + 2 pad - HH) // stride, 1 + (W + 2 pad - WW) // stride); ValueError if empty."""
    if H + 2 * pad < HH or W + 2 * pad < WW:
        raise ValueError(
            f"{func}: the {HH}x{WW} filter does not fit in the padded {H}x{W} input "
            f"((H + 2 pad, W + 2 pad) = ({H + 2 * pad}, {W + 2 * pad}) with pad={pad}): "
            "the output would be empty"
        )
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


def _check_conv_args(func: str, x: Any, w: Any, b: Any, stride: int, pad: int) -> tuple[int, int]:
    dims: dict[str, int] = {}
    check_array(func, "x", x, ("N", "C", "H", "W"), dims=dims, dtype_kind="f")
    check_array(func, "w", w, ("F", "C", "HH", "WW"), dims=dims, dtype_kind="f")
    check_array(func, "b", b, ("F",), dims=dims, dtype_kind="f")
    _check_hyper(func, stride, pad)
    return conv_output_size(func, x.shape[2], x.shape[3], w.shape[2], w.shape[3], stride, pad)


def _check_dout(func: str, dout: Any, x_shape: tuple, w_shape: tuple, stride: int, pad: int) -> None:
    N, _, H, W = x_shape
    F, _, HH, WW = w_shape
    Ho, Wo = conv_output_size(func, H, W, HH, WW, stride, pad)
    check_array(func, "dout", dout, (N, F, Ho, Wo), dtype_kind="f")


def _check_cols_args(func: str, x_shape: tuple, HH: int, WW: int, stride: int, pad: int) -> tuple[int, int]:
    _check_hyper(func, stride, pad)
    if len(x_shape) != 4:
        raise ValueError(f"{func}: x_shape must be (N, C, H, W), got {tuple(x_shape)}")
    return conv_output_size(func, x_shape[2], x_shape[3], HH, WW, stride, pad)


# ---------------------------------------------------------------------------------------------------
# Naive: the definition, with loops.
# ---------------------------------------------------------------------------------------------------


def conv_naive_forward(x: Any, w: Any, b: Any, stride: int = 1, pad: int = 0) -> tuple[Any, tuple]:
    """Convolution forward pass with explicit loops over examples, filters and output positions.

    Inputs:
    - x: (N, C, H, W) input images.
    - w: (F, C, HH, WW) filters; each spans all C input channels.
    - b: (F,) one bias per filter.
    - stride: step between neighbouring receptive fields (same vertically and horizontally).
    - pad: zeros added on every side of H and W.

    Returns:
    - out: (N, F, H', W') with H' = 1 + (H + 2 pad - HH) // stride, W' likewise.
    - cache: (x, w, b, stride, pad).
    """
    _check_conv_args("conv_naive_forward", x, w, b, stride, pad)
    # BEGIN GRADED a05.conv_naive_forward
    xp = get_array_module(x, w, b)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H + 2 pad, W + 2 pad)
    out = xp.zeros((N, F, Ho, Wo), dtype=xp.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    window = xpad[n, :, rows, cols]  # (C, HH, WW)
                    out[n, f, i, j] = xp.sum(window * w[f]) + b[f]
    cache = (x, w, b, stride, pad)
    return out, cache
    # END GRADED


def conv_naive_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Convolution backward pass with explicit loops.

    Each output position read one window of xpad through w[f]; so it sends dout * w[f] back to that
    window of dxpad and dout * window to dw[f]. Windows overlap when stride < HH, so dx accumulates.

    Inputs:
    - dout: (N, F, H', W') upstream gradient.
    - cache: (x, w, b, stride, pad) from ``conv_naive_forward``.

    Returns:
    - dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F,).
    """
    x, w, _, stride, pad = cache
    _check_dout("conv_naive_backward", dout, x.shape, w.shape, stride, pad)
    # BEGIN GRADED a05.conv_naive_backward
    x, w, b, stride, pad = cache
    xp = get_array_module(dout, x, w)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = dout.shape[2], dout.shape[3]
    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H + 2 pad, W + 2 pad)
    dxpad = xp.zeros_like(xpad)
    dw = xp.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))  # (F,): the bias was added at every (n, i, j)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dxpad[n, :, rows, cols] += dout[n, f, i, j] * w[f]  # += : windows overlap
                    dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols]
    dx = dxpad[:, :, pad : pad + H, pad : pad + W]  # (N, C, H, W): the padding is not an input
    return dx, dw, db
    # END GRADED


# ---------------------------------------------------------------------------------------------------
# im2col: receptive fields as matrix columns, the convolution as a matrix multiply.
# ---------------------------------------------------------------------------------------------------


def im2col(x: Any, HH: int, WW: int, stride: int = 1, pad: int = 0) -> Any:
    """Copy every HH x WW receptive field of x into a column: cols[n, :, i * W' + j] is window (i, j).

    Rows are ordered channels first, (c, p, q), the order of ``w.reshape(F, -1)``, so that
    ``w.reshape(F, -1) @ cols`` is the convolution, image by image, already in (N, F, H' W') layout.
    Instead of looping over windows, the loop runs over the HH * WW kernel offsets (p, q): entry (p, q)
    of every window is one strided slice of the padded image, copied in one go.

    Inputs:
    - x: (N, C, H, W).
    - HH, WW: filter height and width; stride, pad as in the convolution.

    Returns:
    - cols: (N, C * HH * WW, H' * W'), in x's dtype.
    """
    check_array("im2col", "x", x, ndim=4)
    _check_cols_args("im2col", x.shape, HH, WW, stride, pad)
    # BEGIN GRADED a05.im2col
    xp = get_array_module(x)
    N, C, H, W = x.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H + 2 pad, W + 2 pad)
    cols = xp.empty((N, C, HH, WW, Ho, Wo), dtype=x.dtype)
    for p in range(HH):
        for q in range(WW):
            rows = slice(p, p + stride * (Ho - 1) + 1, stride)
            columns = slice(q, q + stride * (Wo - 1) + 1, stride)
            cols[:, :, p, q] = xpad[:, :, rows, columns]  # (N, C, H', W'): entry (p, q) of every window
    return cols.reshape(N, C * HH * WW, Ho * Wo)  # rows (c, p, q), columns (i, j)
    # END GRADED


def col2im(
    cols: Any, x_shape: tuple[int, int, int, int], HH: int, WW: int, stride: int = 1, pad: int = 0
) -> Any:
    """The adjoint of ``im2col``: add every column entry back to the input pixel it was copied from.

    A pixel that sat in several receptive fields receives the sum of their gradients; entries copied
    from the padding are dropped, because the padding is not an input. Same loop over kernel offsets as
    ``im2col``, with a slice-add into a zero padded gradient in place of the slice copy (within one
    offset the target pixels are distinct, so a plain += is exact: no np.add.at).

    Inputs:
    - cols: (N, C * HH * WW, H' * W'), e.g. the gradient of ``im2col``'s output. Not modified.
    - x_shape: (N, C, H, W), the shape of the image ``im2col`` read.

    Returns:
    - dx: (N, C, H, W).
    """
    Ho, Wo = _check_cols_args("col2im", x_shape, HH, WW, stride, pad)
    N, C = x_shape[0], x_shape[1]
    check_array("col2im", "cols", cols, (N, C * HH * WW, Ho * Wo), dtype_kind="f")
    # BEGIN GRADED a05.col2im
    xp = get_array_module(cols)
    N, C, H, W = x_shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    cols6 = cols.reshape(N, C, HH, WW, Ho, Wo)
    dxpad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for p in range(HH):
        for q in range(WW):
            rows = slice(p, p + stride * (Ho - 1) + 1, stride)
            columns = slice(q, q + stride * (Wo - 1) + 1, stride)
            dxpad[:, :, rows, columns] += cols6[:, :, p, q]  # += : offsets reach the same pixel
    return dxpad[:, :, pad : pad + H, pad : pad + W]  # (N, C, H, W): the padding is not an input
    # END GRADED


def conv_im2col_forward(x: Any, w: Any, b: Any, stride: int = 1, pad: int = 0) -> tuple[Any, tuple]:
    """Convolution forward pass as matrix multiplies: out[n] = w.reshape(F, -1) @ im2col(x)[n] + b.

    Inputs and output as in ``conv_naive_forward``: x (N, C, H, W), w (F, C, HH, WW), b (F,) ->
    out (N, F, H', W'). The columns are kept for the backward pass (HH WW times the input's memory).

    Returns:
    - out: (N, F, H', W').
    - cache: (x_shape, w, cols, stride, pad), cols (N, C HH WW, H' W').
    """
    _check_conv_args("conv_im2col_forward", x, w, b, stride, pad)
    # BEGIN GRADED a05.conv_im2col_forward
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    cols = im2col(x, HH, WW, stride, pad)  # (N, K, P), K = C HH WW, P = H' W'
    out = w.reshape(F, -1) @ cols + b[:, None]  # (F, K) @ (N, K, P) -> (N, F, P): one product per image
    cache = (x.shape, w, cols, stride, pad)
    return out.reshape(N, F, Ho, Wo), cache
    # END GRADED


def conv_im2col_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Convolution backward pass through the matrix multiply, then ``col2im``.

    With out[n] = W cols[n] + b (W = w.reshape(F, K)), the affine backward pass once per image:
        dW = sum_n dout[n] cols[n]^T,   dcols[n] = W^T dout[n],   db = sum over n, i, j of dout.

    Inputs:
    - dout: (N, F, H', W') upstream gradient.
    - cache: from ``conv_im2col_forward``.

    Returns:
    - dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F,).
    """
    x_shape, w, _, stride, pad = cache
    _check_dout("conv_im2col_backward", dout, x_shape, w.shape, stride, pad)
    # BEGIN GRADED a05.conv_im2col_backward
    x_shape, w, cols, stride, pad = cache
    N, F = dout.shape[0], dout.shape[1]
    HH, WW = w.shape[2], w.shape[3]
    d = dout.reshape(N, F, -1)  # (N, F, P)
    db = d.sum(axis=(0, 2))  # (F,)
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)  # sum over n of (F, P) @ (P, K)
    dcols = w.reshape(F, -1).T @ d  # (K, F) @ (N, F, P) -> (N, K, P)
    dx = col2im(dcols, x_shape, HH, WW, stride, pad)  # (N, C, H, W)
    return dx, dw, db
    # END GRADED


# ---------------------------------------------------------------------------------------------------
# The convolution as one matrix.
# ---------------------------------------------------------------------------------------------------


def conv_as_matrix(w: Any, input_shape: tuple[int, int, int], stride: int = 1, pad: int = 0) -> Any:
    """The dense matrix M of the (bias-free) convolution of one image: M @ x.ravel() = conv(x).ravel().

    Row (f, i, j) of M holds filter f laid out where window (i, j) sits on the input: entry
    (f, i, j; c, i * stride + p - pad, j * stride + q - pad) = w[f, c, p, q], zero elsewhere, and window
    entries that fall in the zero padding are simply left out.

    Structure (lecture 004's "MLP with circulant weights"): M is an F x C grid of blocks, block (f, c) of
    shape (H' W', H W) holding filter f's channel c. With stride 1 each block is block-Toeplitz with
    Toeplitz blocks: an H' x H grid of (W', W) sub-blocks, sub-block (i, h) depending only on h - i (it
    holds filter row p = h - i + pad, zero if there is none) and each sub-block Toeplitz, its entry (j, v)
    depending only on v - j. The block itself is not Toeplitz: its diagonals break where a window row
    reaches the image's edge. With stride s, M keeps only the rows of the stride-1 matrix whose output
    position (i, j) has both coordinates multiples of s. With wrap-around padding instead of zeros the
    blocks would be block-circulant with circulant blocks.
    M has F H' W' x C H W entries of which only about F H' W' C HH WW are non-zero: the reason nobody
    computes a convolution this way, and why it is still a linear layer.

    Inputs:
    - w: (F, C, HH, WW) filters.
    - input_shape: (C, H, W), the shape of one image.

    Returns:
    - M: (F * H' * W', C * H * W), in w's dtype.
    """
    check_array("conv_as_matrix", "w", w, ndim=4, dtype_kind="f")
    _check_hyper("conv_as_matrix", stride, pad)
    if len(input_shape) != 3 or input_shape[0] != w.shape[1]:
        raise ValueError(
            f"conv_as_matrix: input_shape must be (C, H, W) with C = {w.shape[1]} (from w), "
            f"got {tuple(input_shape)}"
        )
    conv_output_size("conv_as_matrix", input_shape[1], input_shape[2], w.shape[2], w.shape[3], stride, pad)
    # BEGIN GRADED a05.conv_as_matrix
    xp = get_array_module(w)
    C, H, W = input_shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    M = xp.zeros((F, Ho, Wo, C, H, W), dtype=w.dtype)
    for i in range(Ho):
        for j in range(Wo):
            for p in range(HH):
                for q in range(WW):
                    h, v = i * stride + p - pad, j * stride + q - pad
                    if 0 <= h < H and 0 <= v < W:  # outside the image: padding, which multiplies a zero
                        M[:, i, j, :, h, v] = w[:, :, p, q]  # (F, C)
    return M.reshape(F * Ho * Wo, C * H * W)
    # END GRADED


# ---------------------------------------------------------------------------------------------------
# Fast paths (not exercises): the im2col convolution tuned for the CPU.
# ---------------------------------------------------------------------------------------------------

# The fast pair goes through the batch a few images at a time, so that one chunk's columns (C HH WW
# numbers per output pixel, about HH WW times the image) stay in the CPU cache between being written by
# im2col and read by the matrix multiply, instead of making a round trip through main memory. Chunks of
# about 2 MiB of columns measured fastest here (512 KiB L2, 32 MiB L3; see docs/benchmarks.md).
CHUNK_BYTES = 2 << 20


def im2col_fast(x: Any, HH: int, WW: int, stride: int = 1, pad: int = 0, *, out: Any = None) -> Any:
    """``im2col`` as one strided copy (instead of a copy per kernel offset), optionally into a given buffer.

    Every window of a zero-padded copy of x is a strided view of it (``as_strided``: window (i, j)
    starts at (i stride, j stride), entry (c, p, q) is p rows and q columns further), so the whole
    (N, C, HH, WW, H', W') array of columns is written by one copy: few NumPy calls, which is what
    small images need (each call costs microseconds).

    Shortcut: with stride 1 and W' = W (a "same" convolution, e.g. 3x3 with pad 1), output rows and
    image rows have the same length, so offset (p, q) of every window is the flattened image shifted by
    p W + q: the copy then runs over H' W' contiguous entries at a time instead of W'-long rows, several
    times faster in NumPy. The entries it wraps in from the neighbouring row land exactly in the columns
    that read padding, which are zeroed afterwards.

    Inputs as ``im2col``, and:
    - out: optional C-contiguous (N, C * HH * WW, H' * W') array to fill instead of a new one (e.g. a
      slice of a larger buffer).

    Returns:
    - cols: (N, C * HH * WW, H' * W') (``out`` itself when given), equal to ``im2col(x, ...)``.
    """
    check_array("im2col_fast", "x", x, ndim=4)
    N, C, H, W = x.shape
    Ho, Wo = _check_cols_args("im2col_fast", x.shape, HH, WW, stride, pad)
    if out is not None:
        check_array("im2col_fast", "out", out, (N, C * HH * WW, Ho * Wo))
        if not out.flags.c_contiguous:
            raise ValueError("im2col_fast: out must be C-contiguous, so that filling its 6-d view fills out")
    xp = get_array_module(x)
    if out is None:
        out = xp.empty((N, C * HH * WW, Ho * Wo), dtype=x.dtype)
    _im2col_fast_into(x, HH, WW, stride, pad, out)
    return out


def _im2col_fast_into(x: Any, HH: int, WW: int, stride: int, pad: int, out: Any) -> None:
    """The work of ``im2col_fast``, without its argument checks: the fast convolution pair calls it once
    per chunk on arguments it has checked itself (on small images a check costs as much as a copy).
    ``out`` may be the first K rows of a larger (N, K + 1, P) buffer: its reshapes below stay views as
    long as each image's rows are evenly spaced and each row is contiguous."""
    # BEGIN FAST a05.im2col
    xp = get_array_module(x)
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    cols = out.reshape(N, C, HH, WW, Ho, Wo)  # a view: one (N, C, H', W') plane per kernel offset
    if stride == 1 and Wo == W:
        # Image rows and output rows have the same length W, so entry (p, q) of window m = i W + j is
        # flat pixel m + p W + q - pad (W + 1): with pad (W + 1) zeros before and after each flat plane,
        # all HH WW offsets are one strided view whose last axis runs contiguously over H' W' entries.
        lead = pad * (W + 1)
        flat = xp.zeros((N, C, H * W + 2 * lead), dtype=x.dtype)
        flat[:, :, lead : lead + H * W] = x.reshape(N, C, H * W)
        s = flat.strides
        strides = s[:2] + (W * s[2], s[2], s[2])
        windows = xp.lib.stride_tricks.as_strided(flat, (N, C, HH, WW, Ho * Wo), strides)  # no copy
        cols.reshape(N, C, HH, WW, Ho * Wo)[...] = windows  # (N, C, HH, WW, H' W'): one copy
        # Rows above and below the image read the zeros; columns left or right of it wrapped around into
        # the neighbouring row instead, and read padding: window columns j with j + q - pad outside [0, W).
        for q in range(WW):
            if pad - q > 0:
                cols[:, :, :, q, :, : pad - q] = 0
            if W + pad - q < Wo:
                cols[:, :, :, q, :, max(0, W + pad - q) :] = 0
    else:
        xpad = x
        if pad > 0:
            xpad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
            xpad[:, :, pad : pad + H, pad : pad + W] = x
        s = xpad.strides
        strides = s + (stride * s[2], stride * s[3])
        cols[...] = xp.lib.stride_tricks.as_strided(xpad, (N, C, HH, WW, Ho, Wo), strides)  # one copy
    # END FAST


def col2im_fast(
    cols: Any,
    x_shape: tuple[int, int, int, int],
    HH: int,
    WW: int,
    stride: int = 1,
    pad: int = 0,
    *,
    out: Any = None,
) -> Any:
    """``col2im`` in the layout of ``im2col_fast``, optionally into a given buffer.

    The teaching loop over kernel offsets with a slice-add into a zero padded gradient. Shortcut (stride 1,
    W' = W), as in ``im2col_fast``: one flat shifted add per offset over H' W' contiguous entries. The
    entries that wrap around from the neighbouring row land in image columns that offsets of this column
    shift q never reach legitimately, so those columns are saved before the HH adds of that q and put
    back after.

    Inputs as ``col2im``, and:
    - out: optional C-contiguous (N, C, H, W) array to write dx into (overwritten), e.g. a slice of a
      larger gradient.

    Returns:
    - dx: (N, C, H, W) (``out`` itself when given), equal to ``col2im(cols, ...)`` up to the order of
      the additions.
    """
    Ho, Wo = _check_cols_args("col2im_fast", x_shape, HH, WW, stride, pad)
    N, C, H, W = x_shape
    check_array("col2im_fast", "cols", cols, (N, C * HH * WW, Ho * Wo), dtype_kind="f")
    if out is not None:
        check_array("col2im_fast", "out", out, (N, C, H, W))
        if not out.flags.c_contiguous:
            raise ValueError("col2im_fast: out must be C-contiguous, so that its flat view is out")
    xp = get_array_module(cols)
    dx = xp.empty((N, C, H, W), dtype=cols.dtype) if out is None else out
    _col2im_fast_into(cols, HH, WW, stride, pad, dx)
    return dx


def _col2im_fast_into(cols: Any, HH: int, WW: int, stride: int, pad: int, dx: Any) -> None:
    """The work of ``col2im_fast``, without its argument checks (as ``_im2col_fast_into``); dx is
    overwritten."""
    # BEGIN FAST a05.col2im
    xp = get_array_module(cols)
    N, C, H, W = dx.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    if stride == 1 and Wo == W:
        # The flat layout of im2col_fast: offset (p, q) of every window is one contiguous run of the
        # padded flat plane, shifted by p W + q.
        cols5 = cols.reshape(N, C, HH, WW, Ho * Wo)
        lead = pad * (W + 1)
        flat = xp.zeros((N, C, H * W + 2 * lead), dtype=cols.dtype)
        image = flat[:, :, lead : lead + H * W].reshape(N, C, H, W)  # a view
        for q in range(WW):
            # Entries that wrapped around (window columns j with j + q - pad outside [0, W)) land in image
            # columns this q never reaches legitimately: keep those columns as they are across its adds.
            outside = [
                c for c in (slice(0, min(W, q - pad)), slice(max(0, W + q - pad), W)) if c.start < c.stop
            ]
            kept = [image[:, :, :, c].copy() for c in outside]
            for p in range(HH):
                flat[:, :, p * W + q : p * W + q + Ho * Wo] += cols5[:, :, p, q]  # += : offsets overlap
            for c, values in zip(outside, kept, strict=True):
                image[:, :, :, c] = values
    else:
        cols6 = cols.reshape(N, C, HH, WW, Ho, Wo)
        xpad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
        for p in range(HH):
            for q in range(WW):
                rows = slice(p, p + stride * (Ho - 1) + 1, stride)
                columns = slice(q, q + stride * (Wo - 1) + 1, stride)
                xpad[:, :, rows, columns] += cols6[:, :, p, q]
        image = xpad[:, :, pad : pad + H, pad : pad + W]
    dx[...] = image
    # END FAST


def _chunk_size(N: int, K: int, P: int, itemsize: int, xp: Any) -> int:
    """Images per chunk so that one chunk's (K, P) columns take about CHUNK_BYTES (whole batch on a GPU,
    which has no such cache to fit and prefers few large kernels)."""
    if xp is not np:
        return N
    return max(1, min(N, CHUNK_BYTES // max(1, K * P * itemsize)))


def conv_im2col_fast_forward(x: Any, w: Any, b: Any, stride: int = 1, pad: int = 0) -> tuple[Any, tuple]:
    """``conv_im2col_forward`` chunk by chunk (see CHUNK_BYTES), with ``im2col_fast``.

    Each chunk's columns are written into one buffer for the whole batch and then read by the GEMM while
    they are still in cache; the GEMM writes into the output. The bias rides in the GEMM: the buffer has
    one more row per image, all ones, and the weights one more column, b, so W cols + b is one product
    (no pass over the output to add it). The buffer is kept for the backward pass (its first K rows per
    image are the cached columns), which measured faster than rebuilding the columns there.

    Inputs, outputs and cache as ``conv_im2col_forward``, so either backward pass can take either cache.
    """
    Ho, Wo = _check_conv_args("conv_im2col_fast_forward", x, w, b, stride, pad)
    # BEGIN FAST a05.conv_im2col_forward
    xp = get_array_module(x, w, b)
    N, F = x.shape[0], w.shape[0]
    HH, WW = w.shape[2], w.shape[3]
    K, P = w[0].size, Ho * Wo  # K = C HH WW in the (c, p, q) order of im2col's rows
    out = xp.empty((N, F, P), dtype=xp.result_type(x, w))
    w_b = xp.concatenate([w.reshape(F, K), b[:, None]], axis=1, dtype=out.dtype)  # (F, K + 1)
    cols_1 = xp.empty((N, K + 1, P), dtype=x.dtype)  # (N, K + 1, P): the columns and a row of ones
    cols_1[:, K] = 1
    chunk = _chunk_size(N, K, P, x.itemsize, xp)
    for n0 in range(0, N, chunk):
        c = slice(n0, n0 + chunk)
        _im2col_fast_into(x[c], HH, WW, stride, pad, cols_1[c, :K])  # (n, K, P), rows of cols_1
        # (F, K + 1) @ (n, K + 1, P) broadcasts to one GEMM per image, already in (n, F, P) order.
        xp.matmul(w_b, cols_1[c], out=out[c])
    cache = (x.shape, w, cols_1[:, :K], stride, pad)  # cols (N, K, P), a view
    return out.reshape(N, F, Ho, Wo), cache
    # END FAST


def conv_im2col_fast_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """``conv_im2col_backward`` chunk by chunk, as in the fast forward pass: dw (computed transposed) and
    db accumulate over chunks while each is in cache, and each chunk's dcols are scattered back into dx
    in place, by ``col2im_fast``'s loop or, for a "same" convolution, by HH WW flat adds over the whole
    chunk (see the comment below).

    Inputs and outputs as ``conv_im2col_backward``.
    """
    x_shape, w, cols, stride, pad = cache
    _check_dout("conv_im2col_fast_backward", dout, x_shape, w.shape, stride, pad)
    # BEGIN FAST a05.conv_im2col_backward
    xp = get_array_module(dout, w, cols)
    N, F = dout.shape[0], dout.shape[1]
    C, H, W = x_shape[1], x_shape[2], x_shape[3]
    HH, WW = w.shape[2], w.shape[3]
    w_rows = w.reshape(F, -1)  # (F, K)
    d_flat = dout.reshape(N, F, -1)  # (N, F, P)
    db = xp.zeros(F, dtype=dout.dtype)
    dw_t = xp.zeros(w_rows.shape[::-1], dtype=xp.result_type(dout, cols))  # (K, F): dw transposed
    dx = xp.empty(x_shape, dtype=xp.result_type(dout, w))
    # A "same" convolution (stride 1, HH = WW = 2 pad + 1, so H' W' = H W) gets dcols laid out
    # (p, q, c, n, i, j): the GEMMs write each image's rows in (p, q, c) order into that layout, so
    # offset (p, q) of the whole chunk is one contiguous run and col2im is HH WW flat adds in all (NumPy
    # adds one long run several times faster than the many H' W'-long rows of the (n, c, p, q) order).
    # Other shapes use col2im_fast's (n, c, p, q) layout.
    same = stride == 1 and HH == WW == 2 * pad + 1
    w_cols = w.transpose(2, 3, 1, 0).reshape(-1, F) if same else w_rows.T  # (K, F)
    K, P = w_cols.shape[0], d_flat.shape[2]
    lead = pad * (W + 1)  # zeros before the image: the most an offset reaches before its first pixel
    chunk = _chunk_size(N, K, P, cols.itemsize, xp)
    scratch = xp.empty(chunk * K * P, dtype=dx.dtype)  # dcols of every chunk
    # Last chunk first: its columns, the last the forward pass wrote, are the likeliest still in cache.
    for n0 in reversed(range(0, N, chunk)):
        c = slice(n0, n0 + chunk)
        d = d_flat[c]  # (n, F, P)
        n = d.shape[0]
        db += d.sum(axis=0).sum(axis=1)  # (F,), summed while the chunk is in cache
        # dw^T = sum over images of (K, P) @ (P, F): one GEMM per image, then a sum of n small matrices.
        # This order reads the columns as they lie (d^T is a transposed view); d @ cols^T, the same sums
        # as (F, K) matrices, measured 1.4x slower in OpenBLAS's SkylakeX kernel on (32, 144, 784).
        dw_t += (cols[c] @ d.transpose(0, 2, 1)).sum(axis=0)
        if not same:
            dc = xp.matmul(w_cols, d, out=scratch[: n * K * P].reshape(n, K, P))  # (n, K, P)
            _col2im_fast_into(dc, HH, WW, stride, pad, dx[c])  # (n, C, H, W)
            continue
        dc = scratch[: n * K * P].reshape(K, n, P)
        xp.matmul(w_cols, d, out=dc.transpose(1, 0, 2))  # image by image, into the (K, n, P) layout
        # Entries whose window row was padding would wrap into the neighbouring plane of the flat chunk:
        # zero them first (dcols is this function's own scratch). Offset p = k reads padding in its first
        # pad - k rows, offset HH - 1 - k in its last ones.
        d6 = dc.reshape(HH, WW, C, n, H, W)
        for k in range(pad):
            d6[k, :, :, :, : pad - k] = 0
            d6[HH - 1 - k, :, :, :, max(0, H - pad + k) :] = 0
        size = C * n * H * W
        flat = xp.zeros(size + 2 * lead, dtype=dx.dtype)  # the chunk's (c, n, h, w) planes, padded
        image_rows = flat[lead : lead + size].reshape(-1, W)  # a view: every image row of the chunk
        runs = dc.reshape(HH, WW, size)
        for q in range(WW):
            # Entries whose window column was padding wrap into the neighbouring row, as in col2im_fast:
            # for q < pad into its last pad - q columns, which no entry of this or an earlier q reaches
            # legitimately (zeroed after the adds); for q > pad into its first q - pad (kept across them).
            kept = image_rows[:, : q - pad].copy() if q > pad else None
            for p in range(HH):
                flat[p * W + q : p * W + q + size] += runs[p, q]  # += : offsets overlap
            if q < pad:
                image_rows[:, max(0, W - pad + q) :] = 0
            if kept is not None:
                image_rows[:, : q - pad] = kept
        dx[c] = flat[lead : lead + size].reshape(C, n, H, W).transpose(1, 0, 2, 3)  # (n, C, H, W)
    return dx, xp.ascontiguousarray(dw_t.T).reshape(w.shape), db
    # END FAST


# ---------------------------------------------------------------------------------------------------
# Module.
# ---------------------------------------------------------------------------------------------------


class Conv2d(Module):
    """A convolution layer holding ``w`` (F, C, k, k) and ``b`` (F,), computed with the fast im2col pair.

    Weights start He-normal (``course.training.init.he_normal``), std sqrt(2 / (C k k)), the fan-in of one
    output unit; the bias at zero. ``rng`` is a ``numpy.random.Generator`` or an int seed (None means
    seed 0).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        pad: int = 0,
        *,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        _check_hyper("Conv2d", stride, pad)
        check_positive("Conv2d", "kernel_size", kernel_size)
        self.stride, self.pad = stride, pad
        rng = np.random.default_rng(0 if rng is None else rng)  # a Generator passes through unchanged
        self.add_param("w", he_normal((out_channels, in_channels, kernel_size, kernel_size), rng, dtype))
        self.add_param("b", np.zeros(out_channels, dtype=dtype))

    def forward(self, x: Any) -> Any:
        w, b = self.params["w"], self.params["b"]
        out, self.cache = conv_im2col_fast_forward(x, w, b, self.stride, self.pad)
        return out

    def backward(self, dout: Any) -> Any:
        dx, dw, db = conv_im2col_fast_backward(dout, self.cache)
        self.accumulate("w", dw)
        self.accumulate("b", db)
        return dx
