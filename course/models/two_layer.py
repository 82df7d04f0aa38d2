"""A two-layer classifier built from the assignment-02 pairs, and its training by mini-batch SGD.

affine (W1, b1) -> ReLU -> affine (W2, b2) -> softmax cross-entropy (lecture 000, "modularity": the
backward pass visits the same modules in reverse order). The parameters live in a dict
``{"w1": (D, H), "b1": (H,), "w2": (H, C), "b2": (C,)}``; the gradients come back in a dict of the same
keys and shapes. ``course.layers.affine.Linear`` and ``course.core.module.Sequential`` build the same
network from modules (assignments 03 and 04).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.validation import check_array, check_positive
from course.layers.activations import relu_backward, relu_forward
from course.layers.affine import affine_backward, affine_forward
from course.layers.losses import softmax_cross_entropy


def two_layer_loss(params: dict[str, Any], X: Any, y: Any) -> tuple[float, dict[str, Any]]:
    """Loss and gradients of affine - relu - affine - softmax cross-entropy on one batch.

    Inputs:
    - params: {"w1": (D, H), "b1": (H,), "w2": (H, C), "b2": (C,)}.
    - X: (N, D) inputs.
    - y: (N,) integer class ids in [0, C).

    Returns:
    - loss: float, the mean cross-entropy over the batch.
    - grads: {"w1", "b1", "w2", "b2"}, each shaped like its parameter.
    """
    check_array("two_layer_loss", "X", X, ndim=2, dtype_kind="f")
    # BEGIN GRADED a02.two_layer_loss
    h, cache1 = affine_forward(X, params["w1"], params["b1"])  # (N, H)
    a, cache2 = relu_forward(h)
    scores, cache3 = affine_forward(a, params["w2"], params["b2"])  # (N, C)
    loss, dscores = softmax_cross_entropy(scores, y)
    da, dw2, db2 = affine_backward(dscores, cache3)
    dh = relu_backward(da, cache2)
    _, dw1, db1 = affine_backward(dh, cache1)  # dx is not needed: X is data
    return float(loss), {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}
    # END GRADED


def train_two_layer(
    X: Any, y: Any, hidden_dim: int, lr: float, epochs: int, batch_size: int, seed: int
) -> tuple[dict[str, Any], list[float]]:
    """Mini-batch SGD on ``two_layer_loss`` from a He initialisation.

    W1 ~ N(0, 2 / D) of shape (D, hidden_dim), W2 ~ N(0, 2 / hidden_dim) of shape (hidden_dim, C) with
    C = y.max() + 1, zero biases, all float64. Each epoch shuffles the N examples and visits them in
    consecutive batches of ``batch_size`` (the last may be smaller); every batch updates every parameter,
    p <- p - lr * dL/dp. One ``numpy.random.default_rng(seed)`` draws everything random.

    Inputs:
    - X: (N, D) float inputs; y: (N,) integer class ids.
    - hidden_dim: H; lr: the learning rate; epochs; batch_size; seed.

    Returns:
    - params: {"w1", "b1", "w2", "b2"}, the trained parameters.
    - losses: the batch loss of every update, in order (epochs * ceil(N / batch_size) values).
    """
    check_array("train_two_layer", "X", X, ndim=2, dtype_kind="f")
    check_array("train_two_layer", "y", y, (X.shape[0],), dtype_kind="i")
    for name, value in (("hidden_dim", hidden_dim), ("epochs", epochs), ("batch_size", batch_size)):
        check_positive("train_two_layer", name, value)
    check_positive("train_two_layer", "lr", lr, allow_zero=True)
    # BEGIN GRADED a02.train_two_layer
    rng = np.random.default_rng(seed)
    n, d = X.shape
    c = int(y.max()) + 1
    params = {
        "w1": rng.standard_normal((d, hidden_dim)) * np.sqrt(2.0 / d),  # He: variance 2 / fan_in
        "b1": np.zeros(hidden_dim),
        "w2": rng.standard_normal((hidden_dim, c)) * np.sqrt(2.0 / hidden_dim),
        "b2": np.zeros(c),
    }
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n)  # a fresh order every epoch
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            loss, grads = two_layer_loss(params, X[batch], y[batch])
            losses.append(loss)
            for key in params:
                params[key] -= lr * grads[key]
    return params, losses
    # END GRADED
