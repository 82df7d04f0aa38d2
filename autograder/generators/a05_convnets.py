# ruff: noqa: E501  (the cell texts are dedented when written, so the notebook lines are short)
"""Writes solutions/a05_convnets/a05_convnets.ipynb (assignment 05, lectures 001, 002 and 004).

Run ``python -m autograder.generators.a05_convnets``; the expected values of the visible tests are
computed here, once, from the reference library (course.layers.convolution, course.layers.pooling, course.layers.residual)
and written into the notebook as literals. The committed notebook is the source of truth; this script
only keeps it easy to rebuild.

The notebook never calls the library functions of this assignment: in the grading kernel they raise
NotImplementedError. Its small CNN is built from the student's own convolution and pooling pairs (thin
Module wrappers defined in the notebook) together with earlier assignments' pieces that do work there:
course.layers.affine.Linear, course.layers.activations.ReLU, course.training.optim (Adam) and course.training.train.
"""

from __future__ import annotations

import textwrap

import numpy as np

from autograder.cells import code, generator_main, hidden_test, literal, markdown, solution, visible_test
from course.layers import convolution, pooling, residual

ASSIGNMENT = "a05_convnets"

# Fixed small inputs of the visible tests: small integers, so every expected value is exact.
_rng = np.random.default_rng(5)
X_CONV = _rng.integers(-2, 3, (2, 2, 5, 5)).astype(np.float64)  # (N, C, H, W)
W_CONV = _rng.integers(-1, 2, (3, 2, 3, 3)).astype(np.float64)  # (F, C, HH, WW)
B_CONV = np.array([1.0, -1.0, 0.5])  # (F,)
DOUT_CONV = _rng.integers(-2, 3, (2, 3, 3, 3)).astype(np.float64)  # (N, F, H', W') for stride 2, pad 1
X_COLS = _rng.integers(-3, 4, (2, 2, 4, 5)).astype(np.float64)  # im2col with HH=3, WW=2, stride 2, pad 1
COLS_C = _rng.integers(-2, 3, (2, 12, 6)).astype(np.float64)  # a (N, C HH WW, H' W') gradient for col2im
X_POOL = (np.random.default_rng(7).permutation(32).reshape(1, 2, 4, 4) - 16).astype(np.float64)  # distinct
DOUT_POOL = np.array([[[[1.0, -2.0], [3.0, 0.5]], [[-1.0, 2.0], [0.25, 4.0]]]])  # (1, 2, 2, 2)
X_RES = _rng.integers(-2, 3, (2, 2, 4, 4)).astype(np.float64)
W1_RES = _rng.integers(-1, 2, (2, 2, 3, 3)).astype(np.float64) / 2
B1_RES = np.array([0.5, -0.25])
W2_RES = _rng.integers(-1, 2, (2, 2, 3, 3)).astype(np.float64) / 2
B2_RES = np.array([-0.5, 0.25])
DOUT_RES = _rng.integers(-2, 3, (2, 2, 4, 4)).astype(np.float64)

# The CNN exercise: the training settings and the accuracy it must reach (the reference gets 0.97 to 0.99).
CNN_EPOCHS = 10
CNN_MIN_ACCURACY = 0.94


def forward_hidden(fn: str, ref: str, make_inputs: str, describe: str, trials: int = 3) -> str:
    """Hidden-test source for a forward pass: compare ``out`` (not the cache) with the reference's."""
    return f"""
{textwrap.dedent(make_inputs).strip()}

ref_forward = grading.reference("{ref}")
for trial in range({trials}):
    inputs = _inputs(np.random.default_rng(grading.check_seed("{ref}", trial)))
    copies = {{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}}
    got = {fn}(**copies)
    assert isinstance(got, tuple) and len(got) == 2, "{fn} must return a pair (out, cache)."
    for k in inputs:
        if isinstance(inputs[k], np.ndarray):
            assert np.array_equal(copies[k], inputs[k]), "{fn} modified its input " + k + " in place."
    grading.check_with_reference("{fn}", got[0], ref_forward(**inputs)[0], what="output 'out'",
                                 inputs={describe})
print("ok: {fn} agrees with the reference on {trials} random input sets")
"""


# Random convolution inputs of the hidden tests: every stride and padding from 1..3 and 0..2, filters
# that need not be square, images small enough for the loops of the naive version.
CONV_INPUTS = """
def _inputs(rng):
    n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
    hh, ww = (int(v) for v in rng.integers(1, 4, size=2))
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h = int(rng.integers(max(1, hh - 2 * pad), 8))  # the filter must fit in the padded image
    w = int(rng.integers(max(1, ww - 2 * pad), 8))
    return {"x": rng.standard_normal((n, c, h, w)), "w": rng.standard_normal((f, c, hh, ww)),
            "b": rng.standard_normal(f), "stride": stride, "pad": pad}
"""
CONV_DESCRIBE = "f\"x of shape {inputs['x'].shape}, w of shape {inputs['w'].shape}, stride={inputs['stride']}, pad={inputs['pad']}\""


def conv_pair_hidden(kind: str, trials: int) -> str:
    """Hidden-test source for a convolution pair (conv_forward_<kind> / conv_backward_<kind>).

    ``grading.check_forward_backward`` finds the reference pair as ``<prefix>_forward`` / ``<prefix>_backward``,
    which the convolution's names (``conv_forward_naive``) do not follow, so this spells out the same check:
    forward outputs compared, then both backward passes on one seeded ``dout``, each with its own cache;
    then central-difference gradient checks of the student's pair on random stride and padding.
    """
    fwd, bwd = f"conv_forward_{kind}", f"conv_backward_{kind}"
    return (
        CONV_INPUTS
        + f"""
ref_forward = grading.reference("layers.convolution.{fwd}")
ref_backward = grading.reference("layers.convolution.{bwd}")
for trial in range({trials}):
    seed = grading.check_seed("layers.convolution.conv_{kind}", trial)
    inputs = _inputs(np.random.default_rng(seed))
    where = {CONV_DESCRIBE}
    got = {fwd}(**{{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}})
    assert isinstance(got, tuple) and len(got) == 2, "{fwd} must return a pair (out, cache)."
    expected = ref_forward(**inputs)
    grading.check_with_reference("{fwd}", got[0], expected[0], what="output 'out'", inputs=where)
    dout = np.random.default_rng(seed + 1).standard_normal(expected[0].shape)
    grads = {bwd}(dout.copy(), got[1])
    assert isinstance(grads, tuple) and len(grads) == 3, "{bwd} must return (dx, dw, db)."
    for name, g, e in zip(("dx", "dw", "db"), grads, ref_backward(dout.copy(), expected[1])):
        grading.check_with_reference("{bwd}", g, e, what=f"output '{{name}}'", inputs=where + ", random dout")
for trial in range(2):
    inputs = _inputs(np.random.default_rng(grading.check_seed("a05.conv_{kind}_gradcheck", trial)))
    forward = functools.partial({fwd}, stride=inputs["stride"], pad=inputs["pad"])
    check_pair(forward, {bwd}, {{k: inputs[k] for k in ("x", "w", "b")}}, tol=1e-5,
               context=f"{bwd}, stride {{inputs['stride']}}, pad {{inputs['pad']}}")
print("ok: {bwd} agrees with the reference on {trials} random input sets and passes 2 gradient checks")
"""
    )


POOL_INPUTS = """
def _inputs(rng):
    size, stride = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    shape = (n, c, int(rng.integers(size, 9)), int(rng.integers(size, 9)))
    # Distinct values at least 0.05 apart: no ties, so max is differentiable and the winner unambiguous.
    x = (rng.permutation(int(np.prod(shape))).reshape(shape) + rng.uniform(0, 0.5, shape)) / 10
    return {"x": x, "size": size, "stride": stride}
"""

RES_INPUTS = """
def _inputs(rng):
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    h, w = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    return {"x": rng.standard_normal((n, c, h, w)),
            "w1": 0.5 * rng.standard_normal((c, c, 3, 3)), "b1": rng.standard_normal(c),
            "w2": 0.5 * rng.standard_normal((c, c, 3, 3)), "b2": rng.standard_normal(c)}
"""


def cells() -> list:  # noqa: PLR0915  (one notebook, written top to bottom)
    c = []
    c.append(
        markdown(
            r"""
            # Assignment 05: convolutional nets

            A convolution layer is an affine layer with two constraints: each output unit looks only at a small
            **receptive field** of the image (local connectivity), and every position uses the same filter (weight
            sharing). Those constraints cut the parameters by orders of magnitude and build in the fact that a
            pattern means the same thing wherever it appears in the image.

            You will implement, in this notebook:

            1. the convolution forward and backward pass with loops, with stride and zero padding (the definition);
            2. `im2col` and its adjoint `col2im`, and the convolution as one matrix multiply per image (the
               "convolution optimisation" every library uses on CPUs), forward and backward;
            3. the convolution written as one dense, structured matrix (lecture 004: "can an MLP reproduce a ConvNet?"),
               and check that it gives the same output;
            4. max pooling, forward and backward;
            5. a small CNN (conv-relu-pool twice, then an affine layer) trained on the 8x8 digits from your own pieces;
            6. the residual block of ResNets, forward and backward.

            Along the way you will time the loops against `im2col`, look at the learned filters and the feature maps
            of one digit, and compare the CNN with an MLP, also on digits shifted by a pixel.

            **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
            answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
            a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
            the reference on fresh random inputs (random shapes, strides and paddings, gradient checks included)
            when the course grader runs it. Both carry points. Do not edit, copy or delete test cells: the grader
            restores them. Use NumPy and the library of earlier assignments (`course.layers.activations`, `course.layers.affine`,
            `course.training.optim`, `course.training.train`); in the grader the library functions you are asked to write here
            (`course.layers.convolution`, `course.layers.pooling`, `course.layers.residual`) raise `NotImplementedError`.

            Shapes use the course's letters: N batch, C input channels, H and W image height and width, F filters,
            HH and WW filter height and width, H' and W' output height and width.
            """
        )
    )
    c.append(
        code(
            """
            import functools
            import time

            import numpy as np
            import matplotlib.pyplot as plt

            from course import grading
            from course.layers.activations import ReLU, relu_backward, relu_forward
            from course.layers.affine import Linear
            from course.data import load_digits
            from course.core.gradcheck import check_pair
            from course.layers.losses import softmax_cross_entropy
            from course.core.module import Module, Sequential
            from course.training.optim import Optimizer, adam
            from course.training.train import accuracy, train
            """
        )
    )

    # ---- 1. naive convolution ------------------------------------------------------------------------
    out_s1, _ = convolution.conv_forward_naive(X_CONV, W_CONV, B_CONV, 1, 0)
    out_s2, cache_s2 = convolution.conv_forward_naive(X_CONV, W_CONV, B_CONV, 2, 1)
    out_2x2, _ = convolution.conv_forward_naive(X_CONV, W_CONV[:, :, :2, :2], B_CONV, 2, 0)
    c.append(
        markdown(
            r"""
            ## 1. The convolution, with loops

            The input is a batch of images `x` of shape `(N, C, H, W)`; the layer holds `F` filters `w` of shape
            `(F, C, HH, WW)` (each spans **all** `C` input channels) and one bias per filter, `b` of shape `(F,)`.
            First pad `x` with `pad` zeros on each side of its height and width, giving `xpad` of shape
            `(N, C, H + 2 pad, W + 2 pad)` (`np.pad` does it). Output position $(i, j)$ of filter $f$ is the dot product
            of $w_f$ with the window of `xpad` that starts at row $i s$ and column $j s$, $s$ = `stride`:

            $$\text{out}[n, f, i, j] = b_f + \sum_{c=0}^{C-1} \sum_{p=0}^{HH-1} \sum_{q=0}^{WW-1} w[f, c, p, q]\;
            \text{xpad}[n, c, i s + p, j s + q],$$

            $$H' = 1 + \left\lfloor \frac{H + 2\,\text{pad} - HH}{s} \right\rfloor, \qquad
            W' = 1 + \left\lfloor \frac{W + 2\,\text{pad} - WW}{s} \right\rfloor .$$

            The floor means that when the windows do not tile the padded image exactly, the last rows or columns that
            no window reaches are ignored (as in PyTorch). The filter is not flipped: deep-learning libraries compute
            this *cross-correlation* and call it convolution.

            **Exercise 1a.** `conv_forward_naive(x, w, b, stride=1, pad=0)` returns `(out, cache)` with `out` of shape
            `(N, F, H', W')`. Loop over `n`, `f`, `i`, `j`; take each window as one slice `xpad[n, :, rows, cols]` of
            shape `(C, HH, WW)` and multiply it element-wise with `w[f]`.
            """
        )
    )
    c.append(
        solution(
            "conv_forward_naive",
            '''
            def conv_forward_naive(x, w, b, stride=1, pad=0):
                """Convolution with loops. x: (N, C, H, W), w: (F, C, HH, WW), b: (F,). Returns (out (N, F, H', W'), cache)."""
                ### BEGIN SOLUTION
                N, C, H, W = x.shape
                F, _, HH, WW = w.shape
                Ho = 1 + (H + 2 * pad - HH) // stride
                Wo = 1 + (W + 2 * pad - WW) // stride
                xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H + 2 pad, W + 2 pad)
                out = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
                for n in range(N):
                    for f in range(F):
                        for i in range(Ho):
                            for j in range(Wo):
                                window = xpad[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]  # (C, HH, WW)
                                out[n, f, i, j] = np.sum(window * w[f]) + b[f]
                cache = (x, w, b, stride, pad)
                return out, cache
                ### END SOLUTION
            ''',
        )
    )
    w_delta = np.zeros_like(W_CONV)
    w_delta[0, 0, 0, 0] = 1.0
    c.append(
        visible_test(
            "conv_forward_naive",
            f"""
            x = {literal(X_CONV)}
            w = {literal(W_CONV)}
            b = {literal(B_CONV)}
            x_before = x.copy()
            result = conv_forward_naive(x, w, b, stride=1, pad=0)
            assert isinstance(result, tuple) and len(result) == 2, "conv_forward_naive must return a pair (out, cache)."
            out, _ = result
            grading.expect_shape("out for x (2, 2, 5, 5), w (3, 2, 3, 3), stride 1, pad 0", out, (2, 3, 3, 3),
                                 hint="(N, F, H', W') with H' = 1 + (H + 2 pad - HH) // stride = 1 + (5 - 3) // 1 = 3.")
            grading.expect_close("x after conv_forward_naive", x, x_before, rtol=0, atol=0,
                                 hint="do not modify x in place; np.pad returns a new array.")
            # Isolation case: zero filters leave only the bias, b[f] at every position of output channel f.
            out_b, _ = conv_forward_naive(x, np.zeros_like(w), b)
            grading.expect_close("out with w = 0 (bias term alone)", out_b, np.broadcast_to(b[None, :, None, None], (2, 3, 3, 3)),
                                 hint="filter f adds its own bias b[f] once per output position (not once per channel or per filter entry).")
            # Isolation case: a filter that is 1 at (c=0, p=0, q=0) copies the top-left pixel of every window.
            w_delta = {literal(w_delta)}
            out_d, _ = conv_forward_naive(x, w_delta, np.zeros(3))
            grading.expect_close("out[:, 0] for a filter that is 1 at (c=0, p=0, q=0) and 0 elsewhere", out_d[:, 0], x[:, 0, :3, :3],
                                 hint="window (i, j) starts at row i * stride and column j * stride of xpad; do not flip the filter.")
            grading.expect_close("out (stride 1, pad 0)", out, {literal(out_s1)},
                                 hint="sum over the channels c and the filter positions p, q of w[f, c, p, q] * xpad[n, c, i*stride + p, j*stride + q], plus b[f].")
            out_s2, _ = conv_forward_naive(x, w, b, stride=2, pad=1)
            grading.expect_shape("out with stride 2, pad 1", out_s2, (2, 3, 3, 3),
                                 hint="H' = 1 + (5 + 2 * 1 - 3) // 2 = 3.")
            grading.expect_close("out with stride 2, pad 1", out_s2, {literal(out_s2)},
                                 hint="pad x with zeros on all four sides of H and W (np.pad), then step the windows by stride.")
            out_f, _ = conv_forward_naive(x, w[:, :, :2, :2].copy(), b, stride=2, pad=0)
            grading.expect_shape("out for 2x2 filters, stride 2, pad 0 on a 5x5 image", out_f, (2, 3, 2, 2),
                                 hint="H' = 1 + (5 - 2) // 2 = 2: the floor drops the last row and column, which no window reaches.")
            grading.expect_close("out for 2x2 filters, stride 2, pad 0", out_f, {literal(out_2x2)},
                                 hint="the window size comes from w.shape[2:], not a fixed 3x3.")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "conv_forward_naive",
            forward_hidden(
                "conv_forward_naive", "layers.convolution.conv_forward_naive", CONV_INPUTS, CONV_DESCRIBE
            ),
            points=3,
        )
    )

    dout_one = np.zeros_like(DOUT_CONV)
    dout_one[0, 1, 1, 1] = 1.0
    dx_one, dw_one, db_one = convolution.conv_backward_naive(dout_one, cache_s2)
    dx_s2, dw_s2, db_s2 = convolution.conv_backward_naive(DOUT_CONV, cache_s2)
    c.append(
        markdown(
            r"""
            Backward. Output position $(n, f, i, j)$ read one window of `xpad` through $w_f$, so with
            $g = \text{dout}[n, f, i, j]$ it sends

            - $g \cdot \text{window}$ to $dw_f$ (summed over all $n, i, j$),
            - $g \cdot w_f$ back to that window of $d\text{xpad}$ (summed over all $f, i, j$),
            - $g$ to $db_f$: $\;db_f = \sum_{n, i, j} \text{dout}[n, f, i, j]$.

            Windows overlap when the stride is smaller than the filter, so a pixel of $d\text{xpad}$ collects
            gradients from several windows: **accumulate** with `+=`. Finally drop the padding border,
            `dx = dxpad[:, :, pad:pad + H, pad:pad + W]` (the padding is not an input).

            **Exercise 1b.** `conv_backward_naive(dout, cache)` returns `(dx, dw, db)`, shaped like `x`, `w` and `b`.
            """
        )
    )
    c.append(
        solution(
            "conv_backward_naive",
            '''
            def conv_backward_naive(dout, cache):
                """dout: (N, F, H', W'). Returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,)."""
                ### BEGIN SOLUTION
                x, w, b, stride, pad = cache
                N, C, H, W = x.shape
                F, _, HH, WW = w.shape
                Ho, Wo = dout.shape[2], dout.shape[3]
                xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                dxpad = np.zeros_like(xpad)
                dw = np.zeros_like(w)
                db = dout.sum(axis=(0, 2, 3))  # (F,): the bias was added at every (n, i, j)
                for n in range(N):
                    for f in range(F):
                        for i in range(Ho):
                            for j in range(Wo):
                                rows = slice(i * stride, i * stride + HH)
                                cols = slice(j * stride, j * stride + WW)
                                dxpad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                                dw[f] += dout[n, f, i, j] * xpad[n, :, rows, cols]
                dx = dxpad[:, :, pad : pad + H, pad : pad + W]  # (N, C, H, W)
                return dx, dw, db
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "conv_backward_naive",
            f"""
            x = {literal(X_CONV)}
            w = {literal(W_CONV)}
            b = {literal(B_CONV)}
            _, cache = conv_forward_naive(x, w, b, stride=2, pad=1)
            # Isolation case: dout is 1 at output (n=0, f=1, i=1, j=1) and 0 elsewhere.
            dout_one = np.zeros((2, 3, 3, 3))
            dout_one[0, 1, 1, 1] = 1.0
            grads = conv_backward_naive(dout_one, cache)
            assert isinstance(grads, tuple) and len(grads) == 3, "conv_backward_naive must return (dx, dw, db)."
            dx1, dw1, db1 = grads
            grading.expect_shape("dx", dx1, (2, 2, 5, 5), hint="dx has the shape of x: drop the padding border of dxpad.")
            grading.expect_shape("dw", dw1, (3, 2, 3, 3), hint="dw has the shape of w.")
            grading.expect_shape("db", db1, (3,), hint="db has the shape of b: sum dout over axes (0, 2, 3).")
            grading.expect_close("db for dout = 1 at (n=0, f=1, i=1, j=1)", db1, {literal(db_one)},
                                 hint="db[f] sums dout[n, f, i, j] over n, i and j.")
            grading.expect_close("dw for dout = 1 at (n=0, f=1, i=1, j=1)", dw1, {literal(dw_one)},
                                 hint="that output read the window xpad[0, :, 2:5, 2:5] (stride 2, pad 1) through w[1]: dw[1] is that window, dw[0] and dw[2] are 0.")
            grading.expect_close("dx for dout = 1 at (n=0, f=1, i=1, j=1)", dx1, {literal(dx_one)},
                                 hint="w[1] goes back to the window rows 2..4, columns 2..4 of dxpad, i.e. rows and columns 1..3 of dx after removing the padding.")
            dout = {literal(DOUT_CONV)}
            dout_before = dout.copy()
            dx, dw, db = conv_backward_naive(dout, cache)
            grading.expect_close("dout after conv_backward_naive", dout, dout_before, rtol=0, atol=0, hint="do not modify dout in place.")
            grading.expect_close("db", db, {literal(db_s2)}, hint="db = dout.sum(axis=(0, 2, 3)).")
            grading.expect_close("dw", dw, {literal(dw_s2)}, hint="dw[f] += dout[n, f, i, j] * window, accumulated over n, i, j.")
            grading.expect_close("dx", dx, {literal(dx_s2)},
                                 hint="dxpad[n, :, window] += dout[n, f, i, j] * w[f], accumulated (+=) where windows overlap, then cropped.")
            # Gradient check against central differences, on a case where windows overlap (stride 1 < 3).
            # Threshold 1e-5, not 1e-7: a gradient entry sums dozens of products of random sign, which can cancel to
            # ~1e-4, and the round-off of the central difference (~1e-11) is then up to ~1e-6 of it for a correct
            # backward pass. A wrong term still gives errors of order 0.1 to 1.
            rng = np.random.default_rng(0)
            errors = check_pair(functools.partial(conv_forward_naive, stride=1, pad=1), conv_backward_naive,
                                {{"x": rng.standard_normal((2, 2, 4, 4)), "w": rng.standard_normal((3, 2, 3, 3)),
                                  "b": rng.standard_normal(3)}}, tol=1e-5, context="conv_backward_naive, stride 1, pad 1")
            print("ok: gradient check (stride 1, pad 1), relative errors", {{k: f"{{v:.1e}}" for k, v in errors.items()}})
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "conv_backward_naive",
            conv_pair_hidden("naive", trials=3),
            points=3,
        )
    )

    # ---- 2. im2col ------------------------------------------------------------------------------------
    x_small = np.arange(9.0).reshape(1, 1, 3, 3)
    cols_small = convolution.im2col(x_small, 2, 2)
    cols_s2 = convolution.im2col(X_COLS, 3, 2, 2, 1)
    c.append(
        markdown(
            r"""
            ## 2. The convolution as a matrix multiply: im2col

            The loops above run $N F H' W'$ tiny dot products in Python. **im2col** ("image to columns") copies every
            receptive field into a column of a matrix once; then all the dot products of one image are a single
            matrix product, which NumPy hands to an optimised BLAS routine:

            $$\text{cols}[n, (c, p, q), (i, j)] = \text{xpad}[n, c, i s + p, j s + q], \qquad
            \text{out}[n] = W_{\text{rows}}\, \text{cols}[n] + b, \quad W_{\text{rows}} = \texttt{w.reshape(F, -1)}.$$

            Shapes: `cols` is `(N, K, P)` with $K = C \cdot HH \cdot WW$ (one row per filter entry) and $P = H' W'$ (one column
            per output position). Row $(c, p, q)$ is row number $c \cdot HH \cdot WW + p \cdot WW + q$, the order in which
            `w.reshape(F, -1)` lays out a filter; column $(i, j)$ is column $i W' + j$, so that the product
            `(F, K) @ (K, P)` reshapes to `(F, H', W')` directly.

            How to fill it without looping over windows: for a **fixed filter offset** $(p, q)$, entry $(p, q)$ of every
            window is one strided slice of `xpad`,
            `xpad[:, :, p : p + s (H' - 1) + 1 : s, q : q + s (W' - 1) + 1 : s]`, of shape `(N, C, H', W')`. So allocate
            `cols` as `(N, C, HH, WW, H', W')`, fill it with $HH \cdot WW$ slice copies, and reshape to `(N, K, P)`.

            **Exercise 2a.** `im2col(x, HH, WW, stride=1, pad=0)` returns `cols` of shape `(N, C HH WW, H' W')`, in `x`'s dtype.
            """
        )
    )
    c.append(
        solution(
            "im2col",
            '''
            def im2col(x, HH, WW, stride=1, pad=0):
                """Every HH x WW receptive field of x as a column. x: (N, C, H, W). Returns cols: (N, C * HH * WW, H' * W')."""
                ### BEGIN SOLUTION
                N, C, H, W = x.shape
                Ho = 1 + (H + 2 * pad - HH) // stride
                Wo = 1 + (W + 2 * pad - WW) // stride
                xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                cols = np.empty((N, C, HH, WW, Ho, Wo), dtype=x.dtype)
                for p in range(HH):
                    for q in range(WW):
                        # Entry (p, q) of every window: one strided slice, (N, C, H', W').
                        cols[:, :, p, q] = xpad[:, :, p : p + stride * (Ho - 1) + 1 : stride, q : q + stride * (Wo - 1) + 1 : stride]
                return cols.reshape(N, C * HH * WW, Ho * Wo)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "im2col",
            f"""
            x = np.arange(9.0).reshape(1, 1, 3, 3)
            cols = im2col(x, 2, 2)
            grading.expect_shape("im2col(x, 2, 2) for x (1, 1, 3, 3)", cols, (1, 4, 4),
                                 hint="(N, C * HH * WW, H' * W') = (1, 1 * 2 * 2, 2 * 2).")
            grading.expect_close("column 0 of im2col(x, 2, 2), window (0, 0)", cols[0, :, 0], np.array([0.0, 1.0, 3.0, 4.0]),
                                 hint="column i * W' + j holds window (i, j) read row by row: x[0, 0, 0:2, 0:2].ravel() = [0, 1, 3, 4].")
            grading.expect_close("im2col(x, 2, 2)", cols, {literal(cols_small)},
                                 hint="row p * WW + q holds entry (p, q) of every window; column i * W' + j is window (i, j).")
            x2 = {literal(X_COLS)}
            cols2 = im2col(x2, 3, 2, stride=2, pad=1)
            grading.expect_shape("im2col(x, 3, 2, stride=2, pad=1) for x (2, 2, 4, 5)", cols2, (2, 12, 6),
                                 hint="K = C * HH * WW = 2 * 3 * 2 = 12 rows; P = H' * W' = 2 * 3 columns with H' = 1 + (4 + 2 - 3) // 2.")
            grading.expect_close("im2col(x, 3, 2, stride=2, pad=1)", cols2, {literal(cols_s2)},
                                 hint="rows are ordered (c, p, q), channel first, as in w.reshape(F, -1); windows step by stride over the zero-padded x.")
            cols32 = im2col(x2.astype(np.float32), 3, 2, stride=2, pad=1)
            grading.expect_equal("dtype of im2col for a float32 x", str(cols32.dtype), "float32",
                                 hint="allocate cols with dtype=x.dtype (training runs in float32).")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "im2col",
            """
            def _inputs(rng):
                n, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
                hh, ww = (int(v) for v in rng.integers(1, 5, size=2))
                stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
                h, w = int(rng.integers(max(1, hh - 2 * pad), 10)), int(rng.integers(max(1, ww - 2 * pad), 10))
                return {"x": rng.standard_normal((n, c, h, w)), "HH": hh, "WW": ww, "stride": stride, "pad": pad}

            grading.check_function(im2col, "layers.convolution.im2col", _inputs, trials=4, output_names=("cols",))
            """,
            points=2,
        )
    )

    counts = convolution.col2im(np.ones((1, 9, 4)), (1, 1, 4, 4), 3, 3)
    counts_pad = convolution.col2im(np.ones((1, 9, 16)), (1, 1, 4, 4), 3, 3, 1, 1)
    dx_cols = convolution.col2im(COLS_C, X_COLS.shape, 3, 2, 2, 1)
    c.append(
        markdown(
            r"""
            **col2im** goes back. In the backward pass we get `dcols`, the gradient of every column entry; each entry was
            a copy of one pixel of `xpad`, so it must be **added** back to that pixel. A pixel that sat in several
            windows receives the sum of their gradients, and entries copied from the padding are dropped (the padding
            is not an input). Formally `col2im` is the adjoint (transpose) of `im2col`:
            $\langle \text{im2col}(x), \text{cols} \rangle = \langle x, \text{col2im}(\text{cols}) \rangle$ for all $x$, cols.

            The same loop over filter offsets $(p, q)$ works, with `+=` into a zero `dxpad` instead of a copy (within one
            offset the target pixels are distinct, so the strided `+=` is exact); crop the padding at the end.

            **Exercise 2b.** `col2im(cols, x_shape, HH, WW, stride=1, pad=0)` returns `dx` of shape `x_shape = (N, C, H, W)`.
            """
        )
    )
    c.append(
        solution(
            "col2im",
            '''
            def col2im(cols, x_shape, HH, WW, stride=1, pad=0):
                """The adjoint of im2col. cols: (N, C * HH * WW, H' * W'), x_shape = (N, C, H, W). Returns dx: (N, C, H, W)."""
                ### BEGIN SOLUTION
                N, C, H, W = x_shape
                Ho = 1 + (H + 2 * pad - HH) // stride
                Wo = 1 + (W + 2 * pad - WW) // stride
                cols6 = cols.reshape(N, C, HH, WW, Ho, Wo)
                dxpad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
                for p in range(HH):
                    for q in range(WW):
                        dxpad[:, :, p : p + stride * (Ho - 1) + 1 : stride, q : q + stride * (Wo - 1) + 1 : stride] += cols6[:, :, p, q]
                return dxpad[:, :, pad : pad + H, pad : pad + W]  # (N, C, H, W): the padding is not an input
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "col2im",
            f"""
            ones = np.ones((1, 9, 4))
            counts = col2im(ones, (1, 1, 4, 4), 3, 3)
            grading.expect_shape("col2im(ones, (1, 1, 4, 4), 3, 3)", counts, (1, 1, 4, 4), hint="dx has the shape x_shape.")
            grading.expect_close("col2im of all ones (how many 3x3 windows cover each pixel of a 4x4 image)", counts,
                                 {literal(counts)},
                                 hint="each pixel receives one entry per window that contains it: add with +=, do not assign.")
            grading.expect_close("cols after col2im", ones, np.ones((1, 9, 4)), rtol=0, atol=0, hint="do not modify cols in place.")
            counts_pad = col2im(np.ones((1, 9, 16)), (1, 1, 4, 4), 3, 3, stride=1, pad=1)
            grading.expect_shape("col2im with pad 1", counts_pad, (1, 1, 4, 4),
                                 hint="return (N, C, H, W): crop the padding border of dxpad.")
            grading.expect_close("col2im of all ones with pad 1 (windows covering each pixel)", counts_pad, {literal(counts_pad)},
                                 hint="with pad 1 every 3x3 window centred on a pixel exists: entries that fell in the padding are dropped.")
            cols = {literal(COLS_C)}
            grading.expect_close("col2im(cols, (2, 2, 4, 5), 3, 2, stride=2, pad=1)", col2im(cols, (2, 2, 4, 5), 3, 2, stride=2, pad=1),
                                 {literal(dx_cols)},
                                 hint="undo im2col's layout: cols.reshape(N, C, HH, WW, H', W'), then add entry (p, q) of every window to the strided slice of dxpad it came from.")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "col2im",
            """
            def _inputs(rng):
                n, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
                hh, ww = (int(v) for v in rng.integers(1, 5, size=2))
                stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
                h, w = int(rng.integers(max(1, hh - 2 * pad), 10)), int(rng.integers(max(1, ww - 2 * pad), 10))
                ho, wo = 1 + (h + 2 * pad - hh) // stride, 1 + (w + 2 * pad - ww) // stride
                return {"cols": rng.standard_normal((n, c * hh * ww, ho * wo)), "x_shape": (n, c, h, w),
                        "HH": hh, "WW": ww, "stride": stride, "pad": pad}

            grading.check_function(col2im, "layers.convolution.col2im", _inputs, trials=4, output_names=("dx",))
            # The adjoint identity <im2col(x), cols> = <x, col2im(cols)>, with the reference im2col.
            ref_im2col = grading.reference("layers.convolution.im2col")
            for trial in range(2):
                inputs = _inputs(np.random.default_rng(grading.check_seed("a05.col2im_adjoint", trial)))
                x = np.random.default_rng(trial).standard_normal(inputs["x_shape"])
                lhs = float(np.sum(ref_im2col(x, inputs["HH"], inputs["WW"], inputs["stride"], inputs["pad"]) * inputs["cols"]))
                rhs = float(np.sum(x * col2im(**inputs)))
                grading.check_with_reference("col2im", rhs, lhs, what="<x, col2im(cols)>",
                                             inputs="the adjoint identity <im2col(x), cols> = <x, col2im(cols)>")
            print("ok: col2im is the adjoint of im2col on 2 random inputs")
            """,
            points=3,
        )
    )

    out32 = convolution.conv_forward_im2col(X_CONV, W_CONV, B_CONV, 2, 1)[0]
    c.append(
        markdown(
            r"""
            **The convolution through im2col.** With $W_{\text{rows}}$ = `w.reshape(F, K)` and `cols = im2col(x, HH, WW, stride, pad)`:

            $$\text{out}[n] = W_{\text{rows}}\, \text{cols}[n] + b \quad (F, P) \;\rightarrow\; \text{reshape to } (F, H', W').$$

            NumPy's `@` broadcasts `(F, K) @ (N, K, P)` to one product per image, giving `(N, F, P)` at once; add
            `b[:, None]` and reshape to `(N, F, H', W')`. Keep `cols` in the cache: the backward pass needs it.

            **Exercise 2c.** `conv_forward_im2col(x, w, b, stride=1, pad=0)` returns `(out, cache)`, `out` exactly as
            `conv_forward_naive` computes it (in `x`'s dtype).
            """
        )
    )
    c.append(
        solution(
            "conv_forward_im2col",
            '''
            def conv_forward_im2col(x, w, b, stride=1, pad=0):
                """out[n] = w.reshape(F, -1) @ im2col(x)[n] + b. x: (N, C, H, W), w: (F, C, HH, WW), b: (F,). Returns (out (N, F, H', W'), cache)."""
                ### BEGIN SOLUTION
                N, C, H, W = x.shape
                F, _, HH, WW = w.shape
                Ho = 1 + (H + 2 * pad - HH) // stride
                Wo = 1 + (W + 2 * pad - WW) // stride
                cols = im2col(x, HH, WW, stride, pad)  # (N, K, P)
                out = w.reshape(F, -1) @ cols + b[:, None]  # (F, K) @ (N, K, P) -> (N, F, P)
                cache = (x.shape, w, cols, stride, pad)
                return out.reshape(N, F, Ho, Wo), cache
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "conv_forward_im2col",
            f"""
            x = {literal(X_CONV)}
            w = {literal(W_CONV)}
            b = {literal(B_CONV)}
            result = conv_forward_im2col(x, w, b, stride=2, pad=1)
            assert isinstance(result, tuple) and len(result) == 2, "conv_forward_im2col must return a pair (out, cache)."
            out, _ = result
            grading.expect_shape("out with stride 2, pad 1", out, (2, 3, 3, 3), hint="reshape the (N, F, H' * W') product to (N, F, H', W').")
            out_b, _ = conv_forward_im2col(x, np.zeros_like(w), b, stride=2, pad=1)
            grading.expect_close("out with w = 0 (bias term alone)", out_b, np.broadcast_to(b[None, :, None, None], (2, 3, 3, 3)),
                                 hint="add b[:, None] to the (N, F, P) product: one bias per filter, broadcast over positions.")
            grading.expect_close("out with stride 2, pad 1", out, {literal(out32)},
                                 hint="w.reshape(F, -1) @ cols gives (N, F, P); the rows of cols must be in the (c, p, q) order of w.reshape(F, -1).")
            out32, _ = conv_forward_im2col(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), stride=2, pad=1)
            grading.expect_equal("dtype of out for float32 inputs", str(out32.dtype), "float32",
                                 hint="keep the input's dtype: do not create float64 arrays (np.zeros defaults to float64).")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "conv_forward_im2col",
            forward_hidden(
                "conv_forward_im2col",
                "layers.convolution.conv_forward_im2col",
                CONV_INPUTS,
                CONV_DESCRIBE,
                trials=4,
            ),
            points=2,
        )
    )

    dx_i, dw_i, db_i = convolution.conv_backward_im2col(
        DOUT_CONV, convolution.conv_forward_im2col(X_CONV, W_CONV, B_CONV, 2, 1)[1]
    )
    c.append(
        markdown(
            r"""
            Backward through $\text{out}[n] = W_{\text{rows}}\, \text{cols}[n] + b$ is the affine backward pass of assignment 02,
            once per image, followed by `col2im`. With `d = dout.reshape(N, F, P)`:

            $$dW_{\text{rows}} = \sum_n d[n]\, \text{cols}[n]^\top \ (F, K), \qquad
            d\text{cols}[n] = W_{\text{rows}}^\top d[n] \ (K, P), \qquad db = \sum_{n, p} d[n, :, p] \ (F,),$$

            then `dx = col2im(dcols, x.shape, HH, WW, stride, pad)` and `dw = dW_rows.reshape(w.shape)`. The weights are
            shared by all images and positions, so their gradient is a sum over both.

            **Exercise 2d.** `conv_backward_im2col(dout, cache)` returns `(dx, dw, db)`, equal to the naive version's.
            """
        )
    )
    c.append(
        solution(
            "conv_backward_im2col",
            '''
            def conv_backward_im2col(dout, cache):
                """dout: (N, F, H', W'). Returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,)."""
                ### BEGIN SOLUTION
                x_shape, w, cols, stride, pad = cache
                N, F = dout.shape[0], dout.shape[1]
                HH, WW = w.shape[2], w.shape[3]
                d = dout.reshape(N, F, -1)  # (N, F, P)
                db = d.sum(axis=(0, 2))  # (F,)
                dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)  # sum over n of (F, P) @ (P, K)
                dcols = w.reshape(F, -1).T @ d  # (K, F) @ (N, F, P) -> (N, K, P)
                dx = col2im(dcols, x_shape, HH, WW, stride, pad)
                return dx, dw, db
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "conv_backward_im2col",
            f"""
            x = {literal(X_CONV)}
            w = {literal(W_CONV)}
            b = {literal(B_CONV)}
            dout = {literal(DOUT_CONV)}
            _, cache = conv_forward_im2col(x, w, b, stride=2, pad=1)
            grads = conv_backward_im2col(dout, cache)
            assert isinstance(grads, tuple) and len(grads) == 3, "conv_backward_im2col must return (dx, dw, db)."
            dx, dw, db = grads
            grading.expect_shape("dx", dx, (2, 2, 5, 5), hint="col2im gives dx in the shape of x.")
            grading.expect_shape("dw", dw, (3, 2, 3, 3), hint="reshape the (F, K) gradient back to w.shape.")
            grading.expect_shape("db", db, (3,), hint="db sums dout over the images and the positions: (F,).")
            grading.expect_close("db", db, {literal(db_i)}, hint="db = dout.sum(axis=(0, 2, 3)).")
            grading.expect_close("dw", dw, {literal(dw_i)},
                                 hint="dW_rows = sum over n of dout[n] (F, P) @ cols[n].T (P, K): sum the per-image products over the batch.")
            grading.expect_close("dx", dx, {literal(dx_i)}, hint="dcols = w.reshape(F, -1).T @ dout[n], then dx = col2im(dcols, ...).")
            rng = np.random.default_rng(1)  # gradient check, threshold 1e-5 for the reason given in exercise 1b's test
            errors = check_pair(functools.partial(conv_forward_im2col, stride=2, pad=1), conv_backward_im2col,
                                {{"x": rng.standard_normal((2, 3, 5, 6)), "w": rng.standard_normal((4, 3, 3, 2)),
                                  "b": rng.standard_normal(4)}}, tol=1e-5, context="conv_backward_im2col, stride 2, pad 1")
            print("ok: gradient check (stride 2, pad 1), relative errors", {{k: f"{{v:.1e}}" for k, v in errors.items()}})
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "conv_backward_im2col",
            conv_pair_hidden("im2col", trials=4),
            points=2,
        )
    )

    c.append(
        markdown(
            r"""
            **Loops against im2col.** Both versions on the same random batch (float64, 3 channels, 8 filters of 3x3,
            pad 1, 2 images) for growing image sizes; time of one forward plus backward pass, best of a few runs. Your
            numbers depend on your machine. **What to see:** the naive time grows with the number of output positions
            (four times per doubling of the side) and is dominated by Python's per-iteration overhead, while im2col
            does a fixed $HH \cdot WW = 9$ slice copies plus one matrix product per image, so it is one to three orders
            of magnitude faster, and the gap widens with the image size. Both agree to round-off.
            """
        )
    )
    c.append(
        code(
            """
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
                naive_ms.append(1e3 * best_time(lambda: forward_backward(conv_forward_naive, conv_backward_naive, x, w, b)))
                im2col_ms.append(1e3 * best_time(lambda: forward_backward(conv_forward_im2col, conv_backward_im2col, x, w, b)))
                out_naive, grads_naive = forward_backward(conv_forward_naive, conv_backward_naive, x, w, b)
                out_fast, grads_fast = forward_backward(conv_forward_im2col, conv_backward_im2col, x, w, b)
                difference = max(np.max(np.abs(a - f)) for a, f in zip((out_naive, *grads_naive), (out_fast, *grads_fast)))
                print(f"{size:>6} {naive_ms[-1]:>11.2f} {im2col_ms[-1]:>12.3f} {naive_ms[-1] / im2col_ms[-1]:>8.0f}x {difference:>17.1e}")

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
            """
        )
    )

    # ---- 3. the convolution as one matrix -------------------------------------------------------------
    w_tiny = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    m_tiny = convolution.conv_as_matrix(w_tiny, (1, 3, 3))
    x_m = X_COLS[:, :, :4, :4]  # (2, 2, 4, 4)
    w_m = W_CONV[:2]  # (2, 2, 3, 3)
    m_big = convolution.conv_as_matrix(w_m, (2, 4, 4), 2, 1)
    out_m = convolution.conv_forward_naive(x_m, w_m, np.zeros(2), 2, 1)[0]
    c.append(
        markdown(
            r"""
            ## 3. The convolution as one matrix

            Lecture 004 asks: *can an MLP reproduce a ConvNet?* Yes: a convolution is linear in its input, so for one
            image it is a matrix-vector product, $\text{out}.\text{ravel}() = M\, x.\text{ravel}() + b$ (bias repeated).
            $M$ has one row per output $(f, i, j)$ and one column per input pixel $(c, h, v)$, both in row-major order:
            row $f H' W' + i W' + j$, column $c H W + h W + v$. Row $(f, i, j)$ holds filter $f$ placed where window $(i, j)$
            sits on the image:

            $$M[(f, i, j), (c,\; i s + p - \text{pad},\; j s + q - \text{pad})] = w[f, c, p, q],$$

            for every $c, p, q$ whose pixel lies inside the image (window entries in the zero padding multiply zeros,
            so they are left out); all other entries are 0. Moving the window one step moves the filter one step along
            the row: every block of $M$ is **Toeplitz** (constant along diagonals), the "circulant matrix" of the lecture
            (exactly circulant if the padding wrapped around instead of being zero). $M$ has $F H' W' \times C H W$
            entries of which only about $F H' W' \cdot C \cdot HH \cdot WW$ are non-zero, and they are copies of the
            same few weights: that is what local connectivity and weight sharing save.

            **Exercise 3.** `conv_as_matrix(w, input_shape, stride=1, pad=0)` returns $M$ of shape `(F H' W', C H W)` for
            `input_shape = (C, H, W)`, in `w`'s dtype (bias-free). Loop over $i, j, p, q$ and copy the `(F, C)` slice
            `w[:, :, p, q]` into a 6-d `(F, H', W', C, H, W)` array; reshape at the end.
            """
        )
    )
    c.append(
        solution(
            "conv_as_matrix",
            '''
            def conv_as_matrix(w, input_shape, stride=1, pad=0):
                """The (F H' W', C H W) matrix M with M @ x[n].ravel() = (conv(x)[n] - b).ravel(). w: (F, C, HH, WW)."""
                ### BEGIN SOLUTION
                C, H, W = input_shape
                F, _, HH, WW = w.shape
                Ho = 1 + (H + 2 * pad - HH) // stride
                Wo = 1 + (W + 2 * pad - WW) // stride
                M = np.zeros((F, Ho, Wo, C, H, W), dtype=w.dtype)
                for i in range(Ho):
                    for j in range(Wo):
                        for p in range(HH):
                            for q in range(WW):
                                h, v = i * stride + p - pad, j * stride + q - pad
                                if 0 <= h < H and 0 <= v < W:  # outside the image: padding, multiplies a zero
                                    M[:, i, j, :, h, v] = w[:, :, p, q]  # (F, C)
                return M.reshape(F * Ho * Wo, C * H * W)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "conv_as_matrix",
            f"""
            w_tiny = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])  # one 2x2 filter, one channel
            M = conv_as_matrix(w_tiny, (1, 3, 3))
            grading.expect_shape("conv_as_matrix of a 2x2 filter on a 3x3 image", M, (4, 9),
                                 hint="(F * H' * W', C * H * W) = (1 * 2 * 2, 1 * 3 * 3).")
            grading.expect_close("row 0 of M (window (0, 0))", M[0], np.array([1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0]),
                                 hint="window (0, 0) covers pixels (0, 0), (0, 1), (1, 0), (1, 1), columns 0, 1, 3, 4 of the row-major 3x3 image.")
            grading.expect_close("conv_as_matrix of a 2x2 filter on a 3x3 image", M, {literal(m_tiny)},
                                 hint="row i * W' + j is row 0 shifted by i rows and j columns of the image: j steps shift it by 1, i steps by W.")
            w = {literal(w_m)}
            x = {literal(x_m)}
            M = conv_as_matrix(w, (2, 4, 4), stride=2, pad=1)
            grading.expect_shape("conv_as_matrix(w (2, 2, 3, 3), (2, 4, 4), stride=2, pad=1)", M, (8, 32),
                                 hint="H' = W' = 1 + (4 + 2 - 3) // 2 = 2, so F H' W' = 8 rows and C H W = 32 columns.")
            grading.expect_close("conv_as_matrix(w, (2, 4, 4), stride=2, pad=1)", M, {literal(m_big)},
                                 hint="pixel (h, v) = (i * stride + p - pad, j * stride + q - pad); skip (p, q) whose pixel falls outside the image.")
            # The matrix reproduces the convolution: M @ x[n].ravel() is out[n].ravel() (no bias).
            grading.expect_close("(x.reshape(2, -1) @ M.T) reshaped to (2, 2, 2, 2)", (x.reshape(2, -1) @ M.T).reshape(2, 2, 2, 2),
                                 {literal(out_m)}, hint="M @ x[n].ravel() must equal the bias-free convolution of image n.")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "conv_as_matrix",
            """
            def _inputs(rng):
                c, f = int(rng.integers(1, 4)), int(rng.integers(1, 4))
                hh, ww = (int(v) for v in rng.integers(1, 4, size=2))
                stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
                h, w = int(rng.integers(max(1, hh - 2 * pad), 7)), int(rng.integers(max(1, ww - 2 * pad), 7))
                return {"w": rng.standard_normal((f, c, hh, ww)), "input_shape": (c, h, w), "stride": stride, "pad": pad}

            grading.check_function(conv_as_matrix, "layers.convolution.conv_as_matrix", _inputs, trials=4, output_names=("M",))
            """,
            points=2,
        )
    )
    c.append(
        markdown(
            r"""
            Left: $M$ for one 3x3 filter on a one-channel 6x6 image with pad 1 (36 x 36; white is zero). Right: the
            same for two input channels and two filters (72 x 72, four blocks). **What to see:** each block is banded
            and constant along its diagonals (Toeplitz), with nine bands, one per filter entry; the gaps in the bands
            are the windows whose entries fell in the padding at the image's left and right edges. The printed check
            shows that $M x$ equals your `conv_forward_naive` output to round-off.
            """
        )
    )
    c.append(
        code(
            """
            rng = np.random.default_rng(3)
            w_one = rng.standard_normal((1, 1, 3, 3))
            w_two = rng.standard_normal((2, 2, 3, 3))
            x_two = rng.standard_normal((1, 2, 6, 6))
            M_one = conv_as_matrix(w_one, (1, 6, 6), stride=1, pad=1)
            M_two = conv_as_matrix(w_two, (2, 6, 6), stride=1, pad=1)
            out_two, _ = conv_forward_naive(x_two, w_two, np.zeros(2), stride=1, pad=1)
            print("max |M x - conv(x)| =", np.max(np.abs(M_two @ x_two.ravel() - out_two.ravel())))
            print(f"non-zero entries of M: {np.count_nonzero(M_two)} of {M_two.size} ({np.count_nonzero(M_two) / M_two.size:.1%}),"
                  f" holding the {w_two.size} weights of the filters")

            fig, axes = plt.subplots(1, 2, figsize=(11, 5))
            for ax, M, title in [(axes[0], M_one, "1 filter, 1 channel, 6x6 image"), (axes[1], M_two, "2 filters, 2 channels, 6x6 image")]:
                limit = np.max(np.abs(M))
                ax.imshow(M, cmap="RdBu", vmin=-limit, vmax=limit, interpolation="nearest")
                ax.set_xlabel("input pixel (c, h, v), row-major")
                ax.set_ylabel("output (f, i, j), row-major")
                ax.set_title(f"Convolution as a matrix: {title}", fontsize=10)
            plt.tight_layout()
            plt.show()
            """
        )
    )

    # ---- 4. max pooling ----------------------------------------------------------------------------------
    pool22 = pooling.max_pool_forward(X_POOL, 2, 2)
    pool31 = pooling.max_pool_forward(X_POOL, 3, 1)[0]
    x_pool5 = X_POOL[:, :1].copy()
    x_pool5 = np.pad(
        x_pool5, ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=100.0
    )  # (1, 1, 5, 5), the floor drops the 100s
    pool5 = pooling.max_pool_forward(x_pool5, 2, 2)[0]
    c.append(
        markdown(
            r"""
            ## 4. Max pooling

            Max pooling shrinks each channel separately by keeping the largest value of each `size` x `size` window,
            the windows taken every `stride` pixels (no padding):

            $$\text{out}[n, c, i, j] = \max_{0 \le p, q < \text{size}} x[n, c, i s + p, j s + q], \qquad
            H' = 1 + \left\lfloor \frac{H - \text{size}}{s} \right\rfloor .$$

            It has no parameters. The usual choice is `size = stride = 2` (halve the height and width); `stride < size`
            gives overlapping windows.

            **Exercise 4a.** `max_pool_forward(x, size=2, stride=2)` returns `(out, cache)` with `out` of shape `(N, C, H', W')`.
            As for im2col, loop over the `size * size` window offsets rather than over windows: stacking the strided
            slices `x[:, :, p : p + s (H' - 1) + 1 : s, q : ...]` on a last axis gives all windows as `(N, C, H', W', size * size)`.
            Keep in the cache **where** each maximum was (`argmax` over that axis) for the backward pass.
            """
        )
    )
    c.append(
        solution(
            "max_pool_forward",
            '''
            def max_pool_forward(x, size=2, stride=2):
                """Max over size x size windows every stride pixels. x: (N, C, H, W). Returns (out (N, C, H', W'), cache)."""
                ### BEGIN SOLUTION
                N, C, H, W = x.shape
                Ho = 1 + (H - size) // stride
                Wo = 1 + (W - size) // stride
                windows = np.stack(
                    [x[:, :, p : p + stride * (Ho - 1) + 1 : stride, q : q + stride * (Wo - 1) + 1 : stride]
                     for p in range(size) for q in range(size)],
                    axis=-1,
                )  # (N, C, H', W', size * size), offsets in row-major order
                idx = windows.argmax(axis=-1)  # (N, C, H', W'): the first maximum wins a tie
                out = np.take_along_axis(windows, idx[..., None], axis=-1)[..., 0]
                cache = (x.shape, idx, size, stride)
                return out, cache
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "max_pool_forward",
            f"""
            x = {literal(X_POOL)}
            result = max_pool_forward(x, size=2, stride=2)
            assert isinstance(result, tuple) and len(result) == 2, "max_pool_forward must return a pair (out, cache)."
            out, _ = result
            grading.expect_shape("max_pool_forward(x (1, 2, 4, 4), size=2, stride=2)", out, (1, 2, 2, 2),
                                 hint="H' = 1 + (4 - 2) // 2 = 2; the channels are pooled separately, so C stays 2.")
            grading.expect_close("out[0, 0, 0, 0], the max of x[0, 0, 0:2, 0:2]", out[0, 0, 0, 0], {literal(X_POOL[0, 0, :2, :2].max())},
                                 hint="the maximum of one 2x2 window of one channel (not of all channels).")
            grading.expect_close("max_pool_forward(x, size=2, stride=2)", out, {literal(pool22[0])},
                                 hint="window (i, j) is x[n, c, i*stride : i*stride + size, j*stride : j*stride + size].")
            out31, _ = max_pool_forward(x, size=3, stride=1)
            grading.expect_shape("max_pool_forward with size 3, stride 1 (overlapping windows)", out31, (1, 2, 2, 2),
                                 hint="H' = 1 + (4 - 3) // 1 = 2.")
            grading.expect_close("max_pool_forward with size 3, stride 1", out31, {literal(pool31)},
                                 hint="size and stride are separate arguments: windows of 3x3 taken every pixel.")
            x5 = {literal(x_pool5)}
            out5, _ = max_pool_forward(x5, size=2, stride=2)
            grading.expect_shape("max_pool_forward of a 5x5 image, size 2, stride 2", out5, (1, 1, 2, 2),
                                 hint="H' = 1 + (5 - 2) // 2 = 2: the last row and column (the 100s here) belong to no window.")
            grading.expect_close("max_pool_forward of a 5x5 image, size 2, stride 2", out5, {literal(pool5)},
                                 hint="no padding in pooling; the floor drops the row and column that no window reaches.")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "max_pool_forward",
            forward_hidden(
                "max_pool_forward",
                "layers.pooling.max_pool_forward",
                POOL_INPUTS,
                "f\"x of shape {inputs['x'].shape}, size={inputs['size']}, stride={inputs['stride']}\"",
                trials=4,
            ),
            points=2,
        )
    )

    dx_pool = pooling.max_pool_backward(DOUT_POOL, pool22[1])
    x_center = np.array([[[[1.0, 2.0, 0.0], [3.0, 9.0, 4.0], [0.5, 5.0, 1.5]]]])
    dout_center = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx_center = pooling.max_pool_backward(dout_center, pooling.max_pool_forward(x_center, 2, 1)[1])
    c.append(
        markdown(
            r"""
            Backward. The maximum is a **switch** (lecture 000's "max gate"): the output equals the winning input, so
            $d\,\text{out}[n, c, i, j]$ flows to the winner of window $(i, j)$ and the other inputs of the window get
            nothing. When windows overlap and share a winner, their gradients add up at it. On a tie, only the **first**
            maximum in row-major window order (the one `np.argmax` returns) gets the gradient, as in PyTorch; this keeps
            the total gradient equal to that of `dout`.

            **Exercise 4b.** `max_pool_backward(dout, cache)` returns `dx` of shape `(N, C, H, W)`. One way: for each
            window offset $k = p \cdot \text{size} + q$, add `dout * (idx == k)` to the strided slice of `dx` at that offset.
            """
        )
    )
    c.append(
        solution(
            "max_pool_backward",
            '''
            def max_pool_backward(dout, cache):
                """dout: (N, C, H', W'). Returns dx: (N, C, H, W), each window's gradient at its (first) maximum."""
                ### BEGIN SOLUTION
                x_shape, idx, size, stride = cache
                Ho, Wo = dout.shape[2], dout.shape[3]
                dx = np.zeros(x_shape, dtype=dout.dtype)
                for k in range(size * size):
                    p, q = divmod(k, size)
                    # Within one offset the pixels are distinct; across offsets (overlapping windows) += accumulates.
                    dx[:, :, p : p + stride * (Ho - 1) + 1 : stride, q : q + stride * (Wo - 1) + 1 : stride] += dout * (idx == k)
                return dx
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "max_pool_backward",
            f"""
            x = {literal(X_POOL)}
            dout = {literal(DOUT_POOL)}
            _, cache = max_pool_forward(x, size=2, stride=2)
            dx = max_pool_backward(dout, cache)
            grading.expect_shape("dx", dx, (1, 2, 4, 4), hint="dx has the shape of x.")
            grading.expect_close("number of non-zero entries of dx per 2x2 window", np.count_nonzero(dx), 8,
                                 hint="exactly one entry per window (its maximum) receives the gradient; the other three get 0.")
            grading.expect_close("dx (size 2, stride 2)", dx, {literal(dx_pool)},
                                 hint="dx at the position of the max of window (i, j) is dout[n, c, i, j]; everywhere else 0.")
            # Isolation case: overlapping 2x2 windows (stride 1) that all share the centre as their maximum.
            x_c = {literal(x_center)}
            _, cache_c = max_pool_forward(x_c, size=2, stride=1)
            dx_c = max_pool_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache_c)
            grading.expect_close("dx when the four overlapping windows share the centre as maximum", dx_c, {literal(dx_center)},
                                 hint="the centre wins all four windows, so it receives 1 + 2 + 3 + 4 = 10: accumulate with +=, do not assign.")
            # Ties: a constant window gives its gradient to its first entry only.
            _, cache_t = max_pool_forward(np.zeros((1, 1, 2, 2)), size=2, stride=2)
            grading.expect_close("dx for a window of four equal values", max_pool_backward(np.array([[[[5.0]]]]), cache_t),
                                 np.array([[[[5.0, 0.0], [0.0, 0.0]]]]),
                                 hint="on a tie only the first maximum in row-major order (np.argmax) gets the gradient; a mask x == max would give it to all four.")
            rng = np.random.default_rng(2)
            x_check = (rng.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) + rng.uniform(0, 0.5, (2, 2, 5, 5))) / 10  # no ties
            errors = check_pair(functools.partial(max_pool_forward, size=3, stride=2), max_pool_backward, {{"x": x_check}},
                                context="max_pool_backward, size 3, stride 2")
            print("ok: gradient check (size 3, stride 2), relative error", f"{{errors['x']:.1e}}")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "max_pool_backward",
            POOL_INPUTS
            + """
grading.check_forward_backward(max_pool_forward, max_pool_backward, "layers.pooling.max_pool", _inputs,
                               grads=("x",), trials=4)
for trial in range(2):
    inputs = _inputs(np.random.default_rng(grading.check_seed("a05.max_pool_gradcheck", trial)))
    forward = functools.partial(max_pool_forward, size=inputs["size"], stride=inputs["stride"])
    check_pair(forward, max_pool_backward, {"x": inputs["x"]},
               context=f"max_pool_backward, size {inputs['size']}, stride {inputs['stride']}")
print("ok: max_pool_backward passes 2 gradient checks with random size and stride")
""",
            points=2,
        )
    )

    # ---- 5. a small CNN on the digits ------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 5. A small CNN on the digits

            Now the pieces make a network. The layers below are thin `Module` wrappers around **your** pairs (the
            library's `course.layers.convolution.Conv2d` and `course.layers.pooling.MaxPool2d` are the same, around the reference
            pairs): a module owns its parameters, calls the forward function, keeps the cache, and in `backward` adds
            the parameter gradients into `self.grads` (`accumulate`) and returns the input gradient. The convolution's
            weights start He-normal, $\mathcal N(0, 2 / (C k^2))$ ($C k^2$ inputs feed each output), in float32 like the
            rest of training. `train_digits` trains any model with Adam (learning rate $3 \cdot 10^{-3}$, minibatches of
            32) and keeps the epoch with the best validation accuracy (`course.training.train.train`, assignment 04).
            """
        )
    )
    c.append(
        code(
            """
            class ConvLayer(Module):
                \"\"\"Your conv_forward_im2col / conv_backward_im2col as a layer: w (F, C, k, k) He-normal, b (F,) zero.\"\"\"

                def __init__(self, in_channels, out_channels, kernel_size, pad=0, seed=0):
                    super().__init__()
                    rng = np.random.default_rng(seed)
                    std = np.sqrt(2.0 / (in_channels * kernel_size**2))
                    shape = (out_channels, in_channels, kernel_size, kernel_size)
                    self.add_param("w", (rng.standard_normal(shape) * std).astype(np.float32))
                    self.add_param("b", np.zeros(out_channels, dtype=np.float32))
                    self.pad = pad

                def forward(self, x):
                    out, self.cache = conv_forward_im2col(x, self.params["w"], self.params["b"], 1, self.pad)
                    return out

                def backward(self, dout):
                    dx, dw, db = conv_backward_im2col(dout, self.cache)
                    self.accumulate("w", dw)
                    self.accumulate("b", db)
                    return dx


            class MaxPoolLayer(Module):
                \"\"\"Your max_pool_forward / max_pool_backward as a layer (no parameters), size = stride.\"\"\"

                def __init__(self, size=2):
                    super().__init__()
                    self.size = size

                def forward(self, x):
                    out, self.cache = max_pool_forward(x, self.size, self.size)
                    return out

                def backward(self, dout):
                    return max_pool_backward(dout, self.cache)


            def train_digits(model, data, epochs=10, seed=0):
                \"\"\"Adam (lr 3e-3), minibatches of 32, best validation epoch kept. Returns train's history.\"\"\"
                optimizer = Optimizer(model, adam, learning_rate=3e-3)
                return train(model, softmax_cross_entropy, optimizer, data["train"], epochs=epochs, batch_size=32,
                             rng=np.random.default_rng(seed), val_data=data["val"], progress=False, monitor="val_acc")


            digits = {split: load_digits(split, flatten=False) for split in ("train", "val", "test")}
            print({split: X.shape for split, (X, _) in digits.items()})
            """
        )
    )
    c.append(
        markdown(
            rf"""
            **Exercise 5.** `digits_cnn(seed)` returns a `Sequential` of exactly these layers, for 8x8 grey images
            `(N, 1, 8, 8)` and 10 classes:

            | layer | output shape |
            |---|---|
            | `ConvLayer(1, 16, 3, pad=1, seed=seed)` | `(N, 16, 8, 8)` |
            | `ReLU()` | `(N, 16, 8, 8)` |
            | `MaxPoolLayer(2)` | `(N, 16, 4, 4)` |
            | `ConvLayer(16, 32, 3, pad=1, seed=seed + 1)` | `(N, 32, 4, 4)` |
            | `ReLU()` | `(N, 32, 4, 4)` |
            | `MaxPoolLayer(2)` | `(N, 32, 2, 2)` |
            | `Linear(?, 10, rng=seed + 2)` | `(N, 10)` class scores |

            (`Linear` flattens its input; work out its number of input features from the table.) It is graded by its
            result: trained with `train_digits` for {CNN_EPOCHS} epochs it must classify at least {CNN_MIN_ACCURACY:.0%}
            of the **test** digits correctly (the reference reaches about 97%; in the hidden test, with another seed and
            another split of the data). Your convolution and pooling must be right for that, and fast enough: one
            training takes a few seconds with the im2col convolution.
            """
        )
    )
    c.append(
        solution(
            "digits_cnn",
            '''
            def digits_cnn(seed):
                """conv3x3(16)-relu-pool2, conv3x3(32)-relu-pool2, affine(10) for (N, 1, 8, 8) digits."""
                ### BEGIN SOLUTION
                return Sequential(
                    ConvLayer(1, 16, 3, pad=1, seed=seed),  # (N, 16, 8, 8)
                    ReLU(),
                    MaxPoolLayer(2),  # (N, 16, 4, 4)
                    ConvLayer(16, 32, 3, pad=1, seed=seed + 1),  # (N, 32, 4, 4)
                    ReLU(),
                    MaxPoolLayer(2),  # (N, 32, 2, 2)
                    Linear(32 * 2 * 2, 10, rng=seed + 2),  # flattens to (N, 128), then (N, 10)
                )
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "digits_cnn",
            f"""
            cnn_check = digits_cnn(seed=0)
            assert isinstance(cnn_check, Sequential), "digits_cnn must return a Sequential of layers."
            kinds = [type(layer).__name__ for layer in cnn_check.layers]
            grading.expect_equal("the layers of digits_cnn(0)", kinds,
                                 ["ConvLayer", "ReLU", "MaxPoolLayer", "ConvLayer", "ReLU", "MaxPoolLayer", "Linear"],
                                 hint="conv-relu-pool twice, then one Linear, in that order (see the table).")
            grading.expect_shape("w of the first ConvLayer", cnn_check.layers[0].params["w"], (16, 1, 3, 3),
                                 hint="ConvLayer(1, 16, 3, pad=1, ...): 16 filters over 1 input channel.")
            grading.expect_shape("w of the second ConvLayer", cnn_check.layers[3].params["w"], (32, 16, 3, 3),
                                 hint="ConvLayer(16, 32, 3, pad=1, ...): its input has the 16 channels of the first.")
            grading.expect_shape("scores of digits_cnn(0) for 5 digits", cnn_check.forward(digits["test"][0][:5]), (5, 10),
                                 hint="pad=1 keeps 8x8, each pooling halves: (N, 32, 2, 2) flattens to 32 * 2 * 2 = 128 features for Linear.")
            history = train_digits(cnn_check, digits, epochs={CNN_EPOCHS}, seed=0)
            test_accuracy = accuracy(cnn_check, *digits["test"])
            print(f"digits_cnn(0), {CNN_EPOCHS} epochs: best validation accuracy "
                  f"{{max(history['val_acc']):.3f}}, test accuracy {{test_accuracy:.3f}}")
            assert history["train_loss"][-1] < history["train_loss"][0], (
                "the training loss did not go down: check the backward passes of your convolution and pooling.")
            assert test_accuracy >= {CNN_MIN_ACCURACY}, (
                f"test accuracy {{test_accuracy:.3f}} is below {CNN_MIN_ACCURACY}: check the layer order and sizes, and that "
                "conv_backward_im2col and max_pool_backward pass their gradient checks above.")
            print("ok: the CNN classifies at least {CNN_MIN_ACCURACY:.0%} of the test digits correctly")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "digits_cnn",
            f"""
            data_h = {{split: load_digits(split, seed=1, flatten=False) for split in ("train", "val", "test")}}
            model = digits_cnn(seed=5)
            layers = getattr(model, "layers", [])
            n_conv = sum(isinstance(layer, ConvLayer) for layer in layers)
            n_pool = sum(isinstance(layer, MaxPoolLayer) for layer in layers)
            assert n_conv >= 2 and n_pool >= 2, (
                f"digits_cnn must be a Sequential with two ConvLayers and two MaxPoolLayers, found {{n_conv}} and {{n_pool}}.")
            optimizer = Optimizer(model, adam, learning_rate=3e-3)
            train(model, softmax_cross_entropy, optimizer, data_h["train"], epochs={CNN_EPOCHS}, batch_size=32,
                  rng=np.random.default_rng(5), val_data=data_h["val"], progress=False, monitor="val_acc")
            test_accuracy = accuracy(model, *data_h["test"])
            assert test_accuracy >= {CNN_MIN_ACCURACY}, (
                f"digits_cnn(seed=5) reached test accuracy {{test_accuracy:.3f}} < {CNN_MIN_ACCURACY} on another split of the digits.")
            print("ok: digits_cnn trains to the accuracy bound on another split of the digits")
            """,
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            **The CNN against an MLP**, and what the CNN learned. The cell below trains your CNN and a two-layer MLP
            (64 -> 128 -> 10 with ReLU, `course.layers.affine.Linear`, which flattens the images) for the same 10 epochs with the
            same optimiser, then draws three figures.

            1. Left: validation accuracy per epoch. Right: test accuracy on test digits shifted sideways by up to two
               pixels (zeros shifted in). **What to see:** on these small, centred digits both reach about 97% (the CNN
               with about two thirds of the MLP's parameters); shifted by one pixel the MLP collapses to about 40% (it
               learned one weight per pixel position), while the CNN keeps about 70%, because its filters are shared
               across positions and pooling forgets small displacements. Two pixels out of eight is too much for both.
            2. The 16 learned first-layer 3x3 filters, as images (red positive, blue negative). **What to see:** most
               are a positive side next to a negative side, i.e. oriented edge detectors (3x3 filters trained for ten
               epochs on 8x8 images are coarse; do not expect crisp patterns).
            3. One test digit and the 16 feature maps of the first layer after the ReLU (8x8 each). **What to see:**
               each map lights up where its filter's pattern occurs: some respond to horizontal strokes, some to
               vertical or diagonal edges on one side of a stroke, so the digit is re-described as "which pattern where".
            """
        )
    )
    c.append(
        code(
            """
            def shift_images(X, dx):
                \"\"\"Shift (N, 1, H, W) images dx pixels to the right (left if negative), filling with zeros.\"\"\"
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
            for name, model, history in [("CNN", cnn, cnn_history), ("MLP", mlp, mlp_history)]:
                print(f"{name}: {count_parameters(model):>5} parameters, test accuracy {shifted[name][2]:.3f}, "
                      f"shifted by 1 pixel {np.mean([shifted[name][1], shifted[name][3]]):.3f}")

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
            """
        )
    )

    # ---- 6. residual block ------------------------------------------------------------------------------------
    out_res, cache_res = residual.residual_block_forward(X_RES, W1_RES, B1_RES, W2_RES, B2_RES)
    grads_res = residual.residual_block_backward(DOUT_RES, cache_res)
    zeros_w = np.zeros_like(W1_RES)
    _, cache_skip = residual.residual_block_forward(X_RES, W1_RES, B1_RES, zeros_w, B2_RES)
    grads_skip = residual.residual_block_backward(DOUT_RES, cache_skip)
    c.append(
        markdown(
            r"""
            ## 6. The residual block

            Very deep plain networks train worse than shallower ones, even on their training set. ResNets (He et al.
            2015, lectures 002 and 004) fix this by letting each block learn a **correction** to its input instead of a
            new representation:

            $$a = \text{conv}(x; w_1, b_1), \quad h = \text{relu}(a), \quad f = \text{conv}(h; w_2, b_2), \quad
            \text{out} = \text{relu}(x + f),$$

            both convolutions 3x3 with stride 1 and pad 1 and $C$ filters, so $f$ has the shape `(N, C, H, W)` of $x$ and
            the identity **skip** $x + f$ needs no projection. If the convolutions output zero, the block is (almost) the
            identity, so stacking more blocks cannot make things much worse.

            **Exercise 6a.** `residual_block_forward(x, w1, b1, w2, b2)` returns `(out, cache)`: `x (N, C, H, W)`,
            `w1, w2 (C, C, 3, 3)`, `b1, b2 (C,)`, `out (N, C, H, W)`. Use your `conv_forward_im2col` and the ReLU pair of
            assignment 02 (`relu_forward`, `relu_backward`, imported at the top).
            """
        )
    )
    c.append(
        solution(
            "residual_block_forward",
            '''
            def residual_block_forward(x, w1, b1, w2, b2):
                """out = relu(x + conv(relu(conv(x, w1, b1)), w2, b2)), 3x3 convolutions with pad 1. Returns (out, cache)."""
                ### BEGIN SOLUTION
                a, conv1_cache = conv_forward_im2col(x, w1, b1, 1, 1)  # (N, C, H, W)
                h, relu1_cache = relu_forward(a)
                f, conv2_cache = conv_forward_im2col(h, w2, b2, 1, 1)  # (N, C, H, W)
                out, relu2_cache = relu_forward(x + f)  # the identity skip
                cache = (conv1_cache, relu1_cache, conv2_cache, relu2_cache)
                return out, cache
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "residual_block_forward",
            f"""
            x = {literal(X_RES)}
            w1, b1 = {literal(W1_RES)}, {literal(B1_RES)}
            w2, b2 = {literal(W2_RES)}, {literal(B2_RES)}
            result = residual_block_forward(x, w1, b1, w2, b2)
            assert isinstance(result, tuple) and len(result) == 2, "residual_block_forward must return a pair (out, cache)."
            out, _ = result
            grading.expect_shape("out", out, (2, 2, 4, 4), hint="3x3 convolutions with pad 1 and stride 1 keep the shape of x.")
            # Isolation case: with both convolutions zero, only the skip is left: out = relu(x).
            zero_w, zero_b = np.zeros_like(w1), np.zeros_like(b1)
            out_skip, _ = residual_block_forward(x, zero_w, zero_b, zero_w, zero_b)
            grading.expect_close("out with w1 = w2 = 0 and b1 = b2 = 0 (the skip alone)", out_skip, np.maximum(x, 0),
                                 hint="out = relu(x + f): add the input x itself before the last ReLU.")
            # Isolation case: w2 = 0 leaves f = b2, whatever the first convolution does.
            out_b2, _ = residual_block_forward(x, w1, b1, zero_w, b2)
            grading.expect_close("out with w2 = 0 (f is the bias b2)", out_b2, np.maximum(x + b2[None, :, None, None], 0),
                                 hint="the second convolution adds b2[c] to channel c; then relu(x + f).")
            grading.expect_close("out", out, {literal(out_res)},
                                 hint="a = conv(x; w1, b1), h = relu(a), f = conv(h; w2, b2), both with stride 1, pad 1; out = relu(x + f).")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "residual_block_forward",
            forward_hidden(
                "residual_block_forward",
                "layers.residual.residual_block_forward",
                RES_INPUTS,
                "f\"x of shape {inputs['x'].shape}\"",
            ),
            points=2,
        )
    )
    c.append(
        markdown(
            r"""
            Backward, in reverse order. With $s = x + f$: $ds = \text{dout} \odot [s > 0]$ (ReLU backward); $ds$ goes
            through the second convolution (giving $dh$, $dw_2$, $db_2$), the first ReLU ($da$) and the first convolution
            (giving $dx_{\text{conv}}$, $dw_1$, $db_1$). $x$ was used **twice**, in the first convolution and in the skip, so
            its gradient is the sum of both paths:

            $$dx = dx_{\text{conv}} + ds .$$

            That identity term is why deep ResNets train: even when the convolutions pass back little gradient,
            $ds$ reaches the earlier layers unchanged.

            **Exercise 6b.** `residual_block_backward(dout, cache)` returns `(dx, dw1, db1, dw2, db2)`.
            """
        )
    )
    c.append(
        solution(
            "residual_block_backward",
            '''
            def residual_block_backward(dout, cache):
                """dout: (N, C, H, W). Returns dx (N, C, H, W), dw1 (C, C, 3, 3), db1 (C,), dw2 (C, C, 3, 3), db2 (C,)."""
                ### BEGIN SOLUTION
                conv1_cache, relu1_cache, conv2_cache, relu2_cache = cache
                ds = relu_backward(dout, relu2_cache)  # gradient of s = x + f
                dh, dw2, db2 = conv_backward_im2col(ds, conv2_cache)
                da = relu_backward(dh, relu1_cache)
                dx, dw1, db1 = conv_backward_im2col(da, conv1_cache)
                dx = dx + ds  # the skip path: x was used twice, its gradients add up
                return dx, dw1, db1, dw2, db2
                ### END SOLUTION
            ''',
        )
    )
    names = ("dx", "dw1", "db1", "dw2", "db2")
    full_checks = "\n".join(
        f'grading.expect_close("{n}", grads[{k}], {literal(g)}, hint="{h}")'
        for k, (n, g, h) in enumerate(
            zip(
                names,
                grads_res,
                (
                    "dx = (gradient through conv1) + ds: the skip path and the convolution path add up.",
                    "dw1 comes from the first convolution's backward pass with da = relu_backward(dh).",
                    "db1 = da summed over the images and positions.",
                    "dw2 comes from the second convolution's backward pass with ds = dout * (x + f > 0).",
                    "db2 = ds summed over the images and positions.",
                ),
                strict=True,
            )
        )
    )
    c.append(
        visible_test(
            "residual_block_backward",
            f"""
            x = {literal(X_RES)}
            w1, b1 = {literal(W1_RES)}, {literal(B1_RES)}
            w2, b2 = {literal(W2_RES)}, {literal(B2_RES)}
            dout = {literal(DOUT_RES)}
            # Isolation case: with w2 = 0 no gradient goes back through the convolutions: only the skip carries it.
            _, cache_skip = residual_block_forward(x, w1, b1, np.zeros_like(w2), b2)
            grads_skip = residual_block_backward(dout, cache_skip)
            assert isinstance(grads_skip, tuple) and len(grads_skip) == 5, "residual_block_backward must return (dx, dw1, db1, dw2, db2)."
            grading.expect_close("dx with w2 = 0 (the skip path alone)", grads_skip[0], {literal(grads_skip[0])},
                                 hint="with w2 = 0 the convolution path contributes nothing, so dx = ds = dout * (x + f > 0): did you add ds to dx?")
            grading.expect_close("dw1 with w2 = 0", grads_skip[1], np.zeros((2, 2, 3, 3)),
                                 hint="dh = (second convolution's dx) is zero when w2 = 0, so dw1 must be zero.")
            _, cache = residual_block_forward(x, w1, b1, w2, b2)
            grads = residual_block_backward(dout, cache)
            for name, g, shape in zip(("dx", "dw1", "db1", "dw2", "db2"), grads, [(2, 2, 4, 4), (2, 2, 3, 3), (2,), (2, 2, 3, 3), (2,)]):
                grading.expect_shape(name, g, shape, hint="each gradient has the shape of its input; return (dx, dw1, db1, dw2, db2) in this order.")
            {textwrap.indent(full_checks, " " * 12).strip()}
            rng = np.random.default_rng(4)  # gradient check, threshold 1e-5 for the reason given in exercise 1b's test
            inputs = {{"x": rng.standard_normal((2, 3, 4, 5)), "w1": 0.5 * rng.standard_normal((3, 3, 3, 3)), "b1": rng.standard_normal(3),
                      "w2": 0.5 * rng.standard_normal((3, 3, 3, 3)), "b2": rng.standard_normal(3)}}
            errors = check_pair(residual_block_forward, residual_block_backward, inputs, tol=1e-5,
                                context="residual_block_backward")
            print("ok: gradient check, relative errors", {{k: f"{{v:.1e}}" for k, v in errors.items()}})
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "residual_block_backward",
            RES_INPUTS
            + """
grading.check_forward_backward(residual_block_forward, residual_block_backward, "layers.residual.residual_block", _inputs,
                               grads=("x", "w1", "b1", "w2", "b2"), trials=3)
inputs = _inputs(np.random.default_rng(grading.check_seed("a05.residual_gradcheck", 0)))
check_pair(residual_block_forward, residual_block_backward, inputs, tol=1e-5, context="residual_block_backward")
print("ok: residual_block_backward passes a gradient check on random inputs")
""",
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            ## Summary

            A convolution is an affine layer with local receptive fields and shared weights: written as one matrix it
            is block-Toeplitz and almost all zeros. Computing it as loops is the definition; im2col turns it into one
            matrix product per image, orders of magnitude faster, and its backward pass is the affine backward pass
            followed by the adjoint `col2im`, where overlapping windows add their gradients. Max pooling routes each
            gradient to its window's winner. Stacked, these give a small CNN that beats an MLP with fewer parameters and
            tolerates shifts far better; the residual block adds an identity path so that very deep stacks still train.
            """
        )
    )
    return c


def main(argv: list[str] | None = None) -> int:
    return generator_main(cells, ASSIGNMENT, argv)


if __name__ == "__main__":
    raise SystemExit(main())
