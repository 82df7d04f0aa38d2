"""The bundled sample class, generated deterministically from the source and release notebooks at run time.

Nothing is stored: a submission is the release notebook with some answer cells filled in from the
source notebook's solution (its ``### BEGIN/END SOLUTION`` marker lines removed), exactly what a
student who solved those exercises would hand in. Per assignment the class has four students:

- ``ada_complete``: every answer filled in (full marks);
- ``ben_partial``: the first half of the answers filled in, the rest left as released;
- ``cyd_blank``: the release, untouched (zero);
- ``dee_broken``: complete, but the first answer cell has a syntax error (loses that exercise).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def answer_ids(nb) -> list[str]:
    """Grade ids of the answer (solution) cells, in notebook order."""
    return [
        c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
    ]


def solved_sources(source_nb) -> dict[str, str]:
    """grade id -> the answer cell as a student who solved it would write it (solution markers removed)."""
    out = {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = [ln for ln in cell.source.splitlines() if ln.strip() not in SOLUTION_MARKERS]
            out[meta["grade_id"]] = "\n".join(lines)
    return out


def fill(release_nb, source_nb, ids: list[str]):
    """A copy of the release with the answer cells ``ids`` filled in from the source's solutions."""
    nb = copy.deepcopy(release_nb)
    solved = solved_sources(source_nb)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in ids:
            cell.source = solved[grade_id]
    return nb


def set_answer(nb, grade_id: str, source: str) -> None:
    """Replace the source of the answer cell ``grade_id`` in place."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return
    raise KeyError(grade_id)


def sample_class(release_path: Path, source_path: Path) -> dict[str, object]:
    """student id -> notebook, for the four students described in the module docstring."""
    release_nb = nbformat.read(release_path, as_version=4)
    source_nb = nbformat.read(source_path, as_version=4)
    ids = answer_ids(source_nb)
    broken = fill(release_nb, source_nb, ids)
    set_answer(broken, ids[0], "def this is not python(:\n" + solved_sources(source_nb)[ids[0]])
    return {
        "ada_complete": fill(release_nb, source_nb, ids),
        "ben_partial": fill(release_nb, source_nb, ids[: len(ids) // 2]),
        "cyd_blank": copy.deepcopy(release_nb),
        "dee_broken": broken,
    }


def write_submissions(submitted_root: Path, assignment: str, notebooks: dict[str, object]) -> list[Path]:
    """Write notebooks in nbgrader's layout: ``submitted_root/<student>/<assignment>/<assignment>.ipynb``."""
    written = []
    for student, nb in notebooks.items():
        path = Path(submitted_root) / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        written.append(path)
    return written
