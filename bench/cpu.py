"""Benchmarks: our NumPy layers against PyTorch on the CPU and against their own matrix products.

Run it as ``python -m bench.cpu`` (``--tiny`` for a smoke run, ``--repeat R``, ``--only conv``).
Each case prints one row per implementation: ours, torch, and "GEMMs only" (the very matrix products
ours performs, on arrays of the same shapes, with nothing else), with the ratios ours/torch and
ours/GEMM. ours/GEMM - 1 is the share of everything that is not a matrix product (copies, element-wise
work, Python overhead); ours/torch is the bar.

Threads. Every implementation runs on one thread: the BLAS under NumPy reads OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS / MKL_NUM_THREADS once, when NumPy is first imported, so setting them later changes
nothing. ``main`` therefore re-executes the interpreter with the three set to 1 when they are not
already, before anything is timed; torch gets ``torch.set_num_threads(1)``. Importing this module into
a session that has already imported NumPy does not change its threads: start Python with the variables
set (``OPENBLAS_NUM_THREADS=1 python ...``) to time cases by hand.

Clock. ``time.process_time`` (CPU seconds of this process): on a machine shared with other jobs, wall
time also counts the time others held the CPU, which is noise; CPU time of a one-thread computation is
not. The implementations of a case are run round-robin, so drifts in machine load hit all of them
alike, and each is reported by its fastest run (the least disturbed) and its median.

Adding a case: write a plain function ``my_case(tiny: bool = False, repeat: int = 20) -> list[dict]``
returning rows (build them with ``compare`` and ``rows_for``, or by hand), then add it to the explicit
``cases`` list in ``main``. A row is a dict with keys
    case (str), impl (str), ms (float, fastest run), median_ms (float or None),
    vs_torch (float or None), vs_gemm (float or None), bar (float or None: the largest acceptable
    vs_torch for this row, or None when the row is a reference).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from typing import Any

import numpy as np

from bench.common import _torch, compare, format_table, rows_for
from bench.lstm import lstm_benchmark_rows

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ---------------------------------------------------------------------------------------------------
# Case 1: one SGD step of a two-layer MLP.
# ---------------------------------------------------------------------------------------------------


def mlp_step_case(tiny: bool = False, repeat: int = 20) -> list[dict[str, Any]]:
    """One training step of a 784-512-10 ReLU MLP on N = 128 (float32): affine-relu-affine, fused
    softmax cross-entropy, backward, in-place SGD update. Bar: <= 1.0x PyTorch.

    Two NumPy rows, both on the library's fast affine pair (``affine_forward_fast``,
    ``affine_backward_fast``, what ``Linear`` uses): the step without the gradient of the input images
    (``need_dx=False``, as PyTorch skips it for an input that does not require grad), and the same step
    with it; for the first layer that product is as large as the forward one.
    """
    from course.layers.activations import relu_backward, relu_forward  # noqa: PLC0415  (cases import lazily)
    from course.layers.affine import affine_backward_fast, affine_forward_fast  # noqa: PLC0415
    from course.layers.losses import softmax_cross_entropy  # noqa: PLC0415
    from course.training.init import he_normal  # noqa: PLC0415

    N, D, H, C = (8, 20, 16, 4) if tiny else (128, 784, 512, 10)
    lr = np.float32(1e-3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, D)).astype(np.float32)
    y = rng.integers(0, C, size=N)
    params = {
        "w1": he_normal((D, H), rng),
        "b1": np.zeros(H, dtype=np.float32),
        "w2": he_normal((H, C), rng),
        "b2": np.zeros(C, dtype=np.float32),
    }

    def sgd_in_place(grads: dict[str, np.ndarray]) -> None:
        for name, g in grads.items():
            g *= lr
            params[name] -= g

    def ours(need_dx: bool = False) -> None:
        a, c1 = affine_forward_fast(x, params["w1"], params["b1"])
        h, c2 = relu_forward(a)
        scores, c3 = affine_forward_fast(h, params["w2"], params["b2"])
        _, dscores = softmax_cross_entropy(scores, y)
        dh, dw2, db2 = affine_backward_fast(dscores, c3)
        da = relu_backward(dh, c2)
        _, dw1, db1 = affine_backward_fast(da, c1, need_dx=need_dx)  # like torch by default: no input grad
        sgd_in_place({"w1": dw1, "b1": db1, "w2": dw2, "b2": db2})

    w1, w2 = params["w1"], params["w2"]

    def gemm() -> None:  # the six products of ``ours(need_dx=True)``
        a = x @ w1
        s = a @ w2
        d = s @ w2.T
        a.T @ s
        x.T @ d
        d @ w1.T

    def gemm_no_dx() -> None:  # the five of ``ours``
        a = x @ w1
        s = a @ w2
        d = s @ w2.T
        a.T @ s
        x.T @ d

    fns = {
        "numpy, course pairs": ours,
        "numpy, pairs + input grad": lambda: ours(need_dx=True),
        "GEMMs only": gemm,
        "GEMMs only, no input grad": gemm_no_dx,
    }
    torch = _torch()
    if torch is not None:
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        tparams = [torch.tensor(params[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2")]
        opt = torch.optim.SGD(tparams, lr=float(lr))

        def torch_step() -> None:
            tw1, tb1, tw2, tb2 = tparams
            opt.zero_grad(set_to_none=True)
            scores = torch.relu(xt @ tw1 + tb1) @ tw2 + tb2
            torch.nn.functional.cross_entropy(scores, yt).backward()
            opt.step()

        fns["torch"] = torch_step
    timings = compare(fns, repeat)
    case = f"MLP SGD step N={N} {D}-{H}-{C} f32"
    return rows_for(
        case,
        timings,
        gemm={"numpy, course pairs": "GEMMs only, no input grad", "numpy, pairs + input grad": "GEMMs only"},
        bars={"numpy, course pairs": 1.0},
    )


# ---------------------------------------------------------------------------------------------------
# Cases 2 and 3: convolution forward + backward.
# ---------------------------------------------------------------------------------------------------


def conv_case(
    N: int, C: int, H: int, W: int, F: int, k: int, pad: int, bar: float, repeat: int = 20
) -> list[dict[str, Any]]:
    """Forward + backward of the fast pair ``conv_im2col_fast_forward`` / ``conv_im2col_fast_backward``
    (what ``Conv2d`` runs; stride 1, float32) against torch.nn.functional.conv2d (input, weight and bias
    all requiring grad, as for a layer inside a network), and against the same batched GEMMs on
    ready-made columns, chunk by chunk as ours."""
    from course.layers import convolution  # noqa: PLC0415
    from course.training.init import he_normal  # noqa: PLC0415

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = he_normal((F, C, k, k), rng)
    b = np.zeros(F, dtype=np.float32)
    out, _ = convolution.conv_im2col_fast_forward(x, w, b, 1, pad)
    dout = rng.standard_normal(out.shape).astype(np.float32)

    def ours() -> None:
        _, cache = convolution.conv_im2col_fast_forward(x, w, b, 1, pad)
        convolution.conv_im2col_fast_backward(dout, cache)

    w_rows = w.reshape(F, -1)
    d_flat = dout.reshape(N, F, -1)
    chunk = convolution._chunk_size(N, w_rows.shape[1], d_flat.shape[2], x.itemsize, np)
    starts = range(0, N, chunk)
    cols = [convolution.im2col_fast(x[n0 : n0 + chunk], k, k, 1, pad) for n0 in starts]

    def gemm() -> None:
        for n0, c in zip(starts, cols, strict=True):
            d = d_flat[n0 : n0 + chunk]
            w_rows @ c  # forward
            (d @ c.transpose(0, 2, 1)).sum(axis=0)  # dw
            w_rows.T @ d  # dcols

    fns = {"numpy im2col": ours, "GEMMs only": gemm}
    torch = _torch()
    if torch is not None:
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        dt = torch.from_numpy(dout)

        def torch_step() -> None:
            xt.grad = wt.grad = bt.grad = None
            torch.nn.functional.conv2d(xt, wt, bt, padding=pad).backward(dt)

        fns["torch"] = torch_step
    timings = compare(fns, repeat)
    case = f"conv fwd+bwd N={N} C={C} {H}x{W} F={F} {k}x{k} pad {pad} f32"
    return rows_for(case, timings, gemm={"numpy im2col": "GEMMs only"}, bars={"numpy im2col": bar})


def conv_mnist_case(tiny: bool = False, repeat: int = 20) -> list[dict[str, Any]]:
    """Conv forward + backward at N=64, C=16, 28x28, F=32, 3x3, pad 1. Bar: <= 1.5x PyTorch."""
    if tiny:
        return conv_case(2, 2, 6, 6, 3, 3, 1, bar=1.5, repeat=repeat)
    return conv_case(64, 16, 28, 28, 32, 3, 1, bar=1.5, repeat=repeat)


def conv_cifar_case(tiny: bool = False, repeat: int = 20) -> list[dict[str, Any]]:
    """Conv forward + backward at N=32, C=3, 32x32, F=64, 3x3, pad 1. Bar: <= 1.0x PyTorch."""
    if tiny:
        return conv_case(2, 3, 5, 7, 4, 3, 1, bar=1.0, repeat=repeat)
    return conv_case(32, 3, 32, 32, 64, 3, 1, bar=1.0, repeat=repeat)


# ---------------------------------------------------------------------------------------------------
# Case 4: LSTM, from bench.lstm.
# ---------------------------------------------------------------------------------------------------


def lstm_case(tiny: bool = False, repeat: int = 20) -> list[dict[str, Any]]:
    """LSTM sequence forward + backward (N=32, T=50, D=64, H=128), from ``bench.lstm``, which
    builds its rows with ``compare`` and ``rows_for``. Bar for the NumPy row: <= 1.2x PyTorch."""

    sizes = {"N": 2, "T": 3, "D": 4, "H": 5} if tiny else {}
    return lstm_benchmark_rows(**sizes, repeats=repeat)


# ---------------------------------------------------------------------------------------------------
# Command line.
# ---------------------------------------------------------------------------------------------------


def _single_threaded_or_reexec(argv: list[str]) -> None:
    """Re-execute ``python -m bench.cpu`` with one BLAS thread unless the variables already say so."""
    if all(os.environ.get(v) == "1" for v in THREAD_VARIABLES):
        return
    env = dict(os.environ, **{v: "1" for v in THREAD_VARIABLES})
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "bench.cpu", *argv], env)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks that every case runs")
    parser.add_argument("--repeat", type=int, default=20, help="timed rounds per case (default 20)")
    parser.add_argument("--only", default="", help="run the cases whose function name contains this")
    args = parser.parse_args(argv)
    _single_threaded_or_reexec(argv)

    cases = [mlp_step_case, conv_mnist_case, conv_cifar_case, lstm_case]
    torch = _torch()
    print(
        f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()} "
        f"{platform.processor() or platform.system()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, "
        f"NumPy {np.__version__}, torch {torch.__version__ if torch else 'absent'}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
        f"{args.repeat} rounds, CPU time"
    )
    rows: list[dict[str, Any]] = []
    for case in cases:
        if args.only in case.__name__:
            rows += case(tiny=args.tiny, repeat=args.repeat)
    print(format_table(rows))


if __name__ == "__main__":
    main()
