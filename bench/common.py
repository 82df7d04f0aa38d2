"""What every benchmark shares: timing round-robin on the process clock, one result per case, the table.

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


@dataclass(frozen=True)
class CaseResult:
    """One benchmark case: our fast path, the very matrix products it performs ("GEMMs"), and PyTorch.

    ``bar_gemm`` and ``bar_torch`` are the largest acceptable ours/GEMMs and ours/torch (None: no bar).
    Ratios are of the fastest runs, the least disturbed by other jobs (``compare``).
    """

    case: str
    ours: Timing
    gemm: Timing
    torch: Timing | None
    bar_gemm: float | None = None
    bar_torch: float | None = None

    def ratios(self) -> dict[str, float | None]:
        t = self.torch.min if self.torch else None
        return {
            "ours/torch": self.ours.min / t if t else None,
            "ours/GEMMs": self.ours.min / self.gemm.min,
            "GEMMs/torch": self.gemm.min / t if t else None,
        }

    def bars_met(self) -> dict[str, bool]:
        """Bar name ('GEMMs', 'torch') -> met, for the bars this case has (and torch timed)."""
        r = self.ratios()
        met = {}
        if self.bar_gemm is not None:
            met["GEMMs"] = r["ours/GEMMs"] <= self.bar_gemm
        if self.bar_torch is not None and r["ours/torch"] is not None:
            met["torch"] = r["ours/torch"] <= self.bar_torch
        return met

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "ours": [self.ours.min, self.ours.median],
            "gemm": [self.gemm.min, self.gemm.median],
            "torch": None if self.torch is None else [self.torch.min, self.torch.median],
            "bar_gemm": self.bar_gemm,
            "bar_torch": self.bar_torch,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CaseResult:
        return cls(
            d["case"],
            Timing(*d["ours"]),
            Timing(*d["gemm"]),
            None if d["torch"] is None else Timing(*d["torch"]),
            d["bar_gemm"],
            d["bar_torch"],
        )


def case_result(
    case: str,
    timings: dict[str, Timing],
    *,
    ours: str = "ours",
    gemm: str = "GEMMs",
    torch: str = "torch",
    bar_gemm: float | None = None,
    bar_torch: float | None = None,
) -> CaseResult:
    """A ``CaseResult`` from ``compare``'s timings, picked by name (torch may be absent)."""
    return CaseResult(case, timings[ours], timings[gemm], timings.get(torch), bar_gemm, bar_torch)


def format_table(results: Sequence[CaseResult]) -> str:
    """A plain-text table: case | ours/torch | ours/GEMMs | GEMMs/torch | bar | ours ms (fastest run)."""

    def ratio(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}x"

    header = ("case", "ours/torch", "ours/GEMMs", "GEMMs/torch", "bar", "ours ms")
    body = []
    for res in results:
        r, met = res.ratios(), res.bars_met()
        bars = []
        if res.bar_gemm is not None:
            bars.append(f"GEMMs <= {res.bar_gemm:g}x {'yes' if met['GEMMs'] else 'NO'}")
        if res.bar_torch is not None:
            bars.append(
                f"torch <= {res.bar_torch:g}x " + {True: "yes", False: "NO"}.get(met.get("torch"), "-")
            )
        body.append(
            (
                res.case,
                ratio(r["ours/torch"]),
                ratio(r["ours/GEMMs"]),
                ratio(r["GEMMs/torch"]),
                ", ".join(bars) or "-",
                f"{res.ours.min * 1e3:.2f}",
            )
        )
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in body]
    return "\n".join(lines)


def _torch() -> Any:
    """torch on one thread, or None when it is not installed (the oracle extra)."""
    try:
        import torch  # noqa: PLC0415  (optional dependency)
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch
