"""Check my work: run a notebook top to bottom in a fresh kernel and list every exercise's visible tests.

From a terminal, in the notebook's folder::

    python -m course.check a02_backprop_modules.ipynb

or from the notebook's last cell, ``from course.check import check_my_work; check_my_work("a02_....ipynb")``.
Either way the notebook *as saved on disk* is executed cell by cell in a new kernel started in its folder
(what Kernel > Restart and Run All does, except that an error does not stop the run), and a table gives,
for each exercise, its visible test's status with the one sentence that explains it, and its points:

    exercise     task              visible test  points
    Exercise 2a  affine_forward    passed        1 + 1 hidden
    Exercise 2b  affine_backward   failed        2 + 2 hidden
                 dw is wrong at index (0, 1): got 0.5, expected -0.5 (...). Every value has the wrong sign...

The hidden tests run only when the course grades the submission: the table counts their points, nothing
more. The command's exit status is 1 when a visible test or any other cell fails, 0 when all pass.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Set in the kernel of a check run: the notebook's own check cell must not start another run inside it.
CHECKING_ENV = "COURSE_CHECKING"
# Set by the course grader in its sandbox (autograder/judge.py): no check runs while grading.
GRADER_ENV = "COURSE_GRADING"
CELL_TIMEOUT_S = 600

SECTION = re.compile(r"^#{2,3}\s+(\d+)\.")
EXERCISE = re.compile(r"\*\*Exercise\s+(.+?)\.\*\*")
CHECK_CELL = re.compile(r"\bcheck_my_work\s*\(")


@dataclass
class Row:
    """One visible test of the notebook (with the hidden tests that follow it)."""

    exercise: str  # 'Exercise 2a', or 'Section 9' for a test that belongs to no exercise
    task: str  # the test's grade id without '_visible': 'affine_forward'
    status: str  # passed | failed | not written | error | not run
    reason: str  # the first line of the error's message ('' when passed)
    points: float  # of the visible test
    hidden_points: float  # of the hidden tests graded after it


def exercise_labels(nb: Any) -> dict[str, str]:
    """Grade id -> the exercise it belongs to, from the markdown above it ('Exercise 2a', 'Section 9').

    A cell belongs to the last '**Exercise 2a.**' before it, or to the section ('## 9. ...') when that
    section has begun after the last exercise; '' when neither came before.
    """
    labels, current = {}, ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                section, exercise = SECTION.match(line), EXERCISE.search(line)
                if section:
                    current = f"Section {section.group(1)}"
                if exercise:
                    current = f"Exercise {exercise.group(1)}"
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            labels[grade_id] = current
    return labels


def _is_hidden(cell: Any) -> bool:
    """A hidden test cell: in a student's notebook it holds a comment and no code."""
    grade_id = cell.metadata["nbgrader"]["grade_id"]
    code = [line for line in cell.source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return grade_id.endswith("_hidden") or not code


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def _outcome(cell: Any) -> tuple[str, str]:
    """(status, reason) of an executed test cell."""
    if cell.get("execution_count") is None and not cell.get("outputs"):
        return "not run", "the run stopped before this cell (a cell ran too long or the kernel died)"
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        name, message = output.get("ename", "Error"), _first_line(output.get("evalue", ""))
        if name == "AssertionError":
            return "failed", message or "an assert failed"
        if name == "NotImplementedError":
            return "not written", message or "the function still raises NotImplementedError"
        return "error", f"{name}: {message}" if message else name
    return "passed", ""


def results(nb: Any) -> list[Row]:
    """The rows of an executed notebook: one per visible test, hidden tests counted with the test before."""
    labels = exercise_labels(nb)
    rows: list[Row] = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        points = float(meta.get("points", 0))
        grade_id = meta["grade_id"]
        if _is_hidden(cell):
            if rows:
                rows[-1].hidden_points += points
            else:
                task = grade_id.removesuffix("_hidden")
                rows.append(Row(labels.get(grade_id, ""), task, "hidden", "", 0.0, points))
            continue
        status, reason = _outcome(cell)
        rows.append(
            Row(labels.get(grade_id, ""), grade_id.removesuffix("_visible"), status, reason, points, 0.0)
        )
    return rows


def other_errors(nb: Any) -> list[str]:
    """'cell N (answer affine_forward): NameError: ...' for every error outside the test cells."""
    found = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                what = f"answer {meta['grade_id']}" if meta.get("solution") else "not graded"
                message = _first_line(output.get("evalue", ""))
                name = output.get("ename", "Error")
                found.append(f"cell {index + 1} ({what}): {name}: {message}" if message else f"{name}")
    return found


def _points(value: float) -> str:
    return f"{value:g}"


def table(rows: Sequence[Row]) -> str:
    """The rows as a fixed-width table; a reason goes on its own line below its row, never cut."""
    shown = [r for r in rows if r.status != "hidden"]
    w_ex = max([len("exercise"), *(len(r.exercise) for r in rows)])
    w_task = max([len("task"), *(len(r.task) for r in rows)])
    w_status = max(len("visible test"), len("(hidden only)"), *(len(r.status) for r in rows))
    lines = [f"{'exercise':<{w_ex}}  {'task':<{w_task}}  {'visible test':<{w_status}}  points"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        points = _points(r.points) + (f" + {_points(r.hidden_points)} hidden" if r.hidden_points else "")
        status = "(hidden only)" if r.status == "hidden" else r.status
        lines.append(f"{r.exercise:<{w_ex}}  {r.task:<{w_task}}  {status:<{w_status}}  {points}")
        if r.reason:
            lines.append(f"{'':<{w_ex}}  {r.reason}")
    passed = [r for r in shown if r.status == "passed"]
    visible = sum(r.points for r in shown)
    hidden = sum(r.hidden_points for r in rows)
    lines.append("")
    lines.append(
        f"Visible tests: {len(passed)} of {len(shown)} passed ({_points(sum(r.points for r in passed))} of "
        f"{_points(visible)} points). The hidden tests ({_points(hidden)} points) run only when the course "
        "grades your submission."
    )
    return "\n".join(lines)


def run_notebook(path: Path, timeout: int = CELL_TIMEOUT_S) -> Any:
    """``path`` executed in a fresh kernel started in its folder, every cell run even after an error.

    Cells that call ``check_my_work`` are left out of the run (a check must not start a check).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and CHECK_CELL.search(cell.source):
            cell.source = "# (this notebook's check cell: not run inside the check)"
    env = {**os.environ, CHECKING_ENV: "1", "MPLBACKEND": "Agg"}
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=env, stderr=subprocess.DEVNULL)  # the kernel's own log is not the student's
    except DeadKernelError as err:  # the rows of the cells after it say 'not run'
        print(f"The kernel died while running the notebook ({err}); later cells did not run.")
    return nb


def check(path: Path | str, timeout: int = CELL_TIMEOUT_S) -> int:
    """Run the notebook, print its table and the errors of other cells; 1 if anything failed, else 0."""
    path = Path(path).resolve()
    if not path.is_file():
        print(f"No notebook {path}: give the notebook's file name, e.g. a02_backprop_modules.ipynb.")
        return 2
    saved = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(path.stat().st_mtime))
    print(f"Checking {path.name} as saved at {saved}: running every cell in a fresh kernel ...", flush=True)
    start = time.monotonic()
    nb = run_notebook(path, timeout)
    rows, errors = results(nb), other_errors(nb)
    print(f"Done in {time.monotonic() - start:.0f} s.\n")
    print(table(rows) if rows else "This notebook has no graded test cells.")
    if errors:
        print("\nErrors in other cells (a test may fail because of them):")
        for line in errors:
            print(f"  {line}")
    failed = errors or any(r.status not in ("passed", "hidden") for r in rows)
    return 1 if failed else 0


def _skip_reason() -> str:
    import importlib.util

    if os.environ.get(CHECKING_ENV):
        return "inside a check run"
    if os.environ.get(GRADER_ENV):
        return "the course grader is running this notebook"
    if importlib.util.find_spec("course._student_edition") is None:
        return (
            "this is the instructor's full library, not a student edition "
            "(python -m course.check <notebook> checks anyway)"
        )
    return ""


def _find_notebook(notebook: str | None) -> Path | None:
    if notebook:
        return Path(notebook)
    session = os.environ.get("JPY_SESSION_NAME", "")  # set by Jupyter Server for the notebook's kernel
    if session.endswith(".ipynb") and Path(session).is_file():
        return Path(session)
    found = sorted(Path.cwd().glob("*.ipynb"))
    return found[0] if len(found) == 1 else None


def check_my_work(notebook: str | None = None, timeout: int = CELL_TIMEOUT_S) -> None:
    """From a notebook cell: check the saved ``notebook`` (its file name) in a new kernel; print the table.

    Save the notebook first (Ctrl+S): the check runs the file on disk, not what the browser shows. It does
    nothing inside a check run, in the course grader, or on the instructor's full library.
    """
    reason = _skip_reason()
    if reason:
        print(f"check_my_work: skipped ({reason}).")
        return
    path = _find_notebook(notebook)
    if path is None:
        print('check_my_work: name the notebook, e.g. check_my_work("a02_backprop_modules.ipynb").')
        return
    # A separate process: this kernel's event loop must not drive the new kernel.
    proc = subprocess.Popen(
        [sys.executable, "-m", "course.check", str(path), "--timeout", str(timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
    proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("notebook", help="the notebook's file, e.g. a02_backprop_modules.ipynb")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell")
    args = parser.parse_args(argv)
    return check(args.notebook, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
