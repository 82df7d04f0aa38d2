"""Benchmarks: our NumPy layers against PyTorch on the CPU and against their own matrix products.

Run it as ``python -m bench.cpu`` (``--tiny`` for a smoke run, ``--repeat R``, ``--only conv``,
``--level default`` or ``--level avx2`` for one ISA level). Each case is one row: ours (the library's
fast path), "GEMMs" (the very matrix products ours performs, same shapes, layouts and dtype, nothing
else) and torch, with the ratios ours/torch, ours/GEMMs and GEMMs/torch. ours/GEMMs - 1 is the share of
everything that is not a matrix product (copies, element-wise work, Python overhead).

ISA levels. Every case runs twice in one command, each time in a fresh worker process: at the
machine's default level (AVX-512 where the CPU has it) and at the AVX2 level (``LEVELS``: OpenBLAS's
Haswell kernels, NumPy's AVX-512 dispatch targets disabled, oneDNN and ATen limited to AVX2). The
variables are read when the libraries load, hence a process per level. The header gives the CPU's
vector flags (/proc/cpuinfo), and each level's NumPy dispatch target and BLAS kernel (threadpoolctl).

Threads. Every implementation runs on one thread: the BLAS under NumPy reads OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS / MKL_NUM_THREADS once, when NumPy is first imported, so the workers start with the
three set to 1; torch gets ``torch.set_num_threads(1)``. To time a case by hand, start Python with the
variables set (``OPENBLAS_NUM_THREADS=1 python ...``).

Clock. ``time.process_time`` (CPU seconds of this process): on a machine shared with other jobs, wall
time also counts the time others held the CPU, which is noise; CPU time of a one-thread computation is
not. The implementations of a case are run round-robin, so drifts in machine load hit all of them
alike, and each is reported by its fastest run (the least disturbed) and its median.

Adding a case: write a plain function ``my_case(tiny: bool = False, repeat: int = 20) -> CaseResult``
(time "ours", "GEMMs" and "torch" with ``compare`` and pick them with ``case_result``), then add it to
the explicit ``CASES`` list.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from typing import Any

import numpy as np

from bench.common import CaseResult, _torch, case_result, compare, format_table
from bench.lstm import lstm_benchmark

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ---------------------------------------------------------------------------------------------------
# Case 1: one SGD step of a two-layer MLP.
# ---------------------------------------------------------------------------------------------------


def mlp_step_case(tiny: bool = False, repeat: int = 20) -> CaseResult:
    """One training step of a 784-512-10 ReLU MLP on N = 128 (float32): affine-relu-affine, fused
    softmax cross-entropy, backward, in-place SGD update. Bar: <= 1.0x PyTorch.

    Ours runs the library's fast affine pair (``affine_forward_fast``, ``affine_backward_fast``, what
    ``Linear`` uses) without the gradient of the input images (``need_dx=False``, as PyTorch skips it for
    an input that does not require grad); its GEMMs are the five products that step performs.
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

    def ours() -> None:
        a, c1 = affine_forward_fast(x, params["w1"], params["b1"])
        h, c2 = relu_forward(a)
        scores, c3 = affine_forward_fast(h, params["w2"], params["b2"])
        _, dscores = softmax_cross_entropy(scores, y)
        dh, dw2, db2 = affine_backward_fast(dscores, c3)
        da = relu_backward(dh, c2)
        _, dw1, db1 = affine_backward_fast(da, c1, need_dx=False)  # like torch: no input grad
        sgd_in_place({"w1": dw1, "b1": db1, "w2": dw2, "b2": db2})

    w1, w2 = params["w1"], params["w2"]

    def gemm() -> None:  # the five products of ``ours``
        a = x @ w1
        s = a @ w2
        d = s @ w2.T
        a.T @ s
        x.T @ d

    fns = {"ours": ours, "GEMMs": gemm}
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
    return case_result(f"MLP SGD step N={N} {D}-{H}-{C} f32", timings, bar_torch=1.0)


# ---------------------------------------------------------------------------------------------------
# Cases 2 and 3: convolution forward + backward.
# ---------------------------------------------------------------------------------------------------


def conv_case(
    N: int,
    C: int,
    H: int,
    W: int,
    F: int,
    k: int,
    pad: int,
    *,
    bar_torch: float | None,
    repeat: int = 20,
    label: str = "",
) -> CaseResult:
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
    # The dcols product reads the weights as ours does: rows (p, q, c), contiguous, for a "same"
    # convolution (this one: stride 1, k = 2 pad + 1); the transposed view otherwise.
    same = k == 2 * pad + 1
    w_cols = w.transpose(2, 3, 1, 0).reshape(-1, F) if same else w_rows.T
    d_flat = dout.reshape(N, F, -1)
    chunk = convolution._chunk_size(N, w_rows.shape[1], d_flat.shape[2], x.itemsize, np)
    starts = range(0, N, chunk)
    # As ours: the columns with a row of ones under each image's, the weights with the bias as a column.
    w_b = np.concatenate([w_rows, b[:, None]], axis=1)  # (F, K + 1)
    cols = [convolution.im2col_fast(x[n0 : n0 + chunk], k, k, 1, pad) for n0 in starts]
    cols_1 = [np.concatenate([c, np.ones_like(c[:, :1])], axis=1) for c in cols]  # (n, K + 1, P)

    def gemm() -> None:
        for n0, c_1 in zip(starts, cols_1, strict=True):
            d = d_flat[n0 : n0 + chunk]
            w_b @ c_1  # forward, bias included
            (c_1[:, :-1] @ d.transpose(0, 2, 1)).sum(axis=0)  # dw, transposed as ours computes it
            w_cols @ d  # dcols

    fns = {"ours": ours, "GEMMs": gemm}
    torch = _torch()
    if torch is not None:
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        dt = torch.from_numpy(dout)

        def torch_step() -> None:
            xt.grad = wt.grad = bt.grad = None
            torch.nn.functional.conv2d(xt, wt, bt, padding=pad).backward(dt)

        fns["torch"] = torch_step
    timings = compare(fns, repeat)
    case = f"{label}conv N={N} C={C} {H}x{W} F={F} {k}x{k} pad {pad} f32"
    return case_result(case, timings, bar_gemm=1.15, bar_torch=bar_torch)


def conv_mnist_case(tiny: bool = False, repeat: int = 20) -> CaseResult:
    """Conv forward + backward at N=64, C=16, 28x28, F=32, 3x3, pad 1. Bars: <= 1.15x its GEMMs,
    <= 1.35x PyTorch."""
    if tiny:
        return conv_case(2, 2, 6, 6, 3, 3, 1, bar_torch=1.35, repeat=repeat)
    return conv_case(64, 16, 28, 28, 32, 3, 1, bar_torch=1.35, repeat=repeat)


def conv_cifar_case(tiny: bool = False, repeat: int = 20) -> CaseResult:
    """Conv forward + backward at N=32, C=3, 32x32, F=64, 3x3, pad 1. Bars: <= 1.15x its GEMMs,
    <= 1.0x PyTorch."""
    if tiny:
        return conv_case(2, 3, 5, 7, 4, 3, 1, bar_torch=1.0, repeat=repeat)
    return conv_case(32, 3, 32, 32, 64, 3, 1, bar_torch=1.0, repeat=repeat)


def conv_digits_first_case(tiny: bool = False, repeat: int = 20) -> CaseResult:
    """a05's digits CNN, first layer, at its training batch: N=32, C=1, 8x8, F=16, 3x3, pad 1.
    Bar: <= 1.15x its GEMMs."""
    if tiny:
        return conv_case(2, 1, 4, 4, 2, 3, 1, bar_torch=None, repeat=repeat, label="a05 ")
    return conv_case(32, 1, 8, 8, 16, 3, 1, bar_torch=None, repeat=repeat, label="a05 ")


def conv_digits_second_case(tiny: bool = False, repeat: int = 20) -> CaseResult:
    """a05's digits CNN, second layer: N=32, C=16, 4x4, F=32, 3x3, pad 1. Bar: <= 1.15x its GEMMs."""
    if tiny:
        return conv_case(2, 2, 2, 2, 3, 3, 1, bar_torch=None, repeat=repeat, label="a05 ")
    return conv_case(32, 16, 4, 4, 32, 3, 1, bar_torch=None, repeat=repeat, label="a05 ")


# ---------------------------------------------------------------------------------------------------
# Case 4: LSTM, from bench.lstm.
# ---------------------------------------------------------------------------------------------------


def lstm_case(tiny: bool = False, repeat: int = 20) -> CaseResult:
    """LSTM sequence forward + backward (N=32, T=50, D=64, H=128), from ``bench.lstm``. Bars: <= 1.15x its
    GEMMs, <= 1.15x PyTorch."""
    sizes = {"N": 2, "T": 3, "D": 4, "H": 5} if tiny else {}
    return lstm_benchmark(**sizes, repeats=repeat)


def lstm_charlm_case(tiny: bool = False, repeat: int = 20) -> CaseResult:
    """a06's character model (``experiments/train_charlm.py``): 32 streams, chunks of T=50, embedding
    D=32, H=128. Bars as ``lstm_case``."""
    sizes = {"N": 2, "T": 3, "D": 2, "H": 5} if tiny else {"N": 32, "T": 50, "D": 32, "H": 128}
    return lstm_benchmark(**sizes, repeats=repeat, label="a06 ")


# ---------------------------------------------------------------------------------------------------
# Command line.
# ---------------------------------------------------------------------------------------------------


CASES = [
    mlp_step_case,
    conv_mnist_case,
    conv_cifar_case,
    conv_digits_first_case,
    conv_digits_second_case,
    lstm_case,
    lstm_charlm_case,
]

# The AVX2 level: OpenBLAS's Haswell kernels, NumPy without its AVX-512 dispatch targets, oneDNN and
# PyTorch's own kernels limited to AVX2. The default level clears them all.
LEVELS: dict[str, dict[str, str]] = {
    "default": {},
    "avx2": {
        "OPENBLAS_CORETYPE": "Haswell",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "NPY_DISABLE_CPU_FEATURES": "AVX512_ICL X86_V4",
        "ATEN_CPU_CAPABILITY": "avx2",
    },
}
LEVEL_VARIABLES = sorted({name for env in LEVELS.values() for name in env})
CPU_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512dq",
    "avx512cd",
    "avx512bw",
    "avx512vl",
)
CPU_FLAGS_EXTRA = ("avx512_vnni", "avx512_bf16", "avx512ifma", "avx512vbmi", "avx512_fp16", "amx_tile")


def cpu_description(cpuinfo: str | None = None) -> str:
    """The CPU's model and which of the vector flags that matter here /proc/cpuinfo lists."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as f:
                cpuinfo = f.read()
        except OSError:
            return f"{platform.machine()} (no /proc/cpuinfo)"
    fields = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in cpuinfo.splitlines())
    )
    flags = set(fields.get("flags", "").split())
    have = [f for f in CPU_FLAGS + CPU_FLAGS_EXTRA if f in flags]
    missing = [f for f in CPU_FLAGS if f not in flags]
    return f"{fields.get('model name', platform.machine())}; flags: {' '.join(have) or 'none'}" + (
        f"; lacks: {' '.join(missing)}" if missing else ""
    )


def level_description() -> str:
    """This process's NumPy dispatch target, BLAS kernel (threadpoolctl) and PyTorch CPU capability."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__  # noqa: PLC0415

    enabled = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
    parts = [f"NumPy dispatch up to {enabled[-1] if enabled else 'baseline'}"]
    try:
        import threadpoolctl  # noqa: PLC0415  (optional: reports the BLAS kernel)
    except ImportError:
        parts.append("BLAS: threadpoolctl not installed")
    else:
        for pool in threadpoolctl.threadpool_info():
            if pool.get("user_api") == "blas":
                parts.append(
                    f"BLAS {pool.get('internal_api')} {pool.get('version')} "
                    f"kernel {pool.get('architecture')}, {pool.get('num_threads')} thread(s)"
                )
    torch = _torch()
    if torch is not None:
        parts.append(f"torch {torch.__version__} CPU capability {torch.backends.cpu.get_cpu_capability()}")
    return "; ".join(parts)


def worker_env(level: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker at ``level``: one thread everywhere, the level's ISA variables."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in LEVEL_VARIABLES}
    env.update({v: "1" for v in THREAD_VARIABLES})
    env.update(LEVELS[level])
    return env


def run_worker(level: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected cases in a fresh interpreter at ``level``; its description and results."""
    command = [sys.executable, "-m", "bench.cpu", "--worker", level, "--repeat", str(args.repeat)]
    command += ["--only", args.only] + (["--tiny"] if args.tiny else [])
    done = subprocess.run(command, env=worker_env(level), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.cpu: the {level} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks that every case runs")
    parser.add_argument("--repeat", type=int, default=20, help="timed rounds per case (default 20)")
    parser.add_argument("--only", default="", help="run the cases whose function name contains this")
    parser.add_argument("--level", choices=("both", *LEVELS), default="both", help="ISA level(s) to run")
    parser.add_argument("--worker", choices=tuple(LEVELS), help=argparse.SUPPRESS)  # one level, as JSON
    args = parser.parse_args(argv)
    cases = [case for case in CASES if args.only in case.__name__]

    if args.worker:
        results = [case(tiny=args.tiny, repeat=args.repeat).to_dict() for case in cases]
        print(json.dumps({"level": args.worker, "description": level_description(), "results": results}))
        return

    torch = _torch()
    print(
        f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, torch {torch.__version__ if torch else 'absent'}, one thread, "
        f"{args.repeat} rounds, CPU time, ratios of the fastest runs"
    )
    print(f"# CPU: {cpu_description()}")
    for level in LEVELS if args.level == "both" else (args.level,):
        report = run_worker(level, args)
        settings = " ".join(f"{k}={v!r}" for k, v in LEVELS[level].items()) or "no ISA variables"
        print(f"\n## level {level} ({settings})\n# {report['description']}")
        print(format_table([CaseResult.from_dict(d) for d in report["results"]]))


if __name__ == "__main__":
    main()
