"""Tests for course/layers/losses.py: stable softmax, cross-entropy (fused and separate), MSE, BCE with
logits."""

import warnings

import numpy as np
import pytest

from course.core.gradcheck import check_loss, check_pair
from course.layers.losses import (
    binary_cross_entropy_with_logits,
    log_softmax,
    mse_loss,
    softmax,
    softmax_backward,
    softmax_cross_entropy,
    softmax_cross_entropy_separate,
    softmax_forward,
)

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).
MAGNITUDES = [300.0, 1e4]  # lecture 000: logits up to 300 over 1000 classes overflow a naive softmax


def _big_logits(magnitude, n=4, c=1000, seed=0):
    """(n, c) logits uniform in [0, magnitude]; the labels are the argmin, the hardest case (p ~ 0)."""
    logits = np.random.default_rng(seed).uniform(0, magnitude, size=(n, c))
    return logits, logits.argmin(axis=1)


def test_softmax_rows_are_probabilities_and_match_the_definition():
    x = np.random.default_rng(0).standard_normal((3, 5))
    s = softmax(x)
    np.testing.assert_allclose(s, np.exp(x) / np.exp(x).sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(softmax(x, axis=0).sum(axis=0), 1.0, rtol=1e-15)
    np.testing.assert_allclose(log_softmax(x), np.log(s), rtol=1e-13)


def test_softmax_is_unchanged_by_a_constant_shift():
    x = np.random.default_rng(1).standard_normal((2, 6))
    np.testing.assert_allclose(softmax(x + 1000.0), softmax(x), rtol=1e-12)


@pytest.mark.parametrize("magnitude", MAGNITUDES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_log_softmax_and_cross_entropy_are_finite_at_large_logits(magnitude, dtype):
    logits, y = _big_logits(magnitude)
    logits = logits.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow / divide-by-zero would raise
        s = softmax(logits)
        ls = log_softmax(logits)
        loss, dlogits = softmax_cross_entropy(logits, y)
    assert s.dtype == ls.dtype == dlogits.dtype == dtype
    assert all(np.all(np.isfinite(a)) for a in (s, ls, loss, dlogits))
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-6)
    assert np.all(ls <= 0)
    # the true class is the smallest logit: loss = (max - min) + log sum exp(x - max), in [max - min, + log C]
    spread = float((logits.max(axis=1) - logits.min(axis=1)).mean())
    slack = 1e-6 * magnitude  # float32 round-off
    assert spread - slack <= loss <= spread + np.log(1000) + slack
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-6)


def test_softmax_cross_entropy_matches_log_softmax_definition():
    logits = np.random.default_rng(2).standard_normal((6, 4))
    y = np.array([0, 3, 1, 1, 2, 0])
    loss, _ = softmax_cross_entropy(logits, y)
    np.testing.assert_allclose(loss, -log_softmax(logits)[np.arange(6), y].mean(), rtol=1e-14)


@pytest.mark.parametrize("n,c", [(5, 4), (1, 3), (8, 10)])
def test_softmax_cross_entropy_gradient_matches_central_difference(n, c):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((n, c))
    y = rng.integers(0, c, size=n)
    errors = check_loss(lambda z: softmax_cross_entropy(z, y), {"logits": logits})
    assert errors["logits"] < 1e-7


def test_softmax_pair_backward_matches_central_difference():
    x = np.random.default_rng(4).standard_normal((3, 5))
    errors = check_pair(softmax_forward, softmax_backward, {"x": x})
    assert errors["x"] < 1e-7


def test_separate_softmax_cross_entropy_equals_the_fused_one_at_moderate_logits():
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((16, 10)) * 3
    y = rng.integers(0, 10, size=16)
    loss_f, d_f = softmax_cross_entropy(logits, y)
    loss_s, d_s = softmax_cross_entropy_separate(logits, y)
    np.testing.assert_allclose(loss_s, loss_f, rtol=1e-13)
    np.testing.assert_allclose(d_s, d_f, rtol=1e-10, atol=1e-15)
    # unscaled logits for the check: at 3x some gradient entries are ~1e-6, where the relative error of
    # the centred difference itself (absolute round-off ~1e-11) exceeds 1e-7
    errors = check_loss(lambda z: softmax_cross_entropy_separate(z, y), {"logits": logits / 3})
    assert errors["logits"] < 1e-7


def test_softmax_cross_entropy_leaves_its_logits_untouched():
    logits = np.random.default_rng(11).standard_normal((4, 5))
    before = logits.copy()
    _, dlogits = softmax_cross_entropy(logits, np.array([0, 4, 2, 2]))
    np.testing.assert_array_equal(logits, before)
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-15)  # (softmax - onehot) sums to 0 per row


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (6,)])
def test_mse_loss_is_the_mean_over_all_elements_and_its_gradient_matches(shape):
    rng = np.random.default_rng(6)
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    loss, _ = mse_loss(pred, target)
    np.testing.assert_allclose(loss, np.mean((pred - target) ** 2), rtol=1e-14)
    errors = check_loss(lambda p: mse_loss(p, target), {"pred": pred})
    assert errors["pred"] < 1e-7


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (6,)])
def test_binary_cross_entropy_with_logits_matches_definition_and_central_difference(shape):
    rng = np.random.default_rng(7)
    z = rng.standard_normal(shape) * 2
    y = rng.uniform(0, 1, size=shape)  # soft targets work too
    loss, _ = binary_cross_entropy_with_logits(z, y)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(loss, np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))), rtol=1e-12)
    errors = check_loss(lambda logits: binary_cross_entropy_with_logits(logits, y), {"z": z})
    assert errors["z"] < 1e-7


def test_binary_cross_entropy_with_logits_is_stable_at_magnitude_1e4():
    z = np.array([-1e4, -1e4, 1e4, 1e4, 0.0])
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dz = binary_cross_entropy_with_logits(z, y)
    # the two confident mistakes cost 1e4 each; the right ones cost 0; z = 0 costs log 2
    np.testing.assert_allclose(loss, (2e4 + np.log(2)) / 5, rtol=1e-14)
    np.testing.assert_allclose(dz, np.array([0.0, -1.0, 1.0, 0.0, -0.5]) / 5, atol=1e-15)


def test_losses_reject_bad_arguments_naming_them():
    logits = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: y must have shape \(3,\), got \(2,\)"):
        softmax_cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"y must hold class ids in \[0, C\) = \[0, 4\), got values in"):
        softmax_cross_entropy(logits, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: y must be an integer array"):
        softmax_cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"mse_loss: target must have shape \(3, 4\), got \(4, 3\)"):
        mse_loss(logits, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: y must have shape"):
        binary_cross_entropy_with_logits(logits, np.zeros(4))


@pytest.mark.oracle
@pytest.mark.parametrize("magnitude", [3.0, *MAGNITUDES])
def test_softmax_family_matches_torch_in_float64_at_large_logits(magnitude):
    torch = pytest.importorskip("torch")
    logits, y = _big_logits(magnitude, seed=8)
    y[0] = logits[0].argmax()  # one easy example beside the hard ones
    lt = torch.tensor(logits, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(lt, torch.tensor(y))
    loss_t.backward()
    loss, dlogits = softmax_cross_entropy(logits, y)
    probs_t = torch.softmax(lt, dim=1).detach().numpy()
    log_probs_t = torch.log_softmax(lt, dim=1).detach().numpy()
    np.testing.assert_allclose(softmax(logits), probs_t, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(log_softmax(logits), log_probs_t, rtol=1e-12)
    np.testing.assert_allclose(loss, loss_t.item(), rtol=1e-12)
    np.testing.assert_allclose(dlogits, lt.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (6,)])
def test_mse_and_bce_match_torch_autograd(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    a, b, y = rng.standard_normal(shape) * 3, rng.standard_normal(shape), rng.uniform(0, 1, size=shape)
    for ours, theirs, target in (
        (mse_loss, torch.nn.functional.mse_loss, b),
        (binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy_with_logits, y),
    ):
        loss, grad = ours(a, target)
        at = torch.tensor(a, requires_grad=True)
        loss_t = theirs(at, torch.tensor(target))
        loss_t.backward()
        np.testing.assert_allclose(loss, loss_t.item(), rtol=1e-12)
        np.testing.assert_allclose(grad, at.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [(3, 5), (2, 4, 7)])
def test_softmax_pair_matches_torch_autograd(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    x, dout = rng.standard_normal(shape), rng.standard_normal(shape)
    out, cache = softmax_forward(x)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.softmax(xt, dim=-1)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(softmax_backward(dout, cache), xt.grad.numpy(), rtol=1e-11, atol=1e-15)
