"""The DAG expert of the mini TensorFlow: topological order, running a graph, the gradient walk (lecture 000).

The graph is a dependency list: every node lists the nodes it reads (``node.inputs``). From that alone:
- ``topological_order(fetches)`` lists the nodes the fetches need, each after all of its inputs;
- ``run(fetches, feed_dict)`` evaluates them in that order, keeping every value in a per-run cache, so a
  node shared by several fetches (or several paths) is computed once per run. ``run_without_cache``
  recurses naively instead and recomputes a shared node once per path: on a chain where every node reads
  the previous one twice that is 2^depth evaluations (``counts`` shows it). ``Session(g)`` wraps both;
- ``gradients(y, xs)`` walks the same order backwards and asks each operator expert for its local chain
  rule (``local_gradients``). A node used by several consumers receives one contribution per path and the
  walk *adds* them. The rules are graph ops, so the result is new graph nodes that can be run, or
  differentiated again;
- ``sgd_optimizer(loss, learning_rate)`` is a node whose run computes the loss and the gradient of every
  variable it reads, then updates those variables (``ops.SGDUpdate``).

It builds on the builder (``course.minitf.graph``), which knows nothing of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from course.core.validation import check_positive
from course.minitf import ops
from course.minitf.graph import Graph, Node


def topological_order(fetches: Sequence[Node]) -> list[Node]:
    """Every node the fetches depend on (fetches included), each listed once and after all of its inputs.

    Depth-first search over the dependency lists, appending a node once all its inputs are appended
    (post-order). An explicit stack of (node, index of the next input to visit) replaces recursion, so
    long chains (and the gradient graphs of long chains) do not hit Python's recursion limit.
    """
    # BEGIN GRADED a03.topological_order
    order: list[Node] = []
    seen: set[Node] = set()
    for root in fetches:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, 0)]
        while stack:
            node, i = stack.pop()
            if i < len(node.inputs):
                stack.append((node, i + 1))
                child = node.inputs[i]
                if child not in seen:
                    seen.add(child)
                    stack.append((child, 0))
            else:
                order.append(node)  # all inputs are already in `order`
    return order
    # END GRADED


# ---- running ------------------------------------------------------------------------------------------


def evaluate(
    node: Node,
    input_values: Sequence[Any],
    feed_dict: dict[Node, Any] | None = None,
    counts: dict[Node, int] | None = None,
) -> Any:
    """The value of one node from the values of its inputs (in the order of ``node.inputs``).

    A placeholder reads ``feed_dict`` (checked against its declared shape), a variable or constant returns
    ``node.value``, an operator applies its forward rule. ``counts``, a dict, records how many times each
    node was evaluated. Raises ValueError naming a placeholder that is not fed, or the node whose operator
    rejected its inputs.
    """
    if counts is not None:
        counts[node] = counts.get(node, 0) + 1
    if node.kind == "placeholder":
        if feed_dict is None or node not in feed_dict:
            raise ValueError(
                f"Session.run: placeholder {node.name!r} has no value; pass it in feed_dict, "
                f"e.g. feed_dict={{{node.name}: array}}"
            )
        node.check_feed(feed_dict[node])
        return feed_dict[node]
    if node.kind in ("variable", "constant"):
        return node.value
    try:
        return node.op.forward(*input_values)
    except ValueError as error:
        raise ValueError(f"Session.run: evaluating node {node.name!r}: {error}") from error


def run(
    fetches: Sequence[Node], feed_dict: dict[Node, Any] | None = None, counts: dict[Node, int] | None = None
) -> list[Any]:
    """Values of the nodes in the list ``fetches``, in fetch order; each needed node is evaluated once.

    The nodes of ``topological_order(fetches)`` are evaluated in that order, each value kept in a dict (the
    per-run cache) from which the nodes that read it take it. The cache lives for one call: between runs
    the variables change and the placeholders are fed anew.
    """
    # BEGIN GRADED a03.session_run
    values = {}
    for node in topological_order(fetches):
        values[node] = evaluate(node, [values[i] for i in node.inputs], feed_dict, counts)
    return [values[node] for node in fetches]
    # END GRADED


def run_without_cache(
    fetches: Sequence[Node], feed_dict: dict[Node, Any] | None = None, counts: dict[Node, int] | None = None
) -> list[Any]:
    """The fetches' values by plain recursion, with no memory: a node reached by k paths is evaluated k times.

    Only to show why ``run`` keeps a cache (and recursive, so limited to graphs shallower than Python's
    recursion limit).
    """

    def value(node: Node) -> Any:
        return evaluate(node, [value(i) for i in node.inputs], feed_dict, counts)

    return [value(node) for node in fetches]


class Session:
    """Runs nodes of one graph: ``Session(g).run(fetches, feed_dict)``.

    ``cache=True`` (the default) evaluates each needed node once per run (``run``); ``cache=False``
    recomputes a shared node on every path that reaches it (``run_without_cache``). After each run
    ``eval_counts[node]`` holds how many times that node's value was computed in that run.
    """

    def __init__(self, graph: Graph, cache: bool = True) -> None:
        self.graph = graph
        self.cache = cache
        self.eval_counts: dict[Node, int] = {}

    def run(self, fetches: Node | Sequence[Node], feed_dict: dict[Node, Any] | None = None) -> Any:
        """Evaluate ``fetches`` (a node, or a list of nodes) and return their values in fetch order.

        Inputs:
        - fetches: one node (returns its value) or a list/tuple of nodes (returns a list of values).
        - feed_dict: placeholder node -> value, for every placeholder the fetches depend on.
        Raises ValueError naming a placeholder that is needed but not fed, a feed of the wrong shape, or a
        node that belongs to another graph.
        """
        single = not isinstance(fetches, (list, tuple))
        fetch_list = [fetches] if single else list(fetches)
        feed = dict(feed_dict or {})
        for node in fetch_list:
            self._check_node(node, "fetch")
        for node in feed:
            self._check_node(node, "feed_dict key")
            if node.kind != "placeholder":
                raise ValueError(
                    f"Session.run: feed_dict key {node.name!r} is a {node.kind}; only placeholders are fed"
                )
        self.eval_counts = {}
        walk = run if self.cache else run_without_cache
        values = walk(fetch_list, feed, self.eval_counts)
        return values[0] if single else values

    def _check_node(self, node: Any, role: str) -> None:
        if getattr(node, "graph", None) is not self.graph:
            raise ValueError(f"Session.run: each {role} must be a node of this session's graph, got {node!r}")


# ---- gradients ----------------------------------------------------------------------------------------


def local_gradients(g: Graph, node: Node, dout: Node) -> list[Node | None]:
    """The operator expert's chain rule: a gradient node (or None) per input of ``node``, given dout."""
    return node.op.gradient(g, node, dout)


def gradients(y: Node, xs: Sequence[Node], grad_ys: Any = None) -> list[Node]:
    """Graph nodes for d(sum(y * grad_ys))/dx for each x in ``xs`` (reverse mode over the DAG).

    Inputs:
    - y: the node to differentiate (a scalar loss, or any shape with ``grad_ys``).
    - xs: the nodes to differentiate with respect to, all of y's graph.
    - grad_ys: the upstream gradient shaped like y, a node (or an array, made a constant); default: ones,
      i.e. the gradient of sum(y). Passing a vector v gives the vector-Jacobian product v^T dy/dx.
    Returns one node per x, shaped like x (zeros when y does not depend on x). Run them, or differentiate
    them again: a Hessian-vector product is ``gradients(sum(grad * v), [x])``.

    The walk visits y's ancestors in reverse topological order, so a node is visited only after every
    consumer has sent its contribution; contributions from different paths are added, never overwritten.
    """
    if not isinstance(y, Node):
        raise ValueError(f"gradients: y must be a Node, got {type(y).__name__}")
    for x in xs:
        if not isinstance(x, Node) or x.graph is not y.graph:
            raise ValueError(f"gradients: each x must be a node of y's graph, got {x!r}")
    if grad_ys is not None and not isinstance(grad_ys, Node):
        grad_ys = y.graph.constant(grad_ys)
    # BEGIN GRADED a03.gradients
    g = y.graph  # the builder: gradient rules add their nodes to y's graph
    grads = {y: grad_ys if grad_ys is not None else g.ones_like(y)}
    for node in reversed(topological_order([y])):
        if node not in grads or node.op is None:
            continue  # a leaf, or a node that no gradient reached
        for inp, grad in zip(node.inputs, local_gradients(g, node, grads[node]), strict=True):
            if grad is None:
                continue
            # A node read by several consumers (or twice by one) gets the sum over every path.
            grads[inp] = g.add(grads[inp], grad) if inp in grads else grad
    return [grads[x] if x in grads else g.zeros_like(x) for x in xs]
    # END GRADED


def sgd_optimizer(loss: Node, learning_rate: float) -> Node:
    """A node whose run applies var <- var - learning_rate * dloss/dvar to every variable the loss reads.

    Its inputs are the loss and the gradient of every variable in ``topological_order([loss])``, so running
    it computes them all from the *old* values first; ``ops.SGDUpdate`` then updates the variables and
    returns the loss value.
    """
    if not isinstance(loss, Node):
        raise ValueError(f"sgd_optimizer: loss must be a Node, got {type(loss).__name__}")
    check_positive("sgd_optimizer", "learning_rate", learning_rate)
    # BEGIN GRADED a03.sgd_optimizer
    variables = [node for node in topological_order([loss]) if node.kind == "variable"]
    grads = gradients(loss, variables)
    return loss.graph.apply(ops.SGDUpdate(variables, learning_rate), [loss, *grads])
    # END GRADED
