"""Checks of assignment 03, the mini TensorFlow: forward and gradient rules, topological order, the cached
run, the backward walk, the SGD node, smooth max and second derivatives, each against ``course.minitf`` on
seeded random inputs and random graphs.

Each check isolates the piece it grades. Graphs are built twice from one seed, once for the student's
function and once with the reference library, so they are the same graph; the student's nodes are then
evaluated with the reference's forward rules (``_reference_values``), so a wrong forward rule cannot hide
or cause an error in, say, the gradient walk. Where the student's code dispatches on its own operator
classes (``evaluate`` and ``local_gradients`` look rules up by class), the check takes the notebook's
``Graph`` and builds the student's graph with it, so the student's rules are the ones reached.

Library objects come from ``core.reference`` inside the procedures, never from an import of ``course``
here: in the grader ``course`` is the student edition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograder.checks.core import (
    Spec,
    check_seed,
    check_with_reference,
    reference,
    sandbox_library,
    type_name,
)

# ---- shared helpers -----------------------------------------------------------------------------------


def _seed(spec: Spec, trial: int) -> int:
    return check_seed(f"a03.{spec.task}", trial)


def _call(label: str, fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args), with a missing answer reported as such rather than as a traceback."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise AssertionError(f"{label} is not implemented yet (it raised NotImplementedError).") from None


def _reference_values(fetches: Sequence[Any], feed_dict: dict[Any, Any]) -> list[Any]:
    """Values of the fetches (nodes of any graph), each operator run by the reference's forward rule."""
    order = reference("minitf.session.topological_order")
    values: dict[Any, Any] = {}
    for node in order(list(fetches)):
        if node.kind == "placeholder":
            values[node] = feed_dict[node]
        elif node.kind in ("variable", "constant"):
            values[node] = node.value
        else:
            reference_op = reference(f"minitf.ops.{type_name(node.op)}")
            values[node] = reference_op.forward(node.op, *[values[i] for i in node.inputs])
    return [values[node] for node in fetches]


def _random_dag(
    graph_class: type, seed: int, n_ops: int = 14, unary: Sequence[str] = ("tanh", "negative", "transpose")
) -> tuple[Any, list[Any], np.ndarray]:
    """A random DAG of square (n, n) nodes built from ops outside this assignment, with shared nodes.

    Built twice with the same seed (say with the student's ``Graph`` and with the reference's) it is the
    same graph. Returns (graph, nodes: the leaves x, w, c first, a value to feed x).
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5))
    g = graph_class()
    nodes = [
        g.placeholder("x", shape=(n, n)),
        g.variable("w", rng.standard_normal((n, n))),
        g.constant(rng.standard_normal((n, n)), name="c"),
    ]
    for k in range(n_ops):
        recent = max(0, len(nodes) - 5)  # mostly recent nodes: a deep graph; repeated picks: shared nodes
        if rng.random() < 0.5:
            i, j = (int(v) for v in rng.integers(recent, len(nodes), 2))
            nodes.append(g.subtract(nodes[i], nodes[j], name=f"n{k}"))
        else:
            op = unary[int(rng.integers(len(unary)))]
            nodes.append(getattr(g, op)(nodes[int(rng.integers(recent, len(nodes)))], name=f"n{k}"))
    return g, nodes, 0.5 * rng.standard_normal((n, n))


def _student_graph_class(fn: Any) -> Any:
    """The ``Graph`` of the student's library (the sandbox's edition in the judge), to build ``fn``'s inputs:
    the reference's nodes never reach the student's code."""
    return sandbox_library(fn, "course.minitf.graph", "Graph")


def _is_node_of(value: Any, graph: Any) -> bool:
    return getattr(value, "graph", None) is graph and hasattr(value, "inputs")


# ---- 2. forward rules ---------------------------------------------------------------------------------


def _check_forward_rules(
    spec: Spec,
    add_forward: Callable,
    multiply_forward: Callable,
    matmul_forward: Callable,
    square_forward: Callable,
    sigmoid_forward: Callable,
) -> None:
    ref = {
        name: reference(f"minitf.ops.{name}")() for name in ("Add", "Multiply", "MatMul", "Square", "Sigmoid")
    }
    for trial in range(spec.trials):
        rng = np.random.default_rng(_seed(spec, trial))
        n, d, m = (int(v) for v in rng.integers(1, 6, 3))
        a = rng.standard_normal((n, d))
        b = rng.standard_normal([(d,), (1, d), (n, 1), (n, d)][int(rng.integers(4))])
        w = rng.standard_normal((d, m))
        big = rng.uniform(-800, 800, (n, d))
        desc = f"a of shape {a.shape}, b of shape {b.shape}, w of shape {w.shape}"
        cases = [
            ("add_forward", add_forward, "Add", (a, b)),
            ("multiply_forward", multiply_forward, "Multiply", (a, b)),
            ("multiply_forward", multiply_forward, "Multiply", (1.5, a)),
            ("matmul_forward", matmul_forward, "MatMul", (a, w)),
            ("square_forward", square_forward, "Square", (a,)),
            ("sigmoid_forward", sigmoid_forward, "Sigmoid", (a,)),
            ("sigmoid_forward", sigmoid_forward, "Sigmoid", (big,)),
        ]
        for label, fn, ref_name, args in cases:
            with np.errstate(over="ignore"):  # an overflow shows up as a wrong value instead
                got = _call(label, fn, *[np.copy(v) for v in args])
            check_with_reference(
                label, got, ref[ref_name].forward(*args), rtol=spec.rtol, atol=spec.atol, inputs=desc
            )
        for label, fn, args in [
            ("add_forward", add_forward, (a, b)),
            ("sigmoid_forward", sigmoid_forward, (a,)),
            ("matmul_forward", matmul_forward, (a, w)),
        ]:
            got = _call(label, fn, *[v.astype(np.float32) for v in args])
            if np.asarray(got).dtype != np.float32:
                raise AssertionError(
                    f"{label}: float32 inputs gave {np.asarray(got).dtype}; keep the input's dtype."
                )
    print(
        f"ok: the five forward rules agree with the reference on {spec.trials} random input sets "
        "(float32 kept)"
    )


def _check_softmax_cross_entropy_forward(spec: Spec, softmax_cross_entropy_forward: Callable) -> None:
    ref_sce = reference("minitf.ops.SoftmaxCrossEntropy")()
    scales = spec.options["scales"]
    for trial in range(spec.trials):
        rng = np.random.default_rng(_seed(spec, trial))
        n, c = int(rng.integers(1, 8)), int(rng.integers(2, 12))
        logits = rng.standard_normal((n, c)) * scales[trial]
        if trial == 3:
            logits = rng.uniform(0.0, 1000.0, (n, c))  # exp overflows float64 above 709
        labels = rng.integers(0, c, n)
        with np.errstate(over="ignore", invalid="ignore"):
            got = _call(
                "softmax_cross_entropy_forward", softmax_cross_entropy_forward, logits.copy(), labels.copy()
            )
        check_with_reference(
            "softmax_cross_entropy_forward",
            got,
            ref_sce.forward(logits, labels),
            rtol=spec.rtol,
            atol=spec.atol,
            inputs=f"logits of shape {logits.shape} and size up to {np.abs(logits).max():.0f}",
        )
    print(f"ok: softmax_cross_entropy_forward agrees with the reference on {spec.trials} random input sets")


# ---- 3. topological order -----------------------------------------------------------------------------


def _check_topological_order(spec: Spec, topological_order: Callable) -> None:
    Graph = _student_graph_class(topological_order)
    reference_order = reference("minitf.session.topological_order")
    for trial in range(spec.trials):
        seed = _seed(spec, trial)
        _, nodes, _ = _random_dag(Graph, seed, n_ops=25, unary=spec.options["unary"])
        rng = np.random.default_rng(seed + 1)
        fetches = [nodes[int(i)] for i in rng.integers(0, len(nodes), int(rng.integers(1, 4)))]
        got = _call("topological_order", topological_order, list(fetches))
        expected = reference_order(fetches)
        if not isinstance(got, list) or len(got) != len(set(got)):
            raise AssertionError("topological_order must return a list with every node once (random graph).")
        if set(expected) - set(got):
            raise AssertionError(
                "topological_order misses nodes that the fetches need on a random graph (follow every input)."
            )
        if set(got) - set(expected):
            raise AssertionError(
                "topological_order lists nodes that the fetches do not need on a random graph "
                "(start from the fetches only)."
            )
        position = {node: k for k, node in enumerate(got)}
        if any(position[i] > position[node] for node in got for i in node.inputs):
            raise AssertionError("topological_order puts a node before one of its inputs on a random graph.")
    depth = spec.options["depth"]
    deep_graph = Graph()
    chain = [deep_graph.placeholder("x0")]
    for k in range(depth):
        chain.append(deep_graph.add(chain[-1], chain[-1 - min(k, 2)], name=f"x{k + 1}"))
    try:
        got = _call("topological_order", topological_order, [chain[depth // 2], chain[-1]])
    except RecursionError:
        raise AssertionError(
            f"topological_order hit Python's recursion limit on a graph {depth} nodes deep; "
            "use an explicit stack instead of recursion."
        ) from None
    if not isinstance(got, list) or len(got) != depth + 1 or len(set(got)) != depth + 1:
        raise AssertionError(
            f"topological_order must list each of the {depth + 1} nodes of a deep graph exactly once."
        )
    print(
        f"ok: topological_order is a valid order of exactly the needed nodes on {spec.trials} random graphs "
        "and a deep one"
    )


# ---- 4. run with a per-run cache ----------------------------------------------------------------------


def _check_session_run(spec: Spec, run: Callable, Graph: type) -> None:
    RefGraph = reference("minitf.graph.Graph")
    RefSession = reference("minitf.session.Session")
    reference_order = reference("minitf.session.topological_order")
    unary = spec.options["unary"]
    for trial in range(spec.trials):
        seed = _seed(spec, trial)
        _, nodes, x_value = _random_dag(Graph, seed, unary=unary)
        ref_dag, ref_nodes, _ = _random_dag(RefGraph, seed, unary=unary)
        picks = [int(i) for i in np.random.default_rng(seed + 1).integers(3, len(nodes), 3)]
        counts: dict[Any, int] = {}
        got = _call("run", run, [nodes[i] for i in picks], {nodes[0]: x_value.copy()}, counts)
        expected = RefSession(ref_dag).run([ref_nodes[i] for i in picks], {ref_nodes[0]: x_value.copy()})
        if not isinstance(got, list) or len(got) != len(picks):
            raise AssertionError(f"run must return a list of {len(picks)} values for {len(picks)} fetches.")
        for k, (value, ref_value) in enumerate(zip(got, expected, strict=True)):
            check_with_reference(
                "run",
                value,
                ref_value,
                rtol=spec.rtol,
                atol=spec.atol,
                what=f"the value of fetch {k}",
                inputs=f"a random graph of {len(nodes)} nodes",
            )
        needed = set(reference_order([nodes[i] for i in picks]))
        if needed - set(counts):
            raise AssertionError(
                "run did not evaluate every node the fetches need on a random graph "
                "(pass counts to evaluate, and evaluate each node of topological_order(fetches))."
            )
        if set(counts) - needed:
            raise AssertionError(
                "run evaluated nodes that the fetches do not need on a random graph "
                "(evaluate only the nodes of topological_order(fetches))."
            )
        if max(counts.values()) > 1:
            raise AssertionError("run evaluated a node more than once on a random graph with shared nodes.")
    print(
        f"ok: run agrees with the reference on {spec.trials} random graphs and evaluates every needed node "
        "once"
    )


# ---- 5. gradient rules --------------------------------------------------------------------------------


def _check_rule(spec: Spec, rule: Callable) -> None:
    """The student's rule, applied to one operator node, against the reference's gradients of that node.

    ``options["case"](rng, trial)`` gives (build, input values, dout value, indices of the inputs whose
    gradients are compared, a description); ``build(g, *placeholders)`` adds the operator's node.
    """
    label = spec.takes[0]
    Graph = _student_graph_class(rule)
    RefGraph = reference("minitf.graph.Graph")
    RefSession = reference("minitf.session.Session")
    reference_gradients = reference("minitf.session.gradients")
    for trial in range(spec.trials):
        rng = np.random.default_rng(_seed(spec, trial))
        build, values, dout_value, wrt, desc = spec.options["case"](rng, trial)
        graph = Graph()
        inputs = [graph.placeholder(f"in{k}") for k in range(len(values))]
        out, dout = build(graph, *inputs), graph.placeholder("dout")
        grads = _call(label, rule, graph, out, dout)
        if not isinstance(grads, (list, tuple)) or len(grads) != len(inputs):
            raise AssertionError(f"{label} must return a list with one entry per input ({len(inputs)}).")
        feed = dict(zip(inputs, values, strict=True))
        feed[dout] = dout_value
        ref_graph = RefGraph()
        ref_inputs = [ref_graph.placeholder(f"in{k}") for k in range(len(values))]
        ref_out, ref_dout = build(ref_graph, *ref_inputs), ref_graph.placeholder("dout")
        ref_grads = reference_gradients(ref_out, [ref_inputs[k] for k in wrt], ref_dout)
        ref_feed = dict(zip(ref_inputs, values, strict=True))
        ref_feed[ref_dout] = dout_value
        expected = RefSession(ref_graph).run(ref_grads, ref_feed)
        for k, ref_value in zip(wrt, expected, strict=True):
            if not _is_node_of(grads[k], graph):
                raise AssertionError(
                    f"{label}: the gradient of input {k} must be a graph node built with g, "
                    f"got {type(grads[k]).__name__}."
                )
            try:
                (value,) = _reference_values([grads[k]], feed)
            except ValueError as err:
                raise AssertionError(
                    f"{label}: running the gradient of input {k} failed ({err}; inputs: {desc})."
                ) from None
            check_with_reference(
                label,
                value,
                ref_value,
                rtol=spec.rtol,
                atol=spec.atol,
                what=f"the gradient of input {k}",
                inputs=desc,
            )
    extra = spec.options.get("extra")
    if extra is not None:
        extra(rule, Graph())
    print(f"ok: {label} agrees with the reference on {spec.trials} {spec.options['what']}")


def _broadcast_case(op: str) -> Callable:
    def case(rng: np.random.Generator, trial: int):
        n, d = (int(v) for v in rng.integers(1, 5, 2))
        a = rng.standard_normal((n, d))
        b = rng.standard_normal([(d,), (1, d), (n, 1), (n, d)][trial])
        build = lambda g, p, q: getattr(g, op)(p, q)
        return (
            build,
            [a, b],
            rng.standard_normal((n, d)),
            [0, 1],
            f"a of shape {a.shape}, b of shape {b.shape}",
        )

    return case


def _matmul_case(rng: np.random.Generator, trial: int):
    n, d, m = (int(v) for v in rng.integers(1, 6, 3))
    a, b = rng.standard_normal((n, d)), rng.standard_normal((d, m))
    build = lambda g, p, q: g.matmul(p, q)
    return build, [a, b], rng.standard_normal((n, m)), [0, 1], f"a of shape {a.shape}, b of shape {b.shape}"


def _elementwise_case(op: str, scale: float) -> Callable:
    def case(rng: np.random.Generator, trial: int):
        shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 3))))
        build = lambda g, p: getattr(g, op)(p)
        return (
            build,
            [scale * rng.standard_normal(shape)],
            rng.standard_normal(shape),
            [0],
            f"x of shape {shape}",
        )

    return case


def _softmax_cross_entropy_case(rng: np.random.Generator, trial: int):
    n, c = int(rng.integers(1, 7)), int(rng.integers(2, 9))
    logits, labels = 3 * rng.standard_normal((n, c)), rng.integers(0, c, n)
    build = lambda g, z, y: g.softmax_cross_entropy(z, y)
    return build, [logits, labels], float(rng.uniform(0.5, 3)), [0], f"logits of shape {logits.shape}"


def _labels_get_no_gradient(rule: Callable, graph: Any) -> None:
    z, y = graph.placeholder("z"), graph.placeholder("y")
    grads = _call(
        "softmax_cross_entropy_gradient",
        rule,
        graph,
        graph.softmax_cross_entropy(z, y),
        graph.placeholder("d"),
    )
    if grads[1] is not None:
        raise AssertionError("softmax_cross_entropy_gradient must return None for the integer labels.")


def _rule_spec(task: str, case: Callable, trials: int, what: str, **options: Any) -> Spec:
    return Spec(
        task,
        (task,),
        _check_rule,
        reference="minitf.session.gradients",
        trials=trials,
        options={"case": case, "what": what, **options},
    )


# ---- 6. the backward walk -----------------------------------------------------------------------------


def _check_gradients(spec: Spec, gradients: Callable, Graph: type) -> None:
    RefGraph = reference("minitf.graph.Graph")
    RefSession = reference("minitf.session.Session")
    reference_gradients = reference("minitf.session.gradients")
    for trial in range(spec.trials):
        seed = _seed(spec, trial)
        dag, nodes, x_value = _random_dag(Graph, seed)
        ref_dag, ref_nodes, _ = _random_dag(RefGraph, seed)
        z, ref_z = dag.placeholder("z"), ref_dag.placeholder("z")
        if trial % 2 == 0:  # a scalar y read through two of the last nodes
            y = dag.sum(dag.subtract(nodes[-1], dag.tanh(nodes[-2])))
            ref_y = ref_dag.sum(ref_dag.subtract(ref_nodes[-1], ref_dag.tanh(ref_nodes[-2])))
            seed_node, ref_seed_node, v_value = None, None, None
        else:  # a matrix y with an upstream gradient v
            y, ref_y = nodes[-1], ref_nodes[-1]
            seed_node, ref_seed_node = dag.placeholder("v"), ref_dag.placeholder("v")
            v_value = np.random.default_rng(seed + 1).standard_normal(x_value.shape)
        xs, ref_xs = [*nodes[:3], z], [*ref_nodes[:3], ref_z]
        got = (
            _call("gradients", gradients, y, xs)
            if seed_node is None
            else _call("gradients", gradients, y, xs, seed_node)
        )
        if not isinstance(got, (list, tuple)) or len(got) != len(xs):
            raise AssertionError(f"gradients must return one node per x ({len(xs)} on a random graph).")
        feed = {nodes[0]: x_value, z: np.ones(3)}
        ref_feed = {ref_nodes[0]: x_value, ref_z: np.ones(3)}
        if seed_node is not None:
            feed[seed_node], ref_feed[ref_seed_node] = v_value, v_value
        got_values = _reference_values(list(got), feed)
        expected = RefSession(ref_dag).run(reference_gradients(ref_y, ref_xs, ref_seed_node), ref_feed)
        for name, value, ref_value in zip(["x", "w", "c", "z (unused)"], got_values, expected, strict=True):
            check_with_reference(
                "gradients",
                value,
                ref_value,
                rtol=spec.rtol,
                atol=spec.atol,
                what=f"the gradient of {name}",
                inputs=f"a random graph of {len(nodes)} nodes",
            )
    _check_gradients_by_central_differences(spec, gradients, Graph)
    print(
        f"ok: gradients agrees with the reference on {spec.trials} random graphs and with central "
        "differences on a small net"
    )


def _check_gradients_by_central_differences(spec: Spec, gradients: Callable, Graph: type) -> None:
    """The walk and rules on a small net x -> sigmoid(x w1 + b) w2 -> softmax-CE vs central differences."""
    numerical_gradient = reference("core.gradcheck.numerical_gradient")
    rel_error = reference("core.gradcheck.rel_error")
    rng = np.random.default_rng(_seed(spec, 99))
    graph = Graph()
    xv, yv = rng.standard_normal((5, 3)), rng.integers(0, 4, 5)
    w1v, bv, w2v = rng.standard_normal((3, 6)), rng.standard_normal(6), rng.standard_normal((6, 4))
    w1, b, w2 = graph.placeholder("w1"), graph.placeholder("b"), graph.placeholder("w2")
    hidden = graph.sigmoid(graph.add(graph.matmul(graph.constant(xv), w1), b))
    loss = graph.softmax_cross_entropy(graph.matmul(hidden, w2), graph.constant(yv))
    feed = {w1: w1v, b: bv, w2: w2v}
    analytic = _reference_values(_call("gradients", gradients, loss, [w1, b, w2]), feed)
    for name, value, grad in zip(["w1", "b", "w2"], [w1v, bv, w2v], analytic, strict=True):
        if np.shape(grad) != value.shape:
            raise AssertionError(
                f"gradients: d loss / d {name} of a small net has shape {np.shape(grad)}, expected "
                f"{value.shape} (the walk, or a gradient rule it uses, returns the wrong shape)."
            )
        # the feed holds the very array, so numerical_gradient's in-place perturbation reaches the graph
        numeric = numerical_gradient(lambda: float(_reference_values([loss], feed)[0]), value)
        err = rel_error(grad, numeric)
        threshold = spec.options["central_difference_tol"]  # float64 centred differences
        if err > threshold:
            raise AssertionError(
                f"gradients: d loss / d {name} of a small net differs from central differences "
                f"(relative error {err:.2e} > {threshold:.0e})."
            )


# ---- 7. the SGD node ----------------------------------------------------------------------------------


def _check_sgd_update(spec: Spec, sgd_update: Callable) -> None:
    RefGraph = reference("minitf.graph.Graph")
    reference_update = reference("minitf.ops.sgd_update")
    for trial in range(spec.trials):
        rng = np.random.default_rng(_seed(spec, trial))
        shapes = [
            tuple(int(v) for v in rng.integers(1, 4, int(rng.integers(1, 3))))
            for _ in range(int(rng.integers(1, 4)))
        ]
        starts = [rng.standard_normal(shape) for shape in shapes]
        grads = [rng.standard_normal(shape) for shape in shapes]
        lr = float(rng.uniform(0.01, 1.0))
        graph, ref_graph = _student_graph_class(sgd_update)(), RefGraph()
        mine, witnesses = zip(*[_variable_with_witness(graph, value) for value in starts], strict=True)
        theirs = [ref_graph.variable(f"v{k}", value) for k, value in enumerate(starts)]
        _call("sgd_update", sgd_update, list(mine), [gr.copy() for gr in grads], lr)
        reference_update(theirs, grads, lr)
        where = f"{len(shapes)} variables, learning rate {lr:.3f}"
        for k, (v, ref_v, witness, start) in enumerate(zip(mine, theirs, witnesses, starts, strict=True)):
            check_with_reference(
                "sgd_update",
                v.value,
                ref_v.value,
                rtol=spec.rtol,
                atol=spec.atol,
                what=f"variable {k} after the update",
                inputs=where,
            )
            if not np.array_equal(witness.value, start):
                raise AssertionError(
                    "sgd_update modified a variable's old array in place; rebind variable.value instead."
                )
    print(f"ok: sgd_update agrees with the reference on {spec.trials} random sets of variables")


def _variable_with_witness(graph: Any, value: np.ndarray) -> tuple[Any, Any]:
    """A variable node and a constant node that hold the very same array (on the student's side too, where
    the judge cannot compare arrays by identity): an update in place shows in the witness's value."""
    shared = value.copy()  # not the caller's array, which is the expected start
    pair = graph.subtract(shared, shared)  # one array, sent once: both inputs are constants holding it
    variable, witness = pair.inputs
    variable.kind = "variable"
    return variable, witness


def _net(graph_class: type, rng: np.random.Generator) -> tuple[Any, Any, list[Any]]:
    """A loss that reads two variables (through broadcasting) and a third variable it does not read."""
    graph = graph_class()
    n, d = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    x = graph.constant(rng.standard_normal((n, d)), name="x")
    w1, w2 = graph.variable("w1", rng.standard_normal((1, d))), graph.variable("w2", rng.standard_normal(d))
    unused = graph.variable("unused", rng.standard_normal(2))
    loss = graph.mean(graph.exp(graph.tanh(graph.subtract(graph.tanh(graph.subtract(x, w1)), w2))))
    return graph, loss, [w1, w2, unused]


def _check_sgd_optimizer(spec: Spec, sgd_optimizer: Callable, Graph: type) -> None:
    RefGraph = reference("minitf.graph.Graph")
    RefSession = reference("minitf.session.Session")
    reference_optimizer = reference("minitf.session.sgd_optimizer")
    for trial in range(spec.trials):
        seed = _seed(spec, trial)
        _, loss, variables = _net(Graph, np.random.default_rng(seed))
        ref_graph, ref_loss, ref_variables = _net(RefGraph, np.random.default_rng(seed))
        lr = spec.options["learning_rates"][trial]
        opt = _call("sgd_optimizer", sgd_optimizer, loss, lr)
        ref_opt = reference_optimizer(ref_loss, lr)
        session = RefSession(ref_graph)
        where = f"a random two-variable graph, learning rate {lr}"
        for step in range(spec.options["steps"]):
            (value,) = _reference_values([opt], {})
            check_with_reference(
                "sgd_optimizer",
                value,
                session.run(ref_opt),
                rtol=spec.rtol,
                atol=spec.atol,
                what=f"the loss returned at step {step}",
                inputs=where,
            )
        for name, v, ref_v in zip(["w1", "w2", "unused"], variables, ref_variables, strict=True):
            check_with_reference(
                "sgd_optimizer",
                v.value,
                ref_v.value,
                rtol=spec.rtol,
                atol=spec.atol,
                what=f"variable {name} after {spec.options['steps']} steps",
                inputs=where,
            )
    print(
        f"ok: sgd_optimizer agrees with the reference over {spec.options['steps']} steps on {spec.trials} "
        "random graphs"
    )


# ---- 8. smooth max ------------------------------------------------------------------------------------


def _check_smooth_max(spec: Spec, smooth_max: Callable) -> None:
    RefGraph = reference("minitf.graph.Graph")
    RefSession = reference("minitf.session.Session")
    reference_smooth_max = reference("minitf.graph.smooth_max")
    alphas = spec.options["alphas"]
    for trial in range(spec.trials):
        rng = np.random.default_rng(_seed(spec, trial))
        shape = [(int(rng.integers(2, 8)),), (int(rng.integers(1, 5)), int(rng.integers(2, 8)))][trial % 2]
        x_value, alpha = 2 * rng.standard_normal(shape), alphas[trial]
        graph, ref_graph = _student_graph_class(smooth_max)(), RefGraph()
        xm, ref_x = graph.placeholder("x"), ref_graph.placeholder("x")
        y = _call("smooth_max", smooth_max, xm, alpha)
        if not _is_node_of(y, graph):
            raise AssertionError("smooth_max must return a node of x's graph (use g = x.graph).")
        (value,) = _reference_values([y], {xm: x_value})
        expected = RefSession(ref_graph).run(reference_smooth_max(ref_x, alpha), {ref_x: x_value})
        check_with_reference(
            "smooth_max",
            value,
            expected,
            rtol=spec.rtol,
            atol=spec.atol,
            inputs=f"x of shape {shape}, alpha = {alpha}",
        )
    print(f"ok: smooth_max agrees with the reference on {spec.trials} random inputs")


# ---- 9. gradients of gradients ------------------------------------------------------------------------


def _hvp_graph(graph_class: type, rng: np.random.Generator, walk: Callable) -> tuple[list[Any], dict]:
    """Hessian-vector product nodes of a random two-layer net's loss, built with the walk ``walk(y, xs)``."""
    graph = graph_class()
    n, d = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    h, c = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    x, labels = graph.constant(rng.standard_normal((n, d))), graph.constant(rng.integers(0, c, n))
    w1, w2, v1, v2 = (graph.placeholder(name) for name in ["w1", "w2", "v1", "v2"])
    loss = graph.softmax_cross_entropy(graph.matmul(graph.sigmoid(graph.matmul(x, w1)), w2), labels)
    dw1, dw2 = walk(loss, [w1, w2])
    hv = walk(graph.add(graph.sum(graph.multiply(dw1, v1)), graph.sum(graph.multiply(dw2, v2))), [w1, w2])
    feed_values = [rng.standard_normal(shape) for shape in [(d, h), (h, c), (d, h), (h, c)]]
    return list(hv), dict(zip([w1, w2, v1, v2], feed_values, strict=True))


def _check_second_order(spec: Spec, gradients: Callable, Graph: type) -> None:
    RefGraph = reference("minitf.graph.Graph")
    RefSession = reference("minitf.session.Session")
    reference_gradients = reference("minitf.session.gradients")

    def walk(y: Any, xs: list[Any]) -> Any:
        grads = _call("gradients", gradients, y, xs)
        if not isinstance(grads, (list, tuple)) or len(grads) != len(xs):
            raise AssertionError(f"gradients must return one node per x ({len(xs)}).")
        return grads

    for trial in range(spec.trials):
        seed = _seed(spec, trial)
        hv, feed = _hvp_graph(Graph, np.random.default_rng(seed), walk)
        ref_hv, ref_feed = _hvp_graph(RefGraph, np.random.default_rng(seed), reference_gradients)
        got = _reference_values(hv, feed)
        expected = RefSession(ref_hv[0].graph).run(ref_hv, ref_feed)
        for name, value, ref_value in zip(["w1", "w2"], got, expected, strict=True):
            check_with_reference(
                "gradients of gradients",
                value,
                ref_value,
                rtol=spec.rtol,
                atol=spec.atol,
                what=f"the Hessian-vector product for {name}",
                inputs="a random two-layer net",
            )
    print(
        "ok: Hessian-vector products through your rules and walk agree with the reference on "
        f"{spec.trials} random nets"
    )


SPECS = [
    Spec(
        "forward_rules",
        ("add_forward", "multiply_forward", "matmul_forward", "square_forward", "sigmoid_forward"),
        _check_forward_rules,
        reference="minitf.ops",
        trials=3,
    ),
    Spec(
        "softmax_cross_entropy_forward",
        ("softmax_cross_entropy_forward",),
        _check_softmax_cross_entropy_forward,
        reference="minitf.ops.SoftmaxCrossEntropy",
        trials=4,
        options={"scales": (1.0, 1.0, 100.0, 300.0)},  # trial 3 is replaced by logits in [0, 1000]
    ),
    Spec(
        "topological_order",
        ("topological_order",),
        _check_topological_order,
        reference="minitf.session.topological_order",
        trials=5,
        options={"unary": ("tanh", "negative", "transpose", "square", "sigmoid"), "depth": 3000},
    ),
    Spec(
        "session_run",
        ("run", "Graph"),
        _check_session_run,
        reference="minitf.session.run",
        trials=4,
        options={"unary": ("tanh", "negative", "transpose", "relu")},
    ),
    _rule_spec("add_gradient", _broadcast_case("add"), 4, "random broadcasting cases"),
    _rule_spec("multiply_gradient", _broadcast_case("multiply"), 4, "random broadcasting cases"),
    _rule_spec("matmul_gradient", _matmul_case, 3, "random shapes"),
    _rule_spec("square_gradient", _elementwise_case("square", 1.0), 3, "random shapes"),
    _rule_spec("sigmoid_gradient", _elementwise_case("sigmoid", 3.0), 3, "random shapes"),
    _rule_spec(
        "softmax_cross_entropy_gradient",
        _softmax_cross_entropy_case,
        3,
        "random input sets",
        extra=_labels_get_no_gradient,
    ),
    Spec(
        "gradients",
        ("gradients", "Graph"),
        _check_gradients,
        reference="minitf.session.gradients",
        trials=4,
        options={"central_difference_tol": 1e-7},
    ),
    Spec("sgd_update", ("sgd_update",), _check_sgd_update, reference="minitf.ops.sgd_update", trials=3),
    Spec(
        "sgd_optimizer",
        ("sgd_optimizer", "Graph"),
        _check_sgd_optimizer,
        reference="minitf.session.sgd_optimizer",
        trials=3,
        options={"learning_rates": (0.05, 0.3, 1.0), "steps": 3},
    ),
    Spec(
        "smooth_max",
        ("smooth_max",),
        _check_smooth_max,
        reference="minitf.graph.smooth_max",
        trials=4,
        options={"alphas": (0.5, 3.0, 20.0, 500.0)},
    ),
    Spec(
        "second_order",
        ("gradients", "Graph"),
        _check_second_order,
        reference="minitf.session.gradients",
        trials=2,
    ),
]
