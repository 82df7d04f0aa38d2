"""A fused LSTM cell: the element-wise part of one LSTM step as one GPU kernel (lecture 000, "GPU";
lectures 002-003 for the LSTM; assignment 09).

Why a kernel: given the pre-activation a = x Wx + prev_h Wh + b (N, 4H), the rest of the step,
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    next_c = f * prev_c + i * g;  next_h = o * tanh(next_c),
is a dozen element-wise array expressions. Written with CuPy, each expression is its own kernel
launch that reads its inputs from GPU memory and writes a temporary back: ~12 launches and ~30 passes
over (N, H) arrays for 5 arrays of real input and output. The fused kernel gives one thread one (n, j)
element: it reads a[n, j], a[n, H + j], a[n, 2H + j], a[n, 3H + j] and prev_c[n, j] once, keeps every
intermediate in registers and writes each output once, in one launch. For small batches (N = 64,
H = 512: 32k elements, a few microseconds of memory traffic) the step is bound by launch overhead, so
one launch instead of a dozen is most of the gain. The backward kernel does the same for
(dnext_h, dnext_c) -> (da, dprev_c).

The NumPy twins ``lstm_cell_forward_numpy`` / ``lstm_cell_backward_numpy``, which the kernels must match,
are assignment 06's ``course.layers.lstm.lstm_step_forward`` / ``lstm_step_backward`` run on a given
pre-activation (input a, Wx = I, no prev_h, Wh or b): one implementation of the LSTM step, also runnable
on CuPy. The identity costs an extra (N, 4H) x (4H, 4H) product, so ``bench/gpu.py`` times the fused cell
inside a whole step against CuPy's whole step, not against the twins.

``fused_lstm_forward`` / ``fused_lstm_backward`` run a whole sequence with the fused cell (one GEMM per
step for prev_h Wh, then one kernel) and return exactly what ``course.layers.lstm.lstm_forward`` /
``lstm_backward`` return; ``FusedLSTM`` is the module.
"""

from __future__ import annotations

import functools
import math
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
from course.layers.lstm import LSTM, lstm_step_backward, lstm_step_forward

# numba.cuda, bound on the first kernel compilation (see ``course.kernels.launch``). It must be a module
# global: the simulator runs a kernel by swapping the global named ``cuda`` for its fake CUDA module.
cuda: Any = None


def _identity_step(xp: Any, N: int, H: int, dtype: Any) -> tuple[Any, Any, Any, Any]:
    """(prev_h, Wx, Wh, b) = (0, I, 0, 0), shapes (N, H), (4H, 4H), (H, 4H), (4H,): with these the
    pre-activation x Wx + prev_h Wh + b of an LSTM step whose input x is a (N, 4H) is a itself, exactly
    (a product with the identity adds only zeros), so ``lstm_step_forward`` / ``lstm_step_backward`` run
    the element-wise half of the step on a given a."""
    zeros = functools.partial(xp.zeros, dtype=dtype)
    return zeros((N, H)), xp.eye(4 * H, dtype=dtype), zeros((H, 4 * H)), zeros(4 * H)


def lstm_cell_forward_numpy(a: Any, prev_c: Any) -> tuple[Any, Any, tuple]:
    """The element-wise LSTM step as array expressions (the twin of the forward kernel): assignment 06's
    ``course.layers.lstm.lstm_step_forward`` on the pre-activation a (input a, Wx = I, no prev_h, Wh or b).

    Inputs:
    - a: (N, 4H) gate pre-activations x Wx + prev_h Wh + b, gate order i, f, o, g.
    - prev_c: (N, H) previous cell state.

    Returns:
    - next_h: (N, H); next_c: (N, H).
    - cache: (gates, prev_c, tanh_c): gates (N, 4H) = i, f, o, g after their non-linearities,
      tanh_c (N, H) = tanh(next_c).
    """
    xp = get_array_module(a, prev_c)
    N, H = prev_c.shape
    prev_h, Wx, Wh, b = _identity_step(xp, N, H, a.dtype)
    next_h, next_c, step_cache = lstm_step_forward(a, prev_h, prev_c, Wx, Wh, b)
    i, f, o, g, tanh_c = step_cache[5:]
    gates = xp.concatenate([i, f, o, g], axis=1)  # (N, 4H)
    return next_h, next_c, (gates, prev_c, tanh_c)


def lstm_cell_backward_numpy(dnext_h: Any, dnext_c: Any, cache: tuple) -> tuple[Any, Any]:
    """Backward of the element-wise LSTM step (the twin of the backward kernel): assignment 06's
    ``course.layers.lstm.lstm_step_backward`` on the step of ``lstm_cell_forward_numpy``, whose dx is da.

    dc = dnext_c + dnext_h o (1 - tanh(next_c)^2); da_i = dc g i (1 - i), da_f = dc prev_c f (1 - f),
    da_o = dnext_h tanh(next_c) o (1 - o), da_g = dc i (1 - g^2); dprev_c = dc f.

    Inputs:
    - dnext_h: (N, H); dnext_c: (N, H).
    - cache: from ``lstm_cell_forward_numpy`` or ``lstm_cell_forward``.

    Returns:
    - da: (N, 4H) gradient on the pre-activations; dprev_c: (N, H).
    """
    gates, prev_c, tanh_c = cache
    xp = get_array_module(dnext_h, dnext_c, gates)
    N, H = prev_c.shape
    prev_h, Wx, Wh, _ = _identity_step(xp, N, H, gates.dtype)
    i, f, o, g = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
    x = xp.zeros_like(gates)  # the step's input: only its weight gradient, which is not needed, reads it
    step_cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)
    da, _, dprev_c, _, _, _ = lstm_step_backward(dnext_h, dnext_c, step_cache)  # dx = da I^T = da
    return da, dprev_c


@functools.cache
def _kernels(dtype: np.dtype) -> tuple[Any, Any]:
    """Compile (lazily, once per dtype) the forward and backward kernels.

    Constants are cast to ``dtype`` inside the kernels: a bare 0.5 or 1 is a float64 / int64 to numba,
    and mixing it with float32 would silently turn the whole computation into float64.
    """
    global cuda
    cuda = import_cuda()
    dt = numba_dtype(dtype)

    @cuda.jit
    def lstm_cell_forward_kernel(a, prev_c, next_h, next_c, gates, tanh_c):
        """One thread per (n, j): the four gates of unit j of example n, then its cell and hidden state."""
        # BEGIN GRADED a09.lstm_cell_forward_kernel
        j, n = cuda.grid(2)  # x runs along H, so neighbouring threads touch neighbouring addresses
        N, H = prev_c.shape
        if n < N and j < H:
            half = dt(0.5)
            i = half * math.tanh(half * a[n, j]) + half
            f = half * math.tanh(half * a[n, H + j]) + half
            o = half * math.tanh(half * a[n, 2 * H + j]) + half
            g = math.tanh(a[n, 3 * H + j])
            c = f * prev_c[n, j] + i * g
            tc = math.tanh(c)
            gates[n, j] = i
            gates[n, H + j] = f
            gates[n, 2 * H + j] = o
            gates[n, 3 * H + j] = g
            next_c[n, j] = c
            tanh_c[n, j] = tc
            next_h[n, j] = o * tc
        # END GRADED

    @cuda.jit
    def lstm_cell_backward_kernel(dnext_h, dnext_c, gates, prev_c, tanh_c, da, dprev_c):
        """One thread per (n, j): (dnext_h, dnext_c) -> the four gate gradients and dprev_c."""
        # BEGIN GRADED a09.lstm_cell_backward_kernel
        j, n = cuda.grid(2)
        N, H = prev_c.shape
        if n < N and j < H:
            one = dt(1)
            i = gates[n, j]
            f = gates[n, H + j]
            o = gates[n, 2 * H + j]
            g = gates[n, 3 * H + j]
            tc = tanh_c[n, j]
            dh = dnext_h[n, j]
            dc = dnext_c[n, j] + dh * o * (one - tc * tc)
            da[n, j] = dc * g * i * (one - i)
            da[n, H + j] = dc * prev_c[n, j] * f * (one - f)
            da[n, 2 * H + j] = dh * tc * o * (one - o)
            da[n, 3 * H + j] = dc * i * (one - g * g)
            dprev_c[n, j] = dc * f
        # END GRADED

    return lstm_cell_forward_kernel, lstm_cell_backward_kernel


def _block() -> tuple[int, int]:
    """Threads per block (along H, along N): 256 on a GPU; 32 in the simulator, one Python thread each."""
    return (8, 4) if simulator_enabled() else (32, 8)


def _launch(kernel: Any, N: int, H: int, *args: Any) -> None:
    """Launch over an (N, H) grid of threads; ``args`` already converted by ``kernel_args``."""
    bx, by = _block()
    kernel[(blocks(H, bx), blocks(N, by)), (bx, by)](*args)


def _check_cell_inputs(func: str, a: Any, prev_c: Any) -> None:
    dims: dict[str, int] = {}
    check_array(func, "prev_c", prev_c, ("N", "H"), dims=dims, dtype_kind="f")
    check_array(func, "a", a, ("N", 4 * dims["H"]), dims=dims, dtype_kind="f")
    if a.dtype != prev_c.dtype:  # the kernel is compiled for one dtype
        raise ValueError(f"{func}: a and prev_c must have the same dtype, got {a.dtype} and {prev_c.dtype}")


def lstm_cell_forward(a: Any, prev_c: Any, backend: str = "auto") -> tuple[Any, Any, tuple]:
    """The element-wise LSTM step: the fused kernel (``backend='cuda'``, or 'auto' with CuPy arrays) or
    the NumPy twin (``'numpy'``, or 'auto' with NumPy arrays).

    Inputs:
    - a: (N, 4H) gate pre-activations, gate order i, f, o, g.
    - prev_c: (N, H) previous cell state.
    - backend: 'auto', 'numpy' or 'cuda' (see ``course.kernels.launch``).

    Returns next_h (N, H), next_c (N, H) and cache (gates (N, 4H), prev_c, tanh_c (N, H)).
    """
    _check_cell_inputs("lstm_cell_forward", a, prev_c)
    if resolve_backend("lstm_cell_forward", backend, a, prev_c) == "numpy":
        return lstm_cell_forward_numpy(a, prev_c)
    xp = get_array_module(a, prev_c)
    N, H = prev_c.shape
    next_h, next_c, tanh_c = (xp.empty((N, H), dtype=a.dtype) for _ in range(3))
    gates = xp.empty((N, 4 * H), dtype=a.dtype)
    forward, _ = _kernels(np.dtype(a.dtype))
    _launch(forward, N, H, *kernel_args(import_cuda(), a, prev_c, next_h, next_c, gates, tanh_c))
    return next_h, next_c, (gates, prev_c, tanh_c)


def lstm_cell_backward(dnext_h: Any, dnext_c: Any, cache: tuple, backend: str = "auto") -> tuple[Any, Any]:
    """Backward of the element-wise LSTM step: fused kernel or NumPy twin, chosen as in
    ``lstm_cell_forward``.

    Inputs:
    - dnext_h: (N, H); dnext_c: (N, H); cache: from ``lstm_cell_forward``.
    - backend: 'auto', 'numpy' or 'cuda'.

    Returns da (N, 4H) and dprev_c (N, H), in the order of the inputs (a, prev_c).
    """
    gates, prev_c, tanh_c = cache
    dims: dict[str, int] = {}
    check_array("lstm_cell_backward", "dnext_h", dnext_h, ("N", "H"), dims=dims, dtype_kind="f")
    check_array("lstm_cell_backward", "dnext_c", dnext_c, ("N", "H"), dims=dims, dtype_kind="f")
    check_array("lstm_cell_backward", "gates", gates, ("N", 4 * dims["H"]), dims=dims, dtype_kind="f")
    if resolve_backend("lstm_cell_backward", backend, dnext_h, dnext_c, gates) == "numpy":
        return lstm_cell_backward_numpy(dnext_h, dnext_c, cache)
    xp = get_array_module(dnext_h, dnext_c, gates)
    N, H = prev_c.shape
    da = xp.empty((N, 4 * H), dtype=gates.dtype)
    dprev_c = xp.empty((N, H), dtype=gates.dtype)
    _, backward = _kernels(np.dtype(gates.dtype))
    args = kernel_args(import_cuda(), dnext_h, dnext_c, gates, prev_c, tanh_c, da, dprev_c)
    _launch(backward, N, H, *args)
    return da, dprev_c


def fused_lstm_forward(
    x: Any,
    h0: Any,
    Wx: Any,
    Wh: Any,
    b: Any,
    *,
    c0: Any = None,
    return_state: bool = False,
    backend: str = "auto",
) -> tuple:
    """An LSTM over a sequence with the fused cell: same inputs and outputs as
    ``course.layers.lstm.lstm_forward``.

    x Wx for all steps is one GEMM; each step adds prev_h Wh (one GEMM, which must wait for the previous
    step) and then runs one cell kernel that writes h_t, c_t and the cached gates straight into the
    sequence buffers.

    Inputs: x (N, T, D); h0 (N, H); Wx (D, 4H); Wh (H, 4H); b (4H,); c0 (N, H) or None (zeros).
    Returns h (N, T, H), c_T (N, H) only when ``return_state``, and the cache for ``fused_lstm_backward``.
    """
    dims: dict[str, int] = {}
    check_array("fused_lstm_forward", "x", x, ("N", "T", "D"), dims=dims, dtype_kind="f")
    check_array("fused_lstm_forward", "h0", h0, ("N", "H"), dims=dims, dtype_kind="f")
    H = dims["H"]
    if c0 is not None:
        check_array("fused_lstm_forward", "c0", c0, ("N", "H"), dims=dims, dtype_kind="f")
    check_array("fused_lstm_forward", "Wx", Wx, ("D", 4 * H), dims=dims, dtype_kind="f")
    check_array("fused_lstm_forward", "Wh", Wh, ("H", 4 * H), dims=dims, dtype_kind="f")
    check_array("fused_lstm_forward", "b", b, (4 * H,), dims=dims, dtype_kind="f")
    path = resolve_backend("fused_lstm_forward", backend, x, h0, Wx, Wh, b)
    xp = get_array_module(x, h0, Wx, Wh, b)
    N, T, D = x.shape
    dtype = np.result_type(x, h0, Wx, Wh, b)
    xt = xp.ascontiguousarray(x.transpose(1, 0, 2), dtype=dtype)  # (T, N, D): time-major
    pre = (xt.reshape(T * N, D) @ Wx).reshape(T, N, 4 * H)  # (T, N, 4H): every x_t Wx in one GEMM
    pre += b
    hs = xp.empty((T + 1, N, H), dtype=dtype)  # hs[t] is h_{t-1}
    cs = xp.empty((T + 1, N, H), dtype=dtype)  # cs[t] is c_{t-1}
    gates = xp.empty((T, N, 4 * H), dtype=dtype)
    tanh_cs = xp.empty((T, N, H), dtype=dtype)
    hs[0] = h0
    cs[0] = 0 if c0 is None else c0
    hw = xp.empty((N, 4 * H), dtype=dtype)
    if path == "cuda":
        forward = _kernels(np.dtype(dtype))[0]
        # one conversion of each buffer per sequence (not per step): handing numba a CuPy array costs
        # more Python time than the kernel itself at these sizes; slicing the converted views is cheap
        d_hw, d_hs, d_cs, d_gates, d_tanh_cs = kernel_args(import_cuda(), hw, hs, cs, gates, tanh_cs)
    for t in range(T):
        xp.matmul(hs[t], Wh, out=hw)
        hw += pre[t]  # a_t (N, 4H)
        if path == "numpy":
            hs[t + 1], cs[t + 1], (gates[t], _, tanh_cs[t]) = lstm_cell_forward_numpy(hw, cs[t])
        else:
            _launch(forward, N, H, d_hw, d_cs[t], d_hs[t + 1], d_cs[t + 1], d_gates[t], d_tanh_cs[t])
    h = xp.ascontiguousarray(hs[1:].transpose(1, 0, 2))  # (N, T, H)
    cache = (xt, hs, cs, gates, tanh_cs, Wx, Wh, path)
    if return_state:
        return h, cs[T].copy(), cache
    return h, cache


def fused_lstm_backward(dh: Any, cache: tuple, *, dcT: Any = None, return_state: bool = False) -> tuple:
    """Backpropagation through time for ``fused_lstm_forward``: same outputs as
    ``course.layers.lstm.lstm_backward``.

    Each step is one cell kernel (dh_t, dc_t) -> (da_t, dc_{t-1}), then da_t Wh^T for the gradient
    reaching h_{t-1}; the weight gradients are one GEMM each over all T N rows after the loop.

    Inputs: dh (N, T, H); cache; dcT (N, H) or None.
    Returns dx (N, T, D), dh0 (N, H), dc0 (N, H) only when ``return_state``, dWx (D, 4H), dWh (H, 4H),
    db (4H,).
    """
    xt, hs, cs, gates, tanh_cs, Wx, Wh, path = cache
    T, N, H = tanh_cs.shape
    check_array("fused_lstm_backward", "dh", dh, (N, T, H), dtype_kind="f")
    if dcT is not None:
        check_array("fused_lstm_backward", "dcT", dcT, (N, H), dtype_kind="f")
    xp = get_array_module(dh, Wx)
    dtype = gates.dtype
    D = xt.shape[2]
    dht = xp.ascontiguousarray(dh.transpose(1, 0, 2), dtype=dtype)  # (T, N, H)
    dA = xp.empty((T, N, 4 * H), dtype=dtype)
    dnext_h = xp.zeros((N, H), dtype=dtype)  # gradient reaching h_t from step t + 1
    dc = xp.zeros((N, H), dtype=dtype) if dcT is None else dcT.astype(dtype, copy=True)
    dh_t = xp.empty((N, H), dtype=dtype)
    dc_prev = xp.empty((N, H), dtype=dtype)  # the kernel reads dc_t from dc and writes dc_{t-1} here
    if path == "cuda":
        backward = _kernels(np.dtype(dtype))[1]
        d_dh_t, d_dc, d_dc_prev, d_gates, d_cs, d_tanh_cs, d_dA = kernel_args(
            import_cuda(), dh_t, dc, dc_prev, gates, cs, tanh_cs, dA
        )
    for t in reversed(range(T)):
        xp.add(dht[t], dnext_h, out=dh_t)  # both uses of h_t: the loss at t and step t + 1
        if path == "numpy":
            dA[t], dc = lstm_cell_backward_numpy(dh_t, dc, (gates[t], cs[t], tanh_cs[t]))
        else:
            _launch(backward, N, H, d_dh_t, d_dc, d_gates[t], d_cs[t], d_tanh_cs[t], d_dA[t], d_dc_prev)
            dc, dc_prev, d_dc, d_dc_prev = dc_prev, dc, d_dc_prev, d_dc  # swap: dc_{t-1} is the next dc_t
        xp.matmul(dA[t], Wh.T, out=dnext_h)  # (N, H)
    dA2 = dA.reshape(T * N, 4 * H)
    dWx = xt.reshape(T * N, D).T @ dA2  # (D, 4H)
    dWh = hs[:T].reshape(T * N, H).T @ dA2  # (H, 4H)
    db = dA2.sum(axis=0)  # (4H,)
    dx = xp.ascontiguousarray((dA2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2))  # (N, T, D)
    if return_state:
        return dx, dnext_h, dc, dWx, dWh, db
    return dx, dnext_h, dWx, dWh, db


class FusedLSTM(LSTM):
    """``course.layers.lstm.LSTM`` with the fused cell: same parameters, initialisation and interface.

    ``backend`` picks the cell as in ``lstm_cell_forward`` ('auto': the kernel on CuPy arrays).
    """

    def __init__(self, D: int, H: int, *, backend: str = "auto", **kwargs: Any) -> None:
        super().__init__(D, H, **kwargs)
        self.backend = backend

    def forward(self, x: Any, state: tuple[Any, Any] | None = None) -> Any:
        xp = get_array_module(x)
        H = self.params["Wh"].shape[0]
        if state is None:
            state = (xp.zeros((x.shape[0], H), dtype=x.dtype), xp.zeros((x.shape[0], H), dtype=x.dtype))
        h0, c0 = state
        h, cT, self.cache = fused_lstm_forward(
            x, h0, self.params["Wx"], self.params["Wh"], self.params["b"],
            c0=c0, return_state=True, backend=self.backend,
        )  # fmt: skip
        self.final_state = (h[:, -1, :].copy(), cT)
        return h

    def backward(self, dout: Any) -> Any:
        dx, self.dh0, self.dc0, dWx, dWh, db = fused_lstm_backward(dout, self.cache, return_state=True)
        self.accumulate("Wx", dWx)
        self.accumulate("Wh", dWh)
        self.accumulate("b", db)
        return dx
