"""Tests for experiments/vanishing.py: the data behind the vanishing/exploding gradient plots."""

import numpy as np
import pytest

from experiments.vanishing import (
    forward_backward_prop,
    forward_backward_sweep,
    gradient_norms_through_time,
    loss_surface,
    sigmoid_recurrence_loss,
)


def test_forward_backward_prop_gradient_matches_central_difference_in_h0():
    for w in (-3.0, -0.5, 0.9, 1.5, 3.0):
        _, grad = forward_backward_prop(w, 10)
        eps = 1e-6
        plus = forward_backward_prop(w, 10, h0=0.5 + eps)[0]
        minus = forward_backward_prop(w, 10, h0=0.5 - eps)[0]
        numeric = (plus - minus) / (2 * eps)
        assert grad == pytest.approx(numeric, rel=1e-6, abs=1e-12)


def test_tanh_recurrence_gradient_vanishes_geometrically_for_small_w():
    # |w| < 1: h_t -> 0 and each factor w (1 - h_t^2) -> w, so dh_T/dh_0 ~ w^T
    _, g10 = forward_backward_prop(0.5, 10)
    _, g20 = forward_backward_prop(0.5, 20)
    assert abs(g20 / g10) == pytest.approx(0.5**10, rel=1e-2)
    hT, grads = forward_backward_sweep(np.linspace(-4, 4, 9), 10)
    assert hT.shape == grads.shape == (9,)
    assert np.all(np.abs(hT) < 1)  # the state is bounded for every w, the gradient is not what it controls


def test_sigmoid_recurrence_gradient_matches_central_differences_on_a_grid():
    ws, bs = np.array([-6.0, 1.0, 5.0, 9.0]), np.array([-3.0, -1.0, 0.5])
    loss, dw, db = loss_surface(ws, bs)
    assert loss.shape == dw.shape == db.shape == (3, 4)
    eps = 1e-6
    W, B = np.meshgrid(ws, bs)
    num_dw = (sigmoid_recurrence_loss(W + eps, B)[0] - sigmoid_recurrence_loss(W - eps, B)[0]) / (2 * eps)
    num_db = (sigmoid_recurrence_loss(W, B + eps)[0] - sigmoid_recurrence_loss(W, B - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(dw, num_dw, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(db, num_db, rtol=1e-5, atol=1e-8)


def test_sigmoid_recurrence_loss_has_a_cliff_where_the_gradient_explodes():
    # For w = 8 the map h -> w sigmoid(h) + b has two attractors; h_0 = 0.5 sits on the unstable fixed
    # point between them when b* = 0.5 - 8 sigmoid(0.5). Crossing b* flips the attractor h_50 falls
    # into: the loss jumps, and the gradient grows without bound as b approaches b*.
    w = 8.0
    b_star = 0.5 - w / (1 + np.exp(-0.5))
    below, _, _ = sigmoid_recurrence_loss(w, b_star - 1e-9)
    above, _, _ = sigmoid_recurrence_loss(w, b_star + 1e-9)
    assert abs(float(below) - float(above)) > 10  # a wall 2e-9 wide
    _, _, db_far = sigmoid_recurrence_loss(w, b_star + 1e-3)
    _, _, db_near = sigmoid_recurrence_loss(w, b_star + 1e-11)
    assert abs(float(db_far)) < 10 and abs(float(db_near)) > 1e6


def test_rnn_gradient_norm_decays_faster_than_the_lstm_one():
    rnn = gradient_norms_through_time("rnn", T=40, rng=np.random.default_rng(0))
    lstm = gradient_norms_through_time("lstm", T=40, rng=np.random.default_rng(0))
    assert rnn.shape == lstm.shape == (40,)
    # the gradient reaching h_1 relative to the one injected at h_T
    assert rnn[0] / rnn[-1] < 1e-3 * (lstm[0] / lstm[-1])
    assert np.all(np.diff(np.log(rnn[:-1])) > 0)  # monotone decay going back in time


def test_gradient_norms_reject_unknown_cells():
    with pytest.raises(ValueError, match=r"cell must be one of \('rnn', 'lstm'\)"):
        gradient_norms_through_time("gru")
