"""The checks of every graded task, one module of specifications per assignment.

A hidden test cell is ``from autograder.checks import run`` and one call, ``run("a02.affine_forward",
affine_forward)``. The specifications (``autograder/checks/aNN.py``, a list ``SPECS`` of ``core.Spec``) are
data: the task, the student's objects it takes, its inputs, reference and tolerances, and the procedure.
"""

from __future__ import annotations

import importlib
from typing import Any

from autograder.checks.core import Spec, run_spec

ASSIGNMENT_MODULES = ("a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09", "a10")


def specs(assignment: str) -> dict[str, Spec]:
    """The specifications of assignment 'aNN' by task (an assignment without checks has none)."""
    if assignment not in ASSIGNMENT_MODULES:
        raise KeyError(f"no assignment {assignment!r}; assignments are {', '.join(ASSIGNMENT_MODULES)}")
    try:
        module = importlib.import_module(f"autograder.checks.{assignment}")
    except ModuleNotFoundError as err:
        if err.name != f"autograder.checks.{assignment}":
            raise
        return {}
    found: dict[str, Spec] = {}
    for spec in module.SPECS:
        if spec.task in found:
            raise ValueError(f"autograder/checks/{assignment}.py: two specs for task {spec.task!r}")
        found[spec.task] = spec
    return found


def spec(key: str) -> Spec:
    """The spec 'aNN.task'."""
    assignment, _, task = key.partition(".")
    table = specs(assignment)
    if task not in table:
        raise KeyError(f"no check {key!r}: autograder/checks/{assignment}.py has {sorted(table)}")
    return table[task]


def run(key: str, *objects: Any) -> None:
    """Run the hidden check ``key`` ('a02.affine_backward') on the student's objects."""
    run_spec(spec(key), *objects)
