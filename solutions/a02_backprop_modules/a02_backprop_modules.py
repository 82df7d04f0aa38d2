# %% [markdown]
# # Assignment 02: backpropagation with modules
#
# A neural network is a chain (more generally a directed acyclic graph) of simple functions. Backpropagation
# is the chain rule applied from the loss backwards: if $z = f(y)$ and $y = g(x)$ then
# $\frac{\partial z}{\partial x} = \frac{\partial z}{\partial y}\frac{\partial y}{\partial x}$. The lecture's
# point is **modularity**: every node is an "expert" that knows only two things,
#
# - `name_forward(inputs) -> (out, cache)`: compute the output, and keep in `cache` what the backward pass
#   needs;
# - `name_backward(dout, cache) -> (dinput_1, dinput_2, ...)`: given $\partial L/\partial \text{out}$ (called
#   `dout`, shaped like `out`), return $\partial L/\partial \text{input}$ for every input, each shaped like
#   its input.
#
# No module knows the rest of the network, so any chain of modules can be trained.
#
# You will implement, in this notebook:
#
# 1. the tools to check a gradient: relative error and the centred-difference numerical gradient;
# 2. the affine layer $x W + b$ (with the bias broadcast over the batch);
# 3. the activations ReLU, sigmoid and tanh;
# 4. element-wise add and multiply with NumPy broadcasting;
# 5. the losses: mean squared error and binary cross-entropy;
# 6. a numerically stable softmax, log-softmax and the fused softmax-cross-entropy;
# 7. a two-layer network built from your modules, and its training with SGD on a 2-D spiral.
#
# Then you will gradient-check every module, look at the decision boundary of the trained net, and time the
# fused softmax-cross-entropy against the separate one.
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
# a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
# the reference on fresh random inputs when the course grader runs it. Both carry points. Do not edit,
# copy or delete test cells: the grader restores them. Use only NumPy: in the grader the library functions
# you are asked to write (`course.core.gradcheck`, `course.layers.affine`, `course.layers.activations`,
# `course.layers.elementwise`, `course.layers.losses`, `course.models.two_layer`) raise
# `NotImplementedError`.
#
# Shapes use the course's letters: N batch, D input features, H hidden units, M outputs of an affine
# layer, C classes.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import get_array_module  # noqa: F401 (NumPy for NumPy arrays; the solutions use it)
from course.core.plots import plot_decision_boundary
from course.data import make_spirals


# %% [markdown]
# ## 1. Checking a gradient
#
# Every backward pass you write will be checked against a **numerical gradient**, so we build that first.
#
# **Relative error.** Two gradients $a$ and $n$ agree when their largest element-wise relative error is
# small:
#
# $$\text{rel}(a, n) = \max_i \frac{|a_i - n_i|}{\max(10^{-8},\ |a_i| + |n_i|)} .$$
#
# The floor $10^{-8}$ keeps $0/0$ away when both entries are zero. In float64 a correct backward pass gives
# about $10^{-9}$ or less; a wrong term gives something of order $10^{-1}$ to $1$. We use $10^{-7}$ as the
# threshold.
#
# **Exercise 1a.** `rel_error(x, y)` returns that maximum as a Python float. `x` and `y` have the same shape.

# %% nbgrader={"grade": false, "grade_id": "rel_error", "locked": false, "schema_version": 3, "solution": true}
def rel_error(x, y):
    """max_i |x_i - y_i| / max(1e-8, |x_i| + |y_i|). x, y: same shape. Returns a float."""
    ### BEGIN SOLUTION a02.rel_error
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "rel_error_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
a = np.array([1.0, 2.0, -3.0])
b = np.array([1.0, 2.2, -3.0])
grading.expect_close("rel_error(a, a)", rel_error(a, a), 0.0, atol=1e-15,
                     hint="identical arrays have relative error 0.")
grading.expect_close("rel_error(a, b)", rel_error(a, b), 0.04761904762,
                     hint="only entry 1 differs: |2 - 2.2| / (|2| + |2.2|). "
                          "Take the maximum over entries, not the mean.")
grading.expect_close("rel_error(b, a)", rel_error(b, a), 0.04761904762,
                     hint="the formula is symmetric in x and y.")
grading.expect_close("rel_error(zeros, zeros)", rel_error(np.zeros(3), np.zeros(3)), 0.0, atol=1e-15,
                     hint="0 / max(1e-8, 0) is 0: the floor 1e-8 avoids 0 / 0.")
grading.expect_close("rel_error([1e-10], [0])", rel_error(np.array([1e-10]), np.array([0.0])), 1e-2,
                     hint="the denominator is max(1e-8, |x| + |y|) = 1e-8 here, not 1e-10.")

# %% nbgrader={"grade": true, "grade_id": "rel_error_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.rel_error", rel_error)
### END HIDDEN TESTS

# %% [markdown]
# **The centred difference.** For a scalar function $f$ of an array $x$, perturb one entry at a time:
#
# $$\frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}, \qquad h = 10^{-5} .$$
#
# Its error is $O(h^2)$ (the one-sided $(f(x + h e_i) - f(x))/h$ has error $O(h)$, far too large for a
# $10^{-7}$ test). The function `f` takes **no arguments**: it reads `x`, which you perturb **in place**,
# one entry at a time, and restore afterwards. So `f` may be a closure like `lambda: loss(x, w)[0]`, and the
# same helper checks any input of any function.
#
# **Exercise 1b.** `numerical_gradient(f, x, h=1e-5)` returns an array shaped like `x` (float64) and leaves
# `x` as it found it. Iterate over the entries of any shape, e.g. with `np.ndindex(x.shape)` or a flat view
# `x.reshape(-1)`; call `f` exactly twice per entry.

# %% nbgrader={"grade": false, "grade_id": "numerical_gradient", "locked": false, "schema_version": 3, "solution": true}
def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of the scalar f() with respect to x (perturbed in place, restored)."""
    ### BEGIN SOLUTION a02.numerical_gradient
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "numerical_gradient_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
x_before = x.copy()
grad = numerical_gradient(lambda: np.sum(x**3), x)
grading.expect_shape("numerical_gradient of sum(x**3) for x of shape (2, 3)", grad, (2, 3),
                     hint="the gradient has the shape of x.")
grading.expect_close("x after numerical_gradient", x, x_before, rtol=0, atol=0,
                     hint="restore every entry after perturbing it (keep the old value, write it back).")
grading.expect_close("numerical gradient of sum(x**3)", grad, 3 * x_before**2, rtol=1e-8, atol=1e-8,
                     hint="use the centred difference (f(x + h) - f(x - h)) / (2h); "
                          "the one-sided difference is off by about 3 x h.")
calls = []
numerical_gradient(lambda: calls.append(1) or float(np.sum(x)), x)
grading.expect_equal("number of calls to f for 6 entries", len(calls), 12,
                     hint="evaluate f twice per entry, at x_i + h and at x_i - h.")
grad_h = numerical_gradient(lambda: np.sum(x**3), x, h=1e-2)
grading.expect_close("numerical gradient of sum(x**3) with h = 1e-2", grad_h, 3 * x_before**2 + 1e-4,
                     rtol=1e-8, atol=1e-10,
                     hint="use the argument h, not a fixed step "
                          "(with h = 1e-2 the centred difference of x**3 is 3 x**2 + h**2).")

# %% nbgrader={"grade": true, "grade_id": "numerical_gradient_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.numerical_gradient", numerical_gradient)
### END HIDDEN TESTS

# %% [markdown]
# A module's output is an array, not a scalar. To check its backward pass we put a fixed random upstream
# gradient `dout` on the output and differentiate the scalar $\sum_j f(x)_j\, \text{dout}_j$: by the chain
# rule its gradient with respect to $x$ is exactly what `backward(dout, cache)` must return.
#
# **Exercise 1c.** `numerical_gradient_array(f, x, dout, h=1e-5)` returns the centred-difference gradient of
# `np.sum(f() * dout)` with respect to `x` (shape of `x`). One line, using your `numerical_gradient`.

# %% nbgrader={"grade": false, "grade_id": "numerical_gradient_array", "locked": false, "schema_version": 3, "solution": true}
def numerical_gradient_array(f, x, dout, h=1e-5):
    """Centred-difference gradient of sum(f() * dout) with respect to x; f() is array-valued."""
    ### BEGIN SOLUTION a02.numerical_gradient_array
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "numerical_gradient_array_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
x_before = x.copy()
dout = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
grad = numerical_gradient_array(lambda: x**2, x, dout)
grading.expect_shape("numerical_gradient_array of x**2", grad, (2, 3),
                     hint="the gradient has the shape of x.")
grading.expect_close("numerical_gradient_array of x**2 with upstream dout", grad, 2 * x_before * dout,
                     rtol=1e-8, atol=1e-8,
                     hint="differentiate the scalar np.sum(f() * dout); for f = x**2 that gives 2 x dout.")
grading.expect_close("x after numerical_gradient_array", x, x_before, rtol=0, atol=0,
                     hint="x must be restored (numerical_gradient does it for you).")

# %% nbgrader={"grade": true, "grade_id": "numerical_gradient_array_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.numerical_gradient_array", numerical_gradient_array)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The affine layer
#
# The fully connected layer applies the same linear map to every example of the batch and adds a bias:
#
# $$\text{out} = x W + b, \qquad x: (N, D),\ W: (D, M),\ b: (M,),\ \text{out}: (N, M).$$
#
# $b$ has shape `(M,)` and is **broadcast**: the same $b$ is added to each of the $N$ rows. An input with
# more axes, $x$ of shape $(N, d_1, \dots, d_k)$ (an image, say), is first flattened to $(N, D)$ with
# $D = d_1 \cdots d_k$.
#
# **Exercise 2a.** `affine_forward(x, w, b)` returns `(out, cache)`; put in `cache` what the backward pass
# needs.

# %% nbgrader={"grade": false, "grade_id": "affine_forward", "locked": false, "schema_version": 3, "solution": true}
def affine_forward(x, w, b):
    """out = x.reshape(N, D) @ w + b, shape (N, M), for x (N, d_1, ..., d_k), w (D, M), b (M,).

    Returns (out, cache).
    """
    ### BEGIN SOLUTION a02.affine_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "affine_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
w = np.array([[0.5, -1.0], [2.0, 0.0], [-1.5, 1.0]])
b = np.array([0.25, -0.5])
result = affine_forward(x, w, b)
assert isinstance(result, tuple) and len(result) == 2, "affine_forward must return a pair (out, cache)."
out, _ = result
grading.expect_shape("out for x (2, 3), w (3, 2)", out, (2, 2), hint="out = x @ w + b has shape (N, M).")
# Isolation case: zero weights leave only the bias, which every row must receive.
out_b, _ = affine_forward(x, np.zeros_like(w), b)
grading.expect_close("out with w = 0 (bias term alone)", out_b, np.tile(b, (2, 1)),
                     hint="with zero weights every row of out equals b: add b to each row (broadcasting).")
out_w, _ = affine_forward(x, w, np.zeros_like(b))
grading.expect_close("out with b = 0 (product term alone)", out_w, np.array([[-4.25, -0.5], [7.5, -1.0]]),
                     hint="the product is x @ w, (N, D) @ (D, M); not w @ x and not element-wise.")
grading.expect_close("out", out, np.array([[-4.0, -1.0], [7.75, -1.5]]),
                     hint="both terms together: x @ w + b.")
x3 = np.linspace(-1.0, 0.75, 8).reshape(2, 2, 2)  # [[[-1, -0.75], [-0.5, -0.25]], [[0, 0.25], [0.5, 0.75]]]
w3 = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0], [-1.0, 1.0, 1.0], [0.0, -0.5, 2.0]])
b3 = np.array([0.0, 1.0, -1.0])
out3, _ = affine_forward(x3, w3, b3)
grading.expect_close("out for x of shape (2, 2, 2), flattened to (2, 4)", out3,
                     np.array([[-0.875, -0.875, -1.0], [-0.375, 1.625, 1.0]]),
                     hint="flatten each example first: x.reshape(x.shape[0], -1).")

# %% nbgrader={"grade": true, "grade_id": "affine_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.affine_forward", affine_forward)
### END HIDDEN TESTS

# %% [markdown]
# Backward: with $\text{out} = x W + b$ and upstream gradient $\text{dout} = \partial L / \partial \text{out}$
# of shape $(N, M)$,
#
# $$dx = \text{dout}\, W^\top \ (N, D), \qquad dW = x^\top \text{dout} \ (D, M), \qquad
# db = \sum_{n} \text{dout}_{n,:} \ (M,).$$
#
# The bias was copied to $N$ rows in the forward pass, so its gradient **sums** the $N$ copies' gradients.
# $dW$ is a sum too: $x^\top \text{dout} = \sum_n x_n^\top \text{dout}_n$, one outer product per example.
# Check the shapes: each gradient has the shape of its input (for a multi-axis $x$, reshape $dx$ back).
#
# **Exercise 2b.** `affine_backward(dout, cache)` returns `(dx, dw, db)`.

# %% nbgrader={"grade": false, "grade_id": "affine_backward", "locked": false, "schema_version": 3, "solution": true}
def affine_backward(dout, cache):
    """dout: (N, M). Returns dx (shape of x), dw (D, M), db (M,)."""
    ### BEGIN SOLUTION a02.affine_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "affine_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
w = np.array([[0.5, -1.0], [2.0, 0.0], [-1.5, 1.0]])
b = np.array([0.25, -0.5])
dout = np.array([[1.0, -2.0], [0.5, 3.0]])
_, cache = affine_forward(x, w, b)
grads = affine_backward(dout, cache)
assert isinstance(grads, tuple) and len(grads) == 3, "affine_backward must return (dx, dw, db)."
dx, dw, db = grads
grading.expect_shape("dx", dx, (2, 3), hint="dx has the shape of x, (N, D): dout (N, M) @ w.T (M, D).")
grading.expect_shape("dw", dw, (3, 2), hint="dw has the shape of w, (D, M): x.T (D, N) @ dout (N, M).")
grading.expect_shape("db", db, (2,), hint="db has the shape of b, (M,): sum dout over the batch axis 0.")
# Isolation case: an upstream gradient on example 0 only.
dout_row0 = np.array([[1.0, -2.0], [0.0, 0.0]])
_, dw0, db0 = affine_backward(dout_row0, cache)
grading.expect_close("db with dout on example 0 only", db0, np.array([1.0, -2.0]),
                     hint="db is the sum of dout over the examples; here only row 0 is non-zero.")
grading.expect_close("dw with dout on example 0 only", dw0, np.array([[1.0, -2.0], [-2.0, 4.0], [0.5, -1.0]]),
                     hint="example 0 alone contributes the outer product np.outer(x[0], dout[0]).")
grading.expect_close("dx", dx, np.array([[2.5, 2.0, -3.5], [-2.75, 1.0, 2.25]]),
                     hint="dx = dout @ w.T (the transpose of w).")
grading.expect_close("dw", dw, np.array([[1.0, -2.0], [-0.5, 13.0], [0.0, -4.0]]), hint="dw = x.T @ dout.")
grading.expect_close("db", db, np.array([1.5, 1.0]), hint="db = dout.sum(axis=0).")
x3 = np.linspace(-1.0, 0.75, 8).reshape(2, 2, 2)  # [[[-1, -0.75], [-0.5, -0.25]], [[0, 0.25], [0.5, 0.75]]]
w3 = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0], [-1.0, 1.0, 1.0], [0.0, -0.5, 2.0]])
_, cache3 = affine_forward(x3, w3, np.array([0.0, 1.0, -1.0]))
dx3 = affine_backward(np.array([[1.0, -1.0, 2.0], [0.5, 0.0, -2.0]]), cache3)[0]
grading.expect_shape("dx for x of shape (2, 2, 2)", dx3, (2, 2, 2), hint="reshape dx back to x.shape.")
grading.expect_close("dx for x of shape (2, 2, 2)", dx3,
                     np.array([[[-1.0, -1.5], [0.0, 4.5]], [[2.5, 0.25], [-2.5, -4.0]]]),
                     hint="dx = (dout @ w.T).reshape(x.shape).")

# %% nbgrader={"grade": true, "grade_id": "affine_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.affine_backward", affine_forward, affine_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Activations
#
# Without a non-linearity between them, two affine layers collapse into one. The three classic choices act
# element-wise, so their backward pass multiplies `dout` element-wise by the local derivative. Each is
# cheapest written in terms of the forward **output**, so that is what the cache holds:
#
# | | forward | local derivative |
# |---|---|---|
# | ReLU | $\max(x, 0)$ | $[x > 0]$ (we take 0 at $x = 0$, as PyTorch does) |
# | sigmoid | $\sigma(x) = 1 / (1 + e^{-x})$ | $\sigma(x)\,(1 - \sigma(x))$ |
# | tanh | $\tanh x$ | $1 - \tanh^2 x$ |
#
# All shapes: `x`, `out`, `dout` and `dx` have the same (any) shape.
#
# **Exercise 3a.** `relu_forward(x)` returns `(out, cache)` and `relu_backward(dout, cache)` returns `dx`.

# %% nbgrader={"grade": false, "grade_id": "relu_forward", "locked": false, "schema_version": 3, "solution": true}
def relu_forward(x):
    """out = max(x, 0), element-wise. Returns (out, cache)."""
    ### BEGIN SOLUTION a02.relu_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "relu_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
result = relu_forward(x)
assert isinstance(result, tuple) and len(result) == 2, "relu_forward must return a pair (out, cache)."
out, _ = result
grading.expect_shape("relu_forward(x) for x of shape (2, 3)", out, (2, 3),
                     hint="element-wise: out has the shape of x.")
grading.expect_close("relu_forward(x)", out, np.array([[0.0, 0.0, 0.0], [0.5, 1.0, 3.0]]),
                     hint="negative entries become 0, the others pass unchanged: np.maximum(x, 0).")

# %% nbgrader={"grade": true, "grade_id": "relu_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.relu_forward", relu_forward)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "relu_backward", "locked": false, "schema_version": 3, "solution": true}
def relu_backward(dout, cache):
    """dx = dout * [x > 0]. Returns dx, shaped like dout."""
    ### BEGIN SOLUTION a02.relu_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "relu_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
dout = np.array([[1.0, -2.0, 0.5], [3.0, -1.0, 2.0]])
dout_before = dout.copy()
_, cache = relu_forward(x)
dx = relu_backward(dout, cache)
grading.expect_shape("relu_backward dx", dx, (2, 3), hint="dx has the shape of x.")
grading.expect_close("relu_backward dx", dx, np.array([[0.0, -0.0, 0.0], [3.0, -1.0, 2.0]]),
                     hint="the gradient passes where x > 0 and is 0 elsewhere, "
                          "including at x = 0 exactly (entry (0, 2)).")
grading.expect_close("dout after relu_backward", dout, dout_before, rtol=0, atol=0,
                     hint="relu_backward changed dout in place: build a new array.")

# %% nbgrader={"grade": true, "grade_id": "relu_backward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.relu_backward", relu_forward, relu_backward)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 3b.** `sigmoid_forward(x)` and `sigmoid_backward(dout, cache)`. The formula $1 / (1 + e^{-x})$
# overflows for $x < -709$ in float64 ($e^{710}$ is `inf`), with a warning. Write it without overflow: with
# $z = e^{-|x|} \le 1$,
#
# $$\sigma(x) = \frac{1}{1 + z} \text{ for } x \ge 0, \qquad \sigma(x) = \frac{z}{1 + z} \text{ for } x < 0$$
#
# (`np.where` picks between the two numerators). The visible test raises an error if `exp` overflows.

# %% nbgrader={"grade": false, "grade_id": "sigmoid_forward", "locked": false, "schema_version": 3, "solution": true}
def sigmoid_forward(x):
    """out = 1 / (1 + exp(-x)), element-wise, without overflow. Returns (out, cache)."""
    ### BEGIN SOLUTION a02.sigmoid_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sigmoid_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
result = sigmoid_forward(x)
assert isinstance(result, tuple) and len(result) == 2, "sigmoid_forward must return a pair (out, cache)."
out, _ = result
grading.expect_shape("sigmoid_forward(x) for x of shape (2, 3)", out, (2, 3),
                     hint="element-wise: out has the shape of x.")
grading.expect_close("sigmoid_forward(x)", out,
                     np.array([[0.119202922, 0.3775406688, 0.5], [0.6224593312, 0.7310585786, 0.9525741268]]),
                     hint="sigma(0) = 0.5 and sigma(-x) = 1 - sigma(x); check the sign inside exp.")

try:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        big, _ = sigmoid_forward(np.array([-1000.0, 1000.0]))
except FloatingPointError as err:
    raise AssertionError(
        "sigmoid_forward([-1000, 1000]) raised a floating-point error (" + str(err) + "). Hint: exp(1000) "
        "overflows: compute z = np.exp(-np.abs(x)) and use 1 / (1 + z) or z / (1 + z).") from None
grading.expect_close("sigmoid_forward([-1000, 1000])", big, np.array([0.0, 1.0]),
                     hint="far from 0 the sigmoid saturates at 0 and 1.")

# %% nbgrader={"grade": true, "grade_id": "sigmoid_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.sigmoid_forward", sigmoid_forward)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "sigmoid_backward", "locked": false, "schema_version": 3, "solution": true}
def sigmoid_backward(dout, cache):
    """dx = dout * s * (1 - s), s = sigmoid(x). Returns dx."""
    ### BEGIN SOLUTION a02.sigmoid_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sigmoid_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
dout = np.array([[1.0, -2.0, 0.5], [3.0, -1.0, 2.0]])
dout_before = dout.copy()
_, cache = sigmoid_forward(x)
dx = sigmoid_backward(dout, cache)
grading.expect_shape("sigmoid_backward dx", dx, (2, 3), hint="dx has the shape of x.")
grading.expect_close("sigmoid_backward dx", dx,
                     np.array([[0.1049935854, -0.4700074244, 0.125],
                               [0.7050111366, -0.1966119332, 0.09035331946]]),
                     hint="the local derivative is s * (1 - s) with s the forward output (not the input x).")
grading.expect_close("dout after sigmoid_backward", dout, dout_before, rtol=0, atol=0,
                     hint="sigmoid_backward changed dout in place: build a new array.")

# %% nbgrader={"grade": true, "grade_id": "sigmoid_backward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.sigmoid_backward", sigmoid_forward, sigmoid_backward)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 3c.** `tanh_forward(x)` and `tanh_backward(dout, cache)` (`np.tanh` is already stable).

# %% nbgrader={"grade": false, "grade_id": "tanh_forward", "locked": false, "schema_version": 3, "solution": true}
def tanh_forward(x):
    """out = tanh(x), element-wise. Returns (out, cache)."""
    ### BEGIN SOLUTION a02.tanh_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "tanh_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
result = tanh_forward(x)
assert isinstance(result, tuple) and len(result) == 2, "tanh_forward must return a pair (out, cache)."
out, _ = result
grading.expect_shape("tanh_forward(x) for x of shape (2, 3)", out, (2, 3),
                     hint="element-wise: out has the shape of x.")
grading.expect_close("tanh_forward(x)", out,
                     np.array([[-0.9640275801, -0.4621171573, 0.0],
                               [0.4621171573, 0.761594156, 0.9950547537]]),
                     hint="use np.tanh.")

# %% nbgrader={"grade": true, "grade_id": "tanh_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.tanh_forward", tanh_forward)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "tanh_backward", "locked": false, "schema_version": 3, "solution": true}
def tanh_backward(dout, cache):
    """dx = dout * (1 - tanh(x)**2). Returns dx."""
    ### BEGIN SOLUTION a02.tanh_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "tanh_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
dout = np.array([[1.0, -2.0, 0.5], [3.0, -1.0, 2.0]])
dout_before = dout.copy()
_, cache = tanh_forward(x)
dx = tanh_backward(dout, cache)
grading.expect_shape("tanh_backward dx", dx, (2, 3), hint="dx has the shape of x.")
grading.expect_close("tanh_backward dx", dx,
                     np.array([[0.07065082485, -1.572895466, 0.5],
                               [2.359343199, -0.4199743416, 0.01973207433]]),
                     hint="the local derivative is 1 - t**2 with t = tanh(x), the forward output.")
grading.expect_close("dout after tanh_backward", dout, dout_before, rtol=0, atol=0,
                     hint="tanh_backward changed dout in place: build a new array.")

# %% nbgrader={"grade": true, "grade_id": "tanh_backward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.tanh_backward", tanh_forward, tanh_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Element-wise add and multiply with broadcasting
#
# NumPy **broadcasting** lets `x + y` combine shapes like `(2, 3)` and `(3,)`: shapes are aligned from the
# right, missing leading axes are added, and axes of size 1 are stretched by copying. The bias of the affine
# layer was one case. In the backward pass, every copy of an entry received its own gradient, and the
# entry's gradient is their **sum** (the same entry was used several times: gradients add up).
#
# `unbroadcast(grad, shape)` undoes broadcasting on a gradient: it sums `grad` (the broadcast shape) over
# the leading axes the input did not have, then, keeping dimensions, over the axes where the input had size
# 1 but `grad` does not, and returns an array of exactly `shape`. Example: `grad` `(2, 3, 4)` and `shape`
# `(3, 1)`: sum over axis 0 (missing), giving `(3, 4)`, then over axis 1 with `keepdims=True`, giving
# `(3, 1)`.
#
# **Exercise 4a.** `unbroadcast(grad, shape)` returns an array of shape `shape` (`()` means a scalar shape).

# %% nbgrader={"grade": false, "grade_id": "unbroadcast", "locked": false, "schema_version": 3, "solution": true}
def unbroadcast(grad, shape):
    """Sum grad over the axes broadcasting added or stretched, so that it has shape `shape` again."""
    ### BEGIN SOLUTION a02.unbroadcast
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "unbroadcast_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
grad = np.arange(24, dtype=np.float64).reshape(2, 3, 4) - 10
for shape in [(2, 3, 4), (3, 4), (3, 1), (1, 3, 1), (4,), ()]:
    grading.expect_shape(f"unbroadcast(grad of shape (2, 3, 4), {shape})", unbroadcast(grad, shape), shape,
                         hint="the result has exactly the requested shape "
                              "(use keepdims=True for size-1 axes).")
grading.expect_close("unbroadcast(grad, (2, 3, 4))", unbroadcast(grad, (2, 3, 4)),
                     np.arange(24.0).reshape(2, 3, 4) - 10,
                     hint="nothing was broadcast: return grad unchanged.")
grading.expect_close("unbroadcast(grad, (3, 4))", unbroadcast(grad, (3, 4)),
                     np.array([[-8.0, -6.0, -4.0, -2.0], [0.0, 2.0, 4.0, 6.0], [8.0, 10.0, 12.0, 14.0]]),
                     hint="sum over the missing leading axis 0.")
grading.expect_close("unbroadcast(grad, (3, 1))", unbroadcast(grad, (3, 1)),
                     np.array([[-20.0], [12.0], [44.0]]),
                     hint="sum over the missing axis 0, then over axis 1 with keepdims=True.")
grading.expect_close("unbroadcast(grad, (1, 3, 1))", unbroadcast(grad, (1, 3, 1)),
                     np.array([[[-20.0], [12.0], [44.0]]]),
                     hint="sum over axes 0 and 2 (size 1 in shape) with keepdims=True.")
grading.expect_close("unbroadcast(grad, (4,))", unbroadcast(grad, (4,)), np.array([0.0, 6.0, 12.0, 18.0]),
                     hint="sum over both missing leading axes 0 and 1.")
grading.expect_close("unbroadcast(grad, ())", unbroadcast(grad, ()), 36.0,
                     hint="a scalar input was broadcast everywhere: sum over all axes.")

# %% nbgrader={"grade": true, "grade_id": "unbroadcast_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.unbroadcast", unbroadcast)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 4b.** `add_forward(x, y)` returns `(x + y, cache)` with NumPy broadcasting (output shape $S$,
# the broadcast shape); `add_backward(dout, cache)` returns `(dx, dy)`, shaped like `x` and `y`. The local
# derivative of a sum is 1, so $dx = \text{unbroadcast}(\text{dout}, x.\text{shape})$, and the same for $y$:
# the cache needs only the two shapes.

# %% nbgrader={"grade": false, "grade_id": "add_forward", "locked": false, "schema_version": 3, "solution": true}
def add_forward(x, y):
    """out = x + y (broadcast). Returns (out, cache)."""
    ### BEGIN SOLUTION a02.add_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "add_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
result = add_forward(x, np.array([2.0, -1.0, 0.5]))
assert isinstance(result, tuple) and len(result) == 2, "add_forward must return a pair (out, cache)."
grading.expect_close("add_forward(x (2, 3), y (3,))", result[0],
                     np.array([[3.0, -3.0, 1.0], [5.0, -1.0, -0.5]]),
                     hint="x + y: NumPy broadcasts y over the rows.")
grading.expect_close("add_forward(x (2, 3), y (2, 1))", add_forward(x, np.array([[-1.0], [2.0]]))[0],
                     np.array([[0.0, -3.0, -0.5], [5.0, 2.0, 1.0]]),
                     hint="x + y: NumPy broadcasts y over the columns.")

# %% nbgrader={"grade": true, "grade_id": "add_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.add_forward", add_forward)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "add_backward", "locked": false, "schema_version": 3, "solution": true}
def add_backward(dout, cache):
    """dout: the broadcast shape. Returns (dx, dy), shaped like x and y."""
    ### BEGIN SOLUTION a02.add_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "add_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
dout = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0]])
_, cache = add_forward(x, np.array([2.0, -1.0, 0.5]))
grads = add_backward(dout, cache)
assert isinstance(grads, tuple) and len(grads) == 2, "add_backward must return (dx, dy)."
dx, dy = grads
grading.expect_shape("dx for x (2, 3) + y (3,)", dx, (2, 3), hint="dx has the shape of x.")
grading.expect_shape("dy for x (2, 3) + y (3,)", dy, (3,),
                     hint="dy has the shape of y: unbroadcast(dout, y.shape).")
grading.expect_close("dx for x (2, 3) + y (3,)", dx, np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0]]),
                     hint="the local derivative of x + y is 1: dx = dout.")
grading.expect_close("dy for x (2, 3) + y (3,)", dy, np.array([1.5, -1.0, 1.0]),
                     hint="y was copied to both rows: dy sums dout over axis 0.")
_, cache = add_forward(x, np.array([[-1.0], [2.0]]))
dx, dy = add_backward(dout, cache)
grading.expect_close("dy for x (2, 3) + y (2, 1)", dy, np.array([[2.0], [-0.5]]),
                     hint="y was copied along the columns: sum dout over axis 1, keeping the shape (2, 1).")

# %% nbgrader={"grade": true, "grade_id": "add_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.add_backward", add_forward, add_backward)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 4c.** `multiply_forward(x, y)` returns `(x * y, cache)` (element-wise, broadcast) and
# `multiply_backward(dout, cache)` returns `(dx, dy)`. Each input's local derivative is the *other* input:
#
# $$dx = \text{unbroadcast}(\text{dout} \cdot y,\ x.\text{shape}), \qquad
# dy = \text{unbroadcast}(\text{dout} \cdot x,\ y.\text{shape}).$$
#
# (If the same array is both inputs, $x \cdot x$, the caller adds $dx + dy = 2x\,\text{dout}$: a value used
# twice receives the sum of its gradients.)

# %% nbgrader={"grade": false, "grade_id": "multiply_forward", "locked": false, "schema_version": 3, "solution": true}
def multiply_forward(x, y):
    """out = x * y (element-wise, broadcast). Returns (out, cache)."""
    ### BEGIN SOLUTION a02.multiply_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "multiply_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
result = multiply_forward(x, np.array([2.0, -1.0, 0.5]))
assert isinstance(result, tuple) and len(result) == 2, "multiply_forward must return a pair (out, cache)."
grading.expect_close("multiply_forward(x (2, 3), y (3,))", result[0],
                     np.array([[2.0, 2.0, 0.25], [6.0, -0.0, -0.5]]),
                     hint="element-wise x * y (not a matrix product), broadcast over the rows.")

# %% nbgrader={"grade": true, "grade_id": "multiply_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.multiply_forward", multiply_forward)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "multiply_backward", "locked": false, "schema_version": 3, "solution": true}
def multiply_backward(dout, cache):
    """dout: the broadcast shape. Returns (dx, dy), shaped like x and y."""
    ### BEGIN SOLUTION a02.multiply_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "multiply_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
dout = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0]])
# Isolation case: y = 0 makes dx zero, so dy alone is tested first.
_, cache = multiply_forward(x, np.zeros(3))
dx0, dy0 = multiply_backward(dout, cache)
grading.expect_close("dx when y = 0", dx0, np.array([[0.0, 0.0, -0.0], [0.0, -0.0, 0.0]]), atol=1e-12,
                     hint="dx = dout * y, which is 0 when y is 0: did you multiply by x instead?")
_, cache = multiply_forward(x, np.array([2.0, -1.0, 0.5]))
grads = multiply_backward(dout, cache)
assert isinstance(grads, tuple) and len(grads) == 2, "multiply_backward must return (dx, dy)."
dx, dy = grads
grading.expect_shape("dx for x (2, 3) * y (3,)", dx, (2, 3), hint="dx has the shape of x.")
grading.expect_shape("dy for x (2, 3) * y (3,)", dy, (3,), hint="dy has the shape of y: unbroadcast.")
grading.expect_close("dx for x (2, 3) * y (3,)", dx, np.array([[2.0, -2.0, -0.5], [1.0, 3.0, 1.0]]),
                     hint="dx = dout * y (y broadcast over the rows).")
grading.expect_close("dy for x (2, 3) * y (3,)", dy, np.array([2.5, -4.0, -2.5]),
                     hint="dy = unbroadcast(dout * x, y.shape): the sum over the rows of dout * x.")
_, cache = multiply_forward(x, np.array([[-1.0], [2.0]]))
dx, dy = multiply_backward(dout, cache)
grading.expect_close("dx for x (2, 3) * y (2, 1)", dx, np.array([[-1.0, -2.0, 1.0], [1.0, -6.0, 4.0]]),
                     hint="dx = dout * y.")
grading.expect_close("dy for x (2, 3) * y (2, 1)", dy, np.array([[-3.5], [-0.5]]),
                     hint="sum dout * x over axis 1, keeping the shape (2, 1).")

# %% nbgrader={"grade": true, "grade_id": "multiply_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.multiply_backward", multiply_forward, multiply_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Losses: mean squared error and binary cross-entropy
#
# A loss is the last module: it takes the predictions and the targets and returns a scalar $L$ together
# with $\partial L / \partial \text{pred}$ (the start of the backward pass, the first `dout`). Every loss here
# is a **mean over all elements**, so the gradient carries the factor $1/\text{size}$.
#
# **Mean squared error**, for `pred` and `target` of the same (any) shape with $S$ elements:
#
# $$L = \frac{1}{S}\sum_i (\text{pred}_i - \text{target}_i)^2, \qquad
# \frac{\partial L}{\partial \text{pred}} = \frac{2}{S}(\text{pred} - \text{target}).$$
#
# **Exercise 5a.** `mse_loss(pred, target)` returns `(loss, dpred)`.

# %% nbgrader={"grade": false, "grade_id": "mse_loss", "locked": false, "schema_version": 3, "solution": true}
def mse_loss(pred, target):
    """loss = mean((pred - target)**2) over all elements; dpred = 2 (pred - target) / size."""
    ### BEGIN SOLUTION a02.mse_loss
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "mse_loss_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
pred = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, 1.0]])
target = np.array([[1.0, -1.0, 0.0], [1.0, 0.5, 1.0]])
loss0, dpred0 = mse_loss(pred, pred.copy())
grading.expect_close("mse_loss at a perfect prediction", loss0, 0.0, atol=1e-12,
                     hint="the loss is built from pred - target, which is zero here.")
loss, dpred = mse_loss(pred, target)
grading.expect_close("mse loss", loss, 0.7916666667,
                     hint="the mean over all 6 elements (not the sum, and not divided by N = 2 only).")
grading.expect_shape("dpred", dpred, (2, 3), hint="dpred has the shape of pred.")
grading.expect_close("dpred", dpred,
                     np.array([[-0.1666666667, 0.0, 0.6666666667], [0.1666666667, -0.1666666667, 0.0]]),
                     hint="dpred = 2 (pred - target) / pred.size.")

# %% nbgrader={"grade": true, "grade_id": "mse_loss_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.mse_loss", mse_loss)
### END HIDDEN TESTS

# %% [markdown]
# **Binary cross-entropy on logits.** For a binary target $y \in \{0, 1\}$ (or a probability in $[0, 1]$)
# and a logit $z$ with predicted probability $\sigma(z)$, the loss per element is
# $-[y \log \sigma(z) + (1 - y)\log(1 - \sigma(z))]$. Written directly it breaks down: for $z = -1000$,
# $\sigma(z)$ underflows to 0 and $\log 0 = -\infty$. Simplified, the same loss is
#
# $$\ell(z, y) = \max(z, 0) - z y + \log\left(1 + e^{-|z|}\right),$$
#
# where $e^{-|z|} \le 1$ never overflows (`np.log1p(t)` computes $\log(1 + t)$ accurately for small $t$).
# Its derivative is strikingly simple: $\partial \ell / \partial z = \sigma(z) - y$. Averaged over the $S$
# elements: $L = \frac{1}{S}\sum_i \ell(z_i, y_i)$ and $\partial L / \partial z = (\sigma(z) - y)/S$.
#
# **Exercise 5b.** `binary_cross_entropy_with_logits(z, y)` returns `(loss, dz)` (`z`, `y`, `dz` of the same
# shape) without overflow. You may call your `sigmoid_forward`.

# %% nbgrader={"grade": false, "grade_id": "binary_cross_entropy_with_logits", "locked": false, "schema_version": 3, "solution": true}
def binary_cross_entropy_with_logits(z, y):
    """Mean of max(z, 0) - z y + log(1 + exp(-|z|)); dz = (sigmoid(z) - y) / size."""
    ### BEGIN SOLUTION a02.binary_cross_entropy_with_logits
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "binary_cross_entropy_with_logits_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
z = np.array([-2.0, 0.0, 1.5, 3.0])
y = np.array([0.0, 1.0, 1.0, 0.0])
loss0, dz0 = binary_cross_entropy_with_logits(np.zeros(4), np.full(4, 0.5))
grading.expect_close("BCE loss at z = 0 with y = 0.5", loss0, float(np.log(2)),
                     hint="at z = 0 every element costs log 2 = max(0, 0) - 0 + log(1 + 1).")
grading.expect_close("BCE dz at z = 0 with y = 0.5", dz0, np.zeros(4), atol=1e-12,
                     hint="dz = (sigmoid(z) - y) / size, and sigmoid(0) = 0.5.")
loss, dz = binary_cross_entropy_with_logits(z, y)
grading.expect_close("BCE loss", loss, 1.017518955,
                     hint="mean over the elements of max(z, 0) - z * y + log1p(exp(-|z|)).")
grading.expect_close("BCE dz", dz, np.array([0.02980073051, -0.125, -0.04560638095, 0.2381435317]),
                     hint="dz = (sigmoid(z) - y) / z.size.")

try:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        big_loss, big_dz = binary_cross_entropy_with_logits(np.array([-1000.0, 1000.0]), np.array([1.0, 0.0]))
except FloatingPointError as err:
    raise AssertionError(
        "binary_cross_entropy_with_logits at z = [-1000, 1000] raised a floating-point error (" + str(err)
        + "). Hint: use the form max(z, 0) - z y + log1p(exp(-|z|)); never take the log of a sigmoid "
        "and never exp(-z).") from None
grading.expect_close("BCE loss at z = [-1000, 1000], y = [1, 0]", big_loss, 1000.0,
                     hint="both predictions are confidently wrong by a logit of 1000: the mean loss is 1000.")
grading.expect_close("BCE dz at z = [-1000, 1000], y = [1, 0]", big_dz, np.array([-0.5, 0.5]),
                     hint="(sigmoid(z) - y) / 2 with sigmoid(-1000) = 0 and sigmoid(1000) = 1.")

# %% nbgrader={"grade": true, "grade_id": "binary_cross_entropy_with_logits_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.binary_cross_entropy_with_logits", binary_cross_entropy_with_logits)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Softmax, log-softmax and the fused softmax-cross-entropy
#
# Softmax turns a row of $C$ class scores (logits) into probabilities:
#
# $$\text{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}} = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}
# \quad \text{for any constant } m .$$
#
# Written directly it **overflows**: in float32, $e^{x}$ is `inf` for $x > 88.7$, so logits of 300 over
# 1000 classes give `inf / inf = nan`; in float64 the limit is $x > 709.8$. The second form fixes it: with
# $m = \max_j x_j$, every exponent is $\le 0$ and the largest term is exactly $e^0 = 1$, so the denominator
# lies in $[1, C]$ and nothing overflows.
#
# **Exercise 6a.** `softmax(x, axis=-1)` normalises along `axis` (the classes), for any shape, and keeps the
# dtype of `x` (float32 in, float32 out). Use `keepdims=True` in `max` and `sum` so that they broadcast
# back.

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true}
def softmax(x, axis=-1):
    """Stable softmax along `axis`: exp(x - max) / sum exp(x - max). Same shape and dtype as x."""
    ### BEGIN SOLUTION a02.softmax
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "softmax_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
p = softmax(x)
grading.expect_shape("softmax(x) for x of shape (2, 3)", p, (2, 3), hint="softmax keeps the shape of x.")
grading.expect_close("rows of softmax(x) summed", p.sum(axis=1), np.ones(2),
                     hint="normalise along the last axis: divide by the sum over axis -1 (keepdims=True).")
p_expected = np.array([[0.09003057317, 0.2447284711, 0.6652409558],
                       [0.3333333333, 0.3333333333, 0.3333333333]])
grading.expect_close("softmax(x)", p, p_expected, hint="exp(x_i) / sum_j exp(x_j), row by row.")
grading.expect_close("softmax(x, axis=0)", softmax(x, axis=0),
                     np.array([[0.5, 0.7310585786, 0.880797078], [0.5, 0.2689414214, 0.119202922]]),
                     hint="use the axis argument for the max and the sum.")

try:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        p_shift = softmax(x + 1000.0)
        p_rows = softmax(np.array([[0.0, 1.0], [-1000.0, -999.0]]))  # the rows are 1000 apart
        x32 = np.full((3, 1000), -300.0, dtype=np.float32)
        x32[0] = 300.0  # 1000 equal logits of 300: the uniform distribution
        x32[1, 7], x32[1, 8] = 300.0, 299.0  # two large logits one apart, the rest at -300
        x32[2] = np.linspace(-300, 300, 1000)  # a ramp up to 300
        p32 = softmax(x32)
except FloatingPointError as err:
    raise AssertionError(
        "softmax of large logits (x + 1000, rows 1000 apart, float32 logits up to 300 over 1000 classes) "
        "raised a floating-point error (" + str(err) + "). Hint: subtract the maximum of each row "
        "(x.max(axis=axis, keepdims=True)) before np.exp.") from None
grading.expect_close("softmax(x + 1000)", p_shift, p_expected,
                     hint="softmax does not change when a constant is added to every logit: "
                          "subtract the row maximum first.")
grading.expect_close("softmax of rows [0, 1] and [-1000, -999]", p_rows[1], p_rows[0], rtol=1e-9,
                     hint="the two rows differ by a constant, so their softmax is the same: subtract each "
                          "row's own maximum (keepdims=True), not the maximum of the whole array.")
grading.expect_equal("dtype of softmax(float32 logits)", str(p32.dtype), "float32",
                     hint="compute in the dtype of x; do not convert to float64.")
grading.expect_close("softmax of 1000 equal logits of 300 (float32)", p32[0], np.full(1000, 1e-3), rtol=1e-5,
                     hint="equal logits give the uniform distribution 1/C; "
                          "exp(300) overflows float32: subtract the max.")
grading.expect_close("softmax of logits [.., 300, 299, ..] (float32), classes 7 and 8", p32[1, 7:9],
                     np.array([0.7310585786, 0.2689414214]), rtol=1e-5,
                     hint="e^0 / (e^0 + e^-1) and e^-1 / (e^0 + e^-1) after subtracting the maximum 300.")
grading.expect_close("softmax of a ramp up to 300 (float32), last 4 classes", p32[2, -4:],
                     np.array([0.07450170161, 0.135830516, 0.2476519562, 0.4515157679]),
                     rtol=1e-5, hint="subtract the row maximum before np.exp.")

# %% nbgrader={"grade": true, "grade_id": "softmax_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.softmax", softmax)
### END HIDDEN TESTS

# %% [markdown]
# The log of a probability is what a loss needs, and $\log(\text{softmax}(x))$ fails again: a class 1000
# below the maximum has probability $e^{-1000}$, which underflows to 0, and $\log 0 = -\infty$. Take the log
# of the stable form instead:
#
# $$\log \text{softmax}(x)_i = (x_i - m) - \log \sum_j e^{x_j - m}, \qquad m = \max_j x_j .$$
#
# The sum is at least 1 (the maximum contributes $e^0$), so its log is safe. (This is the *log-sum-exp
# trick*.)
#
# **Exercise 6b.** `log_softmax(x, axis=-1)` returns the log-probabilities, same shape as `x`, all $\le 0$.

# %% nbgrader={"grade": false, "grade_id": "log_softmax", "locked": false, "schema_version": 3, "solution": true}
def log_softmax(x, axis=-1):
    """Stable log-softmax along `axis`: (x - m) - log sum exp(x - m), m = max. Same shape as x."""
    ### BEGIN SOLUTION a02.log_softmax
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "log_softmax_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])

try:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        lp = log_softmax(x)
except FloatingPointError as err:
    raise AssertionError(
        "log_softmax([[1, 2, 3], [1000, 0, -1000]]) raised a floating-point error (" + str(err) + "). "
        "Hint: do not take np.log(softmax(x)); use (x - m) - log(sum(exp(x - m))) with m the row maximum."
    ) from None
grading.expect_close("log_softmax(x) row 0 = [1, 2, 3]", lp[0],
                     np.array([-2.407605964, -1.407605964, -0.4076059644]),
                     hint="log of the softmax probabilities: (x - m) - log(sum exp(x - m)).")
grading.expect_close("log_softmax(x) row 1 = [1000, 0, -1000]", lp[1], np.array([0.0, -1000.0, -2000.0]),
                     hint="the classes far below the maximum have log-probabilities about -1000 and -2000, "
                          "not -inf.")
grading.expect_close("log_softmax(x, axis=0)", log_softmax(x[:, :2], axis=0),
                     np.array([[-999.0, -0.126928011], [0.0, -2.126928011]]),
                     hint="use the axis argument for the max and the sum.")

# %% nbgrader={"grade": true, "grade_id": "log_softmax_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.log_softmax", log_softmax)
### END HIDDEN TESTS

# %% [markdown]
# **The fused softmax-cross-entropy.** For $N$ examples with logits $s_n$ (a row of $C$ scores) and true
# classes $y_n$, the cross-entropy loss is the mean negative log-probability of the true class:
#
# $$L = -\frac{1}{N}\sum_n \log \text{softmax}(s_n)_{y_n}, \qquad
# \frac{\partial L}{\partial s_{n,:}} = \frac{1}{N}\left(\text{softmax}(s_n) - \text{onehot}(y_n)\right).$$
#
# As separate modules, the backward pass would go through the log ($-1/p$, infinite when $p$ underflows to
# 0) and then multiply by the $C \times C$ Jacobian of softmax. Fused into one module the gradient is the
# difference above: one `exp` per logit, no division by a probability, no Jacobian. (Section 10 times the
# two.)
#
# **Exercise 6c.** `softmax_cross_entropy(logits, y)` takes logits `(N, C)` and integer labels `y` `(N,)`
# and returns `(loss, dlogits)`, the scalar mean loss and its gradient `(N, C)`, stably (logits up to 300
# over 1000 classes, float32, must work). Index the true classes with `logits[np.arange(N), y]`. Do not
# modify `logits`.

# %% nbgrader={"grade": false, "grade_id": "softmax_cross_entropy", "locked": false, "schema_version": 3, "solution": true}
def softmax_cross_entropy(logits, y):
    """loss = -mean_n log softmax(logits_n)[y_n]; dlogits = (softmax(logits) - onehot(y)) / N."""
    ### BEGIN SOLUTION a02.softmax_cross_entropy
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "softmax_cross_entropy_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
logits = np.array([[2.0, 1.0, 0.1, -1.0], [0.5, 0.5, 3.0, 1.0], [-1.0, 0.0, 1.0, 2.0]])
y = np.array([0, 3, 1])
logits_before = logits.copy()
# Isolation case: equal logits give the uniform distribution, so the loss is log C.
loss0, dlogits0 = softmax_cross_entropy(np.zeros((3, 4)), y)
grading.expect_close("loss for all-zero logits (C = 4)", loss0, float(np.log(4)),
                     hint="each example has probability 1/4 on its true class: loss = -log(1/4) = log 4.")
grading.expect_close("dlogits for all-zero logits", dlogits0, (0.25 - np.eye(4)[y]) / 3,
                     hint="(softmax - onehot(y)) / N: 0.25 everywhere, minus 1 at the true class, "
                          "all divided by N = 3.")
loss, dlogits = softmax_cross_entropy(logits, y)
grading.expect_close("softmax-cross-entropy loss", loss, 1.717162113,
                     hint="the mean over the N examples of -log softmax(logits_n)[y_n].")
grading.expect_shape("dlogits", dlogits, (3, 4), hint="dlogits has the shape of logits, (N, C).")
grading.expect_close("dlogits", dlogits,
                     np.array([[-0.1206445496, 0.0782438309, 0.0318115677, 0.01058915102],
                               [0.02105544827, 0.02105544827, 0.2565078714, -0.2986187679],
                               [0.01068620109, -0.3042852271, 0.07896093936, 0.2146380866]]),
                     hint="dlogits = (softmax(logits) - onehot(y)) / N.")
grading.expect_close("logits after the call", logits, logits_before, rtol=0, atol=0,
                     hint="softmax_cross_entropy changed logits in place: "
                          "shift a copy (logits - max builds one).")
big = np.full((2, 1000), -300.0, dtype=np.float32)
big[0, 5] = 300.0  # true class 5 has the largest logit: loss about 0
big[1, 0] = 300.0  # true class 1 sits 600 below the maximum: loss 600

try:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        big_loss, big_dlogits = softmax_cross_entropy(big, np.array([5, 1]))
except FloatingPointError as err:
    raise AssertionError(
        "softmax_cross_entropy of float32 logits up to 300 over 1000 classes raised a floating-point error ("
        + str(err) + "). Hint: subtract the row maximum before np.exp and compute the log-probability as "
        "shifted - log(sum exp(shifted)), never log(softmax).") from None
grading.expect_close("loss for float32 logits up to 300 over 1000 classes", big_loss, 300.0, rtol=1e-5,
                     hint="example 0 costs 0 and example 1 costs 600 (its logit is 600 below the maximum): "
                          "mean 300.")
grading.expect_close("dlogits[1, :2] for float32 logits up to 300", big_dlogits[1, :2], np.array([0.5, -0.5]),
                     rtol=1e-5,
                     hint="(softmax - onehot) / N: class 0 has probability 1, the true class 1 has 0, N = 2.")

# %% nbgrader={"grade": true, "grade_id": "softmax_cross_entropy_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.softmax_cross_entropy", softmax_cross_entropy)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. A two-layer network from your modules
#
# Chaining the modules gives a classifier with one hidden layer of $H$ units:
#
# $$h = x W_1 + b_1,\quad a = \text{relu}(h),\quad s = a W_2 + b_2,\quad L = \text{softmax-CE}(s, y),$$
#
# with $x$ `(N, D)`, $W_1$ `(D, H)`, $b_1$ `(H,)`, $W_2$ `(H, C)`, $b_2$ `(C,)`, scores $s$ `(N, C)`. The
# backward pass visits the same modules in reverse order, each turning the gradient of its output into the
# gradients of its inputs: softmax-CE gives $ds$, the second affine gives $da$, $dW_2$, $db_2$, ReLU gives
# $dh$, the first affine gives $dW_1$, $db_1$ (and $dx$, which nobody needs).
#
# **Exercise 7.** `two_layer_loss(params, X, y)` with `params = {"w1", "b1", "w2", "b2"}` returns
# `(loss, grads)`, `grads` a dict with the same keys and shapes. Use only your functions from above.

# %% nbgrader={"grade": false, "grade_id": "two_layer_loss", "locked": false, "schema_version": 3, "solution": true}
def two_layer_loss(params, X, y):
    """Forward and backward through affine - relu - affine - softmax-CE. Returns (loss, grads)."""
    ### BEGIN SOLUTION a02.two_layer_loss
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "two_layer_loss_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
X = np.array([[1.0, 0.5], [-0.5, 1.0], [0.0, -1.0], [2.0, 0.0]])
y = np.array([0, 1, 2, 1])
params = {
    "w1": np.array([[1.0, -0.5, 0.25], [0.5, 1.0, -1.0]]),
    "b1": np.array([0.1, -0.2, 0.0]),
    "w2": np.array([[1.0, 0.0, -1.0], [-0.5, 2.0, 0.5], [0.0, -1.0, 1.5]]),
    "b2": np.array([0.0, 0.1, -0.1]),
}
# Isolation case: all-zero parameters give zero scores, the loss log C and gradients only on b2.
zero_loss, zero_grads = two_layer_loss({k: np.zeros_like(v) for k, v in params.items()}, X, y)
grading.expect_close("loss with all-zero parameters", zero_loss, 1.098612289,
                     hint="zero scores give the uniform distribution over C = 3 classes: the loss is log 3.")
grading.expect_close("grads['b2'] with all-zero parameters", zero_grads["b2"],
                     np.array([0.08333333333, -0.1666666667, 0.08333333333]), atol=1e-12,
                     hint="the scores are all 0, so db2 = mean over examples of (1/3 - onehot(y)).")
grading.expect_close("grads['w2'] with all-zero parameters", zero_grads["w2"], np.zeros((3, 3)), atol=1e-12,
                     hint="the ReLU outputs are all 0, so dw2 = a.T @ dscores = 0.")
grading.expect_close("grads['w1'] with all-zero parameters", zero_grads["w1"], np.zeros((2, 3)), atol=1e-12,
                     hint="with w2 = 0 no gradient reaches the first layer, so dw1 = 0.")
loss, grads = two_layer_loss(params, X, y)
grading.expect_close("two-layer loss", loss, 0.8511412512,
                     hint="affine (w1, b1) -> relu -> affine (w2, b2) -> softmax_cross_entropy.")
grading.expect_equal("keys of grads", sorted(grads), ["b1", "b2", "w1", "w2"],
                     hint="one gradient per parameter.")
grading.expect_close("grads['b2']", grads["b2"], np.array([0.2211620658, -0.2058045647, -0.01535750106]),
                     hint="db2 sums dscores over the batch (dscores from softmax_cross_entropy).")
grading.expect_close("grads['w2']", grads["w2"],
                     np.array([[0.3871038793, -0.4190404328, 0.0319365535],
                               [0.01551274112, -0.04835321434, 0.03284047322],
                               [0.1583032429, -0.09715313606, -0.06115010686]]),
                     hint="dw2 = a.T @ dscores with a the ReLU output (not h, the input of ReLU).")
grading.expect_close("grads['b1']", grads["b1"], np.array([0.1263643505, -0.08385005965, 0.1260395057]),
                     hint="db1 sums dh over the batch, where dh = relu_backward(dscores @ w2.T, cache).")
grading.expect_close("grads['w1']", grads["w1"],
                     np.array([[0.3697145203, 0.04192502982, 0.4824461196],
                               [-0.05436725917, -0.08385005965, 0.1151835541]]),
                     hint="dw1 = X.T @ dh.")

# %% nbgrader={"grade": true, "grade_id": "two_layer_loss_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.two_layer_loss", two_layer_loss)
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Gradient-check tables
#
# Now check every backward pass against your numerical gradient, on fresh random float64 inputs. For a
# module, a random upstream gradient `dout` is put on the output and `numerical_gradient_array`
# differentiates $\sum \text{out} \cdot \text{dout}$; for a loss, `numerical_gradient` differentiates the
# scalar loss itself. Inputs that are not differentiated (labels, targets) are left out. The last row is a
# deliberately **broken** backward pass (sigmoid's derivative written as $s$ instead of $s(1 - s)$), to see
# what a bug looks like.
#
# **What to see:** every correct row has a relative error of about $10^{-8}$ or less, far below the
# threshold $10^{-7}$ (float64, $h = 10^{-5}$); the broken one is off by order 1. ReLU's kink is not a
# problem here because no random input lands within $h$ of 0.

# %%
TOL = 1e-7  # float64, h = 1e-5: a correct backward pass gives ~1e-8 or less


def check_pair_rows(label, forward, backward, inputs, seed=0):
    """Relative errors of backward(dout, cache) against the numerical gradient, one row per input."""
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
    """Relative error of the gradient returned by loss_fn(x, *rest) -> (loss, dx)."""
    _, analytic = loss_fn(x, *rest)
    numeric = numerical_gradient(lambda: loss_fn(x, *rest)[0], x)
    return [(label, "x", x.shape, rel_error(analytic, numeric))]


def print_table(rows):
    print(f"{'module':<34} {'input':<6} {'shape':<12} {'rel. error':>10}   verdict")
    for label, name, shape, err in rows:
        verdict = "ok" if err < TOL else "WRONG"
        print(f"{label:<34} {name:<6} {str(shape):<12} {err:10.2e}   {verdict}")


# %%
rng = np.random.default_rng(0)
rows = []
rows += check_pair_rows("affine", affine_forward, affine_backward,
                        {"x": rng.standard_normal((4, 5)), "w": rng.standard_normal((5, 3)),
                         "b": rng.standard_normal(3)})
rows += check_pair_rows("affine, x of shape (4, 2, 3)", affine_forward, affine_backward,
                        {"x": rng.standard_normal((4, 2, 3)), "w": rng.standard_normal((6, 3)),
                         "b": rng.standard_normal(3)})
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

# %% [markdown]
# The whole network, parameter by parameter: the gradient of the loss with respect to every entry of $W_1$,
# $b_1$, $W_2$, $b_2$ of a small random net, against the numerical gradient of `two_layer_loss`'s loss.
# **What to see:** four rows, all far below $10^{-7}$: the chain of modules is correct end to end.

# %%
rng = np.random.default_rng(1)
X_check, y_check = rng.standard_normal((6, 3)), rng.integers(0, 4, 6)
net = {"w1": rng.standard_normal((3, 5)), "b1": rng.standard_normal(5),
       "w2": rng.standard_normal((5, 4)), "b2": rng.standard_normal(4)}
_, analytic = two_layer_loss(net, X_check, y_check)
rows = []
for name, p in net.items():
    numeric = numerical_gradient(lambda: two_layer_loss(net, X_check, y_check)[0], p)
    rows.append(("two-layer net", name, p.shape, rel_error(analytic[name], numeric)))
print_table(rows)


# %% [markdown]
# ## 9. Training the two-layer net with SGD on a spiral
#
# The data: three spiral arms in the plane, 100 points each (`course.data.make_spirals`). No linear
# classifier separates them; a hidden layer of ReLUs can.
#
# **Stochastic gradient descent** (SGD) with mini-batches: each epoch shuffles the $N$ examples, cuts them
# into consecutive batches of `batch_size` (the last may be smaller), and for every batch computes the loss
# and gradients on that batch and updates every parameter,
# $\theta \leftarrow \theta - \text{lr} \cdot \partial L / \partial \theta$.
#
# **Exercise 9.** `train_two_layer(X, y, hidden_dim, lr, epochs, batch_size, seed)` returns
# `(params, losses)`:
# - create `rng = np.random.default_rng(seed)` and use it for everything random (initialisation,
#   shuffling);
# - initialise with **He initialisation**, $W_1 \sim \mathcal N(0, 2/D)$ of shape `(D, hidden_dim)`,
#   $W_2 \sim \mathcal N(0, 2/H)$ of shape `(hidden_dim, C)` with $C$ = `y.max() + 1`, and zero biases (all
#   float64);
# - `losses` holds the batch loss of every update, in order (so `epochs * ceil(N / batch_size)` values).
#
# Use your `two_layer_loss`. It is graded by its result: a net trained with the settings below must classify
# at least 90% of the training points correctly (on this spiral and, in the hidden test, on others).

# %% nbgrader={"grade": false, "grade_id": "train_two_layer", "locked": false, "schema_version": 3, "solution": true}
def train_two_layer(X, y, hidden_dim, lr, epochs, batch_size, seed):
    """Mini-batch SGD on two_layer_loss from a He initialisation. Returns (params, losses per update)."""
    ### BEGIN SOLUTION a02.train_two_layer
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "train_two_layer_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
X_spiral, y_spiral = make_spirals(n_per_class=100, n_classes=3, noise=0.2, rng=np.random.default_rng(0),
                                  dtype=np.float64)
X_before = X_spiral.copy()
params, losses = train_two_layer(X_spiral, y_spiral, hidden_dim=100, lr=0.5, epochs=100, batch_size=32,
                                 seed=0)
for key, shape in [("w1", (2, 100)), ("b1", (100,)), ("w2", (100, 3)), ("b2", (3,))]:
    grading.expect_shape(f"params['{key}']", params[key], shape,
                         hint="w1 (D, hidden_dim), b1 (hidden_dim,), w2 (hidden_dim, C), b2 (C,) "
                              "with C = y.max() + 1.")
grading.expect_equal("number of recorded losses", len(losses), 100 * 10,
                     hint="one loss per update: 100 epochs of ceil(300 / 32) = 10 batches.")
grading.expect_close("X after training", X_spiral, X_before, rtol=0, atol=0, hint="do not modify X in place.")
assert np.mean(losses[-10:]) < np.mean(losses[:10]), (
    "the loss did not go down: check the sign of the update (params -= lr * grads) "
    "and that every parameter is updated.")
print("ok: the mean loss of the last epoch is below that of the first")
scores = np.maximum(X_spiral @ params["w1"] + params["b1"], 0) @ params["w2"] + params["b2"]
accuracy = float(np.mean(scores.argmax(axis=1) == y_spiral))
assert accuracy >= 0.9, (
    f"training accuracy {accuracy:.3f} is below 0.9. Check that each epoch visits every example once in a "
    "fresh random order, that every batch updates all four parameters, and the He initialisation scales.")
print("ok: the trained net classifies at least 90% of the training spiral correctly")

# %% nbgrader={"grade": true, "grade_id": "train_two_layer_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a02.train_two_layer", train_two_layer)
### END HIDDEN TESTS

# %% [markdown]
# Left: the batch loss over the updates (and its average per epoch). Right: the regions of the plane the
# trained net assigns to each class, with the training points on top. **What to see:** the loss falls from
# about $\log 3 \approx 1.1$ towards 0.1 while it is noisy from batch to batch (each update sees 32 points);
# the decision regions are bent, piecewise-linear spirals (each ReLU contributes one straight fold),
# following the arms closely, which a linear classifier could never do.

# %%
X_spiral, y_spiral = make_spirals(n_per_class=100, n_classes=3, noise=0.2, rng=np.random.default_rng(0),
                                  dtype=np.float64)
spiral_params, spiral_losses = train_two_layer(X_spiral, y_spiral, hidden_dim=100, lr=0.5, epochs=100,
                                               batch_size=32, seed=0)


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
                       title=f"Decision regions of the two-layer net, training accuracy {train_accuracy:.1%}")
plt.tight_layout()
plt.show()


# %% [markdown]
# ## 10. Fused vs separate softmax-cross-entropy
#
# The separate version below runs the three modules one after the other, each with its own backward step,
# as a graph of generic modules would (it mirrors `course.layers.losses.softmax_cross_entropy_separate`,
# written here with your `softmax` so that it runs in the grader too): softmax, then $-\log p_{y}$ averaged,
# then back through
# $\partial(-\log p)/\partial p = -1/p$ and the softmax Jacobian-vector product
# $dx = s \odot (d s - \langle ds, s\rangle)$. It is not graded.

# %%
def softmax_cross_entropy_separate(logits, y):
    """Softmax, then log, then the mean negative log-likelihood, each with its own backward step."""
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
    print("separate, logits [0, -800], true class 1:",
          softmax_cross_entropy_separate(logits_demo, np.array([1])))
print("fused,    logits [0, -800], true class 1:", softmax_cross_entropy(logits_demo, np.array([1])))


# %% [markdown]
# **What to see** above: when the true class is 800 below the maximum, its probability underflows to 0 and
# the separate version returns an infinite loss and `nan` gradients, while the fused one gives the exact
# loss 800 and gradients $\pm 1$.
#
# Below, both are timed on the same random batches of $N = 512$ examples for a growing number of classes $C$
# (float64, best of several runs; your numbers will differ from machine to machine and from run to run).
# **What to see:** both agree to round-off, and the fused version is faster in most runs, but only by a
# modest factor: both are dominated by the one `exp` over the $N \times C$ logits, and the separate one adds
# the log, the scatter of $-1/p$ and the Jacobian-vector product, each another pass over an $(N, C)$ array.

# %%
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
    fused_grad = softmax_cross_entropy(logits, labels)[1]
    difference = np.max(np.abs(fused_grad - softmax_cross_entropy_separate(logits, labels)[1]))
    speed_up = separate_ms[-1] / fused_ms[-1]
    print(f"{num_classes:>6} {fused_ms[-1]:>11.3f} {separate_ms[-1]:>14.3f} {speed_up:>8.2f}x "
          f"{difference:>17.1e}")

fig, ax = plt.subplots(figsize=(6, 3.8))
ax.loglog(classes, fused_ms, "o-", label="fused softmax-cross-entropy")
ax.loglog(classes, separate_ms, "s-", label="softmax, log, NLL separately")
ax.set_xlabel("number of classes C")
ax.set_ylabel("time per forward + backward (ms)")
ax.set_title("Fused vs separate softmax-cross-entropy, N = 512, float64")
ax.legend()
plt.show()

# %% [markdown]
# ## Summary
#
# Every piece of a network is a module with a forward pass that caches what it needs and a backward pass
# that turns the gradient of its output into the gradients of its inputs; the chain rule does the rest.
# Where a value is copied (broadcasting, a reused input), its gradients add up. A centred-difference check
# tells a correct backward pass (relative error about $10^{-9}$) from a wrong one (about 1). Numerical care
# matters as much as the calculus: subtract the maximum in softmax, use log-sum-exp, and fuse softmax with
# the cross-entropy. The library's versions of these functions (`course.layers.affine.Linear`,
# `course.layers.activations.ReLU`, ...) wrap the same pairs in `Module` classes that own their parameters;
# assignment 03 builds a graph engine that chains such modules automatically.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a02_backprop_modules.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a02_backprop_modules.ipynb")
