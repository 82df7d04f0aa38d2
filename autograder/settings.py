"""Where everything lives and how long grading may take: the one place for the pipeline's constants.

nbgrader's view of the same layout is in ``autograder/nbgrader_config.py`` (course root = repository
root, ``solutions/`` the source directory, ``notebooks/`` the release directory). Everything a run
produces goes under the git-ignored ``autograder/work/`` (gradebook, submissions, autograded copies,
student editions, reference) and ``out/`` (grades, feedback, executed solutions).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "solutions"
RELEASE_DIR = ROOT / "notebooks"
WORK_DIR = ROOT / "autograder" / "work"
OUT_DIR = ROOT / "out"
DIST_DIR = ROOT / "dist"
LIBRARY_DIR = ROOT / "course"

COURSE_ID = "dl-ground-up"

# Every assignment of the course, in order. One only takes part once its text source exists, so later
# assignments drop in by adding solutions/<name>/<name>.py (see docs/authoring.md).
ASSIGNMENTS = (
    "a01_linear_models",
    "a02_backprop_modules",
    "a03_mini_tensorflow",
    "a04_training_deep_nets",
    "a05_convnets",
    "a06_recurrent_nets",
    "a07_seq2seq_attention",
    "a08_pointer_networks",
    "a09_gpu_kernels",
    "a10_beyond",
)

# Per-cell limit: a deep-learning cell (a small CNN epoch on the digits, a char-RNN) can take minutes on
# a laptop CPU, so 10 minutes per cell; a whole submission gets 30 minutes of wall-clock time.
CELL_TIMEOUT_S = 600
SUBMISSION_TIMEOUT_S = 1800

# Memory of a submission's processes in the sandbox (autograder/sandbox.py).
SANDBOX_MEMORY_BYTES = 2 << 30

# Stream output kept per cell in autograded notebooks and feedback (nbgrader LimitOutput).
MAX_OUTPUT_LINES = 200
MAX_TRACEBACK_LINES = 40


def assignment_number(assignment: str) -> int:
    """'a05_convnets' -> 5."""
    match = re.fullmatch(r"a(\d\d)_[a-z0-9_]+", assignment)
    if not match:
        raise ValueError(f"assignment names look like a01_linear_models, got {assignment!r}")
    return int(match.group(1))


def available_assignments(source_dir: Path = SOURCE_DIR) -> list[str]:
    """The assignments whose text source exists, in course order."""
    return [a for a in ASSIGNMENTS if (source_dir / a / f"{a}.py").is_file()]
