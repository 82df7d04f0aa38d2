"""LSTM forward + backward timing: our NumPy sequence pair against torch.nn.LSTM and against its own GEMMs.

Two questions, one table:
- is ``lstm_forward`` / ``lstm_backward`` competitive with PyTorch's CPU LSTM on the same problem?
- how much time goes to anything other than matrix products? The GEMM-only baseline runs exactly the
  matrix products our pair runs (one (T N, D) x (D, 4H) product for the inputs, T (N, H) x (H, 4H) steps
  forward and T (N, 4H) x (4H, H) steps backward, then dWx, dWh and dx as one product each), so
  ours / GEMM - 1 is the share of element-wise work and Python overhead.

Timings are on one BLAS thread (set ``OPENBLAS_NUM_THREADS=1`` before NumPy is imported; ``run``
sets torch's thread count itself), float32. The three candidates are run round-robin in one process
and each is reported by its fastest repetition, so load from other processes on a shared machine
hits all three alike and inflates none of the ratios by a lucky ordering.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from course.lstm import lstm_backward, lstm_forward, lstm_init


def _problem(N: int, T: int, D: int, H: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    Wx, Wh, b = lstm_init(D, H, rng, dtype=np.float32)
    return {
        "x": rng.standard_normal((N, T, D)).astype(np.float32),
        "h0": np.zeros((N, H), dtype=np.float32),
        "Wx": Wx,
        "Wh": Wh,
        "b": b,
        "dh": rng.standard_normal((N, T, H)).astype(np.float32),
    }


def ours_step(p: dict[str, np.ndarray]) -> Callable[[], None]:
    """One forward + backward of ``lstm_forward`` / ``lstm_backward``."""

    def run() -> None:
        _, cache = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
        lstm_backward(p["dh"], cache)

    return run


def gemm_step(p: dict[str, np.ndarray]) -> Callable[[], None]:
    """Only the matrix products of one forward + backward, on buffers of the same shapes."""
    x, Wx, Wh, dh = p["x"], p["Wx"], p["Wh"], p["dh"]
    N, T, D = x.shape
    H = Wh.shape[0]
    xt = np.ascontiguousarray(x.reshape(T * N, D))
    h = np.ascontiguousarray(dh[:, :, :].transpose(1, 0, 2))  # (T, N, H)
    hw = np.empty((N, 4 * H), dtype=np.float32)
    dA = np.ones((T, N, 4 * H), dtype=np.float32)
    dnext = np.empty((N, H), dtype=np.float32)

    def run() -> None:
        xt @ Wx  # (T N, 4H)
        for t in range(T):
            np.matmul(h[t], Wh, out=hw)
        for t in range(T):
            np.matmul(dA[t], Wh.T, out=dnext)
        dA2 = dA.reshape(T * N, 4 * H)
        xt.T @ dA2  # dWx
        h.reshape(T * N, H).T @ dA2  # dWh
        dA2 @ Wx.T  # dx

    return run


def torch_step(p: dict[str, np.ndarray]) -> Callable[[], None] | None:
    """One forward + backward of torch.nn.LSTM (batch_first) with the same upstream gradient; None
    when torch is not installed."""
    try:
        import torch  # noqa: PLC0415  (optional: only the oracle extra installs it)
    except ImportError:
        return None
    torch.set_num_threads(1)
    N, T, D = p["x"].shape
    H = p["Wh"].shape[0]
    lstm = torch.nn.LSTM(D, H, batch_first=True)
    x = torch.tensor(p["x"], requires_grad=True)
    dh = torch.tensor(p["dh"])

    def run() -> None:
        out, _ = lstm(x)
        out.backward(dh)

    return run


def _fastest(fns: dict[str, Callable[[], None]], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Seconds of the fastest of ``repeats`` calls of each function, calls interleaved round-robin."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def lstm_benchmark_rows(
    N: int = 32, T: int = 50, D: int = 64, H: int = 128, *, repeats: int = 30, seed: int = 0
) -> list[dict[str, Any]]:
    """Rows for the benchmark table: one per candidate, with time in ms and the ratios that are the bar.

    Each row: {'case': 'lstm fwd+bwd N=.. T=.. D=.. H=..', 'impl': 'numpy' | 'torch' | 'numpy GEMMs only',
    'ms': float, 'vs_torch': float | None, 'vs_gemm': float}. The bar for the NumPy row is
    vs_torch <= 1.2 and vs_gemm <= 1.5.
    """
    p = _problem(N, T, D, H, seed)
    fns = {"numpy": ours_step(p), "numpy GEMMs only": gemm_step(p)}
    torch_fn = torch_step(p)
    if torch_fn is not None:
        fns["torch"] = torch_fn
    best = _fastest(fns, repeats)
    case = f"lstm fwd+bwd N={N} T={T} D={D} H={H} float32"
    rows = []
    for name, seconds in best.items():
        rows.append(
            {
                "case": case,
                "impl": name,
                "ms": seconds * 1e3,
                "vs_torch": seconds / best["torch"] if "torch" in best else None,
                "vs_gemm": seconds / best["numpy GEMMs only"],
            }
        )
    return rows
