"""Long short-term memory (lectures 001, 002 and 003): the step pair, the sequence pair and the module.

One step, with the four gates stacked in the order i, f, o, g along the 4H axis:
    a = x Wx + prev_h Wh + b                          (N, 4H), Wx (D, 4H), Wh (H, 4H), b (4H,)
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)  input, forget and output gates
    g = tanh(a_g)                                     candidate cell
    next_c = f * prev_c + i * g
    next_h = o * tanh(next_c)

The cell path next_c = f * prev_c + ... is additive: its gradient is multiplied only by f, not by a
weight matrix and a squashing derivative, which is why gradients survive many steps (lecture 003,
"LSTMs"). A forget-gate bias of 1 starts f near 0.73 so the cell keeps its content by default (lecture
000, "forget bias speeds up training").

``lstm_forward`` / ``lstm_backward`` (the exercise) loop the step pair over time. ``lstm_forward_fast`` /
``lstm_backward_fast`` compute the same values written for speed (one GEMM for every input step,
time-major preallocated buffers, one tanh for all four gates); ``LSTM`` and the character model train
with them, and ``tests/test_lstm.py`` checks that they equal the teaching pair.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array
from course.layers.activations import sigmoid_forward
from course.training.init import orthogonal


def lstm_step_forward(x: Any, prev_h: Any, prev_c: Any, Wx: Any, Wh: Any, b: Any) -> tuple[Any, Any, tuple]:
    """One LSTM step (gate order i, f, o, g).

    Inputs:
    - x: (N, D) inputs at this step.
    - prev_h: (N, H) previous hidden state.
    - prev_c: (N, H) previous cell state.
    - Wx: (D, 4H) input-to-gates weights.
    - Wh: (H, 4H) hidden-to-gates weights.
    - b: (4H,) gate biases.

    Returns:
    - next_h: (N, H).
    - next_c: (N, H).
    - cache: (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c).
    """
    dims: dict[str, int] = {}
    check_array("lstm_step_forward", "x", x, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("lstm_step_forward", "prev_h", prev_h, ("N", "H"), dims=dims, dtype_kind="f")
    check_array("lstm_step_forward", "prev_c", prev_c, ("N", "H"), dims=dims, dtype_kind="f")
    H = dims["H"]
    check_array("lstm_step_forward", "Wx", Wx, ("D", 4 * H), dims=dims, dtype_kind="f")
    check_array("lstm_step_forward", "Wh", Wh, ("H", 4 * H), dims=dims, dtype_kind="f")
    check_array("lstm_step_forward", "b", b, (4 * H,), dims=dims, dtype_kind="f")
    # BEGIN GRADED a06.lstm_step_forward
    xp = get_array_module(x, prev_h, prev_c, Wx, Wh, b)
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b  # (N, 4H)
    i, _ = sigmoid_forward(a[:, :H])  # (N, H) input gate
    f, _ = sigmoid_forward(a[:, H : 2 * H])  # forget gate
    o, _ = sigmoid_forward(a[:, 2 * H : 3 * H])  # output gate
    g = xp.tanh(a[:, 3 * H :])  # candidate cell
    next_c = f * prev_c + i * g
    tanh_c = xp.tanh(next_c)
    next_h = o * tanh_c
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)
    return next_h, next_c, cache
    # END GRADED


def lstm_step_backward(dnext_h: Any, dnext_c: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Backward pass of one LSTM step.

    next_c feeds next_h, so its total gradient is dnext_c + dnext_h * o * (1 - tanh(next_c)^2); from it
    di = dc * g, df = dc * prev_c, dg = dc * i, dprev_c = dc * f, and do = dnext_h * tanh(next_c).
    Through the non-linearities: da_{i,f,o} = d{i,f,o} * s (1 - s), da_g = dg * (1 - g^2).

    Inputs:
    - dnext_h: (N, H) gradient on next_h.
    - dnext_c: (N, H) gradient on next_c (from the following step's cell path).
    - cache: from ``lstm_step_forward``.

    Returns:
    - dx: (N, D); dprev_h: (N, H); dprev_c: (N, H); dWx: (D, 4H); dWh: (H, 4H); db: (4H,).
    """
    state_shape = tuple(cache[1].shape)  # prev_h: (N, H)
    check_array("lstm_step_backward", "dnext_h", dnext_h, state_shape, dtype_kind="f")
    check_array("lstm_step_backward", "dnext_c", dnext_c, state_shape, dtype_kind="f")
    # BEGIN GRADED a06.lstm_step_backward
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    xp = get_array_module(dnext_h, dnext_c, Wx)
    dc = dnext_c + dnext_h * o * (1 - tanh_c * tanh_c)  # (N, H): both paths into next_c
    di = dc * g
    df = dc * prev_c
    do = dnext_h * tanh_c
    dg = dc * i
    dprev_c = dc * f
    da = xp.concatenate(
        [di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g * g)], axis=1
    )  # (N, 4H), in the gate order i, f, o, g
    dx = da @ Wx.T  # (N, D)
    dprev_h = da @ Wh.T  # (N, H)
    dWx = x.T @ da  # (D, 4H)
    dWh = prev_h.T @ da  # (H, 4H)
    db = da.sum(axis=0)  # (4H,)
    return dx, dprev_h, dprev_c, dWx, dWh, db
    # END GRADED


def _check_sequence_inputs(name: str, x: Any, h0: Any, Wx: Any, Wh: Any, b: Any, c0: Any) -> int:
    """The shapes of an LSTM sequence's inputs (shared by the teaching and the fast pair): ValueError
    naming the argument otherwise. Returns H."""
    dims: dict[str, int] = {}
    check_array(name, "x", x, ("N", "T", "D"), dims=dims, dtype_kind="f")
    check_array(name, "h0", h0, ("N", "H"), dims=dims, dtype_kind="f")
    H = dims["H"]
    if c0 is not None:
        check_array(name, "c0", c0, ("N", "H"), dims=dims, dtype_kind="f")
    check_array(name, "Wx", Wx, ("D", 4 * H), dims=dims, dtype_kind="f")
    check_array(name, "Wh", Wh, ("H", 4 * H), dims=dims, dtype_kind="f")
    check_array(name, "b", b, (4 * H,), dims=dims, dtype_kind="f")
    return H


def lstm_forward(
    x: Any,
    h0: Any,
    Wx: Any,
    Wh: Any,
    b: Any,
    *,
    c0: Any = None,
    return_state: bool = False,
) -> tuple:
    """An LSTM over a whole sequence: ``lstm_step_forward`` for t = 1..T, the cell starting at c0.

    Inputs:
    - x: (N, T, D) input sequence.
    - h0: (N, H) initial hidden state.
    - Wx: (D, 4H); Wh: (H, 4H); b: (4H,), gate order i, f, o, g.
    - c0: (N, H) initial cell state, or None for zeros (keyword only).
    - return_state: also return the final cell c_T, for truncated BPTT (carry (h[:, -1], c_T) into the
      next chunk) and for seq2seq (hand the encoder's state to the decoder).

    Returns:
    - h: (N, T, H) hidden states of every step.
    - c_T: (N, H) final cell state, only when ``return_state``.
    - cache: the list of the T step caches.
    """
    _check_sequence_inputs("lstm_forward", x, h0, Wx, Wh, b, c0)
    # BEGIN GRADED a06.lstm_forward
    xp = get_array_module(x, h0, Wx, Wh, b)
    prev_h = h0
    prev_c = xp.zeros_like(h0) if c0 is None else c0
    hs, cache = [], []
    for t in range(x.shape[1]):
        prev_h, prev_c, step_cache = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        hs.append(prev_h)
        cache.append(step_cache)
    h = xp.stack(hs, axis=1)  # (N, T, H)
    if return_state:
        return h, prev_c, cache
    return h, cache
    # END GRADED


def lstm_backward(dh: Any, cache: list, *, dcT: Any = None, return_state: bool = False) -> tuple:
    """Backpropagation through time for ``lstm_forward``: ``lstm_step_backward`` for t = T..1.

    The gradient on h_t is dh[:, t] (the loss reads every step) plus dprev_h coming back from step t + 1;
    the cell gradient flows back along the cell path alone. The weights are shared by every step, so
    their gradients accumulate. Nothing is written into ``dh``, ``dcT`` or the cache: the pass can be
    repeated.

    Inputs:
    - dh: (N, T, H) upstream gradient on every hidden state.
    - cache: from ``lstm_forward``.
    - dcT: (N, H) upstream gradient on the final cell state (keyword only; None means zero), when the
      forward pass returned it.
    - return_state: also return dc0, the gradient of the initial cell state.

    Returns:
    - dx: (N, T, D); dh0: (N, H); dc0: (N, H) only when ``return_state``; dWx: (D, 4H); dWh: (H, 4H);
      db: (4H,).
    """
    check_array("lstm_backward", "dh", dh, ndim=3, dtype_kind="f")
    N, H = cache[0][1].shape
    check_array("lstm_backward", "dh", dh, (N, len(cache), H))
    if dcT is not None:
        check_array("lstm_backward", "dcT", dcT, (N, H), dtype_kind="f")
    # BEGIN GRADED a06.lstm_backward
    xp = get_array_module(dh)
    x0, _, _, Wx, Wh = cache[0][:5]  # every step's cache holds the same weights
    N, T, H = dh.shape
    dx = xp.empty((N, T, x0.shape[1]), dtype=dh.dtype)  # (N, T, D)
    dWx, dWh, db = xp.zeros_like(Wx), xp.zeros_like(Wh), xp.zeros(4 * H, dtype=Wx.dtype)
    dnext_h = xp.zeros((N, H), dtype=dh.dtype)  # gradient reaching h_t from step t + 1
    dnext_c = xp.zeros((N, H), dtype=dh.dtype) if dcT is None else dcT
    for t in reversed(range(T)):
        dx_t, dnext_h, dnext_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t, :] + dnext_h, dnext_c, cache[t]
        )
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    if return_state:
        return dx, dnext_h, dnext_c, dWx, dWh, db
    return dx, dnext_h, dWx, dWh, db
    # END GRADED


def lstm_forward_fast(
    x: Any,
    h0: Any,
    Wx: Any,
    Wh: Any,
    b: Any,
    *,
    c0: Any = None,
    return_state: bool = False,
) -> tuple:
    """``lstm_forward`` written for speed: the same arguments and values, a different cache.

    Inputs:
    - x: (N, T, D) input sequence.
    - h0: (N, H) initial hidden state.
    - Wx: (D, 4H); Wh: (H, 4H); b: (4H,), gate order i, f, o, g.
    - c0: (N, H) initial cell state, or None for zeros (keyword only).
    - return_state: also return the final cell c_T, for truncated BPTT (carry (h[:, -1], c_T) into the
      next chunk) and for seq2seq (hand the encoder's state to the decoder).

    Returns:
    - h: (N, T, H) hidden states of every step.
    - c_T: (N, H) final cell state, only when ``return_state``.
    - cache: what ``lstm_backward_fast`` reads (once: see there).

    Equal to looping ``lstm_step_forward`` (``tests/test_lstm.py``), but:
    - x @ Wx + b for all T steps is one GEMM (T N, D + 1) @ (D + 1, 4H) (x with a column of ones, the
      bias as the last row of the weights); only prev_h @ Wh is left inside the loop, because it
      depends on the previous step;
    - arrays are time-major (T, N, .) so every step reads and writes contiguous blocks;
    - gates are activated in place in one preallocated (T, N, 4H) buffer, all four with a single tanh:
      with 1/2 folded into the i, f, o weights the GEMMs give a / 2 there, and
      sigmoid(a) = (1 + tanh(a / 2)) / 2. One tanh over (N, 4H) measured faster than exp, add and divide
      (and than tanh on slices) at both the AVX-512 and the AVX2 level of this NumPy;
    - every operation writes into a preallocated buffer (``out=``, ``+=``): each NumPy call costs
      about a microsecond of overhead plus a pass over memory, so at N = 32 the number of calls and
      temporaries, not the arithmetic, is what the element-wise part costs. Strided (N, H) slices of
      the gate block are slower than contiguous arrays, hence g in its own (T, N, H) buffer.
    """
    H = _check_sequence_inputs("lstm_forward_fast", x, h0, Wx, Wh, b, c0)
    # BEGIN FAST a06.lstm_forward
    xp = get_array_module(x, h0, Wx, Wh, b)
    N, T, D = x.shape
    dtype = np.result_type(x, h0, Wx, Wh, b)
    # Fold 1/2 into the i, f, o columns of the weights once, so that one tanh over all 4H columns
    # yields every gate: sigmoid(a) = (1 + tanh(a / 2)) / 2, and g = tanh(a_g) itself.
    scale = xp.full(4 * H, 0.5, dtype=dtype)
    scale[3 * H :] = 1
    Wh_s = Wh * scale
    # The bias trick: x gets a column of ones and [Wx; b] a last row, so x_t Wx + b for all T steps is
    # a single GEMM (and, in backward, db is the last row of the same product for dWx).
    W1 = xp.empty((D + 1, 4 * H), dtype=dtype)
    xp.multiply(Wx, scale, out=W1[:D])
    xp.multiply(b, scale, out=W1[D])
    x1 = xp.empty((T, N, D + 1), dtype=dtype)  # time-major, so each step's block is contiguous
    x1[:, :, :D] = x.transpose(1, 0, 2)
    x1[:, :, D] = 1
    gates = (x1.reshape(T * N, D + 1) @ W1).reshape(T, N, 4 * H)  # (T, N, 4H): every x_t Wx + b at once
    hs = xp.empty((T + 1, N, H), dtype=dtype)  # hs[t] is h_{t-1}; hs[0] = h0
    cs = xp.empty((T + 1, N, H), dtype=dtype)  # cs[t] is c_{t-1}; cs[0] = c0
    gs = xp.empty((T, N, H), dtype=dtype)  # g = tanh(a_g), kept contiguous for the element-wise work
    tanh_cs = xp.empty((T, N, H), dtype=dtype)
    hs[0] = h0
    cs[0] = 0 if c0 is None else c0
    hw = xp.empty((N, 4 * H), dtype=dtype)  # prev_h @ Wh_s, reused every step
    ig = xp.empty((N, H), dtype=dtype)
    for t in range(T):
        a = gates[t]  # (N, 4H) view, activated in place
        xp.matmul(hs[t], Wh_s, out=hw)
        a += hw
        xp.tanh(a, out=a)  # [tanh(a_i / 2), tanh(a_f / 2), tanh(a_o / 2), g]
        g = gs[t]
        g[...] = a[:, 3 * H :]
        # i, f, o = sigmoid(a_i, a_f, a_o); the last block becomes s_g = (1 + g) / 2 = sigmoid(2 a_g),
        # which the backward pass reads (every block of the buffer is then a sigmoid).
        a += 1
        a *= 0.5
        c = cs[t + 1]
        xp.multiply(a[:, H : 2 * H], cs[t], out=c)  # f * prev_c
        xp.multiply(a[:, :H], g, out=ig)
        c += ig  # + i * g
        xp.tanh(c, out=tanh_cs[t])
        xp.multiply(a[:, 2 * H : 3 * H], tanh_cs[t], out=hs[t + 1])  # o * tanh(c)
    h = xp.ascontiguousarray(hs[1:].transpose(1, 0, 2))  # (N, T, H)
    cache = (x1, hs, cs, gs, tanh_cs, gates, Wx, Wh, [False])  # the flag: "backward has run"
    if return_state:
        return h, cs[T].copy(), cache
    return h, cache
    # END FAST


def lstm_backward_fast(dh: Any, cache: tuple, *, dcT: Any = None, return_state: bool = False) -> tuple:
    """Backpropagation through time for ``lstm_forward_fast``: the values of ``lstm_backward``.

    Inputs:
    - dh: (N, T, H) upstream gradient on every hidden state.
    - cache: from ``lstm_forward_fast``.
    - dcT: (N, H) upstream gradient on the final cell state (keyword only; None means zero), when the
      forward pass returned it.
    - return_state: also return dc0, the gradient of the initial cell state.

    Returns:
    - dx: (N, T, D); dh0: (N, H); dc0: (N, H) only when ``return_state``; dWx: (D, 4H); dWh: (H, 4H);
      db: (4H,).

    The cache serves one backward pass: the gate pre-activation gradients of step t are written over
    step t's gates, which nothing needs afterwards (half the memory, and no second (T, N, 4H) buffer
    to allocate); a second call with the same cache raises RuntimeError, as PyTorch does for a graph
    already backpropagated. The loop keeps only what depends on the next step: the gradients reaching
    h_{t-1} and c_{t-1}. With the gradients of all steps in one (T, N, 4H) buffer, dWx = X^T dA,
    dx = dA Wx^T and dWh = H_prev^T dA are each one GEMM over T N rows after the loop (the sum over
    steps that "gradients accumulate" asks for is the inner dimension of that product: one large GEMM
    instead of T small ones and T additions); db comes out of the dWx product through the column of
    ones that the forward pass appended to x.
    """
    check_array("lstm_backward_fast", "dh", dh, ndim=3, dtype_kind="f")
    T, N, H = cache[4].shape  # tanh_cs, (T, N, H)
    check_array("lstm_backward_fast", "dh", dh, (N, T, H))
    if dcT is not None:
        check_array("lstm_backward_fast", "dcT", dcT, (N, H), dtype_kind="f")
    if cache[-1][0]:
        raise RuntimeError(
            "lstm_backward_fast: this cache was already used by a backward pass, which overwrote its gate "
            "buffer; run lstm_forward_fast again to backpropagate a second time"
        )
    # BEGIN FAST a06.lstm_backward
    x1, hs, cs, gs, tanh_cs, gates, Wx, Wh, used = cache
    T, N, H = tanh_cs.shape
    used[0] = True
    xp = get_array_module(dh, Wx)
    dtype = gates.dtype
    D = x1.shape[2] - 1
    dht = dh.transpose(1, 0, 2)  # (T, N, H) view, only read: a strided read per step beats a full copy
    dnext_h = xp.zeros((N, H), dtype=dtype)  # gradient reaching h_t from step t + 1
    dc = xp.zeros((N, H), dtype=dtype) if dcT is None else dcT.astype(dtype, copy=True)
    dh_t = xp.empty((N, H), dtype=dtype)
    dprev_c = xp.empty((N, H), dtype=dtype)
    tmp = xp.empty((N, H), dtype=dtype)
    deriv = xp.empty((N, 4 * H), dtype=dtype)
    # The g block of dA holds 1/4 of its true value (see the loop); Wh4 and Wx4, whose g columns are
    # multiplied by 4, and the rescaling of dW1 and dWh make every product exact. Powers of two scale
    # floats exactly, so this changes no rounding and saves an operation per step.
    four = xp.ones(4 * H, dtype=dtype)
    four[3 * H :] = 4
    Wh4T = xp.ascontiguousarray((Wh * four).T)  # (4H, H): a contiguous B measured faster than B.T here
    for t in reversed(range(T)):
        # s = [i, f, o, sigmoid(2 a_g)] of step t. Once read, it is overwritten with the step's gate
        # pre-activation gradients da, so the backward pass needs no second (T, N, 4H) buffer.
        s = gates[t]
        i, f, o, s_g = s[:, :H], s[:, H : 2 * H], s[:, 2 * H : 3 * H], s[:, 3 * H :]
        xp.add(dht[t], dnext_h, out=dh_t)  # both uses of h_t: the loss at t and step t + 1
        # Every block of s is a sigmoid, so one contiguous pass gives s (1 - s) for all four; for g,
        # tanh'(a_g) = 1 - g^2 = 4 s_g (1 - s_g): the factor 4 is in Wh4.
        xp.subtract(1, s, out=deriv)
        deriv *= s
        # dc += dh_t o (1 - tanh(c)^2), written as dh_t o - do h_t to reuse do and the stored h_t
        xp.multiply(dh_t, o, out=tmp)
        dc += tmp
        do = o
        xp.multiply(dh_t, tanh_cs[t], out=do)  # o is no longer needed: its block now holds do
        xp.multiply(do, hs[t + 1], out=tmp)
        dc -= tmp
        xp.multiply(dc, i, out=s_g)  # dg = dc i (s_g was read by deriv)
        xp.multiply(dc, gs[t], out=i)  # di = dc g
        xp.multiply(dc, f, out=dprev_c)  # the cell path back to c_{t-1}
        xp.multiply(dc, cs[t], out=f)  # df = dc prev_c
        dc, dprev_c = dprev_c, dc
        s *= deriv  # (N, 4H): da, through the four non-linearities
        xp.matmul(s, Wh4T, out=dnext_h)  # (N, H)
    dA2 = gates.reshape(T * N, 4 * H)  # now the pre-activation gradients of every step
    dW1 = x1.reshape(T * N, D + 1).T @ dA2  # (D + 1, 4H): [dWx; db], the bias trick again
    dW1 *= four
    dWx, db = dW1[:D], dW1[D]
    dWh = hs[:T].reshape(T * N, H).T @ dA2  # (H, 4H)
    dWh *= four
    Wx4T = xp.ascontiguousarray((Wx * four).T)  # (4H, D)
    dx = xp.ascontiguousarray((dA2 @ Wx4T).reshape(T, N, D).transpose(1, 0, 2))  # (N, T, D)
    if return_state:
        return dx, dnext_h, dc, dWx, dWh, db
    return dx, dnext_h, dWx, dWh, db
    # END FAST


def lstm_init(
    D: int, H: int, rng: np.random.Generator, forget_bias: float = 1.0, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial (Wx, Wh, b) for an LSTM in the i, f, o, g layout.

    Wx ~ N(0, 1/D) (variance-preserving for the input), each (H, H) gate block of Wh orthogonal
    (lecture 004, orthogonal initialisation), b zero except the forget block, which is ``forget_bias``
    (lecture 000: f = sigmoid(1) ~ 0.73 at the start, so the cell keeps its content instead of being
    wiped every step, and gradients flow through the cell path from the first update).

    Returns Wx (D, 4H), Wh (H, 4H), b (4H,).
    """
    # BEGIN GRADED a06.lstm_init
    Wx = rng.standard_normal((D, 4 * H)) / np.sqrt(D)
    Wh = np.concatenate([orthogonal((H, H), rng, np.float64) for _ in range(4)], axis=1)
    b = np.zeros(4 * H)
    b[H : 2 * H] = forget_bias
    return Wx.astype(dtype), Wh.astype(dtype), b.astype(dtype)
    # END GRADED


class LSTM(Module):
    """An LSTM layer over (N, T, D) sequences returning every hidden state (N, T, H).

    ``forward(x, state=None)`` starts from ``state = (h0, c0)`` (zeros by default) and leaves
    ``final_state = (h_T, c_T)`` for the next truncated-BPTT chunk. ``backward(dh)`` returns dx; the
    gradients of the initial state are left in ``dh0`` and ``dc0``. It runs the fast sequence pair
    (``lstm_forward_fast`` / ``lstm_backward_fast``), so each forward pass serves one backward pass.
    """

    def __init__(
        self,
        D: int,
        H: int,
        *,
        rng: np.random.Generator | int | None = None,
        forget_bias: float = 1.0,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(0 if rng is None else rng)
        Wx, Wh, b = lstm_init(D, H, rng, forget_bias=forget_bias, dtype=dtype)
        self.add_param("Wx", Wx)
        self.add_param("Wh", Wh)
        self.add_param("b", b)
        self.final_state: Any = None
        self.dh0: Any = None
        self.dc0: Any = None

    def forward(self, x: Any, state: tuple[Any, Any] | None = None) -> Any:
        xp = get_array_module(x)
        H = self.params["Wh"].shape[0]
        if state is None:
            state = (xp.zeros((x.shape[0], H), dtype=x.dtype), xp.zeros((x.shape[0], H), dtype=x.dtype))
        h0, c0 = state
        h, cT, self.cache = lstm_forward_fast(
            x, h0, self.params["Wx"], self.params["Wh"], self.params["b"], c0=c0, return_state=True
        )
        self.final_state = (h[:, -1, :].copy(), cT)
        return h

    def backward(self, dout: Any) -> Any:
        dx, self.dh0, self.dc0, dWx, dWh, db = lstm_backward_fast(dout, self.cache, return_state=True)
        self.accumulate("Wx", dWx)
        self.accumulate("Wh", dWh)
        self.accumulate("b", db)
        return dx
