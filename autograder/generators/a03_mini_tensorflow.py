# ruff: noqa: E501  (the cell texts are dedented by 12 spaces when written, so the notebook lines are short)
"""Writes solutions/a03_mini_tensorflow/a03_mini_tensorflow.ipynb (assignment 03, lecture 000).

Run ``python -m autograder.generators.a03_mini_tensorflow``; the expected values of the visible tests are
computed here, once, from the reference library (course.minitf) and written into the notebook as literals.

Design: the student writes free functions that take the library's graph objects (``Graph``, ``Node`` and
the operator classes of ``course.minitf.ops``, which work in the student edition) and plugs them into a
small scaffold the notebook defines: ``evaluate`` (one node's value; forward rules looked up in
``FORWARD_RULES``), ``run_without_cache`` (the naive recursion) and ``local_gradients`` (gradient rules
looked up in ``GRADIENT_RULES``). In the grader every a03 region of ``course`` raises NotImplementedError,
so nothing here calls ``Session``, ``Graph.gradients``, ``Graph.sgd_optimizer``, ``Graph.smooth_max`` or
``Graph.variables``; drawing (``course.minitf.draw``) is given the student's topological order.
Hidden tests build the same random graph twice (with ``course`` and with ``course_reference``) and
evaluate the student's nodes with the reference operators, so each check isolates the piece it grades.
"""

from __future__ import annotations

import textwrap

import numpy as np

from autograder.cells import (
    code,
    fill,
    generator_main,
    hidden_test,
    literal,
    markdown,
    solution,
    visible_test,
)
from course.minitf import ops
from course.minitf.graph import Graph
from course.minitf.session import Session

ASSIGNMENT = "a03_mini_tensorflow"

# Fixed small inputs of the visible tests.
A_CHECK = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
B_ROW = np.array([0.5, 1.0, -2.0])
B_FULL = np.array([[2.0, -1.0, 0.5], [-0.5, 1.5, 1.0]])
W_CHECK = np.array([[1.0, 0.0, -1.0, 2.0], [0.5, -0.5, 1.0, 0.0], [-1.0, 2.0, 0.0, 1.0]])
D_CHECK = np.array([[0.5, -1.0, 2.0], [1.0, 0.25, -0.5]])
D_MATMUL = np.array([[1.0, -1.0, 0.5, 2.0], [0.0, 1.0, -2.0, 0.5]])
X_SIG = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 3.0])
LOGITS = np.array([[2.0, 1.0, 0.1, -1.0], [0.5, 2.5, -0.3, 0.0], [-1.0, 0.0, 1.0, 3.0]])
LABELS = np.array([0, 2, 3])
FEED_G, FEED_J, FEED_H = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.5, -0.5]), np.array([0.2, 0.4, -0.3])
X_MAX = np.array([0.3, -1.2, 2.0, 1.9, 0.0])
BIG_LOGITS = np.random.default_rng(0).uniform(0.0, 300.0, (4, 1000)).astype(np.float32)
BIG_LABELS = np.random.default_rng(1).integers(0, 1000, 4)


# ---- hidden-test helpers (pasted into every hidden cell that needs them, so each cell stands alone) ------

REF_VALUES = '''
def _reference_values(fetches, feed_dict):
    """Values of the fetches, every operator evaluated with the reference's forward rule."""
    reference_order = grading.reference("minitf.session.topological_order")
    values = {}
    for node in reference_order(list(fetches)):
        if node.kind == "placeholder":
            values[node] = feed_dict[node]
        elif node.kind in ("variable", "constant"):
            values[node] = node.value
        else:
            reference_op = grading.reference(f"minitf.ops.{type(node.op).__name__}")
            values[node] = reference_op.forward(node.op, *[values[i] for i in node.inputs])
    return [values[node] for node in fetches]
'''

RANDOM_DAG = '''
def _random_dag(graph_class, seed, n_ops=14, unary=("tanh", "negative", "transpose")):
    """A random DAG of square (n, n) nodes built from ops outside this assignment, with shared nodes.

    Built twice with the same seed (once with your library, once with the reference) it is the same graph.
    Returns (graph, nodes: leaves x, w, c first, x_value).
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5))
    g = graph_class()
    nodes = [g.placeholder("x", shape=(n, n)), g.variable("w", rng.standard_normal((n, n))),
             g.constant(rng.standard_normal((n, n)), name="c")]
    for k in range(n_ops):
        recent = max(0, len(nodes) - 5)  # mostly recent nodes: a deep graph; repeated picks: shared nodes
        if rng.random() < 0.5:
            i, j = (int(v) for v in rng.integers(recent, len(nodes), 2))
            nodes.append(g.subtract(nodes[i], nodes[j], name=f"n{k}"))
        else:
            op = unary[int(rng.integers(len(unary)))]
            nodes.append(getattr(g, op)(nodes[int(rng.integers(recent, len(nodes)))], name=f"n{k}"))
    return g, nodes, 0.5 * rng.standard_normal((n, n))
'''


def _dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def hidden(*helpers: str, body: str) -> str:
    """A hidden cell's code: the helpers it needs, then its body (both dedented)."""
    return "\n\n".join([*(_dedent(h) for h in helpers), _dedent(body)])


# ---- expected values, from the reference ----------------------------------------------------------------


def lecture_graph(graph_class=Graph):
    g = graph_class()
    G, J, H = g.placeholder("G"), g.placeholder("J"), g.placeholder("H")
    E = g.multiply(G, J, name="E")
    D = g.add(E, H, name="D")
    C = g.tanh(E, name="C")
    B = g.multiply(D, H, name="B")
    BC = g.multiply(B, C, name="BC")
    A = g.add(BC, E, name="A")
    return g, dict(G=G, J=J, H=H, E=E, D=D, C=C, B=B, BC=BC, A=A)


def reference_gradients(make, values, dout_value):
    g = Graph()
    inputs = [g.placeholder(f"in{k}") for k in range(len(values))]
    out = make(g, *inputs)
    dout = g.placeholder("dout")
    grads = g.gradients(out, inputs, grad_ys=dout)
    feed = dict(zip(inputs, values, strict=True))
    feed[dout] = dout_value
    return Session(g).run(grads, feed)


def cells() -> list:
    c = []
    c.append(
        markdown(
            r"""
            # Assignment 03: build a mini TensorFlow

            A framework like TensorFlow splits deep learning between two kinds of experts (lecture 000):

            - the **computational-graph expert** (the *DAG expert*) knows only which node reads which, the
              graph's *dependency lists*. From them alone it orders the nodes, runs them (computing each value once
              per run) and walks the graph backwards to build gradients;
            - the **operator experts** know only their own maths: a forward formula and its local chain rule.

            The library `course.minitf` gives you the graph *builder*. `g = Graph()`, then `g.placeholder`,
            `g.variable`, `g.constant`, and one method per operator: `c = g.add(a, b)` (1) creates the operator
            `Add`, (2) creates a `Node` holding it, (3) sets the node's dependencies `c.inputs` to the nodes of `a`
            and `b` and (4) returns that node. Building computes nothing.

            You will write, in this notebook, everything that makes the graph run and learn:

            1. the forward rules of six operators: add, multiply, matmul, square, sigmoid, softmax-cross-entropy;
            2. `topological_order(fetches)` from the dependency lists;
            3. `run(fetches, feed_dict)`, which evaluates every node it needs exactly once (a per-run cache);
            4. the gradient rules of the six operators, written with graph operations;
            5. `gradients(y, xs)`, the backward walk over the DAG, summing over every path;
            6. an SGD optimizer node, used to train a net that matches the module version of assignment 02;
            7. `smooth_max(x, alpha)` $= x^\top \mathrm{softmax}(\alpha x)$, which tends to $\max(x)$;
            8. and, for free, gradients of gradients: a Hessian-vector product.

            **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
            answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
            a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
            the reference on fresh random graphs when the course grader runs it. Both carry points. Do not edit,
            copy or delete test cells. Use NumPy and the builder of `course.minitf` (`Graph`, `Node`, `ops`): in the
            grader, the library's own versions of what you write here raise `NotImplementedError`, and so do
            `minitf.Session`, `Graph.gradients`, `Graph.sgd_optimizer`, `Graph.smooth_max` and `Graph.variables`,
            which rely on them.

            Shapes: $N$ batch, $D$ input features, $M$ outputs, $C$ classes.
            """
        )
    )
    c.append(
        code(
            """
            import numpy as np
            import matplotlib.pyplot as plt

            import course.minitf.draw
            from course import grading
            from course.minitf import ops
            from course.minitf.draw import draw_graph
            from course.minitf.graph import Graph, Node
            """
        )
    )

    # ---- 1. building ---------------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 1. Building a graph (nothing to write)

            Every node has a `name`, a `kind` (`'placeholder'`, `'variable'`, `'constant'` or `'op'`), an `op` (the
            operator object, e.g. an `ops.Add()`, for kind `'op'`), its dependency list `inputs` (the nodes whose
            values its operator reads, in order) and, for variables and constants, a `value`. A Python number
            passed to a builder method becomes a constant, and `+ - * / @` on nodes call the builder.
            `g.mean` is built from `g.sum` and a division, so it needs no rule of its own.

            Below, a one-layer net $h = \sigma(x W + b)$ with the loss $\mathrm{mean}(h^2)$. What to see: the list
            of nodes, each with the nodes it reads; `matmul_1` reads `x` and `w`, and so on up to `loss`.
            """
        )
    )
    c.append(
        code(
            """
            g = Graph()
            x = g.placeholder("x", shape=(None, 3))  # fed at run time; None matches any batch size
            w = g.variable("w", np.full((3, 2), 0.5))  # a trainable value
            b = g.variable("b", np.array([0.1, -0.1]))
            h = g.sigmoid(g.add(g.matmul(x, w), b), name="h")
            loss = g.mean(g.square(h), name="loss")
            for node in g.nodes:
                print(f"{node.name:>10}  {node.kind:<11}  op {type(node.op).__name__:<8}  reads {[i.name for i in node.inputs]}")
            """
        )
    )

    # ---- 2. forward rules ----------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 2. Operator experts: forward rules

            An operator's forward rule maps the values of its inputs to its output value. Write the rules of five
            operators as functions of arrays; the engine below looks them up by operator class.

            | operator | rule | shapes |
            | --- | --- | --- |
            | `Add` | $a + b$ | NumPy broadcasting: `a (N, D) + b (D,)` adds `b` to every row |
            | `Multiply` | $a \odot b$, element-wise | broadcasting; either side may be a Python number |
            | `MatMul` | $a\,b$ | `a (N, D)`, `b (D, M)` $\to$ `(N, M)` |
            | `Square` | $x^2$ | element-wise |
            | `Sigmoid` | $\sigma(x) = 1 / (1 + e^{-x})$ | element-wise |

            The sigmoid must not overflow: for $x = -1000$, $e^{-x} = e^{1000}$ is `inf` (with a warning). Since
            $1 + e^{-x} = e^{\log(e^0 + e^{-x})}$, $\sigma(x) = \exp(-\mathrm{logaddexp}(0, -x))$, and NumPy's
            `np.logaddexp` computes $\log(e^a + e^b)$ without overflow. Keep the input's dtype (float32 in, float32 out).

            **Exercise 2a.** `add_forward`, `multiply_forward`, `matmul_forward`, `square_forward`, `sigmoid_forward`.
            """
        )
    )
    c.append(
        solution(
            "forward_rules",
            '''
            def add_forward(a, b):
                """out = a + b with broadcasting. a, b: arrays (or numbers) of broadcastable shapes."""
                ### BEGIN SOLUTION
                return a + b
                ### END SOLUTION


            def multiply_forward(a, b):
                """out = a * b element-wise with broadcasting; either may be a Python number."""
                ### BEGIN SOLUTION
                return a * b
                ### END SOLUTION


            def matmul_forward(a, b):
                """out = a @ b. a: (N, D), b: (D, M). Returns (N, M)."""
                ### BEGIN SOLUTION
                return a @ b
                ### END SOLUTION


            def square_forward(x):
                """out = x ** 2 element-wise."""
                ### BEGIN SOLUTION
                return x * x
                ### END SOLUTION


            def sigmoid_forward(x):
                """out = 1 / (1 + exp(-x)) element-wise, without overflow for any finite x."""
                ### BEGIN SOLUTION
                return np.exp(-np.logaddexp(0, -x))
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "forward_rules",
            fill(
                """
                a_check = <<A>>
                b_row = <<B>>
                grading.expect_close("add_forward(a, b) with a (2, 3), b (3,)", add_forward(a_check, b_row), <<ADD>>,
                                     hint="b is added to every row of a: a + b broadcasts.")
                grading.expect_close("multiply_forward(a, b) with a (2, 3), b (3,)", multiply_forward(a_check, b_row), <<MUL>>,
                                     hint="element-wise product a * b (not a matrix product).")
                grading.expect_close("multiply_forward(2.0, a)", multiply_forward(2.0, a_check), 2.0 * a_check,
                                     hint="a Python number on the left must work too: 2.0 * a.")
                grading.expect_close("square_forward(a)", square_forward(a_check), <<SQ>>, hint="x * x, element by element.")
                w_check = <<W>>
                grading.expect_shape("matmul_forward(a (2, 3), w (3, 4))", matmul_forward(a_check, w_check), (2, 4),
                                     hint="(N, D) @ (D, M) gives (N, M); use a @ b, not a * b.")
                grading.expect_close("matmul_forward(a, w)", matmul_forward(a_check, w_check), <<MM>>, hint="a @ w.")
                grading.expect_close("sigmoid_forward at -3, -1, 0, 0.5, 2, 3", sigmoid_forward(<<XS>>), <<SIG>>,
                                     hint="sigma(x) = 1 / (1 + exp(-x)); sigma(0) = 0.5.")
                with np.errstate(over="raise", invalid="raise"):
                    try:
                        extreme = sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))
                    except FloatingPointError as err:
                        raise AssertionError(
                            f"sigmoid_forward overflowed at x = -1000 ({err}). Hint: exp(-x) = exp(1000) is inf; "
                            "use np.exp(-np.logaddexp(0, -x)), which never exponentiates a large positive number."
                        ) from None
                grading.expect_close("sigmoid_forward at -1000, 0, 1000", extreme, np.array([0.0, 0.5, 1.0]),
                                     hint="far from 0 the sigmoid saturates at 0 and 1.")
                grading.expect_equal("sigmoid_forward(float32 array).dtype", sigmoid_forward(np.ones(3, np.float32)).dtype,
                                     np.dtype("float32"), hint="do not build float64 arrays inside; numbers like 0 and 1 keep the dtype.")
                """,
                A=literal(A_CHECK),
                B=literal(B_ROW),
                W=literal(W_CHECK),
                XS=literal(X_SIG),
                ADD=literal(ops.Add().forward(A_CHECK, B_ROW)),
                MUL=literal(ops.Multiply().forward(A_CHECK, B_ROW)),
                SQ=literal(ops.Square().forward(A_CHECK)),
                MM=literal(ops.MatMul().forward(A_CHECK, W_CHECK)),
                SIG=literal(ops.Sigmoid().forward(X_SIG)),
            ),
            points=2,
        )
    )
    c.append(
        hidden_test(
            "forward_rules",
            """
            Ref = {name: grading.reference(f"minitf.ops.{name}")() for name in ["Add", "Multiply", "MatMul", "Square", "Sigmoid"]}
            for trial in range(3):
                rng = np.random.default_rng(grading.check_seed("a03.forward_rules", trial))
                n, d, m = (int(v) for v in rng.integers(1, 6, 3))
                a = rng.standard_normal((n, d))
                b = rng.standard_normal([(d,), (1, d), (n, 1), (n, d)][int(rng.integers(4))])
                w = rng.standard_normal((d, m))
                big = rng.uniform(-800, 800, (n, d))
                desc = f"a of shape {a.shape}, b of shape {b.shape}, w of shape {w.shape}"
                cases = [("add_forward", add_forward, "Add", (a, b)), ("multiply_forward", multiply_forward, "Multiply", (a, b)),
                         ("multiply_forward", multiply_forward, "Multiply", (1.5, a)), ("matmul_forward", matmul_forward, "MatMul", (a, w)),
                         ("square_forward", square_forward, "Square", (a,)), ("sigmoid_forward", sigmoid_forward, "Sigmoid", (a,)),
                         ("sigmoid_forward", sigmoid_forward, "Sigmoid", (big,))]
                for label, fn, ref, args in cases:
                    with np.errstate(over="ignore"):  # an overflow shows up as a wrong value instead
                        got = fn(*[np.copy(v) for v in args])
                    grading.check_with_reference(label, got, Ref[ref].forward(*args), inputs=desc)
                for label, fn, args in [("add_forward", add_forward, (a, b)), ("sigmoid_forward", sigmoid_forward, (a,)),
                                        ("matmul_forward", matmul_forward, (a, w))]:
                    got = fn(*[v.astype(np.float32) for v in args])
                    if np.asarray(got).dtype != np.float32:
                        raise AssertionError(f"{label}: float32 inputs gave {np.asarray(got).dtype}; keep the input's dtype.")
            print("ok: the five forward rules agree with the reference on 3 random input sets (float32 kept)")
            """,
            points=3,
        )
    )

    # ---- 2b. softmax-CE forward
    sce = ops.SoftmaxCrossEntropy()
    c.append(
        markdown(
            r"""
            **Exercise 2b.** The fused softmax-cross-entropy: logits $z$ `(N, C)` (float), integer labels $y$ `(N,)`,

            $$L = -\frac{1}{N}\sum_{n} \log \mathrm{softmax}(z_n)_{y_n}, \qquad
              \log \mathrm{softmax}(z)_c = (z_c - m) - \log \sum_j e^{z_j - m}, \quad m = \max_j z_j .$$

            Subtracting the row's max leaves the softmax unchanged and keeps every exponent $\le 0$. Without it, the
            lecture's example overflows: float32 logits up to 300 over 1000 classes, where $e^{z}$ is `inf` for any
            $z > 88$ (in float64 the limit is 709). Keep the logits' dtype.
            Pick each row's label entry with integer indexing, `log_probs[np.arange(N), labels]`. Returns a scalar.
            """
        )
    )
    c.append(
        solution(
            "softmax_cross_entropy_forward",
            '''
            def softmax_cross_entropy_forward(logits, labels):
                """Mean over N of -log softmax(logits)[label]. logits: (N, C) float, labels: (N,) int. Returns a scalar."""
                ### BEGIN SOLUTION
                n = logits.shape[0]
                shifted = logits - np.max(logits, axis=1, keepdims=True)  # (N, C), every entry <= 0
                log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))  # (N, C)
                return -np.sum(log_probs[np.arange(n), labels]) / n
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "softmax_cross_entropy_forward",
            fill(
                """
                logits_check, labels_check = <<Z>>, <<Y>>
                # Isolation case: all-zero logits make every class equally likely, so the loss is log C.
                grading.expect_close("loss for all-zero logits, C = 4", softmax_cross_entropy_forward(np.zeros((3, 4)), labels_check),
                                     np.log(4.0), hint="with equal logits softmax is 1/C everywhere: -log(1/C) = log C. Average over N, do not sum.")
                grading.expect_close("loss for 3 rows, 4 classes", softmax_cross_entropy_forward(logits_check, labels_check), <<L>>,
                                     hint="take log softmax at each row's label, sum the negatives and divide by N.")
                # The lecture's case: float32 logits in [0, 300] over 1000 classes (exp overflows float32 above 88).
                big_logits = np.random.default_rng(0).uniform(0.0, 300.0, (4, 1000)).astype(np.float32)
                big_labels = np.random.default_rng(1).integers(0, 1000, 4)
                with np.errstate(over="raise", invalid="raise"):
                    try:
                        big_loss = softmax_cross_entropy_forward(big_logits, big_labels)
                    except FloatingPointError as err:
                        raise AssertionError(f"softmax_cross_entropy_forward overflowed for float32 logits up to 300 ({err}). "
                                             "Hint: subtract each row's max before exp.") from None
                grading.expect_close("loss for float32 logits in [0, 300] over 1000 classes", big_loss, <<LB>>, rtol=1e-5,
                                     hint="the max-shift must be per row (axis=1, keepdims=True).")
                """,
                Z=literal(LOGITS),
                Y=literal(LABELS),
                L=literal(sce.forward(LOGITS, LABELS)),
                LB=literal(float(sce.forward(BIG_LOGITS, BIG_LABELS))),
            ),
            points=2,
        )
    )
    c.append(
        hidden_test(
            "softmax_cross_entropy_forward",
            """
            ref_sce = grading.reference("minitf.ops.SoftmaxCrossEntropy")()
            for trial in range(4):
                rng = np.random.default_rng(grading.check_seed("a03.softmax_cross_entropy_forward", trial))
                n, c = int(rng.integers(1, 8)), int(rng.integers(2, 12))
                logits = rng.standard_normal((n, c)) * [1.0, 1.0, 100.0, 300.0][trial]
                if trial == 3:
                    logits = rng.uniform(0.0, 1000.0, (n, c))  # exp overflows float64 above 709
                labels = rng.integers(0, c, n)
                with np.errstate(over="ignore", invalid="ignore"):
                    got = softmax_cross_entropy_forward(logits.copy(), labels.copy())
                grading.check_with_reference("softmax_cross_entropy_forward", got, ref_sce.forward(logits, labels),
                                             inputs=f"logits of shape {logits.shape} and size up to {np.abs(logits).max():.0f}")
            print("ok: softmax_cross_entropy_forward agrees with the reference on 4 random input sets")
            """,
            points=3,
        )
    )

    # ---- scaffold: evaluate, run_without_cache ------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ### The engine's evaluation step (given)

            `evaluate(node, input_values, feed_dict, counts)` computes one node's value once its inputs' values are
            known: a placeholder reads `feed_dict`, a variable or constant returns `node.value`, and an operator
            applies its forward rule: yours (looked up in `FORWARD_RULES` by the operator's class) for the operators
            of this assignment, the library's own `node.op.forward` for all the others (`Subtract`, `Tanh`, `Sum`,
            `Softmax`, ...). The optimizer node of section 7 is handled by `sgd_update`, which you write there.
            `counts`, a dict, records how many times each node was evaluated.

            `run_without_cache` evaluates the fetches by plain recursion: a node's inputs first, then the node.
            It is correct, but it has no memory: a node reached along $k$ paths is computed $k$ times.
            """
        )
    )
    c.append(
        code(
            '''
            FORWARD_RULES = {
                ops.Add: add_forward,
                ops.Multiply: multiply_forward,
                ops.MatMul: matmul_forward,
                ops.Square: square_forward,
                ops.Sigmoid: sigmoid_forward,
                ops.SoftmaxCrossEntropy: softmax_cross_entropy_forward,
            }


            def evaluate(node, input_values, feed_dict, counts=None):
                """The value of one node from the values of its inputs (in the order of node.inputs)."""
                if counts is not None:
                    counts[node] = counts.get(node, 0) + 1
                if node.kind == "placeholder":
                    if feed_dict is None or node not in feed_dict:
                        raise ValueError(f"placeholder {node.name!r} has no value: pass it in feed_dict")
                    node.check_feed(feed_dict[node])  # the shape declared by g.placeholder(name, shape)
                    return feed_dict[node]
                if node.kind in ("variable", "constant"):
                    return node.value
                if isinstance(node.op, ops.SGDUpdate):  # the optimizer node of section 7
                    loss_value, *grad_values = input_values
                    sgd_update(node.op.variables, grad_values, node.op.learning_rate)
                    return loss_value
                forward = FORWARD_RULES.get(type(node.op), node.op.forward)
                return forward(*input_values)


            def run_without_cache(fetches, feed_dict=None, counts=None):
                """Values of the nodes in the list fetches, by recursion: a shared node is evaluated once per path."""

                def value(node):
                    return evaluate(node, [value(i) for i in node.inputs], feed_dict, counts)

                return [value(node) for node in fetches]
            '''
        )
    )
    c.append(
        markdown(
            r"""
            The one-layer net of section 1, run on two inputs. What to see: `h` has shape `(2, 2)` and the loss is a
            scalar; `h` and everything below it were evaluated three times: once for the fetch `h`, and twice inside
            `loss`, whose `sum` and `count` both read `square_3`. Nothing is remembered between the paths.
            """
        )
    )
    c.append(
        code(
            """
            demo_counts = {}
            h_value, loss_value = run_without_cache([h, loss], {x: np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])}, demo_counts)
            print("h =", h_value.round(4).tolist(), " loss =", round(float(loss_value), 6))
            print("evaluations per node:", {node.name: k for node, k in demo_counts.items()})
            """
        )
    )

    # ---- 3. topological order ----------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 3. The DAG expert: topological order

            The lecture's question: which data structure represents the graph? We need `Session.run(any_node)`, so
            each node keeps its **list of dependencies**. To evaluate the nodes that some fetches need, each exactly
            once, list them in a **topological order**: every node the fetches depend on (the fetches included), each
            once, and every node after all of its inputs.

            Depth-first search gives one: visit a node's inputs first, then append the node (post-order), and keep a
            set of the nodes already seen so a shared node is listed once. Write it without recursion: the gradient
            graph of a deep chain is deeper than Python's recursion limit (1000 frames), and a chain of 5000 nodes is
            in the test. An explicit stack of `(node, index of the next input to visit)` pairs does it.

            The builder below follows the lecture's dependency list `A: [B, C, E], B: [D, H], C: [E], D: [E, H],
            E: [G, J]` (the builder's operators take two inputs, so `A` reads `BC` = `B * C` and `E`).

            **Exercise 3.** `topological_order(fetches)` returns a list of nodes.
            """
        )
    )
    c.append(
        code(
            """
            lecture = Graph()
            G, J, H = lecture.placeholder("G"), lecture.placeholder("J"), lecture.placeholder("H")
            E = lecture.multiply(G, J, name="E")
            D = lecture.add(E, H, name="D")
            C = lecture.tanh(E, name="C")
            B = lecture.multiply(D, H, name="B")
            BC = lecture.multiply(B, C, name="BC")
            A = lecture.add(BC, E, name="A")
            lecture_feed = {G: np.array([0.5, -1.0, 2.0]), J: np.array([1.5, 0.5, -0.5]), H: np.array([0.2, 0.4, -0.3])}
            """
        )
    )
    c.append(
        solution(
            "topological_order",
            '''
            def topological_order(fetches):
                """Every node the fetches depend on (fetches included), each once and after all of its inputs."""
                ### BEGIN SOLUTION
                order, seen = [], set()
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
                            order.append(node)  # all its inputs are already listed
                return order
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "topological_order",
            """
            def check_order(order, fetches, needed, what):
                if not isinstance(order, list):
                    raise AssertionError(f"topological_order({what}) returned a {type(order).__name__}, expected a list of nodes.")
                names = [getattr(node, "name", repr(node)) for node in order]
                repeated = sorted({n for n in names if names.count(n) > 1})
                if repeated:
                    raise AssertionError(f"topological_order({what}) lists {repeated} more than once. "
                                         "Hint: keep a set of the nodes already seen and skip them.")
                missing, extra = sorted(set(needed) - set(names)), sorted(set(names) - set(needed))
                if missing:
                    raise AssertionError(f"topological_order({what}) misses {missing}. Hint: visit every input of every node, "
                                         "down to the leaves, and include the fetches themselves.")
                if extra:
                    raise AssertionError(f"topological_order({what}) lists {extra}, which the fetches do not need. "
                                         "Hint: start only from the fetches and follow node.inputs.")
                position = {node: k for k, node in enumerate(order)}
                for node in order:
                    for inp in node.inputs:
                        if position[inp] > position[node]:
                            raise AssertionError(f"topological_order({what}) puts {node.name!r} before its input {inp.name!r}. "
                                                 "Hint: append a node only after all of its inputs are appended (post-order).")
                print(f"ok: topological_order({what}) lists the {len(order)} needed nodes once each, inputs first")

            check_order(topological_order([A]), [A], ["G", "J", "H", "E", "D", "C", "B", "BC", "A"], "[A]")
            check_order(topological_order([B, C]), [B, C], ["G", "J", "H", "E", "D", "B", "C"], "[B, C]")
            check_order(topological_order([C, E, C]), [C, E, C], ["G", "J", "E", "C"], "[C, E, C]")
            check_order(topological_order([G]), [G], ["G"], "[G]")
            chain_graph = Graph()
            chain = [chain_graph.placeholder("x0")]
            for k in range(5000):
                chain.append(chain_graph.tanh(chain[-1], name=f"x{k + 1}"))
            try:
                deep = topological_order([chain[-1]])
            except RecursionError:
                raise AssertionError("topological_order hit Python's recursion limit on a chain of 5000 nodes. "
                                     "Hint: replace recursion by an explicit stack of (node, next input index).") from None
            grading.expect_equal("len(topological_order(chain of 5001 nodes))", len(deep), 5001)
            grading.expect_equal("first and last node of the chain's order", (deep[0].name, deep[-1].name), ("x0", "x5000"))
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "topological_order",
            hidden(
                RANDOM_DAG,
                body="""
                reference_order = grading.reference("minitf.session.topological_order")
                for trial in range(5):
                    seed = grading.check_seed("a03.topological_order", trial)
                    dag, nodes, _ = _random_dag(Graph, seed, n_ops=25, unary=("tanh", "negative", "transpose", "square", "sigmoid"))
                    rng = np.random.default_rng(seed + 1)
                    fetches = [nodes[int(i)] for i in rng.integers(0, len(nodes), int(rng.integers(1, 4)))]
                    got = topological_order(list(fetches))
                    expected = reference_order(fetches)
                    if not isinstance(got, list) or len(got) != len(set(got)):
                        raise AssertionError("topological_order must return a list with every node once (random graph).")
                    if set(got) != set(expected):
                        raise AssertionError(f"topological_order returns {len(set(got))} distinct nodes on a random graph; "
                                             f"the fetches need {len(expected)}.")
                    position = {node: k for k, node in enumerate(got)}
                    if any(position[i] > position[node] for node in got for i in node.inputs):
                        raise AssertionError("topological_order puts a node before one of its inputs on a random graph.")
                deep_graph = Graph()
                chain = [deep_graph.placeholder("x0")]
                for k in range(3000):
                    chain.append(deep_graph.add(chain[-1], chain[-1 - min(k, 2)], name=f"x{k + 1}"))
                got = topological_order([chain[1500], chain[-1]])
                if not isinstance(got, list) or len(got) != 3001 or len(set(got)) != 3001:
                    raise AssertionError("topological_order must list each of the 3001 nodes of a deep graph exactly once.")
                print("ok: topological_order is a valid order of exactly the needed nodes on 5 random graphs and a deep one")
                """,
            ),
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            `draw_graph` (in `course.minitf.draw`) lays a graph out by depth, using a topological order. In your
            edition of the library that order is the function you just wrote, so the next line plugs it in. What to
            see: the leaves `G`, `J`, `H` at depth 0; every arrow points up, from an input to the node that reads it;
            `E` is read by three nodes (`D`, `C` and `A`) and `H` by two: these are the shared nodes.
            """
        )
    )
    c.append(
        code(
            """
            draw_graph([A], title="The lecture's graph: arrows go from an input to the node that reads it")
            plt.show()
            """
        )
    )

    # ---- 4. run with a cache -------------------------------------------------------------------------------
    lg, ln = lecture_graph()
    lfeed = {ln["G"]: FEED_G, ln["J"]: FEED_J, ln["H"]: FEED_H}
    b_val, c_val = Session(lg).run([ln["B"], ln["C"]], lfeed)
    a_val = Session(lg).run(ln["A"], lfeed)
    c.append(
        markdown(
            r"""
            ## 4. Running a graph: one evaluation per node per run

            The lecture's `Session.run([B, C])` written as `for node in [B, C]: run(node)` evaluates `E` twice: once
            for `B` and once for `C`. The fix is a **per-run cache**: evaluate the nodes of
            `topological_order(fetches)` in order, storing each value in a dict; when a node comes up, its inputs
            are already in the dict. The cache lives for one call only: between runs the variables change (the
            optimizer updates them) and the placeholders are fed anew.

            **Exercise 4.** `run(fetches, feed_dict=None, counts=None)`: `fetches` is a list of nodes; return the list
            of their values, in the same order. Evaluate each needed node exactly once with
            `evaluate(node, input_values, feed_dict, counts)`.
            """
        )
    )
    c.append(
        solution(
            "session_run",
            '''
            def run(fetches, feed_dict=None, counts=None):
                """Values of the nodes in the list fetches; each needed node is evaluated once (a per-run cache)."""
                ### BEGIN SOLUTION
                values = {}
                for node in topological_order(fetches):
                    values[node] = evaluate(node, [values[i] for i in node.inputs], feed_dict, counts)
                return [values[node] for node in fetches]
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "session_run",
            fill(
                """
                counts = {}
                result = run([B, C], lecture_feed, counts)
                grading.expect_equal("type of run([B, C], feed)", type(result).__name__, "list",
                                     hint="return a list of values, one per fetch, in the order of the fetches.")
                grading.expect_equal("len(run([B, C], feed))", len(result), 2)
                grading.expect_close("value of B", result[0], <<B>>, hint="B = (G * J + H) * H.")
                grading.expect_close("value of C", result[1], <<C>>, hint="C = tanh(G * J).")
                evaluated = {node.name: k for node, k in counts.items()}
                grading.expect_equal("nodes evaluated by run([B, C])", sorted(evaluated), ["B", "C", "D", "E", "G", "H", "J"],
                                     hint="pass counts to evaluate, and evaluate exactly the nodes of topological_order(fetches).")
                twice = sorted(name for name, k in evaluated.items() if k > 1)
                grading.expect_equal("nodes evaluated more than once", twice, [],
                                     hint="store each value in a dict and read inputs from it instead of recomputing them.")
                values = run([A, B, A], lecture_feed)
                grading.expect_close("run([A, B, A]): A", values[0], <<A>>, hint="A = B * C + E.")
                grading.expect_close("run([A, B, A]): the second A", values[2], <<A>>, hint="a repeated fetch gets the same value.")
                grading.expect_close("run([C]) without H in the feed", run([C], {G: lecture_feed[G], J: lecture_feed[J]})[0], <<C>>,
                                     hint="C does not need H: evaluate only what the fetches depend on.")
                """,
                B=literal(b_val),
                C=literal(c_val),
                A=literal(a_val),
            ),
            points=2,
        )
    )
    c.append(
        hidden_test(
            "session_run",
            hidden(
                RANDOM_DAG,
                body="""
                RefGraph = grading.reference("minitf.graph.Graph")
                RefSession = grading.reference("minitf.session.Session")
                reference_order = grading.reference("minitf.session.topological_order")
                for trial in range(4):
                    seed = grading.check_seed("a03.session_run", trial)
                    dag, nodes, x_value = _random_dag(Graph, seed, unary=("tanh", "negative", "transpose", "relu"))
                    ref_dag, ref_nodes, _ = _random_dag(RefGraph, seed, unary=("tanh", "negative", "transpose", "relu"))
                    picks = [int(i) for i in np.random.default_rng(seed + 1).integers(3, len(nodes), 3)]
                    counts = {}
                    got = run([nodes[i] for i in picks], {nodes[0]: x_value.copy()}, counts)
                    expected = RefSession(ref_dag).run([ref_nodes[i] for i in picks], {ref_nodes[0]: x_value.copy()})
                    if not isinstance(got, list) or len(got) != len(picks):
                        raise AssertionError(f"run must return a list of {len(picks)} values for {len(picks)} fetches.")
                    for k, (value, ref_value) in enumerate(zip(got, expected)):
                        grading.check_with_reference("run", value, ref_value, what=f"the value of fetch {k}",
                                                     inputs=f"a random graph of {len(nodes)} nodes")
                    needed = set(reference_order([nodes[i] for i in picks]))
                    if set(counts) != needed:
                        raise AssertionError(f"run evaluated {len(counts)} distinct nodes on a random graph; the fetches need "
                                             f"{len(needed)} (pass counts to evaluate and evaluate exactly the needed nodes).")
                    if max(counts.values()) > 1:
                        raise AssertionError("run evaluated a node more than once on a random graph with shared nodes.")
                print("ok: run agrees with the reference on 4 random graphs and evaluates every needed node once")
                """,
            ),
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            ### Call counts with and without the cache

            Left: `run([B, C])`; right: `run_without_cache([B, C])`; each node is labelled with how often it was
            evaluated (`x1`, `x2`). What to see: with the cache every node is computed once; without it `E` (and
            its inputs `G`, `J`) is computed once for `B` and once for `C`, and `H` once for `D` and once for `B`.

            The plot below makes the difference dramatic: on a chain $x_{k+1} = x_k + x_k$, where every node reads
            the previous one twice, there are $2^{\text{depth}}$ paths from the top to $x_0$. What to see: with the
            cache the number of evaluations grows like depth + 1 (a straight line near the bottom of a log axis),
            without it like $2^{\text{depth}+1} - 1$.
            """
        )
    )
    c.append(
        code(
            """
            cached_counts, naive_counts = {}, {}
            run([B, C], lecture_feed, cached_counts)
            run_without_cache([B, C], lecture_feed, naive_counts)
            fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
            draw_graph([B, C], ax=axes[0], counts=cached_counts, title=f"run([B, C]): {sum(cached_counts.values())} evaluations")
            draw_graph([B, C], ax=axes[1], counts=naive_counts,
                       title=f"run_without_cache([B, C]): {sum(naive_counts.values())} evaluations")
            plt.show()

            depths = np.arange(1, 15)
            with_cache, without_cache = [], []
            for depth in depths:
                chain_graph = Graph()
                top = x0 = chain_graph.placeholder("x0")
                for k in range(depth):
                    top = chain_graph.add(top, top, name=f"x{k + 1}")
                counts_cached, counts_naive = {}, {}
                run([top], {x0: np.array(1.0)}, counts_cached)
                run_without_cache([top], {x0: np.array(1.0)}, counts_naive)
                with_cache.append(sum(counts_cached.values()))
                without_cache.append(sum(counts_naive.values()))
            fig, ax = plt.subplots(figsize=(6, 3.8))
            ax.semilogy(depths, without_cache, "s-", label="run_without_cache: $2^{depth+1} - 1$")
            ax.semilogy(depths, with_cache, "o-", label="run (per-run cache): depth + 1")
            ax.set_xlabel("depth of the chain $x_{k+1} = x_k + x_k$")
            ax.set_ylabel("node evaluations in one run (log scale)")
            ax.set_title("Evaluations with and without the per-run cache")
            ax.legend()
            plt.show()
            print(f"depth {depths[-1]}: {with_cache[-1]} evaluations with the cache, {without_cache[-1]} without")
            """
        )
    )

    # ---- 5. gradient rules ---------------------------------------------------------------------------------
    add_vals = reference_gradients(lambda g, a, b: g.add(a, b), [A_CHECK, B_ROW], D_CHECK)
    mul_vals = reference_gradients(lambda g, a, b: g.multiply(a, b), [A_CHECK, B_FULL], D_CHECK)
    mulb_vals = reference_gradients(lambda g, a, b: g.multiply(a, b), [A_CHECK, B_ROW], D_CHECK)
    mm_vals = reference_gradients(lambda g, a, b: g.matmul(a, b), [A_CHECK, W_CHECK], D_MATMUL)
    sq_vals = reference_gradients(lambda g, a: g.square(a), [A_CHECK], D_CHECK)
    sig_vals = reference_gradients(lambda g, a: g.sigmoid(a), [A_CHECK], D_CHECK)
    c.append(
        markdown(
            r"""
            ## 5. Operator experts: gradient rules

            Reverse mode sends $\bar{u} = \partial L / \partial u$ from a node's output back to its inputs. An
            operator's gradient rule gets

            - `g`, the builder;
            - `node`, the operator's node: its inputs are `node.inputs`, and `node` itself stands for the output value;
            - `dout`, the node holding $\partial L / \partial\,\mathrm{out}$ (shaped like the output),

            and returns a list with one gradient node per input, shaped like that input (`None` where no gradient
            flows). Write the rules with **graph operations** (`g.multiply`, `g.matmul`, `g.transpose`,
            `g.subtract`, `g.sum_to`, ...), not NumPy: the gradient is then a graph like any other, which `run`
            evaluates and which can be differentiated again (section 9).

            **Broadcasting in reverse.** If `b (D,)` was added to every row of `a (N, D)`, each entry of `b` was used
            $N$ times, so its gradient is the sum of those $N$ contributions: `g.sum_to(dout, b)` sums `dout` over
            the broadcast axes down to the shape of `b`'s value (it does nothing when the shapes already agree).

            | operator | gradient of each input |
            | --- | --- |
            | `out = a + b` | $\bar a$ = `sum_to(dout, a)`, $\bar b$ = `sum_to(dout, b)` |
            | `out = a * b` | $\bar a$ = `sum_to(dout * b, a)`, $\bar b$ = `sum_to(dout * a, b)` |
            | `out = a @ b`, `(N, D) @ (D, M)` | $\bar a$ = `dout @ b^T` `(N, D)`, $\bar b$ = `a^T @ dout` `(D, M)` |
            | `out = x ** 2` | $\bar x$ = `dout * 2x` |
            | `out = sigmoid(x)` | $\bar x$ = `dout * out * (1 - out)`: reuse `node`, nothing to recompute |

            **Exercise 5a.** `add_gradient`, `multiply_gradient`, `matmul_gradient`, `square_gradient`,
            `sigmoid_gradient`, each `(g, node, dout) -> [gradient node per input]`.
            """
        )
    )
    c.append(
        solution(
            "gradient_rules",
            '''
            def add_gradient(g, node, dout):
                """out = a + b: [sum_to(dout, a), sum_to(dout, b)]."""
                ### BEGIN SOLUTION
                a, b = node.inputs
                return [g.sum_to(dout, a), g.sum_to(dout, b)]
                ### END SOLUTION


            def multiply_gradient(g, node, dout):
                """out = a * b: [sum_to(dout * b, a), sum_to(dout * a, b)]."""
                ### BEGIN SOLUTION
                a, b = node.inputs
                return [g.sum_to(g.multiply(dout, b), a), g.sum_to(g.multiply(dout, a), b)]
                ### END SOLUTION


            def matmul_gradient(g, node, dout):
                """out = a @ b, a (N, D), b (D, M): [dout @ b^T (N, D), a^T @ dout (D, M)]."""
                ### BEGIN SOLUTION
                a, b = node.inputs
                return [g.matmul(dout, g.transpose(b)), g.matmul(g.transpose(a), dout)]
                ### END SOLUTION


            def square_gradient(g, node, dout):
                """out = x ** 2: [dout * 2x]."""
                ### BEGIN SOLUTION
                (x,) = node.inputs
                return [g.multiply(dout, g.multiply(2.0, x))]
                ### END SOLUTION


            def sigmoid_gradient(g, node, dout):
                """out = sigmoid(x): [dout * out * (1 - out)], with node standing for out."""
                ### BEGIN SOLUTION
                return [g.multiply(dout, g.multiply(node, g.subtract(1.0, node)))]
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "gradient_rules",
            fill(
                """
                def rule_values(rule, build, values, dout_value):
                    \"\"\"Apply rule to out = build(g, *placeholders) and evaluate its gradient nodes.\"\"\"
                    graph = Graph()
                    inputs = [graph.placeholder(f"in{k}") for k in range(len(values))]
                    out, dout = build(graph, *inputs), graph.placeholder("dout")
                    grads = rule(graph, out, dout)
                    name = rule.__name__
                    if not isinstance(grads, (list, tuple)) or len(grads) != len(inputs):
                        raise AssertionError(f"{name} must return a list with one gradient node per input ({len(inputs)}), got {grads!r}.")
                    for k, grad in enumerate(grads):
                        if not isinstance(grad, Node):
                            raise AssertionError(f"{name}: gradient {k} is a {type(grad).__name__}, not a graph node. Hint: build it "
                                                 "with g.multiply, g.matmul, g.sum_to, ... so that the engine can run it.")
                    feed = dict(zip(inputs, values))
                    feed[dout] = dout_value
                    try:
                        return run_without_cache(list(grads), feed)
                    except ValueError as err:
                        raise AssertionError(f"{name}: running its gradient nodes failed ({err}). Hint: each gradient has the "
                                             "shape of its input; check which factor is transposed or summed.") from None

                a_check, b_row, b_full, w_check = <<A>>, <<BR>>, <<BF>>, <<W>>
                dout_check, dout_matmul = <<D>>, <<DM>>
                da, db = rule_values(add_gradient, lambda g, a, b: g.add(a, b), [a_check, b_row], dout_check)
                grading.expect_close("add_gradient: da", da, <<ADD_A>>, hint="d(a + b)/da = 1: da is dout itself.")
                grading.expect_shape("add_gradient: db for b of shape (3,)", db, (3,),
                                     hint="b was broadcast over the 2 rows of a: db = g.sum_to(dout, b).")
                grading.expect_close("add_gradient: db", db, <<ADD_B>>, hint="the column sums of dout.")
                da, db = rule_values(multiply_gradient, lambda g, a, b: g.multiply(a, b), [a_check, b_full], dout_check)
                grading.expect_close("multiply_gradient: da", da, <<MUL_A>>, hint="d(a * b)/da = b: da = dout * b.")
                grading.expect_close("multiply_gradient: db", db, <<MUL_B>>, hint="d(a * b)/db = a: db = dout * a.")
                da, db = rule_values(multiply_gradient, lambda g, a, b: g.multiply(a, b), [a_check, b_row], dout_check)
                grading.expect_close("multiply_gradient: db for b of shape (3,)", db, <<MULB_B>>,
                                     hint="sum dout * a down to b's shape with g.sum_to.")
                da, dw = rule_values(matmul_gradient, lambda g, a, b: g.matmul(a, b), [a_check, w_check], dout_matmul)
                grading.expect_shape("matmul_gradient: da", da, (2, 3), hint="da = dout (2, 4) @ w^T (4, 3).")
                grading.expect_close("matmul_gradient: da", da, <<MM_A>>, hint="da = dout @ b^T: g.matmul(dout, g.transpose(b)).")
                grading.expect_shape("matmul_gradient: dw", dw, (3, 4), hint="dw = a^T (3, 2) @ dout (2, 4).")
                grading.expect_close("matmul_gradient: dw", dw, <<MM_B>>, hint="db = a^T @ dout.")
                (dx,) = rule_values(square_gradient, lambda g, a: g.square(a), [a_check], dout_check)
                grading.expect_close("square_gradient: dx", dx, <<SQ>>, hint="d(x^2)/dx = 2x, times dout.")
                (dx,) = rule_values(sigmoid_gradient, lambda g, a: g.sigmoid(a), [a_check], dout_check)
                grading.expect_close("sigmoid_gradient: dx", dx, <<SIG>>, hint="sigma'(x) = sigma(x) (1 - sigma(x)), times dout.")
                """,
                A=literal(A_CHECK),
                BR=literal(B_ROW),
                BF=literal(B_FULL),
                W=literal(W_CHECK),
                D=literal(D_CHECK),
                DM=literal(D_MATMUL),
                ADD_A=literal(add_vals[0]),
                ADD_B=literal(add_vals[1]),
                MUL_A=literal(mul_vals[0]),
                MUL_B=literal(mul_vals[1]),
                MULB_B=literal(mulb_vals[1]),
                MM_A=literal(mm_vals[0]),
                MM_B=literal(mm_vals[1]),
                SQ=literal(sq_vals[0]),
                SIG=literal(sig_vals[0]),
            ),
            points=2,
        )
    )
    rule_helpers = (
        REF_VALUES
        + '''
RefGraph = grading.reference("minitf.graph.Graph")
RefSession = grading.reference("minitf.session.Session")


def _rule_check(label, rule, build, values, dout_value, wrt, desc):
    """Your rule's gradient nodes (evaluated with the reference operators) against the reference's gradients."""
    graph = Graph()
    inputs = [graph.placeholder(f"in{k}") for k in range(len(values))]
    out, dout = build(graph, *inputs), graph.placeholder("dout")
    grads = rule(graph, out, dout)
    if not isinstance(grads, (list, tuple)) or len(grads) != len(inputs):
        raise AssertionError(f"{label} must return a list with one entry per input ({len(inputs)}).")
    feed = dict(zip(inputs, values))
    feed[dout] = dout_value
    ref_graph = RefGraph()
    ref_inputs = [ref_graph.placeholder(f"in{k}") for k in range(len(values))]
    ref_out, ref_dout = build(ref_graph, *ref_inputs), ref_graph.placeholder("dout")
    ref_grads = ref_graph.gradients(ref_out, [ref_inputs[k] for k in wrt], grad_ys=ref_dout)
    ref_feed = dict(zip(ref_inputs, values))
    ref_feed[ref_dout] = dout_value
    expected = RefSession(ref_graph).run(ref_grads, ref_feed)
    for k, ref_value in zip(wrt, expected):
        if not isinstance(grads[k], Node):
            raise AssertionError(f"{label}: the gradient of input {k} must be a graph node, got {type(grads[k]).__name__}.")
        try:
            (value,) = _reference_values([grads[k]], feed)
        except ValueError as err:
            raise AssertionError(f"{label}: running the gradient of input {k} failed ({err}; inputs: {desc}).") from None
        grading.check_with_reference(label, value, ref_value, what=f"the gradient of input {k}", inputs=desc)
'''
    )
    rule_cases = {
        "add_gradient": """
            for trial in range(4):
                rng = np.random.default_rng(grading.check_seed("a03.add_gradient", trial))
                n, d = (int(v) for v in rng.integers(1, 5, 2))
                a = rng.standard_normal((n, d))
                b = rng.standard_normal([(d,), (1, d), (n, 1), (n, d)][trial])
                _rule_check("add_gradient", add_gradient, lambda g, p, q: g.add(p, q), [a, b], rng.standard_normal((n, d)),
                            [0, 1], f"a of shape {a.shape}, b of shape {b.shape}")
            print("ok: add_gradient agrees with the reference on 4 random broadcasting cases")
            """,
        "multiply_gradient": """
            for trial in range(4):
                rng = np.random.default_rng(grading.check_seed("a03.multiply_gradient", trial))
                n, d = (int(v) for v in rng.integers(1, 5, 2))
                a = rng.standard_normal((n, d))
                b = rng.standard_normal([(d,), (1, d), (n, 1), (n, d)][trial])
                _rule_check("multiply_gradient", multiply_gradient, lambda g, p, q: g.multiply(p, q), [a, b],
                            rng.standard_normal((n, d)), [0, 1], f"a of shape {a.shape}, b of shape {b.shape}")
            print("ok: multiply_gradient agrees with the reference on 4 random broadcasting cases")
            """,
        "matmul_gradient": """
            for trial in range(3):
                rng = np.random.default_rng(grading.check_seed("a03.matmul_gradient", trial))
                n, d, m = (int(v) for v in rng.integers(1, 6, 3))
                a, b = rng.standard_normal((n, d)), rng.standard_normal((d, m))
                _rule_check("matmul_gradient", matmul_gradient, lambda g, p, q: g.matmul(p, q), [a, b],
                            rng.standard_normal((n, m)), [0, 1], f"a of shape {a.shape}, b of shape {b.shape}")
            print("ok: matmul_gradient agrees with the reference on 3 random shapes")
            """,
        "square_gradient": """
            for trial in range(3):
                rng = np.random.default_rng(grading.check_seed("a03.square_gradient", trial))
                shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 3))))
                _rule_check("square_gradient", square_gradient, lambda g, p: g.square(p), [rng.standard_normal(shape)],
                            rng.standard_normal(shape), [0], f"x of shape {shape}")
            print("ok: square_gradient agrees with the reference on 3 random shapes")
            """,
        "sigmoid_gradient": """
            for trial in range(3):
                rng = np.random.default_rng(grading.check_seed("a03.sigmoid_gradient", trial))
                shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 3))))
                _rule_check("sigmoid_gradient", sigmoid_gradient, lambda g, p: g.sigmoid(p), [3 * rng.standard_normal(shape)],
                            rng.standard_normal(shape), [0], f"x of shape {shape}")
            print("ok: sigmoid_gradient agrees with the reference on 3 random shapes")
            """,
    }
    for task, body in rule_cases.items():
        c.append(
            hidden_test(
                task,
                hidden(rule_helpers, body=_dedent(body)),
                points=1 if task in ("square_gradient", "sigmoid_gradient") else 2,
            )
        )

    # ---- 5b. SCE gradient
    sce_vals = reference_gradients(lambda g, z, y: g.softmax_cross_entropy(z, y), [LOGITS, LABELS], 1.0)
    sce_vals2 = reference_gradients(lambda g, z, y: g.softmax_cross_entropy(z, y), [LOGITS, LABELS], 2.5)
    c.append(
        markdown(
            r"""
            **Exercise 5b.** The gradient of the fused softmax-cross-entropy with respect to the logits is simple:

            $$\frac{\partial L}{\partial z} = \frac{\bar L}{N}\,\big(\mathrm{softmax}(z) - \mathrm{onehot}(y)\big), \qquad
              \bar L = \text{dout (a scalar)} .$$

            Build it with `g.softmax(logits)` (along the last axis), `g.one_hot(labels, logits)` (one-hot rows shaped
            like the logits) and `g.count(labels)` ($N$, as a node), plus `g.subtract`, `g.multiply`, `g.divide`.
            The labels are integers: no gradient flows to them, so return `None` in their place.
            """
        )
    )
    c.append(
        solution(
            "softmax_cross_entropy_gradient",
            '''
            def softmax_cross_entropy_gradient(g, node, dout):
                """loss = softmax_cross_entropy(logits, labels): [dout * (softmax(logits) - onehot(labels)) / N, None]."""
                ### BEGIN SOLUTION
                logits, labels = node.inputs
                residual = g.subtract(g.softmax(logits), g.one_hot(labels, logits))  # (N, C)
                return [g.divide(g.multiply(residual, dout), g.count(labels)), None]
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "softmax_cross_entropy_gradient",
            fill(
                """
                def sce_gradient_value(dout_value):
                    graph = Graph()
                    z, y, dout = graph.placeholder("logits"), graph.placeholder("labels"), graph.placeholder("dout")
                    grads = softmax_cross_entropy_gradient(graph, graph.softmax_cross_entropy(z, y), dout)
                    if not isinstance(grads, (list, tuple)) or len(grads) != 2:
                        raise AssertionError(f"softmax_cross_entropy_gradient must return [dlogits, None], got {grads!r}.")
                    if grads[1] is not None:
                        raise AssertionError("softmax_cross_entropy_gradient: the labels are integers and get no gradient; return None for them.")
                    if not isinstance(grads[0], Node):
                        raise AssertionError("softmax_cross_entropy_gradient: dlogits must be a graph node built with g.softmax, g.one_hot, ...")
                    return run_without_cache([grads[0]], {z: <<Z>>, y: <<Y>>, dout: dout_value})[0]

                dlogits = sce_gradient_value(1.0)
                grading.expect_shape("dlogits", dlogits, (3, 4), hint="one gradient per logit, shaped like the logits.")
                grading.expect_close("dlogits with dout = 1, row sums", dlogits.sum(axis=1), np.zeros(3), atol=1e-12,
                                     hint="each row of softmax - onehot sums to 0; did you subtract the one-hot of the labels?")
                grading.expect_close("dlogits with dout = 1", dlogits, <<G1>>,
                                     hint="(softmax(logits) - onehot(labels)) / N with N = 3 rows.")
                grading.expect_close("dlogits with dout = 2.5", sce_gradient_value(2.5), <<G2>>,
                                     hint="the upstream gradient dout multiplies the whole result.")
                """,
                Z=literal(LOGITS),
                Y=literal(LABELS),
                G1=literal(sce_vals[0]),
                G2=literal(sce_vals2[0]),
            ),
            points=2,
        )
    )
    c.append(
        hidden_test(
            "softmax_cross_entropy_gradient",
            hidden(
                rule_helpers,
                body="""
                for trial in range(3):
                    rng = np.random.default_rng(grading.check_seed("a03.softmax_cross_entropy_gradient", trial))
                    n, c = int(rng.integers(1, 7)), int(rng.integers(2, 9))
                    logits, labels = 3 * rng.standard_normal((n, c)), rng.integers(0, c, n)
                    _rule_check("softmax_cross_entropy_gradient", softmax_cross_entropy_gradient,
                                lambda g, z, y: g.softmax_cross_entropy(z, y), [logits, labels], float(rng.uniform(0.5, 3)),
                                [0], f"logits of shape {logits.shape}")
                    graph = Graph()
                    z, y = graph.placeholder("z"), graph.placeholder("y")
                    if softmax_cross_entropy_gradient(graph, graph.softmax_cross_entropy(z, y), graph.placeholder("d"))[1] is not None:
                        raise AssertionError("softmax_cross_entropy_gradient must return None for the integer labels.")
                print("ok: softmax_cross_entropy_gradient agrees with the reference on 3 random input sets")
                """,
            ),
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            ### The engine's local chain rule (given)

            `local_gradients(g, node, dout)` returns the gradient nodes of `node`'s inputs: your rule for the six
            operators above, the library's `node.op.gradient` for the others (their rules are written the same
            way; read `course/minitf/ops.py`).
            """
        )
    )
    c.append(
        code(
            '''
            GRADIENT_RULES = {
                ops.Add: add_gradient,
                ops.Multiply: multiply_gradient,
                ops.MatMul: matmul_gradient,
                ops.Square: square_gradient,
                ops.Sigmoid: sigmoid_gradient,
                ops.SoftmaxCrossEntropy: softmax_cross_entropy_gradient,
            }


            def local_gradients(g, node, dout):
                """[gradient node (or None) per input of node], given dout = dL/d(node)."""
                rule = GRADIENT_RULES.get(type(node.op), node.op.gradient)
                return rule(g, node, dout)
            '''
        )
    )

    # ---- 6. the backward walk ------------------------------------------------------------------------------
    vals = np.linspace(-2.0, 2.0, 5)
    c.append(
        markdown(
            r"""
            ## 6. The backward walk over the DAG

            `gradients(y, xs, grad_ys=None)` returns new nodes for $\partial y / \partial x$, one per `x` in `xs`.
            A node $u$ read by several consumers $v_1, \dots, v_k$ (or twice by one) influences $y$ along every
            path, and the chain rule **sums** the paths:

            $$\bar u = \sum_{j} \big(\text{rule of } v_j\big)\big(\bar v_j\big)\Big|_{\text{entry for } u} .$$

            So: seed $\bar y$ = `g.ones_like(y)` (or `grad_ys` when given: the result is then the vector-Jacobian
            product of `grad_ys` with $\partial y / \partial x$); walk `topological_order([y])` **in reverse**, so
            that a node is visited only after every consumer has sent its contribution; at each operator node ask
            `local_gradients(g, node, grads[node])` for its inputs' gradients and **add** each one (`g.add`) to what
            that input already has, never overwrite it. Skip leaves (`node.op is None`), nodes that received no
            gradient and `None` entries. An `x` that `y` does not depend on gets `g.zeros_like(x)`. Use `g = y.graph`.

            **Exercise 6.** `gradients(y, xs, grad_ys=None)`.
            """
        )
    )
    c.append(
        solution(
            "gradients",
            '''
            def gradients(y, xs, grad_ys=None):
                """Nodes for d(sum(y * grad_ys))/dx, one per x in xs (grad_ys defaults to ones shaped like y)."""
                ### BEGIN SOLUTION
                g = y.graph
                grads = {y: grad_ys if grad_ys is not None else g.ones_like(y)}
                for node in reversed(topological_order([y])):
                    if node not in grads or node.op is None:
                        continue
                    for inp, grad in zip(node.inputs, local_gradients(g, node, grads[node])):
                        if grad is None:
                            continue
                        # a node read along several paths gets the sum of their contributions
                        grads[inp] = g.add(grads[inp], grad) if inp in grads else grad
                return [grads[x] if x in grads else g.zeros_like(x) for x in xs]
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "gradients",
            fill(
                """
                x_values = <<X>>
                s = 1 / (1 + np.exp(-x_values))

                def gradient_of(build, wrt_names=("x",), feed_values=None, grad_ys=None):
                    graph = Graph()
                    holders = {name: graph.placeholder(name) for name in ["x", "z", "v"]}
                    y = build(graph, holders)
                    xs = [holders[name] for name in wrt_names]
                    grads = gradients(y, xs) if grad_ys is None else gradients(y, xs, holders["v"])
                    if not isinstance(grads, (list, tuple)) or len(grads) != len(wrt_names):
                        raise AssertionError(f"gradients must return a list with one node per x ({len(wrt_names)}), got {grads!r}.")
                    feed = {holders["x"]: x_values, holders["z"]: np.ones((2, 3)), holders["v"]: grad_ys}
                    return run(list(grads), {k: v for k, v in feed.items() if v is not None})

                # Isolation cases: each path alone.
                (d1,) = gradient_of(lambda g, p: g.sum(g.square(p["x"])))
                grading.expect_close("d sum(x^2) / dx (one path)", d1, 2 * x_values, hint="seed with g.ones_like(y) and apply the rules in reverse order (or check square_gradient).")
                (d2,) = gradient_of(lambda g, p: g.sum(g.sigmoid(p["x"])))
                grading.expect_close("d sum(sigmoid(x)) / dx (one path)", d2, s * (1 - s), hint="check the reverse topological walk (or sigmoid_gradient).")
                # x reaches y along two paths: the gradient is the sum of both.
                (d3,) = gradient_of(lambda g, p: g.sum(g.multiply(g.square(p["x"]), g.sigmoid(p["x"]))))
                grading.expect_close("d sum(x^2 * sigmoid(x)) / dx (two paths)", d3, 2 * x_values * s + x_values**2 * s * (1 - s),
                                     hint="each path alone was right, so a contribution is lost: add (g.add) to grads[inp], do not overwrite.")
                (d4,) = gradient_of(lambda g, p: g.sum(g.multiply(p["x"], p["x"])))
                grading.expect_close("d sum(x * x) / dx (x read twice by one node)", d4, 2 * x_values,
                                     hint="both inputs of the multiply are x: the two contributions must be added.")
                d5, dz = gradient_of(lambda g, p: g.sum(g.square(p["x"])), wrt_names=("x", "z"))
                grading.expect_close("d sum(x^2) / dz for a z that y does not read", dz, np.zeros((2, 3)),
                                     hint="an x that y does not depend on gets g.zeros_like(x).")
                v_values = np.array([1.0, -1.0, 2.0, 0.5, 0.0])
                (d6,) = gradient_of(lambda g, p: g.square(p["x"]), grad_ys=v_values)
                grading.expect_close("gradients(x^2, [x], grad_ys=v), the vector-Jacobian product", d6, 2 * x_values * v_values,
                                     hint="when grad_ys is given, it replaces ones_like(y) as the seed.")
                def doubling_chain(depth):
                    chain_graph = Graph()
                    top = x0 = chain_graph.placeholder("x0")
                    for k in range(depth):
                        top = chain_graph.add(top, top, name=f"x{k + 1}")
                    return chain_graph, x0, top

                chain_graph, x0, top = doubling_chain(8)
                (dx0,) = gradients(top, [x0])
                grading.expect_close("gradient at the bottom of a doubling chain of depth 8, 2^8 paths", run([dx0], {x0: np.array(0.3)})[0], 2.0**8,
                                     hint="every one of the 2^8 paths carries a gradient of 1 and they must all be added.")
                depth = 16
                chain_graph, x0, top = doubling_chain(depth)
                before = len(chain_graph.nodes)
                gradients(top, [x0])
                built = len(chain_graph.nodes) - before
                if built > 8 * depth:
                    raise AssertionError(f"gradients built {built} nodes for a chain of {depth} nodes: visit each node once, "
                                         "in reverse topological order, instead of following every path.")
                print(f"ok: the gradient graph of the doubling chain has {built} nodes (linear in the depth)")
                """,
                X=literal(vals),
            ),
            points=2,
        )
    )
    walk_body = """
        RefGraph = grading.reference("minitf.graph.Graph")
        RefSession = grading.reference("minitf.session.Session")
        for trial in range(4):
            seed = grading.check_seed("a03.gradients", trial)
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
            xs, ref_xs = [nodes[0], nodes[1], nodes[2], z], [ref_nodes[0], ref_nodes[1], ref_nodes[2], ref_z]
            got = gradients(y, xs) if seed_node is None else gradients(y, xs, seed_node)
            if not isinstance(got, (list, tuple)) or len(got) != 4:
                raise AssertionError("gradients must return one node per x (4 on a random graph).")
            feed = {nodes[0]: x_value, z: np.ones(3)}
            ref_feed = {ref_nodes[0]: x_value, ref_z: np.ones(3)}
            if seed_node is not None:
                feed[seed_node], ref_feed[ref_seed_node] = v_value, v_value
            got_values = _reference_values(list(got), feed)
            expected = RefSession(ref_dag).run(ref_dag.gradients(ref_y, ref_xs, ref_seed_node), ref_feed)
            for name, value, ref_value in zip(["x", "w", "c", "z (unused)"], got_values, expected):
                grading.check_with_reference("gradients", value, ref_value, what=f"the gradient of {name}",
                                             inputs=f"a random graph of {len(nodes)} nodes")
        # central differences on a small net through your rules: x -> sigmoid(x w1 + b) w2 -> softmax-CE
        rng = np.random.default_rng(grading.check_seed("a03.gradients", 99))
        graph = Graph()
        xv, yv = rng.standard_normal((5, 3)), rng.integers(0, 4, 5)
        w1v, bv, w2v = rng.standard_normal((3, 6)), rng.standard_normal(6), rng.standard_normal((6, 4))
        w1, b, w2 = graph.placeholder("w1"), graph.placeholder("b"), graph.placeholder("w2")
        hidden_node = graph.sigmoid(graph.add(graph.matmul(graph.constant(xv), w1), b))
        loss = graph.softmax_cross_entropy(graph.matmul(hidden_node, w2), graph.constant(yv))
        feed = {w1: w1v, b: bv, w2: w2v}
        analytic = _reference_values(gradients(loss, [w1, b, w2]), feed)
        for name, value, grad in zip(["w1", "b", "w2"], [w1v, bv, w2v], analytic):
            if np.shape(grad) != value.shape:
                raise AssertionError(f"gradients: d loss / d {name} of a small net has shape {np.shape(grad)}, expected {value.shape} "
                                     "(the walk, or a gradient rule it uses, returns the wrong shape).")
            numeric = numerical_gradient(lambda: float(_reference_values([loss], feed)[0]), value)
            err = rel_error(grad, numeric)
            if err > 1e-7:  # float64 centred differences
                raise AssertionError(f"gradients: d loss / d {name} of a small net differs from central differences "
                                     f"(relative error {err:.2e} > 1e-7).")
        print("ok: gradients agrees with the reference on 4 random graphs and with central differences on a small net")
    """
    c.append(
        hidden_test(
            "gradients",
            hidden(
                REF_VALUES,
                RANDOM_DAG,
                "from course.core.gradcheck import numerical_gradient, rel_error",
                body=_dedent(walk_body),
            ),
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            The forward graph of $y = \sum x^2 \sigma(x)$ and, in pink, the gradient nodes your walk added to it.
            What to see: `x` feeds two forward nodes, so two gradient contributions come back to it and one `add`
            node sums them; the sigmoid's rule reads the sigmoid node itself (an arrow from the forward part into
            the pink part), so nothing computed in the forward pass is recomputed.
            """
        )
    )
    c.append(
        code(
            """
            diamond = Graph()
            xd = diamond.placeholder("x")
            yd = diamond.sum(diamond.multiply(diamond.square(xd, name="x2"), diamond.sigmoid(xd, name="s"), name="x2_s"), name="y")
            forward_nodes = set(diamond.nodes)
            (dxd,) = gradients(yd, [xd])
            for node in diamond.nodes:
                node.is_gradient = node not in forward_nodes  # draw the nodes the walk built in pink
            draw_graph([yd, dxd], title="Forward DAG (white) and the backprop DAG built by gradients (pink)")
            plt.show()
            """
        )
    )

    # ---- 7. SGD --------------------------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 7. The SGD optimizer node, and training through the graph

            In the lecture, the DAG expert holds the variables, computes their gradients and applies
            $\text{Var} \mathrel{-}= \alpha\,\text{Grad}$. As a graph: `opt = sgd_optimizer(loss, learning_rate)` is a node
            whose inputs are the loss and the gradient nodes of every variable the loss depends on. Running it
            therefore computes the loss and all gradients first, from the *old* values; its evaluation (the
            `ops.SGDUpdate` branch of `evaluate`) then calls `sgd_update` and returns the loss.

            **Exercise 7a.** `sgd_update(variables, grads, learning_rate)`: for each variable node and its gradient
            value, `variable.value = variable.value - learning_rate * grad`. Rebind `variable.value` to the new array;
            do not modify it in place (`-=`), because a value fetched earlier in the same run is that very array
            and must keep the old numbers.
            """
        )
    )
    c.append(
        solution(
            "sgd_update",
            '''
            def sgd_update(variables, grads, learning_rate):
                """variable.value <- variable.value - learning_rate * grad for each pair (rebinds, never in place)."""
                ### BEGIN SOLUTION
                for variable, grad in zip(variables, grads):
                    variable.value = variable.value - learning_rate * grad
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "sgd_update",
            """
            graph = Graph()
            w, b = graph.variable("w", np.array([[1.0, -2.0], [0.5, 0.0]])), graph.variable("b", np.array([0.1, 0.2]))
            old_w = w.value
            sgd_update([w, b], [np.array([[1.0, 1.0], [-2.0, 0.0]]), np.array([1.0, -1.0])], 0.5)
            grading.expect_close("w after one step, lr = 0.5", w.value, np.array([[0.5, -2.5], [1.5, 0.0]]), hint="w - lr * dw.")
            grading.expect_close("b after one step, lr = 0.5", b.value, np.array([-0.4, 0.7]), hint="every variable gets its own gradient.")
            grading.expect_close("the old array of w", old_w, np.array([[1.0, -2.0], [0.5, 0.0]]),
                                 hint="the old array was changed in place: write variable.value = variable.value - lr * grad.")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "sgd_update",
            """
            RefUpdate = grading.reference("minitf.ops.SGDUpdate")
            for trial in range(3):
                rng = np.random.default_rng(grading.check_seed("a03.sgd_update", trial))
                shapes = [tuple(int(v) for v in rng.integers(1, 4, int(rng.integers(1, 3)))) for _ in range(int(rng.integers(1, 4)))]
                starts = [rng.standard_normal(shape) for shape in shapes]
                grads = [rng.standard_normal(shape) for shape in shapes]
                lr = float(rng.uniform(0.01, 1.0))
                graph, ref_graph = Graph(), Graph()
                mine = [graph.variable(f"v{k}", value) for k, value in enumerate(starts)]
                theirs = [ref_graph.variable(f"v{k}", value) for k, value in enumerate(starts)]
                olds = [v.value for v in mine]
                sgd_update(mine, [gr.copy() for gr in grads], lr)
                RefUpdate(theirs, lr).forward(0.0, *grads)
                for k, (v, ref_v, old, start) in enumerate(zip(mine, theirs, olds, starts)):
                    grading.check_with_reference("sgd_update", v.value, ref_v.value, what=f"variable {k} after the update",
                                                 inputs=f"{len(shapes)} variables, learning rate {lr:.3f}")
                    if not np.array_equal(old, start):
                        raise AssertionError("sgd_update modified a variable's old array in place; rebind variable.value instead.")
            print("ok: sgd_update agrees with the reference on 3 random sets of variables")
            """,
            points=2,
        )
    )
    rng = np.random.default_rng(1)
    xr = rng.standard_normal((6, 3))
    tr = rng.standard_normal((6, 1))
    wr0 = np.array([[0.5], [-1.0], [0.25]])
    rg = Graph()
    xp_, tp_ = rg.placeholder("x"), rg.placeholder("t")
    wv, bv = rg.variable("w", wr0), rg.variable("b", np.zeros(1))
    rloss = rg.mean(rg.square(rg.subtract(rg.add(rg.matmul(xp_, wv), bv), tp_)))
    ropt = rg.sgd_optimizer(rloss, learning_rate=0.1)
    rsess = Session(rg)
    rl0 = rsess.run(ropt, {xp_: xr, tp_: tr})
    w_after, b_after = wv.value.copy(), bv.value.copy()
    c.append(
        markdown(
            r"""
            **Exercise 7b.** `sgd_optimizer(loss, learning_rate)`: the variables are the nodes of
            `topological_order([loss])` whose `kind` is `'variable'`; their gradients come from your `gradients`; the
            node is `op_node(loss.graph, ops.SGDUpdate(variables, learning_rate), [loss, *grads])`. `op_node`, given
            below, adds a node holding an operator object to the graph: what every builder method does inside
            (steps 2 to 4 of the lecture's `graph_builder.add`).
            """
        )
    )
    c.append(
        code(
            '''
            def op_node(g, op, inputs, name=None):
                """A new node of g that applies the operator object op to the nodes inputs."""
                return g.apply(op, inputs, name)  # the builder's own step: a node holding op, reading inputs
            '''
        )
    )
    c.append(
        solution(
            "sgd_optimizer",
            '''
            def sgd_optimizer(loss, learning_rate):
                """A node whose run applies var -= learning_rate * dloss/dvar to every variable of loss; returns the loss."""
                ### BEGIN SOLUTION
                variables = [node for node in topological_order([loss]) if node.kind == "variable"]
                grads = gradients(loss, variables)
                return op_node(loss.graph, ops.SGDUpdate(variables, learning_rate), [loss, *grads])
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "sgd_optimizer",
            fill(
                """
                graph = Graph()
                x, t = graph.placeholder("x"), graph.placeholder("t")
                w, b = graph.variable("w", <<W0>>), graph.variable("b", np.zeros(1))
                other = graph.variable("other", np.ones(2))  # not part of the loss
                loss = graph.mean(graph.square(graph.subtract(graph.add(graph.matmul(x, w), b), t)))
                opt = sgd_optimizer(loss, learning_rate=0.1)
                if not isinstance(opt, Node):
                    raise AssertionError(f"sgd_optimizer must return a graph node, got {type(opt).__name__}.")
                feed = {x: <<X>>, t: <<T>>}
                (returned,) = run([opt], feed)
                grading.expect_close("the value of running opt", returned, <<L0>>,
                                     hint="the optimizer node returns the loss computed before the update.")
                grading.expect_close("w after one step", w.value, <<W1>>, hint="w - 0.1 * d loss / d w, with the gradient at the old w.")
                grading.expect_close("b after one step", b.value, <<B1>>, hint="every variable the loss reads is updated.")
                grading.expect_close("a variable the loss does not read", other.value, np.ones(2),
                                     hint="update only the variables in topological_order([loss]).")
                losses = [float(run([opt], feed)[0]) for _ in range(50)]
                if not losses[-1] < 0.5 * losses[0]:
                    raise AssertionError(f"50 more steps did not halve the loss: {losses[0]:.4f} -> {losses[-1]:.4f}.")
                print(f"ok: 50 more steps lower the loss from {losses[0]:.4f} to {losses[-1]:.4f}")
                """,
                W0=literal(wr0),
                X=literal(xr),
                T=literal(tr),
                L0=literal(rl0),
                W1=literal(w_after),
                B1=literal(b_after),
            ),
            points=2,
        )
    )
    c.append(
        hidden_test(
            "sgd_optimizer",
            hidden(
                REF_VALUES,
                body="""
                RefGraph = grading.reference("minitf.graph.Graph")
                RefSession = grading.reference("minitf.session.Session")

                def _net(graph_class, rng):
                    graph = graph_class()
                    n, d = int(rng.integers(3, 7)), int(rng.integers(2, 5))
                    x = graph.constant(rng.standard_normal((n, d)), name="x")
                    w1, w2 = graph.variable("w1", rng.standard_normal((1, d))), graph.variable("w2", rng.standard_normal(d))
                    unused = graph.variable("unused", rng.standard_normal(2))
                    loss = graph.mean(graph.exp(graph.tanh(graph.subtract(graph.tanh(graph.subtract(x, w1)), w2))))
                    return graph, loss, [w1, w2, unused]

                for trial in range(3):
                    seed = grading.check_seed("a03.sgd_optimizer", trial)
                    graph, loss, variables = _net(Graph, np.random.default_rng(seed))
                    ref_graph, ref_loss, ref_variables = _net(RefGraph, np.random.default_rng(seed))
                    lr = [0.05, 0.3, 1.0][trial]
                    opt = sgd_optimizer(loss, lr)
                    ref_opt = ref_graph.sgd_optimizer(ref_loss, lr)
                    session = RefSession(ref_graph)
                    for step in range(3):
                        (value,) = _reference_values([opt], {})
                        grading.check_with_reference("sgd_optimizer", value, session.run(ref_opt), what=f"the loss returned at step {step}",
                                                     inputs=f"a random two-variable graph, learning rate {lr}")
                    for name, v, ref_v in zip(["w1", "w2", "unused"], variables, ref_variables):
                        grading.check_with_reference("sgd_optimizer", v.value, ref_v.value, what=f"variable {name} after 3 steps",
                                                     inputs=f"a random two-variable graph, learning rate {lr}")
                print("ok: sgd_optimizer agrees with the reference over 3 steps on 3 random graphs")
                """,
            ),
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            ### A model trained through the graph engine matches the module version of assignment 02

            A two-layer net, $\mathrm{scores} = \mathrm{relu}(x W_1 + b_1) W_2 + b_2$ with the softmax-cross-entropy
            loss, trained by minibatch SGD on a 2-D spiral, twice, from the same initial weights and on the same
            minibatches: once through your graph engine (`sgd_optimizer` and `run`), once with the modules of
            assignment 02 (`course.layers.affine.Linear`, `course.layers.activations.ReLU`, `course.layers.losses.softmax_cross_entropy`,
            backward by hand). Both in float64. What to see: the two loss curves lie on top of each other (the
            printed differences are zero, or at the level of float64 rounding: both compute the same sums in the
            same order), and the decision regions of the graph-trained net follow the spiral arms.
            """
        )
    )
    c.append(
        code(
            """
            from course.layers.activations import ReLU
            from course.layers.affine import Linear
            from course.data import make_spirals
            from course.layers.losses import softmax_cross_entropy
            from course.core.module import Sequential
            from course.core.plots import plot_decision_boundary

            X_spiral, y_spiral = make_spirals(n_per_class=60, n_classes=3, noise=0.2, rng=np.random.default_rng(0), dtype=np.float64)
            hidden_size, lr, batch, steps = 32, 0.5, 32, 400
            module_net = Sequential(Linear(2, hidden_size, rng=1, dtype=np.float64), ReLU(), Linear(hidden_size, 3, rng=2, dtype=np.float64))
            init = module_net.state_dict()

            net = Graph()
            xs_, ys_ = net.placeholder("x", shape=(None, 2)), net.placeholder("labels", shape=(None,))
            w1, b1 = net.variable("w1", init["0.w"]), net.variable("b1", init["0.b"])
            w2, b2 = net.variable("w2", init["2.w"]), net.variable("b2", init["2.b"])
            scores = net.add(net.matmul(net.relu(net.add(net.matmul(xs_, w1), b1)), w2), b2, name="scores")
            train_step = sgd_optimizer(net.softmax_cross_entropy(scores, ys_, name="loss"), learning_rate=lr)

            graph_losses, module_losses = [], []
            for step in range(steps):
                idx = np.random.default_rng(100 + step).choice(len(X_spiral), batch, replace=False)
                xb, yb = X_spiral[idx], y_spiral[idx]
                graph_losses.append(float(run([train_step], {xs_: xb, ys_: yb})[0]))
                loss_value, dscores = softmax_cross_entropy(module_net.forward(xb), yb)
                module_net.zero_grad()
                module_net.backward(dscores)
                for _, param, grad in module_net.parameters():
                    param -= lr * grad
                module_losses.append(float(loss_value))

            final = module_net.state_dict()
            weight_gap = max(float(np.max(np.abs(node.value - final[key]))) for node, key in [(w1, "0.w"), (b1, "0.b"), (w2, "2.w"), (b2, "2.b")])
            fig, (ax1, ax3) = plt.subplots(1, 2, figsize=(12, 4))
            ax1.plot(graph_losses, lw=3, alpha=0.5, label="graph engine (your sgd_optimizer)")
            ax1.plot(module_losses, "k--", lw=1, label="modules of assignment 02")
            ax1.set_xlabel("SGD step")
            ax1.set_ylabel("minibatch softmax-cross-entropy loss")
            ax1.set_title("Training loss: graph engine vs modules")
            ax1.legend()
            plot_decision_boundary(lambda pts: run([scores], {xs_: pts})[0], X_spiral, y_spiral, ax=ax3,
                                   title="Decision regions of the graph-trained net")
            plt.show()
            train_accuracy = float(np.mean(run([scores], {xs_: X_spiral})[0].argmax(axis=1) == y_spiral))
            print(f"largest loss difference {np.max(np.abs(np.array(graph_losses) - np.array(module_losses))):.2e}, "
                  f"largest weight difference {weight_gap:.2e}, training accuracy {train_accuracy:.3f}")
            """
        )
    )

    # ---- 8. smooth max -------------------------------------------------------------------------------------
    sg = Graph()
    sx = sg.placeholder("x")
    s_vals = [Session(sg).run(sg.smooth_max(sx, a), {sx: X_MAX}) for a in (1.0, 10.0)]
    rows = np.array([[0.3, -1.2, 2.0, 1.9, 0.0], [1.0, 1.0, -1.0, 0.5, 0.25]])
    s_rows = Session(sg).run(sg.smooth_max(sx, 3.0), {sx: rows})
    c.append(
        markdown(
            r"""
            ## 8. Max as a limit: $x^\top \mathrm{softmax}(\alpha x)$

            The lecture's quiz: how do you build a max module (as in max pooling) from pieces we have? As
            $\alpha \to \infty$, $s = \mathrm{softmax}(\alpha x)$ tends to the one-hot vector of the arg-max, so

            $$y = x^\top \mathrm{softmax}(\alpha x) \xrightarrow{\alpha \to \infty} \max(x), \qquad
              \nabla_x = s\,\bar y + \alpha\big(\mathrm{diag}(s) - s s^\top\big) x\,\bar y
              \xrightarrow{\alpha \to \infty} [0, \dots, \bar y, \dots, 0] ,$$

            the gradient going to the arg-max alone, as the max module's gradient does. (As $\alpha \to 0$, $s$ is
            uniform and $y$ is the mean of $x$.)

            **Exercise 8.** `smooth_max(x, alpha)`: a node for $\sum_c x_c\, \mathrm{softmax}(\alpha x)_c$ along the last
            axis (so `x (N, C)` gives `(N,)`), built on `x.graph` with `g.multiply`, `g.softmax` and
            `g.sum(..., axis=-1)`. The gradient comes for free from your `gradients`.
            """
        )
    )
    c.append(
        solution(
            "smooth_max",
            '''
            def smooth_max(x, alpha):
                """Node for sum(x * softmax(alpha * x), axis=-1), which tends to max(x, axis=-1) as alpha grows."""
                ### BEGIN SOLUTION
                g = x.graph
                weights = g.softmax(g.multiply(alpha, x))
                return g.sum(g.multiply(x, weights), axis=-1)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "smooth_max",
            fill(
                """
                graph = Graph()
                xm = graph.placeholder("x")
                x_check = <<X>>
                y1, y10, y1000 = smooth_max(xm, 1.0), smooth_max(xm, 10.0), smooth_max(xm, 1000.0)
                if not isinstance(y1, Node):
                    raise AssertionError(f"smooth_max must return a graph node, got {type(y1).__name__}.")
                v1, v10, v1000 = run([y1, y10, y1000], {xm: x_check})
                grading.expect_close("smooth_max(x, 1)", v1, <<S1>>, hint="sum(x * softmax(alpha * x)): the weights are the softmax of alpha x, not of x.")
                grading.expect_close("smooth_max(x, 10)", v10, <<S10>>, hint="multiply x by alpha inside the softmax only.")
                grading.expect_close("smooth_max(x, 1000), close to max(x) = 2.0", v1000, 2.0,
                                     hint="g.softmax shifts by the max, so a large alpha must not overflow.")
                grading.expect_close("smooth_max of two rows, alpha = 3", run([smooth_max(xm, 3.0)], {xm: <<R>>})[0], <<SR>>,
                                     hint="softmax and sum along the last axis: one value per row.")
                alpha, dy = 2.5, 1.7
                (dx,) = gradients(smooth_max(xm, alpha), [xm], graph.constant(np.array(dy)))
                s = np.exp(alpha * x_check) / np.exp(alpha * x_check).sum()
                lecture_formula = s * dy + alpha * (np.diag(s) - np.outer(s, s)) @ x_check * dy
                grading.expect_close("gradient of smooth_max(x, 2.5) times 1.7", run([dx], {xm: x_check})[0], lecture_formula,
                                     hint="the lecture's formula s dy + alpha (diag(s) - s s^T) x dy; check the graph of smooth_max.")
                """,
                X=literal(X_MAX),
                S1=literal(s_vals[0]),
                S10=literal(s_vals[1]),
                R=literal(rows),
                SR=literal(s_rows),
            ),
            points=2,
        )
    )
    c.append(
        hidden_test(
            "smooth_max",
            hidden(
                REF_VALUES,
                body="""
                RefGraph = grading.reference("minitf.graph.Graph")
                RefSession = grading.reference("minitf.session.Session")
                for trial in range(4):
                    rng = np.random.default_rng(grading.check_seed("a03.smooth_max", trial))
                    shape = [(int(rng.integers(2, 8)),), (int(rng.integers(1, 5)), int(rng.integers(2, 8)))][trial % 2]
                    x_value, alpha = 2 * rng.standard_normal(shape), [0.5, 3.0, 20.0, 500.0][trial]
                    graph, ref_graph = Graph(), RefGraph()
                    xm, ref_x = graph.placeholder("x"), ref_graph.placeholder("x")
                    y = smooth_max(xm, alpha)
                    if not isinstance(y, Node) or y.graph is not graph:
                        raise AssertionError("smooth_max must return a node of x's graph (use g = x.graph).")
                    (value,) = _reference_values([y], {xm: x_value})
                    expected = RefSession(ref_graph).run(ref_graph.smooth_max(ref_x, alpha), {ref_x: x_value})
                    grading.check_with_reference("smooth_max", value, expected, inputs=f"x of shape {shape}, alpha = {alpha}")
                print("ok: smooth_max agrees with the reference on 4 random inputs")
                """,
            ),
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            Left: $y = x^\top \mathrm{softmax}(\alpha x)$ over $\alpha$ for $x$ = `[0.3, -1.2, 2.0, 1.9, 0.0]`. Right: the
            five entries of its gradient $\partial y / \partial x$. What to see: for small $\alpha$, $y$ is near the mean of
            $x$ (0.6); as $\alpha$ grows it rises quickly to about 1.95, the average of the two largest entries, then
            slowly to $\max(x) = 2$ because the runner-up 1.9 is so close. The gradient becomes the one-hot vector of
            the arg-max (entry 2 goes to 1, all others to 0). Near $\alpha \approx 10$ the gradient of the runner-up is
            negative: raising $x_3$ steals weight from the larger $x_2$.
            """
        )
    )
    c.append(
        code(
            """
            x_demo = np.array([0.3, -1.2, 2.0, 1.9, 0.0])
            alphas = np.logspace(-2, 3, 60)
            graph = Graph()
            xm = graph.placeholder("x")
            values, grads = [], []
            for alpha in alphas:
                y = smooth_max(xm, float(alpha))
                (dx,) = gradients(y, [xm])
                y_value, dx_value = run([y, dx], {xm: x_demo})
                values.append(float(y_value))
                grads.append(dx_value)
            grads = np.array(grads)
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
            ax1.semilogx(alphas, values, label="$x^T$ softmax($\\\\alpha x$)")
            ax1.axhline(x_demo.max(), color="0.4", ls="--", label="max(x) = 2.0")
            ax1.axhline(x_demo.mean(), color="0.7", ls=":", label="mean(x) = 0.6")
            ax1.set_xlabel("$\\\\alpha$ (log scale)")
            ax1.set_ylabel("y")
            ax1.set_title("Smooth max tends to the max")
            ax1.legend()
            for k in range(len(x_demo)):
                ax2.semilogx(alphas, grads[:, k], label=f"dy/dx[{k}] (x[{k}] = {x_demo[k]})")
            ax2.set_xlabel("$\\\\alpha$ (log scale)")
            ax2.set_ylabel("gradient entry")
            ax2.set_title("Its gradient tends to the one-hot of the arg-max")
            ax2.legend(fontsize=8)
            plt.show()
            print(f"alpha = 1000: y = {values[-1]:.6f}, gradient = {grads[-1].round(6).tolist()}")
            """
        )
    )

    # ---- 9. second order -----------------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 9. Gradients of gradients

            Your gradient rules build graph nodes, so `gradients` returns ordinary nodes of the graph, and they can
            be differentiated again (lecture: `tf.gradients`, second-order derivatives; *learning to learn by
            gradient descent by gradient descent* differentiates through a whole training run this way). Two uses:

            - repeated derivatives: `(d1,) = gradients(g.sum(sigmoid(x)), [x])`, then `(d2,) = gradients(g.sum(d1), [x])`;
              for the sigmoid, $\sigma' = \sigma(1-\sigma)$, $\sigma'' = \sigma(1-\sigma)(1-2\sigma)$,
              $\sigma''' = \sigma(1-\sigma)(1 - 6\sigma + 6\sigma^2)$;
            - a **Hessian-vector product** $H v = \nabla_w\big(\nabla_w L \cdot v\big)$, without ever forming the Hessian $H$:
              differentiate the scalar `sum(dw * v)` with respect to `w` again.

            There is nothing new to write: the tests below grade your rules and walk on second derivatives.
            """
        )
    )
    c.append(
        visible_test(
            "second_order",
            """
            graph = Graph()
            xs2 = graph.placeholder("x")
            (d1,) = gradients(graph.sum(graph.sigmoid(xs2)), [xs2])
            (d2,) = gradients(graph.sum(d1), [xs2])
            (d3,) = gradients(graph.sum(d2), [xs2])
            x_values = np.linspace(-4.0, 4.0, 9)
            s = 1 / (1 + np.exp(-x_values))
            v1, v2, v3 = run([d1, d2, d3], {xs2: x_values})
            grading.expect_close("first derivative of sigmoid", v1, s * (1 - s), hint="section 5's sigmoid rule.")
            grading.expect_close("second derivative of sigmoid", v2, s * (1 - s) * (1 - 2 * s),
                                 hint="the gradient graph must be made of graph ops (g.multiply, g.subtract) so it can be differentiated.")
            grading.expect_close("third derivative of sigmoid", v3, s * (1 - s) * (1 - 6 * s + 6 * s**2),
                                 hint="every rule used inside the gradient graph (multiply, subtract, sum_to) is differentiated again.")
            graph = Graph()
            w = graph.placeholder("w")
            v = graph.placeholder("v")
            loss = graph.sum(graph.square(graph.square(w)))  # sum(w^4): Hessian diag(12 w^2)
            (dw,) = gradients(loss, [w])
            (hv,) = gradients(graph.sum(graph.multiply(dw, v)), [w])
            w_values, v_values = np.array([1.0, -0.5, 2.0]), np.array([1.0, 2.0, -1.0])
            grading.expect_close("Hessian-vector product of sum(w^4)", run([hv], {w: w_values, v: v_values})[0],
                                 12 * w_values**2 * v_values, hint="differentiate sum(dw * v) with respect to w.")
            """,
            points=2,
        )
    )
    c.append(
        hidden_test(
            "second_order",
            hidden(
                REF_VALUES,
                body="""
                RefGraph = grading.reference("minitf.graph.Graph")
                RefSession = grading.reference("minitf.session.Session")

                def _hvp_graph(graph_class, rng, walk):
                    graph = graph_class()
                    n, d, h, c = int(rng.integers(3, 7)), int(rng.integers(2, 5)), int(rng.integers(2, 6)), int(rng.integers(2, 5))
                    x, labels = graph.constant(rng.standard_normal((n, d))), graph.constant(rng.integers(0, c, n))
                    w1, w2, v1, v2 = (graph.placeholder(name) for name in ["w1", "w2", "v1", "v2"])
                    loss = graph.softmax_cross_entropy(graph.matmul(graph.sigmoid(graph.matmul(x, w1)), w2), labels)
                    dw1, dw2 = walk(graph, loss, [w1, w2])
                    hv = walk(graph, graph.add(graph.sum(graph.multiply(dw1, v1)), graph.sum(graph.multiply(dw2, v2))), [w1, w2])
                    feed_values = [rng.standard_normal((d, h)), rng.standard_normal((h, c)), rng.standard_normal((d, h)), rng.standard_normal((h, c))]
                    return hv, dict(zip([w1, w2, v1, v2], feed_values))

                for trial in range(2):
                    seed = grading.check_seed("a03.second_order", trial)
                    hv, feed = _hvp_graph(Graph, np.random.default_rng(seed), lambda graph, y, xs: gradients(y, xs))
                    ref_hv, ref_feed = _hvp_graph(RefGraph, np.random.default_rng(seed), lambda graph, y, xs: graph.gradients(y, xs))
                    got = _reference_values(list(hv), feed)
                    expected = RefSession(ref_hv[0].graph).run(list(ref_hv), ref_feed)
                    for name, value, ref_value in zip(["w1", "w2"], got, expected):
                        grading.check_with_reference("gradients of gradients", value, ref_value,
                                                     what=f"the Hessian-vector product for {name}", inputs="a random two-layer net")
                print("ok: Hessian-vector products through your rules and walk agree with the reference on 2 random nets")
                """,
            ),
            points=3,
        )
    )
    c.append(
        markdown(
            r"""
            The Hessian-vector product of a small net's loss (a sigmoid hidden layer, softmax-cross-entropy) against
            central differences of its gradient,
            $H v \approx \big(\nabla L(w + \varepsilon v) - \nabla L(w - \varepsilon v)\big) / 2\varepsilon$, over the step $\varepsilon$.
            What to see: a V. On the right the truncation error of the centred difference shrinks like
            $\varepsilon^2$; on the left float64 rounding, about $10^{-16} / \varepsilon$, takes over. At the bottom the
            two agree to about $10^{-10}$: the graph's exact product is the reference the difference quotient approaches.
            """
        )
    )
    c.append(
        code(
            """
            rng = np.random.default_rng(0)
            graph = Graph()
            x_h, labels_h = graph.constant(rng.standard_normal((8, 4))), graph.constant(rng.integers(0, 3, 8))
            w1_h, w2_h, v1_h, v2_h = (graph.placeholder(name) for name in ["w1", "w2", "v1", "v2"])
            loss_h = graph.softmax_cross_entropy(graph.matmul(graph.sigmoid(graph.matmul(x_h, w1_h)), w2_h), labels_h)
            dw1_h, dw2_h = gradients(loss_h, [w1_h, w2_h])
            hv1_h, hv2_h = gradients(graph.add(graph.sum(graph.multiply(dw1_h, v1_h)), graph.sum(graph.multiply(dw2_h, v2_h))), [w1_h, w2_h])
            w1_value, w2_value = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
            v1_value, v2_value = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
            exact = np.concatenate([a.ravel() for a in run([hv1_h, hv2_h], {w1_h: w1_value, w2_h: w2_value, v1_h: v1_value, v2_h: v2_value})])

            steps_eps = np.logspace(-12, -1, 23)
            errors = []
            for eps in steps_eps:
                plus = run([dw1_h, dw2_h], {w1_h: w1_value + eps * v1_value, w2_h: w2_value + eps * v2_value})
                minus = run([dw1_h, dw2_h], {w1_h: w1_value - eps * v1_value, w2_h: w2_value - eps * v2_value})
                numeric = np.concatenate([((p - m) / (2 * eps)).ravel() for p, m in zip(plus, minus)])
                errors.append(np.max(np.abs(numeric - exact)) / np.max(np.abs(exact)))
            fig, ax = plt.subplots(figsize=(6, 3.8))
            ax.loglog(steps_eps, errors, "o-")
            ax.set_xlabel("finite-difference step $\\\\varepsilon$ (log scale)")
            ax.set_ylabel("relative error vs the graph's $Hv$ (log scale)")
            ax.set_title("Hessian-vector product: graph vs central differences")
            plt.show()
            best = int(np.argmin(errors))
            print(f"smallest relative error {errors[best]:.1e} at eps = {steps_eps[best]:.0e}")
            """
        )
    )
    c.append(
        markdown(
            r"""
            ## Summary

            A deep-learning framework is two small ideas. The DAG expert needs only the dependency lists: a
            topological order to run each node once per run (the cache), and the same order reversed to send
            gradients back, summing over every path. The operator experts need only their local maths, a forward
            rule and a chain rule. Writing the chain rules as graph operations made gradients graphs too, which gave
            an optimizer node and second derivatives with no extra machinery. Assignment 04 goes back to the module
            library to study what makes deep nets train: optimizers, initialisation, dropout and batch norm.
            """
        )
    )
    return c


def main(argv: list[str] | None = None) -> int:
    return generator_main(cells, ASSIGNMENT, argv)


if __name__ == "__main__":
    raise SystemExit(main())
