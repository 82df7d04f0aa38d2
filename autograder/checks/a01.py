"""Checks of assignment 01, linear models: every task against ``course.models.linear`` on random inputs."""

from __future__ import annotations

import numpy as np

from autograder.checks.core import function_spec


def _x(n: int, low: float = -3.0, high: float = 3.0):
    return lambda rng: {"x": rng.uniform(low, high, n)}


def _polynomial(rng):
    return {"x": rng.uniform(-2, 2, 6), "degree": int(rng.integers(0, 7))}


def _predict(rng):
    d = int(rng.integers(1, 6))
    return {"X": rng.standard_normal((9, d)), "w": rng.standard_normal(d)}


def _loss(rng):
    n, d = int(rng.integers(3, 12)), int(rng.integers(1, 5))
    return {"X": rng.standard_normal((n, d)), "w": rng.standard_normal(d), "y": rng.standard_normal(n)}


def _descent(rng):
    d = int(rng.integers(1, 5))
    A = rng.standard_normal((d + 2, d))
    b = rng.standard_normal(d + 2)

    def loss_fn(w):  # a least-squares bowl with its own curvature
        r = A @ w - b
        return float(r @ r), 2 * A.T @ r

    return {
        "loss_fn": loss_fn,
        "w0": rng.standard_normal(d),
        "lr": 0.05,
        "num_steps": int(rng.integers(1, 30)),
    }


def _ridge_loss(rng):
    return {**_loss(rng), "lam": float(rng.uniform(0, 2))}


def _closed_form(rng):
    n, d = int(rng.integers(8, 20)), int(rng.integers(1, 5))
    X = np.concatenate([np.ones((n, 1)), rng.standard_normal((n, d - 1))], axis=1)
    return {"X": X, "y": rng.standard_normal(n), "lam": float(rng.choice([0.0, 0.01, 0.7]))}


def _select(rng):
    x = rng.uniform(-1, 1, 40)
    y = np.polynomial.polynomial.polyval(x, rng.standard_normal(4)) + 0.3 * rng.standard_normal(40)
    return {
        "x_train": x[:25],
        "y_train": y[:25],
        "x_val": x[25:],
        "y_val": y[25:],
        "degrees": [0, 1, 2, 3, 4, 5],
        "lam": float(rng.choice([0.0, 0.01])),
    }


SPECS = [
    function_spec("linear_features", "models.linear.linear_features", _x(7)),
    function_spec("polynomial_features", "models.linear.polynomial_features", _polynomial),
    function_spec("sin_features", "models.linear.sin_features", _x(8)),
    function_spec("linear_predict", "models.linear.linear_predict", _predict),
    function_spec("squared_loss", "models.linear.squared_loss", _loss, outputs=("loss", "dw")),
    function_spec("gradient_descent", "models.linear.gradient_descent", _descent, outputs=("w", "losses")),
    function_spec("ridge_loss", "models.linear.ridge_loss", _ridge_loss, outputs=("loss", "dw")),
    function_spec("ridge_closed_form", "models.linear.ridge_closed_form", _closed_form, trials=4),
    function_spec(
        "select_degree",
        "models.linear.select_degree",
        _select,
        outputs=("best_degree", "train_losses", "val_losses"),
    ),
]
