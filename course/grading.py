"""The visible checks of the notebooks' test cells: stored expected values, messages a student can act on.

A visible test cell compares the student's output on small fixed inputs with expected values stored in
the notebook, through ``expect_shape``, ``expect_close`` and ``expect_equal``. A failure is an
``AssertionError`` with a sentence the student can act on: which output, which entry, got vs expected,
and a hint naming the term to look at; a pass prints one ``ok:`` line that is the same on every machine
(no computed digits), so nbval can compare it. The checks' own frames are hidden from the traceback a
student sees (``__tracebackhide__``, honoured by IPython and pytest): it ends at the line of the test.

The hidden checks (fresh random inputs against the reference library) are not part of the library: they
live with the grader, in ``autograder/checks/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

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
    __tracebackhide__ = True  # the student's traceback ends at their test line, not inside this check
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
    __tracebackhide__ = True
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
        if ratio is not None and np.isclose(ratio, -1.0):
            message += " Every value has the wrong sign: look for a sign error."
        elif ratio is not None:
            message += (
                f" Every value is {ratio:.6g} times the expected one: look for a missing or extra factor."
            )
        raise AssertionError(_with_hint(message, hint))
    print(f"ok: {name} matches the expected values" + (f" (shape {g.shape})" if g.ndim else ""))


def expect_equal(name: str, got: Any, expected: Any, hint: str = "") -> None:
    """Assert exact equality (integers, strings, tuples of them); print a line when equal."""
    __tracebackhide__ = True
    if got != expected:
        raise AssertionError(_with_hint(f"{name} is {got!r}, expected {expected!r}.", hint))
    print(f"ok: {name} == {expected!r}")
