"""Tests for course.models.linear: feature maps, squared and ridge loss, closed form, descent, model
selection."""

import numpy as np
import pytest

from course.core.gradcheck import check_loss
from course.models.linear import (
    gradient_descent,
    linear_features,
    linear_predict,
    polynomial_features,
    ridge_closed_form,
    ridge_loss,
    select_degree,
    sin_features,
    squared_loss,
)


def _data(seed: int = 0, n: int = 30, d: int = 4):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    X = polynomial_features(x, d - 1)
    w = rng.standard_normal(d)
    y = rng.standard_normal(n)
    return x, X, w, y


def test_feature_maps_put_the_constant_first_and_match_their_formulas():
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(linear_features(x), np.stack([np.ones(4), x], axis=1))
    np.testing.assert_allclose(polynomial_features(x, 3), np.stack([x**0, x, x**2, x**3], axis=1))
    np.testing.assert_allclose(sin_features(x), np.stack([np.ones(4), x, np.sin(3 * x)], axis=1))
    assert polynomial_features(x, 0).shape == (4, 1)


def test_feature_maps_preserve_float32():
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    for X in (linear_features(x), polynomial_features(x, 4), sin_features(x)):
        assert X.dtype == np.float32


def test_polynomial_features_rejects_negative_and_fractional_degree():
    with pytest.raises(ValueError, match="degree"):
        polynomial_features(np.zeros(3), -1)
    with pytest.raises(ValueError, match="degree"):
        polynomial_features(np.zeros(3), 1.5)


def test_linear_predict_is_the_row_wise_dot_product_and_checks_shapes():
    _, X, w, _ = _data()
    np.testing.assert_allclose(linear_predict(X, w), [row @ w for row in X])
    with pytest.raises(ValueError, match="w must have shape"):
        linear_predict(X, np.zeros(3))


def test_squared_loss_is_the_mean_of_squared_residuals():
    _, X, w, y = _data()
    loss, _ = squared_loss(X, w, y)
    assert loss == pytest.approx(np.mean((X @ w - y) ** 2), rel=1e-12)


def test_squared_loss_gradient_matches_central_difference():
    _, X, w, y = _data(seed=1)
    errors = check_loss(lambda w_: squared_loss(X, w_, y), {"w": w})
    assert errors["w"] < 1e-7


@pytest.mark.parametrize("lam", [0.0, 0.3, 5.0])
def test_ridge_loss_gradient_matches_central_difference(lam):
    _, X, w, y = _data(seed=2)
    errors = check_loss(lambda w_: ridge_loss(X, w_, y, lam), {"w": w})
    assert errors["w"] < 1e-7


def test_ridge_loss_does_not_penalise_the_bias():
    _, X, w, y = _data(seed=3)
    shifted = w.copy()
    shifted[0] += 10.0
    base = squared_loss(X, shifted, y)[0]
    assert ridge_loss(X, shifted, y, lam=2.0)[0] == pytest.approx(base + 2.0 * np.sum(w[1:] ** 2))


@pytest.mark.parametrize("lam", [0.0, 0.01, 1.0])
def test_ridge_closed_form_zeroes_the_gradient(lam):
    _, X, _, y = _data(seed=4)
    w = ridge_closed_form(X, y, lam)
    _, dw = ridge_loss(X, w, y, lam)
    assert np.max(np.abs(dw)) < 1e-10


def test_ridge_closed_form_with_zero_weight_matches_numpy_least_squares():
    _, X, _, y = _data(seed=5)
    np.testing.assert_allclose(ridge_closed_form(X, y, 0.0), np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)


def test_larger_l2_weight_shrinks_the_non_bias_weights():
    _, X, _, y = _data(seed=6, d=6)
    norms = [np.linalg.norm(ridge_closed_form(X, y, lam)[1:]) for lam in (0.0, 0.01, 0.1, 1.0)]
    assert np.all(np.diff(norms) < 0)


@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_gradient_descent_converges_to_the_closed_form(lam):
    _, X, _, y = _data(seed=7, d=3)
    w, losses = gradient_descent(lambda w_: ridge_loss(X, w_, y, lam), np.zeros(3), lr=0.5, num_steps=3000)
    np.testing.assert_allclose(w, ridge_closed_form(X, y, lam), atol=1e-6)
    assert len(losses) == 3000 and losses[-1] <= losses[0]
    assert np.all(np.diff(losses) <= 1e-12)  # a small enough step never increases the loss


def test_gradient_descent_records_the_loss_before_each_step_and_leaves_w0_alone():
    _, X, w0, y = _data(seed=8)
    start = w0.copy()
    _, losses = gradient_descent(lambda w_: squared_loss(X, w_, y), w0, lr=0.1, num_steps=2)
    np.testing.assert_array_equal(w0, start)
    assert losses[0] == pytest.approx(squared_loss(X, w0, y)[0])


def test_select_degree_picks_the_true_degree_on_clean_cubic_data():
    rng = np.random.default_rng(9)
    x = rng.uniform(-1, 1, 60)
    y = 1 - 2 * x + 0.5 * x**2 + 3 * x**3 + 0.05 * rng.standard_normal(60)
    best, train, val = select_degree(x[:40], y[:40], x[40:], y[40:], degrees=[0, 1, 2, 3])
    assert best == 3
    assert len(train) == len(val) == 4
    assert np.all(np.diff(train) <= 1e-12)  # nested models: training loss never rises
