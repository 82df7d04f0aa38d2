"""Tests for course/layers/activations.py: ReLU, sigmoid and tanh pairs and modules."""

import warnings

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.layers.activations import (
    ReLU,
    Sigmoid,
    Tanh,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).
PAIRS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}
SHAPES = [(4, 5), (2, 3, 4), (7,)]


def _away_from_zero(shape, seed=0):
    """Normal values with |x| >= 0.1, so ReLU's kink at 0 is never inside the finite-difference step."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.where(np.abs(x) < 0.1, 0.1 + np.abs(x), x)


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_backward_matches_central_difference(name, shape):
    forward, backward = PAIRS[name]
    errors = check_pair(forward, backward, {"x": _away_from_zero(shape)})
    assert errors["x"] < 1e-7


def test_activation_forward_values():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(relu_forward(x)[0], [0.0, 0.0, 3.0])
    np.testing.assert_allclose(sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(tanh_forward(x)[0], np.tanh(x), rtol=1e-15)


def test_relu_backward_passes_gradient_only_where_input_was_positive():
    x = np.array([[-1.0, 0.0, 2.0]])
    _, cache = relu_forward(x)
    np.testing.assert_array_equal(relu_backward(np.array([[5.0, 5.0, 5.0]]), cache), [[0.0, 0.0, 5.0]])


def test_sigmoid_is_stable_for_inputs_of_magnitude_1e4():
    x = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4])
    for dtype in (np.float32, np.float64):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an overflow in exp would raise here
            s, cache = sigmoid_forward(x.astype(dtype))
            ds = sigmoid_backward(np.ones_like(s), cache)
        assert s.dtype == dtype and np.all(np.isfinite(s)) and np.all(np.isfinite(ds))
        assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    np.testing.assert_allclose(sigmoid_forward(np.array([-50.0]))[0], [np.exp(-50.0)], rtol=1e-12)


@pytest.mark.parametrize("name", PAIRS)
def test_activations_preserve_float32(name):
    forward, backward = PAIRS[name]
    out, cache = forward(_away_from_zero((3, 4)).astype(np.float32))
    assert out.dtype == np.float32
    assert backward(np.ones_like(out), cache).dtype == np.float32


def test_activation_backward_rejects_dout_of_the_wrong_shape_naming_dout():
    _, cache = sigmoid_forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"sigmoid_backward: dout must have shape \(2, 3\), got \(3, 2\)"):
        sigmoid_backward(np.zeros((3, 2)), cache)
    with pytest.raises(ValueError, match=r"relu_forward: x must be a float array"):
        relu_forward(np.arange(3))


@pytest.mark.parametrize("module_class", [ReLU, Sigmoid, Tanh])
def test_activation_modules_pass_check_module(module_class):
    errors = check_module(module_class(), _away_from_zero((3, 4), seed=1))
    assert list(errors) == ["x"]


@pytest.mark.oracle
@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_matches_torch_autograd(name, shape):
    torch = pytest.importorskip("torch")
    torch_fn = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[name]
    forward, backward = PAIRS[name]
    x = _away_from_zero(shape, seed=2) * 3
    dout = np.random.default_rng(3).standard_normal(shape)
    out, cache = forward(x)
    dx = backward(dout, cache)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch_fn(xt)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
