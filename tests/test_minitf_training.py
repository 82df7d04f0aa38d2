"""A two-layer net trained through the mini TensorFlow equals the same net trained with the library's modules.

Assignment 03 against assignment 02: the graph engine (symbolic gradients, an SGD node) and the hand-wired
modules (Linear, ReLU, fused softmax-cross-entropy, backward by hand) must compute the same numbers.
"""

from __future__ import annotations

import numpy as np

from course.core.gradcheck import rel_error
from course.core.module import Sequential
from course.layers.activations import ReLU
from course.layers.affine import Linear
from course.layers.losses import softmax_cross_entropy
from course.minitf.graph import Graph
from course.minitf.session import Session, sgd_optimizer


def _spiral(rng: np.random.Generator, n_per_class: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A small 2-D spiral: class k winds from the centre at angle offset 2 pi k / classes."""
    radius = np.tile(np.linspace(0.05, 1.0, n_per_class), classes)
    labels = np.repeat(np.arange(classes), n_per_class)
    angle = 4.0 * radius + 2 * np.pi * labels / classes + 0.2 * rng.standard_normal(radius.size)
    return np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1), labels


def test_two_layer_net_trained_through_the_graph_equals_the_module_version_in_float64() -> None:
    rng = np.random.default_rng(0)
    x_all, y_all = _spiral(rng, 32, 3)
    d, h, c, lr, batch, steps = 2, 16, 3, 0.5, 24, 60

    net = Sequential(Linear(d, h, rng=1, dtype=np.float64), ReLU(), Linear(h, c, rng=2, dtype=np.float64))
    init = net.state_dict()

    g = Graph()
    x, y = g.placeholder("x", shape=(None, d)), g.placeholder("y", shape=(None,))
    w1, b1 = g.variable("w1", init["0.w"]), g.variable("b1", init["0.b"])
    w2, b2 = g.variable("w2", init["2.w"]), g.variable("b2", init["2.b"])
    hidden = g.relu(g.add(g.matmul(x, w1), b1))
    loss = g.softmax_cross_entropy(g.add(g.matmul(hidden, w2), b2), y)
    train_step = sgd_optimizer(loss, learning_rate=lr)
    sess = Session(g)
    initial_loss = sess.run(loss, {x: x_all, y: y_all})

    graph_losses, module_losses = [], []
    for step in range(steps):
        idx = np.random.default_rng(100 + step).choice(len(x_all), batch, replace=False)
        xb, yb = x_all[idx], y_all[idx]

        graph_losses.append(float(sess.run(train_step, {x: xb, y: yb})))

        loss_value, dscores = softmax_cross_entropy(net.forward(xb), yb)
        net.zero_grad()
        net.backward(dscores)
        for _, param, grad in net.parameters():
            param -= lr * grad
        module_losses.append(float(loss_value))

    assert rel_error(np.array(graph_losses), np.array(module_losses)) < 1e-10
    final = net.state_dict()
    for name, node in [("0.w", w1), ("0.b", b1), ("2.w", w2), ("2.b", b2)]:
        err = rel_error(node.value, final[name])
        assert err < 1e-10, f"after {steps} steps graph {node.name} differs from module {name}: {err:.2e}"
    final_loss = sess.run(loss, {x: x_all, y: y_all})
    assert final_loss < 0.7 * initial_loss, f"the net did not learn: {initial_loss:.3f} -> {final_loss:.3f}"
