"""Gradients in the mini TensorFlow: the backward walk over the DAG, second order, the SGD node, smooth max,
and a two-layer net trained through the graph against the same net built from the library's modules."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from course.core.gradcheck import DEFAULT_TOL, assert_gradient_close, numerical_gradient, rel_error
from course.minitf.graph import Graph, Node, smooth_max
from course.minitf.session import Session, gradients, sgd_optimizer, topological_order

Walk = Callable[[Node, Sequence[Node]], list[Node]]


def overwriting_gradients(y: Node, xs: Sequence[Node]) -> list[Node]:
    """A deliberately broken backward walk: a node's gradient is *overwritten* by each new contribution.

    Identical to ``course.minitf.session.gradients`` except for the marked line, so it is right on a tree
    and wrong as soon as a node is read twice (a diamond, or ``x * x``). Kept here, not in the library,
    to show that the tests below catch it.
    """
    g = y.graph
    grads = {y: g.ones_like(y)}
    for node in reversed(topological_order([y])):
        if node not in grads or node.op is None:
            continue
        for inp, grad in zip(node.inputs, node.op.gradient(g, node, grads[node]), strict=True):
            if grad is not None:
                grads[inp] = grad  # BUG: forgets the contributions of the other paths
    return [grads[x] if x in grads else g.zeros_like(x) for x in xs]


def assert_diamond_gradient_sums_both_paths(walk: Walk) -> None:
    """y = sum(square(x) * sigmoid(x)): x reaches y along two paths; dy/dx = 2x s + x^2 s (1 - s)."""
    g = Graph()
    x = g.placeholder("x")
    y = g.sum(g.multiply(g.square(x), g.sigmoid(x)))
    (dx,) = walk(y, [x])
    value = np.linspace(-1.9, 2.1, 7)  # no point at x = 0, where the gradient is exactly 0
    s = 1 / (1 + np.exp(-value))
    expected = 2 * value * s + value**2 * s * (1 - s)
    got = Session(g).run(dx, {x: value})
    assert_gradient_close("x", got, expected, 1e-12, context="diamond y = sum(x^2 * sigmoid(x))")
    numeric = numerical_gradient(lambda: Session(g).run(y, {x: value}), value)
    assert_gradient_close("x", got, numeric, DEFAULT_TOL, context="diamond, central differences")


# ---- the backward walk ---------------------------------------------------------------------------------


def test_diamond_gradient_is_the_sum_over_both_paths() -> None:
    assert_diamond_gradient_sums_both_paths(lambda y, xs: gradients(y, xs))


def test_overwriting_instead_of_accumulating_fails_the_diamond_test() -> None:
    with pytest.raises(AssertionError, match="diamond"):
        assert_diamond_gradient_sums_both_paths(overwriting_gradients)


def test_node_read_twice_by_one_op_gets_both_contributions() -> None:
    g = Graph()
    x = g.placeholder("x")
    y = g.sum(g.multiply(x, x))
    value = np.array([1.0, -2.0, 3.0])
    (good,) = gradients(y, [x])
    (bad,) = overwriting_gradients(y, [x])
    good_value, bad_value = Session(g).run([good, bad], {x: value})
    np.testing.assert_array_equal(good_value, 2 * value)
    np.testing.assert_array_equal(bad_value, value)  # the broken walk keeps only one of the two factors


def test_doubling_chain_gradient_sums_two_to_the_depth_paths_in_linear_time() -> None:
    depth = 40
    g = Graph()
    x = g.placeholder("x")
    node = x
    for _ in range(depth):
        node = g.add(node, node)
    before = len(g.nodes)
    (dx,) = gradients(node, [x])
    sess = Session(g)
    assert sess.run(dx, {x: np.array(0.3)}) == 2.0**depth  # one unit of gradient along each of 2^40 paths
    built = len(g.nodes) - before
    assert built <= 4 * depth + 2, f"the gradient graph has {built} nodes for a chain of {depth}"
    assert sum(sess.eval_counts.values()) <= built + depth + 1


def test_gradient_of_an_unreachable_input_is_zeros_of_its_shape() -> None:
    g = Graph()
    x, z = g.placeholder("x"), g.placeholder("z")
    y = g.sum(g.square(x))
    dx, dz = gradients(y, [x, z])
    values = Session(g).run([dx, dz], {x: np.ones(2), z: np.ones((3, 4))})
    np.testing.assert_array_equal(values[0], 2 * np.ones(2))
    np.testing.assert_array_equal(values[1], np.zeros((3, 4)))


def test_grad_ys_gives_the_vector_jacobian_product() -> None:
    rng = np.random.default_rng(0)
    a_value, v_value = rng.standard_normal((3, 4)), rng.standard_normal(3)
    g = Graph()
    x, v = g.placeholder("x"), g.placeholder("v")
    y = g.tanh(g.matmul(g.constant(a_value), x))  # (3, 1)
    (vjp,) = gradients(y, [x], grad_ys=g.expand_dims(v, 1))
    x_value = rng.standard_normal((4, 1))
    jacobian = (1 - np.tanh(a_value @ x_value) ** 2) * a_value  # (3, 4): row i is d y_i / d x
    got = Session(g).run(vjp, {x: x_value, v: v_value})
    assert_gradient_close("x", got, (v_value @ jacobian)[:, None], 1e-12, context="v^T J")


# ---- second order --------------------------------------------------------------------------------------


def test_second_and_third_derivatives_of_sigmoid_match_closed_forms() -> None:
    g = Graph()
    x = g.placeholder("x")
    (d1,) = gradients(g.sum(g.sigmoid(x)), [x])
    (d2,) = gradients(g.sum(d1), [x])
    (d3,) = gradients(g.sum(d2), [x])
    value = np.linspace(-4.0, 4.0, 9)
    got = Session(g).run([d1, d2, d3], {x: value})
    s = 1 / (1 + np.exp(-value))
    expected = [s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s**2)]
    for order, (a, e) in enumerate(zip(got, expected, strict=True), start=1):
        assert_gradient_close("x", a, e, 1e-10, context=f"derivative {order} of sigmoid")


@pytest.mark.oracle
def test_second_derivative_of_sigmoid_matches_torch_double_backward() -> None:
    torch = pytest.importorskip("torch")
    value = np.linspace(-4.0, 4.0, 9)
    g = Graph()
    x = g.placeholder("x")
    (d1,) = gradients(g.sum(g.sigmoid(x)), [x])
    (d2,) = gradients(g.sum(d1), [x])
    got = Session(g).run(d2, {x: value})
    t = torch.tensor(value, requires_grad=True)
    (t1,) = torch.autograd.grad(torch.sigmoid(t).sum(), t, create_graph=True)
    (t2,) = torch.autograd.grad(t1.sum(), t)
    assert rel_error(got, t2.numpy()) < 1e-12


def _two_layer_loss(g: Graph, x: Node, w1: Node, w2: Node, labels: np.ndarray) -> Node:
    return g.softmax_cross_entropy(g.matmul(g.tanh(g.matmul(x, w1)), w2), g.constant(labels))


def test_hessian_vector_product_matches_finite_differences_of_the_gradient() -> None:
    rng = np.random.default_rng(0)
    n, d, h, c = 8, 4, 5, 3
    x_value, labels = rng.standard_normal((n, d)), rng.integers(0, c, n)
    w1_value, w2_value = rng.standard_normal((d, h)), rng.standard_normal((h, c))
    v1_value, v2_value = rng.standard_normal((d, h)), rng.standard_normal((h, c))
    g = Graph()
    x, w1, w2 = g.placeholder("x"), g.placeholder("w1"), g.placeholder("w2")
    v1, v2 = g.placeholder("v1"), g.placeholder("v2")
    loss = _two_layer_loss(g, x, w1, w2, labels)
    dw1, dw2 = gradients(loss, [w1, w2])
    hv1, hv2 = gradients(g.add(g.sum(g.multiply(dw1, v1)), g.sum(g.multiply(dw2, v2))), [w1, w2])
    sess = Session(g)
    feed = {x: x_value, w1: w1_value, w2: w2_value, v1: v1_value, v2: v2_value}
    hvps = sess.run([hv1, hv2], feed)

    eps = 1e-5
    plus = sess.run([dw1, dw2], {**feed, w1: w1_value + eps * v1_value, w2: w2_value + eps * v2_value})
    minus = sess.run([dw1, dw2], {**feed, w1: w1_value - eps * v1_value, w2: w2_value - eps * v2_value})
    for name, hvp, p, m in zip(["w1", "w2"], hvps, plus, minus, strict=True):
        # float64: the centred difference of the gradient has O(eps^2) ~ 1e-10 truncation error
        assert_gradient_close(name, hvp, (p - m) / (2 * eps), 1e-6, context="Hessian-vector product")


# ---- the SGD node --------------------------------------------------------------------------------------


def test_sgd_optimizer_step_updates_every_variable_of_the_loss_and_returns_the_old_loss() -> None:
    rng = np.random.default_rng(0)
    x_value, t_value = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    g = Graph()
    x, t = g.placeholder("x"), g.placeholder("t")
    w, b = g.variable("w", rng.standard_normal((3, 1))), g.variable("b", np.zeros(1))
    untouched = g.variable("other", np.ones(2))
    loss = g.mean(g.square(g.subtract(g.add(g.matmul(x, w), b), t)))
    dw, db = gradients(loss, [w, b])
    opt = sgd_optimizer(loss, learning_rate=0.1)
    sess = Session(g)
    feed = {x: x_value, t: t_value}
    loss_before, dw_value, db_value = sess.run([loss, dw, db], feed)
    w_before, b_before = w.value.copy(), b.value.copy()
    assert sess.run(opt, feed) == loss_before
    np.testing.assert_allclose(w.value, w_before - 0.1 * dw_value, rtol=1e-14)
    np.testing.assert_allclose(b.value, b_before - 0.1 * db_value, rtol=1e-14)
    np.testing.assert_array_equal(untouched.value, np.ones(2))
    assert sess.run(loss, feed) < loss_before


def test_sgd_update_rebinds_each_variable_and_leaves_its_old_array_alone() -> None:
    from course.minitf.ops import sgd_update  # noqa: PLC0415

    g = Graph()
    w, b = g.variable("w", np.array([[1.0, -2.0], [0.5, 0.0]])), g.variable("b", np.array([0.1, 0.2]))
    old_w = w.value
    sgd_update([w, b], [np.ones((2, 2)), np.array([1.0, -1.0])], 0.5)
    np.testing.assert_array_equal(w.value, np.array([[0.5, -2.5], [0.0, -0.5]]))
    np.testing.assert_allclose(b.value, np.array([-0.4, 0.7]), rtol=1e-15)
    np.testing.assert_array_equal(old_w, np.array([[1.0, -2.0], [0.5, 0.0]]))  # a value fetched earlier


def test_sgd_optimizer_converges_to_the_least_squares_solution() -> None:
    rng = np.random.default_rng(1)
    x_value = rng.standard_normal((50, 3))
    t_value = x_value @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.standard_normal((50, 1))
    g = Graph()
    x, t = g.placeholder("x"), g.placeholder("t")
    w = g.variable("w", np.zeros((3, 1)))
    opt = sgd_optimizer(g.mean(g.square(g.subtract(g.matmul(x, w), t))), learning_rate=0.2)
    sess = Session(g)
    for _ in range(300):
        sess.run(opt, {x: x_value, t: t_value})
    best, *_ = np.linalg.lstsq(x_value, t_value, rcond=None)
    assert rel_error(w.value, best) < 1e-8


# ---- max as the limit of x^T softmax(alpha x) ---------------------------------------------------------


def test_smooth_max_tends_to_max_and_its_gradient_to_the_one_hot_of_the_argmax() -> None:
    x_value = np.array([0.3, -1.2, 2.0, 1.9, 0.0])
    g = Graph()
    x = g.placeholder("x")
    gaps, grad_gaps = [], []
    for alpha in [1.0, 10.0, 100.0, 1000.0]:
        y = smooth_max(x, alpha)
        (dx,) = gradients(y, [x])
        value, grad = Session(g).run([y, dx], {x: x_value})
        gaps.append(abs(value - x_value.max()))
        grad_gaps.append(np.abs(grad - np.eye(5)[2]).max())
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False)), f"|smooth max - max| grows: {gaps}"
    assert gaps[-1] < 1e-30 and grad_gaps[-1] < 1e-30
    assert grad_gaps[1] > grad_gaps[2] > grad_gaps[3]


def test_smooth_max_gradient_matches_the_lecture_formula() -> None:
    rng = np.random.default_rng(0)
    x_value, alpha, dy = rng.standard_normal(6), 2.5, 1.7
    g = Graph()
    x = g.placeholder("x")
    y = smooth_max(x, alpha)
    (dx,) = gradients(y, [x], grad_ys=g.constant(np.array(dy)))
    s = np.exp(alpha * x_value) / np.exp(alpha * x_value).sum()
    # s dy + alpha (diag(s) - s s^T) x dy
    expected = s * dy + alpha * (np.diag(s) - np.outer(s, s)) @ x_value * dy
    assert_gradient_close("x", Session(g).run(dx, {x: x_value}), expected, 1e-12, context="smooth max")


def test_loss_and_its_gradients_in_one_run_compute_each_forward_node_once() -> None:
    rng = np.random.default_rng(0)
    g = Graph()
    x, w = g.placeholder("x"), g.variable("w", rng.standard_normal((3, 2)))
    hidden = g.sigmoid(g.matmul(x, w))
    loss = g.mean(g.square(hidden))
    forward_nodes = topological_order([loss])
    (dw,) = gradients(loss, [w])
    sess = Session(g)
    sess.run([loss, dw], {x: rng.standard_normal((4, 3))})
    # the gradient rules read `hidden` (sigmoid reuses its output): the cache serves it to both fetches
    assert all(sess.eval_counts[node] == 1 for node in forward_nodes)
