"""Tests for course/layers/embedding.py: word-embedding lookup and its accumulating backward pass."""

import functools

import numpy as np
import pytest

from course.core.gradcheck import check_pair, numerical_gradient_array
from course.layers.embedding import Embedding, word_embedding_backward, word_embedding_forward

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).


def test_word_embedding_forward_is_a_row_lookup_and_a_one_hot_product():
    W = np.arange(12.0).reshape(4, 3)  # V = 4 words, D = 3
    x = np.array([[0, 3], [2, 2]])
    out, _ = word_embedding_forward(x, W)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[0, 1], W[3])
    one_hot = np.eye(4)[x]  # (N, T, V): the lecture's sparse-matrix view
    np.testing.assert_array_equal(out, one_hot @ W)


def test_word_embedding_backward_accumulates_repeated_ids():
    W = np.zeros((5, 2))
    x = np.array([[1, 1, 3], [1, 0, 3]])  # word 1 three times, word 3 twice, words 2 and 4 never
    dout = np.arange(12.0).reshape(2, 3, 2)
    _, cache = word_embedding_forward(x, W)
    dW = word_embedding_backward(dout, cache)
    np.testing.assert_array_equal(dW[1], dout[0, 0] + dout[0, 1] + dout[1, 0])
    np.testing.assert_array_equal(dW[3], dout[0, 2] + dout[1, 2])
    np.testing.assert_array_equal(dW[0], dout[1, 1])
    np.testing.assert_array_equal(dW[[2, 4]], 0.0)


@pytest.mark.parametrize("n,t,v,d", [(2, 3, 5, 4), (3, 7, 4, 2), (1, 1, 3, 3)])
def test_word_embedding_backward_matches_central_difference(n, t, v, d):
    rng = np.random.default_rng(0)
    x = rng.integers(0, v, size=(n, t))  # with T > V some ids must repeat
    W = rng.standard_normal((v, d))
    errors = check_pair(functools.partial(word_embedding_forward, x), word_embedding_backward, {"W": W})
    assert errors["W"] < 1e-7


def test_word_embedding_preserves_float32():
    W = np.ones((4, 3), dtype=np.float32)
    out, cache = word_embedding_forward(np.array([[0, 1]]), W)
    assert out.dtype == np.float32
    assert word_embedding_backward(np.ones_like(out), cache).dtype == np.float32


def test_word_embedding_rejects_bad_ids_and_shapes_naming_them():
    W = np.zeros((4, 3))
    with pytest.raises(
        ValueError, match=r"x must hold word ids in \[0, V\) = \[0, 4\), got values in \[0, 4\]"
    ):
        word_embedding_forward(np.array([[0, 4]]), W)
    with pytest.raises(ValueError, match=r"got values in \[-1, 2\]"):
        word_embedding_forward(np.array([[-1, 2]]), W)
    with pytest.raises(ValueError, match=r"word_embedding_forward: x must be an integer array"):
        word_embedding_forward(np.array([[0.0, 1.0]]), W)
    with pytest.raises(ValueError, match=r"word_embedding_forward: x must have shape \(N, T\).*, got \(3,\)"):
        word_embedding_forward(np.array([0, 1, 2]), W)
    _, cache = word_embedding_forward(np.array([[0, 1]]), W)
    with pytest.raises(ValueError, match=r"word_embedding_backward: dout must have shape \(1, 2, 3\)"):
        word_embedding_backward(np.zeros((1, 2, 4)), cache)


def test_embedding_module_gradient_matches_central_difference_and_accumulates():
    # check_module also differentiates the input, which integer ids do not have, so check W directly
    layer = Embedding(6, 3, rng=0, dtype=np.float64)
    x = np.array([[0, 5, 5, 2], [2, 2, 1, 0]])
    dout = np.random.default_rng(1).standard_normal((2, 4, 3))
    out = layer.forward(x)
    assert out.shape == (2, 4, 3)
    assert layer.backward(dout) is None
    numeric = numerical_gradient_array(lambda: layer.forward(x), layer.params["W"], dout)
    np.testing.assert_allclose(layer.grads["W"], numeric, rtol=1e-7, atol=1e-10)
    layer.forward(x)
    layer.backward(dout)  # a second backward adds, as for every module
    np.testing.assert_allclose(layer.grads["W"], 2 * numeric, rtol=1e-7, atol=1e-10)


@pytest.mark.oracle
@pytest.mark.parametrize("n,t,v,d", [(2, 3, 5, 4), (4, 9, 6, 2)])
def test_word_embedding_matches_torch_autograd(n, t, v, d):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, W = rng.integers(0, v, size=(n, t)), rng.standard_normal((v, d))
    dout = rng.standard_normal((n, t, d))
    out, cache = word_embedding_forward(x, W)
    dW = word_embedding_backward(dout, cache)
    Wt = torch.tensor(W, requires_grad=True)
    out_t = torch.nn.functional.embedding(torch.tensor(x), Wt)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-13, atol=1e-15)
