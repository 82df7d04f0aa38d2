"""Tests for course/models/linear_regions.py: activation patterns, region counts, the lecture's bounds."""

from math import comb

import numpy as np
import pytest

from course.models.linear_regions import (
    activation_patterns,
    count_linear_regions,
    folding_net,
    grid_points,
    montufar_bound,
    random_relu_net,
    region_labels,
    zaslavsky_bound,
)


def _lines(*rows):
    """One hidden layer whose unit i is the line a_i x + b_i y + c_i = 0, from rows (a_i, b_i, c_i)."""
    rows = np.array(rows, dtype=np.float64)
    return [(rows[:, :2].T.copy(), rows[:, 2].copy())]


def test_grid_points_are_cell_centres_in_row_major_order():
    g = grid_points(0.0, 1.0, 2)
    np.testing.assert_allclose(g, [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]], rtol=1e-12)


def test_activation_patterns_mark_positive_pre_activations_layer_by_layer():
    layers = [(np.array([[1.0, -1.0]]), np.array([0.0, 0.5])), (np.array([[1.0], [1.0]]), np.array([-1.0]))]
    X = np.array([[2.0], [-2.0], [0.25]])
    expected = [[True, False, True], [False, True, True], [True, True, False]]
    np.testing.assert_array_equal(activation_patterns(layers, X), expected)


def test_three_lines_in_general_position_cut_the_plane_into_zaslavskys_seven_regions():
    layers = _lines((1, 0, 0), (0, 1, 0), (1, 1, -0.5))  # x = 0, y = 0, x + y = 1/2
    assert count_linear_regions(layers, grid_points(-2, 2, 200)) == 7 == zaslavsky_bound(3)
    parallel = _lines((1, 0, 0), (1, 0, -0.5), (1, 0, 0.5))  # not in general position: 4 strips
    assert count_linear_regions(parallel, grid_points(-2, 2, 200)) == 4


def test_zaslavsky_and_montufar_bounds():
    assert [zaslavsky_bound(m) for m in range(5)] == [1, 2, 4, 7, 11]
    assert all(zaslavsky_bound(m) == comb(m, 2) + m + 1 for m in range(30))
    assert zaslavsky_bound(3, d=1) == 4  # 3 points cut a line into 4 pieces
    assert montufar_bound(4, 1) == zaslavsky_bound(4)  # one layer: the arrangement itself
    assert montufar_bound(4, 3) == 2**4 * 11 and montufar_bound(6, 2) == 3**2 * 22
    with pytest.raises(ValueError, match=r"montufar_bound: the width n must be >= the input dimension"):
        montufar_bound(1, 3)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_folding_net_has_four_to_the_depth_regions_on_the_unit_square(depth):
    grid = grid_points(0, 1, 320)  # cells of 1/320: every region (at least 1/16 wide) holds many
    assert count_linear_regions(folding_net(depth), grid) == 4**depth


def test_the_net_is_one_affine_map_on_each_region():
    rng = np.random.default_rng(0)
    layers = random_relu_net([6, 5], rng)
    X = grid_points(-1, 1, 60)
    labels, count = region_labels(layers, X)
    assert labels.shape == (len(X),) and labels.min() == 0 and labels.max() == count - 1
    readout = rng.standard_normal(5)
    f = lambda X: np.maximum(np.maximum(X @ layers[0][0] + layers[0][1], 0) @ layers[1][0] + layers[1][1], 0)
    values = f(X) @ readout
    for r in range(count):
        inside = labels == r
        if inside.sum() < 3:
            continue
        design = np.column_stack([X[inside], np.ones(inside.sum())])  # fit value = a x + b y + c exactly
        coef, *_ = np.linalg.lstsq(design, values[inside], rcond=None)
        np.testing.assert_allclose(design @ coef, values[inside], atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_one_random_hidden_layer_never_exceeds_zaslavskys_bound(seed):
    layers = random_relu_net([10], np.random.default_rng(seed), bias_std=1.0)
    assert count_linear_regions(layers, grid_points(-3, 3, 300)) <= zaslavsky_bound(10)


def test_random_relu_net_is_seeded_and_he_scaled():
    a = random_relu_net([300, 200], np.random.default_rng(1))
    b = random_relu_net([300, 200], np.random.default_rng(1))
    np.testing.assert_array_equal(a[1][0], b[1][0])
    assert [w.shape for w, _ in a] == [(2, 300), (300, 200)]
    assert abs(a[1][0].std() / np.sqrt(2 / 300) - 1) < 0.02  # 60 000 draws
