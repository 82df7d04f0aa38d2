"""Tests for course/kernels/matmul.py: the tiled and register-blocked kernels against A @ B and the
blocked NumPy twin.

Simulator-sized launches: 4 x 4 tiles, and 8 x 8 blocks of C with 2 x 2 outputs per thread (plus one
non-square blocking), so every matrix below that is not a multiple of the tile hangs over an edge and
every 1-wide case leaves most threads of a block without an output.
"""

import numpy as np
import pytest

from course.kernels.launch import use_simulator_unless_gpu
from course.kernels.matmul import matmul_blocked_numpy, matmul_register_blocked, matmul_tiled

pytest.importorskip("numba")
use_simulator_unless_gpu()  # before the first kernel launch imports numba.cuda
pytestmark = pytest.mark.a09

# (M, K, N): 1x1, row times column, column times row, ragged on every axis, exact multiples
SHAPES = [(1, 1, 1), (1, 7, 1), (6, 1, 5), (1, 5, 9), (9, 5, 1), (13, 9, 11), (8, 8, 8)]


def _operands(M, K, N, dtype=np.float64):
    rng = np.random.default_rng(M * 100 + K * 10 + N)
    return rng.standard_normal((M, K)).astype(dtype), rng.standard_normal((K, N)).astype(dtype)


@pytest.mark.parametrize("blocks", [(1, 1, 1), (4, 4, 4), (8, 3, 5), (64, 64, 64)])
def test_blocked_twin_equals_matmul(blocks):
    A, B = _operands(13, 9, 11)
    np.testing.assert_allclose(matmul_blocked_numpy(A, B, *blocks), A @ B, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("M,K,N", SHAPES)
def test_tiled_kernel_equals_matmul(M, K, N):
    A, B = _operands(M, K, N)
    C = matmul_tiled(A, B, backend="cuda", tile=4)
    np.testing.assert_allclose(C, A @ B, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(C, matmul_blocked_numpy(A, B, 4, 4, 4), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("M,K,N", SHAPES)
def test_register_blocked_kernel_equals_matmul(M, K, N):
    A, B = _operands(M, K, N)
    C = matmul_register_blocked(A, B, backend="cuda", blocking=(8, 8, 4, 2, 2))
    np.testing.assert_allclose(C, A @ B, rtol=1e-12, atol=1e-12)


def test_register_blocked_kernel_with_non_square_thread_tiles():
    A, B = _operands(11, 7, 13)
    C = matmul_register_blocked(A, B, backend="cuda", blocking=(4, 8, 2, 2, 4))  # 2 x 2 threads, 2 x 4 each
    np.testing.assert_allclose(C, A @ B, rtol=1e-12, atol=1e-12)


def test_kernels_keep_float32():
    A, B = _operands(9, 6, 7, dtype=np.float32)
    for C in (matmul_tiled(A, B, backend="cuda", tile=4), matmul_register_blocked(A, B, backend="cuda")):
        assert C.dtype == np.float32
        np.testing.assert_allclose(C, A.astype(np.float64) @ B.astype(np.float64), rtol=1e-5, atol=1e-5)


def test_matmul_rejects_mismatched_inner_dimensions_and_dtypes():
    with pytest.raises(ValueError, match=r"B must have shape \(K, N\) = \(3, \*\)"):
        matmul_tiled(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="same dtype"):
        matmul_tiled(np.zeros((2, 3)), np.zeros((3, 5), dtype=np.float32))


def test_register_blocking_that_does_not_divide_is_rejected():
    with pytest.raises(ValueError, match="must divide"):
        matmul_register_blocked(np.zeros((2, 3)), np.zeros((3, 5)), backend="cuda", blocking=(8, 8, 4, 3, 2))
