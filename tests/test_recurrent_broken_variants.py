"""Deliberately broken backpropagation through time: the gradient checks must *fail* on each.

Two classic BPTT bugs, each in a copy of the step-by-step LSTM backward pass:
- off by one: at step t the loop adds the upstream gradient of step t - 1 (``dh[:, t - 1]``), so every
  step's loss is credited to the wrong step (lecture 001's code indexes this way);
- overwritten weights: ``dWh = dWh_t`` instead of ``dWh += dWh_t``, so only the first step's
  contribution (the last one the reverse loop visits) survives.
Each test first shows the correct copy passes the same check, so the failure is the bug's.

A third case shows why the checks put an upstream gradient on *every* step: an RNN backward that drops
the upstream gradient of all steps but the last passes a check whose loss reads only h_T.
"""

import functools

import numpy as np
import pytest

from course.core.gradcheck import check_pair
from course.layers.lstm import lstm_step_backward, lstm_step_forward
from course.layers.rnn import rnn_backward, rnn_forward


def _params(N=2, T=4, D=3, H=3, G=4, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, G * H)) * 0.5,
        "Wh": rng.standard_normal((H, G * H)) * 0.5,
        "b": rng.standard_normal(G * H) * 0.5,
    }


def _lstm_steps_forward(x, h0, Wx, Wh, b):
    h, c, hs, caches = h0, np.zeros_like(h0), [], []
    for t in range(x.shape[1]):
        h, c, cache = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def _lstm_steps_backward(dh, caches, *, bug=None):
    T = len(caches)
    dWx = dWh = db = 0
    dnext_h, dnext_c = np.zeros_like(dh[:, 0]), np.zeros_like(dh[:, 0])
    dxs = [None] * T
    for t in reversed(range(T)):
        upstream = dh[:, t - 1] if bug == "off_by_one" else dh[:, t]
        grads = lstm_step_backward(upstream + dnext_h, dnext_c, caches[t])
        dxs[t], dnext_h, dnext_c, dWx_t, dWh_t, db_t = grads
        dWx, db = dWx + dWx_t, db + db_t
        dWh = dWh_t if bug == "overwrite_dWh" else dWh + dWh_t
    return np.stack(dxs, axis=1), dnext_h, dWx, dWh, db


def test_correct_step_by_step_lstm_backward_passes_the_check():
    check_pair(_lstm_steps_forward, _lstm_steps_backward, _params())


def test_off_by_one_upstream_gradient_in_lstm_backward_is_caught():
    broken = functools.partial(_lstm_steps_backward, bug="off_by_one")
    with pytest.raises(AssertionError, match=r"relative error"):
        check_pair(_lstm_steps_forward, broken, _params())


def test_overwriting_dWh_instead_of_accumulating_is_caught():
    broken = functools.partial(_lstm_steps_backward, bug="overwrite_dWh")
    with pytest.raises(AssertionError, match=r"dWh: relative error"):
        check_pair(_lstm_steps_forward, broken, _params())


def _rnn_backward_last_step_only(dh, cache):
    """Broken: uses the upstream gradient of the final step only, as if the loss read only h_T."""
    last_only = np.zeros_like(dh)
    last_only[:, -1] = dh[:, -1]
    return rnn_backward(last_only, cache)


def _final_state_forward(x, h0, Wx, Wh, b):
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    return h[:, -1], cache


def _final_state_backward(dhT, cache):
    dh = np.zeros((dhT.shape[0], len(cache), dhT.shape[1]))
    dh[:, -1] = dhT
    return _rnn_backward_last_step_only(dh, cache)


def test_dropping_intermediate_upstream_gradients_is_caught_only_with_a_gradient_on_every_step():
    p = _params(G=1, seed=1)
    # a loss on h_T alone cannot see the bug ...
    check_pair(_final_state_forward, _final_state_backward, p)
    # ... an upstream gradient on every step does
    with pytest.raises(AssertionError, match=r"relative error"):
        check_pair(rnn_forward, _rnn_backward_last_step_only, p)
