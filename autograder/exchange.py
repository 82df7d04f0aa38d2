"""Handing in on one machine: the class roster, the due dates and the late policy of nbgrader's exchange.

The course uses nbgrader's own exchange, a folder every account on the machine can write to
(``c.Exchange.root`` in autograder/nbgrader_config.py): the instructor releases (``nbgrader
release_assignment``), students fetch and submit (``nbgrader fetch_assignment``, ``nbgrader submit`` or
JupyterLab's Assignments tab), the instructor collects (``nbgrader collect``, into
``autograder/work/collected/<student>/<assignment>/`` with each submission's ``timestamp.txt``) and grades
that folder (``python -m autograder autograde autograder/work/collected``). docs/grading.md, "Handing in",
has the commands.

nbgrader 0.9 keeps the roster and the due dates in the gradebook only (its old ``db_students`` and
``db_assignments`` settings are gone), so the course's config names them,
``ApplyRosterAndDueDates.roster`` (a CSV) and ``ApplyRosterAndDueDates.due_dates``, and this module writes
them into the gradebook: before every graded submission (the preprocessor of that name, so the late
penalty that nbgrader computes after execution sees the due date) and on demand with
``python -m autograder.exchange sync`` (for ``nbgrader collect --before-duedate`` and the formgrader).
The late policy is ``LatePenaltyPerDay``, named in the config as nbgrader's late-submission plugin.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.utils import parse_utc
from traitlets import Float

ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")  # the format of `nbgrader db student import`


class NotOnRoster(Exception):
    """A submission from a student id that the class roster does not list."""


def read_roster(path: str | Path) -> dict[str, dict[str, str]]:
    """Student id -> {first_name, last_name, email} from a CSV whose header is
    ``id,first_name,last_name,email`` (only ``id`` is required)."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if "id" not in (reader.fieldnames or []):
            raise ValueError(f"roster {path}: the first line must name the columns, with 'id' among them")
        roster = {}
        for row in reader:
            student = row["id"].strip()
            if student:
                roster[student] = {k: row[k].strip() for k in ROSTER_COLUMNS[1:] if row.get(k)}
        return roster


def apply_roster_and_due_dates(
    db_url: str,
    assignment: str,
    student: str,
    roster: dict[str, dict[str, str]] | None,
    due_dates: dict[str, str],
) -> None:
    """Before ``student``'s ``assignment`` is graded: refuse an id that a roster does not list, record the
    student's names and the assignment's due date (``'2026-10-05 23:59:00 UTC'``) in the gradebook."""
    with Gradebook(db_url) as gb:
        if roster is not None and student not in roster:
            _forget_new_student(gb, assignment, student)
            raise NotOnRoster(
                f"{student!r} is not on the class roster ({len(roster)} students): not graded; "
                "check the id, or add the student to the roster and grade again"
            )
        if roster is not None:
            gb.update_or_create_student(student, **roster[student])
        if assignment in due_dates:
            gb.update_or_create_assignment(assignment, duedate=parse_utc(due_dates[assignment]))


def _forget_new_student(gb: Gradebook, assignment: str, student: str) -> None:
    """Remove the student nbgrader created for this refused submission, when that is all the gradebook
    holds of them (one submission, of this assignment, never graded); a former student's grades stay."""
    submissions = gb.find_student(student).submissions
    if (
        len(submissions) == 1
        and submissions[0].assignment.name == assignment
        and all(
            g.auto_score is None and g.manual_score is None
            for nb in submissions[0].notebooks
            for g in nb.grades
        )
    ):
        gb.remove_student(student)


def sync_gradebook(db_url: str, roster: dict[str, dict[str, str]] | None, due_dates: dict[str, str]) -> None:
    """Every student of the roster and every due date into the gradebook (assignments it already holds)."""
    with Gradebook(db_url) as gb:
        for student, names in (roster or {}).items():
            gb.update_or_create_student(student, **names)
        known = {a.name for a in gb.assignments}
        for assignment, due in due_dates.items():
            if assignment in known:
                gb.update_or_create_assignment(assignment, duedate=parse_utc(due))


class LatePenaltyPerDay(LateSubmissionPlugin):
    """The course's late policy: each day started after the due date costs ``percent_per_day`` percent of
    the notebook's score, down to zero (10 % per day: 1 s late keeps 90 %, 9 days and 1 s late keep 0)."""

    percent_per_day = Float(10.0, help="percent of the score lost per day started after the due date").tag(
        config=True
    )

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        days = math.ceil(total_seconds_late / 86400)
        return score * min(1.0, days * self.percent_per_day / 100)


def _course_config():
    """The course's nbgrader config, read the way nbgrader reads it from the repository root."""
    from traitlets.config.loader import PyFileConfigLoader

    from autograder import settings

    return PyFileConfigLoader("nbgrader_config.py", path=str(settings.ROOT)).load_config()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.exchange", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sync", help="the config's roster and due dates into the gradebook")
    p.add_argument("--db", help="gradebook URL (default: the config's CourseDirectory.db_url)")
    args = parser.parse_args(argv)
    # a new gradebook is created by nbgrader through the `alembic` executable of its environment
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    cfg = _course_config()
    options = cfg.ApplyRosterAndDueDates
    roster = read_roster(options.roster) if options.get("roster") else None
    due_dates = dict(options.get("due_dates", {}))
    db_url = args.db or cfg.CourseDirectory.db_url
    sync_gradebook(db_url, roster, due_dates)
    print(f"{db_url}: {len(roster or {})} students from the roster, {len(due_dates)} due dates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
