"""Tests for course/kernels/softmax.py: the shared-memory softmax kernel against its NumPy twin.

Blocks of 8 (or 4, or 1) threads in the simulator, so rows of 17 or 21 columns are longer than a
block (each thread walks several columns) and rows of 3 are shorter (some threads own nothing and must
contribute -inf to the max and 0 to the sum).
"""

import numpy as np
import pytest

from course.kernels.launch import use_simulator_unless_gpu
from course.kernels.softmax import softmax_rows, softmax_rows_numpy

pytest.importorskip("numba")
use_simulator_unless_gpu()  # before the first kernel launch imports numba.cuda
pytestmark = pytest.mark.a09


def test_softmax_twin_rows_are_distributions_equal_to_exp_over_sum():
    x = np.random.default_rng(0).standard_normal((4, 6))
    p = softmax_rows_numpy(x)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-14)
    np.testing.assert_allclose(p, np.exp(x) / np.exp(x).sum(axis=1, keepdims=True), rtol=1e-13)


def test_softmax_twin_does_not_overflow_for_large_scores():
    p = softmax_rows_numpy(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0]], atol=1e-300)


CASES = [((1, 1), 8), ((1, 17), 8), ((3, 21), 8), ((4, 3), 8), ((2, 8), 8), ((3, 10), 4), ((2, 5), 1)]


@pytest.mark.parametrize("shape,threads", CASES)
def test_softmax_kernel_equals_twin(shape, threads):
    x = np.random.default_rng(sum(shape)).standard_normal(shape) * 20  # large spread: the max shift matters
    got = softmax_rows(x, backend="cuda", threads=threads)
    np.testing.assert_allclose(got, softmax_rows_numpy(x), rtol=1e-12, atol=1e-300)


def test_softmax_kernel_survives_scores_that_overflow_exp():
    x = np.array([[1000.0, 999.0, -1000.0, 0.0, 1000.0]], dtype=np.float32)  # exp(1000) is inf in any dtype
    got = softmax_rows(x, backend="cuda", threads=4)
    assert got.dtype == np.float32
    assert np.all(np.isfinite(got)), f"non-finite probabilities {got}: the row maximum was not subtracted"
    np.testing.assert_allclose(got, softmax_rows_numpy(x), rtol=1e-6, atol=1e-30)


def test_softmax_kernel_rejects_block_sizes_that_are_not_powers_of_two():
    with pytest.raises(ValueError, match="power of two"):
        softmax_rows(np.zeros((2, 3)), backend="cuda", threads=6)


def test_softmax_kernel_handles_rows_far_below_zero():
    # exp(-1000) underflows to 0: only a shift by the true row maximum (not by max(0, row)) avoids 0 / 0
    x = np.array([[-1000.0, -1001.0, -1002.0], [-5000.0, -5000.0, -5000.0]])
    got = softmax_rows(x, backend="cuda", threads=2)
    np.testing.assert_allclose(got, softmax_rows_numpy(x), rtol=1e-12)
    np.testing.assert_allclose(got[1], [1 / 3] * 3, rtol=1e-12)
