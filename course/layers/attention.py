"""Attention: a differentiable weighted read over a set of vectors (lectures 003 and 004).

A decoder state ``d`` asks a question of the encoder states ``e_1 .. e_T``; the answer is a convex
combination ``d' = sum_j a_j e_j`` with weights ``a = softmax(u)``. The pairs below differ only in how the
scores ``u_j`` are made:

- position-based (Gaussian window):  u_j = -(j - mu)^2 / (2 sigma^2)       (where to look, not what is there)
- content-based (dot):               u_j = e_j . d
- Bahdanau additive:                 u_j = v^T tanh(W1 e_j + W2 d)
- NTM content addressing:            u_i = softplus(beta_hat) * cos(k, m_i)  (weights only, no read)
- scaled dot-product self-attention: softmax(Q K^T / sqrt(dk) + mask) V with Q, K, V = X Wq, X Wk, X Wv

Every attention pair returns its weights as a second output (for heat maps) and its backward takes an
upstream gradient for them too (``None`` means zero), so a gradient check can exercise both paths.

Masks are boolean "keep" arrays: True where a position may be attended to. A masked position gets the
score -inf, so its weight is exactly 0 (the lecture's "+ mask" with mask entries 0 or -inf). Every row
must keep at least one position.

The softmax backward used throughout (``course.layers.losses.softmax_backward``): for a = softmax(u) and
upstream da, du = a * (da - sum_j a_j da_j); a masked position has a = 0, so its du is 0 too.
"""

from __future__ import annotations

import math
from typing import Any

from course.core.backend import get_array_module
from course.core.validation import check_array
from course.layers.activations import sigmoid_forward
from course.layers.losses import softmax, softmax_backward


def masked_softmax(u: Any, mask: Any = None) -> Any:
    """Stable softmax over the last axis, with masked entries given weight exactly 0.

    Inputs:
    - u: (..., T) scores.
    - mask: None or a boolean array broadcastable to u's shape, True where a position is kept.

    Returns:
    - a: (..., T) weights, each row summing to 1 over its kept positions.
    """
    xp = get_array_module(u, mask)
    if mask is not None:
        if not bool(xp.all(xp.any(xp.broadcast_to(mask, u.shape), axis=-1))):
            raise ValueError("masked_softmax: every row of the mask must keep at least one position")
        u = xp.where(mask, u, -xp.inf)  # exp(-inf - max) = 0: a masked weight is exactly 0
    return softmax(u, axis=-1)


def attention_read_forward(a: Any, E: Any) -> tuple[Any, tuple]:
    """The read every attention pair ends with, context_n = sum_j a_nj e_nj.

    Inputs:
    - a: (N, T) attention weights.
    - E: (N, T, H) the vectors read (encoder states).

    Returns:
    - context: (N, H), one batched matrix product (N, 1, T) @ (N, T, H).
    - cache: (a, E).
    """
    context = (a[:, None, :] @ E)[:, 0, :]  # (N, H)
    return context, (a, E)


def attention_read_backward(dcontext: Any, cache: tuple) -> tuple[Any, Any]:
    """Backward pass of ``attention_read_forward``: da_j = e_j . dcontext and dE_j = a_j dcontext.

    Inputs:
    - dcontext: (N, H) upstream gradient.
    - cache: (a, E).

    Returns:
    - da: (N, T); dE: (N, T, H).
    """
    a, E = cache
    da = (E @ dcontext[:, :, None])[:, :, 0]  # (N, T)
    dE = a[:, :, None] * dcontext[:, None, :]  # (N, T, H)
    return da, dE


def _check_mask(func: str, mask: Any, dims: dict[str, int]) -> None:
    if mask is not None:
        check_array(func, "mask", mask, ("N", "T"), dims=dims, dtype_kind="b")


# --------------------------------------------------------------------------------------------------------
# Position-based attention: a Gaussian window over positions (NTM-style location addressing).
# --------------------------------------------------------------------------------------------------------


def position_attention_forward(E: Any, mu: Any, sigma: Any, mask: Any = None) -> tuple[Any, Any, tuple]:
    """Position-based attention: a softmax-normalised Gaussian window centred at position ``mu``.

    u_j = -(j - mu)^2 / (2 sigma^2) for positions j = 0 .. T-1, a = softmax(u), context = sum_j a_j e_j.
    The weights depend only on *where* (mu, sigma), never on the contents of e_j: this is the lecture's
    "map d to a" with the decoder emitting two numbers (mu = f(d), sigma = g(d)) instead of T weights, so
    it works for any T. Normalising with a softmax (rather than the Gaussian's constant) makes the weights
    sum to 1 over the kept positions.

    Inputs:
    - E: (N, T, H) encoder states e_j.
    - mu: (N,) window centres, in positions (real numbers; learned, so differentiable).
    - sigma: (N,) window widths, > 0.
    - mask: None or (N, T) bool, True where a position may be attended to.

    Returns:
    - context: (N, H) the weighted read.
    - a: (N, T) attention weights.
    - cache: for the backward pass.
    """
    dims: dict[str, int] = {}
    check_array("position_attention_forward", "E", E, ("N", "T", "H"), dims=dims, dtype_kind="f")
    check_array("position_attention_forward", "mu", mu, ("N",), dims=dims, dtype_kind="f")
    check_array("position_attention_forward", "sigma", sigma, ("N",), dims=dims, dtype_kind="f")
    _check_mask("position_attention_forward", mask, dims)
    if not bool((sigma > 0).all()):
        raise ValueError("position_attention_forward: sigma must be > 0 everywhere")
    # BEGIN GRADED a07.position_attention_forward
    xp = get_array_module(E, mu, sigma)
    j = xp.arange(E.shape[1], dtype=E.dtype)  # (T,)
    offset = j[None, :] - mu[:, None]  # (N, T): signed distance of each position from the centre
    u = -(offset**2) / (2 * sigma[:, None] ** 2)  # (N, T)
    a = masked_softmax(u, mask)  # (N, T)
    context, _ = attention_read_forward(a, E)  # (N, H)
    cache = (E, sigma, offset, a)
    return context, a, cache
    # END GRADED


def position_attention_backward(dcontext: Any, da: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward pass of ``position_attention_forward``.

    du_j/dmu = (j - mu) / sigma^2 and du_j/dsigma = (j - mu)^2 / sigma^3.

    Inputs:
    - dcontext: (N, H) upstream gradient of the context.
    - da: (N, T) upstream gradient of the weights, or None (zero).
    - cache: from the forward pass.

    Returns:
    - dE: (N, T, H), dmu: (N,), dsigma: (N,).
    """
    N, _, H = cache[0].shape
    check_array("position_attention_backward", "dcontext", dcontext, (N, H), dtype_kind="f")
    # BEGIN GRADED a07.position_attention_backward
    E, sigma, offset, a = cache
    da_read, dE = attention_read_backward(dcontext, (a, E))
    da_total = da_read if da is None else da_read + da  # a feeds both the read and the weights output
    du = softmax_backward(da_total, a)  # (N, T)
    dmu = (du * offset).sum(axis=1) / sigma**2  # (N,)
    dsigma = (du * offset**2).sum(axis=1) / sigma**3  # (N,)
    return dE, dmu, dsigma
    # END GRADED


# --------------------------------------------------------------------------------------------------------
# Content-based (dot) attention.
# --------------------------------------------------------------------------------------------------------


def dot_attention_forward(E: Any, d: Any, mask: Any = None) -> tuple[Any, Any, tuple]:
    """Content-based attention with dot-product scores: u = E d, a = softmax(u), context = sum_j a_j e_j.

    Inputs:
    - E: (N, T, H) encoder states.
    - d: (N, H) decoder state (the query; same size as the e_j).
    - mask: None or (N, T) bool, True where a position may be attended to.

    Returns:
    - context: (N, H), a: (N, T), cache.
    """
    dims: dict[str, int] = {}
    check_array("dot_attention_forward", "E", E, ("N", "T", "H"), dims=dims, dtype_kind="f")
    check_array("dot_attention_forward", "d", d, ("N", "H"), dims=dims, dtype_kind="f")
    _check_mask("dot_attention_forward", mask, dims)
    # BEGIN GRADED a07.dot_attention_forward
    u = (E @ d[:, :, None])[:, :, 0]  # (N, T): u_j = e_j . d
    a = masked_softmax(u, mask)  # (N, T)
    context, _ = attention_read_forward(a, E)  # (N, H)
    cache = (E, d, a)
    return context, a, cache
    # END GRADED


def dot_attention_backward(dcontext: Any, da: Any, cache: tuple) -> tuple[Any, Any]:
    """Backward pass of ``dot_attention_forward``.

    E is used twice (in the scores and in the read), so dE is the sum of both paths.

    Returns:
    - dE: (N, T, H), dd: (N, H).
    """
    N, _, H = cache[0].shape
    check_array("dot_attention_backward", "dcontext", dcontext, (N, H), dtype_kind="f")
    # BEGIN GRADED a07.dot_attention_backward
    E, d, a = cache
    da_read, dE = attention_read_backward(dcontext, (a, E))
    da_total = da_read if da is None else da_read + da
    du = softmax_backward(da_total, a)  # (N, T)
    dE += du[:, :, None] * d[:, None, :]  # score path: du_j/dE_j = d
    dd = (du[:, None, :] @ E)[:, 0, :]  # (N, H): sum_j du_j e_j
    return dE, dd
    # END GRADED


# --------------------------------------------------------------------------------------------------------
# Bahdanau additive attention.
# --------------------------------------------------------------------------------------------------------


def additive_attention_step_forward(
    E: Any, keys: Any, d: Any, W2: Any, v: Any, mask: Any = None
) -> tuple[Any, Any, tuple]:
    """One query of Bahdanau attention, given the precomputed keys W1 e_j.

    u_j = v^T tanh(keys_j + W2 d), a = softmax(u), context = sum_j a_j e_j.
    A decoder queries the same encoder states at every output step, so ``keys = E W1`` (the expensive
    (N, T, H) x (H, A) product) is computed once per sequence by the caller and only the cheap W2 d part
    is computed per step.

    Inputs:
    - E: (N, T, H) encoder states.
    - keys: (N, T, A) E @ W1.
    - d: (N, Hd) decoder state.
    - W2: (Hd, A), v: (A,).
    - mask: None or (N, T) bool.

    Returns:
    - context: (N, H), a: (N, T), cache.
    """
    dims: dict[str, int] = {}
    func = "additive_attention_step_forward"
    check_array(func, "E", E, ("N", "T", "H"), dims=dims, dtype_kind="f")
    check_array(func, "keys", keys, ("N", "T", "A"), dims=dims, dtype_kind="f")
    check_array(func, "d", d, ("N", "Hd"), dims=dims, dtype_kind="f")
    check_array(func, "W2", W2, ("Hd", "A"), dims=dims, dtype_kind="f")
    check_array(func, "v", v, ("A",), dims=dims, dtype_kind="f")
    _check_mask(func, mask, dims)
    # BEGIN GRADED a07.additive_attention_step_forward
    xp = get_array_module(E, keys, d, W2, v)
    query = d @ W2  # (N, A)
    hidden = xp.tanh(keys + query[:, None, :])  # (N, T, A): the query is broadcast over the T positions
    u = hidden @ v  # (N, T)
    a = masked_softmax(u, mask)  # (N, T)
    context, _ = attention_read_forward(a, E)  # (N, H)
    cache = (E, d, W2, v, hidden, a)
    return context, a, cache
    # END GRADED


def additive_attention_step_backward(dcontext: Any, da: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any]:
    """Backward pass of ``additive_attention_step_forward``.

    Returns (in the order of the inputs):
    - dE: (N, T, H) through the read only (the keys path is dkeys).
    - dkeys: (N, T, A); the caller turns it into dE and dW1 once per sequence (sum dkeys over steps first).
    - dd: (N, Hd), dW2: (Hd, A), dv: (A,).
    """
    N, _, H = cache[0].shape
    check_array("additive_attention_step_backward", "dcontext", dcontext, (N, H), dtype_kind="f")
    # BEGIN GRADED a07.additive_attention_step_backward
    E, d, W2, v, hidden, a = cache
    da_read, dE = attention_read_backward(dcontext, (a, E))
    da_total = da_read if da is None else da_read + da
    du = softmax_backward(da_total, a)  # (N, T)
    dv = hidden.reshape(-1, hidden.shape[-1]).T @ du.reshape(-1)  # (A,): sum over n, j of du_nj hidden_nj
    dkeys = du[:, :, None] * v * (1 - hidden * hidden)  # (N, T, A): tanh' read from the output
    dquery = dkeys.sum(axis=1)  # (N, A): the query was broadcast over the T positions
    dd = dquery @ W2.T  # (N, Hd)
    dW2 = d.T @ dquery  # (Hd, A)
    return dE, dkeys, dd, dW2, dv
    # END GRADED


def additive_attention_forward(
    E: Any, d: Any, W1: Any, W2: Any, v: Any, mask: Any = None
) -> tuple[Any, Any, tuple]:
    """Bahdanau attention (lecture 003): u_j = v^T tanh(W1 e_j + W2 d), a = softmax(u), d' = sum_j a_j e_j.

    This is the one-query version; a decoder should compute ``keys = E @ W1`` once and call
    ``additive_attention_step_forward`` at each step (what ``course.models.seq2seq`` does).

    Inputs:
    - E: (N, T, H) encoder states e_j.
    - d: (N, Hd) decoder state.
    - W1: (H, A), W2: (Hd, A), v: (A,) with A the attention size.
    - mask: None or (N, T) bool, True where a position may be attended to.

    Returns:
    - context: (N, H), a: (N, T), cache.
    """
    dims: dict[str, int] = {}
    check_array("additive_attention_forward", "E", E, ("N", "T", "H"), dims=dims, dtype_kind="f")
    check_array("additive_attention_forward", "W1", W1, ("H", "A"), dims=dims, dtype_kind="f")
    # BEGIN GRADED a07.additive_attention_forward
    keys = E @ W1  # (N, T, A)
    context, a, step_cache = additive_attention_step_forward(E, keys, d, W2, v, mask)
    cache = (W1, step_cache)
    return context, a, cache
    # END GRADED


def additive_attention_backward(dcontext: Any, da: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any]:
    """Backward pass of ``additive_attention_forward``.

    Returns (in the order of the inputs):
    - dE: (N, T, H) (the read path plus the keys path), dd: (N, Hd), dW1: (H, A), dW2: (Hd, A), dv: (A,).
    """
    # BEGIN GRADED a07.additive_attention_backward
    W1, step_cache = cache
    dE, dkeys, dd, dW2, dv = additive_attention_step_backward(dcontext, da, step_cache)
    E = step_cache[0]
    dE += dkeys @ W1.T  # E is used twice: in the read and in the keys
    dW1 = E.reshape(-1, E.shape[-1]).T @ dkeys.reshape(-1, dkeys.shape[-1])  # (H, A)
    return dE, dd, dW1, dW2, dv
    # END GRADED


# --------------------------------------------------------------------------------------------------------
# Scaled dot-product self-attention.
# --------------------------------------------------------------------------------------------------------


def self_attention_mask(key_mask: Any = None, causal: bool = False, T: int | None = None) -> Any:
    """The boolean keep-mask of self-attention, shape (N or 1, T, T) with [n, i, j] = query i may see key j.

    Inputs:
    - key_mask: None or (N, T) bool, False at padding (a padded key is never attended to).
    - causal: if True, query i sees only keys j <= i (a decoder must not read the future).
    - T: the sequence length, needed when key_mask is None.

    Returns None when nothing is masked.
    """
    if key_mask is None and not causal:
        return None
    xp = get_array_module(key_mask)
    T = key_mask.shape[1] if key_mask is not None else T
    if T is None:
        raise ValueError("self_attention_mask: give T when key_mask is None")
    keep = xp.ones((1, T, T), dtype=bool)
    if causal:
        keep = keep & xp.tril(xp.ones((T, T), dtype=bool))[None]
    if key_mask is not None:
        keep = keep & key_mask[:, None, :]  # (N, T, T): padded keys are hidden from every query
    return keep


def self_attention_forward(
    X: Any, Wq: Any, Wk: Any, Wv: Any, key_mask: Any = None, causal: bool = False
) -> tuple[Any, Any, tuple]:
    """Scaled dot-product self-attention (lecture 004): out = softmax(Q K^T / sqrt(dk) + mask) V.

    Q = X Wq, K = X Wk, V = X Wv; each position's output is a weighted average of every visible
    position's value. Dividing by sqrt(dk) keeps the scores' variance O(1) as dk grows, so the softmax
    does not saturate.

    Inputs:
    - X: (N, T, D) inputs.
    - Wq: (D, dk), Wk: (D, dk), Wv: (D, dv).
    - key_mask: None or (N, T) bool, False at padding positions.
    - causal: if True, position i attends only to positions j <= i.

    Returns:
    - out: (N, T, dv).
    - A: (N, T, T) attention weights, A[n, i, j] = how much query i reads from key j.
    - cache.
    """
    dims: dict[str, int] = {}
    check_array("self_attention_forward", "X", X, ("N", "T", "D"), dims=dims, dtype_kind="f")
    check_array("self_attention_forward", "Wq", Wq, ("D", "dk"), dims=dims, dtype_kind="f")
    check_array("self_attention_forward", "Wk", Wk, ("D", "dk"), dims=dims, dtype_kind="f")
    check_array("self_attention_forward", "Wv", Wv, ("D", "dv"), dims=dims, dtype_kind="f")
    if key_mask is not None:
        check_array("self_attention_forward", "key_mask", key_mask, ("N", "T"), dims=dims, dtype_kind="b")
    # BEGIN GRADED a07.self_attention_forward
    keep = self_attention_mask(key_mask, causal, X.shape[1])  # None, or (N or 1, T, T) bool
    scale = 1.0 / math.sqrt(Wq.shape[1])  # a Python float, so float32 stays float32
    Q, K, V = X @ Wq, X @ Wk, X @ Wv  # (N, T, dk), (N, T, dk), (N, T, dv)
    S = (Q @ K.transpose(0, 2, 1)) * scale  # (N, T, T)
    A = masked_softmax(S, keep)  # (N, T, T)
    out = A @ V  # (N, T, dv)
    cache = (X, Wq, Wk, Wv, Q, K, V, A, scale)
    return out, A, cache
    # END GRADED


def self_attention_backward(dout: Any, dA: Any, cache: tuple) -> tuple[Any, Any, Any, Any]:
    """Backward pass of ``self_attention_forward``.

    X is used three times (Q, K and V), so dX sums the three paths.

    Inputs:
    - dout: (N, T, dv) upstream gradient of the output.
    - dA: (N, T, T) upstream gradient of the weights, or None (zero).

    Returns:
    - dX: (N, T, D), dWq: (D, dk), dWk: (D, dk), dWv: (D, dv).
    """
    N, T, _ = cache[0].shape  # X
    check_array("self_attention_backward", "dout", dout, (N, T, cache[3].shape[1]), dtype_kind="f")
    # BEGIN GRADED a07.self_attention_backward
    X, Wq, Wk, Wv, Q, K, V, A, scale = cache
    dV = A.transpose(0, 2, 1) @ dout  # (N, T, dv)
    dA_total = dout @ V.transpose(0, 2, 1)  # (N, T, T)
    if dA is not None:
        dA_total = dA_total + dA
    dS = softmax_backward(dA_total, A) * scale  # (N, T, T), with the 1/sqrt(dk) folded in
    dQ = dS @ K  # (N, T, dk)
    dK = dS.transpose(0, 2, 1) @ Q  # (N, T, dk)
    X2 = X.reshape(-1, X.shape[-1])  # (N*T, D)
    dWq = X2.T @ dQ.reshape(-1, dQ.shape[-1])
    dWk = X2.T @ dK.reshape(-1, dK.shape[-1])
    dWv = X2.T @ dV.reshape(-1, dV.shape[-1])
    dX = dQ @ Wq.T
    dX += dK @ Wk.T
    dX += dV @ Wv.T
    return dX, dWq, dWk, dWv
    # END GRADED


# --------------------------------------------------------------------------------------------------------
# NTM content addressing.
# --------------------------------------------------------------------------------------------------------

NTM_EPS = 1e-8  # inside the norms, sqrt(x . x + eps): cosine stays finite for an all-zero row or key


def ntm_content_addressing_forward(M: Any, k: Any, beta_hat: Any) -> tuple[Any, tuple]:
    """Neural Turing Machine content addressing (lecture 003): w = softmax(beta * cos(k, m_i)).

    cos(k, m_i) = k . m_i / (|k| |m_i|) with |x| = sqrt(x . x + eps); beta = softplus(beta_hat)
    = log(1 + exp(beta_hat)) > 0 is the strength: large beta sharpens w towards the best-matching row.

    Inputs:
    - M: (N, R, D) memory, R rows (locations) of width D.
    - k: (N, D) key emitted by the controller.
    - beta_hat: (N,) unconstrained strength.

    Returns:
    - w: (N, R) weighting over memory locations.
    - cache.
    """
    dims: dict[str, int] = {}
    check_array("ntm_content_addressing_forward", "M", M, ("N", "R", "D"), dims=dims, dtype_kind="f")
    check_array("ntm_content_addressing_forward", "k", k, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("ntm_content_addressing_forward", "beta_hat", beta_hat, ("N",), dims=dims, dtype_kind="f")
    # BEGIN GRADED a07.ntm_content_addressing_forward
    xp = get_array_module(M, k, beta_hat)
    norm_k = xp.sqrt((k * k).sum(axis=1) + NTM_EPS)  # (N,)
    norm_m = xp.sqrt((M * M).sum(axis=2) + NTM_EPS)  # (N, R)
    dots = (M @ k[:, :, None])[:, :, 0]  # (N, R)
    cos = dots / (norm_k[:, None] * norm_m)  # (N, R)
    # softplus written stably: log(1 + e^x) = max(x, 0) + log(1 + e^-|x|)
    beta = xp.maximum(beta_hat, 0) + xp.log1p(xp.exp(-xp.abs(beta_hat)))  # (N,)
    w = masked_softmax(beta[:, None] * cos)  # (N, R)
    cache = (M, k, beta_hat, norm_k, norm_m, cos, beta, w)
    return w, cache
    # END GRADED


def ntm_content_addressing_backward(dw: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward pass of ``ntm_content_addressing_forward``.

    With c_i = cos(k, m_i): dc_i/dk = m_i / (|k||m_i|) - c_i k / |k|^2,
    dc_i/dm_i = k / (|k||m_i|) - c_i m_i / |m_i|^2, and dbeta/dbeta_hat = sigmoid(beta_hat).

    Returns:
    - dM: (N, R, D), dk: (N, D), dbeta_hat: (N,).
    """
    check_array("ntm_content_addressing_backward", "dw", dw, cache[-1].shape, dtype_kind="f")
    # BEGIN GRADED a07.ntm_content_addressing_backward
    M, k, beta_hat, norm_k, norm_m, cos, beta, w = cache
    du = softmax_backward(dw, w)  # (N, R)
    dbeta = (du * cos).sum(axis=1)  # (N,)
    dbeta_hat = dbeta * sigmoid_forward(beta_hat)[0]  # softplus' = sigmoid
    dcos = du * beta[:, None]  # (N, R)
    inv = dcos / (norm_k[:, None] * norm_m)  # (N, R): dcos_i / (|k||m_i|)
    dk = (inv[:, None, :] @ M)[:, 0, :]  # (N, D): sum_i inv_i m_i
    dk -= ((dcos * cos).sum(axis=1) / norm_k**2)[:, None] * k
    dM = inv[:, :, None] * k[:, None, :]  # (N, R, D)
    dM -= (dcos * cos / norm_m**2)[:, :, None] * M
    return dM, dk, dbeta_hat
    # END GRADED


__all__ = [
    "masked_softmax",
    "attention_read_forward",
    "attention_read_backward",
    "position_attention_forward",
    "position_attention_backward",
    "dot_attention_forward",
    "dot_attention_backward",
    "additive_attention_step_forward",
    "additive_attention_step_backward",
    "additive_attention_forward",
    "additive_attention_backward",
    "self_attention_mask",
    "self_attention_forward",
    "self_attention_backward",
    "ntm_content_addressing_forward",
    "ntm_content_addressing_backward",
]
