# %% [markdown]
# # Assignment 08: pointer networks
#
# A sequence-to-sequence model answers with words of a fixed vocabulary. Some problems answer with
# **positions of their own input**: sort these numbers (which one comes first?), which points make up the
# convex hull, in which order should a salesman visit these cities? The vocabulary changes with every
# input, and its size is the input's length. A **pointer network** (Vinyals, Fortunato and Jaitly 2015;
# lecture 003, "Pointer Networks") solves this with one change to the attention decoder of assignment 07:
# the attention weights over the $n$ encoder states *are* the output distribution,
#
# $$u_{tj} = v^\top \tanh(W_1 e_j + W_2 d_t), \qquad
#   p(y_t = j \mid y_{<t}, x) = \operatorname{softmax}_j(u_{tj}), \qquad j = 1, \dots, n,$$
#
# so the same network handles any $n$ and can only answer with positions it was given. The lecture shows a
# pointer network's tour through a set of cities: length 3.523, against 3.518 for the optimal tour.
#
# You will implement, in this notebook:
#
# 1. the exact answers to train on and to compare with: the length and validity of a tour, optimal tours
#    by Held-Karp dynamic programming, and convex hulls by Andrew's monotone chain (sorting is `argsort`);
# 2. the masked pointer scores $u_{tj}$, forward and backward;
# 3. the mask update: each input position may be chosen once (a hull may return to its start, once);
# 4. the whole network's teacher-forced loss and the gradient of every parameter;
# 5. one decoding step: log-probabilities over the input positions, exactly $-\infty$ where masked; then
#    greedy decoding and beam search with it;
# 6. one training step.
#
# Then you will train pointer networks on sorting, convex hulls and planar travelling-salesman
# problems (TSP) with 5 and 10 cities, draw their tours next to the optimal ones, compare the average tour
# length with the optimum, nearest neighbour and random tours, measure accuracy over sequence length, and
# compare greedy decoding with beam search.
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
# a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
# the reference on fresh random inputs when the course grader runs it. Both carry points (38 in all). Do
# not edit, copy or delete test cells: the grader restores them. Use NumPy and the library of earlier
# assignments (the LSTM of assignment 06, the softmax cross-entropy of 02, Adam of 04); in the grader the
# library functions you are asked to write here (in `course.models.pointer` and `course.data.combinatorial`)
# raise `NotImplementedError`, so the experiments below run on your functions.
#
# **Budget.** Everything is seeded, and the whole notebook runs top to bottom in under 3 minutes on one CPU
# core (about 2 minutes as measured for the reference solution, most of it training; no cell needs a GPU).
#
# Shapes use the course's letters: N instances in a batch, n input positions, F features per position (1
# for a number, 2 for a point), D embedding size, H LSTM size, A attention size, T output steps.

# %%
import time
from itertools import permutations

import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import get_array_module  # noqa: F401 (the library's solutions use it)
from course.core.gradcheck import assert_gradient_close, check_pair, numerical_gradient
from course.data.combinatorial import (
    batch_sampler,
    canonical_tour,  # noqa: F401 (used by the solution of held_karp)
    closed_polygon_area,
    closed_sequence_vertices,
    hull_area_coverage,
    hull_dataset,
    load_tsp_test,
    nearest_neighbour_tour,
    pairwise_distances,  # noqa: F401 (used by the solution of held_karp)
    random_tour,
    sorting_dataset,
    tsp_dataset,
)
from course.layers.losses import log_softmax, softmax_cross_entropy  # noqa: F401 (used by the solutions)
from course.layers.lstm import lstm_backward, lstm_forward, lstm_step_forward  # noqa: F401 (the solutions)
from course.layers.temporal import temporal_affine_backward  # noqa: F401 (used by the solutions)
from course.models.pointer import (
    CLOSE_AFTER,  # noqa: F401 (used by the solution of update_mask)
    MASK_SCORE,
    PARAM_NAMES,
    PointerNetwork,
    fit_pointer_network,
    init_pointer_params,
    pointer_encode,
    teacher_forcing_masks,
)
from course.training.optim import Optimizer, adam

notebook_start = time.perf_counter(), time.process_time()


# %% [markdown]
# ## 1. Three problems and their exact answers
#
# Every task maps a set of $n$ inputs to a sequence of their indices, and every target is exact.
#
# - **Sorting** $n$ numbers: the indices in increasing order of value (`np.argsort`).
# - **Planar travelling salesman (TSP)**: the shortest closed tour through all $n$ cities (Exercise 1c).
# - **Planar convex hull** of $n$ points: its vertices in order (Exercise 1d).
#
# A tour is measured by its **length**, the sum of its edges including the one back to the start,
#
# $$L(\pi) = \sum_{t=0}^{k-1} \lVert p_{\pi_{t+1}} - p_{\pi_t} \rVert, \qquad \pi_k = \pi_0,$$
#
# and it is **valid** if it visits every city exactly once: a permutation of $0, \dots, n-1$. Lengths are
# only comparable between valid tours (a tour that skips a city is short for the wrong reason), so every
# tour a network returns is also checked for validity.
#
# **Exercise 1a.** `tour_length(points, tours)`: `points` `(B, n, 2)`, `tours` `(B, k)` city indices in
# visiting order; returns the `(B,)` lengths of the closed tours. Gather the cities in visiting order with
# `np.take_along_axis`, and let `np.roll` pair each city with the next one (the last with the first).

# %% nbgrader={"grade": false, "grade_id": "tour_length", "locked": false, "schema_version": 3, "solution": true}
def tour_length(points, tours):
    """Length of each closed tour (back to its first city): points (B, n, 2), tours (B, k) -> (B,)."""
    ### BEGIN SOLUTION a08.tour_length
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "tour_length_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
square = np.array([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]])  # the unit square, counter-clockwise
grading.expect_close("length of the tour 0, 1, 2, 3 around the square",
                     tour_length(square, np.array([[0, 1, 2, 3]])), np.array([4.0]),
                     hint="four sides of length 1, the last from city 3 back to city 0: do not forget the "
                          "closing edge (np.roll).")
grading.expect_close("length of the crossing tour 0, 2, 1, 3", tour_length(square, np.array([[0, 2, 1, 3]])),
                     np.array([4.8284271247]), hint="two sides and two diagonals: 2 + 2 sqrt(2).")
grading.expect_close("lengths of a batch: the square, and twice the square run clockwise",
                     tour_length(np.concatenate([square, 2 * square]),
                                 np.array([[0, 1, 2, 3], [3, 2, 1, 0]])),
                     np.array([4.0, 8.0]), hint="one length per row: gather each row's own cities, "
                                                "np.take_along_axis(points, tours[:, :, None], axis=1).")

# %% nbgrader={"grade": true, "grade_id": "tour_length_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on random tours.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.tour_length", tour_length)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 1b.** `is_permutation(tours, n)`: `tours` `(B, n)` int; returns `(B,)` bool, True where the
# row visits every index $0, \dots, n-1$ exactly once. (Sorted, such a row reads $0, 1, \dots, n-1$.)

# %% nbgrader={"grade": false, "grade_id": "is_permutation", "locked": false, "schema_version": 3, "solution": true}
def is_permutation(tours, n):
    """(B,) bool: each row of tours (B, n) visits every index 0..n-1 exactly once."""
    ### BEGIN SOLUTION a08.is_permutation
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "is_permutation_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
candidates = np.array([[0, 1, 2, 3], [3, 1, 0, 2], [0, 1, 1, 3], [0, 1, 2, 4], [-1, 1, 2, 3]])
grading.expect_equal("is_permutation of five rows with n = 4",
                     np.asarray(is_permutation(candidates, 4)).tolist(),
                     [True, True, False, False, False],
                     hint="row 2 repeats city 1, rows 3 and 4 name cities that do not exist (4 and -1): "
                          "compare np.sort(tours, axis=1) with np.arange(n), row by row.")

# %% nbgrader={"grade": true, "grade_id": "is_permutation_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on valid and invalid rows.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.is_permutation", is_permutation)
### END HIDDEN TESTS

# %% [markdown]
# **Optimal tours by dynamic programming.** TSP is NP-hard, but for $n \le 13$ the **Held-Karp** dynamic
# programme solves it exactly in $O(2^n n^2)$ time instead of trying the $(n-1)!/2$ tours of brute force.
# With city 0 as the start and $S$ a set of the other cities, let $C(S, j)$ be the length of the shortest
# path that leaves city 0, visits exactly the cities of $S$ and ends at $j \in S$:
#
# $$C(\{j\}, j) = d(0, j), \qquad
#   C(S, j) = \min_{k \in S \setminus \{j\}} C(S \setminus \{j\}, k) + d(k, j),$$
#
# and the optimal tour has length $\min_j C(\{1, \dots, n-1\}, j) + d(j, 0)$. There are $2^{n-1}$ sets and
# $n - 1$ end cities, each a minimum over at most $n - 1$ cities $k$: $O(2^n n^2)$. Store a set as a **bit
# mask**, city $j$ at bit $j - 1$; then $S \setminus \{j\}$ (`S ^ (1 << (j - 1))`) is a smaller number than
# $S$, so going through the masks in increasing order, every $C$ the recurrence reads is already final.
# Keep, for each $(S, j)$, the minimising $k$ (its parent), and follow the parents back from the best last
# city to recover the tour.
#
# Vectorise over the $B$ instances, with the cities $1, \dots, n-1$ at indices $0, \dots, n-2$: `cost`
# `(B, 2^(n-1), n-1)` holds $C$, `inf` where $j \notin S$, so that a minimum over *all* $k$ only sees
# $k \in S \setminus \{j\}$; one step is `cost[:, S ^ (1 << j), :] + d[:, 1:, j + 1]`, `(B, n - 1)`, for all
# instances at once. `pairwise_distances(points)` (given) returns the `(B, n, n)` distances $d$. A tour is a
# cycle with $2n$ ways to write it; the convention is one target per instance: start at city 0 and run
# counter-clockwise, which `canonical_tour(points, tours)` (given) makes of any way of writing it.
#
# **Exercise 1c.** `held_karp(points)`: `points` `(B, n, 2)` float64, $3 \le n \le 13$; returns
# `(tours, lengths)`, the `(B, n)` canonical optimal tours and their `(B,)` lengths.

# %% nbgrader={"grade": false, "grade_id": "held_karp", "locked": false, "schema_version": 3, "solution": true}
def held_karp(points):
    """Optimal closed tours by Held-Karp: points (B, n, 2) -> (tours (B, n) canonical, lengths (B,))."""
    ### BEGIN SOLUTION a08.held_karp
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "held_karp_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
corners = np.array([[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]])  # the unit square, corners shuffled
result = held_karp(corners)
assert isinstance(result, tuple) and len(result) == 2, "held_karp must return (tours, lengths)."
grading.expect_close("optimal length around the square", result[1], np.array([4.0]),
                     hint="min_j C(all, j) + d(j, 0): the closing edge back to city 0 counts too.")
grading.expect_equal("optimal tour of the square", np.asarray(result[0]).tolist(), [[0, 2, 1, 3]],
                     hint="along the sides from city 0, counter-clockwise: follow the parents back from the "
                          "best last city, then return canonical_tour(points, tours).")
# Five cities: a 2 x 1 rectangle and a point at (1, 0.3) just above its long bottom side.
five = np.array([[[0.0, 0.0], [2.0, 1.0], [1.0, 0.3], [2.0, 0.0], [0.0, 1.0]]])
result = held_karp(five)
grading.expect_close("optimal length, five cities", result[1], np.array([6.088061302]),
                     hint="4 + 2 sqrt(1.09): the detour to city 2 replaces the bottom side, the cheapest "
                          "to give up; is C(S, j) the minimum over every k in S - {j}?")
grading.expect_equal("optimal tour, five cities", np.asarray(result[0]).tolist(), [[0, 2, 3, 1, 4]],
                     hint="the lengths are right but the order is not: record the minimising k of every "
                          "(S, j) and walk back from the last city, removing it from S at each step.")

# %% nbgrader={"grade": true, "grade_id": "held_karp_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your tours with brute force for n <= 7 and with the reference for
# n <= 10.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.held_karp", held_karp)
### END HIDDEN TESTS

# %% [markdown]
# **Convex hulls by the monotone chain.** The convex hull of $n$ points is the smallest convex polygon that
# contains them; its vertices are some of the points. Andrew's monotone chain finds them in $O(n \log n)$,
# with one test, the **cross product** of the edges $o \to a$ and $o \to b$,
#
# $$\operatorname{cross}(o, a, b) = (a_x - o_x)(b_y - o_y) - (a_y - o_y)(b_x - o_x),$$
#
# positive when the path $o \to a \to b$ turns left (counter-clockwise), zero when the three points are
# collinear. Sort the points by $x$, ties by $y$ (`np.lexsort((y, x))`). The **lower chain** takes them left
# to right: before appending point $i$, pop the chain's last point while it and the one before it do not
# make a strict left turn with $i$ (cross $\le 0$: the last point lies inside, or on the segment). The
# **upper chain** does the same right to left. The lower chain without its last point, then the upper chain
# without its last point (each chain's last point is the other's first), is the hull counter-clockwise.
# Points on an edge (cross $= 0$) and second copies of a point are not vertices.
#
# A pointer network needs *one* answer per input, so the convention is: counter-clockwise, starting at the
# hull vertex of lowest index. As a target, that first index comes **again** at the end: the repeated index
# closes the polygon and acts as the stop symbol, so a hull of $k$ vertices is a target of length $k + 1$,
# padded with $-1$ to $n + 1$ (`hull_dataset(count, n, rng, hull=convex_hull)` builds them with your
# function).
#
# **Exercise 1d.** `convex_hull(points)`: `points` `(n, 2)`, one point set; returns the `(k,)` vertex
# indices, counter-clockwise from the lowest index (with fewer than 3 points: all of them, in $(x, y)$ order).

# %% nbgrader={"grade": false, "grade_id": "convex_hull", "locked": false, "schema_version": 3, "solution": true}
def convex_hull(points):
    """Hull vertices of points (n, 2) by the monotone chain: (k,) indices, counter-clockwise, lowest first."""
    ### BEGIN SOLUTION a08.convex_hull
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "convex_hull_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
square_plus = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.0, 2.0], [1.0, 0.0]])
grading.expect_equal("hull of a square's corners, its centre (2) and a point on its bottom edge (5)",
                     np.asarray(convex_hull(square_plus)).tolist(), [0, 1, 3, 4],
                     hint="pop while cross <= 0, not < 0: a point on an edge is no vertex; list the vertices "
                          "counter-clockwise from the lowest index.")
triangle = np.array([[1.0, 1.0], [0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
grading.expect_equal("hull of a triangle with a point inside (0)", np.asarray(convex_hull(triangle)).tolist(),
                     [1, 2, 3],
                     hint="start at the lowest index among the vertices (np.roll), counter-clockwise.")
repeated = np.concatenate([square_plus, [[2.0, 2.0]]])  # corner (2, 2) twice, as points 3 and 6
grading.expect_equal("corners of the hull with a repeated corner", repeated[convex_hull(repeated)].tolist(),
                     [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]],
                     hint="either copy of a repeated point may be the vertex, but only one of them: the "
                          "second copy makes no strict left turn.")

# %% nbgrader={"grade": true, "grade_id": "convex_hull_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your hulls with the reference on random, collinear and repeated points.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.convex_hull", convex_hull)
### END HIDDEN TESTS

# %% [markdown]
# Your `held_karp` against brute force, which tries all $(n-1)!$ orders that start at city 0 (measured with
# your `tour_length`), and its speed at the size of the training sets below. Two baselines for tours will
# come in later: **nearest neighbour** (from city 0, always go to the closest unvisited city) and a
# **random** permutation.

# %%
def brute_force_length(pts):
    """The length of the shortest closed tour of one instance (n, 2), over every order from city 0."""
    orders = np.array([(0, *rest) for rest in permutations(range(1, len(pts)))])
    return tour_length(np.broadcast_to(pts, (len(orders), *pts.shape)), orders).min()


rng = np.random.default_rng(0)
points = rng.random((20, 7, 2))
hk_tours, hk_lengths = held_karp(points)
assert np.allclose(hk_lengths, [brute_force_length(p) for p in points])
assert is_permutation(hk_tours, 7).all() and np.allclose(tour_length(points, hk_tours), hk_lengths)
print("Held-Karp finds the length of brute force (720 orders each) on 20 instances of 7 cities")
start = time.process_time()
held_karp(rng.random((1000, 10, 2)))
print(f"Held-Karp on 1000 instances of 10 cities: {time.process_time() - start:.1f} s of CPU")

x_sort, y_sort = sorting_dataset(1, 5, np.random.default_rng(1))
print("sorting input", np.round(x_sort[0, :, 0], 3), "-> target", y_sort[0])
x_hull, y_hull = hull_dataset(1, 10, np.random.default_rng(2), hull=convex_hull)
print("hull vertices by the monotone chain:", convex_hull(x_hull[0]), "-> target (closing index, then -1 "
      "padding):", y_hull[0])


# %% [markdown]
# The exact answers drawn. **What to see:** the hull target runs counter-clockwise from its lowest index and
# returns to it; the nearest-neighbour tour starts well but has to come back over long edges at the end,
# while the optimal tour never crosses itself (a crossing can always be undone to shorten a tour).

# %%
def draw_tour(ax, pts, tour, style="-", color="C0", label=None):
    closed = np.append(tour, tour[0])
    ax.plot(pts[closed, 0], pts[closed, 1], style, color=color, label=label)
    ax.plot(pts[:, 0], pts[:, 1], "o", color="k", ms=4)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")


city_points = np.random.default_rng(3).random((1, 10, 2))
optimal_tour = held_karp(city_points)[0][0]
nn_tour = nearest_neighbour_tour(city_points)[0]
fig, axes = plt.subplots(1, 3, figsize=(14, 4.5))
hull_polygon = closed_sequence_vertices(y_hull[0])
draw_tour(axes[0], x_hull[0], hull_polygon, color="C2", label="hull")
for i, (px, py) in enumerate(x_hull[0]):
    axes[0].annotate(str(i), (px, py), textcoords="offset points", xytext=(4, 4))
axes[0].set_title(f"Convex hull target {y_hull[0][y_hull[0] >= 0].tolist()}")
draw_tour(axes[1], city_points[0], nn_tour, color="C3")
axes[1].set_title(f"Nearest neighbour from city 0: length {tour_length(city_points, nn_tour[None])[0]:.3f}")
draw_tour(axes[2], city_points[0], optimal_tour, color="C0")
axes[2].set_title(f"Optimal (Held-Karp): length {tour_length(city_points, optimal_tour[None])[0]:.3f}")
plt.tight_layout()
plt.show()


# %% [markdown]
# ## 2. Pointer scores with a mask
#
# The encoder (an LSTM over the embedded inputs) gives a state $e_j \in \mathbb R^H$ per input position; the
# decoder (another LSTM) gives a state $d_t$ per output step. Additive attention (assignment 07) scores every
# pair,
#
# $$u_{tj} = v^\top \tanh(W_1 e_j + W_2 d_t), \qquad W_1: (H, A),\ W_2: (H_d, A),\ v: (A,),$$
#
# and where attention would go on to read $\sum_j a_{tj} e_j$, a pointer network stops: the softmax of
# $u_{t\cdot}$ over the positions is its answer at step $t$.
#
# A position that may not be chosen (already used) is **masked**: its score is set to `MASK_SCORE` $=
# -10^9$. Then $e^{-10^9 - \max}$ underflows to exactly 0 in float32 and float64, so a masked position gets
# probability exactly 0; and since its score is a constant, its gradient is exactly 0 too. Why not
# $-\infty$? A row whose positions were all masked would give $-\infty - (-\infty) = $ `nan` in the softmax;
# $-10^9$ keeps every row finite.
#
# All steps at once: `E` is `(N, n, H)`, `D` is `(N, T, Hd)`, `mask` is `(N, T, n)` (True where position $j$
# may be chosen at step $t$) or None, and the scores are `(N, T, n)`. Compute the keys $E W_1$ `(N, n, A)`
# once (every step uses them) and the queries $D W_2$ `(N, T, A)`, then let broadcasting form the sum for
# every pair, `(N, T, n, A)`.
#
# **Exercise 2a.** `pointer_scores_forward(E, D, W1, W2, v, mask=None)` returns `(scores, cache)`, with
# `MASK_SCORE` where the mask is False; the cache holds what the backward pass needs (the tanh outputs among
# them).

# %% nbgrader={"grade": false, "grade_id": "pointer_scores_forward", "locked": false, "schema_version": 3, "solution": true}
def pointer_scores_forward(E, D, W1, W2, v, mask=None):
    """u_tj = v . tanh(W1 e_j + W2 d_t), MASK_SCORE where mask is False. Returns (scores (N, T, n), cache)."""
    ### BEGIN SOLUTION a08.pointer_scores_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "pointer_scores_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
E_check = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]])  # (1, 3, 2): n = 3 positions, H = 2
D_check = np.array([[[0.5, -0.5], [0.0, 2.0]]])  # (1, 2, 2): T = 2 steps, Hd = 2
W1_check = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5]])  # (2, 3): A = 3
W2_check = np.array([[0.5, 0.0, 0.0], [0.0, -0.5, 1.0]])
v_check = np.array([1.0, -1.0, 2.0])
mask_check = np.array([[[True, False, True], [False, True, True]]])
result = pointer_scores_forward(E_check, D_check, W1_check, W2_check, v_check)
assert isinstance(result, tuple) and len(result) == 2, "pointer_scores_forward must return (scores, cache)."
scores_check, _ = result
grading.expect_shape("scores for N = 1, T = 2, n = 3", scores_check, (1, 2, 3),
                     hint="one score per step t and position j: (N, T, n).")
# Isolation case: with W2 = 0 the decoder state plays no part, so both steps score the positions alike.
scores_keys, _ = pointer_scores_forward(E_check, D_check, W1_check, np.zeros((2, 3)), v_check)
grading.expect_close("scores with W2 = 0 (keys alone)", scores_keys,
                     np.array([[[1.6858284705, -1.6858284705, 3.0463766238],
                                [1.6858284705, -1.6858284705, 3.0463766238]]]),
                     hint="u_tj = v . tanh(e_j W1) here: multiply by W1 on the right, then tanh, then v.")
grading.expect_close("scores", scores_check,
                     np.array([[[0.6033649776, -2.1265532895, 2.4076669069],
                                [3.4964169082, 1.8102965073, 3.7157312434]]]),
                     hint="add the query d_t W2 of step t to every key e_j W1 before the tanh: "
                          "keys[:, None, :, :] + queries[:, :, None, :] has shape (N, T, n, A).")
masked_check, _ = pointer_scores_forward(E_check, D_check, W1_check, W2_check, v_check, mask_check)
grading.expect_close("masked scores where the mask is False", masked_check[~mask_check],
                     np.array([MASK_SCORE, MASK_SCORE]), rtol=0, atol=0,
                     hint="where mask is False the score is exactly MASK_SCORE: "
                          "np.where(mask, scores, MASK_SCORE).")
grading.expect_close("masked scores where the mask is True", masked_check[mask_check],
                     scores_check[mask_check], rtol=0, atol=0,
                     hint="allowed positions keep their score unchanged.")

# %% nbgrader={"grade": true, "grade_id": "pointer_scores_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.pointer_scores_forward", pointer_scores_forward)
### END HIDDEN TESTS

# %% [markdown]
# The backward pass, with $s_{tja} = \tanh(\cdot)$ from the cache. A masked score is a constant, so its
# upstream gradient is **dropped**: $\bar u = \text{dscores} \odot \text{mask}$. Then
#
# $$dv = \sum_{t,j} \bar u_{tj}\, s_{tj}, \qquad
#   g_{tj} = \bar u_{tj}\, v \odot (1 - s_{tj}^2) \ \ (N, T, n, A),$$
#
# and $g$ is the gradient of both the key and the query of the pair: a key $e_j W_1$ was used by every step,
# a query $d_t W_2$ met every position, so
#
# $$d\text{keys}_j = \sum_t g_{tj}, \quad d\text{queries}_t = \sum_j g_{tj}, \quad
#   dE = d\text{keys}\, W_1^\top,\ dW_1 = \sum_{N, n} e^\top d\text{keys}, \quad
#   dD = d\text{queries}\, W_2^\top,\ dW_2 = \sum_{N, T} d^\top d\text{queries}.$$
#
# **Exercise 2b.** `pointer_scores_backward(dscores, cache)` returns `(dE, dD, dW1, dW2, dv)`, shaped like
# `E`, `D`, `W1`, `W2` and `v`.

# %% nbgrader={"grade": false, "grade_id": "pointer_scores_backward", "locked": false, "schema_version": 3, "solution": true}
def pointer_scores_backward(dscores, cache):
    """dscores: (N, T, n); masked entries are dropped. Returns (dE, dD, dW1, dW2, dv)."""
    ### BEGIN SOLUTION a08.pointer_scores_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "pointer_scores_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
_, cache_check = pointer_scores_forward(E_check, D_check, W1_check, W2_check, v_check, mask_check)
dscores_check = np.array([[[1.0, 2.0, -1.0], [0.5, -3.0, 1.5]]])
grads = pointer_scores_backward(dscores_check, cache_check)
assert isinstance(grads, tuple) and len(grads) == 5, (
    "pointer_scores_backward must return (dE, dD, dW1, dW2, dv).")
dE_check, dD_check, dW1_check, dW2_check, dv_check = grads
for name, g, shape in [("dE", dE_check, (1, 3, 2)), ("dD", dD_check, (1, 2, 2)), ("dW1", dW1_check, (2, 3)),
                       ("dW2", dW2_check, (2, 3)), ("dv", dv_check, (3,))]:
    grading.expect_shape(name, g, shape, hint="each gradient has the shape of its input.")
grading.expect_close("dv", dv_check, np.array([1.1423912339, -0.5659737553, -1.6849797877]),
                     hint="dv = sum over t and j of dscores * mask times s = tanh(...): drop the masked "
                          "entries of dscores first (their scores are constants).")
grading.expect_close("dE", dE_check,
                     np.array([[[1.2804148662, -1.9400148488], [-3.5421199168, 3.5421199168],
                                [-0.422102031, 1.2622582482]]]),
                     hint="dkeys sums g = du * v * (1 - s**2) over the steps t (axis 1); "
                          "then dE = dkeys @ W1.T.")
grading.expect_close("dD", dD_check, np.array([[[0.0, 0.5988190543], [-1.1850192438, -2.5016536034]]]),
                     hint="dqueries sums g over the positions j (axis 2); then dD = dqueries @ W2.T.")
grading.expect_close("dW1", dW1_check,
                     np.array([[0.6299615124, -0.4494052778, 0.4567026456],
                               [-3.3495466462, 2.509390429, 0.4590575209]]),
                     hint="dW1 = sum over N and n of e_j^T dkeys_j: reshape E to (N n, H) "
                          "and dkeys to (N n, A).")
grading.expect_close("dW2", dW2_check,
                     np.array([[0.0, -0.1717145203, 0.213552267],
                               [-4.7400769752, 5.9597620457, -2.3228357111]]),
                     hint="dW2 = sum over N and T of d_t^T dqueries_t.")
# Gradient check against central differences (float64; relative error below 1e-7 on every entry). A masked
# score is the constant -1e9; adding it into the checked sum would drown the differences in round-off, so
# the check reads masked outputs as 0 (also a constant): the backward still gets a random gradient there.
rng = np.random.default_rng(0)
inputs = {"E": rng.standard_normal((2, 4, 5)), "D": rng.standard_normal((2, 3, 6)),
          "W1": 0.3 * rng.standard_normal((5, 7)), "W2": 0.3 * rng.standard_normal((6, 7)),
          "v": rng.standard_normal(7)}
mask_random = rng.random((2, 3, 4)) < 0.7


def scores_read_as_zero_where_masked(*values):
    scores, cache = pointer_scores_forward(*values, mask=mask_random)
    return np.where(mask_random, scores, 0.0), cache


check_pair(scores_read_as_zero_where_masked, pointer_scores_backward, inputs, tol=1e-7,
           context="pointer_scores_backward with a mask")
print("ok: gradient check with a mask: dE, dD, dW1, dW2 and dv within relative error 1e-7 of central "
      "differences")

# %% nbgrader={"grade": true, "grade_id": "pointer_scores_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs (masks included).
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.pointer_scores_backward", pointer_scores_forward, pointer_scores_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Masks: each position once
#
# Decoding keeps a boolean mask `allowed` `(N, n)` per instance. After position `choice` was chosen at step
# $t$, it is used up. A permutation (sorting, TSP) needs nothing more. A **closed** output (a convex hull)
# must be able to return to its first position `first` to close the polygon, but only once the polygon has
# `CLOSE_AFTER` $= 3$ vertices, and only once: from step `CLOSE_AFTER` on the first position is allowed
# again, until it is chosen a second time. In a formula, for the mask of step $t + 1$:
#
# $$\text{allowed}_{t+1}[j] = \text{allowed}_t[j] \wedge (j \ne \text{choice}), \quad \text{and, if closed
#   and } t + 1 \ge 3: \ \ \text{allowed}_{t+1}[\text{first}] = \text{allowed}_{t+1}[\text{first}] \vee
#   (\text{choice} \ne \text{first}).$$
#
# Every row has its own `choice` and `first` (index rows with `np.arange(N)`, not a whole column).
#
# **Exercise 3.** `update_mask(allowed, choice, first, t, closed)` returns the mask of step $t + 1$ as a
# **new** array (`allowed` is not modified): `allowed` `(N, n)` bool, `choice` and `first` `(N,)` int, `t`
# the step just taken, `closed` a bool.

# %% nbgrader={"grade": false, "grade_id": "update_mask", "locked": false, "schema_version": 3, "solution": true}
def update_mask(allowed, choice, first, t, closed):
    """The mask of step t + 1 after `choice` at step t. Returns a new (N, n) bool array."""
    ### BEGIN SOLUTION a08.update_mask
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "update_mask_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
allowed_check = np.ones((2, 4), dtype=bool)
next_check = update_mask(allowed_check, np.array([2, 0]), np.array([2, 0]), 0, closed=False)
grading.expect_equal("update_mask after choosing 2 (row 0) and 0 (row 1)", np.asarray(next_check).tolist(),
                     [[True, True, False, True], [False, True, True, True]],
                     hint="use up the chosen position of each row: nxt[np.arange(N), choice] = False.")
grading.expect_equal("allowed after update_mask", allowed_check.all(), True,
                     hint="update_mask changed its input in place: work on allowed.copy().")
# Two hulls of five points: row 0 visits 2, 0, 4 and closes on 2; row 1 visits 1, 3, 4, 0 (not closed yet).
allowed_check = np.ones((2, 5), dtype=bool)
first_check = np.array([2, 1])
expected_masks = [[[1, 1, 0, 1, 1], [1, 0, 1, 1, 1]],  # after step 0: the start is used up, like any position
                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]],  # after step 1: still used up
                  [[0, 1, 1, 1, 0], [1, 1, 1, 0, 0]],  # after step 2: three vertices, the start reopens
                  [[0, 1, 0, 1, 0], [0, 1, 1, 0, 0]]]  # after step 3: row 0 closed (start used); row 1 open
for t, choice in enumerate([[2, 1], [0, 3], [4, 4], [2, 0]]):
    allowed_check = update_mask(allowed_check, np.array(choice), first_check, t, closed=True)
    grading.expect_equal(f"closed masks after step {t} (choices {choice})",
                         np.asarray(allowed_check).astype(int).tolist(), expected_masks[t],
                         hint="for closed outputs the first position is allowed again once t + 1 >= "
                              "CLOSE_AFTER, unless this step chose it (that closes the polygon).")

# %% nbgrader={"grade": true, "grade_id": "update_mask_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on decoding states of random length.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.update_mask", update_mask)
### END HIDDEN TESTS

# %% [markdown]
# During training the true outputs are fed back (**teacher forcing**), so all masks are known in advance:
# `teacher_forcing_masks(targets, n, closed, update=update_mask)` applies your `update_mask` to each true
# output in turn and stacks the masks of all steps, `(N, T, n)`; a padding step (target $-1$) leaves the
# mask as it was. Training thus sees exactly the masks decoding builds. **What to see** below, for the hull
# target `[0, 2, 4, 1, 0, -1]` on five points: one position fewer per step, and position 0 allowed again at
# step 3, so the polygon can close.

# %%
masks = teacher_forcing_masks(np.array([[0, 2, 4, 1, 0, -1]]), 5, closed=True, update=update_mask)
print(masks[0].astype(int))  # one row per step t, one column per position j

# %% [markdown]
# ## 4. The network and its loss
#
# The whole pointer network, for inputs `x` `(N, n, F)` and true outputs `targets` `(N, T)`:
#
# 1. **encoder** (`pointer_encode(params, x)`, given): embed every position, $\text{emb}_j = x_j W_e + b_e$
#    `(N, n, D)` (a temporal affine layer), and run an LSTM over them: states `E` `(N, n, H)` and the final
#    `(h_n, c_n)`; it returns `emb, E, h_n, c_n, (emb_cache, enc_cache)`;
# 2. **decoder**: an LSTM started from $(h_n, c_n)$. Its input at step 0 is a learned vector `go` `(D,)`, at
#    step $t > 0$ the embedding of the *true* previous output, $\text{emb}[\text{targets}_{t-1}]$ (teacher
#    forcing; a padding $-1$ is fed as position 0, its step is ignored anyway): `dec_in` `(N, T, D)`, states
#    `Dh` `(N, T, H)`;
# 3. **pointer**: the masked scores of your `pointer_scores_forward(E, Dh, W1, W2, v, mask)` with the
#    teacher-forcing masks;
# 4. **loss**: the softmax cross-entropy (`softmax_cross_entropy`, assignment 02) of the true position,
#    averaged over the valid steps (targets $\ge 0$),
#    $$L = -\frac{1}{\#\text{valid}} \sum_{\text{valid } (i, t)} \log p(y_t = \text{targets}_{it} \mid
#      \text{targets}_{i, <t}, x_i).$$
#
# The backward pass walks the same path in reverse: the pointer scores (your backward) give `dE` and `dDh`;
# the decoder's `lstm_backward(dDh, dec_cache, return_state=True)` gives `ddec_in`, `dh_n`, `dc_n` and the
# decoder's weights. Two things are **used twice** and their gradients add up: `E` (read by the pointer, and
# its last row $h_n$ also started the decoder: `dE[:, -1] += dh_n`), and `emb` (read by the encoder and
# gathered as decoder input). The gather `emb[rows, fed]` is a product with a one-hot matrix, so its
# backward is the transposed product: every position receives the sum of the gradients of the steps that
# were fed it. Then the encoder's `lstm_backward(dE, enc_cache, dcT=dc_n)` and the embedding's
# `temporal_affine_backward`. The parameters are named in `PARAM_NAMES`:

# %%
print(PARAM_NAMES)
params_check = init_pointer_params(F=2, D=3, H=4, A=5, rng=np.random.default_rng(0), dtype=np.float64)
print({name: params_check[name].shape for name in PARAM_NAMES})


# %% [markdown]
# **Exercise 4.** `pointer_network_loss(params, x, targets, closed=False)` returns `(loss, grads)`, `grads`
# a dict with the keys of `params` and their shapes. Build the masks with
# `teacher_forcing_masks(targets, n, closed, update=update_mask)`.
#
# The visible test checks it along one direction per parameter, with the helper below: for a direction $u$,
# $\frac{d}{ds} L(p + s u)\big|_{s=0} = \langle \nabla_p L, u \rangle$. Taking $u_i = \operatorname{sign}(g_i)
# \cdot r_i$ with $r_i \in [0.5, 1.5]$ random makes every term of $\langle g, u\rangle$ add up, so one centred
# difference tests the whole gradient to $10^{-7}$ (checking each entry alone would drown its smallest ones,
# about $10^{-7}$, in round-off); a missing or overwritten term is off by order 1.

# %%
def directional_gradient_check(loss_fn, params, x, targets, closed, tol=1e-7, seed=0):
    """Assert <grads[p], u> = d/ds loss(params[p] + s u) at s = 0 for one direction u per parameter."""
    _, grads = loss_fn(params, x, targets, closed)
    rng = np.random.default_rng(seed)
    for name in PARAM_NAMES:
        u = np.sign(grads[name]) * rng.uniform(0.5, 1.5, size=grads[name].shape)
        s = np.zeros(1)

        def along(name=name, u=u, s=s):
            return loss_fn({**params, name: params[name] + s[0] * u}, x, targets, closed)[0]

        numeric = numerical_gradient(along, s)
        assert_gradient_close(name, np.array([np.sum(grads[name] * u)]), numeric, tol=tol,
                              context=f"pointer_network_loss, closed={closed}, along one direction")


# %% nbgrader={"grade": false, "grade_id": "pointer_network_loss", "locked": false, "schema_version": 3, "solution": true}
def pointer_network_loss(params, x, targets, closed=False):
    """Teacher-forced mean cross-entropy of a pointer network and the gradient of every parameter."""
    ### BEGIN SOLUTION a08.pointer_network_loss
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "pointer_network_loss_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_net = ((np.arange(20) * 0.618034) % 1).reshape(2, 5, 2)  # two instances of five points
tours_check = np.array([[0, 3, 1, 4, 2], [0, 2, 4, 1, 3]])
hulls_check = np.array([[0, 2, 4, 1, 0, -1], [0, 4, 1, 2, 3, 0]])  # their convex hulls, closing index
result = pointer_network_loss(params_check, x_net, tours_check)
assert isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict), (
    "pointer_network_loss must return (loss, grads) with grads a dict.")
loss_check, grads_check = result
for name in PARAM_NAMES:
    grading.expect_shape(f"grads['{name}']", grads_check.get(name), params_check[name].shape,
                         hint="one gradient per parameter, shaped like it.")
grading.expect_close("loss on two tours", loss_check, 0.9676359556,
                     hint="the mean over valid steps of -log p(true position); check the masks and that the "
                          "decoder is fed go, then the embeddings of the true previous outputs.")
grading.expect_close("grads['v']", grads_check["v"],
                     np.array([-0.0021344546, -0.0305669322, -0.0034293927, -0.0204262446, 0.0117041426]),
                     hint="dv comes from your pointer_scores_backward, with dscores from "
                          "softmax_cross_entropy (zero on the padding steps).")
grading.expect_close("grads['go']", grads_check["go"],
                     np.array([-9.8375057092e-05, 1.1548266225e-04, -3.2378060481e-05]),
                     hint="go is the decoder's input at step 0 for every instance: sum ddec_in[:, 0] over N.")
grading.expect_close("grads['We']", grads_check["We"],
                     np.array([[0.0173909862, 0.0351719127, -0.0358468602],
                               [0.010407275, 0.0223059078, -0.0277573504]]),
                     hint="emb is used twice: add the gradient of the gathered decoder inputs to the "
                          "encoder's before temporal_affine_backward.")
loss_closed, grads_closed = pointer_network_loss(params_check, x_net, hulls_check, closed=True)
grading.expect_close("loss on two hulls (closed, with padding)", loss_closed, 1.0775113518,
                     hint="closed outputs use the closing-index masks; the padding step (-1) is not counted.")
directional_gradient_check(pointer_network_loss, params_check, x_net, tours_check, closed=False)
directional_gradient_check(pointer_network_loss, params_check, x_net, hulls_check, closed=True)
print("ok: gradient check along one direction per parameter (12 parameters, tours and hulls): relative error "
      "below 1e-7")

# %% nbgrader={"grade": true, "grade_id": "pointer_network_loss_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your loss and every gradient with the reference on random networks,
# for sorting, tours and hulls.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.pointer_network_loss", pointer_network_loss)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Decoding
#
# At test time there are no targets to feed back: the decoder takes its own previous choice. One step:
#
# $$h_t, c_t = \text{LSTM}(\text{emb}_{y_{t-1}}, h_{t-1}, c_{t-1}), \qquad
#   \log p_t = \text{log-softmax}(u_{t\cdot}) \text{ with the mask of step } t .$$
#
# Masked positions get log-probability **exactly** $-\infty$ (not $-10^9 - \log Z$), so that no search can
# ever pick them and a beam's total can tell a valid output from an invalid one.
#
# **Exercise 5a.** `pointer_decode_step(params, E, prev_emb, prev_h, prev_c, allowed)` returns
# `(log_probs, next_h, next_c)`: `E` `(N, n, H)`, `prev_emb` `(N, D)` (`params['go']` at the first step),
# `prev_h` and `prev_c` `(N, H)`, `allowed` `(N, n)`; `log_probs` `(N, n)`. Use `lstm_step_forward`
# (assignment 06), your `pointer_scores_forward` with $T = 1$, and `log_softmax(..., axis=-1)`.

# %% nbgrader={"grade": false, "grade_id": "pointer_decode_step", "locked": false, "schema_version": 3, "solution": true}
def pointer_decode_step(params, E, prev_emb, prev_h, prev_c, allowed):
    """One LSTM step, masked pointer scores, log-probabilities (N, n) (-inf where not allowed)."""
    ### BEGIN SOLUTION a08.pointer_decode_step
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "pointer_decode_step_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
_, E_net, h_net, c_net, _ = pointer_encode(params_check, x_net)
allowed_check = np.array([[True, True, False, True, True], [False, True, True, True, False]])
go_check = np.broadcast_to(params_check["go"], (2, 3))
result = pointer_decode_step(params_check, E_net, go_check, h_net, c_net, allowed_check)
assert isinstance(result, tuple) and len(result) == 3, (
    "pointer_decode_step must return (log_probs, next_h, next_c).")
log_probs_check, next_h_check, next_c_check = result
grading.expect_shape("log_probs", log_probs_check, (2, 5), hint="one log-probability per position: (N, n).")
grading.expect_equal("positions with log_probs = -inf", np.isneginf(log_probs_check).tolist(),
                     (~allowed_check).tolist(),
                     hint="exactly -inf where not allowed, finite elsewhere: "
                          "np.where(allowed, log_probs, -np.inf).")
grading.expect_close("log_probs at the allowed positions", log_probs_check[allowed_check],
                     np.array([-1.4416798543, -1.4094057873, -1.3650328589, -1.3325290604,
                               -1.1187369932, -1.1023909941, -1.0751935316]),
                     hint="the log-softmax over the masked scores: the probabilities of the allowed "
                          "positions sum to 1.")
grading.expect_close("next_h", next_h_check,
                     np.array([[-0.0017684857, 0.0020801858, -0.1794791464, -0.0851670768],
                               [0.0007346268, 0.0010587979, -0.2307899785, -0.0919271801]]),
                     hint="next_h, next_c = lstm_step_forward(prev_emb, prev_h, prev_c, dec_Wx, dec_Wh, "
                          "dec_b); the scores use next_h, the state after this step.")
grading.expect_close("next_c", next_c_check,
                     np.array([[-0.0147016305, 0.0148107488, -0.2066081593, -0.4241266717],
                               [0.0062604936, 0.006805345, -0.268297335, -0.4887324686]]),
                     hint="return the new cell state of the decoder's LSTM step.")

# %% nbgrader={"grade": true, "grade_id": "pointer_decode_step_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your step with the reference on random networks and decoding states.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.pointer_decode_step", pointer_decode_step)
### END HIDDEN TESTS

# %% [markdown]
# **Greedy decoding** takes the most probable allowed position at every step and feeds it back:
#
# $$y_t = \arg\max_j \log p_t(j), \qquad \text{the mask of step } t + 1 = \text{update}(\text{mask}_t, y_t,
#   y_0, t), \qquad \text{the next input} = \text{emb}_{y_t}.$$
#
# Encode once (`emb, E, h, c, _ = pointer_encode(params, x)`), start from `params['go']` with every position
# allowed, and make $T$ steps: $T = n$, or $n + 1$ for closed outputs (room for the closing index). A closed
# output is done when it returns to its first position ($t > 0$ and $y_t = y_0$); from then on its row
# outputs $-1$, and it keeps decoding harmlessly with every position allowed, so that each step stays one
# array operation for the whole batch. The decoding step and the mask update are arguments, `step` and
# `update` (by default your `pointer_decode_step` and `update_mask`), so the loop can be checked on its own.
#
# **Exercise 5b.** `greedy_decode(params, x, closed=False, *, step=pointer_decode_step, update=update_mask)`:
# `x` `(N, n, F)`; returns `(N, n)` int permutations, or `(N, n + 1)` closing-index sequences padded with
# $-1$ when `closed`.

# %% nbgrader={"grade": false, "grade_id": "greedy_decode", "locked": false, "schema_version": 3, "solution": true}
def greedy_decode(params, x, closed=False, *, step=pointer_decode_step, update=update_mask):
    """The most probable allowed position at every step: (N, n) permutations or (N, n + 1) closed outputs."""
    ### BEGIN SOLUTION a08.greedy_decode
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "greedy_decode_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
params_sharp = {**params_check, "We": 5 * params_check["We"], "v": 5 * params_check["v"]}  # more decided
tours_greedy = greedy_decode(params_sharp, x_net, step=pointer_decode_step, update=update_mask)
grading.expect_equal("greedy tours of the two instances", np.asarray(tours_greedy).tolist(),
                     [[4, 3, 2, 1, 0], [3, 2, 1, 4, 0]],
                     hint="at every step take the argmax of log_probs, update the mask with it and feed back "
                          "emb[rows, choice] (each row its own choice).")
hulls_greedy = greedy_decode(params_sharp, x_net, closed=True, step=pointer_decode_step, update=update_mask)
grading.expect_equal("greedy closed outputs of the two instances", np.asarray(hulls_greedy).tolist(),
                     [[4, 3, 2, 4, -1, -1], [3, 2, 1, 3, -1, -1]],
                     hint="closed: n + 1 steps; once a row returns to its first position it is done and "
                          "outputs -1 from then on.")

# %% nbgrader={"grade": true, "grade_id": "greedy_decode_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your loop with the reference on random networks, with the reference
# decoding step and mask update.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.greedy_decode", greedy_decode)
### END HIDDEN TESTS

# %% [markdown]
# **Beam search** (assignment 07) keeps the $K$ = `width` best partial outputs by total log-probability
# $s = \sum_t \log p_t(y_t)$. Each step extends each of the $K$ beams of an input by each of the $n$
# positions: $K n$ candidates $s_k + \log p_{t,k}(j)$, `total` `(N, K n)`. It keeps the $K$ best
# (`np.argsort(-total, axis=1, kind="stable")[:, :K]`), whose parent beam is `best // n` and position
# `best % n`, and reorders the decoder states, masks, first positions and sequences by their parent. The $N$
# inputs times $K$ beams are the $N K$ rows of one `step`. At the start the $K$ beams are identical, so only
# beam 0 is live (score 0, the others $-\infty$): otherwise the first step would keep $K$ copies of one
# candidate. A finished (closed) beam is extended only by a padding step of log-probability 0 (position 0;
# every other position $-\infty$), so it keeps its score and holds one place among the $K$.
#
# Masked positions have log-probability $-\infty$, so the beams hold only valid outputs; when there are fewer
# valid outputs than $K$, the extra beams have score $-\infty$. With $K$ at least the number of valid outputs
# nothing is ever dropped, so beam search *is* exhaustive search; width 1 is greedy decoding.
#
# **Exercise 5c.** `beam_decode(params, x, width, closed=False, *, step=pointer_decode_step,
# update=update_mask)` returns `(seqs, scores)`: `seqs` `(N, width, T)` int outputs, best first, each like a
# row of `greedy_decode`, and `scores` `(N, width)` their total log-probabilities.

# %% nbgrader={"grade": false, "grade_id": "beam_decode", "locked": false, "schema_version": 3, "solution": true}
def beam_decode(params, x, width, closed=False, *, step=pointer_decode_step, update=update_mask):
    """Beam search over valid outputs: seqs (N, width, T) best first, scores (N, width) log-probabilities."""
    ### BEGIN SOLUTION a08.beam_decode
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "beam_decode_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_three = x_net[:1, :3]  # one instance of three points: 3! = 6 orders, so width 6 is exhaustive search
beams_check, beam_scores_check = beam_decode(params_sharp, x_three, 6, step=pointer_decode_step,
                                             update=update_mask)
grading.expect_equal("the 6 beams on three positions (every order, best first)",
                     np.asarray(beams_check).tolist(),
                     [[[2, 1, 0], [2, 0, 1], [1, 2, 0], [0, 2, 1], [1, 0, 2], [0, 1, 2]]],
                     hint="start with only beam 0 live (score 0, the others -inf), then keep the 6 best of "
                          "the K n candidates at every step.")
grading.expect_close("their total log-probabilities", beam_scores_check,
                     np.array([[-1.114980177, -1.376527435, -1.77033838, -1.959299427, -2.855221146,
                                -2.97889613]]),
                     hint="a beam's score is the sum of the log-probabilities of its choices: add each "
                          "step's log_probs to the parent beam's score.")
grading.expect_close("the probabilities of all 6 orders, summed", np.exp(beam_scores_check).sum(), 1.0,
                     hint="every complete order must be a beam exactly once: no copies, none lost.")
# Instance 1: width 2 finds 3, 2, 4, 1, 0, more probable than the greedy tour 3, 2, 1, 4, 0 (its second beam).
beams_check, beam_scores_check = beam_decode(params_sharp, x_net, 2, step=pointer_decode_step,
                                             update=update_mask)
grading.expect_equal("beams of width 2 on the two instances", np.asarray(beams_check).tolist(),
                     [[[4, 3, 2, 1, 0], [4, 3, 2, 0, 1]], [[3, 2, 4, 1, 0], [3, 2, 1, 4, 0]]],
                     hint="reorder the decoder states, masks, first positions and sequences by the parent "
                          "beam (best // n) before writing this step's choices.")
grading.expect_close("their scores", beam_scores_check,
                     np.array([[-2.610115893, -2.812532126], [-3.328230952, -3.363072314]]),
                     hint="the scores of the kept candidates, best first, for each instance separately.")

# %% nbgrader={"grade": true, "grade_id": "beam_decode_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your beams with exhaustive search (width n! on small n) and with the
# reference (narrower beams, closed outputs), with the reference decoding step and mask update.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.beam_decode", beam_decode)
### END HIDDEN TESTS

# %% [markdown]
# Because masked positions have log-probability $-\infty$, both decoders can only produce valid outputs
# (permutations; simple closing sequences). **What to see:** even an untrained network (random weights)
# never repeats a position and always closes its polygons validly: the masks guarantee valid answers,
# training only has to make them good.

# %%
untrained = init_pointer_params(2, 8, 8, 8, np.random.default_rng(1))
x_random = np.random.default_rng(2).random((200, 9, 2)).astype(np.float32)
random_tours = greedy_decode(untrained, x_random, step=pointer_decode_step, update=update_mask)
random_hulls = greedy_decode(untrained, x_random, closed=True, step=pointer_decode_step, update=update_mask)
beam_tours, beam_scores = beam_decode(untrained, x_random, 4, step=pointer_decode_step, update=update_mask)
polygons = [closed_sequence_vertices(s) for s in random_hulls]
print("greedy tours that are permutations:", int(is_permutation(random_tours, 9).sum()), "of 200")
print("beam tours that are permutations:", int(is_permutation(beam_tours.reshape(-1, 9), 9).sum()), "of 800")
print("greedy hull outputs that close with >= 3 distinct vertices:",
      sum(p is not None and len(set(p.tolist())) == len(p) >= 3 for p in polygons), "of 200")


# %% [markdown]
# ## 6. Training
#
# A `Module` owns the parameters and their gradients; `PointerNet` below is the library's `PointerNetwork`
# (same parameters and initialisation) running on your functions: its `loss(x, targets)` calls your
# `pointer_network_loss` and adds the gradients into `model.grads` (`accumulate`), and `greedy` and `beam`
# call your `greedy_decode` and `beam_decode` with your step and mask. The `Optimizer` of assignment 04 clips
# the gradient norm (Vinyals et al.
# clip at 2) and applies Adam.
#
# **Exercise 6.** `pointer_train_step(model, optimizer, x, targets)` makes one step: zero the gradients,
# compute the loss and gradients, update; it returns the loss **before** the update (a float).

# %%
class PointerNet(PointerNetwork):
    """The library's PointerNetwork (parameters, initialisation) with your loss, decoding step and mask."""

    def loss(self, x, targets):
        loss, grads = pointer_network_loss(self.params, x, targets, self.closed)
        for name, g in grads.items():
            self.accumulate(name, g)
        return loss

    def greedy(self, x):
        return greedy_decode(self.params, x, self.closed, step=pointer_decode_step, update=update_mask)

    def beam(self, x, width):
        return beam_decode(self.params, x, width, self.closed, step=pointer_decode_step, update=update_mask)


# %% nbgrader={"grade": false, "grade_id": "pointer_train_step", "locked": false, "schema_version": 3, "solution": true}
def pointer_train_step(model, optimizer, x, targets):
    """Zero the gradients, accumulate the loss's gradients, take one optimiser step; return the loss."""
    ### BEGIN SOLUTION a08.pointer_train_step
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "pointer_train_step_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
model_check = PointerNet(1, 4, 4, 4, rng=0, dtype=np.float64)
optimizer_check = Optimizer(model_check, adam, learning_rate=1e-2, max_grad_norm=2.0)
x_check = ((np.arange(12) * 0.618034) % 1).reshape(3, 4, 1)  # three lists of four numbers
targets_check = np.argsort(x_check[:, :, 0], axis=1)
losses_check = [pointer_train_step(model_check, optimizer_check, x_check, targets_check) for _ in range(3)]
grading.expect_close("losses of three steps on one batch", np.array(losses_check, dtype=float),
                     np.array([0.8284752319, 0.8195317532, 0.8115231335]),
                     hint="return the loss computed before the update; call optimizer.zero_grad() first in "
                          "every step, or the gradients of earlier steps pile up.")
grading.expect_close("v after three steps", model_check.params["v"],
                     np.array([-0.1758022155, 0.1208317203, -0.600815614, 0.4463940244]),
                     hint="one optimizer.step() per call, after model.loss(x, targets).")

# %% nbgrader={"grade": true, "grade_id": "pointer_train_step_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader runs your step on random networks for several steps against the reference.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a08.pointer_train_step", pointer_train_step)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Experiments
#
# Every network below is trained in this notebook, in float32, with batches of 128 fresh examples, Adam
# with gradient-norm clipping at 2 and the learning rate cut to 0.3x after 70% of the steps
# (`fit_pointer_network(..., train_step=pointer_train_step)`, with your training step). The budgets are
# small (seconds to a minute each); `docs/results_pointer.md` lists what longer runs reach
# (`experiments/train_pointer.py`).
#
# ### 7a. Sorting five numbers, and other lengths
#
# A network with $H = 32$, trained on lists of $n = 5$ numbers in $[0, 1)$. **Exact-sequence accuracy**
# counts the lists whose whole output order is right. The same network then sorts lists of other lengths it
# never saw: the encoder, the decoder and the attention do not depend on $n$. **What to see:** above 90% on
# $n = 5$ after a few seconds of training, and accuracy that falls gradually with the length: a longer list
# has more steps to get wrong and closer neighbours to tell apart.

# %%
def exact_accuracy(predicted, targets):
    return float((predicted == targets).all(axis=1).mean())


start = time.perf_counter()
sort_model = PointerNet(1, 32, 32, 32, rng=0)
sort_losses = fit_pointer_network(sort_model, batch_sampler("sort", 5, 128, np.random.default_rng(0)),
                                  steps=400, learning_rate=3e-3, train_step=pointer_train_step)
x_test, y_test = sorting_dataset(1000, 5, np.random.default_rng(12345))
sort_greedy = exact_accuracy(sort_model.greedy(x_test.astype(np.float32)), y_test)
sort_beam = exact_accuracy(sort_model.beam(x_test.astype(np.float32), 5)[0][:, 0], y_test)
print(f"sort-5: trained 400 steps in {time.perf_counter() - start:.0f} s; exact sequences on 1000 test "
      f"lists: greedy {sort_greedy:.1%}, beam 5 {sort_beam:.1%} (target >= 90%)")
lengths = [3, 4, 5, 6, 7, 8, 10, 12]
by_length = []
for n in lengths:
    xs, ys = sorting_dataset(1000, n, np.random.default_rng(n))
    by_length.append(exact_accuracy(sort_model.greedy(xs.astype(np.float32)), ys))
print("greedy exact accuracy by length:", {n: f"{a:.1%}" for n, a in zip(lengths, by_length, strict=True)})

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
ax1.plot(sort_losses, lw=0.7)
ax1.set_yscale("log")
ax1.set_xlabel("training step (batch of 128 lists)")
ax1.set_ylabel("cross-entropy per output step (log scale)")
ax1.set_title("Sorting n = 5: training loss")
ax2.plot(lengths, by_length, "o-")
ax2.axvline(5, color="gray", ls=":", label="trained on n = 5")
ax2.set_xlabel("list length n")
ax2.set_ylabel("exact-sequence accuracy (greedy)")
ax2.set_ylim(0, 1.02)
ax2.set_title("One network, lists of every length")
ax2.legend()
plt.tight_layout()
plt.show()


# %% [markdown]
# ### 7b. Convex hulls of ten points
#
# A closed output: the network must pick the hull's vertices in counter-clockwise order and then point back
# at the first one to stop. Exact sequences are a harsh measure (one vertex missed and the answer counts as
# wrong), so the measure of Vinyals et al. is **area coverage**: the area of the predicted polygon over the
# area of the true hull, counted 0 when the prediction is not a simple polygon (fewer than 3 vertices or
# self-crossing). Every simple polygon on the points lies inside their hull, so among the beams of a beam
# search the one of **largest valid area** is the best guess, and it reads only the inputs (as taking the
# shortest of several tours does). **What to see:** coverage above 98% with greedy decoding after about a
# minute of training (target: at least 98%), close to 100% for the largest polygon among 5 beams, although
# only about two thirds of the greedy outputs are exactly the target (missing a vertex that lies nearly on
# the hull's edge costs little area).

# %%
def largest_polygons(x, seqs, scores):
    """Among the beams of each instance, the valid closed polygon of largest area: (B, K, L) -> (B, L)."""
    areas = np.stack([closed_polygon_area(x, seqs[:, k]) for k in range(seqs.shape[1])], axis=1)  # (B, K)
    areas[~np.isfinite(scores)] = -1.0
    return seqs[np.arange(len(x)), np.argmax(areas, axis=1)]


start = time.perf_counter()
hull_model = PointerNet(2, 64, 64, 64, closed=True, rng=0)
hull_batches = batch_sampler("hull", 10, 128, np.random.default_rng(0), hull=convex_hull)
fit_pointer_network(hull_model, hull_batches, steps=2500, learning_rate=2e-3, train_step=pointer_train_step)
hull_seconds = time.perf_counter() - start
x_test, y_test = hull_dataset(1000, 10, np.random.default_rng(12345), hull=convex_hull)
hull_greedy = hull_model.greedy(x_test.astype(np.float32))
hull_seqs, hull_scores = hull_model.beam(x_test.astype(np.float32), 5)
hull_largest = largest_polygons(x_test, hull_seqs, hull_scores)
print(f"hull-10: trained 2500 steps in {hull_seconds:.0f} s; on 1000 test sets of 10 points:")
for label, predicted in [("greedy", hull_greedy), ("beam 5, most probable", hull_seqs[:, 0]),
                         ("beam 5, largest valid polygon", hull_largest)]:
    coverage = hull_area_coverage(x_test, predicted, y_test)
    print(f"  {label:<30} area coverage {coverage.mean():.2%}, "
          f"exact {exact_accuracy(predicted, y_test):.1%}, not a simple polygon {np.mean(coverage == 0):.1%}")

fig, axes = plt.subplots(1, 4, figsize=(16, 4))
for ax, b in zip(axes, range(4), strict=True):
    true_polygon = closed_sequence_vertices(y_test[b])
    predicted_polygon = closed_sequence_vertices(hull_greedy[b])
    draw_tour(ax, x_test[b], true_polygon, style="--", color="gray", label="true hull")
    if predicted_polygon is not None and len(predicted_polygon) >= 2:
        draw_tour(ax, x_test[b], predicted_polygon, color="C2", label="greedy prediction")
    coverage = hull_area_coverage(x_test[b : b + 1], hull_greedy[b : b + 1], y_test[b : b + 1])[0]
    ax.set_title(f"coverage {coverage:.1%}")
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=2)
plt.suptitle("Convex hulls of 10 points: greedy pointer-network output against the true hull")
plt.tight_layout(rect=(0, 0.06, 1, 1))
plt.show()


# %% [markdown]
# ### 7c. Travelling salesman with 5 and 10 cities
#
# Training data: 10 000 instances per size, solved exactly by your `held_karp` (a few seconds for TSP-10).
# Each
# batch relabels the cities at random and applies one of the unit square's 8 symmetries (`batch_sampler`);
# both keep the optimal tour, so the pool gives far more distinct examples than it holds. Evaluation: the
# shipped test sets of 1000 instances each with their optimal tours. For beam search the **shortest** of
# the 10 beams is taken (a tour's length is cheap to compute from the input). **What to see:** after half
# a minute of training the greedy TSP-10 tours are about 2% above optimal (target: at most 3.0 against the
# optimal 2.87), well ahead of nearest neighbour (about 11% above), and beam search closes most of the
# remaining gap.

# %%
def shortest_beam(points, seqs, scores):
    """The shortest valid tour among the beams of each instance: (B, K, n) -> (B, n)."""
    B, K, n = seqs.shape
    lengths = tour_length(np.repeat(points, K, axis=0), seqs.reshape(-1, n)).reshape(B, K)
    lengths[~np.isfinite(scores)] = np.inf
    return seqs[np.arange(B), np.argmin(lengths, axis=1)]


tsp_models, tsp_rows = {n: PointerNet(2, 64, 64, 64, rng=0) for n in (5, 10)}, {}
for n, steps in [(5, 500), (10, 900)]:
    start = time.perf_counter()
    pool = tsp_dataset(10_000, n, seed=1, solve=held_karp)[:2]
    solve_seconds = time.perf_counter() - start
    model = tsp_models[n]
    fit_pointer_network(model, batch_sampler("tsp", n, 128, np.random.default_rng(0), pool=pool), steps=steps,
                        learning_rate=2e-3, train_step=pointer_train_step)
    print(f"TSP-{n}: 10000 training instances solved in {solve_seconds:.1f} s, {steps} steps trained in "
          f"{time.perf_counter() - start - solve_seconds:.0f} s")
    points_test, tours_test, lengths_test = load_tsp_test(n)
    greedy_tours = model.greedy(points_test.astype(np.float32))
    beam_tours = shortest_beam(points_test, *model.beam(points_test.astype(np.float32), 10))
    tsp_rows[n] = {
        "optimal (Held-Karp)": lengths_test.mean(),
        "pointer net, beam 10 (shortest)": tour_length(points_test, beam_tours).mean(),
        "pointer net, greedy": tour_length(points_test, greedy_tours).mean(),
        "nearest neighbour": tour_length(points_test, nearest_neighbour_tour(points_test)).mean(),
        "random tour": tour_length(points_test, random_tour(points_test, np.random.default_rng(0))).mean(),
        "greedy exactly optimal": exact_accuracy(greedy_tours, tours_test),
    }

print(f"\n{'average tour length':<34}{'TSP-5':>18}{'TSP-10':>18}")
for key in tsp_rows[5]:
    cells = []
    for n in (5, 10):
        value, optimum = tsp_rows[n][key], tsp_rows[n]["optimal (Held-Karp)"]
        exact = key == "greedy exactly optimal"
        cells.append(f"{value:.1%}" if exact else f"{value:.4f} ({value / optimum - 1:+.1%})")
    print(f"{key:<34}{cells[0]:>18}{cells[1]:>18}")
print(f"\nTSP-10 greedy {tsp_rows[10]['pointer net, greedy']:.3f} (target <= 3.0; Vinyals et al.: 2.88, "
      f"optimal 2.87)")

# %% [markdown]
# Predicted against optimal tours on the first four TSP-10 test instances (not selected). **What to see:**
# the greedy tours follow the optimal one over most of their edges and lose 1-5% on one or two local
# detours; a few even cross themselves, which a local search (reversing the segment between the crossing
# edges, a "2-opt" move) would undo. About 40% of the greedy tours are exactly optimal (table above).

# %%
points_test, tours_test, lengths_test = load_tsp_test(10)
greedy_tours = tsp_models[10].greedy(points_test[:4].astype(np.float32))
fig, axes = plt.subplots(1, 4, figsize=(16, 4))
for b, ax in enumerate(axes):
    predicted = tour_length(points_test[b : b + 1], greedy_tours[b : b + 1])[0]
    draw_tour(ax, points_test[b], tours_test[b], style="--", color="gray", label="optimal")
    draw_tour(ax, points_test[b], greedy_tours[b], color="C0", label="pointer net (greedy)")
    ax.set_title(f"predicted {predicted:.3f} vs optimal {lengths_test[b]:.3f}")
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=2)
plt.suptitle("TSP-10: greedy pointer-network tours against the Held-Karp optimum")
plt.tight_layout(rect=(0, 0.06, 1, 1))
plt.show()

# %% [markdown]
# ### 7d. Greedy against beam search
#
# Greedy decoding is beam search of width 1. Wider beams keep more partial tours; we can take the most
# probable complete beam (what a language model would do) or, since a tour can be measured, the shortest.
# **What to see:** the most probable beam gains a little over greedy; the shortest of the beams gains much
# more, and most of it with the first few beams. (On TSP-5 a beam of 10 would be nearly exhaustive: a tour
# from city 0 has only 24 directed orders.)

# %%
widths = [1, 2, 3, 5, 10]
most_probable, shortest = [], []
for width in widths:
    seqs, scores = tsp_models[10].beam(points_test.astype(np.float32), width)
    most_probable.append(tour_length(points_test, seqs[:, 0]).mean())
    shortest.append(tour_length(points_test, shortest_beam(points_test, seqs, scores)).mean())
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(widths, most_probable, "o-", label="most probable beam")
ax.plot(widths, shortest, "s-", label="shortest beam")
ax.axhline(lengths_test.mean(), color="k", ls="--", label="optimal (Held-Karp)")
ax.set_xlabel("beam width")
ax.set_ylabel("average tour length, 1000 TSP-10 instances")
ax.set_title("TSP-10: beam search against greedy (width 1)")
ax.legend()
plt.show()

# %% [markdown]
# ### 7e. In context: the lecture's figures
#
# Held-Karp needs $2^{n-1}(n-1)$ table entries: fine for 10 cities, hopeless for 100 ($\sim 10^{32}$
# entries; the lecture counts $\sim 10^{157}$ possible tours). Supervised training on optimal tours, as here,
# therefore stops at small $n$. The lecture's TSP100 figures come from **reinforcement learning** instead
# (Bello, Pham et al. 2016): the pointer network is trained to shorten its own tours, with no optimal
# targets, and compared with classic heuristics. Against the optimum, the average tour lengths on TSP100:

# %%
print(f"{'TSP100 (lecture 003)':<34}{'average tour':>13}{'above optimal':>15}")
for name, length in [("Christofides", 9.18), ("local search", 7.99), ("RL pointer networks", 7.83),
                     ("optimal", 7.77)]:
    print(f"{name:<34}{length:>13.2f}{length / 7.77 - 1:>15.1%}")
print(f"\n{'TSP-10 (this notebook)':<34}{'average tour':>13}{'above optimal':>15}")
tsp10 = {"nearest neighbour": tour_length(points_test, nearest_neighbour_tour(points_test)).mean(),
         "pointer net, greedy": most_probable[0],  # width 1 in 7d is greedy decoding
         "pointer net, beam 10 (shortest)": shortest[-1], "optimal (Held-Karp)": lengths_test.mean()}
for key, value in tsp10.items():
    print(f"{key:<34}{value:>13.3f}{value / tsp10['optimal (Held-Karp)'] - 1:>15.1%}")
elapsed_wall, elapsed_cpu = time.perf_counter() - notebook_start[0], time.process_time() - notebook_start[1]
print(f"\nthis notebook so far: {elapsed_wall:.0f} s of wall time, {elapsed_cpu:.0f} s of CPU time")

# %% [markdown]
# **What to see:** the pointer networks sit where the lecture puts them: far ahead of simple constructions
# (Christofides' 2-approximation is 18% above optimal on TSP100, nearest neighbour about 11% on TSP-10),
# within a few percent of optimal like a good local search, and, with search at decoding time, within
# about a percent. The lecture's single example (3.523 predicted against 3.518 optimal, 0.14% above) is of
# the same kind as our best beams. The gaps are not directly comparable across sizes: a 10-city tour has
# few ways to go wrong, a 100-city tour very many.
#
# ## Summary
#
# A pointer network is an attention decoder whose attention weights are the output: the output vocabulary is
# the input, so one network sorts, finds hulls and plans tours for any $n$. Masking with a large negative
# score (not $-\infty$) gives used positions probability and gradient exactly 0 while keeping every softmax
# finite; with $-\infty$ log-probabilities at decoding time, greedy and beam search can only return valid
# outputs. Supervised training needs exact targets, which dynamic programming (Held-Karp, $O(2^n n^2)$) and
# a hull algorithm ($O(n \log n)$) provide for small problems; beyond that, the lecture's TSP100 results come
# from training on the tour length itself. Searching at test time (the shortest of a few beams, the largest
# valid polygon) is cheap and closes most of what a short training run leaves.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a08_pointer_networks.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a08_pointer_networks.ipynb")
