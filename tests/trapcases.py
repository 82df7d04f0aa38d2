"""A tiny trap assignment and the adversarial submissions that exercise every nbgrader trap the grader closes.

``a99_traps`` has two exercises (linear_predict and sin_features from assignment 01's library, 1 + 1
points each, 4 in all) and no plots, so one submission grades in seconds. ``trap_class`` returns, per
student, the notebook, any extra files beside it and the expected outcome; tests/test_pipeline_grading.py
grades them all in one batch, and docs/grading.md lists what each one measured without the fix.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat

from autograder import source
from autograder.samples import fill, set_answer

TRAP_ASSIGNMENT = "a99_traps"
FULL = 4.0

# The trap assignment's text source. Its solutions are written inline (it grades the grader, not a
# library region), so it is read with jupytext directly instead of being built by autograder.source.
TRAP_SOURCE = '''\
# %% [markdown]
# # Trap assignment (tests of the grader only)

# %%
import numpy as np

from course import grading

# %% nbgrader={"grade": false, "grade_id": "linear_predict", "locked": false, "schema_version": 3, "solution": true}
def linear_predict(X, w):
    """y_hat = X w."""
    ### BEGIN SOLUTION
    return X @ w
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "linear_predict_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
y_hat = linear_predict(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0]))
grading.expect_close("linear_predict(X, w)", y_hat, np.array([-1.0, -1.0]))

# %% nbgrader={"grade": true, "grade_id": "linear_predict_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import core

make = lambda rng: {"X": rng.standard_normal((5, 3)), "w": rng.standard_normal(3)}
core.check_function(linear_predict, "models.linear.linear_predict", make)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "sin_features", "locked": false, "schema_version": 3, "solution": true}
def sin_features(x):
    """phi(x) = [1, x, sin(3x)]."""
    ### BEGIN SOLUTION
    return np.stack([np.ones_like(x), x, np.sin(3 * x)], axis=1)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "sin_features_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
X = sin_features(np.array([0.0, 1.0]))
grading.expect_close("sin_features(x)", X, np.array([[1.0, 0.0, 0.0], [1.0, 1.0, np.sin(3.0)]]))

# %% nbgrader={"grade": true, "grade_id": "sin_features_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import core

make = lambda rng: {"x": rng.uniform(-2, 2, 6)}
core.check_function(sin_features, "models.linear.sin_features", make)
### END HIDDEN TESTS
'''


def write_trap_source(source_dir: Path) -> Path:
    path = Path(source_dir) / TRAP_ASSIGNMENT / f"{TRAP_ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = source.normalise(jupytext.reads(TRAP_SOURCE, fmt=source.TEXT_FORMAT))
    nbformat.write(nb, str(path))
    return path


@dataclass
class Case:
    notebook: object | None  # None: ``raw`` is written instead
    expected_score: float
    expected_status: str = "graded"
    expected_cells: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # extra files beside the notebook
    raw: str | None = None
    why: str = ""


WRONG_SIN = "def sin_features(x):\n    return np.zeros((len(x), 3))\n"
LOOP_SIN = "def sin_features(x):\n    while True:\n        pass\n"
WARN_PREDICT = (
    "import warnings\n\ndef linear_predict(X, w):\n"
    '    warnings.warn("this API is deprecated", DeprecationWarning)\n    return X @ w\n'
)
FAKE_GRADING = (
    "def expect_close(*args, **kwargs):\n    pass\n\n\ndef check_function(*args, **kwargs):\n    pass\n"
)
CELLS = ("linear_predict_visible", "linear_predict_hidden", "sin_features_visible", "sin_features_hidden")


def _cells(*scores: float) -> dict[str, float]:
    return dict(zip(CELLS, scores, strict=True))


def _cells_with(nb, grade_ids: set[str]) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") in grade_ids]


def trap_class(release_nb, source_nb) -> dict[str, Case]:
    """student id -> Case for the trap assignment (scores out of 4).

    Traps are combined so that the batch stays short, and each combination is readable cell by cell:
    - t_correct_but_hostile: right answers, yet a DeprecationWarning on stderr, a numpy.py beside the
      notebook and a copy-pasted test cell; each trap unfixed would cost points (4 expected).
    - t_hiding_mistakes: a right linear_predict whose test cells were deleted (put back: 2 points),
      a wrong sin_features whose test cells are tagged skip-execution, and a fake course/grading.py
      beside the notebook that passes everything (both must not help: 0 points for sin_features).
    - t_infinite_loop: sin_features never returns (the per-cell timeout stops it; 2 points).
    - t_invalid_json: the file cut in half (unreadable, 0).
    - t_complete: the control, all answers right (4).
    """
    ids = ["linear_predict", "sin_features"]
    complete = fill(release_nb, source_nb, ids)
    cases = {"t_complete": Case(complete, FULL, expected_cells=_cells(1, 1, 1, 1), why="control")}

    nb = copy.deepcopy(complete)
    set_answer(nb, "linear_predict", WARN_PREDICT)
    i = _cells_with(nb, {"linear_predict_visible"})[0]
    pasted = copy.deepcopy(nb.cells[i])
    pasted["id"] = "pasted-copy"  # Jupyter gives a pasted cell a new id but keeps its nbgrader metadata
    nb.cells.insert(i + 1, pasted)
    cases["t_correct_but_hostile"] = Case(
        nb,
        FULL,
        expected_cells=_cells(1, 1, 1, 1),
        files={"numpy.py": 'raise ImportError("shadowed numpy")\n'},
        why="a warning on stderr, a numpy.py beside the notebook and a duplicated test cell cost nothing",
    )

    nb = copy.deepcopy(complete)
    for i in reversed(_cells_with(nb, {"linear_predict_visible", "linear_predict_hidden"})):
        del nb.cells[i]
    set_answer(nb, "sin_features", WRONG_SIN)
    for i in _cells_with(nb, {"sin_features_visible", "sin_features_hidden"}):
        nb.cells[i].metadata["tags"] = ["skip-execution"]
    cases["t_hiding_mistakes"] = Case(
        nb,
        2.0,
        expected_cells=_cells(1, 1, 0, 0),
        files={"course/__init__.py": "", "course/grading.py": FAKE_GRADING},
        why="deleted test cells come back and run; skip tags and a fake course package hide no mistake",
    )

    nb = copy.deepcopy(complete)
    set_answer(nb, "sin_features", LOOP_SIN)
    cases["t_infinite_loop"] = Case(nb, 2.0, expected_cells=_cells(1, 1, 0, 0), why="per-cell timeout")

    text = json.dumps(json.loads(json.dumps(complete)), indent=1)
    cases["t_invalid_json"] = Case(
        None,
        0.0,
        "unreadable",
        expected_cells=_cells(0, 0, 0, 0),
        raw=text[: len(text) // 2],
        why="truncated file",
    )
    return cases


def write_trap_class(submitted_root: Path, cases: dict[str, Case]) -> None:
    import nbformat

    for student, case in cases.items():
        folder = Path(submitted_root) / student / TRAP_ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{TRAP_ASSIGNMENT}.ipynb"
        if case.notebook is None:
            path.write_text(case.raw or "")
        else:
            nbformat.write(case.notebook, path)
        for name, text in case.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
