"""Tests for course/models/autoencoder.py: the linear autoencoder pair, principal angles, PCA, the
denoising autoencoder."""

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.data import load_digits
from course.layers.losses import mse_loss
from course.models.autoencoder import (
    LinearAutoencoder,
    corrupt,
    denoising_autoencoder,
    linear_autoencoder_backward,
    linear_autoencoder_closed_form,
    linear_autoencoder_forward,
    pca_basis,
    principal_angles,
    tied_autoencoder_backward,
    tied_autoencoder_forward,
)
from course.training.optim import Optimizer, adam, sgd_momentum
from course.training.train import train_epoch, train_step

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).


def _inputs(n=5, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((d, k)), rng.standard_normal((k, d))


def test_linear_autoencoder_forward_matches_hand_computed_values():
    x = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    w_enc = np.array([[1.0], [0.5], [-1.0]])  # (3, 1): z = x1 + x2 / 2 - x3
    w_dec = np.array([[2.0, 0.0, 1.0]])  # (1, 3)
    x_hat, cache = linear_autoencoder_forward(x, w_enc, w_dec)
    np.testing.assert_allclose(x_hat, [[4.0, 0.0, 2.0], [-7.0, 0.0, -3.5]], rtol=1e-12)
    np.testing.assert_allclose(cache[3], [[2.0], [-3.5]], rtol=1e-12)  # the codes


@pytest.mark.parametrize("n,d,k", [(5, 6, 3), (1, 4, 1), (7, 3, 3)])
def test_linear_autoencoder_backward_matches_central_difference_on_x_w_enc_w_dec(n, d, k):
    x, w_enc, w_dec = _inputs(n, d, k, seed=1)
    errors = check_pair(
        linear_autoencoder_forward, linear_autoencoder_backward, {"x": x, "w_enc": w_enc, "w_dec": w_dec}
    )
    assert max(errors.values()) < 1e-7


def test_tied_autoencoder_backward_adds_the_gradients_of_both_uses_of_w():
    x, w, _ = _inputs(4, 5, 2, seed=2)
    errors = check_pair(tied_autoencoder_forward, tied_autoencoder_backward, {"x": x, "w": w})
    assert max(errors.values()) < 1e-7
    out, cache = tied_autoencoder_forward(x, w)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    _, dw_enc, dw_dec = linear_autoencoder_backward(dout, cache)
    np.testing.assert_allclose(tied_autoencoder_backward(dout, cache)[1], dw_enc + dw_dec.T, rtol=1e-12)


def test_linear_autoencoder_rejects_mismatched_shapes_naming_the_argument():
    x, w_enc, w_dec = _inputs()
    with pytest.raises(ValueError, match=r"linear_autoencoder_forward: w_enc must have shape \(D, K\)"):
        linear_autoencoder_forward(x, w_enc[:4], w_dec)
    with pytest.raises(ValueError, match=r"linear_autoencoder_forward: w_dec must have shape \(K, D\)"):
        linear_autoencoder_forward(x, w_enc, w_dec[:2])
    _, cache = linear_autoencoder_forward(x, w_enc, w_dec)
    with pytest.raises(ValueError, match=r"linear_autoencoder_backward: dout must have shape"):
        linear_autoencoder_backward(np.zeros((5, 2)), cache)


@pytest.mark.parametrize("tied", [False, True])
def test_linear_autoencoder_module_passes_check_module(tied):
    ae = LinearAutoencoder(5, 2, tied=tied, rng=4, init_std=1.0)
    errors = check_module(ae, np.random.default_rng(5).standard_normal((4, 5)))
    assert set(errors) == ({"x", "w"} if tied else {"x", "w_enc", "w_dec"})


def test_principal_angles_of_a_rotated_plane_are_zero_and_the_rotation_angle():
    theta = 0.3
    A = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # the (x, y) plane
    B = np.array([[2.0, 0.0], [0.0, np.cos(theta)], [0.0, np.sin(theta)]])  # tilted about the x axis
    np.testing.assert_allclose(principal_angles(A, B), [0.0, theta], atol=1e-12)
    np.testing.assert_allclose(principal_angles(A, np.array([[0.0], [0.0], [5.0]])), [np.pi / 2], atol=1e-12)


def test_principal_angles_depend_on_the_spans_only_and_agree_with_the_projector_eigenvalues():
    rng = np.random.default_rng(6)
    A, B = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    angles = principal_angles(A, B)
    assert angles.shape == (2,) and np.all(np.diff(angles) >= 0)
    mixed = principal_angles(A @ rng.standard_normal((3, 3)), B @ rng.standard_normal((2, 2)))
    np.testing.assert_allclose(mixed, angles, rtol=1e-9)
    # independent formula: cos^2 of the angles are the non-zero eigenvalues of P_B P_A P_B
    project = lambda M: M @ np.linalg.pinv(M)
    eig = np.sort(np.linalg.eigvalsh(project(B) @ project(A) @ project(B)))[::-1][:2]
    np.testing.assert_allclose(np.cos(angles) ** 2, eig, rtol=1e-9)
    np.testing.assert_allclose(principal_angles(A, A @ np.diag([1.0, 2.0, -3.0])), 0.0, atol=1e-7)


def test_pca_basis_is_the_top_eigenvectors_of_the_covariance_and_closed_form_mse_is_exact():
    X, _ = load_digits("val", dtype=np.float64)
    Xc = X - X.mean(axis=0)
    vals, vecs = np.linalg.eigh(Xc.T @ Xc)
    V = pca_basis(X, 5)
    assert V.shape == (64, 5)
    np.testing.assert_allclose(V.T @ V, np.eye(5), atol=1e-12)
    assert principal_angles(V, vecs[:, ::-1][:, :5]).max() < 1e-6
    w_enc, w_dec, mse = linear_autoencoder_closed_form(X, 5)
    x_hat, _ = linear_autoencoder_forward(Xc, w_enc, w_dec)
    np.testing.assert_allclose(mse, np.mean((x_hat - Xc) ** 2), rtol=1e-10)
    np.testing.assert_allclose(mse, vals[:-5].sum() / X.size, rtol=1e-8)


@pytest.mark.parametrize("tied", [False, True])
def test_gradient_descent_on_the_linear_autoencoder_finds_the_principal_subspace(tied):
    # the claim of lecture 002, "if sigma = I, network performs SVD": 1e-3 rad after training
    X, _ = load_digits("train", dtype=np.float64)
    Xc = X - X.mean(axis=0)
    ae = LinearAutoencoder(64, 8, tied=tied, rng=0)
    optimizer = Optimizer(ae, sgd_momentum, learning_rate=4.0, momentum=0.9)
    for _ in range(2000):
        train_step(ae, mse_loss, optimizer, Xc, Xc)
    assert principal_angles(ae.decoder_directions(), pca_basis(X, 8)).max() < 1e-3
    _, _, best = linear_autoencoder_closed_form(X, 8)
    assert mse_loss(ae.forward(Xc), Xc)[0] < best * (1 + 1e-4)


def test_corrupt_masks_about_the_requested_fraction_and_never_changes_its_input():
    X = np.random.default_rng(7).uniform(0.1, 1.0, (200, 64)).astype(np.float32)
    before = X.copy()
    masked = corrupt(X, 0.3, np.random.default_rng(8), kind="mask")
    assert masked.dtype == np.float32 and abs(np.mean(masked == 0) - 0.3) < 0.01  # 12800 draws
    np.testing.assert_array_equal(masked[masked != 0], X[masked != 0])
    noisy = corrupt(X, 0.5, np.random.default_rng(8), kind="gaussian")
    assert noisy.min() >= 0 and noisy.max() <= 1 and noisy.dtype == np.float32
    np.testing.assert_array_equal(X, before)
    with pytest.raises(ValueError, match=r"corrupt: kind must be one of"):
        corrupt(X, 0.3, np.random.default_rng(0), kind="salt")


def test_denoising_autoencoder_reconstructs_masked_digits_better_than_the_corrupted_input():
    X, _ = load_digits("train")
    X_test, _ = load_digits("test")
    rng = np.random.default_rng(0)
    dae = denoising_autoencoder(64, 32, rng=0)
    optimizer = Optimizer(dae, adam, learning_rate=3e-3)
    for _ in range(10):
        train_epoch(dae, mse_loss, optimizer, corrupt(X, 0.5, rng), X, 32, rng)
    noisy = corrupt(X_test, 0.5, np.random.default_rng(1))
    noisy_error = np.mean((noisy - X_test) ** 2)
    assert np.mean((dae.forward(noisy) - X_test) ** 2) < 0.5 * noisy_error


@pytest.mark.oracle
@pytest.mark.parametrize("tied", [False, True])
def test_linear_autoencoder_matches_torch_autograd(tied):
    torch = pytest.importorskip("torch")
    x, w_enc, w_dec = _inputs(4, 6, 2, seed=9)
    dout = np.random.default_rng(10).standard_normal((4, 6))
    xt, et, dt = (torch.tensor(a, requires_grad=True) for a in (x, w_enc, w_dec))
    if tied:
        out, cache = tied_autoencoder_forward(x, w_enc)
        grads = tied_autoencoder_backward(dout, cache)
        out_t = xt @ et @ et.T
        leaves = (xt, et)
    else:
        out, cache = linear_autoencoder_forward(x, w_enc, w_dec)
        grads = linear_autoencoder_backward(dout, cache)
        out_t = xt @ et @ dt
        leaves = (xt, et, dt)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, leaf in zip(grads, leaves, strict=True):
        np.testing.assert_allclose(ours, leaf.grad.numpy(), rtol=1e-12, atol=1e-12)
