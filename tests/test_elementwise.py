"""Tests for course/layers/elementwise.py: add and multiply with broadcasting, and unbroadcast."""

import numpy as np
import pytest

from course.core.gradcheck import check_pair
from course.layers.elementwise import (
    add_backward,
    add_forward,
    multiply_backward,
    multiply_forward,
    unbroadcast,
)

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).
# (x shape, y shape): same shape, a bias row, a column against a row, a scalar, a missing leading axis.
BROADCASTS = [((3, 4), (3, 4)), ((4, 3), (3,)), ((2, 1, 4), (3, 1)), ((5,), ()), ((2, 3), (1, 1, 3))]
PAIRS = {"add": (add_forward, add_backward), "multiply": (multiply_forward, multiply_backward)}


def _pair(x_shape, y_shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(x_shape), rng.standard_normal(y_shape)


@pytest.mark.parametrize(
    "shape,expected",
    [((3, 1), [[12.0], [12.0], [12.0]]), ((1, 4), [[9.0] * 4]), ((4,), [9.0] * 4), ((), 36.0)],
)
def test_unbroadcast_sums_over_added_and_stretched_axes(shape, expected):
    grad = np.ones((3, 3, 4))  # as if an input of `shape` had been broadcast to (3, 3, 4)
    out = unbroadcast(grad, shape)
    assert out.shape == shape
    np.testing.assert_array_equal(out, expected)


def test_unbroadcast_leaves_an_unbroadcast_gradient_alone():
    grad = np.random.default_rng(0).standard_normal((2, 3))
    np.testing.assert_array_equal(unbroadcast(grad, (2, 3)), grad)


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("x_shape,y_shape", BROADCASTS)
def test_elementwise_backward_matches_central_difference_with_broadcasting(name, x_shape, y_shape):
    x, y = _pair(x_shape, y_shape)
    forward, backward = PAIRS[name]
    errors = check_pair(forward, backward, {"x": x, "y": y})
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize("name", PAIRS)
def test_elementwise_forward_values(name):
    x, y = _pair((4, 3), (3,))
    out, _ = PAIRS[name][0](x, y)
    np.testing.assert_array_equal(out, x + y if name == "add" else x * y)


def test_multiply_of_an_array_with_itself_needs_both_gradients_added():
    # x * x uses x twice: its gradient is dx + dy = 2 x dout, not either term alone
    x = np.random.default_rng(1).standard_normal((3, 2))

    def square_forward(x):
        return multiply_forward(x, x)

    def square_backward(dout, cache):
        dx, dy = multiply_backward(dout, cache)
        return dx + dy

    errors = check_pair(square_forward, square_backward, {"x": x})
    assert errors["x"] < 1e-7


def test_elementwise_preserves_float32():
    x, y = (a.astype(np.float32) for a in _pair((4, 3), (3,)))
    for forward, backward in PAIRS.values():
        out, cache = forward(x, y)
        assert out.dtype == np.float32
        assert all(g.dtype == np.float32 for g in backward(np.ones_like(out), cache))


def test_elementwise_rejects_shapes_that_do_not_broadcast_naming_x_and_y():
    x, y = _pair((4, 3), (4,))
    with pytest.raises(
        ValueError, match=r"add_forward: x and y must have broadcastable shapes, got x \(4, 3\)"
    ):
        add_forward(x, y)
    with pytest.raises(ValueError, match=r"multiply_forward: x and y must have broadcastable shapes"):
        multiply_forward(x, y)
    _, cache = add_forward(x, x)
    with pytest.raises(ValueError, match=r"add_backward: dout must have shape \(4, 3\), got \(3, 4\)"):
        add_backward(np.zeros((3, 4)), cache)


@pytest.mark.oracle
@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("x_shape,y_shape", BROADCASTS)
def test_elementwise_matches_torch_autograd(name, x_shape, y_shape):
    torch = pytest.importorskip("torch")
    x, y = _pair(x_shape, y_shape, seed=2)
    forward, backward = PAIRS[name]
    out, cache = forward(x, y)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx, dy = backward(dout, cache)
    xt, yt = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    out_t = xt + yt if name == "add" else xt * yt
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dy, yt.grad.numpy(), rtol=1e-12, atol=1e-15)
