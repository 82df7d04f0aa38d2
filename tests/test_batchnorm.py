"""Tests for course/layers/batchnorm.py: batch normalisation, train and eval modes, running averages."""

import functools

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.layers.batchnorm import BatchNorm, batchnorm_backward, batchnorm_forward

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).
SHAPES = [(8, 5), (4, 3), (16, 1)]


def _inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 3.0, size=shape)  # off-centre and wide, so normalising actually does something
    gamma = rng.uniform(0.5, 1.5, size=shape[1])
    beta = rng.standard_normal(shape[1])
    return x, gamma, beta


def test_batchnorm_train_output_has_zero_mean_and_unit_variance_per_feature():
    x, _, _ = _inputs((32, 4))
    d = x.shape[1]
    out, _ = batchnorm_forward(x, np.ones(d), np.zeros(d), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-5)  # eps = 1e-5 shrinks it very slightly


def test_batchnorm_applies_gamma_and_beta_after_normalising():
    x, gamma, beta = _inputs((10, 3))
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 1e-12})
    np.testing.assert_allclose(out, gamma * (x - x.mean(0)) / x.std(0) + beta, rtol=1e-9)


@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_train_backward_matches_central_difference(shape):
    x, gamma, beta = _inputs(shape, seed=1)
    forward = functools.partial(batchnorm_forward, bn_param={"mode": "train"})
    errors = check_pair(forward, batchnorm_backward, {"x": x, "gamma": gamma, "beta": beta})
    assert max(errors.values()) < 1e-7


def test_batchnorm_eval_backward_matches_central_difference():
    x, gamma, beta = _inputs((6, 4), seed=2)
    bn_param = {
        "mode": "eval",
        "running_mean": np.array([1.0, 2.0, 0.0, -1.0]),
        "running_var": np.full(4, 4.0),
    }
    forward = functools.partial(batchnorm_forward, bn_param=bn_param)
    errors = check_pair(forward, batchnorm_backward, {"x": x, "gamma": gamma, "beta": beta})
    assert max(errors.values()) < 1e-7


def test_running_average_gives_the_new_batch_weight_one_minus_momentum():
    # running = momentum * running + (1 - momentum) * batch_stat, from zeros; with the weights swapped
    # (the lecture code's bug) the first step would give 0.9 * mean instead of 0.1 * mean.
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(5.0, 2.0, size=(20, 3)), rng.normal(-1.0, 0.5, size=(20, 3))
    ones, zeros = np.ones(3), np.zeros(3)
    bn_param = {"mode": "train", "momentum": 0.9}
    batchnorm_forward(x1, ones, zeros, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x1.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x1.var(0), rtol=1e-12)  # biased variance
    batchnorm_forward(x2, ones, zeros, bn_param)
    np.testing.assert_allclose(
        bn_param["running_mean"], 0.9 * 0.1 * x1.mean(0) + 0.1 * x2.mean(0), rtol=1e-12
    )
    np.testing.assert_allclose(bn_param["running_var"], 0.9 * 0.1 * x1.var(0) + 0.1 * x2.var(0), rtol=1e-12)


def test_running_averages_converge_to_the_data_statistics():
    rng = np.random.default_rng(4)
    bn_param = {"mode": "train"}
    for _ in range(200):  # 0.9^200 ~ 7e-10: the zero start is forgotten
        batchnorm_forward(rng.normal(3.0, 2.0, size=(64, 2)), np.ones(2), np.zeros(2), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 3.0, atol=0.15)
    np.testing.assert_allclose(bn_param["running_var"], 4.0 * 63 / 64, rtol=0.1)


def test_batchnorm_eval_mode_uses_running_statistics_and_leaves_them_alone():
    x, gamma, beta = _inputs((5, 3))
    mean, var = np.array([1.0, -2.0, 0.5]), np.array([4.0, 1.0, 9.0])
    bn_param = {"mode": "eval", "running_mean": mean.copy(), "running_var": var.copy()}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * (x - mean) / np.sqrt(var + 1e-5) + beta, rtol=1e-12)
    np.testing.assert_array_equal(bn_param["running_mean"], mean)
    # in eval mode one example's output does not depend on the rest of the batch
    np.testing.assert_allclose(batchnorm_forward(x[:1], gamma, beta, bn_param)[0], out[:1], rtol=1e-15)


def test_batchnorm_preserves_float32():
    x, gamma, beta = (a.astype(np.float32) for a in _inputs((6, 3)))
    bn_param = {"mode": "train"}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    assert out.dtype == bn_param["running_mean"].dtype == bn_param["running_var"].dtype == np.float32
    assert all(g.dtype == np.float32 for g in batchnorm_backward(np.ones_like(out), cache))


def test_batchnorm_rejects_bad_arguments_naming_them():
    x, gamma, beta = _inputs((6, 3))
    with pytest.raises(
        ValueError, match=r"batchnorm_forward: gamma must have shape \(D,\) = \(3,\), got \(4,\)"
    ):
        batchnorm_forward(x, np.ones(4), beta, {"mode": "train"})
    with pytest.raises(ValueError, match=r"batchnorm_forward: bn_param\['mode'\] must be one of"):
        batchnorm_forward(x, gamma, beta, {"mode": "test"})
    with pytest.raises(ValueError, match=r"momentum"):
        batchnorm_forward(x, gamma, beta, {"mode": "train", "momentum": 1.5})


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_module_passes_check_module(training):
    layer = BatchNorm(4, dtype=np.float64)
    layer.params["gamma"][...] = [0.5, 1.0, 1.5, 2.0]
    layer.params["beta"][...] = [0.1, -0.2, 0.3, 0.0]
    x, _, _ = _inputs((6, 4), seed=5)
    layer.forward(x)  # one training step so the running statistics are non-zero for eval mode
    layer.train(training)
    errors = check_module(layer, x)
    assert set(errors) == {"x", "gamma", "beta"}


def test_batchnorm_state_dict_carries_the_running_averages():
    layer = BatchNorm(3, dtype=np.float64)
    x, _, _ = _inputs((10, 3), seed=8)
    layer.forward(x)
    state = layer.state_dict()
    assert set(state) == {"gamma", "beta", "running_mean", "running_var"}
    fresh = BatchNorm(3, dtype=np.float64)
    fresh.load_state_dict(state)
    layer.eval()
    fresh.eval()
    np.testing.assert_array_equal(fresh.forward(x), layer.forward(x))
    state["running_var"] = np.ones(4)
    with pytest.raises(ValueError, match=r"running_var has shape \(3,\), checkpoint has \(4,\)"):
        fresh.load_state_dict(state)


@pytest.mark.oracle
@pytest.mark.parametrize("shape", SHAPES[:2])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm_matches_torch_autograd(shape, mode):
    torch = pytest.importorskip("torch")
    n, d = shape
    x, gamma, beta = _inputs(shape, seed=6)
    dout = np.random.default_rng(7).standard_normal(shape)
    rm, rv = np.linspace(-1, 1, d), np.linspace(0.5, 2, d)
    bn_param = {"mode": mode, "momentum": 0.9, "running_mean": rm.copy(), "running_var": rv.copy()}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    grads = batchnorm_backward(dout, cache)

    xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    rm_t, rv_t = torch.tensor(rm), torch.tensor(rv)
    # torch's momentum is the weight of the *new* batch: ours 0.9 is torch's 0.1
    out_t = torch.nn.functional.batch_norm(
        xt, rm_t, rv_t, gt, bt, training=mode == "train", momentum=0.1, eps=1e-5
    )
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, t in zip(grads, (xt, gt, bt), strict=True):
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], rm_t.numpy(), rtol=1e-12)
    if mode == "train":  # torch averages the unbiased variance, we the biased one (divide by N)
        batch_var_t = (rv_t.numpy() - 0.9 * rv) / 0.1
        np.testing.assert_allclose(
            bn_param["running_var"], 0.9 * rv + 0.1 * batch_var_t * (n - 1) / n, rtol=1e-12
        )
    else:
        np.testing.assert_allclose(bn_param["running_var"], rv_t.numpy(), rtol=1e-12)
