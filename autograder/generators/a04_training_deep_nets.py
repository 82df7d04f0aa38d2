# ruff: noqa: E501  (the cell texts are dedented when written, so the notebook lines are short)
"""Writes solutions/a04_training_deep_nets/a04_training_deep_nets.ipynb (assignment 04, lectures 001 and 004).

Run ``python -m autograder.generators.a04_training_deep_nets``; the expected values of the visible tests
are computed here, once, from the reference library (course.training.train, course.training.optim, course.training.init,
course.layers.dropout, course.layers.batchnorm, course.training.hyperparameter_search) and written into the notebook as literals.
The committed notebook is the source of truth; this script only keeps it easy to rebuild.

In the grading kernel every a04 region of ``course`` raises NotImplementedError, so the notebook never
calls ``course.training.train.train``/``train_step``, the update rules, the initialisers, dropout, batch norm or
``course.training.optim.Optimizer`` (whose step calls the library's clipping and weight decay). It builds its
networks from ``course.layers.affine.Linear``, ``course.layers.activations.ReLU`` and ``course.core.module.Sequential``
(assignment 02, which work there), trains them with the student's ``train_step``/``train_epoch`` and a
small optimizer class written in the notebook on top of the student's update rules, clipping and
weight decay, and wraps the student's dropout and batch norm pairs in two small modules.
"""

from __future__ import annotations

import copy

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
from course import train as train_lib
from course.core.module import Sequential
from course.data.batching import iterate_minibatches
from course.layers import batchnorm, dropout
from course.layers.activations import ReLU
from course.layers.affine import Linear
from course.layers.losses import softmax_cross_entropy
from course.training import hyperparameter_search, init, optim

ASSIGNMENT = "a04_training_deep_nets"

# Fixed small inputs of the visible tests (nice numbers where a student may redo them by hand).
W0 = np.array([1.0, -2.0, 0.5])
DWS = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -0.5]), np.array([-2.0, 1.0, 0.25])]
NET_X = np.array([[1.0, 0.5, -1.0], [-0.5, 1.0, 2.0], [0.0, -1.0, 0.5], [2.0, 0.0, -0.5]])
NET_Y = np.array([0, 2, 1, 2])
EPOCH_X = np.array(
    [
        [1.0, 0.5, -1.0],
        [-0.5, 1.0, 2.0],
        [0.0, -1.0, 0.5],
        [2.0, 0.0, -0.5],
        [0.5, 0.5, 0.5],
        [-1.0, -1.0, 1.0],
        [1.5, -0.5, 0.0],
        [0.0, 2.0, -1.0],
        [-2.0, 0.5, 0.5],
        [1.0, 1.0, 1.0],
    ]
)
EPOCH_Y = np.array([0, 2, 1, 2, 0, 1, 0, 2, 1, 0])
X_DROP = np.array([[1.0, -2.0, 0.5, 3.0, -1.0], [0.5, 1.5, -0.5, 2.0, 1.0]])
DOUT_DROP = np.array([[0.5, 1.0, -1.0, 2.0, 0.25], [-0.5, 1.0, 3.0, -2.0, 1.0]])
X_DC = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -0.5]])  # (N, D) = (2, 3)
W_DC = np.array([[0.5, -1.0], [1.0, 2.0], [-1.5, 0.5]])  # (D, M) = (3, 2)
B_DC = np.array([0.25, -0.5])
DOUT_DC = np.array([[1.0, -2.0], [0.5, 1.0]])
X_BN = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [-1.0, 4.0, 2.0], [0.0, 1.0, 0.5]])  # (N, D) = (4, 3)
GAMMA_BN = np.array([2.0, 0.5, -1.0])
BETA_BN = np.array([0.5, -1.0, 0.0])
DOUT_BN = np.array([[1.0, -0.5, 2.0], [0.0, 1.5, -1.0], [-2.0, 0.5, 0.5], [0.5, -1.0, 1.0]])
RUN_MEAN = np.array([0.5, 1.0, 0.0])
RUN_VAR = np.array([2.0, 4.0, 1.0])
SPACE = {"learning_rate": (1e-3, 1e-1, "log"), "momentum": (0.5, 0.9, "linear")}


def tiny_net() -> Sequential:
    """The net of the train_step / train_epoch visible tests (same construction as in the notebook)."""
    return Sequential(Linear(3, 4, rng=1, dtype=np.float64), ReLU(), Linear(4, 3, rng=2, dtype=np.float64))


class HalfStepSGD:
    """w <- w - 0.5 dw: the fixed optimizer of the visible tests, so they check the loop alone."""

    def __init__(self, model: Sequential) -> None:
        self.model = model

    def zero_grad(self) -> None:
        self.model.zero_grad()

    def step(self) -> None:
        for _, p, g in self.model.parameters():
            p -= 0.5 * g


def reference_epoch(model: Sequential, X: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> float:
    optimizer = HalfStepSGD(model)
    total = 0.0
    for xb, yb in iterate_minibatches(X, y, batch_size, np.random.default_rng(seed)):
        loss, _ = train_lib.train_step(model, softmax_cross_entropy, optimizer, xb, yb)
        total += loss * len(xb)
    return total / len(X)


def run_rule(rule, config: dict | None, w0: np.ndarray = W0, dws: list = DWS) -> list[np.ndarray]:
    """w after each step of ``rule`` from w0 with the gradients dws (the reference's trajectory)."""
    config = copy.deepcopy(config)
    w, out = w0.copy(), []
    for dw in dws:
        w, config = rule(w, dw.copy(), config)
        out.append(w.copy())
    return out


# ---- hidden-test helpers (pasted into every hidden cell that needs them, so each cell stands alone) ------

RULE_HIDDEN = '''
import copy


def _check_rule(rule, name, make_config, steps=4, trials=3):
    """Several steps of your rule and the reference's from the same w, gradients and config; trial 0 uses config=None."""
    reference_rule = grading.reference(f"training.optim.{name}")
    for trial in range(trials):
        rng = np.random.default_rng(grading.check_seed(f"training.optim.{name}", trial))
        shape = tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 3))))
        config = None if trial == 0 else make_config(rng)
        config_student, config_reference = copy.deepcopy(config), copy.deepcopy(config)
        where = f"w of shape {shape}, config " + ("None (every default)" if config is None else str(config))
        w = rng.standard_normal(shape)
        for step in range(steps):
            dw = rng.standard_normal(shape) * float(rng.choice([0.1, 1.0, 10.0]))
            w_in, dw_in = w.copy(), dw.copy()
            result = rule(w_in, dw_in, config_student)
            assert isinstance(result, tuple) and len(result) == 2, f"{name} must return a pair (next_w, config)."
            next_w, config_student = result
            assert isinstance(config_student, dict), f"{name} must return the config dict, with the rule's state in it."
            assert np.array_equal(w_in, w) and np.array_equal(dw_in, dw), (
                f"{name} modified w or dw in place: return a new array next_w.")
            expected_w, config_reference = reference_rule(w.copy(), dw.copy(), config_reference)
            grading.check_with_reference(name, next_w, expected_w, what=f"next_w after step {step + 1} of {steps}",
                                         inputs=where)
            w = expected_w
    print(f"ok: {name} agrees with the reference over {steps} steps on {trials} random runs")
'''


EPS_CHECK = """next_w, _ = <<rule>>(w0.copy(), dws[0], {"learning_rate": 0.1, "eps": 0.5})
grading.expect_close("one step of <<rule>> with eps = 0.5 (the eps term)", next_w, <<expected>>,
                     hint="eps is added AFTER the square root: dw / (np.sqrt(cache) + eps).")
"""


def rule_visible(name: str, config: dict, step_hints: list[str], extra: str = "", reference_rule=None) -> str:
    """Visible-test source for an update rule: 3 steps from W0 with DWS, and w/dw untouched."""
    reference_rule = reference_rule or getattr(optim, name)
    expected = run_rule(reference_rule, config)
    lines = [
        f"w0 = {literal(W0)}",
        "dws = [" + ", ".join(literal(d) for d in DWS) + "]",
        f"config = {config!r}",
        "w, w_before, dw_before = w0.copy(), w0.copy(), dws[0].copy()",
        "dw_in = dws[0].copy()",
        f"result = {name}(w, dw_in, config)",
        f'assert isinstance(result, tuple) and len(result) == 2, "{name} must return a pair (next_w, config)."',
        f'grading.expect_close("w after {name}(w, dw, config)", w, w_before, rtol=0, atol=0,',
        '                     hint="do not change w in place: build next_w as a new array (next_w = w - ...).")',
        f'grading.expect_close("dw after {name}(w, dw, config)", dw_in, dw_before, rtol=0, atol=0,',
        '                     hint="do not change dw in place.")',
        "w, config = result",
        f'grading.expect_shape("next_w", w, {W0.shape}, hint="next_w has the shape of w.")',
    ]
    for k in range(len(DWS)):
        if k > 0:
            lines.append(f"w, config = {name}(w, dws[{k}], config)")
        lines.append(
            f'grading.expect_close("w after step {k + 1}", w, {literal(expected[k])},\n'
            f'                     hint="{step_hints[min(k, len(step_hints) - 1)]}")'
        )
    return "\n".join(lines) + "\n" + extra


def cells() -> list:  # noqa: PLR0915  (one notebook, written top to bottom)
    c = []
    c.append(
        markdown(
            r"""
            # Assignment 04: training deep nets

            Assignment 02 trained a two-layer net with plain SGD on full mini-batches of a toy problem. Deeper nets on
            real data need the tricks of lectures 001 and 004: mini-batches, better update rules than vanilla SGD,
            initial weights of the right scale, regularisers (L2 weight decay, dropout), batch normalisation, gradient
            clipping, and a sensible way to choose hyper-parameters. You will implement them all, in this notebook:

            1. the mini-batch SGD loop: one training step and one epoch over shuffled mini-batches;
            2. seven update rules: SGD, momentum, Nesterov momentum, Adagrad, Adadelta, RMSProp and Adam;
            3. L2 weight decay and gradient-norm clipping;
            4. Glorot (Xavier) and He (Kaiming) initialisation, normal and uniform;
            5. inverted dropout and dropconnect, forward and backward;
            6. batch normalisation, forward and backward, in training and evaluation mode, with running averages;
            7. grid and random hyper-parameter search.

            Then you will race the seven optimisers on the same net, watch activations vanish or explode across the
            depth of a 10-layer net for each initialisation, compare training and validation curves with and without
            dropout, weight decay and batch norm on the digits, and see why random search beats grid search when only
            one of two hyper-parameters matters.

            **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
            answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
            a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
            the reference on fresh random inputs when the course grader runs it. Both carry points. Do not edit,
            copy or delete test cells: the grader restores them. Use NumPy and the library of the earlier assignments
            (`Linear`, `ReLU`, `Sequential`, `softmax_cross_entropy`, the gradient checker): in the grader the library
            functions you are asked to write here (`course.training.train`, `course.training.optim`, `course.training.init`, `course.layers.dropout`,
            `course.layers.batchnorm`) raise `NotImplementedError`.

            Shapes use the course's letters: N batch, D input features, M outputs of a layer, B a mini-batch.
            """
        )
    )
    c.append(
        code(
            """
            import numpy as np
            import matplotlib.pyplot as plt

            from course import grading
            from course.layers.activations import ReLU
            from course.layers.affine import Linear
            from course.data import load_digits
            from course.core.gradcheck import check_pair
            from course.training.hyperparameter_search import one_that_matters
            from course.training.init import fans
            from course.layers.losses import softmax_cross_entropy
            from course.core.module import Module, Sequential
            from course.training.train import evaluate
            """
        )
    )

    # ---- 1. the mini-batch loop ------------------------------------------------------------------------
    model = tiny_net()
    ts_loss, ts_scores = train_lib.train_step(model, softmax_cross_entropy, HalfStepSGD(model), NET_X, NET_Y)
    ts_w1 = model.layers[0].params["w"].copy()
    train_lib.train_step(model, softmax_cross_entropy, HalfStepSGD(model), NET_X, NET_Y)
    ts_w2 = model.layers[0].params["w"].copy()
    ts_b2 = model.layers[2].params["b"].copy()
    c.append(
        markdown(
            r"""
            ## 1. The mini-batch SGD loop

            Full-batch gradient descent computes the gradient over all $N$ examples before taking one step. SGD
            estimates it on a **mini-batch** of $B \ll N$ examples, $\nabla L \approx \frac{1}{B}\sum_{n \in \text{batch}}
            \nabla \ell_n$, and takes $N / B$ noisy but cheap steps per pass over the data (an **epoch**).

            A training step has four parts, always in this order: zero the gradients (modules *accumulate* into their
            `grads` with `+=`, so a step that forgets this adds the previous step's gradients), forward, loss and its
            gradient, backward, update. The pieces are the ones of assignment 02:

            - `model`: a `course.core.module.Module` (here a `Sequential` of `Linear` and `ReLU`): `model.forward(x)` returns
              the scores, `model.backward(dscores)` accumulates every parameter's gradient;
            - `loss_fn(scores, y) -> (loss, dscores)`, e.g. `softmax_cross_entropy`;
            - `optimizer`: anything with `zero_grad()` and `step()` (it owns the update rule; section 2).

            **Exercise 1a.** `train_step(model, loss_fn, optimizer, x, y)` does one step on the mini-batch `x` `(B, ...)`,
            `y` `(B,)` and returns `(loss, scores)`: the loss as a Python `float` and the scores of the forward pass
            (computed before the update).
            """
        )
    )
    c.append(
        solution(
            "train_step",
            '''
            def train_step(model, loss_fn, optimizer, x, y):
                """Zero the gradients, forward, loss, backward, update. Returns (loss: float, scores: (B, C))."""
                ### BEGIN SOLUTION
                optimizer.zero_grad()
                scores = model.forward(x)
                loss, dscores = loss_fn(scores, y)
                model.backward(dscores)
                optimizer.step()
                return float(loss), scores
                ### END SOLUTION
            ''',
        )
    )
    helpers_src = '''
class HalfStepSGD:
    """w <- w - 0.5 dw for every parameter: a fixed optimizer, so this test checks your loop alone."""

    def __init__(self, model):
        self.model = model

    def zero_grad(self):
        self.model.zero_grad()

    def step(self):
        for _, p, g in self.model.parameters():
            p -= 0.5 * g


def tiny_net():
    return Sequential(Linear(3, 4, rng=1, dtype=np.float64), ReLU(), Linear(4, 3, rng=2, dtype=np.float64))
'''
    c.append(
        visible_test(
            "train_step",
            helpers_src
            + fill(
                """

x, y = <<x>>, <<y>>
model = tiny_net()
result = train_step(model, softmax_cross_entropy, HalfStepSGD(model), x, y)
assert isinstance(result, tuple) and len(result) == 2, "train_step must return a pair (loss, scores)."
loss, scores = result
assert isinstance(loss, float), f"the loss must be a Python float (float(loss)), got {type(loss).__name__}."
grading.expect_close("scores returned by train_step", scores, <<scores>>,
                     hint="scores = model.forward(x), computed before optimizer.step().")
grading.expect_close("loss returned by train_step", loss, <<loss>>,
                     hint="loss, dscores = loss_fn(scores, y), before the update.")
grading.expect_close("first-layer weights after one step", model.layers[0].params["w"], <<w1>>,
                     hint="after the loss: model.backward(dscores), then optimizer.step(). Unchanged weights mean one of the two is missing.")
train_step(model, softmax_cross_entropy, HalfStepSGD(model), x, y)
grading.expect_close("first-layer weights after a second step", model.layers[0].params["w"], <<w2>>,
                     hint="call optimizer.zero_grad() before the backward pass: gradients accumulate (+=), so without it step 2 also applies step 1's gradient.")
grading.expect_close("last-layer bias after a second step", model.layers[2].params["b"], <<b2>>,
                     hint="every parameter is updated by optimizer.step().")
""",
                x=literal(NET_X),
                y=literal(NET_Y),
                scores=literal(ts_scores),
                loss=literal(ts_loss),
                w1=literal(ts_w1),
                w2=literal(ts_w2),
                b2=literal(ts_b2),
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "train_step",
            """
            reference_train_step = grading.reference("training.train.train_step")
            ReferenceOptimizer = grading.reference("training.optim.Optimizer")
            rules = {"sgd": grading.reference("training.optim.sgd"), "adam": grading.reference("training.optim.adam")}
            loss_fn = grading.reference("layers.losses.softmax_cross_entropy")
            for trial in range(3):
                rng = np.random.default_rng(grading.check_seed("training.train.train_step", trial))
                n, d, h, c = (int(v) for v in rng.integers(2, 9, size=4))
                s1, s2 = (int(s) for s in rng.integers(0, 1000, size=2))
                rule = ["sgd", "adam"][trial % 2]
                models = [Sequential(Linear(d, h, rng=s1, dtype=np.float64), ReLU(), Linear(h, c, rng=s2, dtype=np.float64))
                          for _ in range(2)]
                optimizers = [ReferenceOptimizer(m, rules[rule], learning_rate=0.1) for m in models]
                where = f"a {d}-{h}-{c} net, batches of {n}, {rule}"
                for step in range(3):
                    x, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
                    got = train_step(models[0], loss_fn, optimizers[0], x.copy(), y.copy())
                    assert isinstance(got, tuple) and len(got) == 2, "train_step must return a pair (loss, scores)."
                    expected = reference_train_step(models[1], loss_fn, optimizers[1], x, y)
                    grading.check_with_reference("train_step", got[0], expected[0], what=f"the loss of step {step + 1}", inputs=where)
                    grading.check_with_reference("train_step", got[1], expected[1], what=f"the scores of step {step + 1}", inputs=where)
                    for (name, p, _), (_, p_ref, _) in zip(models[0].parameters(), models[1].parameters()):
                        grading.check_with_reference("train_step", p, p_ref, what=f"parameter {name} after step {step + 1}", inputs=where)
            print("ok: train_step agrees with the reference over 3 steps on 3 random nets")
            """,
            points=2,
        )
    )

    full_loss = reference_epoch(tiny_net(), EPOCH_X, EPOCH_Y, 10, 0)
    model = tiny_net()
    epoch_loss = reference_epoch(model, EPOCH_X, EPOCH_Y, 4, 0)
    epoch_w = model.layers[0].params["w"].copy()
    order0 = np.random.default_rng(0).permutation(10)
    c.append(
        markdown(
            r"""
            **Exercise 1b.** `train_epoch(model, loss_fn, optimizer, X, y, batch_size, rng)` makes one pass over the
            training set `X` `(N, ...)`, `y` `(N,)`:

            1. put the model in training mode (`model.train()`: dropout and batch norm behave differently in training);
            2. shuffle: `order = rng.permutation(N)` (a new order every epoch, so the same examples do not always share a
               batch);
            3. for `start = 0, B, 2B, ...` take the batch `idx = order[start:start + B]` (the last one may be smaller)
               and call your `train_step` on `X[idx]`, `y[idx]`.

            Return the mean loss **per example** over the epoch, a `float`: weight each batch's loss by its size,
            $\frac{1}{N}\sum_{\text{batches}} B_i \,\ell_i$ (a plain mean of the batch losses would over-weight a small
            last batch).
            """
        )
    )
    c.append(
        solution(
            "train_epoch",
            '''
            def train_epoch(model, loss_fn, optimizer, X, y, batch_size, rng):
                """One pass over (X, y) in shuffled mini-batches of batch_size. Returns the mean loss per example."""
                ### BEGIN SOLUTION
                model.train()
                n = len(X)
                order = rng.permutation(n)
                total = 0.0
                for start in range(0, n, batch_size):
                    idx = order[start:start + batch_size]
                    loss, _ = train_step(model, loss_fn, optimizer, X[idx], y[idx])
                    total += loss * len(idx)
                return total / n
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "train_epoch",
            helpers_src
            + fill(
                """

X, y = <<X>>, <<y>>
model = tiny_net()
mean_loss = train_epoch(model, softmax_cross_entropy, HalfStepSGD(model), X, y, 10, np.random.default_rng(0))
# Isolation case: with batch_size = N there is one batch, and the order does not matter.
grading.expect_close("train_epoch with batch_size = N = 10 (one full batch)", mean_loss, <<full>>,
                     hint="with a single batch, the epoch's mean loss is the loss of train_step on all of X.")
model = tiny_net()
mean_loss = train_epoch(model, softmax_cross_entropy, HalfStepSGD(model), X, y, 4, np.random.default_rng(0))
assert isinstance(mean_loss, float), f"train_epoch must return a Python float, got {type(mean_loss).__name__}."
grading.expect_close("first-layer weights after an epoch of batches of 4, 4 and 2", model.layers[0].params["w"], <<w>>,
                     hint="take the batches in the order order = rng.permutation(N) (here <<order>>): order[0:4], order[4:8], order[8:10].")
grading.expect_close("mean loss of that epoch", mean_loss, <<loss>>,
                     hint="weight each batch's loss by its size and divide by N (not the plain mean of the three batch losses).")
""",
                X=literal(EPOCH_X),
                y=literal(EPOCH_Y),
                full=literal(full_loss),
                w=literal(epoch_w),
                loss=literal(epoch_loss),
                order=str(order0.tolist()),
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "train_epoch",
            """
            reference_train_step = grading.reference("training.train.train_step")
            reference_minibatches = grading.reference("data.batching.iterate_minibatches")
            ReferenceOptimizer = grading.reference("training.optim.Optimizer")
            reference_sgd = grading.reference("training.optim.sgd")
            loss_fn = grading.reference("layers.losses.softmax_cross_entropy")
            for trial in range(3):
                rng = np.random.default_rng(grading.check_seed("a04.train_epoch", trial))
                n, d, h, c = int(rng.integers(5, 25)), int(rng.integers(2, 6)), int(rng.integers(2, 8)), int(rng.integers(2, 5))
                batch_size, seed = int(rng.integers(1, 9)), int(rng.integers(0, 1000))
                X, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
                models = [Sequential(Linear(d, h, rng=seed, dtype=np.float64), ReLU(), Linear(h, c, rng=seed + 1, dtype=np.float64))
                          for _ in range(2)]
                optimizers = [ReferenceOptimizer(m, reference_sgd, learning_rate=0.2) for m in models]
                got = train_epoch(models[0], loss_fn, optimizers[0], X.copy(), y.copy(), batch_size, np.random.default_rng(seed))
                total = 0.0
                for xb, yb in reference_minibatches(X, y, batch_size, np.random.default_rng(seed)):
                    total += reference_train_step(models[1], loss_fn, optimizers[1], xb, yb)[0] * len(xb)
                where = f"N={n}, batch_size={batch_size}, a {d}-{h}-{c} net"
                grading.check_with_reference("train_epoch", got, total / n, what="the mean loss", inputs=where)
                for (name, p, _), (_, p_ref, _) in zip(models[0].parameters(), models[1].parameters()):
                    grading.check_with_reference("train_epoch", p, p_ref, what=f"parameter {name} after the epoch", inputs=where)
            print("ok: train_epoch agrees with the reference on 3 random data sets and batch sizes")
            """,
            points=2,
        )
    )

    # ---- 2. update rules ----------------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 2. Update rules

            Every rule has the same interface (the CS231n one):

            ```python
            next_w, config = rule(w, dw, config)
            ```

            `w` is a parameter array of any shape, `dw` its gradient (same shape); `next_w` is a **new** array of
            that shape (never change `w` or `dw` in place). `config` is a dict with the rule's hyper-parameters and its
            **state** (velocities, averages, the step count), or `None`: start from `config = {} if config is None else
            config`, fill in every missing hyper-parameter with `config.setdefault(name, default)` (defaults listed
            per rule), create missing state arrays as `np.zeros_like(w)` and store the updated state back in `config`,
            then return it. One config belongs to one parameter; the optimizer keeps one per parameter.

            **Exercise 2a.** Vanilla SGD, $w \leftarrow w - \alpha\, dw$. Hyper-parameter `learning_rate` $\alpha$
            (default `1e-2`).
            """
        )
    )
    c.append(
        solution(
            "sgd",
            '''
            def sgd(w, dw, config=None):
                """w <- w - learning_rate * dw. Returns (next_w, config)."""
                ### BEGIN SOLUTION
                config = {} if config is None else config
                config.setdefault("learning_rate", 1e-2)
                next_w = w - config["learning_rate"] * dw
                return next_w, config
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "sgd",
            rule_visible("sgd", {"learning_rate": 0.1}, ["w - 0.1 * dw, from the w of the previous step."])
            + fill(
                """
next_w, config = sgd(w0.copy(), dws[0], None)
grading.expect_close("sgd with config=None (the default learning rate 1e-2)", next_w, <<dflt>>,
                     hint="with config None, start from {} and use config.setdefault('learning_rate', 1e-2).")
assert config.get("learning_rate") == 1e-2, "sgd must return the config with the learning rate it used."
""",
                dflt=literal(W0 - 1e-2 * DWS[0]),
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "sgd",
            RULE_HIDDEN
            + """
_check_rule(sgd, "sgd", lambda rng: {"learning_rate": float(rng.uniform(0.01, 1.0))})
""",
            points=1,
        )
    )

    mom_cfg = {"learning_rate": 0.1, "momentum": 0.9}
    mom_zero = run_rule(optim.sgd_momentum, mom_cfg, W0, [DWS[0], np.zeros(3)])
    c.append(
        markdown(
            r"""
            **Exercise 2b.** SGD with momentum. The velocity $v$ (state `config["velocity"]`, zeros at first) is a decaying
            sum of past steps, so directions that agree from step to step speed up and oscillating ones cancel:

            $$v \leftarrow \mu\, v - \alpha\, dw, \qquad w \leftarrow w + v .$$

            Hyper-parameters `learning_rate` $\alpha$ (`1e-2`) and `momentum` $\mu$ (`0.9`). (Lecture 004 writes the
            average form $V \leftarrow \beta V + (1-\beta) \nabla$, $\theta \leftarrow \theta - \gamma V$: the same
            method with the learning rate rescaled by $1 - \beta$.)
            """
        )
    )
    c.append(
        solution(
            "sgd_momentum",
            '''
            def sgd_momentum(w, dw, config=None):
                """v <- momentum * v - learning_rate * dw; w <- w + v. Returns (next_w, config)."""
                ### BEGIN SOLUTION
                config = {} if config is None else config
                config.setdefault("learning_rate", 1e-2)
                config.setdefault("momentum", 0.9)
                v = config.get("velocity", np.zeros_like(w))
                v = config["momentum"] * v - config["learning_rate"] * dw
                config["velocity"] = v
                return w + v, config
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "sgd_momentum",
            fill(
                """
# Isolation case: a zero gradient at step 2 leaves the momentum term alone (w moves by mu * v).
w1, config = sgd_momentum(<<w0>>, <<dw0>>, {"learning_rate": 0.1, "momentum": 0.9})
grading.expect_close("w after step 1 (v starts at zero, so this is a plain SGD step)", w1, <<m1>>,
                     hint="v = 0.9 * 0 - 0.1 * dw, then w + v.")
w2, config = sgd_momentum(w1, np.zeros(3), config)
grading.expect_close("w after a step with dw = 0 (the momentum term alone)", w2, <<m2>>,
                     hint="keep v in config['velocity'] between calls: with dw = 0 the step is v <- 0.9 v, w <- w + v.")
""",
                w0=literal(W0),
                dw0=literal(DWS[0]),
                m1=literal(mom_zero[0]),
                m2=literal(mom_zero[1]),
            )
            + rule_visible(
                "sgd_momentum",
                mom_cfg,
                [
                    "step 1 is plain SGD: v = -0.1 dw.",
                    "v <- 0.9 v - 0.1 dw with v from config['velocity'], then w + v.",
                ],
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "sgd_momentum",
            RULE_HIDDEN
            + """
_check_rule(sgd_momentum, "sgd_momentum",
            lambda rng: {"learning_rate": float(rng.uniform(0.01, 1.0)), "momentum": float(rng.uniform(0.5, 0.99))})
""",
            points=2,
        )
    )

    c.append(
        markdown(
            r"""
            **Exercise 2c.** Nesterov momentum evaluates the gradient at the look-ahead point $w + \mu v$. Written in terms
            of the look-ahead parameters (the ones we store), the step is the new velocity plus one more momentum term:

            $$v \leftarrow \mu\, v - \alpha\, dw, \qquad w \leftarrow w + \mu\, v - \alpha\, dw \quad (\text{with the new } v).$$

            Same hyper-parameters and state as momentum (`learning_rate` `1e-2`, `momentum` `0.9`, `config["velocity"]`).
            This is CS231n's `w - mu * v_prev + (1 + mu) * v` and PyTorch's `SGD(nesterov=True)` in another notation.
            """
        )
    )
    c.append(
        solution(
            "nesterov",
            '''
            def nesterov(w, dw, config=None):
                """v <- momentum * v - learning_rate * dw; w <- w + momentum * v - learning_rate * dw. Returns (next_w, config)."""
                ### BEGIN SOLUTION
                config = {} if config is None else config
                config.setdefault("learning_rate", 1e-2)
                config.setdefault("momentum", 0.9)
                mu, lr = config["momentum"], config["learning_rate"]
                v = mu * config.get("velocity", np.zeros_like(w)) - lr * dw
                config["velocity"] = v
                return w + mu * v - lr * dw, config
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "nesterov",
            rule_visible(
                "nesterov",
                mom_cfg,
                [
                    "step 1: v = -0.1 dw, so w + 0.9 v - 0.1 dw = w - 0.19 dw.",
                    "use the NEW velocity in w + mu * v - lr * dw, and keep v in config['velocity'].",
                ],
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "nesterov",
            RULE_HIDDEN
            + """
_check_rule(nesterov, "nesterov",
            lambda rng: {"learning_rate": float(rng.uniform(0.01, 1.0)), "momentum": float(rng.uniform(0.5, 0.99))})
""",
            points=2,
        )
    )

    c.append(
        markdown(
            r"""
            **Exercise 2d.** Adagrad gives every coordinate its own step size, smaller for coordinates that have seen
            large gradients. With the state $c$ = `config["cache"]` (zeros at first), element-wise:

            $$c \leftarrow c + dw^2, \qquad w \leftarrow w - \alpha \frac{dw}{\sqrt{c} + \epsilon} .$$

            Hyper-parameters `learning_rate` $\alpha$ (`1e-2`), `eps` $\epsilon$ (`1e-10`, added *after* the square root, as
            in PyTorch). The sum only grows, so the steps shrink for ever.
            """
        )
    )
    c.append(
        solution(
            "adagrad",
            '''
            def adagrad(w, dw, config=None):
                """cache <- cache + dw**2; w <- w - learning_rate * dw / (sqrt(cache) + eps). Returns (next_w, config)."""
                ### BEGIN SOLUTION
                config = {} if config is None else config
                config.setdefault("learning_rate", 1e-2)
                config.setdefault("eps", 1e-10)
                cache = config.get("cache", np.zeros_like(w)) + dw * dw
                config["cache"] = cache
                return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["eps"]), config
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "adagrad",
            rule_visible(
                "adagrad",
                {"learning_rate": 0.1},
                [
                    "step 1: the cache is dw**2, so the step is 0.1 * dw / |dw|, about 0.1 * sign(dw).",
                    "the cache is a running SUM of dw**2 kept in config['cache']; divide by sqrt(cache) + eps.",
                ],
            )
            + EPS_CHECK.replace("<<rule>>", "adagrad").replace(
                "<<expected>>", literal(run_rule(optim.adagrad, {"learning_rate": 0.1, "eps": 0.5})[0])
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "adagrad",
            RULE_HIDDEN
            + """
_check_rule(adagrad, "adagrad",
            lambda rng: {"learning_rate": float(rng.uniform(0.01, 1.0)), "eps": float(rng.choice([1e-3, 1e-1]))})
""",
            points=1,
        )
    )

    c.append(
        markdown(
            r"""
            **Exercise 2e.** Adadelta (Zeiler 2012) makes the step's units match $w$'s, with no hand-tuned global scale.
            It keeps two leaky averages, $s$ of squared gradients (`config["square_avg"]`) and $u$ of squared steps
            (`config["delta_avg"]`), both zeros at first:

            $$s \leftarrow \rho\, s + (1-\rho)\, dw^2, \qquad \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{s + \epsilon}}\, dw,
            \qquad u \leftarrow \rho\, u + (1-\rho)\, \Delta^2, \qquad w \leftarrow w - \alpha\, \Delta .$$

            Hyper-parameters `learning_rate` $\alpha$ (`1.0`, Zeiler's rule has none; PyTorch keeps it as a scale), `rho`
            $\rho$ (`0.9`), `eps` $\epsilon$ (`1e-6`, inside both roots). Note the order: $u$ is updated with the new
            $\Delta$, after $\Delta$ has used the old $u$.
            """
        )
    )
    c.append(
        solution(
            "adadelta",
            '''
            def adadelta(w, dw, config=None):
                """Leaky averages of dw**2 and of squared steps set the step size. Returns (next_w, config)."""
                ### BEGIN SOLUTION
                config = {} if config is None else config
                config.setdefault("learning_rate", 1.0)
                config.setdefault("rho", 0.9)
                config.setdefault("eps", 1e-6)
                rho, eps = config["rho"], config["eps"]
                s = rho * config.get("square_avg", np.zeros_like(w)) + (1 - rho) * dw * dw
                u = config.get("delta_avg", np.zeros_like(w))
                delta = np.sqrt(u + eps) / np.sqrt(s + eps) * dw
                config["square_avg"] = s
                config["delta_avg"] = rho * u + (1 - rho) * delta * delta
                return w - config["learning_rate"] * delta, config
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "adadelta",
            rule_visible(
                "adadelta",
                {"rho": 0.5},
                [
                    "step 1: s = 0.5 dw**2 and u = 0, so delta = sqrt(eps) / sqrt(s + eps) * dw (tiny: Adadelta starts slowly).",
                    "update s first, compute delta with the OLD u, then update u with delta**2; keep both in config.",
                ],
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "adadelta",
            RULE_HIDDEN
            + """
_check_rule(adadelta, "adadelta",
            lambda rng: {"learning_rate": float(rng.uniform(0.5, 2.0)), "rho": float(rng.uniform(0.5, 0.99)),
                         "eps": float(rng.choice([1e-3, 1e-1]))})
""",
            points=2,
        )
    )

    c.append(
        markdown(
            r"""
            **Exercise 2f.** RMSProp is Adagrad with a leaky average instead of a sum, so old gradients are forgotten and
            the steps do not shrink to zero. With `config["cache"]` (zeros at first):

            $$c \leftarrow \rho\, c + (1-\rho)\, dw^2, \qquad w \leftarrow w - \alpha \frac{dw}{\sqrt{c} + \epsilon} .$$

            Hyper-parameters `learning_rate` $\alpha$ (`1e-2`), `decay_rate` $\rho$ (`0.99`), `eps` $\epsilon$ (`1e-8`,
            outside the root, as in PyTorch).
            """
        )
    )
    c.append(
        solution(
            "rmsprop",
            '''
            def rmsprop(w, dw, config=None):
                """cache <- rho cache + (1 - rho) dw**2; w <- w - lr dw / (sqrt(cache) + eps). Returns (next_w, config)."""
                ### BEGIN SOLUTION
                config = {} if config is None else config
                config.setdefault("learning_rate", 1e-2)
                config.setdefault("decay_rate", 0.99)
                config.setdefault("eps", 1e-8)
                rho = config["decay_rate"]
                cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw * dw
                config["cache"] = cache
                return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["eps"]), config
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "rmsprop",
            rule_visible(
                "rmsprop",
                {"learning_rate": 0.1, "decay_rate": 0.9},
                [
                    "step 1: cache = 0.1 dw**2, so the step is 0.1 * dw / (sqrt(0.1) |dw|).",
                    "cache <- 0.9 cache + 0.1 dw**2, kept in config['cache'] (a leaky average, not a sum).",
                ],
            )
            + EPS_CHECK.replace("<<rule>>", "rmsprop").replace(
                "<<expected>>", literal(run_rule(optim.rmsprop, {"learning_rate": 0.1, "eps": 0.5})[0])
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "rmsprop",
            RULE_HIDDEN
            + """
_check_rule(rmsprop, "rmsprop",
            lambda rng: {"learning_rate": float(rng.uniform(0.01, 1.0)), "decay_rate": float(rng.uniform(0.5, 0.999)),
                         "eps": float(rng.choice([1e-3, 1e-1]))})
""",
            points=1,
        )
    )

    adam_cfg = {"learning_rate": 0.1}
    adam_cfg_state = copy.deepcopy(adam_cfg)
    w_tmp = W0.copy()
    for dw in DWS:
        w_tmp, adam_cfg_state = optim.adam(w_tmp, dw.copy(), adam_cfg_state)
    c.append(
        markdown(
            r"""
            **Exercise 2g.** Adam (Kingma and Ba 2015): momentum on the gradient and RMSProp scaling, both bias-corrected.
            State: `config["m"]`, `config["v"]` (zeros at first) and the step count `config["t"]` (0 at first):

            $$t \leftarrow t + 1, \qquad m \leftarrow \beta_1 m + (1-\beta_1)\, dw, \qquad v \leftarrow \beta_2 v + (1-\beta_2)\, dw^2,$$
            $$\hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t}, \qquad w \leftarrow w - \alpha \frac{\hat m}{\sqrt{\hat v} + \epsilon} .$$

            Hyper-parameters `learning_rate` $\alpha$ (`1e-3`), `beta1` (`0.9`), `beta2` (`0.999`), `eps` (`1e-8`). Because
            $m$ and $v$ start at zero, without the corrections the first steps would be biased towards zero.
            """
        )
    )
    c.append(
        solution(
            "adam",
            '''
            def adam(w, dw, config=None):
                """Bias-corrected first and second moment estimates. Returns (next_w, config)."""
                ### BEGIN SOLUTION
                config = {} if config is None else config
                config.setdefault("learning_rate", 1e-3)
                config.setdefault("beta1", 0.9)
                config.setdefault("beta2", 0.999)
                config.setdefault("eps", 1e-8)
                config.setdefault("t", 0)
                beta1, beta2 = config["beta1"], config["beta2"]
                config["t"] += 1
                t = config["t"]
                m = beta1 * config.get("m", np.zeros_like(w)) + (1 - beta1) * dw
                v = beta2 * config.get("v", np.zeros_like(w)) + (1 - beta2) * dw * dw
                config["m"], config["v"] = m, v
                m_hat = m / (1 - beta1**t)
                v_hat = v / (1 - beta2**t)
                return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["eps"]), config
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "adam",
            rule_visible(
                "adam",
                adam_cfg,
                [
                    "step 1: with the bias corrections m_hat = dw and v_hat = dw**2, so the step is about 0.1 * sign(dw). Check the corrections 1 - beta**t.",
                    "keep m, v and the step count t in config; t goes up by one BEFORE the bias corrections.",
                ],
            )
            + """grading.expect_equal("config['t'] after 3 steps", config.get("t"), 3, hint="count the steps in config['t'], starting from 0.")
""",
            points=2,
        )
    )
    c.append(
        hidden_test(
            "adam",
            RULE_HIDDEN
            + """
_check_rule(adam, "adam",
            lambda rng: {"learning_rate": float(rng.uniform(0.001, 0.5)), "beta1": float(rng.uniform(0.5, 0.95)),
                         "beta2": float(rng.uniform(0.9, 0.9999)), "eps": float(rng.choice([1e-3, 1e-1]))},
            steps=5)
""",
            points=2,
        )
    )

    # ---- 3. weight decay and clipping --------------------------------------------------------------------
    g_wd = [np.array([[1.0, -2.0], [0.5, 0.0]]), np.array([0.5, -1.0])]
    p_wd = [np.array([[2.0, 1.0], [-1.0, 4.0]]), np.array([1.0, 3.0])]
    wd_out = optim.add_weight_decay(g_wd, p_wd, 0.1)
    c.append(
        markdown(
            r"""
            ## 3. L2 weight decay and gradient-norm clipping

            **L2 weight decay** adds the penalty $\frac{\lambda}{2}\sum_W \lVert W \rVert^2$ over the parameters to the loss
            (assignment 01's ridge term). Its gradient with respect to each parameter is $\lambda W$, so in practice it is
            applied to the gradients just before the update rule: $dW \leftarrow dW + \lambda W$ (what `weight_decay` means
            in `torch.optim.SGD` and `Adam`).

            **Exercise 3a.** `add_weight_decay(grads, params, weight_decay)`: `grads` and `params` are matching lists,
            tuples or dicts of arrays (same keys or order, same shapes). Return the decayed gradients $g + \lambda w$ as
            **new** arrays in the same kind of container (list, tuple or dict with the same keys); leave the inputs unchanged.
            """
        )
    )
    c.append(
        solution(
            "add_weight_decay",
            '''
            def add_weight_decay(grads, params, weight_decay):
                """g + weight_decay * w for every (g, w) pair, in grads' container type. Inputs unchanged."""
                ### BEGIN SOLUTION
                if isinstance(grads, dict):
                    return {k: grads[k] + weight_decay * params[k] for k in grads}
                return type(grads)(g + weight_decay * p for g, p in zip(grads, params))
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "add_weight_decay",
            fill(
                """
grads = <<g>>
params = <<p>>
grads_before = [g.copy() for g in grads]
out = add_weight_decay(grads, params, 0.1)
assert isinstance(out, list) and len(out) == 2, "a list of 2 gradients in, a list of 2 decayed gradients out."
# Isolation case: a zero gradient leaves the decay term alone.
zero = add_weight_decay([np.zeros((2, 2))], [params[0]], 0.1)[0]
grading.expect_close("decayed gradient of a zero gradient (the decay term alone)", zero, 0.1 * params[0],
                     hint="the decay term is weight_decay * w (the gradient of (lambda / 2) ||w||^2), not weight_decay / 2 * w.")
grading.expect_close("decayed gradient 0", out[0], <<o0>>, hint="g + weight_decay * w.")
grading.expect_close("decayed gradient 1", out[1], <<o1>>, hint="every pair (g, w) in order.")
for i in range(2):
    grading.expect_close(f"grads[{i}] after the call", grads[i], grads_before[i], rtol=0, atol=0,
                         hint="return new arrays (g + weight_decay * w); do not add into grads in place.")
out_dict = add_weight_decay({"w": grads[0], "b": grads[1]}, {"w": params[0], "b": params[1]}, 0.1)
assert isinstance(out_dict, dict) and sorted(out_dict) == ["b", "w"], "a dict in, a dict with the same keys out."
grading.expect_close("decayed gradient 'b' of a dict", out_dict["b"], <<o1>>, hint="pair the arrays by key in a dict.")
out_tuple = add_weight_decay(tuple(grads), tuple(params), 0.0)
assert isinstance(out_tuple, tuple), "a tuple in, a tuple out."
grading.expect_close("decayed gradient 0 with weight_decay = 0", out_tuple[0], grads_before[0], hint="lambda = 0 changes nothing.")
""",
                g="[" + ", ".join(literal(g) for g in g_wd) + "]",
                p="[" + ", ".join(literal(p) for p in p_wd) + "]",
                o0=literal(wd_out[0]),
                o1=literal(wd_out[1]),
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "add_weight_decay",
            """
            reference_decay = grading.reference("training.optim.add_weight_decay")
            for trial in range(4):
                rng = np.random.default_rng(grading.check_seed("training.optim.add_weight_decay", trial))
                shapes = [tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 3)))) for _ in range(int(rng.integers(1, 4)))]
                grads = [rng.standard_normal(s) for s in shapes]
                params = [rng.standard_normal(s) for s in shapes]
                lam = float(rng.uniform(0, 0.5))
                if trial % 2:
                    grads, params = dict(zip("abc", grads)), dict(zip("abc", params))
                before = {k: v.copy() for k, v in (grads.items() if isinstance(grads, dict) else enumerate(grads))}
                got = add_weight_decay(grads, params, lam)
                expected = reference_decay(grads, params, lam)
                where = f"{type(grads).__name__} of arrays of shapes {shapes}, weight_decay={lam:.3g}"
                assert type(got) is type(expected), f"add_weight_decay returned a {type(got).__name__} for a {type(grads).__name__} ({where})."
                keys = list(expected) if isinstance(expected, dict) else range(len(expected))
                assert len(got) == len(expected), f"add_weight_decay returned {len(got)} gradients, expected {len(expected)} ({where})."
                for k in keys:
                    grading.check_with_reference("add_weight_decay", got[k], expected[k], what=f"gradient {k!r}", inputs=where)
                    grading.check_with_reference("add_weight_decay", grads[k], before[k], rtol=0, atol=0,
                                                 what=f"the input grads[{k!r}] (it must not change)", inputs=where)
            print("ok: add_weight_decay agrees with the reference on lists and dicts")
            """,
            points=1,
        )
    )

    c.append(
        markdown(
            r"""
            A step's size is proportional to the gradient, so one huge gradient (a cliff of the loss, common in recurrent
            nets) can throw the parameters far away. **Gradient-norm clipping** caps the global norm of all gradients
            together, keeping their direction:

            $$\lVert g \rVert = \sqrt{\textstyle\sum_{\text{arrays}} \sum g^2}, \qquad \text{if } \lVert g \rVert > \text{max\_norm}:\quad g \leftarrow g \cdot \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}} .$$

            **Exercise 3b.** `clip_grad_norm(grads, max_norm)`: `grads` is a list, tuple or dict of float arrays, rescaled
            **in place** (`g *= scale`: the modules keep referring to these arrays); return the total norm *before*
            clipping as a Python float. If the norm is at most `max_norm` nothing changes. (Same as
            `torch.nn.utils.clip_grad_norm_`.)
            """
        )
    )
    c.append(
        solution(
            "clip_grad_norm",
            '''
            def clip_grad_norm(grads, max_norm):
                """Rescale grads in place so that their global L2 norm is at most max_norm. Returns the norm before."""
                ### BEGIN SOLUTION
                arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
                total_norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in arrays)))
                scale = max_norm / (total_norm + 1e-6)
                if scale < 1:
                    for g in arrays:
                        g *= scale
                return total_norm
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "clip_grad_norm",
            """
            grads = [np.array([[3.0, 0.0], [0.0, 0.0]]), np.array([0.0, 4.0])]  # global norm 5
            norm = clip_grad_norm(grads, 10.0)
            grading.expect_close("the norm returned for gradients [[3, 0], [0, 0]] and [0, 4]", norm, 5.0,
                                 hint="the GLOBAL norm: sqrt of the sum of squares over all arrays together (3**2 + 4**2 = 25).")
            grading.expect_close("gradient 1 with max_norm = 10 > norm", grads[1], np.array([0.0, 4.0]),
                                 hint="a norm below max_norm leaves the gradients unchanged.")
            norm = clip_grad_norm(grads, 1.0)
            grading.expect_close("the norm returned when clipping", norm, 5.0, hint="return the norm BEFORE clipping.")
            grading.expect_close("gradient 0 after clipping to norm 1, in place", grads[0], np.array([[3.0, 0.0], [0.0, 0.0]]) / (5 + 1e-6),
                                 hint="multiply every array by max_norm / (norm + 1e-6) in place (g *= scale), so the list you were given changes.")
            grading.expect_close("gradient 1 after clipping to norm 1, in place", grads[1], np.array([0.0, 4.0]) / (5 + 1e-6),
                                 hint="the same scale for every array keeps the direction of the whole gradient.")
            grads = {"w": np.array([1.0, 2.0, 2.0])}
            grading.expect_close("the norm of a dict of gradients", clip_grad_norm(grads, 0.5), 3.0,
                                 hint="for a dict, clip its values.")
            grading.expect_close("the dict's gradient after clipping to 0.5", grads["w"], np.array([1.0, 2.0, 2.0]) * 0.5 / (3 + 1e-6),
                                 hint="scale = max_norm / (norm + 1e-6).")
            """,
            points=1,
        )
    )
    c.append(
        hidden_test(
            "clip_grad_norm",
            """
            reference_clip = grading.reference("training.optim.clip_grad_norm")
            for trial in range(4):
                rng = np.random.default_rng(grading.check_seed("training.optim.clip_grad_norm", trial))
                shapes = [tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 3)))) for _ in range(int(rng.integers(1, 4)))]
                grads = [rng.standard_normal(s) * 3 for s in shapes]
                norm = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
                max_norm = float(norm * rng.choice([0.1, 0.5, 2.0]))  # clipped in some trials, not in others
                mine, theirs = [g.copy() for g in grads], [g.copy() for g in grads]
                if trial == 3:
                    mine, theirs = dict(enumerate(mine)), dict(enumerate(theirs))
                where = f"{len(shapes)} arrays of shapes {shapes}, max_norm = {max_norm / norm:.1f} x the norm"
                got = clip_grad_norm(mine, max_norm)
                expected = reference_clip(theirs, max_norm)
                grading.check_with_reference("clip_grad_norm", got, expected, what="the returned norm", inputs=where)
                for i in range(len(shapes)):
                    grading.check_with_reference("clip_grad_norm", mine[i], theirs[i], what=f"gradient {i} after the call (in place)", inputs=where)
            print("ok: clip_grad_norm agrees with the reference on 4 random gradient lists")
            """,
            points=2,
        )
    )

    # ---- the notebook's optimizer ------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ### An optimizer made of your functions

            `SimpleOptimizer` is `course.training.optim.Optimizer` rewritten on top of your functions: it keeps one config per
            parameter and, per step, clips the gradients (if `max_grad_norm` is given, with your `clip_grad_norm`), adds
            the weight decay (your `add_weight_decay`) and applies your update rule to every parameter, in place, so the
            modules keep pointing at the same arrays. The experiments below train with it.
            """
        )
    )
    c.append(
        code(
            '''
            class SimpleOptimizer:
                """SimpleOptimizer(model, adam, learning_rate=1e-3): your rule on every parameter of model."""

                def __init__(self, model, rule, weight_decay=0.0, max_grad_norm=None, **hyper):
                    self.model, self.rule = model, rule
                    self.weight_decay, self.max_grad_norm = weight_decay, max_grad_norm
                    self.configs = {name: dict(hyper) for name, _, _ in model.parameters()}
                    self.grad_norms = []  # norms before clipping, one per step (when clipping)

                def zero_grad(self):
                    self.model.zero_grad()

                def step(self):
                    named = list(self.model.parameters())
                    grads = [g for _, _, g in named]
                    if self.max_grad_norm is not None:
                        self.grad_norms.append(clip_grad_norm(grads, self.max_grad_norm))
                    if self.weight_decay:
                        grads = add_weight_decay(grads, [p for _, p, _ in named], self.weight_decay)
                    for (name, p, _), g in zip(named, grads):
                        next_p, self.configs[name] = self.rule(p, g, self.configs[name])
                        p[...] = next_p  # in place: the module keeps referring to the same array
            '''
        )
    )

    # ---- 4. optimiser race ----------------------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ## 4. The optimiser race

            The same 64-64-64-10 ReLU net (same initial weights) trained on the digits (8x8 images, 1197 training
            examples) by each of the seven rules, for 300 steps on the **same** sequence of mini-batches of 32, each rule
            with a learning rate in its usual range. The curves are the training loss of each step, smoothed over 15
            steps; the legend gives the validation accuracy at the end.

            **What to see:** plain SGD is by far the slowest; momentum and Nesterov, with the same learning rate, reach a
            loss several times lower (their steps are up to $1/(1-\mu) = 10$ times larger along directions that agree from
            step to step); RMSProp and Adam keep up with a learning rate about 15 times smaller, because they divide each
            coordinate by its own gradient scale; Adagrad does well on a run this short (its steps only shrink for good
            over long runs), and Adadelta, with no learning rate to tune, is not far behind. Every curve is noisy: each point is
            the loss of one small mini-batch. (Try Adam at its default `1e-3`: on this net it is slower than momentum.)
            """
        )
    )
    c.append(
        code(
            """
            X_train, y_train = load_digits("train")
            X_val, y_val = load_digits("val")


            def digits_mlp(seed=0, hidden=64):
                \"\"\"A 64-hidden-hidden-10 ReLU net for the 8x8 digits (float32, He initialisation by Linear).\"\"\"
                return Sequential(Linear(64, hidden, rng=seed, input_grad=False), ReLU(),
                                  Linear(hidden, hidden, rng=seed + 1), ReLU(), Linear(hidden, 10, rng=seed + 2))


            race = {
                "SGD, lr 0.05": (sgd, {"learning_rate": 0.05}),
                "momentum, lr 0.05": (sgd_momentum, {"learning_rate": 0.05}),
                "Nesterov, lr 0.05": (nesterov, {"learning_rate": 0.05}),
                "Adagrad, lr 0.05": (adagrad, {"learning_rate": 0.05}),
                "Adadelta, lr 1": (adadelta, {"learning_rate": 1.0}),
                "RMSProp, lr 3e-3": (rmsprop, {"learning_rate": 3e-3}),
                "Adam, lr 3e-3": (adam, {"learning_rate": 3e-3}),
            }
            batch_rng = np.random.default_rng(0)
            batches = [batch_rng.choice(len(X_train), 32, replace=False) for _ in range(300)]
            kernel = np.ones(15) / 15

            fig, ax = plt.subplots(figsize=(8, 4.5))
            for label, (rule, hyper) in race.items():
                model = digits_mlp()
                optimizer = SimpleOptimizer(model, rule, **hyper)
                losses = [train_step(model, softmax_cross_entropy, optimizer, X_train[i], y_train[i])[0] for i in batches]
                val_acc = evaluate(model, softmax_cross_entropy, X_val, y_val)[1]
                smooth = np.convolve(losses, kernel, mode="valid")
                ax.plot(np.arange(len(smooth)) + len(kernel), smooth, label=f"{label} (val acc {100 * val_acc:.0f}%)")
            ax.set_yscale("log")
            ax.set_xlabel("step (mini-batch of 32)")
            ax.set_ylabel("training loss (cross-entropy, smoothed)")
            ax.set_title("Seven update rules on the same net and the same mini-batches")
            ax.legend(fontsize=8)
            plt.show()
            """
        )
    )

    # ---- 5. initialisation -----------------------------------------------------------------------------
    init_shape = (3, 4)
    c.append(
        markdown(
            r"""
            ## 5. Initialisation

            For a layer $y = x W$ with `fan_in` inputs and independent zero-mean weights of variance $s^2$,
            $\mathrm{Var}(y) = \text{fan\_in}\; s^2\, \mathrm{Var}(x)$. To keep the size of the activations through depth
            (and, symmetrically, of the gradients going back, which see `fan_out`):

            - **Glorot / Xavier** (Glorot and Bengio 2010; tanh, sigmoid, linear layers):
              $s^2 = \text{gain}^2 \cdot \frac{2}{\text{fan\_in} + \text{fan\_out}}$, a compromise between the forward
              (`fan_in`) and backward (`fan_out`) conditions;
            - **He / Kaiming** (He et al. 2015; ReLU layers): $s^2 = \frac{2}{\text{fan\_in}}$, because ReLU zeroes half
              of its inputs and so halves the second moment.

            A uniform $U(-a, a)$ has variance $a^2/3$, so the uniform variants use $a = \sqrt{3}\, s$:
            $a = \text{gain}\sqrt{6 / (\text{fan\_in} + \text{fan\_out})}$ (Glorot) and $a = \sqrt{6 / \text{fan\_in}}$ (He).

            `fans(shape)` (imported from `course.training.init`) returns `(fan_in, fan_out)`: `(D, M)` for an affine weight of
            shape `(D, M)` (our layers compute `x @ w`), and `(C k_1 k_2, F k_1 k_2)` for convolution filters
            `(F, C, k_1, k_2)`.

            **Exercise 5.** Four initialisers with the signature `(shape, rng, dtype=np.float32[, gain=1.0])`, each returning
            an array of `shape` and `dtype`. Draw the numbers in one call, so that the same generator gives the same
            weights as the reference: `rng.uniform(-a, a, size=shape)` for the uniform ones and
            `s * rng.standard_normal(shape)` for the normal ones; then `.astype(dtype)`.
            """
        )
    )

    def init_cells(
        name: str, src: str, has_gain: bool, std_fn, hint_values: str, hint_std: str, hidden_points: int
    ) -> None:
        ref = getattr(init, name)
        vals = ref(init_shape, np.random.default_rng(0), dtype=np.float64)
        conv = ref((4, 3, 2, 2), np.random.default_rng(1), dtype=np.float64)
        gain_line = ""
        if has_gain:
            vals_g = ref(init_shape, np.random.default_rng(0), dtype=np.float64, gain=2.0)
            gain_line = fill(
                """
grading.expect_close("<<name>>((3, 4), default_rng(0), gain=2.0)", <<name>>((3, 4), np.random.default_rng(0), np.float64, 2.0), <<vg>>,
                     hint="gain multiplies the scale: s (or a) = gain * sqrt(...).")
""",
                name=name,
                vg=literal(vals_g),
            )
        c.append(solution(name, src))
        c.append(
            visible_test(
                name,
                fill(
                    """
w = <<name>>((3, 4), np.random.default_rng(0))
grading.expect_shape("<<name>>((3, 4), rng)", w, (3, 4), hint="return an array of the requested shape.")
assert w.dtype == np.float32, f"the default dtype is float32, got {w.dtype}: finish with .astype(dtype)."
w = <<name>>((3, 4), np.random.default_rng(0), np.float64)
assert w.dtype == np.float64, f"<<name>>(..., dtype=np.float64) returned {w.dtype}."
grading.expect_close("<<name>>((3, 4), default_rng(0), float64)", w, <<vals>>, hint="<<hint_values>>")
"""
                    + gain_line
                    + """
big = <<name>>((400, 100), np.random.default_rng(2), np.float64)
grading.expect_close("the standard deviation of <<name>>((400, 100)) (fan_in 400, fan_out 100)", big.std(), <<std>>, rtol=0.03,
                     hint="<<hint_std>>")
grading.expect_close("<<name>>((4, 3, 2, 2)), convolution filters, fan_in 12, fan_out 16",
                     <<name>>((4, 3, 2, 2), np.random.default_rng(1), np.float64), <<conv>>,
                     hint="use (fan_in, fan_out) = fans(shape), which handles 4-D filter shapes.")
""",
                    name=name,
                    vals=literal(vals),
                    conv=literal(conv),
                    std=literal(std_fn(400, 100)),
                    hint_values=hint_values,
                    hint_std=hint_std,
                ),
                points=1,
            )
        )
        gain_arg = ', "gain": float(rng.uniform(0.5, 2.0))' if has_gain else ""
        c.append(
            hidden_test(
                name,
                fill(
                    """
def _inputs(rng):
    shape = tuple(int(s) for s in rng.integers(1, 7, size=int(rng.choice([2, 2, 4]))))
    return {"shape": shape, "rng": np.random.default_rng(int(rng.integers(0, 10**6))),
            "dtype": ["float32", "float64"][int(rng.integers(0, 2))]<<gain>>}

grading.check_function(<<name>>, "init.<<name>>", _inputs, trials=4)
""",
                    name=name,
                    gain=gain_arg,
                ),
                points=hidden_points,
            )
        )

    init_cells(
        "glorot_uniform",
        '''
        def glorot_uniform(shape, rng, dtype=np.float32, gain=1.0):
            """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). Returns an array of shape and dtype."""
            ### BEGIN SOLUTION
            fan_in, fan_out = fans(shape)
            limit = gain * np.sqrt(6.0 / (fan_in + fan_out))
            return rng.uniform(-limit, limit, size=tuple(shape)).astype(dtype)
            ### END SOLUTION
        ''',
        True,
        lambda fi, fo: np.sqrt(2.0 / (fi + fo)),
        "rng.uniform(-a, a, size=shape) with a = gain * sqrt(6 / (fan_in + fan_out)).",
        "the variance of U(-a, a) is a**2 / 3 = 2 / (fan_in + fan_out): a = sqrt(6 / (fan_in + fan_out)), not sqrt(2 / ...).",
        1,
    )
    init_cells(
        "glorot_normal",
        '''
        def glorot_normal(shape, rng, dtype=np.float32, gain=1.0):
            """N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)). Returns an array of shape and dtype."""
            ### BEGIN SOLUTION
            fan_in, fan_out = fans(shape)
            std = gain * np.sqrt(2.0 / (fan_in + fan_out))
            return (std * rng.standard_normal(tuple(shape))).astype(dtype)
            ### END SOLUTION
        ''',
        True,
        lambda fi, fo: np.sqrt(2.0 / (fi + fo)),
        "s * rng.standard_normal(shape) with s = gain * sqrt(2 / (fan_in + fan_out)).",
        "s = sqrt(2 / (fan_in + fan_out)) is a standard deviation: multiply by s, not by s**2.",
        1,
    )
    init_cells(
        "he_normal",
        '''
        def he_normal(shape, rng, dtype=np.float32):
            """N(0, s^2) with s = sqrt(2 / fan_in). Returns an array of shape and dtype."""
            ### BEGIN SOLUTION
            fan_in, _ = fans(shape)
            return (np.sqrt(2.0 / fan_in) * rng.standard_normal(tuple(shape))).astype(dtype)
            ### END SOLUTION
        ''',
        False,
        lambda fi, fo: np.sqrt(2.0 / fi),
        "s * rng.standard_normal(shape) with s = sqrt(2 / fan_in).",
        "s = sqrt(2 / fan_in) with fan_in = shape[0] = 400 for a (400, 100) weight (not fan_out).",
        1,
    )
    init_cells(
        "he_uniform",
        '''
        def he_uniform(shape, rng, dtype=np.float32):
            """U(-a, a) with a = sqrt(6 / fan_in). Returns an array of shape and dtype."""
            ### BEGIN SOLUTION
            fan_in, _ = fans(shape)
            limit = np.sqrt(6.0 / fan_in)
            return rng.uniform(-limit, limit, size=tuple(shape)).astype(dtype)
            ### END SOLUTION
        ''',
        False,
        lambda fi, fo: np.sqrt(2.0 / fi),
        "rng.uniform(-a, a, size=shape) with a = sqrt(6 / fan_in).",
        "variance a**2 / 3 = 2 / fan_in, so a = sqrt(6 / fan_in), with fan_in = shape[0].",
        1,
    )
    c.append(
        markdown(
            r"""
            **Activations across depth.** 500 random inputs (standard normal, width 256) go through 10 layers
            $h \leftarrow f(h W)$ of width 256, with $f$ = tanh (left) or ReLU (right), for three initialisations of $W$:
            a small normal ($s = 0.01$, a common naive choice), Glorot and He. The plot shows the standard deviation of
            the activations after each layer (log scale).

            **What to see:** with $s = 0.01$ each layer multiplies the scale by about $0.01\sqrt{256} = 0.16$, so the
            activations (and, by the same argument, the gradients) vanish exponentially with depth: the deep layers learn
            nothing. With Glorot the tanh net shrinks only slowly (from about 0.6 to 0.23 over 10 layers: tanh is
            contractive); the ReLU net loses half its second moment per layer (about a factor $\sqrt{2}$ in standard
            deviation, 0.6 down to 0.03), which He's factor 2 exactly compensates: with He the ReLU net stays near 1 at
            every depth, and the tanh net settles at a larger scale (about 0.56), closer to saturation.
            """
        )
    )
    c.append(
        code(
            """
            def activation_stds(init_fn, activation, depth=10, width=256, n=500, seed=0):
                \"\"\"Standard deviation of the activations after each of `depth` layers h <- activation(h @ W).\"\"\"
                rng = np.random.default_rng(seed)
                h = rng.standard_normal((n, width))
                stds = []
                for _ in range(depth):
                    h = activation(h @ init_fn((width, width), rng))  # (n, width)
                    stds.append(h.std())
                return stds


            initialisations = {
                "small normal, s = 0.01": lambda shape, rng: 0.01 * rng.standard_normal(shape),
                "Glorot normal": lambda shape, rng: glorot_normal(shape, rng, np.float64),
                "He normal": lambda shape, rng: he_normal(shape, rng, np.float64),
            }
            activations = {"tanh": np.tanh, "ReLU": lambda z: np.maximum(z, 0)}

            fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
            for ax, (act_name, act) in zip(axes, activations.items()):
                for init_name, init_fn in initialisations.items():
                    ax.semilogy(range(1, 11), activation_stds(init_fn, act), "o-", label=init_name)
                ax.set_title(f"10-layer {act_name} net, width 256")
                ax.set_xlabel("layer")
                ax.legend(fontsize=8)
            axes[0].set_ylabel("standard deviation of the activations (log scale)")
            fig.suptitle("Activation scale across depth for three initialisations", y=1.02)
            plt.show()
            """
        )
    )

    # ---- 6. dropout --------------------------------------------------------------------------------------
    out_d, mask_d = dropout.dropout_forward(X_DROP, 0.4, "train", np.random.default_rng(0))
    dx_d = dropout.dropout_backward(DOUT_DROP, mask_d)
    c.append(
        markdown(
            r"""
            ## 6. Dropout and dropconnect

            **Dropout** (Srivastava et al. 2014) zeroes each activation independently with probability $p$ during
            training, so no unit can rely on a particular other unit being there; it acts like training an ensemble of
            thinned nets that share weights. Here $p$ is the probability of **dropping** (PyTorch's convention).
            **Inverted** dropout divides the kept values by $1 - p$ during training,

            $$\text{out} = x \odot \frac{\text{mask}}{1 - p}, \qquad \text{mask}_i \sim \text{Bernoulli}(1 - p),$$

            so every unit's expected value is unchanged and evaluation mode is simply the identity (no rescaling at test
            time). The backward pass multiplies by the same scaled mask.

            **Exercise 6a.** `dropout_forward(x, p, mode, rng=None)` returns `(out, cache)`; `x` has any shape, `mode` is
            `'train'` or `'eval'`. In `'eval'` mode return `(x, None)`. In `'train'` mode draw the mask in one call,
            `keep = rng.random(x.shape) >= p` (so the same generator gives the reference's mask), and keep the scaled
            mask `keep / (1 - p)`, in `x`'s dtype, as the cache.
            `dropout_backward(dout, cache)` returns `dx`, shaped like `dout` (`dout` itself in eval mode).
            """
        )
    )
    c.append(
        solution(
            "dropout_forward",
            '''
            def dropout_forward(x, p, mode, rng=None):
                """Inverted dropout: out = x * keep / (1 - p) in 'train' mode, x in 'eval' mode. Returns (out, cache)."""
                ### BEGIN SOLUTION
                if mode == "eval":
                    return x, None
                keep = rng.random(x.shape) >= p  # True with probability 1 - p
                mask = (keep / (1 - p)).astype(x.dtype)
                return x * mask, mask
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "dropout_forward",
            fill(
                """
x = <<x>>
result = dropout_forward(x, 0.4, "eval")
assert isinstance(result, tuple) and len(result) == 2, "dropout_forward must return a pair (out, cache)."
grading.expect_close("dropout_forward in 'eval' mode", result[0], x, hint="evaluation mode is the identity: inverted dropout rescales during training only.")
out, _ = dropout_forward(x, 0.4, "train", np.random.default_rng(0))
grading.expect_shape("dropout_forward(x (2, 5))", out, (2, 5), hint="out has the shape of x.")
grading.expect_close("dropout_forward(x, p=0.4, 'train', default_rng(0))", out, <<out>>,
                     hint="keep = rng.random(x.shape) >= p (drawn in one call, compared with >= p), then x * keep / (1 - p). Kept entries must be x / 0.6, not x.")
out0, _ = dropout_forward(x, 0.0, "train", np.random.default_rng(0))
grading.expect_close("dropout_forward with p = 0", out0, x, hint="p = 0 drops nothing and divides by 1.")
ones = np.ones((200, 500))
big, _ = dropout_forward(ones, 0.3, "train", np.random.default_rng(1))
grading.expect_close("fraction of dropped units for p = 0.3", np.mean(big == 0), 0.3, atol=0.01,
                     hint="p is the probability of DROPPING a unit.")
grading.expect_close("mean of dropout_forward(ones, p = 0.3)", big.mean(), 1.0, atol=0.01,
                     hint="inverted dropout keeps the expected value: divide the kept units by 1 - p.")
""",
                x=literal(X_DROP),
                out=literal(out_d),
            ),
            points=1,
        )
    )
    dropout_inputs = """
def _inputs(rng):
    shape = tuple(int(s) for s in rng.integers(1, 7, size=int(rng.integers(1, 4))))
    mode = "train" if rng.random() < 0.75 else "eval"
    return {"x": rng.standard_normal(shape), "p": float(rng.choice([0.0, 0.2, 0.5, 0.8])), "mode": mode,
            "rng": np.random.default_rng(int(rng.integers(0, 10**6)))}
"""
    c.append(
        hidden_test(
            "dropout_forward",
            "import copy\n"
            + dropout_inputs
            + """
reference_forward = grading.reference("layers.dropout.dropout_forward")
for trial in range(4):
    inputs = _inputs(np.random.default_rng(grading.check_seed("layers.dropout.dropout_forward", trial)))
    where = f"x of shape {inputs['x'].shape}, p={inputs['p']}, mode={inputs['mode']!r}, a seeded rng"
    got = dropout_forward(**copy.deepcopy(inputs))
    assert isinstance(got, tuple) and len(got) == 2, "dropout_forward must return a pair (out, cache)."
    grading.check_with_reference("dropout_forward", got[0], reference_forward(**copy.deepcopy(inputs))[0],
                                 what="output 'out'", inputs=where)
print("ok: dropout_forward agrees with the reference on 4 random inputs (same generator, same mask)")
""",
            points=2,
        )
    )
    c.append(
        solution(
            "dropout_backward",
            '''
            def dropout_backward(dout, cache):
                """dx = dout * (the scaled mask of the forward pass); dout in 'eval' mode (cache None)."""
                ### BEGIN SOLUTION
                if cache is None:
                    return dout
                return dout * cache
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "dropout_backward",
            fill(
                """
x, dout = <<x>>, <<dout>>
_, cache = dropout_forward(x, 0.4, "train", np.random.default_rng(0))
dx = dropout_backward(dout, cache)
grading.expect_shape("dropout_backward dx", dx, (2, 5), hint="dx has the shape of dout.")
grading.expect_close("dropout_backward dx for p = 0.4", dx, <<dx>>,
                     hint="dx = dout * keep / (1 - p) with the SAME mask as the forward pass (read it from the cache, do not draw a new one).")
_, cache = dropout_forward(x, 0.4, "eval")
grading.expect_close("dropout_backward in 'eval' mode", dropout_backward(dout, cache), dout,
                     hint="in eval mode the layer is the identity, so dx = dout.")
""",
                x=literal(X_DROP),
                dout=literal(DOUT_DROP),
                dx=literal(dx_d),
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "dropout_backward",
            dropout_inputs
            + """
grading.check_forward_backward(dropout_forward, dropout_backward, "layers.dropout.dropout", _inputs, grads=("x",), trials=4)
""",
            points=1,
        )
    )

    out_dc, cache_dc = dropout.dropconnect_forward(X_DC, W_DC, B_DC, 0.5, "train", np.random.default_rng(0))
    dx_dc, dw_dc, db_dc = dropout.dropconnect_backward(DOUT_DC, cache_dc)
    c.append(
        markdown(
            r"""
            **Dropconnect** (Wan et al. 2013) drops **weights** instead of activations, with a fresh mask for every
            example: where dropout computes $\text{matmul}(\text{dropout}(x), W)$, dropconnect computes
            $\text{matmul}(x, \text{dropout}(W))$,

            $$\text{out}_n = x_n \Big(W \odot \frac{\text{mask}_n}{1-p}\Big) + b, \qquad \text{mask}_n \in \{0, 1\}^{D \times M} .$$

            Shapes: `x` `(N, D)`, `w` `(D, M)`, `b` `(M,)` (never dropped), `out` `(N, M)`, the masks `(N, D, M)`.
            Backward, with $W_n = W \odot \text{mask}_n / (1-p)$: $dx_n = \text{dout}_n W_n^\top$,
            $dW = \sum_n \frac{\text{mask}_n}{1-p} \odot (x_n^\top \text{dout}_n)$ (each example's outer product, masked
            by its own mask), $db = \sum_n \text{dout}_n$. `np.einsum` writes these in one line each
            (`"nd,ndm->nm"`, `"nm,ndm->nd"`, `"nd,nm,ndm->dm"`).

            **Exercise 6b.** `dropconnect_forward(x, w, b, p, mode, rng=None)` returns `(out, cache)`: in `'eval'` mode the
            plain affine layer $x W + b$ (cache `(x, w, None)`); in `'train'` mode draw `keep = rng.random((N, D, M)) >= p`
            in one call and use the scaled mask `keep / (1 - p)` (cache `(x, w, mask)`). `dropconnect_backward(dout, cache)`
            returns `(dx, dw, db)`.
            """
        )
    )
    c.append(
        solution(
            "dropconnect_forward",
            '''
            def dropconnect_forward(x, w, b, p, mode, rng=None):
                """out_n = x_n @ (w * mask_n / (1 - p)) + b, one weight mask per example. Returns (out (N, M), cache)."""
                ### BEGIN SOLUTION
                if mode == "eval":
                    return x @ w + b, (x, w, None)
                n, (d, m) = x.shape[0], w.shape
                keep = rng.random((n, d, m)) >= p
                mask = (keep / (1 - p)).astype(w.dtype)  # (N, D, M)
                out = np.einsum("nd,ndm->nm", x, w * mask) + b  # (N, M)
                return out, (x, w, mask)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "dropconnect_forward",
            fill(
                """
x, w, b = <<x>>, <<w>>, <<b>>
result = dropconnect_forward(x, w, b, 0.5, "eval")
assert isinstance(result, tuple) and len(result) == 2, "dropconnect_forward must return a pair (out, cache)."
grading.expect_close("dropconnect_forward in 'eval' mode", result[0], x @ w + b, hint="evaluation mode is the plain affine layer x @ w + b.")
out, _ = dropconnect_forward(x, w, b, 0.0, "train", np.random.default_rng(0))
grading.expect_close("dropconnect_forward with p = 0", out, x @ w + b, hint="with p = 0 every weight is kept and scaled by 1.")
out, _ = dropconnect_forward(x, w, b, 0.5, "train", np.random.default_rng(0))
grading.expect_shape("dropconnect_forward out", out, (2, 2), hint="out is (N, M).")
grading.expect_close("dropconnect_forward(x, w, b, p=0.5, 'train', default_rng(0))", out, <<out>>,
                     hint="keep = rng.random((N, D, M)) >= p in one call; example n uses w * keep[n] / (1 - p); b is never dropped.")
""",
                x=literal(X_DC),
                w=literal(W_DC),
                b=literal(B_DC),
                out=literal(out_dc),
            ),
            points=1,
        )
    )
    dc_inputs = """
def _inputs(rng):
    n, d, m = (int(v) for v in rng.integers(1, 6, size=3))
    return {"x": rng.standard_normal((n, d)), "w": rng.standard_normal((d, m)), "b": rng.standard_normal(m),
            "p": float(rng.choice([0.0, 0.3, 0.5])), "mode": "train" if rng.random() < 0.75 else "eval",
            "rng": np.random.default_rng(int(rng.integers(0, 10**6)))}
"""
    c.append(
        hidden_test(
            "dropconnect_forward",
            "import copy\n"
            + dc_inputs
            + """
reference_forward = grading.reference("layers.dropout.dropconnect_forward")
for trial in range(4):
    inputs = _inputs(np.random.default_rng(grading.check_seed("layers.dropout.dropconnect_forward", trial)))
    where = f"x of shape {inputs['x'].shape}, w of shape {inputs['w'].shape}, p={inputs['p']}, mode={inputs['mode']!r}"
    got = dropconnect_forward(**copy.deepcopy(inputs))
    assert isinstance(got, tuple) and len(got) == 2, "dropconnect_forward must return a pair (out, cache)."
    grading.check_with_reference("dropconnect_forward", got[0], reference_forward(**copy.deepcopy(inputs))[0],
                                 what="output 'out'", inputs=where)
print("ok: dropconnect_forward agrees with the reference on 4 random inputs")
""",
            points=2,
        )
    )
    c.append(
        solution(
            "dropconnect_backward",
            '''
            def dropconnect_backward(dout, cache):
                """dout: (N, M). Returns dx (N, D), dw (D, M), db (M,)."""
                ### BEGIN SOLUTION
                x, w, mask = cache
                db = dout.sum(axis=0)  # (M,)
                if mask is None:
                    return dout @ w.T, x.T @ dout, db
                dx = np.einsum("nm,ndm->nd", dout, w * mask)  # (N, D)
                dw = np.einsum("nd,nm,ndm->dm", x, dout, mask)  # (D, M)
                return dx, dw, db
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "dropconnect_backward",
            fill(
                """
x, w, b, dout = <<x>>, <<w>>, <<b>>, <<dout>>
_, cache = dropconnect_forward(x, w, b, 0.5, "train", np.random.default_rng(0))
grads = dropconnect_backward(dout, cache)
assert isinstance(grads, tuple) and len(grads) == 3, "dropconnect_backward must return (dx, dw, db)."
dx, dw, db = grads
grading.expect_shape("dx", dx, (2, 3), hint="dx is (N, D).")
grading.expect_shape("dw", dw, (3, 2), hint="dw is (D, M): sum the per-example masked outer products over n.")
grading.expect_close("db", db, <<db>>, hint="the bias is never dropped: db = dout.sum(axis=0).")
grading.expect_close("dx", dx, <<dx>>, hint="dx_n = dout_n @ (w * mask_n / (1 - p)).T, each example with its own mask.")
grading.expect_close("dw", dw, <<dw>>, hint="dw = sum over n of outer(x_n, dout_n) * mask_n / (1 - p).")
_, cache = dropconnect_forward(x, w, b, 0.5, "eval")
dx_eval, dw_eval, _ = dropconnect_backward(dout, cache)
grading.expect_close("dw in 'eval' mode", dw_eval, x.T @ dout, hint="in eval mode the layer is affine: dw = x.T @ dout.")
grading.expect_close("dx in 'eval' mode", dx_eval, dout @ w.T, hint="in eval mode: dx = dout @ w.T.")
""",
                x=literal(X_DC),
                w=literal(W_DC),
                b=literal(B_DC),
                dout=literal(DOUT_DC),
                dx=literal(dx_dc),
                dw=literal(dw_dc),
                db=literal(db_dc),
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "dropconnect_backward",
            dc_inputs
            + """
grading.check_forward_backward(dropconnect_forward, dropconnect_backward, "layers.dropout.dropconnect", _inputs,
                               grads=("x", "w", "b"), trials=4)
""",
            points=2,
        )
    )

    # ---- 7. batch norm ------------------------------------------------------------------------------------
    bn_train = {"mode": "train"}
    out_bn, cache_bn = batchnorm.batchnorm_forward(X_BN, GAMMA_BN, BETA_BN, bn_train)
    dx_bn, dgamma_bn, dbeta_bn = batchnorm.batchnorm_backward(DOUT_BN, cache_bn)
    bn_run = {
        "mode": "train",
        "momentum": 0.8,
        "running_mean": RUN_MEAN.copy(),
        "running_var": RUN_VAR.copy(),
    }
    batchnorm.batchnorm_forward(X_BN, GAMMA_BN, BETA_BN, bn_run)
    bn_eval = {"mode": "eval", "running_mean": RUN_MEAN.copy(), "running_var": RUN_VAR.copy()}
    out_eval, cache_eval = batchnorm.batchnorm_forward(X_BN, GAMMA_BN, BETA_BN, bn_eval)
    dx_eval = batchnorm.batchnorm_backward(DOUT_BN, cache_eval)[0]
    c.append(
        markdown(
            r"""
            ## 7. Batch normalisation

            Batch normalisation (Ioffe and Szegedy 2015) normalises every feature $d$ over the mini-batch, then lets the
            net rescale and shift it with learned $\gamma$, $\beta$. In **training** mode, with $x$ `(N, D)`:

            $$\mu_d = \frac{1}{N}\sum_n x_{nd}, \qquad \sigma^2_d = \frac{1}{N}\sum_n (x_{nd} - \mu_d)^2, \qquad
            \hat x_{nd} = \frac{x_{nd} - \mu_d}{\sqrt{\sigma^2_d + \epsilon}}, \qquad \text{out}_{nd} = \gamma_d \hat x_{nd} + \beta_d .$$

            ($\sigma^2$ is the *biased* variance, dividing by $N$, as in the paper's algorithm.) At test time there may be a
            single example, so **evaluation** mode uses running averages of the batch statistics kept during training:

            $$\text{running} \leftarrow \text{momentum} \cdot \text{running} + (1 - \text{momentum}) \cdot \text{batch statistic}$$

            for the mean and the variance, starting from zeros. With momentum 0.9 the history weighs 0.9 and the new batch
            0.1 (swapping the two weights, a classic bug, makes the "average" little more than the last batch). Evaluation
            mode computes $\hat x = (x - \text{running\_mean}) / \sqrt{\text{running\_var} + \epsilon}$ and the same
            $\gamma \hat x + \beta$.

            **Exercise 7a.** `batchnorm_forward(x, gamma, beta, bn_param)` with `gamma`, `beta` `(D,)` returns `(out, cache)`,
            `out` `(N, D)`. `bn_param` is a dict: `mode` (`'train'` or `'eval'`, required), `eps` (default `1e-5`),
            `momentum` (default `0.9`), `running_mean` and `running_var` (`(D,)`; zeros of `x`'s dtype when missing). In
            training mode **store** the updated running averages back into `bn_param` (the caller reads them there). Put in
            the cache what the backward pass needs (e.g. `x_hat`, `gamma`, $1/\sqrt{\sigma^2 + \epsilon}$ and the mode).
            """
        )
    )
    c.append(
        solution(
            "batchnorm_forward",
            '''
            def batchnorm_forward(x, gamma, beta, bn_param):
                """gamma * x_hat + beta, x_hat from the batch statistics ('train') or the running ones ('eval'). Returns (out, cache)."""
                ### BEGIN SOLUTION
                mode = bn_param["mode"]
                eps = bn_param.get("eps", 1e-5)
                momentum = bn_param.get("momentum", 0.9)
                d = x.shape[1]
                running_mean = bn_param.get("running_mean", np.zeros(d, dtype=x.dtype))
                running_var = bn_param.get("running_var", np.zeros(d, dtype=x.dtype))
                if mode == "train":
                    mu = x.mean(axis=0)  # (D,)
                    xc = x - mu  # (N, D)
                    var = (xc * xc).mean(axis=0)  # (D,), biased: divides by N
                    inv_std = 1 / np.sqrt(var + eps)
                    x_hat = xc * inv_std
                    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
                    bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
                else:
                    inv_std = 1 / np.sqrt(running_var + eps)
                    x_hat = (x - running_mean) * inv_std
                out = gamma * x_hat + beta
                return out, (x_hat, gamma, inv_std, mode)
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "batchnorm_forward",
            fill(
                """
x, gamma, beta = <<x>>, <<gamma>>, <<beta>>
# Isolation case: gamma = 1, beta = 0 leaves x_hat, whose columns have mean 0 and (biased) variance about 1.
x_hat, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
grading.expect_shape("batchnorm_forward out for x (4, 3)", x_hat, (4, 3), hint="out has the shape of x.")
grading.expect_close("column means of x_hat (gamma = 1, beta = 0)", x_hat.mean(axis=0), np.zeros(3), atol=1e-7,
                     hint="subtract the mean of each feature over the batch: x.mean(axis=0), axis 0 is the batch.")
grading.expect_close("column variances of x_hat (gamma = 1, beta = 0)", x_hat.var(axis=0), <<var1>>, rtol=1e-6,
                     hint="divide by sqrt(var + eps) with the biased variance ((x - mu)**2).mean(axis=0), eps = 1e-5 by default.")
bn_param = {"mode": "train"}
result = batchnorm_forward(x, gamma, beta, bn_param)
assert isinstance(result, tuple) and len(result) == 2, "batchnorm_forward must return a pair (out, cache)."
grading.expect_close("batchnorm_forward out in 'train' mode", result[0], <<out>>, hint="out = gamma * x_hat + beta, per feature.")
grading.expect_close("bn_param['running_mean'] after one batch (starting from zeros)", bn_param.get("running_mean"), <<rm1>>,
                     hint="running = momentum * running + (1 - momentum) * batch mean, with running = 0 and momentum 0.9 at first: 0.1 * mean. Store it in bn_param.")
grading.expect_close("bn_param['running_var'] after one batch", bn_param.get("running_var"), <<rv1>>,
                     hint="the same update for the (biased) batch variance: 0.1 * var.")
bn_param = {"mode": "train", "momentum": 0.8, "running_mean": <<rm0>>, "running_var": <<rv0>>}
batchnorm_forward(x, gamma, beta, bn_param)
grading.expect_close("running_mean with momentum 0.8 from [0.5, 1, 0]", bn_param["running_mean"], <<rm2>>,
                     hint="0.8 * old running mean + 0.2 * batch mean (momentum weighs the HISTORY).")
grading.expect_close("running_var with momentum 0.8 from [2, 4, 1]", bn_param["running_var"], <<rv2>>,
                     hint="0.8 * old running var + 0.2 * batch var.")
bn_param = {"mode": "eval", "running_mean": <<rm0>>, "running_var": <<rv0>>}
out_eval, _ = batchnorm_forward(x, gamma, beta, bn_param)
grading.expect_close("batchnorm_forward out in 'eval' mode", out_eval, <<out_eval>>,
                     hint="in eval mode use the running statistics: (x - running_mean) / sqrt(running_var + eps), then gamma * . + beta.")
grading.expect_close("running_mean after an 'eval' call", bn_param["running_mean"], <<rm0>>,
                     hint="evaluation mode must not update the running averages.")
""",
                x=literal(X_BN),
                gamma=literal(GAMMA_BN),
                beta=literal(BETA_BN),
                var1=literal(X_BN.var(axis=0) / (X_BN.var(axis=0) + 1e-5)),
                out=literal(out_bn),
                rm1=literal(bn_train["running_mean"]),
                rv1=literal(bn_train["running_var"]),
                rm0=literal(RUN_MEAN),
                rv0=literal(RUN_VAR),
                rm2=literal(bn_run["running_mean"]),
                rv2=literal(bn_run["running_var"]),
                out_eval=literal(out_eval),
            ),
            points=2,
        )
    )
    bn_inputs = """
def _inputs(rng):
    n, d = int(rng.integers(2, 9)), int(rng.integers(1, 6))
    bn_param = {"mode": "train" if rng.random() < 0.7 else "eval"}
    if rng.random() < 0.5:
        bn_param["momentum"] = float(rng.uniform(0.5, 0.99))
        bn_param["eps"] = float(rng.choice([1e-5, 1e-2]))
    if bn_param["mode"] == "eval" or rng.random() < 0.5:
        bn_param["running_mean"] = rng.standard_normal(d)
        bn_param["running_var"] = rng.uniform(0.5, 2.0, d)
    return {"x": rng.standard_normal((n, d)) * rng.uniform(0.5, 3) + rng.standard_normal(d),
            "gamma": rng.standard_normal(d), "beta": rng.standard_normal(d), "bn_param": bn_param}
"""
    c.append(
        hidden_test(
            "batchnorm_forward",
            "import copy\n"
            + bn_inputs
            + """
reference_forward = grading.reference("layers.batchnorm.batchnorm_forward")
for trial in range(5):
    inputs = _inputs(np.random.default_rng(grading.check_seed("layers.batchnorm.batchnorm_forward", trial)))
    mine, theirs = copy.deepcopy(inputs), copy.deepcopy(inputs)
    where = f"x of shape {inputs['x'].shape}, bn_param with keys {sorted(inputs['bn_param'])}, mode {inputs['bn_param']['mode']!r}"
    got = batchnorm_forward(**mine)
    assert isinstance(got, tuple) and len(got) == 2, "batchnorm_forward must return a pair (out, cache)."
    expected = reference_forward(**theirs)
    grading.check_with_reference("batchnorm_forward", got[0], expected[0], what="output 'out'", inputs=where)
    if inputs["bn_param"]["mode"] == "train":
        for key in ("running_mean", "running_var"):
            assert key in mine["bn_param"], f"batchnorm_forward must store bn_param[{key!r}] in 'train' mode."
            grading.check_with_reference("batchnorm_forward", mine["bn_param"][key], theirs["bn_param"][key],
                                         what=f"bn_param[{key!r}] after the call", inputs=where)
print("ok: batchnorm_forward (outputs and running averages) agrees with the reference on 5 random inputs")
""",
            points=2,
        )
    )
    c.append(
        markdown(
            r"""
            **Exercise 7b.** `batchnorm_backward(dout, cache)` returns `(dx, dgamma, dbeta)`, shapes `(N, D)`, `(D,)`, `(D,)`.
            $d\beta = \sum_n \text{dout}_n$ and $d\gamma = \sum_n \text{dout}_n \odot \hat x_n$. In training mode $\mu$ and
            $\sigma^2$ depend on every $x_n$ of the batch, so each $x_n$ also acts through them; with
            $d\hat x = \text{dout} \odot \gamma$ and $\text{inv\_std} = 1/\sqrt{\sigma^2 + \epsilon}$ the chain rule
            simplifies to

            $$dx = \frac{\text{inv\_std}}{N}\Big(N\, d\hat x - \sum_n d\hat x_n - \hat x \odot \sum_n (d\hat x_n \odot \hat x_n)\Big)$$

            (derive it: it is worth it). In evaluation mode the statistics are constants and $dx = d\hat x \cdot \text{inv\_std}$.
            """
        )
    )
    c.append(
        solution(
            "batchnorm_backward",
            '''
            def batchnorm_backward(dout, cache):
                """dout: (N, D). Returns dx (N, D), dgamma (D,), dbeta (D,)."""
                ### BEGIN SOLUTION
                x_hat, gamma, inv_std, mode = cache
                n = dout.shape[0]
                dbeta = dout.sum(axis=0)  # (D,)
                dgamma = (dout * x_hat).sum(axis=0)  # (D,)
                dx_hat = dout * gamma  # (N, D)
                if mode == "train":
                    dx = (inv_std / n) * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
                else:
                    dx = dx_hat * inv_std
                return dx, dgamma, dbeta
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "batchnorm_backward",
            fill(
                """
x, gamma, beta, dout = <<x>>, <<gamma>>, <<beta>>, <<dout>>
_, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
grads = batchnorm_backward(dout, cache)
assert isinstance(grads, tuple) and len(grads) == 3, "batchnorm_backward must return (dx, dgamma, dbeta)."
dx, dgamma, dbeta = grads
grading.expect_shape("dx", dx, (4, 3), hint="dx has the shape of x, (N, D).")
grading.expect_close("dbeta", dbeta, <<dbeta>>, hint="dbeta = dout.sum(axis=0).")
grading.expect_close("dgamma", dgamma, <<dgamma>>, hint="dgamma = (dout * x_hat).sum(axis=0), with the normalised x_hat (not x).")
grading.expect_close("sum of dx over the batch ('train' mode)", dx.sum(axis=0), np.zeros(3), atol=1e-9,
                     hint="shifting every x_n by the same amount changes nothing in train mode, so dx sums to 0 over the batch: keep the - sum(dx_hat) term.")
grading.expect_close("dx ('train' mode)", dx, <<dx>>,
                     hint="dx = inv_std / N * (N dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0)) with dx_hat = dout * gamma.")
_, cache = batchnorm_forward(x, gamma, beta, {"mode": "eval", "running_mean": <<rm0>>, "running_var": <<rv0>>})
grading.expect_close("dx ('eval' mode)", batchnorm_backward(dout, cache)[0], <<dx_eval>>,
                     hint="in eval mode the statistics are constants: dx = dout * gamma / sqrt(running_var + eps).")
""",
                x=literal(X_BN),
                gamma=literal(GAMMA_BN),
                beta=literal(BETA_BN),
                dout=literal(DOUT_BN),
                dbeta=literal(dbeta_bn),
                dgamma=literal(dgamma_bn),
                dx=literal(dx_bn),
                rm0=literal(RUN_MEAN),
                rv0=literal(RUN_VAR),
                dx_eval=literal(dx_eval),
            ),
            points=2,
        )
    )
    c.append(
        hidden_test(
            "batchnorm_backward",
            bn_inputs
            + """
grading.check_forward_backward(batchnorm_forward, batchnorm_backward, "layers.batchnorm.batchnorm", _inputs,
                               grads=("x", "gamma", "beta"), trials=5)
""",
            points=3,
        )
    )

    # ---- gradient checks, layers, curves ---------------------------------------------------------------
    c.append(
        markdown(
            r"""
            ### Gradient checks

            Your pairs against the centred-difference gradient of assignment 02 (`check_pair` puts a seeded random
            `dout` on the output and checks every input; float64, threshold $10^{-7}$). A random layer must draw the
            **same** mask at every evaluation, so the forward is given a fresh generator with a fixed seed each time.
            **What to see:** every relative error is far below $10^{-7}$, in both modes.
            """
        )
    )
    c.append(
        code(
            """
            rng = np.random.default_rng(1)
            x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
            gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
            running = {"running_mean": rng.standard_normal(4), "running_var": rng.uniform(0.5, 2, 4)}
            checks = {
                "dropout, train": (lambda x: dropout_forward(x, 0.5, "train", np.random.default_rng(1)), dropout_backward, {"x": x}),
                "dropconnect, train": (lambda x, w, b: dropconnect_forward(x, w, b, 0.5, "train", np.random.default_rng(1)),
                                       dropconnect_backward, {"x": x, "w": w, "b": b}),
                "batch norm, train": (lambda x, g, be: batchnorm_forward(x, g, be, {"mode": "train"}), batchnorm_backward,
                                      {"x": x, "gamma": gamma, "beta": beta}),
                "batch norm, eval": (lambda x, g, be: batchnorm_forward(x, g, be, {"mode": "eval", **running}), batchnorm_backward,
                                     {"x": x, "gamma": gamma, "beta": beta}),
            }
            for label, (forward, backward, inputs) in checks.items():
                errors = check_pair(forward, backward, inputs)
                print(f"{label:<20}" + "  ".join(f"d{name}: {err:.1e}" for name, err in errors.items()))
            """
        )
    )
    c.append(
        markdown(
            r"""
            ### Regularisation on the digits

            Two small modules wrap your pairs (they are `course.layers.dropout.Dropout` and `course.layers.batchnorm.BatchNorm` with your
            functions): `model.train()` / `model.eval()` switch their mode. Then four 64-256-256-10 ReLU nets, trained on
            only 300 training digits (so that they can overfit) for 40 epochs of SGD with momentum: plain, with L2 weight
            decay ($\lambda = 10^{-2}$), with dropout ($p = 0.5$ after each hidden ReLU) and with batch norm (before each
            hidden ReLU). Both losses are measured after each epoch in evaluation mode, on the 300 training and the 300
            validation digits.

            **What to see:** the plain net drives its training loss towards zero (about 0.006 after 40 epochs) while its
            validation loss stays near 0.35 and creeps up after its minimum around epoch 10 to 15: it overfits, and the
            gap between the two curves keeps growing. Weight decay holds the training loss at a floor (about 0.07: the
            penalty stops the weights from growing) and has the smallest gap. Batch norm fits the training set fastest by
            far. On a data set this small and easy the four validation losses end close together: the regularisers
            change *how* the net fits the 300 digits much more than how well it generalises, and their benefit grows
            with the size of the net relative to the data.
            """
        )
    )
    c.append(
        code(
            '''
            class DropoutLayer(Module):
                """Inverted dropout with your dropout_forward / dropout_backward; identity in eval mode."""

                def __init__(self, p, seed=0):
                    super().__init__()
                    self.p, self.rng = p, np.random.default_rng(seed)

                def forward(self, x):
                    out, self.cache = dropout_forward(x, self.p, "train" if self.training else "eval", self.rng)
                    return out

                def backward(self, dout):
                    return dropout_backward(dout, self.cache)


            class BatchNormLayer(Module):
                """Batch norm over the features of (N, D) inputs with your pair; the running statistics live in bn_param."""

                def __init__(self, num_features, momentum=0.9):
                    super().__init__()
                    self.add_param("gamma", np.ones(num_features, dtype=np.float32))
                    self.add_param("beta", np.zeros(num_features, dtype=np.float32))
                    self.bn_param = {"momentum": momentum}

                def forward(self, x):
                    self.bn_param["mode"] = "train" if self.training else "eval"
                    out, self.cache = batchnorm_forward(x, self.params["gamma"], self.params["beta"], self.bn_param)
                    return out

                def backward(self, dout):
                    dx, dgamma, dbeta = batchnorm_backward(dout, self.cache)
                    self.accumulate("gamma", dgamma)
                    self.accumulate("beta", dbeta)
                    return dx
            '''
        )
    )
    c.append(
        code(
            """
            def regularised_mlp(kind, hidden=256, seed=0):
                \"\"\"64-hidden-hidden-10 ReLU net; kind 'dropout' or 'batch norm' adds those layers to both hidden layers.\"\"\"
                layers = []
                for i, (d_in, d_out) in enumerate([(64, hidden), (hidden, hidden)]):
                    layers.append(Linear(d_in, d_out, rng=seed + i, input_grad=i > 0))
                    if kind == "batch norm":
                        layers.append(BatchNormLayer(d_out))
                    layers.append(ReLU())
                    if kind == "dropout":
                        layers.append(DropoutLayer(0.5, seed=seed + i))
                layers.append(Linear(hidden, 10, rng=seed + 2))
                return Sequential(*layers)


            X_small, y_small = X_train[:300], y_train[:300]
            variants = {"plain": ("plain", 0.0), "L2 weight decay 1e-2": ("plain", 1e-2),
                        "dropout p = 0.5": ("dropout", 0.0), "batch norm": ("batch norm", 0.0)}
            epochs = 40
            fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
            for k, (label, (kind, weight_decay)) in enumerate(variants.items()):
                model = regularised_mlp(kind)
                optimizer = SimpleOptimizer(model, sgd_momentum, weight_decay=weight_decay, learning_rate=0.02)
                rng = np.random.default_rng(1)
                train_curve, val_curve = [], []
                for epoch in range(epochs):
                    train_epoch(model, softmax_cross_entropy, optimizer, X_small, y_small, 32, rng)
                    train_curve.append(evaluate(model, softmax_cross_entropy, X_small, y_small)[0])
                    val_loss, val_acc = evaluate(model, softmax_cross_entropy, X_val, y_val)
                    val_curve.append(val_loss)
                axes[0].plot(range(1, epochs + 1), train_curve, "--", color=f"C{k}", label=f"{label}, training")
                axes[0].plot(range(1, epochs + 1), val_curve, "-", color=f"C{k}", label=f"{label}, validation")
                axes[1].plot(range(1, epochs + 1), np.array(val_curve) - np.array(train_curve), color=f"C{k}",
                             label=f"{label} (final val acc {100 * val_acc:.1f}%)")
            axes[0].set_yscale("log")
            axes[0].set_xlabel("epoch")
            axes[0].set_ylabel("cross-entropy (eval mode, log scale)")
            axes[0].set_title("Training (dashed) and validation (solid) loss")
            axes[0].legend(fontsize=7, ncol=2)
            axes[1].set_xlabel("epoch")
            axes[1].set_ylabel("validation loss - training loss")
            axes[1].set_title("Generalisation gap")
            axes[1].legend(fontsize=8)
            plt.show()
            """
        )
    )

    # ---- 8. search -----------------------------------------------------------------------------------------
    grid = hyperparameter_search.grid_points(SPACE, 3)
    rand = hyperparameter_search.random_points(SPACE, 4, np.random.default_rng(0))
    as_rows = lambda points: np.array([[p[k] for k in SPACE] for p in points])  # noqa: E731
    c.append(
        markdown(
            r"""
            ## 8. Grid and random hyper-parameter search

            A net has many hyper-parameters, and usually only a few of them matter much. Bergstra and Bengio (2012): with
            a budget of $n$ trials over two hyper-parameters of which one matters, a $\sqrt n \times \sqrt n$ **grid** tries
            only $\sqrt n$ distinct values of the one that matters, while **random** search tries $n$ of them.

            A search space maps each hyper-parameter's name to `(low, high, scale)`, with scale `'log'` (uniform in
            $\log$: learning rates, weight decays) or `'linear'`. A number $u \in [0, 1]$ maps to
            $\text{low} + u\,(\text{high} - \text{low})$ on a linear axis and to $\exp(\log \text{low} + u\,(\log \text{high}
            - \log \text{low}))$ on a log axis. A point is a dict `{name: value}`.

            **Exercise 8a.** `grid_points(space, per_axis)` returns the list of all `per_axis ** K` combinations (K
            hyper-parameters) of `per_axis` evenly spaced values per axis, $u$ = `np.linspace(0, 1, per_axis)` mapped as
            above; in the order of `itertools.product` over the axes in the order of `space` (the last one varies
            fastest).

            **Exercise 8b.** `random_points(space, n, rng)` returns `n` points drawn uniformly in each axis's scale: draw
            all the numbers in one call, `u = rng.random((n, K))`, and map column $j$ to the $j$-th hyper-parameter of
            `space` (so the same generator gives the reference's points).
            """
        )
    )
    c.append(
        solution(
            "grid_points",
            '''
            def grid_points(space, per_axis):
                """Every combination of per_axis evenly spaced values (in each axis's scale). Returns a list of dicts."""
                ### BEGIN SOLUTION
                import itertools

                u = np.linspace(0.0, 1.0, per_axis)
                axes = []
                for low, high, scale in space.values():
                    if scale == "log":
                        axes.append(np.exp(np.log(low) + u * (np.log(high) - np.log(low))))
                    else:
                        axes.append(low + u * (high - low))
                return [dict(zip(space, (float(v) for v in values))) for values in itertools.product(*axes)]
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "grid_points",
            fill(
                """
space = <<space>>
points = grid_points(space, 3)
assert isinstance(points, list) and len(points) == 9, f"3 values per axis over 2 axes give 9 points, got {len(points) if isinstance(points, list) else type(points).__name__}."
assert all(isinstance(p, dict) and list(p) == list(space) for p in points), "each point is a dict with the keys of space, in order."
grading.expect_close("the learning rates of grid_points(space, 3) (log axis 1e-3 .. 1e-1)", [p["learning_rate"] for p in points], <<lr>>,
                     hint="a log axis spaces values evenly in log: 1e-3, 1e-2, 1e-1 (np.exp of a linspace of logs), each repeated for every momentum.")
grading.expect_close("the momenta of grid_points(space, 3) (linear axis 0.5 .. 0.9)", [p["momentum"] for p in points], <<mom>>,
                     hint="a linear axis: 0.5, 0.7, 0.9; the last axis varies fastest (itertools.product order).")
""",
                space=repr(SPACE),
                lr=literal(as_rows(grid)[:, 0]),
                mom=literal(as_rows(grid)[:, 1]),
            ),
            points=1,
        )
    )
    search_inputs = """
def _space(rng):
    space = {}
    for name in ["a", "b", "c"][: int(rng.integers(1, 4))]:
        if rng.random() < 0.5:
            low = float(10 ** rng.uniform(-6, -1))
            space[name] = (low, low * float(10 ** rng.uniform(1, 4)), "log")
        else:
            low = float(rng.uniform(-2, 1))
            space[name] = (low, low + float(rng.uniform(0.5, 3)), "linear")
    return space


def _rows(points, space, label, where):
    assert isinstance(points, list) and all(isinstance(p, dict) for p in points), f"{label} must return a list of dicts ({where})."
    assert all(list(p) == list(space) for p in points), f"{label}: every point must have the keys of space, in order ({where})."
    return np.array([[p[k] for k in space] for p in points])
"""
    c.append(
        hidden_test(
            "grid_points",
            search_inputs
            + """
reference_grid = grading.reference("training.hyperparameter_search.grid_points")
for trial in range(4):
    rng = np.random.default_rng(grading.check_seed("training.hyperparameter_search.grid_points", trial))
    space, per_axis = _space(rng), int(rng.integers(1, 5))
    where = f"space {space}, per_axis={per_axis}"
    expected = _rows(reference_grid(space, per_axis), space, "grid_points", where)
    got = _rows(grid_points(space, per_axis), space, "grid_points", where)
    grading.check_with_reference("grid_points", got, expected, what="the points, one row per point", inputs=where)
print("ok: grid_points agrees with the reference on 4 random spaces")
""",
            points=1,
        )
    )
    c.append(
        solution(
            "random_points",
            '''
            def random_points(space, n, rng):
                """n independent draws, uniform in each axis's scale, from u = rng.random((n, K)). Returns a list of dicts."""
                ### BEGIN SOLUTION
                u = rng.random((n, len(space)))
                columns = []
                for j, (low, high, scale) in enumerate(space.values()):
                    if scale == "log":
                        columns.append(np.exp(np.log(low) + u[:, j] * (np.log(high) - np.log(low))))
                    else:
                        columns.append(low + u[:, j] * (high - low))
                return [dict(zip(space, (float(col[i]) for col in columns))) for i in range(n)]
                ### END SOLUTION
            ''',
        )
    )
    c.append(
        visible_test(
            "random_points",
            fill(
                """
space = <<space>>
points = random_points(space, 4, np.random.default_rng(0))
assert isinstance(points, list) and len(points) == 4, "random_points(space, 4, rng) returns a list of 4 points."
assert all(isinstance(p, dict) and list(p) == list(space) for p in points), "each point is a dict with the keys of space, in order."
grading.expect_close("the momenta drawn by random_points(space, 4, default_rng(0)) (linear axis)", [p["momentum"] for p in points], <<mom>>,
                     hint="u = rng.random((n, 2)) in ONE call; column 1 goes to the 2nd hyper-parameter: 0.5 + u[:, 1] * 0.4.")
grading.expect_close("the learning rates drawn (log axis)", [p["learning_rate"] for p in points], <<lr>>,
                     hint="column 0 on the log axis: exp(log(1e-3) + u[:, 0] * (log(1e-1) - log(1e-3))).")
""",
                space=repr(SPACE),
                lr=literal(as_rows(rand)[:, 0]),
                mom=literal(as_rows(rand)[:, 1]),
            ),
            points=1,
        )
    )
    c.append(
        hidden_test(
            "random_points",
            search_inputs
            + """
reference_random = grading.reference("training.hyperparameter_search.random_points")
for trial in range(4):
    rng = np.random.default_rng(grading.check_seed("training.hyperparameter_search.random_points", trial))
    space, n, seed = _space(rng), int(rng.integers(1, 12)), int(rng.integers(0, 10**6))
    where = f"space {space}, n={n}, a seeded rng"
    expected = _rows(reference_random(space, n, np.random.default_rng(seed)), space, "random_points", where)
    got = _rows(random_points(space, n, np.random.default_rng(seed)), space, "random_points", where)
    grading.check_with_reference("random_points", got, expected, what="the points, one row per point", inputs=where)
print("ok: random_points agrees with the reference on 4 random spaces")
""",
            points=1,
        )
    )
    c.append(
        markdown(
            r"""
            **Search on the digits.** 16 trials each: a $4 \times 4$ grid and 16 random points over the learning rate
            of SGD with momentum ($10^{-3}$ to $0.5$, log axis: it matters) and the L2 weight decay ($10^{-7}$ to
            $10^{-5}$, log axis: far too small to matter in 2 epochs). Each trial trains a 64-32-32-10 net for 2 epochs and
            reports its validation loss. Left: the trials in the plane of the two hyper-parameters, coloured by their
            validation loss. Right: the same losses against the learning rate alone.

            **What to see:** the loss depends on the learning rate (the colours change along the horizontal axis, hardly
            along the vertical one), with a minimum near 0.1; above about 0.2 training becomes unstable and the loss
            erratic. The grid spends its 16 trials on 4 distinct learning rates, 4 trials each with nearly the same
            result, and none of them near 0.1; random search tries 16 learning rates and so lands closer to the best one.
            """
        )
    )
    c.append(
        code(
            """
            space = {"learning_rate": (1e-3, 0.5, "log"), "weight_decay": (1e-7, 1e-5, "log")}


            def validation_loss(params):
                \"\"\"The objective: validation loss of a small net after 2 epochs with these hyper-parameters.\"\"\"
                model = digits_mlp(seed=0, hidden=32)
                optimizer = SimpleOptimizer(model, sgd_momentum, weight_decay=params["weight_decay"],
                                            learning_rate=params["learning_rate"])
                rng = np.random.default_rng(0)
                for _ in range(2):
                    train_epoch(model, softmax_cross_entropy, optimizer, X_train, y_train, 64, rng)
                return evaluate(model, softmax_cross_entropy, X_val, y_val)[0]


            trials = {"grid 4 x 4": grid_points(space, 4), "random, 16": random_points(space, 16, np.random.default_rng(0))}
            scores = {name: np.array([validation_loss(p) for p in points]) for name, points in trials.items()}

            fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), layout="constrained")
            vmin = min(s.min() for s in scores.values())
            vmax = max(s.max() for s in scores.values())
            for (name, points), marker in zip(trials.items(), ["s", "o"]):
                lr = [p["learning_rate"] for p in points]
                wd = [p["weight_decay"] for p in points]
                sc = axes[0].scatter(lr, wd, c=scores[name], marker=marker, s=60, cmap="viridis", vmin=vmin, vmax=vmax,
                                     edgecolors="k", label=name)
                best = int(np.argmin(scores[name]))
                axes[1].scatter(lr, scores[name], marker=marker, label=f"{name}: best {scores[name][best]:.3f} at lr {lr[best]:.3g}")
                print(f"{name:<11} best validation loss {scores[name][best]:.4f} with learning rate {lr[best]:.4g},"
                      f" weight decay {wd[best]:.2g} ({len(set(np.round(lr, 12)))} distinct learning rates tried)")
            fig.colorbar(sc, ax=axes[0], label="validation loss")
            for ax in axes:
                ax.set_xscale("log")
                ax.set_xlabel("learning rate (log scale)")
                ax.legend(fontsize=8)
            axes[0].set_yscale("log")
            axes[0].set_ylabel("L2 weight decay (log scale)")
            axes[0].set_title("Trials in the plane of the two hyper-parameters")
            axes[1].set_yscale("log")
            axes[1].set_ylabel("validation loss after 2 epochs (log scale)")
            axes[1].set_title("Projection on the hyper-parameter that matters")
            plt.show()
            """
        )
    )
    c.append(
        markdown(
            r"""
            One run can be lucky. The same comparison on a toy validation loss that depends on one hyper-parameter only,
            $f(a, b) = (a - a^\star)^2$ on the unit square (`one_that_matters` from `course.training.hyperparameter_search`),
            repeated for 500 random positions $a^\star$ of the optimum, with 16 trials per search.

            **What to see:** the grid's best loss is limited by the spacing of its 4 values of $a$ (up to
            $(1/6)^2 \approx 0.03$); random search, with 16 distinct values of $a$, is typically one to two orders of
            magnitude closer, and it wins in most of the 500 runs.
            """
        )
    )
    c.append(
        code(
            """
            unit_square = {"a": (0.0, 1.0, "linear"), "b": (0.0, 1.0, "linear")}
            toy_rng = np.random.default_rng(1)
            best = {"grid 4 x 4": [], "random, 16": []}
            for _ in range(500):
                optimum = float(toy_rng.random())
                best["grid 4 x 4"].append(min(one_that_matters(p, "a", optimum) for p in grid_points(unit_square, 4)))
                best["random, 16"].append(min(one_that_matters(p, "a", optimum) for p in random_points(unit_square, 16, toy_rng)))

            bins = np.logspace(-10, -1, 37)
            fig, ax = plt.subplots(figsize=(7, 3.8))
            for name, values in best.items():
                ax.hist(np.maximum(values, 1e-10), bins=bins, alpha=0.6, label=f"{name}: median {np.median(values):.1e}")
            ax.set_xscale("log")
            ax.set_xlabel("best loss found in 16 trials (log scale)")
            ax.set_ylabel("number of runs (of 500)")
            ax.set_title("Grid vs random search when one of two hyper-parameters matters")
            ax.legend()
            plt.show()
            wins = np.mean(np.array(best["random, 16"]) < np.array(best["grid 4 x 4"]))
            print(f"random search found the lower loss in {100 * wins:.0f}% of the 500 runs")
            """
        )
    )
    c.append(
        markdown(
            r"""
            ## Summary

            Training a deep net is a loop of zero-grad, forward, loss, backward and update over shuffled mini-batches. The
            update rule matters: momentum accumulates consistent directions, and the adaptive rules (Adagrad, RMSProp,
            Adadelta, Adam) rescale every coordinate by its own gradient history. The initial scale must preserve the
            variance through depth (Glorot for tanh, He for ReLU), or activations and gradients vanish or explode. L2 weight
            decay and dropout fight overfitting; batch norm normalises every feature over the batch and keeps running
            averages for evaluation; gradient clipping caps the size of a step. Hyper-parameters are best searched at
            random, on a validation set. Assignment 05 brings convolutions.
            """
        )
    )
    return c


def main(argv: list[str] | None = None) -> int:
    return generator_main(cells, ASSIGNMENT, argv)


if __name__ == "__main__":
    raise SystemExit(main())
