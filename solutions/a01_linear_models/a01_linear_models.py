# %% [markdown]
# # Assignment 01: linear models and the machine-learning workflow
#
# A linear model predicts $\hat y = \phi(x)^\top w$: the input $x$ goes through a fixed **feature map**
# $\phi$ and the prediction is a weighted sum of the features. All the curvature lives in $\phi$; the model
# is linear in its weights $w$, which is why its squared loss has a closed-form minimum.
#
# You will implement, in this notebook:
#
# 1. three feature maps: $[1, x]$, the polynomial $[1, x, \dots, x^p]$ and $[1, x, \sin 3x]$;
# 2. the linear predictor $\hat y = X w$ in matrix form, with the bias as the weight of the constant feature;
# 3. the squared loss and its gradient;
# 4. gradient descent;
# 5. the L2-regularised (ridge) loss, its gradient and its closed-form minimiser;
# 6. model selection: choosing the polynomial degree on a validation set.
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# answer cell, in place of the `raise NotImplementedError(...)` line (its message names the exercise). The
# *visible* test cell after each answer checks a small fixed example and tells you what is wrong; the
# *hidden* test cell compares your function with the reference on fresh random inputs when the course grader
# runs it. Both carry points. Do not edit, copy or delete test cells: the grader restores them. Use only
# NumPy (no `course.models.linear`: in the grader the library functions you are asked to write raise
# `NotImplementedError`).
#
# Shapes: $x$ is `(N,)`, the design matrix $X = \phi(x)$ is `(N, D)`, $w$ is `(D,)`, $y$ is `(N,)`.

# %%
import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import get_array_module  # noqa: F401 (the library's solutions use it)
from course.data import make_polynomial_regression, train_val_test_split


# %% [markdown]
# ## 1. Feature maps
#
# A feature map turns each scalar input $x_n$ into a row of features. Stacking the rows gives the
# **design matrix** $X$ of shape `(N, D)`. The first feature is always the constant 1, so the first
# weight $w_0$ acts as the bias: $\hat y = w_0 \cdot 1 + w_1 \phi_1(x) + \dots$
#
# **Exercise 1a.** `linear_features(x)` returns $\phi(x) = [1, x]$, shape `(N, 2)`.

# %% nbgrader={"grade": false, "grade_id": "linear_features", "locked": false, "schema_version": 3, "solution": true}
def linear_features(x):
    """phi(x) = [1, x]. x: (N,). Returns X: (N, 2), column 0 all ones, column 1 = x."""
    ### BEGIN SOLUTION a01.linear_features
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "linear_features_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_check = np.array([-1.5, 0.0, 2.0])
X_check = linear_features(x_check)
grading.expect_shape("linear_features(x) for 3 inputs", X_check, (3, 2),
                     hint="one row per input and two columns, [1, x]; np.stack(..., axis=1) builds columns.")
grading.expect_close("column 0 of linear_features(x), the bias feature", X_check[:, 0], np.ones(3),
                     hint="the first feature is the constant 1 for every input.")
grading.expect_close("column 1 of linear_features(x)", X_check[:, 1], x_check,
                     hint="the second feature is x itself.")

# %% nbgrader={"grade": true, "grade_id": "linear_features_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.linear_features", linear_features)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 1b.** `polynomial_features(x, degree)` returns $\phi(x) = [1, x, x^2, \dots, x^p]$ for
# $p$ = `degree`, shape `(N, p + 1)`: column $k$ holds $x^k$. Degree 0 is the constant model.

# %% nbgrader={"grade": false, "grade_id": "polynomial_features", "locked": false, "schema_version": 3, "solution": true}
def polynomial_features(x, degree):
    """phi(x) = [1, x, ..., x**degree]. x: (N,). Returns X: (N, degree + 1) with X[:, k] = x**k."""
    ### BEGIN SOLUTION a01.polynomial_features
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "polynomial_features_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_check = np.array([-1.5, 0.5, 2.0])
X_check = polynomial_features(x_check, 3)
grading.expect_shape("polynomial_features(x, 3) for 3 inputs", X_check, (3, 4),
                     hint="degree p gives p + 1 columns: x**0, x**1, ..., x**p.")
for k in range(4):
    grading.expect_close(f"column {k} of polynomial_features(x, 3)", X_check[:, k], x_check**k,
                         hint=f"column {k} must be x**{k} (the powers start at 0, the constant).")
grading.expect_shape("polynomial_features(x, 0)", polynomial_features(x_check, 0), (3, 1),
                     hint="degree 0 is the constant feature alone.")

# %% nbgrader={"grade": true, "grade_id": "polynomial_features_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.polynomial_features", polynomial_features)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 1c.** Features need not be powers. If the data has a periodic part, a hand-made feature
# can capture it with a single weight: `sin_features(x)` returns $\phi(x) = [1, x, \sin 3x]$, shape `(N, 3)`.

# %% nbgrader={"grade": false, "grade_id": "sin_features", "locked": false, "schema_version": 3, "solution": true}
def sin_features(x):
    """phi(x) = [1, x, sin(3x)]. x: (N,). Returns X: (N, 3)."""
    ### BEGIN SOLUTION a01.sin_features
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sin_features_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_check = np.array([-1.5, 0.0, 2.0])
X_check = sin_features(x_check)
grading.expect_shape("sin_features(x) for 3 inputs", X_check, (3, 3), hint="three columns: [1, x, sin(3x)].")
grading.expect_close("column 0 of sin_features(x)", X_check[:, 0], np.ones(3), hint="the constant comes "
                                                                                    "first.")
grading.expect_close("column 1 of sin_features(x)", X_check[:, 1], x_check, hint="then x itself.")
grading.expect_close("column 2 of sin_features(x)", X_check[:, 2],
                     np.array([0.9775301177, 0.0, -0.2794154982]),
                     hint="the last column is sin(3 x), in radians (np.sin).")

# %% nbgrader={"grade": true, "grade_id": "sin_features_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.sin_features", sin_features)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The linear predictor in matrix form
#
# For one input, $\hat y_n = \sum_d X_{nd}\, w_d = \phi(x_n)^\top w$. For all $N$ inputs at once this is a
# matrix-vector product, $\hat y = X w$, with $X$ `(N, D)`, $w$ `(D,)` and $\hat y$ `(N,)`. No loop over
# the examples is needed (and loops are much slower in NumPy).
#
# **Exercise 2.** `linear_predict(X, w)` returns $\hat y = X w$, shape `(N,)`.

# %% nbgrader={"grade": false, "grade_id": "linear_predict", "locked": false, "schema_version": 3, "solution": true}
def linear_predict(X, w):
    """y_hat = X w. X: (N, D), w: (D,). Returns y_hat: (N,)."""
    ### BEGIN SOLUTION a01.linear_predict
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "linear_predict_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
X_check = np.array([[1.0, 0.5, -1.0], [1.0, -1.0, 2.0], [1.0, 2.0, 0.5], [1.0, 0.0, 1.5], [1.0, -0.5, -2.0]])
w_check = np.array([0.5, -1.0, 2.0])
y_hat = linear_predict(X_check, w_check)
grading.expect_shape("linear_predict(X, w) with X (5, 3), w (3,)", y_hat, (5,),
                     hint="one prediction per row of X; X @ w has shape (N,).")
grading.expect_close("linear_predict(X, w)", y_hat, np.array([-2.0, 5.5, -0.5, 3.5, -3.0]),
                     hint="y_hat[n] = sum over d of X[n, d] * w[d].")

# %% nbgrader={"grade": true, "grade_id": "linear_predict_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.linear_predict", linear_predict)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The squared loss and its gradient
#
# How wrong are the predictions? The mean squared error over the $N$ examples is
#
# $$L(w) = \frac{1}{N} \sum_{n=1}^N (\hat y_n - y_n)^2 = \frac{1}{N}\lVert X w - y \rVert^2 .$$
#
# With the residual $r = X w - y$ `(N,)`, the chain rule gives the gradient, a vector shaped like $w$:
#
# $$\nabla_w L = \frac{2}{N} X^\top r \qquad \text{shape } (D,).$$
#
# (Taking the mean rather than the sum keeps the size of the gradient independent of $N$, so a learning
# rate that works for 10 examples also works for 10 000.)
#
# **Exercise 3.** `squared_loss(X, w, y)` returns the pair `(loss, dw)`: `loss` a Python float, `dw` `(D,)`.

# %% nbgrader={"grade": false, "grade_id": "squared_loss", "locked": false, "schema_version": 3, "solution": true}
def squared_loss(X, w, y):
    """L = (1/N) ||X w - y||^2 and dL/dw = (2/N) X^T (X w - y). Returns (loss: float, dw: (D,))."""
    ### BEGIN SOLUTION a01.squared_loss
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "squared_loss_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
X_check = np.array([[1.0, 0.5, -1.0], [1.0, -1.0, 2.0], [1.0, 2.0, 0.5], [1.0, 0.0, 1.5], [1.0, -0.5, -2.0]])
w_check = np.array([0.5, -1.0, 2.0])
y_check = np.array([1.0, 0.0, -2.0, 3.0, 0.5])
result = squared_loss(X_check, w_check, y_check)
assert isinstance(result, tuple) and len(result) == 2, "squared_loss must return a pair (loss, dw)."
# Isolation case: a perfect fit (y = X w) must give zero loss and a zero gradient.
loss_0, dw_0 = squared_loss(X_check, w_check, X_check @ w_check)
grading.expect_close("loss at a perfect fit", loss_0, 0.0, atol=1e-12,
                     hint="the loss is built from the residual X w - y, which is zero here.")
grading.expect_close("dw at a perfect fit", dw_0, np.zeros(3), atol=1e-12,
                     hint="the gradient is proportional to the residual X w - y.")
loss, dw = result
grading.expect_close("loss", loss, 10.8,
                     hint="the mean over the N examples of the squared residuals (divide by N, not 2N).")
grading.expect_shape("dw", dw, (3,), hint="dw has the shape of w.")
grading.expect_close("dw", dw, np.array([0.4, -0.9, 9.0]),
                     hint="dw = (2 / N) * X.T @ (X @ w - y): check the factor 2, the 1/N and the transpose.")

# %% nbgrader={"grade": true, "grade_id": "squared_loss_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.squared_loss", squared_loss)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Gradient descent
#
# The gradient points uphill; a small step against it lowers the loss:
#
# $$w \leftarrow w - \alpha \nabla_w L(w),$$
#
# with the learning rate $\alpha > 0$. Repeating this from a starting point $w^{(0)}$ is (full-batch)
# gradient descent. Your function receives the loss as a function `loss_fn(w) -> (loss, dw)`, so the same
# loop works for any loss, for example `lambda w: squared_loss(X, w, y)`.
#
# **Exercise 4.** `gradient_descent(loss_fn, w0, lr, num_steps)` returns `(w, losses)` where `losses[t]`
# is the loss **before** update `t` (so `len(losses) == num_steps`). Do not modify `w0` in place.

# %% nbgrader={"grade": false, "grade_id": "gradient_descent", "locked": false, "schema_version": 3, "solution": true}
def gradient_descent(loss_fn, w0, lr, num_steps):
    """Run num_steps updates w <- w - lr * dw from w0. Returns (w, losses), losses[t] before update t."""
    ### BEGIN SOLUTION a01.gradient_descent
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gradient_descent_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
def bowl(w):
    # L(w) = ||w - (1, -2)||^2, minimum at (1, -2); gradient 2 (w - (1, -2))
    target = np.array([1.0, -2.0])
    return float(np.sum((w - target) ** 2)), 2 * (w - target)

w_start = np.zeros(2)
w_end, losses = gradient_descent(bowl, w_start, lr=0.1, num_steps=3)
grading.expect_equal("len(losses) after 3 steps", len(losses), 3,
                     hint="record one loss per update, taken before the update.")
grading.expect_close("losses[0]", losses[0], 5.0,
                     hint="the first entry is the loss at w0 = (0, 0), i.e. before any update.")
grading.expect_close("losses", losses, np.array([5.0, 3.2000000000000006, 2.047999999999999]),
                     hint="each step must lower the loss of this bowl by the factor (1 - 2 * lr)**2.")
grading.expect_close("w after 3 steps", w_end, np.array([0.488, -0.976]), hint="the update is w - lr * dw.")
grading.expect_close("w0 after the call", w_start, np.zeros(2),
                     hint="w0 was changed in place: start from a copy, w = w0.copy().")

# %% nbgrader={"grade": true, "grade_id": "gradient_descent_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.gradient_descent", gradient_descent)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. L2 regularisation (ridge) and the closed-form minimum
#
# Large weights let a model bend to fit the noise. The **L2 penalty** adds $\lambda \lVert w' \rVert^2$
# to the loss, where $w' = (w_1, \dots, w_{D-1})$ leaves out the bias $w_0$: shrinking the bias would pull
# every prediction towards 0 instead of towards the mean of the data.
#
# $$L_\lambda(w) = \frac{1}{N}\lVert X w - y \rVert^2 + \lambda \sum_{d \ge 1} w_d^2, \qquad
#   \nabla_w L_\lambda = \frac{2}{N} X^\top (X w - y) + 2 \lambda\, [0, w_1, \dots, w_{D-1}].$$
#
# **Exercise 5a.** `ridge_loss(X, w, y, lam)` returns `(loss, dw)`. Column 0 of `X` is the constant feature.

# %% nbgrader={"grade": false, "grade_id": "ridge_loss", "locked": false, "schema_version": 3, "solution": true}
def ridge_loss(X, w, y, lam):
    """L = (1/N)||X w - y||^2 + lam * ||w[1:]||^2 and its gradient. Returns (loss: float, dw: (D,))."""
    ### BEGIN SOLUTION a01.ridge_loss
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ridge_loss_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
X_check = np.array([[1.0, 0.5, -1.0], [1.0, -1.0, 2.0], [1.0, 2.0, 0.5], [1.0, 0.0, 1.5], [1.0, -0.5, -2.0]])
w_check = np.array([0.5, -1.0, 2.0])
y_check = np.array([1.0, 0.0, -2.0, 3.0, 0.5])
# Isolation case 1: lam = 0 leaves only the data term, the squared loss of exercise 3.
loss, dw = ridge_loss(X_check, w_check, y_check, 0.0)
grading.expect_close("ridge loss with lam = 0 (data term alone)", loss, 10.8,
                     hint="with lam = 0 the ridge loss is the squared loss (1/N) ||X w - y||^2.")
grading.expect_close("ridge dw with lam = 0 (data term alone)", dw, np.array([0.4, -0.9, 9.0]),
                     hint="with lam = 0 the gradient is (2/N) X^T (X w - y).")
# Isolation case 2: a perfect fit (y = X w) leaves only the penalty term.
loss, dw = ridge_loss(X_check, w_check, X_check @ w_check, 0.5)
grading.expect_close("ridge loss at a perfect fit (penalty term alone)", loss, 2.5,
                     hint="the penalty is lam * (w[1]**2 + ... + w[D-1]**2): no 1/N, and w[0] (the bias) "
                     "is left out.")
grading.expect_close("ridge dw[0] at a perfect fit", dw[0], 0.0, atol=1e-12,
                     hint="the bias w[0] is not penalised, so the penalty adds nothing to dw[0].")
grading.expect_close("ridge dw at a perfect fit (penalty term alone)", dw, np.array([0.0, -1.0, 2.0]),
                     hint="the penalty's gradient is 2 * lam * w, with its entry 0 set to zero.")
# Both terms together.
loss, dw = ridge_loss(X_check, w_check, y_check, 0.5)
grading.expect_close("ridge loss", loss, 13.3, hint="data term plus penalty term.")
grading.expect_close("ridge dw", dw, np.array([0.4, -1.9, 11.0]), hint="data gradient plus penalty gradient.")
grading.expect_close("w after ridge_loss", w_check, np.array([0.5, -1.0, 2.0]),
                     hint="ridge_loss changed w in place: zero the bias entry of a copy, not of w.")

# %% nbgrader={"grade": true, "grade_id": "ridge_loss_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.ridge_loss", ridge_loss)
### END HIDDEN TESTS

# %% [markdown]
# Because $L_\lambda$ is a quadratic in $w$, setting its gradient to zero gives the minimum directly. With
# $P = \mathrm{diag}(0, 1, \dots, 1)$ (no penalty on the bias), $\nabla_w L_\lambda = 0$ becomes the
# **normal equations**
#
# $$(X^\top X + N \lambda P)\, w = X^\top y .$$
#
# For $\lambda = 0$ this is ordinary least squares, and $X^\top X$ can be nearly singular. For the
# degree-9 fit through 10 points below, $X$ is square (10 x 10) and invertible, but its columns
# $1, x, \dots, x^9$ on $[0, 1]$ are almost parallel: $\mathrm{cond}(X) \approx 6 \cdot 10^{8}$ and, since
# forming
# $X^\top X$ squares it, $\mathrm{cond}(X^\top X) \approx 10^{17}$, beyond the $10^{16}$ that float64 can
# resolve. Solving the normal equations would then return digits of noise. `np.linalg.lstsq(X, y,
# rcond=None)` works on $X$ itself (through its SVD), so use it for $\lambda = 0$, and `np.linalg.solve`
# for $\lambda > 0$, where $N \lambda P$ makes the matrix well conditioned. Never invert a matrix explicitly.
#
# **Exercise 5b.** `ridge_closed_form(X, y, lam)` returns the minimiser $w$, shape `(D,)`.

# %% nbgrader={"grade": false, "grade_id": "ridge_closed_form", "locked": false, "schema_version": 3, "solution": true}
def ridge_closed_form(X, y, lam):
    """Solve (X^T X + N lam P) w = X^T y, P = diag(0, 1, ..., 1). X: (N, D), y: (N,). Returns w: (D,)."""
    ### BEGIN SOLUTION a01.ridge_closed_form
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ridge_closed_form_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x6 = np.array([-1.0, -0.6, -0.1, 0.3, 0.8, 1.0])
X_check = np.stack([np.ones(6), x6, x6**2], axis=1)  # the degree-2 design matrix of 6 points, (6, 3)
y_check = np.array([1.2, 0.4, -0.3, 0.1, 0.9, 1.5])
w_ls = ridge_closed_form(X_check, y_check, 0.0)
grading.expect_shape("ridge_closed_form(X, y, 0)", w_ls, (3,), hint="one weight per column of X.")
grading.expect_close("least-squares weights (lam = 0)", w_ls,
                     np.array([-0.1662291428, 0.1334608945, 1.530319516]),
                     hint="solve X^T X w = X^T y, e.g. with np.linalg.lstsq(X, y, rcond=None)[0].")
grading.expect_close("ridge weights (lam = 0.1)", ridge_closed_form(X_check, y_check, 0.1),
                     np.array([0.1407683242, 0.1303047015, 0.9365381207]),
                     hint="the matrix is X^T X + N * lam * P with N = 6 and P[0, 0] = 0 (bias not "
                     "penalised).")

# %% nbgrader={"grade": true, "grade_id": "ridge_closed_form_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.ridge_closed_form", ridge_closed_form)
### END HIDDEN TESTS

# %% [markdown]
# Gradient descent and the closed form minimise the same loss, so they must meet. The curve below is
# the gap between the ridge loss of a cubic fit during gradient descent and the loss at the closed-form
# minimum, on log-log axes. **What to see:** the gap falls fast at first, then slowly along the flattest
# direction of the bowl; it stays positive throughout, because no weights score below the minimum.

# %%
x_demo, t_demo = make_polynomial_regression(n=40, noise=0.2, rng=np.random.default_rng(0))
X_demo = polynomial_features(x_demo, 3)
w_gd, gd_losses = gradient_descent(lambda w: ridge_loss(X_demo, w, t_demo, 1e-3), np.zeros(4),
                                   lr=0.5, num_steps=2000)
best = ridge_loss(X_demo, ridge_closed_form(X_demo, t_demo, 1e-3), t_demo, 1e-3)[0]

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(np.arange(1, len(gd_losses) + 1), np.array(gd_losses) - best + 1e-12, label="gradient descent")
ax.set_xscale("log")
ax.set_xlabel("update t")
ax.set_ylabel("loss minus closed-form minimum")
ax.set_title("Gradient descent on the ridge loss of a cubic fit (lr = 0.5)")
ax.legend()
plt.show()
print(f"after {len(gd_losses)} steps: loss {gd_losses[-1]:.6f}, closed-form minimum {best:.6f}")


# %% [markdown]
# ## 6. The workflow: train, validation and test sets
#
# We fit on the **training** set, compare models (here: polynomial degrees) on the **validation** set, and
# look at the **test** set once, at the end, to report how the chosen model does on data it never
# influenced. The data: $t = f(x) + \varepsilon$ with the curve $f(x) = 4(x - \tfrac12)^2 + \tfrac x2 -
# \tfrac12$
# and noise $\varepsilon \sim \mathcal N(0, 0.15^2)$, 30 points split at random into three sets of 10.

# %%
def true_fn(x):
    return 4 * (x - 0.5) ** 2 + 0.5 * x - 0.5

x_all, t_all = make_polynomial_regression(n=30, true_fn=true_fn, noise=0.15, rng=np.random.default_rng(43))
(x_train, t_train), (x_val, t_val), (x_test, t_test) = train_val_test_split(
    x_all, t_all, fractions=(1 / 3, 1 / 3, 1 / 3), rng=np.random.default_rng(4)
)
print("train / val / test sizes:", len(x_train), len(x_val), len(x_test))

# %% [markdown]
# Below: least-squares fits of degree 1, 2 and 9 on the 10 training points (dots), drawn against the
# held-out validation points (crosses). **What to see:** degree 1 underfits (a line cannot follow the
# bend: both losses are high); degree 2 has the shape of the true curve and the lowest validation loss; degree
# 9 passes through every training point (training loss near 0) but
# swings wildly between them, so its validation loss is the worst of the three: it has fitted the noise.

# %%
grid = np.linspace(0, 1, 400)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
for ax, degree in zip(axes, [1, 2, 9]):
    w = ridge_closed_form(polynomial_features(x_train, degree), t_train, 0.0)
    train_loss = squared_loss(polynomial_features(x_train, degree), w, t_train)[0]
    val_loss = squared_loss(polynomial_features(x_val, degree), w, t_val)[0]
    ax.plot(grid, true_fn(grid), color="0.6", lw=1, label="true curve f(x)")
    fit = linear_predict(polynomial_features(grid, degree), w)
    ax.plot(grid, fit, color="C0", label=f"degree {degree} fit")
    ax.scatter(x_train, t_train, color="C0", zorder=3, label="training points")
    ax.scatter(x_val, t_val, color="C3", marker="x", zorder=3, label="validation points")
    ax.set_ylim(-2, 2)
    ax.set_xlabel("x")
    ax.set_title(f"degree {degree}\ntrain loss {train_loss:.3g}, val loss {val_loss:.3g}", fontsize=10)
axes[0].set_ylabel("t")
axes[0].legend(loc="lower left", fontsize=8)
fig.suptitle("Polynomial fits of degree 1, 2 and 9 against held-out data", y=1.04)
plt.show()


# %% [markdown]
# **Exercise 6.** `select_degree(x_train, y_train, x_val, y_val, degrees, lam=0.0)` fits, for every
# degree $p$ in `degrees`, the weights `ridge_closed_form(polynomial_features(x_train, p), y_train, lam)`,
# records the squared loss of those weights on the training set and on the validation set, and returns
# `(best_degree, train_losses, val_losses)`: the degree with the smallest **validation** loss (the first
# one on ties) and the two lists in the order of `degrees`. Use your functions from above.

# %% nbgrader={"grade": false, "grade_id": "select_degree", "locked": false, "schema_version": 3, "solution": true}
def select_degree(x_train, y_train, x_val, y_val, degrees, lam=0.0):
    """Fit each degree on train, score it on val. Returns (best degree, train losses, val losses)."""
    ### BEGIN SOLUTION a01.select_degree
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "select_degree_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_tr = np.array([-0.9, -0.7, -0.4, -0.2, 0.1, 0.3, 0.6, 0.9])
y_tr = np.array([0.8, 0.1, -0.5, -0.4, 0.2, 0.5, 1.1, 0.6])
x_va, y_va = np.array([-0.8, -0.5, 0.0, 0.4, 0.7, 1.0]), np.array([0.5, -0.3, -0.1, 0.7, 1.0, 0.4])
best, train_losses, val_losses = select_degree(x_tr, y_tr, x_va, y_va, [0, 1, 2, 3])
grading.expect_close("training losses for degrees 0..3", train_losses,
                     np.array([0.275, 0.2341073856, 0.1479519298, 0.007441931675]),
                     hint="fit on the training set and score the same weights on the training set.")
grading.expect_close("validation losses for degrees 0..3", val_losses,
                     np.array([0.2033333333, 0.1510044785, 0.2066401853, 0.01005822721]),
                     hint="score the weights fitted on the training set on the validation set (do not "
                     "refit).")
grading.expect_equal("best degree", best, 3,
                     hint="pick the degree with the smallest validation loss, not training loss.")

# %% nbgrader={"grade": true, "grade_id": "select_degree_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.select_degree", select_degree)
### END HIDDEN TESTS

# %% [markdown]
# Training and validation loss over the degree. **What to see:** the training loss only goes down as the
# degree grows (each model contains the previous one), while the validation loss falls, bottoms out at a
# moderate degree and rises again once the model starts fitting noise. The chosen degree is at the
# bottom of the validation curve; its test loss is reported once, below the plot.

# %%
degrees = list(range(10))
best_degree, train_curve, val_curve = select_degree(x_train, t_train, x_val, t_val, degrees)

fig, ax = plt.subplots(figsize=(6, 3.8))
ax.semilogy(degrees, train_curve, "o-", label="training loss")
ax.semilogy(degrees, val_curve, "s-", label="validation loss")
ax.axvline(best_degree, color="0.5", ls="--", label=f"chosen degree {best_degree}")
ax.set_xlabel("polynomial degree p")
ax.set_ylabel("mean squared error (log scale)")
ax.set_title("Model selection: training vs validation loss over the degree")
ax.legend()
plt.show()

w_best = ridge_closed_form(polynomial_features(x_train, best_degree), t_train, 0.0)
test_loss = squared_loss(polynomial_features(x_test, best_degree), w_best, t_test)[0]
print(f"chosen degree {best_degree}: validation loss {val_curve[best_degree]:.4f}, test loss {test_loss:.4f}")

# %% [markdown]
# ## 7. The effect of the L2 weight
#
# Instead of lowering the degree we can keep degree 9 and penalise large weights. Left: training and
# validation loss of degree-9 ridge fits over $\lambda$. Right: three of those fits. **What to see:** with
# $\lambda \to 0$ we are back to the wild interpolating fit (low training, high validation loss); a
# moderate $\lambda$ smooths the curve and gives the lowest validation loss; a very large $\lambda$ flattens
# the curve towards the mean and both losses rise (underfitting again).

# %%
lams = np.logspace(-8, 1, 28)
X9_train, X9_val = polynomial_features(x_train, 9), polynomial_features(x_val, 9)
ridge_train, ridge_val = [], []
for lam in lams:
    w = ridge_closed_form(X9_train, t_train, lam)
    ridge_train.append(squared_loss(X9_train, w, t_train)[0])
    ridge_val.append(squared_loss(X9_val, w, t_val)[0])
best_lam = lams[int(np.argmin(ridge_val))]

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
ax1.loglog(lams, ridge_train, "o-", ms=3, label="training loss")
ax1.loglog(lams, ridge_val, "s-", ms=3, label="validation loss")
ax1.axvline(best_lam, color="0.5", ls="--", label=f"best lam = {best_lam:.1e}")
ax1.set_xlabel("L2 weight lam (log scale)")
ax1.set_ylabel("mean squared error (log scale)")
ax1.set_title("Degree 9: loss over the L2 weight")
ax1.legend(fontsize=8)
ax2.plot(grid, true_fn(grid), color="0.6", lw=1, label="true curve f(x)")
for lam in [1e-8, best_lam, 1.0]:
    w = ridge_closed_form(X9_train, t_train, lam)
    ax2.plot(grid, linear_predict(polynomial_features(grid, 9), w), label=f"lam = {lam:.1e}")
ax2.scatter(x_train, t_train, color="k", zorder=3, s=15, label="training points")
ax2.set_ylim(-2, 2)
ax2.set_xlabel("x")
ax2.set_ylabel("t")
ax2.set_title("Degree-9 fits for three L2 weights")
ax2.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Summary
#
# A linear model is a feature map followed by a weighted sum. Its squared loss is a quadratic bowl, which
# gradient descent walks down and the normal equations solve outright. Capacity (the degree, or the size
# of the weights) trades training fit for generalisation; the validation set chooses the trade-off and the
# test set reports the result once. Assignment 02 replaces the fixed feature map by learned ones: layers.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a01_linear_models.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a01_linear_models.ipynb")
