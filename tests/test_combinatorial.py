"""Tests for course/data/combinatorial.py: exact solvers against brute force, target conventions, metrics,
data."""

from __future__ import annotations

import numpy as np
import pytest

from course.data.combinatorial import (
    TSP_TEST_COUNT,
    TSP_TEST_FILE,
    augment_tsp,
    batch_sampler,
    brute_force_hull_mask,
    brute_force_tsp,
    canonical_tour,
    closed_sequence_vertices,
    convex_hull,
    held_karp,
    held_karp_fast,
    hull_area_coverage,
    hull_dataset,
    is_permutation,
    load_tsp_test,
    make_tsp_test_set,
    nearest_neighbour_tour,
    polygon_is_simple,
    random_tour,
    signed_area,
    sorting_dataset,
    tour_length,
    tsp_dataset,
)
from course.data.files import expected_checksums, sha256_of


@pytest.mark.parametrize("n", [4, 5, 6, 7])
def test_held_karp_equals_brute_force_over_all_permutations(n: int) -> None:
    points = np.random.default_rng(n).random((12, n, 2))
    tours, lengths = held_karp(points)
    for b in range(len(points)):
        tour, length = brute_force_tsp(points[b])
        assert lengths[b] == pytest.approx(length, abs=1e-12), f"instance {b}: {lengths[b]} vs {length}"
        np.testing.assert_array_equal(tours[b], tour, err_msg=f"instance {b}: a different optimal tour")


@pytest.mark.parametrize("n", [3, 5, 8, 10])
def test_held_karp_fast_path_equals_the_teaching_held_karp_bit_for_bit(n: int) -> None:
    """The fast path (all sets of one size at once, int8 parents) adds the same numbers in the same order,
    so tours and lengths are identical, not merely close (tolerance 0)."""
    points = np.random.default_rng(10 + n).random((40, n, 2))
    tours, lengths = held_karp(points)
    fast_tours, fast_lengths = held_karp_fast(points, chunk=16)  # several chunks
    np.testing.assert_array_equal(fast_tours, tours)
    np.testing.assert_array_equal(fast_lengths, lengths)


def test_tour_length_of_the_unit_square_counts_the_closing_edge() -> None:
    square = np.array([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]])
    np.testing.assert_allclose(tour_length(square, np.array([[0, 1, 2, 3]])), [4.0], rtol=1e-15)
    np.testing.assert_allclose(
        tour_length(square, np.array([[0, 2, 1, 3]])), [2 + 2 * np.sqrt(2)], rtol=1e-15
    )


def test_is_permutation_rejects_repeats_and_indices_outside_zero_to_n_minus_one() -> None:
    rows = np.array([[0, 1, 2, 3], [3, 1, 0, 2], [0, 1, 1, 3], [0, 1, 2, 4], [-1, 1, 2, 3]])
    assert is_permutation(rows, 4).tolist() == [True, True, False, False, False]


def test_held_karp_tours_are_canonical_permutations_of_the_reported_length() -> None:
    points = np.random.default_rng(0).random((300, 9, 2))
    tours, lengths = held_karp(points, chunk=128)  # several chunks
    assert is_permutation(tours, 9).all()
    assert (tours[:, 0] == 0).all(), "tours start at city 0"
    assert (signed_area(points, tours) > 0).all(), "tours run counter-clockwise"
    np.testing.assert_allclose(tour_length(points, tours), lengths, rtol=1e-12)


def test_canonical_tour_rotates_to_city_zero_and_turns_counter_clockwise() -> None:
    square = np.array([[[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]])  # 0 -> 1 -> 2 -> 3 is clockwise
    np.testing.assert_array_equal(canonical_tour(square, np.array([[2, 3, 0, 1]])), [[0, 3, 2, 1]])
    np.testing.assert_array_equal(canonical_tour(square, np.array([[1, 0, 3, 2]])), [[0, 3, 2, 1]])


def test_monotone_chain_hull_matches_the_brute_force_vertex_definition() -> None:
    points = np.random.default_rng(1).random((200, 10, 2))
    truth = brute_force_hull_mask(points)
    for b in range(len(points)):
        hull = convex_hull(points[b])
        assert sorted(hull.tolist()) == np.flatnonzero(truth[b]).tolist(), f"instance {b}"
        assert hull[0] == hull.min(), "the hull starts at its lowest index"
        assert signed_area(points[b : b + 1], hull[None])[0] > 0, "counter-clockwise"


def test_hull_drops_collinear_points() -> None:
    points = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.4, 0.6]])
    np.testing.assert_array_equal(convex_hull(points), [0, 2, 3, 4])


def test_hull_keeps_one_copy_of_a_repeated_corner_and_no_point_of_a_grid_edge() -> None:
    grid = np.array([[x, y] for x in (0.0, 0.5, 1.0) for y in (0.0, 0.5, 1.0)])  # 4 corners, 4 edge midpoints
    points = np.concatenate([grid, grid[[8, 0]]])  # corners (1, 1) and (0, 0) twice
    hull = convex_hull(points)
    assert points[hull].tolist() == [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    assert hull[0] == hull.min()


def test_datasets_build_their_targets_with_the_solver_they_are_given() -> None:
    calls = []

    def hull(points: np.ndarray) -> np.ndarray:
        calls.append(len(points))
        return convex_hull(points)

    x, targets = hull_dataset(5, 6, np.random.default_rng(0), hull=hull)
    assert calls == [6] * 5
    np.testing.assert_array_equal(targets, hull_dataset(5, 6, np.random.default_rng(0))[1])
    sizes = []

    def solve(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sizes.append(len(points))
        return held_karp(points)

    solved = tsp_dataset(1500, 5, seed=3, solve=solve)
    assert sizes == [1000, 500], "solved in chunks of 1000"
    for a, b in zip(solved, tsp_dataset(1500, 5, seed=3), strict=True):
        np.testing.assert_array_equal(a, b)


def test_hull_targets_close_on_their_first_index_and_pad_with_minus_one() -> None:
    x, targets = hull_dataset(50, 8, np.random.default_rng(2))
    for b in range(50):
        k = int((targets[b] >= 0).sum()) - 1
        assert targets[b, k] == targets[b, 0], "the stop symbol is the first index again"
        assert (targets[b, k + 1 :] == -1).all()
        np.testing.assert_array_equal(targets[b, :k], convex_hull(x[b]))


def test_sorting_targets_sort_the_inputs() -> None:
    x, targets = sorting_dataset(100, 5, np.random.default_rng(3))
    assert (np.diff(np.take_along_axis(x[:, :, 0], targets, axis=1), axis=1) > 0).all()


def test_area_coverage_is_one_for_the_hull_partial_for_a_sub_polygon_zero_when_invalid() -> None:
    pts = np.array([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 0.5]]])
    true = np.array([[0, 1, 2, 3, 0, -1]])
    assert hull_area_coverage(pts, true, true)[0] == 1.0
    triangle = np.array([[0, 1, 2, 0, -1, -1]])
    assert hull_area_coverage(pts, triangle, true)[0] == pytest.approx(0.5)
    bowtie = np.array([[0, 2, 1, 3, 0, -1]])  # edges 0-2 and 1-3 cross
    assert not polygon_is_simple(pts[0], np.array([0, 2, 1, 3]))
    assert hull_area_coverage(pts, bowtie, true)[0] == 0.0
    never_closed = np.array([[0, 1, 2, 3, 4, -1]])
    assert closed_sequence_vertices(never_closed[0]) is None
    assert hull_area_coverage(pts, never_closed, true)[0] == 0.0


def test_baselines_are_valid_tours_and_never_beat_the_optimum() -> None:
    points, tours, lengths = load_tsp_test(10)
    nn = nearest_neighbour_tour(points)
    rand = random_tour(points, np.random.default_rng(0))
    assert is_permutation(nn, 10).all() and is_permutation(rand, 10).all()
    assert (tour_length(points, nn) >= lengths - 1e-12).all()
    assert (tour_length(points, rand) >= lengths - 1e-12).all()
    # means on the shipped set (documented in docs/results_pointer.md): 2.867 < 3.1 < 5.1
    assert lengths.mean() < tour_length(points, nn).mean() < tour_length(points, rand).mean()


def test_augmented_instances_keep_an_optimal_canonical_tour() -> None:
    rng = np.random.default_rng(4)
    points, tours, lengths = tsp_dataset(64, 8, seed=5)
    new_points, new_tours = augment_tsp(points, tours, rng)
    assert ((new_points >= 0) & (new_points <= 1)).all(), "the square's symmetries keep the unit square"
    np.testing.assert_allclose(tour_length(new_points, new_tours), lengths, rtol=1e-12)
    np.testing.assert_array_equal(held_karp(new_points)[0], new_tours)


def test_tsp_dataset_writes_nothing_without_a_cache_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # a default cache under ~ would land here
    monkeypatch.chdir(tmp_path)
    first = tsp_dataset(20, 6, seed=7)
    assert not any(tmp_path.iterdir()), "tsp_dataset wrote a file although no cache_dir was given"
    for a, b in zip(first, tsp_dataset(20, 6, seed=7), strict=True):
        np.testing.assert_array_equal(a, b)


def test_tsp_dataset_caches_in_the_given_folder_by_seed_and_reloads_identically(tmp_path) -> None:
    cache = tmp_path / "solved"
    first = tsp_dataset(20, 6, seed=7, cache_dir=cache)
    assert [p.name for p in cache.iterdir()] == ["tsp6_20_seed7.npz"]
    again = tsp_dataset(20, 6, seed=7, cache_dir=cache)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(tsp_dataset(20, 6, seed=8, cache_dir=cache)[0], first[0])


def test_shipped_tsp_test_set_is_regenerated_bit_for_bit(tmp_path) -> None:
    path = tmp_path / TSP_TEST_FILE
    make_tsp_test_set(path)
    assert sha256_of(path) == expected_checksums()[TSP_TEST_FILE]
    points, tours, lengths = load_tsp_test(10)
    assert points.shape == (TSP_TEST_COUNT, 10, 2)
    np.testing.assert_allclose(tour_length(points, tours), lengths, rtol=1e-12)


@pytest.mark.parametrize("task,n,T", [("sort", 5, 5), ("hull", 10, 11), ("tsp", 10, 10)])
def test_batch_sampler_returns_float32_inputs_and_targets_of_the_task(task: str, n: int, T: int) -> None:
    pool = tsp_dataset(30, n, seed=0)[:2] if task == "tsp" else None
    x, targets = batch_sampler(task, n, 16, np.random.default_rng(0), pool=pool)()
    assert x.dtype == np.float32 and x.shape[:2] == (16, n)
    assert targets.shape == (16, T)


def test_solvers_reject_wrong_shapes() -> None:
    with pytest.raises(ValueError, match="held_karp: points"):
        held_karp(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="needs 3 <= n <= 13"):
        held_karp(np.zeros((2, 14, 2)))
