"""Argument checks shared by every public function: clear errors that name the argument.

A shape error should tell the student which argument was wrong, what was expected and what arrived,
for example ``ValueError: affine_forward: w must have shape (D, M) = (12, *), got (10, 5)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course.core.backend import get_array_module

# An expected dimension is an int (must match), a str (a named letter: must agree with every other use
# of that letter in the same call) or None (anything).
Dim = int | str | None


def _fmt(expected: Sequence[Dim], bound: dict[str, int]) -> str:
    """'(D, M) = (12, *)': the letters, then their bound values where any letter is bound."""

    def tup(items: list[str]) -> str:
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})"

    letters = ["*" if d is None else str(d) for d in expected]
    values = [str(bound.get(d, "*")) if isinstance(d, str) else s for d, s in zip(expected, letters)]
    return tup(letters) if letters == values else f"{tup(letters)} = {tup(values)}"


def check_array(
    func: str,
    name: str,
    x: Any,
    shape: Sequence[Dim] | None = None,
    *,
    ndim: int | None = None,
    min_ndim: int | None = None,
    dims: dict[str, int] | None = None,
    dtype_kind: str | None = None,
) -> None:
    """Raise ``ValueError`` unless ``x`` is an array of the expected shape.

    Inputs:
    - func: the public function's name, put first in the message.
    - name: the argument's name.
    - shape: expected dimensions; a str is a letter bound in ``dims`` (checked for agreement and bound
      on first use, so later arguments must agree with earlier ones).
    - dims: the letters bound so far; updated in place.
    - dtype_kind: 'f' float, 'i' integer (signed or unsigned), 'b' bool.
    """
    xp = get_array_module(x)
    if not isinstance(x, (np.ndarray, xp.ndarray)):
        raise ValueError(f"{func}: {name} must be an array, got {type(x).__name__}")
    if dtype_kind == "f" and x.dtype.kind != "f":
        raise ValueError(f"{func}: {name} must be a float array, got dtype {x.dtype}")
    if dtype_kind == "i" and x.dtype.kind not in "iu":
        raise ValueError(f"{func}: {name} must be an integer array, got dtype {x.dtype}")
    if dtype_kind == "b" and x.dtype.kind != "b":
        raise ValueError(f"{func}: {name} must be a boolean array, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{func}: {name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise ValueError(
            f"{func}: {name} must have at least {min_ndim} dimensions, got shape {tuple(x.shape)}"
        )
    if shape is None:
        return
    bound = dims if dims is not None else {}
    ok = len(shape) == x.ndim
    if ok:
        for want, got in zip(shape, x.shape):
            if want is None:
                continue
            if isinstance(want, str):
                if want in bound and bound[want] != got:
                    ok = False
                    break
            elif want != got:
                ok = False
                break
    if not ok:
        raise ValueError(f"{func}: {name} must have shape {_fmt(shape, bound)}, got {tuple(x.shape)}")
    for want, got in zip(shape, x.shape):
        if isinstance(want, str):
            bound.setdefault(want, int(got))


def check_choice(func: str, name: str, value: Any, choices: Sequence[Any]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{func}: {name} must be one of {tuple(choices)}, got {value!r}")


def check_positive(func: str, name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` > 0 (or >= 0 with ``allow_zero``)."""
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{func}: {name} must be {bound}, got {value!r}")
