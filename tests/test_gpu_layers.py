"""The library on the GPU: every layer pair runs on CuPy arrays with no code change (one code path: functions
that need the array module take it from ``xp = get_array_module(...)``, the others use only array methods
and operators) and returns what it returns on NumPy; the hand-written kernels run on CuPy arrays through
the CUDA array interface at GPU launch sizes and match their NumPy twins, which run on CuPy too.

Every test here needs a CUDA GPU and CuPy (the ``gpu`` extra) and is skipped, with the reason, without
them. Float64 comparisons allow 1e-9 relative error: the GPU sums in a different order (cuBLAS, CuPy's
reductions), which moves the last few bits; a wrong code path moves the first.
"""

import functools

import numpy as np
import pytest

from course.core.backend import get_array_module, gpu_available, is_gpu_array, to_cpu, to_device
from course.kernels.launch import use_simulator_unless_gpu
from course.kernels.lstm_cell import (
    FusedLSTM,
    lstm_cell_backward,
    lstm_cell_backward_numpy,
    lstm_cell_forward,
    lstm_cell_forward_numpy,
)
from course.kernels.matmul import matmul_register_blocked, matmul_tiled
from course.kernels.softmax import softmax_rows, softmax_rows_numpy
from course.layers.activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from course.layers.affine import affine_backward, affine_forward
from course.layers.attention import (
    dot_attention_backward,
    dot_attention_forward,
    self_attention_backward,
    self_attention_forward,
)
from course.layers.batchnorm import batchnorm_backward, batchnorm_forward
from course.layers.convolution import conv_im2col_backward, conv_im2col_forward
from course.layers.embedding import word_embedding_backward, word_embedding_forward
from course.layers.losses import softmax_cross_entropy
from course.layers.lstm import LSTM, lstm_backward, lstm_forward
from course.layers.pooling import max_pool_backward, max_pool_forward
from course.layers.temporal import temporal_softmax_loss

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not gpu_available(), reason="no GPU: cupy is not installed or sees no CUDA device"),
]
use_simulator_unless_gpu()  # with a GPU this leaves numba on the real device


def _forward_backward(forward, backward, inputs, *static, seed=0):
    """Outputs of ``forward(*inputs, *static)`` and the gradients ``backward`` returns for seeded random
    upstream gradients on every output, all in one flat tuple."""
    xp = get_array_module(*inputs.values())
    result = forward(*inputs.values(), *static)
    outs, cache = result[:-1], result[-1]
    rng = np.random.default_rng(seed)
    douts = [xp.asarray(rng.standard_normal(o.shape), dtype=o.dtype) for o in outs]
    grads = backward(*douts, cache)
    return (*outs, *(grads if isinstance(grads, tuple) else (grads,)))


def _assert_same_on_gpu(run, inputs, rtol=1e-9):
    """``run`` on NumPy inputs and on the same inputs moved to the GPU gives the same values, and every
    array it returns from the GPU run is a CuPy array (nothing silently fell back to the host)."""
    expected = run(inputs)
    got = run(to_device(inputs, "gpu"))
    assert len(got) == len(expected)
    for k, (g, e) in enumerate(zip(got, expected)):
        if isinstance(e, np.ndarray):
            assert is_gpu_array(g), f"result {k} came back as {type(g).__name__}, not a CuPy array"
            np.testing.assert_allclose(to_cpu(g), e, rtol=rtol, atol=rtol, err_msg=f"result {k}")
        else:
            assert float(g) == pytest.approx(float(e), rel=rtol), f"result {k}"


def _rng(seed=0):
    return np.random.default_rng(seed)


def test_affine_pair_on_gpu():
    r = _rng(1)
    inputs = {"x": r.standard_normal((4, 3, 2)), "w": r.standard_normal((6, 5)), "b": r.standard_normal(5)}
    _assert_same_on_gpu(lambda p: _forward_backward(affine_forward, affine_backward, p), inputs)


@pytest.mark.parametrize(
    "forward,backward",
    [(relu_forward, relu_backward), (sigmoid_forward, sigmoid_backward), (tanh_forward, tanh_backward)],
)
def test_activation_pairs_on_gpu(forward, backward):
    inputs = {"x": _rng(2).standard_normal((5, 7))}
    _assert_same_on_gpu(lambda p: _forward_backward(forward, backward, p), inputs)


def test_softmax_cross_entropy_on_gpu():
    inputs = {"logits": _rng(3).standard_normal((6, 4)) * 3, "y": np.array([0, 3, 1, 2, 2, 0])}
    _assert_same_on_gpu(lambda p: softmax_cross_entropy(p["logits"], p["y"]), inputs)


def test_temporal_softmax_loss_on_gpu():
    r = _rng(4)
    inputs = {
        "x": r.standard_normal((2, 3, 5)),
        "y": r.integers(0, 5, (2, 3)),
        "mask": r.random((2, 3)) > 0.3,
    }
    _assert_same_on_gpu(lambda p: temporal_softmax_loss(p["x"], p["y"], p["mask"]), inputs)


def test_convolution_im2col_pair_on_gpu():
    r = _rng(5)
    inputs = {
        "x": r.standard_normal((2, 3, 7, 6)),
        "w": r.standard_normal((4, 3, 3, 3)),
        "b": r.standard_normal(4),
    }
    run = lambda p: _forward_backward(conv_im2col_forward, conv_im2col_backward, p, 2, 1)  # stride 2, pad 1
    _assert_same_on_gpu(run, inputs)


def test_max_pool_pair_on_gpu():
    inputs = {"x": _rng(6).standard_normal((2, 3, 6, 4))}
    _assert_same_on_gpu(lambda p: _forward_backward(max_pool_forward, max_pool_backward, p, 2, 2), inputs)


def test_batchnorm_pair_on_gpu_in_training_mode():
    r = _rng(7)
    inputs = {
        "x": r.standard_normal((8, 5)) * 2 + 1,
        "gamma": r.standard_normal(5),
        "beta": r.standard_normal(5),
    }
    run = lambda p: _forward_backward(batchnorm_forward, batchnorm_backward, p, {"mode": "train"})
    _assert_same_on_gpu(run, inputs)


def test_word_embedding_pair_on_gpu_accumulates_repeated_ids():
    # float32, the training dtype: CuPy's add.at (scatter-add with atomics) is sure to support it
    inputs = {"x": np.array([[0, 2, 2], [1, 0, 2]]), "W": _rng(8).standard_normal((4, 3)).astype(np.float32)}
    run = lambda p: _forward_backward(word_embedding_forward, word_embedding_backward, p)
    _assert_same_on_gpu(run, inputs, rtol=1e-6)


def test_lstm_sequence_pair_on_gpu():
    r = _rng(9)
    N, T, D, H = 3, 4, 5, 6
    inputs = {
        "x": r.standard_normal((N, T, D)),
        "h0": r.standard_normal((N, H)),
        "Wx": r.standard_normal((D, 4 * H)) * 0.5,
        "Wh": r.standard_normal((H, 4 * H)) * 0.5,
        "b": r.standard_normal(4 * H) * 0.5,
    }
    _assert_same_on_gpu(lambda p: _forward_backward(lstm_forward, lstm_backward, p), inputs)


def test_dot_and_self_attention_pairs_on_gpu():
    r = _rng(10)
    _assert_same_on_gpu(
        lambda p: _forward_backward(dot_attention_forward, dot_attention_backward, p),
        {"E": r.standard_normal((2, 5, 4)), "d": r.standard_normal((2, 4))},
    )
    self_attention = functools.partial(self_attention_forward, causal=True)
    _assert_same_on_gpu(
        lambda p: _forward_backward(self_attention, self_attention_backward, p),
        {
            "X": r.standard_normal((2, 5, 4)),
            "Wq": r.standard_normal((4, 3)),
            "Wk": r.standard_normal((4, 3)),
            "Wv": r.standard_normal((4, 6)),
        },
    )


# The kernels at GPU launch sizes (32 x 8 cell blocks, 256-thread softmax blocks, 32 x 32 tiles,
# 128 x 128 register blocks), on shapes that are not multiples of any of them.


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_fused_lstm_cell_kernels_on_cupy_match_the_twin(dtype, rtol):
    r = _rng(11)
    N, H = 67, 100
    a, prev_c = r.standard_normal((N, 4 * H)).astype(dtype), r.standard_normal((N, H)).astype(dtype)
    dnext_h, dnext_c = r.standard_normal((N, H)).astype(dtype), r.standard_normal((N, H)).astype(dtype)
    expected = lstm_cell_forward(a, prev_c, backend="numpy")
    got = lstm_cell_forward(*to_device((a, prev_c), "gpu"))  # 'auto' picks the kernel for CuPy arrays
    for g, e in zip((*got[:2], *got[2]), (*expected[:2], *expected[2])):
        assert is_gpu_array(g) and g.dtype == dtype
        np.testing.assert_allclose(to_cpu(g), e, rtol=rtol, atol=rtol)
    expected_grads = lstm_cell_backward(dnext_h, dnext_c, expected[2], backend="numpy")
    got_grads = lstm_cell_backward(*to_device((dnext_h, dnext_c), "gpu"), got[2])
    for g, e in zip(got_grads, expected_grads):
        np.testing.assert_allclose(to_cpu(g), e, rtol=rtol, atol=rtol)


def test_numpy_twins_run_on_cupy_arrays():
    r = _rng(14)
    N, H = 5, 7
    inputs = {
        "a": r.standard_normal((N, 4 * H)),
        "prev_c": r.standard_normal((N, H)),
        "dnext_h": r.standard_normal((N, H)),
        "dnext_c": r.standard_normal((N, H)),
        "x": r.standard_normal((N, 9)) * 5,
    }

    def twins(p):
        next_h, next_c, cache = lstm_cell_forward_numpy(p["a"], p["prev_c"])
        da, dprev_c = lstm_cell_backward_numpy(p["dnext_h"], p["dnext_c"], cache)
        return next_h, next_c, *cache, da, dprev_c, softmax_rows_numpy(p["x"])

    _assert_same_on_gpu(twins, inputs)


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (37, 1000), (3, 5000)])
def test_softmax_kernel_on_cupy_matches_the_twin(shape):
    x = (_rng(12).standard_normal(shape) * 10).astype(np.float32)
    got = softmax_rows(to_device(x, "gpu"))
    assert is_gpu_array(got)
    np.testing.assert_allclose(to_cpu(got), softmax_rows_numpy(x), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("kernel", [matmul_tiled, matmul_register_blocked])
@pytest.mark.parametrize("M,K,N", [(1, 1, 1), (300, 257, 129), (1, 513, 200), (130, 7, 1)])
def test_matmul_kernels_on_cupy_match_numpy(kernel, M, K, N):
    r = _rng(M + K + N)
    A, B = r.standard_normal((M, K)).astype(np.float32), r.standard_normal((K, N)).astype(np.float32)
    got = kernel(*to_device((A, B), "gpu"))
    assert is_gpu_array(got) and got.dtype == np.float32
    expected = A.astype(np.float64) @ B.astype(np.float64)
    np.testing.assert_allclose(to_cpu(got), expected, rtol=1e-4, atol=1e-4 * np.sqrt(K))


def test_fused_lstm_module_on_cupy_equals_the_numpy_lstm_module():
    r = _rng(13)
    x, dh = r.standard_normal((4, 5, 3)), r.standard_normal((4, 5, 6))
    plain = LSTM(3, 6, rng=0, dtype=np.float64)
    fused = FusedLSTM(3, 6, rng=0, dtype=np.float64)
    fused.params = to_device(fused.params, "gpu")
    fused.grads = to_device(fused.grads, "gpu")
    h = fused.forward(to_device(x, "gpu"))
    dx = fused.backward(to_device(dh, "gpu"))
    np.testing.assert_allclose(to_cpu(h), plain.forward(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_cpu(dx), plain.backward(dh), rtol=1e-10, atol=1e-12)
    for name in ("Wx", "Wh", "b"):
        assert is_gpu_array(fused.grads[name])
        np.testing.assert_allclose(to_cpu(fused.grads[name]), plain.grads[name], rtol=1e-10, err_msg=name)
