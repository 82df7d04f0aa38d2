"""One grading path: the formgrader's Autograde button and the command line give the same scores.

The formgrader's button calls ``NbGraderAPI.autograde(assignment, student)`` in the Jupyter server's
process, with the course's nbgrader configuration; the command line runs ``pipeline.autograde``, which
starts ``nbgrader autograde`` per student. Both must reach the sandbox and the judge (``JudgeInSandbox``),
so a class graded both ways, into two separate course folders, has the same score in every cell.
"""

from __future__ import annotations

import shutil

import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

from autograder import pipeline, samples, settings

A01 = "a01_linear_models"
pytestmark = [pytest.mark.a01, pytest.mark.slow]


def _cells(db, student) -> dict[str, float]:
    with Gradebook(f"sqlite:///{db}") as gb:
        submission = gb.find_submission(A01, student)
        return {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}


@pytest.fixture(scope="module")
def graded_twice(tmp_path_factory):
    base = tmp_path_factory.mktemp("formgrader")
    source = base / "solutions"
    shutil.copytree(settings.SOURCE_DIR / A01, source / A01)
    cli = pipeline.Paths(work=base / "cli", out=base / "out", release=base / "release", source=source)
    button = pipeline.Paths(work=base / "button", out=base / "out2", release=base / "release2", source=source)
    pipeline.generate_release(A01, cli)
    pipeline.generate_release(A01, button)
    everyone = samples.sample_class(cli.release / A01 / f"{A01}.ipynb", source / A01 / f"{A01}.ipynb")
    students = {name: everyone[name] for name in ("ada_complete", "dee_broken")}
    submitted = base / "class"
    samples.write_submissions(submitted, A01, students)

    rows = pipeline.autograde(submitted, cli, release_first=False, cell_timeout=120, log=lambda *_: None)

    # the formgrader's path: the course config, this course folder, the API the button calls
    config = PyFileConfigLoader("nbgrader_config.py", path=str(settings.ROOT)).load_config()
    config.CourseDirectory.root = str(settings.ROOT)
    config.CourseDirectory.source_directory = str(source)
    config.CourseDirectory.submitted_directory = str(button.submitted)
    config.CourseDirectory.autograded_directory = str(button.autograded)
    config.CourseDirectory.feedback_directory = str(button.feedback)
    config.CourseDirectory.db_url = f"sqlite:///{button.db}"
    config.JudgeInSandbox.work = str(button.work)
    config.JudgeInSandbox.source = str(source)
    config.JudgeInSandbox.cell_timeout = 120.0
    shutil.copytree(submitted, button.submitted)
    api = NbGraderAPI(config=config)
    results = {name: api.autograde(A01, name) for name in students}
    return cli, button, rows, results, list(students)


def test_the_formgrader_button_grades_every_student(graded_twice):
    _, _, _, results, students = graded_twice
    for name in students:
        assert results[name]["success"], results[name].get("log", "")[-2000:]


def test_button_and_command_line_give_the_same_score_in_every_cell(graded_twice):
    cli, button, rows, _, students = graded_twice
    for name in students:
        assert _cells(button.db, name) == _cells(cli.db, name)
    by_student = {r.student: r for r in rows}
    assert by_student["ada_complete"].score == by_student["ada_complete"].max_score == 26
    assert by_student["dee_broken"].score == 24


def test_the_button_ran_the_judge_in_the_sandbox(graded_twice):
    _, button, _, _, students = graded_twice
    for name in students:
        status = list((button.work / "judged" / "students" / name / A01).glob("*.json"))
        assert status, f"no judge status for {name}: the button did not go through JudgeInSandbox"


def test_export_reads_the_gradebook_so_it_lists_what_the_button_graded(graded_twice):
    cli, button, rows, _, students = graded_twice
    path = pipeline.export(button, dest=button.out / "grades.csv")  # no rows: the whole gradebook
    lines = path.read_text().splitlines()
    by_student = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert sorted(by_student) == sorted(students)
    expected = {r.student: r.score for r in rows}
    for name in students:
        assert float(by_student[name][3]) == expected[name]
