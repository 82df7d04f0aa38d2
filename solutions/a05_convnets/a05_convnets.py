# %% [markdown]
# # Assignment 05: convolutional nets
#
# A convolution layer is an affine layer with two constraints: each output unit looks only at a small
# **receptive field** of the image (local connectivity), and every position uses the same filter (weight
# sharing). Those constraints cut the parameters by orders of magnitude and build in the fact that a
# pattern means the same thing wherever it appears in the image.
#
# You will implement, in this notebook:
#
# 1. the convolution forward and backward pass with loops, with stride and zero padding (the definition);
# 2. `im2col` and its adjoint `col2im`, and the convolution as one matrix multiply per image (the
#    "convolution optimisation" every library uses on CPUs), forward and backward;
# 3. the convolution written as one dense, structured matrix (lecture 004: "can an MLP reproduce a
#    ConvNet?"), and check that it gives the same output;
# 4. max pooling, forward and backward;
# 5. a small CNN (conv-relu-pool twice, then an affine layer) trained on the 8x8 digits from your own
#    pieces;
# 6. the residual block of ResNets, forward and backward.
#
# Along the way you will time the loops against `im2col`, look at the learned filters and the feature maps
# of one digit, and compare the CNN with an MLP, also on digits shifted by a pixel.
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
# a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
# the reference on fresh random inputs (random shapes, strides and paddings, gradient checks included)
# when the course grader runs it. Both carry points. Do not edit, copy or delete test cells: the grader
# restores them. Use NumPy and the library of earlier assignments (`course.layers.activations`,
# `course.layers.affine`, `course.training.init`, `course.training.optim`, `course.training.train`); in the
# grader the library functions you are asked to write here (`course.layers.convolution`,
# `course.layers.pooling`, `course.layers.residual`, `course.models.digits_cnn`) raise
# `NotImplementedError`.
#
# Shapes use the course's letters: N batch, C input channels, H and W image height and width, F filters,
# HH and WW filter height and width, H' and W' output height and width.

# %%
import functools
import time

import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import get_array_module  # noqa: F401 (the library's solutions use it)
from course.core.gradcheck import check_pair
from course.core.module import Module, Sequential
from course.data import load_digits
from course.layers.activations import ReLU
from course.layers.activations import relu_backward, relu_forward  # noqa: F401 (for the residual block)
from course.layers.affine import Linear
from course.layers.losses import softmax_cross_entropy
from course.training.init import he_normal
from course.training.optim import Optimizer, adam
from course.training.train import accuracy, train


# %% [markdown]
# ## 1. The convolution, with loops
#
# The input is a batch of images `x` of shape `(N, C, H, W)`; the layer holds `F` filters `w` of shape
# `(F, C, HH, WW)` (each spans **all** `C` input channels) and one bias per filter, `b` of shape `(F,)`.
# First pad `x` with `pad` zeros on each side of its height and width, giving `xpad` of shape
# `(N, C, H + 2 pad, W + 2 pad)` (`np.pad` does it). Output position $(i, j)$ of filter $f$ is the dot
# product of $w_f$ with the window of `xpad` that starts at row $i s$ and column $j s$, $s$ = `stride`:
#
# $$\text{out}[n, f, i, j] = b_f + \sum_{c=0}^{C-1} \sum_{p=0}^{HH-1} \sum_{q=0}^{WW-1} w[f, c, p, q]\;
# \text{xpad}[n, c, i s + p, j s + q],$$
#
# $$H' = 1 + \left\lfloor \frac{H + 2\,\text{pad} - HH}{s} \right\rfloor, \qquad
# W' = 1 + \left\lfloor \frac{W + 2\,\text{pad} - WW}{s} \right\rfloor .$$
#
# The floor means that when the windows do not tile the padded image exactly, the last rows or columns
# that no window reaches are ignored (as in PyTorch). The filter is not flipped: deep-learning libraries
# compute this *cross-correlation* and call it convolution.
#
# **Exercise 1a.** `conv_naive_forward(x, w, b, stride=1, pad=0)` returns `(out, cache)` with `out` of
# shape `(N, F, H', W')`. Loop over `n`, `f`, `i`, `j`; take each window as one slice
# `xpad[n, :, rows, cols]` of shape `(C, HH, WW)` and multiply it element-wise with `w[f]`.

# %% nbgrader={"grade": false, "grade_id": "conv_naive_forward", "locked": false, "schema_version": 3, "solution": true}
def conv_naive_forward(x, w, b, stride=1, pad=0):
    """Convolution with loops. x: (N, C, H, W), w: (F, C, HH, WW), b: (F,).

    Returns (out (N, F, H', W'), cache)."""
    ### BEGIN SOLUTION a05.conv_naive_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv_naive_forward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
rng = np.random.default_rng(5)  # small integers, so that every expected value below is exact
x = rng.integers(-2, 3, size=(2, 2, 5, 5)).astype(float)  # (N, C, H, W)
w = rng.integers(-1, 2, size=(3, 2, 3, 3)).astype(float)  # (F, C, HH, WW)
b = np.array([1.0, -1.0, 0.5])
x_before = x.copy()
result = conv_naive_forward(x, w, b, stride=1, pad=0)
assert isinstance(result, tuple) and len(result) == 2, "conv_naive_forward must return a pair (out, cache)."
out, _ = result
grading.expect_shape("out for x (2, 2, 5, 5), w (3, 2, 3, 3), stride 1, pad 0", out, (2, 3, 3, 3),
                     hint="(N, F, H', W') with H' = 1 + (H + 2 pad - HH) // stride = 1 + (5 - 3) // 1 = 3.")
grading.expect_close("x after conv_naive_forward", x, x_before, rtol=0, atol=0,
                     hint="do not modify x in place; np.pad returns a new array.")
# Isolation case: zero filters leave only the bias, b[f] at every position of output channel f.
out_b, _ = conv_naive_forward(x, np.zeros_like(w), b)
grading.expect_close("out with w = 0 (bias term alone)", out_b,
                     np.broadcast_to(b[:, None, None], (2, 3, 3, 3)),
                     hint="filter f adds its own bias b[f] once per output position "
                     "(not once per channel or per filter entry).")
# Isolation case: a filter that is 1 at (c=0, p=0, q=0) copies the top-left pixel of every window.
w_delta = np.zeros((3, 2, 3, 3))
w_delta[0, 0, 0, 0] = 1.0
out_d, _ = conv_naive_forward(x, w_delta, np.zeros(3))
grading.expect_close("out[:, 0] for a filter that is 1 at (c=0, p=0, q=0) and 0 elsewhere", out_d[:, 0],
                     x[:, 0, :3, :3],
                     hint="window (i, j) starts at row i * stride and column j * stride of xpad; "
                     "do not flip the filter.")
grading.expect_close("out (stride 1, pad 0)", out,
                     np.array([-4, -1, -3, -11, -4, -9, -3, 1, -6, -4, -5, 3, 2, 2, -4, -9, -4, -6, 8.5, -6.5,
                               6.5, 1.5, -4.5, 10.5, 2.5, 0.5, -2.5, 1, 8, 9, 0, 6, 9, -2, -3, 12, 2, -4, 5,
                               3, -5, -8, 2, -5, -8, 0.5, -12.5, -4.5, -5.5, 8.5, 2.5, -1.5, 2.5,
                               -0.5]).reshape(2, 3, 3, 3),
                     hint="sum over the channels c and the filter positions p, q of "
                     "w[f, c, p, q] * xpad[n, c, i*stride + p, j*stride + q], plus b[f].")
out_s2, _ = conv_naive_forward(x, w, b, stride=2, pad=1)
grading.expect_shape("out with stride 2, pad 1", out_s2, (2, 3, 3, 3),
                     hint="H' = 1 + (5 + 2 * 1 - 3) // 2 = 3.")
grading.expect_close("out with stride 2, pad 1", out_s2,
                     np.array([2, 3, 5, -2, -4, 5, -3, -2, -2, -1, 2, 10, 3, 2, -13, -5, -2, 4, 4.5, 2.5,
                               -3.5, -1.5, -4.5, -1.5, 2.5, 0.5, 8.5, 3, 10, -4, -2, 6, 0, 1, 0, 5, -6, -2, 2,
                               0, -5, 4, -2, -3, 1, 8.5, 0.5, 3.5, 0.5, 8.5, 3.5, 0.5, 2.5,
                               -3.5]).reshape(2, 3, 3, 3),
                     hint="pad x with zeros on all four sides of H and W (np.pad), then step the windows by "
                     "stride.")
out_f, _ = conv_naive_forward(x, w[:, :, :2, :2].copy(), b, stride=2, pad=0)
grading.expect_shape("out for 2x2 filters, stride 2, pad 0 on a 5x5 image", out_f, (2, 3, 2, 2),
                     hint="H' = 1 + (5 - 2) // 2 = 2: the floor drops the last row and column, which no "
                     "window reaches.")
grading.expect_close("out for 2x2 filters, stride 2, pad 0", out_f,
                     np.array([0, 0, -4, -4, 1, 3, -5, -6, 0.5, 7.5, 1.5, 1.5, 1, 6, 3, 7, 5, 4, -1, -3, 2.5,
                               2.5, 3.5, -1.5]).reshape(2, 3, 2, 2),
                     hint="the window size comes from w.shape[2:], not a fixed 3x3.")

# %% nbgrader={"grade": true, "grade_id": "conv_naive_forward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.conv_naive_forward", conv_naive_forward)
### END HIDDEN TESTS

# %% [markdown]
# Backward. Output position $(n, f, i, j)$ read one window of `xpad` through $w_f$, so with
# $g = \text{dout}[n, f, i, j]$ it sends
#
# - $g \cdot \text{window}$ to $dw_f$ (summed over all $n, i, j$),
# - $g \cdot w_f$ back to that window of $d\text{xpad}$ (summed over all $f, i, j$),
# - $g$ to $db_f$: $\;db_f = \sum_{n, i, j} \text{dout}[n, f, i, j]$.
#
# Windows overlap when the stride is smaller than the filter, so a pixel of $d\text{xpad}$ collects
# gradients from several windows: **accumulate** with `+=`. Finally drop the padding border,
# `dx = dxpad[:, :, pad:pad + H, pad:pad + W]` (the padding is not an input).
#
# **Exercise 1b.** `conv_naive_backward(dout, cache)` returns `(dx, dw, db)`, shaped like `x`, `w` and `b`.

# %% nbgrader={"grade": false, "grade_id": "conv_naive_backward", "locked": false, "schema_version": 3, "solution": true}
def conv_naive_backward(dout, cache):
    """dout: (N, F, H', W'). Returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,)."""
    ### BEGIN SOLUTION a05.conv_naive_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv_naive_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
rng = np.random.default_rng(5)  # the inputs of exercise 1a, and an upstream gradient
x = rng.integers(-2, 3, size=(2, 2, 5, 5)).astype(float)  # (N, C, H, W)
w = rng.integers(-1, 2, size=(3, 2, 3, 3)).astype(float)  # (F, C, HH, WW)
b = np.array([1.0, -1.0, 0.5])
dout = rng.integers(-2, 3, size=(2, 3, 3, 3)).astype(float)  # (N, F, H', W') for stride 2, pad 1
_, cache = conv_naive_forward(x, w, b, stride=2, pad=1)
# Isolation case: dout is 1 at output (n=0, f=1, i=1, j=1) and 0 elsewhere. That output read the window
# xpad[0, :, 2:5, 2:5] = x[0, :, 1:4, 1:4] (stride 2, pad 1) through w[1].
dout_one = np.zeros((2, 3, 3, 3))
dout_one[0, 1, 1, 1] = 1.0
grads = conv_naive_backward(dout_one, cache)
assert isinstance(grads, tuple) and len(grads) == 3, "conv_naive_backward must return (dx, dw, db)."
dx1, dw1, db1 = grads
grading.expect_shape("dx", dx1, (2, 2, 5, 5), hint="dx has the shape of x: drop the padding border of dxpad.")
grading.expect_shape("dw", dw1, (3, 2, 3, 3), hint="dw has the shape of w.")
grading.expect_shape("db", db1, (3,), hint="db has the shape of b: sum dout over axes (0, 2, 3).")
grading.expect_close("db for dout = 1 at (n=0, f=1, i=1, j=1)", db1, np.array([0.0, 1.0, 0.0]),
                     hint="db[f] sums dout[n, f, i, j] over n, i and j.")
dw1_expected = np.zeros((3, 2, 3, 3))
dw1_expected[1] = x[0, :, 1:4, 1:4]
grading.expect_close("dw for dout = 1 at (n=0, f=1, i=1, j=1)", dw1, dw1_expected,
                     hint="that output read the window xpad[0, :, 2:5, 2:5] (stride 2, pad 1) through w[1]: "
                     "dw[1] is that window, dw[0] and dw[2] are 0.")
dx1_expected = np.zeros((2, 2, 5, 5))
dx1_expected[0, :, 1:4, 1:4] = w[1]
grading.expect_close("dx for dout = 1 at (n=0, f=1, i=1, j=1)", dx1, dx1_expected,
                     hint="w[1] goes back to the window rows 2..4, columns 2..4 of dxpad, i.e. rows and "
                     "columns 1..3 of dx after removing the padding.")
dout_before = dout.copy()
dx, dw, db = conv_naive_backward(dout, cache)
grading.expect_close("dout after conv_naive_backward", dout, dout_before, rtol=0, atol=0,
                     hint="do not modify dout in place.")
grading.expect_close("db", db, np.array([5.0, 6.0, -5.0]), hint="db = dout.sum(axis=(0, 2, 3)).")
grading.expect_close("dw", dw,
                     np.array([1, 10, -3, 8, 2, -2, 3, -5, 8, -2, 5, 7, -14, 3, -10, 7, 0, 3, -8, 5, 3, -3, 3,
                               14, -8, -6, 2, -5, 1, -3, 6, 3, -4, 5, 1, 0, 1, 10, -4, -2, 17, -3, -1, -11, 3,
                               -1, 2, 4, -5, 9, -6, 2, 5, 3]).reshape(3, 2, 3, 3),
                     hint="dw[f] += dout[n, f, i, j] * window, accumulated over n, i, j.")
hint_dx = ("dxpad[n, :, window] += dout[n, f, i, j] * w[f], accumulated (+=) where windows overlap, "
           "then cropped.")
grading.expect_close("dx[0] (image 0)", dx[0],
                     np.array([-1, 4, 1, -1, 0, -2, 8, -2, -2, 0, 0, 0, 2, 1, 2, 4, 0, -4, -2, -4, -1, 2, 0,
                               3, 1, 2, 0, 2, 5, 0, 0, 2, 4, -3, 5, 0, 6, 0, 3, 1, -2, 2, -1, -4, 2, 0, -4, 1,
                               1, 2]).reshape(2, 5, 5), hint=hint_dx)
grading.expect_close("dx[1] (image 1)", dx[1],
                     np.array([2, 0, 2, 2, -2, 2, 2, -2, 0, 0, -2, -2, -2, -2, 0, 1, 3, 6, 5, -1, 2, 0, 1, 1,
                               0, 0, 7, -2, -6, 2, -6, -2, -8, 4, 2, 2, -1, -2, 0, -2, 6, -1, 0, 2, -4, 1, 4,
                               0, -1, -1]).reshape(2, 5, 5), hint=hint_dx)
# Gradient check against central differences (float64, relative error below 1e-7 on every entry), where
# windows overlap (stride 1 < 3). The inputs (seed 22) are chosen so that no gradient entry nearly
# cancels: on an entry that sums to ~1e-4, round-off alone would make a correct backward miss 1e-7 (the
# hidden test, on random inputs, allows 1e-5 for that reason). A wrong term gives errors of 0.1 to 1.
rng = np.random.default_rng(22)
inputs = {"x": rng.standard_normal((2, 2, 4, 4)), "w": rng.standard_normal((3, 2, 3, 3)),
          "b": rng.standard_normal(3)}
check_pair(functools.partial(conv_naive_forward, stride=1, pad=1), conv_naive_backward, inputs, tol=1e-7,
           context="conv_naive_backward, stride 1, pad 1")
print("ok: gradient check (stride 1, pad 1): dx, dw and db within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "conv_naive_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.conv_naive_backward", conv_naive_forward, conv_naive_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The convolution as a matrix multiply: im2col
#
# The loops above run $N F H' W'$ tiny dot products in Python. **im2col** ("image to columns") copies
# every receptive field into a column of a matrix once; then all the dot products of one image are a
# single matrix product, which NumPy hands to an optimised BLAS routine:
#
# $$\text{cols}[n, (c, p, q), (i, j)] = \text{xpad}[n, c, i s + p, j s + q], \qquad
# \text{out}[n] = W_{\text{rows}}\, \text{cols}[n] + b, \quad W_{\text{rows}} = \texttt{w.reshape(F, -1)}.$$
#
# Shapes: `cols` is `(N, K, P)` with $K = C \cdot HH \cdot WW$ (one row per filter entry) and $P = H' W'$
# (one column per output position). Row $(c, p, q)$ is row number $c \cdot HH \cdot WW + p \cdot WW + q$,
# the order in which `w.reshape(F, -1)` lays out a filter; column $(i, j)$ is column $i W' + j$, so that
# the product `(F, K) @ (K, P)` reshapes to `(F, H', W')` directly.
#
# How to fill it without looping over windows: for a **fixed filter offset** $(p, q)$, entry $(p, q)$ of
# every window is one strided slice of `xpad`,
# `xpad[:, :, p : p + s (H' - 1) + 1 : s, q : q + s (W' - 1) + 1 : s]`, of shape `(N, C, H', W')`. So
# allocate `cols` as `(N, C, HH, WW, H', W')`, fill it with $HH \cdot WW$ slice copies, and reshape to
# `(N, K, P)`.
#
# **Exercise 2a.** `im2col(x, HH, WW, stride=1, pad=0)` returns `cols` of shape `(N, C HH WW, H' W')`, in
# `x`'s dtype.

# %% nbgrader={"grade": false, "grade_id": "im2col", "locked": false, "schema_version": 3, "solution": true}
def im2col(x, HH, WW, stride=1, pad=0):
    """Every HH x WW receptive field of x as a column. x: (N, C, H, W).

    Returns cols: (N, C * HH * WW, H' * W')."""
    ### BEGIN SOLUTION a05.im2col
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "im2col_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.arange(9.0).reshape(1, 1, 3, 3)
cols = im2col(x, 2, 2)
grading.expect_shape("im2col(x, 2, 2) for x (1, 1, 3, 3)", cols, (1, 4, 4),
                     hint="(N, C * HH * WW, H' * W') = (1, 1 * 2 * 2, 2 * 2).")
grading.expect_close("column 0 of im2col(x, 2, 2), window (0, 0)", cols[0, :, 0], np.array([0.0, 1.0, 3.0,
                                                                                            4.0]),
                     hint="column i * W' + j holds window (i, j) read row by row: "
                     "x[0, 0, 0:2, 0:2].ravel() = [0, 1, 3, 4].")
grading.expect_close("im2col(x, 2, 2)", cols,
                     np.array([[[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]]),
                     hint="row p * WW + q holds entry (p, q) of every window; column i * W' + j is window "
                     "(i, j).")
x2 = np.random.default_rng(6).integers(-3, 4, size=(2, 2, 4, 5)).astype(float)  # (N, C, H, W)
cols2 = im2col(x2, 3, 2, stride=2, pad=1)
grading.expect_shape("im2col(x, 3, 2, stride=2, pad=1) for x (2, 2, 4, 5)", cols2, (2, 12, 6),
                     hint="K = C * HH * WW = 2 * 3 * 2 = 12 rows; P = H' * W' = 2 * 3 columns with "
                     "H' = 1 + (4 + 2 - 3) // 2.")
hint_cols = ("rows are ordered (c, p, q), channel first, as in w.reshape(F, -1); windows step by stride over "
             "the zero-padded x.")
grading.expect_close("im2col(x, 3, 2, stride=2, pad=1)[0] (image 0)", cols2[0],
                     np.array([0, 0, 0, 0, 1, 0, 0, 0, 0, -1, -1, 3, 0, 0, -1, 0, 1, 1, 0, 0, 3, -2, -1, 2, 0,
                               1, 0, 0, 1, 0, -1, -1, 3, -1, 1, -3, 0, 0, 0, 0, 3, 1, 0, 0, 0, -3, 3, 2, 0,
                               -3, 2, 0, 2, -3, 1, 3, 2, 2, -2, -2, 0, 3, 1, 0, 0, 2, -3, 3, 2, -2, 2,
                               0]).reshape(12, 6),
                     hint=hint_cols)
grading.expect_close("im2col(x, 3, 2, stride=2, pad=1)[1] (image 1)", cols2[1],
                     np.array([0, 0, 0, 0, 1, 2, 0, 0, 0, -2, 0, 2, 0, 1, -3, 0, 0, -3, 0, 2, 2, -2, -3, 0, 0,
                               1, 2, 0, -2, 3, -2, 0, 2, 3, -3, 0, 0, 0, 0, 0, 2, -2, 0, 0, 0, -1, 3, 0, 0, 1,
                               -1, 0, 0, 3, -3, -1, -1, 1, 0, -2, 0, 2, -2, 0, 2, -1, -1, 3, 0, -2, 3,
                               -1]).reshape(12, 6),
                     hint=hint_cols)
cols32 = im2col(x2.astype(np.float32), 3, 2, stride=2, pad=1)
grading.expect_equal("dtype of im2col for a float32 x", str(cols32.dtype), "float32",
                     hint="allocate cols with dtype=x.dtype (training runs in float32).")

# %% nbgrader={"grade": true, "grade_id": "im2col_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.im2col", im2col)
### END HIDDEN TESTS

# %% [markdown]
# **col2im** goes back. In the backward pass we get `dcols`, the gradient of every column entry; each
# entry was a copy of one pixel of `xpad`, so it must be **added** back to that pixel. A pixel that sat in
# several windows receives the sum of their gradients, and entries copied from the padding are dropped
# (the padding is not an input). Formally `col2im` is the adjoint (transpose) of `im2col`:
# $\langle \text{im2col}(x), \text{cols} \rangle = \langle x, \text{col2im}(\text{cols}) \rangle$ for all
# $x$, cols.
#
# The same loop over filter offsets $(p, q)$ works, with `+=` into a zero `dxpad` instead of a copy
# (within one offset the target pixels are distinct, so the strided `+=` is exact); crop the padding at the
# end.
#
# **Exercise 2b.** `col2im(cols, x_shape, HH, WW, stride=1, pad=0)` returns `dx` of shape
# `x_shape = (N, C, H, W)`.

# %% nbgrader={"grade": false, "grade_id": "col2im", "locked": false, "schema_version": 3, "solution": true}
def col2im(cols, x_shape, HH, WW, stride=1, pad=0):
    """The adjoint of im2col. cols: (N, C * HH * WW, H' * W'), x_shape = (N, C, H, W).

    Returns dx: (N, C, H, W)."""
    ### BEGIN SOLUTION a05.col2im
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "col2im_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ones = np.ones((1, 9, 4))
counts = col2im(ones, (1, 1, 4, 4), 3, 3)
grading.expect_shape("col2im(ones, (1, 1, 4, 4), 3, 3)", counts, (1, 1, 4, 4),
                     hint="dx has the shape x_shape.")
grading.expect_close("col2im of all ones (how many 3x3 windows cover each pixel of a 4x4 image)", counts,
                     np.array([[[[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]]]),
                     hint="each pixel receives one entry per window that contains it: add with +=, do not "
                     "assign.")
grading.expect_close("cols after col2im", ones, np.ones((1, 9, 4)), rtol=0, atol=0,
                     hint="do not modify cols in place.")
counts_pad = col2im(np.ones((1, 9, 16)), (1, 1, 4, 4), 3, 3, stride=1, pad=1)
grading.expect_shape("col2im with pad 1", counts_pad, (1, 1, 4, 4),
                     hint="return (N, C, H, W): crop the padding border of dxpad.")
grading.expect_close("col2im of all ones with pad 1 (windows covering each pixel)", counts_pad,
                     np.array([[[[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]]]),
                     hint="with pad 1 every 3x3 window centred on a pixel exists: entries that fell in the "
                     "padding are dropped.")
cols = np.random.default_rng(7).integers(-2, 3, size=(2, 12, 6)).astype(float)  # (N, C HH WW, H' W')
dx = col2im(cols, (2, 2, 4, 5), 3, 2, stride=2, pad=1)
grading.expect_shape("col2im(cols, (2, 2, 4, 5), 3, 2, stride=2, pad=1)", dx, (2, 2, 4, 5),
                     hint="dx has the shape x_shape.")
hint_dx = ("undo im2col's layout: cols.reshape(N, C, HH, WW, H', W'), then add entry (p, q) of every window "
           "to the strided slice of dxpad it came from.")
grading.expect_close("col2im(cols, (2, 2, 4, 5), 3, 2, stride=2, pad=1)[0] (image 0)", dx[0],
                     np.array([-2, -2, 0, 0, 2, -1, -1, -1, 3, 2, -1, -2, -1, 1, -1, 2, 0, 2, 0, 1, 2, -2, 2,
                               -2, 2, -1, 0, -4, -2, 0, 1, 2, 0, 0, 0, 1, 2, 2, -2, -1]).reshape(2, 4, 5),
                     hint=hint_dx)
grading.expect_close("col2im(cols, (2, 2, 4, 5), 3, 2, stride=2, pad=1)[1] (image 1)", dx[1],
                     np.array([-2, 0, 1, 2, 0, 0, 1, 2, 3, 0, -2, 1, -1, 1, 0, -2, 1, 1, -1, -1, 2, 1, -2, 0,
                               0, 4, -1, -2, 4, -2, 0, 0, -1, 1, -1, 1, 0, -2, 2, -1]).reshape(2, 4, 5),
                     hint=hint_dx)

# %% nbgrader={"grade": true, "grade_id": "col2im_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs and checks
# the adjoint identity.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.col2im", col2im)
### END HIDDEN TESTS

# %% [markdown]
# **The convolution through im2col.** With $W_{\text{rows}}$ = `w.reshape(F, K)` and
# `cols = im2col(x, HH, WW, stride, pad)`:
#
# $$\text{out}[n] = W_{\text{rows}}\, \text{cols}[n] + b \quad (F, P) \;\rightarrow\; \text{reshape to }
# (F, H', W').$$
#
# NumPy's `@` broadcasts `(F, K) @ (N, K, P)` to one product per image, giving `(N, F, P)` at once; add
# `b[:, None]` and reshape to `(N, F, H', W')`. Keep `cols` in the cache: the backward pass needs it.
#
# **Exercise 2c.** `conv_im2col_forward(x, w, b, stride=1, pad=0)` returns `(out, cache)`, `out` exactly
# as `conv_naive_forward` computes it (in `x`'s dtype).

# %% nbgrader={"grade": false, "grade_id": "conv_im2col_forward", "locked": false, "schema_version": 3, "solution": true}
def conv_im2col_forward(x, w, b, stride=1, pad=0):
    """out[n] = w.reshape(F, -1) @ im2col(x)[n] + b. x: (N, C, H, W), w: (F, C, HH, WW), b: (F,).

    Returns (out (N, F, H', W'), cache)."""
    ### BEGIN SOLUTION a05.conv_im2col_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv_im2col_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
rng = np.random.default_rng(5)  # the inputs of exercise 1a
x = rng.integers(-2, 3, size=(2, 2, 5, 5)).astype(float)  # (N, C, H, W)
w = rng.integers(-1, 2, size=(3, 2, 3, 3)).astype(float)  # (F, C, HH, WW)
b = np.array([1.0, -1.0, 0.5])
result = conv_im2col_forward(x, w, b, stride=2, pad=1)
assert isinstance(result, tuple) and len(result) == 2, "conv_im2col_forward must return a pair (out, cache)."
out, _ = result
grading.expect_shape("out with stride 2, pad 1", out, (2, 3, 3, 3),
                     hint="reshape the (N, F, H' * W') product to (N, F, H', W').")
out_b, _ = conv_im2col_forward(x, np.zeros_like(w), b, stride=2, pad=1)
grading.expect_close("out with w = 0 (bias term alone)", out_b,
                     np.broadcast_to(b[:, None, None], (2, 3, 3, 3)),
                     hint="add b[:, None] to the (N, F, P) product: one bias per filter, broadcast over "
                     "positions.")
grading.expect_close("out with stride 2, pad 1", out,
                     np.array([2, 3, 5, -2, -4, 5, -3, -2, -2, -1, 2, 10, 3, 2, -13, -5, -2, 4, 4.5, 2.5,
                               -3.5, -1.5, -4.5, -1.5, 2.5, 0.5, 8.5, 3, 10, -4, -2, 6, 0, 1, 0, 5, -6, -2, 2,
                               0, -5, 4, -2, -3, 1, 8.5, 0.5, 3.5, 0.5, 8.5, 3.5, 0.5, 2.5,
                               -3.5]).reshape(2, 3, 3, 3),
                     hint="w.reshape(F, -1) @ cols gives (N, F, P); the rows of cols must be in the "
                     "(c, p, q) order of w.reshape(F, -1).")
x32, w32, b32 = x.astype(np.float32), w.astype(np.float32), b.astype(np.float32)
out32, _ = conv_im2col_forward(x32, w32, b32, stride=2, pad=1)
grading.expect_equal("dtype of out for float32 inputs", str(out32.dtype), "float32",
                     hint="keep the input's dtype: do not create float64 arrays (np.zeros defaults to "
                     "float64).")

# %% nbgrader={"grade": true, "grade_id": "conv_im2col_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.conv_im2col_forward", conv_im2col_forward)
### END HIDDEN TESTS

# %% [markdown]
# Backward through $\text{out}[n] = W_{\text{rows}}\, \text{cols}[n] + b$ is the affine backward pass of
# assignment 02, once per image, followed by `col2im`. With `d = dout.reshape(N, F, P)`:
#
# $$dW_{\text{rows}} = \sum_n d[n]\, \text{cols}[n]^\top \ (F, K), \qquad
# d\text{cols}[n] = W_{\text{rows}}^\top d[n] \ (K, P), \qquad db = \sum_{n, p} d[n, :, p] \ (F,),$$
#
# then `dx = col2im(dcols, x.shape, HH, WW, stride, pad)` and `dw = dW_rows.reshape(w.shape)`. The weights
# are shared by all images and positions, so their gradient is a sum over both.
#
# **Exercise 2d.** `conv_im2col_backward(dout, cache)` returns `(dx, dw, db)`, equal to the naive
# version's.

# %% nbgrader={"grade": false, "grade_id": "conv_im2col_backward", "locked": false, "schema_version": 3, "solution": true}
def conv_im2col_backward(dout, cache):
    """dout: (N, F, H', W'). Returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,)."""
    ### BEGIN SOLUTION a05.conv_im2col_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv_im2col_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
rng = np.random.default_rng(5)  # the inputs and the upstream gradient of exercise 1b
x = rng.integers(-2, 3, size=(2, 2, 5, 5)).astype(float)  # (N, C, H, W)
w = rng.integers(-1, 2, size=(3, 2, 3, 3)).astype(float)  # (F, C, HH, WW)
b = np.array([1.0, -1.0, 0.5])
dout = rng.integers(-2, 3, size=(2, 3, 3, 3)).astype(float)  # (N, F, H', W') for stride 2, pad 1
_, cache = conv_im2col_forward(x, w, b, stride=2, pad=1)
grads = conv_im2col_backward(dout, cache)
assert isinstance(grads, tuple) and len(grads) == 3, "conv_im2col_backward must return (dx, dw, db)."
dx, dw, db = grads
grading.expect_shape("dx", dx, (2, 2, 5, 5), hint="col2im gives dx in the shape of x.")
grading.expect_shape("dw", dw, (3, 2, 3, 3), hint="reshape the (F, K) gradient back to w.shape.")
grading.expect_shape("db", db, (3,), hint="db sums dout over the images and the positions: (F,).")
grading.expect_close("db", db, np.array([5.0, 6.0, -5.0]), hint="db = dout.sum(axis=(0, 2, 3)).")
grading.expect_close("dw", dw,
                     np.array([1, 10, -3, 8, 2, -2, 3, -5, 8, -2, 5, 7, -14, 3, -10, 7, 0, 3, -8, 5, 3, -3, 3,
                               14, -8, -6, 2, -5, 1, -3, 6, 3, -4, 5, 1, 0, 1, 10, -4, -2, 17, -3, -1, -11, 3,
                               -1, 2, 4, -5, 9, -6, 2, 5, 3]).reshape(3, 2, 3, 3),
                     hint="dW_rows = sum over n of dout[n] (F, P) @ cols[n].T (P, K): sum the per-image "
                     "products over the batch.")
hint_dx = "dcols = w.reshape(F, -1).T @ dout[n], then dx = col2im(dcols, ...)."
grading.expect_close("dx[0] (image 0)", dx[0],
                     np.array([-1, 4, 1, -1, 0, -2, 8, -2, -2, 0, 0, 0, 2, 1, 2, 4, 0, -4, -2, -4, -1, 2, 0,
                               3, 1, 2, 0, 2, 5, 0, 0, 2, 4, -3, 5, 0, 6, 0, 3, 1, -2, 2, -1, -4, 2, 0, -4, 1,
                               1, 2]).reshape(2, 5, 5), hint=hint_dx)
grading.expect_close("dx[1] (image 1)", dx[1],
                     np.array([2, 0, 2, 2, -2, 2, 2, -2, 0, 0, -2, -2, -2, -2, 0, 1, 3, 6, 5, -1, 2, 0, 1, 1,
                               0, 0, 7, -2, -6, 2, -6, -2, -8, 4, 2, 2, -1, -2, 0, -2, 6, -1, 0, 2, -4, 1, 4,
                               0, -1, -1]).reshape(2, 5, 5), hint=hint_dx)
# Gradient check (float64, relative error below 1e-7) on inputs without nearly cancelling gradient
# entries (seed 27), for the reason given in exercise 1b's test.
rng = np.random.default_rng(27)
inputs = {"x": rng.standard_normal((2, 3, 5, 6)), "w": rng.standard_normal((4, 3, 3, 2)),
          "b": rng.standard_normal(4)}
check_pair(functools.partial(conv_im2col_forward, stride=2, pad=1), conv_im2col_backward, inputs, tol=1e-7,
           context="conv_im2col_backward, stride 2, pad 1")
print("ok: gradient check (stride 2, pad 1): dx, dw and db within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "conv_im2col_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.conv_im2col_backward", conv_im2col_forward, conv_im2col_backward)
### END HIDDEN TESTS

# %% [markdown]
# **Loops against im2col.** Both versions on the same random batch (float64, 3 channels, 8 filters of
# 3x3, pad 1, 2 images) for growing image sizes; time of one forward plus backward pass, best of a few
# runs. Your numbers depend on your machine. **What to see:** the naive time grows with the number of
# output positions (four times per doubling of the side) and is dominated by Python's per-iteration
# overhead, while im2col does a fixed $HH \cdot WW = 9$ slice copies plus one matrix product per image, so
# it is one to three orders of magnitude faster, and the gap widens with the image size. Both agree to
# round-off.

# %%
# NBVAL_IGNORE_OUTPUT (timings vary from run to run)
def best_time(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def forward_backward(forward, backward, x, w, b):
    out, cache = forward(x, w, b, 1, 1)
    return out, backward(np.ones_like(out), cache)


rng = np.random.default_rng(0)
sizes = [4, 8, 16, 24]
naive_ms, im2col_ms = [], []
print(f"{'H = W':>6} {'naive (ms)':>11} {'im2col (ms)':>12} {'speed-up':>9} {'max |difference|':>17}")
for size in sizes:
    x = rng.standard_normal((2, 3, size, size))
    w, b = rng.standard_normal((8, 3, 3, 3)), rng.standard_normal(8)
    naive = functools.partial(forward_backward, conv_naive_forward, conv_naive_backward, x, w, b)
    fast = functools.partial(forward_backward, conv_im2col_forward, conv_im2col_backward, x, w, b)
    naive_ms.append(1e3 * best_time(naive))
    im2col_ms.append(1e3 * best_time(fast))
    (out_naive, grads_naive), (out_fast, grads_fast) = naive(), fast()
    pairs = zip((out_naive, *grads_naive), (out_fast, *grads_fast))
    difference = max(np.max(np.abs(a - f)) for a, f in pairs)
    speed_up = naive_ms[-1] / im2col_ms[-1]
    print(f"{size:>6} {naive_ms[-1]:>11.2f} {im2col_ms[-1]:>12.3f} {speed_up:>8.0f}x {difference:>17.1e}")

fig, ax = plt.subplots(figsize=(6, 3.8))
ax.loglog(sizes, naive_ms, "o-", label="naive loops")
ax.loglog(sizes, im2col_ms, "s-", label="im2col + matrix multiply")
ax.minorticks_off()
ax.set_xticks(sizes, [str(s) for s in sizes])
ax.set_xlabel("image height = width (pixels)")
ax.set_ylabel("forward + backward time (ms, log scale)")
ax.set_title("Convolution: loops vs im2col (N=2, C=3, F=8, 3x3, pad 1)")
ax.legend()
plt.show()


# %% [markdown]
# ## 3. The convolution as one matrix
#
# Lecture 004 asks: *can an MLP reproduce a ConvNet?* Yes: a convolution is linear in its input, so for
# one image it is a matrix-vector product, $\text{out}.\text{ravel}() = M\, x.\text{ravel}() + b$ (bias
# repeated). $M$ has one row per output $(f, i, j)$ and one column per input pixel $(c, h, v)$, both in
# row-major order: row $f H' W' + i W' + j$, column $c H W + h W + v$. Row $(f, i, j)$ holds filter $f$
# placed where window $(i, j)$ sits on the image:
#
# $$M[(f, i, j), (c,\; i s + p - \text{pad},\; j s + q - \text{pad})] = w[f, c, p, q],$$
#
# for every $c, p, q$ whose pixel lies inside the image (window entries in the zero padding multiply
# zeros, so they are left out); all other entries are 0. Take stride 1 and the block of $M$ that maps
# channel $c$ to filter $f$, an $H' W' \times H W$ matrix. Cut it into $H' \times H$ sub-blocks of size
# $W' \times W$, sub-block $(i, h)$ linking output row $i$ to image row $h$. Moving the window one step
# right moves the filter one step along the row, so each sub-block is **Toeplitz** (constant along its
# diagonals: entry $(j, v)$ depends only on $v - j$, and holds filter row $p = h - i + \text{pad}$); moving
# it one step down moves it one image row, so sub-block $(i, h)$ depends only on $h - i$ (zero unless
# $0 \le h - i + \text{pad} < HH$). The block is therefore **block-Toeplitz with Toeplitz blocks**, but
# not Toeplitz itself: its diagonals break where a window row reaches the left or right edge of the image.
# (With stride $s$, $M$ keeps only the rows of the stride-1 matrix whose output position has both
# coordinates multiples of $s$.) This is the "circulant matrix" of the lecture: if the padding wrapped
# around instead of being zero, the sub-blocks and their arrangement would be circulant (block-circulant
# with circulant blocks). $M$ has $F H' W' \times C H W$ entries of which only about
# $F H' W' \cdot C \cdot HH \cdot WW$ are non-zero, and they are copies of the same few weights: that is
# what local connectivity and weight sharing save.
#
# **Exercise 3.** `conv_as_matrix(w, input_shape, stride=1, pad=0)` returns $M$ of shape
# `(F H' W', C H W)` for `input_shape = (C, H, W)`, in `w`'s dtype (bias-free). Loop over $i, j, p, q$ and
# copy the `(F, C)` slice `w[:, :, p, q]` into a 6-d `(F, H', W', C, H, W)` array; reshape at the end.

# %% nbgrader={"grade": false, "grade_id": "conv_as_matrix", "locked": false, "schema_version": 3, "solution": true}
def conv_as_matrix(w, input_shape, stride=1, pad=0):
    """The (F H' W', C H W) matrix M with M @ x[n].ravel() = (conv(x)[n] - b).ravel(). w: (F, C, HH, WW)."""
    ### BEGIN SOLUTION a05.conv_as_matrix
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "conv_as_matrix_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w_tiny = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])  # one 2x2 filter, one channel
M = conv_as_matrix(w_tiny, (1, 3, 3))
grading.expect_shape("conv_as_matrix of a 2x2 filter on a 3x3 image", M, (4, 9),
                     hint="(F * H' * W', C * H * W) = (1 * 2 * 2, 1 * 3 * 3).")
grading.expect_close("row 0 of M (window (0, 0))", M[0], np.array([1, 2, 0, 3, 4, 0, 0, 0, 0]),
                     hint="window (0, 0) covers pixels (0, 0), (0, 1), (1, 0), (1, 1), columns 0, 1, 3, 4 of "
                     "the row-major 3x3 image.")
grading.expect_close("conv_as_matrix of a 2x2 filter on a 3x3 image", M,
                     np.array([[1, 2, 0, 3, 4, 0, 0, 0, 0], [0, 1, 2, 0, 3, 4, 0, 0, 0],
                               [0, 0, 0, 1, 2, 0, 3, 4, 0], [0, 0, 0, 0, 1, 2, 0, 3, 4]]),
                     hint="row i * W' + j is row 0 shifted by i rows and j columns of the image: j steps "
                     "shift it by 1, i steps by W.")
rng = np.random.default_rng(8)
w = rng.integers(-1, 2, size=(2, 2, 3, 3)).astype(float)  # (F, C, HH, WW)
x = rng.integers(-3, 4, size=(2, 2, 4, 4)).astype(float)  # (N, C, H, W)
M = conv_as_matrix(w, (2, 4, 4), stride=2, pad=1)
grading.expect_shape("conv_as_matrix(w (2, 2, 3, 3), (2, 4, 4), stride=2, pad=1)", M, (8, 32),
                     hint="H' = W' = 1 + (4 + 2 - 3) // 2 = 2, so F H' W' = 8 rows and C H W = 32 columns.")
hint_m = ("pixel (h, v) = (i * stride + p - pad, j * stride + q - pad); skip (p, q) whose pixel falls "
          "outside the image.")
grading.expect_close("row 0 of M: filter 0 at window (0, 0), which overlaps the padding", M[0],
                     np.array([-1, -1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 0, 0, 0,
                               0, 0, 0, 0, 0, 0, 0]), hint=hint_m)
grading.expect_close("row 7 of M: filter 1 at window (1, 1)", M[7],
                     np.array([0, 0, 0, 0, 0, 0, 0, 1, 0, -1, 1, -1, 0, -1, -1, 0, 0, 0, 0, 0, 0, -1, 1, 1, 0,
                               1, 0, -1, 0, -1, 0, 0]), hint=hint_m)
# The matrix reproduces the convolution: M @ x[n].ravel() is out[n].ravel() (no bias).
grading.expect_close("(x.reshape(2, -1) @ M.T) reshaped to (2, 2, 2, 2)",
                     (x.reshape(2, -1) @ M.T).reshape(2, 2, 2, 2),
                     np.array([-7, 2, 5, 3, 3, -7, 5, 11, 7, 3, -3, 0, 0, 7, -6, 4]).reshape(2, 2, 2, 2),
                     hint="M @ x[n].ravel() must equal the bias-free convolution of image n.")

# %% nbgrader={"grade": true, "grade_id": "conv_as_matrix_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.conv_as_matrix", conv_as_matrix)
### END HIDDEN TESTS

# %% [markdown]
# Left: $M$ for one 3x3 filter on a one-channel 6x6 image with pad 1 (36 x 36; white is zero). Right: the
# same for two input channels and two filters (72 x 72, four blocks). **What to see:** each block is
# banded, with nine bands, one per filter entry, in three groups (one per filter row, $W = 6$ columns
# apart); within each 6 x 6 sub-block the bands are constant along the diagonal (Toeplitz), and the
# sub-blocks repeat down the block diagonals (block-Toeplitz). The gaps in the bands, every sixth row, are
# the windows whose entries fell in the padding at the image's left and right edges: that is why a whole
# block is not Toeplitz. The printed check shows that $M x$ equals your `conv_naive_forward` output to
# round-off.

# %%
rng = np.random.default_rng(3)
w_one = rng.standard_normal((1, 1, 3, 3))
w_two = rng.standard_normal((2, 2, 3, 3))
x_two = rng.standard_normal((1, 2, 6, 6))
M_one = conv_as_matrix(w_one, (1, 6, 6), stride=1, pad=1)
M_two = conv_as_matrix(w_two, (2, 6, 6), stride=1, pad=1)
out_two, _ = conv_naive_forward(x_two, w_two, np.zeros(2), stride=1, pad=1)
print("max |M x - conv(x)| =", np.max(np.abs(M_two @ x_two.ravel() - out_two.ravel())))
nonzero = np.count_nonzero(M_two)
print(f"non-zero entries of M: {nonzero} of {M_two.size} ({nonzero / M_two.size:.1%}),"
      f" holding the {w_two.size} weights of the filters")

fig, axes = plt.subplots(1, 2, figsize=(11, 5))
panels = [(axes[0], M_one, "1 filter, 1 channel, 6x6 image"),
          (axes[1], M_two, "2 filters, 2 channels, 6x6 image")]
for ax, M, title in panels:
    limit = np.max(np.abs(M))
    ax.imshow(M, cmap="RdBu", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_xlabel("input pixel (c, h, v), row-major")
    ax.set_ylabel("output (f, i, j), row-major")
    ax.set_title(f"Convolution as a matrix: {title}", fontsize=10)
plt.tight_layout()
plt.show()


# %% [markdown]
# ## 4. Max pooling
#
# Max pooling shrinks each channel separately by keeping the largest value of each `size` x `size`
# window, the windows taken every `stride` pixels (no padding):
#
# $$\text{out}[n, c, i, j] = \max_{0 \le p, q < \text{size}} x[n, c, i s + p, j s + q], \qquad
# H' = 1 + \left\lfloor \frac{H - \text{size}}{s} \right\rfloor .$$
#
# It has no parameters. The usual choice is `size = stride = 2` (halve the height and width);
# `stride < size` gives overlapping windows.
#
# **Exercise 4a.** `max_pool_forward(x, size=2, stride=2)` returns `(out, cache)` with `out` of shape
# `(N, C, H', W')`. As for im2col, loop over the `size * size` window offsets rather than over windows:
# stacking the strided slices `x[:, :, p : p + s (H' - 1) + 1 : s, q : ...]` on a last axis gives all
# windows as `(N, C, H', W', size * size)`. Keep in the cache **where** each maximum was (`argmax` over
# that axis) for the backward pass.

# %% nbgrader={"grade": false, "grade_id": "max_pool_forward", "locked": false, "schema_version": 3, "solution": true}
def max_pool_forward(x, size=2, stride=2):
    """Max over size x size windows every stride pixels. x: (N, C, H, W).

    Returns (out (N, C, H', W'), cache)."""
    ### BEGIN SOLUTION a05.max_pool_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "max_pool_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.random.default_rng(7).permutation(32).reshape(1, 2, 4, 4) - 16.0  # distinct values -16 ... 15
result = max_pool_forward(x, size=2, stride=2)
assert isinstance(result, tuple) and len(result) == 2, "max_pool_forward must return a pair (out, cache)."
out, _ = result
grading.expect_shape("max_pool_forward(x (1, 2, 4, 4), size=2, stride=2)", out, (1, 2, 2, 2),
                     hint="H' = 1 + (4 - 2) // 2 = 2; the channels are pooled separately, so C stays 2.")
grading.expect_close("out[0, 0, 0, 0], the max of x[0, 0, 0:2, 0:2]", out[0, 0, 0, 0], 14.0,
                     hint="the maximum of one 2x2 window of one channel (not of all channels).")
grading.expect_close("max_pool_forward(x, size=2, stride=2)", out,
                     np.array([14, 13, 7, 10, 8, 4, 15, 11]).reshape(1, 2, 2, 2),
                     hint="window (i, j) is x[n, c, i*stride : i*stride + size, j*stride : j*stride + size].")
out31, _ = max_pool_forward(x, size=3, stride=1)
grading.expect_shape("max_pool_forward with size 3, stride 1 (overlapping windows)", out31, (1, 2, 2, 2),
                     hint="H' = 1 + (4 - 3) // 1 = 2.")
grading.expect_close("max_pool_forward with size 3, stride 1", out31,
                     np.array([14, 14, 14, 14, 15, 15, 15, 15]).reshape(1, 2, 2, 2),
                     hint="size and stride are separate arguments: windows of 3x3 taken every pixel.")
x5 = np.pad(x[:, :1], ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=100.0)  # a row and column of 100s
out5, _ = max_pool_forward(x5, size=2, stride=2)
grading.expect_shape("max_pool_forward of a 5x5 image, size 2, stride 2", out5, (1, 1, 2, 2),
                     hint="H' = 1 + (5 - 2) // 2 = 2: the last row and column (the 100s here) belong to no "
                     "window.")
grading.expect_close("max_pool_forward of a 5x5 image, size 2, stride 2", out5,
                     np.array([14, 13, 7, 10]).reshape(1, 1, 2, 2),
                     hint="no padding in pooling; the floor drops the row and column that no window reaches.")

# %% nbgrader={"grade": true, "grade_id": "max_pool_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.max_pool_forward", max_pool_forward)
### END HIDDEN TESTS

# %% [markdown]
# Backward. The maximum is a **switch** (lecture 000's "max gate"): the output equals the winning input,
# so $d\,\text{out}[n, c, i, j]$ flows to the winner of window $(i, j)$ and the other inputs of the window
# get nothing. When windows overlap and share a winner, their gradients add up at it. On a tie, only the
# **first** maximum in row-major window order (the one `np.argmax` returns) gets the gradient, as in
# PyTorch; this keeps the total gradient equal to that of `dout`.
#
# **Exercise 4b.** `max_pool_backward(dout, cache)` returns `dx` of shape `(N, C, H, W)`. One way: for
# each window offset $k = p \cdot \text{size} + q$, add `dout * (idx == k)` to the strided slice of `dx` at
# that offset.

# %% nbgrader={"grade": false, "grade_id": "max_pool_backward", "locked": false, "schema_version": 3, "solution": true}
def max_pool_backward(dout, cache):
    """dout: (N, C, H', W'). Returns dx: (N, C, H, W), each window's gradient at its (first) maximum."""
    ### BEGIN SOLUTION a05.max_pool_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "max_pool_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.random.default_rng(7).permutation(32).reshape(1, 2, 4, 4) - 16.0  # the input of exercise 4a
dout = np.array([[[[1.0, -2.0], [3.0, 0.5]], [[-1.0, 2.0], [0.25, 4.0]]]])
_, cache = max_pool_forward(x, size=2, stride=2)
dx = max_pool_backward(dout, cache)
grading.expect_shape("dx", dx, (1, 2, 4, 4), hint="dx has the shape of x.")
grading.expect_close("number of non-zero entries of dx per 2x2 window", np.count_nonzero(dx), 8,
                     hint="exactly one entry per window (its maximum) receives the gradient; the other three "
                     "get 0.")
grading.expect_close("dx (size 2, stride 2)", dx,
                     np.array([0, 0, 0, 0, 0, 1, -2, 0, 0, 0, 0, 0, 0, 3, 0, 0.5, -1, 0, 0, 0, 0, 0, 0, 2, 0,
                               0.25, 4, 0, 0, 0, 0, 0]).reshape(1, 2, 4, 4),
                     hint="dx at the position of the max of window (i, j) is dout[n, c, i, j]; everywhere "
                     "else 0.")
# Isolation case: overlapping 2x2 windows (stride 1) that all share the centre as their maximum.
x_c = np.array([[[[1.0, 2.0, 0.0], [3.0, 9.0, 4.0], [0.5, 5.0, 1.5]]]])
_, cache_c = max_pool_forward(x_c, size=2, stride=1)
dx_c = max_pool_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache_c)
grading.expect_close("dx when the four overlapping windows share the centre as maximum", dx_c,
                     np.array([[[[0, 0, 0], [0, 10, 0], [0, 0, 0]]]]),
                     hint="the centre wins all four windows, so it receives 1 + 2 + 3 + 4 = 10: accumulate "
                     "with +=, do not assign.")
# Ties: a constant window gives its gradient to its first entry only.
_, cache_t = max_pool_forward(np.zeros((1, 1, 2, 2)), size=2, stride=2)
dx_t = max_pool_backward(np.array([[[[5.0]]]]), cache_t)
grading.expect_close("dx for a window of four equal values", dx_t, np.array([[[[5, 0], [0, 0]]]]),
                     hint="on a tie only the first maximum in row-major order (np.argmax) gets the gradient; "
                     "a mask x == max would give it to all four.")
# Gradient check (float64, relative error below 1e-7) on values without ties, since max is not
# differentiable at a tie.
rng = np.random.default_rng(2)
x_check = (rng.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) + rng.uniform(0, 0.5, (2, 2, 5, 5))) / 10
check_pair(functools.partial(max_pool_forward, size=3, stride=2), max_pool_backward, {"x": x_check}, tol=1e-7,
           context="max_pool_backward, size 3, stride 2")
print("ok: gradient check (size 3, stride 2): dx within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "max_pool_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.max_pool_backward", max_pool_forward, max_pool_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. A small CNN on the digits
#
# Now the pieces make a network. The layers below are thin `Module` wrappers around **your** pairs, with
# the names and arguments of the library's `course.layers.convolution.Conv2d` and
# `course.layers.pooling.MaxPool2d` (which wrap the reference's fast paths): a module owns its parameters,
# calls the forward function, keeps the cache, and in `backward` adds the parameter gradients into
# `self.grads` (`accumulate`) and returns the input gradient. The convolution's weights start He-normal,
# $\mathcal N(0, 2 / (C k^2))$ ($C k^2$ inputs feed each output; `he_normal` of assignment 04), in float32
# like the rest of training. `train_digits` trains any model with Adam (learning rate $3 \cdot 10^{-3}$,
# minibatches of 32) and keeps the epoch with the best validation accuracy (`course.training.train.train`,
# assignment 04).

# %%
class Conv2d(Module):
    """Your conv_im2col_forward / conv_im2col_backward as a layer: w (F, C, k, k) He-normal, b (F,) zero."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, pad=0, *, rng=None,
                 dtype=np.float32):
        super().__init__()
        rng = np.random.default_rng(0 if rng is None else rng)  # an int seed or a Generator
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.add_param("w", he_normal(shape, rng, dtype))
        self.add_param("b", np.zeros(out_channels, dtype=dtype))
        self.stride, self.pad = stride, pad

    def forward(self, x):
        out, self.cache = conv_im2col_forward(x, self.params["w"], self.params["b"], self.stride, self.pad)
        return out

    def backward(self, dout):
        dx, dw, db = conv_im2col_backward(dout, self.cache)
        self.accumulate("w", dw)
        self.accumulate("b", db)
        return dx


class MaxPool2d(Module):
    """Your max_pool_forward / max_pool_backward as a layer (no parameters); stride defaults to size."""

    def __init__(self, size=2, stride=None):
        super().__init__()
        self.size = size
        self.stride = size if stride is None else stride

    def forward(self, x):
        out, self.cache = max_pool_forward(x, self.size, self.stride)
        return out

    def backward(self, dout):
        return max_pool_backward(dout, self.cache)


def train_digits(model, data, epochs=10, seed=0):
    """Adam (lr 3e-3), minibatches of 32, best validation epoch kept. Returns train's history."""
    optimizer = Optimizer(model, adam, learning_rate=3e-3)
    return train(model, softmax_cross_entropy, optimizer, data["train"], epochs=epochs, batch_size=32,
                 rng=np.random.default_rng(seed), val_data=data["val"], progress=False, monitor="val_acc")


digits = {split: load_digits(split, flatten=False) for split in ("train", "val", "test")}
print({split: X.shape for split, (X, _) in digits.items()})


# %% [markdown]
# **Exercise 5.** `digits_cnn(seed)` returns a `Sequential` of exactly these layers, for 8x8 grey images
# `(N, 1, 8, 8)` and 10 classes:
#
# | layer | output shape |
# |---|---|
# | `Conv2d(1, 16, 3, pad=1, rng=seed)` | `(N, 16, 8, 8)` |
# | `ReLU()` | `(N, 16, 8, 8)` |
# | `MaxPool2d(2)` | `(N, 16, 4, 4)` |
# | `Conv2d(16, 32, 3, pad=1, rng=seed + 1)` | `(N, 32, 4, 4)` |
# | `ReLU()` | `(N, 32, 4, 4)` |
# | `MaxPool2d(2)` | `(N, 32, 2, 2)` |
# | `Linear(?, 10, rng=seed + 2)` | `(N, 10)` class scores |
#
# (`Linear` flattens its input; work out its number of input features from the table.) It is graded by
# its result: trained with `train_digits` for 10 epochs it must classify at least 94% of the **test**
# digits correctly (the reference reaches about 97%; in the hidden test, with another seed and another
# split of the data). Your convolution and pooling must be right for that, and fast enough: one training
# takes a few seconds with the im2col convolution.

# %% nbgrader={"grade": false, "grade_id": "digits_cnn", "locked": false, "schema_version": 3, "solution": true}
def digits_cnn(seed):
    """conv3x3(16)-relu-pool2, conv3x3(32)-relu-pool2, affine(10) for (N, 1, 8, 8) digits."""
    ### BEGIN SOLUTION a05.digits_cnn
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "digits_cnn_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
cnn_check = digits_cnn(seed=0)
assert isinstance(cnn_check, Sequential), "digits_cnn must return a Sequential of layers."
kinds = [type(layer).__name__ for layer in cnn_check.layers]
grading.expect_equal("the layers of digits_cnn(0)", kinds,
                     ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Linear"],
                     hint="conv-relu-pool twice, then one Linear, in that order (see the table).")
grading.expect_shape("w of the first Conv2d", cnn_check.layers[0].params["w"], (16, 1, 3, 3),
                     hint="Conv2d(1, 16, 3, pad=1, ...): 16 filters over 1 input channel.")
grading.expect_shape("w of the second Conv2d", cnn_check.layers[3].params["w"], (32, 16, 3, 3),
                     hint="Conv2d(16, 32, 3, pad=1, ...): its input has the 16 channels of the first.")
scores = cnn_check.forward(digits["test"][0][:5])
grading.expect_shape("scores of digits_cnn(0) for 5 digits", scores, (5, 10),
                     hint="pad=1 keeps 8x8, each pooling halves: (N, 32, 2, 2) flattens to 32 * 2 * 2 = 128 "
                     "features for Linear.")
history = train_digits(cnn_check, digits, epochs=10, seed=0)
test_accuracy = accuracy(cnn_check, *digits["test"])
assert history["train_loss"][-1] < history["train_loss"][0], (
    "the training loss did not go down: check the backward passes of your convolution and pooling.")
assert test_accuracy >= 0.94, (
    f"test accuracy {test_accuracy:.3f} is below 0.94: check the layer order and sizes, and that "
    "conv_im2col_backward and max_pool_backward pass their gradient checks above.")
print("ok: the training loss went down and the CNN classifies at least 94% of the test digits correctly")

# %% nbgrader={"grade": true, "grade_id": "digits_cnn_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader builds your CNN with another seed, trains it on another split of the digits
# and checks its test accuracy.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.digits_cnn", digits_cnn, Conv2d, MaxPool2d)
### END HIDDEN TESTS

# %% [markdown]
# **The CNN against an MLP**, and what the CNN learned. The cell below trains your CNN and a two-layer MLP
# (64 -> 128 -> 10 with ReLU, `course.layers.affine.Linear`, which flattens the images) for the same 10
# epochs with the same optimiser, then draws three figures.
#
# 1. Left: validation accuracy per epoch. Right: test accuracy on test digits shifted sideways by up to
#    two pixels (zeros shifted in). **What to see:** on the centred test digits the CNN is *not* better:
#    in this notebook's run (seed 0) it classifies 97.3% of them correctly against the MLP's 97.7%, with
#    about two thirds of the MLP's parameters (6,090 against 9,610). It wins on shifted digits only:
#    shifted by one pixel the MLP collapses to about 43% (it learned one weight per pixel position), while
#    the CNN keeps about 69%, because its filters are shared across positions and pooling forgets small
#    displacements. Two pixels out of eight is too much for both (about 35% and 16%).
# 2. The 16 learned first-layer 3x3 filters, as images (red positive, blue negative). **What to see:**
#    most are a positive side next to a negative side, i.e. oriented edge detectors (3x3 filters trained
#    for ten epochs on 8x8 images are coarse; do not expect crisp patterns).
# 3. One test digit and the 16 feature maps of the first layer after the ReLU (8x8 each). **What to
#    see:** each map lights up where its filter's pattern occurs: some respond to horizontal strokes, some
#    to vertical or diagonal edges on one side of a stroke, so the digit is re-described as "which pattern
#    where".

# %%
def shift_images(X, dx):
    """Shift (N, 1, H, W) images dx pixels to the right (left if negative), filling with zeros."""
    out = np.zeros_like(X)
    if dx >= 0:
        out[..., dx:] = X[..., : X.shape[-1] - dx]
    else:
        out[..., :dx] = X[..., -dx:]
    return out


def count_parameters(model):
    return sum(p.size for _, p, _ in model.parameters())


cnn = digits_cnn(seed=0)
cnn_history = train_digits(cnn, digits, epochs=10, seed=0)
mlp = Sequential(Linear(64, 128, rng=0), ReLU(), Linear(128, 10, rng=1))
mlp_history = train_digits(mlp, digits, epochs=10, seed=0)

shifts = [-2, -1, 0, 1, 2]
X_test, y_test = digits["test"]
shifted = {name: [accuracy(model, shift_images(X_test, s), y_test) for s in shifts]
           for name, model in [("CNN", cnn), ("MLP", mlp)]}
for name, model in [("CNN", cnn), ("MLP", mlp)]:
    print(f"{name}: {count_parameters(model):>5} parameters, test accuracy {shifted[name][2]:.3f}, "
          f"shifted by 1 pixel {np.mean([shifted[name][1], shifted[name][3]]):.3f}, "
          f"by 2 pixels {np.mean([shifted[name][0], shifted[name][4]]):.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
epochs = np.arange(1, 11)
ax1.plot(epochs, cnn_history["val_acc"], "o-", label=f"CNN ({count_parameters(cnn)} parameters)")
ax1.plot(epochs, mlp_history["val_acc"], "s-", label=f"MLP ({count_parameters(mlp)} parameters)")
ax1.set_xlabel("epoch")
ax1.set_ylabel("validation accuracy")
ax1.set_title("Digits: CNN vs MLP, validation accuracy")
ax1.legend()
ax2.plot(shifts, shifted["CNN"], "o-", label="CNN")
ax2.plot(shifts, shifted["MLP"], "s-", label="MLP")
ax2.set_xticks(shifts)
ax2.set_xlabel("horizontal shift of the test digits (pixels, + is to the right)")
ax2.set_ylabel("test accuracy")
ax2.set_ylim(0, 1)
ax2.set_title("Test accuracy on shifted digits")
ax2.legend()
plt.tight_layout()
plt.show()

filters = cnn.layers[0].params["w"][:, 0]  # (16, 3, 3)
limit = np.max(np.abs(filters))
fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
for k, ax in enumerate(axes.ravel()):
    ax.imshow(filters[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"filter {k}", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Learned first-layer 3x3 filters (red positive, blue negative; rows p, columns q)")
plt.show()

digit, label = X_test[:1], y_test[0]
maps = cnn.layers[1].forward(cnn.layers[0].forward(digit))[0]  # (16, 8, 8) after the ReLU
fig, axes = plt.subplots(2, 9, figsize=(12, 3.2))
axes[0, 0].imshow(digit[0, 0], cmap="gray_r")
axes[0, 0].set_title(f"input: a {label}", fontsize=8)
for k in range(16):
    ax = axes[k // 8, 1 + k % 8]
    ax.imshow(maps[k], cmap="viridis")
    ax.set_title(f"map {k}", fontsize=8)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[1, 0].axis("off")
fig.suptitle("Feature maps of the first convolution after ReLU (8x8 pixels each, brighter = stronger)")
plt.show()


# %% [markdown]
# ## 6. The residual block
#
# Very deep plain networks train worse than shallower ones, even on their training set. ResNets (He et
# al. 2015, lectures 002 and 004) fix this by letting each block learn a **correction** to its input
# instead of a new representation:
#
# $$a = \text{conv}(x; w_1, b_1), \quad h = \text{relu}(a), \quad f = \text{conv}(h; w_2, b_2), \quad
# \text{out} = \text{relu}(x + f),$$
#
# both convolutions 3x3 with stride 1 and pad 1 and $C$ filters, so $f$ has the shape `(N, C, H, W)` of
# $x$ and the identity **skip** $x + f$ needs no projection. If the convolutions output zero, the block is
# (almost) the identity, so stacking more blocks cannot make things much worse.
#
# **Exercise 6a.** `residual_block_forward(x, w1, b1, w2, b2)` returns `(out, cache)`: `x (N, C, H, W)`,
# `w1, w2 (C, C, 3, 3)`, `b1, b2 (C,)`, `out (N, C, H, W)`. Use your `conv_im2col_forward` and the ReLU
# pair of assignment 02 (`relu_forward`, `relu_backward`, imported at the top).

# %% nbgrader={"grade": false, "grade_id": "residual_block_forward", "locked": false, "schema_version": 3, "solution": true}
def residual_block_forward(x, w1, b1, w2, b2):
    """out = relu(x + conv(relu(conv(x, w1, b1)), w2, b2)), 3x3 convolutions with pad 1.

    Returns (out, cache)."""
    ### BEGIN SOLUTION a05.residual_block_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "residual_block_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
rng = np.random.default_rng(16)  # small integers and halves: exact results, no pre-activation exactly 0
x = rng.integers(-2, 3, size=(2, 2, 4, 4)).astype(float)  # (N, C, H, W)
w1, b1 = rng.integers(-1, 2, size=(2, 2, 3, 3)) / 2, np.array([0.5, -0.25])  # (C, C, 3, 3), (C,)
w2, b2 = rng.integers(-1, 2, size=(2, 2, 3, 3)) / 2, np.array([-0.5, 0.25])
result = residual_block_forward(x, w1, b1, w2, b2)
assert isinstance(result, tuple) and len(result) == 2, (
    "residual_block_forward must return a pair (out, cache).")
out, _ = result
grading.expect_shape("out", out, (2, 2, 4, 4),
                     hint="3x3 convolutions with pad 1 and stride 1 keep the shape of x.")
# Isolation case: with both convolutions zero, only the skip is left: out = relu(x).
zero_w, zero_b = np.zeros_like(w1), np.zeros_like(b1)
out_skip, _ = residual_block_forward(x, zero_w, zero_b, zero_w, zero_b)
grading.expect_close("out with w1 = w2 = 0 and b1 = b2 = 0 (the skip alone)", out_skip, np.maximum(x, 0),
                     hint="out = relu(x + f): add the input x itself before the last ReLU.")
# Isolation case: w2 = 0 leaves f = b2, whatever the first convolution does.
out_b2, _ = residual_block_forward(x, w1, b1, zero_w, b2)
grading.expect_close("out with w2 = 0 (f is the bias b2)", out_b2, np.maximum(x + b2[:, None, None], 0),
                     hint="the second convolution adds b2[c] to channel c; then relu(x + f).")
hint_out = ("a = conv(x; w1, b1), h = relu(a), f = conv(h; w2, b2), both with stride 1, pad 1; "
            "out = relu(x + f).")
grading.expect_close("out[0] (image 0)", out[0],
                     np.array([0, 0, 5, 0, 0, 0, 3, 0.5, 0, 0, 3.75, 0, 0, 7.75, 0, 3.75, 4.875, 1.625, 0,
                               0.375, 0, 0, 0, 0, 3.375, 0, 1, 0, 1.625, 0.125, 0,
                               0.5]).reshape(2, 4, 4), hint=hint_out)
grading.expect_close("out[1] (image 1)", out[1],
                     np.array([0, 7.25, 0, 0, 8, 0, 2.25, 0, 0, 6.375, 0.25, 0, 3.25, 0, 1.75, 1.875, 5.375,
                               0, 2.875, 0, 0, 0, 0, 0.25, 0, 0, 3, 0.75, 1.25, 0, 0, 0]).reshape(2, 4, 4),
                     hint=hint_out)

# %% nbgrader={"grade": true, "grade_id": "residual_block_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.residual_block_forward", residual_block_forward)
### END HIDDEN TESTS

# %% [markdown]
# Backward, in reverse order. With $s = x + f$: $ds = \text{dout} \odot [s > 0]$ (ReLU backward); $ds$
# goes through the second convolution (giving $dh$, $dw_2$, $db_2$), the first ReLU ($da$) and the first
# convolution (giving $dx_{\text{conv}}$, $dw_1$, $db_1$). $x$ was used **twice**, in the first
# convolution and in the skip, so its gradient is the sum of both paths:
#
# $$dx = dx_{\text{conv}} + ds .$$
#
# That identity term is why deep ResNets train: even when the convolutions pass back little gradient,
# $ds$ reaches the earlier layers unchanged.
#
# **Exercise 6b.** `residual_block_backward(dout, cache)` returns `(dx, dw1, db1, dw2, db2)`.

# %% nbgrader={"grade": false, "grade_id": "residual_block_backward", "locked": false, "schema_version": 3, "solution": true}
def residual_block_backward(dout, cache):
    """dout: (N, C, H, W). Returns dx (N, C, H, W), dw1 (C, C, 3, 3), db1 (C,), dw2 (C, C, 3, 3), db2 (C,)."""
    ### BEGIN SOLUTION a05.residual_block_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "residual_block_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
rng = np.random.default_rng(16)  # the inputs of exercise 6a, and an upstream gradient
x = rng.integers(-2, 3, size=(2, 2, 4, 4)).astype(float)  # (N, C, H, W)
w1, b1 = rng.integers(-1, 2, size=(2, 2, 3, 3)) / 2, np.array([0.5, -0.25])  # (C, C, 3, 3), (C,)
w2, b2 = rng.integers(-1, 2, size=(2, 2, 3, 3)) / 2, np.array([-0.5, 0.25])
dout = rng.integers(-2, 3, size=(2, 2, 4, 4)).astype(float)  # (N, C, H, W)
# Isolation case: with w2 = 0 no gradient goes back through the convolutions: only the skip carries it.
_, cache_skip = residual_block_forward(x, w1, b1, np.zeros_like(w2), b2)
grads_skip = residual_block_backward(dout, cache_skip)
assert isinstance(grads_skip, tuple) and len(grads_skip) == 5, (
    "residual_block_backward must return (dx, dw1, db1, dw2, db2).")
grading.expect_close("dx with w2 = 0 (the skip path alone)", grads_skip[0],
                     dout * (x + b2[:, None, None] > 0),
                     hint="with w2 = 0 the convolution path contributes nothing, so "
                     "dx = ds = dout * (x + f > 0): did you add ds to dx?")
grading.expect_close("dw1 with w2 = 0", grads_skip[1], np.zeros((2, 2, 3, 3)),
                     hint="dh = (second convolution's dx) is zero when w2 = 0, so dw1 must be zero.")
_, cache = residual_block_forward(x, w1, b1, w2, b2)
grads = residual_block_backward(dout, cache)
shapes = [(2, 2, 4, 4), (2, 2, 3, 3), (2,), (2, 2, 3, 3), (2,)]
for name, g, shape in zip(("dx", "dw1", "db1", "dw2", "db2"), grads, shapes):
    grading.expect_shape(name, g, shape, hint="each gradient has the shape of its input; return "
                         "(dx, dw1, db1, dw2, db2) in this order.")
hint_dx = "dx = (gradient through conv1) + ds: the skip path and the convolution path add up."
grading.expect_close("dx[0] (image 0)", grads[0][0],
                     np.array([0.5, 4.5, 1, -3.25, 0.5, 0.75, 0.75, -6.25, -2.25, -1.75, -3.5, -0.25, -1.25,
                               0.5, 4.75, -2.5, 2, 2, 2.25, -3.5, -1, -0.25, 3, 3.5, -4.5, 3.5, -2.75, -2.5,
                               0.25, -0.75, -1.25, -2.75]).reshape(2, 4, 4), hint=hint_dx)
grading.expect_close("dx[1] (image 1)", grads[0][1],
                     np.array([0, 1.75, 0, 0.25, 3, -2, -3.25, -0.75, -1.5, 0.75, -2.25, 0, -2.75, 0.25, -3.5,
                               0.5, 0.25, -1.75, 1, 1.25, 2, -0.75, 0.5, -2, -1.25, 3.25, -4.25, -0.25, 1,
                               -1.25, -0.5, -1]).reshape(2, 4, 4), hint=hint_dx)
grading.expect_close("dw1", grads[1],
                     np.array([2.5, -2, 2.5, -5.5, -6.5, 4, -6, 3, -2, -10.5, -17, 2, -3.5, -16.5, 14.5, -4.5,
                               0, 5.5, 6.5, -5.5, -0.5, 6.5, 4, 11, -10, -3.5, 4, -1.5, 20, -9, 2.5, 10, -6,
                               -1, -3.5, 0]).reshape(2, 2, 3, 3),
                     hint="dw1 comes from the first convolution's backward pass with da = relu_backward(dh).")
grading.expect_close("db1", grads[2], np.array([-5.0,
                                                2.0]), hint="db1 = da summed over the images and positions.")
grading.expect_close("dw2", grads[3],
                     np.array([-20, -36.5, 3, -22.5, -2, 11, -5, 6, 3, 0.25, 1.25, -4, -14, -8.5, -3.25,
                               11.75, -2.5, -5, -28, -7.5, -10, -4.5, -11, -13.5, -27.5, 2, 1.5, 0.25, 4,
                               -16.5, -16.5, 8.5, -7.75, -4, -5, -0.5]).reshape(2, 2, 3, 3),
                     hint="dw2 comes from the second convolution's backward pass with "
                     "ds = dout * (x + f > 0).")
grading.expect_close("db2", grads[4], np.array([-8.0,
                                                -7.0]), hint="db2 = ds summed over the images and positions.")
# Gradient check (float64, relative error below 1e-7) on inputs (seed 10) without nearly cancelling
# gradient entries (see exercise 1b's test) and with no pre-activation within 1e-5 of a ReLU's kink.
rng = np.random.default_rng(10)
inputs = {"x": rng.standard_normal((2, 3, 4, 5)), "w1": 0.5 * rng.standard_normal((3, 3, 3, 3)),
          "b1": rng.standard_normal(3), "w2": 0.5 * rng.standard_normal((3, 3, 3, 3)),
          "b2": rng.standard_normal(3)}
check_pair(residual_block_forward, residual_block_backward, inputs, tol=1e-7,
           context="residual_block_backward")
print("ok: gradient check: dx, dw1, db1, dw2 and db2 within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "residual_block_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a05.residual_block_backward", residual_block_forward, residual_block_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# A convolution is an affine layer with local receptive fields and shared weights: written as one matrix
# it is, filter by channel, block-Toeplitz with Toeplitz blocks (stride 1) and almost all zeros. Computing
# it as loops is the definition; im2col turns it into one matrix product per image, orders of magnitude
# faster, and its backward pass is the affine backward pass followed by the adjoint `col2im`, where
# overlapping windows add their gradients. Max pooling routes each gradient to its window's winner.
# Stacked, these give a small CNN that, with two thirds of an MLP's parameters, is no better than the MLP
# on centred digits (97.3% against 97.7% in this run) but tolerates shifts far better; the residual block
# adds an identity path so that very deep stacks still train.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a05_convnets.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a05_convnets.ipynb")
