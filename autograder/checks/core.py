"""The hidden checks' machinery: the student's function against the reference on seeded random inputs.

Each graded task of an assignment has one ``Spec`` (in ``autograder/checks/aNN.py``): which objects of the
student's notebook it takes, how its inputs are drawn, the reference it is compared with, its tolerances
and the properties it checks (outputs, shapes, no change to the inputs, call counts). A hidden test cell
is one call, ``run("a02.affine_backward", affine_forward, affine_backward)``; ``run`` finds the spec and
runs its procedure. Messages say what is off and by how much, never the expected values or the test's
source, because feedback shows them.

The reference is the full library renamed ``course_reference``: on the grading kernel's path only (or in
``$COURSE_REFERENCE_PATH``); where the full library is installed as ``course`` (the instructor's checkout,
CI running the solution notebooks) the library itself is the reference. Nothing here imports ``course``
at module level: inside the grader ``course`` is the student edition.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import importlib
import importlib.util
import os
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.remote import RemoteObject, remote_getattr, type_name  # noqa: F401 (type_name: for the checks)

REFERENCE_PACKAGE = "course_reference"
REFERENCE_PATH_ENV = "COURSE_REFERENCE_PATH"


class GraderOnlyError(RuntimeError):
    """A hidden check ran where the reference library is not installed (a student's machine)."""


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "get") and not isinstance(value, (dict, np.ndarray)):  # a CuPy array
        value = value.get()
    return np.asarray(value)


def reference(name: str) -> Callable[..., Any]:
    """The reference object ``name='package.module.attr'``, e.g. 'models.linear.squared_loss'."""
    module_name, _, attr = name.rpartition(".")
    path = os.environ.get(REFERENCE_PATH_ENV)
    if path and path not in sys.path:
        sys.path.append(path)  # appended, so it can never shadow anything the student imports
    try:
        module = importlib.import_module(f"{REFERENCE_PACKAGE}.{module_name}")
    except ModuleNotFoundError as err:
        if not (err.name and err.name.split(".")[0] == REFERENCE_PACKAGE):
            raise
        if importlib.util.find_spec("course._student_edition") is not None:
            raise GraderOnlyError(
                "Hidden tests run only in the course grader (they need the reference library, which is "
                "not installed here). Run the visible tests to check your work."
            ) from None
        module = importlib.import_module(f"course.{module_name}")
    return getattr(module, attr)


def sandbox_library(obj: Any, module: str, name: str) -> Any:
    """The library object ``module.name`` on ``obj``'s side: the student's own edition's.

    In the judge ``obj`` is a proxy of the notebook's object and this is a proxy of the sandbox's
    library object (say its ``Graph``, to build a check's inputs there: the reference never crosses).
    In a kernel that runs the hidden cells itself (the solution notebooks under nbval) it is ``course``'s.
    """
    if isinstance(obj, RemoteObject):
        return obj._conn.library(module, name)
    return getattr(importlib.import_module(module), name)


def is_instance(obj: Any, cls: Any) -> bool:
    """``isinstance(obj, cls)``, also where ``obj`` or ``cls`` is a proxy (the notebook's object, class)."""
    if not isinstance(cls, RemoteObject):
        return not isinstance(obj, RemoteObject) and isinstance(obj, cls)
    if not isinstance(obj, RemoteObject):
        return False
    return cls in remote_getattr(remote_getattr(obj, "__class__"), "__mro__")


def class_name(cls: Any) -> str:
    """A class's name, also for a proxy of the notebook's class."""
    return str(remote_getattr(cls, "__name__")) if isinstance(cls, RemoteObject) else cls.__name__


_SEED_ROOT: bytes | None = None


def set_seed_root(root: bytes | None) -> bytes | None:
    """Key every check's seeds with ``root`` (the judge's per-submission secret); returns the old key."""
    global _SEED_ROOT
    previous, _SEED_ROOT = _SEED_ROOT, root
    return previous


def public_seed(name: str, trial: int) -> int:
    """A fixed seed, secret or not: for the gradient checks that follow a comparison with the reference on
    secret inputs. They check a property of the student's pair (central differences agree), and on a few
    random inputs a correct pair's round-off can exceed their threshold; fixed inputs, on which the
    reference passes, keep a right answer right."""
    return zlib.crc32(f"{name}/{trial}".encode())


def check_seed(name: str, trial: int) -> int:
    """The seed of trial ``trial`` of the check called ``name``.

    In the judge it is keyed by a secret the sandbox never sees and by the submission's content, so the
    hidden inputs cannot be known in advance and a re-run of the same submission gets the same inputs.
    Elsewhere (the instructor's solution notebooks) it is fixed."""
    if _SEED_ROOT is not None:
        digest = hmac.new(_SEED_ROOT, f"{name}/{trial}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big")
    return public_seed(name, trial)


def _describe(inputs: Mapping[str, Any]) -> str:
    parts = []
    for key, value in inputs.items():
        if hasattr(value, "shape") and np.ndim(value) > 0:
            parts.append(f"{key} of shape {tuple(value.shape)}")
        elif isinstance(value, (int, float, np.integer, np.floating)):
            parts.append(f"{key}={value!r}")
        else:
            parts.append(key)
    return ", ".join(parts)


def _compare_hidden(
    label: str, what: str, got: Any, expected: Any, rtol: float, atol: float, inputs: str
) -> None:
    """Assert got ~ expected without revealing expected values."""
    if isinstance(expected, (bool, int, np.integer, str)) and not isinstance(expected, np.ndarray):
        if got != expected:
            raise AssertionError(
                f"{label}: {what} ({got!r}) differs from the reference on random inputs ({inputs})."
            )
        return
    if got is None:
        raise AssertionError(f"{label}: {what} is None: did you forget the return statement?")
    try:
        g = _to_numpy(got).astype(np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{label}: {what} must be a number or an array of numbers, got {type(got).__name__}."
        ) from None
    e = _to_numpy(expected).astype(np.float64)
    if g.shape != e.shape:
        raise AssertionError(f"{label}: {what} has shape {g.shape}, expected {e.shape} (inputs: {inputs}).")
    if not np.all(np.isfinite(g)):
        raise AssertionError(f"{label}: {what} contains inf or nan on random inputs ({inputs}).")
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol)
    if bad.any():
        err = np.abs(g - e)
        rel = float(np.max(err / np.maximum(np.abs(e), 1e-12)))
        count = f"{int(bad.sum())} of {bad.size} entries are off, " if g.ndim else ""
        raise AssertionError(
            f"{label}: {what} differs from the reference on random inputs ({inputs}): {count}"
            f"largest absolute error {float(err.max()):.3g}, relative {rel:.3g}."
        )


def _compare_outputs(
    label: str, got: Any, expected: Any, names: Sequence[str] | None, rtol: float, atol: float, inputs: str
) -> None:
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            raise AssertionError(
                f"{label} returned a {type(got).__name__}, expected a tuple of {len(expected)} values"
                + (f" ({', '.join(names)})." if names else ".")
            )
        if len(got) != len(expected):
            raise AssertionError(
                f"{label} returned {len(got)} values, expected {len(expected)}"
                + (f" ({', '.join(names)})." if names else ".")
            )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            what = f"output {names[i]!r}" if names and i < len(names) else f"output {i}"
            _compare_outputs_leaf(label, what, g, e, rtol, atol, inputs)
    else:
        what = f"output {names[0]!r}" if names else "the output"
        _compare_outputs_leaf(label, what, got, expected, rtol, atol, inputs)


def _compare_outputs_leaf(
    label: str, what: str, got: Any, expected: Any, rtol: float, atol: float, inputs: str
) -> None:
    if isinstance(expected, (tuple, list)) and not (
        len(expected) and np.ndim(expected[0]) == 0 and not isinstance(expected[0], (tuple, list))
    ):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            raise AssertionError(f"{label}: {what} must be a sequence of {len(expected)} items.")
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            _compare_hidden(label, f"{what}[{i}]", g, e, rtol, atol, inputs)
        return
    _compare_hidden(label, what, got, expected, rtol, atol, inputs)


def _call_student(label: str, fn: Callable[..., Any], inputs: Mapping[str, Any]) -> Any:
    try:
        return fn(**inputs)
    except NotImplementedError:
        raise AssertionError(f"{label} is not implemented yet (it raised NotImplementedError).") from None


def _assert_inputs_untouched(label: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    for key, value in before.items():
        if isinstance(value, np.ndarray) and not np.array_equal(value, after[key], equal_nan=True):
            raise AssertionError(
                f"{label} modified its input {key} in place; work on a copy or build a new array."
            )


def check_function(
    student_fn: Callable[..., Any],
    reference_name: str,
    make_inputs: Callable[[np.random.Generator], Mapping[str, Any]],
    *,
    trials: int = 3,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    output_names: Sequence[str] | None = None,
    label: str | None = None,
) -> None:
    """Assert that ``student_fn(**inputs)`` agrees with the reference on ``trials`` random input sets.

    Inputs:
    - student_fn: the function the student wrote in the notebook.
    - reference_name: 'core.module.function' in the library, e.g. 'models.linear.squared_loss'.
    - make_inputs: rng -> {argument name: value}; called once per trial with a generator seeded from
      the check's name and the trial number. Student and reference get separate deep copies, and the
      student's copy must not be modified in place.
    - output_names: names of the returned values, used in messages ('loss', 'dw').
    Outputs are compared entry by entry with ``numpy.isclose(rtol, atol)``; ints and strings exactly.
    """
    ref = reference(reference_name)
    label = label or reference_name.rpartition(".")[2]
    for trial in range(trials):
        inputs = dict(make_inputs(np.random.default_rng(check_seed(reference_name, trial))))
        student_inputs = copy.deepcopy(inputs)
        got = _call_student(label, student_fn, student_inputs)
        _assert_inputs_untouched(label, inputs, student_inputs)
        expected = ref(**copy.deepcopy(inputs))
        _compare_outputs(label, got, expected, output_names, rtol, atol, _describe(inputs))
    print(f"ok: {label} agrees with the reference on {trials} random input sets")


def check_forward_backward(
    student_forward: Callable[..., Any],
    student_backward: Callable[..., Any],
    reference_prefix: str,
    make_inputs: Callable[[np.random.Generator], Mapping[str, Any]],
    *,
    grads: Sequence[str],
    trials: int = 2,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    output_names: Sequence[str] = ("out",),
    label: str | None = None,
) -> None:
    """Check a pair ``name_forward -> (out..., cache)``, ``name_backward(dout..., cache)`` with the reference.

    ``reference_prefix`` is 'core.module.name' (e.g. 'layers.affine.affine'); the reference pair is
    '<prefix>_forward' / '<prefix>_backward'. The forward outputs (all but the cache) are compared, then
    both backward passes get the same seeded upstream gradient(s) and their gradients, named by
    ``grads`` in the order backward returns them, are compared. Each side uses its own cache.
    """
    ref_forward = reference(f"{reference_prefix}_forward")
    ref_backward = reference(f"{reference_prefix}_backward")
    name = label or reference_prefix.rpartition(".")[2]
    for trial in range(trials):
        seed = check_seed(reference_prefix, trial)
        inputs = dict(make_inputs(np.random.default_rng(seed)))
        desc = _describe(inputs)
        student_inputs = copy.deepcopy(inputs)
        got = _call_student(f"{name}_forward", student_forward, student_inputs)
        _assert_inputs_untouched(f"{name}_forward", inputs, student_inputs)
        expected = ref_forward(**copy.deepcopy(inputs))
        if not isinstance(got, tuple) or len(got) != len(expected):
            raise AssertionError(
                f"{name}_forward must return {len(expected)} values ({', '.join(output_names)}, cache), "
                f"got {len(got) if isinstance(got, tuple) else type(got).__name__}."
            )
        _compare_outputs(
            f"{name}_forward", tuple(got[:-1]), tuple(expected[:-1]), output_names, rtol, atol, desc
        )
        rng = np.random.default_rng(seed + 1)
        douts = [rng.standard_normal(np.shape(o)) for o in expected[:-1]]
        got_grads = _call_student(
            f"{name}_backward",
            lambda **kw: student_backward(*kw["douts"], kw["cache"]),
            {"douts": [d.copy() for d in douts], "cache": got[-1]},
        )
        ref_grads = ref_backward(*[d.copy() for d in douts], expected[-1])
        got_grads = got_grads if isinstance(got_grads, tuple) else (got_grads,)
        ref_grads = ref_grads if isinstance(ref_grads, tuple) else (ref_grads,)
        _compare_outputs(
            f"{name}_backward",
            got_grads,
            ref_grads,
            [f"d{g}" for g in grads],
            rtol,
            atol,
            desc + ", random dout",
        )
    print(f"ok: {name}_forward and {name}_backward agree with the reference on {trials} random input sets")


def check_forward(
    student_forward: Callable[..., Any],
    reference_name: str,
    make_inputs: Callable[[np.random.Generator], Mapping[str, Any]],
    *,
    trials: int = 3,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    output_names: Sequence[str] = ("out",),
    label: str | None = None,
) -> None:
    """Check ``name_forward -> (out..., cache)``: a tuple, inputs untouched, outputs (not the cache) right."""
    ref = reference(reference_name)
    label = label or reference_name.rpartition(".")[2]
    for trial in range(trials):
        inputs = dict(make_inputs(np.random.default_rng(check_seed(reference_name, trial))))
        student_inputs = copy.deepcopy(inputs)
        got = _call_student(label, student_forward, student_inputs)
        _assert_inputs_untouched(label, inputs, student_inputs)
        expected = ref(**copy.deepcopy(inputs))
        if not isinstance(got, tuple) or len(got) != len(expected):
            raise AssertionError(
                f"{label} must return {len(expected)} values ({', '.join(output_names)}, cache), "
                f"got {len(got) if isinstance(got, tuple) else type(got).__name__}."
            )
        _compare_outputs(
            label, tuple(got[:-1]), tuple(expected[:-1]), output_names, rtol, atol, _describe(inputs)
        )
    print(f"ok: {label} agrees with the reference on {trials} random input sets")


def check_with_reference(
    label: str,
    got: Any,
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    what: str = "the output",
    inputs: str = "hidden test inputs",
) -> None:
    """Assert got ~ expected for a hidden check that computes ``expected`` itself (via ``reference``).

    Same message rules as ``check_function``: how far off, never the expected values.
    """
    _compare_outputs_leaf(label, what, got, expected, rtol, atol, inputs)


# ---- specifications -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """The check of one graded task, shared by its hidden test and (later) a judge outside the kernel.

    - task: the grade id of the answer cell ('affine_backward').
    - takes: the names of the student's objects the check receives, in order.
    - procedure: ``procedure(spec, *objects)``; raises AssertionError with a message for the student.
    - reference: the library object the answer is compared with ('layers.affine.affine').
    - inputs: rng -> {argument: value}, the hidden inputs of one trial (seeded from the reference name).
    - trials, rtol, atol: how many input sets, and the tolerance of ``numpy.isclose``.
    - outputs, grads: names of the returned values (and of a backward pass's gradients) in messages.
    - options: anything else a task-specific procedure reads.
    """

    task: str
    takes: tuple[str, ...]
    procedure: Callable[..., None]
    reference: str = ""
    inputs: Callable[[np.random.Generator], Mapping[str, Any]] | None = None
    trials: int = 3
    rtol: float = 1e-6
    atol: float = 1e-9
    outputs: tuple[str, ...] = ()
    grads: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


def _function(spec: Spec, fn: Callable[..., Any]) -> None:
    check_function(
        fn,
        spec.reference,
        spec.inputs,
        trials=spec.trials,
        rtol=spec.rtol,
        atol=spec.atol,
        output_names=spec.outputs or None,
        label=spec.takes[0],
    )


def _forward(spec: Spec, forward: Callable[..., Any]) -> None:
    check_forward(
        forward,
        spec.reference,
        spec.inputs,
        trials=spec.trials,
        rtol=spec.rtol,
        atol=spec.atol,
        output_names=spec.outputs or ("out",),
        label=spec.takes[0],
    )


def check_pair_spec(spec: Spec, forward: Callable[..., Any], backward: Callable[..., Any]) -> None:
    """A spec's forward/backward pair against its reference (``spec.trials`` input sets, seeded ``dout``).

    Task-specific procedures that check more (gradient checks, repeatability) start with this call.
    """
    check_forward_backward(
        forward,
        backward,
        spec.reference,
        spec.inputs,
        grads=spec.grads,
        trials=spec.trials,
        rtol=spec.rtol,
        atol=spec.atol,
        output_names=spec.outputs or ("out",),
        label=spec.takes[0].removesuffix("_forward"),
    )


def function_spec(task: str, reference: str, inputs: Callable, **kw: Any) -> Spec:
    """A function compared output by output with ``reference`` (the student's function is named ``task``)."""
    return Spec(task, (kw.pop("name", task),), _function, reference, inputs, **kw)


def forward_spec(task: str, reference: str, inputs: Callable, **kw: Any) -> Spec:
    """A forward pass ``-> (out..., cache)``: its outputs compared, the cache left to the backward check."""
    return Spec(task, (kw.pop("name", task),), _forward, reference, inputs, **kw)


def pair_spec(task: str, prefix: str, inputs: Callable, grads: Sequence[str], **kw: Any) -> Spec:
    """A backward pass checked with its forward: ``prefix`` is 'layers.affine.affine' for the pair
    affine_forward / affine_backward; the student's two functions are taken in that order."""
    name = prefix.rpartition(".")[2]
    takes = kw.pop("takes", (f"{name}_forward", f"{name}_backward"))
    return Spec(task, tuple(takes), check_pair_spec, prefix, inputs, grads=tuple(grads), **kw)


def run_spec(spec: Spec, *objects: Any) -> None:
    """Run one spec on the student's objects (in the order of ``spec.takes``)."""
    if len(objects) != len(spec.takes):
        raise TypeError(f"the check of {spec.task} takes {', '.join(spec.takes)} ({len(spec.takes)} objects)")
    spec.procedure(spec, *objects)
