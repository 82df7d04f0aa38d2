"""Red team: submissions that attack the sandbox and the judge, graded once, with their honest scores.

Every attack of tests/trapcases.py ``redteam_class`` is a student of the tiny trap assignment a99_traps;
the module-scoped batch grades them all (two judges in parallel) while a socket listens outside on
127.0.0.1. Each test reads the batch: the score an honest grader gives (cell by cell) and the side
effect that must not happen (files changed, a process left running, a connection made, output kept,
a script in the feedback). Attacks are bounded by construction: 3 GiB of memory, 300 processes, 50 MB
of output, a few seconds per cell.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import sqlite3
import sysconfig
import threading
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import trapcases

from autograder import pipeline, samples, sandbox, settings

pytestmark = pytest.mark.skipif(sandbox.unavailable_reason() is not None, reason="no bubblewrap sandbox")

TRAP = trapcases.TRAP_ASSIGNMENT
CELL_TIMEOUT = 10  # the 50 MB print is the slowest attack cell
MARK = trapcases.MARK


def _tree_hashes(*roots: Path) -> dict[str, bytes]:
    out = {}
    for root in roots:
        for p in root.rglob("*"):
            if "__pycache__" in p.parts or (settings.ROOT / "autograder" / "work") in p.parents:
                continue
            if p.is_file() and not p.is_symlink():
                out[str(p)] = p.read_bytes()
    return out


def _marked_processes() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"{MARK}-DETACHED" in cmdline or "sleep 61." in cmdline:
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


class Listener:
    """A TCP socket on 127.0.0.1 outside the sandbox that records every connection it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[tuple] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(addr)
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


@dataclass
class Batch:
    paths: pipeline.Paths
    submitted: Path
    rows: dict[str, pipeline.GradeRow]
    cases: dict[str, trapcases.Case]
    tree_before: dict[str, bytes]
    tree_after: dict[str, bytes]
    targets_absent: dict[str, bool]
    processes_left: list[str]
    connections: list[tuple]
    feedback: dict[str, Path]


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    base = tmp_path_factory.mktemp("redteam")
    source = base / "solutions"
    trapcases.write_trap_source(source)
    paths = pipeline.Paths(
        work=base / "work", out=base / "out", release=base / "release", dist=base / "dist", source=source
    )
    release = nbformat.read(pipeline.generate_release(TRAP, paths), as_version=4)
    solution = nbformat.read(source / TRAP / f"{TRAP}.ipynb", as_version=4)
    listener = Listener()
    attack = trapcases.Attack(
        root=settings.ROOT,
        gradebook=paths.db,
        port=listener.port,
        venv_site=Path(sysconfig.get_paths()["purelib"]),
    )
    cases = trapcases.redteam_class(release, solution, attack)
    submitted = base / "submitted"
    trapcases.write_trap_class(submitted, cases)
    trapcases.write_links(submitted)
    tree_before = _tree_hashes(
        settings.ROOT / "course", settings.ROOT / "autograder", settings.ROOT / "solutions"
    )
    planted = [
        settings.ROOT / "course" / f"{MARK}_planted.py",
        settings.ROOT / "solutions" / f"{MARK}.txt",
        attack.venv_site / f"{MARK}.pth",
        Path.home() / ".ipython" / "profile_default" / "startup" / f"00-{MARK}.py",
    ]
    try:
        rows = pipeline.autograde(
            submitted,
            paths,
            cell_timeout=CELL_TIMEOUT,
            submission_timeout=120,
            release_first=False,
            workers=2,
            log=lambda *_: None,
        )
    finally:
        listener.close()
    tree_after = _tree_hashes(
        settings.ROOT / "course", settings.ROOT / "autograder", settings.ROOT / "solutions"
    )
    by_student = {r.student: r for r in rows}
    shown = [by_student[s] for s in ("r_script_html", "r_fake_feedback") if s in by_student]
    made = pipeline.feedback(paths, shown)
    return Batch(
        paths,
        submitted,
        by_student,
        cases,
        tree_before,
        tree_after,
        {str(p): not p.exists() for p in planted},
        _marked_processes(),
        list(listener.accepted),
        {p.stem: p for p in made},
    )


def _autograded(batch: Batch, student: str):
    return nbformat.read(batch.paths.autograded / student / TRAP / f"{TRAP}.ipynb", as_version=4)


def _printed(batch: Batch, student: str) -> str:
    text = []
    for cell in _autograded(batch, student).cells:
        for out in cell.get("outputs", []):
            text.append(out.get("text", "") if out.get("output_type") == "stream" else json.dumps(out))
    return "".join(text)


ATTACKS = [
    "r_import_reference",
    "r_monkeypatch",
    "r_ipython_hooks",
    "r_stack_walk",
    "r_always_equal",
    "r_rng_patch",
    "r_write_outside",
    "r_detached",
    "r_memory_bomb",
    "r_spawn_300",
    "r_network",
    "r_big_output",
    "r_script_html",
    "r_dies_last",
    "r_renamed_test",
    "r_stamp_and_scratch",
    "r_fake_feedback",
    "r_symlinks",
    "r_kill_everything",
    "r_future_stamp",
]
# A limit the attack hit, or a kernel it killed, is on record in the status; the points stay.
STATUSES = {
    "r_memory_bomb": {"graded", "out-of-memory", "crashed"},
    "r_dies_last": {"graded", "crashed"},
    "r_spawn_300": {"graded", "crashed"},
    "r_kill_everything": {"crashed"},
}


def test_every_attack_is_parametrised(batch):
    assert sorted(batch.cases) == sorted(ATTACKS)


def test_every_submission_has_a_row_even_links(batch):
    assert set(batch.rows) == {*ATTACKS, "r_linked_folder"}
    linked = batch.rows["r_linked_folder"]
    assert (linked.status, linked.score) == ("unreadable", 0.0) and "symbolic link" in linked.note


@pytest.mark.parametrize("student", ATTACKS)
def test_attack_gets_the_honest_grade_cell_by_cell(batch, student):
    case, row = batch.cases[student], batch.rows[student]
    assert row.status in STATUSES.get(student, {"graded"}), f"{case.why}: {row}"
    assert row.score == case.expected_score and row.cells == case.expected_cells, f"{case.why}: {row}"
    assert row.max_score == trapcases.FULL


def _found(batch: Batch, student: str) -> list[str]:
    printed = _printed(batch, student)
    line = next((ln for ln in printed.splitlines() if ln.startswith(f"{MARK}-FOUND: ")), None)
    assert line is not None, printed[-2000:]  # the probe ran to its end
    return ast.literal_eval(line.removeprefix(f"{MARK}-FOUND: "))


@pytest.mark.parametrize("student", ["r_import_reference", "r_network"])
def test_probes_reach_nothing(batch, student):
    assert _found(batch, student) == []


def test_writes_reach_only_the_sandbox_own_view(batch):
    # bwrap makes the parent folders of its read-only mounts (the venv under the repository, the edition
    # under the work folder) as empty folders of the sandbox's own root: writes there stay inside, which
    # the tests below check from outside. Nothing of the repository's course/, solutions/ or checks.
    reached = _found(batch, "r_write_outside")
    inside_only = {
        str(batch.paths.db),
        f"renamed {settings.ROOT / 'autograder'}",
        f"renamed {batch.paths.work}",
    }
    assert set(reached) <= inside_only, reached


def test_stack_and_gc_hold_no_reference(batch):
    assert f"{MARK}-FOUND" not in _printed(batch, "r_stack_walk")


def test_repository_and_home_are_unchanged_by_writes_from_the_sandbox(batch):
    # Files others edit meanwhile may differ; a file the attack wrote carries the mark.
    changed = sorted(
        p
        for p in set(batch.tree_before) | set(batch.tree_after)
        if batch.tree_before.get(p) != batch.tree_after.get(p)
        and MARK.encode() in batch.tree_after.get(p, b"")
    )
    assert not changed
    assert all(batch.targets_absent.values()), batch.targets_absent
    for folder in ("course", "autograder", "solutions"):
        assert (settings.ROOT / folder).is_dir() and not (settings.ROOT / f"{folder}-gone").exists()


def test_gradebook_is_whole_and_unmarked(batch):
    assert MARK.encode() not in batch.paths.db.read_bytes()
    with sqlite3.connect(batch.paths.db) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        students = {r[0] for r in db.execute("SELECT student_id FROM submitted_assignment")}
    graded = {s for s, r in batch.rows.items() if r.status != "unreadable"}
    assert graded <= students


def test_detached_and_spawned_processes_are_dead_after_grading(batch):
    assert f"{MARK}-SPAWNED" in _printed(batch, "r_detached")  # the attack did start them
    assert batch.processes_left == []


def test_no_connection_reaches_a_port_outside(batch):
    assert batch.connections == []


def test_fifty_megabytes_of_output_are_capped(batch):
    path = batch.paths.autograded / "r_big_output" / TRAP / f"{TRAP}.ipynb"
    assert path.stat().st_size < 4 << 20, path.stat().st_size
    assert "output cut at" in _printed(batch, "r_big_output")


class _Live(HTMLParser):
    """The scripts and event handlers of a page (code shown as text does not count)."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        self.handlers += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def test_feedback_has_no_live_script(batch):
    page = _Live()
    page.feed(batch.feedback["r_script_html"].read_text())
    assert not [s for s in page.scripts if MARK in s or "alert" in s], page.scripts
    assert page.handlers == []
    raw = batch.paths.autograded / "r_script_html" / TRAP / f"{TRAP}.ipynb"
    assert MARK in raw.read_text()  # the attack did display its script


def test_submitted_html_is_not_published_as_feedback(batch):
    html = batch.feedback["r_fake_feedback"].read_text()
    assert f"{MARK}: 100 / 100" not in html
    assert "linear_predict" in html  # the real feedback page


def test_refused_links_and_ignored_files_are_noted(batch):
    links = batch.rows["r_symlinks"].note
    for name in ("dangling.csv", "loop_a", "loop_b", "passwd", "up"):
        assert f"{name}: a symbolic link, not copied" in links, links
    assert "0_feedback.html left out" in batch.rows["r_fake_feedback"].note
    assert "graded as ordinary cells: my_own_test" in batch.rows["r_renamed_test"].note
    note = batch.rows["r_stamp_and_scratch"].note
    assert "timestamp.txt unreadable" in note and "scratch.ipynb ignored" in note, note
    assert "timestamp.txt is in the future" in batch.rows["r_future_stamp"].note


def test_a_future_timestamp_is_not_stored_as_given(batch):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{batch.paths.db}") as gb:
        stamp = gb.find_submission(TRAP, "r_future_stamp").timestamp
    assert stamp is None or stamp.year < 2099


def _a02_sign_error(tmp: Path) -> tuple[pipeline.Paths, Path, object]:
    a02 = "a02_backprop_modules"
    source = tmp / "solutions"
    shutil.copytree(settings.SOURCE_DIR / a02, source / a02)
    paths = pipeline.Paths(
        work=tmp / "work", out=tmp / "out", release=tmp / "release", dist=tmp / "dist", source=source
    )
    release = nbformat.read(pipeline.generate_release(a02, paths), as_version=4)
    solution = nbformat.read(source / a02 / f"{a02}.ipynb", as_version=4)
    nb = samples.fill(release, solution, samples.answer_ids(solution))
    right = samples.solved_sources(solution)["affine_backward"]
    assert "dx = (dout @ w.T)" in right
    samples.set_answer(nb, "affine_backward", right.replace("dx = (dout @ w.T)", "dx = -(dout @ w.T)"))
    samples.write_submissions(tmp / "submitted", a02, {"sign_error": nb})
    return paths, tmp / "submitted", solution


def test_a02_dx_sign_error_loses_only_affine_backward(tmp_path):
    paths, submitted, solution = _a02_sign_error(tmp_path)
    (row,) = pipeline.autograde(
        submitted, paths, cell_timeout=120, release_first=False, workers=2, log=lambda *_: None
    )
    _, per_cell = pipeline.max_score(paths, "a02_backprop_modules")
    lost = {cell for cell, full in per_cell.items() if row.cells.get(cell) != full}
    assert lost and all(cell.startswith("affine_backward") for cell in lost), row
    assert all(row.cells[c] == 0 for c in lost), row
    assert {c for c in per_cell if c.startswith("affine_backward")} == lost, row
