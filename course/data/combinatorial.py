"""Combinatorial tasks for pointer networks, exact solvers and baselines (lecture 003, "Pointer Networks").

A pointer network answers with positions of its input, so every task here maps a set of points to a
sequence of input indices, and every target is *exact*:
- sorting: the indices of n numbers in increasing order (``numpy.argsort``);
- planar convex hull: the hull's vertices by Andrew's monotone chain, O(n log n);
- planar travelling salesman (TSP): the optimal tour by Held-Karp dynamic programming, O(2^n n^2),
  vectorised over a batch of instances (``held_karp``) and also over the subsets of one size
  (``held_karp_fast``) with NumPy (n <= 13: memory grows as 2^n).

Target conventions (a pointer net needs one answer per input, so the symmetries are broken explicitly):
- TSP: a tour is a cycle; it starts at city 0 and runs counter-clockwise (positive signed area), so each
  instance has exactly one target sequence of length n.
- Convex hull: the vertices counter-clockwise, starting at the hull vertex with the lowest input index
  (Vinyals et al. 2015), then that first index *again* to close the polygon. The repeated first index is
  the stop symbol: the target of an instance with k hull vertices has length k + 1, padded with -1 to n + 1.

Metrics and baselines: closed tour length (optimal, nearest neighbour, random tour), exact sequence
accuracy, and hull area coverage = area of the predicted polygon / area of the true hull, where a
prediction that is not a simple closed polygon (at least 3 distinct vertices, no self-crossing) covers 0.

Data: instances are drawn uniformly in the unit square from a seed. ``tsp_dataset`` writes nothing unless
it is given a ``cache_dir`` (then it keeps what it solved there, keyed by n, count and seed); the fixed
evaluation sets (1000 instances each of TSP-5 and TSP-10 with their optimal tours) ship as
``course/data/tsp_test.npz`` and are regenerated bit for bit by ``make_tsp_test_set``.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations
from pathlib import Path
from typing import Any

import numpy as np

from course.core.validation import check_array, check_choice, check_positive
from course.data.files import verified_path

TSP_TEST_FILE = "tsp_test.npz"
TSP_TEST_SEEDS = {5: 2015, 10: 2016}
TSP_TEST_COUNT = 1000


# ----------------------------------------------------------------------------------------------- sorting
def sorting_dataset(count: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` lists of ``n`` numbers uniform in [0, 1) and the indices that sort each one.

    Returns:
    - x: (count, n, 1) float64 inputs (one feature per position).
    - targets: (count, n) int64, x[i, targets[i], 0] is increasing.
    """
    check_positive("sorting_dataset", "count", count)
    check_positive("sorting_dataset", "n", n)
    x = rng.random((count, n, 1))
    return x, np.argsort(x[:, :, 0], axis=1)


# ------------------------------------------------------------------------------------------- geometry
def signed_area(points: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Shoelace signed area of the closed polygons points[b, order[b]]; positive when counter-clockwise.

    Inputs: points (B, n, 2); order (B, k) vertex indices. Returns (B,).
    """
    p = np.take_along_axis(points, order[:, :, None], axis=1)  # (B, k, 2)
    q = np.roll(p, -1, axis=1)
    return 0.5 * np.sum(p[:, :, 0] * q[:, :, 1] - q[:, :, 0] * p[:, :, 1], axis=1)


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> Any:
    """z of (a - o) x (b - o): > 0 when o -> a -> b turns left."""
    ax, ay = a[..., 0] - o[..., 0], a[..., 1] - o[..., 1]
    bx, by = b[..., 0] - o[..., 0], b[..., 1] - o[..., 1]
    return ax * by - ay * bx


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices of the convex hull of one point set, by Andrew's monotone chain, O(n log n).

    Sort by (x, y), build the lower chain left to right and the upper chain right to left, popping every
    point that does not make a strict left turn, cross((a - o), (b - o)) > 0 (collinear points and
    repeated copies of a point are not vertices).

    Inputs: points (n, 2). Returns the vertex indices (k,), counter-clockwise, starting at the lowest index.
    """
    check_array("convex_hull", "points", points, (None, 2), dtype_kind="f")
    # BEGIN GRADED a08.convex_hull
    order = np.lexsort((points[:, 1], points[:, 0])).tolist()  # by x, ties by y
    if len(order) < 3:
        return np.array(order)
    xy = points.tolist()  # Python floats: this runs once per training instance, so keep it lean

    def turns_left(o: int, a: int, b: int) -> bool:
        """z of (a - o) x (b - o) > 0: the path o -> a -> b turns counter-clockwise."""
        (ox, oy), (ax, ay), (bx, by) = xy[o], xy[a], xy[b]
        return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox) > 0

    def chain(indices: list[int]) -> list[int]:
        out: list[int] = []
        for i in indices:
            while len(out) >= 2 and not turns_left(out[-2], out[-1], i):
                out.pop()  # out[-1] lies inside, or on the segment out[-2] -> i
            out.append(i)
        return out

    lower, upper = chain(order), chain(order[::-1])
    hull = np.array(lower[:-1] + upper[:-1])  # (k,): each chain's last point is the other's first
    return np.roll(hull, -int(np.argmin(hull)))  # start at the lowest index
    # END GRADED


def brute_force_hull_mask(points: np.ndarray) -> np.ndarray:
    """Which points are hull vertices, by the O(n^3) definition; vectorised over a batch.

    j is a vertex iff some other point i makes every remaining point lie strictly left of the line
    i -> j (then i -> j is a hull edge). Inputs: points (B, n, 2), in general position. Returns (B, n) bool.
    """
    check_array("brute_force_hull_mask", "points", points, (None, None, 2), dtype_kind="f")
    n = points.shape[1]
    o = points[:, :, None, None, :]  # (B, n, 1, 1, 2): i
    a = points[:, None, :, None, :]  # (B, 1, n, 1, 2): j
    b = points[:, None, None, :, :]  # (B, 1, 1, n, 2): every other point k
    left = _cross(o, a, b) > 0  # (B, n, n, n)
    ids = np.arange(n)
    ignore = (ids[:, None, None] == ids[None, None, :]) | (ids[None, :, None] == ids[None, None, :])
    edge = np.all(left | ignore, axis=3) & (ids[:, None] != ids[None, :])  # (B, n, n): i -> j is a hull edge
    return edge.any(axis=1)


def hull_dataset(
    count: int, n: int, rng: np.random.Generator, *, hull: Callable[[np.ndarray], np.ndarray] = convex_hull
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` sets of ``n`` points uniform in the unit square and their hull targets.

    ``hull`` computes one hull (``convex_hull``; a notebook passes its own).

    Returns:
    - x: (count, n, 2) float64 points.
    - targets: (count, n + 1) int64: hull vertices counter-clockwise from the lowest index, then that
      index again (the stop symbol), padded with -1.
    """
    check_positive("hull_dataset", "count", count)
    check_positive("hull_dataset", "n", n)
    x = rng.random((count, n, 2))
    targets = np.full((count, n + 1), -1, dtype=np.int64)
    for b in range(count):  # data generation, not training: one monotone chain per instance
        h = hull(x[b])
        targets[b, : len(h)] = h
        targets[b, len(h)] = h[0]
    return x, targets


def polygon_is_simple(points: np.ndarray, vertices: np.ndarray) -> bool:
    """True if the closed polygon points[vertices] has >= 3 distinct vertices and no two edges cross.

    Inputs: points (n, 2); vertices (k,) indices (the closing edge back to vertices[0] is implied).
    """
    k = len(vertices)
    if k < 3 or len(set(vertices.tolist())) != k:
        return False
    p = points[vertices]
    q = np.roll(p, -1, axis=0)
    for a in range(k):
        for b in range(a + 1, k):
            if b == a + 1 or (a == 0 and b == k - 1):
                continue  # neighbouring edges share a vertex
            d1, d2 = _cross(p[a], q[a], p[b]), _cross(p[a], q[a], q[b])
            d3, d4 = _cross(p[b], q[b], p[a]), _cross(p[b], q[b], q[a])
            if d1 * d2 <= 0 and d3 * d4 <= 0:
                return False
    return True


def closed_sequence_vertices(sequence: np.ndarray) -> np.ndarray | None:
    """The polygon of a closing-index sequence [h0, ..., h_{k-1}, h0, -1, ...], or None if it never closes."""
    seq = [int(s) for s in sequence if s >= 0]
    if len(seq) < 2:
        return None
    for t in range(1, len(seq)):
        if seq[t] == seq[0]:
            return np.array(seq[:t])
    return None


def closed_polygon_area(points: np.ndarray, sequences: np.ndarray) -> np.ndarray:
    """Area of each closing-index sequence's polygon, 0 where it is not a simple closed polygon.

    Inputs: points (B, n, 2); sequences (B, L) closing-index sequences padded with -1. Returns (B,).
    """
    check_array("closed_polygon_area", "points", points, (None, None, 2), dtype_kind="f")
    check_array("closed_polygon_area", "sequences", sequences, (points.shape[0], None), dtype_kind="i")
    out = np.zeros(len(points))
    for b in range(len(points)):  # evaluation only
        polygon = closed_sequence_vertices(sequences[b])
        if polygon is not None and polygon_is_simple(points[b], polygon):
            out[b] = abs(signed_area(points[b : b + 1], polygon[None])[0])
    return out


def hull_area_coverage(points: np.ndarray, predicted: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Area of the predicted polygon / area of the true hull, 0 where the prediction is no simple polygon.

    Inputs: points (B, n, 2); predicted and targets (B, L) closing-index sequences padded with -1.
    Returns (B,) coverage in [0, 1] (a simple polygon on the points lies inside their hull).
    """
    return closed_polygon_area(points, predicted) / closed_polygon_area(points, targets)


# ---------------------------------------------------------------------------------------------- TSP
def pairwise_distances(points: np.ndarray) -> np.ndarray:
    """Euclidean distance matrices: points (B, n, 2) -> (B, n, n)."""
    diff = points[:, :, None, :] - points[:, None, :, :]  # (B, n, n, 2)
    return np.sqrt(np.sum(diff**2, axis=-1))


def tour_length(points: np.ndarray, tours: np.ndarray) -> np.ndarray:
    """Length of each closed tour, sum_t |p_{tour[t+1]} - p_{tour[t]}| with tour[n] = tour[0].

    Inputs: points (B, n, 2); tours (B, k) city indices in visiting order. Returns (B,).
    """
    check_array("tour_length", "points", points, (None, None, 2), dtype_kind="f")
    check_array("tour_length", "tours", tours, (points.shape[0], None), dtype_kind="i")
    # BEGIN GRADED a08.tour_length
    p = np.take_along_axis(points, tours[:, :, None], axis=1)  # (B, k, 2) in visiting order
    step = np.roll(p, -1, axis=1) - p  # (B, k, 2): to the next city, the last one back to the first
    return np.sum(np.sqrt(np.sum(step**2, axis=-1)), axis=1)  # (B,)
    # END GRADED


def is_permutation(tours: np.ndarray, n: int) -> np.ndarray:
    """Which rows are valid tours: each visits every index 0..n-1 exactly once. (B, n) int -> (B,) bool."""
    check_array("is_permutation", "tours", tours, (None, n), dtype_kind="i")
    # BEGIN GRADED a08.is_permutation
    return np.all(np.sort(tours, axis=1) == np.arange(n), axis=1)  # sorted, a permutation reads 0, 1, .., n-1
    # END GRADED


def canonical_tour(points: np.ndarray, tours: np.ndarray) -> np.ndarray:
    """The same cycles, rotated to start at city 0 and turned counter-clockwise. (B, n) -> (B, n)."""
    start = np.argmax(tours == 0, axis=1)
    n = tours.shape[1]
    rotated = np.take_along_axis(tours, (start[:, None] + np.arange(n)) % n, axis=1)
    clockwise = signed_area(points, rotated) < 0
    rotated[clockwise, 1:] = rotated[clockwise, 1:][:, ::-1]  # reverse direction, keep city 0 first
    return rotated


def held_karp(points: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Optimal closed tours by Held-Karp dynamic programming, O(2^n n^2), vectorised over instances.

    C(S, j) = length of the shortest path that leaves city 0, visits exactly the set S (of cities 1..n-1)
    and ends at j in S:  C({j}, j) = d(0, j);  C(S, j) = min_{k in S - {j}} C(S - {j}, k) + d(k, j);
    the tour is min_j C(all, j) + d(j, 0), and the minimising k's, followed back, give it. A set is a bit
    mask (bit j - 1 for city j), so S - {j} < S as a number: in increasing order every C read is final.
    Memory is (chunk, 2^(n-1), n-1) numbers; ``held_karp_fast`` computes the same tours faster.

    Inputs: points (B, n, 2), n >= 3 and n <= 13. Returns:
    - tours: (B, n) int64 canonical optimal tours (start at 0, counter-clockwise).
    - lengths: (B,) float64 their lengths.
    """
    check_array("held_karp", "points", points, (None, None, 2), dtype_kind="f")
    n = points.shape[1]
    if not 3 <= n <= 13:
        raise ValueError(f"held_karp: needs 3 <= n <= 13 cities (memory grows as 2^n), got n = {n}")
    if len(points) > chunk:
        parts = [held_karp(points[i : i + chunk], chunk) for i in range(0, len(points), chunk)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    # BEGIN GRADED a08.held_karp
    B, n = points.shape[:2]
    m = n - 1  # the cities 1..m, city j at bit j - 1 of a set
    full = 1 << m
    d = pairwise_distances(points)  # (B, n, n)
    cost = np.full((B, full, m), np.inf)  # (B, 2^m, m): C(S, j); inf where j is not in S
    parent = np.zeros((B, full, m), dtype=np.int64)  # the k before j on the best path
    for j in range(m):
        cost[:, 1 << j, j] = d[:, 0, j + 1]  # C({j}, j) = d(0, j)
    for S in range(1, full):
        for j in range(m):
            prev = S ^ (1 << j)  # S - {j}
            if not S >> j & 1 or prev == 0:
                continue
            cand = cost[:, prev, :] + d[:, 1:, j + 1]  # (B, m): C(S - {j}, k) + d(k, j), inf unless k in S
            parent[:, S, j] = np.argmin(cand, axis=1)
            cost[:, S, j] = np.min(cand, axis=1)
    closing = cost[:, full - 1, :] + d[:, 1:, 0]  # (B, m): all cities visited, then back to city 0
    j = np.argmin(closing, axis=1)  # (B,) the last city
    lengths = np.min(closing, axis=1)
    tours = np.zeros((B, n), dtype=np.int64)
    S, rows = np.full(B, full - 1), np.arange(B)
    for pos in range(n - 1, 0, -1):  # walk the parents back from the last city
        tours[:, pos] = j + 1
        S, j = S ^ (1 << j), parent[rows, S, j]
    return canonical_tour(points, tours), lengths
    # END GRADED


def held_karp_fast(points: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """``held_karp`` with all the sets of one size and one end city j in one array operation: (n - 1)^2
    larger steps instead of 2^(n-2) (n-1) small ones, and int8 parents (about 1.3x faster on TSP-10, a
    quarter of the memory). Same inputs and outputs, equal to ``held_karp`` bit for bit."""
    check_array("held_karp_fast", "points", points, (None, None, 2), dtype_kind="f")
    n = points.shape[1]
    if not 3 <= n <= 13:
        raise ValueError(f"held_karp_fast: needs 3 <= n <= 13 cities (memory grows as 2^n), got n = {n}")
    if len(points) > chunk:
        parts = [held_karp_fast(points[i : i + chunk], chunk) for i in range(0, len(points), chunk)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    # BEGIN FAST a08.held_karp
    B, m = len(points), n - 1
    full = 1 << m
    d = pairwise_distances(points.astype(np.float64))  # (B, n, n)
    sizes = np.array([bin(s).count("1") for s in range(full)])
    cost = np.full((B, full, m), np.inf)  # (B, 2^m, m); infinite where j is not in S
    parent = np.zeros((B, full, m), dtype=np.int8)
    singles = 1 << np.arange(m)
    cost[:, singles, np.arange(m)] = d[:, 0, 1:]
    for k in range(2, m + 1):
        subsets = np.flatnonzero(sizes == k)
        for j in range(m):
            S = subsets[(subsets >> j) & 1 == 1]
            prev = S ^ (1 << j)
            cand = cost[:, prev, :] + d[:, None, 1:, j + 1]  # (B, |S|, m): arrive at j from each i
            best = np.argmin(cand, axis=2)  # (B, |S|)
            cost[:, S, j] = np.take_along_axis(cand, best[:, :, None], axis=2)[:, :, 0]
            parent[:, S, j] = best
    closing = cost[:, full - 1, :] + d[:, 1:, 0]  # (B, m)
    j = np.argmin(closing, axis=1)
    lengths = closing[np.arange(B), j]
    tours = np.zeros((B, n), dtype=np.int64)
    S = np.full(B, full - 1)
    rows = np.arange(B)
    for pos in range(n - 1, 0, -1):  # walk the parents back from the last city
        tours[:, pos] = j + 1
        pj = parent[rows, S, j].astype(np.int64)
        S = S ^ (1 << j)
        j = pj
    return canonical_tour(points, tours), lengths
    # END FAST


def brute_force_tsp(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Optimal tour of one small instance by trying every permutation that starts at city 0 (n <= 9).

    Inputs: points (n, 2). Returns (tour (n,) canonical, length).
    """
    check_array("brute_force_tsp", "points", points, (None, 2), dtype_kind="f")
    n = len(points)
    perms = np.array([(0, *p) for p in permutations(range(1, n))])
    lengths = tour_length(np.broadcast_to(points, (len(perms), n, 2)), perms)
    best = int(np.argmin(lengths))
    return canonical_tour(points[None], perms[best : best + 1])[0], float(lengths[best])


def nearest_neighbour_tour(points: np.ndarray) -> np.ndarray:
    """Greedy baseline: from city 0, always go to the closest unvisited city. (B, n, 2) -> (B, n)."""
    check_array("nearest_neighbour_tour", "points", points, (None, None, 2), dtype_kind="f")
    B, n = points.shape[:2]
    d = pairwise_distances(points)
    visited = np.zeros((B, n), dtype=bool)
    tours = np.zeros((B, n), dtype=np.int64)
    rows = np.arange(B)
    visited[:, 0] = True
    for t in range(1, n):
        here = d[rows, tours[:, t - 1]]  # (B, n)
        tours[:, t] = np.argmin(np.where(visited, np.inf, here), axis=1)
        visited[rows, tours[:, t]] = True
    return tours


def random_tour(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Baseline: a uniformly random permutation per instance. (B, n, 2) -> (B, n)."""
    B, n = points.shape[:2]
    return np.argsort(rng.random((B, n)), axis=1)


def augment_tsp(
    points: np.ndarray, tours: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """New instances with known optimal tours: relabel the cities and apply one of the square's 8 symmetries.

    Both keep tour lengths (a symmetry of the unit square is an isometry onto it), so the optimal cycle
    carries over; it is re-canonicalised (start at the new city 0, counter-clockwise). (B, n, 2), (B, n).
    """
    B, n = tours.shape
    perm = np.argsort(rng.random((B, n)), axis=1)  # new position p holds old city perm[p]
    new_points = np.take_along_axis(points, perm[:, :, None], axis=1)
    inverse = np.argsort(perm, axis=1)  # old city -> new label
    new_tours = np.take_along_axis(inverse, tours, axis=1)
    sym = rng.integers(0, 8, size=B)
    x, y = new_points[:, :, 0], new_points[:, :, 1]
    x = np.where((sym & 1)[:, None] == 1, 1 - x, x)
    y = np.where((sym & 2)[:, None] == 2, 1 - y, y)
    swap = (sym & 4)[:, None] == 4
    new_points = np.stack([np.where(swap, y, x), np.where(swap, x, y)], axis=-1)
    return new_points, canonical_tour(new_points, new_tours)


def tsp_dataset(
    count: int,
    n: int,
    seed: int,
    *,
    cache_dir: str | Path | None = None,
    solve: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] = held_karp_fast,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` uniform TSP-n instances from ``seed`` with their optimal tours (Held-Karp).

    ``solve`` maps points (B, n, 2) to (tours, lengths) (``held_karp_fast``; a notebook passes its own
    ``held_karp``); it is called on chunks of 1000 instances, so its tables stay small.

    The arrays depend only on (count, n, seed). Nothing is written unless the caller names a folder:
    with ``cache_dir`` a solved set is saved there as ``tsp{n}_{count}_seed{seed}.npz`` and loaded from
    there next time (solving 10^5 TSP-10 instances takes about a minute). Returns points (count, n, 2)
    float64, tours (count, n) int64, lengths (count,).
    """
    check_positive("tsp_dataset", "count", count)
    path = None if cache_dir is None else Path(cache_dir) / f"tsp{n}_{count}_seed{seed}.npz"
    if path is not None and path.exists():
        with np.load(path) as f:
            return f["points"], f["tours"], f["lengths"]
    points = np.random.default_rng(seed).random((count, n, 2))
    solved = [solve(points[i : i + 1000]) for i in range(0, count, 1000)]
    tours, lengths = np.concatenate([t for t, _ in solved]), np.concatenate([length for _, length in solved])
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, points=points, tours=tours, lengths=lengths)
        tmp.replace(path)  # atomic: a concurrent reader never sees half a file
    return points, tours, lengths


def make_tsp_test_set(path: str | Path) -> None:
    """Write the shipped evaluation file: TSP-5 and TSP-10, 1000 instances each, optimal tours."""
    arrays = {}
    for n, seed in TSP_TEST_SEEDS.items():
        points, tours, lengths = tsp_dataset(TSP_TEST_COUNT, n, seed)
        arrays |= {f"points{n}": points, f"tours{n}": tours, f"lengths{n}": lengths}
    np.savez_compressed(path, **arrays)


def load_tsp_test(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shipped TSP-n evaluation set (n = 5 or 10), SHA-256 checked: points, optimal tours, lengths."""
    if n not in TSP_TEST_SEEDS:
        raise ValueError(f"load_tsp_test: shipped sets are n in {sorted(TSP_TEST_SEEDS)}, got {n}")
    with np.load(verified_path(TSP_TEST_FILE)) as f:
        return f[f"points{n}"], f[f"tours{n}"], f[f"lengths{n}"]


TASKS = ("sort", "hull", "tsp")


def batch_sampler(
    task: str,
    n: int,
    batch_size: int,
    rng: np.random.Generator,
    *,
    pool: tuple[np.ndarray, np.ndarray] | None = None,
    hull: Callable[[np.ndarray], np.ndarray] = convex_hull,
) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    """A function returning fresh training batches (x float32 (B, n, F), targets int64 (B, T)) for ``task``.

    - "sort" and "hull": new random instances every call (their exact targets are cheap);
    - "tsp": ``pool`` = (points, optimal tours), e.g. from ``tsp_dataset``; each call draws instances from
      the pool and relabels and reflects them (``augment_tsp``), so a pool of 10^5 solved instances
      yields many more distinct training examples;
    - ``hull`` computes the hull targets (``convex_hull``; a notebook passes its own).
    """
    check_choice("batch_sampler", "task", task, TASKS)
    check_positive("batch_sampler", "batch_size", batch_size)
    if task == "tsp" and pool is None:
        raise ValueError("batch_sampler: task 'tsp' needs pool=(points, tours), e.g. from tsp_dataset")

    def sample() -> tuple[np.ndarray, np.ndarray]:
        if task == "sort":
            x, targets = sorting_dataset(batch_size, n, rng)
        elif task == "hull":
            x, targets = hull_dataset(batch_size, n, rng, hull=hull)
        else:
            idx = rng.integers(0, len(pool[0]), size=batch_size)
            x, targets = augment_tsp(pool[0][idx], pool[1][idx], rng)
        return x.astype(np.float32), targets

    return sample
