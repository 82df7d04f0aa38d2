"""The gated recurrent unit (Cho et al. 2014; lectures 002 and 003, "GRU, aka simplified LSTM").

One step, with the gates stacked in the order r, z, n along the 3H axis of Wx (D, 3H), Wh (H, 3H), b (3H,):
    r = sigmoid(x Wx_r + prev_h Wh_r + b_r)               reset gate
    z = sigmoid(x Wx_z + prev_h Wh_z + b_z)               update gate
    n = tanh(x Wx_n + (r * prev_h) Wh_n + b_n)            candidate state
    next_h = z * prev_h + (1 - z) * n

The reset gate multiplies prev_h *before* Wh_n, as in the lecture and the original paper. (torch.nn.GRU
applies it after: r * (prev_h Wh_n + b_hn); the two are different models, so the oracle test builds
this one from elementary torch operations.) Like the LSTM cell, the path next_h = z * prev_h + ... is
additive, so for z near 1 the state and its gradient pass through unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array
from course.layers.activations import sigmoid_forward
from course.training.init import orthogonal


def gru_step_forward(x: Any, prev_h: Any, Wx: Any, Wh: Any, b: Any) -> tuple[Any, tuple]:
    """One GRU step (gate order r, z, n).

    Inputs:
    - x: (N, D) inputs at this step.
    - prev_h: (N, H) previous hidden state.
    - Wx: (D, 3H) input weights; Wh: (H, 3H) recurrent weights; b: (3H,) biases.

    Returns:
    - next_h: (N, H).
    - cache: (x, prev_h, Wx, Wh, r, z, n).
    """
    dims: dict[str, int] = {}
    check_array("gru_step_forward", "x", x, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("gru_step_forward", "prev_h", prev_h, ("N", "H"), dims=dims, dtype_kind="f")
    H = dims["H"]
    check_array("gru_step_forward", "Wx", Wx, ("D", 3 * H), dims=dims, dtype_kind="f")
    check_array("gru_step_forward", "Wh", Wh, ("H", 3 * H), dims=dims, dtype_kind="f")
    check_array("gru_step_forward", "b", b, (3 * H,), dims=dims, dtype_kind="f")
    # BEGIN GRADED a06.gru_step_forward
    xp = get_array_module(x, prev_h, Wx, Wh, b)
    H = prev_h.shape[1]
    ax = x @ Wx + b  # (N, 3H): the input part of all three gates
    a_rz = ax[:, : 2 * H] + prev_h @ Wh[:, : 2 * H]  # (N, 2H)
    r, _ = sigmoid_forward(a_rz[:, :H])  # (N, H) reset gate
    z, _ = sigmoid_forward(a_rz[:, H:])  # (N, H) update gate
    n = xp.tanh(ax[:, 2 * H :] + (r * prev_h) @ Wh[:, 2 * H :])  # (N, H)
    next_h = z * prev_h + (1 - z) * n
    cache = (x, prev_h, Wx, Wh, r, z, n)
    return next_h, cache
    # END GRADED


def gru_step_backward(dnext_h: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any]:
    """Backward pass of one GRU step.

    From next_h = z * prev_h + (1 - z) * n: dz = dnext_h (prev_h - n), dn = dnext_h (1 - z), and
    prev_h gets dnext_h * z directly. Then da_n = dn (1 - n^2); the product (r * prev_h) Wh_n sends
    d(r * prev_h) = da_n Wh_n^T, which splits into dr = d(r * prev_h) * prev_h and a second
    contribution d(r * prev_h) * r to dprev_h. Finally da_r = dr r (1 - r), da_z = dz z (1 - z), and the
    r and z gates reach prev_h once more through Wh_r, Wh_z. prev_h is used four times: every path adds.

    Inputs:
    - dnext_h: (N, H) gradient on next_h.
    - cache: from ``gru_step_forward``.

    Returns:
    - dx: (N, D); dprev_h: (N, H); dWx: (D, 3H); dWh: (H, 3H); db: (3H,).
    """
    check_array("gru_step_backward", "dnext_h", dnext_h, tuple(cache[1].shape), dtype_kind="f")
    # BEGIN GRADED a06.gru_step_backward
    x, prev_h, Wx, Wh, r, z, n = cache
    xp = get_array_module(dnext_h, Wx)
    H = prev_h.shape[1]
    dz = dnext_h * (prev_h - n)
    da_n = dnext_h * (1 - z) * (1 - n * n)  # (N, H)
    drh = da_n @ Wh[:, 2 * H :].T  # (N, H): gradient on r * prev_h
    dr = drh * prev_h
    da_rz = xp.concatenate([dr * r * (1 - r), dz * z * (1 - z)], axis=1)  # (N, 2H)
    da = xp.concatenate([da_rz, da_n], axis=1)  # (N, 3H), gate order r, z, n
    dprev_h = dnext_h * z + drh * r + da_rz @ Wh[:, : 2 * H].T  # (N, H): three paths add up
    dx = da @ Wx.T  # (N, D)
    dWx = x.T @ da  # (D, 3H)
    dWh = xp.concatenate([prev_h.T @ da_rz, (r * prev_h).T @ da_n], axis=1)  # (H, 3H)
    db = da.sum(axis=0)  # (3H,)
    return dx, dprev_h, dWx, dWh, db
    # END GRADED


def gru_forward(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> tuple[Any, list]:
    """A GRU over a whole sequence.

    Inputs:
    - x: (N, T, D) inputs; h0: (N, H) initial state; Wx: (D, 3H); Wh: (H, 3H); b: (3H,).

    Returns:
    - h: (N, T, H) hidden states of every step.
    - cache: the list of the T step caches.
    """
    dims: dict[str, int] = {}
    check_array("gru_forward", "x", x, ("N", "T", "D"), dims=dims, dtype_kind="f")
    check_array("gru_forward", "h0", h0, ("N", "H"), dims=dims, dtype_kind="f")
    H = dims["H"]
    check_array("gru_forward", "Wx", Wx, ("D", 3 * H), dims=dims, dtype_kind="f")
    check_array("gru_forward", "Wh", Wh, ("H", 3 * H), dims=dims, dtype_kind="f")
    check_array("gru_forward", "b", b, (3 * H,), dims=dims, dtype_kind="f")
    # BEGIN GRADED a06.gru_forward
    xp = get_array_module(x, h0, Wx, Wh, b)
    N, T, _ = x.shape
    h = xp.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx, Wh, b))  # (N, T, H)
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = gru_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache
    # END GRADED


def gru_backward(dh: Any, cache: list) -> tuple[Any, Any, Any, Any, Any]:
    """Backpropagation through time for ``gru_forward``.

    Inputs:
    - dh: (N, T, H) upstream gradient on every hidden state.
    - cache: from ``gru_forward``.

    Returns:
    - dx: (N, T, D); dh0: (N, H); dWx: (D, 3H); dWh: (H, 3H); db: (3H,).
    """
    check_array("gru_backward", "dh", dh, ndim=3, dtype_kind="f")
    N, H = cache[0][1].shape  # h0
    check_array("gru_backward", "dh", dh, (N, len(cache), H))
    # BEGIN GRADED a06.gru_backward
    xp = get_array_module(dh)
    x0, _, Wx, Wh = cache[0][:4]  # every step's cache holds the same weights
    N, T, H = dh.shape
    dx = xp.empty((N, T, x0.shape[1]), dtype=dh.dtype)  # (N, T, D)
    dWx, dWh, db = xp.zeros_like(Wx), xp.zeros_like(Wh), xp.zeros(3 * H, dtype=Wx.dtype)
    dprev_h = xp.zeros((N, H), dtype=dh.dtype)  # gradient reaching h_t from step t + 1
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = gru_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db
    # END GRADED


def gru_init(
    D: int, H: int, rng: np.random.Generator, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial (Wx, Wh, b): Wx ~ N(0, 1/D), each (H, H) gate block of Wh orthogonal, b = 0.

    Returns Wx (D, 3H), Wh (H, 3H), b (3H,).
    """
    Wx = rng.standard_normal((D, 3 * H)) / np.sqrt(D)
    Wh = np.concatenate([orthogonal((H, H), rng, np.float64) for _ in range(3)], axis=1)
    return Wx.astype(dtype), Wh.astype(dtype), np.zeros(3 * H, dtype=dtype)


class GRU(Module):
    """A GRU layer over (N, T, D) sequences returning every hidden state (N, T, H).

    ``forward(x, h0=None)`` starts from h0 (zeros by default) and leaves ``final_state`` = h_T;
    ``backward(dh)`` returns dx and leaves the gradient of h0 in ``dh0``.
    """

    def __init__(
        self, D: int, H: int, *, rng: np.random.Generator | int | None = None, dtype: Any = np.float32
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(0 if rng is None else rng)
        Wx, Wh, b = gru_init(D, H, rng, dtype)
        self.add_param("Wx", Wx)
        self.add_param("Wh", Wh)
        self.add_param("b", b)
        self.final_state: Any = None
        self.dh0: Any = None

    def forward(self, x: Any, h0: Any = None) -> Any:
        xp = get_array_module(x)
        if h0 is None:
            h0 = xp.zeros((x.shape[0], self.params["Wh"].shape[0]), dtype=x.dtype)
        h, self.cache = gru_forward(x, h0, self.params["Wx"], self.params["Wh"], self.params["b"])
        self.final_state = h[:, -1, :].copy()
        return h

    def backward(self, dout: Any) -> Any:
        dx, self.dh0, dWx, dWh, db = gru_backward(dout, self.cache)
        self.accumulate("Wx", dWx)
        self.accumulate("Wh", dWh)
        self.accumulate("b", db)
        return dx
