"""``python -m course.check`` and ``check_my_work``: the notebook run to the end, one row per exercise.

A small notebook with one test of each outcome is run for real (a kernel each), and the a02 release with
half its answers filled in is checked in its student edition, as a student would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder import editions, samples, settings
from course import check

LONG_HINT = "look at the sign of every term of the sum; " * 8  # a reason far wider than a terminal


def _grade(grade_id: str, points: float, source: str):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": points,
        "schema_version": 3,
        "solution": False,
    }
    return cell


def _answer(grade_id: str, source: str):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": grade_id,
        "locked": False,
        "schema_version": 3,
        "solution": True,
    }
    return cell


def small_notebook(with_check_cell: bool = True):
    """Five exercises: passed, failed (a long message), not written, an error, and a hidden-only section."""
    cells = [
        new_code_cell("import numpy as np\nfrom course import grading"),
        new_markdown_cell("## 1. Warm up\n\n**Exercise 1a.** `double(x)`."),
        _answer("double", "def double(x):\n    return 2 * x"),
        _grade("double_visible", 1, "grading.expect_close('double(2)', double(2.0), 4.0)"),
        _grade("double_hidden", 2, "# Hidden tests: the grader compares your function with the reference."),
        new_markdown_cell("**Exercise 1b.** `negate(x)`."),
        _answer("negate", "def negate(x):\n    return x"),
        _grade(
            "negate_visible",
            1,
            f"grading.expect_close('negate(x)', negate(np.ones(3)), -np.ones(3), hint={LONG_HINT!r})",
        ),  # fmt: skip
        new_markdown_cell("**Exercise 2.** `square(x)`."),
        _answer(
            "square",
            "def square(x):\n    # YOUR CODE HERE\n"
            "    raise NotImplementedError('Exercise 2 (square): write your code here')",
        ),  # fmt: skip
        _grade("square_visible", 2, "grading.expect_close('square(3)', square(3.0), 9.0)"),
        new_code_cell("undefined_name + 1"),
        new_markdown_cell("**Exercise 3.** `half(x)`."),
        _answer("half", "def half(x):\n    return x / 2"),
        _grade("half_visible", 1, "assert half(4) == 2\nhalf('four')"),
        new_markdown_cell("## 4. No new code\n\nThe tests below grade your earlier functions."),
        _grade("extra_visible", 1, "grading.expect_equal('double(1)', double(1), 2)"),
    ]
    if with_check_cell:
        cells.append(new_code_cell('from course.check import check_my_work\n\ncheck_my_work("small.ipynb")'))
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    for key in ("COURSE_CHECKING", "COURSE_GRADING"):
        env.pop(key, None)
    return {**env, **extra}


def test_exercise_labels_follow_the_markdown_exercises_and_sections():
    labels = check.exercise_labels(small_notebook())
    assert labels["double"] == labels["double_visible"] == labels["double_hidden"] == "Exercise 1a"
    assert labels["square_visible"] == "Exercise 2"
    assert labels["extra_visible"] == "Section 4"  # a section begun after the last exercise


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    nbformat.write(small_notebook(), folder / "small.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "course.check", "small.ipynb"],
        cwd=folder,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result


def test_check_prints_one_row_per_visible_test_with_its_status_and_points(checked):
    out = checked.stdout
    rows = {line.split()[2]: line for line in out.splitlines() if line.startswith(("Exercise", "Section"))}
    assert "passed" in rows["double"] and "1 + 2 hidden" in rows["double"], out
    assert "failed" in rows["negate"] and "not written" in rows["square"], out
    assert "error" in rows["half"] and "passed" in rows["extra"], out
    assert "Visible tests: 2 of 5 passed (2 of 6 points). The hidden tests (2 points)" in out


def test_each_reason_is_the_first_line_of_the_message_never_cut(checked):
    out = checked.stdout
    negate = [line.strip() for line in out.splitlines() if line.strip().startswith("negate(x) is wrong")]
    assert negate and negate[0].endswith(LONG_HINT.strip()), out  # the whole hint, however long
    assert "Every value has the wrong sign: look for a sign error." in negate[0]
    assert "Exercise 2 (square): write your code here" in out  # the stub's message names the exercise
    assert "TypeError: unsupported operand type(s) for /: 'str' and 'int'" in out
    assert "cell 12 (not graded): NameError: name 'undefined_name' is not defined" in out


def test_check_exits_with_one_when_anything_fails_and_zero_when_all_pass(checked, tmp_path):
    assert checked.returncode == 1, checked.stdout + checked.stderr
    nb = small_notebook(with_check_cell=False)
    nb.cells = [c for c in nb.cells if "negate" not in c.source and "square" not in c.source]
    nb.cells = [c for c in nb.cells if "half" not in c.source and "undefined" not in c.source]
    nbformat.write(nb, tmp_path / "good.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "course.check", str(tmp_path / "good.ipynb")],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Visible tests: 2 of 2 passed" in result.stdout


def test_results_say_which_cells_did_not_run():
    nb = small_notebook(with_check_cell=False)
    nb.cells[3].outputs = [new_output("stream", name="stdout", text="ok: double(2) matches\n")]
    nb.cells[3].execution_count = 1
    rows = check.results(nb)
    assert rows[0].status == "passed" and rows[1].status == "not run" and rows[1].points == 1


def _edition_env(edition: Path) -> dict[str, str]:
    return _env(PYTHONPATH=str(edition), PYTHONSAFEPATH="1")


def test_check_my_work_in_the_notebook_runs_a_check_that_does_not_recurse(tmp_path):
    """The notebook's last cell, run in a student edition, prints the table of a fresh run of the file."""
    from nbclient import NotebookClient

    editions.build_student_edition("a01_linear_models", tmp_path / "edition")
    nb = small_notebook()
    nbformat.write(nb, tmp_path / "small.ipynb")
    last = new_notebook(cells=[nb.cells[-1]], metadata=nb.metadata)
    NotebookClient(last, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute(
        env=_edition_env(tmp_path / "edition")
    )
    out = "".join(o.get("text", "") for o in last.cells[0].outputs)
    assert "Checking small.ipynb as saved at" in out and "Visible tests: 2 of 5 passed" in out, out
    assert out.count("Visible tests:") == 1  # the inner run left its own check cell out


@pytest.mark.parametrize(
    "env, why",
    [
        ({"COURSE_GRADING": "1"}, "the course grader is running this notebook"),
        ({"COURSE_CHECKING": "1"}, "inside a check run"),
        ({}, "this is the instructor's full library"),
    ],
)
def test_check_my_work_does_nothing_in_the_grader_in_a_check_or_on_the_full_library(env, why, tmp_path):
    code = "from course.check import check_my_work; print(check_my_work('small.ipynb'))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(**env), capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0 and f"skipped ({why}" in result.stdout and result.stdout.endswith("None\n")


def test_a_half_done_a02_release_is_checked_in_its_edition_as_a_student_sees_it(tmp_path):
    assignment = "a02_backprop_modules"
    editions.build_student_edition(assignment, tmp_path / "edition")
    release = settings.RELEASE_DIR / assignment / f"{assignment}.ipynb"
    source = settings.SOURCE_DIR / assignment / f"{assignment}.ipynb"
    nbformat.write(samples.sample_class(release, source)["ben_partial"], tmp_path / f"{assignment}.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "course.check", f"{assignment}.ipynb"],
        cwd=tmp_path,
        env=_edition_env(tmp_path / "edition"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("Exercise")]
    assert any("rel_error" in r and "passed" in r for r in rows), result.stdout
    assert any("softmax " in r and "not written" in r for r in rows), result.stdout
    assert "Exercise 6a (softmax): write your code here, in place of this line" in result.stdout
