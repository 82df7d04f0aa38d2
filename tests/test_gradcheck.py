"""The gradient checker itself: it must pass correct gradients and *fail* on wrong ones."""

import functools

import numpy as np
import pytest

from course.core.gradcheck import (
    assert_gradient_close,
    check_loss,
    check_module,
    check_pair,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
)
from course.core.module import Module, Sequential


def test_rel_error_is_cs231n_max_elementwise_relative_difference():
    x = np.array([1.0, 2.0, 0.0])
    y = np.array([1.0, 2.2, 0.0])
    assert rel_error(x, y) == pytest.approx(0.2 / 4.2, rel=1e-12)
    assert rel_error(x, x) == 0.0


def test_numerical_gradient_of_cubic_matches_3x_squared():
    x = np.linspace(-2, 2, 6)  # no zero: a zero gradient makes the relative error ill-conditioned
    g = numerical_gradient(lambda: float(np.sum(x**3)), x)
    assert rel_error(g, 3 * x**2) < 1e-9
    assert np.array_equal(x, np.linspace(-2, 2, 6)), "x must be restored after perturbation"


def test_numerical_gradient_array_contracts_with_upstream_gradient():
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    g = numerical_gradient_array(lambda: np.sin(x), x, dout)
    assert rel_error(g, np.cos(x) * dout) < 1e-8


def test_assert_gradient_close_names_input_index_and_both_values():
    numeric = np.array([[1.0, 2.0], [3.0, 4.0]])
    analytic = numeric.copy()
    analytic[1, 0] = 3.5
    with pytest.raises(AssertionError) as err:
        assert_gradient_close("w", analytic, numeric, 1e-7)
    msg = str(err.value)
    assert "dw" in msg and "(1, 0)" in msg and "3.5" in msg and "expect 3" in msg


def test_assert_gradient_close_rejects_wrong_shape():
    with pytest.raises(AssertionError, match="shape"):
        assert_gradient_close("x", np.zeros((2, 3)), np.zeros((3, 2)))


def _square_forward(x, w):
    return x * x * w, (x, w)


def _square_backward(dout, cache):
    x, w = cache
    return 2 * x * w * dout, x * x * dout


def _square_backward_wrong(dout, cache):
    x, w = cache
    return x * w * dout, x * x * dout  # missing the factor 2


def test_check_pair_passes_correct_and_fails_wrong_backward():
    rng = np.random.default_rng(1)
    inputs = {"x": rng.standard_normal((3, 2)), "w": rng.standard_normal((3, 2))}
    errors = check_pair(_square_forward, _square_backward, inputs)
    assert set(errors) == {"x", "w"} and max(errors.values()) < 1e-8
    with pytest.raises(AssertionError, match="dx"):
        check_pair(_square_forward, _square_backward_wrong, inputs)


def test_check_pair_binds_non_differentiable_arguments_with_partial():
    def scaled_forward(x, scale):
        return x * scale, scale

    def scaled_backward(dout, scale):
        return dout * scale

    x = np.random.default_rng(2).standard_normal(5)
    check_pair(functools.partial(scaled_forward, scale=3.0), scaled_backward, {"x": x})


def test_check_pair_requires_float64():
    with pytest.raises(ValueError, match="float64"):
        check_pair(_square_forward, _square_backward, {"x": np.ones(2, np.float32), "w": np.ones(2)})


def test_check_loss_on_mean_squared_error():
    rng = np.random.default_rng(3)
    pred, target = rng.standard_normal(6), rng.standard_normal(6)
    check_loss(lambda p: (np.mean((p - target) ** 2), 2 * (p - target) / p.size), {"pred": pred})


class _Scale(Module):
    """y = x * s with a learnable vector s; used twice in a Sequential to exercise accumulation."""

    def __init__(self, d, rng, accumulate=True):
        super().__init__()
        self.add_param("s", rng.standard_normal(d))
        self.use_accumulate = accumulate

    def forward(self, x):
        self.cache = x
        return x * self.params["s"]

    def backward(self, dout):
        ds = np.sum(dout * self.cache, axis=0)
        if self.use_accumulate:
            self.accumulate("s", ds)
        else:
            self.grads["s"][...] = ds
        return dout * self.params["s"]


def test_check_module_covers_input_and_every_parameter():
    rng = np.random.default_rng(4)
    net = Sequential(_Scale(3, rng), _Scale(3, rng))
    errors = check_module(net, rng.standard_normal((4, 3)))
    assert set(errors) == {"x", "0.s", "1.s"}


def test_module_gradients_accumulate_over_two_backward_calls():
    rng = np.random.default_rng(5)
    layer = _Scale(3, rng)
    x = rng.standard_normal((2, 3))
    layer.forward(x)
    layer.backward(np.ones((2, 3)))
    once = layer.grads["s"].copy()
    layer.backward(np.ones((2, 3)))
    assert np.allclose(layer.grads["s"], 2 * once)
    layer.zero_grad()
    assert not layer.grads["s"].any()


def _two_outputs_forward(x, w):
    return x * w, x + w, (x, w)


def _two_outputs_backward(dprod, dsum, cache):
    x, w = cache
    return dprod * w + dsum, dprod * x + dsum


def test_check_pair_puts_an_upstream_gradient_on_every_output():
    rng = np.random.default_rng(6)
    inputs = {"x": rng.standard_normal((2, 3)), "w": rng.standard_normal((2, 3))}
    errors = check_pair(_two_outputs_forward, _two_outputs_backward, inputs)
    assert max(errors.values()) < 1e-8
    forgets_the_sum = lambda dprod, dsum, cache: _two_outputs_backward(dprod, 0 * dsum, cache)
    with pytest.raises(AssertionError, match="dx"):
        check_pair(_two_outputs_forward, forgets_the_sum, inputs)


@pytest.mark.parametrize("name", ["rel_error", "numerical_gradient", "numerical_gradient_array"])
def test_every_check_is_built_on_the_graded_helpers(monkeypatch, name):
    # As in the a02 student edition, where the three graded helpers raise: no check has its own copy.
    import course.core.gradcheck as gradcheck

    def stub(*args, **kwargs):
        raise NotImplementedError(name)

    monkeypatch.setattr(gradcheck, name, stub)
    rng = np.random.default_rng(7)
    inputs = {"x": rng.standard_normal((3, 2)), "w": rng.standard_normal((3, 2))}
    net = Sequential(_Scale(2, rng))
    checks = {
        "rel_error": [lambda: assert_gradient_close("x", np.ones(2), np.ones(2))],
        "numerical_gradient": [
            lambda: gradcheck.check_loss(lambda p: (np.sum(p**2), 2 * p), {"p": np.ones(2)})
        ],
        "numerical_gradient_array": [
            lambda: gradcheck.check_pair(_square_forward, _square_backward, inputs),
            lambda: gradcheck.check_module(net, rng.standard_normal((4, 2))),
        ],
    }
    for check in checks[name]:
        with pytest.raises(NotImplementedError, match=name):
            check()


def test_assert_gradient_close_points_at_a_nan_in_the_numeric_gradient():
    numeric = np.array([1.0, np.nan, 3.0])
    with pytest.raises(AssertionError, match=r"at index \(1,\)"):
        assert_gradient_close("b", np.array([1.0, 2.0, 3.0]), numeric)
