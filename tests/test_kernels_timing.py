"""Tests for course/kernels/timing.py: round-robin timing, the peaks, the report and the roofline, on
NumPy (the helpers take the array module and a synchronisation, so the CPU exercises the same code)."""

import numpy as np
import pytest

from course.kernels import timing

pytestmark = pytest.mark.a09


def test_fastest_times_every_candidate_after_one_warm_up_call():
    calls = {"a": 0, "b": 0}

    def count(name):
        def fn():
            calls[name] += 1

        return fn

    syncs = []
    seconds = timing.fastest({"a": count("a"), "b": count("b")}, lambda: syncs.append(1), rounds=3, calls=4)
    assert calls == {"a": 1 + 3 * 4, "b": 1 + 3 * 4}
    assert len(syncs) == 1 + 3 * 2  # after the warm-up, then after each candidate's calls in every round
    assert set(seconds) == {"a", "b"} and all(0 <= s < 1 for s in seconds.values())


def test_measure_peaks_reports_positive_gemm_and_copy_rates():
    peaks = timing.measure_peaks(timing.Sizes(peak_gemm=8, copy_mib=1, rounds=1, calls=1), np, lambda: None)
    assert peaks["gflops"] > 0 and peaks["gbs"] > 0


def _result():
    rows = [
        {"case": "matmul 8^3", "impl": "cuBLAS", "ms": 2.0, "flop": 1024.0, "bytes": 768.0, "gflops": 5e-4,
         "gbs": 4e-4},
        {"case": "matmul 8^3", "impl": "tiled", "ms": 4.0, "flop": 1024.0, "bytes": 768.0, "gflops": 2.5e-4,
         "gbs": 2e-4, "of cuBLAS": 0.5, "bar": "of cuBLAS >= 0.25: met"},
        {"case": "launch", "impl": "one op", "ms": 0.01},
    ]  # fmt: skip
    return {"peaks": {"gflops": 1000.0, "gbs": 100.0}, "rows": rows}


def test_format_report_groups_rows_by_case_and_prints_their_ratios_and_bars():
    report = timing.format_report(_result(), "a test device")
    lines = report.splitlines()
    assert lines[0] == "device: a test device" and "1000 GFLOP/s" in lines[1] and "100 GB/s" in lines[1]
    assert lines.count("matmul 8^3") == 1 and lines.count("launch") == 1  # one heading per case
    tiled = next(line for line in lines if "tiled" in line)
    assert " 50.0% of cuBLAS" in tiled and "[of cuBLAS >= 0.25: met]" in tiled


def test_plot_roofline_draws_the_roof_and_one_point_per_row_with_work_and_traffic():
    pytest.importorskip("matplotlib")
    ax = timing.plot_roofline(_result())
    assert len(ax.lines) == 1 + 2  # the roof, then the two matmul rows (the launch row has no flop count)
    assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("arithmetic intensity")
    ax.figure.clf()
