"""Tests for course.training.optim: every update rule equals torch.optim's step by step, converges on a
quadratic,
keeps its inputs and dtype; weight decay, gradient clipping and the Optimizer wrapper."""

import numpy as np
import pytest

from course.core.module import Module
from course.training.optim import (
    Optimizer,
    adadelta,
    adagrad,
    adam,
    add_weight_decay,
    clip_grad_norm,
    l2_penalty,
    nesterov,
    rmsprop,
    sgd,
    sgd_momentum,
)

# f(w) = 1/2 w^T A w - b^T w, minimum at A^{-1} b, gradient A w - b: a gradient that depends on w, so
# a wrong step changes every later gradient and the error cannot hide.
A = np.array([[3.0, 0.5], [0.5, 1.0]])
B = np.array([1.0, -2.0])
W_STAR = np.linalg.solve(A, B)

# (rule, our config, torch optimiser name, torch kwargs) for the same update
ORACLE_CASES = [
    (sgd, {"learning_rate": 0.1}, "SGD", {"lr": 0.1}),
    (sgd_momentum, {"learning_rate": 0.1, "momentum": 0.8}, "SGD", {"lr": 0.1, "momentum": 0.8}),
    (
        nesterov,
        {"learning_rate": 0.1, "momentum": 0.8},
        "SGD",
        {"lr": 0.1, "momentum": 0.8, "nesterov": True},
    ),
    (adagrad, {"learning_rate": 0.3, "eps": 1e-10}, "Adagrad", {"lr": 0.3, "eps": 1e-10}),
    (
        adadelta,
        {"learning_rate": 1.0, "rho": 0.9, "eps": 1e-6},
        "Adadelta",
        {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    ),
    (
        rmsprop,
        {"learning_rate": 0.01, "decay_rate": 0.9, "eps": 1e-8},
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-8},
    ),
    (
        adam,
        {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.95, "eps": 1e-8},
        "Adam",
        {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-8},
    ),
]

# Convergence uses the same quadratic scaled by 1/4 (eigenvalues 0.2 and 0.8): with lr near 1 it is
# stable for SGD, and Adadelta, whose steps approach plain gradient steps near the minimum, does not
# overshoot. Budgets are about twice the steps measured to stay within the tolerance.
A_SMALL, B_SMALL = A / 4, B / 4
CONVERGENCE_CASES = [
    (sgd, {"learning_rate": 1.0}, 70, 1e-3),
    (sgd_momentum, {"learning_rate": 0.5, "momentum": 0.5}, 50, 1e-3),
    (nesterov, {"learning_rate": 0.5, "momentum": 0.5}, 50, 1e-3),
    (adagrad, {"learning_rate": 0.5}, 120, 1e-3),
    (adadelta, {"learning_rate": 1.0, "rho": 0.9, "eps": 1e-3}, 160, 1e-3),
    # with a constant lr RMSProp ends in a cycle of size about lr around the minimum (its steps are
    # normalised, so they do not shrink with the gradient): tolerance = lr
    (rmsprop, {"learning_rate": 0.01, "decay_rate": 0.9}, 550, 1e-2),
    (adam, {"learning_rate": 0.05}, 330, 1e-3),
]


def _quadratic_grad(w):
    return A @ w - B


@pytest.mark.oracle
@pytest.mark.parametrize(
    "rule, config, torch_name, torch_kwargs", ORACLE_CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_update_rule_matches_torch_optim_over_eight_steps(rule, config, torch_name, torch_kwargs):
    torch = pytest.importorskip("torch")
    w = np.array([2.0, -1.5])
    p = torch.tensor(w.copy(), requires_grad=True)
    opt = getattr(torch.optim, torch_name)([p], **torch_kwargs)
    config = dict(config)
    for step in range(1, 9):
        w, config = rule(w, _quadratic_grad(w), config)
        p.grad = torch.from_numpy(_quadratic_grad(p.detach().numpy()))
        opt.step()
        np.testing.assert_allclose(
            w, p.detach().numpy(), rtol=1e-12, atol=1e-14,
            err_msg=f"{rule.__name__} differs from torch.optim.{torch_name} after step {step}",
        )  # fmt: skip


@pytest.mark.parametrize(
    "rule, config, budget, tol", CONVERGENCE_CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_update_rule_reaches_the_minimum_of_a_quadratic(rule, config, budget, tol):
    w, config = np.zeros(2), dict(config)  # starts 2.5 away from w*
    for _ in range(budget):
        w, config = rule(w, A_SMALL @ w - B_SMALL, config)
    assert np.linalg.norm(w - W_STAR) < tol, f"{rule.__name__}: |w - w*| = {np.linalg.norm(w - W_STAR):.2e}"


@pytest.mark.parametrize("rule", [sgd, sgd_momentum, nesterov, adagrad, adadelta, rmsprop, adam])
def test_update_rule_leaves_inputs_alone_keeps_float32_and_fills_default_state(rule):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    dw = rng.standard_normal((3, 4)).astype(np.float32)
    w0, dw0 = w.copy(), dw.copy()
    next_w, config = rule(w, dw, None)
    assert np.array_equal(w, w0) and np.array_equal(dw, dw0), f"{rule.__name__} modified w or dw"
    assert next_w.dtype == np.float32 and next_w.shape == (3, 4)
    assert "learning_rate" in config and not np.array_equal(next_w, w)
    for value in config.values():
        if isinstance(value, np.ndarray):
            assert value.shape == w.shape and value.dtype == np.float32


def test_first_adam_step_has_size_learning_rate_thanks_to_bias_correction():
    # m_hat = dw and v_hat = dw^2 on step 1, so every coordinate moves by lr * sign(dw)
    dw = np.array([1e-3, -5.0, 20.0])
    next_w, _ = adam(np.zeros(3), dw, {"learning_rate": 0.1, "eps": 1e-12})
    np.testing.assert_allclose(next_w, -0.1 * np.sign(dw), rtol=1e-6)


def test_momentum_velocity_accumulates_a_constant_gradient_geometrically():
    w, config = np.zeros(1), {"learning_rate": 1.0, "momentum": 0.5}
    for _ in range(3):
        w, config = sgd_momentum(w, np.ones(1), config)
    # v = -(1), -(1 + 0.5), -(1 + 0.5 + 0.25); w is their sum
    np.testing.assert_allclose(config["velocity"], [-1.75])
    np.testing.assert_allclose(w, [-(1 + 1.5 + 1.75)])


def test_rules_reject_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match="adam: dw must have shape"):
        adam(np.zeros((2, 3)), np.zeros((3, 2)))


def test_weight_decay_adds_lambda_w_and_matches_the_penalty_gradient():
    rng = np.random.default_rng(1)
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    grads = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    before = {k: g.copy() for k, g in grads.items()}
    decayed = add_weight_decay(grads, params, 0.1)
    for k in params:
        np.testing.assert_allclose(decayed[k], before[k] + 0.1 * params[k])
        assert np.array_equal(grads[k], before[k]), "add_weight_decay must not modify its input"
    # the penalty's directional derivative equals the added term (central differences are exact on quadratics)
    d, h = rng.standard_normal((3, 2)), 1e-4
    plus = l2_penalty([params["w"] + h * d], 0.1)
    minus = l2_penalty([params["w"] - h * d], 0.1)
    np.testing.assert_allclose((plus - minus) / (2 * h), (0.1 * params["w"] * d).sum(), rtol=1e-8)
    assert isinstance(add_weight_decay([grads["b"]], [params["b"]], 0.0), list)


def test_clip_grad_norm_scales_to_max_norm_and_leaves_small_gradients():
    grads = [np.array([3.0, 0.0]), np.array([[0.0, 4.0]])]  # global norm 5
    total = clip_grad_norm(grads, 1.0)
    assert total == pytest.approx(5.0)
    clipped = np.sqrt(sum((g**2).sum() for g in grads))
    assert clipped == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(grads[0], [0.6, 0.0], rtol=1e-5)
    small = {"a": np.array([0.3, 0.4])}
    assert clip_grad_norm(small, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small["a"], [0.3, 0.4])


@pytest.mark.oracle
def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal((4, 3)), rng.standard_normal(3)]
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads, strict=True):
        t.grad = torch.from_numpy(g.copy())
    expected = torch.nn.utils.clip_grad_norm_(tensors, 0.7).item()
    assert clip_grad_norm(grads, 0.7) == pytest.approx(expected, rel=1e-12)
    for t, g in zip(tensors, grads, strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)


class _Quadratic(Module):
    """Two parameters with gradient A w - b each (enough to exercise the per-parameter configs)."""

    def __init__(self):
        super().__init__()
        self.add_param("w1", np.array([2.0, -1.5]))
        self.add_param("w2", np.array([-0.5, 1.0]))

    def backward_quadratic(self):
        for name in self.params:
            self.accumulate(name, _quadratic_grad(self.params[name]))


@pytest.mark.oracle
def test_optimizer_with_weight_decay_and_clipping_matches_torch_adam():
    torch = pytest.importorskip("torch")
    model = _Quadratic()
    references = {name: model.params[name] for name in model.params}
    tensors = [torch.tensor(model.params[n].copy(), requires_grad=True) for n in ("w1", "w2")]
    topt = torch.optim.Adam(tensors, lr=0.05, weight_decay=0.1)
    opt = Optimizer(model, adam, weight_decay=0.1, max_grad_norm=1.0, learning_rate=0.05)
    for _ in range(6):
        opt.zero_grad()
        model.backward_quadratic()
        opt.step()
        for t in tensors:
            t.grad = torch.from_numpy(_quadratic_grad(t.detach().numpy()))
        torch.nn.utils.clip_grad_norm_(tensors, 1.0)
        topt.step()
    for name, t in zip(("w1", "w2"), tensors, strict=True):
        np.testing.assert_allclose(model.params[name], t.detach().numpy(), rtol=1e-12, atol=1e-14)
        assert model.params[name] is references[name], "Optimizer.step must update parameters in place"
    assert opt.configs["w1"]["t"] == 6 and opt.configs["w1"]["m"] is not opt.configs["w2"]["m"]


def test_optimizer_learning_rate_can_be_changed_and_rule_must_be_a_function():
    model = _Quadratic()
    opt = Optimizer(model, sgd, learning_rate=0.1)
    opt.set_learning_rate(0.5)
    model.backward_quadratic()
    before, grad = model.params["w1"].copy(), model.grads["w1"].copy()
    opt.step()
    np.testing.assert_allclose(model.params["w1"], before - 0.5 * grad)
    with pytest.raises(ValueError, match="update function"):
        Optimizer(model, "adam")
