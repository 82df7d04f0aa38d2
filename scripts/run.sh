#!/usr/bin/env bash
# Set up (a virtual environment in .venv) and run the main job: the instructor pipeline on the bundled
# sample class (build the releases, autograde in the sandbox, print the grade table, write the grades CSV and
# feedback to out/demo/).
# This is the README's first command.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sandbox.sh
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MPLBACKEND=Agg
.venv/bin/python -m autograder demo "$@"
