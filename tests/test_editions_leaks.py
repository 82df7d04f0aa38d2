"""Leak hunting in the student editions: no callable of an edition hands out an answer of its assignment.

The hunt. For every assignment with a notebook, its edition is built and then every graded region left in
it (those of earlier assignments) is stubbed too: whatever still computes an answer there does it outside
every graded region, which is a leak (through an earlier assignment's graded function it is the student's
own earlier work, which the edition keeps working on purpose). In that copy every public function of
every module, and every public method of every class that builds without arguments, is called on each
graded task's visible inputs (from the hidden spec's input generator, ``checks.spec(key).inputs``, or its
``cases``, with a fixed seed; a few tasks without an input generator get inputs written here), bound by
argument name and by position, with a time limit; a call that returns the reference's answer (any of its
distinctive arrays, to 1e-6) fails the test. Tasks whose answer is no array on fixed inputs (graph
algorithms, training loops, kernels) are covered by the named tests below.

Then one test per leak found before: each route must now raise or be absent.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import os
import pickle
import pkgutil
import signal
import subprocess
import sys
import textwrap
import warnings
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder import checks, editions, settings
from autograder.checks import core

HUNTED = [a for a in settings.ASSIGNMENTS if (settings.SOURCE_DIR / a / f"{a}.ipynb").is_file()]
SEED = 20240601
CALL_LIMIT_S = 2.0
# They run a notebook or write a file, and compute no graded quantity: not called by the hunt.
NOT_CALLED = ("course.check", "course.submit")


# ---------------------------------------------------------------------------------------------------
# visible inputs of the tasks without an input generator (used by the parent and the hunting process)
# ---------------------------------------------------------------------------------------------------


def _numerical_gradient_inputs(rng: np.random.Generator) -> dict[str, Any]:
    x = rng.standard_normal((2, 3))
    return {"f": lambda: float(np.sum(x**3)), "x": x}


def _numerical_gradient_array_inputs(rng: np.random.Generator) -> dict[str, Any]:
    x, dout = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    return {"f": lambda: x**2, "x": x, "dout": dout}


def _two_layer_inputs(rng: np.random.Generator) -> dict[str, Any]:
    params = {
        "w1": rng.standard_normal((4, 5)),
        "b1": rng.standard_normal(5),
        "w2": rng.standard_normal((5, 3)),
        "b2": rng.standard_normal(3),
    }
    return {"params": params, "X": rng.standard_normal((6, 4)), "y": rng.integers(0, 3, 6)}


def _binary_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal((3, 4))}


def _matmul_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal((4, 2))}


def _unary_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": rng.standard_normal((3, 4))}


def _logits_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"logits": rng.standard_normal((5, 4)), "labels": rng.integers(0, 4, 5)}


def _grads_params_inputs(rng: np.random.Generator) -> dict[str, Any]:
    grads = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    params = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    return {"grads": grads, "params": params, "weight_decay": 0.3}


def _clip_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"grads": [rng.standard_normal((3, 2)), rng.standard_normal(2)], "max_norm": 0.5}


def _rule_inputs(task: str):
    """An update rule's inputs: w, dw and the spec's random config."""

    def make(rng: np.random.Generator) -> dict[str, Any]:
        w, dw = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
        return {"w": w, "dw": dw, "config": dict(checks.spec(f"a04.{task}").inputs(rng))}

    return make


def _minibatch_inputs(rng: np.random.Generator) -> dict[str, Any]:
    case = checks.spec("a04.minibatch_indices").inputs(rng)
    return {"n": case["n"], "batch_size": case["batch_size"], "rng": np.random.default_rng(case["seed"])}


SPACE = {"a": (1e-4, 1e-1, "log"), "b": (-1.0, 2.0, "linear")}
RULES = ("sgd", "sgd_momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam")

# task -> (reference object, inputs(rng), how the answer is computed from the reference and the inputs)
CUSTOM = {
    "a02.numerical_gradient": ("core.gradcheck.numerical_gradient", _numerical_gradient_inputs, "keywords"),
    "a02.numerical_gradient_array": (
        "core.gradcheck.numerical_gradient_array",
        _numerical_gradient_array_inputs,
        "keywords",
    ),
    "a02.two_layer_loss": ("models.two_layer.two_layer_loss", _two_layer_inputs, "keywords"),
    "a03.forward_rules/add": ("minitf.ops.Add", _binary_inputs, "op"),
    "a03.forward_rules/multiply": ("minitf.ops.Multiply", _binary_inputs, "op"),
    "a03.forward_rules/matmul": ("minitf.ops.MatMul", _matmul_inputs, "op"),
    "a03.forward_rules/square": ("minitf.ops.Square", _unary_inputs, "op"),
    "a03.forward_rules/sigmoid": ("minitf.ops.Sigmoid", _unary_inputs, "op"),
    "a03.softmax_cross_entropy_forward": ("minitf.ops.SoftmaxCrossEntropy", _logits_inputs, "op"),
    "a04.add_weight_decay": ("training.optim.add_weight_decay", _grads_params_inputs, "keywords"),
    "a04.clip_grad_norm": ("training.optim.clip_grad_norm", _clip_inputs, "keywords"),
    "a04.grid_points": (
        "training.hyperparameter_search.grid_points",
        lambda rng: {"space": SPACE, "per_axis": 3},
        "keywords",
    ),
    "a04.random_points": (
        "training.hyperparameter_search.random_points",
        lambda rng: {"space": SPACE, "n": 4, "rng": rng},
        "keywords",
    ),
    "a04.minibatch_indices": ("data.batching.minibatch_indices", _minibatch_inputs, "keywords"),
    **{f"a04.{rule}": (f"training.optim.{rule}", _rule_inputs(rule), "keywords") for rule in RULES},
}


# ---------------------------------------------------------------------------------------------------
# answers: the reference's outputs as arrays
# ---------------------------------------------------------------------------------------------------


def leaves(value: Any, depth: int = 0) -> list[np.ndarray]:
    """The numeric arrays in a result (tuples, lists and dicts opened three levels deep)."""
    if isinstance(value, dict) and depth < 3:
        return [leaf for v in value.values() for leaf in leaves(v, depth + 1)]
    if isinstance(value, (tuple, list)) and depth < 3:
        if value and all(isinstance(v, dict) for v in value):  # a list of points: their values in order
            return [leaf for v in value for leaf in leaves(v, depth + 1)]
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            array = None
        if array is not None and array.dtype.kind in "fiub" and array.ndim == 1 and len(value) > 1:
            return [array.astype(np.float64)]
        return [leaf for v in value for leaf in leaves(v, depth + 1)]
    if hasattr(value, "get") and not isinstance(value, (np.ndarray, dict)):  # a CuPy array
        value = value.get()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        return []
    if array.dtype.kind not in "fiub":
        return []
    return [array.astype(np.float64)]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=False))


def distinctive(answer: list[np.ndarray], inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The answer's arrays that no trivial function reproduces: finite, not constant, not a few integers (a
    count or a shape) nor sorted ones (a range), and not one of the inputs."""
    kept = []
    for a in answer:
        if a.size == 0 or not np.all(np.isfinite(a)):
            continue
        if np.all(a == np.round(a)) and (a.size < 3 or np.all(np.diff(a.ravel()) >= 0)):
            continue
        if a.size > 1 and np.ptp(a) < 1e-12:
            continue
        if any(_same(a, x) for x in inputs):
            continue
        kept.append(a)
    return kept


@dataclass
class Task:
    key: str  # 'a02.affine_backward', or 'a03.forward_rules/add' for one rule of a task
    case: int  # which of the spec's cases (-1: its input generator or a CUSTOM one)
    kind: str  # 'call': inputs as they are; 'backward': (dout..., cache) of the reference forward
    answer: list[np.ndarray]
    backward: tuple[list, Any] | None = None  # (douts, cache)
    note: str = ""


def make_inputs(key: str, case: int) -> dict[str, Any]:
    """The visible inputs of a task: the same on every call (a fixed seed)."""
    rng = np.random.default_rng(SEED)
    if key in CUSTOM:
        return dict(CUSTOM[key][1](rng))
    spec = checks.spec(key)
    if case >= 0:
        case_inputs = spec.options["cases"][case]
        return dict((case_inputs["inputs"] if isinstance(case_inputs, dict) else case_inputs)(rng))
    return dict(spec.inputs(rng))


def _is_pair(spec: core.Spec) -> bool:
    return len(spec.takes) == 2 and spec.takes[0].endswith("_forward") and spec.takes[1].endswith("_backward")


def task_answers(assignment: str) -> tuple[list[Task], list[str]]:
    """The tasks of ``assignment`` with visible inputs and array answers, and what was left out and why."""
    tag = assignment.split("_")[0]
    tasks, left_out = [], []
    keys = [
        (f"{tag}.{t}", -1)
        for t, s in checks.specs(tag).items()
        if s.inputs is not None and f"{tag}.{t}" not in CUSTOM
    ]
    keys += [
        (f"{tag}.{t}", i)
        for t, s in checks.specs(tag).items()
        if s.inputs is None
        for i in range(len(s.options.get("cases", [])))
    ]
    keys += [(k, -1) for k in CUSTOM if k.startswith(f"{tag}.")]
    covered = {k.split("/")[0] for k, _ in keys}
    left_out += [f"{tag}.{t}" for t in checks.specs(tag) if f"{tag}.{t}" not in covered]
    for key, case in keys:
        try:
            inputs = make_inputs(key, case)
            input_leaves = leaves(inputs)
            if key in CUSTOM:
                ref = core.reference(CUSTOM[key][0])
                out = ref().forward(*inputs.values()) if CUSTOM[key][2] == "op" else ref(**inputs)
                tasks.append(Task(key, case, "call", distinctive(leaves(out), input_leaves)))
                continue
            spec = checks.spec(key)
            if _is_pair(spec):
                out = core.reference(f"{spec.reference}_forward")(**inputs)
                rng = np.random.default_rng(SEED + 1)
                douts = [rng.standard_normal(np.shape(o)) for o in out[:-1]]
                grads = core.reference(f"{spec.reference}_backward")(*[d.copy() for d in douts], out[-1])
                answer = distinctive(leaves(grads), input_leaves + leaves(douts))
                tasks.append(Task(key, case, "backward", answer, (douts, out[-1])))
            else:
                out = core.reference(spec.reference)(**inputs)
                if spec.takes[0].endswith("_forward") and isinstance(out, tuple):
                    out = out[:-1]  # the cache is no answer
                tasks.append(Task(key, case, "call", distinctive(leaves(out), input_leaves)))
        except Exception as err:  # noqa: BLE001 (a spec whose inputs need the grader's own set-up)
            left_out.append(f"{key}: no reference answer on fixed inputs ({type(err).__name__})")
    return [t for t in tasks if t.answer], left_out + [
        f"{t.key}: no distinctive array in the answer" for t in tasks if not t.answer
    ]


# ---------------------------------------------------------------------------------------------------
# the hunt (runs in a process whose ``course`` is the edition)
# ---------------------------------------------------------------------------------------------------


class _TimeUp(BaseException):  # a BaseException, so that no ``except Exception`` in a callable eats it
    pass


def _on_alarm(signum, frame):
    raise _TimeUp


@contextlib.contextmanager
def _limited(seconds: float):
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _quiet_call(fn, args, kwargs):
    """fn(*args, **kwargs) under the time limit, its output swallowed; (True, result) or (False, None)."""
    import matplotlib.pyplot as plt

    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"), _limited(CALL_LIMIT_S):
                return True, fn(*args, **kwargs)
    except (Exception, _TimeUp, RecursionError):  # noqa: BLE001 (any failure means: no answer from it)
        return False, None
    finally:
        plt.close("all")


def candidates() -> list[tuple[str, Any]]:
    """Every public function of every module of ``course``, and the public methods of its classes' instances
    (for classes that build without arguments)."""
    import course

    found = []
    for info in pkgutil.walk_packages(course.__path__, "course."):
        if info.name.startswith(NOT_CALLED):
            continue
        try:
            module = importlib.import_module(info.name)
        except ModuleNotFoundError:  # a package the edition leaves out: its __init__ only raises
            continue
        for name, obj in sorted(vars(module).items()):
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                found.append((f"{info.name}.{name}", obj))
            elif inspect.isclass(obj):
                built, instance = _quiet_call(obj, (), {})
                if not built:
                    continue
                for method, fn in inspect.getmembers(instance, callable):
                    if not method.startswith("_") and (inspect.ismethod(fn) or inspect.isfunction(fn)):
                        found.append((f"{info.name}.{name}().{method}", fn))
    return found


def _bindings(fn, inputs: dict[str, Any]) -> list[tuple[tuple, dict]]:
    """How a callable can take the inputs: by argument name (the names it shares) and by position."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    names = {p.name for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    found = []
    shared = {k: v for k, v in inputs.items() if k in names}
    if shared:
        with contextlib.suppress(TypeError):
            sig.bind(**shared)
            found.append(((), list(shared)))
    with contextlib.suppress(TypeError):
        sig.bind(*inputs.values())
        found.append((tuple(inputs), []))
    return found


def _fresh_inputs(task: dict[str, Any]):
    """A function that returns new inputs of ``task`` on each call (a callable may change its inputs)."""
    if task["kind"] != "backward":
        return lambda: make_inputs(task["key"], task["case"])
    douts, cache = task["backward"]
    names = [f"dout{i}" if i else "dout" for i in range(len(douts))] + ["cache"]
    return lambda: dict(zip(names, [*[d.copy() for d in douts], pickle.loads(pickle.dumps(cache))]))


def hunt(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Call every candidate on every task's inputs; report the calls that reproduce an answer."""
    signal.signal(signal.SIGALRM, _on_alarm)
    found = candidates()
    calls, leaks, skipped = 0, [], []
    for task in tasks:
        fresh = _fresh_inputs(task)
        made, template = _quiet_call(fresh, (), {})
        if not made:  # its inputs are built with library objects that raise in the edition
            skipped.append(task["key"])
            continue
        for label, fn in found:
            for positional, named in _bindings(fn, template):
                inputs = fresh()
                calls += 1
                ok, result = _quiet_call(
                    fn, tuple(inputs[k] for k in positional), {k: inputs[k] for k in named}
                )
                if ok and any(_same(got, want) for got in leaves(result) for want in task["answer"]):
                    leaks.append(f"{task['key']}: {label}({'by position' if positional else 'by name'})")
    return {"callables": len(found), "calls": calls, "tasks": len(tasks), "leaks": leaks, "skipped": skipped}


def _hunt_main(tasks_path: str, out_path: str) -> None:
    tasks = pickle.loads(Path(tasks_path).read_bytes())
    Path(out_path).write_text(json.dumps(hunt(tasks)))


# ---------------------------------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------------------------------


def _all_stubbed_edition(assignment: str, dest: Path) -> Path:
    """The edition of ``assignment`` with the earlier assignments' regions stubbed too. It carries no
    marker module, so that the input generators' ``reference`` objects come from it (they cannot leak)."""
    package = editions.build_student_edition(assignment, dest)
    (package / editions.MARKER_MODULE).unlink()
    for path in package.rglob("*.py"):
        text = path.read_text()
        stubbed = editions.stub_text(text, 1, str(path))
        if stubbed != text:
            path.write_text(stubbed)
    return dest


def _env(edition: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(edition), str(settings.ROOT)]), **extra}
    env.update(PYTHONSAFEPATH="1", MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", NUMBA_ENABLE_CUDASIM="1")
    env.pop("COURSE_REFERENCE_PATH", None)
    return env


@pytest.mark.parametrize("assignment", HUNTED)
def test_no_callable_of_the_edition_reproduces_an_answer_of_its_assignment(assignment, tmp_path):
    tasks, left_out = task_answers(assignment)
    edition = _all_stubbed_edition(assignment, tmp_path / "edition")
    (tmp_path / "tasks.pkl").write_bytes(pickle.dumps([asdict(t) for t in tasks]))
    work = tmp_path / "cwd"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, __file__, str(tmp_path / "tasks.pkl"), str(tmp_path / "hunt.json")],
        env=_env(edition),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "hunt.json").read_text())
    hunted = report["tasks"] - len(report["skipped"])
    print(
        f"{assignment}: {report['callables']} callables tried on the visible inputs of {hunted} tasks "
        f"({report['calls']} calls); inputs that need the library's graded objects: {report['skipped']}; "
        f"no visible-input hunt for {len(left_out)}: {left_out}"
    )
    assert report["callables"] > 30 and (hunted or not tasks)
    assert not report["leaks"], f"callables of the {assignment} edition hand out answers: {report['leaks']}"


def test_the_hunt_finds_a_planted_leak(tmp_path):
    """A helper outside any graded region that computes relu_forward's answer is reported."""
    tasks, _ = task_answers("a02_backprop_modules")
    tasks = [t for t in tasks if t.key == "a02.relu_forward"]
    edition = _all_stubbed_edition("a02_backprop_modules", tmp_path / "edition")
    with open(edition / "course" / "core" / "validation.py", "a") as f:
        f.write("\n\ndef clip_below(x):\n    return (x * (x > 0),)\n")
    (tmp_path / "tasks.pkl").write_bytes(pickle.dumps([asdict(t) for t in tasks]))
    subprocess.run(
        [sys.executable, __file__, str(tmp_path / "tasks.pkl"), str(tmp_path / "hunt.json")],
        env=_env(edition),
        cwd=tmp_path,
        check=True,
        timeout=600,
    )
    leaks = json.loads((tmp_path / "hunt.json").read_text())["leaks"]
    assert "a02.relu_forward: course.core.validation.clip_below(by position)" in leaks, leaks


# ---- the leaks found before, one by one ------------------------------------------------------------------


@pytest.fixture(scope="module")
def edition_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("leak_editions")
    for assignment in HUNTED:
        editions.build_student_edition(assignment, root / assignment)
    return root


def _run_in(edition: Path, code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(edition), "PYTHONSAFEPATH": "1", "MPLBACKEND": "Agg"}
    env.pop("COURSE_REFERENCE_PATH", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, cwd="/"
    )


def _raises_not_implemented(edition: Path, setup: str, call: str, task: str) -> None:
    result = _run_in(edition, f"import numpy as np\n{textwrap.dedent(setup)}\n{call}\n")
    assert result.returncode != 0, f"{call} ran in {edition.name}: it hands out {task}"
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"NotImplementedError: {task} is graded in assignment"), last
    assert "Exercise" in last, f"the stub does not name the exercise: {last}"


def _absent(edition: Path, module: str) -> None:
    result = _run_in(edition, f"import {module}")
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr, (
        f"{module} imports in the {edition.name} edition"
    )


A02, A03, A04 = "a02_backprop_modules", "a03_mini_tensorflow", "a04_training_deep_nets"


def test_a03_topological_order_does_not_leak_through_graph_layout(edition_root):
    setup = """
        from course.minitf.graph import Graph
        from course.minitf import draw
        g = Graph()
        x = g.placeholder("x")
        y = g.add(g.square(x), x)
    """
    _raises_not_implemented(edition_root / A03, setup, "list(draw.graph_layout([y]))", "topological_order")


@pytest.mark.parametrize(
    "module",
    ["course.minitf.ops", "course.kernels.softmax", "course.kernels.lstm_cell", "course.layers.lstm"],
)
def test_a02_answers_do_not_leak_through_later_modules_which_are_absent(edition_root, module):
    # softmax through minitf's Softmax or the kernels' NumPy twin, relu through minitf's ReLU and Step,
    # sigmoid through the LSTM's gates, affine_backward through fused_lstm_backward with a crafted cache
    _absent(edition_root / A02, module)


def test_a02_rel_error_does_not_leak_through_assert_gradient_close(edition_root):
    setup = "from course.core.gradcheck import assert_gradient_close"
    call = "assert_gradient_close('x', np.array([1.0, 2.0]), np.array([1.0, 2.2]), tol=np.inf)"
    _raises_not_implemented(edition_root / A02, setup, call, "rel_error")


def test_a04_train_epoch_order_does_not_leak_through_the_batching_helpers(edition_root):
    setup = "from course.data.batching import iterate_minibatches"
    call = "list(iterate_minibatches(np.arange(10.0), np.arange(10), 3, np.random.default_rng(0)))"
    _raises_not_implemented(edition_root / A04, setup, call, "minibatch_indices")


def test_a04_he_normal_does_not_leak_through_linear_weights(edition_root):
    setup = "from course.layers.affine import Linear"
    _raises_not_implemented(edition_root / A04, setup, "Linear(4, 3, rng=0)", "he_normal")


@pytest.mark.parametrize(
    "call, task",
    [
        ("hs.grid_search(lambda p: p['a'], {'a': (0.0, 1.0, 'linear')}, 3)", "grid_points"),
        ("hs.random_search(lambda p: p['a'], {'a': (0.0, 1.0, 'linear')}, 3, np.random.default_rng(0))",
         "random_points"),
    ],
)  # fmt: skip
def test_a04_search_points_do_not_leak_through_the_search_helpers(edition_root, call, task):
    _raises_not_implemented(
        edition_root / A04, "import course.training.hyperparameter_search as hs", call, task
    )


def _later_region_lines(number: int) -> set[str]:
    """Distinctive lines of the graded regions of assignments after ``number`` that appear nowhere else."""
    inside, outside = set(), set()
    for path in sorted(settings.LIBRARY_DIR.rglob("*.py")):
        lines = path.read_text().splitlines()
        spans = [
            (r.first_line, r.last_line)
            for r in editions.find_regions(path.read_text(), str(path))
            if r.assignment > number
        ]
        for i, line in enumerate(lines, start=1):
            (inside if any(a < i < b for a, b in spans) else outside).add(line.strip())
    return {line for line in inside - outside if len(line) > 24 and not line.startswith("#")}


@pytest.mark.parametrize("assignment", [a for a in HUNTED if settings.assignment_number(a) <= 5])
def test_a01_to_a05_wheels_carry_no_later_answer_nor_a06_to_a10_module(edition_root, assignment, tmp_path):
    number = settings.assignment_number(assignment)
    wheel = editions.build_wheel(edition_root / assignment / "course", assignment, tmp_path)
    modules = editions.library_modules()
    held = {modules[m].path for m in editions.edition_modules(assignment, modules=modules)}
    recurrent_on = {m.path for m in modules.values() if m.assignments and min(m.assignments) >= 6}
    lines = _later_region_lines(number)
    with zipfile.ZipFile(wheel) as zf:
        names = {n for n in zf.namelist() if n.endswith(".py")}
        # what is there is what the rule holds, plus the files of absent packages that only raise
        tombstones = {n for n in names - held if "raise ModuleNotFoundError" in zf.read(n).decode()}
        assert names - tombstones - {"course/_student_edition.py"} == held
        assert not names & recurrent_on, f"a06-a10 modules in the wheel: {sorted(names & recurrent_on)}"
        for name in names:
            text = {line.strip() for line in zf.read(name).decode().splitlines()}
            assert not text & lines, f"{name} holds later answers: {sorted(text & lines)[:3]}"
    assert "course/layers/lstm.py" not in names and "course/kernels/lstm_cell.py" not in names


def test_a09_edition_keeps_the_a06_to_a08_answers_working_and_the_a10_modules_absent(edition_root):
    """The decision: a09 is released after a08's deadline, so a06-a08 are earlier answers there."""
    a09 = edition_root / "a09_gpu_kernels"
    result = _run_in(
        a09,
        """
        import numpy as np
        from course.layers.lstm import lstm_step_forward
        x, h, c = np.ones((2, 3)), np.zeros((2, 4)), np.zeros((2, 4))
        wx, wh, b = np.full((3, 16), 0.1), np.full((4, 16), 0.1), np.zeros(16)
        print(lstm_step_forward(x, h, c, wx, wh, b)[0].shape)
        """,
    )
    assert result.returncode == 0 and result.stdout.strip() == "(2, 4)", result.stderr[-2000:]
    for module in ("course.models.autoencoder", "course.models.adversarial", "course.layers.graph"):
        _absent(a09, module)


if __name__ == "__main__":
    _hunt_main(sys.argv[1], sys.argv[2])
