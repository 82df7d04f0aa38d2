"""Linear models and the ML workflow: feature maps, squared loss, gradient descent, ridge (lectures 002, 004).

A linear model predicts y_hat = phi(x)^T w. All the non-linearity lives in the feature map phi; the
model stays linear in its weights w, which is why the squared loss has a closed-form minimiser.
The bias is not a separate parameter: it is the weight of the constant feature phi_0(x) = 1.

Shapes: x (N,) scalar inputs, X = phi(x) (N, D) the design matrix, w (D,), y (N,).

Losses here are means over the N examples (so a learning rate does not depend on N):
- squared loss  L(w) = (1/N) ||X w - y||^2,             grad = (2/N) X^T (X w - y)
- ridge loss    L(w) = (1/N) ||X w - y||^2 + lam ||w'||^2, w' = w without the bias weight w_0, because
  shrinking the bias would pull every prediction towards 0 instead of towards the data's mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.validation import check_array


def linear_features(x: Any) -> Any:
    """phi(x) = [1, x]: the straight line.

    Inputs: x (N,) float. Returns X (N, 2) with X[:, 0] = 1 (bias) and X[:, 1] = x.
    """
    check_array("linear_features", "x", x, ("N",), dtype_kind="f")
    # BEGIN GRADED a01.linear_features
    xp = get_array_module(x)
    return xp.stack([xp.ones_like(x), x], axis=1)  # (N, 2)
    # END GRADED


def polynomial_features(x: Any, degree: int) -> Any:
    """phi(x) = [1, x, x^2, ..., x^p] for p = degree >= 0.

    Inputs: x (N,) float; degree p. Returns X (N, p + 1) with X[:, k] = x**k.
    """
    check_array("polynomial_features", "x", x, ("N",), dtype_kind="f")
    if int(degree) != degree or degree < 0:
        raise ValueError(f"polynomial_features: degree must be an integer >= 0, got {degree!r}")
    # BEGIN GRADED a01.polynomial_features
    xp = get_array_module(x)
    powers = xp.arange(int(degree) + 1, dtype=x.dtype)  # float powers keep x's dtype (int ones upcast)
    return x[:, None] ** powers[None, :]  # (N, p + 1)
    # END GRADED


def sin_features(x: Any) -> Any:
    """phi(x) = [1, x, sin(3x)]: a hand-made feature for data with a periodic part.

    Inputs: x (N,) float. Returns X (N, 3).
    """
    check_array("sin_features", "x", x, ("N",), dtype_kind="f")
    # BEGIN GRADED a01.sin_features
    xp = get_array_module(x)
    return xp.stack([xp.ones_like(x), x, xp.sin(3 * x)], axis=1)  # (N, 3)
    # END GRADED


def linear_predict(X: Any, w: Any) -> Any:
    """y_hat = X w, one prediction per row of the design matrix.

    Inputs: X (N, D), w (D,). Returns y_hat (N,).
    """
    dims: dict[str, int] = {}
    check_array("linear_predict", "X", X, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("linear_predict", "w", w, ("D",), dims=dims, dtype_kind="f")
    # BEGIN GRADED a01.linear_predict
    return X @ w  # (N,)
    # END GRADED


def squared_loss(X: Any, w: Any, y: Any) -> tuple[float, Any]:
    """Mean squared error and its gradient: L = (1/N) ||X w - y||^2, dL/dw = (2/N) X^T (X w - y).

    Inputs: X (N, D), w (D,), y (N,). Returns (loss: float, dw (D,)).
    """
    dims: dict[str, int] = {}
    check_array("squared_loss", "X", X, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("squared_loss", "w", w, ("D",), dims=dims, dtype_kind="f")
    check_array("squared_loss", "y", y, ("N",), dims=dims, dtype_kind="f")
    # BEGIN GRADED a01.squared_loss
    n = X.shape[0]
    residual = X @ w - y  # (N,)
    loss = float((residual @ residual) / n)
    dw = (2.0 / n) * (X.T @ residual)  # (D,)
    return loss, dw
    # END GRADED


def ridge_loss(X: Any, w: Any, y: Any, lam: float) -> tuple[float, Any]:
    """Squared loss plus an L2 penalty on every weight but the bias: L = (1/N)||Xw - y||^2 + lam ||w[1:]||^2.

    dL/dw = (2/N) X^T (X w - y) + 2 lam [0, w_1, ..., w_{D-1}]. Column 0 of X must be the constant feature.
    Inputs: X (N, D), w (D,), y (N,), lam >= 0. Returns (loss: float, dw (D,)).
    """
    dims: dict[str, int] = {}
    check_array("ridge_loss", "X", X, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("ridge_loss", "w", w, ("D",), dims=dims, dtype_kind="f")
    check_array("ridge_loss", "y", y, ("N",), dims=dims, dtype_kind="f")
    if lam < 0:
        raise ValueError(f"ridge_loss: lam must be >= 0, got {lam}")
    # BEGIN GRADED a01.ridge_loss
    n = X.shape[0]
    residual = X @ w - y  # (N,)
    penalised = w.copy()
    penalised[0] = 0.0  # the bias is not shrunk
    loss = float((residual @ residual) / n + lam * (penalised @ penalised))
    dw = (2.0 / n) * (X.T @ residual) + 2.0 * lam * penalised  # (D,)
    return loss, dw
    # END GRADED


def ridge_closed_form(X: Any, y: Any, lam: float) -> Any:
    """The minimiser of ``ridge_loss``: solve (X^T X + N lam P) w = X^T y, P = diag(0, 1, ..., 1).

    Setting the gradient to zero gives these normal equations. lam = 0 is ordinary least squares; then
    the system can be singular (more features than points), so it is solved by least squares, which
    returns the minimum-norm minimiser.
    Inputs: X (N, D), y (N,), lam >= 0. Returns w (D,).
    """
    dims: dict[str, int] = {}
    check_array("ridge_closed_form", "X", X, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("ridge_closed_form", "y", y, ("N",), dims=dims, dtype_kind="f")
    if lam < 0:
        raise ValueError(f"ridge_closed_form: lam must be >= 0, got {lam}")
    # BEGIN GRADED a01.ridge_closed_form
    xp = get_array_module(X, y)
    n, d = X.shape
    if lam == 0:
        return xp.linalg.lstsq(X, y, rcond=None)[0]  # (D,)
    penalty = xp.eye(d, dtype=X.dtype)
    penalty[0, 0] = 0.0
    return xp.linalg.solve(X.T @ X + n * lam * penalty, X.T @ y)  # (D,)
    # END GRADED


def gradient_descent(
    loss_fn: Callable[[Any], tuple[float, Any]], w0: Any, lr: float, num_steps: int
) -> tuple[Any, list[float]]:
    """Full-batch gradient descent: w <- w - lr * dL/dw, ``num_steps`` times, from w0.

    Inputs:
    - loss_fn: w -> (loss, dw), for example ``lambda w: ridge_loss(X, w, y, lam)``.
    - w0: (D,) the starting point; it is not modified.
    - lr: the step size; num_steps: how many updates.
    Returns (w (D,), losses) where losses[t] is the loss *before* update t, so len(losses) == num_steps.
    """
    check_array("gradient_descent", "w0", w0, ("D",), dtype_kind="f")
    # BEGIN GRADED a01.gradient_descent
    w = w0.copy()
    losses = []
    for _ in range(int(num_steps)):
        loss, dw = loss_fn(w)
        losses.append(float(loss))
        w = w - lr * dw
    return w, losses
    # END GRADED


def select_degree(
    x_train: Any, y_train: Any, x_val: Any, y_val: Any, degrees: Sequence[int], lam: float = 0.0
) -> tuple[int, list[float], list[float]]:
    """Model selection: fit a polynomial of every degree on the training set, keep the best on validation.

    For each p in ``degrees``: w = ridge_closed_form(polynomial_features(x_train, p), y_train, lam), then
    the squared loss of w on the training and on the validation set. The chosen degree minimises the
    validation loss (the first one on ties). The test set is never looked at here.
    Inputs: x_train, y_train (N,); x_val, y_val (M,). Returns (best degree, train losses, val losses),
    the lists in the order of ``degrees``.
    """
    dims: dict[str, int] = {}
    check_array("select_degree", "x_train", x_train, ("N",), dims=dims, dtype_kind="f")
    check_array("select_degree", "y_train", y_train, ("N",), dims=dims, dtype_kind="f")
    check_array("select_degree", "x_val", x_val, ("M",), dims=dims, dtype_kind="f")
    check_array("select_degree", "y_val", y_val, ("M",), dims=dims, dtype_kind="f")
    if len(degrees) == 0:
        raise ValueError("select_degree: degrees must not be empty")
    # BEGIN GRADED a01.select_degree
    train_losses, val_losses = [], []
    for p in degrees:
        w = ridge_closed_form(polynomial_features(x_train, p), y_train, lam)
        train_losses.append(squared_loss(polynomial_features(x_train, p), w, y_train)[0])
        val_losses.append(squared_loss(polynomial_features(x_val, p), w, y_val)[0])
    best = int(degrees[int(np.argmin(val_losses))])
    return best, train_losses, val_losses
    # END GRADED
