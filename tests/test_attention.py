"""Tests for course/layers/attention.py: every pair gradient-checked in float64 and cross-checked against
PyTorch.

The gradient checks use small sizes and weights that keep tanh away from saturation: an entry of a
gradient that is ~1e-6 of the others (by chance cancellation in a sum) is dominated by the centred
difference's round-off (~1e-11 absolute) and would fail the 1e-7 relative test without any bug. The
PyTorch comparisons check every entry of the same gradients to 1e-9 relative on top.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from course.core.gradcheck import check_pair
from course.layers.attention import (
    additive_attention_backward,
    additive_attention_forward,
    additive_attention_step_backward,
    additive_attention_step_forward,
    attention_read_backward,
    attention_read_forward,
    dot_attention_backward,
    dot_attention_forward,
    masked_softmax,
    ntm_content_addressing_backward,
    ntm_content_addressing_forward,
    position_attention_backward,
    position_attention_forward,
    self_attention_backward,
    self_attention_forward,
    self_attention_mask,
)

N, T, H, HD, A = 3, 4, 3, 5, 4


def _padding_mask() -> np.ndarray:
    """Three sequences of lengths 4, 2 and 1 (right padded)."""
    return np.arange(T)[None, :] < np.array([4, 2, 1])[:, None]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# ------------------------------------------------------------------------------------------------ softmax


def test_masked_softmax_rows_sum_to_one_and_masked_weights_are_exactly_zero(rng):
    u = rng.standard_normal((N, T)) * 100  # large scores must not overflow
    mask = _padding_mask()
    a = masked_softmax(u, mask)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(a[~mask] == 0.0)
    assert np.all(np.isfinite(a))


def test_masked_softmax_rejects_a_row_with_nothing_kept():
    with pytest.raises(ValueError, match="at least one position"):
        masked_softmax(np.zeros((2, 3)), np.array([[True, False, False], [False, False, False]]))


# --------------------------------------------------------------------------------------------------- read


def test_attention_read_is_the_weighted_sum_and_its_backward_matches_central_difference(rng):
    a = masked_softmax(rng.standard_normal((N, T)), _padding_mask())
    E = rng.standard_normal((N, T, H))
    context, _ = attention_read_forward(a, E)
    np.testing.assert_allclose(context, (a[:, :, None] * E).sum(axis=1), rtol=1e-12)
    check_pair(attention_read_forward, attention_read_backward, {"a": rng.random((N, T)), "E": E})


# ----------------------------------------------------------------------------------------------- position


def test_position_attention_backward_matches_central_difference_on_E_mu_sigma(rng):
    E = rng.standard_normal((N, T, H))
    mu = np.array([1.3, 0.4, 2.7])
    sigma = np.array([0.8, 1.5, 2.0])
    check_pair(position_attention_forward, position_attention_backward, {"E": E, "mu": mu, "sigma": sigma})


def test_position_attention_with_mask_matches_central_difference(rng):
    E = rng.standard_normal((N, T, H))
    fwd = functools.partial(position_attention_forward, mask=_padding_mask())
    check_pair(
        fwd,
        position_attention_backward,
        {"E": E, "mu": np.array([1.3, 1.4, 0.2]), "sigma": np.array([0.8, 1.5, 2.0])},
    )


def test_position_attention_with_narrow_window_reads_the_row_at_mu(rng):
    E = rng.standard_normal((N, T, H))
    context, a, _ = position_attention_forward(E, np.array([0.0, 2.0, 3.0]), np.full(3, 0.05))
    np.testing.assert_allclose(context, E[np.arange(3), [0, 2, 3]], atol=1e-12)
    np.testing.assert_allclose(a.argmax(axis=1), [0, 2, 3])


def test_position_attention_rejects_nonpositive_sigma(rng):
    with pytest.raises(ValueError, match="sigma"):
        position_attention_forward(rng.standard_normal((N, T, H)), np.zeros(N), np.array([1.0, 0.0, 1.0]))


# ---------------------------------------------------------------------------------------------------- dot


def test_dot_attention_backward_matches_central_difference(rng):
    check_pair(
        dot_attention_forward,
        dot_attention_backward,
        {"E": rng.standard_normal((N, T, H)), "d": rng.standard_normal((N, H))},
    )


def test_dot_attention_with_mask_matches_central_difference_and_ignores_padding(rng):
    E, d = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    mask = _padding_mask()
    fwd = functools.partial(dot_attention_forward, mask=mask)
    check_pair(fwd, dot_attention_backward, {"E": E, "d": d})
    E2 = E.copy()
    E2[~mask] = 1e3  # changing padded rows must not change anything
    np.testing.assert_allclose(fwd(E2, d)[0], fwd(E, d)[0], rtol=1e-12)


# ----------------------------------------------------------------------------------------------- additive


def _additive_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "E": rng.standard_normal((N, T, H)),
        "d": rng.standard_normal((N, HD)),
        "W1": rng.standard_normal((H, A)) * 0.3,
        "W2": rng.standard_normal((HD, A)) * 0.3,
        "v": rng.standard_normal(A),
    }


def test_additive_attention_backward_matches_central_difference_on_all_inputs(rng):
    check_pair(additive_attention_forward, additive_attention_backward, _additive_inputs(rng))


def test_additive_attention_with_mask_matches_central_difference(rng):
    fwd = functools.partial(additive_attention_forward, mask=_padding_mask())
    check_pair(fwd, additive_attention_backward, _additive_inputs(rng))


def test_additive_attention_step_with_precomputed_keys_matches_central_difference(rng):
    x = _additive_inputs(rng)
    inputs = {"E": x["E"], "keys": x["E"] @ x["W1"], "d": x["d"], "W2": x["W2"], "v": x["v"]}
    fwd = functools.partial(additive_attention_step_forward, mask=_padding_mask())
    check_pair(fwd, additive_attention_step_backward, inputs)


def test_additive_attention_weights_are_zero_on_padding_and_sum_to_one(rng):
    x = _additive_inputs(rng)
    mask = _padding_mask()
    _, a, _ = additive_attention_forward(*x.values(), mask=mask)
    assert np.all(a[~mask] == 0)
    np.testing.assert_allclose(a.sum(1), 1, rtol=1e-12)


def test_additive_attention_keeps_float32(rng):
    x = {k: v.astype(np.float32) for k, v in _additive_inputs(rng).items()}
    context, a, cache = additive_attention_forward(*x.values())
    grads = additive_attention_backward(np.ones_like(context), None, cache)
    assert context.dtype == a.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


# ------------------------------------------------------------------------------------------ self-attention


def _self_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    D, dk, dv = 4, 3, 5
    return {
        "X": rng.standard_normal((N, T, D)),
        "Wq": rng.standard_normal((D, dk)),
        "Wk": rng.standard_normal((D, dk)),
        "Wv": rng.standard_normal((D, dv)),
    }


def test_self_attention_backward_matches_central_difference(rng):
    check_pair(self_attention_forward, self_attention_backward, _self_inputs(rng))


def test_self_attention_with_causal_and_padding_masks_matches_central_difference(rng):
    fwd = functools.partial(self_attention_forward, key_mask=_padding_mask(), causal=True)
    check_pair(fwd, self_attention_backward, _self_inputs(rng))


def test_causal_self_attention_output_does_not_depend_on_the_future(rng):
    x = _self_inputs(rng)
    out, A, _ = self_attention_forward(*x.values(), causal=True)
    assert np.all(np.triu(A[0], k=1) == 0)
    X2 = x["X"].copy()
    X2[:, 3:] = rng.standard_normal(X2[:, 3:].shape)
    out2, _, _ = self_attention_forward(X2, x["Wq"], x["Wk"], x["Wv"], causal=True)
    np.testing.assert_allclose(out2[:, :3], out[:, :3], rtol=1e-12)
    assert not np.allclose(out2[:, 3:], out[:, 3:])


def test_self_attention_mask_combines_causal_and_padding():
    keep = self_attention_mask(np.array([[True, True, False]]), causal=True)
    expected = np.array([[[1, 0, 0], [1, 1, 0], [1, 1, 0]]], dtype=bool)
    np.testing.assert_array_equal(keep, expected)


# -------------------------------------------------------------------------------------------------- NTM


def test_ntm_content_addressing_backward_matches_central_difference(rng):
    check_pair(
        ntm_content_addressing_forward,
        ntm_content_addressing_backward,
        {
            "M": rng.standard_normal((N, 5, H)),
            "k": rng.standard_normal((N, H)),
            "beta_hat": np.array([1.0, 2.0, 3.0]),
        },
    )


def test_ntm_content_addressing_large_strength_selects_the_most_similar_row(rng):
    M = rng.standard_normal((1, 6, H))
    k = 3.0 * M[:, 4]  # same direction as row 4, different length: cosine ignores the length
    w, _ = ntm_content_addressing_forward(M, k, np.array([50.0]))
    assert w.argmax() == 4 and w[0, 4] > 0.99
    w_soft, _ = ntm_content_addressing_forward(M, k, np.array([-20.0]))  # beta ~ 2e-9: uniform
    np.testing.assert_allclose(w_soft, 1 / 6, rtol=1e-6)


def test_ntm_content_addressing_with_extreme_strengths_has_finite_gradients(rng):
    # softplus'(beta_hat) = sigmoid(beta_hat) through the overflow-safe sigmoid_forward: exp(800) would
    # overflow float64 (and any RuntimeWarning from course.* fails the run, see pyproject.toml)
    M, k = rng.standard_normal((2, 5, H)), rng.standard_normal((2, H))
    w, cache = ntm_content_addressing_forward(M, k, np.array([-800.0, 800.0]))
    grads = ntm_content_addressing_backward(rng.standard_normal(w.shape), cache)
    assert all(np.all(np.isfinite(g)) for g in grads)
    assert grads[2][0] == 0.0  # beta ~ exp(-800) = 0: the strength's gradient underflows to exactly 0


# ------------------------------------------------------------------------------------------ PyTorch oracle


def _torch_compare(torch, our_fwd, our_bwd, torch_fn, inputs, seed=1):
    """Run both; compare outputs and the gradients of sum(out_i * dout_i) over every input."""
    outs_and_cache = our_fwd(*inputs.values())
    outs, cache = outs_and_cache[:-1], outs_and_cache[-1]
    r = np.random.default_rng(seed)
    douts = [r.standard_normal(o.shape) for o in outs]
    grads = our_bwd(*douts, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    tins = {k: torch.tensor(v, requires_grad=True) for k, v in inputs.items()}
    touts = torch_fn(**tins)
    touts = touts if isinstance(touts, tuple) else (touts,)
    sum(((t * torch.tensor(d)).sum() for t, d in zip(touts, douts, strict=True))).backward()
    for o, t in zip(outs, touts, strict=True):
        np.testing.assert_allclose(o, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for (name, t), g in zip(tins.items(), grads, strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"d{name}")


@pytest.mark.oracle
def test_position_attention_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    mask = _padding_mask()

    def ref(E, mu, sigma):
        j = torch.arange(E.shape[1], dtype=E.dtype)
        u = -((j[None] - mu[:, None]) ** 2) / (2 * sigma[:, None] ** 2)
        a = torch.softmax(u.masked_fill(~torch.tensor(mask), -torch.inf), dim=1)
        return torch.einsum("nt,nth->nh", a, E), a

    fwd = functools.partial(position_attention_forward, mask=mask)
    inputs = {
        "E": rng.standard_normal((N, T, H)),
        "mu": np.array([1.3, 1.4, 0.2]),
        "sigma": np.array([0.8, 1.5, 2.0]),
    }
    _torch_compare(torch, fwd, position_attention_backward, ref, inputs)


@pytest.mark.oracle
def test_dot_attention_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    mask = _padding_mask()

    def ref(E, d):
        u = torch.einsum("nth,nh->nt", E, d)
        a = torch.softmax(u.masked_fill(~torch.tensor(mask), -torch.inf), dim=1)
        return torch.einsum("nt,nth->nh", a, E), a

    _torch_compare(
        torch,
        functools.partial(dot_attention_forward, mask=mask),
        dot_attention_backward,
        ref,
        {"E": rng.standard_normal((N, T, H)), "d": rng.standard_normal((N, H))},
    )


@pytest.mark.oracle
def test_additive_attention_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    mask = _padding_mask()

    def ref(E, d, W1, W2, v):
        u = torch.tanh(E @ W1 + (d @ W2)[:, None, :]) @ v
        a = torch.softmax(u.masked_fill(~torch.tensor(mask), -torch.inf), dim=1)
        return torch.einsum("nt,nth->nh", a, E), a

    fwd = functools.partial(additive_attention_forward, mask=mask)
    _torch_compare(torch, fwd, additive_attention_backward, ref, _additive_inputs(rng))


@pytest.mark.oracle
def test_self_attention_matches_pytorch_scaled_dot_product_attention(rng):
    torch = pytest.importorskip("torch")
    key_mask = _padding_mask()
    keep = torch.tensor(self_attention_mask(key_mask, causal=True))

    def ref(X, Wq, Wk, Wv):
        Q, K, V = X @ Wq, X @ Wk, X @ Wv
        out = torch.nn.functional.scaled_dot_product_attention(Q, K, V, attn_mask=keep)
        A = torch.softmax((Q @ K.transpose(1, 2) / Q.shape[-1] ** 0.5).masked_fill(~keep, -torch.inf), dim=-1)
        return out, A

    _torch_compare(
        torch,
        functools.partial(self_attention_forward, key_mask=key_mask, causal=True),
        self_attention_backward,
        ref,
        _self_inputs(rng),
    )


@pytest.mark.oracle
def test_ntm_content_addressing_matches_pytorch(rng):
    torch = pytest.importorskip("torch")

    def ref(M, k, beta_hat):
        eps = 1e-8
        cos = torch.einsum("nrd,nd->nr", M, k) / (
            torch.sqrt((k * k).sum(1) + eps)[:, None] * torch.sqrt((M * M).sum(2) + eps)
        )
        return torch.softmax(torch.nn.functional.softplus(beta_hat)[:, None] * cos, dim=1)

    _torch_compare(
        torch,
        ntm_content_addressing_forward,
        ntm_content_addressing_backward,
        ref,
        {
            "M": rng.standard_normal((N, 5, H)),
            "k": rng.standard_normal((N, H)),
            "beta_hat": np.array([1.0, 2.0, 3.0]),
        },
    )
