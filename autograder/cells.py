"""Building blocks for writing a source notebook with nbformat (see docs/authoring.md).

A generator script builds the list of cells with these helpers and calls ``write_notebook``; the
committed ``solutions/<assignment>/<assignment>.ipynb`` is the source of truth, the script only a
convenience. The nbgrader metadata is set here so that every assignment uses it the same way:

- ``solution(task, code)``: an "autograded answer" cell (solution, not graded itself, unlocked). The
  code must contain ``### BEGIN SOLUTION`` / ``### END SOLUTION``; the release replaces the region
  with ``raise NotImplementedError()``.
- ``visible_test(task, code, points)``: a locked "autograder tests" cell, grade id ``<task>_visible``.
- ``hidden_test(task, code, points)``: a locked tests cell, grade id ``<task>_hidden``, whose body is
  wrapped in ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` so the release keeps only a comment.
- ``markdown(text)`` and ``code(text)``: ordinary cells (read-only markdown when ``locked=True``).
- ``piece(text)`` and ``fill(text, name=value)``: assemble a cell's source from indented pieces and
  ``<<name>>`` placeholders; ``generator_main(cells, assignment)``: a generator script's command line.

Stored outputs: visible tests are deterministic, so they carry the nbval tag ``nbval-check-output``;
``write_notebook`` executes the notebook once and keeps the outputs of those cells only (no plots, no
timings in git). CI's ``pytest --nbval-lax`` runs every cell and compares the tagged ones exactly.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from autograder import settings

SCHEMA_VERSION = 3
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CHECK_OUTPUT_TAG = "nbval-check-output"


def _src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def piece(text: str) -> str:
    """Dedent one piece of a cell's source, so pieces written at different indentations can be joined."""
    return _src(text) + "\n"


def fill(text: str, **values: str) -> str:
    """``text`` with every ``<<name>>`` replaced (cell code is full of braces, so no f-strings)."""
    for key, value in values.items():
        text = text.replace(f"<<{key}>>", value)
    if "<<" in text and ">>" in text.split("<<", 1)[1]:
        raise ValueError(f"unfilled placeholder in: {text[:200]}")
    return text


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text: str, *, locked_id: str | None = None) -> Any:
    """A markdown cell; with ``locked_id`` it is read-only in the release (nbgrader 'read-only')."""
    cell = nbformat.v4.new_markdown_cell(_src(text))
    if locked_id:
        cell.metadata.update(_meta(locked_id, grade=False, solution=False, locked=True))
    return cell


def code(text: str) -> Any:
    """An ordinary code cell (set-up, data, plots)."""
    return nbformat.v4.new_code_cell(_src(text))


def solution(task: str, text: str) -> Any:
    """The student's answer cell for ``task`` (grade id = task name)."""
    body = _src(text)
    if "### BEGIN SOLUTION" not in body or "### END SOLUTION" not in body:
        raise ValueError(f"solution cell {task!r} needs ### BEGIN SOLUTION / ### END SOLUTION")
    cell = nbformat.v4.new_code_cell(body)
    cell.metadata.update(_meta(task, grade=False, solution=True, locked=False))
    return cell


def visible_test(task: str, text: str, points: float) -> Any:
    """The visible test of ``task``: stored expected values, messages that say what to fix."""
    cell = nbformat.v4.new_code_cell(_src(text))
    cell.metadata.update(_meta(f"{task}_visible", grade=True, solution=False, locked=True, points=points))
    cell.metadata["tags"] = [CHECK_OUTPUT_TAG]
    return cell


def hidden_test(task: str, text: str, points: float) -> Any:
    """The hidden test of ``task``: the body runs only in the grader (stripped from the release)."""
    body = _src(text)
    source = (
        "# Hidden tests: the grader compares your function with the reference on fresh random inputs.\n"
        "### BEGIN HIDDEN TESTS\n" + body + "\n### END HIDDEN TESTS"
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata.update(_meta(f"{task}_hidden", grade=True, solution=False, locked=True, points=points))
    return cell


def literal(value: Any) -> str:
    """Python source for an array or number, exact in float64 (``repr`` round-trips): ``np.array([...])``."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())

    def rows(a: np.ndarray) -> str:
        if a.ndim == 1:
            return "[" + ", ".join(repr(float(v)) if a.dtype.kind == "f" else repr(v.item()) for v in a) + "]"
        return "[" + ", ".join(rows(r) for r in a) + "]"

    return f"np.array({rows(arr)})"


def new_notebook(cells: list[Any]) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"  # stable ids keep the committed file diff-friendly
    return nb


def _coalesce_streams(outputs: list[Any]) -> list[Any]:
    """Merge consecutive stdout (or stderr) chunks: how a kernel splits a stream varies from run to run."""
    merged: list[Any] = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if out.get("output_type") == "stream" and prev is not None and prev.get("output_type") == "stream":
            if prev["name"] == out["name"]:
                prev["text"] = "".join(prev["text"]) + "".join(out["text"])
                continue
        merged.append(out)
    return merged


def store_checked_outputs(nb: Any, cwd: Path, timeout: int = 600) -> Any:
    """Execute ``nb`` (one BLAS thread, as CI does) and keep outputs only on ``nbval-check-output`` cells."""
    from nbclient import NotebookClient

    threads = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    saved = {k: os.environ.get(k) for k in [*threads, "MPLBACKEND"]}
    os.environ.update(threads, MPLBACKEND="Agg")  # the kernel inherits this process's environment
    try:
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=KERNELSPEC["name"],
            record_timing=False,
            resources={"metadata": {"path": str(cwd)}},
        ).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell_outputs = cell.get("outputs", [])
        if cell_outputs:
            cell.outputs = _coalesce_streams(cell_outputs)
        if cell.cell_type == "code" and CHECK_OUTPUT_TAG not in cell.metadata.get("tags", []):
            cell.execution_count, cell.outputs = None, []  # nbval needs the count where outputs are kept
    nb.metadata.pop("widgets", None)
    return nb


def write_notebook(cells: list[Any], path: str | Path, *, execute: bool = True) -> Path:
    """Validate, execute (unless ``execute=False``) and write the notebook, outputs only on checked cells."""
    nb = new_notebook(cells)
    nbformat.validate(nb)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if execute:
        nb = store_checked_outputs(nb, path.parent)
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.validate(nb)
    nbformat.write(nb, str(path))
    return path


def generator_main(cells: Callable[[], list[Any]], assignment: str, argv: list[str] | None = None) -> int:
    """A generator script's command line: write ``cells()`` to ``argv[0]``, or to the source notebook."""
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else settings.SOURCE_DIR / assignment / f"{assignment}.ipynb"
    print(write_notebook(cells(), out))
    return 0
