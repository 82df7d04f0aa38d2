"""Tests for course/models/two_layer.py: the affine-relu-affine-softmax net and its SGD training."""

import numpy as np
import pytest

from course.core.gradcheck import assert_gradient_close, numerical_gradient
from course.data import make_spirals
from course.models.two_layer import train_two_layer, two_layer_loss

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).


def _net(d=3, h=5, c=4, seed=1):
    rng = np.random.default_rng(seed)
    return {
        "w1": rng.standard_normal((d, h)),
        "b1": rng.standard_normal(h),
        "w2": rng.standard_normal((h, c)),
        "b2": rng.standard_normal(c),
    }


def test_two_layer_loss_gradients_match_central_difference_on_every_parameter():
    params = _net()
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 4, 6)
    _, grads = two_layer_loss(params, X, y)
    assert sorted(grads) == ["b1", "b2", "w1", "w2"]
    for name, p in params.items():
        numeric = numerical_gradient(lambda: two_layer_loss(params, X, y)[0], p)
        assert_gradient_close(name, grads[name], numeric, context="two_layer_loss")


def test_two_layer_loss_of_zero_parameters_is_log_c_with_gradient_only_on_b2():
    params = {k: np.zeros_like(v) for k, v in _net().items()}
    X, y = np.random.default_rng(3).standard_normal((4, 3)), np.array([0, 1, 3, 3])
    loss, grads = two_layer_loss(params, X, y)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, np.log(4), rtol=1e-14)
    np.testing.assert_allclose(grads["b2"], (0.25 - np.eye(4)[y]).mean(axis=0), rtol=1e-14)
    assert not grads["w1"].any() and not grads["b1"].any() and not grads["w2"].any()


@pytest.fixture(scope="module")
def spiral():
    return make_spirals(
        n_per_class=100, n_classes=3, noise=0.2, rng=np.random.default_rng(0), dtype=np.float64
    )


def test_train_two_layer_fits_the_spiral_and_records_one_loss_per_update(spiral):
    X, y = spiral
    X_before = X.copy()
    params, losses = train_two_layer(X, y, hidden_dim=100, lr=0.5, epochs=100, batch_size=32, seed=0)
    assert len(losses) == 100 * 10  # ceil(300 / 32) = 10 batches per epoch
    assert {k: v.shape for k, v in params.items()} == {
        "w1": (2, 100),
        "b1": (100,),
        "w2": (100, 3),
        "b2": (3,),
    }
    np.testing.assert_array_equal(X, X_before)
    scores = np.maximum(X @ params["w1"] + params["b1"], 0) @ params["w2"] + params["b2"]
    assert np.mean(scores.argmax(axis=1) == y) >= 0.9
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) / 3


def test_train_two_layer_draws_he_weights_from_its_seed(spiral):
    X, y = spiral
    params, losses = train_two_layer(X, y, hidden_dim=8, lr=0.0, epochs=1, batch_size=300, seed=5)
    rng = np.random.default_rng(5)
    np.testing.assert_array_equal(params["w1"], rng.standard_normal((2, 8)) * np.sqrt(2.0 / 2))
    np.testing.assert_array_equal(params["w2"], rng.standard_normal((8, 3)) * np.sqrt(2.0 / 8))
    assert not params["b1"].any() and not params["b2"].any() and len(losses) == 1
