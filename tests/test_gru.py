"""Tests for course/layers/gru.py: the GRU step pair, the sequence pair and the module."""

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.layers.gru import GRU, gru_backward, gru_forward, gru_init, gru_step_backward, gru_step_forward

# Gradient checks: float64, relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL), upstream gradient on
# every time step. Seeds without near-cancelling gradient entries (where the relative error would
# measure round-off, not the formula; seed 4 of the sequence check has one, at 1e-6).


def _params(N=3, T=5, D=4, H=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    p = {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, 3 * H)) * 0.5,
        "Wh": rng.standard_normal((H, 3 * H)) * 0.5,
        "b": rng.standard_normal(3 * H) * 0.5,
    }
    return {k: v.astype(dtype) for k, v in p.items()}


def _sig(a):
    return 1 / (1 + np.exp(-a))


def test_gru_step_forward_matches_the_gate_equations():
    p = _params(seed=2)
    x, h = p["x"][:, 0], p["h0"]
    Wx, Wh, b, H = p["Wx"], p["Wh"], p["b"], 3
    r = _sig(x @ Wx[:, :H] + h @ Wh[:, :H] + b[:H])
    z = _sig(x @ Wx[:, H : 2 * H] + h @ Wh[:, H : 2 * H] + b[H : 2 * H])
    n = np.tanh(x @ Wx[:, 2 * H :] + (r * h) @ Wh[:, 2 * H :] + b[2 * H :])
    next_h, _ = gru_step_forward(x, h, Wx, Wh, b)
    np.testing.assert_allclose(next_h, z * h + (1 - z) * n, rtol=1e-12)


def test_gru_with_update_gate_shut_copies_the_state():
    # b_z = +50 makes z = 1: next_h = prev_h exactly, whatever the input (the additive path)
    p = _params(seed=0)
    b = np.zeros(9)
    b[3:6] = 50.0
    next_h, _ = gru_step_forward(p["x"][:, 0], p["h0"], p["Wx"] * 0, p["Wh"] * 0, b)
    np.testing.assert_allclose(next_h, p["h0"], rtol=1e-12)


def test_gru_saturated_gates_give_finite_outputs_without_overflow_warnings():
    # pre-activations of +-1e4: exp(1e4) overflows float64, so the gates must come from the overflow-safe
    # sigmoid_forward (and the run fails on any RuntimeWarning from course.*, see pyproject.toml)
    p = _params(seed=3)
    p["x"] *= 1e4
    h, cache = gru_forward(**p)
    grads = gru_backward(np.ones_like(h), cache)
    assert np.all(np.isfinite(h)) and np.all(np.abs(h) <= np.abs(p["h0"]).max() + 1)
    assert all(np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize("seed", [1, 4, 9])
def test_gru_step_backward_matches_central_difference(seed):
    p = _params(seed=seed)
    inputs = {"x": p["x"][:, 0].copy(), "prev_h": p["h0"], "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}
    check_pair(gru_step_forward, gru_step_backward, inputs, seed=seed)


@pytest.mark.parametrize("seed", [1, 2, 9])
def test_gru_backward_matches_central_difference_with_gradient_on_every_step(seed):
    check_pair(gru_forward, gru_backward, _params(seed=seed), seed=seed)


def test_gru_preserves_float32_and_rejects_bad_shapes():
    p = _params(dtype=np.float32)
    h, cache = gru_forward(**p)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in gru_backward(np.ones_like(h), cache))
    expected = r"gru_forward: Wh must have shape \(H, 9\) = \(3, 9\), got \(3, 12\)"
    with pytest.raises(ValueError, match=expected):
        gru_forward(p["x"], p["h0"], p["Wx"], np.zeros((3, 12), np.float32), p["b"])
    with pytest.raises(ValueError, match=r"gru_backward: dh must have shape \(3, 5, 3\), got \(3, 4, 3\)"):
        gru_backward(np.ones_like(h)[:, 1:], cache)
    with pytest.raises(
        ValueError, match=r"gru_step_backward: dnext_h must have shape \(3, 3\), got \(3, 2\)"
    ):
        gru_step_backward(np.ones((3, 2), np.float32), cache[0])


def test_gru_init_shapes_and_orthogonal_blocks():
    Wx, Wh, b = gru_init(4, 5, np.random.default_rng(0), dtype=np.float64)
    assert Wx.shape == (4, 15) and Wh.shape == (5, 15) and b.shape == (15,)
    for k in range(3):
        block = Wh[:, 5 * k : 5 * (k + 1)]
        np.testing.assert_allclose(block.T @ block, np.eye(5), atol=1e-12)


def test_gru_module_passes_check_module():
    layer = GRU(4, 3, rng=np.random.default_rng(1), dtype=np.float64)
    layer.params["b"][...] = np.random.default_rng(2).standard_normal(9) * 0.5
    x = np.random.default_rng(3).standard_normal((2, 4, 4))
    errors = check_module(layer, x)
    assert set(errors) == {"x", "Wx", "Wh", "b"}


@pytest.mark.oracle
def test_gru_matches_torch_autograd_of_the_same_equations():
    # torch.nn.GRU puts r after the product (r * (h W_hn + b_hn)); ours is r * h before W_hn, so the
    # reference is built from elementary torch operations and differentiated by autograd.
    torch = pytest.importorskip("torch")
    p = _params(N=2, T=4, D=3, H=4, seed=5)
    h, cache = gru_forward(**p)
    dh = np.random.default_rng(6).standard_normal(h.shape)
    grads = gru_backward(dh, cache)

    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    H = 4
    prev, outs = t["h0"], []
    for step in range(p["x"].shape[1]):
        ax = t["x"][:, step] @ t["Wx"] + t["b"]
        r = torch.sigmoid(ax[:, :H] + prev @ t["Wh"][:, :H])
        z = torch.sigmoid(ax[:, H : 2 * H] + prev @ t["Wh"][:, H : 2 * H])
        n = torch.tanh(ax[:, 2 * H :] + (r * prev) @ t["Wh"][:, 2 * H :])
        prev = z * prev + (1 - z) * n
        outs.append(prev)
    out = torch.stack(outs, dim=1)
    out.backward(torch.tensor(dh))
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for name, g in zip(["x", "h0", "Wx", "Wh", "b"], grads, strict=True):
        np.testing.assert_allclose(g, t[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
