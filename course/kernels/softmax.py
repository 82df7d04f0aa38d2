"""Row-wise numerically stable softmax as one GPU kernel with a shared-memory reduction (lecture 000,
"GPU"; assignment 09).

softmax(x)_j = exp(x_j - max_k x_k) / sum_k exp(x_k - max_k x_k) for each row (subtracting the row
maximum changes nothing mathematically and keeps exp from overflowing).

Why a kernel: a row needs two reductions (its max, then its sum) before any output can be written.
As array expressions that is ``x.max(1)``, ``x - m``, ``exp``, ``.sum(1)``, ``/``: five kernels and
five passes over the (N, D) matrix through GPU memory. Here one block of threads owns one row:
- each thread walks the row with a stride of the block size (so rows longer than the block work) and
  keeps a running max in a register;
- the block combines the per-thread values in shared memory by a tree: at each of log2(threads) rounds
  the first half of the threads folds in the second half, with ``cuda.syncthreads()`` between rounds
  so no thread reads a slot before it is written;
- the same tree gives the sum of exp(x - max), and a last pass writes the outputs.
The row is read from global memory three times but written once, and a row of a few thousand floats
stays in the L1 cache between the passes, so the kernel moves about 2 N D numbers where the
expression chain moves about 8 N D.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.validation import check_array, check_positive
from course.kernels.launch import import_cuda, kernel_args, numba_dtype, resolve_backend, simulator_enabled
from course.layers.losses import softmax

# numba.cuda, bound on the first kernel compilation; a module global because the simulator swaps the
# global named ``cuda`` for its fake CUDA module (see ``course.kernels.launch``).
cuda: Any = None


def softmax_rows_numpy(x: Any) -> Any:
    """Row-wise stable softmax as array expressions (the twin of the kernel): assignment 02's
    ``course.layers.losses.softmax`` over the last axis, which also runs on CuPy arrays.

    Input x: (N, D). Returns (N, D), each row non-negative and summing to 1.
    """
    return softmax(x, axis=1)


@functools.cache
def _kernel(dtype: np.dtype, threads: int) -> Any:
    """Compile (lazily, once per dtype and block size) the softmax kernel for blocks of ``threads``."""
    global cuda
    cuda = import_cuda()
    dt = numba_dtype(dtype)

    @cuda.jit
    def softmax_rows_kernel(x, out):
        """Block b computes row b of ``out``; ``threads`` (a power of two) threads share the row."""
        # BEGIN GRADED a09.softmax_rows_kernel
        buf = cuda.shared.array(threads, dt)  # one slot per thread for the block reduction
        row = cuda.blockIdx.x
        tid = cuda.threadIdx.x
        D = x.shape[1]

        m = dt(-math.inf)
        for j in range(tid, D, threads):
            m = max(m, x[row, j])
        buf[tid] = m
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if tid < step:
                buf[tid] = max(buf[tid], buf[tid + step])
            cuda.syncthreads()
            step //= 2
        row_max = buf[0]
        cuda.syncthreads()  # every thread has read the max before buf is reused for the sum

        total = dt(0)
        for j in range(tid, D, threads):
            total += math.exp(x[row, j] - row_max)
        buf[tid] = total
        cuda.syncthreads()
        step = threads // 2
        while step > 0:
            if tid < step:
                buf[tid] += buf[tid + step]
            cuda.syncthreads()
            step //= 2
        inv_total = dt(1) / buf[0]

        for j in range(tid, D, threads):
            out[row, j] = math.exp(x[row, j] - row_max) * inv_total
        # END GRADED

    return softmax_rows_kernel


def softmax_rows(x: Any, backend: str = "auto", threads: int | None = None) -> Any:
    """Row-wise stable softmax: the shared-memory kernel (``backend='cuda'``, or 'auto' with CuPy
    arrays) or the NumPy twin ('numpy', or 'auto' with NumPy arrays).

    Inputs:
    - x: (N, D) scores, D >= 1.
    - backend: 'auto', 'numpy' or 'cuda' (see ``course.kernels.launch``).
    - threads: threads per block, a power of two; default 256 on a GPU, 8 in the simulator (which
      runs one Python thread per CUDA thread, and where 8 also exercises rows longer than a block).

    Returns (N, D) probabilities.
    """
    check_array("softmax_rows", "x", x, ("N", "D"), dtype_kind="f")
    if x.shape[1] < 1:
        raise ValueError(f"softmax_rows: x must have at least one column, got shape {tuple(x.shape)}")
    if resolve_backend("softmax_rows", backend, x) == "numpy":
        return softmax_rows_numpy(x)
    if threads is None:
        threads = 8 if simulator_enabled() else 256
    check_positive("softmax_rows", "threads", threads)
    if threads & (threads - 1):
        raise ValueError(f"softmax_rows: threads must be a power of two (tree reduction), got {threads}")
    xp = get_array_module(x)
    out = xp.empty(x.shape, dtype=x.dtype)
    if x.shape[0] > 0:
        kernel = _kernel(np.dtype(x.dtype), threads)
        kernel[x.shape[0], threads](*kernel_args(import_cuda(), x, out))  # one block per row
    return out
