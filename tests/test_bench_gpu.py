"""Tests for bench/gpu.py on CPU: the whole benchmark runs on tiny NumPy problems with the kernels in
numba's simulator (the timings mean nothing there; what is checked is that every row is produced, every
kernel agrees with its reference and the bars are evaluated), and without a GPU ``main`` says so."""

import numpy as np
import pytest

from bench import gpu as bench
from course.core.backend import gpu_available
from course.kernels.launch import use_simulator_unless_gpu

pytest.importorskip("numba")
use_simulator_unless_gpu()  # before the first kernel launch imports numba.cuda
pytestmark = pytest.mark.a09


def _by_impl(result):
    return {(row["case"].split(" ")[0], row["impl"]): row for row in result["rows"]}


def test_benchmark_produces_every_row_with_correct_kernels_in_the_simulator():
    result = bench.run_benchmarks(bench.SMOKE, np, lambda: None, None)
    assert result["peaks"]["gflops"] > 0 and result["peaks"]["gbs"] > 0
    rows = _by_impl(result)
    expected = {
        ("matmul", "cuBLAS"), ("matmul", "tiled"), ("matmul", "register-blocked"),
        ("lstm", "CuPy lstm_step_forward"), ("lstm", "GEMMs + fused cell kernel"),
        ("lstm", "CuPy lstm_step_backward"), ("lstm", "fused cell kernel + GEMMs"),
        ("lstm", "fused cell kernel alone"),
        ("softmax", "CuPy expression chain"), ("softmax", "shared-memory kernel"),
        ("char", "course + course.layers.lstm"), ("char", "course + FusedLSTM"),
    }  # fmt: skip
    assert expected <= set(rows), f"missing rows: {expected - set(rows)}"
    for row in result["rows"]:
        assert row["ms"] > 0
        if "max_rel_error" in row:  # float32 kernels against the float32 reference
            assert row["max_rel_error"] < 1e-5, (
                f"{row['case']} {row['impl']}: error {row['max_rel_error']:.1e}"
            )
    assert "of cuBLAS >= 0.6" in rows[("matmul", "register-blocked")]["bar"]
    assert "speed-up >= 3" in rows[("lstm", "GEMMs + fused cell kernel")]["bar"]
    assert "flop" not in rows[("lstm", "CuPy lstm_step_forward")]  # a whole step is not a roofline point
    report = bench.format_report(result, "simulator")
    assert "measured peaks" in report and "register-blocked" in report and "fused cell kernel alone" in report


@pytest.mark.slow
@pytest.mark.oracle
def test_benchmark_times_the_pytorch_reference_step():
    pytest.importorskip("torch")
    rows = bench.bench_lm_step(bench.SMOKE, np, lambda: None, "cpu")
    fused = next(row for row in rows if row["impl"] == "course + FusedLSTM")
    assert any(row["impl"] == "PyTorch LSTM" for row in rows)
    assert fused["x PyTorch"] > 0 and fused["bar_key"] in bench.BARS


def test_main_without_a_gpu_exits_with_a_message(capsys):
    if gpu_available():
        pytest.skip("a GPU is present: main would run the benchmark")
    assert bench.main([]) == 1
    assert "no CUDA GPU visible" in capsys.readouterr().err
