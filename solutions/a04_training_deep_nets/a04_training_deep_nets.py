# %% [markdown]
# # Assignment 04: training deep nets
#
# Assignment 02 trained a two-layer net with plain SGD on full mini-batches of a toy problem. Deeper nets on
# real data need the tricks of lectures 001 and 004: mini-batches, better update rules than vanilla SGD,
# initial weights of the right scale, regularisers (L2 weight decay, dropout), batch normalisation, gradient
# clipping, and a sensible way to choose hyper-parameters. You will implement them all, in this notebook:
#
# 1. the mini-batch SGD loop: one training step, the shuffled mini-batches of an epoch, and one epoch;
# 2. seven update rules: SGD, momentum, Nesterov momentum, Adagrad, Adadelta, RMSProp and Adam;
# 3. L2 weight decay and gradient-norm clipping;
# 4. Glorot (Xavier) and He (Kaiming) initialisation, normal and uniform;
# 5. inverted dropout and dropconnect, forward and backward;
# 6. batch normalisation, forward and backward, in training and evaluation mode, with running averages;
# 7. grid and random hyper-parameter search.
#
# Then you will race the seven optimisers on the same net, watch activations vanish or explode across the
# depth of a 10-layer net for each initialisation, compare training and validation curves with and without
# dropout, weight decay and batch norm on the digits, and see why random search beats grid search when only
# one of two hyper-parameters matters.
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
# a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
# the reference on fresh random inputs when the course grader runs it. Both carry points. Do not edit,
# copy or delete test cells: the grader restores them. Use NumPy and the library of the earlier assignments
# (`Linear`, `ReLU`, `Sequential`, `softmax_cross_entropy`, the gradient checker): in the grader the library
# functions you are asked to write here (in `course.training.train`, `course.data.batching`,
# `course.training.optim`, `course.training.init`, `course.layers.dropout`, `course.layers.batchnorm` and
# `course.training.hyperparameter_search`) raise `NotImplementedError`. One of them is `he_normal`, with
# which `Linear` draws its weights by default: until you have written yours (section 5), the cells give
# `Linear` their own draw through its `init` argument.
#
# Shapes use the course's letters: N batch, D input features, M outputs of a layer, B a mini-batch.

# %%
import itertools  # noqa: F401 (the library's grid_points uses it)

import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import get_array_module  # noqa: F401 (the library's solutions use it)
from course.core.gradcheck import check_pair
from course.core.module import Module, Sequential
from course.data import load_digits
from course.layers.activations import ReLU
from course.layers.affine import Linear
from course.layers.losses import softmax_cross_entropy
from course.training.hyperparameter_search import one_that_matters
from course.training.init import fans  # noqa: F401 (the library's initialisers use it)
from course.training.train import evaluate


# %% [markdown]
# ## 1. The mini-batch SGD loop
#
# Full-batch gradient descent computes the gradient over all $N$ examples before taking one step. SGD
# estimates it on a **mini-batch** of $B \ll N$ examples,
# $\nabla L \approx \frac{1}{B}\sum_{n \in \text{batch}} \nabla \ell_n$, and takes $N / B$ noisy but cheap
# steps per pass over the data (an **epoch**).
#
# A training step has four parts, always in this order: zero the gradients (modules *accumulate* into their
# `grads` with `+=`, so a step that forgets this adds the previous step's gradients), forward, loss and its
# gradient, backward, update. The pieces are the ones of assignment 02:
#
# - `model`: a `course.core.module.Module` (here a `Sequential` of `Linear` and `ReLU`): `model.forward(x)`
#   returns the scores, `model.backward(dscores)` accumulates every parameter's gradient;
# - `loss_fn(scores, y) -> (loss, dscores)`, e.g. `softmax_cross_entropy`;
# - `optimizer`: anything with `zero_grad()` and `step()` (it owns the update rule; section 2).
#
# **Exercise 1a.** `train_step(model, loss_fn, optimizer, x, y)` does one step on the mini-batch `x`
# `(B, ...)`, `y` `(B,)` and returns `(loss, scores)`: the loss as a Python `float` and the scores of the
# forward pass (computed before the update).

# %% nbgrader={"grade": false, "grade_id": "train_step", "locked": false, "schema_version": 3, "solution": true}
def train_step(model, loss_fn, optimizer, x, y):
    """Zero the gradients, forward, loss, backward, update. Returns (loss: float, scores: (B, C))."""
    ### BEGIN SOLUTION a04.train_step
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "train_step_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
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
    """A 3-4-3 ReLU net in float64 with weights drawn uniformly in [-1, 1] (its own draw: see the top)."""
    draw = lambda rng, shape: rng.uniform(-1, 1, shape)
    return Sequential(Linear(3, 4, rng=1, dtype=np.float64, init=draw), ReLU(),
                      Linear(4, 3, rng=2, dtype=np.float64, init=draw))


x = np.array([[1.0, 0.5, -1.0], [-0.5, 1.0, 2.0], [0.0, -1.0, 0.5], [2.0, 0.0, -0.5]])
y = np.array([0, 2, 1, 2])
model = tiny_net()
result = train_step(model, softmax_cross_entropy, HalfStepSGD(model), x, y)
assert isinstance(result, tuple) and len(result) == 2, "train_step must return a pair (loss, scores)."
loss, scores = result
assert isinstance(loss, float), f"the loss must be a Python float (float(loss)), got {type(loss).__name__}."
expected_scores = np.array([[-1.213993316, 0.4451170053, 0.2976520842],
                            [-1.26418667, -1.8019213, -0.9115081826],
                            [-0.1338832125, -0.1442925092, 0.1138826676],
                            [-1.303159766, 0.67404999, -0.1896709735]])
grading.expect_close("scores returned by train_step", scores, expected_scores,
                     hint="scores = model.forward(x), computed before optimizer.step().")
grading.expect_close("loss returned by train_step", loss, 1.407659298,
                     hint="loss, dscores = loss_fn(scores, y), before the update.")
expected_w = np.array([[0.0236432494, 0.8415832756, -0.7206375499, 0.8075670165],
                       [-0.3286531489, -0.2177307518, 0.6733187383, -0.1822445532],
                       [0.07534540179, -0.8334702697, 0.5428533187, 0.06659326672]])
grading.expect_close("first-layer weights after one step", model.layers[0].params["w"], expected_w,
                     hint="after the loss: model.backward(dscores), then optimizer.step(). "
                          "Unchanged weights mean one of the two is missing.")
train_step(model, softmax_cross_entropy, HalfStepSGD(model), x, y)
expected_w = np.array([[0.0236432494, 0.846867958, -0.7323045334, 0.8008358759],
                       [-0.2868255911, -0.2693624135, 0.6966527053, -0.1513008755],
                       [0.05443162289, -0.7573439477, 0.5895212526, 0.01238868563]])
grading.expect_close("first-layer weights after a second step", model.layers[0].params["w"], expected_w,
                     hint="call optimizer.zero_grad() before the backward pass: gradients accumulate (+=), "
                          "so without it step 2 also applies step 1's gradient.")
grading.expect_close("last-layer bias after a second step", model.layers[2].params["b"],
                     np.array([0.02758463889, -0.0750495909, 0.04746495201]),
                     hint="every parameter is updated by optimizer.step().")

# %% nbgrader={"grade": true, "grade_id": "train_step_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.train_step", train_step)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 1b.** An epoch visits the training set in a new random order, cut into mini-batches.
# `minibatch_indices(n, batch_size, rng)` returns that order as a list of index arrays: draw
# `order = rng.permutation(n)` once (a new order every epoch, so that the same examples do not always share
# a batch), then cut it into `order[0:B]`, `order[B:2B]`, ... for `start = 0, B, 2B, ...` (the last piece
# may be smaller). Every index $0, \dots, n - 1$ appears exactly once.

# %% nbgrader={"grade": false, "grade_id": "minibatch_indices", "locked": false, "schema_version": 3, "solution": true}
def minibatch_indices(n, batch_size, rng):
    """order = rng.permutation(n) cut into pieces of batch_size. Returns a list of integer index arrays."""
    ### BEGIN SOLUTION a04.minibatch_indices
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "minibatch_indices_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
batches = minibatch_indices(10, 4, np.random.default_rng(0))
assert isinstance(batches, list), (
    f"minibatch_indices must return a list of index arrays, got {type(batches).__name__}.")
grading.expect_equal("the batch sizes of minibatch_indices(10, 4, rng)", [len(b) for b in batches], [4, 4, 2],
                     hint="start = 0, 4, 8 (range(0, n, batch_size)); the last batch holds what is left.")
grading.expect_close("the indices of minibatch_indices(10, 4, default_rng(0)), batch after batch",
                     np.concatenate(batches), np.array([4, 6, 2, 7, 3, 5, 9, 0, 8, 1]), rtol=0, atol=0,
                     hint="draw order = rng.permutation(n) once, then take order[0:4], order[4:8], "
                          "order[8:10].")
rng = np.random.default_rng(1)
first, second = (np.concatenate(minibatch_indices(103, 10, rng)) for _ in range(2))
grading.expect_close("the sorted indices of an epoch of 103 examples", np.sort(first), np.arange(103),
                     rtol=0, atol=0, hint="every index from 0 to n - 1 exactly once: a permutation, cut.")
assert not np.array_equal(first, second), (
    "two calls with the same generator returned the same order: draw from rng each time, do not re-seed it.")

# %% nbgrader={"grade": true, "grade_id": "minibatch_indices_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.minibatch_indices", minibatch_indices)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 1c.** `train_epoch(model, loss_fn, optimizer, X, y, batch_size, rng)` makes one pass over the
# training set `X` `(N, ...)`, `y` `(N,)`:
#
# 1. put the model in training mode (`model.train()`: dropout and batch norm behave differently in
#    training);
# 2. for every `idx` of your `minibatch_indices(N, batch_size, rng)`, in order, call your `train_step` on
#    `X[idx]`, `y[idx]`.
#
# Return the mean loss **per example** over the epoch, a `float`: weight each batch's loss by its size,
# $\frac{1}{N}\sum_{\text{batches}} B_i \,\ell_i$ (a plain mean of the batch losses would over-weight a small
# last batch).

# %% nbgrader={"grade": false, "grade_id": "train_epoch", "locked": false, "schema_version": 3, "solution": true}
def train_epoch(model, loss_fn, optimizer, X, y, batch_size, rng):
    """One pass over (X, y) in shuffled mini-batches of batch_size. Returns the mean loss per example."""
    ### BEGIN SOLUTION a04.train_epoch
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "train_epoch_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
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
    """A 3-4-3 ReLU net in float64 with weights drawn uniformly in [-1, 1] (its own draw: see the top)."""
    draw = lambda rng, shape: rng.uniform(-1, 1, shape)
    return Sequential(Linear(3, 4, rng=1, dtype=np.float64, init=draw), ReLU(),
                      Linear(4, 3, rng=2, dtype=np.float64, init=draw))


X = np.array([[1.0, 0.5, -1.0], [-0.5, 1.0, 2.0], [0.0, -1.0, 0.5], [2.0, 0.0, -0.5], [0.5, 0.5, 0.5],
              [-1.0, -1.0, 1.0], [1.5, -0.5, 0.0], [0.0, 2.0, -1.0], [-2.0, 0.5, 0.5], [1.0, 1.0, 1.0]])
y = np.array([0, 2, 1, 2, 0, 1, 0, 2, 1, 0])
model = tiny_net()
mean_loss = train_epoch(model, softmax_cross_entropy, HalfStepSGD(model), X, y, 10, np.random.default_rng(0))
# Isolation case: with batch_size = N there is one batch, and the order does not matter.
grading.expect_close("train_epoch with batch_size = N = 10 (one full batch)", mean_loss, 1.294175655,
                     hint="with a single batch, the epoch's mean loss is the loss of train_step on all of X.")
model = tiny_net()
mean_loss = train_epoch(model, softmax_cross_entropy, HalfStepSGD(model), X, y, 4, np.random.default_rng(0))
assert isinstance(mean_loss, float), (
    f"train_epoch must return a Python float, got {type(mean_loss).__name__}.")
expected_w = np.array([[0.004027930444, 0.7768124671, -0.5297704028, 0.9093813651],
                       [-0.2556982944, -0.05971334314, 0.7451644213, -0.1390074619],
                       [0.02553309067, -0.9295433328, 0.4896957457, 0.1228628628]])
grading.expect_close("first-layer weights after an epoch of batches of 4, 4 and 2",
                     model.layers[0].params["w"], expected_w,
                     hint="train on the batches of minibatch_indices(N, 4, rng), in their order (here "
                          "[4, 6, 2, 7], [3, 5, 9, 0], [8, 1]), with the rng you were given.")
grading.expect_close("mean loss of that epoch", mean_loss, 1.2445349,
                     hint="weight each batch's loss by its size and divide by N (not the plain mean of the "
                          "three batch losses).")

# %% nbgrader={"grade": true, "grade_id": "train_epoch_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.train_epoch", train_epoch)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Update rules
#
# Every rule has the same interface (the CS231n one):
#
# ```python
# next_w, config = rule(w, dw, config)
# ```
#
# `w` is a parameter array of any shape, `dw` its gradient (same shape); `next_w` is a **new** array of
# that shape (never change `w` or `dw` in place). `config` is a dict with the rule's hyper-parameters and its
# **state** (velocities, averages, the step count), or `None`: start from `config = {} if config is None else
# config`, fill in every missing hyper-parameter with `config.setdefault(name, default)` (defaults listed
# per rule), create missing state arrays as `np.zeros_like(w)` and store the updated state back in `config`,
# then return it. One config belongs to one parameter; the optimizer keeps one per parameter.
#
# **Exercise 2a.** Vanilla SGD, $w \leftarrow w - \alpha\, dw$. Hyper-parameter `learning_rate` $\alpha$
# (default `1e-2`).

# %% nbgrader={"grade": false, "grade_id": "sgd", "locked": false, "schema_version": 3, "solution": true}
def sgd(w, dw, config=None):
    """w <- w - learning_rate * dw. Returns (next_w, config)."""
    ### BEGIN SOLUTION a04.sgd
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sgd_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w0 = np.array([1.0, -2.0, 0.5])
dws = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -0.5]), np.array([-2.0, 1.0, 0.25])]
config = {'learning_rate': 0.1}
w, w_before, dw_before = w0.copy(), w0.copy(), dws[0].copy()
dw_in = dws[0].copy()
result = sgd(w, dw_in, config)
assert isinstance(result, tuple) and len(result) == 2, "sgd must return a pair (next_w, config)."
grading.expect_close("w after sgd(w, dw, config)", w, w_before, rtol=0, atol=0,
                     hint="do not change w in place: build next_w as a new array (next_w = w - ...).")
grading.expect_close("dw after sgd(w, dw, config)", dw_in, dw_before, rtol=0, atol=0,
                     hint="do not change dw in place.")
w, config = result
grading.expect_shape("next_w", w, (3,), hint="next_w has the shape of w.")
grading.expect_close("w after step 1", w, np.array([0.95, -1.9, 0.3]),
                     hint="w - 0.1 * dw, from the w of the previous step.")
w, config = sgd(w, dws[1], config)
grading.expect_close("w after step 2", w, np.array([0.85, -1.95, 0.35]),
                     hint="w - 0.1 * dw, from the w of the previous step.")
w, config = sgd(w, dws[2], config)
grading.expect_close("w after step 3", w, np.array([1.05, -2.05, 0.325]),
                     hint="w - 0.1 * dw, from the w of the previous step.")

next_w, config = sgd(w0.copy(), dws[0], None)
grading.expect_close("sgd with config=None (the default learning rate 1e-2)", next_w,
                     np.array([0.995, -1.99, 0.48]),
                     hint="with config None, start from {} and use config.setdefault('learning_rate', 1e-2).")
assert config.get("learning_rate") == 1e-2, "sgd must return the config with the learning rate it used."

# %% nbgrader={"grade": true, "grade_id": "sgd_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.sgd", sgd)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 2b.** SGD with momentum. The velocity $v$ (state `config["velocity"]`, zeros at first) is a
# decaying sum of past steps, so directions that agree from step to step speed up and oscillating ones cancel:
#
# $$v \leftarrow \mu\, v - \alpha\, dw, \qquad w \leftarrow w + v .$$
#
# Hyper-parameters `learning_rate` $\alpha$ (`1e-2`) and `momentum` $\mu$ (`0.9`). (Lecture 004 writes the
# average form $V \leftarrow \beta V + (1-\beta) \nabla$, $\theta \leftarrow \theta - \gamma V$: the same
# method with the learning rate rescaled by $1 - \beta$.)

# %% nbgrader={"grade": false, "grade_id": "sgd_momentum", "locked": false, "schema_version": 3, "solution": true}
def sgd_momentum(w, dw, config=None):
    """v <- momentum * v - learning_rate * dw; w <- w + v. Returns (next_w, config)."""
    ### BEGIN SOLUTION a04.sgd_momentum
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sgd_momentum_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
# Isolation case: a zero gradient at step 2 leaves the momentum term alone (w moves by mu * v).
w1, config = sgd_momentum(np.array([1.0, -2.0, 0.5]), np.array([0.5, -1.0, 2.0]),
                          {"learning_rate": 0.1, "momentum": 0.9})
grading.expect_close("w after step 1 (v starts at zero, so this is a plain SGD step)", w1,
                     np.array([0.95, -1.9, 0.3]),
                     hint="v = 0.9 * 0 - 0.1 * dw, then w + v.")
w2, config = sgd_momentum(w1, np.zeros(3), config)
grading.expect_close("w after a step with dw = 0 (the momentum term alone)", w2,
                     np.array([0.905, -1.81, 0.12]),
                     hint="keep v in config['velocity'] between calls: with dw = 0 the step is "
                          "v <- 0.9 v, w <- w + v.")
w0 = np.array([1.0, -2.0, 0.5])
dws = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -0.5]), np.array([-2.0, 1.0, 0.25])]
config = {'learning_rate': 0.1, 'momentum': 0.9}
w, w_before, dw_before = w0.copy(), w0.copy(), dws[0].copy()
dw_in = dws[0].copy()
result = sgd_momentum(w, dw_in, config)
assert isinstance(result, tuple) and len(result) == 2, "sgd_momentum must return a pair (next_w, config)."
grading.expect_close("w after sgd_momentum(w, dw, config)", w, w_before, rtol=0, atol=0,
                     hint="do not change w in place: build next_w as a new array (next_w = w - ...).")
grading.expect_close("dw after sgd_momentum(w, dw, config)", dw_in, dw_before, rtol=0, atol=0,
                     hint="do not change dw in place.")
w, config = result
grading.expect_shape("next_w", w, (3,), hint="next_w has the shape of w.")
grading.expect_close("w after step 1", w, np.array([0.95, -1.9, 0.3]),
                     hint="step 1 is plain SGD: v = -0.1 dw.")
w, config = sgd_momentum(w, dws[1], config)
grading.expect_close("w after step 2", w, np.array([0.805, -1.86, 0.17]),
                     hint="v <- 0.9 v - 0.1 dw with v from config['velocity'], then w + v.")
w, config = sgd_momentum(w, dws[2], config)
grading.expect_close("w after step 3", w, np.array([0.8745, -1.924, 0.028]),
                     hint="v <- 0.9 v - 0.1 dw with v from config['velocity'], then w + v.")

# %% nbgrader={"grade": true, "grade_id": "sgd_momentum_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.sgd_momentum", sgd_momentum)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 2c.** Nesterov momentum evaluates the gradient at the look-ahead point $w + \mu v$. Written in
# terms of the look-ahead parameters (the ones we store), the step is the new velocity plus one more momentum
# term:
#
# $$v \leftarrow \mu\, v - \alpha\, dw, \qquad
# w \leftarrow w + \mu\, v - \alpha\, dw \quad (\text{with the new } v).$$
#
# Same hyper-parameters and state as momentum (`learning_rate` `1e-2`, `momentum` `0.9`,
# `config["velocity"]`). This is CS231n's `w - mu * v_prev + (1 + mu) * v` and PyTorch's `SGD(nesterov=True)`
# in another notation.

# %% nbgrader={"grade": false, "grade_id": "nesterov", "locked": false, "schema_version": 3, "solution": true}
def nesterov(w, dw, config=None):
    """v <- momentum * v - lr * dw; w <- w + momentum * v - lr * dw (the new v). Returns (next_w, config)."""
    ### BEGIN SOLUTION a04.nesterov
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nesterov_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w0 = np.array([1.0, -2.0, 0.5])
dws = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -0.5]), np.array([-2.0, 1.0, 0.25])]
config = {'learning_rate': 0.1, 'momentum': 0.9}
w, w_before, dw_before = w0.copy(), w0.copy(), dws[0].copy()
dw_in = dws[0].copy()
result = nesterov(w, dw_in, config)
assert isinstance(result, tuple) and len(result) == 2, "nesterov must return a pair (next_w, config)."
grading.expect_close("w after nesterov(w, dw, config)", w, w_before, rtol=0, atol=0,
                     hint="do not change w in place: build next_w as a new array (next_w = w - ...).")
grading.expect_close("dw after nesterov(w, dw, config)", dw_in, dw_before, rtol=0, atol=0,
                     hint="do not change dw in place.")
w, config = result
grading.expect_shape("next_w", w, (3,), hint="next_w has the shape of w.")
grading.expect_close("w after step 1", w, np.array([0.905, -1.81, 0.12]),
                     hint="step 1: v = -0.1 dw, so w + 0.9 v - 0.1 dw = w - 0.19 dw.")
w, config = nesterov(w, dws[1], config)
grading.expect_close("w after step 2", w, np.array([0.6745, -1.824, 0.053]),
                     hint="use the NEW velocity in w + mu * v - lr * dw, and keep v in config['velocity'].")
w, config = nesterov(w, dws[2], config)
grading.expect_close("w after step 3", w, np.array([0.93705, -1.9816, -0.0998]),
                     hint="use the NEW velocity in w + mu * v - lr * dw, and keep v in config['velocity'].")

# %% nbgrader={"grade": true, "grade_id": "nesterov_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.nesterov", nesterov)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 2d.** Adagrad gives every coordinate its own step size, smaller for coordinates that have seen
# large gradients. With the state $c$ = `config["cache"]` (zeros at first), element-wise:
#
# $$c \leftarrow c + dw^2, \qquad w \leftarrow w - \alpha \frac{dw}{\sqrt{c} + \epsilon} .$$
#
# Hyper-parameters `learning_rate` $\alpha$ (`1e-2`), `eps` $\epsilon$ (`1e-10`, added *after* the square
# root, as in PyTorch). The sum only grows, so the steps shrink for ever.

# %% nbgrader={"grade": false, "grade_id": "adagrad", "locked": false, "schema_version": 3, "solution": true}
def adagrad(w, dw, config=None):
    """cache <- cache + dw**2; w <- w - learning_rate * dw / (sqrt(cache) + eps). Returns (next_w, config)."""
    ### BEGIN SOLUTION a04.adagrad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "adagrad_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w0 = np.array([1.0, -2.0, 0.5])
dws = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -0.5]), np.array([-2.0, 1.0, 0.25])]
config = {'learning_rate': 0.1}
w, w_before, dw_before = w0.copy(), w0.copy(), dws[0].copy()
dw_in = dws[0].copy()
result = adagrad(w, dw_in, config)
assert isinstance(result, tuple) and len(result) == 2, "adagrad must return a pair (next_w, config)."
grading.expect_close("w after adagrad(w, dw, config)", w, w_before, rtol=0, atol=0,
                     hint="do not change w in place: build next_w as a new array (next_w = w - ...).")
grading.expect_close("dw after adagrad(w, dw, config)", dw_in, dw_before, rtol=0, atol=0,
                     hint="do not change dw in place.")
w, config = result
grading.expect_shape("next_w", w, (3,), hint="next_w has the shape of w.")
grading.expect_close("w after step 1", w, np.array([0.9, -1.9, 0.4]),
                     hint="step 1: the cache is dw**2, so the step is 0.1 * dw / |dw|, about 0.1 * sign(dw).")
w, config = adagrad(w, dws[1], config)
grading.expect_close("w after step 2", w, np.array([0.8105572809, -1.94472136, 0.4242535625]),
                     hint="the cache is a running SUM of dw**2 kept in config['cache']; divide by "
                          "sqrt(cache) + eps.")
w, config = adagrad(w, dws[2], config)
grading.expect_close("w after step 3", w, np.array([0.897844437, -2.011388026, 0.4122149772]),
                     hint="the cache is a running SUM of dw**2 kept in config['cache']; divide by "
                          "sqrt(cache) + eps.")
next_w, _ = adagrad(w0.copy(), dws[0], {"learning_rate": 0.1, "eps": 0.5})
grading.expect_close("one step of adagrad with eps = 0.5 (the eps term)", next_w,
                     np.array([0.95, -1.933333333, 0.42]),
                     hint="eps is added AFTER the square root: dw / (np.sqrt(cache) + eps).")

# %% nbgrader={"grade": true, "grade_id": "adagrad_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.adagrad", adagrad)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 2e.** Adadelta (Zeiler 2012) makes the step's units match $w$'s, with no hand-tuned global scale.
# It keeps two leaky averages, $s$ of squared gradients (`config["square_avg"]`) and $u$ of squared steps
# (`config["delta_avg"]`), both zeros at first:
#
# $$s \leftarrow \rho\, s + (1-\rho)\, dw^2, \qquad
# \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{s + \epsilon}}\, dw, \qquad
# u \leftarrow \rho\, u + (1-\rho)\, \Delta^2, \qquad w \leftarrow w - \alpha\, \Delta .$$
#
# Hyper-parameters `learning_rate` $\alpha$ (`1.0`, Zeiler's rule has none; PyTorch keeps it as a scale),
# `rho` $\rho$ (`0.9`), `eps` $\epsilon$ (`1e-6`, inside both roots). Note the order: $u$ is updated with the
# new $\Delta$, after $\Delta$ has used the old $u$.

# %% nbgrader={"grade": false, "grade_id": "adadelta", "locked": false, "schema_version": 3, "solution": true}
def adadelta(w, dw, config=None):
    """Leaky averages of dw**2 and of squared steps set the step size. Returns (next_w, config)."""
    ### BEGIN SOLUTION a04.adadelta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "adadelta_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w0 = np.array([1.0, -2.0, 0.5])
dws = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -0.5]), np.array([-2.0, 1.0, 0.25])]
config = {'rho': 0.5}
w, w_before, dw_before = w0.copy(), w0.copy(), dws[0].copy()
dw_in = dws[0].copy()
result = adadelta(w, dw_in, config)
assert isinstance(result, tuple) and len(result) == 2, "adadelta must return a pair (next_w, config)."
grading.expect_close("w after adadelta(w, dw, config)", w, w_before, rtol=0, atol=0,
                     hint="do not change w in place: build next_w as a new array (next_w = w - ...).")
grading.expect_close("dw after adadelta(w, dw, config)", dw_in, dw_before, rtol=0, atol=0,
                     hint="do not change dw in place.")
w, config = result
grading.expect_shape("next_w", w, (3,), hint="next_w has the shape of w.")
grading.expect_close("w after step 1", w, np.array([0.9985857921, -1.998585788, 0.4985857868]),
                     hint="step 1: s = 0.5 dw**2 and u = 0, so delta = sqrt(eps) / sqrt(s + eps) * dw (tiny: "
                          "Adadelta starts slowly).")
w, config = adadelta(w, dws[1], config)
grading.expect_close("w after step 2", w, np.array([0.9967001795, -1.999740486, 0.4992524531]),
                     hint="update s first, compute delta with the OLD u, then update u with delta**2; keep "
                          "both in config.")
w, config = adadelta(w, dws[2], config)
grading.expect_close("w after step 3", w, np.array([0.999097534, -2.001515734, 0.4988266759]),
                     hint="update s first, compute delta with the OLD u, then update u with delta**2; keep "
                          "both in config.")

# %% nbgrader={"grade": true, "grade_id": "adadelta_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.adadelta", adadelta)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 2f.** RMSProp is Adagrad with a leaky average instead of a sum, so old gradients are forgotten
# and the steps do not shrink to zero. With `config["cache"]` (zeros at first):
#
# $$c \leftarrow \rho\, c + (1-\rho)\, dw^2, \qquad w \leftarrow w - \alpha \frac{dw}{\sqrt{c} + \epsilon} .$$
#
# Hyper-parameters `learning_rate` $\alpha$ (`1e-2`), `decay_rate` $\rho$ (`0.99`), `eps` $\epsilon$ (`1e-8`,
# outside the root, as in PyTorch).

# %% nbgrader={"grade": false, "grade_id": "rmsprop", "locked": false, "schema_version": 3, "solution": true}
def rmsprop(w, dw, config=None):
    """cache <- rho cache + (1-rho) dw**2; w <- w - lr dw / (sqrt(cache) + eps). Returns (next_w, config)."""
    ### BEGIN SOLUTION a04.rmsprop
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "rmsprop_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w0 = np.array([1.0, -2.0, 0.5])
dws = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -0.5]), np.array([-2.0, 1.0, 0.25])]
config = {'learning_rate': 0.1, 'decay_rate': 0.9}
w, w_before, dw_before = w0.copy(), w0.copy(), dws[0].copy()
dw_in = dws[0].copy()
result = rmsprop(w, dw_in, config)
assert isinstance(result, tuple) and len(result) == 2, "rmsprop must return a pair (next_w, config)."
grading.expect_close("w after rmsprop(w, dw, config)", w, w_before, rtol=0, atol=0,
                     hint="do not change w in place: build next_w as a new array (next_w = w - ...).")
grading.expect_close("dw after rmsprop(w, dw, config)", dw_in, dw_before, rtol=0, atol=0,
                     hint="do not change dw in place.")
w, config = result
grading.expect_shape("next_w", w, (3,), hint="next_w has the shape of w.")
grading.expect_close("w after step 1", w, np.array([0.683772254, -1.683772244, 0.183772239]),
                     hint="step 1: cache = 0.1 dw**2, so the step is 0.1 * dw / (sqrt(0.1) |dw|).")
w, config = rmsprop(w, dws[1], config)
grading.expect_close("w after step 2", w, np.array([0.3980579764, -1.831214196, 0.2643545341]),
                     hint="cache <- 0.9 cache + 0.1 dw**2, kept in config['cache'] (a leaky average, not a "
                          "sum).")
w, config = rmsprop(w, dws[2], config)
grading.expect_close("w after step 3", w, np.array([0.6780453734, -2.05288974, 0.2222618626]),
                     hint="cache <- 0.9 cache + 0.1 dw**2, kept in config['cache'] (a leaky average, not a "
                          "sum).")
next_w, _ = rmsprop(w0.copy(), dws[0], {"learning_rate": 0.1, "eps": 0.5})
grading.expect_close("one step of rmsprop with eps = 0.5 (the eps term)", next_w,
                     np.array([0.9090909091, -1.833333333, 0.2142857143]),
                     hint="eps is added AFTER the square root: dw / (np.sqrt(cache) + eps).")

# %% nbgrader={"grade": true, "grade_id": "rmsprop_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.rmsprop", rmsprop)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 2g.** Adam (Kingma and Ba 2015): momentum on the gradient and RMSProp scaling, both
# bias-corrected. State: `config["m"]`, `config["v"]` (zeros at first) and the step count `config["t"]` (0 at
# first):
#
# $$t \leftarrow t + 1, \qquad m \leftarrow \beta_1 m + (1-\beta_1)\, dw, \qquad
# v \leftarrow \beta_2 v + (1-\beta_2)\, dw^2,$$
# $$\hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t}, \qquad
# w \leftarrow w - \alpha \frac{\hat m}{\sqrt{\hat v} + \epsilon} .$$
#
# Hyper-parameters `learning_rate` $\alpha$ (`1e-3`), `beta1` (`0.9`), `beta2` (`0.999`), `eps` (`1e-8`).
# Because $m$ and $v$ start at zero, without the corrections the first steps would be biased towards zero.

# %% nbgrader={"grade": false, "grade_id": "adam", "locked": false, "schema_version": 3, "solution": true}
def adam(w, dw, config=None):
    """Bias-corrected first and second moment estimates. Returns (next_w, config)."""
    ### BEGIN SOLUTION a04.adam
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "adam_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w0 = np.array([1.0, -2.0, 0.5])
dws = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -0.5]), np.array([-2.0, 1.0, 0.25])]
config = {'learning_rate': 0.1}
w, w_before, dw_before = w0.copy(), w0.copy(), dws[0].copy()
dw_in = dws[0].copy()
result = adam(w, dw_in, config)
assert isinstance(result, tuple) and len(result) == 2, "adam must return a pair (next_w, config)."
grading.expect_close("w after adam(w, dw, config)", w, w_before, rtol=0, atol=0,
                     hint="do not change w in place: build next_w as a new array (next_w = w - ...).")
grading.expect_close("dw after adam(w, dw, config)", dw_in, dw_before, rtol=0, atol=0,
                     hint="do not change dw in place.")
w, config = result
grading.expect_shape("next_w", w, (3,), hint="next_w has the shape of w.")
grading.expect_close("w after step 1", w, np.array([0.900000002, -1.900000001, 0.4000000005]),
                     hint="step 1: with the bias corrections m_hat = dw and v_hat = dw**2, so the step is "
                          "about 0.1 * sign(dw). Check the corrections 1 - beta**t.")
w, config = adam(w, dws[1], config)
grading.expect_close("w after step 2", w, np.array([0.8034818006, -1.873366297, 0.3530531837]),
                     hint="keep m, v and the step count t in config; t goes up by one BEFORE the bias "
                          "corrections.")
w, config = adam(w, dws[2], config)
grading.expect_close("w after step 3", w, np.array([0.822861246, -1.900635976, 0.3093298218]),
                     hint="keep m, v and the step count t in config; t goes up by one BEFORE the bias "
                          "corrections.")
grading.expect_equal("config['t'] after 3 steps", config.get("t"), 3,
                     hint="count the steps in config['t'], starting from 0.")

# %% nbgrader={"grade": true, "grade_id": "adam_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.adam", adam)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. L2 weight decay and gradient-norm clipping
#
# **L2 weight decay** adds the penalty $\frac{\lambda}{2}\sum_W \lVert W \rVert^2$ over the parameters to the
# loss (assignment 01's ridge term). Its gradient with respect to each parameter is $\lambda W$, so in
# practice it is applied to the gradients just before the update rule: $dW \leftarrow dW + \lambda W$ (what
# `weight_decay` means in `torch.optim.SGD` and `Adam`).
#
# **Exercise 3a.** `add_weight_decay(grads, params, weight_decay)`: `grads` and `params` are matching lists,
# tuples or dicts of arrays (same keys or order, same shapes). Return the decayed gradients $g + \lambda w$ as
# **new** arrays in the same kind of container (list, tuple or dict with the same keys); leave the inputs
# unchanged.

# %% nbgrader={"grade": false, "grade_id": "add_weight_decay", "locked": false, "schema_version": 3, "solution": true}
def add_weight_decay(grads, params, weight_decay):
    """g + weight_decay * w for every (g, w) pair, in grads' container type. Inputs unchanged."""
    ### BEGIN SOLUTION a04.add_weight_decay
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "add_weight_decay_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
grads = [np.array([[1.0, -2.0], [0.5, 0.0]]), np.array([0.5, -1.0])]
params = [np.array([[2.0, 1.0], [-1.0, 4.0]]), np.array([1.0, 3.0])]
grads_before = [g.copy() for g in grads]
out = add_weight_decay(grads, params, 0.1)
assert isinstance(out, list) and len(out) == 2, "a list of 2 gradients in, a list of 2 decayed gradients out."
# Isolation case: a zero gradient leaves the decay term alone.
zero = add_weight_decay([np.zeros((2, 2))], [params[0]], 0.1)[0]
grading.expect_close("decayed gradient of a zero gradient (the decay term alone)", zero, 0.1 * params[0],
                     hint="the decay term is weight_decay * w (the gradient of (lambda / 2) ||w||^2), not "
                          "weight_decay / 2 * w.")
grading.expect_close("decayed gradient 0", out[0],
                     np.array([[1.2, -1.9], [0.4, 0.4]]), hint="g + weight_decay * w.")
grading.expect_close("decayed gradient 1", out[1], np.array([0.6, -0.7]), hint="every pair (g, w) in order.")
for i in range(2):
    grading.expect_close(f"grads[{i}] after the call", grads[i], grads_before[i], rtol=0, atol=0,
                         hint="return new arrays (g + weight_decay * w); do not add into grads in place.")
out_dict = add_weight_decay({"w": grads[0], "b": grads[1]}, {"w": params[0], "b": params[1]}, 0.1)
assert isinstance(out_dict, dict) and sorted(out_dict) == ["b", "w"], (
    "a dict in, a dict with the same keys out.")
grading.expect_close("decayed gradient 'b' of a dict", out_dict["b"],
                     np.array([0.6, -0.7]), hint="pair the arrays by key in a dict.")
out_tuple = add_weight_decay(tuple(grads), tuple(params), 0.0)
assert isinstance(out_tuple, tuple), "a tuple in, a tuple out."
grading.expect_close("decayed gradient 0 with weight_decay = 0", out_tuple[0], grads_before[0],
                     hint="lambda = 0 changes nothing.")

# %% nbgrader={"grade": true, "grade_id": "add_weight_decay_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.add_weight_decay", add_weight_decay)
### END HIDDEN TESTS

# %% [markdown]
# A step's size is proportional to the gradient, so one huge gradient (a cliff of the loss, common in
# recurrent nets) can throw the parameters far away. **Gradient-norm clipping** caps the global norm of all
# gradients together, keeping their direction:
#
# $$\lVert g \rVert = \sqrt{\textstyle\sum_{\text{arrays}} \sum g^2}, \qquad
# \text{if } \lVert g \rVert > \text{max\_norm}:\quad
# g \leftarrow g \cdot \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}} .$$
#
# **Exercise 3b.** `clip_grad_norm(grads, max_norm)`: `grads` is a list, tuple or dict of float arrays,
# rescaled **in place** (`g *= scale`: the modules keep referring to these arrays); return the total norm
# *before* clipping as a Python float. If the norm is at most `max_norm` nothing changes. (Same as
# `torch.nn.utils.clip_grad_norm_`.)

# %% nbgrader={"grade": false, "grade_id": "clip_grad_norm", "locked": false, "schema_version": 3, "solution": true}
def clip_grad_norm(grads, max_norm):
    """Rescale grads in place so that their global L2 norm is at most max_norm. Returns the norm before."""
    ### BEGIN SOLUTION a04.clip_grad_norm
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "clip_grad_norm_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
grads = [np.array([[3.0, 0.0], [0.0, 0.0]]), np.array([0.0, 4.0])]  # global norm 5
norm = clip_grad_norm(grads, 10.0)
grading.expect_close("the norm returned for gradients [[3, 0], [0, 0]] and [0, 4]", norm, 5.0,
                     hint="the GLOBAL norm: sqrt of the sum of squares over all arrays together "
                          "(3**2 + 4**2 = 25).")
grading.expect_close("gradient 1 with max_norm = 10 > norm", grads[1], np.array([0.0, 4.0]),
                     hint="a norm below max_norm leaves the gradients unchanged.")
norm = clip_grad_norm(grads, 1.0)
grading.expect_close("the norm returned when clipping", norm, 5.0, hint="return the norm BEFORE clipping.")
grading.expect_close("gradient 0 after clipping to norm 1, in place", grads[0],
                     np.array([[3.0, 0.0], [0.0, 0.0]]) / (5 + 1e-6),
                     hint="multiply every array by max_norm / (norm + 1e-6) in place (g *= scale), so the "
                          "list you were given changes.")
grading.expect_close("gradient 1 after clipping to norm 1, in place", grads[1],
                     np.array([0.0, 4.0]) / (5 + 1e-6),
                     hint="the same scale for every array keeps the direction of the whole gradient.")
grads = {"w": np.array([1.0, 2.0, 2.0])}
grading.expect_close("the norm of a dict of gradients", clip_grad_norm(grads, 0.5), 3.0,
                     hint="for a dict, clip its values.")
grading.expect_close("the dict's gradient after clipping to 0.5", grads["w"],
                     np.array([1.0, 2.0, 2.0]) * 0.5 / (3 + 1e-6),
                     hint="scale = max_norm / (norm + 1e-6).")

# %% nbgrader={"grade": true, "grade_id": "clip_grad_norm_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.clip_grad_norm", clip_grad_norm)
### END HIDDEN TESTS

# %% [markdown]
# ### An optimizer made of your functions
#
# `SimpleOptimizer` is `course.training.optim.Optimizer` rewritten on top of your functions: it keeps one
# config per parameter and, per step, clips the gradients (if `max_grad_norm` is given, with your
# `clip_grad_norm`), adds the weight decay (your `add_weight_decay`) and applies your update rule to every
# parameter, in place, so the modules keep pointing at the same arrays. The experiments below train with it.

# %%
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


# %% [markdown]
# ## 4. The optimiser race
#
# The same 64-64-64-10 ReLU net (same initial weights) trained on the digits (8x8 images, 1197 training
# examples) by each of the seven rules, for 300 steps on the **same** sequence of mini-batches of 32, each
# rule with a learning rate in its usual range. The curves are the training loss of each step, smoothed over
# 15 steps; the legend gives the validation accuracy at the end.
#
# **What to see:** plain SGD is by far the slowest; momentum and Nesterov, with the same learning rate, reach
# a loss several times lower (their steps are up to $1/(1-\mu) = 10$ times larger along directions that agree
# from step to step); RMSProp and Adam keep up with a learning rate about 15 times smaller, because they
# divide each coordinate by its own gradient scale; Adagrad does well on a run this short (its steps only
# shrink for good over long runs), and Adadelta, with no learning rate to tune, is not far behind. Every curve
# is noisy: each point is the loss of one small mini-batch. (Try Adam at its default `1e-3`: on this net it is
# slower than momentum.)

# %%
X_train, y_train = load_digits("train")
X_val, y_val = load_digits("val")


def he_draw(rng, shape):
    """He initialisation, N(0, 2 / fan_in), written out here: your he_normal comes in section 5."""
    return np.sqrt(2.0 / shape[0]) * rng.standard_normal(shape)


def digits_mlp(seed=0, hidden=64):
    """A 64-hidden-hidden-10 ReLU net for the 8x8 digits (float32, He initialisation)."""
    return Sequential(Linear(64, hidden, rng=seed, init=he_draw, input_grad=False), ReLU(),
                      Linear(hidden, hidden, rng=seed + 1, init=he_draw), ReLU(),
                      Linear(hidden, 10, rng=seed + 2, init=he_draw))


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


# %% [markdown]
# ## 5. Initialisation
#
# For a layer $y = x W$ with `fan_in` inputs and independent zero-mean weights of variance $s^2$,
# $\mathrm{Var}(y) = \text{fan\_in}\; s^2\, \mathrm{Var}(x)$. To keep the size of the activations through
# depth (and, symmetrically, of the gradients going back, which see `fan_out`):
#
# - **Glorot / Xavier** (Glorot and Bengio 2010; tanh, sigmoid, linear layers):
#   $s^2 = \text{gain}^2 \cdot \frac{2}{\text{fan\_in} + \text{fan\_out}}$, a compromise between the forward
#   (`fan_in`) and backward (`fan_out`) conditions;
# - **He / Kaiming** (He et al. 2015; ReLU layers): $s^2 = \frac{2}{\text{fan\_in}}$, because ReLU zeroes half
#   of its inputs and so halves the second moment.
#
# A uniform $U(-a, a)$ has variance $a^2/3$, so the uniform variants use $a = \sqrt{3}\, s$:
# $a = \text{gain}\sqrt{6 / (\text{fan\_in} + \text{fan\_out})}$ (Glorot) and $a = \sqrt{6 / \text{fan\_in}}$
# (He).
#
# `fans(shape)` (imported from `course.training.init`) returns `(fan_in, fan_out)`: `(D, M)` for an affine
# weight of shape `(D, M)` (our layers compute `x @ w`), and `(C k_1 k_2, F k_1 k_2)` for convolution filters
# `(F, C, k_1, k_2)`.
#
# **Exercise 5.** Four initialisers with the signature `(shape, rng, dtype=np.float32[, gain=1.0])`, each
# returning an array of `shape` and `dtype`. Draw the numbers in one call, so that the same generator gives
# the same weights as the reference: `rng.uniform(-a, a, size=shape)` for the uniform ones and
# `s * rng.standard_normal(shape)` for the normal ones; then `.astype(dtype)`.

# %% nbgrader={"grade": false, "grade_id": "glorot_uniform", "locked": false, "schema_version": 3, "solution": true}
def glorot_uniform(shape, rng, dtype=np.float32, gain=1.0):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). Returns an array of shape and dtype."""
    ### BEGIN SOLUTION a04.glorot_uniform
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "glorot_uniform_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w = glorot_uniform((3, 4), np.random.default_rng(0))
grading.expect_shape("glorot_uniform((3, 4), rng)", w, (3, 4), hint="return an array of the requested shape.")
assert w.dtype == np.float32, f"the default dtype is float32, got {w.dtype}: finish with .astype(dtype)."
w = glorot_uniform((3, 4), np.random.default_rng(0), np.float64)
assert w.dtype == np.float64, f"glorot_uniform(..., dtype=np.float64) returned {w.dtype}."
expected = np.array([[0.253603766, -0.4262721753, -0.8499518757, -0.8952168654],
                     [0.5800637682, 0.7642748195, 0.1974510891, 0.424945058],
                     [0.0807777879, 0.8055975896, 0.584847138, -0.9207493828]])
grading.expect_close("glorot_uniform((3, 4), default_rng(0), float64)", w, expected,
                     hint="rng.uniform(-a, a, size=shape) with a = gain * sqrt(6 / (fan_in + fan_out)).")
grading.expect_close("glorot_uniform((3, 4), default_rng(0), gain=2.0)",
                     glorot_uniform((3, 4), np.random.default_rng(0), np.float64, 2.0), 2 * expected,
                     hint="gain multiplies the scale: s (or a) = gain * sqrt(...).")

big = glorot_uniform((400, 100), np.random.default_rng(2), np.float64)
grading.expect_close("the standard deviation of glorot_uniform((400, 100)) (fan_in 400, fan_out 100)",
                     big.std(), 0.0632455532, rtol=0.03,
                     hint="the variance of U(-a, a) is a**2 / 3 = 2 / (fan_in + fan_out): "
                          "a = sqrt(6 / (fan_in + fan_out)), not sqrt(2 / ...).")
filters = glorot_uniform((4, 3, 2, 2), np.random.default_rng(1), np.float64)
grading.expect_shape("glorot_uniform((4, 3, 2, 2)), convolution filters", filters, (4, 3, 2, 2),
                     hint="return an array of the requested shape, here 4-D.")
grading.expect_close("its first and last 2 x 2 kernels (filters[0, 0], filters[3, 2]), fan_in 12, fan_out 16",
                     np.stack([filters[0, 0], filters[3, 2]]),
                     np.array([[[0.01094469776, 0.4170483443], [-0.3294441829, 0.4153686759]],
                               [[0.3146691437, 0.008791477978], [0.0100811481, 0.2342604521]]]),
                     hint="use (fan_in, fan_out) = fans(shape), which handles 4-D filter shapes.")

# %% nbgrader={"grade": true, "grade_id": "glorot_uniform_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.glorot_uniform", glorot_uniform)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "glorot_normal", "locked": false, "schema_version": 3, "solution": true}
def glorot_normal(shape, rng, dtype=np.float32, gain=1.0):
    """N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)). Returns an array of shape and dtype."""
    ### BEGIN SOLUTION a04.glorot_normal
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "glorot_normal_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w = glorot_normal((3, 4), np.random.default_rng(0))
grading.expect_shape("glorot_normal((3, 4), rng)", w, (3, 4), hint="return an array of the requested shape.")
assert w.dtype == np.float32, f"the default dtype is float32, got {w.dtype}: finish with .astype(dtype)."
w = glorot_normal((3, 4), np.random.default_rng(0), np.float64)
assert w.dtype == np.float64, f"glorot_normal(..., dtype=np.float64) returned {w.dtype}."
expected = np.array([[0.06720563007, -0.07061301965, 0.3423203058, 0.05607147117],
                     [-0.2863273239, 0.1932806869, 0.697017343, 0.5062360688],
                     [-0.3761623062, -0.6763962278, -0.3331542138, 0.02208966513]])
grading.expect_close("glorot_normal((3, 4), default_rng(0), float64)", w, expected,
                     hint="s * rng.standard_normal(shape) with s = gain * sqrt(2 / (fan_in + fan_out)).")
grading.expect_close("glorot_normal((3, 4), default_rng(0), gain=2.0)",
                     glorot_normal((3, 4), np.random.default_rng(0), np.float64, 2.0), 2 * expected,
                     hint="gain multiplies the scale: s (or a) = gain * sqrt(...).")

big = glorot_normal((400, 100), np.random.default_rng(2), np.float64)
grading.expect_close("the standard deviation of glorot_normal((400, 100)) (fan_in 400, fan_out 100)",
                     big.std(), 0.0632455532, rtol=0.03,
                     hint="s = sqrt(2 / (fan_in + fan_out)) is a standard deviation: multiply by s, "
                          "not by s**2.")
filters = glorot_normal((4, 3, 2, 2), np.random.default_rng(1), np.float64)
grading.expect_shape("glorot_normal((4, 3, 2, 2)), convolution filters", filters, (4, 3, 2, 2),
                     hint="return an array of the requested shape, here 4-D.")
grading.expect_close("its first and last 2 x 2 kernels (filters[0, 0], filters[3, 2]), fan_in 12, fan_out 16",
                     np.stack([filters[0, 0], filters[3, 2]]),
                     np.array([[[0.09236126036, 0.2195866854], [0.08831302335, -0.3482834201]],
                               [[-0.02626375365, 0.0255189125], [0.00951082191, -0.1353121374]]]),
                     hint="use (fan_in, fan_out) = fans(shape), which handles 4-D filter shapes.")

# %% nbgrader={"grade": true, "grade_id": "glorot_normal_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.glorot_normal", glorot_normal)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "he_normal", "locked": false, "schema_version": 3, "solution": true}
def he_normal(shape, rng, dtype=np.float32):
    """N(0, s^2) with s = sqrt(2 / fan_in). Returns an array of shape and dtype."""
    ### BEGIN SOLUTION a04.he_normal
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "he_normal_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w = he_normal((3, 4), np.random.default_rng(0))
grading.expect_shape("he_normal((3, 4), rng)", w, (3, 4), hint="return an array of the requested shape.")
assert w.dtype == np.float32, f"the default dtype is float32, got {w.dtype}: finish with .astype(dtype)."
w = he_normal((3, 4), np.random.default_rng(0), np.float64)
assert w.dtype == np.float64, f"he_normal(..., dtype=np.float64) returned {w.dtype}."
expected = np.array([[0.1026582956, -0.1078631692, 0.5229029044, 0.08565058699],
                     [-0.4373722117, 0.295241126, 1.064711578, 0.7732883683],
                     [-0.5745974139, -1.033212305, -0.5089014676, 0.03374252084]])
grading.expect_close("he_normal((3, 4), default_rng(0), float64)", w, expected,
                     hint="s * rng.standard_normal(shape) with s = sqrt(2 / fan_in).")

big = he_normal((400, 100), np.random.default_rng(2), np.float64)
grading.expect_close("the standard deviation of he_normal((400, 100)) (fan_in 400, fan_out 100)",
                     big.std(), 0.07071067812, rtol=0.03,
                     hint="s = sqrt(2 / fan_in) with fan_in = shape[0] = 400 for a (400, 100) weight "
                          "(not fan_out).")
filters = he_normal((4, 3, 2, 2), np.random.default_rng(1), np.float64)
grading.expect_shape("he_normal((4, 3, 2, 2)), convolution filters", filters, (4, 3, 2, 2),
                     hint="return an array of the requested shape, here 4-D.")
grading.expect_close("its first and last 2 x 2 kernels (filters[0, 0], filters[3, 2]), fan_in 12",
                     np.stack([filters[0, 0], filters[3, 2]]),
                     np.array([[[0.1410841556, 0.3354242025], [0.1349003715, -0.532011712]],
                               [[-0.04011854638, 0.03898078273], [0.01452802044, -0.206692704]]]),
                     hint="use (fan_in, fan_out) = fans(shape), which handles 4-D filter shapes.")

# %% nbgrader={"grade": true, "grade_id": "he_normal_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.he_normal", he_normal)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "he_uniform", "locked": false, "schema_version": 3, "solution": true}
def he_uniform(shape, rng, dtype=np.float32):
    """U(-a, a) with a = sqrt(6 / fan_in). Returns an array of shape and dtype."""
    ### BEGIN SOLUTION a04.he_uniform
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "he_uniform_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
w = he_uniform((3, 4), np.random.default_rng(0))
grading.expect_shape("he_uniform((3, 4), rng)", w, (3, 4), hint="return an array of the requested shape.")
assert w.dtype == np.float32, f"the default dtype is float32, got {w.dtype}: finish with .astype(dtype)."
w = he_uniform((3, 4), np.random.default_rng(0), np.float64)
assert w.dtype == np.float64, f"he_uniform(..., dtype=np.float64) returned {w.dtype}."
expected = np.array([[0.3873861515, -0.6511415033, -1.298322936, -1.36746635],
                     [0.8860620419, 1.167449071, 0.3016115206, 0.6491142981],
                     [0.1233901092, 1.230570645, 0.8933687599, -1.406467914]])
grading.expect_close("he_uniform((3, 4), default_rng(0), float64)", w, expected,
                     hint="rng.uniform(-a, a, size=shape) with a = sqrt(6 / fan_in).")

big = he_uniform((400, 100), np.random.default_rng(2), np.float64)
grading.expect_close("the standard deviation of he_uniform((400, 100)) (fan_in 400, fan_out 100)",
                     big.std(), 0.07071067812, rtol=0.03,
                     hint="variance a**2 / 3 = 2 / fan_in, so a = sqrt(6 / fan_in), with fan_in = shape[0].")
filters = he_uniform((4, 3, 2, 2), np.random.default_rng(1), np.float64)
grading.expect_shape("he_uniform((4, 3, 2, 2)), convolution filters", filters, (4, 3, 2, 2),
                     hint="return an array of the requested shape, here 4-D.")
grading.expect_close("its first and last 2 x 2 kernels (filters[0, 0], filters[3, 2]), fan_in 12",
                     np.stack([filters[0, 0], filters[3, 2]]),
                     np.array([[[0.01671830198, 0.6370518687], [-0.5032343017, 0.6344861329]],
                               [[0.4806650566, 0.01342920443], [0.01539920809, 0.3578387514]]]),
                     hint="use (fan_in, fan_out) = fans(shape), which handles 4-D filter shapes.")

# %% nbgrader={"grade": true, "grade_id": "he_uniform_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.he_uniform", he_uniform)
### END HIDDEN TESTS

# %% [markdown]
# **Activations across depth.** 500 random inputs (standard normal, width 256) go through 10 layers $h
# \leftarrow f(h W)$ of width 256, with $f$ = tanh (left) or ReLU (right), for three initialisations of $W$: a
# small normal ($s = 0.01$, a common naive choice), Glorot and He. The plot shows the standard deviation of
# the activations after each layer (log scale).
#
# **What to see:** with $s = 0.01$ each layer multiplies the scale by about $0.01\sqrt{256} = 0.16$, so the
# activations (and, by the same argument, the gradients) vanish exponentially with depth: the deep layers
# learn nothing. With Glorot the tanh net shrinks only slowly (from about 0.6 to 0.23 over 10 layers: tanh is
# contractive); the ReLU net loses half its second moment per layer (about a factor $\sqrt{2}$ in standard
# deviation, 0.6 down to 0.03), which He's factor 2 exactly compensates: with He the ReLU net stays near 1 at
# every depth, and the tanh net settles at a larger scale (about 0.56), closer to saturation.

# %%
def activation_stds(init_fn, activation, depth=10, width=256, n=500, seed=0):
    """Standard deviation of the activations after each of `depth` layers h <- activation(h @ W)."""
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


# %% [markdown]
# ## 6. Dropout and dropconnect
#
# **Dropout** (Srivastava et al. 2014) zeroes each activation independently with probability $p$ during
# training, so no unit can rely on a particular other unit being there; it acts like training an ensemble of
# thinned nets that share weights. Here $p$ is the probability of **dropping** (PyTorch's convention).
# **Inverted** dropout divides the kept values by $1 - p$ during training,
#
# $$\text{out} = x \odot \frac{\text{mask}}{1 - p}, \qquad \text{mask}_i \sim \text{Bernoulli}(1 - p),$$
#
# so every unit's expected value is unchanged and evaluation mode is simply the identity (no rescaling at test
# time). The backward pass multiplies by the same scaled mask.
#
# **Exercise 6a.** `dropout_forward(x, p, mode, rng=None)` returns `(out, cache)`; `x` has any shape, `mode`
# is `'train'` or `'eval'`. In `'eval'` mode return `(x, None)`. In `'train'` mode draw the mask in one call,
# `keep = rng.random(x.shape) >= p` (so the same generator gives the reference's mask), and keep the scaled
# mask `keep / (1 - p)`, in `x`'s dtype, as the cache. `dropout_backward(dout, cache)` returns `dx`, shaped
# like `dout` (`dout` itself in eval mode).

# %% nbgrader={"grade": false, "grade_id": "dropout_forward", "locked": false, "schema_version": 3, "solution": true}
def dropout_forward(x, p, mode, rng=None):
    """Inverted dropout: out = x * keep / (1 - p) in 'train' mode, x in 'eval' mode. Returns (out, cache)."""
    ### BEGIN SOLUTION a04.dropout_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "dropout_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5, 3.0, -1.0], [0.5, 1.5, -0.5, 2.0, 1.0]])
result = dropout_forward(x, 0.4, "eval")
assert isinstance(result, tuple) and len(result) == 2, "dropout_forward must return a pair (out, cache)."
grading.expect_close("dropout_forward in 'eval' mode", result[0], x,
                     hint="evaluation mode is the identity: inverted dropout rescales during training only.")
out, _ = dropout_forward(x, 0.4, "train", np.random.default_rng(0))
grading.expect_shape("dropout_forward(x (2, 5))", out, (2, 5), hint="out has the shape of x.")
grading.expect_close("dropout_forward(x, p=0.4, 'train', default_rng(0))", out,
                     np.array([[1.666666667, -0.0, 0.0, 0.0, -1.666666667],
                               [0.8333333333, 2.5, -0.8333333333, 3.333333333, 1.666666667]]),
                     hint="keep = rng.random(x.shape) >= p (drawn in one call, compared with >= p), "
                          "then x * keep / (1 - p). Kept entries must be x / 0.6, not x.")
out0, _ = dropout_forward(x, 0.0, "train", np.random.default_rng(0))
grading.expect_close("dropout_forward with p = 0", out0, x, hint="p = 0 drops nothing and divides by 1.")
ones = np.ones((200, 500))
big, _ = dropout_forward(ones, 0.3, "train", np.random.default_rng(1))
grading.expect_close("fraction of dropped units for p = 0.3", np.mean(big == 0), 0.3, atol=0.01,
                     hint="p is the probability of DROPPING a unit.")
grading.expect_close("mean of dropout_forward(ones, p = 0.3)", big.mean(), 1.0, atol=0.01,
                     hint="inverted dropout keeps the expected value: divide the kept units by 1 - p.")

# %% nbgrader={"grade": true, "grade_id": "dropout_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.dropout_forward", dropout_forward)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "dropout_backward", "locked": false, "schema_version": 3, "solution": true}
def dropout_backward(dout, cache):
    """dx = dout * (the scaled mask of the forward pass); dout in 'eval' mode (cache None)."""
    ### BEGIN SOLUTION a04.dropout_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "dropout_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5, 3.0, -1.0], [0.5, 1.5, -0.5, 2.0, 1.0]])
dout = np.array([[0.5, 1.0, -1.0, 2.0, 0.25], [-0.5, 1.0, 3.0, -2.0, 1.0]])
_, cache = dropout_forward(x, 0.4, "train", np.random.default_rng(0))
dx = dropout_backward(dout, cache)
grading.expect_shape("dropout_backward dx", dx, (2, 5), hint="dx has the shape of dout.")
grading.expect_close("dropout_backward dx for p = 0.4", dx,
                     np.array([[0.8333333333, 0.0, -0.0, 0.0, 0.4166666667],
                               [-0.8333333333, 1.666666667, 5.0, -3.333333333, 1.666666667]]),
                     hint="dx = dout * keep / (1 - p) with the SAME mask as the forward pass (read it from "
                          "the cache, do not draw a new one).")
_, cache = dropout_forward(x, 0.4, "eval")
grading.expect_close("dropout_backward in 'eval' mode", dropout_backward(dout, cache), dout,
                     hint="in eval mode the layer is the identity, so dx = dout.")

# %% nbgrader={"grade": true, "grade_id": "dropout_backward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.dropout_backward", dropout_forward, dropout_backward)
### END HIDDEN TESTS

# %% [markdown]
# **Dropconnect** (Wan et al. 2013) drops **weights** instead of activations, with a fresh mask for every
# example: where dropout computes $\text{matmul}(\text{dropout}(x), W)$, dropconnect computes
# $\text{matmul}(x, \text{dropout}(W))$,
#
# $$\text{out}_n = x_n \Big(W \odot \frac{\text{mask}_n}{1-p}\Big) + b, \qquad
# \text{mask}_n \in \{0, 1\}^{D \times M} .$$
#
# Shapes: `x` `(N, D)`, `w` `(D, M)`, `b` `(M,)` (never dropped), `out` `(N, M)`, the masks `(N, D, M)`.
# Backward, with $W_n = W \odot \text{mask}_n / (1-p)$: $dx_n = \text{dout}_n W_n^\top$,
# $dW = \sum_n \frac{\text{mask}_n}{1-p} \odot (x_n^\top \text{dout}_n)$ (each example's outer product, masked
# by its own mask), $db = \sum_n \text{dout}_n$. `np.einsum` writes these in one line each
# (`"nd,ndm->nm"`, `"nm,ndm->nd"`, `"nd,nm,ndm->dm"`).
#
# **Exercise 6b.** `dropconnect_forward(x, w, b, p, mode, rng=None)` returns `(out, cache)`: in `'eval'` mode
# the plain affine layer $x W + b$ (cache `(x, w, None)`); in `'train'` mode draw
# `keep = rng.random((N, D, M)) >= p` in one call and use the scaled mask `keep / (1 - p)` (cache
# `(x, w, mask)`).
# `dropconnect_backward(dout, cache)` returns `(dx, dw, db)`.

# %% nbgrader={"grade": false, "grade_id": "dropconnect_forward", "locked": false, "schema_version": 3, "solution": true}
def dropconnect_forward(x, w, b, p, mode, rng=None):
    """out_n = x_n @ (w * mask_n / (1 - p)) + b, one weight mask per example. Returns (out (N, M), cache)."""
    ### BEGIN SOLUTION a04.dropconnect_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "dropconnect_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -0.5]])
w, b = np.array([[0.5, -1.0], [1.0, 2.0], [-1.5, 0.5]]), np.array([0.25, -0.5])
result = dropconnect_forward(x, w, b, 0.5, "eval")
assert isinstance(result, tuple) and len(result) == 2, "dropconnect_forward must return a pair (out, cache)."
grading.expect_close("dropconnect_forward in 'eval' mode", result[0], x @ w + b,
                     hint="evaluation mode is the plain affine layer x @ w + b.")
out, _ = dropconnect_forward(x, w, b, 0.0, "train", np.random.default_rng(0))
grading.expect_close("dropconnect_forward with p = 0", out, x @ w + b,
                     hint="with p = 0 every weight is kept and scaled by 1.")
out, _ = dropconnect_forward(x, w, b, 0.5, "train", np.random.default_rng(0))
grading.expect_shape("dropconnect_forward out", out, (2, 2), hint="out is (N, M).")
grading.expect_close("dropconnect_forward(x, w, b, p=0.5, 'train', default_rng(0))", out,
                     np.array([[-0.25, 0.0], [3.75, -4.5]]),
                     hint="keep = rng.random((N, D, M)) >= p in one call; example n uses "
                          "w * keep[n] / (1 - p); b is never dropped.")

# %% nbgrader={"grade": true, "grade_id": "dropconnect_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.dropconnect_forward", dropconnect_forward)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "dropconnect_backward", "locked": false, "schema_version": 3, "solution": true}
def dropconnect_backward(dout, cache):
    """dout: (N, M). Returns dx (N, D), dw (D, M), db (M,)."""
    ### BEGIN SOLUTION a04.dropconnect_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "dropconnect_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -0.5]])
w, b = np.array([[0.5, -1.0], [1.0, 2.0], [-1.5, 0.5]]), np.array([0.25, -0.5])
dout = np.array([[1.0, -2.0], [0.5, 1.0]])
_, cache = dropconnect_forward(x, w, b, 0.5, "train", np.random.default_rng(0))
grads = dropconnect_backward(dout, cache)
assert isinstance(grads, tuple) and len(grads) == 3, "dropconnect_backward must return (dx, dw, db)."
dx, dw, db = grads
grading.expect_shape("dx", dx, (2, 3), hint="dx is (N, D).")
grading.expect_shape("dw", dw, (3, 2), hint="dw is (D, M): sum the per-example masked outer products over n.")
grading.expect_close("db", db, np.array([1.5, -1.0]),
                     hint="the bias is never dropped: db = dout.sum(axis=0).")
grading.expect_close("dx", dx, np.array([[1.0, 0.0, -5.0], [-1.5, 5.0, -1.5]]),
                     hint="dx_n = dout_n @ (w * mask_n / (1 - p)).T, each example with its own mask.")
grading.expect_close("dw", dw, np.array([[4.0, 4.0], [0.0, 0.0], [0.5, -2.0]]),
                     hint="dw = sum over n of outer(x_n, dout_n) * mask_n / (1 - p).")
_, cache = dropconnect_forward(x, w, b, 0.5, "eval")
dx_eval, dw_eval, _ = dropconnect_backward(dout, cache)
grading.expect_close("dw in 'eval' mode", dw_eval, x.T @ dout,
                     hint="in eval mode the layer is affine: dw = x.T @ dout.")
grading.expect_close("dx in 'eval' mode", dx_eval, dout @ w.T, hint="in eval mode: dx = dout @ w.T.")

# %% nbgrader={"grade": true, "grade_id": "dropconnect_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.dropconnect_backward", dropconnect_forward, dropconnect_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Batch normalisation
#
# Batch normalisation (Ioffe and Szegedy 2015) normalises every feature $d$ over the mini-batch, then lets the
# net rescale and shift it with learned $\gamma$, $\beta$. In **training** mode, with $x$ `(N, D)`:
#
# $$\mu_d = \frac{1}{N}\sum_n x_{nd}, \qquad \sigma^2_d = \frac{1}{N}\sum_n (x_{nd} - \mu_d)^2, \qquad
# \hat x_{nd} = \frac{x_{nd} - \mu_d}{\sqrt{\sigma^2_d + \epsilon}}, \qquad
# \text{out}_{nd} = \gamma_d \hat x_{nd} + \beta_d .$$
#
# ($\sigma^2$ is the *biased* variance, dividing by $N$, as in the paper's algorithm.) At test time there may
# be a single example, so **evaluation** mode uses running averages of the batch statistics kept during
# training:
#
# $$\text{running} \leftarrow \text{momentum} \cdot \text{running}
# + (1 - \text{momentum}) \cdot \text{batch statistic}$$
#
# for the mean and the variance, starting from zeros. With momentum 0.9 the history weighs 0.9 and the new
# batch 0.1 (swapping the two weights, a classic bug, makes the "average" little more than the last batch).
# Evaluation mode computes $\hat x = (x - \text{running\_mean}) / \sqrt{\text{running\_var} + \epsilon}$ and
# the same $\gamma \hat x + \beta$.
#
# **Exercise 7a.** `batchnorm_forward(x, gamma, beta, bn_param)` with `gamma`, `beta` `(D,)` returns
# `(out, cache)`, `out` `(N, D)`. `bn_param` is a dict: `mode` (`'train'` or `'eval'`, required), `eps`
# (default `1e-5`), `momentum` (default `0.9`), `running_mean` and `running_var` (`(D,)`; zeros of `x`'s
# dtype when missing). In training mode **store** the updated running averages back into `bn_param` (the
# caller reads them there). Put in the cache what the backward pass needs (e.g. `x_hat`, `gamma`,
# $1/\sqrt{\sigma^2 + \epsilon}$ and the mode).

# %% nbgrader={"grade": false, "grade_id": "batchnorm_forward", "locked": false, "schema_version": 3, "solution": true}
def batchnorm_forward(x, gamma, beta, bn_param):
    """gamma * x_hat + beta, with the batch ('train') or running ('eval') statistics. Returns (out, cache)."""
    ### BEGIN SOLUTION a04.batchnorm_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "batchnorm_forward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [-1.0, 4.0, 2.0], [0.0, 1.0, 0.5]])
gamma, beta = np.array([2.0, 0.5, -1.0]), np.array([0.5, -1.0, 0.0])
# Isolation case: gamma = 1, beta = 0 leaves x_hat, whose columns have mean 0 and (biased) variance about 1.
x_hat, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
grading.expect_shape("batchnorm_forward out for x (4, 3)", x_hat, (4, 3), hint="out has the shape of x.")
grading.expect_close("column means of x_hat (gamma = 1, beta = 0)", x_hat.mean(axis=0), np.zeros(3),
                     atol=1e-7,
                     hint="subtract the mean of each feature over the batch: x.mean(axis=0), axis 0 is the "
                          "batch.")
grading.expect_close("column variances of x_hat (gamma = 1, beta = 0)", x_hat.var(axis=0),
                     np.array([0.9999954286, 0.9999978667, 0.9999911112]), rtol=1e-6,
                     hint="divide by sqrt(var + eps) with the biased variance ((x - mu)**2).mean(axis=0), "
                          "eps = 1e-5 by default.")
bn_param = {"mode": "train"}
result = batchnorm_forward(x, gamma, beta, bn_param)
assert isinstance(result, tuple) and len(result) == 2, "batchnorm_forward must return a pair (out, cache)."
grading.expect_close("batchnorm_forward out in 'train' mode", result[0],
                     np.array([[0.8380609292, -1.635084619, 0.0],
                               [3.542548363, -1.173204896, 1.414207277],
                               [-1.866426504, -0.2494454506, -1.414207277],
                               [-0.5141827875, -0.9422650347, 0.0]]),
                     hint="out = gamma * x_hat + beta, per feature.")
grading.expect_close("bn_param['running_mean'] after one batch (starting from zeros)",
                     bn_param.get("running_mean"), np.array([0.075, 0.075, 0.05]),
                     hint="running = momentum * running + (1 - momentum) * batch mean, with running = 0 and "
                          "momentum 0.9 at first: 0.1 * mean. Store it in bn_param.")
grading.expect_close("bn_param['running_var'] after one batch", bn_param.get("running_var"),
                     np.array([0.21875, 0.46875, 0.1125]),
                     hint="the same update for the (biased) batch variance: 0.1 * var.")
running = {"running_mean": np.array([0.5, 1.0, 0.0]), "running_var": np.array([2.0, 4.0, 1.0])}
bn_param = {"mode": "train", "momentum": 0.8, **running}
batchnorm_forward(x, gamma, beta, bn_param)
grading.expect_close("running_mean with momentum 0.8 from [0.5, 1, 0]", bn_param["running_mean"],
                     np.array([0.55, 0.95, 0.1]),
                     hint="0.8 * old running mean + 0.2 * batch mean (momentum weighs the HISTORY).")
grading.expect_close("running_var with momentum 0.8 from [2, 4, 1]", bn_param["running_var"],
                     np.array([2.0375, 4.1375, 1.025]),
                     hint="0.8 * old running var + 0.2 * batch var.")
bn_param = {"mode": "eval", **running}
out_eval, _ = batchnorm_forward(x, gamma, beta, bn_param)
grading.expect_close("batchnorm_forward out in 'eval' mode", out_eval,
                     np.array([[1.207105013, -1.749999063, -0.4999975], [4.035525067, -1.249999688, 0.999995],
                               [-1.62131504, -0.2500009375, -1.99999], [-0.2071050134, -1.0, -0.4999975]]),
                     hint="in eval mode use the running statistics: (x - running_mean) / "
                          "sqrt(running_var + eps), then gamma * . + beta.")
grading.expect_close("running_mean after an 'eval' call", bn_param["running_mean"], np.array([0.5, 1.0, 0.0]),
                     hint="evaluation mode must not update the running averages.")

# %% nbgrader={"grade": true, "grade_id": "batchnorm_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.batchnorm_forward", batchnorm_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 7b.** `batchnorm_backward(dout, cache)` returns `(dx, dgamma, dbeta)`, shapes `(N, D)`, `(D,)`,
# `(D,)`. $d\beta = \sum_n \text{dout}_n$ and $d\gamma = \sum_n \text{dout}_n \odot \hat x_n$. In training
# mode $\mu$ and $\sigma^2$ depend on every $x_n$ of the batch, so each $x_n$ also acts through them; with
# $d\hat x = \text{dout} \odot \gamma$ and $\text{inv\_std} = 1/\sqrt{\sigma^2 + \epsilon}$ the chain rule
# simplifies to
#
# $$dx = \frac{\text{inv\_std}}{N}\Big(N\, d\hat x - \sum_n d\hat x_n
# - \hat x \odot \sum_n (d\hat x_n \odot \hat x_n)\Big)$$
#
# (derive it: it is worth it). In evaluation mode the statistics are constants and
# $dx = d\hat x \cdot \text{inv\_std}$.

# %% nbgrader={"grade": false, "grade_id": "batchnorm_backward", "locked": false, "schema_version": 3, "solution": true}
def batchnorm_backward(dout, cache):
    """dout: (N, D). Returns dx (N, D), dgamma (D,), dbeta (D,)."""
    ### BEGIN SOLUTION a04.batchnorm_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "batchnorm_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [-1.0, 4.0, 2.0], [0.0, 1.0, 0.5]])
gamma, beta = np.array([2.0, 0.5, -1.0]), np.array([0.5, -1.0, 0.0])
dout = np.array([[1.0, -0.5, 2.0], [0.0, 1.5, -1.0], [-2.0, 0.5, 0.5], [0.5, -1.0, 1.0]])
_, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
grads = batchnorm_backward(dout, cache)
assert isinstance(grads, tuple) and len(grads) == 3, "batchnorm_backward must return (dx, dgamma, dbeta)."
dx, dgamma, dbeta = grads
grading.expect_shape("dx", dx, (4, 3), hint="dx has the shape of x, (N, D).")
grading.expect_close("dbeta", dbeta, np.array([-0.5, 0.5, 2.5]), hint="dbeta = dout.sum(axis=0).")
grading.expect_close("dgamma", dgamma, np.array([2.281911272, 0.7505545494, 2.121310916]),
                     hint="dgamma = (dout * x_hat).sum(axis=0), with the normalised x_hat (not x).")
grading.expect_close("sum of dx over the batch ('train' mode)", dx.sum(axis=0), np.zeros(3), atol=1e-9,
                     hint="shifting every x_n by the same amount changes nothing in train mode, so dx sums "
                          "to 0 over the batch: keep the - sum(dx_hat) term.")
grading.expect_close("dx ('train' mode)", dx,
                     np.array([[1.390879848, -0.0892968638, -1.296356671],
                               [-1.004518539, 0.3325533683, 0.8249605302],
                               [-1.622696633, 0.02155452583, 0.8249479596],
                               [1.236335324, -0.2648110303, -0.3535518193]]),
                     hint="dx = inv_std / N * (N dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0)) "
                          "with dx_hat = dout * gamma.")
running = {"running_mean": np.array([0.5, 1.0, 0.0]), "running_var": np.array([2.0, 4.0, 1.0])}
_, cache = batchnorm_forward(x, gamma, beta, {"mode": "eval", **running})
grading.expect_close("dx ('eval' mode)", batchnorm_backward(dout, cache)[0],
                     np.array([[1.414210027, -0.1249998438, -1.99999],
                               [0.0, 0.3749995313, 0.999995],
                               [-2.828420054, 0.1249998438, -0.4999975],
                               [0.7071050134, -0.2499996875, -0.999995]]),
                     hint="in eval mode the statistics are constants: dx = dout * gamma / "
                          "sqrt(running_var + eps).")

# %% nbgrader={"grade": true, "grade_id": "batchnorm_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.batchnorm_backward", batchnorm_forward, batchnorm_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### Gradient checks
#
# Your pairs against the centred-difference gradient of assignment 02 (`check_pair` puts a seeded random
# `dout` on the output and checks every input; float64, threshold $10^{-7}$). A random layer must draw the
# **same** mask at every evaluation, so the forward is given a fresh generator with a fixed seed each time.
# **What to see:** every relative error is far below $10^{-7}$, in both modes.

# %%
rng = np.random.default_rng(1)
x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
running = {"running_mean": rng.standard_normal(4), "running_var": rng.uniform(0.5, 2, 4)}
checks = {
    "dropout, train": (lambda x: dropout_forward(x, 0.5, "train", np.random.default_rng(1)),
                       dropout_backward, {"x": x}),
    "dropconnect, train": (lambda x, w, b: dropconnect_forward(x, w, b, 0.5, "train",
                                                               np.random.default_rng(1)),
                           dropconnect_backward, {"x": x, "w": w, "b": b}),
    "batch norm, train": (lambda x, g, be: batchnorm_forward(x, g, be, {"mode": "train"}),
                          batchnorm_backward, {"x": x, "gamma": gamma, "beta": beta}),
    "batch norm, eval": (lambda x, g, be: batchnorm_forward(x, g, be, {"mode": "eval", **running}),
                         batchnorm_backward, {"x": x, "gamma": gamma, "beta": beta}),
}
for label, (forward, backward, inputs) in checks.items():
    errors = check_pair(forward, backward, inputs)  # float64 relative errors, one per input
    print(f"{label:<20}" + "  ".join(f"d{name}: {err:.1e}" for name, err in errors.items()))
    bad = [name for name, err in errors.items() if not err < 1e-7]
    assert not bad, f"{label}: the gradient of {', '.join(bad)} is off (relative error above 1e-7)."


# %% [markdown]
# ### Regularisation on the digits
#
# Two small modules wrap your pairs (they are `course.layers.dropout.Dropout` and
# `course.layers.batchnorm.BatchNorm` with your functions): `model.train()` / `model.eval()` switch their
# mode. Then four 64-512-512-10 ReLU nets (about 300 000 weights, He initialisation with your `he_normal`),
# trained on only the first 400 training digits, so that they can overfit, for 50 epochs of SGD with
# momentum: plain, with L2 weight decay ($\lambda = 10^{-3}$), with dropout ($p = 0.5$ after each hidden
# ReLU) and with batch norm (before each hidden ReLU). Both losses are measured after each epoch in evaluation
# mode, on the 400 training and the 300 validation digits.
#
# **What to see:** the plain net drives its training loss towards zero while its validation loss bottoms out
# around epoch 15 and then creeps up: it overfits, and the gap between its two curves keeps growing. The three
# regularised nets reach their lowest validation loss much later (after epoch 40) and end with a lower
# validation loss and a smaller gap than the plain net (the numbers are printed under the plot). Weight decay
# keeps the training loss a little higher (the penalty stops the weights from growing); dropout and batch
# norm still fit the 400 digits almost perfectly, so their smaller gap comes from a lower validation loss.
#
# What this small experiment does **not** show is a clear gain in validation *accuracy*: the four nets end
# within about one percentage point of each other, three images of the 300, which is less than what another
# seed changes. We ran it with four seeds: the lower validation losses and smaller gaps came back every time,
# the order of the accuracies did not. A lower validation loss at the same accuracy means predictions that are
# less over-confident where they are wrong, not more digits right; whether the regularisers also buy accuracy
# is a question this experiment is too small to answer.

# %%
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
    """Batch norm over the features of (N, D) inputs with your pair; running statistics live in bn_param."""

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


# %%
def regularised_mlp(kind, hidden=512, seed=0):
    """64-hidden-hidden-10 ReLU net; kind 'dropout' or 'batch norm' adds them to both hidden layers."""
    he_init = lambda rng, shape: he_normal(shape, rng)  # your initialiser of section 5
    layers = []
    for i, (d_in, d_out) in enumerate([(64, hidden), (hidden, hidden)]):
        layers.append(Linear(d_in, d_out, rng=seed + i, init=he_init, input_grad=i > 0))
        if kind == "batch norm":
            layers.append(BatchNormLayer(d_out))
        layers.append(ReLU())
        if kind == "dropout":
            layers.append(DropoutLayer(0.5, seed=seed + i))
    layers.append(Linear(hidden, 10, rng=seed + 2, init=he_init))
    return Sequential(*layers)


X_small, y_small = X_train[:400], y_train[:400]
variants = {"plain": ("plain", 0.0), "L2 weight decay 1e-3": ("plain", 1e-3),
            "dropout p = 0.5": ("dropout", 0.0), "batch norm": ("batch norm", 0.0)}
epochs = 50
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for k, (label, (kind, weight_decay)) in enumerate(variants.items()):
    model = regularised_mlp(kind)
    optimizer = SimpleOptimizer(model, sgd_momentum, weight_decay=weight_decay, learning_rate=0.02)
    rng = np.random.default_rng(1)
    train_curve, val_curve = [], []
    for _ in range(epochs):
        train_epoch(model, softmax_cross_entropy, optimizer, X_small, y_small, 32, rng)
        train_curve.append(evaluate(model, softmax_cross_entropy, X_small, y_small)[0])
        val_loss, val_acc = evaluate(model, softmax_cross_entropy, X_val, y_val)
        val_curve.append(val_loss)
    gap = np.array(val_curve) - np.array(train_curve)
    axes[0].plot(range(1, epochs + 1), train_curve, "--", color=f"C{k}", label=f"{label}, training")
    axes[0].plot(range(1, epochs + 1), val_curve, "-", color=f"C{k}", label=f"{label}, validation")
    axes[1].plot(range(1, epochs + 1), gap, color=f"C{k}",
                 label=f"{label} (final val acc {100 * val_acc:.1f}%)")
    print(f"{label:<21} final validation loss {val_curve[-1]:.3f} (lowest {min(val_curve):.3f}, epoch "
          f"{int(np.argmin(val_curve)) + 1}), gap {gap[-1]:.3f}, validation accuracy {100 * val_acc:.1f}%")
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


# %% [markdown]
# ## 8. Grid and random hyper-parameter search
#
# A net has many hyper-parameters, and usually only a few of them matter much. Bergstra and Bengio (2012):
# with a budget of $n$ trials over two hyper-parameters of which one matters, a $\sqrt n \times \sqrt n$
# **grid** tries only $\sqrt n$ distinct values of the one that matters, while **random** search tries $n$ of
# them.
#
# A search space maps each hyper-parameter's name to `(low, high, scale)`, with scale `'log'` (uniform in
# $\log$: learning rates, weight decays) or `'linear'`. A number $u \in [0, 1]$ maps to
# $\text{low} + u\,(\text{high} - \text{low})$ on a linear axis and to
# $\exp(\log \text{low} + u\,(\log \text{high} - \log \text{low}))$ on a log axis. A point is a dict
# `{name: value}`.
#
# **Exercise 8a.** `grid_points(space, per_axis)` returns the list of all `per_axis ** K` combinations (K
# hyper-parameters) of `per_axis` evenly spaced values per axis, $u$ = `np.linspace(0, 1, per_axis)` mapped as
# above; in the order of `itertools.product` over the axes in the order of `space` (the last one varies
# fastest).
#
# **Exercise 8b.** `random_points(space, n, rng)` returns `n` points drawn uniformly in each axis's scale:
# draw all the numbers in one call, `u = rng.random((n, K))`, and map column $j$ to the $j$-th hyper-parameter
# of `space` (so the same generator gives the reference's points).

# %% nbgrader={"grade": false, "grade_id": "grid_points", "locked": false, "schema_version": 3, "solution": true}
def grid_points(space, per_axis):
    """Every combination of per_axis evenly spaced values (in each axis's scale). Returns a list of dicts."""
    ### BEGIN SOLUTION a04.grid_points
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "grid_points_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
space = {'learning_rate': (0.001, 0.1, 'log'), 'momentum': (0.5, 0.9, 'linear')}
points = grid_points(space, 3)
got = len(points) if isinstance(points, list) else type(points).__name__
assert isinstance(points, list) and len(points) == 9, (
    f"3 values per axis over 2 axes give 9 points, got {got}.")
assert all(isinstance(p, dict) and list(p) == list(space) for p in points), (
    "each point is a dict with the keys of space, in order.")
grading.expect_close("the learning rates of grid_points(space, 3) (log axis 1e-3 .. 1e-1)",
                     [p["learning_rate"] for p in points],
                     np.array([0.001, 0.001, 0.001, 0.01, 0.01, 0.01, 0.1, 0.1, 0.1]),
                     hint="a log axis spaces values evenly in log: 1e-3, 1e-2, 1e-1 (np.exp of a linspace of "
                          "logs), each repeated for every momentum.")
grading.expect_close("the momenta of grid_points(space, 3) (linear axis 0.5 .. 0.9)",
                     [p["momentum"] for p in points],
                     np.array([0.5, 0.7, 0.9, 0.5, 0.7, 0.9, 0.5, 0.7, 0.9]),
                     hint="a linear axis: 0.5, 0.7, 0.9; the last axis varies fastest "
                          "(itertools.product order).")

# %% nbgrader={"grade": true, "grade_id": "grid_points_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.grid_points", grid_points)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "random_points", "locked": false, "schema_version": 3, "solution": true}
def random_points(space, n, rng):
    """n draws, uniform in each axis's scale, from u = rng.random((n, K)). Returns a list of dicts."""
    ### BEGIN SOLUTION a04.random_points
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "random_points_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
space = {'learning_rate': (0.001, 0.1, 'log'), 'momentum': (0.5, 0.9, 'linear')}
points = random_points(space, 4, np.random.default_rng(0))
assert isinstance(points, list) and len(points) == 4, (
    "random_points(space, 4, rng) returns a list of 4 points.")
assert all(isinstance(p, dict) and list(p) == list(space) for p in points), (
    "each point is a dict with the keys of space, in order.")
grading.expect_close("the momenta drawn by random_points(space, 4, default_rng(0)) (linear axis)",
                     [p["momentum"] for p in points],
                     np.array([0.6079146855, 0.5066110542, 0.8651022309, 0.7917986244]),
                     hint="u = rng.random((n, 2)) in ONE call; column 1 goes to the 2nd hyper-parameter: "
                          "0.5 + u[:, 1] * 0.4.")
grading.expect_close("the learning rates drawn (log axis)", [p["learning_rate"] for p in points],
                     np.array([0.01878985266, 0.001207666579, 0.04231949517, 0.01634073366]),
                     hint="column 0 on the log axis: exp(log(1e-3) + u[:, 0] * (log(1e-1) - log(1e-3))).")

# %% nbgrader={"grade": true, "grade_id": "random_points_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a04.random_points", random_points)
### END HIDDEN TESTS

# %% [markdown]
# **Search on the digits.** 16 trials each: a $4 \times 4$ grid and 16 random points over the learning rate of
# SGD with momentum ($10^{-3}$ to $0.5$, log axis: it matters) and the L2 weight decay ($10^{-7}$ to
# $10^{-5}$, log axis: far too small to matter in 2 epochs). Each trial trains a 64-32-32-10 net for 2 epochs
# and reports its validation loss. Left: the trials in the plane of the two hyper-parameters, coloured by
# their validation loss. Right: the same losses against the learning rate alone.
#
# **What to see:** the loss depends on the learning rate (the colours change along the horizontal axis, hardly
# along the vertical one), with a minimum near 0.1; above about 0.2 training becomes unstable and the loss
# erratic. The grid spends its 16 trials on 4 distinct learning rates, 4 trials each with nearly the same
# result, and none of them near 0.1; random search tries 16 learning rates and so lands closer to the best
# one.

# %%
space = {"learning_rate": (1e-3, 0.5, "log"), "weight_decay": (1e-7, 1e-5, "log")}


def validation_loss(params):
    """The objective: validation loss of a small net after 2 epochs with these hyper-parameters."""
    model = digits_mlp(seed=0, hidden=32)
    optimizer = SimpleOptimizer(model, sgd_momentum, weight_decay=params["weight_decay"],
                                learning_rate=params["learning_rate"])
    rng = np.random.default_rng(0)
    for _ in range(2):
        train_epoch(model, softmax_cross_entropy, optimizer, X_train, y_train, 64, rng)
    return evaluate(model, softmax_cross_entropy, X_val, y_val)[0]


trials = {"grid 4 x 4": grid_points(space, 4),
          "random, 16": random_points(space, 16, np.random.default_rng(0))}
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
    axes[1].scatter(lr, scores[name], marker=marker,
                    label=f"{name}: best {scores[name][best]:.3f} at lr {lr[best]:.3g}")
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

# %% [markdown]
# One run can be lucky. The same comparison on a toy validation loss that depends on one hyper-parameter only,
# $f(a, b) = (a - a^\star)^2$ on the unit square (`one_that_matters` from
# `course.training.hyperparameter_search`), repeated for 500 random positions $a^\star$ of the optimum, with
# 16 trials per search.
#
# **What to see:** the grid's best loss is limited by the spacing of its 4 values of $a$ (up to
# $(1/6)^2 \approx 0.03$); random search, with 16 distinct values of $a$, is typically one to two orders of
# magnitude closer, and it wins in most of the 500 runs.

# %%
unit_square = {"a": (0.0, 1.0, "linear"), "b": (0.0, 1.0, "linear")}
toy_rng = np.random.default_rng(1)
best = {"grid 4 x 4": [], "random, 16": []}
for _ in range(500):
    optimum = float(toy_rng.random())
    best["grid 4 x 4"].append(min(one_that_matters(p, "a", optimum) for p in grid_points(unit_square, 4)))
    random_trials = random_points(unit_square, 16, toy_rng)
    best["random, 16"].append(min(one_that_matters(p, "a", optimum) for p in random_trials))

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

# %% [markdown]
# ## Summary
#
# Training a deep net is a loop of zero-grad, forward, loss, backward and update over shuffled mini-batches.
# The update rule matters: momentum accumulates consistent directions, and the adaptive rules (Adagrad,
# RMSProp, Adadelta, Adam) rescale every coordinate by its own gradient history. The initial scale must
# preserve the variance through depth (Glorot for tanh, He for ReLU), or activations and gradients vanish or
# explode. L2 weight decay and dropout fight overfitting; batch norm normalises every feature over the batch
# and keeps running averages for evaluation; gradient clipping caps the size of a step. Hyper-parameters are
# best searched at random, on a validation set. Assignment 05 brings convolutions.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a04_training_deep_nets.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a04_training_deep_nets.ipynb")
