"""The grader end to end: assignment 01's sample class and the trap submissions, graded once.

The module-scoped batch holds, for a01, the complete / partial / blank / broken sample students and
one who only calls the library, and for the tiny trap assignment a99_traps the nbgrader traps of
tests/trapcases.py (several per student, each visible in the per-cell scores). Each notebook runs in the
bubblewrap sandbox and the judge decides every point; two judges run in parallel. Every test reads the
batch's rows. The traps run with a 6 s per-cell limit, so the infinite loop costs about 6 s.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import trapcases

from autograder import pipeline, samples, sandbox, settings

pytestmark = pytest.mark.skipif(sandbox.unavailable_reason() is not None, reason="no bubblewrap sandbox")

A01 = "a01_linear_models"
TRAP = trapcases.TRAP_ASSIGNMENT
CELL_TIMEOUT = 60  # a01 (its first cell imports matplotlib, slow on a busy machine)
TRAP_CELL_TIMEOUT = 6


@dataclass
class Batch:
    paths: pipeline.Paths
    submitted: Path
    rows: dict[tuple[str, str], pipeline.GradeRow]
    cases: dict[str, trapcases.Case]
    source_a01: object
    hashes_before: dict[str, str]
    killed: pipeline.GradeRow
    regraded: pipeline.GradeRow
    feedback: dict[str, Path]
    csv_path: Path


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def _course_only(source_nb, release_nb):
    """Every answer just calls the library's function of the same name (the student edition's stub)."""
    nb = samples.fill(release_nb, source_nb, [])
    for task in samples.answer_ids(source_nb):
        samples.set_answer(
            nb,
            task,
            f"import course.models.linear\n\ndef {task}(*args, **kwargs):\n"
            f"    return course.models.linear.{task}(*args, **kwargs)\n",
        )
    return nb


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    base = tmp_path_factory.mktemp("grading")
    source = base / "solutions"
    shutil.copytree(settings.SOURCE_DIR / A01, source / A01)
    trapcases.write_trap_source(source)
    paths = pipeline.Paths(
        work=base / "work", out=base / "out", release=base / "release", dist=base / "dist", source=source
    )
    release_a01 = nbformat.read(pipeline.generate_release(A01, paths), as_version=4)
    release_trap = nbformat.read(pipeline.generate_release(TRAP, paths), as_version=4)
    source_a01 = nbformat.read(source / A01 / f"{A01}.ipynb", as_version=4)

    submitted = base / "submitted"
    a01_class = samples.sample_class(paths.release / A01 / f"{A01}.ipynb", source / A01 / f"{A01}.ipynb")
    a01_class["eve_course_only"] = _course_only(source_a01, release_a01)
    samples.write_submissions(submitted, A01, a01_class)
    cases = trapcases.trap_class(release_trap, nbformat.read(source / TRAP / f"{TRAP}.ipynb", as_version=4))
    trapcases.write_trap_class(submitted, cases)
    before = _hashes(submitted)

    rows = [
        row
        for assignment, cell_timeout in ((A01, CELL_TIMEOUT), (TRAP, TRAP_CELL_TIMEOUT))
        for row in pipeline.autograde(
            submitted,
            paths,
            assignments=[assignment],
            cell_timeout=cell_timeout,
            submission_timeout=300,
            release_first=False,
            workers=2,
            log=lambda *_: None,
        )
    ]
    # A run killed half-way (limit shorter than a kernel start), then the same student graded again. Its
    # notebook differs from t_complete's by a 4 s sleep before the tests (so the 2 s limit always stops it),
    # hence the judge's cache (keyed by content) has no entry for it.
    late = submitted.parent / "late" / "t_killed" / TRAP
    late.mkdir(parents=True)
    nb = nbformat.read(submitted / "t_complete" / TRAP / f"{TRAP}.ipynb", as_version=4)
    nb.cells.insert(
        2, nbformat.v4.new_code_cell("import time\n\ntime.sleep(4)  # past the 2 s limit, within 6 s")
    )
    nbformat.write(nb, late / f"{TRAP}.ipynb")
    killed = pipeline.grade_student(
        TRAP,
        "t_killed",
        late,
        paths,
        cell_timeout=TRAP_CELL_TIMEOUT,
        submission_timeout=2,
    )
    regraded = pipeline.grade_student(
        TRAP,
        "t_killed",
        late,
        paths,
        cell_timeout=TRAP_CELL_TIMEOUT,
        submission_timeout=300,
    )
    by_key = {(r.assignment, r.student): r for r in rows}
    shown = [by_key[(A01, "dee_broken")], by_key[(TRAP, "t_invalid_json")]]
    made = pipeline.feedback(paths, shown)
    csv_path = pipeline.export(paths, rows)
    return Batch(
        paths,
        submitted,
        by_key,
        cases,
        source_a01,
        before,
        killed,
        regraded,
        {p.stem: p for p in made},
        csv_path,
    )


def _points(nb, tasks) -> float:
    total = 0.0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta["grade_id"].rsplit("_", 1)[0] in tasks:
            total += float(meta["points"])
    return total


def test_every_submission_of_the_batch_has_a_row(batch):
    submissions = {(a.name, s.name) for s in batch.submitted.iterdir() for a in s.iterdir()}
    assert submissions == set(batch.rows)


def test_solution_notebook_gets_full_marks_on_every_cell(batch):
    row = batch.rows[(A01, "ada_complete")]
    assert row.status == "graded" and row.max_score == _points(
        batch.source_a01, samples.answer_ids(batch.source_a01)
    )
    assert row.score == row.max_score, row.cells


def test_untouched_release_scores_zero_on_every_graded_cell(batch):
    row = batch.rows[(A01, "cyd_blank")]
    assert row.status == "graded" and row.cells and all(v == 0 for v in row.cells.values()), row.cells


def test_partial_submission_gets_exactly_the_points_of_its_answers(batch):
    ids = samples.answer_ids(batch.source_a01)
    done = ids[: len(ids) // 2]
    row = batch.rows[(A01, "ben_partial")]
    assert row.score == _points(batch.source_a01, done) > 0
    for cell, score in row.cells.items():
        assert (score > 0) == (cell.rsplit("_", 1)[0] in done), (cell, score)


def test_syntax_error_in_one_answer_loses_only_that_exercise(batch):
    row = batch.rows[(A01, "dee_broken")]
    first = samples.answer_ids(batch.source_a01)[0]
    assert row.score == row.max_score - _points(batch.source_a01, [first]), row.cells


def test_answers_that_call_the_student_edition_score_zero(batch):
    row = batch.rows[(A01, "eve_course_only")]
    assert row.status == "graded" and row.score == 0, row.cells


TRAP_STUDENTS = [
    "t_complete",
    "t_correct_but_hostile",
    "t_hiding_mistakes",
    "t_infinite_loop",
    "t_invalid_json",
]


@pytest.mark.parametrize("student", TRAP_STUDENTS)
def test_trap_submission_gets_its_correct_grade_cell_by_cell(batch, student):
    case, row = batch.cases[student], batch.rows[(TRAP, student)]
    assert (row.status, row.score) == (case.expected_status, case.expected_score), f"{case.why}: {row}"
    assert row.cells == case.expected_cells, case.why
    assert row.max_score == trapcases.FULL
    assert "manual" not in row.note, row.note  # every cell graded automatically, deleted ones included


def test_every_trap_case_is_parametrised(batch):
    assert sorted(batch.cases) == sorted(TRAP_STUDENTS)


def test_duplicated_cell_is_reported(batch):
    assert (
        "duplicate cells ignored: linear_predict_visible" in batch.rows[(TRAP, "t_correct_but_hostile")].note
    )


def test_submitted_files_are_never_modified(batch):
    assert _hashes(batch.submitted) == batch.hashes_before


def test_killed_run_scores_zero(batch):
    assert batch.killed.status == "timeout" and batch.killed.score == 0


def test_the_run_after_a_killed_one_regrades_the_student(batch):
    assert batch.regraded.status == "graded" and batch.regraded.score == trapcases.FULL


def test_feedback_shows_neither_hidden_test_code_nor_tracebacks(batch):
    html = batch.feedback["dee_broken"].read_text()
    assert "hidden tests: their code is not shown" in html
    for secret in (
        "BEGIN HIDDEN TESTS",
        "check_function",
        "def _inputs",
        "most recent call last",  # (the word "Traceback" alone appears in the page's CSS)
        "Cell In[",
    ):
        assert secret not in html, secret
    assert "SyntaxError" in html  # the student still learns what went wrong
    note = batch.feedback["t_invalid_json"].read_text()
    assert "could not be graded" in note and "not a readable notebook" in note


def test_grades_csv_has_one_line_per_submission_and_cell_points_per_assignment(batch):
    with open(batch.csv_path) as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == len(batch.rows)
    bad = next(r for r in lines if r["student"] == "t_invalid_json")
    assert (
        bad["status"] == "unreadable"
        and float(bad["score"]) == 0.0
        and "not a readable notebook" in bad["note"]
    )
    with open(batch.csv_path.with_name(f"grades_{A01}.csv")) as f:
        a01 = list(csv.DictReader(f))
    ada = next(r for r in a01 if r["student"] == "ada_complete")
    assert float(ada["score"]) == float(ada["max_score"]) and float(ada["squared_loss_hidden"]) == 2.0
    assert len(a01) == sum(1 for key in batch.rows if key[0] == A01)
