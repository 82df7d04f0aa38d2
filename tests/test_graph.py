"""Tests for course/layers/graph.py (message passing, graph attention) and course/data/graphs.py (the
stochastic block model): values, order invariance, gradient checks in float64, PyTorch, a learning run."""

import numpy as np
import pytest

from course.core.gradcheck import check_module, check_pair
from course.core.module import Sequential
from course.data.graphs import make_sbm
from course.layers.activations import ReLU
from course.layers.affine import Linear
from course.layers.graph import (
    GraphAttention,
    MessagePassing,
    gat_backward,
    gat_forward,
    message_passing_backward,
    message_passing_forward,
)
from course.layers.losses import softmax_cross_entropy
from course.training.optim import Optimizer, adam

# Gradient checks run in float64 with relative error < 1e-7 (course.core.gradcheck.DEFAULT_TOL).
N, D, H = 5, 4, 3


def _graph(seed=0, n=N, isolated=True):
    """A directed random graph (adj[i, j] = 1: j sends to i) whose last node has no neighbours."""
    adj = (np.random.default_rng(seed).random((n, n)) < 0.5).astype(np.float64)
    np.fill_diagonal(adj, 0)
    if isolated:
        adj[-1] = 0
    return adj


def _mp_params(seed=1):
    rng = np.random.default_rng(seed)
    h, w_self, w_neigh = rng.standard_normal((N, D)), rng.standard_normal((D, H)), rng.standard_normal((D, H))
    return h, w_self, w_neigh, rng.standard_normal(H)


def _gat_params(seed=2):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.standard_normal((D, H)), rng.standard_normal((2, H))


def test_message_passing_forward_averages_or_sums_the_neighbours_and_an_isolated_node_gets_none():
    h = np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
    adj = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # node 2 hears nobody
    eye, zero = np.eye(2), np.zeros((2, 2))
    out, _ = message_passing_forward(h, adj, zero, eye, np.zeros(2), "mean")
    np.testing.assert_allclose(out, [[2.0, 3.0], [1.0, 0.0], [0.0, 0.0]], rtol=1e-12)
    out, _ = message_passing_forward(h, adj, zero, eye, np.zeros(2), "sum")
    np.testing.assert_allclose(out, [[4.0, 6.0], [1.0, 0.0], [0.0, 0.0]], rtol=1e-12)
    out, _ = message_passing_forward(h, adj, 2 * eye, zero, np.array([1.0, -1.0]), "mean")
    np.testing.assert_allclose(out, 2 * h + [1.0, -1.0], rtol=1e-12)


@pytest.mark.parametrize("forward", ["mp_mean", "mp_sum", "gat"])
def test_relabelling_the_nodes_relabels_the_outputs(forward):
    # the lecture's order invariance: the new state of a node may not depend on how nodes are numbered
    adj = _graph(3, isolated=False) + np.eye(N)
    h, w_self, w_neigh, b = _mp_params()
    _, w, a = _gat_params()
    layers = {
        "mp_mean": lambda h, adj: message_passing_forward(h, adj, w_self, w_neigh, b, "mean")[0],
        "mp_sum": lambda h, adj: message_passing_forward(h, adj, w_self, w_neigh, b, "sum")[0],
        "gat": lambda h, adj: gat_forward(h, adj, w, a[0], a[1])[0],
    }
    perm = np.random.default_rng(4).permutation(N)
    out = layers[forward](h, adj)
    np.testing.assert_allclose(layers[forward](h[perm], adj[perm][:, perm]), out[perm], rtol=1e-12)


@pytest.mark.parametrize("aggregation", ["mean", "sum"])
@pytest.mark.parametrize("seed", [0, 5])
def test_message_passing_backward_matches_central_difference_on_h_w_self_w_neigh_b(aggregation, seed):
    adj = _graph(seed) * np.random.default_rng(seed).uniform(0.5, 2.0, (N, N))  # weighted, directed
    h, w_self, w_neigh, b = _mp_params(seed + 1)
    errors = check_pair(
        lambda h, w_self, w_neigh, b: message_passing_forward(h, adj, w_self, w_neigh, b, aggregation),
        message_passing_backward,
        {"h": h, "w_self": w_self, "w_neigh": w_neigh, "b": b},
    )
    assert max(errors.values()) < 1e-7


def test_gat_attention_is_a_softmax_over_the_neighbours_only():
    adj = _graph(6, isolated=False) + np.eye(N)
    h, w, a = _gat_params()
    out, cache = gat_forward(h, adj, w, a[0], a[1])
    alpha = cache[6]
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(alpha[adj == 0] == 0) and np.all(alpha[adj > 0] > 0)
    z = h @ w
    e = (z @ a[0])[:, None] + (z @ a[1])[None, :]
    e = np.where(e > 0, e, 0.2 * e)
    i = 0
    keep = adj[i] > 0
    expected = np.exp(e[i, keep]) / np.exp(e[i, keep]).sum()
    np.testing.assert_allclose(alpha[i, keep], expected, rtol=1e-12)
    np.testing.assert_allclose(out, alpha @ z, rtol=1e-12)


def test_gat_with_zero_attention_vectors_is_the_mean_over_each_neighbourhood():
    adj = _graph(7, isolated=False) + np.eye(N)
    h, w, _ = _gat_params()
    out, _ = gat_forward(h, adj, w, np.zeros(H), np.zeros(H))
    mean, _ = message_passing_forward(h @ w, adj, np.zeros((H, H)), np.eye(H), np.zeros(H), "mean")
    np.testing.assert_allclose(out, mean, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 8])
def test_gat_backward_matches_central_difference_on_h_w_a_self_a_neigh(seed):
    adj = _graph(seed, isolated=False) + np.eye(N)  # a self loop each: every row keeps a neighbour
    h, w, a = _gat_params(seed + 2)
    errors = check_pair(
        lambda h, w, a_self, a_neigh: gat_forward(h, adj, w, a_self, a_neigh),
        gat_backward,
        {"h": h, "w": w, "a_self": a[0].copy(), "a_neigh": a[1].copy()},
    )
    assert max(errors.values()) < 1e-7


def test_graph_layers_reject_bad_shapes_and_a_node_without_anyone_to_attend_to():
    h, w_self, w_neigh, b = _mp_params()
    with pytest.raises(ValueError, match=r"message_passing_forward: adj must have shape \(N, N\)"):
        message_passing_forward(h, np.zeros((N, N + 1)), w_self, w_neigh, b)
    with pytest.raises(ValueError, match=r"message_passing_forward: w_neigh must have shape \(D, H\)"):
        message_passing_forward(h, _graph(), w_self, w_neigh[:, :2], b)
    with pytest.raises(ValueError, match=r"message_passing_forward: aggregation must be one of"):
        message_passing_forward(h, _graph(), w_self, w_neigh, b, "max")
    _, w, a = _gat_params()
    with pytest.raises(ValueError, match=r"masked_softmax: every row of the mask must keep"):
        gat_forward(h, _graph(), w, a[0], a[1])  # the last node has no neighbour and no self loop
    with pytest.raises(ValueError, match=r"gat_forward: a_neigh must have shape \(H,\)"):
        gat_forward(h, _graph() + np.eye(N), w, a[0], a[1][:2])


def test_graph_modules_pass_check_module():
    adj = _graph(9)
    h = np.random.default_rng(10).standard_normal((N, D))
    mp = MessagePassing(D, H, adj, aggregation="sum", rng=0, dtype=np.float64)
    mp.params["b"][...] = np.random.default_rng(11).standard_normal(H)
    assert set(check_module(mp, h)) == {"x", "w_self", "w_neigh", "b"}
    gat = GraphAttention(D, H, adj, rng=1, dtype=np.float64)
    for name in ("a_self", "a_neigh"):  # away from the zero start, so the attention is not uniform
        gat.params[name][...] = np.random.default_rng(12).standard_normal(H)
    assert set(check_module(gat, h)) == {"x", "w", "a_self", "a_neigh"}


def test_make_sbm_is_seeded_symmetric_without_self_loops_and_denser_within_blocks():
    X, y, adj = make_sbm((100, 100, 100), p_in=0.2, p_out=0.02, num_features=8, rng=np.random.default_rng(0))
    assert X.shape == (300, 8) and X.dtype == np.float32 and y.dtype == np.int64 and adj.shape == (300, 300)
    np.testing.assert_array_equal(adj, adj.T)
    assert np.all(np.diag(adj) == 0) and set(np.unique(adj)) == {0.0, 1.0}
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])
    same = y[:, None] == y[None, :]
    within = adj[same].sum() / (same.sum() - 300)  # 14 850 pairs: standard error ~ 0.003
    between = adj[~same].mean()  # 30 000 pairs: standard error ~ 0.001
    assert abs(within - 0.2) < 0.015 and abs(between - 0.02) < 0.005
    again = make_sbm((100, 100, 100), p_in=0.2, p_out=0.02, num_features=8, rng=np.random.default_rng(0))
    for first, second in zip((X, y, adj), again):
        np.testing.assert_array_equal(first, second)
    with pytest.raises(ValueError, match=r"make_sbm: p_in must be a probability"):
        make_sbm(p_in=1.5)


def _fit_nodes(model, X, y, train_idx, steps=100):
    """Full-batch Adam on the labelled nodes only; returns the predicted class of every node."""
    optimizer = Optimizer(model, adam, learning_rate=1e-2, weight_decay=5e-4)
    for _ in range(steps):
        optimizer.zero_grad()
        scores = model.forward(X)
        _, dlabelled = softmax_cross_entropy(scores[train_idx], y[train_idx])
        dscores = np.zeros_like(scores)
        dscores[train_idx] = dlabelled  # unlabelled nodes add nothing to the loss
        model.backward(dscores)
        optimizer.step()
    return model.forward(X).argmax(axis=1)


def test_graph_networks_beat_a_per_node_mlp_on_a_stochastic_block_model():
    X, y, adj = make_sbm(signal=1.5, rng=np.random.default_rng(0))
    perm = np.random.default_rng(1).permutation(len(y))
    train_idx, test_idx = perm[:48], perm[120:]
    models = {
        "mlp": Sequential(Linear(16, 16, rng=0), ReLU(), Linear(16, 4, rng=1)),
        "mp": Sequential(MessagePassing(16, 16, adj, rng=0), ReLU(), MessagePassing(16, 4, adj, rng=1)),
        "gat": Sequential(GraphAttention(16, 16, adj, rng=0), ReLU(), GraphAttention(16, 4, adj, rng=1)),
    }
    acc = {k: np.mean(_fit_nodes(m, X, y, train_idx)[test_idx] == y[test_idx]) for k, m in models.items()}
    assert acc["mlp"] < 0.7 and acc["mp"] > acc["mlp"] + 0.15 and acc["gat"] > acc["mlp"] + 0.15, acc


@pytest.mark.oracle
@pytest.mark.parametrize("aggregation", ["mean", "sum"])
def test_message_passing_matches_torch_autograd(aggregation):
    torch = pytest.importorskip("torch")
    adj = _graph(13)
    h, w_self, w_neigh, b = _mp_params(14)
    dout = np.random.default_rng(15).standard_normal((N, H))
    out, cache = message_passing_forward(h, adj, w_self, w_neigh, b, aggregation)
    grads = message_passing_backward(dout, cache)
    leaves = [torch.tensor(v, requires_grad=True) for v in (h, w_self, w_neigh, b)]
    ht, wst, wnt, bt = leaves
    at = torch.tensor(adj)
    if aggregation == "mean":
        at = at / at.sum(dim=1, keepdim=True).clamp(min=1)
    out_t = ht @ wst + (at @ ht) @ wnt + bt
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, leaf in zip(grads, leaves, strict=True):
        np.testing.assert_allclose(ours, leaf.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.oracle
def test_gat_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    adj = _graph(16, isolated=False) + np.eye(N)
    h, w, a = _gat_params(17)
    dout = np.random.default_rng(18).standard_normal((N, H))
    out, cache = gat_forward(h, adj, w, a[0], a[1])
    grads = gat_backward(dout, cache)
    leaves = [torch.tensor(v, requires_grad=True) for v in (h, w, a[0], a[1])]
    ht, wt, ast, ant = leaves
    zt = ht @ wt
    e = torch.nn.functional.leaky_relu((zt @ ast)[:, None] + (zt @ ant)[None, :], 0.2)
    e = e.masked_fill(torch.tensor(adj) == 0, float("-inf"))
    out_t = torch.softmax(e, dim=1) @ zt
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, leaf in zip(grads, leaves, strict=True):
        np.testing.assert_allclose(ours, leaf.grad.numpy(), rtol=1e-10, atol=1e-12)
