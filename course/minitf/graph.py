"""The graph builder of the mini TensorFlow: ``Graph`` and ``Node`` (lecture 000, part 1).

``c = g.add(a, b)`` does what the lecture lists: (1) create the operator expert ``Add``, (2) create a
``Node`` holding it, (3) set the node's dependencies to the nodes of ``a`` and ``b``, (4) return the node.
Nothing is computed until a ``Session`` runs it. There is no global default graph: every node belongs to
the ``Graph`` object that built it.

Leaves are placeholders (fed at run time), variables (hold a value that the optimiser updates) and
constants. Python numbers passed to an op become constants, so ``g.multiply(2.0, x)`` is a scalar multiply.
``+ - * / @`` and unary ``-`` on nodes are sugar for the builder methods of the same name.

The builder knows nothing of running or differentiating: ``course.minitf.session`` (the DAG expert) does
both, reading only the nodes' dependency lists. ``smooth_max`` at the end is a small composite built from
the builder's methods.

Example::

    g = Graph()
    x = g.placeholder("x", shape=(None, 3))
    w = g.variable("w", np.ones((3, 1)))
    loss = g.mean(g.square(g.matmul(x, w)))
    (dw,) = gradients(loss, [w])  # course.minitf.session
    Session(g).run([loss, dw], {x: data})
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course.core.validation import check_positive
from course.minitf.ops import (
    Add,
    BroadcastTo,
    Count,
    Divide,
    Exp,
    ExpandDims,
    Log,
    MatMul,
    MaxMask,
    Multiply,
    Negative,
    OneHot,
    OnesLike,
    Op,
    ReduceMax,
    ReLU,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropy,
    Square,
    Step,
    Subtract,
    Sum,
    SumTo,
    Tanh,
    Transpose,
    ZerosLike,
)

Axis = int | tuple[int, ...] | None


class Node:
    """A vertex of the graph: what it computes (``op``, or a leaf ``kind``) and what it reads (``inputs``).

    Attributes:
    - name: unique within the graph.
    - kind: 'placeholder', 'variable', 'constant' or 'op'.
    - op: the operator expert (``None`` for leaves).
    - inputs: the dependency list, the nodes whose values ``op.forward`` receives, in order.
    - value: the current value of a variable or constant (``None`` otherwise).
    - shape: for a placeholder, the expected shape (``None`` entries match anything), or None.
    - is_gradient: a drawing flag: ``draw_graph`` colours the node as part of a gradient graph (the caller
      sets it, e.g. on the nodes that ``gradients`` added).
    """

    def __init__(
        self,
        graph: Graph,
        name: str,
        kind: str,
        op: Op | None = None,
        inputs: Sequence[Node] = (),
        value: Any = None,
        shape: tuple[int | None, ...] | None = None,
        is_gradient: bool = False,
    ) -> None:
        self.graph = graph
        self.name = name
        self.kind = kind
        self.op = op
        self.inputs = list(inputs)
        self.value = value
        self.shape = shape
        self.is_gradient = is_gradient

    def check_feed(self, value: Any) -> None:
        """Raise ValueError unless ``value`` fits this placeholder's declared shape."""
        if self.shape is None:
            return
        got = tuple(np.shape(value))
        fits = len(got) == len(self.shape) and all(
            w is None or w == n for w, n in zip(self.shape, got, strict=True)
        )
        if not fits:
            want = "(" + ", ".join("*" if w is None else str(w) for w in self.shape) + ")"
            raise ValueError(f"Session.run: placeholder {self.name!r} must be fed shape {want}, got {got}")

    def __repr__(self) -> str:
        if self.kind != "op":
            return f"<{self.kind} {self.name!r}>"
        return f"<{self.name!r} = {self.op!r}({', '.join(repr(i.name) for i in self.inputs)})>"

    def __add__(self, other: Any) -> Node:
        return self.graph.add(self, other)

    def __radd__(self, other: Any) -> Node:
        return self.graph.add(other, self)

    def __sub__(self, other: Any) -> Node:
        return self.graph.subtract(self, other)

    def __rsub__(self, other: Any) -> Node:
        return self.graph.subtract(other, self)

    def __mul__(self, other: Any) -> Node:
        return self.graph.multiply(self, other)

    def __rmul__(self, other: Any) -> Node:
        return self.graph.multiply(other, self)

    def __truediv__(self, other: Any) -> Node:
        return self.graph.divide(self, other)

    def __rtruediv__(self, other: Any) -> Node:
        return self.graph.divide(other, self)

    def __matmul__(self, other: Any) -> Node:
        return self.graph.matmul(self, other)

    def __neg__(self) -> Node:
        return self.graph.negative(self)


class Graph:
    """The builder: every method adds a node to this graph and returns it; ``Session(graph)`` runs them."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self._names: set[str] = set()
        self._counter = 0

    # ---- leaves ---------------------------------------------------------------------------------------

    def placeholder(self, name: str, shape: tuple[int | None, ...] | None = None) -> Node:
        """A value supplied at run time through ``feed_dict``; ``shape`` entries of None match any size."""
        return self._add_node(name, "placeholder", shape=None if shape is None else tuple(shape))

    def variable(self, name: str, value: Any) -> Node:
        """A trainable value (a copy of ``value``); ``sgd_optimizer`` updates it."""
        if isinstance(value, (int, float)):
            value = np.asarray(value, dtype=np.float64)
        return self._add_node(name, "variable", value=value.copy())

    def constant(self, value: Any, name: str | None = None) -> Node:
        """A fixed value. A Python number stays a Python number, so it does not change an array's dtype."""
        return self._add_node(name or self._fresh_name("const"), "constant", value=value)

    # ---- element-wise arithmetic ----------------------------------------------------------------------

    def add(self, a: Any, b: Any, name: str | None = None) -> Node:
        """a + b with broadcasting."""
        return self.apply(Add(), [a, b], name)

    def subtract(self, a: Any, b: Any, name: str | None = None) -> Node:
        """a - b with broadcasting."""
        return self.apply(Subtract(), [a, b], name)

    def negative(self, x: Any, name: str | None = None) -> Node:
        """-x."""
        return self.apply(Negative(), [x], name)

    def multiply(self, a: Any, b: Any, name: str | None = None) -> Node:
        """a * b element-wise with broadcasting; a Python number on either side is a scalar multiply."""
        return self.apply(Multiply(), [a, b], name)

    def divide(self, a: Any, b: Any, name: str | None = None) -> Node:
        """a / b element-wise with broadcasting."""
        return self.apply(Divide(), [a, b], name)

    # ---- linear algebra -------------------------------------------------------------------------------

    def matmul(self, a: Any, b: Any, name: str | None = None) -> Node:
        """a (N, D) @ b (D, M) -> (N, M)."""
        return self.apply(MatMul(), [a, b], name)

    def transpose(self, x: Any, name: str | None = None) -> Node:
        """x with its axes reversed."""
        return self.apply(Transpose(), [x], name)

    # ---- non-linearities ------------------------------------------------------------------------------

    def square(self, x: Any, name: str | None = None) -> Node:
        """x ** 2."""
        return self.apply(Square(), [x], name)

    def sigmoid(self, x: Any, name: str | None = None) -> Node:
        """1 / (1 + exp(-x))."""
        return self.apply(Sigmoid(), [x], name)

    def tanh(self, x: Any, name: str | None = None) -> Node:
        """tanh(x)."""
        return self.apply(Tanh(), [x], name)

    def relu(self, x: Any, name: str | None = None) -> Node:
        """max(0, x)."""
        return self.apply(ReLU(), [x], name)

    def exp(self, x: Any, name: str | None = None) -> Node:
        """exp(x)."""
        return self.apply(Exp(), [x], name)

    def log(self, x: Any, name: str | None = None) -> Node:
        """log(x)."""
        return self.apply(Log(), [x], name)

    def softmax(self, x: Any, name: str | None = None) -> Node:
        """Softmax along the last axis (shifted by the max, so it cannot overflow)."""
        return self.apply(Softmax(), [x], name)

    # ---- reductions -----------------------------------------------------------------------------------

    def sum(self, x: Any, axis: Axis = None, keepdims: bool = False, name: str | None = None) -> Node:
        """Sum over ``axis`` (all axes when None)."""
        return self.apply(Sum(axis, keepdims), [x], name)

    def mean(self, x: Any, axis: Axis = None, keepdims: bool = False, name: str | None = None) -> Node:
        """Mean over ``axis``, built as sum / count, so it needs no gradient rule of its own."""
        x = self._as_node(x)
        name = name or self._fresh_name("mean")
        return self.divide(self.sum(x, axis, keepdims), self.count(x, axis), name=name)

    def reduce_max(self, x: Any, axis: Axis = None, keepdims: bool = False, name: str | None = None) -> Node:
        """Max over ``axis`` (all axes when None); the gradient goes to the arg-max."""
        return self.apply(ReduceMax(axis, keepdims), [x], name)

    # ---- losses ---------------------------------------------------------------------------------------

    def softmax_cross_entropy(self, logits: Any, labels: Any, name: str | None = None) -> Node:
        """Mean over N of -log softmax(logits)[label]; logits (N, C) float, labels (N,) integer class ids."""
        return self.apply(SoftmaxCrossEntropy(), [logits, labels], name)

    # ---- shape plumbing used by gradient rules --------------------------------------------------------

    def sum_to(self, x: Any, like: Any, name: str | None = None) -> Node:
        """x summed over broadcast axes down to the shape of ``like``'s value."""
        return self.apply(SumTo(), [x, like], name)

    def broadcast_to(self, x: Any, like: Any, name: str | None = None) -> Node:
        """x broadcast to the shape of ``like``'s value."""
        return self.apply(BroadcastTo(), [x, like], name)

    def expand_dims(self, x: Any, axis: int | tuple[int, ...], name: str | None = None) -> Node:
        """x with size-1 axes inserted at ``axis``."""
        return self.apply(ExpandDims(axis), [x], name)

    def count(self, x: Any, axis: Axis = None, name: str | None = None) -> Node:
        """How many elements of x a reduction over ``axis`` combines (a Python float)."""
        return self.apply(Count(axis), [x], name)

    def step(self, x: Any, name: str | None = None) -> Node:
        """1 where x > 0 else 0 (the derivative of relu)."""
        return self.apply(Step(), [x], name)

    def max_mask(self, x: Any, axis: Axis = None, name: str | None = None) -> Node:
        """Where x attains its max over ``axis`` (1 / number of ties there), 0 elsewhere."""
        return self.apply(MaxMask(axis), [x], name)

    def one_hot(self, labels: Any, like: Any, name: str | None = None) -> Node:
        """One-hot rows of integer ``labels``, shaped and typed like ``like`` (N, C)."""
        return self.apply(OneHot(), [labels, like], name)

    def ones_like(self, x: Any, name: str | None = None) -> Node:
        """Ones shaped like x."""
        return self.apply(OnesLike(), [x], name)

    def zeros_like(self, x: Any, name: str | None = None) -> Node:
        """Zeros shaped like x."""
        return self.apply(ZerosLike(), [x], name)

    # ---- any operator object ----------------------------------------------------------------------

    def apply(self, op: Op, inputs: Sequence[Any], name: str | None = None) -> Node:
        """Steps 2-4 of the lecture: a node holding ``op`` whose dependencies are the input nodes.

        Every builder method above is this call with its operator; use it directly for an operator object
        of your own (numbers and arrays among ``inputs`` become constants).
        """
        input_nodes = [self._as_node(x) for x in inputs]
        return self._add_node(name or self._fresh_name(op.name), "op", op=op, inputs=input_nodes)

    # ---- internals ------------------------------------------------------------------------------------

    def _as_node(self, x: Any) -> Node:
        if isinstance(x, Node):
            self._check_owned(x, "an op")
            return x
        if isinstance(x, (int, float)) or hasattr(x, "shape"):
            return self.constant(x)
        raise ValueError(f"Graph: an op input must be a Node, a number or an array, got {type(x).__name__}")

    def _check_owned(self, node: Any, where: str) -> None:
        if not isinstance(node, Node):
            raise ValueError(f"Graph.{where}: expected a Node, got {type(node).__name__}")
        if node.graph is not self:
            raise ValueError(f"Graph.{where}: node {node.name!r} belongs to another graph")

    def _fresh_name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_{self._counter}"

    def _add_node(self, name: str, kind: str, **fields: Any) -> Node:
        if name in self._names:
            raise ValueError(f"Graph: a node named {name!r} already exists")
        node = Node(self, name, kind, **fields)
        self._names.add(name)
        self.nodes.append(node)
        return node


def smooth_max(x: Node, alpha: float) -> Node:
    """y = sum(x * softmax(alpha x)) along the last axis, which tends to max(x) as alpha -> infinity.

    softmax(alpha x) tends to the one-hot vector of the arg-max, so y tends to the max and its gradient
    s dy + alpha (diag(s) - s s^T) x dy tends to dy at the arg-max and 0 elsewhere (lecture 000 quiz).
    x (..., C) gives y (...,).
    """
    if not isinstance(x, Node):
        raise ValueError(f"smooth_max: x must be a Node, got {type(x).__name__}")
    check_positive("smooth_max", "alpha", alpha)
    # BEGIN GRADED a03.smooth_max
    g = x.graph
    weights = g.softmax(g.multiply(alpha, x))  # (..., C), a distribution over the last axis
    return g.sum(g.multiply(x, weights), axis=-1)  # (...,)
    # END GRADED
