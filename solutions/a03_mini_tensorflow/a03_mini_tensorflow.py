# %% [markdown]
# # Assignment 03: build a mini TensorFlow
#
# A framework like TensorFlow splits deep learning between two kinds of experts (lecture 000):
#
# - the **computational-graph expert** (the *DAG expert*) knows only which node reads which, the
#   graph's *dependency lists*. From them alone it orders the nodes, runs them (computing each value once
#   per run) and walks the graph backwards to build gradients;
# - the **operator experts** know only their own maths: a forward formula and its local chain rule.
#
# The library `course.minitf` gives you the graph *builder*. `g = Graph()`, then `g.placeholder`,
# `g.variable`, `g.constant`, and one method per operator: `c = g.add(a, b)` (1) creates the operator
# `Add`, (2) creates a `Node` holding it, (3) sets the node's dependencies `c.inputs` to the nodes of `a`
# and `b` and (4) returns that node. Building computes nothing.
#
# You will write, in this notebook, everything that makes the graph run and learn:
#
# 1. the forward rules of six operators: add, multiply, matmul, square, sigmoid, softmax-cross-entropy;
# 2. `topological_order(fetches)` from the dependency lists;
# 3. `run(fetches, feed_dict)`, which evaluates every node it needs exactly once (a per-run cache);
# 4. the gradient rules of the six operators, written with graph operations;
# 5. `gradients(y, xs)`, the backward walk over the DAG, summing over every path;
# 6. an SGD optimizer node, used to train a net that matches the module version of assignment 02;
# 7. `smooth_max(x, alpha)` $= x^\top \mathrm{softmax}(\alpha x)$, which tends to $\max(x)$;
# 8. and, for free, gradients of gradients: a Hessian-vector product.
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
# a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
# the reference on fresh random graphs when the course grader runs it. Both carry points. Do not edit,
# copy or delete test cells. Use NumPy and the builder of `course.minitf` (`Graph`, `Node`, `ops`): in the
# grader, the library's own versions of what you write here raise `NotImplementedError`, and so do
# `Session` and the library's `run`, `gradients` and `sgd_optimizer` (in `course.minitf.session`), which
# rely on them.
#
# Shapes: $N$ batch, $D$ input features, $M$ outputs, $C$ classes.

# %%
import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import get_array_module  # noqa: F401  (NumPy or CuPy: the filled-in rules use it)
from course.minitf import ops
from course.minitf.draw import draw_graph
from course.minitf.graph import Graph, Node

# %% [markdown]
# ## 1. Building a graph (nothing to write)
#
# Every node has a `name`, a `kind` (`'placeholder'`, `'variable'`, `'constant'` or `'op'`), an `op` (the
# operator object, e.g. an `ops.Add()`, for kind `'op'`), its dependency list `inputs` (the nodes whose
# values its operator reads, in order) and, for variables and constants, a `value`. A Python number
# passed to a builder method becomes a constant, and `+ - * / @` on nodes call the builder.
# `g.mean` is built from `g.sum` and a division, so it needs no rule of its own.
#
# Below, a one-layer net $h = \sigma(x W + b)$ with the loss $\mathrm{mean}(h^2)$. What to see: the list
# of nodes, each with the nodes it reads; `matmul_1` reads `x` and `w`, and so on up to `loss`.

# %%
g = Graph()
x = g.placeholder("x", shape=(None, 3))  # fed at run time; None matches any batch size
w = g.variable("w", np.full((3, 2), 0.5))  # a trainable value
b = g.variable("b", np.array([0.1, -0.1]))
h = g.sigmoid(g.add(g.matmul(x, w), b), name="h")
loss = g.mean(g.square(h), name="loss")
for node in g.nodes:
    op_name = type(node.op).__name__
    print(f"{node.name:>10}  {node.kind:<11}  op {op_name:<8}  reads {[i.name for i in node.inputs]}")


# %% [markdown]
# ## 2. Operator experts: forward rules
#
# An operator's forward rule maps the values of its inputs to its output value. Write the rules of five
# operators as functions of arrays; the engine below looks them up by operator class.
#
# | operator | rule | shapes |
# | --- | --- | --- |
# | `Add` | $a + b$ | NumPy broadcasting: `a (N, D) + b (D,)` adds `b` to every row |
# | `Multiply` | $a \odot b$, element-wise | broadcasting; either side may be a Python number |
# | `MatMul` | $a\,b$ | `a (N, D)`, `b (D, M)` $\to$ `(N, M)` |
# | `Square` | $x^2$ | element-wise |
# | `Sigmoid` | $\sigma(x) = 1 / (1 + e^{-x})$ | element-wise |
#
# The sigmoid must not overflow: for $x = -1000$, $e^{-x} = e^{1000}$ is `inf` (with a warning). Since
# $1 + e^{-x} = e^{\log(e^0 + e^{-x})}$, $\sigma(x) = \exp(-\mathrm{logaddexp}(0, -x))$, and NumPy's
# `np.logaddexp` computes $\log(e^a + e^b)$ without overflow. Keep the input's dtype (float32 in, float32
# out).
#
# **Exercise 2a.** `add_forward`, `multiply_forward`, `matmul_forward`, `square_forward`, `sigmoid_forward`.

# %% nbgrader={"grade": false, "grade_id": "forward_rules", "locked": false, "schema_version": 3, "solution": true}
def add_forward(a, b):
    """out = a + b with broadcasting. a, b: arrays (or numbers) of broadcastable shapes."""
    ### BEGIN SOLUTION a03.add_forward
    ### END SOLUTION


def multiply_forward(a, b):
    """out = a * b element-wise with broadcasting; either may be a Python number."""
    ### BEGIN SOLUTION a03.multiply_forward
    ### END SOLUTION


def matmul_forward(a, b):
    """out = a @ b. a: (N, D), b: (D, M). Returns (N, M)."""
    ### BEGIN SOLUTION a03.matmul_forward
    ### END SOLUTION


def square_forward(x):
    """out = x ** 2 element-wise."""
    ### BEGIN SOLUTION a03.square_forward
    ### END SOLUTION


def sigmoid_forward(x):
    """out = 1 / (1 + exp(-x)) element-wise, without overflow for any finite x."""
    ### BEGIN SOLUTION a03.sigmoid_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "forward_rules_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
a_check = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
b_row = np.array([0.5, 1.0, -2.0])
grading.expect_close("add_forward(a, b) with a (2, 3), b (3,)", add_forward(a_check, b_row),
                     np.array([[1.5, -1.0, -1.5], [3.5, 1.0, -3.0]]),
                     hint="b is added to every row of a: a + b broadcasts.")
grading.expect_close("multiply_forward(a, b) with a (2, 3), b (3,)", multiply_forward(a_check, b_row),
                     np.array([[0.5, -2.0, -1.0], [1.5, 0.0, 2.0]]),
                     hint="element-wise product a * b (not a matrix product).")
grading.expect_close("multiply_forward(2.0, a)", multiply_forward(2.0, a_check), 2.0 * a_check,
                     hint="a Python number on the left must work too: 2.0 * a.")
grading.expect_close("square_forward(a)", square_forward(a_check),
                     np.array([[1.0, 4.0, 0.25], [9.0, 0.0, 1.0]]),
                     hint="x * x, element by element.")
w_check = np.array([[1.0, 0.0, -1.0, 2.0], [0.5, -0.5, 1.0, 0.0], [-1.0, 2.0, 0.0, 1.0]])
grading.expect_shape("matmul_forward(a (2, 3), w (3, 4))", matmul_forward(a_check, w_check), (2, 4),
                     hint="(N, D) @ (D, M) gives (N, M); use a @ b, not a * b.")
grading.expect_close("matmul_forward(a, w)", matmul_forward(a_check, w_check),
                     np.array([[-0.5, 2.0, -3.0, 2.5], [4.0, -2.0, -3.0, 5.0]]), hint="a @ w.")
x_sigmoid = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 3.0])
grading.expect_close("sigmoid_forward at -3, -1, 0, 0.5, 2, 3", sigmoid_forward(x_sigmoid),
                     np.array([0.04742587318, 0.2689414214, 0.5, 0.6224593312, 0.880797078, 0.9525741268]),
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
                     np.dtype("float32"),
                     hint="do not build float64 arrays inside; numbers like 0 and 1 keep the dtype.")

# %% nbgrader={"grade": true, "grade_id": "forward_rules_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run(
    "a03.forward_rules", add_forward, multiply_forward, matmul_forward, square_forward, sigmoid_forward
)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 2b.** The fused softmax-cross-entropy: logits $z$ `(N, C)` (float), integer labels $y$ `(N,)`,
#
# $$L = -\frac{1}{N}\sum_{n} \log \mathrm{softmax}(z_n)_{y_n}, \qquad
#   \log \mathrm{softmax}(z)_c = (z_c - m) - \log \sum_j e^{z_j - m}, \quad m = \max_j z_j .$$
#
# Subtracting the row's max leaves the softmax unchanged and keeps every exponent $\le 0$. Without it, the
# lecture's example overflows: float32 logits up to 300 over 1000 classes, where $e^{z}$ is `inf` for any
# $z > 88$ (in float64 the limit is 709). Keep the logits' dtype.
# Pick each row's label entry with integer indexing, `log_probs[np.arange(N), labels]`. Returns a scalar.

# %% nbgrader={"grade": false, "grade_id": "softmax_cross_entropy_forward", "locked": false, "schema_version": 3, "solution": true}
def softmax_cross_entropy_forward(logits, labels):
    """Mean over N of -log softmax(logits)[label]; logits (N, C) float, labels (N,) int; returns a scalar."""
    ### BEGIN SOLUTION a03.softmax_cross_entropy_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "softmax_cross_entropy_forward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
logits_check = np.array([[2.0, 1.0, 0.1, -1.0], [0.5, 2.5, -0.3, 0.0], [-1.0, 0.0, 1.0, 3.0]])
labels_check = np.array([0, 2, 3])
# Isolation case: all-zero logits make every class equally likely, so the loss is log C.
grading.expect_close("loss for all-zero logits, C = 4",
                     softmax_cross_entropy_forward(np.zeros((3, 4)), labels_check), np.log(4.0),
                     hint="with equal logits softmax is 1/C everywhere: -log(1/C) = log C. "
                     "Average over N, do not sum.")
grading.expect_close("loss for 3 rows, 4 classes", softmax_cross_entropy_forward(logits_check, labels_check),
                     1.226657344,
                     hint="take log softmax at each row's label, sum the negatives and divide by N.")
# The lecture's case: float32 logits in [0, 300] over 1000 classes (exp overflows float32 above 88).
big_logits = np.random.default_rng(0).uniform(0.0, 300.0, (4, 1000)).astype(np.float32)
big_labels = np.random.default_rng(1).integers(0, 1000, 4)
with np.errstate(over="raise", invalid="raise"):
    try:
        big_loss = softmax_cross_entropy_forward(big_logits, big_labels)
    except FloatingPointError as err:
        raise AssertionError(f"softmax_cross_entropy_forward overflowed for float32 logits up to 300 "
                             f"({err}). Hint: subtract each row's max before exp.") from None
grading.expect_close("loss for float32 logits in [0, 300] over 1000 classes", big_loss, 146.0653534,
                     rtol=1e-5, hint="the max-shift must be per row (axis=1, keepdims=True).")

# %% nbgrader={"grade": true, "grade_id": "softmax_cross_entropy_forward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.softmax_cross_entropy_forward", softmax_cross_entropy_forward)
### END HIDDEN TESTS

# %% [markdown]
# ### The engine's evaluation step (given)
#
# `evaluate(node, input_values, feed_dict, counts)` computes one node's value once its inputs' values are
# known: a placeholder reads `feed_dict`, a variable or constant returns `node.value`, and an operator
# applies its forward rule: yours (looked up in `FORWARD_RULES` by the operator's class) for the operators
# of this assignment, the library's own `node.op.forward` for all the others (`Subtract`, `Tanh`, `Sum`,
# `Softmax`, ...). The optimizer node of section 7 is handled by `sgd_update`, which you write there.
# `counts`, a dict, records how many times each node was evaluated.
#
# `run_without_cache` evaluates the fetches by plain recursion: a node's inputs first, then the node.
# It is correct, but it has no memory: a node reached along $k$ paths is computed $k$ times.

# %%
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


# %% [markdown]
# The one-layer net of section 1, run on two inputs. What to see: `h` has shape `(2, 2)` and the loss is a
# scalar; `h` and everything below it were evaluated three times: once for the fetch `h`, and twice inside
# `loss`, whose `sum` and `count` both read `square_3`. Nothing is remembered between the paths.

# %%
demo_counts = {}
x_two_rows = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])
h_value, loss_value = run_without_cache([h, loss], {x: x_two_rows}, demo_counts)
print("h =", h_value.round(4).tolist(), " loss =", round(float(loss_value), 6))
print("evaluations per node:", {node.name: k for node, k in demo_counts.items()})

# %% [markdown]
# ## 3. The DAG expert: topological order
#
# The lecture's question: which data structure represents the graph? We need `Session.run(any_node)`, so
# each node keeps its **list of dependencies**. To evaluate the nodes that some fetches need, each exactly
# once, list them in a **topological order**: every node the fetches depend on (the fetches included), each
# once, and every node after all of its inputs.
#
# Depth-first search gives one: visit a node's inputs first, then append the node (post-order), and keep a
# set of the nodes already seen so a shared node is listed once. Write it without recursion: the gradient
# graph of a deep chain is deeper than Python's recursion limit (1000 frames), and a chain of 5000 nodes is
# in the test. An explicit stack of `(node, index of the next input to visit)` pairs does it.
#
# The builder below follows the lecture's dependency list `A: [B, C, E], B: [D, H], C: [E], D: [E, H],
# E: [G, J]` (the builder's operators take two inputs, so `A` reads `BC` = `B * C` and `E`).
#
# **Exercise 3.** `topological_order(fetches)` returns a list of nodes.

# %%
lecture = Graph()
G, J, H = lecture.placeholder("G"), lecture.placeholder("J"), lecture.placeholder("H")
E = lecture.multiply(G, J, name="E")
D = lecture.add(E, H, name="D")
C = lecture.tanh(E, name="C")
B = lecture.multiply(D, H, name="B")
BC = lecture.multiply(B, C, name="BC")
A = lecture.add(BC, E, name="A")
lecture_feed = {G: np.array([0.5, -1.0, 2.0]), J: np.array([1.5, 0.5, -0.5]), H: np.array([0.2, 0.4, -0.3])}


# %% nbgrader={"grade": false, "grade_id": "topological_order", "locked": false, "schema_version": 3, "solution": true}
def topological_order(fetches):
    """Every node the fetches depend on (fetches included), each once and after all of its inputs."""
    ### BEGIN SOLUTION a03.topological_order
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "topological_order_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
def check_order(order, needed, what):
    if not isinstance(order, list):
        raise AssertionError(f"topological_order({what}) returned a {type(order).__name__}, "
                             "expected a list of nodes.")
    names = [getattr(node, "name", repr(node)) for node in order]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise AssertionError(f"topological_order({what}) lists {repeated} more than once. "
                             "Hint: keep a set of the nodes already seen and skip them.")
    missing, extra = sorted(set(needed) - set(names)), sorted(set(names) - set(needed))
    if missing:
        raise AssertionError(f"topological_order({what}) misses {missing}. Hint: visit every input of every "
                             "node, down to the leaves, and include the fetches themselves.")
    if extra:
        raise AssertionError(f"topological_order({what}) lists {extra}, which the fetches do not need. "
                             "Hint: start only from the fetches and follow node.inputs.")
    position = {node: k for k, node in enumerate(order)}
    for node in order:
        for inp in node.inputs:
            if position[inp] > position[node]:
                raise AssertionError(f"topological_order({what}) puts {node.name!r} before its input "
                                     f"{inp.name!r}. Hint: append a node only after all of its inputs are "
                                     "appended (post-order).")
    print(f"ok: topological_order({what}) lists the {len(needed)} needed nodes once each, inputs first")

check_order(topological_order([A]), ["G", "J", "H", "E", "D", "C", "B", "BC", "A"], "[A]")
check_order(topological_order([B, C]), ["G", "J", "H", "E", "D", "B", "C"], "[B, C]")
check_order(topological_order([C, E, C]), ["G", "J", "E", "C"], "[C, E, C]")
check_order(topological_order([G]), ["G"], "[G]")
chain_graph = Graph()
chain = [chain_graph.placeholder("x0")]
for k in range(5000):
    chain.append(chain_graph.tanh(chain[-1], name=f"x{k + 1}"))
try:
    deep = topological_order([chain[-1]])
except RecursionError:
    raise AssertionError("topological_order hit Python's recursion limit on a chain of 5000 nodes. Hint: "
                         "replace recursion by an explicit stack of (node, next input index).") from None
grading.expect_equal("len(topological_order(chain of 5001 nodes))", len(deep), 5001)
grading.expect_equal("first and last node of the chain's order", (deep[0].name, deep[-1].name),
                     ("x0", "x5000"))

# %% nbgrader={"grade": true, "grade_id": "topological_order_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.topological_order", topological_order)
### END HIDDEN TESTS

# %% [markdown]
# `draw_graph` (in `course.minitf.draw`) lays a graph out by depth, using a topological order. In your
# edition of the library that order is the function you just wrote (the library's own raises
# `NotImplementedError`), so the next line plugs yours in: `order=topological_order`. What to see: the
# leaves `G`, `J`, `H` at depth 0; every arrow points up, from an input to the node that reads it; `E` is
# read by three nodes (`D`, `C` and `A`) and `H` by two: these are the shared nodes.

# %%
draw_graph([A], order=topological_order,
           title="The lecture's graph: arrows go from an input to the node that reads it")
plt.show()


# %% [markdown]
# ## 4. Running a graph: one evaluation per node per run
#
# The lecture's `Session.run([B, C])` written as `for node in [B, C]: run(node)` evaluates `E` twice: once
# for `B` and once for `C`. The fix is a **per-run cache**: evaluate the nodes of
# `topological_order(fetches)` in order, storing each value in a dict; when a node comes up, its inputs
# are already in the dict. The cache lives for one call only: between runs the variables change (the
# optimizer updates them) and the placeholders are fed anew.
#
# **Exercise 4.** `run(fetches, feed_dict=None, counts=None)`: `fetches` is a list of nodes; return the list
# of their values, in the same order. Evaluate each needed node exactly once with
# `evaluate(node, input_values, feed_dict, counts)`.

# %% nbgrader={"grade": false, "grade_id": "session_run", "locked": false, "schema_version": 3, "solution": true}
def run(fetches, feed_dict=None, counts=None):
    """Values of the nodes in the list fetches; each needed node is evaluated once (a per-run cache)."""
    ### BEGIN SOLUTION a03.session_run
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "session_run_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
counts = {}
result = run([B, C], lecture_feed, counts)
grading.expect_equal("type of run([B, C], feed)", type(result).__name__, "list",
                     hint="return a list of values, one per fetch, in the order of the fetches.")
grading.expect_equal("len(run([B, C], feed))", len(result), 2)
grading.expect_close("value of B", result[0], np.array([0.19, -0.04, 0.39]), hint="B = (G * J + H) * H.")
value_of_c = np.array([0.6351489524, -0.4621171573, -0.761594156])
grading.expect_close("value of C", result[1], value_of_c, hint="C = tanh(G * J).")
evaluated = {node.name: k for node, k in counts.items()}
grading.expect_equal("nodes evaluated by run([B, C])", sorted(evaluated), ["B", "C", "D", "E", "G", "H", "J"],
                     hint="pass counts to evaluate, and evaluate exactly the nodes of "
                     "topological_order(fetches).")
twice = sorted(name for name, k in evaluated.items() if k > 1)
grading.expect_equal("nodes evaluated more than once", twice, [],
                     hint="store each value in a dict and read inputs from it instead of recomputing them.")
values = run([A, B, A], lecture_feed)
value_of_a = np.array([0.870678301, -0.4815153137, -1.297021721])
grading.expect_close("run([A, B, A]): A", values[0], value_of_a, hint="A = B * C + E.")
grading.expect_close("run([A, B, A]): the second A", values[2], value_of_a,
                     hint="a repeated fetch gets the same value.")
grading.expect_close("run([C]) without H in the feed", run([C], {G: lecture_feed[G], J: lecture_feed[J]})[0],
                     value_of_c, hint="C does not need H: evaluate only what the fetches depend on.")

# %% nbgrader={"grade": true, "grade_id": "session_run_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.session_run", run, Graph)
### END HIDDEN TESTS

# %% [markdown]
# ### Call counts with and without the cache
#
# Left: `run([B, C])`; right: `run_without_cache([B, C])`; each node is labelled with how often it was
# evaluated (`x1`, `x2`). What to see: with the cache every node is computed once; without it `E` (and
# its inputs `G`, `J`) is computed once for `B` and once for `C`, and `H` once for `D` and once for `B`.
#
# The plot below makes the difference dramatic: on a chain $x_{k+1} = x_k + x_k$, where every node reads
# the previous one twice, there are $2^{\text{depth}}$ paths from the top to $x_0$. What to see: with the
# cache the number of evaluations grows like depth + 1 (a straight line near the bottom of a log axis),
# without it like $2^{\text{depth}+1} - 1$.

# %%
cached_counts, naive_counts = {}, {}
run([B, C], lecture_feed, cached_counts)
run_without_cache([B, C], lecture_feed, naive_counts)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
draw_graph([B, C], ax=axes[0], counts=cached_counts, order=topological_order,
           title=f"run([B, C]): {sum(cached_counts.values())} evaluations")
draw_graph([B, C], ax=axes[1], counts=naive_counts, order=topological_order,
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


# %% [markdown]
# ## 5. Operator experts: gradient rules
#
# Reverse mode sends $\bar{u} = \partial L / \partial u$ from a node's output back to its inputs. An
# operator's gradient rule gets
#
# - `g`, the builder;
# - `node`, the operator's node: its inputs are `node.inputs`, and `node` itself stands for the output value;
# - `dout`, the node holding $\partial L / \partial\,\mathrm{out}$ (shaped like the output),
#
# and returns a list with one gradient node per input, shaped like that input (`None` where no gradient
# flows). Write the rules with **graph operations** (`g.multiply`, `g.matmul`, `g.transpose`,
# `g.subtract`, `g.sum_to`, ...), not NumPy: the gradient is then a graph like any other, which `run`
# evaluates and which can be differentiated again (section 9).
#
# **Broadcasting in reverse.** If `b (D,)` was added to every row of `a (N, D)`, each entry of `b` was used
# $N$ times, so its gradient is the sum of those $N$ contributions: `g.sum_to(dout, b)` sums `dout` over
# the broadcast axes down to the shape of `b`'s value (it does nothing when the shapes already agree).
#
# | operator | gradient of each input |
# | --- | --- |
# | `out = a + b` | $\bar a$ = `sum_to(dout, a)`, $\bar b$ = `sum_to(dout, b)` |
# | `out = a * b` | $\bar a$ = `sum_to(dout * b, a)`, $\bar b$ = `sum_to(dout * a, b)` |
# | `out = a @ b`, `(N, D) @ (D, M)` | $\bar a$ = `dout @ b^T` `(N, D)`, $\bar b$ = `a^T @ dout` `(D, M)` |
# | `out = x ** 2` | $\bar x$ = `dout * 2x` |
# | `out = sigmoid(x)` | $\bar x$ = `dout * out * (1 - out)`: reuse `node`, nothing to recompute |
#
# **Exercise 5a.** `add_gradient`, `multiply_gradient`, `matmul_gradient`, `square_gradient`,
# `sigmoid_gradient`, each `(g, node, dout) -> [gradient node per input]`.

# %% nbgrader={"grade": false, "grade_id": "gradient_rules", "locked": false, "schema_version": 3, "solution": true}
def add_gradient(g, node, dout):
    """out = a + b: [sum_to(dout, a), sum_to(dout, b)]."""
    ### BEGIN SOLUTION a03.add_gradient
    ### END SOLUTION


def multiply_gradient(g, node, dout):
    """out = a * b: [sum_to(dout * b, a), sum_to(dout * a, b)]."""
    ### BEGIN SOLUTION a03.multiply_gradient
    ### END SOLUTION


def matmul_gradient(g, node, dout):
    """out = a @ b, a (N, D), b (D, M): [dout @ b^T (N, D), a^T @ dout (D, M)]."""
    ### BEGIN SOLUTION a03.matmul_gradient
    ### END SOLUTION


def square_gradient(g, node, dout):
    """out = x ** 2: [dout * 2x]."""
    ### BEGIN SOLUTION a03.square_gradient
    ### END SOLUTION


def sigmoid_gradient(g, node, dout):
    """out = sigmoid(x): [dout * out * (1 - out)], with node standing for out."""
    ### BEGIN SOLUTION a03.sigmoid_gradient
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gradient_rules_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
def rule_values(rule, build, values, dout_value):
    """Apply rule to out = build(g, *placeholders) and evaluate its gradient nodes."""
    graph = Graph()
    inputs = [graph.placeholder(f"in{k}") for k in range(len(values))]
    out, dout = build(graph, *inputs), graph.placeholder("dout")
    grads = rule(graph, out, dout)
    name = rule.__name__
    if not isinstance(grads, (list, tuple)) or len(grads) != len(inputs):
        raise AssertionError(f"{name} must return a list with one gradient node per input ({len(inputs)}), "
                             f"got {grads!r}.")
    for k, grad in enumerate(grads):
        if not isinstance(grad, Node):
            raise AssertionError(f"{name}: gradient {k} is a {type(grad).__name__}, not a graph node. Hint: "
                                 "build it with g.multiply, g.matmul, g.sum_to, ... so that the engine can "
                                 "run it.")
    feed = dict(zip(inputs, values))
    feed[dout] = dout_value
    try:
        return run_without_cache(list(grads), feed)
    except ValueError as err:
        raise AssertionError(f"{name}: running its gradient nodes failed ({err}). Hint: each gradient has "
                             "the shape of its input; check which factor is transposed or summed.") from None

a_check, b_row = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]]), np.array([0.5, 1.0, -2.0])
b_full = np.array([[2.0, -1.0, 0.5], [-0.5, 1.5, 1.0]])
w_check = np.array([[1.0, 0.0, -1.0, 2.0], [0.5, -0.5, 1.0, 0.0], [-1.0, 2.0, 0.0, 1.0]])
dout_check = np.array([[0.5, -1.0, 2.0], [1.0, 0.25, -0.5]])
dout_matmul = np.array([[1.0, -1.0, 0.5, 2.0], [0.0, 1.0, -2.0, 0.5]])
da, db = rule_values(add_gradient, lambda g, a, b: g.add(a, b), [a_check, b_row], dout_check)
grading.expect_close("add_gradient: da", da, np.array([[0.5, -1.0, 2.0], [1.0, 0.25, -0.5]]),
                     hint="d(a + b)/da = 1: da is dout itself.")
grading.expect_shape("add_gradient: db for b of shape (3,)", db, (3,),
                     hint="b was broadcast over the 2 rows of a: db = g.sum_to(dout, b).")
grading.expect_close("add_gradient: db", db, np.array([1.5, -0.75, 1.5]), hint="the column sums of dout.")
da, db = rule_values(multiply_gradient, lambda g, a, b: g.multiply(a, b), [a_check, b_full], dout_check)
grading.expect_close("multiply_gradient: da", da, np.array([[1.0, 1.0, 1.0], [-0.5, 0.375, -0.5]]),
                     hint="d(a * b)/da = b: da = dout * b.")
grading.expect_close("multiply_gradient: db", db, np.array([[0.5, 2.0, 1.0], [3.0, 0.0, 0.5]]),
                     hint="d(a * b)/db = a: db = dout * a.")
da, db = rule_values(multiply_gradient, lambda g, a, b: g.multiply(a, b), [a_check, b_row], dout_check)
grading.expect_close("multiply_gradient: db for b of shape (3,)", db, np.array([3.5, 2.0, 1.5]),
                     hint="sum dout * a down to b's shape with g.sum_to.")
da, dw = rule_values(matmul_gradient, lambda g, a, b: g.matmul(a, b), [a_check, w_check], dout_matmul)
grading.expect_shape("matmul_gradient: da", da, (2, 3), hint="da = dout (2, 4) @ w^T (4, 3).")
grading.expect_close("matmul_gradient: da", da, np.array([[4.5, 1.5, -1.0], [3.0, -2.5, 2.5]]),
                     hint="da = dout @ b^T: g.matmul(dout, g.transpose(b)).")
grading.expect_shape("matmul_gradient: dw", dw, (3, 4), hint="dw = a^T (3, 2) @ dout (2, 4).")
grading.expect_close("matmul_gradient: dw", dw,
                     np.array([[1.0, 2.0, -5.5, 3.5], [-2.0, 2.0, -1.0, -4.0], [0.5, -1.5, 2.25, 0.5]]),
                     hint="db = a^T @ dout: g.matmul(g.transpose(a), dout).")
(dx,) = rule_values(square_gradient, lambda g, a: g.square(a), [a_check], dout_check)
grading.expect_close("square_gradient: dx", dx, np.array([[1.0, 4.0, 2.0], [6.0, 0.0, 1.0]]),
                     hint="d(x^2)/dx = 2x, times dout.")
(dx,) = rule_values(sigmoid_gradient, lambda g, a: g.sigmoid(a), [a_check], dout_check)
grading.expect_close("sigmoid_gradient: dx", dx,
                     np.array([[0.09830596662, -0.1049935854, 0.4700074244],
                               [0.04517665973, 0.0625, -0.09830596662]]),
                     hint="sigma'(x) = sigma(x) (1 - sigma(x)), times dout.")

# %% nbgrader={"grade": true, "grade_id": "add_gradient_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.add_gradient", add_gradient)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "multiply_gradient_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.multiply_gradient", multiply_gradient)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "matmul_gradient_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.matmul_gradient", matmul_gradient)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "square_gradient_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.square_gradient", square_gradient)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "sigmoid_gradient_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.sigmoid_gradient", sigmoid_gradient)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5b.** The gradient of the fused softmax-cross-entropy with respect to the logits is simple:
#
# $$\frac{\partial L}{\partial z} = \frac{\bar L}{N}\,\big(\mathrm{softmax}(z) - \mathrm{onehot}(y)\big),
#   \qquad \bar L = \text{dout (a scalar)} .$$
#
# Build it with `g.softmax(logits)` (along the last axis), `g.one_hot(labels, logits)` (one-hot rows shaped
# like the logits) and `g.count(labels)` ($N$, as a node), plus `g.subtract`, `g.multiply`, `g.divide`.
# The labels are integers: no gradient flows to them, so return `None` in their place.

# %% nbgrader={"grade": false, "grade_id": "softmax_cross_entropy_gradient", "locked": false, "schema_version": 3, "solution": true}
def softmax_cross_entropy_gradient(g, node, dout):
    """loss = softmax_cross_entropy(logits, labels): [dout (softmax(logits) - onehot(labels)) / N, None]."""
    ### BEGIN SOLUTION a03.softmax_cross_entropy_gradient
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "softmax_cross_entropy_gradient_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
def sce_gradient_value(dout_value):
    graph = Graph()
    z, y, dout = graph.placeholder("logits"), graph.placeholder("labels"), graph.placeholder("dout")
    grads = softmax_cross_entropy_gradient(graph, graph.softmax_cross_entropy(z, y), dout)
    if not isinstance(grads, (list, tuple)) or len(grads) != 2:
        raise AssertionError(f"softmax_cross_entropy_gradient must return [dlogits, None], got {grads!r}.")
    if grads[1] is not None:
        raise AssertionError("softmax_cross_entropy_gradient: the labels are integers and get no gradient; "
                             "return None for them.")
    if not isinstance(grads[0], Node):
        raise AssertionError("softmax_cross_entropy_gradient: dlogits must be a graph node built with "
                             "g.softmax, g.one_hot, ...")
    logits_value = np.array([[2.0, 1.0, 0.1, -1.0], [0.5, 2.5, -0.3, 0.0], [-1.0, 0.0, 1.0, 3.0]])
    return run_without_cache([grads[0]], {z: logits_value, y: np.array([0, 2, 3]), dout: dout_value})[0]

dlogits = sce_gradient_value(1.0)
grading.expect_shape("dlogits", dlogits, (3, 4), hint="one gradient per logit, shaped like the logits.")
grading.expect_close("dlogits with dout = 1, row sums", dlogits.sum(axis=1), np.zeros(3), atol=1e-12,
                     hint="each row of softmax - onehot sums to 0; did you subtract the one-hot of the "
                     "labels?")
expected_dlogits = np.array([[-0.1206445496, 0.0782438309, 0.0318115677, 0.01058915102],
                             [0.03529235656, 0.2607772025, -0.3174754553, 0.02140589631],
                             [0.005073142955, 0.01379023231, 0.03748573789, -0.05634911315]])
grading.expect_close("dlogits with dout = 1", dlogits, expected_dlogits,
                     hint="(softmax(logits) - onehot(labels)) / N with N = 3 rows.")
grading.expect_close("dlogits with dout = 2.5", sce_gradient_value(2.5), 2.5 * expected_dlogits,
                     hint="the upstream gradient dout multiplies the whole result.")

# %% nbgrader={"grade": true, "grade_id": "softmax_cross_entropy_gradient_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.softmax_cross_entropy_gradient", softmax_cross_entropy_gradient)
### END HIDDEN TESTS

# %% [markdown]
# ### The engine's local chain rule (given)
#
# `local_gradients(g, node, dout)` returns the gradient nodes of `node`'s inputs: your rule for the six
# operators above, the library's `node.op.gradient` for the others (their rules are written the same
# way; read `course/minitf/ops.py`).

# %%
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


# %% [markdown]
# ## 6. The backward walk over the DAG
#
# `gradients(y, xs, grad_ys=None)` returns new nodes for $\partial y / \partial x$, one per `x` in `xs`.
# A node $u$ read by several consumers $v_1, \dots, v_k$ (or twice by one) influences $y$ along every
# path, and the chain rule **sums** the paths:
#
# $$\bar u = \sum_{j} \big(\text{rule of } v_j\big)\big(\bar v_j\big)\Big|_{\text{entry for } u} .$$
#
# So: seed $\bar y$ = `g.ones_like(y)` (or `grad_ys` when given: the result is then the vector-Jacobian
# product of `grad_ys` with $\partial y / \partial x$); walk `topological_order([y])` **in reverse**, so
# that a node is visited only after every consumer has sent its contribution; at each operator node ask
# `local_gradients(g, node, grads[node])` for its inputs' gradients and **add** each one (`g.add`) to what
# that input already has, never overwrite it. Skip leaves (`node.op is None`), nodes that received no
# gradient and `None` entries. An `x` that `y` does not depend on gets `g.zeros_like(x)`. Use `g = y.graph`.
#
# **Exercise 6.** `gradients(y, xs, grad_ys=None)`.

# %% nbgrader={"grade": false, "grade_id": "gradients", "locked": false, "schema_version": 3, "solution": true}
def gradients(y, xs, grad_ys=None):
    """Nodes for d(sum(y * grad_ys))/dx, one per x in xs (grad_ys defaults to ones shaped like y)."""
    ### BEGIN SOLUTION a03.gradients
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gradients_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_values = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
s = 1 / (1 + np.exp(-x_values))

def gradient_of(build, wrt_names=("x",), grad_ys=None):
    graph = Graph()
    holders = {name: graph.placeholder(name) for name in ["x", "z", "v"]}
    y = build(graph, holders)
    xs = [holders[name] for name in wrt_names]
    grads = gradients(y, xs) if grad_ys is None else gradients(y, xs, holders["v"])
    if not isinstance(grads, (list, tuple)) or len(grads) != len(wrt_names):
        raise AssertionError(f"gradients must return a list with one node per x ({len(wrt_names)}), "
                             f"got {grads!r}.")
    feed = {holders["x"]: x_values, holders["z"]: np.ones((2, 3)), holders["v"]: grad_ys}
    return run(list(grads), {k: v for k, v in feed.items() if v is not None})

# Isolation cases: each path alone.
(d1,) = gradient_of(lambda g, p: g.sum(g.square(p["x"])))
grading.expect_close("d sum(x^2) / dx (one path)", d1, 2 * x_values,
                     hint="seed with g.ones_like(y) and apply the rules in reverse order (or check "
                     "square_gradient).")
(d2,) = gradient_of(lambda g, p: g.sum(g.sigmoid(p["x"])))
grading.expect_close("d sum(sigmoid(x)) / dx (one path)", d2, s * (1 - s),
                     hint="check the reverse topological walk (or sigmoid_gradient).")
# x reaches y along two paths: the gradient is the sum of both.
(d3,) = gradient_of(lambda g, p: g.sum(g.multiply(g.square(p["x"]), g.sigmoid(p["x"]))))
grading.expect_close("d sum(x^2 * sigmoid(x)) / dx (two paths)", d3,
                     2 * x_values * s + x_values**2 * s * (1 - s),
                     hint="each path alone was right, so a contribution is lost: add (g.add) to grads[inp], "
                     "do not overwrite.")
(d4,) = gradient_of(lambda g, p: g.sum(g.multiply(p["x"], p["x"])))
grading.expect_close("d sum(x * x) / dx (x read twice by one node)", d4, 2 * x_values,
                     hint="both inputs of the multiply are x: the two contributions must be added.")
d5, dz = gradient_of(lambda g, p: g.sum(g.square(p["x"])), wrt_names=("x", "z"))
grading.expect_close("d sum(x^2) / dz for a z that y does not read", dz, np.zeros((2, 3)),
                     hint="an x that y does not depend on gets g.zeros_like(x).")
v_values = np.array([1.0, -1.0, 2.0, 0.5, 0.0])
(d6,) = gradient_of(lambda g, p: g.square(p["x"]), grad_ys=v_values)
grading.expect_close("gradients(x^2, [x], grad_ys=v), the vector-Jacobian product", d6,
                     2 * x_values * v_values,
                     hint="when grad_ys is given, it replaces ones_like(y) as the seed.")
def doubling_chain(depth):
    chain_graph = Graph()
    top = x0 = chain_graph.placeholder("x0")
    for k in range(depth):
        top = chain_graph.add(top, top, name=f"x{k + 1}")
    return chain_graph, x0, top

chain_graph, x0, top = doubling_chain(8)
(dx0,) = gradients(top, [x0])
grading.expect_close("gradient at the bottom of a doubling chain of depth 8, 2^8 paths",
                     run([dx0], {x0: np.array(0.3)})[0], 2.0**8,
                     hint="every one of the 2^8 paths carries a gradient of 1 and they must all be added.")
depth = 16
chain_graph, x0, top = doubling_chain(depth)
before = len(chain_graph.nodes)
gradients(top, [x0])
built = len(chain_graph.nodes) - before
if built > 8 * depth:
    raise AssertionError(f"gradients built {built} nodes for a chain of {depth} nodes: visit each node once, "
                         "in reverse topological order, instead of following every path.")
print(f"ok: the gradient graph of the doubling chain of depth {depth} has at most {8 * depth} nodes "
      "(linear in the depth)")

# %% nbgrader={"grade": true, "grade_id": "gradients_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.gradients", gradients, Graph)
### END HIDDEN TESTS

# %% [markdown]
# The forward graph of $y = \sum x^2 \sigma(x)$ and, in pink, the gradient nodes your walk added to it.
# What to see: `x` feeds two forward nodes, so two gradient contributions come back to it and one `add`
# node sums them; the sigmoid's rule reads the sigmoid node itself (an arrow from the forward part into
# the pink part), so nothing computed in the forward pass is recomputed.

# %%
diamond = Graph()
xd = diamond.placeholder("x")
x2_s = diamond.multiply(diamond.square(xd, name="x2"), diamond.sigmoid(xd, name="s"), name="x2_s")
yd = diamond.sum(x2_s, name="y")
forward_nodes = set(diamond.nodes)
(dxd,) = gradients(yd, [xd])
for node in diamond.nodes:
    node.is_gradient = node not in forward_nodes  # draw the nodes the walk built in pink
draw_graph([yd, dxd], order=topological_order,
           title="Forward DAG (white) and the backprop DAG built by gradients (pink)")
plt.show()


# %% [markdown]
# ## 7. The SGD optimizer node, and training through the graph
#
# In the lecture, the DAG expert holds the variables, computes their gradients and applies
# $\text{Var} \mathrel{-}= \alpha\,\text{Grad}$. As a graph: `opt = sgd_optimizer(loss, learning_rate)` is a
# node whose inputs are the loss and the gradient nodes of every variable the loss depends on. Running it
# therefore computes the loss and all gradients first, from the *old* values; its evaluation (the
# `ops.SGDUpdate` branch of `evaluate`) then calls `sgd_update` and returns the loss.
#
# **Exercise 7a.** `sgd_update(variables, grads, learning_rate)`: for each variable node and its gradient
# value, `variable.value = variable.value - learning_rate * grad`. Rebind `variable.value` to the new array;
# do not modify it in place (`-=`), because a value fetched earlier in the same run is that very array
# and must keep the old numbers.

# %% nbgrader={"grade": false, "grade_id": "sgd_update", "locked": false, "schema_version": 3, "solution": true}
def sgd_update(variables, grads, learning_rate):
    """variable.value <- variable.value - learning_rate * grad for each pair (rebinds, never in place)."""
    ### BEGIN SOLUTION a03.sgd_update
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sgd_update_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
graph = Graph()
w, b = graph.variable("w", np.array([[1.0, -2.0], [0.5, 0.0]])), graph.variable("b", np.array([0.1, 0.2]))
old_w = w.value
sgd_update([w, b], [np.array([[1.0, 1.0], [-2.0, 0.0]]), np.array([1.0, -1.0])], 0.5)
grading.expect_close("w after one step, lr = 0.5", w.value, np.array([[0.5, -2.5], [1.5, 0.0]]),
                     hint="w - lr * dw.")
grading.expect_close("b after one step, lr = 0.5", b.value, np.array([-0.4, 0.7]),
                     hint="every variable gets its own gradient.")
grading.expect_close("the old array of w", old_w, np.array([[1.0, -2.0], [0.5, 0.0]]),
                     hint="the old array was changed in place: write "
                     "variable.value = variable.value - lr * grad.")

# %% nbgrader={"grade": true, "grade_id": "sgd_update_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.sgd_update", sgd_update)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 7b.** `sgd_optimizer(loss, learning_rate)`: the variables are the nodes of
# `topological_order([loss])` whose `kind` is `'variable'`; their gradients come from your `gradients`; the
# node is `loss.graph.apply(ops.SGDUpdate(variables, learning_rate), [loss, *grads])`. The builder's
# `g.apply(op, inputs)` adds a node holding an operator object to the graph: what every builder method does
# inside (steps 2 to 4 of the lecture's `graph_builder.add`).

# %% nbgrader={"grade": false, "grade_id": "sgd_optimizer", "locked": false, "schema_version": 3, "solution": true}
def sgd_optimizer(loss, learning_rate):
    """A node whose run applies var -= learning_rate * dloss/dvar to every variable of loss; returns loss."""
    ### BEGIN SOLUTION a03.sgd_optimizer
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sgd_optimizer_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
graph = Graph()
x, t = graph.placeholder("x"), graph.placeholder("t")
w, b = graph.variable("w", np.array([[0.5], [-1.0], [0.25]])), graph.variable("b", np.zeros(1))
other = graph.variable("other", np.ones(2))  # not part of the loss
loss = graph.mean(graph.square(graph.subtract(graph.add(graph.matmul(x, w), b), t)))
opt = sgd_optimizer(loss, learning_rate=0.1)
if not isinstance(opt, Node):
    raise AssertionError(f"sgd_optimizer must return a graph node, got {type(opt).__name__}.")
rng_check = np.random.default_rng(1)
feed = {x: rng_check.standard_normal((6, 3)), t: rng_check.standard_normal((6, 1))}
(returned,) = run([opt], feed)
grading.expect_close("the value of running opt", returned, 0.9374173174,
                     hint="the optimizer node returns the loss computed before the update.")
grading.expect_close("w after one step", w.value, np.array([[0.4035824971], [-0.9634149809], [0.2309152351]]),
                     hint="w - 0.1 * d loss / d w, with the gradient at the old w.")
grading.expect_close("b after one step", b.value, np.array([0.1216057934]),
                     hint="every variable the loss reads is updated.")
grading.expect_close("a variable the loss does not read", other.value, np.ones(2),
                     hint="update only the variables in topological_order([loss]).")
losses = [float(run([opt], feed)[0]) for _ in range(50)]
if not losses[-1] < 0.5 * losses[0]:
    raise AssertionError(f"50 more steps did not halve the loss: {losses[0]:.4f} -> {losses[-1]:.4f}.")
print("ok: 50 more steps at least halve the loss")

# %% nbgrader={"grade": true, "grade_id": "sgd_optimizer_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.sgd_optimizer", sgd_optimizer, Graph)
### END HIDDEN TESTS

# %% [markdown]
# ### A model trained through the graph engine matches the module version of assignment 02
#
# A two-layer net, $\mathrm{scores} = \mathrm{relu}(x W_1 + b_1) W_2 + b_2$ with the softmax-cross-entropy
# loss, trained by minibatch SGD on a 2-D spiral, twice, from the same initial weights and on the same
# minibatches: once through your graph engine (`sgd_optimizer` and `run`), once with the modules of
# assignment 02 (`course.layers.affine.Linear`, `course.layers.activations.ReLU`,
# `course.layers.losses.softmax_cross_entropy`, backward by hand). Both in float64. The initial weights
# come from `scaled_normal` below, a normal distribution with standard deviation $1/\sqrt{\text{fan-in}}$,
# so that every unit's summed input starts with about unit variance (the library's own initialisers are
# exercises of assignment 04). What to see: the two loss curves lie on top of each other (the
# printed differences are zero, or at the level of float64 rounding: both compute the same sums in the
# same order), and the decision regions of the graph-trained net follow the spiral arms.

# %%
from course.core.module import Sequential
from course.core.plots import plot_decision_boundary
from course.data import make_spirals
from course.layers.activations import ReLU
from course.layers.affine import Linear
from course.layers.losses import softmax_cross_entropy


def scaled_normal(rng, shape):
    """Weights of shape (fan_in, fan_out) drawn from N(0, 1 / fan_in)."""
    return rng.standard_normal(shape) / np.sqrt(shape[0])


X_spiral, y_spiral = make_spirals(n_per_class=60, n_classes=3, noise=0.2, rng=np.random.default_rng(0),
                                  dtype=np.float64)
hidden_size, lr, batch, steps = 32, 0.5, 32, 400
module_net = Sequential(Linear(2, hidden_size, rng=1, init=scaled_normal, dtype=np.float64), ReLU(),
                        Linear(hidden_size, 3, rng=2, init=scaled_normal, dtype=np.float64))
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
pairs = [(w1, "0.w"), (b1, "0.b"), (w2, "2.w"), (b2, "2.b")]
weight_gap = max(float(np.max(np.abs(node.value - final[key]))) for node, key in pairs)
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


# %% [markdown]
# ## 8. Max as a limit: $x^\top \mathrm{softmax}(\alpha x)$
#
# The lecture's quiz: how do you build a max module (as in max pooling) from pieces we have? As
# $\alpha \to \infty$, $s = \mathrm{softmax}(\alpha x)$ tends to the one-hot vector of the arg-max, so
#
# $$y = x^\top \mathrm{softmax}(\alpha x) \xrightarrow{\alpha \to \infty} \max(x), \qquad
#   \nabla_x = s\,\bar y + \alpha\big(\mathrm{diag}(s) - s s^\top\big) x\,\bar y
#   \xrightarrow{\alpha \to \infty} [0, \dots, \bar y, \dots, 0] ,$$
#
# the gradient going to the arg-max alone, as the max module's gradient does. (As $\alpha \to 0$, $s$ is
# uniform and $y$ is the mean of $x$.)
#
# **Exercise 8.** `smooth_max(x, alpha)`: a node for $\sum_c x_c\, \mathrm{softmax}(\alpha x)_c$ along the
# last axis (so `x (N, C)` gives `(N,)`), built on `x.graph` with `g.multiply`, `g.softmax` and
# `g.sum(..., axis=-1)`. The gradient comes for free from your `gradients`.

# %% nbgrader={"grade": false, "grade_id": "smooth_max", "locked": false, "schema_version": 3, "solution": true}
def smooth_max(x, alpha):
    """Node for sum(x * softmax(alpha * x), axis=-1), which tends to max(x, axis=-1) as alpha grows."""
    ### BEGIN SOLUTION a03.smooth_max
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "smooth_max_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
graph = Graph()
xm = graph.placeholder("x")
x_check = np.array([0.3, -1.2, 2.0, 1.9, 0.0])
y1, y10, y1000 = smooth_max(xm, 1.0), smooth_max(xm, 10.0), smooth_max(xm, 1000.0)
if not isinstance(y1, Node):
    raise AssertionError(f"smooth_max must return a graph node, got {type(y1).__name__}.")
v1, v10, v1000 = run([y1, y10, y1000], {xm: x_check})
grading.expect_close("smooth_max(x, 1)", v1, 1.645631374,
                     hint="sum(x * softmax(alpha * x)): the weights are the softmax of alpha x, not of x.")
grading.expect_close("smooth_max(x, 10)", v10, 1.973105804,
                     hint="multiply x by alpha inside the softmax only.")
grading.expect_close("smooth_max(x, 1000), close to max(x) = 2.0", v1000, 2.0,
                     hint="g.softmax shifts by the max, so a large alpha must not overflow.")
two_rows = np.array([[0.3, -1.2, 2.0, 1.9, 0.0], [1.0, 1.0, -1.0, 0.5, 0.25]])
grading.expect_close("smooth_max of two rows, alpha = 3", run([smooth_max(xm, 3.0)], {xm: two_rows})[0],
                     np.array([1.948772505, 0.9160998198]),
                     hint="softmax and sum along the last axis: one value per row.")
alpha, dy = 2.5, 1.7
(dx,) = gradients(smooth_max(xm, alpha), [xm], graph.constant(np.array(dy)))
s = np.exp(alpha * x_check) / np.exp(alpha * x_check).sum()
lecture_formula = s * dy + alpha * (np.diag(s) - np.outer(s, s)) @ x_check * dy
grading.expect_close("gradient of smooth_max(x, 2.5) times 1.7", run([dx], {xm: x_check})[0], lecture_formula,
                     hint="the lecture's formula s dy + alpha (diag(s) - s s^T) x dy; check the graph of "
                     "smooth_max.")

# %% nbgrader={"grade": true, "grade_id": "smooth_max_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.smooth_max", smooth_max)
### END HIDDEN TESTS

# %% [markdown]
# Left: $y = x^\top \mathrm{softmax}(\alpha x)$ over $\alpha$ for $x$ = `[0.3, -1.2, 2.0, 1.9, 0.0]`. Right:
# the five entries of its gradient $\partial y / \partial x$. What to see: for small $\alpha$, $y$ is near the
# mean of $x$ (0.6); as $\alpha$ grows it rises quickly to about 1.95, the average of the two largest entries,
# then slowly to $\max(x) = 2$ because the runner-up 1.9 is so close. The gradient becomes the one-hot vector
# of the arg-max (entry 2 goes to 1, all others to 0), but not monotonically. The runner-up's gradient is
# still positive at $\alpha = 10$ (+0.072); it crosses zero near $\alpha \approx 12.8$ and is negative
# beyond, lowest (about $-0.10$) near $\alpha \approx 24$: there raising $x_3$ steals weight from the larger
# $x_2$, whose entry overshoots 1 (about 1.10), before both settle at 0 and 1.

# %%
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
ax1.semilogx(alphas, values, label="$x^T$ softmax($\\alpha x$)")
ax1.axhline(x_demo.max(), color="0.4", ls="--", label="max(x) = 2.0")
ax1.axhline(x_demo.mean(), color="0.7", ls=":", label="mean(x) = 0.6")
ax1.set_xlabel("$\\alpha$ (log scale)")
ax1.set_ylabel("y")
ax1.set_title("Smooth max tends to the max")
ax1.legend()
for k in range(len(x_demo)):
    ax2.semilogx(alphas, grads[:, k], label=f"dy/dx[{k}] (x[{k}] = {x_demo[k]})")
ax2.set_xlabel("$\\alpha$ (log scale)")
ax2.set_ylabel("gradient entry")
ax2.set_title("Its gradient tends to the one-hot of the arg-max")
ax2.legend(fontsize=8)
plt.show()
print(f"alpha = 1000: y = {values[-1]:.6f}, gradient = {grads[-1].round(6).tolist()}")
(dx_at_10,) = gradients(smooth_max(xm, 10.0), [xm])
runner_up = grads[:, 3]
print(f"the runner-up's gradient dy/dx[3]: {run([dx_at_10], {xm: x_demo})[0][3]:+.3f} at alpha = 10, "
      f"lowest {runner_up.min():+.3f} at alpha = {alphas[runner_up.argmin()]:.1f} on the plotted grid")

# %% [markdown]
# ## 9. Gradients of gradients
#
# Your gradient rules build graph nodes, so `gradients` returns ordinary nodes of the graph, and they can
# be differentiated again (lecture: `tf.gradients`, second-order derivatives; *learning to learn by
# gradient descent by gradient descent* differentiates through a whole training run this way). Two uses:
#
# - repeated derivatives: `(d1,) = gradients(g.sum(sigmoid(x)), [x])`, then
#   `(d2,) = gradients(g.sum(d1), [x])`; for the sigmoid, $\sigma' = \sigma(1-\sigma)$,
#   $\sigma'' = \sigma(1-\sigma)(1-2\sigma)$, $\sigma''' = \sigma(1-\sigma)(1 - 6\sigma + 6\sigma^2)$;
# - a **Hessian-vector product** $H v = \nabla_w\big(\nabla_w L \cdot v\big)$, without ever forming the
#   Hessian $H$: differentiate the scalar `sum(dw * v)` with respect to `w` again.
#
# There is nothing new to write: the tests below grade your rules and walk on second derivatives.

# %% nbgrader={"grade": true, "grade_id": "second_order_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
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
                     hint="the gradient graph must be made of graph ops (g.multiply, g.subtract) so it can "
                     "be differentiated.")
grading.expect_close("third derivative of sigmoid", v3, s * (1 - s) * (1 - 6 * s + 6 * s**2),
                     hint="every rule used inside the gradient graph (multiply, subtract, sum_to) is "
                     "differentiated again.")
graph = Graph()
w = graph.placeholder("w")
v = graph.placeholder("v")
loss = graph.sum(graph.square(graph.square(w)))  # sum(w^4): Hessian diag(12 w^2)
(dw,) = gradients(loss, [w])
(hv,) = gradients(graph.sum(graph.multiply(dw, v)), [w])
w_values, v_values = np.array([1.0, -0.5, 2.0]), np.array([1.0, 2.0, -1.0])
grading.expect_close("Hessian-vector product of sum(w^4)", run([hv], {w: w_values, v: v_values})[0],
                     12 * w_values**2 * v_values, hint="differentiate sum(dw * v) with respect to w.")

# %% nbgrader={"grade": true, "grade_id": "second_order_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder import checks

checks.run("a03.second_order", gradients, Graph)
### END HIDDEN TESTS

# %% [markdown]
# The Hessian-vector product of a small net's loss (a sigmoid hidden layer, softmax-cross-entropy) against
# central differences of its gradient,
# $H v \approx \big(\nabla L(w + \varepsilon v) - \nabla L(w - \varepsilon v)\big) / 2\varepsilon$, over the
# step $\varepsilon$. What to see: a V. On the right the truncation error of the centred difference
# shrinks like $\varepsilon^2$; on the left float64 rounding, about $10^{-16} / \varepsilon$, takes over. At
# the bottom the two agree to about $10^{-10}$: the graph's exact product is the reference the difference
# quotient approaches.

# %%
rng = np.random.default_rng(0)
graph = Graph()
x_h, labels_h = graph.constant(rng.standard_normal((8, 4))), graph.constant(rng.integers(0, 3, 8))
w1_h, w2_h, v1_h, v2_h = (graph.placeholder(name) for name in ["w1", "w2", "v1", "v2"])
loss_h = graph.softmax_cross_entropy(graph.matmul(graph.sigmoid(graph.matmul(x_h, w1_h)), w2_h), labels_h)
dw1_h, dw2_h = gradients(loss_h, [w1_h, w2_h])
inner_h = graph.add(graph.sum(graph.multiply(dw1_h, v1_h)), graph.sum(graph.multiply(dw2_h, v2_h)))
hv1_h, hv2_h = gradients(inner_h, [w1_h, w2_h])
w1_value, w2_value = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
v1_value, v2_value = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
hvp_feed = {w1_h: w1_value, w2_h: w2_value, v1_h: v1_value, v2_h: v2_value}
exact = np.concatenate([a.ravel() for a in run([hv1_h, hv2_h], hvp_feed)])

steps_eps = np.logspace(-12, -1, 23)
errors = []
for eps in steps_eps:
    plus = run([dw1_h, dw2_h], {w1_h: w1_value + eps * v1_value, w2_h: w2_value + eps * v2_value})
    minus = run([dw1_h, dw2_h], {w1_h: w1_value - eps * v1_value, w2_h: w2_value - eps * v2_value})
    numeric = np.concatenate([((p - m) / (2 * eps)).ravel() for p, m in zip(plus, minus)])
    errors.append(np.max(np.abs(numeric - exact)) / np.max(np.abs(exact)))
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.loglog(steps_eps, errors, "o-")
ax.set_xlabel("finite-difference step $\\varepsilon$ (log scale)")
ax.set_ylabel("relative error vs the graph's $Hv$ (log scale)")
ax.set_title("Hessian-vector product: graph vs central differences")
plt.show()
best = int(np.argmin(errors))
print(f"smallest relative error {errors[best]:.1e} at eps = {steps_eps[best]:.0e}")

# %% [markdown]
# ## Summary
#
# A deep-learning framework is two small ideas. The DAG expert needs only the dependency lists: a
# topological order to run each node once per run (the cache), and the same order reversed to send
# gradients back, summing over every path. The operator experts need only their local maths, a forward
# rule and a chain rule. Writing the chain rules as graph operations made gradients graphs too, which gave
# an optimizer node and second derivatives with no extra machinery. Assignment 04 goes back to the module
# library to study what makes deep nets train: optimizers, initialisation, dropout and batch norm.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a03_mini_tensorflow.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a03_mini_tensorflow.ipynb")
