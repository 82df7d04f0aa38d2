# ruff: noqa: E501  (the cell texts are dedented when written, so the notebook lines are short)
"""Writes solutions/a02_backprop_modules/a02_backprop_modules.ipynb (assignment 02, lectures 000, 002, 004).

Run ``python -m autograder.generators.a02_backprop_modules``; the expected values of the visible tests
are computed here, once, from the reference library (course.layers.affine, course.layers.activations,
course.layers.elementwise, course.layers.losses, course.core.gradcheck) and written into the notebook as literals. The
committed notebook is the source of truth; this script only keeps it easy to rebuild.

The notebook never calls the library functions of this assignment: in the grading kernel they raise
NotImplementedError, so the student's own functions are the machinery of every experiment.
"""

from __future__ import annotations

import textwrap

import numpy as np

from autograder.cells import (
    code,
    generator_main,
    hidden_test,
    literal,
    markdown,
    piece,
    solution,
    visible_test,
)
from course.core import gradcheck
from course.layers import activations, affine, elementwise, losses

ASSIGNMENT = "a02_backprop_modules"

# Fixed small inputs of the visible tests (nice numbers, so a student can redo them by hand).
X_AFF = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])  # (N, D) = (2, 3)
W_AFF = np.array([[0.5, -1.0], [2.0, 0.0], [-1.5, 1.0]])  # (D, M) = (3, 2)
B_AFF = np.array([0.25, -0.5])  # (M,)
DOUT_AFF = np.array([[1.0, -2.0], [0.5, 3.0]])  # (N, M)
X_ACT = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
DOUT_ACT = np.array([[1.0, -2.0, 0.5], [3.0, -1.0, 2.0]])
X_EW = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])  # (2, 3)
Y_ROW = np.array([2.0, -1.0, 0.5])  # (3,): broadcast over rows
Y_COL = np.array([[-1.0], [2.0]])  # (2, 1): broadcast over columns
DOUT_EW = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0]])
LOGITS = np.array([[2.0, 1.0, 0.1, -1.0], [0.5, 0.5, 3.0, 1.0], [-1.0, 0.0, 1.0, 2.0]])  # (N, C) = (3, 4)
LABELS = np.array([0, 3, 1])

# The two-layer net of the visible test: D = 2 inputs, H = 3 hidden units, C = 3 classes, N = 4 points.
NET_X = np.array([[1.0, 0.5], [-0.5, 1.0], [0.0, -1.0], [2.0, 0.0]])
NET_Y = np.array([0, 1, 2, 1])
NET_PARAMS = {
    "w1": np.array([[1.0, -0.5, 0.25], [0.5, 1.0, -1.0]]),
    "b1": np.array([0.1, -0.2, 0.0]),
    "w2": np.array([[1.0, 0.0, -1.0], [-0.5, 2.0, 0.5], [0.0, -1.0, 1.5]]),
    "b2": np.array([0.0, 0.1, -0.1]),
}
TRAIN_SETTINGS = {"hidden_dim": 100, "lr": 0.5, "epochs": 100, "batch_size": 32}


def reference_two_layer_loss(params: dict, X: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """The two-layer net of the notebook, composed from the reference pairs (expected values only)."""
    h, cache1 = affine.affine_forward(X, params["w1"], params["b1"])
    a, cache2 = activations.relu_forward(h)
    scores, cache3 = affine.affine_forward(a, params["w2"], params["b2"])
    loss, dscores = losses.softmax_cross_entropy(scores, y)
    da, dw2, db2 = affine.affine_backward(dscores, cache3)
    dh = activations.relu_backward(da, cache2)
    _, dw1, db1 = affine.affine_backward(dh, cache1)
    return float(loss), {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}


def forward_hidden(fn: str, ref: str, make_inputs: str, describe: str, trials: int = 3) -> str:
    """Hidden-test source for a forward pass: compare ``out`` (not the cache) with the reference's."""
    return f"""
{textwrap.dedent(make_inputs).strip()}

ref_forward = grading.reference("{ref}")
for trial in range({trials}):
    inputs = _inputs(np.random.default_rng(grading.check_seed("{ref}", trial)))
    copies = {{k: v.copy() for k, v in inputs.items()}}
    got = {fn}(**copies)
    assert isinstance(got, tuple) and len(got) == 2, "{fn} must return a pair (out, cache)."
    for k in inputs:
        assert np.array_equal(copies[k], inputs[k]), "{fn} modified its input " + k + " in place."
    grading.check_with_reference("{fn}", got[0], ref_forward(**inputs)[0], what="output 'out'",
                                 inputs={describe})
print("ok: {fn} agrees with the reference on {trials} random input sets")
"""


def overflow_guard(call: str, what: str, hint: str) -> str:
    """Source that runs ``call`` with NumPy's floating-point errors raised and turns them into a sentence."""
    return f"""
try:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        {call}
except FloatingPointError as err:
    raise AssertionError("{what} raised a floating-point error (" + str(err) + "). Hint: {hint}") from None
"""


def cells() -> list:  # noqa: PLR0915  (one notebook, written top to bottom)
    c = []
    c.append(
        markdown(
            r"""
            # Assignment 02: backpropagation with modules

            A neural network is a chain (more generally a directed acyclic graph) of simple functions. Backpropagation
            is the chain rule applied from the loss backwards: if $z = f(y)$ and $y = g(x)$ then
            $\frac{\partial z}{\partial x} = \frac{\partial z}{\partial y}\frac{\partial y}{\partial x}$. The lecture's
            point is **modularity**: every node is an "expert" that knows only two things,

            - `name_forward(inputs) -> (out, cache)`: compute the output, and keep in `cache` what the backward pass needs;
            - `name_backward(dout, cache) -> (dinput_1, dinput_2, ...)`: given $\partial L/\partial \text{out}$ (called
              `dout`, shaped like `out`), return $\partial L/\partial \text{input}$ for every input, each shaped like its input.

            No module knows the rest of the network, so any chain of modules can be trained.

            You will implement, in this notebook:

            1. the tools to check a gradient: relative error and the centred-difference numerical gradient;
            2. the affine layer $x W + b$ (with the bias broadcast over the batch);
            3. the activations ReLU, sigmoid and tanh;
            4. element-wise add and multiply with NumPy broadcasting;
            5. the losses: mean squared error and binary cross-entropy;
            6. a numerically stable softmax, log-softmax and the fused softmax-cross-entropy;
            7. a two-layer network built from your modules, and its training with SGD on a 2-D spiral.

            Then you will gradient-check every module, look at the decision boundary of the trained net, and time the
            fused softmax-cross-entropy against the separate one.

            **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
            answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
            a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
            the reference on fresh random inputs when the course grader runs it. Both carry points. Do not edit,
            copy or delete test cells: the grader restores them. Use only NumPy: in the grader the library functions
            you are asked to write (`course.layers.affine`, `course.layers.activations`, `course.layers.elementwise`, `course.layers.losses`)
            raise `NotImplementedError`.

            Shapes use the course's letters: N batch, D input features, H hidden units, M outputs of an affine
            layer, C classes.
            """
        )
    )
    c.append(
        code(
            """
            import time

            import numpy as np
            import matplotlib.pyplot as plt

            from course import grading
            from course.data import make_spirals
            from course.core.plots import plot_decision_boundary
            """
        )
    )

    # ---- 1. gradient checking ----------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 1. Checking a gradient

            Every backward pass you write will be checked against a **numerical gradient**, so we build that first.

            **Relative error.** Two gradients $a$ and $n$ agree when their largest element-wise relative error is small:

            $$\text{rel}(a, n) = \max_i \frac{|a_i - n_i|}{\max(10^{-8},\ |a_i| + |n_i|)} .$$

            The floor $10^{-8}$ keeps $0/0$ away when both entries are zero. In float64 a correct backward pass gives
            about $10^{-9}$ or less; a wrong term gives something of order $10^{-1}$ to $1$. We use $10^{-7}$ as the threshold.

            **Exercise 1a.** `rel_error(x, y)` returns that maximum as a Python float. `x` and `y` have the same shape.
            """
        )
    )
    c.append(
        solution(
            "rel_error",
            '''
            def rel_error(x, y):
                """max_i |x_i - y_i| / max(1e-8, |x_i| + |y_i|). x, y: same shape. Returns a float."""
                ### BEGIN SOLUTION
                x = np.asarray(x, dtype=np.float64)
                y = np.asarray(y, dtype=np.float64)
                if x.size == 0:
                    return 0.0
                return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
                ### END SOLUTION
            ''',
        )
    )
    a_re, b_re = np.array([1.0, 2.0, -3.0]), np.array([1.0, 2.2, -3.0])
    c.append(
        visible_test(
            "rel_error",
            f"""
            a = {literal(a_re)}
            b = {literal(b_re)}
            grading.expect_close("rel_error(a, a)", rel_error(a, a), 0.0, atol=1e-15,
                                 hint="identical arrays have relative error 0.")
            grading.expect_close("rel_error(a, b)", rel_error(a, b), {literal(gradcheck.rel_error(a_re, b_re))},
                                 hint="only entry 1 differs: |2 - 2.2| / (|2| + |2.2|). Take the maximum over entries, not the mean.")
            grading.expect_close("rel_error(b, a)", rel_error(b, a), {literal(gradcheck.rel_error(b_re, a_re))},
                                 hint="the formula is symmetric in x and y.")
            grading.expect_close("rel_error(zeros, zeros)", rel_error(np.zeros(3), np.zeros(3)), 0.0, atol=1e-15,
                                 hint="0 / max(1e-8, 0) is 0: the floor 1e-8 avoids 0 / 0.")
            grading.expect_close("rel_error([1e-10], [0])", rel_error(np.array([1e-10]), np.array([0.0])), 1e-2,
                                 hint="the denominator is max(1e-8, |x| + |y|) = 1e-8 here, not 1e-10.")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "rel_error",
            """
            def _inputs(rng):
                shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 3))))
                x = rng.standard_normal(shape)
                y = x + rng.standard_normal(shape) * 10.0 ** rng.integers(-9, 1)
                y.flat[0] = x.flat[0] = 0.0  # an entry where both are zero
                return {"x": x, "y": y}

            grading.check_function(rel_error, "core.gradcheck.rel_error", _inputs)
            """,
            points=1,
        )
    )

    xg = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    c.append(
        markdown(
            r"""
            **The centred difference.** For a scalar function $f$ of an array $x$, perturb one entry at a time:

            $$\frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}, \qquad h = 10^{-5} .$$

            Its error is $O(h^2)$ (the one-sided $(f(x + h e_i) - f(x))/h$ has error $O(h)$, far too large for a
            $10^{-7}$ test). The function `f` takes **no arguments**: it reads `x`, which you perturb **in place**,
            one entry at a time, and restore afterwards. So `f` may be a closure like `lambda: loss(x, w)[0]`, and the
            same helper checks any input of any function.

            **Exercise 1b.** `numerical_gradient(f, x, h=1e-5)` returns an array shaped like `x` (float64) and leaves
            `x` as it found it. Iterate over the entries of any shape, e.g. with `np.ndindex(x.shape)` or a flat view
            `x.reshape(-1)`; call `f` exactly twice per entry.
            """
        )
    )
    c.append(
        solution(
            "numerical_gradient",
            '''
            def numerical_gradient(f, x, h=1e-5):
                """Centred-difference gradient of the scalar f() with respect to x (perturbed in place, restored)."""
                ### BEGIN SOLUTION
                grad = np.zeros(x.shape, dtype=np.float64)
                for i in np.ndindex(x.shape):
                    old = x[i]
                    x[i] = old + h
                    f_plus = float(f())
                    x[i] = old - h
                    f_minus = float(f())
                    x[i] = old
                    grad[i] = (f_plus - f_minus) / (2 * h)
                return grad
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "numerical_gradient",
            f"""
            x = {literal(xg)}
            x_before = x.copy()
            grad = numerical_gradient(lambda: np.sum(x**3), x)
            grading.expect_shape("numerical_gradient of sum(x**3) for x of shape (2, 3)", grad, (2, 3),
                                 hint="the gradient has the shape of x.")
            grading.expect_close("x after numerical_gradient", x, x_before, rtol=0, atol=0,
                                 hint="restore every entry after perturbing it (keep the old value, write it back).")
            grading.expect_close("numerical gradient of sum(x**3)", grad, 3 * x_before**2, rtol=1e-8, atol=1e-8,
                                 hint="use the centred difference (f(x + h) - f(x - h)) / (2h); the one-sided difference is off by about 3 x h.")
            calls = []
            numerical_gradient(lambda: calls.append(1) or float(np.sum(x)), x)
            grading.expect_equal("number of calls to f for 6 entries", len(calls), 12,
                                 hint="evaluate f twice per entry, at x_i + h and at x_i - h.")
            grad_h = numerical_gradient(lambda: np.sum(x**3), x, h=1e-2)
            grading.expect_close("numerical gradient of sum(x**3) with h = 1e-2", grad_h, 3 * x_before**2 + 1e-4,
                                 rtol=1e-8, atol=1e-10,
                                 hint="use the argument h, not a fixed step (with h = 1e-2 the centred difference of x**3 is 3 x**2 + h**2).")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "numerical_gradient",
            """
            ref_numerical_gradient = grading.reference("core.gradcheck.numerical_gradient")
            for trial in range(3):
                rng = np.random.default_rng(grading.check_seed("core.gradcheck.numerical_gradient", trial))
                shape = tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 4))))
                coef, x0 = rng.standard_normal(shape), rng.standard_normal(shape)
                h = float(rng.choice([1e-5, 1e-2]))  # a large h too, so a hard-coded step shows
                x_student, x_ref = x0.copy(), x0.copy()
                got = numerical_gradient(lambda: np.sum(np.sin(x_student) * coef) + np.sum(x_student**2) ** 2, x_student, h)
                expected = ref_numerical_gradient(lambda: np.sum(np.sin(x_ref) * coef) + np.sum(x_ref**2) ** 2, x_ref, h)
                where = f"x of shape {shape}, h={h}"
                grading.check_with_reference("numerical_gradient", got, expected, rtol=1e-6, atol=1e-8,
                                             what="the gradient", inputs=where)
                grading.check_with_reference("numerical_gradient", x_student, x0, rtol=0, atol=0,
                                             what="x after the call (it must be restored)", inputs=where)
            print("ok: numerical_gradient agrees with the reference on 3 random functions")
            """,
            points=2,
        )
    )

    dout_g = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    c.append(
        markdown(
            r"""
            A module's output is an array, not a scalar. To check its backward pass we put a fixed random upstream
            gradient `dout` on the output and differentiate the scalar $\sum_j f(x)_j\, \text{dout}_j$: by the chain
            rule its gradient with respect to $x$ is exactly what `backward(dout, cache)` must return.

            **Exercise 1c.** `numerical_gradient_array(f, x, dout, h=1e-5)` returns the centred-difference gradient of
            `np.sum(f() * dout)` with respect to `x` (shape of `x`). One line, using your `numerical_gradient`.
            """
        )
    )
    c.append(
        solution(
            "numerical_gradient_array",
            '''
            def numerical_gradient_array(f, x, dout, h=1e-5):
                """Centred-difference gradient of sum(f() * dout) with respect to x; f() is array-valued."""
                ### BEGIN SOLUTION
                return numerical_gradient(lambda: np.sum(f() * dout), x, h)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "numerical_gradient_array",
            f"""
            x = {literal(xg)}
            x_before = x.copy()
            dout = {literal(dout_g)}
            grad = numerical_gradient_array(lambda: x**2, x, dout)
            grading.expect_shape("numerical_gradient_array of x**2", grad, (2, 3), hint="the gradient has the shape of x.")
            grading.expect_close("numerical_gradient_array of x**2 with upstream dout", grad, 2 * x_before * dout,
                                 rtol=1e-8, atol=1e-8,
                                 hint="differentiate the scalar np.sum(f() * dout); for f = x**2 that gives 2 x dout.")
            grading.expect_close("x after numerical_gradient_array", x, x_before, rtol=0, atol=0,
                                 hint="x must be restored (numerical_gradient does it for you).")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "numerical_gradient_array",
            """
            ref_numerical_gradient_array = grading.reference("core.gradcheck.numerical_gradient_array")
            for trial in range(2):
                rng = np.random.default_rng(grading.check_seed("core.gradcheck.numerical_gradient_array", trial))
                n, d = int(rng.integers(1, 5)), int(rng.integers(1, 5))
                x0, w, dout = rng.standard_normal((n, d)), rng.standard_normal((d, 3)), rng.standard_normal((n, 3))
                x_student, x_ref = x0.copy(), x0.copy()
                got = numerical_gradient_array(lambda: np.tanh(x_student @ w), x_student, dout)
                expected = ref_numerical_gradient_array(lambda: np.tanh(x_ref @ w), x_ref, dout)
                grading.check_with_reference("numerical_gradient_array", got, expected, rtol=1e-6, atol=1e-8,
                                             what="the gradient", inputs=f"x of shape {(n, d)}, tanh(x @ w)")
            print("ok: numerical_gradient_array agrees with the reference on 2 random functions")
            """,
            points=1,
        )
    )

    # ---- 2. affine ---------------------------------------------------------------------------------
    out_aff, cache_aff = affine.affine_forward(X_AFF, W_AFF, B_AFF)
    dx_aff, dw_aff, db_aff = affine.affine_backward(DOUT_AFF, cache_aff)
    x3 = np.arange(8, dtype=np.float64).reshape(2, 2, 2) / 4 - 1
    w3 = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0], [-1.0, 1.0, 1.0], [0.0, -0.5, 2.0]])
    b3 = np.array([0.0, 1.0, -1.0])
    out3, cache3 = affine.affine_forward(x3, w3, b3)
    dout3 = np.array([[1.0, -1.0, 2.0], [0.5, 0.0, -2.0]])
    dx3 = affine.affine_backward(dout3, cache3)[0]
    c.append(
        markdown(
            r"""
            ## 2. The affine layer

            The fully connected layer applies the same linear map to every example of the batch and adds a bias:

            $$\text{out} = x W + b, \qquad x: (N, D),\ W: (D, M),\ b: (M,),\ \text{out}: (N, M).$$

            $b$ has shape `(M,)` and is **broadcast**: the same $b$ is added to each of the $N$ rows. An input with more
            axes, $x$ of shape $(N, d_1, \dots, d_k)$ (an image, say), is first flattened to $(N, D)$ with
            $D = d_1 \cdots d_k$.

            **Exercise 2a.** `affine_forward(x, w, b)` returns `(out, cache)`; put in `cache` what the backward pass needs.
            """
        )
    )
    c.append(
        solution(
            "affine_forward",
            '''
            def affine_forward(x, w, b):
                """out = x.reshape(N, D) @ w + b. x: (N, d_1, ..., d_k), w: (D, M), b: (M,). Returns (out (N, M), cache)."""
                ### BEGIN SOLUTION
                out = x.reshape(x.shape[0], -1) @ w + b  # (N, M)
                cache = (x, w)
                return out, cache
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "affine_forward",
            f"""
            x = {literal(X_AFF)}
            w = {literal(W_AFF)}
            b = {literal(B_AFF)}
            result = affine_forward(x, w, b)
            assert isinstance(result, tuple) and len(result) == 2, "affine_forward must return a pair (out, cache)."
            out, _ = result
            grading.expect_shape("out for x (2, 3), w (3, 2)", out, (2, 2), hint="out = x @ w + b has shape (N, M).")
            # Isolation case: zero weights leave only the bias, which every row must receive.
            out_b, _ = affine_forward(x, np.zeros_like(w), b)
            grading.expect_close("out with w = 0 (bias term alone)", out_b, np.tile(b, (2, 1)),
                                 hint="with zero weights every row of out equals b: add b to each row (broadcasting).")
            out_w, _ = affine_forward(x, w, np.zeros_like(b))
            grading.expect_close("out with b = 0 (product term alone)", out_w, {literal(X_AFF @ W_AFF)},
                                 hint="the product is x @ w, (N, D) @ (D, M); not w @ x and not element-wise.")
            grading.expect_close("out", out, {literal(out_aff)}, hint="both terms together: x @ w + b.")
            x3 = {literal(x3)}
            out3, _ = affine_forward(x3, {literal(w3)}, {literal(b3)})
            grading.expect_close("out for x of shape (2, 2, 2), flattened to (2, 4)", out3, {literal(out3)},
                                 hint="flatten each example first: x.reshape(x.shape[0], -1).")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "affine_forward",
            forward_hidden(
                "affine_forward",
                "layers.affine.affine_forward",
                """
                def _inputs(rng):
                    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 5))
                    shape = (n, *(int(s) for s in rng.integers(1, 4, size=int(rng.integers(1, 3)))))
                    d = int(np.prod(shape[1:]))
                    return {"x": rng.standard_normal(shape), "w": rng.standard_normal((d, m)), "b": rng.standard_normal(m)}
                """,
                "f\"x of shape {inputs['x'].shape}, w of shape {inputs['w'].shape}\"",
            ),
            points=1,
        )
    )

    dout_row0 = DOUT_AFF * np.array([[1.0], [0.0]])
    _, dw_row0, db_row0 = affine.affine_backward(dout_row0, cache_aff)
    c.append(
        markdown(
            r"""
            Backward: with $\text{out} = x W + b$ and upstream gradient $\text{dout} = \partial L / \partial \text{out}$ of
            shape $(N, M)$,

            $$dx = \text{dout}\, W^\top \ (N, D), \qquad dW = x^\top \text{dout} \ (D, M), \qquad db = \sum_{n} \text{dout}_{n,:} \ (M,).$$

            The bias was copied to $N$ rows in the forward pass, so its gradient **sums** the $N$ copies' gradients.
            $dW$ is a sum too: $x^\top \text{dout} = \sum_n x_n^\top \text{dout}_n$, one outer product per example.
            Check the shapes: each gradient has the shape of its input (for a multi-axis $x$, reshape $dx$ back).

            **Exercise 2b.** `affine_backward(dout, cache)` returns `(dx, dw, db)`.
            """
        )
    )
    c.append(
        solution(
            "affine_backward",
            '''
            def affine_backward(dout, cache):
                """dout: (N, M). Returns dx (shape of x), dw (D, M), db (M,)."""
                ### BEGIN SOLUTION
                x, w = cache
                dx = (dout @ w.T).reshape(x.shape)  # (N, D) -> x's shape
                dw = x.reshape(x.shape[0], -1).T @ dout  # (D, M)
                db = dout.sum(axis=0)  # (M,)
                return dx, dw, db
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "affine_backward",
            f"""
            x = {literal(X_AFF)}
            w = {literal(W_AFF)}
            b = {literal(B_AFF)}
            dout = {literal(DOUT_AFF)}
            _, cache = affine_forward(x, w, b)
            grads = affine_backward(dout, cache)
            assert isinstance(grads, tuple) and len(grads) == 3, "affine_backward must return (dx, dw, db)."
            dx, dw, db = grads
            grading.expect_shape("dx", dx, (2, 3), hint="dx has the shape of x, (N, D): dout (N, M) @ w.T (M, D).")
            grading.expect_shape("dw", dw, (3, 2), hint="dw has the shape of w, (D, M): x.T (D, N) @ dout (N, M).")
            grading.expect_shape("db", db, (2,), hint="db has the shape of b, (M,): sum dout over the batch axis 0.")
            # Isolation case: an upstream gradient on example 0 only.
            dout_row0 = {literal(dout_row0)}
            _, dw0, db0 = affine_backward(dout_row0, cache)
            grading.expect_close("db with dout on example 0 only", db0, {literal(db_row0)},
                                 hint="db is the sum of dout over the examples; here only row 0 is non-zero.")
            grading.expect_close("dw with dout on example 0 only", dw0, {literal(dw_row0)},
                                 hint="example 0 alone contributes the outer product np.outer(x[0], dout[0]).")
            grading.expect_close("dx", dx, {literal(dx_aff)}, hint="dx = dout @ w.T (the transpose of w).")
            grading.expect_close("dw", dw, {literal(dw_aff)}, hint="dw = x.T @ dout.")
            grading.expect_close("db", db, {literal(db_aff)}, hint="db = dout.sum(axis=0).")
            _, cache3 = affine_forward({literal(x3)}, {literal(w3)}, {literal(b3)})
            dx3 = affine_backward({literal(dout3)}, cache3)[0]
            grading.expect_shape("dx for x of shape (2, 2, 2)", dx3, (2, 2, 2), hint="reshape dx back to x.shape.")
            grading.expect_close("dx for x of shape (2, 2, 2)", dx3, {literal(dx3)}, hint="dx = (dout @ w.T).reshape(x.shape).")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "affine_backward",
            """
            def _inputs(rng):
                n, m = int(rng.integers(1, 6)), int(rng.integers(1, 5))
                shape = (n, *(int(s) for s in rng.integers(1, 4, size=int(rng.integers(1, 3)))))
                d = int(np.prod(shape[1:]))
                return {"x": rng.standard_normal(shape), "w": rng.standard_normal((d, m)), "b": rng.standard_normal(m)}

            grading.check_forward_backward(affine_forward, affine_backward, "layers.affine.affine", _inputs,
                                           grads=("x", "w", "b"), trials=3)
            """,
            points=2,
        )
    )

    # ---- 3. activations ------------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 3. Activations

            Without a non-linearity between them, two affine layers collapse into one. The three classic choices act
            element-wise, so their backward pass multiplies `dout` element-wise by the local derivative. Each is cheapest
            written in terms of the forward **output**, so that is what the cache holds:

            | | forward | local derivative |
            |---|---|---|
            | ReLU | $\max(x, 0)$ | $[x > 0]$ (we take 0 at $x = 0$, as PyTorch does) |
            | sigmoid | $\sigma(x) = 1 / (1 + e^{-x})$ | $\sigma(x)\,(1 - \sigma(x))$ |
            | tanh | $\tanh x$ | $1 - \tanh^2 x$ |

            All shapes: `x`, `out`, `dout` and `dx` have the same (any) shape.

            **Exercise 3a.** `relu_forward(x)` returns `(out, cache)` and `relu_backward(dout, cache)` returns `dx`.
            """
        )
    )
    out_relu, cache_relu = activations.relu_forward(X_ACT)
    dx_relu = activations.relu_backward(DOUT_ACT, cache_relu)
    out_sig, cache_sig = activations.sigmoid_forward(X_ACT)
    dx_sig = activations.sigmoid_backward(DOUT_ACT, cache_sig)
    out_tanh, cache_tanh = activations.tanh_forward(X_ACT)
    dx_tanh = activations.tanh_backward(DOUT_ACT, cache_tanh)

    def activation_cells(
        name: str,
        fwd_src: str,
        bwd_src: str,
        out: np.ndarray,
        dx: np.ndarray,
        fwd_hint: str,
        bwd_hint: str,
        fwd_extra: str = "",
        bwd_extra: str = "",
    ) -> None:
        c.append(solution(f"{name}_forward", fwd_src))
        c.append(
            visible_test(
                f"{name}_forward",
                piece(f"""
                x = {literal(X_ACT)}
                result = {name}_forward(x)
                assert isinstance(result, tuple) and len(result) == 2, "{name}_forward must return a pair (out, cache)."
                out, _ = result
                grading.expect_shape("{name}_forward(x) for x of shape (2, 3)", out, (2, 3), hint="element-wise: out has the shape of x.")
                grading.expect_close("{name}_forward(x)", out, {literal(out)}, hint="{fwd_hint}")
                """)
                + fwd_extra,
                points=1,
            )
        )
        c.append(
            hidden_test(
                f"{name}_forward",
                forward_hidden(
                    f"{name}_forward",
                    f"layers.activations.{name}_forward",
                    """
                    def _inputs(rng):
                        shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 4))))
                        return {"x": rng.standard_normal(shape) * 3}
                    """,
                    "f\"x of shape {inputs['x'].shape}\"",
                ),
                points=1,
            )
        )
        c.append(solution(f"{name}_backward", bwd_src))
        c.append(
            visible_test(
                f"{name}_backward",
                piece(f"""
                x = {literal(X_ACT)}
                dout = {literal(DOUT_ACT)}
                dout_before = dout.copy()
                _, cache = {name}_forward(x)
                dx = {name}_backward(dout, cache)
                grading.expect_shape("{name}_backward dx", dx, (2, 3), hint="dx has the shape of x.")
                grading.expect_close("{name}_backward dx", dx, {literal(dx)}, hint="{bwd_hint}")
                grading.expect_close("dout after {name}_backward", dout, dout_before, rtol=0, atol=0,
                                     hint="{name}_backward changed dout in place: build a new array.")
                """)
                + bwd_extra,
                points=1,
            )
        )
        c.append(
            hidden_test(
                f"{name}_backward",
                f"""
                def _inputs(rng):
                    shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 4))))
                    return {{"x": rng.standard_normal(shape) * 3}}

                grading.check_forward_backward({name}_forward, {name}_backward, "layers.activations.{name}", _inputs,
                                               grads=("x",), trials=3)
                """,
                points=1,
            )
        )

    activation_cells(
        "relu",
        '''
        def relu_forward(x):
            """out = max(x, 0), element-wise. Returns (out, cache)."""
            ### BEGIN SOLUTION
            out = np.maximum(x, 0)
            return out, out
            ### END SOLUTION
        ''',
        '''
        def relu_backward(dout, cache):
            """dx = dout * [x > 0]. Returns dx, shaped like dout."""
            ### BEGIN SOLUTION
            out = cache
            return dout * (out > 0)
            ### END SOLUTION
        ''',
        out_relu,
        dx_relu,
        "negative entries become 0, the others pass unchanged: np.maximum(x, 0).",
        "the gradient passes where x > 0 and is 0 elsewhere, including at x = 0 exactly (entry (0, 2)).",
    )
    c.append(
        markdown(
            r"""
            **Exercise 3b.** `sigmoid_forward(x)` and `sigmoid_backward(dout, cache)`. The formula $1 / (1 + e^{-x})$
            overflows for $x < -709$ in float64 ($e^{710}$ is `inf`), with a warning. Write it without overflow: with
            $z = e^{-|x|} \le 1$,

            $$\sigma(x) = \frac{1}{1 + z} \text{ for } x \ge 0, \qquad \sigma(x) = \frac{z}{1 + z} \text{ for } x < 0$$

            (`np.where` picks between the two numerators). The visible test raises an error if `exp` overflows.
            """
        )
    )
    activation_cells(
        "sigmoid",
        '''
        def sigmoid_forward(x):
            """out = 1 / (1 + exp(-x)), element-wise, without overflow. Returns (out, cache)."""
            ### BEGIN SOLUTION
            z = np.exp(-np.abs(x))  # <= 1, never overflows
            out = np.where(x >= 0, 1, z) / (1 + z)
            return out, out
            ### END SOLUTION
        ''',
        '''
        def sigmoid_backward(dout, cache):
            """dx = dout * s * (1 - s), s = sigmoid(x). Returns dx."""
            ### BEGIN SOLUTION
            s = cache
            return dout * s * (1 - s)
            ### END SOLUTION
        ''',
        out_sig,
        dx_sig,
        "sigma(0) = 0.5 and sigma(-x) = 1 - sigma(x); check the sign inside exp.",
        "the local derivative is s * (1 - s) with s the forward output (not the input x).",
        fwd_extra=overflow_guard(
            "big, _ = sigmoid_forward(np.array([-1000.0, 1000.0]))",
            "sigmoid_forward([-1000, 1000])",
            "exp(1000) overflows: compute z = np.exp(-np.abs(x)) and use 1 / (1 + z) or z / (1 + z).",
        )
        + """grading.expect_close("sigmoid_forward([-1000, 1000])", big, np.array([0.0, 1.0]),
                     hint="far from 0 the sigmoid saturates at 0 and 1.")
""",
    )
    c.append(
        markdown(
            r"""
            **Exercise 3c.** `tanh_forward(x)` and `tanh_backward(dout, cache)` (`np.tanh` is already stable).
            """
        )
    )
    activation_cells(
        "tanh",
        '''
        def tanh_forward(x):
            """out = tanh(x), element-wise. Returns (out, cache)."""
            ### BEGIN SOLUTION
            out = np.tanh(x)
            return out, out
            ### END SOLUTION
        ''',
        '''
        def tanh_backward(dout, cache):
            """dx = dout * (1 - tanh(x)**2). Returns dx."""
            ### BEGIN SOLUTION
            t = cache
            return dout * (1 - t * t)
            ### END SOLUTION
        ''',
        out_tanh,
        dx_tanh,
        "use np.tanh.",
        "the local derivative is 1 - t**2 with t = tanh(x), the forward output.",
    )

    # ---- 4. broadcasting -----------------------------------------------------------------------------
    g = np.arange(24, dtype=np.float64).reshape(2, 3, 4) - 10
    shapes = [(2, 3, 4), (3, 4), (3, 1), (1, 3, 1), (4,), ()]
    ub = {s: elementwise.unbroadcast(g, s) for s in shapes}
    c.append(
        markdown(
            r"""
            ## 4. Element-wise add and multiply with broadcasting

            NumPy **broadcasting** lets `x + y` combine shapes like `(2, 3)` and `(3,)`: shapes are aligned from the
            right, missing leading axes are added, and axes of size 1 are stretched by copying. The bias of the affine
            layer was one case. In the backward pass, every copy of an entry received its own gradient, and the entry's
            gradient is their **sum** (the same entry was used several times: gradients add up).

            `unbroadcast(grad, shape)` undoes broadcasting on a gradient: it sums `grad` (the broadcast shape) over the
            leading axes the input did not have, then, keeping dimensions, over the axes where the input had size 1
            but `grad` does not, and returns an array of exactly `shape`. Example: `grad` `(2, 3, 4)` and `shape`
            `(3, 1)`: sum over axis 0 (missing), giving `(3, 4)`, then over axis 1 with `keepdims=True`, giving `(3, 1)`.

            **Exercise 4a.** `unbroadcast(grad, shape)` returns an array of shape `shape` (`()` means a scalar shape).
            """
        )
    )
    c.append(
        solution(
            "unbroadcast",
            '''
            def unbroadcast(grad, shape):
                """Sum grad over the axes broadcasting added or stretched, so that it has shape `shape` again."""
                ### BEGIN SOLUTION
                shape = tuple(shape)
                extra = grad.ndim - len(shape)
                if extra > 0:
                    grad = grad.sum(axis=tuple(range(extra)))  # leading axes the input never had
                stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
                if stretched:
                    grad = grad.sum(axis=stretched, keepdims=True)  # size-1 axes that were copied
                return grad.reshape(shape)
                ### END SOLUTION
            ''',
        )
    )
    unbroadcast_lines = "\n".join(
        f"""grading.expect_close("unbroadcast(grad, {s})", unbroadcast(grad, {s}), {literal(ub[s])},
                     hint="{hint}")"""
        for s, hint in [
            ((2, 3, 4), "nothing was broadcast: return grad unchanged."),
            ((3, 4), "sum over the missing leading axis 0."),
            ((3, 1), "sum over the missing axis 0, then over axis 1 with keepdims=True."),
            ((1, 3, 1), "sum over axes 0 and 2 (size 1 in shape) with keepdims=True."),
            ((4,), "sum over both missing leading axes 0 and 1."),
            ((), "a scalar input was broadcast everywhere: sum over all axes."),
        ]
    )
    c.append(
        visible_test(
            "unbroadcast",
            piece("""
            grad = np.arange(24, dtype=np.float64).reshape(2, 3, 4) - 10
            for shape in [(2, 3, 4), (3, 4), (3, 1), (1, 3, 1), (4,), ()]:
                grading.expect_shape(f"unbroadcast(grad of shape (2, 3, 4), {shape})", unbroadcast(grad, shape), shape,
                                     hint="the result has exactly the requested shape (use keepdims=True for size-1 axes).")
            """)
            + unbroadcast_lines,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "unbroadcast",
            """
            def _inputs(rng):
                ndim = int(rng.integers(1, 5))
                full = tuple(int(s) for s in rng.integers(1, 5, size=ndim))
                keep = int(rng.integers(0, ndim + 1))  # the input has the last `keep` axes ...
                shape = tuple(1 if rng.random() < 0.4 else s for s in full[ndim - keep:])  # ... some of size 1
                return {"grad": rng.standard_normal(full), "shape": shape}

            grading.check_function(unbroadcast, "layers.elementwise.unbroadcast", _inputs, trials=6)
            """,
            points=2,
        )
    )

    out_add, cache_add = elementwise.add_forward(X_EW, Y_ROW)
    dx_add, dy_add = elementwise.add_backward(DOUT_EW, cache_add)
    out_addc, cache_addc = elementwise.add_forward(X_EW, Y_COL)
    dx_addc, dy_addc = elementwise.add_backward(DOUT_EW, cache_addc)
    c.append(
        markdown(
            r"""
            **Exercise 4b.** `add_forward(x, y)` returns `(x + y, cache)` with NumPy broadcasting (output shape $S$, the
            broadcast shape); `add_backward(dout, cache)` returns `(dx, dy)`, shaped like `x` and `y`. The local
            derivative of a sum is 1, so $dx = \text{unbroadcast}(\text{dout}, x.\text{shape})$, and the same for $y$:
            the cache needs only the two shapes.
            """
        )
    )
    c.append(
        solution(
            "add_forward",
            '''
            def add_forward(x, y):
                """out = x + y (broadcast). Returns (out, cache)."""
                ### BEGIN SOLUTION
                return x + y, (x.shape, y.shape)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "add_forward",
            f"""
            x = {literal(X_EW)}
            result = add_forward(x, {literal(Y_ROW)})
            assert isinstance(result, tuple) and len(result) == 2, "add_forward must return a pair (out, cache)."
            grading.expect_close("add_forward(x (2, 3), y (3,))", result[0], {literal(out_add)},
                                 hint="x + y: NumPy broadcasts y over the rows.")
            grading.expect_close("add_forward(x (2, 3), y (2, 1))", add_forward(x, {literal(Y_COL)})[0], {literal(out_addc)},
                                 hint="x + y: NumPy broadcasts y over the columns.")
            """,
            points=1,
        )
    )
    ew_inputs = """
    def _inputs(rng):
        shape = tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 4))))
        keep = int(rng.integers(0, len(shape) + 1))
        small = tuple(1 if rng.random() < 0.4 else s for s in shape[len(shape) - keep:])
        x, y = rng.standard_normal(shape), rng.standard_normal(small)
        return {"x": x, "y": y} if rng.random() < 0.5 else {"x": y, "y": x}  # either side may be broadcast
    """
    c.append(
        hidden_test(
            "add_forward",
            forward_hidden(
                "add_forward",
                "layers.elementwise.add_forward",
                ew_inputs,
                "f\"x of shape {inputs['x'].shape}, y of shape {inputs['y'].shape}\"",
                trials=4,
            ),
            points=1,
        )
    )
    c.append(
        solution(
            "add_backward",
            '''
            def add_backward(dout, cache):
                """dout: the broadcast shape. Returns (dx, dy), shaped like x and y."""
                ### BEGIN SOLUTION
                x_shape, y_shape = cache
                return unbroadcast(dout, x_shape), unbroadcast(dout, y_shape)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "add_backward",
            f"""
            x = {literal(X_EW)}
            dout = {literal(DOUT_EW)}
            _, cache = add_forward(x, {literal(Y_ROW)})
            grads = add_backward(dout, cache)
            assert isinstance(grads, tuple) and len(grads) == 2, "add_backward must return (dx, dy)."
            dx, dy = grads
            grading.expect_shape("dx for x (2, 3) + y (3,)", dx, (2, 3), hint="dx has the shape of x.")
            grading.expect_shape("dy for x (2, 3) + y (3,)", dy, (3,), hint="dy has the shape of y: unbroadcast(dout, y.shape).")
            grading.expect_close("dx for x (2, 3) + y (3,)", dx, {literal(dx_add)}, hint="the local derivative of x + y is 1: dx = dout.")
            grading.expect_close("dy for x (2, 3) + y (3,)", dy, {literal(dy_add)},
                                 hint="y was copied to both rows: dy sums dout over axis 0.")
            _, cache = add_forward(x, {literal(Y_COL)})
            dx, dy = add_backward(dout, cache)
            grading.expect_close("dy for x (2, 3) + y (2, 1)", dy, {literal(dy_addc)},
                                 hint="y was copied along the columns: sum dout over axis 1, keeping the shape (2, 1).")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "add_backward",
            ew_inputs.strip("\n")
            + """

    grading.check_forward_backward(add_forward, add_backward, "layers.elementwise.add", _inputs, grads=("x", "y"), trials=4)
    """,
            points=2,
        )
    )

    out_mul, cache_mul = elementwise.multiply_forward(X_EW, Y_ROW)
    dx_mul, dy_mul = elementwise.multiply_backward(DOUT_EW, cache_mul)
    _, cache_mulc = elementwise.multiply_forward(X_EW, Y_COL)
    dx_mulc, dy_mulc = elementwise.multiply_backward(DOUT_EW, cache_mulc)
    dx_mul_y0, _ = elementwise.multiply_backward(DOUT_EW, elementwise.multiply_forward(X_EW, np.zeros(3))[1])
    c.append(
        markdown(
            r"""
            **Exercise 4c.** `multiply_forward(x, y)` returns `(x * y, cache)` (element-wise, broadcast) and
            `multiply_backward(dout, cache)` returns `(dx, dy)`. Each input's local derivative is the *other* input:

            $$dx = \text{unbroadcast}(\text{dout} \cdot y,\ x.\text{shape}), \qquad dy = \text{unbroadcast}(\text{dout} \cdot x,\ y.\text{shape}).$$

            (If the same array is both inputs, $x \cdot x$, the caller adds $dx + dy = 2x\,\text{dout}$: a value used
            twice receives the sum of its gradients.)
            """
        )
    )
    c.append(
        solution(
            "multiply_forward",
            '''
            def multiply_forward(x, y):
                """out = x * y (element-wise, broadcast). Returns (out, cache)."""
                ### BEGIN SOLUTION
                return x * y, (x, y)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "multiply_forward",
            f"""
            x = {literal(X_EW)}
            result = multiply_forward(x, {literal(Y_ROW)})
            assert isinstance(result, tuple) and len(result) == 2, "multiply_forward must return a pair (out, cache)."
            grading.expect_close("multiply_forward(x (2, 3), y (3,))", result[0], {literal(out_mul)},
                                 hint="element-wise x * y (not a matrix product), broadcast over the rows.")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "multiply_forward",
            forward_hidden(
                "multiply_forward",
                "layers.elementwise.multiply_forward",
                ew_inputs,
                "f\"x of shape {inputs['x'].shape}, y of shape {inputs['y'].shape}\"",
                trials=4,
            ),
            points=1,
        )
    )
    c.append(
        solution(
            "multiply_backward",
            '''
            def multiply_backward(dout, cache):
                """dout: the broadcast shape. Returns (dx, dy), shaped like x and y."""
                ### BEGIN SOLUTION
                x, y = cache
                return unbroadcast(dout * y, x.shape), unbroadcast(dout * x, y.shape)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "multiply_backward",
            f"""
            x = {literal(X_EW)}
            dout = {literal(DOUT_EW)}
            # Isolation case: y = 0 makes dx zero, so dy alone is tested first.
            _, cache = multiply_forward(x, np.zeros(3))
            dx0, dy0 = multiply_backward(dout, cache)
            grading.expect_close("dx when y = 0", dx0, {literal(dx_mul_y0)}, atol=1e-12,
                                 hint="dx = dout * y, which is 0 when y is 0: did you multiply by x instead?")
            _, cache = multiply_forward(x, {literal(Y_ROW)})
            grads = multiply_backward(dout, cache)
            assert isinstance(grads, tuple) and len(grads) == 2, "multiply_backward must return (dx, dy)."
            dx, dy = grads
            grading.expect_shape("dx for x (2, 3) * y (3,)", dx, (2, 3), hint="dx has the shape of x.")
            grading.expect_shape("dy for x (2, 3) * y (3,)", dy, (3,), hint="dy has the shape of y: unbroadcast.")
            grading.expect_close("dx for x (2, 3) * y (3,)", dx, {literal(dx_mul)}, hint="dx = dout * y (y broadcast over the rows).")
            grading.expect_close("dy for x (2, 3) * y (3,)", dy, {literal(dy_mul)},
                                 hint="dy = unbroadcast(dout * x, y.shape): the sum over the rows of dout * x.")
            _, cache = multiply_forward(x, {literal(Y_COL)})
            dx, dy = multiply_backward(dout, cache)
            grading.expect_close("dx for x (2, 3) * y (2, 1)", dx, {literal(dx_mulc)}, hint="dx = dout * y.")
            grading.expect_close("dy for x (2, 3) * y (2, 1)", dy, {literal(dy_mulc)},
                                 hint="sum dout * x over axis 1, keeping the shape (2, 1).")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "multiply_backward",
            ew_inputs.strip("\n")
            + """

    grading.check_forward_backward(multiply_forward, multiply_backward, "layers.elementwise.multiply", _inputs,
                                   grads=("x", "y"), trials=4)
    """,
            points=2,
        )
    )

    # ---- 5. MSE and BCE --------------------------------------------------------------------------------
    pred = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, 1.0]])
    target = np.array([[1.0, -1.0, 0.0], [1.0, 0.5, 1.0]])
    mse, dpred = losses.mse_loss(pred, target)
    z_b = np.array([-2.0, 0.0, 1.5, 3.0])
    y_b = np.array([0.0, 1.0, 1.0, 0.0])
    bce, dz_b = losses.binary_cross_entropy_with_logits(z_b, y_b)
    c.append(
        markdown(
            r"""
            ## 5. Losses: mean squared error and binary cross-entropy

            A loss is the last module: it takes the predictions and the targets and returns a scalar $L$ together with
            $\partial L / \partial \text{pred}$ (the start of the backward pass, the first `dout`). Every loss here is a
            **mean over all elements**, so the gradient carries the factor $1/\text{size}$.

            **Mean squared error**, for `pred` and `target` of the same (any) shape with $S$ elements:

            $$L = \frac{1}{S}\sum_i (\text{pred}_i - \text{target}_i)^2, \qquad \frac{\partial L}{\partial \text{pred}} = \frac{2}{S}(\text{pred} - \text{target}).$$

            **Exercise 5a.** `mse_loss(pred, target)` returns `(loss, dpred)`.
            """
        )
    )
    c.append(
        solution(
            "mse_loss",
            '''
            def mse_loss(pred, target):
                """loss = mean((pred - target)**2) over all elements; dpred = 2 (pred - target) / size."""
                ### BEGIN SOLUTION
                diff = pred - target
                return np.mean(diff * diff), diff * (2.0 / diff.size)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "mse_loss",
            f"""
            pred = {literal(pred)}
            target = {literal(target)}
            loss0, dpred0 = mse_loss(pred, pred.copy())
            grading.expect_close("mse_loss at a perfect prediction", loss0, 0.0, atol=1e-12,
                                 hint="the loss is built from pred - target, which is zero here.")
            loss, dpred = mse_loss(pred, target)
            grading.expect_close("mse loss", loss, {literal(mse)},
                                 hint="the mean over all 6 elements (not the sum, and not divided by N = 2 only).")
            grading.expect_shape("dpred", dpred, (2, 3), hint="dpred has the shape of pred.")
            grading.expect_close("dpred", dpred, {literal(dpred)}, hint="dpred = 2 (pred - target) / pred.size.")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "mse_loss",
            """
            def _inputs(rng):
                shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 4))))
                return {"pred": rng.standard_normal(shape), "target": rng.standard_normal(shape)}

            grading.check_function(mse_loss, "layers.losses.mse_loss", _inputs, output_names=("loss", "dpred"))
            """,
            points=1,
        )
    )
    c.append(
        markdown(
            r"""
            **Binary cross-entropy on logits.** For a binary target $y \in \{0, 1\}$ (or a probability in $[0, 1]$) and a
            logit $z$ with predicted probability $\sigma(z)$, the loss per element is
            $-[y \log \sigma(z) + (1 - y)\log(1 - \sigma(z))]$. Written directly it breaks down: for $z = -1000$,
            $\sigma(z)$ underflows to 0 and $\log 0 = -\infty$. Simplified, the same loss is

            $$\ell(z, y) = \max(z, 0) - z y + \log\left(1 + e^{-|z|}\right),$$

            where $e^{-|z|} \le 1$ never overflows (`np.log1p(t)` computes $\log(1 + t)$ accurately for small $t$). Its
            derivative is strikingly simple: $\partial \ell / \partial z = \sigma(z) - y$. Averaged over the $S$ elements:
            $L = \frac{1}{S}\sum_i \ell(z_i, y_i)$ and $\partial L / \partial z = (\sigma(z) - y)/S$.

            **Exercise 5b.** `binary_cross_entropy_with_logits(z, y)` returns `(loss, dz)` (`z`, `y`, `dz` of the same
            shape) without overflow. You may call your `sigmoid_forward`.
            """
        )
    )
    c.append(
        solution(
            "binary_cross_entropy_with_logits",
            '''
            def binary_cross_entropy_with_logits(z, y):
                """Mean of max(z, 0) - z y + log(1 + exp(-|z|)); dz = (sigmoid(z) - y) / size."""
                ### BEGIN SOLUTION
                loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
                s, _ = sigmoid_forward(z)
                return loss, (s - y) / z.size
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "binary_cross_entropy_with_logits",
            piece(f"""
            z = {literal(z_b)}
            y = {literal(y_b)}
            loss0, dz0 = binary_cross_entropy_with_logits(np.zeros(4), np.full(4, 0.5))
            grading.expect_close("BCE loss at z = 0 with y = 0.5", loss0, float(np.log(2)),
                                 hint="at z = 0 every element costs log 2 = max(0, 0) - 0 + log(1 + 1).")
            grading.expect_close("BCE dz at z = 0 with y = 0.5", dz0, np.zeros(4), atol=1e-12,
                                 hint="dz = (sigmoid(z) - y) / size, and sigmoid(0) = 0.5.")
            loss, dz = binary_cross_entropy_with_logits(z, y)
            grading.expect_close("BCE loss", loss, {literal(bce)},
                                 hint="mean over the elements of max(z, 0) - z * y + log1p(exp(-|z|)).")
            grading.expect_close("BCE dz", dz, {literal(dz_b)}, hint="dz = (sigmoid(z) - y) / z.size.")
            """)
            + overflow_guard(
                "big_loss, big_dz = binary_cross_entropy_with_logits(np.array([-1000.0, 1000.0]), np.array([1.0, 0.0]))",
                "binary_cross_entropy_with_logits at z = [-1000, 1000]",
                "use the form max(z, 0) - z y + log1p(exp(-|z|)); never take the log of a sigmoid and never exp(-z).",
            )
            + """grading.expect_close("BCE loss at z = [-1000, 1000], y = [1, 0]", big_loss, 1000.0,
                     hint="both predictions are confidently wrong by a logit of 1000: the mean loss is 1000.")
grading.expect_close("BCE dz at z = [-1000, 1000], y = [1, 0]", big_dz, np.array([-0.5, 0.5]),
                     hint="(sigmoid(z) - y) / 2 with sigmoid(-1000) = 0 and sigmoid(1000) = 1.")
""",
            points=2,
        )
    )
    c.append(
        hidden_test(
            "binary_cross_entropy_with_logits",
            """
            def _inputs(rng):
                shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 3))))
                z = rng.standard_normal(shape) * 10.0 ** rng.integers(0, 4)  # logits up to a few thousand
                z.flat[0] = float(rng.choice([-1000.0, 1000.0]))  # a saturated logit: the naive formula gives inf
                y = (rng.random(shape) < 0.5).astype(np.float64) if rng.random() < 0.7 else rng.random(shape)
                return {"z": z, "y": y}

            grading.check_function(binary_cross_entropy_with_logits, "layers.losses.binary_cross_entropy_with_logits", _inputs,
                                   trials=4, output_names=("loss", "dz"))
            """,
            points=2,
        )
    )

    # ---- 6. softmax ---------------------------------------------------------------------------------------
    x_sm = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    p_sm = losses.softmax(x_sm)
    p_sm0 = losses.softmax(x_sm, axis=0)
    ramp = np.linspace(-300, 300, 1000)
    p_ramp_tail = losses.softmax(ramp)[-4:]
    c.append(
        markdown(
            r"""
            ## 6. Softmax, log-softmax and the fused softmax-cross-entropy

            Softmax turns a row of $C$ class scores (logits) into probabilities:

            $$\text{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}} = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}} \quad \text{for any constant } m .$$

            Written directly it **overflows**: in float32, $e^{x}$ is `inf` for $x > 88.7$, so logits of 300 over
            1000 classes give `inf / inf = nan`; in float64 the limit is $x > 709.8$. The second form fixes it: with
            $m = \max_j x_j$, every exponent is $\le 0$ and the largest term is exactly $e^0 = 1$, so the denominator
            lies in $[1, C]$ and nothing overflows.

            **Exercise 6a.** `softmax(x, axis=-1)` normalises along `axis` (the classes), for any shape, and keeps the
            dtype of `x` (float32 in, float32 out). Use `keepdims=True` in `max` and `sum` so that they broadcast back.
            """
        )
    )
    c.append(
        solution(
            "softmax",
            '''
            def softmax(x, axis=-1):
                """Stable softmax along `axis`: exp(x - max) / sum exp(x - max). Same shape and dtype as x."""
                ### BEGIN SOLUTION
                e = np.exp(x - x.max(axis=axis, keepdims=True))  # every exponent <= 0
                return e / e.sum(axis=axis, keepdims=True)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "softmax",
            piece(f"""
            x = {literal(x_sm)}
            p = softmax(x)
            grading.expect_shape("softmax(x) for x of shape (2, 3)", p, (2, 3), hint="softmax keeps the shape of x.")
            grading.expect_close("rows of softmax(x) summed", p.sum(axis=1), np.ones(2),
                                 hint="normalise along the last axis: divide by the sum over axis -1 (keepdims=True).")
            grading.expect_close("softmax(x)", p, {literal(p_sm)}, hint="exp(x_i) / sum_j exp(x_j), row by row.")
            grading.expect_close("softmax(x, axis=0)", softmax(x, axis=0), {literal(p_sm0)},
                                 hint="use the axis argument for the max and the sum.")
            """)
            + overflow_guard(
                """p_shift = softmax(x + 1000.0)
        p_rows = softmax(np.array([[0.0, 1.0], [-1000.0, -999.0]]))  # the rows are 1000 apart
        x32 = np.full((3, 1000), -300.0, dtype=np.float32)
        x32[0] = 300.0  # 1000 equal logits of 300: the uniform distribution
        x32[1, 7], x32[1, 8] = 300.0, 299.0  # two large logits one apart, the rest at -300
        x32[2] = np.linspace(-300, 300, 1000)  # a ramp up to 300
        p32 = softmax(x32)""",
                "softmax of large logits (x + 1000, rows 1000 apart, float32 logits up to 300 over 1000 classes)",
                "subtract the maximum of each row (x.max(axis=axis, keepdims=True)) before np.exp.",
            )
            + f"""grading.expect_close("softmax(x + 1000)", p_shift, {literal(p_sm)},
                     hint="softmax does not change when a constant is added to every logit: subtract the row maximum first.")
grading.expect_close("softmax of rows [0, 1] and [-1000, -999]", p_rows[1], p_rows[0], rtol=1e-9,
                     hint="the two rows differ by a constant, so their softmax is the same: subtract each row's own maximum (keepdims=True), not the maximum of the whole array.")
grading.expect_equal("dtype of softmax(float32 logits)", str(p32.dtype), "float32",
                     hint="compute in the dtype of x; do not convert to float64.")
grading.expect_close("softmax of 1000 equal logits of 300 (float32)", p32[0], np.full(1000, 1e-3), rtol=1e-5,
                     hint="equal logits give the uniform distribution 1/C; exp(300) overflows float32: subtract the max.")
grading.expect_close("softmax of logits [.., 300, 299, ..] (float32), classes 7 and 8", p32[1, 7:9],
                     {literal(np.array([1, np.exp(-1)]) / (1 + np.exp(-1)))}, rtol=1e-5,
                     hint="e^0 / (e^0 + e^-1) and e^-1 / (e^0 + e^-1) after subtracting the maximum 300.")
grading.expect_close("softmax of a ramp up to 300 (float32), last 4 classes", p32[2, -4:], {literal(p_ramp_tail)},
                     rtol=1e-5, hint="subtract the row maximum before np.exp.")
""",
            points=2,
        )
    )
    c.append(
        hidden_test(
            "softmax",
            """
            def _inputs(rng):
                shape = tuple(int(s) for s in rng.integers(1, 7, size=int(rng.integers(1, 4))))
                scale = float(rng.choice([1.0, 30.0, 300.0]))
                return {"x": rng.uniform(-scale, scale, shape), "axis": int(rng.integers(-len(shape), len(shape)))}

            grading.check_function(softmax, "layers.losses.softmax", _inputs, trials=4, atol=1e-12)

            def _inputs32(rng):  # logits up to 300 over 1000 classes, in float32
                x = rng.uniform(-300, 300, (int(rng.integers(1, 5)), 1000)).astype(np.float32)
                x[:, int(rng.integers(0, 1000))] = 300.0
                return {"x": x}

            grading.check_function(softmax, "layers.losses.softmax", _inputs32, trials=2, rtol=1e-4, atol=1e-7,
                                   label="softmax (float32, logits up to 300 over 1000 classes)")

            def _inputs_offset(rng):  # rows whose logits differ by thousands: each row needs its own maximum
                n, c = int(rng.integers(2, 6)), int(rng.integers(2, 8))
                return {"x": rng.uniform(-1, 1, (n, c)) + 3000 * rng.standard_normal((n, 1))}

            grading.check_function(softmax, "layers.losses.softmax", _inputs_offset, trials=2, atol=1e-12,
                                   label="softmax (rows offset by thousands)")
            """,
            points=2,
        )
    )

    x_ls = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    ls = losses.log_softmax(x_ls)
    c.append(
        markdown(
            r"""
            The log of a probability is what a loss needs, and $\log(\text{softmax}(x))$ fails again: a class 1000 below
            the maximum has probability $e^{-1000}$, which underflows to 0, and $\log 0 = -\infty$. Take the log of the
            stable form instead:

            $$\log \text{softmax}(x)_i = (x_i - m) - \log \sum_j e^{x_j - m}, \qquad m = \max_j x_j .$$

            The sum is at least 1 (the maximum contributes $e^0$), so its log is safe. (This is the *log-sum-exp trick*.)

            **Exercise 6b.** `log_softmax(x, axis=-1)` returns the log-probabilities, same shape as `x`, all $\le 0$.
            """
        )
    )
    c.append(
        solution(
            "log_softmax",
            '''
            def log_softmax(x, axis=-1):
                """Stable log-softmax along `axis`: (x - m) - log sum exp(x - m), m = max. Same shape as x."""
                ### BEGIN SOLUTION
                shifted = x - x.max(axis=axis, keepdims=True)
                return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "log_softmax",
            piece(f"""
            x = {literal(x_ls)}
            """)
            + overflow_guard(
                "lp = log_softmax(x)",
                "log_softmax([[1, 2, 3], [1000, 0, -1000]])",
                "do not take np.log(softmax(x)); use (x - m) - log(sum(exp(x - m))) with m the row maximum.",
            )
            + f"""grading.expect_close("log_softmax(x) row 0 = [1, 2, 3]", lp[0], {literal(ls[0])},
                     hint="log of the softmax probabilities: (x - m) - log(sum exp(x - m)).")
grading.expect_close("log_softmax(x) row 1 = [1000, 0, -1000]", lp[1], {literal(ls[1])},
                     hint="the classes far below the maximum have log-probabilities about -1000 and -2000, not -inf.")
grading.expect_close("log_softmax(x, axis=0)", log_softmax(x[:, :2], axis=0), {literal(losses.log_softmax(x_ls[:, :2], axis=0))},
                     hint="use the axis argument for the max and the sum.")
""",
            points=1,
        )
    )
    c.append(
        hidden_test(
            "log_softmax",
            """
            def _inputs(rng):
                shape = tuple(int(s) for s in rng.integers(1, 7, size=int(rng.integers(1, 4))))
                scale = float(rng.choice([1.0, 30.0, 1000.0]))
                return {"x": rng.uniform(-scale, scale, shape), "axis": int(rng.integers(-len(shape), len(shape)))}

            grading.check_function(log_softmax, "layers.losses.log_softmax", _inputs, trials=4)
            """,
            points=2,
        )
    )

    sce, dlog = losses.softmax_cross_entropy(LOGITS, LABELS)
    c.append(
        markdown(
            r"""
            **The fused softmax-cross-entropy.** For $N$ examples with logits $s_n$ (a row of $C$ scores) and true classes
            $y_n$, the cross-entropy loss is the mean negative log-probability of the true class:

            $$L = -\frac{1}{N}\sum_n \log \text{softmax}(s_n)_{y_n}, \qquad \frac{\partial L}{\partial s_{n,:}} = \frac{1}{N}\left(\text{softmax}(s_n) - \text{onehot}(y_n)\right).$$

            As separate modules, the backward pass would go through the log ($-1/p$, infinite when $p$ underflows to 0) and
            then multiply by the $C \times C$ Jacobian of softmax. Fused into one module the gradient is the difference
            above: one `exp` per logit, no division by a probability, no Jacobian. (Section 9 times the two.)

            **Exercise 6c.** `softmax_cross_entropy(logits, y)` takes logits `(N, C)` and integer labels `y` `(N,)` and
            returns `(loss, dlogits)`, the scalar mean loss and its gradient `(N, C)`, stably (logits up to 300 over 1000
            classes, float32, must work). Index the true classes with `logits[np.arange(N), y]`. Do not modify `logits`.
            """
        )
    )
    c.append(
        solution(
            "softmax_cross_entropy",
            '''
            def softmax_cross_entropy(logits, y):
                """loss = -mean_n log softmax(logits_n)[y_n]; dlogits = (softmax(logits) - onehot(y)) / N."""
                ### BEGIN SOLUTION
                n = logits.shape[0]
                rows = np.arange(n)
                shifted = logits - logits.max(axis=1, keepdims=True)  # (N, C), every entry <= 0
                e = np.exp(shifted)
                total = e.sum(axis=1)  # (N,), >= 1
                loss = -np.mean(shifted[rows, y] - np.log(total))
                dlogits = e / total[:, None]  # softmax (N, C)
                dlogits[rows, y] -= 1
                dlogits /= n
                return loss, dlogits
                ### END SOLUTION
            ''',
        )
    )
    uniform_dl = (np.full((3, 4), 0.25) - np.eye(4)[LABELS]) / 3
    c.append(
        visible_test(
            "softmax_cross_entropy",
            piece(f"""
            logits = {literal(LOGITS)}
            y = {literal(LABELS)}
            logits_before = logits.copy()
            # Isolation case: equal logits give the uniform distribution, so the loss is log C.
            loss0, dlogits0 = softmax_cross_entropy(np.zeros((3, 4)), y)
            grading.expect_close("loss for all-zero logits (C = 4)", loss0, float(np.log(4)),
                                 hint="each example has probability 1/4 on its true class: loss = -log(1/4) = log 4.")
            grading.expect_close("dlogits for all-zero logits", dlogits0, {literal(uniform_dl)},
                                 hint="(softmax - onehot(y)) / N: 0.25 everywhere, minus 1 at the true class, all divided by N = 3.")
            loss, dlogits = softmax_cross_entropy(logits, y)
            grading.expect_close("softmax-cross-entropy loss", loss, {literal(sce)},
                                 hint="the mean over the N examples of -log softmax(logits_n)[y_n].")
            grading.expect_shape("dlogits", dlogits, (3, 4), hint="dlogits has the shape of logits, (N, C).")
            grading.expect_close("dlogits", dlogits, {literal(dlog)}, hint="dlogits = (softmax(logits) - onehot(y)) / N.")
            grading.expect_close("logits after the call", logits, logits_before, rtol=0, atol=0,
                                 hint="softmax_cross_entropy changed logits in place: shift a copy (logits - max builds one).")
            big = np.full((2, 1000), -300.0, dtype=np.float32)
            big[0, 5] = 300.0  # true class 5 has the largest logit: loss about 0
            big[1, 0] = 300.0  # true class 1 sits 600 below the maximum: loss 600
            """)
            + overflow_guard(
                "big_loss, big_dlogits = softmax_cross_entropy(big, np.array([5, 1]))",
                "softmax_cross_entropy of float32 logits up to 300 over 1000 classes",
                "subtract the row maximum before np.exp and compute the log-probability as shifted - log(sum exp(shifted)), never log(softmax).",
            )
            + """grading.expect_close("loss for float32 logits up to 300 over 1000 classes", big_loss, 300.0, rtol=1e-5,
                     hint="example 0 costs 0 and example 1 costs 600 (its logit is 600 below the maximum): mean 300.")
grading.expect_close("dlogits[1, :2] for float32 logits up to 300", big_dlogits[1, :2], np.array([0.5, -0.5]),
                     rtol=1e-5, hint="(softmax - onehot) / N: class 0 has probability 1, the true class 1 has 0, N = 2.")
""",
            points=2,
        )
    )
    c.append(
        hidden_test(
            "softmax_cross_entropy",
            """
            def _inputs(rng):
                n, c = int(rng.integers(1, 8)), int(rng.integers(2, 12))
                scale = float(rng.choice([1.0, 10.0, 300.0]))
                return {"logits": rng.uniform(-scale, scale, (n, c)), "y": rng.integers(0, c, n)}

            grading.check_function(softmax_cross_entropy, "layers.losses.softmax_cross_entropy", _inputs, trials=4,
                                   output_names=("loss", "dlogits"))

            def _inputs32(rng):  # logits up to 300 over 1000 classes, in float32
                n = int(rng.integers(1, 5))
                x = rng.uniform(-300, 300, (n, 1000)).astype(np.float32)
                x[:, int(rng.integers(0, 1000))] = 300.0
                return {"logits": x, "y": rng.integers(0, 1000, n)}

            grading.check_function(softmax_cross_entropy, "layers.losses.softmax_cross_entropy", _inputs32, trials=2,
                                   rtol=1e-4, atol=1e-6, output_names=("loss", "dlogits"),
                                   label="softmax_cross_entropy (float32, logits up to 300 over 1000 classes)")
            """,
            points=3,
        )
    )

    # ---- 7. the two-layer net ----------------------------------------------------------------------------
    net_loss, net_grads = reference_two_layer_loss(NET_PARAMS, NET_X, NET_Y)
    zero_params = {k: np.zeros_like(v) for k, v in NET_PARAMS.items()}
    zero_loss, zero_grads = reference_two_layer_loss(zero_params, NET_X, NET_Y)
    params_src = "{" + ", ".join(f'"{k}": {literal(v)}' for k, v in NET_PARAMS.items()) + "}"
    c.append(
        markdown(
            r"""
            ## 7. A two-layer network from your modules

            Chaining the modules gives a classifier with one hidden layer of $H$ units:

            $$h = x W_1 + b_1,\quad a = \text{relu}(h),\quad s = a W_2 + b_2,\quad L = \text{softmax-CE}(s, y),$$

            with $x$ `(N, D)`, $W_1$ `(D, H)`, $b_1$ `(H,)`, $W_2$ `(H, C)`, $b_2$ `(C,)`, scores $s$ `(N, C)`. The
            backward pass visits the same modules in reverse order, each turning the gradient of its output into the
            gradients of its inputs: softmax-CE gives $ds$, the second affine gives $da$, $dW_2$, $db_2$, ReLU gives $dh$,
            the first affine gives $dW_1$, $db_1$ (and $dx$, which nobody needs).

            **Exercise 7.** `two_layer_loss(params, X, y)` with `params = {"w1", "b1", "w2", "b2"}` returns
            `(loss, grads)`, `grads` a dict with the same keys and shapes. Use only your functions from above.
            """
        )
    )
    c.append(
        solution(
            "two_layer_loss",
            '''
            def two_layer_loss(params, X, y):
                """Forward and backward through affine - relu - affine - softmax-CE. Returns (loss, grads)."""
                ### BEGIN SOLUTION
                h, cache1 = affine_forward(X, params["w1"], params["b1"])  # (N, H)
                a, cache2 = relu_forward(h)
                scores, cache3 = affine_forward(a, params["w2"], params["b2"])  # (N, C)
                loss, dscores = softmax_cross_entropy(scores, y)
                da, dw2, db2 = affine_backward(dscores, cache3)
                dh = relu_backward(da, cache2)
                _, dw1, db1 = affine_backward(dh, cache1)
                return float(loss), {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}
                ### END SOLUTION
            ''',
        )
    )
    grad_lines = "\n".join(
        f"""grading.expect_close("grads['{k}']", grads["{k}"], {literal(net_grads[k])}, hint="{hint}")"""
        for k, hint in [
            ("b2", "db2 sums dscores over the batch (dscores from softmax_cross_entropy)."),
            ("w2", "dw2 = a.T @ dscores with a the ReLU output (not h, the input of ReLU)."),
            ("b1", "db1 sums dh over the batch, where dh = relu_backward(dscores @ w2.T, cache)."),
            ("w1", "dw1 = X.T @ dh."),
        ]
    )
    zero_lines = "\n".join(
        f"""grading.expect_close("grads['{k}'] with all-zero parameters", zero_grads["{k}"], {literal(zero_grads[k])}, atol=1e-12,
                     hint="{hint}")"""
        for k, hint in [
            ("b2", "the scores are all 0, so db2 = mean over examples of (1/3 - onehot(y))."),
            ("w2", "the ReLU outputs are all 0, so dw2 = a.T @ dscores = 0."),
            ("w1", "with w2 = 0 no gradient reaches the first layer, so dw1 = 0."),
        ]
    )
    c.append(
        visible_test(
            "two_layer_loss",
            piece(f"""
            X = {literal(NET_X)}
            y = {literal(NET_Y)}
            params = {params_src}
            # Isolation case: all-zero parameters give zero scores, the loss log C and gradients only on b2.
            zero_loss, zero_grads = two_layer_loss({{k: np.zeros_like(v) for k, v in params.items()}}, X, y)
            grading.expect_close("loss with all-zero parameters", zero_loss, {literal(zero_loss)},
                                 hint="zero scores give the uniform distribution over C = 3 classes: the loss is log 3.")
            """)
            + zero_lines
            + f"""
loss, grads = two_layer_loss(params, X, y)
grading.expect_close("two-layer loss", loss, {literal(net_loss)},
                     hint="affine (w1, b1) -> relu -> affine (w2, b2) -> softmax_cross_entropy.")
grading.expect_equal("keys of grads", sorted(grads), ["b1", "b2", "w1", "w2"], hint="one gradient per parameter.")
"""
            + grad_lines,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "two_layer_loss",
            """
            affine_f, affine_b = grading.reference("layers.affine.affine_forward"), grading.reference("layers.affine.affine_backward")
            relu_f, relu_b = grading.reference("layers.activations.relu_forward"), grading.reference("layers.activations.relu_backward")
            ref_sce = grading.reference("layers.losses.softmax_cross_entropy")
            for trial in range(3):
                rng = np.random.default_rng(grading.check_seed("a02.two_layer_loss", trial))
                n, d, h, c = (int(v) for v in rng.integers(2, 8, size=4))
                params = {"w1": rng.standard_normal((d, h)), "b1": rng.standard_normal(h),
                          "w2": rng.standard_normal((h, c)), "b2": rng.standard_normal(c)}
                X, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
                loss, grads = two_layer_loss({k: v.copy() for k, v in params.items()}, X.copy(), y.copy())
                hid, cache1 = affine_f(X, params["w1"], params["b1"])
                act, cache2 = relu_f(hid)
                scores, cache3 = affine_f(act, params["w2"], params["b2"])
                ref_loss, dscores = ref_sce(scores, y)
                dact, dw2, db2 = affine_b(dscores, cache3)
                _, dw1, db1 = affine_b(relu_b(dact, cache2), cache1)
                where = f"N={n}, D={d}, H={h}, C={c}"
                grading.check_with_reference("two_layer_loss", loss, ref_loss, what="the loss", inputs=where)
                for key, ref_grad in {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}.items():
                    grading.check_with_reference("two_layer_loss", grads[key], ref_grad, what=f"grads['{key}']", inputs=where)
            print("ok: two_layer_loss agrees with the reference on 3 random nets")
            """,
            points=2,
        )
    )

    # ---- 8. gradient-check tables ------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 8. Gradient-check tables

            Now check every backward pass against your numerical gradient, on fresh random float64 inputs. For a module,
            a random upstream gradient `dout` is put on the output and `numerical_gradient_array` differentiates
            $\sum \text{out} \cdot \text{dout}$; for a loss, `numerical_gradient` differentiates the scalar loss itself.
            Inputs that are not differentiated (labels, targets) are left out. The last row is a deliberately **broken**
            backward pass (sigmoid's derivative written as $s$ instead of $s(1 - s)$), to see what a bug looks like.

            **What to see:** every correct row has a relative error of about $10^{-8}$ or less, far below the threshold
            $10^{-7}$ (float64, $h = 10^{-5}$); the broken one is off by order 1. ReLU's kink is not a problem here
            because no random input lands within $h$ of 0.
            """
        )
    )
    c.append(
        code(
            """
            TOL = 1e-7  # float64, h = 1e-5: a correct backward pass gives ~1e-8 or less


            def check_pair_rows(label, forward, backward, inputs, seed=0):
                \"\"\"Relative errors of backward(dout, cache) against the numerical gradient, one row per input.\"\"\"
                rng = np.random.default_rng(seed)
                values = list(inputs.values())
                out, cache = forward(*values)
                dout = rng.standard_normal(out.shape)
                grads = backward(dout, cache)
                grads = grads if isinstance(grads, tuple) else (grads,)
                rows = []
                for (name, x), analytic in zip(inputs.items(), grads):
                    numeric = numerical_gradient_array(lambda: forward(*values)[0], x, dout)
                    rows.append((label, name, x.shape, rel_error(analytic, numeric)))
                return rows


            def check_loss_rows(label, loss_fn, x, *rest):
                \"\"\"Relative error of the gradient returned by loss_fn(x, *rest) -> (loss, dx).\"\"\"
                _, analytic = loss_fn(x, *rest)
                numeric = numerical_gradient(lambda: loss_fn(x, *rest)[0], x)
                return [(label, "x", x.shape, rel_error(analytic, numeric))]


            def print_table(rows):
                print(f"{'module':<34} {'input':<6} {'shape':<12} {'rel. error':>10}   verdict")
                for label, name, shape, err in rows:
                    verdict = "ok" if err < TOL else "WRONG"
                    print(f"{label:<34} {name:<6} {str(shape):<12} {err:10.2e}   {verdict}")
            """
        )
    )
    c.append(
        code(
            """
            rng = np.random.default_rng(0)
            rows = []
            rows += check_pair_rows("affine", affine_forward, affine_backward,
                                    {"x": rng.standard_normal((4, 5)), "w": rng.standard_normal((5, 3)), "b": rng.standard_normal(3)})
            rows += check_pair_rows("affine, x of shape (4, 2, 3)", affine_forward, affine_backward,
                                    {"x": rng.standard_normal((4, 2, 3)), "w": rng.standard_normal((6, 3)), "b": rng.standard_normal(3)})
            for name, fwd, bwd in [("relu", relu_forward, relu_backward), ("sigmoid", sigmoid_forward, sigmoid_backward),
                                   ("tanh", tanh_forward, tanh_backward)]:
                rows += check_pair_rows(name, fwd, bwd, {"x": rng.standard_normal((4, 5))})
            rows += check_pair_rows("add, (4, 5) + (5,)", add_forward, add_backward,
                                    {"x": rng.standard_normal((4, 5)), "y": rng.standard_normal(5)})
            rows += check_pair_rows("multiply, (4, 5) * (4, 1)", multiply_forward, multiply_backward,
                                    {"x": rng.standard_normal((4, 5)), "y": rng.standard_normal((4, 1))})
            rows += check_pair_rows("multiply, (2, 1, 3) * (4, 1)", multiply_forward, multiply_backward,
                                    {"x": rng.standard_normal((2, 1, 3)), "y": rng.standard_normal((4, 1))})
            rows += check_loss_rows("mse_loss", mse_loss, rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))
            rows += check_loss_rows("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits,
                                    3 * rng.standard_normal((4, 3)), (rng.random((4, 3)) < 0.5).astype(float))
            rows += check_loss_rows("softmax_cross_entropy", softmax_cross_entropy,
                                    rng.standard_normal((5, 4)), rng.integers(0, 4, 5))
            rows += check_pair_rows("BROKEN sigmoid backward (dout * s)", sigmoid_forward, lambda dout, s: dout * s,
                                    {"x": rng.standard_normal((4, 5))})
            print_table(rows)
            """
        )
    )
    c.append(
        markdown(
            r"""
            The whole network, parameter by parameter: the gradient of the loss with respect to every entry of $W_1$,
            $b_1$, $W_2$, $b_2$ of a small random net, against the numerical gradient of `two_layer_loss`'s loss.
            **What to see:** four rows, all far below $10^{-7}$: the chain of modules is correct end to end.
            """
        )
    )
    c.append(
        code(
            """
            rng = np.random.default_rng(1)
            X_check, y_check = rng.standard_normal((6, 3)), rng.integers(0, 4, 6)
            net = {"w1": rng.standard_normal((3, 5)), "b1": rng.standard_normal(5),
                   "w2": rng.standard_normal((5, 4)), "b2": rng.standard_normal(4)}
            _, analytic = two_layer_loss(net, X_check, y_check)
            print_table([("two-layer net", name, p.shape,
                          rel_error(analytic[name], numerical_gradient(lambda: two_layer_loss(net, X_check, y_check)[0], p)))
                         for name, p in net.items()])
            """
        )
    )

    # ---- 9. training on the spiral -------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 9. Training the two-layer net with SGD on a spiral

            The data: three spiral arms in the plane, 100 points each (`course.data.make_spirals`). No linear classifier
            separates them; a hidden layer of ReLUs can.

            **Stochastic gradient descent** (SGD) with mini-batches: each epoch shuffles the $N$ examples, cuts them into
            consecutive batches of `batch_size` (the last may be smaller), and for every batch computes the loss and
            gradients on that batch and updates every parameter, $\theta \leftarrow \theta - \text{lr} \cdot \partial L / \partial \theta$.

            **Exercise 9.** `train_two_layer(X, y, hidden_dim, lr, epochs, batch_size, seed)` returns `(params, losses)`:
            - create `rng = np.random.default_rng(seed)` and use it for everything random (initialisation, shuffling);
            - initialise with **He initialisation**, $W_1 \sim \mathcal N(0, 2/D)$ of shape `(D, hidden_dim)`,
              $W_2 \sim \mathcal N(0, 2/H)$ of shape `(hidden_dim, C)` with $C$ = `y.max() + 1`, and zero biases (all float64);
            - `losses` holds the batch loss of every update, in order (so `epochs * ceil(N / batch_size)` values).

            Use your `two_layer_loss`. It is graded by its result: a net trained with the settings below must classify
            at least 90% of the training points correctly (on this spiral and, in the hidden test, on others).
            """
        )
    )
    c.append(
        solution(
            "train_two_layer",
            '''
            def train_two_layer(X, y, hidden_dim, lr, epochs, batch_size, seed):
                """Mini-batch SGD on two_layer_loss from a He initialisation. Returns (params, losses per update)."""
                ### BEGIN SOLUTION
                rng = np.random.default_rng(seed)
                n, d = X.shape
                c = int(y.max()) + 1
                params = {
                    "w1": rng.standard_normal((d, hidden_dim)) * np.sqrt(2.0 / d),
                    "b1": np.zeros(hidden_dim),
                    "w2": rng.standard_normal((hidden_dim, c)) * np.sqrt(2.0 / hidden_dim),
                    "b2": np.zeros(c),
                }
                losses = []
                for _ in range(epochs):
                    order = rng.permutation(n)
                    for start in range(0, n, batch_size):
                        batch = order[start:start + batch_size]
                        loss, grads = two_layer_loss(params, X[batch], y[batch])
                        losses.append(loss)
                        for key in params:
                            params[key] -= lr * grads[key]
                return params, losses
                ### END SOLUTION
            ''',
        )
    )
    settings_src = ", ".join(f"{k}={v!r}" for k, v in TRAIN_SETTINGS.items())
    c.append(
        visible_test(
            "train_two_layer",
            f"""
            X_spiral, y_spiral = make_spirals(n_per_class=100, n_classes=3, noise=0.2, rng=np.random.default_rng(0),
                                              dtype=np.float64)
            X_before = X_spiral.copy()
            params, losses = train_two_layer(X_spiral, y_spiral, {settings_src}, seed=0)
            for key, shape in [("w1", (2, 100)), ("b1", (100,)), ("w2", (100, 3)), ("b2", (3,))]:
                grading.expect_shape(f"params['{{key}}']", params[key], shape,
                                     hint="w1 (D, hidden_dim), b1 (hidden_dim,), w2 (hidden_dim, C), b2 (C,) with C = y.max() + 1.")
            grading.expect_equal("number of recorded losses", len(losses), 100 * 10,
                                 hint="one loss per update: 100 epochs of ceil(300 / 32) = 10 batches.")
            grading.expect_close("X after training", X_spiral, X_before, rtol=0, atol=0, hint="do not modify X in place.")
            scores = np.maximum(X_spiral @ params["w1"] + params["b1"], 0) @ params["w2"] + params["b2"]
            accuracy = float(np.mean(scores.argmax(axis=1) == y_spiral))
            print(f"training accuracy {{accuracy:.3f}}, mean loss of the last epoch {{np.mean(losses[-10:]):.3f}}")
            assert np.mean(losses[-10:]) < np.mean(losses[:10]), (
                "the loss did not go down: check the sign of the update (params -= lr * grads) and that every parameter is updated.")
            assert accuracy >= 0.9, (
                f"training accuracy {{accuracy:.3f}} is below 0.9. Check that each epoch visits every example once in a "
                "fresh random order, that every batch updates all four parameters, and the He initialisation scales.")
            print("ok: the trained net classifies at least 90% of the training spiral correctly")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "train_two_layer",
            """
            affine_f = grading.reference("layers.affine.affine_forward")
            for trial in range(2):
                rng = np.random.default_rng(grading.check_seed("a02.train_two_layer", trial))
                X, y = make_spirals(n_per_class=100, n_classes=3, noise=0.2, rng=rng, dtype=np.float64)
                hidden_dim = int(rng.choice([64, 100]))
                settings = dict(hidden_dim=hidden_dim, lr=0.5, epochs=100, batch_size=32, seed=int(rng.integers(1000)))
                params, losses = train_two_layer(X.copy(), y.copy(), **settings)
                assert len(losses) == 100 * 10, f"train_two_layer recorded {len(losses)} losses, expected one per update."
                hid, _ = affine_f(X, params["w1"], params["b1"])
                scores, _ = affine_f(np.maximum(hid, 0), params["w2"], params["b2"])
                accuracy = float(np.mean(scores.argmax(axis=1) == y))
                assert accuracy >= 0.9, (
                    f"train_two_layer: training accuracy {accuracy:.3f} < 0.9 on a fresh spiral (hidden_dim={hidden_dim}).")
            print("ok: train_two_layer reaches 90% training accuracy on 2 fresh spirals")
            """,
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            Left: the batch loss over the updates (and its average per epoch). Right: the regions of the plane the trained
            net assigns to each class, with the training points on top. **What to see:** the loss falls from about
            $\log 3 \approx 1.1$ towards 0.1 while it is noisy from batch to batch (each update sees 32 points); the decision
            regions are bent, piecewise-linear spirals (each ReLU contributes one straight fold), following the arms
            closely, which a linear classifier could never do.
            """
        )
    )
    c.append(
        code(
            f"""
            X_spiral, y_spiral = make_spirals(n_per_class=100, n_classes=3, noise=0.2, rng=np.random.default_rng(0),
                                              dtype=np.float64)
            spiral_params, spiral_losses = train_two_layer(X_spiral, y_spiral, {settings_src}, seed=0)


            def predict_scores(points):
                hidden, _ = relu_forward(affine_forward(points, spiral_params["w1"], spiral_params["b1"])[0])
                return affine_forward(hidden, spiral_params["w2"], spiral_params["b2"])[0]


            train_accuracy = float(np.mean(predict_scores(X_spiral).argmax(axis=1) == y_spiral))
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
            ax1.plot(spiral_losses, lw=0.5, color="C0", alpha=0.5, label="batch loss")
            per_epoch = np.mean(np.reshape(spiral_losses, (-1, 10)), axis=1)
            ax1.plot(np.arange(len(per_epoch)) * 10 + 5, per_epoch, color="C1", label="mean over the epoch")
            ax1.set_yscale("log")
            ax1.set_xlabel("update (mini-batch of 32)")
            ax1.set_ylabel("softmax cross-entropy loss (log scale)")
            ax1.set_title("Training loss of the two-layer net (H = 100, lr = 0.5)")
            ax1.legend()
            plot_decision_boundary(predict_scores, X_spiral, y_spiral, ax=ax2,
                                   title=f"Decision regions of the two-layer net, training accuracy {{train_accuracy:.1%}}")
            plt.tight_layout()
            plt.show()
            """
        )
    )

    # ---- 10. fused vs separate timing --------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 10. Fused vs separate softmax-cross-entropy

            The separate version below runs the three modules one after the other, each with its own backward step, as a
            graph of generic modules would (it mirrors `course.layers.losses.softmax_cross_entropy_separate`, written here with
            your `softmax` so that it runs in the grader too): softmax, then $-\log p_{y}$ averaged, then back through
            $\partial(-\log p)/\partial p = -1/p$ and the softmax Jacobian-vector product
            $dx = s \odot (d s - \langle ds, s\rangle)$. It is not graded.
            """
        )
    )
    c.append(
        code(
            """
            def softmax_cross_entropy_separate(logits, y):
                \"\"\"Softmax, then log, then the mean negative log-likelihood, each with its own backward step.\"\"\"
                n = logits.shape[0]
                rows = np.arange(n)
                probs = softmax(logits)  # (N, C)
                loss = -np.mean(np.log(probs[rows, y]))
                dprobs = np.zeros_like(probs)
                dprobs[rows, y] = -1.0 / (n * probs[rows, y])  # d(-log p)/dp, infinite if p underflowed to 0
                dlogits = probs * (dprobs - np.sum(dprobs * probs, axis=1, keepdims=True))  # softmax backward
                return loss, dlogits


            logits_demo = np.array([[0.0, -800.0]])
            with np.errstate(divide="ignore", invalid="ignore"):
                print("separate, logits [0, -800], true class 1:", softmax_cross_entropy_separate(logits_demo, np.array([1])))
            print("fused,    logits [0, -800], true class 1:", softmax_cross_entropy(logits_demo, np.array([1])))
            """
        )
    )
    c.append(
        markdown(
            r"""
            **What to see** above: when the true class is 800 below the maximum, its probability underflows to 0 and the
            separate version returns an infinite loss and `nan` gradients, while the fused one gives the exact loss 800
            and gradients $\pm 1$.

            Below, both are timed on the same random batches of $N = 512$ examples for a growing number of classes $C$
            (float64, best of several runs; your numbers will differ from machine to machine and from run to run).
            **What to see:** both agree to round-off, and the fused version is faster in most runs, but only by a modest factor: both are
            dominated by the one `exp` over the $N \times C$ logits, and the separate one adds the log, the scatter of
            $-1/p$ and the Jacobian-vector product, each another pass over an $(N, C)$ array.
            """
        )
    )
    c.append(
        code(
            """
            # NBVAL_IGNORE_OUTPUT (timings vary from run to run)
            def best_time(fn, *args, repeats=7):
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    fn(*args)
                    times.append(time.perf_counter() - start)
                return min(times)


            rng = np.random.default_rng(0)
            classes = [10, 100, 1000]
            fused_ms, separate_ms = [], []
            print(f"{'C':>6} {'fused (ms)':>11} {'separate (ms)':>14} {'speed-up':>9} {'max |difference|':>17}")
            for num_classes in classes:
                logits = rng.standard_normal((512, num_classes))
                labels = rng.integers(0, num_classes, 512)
                fused_ms.append(1e3 * best_time(softmax_cross_entropy, logits, labels))
                separate_ms.append(1e3 * best_time(softmax_cross_entropy_separate, logits, labels))
                difference = np.max(np.abs(softmax_cross_entropy(logits, labels)[1] - softmax_cross_entropy_separate(logits, labels)[1]))
                print(f"{num_classes:>6} {fused_ms[-1]:>11.3f} {separate_ms[-1]:>14.3f} {separate_ms[-1] / fused_ms[-1]:>8.2f}x {difference:>17.1e}")

            fig, ax = plt.subplots(figsize=(6, 3.8))
            ax.loglog(classes, fused_ms, "o-", label="fused softmax-cross-entropy")
            ax.loglog(classes, separate_ms, "s-", label="softmax, log, NLL separately")
            ax.set_xlabel("number of classes C")
            ax.set_ylabel("time per forward + backward (ms)")
            ax.set_title("Fused vs separate softmax-cross-entropy, N = 512, float64")
            ax.legend()
            plt.show()
            """
        )
    )
    c.append(
        markdown(
            r"""
            ## Summary

            Every piece of a network is a module with a forward pass that caches what it needs and a backward pass that
            turns the gradient of its output into the gradients of its inputs; the chain rule does the rest. Where a value
            is copied (broadcasting, a reused input), its gradients add up. A centred-difference check tells a correct
            backward pass (relative error about $10^{-9}$) from a wrong one (about 1). Numerical care matters as much as
            the calculus: subtract the maximum in softmax, use log-sum-exp, and fuse softmax with the cross-entropy.
            The library's versions of these functions (`course.layers.affine.Linear`, `course.layers.activations.ReLU`, ...) wrap the
            same pairs in `Module` classes that own their parameters; assignment 03 builds a graph engine that chains
            such modules automatically.
            """
        )
    )
    return c


def main(argv: list[str] | None = None) -> int:
    return generator_main(cells, ASSIGNMENT, argv)


if __name__ == "__main__":
    raise SystemExit(main())
