"""Tests for course/kernels/lstm_cell.py: the fused LSTM cell kernels against their NumPy twins, the twins
(assignment 06's step run on a given pre-activation) against course.layers.lstm's step, and the fused
sequence pair against course.layers.lstm's.

The kernels run in numba's CUDA simulator when no GPU is visible (one Python thread per CUDA thread,
so the sizes are tiny), on the GPU otherwise. Launches use 8 x 4 blocks, so every shape below that is
not a multiple of 8 along H or 4 along N leaves idle threads that must not write.
"""

import functools

import numpy as np
import pytest

from course.core.gradcheck import check_pair
from course.kernels.launch import use_simulator_unless_gpu
from course.kernels.lstm_cell import (
    FusedLSTM,
    fused_lstm_backward,
    fused_lstm_forward,
    lstm_cell_backward,
    lstm_cell_backward_numpy,
    lstm_cell_forward,
    lstm_cell_forward_numpy,
)
from course.layers.lstm import LSTM, lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward

pytest.importorskip("numba")
use_simulator_unless_gpu()  # before the first kernel launch imports numba.cuda
pytestmark = pytest.mark.a09

# (N, H): single element, one row, one column, ragged, exact multiples of the block
SHAPES = [(1, 1), (1, 7), (5, 1), (3, 9), (4, 8)]


def _cell_inputs(N, H, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal((N, 4 * H)) * 2).astype(dtype)
    prev_c = rng.standard_normal((N, H)).astype(dtype)
    return a, prev_c


def _assert_all_close(got, expected, rtol, names):
    for g, e, name in zip(got, expected, names, strict=True):
        assert g.shape == e.shape, f"{name}: shape {g.shape}, expected {e.shape}"
        assert g.dtype == e.dtype, f"{name}: dtype {g.dtype}, expected {e.dtype}"
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol, err_msg=f"{name} differs from the NumPy twin")


def test_lstm_cell_twin_equals_lstm_step_forward_given_the_preactivation():
    rng = np.random.default_rng(1)
    N, D, H = 3, 4, 5
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    next_h, next_c, _ = lstm_cell_forward_numpy(x @ Wx + h @ Wh + b, c)
    ref_h, ref_c, _ = lstm_step_forward(x, h, c, Wx, Wh, b)
    np.testing.assert_allclose(next_h, ref_h, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(next_c, ref_c, rtol=1e-13, atol=1e-13)


def test_lstm_cell_twin_backward_equals_lstm_step_backward_through_the_preactivation():
    rng = np.random.default_rng(10)
    N, D, H = 3, 4, 5
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    dnext_h, dnext_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(
        dnext_h, dnext_c, lstm_step_forward(x, h, c, Wx, Wh, b)[2]
    )
    _, _, cache = lstm_cell_forward_numpy(x @ Wx + h @ Wh + b, c)
    da, dc = lstm_cell_backward_numpy(dnext_h, dnext_c, cache)
    for name, got, expected in [
        ("dx = da Wx^T", da @ Wx.T, dx), ("dprev_h = da Wh^T", da @ Wh.T, dprev_h),
        ("dprev_c", dc, dprev_c), ("dWx = x^T da", x.T @ da, dWx), ("dWh = h^T da", h.T @ da, dWh),
        ("db = sum of da", da.sum(axis=0), db),
    ]:  # fmt: skip
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13, err_msg=name)


def test_lstm_cell_twin_backward_matches_central_difference():
    a, prev_c = _cell_inputs(3, 4, seed=2)
    check_pair(lstm_cell_forward_numpy, lstm_cell_backward_numpy, {"a": a, "prev_c": prev_c})  # float64, 1e-7


@pytest.mark.parametrize("N,H", SHAPES)
def test_lstm_cell_forward_kernel_equals_twin(N, H):
    a, prev_c = _cell_inputs(N, H, seed=N * 10 + H)
    next_h, next_c, (gates, _, tanh_c) = lstm_cell_forward(a, prev_c, backend="cuda")
    ref_h, ref_c, (ref_gates, _, ref_tanh_c) = lstm_cell_forward_numpy(a, prev_c)
    _assert_all_close(
        (next_h, next_c, gates, tanh_c), (ref_h, ref_c, ref_gates, ref_tanh_c), 1e-12,
        ("next_h", "next_c", "gates", "tanh_c"),
    )  # fmt: skip


@pytest.mark.parametrize("N,H", SHAPES)
def test_lstm_cell_backward_kernel_equals_twin(N, H):
    a, prev_c = _cell_inputs(N, H, seed=N * 10 + H + 1)
    rng = np.random.default_rng(3)
    dnext_h, dnext_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    _, _, cache = lstm_cell_forward_numpy(a, prev_c)
    got = lstm_cell_backward(dnext_h, dnext_c, cache, backend="cuda")
    _assert_all_close(got, lstm_cell_backward_numpy(dnext_h, dnext_c, cache), 1e-12, ("da", "dprev_c"))


def test_lstm_cell_kernels_keep_float32():
    a, prev_c = _cell_inputs(3, 9, seed=4, dtype=np.float32)
    next_h, next_c, cache = lstm_cell_forward(a, prev_c, backend="cuda")
    ref_h, ref_c, ref_cache = lstm_cell_forward_numpy(a, prev_c)
    _assert_all_close((next_h, next_c), (ref_h, ref_c), 1e-6, ("next_h", "next_c"))
    d = np.ones((3, 9), dtype=np.float32)
    _assert_all_close(
        lstm_cell_backward(d, d, cache, backend="cuda"), lstm_cell_backward_numpy(d, d, ref_cache), 1e-6,
        ("da", "dprev_c"),
    )  # fmt: skip


def test_lstm_cell_auto_backend_uses_the_twin_for_numpy_arrays():
    a, prev_c = _cell_inputs(2, 3)
    for got, ref in zip(lstm_cell_forward(a, prev_c)[:2], lstm_cell_forward_numpy(a, prev_c)[:2]):
        assert np.array_equal(got, ref)  # bit-identical: the same expressions ran


def test_lstm_cell_forward_rejects_a_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"a must have shape \(N, 12\) = \(2, 12\), got \(2, 10\)"):
        lstm_cell_forward(np.zeros((2, 10)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="same dtype"):
        lstm_cell_forward(np.zeros((2, 12)), np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="backend must be one of"):
        lstm_cell_forward(np.zeros((2, 12)), np.zeros((2, 3)), backend="gpu")


def _sequence(N=2, T=3, D=3, H=5, seed=5):
    rng = np.random.default_rng(seed)
    return (
        {
            "x": rng.standard_normal((N, T, D)),
            "h0": rng.standard_normal((N, H)),
            "Wx": rng.standard_normal((D, 4 * H)) * 0.5,
            "Wh": rng.standard_normal((H, 4 * H)) * 0.5,
            "b": rng.standard_normal(4 * H) * 0.5,
        },
        rng.standard_normal((N, H)),
        rng.standard_normal((N, T, H)),
        rng.standard_normal((N, H)),
    )


@pytest.mark.parametrize("backend", ["numpy", "cuda"])
def test_fused_lstm_sequence_pair_equals_course_lstm(backend):
    p, c0, dh, dcT = _sequence()
    h, cT, cache = fused_lstm_forward(*p.values(), c0=c0, return_state=True, backend=backend)
    ref_h, ref_cT, ref_cache = lstm_forward(*p.values(), c0=c0, return_state=True)
    _assert_all_close((h, cT), (ref_h, ref_cT), 1e-12, ("h", "c_T"))
    grads = fused_lstm_backward(dh, cache, dcT=dcT, return_state=True)
    ref = lstm_backward(dh, ref_cache, dcT=dcT, return_state=True)
    _assert_all_close(grads, ref, 1e-11, ("dx", "dh0", "dc0", "dWx", "dWh", "db"))


def test_fused_lstm_sequence_backward_matches_central_difference():
    p, c0, _, _ = _sequence(T=4, seed=6)
    forward = functools.partial(fused_lstm_forward, return_state=True, backend="numpy")
    check_pair(
        lambda x, h0, c0, Wx, Wh, b: forward(x, h0, Wx, Wh, b, c0=c0),
        lambda dh, dcT, cache: fused_lstm_backward(dh, cache, dcT=dcT, return_state=True),
        {"x": p["x"], "h0": p["h0"], "c0": c0, "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]},
    )  # float64, 1e-7


def test_fused_lstm_module_equals_lstm_module_and_accumulates():
    x = np.random.default_rng(7).standard_normal((2, 3, 4))
    dh = np.random.default_rng(8).standard_normal((2, 3, 5))
    fused = FusedLSTM(4, 5, rng=0, dtype=np.float64, backend="numpy")
    plain = LSTM(4, 5, rng=0, dtype=np.float64)
    for _ in range(2):  # two uses: gradients must add up
        for module in (fused, plain):
            module.forward(x)
            module.backward(dh)
    for name in ("Wx", "Wh", "b"):
        np.testing.assert_allclose(fused.grads[name], plain.grads[name], rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(fused.final_state[1], plain.final_state[1], rtol=1e-12)
