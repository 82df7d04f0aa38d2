"""The mini TensorFlow's builder and DAG expert: topological order, Session.run and its per-run cache, errors,
drawing (lecture 000, part 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from course.minitf.graph import Graph, Node
from course.minitf.session import Session, run, run_without_cache, topological_order


def _doubling_chain(depth: int) -> tuple[Graph, Node, list[Node]]:
    """x_0 = x, x_{k+1} = x_k + x_k: every node reads the previous one twice (2^depth paths to x)."""
    g = Graph()
    x = g.placeholder("x")
    chain = [x]
    for k in range(depth):
        chain.append(g.add(chain[-1], chain[-1], name=f"x{k + 1}"))
    return g, x, chain


def _lecture_graph() -> tuple[Graph, dict[str, Node]]:
    """The dependency list of the lecture slide: A:[B,C,E] B:[D,H] C:[E] D:[E,H] E:[G,J] (G, J, H leaves)."""
    g = Graph()
    n = {name: g.placeholder(name) for name in "GJH"}
    n["E"] = g.add(n["G"], n["J"], name="E")
    n["D"] = g.multiply(n["E"], n["H"], name="D")
    n["C"] = g.square(n["E"], name="C")
    n["B"] = g.subtract(n["D"], n["H"], name="B")
    n["B+C"] = g.add(n["B"], n["C"], name="B_plus_C")
    n["A"] = g.add(n["B+C"], n["E"], name="A")
    return g, n


# ---- topological order --------------------------------------------------------------------------------


def test_topological_order_lists_each_ancestor_once_after_all_its_inputs() -> None:
    _, n = _lecture_graph()
    order = topological_order([n["A"]])
    assert len(order) == len(set(order)), "a node appears twice in the order"
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for inp in node.inputs:
            assert position[inp] < position[node], f"{node.name} comes before its input {inp.name}"
    assert set(order) == set(n.values())


def test_topological_order_of_a_fetch_list_contains_only_what_the_fetches_need() -> None:
    _, n = _lecture_graph()
    order = topological_order([n["C"], n["D"]])
    assert {node.name for node in order} == {"G", "J", "H", "E", "C", "D"}
    assert order.index(n["E"]) < order.index(n["C"]) and order.index(n["E"]) < order.index(n["D"])


def test_topological_order_handles_a_chain_deeper_than_the_recursion_limit() -> None:
    _, x, chain = _doubling_chain(3000)
    order = topological_order([chain[-1]])
    assert order == chain


def _minitf_imports(module: str) -> set[str]:
    """The course.minitf modules that ``module`` imports when it runs (type-checking imports left out)."""
    tree = ast.parse((Path(__file__).parents[1] / "course" / "minitf" / f"{module}.py").read_text())
    found = set()
    for node in tree.body:  # module level only; an ``if TYPE_CHECKING:`` block is an ast.If, skipped
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course.minitf"):
            names = [node.module] if node.module != "course.minitf" else [a.name for a in node.names]
            found |= {name.rpartition(".")[2] for name in names}
    return found


def test_the_minitf_modules_import_each_other_in_one_direction_only() -> None:
    """ops -> graph -> session -> draw: no module imports a later one, so there is no import cycle."""
    order = ["ops", "graph", "session", "draw"]
    for k, module in enumerate(order):
        later = _minitf_imports(module) & set(order[k:])
        assert not later, f"course.minitf.{module} imports {sorted(later)}, which come after it"


# ---- Session.run ---------------------------------------------------------------------------------------


def test_run_counts_one_evaluation_per_needed_node_and_the_naive_walk_one_per_path() -> None:
    g, n = _lecture_graph()
    feed = {n["G"]: np.ones(3), n["J"]: np.ones(3), n["H"]: np.ones(3)}
    cached, naive = {}, {}
    values = run([n["B"], n["C"]], feed, cached)
    naive_values = run_without_cache([n["B"], n["C"]], feed, naive)
    for got, want in zip(values, naive_values, strict=True):
        np.testing.assert_array_equal(got, want)
    assert cached == {node: 1 for node in topological_order([n["B"], n["C"]])}
    assert naive[n["E"]] == 2 and naive[n["H"]] == 2  # E via B-D-E and C-E; H via B-H and B-D-H


def test_run_returns_values_in_fetch_order_for_a_list_and_a_bare_value_for_a_node() -> None:
    g, n = _lecture_graph()
    feed = {n["G"]: np.array(1.0), n["J"]: np.array(2.0), n["H"]: np.array(0.5)}
    sess = Session(g)
    e = 3.0
    d, c, b = e * 0.5, e**2, e * 0.5 - 0.5
    assert sess.run([n["C"], n["E"], n["A"]], feed) == [c, e, b + c + e]
    assert sess.run(n["D"], feed) == d
    assert sess.run((n["B"],), feed) == [b]


def test_node_shared_by_two_fetches_is_computed_once_per_run() -> None:
    g, n = _lecture_graph()
    feed = {n["G"]: np.ones(3), n["J"]: np.ones(3), n["H"]: np.ones(3)}
    sess = Session(g)
    sess.run([n["B"], n["C"]], feed)  # both read E (B through D)
    assert sess.eval_counts[n["E"]] == 1
    assert all(count == 1 for count in sess.eval_counts.values())
    sess.run([n["B"], n["C"]], feed)
    assert sess.eval_counts[n["E"]] == 1, "eval_counts must describe the latest run only"


def test_without_cache_the_same_fetches_compute_the_shared_node_once_per_path() -> None:
    g, n = _lecture_graph()
    feed = {n["G"]: np.ones(3), n["J"]: np.ones(3), n["H"]: np.ones(3)}
    naive, cached = Session(g, cache=False), Session(g)
    assert np.array_equal(naive.run(n["A"], feed), cached.run(n["A"], feed))
    # paths from A to E: A-E, A-(B+C)-C-E, A-(B+C)-B-D-E
    assert naive.eval_counts[n["E"]] == 3 and cached.eval_counts[n["E"]] == 1


@pytest.mark.parametrize("depth", [1, 5, 12])
def test_doubling_chain_costs_two_to_the_depth_without_cache_and_depth_plus_one_with_it(depth: int) -> None:
    g, x, chain = _doubling_chain(depth)
    feed = {x: np.array(1.5)}
    naive, cached = Session(g, cache=False), Session(g)
    assert naive.run(chain[-1], feed) == cached.run(chain[-1], feed) == 1.5 * 2**depth
    for k, node in enumerate(chain):
        assert naive.eval_counts[node] == 2 ** (depth - k)
        assert cached.eval_counts[node] == 1
    assert sum(naive.eval_counts.values()) == 2 ** (depth + 1) - 1
    assert sum(cached.eval_counts.values()) == depth + 1


def test_missing_placeholder_raises_an_error_naming_it() -> None:
    g = Graph()
    x, labels = g.placeholder("x"), g.placeholder("labels")
    loss = g.sum(x * labels)
    with pytest.raises(ValueError, match="placeholder 'labels' has no value"):
        Session(g).run(loss, {x: np.ones(2)})


def test_placeholders_the_fetches_do_not_need_may_be_left_unfed() -> None:
    g = Graph()
    x, unused = g.placeholder("x"), g.placeholder("unused")
    g.add(x, unused)
    assert Session(g).run(g.square(x), {x: np.array(3.0)}) == 9.0


def test_placeholder_shape_is_checked_with_none_as_wildcard() -> None:
    g = Graph()
    x = g.placeholder("x", shape=(None, 3))
    y = g.sum(x)
    assert Session(g).run(y, {x: np.ones((5, 3))}) == 15.0
    with pytest.raises(ValueError, match=r"placeholder 'x' must be fed shape \(\*, 3\), got \(5, 4\)"):
        Session(g).run(y, {x: np.ones((5, 4))})


def test_nodes_of_another_graph_and_feeds_of_non_placeholders_are_rejected() -> None:
    g, other = Graph(), Graph()
    x, w = g.placeholder("x"), g.variable("w", np.ones(2))
    foreign = other.placeholder("x")
    with pytest.raises(ValueError, match="belongs to another graph"):
        g.add(x, foreign)
    with pytest.raises(ValueError, match="node of this session's graph"):
        Session(g).run(foreign, {})
    with pytest.raises(ValueError, match="'w' is a variable; only placeholders are fed"):
        Session(g).run(x + w, {x: np.ones(2), w: np.zeros(2)})
    with pytest.raises(ValueError, match="named 'x' already exists"):
        g.placeholder("x")


def test_operator_sugar_builds_the_same_ops_as_the_builder_methods() -> None:
    g = Graph()
    a, b = g.placeholder("a"), g.placeholder("b")
    m = g.placeholder("m")
    exprs = [a + b, 1.0 + a, a - b, 2.0 - a, a * b, 3.0 * a, a / b, 1.0 / b, -a, m @ m]
    values = Session(g).run(exprs, {a: np.array(2.0), b: np.array(4.0), m: np.eye(2) * 3})
    expected = [6.0, 3.0, -2.0, 0.0, 8.0, 6.0, 0.5, 0.25, -2.0, np.eye(2) * 9]
    for node, got, want in zip(exprs, values, expected, strict=True):
        assert np.allclose(got, want), f"{node!r} gave {got}, expected {want}"
    assert [e.op.name for e in exprs] == [
        "add",
        "add",
        "subtract",
        "subtract",
        "multiply",
        "multiply",
        "divide",
        "divide",
        "negative",
        "matmul",
    ]


def test_variable_holds_a_copy_of_its_initial_value() -> None:
    g = Graph()
    init = np.ones(3)
    w = g.variable("w", init)
    init[0] = 5.0
    assert np.array_equal(Session(g).run(w), np.ones(3))


# ---- drawing -------------------------------------------------------------------------------------------


def test_draw_graph_puts_one_label_per_node_and_one_arrow_per_edge() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from course.minitf.draw import draw_graph  # noqa: PLC0415

    g, n = _lecture_graph()
    feed = {n["G"]: np.ones(2), n["J"]: np.ones(2), n["H"]: np.ones(2)}
    sess = Session(g)
    sess.run(n["A"], feed)
    ax = draw_graph([n["A"]], counts=sess.eval_counts)
    order = topological_order([n["A"]])
    assert len(ax.texts) == len(order)
    assert len(ax.patches) == sum(len(node.inputs) for node in order)
    assert all(text.get_text().endswith("x1") for text in ax.texts)
    assert ax.get_title()
    plt.close(ax.figure)


def test_draw_graph_colours_the_nodes_flagged_as_gradient_nodes() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.colors import to_hex  # noqa: PLC0415

    from course.minitf.draw import COLOURS, GRADIENT_COLOUR, draw_graph  # noqa: PLC0415
    from course.minitf.session import gradients  # noqa: PLC0415

    g = Graph()
    x = g.placeholder("x")
    y = g.sum(g.sigmoid(x), name="y")
    forward = set(g.nodes)
    (dx,) = gradients(y, [x])
    for node in g.nodes:
        node.is_gradient = node not in forward
    ax = draw_graph([y, dx])
    colours = {t.get_text().split("\n")[0]: to_hex(t.get_bbox_patch().get_facecolor()) for t in ax.texts}
    assert colours["y"] == COLOURS["op"] and colours["x"] == COLOURS["placeholder"]
    built = [node.name for node in g.nodes if node not in forward]
    assert built and all(colours[name] == GRADIENT_COLOUR for name in built)
    plt.close(ax.figure)


def test_graph_layout_puts_each_node_at_its_longest_path_from_a_leaf_using_the_order_given() -> None:
    from course.minitf.draw import graph_layout  # noqa: PLC0415

    _, n = _lecture_graph()
    calls = []

    def order(nodes):
        calls.append(list(nodes))
        return topological_order(nodes)

    depth = {node.name: y for node, (_, y) in graph_layout([n["A"]], order).items()}
    assert calls == [[n["A"]]], "the layout must take its order from the function it is given"
    assert depth == {"G": 0, "J": 0, "H": 0, "E": 1, "D": 2, "C": 2, "B": 3, "B_plus_C": 4, "A": 5}
