"""GPU benchmark of the hand-written kernels against CuPy and PyTorch (lecture 000, "GPU"; assignment 09).

Run ``python -m bench.gpu`` on a machine with a CUDA GPU, CuPy and numba-cuda (the ``gpu`` extra; PyTorch
with CUDA for the last comparison). In one process it measures:

- the device's peaks: FLOP/s of a large cuBLAS float32 GEMM and GB/s of a device-to-device copy
  (read + write), the roofs that every other row is compared against;
- matrix multiply at 4096 x 4096 float32: cuBLAS (``A @ B`` in CuPy), the shared-memory tiled kernel
  and the register-blocked kernel, in GFLOP/s (2 M N K / time) and as a fraction of cuBLAS;
- one LSTM step at N = 64, D = H = 512 (and N = D = H = 1024), forward and backward: assignment 06's
  ``lstm_step_forward`` / ``lstm_step_backward`` on CuPy (the matrix products, then the unfused chain of
  element-wise expressions) against the same matrix products with the fused cell kernel; the fused
  kernel alone, in GB/s of necessary traffic; and the cost of one launch from Python (N = D = H = 1),
  which is what decides the small case;
- row-wise softmax on (4096, 4096): CuPy's expression chain against the shared-memory kernel;
- one training step of a character LSTM language model (embedding, LSTM, affine, softmax loss,
  backward, clipping, Adam) with ``course`` on CuPy (plain ``course.layers.lstm``, then ``FusedLSTM``)
  against PyTorch's cuDNN LSTM on the same GPU. TF32 is switched off in PyTorch, since CuPy does not
  use it: every row is true float32 arithmetic.

Every candidate is timed round-robin with its competitors (``course.kernels.timing.fastest``), and every
kernel's output is compared with CuPy's. The bars it prints: tiled >= 25 % of cuBLAS, register-blocked
>= 60 %, LSTM step with the fused cell >= 3x the CuPy step, LM step <= 2x PyTorch. ``--json PATH`` also
writes the rows; ``--roofline PATH`` saves ``plot_roofline``: every kernel on the roofline of the
measured peaks.

Without a GPU it exits with a message. ``run_benchmarks(SMOKE, np, ...)`` runs the same code on tiny
NumPy problems with the kernels in numba's simulator (that is how the script is tested on CPU).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from course.core.backend import cupy_module, gpu_available
from course.data.text import CharVocab
from course.kernels.lstm_cell import FusedLSTM, lstm_cell_backward, lstm_cell_forward
from course.kernels.matmul import matmul_register_blocked, matmul_tiled
from course.kernels.softmax import softmax_rows
from course.kernels.timing import Sizes, fastest, format_report, measure_peaks, plot_roofline
from course.layers.lstm import lstm_step_backward, lstm_step_forward
from course.models.charlm import CharLM
from course.training.optim import Optimizer, adam
from course.training.tbptt import chunk_loss_fn


@dataclass(frozen=True)
class BenchSizes(Sizes):
    """Problem sizes of one benchmark run, on top of the peak sizes and timing effort of ``Sizes``."""

    matmul: int = 4096
    cells: tuple[tuple[int, int], ...] = ((64, 512), (1024, 1024))  # (N, H), D = H; bars on the first
    softmax_rows: int = 4096
    softmax_cols: int = 4096
    lm_n: int = 64
    lm_t: int = 64
    lm_e: int = 128
    lm_h: int = 512
    lm_v: int = 96


GPU = BenchSizes()
SMOKE = BenchSizes(
    peak_gemm=8, copy_mib=1, matmul=5, cells=((2, 3),), softmax_rows=2, softmax_cols=5,
    lm_n=2, lm_t=2, lm_e=3, lm_h=3, lm_v=5, rounds=1, calls=1,
)  # fmt: skip

BARS = {
    "matmul tiled": ("of cuBLAS", 0.25, ">="),
    "matmul register-blocked": ("of cuBLAS", 0.60, ">="),
    "lstm step fwd fused": ("speed-up", 3.0, ">="),
    "lstm step bwd fused": ("speed-up", 3.0, ">="),
    "lm step course + FusedLSTM": ("x PyTorch", 2.0, "<="),
}


def _max_rel_error(got: Any, expected: Any) -> float:
    got, expected = np.asarray(_host(got), np.float64), np.asarray(_host(expected), np.float64)
    return float(np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-30))


def _host(x: Any) -> Any:
    return x.get() if hasattr(x, "get") and not isinstance(x, np.ndarray) else x


def _row(
    case: str, impl: str, seconds: float, *, flops: float = 0.0, nbytes: float = 0.0, **extra: Any
) -> dict:
    row = {"case": case, "impl": impl, "ms": seconds * 1e3}
    if flops:
        row["flop"] = flops
        row["gflops"] = flops / seconds / 1e9
    if nbytes:
        row["bytes"] = nbytes
        row["gbs"] = nbytes / seconds / 1e9
    row.update(extra)
    return row


def bench_matmul(sizes: BenchSizes, xp: ModuleType, sync: Callable[[], None]) -> list[dict]:
    n = sizes.matmul
    rng = np.random.default_rng(1)
    A = xp.asarray(rng.standard_normal((n, n), dtype=np.float32))
    B = xp.asarray(rng.standard_normal((n, n), dtype=np.float32))
    reference = A @ B
    errors = {
        "tiled": _max_rel_error(matmul_tiled(A, B, backend="cuda"), reference),
        "register-blocked": _max_rel_error(matmul_register_blocked(A, B, backend="cuda"), reference),
    }
    t = fastest(
        {
            "cuBLAS": lambda: A @ B,
            "tiled": lambda: matmul_tiled(A, B, backend="cuda"),
            "register-blocked": lambda: matmul_register_blocked(A, B, backend="cuda"),
        },
        sync, sizes.rounds, sizes.calls,
    )  # fmt: skip
    flops, nbytes = 2.0 * n**3, 3.0 * n * n * 4  # least traffic: read A and B once, write C once
    rows = [_row(f"matmul {n}^3 float32", "cuBLAS", t["cuBLAS"], flops=flops, nbytes=nbytes)]
    for impl in ("tiled", "register-blocked"):
        rows.append(
            _row(f"matmul {n}^3 float32", impl, t[impl], flops=flops, nbytes=nbytes,
                 max_rel_error=errors[impl], bar_key=f"matmul {impl}", **{"of cuBLAS": t["cuBLAS"] / t[impl]})
        )  # fmt: skip
    return rows


def bench_lstm(sizes: BenchSizes, xp: ModuleType, sync: Callable[[], None]) -> list[dict]:
    rows = _launch_overhead(sizes, xp, sync)
    for k, (N, H) in enumerate(sizes.cells):
        rows += _bench_lstm_step(N, H, sizes, xp, sync, with_bars=k == 0)
    return rows


def _launch_overhead(sizes: BenchSizes, xp: ModuleType, sync: Callable[[], None]) -> list[dict]:
    """Time per call when there is no work (one element): what each launch costs from Python."""
    one, a, b = (xp.ones(shape, dtype=np.float32) for shape in ((1, 1), (1, 4), (4,)))
    t = fastest(
        {
            "one CuPy element-wise op": lambda: xp.tanh(a),
            "CuPy lstm_step_forward": lambda: lstm_step_forward(one, one, one, a, a, b),  # Wx, Wh (1, 4)
            "numba fused cell kernel": lambda: lstm_cell_forward(a, one, backend="cuda"),
        },
        sync, sizes.rounds, 10 * sizes.calls,
    )  # fmt: skip
    return [_row("launch overhead: lstm N=D=H=1", name, seconds) for name, seconds in t.items()]


def _fused_step_forward(x: Any, prev_h: Any, prev_c: Any, Wx: Any, Wh: Any, b: Any) -> tuple:
    """``lstm_step_forward`` with the fused cell: the two products on cuBLAS, then one kernel."""
    return lstm_cell_forward(x @ Wx + prev_h @ Wh + b, prev_c, backend="cuda")  # a is (N, 4H)


def _fused_step_backward(dnext_h: Any, dnext_c: Any, cell_cache: tuple, step: dict[str, Any]) -> tuple:
    """``lstm_step_backward``'s gradients (same order) with the fused cell: one kernel for da, then the
    five products of the step."""
    da, dprev_c = lstm_cell_backward(dnext_h, dnext_c, cell_cache, backend="cuda")  # (N, 4H), (N, H)
    x, prev_h, Wx, Wh = step["x"], step["prev_h"], step["Wx"], step["Wh"]
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def _bench_lstm_step(
    N: int, H: int, sizes: BenchSizes, xp: ModuleType, sync: Callable[[], None], with_bars: bool
) -> list[dict]:
    """One LSTM step with D = H: CuPy's step (course.layers.lstm) vs the same products and the fused cell.

    Both sides run the same matrix products, so the difference is the element-wise work: about a dozen
    CuPy launches against one kernel. The kernel is also timed alone, for the roofline.
    """
    rng = np.random.default_rng(2)

    def f32(*shape: int, scale: float = 1.0) -> Any:
        return xp.asarray(scale * rng.standard_normal(shape, dtype=np.float32))

    step = {
        "x": f32(N, H), "prev_h": f32(N, H), "prev_c": f32(N, H),
        "Wx": f32(H, 4 * H, scale=H**-0.5), "Wh": f32(H, 4 * H, scale=H**-0.5), "b": f32(4 * H),
    }  # fmt: skip
    dnext_h, dnext_c = f32(N, H), f32(N, H)
    step_h, step_c, step_cache = lstm_step_forward(**step)
    fused_h, fused_c, cell_cache = _fused_step_forward(**step)
    step_grads = lstm_step_backward(dnext_h, dnext_c, step_cache)
    fused_grads = _fused_step_backward(dnext_h, dnext_c, cell_cache, step)
    error_fwd = max(_max_rel_error(fused_h, step_h), _max_rel_error(fused_c, step_c))
    error_bwd = max(_max_rel_error(g, e) for g, e in zip(fused_grads, step_grads, strict=True))
    a = step["x"] @ step["Wx"] + step["prev_h"] @ step["Wh"] + step["b"]
    t = fastest(
        {
            "fwd step": lambda: lstm_step_forward(**step),
            "fwd fused": lambda: _fused_step_forward(**step),
            "fwd kernel": lambda: lstm_cell_forward(a, step["prev_c"], backend="cuda"),
            "bwd step": lambda: lstm_step_backward(dnext_h, dnext_c, step_cache),
            "bwd fused": lambda: _fused_step_backward(dnext_h, dnext_c, cell_cache, step),
            "bwd kernel": lambda: lstm_cell_backward(dnext_h, dnext_c, cell_cache, backend="cuda"),
        },
        sync, sizes.rounds, 10 * sizes.calls,
    )  # fmt: skip
    case = f"lstm step N={N} D=H={H} float32"
    # the kernel alone, necessary traffic: forward reads a (4NH) and prev_c, writes next_h, next_c, tanh_c
    # and gates (4NH); backward reads dnext_h, dnext_c, gates, prev_c, tanh_c and writes da (4NH), dprev_c
    fwd_bytes, bwd_bytes = 12 * N * H * 4, 13 * N * H * 4
    # nominal operation counts per (n, j), counting tanh like a multiply: 18 forward, 22 backward
    fwd = {"nbytes": fwd_bytes, "flops": 18 * N * H}
    bwd = {"nbytes": bwd_bytes, "flops": 22 * N * H}
    fwd_bar = {"bar_key": "lstm step fwd fused"} if with_bars else {}
    bwd_bar = {"bar_key": "lstm step bwd fused"} if with_bars else {}
    return [
        _row(f"{case} fwd", "CuPy lstm_step_forward", t["fwd step"]),
        _row(f"{case} fwd", "GEMMs + fused cell kernel", t["fwd fused"], max_rel_error=error_fwd,
             **fwd_bar, **{"speed-up": t["fwd step"] / t["fwd fused"]}),
        _row(f"{case} fwd", "fused cell kernel alone", t["fwd kernel"], **fwd),
        _row(f"{case} bwd", "CuPy lstm_step_backward", t["bwd step"]),
        _row(f"{case} bwd", "fused cell kernel + GEMMs", t["bwd fused"], max_rel_error=error_bwd,
             **bwd_bar, **{"speed-up": t["bwd step"] / t["bwd fused"]}),
        _row(f"{case} bwd", "fused cell kernel alone", t["bwd kernel"], **bwd),
    ]  # fmt: skip


def bench_softmax(sizes: BenchSizes, xp: ModuleType, sync: Callable[[], None]) -> list[dict]:
    N, D = sizes.softmax_rows, sizes.softmax_cols
    x = xp.asarray(np.random.default_rng(3).standard_normal((N, D), dtype=np.float32) * 5)
    error = _max_rel_error(softmax_rows(x, backend="cuda"), softmax_rows(x, backend="numpy"))
    t = fastest(
        {
            "unfused": lambda: softmax_rows(x, backend="numpy"),
            "kernel": lambda: softmax_rows(x, backend="cuda"),
        },
        sync, sizes.rounds, sizes.calls,
    )  # fmt: skip
    nbytes = 2 * N * D * 4  # read x once, write the output once
    flops = 5 * N * D  # max, subtract, exp, sum, scale per element
    case = f"softmax rows ({N}, {D}) float32"
    return [
        _row(case, "CuPy expression chain", t["unfused"], nbytes=nbytes, flops=flops),
        _row(case, "shared-memory kernel", t["kernel"], nbytes=nbytes, flops=flops, max_rel_error=error,
             **{"speed-up": t["unfused"] / t["kernel"]}),
    ]  # fmt: skip


def _course_lm_step(sizes: BenchSizes, xp: ModuleType, fused: bool) -> Callable[[], float]:
    vocab = CharVocab("".join(chr(32 + i) for i in range(sizes.lm_v)))
    model = CharLM(vocab, embed_dim=sizes.lm_e, hidden_dim=sizes.lm_h, rng=0)
    if fused:
        model.children["rnn"] = FusedLSTM(sizes.lm_e, sizes.lm_h, rng=0, backend="cuda")
    model.to("cpu" if xp is np else "gpu")
    optimizer = Optimizer(model, adam, max_grad_norm=5.0, learning_rate=3e-3)
    ids = xp.asarray(np.random.default_rng(4).integers(0, sizes.lm_v, (sizes.lm_n, sizes.lm_t + 1)))
    inputs, targets = ids[:, :-1], ids[:, 1:]

    def step() -> float:
        optimizer.zero_grad()
        loss, dscores = chunk_loss_fn(model.forward(inputs), targets)
        model.backward(dscores)
        optimizer.step()
        return loss

    return step


def _torch_lm_step(
    sizes: BenchSizes, device: str | None
) -> tuple[Callable[[], float], Callable[[], None]] | None:
    """The same model and step in PyTorch (cuDNN LSTM on a GPU); None without torch (or its CUDA build),
    or when ``device`` is None."""
    if device is None:
        return None
    try:
        import torch  # noqa: PLC0415  (optional: the oracle extra installs it)
    except ImportError:
        return None
    if device == "cuda" and not torch.cuda.is_available():
        return None
    torch.backends.cudnn.allow_tf32 = False  # CuPy computes in true float32, so must the reference
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    V, E, H = sizes.lm_v, sizes.lm_e, sizes.lm_h
    embed = torch.nn.Embedding(V, E).to(device)
    lstm = torch.nn.LSTM(E, H, batch_first=True).to(device)
    head = torch.nn.Linear(H, V).to(device)
    params = [*embed.parameters(), *lstm.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=3e-3)
    ids = torch.as_tensor(
        np.random.default_rng(4).integers(0, V, (sizes.lm_n, sizes.lm_t + 1)), device=device
    )
    inputs, targets = ids[:, :-1], ids[:, 1:]

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        out, _ = lstm(embed(inputs))
        loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, V), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        return loss.item()  # a host read, as the course step's float(loss)

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return step, sync


def bench_lm_step(
    sizes: BenchSizes, xp: ModuleType, sync: Callable[[], None], torch_device: str | None
) -> list[dict]:
    fns: dict[str, Callable[[], Any]] = {
        "course + course.layers.lstm": _course_lm_step(sizes, xp, fused=False),
        "course + FusedLSTM": _course_lm_step(sizes, xp, fused=True),
    }
    torch_step = _torch_lm_step(sizes, torch_device)
    if torch_step is not None:
        step, torch_sync = torch_step
        fns["PyTorch cuDNN LSTM" if torch_device == "cuda" else "PyTorch LSTM"] = step

        def sync_both() -> None:
            sync()
            torch_sync()
    else:
        sync_both = sync
    t = fastest(fns, sync_both, sizes.rounds, max(1, sizes.calls // 2))
    case = f"char LM train step N={sizes.lm_n} T={sizes.lm_t} E={sizes.lm_e} H={sizes.lm_h} V={sizes.lm_v}"
    torch_name = next((name for name in t if name.startswith("PyTorch")), None)
    tokens = sizes.lm_n * sizes.lm_t
    rows = []
    for name, seconds in t.items():
        extra: dict[str, Any] = {"tokens/s": tokens / seconds}
        if torch_name is not None:
            extra["x PyTorch"] = seconds / t[torch_name]
        if name == "course + FusedLSTM":
            extra["bar_key"] = "lm step course + FusedLSTM"
        rows.append(_row(case, name, seconds, **extra))
    return rows


def run_benchmarks(
    sizes: BenchSizes, xp: ModuleType, sync: Callable[[], None], torch_device: str | None
) -> dict[str, Any]:
    """All measurements: {'peaks': ..., 'rows': [...]} (each row: case, impl, ms and its rates/ratios)."""
    peaks = measure_peaks(sizes, xp, sync)
    rows = bench_matmul(sizes, xp, sync) + bench_lstm(sizes, xp, sync) + bench_softmax(sizes, xp, sync)
    rows += bench_lm_step(sizes, xp, sync, torch_device)
    for row in rows:
        if "gflops" in row:
            row["of peak FLOP/s"] = row["gflops"] / peaks["gflops"]
        if "gbs" in row:
            row["of peak GB/s"] = row["gbs"] / peaks["gbs"]
        key = row.pop("bar_key", None)
        if key is not None:
            metric, bar, sense = BARS[key]
            if metric not in row:  # the PyTorch reference was not run
                row["bar"] = f"{metric} {sense} {bar:g}: not measured"
                continue
            value = row[metric]
            met = value >= bar if sense == ">=" else value <= bar
            row["bar"] = f"{metric} {sense} {bar:g}: " + ("met" if met else "MISSED")
    return {"peaks": peaks, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    parser.add_argument("--roofline", help="also save the roofline plot to this image file")
    args = parser.parse_args(argv)
    if not gpu_available():
        print(
            "no CUDA GPU visible (cupy is not installed or sees no device), so there is "
            "nothing to time. Run it on a GPU machine with `pip install -e '.[gpu,oracle]'`; the kernels "
            "themselves are tested without a GPU in numba's simulator (pytest tests/test_kernels_*.py).",
            file=sys.stderr,
        )
        return 1
    cp = cupy_module()
    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    device = name.decode() if isinstance(name, bytes) else str(name)
    result = run_benchmarks(GPU, cp, cp.cuda.Device().synchronize, "cuda")
    print(format_report(result, device))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": device, **result}, f, indent=1)
    if args.roofline:
        plot_roofline(result).figure.savefig(args.roofline, dpi=150, bbox_inches="tight")
    return 0


if __name__ == "__main__":
    sys.exit(main())
