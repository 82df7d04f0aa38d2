"""Tests for course/layers/dropout.py: inverted dropout and dropconnect (p is the drop probability)."""

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.layers.affine import affine_forward
from course.layers.dropout import (
    Dropout,
    dropconnect_backward,
    dropconnect_forward,
    dropout_backward,
    dropout_forward,
)

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).


def _seeded_dropout(p):
    """Dropout whose mask is redrawn from the same seed on every call, so a gradient check sees one mask."""
    return lambda x: dropout_forward(x, p, "train", np.random.default_rng(0))


def _seeded_dropconnect(p):
    return lambda x, w, b: dropconnect_forward(x, w, b, p, "train", np.random.default_rng(0))


def _affine_inputs(n=4, d=5, m=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal(m)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_drops_a_fraction_p_and_scales_the_rest_by_one_over_one_minus_p(p):
    x = np.ones((200, 100))
    out, _ = dropout_forward(x, p, "train", np.random.default_rng(1))
    dropped = np.mean(out == 0)
    assert abs(dropped - p) < 0.02  # 20 000 Bernoulli draws: std error <= 0.0035
    np.testing.assert_allclose(out[out != 0], 1 / (1 - p), rtol=1e-15)
    assert abs(out.mean() - 1) < 0.05  # inverted dropout keeps the expected activation


def test_dropout_draws_a_separate_mask_for_each_example():
    out, _ = dropout_forward(np.ones((8, 50)), 0.5, "train", np.random.default_rng(2))
    assert len({row.tobytes() for row in out}) == 8


def test_dropout_with_the_same_seed_draws_the_same_mask():
    x = np.random.default_rng(3).standard_normal((4, 6))
    a, _ = dropout_forward(x, 0.5, "train", np.random.default_rng(9))
    b, _ = dropout_forward(x, 0.5, "train", np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)


def test_dropout_eval_mode_is_the_identity():
    x = np.random.default_rng(4).standard_normal((3, 4))
    out, cache = dropout_forward(x, 0.5, "eval")
    np.testing.assert_array_equal(out, x)
    dout = np.ones_like(x)
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
@pytest.mark.parametrize("p", [0.0, 0.3, 0.7])
def test_dropout_backward_matches_central_difference(shape, p):
    x = np.random.default_rng(5).standard_normal(shape)
    errors = check_pair(_seeded_dropout(p), dropout_backward, {"x": x})
    assert errors["x"] < 1e-7


def test_dropout_backward_uses_the_forward_mask():
    x = np.random.default_rng(6).uniform(1, 2, size=(5, 7))  # no zeros: out == 0 exactly where dropped
    out, cache = dropout_forward(x, 0.4, "train", np.random.default_rng(7))
    dx = dropout_backward(np.ones_like(x), cache)
    np.testing.assert_allclose(dx, (out != 0) / 0.6, rtol=1e-15)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.6])
def test_dropconnect_backward_matches_central_difference(p):
    x, w, b = _affine_inputs()
    errors = check_pair(_seeded_dropconnect(p), dropconnect_backward, {"x": x, "w": w, "b": b})
    assert max(errors.values()) < 1e-7


def test_dropconnect_uses_its_own_weight_mask_for_each_example():
    x, w, b = _affine_inputs(n=6)
    out, (_, _, mask) = dropconnect_forward(x, w, b, 0.5, "train", np.random.default_rng(8))
    assert mask.shape == (6, 5, 3)
    for n in range(6):
        np.testing.assert_allclose(out[n], x[n] @ (w * mask[n]) + b, rtol=1e-12)
    assert len({m.tobytes() for m in mask}) == 6
    assert set(np.unique(mask)) <= {0.0, 2.0}  # kept weights are scaled by 1 / (1 - p)


def test_dropconnect_is_the_affine_layer_in_eval_mode_and_on_average_in_train_mode():
    x, w, b = _affine_inputs(n=2, d=3, m=2, seed=9)
    expected, _ = affine_forward(x, w, b)
    out, cache = dropconnect_forward(x, w, b, 0.5, "eval")
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    assert check_pair(
        lambda x, w, b: dropconnect_forward(x, w, b, 0.5, "eval"),
        dropconnect_backward,
        {"x": x, "w": w, "b": b},
    )
    rng = np.random.default_rng(10)
    mean = np.mean([dropconnect_forward(x, w, b, 0.5, "train", rng)[0] for _ in range(4000)], axis=0)
    np.testing.assert_allclose(mean, expected, atol=0.1)  # std of one draw ~ 1.5: std error ~ 0.025


def test_dropout_rejects_bad_arguments_naming_them():
    x, w, b = _affine_inputs()
    with pytest.raises(
        ValueError, match=r"dropout_forward: p \(the drop probability\) must be in \[0, 1\), got 1"
    ):
        dropout_forward(x, 1, "train", np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"dropout_forward: rng must be a numpy.random.Generator"):
        dropout_forward(x, 0.5, "train", None)
    with pytest.raises(ValueError, match=r"dropout_forward: mode must be one of"):
        dropout_forward(x, 0.5, "test", np.random.default_rng(0))
    with pytest.raises(
        ValueError, match=r"dropconnect_forward: w must have shape \(D, M\) = \(5, \*\), got \(4, 3\)"
    ):
        dropconnect_forward(x, w[:4], b, 0.5, "train", np.random.default_rng(0))


def test_dropout_module_switches_between_train_and_eval():
    layer = Dropout(0.5, rng=0)
    x = np.ones((10, 10))
    assert np.any(layer.forward(x) == 0)
    layer.eval()
    np.testing.assert_array_equal(layer.forward(x), x)
    errors = check_module(layer, np.random.default_rng(11).standard_normal((3, 4)))  # eval: deterministic
    assert list(errors) == ["x"]


def test_dropout_module_backward_uses_the_mask_of_its_last_forward():
    layer = Dropout(0.25, rng=np.random.default_rng(12))
    x = np.random.default_rng(13).uniform(1, 2, size=(6, 5))
    out = layer.forward(x)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), (out != 0) / 0.75, rtol=1e-15)


@pytest.mark.oracle
def test_dropout_scaling_convention_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = np.random.default_rng(14).uniform(1, 2, size=(50, 40))
    theirs = torch.nn.functional.dropout(torch.tensor(x), p=0.3, training=True).numpy()
    ours, _ = dropout_forward(x, 0.3, "train", np.random.default_rng(15))
    for out in (ours, theirs):  # p is the drop probability in both, and kept values are divided by 1 - p
        kept = out != 0
        np.testing.assert_allclose(out[kept], x[kept] / 0.7, rtol=1e-15)
        assert abs(1 - kept.mean() - 0.3) < 0.03


@pytest.mark.oracle
@pytest.mark.parametrize("n,d,m", [(4, 5, 3), (1, 2, 6)])
def test_dropconnect_matches_torch_autograd_with_the_same_mask(n, d, m):
    torch = pytest.importorskip("torch")
    x, w, b = _affine_inputs(n, d, m, seed=16)
    dout = np.random.default_rng(17).standard_normal((n, m))
    out, cache = dropconnect_forward(x, w, b, 0.4, "train", np.random.default_rng(18))
    grads = dropconnect_backward(dout, cache)
    mask = torch.tensor(cache[2])
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = torch.einsum("nd,ndm->nm", xt, wt * mask) + bt  # w * mask broadcasts to (N, D, M)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    for ours, t in zip(grads, (xt, wt, bt), strict=True):
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-12, atol=1e-14)
