"""Layers applied at every time step of a sequence: temporal affine and temporal softmax loss (lecture 003,
"RNN language models").

A recurrent net gives one hidden vector per step, (N, T, H). Scoring the vocabulary at every step is one
affine layer shared over time, done as a single (N T, H) x (H, V) product. The loss is the cross-entropy
of the next token at every step, summed over the steps that hold real tokens (``mask``: padding after the
end of a short sequence contributes nothing) and averaged over the N sequences of the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array
from course.layers.losses import log_softmax, softmax


def temporal_affine_forward(x: Any, w: Any, b: Any) -> tuple[Any, tuple]:
    """Affine layer shared by every time step, out[n, t] = x[n, t] w + b.

    Inputs:
    - x: (N, T, D) inputs.
    - w: (D, M) weights.
    - b: (M,) biases.

    Returns:
    - out: (N, T, M).
    - cache: (x, w).
    """
    dims: dict[str, int] = {}
    check_array("temporal_affine_forward", "x", x, ("N", "T", "D"), dims=dims, dtype_kind="f")
    check_array("temporal_affine_forward", "w", w, ("D", "M"), dims=dims, dtype_kind="f")
    check_array("temporal_affine_forward", "b", b, ("M",), dims=dims, dtype_kind="f")
    # BEGIN GRADED a06.temporal_affine_forward
    N, T, D = x.shape
    out = (x.reshape(N * T, D) @ w + b).reshape(N, T, w.shape[1])  # (N, T, M): one GEMM for all steps
    return out, (x, w)
    # END GRADED


def temporal_affine_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward pass of ``temporal_affine_forward``: w and b are shared over time, so their gradients sum
    over all N T positions.

    Inputs:
    - dout: (N, T, M) upstream gradient.
    - cache: (x, w).

    Returns:
    - dx: (N, T, D); dw: (D, M); db: (M,).
    """
    x_shape, M = cache[0].shape, cache[1].shape[1]
    check_array("temporal_affine_backward", "dout", dout, (*x_shape[:2], M), dtype_kind="f")
    # BEGIN GRADED a06.temporal_affine_backward
    x, w = cache
    N, T, D = x.shape
    M = w.shape[1]
    dout2 = dout.reshape(N * T, M)  # (N T, M)
    dx = (dout2 @ w.T).reshape(N, T, D)  # (N, T, D)
    dw = x.reshape(N * T, D).T @ dout2  # (D, M)
    db = dout2.sum(axis=0)  # (M,)
    return dx, dw, db
    # END GRADED


def temporal_softmax_loss(x: Any, y: Any, mask: Any) -> tuple[float, Any]:
    """Softmax cross-entropy at every step, loss = -(1/N) sum_{n,t} mask[n,t] log softmax(x[n,t])[y[n,t]].

    Inputs:
    - x: (N, T, V) scores.
    - y: (N, T) integer targets in [0, V).
    - mask: (N, T) bool; False steps (padding) add nothing to the loss or the gradient.

    Returns:
    - loss: float, summed over the unmasked steps and divided by N (not by the number of tokens, so a
      longer sequence weighs more, as its log-likelihood does).
    - dx: (N, T, V) gradient, (softmax - onehot(y)) * mask / N.

    The softmax subtracts each row's maximum before exp, so scores in the hundreds cannot overflow.
    """
    dims: dict[str, int] = {}
    check_array("temporal_softmax_loss", "x", x, ("N", "T", "V"), dims=dims, dtype_kind="f")
    check_array("temporal_softmax_loss", "y", y, ("N", "T"), dims=dims, dtype_kind="i")
    check_array("temporal_softmax_loss", "mask", mask, ("N", "T"), dims=dims, dtype_kind="b")
    V = x.shape[2]
    if y.size and (int(y.min()) < 0 or int(y.max()) >= V):
        raise ValueError(
            f"temporal_softmax_loss: y must hold ids in [0, V) = [0, {V}), "
            f"got values in [{int(y.min())}, {int(y.max())}]"
        )
    # BEGIN GRADED a06.temporal_softmax_loss
    xp = get_array_module(x, y, mask)
    N, T, V = x.shape
    x2 = x.reshape(N * T, V)  # (N T, V)
    y2, m2 = y.reshape(N * T), mask.reshape(N * T)
    log_probs = log_softmax(x2, axis=1)  # (N T, V)
    rows = xp.arange(N * T)
    loss = -float((log_probs[rows, y2] * m2).sum()) / N
    dx = softmax(x2, axis=1)  # (N T, V)
    dx[rows, y2] -= 1  # softmax - onehot(y)
    dx *= (m2 / N)[:, None].astype(x.dtype)
    return loss, dx.reshape(N, T, V)
    # END GRADED


class TemporalAffine(Module):
    """An affine layer applied at every time step: (N, T, D) -> (N, T, M), holding ``w`` (D, M) and ``b``.

    ``w`` starts from N(0, 1/D) (scores of unit scale for unit-scale inputs), ``b`` at zero; ``rng`` is a
    Generator or an int seed (None means seed 0).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(0 if rng is None else rng)
        w = rng.standard_normal((in_features, out_features)) / np.sqrt(in_features)
        self.add_param("w", w.astype(dtype))
        self.add_param("b", np.zeros(out_features, dtype=dtype))

    def forward(self, x: Any) -> Any:
        out, self.cache = temporal_affine_forward(x, self.params["w"], self.params["b"])
        return out

    def backward(self, dout: Any) -> Any:
        dx, dw, db = temporal_affine_backward(dout, self.cache)
        self.accumulate("w", dw)
        self.accumulate("b", db)
        return dx
