"""Graph layers: message passing with mean or sum aggregation, and graph attention (GAT) (lecture 004).

Lecture 004 ("Graph Neural Networks"): as in a convnet, the input is divided into items, the nodes; a
graph says which nodes are neighbours; the new state of a node is a function of its neighbourhood that
must not depend on the order of the neighbours, hence a commutative aggregation such as a sum
(Battaglia et al. 2018, arXiv:1806.01261). The adjacency matrix holds the graph: ``adj[i, j] > 0`` when
node j sends a message to node i, so row i lists the neighbours of i.

- Message passing: m_i = sum_j A_ij h_j (sum) or that divided by the degree deg_i = sum_j A_ij (mean),
  then out_i = h_i W_self + m_i W_neigh + b. In matrix form m = A h (sum) or D^{-1} A h (mean).
- Graph attention (Velickovic et al. 2018, arXiv:1710.10903; lecture 004's
  h_j = sigma(sum_i g(h_i, h_j) f(h_i)) with f = a linear map and g = attention): z = h W, scores
  e_ij = LeakyReLU(a_self . z_i + a_neigh . z_j), attention alpha_ij = softmax over the neighbours j of i
  of e_ij (the adjacency is the mask), out_i = sum_j alpha_ij z_j. Unlike the mean, the weights are
  learned from the features, so a node can listen more to the neighbours that look like it. Add self
  loops (adj + I) to let a node attend to itself; a transformer is this layer on the complete graph.

Shapes: N nodes, D input features, H output features; h (N, D), adj (N, N), out (N, H). Neither layer
applies a non-linearity after its output: stack them with ``relu_forward``. The adjacency is structure,
not a parameter, so the backward passes return no gradient for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array, check_choice
from course.layers.attention import masked_softmax
from course.layers.losses import softmax_backward
from course.training.init import glorot_normal, he_normal


def _check_graph(func: str, h: Any, adj: Any, dims: dict[str, int]) -> None:
    check_array(func, "h", h, ("N", "D"), dims=dims, dtype_kind="f")
    check_array(func, "adj", adj, ("N", "N"), dims=dims, dtype_kind="f")


def message_passing_forward(
    h: Any, adj: Any, w_self: Any, w_neigh: Any, b: Any, aggregation: str = "mean"
) -> tuple[Any, tuple]:
    """Message passing, out_i = h_i W_self + m_i W_neigh + b with m = A h (sum) or D^{-1} A h (mean).

    Inputs:
    - h: (N, D) node features.
    - adj: (N, N) float adjacency, adj[i, j] > 0 when j is a neighbour of i (weights are allowed).
    - w_self: (D, H) weights of the node's own features.
    - w_neigh: (D, H) weights of the aggregated neighbour features.
    - b: (H,) bias.
    - aggregation: 'mean' (a node without neighbours gets m_i = 0) or 'sum'.

    Returns:
    - out: (N, H).
    - cache: (h, a, m, w_self, w_neigh) with a the (N, N) aggregation matrix and m = a h (N, D).
    """
    dims: dict[str, int] = {}
    _check_graph("message_passing_forward", h, adj, dims)
    check_array("message_passing_forward", "w_self", w_self, ("D", "H"), dims=dims, dtype_kind="f")
    check_array("message_passing_forward", "w_neigh", w_neigh, ("D", "H"), dims=dims, dtype_kind="f")
    check_array("message_passing_forward", "b", b, ("H",), dims=dims, dtype_kind="f")
    check_choice("message_passing_forward", "aggregation", aggregation, ("mean", "sum"))
    # BEGIN GRADED a10.message_passing_forward
    xp = get_array_module(h, adj)
    if aggregation == "mean":
        deg = adj.sum(axis=1, keepdims=True)  # (N, 1)
        a = adj / xp.where(deg > 0, deg, 1)  # (N, N): row i averages over i's neighbours (none: m_i = 0)
    else:
        a = adj
    m = a @ h  # (N, N) @ (N, D) -> (N, D): one aggregated message per node
    out = h @ w_self + m @ w_neigh + b  # (N, H)
    cache = (h, a, m, w_self, w_neigh)
    return out, cache
    # END GRADED


def message_passing_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any, Any]:
    """Backward pass of message passing: h is read twice, as each node itself and in its neighbours' m.

    dh = dout W_self^T + a^T (dout W_neigh^T), dW_self = h^T dout, dW_neigh = m^T dout, db = sum_i dout_i.

    Inputs:
    - dout: (N, H) upstream gradient.
    - cache: from ``message_passing_forward``.

    Returns:
    - dh: (N, D), dw_self: (D, H), dw_neigh: (D, H), db: (H,).
    """
    h, w_self = cache[0], cache[3]
    check_array("message_passing_backward", "dout", dout, (h.shape[0], w_self.shape[1]), dtype_kind="f")
    # BEGIN GRADED a10.message_passing_backward
    h, a, m, w_self, w_neigh = cache
    dm = dout @ w_neigh.T  # (N, D)
    dh = dout @ w_self.T + a.T @ dm  # both uses of h add; a^T sends each message's gradient to its sender
    dw_self = h.T @ dout  # (D, H)
    dw_neigh = m.T @ dout  # (D, H)
    db = dout.sum(axis=0)  # (H,)
    return dh, dw_self, dw_neigh, db
    # END GRADED


def gat_forward(
    h: Any, adj: Any, w: Any, a_self: Any, a_neigh: Any, negative_slope: float = 0.2
) -> tuple[Any, tuple]:
    """Graph attention (one head), out_i = sum_j alpha_ij z_j with z = h W.

    e_ij = LeakyReLU(a_self . z_i + a_neigh . z_j) and alpha_i. = softmax of e_i. over the neighbours of
    i (entries with adj[i, j] == 0 get weight exactly 0).

    Inputs:
    - h: (N, D) node features.
    - adj: (N, N) float adjacency, the attention mask; every node needs at least one neighbour (add self
      loops, adj + I).
    - w: (D, H) shared linear map.
    - a_self: (H,) attention vector of the receiving node i; a_neigh: (H,) that of the neighbour j.
    - negative_slope: the LeakyReLU's slope for negative scores (0.2 in the GAT paper).

    Returns:
    - out: (N, H).
    - cache: (h, w, a_self, a_neigh, z, scores, alpha, negative_slope), with z (N, H), the scores before
      the LeakyReLU (N, N) and the attention alpha (N, N), rows summing to 1.
    """
    dims: dict[str, int] = {}
    _check_graph("gat_forward", h, adj, dims)
    check_array("gat_forward", "w", w, ("D", "H"), dims=dims, dtype_kind="f")
    check_array("gat_forward", "a_self", a_self, ("H",), dims=dims, dtype_kind="f")
    check_array("gat_forward", "a_neigh", a_neigh, ("H",), dims=dims, dtype_kind="f")
    # BEGIN GRADED a10.gat_forward
    xp = get_array_module(h, adj)
    z = h @ w  # (N, D) @ (D, H) -> (N, H)
    scores = (z @ a_self)[:, None] + (z @ a_neigh)[None, :]  # (N, 1) + (1, N) -> (N, N)
    e = xp.where(scores > 0, scores, negative_slope * scores)  # LeakyReLU
    alpha = masked_softmax(e, adj > 0)  # (N, N): row i sums to 1 over i's neighbours, 0 elsewhere
    out = alpha @ z  # (N, N) @ (N, H) -> (N, H)
    cache = (h, w, a_self, a_neigh, z, scores, alpha, negative_slope)
    return out, cache
    # END GRADED


def gat_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any, Any]:
    """Backward pass of graph attention.

    dalpha = dout z^T; de = softmax backward of each row; dscores = de * LeakyReLU'(scores);
    z is read three times (as the values, through a_self . z_i and through a_neigh . z_j):
    dz = alpha^T dout + (sum_j dscores_ij) a_self^T + (sum_i dscores_ij) a_neigh^T; then dw = h^T dz and
    dh = dz W^T.

    Inputs:
    - dout: (N, H) upstream gradient.
    - cache: from ``gat_forward``.

    Returns:
    - dh: (N, D), dw: (D, H), da_self: (H,), da_neigh: (H,).
    """
    z = cache[4]
    check_array("gat_backward", "dout", dout, tuple(z.shape), dtype_kind="f")
    # BEGIN GRADED a10.gat_backward
    xp = get_array_module(dout)
    h, w, a_self, a_neigh, z, scores, alpha, negative_slope = cache
    dalpha = dout @ z.T  # (N, N)
    dz = alpha.T @ dout  # (N, H): z_j is read by every node that attends to j
    de = softmax_backward(dalpha, alpha)  # (N, N), row by row; 0 off the mask, where alpha = 0
    dscores = xp.where(scores > 0, de, negative_slope * de)  # (N, N), through the LeakyReLU
    ds_self = dscores.sum(axis=1)  # (N,): score e_ij reads z_i through a_self, for every j
    ds_neigh = dscores.sum(axis=0)  # (N,): and z_j through a_neigh, for every i
    dz = dz + xp.outer(ds_self, a_self) + xp.outer(ds_neigh, a_neigh)  # (N, H)
    da_self = z.T @ ds_self  # (H,)
    da_neigh = z.T @ ds_neigh  # (H,)
    dw = h.T @ dz  # (D, H)
    dh = dz @ w.T  # (N, D)
    return dh, dw, da_self, da_neigh
    # END GRADED


class MessagePassing(Module):
    """A message-passing layer on a fixed graph: ``w_self``, ``w_neigh`` (D, H) He-normal, ``b`` (H,) zero.

    ``adj`` (N, N) is set at construction (and may be replaced: ``layer.adj = ...``); the layer's input
    is the (N, D) matrix of node features.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        adj: Any,
        *,
        aggregation: str = "mean",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        check_choice("MessagePassing", "aggregation", aggregation, ("mean", "sum"))
        rng = np.random.default_rng(0 if rng is None else rng)
        for name in ("w_self", "w_neigh"):
            self.add_param(name, he_normal((in_features, out_features), rng, dtype))
        self.add_param("b", np.zeros(out_features, dtype=dtype))
        self.adj = adj
        self.aggregation = aggregation

    def forward(self, x: Any) -> Any:
        p = self.params
        out, self.cache = message_passing_forward(
            x, self.adj, p["w_self"], p["w_neigh"], p["b"], self.aggregation
        )
        return out

    def backward(self, dout: Any) -> Any:
        dh, dw_self, dw_neigh, db = message_passing_backward(dout, self.cache)
        self.accumulate("w_self", dw_self)
        self.accumulate("w_neigh", dw_neigh)
        self.accumulate("b", db)
        return dh


class GraphAttention(Module):
    """A one-head graph-attention layer on a fixed graph: ``w`` (D, H) Glorot-normal, ``a_self`` and
    ``a_neigh`` (H,) zero.

    Zero attention vectors make every score 0, so the layer starts as the plain mean over each
    neighbourhood and learns from there where to look (random ones start from random preferences, which
    on few labelled nodes it tends to keep). ``adj`` (N, N), the attention mask, is set at construction;
    self loops are added unless ``self_loops=False``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        adj: Any,
        *,
        self_loops: bool = True,
        negative_slope: float = 0.2,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(0 if rng is None else rng)
        self.add_param("w", glorot_normal((in_features, out_features), rng, dtype))
        self.add_param("a_self", np.zeros(out_features, dtype=dtype))
        self.add_param("a_neigh", np.zeros(out_features, dtype=dtype))
        xp = get_array_module(adj)
        self.adj = adj + xp.eye(len(adj), dtype=adj.dtype) if self_loops else adj
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Any:
        p = self.params
        out, self.cache = gat_forward(x, self.adj, p["w"], p["a_self"], p["a_neigh"], self.negative_slope)
        return out

    def backward(self, dout: Any) -> Any:
        dh, dw, da_self, da_neigh = gat_backward(dout, self.cache)
        self.accumulate("w", dw)
        self.accumulate("a_self", da_self)
        self.accumulate("a_neigh", da_neigh)
        return dh
