"""Deliberately broken layers: the gradient checks must *fail* on each of them.

A check that cannot fail proves nothing (the lecture's checker had its assert commented out). Each test
builds a correct version, shows it passes, then the same thing with one classic bug, and requires an
``AssertionError`` from the check.
"""

import functools

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.core.module import Module
from course.layers.activations import relu_forward, sigmoid_forward
from course.layers.affine import affine_backward, affine_forward
from course.layers.batchnorm import batchnorm_backward, batchnorm_forward
from course.layers.convolution import conv_im2col_backward, conv_im2col_forward
from course.layers.elementwise import multiply_backward, multiply_forward
from course.layers.embedding import word_embedding_backward, word_embedding_forward
from course.layers.losses import softmax


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- a weight used twice: gradients must accumulate --------------------------------------------------


def _tied_forward(x, w, b):
    """out = affine(affine(x, w, b), w, b): the same w and b are used by both layers (D = M)."""
    h, cache1 = affine_forward(x, w, b)
    out, cache2 = affine_forward(h, w, b)
    return out, (cache1, cache2)


def _tied_backward(dout, cache, *, overwrite):
    cache1, cache2 = cache
    dh, dw, db = affine_backward(dout, cache2)
    dx, dw1, db1 = affine_backward(dh, cache1)
    if overwrite:  # the bug: the first use's gradient replaces the second's
        dw, db = dw1, db1
    else:
        dw, db = dw + dw1, db + db1
    return dx, dw, db


def test_weights_used_twice_pass_when_gradients_accumulate():
    inputs = {"x": _normal(4, 3), "w": _normal(3, 3, seed=1) * 0.5, "b": _normal(3, seed=2)}
    check_pair(_tied_forward, functools.partial(_tied_backward, overwrite=False), inputs)


def test_weights_used_twice_fail_when_the_backward_overwrites_a_gradient():
    inputs = {"x": _normal(4, 3), "w": _normal(3, 3, seed=1) * 0.5, "b": _normal(3, seed=2)}
    with pytest.raises(AssertionError, match=r"dw: relative error"):
        check_pair(_tied_forward, functools.partial(_tied_backward, overwrite=True), inputs)


class _TiedLinear(Module):
    """A module applying its one weight matrix twice, x -> (x W + b) W + b."""

    def __init__(self, d, *, overwrite):
        super().__init__()
        self.add_param("w", _normal(d, d, seed=3) * 0.5)
        self.add_param("b", _normal(d, seed=4))
        self.overwrite = overwrite

    def forward(self, x):
        h, cache1 = affine_forward(x, self.params["w"], self.params["b"])
        out, cache2 = affine_forward(h, self.params["w"], self.params["b"])
        self.cache = (cache1, cache2)
        return out

    def backward(self, dout):
        cache1, cache2 = self.cache
        dh, dw2, db2 = affine_backward(dout, cache2)
        dx, dw1, db1 = affine_backward(dh, cache1)
        for dw, db in ((dw2, db2), (dw1, db1)):
            if self.overwrite:
                self.grads["w"][...] = dw  # the bug: assignment instead of +=
                self.grads["b"][...] = db
            else:
                self.accumulate("w", dw)
                self.accumulate("b", db)
        return dx


def test_check_module_catches_a_module_that_overwrites_its_gradient():
    check_module(_TiedLinear(3, overwrite=False), _normal(5, 3))
    with pytest.raises(AssertionError, match=r"dw in _TiedLinear: relative error"):
        check_module(_TiedLinear(3, overwrite=True), _normal(5, 3))


def test_x_times_x_fails_when_the_second_gradient_overwrites_the_first():
    x = _normal(3, 4)

    def square_backward(dout, cache):
        grad = np.zeros_like(cache[0])
        for g in multiply_backward(dout, cache):
            grad[...] = g  # the bug: x was used twice, so this must be grad += g
        return grad

    with pytest.raises(AssertionError, match=r"dx: relative error"):
        check_pair(lambda x: multiply_forward(x, x), square_backward, {"x": x})


# --- wrong local derivatives -------------------------------------------------------------------------


def test_affine_backward_missing_the_transpose_of_w_fails():
    def backward(dout, cache):
        x, w = cache
        return dout @ w, x.T @ dout, dout.sum(0)  # dout @ w instead of dout @ w.T (square w: shapes fit)

    inputs = {"x": _normal(4, 3), "w": _normal(3, 3, seed=1), "b": _normal(3, seed=2)}
    with pytest.raises(AssertionError, match=r"dx: relative error"):
        check_pair(affine_forward, backward, inputs)


def test_affine_backward_with_dw_transposed_fails_on_its_shape():
    def backward(dout, cache):
        x, w = cache
        return dout @ w.T, dout.T @ x, dout.sum(0)  # dw comes out (M, D)

    inputs = {"x": _normal(4, 3), "w": _normal(3, 2, seed=1), "b": _normal(2, seed=2)}
    with pytest.raises(AssertionError, match=r"dw: gradient has shape \(2, 3\), expected \(3, 2\)"):
        check_pair(affine_forward, backward, inputs)


def test_sigmoid_backward_using_the_input_instead_of_the_output_fails():
    def forward(x):
        out, _ = sigmoid_forward(x)
        return out, x  # the bug: cache the input, then use it as if it were s

    def backward(dout, cache):
        s = cache
        return dout * s * (1 - s)

    with pytest.raises(AssertionError, match=r"dx: relative error"):
        check_pair(forward, backward, {"x": _normal(3, 4)})


def test_relu_backward_without_the_mask_fails():
    x = _normal(3, 4)
    x = np.where(np.abs(x) < 0.1, 0.5, x)
    with pytest.raises(AssertionError, match=r"dx: relative error"):
        check_pair(relu_forward, lambda dout, cache: dout, {"x": x})


def test_batchnorm_backward_treating_the_batch_statistics_as_constants_fails():
    def backward(dout, cache):
        x_hat, gamma, inv_std, _ = cache
        return dout * gamma * inv_std, (dout * x_hat).sum(0), dout.sum(0)  # eval-mode formula in train mode

    forward = functools.partial(batchnorm_forward, bn_param={"mode": "train"})
    # seed 1: with seed 0 one correct dx entry is ~6e-7, where the relative error measures round-off
    inputs = {"x": _normal(6, 3, seed=1), "gamma": _normal(3, seed=2), "beta": _normal(3, seed=3)}
    check_pair(forward, batchnorm_backward, inputs)
    with pytest.raises(AssertionError, match=r"dx: relative error"):
        check_pair(forward, backward, inputs)


def test_embedding_backward_assigning_instead_of_accumulating_fails_on_repeated_ids():
    x = np.array([[0, 2, 2], [1, 2, 0]])

    def backward(dout, cache):
        ids, w_shape, _ = cache
        dW = np.zeros(w_shape)
        dW[ids.reshape(-1)] = dout.reshape(-1, w_shape[1])  # the bug: the last occurrence wins
        return dW

    forward = functools.partial(word_embedding_forward, x)
    check_pair(forward, word_embedding_backward, {"W": _normal(4, 2)})
    with pytest.raises(AssertionError, match=r"dW: relative error"):
        check_pair(forward, backward, {"W": _normal(4, 2)})


def _conv_backward_assigning_dx(dout, cache):
    """conv_im2col_backward whose col2im assigns (=) instead of adding: overlapping windows lose gradient."""
    x_shape, w, _, stride, pad = cache
    _, dw, db = conv_im2col_backward(dout, cache)
    N, C, H, W = x_shape
    F, _, HH, WW = w.shape
    Ho, Wo = dout.shape[2:]
    dcols = (w.reshape(F, -1).T @ dout.reshape(N, F, -1)).reshape(N, C, HH, WW, Ho, Wo)
    dxpad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for p in range(HH):
        for q in range(WW):
            rows = slice(p, p + stride * (Ho - 1) + 1, stride)
            cols = slice(q, q + stride * (Wo - 1) + 1, stride)
            dxpad[:, :, rows, cols] = dcols[:, :, p, q]  # the bug: = where += is needed
    return dxpad[:, :, pad : pad + H, pad : pad + W], dw, db


def test_conv_backward_assigning_instead_of_accumulating_fails_where_windows_overlap():
    inputs = {"x": _normal(2, 2, 5, 5), "w": _normal(3, 2, 3, 3, seed=1), "b": _normal(3, seed=2)}
    forward = functools.partial(conv_im2col_forward, stride=1, pad=1)  # 3x3 windows every pixel: overlap
    check_pair(forward, conv_im2col_backward, inputs, tol=1e-6)
    with pytest.raises(AssertionError, match=r"dx: relative error"):
        check_pair(forward, _conv_backward_assigning_dx, inputs, tol=1e-6)


# --- the tests of the other files would fail too ---------------------------------------------------


def test_running_average_with_swapped_weights_fails_the_running_average_check():
    x = _normal(20, 3) + 5.0
    bn_param = {"mode": "train", "momentum": 0.9}
    batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(0), rtol=1e-12)  # ours
    swapped = 0.1 * 0 + 0.9 * x.mean(0)  # the lecture code's weights: new batch 0.9, history 0.1
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(swapped, 0.1 * x.mean(0), rtol=1e-12)


def test_softmax_without_subtracting_the_max_fails_the_finiteness_check():
    logits = np.random.default_rng(5).uniform(0, 1e4, size=(2, 1000))
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.all(np.isfinite(softmax(logits)))
    with pytest.raises(AssertionError):
        assert np.all(np.isfinite(naive))
