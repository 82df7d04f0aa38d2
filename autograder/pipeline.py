"""The course pipeline around nbgrader: releases, student editions, grading in isolation, feedback, grades.

Each step runs nbgrader as a subprocess from the repository root (so ``nbgrader_config.py`` is read),
with every directory passed explicitly, so tests can run the whole pipeline in a temporary folder.

Grading: one nbgrader process per student, ``--force``, under a wall-clock limit, in a fresh copy of the
submission (the submitted files are never modified). Whatever happens to one student (invalid JSON, a
kernel that hangs, nbgrader aborting) is recorded as that student's row and the batch goes on.
"""

from __future__ import annotations

import csv
import datetime
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import nbformat

from autograder import editions, judge, judging, preprocessors, sandbox, settings


@dataclass
class Paths:
    """Every directory a run reads or writes; the defaults are the repository's."""

    work: Path = settings.WORK_DIR
    out: Path = settings.OUT_DIR
    release: Path = settings.RELEASE_DIR
    dist: Path = settings.DIST_DIR
    source: Path = settings.SOURCE_DIR

    @property
    def db(self) -> Path:
        return self.work / "gradebook.db"

    @property
    def submitted(self) -> Path:
        return self.work / "submitted"

    @property
    def autograded(self) -> Path:
        return self.work / "autograded"

    @property
    def feedback(self) -> Path:
        return self.work / "feedback"

    def edition(self, assignment: str) -> Path:
        return self.work / "editions" / assignment

    @property
    def reference(self) -> Path:
        return self.work / "reference"


STATUSES = ("graded", "timeout", "out-of-memory", "crashed", "unreadable", "refused", "error")
# a submission the judge scored (what a crash, a timeout or running out of memory left keeps its points)
SCORED = ("graded", "timeout", "out-of-memory", "crashed")


@dataclass
class GradeRow:
    student: str
    assignment: str
    status: str  # one of STATUSES
    score: float
    max_score: float
    cells: dict[str, float] = field(default_factory=dict)  # grade id -> points
    note: str = ""
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------------------
# running nbgrader
# ------------------------------------------------------------------------------------------------------


def _course_args(paths: Paths) -> list[str]:
    return [
        f"--CourseDirectory.root={settings.ROOT}",
        f"--CourseDirectory.source_directory={paths.source}",
        f"--CourseDirectory.release_directory={paths.release}",
        f"--CourseDirectory.submitted_directory={paths.submitted}",
        f"--CourseDirectory.autograded_directory={paths.autograded}",
        f"--CourseDirectory.feedback_directory={paths.feedback}",
        f"--CourseDirectory.db_url=sqlite:///{paths.db}",
    ]


# ``python -m nbgrader``, without jsonschema's optional URI checker (rfc3987_syntax), which takes over a
# second to import in every nbgrader process and which nbformat's validation never uses.
NBGRADER_MAIN = (
    "import sys; sys.argv[0] = 'nbgrader'; sys.modules.setdefault('rfc3987_syntax', None); "
    "from nbgrader.apps.nbgraderapp import main; main()"
)


def run_nbgrader(
    args: list[str], paths: Paths, *, env: dict[str, str] | None = None, timeout: float | None = None
) -> tuple[int | None, str]:
    """Run ``python -m nbgrader <args>``; return (exit code or None on timeout, combined output).

    The process gets its own session so that, on timeout, it is killed together with its kernel.
    """
    paths.work.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-c", NBGRADER_MAIN, *args, *_course_args(paths)]
    env = dict(os.environ if env is None else env)
    # nbgrader runs the `alembic` executable of its environment to check the gradebook schema
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    proc = subprocess.Popen(
        cmd,
        cwd=settings.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
        return proc.returncode, output
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        return None, output


def _check(rc: int | None, output: str, what: str) -> None:
    if rc != 0:
        raise RuntimeError(f"{what} failed (exit {rc}):\n{output[-3000:]}")


# ------------------------------------------------------------------------------------------------------
# release and instructor builds
# ------------------------------------------------------------------------------------------------------


ANSWER_STUB = "raise NotImplementedError()"  # nbgrader's code stub in a released answer cell


def answer_stub_message(exercise: str, cell: str, function: str = "") -> str:
    """What a released answer cell's stub says: 'Exercise 2a (affine_forward): write your code here, ...'."""
    what = f"{exercise} ({cell})" if exercise else f"Answer cell {cell}"
    code = f"{function} here" if function and function != cell else "your code here"
    return f"{what}: write {code}, in place of this line"


def _enclosing_function(lines: list[str], index: int) -> str:
    """The name of the ``def`` that line ``index`` belongs to ('' at the cell's top level)."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    for line in reversed(lines[:index]):
        stripped = line.lstrip()
        if stripped.startswith("def ") and len(line) - len(stripped) < indent:
            return stripped[4:].split("(")[0].strip()
    return ""


def name_answer_stubs(nb) -> dict[str, tuple[str, str]]:
    """Give each answer cell's ``raise NotImplementedError()`` a message naming its exercise and cell.

    Updates the cells' nbgrader checksums; returns grade id -> (new source, checksum) of the cells changed.
    """
    from nbgrader.utils import compute_checksum

    from course.check import exercise_labels

    labels = exercise_labels(nb)
    changed = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution") or ANSWER_STUB not in cell.source:
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            if line.strip() == ANSWER_STUB:
                message = answer_stub_message(
                    labels.get(meta["grade_id"], ""), meta["grade_id"], _enclosing_function(lines, i)
                )
                lines[i] = line.replace(ANSWER_STUB, f"raise NotImplementedError({json.dumps(message)})")
        cell.source = "\n".join(lines)
        if "checksum" in meta:
            meta["checksum"] = compute_checksum(cell)
        changed[meta["grade_id"]] = (cell.source, meta.get("checksum"))
    return changed


def generate_release(assignment: str, paths: Paths) -> Path:
    """nbgrader generate_assignment into ``paths.release`` (also records the assignment in the gradebook);
    then every answer cell's stub names its exercise, in the release and in the gradebook's copy of it."""
    from nbgrader.api import Gradebook

    rc, output = run_nbgrader(["generate_assignment", assignment, "--force"], paths)
    _check(rc, output, f"nbgrader generate_assignment {assignment}")
    folder = paths.release / assignment
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        changed = name_answer_stubs(nb)
        if not changed:
            continue
        nbformat.write(nb, str(path))
        with Gradebook(f"sqlite:///{paths.db}") as gb:
            for grade_id, (text, checksum) in changed.items():
                cell = gb.find_source_cell(grade_id, path.stem, assignment)
                cell.source, cell.checksum = text, checksum
            gb.db.commit()
    return folder / f"{assignment}.ipynb"


def stale_builds(paths: Paths, assignments: Iterable[str]) -> list[str]:
    """What is out of date with the text sources: solution notebooks (cells) and releases (nbgrader)."""
    import tempfile

    from autograder import source

    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = replace(paths, work=Path(tmp) / "work", release=Path(tmp) / "release")
        for assignment in assignments:
            if not source.is_current(assignment, paths.source):
                committed_path = source.notebook_path(assignment, paths.source)
                stale.append(f"{committed_path.relative_to(settings.ROOT)}: not the build of its text source")
                continue
            fresh = generate_release(assignment, scratch)
            release = paths.release / assignment / f"{assignment}.ipynb"
            if not release.is_file() or json.loads(fresh.read_text()) != json.loads(release.read_text()):
                stale.append(f"{release.relative_to(settings.ROOT)}: not the release of its solution")
    return stale


def build_edition(assignment: str, paths: Paths) -> tuple[Path, Path]:
    """Student edition of ``assignment`` under the work dir, plus its wheel in ``paths.dist``."""
    package = editions.build_student_edition(assignment, paths.edition(assignment), source_dir=paths.source)
    wheel = editions.build_wheel(package, assignment, paths.dist / "student")
    return package, wheel


@dataclass
class Release:
    """What students of one assignment get, together: the release notebook and the edition's wheel."""

    assignment: str
    notebook: Path
    wheel: Path

    @property
    def after(self) -> str:
        """The assignment whose deadline must have passed first ('' for the first): the wheel holds working
        answers of every earlier assignment."""
        earlier = settings.ASSIGNMENTS[: settings.ASSIGNMENTS.index(self.assignment)]
        return earlier[-1] if earlier else ""


def release(paths: Paths, assignments: Iterable[str] | None = None) -> list[Release]:
    """Generate every available release into ``paths.release`` and every student edition wheel."""
    made = []
    for assignment in assignments or settings.available_assignments(paths.source):
        notebook = generate_release(assignment, paths)
        made.append(Release(assignment, notebook, build_edition(assignment, paths)[1]))
    return made


def release_schedule(releases: Iterable[Release]) -> str:
    """When each release goes to students: one assignment at a time, its notebook and wheel together."""
    lines = [
        "Publish one assignment at a time: its notebook and its wheel (the wheel's folder is the one",
        "students install from, see docs/student.md). A wheel holds working answers of every earlier",
        "assignment, so it goes out only after the previous assignment's deadline:",
    ]
    for r in releases:
        when = f"after the deadline of {r.after}" if r.after else "when the course starts"
        lines.append(f"  {r.assignment:<24} {when:<44} {r.wheel.name}")
    return "\n".join(lines)


def solutions(paths: Paths, assignments: Iterable[str] | None = None, timeout: int = 600) -> list[Path]:
    """Execute each source notebook with the full library; write the executed notebook and HTML to out/."""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    made = []
    for assignment in assignments or settings.available_assignments(paths.source):
        src = paths.source / assignment / f"{assignment}.ipynb"
        nb = nbformat.read(src, as_version=4)
        NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(src.parent)}}
        ).execute()
        out = paths.out / "solutions" / assignment
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out / f"{assignment}.ipynb")
        body, _ = HTMLExporter().from_notebook_node(nb)
        (out / f"{assignment}.html").write_text(body)
        made += [out / f"{assignment}.ipynb", out / f"{assignment}.html"]
    return made


# ------------------------------------------------------------------------------------------------------
# grading
# ------------------------------------------------------------------------------------------------------


def grader_env() -> dict[str, str]:
    """Environment of the nbgrader process: the full library (the judge's reference). The student's code
    never runs in it: it runs in the sandbox, with the student edition (autograder/judge.py)."""
    env = dict(os.environ)
    for key in ("PYTHONPATH", "COURSE_REFERENCE_PATH", "MPLBACKEND"):
        env.pop(key, None)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def judge_args(paths: Paths, cell_timeout: float, submission_timeout: float, unsafe: bool) -> list[str]:
    return [
        f"--JudgeInSandbox.work={paths.work}",
        f"--JudgeInSandbox.source={paths.source}",
        f"--JudgeInSandbox.cell_timeout={cell_timeout}",
        f"--JudgeInSandbox.submission_timeout={submission_timeout}",
        f"--JudgeInSandbox.unsafe={unsafe}",
    ]


def _override(env: dict[str, str], overrides: dict[str, str | None] | None) -> dict[str, str]:
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def repair_duplicate_ids(nb) -> list[str]:
    """Keep one cell per grade id (the first test cell, the last answer cell); return what was dropped.

    nbgrader 0.9 aborts a submission with a duplicated grade id (a copy-pasted cell, nbgrader issue 1083).
    The other copies become ordinary cells: still run, never graded.
    """
    by_id: dict[str, list[int]] = {}
    for i, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            by_id.setdefault(grade_id, []).append(i)
    dropped = []
    for grade_id, idxs in by_id.items():
        if len(idxs) < 2:
            continue
        is_answer = nb.cells[idxs[0]].metadata["nbgrader"].get("solution", False)
        keep = idxs[-1] if is_answer else idxs[0]
        for i in idxs:
            if i != keep:
                del nb.cells[i].metadata["nbgrader"]
        dropped.append(f"{grade_id} x{len(idxs)}")
    return dropped


def grade_ids(source_folder: Path) -> set[str]:
    """The grade ids of every cell of the assignment's source notebooks."""
    ids = set()
    for path in sorted(Path(source_folder).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if grade_id := cell.metadata.get("nbgrader", {}).get("grade_id"):
                ids.add(grade_id)
    return ids


def _prepare_submission(
    src: Path,
    dst: Path,
    expected: list[str],
    repair_duplicates: bool = True,
    known_ids: set[str] | None = None,
) -> tuple[str | None, list[str]]:
    """Copy a submission into the work dir and make it gradable; (reason it is unreadable or None, notes).

    Only regular files are copied (links, devices and oversized files are refused with a note,
    ``sandbox.copy_submission``). ``expected`` are the notebook file names of the assignment. A single
    notebook under another name (``a01_linear_models (1).ipynb``, a download's usual fate) is renamed in
    the copy and noted; other notebooks beside the expected ones are left out of the copy and noted. An
    unreadable ``timestamp.txt`` is left out (the submission counts as on time) and noted. HTML files are
    left out and noted (nbgrader copies a submission's other files into its feedback folder, where one
    would be published as the feedback page). A cell whose grade id is not one of ``known_ids`` (a renamed
    test) becomes an ordinary cell, noted; nbgrader puts the original test cell back.
    """
    from nbgrader.utils import parse_utc

    if dst.exists():
        shutil.rmtree(dst)
    notes = sandbox.copy_submission(src, dst)
    for page in sorted(dst.rglob("*.html")):
        page.unlink()
        notes.append(f"{page.relative_to(dst)} left out (feedback pages are the grader's)")
    present = sorted(p.name for p in dst.glob("*.ipynb"))
    missing, unknown = [n for n in expected if n not in present], [n for n in present if n not in expected]
    if len(missing) == 1 and len(unknown) == 1:
        (dst / unknown[0]).rename(dst / missing[0])
        notes.append(f"{unknown[0]} graded as {missing[0]}")
        unknown = []
    for name in unknown:
        (dst / name).unlink()
        notes.append(f"{name} ignored (not a notebook of this assignment)")
    stamp = dst / "timestamp.txt"
    if stamp.is_file():
        try:
            when = parse_utc(stamp.read_text().strip())
        except Exception:  # noqa: BLE001 (any parse failure: the same note)
            stamp.unlink()
            notes.append("timestamp.txt unreadable: ignored (graded as on time)")
        else:
            now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
            if when > now:  # a handed-in time cannot be later than its grading
                stamp.write_text(now.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
                notes.append("timestamp.txt is in the future: the time of grading is used instead")
    for path in sorted(dst.glob("*.ipynb")):
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as err:  # noqa: BLE001 (any parse failure means the same thing: unreadable)
            reason = str(err).splitlines()[0][:99] if str(err) else ""
            return f"{path.name} is not a readable notebook ({type(err).__name__}: {reason})", notes
        unknown_cells = []
        for cell in nb.cells if known_ids is not None else []:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id and grade_id not in known_ids:
                del cell.metadata["nbgrader"]
                unknown_cells.append(grade_id)
        if unknown_cells:
            notes.append(f"cells with unknown grade ids graded as ordinary cells: {', '.join(unknown_cells)}")
        dropped = repair_duplicate_ids(nb) if repair_duplicates else []
        if dropped:
            notes.append(f"duplicate cells ignored: {', '.join(dropped)}")
        if dropped or unknown_cells:
            nbformat.write(nb, path)
    if not list(dst.glob("*.ipynb")):
        return "no notebook submitted", notes
    return None, notes


def _scores_from_gradebook(
    paths: Paths, assignment: str, student: str
) -> tuple[float, float, dict[str, float], list[str]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{paths.db}") as gb:
        submission = gb.find_submission(assignment, student)
        notes = [
            f"{g.name} needs manual grading"
            for nb in submission.notebooks
            for g in nb.grades
            if g.needs_manual_grade
        ]
        return float(submission.score), float(submission.max_score), _cell_scores(submission), notes


def _cell_scores(submission) -> dict[str, float]:
    """Grade id -> points of a gradebook submission, in notebook order."""
    return {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}


def _judge_status(paths: Paths, student: str, assignment: str) -> tuple[str, list[str]]:
    """What the judge recorded for a submission: its status (the first that is not ``graded``) and notes."""
    records = judging.read_status(paths.work, student, assignment)
    status = next((r["status"] for r in records if r["status"] != "graded"), "graded")
    return status, [n for r in records for n in r["notes"]]


def max_score(paths: Paths, assignment: str) -> tuple[float, dict[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{paths.db}") as gb:
        a = gb.find_assignment(assignment)
        cells = {gc.name: float(gc.max_score) for nb in a.notebooks for gc in nb.grade_cells}
        return float(a.max_score), cells


def grade_student(
    assignment: str,
    student: str,
    submission: Path,
    paths: Paths,
    *,
    cell_timeout: int = settings.CELL_TIMEOUT_S,
    submission_timeout: float = settings.SUBMISSION_TIMEOUT_S,
    nbgrader_args: list[str] | None = None,
    env_overrides: dict[str, str | None] | None = None,
    repair_duplicates: bool = True,
    unsafe: bool = False,
    prepared: tuple[str | None, list[str]] | None = None,
) -> GradeRow:
    """Grade one student's submission in its own nbgrader process; never raises for a bad submission.

    The notebook runs in the sandbox and the judge scores it (``JudgeInSandbox``, configured for nbgrader);
    ``prepared`` is the result of ``_prepare_submission`` when the caller already copied the submission."""
    start = time.monotonic()
    total, per_cell = max_score(paths, assignment)
    zero = {name: 0.0 for name in per_cell}
    dst = paths.submitted / student / assignment
    expected = sorted(p.name for p in (paths.source / assignment).glob("*.ipynb"))
    if prepared is None:
        prepared = _prepare_submission(
            submission, dst, expected, repair_duplicates, grade_ids(paths.source / assignment)
        )
    unreadable, notes = prepared
    autograded = paths.autograded / student / assignment
    judging.clear_status(paths.work, student, assignment)
    if unreadable:
        shutil.rmtree(autograded, ignore_errors=True)
        return GradeRow(
            student,
            assignment,
            "unreadable",
            0.0,
            total,
            zero,
            "; ".join([unreadable, *notes]),
            time.monotonic() - start,
        )
    rc, output = run_nbgrader(
        [
            "autograde",
            assignment,
            "--student",
            student,
            "--force",
            *judge_args(paths, cell_timeout, submission_timeout, unsafe),
            *(nbgrader_args or []),
        ],
        paths,
        env=_override(grader_env(), env_overrides),
        timeout=2 * submission_timeout + 120,  # the judge's own limits come first; this is the backstop
    )
    seconds = time.monotonic() - start
    if rc is None:
        shutil.rmtree(autograded, ignore_errors=True)
        note = f"grading stopped after the {submission_timeout:g} s limit for a whole submission"
        return GradeRow(student, assignment, "timeout", 0.0, total, zero, "; ".join([note, *notes]), seconds)
    if rc != 0 or not autograded.exists():
        errors = [line for line in output.splitlines() if "ERROR" in line or "SandboxUnavailable" in line]
        shutil.rmtree(autograded, ignore_errors=True)
        last = (errors or [f"exit code {rc}"])[-1][:200]
        status = (
            "refused" if "not on the class roster" in output or "SandboxUnavailable" in output else "error"
        )
        note = f"nbgrader could not grade it: {last}"
        return GradeRow(student, assignment, status, 0.0, total, zero, "; ".join([note, *notes]), seconds)
    score, total, cells, manual = _scores_from_gradebook(paths, assignment, student)
    status, judged = _judge_status(paths, student, assignment)
    notes += [n for n in dict.fromkeys(judged) if n not in notes]
    return GradeRow(student, assignment, status, score, total, cells, "; ".join(notes + manual), seconds)


def _jobs(paths: Paths, assignment: str, student: str) -> list[judging.Job]:
    """The notebooks of one prepared submission, sanitised as nbgrader will, as jobs for the judge."""
    jobs = []
    secret = judge.course_secret(paths.work)
    for path in sorted((paths.submitted / student / assignment).glob("*.ipynb")):
        try:
            nb = preprocessors.sanitise(
                nbformat.read(path, as_version=4), assignment, path.stem, student, f"sqlite:///{paths.db}"
            )
        except Exception:  # noqa: BLE001 (nbgrader itself reports what is wrong when it grades this one)
            continue
        digest = judge.content_hash(nb, assignment)
        jobs.append(
            judging.Job(assignment, path.stem, nbformat.writes(nb), judge.seed_root(secret, digest), digest)
        )
    return jobs


def autograde(
    submitted_root: Path,
    paths: Paths,
    *,
    assignments: Iterable[str] | None = None,
    cell_timeout: int = settings.CELL_TIMEOUT_S,
    submission_timeout: float = settings.SUBMISSION_TIMEOUT_S,
    nbgrader_args: list[str] | None = None,
    env_overrides: dict[str, str | None] | None = None,
    repair_duplicates: bool = True,
    release_first: bool = True,
    workers: int = 1,
    scheduler: str | None = None,
    unsafe: bool = False,
    log=print,
) -> list[GradeRow]:
    """Grade every ``submitted_root/<student>/<assignment>/`` (nbgrader's layout); one row per pair.

    Each notebook runs in its own sandbox and the judge scores it. With ``workers`` > 1 (threads of this
    machine) or a Dask ``scheduler`` address, the notebooks are judged in parallel first; then nbgrader
    grades each student in turn from the judge's cache, so only this process writes the gradebook. Each
    row is saved as soon as it is known. Without a sandbox this refuses unless ``unsafe``.

    ``assignments`` defaults to every assignment folder found in the submissions that has a source
    notebook. ``release_first=False`` skips regenerating the gradebook entry (the caller just released).
    ``nbgrader_args``, ``env_overrides`` and ``repair_duplicates`` exist to measure the traps with a fix
    switched off.
    """
    if not unsafe and (reason := sandbox.unavailable_reason()):
        raise sandbox.SandboxUnavailable(
            f"refusing to grade: {reason}. The student's code would run unconfined; pass --unsafe to grade "
            "without a sandbox anyway."
        )
    submitted_root = Path(submitted_root).resolve()
    if not submitted_root.is_dir():
        raise FileNotFoundError(f"no submissions folder {submitted_root}")
    students = sorted(p.name for p in submitted_root.iterdir() if p.is_dir() and not p.is_symlink())
    found = sorted(
        {p.name for s in students for p in (submitted_root / s).iterdir() if p.is_dir() or p.is_symlink()}
    )
    gradable = [a for a in found if (paths.source / a / f"{a}.ipynb").is_file()]
    for name in sorted(set(found) - set(gradable)):
        log(f"skipping {name}: no source notebook {paths.source / name / (name + '.ipynb')}")
    wanted = list(assignments) if assignments else gradable
    rows = []
    for assignment in wanted:
        who = [
            s
            for s in students
            if (submitted_root / s / assignment).is_dir() or (submitted_root / s / assignment).is_symlink()
        ]
        if not who:
            continue
        # The gradebook must describe the current source; a scratch release keeps notebooks/ untouched.
        if release_first:
            generate_release(assignment, replace(paths, release=paths.work / "release"))
        editions.build_student_edition(assignment, paths.edition(assignment), source_dir=paths.source)
        expected = sorted(p.name for p in (paths.source / assignment).glob("*.ipynb"))
        known = grade_ids(paths.source / assignment)
        prepared, jobs = {}, []
        for student in who:
            src = submitted_root / student / assignment
            if src.is_symlink():
                prepared[student] = (f"{assignment} is a symbolic link, not a folder of the student's", [])
                continue
            prepared[student] = _prepare_submission(
                src, paths.submitted / student / assignment, expected, repair_duplicates, known
            )
            if prepared[student][0] is None:
                jobs += _jobs(paths, assignment, student)
        if workers > 1 or scheduler:
            limits = judging.limits(cell_timeout, submission_timeout, settings.SANDBOX_MEMORY_BYTES)
            judging.prejudge(
                jobs,
                work=paths.work,
                source=paths.source,
                limits=limits,
                unsafe=unsafe,
                workers=workers,
                scheduler=scheduler,
                log=log,
            )
        for student in who:
            row = grade_student(
                assignment,
                student,
                submitted_root / student / assignment,
                paths,
                cell_timeout=cell_timeout,
                submission_timeout=submission_timeout,
                nbgrader_args=nbgrader_args,
                env_overrides=env_overrides,
                repair_duplicates=repair_duplicates,
                unsafe=unsafe,
                prepared=prepared[student],
            )
            log(
                f"{assignment} {student:<24} {row.status:<10} {row.score:6.1f} / {row.max_score:.1f}  "
                f"({row.seconds:.0f} s) {row.note}"
            )
            rows.append(row)
            save_rows([row], paths)  # on record at once: a batch stopped later keeps it
    return rows


def save_rows(rows: list[GradeRow], paths: Paths) -> Path:
    """Merge rows into work/results.json (keyed by student and assignment): the record export reads."""
    path = paths.work / "results.json"
    old = json.loads(path.read_text()) if path.exists() else []
    merged = {(r["student"], r["assignment"]): r for r in old}
    merged.update({(r.student, r.assignment): asdict(r) for r in rows})
    path.write_text(
        json.dumps(sorted(merged.values(), key=lambda r: (r["assignment"], r["student"])), indent=1)
    )
    return path


def load_rows(paths: Paths) -> list[GradeRow]:
    path = paths.work / "results.json"
    return [GradeRow(**r) for r in json.loads(path.read_text())] if path.exists() else []


# ------------------------------------------------------------------------------------------------------
# feedback and export
# ------------------------------------------------------------------------------------------------------


def feedback(paths: Paths, rows: list[GradeRow] | None = None) -> list[Path]:
    """Feedback per student in ``out/feedback/<assignment>/<student>.html``.

    Graded students get nbgrader's feedback HTML with hidden tests and tracebacks removed; the others a
    short note saying why their submission could not be graded.
    """
    rows = load_rows(paths) if rows is None else rows
    made = []
    # One nbgrader run per assignment (feedback executes nothing), then per student only as a fallback.
    for assignment in sorted({r.assignment for r in rows if r.status in SCORED}):
        run_nbgrader(["generate_feedback", assignment, "--force"], paths)
    for row in rows:
        dest = paths.out / "feedback" / row.assignment / f"{row.student}.html"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if row.status in SCORED:
            produced = sorted((paths.feedback / row.student / row.assignment).glob("*.html"))
            if not produced:
                run_nbgrader(
                    ["generate_feedback", row.assignment, "--student", row.student, "--force"], paths
                )
                produced = sorted((paths.feedback / row.student / row.assignment).glob("*.html"))
            if produced:
                shutil.copyfile(produced[0], dest)
                made.append(dest)
                continue
            row = GradeRow(
                row.student,
                row.assignment,
                "error",
                row.score,
                row.max_score,
                note="feedback could not be generated; ask the instructor",
            )
        dest.write_text(
            "<!DOCTYPE html><html><body>"
            f"<h1>{html.escape(row.assignment)}: {html.escape(row.student)}</h1>"
            f"<p>Your submission could not be graded ({html.escape(row.status)}): {html.escape(row.note)}</p>"
            f"<p>Score: {row.score:g} / {row.max_score:g}</p></body></html>\n"
        )
        made.append(dest)
    return made


def with_gradebook_scores(paths: Paths, rows: list[GradeRow], everyone: bool = True) -> list[GradeRow]:
    """The rows with the gradebook's scores: scored rows take their score and cell points from it (where
    a grader may have changed them in the formgrader), and, with ``everyone``, every submission graded
    there but not by this command line (the formgrader's Autograde button) gets a row of its own."""
    from nbgrader.api import Gradebook, MissingEntry

    if not paths.db.is_file():
        return rows
    out, seen = [], set()
    with Gradebook(f"sqlite:///{paths.db}") as gb:
        for row in rows:
            seen.add((row.student, row.assignment))
            if row.status not in SCORED:
                out.append(row)
                continue
            try:
                submission = gb.find_submission(row.assignment, row.student)
            except MissingEntry:
                out.append(row)
                continue
            out.append(
                replace(
                    row,
                    score=float(submission.score),
                    max_score=float(submission.max_score),
                    cells=_cell_scores(submission),
                )
            )
        for assignment in gb.assignments if everyone else []:
            for submission in assignment.submissions:
                key = (submission.student.id, assignment.name)
                if key in seen:
                    continue
                out.append(
                    GradeRow(
                        key[0],
                        key[1],
                        _judge_status(paths, *key)[0],
                        float(submission.score),
                        float(submission.max_score),
                        _cell_scores(submission),
                        "graded outside this command line (the formgrader)",
                    )
                )
    return sorted(out, key=lambda r: (r.assignment, r.student))


def export(paths: Paths, rows: list[GradeRow] | None = None, dest: Path | None = None) -> Path:
    """Write the grades: ``grades.csv`` (one line per student and assignment: status, score, note) and,
    beside it, ``grades_<assignment>.csv`` with the points of every graded cell. Returns the summary.

    Scores come from nbgrader's gradebook (``with_gradebook_scores``), statuses and notes from the rows;
    without ``rows``, every submission of the gradebook is exported."""
    rows = (
        with_gradebook_scores(paths, load_rows(paths))
        if rows is None
        else with_gradebook_scores(paths, rows, everyone=False)
    )
    dest = dest or paths.out / "grades.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    head = ["student", "assignment", "status", "score", "max_score"]

    def summary(r: GradeRow) -> list[str]:
        return [r.student, r.assignment, r.status, f"{r.score:g}", f"{r.max_score:g}"]

    with open(dest, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*head, "note"])
        writer.writerows([*summary(r), r.note] for r in rows)
    for assignment in sorted({r.assignment for r in rows}):
        mine = [r for r in rows if r.assignment == assignment]
        cells = list(dict.fromkeys(name for r in mine for name in r.cells))  # notebook order
        with open(dest.with_name(f"{dest.stem}_{assignment}.csv"), "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([*head, *cells, "note"])
            writer.writerows([*summary(r), *[f"{r.cells.get(c, 0):g}" for c in cells], r.note] for r in mine)
    return dest


def grade_table(rows: list[GradeRow]) -> str:
    """The grades as a fixed-width text table."""
    head = f"{'assignment':<24} {'student':<22} {'status':<10} {'score':>12}  note"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.assignment:<24} {r.student:<22} {r.status:<10} {r.score:>5.1f} / {r.max_score:<4g}  {r.note}"
        )
    return "\n".join(lines)
