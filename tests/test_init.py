"""Tests for course.training.init: fans, variances of the Glorot and He initialisers against theory,
orthogonality,
determinism, and activation scale through a deep ReLU net."""

import numpy as np
import pytest

from course.training.init import fans, glorot_normal, glorot_uniform, he_normal, he_uniform, orthogonal, zeros


def test_fans_follow_the_affine_and_convolution_layouts():
    assert fans((30,)) == (30, 30)
    assert fans((64, 10)) == (64, 10)  # x @ w: rows are inputs
    assert fans((8, 3, 5, 5)) == (75, 200)  # (F, C, HH, WW)
    with pytest.raises(ValueError, match="positive"):
        fans((0, 3))


# (initialiser, shape, theoretical variance); 40,000+ samples give a standard error of the sample
# variance of about 1% (uniform) to 0.7% (normal), so 4% is a four-sigma bound
VARIANCE_CASES = [
    (glorot_uniform, (300, 200), 2 / 500),
    (glorot_normal, (300, 200), 2 / 500),
    (he_normal, (250, 400), 2 / 250),
    (he_uniform, (250, 400), 2 / 250),
    (glorot_normal, (16, 8, 3, 3), 2 / (72 + 144)),
    (he_uniform, (16, 8, 3, 3), 2 / 72),
]


@pytest.mark.parametrize(
    "init, shape, variance", VARIANCE_CASES, ids=[f"{c[0].__name__}-{len(c[1])}d" for c in VARIANCE_CASES]
)
def test_initialiser_has_zero_mean_and_the_theoretical_variance(init, shape, variance):
    if shape == (16, 8, 3, 3):
        # small filters: average 20 draws to get enough samples
        w = np.stack([init(shape, np.random.default_rng(s), np.float64) for s in range(20)])
    else:
        w = init(shape, np.random.default_rng(0), np.float64)
    assert w.shape[-len(shape) :] == shape
    assert abs(w.mean()) < 4 * np.sqrt(variance / w.size)
    assert w.var() == pytest.approx(variance, rel=0.04), (
        f"{init.__name__}{shape}: var {w.var():.3e}, want {variance:.3e}"
    )


def test_uniform_initialisers_stay_within_their_limits():
    w = glorot_uniform((100, 50), np.random.default_rng(0))
    limit = np.sqrt(6 / 150)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    w = he_uniform((100, 50), np.random.default_rng(0))
    assert np.abs(w).max() <= np.sqrt(6 / 100)


def test_glorot_gain_scales_the_standard_deviation():
    a = glorot_normal((200, 200), np.random.default_rng(3), np.float64)
    b = glorot_normal((200, 200), np.random.default_rng(3), np.float64, gain=2.0)
    np.testing.assert_allclose(b, 2 * a)


@pytest.mark.parametrize("init", [glorot_uniform, glorot_normal, he_normal, he_uniform, orthogonal])
def test_initialisers_are_deterministic_given_the_generator_and_honour_dtype(init):
    a = init((20, 30), np.random.default_rng(7))
    b = init((20, 30), np.random.default_rng(7))
    c = init((20, 30), np.random.default_rng(8))
    assert a.dtype == np.float32 and np.array_equal(a, b) and not np.array_equal(a, c)
    assert init((4, 3), np.random.default_rng(0), np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        init((4, 3), 0)


@pytest.mark.parametrize("shape", [(50, 50), (80, 30), (30, 80), (6, 2, 3, 3)])
def test_orthogonal_has_orthonormal_columns_or_rows(shape):
    q = orthogonal(shape, np.random.default_rng(0), np.float64).reshape(shape[0], -1)
    rows, cols = q.shape
    gram = q.T @ q if rows >= cols else q @ q.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_square_matrix_keeps_norms_and_gain_scales_them():
    q = orthogonal((40, 40), np.random.default_rng(1), np.float64, gain=1.5)
    x = np.random.default_rng(2).standard_normal(40)
    assert np.linalg.norm(x @ q) == pytest.approx(1.5 * np.linalg.norm(x), rel=1e-12)


def test_orthogonal_sign_fix_gives_a_positive_diagonal_of_r():
    q = orthogonal((30, 30), np.random.default_rng(4), np.float64)
    # q came from qr(a) with columns flipped so that diag(r) > 0: then q^T a = r has a positive diagonal
    a = np.random.default_rng(4).standard_normal((30, 30))
    assert np.all(np.diag(q.T @ a) > 0)


def test_zeros_has_the_shape_and_dtype():
    z = zeros((3, 4), None, np.float64)
    assert z.shape == (3, 4) and z.dtype == np.float64 and not z.any()


def test_he_keeps_relu_activations_at_scale_through_depth_where_glorot_shrinks_them():
    # lecture 004: with ReLU, Glorot halves the second moment per layer; He keeps it
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((500, 256))
    scale = {}
    for init in (he_normal, glorot_normal):
        x = x0
        for _ in range(10):
            x = np.maximum(x @ init((256, 256), rng, np.float64), 0)
        scale[init.__name__] = np.sqrt((x**2).mean())
    assert 0.5 < scale["he_normal"] < 2.0
    assert scale["glorot_normal"] < 0.1
