"""A tiny trap assignment and adversarial submissions of it, each with the score an honest grader gives.

``a99_traps`` has two exercises (linear_predict and sin_features from assignment 01's library, 1 + 1
points each, 4 in all) and no plots, so one submission grades in seconds. The notebook runs in the sandbox
and the judge outside decides every point (autograder/judge.py). ``trap_class`` holds the nbgrader traps
(tests/test_pipeline_grading.py grades them); ``redteam_class`` the attacks on the sandbox and the judge
(tests/test_redteam.py grades them, and checks the side effects each must not have).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat

from autograder import source
from autograder.samples import fill, set_answer

TRAP_ASSIGNMENT = "a99_traps"
FULL = 4.0

# The trap assignment's text source. Its solutions are written inline (it grades the grader, not a
# library region), so it is read with jupytext directly instead of being built by autograder.source.
TRAP_SOURCE = '''\
# %% [markdown]
# # Trap assignment (tests of the grader only)

# %%
import numpy as np

from course import grading

# %% nbgrader={"grade": false, "grade_id": "linear_predict", "locked": false, "schema_version": 3, "solution": true}
def linear_predict(X, w):
    """y_hat = X w."""
    ### BEGIN SOLUTION
    return X @ w
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "linear_predict_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
y_hat = linear_predict(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0]))
grading.expect_close("linear_predict(X, w)", y_hat, np.array([-1.0, -1.0]))

# %% nbgrader={"grade": true, "grade_id": "linear_predict_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the judge compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.linear_predict", linear_predict)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "sin_features", "locked": false, "schema_version": 3, "solution": true}
def sin_features(x):
    """phi(x) = [1, x, sin(3x)]."""
    ### BEGIN SOLUTION
    return np.stack([np.ones_like(x), x, np.sin(3 * x)], axis=1)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "sin_features_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
X = sin_features(np.array([0.0, 1.0]))
grading.expect_close("sin_features(x)", X, np.array([[1.0, 0.0, 0.0], [1.0, 1.0, np.sin(3.0)]]))

# %% nbgrader={"grade": true, "grade_id": "sin_features_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the judge compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a01.sin_features", sin_features)
### END HIDDEN TESTS
'''


def write_trap_source(source_dir: Path) -> Path:
    path = Path(source_dir) / TRAP_ASSIGNMENT / f"{TRAP_ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = source.normalise(jupytext.reads(TRAP_SOURCE, fmt=source.TEXT_FORMAT))
    nbformat.write(nb, str(path))
    return path


@dataclass
class Case:
    notebook: object | None  # None: ``raw`` is written instead
    expected_score: float
    expected_status: str = "graded"
    expected_cells: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # extra files beside the notebook
    raw: str | None = None
    why: str = ""


WRONG_SIN = "def sin_features(x):\n    return np.zeros((len(x), 3))\n"
LOOP_SIN = "def sin_features(x):\n    while True:\n        pass\n"
WARN_PREDICT = (
    "import sys\nimport warnings\n\ndef linear_predict(X, w):\n"
    '    warnings.warn("this API is deprecated", DeprecationWarning)\n'
    '    print("a note on stderr", file=sys.stderr)\n    return X @ w\n'
)
FAKE_GRADING = (
    "def expect_close(*args, **kwargs):\n    pass\n\n\ndef check_function(*args, **kwargs):\n    pass\n"
)
CELLS = ("linear_predict_visible", "linear_predict_hidden", "sin_features_visible", "sin_features_hidden")


def _cells(*scores: float) -> dict[str, float]:
    return dict(zip(CELLS, scores, strict=True))


def _cells_with(nb, grade_ids: set[str]) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") in grade_ids]


def trap_class(release_nb, source_nb) -> dict[str, Case]:
    """student id -> Case for the trap assignment (scores out of 4).

    Traps are combined so that the batch stays short, and each combination is readable cell by cell:
    - t_correct_but_hostile: right answers, yet a DeprecationWarning and prints on stderr, a numpy.py
      beside the notebook (never in the sandbox: only the notebook is) and a copy-pasted test cell (4).
    - t_hiding_mistakes: a right linear_predict whose test cells were deleted (put back: 2 points),
      a wrong sin_features whose test cells are tagged skip-execution, and a fake course/grading.py
      beside the notebook that passes everything (both must not help: 0 points for sin_features).
    - t_infinite_loop: sin_features never returns (the per-cell timeout stops it; 2 points).
    - t_invalid_json: the file cut in half (unreadable, 0).
    - t_complete: the control, all answers right (4).
    """
    ids = ["linear_predict", "sin_features"]
    complete = fill(release_nb, source_nb, ids)
    cases = {"t_complete": Case(complete, FULL, expected_cells=_cells(1, 1, 1, 1), why="control")}

    nb = copy.deepcopy(complete)
    set_answer(nb, "linear_predict", WARN_PREDICT)
    i = _cells_with(nb, {"linear_predict_visible"})[0]
    pasted = copy.deepcopy(nb.cells[i])
    pasted["id"] = "pasted-copy"  # Jupyter gives a pasted cell a new id but keeps its nbgrader metadata
    nb.cells.insert(i + 1, pasted)
    cases["t_correct_but_hostile"] = Case(
        nb,
        FULL,
        expected_cells=_cells(1, 1, 1, 1),
        files={"numpy.py": 'raise ImportError("shadowed numpy")\n'},
        why="a warning on stderr, a numpy.py beside the notebook and a duplicated test cell cost nothing",
    )

    nb = copy.deepcopy(complete)
    for i in reversed(_cells_with(nb, {"linear_predict_visible", "linear_predict_hidden"})):
        del nb.cells[i]
    set_answer(nb, "sin_features", WRONG_SIN)
    for i in _cells_with(nb, {"sin_features_visible", "sin_features_hidden"}):
        nb.cells[i].metadata["tags"] = ["skip-execution"]
    cases["t_hiding_mistakes"] = Case(
        nb,
        2.0,
        expected_cells=_cells(1, 1, 0, 0),
        files={"course/__init__.py": "", "course/grading.py": FAKE_GRADING},
        why="deleted test cells come back and run; skip tags and a fake course package hide no mistake",
    )

    nb = copy.deepcopy(complete)
    set_answer(nb, "sin_features", LOOP_SIN)
    cases["t_infinite_loop"] = Case(nb, 2.0, expected_cells=_cells(1, 1, 0, 0), why="per-cell timeout")

    text = json.dumps(json.loads(json.dumps(complete)), indent=1)
    cases["t_invalid_json"] = Case(
        None,
        0.0,
        "unreadable",
        expected_cells=_cells(0, 0, 0, 0),
        raw=text[: len(text) // 2],
        why="truncated file",
    )
    return cases


def write_trap_class(submitted_root: Path, cases: dict[str, Case]) -> None:
    import nbformat

    for student, case in cases.items():
        folder = Path(submitted_root) / student / TRAP_ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{TRAP_ASSIGNMENT}.ipynb"
        if case.notebook is None:
            path.write_text(case.raw or "")
        else:
            nbformat.write(case.notebook, path)
        for name, text in case.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)


# ---- red team: attacks on the sandbox and the judge --------------------------------------------------

MARK = "REDTEAM"  # in every file an attack writes and every process it starts, so the test can look for it
RIGHT_PREDICT = "def linear_predict(X, w):\n    return X @ w\n"


@dataclass
class Attack:
    """What an attacking submission knows of the grading machine (the paths are the test's own)."""

    root: Path  # the repository
    gradebook: Path
    port: int  # a port the test listens on outside the sandbox
    venv_site: Path


def _probe(lines: str) -> str:
    """Code that prints ``MARK-FOUND: [...]`` with everything the attempts in ``lines`` reached."""
    return "found = []\n" + lines + f"print('{MARK}-FOUND:', found)\n"


def _insert_after(nb, grade_id: str, source: str) -> None:
    i = _cells_with(nb, {grade_id})[0]
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(source))


def redteam_class(release_nb, source_nb, attack: Attack) -> dict[str, Case]:
    """student id -> Case: each attack with the score an honest grader gives its answers.

    In every case the attack's payoff would be points for a wrong sin_features (or a changed world);
    linear_predict is right and sin_features wrong unless the case says otherwise.
    """
    complete = fill(release_nb, source_nb, ["linear_predict", "sin_features"])
    half = copy.deepcopy(complete)
    set_answer(half, "sin_features", WRONG_SIN)  # honest score 2: linear_predict's two cells
    cases: dict[str, Case] = {}

    def case(name, base, score, cells, answer=None, extra=(), **kw):
        nb = copy.deepcopy(base)
        if answer is not None:
            set_answer(nb, "sin_features", answer)
        for after, code in extra:
            _insert_after(nb, after, code)
        cases[name] = Case(nb, score, expected_cells=_cells(*cells), **kw)
        return nb

    root = attack.root
    case(
        "r_import_reference",
        half,
        2.0,
        (1, 1, 0, 0),
        _probe(
            "import importlib, glob, os, sys\n"
            "for name in ('course_reference', 'course_reference.models.linear', 'autograder.checks',\n"
            "             'autograder.checks.core', 'autograder.judge', 'solutions'):\n"
            "    try:\n        importlib.import_module(name); found.append(name)\n"
            "    except Exception:\n        pass\n"
            "try:\n    import course_reference; found.append('import course_reference')\n"
            "except Exception:\n    pass\n"
            f"for pattern in ({str(root / 'solutions' / '*')!r}, {str(root / 'autograder' / 'checks' / '*')!r},\n"
            "                '/tmp/**/judge_secret', '/tmp/**/checks/*.py'):\n"
            "    found += glob.glob(pattern, recursive=True)[:3]\n"
            "for folder in sys.path:\n"
            "    found += glob.glob(os.path.join(folder or '.', 'course_reference*'))\n"
            "    found += glob.glob(os.path.join(folder or '.', 'autograder', 'checks'))\n"
            "found += [p for p in sys.path if 'reference' in p]\n"
            "def sin_features(x):\n"
            "    import course_reference.models.linear as ref\n"
            "    return ref.sin_features(x)\n"
        ),
        why="the reference, the checks and solutions/ are not in the sandbox: nothing found, 0 for sin_features",
    )
    case(
        "r_monkeypatch",
        half,
        2.0,
        (1, 1, 0, 0),
        WRONG_SIN + "import builtins, sys, types\nimport numpy\nfrom course import grading\n"
        "numpy.isclose = lambda *a, **k: numpy.ones(numpy.broadcast(*a[:2]).shape, bool)\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "grading.expect_close = lambda *a, **k: None\n"
        "fake = types.ModuleType('autograder.checks.core')\nfake.check_function = lambda *a, **k: None\n"
        "for name in ('autograder', 'autograder.checks', 'autograder.checks.core'):\n"
        "    sys.modules[name] = fake\n"
        "builtins.AssertionError = type('Never', (Exception,), {})\n",
        why="patching numpy, course.grading, sys.modules and builtins changes nothing the judge decides",
    )
    case(
        "r_ipython_hooks",
        half,
        2.0,
        (1, 1, 0, 0),
        WRONG_SIN + "import ast\nip = get_ipython()\n"
        "ip.input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
        "ip.input_transformers_post.append(lambda lines: ['pass\\n'])\n"
        "class Blank(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n        return ast.Module(body=[ast.Pass()], type_ignores=[])\n"
        "ip.ast_transformers.append(Blank())\n"
        "ip.events.register('pre_run_cell', lambda *a: None)\n",
        why="input and AST transformers and a pre_run_cell hook blank the test cells: still wrong",
    )
    case(
        "r_stack_walk",
        half,
        2.0,
        (1, 1, 0, 0),
        "import gc, inspect\n"
        "def sin_features(x):\n"
        "    for frame in inspect.stack():\n"
        "        for scope in (frame.frame.f_globals, frame.frame.f_locals):\n"
        "            for key in ('reference', 'ref', 'expected', 'want', 'solution'):\n"
        "                if key in scope and callable(scope[key]):\n"
        "                    print('REDTEAM-FOUND:', ['frame ' + key])\n"
        "                    return scope[key](x)\n"
        "    for obj in gc.get_objects():\n"
        "        if callable(obj) and getattr(obj, '__name__', '') == 'sin_features' and obj is not sin_features:\n"
        "            print('REDTEAM-FOUND:', ['gc ' + obj.__module__])\n"
        "            return obj(x)\n"
        "    return np.zeros((len(x), 3))\n",
        why="the judge's reference is in another process: the stack and gc hold only the student's code",
    )
    always = (
        "class Anything:\n"
        "    shape = property(lambda self: (2,))\n    dtype = float\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    def __array__(self, *a, **k):\n        return np.array([-1.0, -1.0])\n"
        "def linear_predict(X, w):\n    return Anything()\n"
    )
    nb = copy.deepcopy(complete)
    set_answer(nb, "linear_predict", always)
    cases["r_always_equal"] = Case(
        nb,
        2.0,
        expected_cells=_cells(0, 0, 1, 1),
        why="an object whose __eq__ is always True is no plain value: it does not cross the wire",
    )
    case(
        "r_rng_patch",
        half,
        2.0,
        (1, 1, 0, 0),
        WRONG_SIN + "import numpy\n_real = numpy.random.default_rng\n"
        "numpy.random.default_rng = lambda *a, **k: _real(0)\nnumpy.random.seed(0)\n",
        why="the hidden inputs are drawn by the judge outside, keyed by a secret",
    )
    targets = [
        root / "course" / f"{MARK}_planted.py",
        root / "course" / "grading.py",
        root / "solutions" / f"{MARK}.txt",
        root / "autograder" / "checks" / "core.py",
        attack.gradebook,
        attack.venv_site / f"{MARK}.pth",
        Path.home() / ".ipython" / "profile_default" / "startup" / f"00-{MARK}.py",
    ]
    case(
        "r_write_outside",
        complete,
        FULL,
        (1, 1, 1, 1),
        extra=[
            (
                "sin_features",
                _probe(
                    f"for target in {[str(t) for t in targets]!r}:\n"
                    "    try:\n"
                    "        with open(target, 'a') as f:\n"
                    f"            f.write('# {MARK}\\n')\n"
                    "        found.append(target)\n"
                    "    except OSError:\n        pass\n"
                    "import os\n"
                    f"for target in {[str(root / 'course'), str(root / 'autograder'), str(attack.gradebook.parent)]!r}:\n"
                    "    try:\n        os.rename(target, target + '-gone'); found.append('renamed ' + target)\n"
                    "    except OSError:\n        pass\n"
                ),
            )
        ],
        why="course/, solutions/, the gradebook, site-packages and ~/.ipython are out of reach: all writes fail",
    )
    detach = (
        "import os, subprocess, sys\n"
        f'loop = \'import time\\nwhile True:\\n    open("/tmp/x", "a"); time.sleep(0.2)  # {MARK}-DETACHED\'\n'
        "proc = subprocess.Popen([sys.executable, '-c', loop], start_new_session=True,\n"
        "                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setsid()\n"
        "    os.execv(sys.executable, [sys.executable, '-c', loop])\n"
        f"print('{MARK}-SPAWNED', proc.pid, pid)\n"
    )
    case(
        "r_detached",
        complete,
        FULL,
        (1, 1, 1, 1),
        extra=[("sin_features_hidden", detach)],
        why="a detached process (Popen start_new_session, fork + setsid) dies with the sandbox",
    )
    bomb = (
        "import numpy\nchunks = []\n"
        "try:\n"
        "    while len(chunks) < 48:  # 48 x 64 MiB = 3 GiB, then stop\n"
        "        chunks.append(numpy.ones(8 << 20))\n"
        "except MemoryError:\n    print('MemoryError after', len(chunks), 'chunks')\n"
        "del chunks\n"
    )
    case(
        "r_memory_bomb",
        complete,
        FULL,
        (1, 1, 1, 1),
        extra=[("linear_predict_hidden", bomb)],
        why="3 GiB asked for past the 2 GiB limit: that cell fails, the tasks before and after keep points",
    )
    spawn = (
        "import subprocess\nprocs = []\n"
        "try:\n"
        "    while len(procs) < 300:\n"
        "        procs.append(subprocess.Popen(['sleep', '61.%d' % len(procs)]))\n"
        "except OSError as err:\n    print('stopped at', len(procs), type(err).__name__)\n"
        "for p in procs:\n    p.kill()\n"
        "for p in procs:\n    p.wait()\n"
    )
    case(
        "r_spawn_300",
        complete,
        FULL,
        (1, 1, 1, 1),
        extra=[("linear_predict_hidden", spawn)],
        why="300 processes asked for past the process limit: the cell fails, nothing else does",
    )
    case(
        "r_network",
        complete,
        FULL,
        (1, 1, 1, 1),
        extra=[
            (
                "sin_features",
                _probe(
                    "import socket\n"
                    "for host in ('127.0.0.1', 'localhost', '10.0.2.2'):\n"
                    "    try:\n"
                    f"        socket.create_connection((host, {attack.port}), timeout=2).close()\n"
                    "        found.append(host)\n"
                    "    except OSError:\n        pass\n"
                ),
            )
        ],
        why="the sandbox's network namespace has only its own loopback",
    )
    case(
        "r_big_output",
        complete,
        FULL,
        (1, 1, 1, 1),
        extra=[("sin_features", "for _ in range(50):\n    print('x' * 1_000_000)\n")],
        why="50 MB printed: capped, the autograded notebook stays small",
    )
    case(
        "r_script_html",
        complete,
        FULL,
        (1, 1, 1, 1),
        extra=[
            (
                "sin_features",
                "from IPython.display import HTML, display\n"
                f'display(HTML(\'<script>alert("{MARK}")</script><img src=x onerror="alert(1)">\'))\n',
            )
        ],
        why="a script in displayed HTML: the feedback page has no live script",
    )
    nb = copy.deepcopy(complete)
    nb.cells.append(nbformat.v4.new_code_cell("import ctypes\nctypes.string_at(0)\n"))
    nb.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(3)\n"))
    cases["r_dies_last"] = Case(
        nb,
        FULL,
        expected_cells=_cells(1, 1, 1, 1),
        why="a segfault and os._exit after every test keep the points",
    )
    kill_all = (
        "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n    pass\n"
        "os.kill(-1, signal.SIGKILL)  # every process this code may signal\n"
    )
    case(
        "r_kill_everything",
        complete,
        2.0,
        (1, 1, 0, 0),
        extra=[("linear_predict_hidden", kill_all)],
        why="SIGKILL to the parent and to every process it may signal, after the first exercise's tests: "
        "only the sandbox dies; the first exercise keeps its points, the batch and the grader go on",
    )
    cases["r_future_stamp"] = Case(
        copy.deepcopy(complete),
        FULL,
        expected_cells=_cells(1, 1, 1, 1),
        files={"timestamp.txt": "2099-01-01 00:00:00.000000 UTC\n"},
        why="a handed-in time after the grading is replaced by the time of grading",
    )
    nb = copy.deepcopy(complete)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "sin_features_visible":
            cell.metadata["nbgrader"]["grade_id"] = "my_own_test"
    cases["r_renamed_test"] = Case(
        nb, FULL, expected_cells=_cells(1, 1, 1, 1), why="a renamed test id: the test cell is put back"
    )
    cases["r_stamp_and_scratch"] = Case(
        copy.deepcopy(complete),
        FULL,
        expected_cells=_cells(1, 1, 1, 1),
        files={
            "timestamp.txt": "the day before the deadline, honest\n",
            "scratch.ipynb": '{"cells": [ broken',
        },
        why="an unreadable timestamp.txt and a broken extra notebook cost nothing",
    )
    cases["r_fake_feedback"] = Case(
        copy.deepcopy(complete),
        FULL,
        expected_cells=_cells(1, 1, 1, 1),
        files={"0_feedback.html": f"<html><body>{MARK}: 100 / 100, well done</body></html>"},
        why="an HTML file in the submission is not published as the student's feedback",
    )
    cases["r_symlinks"] = Case(
        copy.deepcopy(complete),
        FULL,
        expected_cells=_cells(1, 1, 1, 1),
        why="a dangling link, a link loop and a link to /etc/passwd are refused with a note",
    )
    return cases


def write_links(submitted_root: Path) -> None:
    """The links of r_symlinks, and r_linked_folder: an assignment folder that is a link."""
    folder = Path(submitted_root) / "r_symlinks" / TRAP_ASSIGNMENT
    (folder / "dangling.csv").symlink_to("/nonexistent/data.csv")
    (folder / "loop_a").symlink_to(folder / "loop_b")
    (folder / "loop_b").symlink_to(folder / "loop_a")
    (folder / "passwd").symlink_to("/etc/passwd")
    (folder / "up").symlink_to("..")
    linked = Path(submitted_root) / "r_linked_folder"
    linked.mkdir()
    (linked / TRAP_ASSIGNMENT).symlink_to(Path(submitted_root) / "r_symlinks" / TRAP_ASSIGNMENT)
