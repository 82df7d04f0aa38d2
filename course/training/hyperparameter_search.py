"""Random vs grid hyper-parameter search (lecture 001; Bergstra & Bengio, 2012).

With a budget of n trials over two hyper-parameters of which only one matters, a sqrt(n) x sqrt(n) grid
tries only sqrt(n) distinct values of the one that matters; random search tries n distinct values. The
functions take any objective ``f(params: dict) -> float`` (lower is better), e.g. a validation loss.

Each search samples in a log or linear space per parameter:
``space = {"learning_rate": (1e-4, 1e-1, "log"), "weight_decay": (1e-6, 1e-2, "log")}``. A number u in
[0, 1] maps to low + u (high - low) on a linear axis and to exp(log low + u (log high - log low)) on a
log axis.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from course.core.validation import check_choice, check_positive

Space = Mapping[str, tuple[float, float, str]]
Objective = Callable[[dict[str, float]], float]


def _check_space(func: str, space: Space) -> None:
    if not space:
        raise ValueError(f"{func}: space must name at least one hyper-parameter")
    for name, spec in space.items():
        if len(spec) != 3:
            raise ValueError(f"{func}: space[{name!r}] must be (low, high, 'log'|'linear'), got {spec!r}")
        low, high, scale = spec
        check_choice(func, f"space[{name!r}] scale", scale, ("log", "linear"))
        if not low < high:
            raise ValueError(f"{func}: space[{name!r}] needs low < high, got {low} and {high}")
        if scale == "log":
            check_positive(func, f"space[{name!r}] low", low)


def grid_points(space: Space, per_axis: int) -> list[dict[str, float]]:
    """Every combination of ``per_axis`` evenly spaced values (in each axis's scale) per hyper-parameter."""
    _check_space("grid_points", space)
    check_positive("grid_points", "per_axis", per_axis)
    # BEGIN GRADED a04.grid_points
    u = np.linspace(0.0, 1.0, per_axis)  # evenly spaced in [0, 1], then mapped to each axis's scale
    axes = []
    for low, high, scale in space.values():
        if scale == "log":
            axes.append(np.exp(np.log(low) + u * (np.log(high) - np.log(low))))
        else:
            axes.append(low + u * (high - low))
    return [dict(zip(space, (float(v) for v in values))) for values in itertools.product(*axes)]
    # END GRADED


def random_points(space: Space, n: int, rng: np.random.Generator) -> list[dict[str, float]]:
    """``n`` independent draws, uniform in each axis's scale."""
    _check_space("random_points", space)
    check_positive("random_points", "n", n)
    # BEGIN GRADED a04.random_points
    u = rng.random((n, len(space)))  # one call: column j is the j-th hyper-parameter
    columns = []
    for j, (low, high, scale) in enumerate(space.values()):
        if scale == "log":
            columns.append(np.exp(np.log(low) + u[:, j] * (np.log(high) - np.log(low))))
        else:
            columns.append(low + u[:, j] * (high - low))
    return [dict(zip(space, (float(col[i]) for col in columns))) for i in range(n)]
    # END GRADED


def search(objective: Objective, points: list[dict[str, float]]) -> dict[str, Any]:
    """Evaluate every point; return the trials, their scores and the best point (lowest score)."""
    scores = np.array([float(objective(p)) for p in points])
    best = int(np.argmin(scores))
    return {
        "points": points,
        "scores": scores,
        "best_params": points[best],
        "best_score": float(scores[best]),
    }


def grid_search(objective: Objective, space: Space, per_axis: int) -> dict[str, Any]:
    """Grid search with ``per_axis ** len(space)`` trials."""
    return search(objective, grid_points(space, per_axis))


def random_search(objective: Objective, space: Space, n: int, rng: np.random.Generator) -> dict[str, Any]:
    """Random search with ``n`` trials."""
    return search(objective, random_points(space, n, rng))


def one_that_matters(params: dict[str, float], important: str = "a", optimum: float = 0.37) -> float:
    """A toy validation loss that depends on one hyper-parameter only (a sharp valley at ``optimum``)."""
    return float((params[important] - optimum) ** 2)
