"""What every benchmark shares: timing round-robin on the process clock, rows of ratios, the table.

``bench.cpu`` and ``bench.lstm`` both build on it (neither imports the other's internals). The clock and
the round-robin are explained in ``bench/cpu.py``'s docstring.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Seconds of the fastest and the median of several runs."""

    min: float
    median: float


def time_it(fn: Callable[[], Any], repeat: int = 20, warmup: int = 2) -> Timing:
    """Run ``fn`` ``warmup`` times untimed, then ``repeat`` times timed; return the fastest and the median."""
    return compare({"fn": fn}, repeat, warmup)["fn"]


def compare(fns: dict[str, Callable[[], Any]], repeat: int = 20, warmup: int = 2) -> dict[str, Timing]:
    """Time several functions round-robin (one run of each in turn, ``repeat`` rounds); name -> Timing."""
    if repeat < 1:
        raise ValueError(f"compare: repeat must be >= 1, got {repeat}")
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.process_time()
            fn()
            runs[name].append(time.process_time() - start)
    return {name: Timing(min(t), statistics.median(t)) for name, t in runs.items()}


def rows_for(
    case: str,
    timings: dict[str, Timing],
    *,
    torch: str | None = "torch",
    gemm: dict[str, str] | None = None,
    bars: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Table rows for one case from ``compare``'s timings.

    - torch: the name of the PyTorch timing (vs_torch is relative to it), or None when torch is absent.
    - gemm: impl name -> name of its GEMMs-only timing (for vs_gemm).
    - bars: impl name -> the largest acceptable vs_torch.
    """
    gemm, bars = gemm or {}, bars or {}
    t_torch = timings[torch].min if torch in timings else None
    rows = []
    for name, t in timings.items():
        g = timings.get(gemm.get(name, ""))
        rows.append(
            {
                "case": case,
                "impl": name,
                "ms": t.min * 1e3,
                "median_ms": t.median * 1e3,
                "vs_torch": t.min / t_torch if t_torch else None,
                "vs_gemm": t.min / g.min if g else None,
                "bar": bars.get(name),
            }
        )
    return rows


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of rows (see the module docstring for the keys); 'ok' compares vs_torch to bar."""

    def num(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    header = ("case", "impl", "ms", "median ms", "ours/torch", "ours/GEMM", "bar", "ok")
    body = []
    for r in rows:
        bar, vs = r.get("bar"), r.get("vs_torch")
        ok = "" if bar is None or vs is None else ("yes" if vs <= bar else "NO")
        body.append(
            (
                r["case"],
                r["impl"],
                num(r["ms"], ".2f"),
                num(r.get("median_ms"), ".2f"),
                num(vs, ".2f") + ("x" if vs is not None else ""),
                num(r.get("vs_gemm"), ".2f") + ("x" if r.get("vs_gemm") is not None else ""),
                "" if bar is None else f"<= {bar:g}x",
                ok,
            )
        )
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in body]
    return "\n".join(lines)


def _torch() -> Any:
    """torch on one thread, or None when it is not installed (the oracle extra)."""
    try:
        import torch  # noqa: PLC0415  (optional dependency)
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch
