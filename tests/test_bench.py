"""The benchmark harness runs: every case at a tiny size, the timer and the table (no timing asserts)."""

import os
import subprocess
import sys

import pytest

from bench import common
from bench import cpu as bench


def test_time_it_reports_a_fastest_run_no_slower_than_the_median():
    timing = common.time_it(lambda: sum(range(1000)), repeat=5, warmup=1)
    assert 0 <= timing.min <= timing.median


def test_compare_runs_every_function_warmup_plus_repeat_times():
    calls = {"a": 0, "b": 0}

    def count(name):
        def fn():
            calls[name] += 1

        return fn

    timings = common.compare({"a": count("a"), "b": count("b")}, repeat=4, warmup=2)
    assert set(timings) == {"a", "b"} and calls == {"a": 6, "b": 6}
    with pytest.raises(ValueError, match="repeat must be >= 1"):
        common.compare({"a": count("a")}, repeat=0)


def test_rows_for_divides_by_torch_and_gemm_and_format_table_marks_the_bar():
    timings = {
        name: common.Timing(t, t) for name, t in {"ours": 3.0, "torch": 2.0, "GEMMs only": 1.5}.items()
    }
    rows = common.rows_for("case", timings, gemm={"ours": "GEMMs only"}, bars={"ours": 1.2})
    ours = rows[0]
    assert ours["vs_torch"] == pytest.approx(1.5) and ours["vs_gemm"] == pytest.approx(2.0)
    table = common.format_table(rows)
    assert "1.50x" in table and "<= 1.2x" in table and "NO" in table


@pytest.mark.parametrize(
    "case", [bench.mlp_step_case, bench.conv_mnist_case, bench.conv_cifar_case, bench.lstm_case]
)
def test_case_runs_at_tiny_size_and_returns_rows(case):
    rows = case(tiny=True, repeat=1)
    assert rows, f"{case.__name__} returned no rows"
    for row in rows:
        assert {"case", "impl", "ms", "vs_torch", "vs_gemm", "bar"} <= set(row)
        assert row["ms"] >= 0
    assert any(row["bar"] is not None for row in rows)  # the row that carries the case's bar
    common.format_table(rows)


@pytest.mark.slow
def test_command_line_reexecs_single_threaded_and_prints_the_table():
    env = {k: v for k, v in os.environ.items() if k not in bench.THREAD_VARIABLES}
    result = subprocess.run(
        [sys.executable, "-m", "bench.cpu", "--tiny", "--repeat", "1", "--only", "conv_cifar"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert "OPENBLAS_NUM_THREADS=1," in result.stdout and "numpy im2col" in result.stdout
