"""Residual block: relu(x + conv(relu(conv(x)))) forward, gradients through both paths backward."""

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair, rel_error
from course.layers.convolution import conv_naive_forward
from course.layers.residual import ResidualBlock, residual_block_backward, residual_block_forward

pytestmark = pytest.mark.a05


def _data(N=2, C=3, H=5, W=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w1, w2 = (0.3 * rng.standard_normal((2, C, C, 3, 3))).astype(dtype)
    b1, b2 = (0.1 * rng.standard_normal((2, C))).astype(dtype)
    return x, w1, b1, w2, b2


def test_residual_block_forward_equals_relu_of_input_plus_two_naive_convolutions():
    x, w1, b1, w2, b2 = _data()
    h = np.maximum(conv_naive_forward(x, w1, b1, 1, 1)[0], 0)
    expected = np.maximum(x + conv_naive_forward(h, w2, b2, 1, 1)[0], 0)
    out, _ = residual_block_forward(x, w1, b1, w2, b2)
    assert out.shape == x.shape
    assert rel_error(out, expected) < 1e-12


def test_residual_block_with_zero_weights_is_relu_of_the_identity():
    x, w1, b1, w2, b2 = _data()
    zero = [np.zeros_like(a) for a in (w1, b1, w2, b2)]
    out, cache = residual_block_forward(x, *zero)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    dout = np.ones_like(x)
    dx = residual_block_backward(dout, cache)[0]
    np.testing.assert_array_equal(dx, (x > 0).astype(float))  # only the skip carries gradient


def test_residual_block_backward_matches_central_difference_on_x_and_all_weights():
    inputs = dict(zip(["x", "w1", "b1", "w2", "b2"], _data(seed=1), strict=True))
    check_pair(residual_block_forward, residual_block_backward, inputs)


def test_residual_block_module_gradients_match_central_difference():
    block = ResidualBlock(2, rng=0, dtype=np.float64)
    check_module(block, np.random.default_rng(2).standard_normal((2, 2, 4, 4)))
    names = [name for name, _, _ in block.parameters()]
    assert names == ["conv1.w", "conv1.b", "conv2.w", "conv2.b"]


def test_residual_block_preserves_float32():
    args = _data(dtype=np.float32)
    out, cache = residual_block_forward(*args)
    grads = residual_block_backward(np.ones_like(out), cache)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize(
    "index, bad, message",
    [
        (1, np.zeros((3, 3, 5, 5)), "w1 must have shape (C, C, 3, 3) = (3, 3, 3, 3), got (3, 3, 5, 5)"),
        (1, np.zeros((4, 3, 3, 3)), "w1 must have shape (C, C, 3, 3) = (3, 3, 3, 3), got (4, 3, 3, 3)"),
        (4, np.zeros(2), "b2 must have shape (C,) = (3,), got (2,)"),
    ],
)
def test_residual_block_errors_name_the_argument(index, bad, message):
    args = list(_data())
    args[index] = bad
    with pytest.raises(ValueError) as err:
        residual_block_forward(*args)
    assert message in str(err.value)


@pytest.mark.oracle
def test_residual_block_matches_torch_forward_and_gradients():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    args = _data(N=3, C=4, H=6, W=7, seed=3)
    xt, w1t, b1t, w2t, b2t = (torch.tensor(a, requires_grad=True) for a in args)
    out_t = F.relu(xt + F.conv2d(F.relu(F.conv2d(xt, w1t, b1t, padding=1)), w2t, b2t, padding=1))
    dout = np.random.default_rng(4).standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(dout))
    out, cache = residual_block_forward(*args)
    assert rel_error(out, out_t.detach().numpy()) < 1e-10
    grads = residual_block_backward(dout, cache)
    for name, g, t in zip(["x", "w1", "b1", "w2", "b2"], grads, (xt, w1t, b1t, w2t, b2t), strict=True):
        assert rel_error(g, t.grad.numpy()) < 1e-10, f"d{name} differs from torch"
