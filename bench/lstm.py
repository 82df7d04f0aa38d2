"""LSTM forward + backward timing: our NumPy sequence pairs against torch.nn.LSTM and against their GEMMs.

Three questions, one table:
- is the fast pair ``lstm_forward_fast`` / ``lstm_backward_fast`` (what ``LSTM`` trains with) competitive
  with PyTorch's CPU LSTM on the same problem?
- how much time goes to anything other than matrix products? The GEMM-only baseline runs exactly the
  matrix products the fast pair runs (one (T N, D) x (D, 4H) product for the inputs, T (N, H) x (H, 4H)
  steps forward and T (N, 4H) x (4H, H) steps backward, then [dWx; db], dWh and dx as one product each),
  so ours / GEMM - 1 is the share of element-wise work and Python overhead;
- what does the speed work buy over the teaching pair ``lstm_forward`` / ``lstm_backward`` (the a06
  exercise: the step pair in a loop over time)?

Timings are on one BLAS thread (``python -m bench.cpu --only lstm`` sets OPENBLAS_NUM_THREADS=1
before NumPy is imported; ``torch_step`` sets torch's thread count), float32, with
``bench.cpu.compare``: CPU time, the candidates run round-robin in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bench.common import compare, rows_for
from course.layers.lstm import lstm_backward, lstm_backward_fast, lstm_forward, lstm_forward_fast, lstm_init


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


def teaching_step(p: dict[str, np.ndarray]) -> Callable[[], None]:
    """One forward + backward of the teaching pair ``lstm_forward`` / ``lstm_backward``."""

    def run() -> None:
        _, cache = lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
        lstm_backward(p["dh"], cache)

    return run


def gemm_step(p: dict[str, np.ndarray]) -> Callable[[], None]:
    """Only the matrix products of one forward + backward, on buffers of the same shapes (the input
    GEMM has D + 1 columns: ``lstm_forward_fast`` folds the bias in as a column of ones)."""
    x, Wx, Wh, dh = p["x"], p["Wx"], p["Wh"], p["dh"]
    N, T, D = x.shape
    H = Wh.shape[0]
    x1 = np.ones((T * N, D + 1), dtype=np.float32)
    W1 = np.ones((D + 1, 4 * H), dtype=np.float32)
    h = np.ascontiguousarray(dh.transpose(1, 0, 2))  # (T, N, H)
    hw = np.empty((N, 4 * H), dtype=np.float32)
    dA = np.ones((T, N, 4 * H), dtype=np.float32)
    dnext = np.empty((N, H), dtype=np.float32)

    def run() -> None:
        x1 @ W1  # (T N, 4H)
        for t in range(T):
            np.matmul(h[t], Wh, out=hw)
        for t in range(T):
            np.matmul(dA[t], Wh.T, out=dnext)
        dA2 = dA.reshape(T * N, 4 * H)
        x1.T @ dA2  # [dWx; db]
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


def lstm_benchmark_rows(
    N: int = 32, T: int = 50, D: int = 64, H: int = 128, *, repeats: int = 20, seed: int = 0
) -> list[dict[str, Any]]:
    """Rows for ``bench.cpu``'s table: one per candidate, timed round-robin by ``bench.cpu.compare``
    (CPU time of this process; fastest run and median).

    Impl names: 'numpy' (the fast pair), 'numpy GEMMs only', 'numpy teaching loop' (``lstm_forward`` +
    ``lstm_backward``, no bar) and 'torch' (when installed). Keys as in ``bench.cpu.rows_for``. The bar
    for the 'numpy' row is vs_torch <= 1.2 (recorded in 'bar') and vs_gemm <= 1.5 (recorded in
    'gemm_bar').
    """

    p = _problem(N, T, D, H, seed)
    fns = {"numpy": ours_step(p), "numpy GEMMs only": gemm_step(p), "numpy teaching loop": teaching_step(p)}
    torch_fn = torch_step(p)
    if torch_fn is not None:
        fns["torch"] = torch_fn
    timings = compare(fns, repeats)
    case = f"lstm fwd+bwd N={N} T={T} D={D} H={H} f32"
    rows = rows_for(
        case,
        timings,
        torch="torch" if torch_fn is not None else None,
        gemm={"numpy": "numpy GEMMs only"},
        bars={"numpy": 1.2},
    )
    for row in rows:
        row["gemm_bar"] = 1.5 if row["impl"] == "numpy" else None
    return rows
