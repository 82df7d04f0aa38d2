"""The checks behind the notebooks' test cells: the one place that judges a student's function.

Two kinds of test cell use this module (see docs/authoring.md):

- *Visible* test cells compare the student's output with expected values stored in the notebook
  (computed once from the reference library with a fixed seed) through ``expect_shape``,
  ``expect_close`` and ``expect_equal``. A failure is an ``AssertionError`` with a sentence the student
  can act on: which output, which entry, got vs expected, and a hint naming the term to look at.
- *Hidden* test cells (stripped from the student release, run by the grader) call ``check_function``
  or ``check_forward_backward``: the student's function and the reference run on fresh random inputs
  (seeded per check, so a grade is reproducible) and must agree. Their messages say what is off and
  by how much but never reveal expected values or the hidden test's source, because feedback shows them.

The reference is a renamed copy of the full library, ``course_reference``, present only on the
grading kernel's path (or in the directory named by ``$COURSE_REFERENCE_PATH``). Inside the grader
``course`` itself is the *student edition*, whose graded functions raise ``NotImplementedError``, so a
submission that merely calls ``course.linear.squared_loss`` scores nothing. On a student's machine
the reference is absent and hidden checks raise ``GraderOnlyError``.

Judging happens in the student's kernel, so determined cheating (monkeypatching this module from a
solution cell) is possible; moving the comparison out of the kernel means changing this file only.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import os
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

REFERENCE_PACKAGE = "course_reference"
REFERENCE_PATH_ENV = "COURSE_REFERENCE_PATH"


class GraderOnlyError(RuntimeError):
    """A hidden check ran where the reference library is not installed (a student's machine)."""


# ---------------------------------------------------------------------------------------------------
# Visible checks: stored expected values, messages that name the output, the entry and the term.
# ---------------------------------------------------------------------------------------------------


def _with_hint(message: str, hint: str) -> str:
    return f"{message} Hint: {hint}" if hint else message


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "get") and not isinstance(value, (dict, np.ndarray)):  # a CuPy array
        value = value.get()
    return np.asarray(value)


def expect_shape(name: str, got: Any, shape: Sequence[int], hint: str = "") -> None:
    """Assert that ``got`` is an array (or scalar) of the given shape; print a line when it is."""
    if got is None:
        raise AssertionError(_with_hint(f"{name} is None: did you forget the return statement?", hint))
    got_shape = tuple(np.shape(_to_numpy(got)))
    if got_shape != tuple(shape):
        raise AssertionError(_with_hint(f"{name} has shape {got_shape}, expected {tuple(shape)}.", hint))
    print(f"ok: {name} has shape {tuple(shape)}")


def _constant_ratio(got: np.ndarray, expected: np.ndarray) -> float | None:
    """got / expected when that ratio is the same for every non-zero entry (a missing factor), else None."""
    mask = np.abs(expected) > 1e-12
    if not mask.any() or np.any(np.abs(got[~mask]) > 1e-12):
        return None
    ratio = got[mask] / expected[mask]
    if np.allclose(ratio, ratio.flat[0], rtol=1e-6) and not np.isclose(ratio.flat[0], 1.0):
        return float(ratio.flat[0])
    return None


def expect_close(
    name: str, got: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9, hint: str = ""
) -> None:
    """Assert that ``got`` matches the stored ``expected`` entry by entry; print a line when it does.

    The message names the first wrong entry with both values, how many entries are off and, when every
    entry is off by the same factor, that factor (a forgotten 2 or 1/N shows up as "2 times").
    """
    if got is None:
        raise AssertionError(_with_hint(f"{name} is None: did you forget the return statement?", hint))
    g = _to_numpy(got)
    e = np.asarray(expected, dtype=np.float64)
    if g.shape != e.shape:
        raise AssertionError(_with_hint(f"{name} has shape {g.shape}, expected {e.shape}.", hint))
    if g.dtype.kind not in "fiub":
        raise AssertionError(_with_hint(f"{name} must hold numbers, got dtype {g.dtype}.", hint))
    g = g.astype(np.float64)
    if not np.all(np.isfinite(g)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(g))[0])
        where = f" at index {idx}" if g.ndim else ""
        raise AssertionError(_with_hint(f"{name} is not finite{where} ({g[idx]}).", hint))
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at index {idx}" if g.ndim else ""
        count = f" ({int(bad.sum())} of {bad.size} entries are off)" if g.ndim else ""
        message = f"{name} is wrong{where}: got {g[idx]:.8g}, expected {e[idx]:.8g}{count}."
        ratio = _constant_ratio(g, e)
        if ratio is not None:
            message += (
                f" Every value is {ratio:.6g} times the expected one: look for a missing or extra factor."
            )
        raise AssertionError(_with_hint(message, hint))
    print(f"ok: {name} matches the expected values" + (f" (shape {g.shape})" if g.ndim else ""))


def expect_equal(name: str, got: Any, expected: Any, hint: str = "") -> None:
    """Assert exact equality (integers, strings, tuples of them); print a line when equal."""
    if got != expected:
        raise AssertionError(_with_hint(f"{name} is {got!r}, expected {expected!r}.", hint))
    print(f"ok: {name} == {expected!r}")


# ---------------------------------------------------------------------------------------------------
# Hidden checks: the student's function against the reference on fresh seeded inputs.
# ---------------------------------------------------------------------------------------------------


def _is_student_edition() -> bool:
    """True in a student edition of the library (the build adds ``course/_student_edition.py``)."""
    return importlib.util.find_spec("course._student_edition") is not None


def reference(name: str) -> Callable[..., Any]:
    """The reference implementation of ``name='module.function'``, e.g. 'linear.squared_loss'.

    In the grader that is ``course_reference.<module>.<function>``. Where the full library is installed as
    ``course`` (the instructor's checkout, CI running the solution notebooks), the library itself is the
    reference. In a student edition without the reference, GraderOnlyError.
    """
    module_name, _, attr = name.rpartition(".")
    path = os.environ.get(REFERENCE_PATH_ENV)
    if path and path not in sys.path:
        sys.path.append(path)  # appended, so it can never shadow anything the student imports
    try:
        module = importlib.import_module(f"{REFERENCE_PACKAGE}.{module_name}")
    except ModuleNotFoundError as err:
        if not (err.name and err.name.split(".")[0] == REFERENCE_PACKAGE):
            raise
        if _is_student_edition():
            raise GraderOnlyError(
                "Hidden tests run only in the course grader (they need the reference library, which is "
                "not installed here). Run the visible tests above to check your work."
            ) from None
        module = importlib.import_module(f"course.{module_name}")
    return getattr(module, attr)


def check_seed(name: str, trial: int) -> int:
    """The seed of trial ``trial`` of the check called ``name``: fixed, so a grade is reproducible."""
    return zlib.crc32(f"{name}/{trial}".encode())


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
    - reference_name: 'module.function' in the library, e.g. 'linear.squared_loss'.
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

    ``reference_prefix`` is 'module.name' (e.g. 'affine.affine'); the reference pair is
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
