"""Convolution: naive loops, im2col + GEMM and the dense matrix agree, and their gradients are right; the
fast im2col paths equal the teaching ones."""

from functools import partial

import numpy as np
import pytest

import course.layers.convolution as convolution
from course.core.gradcheck import check_module, check_pair, rel_error
from course.layers.convolution import (
    Conv2d,
    col2im,
    col2im_fast,
    conv_as_matrix,
    conv_im2col_backward,
    conv_im2col_fast_backward,
    conv_im2col_fast_forward,
    conv_im2col_forward,
    conv_naive_backward,
    conv_naive_forward,
    im2col,
    im2col_fast,
)

pytestmark = pytest.mark.a05

# (N, C, H, W, F, HH, WW, stride, pad): square and non-square images and filters, strides 1 to 3, pads 0 to 2.
CONFIGS = [
    (2, 2, 5, 5, 3, 3, 3, 1, 0),
    (2, 2, 5, 4, 3, 3, 3, 1, 1),
    (1, 3, 6, 7, 2, 3, 2, 2, 1),
    (2, 2, 7, 6, 2, 2, 3, 2, 0),
    (1, 2, 5, 5, 2, 3, 3, 3, 2),
    # stride 1 and W' = W take im2col/col2im's flat-shift shortcut: a 1x3 filter (H' = H + 2); 5x5, pad 2.
    (2, 2, 4, 6, 2, 1, 3, 1, 1),
    (1, 2, 6, 5, 2, 5, 5, 1, 2),
    # Edge shapes: a 1x1 image under a 3x3 filter (every window entry but one is padding, flat path); a 1x1
    # filter without padding (flat path with no padding at all); a single output position (general path).
    (2, 1, 1, 1, 2, 3, 3, 1, 1),
    (2, 3, 2, 3, 2, 1, 1, 1, 0),
    (1, 2, 3, 3, 2, 3, 3, 1, 0),
    # More padding than image: window offsets that lie entirely in the padding (slices must not wrap).
    (1, 2, 2, 2, 2, 7, 7, 1, 3),
    (2, 1, 2, 3, 2, 1, 7, 1, 3),
]


def _data(config, seed=0, dtype=np.float64):
    N, C, H, W, F, HH, WW, _, _ = config
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, HH, WW)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    return x, w, b


def test_conv_naive_forward_matches_hand_computed_cross_correlation():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # out = x[i, j] - x[i + 1, j + 1] = -4 everywhere
    out, _ = conv_naive_forward(x, w, np.array([0.5]))
    np.testing.assert_allclose(out, np.full((1, 1, 2, 2), -3.5))
    out_padded, _ = conv_naive_forward(x, w, np.array([0.0]), stride=2, pad=1)
    # Padded 5x5 input, windows at (0, 0), (0, 2), (2, 0), (2, 2): top-left windows see only x's corner.
    np.testing.assert_allclose(out_padded, [[[[0.0, -2.0], [-6.0, 4.0 - 8.0]]]])


def test_conv_output_size_floors_when_the_filter_does_not_tile_the_input():
    x, w, b = _data((1, 1, 6, 6, 1, 3, 3, 2, 0))
    out, _ = conv_im2col_forward(x, w, b, stride=2, pad=0)
    assert out.shape == (1, 1, 2, 2)  # 1 + (6 - 3) // 2 = 2; the last input row/column is never read
    dx, _, _ = conv_im2col_backward(np.ones_like(out), _)
    assert np.all(dx[..., 5, :] == 0) and np.all(dx[..., :, 5] == 0)


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: f"N{c[0]}C{c[1]}H{c[2]}W{c[3]}F{c[4]}k{c[5]}x{c[6]}s{c[7]}p{c[8]}"
)
def test_conv_naive_backward_matches_central_difference_on_x_w_b(config):
    # Seed 10: a seed whose gradients have no entry within 1e-4 of zero, where round-off in the centred
    # difference (~1e-11 absolute) would dominate the relative error of a correct backward.
    x, w, b = _data(config, seed=10)
    stride, pad = config[7], config[8]
    check_pair(
        partial(conv_naive_forward, stride=stride, pad=pad), conv_naive_backward, {"x": x, "w": w, "b": b}
    )


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: f"N{c[0]}C{c[1]}H{c[2]}W{c[3]}F{c[4]}k{c[5]}x{c[6]}s{c[7]}p{c[8]}"
)
def test_conv_im2col_backward_matches_central_difference_on_x_w_b(config):
    x, w, b = _data(config, seed=1)
    stride, pad = config[7], config[8]
    check_pair(
        partial(conv_im2col_forward, stride=stride, pad=pad), conv_im2col_backward, {"x": x, "w": w, "b": b}
    )


@pytest.mark.parametrize("config", CONFIGS)
def test_im2col_convolution_equals_naive_forward_and_backward(config):
    x, w, b = _data(config, seed=2)
    stride, pad = config[7], config[8]
    out_naive, cache_naive = conv_naive_forward(x, w, b, stride, pad)
    out_fast, cache_fast = conv_im2col_forward(x, w, b, stride, pad)
    assert rel_error(out_naive, out_fast) < 1e-12
    dout = np.random.default_rng(3).standard_normal(out_naive.shape)
    for name, g_naive, g_fast in zip(
        "x w b".split(),
        conv_naive_backward(dout, cache_naive),
        conv_im2col_backward(dout, cache_fast),
        strict=True,
    ):
        assert rel_error(g_naive, g_fast) < 1e-12, f"d{name}: naive and im2col differ"


def test_im2col_column_is_the_flattened_receptive_field_with_zero_padding():
    x, _, _ = _data((2, 3, 5, 6, 1, 3, 2, 2, 1))
    cols = im2col(x, 3, 2, stride=2, pad=1)  # H' = 1 + (5 + 2 - 3) // 2 = 3, W' = 1 + (6 + 2 - 2) // 2 = 4
    assert cols.shape == (2, 3 * 3 * 2, 3 * 4)
    xpad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for n, i, j in [(0, 0, 0), (1, 2, 3), (1, 1, 2)]:
        window = xpad[n, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 2]  # (C, HH, WW), channels first
        np.testing.assert_array_equal(cols[n, :, i * 4 + j], window.ravel())


def test_im2col_fast_fills_a_given_buffer_and_rejects_a_non_contiguous_one():
    x, _, _ = _data((3, 2, 5, 5, 1, 3, 3, 1, 1))
    buffer = np.full((5, 2 * 9, 25), np.nan)
    cols = im2col_fast(x, 3, 3, 1, 1, out=buffer[1:4])  # a slice of a larger buffer, as the fast pair uses
    assert np.shares_memory(cols, buffer)
    np.testing.assert_array_equal(buffer[1:4], im2col(x, 3, 3, 1, 1))
    assert np.isnan(buffer[0]).all() and np.isnan(buffer[4]).all()
    with pytest.raises(ValueError, match="im2col_fast: out must be C-contiguous"):
        im2col_fast(x, 3, 3, 1, 1, out=np.zeros((3, 25, 18)).transpose(0, 2, 1))
    with pytest.raises(ValueError, match=r"im2col_fast: out must have shape \(3, 18, 25\)"):
        im2col_fast(x, 3, 3, 1, 1, out=np.zeros((3, 18, 24)))


def test_col2im_fast_overwrites_a_given_buffer_with_the_same_result():
    x, _, _ = _data((2, 2, 5, 5, 1, 3, 3, 1, 1))
    c = np.random.default_rng(11).standard_normal((2, 18, 25))
    buffer = np.full((4, 2, 5, 5), np.nan)
    dx = col2im_fast(c, x.shape, 3, 3, 1, 1, out=buffer[1:3])  # stale values in out must not leak into dx
    assert np.shares_memory(dx, buffer)
    np.testing.assert_array_equal(buffer[1:3], col2im_fast(c, x.shape, 3, 3, 1, 1))
    with pytest.raises(ValueError, match="col2im_fast: out must have shape"):
        col2im_fast(c, x.shape, 3, 3, 1, 1, out=np.zeros((2, 2, 5, 4)))


@pytest.mark.parametrize("config", CONFIGS)
def test_col2im_is_the_adjoint_of_im2col(config):
    # <im2col(x), c> = <x, col2im(c)> for all x, c: col2im is exactly im2col's transpose (its backward).
    x, w, _ = _data(config, seed=4)
    HH, WW, stride, pad = config[5], config[6], config[7], config[8]
    cols = im2col(x, HH, WW, stride, pad)
    c = np.random.default_rng(5).standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, x.shape, HH, WW, stride, pad))
    assert abs(lhs - rhs) < 1e-10 * max(1.0, abs(lhs))


@pytest.mark.parametrize("config", CONFIGS)
def test_conv_as_matrix_times_flattened_image_equals_convolution(config):
    x, w, b = _data(config, seed=6)
    stride, pad = config[7], config[8]
    out, _ = conv_naive_forward(x, w, np.zeros_like(b), stride, pad)
    M = conv_as_matrix(w, x.shape[1:], stride, pad)
    assert M.shape == (out[0].size, x[0].size)
    for n in range(x.shape[0]):
        assert rel_error(M @ x[n].ravel(), out[n].ravel()) < 1e-12


def test_conv_as_matrix_is_banded_toeplitz_for_a_1d_filter():
    # A 1 x 3 filter on a 1 x 5 row: each row of M is the previous one shifted right by the stride.
    w = np.array([[[[1.0, 2.0, 3.0]]]])
    M = conv_as_matrix(w, (1, 1, 5), stride=1, pad=0)
    expected = np.array([[1, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3]], dtype=float)
    np.testing.assert_array_equal(M, expected)


def _is_toeplitz(A):
    return np.array_equal(A[1:, 1:], A[:-1, :-1])


def test_conv_as_matrix_is_block_toeplitz_with_toeplitz_blocks_but_not_toeplitz():
    # One 3x3 filter, stride 1, pad 1, on a 5x6 image: M (30, 30) is a 5 x 5 grid of (6, 6) sub-blocks.
    w = np.random.default_rng(17).standard_normal((1, 1, 3, 3))
    H, W = 5, 6
    M = conv_as_matrix(w, (1, H, W), stride=1, pad=1)
    blocks = M.reshape(H, W, H, W).transpose(0, 2, 1, 3)  # blocks[i, h] = sub-block (i, h), (W', W)
    for i in range(H):
        for h in range(H):
            assert _is_toeplitz(blocks[i, h]), f"sub-block ({i}, {h}) is not Toeplitz"
            if i > 0 and h > 0:
                np.testing.assert_array_equal(blocks[i, h], blocks[i - 1, h - 1])  # depends on h - i only
            if abs(h - i) <= 1:
                np.testing.assert_array_equal(np.diag(blocks[i, h]), np.full(W, w[0, 0, h - i + 1, 1]))
            else:
                assert not blocks[i, h].any()  # filter row h - i + pad does not exist
    assert not _is_toeplitz(M)  # the diagonals break at the image's left and right edges


# ---- the fast paths equal the teaching versions --------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS)
def test_im2col_fast_equals_im2col_exactly(config):
    # Both copy the same entries (no arithmetic), so they must agree bit for bit.
    x, _, _ = _data(config, seed=12)
    HH, WW, stride, pad = config[5], config[6], config[7], config[8]
    np.testing.assert_array_equal(im2col_fast(x, HH, WW, stride, pad), im2col(x, HH, WW, stride, pad))


@pytest.mark.parametrize("config", [CONFIGS[1], CONFIGS[3]], ids=["flat-shift", "strided"])
def test_im2col_fast_reads_a_non_contiguous_image_correctly(config):
    # The strided windows are built from x's own strides when no padded copy is made (pad 0).
    x, _, _ = _data(config, seed=17)
    x_t = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)  # same values, F-ordered planes
    HH, WW, stride = config[5], config[6], config[7]
    for pad in (0, config[8]):
        np.testing.assert_array_equal(im2col_fast(x_t, HH, WW, stride, pad), im2col(x, HH, WW, stride, pad))


@pytest.mark.parametrize("config", CONFIGS)
def test_col2im_fast_equals_col2im_up_to_the_order_of_additions(config):
    x, _, _ = _data(config, seed=13)
    HH, WW, stride, pad = config[5], config[6], config[7], config[8]
    c = np.random.default_rng(14).standard_normal(im2col(x, HH, WW, stride, pad).shape)
    # float64: the two sum the same few (<= HH WW) terms per pixel in different orders, error ~ 1e-16.
    assert (
        rel_error(col2im_fast(c, x.shape, HH, WW, stride, pad), col2im(c, x.shape, HH, WW, stride, pad))
        < 1e-12
    )


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)], ids=["float64", "float32"])
@pytest.mark.parametrize("config", CONFIGS)
def test_conv_im2col_fast_pair_equals_the_teaching_pair(config, dtype, tol):
    # Tolerance: the fast pair sums dw and db chunk by chunk, in another order (relative round-off ~ 1e-16
    # in float64, ~ 1e-7 in float32, times the few hundred terms of a sum at most).
    x, w, b = _data(config, seed=15, dtype=dtype)
    stride, pad = config[7], config[8]
    out, cache = conv_im2col_forward(x, w, b, stride, pad)
    out_fast, cache_fast = conv_im2col_fast_forward(x, w, b, stride, pad)
    assert out_fast.dtype == out.dtype == dtype
    assert rel_error(out_fast, out) < tol
    dout = np.random.default_rng(16).standard_normal(out.shape).astype(dtype)
    grads = conv_im2col_backward(dout, cache)
    for name, g_fast, g, g_cross in zip(
        "x w b".split(),
        conv_im2col_fast_backward(dout, cache_fast),
        grads,
        conv_im2col_fast_backward(dout, cache),  # the two pairs share one cache layout
        strict=True,
    ):
        assert g_fast.dtype == g.dtype == dtype, f"d{name}: dtype"
        assert rel_error(g_fast, g) < tol, f"d{name}: fast and teaching pairs differ"
        assert rel_error(g_cross, g) < tol, f"d{name}: the fast backward misreads the teaching cache"


@pytest.mark.parametrize("chunk_bytes", [1, 4000, 1 << 30], ids=["one-image", "two-images", "whole-batch"])
def test_conv_im2col_fast_pair_gives_the_same_result_for_any_chunk_size(monkeypatch, chunk_bytes):
    x, w, b = _data((5, 2, 5, 6, 3, 3, 3, 1, 1), seed=9)
    out_ref, cache_ref = conv_naive_forward(x, w, b, 1, 1)
    grads_ref = conv_naive_backward(np.ones_like(out_ref), cache_ref)
    monkeypatch.setattr(convolution, "CHUNK_BYTES", chunk_bytes)  # 2 x 27 x 30 x 8 bytes ~ 2 images per 4000
    out, cache = conv_im2col_fast_forward(x, w, b, 1, 1)
    assert rel_error(out, out_ref) < 1e-12
    for name, g, g_ref in zip(
        "x w b".split(), conv_im2col_fast_backward(np.ones_like(out), cache), grads_ref, strict=True
    ):
        assert rel_error(g, g_ref) < 1e-12, f"d{name} differs with CHUNK_BYTES={chunk_bytes}"


def test_conv_im2col_preserves_float32():
    x, w, b = _data(CONFIGS[1], dtype=np.float32)
    for forward, backward in [
        (conv_im2col_forward, conv_im2col_backward),
        (conv_im2col_fast_forward, conv_im2col_fast_backward),
    ]:
        out, cache = forward(x, w, b, 1, 1)
        dx, dw, db = backward(np.ones_like(out), cache)
        assert {a.dtype for a in (out, dx, dw, db)} == {np.dtype(np.float32)}, forward.__name__


def test_conv2d_module_gradients_match_central_difference_and_accumulate():
    conv = Conv2d(2, 3, 3, stride=1, pad=1, rng=0, dtype=np.float64)
    x = np.random.default_rng(7).standard_normal((2, 2, 4, 5))
    check_module(conv, x)
    out = conv.forward(x)
    conv.zero_grad()
    conv.backward(np.ones_like(out))
    once = conv.grads["w"].copy()
    conv.backward(np.ones_like(out))
    np.testing.assert_allclose(conv.grads["w"], 2 * once)


@pytest.mark.parametrize(
    "func, args, message",
    [
        (
            "fwd",
            dict(w=np.zeros((3, 4, 3, 3))),
            "w must have shape (F, C, HH, WW) = (*, 2, *, *), got (3, 4, 3, 3)",
        ),
        ("fwd", dict(b=np.zeros(4)), "b must have shape (F,) = (3,), got (4,)"),
        ("fwd", dict(x=np.zeros((2, 5, 5))), "x must have shape (N, C, H, W) = (*, *, *, *), got (2, 5, 5)"),
        ("fwd", dict(stride=0), "stride must be > 0"),
        ("fwd", dict(pad=-1), "pad must be >= 0"),
        ("fwd", dict(x=np.zeros((1, 2, 2, 2))), "does not fit"),
    ],
)
@pytest.mark.parametrize("forward", [conv_naive_forward, conv_im2col_forward, conv_im2col_fast_forward])
def test_conv_shape_errors_name_the_argument(forward, func, args, message):
    kwargs = dict(x=np.zeros((1, 2, 5, 5)), w=np.zeros((3, 2, 3, 3)), b=np.zeros(3), stride=1, pad=0)
    kwargs.update(args)
    with pytest.raises(ValueError) as err:
        forward(**kwargs)
    assert message in str(err.value)
    assert forward.__name__ in str(err.value)


@pytest.mark.parametrize(
    "forward, backward",
    [
        (conv_naive_forward, conv_naive_backward),
        (conv_im2col_forward, conv_im2col_backward),
        (conv_im2col_fast_forward, conv_im2col_fast_backward),
    ],
)
def test_conv_backward_rejects_dout_of_the_wrong_shape(forward, backward):
    x, w, b = _data(CONFIGS[0])
    out, cache = forward(x, w, b)
    with pytest.raises(ValueError, match="dout must have shape"):
        backward(np.zeros(out.shape[:-1] + (out.shape[-1] + 1,)), cache)


ORACLE_SHAPES = [
    # (N, C, H, W, F, HH, WW)
    (2, 3, 8, 8, 4, 3, 3),
    (3, 2, 7, 10, 5, 3, 2),
    (1, 4, 9, 6, 3, 5, 5),
]


@pytest.mark.oracle
@pytest.mark.parametrize("shape", ORACLE_SHAPES)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize(
    "forward, backward",
    [
        (conv_naive_forward, conv_naive_backward),
        (conv_im2col_forward, conv_im2col_backward),
        (conv_im2col_fast_forward, conv_im2col_fast_backward),
    ],
    ids=["naive", "im2col", "im2col-fast"],
)
def test_conv_matches_torch_conv2d_forward_and_gradients(shape, stride, pad, forward, backward):
    torch = pytest.importorskip("torch")
    N, C, H, W, F, HH, WW = shape
    rng = np.random.default_rng(8)
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)), rng.standard_normal(F)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=pad)
    dout = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(dout))
    out, cache = forward(x, w, b, stride, pad)
    assert rel_error(out, out_t.detach().numpy()) < 1e-10
    for name, g, gt in zip("x w b".split(), backward(dout, cache), (xt.grad, wt.grad, bt.grad), strict=True):
        assert rel_error(g, gt.numpy()) < 1e-10, f"d{name} differs from torch"
