"""Random vs grid search: grid covers few distinct values of the parameter that matters; random covers n."""

import numpy as np
import pytest

from course.training.hyperparameter_search import (
    grid_points,
    grid_search,
    one_that_matters,
    random_points,
    random_search,
)

SPACE = {"a": (0.0, 1.0, "linear"), "b": (1e-4, 1e-1, "log")}


def test_grid_has_per_axis_values_per_parameter_and_hits_the_ends():
    pts = grid_points(SPACE, 3)
    assert len(pts) == 9
    assert sorted({p["a"] for p in pts}) == [0.0, 0.5, 1.0]
    assert np.allclose(sorted({p["b"] for p in pts}), [1e-4, 10**-2.5, 1e-1])


def test_random_points_stay_in_range_and_are_seeded():
    a = random_points(SPACE, 50, np.random.default_rng(0))
    b = random_points(SPACE, 50, np.random.default_rng(0))
    assert a == b
    assert all(0 <= p["a"] <= 1 and 1e-4 <= p["b"] <= 1e-1 for p in a)


def test_random_points_map_one_uniform_draw_per_coordinate_to_each_axis_scale():
    # column j of u = rng.random((n, K)) goes to the j-th axis: linearly, or uniformly in log
    u = np.random.default_rng(4).random((5, 2))
    pts = random_points(SPACE, 5, np.random.default_rng(4))
    np.testing.assert_allclose([p["a"] for p in pts], u[:, 0], rtol=1e-15)
    np.testing.assert_allclose([p["b"] for p in pts], 1e-4 * 1000 ** u[:, 1], rtol=1e-12)


def test_random_search_beats_grid_when_only_one_parameter_matters():
    # 16 trials: the grid tries 4 distinct values of 'a', random search 16.
    grid = grid_search(one_that_matters, SPACE, 4)
    wins = 0
    for seed in range(20):
        rand = random_search(one_that_matters, SPACE, 16, np.random.default_rng(seed))
        wins += rand["best_score"] < grid["best_score"]
        assert len({p["a"] for p in rand["points"]}) == 16
    assert len({p["a"] for p in grid["points"]}) == 4
    assert wins >= 15, f"random search won only {wins} of 20 seeds"


def test_bad_space_is_named():
    with pytest.raises(ValueError, match="low < high"):
        grid_points({"a": (1.0, 0.0, "linear")}, 3)
    with pytest.raises(ValueError, match="scale must be one of"):
        grid_points({"a": (0.0, 1.0, "cubic")}, 3)
    with pytest.raises(ValueError, match="low must be > 0"):
        random_points({"a": (0.0, 1.0, "log")}, 3, np.random.default_rng(0))
