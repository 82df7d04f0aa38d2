"""Linear regions of ReLU networks: count them on a grid, and the lecture's bounds (lecture 004).

A ReLU net is piecewise linear. Fix the *activation pattern*, which units are on ([pre-activation > 0])
at every layer: then each layer is an affine map followed by a fixed 0/1 mask, so the net is one affine
function of the input, and the set of inputs with that pattern is an intersection of half-spaces, a
convex polytope. These polytopes are the linear regions; counting the distinct patterns met on a fine
grid of a 2-D window counts the regions that cross it (regions thinner than the grid step are missed, so
the count is a lower bound for that window).

Lecture 004 ("What does depth provide?"):
- One hidden layer of m units in d = 2 dimensions cuts the plane with m lines W_1[i] x + b_1[i] = 0.
  Zaslavsky's theorem (1975): m lines in general position make r(A_m) = C(m, 2) + m + 1 regions, and no
  arrangement makes more (for d inputs: sum_{j=0}^{d} C(m, j)). That is the most a shallow net can reach.
- Deeper layers cut every existing region again, along lines bent by the layers below ("partitioning
  into regions by second hidden layer"). Montufar, Pascanu, Cho & Bengio 2014, "On the number of linear
  regions of deep neural networks": by folding the space, a net of L layers of n >= d units can have
  at least floor(n / d)^(d (L - 1)) sum_{j=0}^{d} C(n, j) regions, exponentially many in L, with a number
  of units only linear in L. ``folding_net`` builds such a net in 2-D (tent maps, one per coordinate).

The lecture's own caveat: a trained (or randomly initialised) net does not come near these maxima, and
whether exponentially many regions explain why depth helps is doubtful ("the answer is probably no").

Networks here are lists of hidden layers ``[(W_1 (d, n_1), b_1 (n_1,)), (W_2 (n_1, n_2), b_2), ...]``;
the output layer is affine and does not change the regions, so it is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb
from typing import Any

import numpy as np

from course.core.validation import check_array, check_positive
from course.training.init import he_normal

Layers = Sequence[tuple[Any, Any]]


def grid_points(low: float, high: float, steps: int) -> np.ndarray:
    """A steps x steps grid of cell centres on the square [low, high]^2.

    Returns points (steps * steps, 2), row-major: point r * steps + c has x = c-th and y = r-th centre.
    (Cell centres, not the corners, so no point lies exactly on the round lines of a simple net.)
    """
    check_positive("grid_points", "steps", steps)
    centres = low + (np.arange(steps) + 0.5) * (high - low) / steps
    gx, gy = np.meshgrid(centres, centres)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def activation_patterns(layers: Layers, X: Any) -> np.ndarray:
    """The on/off pattern of every hidden unit at every input.

    Inputs:
    - layers: hidden layers [(W_l (n_{l-1}, n_l), b_l (n_l,)), ...] of a ReLU net, n_0 = d.
    - X: (N, d) inputs.

    Returns:
    - patterns: (N, n_1 + ... + n_L) bool, True where a unit's pre-activation is > 0.
    """
    check_array("activation_patterns", "X", X, ndim=2, dtype_kind="f")
    h, bits = X, []
    for W, b in layers:
        pre = h @ W + b  # (N, n_l)
        bits.append(pre > 0)
        h = np.maximum(pre, 0)
    return np.concatenate(bits, axis=1)


def region_labels(layers: Layers, X: Any) -> tuple[np.ndarray, int]:
    """Label each input by its linear region (its activation pattern).

    Returns:
    - labels: (N,) int64 in [0, R), equal for two inputs exactly when their patterns are equal.
    - count: R, the number of distinct patterns (regions) met by X.
    """
    patterns = activation_patterns(layers, X)  # (N, U) bool
    packed = np.packbits(patterns, axis=1)  # (N, ceil(U / 8)) uint8: 8 units per byte
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()  # (N,)
    _, labels = np.unique(keys, return_inverse=True)  # one opaque key per row sorts fast
    labels = labels.reshape(-1).astype(np.int64)
    return labels, int(labels.max()) + 1 if labels.size else 0


def count_linear_regions(layers: Layers, X: Any) -> int:
    """The number of linear regions of the ReLU net met by the inputs X (N, d)."""
    return region_labels(layers, X)[1]


def zaslavsky_bound(m: int, d: int = 2) -> int:
    """Most regions m hyperplanes can cut R^d into (general position): sum_{j=0}^{d} C(m, j).

    For d = 2 this is C(m, 2) + m + 1, lecture 004's r(A_m): the maximum for one hidden layer of m units.
    """
    return sum(comb(m, j) for j in range(d + 1))


def montufar_bound(n: int, depth: int, d: int = 2) -> int:
    """Montufar et al. (2014)'s lower bound on the maximal number of regions of ``depth`` layers of width n.

    floor(n / d)^(d (depth - 1)) * sum_{j=0}^{d} C(n, j), for n >= d inputs: some net of that shape has at
    least that many regions.
    """
    if n < d:
        raise ValueError(f"montufar_bound: the width n must be >= the input dimension d = {d}, got {n}")
    return (n // d) ** (d * (depth - 1)) * zaslavsky_bound(n, d)


def random_relu_net(
    widths: Sequence[int], rng: np.random.Generator, d: int = 2, bias_std: float = 0.5
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Hidden layers of a randomly initialised ReLU net: He-normal weights, N(0, bias_std^2) biases.

    (Zero biases, the usual start of training, would put every first-layer line through the origin.)

    Inputs: widths [n_1, ..., n_L]; rng; d the input dimension; bias_std.
    Returns the layers [(W_l (n_{l-1}, n_l), b_l (n_l,)), ...] in float64.
    """
    layers, fan_in = [], d
    for n in widths:
        W = he_normal((fan_in, n), rng, np.float64)
        layers.append((W, rng.standard_normal(n) * bias_std))
        fan_in = n
    return layers


def folding_net(depth: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """A 2-D ReLU net of ``depth`` layers of 4 units that folds [0, 1]^2 in half along each axis per layer.

    Each layer applies the tent map t(u) = 2 relu(u) - 4 relu(u - 1/2) (which folds [0, 1] onto itself
    at 1/2) to each coordinate; its two ReLUs per coordinate are the units, and the next layer's weights
    absorb the combination. After L layers each coordinate is cut into 2^L pieces, so the square holds
    4^L linear regions from only 4 L units (Montufar et al. 2014's construction, in its simplest form).

    Returns the layers [(W (d_in, 4), b (4,)), ...] in float64, for inputs in [0, 1]^2.
    """
    check_positive("folding_net", "depth", depth)
    units = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])  # (2, 4): x feeds units 0, 1; y 2, 3
    bias = np.array([0.0, -0.5, 0.0, -0.5])  # the kinks at 0 and 1/2
    tent = np.array([[2.0, 0.0], [-4.0, 0.0], [0.0, 2.0], [0.0, -4.0]])  # (4, 2): t(x), t(y) from units
    layers = [(units, bias)]
    for _ in range(depth - 1):
        layers.append((tent @ units, bias))  # (4, 4): rebuild the tents, then cut them again
    return layers
