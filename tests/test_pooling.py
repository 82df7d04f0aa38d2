"""Max pooling: the maximum of each window forward, the gradient to the winner only backward; the fast pair
equals the teaching one."""

from functools import partial

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair, rel_error
from course.layers.pooling import (
    MaxPool2d,
    max_pool_backward,
    max_pool_fast_backward,
    max_pool_fast_forward,
    max_pool_forward,
)

pytestmark = pytest.mark.a05

# (N, C, H, W, size, stride): windows that tile the image (size == stride, dims divide: the fast pair's
# reshape path) and the rest, including overlapping windows (stride < size) and floored outputs.
CONFIGS = [
    (2, 3, 4, 6, 2, 2),
    (2, 2, 5, 7, 2, 2),
    (1, 2, 7, 7, 3, 2),
    (2, 2, 6, 9, 3, 3),
    (1, 3, 5, 4, 2, 1),
]


def _untied(shape, seed):
    """Distinct values (a shuffled range, scaled): no window has a tie, so max is differentiable."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 + 0.01 * rng.standard_normal(shape)


def test_max_pool_forward_takes_the_window_maximum_by_hand():
    x = np.array([[1.0, 2, 5, 0], [3, 4, 1, 1], [0, 0, 9, 8], [7, 0, 8, 6]])[None, None]
    out, _ = max_pool_forward(x, 2, 2)
    np.testing.assert_array_equal(out, [[[[4, 5], [7, 9]]]])
    out, _ = max_pool_forward(x, 3, 1)
    np.testing.assert_array_equal(out, [[[[9, 9], [9, 9]]]])


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"H{c[2]}W{c[3]}k{c[4]}s{c[5]}")
def test_max_pool_backward_matches_central_difference(config):
    N, C, H, W, size, stride = config
    x = _untied((N, C, H, W), seed=0)
    check_pair(partial(max_pool_forward, size=size, stride=stride), max_pool_backward, {"x": x})


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"H{c[2]}W{c[3]}k{c[4]}s{c[5]}")
def test_max_pool_gradient_lands_only_on_window_winners_and_sums_to_dout(config):
    N, C, H, W, size, stride = config
    x = _untied((N, C, H, W), seed=1)
    out, cache = max_pool_forward(x, size, stride)
    dout = np.random.default_rng(2).standard_normal(out.shape)
    dx = max_pool_backward(dout, cache)
    np.testing.assert_allclose(dx.sum(axis=(2, 3)), dout.sum(axis=(2, 3)))  # no gradient lost or duplicated
    assert np.all(np.isin(x[dx != 0], out))  # every pixel that got gradient is some window's maximum


def test_max_pool_tie_sends_the_gradient_to_the_first_maximum_only():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 1, 2:] = 1.0  # right window: a tie between (1, 2) and (1, 3)
    out, cache = max_pool_forward(x, 2, 2)
    dx = max_pool_backward(np.ones_like(out), cache)
    expected = np.zeros((1, 1, 2, 4))
    expected[0, 0, 0, 0] = 1.0  # left window: all zeros, the first one wins
    expected[0, 0, 1, 2] = 1.0
    np.testing.assert_array_equal(dx, expected)


def test_max_pool_preserves_float32():
    x = _untied((2, 2, 4, 4), seed=3).astype(np.float32)
    for size, stride in [(2, 2), (3, 1)]:
        out, cache = max_pool_forward(x, size, stride)
        assert out.dtype == np.float32 and max_pool_backward(np.ones_like(out), cache).dtype == np.float32


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"H{c[2]}W{c[3]}k{c[4]}s{c[5]}")
def test_max_pool_fast_pair_equals_the_teaching_pair_exactly(config):
    # Both pick the same winner (argmax over the same row-major offsets) and move values without
    # arithmetic, so they agree bit for bit, ties included (the integer input below has many).
    N, C, H, W, size, stride = config
    for x in (_untied((N, C, H, W), seed=7), np.random.default_rng(8).integers(0, 3, (N, C, H, W)) * 1.0):
        out, cache = max_pool_forward(x, size, stride)
        out_fast, cache_fast = max_pool_fast_forward(x, size, stride)
        np.testing.assert_array_equal(out_fast, out)
        np.testing.assert_array_equal(cache_fast[1], cache[1])
        dout = np.random.default_rng(9).standard_normal(out.shape)
        np.testing.assert_array_equal(
            max_pool_fast_backward(dout, cache_fast), max_pool_backward(dout, cache)
        )


def test_max_pool_fast_pair_preserves_float32():
    x = _untied((2, 2, 4, 4), seed=3).astype(np.float32)
    out, cache = max_pool_fast_forward(x, 2, 2)
    assert out.dtype == np.float32 and max_pool_fast_backward(np.ones_like(out), cache).dtype == np.float32


def test_maxpool2d_module_gradient_matches_central_difference():
    check_module(MaxPool2d(2), _untied((2, 2, 4, 6), seed=4))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x=np.zeros((2, 4, 4))), "max_pool_forward: x must have 4 dimensions, got shape (2, 4, 4)"),
        (dict(size=0), "max_pool_forward: size must be > 0"),
        (dict(stride=-1), "max_pool_forward: stride must be > 0"),
        (dict(size=5), "max_pool_forward: the 5x5 window does not fit in the 4x4 input"),
    ],
)
def test_max_pool_errors_name_the_argument(kwargs, message):
    args = dict(x=np.zeros((1, 1, 4, 4)), size=2, stride=2)
    args.update(kwargs)
    with pytest.raises(ValueError) as err:
        max_pool_forward(**args)
    assert message in str(err.value)


def test_max_pool_backward_rejects_dout_of_the_wrong_shape():
    _, cache = max_pool_forward(np.zeros((1, 1, 4, 4)), 2, 2)
    with pytest.raises(ValueError, match="max_pool_backward: dout must have shape"):
        max_pool_backward(np.zeros((1, 1, 2, 3)), cache)


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (3, 2, 7, 10), (1, 4, 9, 6)])
@pytest.mark.parametrize("size, stride", [(2, 2), (3, 2), (2, 1), (3, 3)])
def test_max_pool_matches_torch_max_pool2d_forward_and_gradient(shape, size, stride):
    torch = pytest.importorskip("torch")
    x = _untied(shape, seed=5)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(xt, size, stride)
    dout = np.random.default_rng(6).standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(dout))
    out, cache = max_pool_forward(x, size, stride)
    assert rel_error(out, out_t.detach().numpy()) == 0.0
    assert rel_error(max_pool_backward(dout, cache), xt.grad.numpy()) < 1e-12
