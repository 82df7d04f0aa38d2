# %% [markdown]
# # Assignment 09: GPU kernels
#
# A GPU runs thousands of threads at once. It is fast when many threads do the same work on
# neighbouring data and when every number brought from GPU memory is used many times; it is slow when
# the work is a chain of small steps that each read and write all of memory. This assignment has two
# parts.
#
# - **The library on the GPU, for free.** The functions of `course` that call an array-module function
#   (`xp.exp`, `xp.zeros`, `xp.tanh`) get the module from `xp = get_array_module(x)`; the others (`affine`,
#   `elementwise`) use only array methods and operators (`@`, `+`, `.sum()`), so CuPy arrays pass
#   through them unchanged, and the initialisers of `course.training.init` draw NumPy arrays on the host,
#   which `to_device` moves to the GPU. Hand the library CuPy arrays and the same code runs on the GPU
#   (section 6).
# - **Kernels of your own.** Some work is worth writing as one GPU kernel. You will write, with
#   [numba.cuda](https://numba.readthedocs.io/en/stable/cuda/index.html):
#
#   1. a **fused LSTM cell**: the element-wise half of an LSTM step in one kernel (and, as an extra, its
#      backward);
#   2. a **row-wise softmax** whose maximum and sum are **reductions in shared memory**;
#   3. a **tiled matrix multiply** that reuses every loaded number through shared memory;
#   4. (extra) a **register-blocked matrix multiply** that reuses numbers through registers as well.
#
# Every kernel is tested against a NumPy *twin* that computes the same thing with array expressions
# (`course.kernels`). Where a GPU is present, section 7 times your kernels against CuPy and places them
# on a roofline.
#
# **No GPU? Numba's CUDA simulator.** The import cell below switches numba to its simulator when no GPU
# is visible. It runs every CUDA thread as a Python thread, with real shared memory and real barriers,
# so a missing `cuda.syncthreads()` or bounds check shows up, but it is slow (about a millisecond per
# thread), so every launch here is tiny. The same cells use GPU-sized launches on a GPU.
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# kernel body (delete the `raise NotImplementedError()`). The *visible* test cell after each answer
# checks small fixed inputs, including edge sizes, and tells you what is wrong; the *hidden* test cell
# launches your kernel on fresh random inputs, with other block sizes, and compares it with the
# reference when the course grader runs it. Both carry points. Do not edit, copy or delete test cells:
# the grader restores them. Do not call `course.kernels`' kernels or dispatch functions: in the grader
# they raise `NotImplementedError` (the NumPy twins are fine, they are the specification).

# %%
import functools
import math  # noqa: F401 (the kernels' solutions call math.tanh, math.exp and math.inf)
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import cupy_module, get_array_module, gpu_available, to_cpu, to_device
from course.kernels import timing
from course.kernels.launch import blocks, import_cuda, kernel_args, numba_dtype, use_simulator_unless_gpu
from course.kernels.lstm_cell import lstm_cell_backward_numpy, lstm_cell_forward_numpy
from course.kernels.softmax import softmax_rows_numpy
from course.layers.activations import relu_backward, relu_forward
from course.layers.affine import affine_backward, affine_forward
from course.layers.losses import softmax_cross_entropy
from course.layers.lstm import lstm_step_backward, lstm_step_forward

# Before anything imports numba.cuda: without a visible GPU, numba's CUDA simulator stands in for it.
SIMULATOR = use_simulator_unless_gpu()
cuda = import_cuda()
print("kernels run on", "numba's CUDA simulator (no GPU visible)" if SIMULATOR else "the GPU")

# %% [markdown]
# ## 0. How a kernel is written and launched
#
# A kernel is a Python function compiled by `@cuda.jit`. It is launched as `kernel[grid, block](args...)`:
# `grid` blocks of `block` threads each (both up to 3-D), and **every thread runs the whole function**.
# A thread finds out who it is from
#
# - `cuda.threadIdx.x`, `.y`: its position inside its block; `cuda.blockIdx.x`, `.y`: its block's
#   position in the grid;
# - `cuda.blockDim.x`: the block's size; `cuda.grid(2)` returns
#   `(blockIdx.x * blockDim.x + threadIdx.x, blockIdx.y * blockDim.y + threadIdx.y)`, the thread's global
#   (x, y) position.
#
# The grid is rounded up to whole blocks, so some threads fall outside the data: **every kernel tests
# its indices before reading or writing**. A kernel returns nothing; it writes its results into output
# arrays passed as arguments. Threads of one block can share a small, fast **shared memory**
# (`cuda.shared.array(shape, dtype)`) and wait for each other at a barrier, `cuda.syncthreads()`, which
# every thread of the block must reach.
#
# **Compile-time constants.** A shared-memory or local array needs its shape and dtype when the kernel
# is compiled. So, as in `course/kernels/`, each kernel is defined inside a `make_...(constants)`
# function: numba freezes the variables a kernel reads from its enclosing function (`threads`, `tile`,
# `dt`) into the compiled code, and `compiled(make_..., constants)` below compiles each combination once.
# `dt` is the numba scalar type of the arrays (`float64` here, `float32` for timing): write constants
# as `dt(0.5)`, `dt(0)`, because a bare `0.5` is a float64 to numba and would silently turn float32
# arithmetic into float64.
#
# The helpers below copy NumPy inputs to the device, launch, and copy the outputs back (in the
# simulator the "device" is host memory; CuPy arrays are already on the GPU and are passed without a
# copy). Outputs start filled with NaN, so an entry that no thread writes shows up as NaN in the tests.

# %%
# Tiny launch grids are normal here; on a real GPU numba would warn about each one.
warnings.filterwarnings("ignore", message=".*(under-utilization|copy overhead).*")

# Launch shapes: tiny in the simulator (one Python thread per CUDA thread), GPU-sized otherwise.
CELL_BLOCK = (8, 4) if SIMULATOR else (32, 8)  # threads per block along (H, N)
SOFTMAX_THREADS = 8 if SIMULATOR else 256  # threads per block, one block per row; a power of two
TILE = 4 if SIMULATOR else 32  # tile x tile threads per block
BLOCKING = (8, 8, 4, 2, 2) if SIMULATOR else (128, 128, 8, 8, 8)  # (BM, BN, BK, TM, TN)


@functools.cache
def compiled(make_kernel, *constants):
    """make_kernel(*constants), built once per set of compile-time constants."""
    return make_kernel(*constants)


def new_outputs(like, *shapes, fill=np.nan):
    """Output arrays on the device of ``like`` with its dtype, filled with ``fill`` (None: uninitialised)."""
    xp = get_array_module(like)
    if fill is None:
        return [xp.empty(shape, dtype=like.dtype) for shape in shapes]
    return [xp.full(shape, fill, dtype=like.dtype) for shape in shapes]


def launch(kernel, grid, block, inputs, outputs):
    """kernel[grid, block](*inputs, *outputs); returns the outputs.

    NumPy in, NumPy out (copied to the device and back); CuPy arrays stay on the GPU.
    """
    if get_array_module(*inputs, *outputs) is np:
        args = [cuda.to_device(x) for x in (*inputs, *outputs)]
        kernel[grid, block](*args)
        return [arg.copy_to_host() for arg in args[len(inputs):]]
    kernel[grid, block](*kernel_args(cuda, *inputs, *outputs))
    return list(outputs)


# %% [markdown]
# ## 1. A fused LSTM cell: element-wise work in one kernel
#
# An LSTM step first computes the gate pre-activations $a = x W_x + h W_h + b$, shape `(N, 4H)` (two
# matrix products: cuBLAS does those well). The rest of the step is element-wise, with gate order
# $i, f, o, g$ along the columns of $a$ (columns $[0, H)$ are $a_i$, $[H, 2H)$ are $a_f$, $[2H, 3H)$ are
# $a_o$, $[3H, 4H)$ are $a_g$):
#
# $$i = \sigma(a_i),\quad f = \sigma(a_f),\quad o = \sigma(a_o),\quad g = \tanh(a_g),\qquad
# c_{next} = f \odot c_{prev} + i \odot g,\qquad h_{next} = o \odot \tanh(c_{next}).$$
#
# Written with array expressions (`lstm_cell_forward_numpy`, the twin), that is about a dozen GPU launches,
# each reading its inputs from GPU memory and writing a temporary back. A **fused** kernel gives one
# thread one element $(n, j)$: it reads $a_{n,j}$, $a_{n,H+j}$, $a_{n,2H+j}$, $a_{n,3H+j}$ and
# $c_{prev,nj}$ once, keeps every intermediate in registers, and writes each output once, in one launch.
#
# **Exercise 1.** Write the body of `lstm_cell_forward_kernel(a, prev_c, next_h, next_c, gates, tanh_c)`.
#
# - Launch (see `lstm_cell_forward_gpu` below): a 2-D grid, **x along H and y along N**, so take
#   `j, n = cuda.grid(2)`; `N, H = prev_c.shape`; do nothing unless `n < N and j < H`.
# - Inputs: `a` `(N, 4H)`, `prev_c` `(N, H)`. Outputs: `next_h` `(N, H)`, `next_c` `(N, H)`, `gates` `(N, 4H)`
#   (the four gates *after* their non-linearities, same column layout as `a`; the backward pass reads
#   them) and `tanh_c` `(N, H)` $= \tanh(c_{next})$.
# - Use $\sigma(z) = \tfrac12 \tanh(z / 2) + \tfrac12$ (it equals $1/(1+e^{-z})$ and cannot overflow)
#   and `math.tanh`; write constants as `dt(0.5)`.

# %%
def lstm_cell_forward_gpu(a, prev_c, block=CELL_BLOCK, fill=np.nan):
    """Your forward kernel over an (N, H) grid of threads. Returns next_h, next_c, (gates, prev_c, tanh_c)."""
    N, H = prev_c.shape
    kernel = compiled(make_lstm_cell_forward_kernel, numba_dtype(a.dtype))
    grid = (blocks(H, block[0]), blocks(N, block[1]))  # x covers the H units, y the N examples
    outputs = new_outputs(a, (N, H), (N, H), (N, 4 * H), (N, H), fill=fill)
    next_h, next_c, gates, tanh_c = launch(kernel, grid, block, [a, prev_c], outputs)
    return next_h, next_c, (gates, prev_c, tanh_c)


# %% nbgrader={"grade": false, "grade_id": "lstm_cell_forward_kernel", "locked": false, "schema_version": 3, "solution": true}
def make_lstm_cell_forward_kernel(dt):
    """The fused forward kernel for arrays of numba scalar type dt."""

    @cuda.jit
    def lstm_cell_forward_kernel(a, prev_c, next_h, next_c, gates, tanh_c):
        """One thread per (n, j): the four gates of unit j of example n, then its cell and hidden state."""
        ### BEGIN SOLUTION a09.lstm_cell_forward_kernel
        ### END SOLUTION

    return lstm_cell_forward_kernel


# %% nbgrader={"grade": true, "grade_id": "lstm_cell_forward_kernel_visible", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
a_check = np.array([[-0.25, 1.5, 2.0, -1.0, -1.75, 0.5, 0.75, 1.25, 0.5, 1.0, 1.75, 1.75],
                    [1.75, 1.5, 1.0, 1.75, -2.0, -2.0, 1.25, -0.25, 1.0, 0.0, 1.75, -1.75]])  # (N, 4H), H = 3
prev_c_check = np.array([[0.5, -1.5, -1.25], [1.0, -0.75, 1.5]])
next_h, next_c, (gates, _, tanh_c) = lstm_cell_forward_gpu(a_check, prev_c_check)
# Expected values to 10 significant digits, compared with expect_close's rtol = 1e-6.
grading.expect_shape("gates", gates, (2, 12), hint="gates has the shape of a, (N, 4H).")
grading.expect_close(
    "gates[:, 0H:1H], the input gate i", gates[:, 0:3],
    np.array([[0.4378234991, 0.8175744762, 0.880797078], [0.851952802, 0.8175744762, 0.7310585786]]),
    hint="i = sigmoid(a[n, j]) from the first H columns of a; sigmoid(z) = 0.5 * tanh(0.5 * z) + 0.5.")
grading.expect_close(
    "gates[:, 1H:2H], the forget gate f", gates[:, 3:6],
    np.array([[0.2689414214, 0.148047198, 0.6224593312], [0.851952802, 0.119202922, 0.119202922]]),
    hint="f = sigmoid(a[n, H + j]): the second block of H columns (gate order i, f, o, g).")
grading.expect_close(
    "gates[:, 2H:3H], the output gate o", gates[:, 6:9],
    np.array([[0.6791786992, 0.7772998612, 0.6224593312], [0.7772998612, 0.4378234991, 0.7310585786]]),
    hint="o = sigmoid(a[n, 2 * H + j]): the third block of H columns.")
grading.expect_close(
    "gates[:, 3H:4H], the candidate g", gates[:, 9:12],
    np.array([[0.761594156, 0.9413755385, 0.9413755385], [0.0, 0.9413755385, -0.9413755385]]),
    hint="g = tanh(a[n, 3 * H + j]), a tanh, not a sigmoid: the last block of H columns.")
# Isolation case: with prev_c = 0 only the input path is left, next_c = i * g.
next_h_0, next_c_0, _ = lstm_cell_forward_gpu(a_check, np.zeros_like(prev_c_check))
grading.expect_close(
    "next_c with prev_c = 0", next_c_0,
    np.array([[0.3334438183, 0.7696446128, 0.8291608236], [0.0, 0.7696446128, -0.6882006631]]),
    hint="with prev_c = 0, next_c = i * g: check the input gate and the candidate g.")
grading.expect_close(
    "next_c", next_c,
    np.array([[0.467914529, 0.5475738157, 0.05108665959], [0.851952802, 0.6802424213, -0.5093962801]]),
    hint="next_c = f * prev_c + i * g: f multiplies the old cell state, i the candidate g.")
grading.expect_close(
    "tanh_c", tanh_c,
    np.array([[0.4365127543, 0.4986996285, 0.05104226315], [0.6920882823, 0.5916769721, -0.4694746762]]),
    hint="tanh_c = tanh(next_c), kept for the backward pass.")
grading.expect_close(
    "next_h", next_h,
    np.array([[0.2964701646, 0.387639152, 0.03177173298], [0.5379601257, 0.2590500823, -0.3432134895]]),
    hint="next_h = o * tanh(next_c).")

# Edge sizes: one example and one unit; N and H that are not multiples of the block (several blocks).
rng = np.random.default_rng(0)
for N, H in [(1, 1), (5, 9), (1, 13)]:
    a_e, c_e = 2 * rng.standard_normal((N, 4 * H)), rng.standard_normal((N, H))
    got_h, got_c, _ = lstm_cell_forward_gpu(a_e, c_e)
    want_h, want_c, _ = lstm_cell_forward_numpy(a_e, c_e)
    hint = ("entries left NaN were never written: j (x) runs along H and n (y) along N, and "
            "the test must be n < N and j < H, not a block-sized bound.")
    grading.expect_close(f"next_c for N={N}, H={H}", got_c, want_c, hint=hint)
    grading.expect_close(f"next_h for N={N}, H={H}", got_h, want_h, hint=hint)

# %% nbgrader={"grade": true, "grade_id": "lstm_cell_forward_kernel_hidden", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# Hidden tests: the grader launches your kernel on fresh random inputs, with other block sizes, and
# compares it with the reference.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a09.lstm_cell_forward_kernel", make_lstm_cell_forward_kernel)
### END HIDDEN TESTS

# %% [markdown]
# Your kernel is the element-wise half of an LSTM step: with the gate pre-activations from two matrix
# products it reproduces `course.layers.lstm.lstm_step_forward` (assignment 06). **What to see:** the two
# agree to rounding (about $10^{-16}$).

# %%
rng = np.random.default_rng(1)
N, D, H = 3, 4, 5
x, prev_h, prev_c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
a = x @ Wx + prev_h @ Wh + b  # (N, 4H): the GEMMs stay with the BLAS
fused_h, fused_c, _ = lstm_cell_forward_gpu(a, prev_c)
step_h, step_c, _ = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
print(f"fused kernel vs lstm_step_forward: max |difference| in next_h {np.abs(fused_h - step_h).max():.1e}, "
      f"in next_c {np.abs(fused_c - step_c).max():.1e}")


# %% [markdown]
# ## 2. (Extra) The fused LSTM cell, backward
#
# The backward pass is element-wise too. Given $dh = \partial L / \partial h_{next}$ and
# $dc' = \partial L / \partial c_{next}$ (both `(N, H)`), the cell state receives gradient along two paths,
# directly and through $h_{next} = o \odot \tanh(c_{next})$:
#
# $$dc = dc' + dh \odot o \odot (1 - \tanh^2 c_{next}),$$
#
# $$da_i = dc \odot g \odot i (1 - i),\quad da_f = dc \odot c_{prev} \odot f (1 - f),\quad
# da_o = dh \odot \tanh(c_{next}) \odot o (1 - o),\quad da_g = dc \odot i \odot (1 - g^2),\qquad
# dc_{prev} = dc \odot f.$$
#
# **Exercise 2 (extra).** Write the body of
# `lstm_cell_backward_kernel(dnext_h, dnext_c, gates, prev_c, tanh_c, da, dprev_c)`: same launch as the
# forward kernel (one thread per $(n, j)$, x along H), inputs `dnext_h`, `dnext_c`, `prev_c`, `tanh_c`
# `(N, H)` and `gates` `(N, 4H)` from the forward pass; outputs `da` `(N, 4H)` (gate order i, f, o, g) and
# `dprev_c` `(N, H)`. Write constants as `dt(1)`.

# %%
def lstm_cell_backward_gpu(dnext_h, dnext_c, cache, block=CELL_BLOCK, fill=np.nan):
    """Your backward kernel over an (N, H) grid of threads. Returns da (N, 4H) and dprev_c (N, H)."""
    gates, prev_c, tanh_c = cache
    N, H = prev_c.shape
    kernel = compiled(make_lstm_cell_backward_kernel, numba_dtype(gates.dtype))
    grid = (blocks(H, block[0]), blocks(N, block[1]))
    outputs = new_outputs(gates, (N, 4 * H), (N, H), fill=fill)
    da, dprev_c = launch(kernel, grid, block, [dnext_h, dnext_c, gates, prev_c, tanh_c], outputs)
    return da, dprev_c


# %% nbgrader={"grade": false, "grade_id": "lstm_cell_backward_kernel", "locked": false, "schema_version": 3, "solution": true}
def make_lstm_cell_backward_kernel(dt):
    """The fused backward kernel for arrays of numba scalar type dt."""

    @cuda.jit
    def lstm_cell_backward_kernel(dnext_h, dnext_c, gates, prev_c, tanh_c, da, dprev_c):
        """One thread per (n, j): (dnext_h, dnext_c) -> the four gate gradients and dprev_c."""
        ### BEGIN SOLUTION a09.lstm_cell_backward_kernel
        ### END SOLUTION

    return lstm_cell_backward_kernel


# %% nbgrader={"grade": true, "grade_id": "lstm_cell_backward_kernel_visible", "locked": true, "points": 3, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
# The forward test's inputs, and the cache of their forward pass from the NumPy twin (the specification).
a_check = np.array([[-0.25, 1.5, 2.0, -1.0, -1.75, 0.5, 0.75, 1.25, 0.5, 1.0, 1.75, 1.75],
                    [1.75, 1.5, 1.0, 1.75, -2.0, -2.0, 1.25, -0.25, 1.0, 0.0, 1.75, -1.75]])  # (N, 4H), H = 3
prev_c_check = np.array([[0.5, -1.5, -1.25], [1.0, -0.75, 1.5]])
_, _, cache_check = lstm_cell_forward_numpy(a_check, prev_c_check)  # (gates, prev_c, tanh_c)
dnext_h_check = np.array([[-0.25, 0.75, 1.0], [-0.5, 1.0, 0.5]])
dnext_c_check = np.array([[1.0, -0.5, 0.0], [0.5, 1.0, -0.5]])
# Expected values to 10 significant digits, compared with expect_close's rtol = 1e-6 (atol = 1e-9).
# Isolation case: with dnext_h = 0 only the cell path is left: dc = dnext_c and da_o = 0.
da_0, dprev_c_0 = lstm_cell_backward_gpu(np.zeros_like(dnext_h_check), dnext_c_check, cache_check)
grading.expect_close(
    "dprev_c with dnext_h = 0", dprev_c_0,
    np.array([[0.2689414214, -0.07402359902, 0.0], [0.425976401, 0.119202922, -0.05960146101]]),
    hint="with dnext_h = 0, dc = dnext_c and dprev_c = dc * f.")
grading.expect_close(
    "da with dnext_h = 0", da_0,
    np.array([[0.187454279, -0.07020141082, 0.0, 0.09830596662, 0.09459691889, 0.0, 0.0, 0.0, 0.0,
               0.1838746358, -0.04652493219, 0.0],
              [0.0, 0.1404028216, 0.09254283227, 0.06306461259, -0.07874518905, -0.07874518905, 0.0, 0.0, 0.0,
               0.425976401, 0.09304986438, -0.04160165439]]),
    hint="with dnext_h = 0 the output gate gets no gradient (da_o = 0) and dc = dnext_c.")
da, dprev_c = lstm_cell_backward_gpu(dnext_h_check, dnext_c_check, cache_check)
grading.expect_shape("da", da, (2, 12), hint="da has the shape of a, (N, 4H).")
grading.expect_close(
    "da[:, 0H:1H] = da_i", da[:, 0:3],
    np.array([[0.1616902962, -0.00870662186, 0.06136259367], [0.0, 0.1803543787, 0.03980003128]]),
    hint="da_i = dc * g * i * (1 - i), with dc = dnext_c + dnext_h * o * (1 - tanh_c**2).")
grading.expect_close(
    "da[:, 1H:2H] = da_f", da[:, 3:6],
    np.array([[0.0847946547, 0.01173223718, -0.1823739347], [0.03752445593, -0.1011520957, -0.03386605868]]),
    hint="da_f = dc * prev_c * f * (1 - f): the forget gate multiplied the old cell state.")
grading.expect_close(
    "da[:, 2H:3H] = da_o", da[:, 6:9],
    np.array([[-0.02377848597, 0.06474546973, 0.01199512132],
              [-0.05990189734, 0.1456318688, -0.04615216185]]),
    hint="da_o = dnext_h * tanh_c * o * (1 - o): o only reaches the loss through next_h, so no dc here.")
grading.expect_close(
    "da[:, 3H:4H] = da_g", da[:, 9:12],
    np.array([[0.1586026442, -0.005770183062, 0.06223609245], [0.2534627905, 0.1195271596, -0.01789168438]]),
    hint="da_g = dc * i * (1 - g**2): g went through a tanh, not a sigmoid.")
grading.expect_close(
    "dprev_c", dprev_c,
    np.array([[0.2319777298, -0.009180662865, 0.386446176], [0.2534627905, 0.1531220576, -0.02563288755]]),
    hint="dprev_c = dc * f, with dc including the path through next_h: dnext_h * o * (1 - tanh_c**2).")

# Edge sizes, against the NumPy twin on the cache of the NumPy forward pass.
rng = np.random.default_rng(1)
for N, H in [(1, 1), (5, 9)]:
    a_e, c_e = 2 * rng.standard_normal((N, 4 * H)), rng.standard_normal((N, H))
    _, _, cache_e = lstm_cell_forward_numpy(a_e, c_e)
    dh_e, dc_e = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    got_da, got_dc = lstm_cell_backward_gpu(dh_e, dc_e, cache_e)
    want_da, want_dc = lstm_cell_backward_numpy(dh_e, dc_e, cache_e)
    hint = "entries left NaN were never written: the bounds test is n < N and j < H."
    grading.expect_close(f"da for N={N}, H={H}", got_da, want_da, hint=hint)
    grading.expect_close(f"dprev_c for N={N}, H={H}", got_dc, want_dc, hint=hint)

# %% nbgrader={"grade": true, "grade_id": "lstm_cell_backward_kernel_hidden", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Hidden tests: the grader launches your kernel on fresh random inputs, with other block sizes, and
# compares it with the reference.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a09.lstm_cell_backward_kernel", make_lstm_cell_backward_kernel)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Row-wise softmax: reductions in shared memory
#
# $$p_{nj} = \frac{e^{x_{nj} - m_n}}{\sum_k e^{x_{nk} - m_n}},\qquad m_n = \max_k x_{nk}.$$
#
# Subtracting the row maximum changes nothing mathematically and keeps $e^{(\cdot)} \le 1$, so large
# scores cannot overflow (the stable softmax of assignment 02). A row needs two **reductions**, its
# maximum and its sum, and a reduction is where threads must cooperate.
#
# The kernel gives **one block of `threads` threads to each row** (`cuda.blockIdx.x` is the row;
# `cuda.threadIdx.x` is the thread's number `tid` in the block):
#
# 1. each thread walks its part of the row, columns `tid, tid + threads, tid + 2 * threads, ...`
#    (`range(tid, D, threads)`), keeping a running maximum; a thread with no column keeps $-\infty$
#    (`dt(-math.inf)`);
# 2. it writes that partial maximum into a shared array `buf = cuda.shared.array(threads, dt)` and the
#    block combines the partial results by a **tree**: with `step = threads // 2, threads // 4, ..., 1`,
#    every thread `tid < step` sets `buf[tid] = max(buf[tid], buf[tid + step])`, and all threads call
#    `cuda.syncthreads()` after every round (`threads` is a power of two). After the last round
#    `buf[0]` holds the row maximum: every thread reads it, then synchronises once more before `buf` is
#    reused;
# 3. the same for the sum of $e^{x_{nj} - m_n}$ (a thread with no column contributes `dt(0)`);
# 4. each thread writes $e^{x_{nj} - m_n} / \text{sum}$ for its columns.
#
# Every thread of the block must reach every `cuda.syncthreads()`: never put one inside a branch that
# only some threads take.
#
# **Exercise 3.** Write the body of `softmax_rows_kernel(x, out)`: `x` and `out` `(N, D)`, launched as
# `kernel[N, threads]`. Rows may be shorter or longer than the block.

# %%
def softmax_rows_gpu(x, threads=SOFTMAX_THREADS, fill=np.nan):
    """Your softmax kernel, one block of ``threads`` threads per row of x (N, D). Returns (N, D)."""
    kernel = compiled(make_softmax_rows_kernel, threads, numba_dtype(x.dtype))
    (out,) = launch(kernel, x.shape[0], threads, [x], new_outputs(x, x.shape, fill=fill))
    return out


# %% nbgrader={"grade": false, "grade_id": "softmax_rows_kernel", "locked": false, "schema_version": 3, "solution": true}
def make_softmax_rows_kernel(threads, dt):
    """The softmax kernel for blocks of `threads` threads (a power of two) and numba scalar type dt."""

    @cuda.jit
    def softmax_rows_kernel(x, out):
        """Block b computes row b of out; its threads share the row and two block reductions."""
        ### BEGIN SOLUTION a09.softmax_rows_kernel
        ### END SOLUTION

    return softmax_rows_kernel


# %% nbgrader={"grade": true, "grade_id": "softmax_rows_kernel_visible", "locked": true, "points": 5, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_check = np.array([[0.0, 3.5, 4.0, 6.0, -3.5, 6.0, -5.0, 5.0, 4.5, 5.0, 4.5],
                    [2.5, 1.0, 0.5, -5.5, 5.5, 5.0, -5.0, 1.0, -1.5, 3.0, 1.5]])  # rows longer than 8 threads
p = softmax_rows_gpu(x_check)
grading.expect_shape("softmax_rows_gpu(x) for x (2, 11)", p, (2, 11), hint="out has the shape of x.")
# Isolation cases: a constant row is uniform whatever the maximum (checks the sum reduction);
# a shifted row gives the same probabilities (checks the maximum is subtracted).
grading.expect_close(
    "softmax of a constant row of 11", softmax_rows_gpu(np.full((1, 11), 3.0)), np.full((1, 11), 1 / 11),
    hint="a constant row gives 1/D everywhere: if not, the sum over the row is wrong (every column counted "
         "once? every thread's partial sum combined? barriers between rounds?).")
grading.expect_close(
    "row sums of softmax_rows_gpu(x)", p.sum(axis=1), np.ones(2),
    hint="each row must sum to 1: divide by the block's total, read from buf[0] after the last round.")
# Expected values to 10 significant digits, compared with expect_close's rtol = 1e-6 (atol = 1e-9).
grading.expect_close(
    "softmax_rows_gpu(x)", p,
    np.array([[0.0007286140633, 0.02412838401, 0.03978097994, 0.2939438925, 2.200223824e-05, 0.2939438925,
               4.909362941e-06, 0.1081359149, 0.0655877478, 0.1081359149, 0.0655877478],
              [0.02786646172, 0.006217848066, 0.00377131549, 9.348156479e-06, 0.5597128458, 0.3394830016,
               1.541250443e-05, 0.006217848066, 0.00051039205, 0.04594402818, 0.01025149836]]),
    hint="p = exp(x - row max) / sum of exp(x - row max) over the row.")
big = np.array([[1000.0, 999.0, -1000.0, 0.0, 1000.0]])
grading.expect_close(
    "softmax of [1000, 999, -1000, 0, 1000]", softmax_rows_gpu(big), softmax_rows_numpy(big), atol=1e-300,
    hint="exp(1000) overflows: subtract the row maximum (the block's max reduction) before exp.")
low = np.array([[-1000.0, -1001.0, -1002.0]])
grading.expect_close(
    "softmax of [-1000, -1001, -1002]", softmax_rows_gpu(low), softmax_rows_numpy(low),
    hint="exp(-1000) underflows to 0: the running maximum must start at -inf (dt(-math.inf)), not 0.")

# Edge sizes: one column; rows shorter than the block (threads without a column must add
# -inf to the max and 0 to the sum); one row much longer than the block.
rng = np.random.default_rng(2)
for N, D in [(1, 1), (4, 3), (1, 37)]:
    x_e = 5 * rng.standard_normal((N, D))
    grading.expect_close(
        f"softmax_rows_gpu(x) for x of shape {(N, D)}", softmax_rows_gpu(x_e), softmax_rows_numpy(x_e),
        hint="NaN entries were never written (each thread writes columns tid, tid + threads, ...); wrong "
             "values on short rows: threads with no column must start from -inf and 0.")

# %% nbgrader={"grade": true, "grade_id": "softmax_rows_kernel_hidden", "locked": true, "points": 7, "schema_version": 3, "solution": false}
# Hidden tests: the grader launches your kernel on fresh random inputs, with other block sizes, and
# compares it with the reference.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a09.softmax_rows_kernel", make_softmax_rows_kernel)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Matrix multiply with shared-memory tiles
#
# $C = A B$ with $A$ `(M, K)` and $B$ `(K, N)`: $C_{rc} = \sum_k A_{rk} B_{kc}$, $2MNK$ floating-point
# operations. A thread per output that reads its row of $A$ and column of $B$ from GPU memory does one
# multiply-add per two loads: far below what the arithmetic units could do with the bandwidth available.
#
# **Tiles.** A block of `tile x tile` threads computes a `tile x tile` tile of $C$. It walks along $K$ one
# tile at a time. For each step `k0 = 0, tile, 2 * tile, ...`:
#
# 1. every thread loads **one** element of the $A$ tile and **one** of the $B$ tile into shared memory,
#    `As = cuda.shared.array((tile, tile), dt)` and `Bs` likewise: thread `(tx, ty)` loads
#    `As[ty, tx] = A[row, k0 + tx]` and `Bs[ty, tx] = B[k0 + ty, col]`, with **zero** where the index falls
#    outside $A$ or $B$ (so partial tiles add nothing);
# 2. `cuda.syncthreads()`: the whole tile is loaded before anyone reads it;
# 3. each thread does `tile` multiply-adds from shared memory, `acc += As[ty, k] * Bs[k, tx]`;
# 4. `cuda.syncthreads()` again: everyone is done with the tile before the next step overwrites it.
#
# Each number loaded from GPU memory is now used `tile` times. Here `tx = cuda.threadIdx.x` runs along
# the columns of $C$ and `ty = cuda.threadIdx.y` along its rows: `row = cuda.blockIdx.y * tile + ty`,
# `col = cuda.blockIdx.x * tile + tx`. At the end, write `C[row, col] = acc` if it lies inside $C$. Note
# that threads outside $C$ must still load (zeros) and reach both barriers: test the bounds on each load
# and on the store, never around the barriers.
#
# **Exercise 4.** Write the body of `matmul_tiled_kernel(A, B, C)`, launched on a grid of
# `(ceil(N / tile), ceil(M / tile))` blocks of `(tile, tile)` threads. Accumulate in `acc = dt(0)`.

# %%
def matmul_tiled_gpu(A, B, tile=TILE, fill=np.nan):
    """C = A B with your tiled kernel: blocks of tile x tile threads, each computing a tile of C."""
    M, N = A.shape[0], B.shape[1]
    kernel = compiled(make_matmul_tiled_kernel, tile, numba_dtype(A.dtype))
    grid = (blocks(N, tile), blocks(M, tile))  # x along the columns of C, y along its rows
    (C,) = launch(kernel, grid, (tile, tile), [A, B], new_outputs(A, (M, N), fill=fill))
    return C


# %% nbgrader={"grade": false, "grade_id": "matmul_tiled_kernel", "locked": false, "schema_version": 3, "solution": true}
def make_matmul_tiled_kernel(tile, dt):
    """The shared-memory tiled kernel for tile x tile blocks and numba scalar type dt."""

    @cuda.jit
    def matmul_tiled_kernel(A, B, C):
        """Block (bx, by) of tile x tile threads computes the tile of C at rows by*tile..,
        columns bx*tile.."""
        ### BEGIN SOLUTION a09.matmul_tiled_kernel
        ### END SOLUTION

    return matmul_tiled_kernel


# %% nbgrader={"grade": true, "grade_id": "matmul_tiled_kernel_visible", "locked": true, "points": 5, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
# Small integers: every product and sum is exact.
A_check = np.array([[1, 0, -3, 2, 3, -2], [0, -3, 0, -3, -1, 3], [-3, -3, 1, -2, -3, -1],
                    [-2, 1, 0, 2, 1, -3], [-3, 3, 2, 2, 2, -1]], dtype=float)
B_check = np.array([[0, -2, -3, 1, -2, 1, 3], [-2, -2, -2, -1, 2, 1, 1], [-3, 2, 2, -2, 1, 2, -3],
                    [-3, -2, -3, 1, -2, 1, 2], [-2, 0, 1, 1, -2, 1, -2], [1, -2, -1, 3, 2, -3, -3]],
                   dtype=float)
C = matmul_tiled_gpu(A_check, B_check)
grading.expect_shape("matmul_tiled_gpu(A, B) for A (5, 6), B (6, 7)", C, (5, 7), hint="C is (M, N).")
# Isolation cases: multiplying by an identity leaves the other operand, so each checks one tile load.
grading.expect_close(
    "A @ I (B the 6 x 6 identity)", matmul_tiled_gpu(A_check, np.eye(6)), A_check,
    hint="A @ I must give A back: check the A tile (As[ty, tx] = A[row, k0 + tx]) and the row index.")
grading.expect_close(
    "I @ B (A the 6 x 6 identity)", matmul_tiled_gpu(np.eye(6), B_check), B_check,
    hint="I @ B must give B back: check the B tile (Bs[ty, tx] = B[k0 + ty, col]) and the column index.")
grading.expect_close(
    "matmul_tiled_gpu(A, B)", C,
    np.array([[-5, -8, -10, 6, -19, 6, 16], [20, 6, 11, 8, 8, -16, -16], [14, 20, 21, -10, 9, -6, -10],
              [-13, 4, 2, -9, -6, 11, 6], [-23, 2, 4, -9, 4, 11, -9]], dtype=float),
    hint="C[row, col] = sum over k of A[row, k] * B[k, col], the sum running over all K-tiles.")

# Edge sizes: one row; one column; 1 x 1 x 1; K shorter than a tile; everything longer than a tile.
rng = np.random.default_rng(3)
for M, K, N in [(1, 6, 7), (6, 5, 1), (1, 1, 1), (3, 2, 5), (9, 10, 11)]:
    A_e, B_e = rng.standard_normal((M, K)), rng.standard_normal((K, N))
    grading.expect_close(
        f"matmul_tiled_gpu(A, B) for A {(M, K)}, B {(K, N)}", matmul_tiled_gpu(A_e, B_e), A_e @ B_e,
        hint="NaN entries were never written (bounds of the store); wrong edge values: loads outside A or B "
             "must put 0 in the tile, and every thread must reach both barriers.")

# %% nbgrader={"grade": true, "grade_id": "matmul_tiled_kernel_hidden", "locked": true, "points": 7, "schema_version": 3, "solution": false}
# Hidden tests: the grader launches your kernel on fresh random inputs, with other block sizes, and
# compares it with the reference.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a09.matmul_tiled_kernel", make_matmul_tiled_kernel)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. (Extra) Register blocking
#
# The tiled kernel does two shared-memory loads per multiply-add, and shared memory, though fast, is
# itself too slow to feed the arithmetic units at that rate. **Register blocking** lets each thread
# compute a small `TM x TN` tile of $C$ held in registers (`acc = cuda.local.array((TM, TN), dt)`).
#
# A block computes a `BM x BN` tile of $C$ with `TY x TX` threads, `TY = BM // TM`, `TX = BN // TN`. For each
# step `k0 = 0, BK, 2 * BK, ...` along $K$:
#
# 1. the block's `NT = TX * TY` threads load the `BM x BK` tile of $A$ and the `BK x BN` tile of $B$ into
#    shared memory together: thread number `tid = ty * TX + tx` loads the elements `idx = tid + load * NT`,
#    `load = 0 .. LOADS_A - 1`, i.e. `A[row0 + idx // BK, k0 + idx % BK]` (store it **transposed**,
#    `As[idx % BK, idx // BK]`, so that column `k` of the $A$ tile is contiguous), and likewise
#    `B[k0 + idx // BN, col0 + idx % BN]` into `Bs[idx // BN, idx % BN]` for `load < LOADS_B`; zero
#    outside $A$ or $B$. Here `row0 = cuda.blockIdx.y * BM` and `col0 = cuda.blockIdx.x * BN`;
# 2. `cuda.syncthreads()`;
# 3. for each `k < BK`: copy `TM` values `As[k, ty + i * TY]` into a register array `a_reg` and `TN` values
#    `Bs[k, tx + j * TX]` into `b_reg`, then do the **outer product** `acc[i, j] += a_reg[i] * b_reg[j]`:
#    `TM * TN` multiply-adds for `TM + TN` shared-memory loads;
# 4. `cuda.syncthreads()`.
#
# Thread `(tx, ty)` owns rows `row0 + ty + i * TY` and columns `col0 + tx + j * TX` of $C$ (strided, not
# contiguous, so the threads of a warp read neighbouring shared-memory words); at the end it writes each
# `acc[i, j]` that lies inside $C$.
#
# **Exercise 5 (extra).** Write the body of `matmul_register_blocked_kernel(A, B, C)`. The constants `TX`,
# `TY`, `NT`, `LOADS_A` and `LOADS_B` are computed for you; the kernel is launched on
# `(ceil(N / BN), ceil(M / BM))` blocks of `(TX, TY)` threads.

# %%
def matmul_register_blocked_gpu(A, B, blocking=BLOCKING, fill=np.nan):
    """C = A B with your register-blocked kernel; blocking = (BM, BN, BK, TM, TN)."""
    M, N = A.shape[0], B.shape[1]
    BM, BN, BK, TM, TN = blocking
    kernel = compiled(make_matmul_register_blocked_kernel, BM, BN, BK, TM, TN, numba_dtype(A.dtype))
    grid, block = (blocks(N, BN), blocks(M, BM)), (BN // TN, BM // TM)
    (C,) = launch(kernel, grid, block, [A, B], new_outputs(A, (M, N), fill=fill))
    return C


# %% nbgrader={"grade": false, "grade_id": "matmul_register_blocked_kernel", "locked": false, "schema_version": 3, "solution": true}
def make_matmul_register_blocked_kernel(BM, BN, BK, TM, TN, dt):
    """The register-blocked kernel: BM x BN tiles of C, BK-wide steps along K, TM x TN outputs per thread."""
    if BM % TM or BN % TN:
        raise ValueError(f"TM={TM} must divide BM={BM} and TN={TN} must divide BN={BN}")
    TX, TY = BN // TN, BM // TM  # threads per block along the columns and the rows of C
    NT = TX * TY
    if (BM * BK) % NT or (BK * BN) % NT:
        raise ValueError(f"{NT} threads must share the {BM}x{BK} and {BK}x{BN} tiles evenly")
    LOADS_A, LOADS_B = BM * BK // NT, BK * BN // NT  # noqa: F841 (elements of each tile one thread loads)

    @cuda.jit
    def matmul_register_blocked_kernel(A, B, C):
        """Block (bx, by) computes the BM x BN tile of C at rows by*BM.., columns bx*BN..; thread (tx, ty)
        owns its rows ty + i TY and columns tx + j TX, i < TM, j < TN, in registers."""
        ### BEGIN SOLUTION a09.matmul_register_blocked_kernel
        ### END SOLUTION

    return matmul_register_blocked_kernel


# %% nbgrader={"grade": true, "grade_id": "matmul_register_blocked_kernel_visible", "locked": true, "points": 4, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
# Small integers, so every product and sum is exact, and the expected C is A @ B (NumPy's product).
rng = np.random.default_rng(9)
A_check = rng.integers(-3, 4, (9, 10)).astype(float)  # 9 x 10 @ 10 x 7 against 8 x 8 x 4 blocks
B_check = rng.integers(-3, 4, (10, 7)).astype(float)
C = matmul_register_blocked_gpu(A_check, B_check)
grading.expect_shape("matmul_register_blocked_gpu(A, B) for A (9, 10), B (10, 7)", C, (9, 7),
                     hint="C is (M, N).")
# Isolation cases: an identity on one side checks the other operand's tile load alone.
grading.expect_close(
    "A @ I (B the 10 x 10 identity)", matmul_register_blocked_gpu(A_check, np.eye(10)), A_check,
    hint="A @ I must give A back: check the A tile load (As[idx % BK, idx // BK]), a_reg and the rows each "
         "thread owns.")
grading.expect_close(
    "I @ B (A the 9 x 9 identity)", matmul_register_blocked_gpu(np.eye(9), B_check[:9]), B_check[:9],
    hint="I @ B must give B back: check the B tile load (Bs[idx // BN, idx % BN]), b_reg and the columns "
         "each thread owns.")
grading.expect_close(
    "matmul_register_blocked_gpu(A, B)", C, A_check @ B_check,
    hint="thread (tx, ty) owns C[row0 + ty + i * TY, col0 + tx + j * TX]; acc sums over every K-step.")

# Edge sizes: one row; one column; 1 x 1 x 1; sizes that are no multiple of BM, BN or BK.
rng = np.random.default_rng(4)
for M, K, N in [(1, 6, 7), (6, 5, 1), (1, 1, 1), (11, 13, 9)]:
    A_e, B_e = rng.standard_normal((M, K)), rng.standard_normal((K, N))
    grading.expect_close(
        f"matmul_register_blocked_gpu(A, B) for A {(M, K)}, B {(K, N)}",
        matmul_register_blocked_gpu(A_e, B_e), A_e @ B_e,
        hint="NaN entries were never written (bounds of the store); wrong edge values: loads outside A or B "
             "must put 0 in the tile, and every thread must reach both barriers.")

# %% nbgrader={"grade": true, "grade_id": "matmul_register_blocked_kernel_hidden", "locked": true, "points": 7, "schema_version": 3, "solution": false}
# Hidden tests: the grader launches your kernel on fresh random inputs, with other block sizes, and
# compares it with the reference.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a09.matmul_register_blocked_kernel", make_matmul_register_blocked_kernel)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. The library on the GPU by swapping the array module
#
# None of the layers of `course` was written for a GPU. Those that call an array-module function start
# with `xp = get_array_module(x, ...)`, which returns `numpy` for NumPy arrays and `cupy` for CuPy arrays,
# and then use `xp.` functions (`xp.exp`, `xp.maximum`); the others, like the affine layer, use only array
# methods and operators (`@`, `+`, `.sum()`), which a CuPy array has too. So the function below, a
# two-layer network's loss and gradients built from assignment 02's layers, runs on the GPU when it is
# handed CuPy arrays (`to_device(arrays, "gpu")`), with no change. **What to see:** with a GPU, the loss
# and the gradients on CuPy equal those on NumPy up to the order in which the GPU sums (tiny relative
# differences in float64), and the GPU is much faster at this size; without one, the cell explains and
# runs on NumPy.

# %%
# NBVAL_IGNORE_OUTPUT (timings vary from run to run)
def two_layer_loss(X, y, w1, b1, w2, b2):
    """Loss and gradients (dw1, db1, dw2, db2) of affine - ReLU - affine - softmax cross-entropy."""
    h, cache1 = affine_forward(X, w1, b1)
    r, cache2 = relu_forward(h)
    scores, cache3 = affine_forward(r, w2, b2)
    loss, dscores = softmax_cross_entropy(scores, y)
    dr, dw2, db2 = affine_backward(dscores, cache3)
    _, dw1, db1 = affine_backward(relu_backward(dr, cache2), cache1)
    return loss, (dw1, db1, dw2, db2)


def timed(fn, inputs, sync=lambda: None, repeats=3):
    """(result, best seconds of ``repeats`` calls), ``sync`` closing each call (GPU work is asynchronous)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(**inputs)
        sync()
        best = min(best, time.perf_counter() - start)
    return result, best


rng = np.random.default_rng(5)
N, D, H, C = (4096, 1024, 1024, 10) if gpu_available() else (256, 64, 128, 10)
host = {"X": rng.standard_normal((N, D)), "y": rng.integers(0, C, N),
        "w1": rng.standard_normal((D, H)) / np.sqrt(D), "b1": np.zeros(H),
        "w2": rng.standard_normal((H, C)) / np.sqrt(H), "b2": np.zeros(C)}
(loss_cpu, grads_cpu), t_cpu = timed(two_layer_loss, host)
print(f"NumPy: N={N}, D={D}, H={H}: loss {float(loss_cpu):.6f} in {1e3 * t_cpu:.1f} ms")
if gpu_available():
    cp = cupy_module()
    device = to_device(host, "gpu")
    print("on the GPU the same function sees", type(device["X"]).__module__, "arrays, and",
          "get_array_module(X) is", get_array_module(device["X"]).__name__)
    (loss_gpu, grads_gpu), t_gpu = timed(two_layer_loss, device, sync=cp.cuda.Device().synchronize)
    diff = max(np.abs(to_cpu(g) - c).max() / np.abs(c).max() for g, c in zip(grads_gpu, grads_cpu))
    print(f"CuPy:  same code, loss {float(loss_gpu):.6f} in {1e3 * t_gpu:.1f} ms "
          f"({t_cpu / t_gpu:.0f}x faster); largest relative gradient difference {diff:.1e}")
else:
    print("No GPU visible (cupy is not installed or sees no CUDA device). On a GPU machine, "
          "to_device(host, 'gpu') hands the same function CuPy arrays: get_array_module then returns cupy "
          "and every xp.* call and @ runs on the GPU, with no change to the layer code.")


# %% [markdown]
# ## 7. Timing against CuPy, and the roofline
#
# Where a GPU is present, the next cell times your kernels in float32 at GPU sizes against what CuPy does
# with the same work: cuBLAS for the matrix product; for an LSTM step, assignment 06's `lstm_step_forward`
# and `lstm_step_backward` on CuPy arrays (the step's matrix products, then a chain of about a dozen
# element-wise launches) against the same matrix products around your fused kernel; and the chain of
# array expressions (the NumPy twin run on CuPy arrays) for the softmax. Your LSTM kernels are also timed
# alone, for the roofline. It uses `course.kernels.timing`: the device's peaks (a large cuBLAS GEMM and a
# device-to-device copy), round-robin timing, and its report format. A kernel whose result differs from
# CuPy's (or that is not written yet) is reported and left out. Without a GPU there is nothing meaningful
# to time (the simulator measures Python threads), and the cell says so.
#
# **What to look for:** at N = 64, D = H = 512 the element-wise half of an LSTM step is a few microseconds
# of memory traffic, so launches decide: with the same matrix products, the step with your fused kernel
# (one launch) should beat CuPy's step (about a dozen) by several times (the course's bar is 3x;
# `docs/gpu.md`); the softmax kernel reads each row once instead of once per expression; the tiled matrix
# multiply reaches a fraction of cuBLAS, register blocking a larger one.

# %%
# NBVAL_IGNORE_OUTPUT (timings vary from run to run)
def kernel_rows(xp, sync, n_matmul=4096, cell=(64, 512), softmax_shape=(4096, 4096), rounds=3, calls=5):
    """Rows for timing.format_report / plot_roofline: your kernels vs CuPy in float32."""
    rng = np.random.default_rng(6)
    f32 = lambda *shape: xp.asarray(rng.standard_normal(shape, dtype=np.float32))
    rows = []

    def compare(case, candidates, ratio=None, reference=None, flop=None, nbytes=None):
        """Time the candidates round-robin, leaving out any whose result is off from ``reference()`` (by
        default the first candidate, CuPy's); ``ratio`` names the first one's time over each one's, and
        rows with a ``flop`` count (per call, with ``nbytes`` of necessary traffic) go on the roofline."""
        baseline, ok = next(iter(candidates)), {}
        expected = to_cpu((reference or candidates[baseline])()).astype(np.float64)
        for name, fn in candidates.items():
            try:
                got = to_cpu(fn()).astype(np.float64)
            except Exception as err:  # a kernel that does not compile yet is reported, not timed
                print(f"{case}: {name} not timed ({type(err).__name__}: {err})")
                continue
            error = float(np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-30))
            if not error < 1e-3:
                print(f"{case}: {name} not timed: its result is off by {error:.1e} (not implemented yet?)")
                continue
            ok[name] = fn
        seconds = timing.fastest(ok, sync, rounds, calls)
        for name, s in seconds.items():
            row = {"case": case, "impl": name, "ms": 1e3 * s}
            if ratio is not None:
                row[ratio] = seconds[baseline] / s
            if flop is not None:
                row.update(flop=flop, bytes=nbytes, gflops=flop / s / 1e9, gbs=nbytes / s / 1e9)
            rows.append(row)

    n = n_matmul
    A, B = f32(n, n), f32(n, n)
    compare(f"matmul {n}^3 float32", {
        "cuBLAS": lambda: A @ B,
        "your tiled kernel": lambda: matmul_tiled_gpu(A, B, fill=None),
        "your register-blocked": lambda: matmul_register_blocked_gpu(A, B, fill=None),
    }, "of cuBLAS", flop=2.0 * n**3, nbytes=3.0 * n * n * 4)

    N, H = cell  # and D = H
    x, prev_h, prev_c, dh, dc = (f32(N, H) for _ in range(5))
    Wx, Wh, b = f32(H, 4 * H) / np.sqrt(H), f32(H, 4 * H) / np.sqrt(H), f32(4 * H)
    a = x @ Wx + prev_h @ Wh + b  # (N, 4H)
    step_cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[2]
    cell_cache = lstm_cell_forward_numpy(a, prev_c)[2]

    def fused_step_backward():
        """Your backward kernel, then the five products of lstm_step_backward; dx, the one compared."""
        da, _ = lstm_cell_backward_gpu(dh, dc, cell_cache, fill=None)
        dx, *_ = da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)
        return dx

    compare(f"lstm step N={N} D=H={H} fwd", {
        "CuPy lstm_step_forward": lambda: lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[0],
        "cuBLAS + your fused kernel": lambda: lstm_cell_forward_gpu(x @ Wx + prev_h @ Wh + b, prev_c,
                                                                   fill=None)[0],
    }, "speed-up")
    compare(f"lstm step N={N} D=H={H} bwd", {
        "CuPy lstm_step_backward": lambda: lstm_step_backward(dh, dc, step_cache)[0],
        "your fused kernel + cuBLAS": fused_step_backward,
    }, "speed-up")
    compare(f"lstm cell N={N} H={H} fwd", {
        "your fused kernel alone": lambda: lstm_cell_forward_gpu(a, prev_c, fill=None)[0],
    }, reference=lambda: lstm_cell_forward_numpy(a, prev_c)[0], flop=18.0 * N * H, nbytes=12.0 * N * H * 4)
    compare(f"lstm cell N={N} H={H} bwd", {
        "your fused kernel alone": lambda: lstm_cell_backward_gpu(dh, dc, cell_cache, fill=None)[0],
    }, reference=lambda: lstm_cell_backward_numpy(dh, dc, cell_cache)[0], flop=22.0 * N * H,
        nbytes=13.0 * N * H * 4)

    x = 5 * f32(*softmax_shape)
    compare(f"softmax rows {softmax_shape} float32", {
        "CuPy expression chain": lambda: softmax_rows_numpy(x),
        "your softmax kernel": lambda: softmax_rows_gpu(x, fill=None),
    }, "speed-up", flop=5.0 * x.size, nbytes=2.0 * x.size * 4)
    return rows


if SIMULATOR:
    measured = None
    print("No GPU visible: the simulator runs each CUDA thread as a Python thread, so timing it says nothing "
          "about a GPU. On a GPU machine (pip install -e '.[gpu]'), this cell times your kernels against "
          "cuBLAS and CuPy; `python -m bench.gpu` times the library's kernels.")
else:
    cp = cupy_module()
    sync = cp.cuda.Device().synchronize
    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    peaks = timing.measure_peaks(timing.Sizes(rounds=3, calls=5), cp, sync)
    measured = {"peaks": peaks, "rows": kernel_rows(cp, sync)}
    for row in measured["rows"]:
        if "gflops" in row:
            row["of peak FLOP/s"] = row["gflops"] / peaks["gflops"]
            row["of peak GB/s"] = row["gbs"] / peaks["gbs"]
    print(timing.format_report(measured, name.decode() if isinstance(name, bytes) else str(name)))

# %% [markdown]
# **The roofline.** A kernel that performs $F$ floating-point operations per byte it moves to or from
# GPU memory (its *arithmetic intensity*) can run at most at $\min(\text{peak FLOP/s},\ F \times
# \text{peak bytes/s})$. Left of the ridge where the two roofs meet, a kernel is bound by bandwidth; right
# of it, by arithmetic. With a GPU, the plot places each of your timed kernels at its intensity
# (counting only the traffic the computation needs) and its achieved rate, under the roof of the
# measured peaks: the gap to the roof is what a better kernel could still win. Without a GPU it shows the
# **model**: the roof of a datasheet GPU (H100 SXM: 67 TFLOP/s float32, 3.35 TB/s) and the *ceiling* of
# each design at the intensity its memory traffic allows, e.g. a matrix multiply that loads two numbers
# per multiply-add (0.25 flop/byte in float32) against `tile = 32` tiles, which reuse each load 32 times.
# **What to see:** element-wise work and the softmax sit far left, bound by bandwidth whatever the code
# does (so fusing, which removes traffic, is the whole game); the matrix multiply climbs toward the
# compute roof with every level of reuse.

# %%
if measured is not None:
    ax = timing.plot_roofline(measured)
    ax.set_title("Roofline: your kernels' achieved float32 throughput under the measured peaks")
else:
    peak_gflops, peak_gbs = 67_000.0, 3_350.0  # H100 SXM datasheet, float32 without tensor cores
    # flop per byte of GPU-memory traffic for float32 (4 bytes); the matrix multiplies count the loads
    # each design issues
    designs = {
        "LSTM cell, CuPy chain (~30 passes over (N, H))": 18 / (30 * 4),
        "LSTM cell, fused (12 numbers per (n, j))": 18 / (12 * 4),
        "softmax, fused (read x, write p)": 5 / (2 * 4),
        "matmul, one thread per output (2 loads per multiply-add)": 2 / (2 * 4),
        "matmul, 32 x 32 shared-memory tiles": 2 * 32 / (2 * 4),
        "matmul, 128 x 128 register-blocked tiles": 2 * 128 * 128 / ((128 + 128) * 4),
        "matmul 4096^3, compulsory traffic only": 2 * 4096**3 / (3 * 4096**2 * 4),
    }
    intensity = np.geomspace(0.05, 2000, 200)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    ax.loglog(intensity, np.minimum(peak_gflops, intensity * peak_gbs), "k-",
              label="roof: min(peak, intensity x bandwidth)")
    for label, f in designs.items():
        ax.loglog(f, min(peak_gflops, f * peak_gbs), "o", label=f"{label}: {f:.2g} flop/B")
    ax.set_title("Roofline model (no GPU: ceilings of each design, not measurements)")
    ax.set_xlabel("arithmetic intensity (flop / byte of GPU-memory traffic)")
    ax.set_ylabel("attainable GFLOP/s (float32)")
    ax.legend(fontsize=7, loc="lower right")
plt.show()

# %% [markdown]
# ## Summary
#
# The library runs on a GPU by handing it CuPy arrays: one code path through `get_array_module`. A
# hand-written kernel earns its place where that chain of array expressions wastes the GPU: fusing
# element-wise work removes launches and memory passes, a reduction needs threads to cooperate through
# shared memory and barriers, and a matrix multiply needs every loaded number reused, through shared
# memory tiles and then through registers. The same test cells check every kernel against its NumPy twin
# in numba's simulator on a laptop and on a real GPU, from the same source.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a09_gpu_kernels.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a09_gpu_kernels.ipynb")
