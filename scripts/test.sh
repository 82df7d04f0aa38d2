#!/usr/bin/env bash
# Set up (a virtual environment in .venv with the dev and oracle extras) and run the whole test suite.
# This is the README's test command and what CI (.ci/run) runs. With --quick: everything but the slow
# learning runs and the grading pipeline: sandbox, judge, red team (what CI repeats at the AVX2 level);
# other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sandbox.sh
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,oracle]'
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1
select=()
if [ "${1:-}" = "--quick" ]; then
  shift
  select=(-m "not slow" --ignore=tests/test_pipeline_grading.py --ignore=tests/test_redteam.py
    --ignore=tests/test_parallel_grading.py --ignore=tests/test_formgrader_path.py)
fi
# The library, build and grader tests, and every solution notebook run top to bottom under nbval
# (lax mode: only cells tagged nbval-check-output are compared with their stored outputs).
.venv/bin/python -m pytest -n 2 --dist loadfile -q \
  --nbval-lax --nbval-sanitize-with nbval_sanitize.cfg --nbval-cell-timeout 300 \
  "${select[@]}" tests solutions "$@"
