"""Tests for course/layers/lstm.py: the LSTM step pair, the teaching and the fast sequence pair (and that
they are equal), initialisation and the module."""

import warnings

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.layers.lstm import (
    LSTM,
    lstm_backward,
    lstm_backward_fast,
    lstm_forward,
    lstm_forward_fast,
    lstm_init,
    lstm_step_backward,
    lstm_step_forward,
)

# Gradient checks: float64, relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL), with a seeded random
# upstream gradient on every output (every time step, and the final cell where it is returned).
# The seeds are ones whose gradients have no near-cancelling entry: on an entry of size 1e-5 the
# relative error measures finite-difference round-off (~1e-6), not a wrong formula (seed 1 of the
# sequence check has such an entry in dWh; a wrong term gives errors of order 1).


def _params(N=3, T=5, D=4, H=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    p = {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, 4 * H)) * 0.5,
        "Wh": rng.standard_normal((H, 4 * H)) * 0.5,
        "b": rng.standard_normal(4 * H) * 0.5,
    }
    return {k: v.astype(dtype) for k, v in p.items()}


def _c0(p, seed):
    return np.random.default_rng(seed + 100).standard_normal(p["h0"].shape).astype(p["h0"].dtype)


PAIRS = {
    "teaching": (lstm_forward, lstm_backward),
    "fast": (lstm_forward_fast, lstm_backward_fast),
}


def _with_state(pair):
    forward, backward = PAIRS[pair]

    def forward_with_state(x, h0, c0, Wx, Wh, b):
        return forward(x, h0, Wx, Wh, b, c0=c0, return_state=True)

    def backward_with_state(dh, dcT, cache):
        return backward(dh, cache, dcT=dcT, return_state=True)

    return forward_with_state, backward_with_state


def test_lstm_step_forward_with_zero_weights_is_driven_by_the_biases():
    H = 2
    b = np.array([0.0, 0.0, 1.0, 1.0, -1.0, -1.0, 0.5, 0.5])  # a_i = 0, a_f = 1, a_o = -1, a_g = 0.5
    prev_c = np.array([[2.0, -2.0]])
    next_h, next_c, _ = lstm_step_forward(
        np.ones((1, 3)), np.ones((1, H)), prev_c, np.zeros((3, 4 * H)), np.zeros((H, 4 * H)), b
    )
    sig = lambda a: 1 / (1 + np.exp(-a))
    expected_c = sig(1.0) * prev_c + sig(0.0) * np.tanh(0.5)
    np.testing.assert_allclose(next_c, expected_c, rtol=1e-12)
    np.testing.assert_allclose(next_h, sig(-1.0) * np.tanh(expected_c), rtol=1e-12)


@pytest.mark.parametrize("seed", [1, 5, 9])
def test_lstm_step_backward_matches_central_difference_on_h_and_c(seed):
    p = _params(seed=seed)
    inputs = {
        "x": p["x"][:, 0].copy(),
        "prev_h": p["h0"],
        "prev_c": _c0(p, seed),
        "Wx": p["Wx"],
        "Wh": p["Wh"],
        "b": p["b"],
    }
    check_pair(lstm_step_forward, lstm_step_backward, inputs, seed=seed)


@pytest.mark.parametrize("pair,seed", [("teaching", 0), ("teaching", 2), ("teaching", 6), ("fast", 0)])
def test_lstm_backward_matches_central_difference_with_gradient_on_every_step(pair, seed):
    check_pair(*PAIRS[pair], _params(seed=seed), seed=seed)


@pytest.mark.parametrize("pair,seed", [("teaching", 2), ("teaching", 4), ("teaching", 6), ("fast", 2)])
def test_lstm_backward_with_state_matches_central_difference_on_c0_and_final_cell(pair, seed):
    p = _params(seed=seed)
    inputs = {"x": p["x"], "h0": p["h0"], "c0": _c0(p, seed), "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}
    check_pair(*_with_state(pair), inputs, seed=seed)


def test_lstm_forward_is_the_step_forward_in_a_loop():
    p = _params(seed=3)
    c0 = _c0(p, 3)
    h, cT, _ = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=c0, return_state=True)
    prev_h, prev_c = p["h0"], c0
    for t in range(p["x"].shape[1]):
        prev_h, prev_c, _ = lstm_step_forward(p["x"][:, t], prev_h, prev_c, p["Wx"], p["Wh"], p["b"])
        np.testing.assert_array_equal(h[:, t], prev_h, err_msg=f"h at step {t}")
    np.testing.assert_array_equal(cT, prev_c)


# The fast pair against the teaching pair: every output and every gradient, on shapes that include
# N = 1, T = 1 and H = 1. Tolerances: float64 rtol = atol = 1e-12 (the two differ only by round-off:
# the fast pair's gates come from one exp with folded signs and its weight gradients from one GEMM
# over all steps instead of a sum of T products; measured differences are below 1e-15); float32
# rtol = 2e-5 with atol = 2e-5 on values and 2e-4 on gradients (sums of T N products in single precision).
FAST_TOLERANCES = [(np.float64, 1e-12, 1e-12, 1e-12), (np.float32, 2e-5, 2e-5, 2e-4)]
SHAPES = [(4, 7, 5, 6), (1, 3, 2, 1), (5, 1, 3, 4), (3, 20, 4, 5)]


@pytest.mark.parametrize("dtype,rtol,atol,grad_atol", FAST_TOLERANCES)
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_fast_lstm_pair_equals_the_teaching_pair_with_state(dtype, rtol, atol, grad_atol, N, T, D, H):
    p = _params(N=N, T=T, D=D, H=H, seed=3, dtype=dtype)
    c0 = _c0(p, 3)
    args = (p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    h, cT, cache = lstm_forward_fast(*args, c0=c0, return_state=True)
    h_ref, cT_ref, cache_ref = lstm_forward(*args, c0=c0, return_state=True)
    assert h.dtype == cT.dtype == dtype
    np.testing.assert_allclose(h, h_ref, rtol=rtol, atol=atol, err_msg="h")
    np.testing.assert_allclose(cT, cT_ref, rtol=rtol, atol=atol, err_msg="c_T")
    rng = np.random.default_rng(7)
    dh = rng.standard_normal(h.shape).astype(dtype)
    dcT = rng.standard_normal(cT.shape).astype(dtype)
    grads = lstm_backward_fast(dh, cache, dcT=dcT, return_state=True)
    ref = lstm_backward(dh, cache_ref, dcT=dcT, return_state=True)
    for name, g, r in zip(["dx", "dh0", "dc0", "dWx", "dWh", "db"], grads, ref, strict=True):
        assert g.dtype == dtype, name
        np.testing.assert_allclose(g, r, rtol=rtol, atol=grad_atol, err_msg=name)


@pytest.mark.parametrize("dtype,rtol,atol,grad_atol", FAST_TOLERANCES)
def test_fast_lstm_pair_equals_the_teaching_pair_from_a_zero_cell(dtype, rtol, atol, grad_atol):
    p = _params(N=4, T=6, D=3, H=5, seed=11, dtype=dtype)
    h, cache = lstm_forward_fast(**p)
    h_ref, cache_ref = lstm_forward(**p)
    np.testing.assert_allclose(h, h_ref, rtol=rtol, atol=atol, err_msg="h")
    dh = np.random.default_rng(12).standard_normal(h.shape).astype(dtype)
    grads, ref = lstm_backward_fast(dh, cache), lstm_backward(dh, cache_ref)
    for name, g, r in zip(["dx", "dh0", "dWx", "dWh", "db"], grads, ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=rtol, atol=grad_atol, err_msg=name)


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_lstm_forward_without_c0_starts_from_a_zero_cell(pair):
    forward, backward = PAIRS[pair]
    p = _params(seed=4)
    h, _ = forward(**p)
    h_zero, _, _ = lstm_forward(
        p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=np.zeros((3, 3)), return_state=True
    )
    np.testing.assert_allclose(h, h_zero, rtol=1e-12, atol=1e-14)
    dx, dh0, dWx, dWh, db = backward(np.ones_like(h), forward(**p)[1])
    assert dx.shape == p["x"].shape and dh0.shape == p["h0"].shape and dWh.shape == p["Wh"].shape


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_lstm_backward_leaves_the_upstream_gradients_unchanged_for_a_single_sequence(pair):
    # with N = 1 the time-major view of dh is contiguous: the fast pair must still not write into it
    p = _params(N=1, seed=2)
    c0 = _c0(p, 2)
    forward, backward = _with_state(pair)
    h, cT, cache = forward(p["x"], p["h0"], c0, p["Wx"], p["Wh"], p["b"])
    rng = np.random.default_rng(0)
    dh, dcT = rng.standard_normal(h.shape), rng.standard_normal(cT.shape)
    dh_before, dcT_before = dh.copy(), dcT.copy()
    backward(dh, dcT, cache)
    np.testing.assert_array_equal(dh, dh_before)
    np.testing.assert_array_equal(dcT, dcT_before)


def test_teaching_lstm_backward_can_run_twice_on_one_cache_with_equal_results():
    p = _params(seed=5)
    c0 = _c0(p, 5)
    h, cT, cache = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=c0, return_state=True)
    rng = np.random.default_rng(1)
    dh, dcT = rng.standard_normal(h.shape), rng.standard_normal(cT.shape)
    first = lstm_backward(dh, cache, dcT=dcT, return_state=True)
    second = lstm_backward(dh, cache, dcT=dcT, return_state=True)
    for name, a, b in zip(["dx", "dh0", "dc0", "dWx", "dWh", "db"], first, second, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_lstm_saturated_gates_give_finite_outputs_without_overflow_warnings(pair):
    forward, backward = PAIRS[pair]
    p = _params(seed=0, dtype=np.float32)
    p["x"] *= 1e4  # pre-activations of +-1e4: the gates saturate at exactly 0 or 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, cache = forward(**p)
        grads = backward(np.ones_like(h), cache)
    assert np.all(np.isfinite(h)) and np.all(np.abs(h) <= 1)
    assert all(np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_lstm_preserves_float32(pair):
    forward, backward = PAIRS[pair]
    p = _params(dtype=np.float32)
    h, cache = forward(**p)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in backward(np.ones_like(h), cache))


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_lstm_rejects_mismatched_shapes_naming_the_argument(pair):
    forward, backward = PAIRS[pair]
    name = forward.__name__
    p = _params()
    expected = name + r": Wh must have shape \(H, 12\) = \(3, 12\), got \(3, 9\)"
    with pytest.raises(ValueError, match=expected):
        forward(p["x"], p["h0"], p["Wx"], np.zeros((3, 9)), p["b"])
    with pytest.raises(ValueError, match=name + r": c0 must have shape \(N, H\) = \(3, 3\)"):
        forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=np.zeros((2, 3)))
    h, cache = forward(**p)
    with pytest.raises(ValueError, match=backward.__name__ + r": dh must have shape"):
        backward(h[:, 1:], cache)
    with pytest.raises(ValueError, match=backward.__name__ + r": dcT must have shape"):
        backward(h, cache, dcT=np.zeros((3, 2)))


def test_lstm_step_rejects_mismatched_shapes_naming_the_argument():
    p = _params()
    with pytest.raises(ValueError, match=r"lstm_step_forward: b must have shape \(12,\)"):
        lstm_step_forward(p["x"][:, 0], p["h0"], p["h0"], p["Wx"], p["Wh"], np.zeros(9))
    _, _, cache = lstm_step_forward(p["x"][:, 0], p["h0"], p["h0"], p["Wx"], p["Wh"], p["b"])
    ones = np.ones(p["h0"].shape)
    with pytest.raises(
        ValueError, match=r"lstm_step_backward: dnext_c must have shape \(3, 3\), got \(3, 2\)"
    ):
        lstm_step_backward(ones, ones[:, 1:], cache)


def test_lstm_init_sets_the_forget_bias_and_orthogonal_gate_blocks():
    H = 5
    Wx, Wh, b = lstm_init(3, H, np.random.default_rng(0), forget_bias=1.0, dtype=np.float64)
    np.testing.assert_array_equal(b[H : 2 * H], 1.0)
    np.testing.assert_array_equal(np.delete(b, np.s_[H : 2 * H]), 0.0)
    for k in range(4):
        block = Wh[:, k * H : (k + 1) * H]
        np.testing.assert_allclose(block.T @ block, np.eye(H), atol=1e-12)
    # with zero input and state the forget gate opens to sigmoid(1) ~ 0.73: the cell keeps most of itself
    _, next_c, _ = lstm_step_forward(np.zeros((1, 3)), np.zeros((1, H)), np.ones((1, H)), Wx, Wh, b)
    np.testing.assert_allclose(next_c, 1 / (1 + np.exp(-1.0)), rtol=1e-12)


def test_lstm_module_passes_check_module_and_chunks_equal_the_whole_sequence():
    layer = LSTM(4, 3, rng=np.random.default_rng(1), dtype=np.float64)
    layer.params["b"][...] += np.random.default_rng(2).standard_normal(12) * 0.5
    x = np.random.default_rng(3).standard_normal((2, 6, 4))
    errors = check_module(layer, x)
    assert set(errors) == {"x", "Wx", "Wh", "b"}
    h = layer.forward(x)
    h1 = layer.forward(x[:, :4])
    h2 = layer.forward(x[:, 4:], layer.final_state)  # truncated BPTT carries (h, c) across chunks
    np.testing.assert_allclose(np.concatenate([h1, h2], axis=1), h, rtol=1e-12)


def _torch_lstm_from_ours(torch, p):
    """A torch.nn.LSTM holding our weights: ours are (D, 4H) in the order i, f, o, g; torch's are
    (4H, D) in the order i, f, g, o, and it has two bias vectors (we put ours in b_ih, zero in b_hh)."""
    D, H = p["Wx"].shape[0], p["Wh"].shape[0]
    order = np.concatenate([np.arange(0, 2 * H), np.arange(3 * H, 4 * H), np.arange(2 * H, 3 * H)])
    lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor(p["Wx"][:, order].T))
        lstm.weight_hh_l0.copy_(torch.tensor(p["Wh"][:, order].T))
        lstm.bias_ih_l0.copy_(torch.tensor(p["b"][order]))
        lstm.bias_hh_l0.zero_()
    return lstm, order


@pytest.mark.oracle
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_lstm_matches_torch_nn_lstm_values_and_gradients(pair):
    torch = pytest.importorskip("torch")
    forward, backward = _with_state(pair)
    p = _params(N=3, T=6, D=4, H=5, seed=8)
    c0 = _c0(p, 8)
    h, cT, cache = forward(p["x"], p["h0"], c0, p["Wx"], p["Wh"], p["b"])
    rng = np.random.default_rng(9)
    dh, dcT = rng.standard_normal(h.shape), rng.standard_normal(cT.shape)
    dx, dh0, dc0, dWx, dWh, db = backward(dh, dcT, cache)

    lstm, order = _torch_lstm_from_ours(torch, p)
    xt = torch.tensor(p["x"], requires_grad=True)
    h0t = torch.tensor(p["h0"][None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True)
    out, (_, cTt) = lstm(xt, (h0t, c0t))
    torch.autograd.backward([out, cTt], [torch.tensor(dh), torch.tensor(dcT[None])])
    tol = {"rtol": 1e-9, "atol": 1e-12}
    np.testing.assert_allclose(h, out.detach().numpy(), **tol)
    np.testing.assert_allclose(cT, cTt.detach().numpy()[0], **tol)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **tol)
    np.testing.assert_allclose(dh0, h0t.grad.numpy()[0], **tol)
    np.testing.assert_allclose(dc0, c0t.grad.numpy()[0], **tol)
    np.testing.assert_allclose(dWx[:, order], lstm.weight_ih_l0.grad.numpy().T, **tol)
    np.testing.assert_allclose(dWh[:, order], lstm.weight_hh_l0.grad.numpy().T, **tol)
    np.testing.assert_allclose(db[order], lstm.bias_ih_l0.grad.numpy(), **tol)


def test_fast_lstm_backward_consumes_its_cache_and_refuses_a_second_pass():
    # lstm_backward_fast writes the gate gradients over the cached gates (no second (T, N, 4H) buffer)
    p = _params(seed=1)
    h, cache = lstm_forward_fast(**p)
    dh = np.ones_like(h)
    with pytest.raises(ValueError, match="lstm_backward_fast: dh must have shape"):
        lstm_backward_fast(dh[:, 1:], cache)  # a rejected call leaves the cache usable
    first = lstm_backward_fast(dh, cache)
    with pytest.raises(RuntimeError, match="already used by a backward pass"):
        lstm_backward_fast(dh, cache)
    again = lstm_backward_fast(dh, lstm_forward_fast(**p)[1])
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
