"""The judge: runs a submission in the sandbox and decides every point outside it.

Inside the sandbox (``autograder/sandboxed/``) a runner executes the notebook in a fresh kernel. Each
hidden test cell there is only ``course_judge_agent.serve(grade_id)``: the kernel connects to the judge's
socket and answers its requests. The judge, this process, holds the check specifications and the full
library (the reference); it runs each specification's procedure here, with the student's objects as
``RemoteObject`` proxies: calling one sends the judge's inputs into the sandbox and brings back plain
values (``sandboxed/wire.py``: JSON and an ``.npz`` without pickle). So monkeypatching NumPy, the checks,
IPython or the RNG in the sandbox changes only what the student's own functions return.

Points: a hidden test's points are its specification's verdict; a visible test's points need its cell to
run without error in the sandbox *and* the judge's verdict on the same exercise (its hidden test, or the
hidden tests that follow it up to the next visible test), so patching the visible checks gains nothing.
The verdicts become the test cells' outputs (an error output when points are lost), which nbgrader's
``SaveAutoGrades`` turns into the gradebook's scores.

One bug costs once: a task whose answer calls other graded answers (``two_layer_loss`` calls
``affine_forward``) is judged again in a second, fresh sandbox in which, while its check runs, those
upstream names are the reference answers. Only the downstream tasks' verdicts are taken from that run.

Hidden inputs: ``checks.core.check_seed`` is keyed by a secret of the course (``work/judge_secret``,
never in the sandbox) and the submission's content hash, so inputs cannot be known in advance and the same
submission always gets the same inputs (and score).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder import sandbox
from autograder.remote import Connection, JudgeError
from autograder.sandboxed import wire
from course.check import GRADER_ENV

SANDBOXED_DIR = Path(__file__).resolve().parent / "sandboxed"
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.DOTALL)
JUDGE_VERSION = "3"


# ---- what a notebook's tests are ---------------------------------------------------------------------


@dataclass
class TestCell:
    grade_id: str
    index: int
    points: float
    kind: str  # visible | hidden
    calls: list[tuple[str, list[str]]] = field(default_factory=list)  # (spec key, names of the objects)
    confirmed_by: list[str] = field(default_factory=list)  # a visible test: the hidden cells that confirm it


def hidden_calls(source: str) -> list[tuple[str, list[str]]]:
    """The ``run("aNN.task", obj, ...)`` calls of a hidden block: (key, object names)."""
    calls = []
    for block in HIDDEN_BLOCK.findall(source):
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name != "run" or not node.args or not isinstance(node.args[0], ast.Constant):
                continue
            names = [a.id for a in node.args[1:] if isinstance(a, ast.Name)]
            calls.append((str(node.args[0].value), names))
    return calls


def test_cells(nb) -> list[TestCell]:
    cells: list[TestCell] = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        calls = hidden_calls(cell.source)
        kind = "hidden" if "### BEGIN HIDDEN TESTS" in cell.source else "visible"
        cells.append(TestCell(meta["grade_id"], index, float(meta.get("points", 0) or 0), kind, calls))
    by_id = {c.grade_id: c for c in cells}
    for i, cell in enumerate(cells):
        if cell.kind != "visible":
            continue
        twin = cell.grade_id.removesuffix("_visible") + "_hidden"
        if twin in by_id:
            cell.confirmed_by = [twin]
        else:
            for later in cells[i + 1 :]:
                if later.kind == "visible":
                    break
                cell.confirmed_by.append(later.grade_id)
    return cells


def _defined_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in tree.body if isinstance(tree, ast.Module) else []:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _loaded_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


@dataclass
class Upstream:
    """For each answer: the other answers it calls; and the reference text of every answer cell."""

    answers: dict[str, str]  # answer grade id -> the solution's source
    defines: dict[str, set[str]]  # answer grade id -> names it defines
    uses: dict[str, set[str]]  # name -> the answer names it calls (transitively)


def upstream_of(solution_nb) -> Upstream:
    answers, defines, loads = {}, {}, {}
    for cell in solution_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        answers[meta["grade_id"]] = cell.source
        defines[meta["grade_id"]] = _defined_names(tree)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                loads[node.name] = _loaded_names(node)
    graded = set().union(*defines.values()) if defines else set()
    direct = {name: (used & graded) - {name} for name, used in loads.items()}
    uses: dict[str, set[str]] = {}
    for name in direct:
        seen, todo = set(), list(direct[name])
        while todo:
            n = todo.pop()
            if n not in seen and n != name:
                seen.add(n)
                todo += list(direct.get(n, ()))
        uses[name] = seen
    return Upstream(answers, defines, uses)


# ---- preparing the notebook the sandbox runs --------------------------------------------------------


def serve_source(grade_id: str) -> str:
    return f"import course_judge_agent\ncourse_judge_agent.serve({grade_id!r})"


def sandbox_notebook(nb, tests: list[TestCell], run: Run) -> Any:
    """The notebook as the sandbox runs it: the hidden test cells of ``run`` become a call of the agent
    (the others ``pass``); a test cell with a prefix in ``run`` runs it first."""
    out = copy.deepcopy(nb)
    for test in tests:
        cell = out.cells[test.index]
        if test.kind == "hidden":
            cell.source = serve_source(test.grade_id) if test.grade_id in run.judged else "pass"
        if test.grade_id in run.prefixes:
            cell.source = run.prefixes[test.grade_id] + cell.source
    for cell in out.cells:
        cell.metadata.pop("tags", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return out


def content_hash(nb, assignment: str) -> str:
    """What the grade depends on: the cells (type and text, in order), the assignment, the judge's code."""
    h = hashlib.sha256(f"{assignment}\n{JUDGE_VERSION}\n".encode())
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        h.update(json.dumps([cell.cell_type, grade_id, cell.source]).encode())
    return h.hexdigest()


def course_secret(work: Path) -> bytes:
    """The course's secret (created on first use, readable by the grader only)."""
    path = work / "judge_secret"
    if not path.exists():
        work.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def seed_root(secret: bytes, digest: str) -> bytes:
    return hmac.new(secret, digest.encode(), hashlib.sha256).digest()


# ---- verdicts ----------------------------------------------------------------------------------------


@dataclass
class Verdict:
    grade_id: str
    passed: bool
    message: str = ""  # why points were lost (for the student)
    printed: str = ""  # what the check printed ("ok: ...")
    seconds: float = 0.0
    run: int = 1  # which sandbox run decided it


@dataclass
class Judged:
    """Everything the judge decided about one notebook."""

    status: str  # graded | timeout | out-of-memory | crashed | refused
    verdicts: dict[str, Verdict]
    notebook: dict  # the executed notebook with the judge's outputs in the test cells
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    execute_seconds: float = 0.0  # time the runner spent executing cells

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Judged:
        data = json.loads(text)
        data["verdicts"] = {k: Verdict(**v) for k, v in data["verdicts"].items()}
        return cls(**data)


def _one_line(err: BaseException) -> str:
    kind = getattr(err, "student_type", type(err).__name__)
    text = str(err).strip()
    if isinstance(err, AssertionError) and not getattr(err, "student_type", None):
        return text or "the check failed"
    return f"{kind}: {text}" if text else kind


def run_check(key: str, objects: list[Any]) -> tuple[bool, str, str]:
    """Run the specification ``key`` on the objects; (passed, message, printed). Never raises."""
    from autograder.checks import spec as find_spec
    from autograder.checks.core import run_spec

    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            run_spec(find_spec(key), *objects)
        return True, "", printed.getvalue()
    except NotImplementedError as err:
        return (
            False,
            f"not implemented yet (NotImplementedError{': ' + str(err) if str(err) else ''})",
            printed.getvalue(),
        )
    except (JudgeError, KeyError) as err:
        return (
            False,
            f"the grader could not run this check ({type(err).__name__}: {err}); tell the instructor",
            printed.getvalue(),
        )
    except Exception as err:  # noqa: BLE001 (whatever the student's code does is a verdict, not a crash)
        return False, _one_line(err)[:600], printed.getvalue()


# ---- running a notebook -----------------------------------------------------------------------------


@dataclass
class Run:
    """One sandbox run: which hidden cells it judges, and with which upstream reference answers."""

    judged: list[str]
    prefixes: dict[str, str] = field(default_factory=dict)  # grade id -> code run first in that test cell


def _sandbox_env(scratch: Path, socket_path: Path, edition: Path) -> dict[str, str]:
    home = scratch / ".home"
    home.mkdir(exist_ok=True)
    python_bin = str(Path(sys.executable).parent)
    return {
        "HOME": str(home),
        "PATH": f"{python_bin}:/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(edition), str(SANDBOXED_DIR)]),
        "PYTHONSAFEPATH": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(home / ".jupyter-runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "COURSE_JUDGE_SOCKET": str(socket_path),
        GRADER_ENV: "1",  # the notebook's check-my-work cell stays idle
        "LANG": "C.UTF-8",
    }


def execute(
    nb,
    tests: list[TestCell],
    run: Run,
    *,
    edition: Path,
    limits: sandbox.Limits,
    unsafe: bool,
    number: int,
    record: Callable[[Verdict], None],
) -> tuple[dict | None, sandbox.Outcome, float]:
    """Run ``nb`` in a fresh sandbox, judging the hidden cells of ``run`` as the kernel reaches them.

    Returns (the executed notebook or None, how the sandbox ended, seconds the runner executed)."""
    by_id = {t.grade_id: t for t in tests}
    prepared = sandbox_notebook(nb, tests, run)
    base = Path(tempfile.mkdtemp(prefix="course-sandbox-"))
    scratch = base / "work"
    scratch.mkdir()
    os.chmod(base, 0o755)
    os.chmod(scratch, 0o777)
    socket_path = base / "judge.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path))
    os.chmod(socket_path, 0o777)
    listener.listen(4)
    listener.settimeout(0.2)
    name = "notebook.ipynb"
    nbformat.write(nbformat.from_dict(prepared), str(scratch / name))
    os.chmod(scratch / name, 0o666)
    argv = [
        str(Path(sys.executable)),
        str(SANDBOXED_DIR / "runner.py"),
        name,
        "executed.ipynb",
        f"{limits.cell_seconds:g}",
        str(limits.output_bytes),
    ]
    readonly = [edition, SANDBOXED_DIR, base]
    pending = set(run.judged)
    proc = None
    try:
        proc = sandbox.SandboxProcess(
            argv,
            scratch=scratch,
            readonly=readonly,
            env=_sandbox_env(scratch, socket_path, edition),
            limits=limits,
            unsafe=unsafe,
        )
        while pending and proc.alive() and proc.remaining() > 0:
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            with sock:
                try:
                    sock.settimeout(min(30.0, proc.remaining()))
                    hello, _ = wire.receive(sock, max_json=4096, max_blob=0)
                except (wire.WireError, EOFError, OSError):
                    continue
                grade_id = hello.get("cell")
                if hello.get("op") != "hello" or grade_id not in pending:
                    continue
                pending.discard(grade_id)
                test = by_id[grade_id]
                deadline = time.monotonic() + min(limits.cell_seconds, proc.remaining())
                start = time.monotonic()
                passed, message, printed = judge_cell(Connection(sock, deadline), test)
                record(Verdict(grade_id, passed, message, printed, time.monotonic() - start, number))
        outcome = proc.wait()
    finally:
        if proc is not None and proc.alive():
            proc.kill()
        listener.close()
    data = sandbox.read_regular(scratch / "executed.ipynb", limits.notebook_bytes)
    executed = None
    if data is not None:
        try:
            executed = nbformat.reads(data.decode(), as_version=4)
            nbformat.validate(executed)
            if len(executed.cells) != len(prepared["cells"]):
                executed = None
        except Exception:  # noqa: BLE001 (a notebook the sandbox mangled is no notebook)
            executed = None
    shutil.rmtree(base, ignore_errors=True)
    runner_seconds = 0.0
    with contextlib.suppress(Exception):
        runner_seconds = sum(float(c.get("seconds", 0)) for c in runner_cells(executed).values())
    return executed, outcome, runner_seconds


def judge_cell(conn: Connection, test: TestCell) -> tuple[bool, str, str]:
    """Every check of one hidden test cell on the notebook's objects: (passed, why not, what they printed)."""
    parts = []
    for key, names in test.calls:
        try:
            objects = [conn.get(name) for name in names]
        except NameError as err:
            parts.append((False, f"{err}: run the cell that defines it (or restore its name)", ""))
            continue
        except Exception as err:  # noqa: BLE001 (a failure to fetch is the student's, a verdict)
            parts.append((False, _one_line(err), ""))
            continue
        parts.append(run_check(key, objects))
    conn.done()
    if not parts:
        return False, "this test has no check the grader knows; tell the instructor", ""
    message = next((m for p, m, _ in parts if not p), "")
    return all(p for p, _, _ in parts), message, "".join(pr for _, _, pr in parts)


def runner_cells(executed) -> dict:
    """The runner's record of each code cell of an executed notebook: cell index (str) -> status, seconds."""
    return executed.metadata.get("course_runner", {}).get("cells", {}) if executed is not None else {}


def ran_clean(executed, index: int) -> bool:
    """Whether cell ``index`` ran to its end in the sandbox without an error output."""
    if runner_cells(executed).get(str(index), {}).get("status") != "ok":
        return False
    return not any(o.get("output_type") == "error" for o in executed.cells[index].get("outputs", []))


# ---- the whole submission ----------------------------------------------------------------------------


def _stream(text: str, name: str = "stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _error(message: str, ename: str = "AssertionError"):
    return nbformat.v4.new_output("error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"])


def _harmless(outputs: list) -> list:
    """A test cell's own outputs as display only: stderr shown as stdout, results as displays, errors kept."""
    kept = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            kept.append(_stream(out.get("text", ""), "stdout"))
        elif kind == "execute_result":
            kept.append(nbformat.v4.new_output("display_data", data=out.get("data", {}), metadata={}))
        elif kind in ("display_data", "error"):
            kept.append(out)
    return kept


def downstream_runs(tests: list[TestCell], solution_nb) -> dict[str, dict]:
    """Hidden cells whose answers call other graded answers: grade id -> {names, cells} of the reference
    answers they are judged with in the second run."""
    ups = upstream_of(solution_nb)
    second: dict[str, dict] = {}
    for test in tests:
        if test.kind != "hidden":
            continue
        mine = {n for _, names in test.calls for n in names}
        needed: set[str] = set()
        for n in mine:
            needed |= ups.uses.get(n, set())
        needed -= mine
        if needed:
            cells = [g for g, names in ups.defines.items() if names & needed and not names & mine]
            second[test.grade_id] = {"names": sorted(needed), "cells": [ups.answers[g] for g in cells]}
    return second


def reference_prefix(upstream: dict) -> str:
    return (
        "import course_judge_agent\n"
        f"course_judge_agent.use_reference({json.dumps(upstream['names'])}, "
        f"{json.dumps(upstream['cells'])})\n"
    )


def second_run(tests: list[TestCell], second: dict[str, dict], verdicts: dict, executed) -> Run | None:
    """The run that judges downstream tasks again with the reference's upstream answers: only those that
    lost points in the first run (their hidden verdict, or one of their visible cells). None: no need."""
    again = set()
    for g in second:
        if not (verdicts.get(g) and verdicts[g].passed):
            again.add(g)
        for test in tests:
            if test.kind == "visible" and g in test.confirmed_by and not ran_clean(executed, test.index):
                again.add(g)
    if not again:
        return None
    prefixes: dict[str, str] = {}
    for test in tests:
        if test.kind == "visible" and test.confirmed_by and all(g in again for g in test.confirmed_by):
            prefixes[test.grade_id] = reference_prefix(second[test.confirmed_by[0]])
    for g in again:
        prefixes.setdefault(g, reference_prefix(second[g]))
    return Run(sorted(again), prefixes)


def judge_notebook(
    nb,
    assignment: str,
    *,
    solution_nb,
    edition: Path,
    seed: bytes,
    limits: sandbox.Limits = sandbox.DEFAULT_LIMITS,
    unsafe: bool = False,
    on_verdict: Callable[[Verdict], None] | None = None,
) -> Judged:
    """Judge one sanitised notebook (test cells as the instructor wrote them): every test cell's verdict."""
    from autograder.checks import core

    start = time.monotonic()
    tests = test_cells(nb)
    hidden = [t for t in tests if t.kind == "hidden"]
    second = downstream_runs(tests, solution_nb)
    verdicts: dict[str, Verdict] = {}
    notes: list[str] = []
    status = "graded"
    runs = [Run([t.grade_id for t in hidden])]
    executed_runs: list[Any] = []
    execute_seconds = 0.0
    previous_seed = core.set_seed_root(seed)
    try:
        number = 0
        while number < len(runs):
            run = runs[number]
            number += 1

            def record(v: Verdict, number=number) -> None:
                if number > 1 and verdicts.get(v.grade_id) and verdicts[v.grade_id].passed and not v.passed:
                    return  # right with its own upstream answers already: that counts
                verdicts[v.grade_id] = v
                if on_verdict:
                    on_verdict(v)

            executed, outcome, seconds = execute(
                nb,
                tests,
                run,
                edition=edition,
                limits=limits,
                unsafe=unsafe,
                number=number,
                record=record,
            )
            execute_seconds += seconds
            executed_runs.append(executed)
            for grade_id in run.judged:
                if verdicts.get(grade_id) is None or verdicts[grade_id].run != number:
                    why = "the notebook stopped before this test ran"
                    if outcome.timed_out:
                        why = f"not reached: the submission ran past its {limits.wall_seconds:g} s limit"
                    record(Verdict(grade_id, False, why, "", 0.0, number))
            if number > 1:
                continue
            if outcome.timed_out:
                status = "timeout"
            elif outcome.out_of_memory:
                status = "out-of-memory"
            elif executed is None:
                status = "crashed"
                notes.append("the notebook could not be run to the end (the kernel or the runner died)")
            else:
                runner = executed.metadata.get("course_runner", {})
                cells = runner_cells(executed)
                kinds = {c.get("status") for c in cells.values() if isinstance(c, dict)}
                if not runner.get("finished"):
                    status = "crashed"
                    last = max((int(k) for k in cells if str(k).isdigit()), default=-1)
                    notes.append(
                        f"the notebook stopped after cell {last + 1} (its processes were killed); "
                        "the tests before it keep their points"
                    )
                if "timeout" in kinds:
                    notes.append(
                        "a cell ran past the time limit per cell; the cells after it ran after a restart"
                    )
                if "crashed" in kinds:
                    status = "crashed"
                    notes.append("the kernel died in a cell; the cells after it ran after a restart")
            if outcome.dropped_bytes:
                notes.append(f"output beyond {limits.output_bytes} bytes was dropped")
            first_verdicts = {g: v.passed for g, v in verdicts.items()}
            again = second_run(tests, second, verdicts, executed)
            if again is not None:
                runs.append(again)
    finally:
        core.set_seed_root(previous_seed)
    rescued = sorted(
        g.removesuffix("_hidden") for g in second if first_verdicts.get(g) is False and verdicts[g].passed
    )
    if rescued:
        notes.append(
            f"{', '.join(rescued)}: right with correct versions of the exercises they call, so the error "
            "there is counted once, in its own exercise"
        )
    final = _with_verdicts(nb, executed_runs, runs, tests, verdicts)
    return Judged(status, verdicts, final, notes, time.monotonic() - start, execute_seconds)


def _with_verdicts(nb, executed_runs: list, runs: list[Run], tests: list[TestCell], verdicts: dict) -> dict:
    """The notebook to store: the sandbox's outputs, test cells' outputs from the judge's verdicts."""
    out = copy.deepcopy(nb)
    first = executed_runs[0] if executed_runs else None
    if first is not None:
        for cell, ran in zip(out.cells, first.cells, strict=True):
            if cell.cell_type == "code":
                cell.outputs = ran.get("outputs", [])
                cell.execution_count = ran.get("execution_count")
    for test in tests:
        cell = out.cells[test.index]
        if test.kind == "hidden":
            v = verdicts.get(test.grade_id)
            cell.outputs = [_stream(v.printed)] if v and v.printed else []
            if v is None or not v.passed:
                cell.outputs.append(_error(v.message if v else "not judged"))
            continue
        number = 1
        if len(runs) > 1 and test.grade_id in runs[1].prefixes:
            number = 2
        executed = executed_runs[number - 1] if len(executed_runs) >= number else None
        ran = runner_cells(executed).get(str(test.index), {}).get("status")
        outputs = _harmless(executed.cells[test.index].get("outputs", [])) if executed is not None else []
        if not ran_clean(executed, test.index):
            if not any(o.get("output_type") == "error" for o in outputs):
                why = (
                    "the cell ran past the time limit"
                    if ran == "timeout"
                    else "the cell did not run to its end"
                )
                outputs.append(_error(why, "RuntimeError"))
        else:
            bad = [verdicts.get(g) for g in test.confirmed_by if not (verdicts.get(g) and verdicts[g].passed)]
            if bad or not test.confirmed_by:
                reason = bad[0].message if bad and bad[0] else "no check of the grader confirms it"
                outputs.append(
                    _error(f"this test passed here, but the grader's check does not confirm it: {reason}")
                )
        cell.outputs = outputs
    return out
