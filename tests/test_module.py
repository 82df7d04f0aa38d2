"""Tests for course/core/module.py: parameter naming, zero_grad, accumulation, train/eval, state_dict."""

import numpy as np
import pytest

from course.core.gradcheck import check_module
from course.core.module import Module, Sequential
from course.layers.activations import ReLU, Tanh
from course.layers.affine import Linear
from course.layers.batchnorm import BatchNorm
from course.layers.dropout import Dropout


def _mlp(dtype=np.float64):
    return Sequential(Linear(4, 5, rng=0, dtype=dtype), Tanh(), Linear(5, 2, rng=1, dtype=dtype))


def _x(shape=(3, 4), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_parameters_are_named_by_their_position_in_the_sequence():
    net = Sequential(Linear(4, 5), ReLU(), Sequential(Linear(5, 3), BatchNorm(3)))
    names = [name for name, _, _ in net.parameters()]
    assert names == ["0.w", "0.b", "2.0.w", "2.0.b", "2.1.gamma", "2.1.beta"]
    for _, p, g in net.parameters():
        assert p.shape == g.shape and p.dtype == g.dtype


def test_parameters_yield_the_live_arrays_so_an_update_changes_the_model():
    net = _mlp()
    x = _x()
    before = net.forward(x)
    for _, p, _ in net.parameters():
        p -= 0.1  # in-place, as an optimiser does
    assert not np.allclose(net.forward(x), before)


def test_sequential_passes_check_module():
    errors = check_module(_mlp(), _x())
    assert set(errors) == {"x", "0.w", "0.b", "2.w", "2.b"}


def test_gradients_accumulate_across_two_backward_calls_and_zero_grad_clears_them():
    net = _mlp()
    x, dout = _x(), _x((3, 2), seed=1)
    net.forward(x)
    net.backward(dout)
    once = {name: g.copy() for name, _, g in net.parameters()}
    net.forward(x)
    net.backward(dout)
    for name, _, g in net.parameters():
        np.testing.assert_allclose(g, 2 * once[name], rtol=1e-14)
    grads_before = [g for _, _, g in net.parameters()]
    net.zero_grad()
    for (_, _, g), same in zip(net.parameters(), grads_before, strict=True):
        assert g is same  # zeroed in place: an optimiser holding these arrays sees the change
        assert not np.any(g)


def test_train_and_eval_propagate_to_every_child():
    net = Sequential(Linear(4, 4), Sequential(Dropout(0.5, rng=0), BatchNorm(4)))
    net.eval()
    assert all(not m.training for m in (net, *net.layers, *net.layers[1].layers))
    x = _x((8, 4)).astype(np.float32)
    np.testing.assert_array_equal(net.forward(x), net.forward(x))  # eval: deterministic
    net.train()
    assert all(m.training for m in (net, *net.layers, *net.layers[1].layers))


def test_state_dict_round_trip_restores_every_parameter():
    net = _mlp()
    x = _x()
    expected = net.forward(x)
    state = net.state_dict()
    assert list(state) == ["0.w", "0.b", "2.w", "2.b"]
    for _, p, _ in net.parameters():
        p[...] = 0.0
    assert state["0.w"].any()  # the state holds copies, not views of the parameters
    net.load_state_dict(state)
    np.testing.assert_array_equal(net.forward(x), expected)
    other = _mlp()  # another model of the same architecture, with different weights, loads the same state
    for _, p, _ in other.parameters():
        p += 1.0
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.forward(x), expected)


def test_load_state_dict_rejects_missing_or_misshaped_entries_naming_them():
    net = _mlp()
    state = net.state_dict()
    with pytest.raises(ValueError, match=r"missing parameter '2.b'"):
        net.load_state_dict({k: v for k, v in state.items() if k != "2.b"})
    state["0.w"] = np.zeros((5, 4))
    with pytest.raises(ValueError, match=r"0.w has shape \(4, 5\), checkpoint has \(5, 4\)"):
        net.load_state_dict(state)


def test_sequential_rejects_a_layer_that_is_not_a_module():
    with pytest.raises(ValueError, match=r"Sequential: layer 1 must be a Module, got function"):
        Sequential(Linear(2, 2), lambda x: x)


def test_module_base_class_says_which_method_is_missing():
    with pytest.raises(NotImplementedError, match="Module.forward"):
        Module().forward(_x())


def test_to_cpu_keeps_parameters_and_state_and_returns_self():
    net = Sequential(BatchNorm(3))
    net.forward(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    before = net.state_dict()
    assert net.to("cpu") is net
    after = net.state_dict()
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)
