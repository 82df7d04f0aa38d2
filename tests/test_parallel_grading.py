"""Parallel grading (pipeline.autograde with workers or a Dask scheduler) gives the sequential scores.

Two students of assignment 01's sample class (complete and half done) are graded three times, each in
its own course folder: one worker (nbgrader judges each notebook itself), two local worker processes,
and a Dask LocalCluster of two worker processes. The parallel modes must judge every notebook before
nbgrader runs (the cache is full when the first student is graded), and a second run must find every
notebook in the cache and give the same scores.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder import judging, pipeline, samples, sandbox, settings

distributed = pytest.importorskip("distributed")

pytestmark = [
    pytest.mark.a01,
    pytest.mark.skipif(sandbox.unavailable_reason() is not None, reason="needs the bubblewrap sandbox"),
]

A01 = "a01_linear_models"
STUDENTS = ("ada_complete", "ben_partial")
CELL_TIMEOUT = 60  # a01's first cell imports matplotlib, slow on a busy machine


@dataclass
class Run:
    paths: pipeline.Paths
    rows: dict[str, pipeline.GradeRow]
    judged: list[int] = field(default_factory=list)  # what each prejudge call returned
    cached_before_nbgrader: int | None = None  # cache files when the first student went to nbgrader
    cache_before_rerun: dict[str, int] = field(default_factory=dict)


def _cache(paths: pipeline.Paths) -> dict[str, int]:
    """Judged-notebook cache file -> its modification time (ns)."""
    return {p.name: p.stat().st_mtime_ns for p in (paths.work / "judged").glob("*.json")}


def _grade(submitted: Path, paths: pipeline.Paths, **parallel) -> Run:
    run = Run(paths, {})
    prejudge, grade_student = judging.prejudge, pipeline.grade_student

    def counting_prejudge(*args, **kwargs):
        judged = prejudge(*args, **kwargs)
        run.judged.append(judged)
        return judged

    def watching_grade_student(*args, **kwargs):
        if run.cached_before_nbgrader is None:
            run.cached_before_nbgrader = len(_cache(paths))
        return grade_student(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(judging, "prejudge", counting_prejudge)
        mp.setattr(pipeline, "grade_student", watching_grade_student)
        rows = pipeline.autograde(
            submitted, paths, cell_timeout=CELL_TIMEOUT, log=lambda line: None, **parallel
        )
    run.rows = {r.student: r for r in rows}
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("parallel")
    source = base / "solutions"
    shutil.copytree(settings.SOURCE_DIR / A01, source / A01)

    def paths_for(mode: str) -> pipeline.Paths:
        root = base / mode
        return pipeline.Paths(
            work=root / "work", out=root / "out", release=root / "release", dist=root / "dist", source=source
        )

    first = paths_for("one_worker")
    release_nb = pipeline.generate_release(A01, first)
    notebooks = samples.sample_class(release_nb, source / A01 / f"{A01}.ipynb")
    submitted = base / "submitted"
    samples.write_submissions(submitted, A01, {s: notebooks[s] for s in STUDENTS})

    out = {
        "one_worker": _grade(submitted, first, workers=1),
        "two_workers": _grade(submitted, paths_for("two_workers"), workers=2),
    }
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        out["dask"] = _grade(submitted, paths_for("dask"), scheduler=cluster.scheduler_address)
    cache_before = _cache(out["two_workers"].paths)
    out["two_workers_again"] = _grade(submitted, out["two_workers"].paths, workers=2)
    out["two_workers_again"].cache_before_rerun = cache_before
    return out


def test_every_mode_grades_the_complete_student_fully_and_the_partial_one_less(runs):
    for mode, run in runs.items():
        ada, ben = run.rows["ada_complete"], run.rows["ben_partial"]
        assert ada.status == "graded" and ben.status == "graded", (mode, ada.note, ben.note)
        assert ada.score == ada.max_score > 0, f"{mode}: the complete student got {ada.score}/{ada.max_score}"
        assert ben.score < ada.score, f"{mode}: the half-done student got full marks ({ben.score})"


@pytest.mark.parametrize("mode", ["two_workers", "dask", "two_workers_again"])
def test_parallel_scores_match_one_worker_per_student_and_per_cell(runs, mode):
    for student in STUDENTS:
        expected, got = runs["one_worker"].rows[student], runs[mode].rows[student]
        assert got.score == expected.score, f"{mode} gave {student} {got.score}, one worker {expected.score}"
        differing = {
            cell: (got.cells.get(cell), points)
            for cell, points in expected.cells.items()
            if got.cells.get(cell) != points
        }
        assert got.cells.keys() == expected.cells.keys() and not differing, (
            f"{mode} scored {student}'s cells differently (got, one worker): {differing}"
        )


@pytest.mark.parametrize("mode", ["two_workers", "dask"])
def test_parallel_modes_judge_every_notebook_before_nbgrader_runs(runs, mode):
    run = runs[mode]
    assert run.judged == [len(STUDENTS)], f"prejudge judged {run.judged}, expected [{len(STUDENTS)}]"
    assert run.cached_before_nbgrader == len(STUDENTS), (
        f"{run.cached_before_nbgrader} judged notebooks were cached when nbgrader started, "
        f"expected {len(STUDENTS)}"
    )


def test_one_worker_judges_inside_nbgrader_and_caches_each_notebook(runs):
    run = runs["one_worker"]
    assert run.judged == [], "with one worker prejudge should not run"
    assert run.cached_before_nbgrader == 0
    assert len(_cache(run.paths)) == len(STUDENTS)


def test_a_second_run_finds_every_notebook_in_the_cache(runs):
    again = runs["two_workers_again"]
    assert again.judged == [0], f"the second run judged {again.judged} notebooks again"
    assert _cache(again.paths) == again.cache_before_rerun, "the second run rewrote the cache"
