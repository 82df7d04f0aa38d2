"""Timing GPU code and placing it on a roofline (lecture 000, "GPU"; assignment 09).

Assignment 09 times the student's kernels with these helpers, and ``bench/gpu.py`` (the course's GPU
benchmark, ``python -m bench.gpu``) times the library's:

- ``fastest``: seconds per call of several candidates, timed round-robin (best of a few rounds, each the
  mean of a few calls closed by a device synchronisation, since GPU work is asynchronous);
- ``measure_peaks``: the device's roofs, GFLOP/s of a large float32 GEMM and GB/s of a device-to-device
  copy (bytes read + written);
- ``format_report``: measured rows as a plain-text table;
- ``plot_roofline``: every row at its arithmetic intensity under min(peak FLOP/s, intensity x peak GB/s).

A *row* is a dict with ``case``, ``impl`` and ``ms``; rows of kernels also carry ``flop`` and ``bytes`` (the
work and the necessary traffic of one call), ``gflops`` and ``gbs``, and any of the ratios that
``format_report`` prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Sizes:
    """Sizes of the peak measurements and the timing effort."""

    peak_gemm: int = 8192  # n of the n x n x n GEMM that measures peak FLOP/s
    copy_mib: int = 1024  # size of the copied buffer that measures peak GB/s
    rounds: int = 5  # round-robin rounds; each candidate keeps its best
    calls: int = 10  # calls per round, averaged


def fastest(
    fns: dict[str, Callable[[], Any]], sync: Callable[[], None], rounds: int, calls: int
) -> dict[str, float]:
    """Seconds per call of each function: best over ``rounds`` round-robin rounds of ``calls`` calls each
    (ended by ``sync``, so asynchronous GPU work is counted), after one warm-up call (compilation)."""
    for fn in fns.values():
        fn()
    sync()
    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            sync()
            best[name] = min(best[name], (time.perf_counter() - start) / calls)
    return best


def measure_peaks(sizes: Sizes, xp: ModuleType, sync: Callable[[], None]) -> dict[str, float]:
    """{'gflops': float32 GEMM GFLOP/s, 'gbs': device-to-device copy GB/s (bytes read + written)}."""
    rng = np.random.default_rng(0)
    n = sizes.peak_gemm
    A = xp.asarray(rng.standard_normal((n, n), dtype=np.float32))
    B = xp.asarray(rng.standard_normal((n, n), dtype=np.float32))
    src = xp.ones(sizes.copy_mib * 2**20 // 4, dtype=np.float32)
    dst = xp.empty_like(src)
    t = fastest({"gemm": lambda: A @ B, "copy": lambda: xp.copyto(dst, src)}, sync, sizes.rounds, sizes.calls)
    return {"gflops": 2 * n**3 / t["gemm"] / 1e9, "gbs": 2 * src.nbytes / t["copy"] / 1e9}


def format_report(result: dict[str, Any], device: str) -> str:
    """The rows of ``result = {'peaks': ..., 'rows': [...]}`` as a plain-text table, grouped by case."""
    peaks = result["peaks"]
    lines = [
        f"device: {device}",
        f"measured peaks: {peaks['gflops']:.0f} GFLOP/s (float32 cuBLAS GEMM), "
        f"{peaks['gbs']:.0f} GB/s (device-to-device copy)",
    ]
    case = None
    for row in result["rows"]:
        if row["case"] != case:
            case = row["case"]
            lines.append(f"\n{case}")
        fields = [f"  {row['impl']:<26} {row['ms']:10.3f} ms"]
        for key in ("gflops", "gbs", "of peak FLOP/s", "of peak GB/s", "of cuBLAS", "speed-up", "x PyTorch",
                    "tokens/s", "max_rel_error", "bar"):  # fmt: skip
            if key in row:
                value = row[key]
                if key == "gflops":
                    fields.append(f"{value:9.0f} GFLOP/s")
                elif key == "gbs":
                    fields.append(f"{value:8.1f} GB/s")
                elif key.startswith("of "):
                    fields.append(f"{100 * value:5.1f}% {key}")
                elif key in ("speed-up", "x PyTorch"):
                    fields.append(f"{value:6.2f} {key}")
                elif key == "tokens/s":
                    fields.append(f"{value:10.0f} tokens/s")
                elif key == "max_rel_error":
                    fields.append(f"err {value:.1e}")
                else:
                    fields.append(f"[{value}]")
        lines.append("  ".join(fields))
    return "\n".join(lines)


def plot_roofline(result: dict[str, Any], ax: Any = None) -> Any:
    """The roofline of the measured device with every kernel row placed on it.

    x: arithmetic intensity, flop per byte of necessary traffic; y: achieved GFLOP/s (log-log). The roof is
    min(peak GFLOP/s, intensity x peak GB/s): left of the ridge a kernel can at best be bandwidth-bound,
    right of it compute-bound; the gap under the roof is what a better kernel could still win.
    Returns the matplotlib axes.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415  (only this function needs matplotlib)

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    peaks = result["peaks"]
    points = [row for row in result["rows"] if "flop" in row and "bytes" in row]
    intensities = [row["flop"] / row["bytes"] for row in points]
    lo, hi = min(intensities + [0.1]) / 4, max(intensities + [100.0]) * 4
    x = np.geomspace(lo, hi, 200)
    ax.loglog(x, np.minimum(peaks["gflops"], x * peaks["gbs"]), "k-", label="roof (measured peaks)")
    for row, intensity in zip(points, intensities, strict=True):
        ax.loglog(intensity, row["gflops"], "o", label=f"{row['case']}: {row['impl']}")
    ax.set_title("Roofline: achieved vs attainable float32 throughput")
    ax.set_xlabel("arithmetic intensity (flop / byte)")
    ax.set_ylabel("achieved GFLOP/s")
    ax.legend(fontsize=6, loc="lower right")
    return ax
