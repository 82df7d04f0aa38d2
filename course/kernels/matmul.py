"""Matrix multiply on the GPU, two ways: shared-memory tiles, then register blocking (lecture 000, "GPU";
assignment 09).

C = A B with A (M, K), B (K, N): C[r, c] = sum_k A[r, k] B[k, c], 2 M N K floating-point operations.

Why tiles: a thread per output that reads its row of A and column of B from global memory performs 2
flops per 2 loads, far below what the arithmetic units could do with the bandwidth available (the
"roofline": a kernel doing F flops per byte moved runs at most at min(peak flops, F x bandwidth)).
- ``matmul_tiled``: a block of TILE x TILE threads computes a TILE x TILE tile of C. It walks along K
  one tile at a time: every thread loads one element of the A tile and one of the B tile into shared
  memory (on-chip, shared by the block), the block synchronises, and each thread then does TILE
  multiply-adds reading only shared memory. Each number loaded from global memory is reused TILE
  times, so global traffic drops by a factor TILE.
- ``matmul_register_blocked``: shared memory is itself too slow to feed one multiply-add per load.
  A block now computes a BM x BN tile of C with (BM / TM) x (BN / TN) threads, and each thread owns a
  TM x TN tile of outputs held in registers. For each k it loads TM numbers of the A tile and TN of the
  B tile from shared memory into registers and performs TM x TN multiply-adds on them (an outer
  product), so each shared-memory load is reused TN or TM times. Threads own rows ty, ty + BM/TM, ...
  and columns tx, tx + BN/TN, ... (strided rather than contiguous), so that the threads of a warp read
  neighbouring shared-memory words (no bank conflicts) and write neighbouring words of C.

Both kernels check bounds on every load (a tile hanging over the edge of A or B is padded with zeros)
and every store, so any M, N, K work. The twin, ``matmul_blocked_numpy``, sums the same tile products
in the same order with NumPy, and equals A @ B.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.validation import check_array
from course.kernels.launch import (
    blocks,
    import_cuda,
    kernel_args,
    numba_dtype,
    resolve_backend,
    simulator_enabled,
)

# numba.cuda, bound on the first kernel compilation; a module global because the simulator swaps the
# global named ``cuda`` for its fake CUDA module (see ``course.kernels.launch``).
cuda: Any = None

# Launch shapes. On a GPU: 32 x 32 = 1024 threads per tiled block; 128 x 128 blocks of C with 8 x 8
# outputs per thread (256 threads) for register blocking. In the simulator every thread is a Python
# thread, so the shapes are tiny (and still smaller than the test matrices, so edges are exercised).
GPU_TILE = 32
SIM_TILE = 4
GPU_BLOCKING = (128, 128, 8, 8, 8)  # (BM, BN, BK, TM, TN)
SIM_BLOCKING = (8, 8, 4, 2, 2)


def matmul_blocked_numpy(A: Any, B: Any, block_m: int, block_n: int, block_k: int) -> Any:
    """A @ B computed block by block, as the kernels do: C[I, J] = sum over K-blocks of A[I, K] B[K, J].

    Inputs: A (M, K); B (K, N); block sizes along M, N and K (slices past an edge are just shorter).
    Returns C (M, N).
    """
    xp = get_array_module(A, B)
    M, K = A.shape
    N = B.shape[1]
    C = xp.zeros((M, N), dtype=np.result_type(A, B))
    for i in range(0, M, block_m):
        for j in range(0, N, block_n):
            for k in range(0, K, block_k):
                a_block = A[i : i + block_m, k : k + block_k]
                b_block = B[k : k + block_k, j : j + block_n]
                C[i : i + block_m, j : j + block_n] += a_block @ b_block
    return C


@functools.cache
def _tiled_kernel(dtype: np.dtype, tile: int) -> Any:
    """Compile (lazily, once per dtype and tile size) the shared-memory tiled kernel."""
    global cuda
    cuda = import_cuda()
    dt = numba_dtype(dtype)

    @cuda.jit
    def matmul_tiled_kernel(A, B, C):
        """Block (bx, by) of tile x tile threads computes C[by*tile : .., bx*tile : ..]."""
        # BEGIN GRADED a09.matmul_tiled_kernel
        As = cuda.shared.array((tile, tile), dt)
        Bs = cuda.shared.array((tile, tile), dt)
        tx = cuda.threadIdx.x  # along the columns of C, so a warp reads consecutive addresses of B
        ty = cuda.threadIdx.y
        row = cuda.blockIdx.y * tile + ty
        col = cuda.blockIdx.x * tile + tx
        M, K = A.shape
        N = B.shape[1]
        acc = dt(0)
        for k0 in range(0, K, tile):
            As[ty, tx] = A[row, k0 + tx] if row < M and k0 + tx < K else dt(0)
            Bs[ty, tx] = B[k0 + ty, col] if k0 + ty < K and col < N else dt(0)
            cuda.syncthreads()  # the whole tile is loaded before anyone reads it
            for k in range(tile):
                acc += As[ty, k] * Bs[k, tx]
            cuda.syncthreads()  # everyone is done with the tile before the next one overwrites it
        if row < M and col < N:
            C[row, col] = acc
        # END GRADED

    return matmul_tiled_kernel


@functools.cache
def _register_blocked_kernel(dtype: np.dtype, BM: int, BN: int, BK: int, TM: int, TN: int) -> Any:
    """Compile (lazily, once per dtype and blocking) the register-blocked kernel.

    A block has TY = BM / TM rows and TX = BN / TN columns of threads; every thread loads
    BM BK / (TX TY) elements of the A tile and BK BN / (TX TY) of the B tile, so those must divide.
    """
    if BM % TM or BN % TN:
        raise ValueError(f"register blocking: TM={TM} must divide BM={BM} and TN={TN} must divide BN={BN}")
    TX, TY = BN // TN, BM // TM
    NT = TX * TY
    if (BM * BK) % NT or (BK * BN) % NT:
        raise ValueError(f"register blocking: {NT} threads must share the {BM}x{BK} and {BK}x{BN} tiles")
    LOADS_A, LOADS_B = BM * BK // NT, BK * BN // NT
    global cuda
    cuda = import_cuda()
    dt = numba_dtype(dtype)

    @cuda.jit
    def matmul_register_blocked_kernel(A, B, C):
        """Block (bx, by) computes C[by*BM : .., bx*BN : ..]; thread (tx, ty) owns rows ty + i TY and
        columns tx + j TX of that tile, i < TM, j < TN, in registers."""
        # BEGIN GRADED a09.matmul_register_blocked_kernel
        As = cuda.shared.array((BK, BM), dt)  # the A tile transposed: a column of it is contiguous
        Bs = cuda.shared.array((BK, BN), dt)
        acc = cuda.local.array((TM, TN), dt)  # constant indices after unrolling: lives in registers
        a_reg = cuda.local.array(TM, dt)
        b_reg = cuda.local.array(TN, dt)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * TX + tx
        row0 = cuda.blockIdx.y * BM
        col0 = cuda.blockIdx.x * BN
        M, K = A.shape
        N = B.shape[1]
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = dt(0)
        for k0 in range(0, K, BK):
            for load in range(LOADS_A):  # consecutive threads read consecutive k of a row of A
                idx = tid + load * NT
                r = idx // BK
                c = idx % BK
                As[c, r] = A[row0 + r, k0 + c] if row0 + r < M and k0 + c < K else dt(0)
            for load in range(LOADS_B):  # consecutive threads read consecutive columns of B
                idx = tid + load * NT
                r = idx // BN
                c = idx % BN
                Bs[r, c] = B[k0 + r, col0 + c] if k0 + r < K and col0 + c < N else dt(0)
            cuda.syncthreads()
            for k in range(BK):
                for i in range(TM):
                    a_reg[i] = As[k, ty + i * TY]
                for j in range(TN):
                    b_reg[j] = Bs[k, tx + j * TX]
                for i in range(TM):  # outer product: TM x TN multiply-adds for TM + TN loads
                    for j in range(TN):
                        acc[i, j] += a_reg[i] * b_reg[j]
            cuda.syncthreads()
        for i in range(TM):
            row = row0 + ty + i * TY
            if row < M:
                for j in range(TN):
                    col = col0 + tx + j * TX
                    if col < N:
                        C[row, col] = acc[i, j]
        # END GRADED

    return matmul_register_blocked_kernel


def _check_operands(func: str, A: Any, B: Any) -> None:
    dims: dict[str, int] = {}
    check_array(func, "A", A, ("M", "K"), dims=dims, dtype_kind="f")
    check_array(func, "B", B, ("K", "N"), dims=dims, dtype_kind="f")
    if A.dtype != B.dtype:
        raise ValueError(f"{func}: A and B must have the same dtype, got {A.dtype} and {B.dtype}")


def matmul_tiled(A: Any, B: Any, backend: str = "auto", tile: int | None = None) -> Any:
    """C = A B with the shared-memory tiled kernel (``backend='cuda'``, or 'auto' with CuPy arrays) or the
    NumPy twin with the same tiles ('numpy', or 'auto' with NumPy arrays).

    Inputs:
    - A: (M, K); B: (K, N), same float dtype.
    - backend: 'auto', 'numpy' or 'cuda' (see ``course.kernels.launch``).
    - tile: tile size (threads per block = tile^2); default 32 on a GPU, 4 in the simulator.

    Returns C: (M, N).
    """
    _check_operands("matmul_tiled", A, B)
    if tile is None:
        tile = SIM_TILE if simulator_enabled() else GPU_TILE
    if resolve_backend("matmul_tiled", backend, A, B) == "numpy":
        return matmul_blocked_numpy(A, B, tile, tile, tile)
    xp = get_array_module(A, B)
    M, N = A.shape[0], B.shape[1]
    C = xp.empty((M, N), dtype=A.dtype)
    kernel = _tiled_kernel(np.dtype(A.dtype), tile)
    kernel[(blocks(N, tile), blocks(M, tile)), (tile, tile)](*kernel_args(import_cuda(), A, B, C))
    return C


def matmul_register_blocked(
    A: Any, B: Any, backend: str = "auto", blocking: tuple[int, int, int, int, int] | None = None
) -> Any:
    """C = A B with the register-blocked kernel (``backend='cuda'``, or 'auto' with CuPy arrays) or the
    NumPy twin with the same block tiles ('numpy', or 'auto' with NumPy arrays).

    Inputs:
    - A: (M, K); B: (K, N), same float dtype.
    - backend: 'auto', 'numpy' or 'cuda'.
    - blocking: (BM, BN, BK, TM, TN); default (128, 128, 8, 8, 8) on a GPU, (8, 8, 4, 2, 2) in the
      simulator.

    Returns C: (M, N).
    """
    _check_operands("matmul_register_blocked", A, B)
    if blocking is None:
        blocking = SIM_BLOCKING if simulator_enabled() else GPU_BLOCKING
    BM, BN, BK, TM, TN = blocking
    if resolve_backend("matmul_register_blocked", backend, A, B) == "numpy":
        return matmul_blocked_numpy(A, B, BM, BN, BK)
    xp = get_array_module(A, B)
    M, N = A.shape[0], B.shape[1]
    C = xp.empty((M, N), dtype=A.dtype)
    kernel = _register_blocked_kernel(np.dtype(A.dtype), BM, BN, BK, TM, TN)
    grid, block = (blocks(N, BN), blocks(M, BM)), (BN // TN, BM // TM)
    kernel[grid, block](*kernel_args(import_cuda(), A, B, C))
    return C
