"""The vanilla recurrent net and backpropagation through time (lectures 001, 002 and 003).

One step is next_h = tanh(x Wx + prev_h Wh + b). Unrolled over T steps the same weights are used T times,
so their gradients are the *sum* of the per-step gradients (lecture 003, "BPTT derivation"), and the
gradient reaching h_t is the upstream gradient on h_t plus what flows back from step t + 1.

The backward pass reads the forward output: tanh' = 1 - next_h^2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array
from course.training.init import orthogonal


def rnn_step_forward(x: Any, prev_h: Any, Wx: Any, Wh: Any, b: Any) -> tuple[Any, tuple]:
    """One vanilla RNN step, next_h = tanh(x Wx + prev_h Wh + b).

    Inputs:
    - x: (N, D) inputs at this step.
    - prev_h: (N, H) hidden state of the previous step.
    - Wx: (D, H) input-to-hidden weights.
    - Wh: (H, H) hidden-to-hidden weights.
    - b: (H,) biases.

    Returns:
    - next_h: (N, H).
    - cache: (x, prev_h, Wx, Wh, next_h).
    """
    dims: dict[str, int] = {}
    check_array("rnn_step_forward", "x", x, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("rnn_step_forward", "prev_h", prev_h, ("N", "H"), dims=dims, dtype_kind="f")
    check_array("rnn_step_forward", "Wx", Wx, ("D", "H"), dims=dims, dtype_kind="f")
    check_array("rnn_step_forward", "Wh", Wh, ("H", "H"), dims=dims, dtype_kind="f")
    check_array("rnn_step_forward", "b", b, ("H",), dims=dims, dtype_kind="f")
    # BEGIN GRADED a06.rnn_step_forward
    xp = get_array_module(x, prev_h, Wx, Wh, b)
    next_h = xp.tanh(x @ Wx + prev_h @ Wh + b)  # (N, H)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache
    # END GRADED


def rnn_step_backward(dnext_h: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any]:
    """Backward pass of one RNN step.

    With a = x Wx + prev_h Wh + b and da = dnext_h * (1 - next_h^2):
    dx = da Wx^T, dprev_h = da Wh^T, dWx = x^T da, dWh = prev_h^T da, db = sum_n da.

    Inputs:
    - dnext_h: (N, H) gradient of the loss with respect to next_h.
    - cache: from ``rnn_step_forward``.

    Returns:
    - dx: (N, D); dprev_h: (N, H); dWx: (D, H); dWh: (H, H); db: (H,).
    """
    check_array("rnn_step_backward", "dnext_h", dnext_h, tuple(cache[-1].shape), dtype_kind="f")
    # BEGIN GRADED a06.rnn_step_backward
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h * next_h)  # (N, H): tanh' written with the output
    dx = da @ Wx.T  # (N, D)
    dprev_h = da @ Wh.T  # (N, H)
    dWx = x.T @ da  # (D, H)
    dWh = prev_h.T @ da  # (H, H)
    db = da.sum(axis=0)  # (H,)
    return dx, dprev_h, dWx, dWh, db
    # END GRADED


def rnn_forward(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> tuple[Any, list]:
    """A vanilla RNN over a whole sequence: h_t = tanh(x_t Wx + h_{t-1} Wh + b) for t = 1..T.

    Inputs:
    - x: (N, T, D) input sequence.
    - h0: (N, H) initial hidden state.
    - Wx: (D, H); Wh: (H, H); b: (H,).

    Returns:
    - h: (N, T, H) hidden states of every step (h[:, -1] is the final state, to carry into the next
      chunk in truncated BPTT).
    - cache: the list of the T step caches.
    """
    dims: dict[str, int] = {}
    check_array("rnn_forward", "x", x, ("N", "T", "D"), dims=dims, dtype_kind="f")
    check_array("rnn_forward", "h0", h0, ("N", "H"), dims=dims, dtype_kind="f")
    check_array("rnn_forward", "Wx", Wx, ("D", "H"), dims=dims, dtype_kind="f")
    check_array("rnn_forward", "Wh", Wh, ("H", "H"), dims=dims, dtype_kind="f")
    check_array("rnn_forward", "b", b, ("H",), dims=dims, dtype_kind="f")
    # BEGIN GRADED a06.rnn_forward
    xp = get_array_module(x, h0, Wx, Wh, b)
    N, T, _ = x.shape
    h = xp.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx, Wh, b))  # (N, T, H)
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache
    # END GRADED


def rnn_backward(dh: Any, cache: list) -> tuple[Any, Any, Any, Any, Any]:
    """Backpropagation through time for ``rnn_forward``.

    Walks t = T..1. The gradient on h_t is dh[:, t] (the loss reads every step) *plus* dprev_h coming back
    from step t + 1; the weights are shared by every step, so their gradients accumulate.

    Inputs:
    - dh: (N, T, H) upstream gradient on every hidden state.
    - cache: from ``rnn_forward``.

    Returns:
    - dx: (N, T, D); dh0: (N, H); dWx: (D, H); dWh: (H, H); db: (H,).
    """
    check_array("rnn_backward", "dh", dh, ndim=3, dtype_kind="f")
    N, H = cache[0][1].shape  # h0
    check_array("rnn_backward", "dh", dh, (N, len(cache), H))
    # BEGIN GRADED a06.rnn_backward
    xp = get_array_module(dh)
    x0, _, Wx, Wh, _ = cache[0]  # every step's cache holds the same weights
    N, T, H = dh.shape
    dx = xp.empty((N, T, x0.shape[1]), dtype=dh.dtype)  # (N, T, D)
    dWx, dWh, db = xp.zeros_like(Wx), xp.zeros_like(Wh), xp.zeros(H, dtype=Wx.dtype)
    dprev_h = xp.zeros((N, H), dtype=dh.dtype)  # gradient reaching h_t from step t + 1
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db
    # END GRADED


def rnn_init(
    D: int, H: int, rng: np.random.Generator, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial (Wx, Wh, b): Wx ~ N(0, 1/D), Wh orthogonal (lecture 004: orthogonal weights keep the norm
    of h through many steps, neither exploding nor vanishing at the start), b = 0.

    Returns Wx (D, H), Wh (H, H), b (H,).
    """
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    Wh = orthogonal((H, H), rng, np.float64)
    return Wx.astype(dtype), Wh.astype(dtype), np.zeros(H, dtype=dtype)


class RNN(Module):
    """A vanilla RNN layer over (N, T, D) sequences, returning every hidden state (N, T, H).

    ``forward(x, h0=None)`` starts from h0 (zeros by default); after it, ``final_state`` is h_T, which a
    truncated-BPTT loop passes as the next chunk's h0. ``backward(dh)`` returns dx and leaves the
    gradient of h0 in ``dh0``.
    """

    def __init__(
        self, D: int, H: int, *, rng: np.random.Generator | int | None = None, dtype: Any = np.float32
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(0 if rng is None else rng)
        Wx, Wh, b = rnn_init(D, H, rng, dtype)
        self.add_param("Wx", Wx)
        self.add_param("Wh", Wh)
        self.add_param("b", b)
        self.final_state: Any = None
        self.dh0: Any = None

    def forward(self, x: Any, h0: Any = None) -> Any:
        xp = get_array_module(x)
        if h0 is None:
            h0 = xp.zeros((x.shape[0], self.params["Wh"].shape[0]), dtype=x.dtype)
        h, self.cache = rnn_forward(x, h0, self.params["Wx"], self.params["Wh"], self.params["b"])
        self.final_state = h[:, -1, :].copy()
        return h

    def backward(self, dout: Any) -> Any:
        dx, self.dh0, dWx, dWh, db = rnn_backward(dout, self.cache)
        self.accumulate("Wx", dWx)
        self.accumulate("Wh", dWh)
        self.accumulate("b", db)
        return dx
