"""Tests for course/layers/temporal.py: the affine layer shared over time and the masked temporal softmax
loss."""

import functools

import numpy as np
import pytest

from course.core.gradcheck import check_loss, check_module, check_pair
from course.layers.temporal import (
    TemporalAffine,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)

# Gradient checks: float64, relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).


def _affine_inputs(N=2, T=3, D=4, M=5, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((N, T, D)),
        "w": rng.standard_normal((D, M)),
        "b": rng.standard_normal(M),
    }


def _loss_inputs(N=3, T=4, V=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) > 0.3
    return x, y, mask


def test_temporal_affine_forward_applies_the_same_affine_at_every_step():
    p = _affine_inputs()
    out, _ = temporal_affine_forward(**p)
    for t in range(3):
        np.testing.assert_allclose(out[:, t], p["x"][:, t] @ p["w"] + p["b"], rtol=1e-12)


def test_temporal_affine_backward_matches_central_difference():
    check_pair(temporal_affine_forward, temporal_affine_backward, _affine_inputs(seed=1))


def test_temporal_softmax_loss_matches_the_formula_and_ignores_masked_steps():
    x, y, mask = _loss_inputs()
    loss, dx = temporal_softmax_loss(x, y, mask)
    logp = x - np.log(np.exp(x).sum(axis=2, keepdims=True))
    picked = np.take_along_axis(logp, y[..., None], axis=2)[..., 0]
    assert loss == pytest.approx(-(picked * mask).sum() / x.shape[0], rel=1e-12)
    np.testing.assert_array_equal(dx[~mask], 0.0)  # padding contributes no gradient
    # averaged over the batch, not over the tokens: doubling N with a copy leaves the loss unchanged
    twice = [np.concatenate([a, a]) for a in (x, y, mask)]
    loss2, _ = temporal_softmax_loss(*twice)
    assert loss2 == pytest.approx(loss, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_temporal_softmax_loss_gradient_matches_central_difference(seed):
    x, y, mask = _loss_inputs(seed=seed)
    check_loss(functools.partial(temporal_softmax_loss, y=y, mask=mask), {"x": x})


def test_temporal_softmax_loss_does_not_overflow_on_large_scores():
    x, y, mask = _loss_inputs()
    x = x * 300.0
    loss, dx = temporal_softmax_loss(x, y, mask)
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    loss_off, dx_off = temporal_softmax_loss(x, y, np.zeros_like(mask))
    assert loss_off == 0.0 and not dx_off.any()


def test_temporal_softmax_loss_rejects_bad_targets_and_masks():
    x, y, mask = _loss_inputs()
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: y must hold ids in \[0, V\) = \[0, 5\)"):
        temporal_softmax_loss(x, y + 5, mask)
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: mask must be a boolean array"):
        temporal_softmax_loss(x, y, mask.astype(int))
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: y must have shape \(N, T\) = \(3, 4\)"):
        temporal_softmax_loss(x, y[:, :2], mask)


def test_temporal_affine_preserves_float32():
    p = {k: v.astype(np.float32) for k, v in _affine_inputs().items()}
    out, cache = temporal_affine_forward(**p)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in temporal_affine_backward(np.ones_like(out), cache))
    loss, dx = temporal_softmax_loss(out, np.zeros((2, 3), dtype=np.int64), np.ones((2, 3), dtype=bool))
    assert dx.dtype == np.float32


def test_temporal_affine_module_passes_check_module():
    layer = TemporalAffine(4, 3, rng=np.random.default_rng(0), dtype=np.float64)
    layer.params["b"][...] = [0.1, -0.2, 0.3]
    check_module(layer, np.random.default_rng(1).standard_normal((2, 3, 4)))


@pytest.mark.oracle
def test_temporal_softmax_loss_matches_torch_cross_entropy():
    torch = pytest.importorskip("torch")
    x, y, mask = _loss_inputs(N=4, T=6, V=7, seed=3)
    loss, dx = temporal_softmax_loss(x, y, mask)
    xt = torch.tensor(x, requires_grad=True)
    targets = torch.tensor(y.reshape(-1))
    per_step = torch.nn.functional.cross_entropy(xt.reshape(-1, 7), targets, reduction="none")
    ref = (per_step * torch.tensor(mask.reshape(-1), dtype=torch.float64)).sum() / 4
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
