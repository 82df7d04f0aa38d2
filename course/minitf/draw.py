"""Draw a mini-TensorFlow graph with matplotlib (lecture 000: forward and backprop DAGs).

Layout by layers: a node's height is its depth, the length of the longest path from a leaf to it, so every
edge points upwards, from an input to the node that reads it (as the lecture draws z = f(g(x)) with x at the
bottom). Colours: placeholders blue, variables orange, constants grey, forward ops white, nodes built by
``course.minitf.session.gradients`` pink. ``counts`` (for example ``session.eval_counts``) labels each node
with how often it was evaluated, which is how the notebook shows the per-run cache at work. The depths come
from a topological order (``course.minitf.session.topological_order`` unless another is passed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from course.minitf.graph import Graph, Node
from course.minitf.session import topological_order

Order = Callable[[Sequence[Node]], list[Node]]

COLOURS = {"placeholder": "#9ecae1", "variable": "#fdae6b", "constant": "#d9d9d9", "op": "#ffffff"}
GRADIENT_COLOUR = "#fcc5c0"


def graph_layout(nodes: Sequence[Node], order: Order = topological_order) -> dict[Node, tuple[float, float]]:
    """(x, y) position of each node: y is the depth, x spreads the nodes of one depth evenly around 0.

    ``order(nodes)`` must list the nodes and their ancestors, each after its inputs (a topological order),
    so one pass finds every depth: 1 + the largest depth among a node's inputs, 0 for a leaf.
    """
    depth: dict[Node, int] = {}
    for node in order(list(nodes)):
        depth[node] = 1 + max((depth[i] for i in node.inputs), default=-1)
    layers: dict[int, list[Node]] = {}
    for node, level in depth.items():
        layers.setdefault(level, []).append(node)
    positions = {}
    for level, members in layers.items():
        for k, node in enumerate(members):
            positions[node] = (k - (len(members) - 1) / 2, float(level))
    return positions


def _label(node: Node) -> str:
    """The node's name, plus its operator when the user's name does not already say it (``h = relu``)."""
    if node.kind == "op" and not node.name.startswith(node.op.name):
        return f"{node.name}\n{node.op.name}"
    return node.name


def draw_graph(
    graph_or_nodes: Graph | Sequence[Node],
    ax: Any = None,
    counts: dict[Node, int] | None = None,
    title: str = "computational graph",
    order: Order = topological_order,
) -> Any:
    """Draw a graph (every node of a ``Graph``, or the given nodes and everything they depend on).

    Inputs:
    - graph_or_nodes: a ``Graph``, or a list of nodes (fetches) whose ancestors are drawn.
    - ax: a matplotlib Axes to draw on (a new figure when None).
    - counts: node -> number, shown under the node's name as "xN" (e.g. ``session.eval_counts``).
    - title: the axes title.
    - order: the topological order that lays the graph out (a notebook passes its own).
    Returns the Axes: one text label per node (``ax.texts``) and one arrow patch per edge (``ax.patches``).
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415  (only drawing needs matplotlib)
    from matplotlib.patches import FancyArrowPatch  # noqa: PLC0415

    nodes = graph_or_nodes.nodes if isinstance(graph_or_nodes, Graph) else list(graph_or_nodes)
    positions = graph_layout(nodes, order)
    if ax is None:
        span = max((x for x, _ in positions.values()), default=0.0) * 2 + 2  # node columns, plus margins
        width = max(5.0, 1.7 * span)
        height = max(3.0, 0.9 * max((y for _, y in positions.values()), default=0.0) + 2)
        _, ax = plt.subplots(figsize=(min(width, 16), min(height, 12)))
    for node, (x, y) in positions.items():
        for inp in node.inputs:
            ax.add_patch(
                FancyArrowPatch(
                    positions[inp],
                    (x, y),
                    arrowstyle="-|>",
                    mutation_scale=12,
                    color="#636363",
                    shrinkA=14,
                    shrinkB=14,
                    linewidth=1.0,
                )
            )
    for node, (x, y) in positions.items():
        label = _label(node)
        if counts is not None:
            label += f"\nx{counts.get(node, 0)}"
        colour = GRADIENT_COLOUR if node.is_gradient else COLOURS[node.kind]
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=8,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": colour, "edgecolor": "#252525"},
        )
    xs = [x for x, _ in positions.values()] or [0.0]
    ys = [y for _, y in positions.values()] or [0.0]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_xticks([])
    ax.set_yticks(sorted(set(ys)))
    ax.set_ylabel("depth (longest path from a leaf, in edges)")
    ax.set_title(title)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return ax
