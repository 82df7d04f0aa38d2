"""Vanishing and exploding gradients through time (lectures 001, 003 and 004).

Three experiments, each returning arrays for a plot:

1. ``forward_backward_prop(w, T)``: the scalar recurrence h_t = tanh(w h_{t-1}), h_0 = 0.5 (lecture 003).
   The state stays bounded for every w, but the gradient dh_T/dh_0 = prod_t w (1 - h_t^2) is a product
   of T factors, so it goes to zero (|factor| < 1) or blows up (|factor| > 1) geometrically in T.
2. ``sigmoid_recurrence_loss(w, b)``: h_t = w sigmoid(h_{t-1}) + b, h_0 = 0.5, loss (h_50 - 0.7)^2
   (lecture 004, after Pascanu et al. 2013) over a (w, b) grid. For w above about 4.3 the map has two
   attractors; where h_0 = 0.5 lies on the boundary between their basins (b = 0.5 - w sigmoid(0.5)),
   an arbitrarily small change of b decides which one h_50 reaches. The loss jumps there (a wall) and
   the gradient grows without bound next to it: one step from such a point is what gradient clipping
   guards against.
3. ``gradient_norms_through_time``: ||dL/dh_t|| for t = T..1 when only the last step carries a loss,
   for a vanilla RNN and an LSTM of the same size: the RNN's norm decays geometrically going back in
   time; the LSTM's cell path (f near 1 with the forget bias) keeps it much larger.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.validation import check_choice, check_positive
from course.layers.activations import sigmoid_backward, sigmoid_forward
from course.layers.lstm import lstm_init, lstm_step_backward, lstm_step_forward
from course.layers.rnn import rnn_init, rnn_step_backward, rnn_step_forward


def forward_backward_prop(w: float, T: int, h0: float = 0.5) -> tuple[float, float]:
    """Run h_t = tanh(w h_{t-1}) for T steps from h0; return (h_T, dh_T / dh_0).

    The backward pass multiplies the local derivatives dh_t / dh_{t-1} = w (1 - h_t^2), t = T..1.
    """
    check_positive("forward_backward_prop", "T", T, allow_zero=True)
    hs = [float(h0)]
    for _ in range(T):
        hs.append(float(np.tanh(w * hs[-1])))
    dh = 1.0
    for t in range(T, 0, -1):
        dh *= w * (1 - hs[t] * hs[t])
    return hs[-1], dh


def forward_backward_sweep(ws: Any, T: int, h0: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """``forward_backward_prop`` for every w in ``ws``: returns (h_T, dh_T / dh_0), each shaped like ws."""
    ws = np.asarray(ws, dtype=np.float64)
    res = np.array([forward_backward_prop(float(w), T, h0) for w in ws.reshape(-1)]).reshape(*ws.shape, 2)
    return res[..., 0], res[..., 1]


def sigmoid_recurrence_loss(
    w: Any, b: Any, T: int = 50, h0: float = 0.5, target: float = 0.7
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss (h_T - target)^2 of h_t = w sigmoid(h_{t-1}) + b, and its gradient, by BPTT.

    ``w`` and ``b`` broadcast against each other (pass a meshgrid to get a whole surface at once).
    Backward: delta_T = 2 (h_T - target); for t = T..1, dw += delta_t sigmoid(h_{t-1}), db += delta_t,
    delta_{t-1} = delta_t w sigmoid'(h_{t-1}).

    Returns (loss, dloss/dw, dloss/db), each of the broadcast shape.
    """
    check_positive("sigmoid_recurrence_loss", "T", T)
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    shape = w.shape
    w, b = w.reshape(-1), b.reshape(-1)  # 1-D inside: the sigmoid pair takes arrays, not scalars
    h = np.full(w.shape, float(h0))
    sigmoids = []  # s_t = sigmoid(h_{t-1}), also the cache of sigmoid_backward
    for _ in range(T):
        s, _ = sigmoid_forward(h)
        sigmoids.append(s)
        h = w * s + b
    loss = (h - target) ** 2
    delta = 2 * (h - target)
    dw, db = np.zeros(w.shape), np.zeros(w.shape)
    for s in reversed(sigmoids):
        dw += delta * s
        db += delta
        delta = sigmoid_backward(delta * w, s)  # delta_t w sigmoid'(h_{t-1})
    return loss.reshape(shape), dw.reshape(shape), db.reshape(shape)


def loss_surface(
    ws: Any, bs: Any, T: int = 50, h0: float = 0.5, target: float = 0.7
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sigmoid_recurrence_loss`` on the grid ws x bs: arrays (len(bs), len(ws)) (rows b, columns w,
    ready for ``plt.contourf(ws, bs, loss)``)."""
    W, B = np.meshgrid(np.asarray(ws, dtype=np.float64), np.asarray(bs, dtype=np.float64))
    return sigmoid_recurrence_loss(W, B, T, h0, target)


def gradient_norms_through_time(
    cell: str,
    T: int = 50,
    *,
    N: int = 8,
    D: int = 16,
    H: int = 32,
    rng: np.random.Generator | None = None,
    recurrent_scale: float = 1.0,
    forget_bias: float = 1.0,
) -> np.ndarray:
    """||dL/dh_t|| (Frobenius norm over the batch) for t = 1..T, with the loss on the last step only.

    A random input sequence is run through a freshly initialised 'rnn' or 'lstm' (``rnn_init`` /
    ``lstm_init``, recurrent weights orthogonal times ``recurrent_scale``); the loss is
    L = sum(h_T * g) for a random g, so dL/dh_T = g and every earlier dL/dh_t is what BPTT carries back.

    Returns norms of shape (T,): norms[t - 1] = ||dL/dh_t||; plot it against t (or T - t, the distance
    the gradient has travelled).
    """
    check_choice("gradient_norms_through_time", "cell", cell, ("rnn", "lstm"))
    rng = np.random.default_rng(0) if rng is None else rng
    x = rng.standard_normal((T, N, D))
    h = np.zeros((N, H))
    caches = []
    if cell == "rnn":
        Wx, Wh, b = (a.astype(np.float64) for a in rnn_init(D, H, rng))
        Wh *= recurrent_scale
        for t in range(T):
            h, cache = rnn_step_forward(x[t], h, Wx, Wh, b)
            caches.append(cache)
    else:
        Wx, Wh, b = (a.astype(np.float64) for a in lstm_init(D, H, rng, forget_bias=forget_bias))
        Wh *= recurrent_scale
        c = np.zeros((N, H))
        for t in range(T):
            h, c, cache = lstm_step_forward(x[t], h, c, Wx, Wh, b)
            caches.append(cache)
    dh = rng.standard_normal((N, H))  # dL/dh_T = g
    dc = np.zeros((N, H))
    norms = np.empty(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(dh)
        if cell == "rnn":
            _, dh, _, _, _ = rnn_step_backward(dh, caches[t])
        else:
            _, dh, dc, _, _, _ = lstm_step_backward(dh, dc, caches[t])
    return norms
