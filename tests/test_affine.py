"""Tests for course/layers/affine.py: out = x W + b and its backward pass."""

import inspect

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.layers.affine import (
    Linear,
    affine_backward,
    affine_backward_fast,
    affine_forward,
    affine_forward_fast,
)

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).
SHAPES = [((4, 5), 3), ((3, 2, 4), 6), ((1, 7), 1)]  # (x shape, M): flattened D = prod(x.shape[1:])


def _inputs(x_shape, m, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    d = int(np.prod(x_shape[1:]))
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((d, m)).astype(dtype)
    b = rng.standard_normal(m).astype(dtype)
    return x, w, b


def test_affine_forward_matches_hand_computed_values():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    b = np.array([0.1, 0.2, 0.3])
    out, _ = affine_forward(x, w, b)
    expected = np.array([[2.1, 4.2, 1.3], [5.1, 8.2, 1.3]])
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_affine_forward_flattens_each_example():
    x, w, b = _inputs((3, 2, 4), 5)
    out, _ = affine_forward(x, w, b)
    np.testing.assert_allclose(out, x.reshape(3, 8) @ w + b, rtol=1e-12)
    assert out.shape == (3, 5)


@pytest.mark.parametrize("x_shape,m", SHAPES)
def test_affine_backward_matches_central_difference_on_x_w_b(x_shape, m):
    # seed 1: with seed 0 one dw entry is a near-cancelling sum (1.7e-5), where the *relative* error
    # measures round-off (2e-7), not a wrong formula; O(1) gradients keep the 1e-7 threshold meaningful.
    x, w, b = _inputs(x_shape, m, seed=1)
    errors = check_pair(affine_forward, affine_backward, {"x": x, "w": w, "b": b})
    assert max(errors.values()) < 1e-7


def test_affine_backward_returns_dx_in_the_original_shape():
    x, w, b = _inputs((3, 2, 4), 6)
    out, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape


def test_teaching_affine_backward_takes_only_dout_and_cache():
    # the notebook's answer cell has this signature; skipping dx belongs to affine_backward_fast
    assert list(inspect.signature(affine_backward).parameters) == ["dout", "cache"]
    assert "need_dx" in inspect.signature(affine_backward_fast).parameters


def test_affine_preserves_float32():
    x, w, b = _inputs((5, 4), 3, dtype=np.float32)
    out, cache = affine_forward(x, w, b)
    grads = affine_backward(np.ones_like(out), cache)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


def test_affine_forward_rejects_weights_of_the_wrong_shape_naming_w():
    x, w, b = _inputs((4, 5), 3)
    expected = r"affine_forward: w must have shape \(D, M\) = \(5, \*\), got \(6, 3\)"
    with pytest.raises(ValueError, match=expected):
        affine_forward(x, np.zeros((6, 3)), b)
    with pytest.raises(ValueError, match=r"affine_forward: b must have shape"):
        affine_forward(x, w, np.zeros(4))
    with pytest.raises(ValueError, match=r"affine_backward: dout must have shape"):
        affine_backward(np.zeros((4, 2)), affine_forward(x, w, b)[1])


@pytest.mark.parametrize("init", ["he", "glorot"])
def test_linear_module_passes_check_module(init):
    layer = Linear(6, 4, rng=np.random.default_rng(1), dtype=np.float64, init=init)
    layer.params["b"][...] = np.random.default_rng(2).standard_normal(4)  # non-zero, unlike the init
    x = np.random.default_rng(3).standard_normal((5, 6))
    errors = check_module(layer, x)
    assert set(errors) == {"x", "w", "b"}


@pytest.mark.parametrize("init,expected_std", [("he", np.sqrt(2 / 400)), ("glorot", np.sqrt(2 / 600))])
def test_linear_init_has_the_he_or_glorot_standard_deviation(init, expected_std):
    layer = Linear(400, 200, rng=0, init=init)
    assert layer.params["w"].dtype == np.float32
    assert abs(layer.params["w"].std() / expected_std - 1) < 0.02  # 80 000 draws: std error ~ 0.25%
    assert np.all(layer.params["b"] == 0)


def test_linear_with_the_same_seed_builds_the_same_weights():
    np.testing.assert_array_equal(Linear(5, 3, rng=7).params["w"], Linear(5, 3, rng=7).params["w"])
    assert not np.array_equal(Linear(5, 3, rng=7).params["w"], Linear(5, 3, rng=8).params["w"])


@pytest.mark.oracle
@pytest.mark.parametrize("x_shape,m", SHAPES)
def test_affine_matches_torch_autograd(x_shape, m):
    torch = pytest.importorskip("torch")
    x, w, b = _inputs(x_shape, m, seed=4)
    dout = np.random.default_rng(5).standard_normal((x_shape[0], m))
    out, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = xt.reshape(x_shape[0], -1) @ wt + bt
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, theirs in ((dx, xt), (dw, wt), (db, bt)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape,m", SHAPES)
def test_fast_affine_pair_equals_the_teaching_pair_bit_for_bit(x_shape, m):
    # rtol = atol = 0: the fast pair performs the same products and the same additions, only in place
    x, w, b = _inputs(x_shape, m, seed=7)
    dout = np.random.default_rng(8).standard_normal((x_shape[0], m))
    out, cache = affine_forward(x, w, b)
    out_fast, cache_fast = affine_forward_fast(x, w, b)
    np.testing.assert_array_equal(out_fast, out)
    for fast, teaching in zip(affine_backward_fast(dout, cache_fast), affine_backward(dout, cache)):
        np.testing.assert_array_equal(fast, teaching)


def test_fast_affine_backward_can_skip_dx_for_a_first_layer():
    x, w, b = _inputs((4, 5), 3)
    out, cache = affine_forward_fast(x, w, b)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    dx, dw, db = affine_backward_fast(dout, cache, need_dx=False)
    _, dw_full, db_full = affine_backward(dout, cache)
    assert dx is None
    np.testing.assert_array_equal(dw, dw_full)
    np.testing.assert_array_equal(db, db_full)
    layer = Linear(5, 3, input_grad=False)
    layer.forward(x.astype(np.float32))
    assert layer.backward(dout.astype(np.float32)) is None
    assert layer.grads["w"].any()


def test_fast_affine_pair_rejects_bad_shapes_naming_itself():
    x, w, b = _inputs((4, 5), 3)
    with pytest.raises(ValueError, match=r"affine_forward_fast: w must have shape"):
        affine_forward_fast(x, np.zeros((6, 3)), b)
    with pytest.raises(ValueError, match=r"affine_backward_fast: dout must have shape"):
        affine_backward_fast(np.zeros((4, 2)), affine_forward_fast(x, w, b)[1])


def test_linear_default_weights_are_he_normal_draws_of_its_rng():
    # bit-identical to drawing N(0, 1) from the layer's generator and scaling by sqrt(2 / fan_in)
    expected = (np.random.default_rng(7).standard_normal((5, 3)) * np.sqrt(2.0 / 5)).astype(np.float32)
    np.testing.assert_array_equal(Linear(5, 3, rng=7).params["w"], expected)
    glorot = (np.random.default_rng(7).standard_normal((5, 3)) * np.sqrt(2.0 / 8)).astype(np.float64)
    np.testing.assert_array_equal(Linear(5, 3, rng=7, init="glorot", dtype=np.float64).params["w"], glorot)


def test_linear_accepts_an_init_callable_of_rng_and_shape():
    calls = []

    def uniform(rng, shape):
        calls.append(shape)
        return rng.uniform(-0.1, 0.1, size=shape)

    layer = Linear(4, 2, rng=3, init=uniform)
    assert calls == [(4, 2)]
    assert layer.params["w"].dtype == np.float32 and layer.params["w"].shape == (4, 2)
    expected = np.random.default_rng(3).uniform(-0.1, 0.1, size=(4, 2)).astype(np.float32)
    np.testing.assert_array_equal(layer.params["w"], expected)
    with pytest.raises(ValueError, match=r"Linear: init\(rng, \(4, 2\)\) must return an array of shape"):
        Linear(4, 2, init=lambda rng, shape: np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"Linear: init must be one of \('he', 'glorot'\)"):
        Linear(4, 2, init="uniform")
