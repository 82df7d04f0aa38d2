"""Each operator expert of the mini TensorFlow: gradients vs central differences, value and gradient vs torch.

Each case builds ``f = sum(op(inputs) * dout)`` with a seeded random ``dout``, so every output element carries
its own upstream gradient, and asks the graph for df/d(input) for every input. Float64 throughout; gradient
checks use rel < 1e-7 (course.core.gradcheck.DEFAULT_TOL). The second-order checks differentiate the gradient
graph once more (a Hessian-vector product with a random v) and compare with torch double-backward.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from course.core.gradcheck import DEFAULT_TOL, assert_gradient_close, numerical_gradient, rel_error
from course.minitf.graph import Graph, Node, smooth_max
from course.minitf.session import Session, gradients

LABELS = np.array([0, 3, 1, 4, 4, 2])


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with |x| in [0.2, 1.5], so relu's kink at 0 is far beyond the finite-difference step."""
    return rng.uniform(0.2, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


@dataclass
class Case:
    """One operator: how to build it in the graph and in torch, and its float64 inputs."""

    name: str
    build: Callable[..., Node]  # build(g, *input_nodes) -> output node
    torch_fn: Callable  # torch_fn(*tensors) -> tensor
    make_inputs: Callable[[np.random.Generator], dict[str, np.ndarray]]


def _cases() -> list[Case]:
    def t():
        import torch  # noqa: PLC0415  (only the oracle tests call the torch functions)

        return torch

    normal = lambda *shape: lambda rng: {"x": rng.standard_normal(shape)}
    return [
        Case(
            "add_broadcast_row",
            lambda g, a, b: g.add(a, b),
            lambda a, b: a + b,
            lambda rng: {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)},
        ),
        Case(
            "add_broadcast_column",
            lambda g, a, b: a + b,
            lambda a, b: a + b,
            lambda rng: {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal((4, 1))},
        ),
        Case(
            "subtract_broadcast",
            lambda g, a, b: g.subtract(a, b),
            lambda a, b: a - b,
            lambda rng: {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal((1, 3))},
        ),
        Case("negative", lambda g, x: g.negative(x), lambda x: -x, normal(4, 3)),
        Case(
            "multiply_broadcast",
            lambda g, a, b: g.multiply(a, b),
            lambda a, b: a * b,
            lambda rng: {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal((4, 1))},
        ),
        Case(
            "multiply_broadcast_first_input",
            lambda g, a, b: a * b,
            lambda a, b: a * b,
            lambda rng: {"a": rng.standard_normal(3), "b": rng.standard_normal((4, 3))},
        ),
        Case("multiply_same_node_twice", lambda g, x: g.multiply(x, x), lambda x: x * x, normal(5)),
        Case("scalar_multiply", lambda g, x: 2.5 * x, lambda x: 2.5 * x, normal(4, 3)),
        Case(
            "divide_broadcast",
            lambda g, a, b: g.divide(a, b),
            lambda a, b: a / b,
            lambda rng: {"a": rng.standard_normal((4, 3)), "b": rng.uniform(0.5, 2.0, 3)},
        ),
        Case(
            "matmul",
            lambda g, a, b: g.matmul(a, b),
            lambda a, b: a @ b,
            lambda rng: {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal((3, 5))},
        ),
        Case("transpose", lambda g, x: g.transpose(x), lambda x: x.T, normal(3, 4)),
        Case("square", lambda g, x: g.square(x), lambda x: x * x, normal(4, 3)),
        Case("sigmoid", lambda g, x: g.sigmoid(x), lambda x: t().sigmoid(x), normal(4, 3)),
        Case("tanh", lambda g, x: g.tanh(x), lambda x: t().tanh(x), normal(4, 3)),
        Case(
            "relu",
            lambda g, x: g.relu(x),
            lambda x: t().relu(x),
            lambda rng: {"x": _away_from_zero(rng, (4, 3))},
        ),
        Case("exp", lambda g, x: g.exp(x), lambda x: t().exp(x), normal(4, 3)),
        Case(
            "log",
            lambda g, x: g.log(x),
            lambda x: t().log(x),
            lambda rng: {"x": rng.uniform(0.5, 2.0, (4, 3))},
        ),
        Case("sum_all", lambda g, x: g.sum(x), lambda x: x.sum(), normal(4, 3)),
        Case("sum_axis0", lambda g, x: g.sum(x, axis=0), lambda x: x.sum(0), normal(4, 3)),
        Case("sum_axes_0_2", lambda g, x: g.sum(x, axis=(0, 2)), lambda x: x.sum((0, 2)), normal(2, 3, 4)),
        Case(
            "sum_keepdims",
            lambda g, x: g.sum(x, axis=1, keepdims=True),
            lambda x: x.sum(1, keepdim=True),
            normal(4, 3),
        ),
        Case("mean_axis1", lambda g, x: g.mean(x, axis=1), lambda x: x.mean(1), normal(4, 3)),
        Case("mean_all", lambda g, x: g.mean(x), lambda x: x.mean(), normal(4, 3)),
        Case("softmax", lambda g, x: g.softmax(x), lambda x: t().softmax(x, -1), normal(4, 5)),
        Case(
            "softmax_cross_entropy",
            lambda g, z: g.softmax_cross_entropy(z, g.constant(LABELS)),
            lambda z: t().nn.functional.cross_entropy(z, t().from_numpy(LABELS)),
            normal(6, 5),
        ),
        Case("reduce_max_all", lambda g, x: g.reduce_max(x), lambda x: x.amax(), normal(4, 3)),
        Case("reduce_max_axis1", lambda g, x: g.reduce_max(x, axis=1), lambda x: x.amax(1), normal(4, 3)),
        Case(
            "smooth_max",
            lambda g, x: smooth_max(x, 3.0),
            lambda x: (x * t().softmax(3.0 * x, -1)).sum(-1),
            normal(4, 5),
        ),
    ]


CASES = _cases()
IDS = [c.name for c in CASES]


def _build(case: Case, seed: int = 0):
    """Graph with f = sum(op(inputs) * dout); returns g, f, the output node, placeholders, feed, dout."""
    rng = np.random.default_rng(seed)
    inputs = case.make_inputs(rng)
    g = Graph()
    holders = {name: g.placeholder(name) for name in inputs}
    out = case.build(g, *holders.values())
    feed = {holders[name]: value for name, value in inputs.items()}
    out_value = Session(g).run(out, feed)
    dout = rng.standard_normal(np.shape(out_value))
    f = g.sum(g.multiply(out, g.constant(dout)))
    return g, f, out, holders, feed, inputs, dout


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_op_gradient_matches_central_differences_on_every_input(case: Case) -> None:
    g, f, _, holders, feed, inputs, _ = _build(case)
    grads = gradients(f, list(holders.values()))
    sess = Session(g)
    analytic = sess.run(grads, feed)
    for (name, x), grad in zip(inputs.items(), analytic, strict=True):
        # the feed holds x itself, so numerical_gradient's in-place perturbation reaches the graph
        numeric = numerical_gradient(lambda: sess.run(f, feed), x)
        assert_gradient_close(name, grad, numeric, DEFAULT_TOL, context=case.name)


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_op_value_and_gradient_match_torch_autograd(case: Case) -> None:
    torch = pytest.importorskip("torch")
    g, f, out, holders, feed, inputs, dout = _build(case)
    grads = gradients(f, list(holders.values()))
    values = Session(g).run([out, *grads], feed)

    tensors = [torch.tensor(x, requires_grad=True) for x in inputs.values()]
    t_out = case.torch_fn(*tensors)
    (t_out * torch.from_numpy(np.asarray(dout))).sum().backward()
    err = rel_error(values[0], t_out.detach().numpy())
    assert err < 1e-12, f"{case.name}: forward value differs from torch, rel error {err:.2e}"
    for name, grad, tensor in zip(inputs, values[1:], tensors, strict=True):
        err = rel_error(grad, tensor.grad.numpy())
        assert err < 1e-10, f"{case.name}: d{name} differs from torch autograd, rel error {err:.2e}"


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_op_hessian_vector_product_matches_torch_double_backward(case: Case) -> None:
    torch = pytest.importorskip("torch")
    g, f, _, holders, feed, inputs, dout = _build(case)
    rng = np.random.default_rng(1)
    vs = {name: rng.standard_normal(np.shape(x)) for name, x in inputs.items()}
    xs = list(holders.values())
    grads = gradients(f, xs)
    # H v = d/dx (sum_i grad_i . v_i): the gradient graph, differentiated again
    inner = g.add(0.0, g.sum(g.multiply(grads[0], g.constant(vs[xs[0].name]))))
    for x, grad in zip(xs[1:], grads[1:], strict=True):
        inner = g.add(inner, g.sum(g.multiply(grad, g.constant(vs[x.name]))))
    hvps = Session(g).run(gradients(inner, xs), feed)

    tensors = [torch.tensor(x, requires_grad=True) for x in inputs.values()]
    t_f = (case.torch_fn(*tensors) * torch.from_numpy(np.asarray(dout))).sum()
    t_grads = torch.autograd.grad(t_f, tensors, create_graph=True)
    t_inner = sum((tg * torch.from_numpy(vs[name])).sum() for name, tg in zip(inputs, t_grads, strict=True))
    if not t_inner.requires_grad:  # f is linear in its inputs: the Hessian is zero
        t_hvps = [torch.zeros_like(t) for t in tensors]
    else:
        t_hvps = torch.autograd.grad(t_inner, tensors, allow_unused=True)
        t_hvps = [torch.zeros_like(t) if h is None else h for t, h in zip(tensors, t_hvps, strict=True)]
    for name, hvp, t_hvp in zip(inputs, hvps, t_hvps, strict=True):
        err = rel_error(hvp, t_hvp.detach().numpy())
        assert err < 1e-10, f"{case.name}: Hessian-vector product for {name} differs from torch: {err:.2e}"


def test_softmax_cross_entropy_does_not_overflow_with_logits_up_to_300() -> None:
    rng = np.random.default_rng(0)
    logits = rng.uniform(0, 300, (8, 1000))
    labels = rng.integers(0, 1000, 8)
    g = Graph()
    z = g.placeholder("z")
    loss = g.softmax_cross_entropy(z, g.constant(labels))
    (dz,) = gradients(loss, [z])
    loss_value, dz_value = Session(g).run([loss, dz], {z: logits})
    shifted = logits - logits.max(1, keepdims=True)
    expected = np.mean(np.log(np.exp(shifted).sum(1)) - shifted[np.arange(8), labels])
    assert np.isfinite(dz_value).all()
    assert abs(loss_value - expected) < 1e-9 * abs(expected)
    np.testing.assert_allclose(dz_value.sum(1), 0.0, atol=1e-12)  # softmax - onehot sums to zero per row


def test_ops_preserve_float32() -> None:
    rng = np.random.default_rng(0)
    g = Graph()
    x = g.placeholder("x")
    w = g.variable("w", rng.standard_normal((3, 4)).astype(np.float32))
    loss = g.softmax_cross_entropy(g.sigmoid(g.matmul(x, w)) * 2.0 - 1.0, g.constant(np.array([0, 1])))
    (dw,) = gradients(g.add(loss, g.mean(g.square(w))), [w])
    values = Session(g).run([loss, dw], {x: rng.standard_normal((2, 3)).astype(np.float32)})
    assert [np.asarray(v).dtype for v in values] == [np.float32, np.float32]


def test_relu_step_tanh_and_softmax_forward_rules_are_assignment_02s_functions() -> None:
    from course.layers.activations import relu_backward, relu_forward, tanh_forward  # noqa: PLC0415
    from course.layers.losses import softmax  # noqa: PLC0415

    x = _away_from_zero(np.random.default_rng(0), (4, 5))
    g = Graph()
    z = g.placeholder("z")
    relu, step, tanh, soft = Session(g).run([g.relu(z), g.step(z), g.tanh(z), g.softmax(z)], {z: x})
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(relu, out)
    np.testing.assert_array_equal(step, relu_backward(np.ones_like(x), cache))  # relu's derivative
    np.testing.assert_array_equal(step, (x > 0).astype(x.dtype))
    np.testing.assert_array_equal(tanh, tanh_forward(x)[0])
    np.testing.assert_array_equal(soft, softmax(x, axis=-1))


def test_matmul_shape_error_names_the_node_and_both_shapes() -> None:
    g = Graph()
    a, b = g.placeholder("a"), g.placeholder("b")
    c = g.matmul(a, b, name="scores")
    with pytest.raises(ValueError, match=r"'scores'.*b must have shape \(D, M\) = \(3, \*\), got \(4, 2\)"):
        Session(g).run(c, {a: np.ones((2, 3)), b: np.ones((4, 2))})
