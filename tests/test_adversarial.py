"""Tests for course/models/adversarial.py: the input gradient of the loss, the fast gradient sign method."""

import numpy as np
import pytest

from course.core.gradcheck import assert_gradient_close, numerical_gradient
from course.core.module import Sequential
from course.data import load_digits
from course.layers.activations import ReLU, Tanh
from course.layers.affine import Linear
from course.layers.losses import softmax_cross_entropy
from course.models.adversarial import fgsm_attack, fgsm_step, input_gradient, predict_with_confidence
from course.training.optim import Optimizer, adam
from course.training.train import accuracy, train


def _mlp(d=5, h=7, c=3, seed=0):
    return Sequential(
        Linear(d, h, rng=seed, dtype=np.float64), Tanh(), Linear(h, c, rng=seed + 1, dtype=np.float64)
    )


def _trained_digits_mlp():
    model = Sequential(Linear(64, 64, rng=0), ReLU(), Linear(64, 10, rng=1))
    optimizer = Optimizer(model, adam, learning_rate=3e-3)
    data = load_digits("train")
    rng = np.random.default_rng(0)
    train(model, softmax_cross_entropy, optimizer, data, 8, 32, rng, checkpoint=None, progress=False)
    return model


def test_input_gradient_matches_central_difference_of_the_loss_in_float64():
    # float64, h = 1e-5, relative error < 1e-7 (tanh keeps the loss smooth everywhere)
    rng = np.random.default_rng(1)
    model = _mlp()
    x, y = rng.standard_normal((4, 5)), rng.integers(0, 3, 4)
    loss, dx = input_gradient(model, x, y)
    assert isinstance(loss, float) and dx.shape == x.shape
    numeric = numerical_gradient(lambda: float(softmax_cross_entropy(model.forward(x), y)[0]), x)
    assert_gradient_close("x", dx, numeric, 1e-7)
    np.testing.assert_allclose(loss, softmax_cross_entropy(model.forward(x), y)[0], rtol=1e-12)


def test_fgsm_step_moves_every_pixel_by_epsilon_along_the_sign_and_clips_to_the_image_range():
    x = np.array([[0.5, 0.95, 0.02, 0.3]])
    dx = np.array([[2.0, 1.0, -3.0, 0.0]])
    before = x.copy()
    x_adv = fgsm_step(x, dx, 0.1)
    np.testing.assert_allclose(x_adv, [[0.6, 1.0, 0.0, 0.3]], rtol=1e-12)  # sign(0) = 0 leaves a pixel
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(fgsm_step(x, dx, 0.1, low=-1.0, high=2.0), [[0.6, 1.05, -0.08, 0.3]])
    with pytest.raises(ValueError, match=r"fgsm_step: epsilon must be >= 0"):
        fgsm_step(x, dx, -0.1)
    with pytest.raises(ValueError, match=r"fgsm_step: dx must have shape"):
        fgsm_step(x, dx[:, :3], 0.1)


def test_fgsm_raises_the_loss_and_stays_within_epsilon_in_the_max_norm():
    rng = np.random.default_rng(2)
    model = _mlp()
    x, y = rng.uniform(0.2, 0.8, (6, 5)), rng.integers(0, 3, 6)
    loss, _ = input_gradient(model, x, y)
    x_adv = fgsm_attack(model, x, y, 0.05)
    assert np.max(np.abs(x_adv - x)) <= 0.05 + 1e-12
    assert softmax_cross_entropy(model.forward(x_adv), y)[0] > loss


def test_fgsm_fools_a_trained_digits_classifier_far_more_than_random_signs_of_the_same_size():
    model = _trained_digits_mlp()
    X, y = load_digits("test")
    clean = accuracy(model, X, y)
    attacked = accuracy(model, fgsm_attack(model, X, y, 0.15), y)
    signs = np.sign(np.random.default_rng(3).standard_normal(X.shape)).astype(np.float32)
    random = accuracy(model, np.clip(X + 0.15 * signs, 0, 1), y)
    assert clean > 0.9 and random > 0.85 and attacked < 0.5


def test_predict_with_confidence_returns_the_argmax_and_its_probability():
    model = _mlp()
    x = np.random.default_rng(4).standard_normal((5, 5))
    labels, confidence = predict_with_confidence(model, x)
    scores = model.forward(x)
    np.testing.assert_array_equal(labels, scores.argmax(axis=1))
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(confidence, probs.max(axis=1), rtol=1e-12)


@pytest.mark.oracle
def test_input_gradient_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    model = Sequential(Linear(5, 7, rng=0, dtype=np.float64), ReLU(), Linear(7, 3, rng=1, dtype=np.float64))
    x, y = rng.standard_normal((4, 5)), rng.integers(0, 3, 4)
    loss, dx = input_gradient(model, x, y)
    w1, b1, w2, b2 = (torch.tensor(p) for _, p, _ in model.parameters())
    xt = torch.tensor(x, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(torch.relu(xt @ w1 + b1) @ w2 + b2, torch.tensor(y))
    loss_t.backward()
    np.testing.assert_allclose(loss, loss_t.item(), rtol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
