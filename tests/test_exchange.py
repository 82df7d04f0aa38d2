"""Handing in through nbgrader's exchange, end to end, from student accounts to the gradebook and back.

In a temporary exchange and course folder the instructor releases a01 (``nbgrader release_assignment``);
three "students" (each a separate HOME with its own ``~/.jupyter/nbgrader_config.py``, the same exchange,
``--student`` standing in for separate Unix users) fetch and submit: s1001 on time with four answers,
s1002 complete but after the due date, x9999 who is not on the roster. The instructor collects and grades
the collected folder with the pipeline behind ``python -m autograder autograde``, given the roster and the
due date as the course config's ``ApplyRosterAndDueDates`` options. The scores, the roster's names, the due
date and the late penalty must reach the gradebook, the feedback must show the penalty, and s1002 fetches
that feedback. About 2 minutes on a busy 2-core machine (each nbgrader command starts in 3 to 7 s).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import exchange, pipeline, samples, settings

pytestmark = pytest.mark.a01  # the release and class it runs on
A01 = "a01_linear_models"
COURSE = settings.COURSE_ID
COMMAND_TIMEOUT = 180  # one nbgrader command (autograde is bounded by the pipeline's own limits)
ROSTER = "id,first_name,last_name,email\ns1001,Ada,Lovelace,ada@example.org\ns1002,Ben,Okafor,\n"


@dataclass
class Handin:
    paths: pipeline.Paths
    collected: Path
    homes: dict[str, Path]
    due: str
    rows: dict[str, pipeline.GradeRow]
    feedback: dict[str, Path]


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    assert proc.returncode == 0, f"{' '.join(cmd[2:])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout + proc.stderr


def _instructor(args: list[str], paths: pipeline.Paths, exchange_root: Path, collected: Path) -> str:
    """nbgrader from the course root (the course's config), every folder of this test passed explicitly."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    return _run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            *args,
            f"--Exchange.root={exchange_root}",
            f"--CourseDirectory.release_directory={paths.release}",
            f"--CourseDirectory.submitted_directory={collected}",
            f"--CourseDirectory.feedback_directory={paths.feedback}",
            f"--CourseDirectory.db_url=sqlite:///{paths.db}",
        ],
        settings.ROOT,
        env,
    )


def _student_home(root: Path, student: str, exchange_root: Path) -> Path:
    """A student account: its own HOME whose nbgrader config names the course and the exchange (what
    docs/grading.md asks students, or /etc/jupyter on the class machine, to hold)."""
    home = root / "home" / student
    (home / ".jupyter").mkdir(parents=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE!r}\n"
        f"c.Exchange.root = {str(exchange_root)!r}\n"
    )
    return home


def _student(home: Path, args: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH"))}
    env["HOME"] = str(home)
    return _run([sys.executable, "-m", "nbgrader", *args], home, env)


def _utc_in(seconds: int) -> str:
    """A due date ``seconds`` from now, in whole seconds (nbgrader's format)."""
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


@pytest.fixture(scope="module")
def handin(tmp_path_factory) -> Handin:
    base = tmp_path_factory.mktemp("exchange")
    source = base / "solutions"
    shutil.copytree(settings.SOURCE_DIR / A01, source / A01)
    paths = pipeline.Paths(
        work=base / "work", out=base / "out", release=base / "release", dist=base / "dist", source=source
    )
    exchange_root, collected = base / "exchange", base / "collected"
    exchange_root.mkdir()
    (base / "roster.csv").write_text(ROSTER)

    pipeline.generate_release(A01, paths)
    _instructor(["release_assignment", A01, "--force"], paths, exchange_root, collected)

    source_nb = nbformat.read(source / A01 / f"{A01}.ipynb", as_version=4)
    answers = samples.answer_ids(source_nb)
    homes = {s: _student_home(base, s, exchange_root) for s in ("s1001", "s1002", "x9999")}
    for student in ("s1001", "s1002"):
        _student(homes[student], ["fetch_assignment", A01])
    for student, solved in (("s1001", answers[:4]), ("s1002", answers)):
        path = homes[student] / A01 / f"{A01}.ipynb"
        nbformat.write(samples.fill(nbformat.read(path, as_version=4), source_nb, solved), path)

    _student(homes["s1001"], ["submit", A01, "--student", "s1001"])
    due = _utc_in(2)  # after s1001's submission, before s1002's
    while dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") <= due:
        time.sleep(0.2)
    _student(homes["s1002"], ["submit", A01, "--student", "s1002"])
    shutil.copytree(paths.release / A01, homes["x9999"] / A01)  # submits the release without fetching
    _student(homes["x9999"], ["submit", A01, "--student", "x9999"])

    _instructor(["collect", A01], paths, exchange_root, collected)
    rows = pipeline.autograde(
        collected,
        paths,
        cell_timeout=60,
        submission_timeout=300,
        release_first=False,  # released above; grading regenerates it by default
        nbgrader_args=[
            f"--ApplyRosterAndDueDates.roster={base / 'roster.csv'}",
            f"--ApplyRosterAndDueDates.due_dates={A01}={due}",
        ],
        log=lambda line: None,
    )
    made = pipeline.feedback(paths, rows)
    _instructor(["release_feedback", A01], paths, exchange_root, collected)
    _student(homes["s1002"], ["fetch_feedback", A01, "--student", "s1002"])
    return Handin(paths, collected, homes, due, {r.student: r for r in rows}, {p.stem: p for p in made})


def test_collect_puts_each_submission_with_its_timestamp_in_the_grader_layout(handin):
    for student in ("s1001", "s1002", "x9999"):
        folder = handin.collected / student / A01
        assert (folder / f"{A01}.ipynb").is_file() and (folder / "timestamp.txt").is_file(), student


def test_collected_submissions_are_graded_and_their_scores_reach_the_gradebook(handin):
    assert (handin.rows["s1001"].status, handin.rows["s1001"].score) == ("graded", 9.0)
    assert (handin.rows["s1002"].status, handin.rows["s1002"].score) == ("graded", 26.0)
    with Gradebook(f"sqlite:///{handin.paths.db}") as gb:
        assert gb.find_submission(A01, "s1001").score == 9.0
        assert gb.find_submission(A01, "s1002").score == 26.0


def test_student_ids_and_names_come_from_the_roster_and_others_are_refused(handin):
    assert handin.rows["x9999"].status == "refused"
    with Gradebook(f"sqlite:///{handin.paths.db}") as gb:
        students = {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}
    assert students == {"s1001": ("Ada", "Lovelace", "ada@example.org"), "s1002": ("Ben", "Okafor", None)}
    assert not (handin.paths.autograded / "x9999" / A01).exists()


def test_late_submission_costs_ten_percent_per_day_started_and_on_time_costs_nothing(handin):
    with Gradebook(f"sqlite:///{handin.paths.db}") as gb:
        assert gb.find_assignment(A01).duedate == exchange.parse_utc(handin.due).replace(tzinfo=None)
        on_time, late = gb.find_submission(A01, "s1001"), gb.find_submission(A01, "s1002")
        assert on_time.total_seconds_late == 0 and on_time.late_submission_penalty == 0
        assert 0 < late.total_seconds_late < 86400
        assert late.late_submission_penalty == pytest.approx(2.6)  # 10 % of 26 for the first day


def test_feedback_shows_the_late_penalty_and_the_student_fetches_it(handin):
    page = handin.feedback["s1002"].read_text()
    assert "Late submission penalty" in page and "23.4 / 26" in page
    assert "Late submission penalty" not in handin.feedback["s1001"].read_text()
    fetched = list((handin.homes["s1002"] / A01 / "feedback").glob(f"*/{A01}.html"))
    assert len(fetched) == 1 and "23.4 / 26" in fetched[0].read_text()


def test_late_penalty_per_day_started_goes_down_to_zero():
    policy = exchange.LatePenaltyPerDay(percent_per_day=10)
    assert policy.late_submission_penalty("s", 20.0, 1) == pytest.approx(2.0)
    assert policy.late_submission_penalty("s", 20.0, 86400) == pytest.approx(2.0)
    assert policy.late_submission_penalty("s", 20.0, 86401) == pytest.approx(4.0)
    assert policy.late_submission_penalty("s", 20.0, 30 * 86400) == pytest.approx(20.0)


def test_roster_needs_an_id_column_and_sync_writes_roster_and_due_dates(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    (tmp_path / "bad.csv").write_text("name\nAda\n")
    with pytest.raises(ValueError, match="'id'"):
        exchange.read_roster(tmp_path / "bad.csv")
    (tmp_path / "roster.csv").write_text(ROSTER)
    roster = exchange.read_roster(tmp_path / "roster.csv")
    assert roster["s1002"] == {"first_name": "Ben", "last_name": "Okafor"}
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db) as gb:
        gb.add_assignment(A01)
    exchange.sync_gradebook(
        db, roster, {A01: "2026-10-05 23:59:00 UTC", "a99_unknown": "2026-10-06 00:00:00 UTC"}
    )
    with Gradebook(db) as gb:
        assert sorted(s.id for s in gb.students) == ["s1001", "s1002"]
        assert gb.find_assignment(A01).duedate == dt.datetime(2026, 10, 5, 23, 59)
        assert [a.name for a in gb.assignments] == [A01]  # a due date alone creates no assignment


def test_sync_command_reads_the_course_config(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", os.environ["PATH"])  # restored afterwards: the command prepends to it
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert exchange.main(["sync", "--db", db]) == 0
    assert "0 students from the roster" in capsys.readouterr().out  # the committed config has no roster


def test_course_config_names_the_exchange_the_roster_step_and_the_late_policy():
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.preprocessors import ApplyRosterAndDueDates

    config = PyFileConfigLoader("nbgrader_config.py", path=str(settings.ROOT)).load_config()
    assert config.Exchange.root == "/srv/nbgrader/exchange"
    assert config.CourseDirectory.submitted_directory == str(settings.WORK_DIR / "collected")
    assert config.Autograde.sanitize_preprocessors[0] == "autograder.preprocessors.ApplyRosterAndDueDates"
    assert ApplyRosterAndDueDates().enabled, "nbconvert would skip it"
    assert config.AssignLatePenalties.plugin_class == "autograder.exchange.LatePenaltyPerDay"


EXAMPLES = settings.ROOT / "examples" / "jupyterhub"


@pytest.mark.parametrize("name", ["jupyterhub_config.py", "nbgrader_config.py"])
def test_jupyterhub_example_python_files_compile(name):
    compile((EXAMPLES / name).read_text(), name, "exec")


def test_jupyterhub_example_student_config_disables_the_instructor_tools():
    import json

    server = json.loads((EXAMPLES / "student" / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"] == {"nbgrader.server_extensions.formgrader": False}
    page = json.loads((EXAMPLES / "student" / "labconfig" / "page_config.json").read_text())
    tools = {"@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True}
    assert page["disabledExtensions"] == tools and page["lockedExtensions"] == tools


def test_jupyterhub_example_setup_script_parses():
    result = subprocess.run(["bash", "-n", str(EXAMPLES / "setup.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
