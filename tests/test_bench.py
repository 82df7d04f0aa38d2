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


def test_case_result_divides_by_torch_and_gemm_and_format_table_marks_both_bars():
    timings = {name: common.Timing(t, t) for name, t in {"ours": 3.0, "torch": 2.0, "GEMMs": 1.5}.items()}
    result = common.case_result("case", timings, bar_gemm=2.5, bar_torch=1.2)
    ratios = result.ratios()
    assert ratios["ours/torch"] == pytest.approx(1.5) and ratios["ours/GEMMs"] == pytest.approx(2.0)
    assert ratios["GEMMs/torch"] == pytest.approx(0.75)
    assert result.bars_met() == {"GEMMs": True, "torch": False}
    assert common.CaseResult.from_dict(result.to_dict()) == result  # what a worker sends its parent
    table = common.format_table([result])
    assert "GEMMs <= 2.5x yes" in table and "torch <= 1.2x NO" in table and "0.75x" in table


def test_cpu_description_lists_the_vector_flags_and_names_the_missing_ones():
    cpuinfo = "model name\t: Some CPU\nflags\t\t: fpu sse4_2 avx avx2 fma f16c\n"
    text = bench.cpu_description(cpuinfo)
    assert text.startswith("Some CPU; flags: sse4_2 avx avx2 fma f16c")
    assert "lacks: avx512f" in text


def test_worker_env_sets_one_thread_and_only_the_levels_isa_variables():
    base = {"PATH": "/bin", "OPENBLAS_CORETYPE": "Zen", "OMP_NUM_THREADS": "8"}
    default = bench.worker_env("default", base)
    assert "OPENBLAS_CORETYPE" not in default and default["PATH"] == "/bin"
    assert all(default[v] == "1" for v in bench.THREAD_VARIABLES)
    avx2 = bench.worker_env("avx2", base)
    assert avx2["OPENBLAS_CORETYPE"] == "Haswell" and avx2["NPY_DISABLE_CPU_FEATURES"] == "AVX512_ICL X86_V4"


@pytest.mark.parametrize("case", bench.CASES)
def test_case_runs_at_tiny_size_and_returns_a_result(case):
    result = case(tiny=True, repeat=1)
    assert result.ours.min >= 0 and result.gemm.min > 0
    assert result.bar_gemm is not None or result.bar_torch is not None, f"{case.__name__} has no bar"
    common.format_table([result])


@pytest.mark.slow
def test_command_line_runs_both_levels_single_threaded_and_prints_both_tables():
    env = {k: v for k, v in os.environ.items() if k not in bench.THREAD_VARIABLES}
    result = subprocess.run(
        [sys.executable, "-m", "bench.cpu", "--tiny", "--repeat", "1", "--only", "conv_cifar"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    out = result.stdout
    assert "## level default" in out and "## level avx2" in out and "# CPU: " in out
    assert out.count("1 thread(s)") == 2 or "threadpoolctl not installed" in out
    assert out.count("conv N=2 C=3 5x7") == 2
