"""LSTM forward + backward timing: our NumPy sequence pairs against torch.nn.LSTM and against their GEMMs.

Two questions, one row of the table:
- is the fast pair ``lstm_forward_fast`` / ``lstm_backward_fast`` (what ``LSTM`` trains with) competitive
  with PyTorch's CPU LSTM on the same problem?
- how much time goes to anything other than matrix products? The GEMM-only baseline runs exactly the
  matrix products the fast pair runs (one (T N, D) x (D, 4H) product for the inputs, T (N, H) x (H, 4H)
  steps forward and T (N, 4H) x (4H, H) steps backward, then [dWx; db], dWh and dx as one product each),
  so ours / GEMM - 1 is the share of element-wise work and Python overhead.

Timings are on one BLAS thread (``python -m bench.cpu --only lstm`` starts its workers with
OPENBLAS_NUM_THREADS=1; ``torch_step`` sets torch's thread count), float32, with
``bench.cpu.compare``: CPU time, the candidates run round-robin in one process.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.common import CaseResult, case_result, compare
from course.layers.lstm import lstm_backward_fast, lstm_forward_fast, lstm_init


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
    """One forward + backward of the fast pair ``lstm_forward_fast`` / ``lstm_backward_fast``."""

    def run() -> None:
        _, cache = lstm_forward_fast(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
        lstm_backward_fast(p["dh"], cache)

    return run


def gemm_step(p: dict[str, np.ndarray]) -> Callable[[], None]:
    """Only the matrix products of one forward + backward, on buffers of the same shapes and layouts
    (the input GEMM has D + 1 columns: ``lstm_forward_fast`` folds the bias in as a column of ones; the
    backward products read contiguous transposed weights, as the fast pair does)."""
    x, Wx, Wh, dh = p["x"], p["Wx"], p["Wh"], p["dh"]
    N, T, D = x.shape
    H = Wh.shape[0]
    x1 = np.ones((T * N, D + 1), dtype=x.dtype)
    W1 = np.ones((D + 1, 4 * H), dtype=x.dtype)
    h = np.ascontiguousarray(dh.transpose(1, 0, 2))  # (T, N, H)
    hw = np.empty((N, 4 * H), dtype=x.dtype)
    dA = np.ones((T, N, 4 * H), dtype=x.dtype)
    dnext = np.empty((N, H), dtype=x.dtype)
    WhT, WxT = np.ascontiguousarray(Wh.T), np.ascontiguousarray(Wx.T)

    def run() -> None:
        x1 @ W1  # (T N, 4H)
        for t in range(T):
            np.matmul(h[t], Wh, out=hw)
        for t in range(T):
            np.matmul(dA[t], WhT, out=dnext)
        dA2 = dA.reshape(T * N, 4 * H)
        x1.T @ dA2  # [dWx; db]
        h.reshape(T * N, H).T @ dA2  # dWh
        dA2 @ WxT  # dx

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


def lstm_benchmark(
    N: int = 32, T: int = 50, D: int = 64, H: int = 128, *, repeats: int = 20, seed: int = 0, label: str = ""
) -> CaseResult:
    """One ``CaseResult`` for ``bench.cpu``'s table: the fast pair ('ours'), its GEMMs and torch.nn.LSTM
    (when installed), timed round-robin by ``bench.common.compare`` (CPU time of this process).

    Bars: ours/GEMMs <= 1.15 and ours/torch <= 1.15.
    """
    p = _problem(N, T, D, H, seed)
    fns = {"ours": ours_step(p), "GEMMs": gemm_step(p)}
    torch_fn = torch_step(p)
    if torch_fn is not None:
        fns["torch"] = torch_fn
    timings = compare(fns, repeats)
    case = f"{label}lstm N={N} T={T} D={D} H={H} f32"
    return case_result(case, timings, bar_gemm=1.15, bar_torch=1.15)
