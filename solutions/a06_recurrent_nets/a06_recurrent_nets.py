# %% [markdown]
# # Assignment 06: recurrent nets
#
# Text, speech and time series are sequences. A recurrent net reads a sequence one element at a time and
# keeps a **state** $h_t$ that summarises what it has read: the same step, with the same weights, is
# applied at every position, $h_t = f_W(h_{t-1}, x_t)$. Training it is backpropagation through the unrolled
# chain of steps, and that chain is also its weakness: a gradient that travels back $k$ steps is multiplied
# by $k$ Jacobians, so it vanishes or explodes. Gated cells (the LSTM and the GRU) add a path along which
# the state, and its gradient, pass almost unchanged.
#
# You will implement, in this notebook:
#
# 1. a word embedding as a sparse matrix product, forward and backward;
# 2. the vanilla RNN step and the RNN over a sequence, forward and backward (backpropagation through time);
# 3. the LSTM step `lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)` / `lstm_step_backward(dnext_h,
#    dnext_c, cache)`, the LSTM over a sequence, and its initialisation with a forget-gate bias;
# 4. the GRU step and sequence, forward and backward;
# 5. the temporal affine layer and the temporal softmax loss with a mask;
# 6. training with truncated backpropagation through time;
# 7. a character n-gram model (the baseline) and sampling with a temperature.
#
# Along the way you will see gradients vanish and explode through time (the lectures' `forward_backward_prop`
# and the "wall" of $h_t = w\,\sigma(h_{t-1}) + b$), compare the gradient that reaches early steps in an RNN
# and an LSTM, rescue an exploding run with gradient-norm clipping, and train a character-level language
# model on Shakespeare built from your own functions, reading its samples as it learns.
#
# **Time budget: the notebook runs top to bottom in at most 3 minutes on one CPU core** (about 70 seconds
# of computation on the course's machine, two thirds of it the character model's 2000 updates; on a busy
# machine the wall-clock time is longer). Everything random is seeded, so every run gives the same numbers
# on the same machine.
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
# a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
# the reference on fresh random inputs, with an upstream gradient on every time step, when the course
# grader runs it. Both carry points. Do not edit, copy or delete test cells: the grader restores them. Use
# NumPy and the library of earlier assignments (`course.layers.activations`, `course.layers.losses`,
# `course.core`, `course.training.init`, `course.training.optim`); in the grader the library functions you
# are asked to write here (`course.layers.embedding`, `course.layers.rnn`, `course.layers.lstm`,
# `course.layers.gru`, `course.layers.temporal`, `course.training.tbptt.train_tbptt`,
# `course.models.ngram.NGramLM.log_probs`, `course.models.charlm`) raise `NotImplementedError`.
#
# Shapes use the course's letters: N batch (or parallel streams of text), T time steps, D input features,
# H hidden units, V vocabulary size, M outputs of an affine layer. Sequences are batch-first, `(N, T, D)`.

# %%
import functools
import time

import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import get_array_module  # noqa: F401 (the library's solutions use it)
from course.core.gradcheck import check_loss, check_pair
from course.core.module import Module
from course.data import CharVocab, load_text, text_splits
from course.layers.activations import sigmoid_forward
from course.layers.losses import log_softmax, softmax  # noqa: F401 (the temporal loss and sampling use them)
from course.layers.rnn import rnn_init
from course.models import ngram
from course.models.ngram import window_codes  # noqa: F401 (for NGramLM.log_probs)
from course.training.init import orthogonal  # noqa: F401 (for lstm_init)
from course.training.optim import Optimizer, adam, sgd
from course.training.tbptt import batchify, tbptt_chunks

TOL = 1e-7  # gradient checks: float64, centred differences with h = 1e-5, relative error below 1e-7


# %% [markdown]
# ## 1. Word embeddings: a sparse matrix product
#
# A word (or a character) is an integer id $v \in \{0, \dots, V - 1\}$. Its **one-hot** vector
# $e_v \in \mathbb{R}^V$ has a 1 at position $v$ and zeros elsewhere, and the lecture embeds it with a
# matrix product: with one row of $W$ per word, $W$ of shape $(V, D)$,
#
# $$\text{out} = e_v^\top W = W[v], \qquad \text{for a batch: } \text{out}[n, t] = W[x_{n,t}] .$$
#
# So the product with a sparse one-hot matrix is a **lookup**: row $x_{n,t}$ of $W$, no multiplication at
# all. The backward pass is the transposed product, $dW = \text{onehot}(x)^\top\, \text{dout}$:
#
# $$dW[v] = \sum_{(n, t)\,:\,x_{n,t} = v} \text{dout}[n, t] .$$
#
# Every occurrence of a word adds its upstream gradient into that word's row; a word that appears twice
# gets **both** gradients, and a word that does not appear gets zero. (The ids themselves are integers:
# they get no gradient.)
#
# **Exercise 1a.** `word_embedding_forward(x, W)` returns `(out, cache)` with `out` of shape `(N, T, D)` for
# `x` of shape `(N, T)` holding ids in `[0, V)`.

# %% nbgrader={"grade": false, "grade_id": "word_embedding_forward", "locked": false, "schema_version": 3, "solution": true}
def word_embedding_forward(x, W):
    """out[n, t] = W[x[n, t]]. x: (N, T) integer ids, W: (V, D). Returns (out (N, T, D), cache)."""
    ### BEGIN SOLUTION a06.word_embedding_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "word_embedding_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
W_check = np.arange(15.0).reshape(5, 3) / 4 - 1  # V = 5 words, D = 3; row v is word v's vector
x_check = np.array([[0, 2, 2], [3, 0, 1]])  # (N, T) = (2, 3): ids 0 and 2 occur twice, id 4 never
result = word_embedding_forward(x_check, W_check)
assert isinstance(result, tuple) and len(result) == 2, "word_embedding_forward must return (out, cache)."
out, _ = result
grading.expect_shape("out for x (2, 3), W (5, 3)", out, (2, 3, 3), hint="one D-vector per id: (N, T, D).")
grading.expect_close("out[0, 1], the vector of id 2", out[0, 1], np.array([0.5, 0.75, 1.0]),
                     hint="row x[n, t] of W: W[2] here.")
grading.expect_close("out", out, np.array([[[-1.0, -0.75, -0.5], [0.5, 0.75, 1.0], [0.5, 0.75, 1.0]],
                                           [[1.25, 1.5, 1.75], [-1.0, -0.75, -0.5], [-0.25, 0.0, 0.25]]]),
                     hint="index the rows of W with the whole id array at once: W[x] (the one-hot product).")

# %% nbgrader={"grade": true, "grade_id": "word_embedding_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.word_embedding_forward", word_embedding_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 1b.** `word_embedding_backward(dout, cache)` returns `dW`, shaped and typed like `W`. Beware of
# `dW[x] = dout` (or `dW[x] += dout`): NumPy's fancy-index assignment is *buffered*, so for an id that
# occurs twice only one of its gradients survives. `np.add.at(dW, ids, values)` is the unbuffered version:
# it adds every value, repeats included.

# %% nbgrader={"grade": false, "grade_id": "word_embedding_backward", "locked": false, "schema_version": 3, "solution": true}
def word_embedding_backward(dout, cache):
    """dW[v] = sum of dout[n, t] over every (n, t) with x[n, t] = v. dout: (N, T, D). Returns dW (V, D)."""
    ### BEGIN SOLUTION a06.word_embedding_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "word_embedding_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
W_check = np.arange(15.0).reshape(5, 3) / 4 - 1
x_check = np.array([[0, 2, 2], [3, 0, 1]])
dout = np.arange(18.0).reshape(2, 3, 3) / 9 - 1
_, cache = word_embedding_forward(x_check, W_check)
dW = word_embedding_backward(dout, cache)
grading.expect_shape("dW", dW, (5, 3), hint="dW has the shape of W, (V, D).")
grading.expect_close("dW[3] (id 3 occurs once, at (1, 0))", dW[3], dout[1, 0],
                     hint="the row of a word that occurs once is its upstream gradient.")
grading.expect_close("dW[2] (id 2 occurs at (0, 1) and (0, 2))", dW[2], np.array([-1.0, -0.7777777778,
                                                                               -0.5555555556]),
                     hint="both occurrences add up, dout[0, 1] + dout[0, 2]: use np.add.at, "
                          "not dW[x] = dout.")
grading.expect_close("dW[4] (id 4 never occurs)", dW[4], np.zeros(3), hint="start from zeros.")
grading.expect_close("dW", dW, np.array([[-0.6666666667, -0.4444444444, -0.2222222222],
                                         [0.6666666667, 0.7777777778, 0.8888888889],
                                         [-1.0, -0.7777777778, -0.5555555556],
                                         [0.0, 0.1111111111, 0.2222222222], [0.0, 0.0, 0.0]]),
                     hint="dW = onehot(x)^T dout, summed over every (n, t).")
_, cache32 = word_embedding_forward(x_check, W_check.astype(np.float32))
dW32 = word_embedding_backward(dout.astype(np.float32), cache32)
grading.expect_equal("dtype of dW for a float32 W", str(dW32.dtype), "float32",
                     hint="create dW with W's dtype (keep it in the cache).")

# %% nbgrader={"grade": true, "grade_id": "word_embedding_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs (with repeated ids).
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.word_embedding_backward", word_embedding_forward, word_embedding_backward)
### END HIDDEN TESTS

# %% [markdown]
# **What to see:** the lookup *is* the one-hot product, to the last bit, and the backward pass is the
# transposed product. The lookup just never builds the $(N T, V)$ one-hot matrix, which for a vocabulary of
# 10,000 words would be almost all zeros.

# %%
onehot = np.eye(5)[x_check]  # (N, T, V): the sparse matrix the lecture multiplies by
lookup, _ = word_embedding_forward(x_check, W_check)
print("lookup == one-hot product:", np.array_equal(lookup, onehot @ W_check))
print("backward == transposed product:",
      np.allclose(dW, onehot.reshape(-1, 5).T @ dout.reshape(-1, 3), rtol=0, atol=1e-12))


# %% [markdown]
# ## 2. The vanilla RNN and backpropagation through time
#
# One step of the vanilla recurrent net (lectures 001 and 002) mixes the input and the previous state and
# squashes them:
#
# $$h_t = \tanh(x_t W_x + h_{t-1} W_h + b), \qquad x_t: (N, D),\ h_{t-1}: (N, H),\ W_x: (D, H),\ W_h: (H, H),\
# b: (H,).$$
#
# (The lecture writes column vectors, $h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t)$; with a batch of row vectors
# the same maps are $W_x = W_{xh}^\top$ and $W_h = W_{hh}^\top$.)
#
# **Exercise 2a.** `rnn_step_forward(x, prev_h, Wx, Wh, b)` returns `(next_h, cache)`.

# %% nbgrader={"grade": false, "grade_id": "rnn_step_forward", "locked": false, "schema_version": 3, "solution": true}
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """next_h = tanh(x Wx + prev_h Wh + b): (N, H). Returns (next_h, cache)."""
    ### BEGIN SOLUTION a06.rnn_step_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "rnn_step_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 6).reshape(2, 3)  # N = 2, D = 3, H = 4
prev_h = np.linspace(-0.5, 0.5, 8).reshape(2, 4)
Wx = np.linspace(-0.4, 0.4, 12).reshape(3, 4)
Wh = np.linspace(-0.3, 0.3, 16).reshape(4, 4)
b = np.array([0.1, -0.1, 0.2, 0.0])
result = rnn_step_forward(x, prev_h, Wx, Wh, b)
assert isinstance(result, tuple) and len(result) == 2, "rnn_step_forward must return (next_h, cache)."
next_h, _ = result
grading.expect_shape("next_h", next_h, (2, 4), hint="next_h has the shape of prev_h, (N, H).")
next_h_in, _ = rnn_step_forward(x, prev_h, Wx, np.zeros_like(Wh), b)
grading.expect_close("next_h with Wh = 0 (input and bias only)", next_h_in,
                     np.array([[0.4846858702, 0.195627344, 0.3516038953, 0.03634761679],
                               [0.1355246471, 0.06717142705, 0.4606860514, 0.4045612883]]),
                     hint="tanh(x @ Wx + b): the input term is x @ Wx, (N, D) @ (D, H).")
grading.expect_close("next_h", next_h, np.array([[0.6118969521, 0.3232970888, 0.4290251431, 0.08189410362],
                                                  [0.1800921463, 0.1573822303, 0.5617077715, 0.5454969289]]),
                     hint="add the recurrent term prev_h @ Wh inside the tanh.")

# %% nbgrader={"grade": true, "grade_id": "rnn_step_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.rnn_step_forward", rnn_step_forward)
### END HIDDEN TESTS

# %% [markdown]
# Backward through one step: with $a = x W_x + h_{t-1} W_h + b$ and $\tanh'(a) = 1 - \tanh^2(a) =
# 1 - h_t^2$ (read it from the output, which the cache holds),
#
# $$da = dh_t \odot (1 - h_t^2), \quad dx = da\, W_x^\top, \quad dh_{t-1} = da\, W_h^\top, \quad
# dW_x = x^\top da, \quad dW_h = h_{t-1}^\top da, \quad db = \textstyle\sum_n da_{n,:} .$$
#
# **Exercise 2b.** `rnn_step_backward(dnext_h, cache)` returns `(dx, dprev_h, dWx, dWh, db)`.

# %% nbgrader={"grade": false, "grade_id": "rnn_step_backward", "locked": false, "schema_version": 3, "solution": true}
def rnn_step_backward(dnext_h, cache):
    """dnext_h: (N, H). Returns dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,)."""
    ### BEGIN SOLUTION a06.rnn_step_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "rnn_step_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 6).reshape(2, 3)
prev_h = np.linspace(-0.5, 0.5, 8).reshape(2, 4)
Wx = np.linspace(-0.4, 0.4, 12).reshape(3, 4)
Wh = np.linspace(-0.3, 0.3, 16).reshape(4, 4)
b = np.array([0.1, -0.1, 0.2, 0.0])
_, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
grads = rnn_step_backward(np.linspace(1, -1, 8).reshape(2, 4), cache)
assert isinstance(grads, tuple) and len(grads) == 5, (
    "rnn_step_backward must return (dx, dprev_h, dWx, dWh, db).")
grading.expect_close("db", grads[4], np.array([0.4873582887, 0.2216717801, -0.1392299453, -0.5605340497]),
                     hint="db sums da = dnext_h * (1 - next_h**2) over the batch; tanh' uses the output.")
grading.expect_close("dprev_h", grads[1],
                     np.array([[-0.4564509497, -0.1753635111, 0.1057239275, 0.386811366],
                               [0.3841355171, 0.1045306504, -0.1750742164, -0.4546790831]]),
                     hint="dprev_h = da @ Wh.T.")
rng = np.random.default_rng(10)
inputs = {"x": rng.standard_normal((3, 4)), "prev_h": rng.standard_normal((3, 5)),
          "Wx": rng.standard_normal((4, 5)) / 2, "Wh": rng.standard_normal((5, 5)) / 2,
          "b": rng.standard_normal(5)}
check_pair(rnn_step_forward, rnn_step_backward, inputs, tol=TOL, context="rnn_step_backward")
print(f"ok: gradient check: dx, dprev_h, dWx, dWh and db within relative error {TOL:.0e} "
      "of central differences")

# %% nbgrader={"grade": true, "grade_id": "rnn_step_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and upstream
# gradients, and runs your backward pass twice on one cache (it must change none of its inputs).
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.rnn_step_backward", rnn_step_forward, rnn_step_backward)
### END HIDDEN TESTS

# %% [markdown]
# **Over a sequence.** Unrolled over $T$ steps from $h_0$, the same step with the **same** weights runs
# $T$ times:
#
# $$h_t = \tanh(x_t W_x + h_{t-1} W_h + b), \qquad t = 1, \dots, T .$$
#
# The input is `x` of shape `(N, T, D)` and the output every hidden state, `h` of shape `(N, T, H)`
# (`h[:, t]` is $h_{t+1}$; `h[:, -1]` is the final state, which truncated BPTT carries into the next chunk).
#
# **Exercise 2c.** `rnn_forward(x, h0, Wx, Wh, b)` returns `(h, cache)`, the cache the list of the $T$ step
# caches. Loop over time with your `rnn_step_forward`.

# %% nbgrader={"grade": false, "grade_id": "rnn_forward", "locked": false, "schema_version": 3, "solution": true}
def rnn_forward(x, h0, Wx, Wh, b):
    """h_t = tanh(x_t Wx + h_{t-1} Wh + b), t = 1..T, for x (N, T, D) and h0 (N, H).

    Returns (h (N, T, H), cache: the list of the T step caches).
    """
    ### BEGIN SOLUTION a06.rnn_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "rnn_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 12).reshape(2, 3, 2)  # N = 2, T = 3, D = 2, H = 3
h0 = np.linspace(-0.5, 0.5, 6).reshape(2, 3)
Wx = np.linspace(-0.6, 0.6, 6).reshape(2, 3)
Wh = np.linspace(-0.4, 0.4, 9).reshape(3, 3)
b = np.array([0.05, -0.05, 0.1])
result = rnn_forward(x, h0, Wx, Wh, b)
assert isinstance(result, tuple) and len(result) == 2, "rnn_forward must return (h, cache)."
h, _ = result
grading.expect_shape("h", h, (2, 3, 3), hint="every hidden state: (N, T, H).")
grading.expect_close("h[:, 0], the first step (from h0)", h[:, 0],
                     np.array([[0.6421466592, 0.1346321437, -0.2363542398],
                               [0.05811625607, 0.1346321437, 0.4323044042]]),
                     hint="step 1 reads x[:, 0] and h0.")
grading.expect_close("h", h, np.array([[[0.6421466592, 0.1346321437, -0.2363542398],
                                        [0.05960924791, -0.2431277818, -0.2966765569],
                                        [0.1428767387, -0.09117726704, -0.07657324219]],
                                       [[0.05811625607, 0.1346321437, 0.4323044042],
                                        [-0.09631299775, 0.1270211638, 0.5384956559],
                                        [-0.1852239602, 0.2030360723, 0.6906414469]]]),
                     hint="each step reads the previous step's output as prev_h.")

# %% nbgrader={"grade": true, "grade_id": "rnn_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.rnn_forward", rnn_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Backpropagation through time (BPTT).** The loss reads every hidden state (a language model predicts a
# character at every step), so the upstream gradient `dh` has shape `(N, T, H)`. Two facts give the whole
# algorithm (lecture 003, "Deriving BPTT"):
#
# - $h_t$ is used twice: by the loss at step $t$ and by step $t + 1$. Its total gradient is the sum,
#   $\;\partial L / \partial h_t = \text{dh}[:, t] + dh_t^{\text{(from } t+1)}$, and the second term only
#   exists once step $t + 1$ has been backpropagated: walk **backwards**, $t = T, \dots, 1$.
# - $W_x$, $W_h$, $b$ are used by every step, so their gradients are the **sum** of the per-step gradients:
#   $\frac{\partial L}{\partial W_h} = \sum_t \sum_{k \le t} \frac{\partial L_t}{\partial h_t}
#   \frac{\partial h_t}{\partial h_k} \frac{\partial h_k}{\partial W_h}$, accumulated one step at a time.
#
# What reaches $h_0$ is returned as `dh0`.
#
# **Exercise 2d.** `rnn_backward(dh, cache)` returns `(dx, dh0, dWx, dWh, db)`, with `dx` of shape
# `(N, T, D)`. Use your `rnn_step_backward`.

# %% nbgrader={"grade": false, "grade_id": "rnn_backward", "locked": false, "schema_version": 3, "solution": true}
def rnn_backward(dh, cache):
    """dh: (N, T, H) upstream gradient on every step. Returns dx (N, T, D), dh0 (N, H), dWx, dWh, db."""
    ### BEGIN SOLUTION a06.rnn_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "rnn_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 12).reshape(2, 3, 2)
h0 = np.linspace(-0.5, 0.5, 6).reshape(2, 3)
Wx = np.linspace(-0.6, 0.6, 6).reshape(2, 3)
Wh = np.linspace(-0.4, 0.4, 9).reshape(3, 3)
b = np.array([0.05, -0.05, 0.1])
_, cache = rnn_forward(x, h0, Wx, Wh, b)
grads = rnn_backward(np.linspace(-1, 1, 18).reshape(2, 3, 3), cache)
assert isinstance(grads, tuple) and len(grads) == 5, "rnn_backward must return (dx, dh0, dWx, dWh, db)."
grading.expect_shape("dx", grads[0], (2, 3, 2), hint="dx has the shape of x, (N, T, D).")
grading.expect_close("dh0", grads[1], np.array([[0.6216466081, -0.07970732712, -0.7810612624],
                                                 [-0.1385746419, 0.07856870528, 0.2957120524]]),
                     hint="at every step t add the upstream gradient dh[:, t] to the gradient coming back "
                          "from step t + 1 (a dh0 of about [0.023, 0.0025, -0.018] means that only the "
                          "last step's dh was used).")
grading.expect_close("db", grads[4], np.array([-0.7642295437, 0.1091995841, 0.3400396557]),
                     hint="the weights are shared: accumulate (+=) their gradients over the steps.")
rng = np.random.default_rng(1)
inputs = {"x": rng.standard_normal((2, 4, 3)), "h0": rng.standard_normal((2, 5)),
          "Wx": rng.standard_normal((3, 5)) / 2, "Wh": rng.standard_normal((5, 5)) / 2,
          "b": rng.standard_normal(5)}
check_pair(rnn_forward, rnn_backward, inputs, tol=TOL, context="rnn_backward, T = 4")
print(f"ok: gradient check with an upstream gradient on every step: dx, dh0, dWx, dWh and db within "
      f"relative error {TOL:.0e} of central differences")

# %% nbgrader={"grade": true, "grade_id": "rnn_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and upstream
# gradients on every step, and runs your backward pass twice on one cache.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.rnn_backward", rnn_forward, rnn_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Vanishing and exploding gradients
#
# The gradient that reaches $h_k$ from a loss at step $t$ passes through every step in between:
#
# $$\frac{\partial h_t}{\partial h_k} = \prod_{i=k+1}^{t} \frac{\partial h_i}{\partial h_{i-1}}
# = \prod_{i=k+1}^{t} \operatorname{diag}\!\left[\tanh'(a_i)\right] W_h^\top, \qquad
# \left\| \frac{\partial h_t}{\partial h_k} \right\| \le (\gamma_W \gamma_\phi)^{t-k},$$
#
# with $\gamma_W$ the largest singular value of $W_h$ and $\gamma_\phi \le 1$ a bound on $\tanh'$ (lecture
# 001). A product of $t - k$ factors goes to zero or to infinity geometrically unless its factors stay
# very close to 1.
#
# **The lecture's scalar example** (lecture 003): $h_t = \tanh(w\, h_{t-1})$ from $h_0 = 0.5$. The state
# stays bounded for every $w$, but its gradient with respect to the start is the product
# $\frac{dh_T}{dh_0} = \prod_{t=1}^{T} w\,(1 - h_t^2)$. `forward_backward_prop(w, T)` runs the recurrence
# forward and multiplies the local derivatives backward (it works for a whole array of $w$ at once).

# %%
def forward_backward_prop(w, T, h0=0.5):
    """h_t = tanh(w h_{t-1}) for T steps from h0; returns (h_T, dh_T / dh_0), elementwise over an array w."""
    hs = [np.full(np.shape(w), h0)]
    for _ in range(T):
        hs.append(np.tanh(w * hs[-1]))
    dh = np.ones(np.shape(w))  # dh_T / dh_T
    for t in range(T, 0, -1):
        dh = dh * w * (1 - hs[t] ** 2)  # dh_t / dh_{t-1} = w tanh'(w h_{t-1}) = w (1 - h_t^2)
    return hs[-1], dh


ws = np.linspace(-4, 4, 801)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
for T_steps, color in [(10, "C0"), (50, "C1")]:
    h_T, dh_T = forward_backward_prop(ws, T_steps)
    ax1.plot(ws, h_T, color=color, label=f"T = {T_steps}")
    ax2.semilogy(ws, np.abs(dh_T) + 1e-300, color=color, label=f"T = {T_steps}")
ax1.set_xlabel("recurrent weight w")
ax1.set_ylabel("final state $h_T$")
ax1.set_title("Forward: $h_t = \\tanh(w h_{t-1})$ stays in (-1, 1)")
ax1.legend()
ax2.set_ylim(1e-30, 1e2)
ax2.set_xlabel("recurrent weight w")
ax2.set_ylabel("$|dh_T / dh_0|$ (log scale)")
ax2.set_title("Backward: the gradient through T steps")
ax2.legend()
plt.tight_layout()
plt.show()


# %% [markdown]
# **What to see:** the forward pass is harmless for every $w$ (left), but the gradient (right, log scale)
# is tiny almost everywhere: for $|w| < 1$ every factor is below 1; for large $|w|$ the state saturates at
# $\pm 1$, $1 - h_t^2 \approx 0$, and the factors collapse again. Only a narrow band around $|w| \approx 1$
# carries a gradient through 10 steps, and it is narrower still after 50: long-range credit assignment
# is hard for a vanilla RNN, whatever its weights.
#
# **Exploding gradients: the wall** (lecture 004, after Pascanu et al. 2013). Take
# $h_t = w\,\sigma(h_{t-1}) + b$, $h_0 = 0.5$, and the loss $(h_{50} - 0.7)^2$. For $w$ above about 4 the
# map has two stable fixed points; $h_0$ lies in the basin of one or the other, and at the boundary,
# $b = 0.5 - w\,\sigma(0.5)$, an arbitrarily small change of $w$ or $b$ decides where $h_{50}$ ends up. The
# loss jumps there, and its gradient (by BPTT, below) grows without bound next to the jump.

# %%
def sigmoid_recurrence(w, b, T=50, h0=0.5, target=0.7):
    """h_t = w sigmoid(h_{t-1}) + b; returns the loss (h_T - target)^2 and (dloss/dw, dloss/db) by BPTT.

    w and b broadcast against each other (a grid gives a whole loss surface at once).
    """
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    h = np.full(w.shape, h0)
    sigmoids = []  # s_t = sigmoid(h_{t-1}), what backward reads
    for _ in range(T):
        s, _ = sigmoid_forward(h)
        sigmoids.append(s)
        h = w * s + b
    delta = 2 * (h - target)  # dloss / dh_T
    dw, db = np.zeros(w.shape), np.zeros(w.shape)
    for s in reversed(sigmoids):
        dw += delta * s  # w and b are used at every step: their gradients add up
        db += delta
        delta = delta * w * s * (1 - s)  # dh_t / dh_{t-1} = w sigmoid'(h_{t-1})
    return (h - target) ** 2, dw, db


b_slice = -4.0
w_wall = (0.5 - b_slice) / sigmoid_forward(np.array([0.5]))[0][0]  # h_0 = 0.5 is a fixed point here
w_grid = np.linspace(0, 12, 1201)
loss_slice, _, _ = sigmoid_recurrence(w_grid, b_slice)
distance = np.logspace(-14, 0, 281)
W_grid, B_grid = np.meshgrid(np.linspace(0, 10, 101), np.linspace(-6, 0, 61))
surface, _, _ = sigmoid_recurrence(W_grid, B_grid)

fig = plt.figure(figsize=(15, 4.3))
ax1 = fig.add_subplot(1, 3, 1)
ax1.plot(w_grid, loss_slice)
ax1.axvline(w_wall, color="gray", ls=":", label=f"w = {w_wall:.3f}")
ax1.set_xlabel("w  (b = -4)")
ax1.set_ylabel("loss $(h_{50} - 0.7)^2$")
ax1.set_title("A slice at b = -4: the loss jumps")
ax1.legend()
ax2 = fig.add_subplot(1, 3, 2)
for side, label in [(-1, "left of the jump"), (1, "right of the jump")]:
    _, dw, db = sigmoid_recurrence(w_wall + side * distance, b_slice)
    ax2.loglog(distance, np.hypot(dw, db), label=label)
ax2.set_xlabel("distance to the jump, $|w - w^*|$")
ax2.set_ylabel("gradient norm $\\|(\\partial L/\\partial w, \\partial L/\\partial b)\\|$")
ax2.set_title("The gradient next to the jump (BPTT)")
ax2.legend()
ax3 = fig.add_subplot(1, 3, 3, projection="3d")
ax3.plot_surface(W_grid, B_grid, surface, cmap="viridis", linewidth=0, antialiased=False)
ax3.view_init(elev=30, azim=-60)
ax3.set_xlabel("w")
ax3.set_ylabel("b")
ax3.set_zlabel("loss")
ax3.set_title("The loss over (w, b): the wall")
plt.tight_layout()
plt.show()


# %% [markdown]
# **What to see:** left, the loss is smooth on each side of $w^* \approx 7.23$ but drops from about 21 to 5
# across it: $h_0 = 0.5$ sits exactly on the unstable fixed point between the two basins there. In the
# middle, the gradient is about 10 on either side until $w$ comes within about $10^{-7}$ of $w^*$; closer,
# it shoots up by ten orders of magnitude, to $10^{11}$ and more. The reason is exploding gradients
# through time: near the unstable fixed point each step multiplies a deviation by
# $w\,\sigma'(0.5) \approx 1.7$, and $1.7^{50} \approx 3 \cdot 10^{11}$. Right, the jump is a whole cliff, the
# "wall", along the line $b = 0.5 - w\,\sigma(0.5)$ (for $w$ below about 4 the two basins merge and the
# surface is smooth). A gradient step taken next to the wall is huge and throws the parameters far away;
# **gradient-norm clipping** (lecture 003, Pascanu et al.), already in your optimiser from assignment 04,
# caps its length:
#
# $$\text{if } \|g\| > \theta: \quad g \leftarrow \frac{\theta}{\|g\|}\, g .$$
#
# It keeps the direction and bounds the step; section 10 shows what it does to a real run.
#
# ## 4. Long short-term memory (LSTM)
#
# The LSTM keeps a second state, the **cell** $c_t$, updated *additively* (lectures 001, 002, 003). From
# $a = x W_x + h_{t-1} W_h + b$ of shape $(N, 4H)$, cut into four blocks of $H$ columns **in the order
# $i, f, o, g$**:
#
# $$i = \sigma(a_i), \quad f = \sigma(a_f), \quad o = \sigma(a_o), \quad g = \tanh(a_g),$$
#
# $$c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t),$$
#
# the input gate $i$ (whether to write), the forget gate $f$ (whether to keep the cell), the output gate
# $o$ (how much of the cell to reveal) and the candidate $g$ (what to write). Shapes: $x$ $(N, D)$,
# $h_{t-1}$ and $c_{t-1}$ $(N, H)$, $W_x$ $(D, 4H)$, $W_h$ $(H, 4H)$, $b$ $(4H,)$. The cell update reads the
# *incoming* cell $c_{t-1}$ (one of the lecture's code slides writes `C_t = f_t * C_t + ...`, using $C_t$
# before it exists: the right-hand side must be the previous cell).
#
# **Gate order.** The order of the four blocks is a convention, and code that moves weights between
# libraries must permute them. This course uses $i, f, o, g$ (as lecture 001's `lstm_step_forward`).
# TensorFlow's `BasicLSTMCell` (lecture 003's code slide) splits its product as `i, j, f, o`, where `j` is
# our $g$, and adds its `forget_bias` inside the cell, `sigmoid(f + forget_bias)`, rather than in $b$;
# PyTorch's `nn.LSTM` uses $i, f, g, o$. A weight matrix copied without permuting its blocks runs without
# an error, and computes a different network.
#
# **Exercise 4a.** `lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)` returns `(next_h, next_c, cache)`. Use
# `sigmoid_forward` from assignment 02 (imported above) for the three gates.

# %% nbgrader={"grade": false, "grade_id": "lstm_step_forward", "locked": false, "schema_version": 3, "solution": true}
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM step, gates i, f, o, g. x: (N, D), prev_h, prev_c: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,).

    Returns (next_h (N, H), next_c (N, H), cache).
    """
    ### BEGIN SOLUTION a06.lstm_step_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "lstm_step_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 6).reshape(2, 3)  # N = 2, D = 3, H = 2
prev_h = np.array([[0.5, -0.5], [0.25, 1.0]])
prev_c = np.array([[1.0, -1.0], [0.5, 2.0]])
Wx = np.linspace(-0.5, 0.5, 24).reshape(3, 8)
Wh = np.linspace(0.4, -0.4, 16).reshape(2, 8)
b = np.linspace(-0.2, 0.2, 8)
result = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
assert isinstance(result, tuple) and len(result) == 3, (
    "lstm_step_forward must return (next_h, next_c, cache).")
# Isolation cases: zero weights, so every gate sees only its bias.
Zx, Zh = np.zeros_like(Wx), np.zeros_like(Wh)
_, c_zero, _ = lstm_step_forward(x, prev_h, prev_c, Zx, Zh, np.zeros(8))
grading.expect_close("next_c with zero weights and biases", c_zero, 0.5 * prev_c,
                     hint="all gates are sigmoid(0) = 0.5 and g = tanh(0) = 0, so next_c = 0.5 * prev_c.")
_, c_forget, _ = lstm_step_forward(x, prev_h, prev_c, Zx, Zh, np.array([0, 0, 20, 20, 0, 0, 0, 0.0]))
grading.expect_close("next_c with a bias of 20 on block 2 (columns H:2H)", c_forget, prev_c, atol=1e-7,
                     hint="block 2 is the forget gate: f = 1 keeps prev_c, and g = 0 adds nothing. "
                          "Check the gate order i, f, o, g.")
_, c_write, _ = lstm_step_forward(x, prev_h, prev_c, Zx, Zh, np.array([0, 0, 0, 0, 0, 0, 20, 20.0]))
grading.expect_close("next_c with a bias of 20 on block 4 (columns 3H:4H)", c_write, 0.5 * prev_c + 0.5,
                     atol=1e-7, hint="block 4 is the candidate g = tanh(20) = 1.")
next_h, next_c, _ = result
grading.expect_close("next_c", next_c, np.array([[0.8910690377, -0.3730119587],
                                                  [0.3843896487, 1.209408267]]),
                     hint="a = x @ Wx + prev_h @ Wh + b, then next_c = f * prev_c + i * g.")
grading.expect_close("next_h", next_h, np.array([[0.4399619055, -0.2186082107],
                                                  [0.1972148712, 0.4643561949]]),
                     hint="next_h = o * tanh(next_c).")

# %% nbgrader={"grade": true, "grade_id": "lstm_step_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.lstm_step_forward", lstm_step_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Backward through one step.** The step has two outputs and receives a gradient on each: `dnext_h` from
# the loss and the next step, `dnext_c` from the next step's cell path. $c_t$ also feeds $h_t$, so its
# total gradient adds both paths:
#
# $$dc = dc_t + dh_t \odot o \odot (1 - \tanh^2 c_t),$$
#
# $$do = dh_t \odot \tanh c_t, \quad di = dc \odot g, \quad df = dc \odot c_{t-1}, \quad dg = dc \odot i,
# \quad dc_{t-1} = dc \odot f,$$
#
# then through the non-linearities, $da_{i,f,o} = d\{i,f,o\} \odot s (1 - s)$ for each gate $s$ and
# $da_g = dg \odot (1 - g^2)$; stack them back in the order $i, f, o, g$ into $da$ of shape $(N, 4H)$, and
# the affine part is the RNN's: $dx = da\, W_x^\top$, $dh_{t-1} = da\, W_h^\top$, $dW_x = x^\top da$,
# $dW_h = h_{t-1}^\top da$, $db = \sum_n da_{n,:}$.
#
# Write the total cell gradient into a **new** array (`dc = dnext_c + ...`). The lecture's code updates it
# in place (`dnext_c += ...`), which silently changes the caller's array: a gradient check that reuses its
# upstream gradient, or a sequence loop that still holds it, then works with a wrong value.
#
# **Exercise 4b.** `lstm_step_backward(dnext_h, dnext_c, cache)` returns
# `(dx, dprev_h, dprev_c, dWx, dWh, db)`.

# %% nbgrader={"grade": false, "grade_id": "lstm_step_backward", "locked": false, "schema_version": 3, "solution": true}
def lstm_step_backward(dnext_h, dnext_c, cache):
    """dnext_h, dnext_c: (N, H). Returns dx (N, D), dprev_h, dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db."""
    ### BEGIN SOLUTION a06.lstm_step_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "lstm_step_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 6).reshape(2, 3)
prev_h = np.array([[0.5, -0.5], [0.25, 1.0]])
prev_c = np.array([[1.0, -1.0], [0.5, 2.0]])
Wx = np.linspace(-0.5, 0.5, 24).reshape(3, 8)
Wh = np.linspace(0.4, -0.4, 16).reshape(2, 8)
b = np.linspace(-0.2, 0.2, 8)
_, _, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
dnext_h = np.array([[1.0, -0.5], [0.25, 2.0]])
dnext_c = np.array([[-1.0, 0.5], [1.5, 0.0]])
dnext_c_before = dnext_c.copy()
grads = lstm_step_backward(dnext_h, dnext_c, cache)
assert isinstance(grads, tuple) and len(grads) == 6, (
    "lstm_step_backward must return (dx, dprev_h, dprev_c, dWx, dWh, db).")
grading.expect_close("dnext_c after the call", dnext_c, dnext_c_before, rtol=0, atol=0,
                     hint="do not update dnext_c in place (dnext_c += ...): write dc = dnext_c + ... "
                          "instead.")
grading.expect_close("dprev_c", grads[2], np.array([[-0.4365409927, 0.144828908],
                                                    [0.8143495128, 0.1736694537]]),
                     hint="dprev_c = dc * f, where dc = dnext_c + dnext_h * o * (1 - tanh(next_c)**2).")
grading.expect_close("db", grads[5], np.array([0.04734791362, 0.05000078906, 0.03961319194, 0.1117834178,
                                               0.1908430427, 0.4554698968, 0.3305422141, 0.2671707637]),
                     hint="db stacks the four gates' da in the order i, f, o, g and sums over the batch.")
rng = np.random.default_rng(2)
inputs = {"x": rng.standard_normal((3, 4)), "prev_h": rng.standard_normal((3, 2)),
          "prev_c": rng.standard_normal((3, 2)), "Wx": rng.standard_normal((4, 8)) / 2,
          "Wh": rng.standard_normal((2, 8)) / 2, "b": rng.standard_normal(8)}
check_pair(lstm_step_forward, lstm_step_backward, inputs, tol=TOL, context="lstm_step_backward")
print(f"ok: gradient check with upstream gradients on next_h and next_c: all six gradients within relative "
      f"error {TOL:.0e} of central differences")

# %% nbgrader={"grade": true, "grade_id": "lstm_step_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and upstream
# gradients on both outputs, and runs your backward pass twice on one cache (dnext_c must be left as given).
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.lstm_step_backward", lstm_step_forward, lstm_step_backward)
### END HIDDEN TESTS

# %% [markdown]
# **The LSTM over a sequence.** As for the RNN: loop `lstm_step_forward` over $t = 1, \dots, T$ and return
# every hidden state, `h` of shape `(N, T, H)`. Two keyword arguments make the layer usable inside truncated
# BPTT (and, in assignment 07, as an encoder): `c0`, the initial cell (`None` means zeros), and
# `return_state=True`, which also returns the final cell $c_T$, so that a caller can carry
# $(h_T, c_T)$ into the next chunk.
#
# **Exercise 4c.** `lstm_forward(x, h0, Wx, Wh, b, *, c0=None, return_state=False)` returns `(h, cache)`, or
# `(h, c_T, cache)` when `return_state` is true.

# %% nbgrader={"grade": false, "grade_id": "lstm_forward", "locked": false, "schema_version": 3, "solution": true}
def lstm_forward(x, h0, Wx, Wh, b, *, c0=None, return_state=False):
    """The LSTM over x (N, T, D) from h0 (N, H) and c0 (zeros if None). Returns (h (N, T, H), cache),
    or (h, c_T, cache) if return_state."""
    ### BEGIN SOLUTION a06.lstm_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "lstm_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 12).reshape(2, 3, 2)  # N = 2, T = 3, D = 2, H = 2
h0 = np.linspace(-0.5, 0.5, 4).reshape(2, 2)
Wx = np.linspace(-0.5, 0.5, 16).reshape(2, 8)
Wh = np.linspace(0.3, -0.3, 16).reshape(2, 8)
b = np.linspace(-0.1, 0.1, 8)
result = lstm_forward(x, h0, Wx, Wh, b)
assert isinstance(result, tuple) and len(result) == 2, "lstm_forward must return (h, cache)."
h, _ = result
grading.expect_shape("h", h, (2, 3, 2), hint="every hidden state: (N, T, H).")
grading.expect_close("h", h, np.array([[[-0.04575647732, -0.05894605789], [-0.03867875292, -0.0557864116],
                                        [-0.001450337468, -0.008913991736]],
                                       [[0.01443906374, 0.02120018935], [0.07104068242, 0.1033551609],
                                        [0.1093187928, 0.1658818163]]]),
                     hint="start the cell at zeros when c0 is None; carry both h and c from step to step.")
c0 = np.array([[1.0, -1.0], [0.5, 0.0]])
result = lstm_forward(x, h0, Wx, Wh, b, c0=c0, return_state=True)
assert isinstance(result, tuple) and len(result) == 3, (
    "lstm_forward(..., return_state=True) must return (h, c_T, cache).")
h_c0, c_T, _ = result
grading.expect_close("c_T with c0 given", c_T, np.array([[0.1860254173, -0.1225182563],
                                                          [0.2697630005, 0.3076969801]]),
                     hint="start the cell at c0 and return the cell of the last step.")
grading.expect_close("h[:, -1] with c0 given", h_c0[:, -1], np.array([[0.09653204606, -0.06417793462],
                                                                      [0.1397957592, 0.16869129]]),
                     hint="h_T = o * tanh(c_T) of the last step.")

# %% nbgrader={"grade": true, "grade_id": "lstm_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs, with and
# without c0 and return_state.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.lstm_forward", lstm_forward)
### END HIDDEN TESTS

# %% [markdown]
# **BPTT through the LSTM.** Walk $t = T, \dots, 1$ with `lstm_step_backward`. The hidden state's gradient
# is `dh[:, t]` plus `dprev_h` from step $t + 1$, as in the RNN; the cell has no loss of its own, so its
# gradient is only what flows back along the cell path (`dprev_c` from step $t + 1$; at $t = T$ it is `dcT`,
# the upstream gradient of the final cell when the forward pass returned it, else zero). The weights'
# gradients accumulate. With `return_state=True` the pass also returns `dc0`.
#
# **Exercise 4d.** `lstm_backward(dh, cache, *, dcT=None, return_state=False)` returns
# `(dx, dh0, dWx, dWh, db)`, or `(dx, dh0, dc0, dWx, dWh, db)` when `return_state` is true. It must not
# modify `dh`, `dcT` or the cache.

# %% nbgrader={"grade": false, "grade_id": "lstm_backward", "locked": false, "schema_version": 3, "solution": true}
def lstm_backward(dh, cache, *, dcT=None, return_state=False):
    """dh: (N, T, H) on every step; dcT: (N, H) or None. Returns (dx, dh0, dWx, dWh, db),
    or (dx, dh0, dc0, dWx, dWh, db) if return_state."""
    ### BEGIN SOLUTION a06.lstm_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "lstm_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 12).reshape(2, 3, 2)
h0 = np.linspace(-0.5, 0.5, 4).reshape(2, 2)
Wx = np.linspace(-0.5, 0.5, 16).reshape(2, 8)
Wh = np.linspace(0.3, -0.3, 16).reshape(2, 8)
b = np.linspace(-0.1, 0.1, 8)
dh = np.linspace(-1, 1, 12).reshape(2, 3, 2)
_, cache = lstm_forward(x, h0, Wx, Wh, b)
grads = lstm_backward(dh, cache)
assert isinstance(grads, tuple) and len(grads) == 5, "lstm_backward must return (dx, dh0, dWx, dWh, db)."
grading.expect_close("dh0", grads[1], np.array([[-0.006198026873, 0.1576888875],
                                                 [0.01480827957, -0.08497344457]]),
                     hint="add dh[:, t] to the dprev_h coming back from step t + 1 at every step.")
grading.expect_close("db", grads[4], np.array([0.1049533581, 0.1499097805, 0.02914923705, 0.03869937966,
                                               0.0963620545, 0.1331871619, -0.2150687306, 0.1457733106]),
                     hint="accumulate the weights' gradients over the steps; pass the cell gradient dprev_c "
                          "of step t + 1 as dnext_c of step t.")
_, _, cache = lstm_forward(x, h0, Wx, Wh, b, c0=np.array([[1.0, -1.0], [0.5, 0.0]]), return_state=True)
grads = lstm_backward(dh, cache, dcT=np.array([[0.5, -1.0], [1.0, 0.25]]), return_state=True)
assert isinstance(grads, tuple) and len(grads) == 6, (
    "lstm_backward(..., return_state=True) must return (dx, dh0, dc0, dWx, dWh, db).")
grading.expect_close("dc0 with dcT given", grads[2], np.array([[-0.2477061892, -0.3077623872],
                                                               [0.2608623229, 0.1681924788]]),
                     hint="start the cell gradient at dcT (not zeros) and return what reaches c0.")


def lstm_with_state_forward(x, h0, c0, Wx, Wh, b):
    return lstm_forward(x, h0, Wx, Wh, b, c0=c0, return_state=True)  # (h, c_T, cache)


def lstm_with_state_backward(dh, dcT, cache):
    return lstm_backward(dh, cache, dcT=dcT, return_state=True)  # (dx, dh0, dc0, dWx, dWh, db)


rng = np.random.default_rng(3)
inputs = {"x": rng.standard_normal((2, 4, 3)), "h0": rng.standard_normal((2, 2)),
          "c0": rng.standard_normal((2, 2)), "Wx": rng.standard_normal((3, 8)) / 2,
          "Wh": rng.standard_normal((2, 8)) / 2, "b": rng.standard_normal(8)}
check_pair(lstm_with_state_forward, lstm_with_state_backward, inputs, tol=TOL, context="lstm_backward, T = 4")
print(f"ok: gradient check with upstream gradients on every step and on c_T: dx, dh0, dc0, dWx, dWh and db "
      f"within relative error {TOL:.0e} of central differences")

# %% nbgrader={"grade": true, "grade_id": "lstm_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs, with upstream
# gradients on every step (and on c_T), and runs your backward pass twice on one cache.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.lstm_backward", lstm_forward, lstm_backward)
### END HIDDEN TESTS

# %% [markdown]
# **Initialisation and the forget-gate bias.** Along the cell path the gradient is multiplied by $f$ at
# every step, $\partial c_t / \partial c_{t-1} = \operatorname{diag}(f)$: no weight matrix, no squashing
# derivative. With $b_f = 0$ a fresh LSTM has $f \approx \sigma(0) = 0.5$ and halves the cell (and its
# gradient) at every step; a forget-gate bias of 1 starts it at $f \approx \sigma(1) = 0.73$, so the cell
# keeps its content by default and gradients flow from the first update (lecture 000, "forget bias";
# Gers et al. 1999, Jozefowicz et al. 2015).
#
# **Exercise 4e.** `lstm_init(D, H, rng, forget_bias=1.0, dtype=np.float32)` returns `(Wx, Wh, b)`:
# - `Wx` of shape `(D, 4H)` drawn from $\mathcal N(0, 1/D)$ (`rng.standard_normal(...) / np.sqrt(D)`);
# - `Wh` of shape `(H, 4H)`, four orthogonal `(H, H)` blocks side by side, each `orthogonal((H, H), rng,
#   np.float64)` from assignment 04 (lecture 004: orthogonal recurrent weights neither shrink nor grow the
#   state at the start);
# - `b` of shape `(4H,)`, zero except the forget block `b[H:2H]`, which is `forget_bias`;
#
# drawn in that order from `rng` and cast to `dtype`.

# %% nbgrader={"grade": false, "grade_id": "lstm_init", "locked": false, "schema_version": 3, "solution": true}
def lstm_init(D, H, rng, forget_bias=1.0, dtype=np.float32):
    """Initial (Wx (D, 4H), Wh (H, 4H), b (4H,)) of an LSTM with gate order i, f, o, g."""
    ### BEGIN SOLUTION a06.lstm_init
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "lstm_init_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
Wx0, Wh0, b0 = lstm_init(64, 32, np.random.default_rng(0), forget_bias=1.0)
grading.expect_shape("Wx", Wx0, (64, 128), hint="Wx is (D, 4H).")
grading.expect_shape("Wh", Wh0, (32, 128), hint="Wh is (H, 4H): four (H, H) blocks side by side.")
grading.expect_shape("b", b0, (128,), hint="b is (4H,).")
grading.expect_equal("dtypes", (str(Wx0.dtype), str(Wh0.dtype), str(b0.dtype)), ("float32",) * 3,
                     hint="cast all three to the dtype argument.")
grading.expect_close("the forget block b[H:2H]", b0[32:64], np.ones(32), hint="b[H:2H] = forget_bias.")
grading.expect_close("the other blocks of b", np.concatenate([b0[:32], b0[64:]]), np.zeros(96),
                     hint="only the forget gate (block 2 of i, f, o, g) gets a bias.")
for block in range(4):
    Q = Wh0[:, 32 * block:32 * (block + 1)].astype(np.float64)
    grading.expect_close(f"Q^T Q for block {block} of Wh", Q.T @ Q, np.eye(32), atol=1e-5,
                         hint="each (H, H) block of Wh is its own orthogonal matrix.")
grading.expect_close("standard deviation of Wx", float(Wx0.std()), 1 / np.sqrt(64), rtol=0.05,
                     hint="draw Wx from N(0, 1/D): rng.standard_normal((D, 4 * H)) / np.sqrt(D).")

# %% nbgrader={"grade": true, "grade_id": "lstm_init_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader checks shapes, dtypes, the biases, orthogonality and scale for other sizes.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.lstm_init", lstm_init)
### END HIDDEN TESTS

# %% [markdown]
# **Gradient norms through time, RNN against LSTM.** Run a freshly initialised layer (H = 32) over 50
# random inputs, put a random gradient on the last hidden state only, and backpropagate with your step
# functions, recording $\|\partial L / \partial h_t\|$ at every step. The vanilla RNN starts from the same
# kind of orthogonal recurrent matrix (`course.layers.rnn.rnn_init`, not an exercise).

# %%
def gradient_norms_through_time(cell, T=50, N=8, D=16, H=32, forget_bias=1.0, seed=0):
    """||dL/dh_t|| for t = 1..T when only h_T is read by the loss, for a fresh 'rnn' or 'lstm' (float64)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, D))
    if cell == "rnn":
        Wx, Wh, b = (p.astype(np.float64) for p in rnn_init(D, H, rng))
    else:
        Wx, Wh, b = lstm_init(D, H, rng, forget_bias=forget_bias, dtype=np.float64)
    h, c, caches = np.zeros((N, H)), np.zeros((N, H)), []
    for t in range(T):
        if cell == "rnn":
            h, cache = rnn_step_forward(x[t], h, Wx, Wh, b)
        else:
            h, c, cache = lstm_step_forward(x[t], h, c, Wx, Wh, b)
        caches.append(cache)
    dh, dc = rng.standard_normal((N, H)), np.zeros((N, H))  # dL/dh_T: the loss reads the last state only
    norms = np.empty(T)
    for t in reversed(range(T)):
        norms[t] = np.linalg.norm(dh)
        if cell == "rnn":
            _, dh, _, _, _ = rnn_step_backward(dh, caches[t])
        else:
            _, dh, dc, _, _, _ = lstm_step_backward(dh, dc, caches[t])
    return norms


fig, ax = plt.subplots(figsize=(7.5, 4.2))
runs = [("vanilla RNN", gradient_norms_through_time("rnn"))]
for forget_bias in (0, 1, 3):
    norms = gradient_norms_through_time("lstm", forget_bias=forget_bias)
    runs.append((f"LSTM, forget bias {forget_bias}", norms))
for label, norms in runs:
    ax.semilogy(np.arange(50)[::-1], norms / norms[-1], label=label)
ax.set_xlabel("steps back in time from the loss, T - t")
ax.set_ylabel("$\\|\\partial L / \\partial h_t\\| \\;/\\; \\|\\partial L / \\partial h_T\\|$ (log scale)")
ax.set_title("Gradient reaching step t from a loss on step T = 50")
ax.legend()
plt.show()


# %% [markdown]
# **What to see:** every curve decays geometrically (a straight line on the log scale), but at very
# different rates. After 49 steps the vanilla RNN's gradient is about $10^{-10}$ of what it started with;
# the LSTM with $b_f = 0$ (forget gates near 0.5) is no better; with $b_f = 1$ it keeps about $10^{-5}$, and
# with $b_f = 3$ ($f \approx 0.95$) a tenth of the gradient still reaches the first step. The cell path
# only helps as much as the forget gates let it: that is what the bias buys, and what training can
# then adjust.
#
# ## 5. The gated recurrent unit (GRU)
#
# The GRU (Cho et al. 2014, "a simplified LSTM") has no separate cell: two gates decide how much of the old
# state to keep. With $W_x$ $(D, 3H)$, $W_h$ $(H, 3H)$ and $b$ $(3H,)$ cut into blocks **in the order
# $r, z, n$**:
#
# $$r = \sigma(x W_{x,r} + h_{t-1} W_{h,r} + b_r), \qquad z = \sigma(x W_{x,z} + h_{t-1} W_{h,z} + b_z),$$
#
# $$n = \tanh\big(x W_{x,n} + (r \odot h_{t-1}) W_{h,n} + b_n\big), \qquad
# h_t = z \odot h_{t-1} + (1 - z) \odot n .$$
#
# **Which convention.** This is the convention of lectures 002 and 003 and of the original paper: $z$ is
# the share of the **old** state that is kept, and the reset gate multiplies $h_{t-1}$ *before* the matrix
# product. Lecture 004 (after Chung et al. 2014) writes $h_t = (1 - z) \odot h_{t-1} + z \odot \tilde h$:
# there $z$ and $1 - z$ are swapped, so its $z$ is the share of the *new* candidate. The two are the same
# model with $z$ renamed $1 - z$ (negate the $z$ block's weights and bias to go from one to the other), but
# code and weights are not interchangeable without that change. (PyTorch's `nn.GRU` keeps our $z$ but
# applies the reset gate after the product, $r \odot (h_{t-1} W_{h,n} + b_{hn})$: a third variant.) As in
# the LSTM, $h_t = z \odot h_{t-1} + \dots$ is an additive path: for $z$ near 1 the state and its
# gradient pass through unchanged.
#
# **Exercise 5a.** `gru_step_forward(x, prev_h, Wx, Wh, b)` returns `(next_h, cache)`.

# %% nbgrader={"grade": false, "grade_id": "gru_step_forward", "locked": false, "schema_version": 3, "solution": true}
def gru_step_forward(x, prev_h, Wx, Wh, b):
    """One GRU step, gates r, z, n, and h_t = z h_{t-1} + (1 - z) n. Wx: (D, 3H), Wh: (H, 3H), b: (3H,).

    Returns (next_h (N, H), cache).
    """
    ### BEGIN SOLUTION a06.gru_step_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gru_step_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 6).reshape(2, 3)  # N = 2, D = 3, H = 2
prev_h = np.array([[0.5, -0.5], [0.25, 1.0]])
Wx = np.linspace(-0.5, 0.5, 18).reshape(3, 6)
Wh = np.linspace(0.4, -0.4, 12).reshape(2, 6)
b = np.linspace(-0.2, 0.2, 6)
result = gru_step_forward(x, prev_h, Wx, Wh, b)
assert isinstance(result, tuple) and len(result) == 2, "gru_step_forward must return (next_h, cache)."
Zx, Zh = np.zeros_like(Wx), np.zeros_like(Wh)
h_zero, _ = gru_step_forward(x, prev_h, Zx, Zh, np.zeros(6))
grading.expect_close("next_h with zero weights and biases", h_zero, 0.5 * prev_h,
                     hint="z = sigmoid(0) = 0.5 and n = tanh(0) = 0, so next_h = 0.5 * prev_h.")
h_keep, _ = gru_step_forward(x, prev_h, Zx, Zh, np.array([0, 0, 20, 20, 0, 0.0]))
grading.expect_close("next_h with a bias of 20 on the z block (columns H:2H)", h_keep, prev_h, atol=1e-7,
                     hint="z = 1 keeps the old state: next_h = z * prev_h + (1 - z) * n (not lecture 004's "
                          "(1 - z) * prev_h + z * n), with the gates in the order r, z, n.")
next_h, _ = result
grading.expect_close("next_h", next_h, np.array([[0.4491445359, -0.179914986], [0.3177166847, 0.7722385535]]),
                     hint="the candidate multiplies r * prev_h by the n block of Wh, "
                          "(r * prev_h) @ Wh[:, 2H:].")

# %% nbgrader={"grade": true, "grade_id": "gru_step_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.gru_step_forward", gru_step_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Backward through one GRU step.** From $h_t = z \odot h_{t-1} + (1 - z) \odot n$:
# $dz = dh_t \odot (h_{t-1} - n)$, $dn = dh_t \odot (1 - z)$, and $h_{t-1}$ receives $dh_t \odot z$ directly.
# Then $da_n = dn \odot (1 - n^2)$; the product $(r \odot h_{t-1}) W_{h,n}$ sends
# $d(r \odot h_{t-1}) = da_n W_{h,n}^\top$, which splits into $dr = d(r \odot h_{t-1}) \odot h_{t-1}$ and a
# second contribution $d(r \odot h_{t-1}) \odot r$ to $dh_{t-1}$. Finally $da_r = dr \odot r(1 - r)$,
# $da_z = dz \odot z (1 - z)$, and the $r$ and $z$ gates reach $h_{t-1}$ once more through $W_{h,r}$ and
# $W_{h,z}$. $h_{t-1}$ is used in four places, and every path adds to its gradient. The weight gradients:
# $dW_x = x^\top da$ with $da = [da_r, da_z, da_n]$; the $r, z$ blocks of $dW_h$ are $h_{t-1}^\top
# [da_r, da_z]$ and its $n$ block is $(r \odot h_{t-1})^\top da_n$.
#
# **Exercise 5b.** `gru_step_backward(dnext_h, cache)` returns `(dx, dprev_h, dWx, dWh, db)`.

# %% nbgrader={"grade": false, "grade_id": "gru_step_backward", "locked": false, "schema_version": 3, "solution": true}
def gru_step_backward(dnext_h, cache):
    """dnext_h: (N, H). Returns dx (N, D), dprev_h (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,)."""
    ### BEGIN SOLUTION a06.gru_step_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gru_step_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 6).reshape(2, 3)
prev_h = np.array([[0.5, -0.5], [0.25, 1.0]])
Wx = np.linspace(-0.5, 0.5, 18).reshape(3, 6)
Wh = np.linspace(0.4, -0.4, 12).reshape(2, 6)
b = np.linspace(-0.2, 0.2, 6)
_, cache = gru_step_forward(x, prev_h, Wx, Wh, b)
grads = gru_step_backward(np.array([[1.0, -0.5], [0.25, 2.0]]), cache)
assert isinstance(grads, tuple) and len(grads) == 5, (
    "gru_step_backward must return (dx, dprev_h, dWx, dWh, db).")
grading.expect_close("db", grads[4], np.array([0.00563148427, -0.07228483346, 0.02305032015, 0.3457979734,
                                               0.4269052005, 0.5167152185]),
                     hint="db stacks da_r, da_z, da_n (in that order) and sums over the batch.")
grading.expect_close("dprev_h", grads[1], np.array([[0.6732808615, -0.3660770474],
                                                    [0.1647729364, 0.8781696567]]),
                     hint="dprev_h has three terms: dnext_h * z, d(r * prev_h) * r and "
                          "[da_r, da_z] @ Wh[:, :2H].T.")
rng = np.random.default_rng(4)
inputs = {"x": rng.standard_normal((3, 4)), "prev_h": rng.standard_normal((3, 2)),
          "Wx": rng.standard_normal((4, 6)) / 2, "Wh": rng.standard_normal((2, 6)) / 2,
          "b": rng.standard_normal(6)}
check_pair(gru_step_forward, gru_step_backward, inputs, tol=TOL, context="gru_step_backward")
print(f"ok: gradient check: dx, dprev_h, dWx, dWh and db within relative error {TOL:.0e} "
      "of central differences")

# %% nbgrader={"grade": true, "grade_id": "gru_step_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and upstream
# gradients, and runs your backward pass twice on one cache.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.gru_step_backward", gru_step_forward, gru_step_backward)
### END HIDDEN TESTS

# %% [markdown]
# **The GRU over a sequence**, forward and backward, is the RNN's loop with the GRU's step: every hidden
# state out, `(N, T, H)`; backward walks $t = T, \dots, 1$, adds `dh[:, t]` to what comes back from step
# $t + 1$, and accumulates the weights' gradients.
#
# **Exercise 5c.** `gru_forward(x, h0, Wx, Wh, b)` returns `(h, cache)`, the cache the list of the step
# caches. Loop over time with your `gru_step_forward`.

# %% nbgrader={"grade": false, "grade_id": "gru_forward", "locked": false, "schema_version": 3, "solution": true}
def gru_forward(x, h0, Wx, Wh, b):
    """The GRU over x (N, T, D) from h0 (N, H). Returns (h (N, T, H), cache: the list of step caches)."""
    ### BEGIN SOLUTION a06.gru_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gru_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 12).reshape(2, 3, 2)  # N = 2, T = 3, D = 2, H = 2
h0 = np.linspace(-0.5, 0.5, 4).reshape(2, 2)
Wx = np.linspace(-0.5, 0.5, 12).reshape(2, 6)
Wh = np.linspace(0.3, -0.3, 12).reshape(2, 6)
b = np.linspace(-0.1, 0.1, 6)
result = gru_forward(x, h0, Wx, Wh, b)
assert isinstance(result, tuple) and len(result) == 2, "gru_forward must return (h, cache)."
h, _ = result
grading.expect_shape("h", h, (2, 3, 2), hint="every hidden state: (N, T, H).")
grading.expect_close("h", h, np.array([[[-0.3227494151, -0.2041500464], [-0.178263317, -0.1381121878],
                                        [-0.05621521965, -0.02957486981]],
                                       [[0.1358495224, 0.3312623507], [0.1797004179, 0.335101471],
                                        [0.2500345603, 0.4025792623]]]),
                     hint="loop gru_step_forward over t, each step reading the previous output.")

# %% nbgrader={"grade": true, "grade_id": "gru_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.gru_forward", gru_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5d.** `gru_backward(dh, cache)` returns `(dx, dh0, dWx, dWh, db)`: walk $t = T, \dots, 1$ with
# your `gru_step_backward`, give step $t$ the gradient `dh[:, t] + dprev_h` (the second term comes back
# from step $t + 1$), and accumulate the weights' gradients over the steps.

# %% nbgrader={"grade": false, "grade_id": "gru_backward", "locked": false, "schema_version": 3, "solution": true}
def gru_backward(dh, cache):
    """dh: (N, T, H) upstream gradient on every step. Returns dx (N, T, D), dh0 (N, H), dWx, dWh, db."""
    ### BEGIN SOLUTION a06.gru_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gru_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 12).reshape(2, 3, 2)
h0 = np.linspace(-0.5, 0.5, 4).reshape(2, 2)
Wx = np.linspace(-0.5, 0.5, 12).reshape(2, 6)
Wh = np.linspace(0.3, -0.3, 12).reshape(2, 6)
b = np.linspace(-0.1, 0.1, 6)
_, cache = gru_forward(x, h0, Wx, Wh, b)
grads = gru_backward(np.linspace(-1, 1, 12).reshape(2, 3, 2), cache)
assert isinstance(grads, tuple) and len(grads) == 5, "gru_backward must return (dx, dh0, dWx, dWh, db)."
grading.expect_close("dh0", grads[1], np.array([[-0.7331028692, -0.3294974271],
                                                 [0.2773410157, 0.2738425125]]),
                     hint="add dh[:, t] to the dprev_h coming back from step t + 1 at every step.")
grading.expect_close("db", grads[4], np.array([0.01659304848, -0.08051287275, 0.163063767, 0.02727144356,
                                               -0.1344573658, 0.4230006635]),
                     hint="accumulate the weights' gradients over the steps.")
rng = np.random.default_rng(5)
inputs = {"x": rng.standard_normal((2, 4, 3)), "h0": rng.standard_normal((2, 2)),
          "Wx": rng.standard_normal((3, 6)) / 2, "Wh": rng.standard_normal((2, 6)) / 2,
          "b": rng.standard_normal(6)}
check_pair(gru_forward, gru_backward, inputs, tol=TOL, context="gru_backward, T = 4")
print(f"ok: gradient check with an upstream gradient on every step: dx, dh0, dWx, dWh and db within "
      f"relative error {TOL:.0e} of central differences")

# %% nbgrader={"grade": true, "grade_id": "gru_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and upstream
# gradients on every step, and runs your backward pass twice on one cache.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.gru_backward", gru_forward, gru_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Layers at every time step: temporal affine and temporal softmax loss
#
# A recurrent language model produces one hidden vector per step, `(N, T, H)`, and scores the whole
# vocabulary at every step with **one** affine layer shared over time (lecture 003, "RNN language models"):
#
# $$\text{out}[n, t] = x[n, t]\, w + b, \qquad x: (N, T, D),\ w: (D, M),\ b: (M,),\ \text{out}: (N, T, M).$$
#
# Reshape to `(N T, D)` and it is one matrix product; backward is the affine layer's, and since $w$ and $b$
# are shared by all $N T$ positions their gradients sum over all of them.
#
# **Exercise 6a.** `temporal_affine_forward(x, w, b)` returns `(out, cache)` with `out` of shape
# `(N, T, M)`.

# %% nbgrader={"grade": false, "grade_id": "temporal_affine_forward", "locked": false, "schema_version": 3, "solution": true}
def temporal_affine_forward(x, w, b):
    """out[n, t] = x[n, t] @ w + b. x: (N, T, D), w: (D, M), b: (M,). Returns (out (N, T, M), cache)."""
    ### BEGIN SOLUTION a06.temporal_affine_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "temporal_affine_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 12).reshape(2, 3, 2)  # N = 2, T = 3, D = 2, M = 3
w = np.array([[1.0, -1.0, 0.5], [0.25, 2.0, -1.5]])
b = np.array([0.1, 0.2, 0.3])
result = temporal_affine_forward(x, w, b)
assert isinstance(result, tuple) and len(result) == 2, "temporal_affine_forward must return (out, cache)."
out, _ = result
grading.expect_shape("out", out, (2, 3, 3), hint="one M-vector per (n, t): (N, T, M).")
grading.expect_close("out", out, np.array([[[-1.104545455, -0.4363636364, 1.027272727],
                                            [-0.65, -0.07272727273, 0.6636363636],
                                            [-0.1954545455, 0.2909090909, 0.3]],
                                           [[0.2590909091, 0.6545454545, -0.06363636364],
                                            [0.7136363636, 1.018181818, -0.4272727273],
                                            [1.168181818, 1.381818182, -0.7909090909]]]),
                     hint="the same w and b at every step: (x.reshape(N * T, D) @ w + b).reshape(N, T, M).")

# %% nbgrader={"grade": true, "grade_id": "temporal_affine_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.temporal_affine_forward", temporal_affine_forward)
### END HIDDEN TESTS

# %% [markdown]
# Backward, with `dout` of shape `(N, T, M)` seen as `(N T, M)` rows: $dx = \text{dout}\, w^\top$ (reshaped
# back to `(N, T, D)`), $dw = x^\top \text{dout}$ and $db = \sum \text{dout}$ over all $N T$ rows, since
# every position used the same $w$ and $b$.
#
# **Exercise 6b.** `temporal_affine_backward(dout, cache)` returns `(dx, dw, db)`.

# %% nbgrader={"grade": false, "grade_id": "temporal_affine_backward", "locked": false, "schema_version": 3, "solution": true}
def temporal_affine_backward(dout, cache):
    """dout: (N, T, M). Returns dx (N, T, D), dw (D, M), db (M,), summed over every position."""
    ### BEGIN SOLUTION a06.temporal_affine_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "temporal_affine_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-1, 1, 12).reshape(2, 3, 2)
w = np.array([[1.0, -1.0, 0.5], [0.25, 2.0, -1.5]])
b = np.array([0.1, 0.2, 0.3])
_, cache = temporal_affine_forward(x, w, b)
grads = temporal_affine_backward(np.linspace(-1, 1, 18).reshape(2, 3, 3), cache)
assert isinstance(grads, tuple) and len(grads) == 3, "temporal_affine_backward must return (dx, dw, db)."
grading.expect_shape("dx", grads[0], (2, 3, 2), hint="dx has the shape of x, (N, T, D).")
grading.expect_close("db", grads[2], np.array([-0.7058823529, 0.0, 0.7058823529]),
                     hint="b is shared by all N * T positions: sum dout over both axes.")
grading.expect_close("dw", grads[1], np.array([[2.310160428, 2.245989305, 2.181818182],
                                               [2.181818182, 2.245989305, 2.310160428]]),
                     hint="dw = x.reshape(N * T, D).T @ dout.reshape(N * T, M).")
rng = np.random.default_rng(6)
inputs = {"x": rng.standard_normal((2, 3, 4)), "w": rng.standard_normal((4, 5)), "b": rng.standard_normal(5)}
check_pair(temporal_affine_forward, temporal_affine_backward, inputs, tol=TOL,
           context="temporal_affine_backward")
print(f"ok: gradient check: dx, dw and db within relative error {TOL:.0e} of central differences")

# %% nbgrader={"grade": true, "grade_id": "temporal_affine_backward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and upstream
# gradients.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.temporal_affine_backward", temporal_affine_forward, temporal_affine_backward)
### END HIDDEN TESTS

# %% [markdown]
# **The temporal softmax loss.** At every step the model predicts the next token: the cross-entropy of the
# target $y_{n,t}$ under $\operatorname{softmax}(x_{n,t})$. Sequences of different lengths are padded to
# the same $T$; a boolean `mask` marks the real tokens, and padded steps add nothing. The loss sums over the
# unmasked steps and divides by $N$ (a sequence's log-likelihood is a sum over its tokens, lecture 003):
#
# $$L = -\frac{1}{N} \sum_{n, t} \text{mask}_{n,t} \log \operatorname{softmax}(x_{n,t})_{y_{n,t}}, \qquad
# \frac{\partial L}{\partial x_{n,t}} = \frac{\text{mask}_{n,t}}{N} \big(\operatorname{softmax}(x_{n,t})
# - \text{onehot}(y_{n,t})\big).$$
#
# Use `log_softmax` and `softmax` from assignment 02 (imported above): scores in the hundreds must not
# overflow.
#
# **Exercise 6c.** `temporal_softmax_loss(x, y, mask)` returns `(loss, dx)`: a float and an array shaped like
# `x`, for `x` `(N, T, V)`, integer `y` `(N, T)` and boolean `mask` `(N, T)`.

# %% nbgrader={"grade": false, "grade_id": "temporal_softmax_loss", "locked": false, "schema_version": 3, "solution": true}
def temporal_softmax_loss(x, y, mask):
    """loss = -(1/N) sum_{n,t} mask[n,t] log softmax(x[n,t])[y[n,t]], and dx (N, T, V). Returns (loss, dx)."""
    ### BEGIN SOLUTION a06.temporal_softmax_loss
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "temporal_softmax_loss_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x = np.linspace(-2, 2, 24).reshape(2, 3, 4)  # N = 2, T = 3, V = 4
y = np.array([[0, 3, 1], [2, 2, 0]])
mask = np.array([[True, True, False], [True, False, False]])
loss_uniform, _ = temporal_softmax_loss(np.zeros((2, 3, 4)), y, np.ones((2, 3), dtype=bool))
grading.expect_close("loss for all-zero scores, no padding", loss_uniform, 3 * np.log(4),
                     hint="uniform scores give log V per step; sum over the T = 3 steps and divide by N, "
                          "not by N * T.")
loss, dx = temporal_softmax_loss(x, y, mask)
grading.expect_close("loss", loss, 2.064198099, hint="count only the steps where mask is True.")
grading.expect_close("dx at the padded steps", np.concatenate([dx[0, 2], dx[1, 1], dx[1, 2]]), np.zeros(12),
                     hint="multiply the gradient by the mask: padded steps get zero.")
grading.expect_close("dx[0, 0]", dx[0, 0], np.array([-0.4054980036, 0.1124528478, 0.133813501, 0.1592316548]),
                     hint="(softmax(x[n, t]) - onehot(y[n, t])) / N.")
big, _ = temporal_softmax_loss(300 * np.sign(x), y, mask)
grading.expect_close("loss for scores of +-300", big, 2.079441542,
                     hint="subtract each row's maximum before exp (log_softmax does it): "
                          "the loss must be finite.")
check_loss(functools.partial(temporal_softmax_loss, y=y, mask=mask), {"x": x}, tol=TOL,
           context="temporal_softmax_loss")
print(f"ok: gradient check: dx within relative error {TOL:.0e} of central differences")

# %% nbgrader={"grade": true, "grade_id": "temporal_softmax_loss_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs and masks,
# scores up to 300 included.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.temporal_softmax_loss", temporal_softmax_loss)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Truncated backpropagation through time
#
# A book is one sequence a million characters long; BPTT through all of it would keep a million steps of
# caches for one update. **Truncated BPTT** (lecture 002): "carry hidden states forward in time forever,
# but only backpropagate for some smaller number of steps". The text is cut into $N$ parallel streams
# (rows, `batchify`), and training walks along them $k$ steps at a time (`tbptt_chunks(streams, k)` yields
# `(inputs, targets)` pairs of shape `(N, k)`, the targets shifted by one character):
#
# - the state at the end of a chunk (`model.final_state`, set by `model.forward`) is the initial state of
#   the next chunk, so the model conditions on everything it has read;
# - the gradient stops at the chunk's start: the model's backward pass computes `dh0` and drops it, and the
#   next forward pass receives the state as plain numbers. Each update costs $O(k)$, whatever the text's
#   length; no gradient signal reaches further back than $k$ steps, although information does.
#
# When the chunks run out, the next pass starts again at the beginning of the streams, from a zero state
# (`None`: the text does not continue across its end).
#
# **Exercise 7.** `train_tbptt(model, streams, k, loss_fn, optimizer, *, max_steps=None, time_budget_s=None,
# callback=None)` returns the list of losses, one per update. One update: `optimizer.zero_grad()`;
# `scores = model.forward(inputs, state)`; `loss, dscores = loss_fn(scores, targets)`;
# `model.backward(dscores)`; `optimizer.step()`; then carry `state = model.final_state`, record the loss
# (a float) and call `callback(step, loss)` if given, with `step` = 1, 2, .... Stop after `max_steps` updates
# or once `time_budget_s` seconds have passed (checked after each update; `time.perf_counter()`), whichever
# is given and comes first.

# %% nbgrader={"grade": false, "grade_id": "train_tbptt", "locked": false, "schema_version": 3, "solution": true}
def train_tbptt(model, streams, k, loss_fn, optimizer, *, max_steps=None, time_budget_s=None, callback=None):
    """Truncated BPTT over (N, L) streams, chunks of k steps, the state carried across chunks.

    Returns the list of training losses, one per update.
    """
    if max_steps is None and time_budget_s is None:
        raise ValueError("train_tbptt: give max_steps or time_budget_s (or both)")
    ### BEGIN SOLUTION a06.train_tbptt
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "train_tbptt_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
class Recorder:
    """A stand-in model and optimizer that record what train_tbptt does with them."""

    def __init__(self):
        self.calls, self.states, self.final_state = [], [], None

    def forward(self, inputs, state=None):
        self.calls.append("forward")
        self.states.append(None if state is None else np.array(state).tolist())
        self.final_state = inputs[:, -1].copy()  # stand-in for h_T: the chunk's last column
        return np.zeros((*inputs.shape, 2))

    def backward(self, dscores):
        self.calls.append("backward")

    def zero_grad(self):
        self.calls.append("zero_grad")

    def step(self):
        self.calls.append("step")


def sum_of_targets(scores, targets):  # a stand-in loss: the sum of the chunk's targets
    return float(targets.sum()), np.zeros_like(scores)


streams = np.arange(22).reshape(2, 11)  # N = 2 streams of 11 ids: chunks of k = 4 start at 0, 4 and 8
stub = Recorder()
losses = train_tbptt(stub, streams, 4, sum_of_targets, stub, max_steps=5)
grading.expect_equal("number of losses for max_steps = 5", len(losses), 5, hint="one loss per update.")
kinds = ("zero_grad", "forward", "backward", "step")
grading.expect_equal("calls per kind", {c: stub.calls.count(c) for c in kinds}, dict.fromkeys(kinds, 5),
                     hint="each update calls zero_grad, forward, backward and step once.")
grading.expect_close("losses (the sums of each chunk's targets)", losses, [64.0, 96.0, 60.0, 64.0, 96.0],
                     hint="chunks 1, 2, 3 (the last one 2 steps long); the next pass starts again at "
                          "chunk 1.")
grading.expect_equal("states received by forward", stub.states, [None, [3, 14], [7, 18], None, [3, 14]],
                     hint="None at the start of each pass, then the final_state of the chunk before.")
stub = Recorder()
losses = train_tbptt(stub, streams, 4, sum_of_targets, stub, time_budget_s=0.0)
grading.expect_equal("number of updates with time_budget_s = 0", len(losses), 1,
                     hint="check the time budget after each update (and stop once it is spent).")

# %% nbgrader={"grade": true, "grade_id": "train_tbptt_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader runs your loop and the reference's on the same recording stand-in model and
# compares every call (chunks, states, losses, callbacks, updates).
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.train_tbptt", train_tbptt)
### END HIDDEN TESTS

# %% [markdown]
# ## 8. The baseline: a character n-gram model
#
# By the chain rule of probability, $P(w_1, \dots, w_T) = \prod_t P(w_t \mid w_1, \dots, w_{t-1})$
# exactly. An **n-gram** model keeps only the last $n - 1$ characters of the history (lecture 003) and
# estimates each conditional from counts in the training text, with **add-k smoothing** so that an unseen
# continuation never gets probability zero:
#
# $$P(c \mid \text{ctx}) = \frac{\text{count}(\text{ctx}, c) + k}{\text{count}(\text{ctx}) + k V} .$$
#
# Its memory is exactly $n - 1$ characters (the strongest possible "vanishing"), and its table has up to
# $V^n$ entries, most of them never seen: past a few characters of context the counts run out.
#
# The library's `NGramLM(n, V, k)` does the counting. Each window of $n$ consecutive ids is stored as one
# integer, its digits in base $V$: `window_codes(ids, n, V)` returns the code of every window of `ids`,
# `code // V` is the code of the window's context (its first $n - 1$ ids), and after `fit(train_ids)` the
# methods `self.gram_count(codes)` and `self.context_count(context_codes)` return count(ctx, c) and
# count(ctx) (0 for what was never seen). `self.n`, `self.V` and `self.k` hold the settings.
#
# **Exercise 8.** Write `log_probs(self, ids)`: the natural log of $P(\text{ids}[t] \mid \text{ids}[t-n+1],
# \dots, \text{ids}[t-1])$ for $t = n - 1, \dots$, `len(ids) - 1`, an array of length `len(ids) - n + 1`.

# %% nbgrader={"grade": false, "grade_id": "ngram_log_probs", "locked": false, "schema_version": 3, "solution": true}
class NGramLM(ngram.NGramLM):
    """Add-k smoothed character n-gram model: the library's counting (fit), your log_probs."""

    def log_probs(self, ids):
        """log P(ids[t] | the n - 1 ids before it) for t = n - 1 .. len(ids) - 1; (len(ids) - n + 1,)."""
        ### BEGIN SOLUTION a06.ngram_log_probs
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ngram_log_probs_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
train_ids = np.array([0, 1, 0, 1, 0, 0])  # "abab aa" with a = 0, b = 1, c = 2: bigrams ab, ba, ab, ba, aa
bigram = NGramLM(2, 3, k=1.0).fit(train_ids)
logp = bigram.log_probs(np.array([0, 1, 0, 2, 2]))  # log P(b | a), P(a | b), P(c | a), P(c | c)
grading.expect_shape("log_probs of 5 ids with n = 2", logp, (4,),
                     hint="one value per id after the first n - 1.")
grading.expect_close("P(b | a), P(a | b), P(c | a), P(c | c)", np.exp(logp),
                     np.array([3 / 6, 3 / 5, 1 / 6, 1 / 3]),
                     hint="(count(ctx, c) + k) / (count(ctx) + k V): e.g. P(b | a) = (2 + 1) / (3 + 3); "
                          "an unseen context gets 1 / V.")
total = sum(float(np.exp(bigram.log_probs(np.array([0, c])))[0]) for c in range(3))
grading.expect_close("sum over c of P(c | a)", total, 1.0,
                     hint="add k V (not k) to the context count, so that the probabilities sum to 1.")
unigram = NGramLM(1, 3, k=0.5).fit(train_ids)
grading.expect_close("unigram P(a), P(c)", np.exp(unigram.log_probs(np.array([0, 2]))),
                     np.array([4.5 / 7.5, 0.5 / 7.5]),
                     hint="with n = 1 the context is empty and count(ctx) is the number of ids.")

# %% nbgrader={"grade": true, "grade_id": "ngram_log_probs_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your log_probs with the reference on random texts, orders and k.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.ngram_log_probs", NGramLM)
### END HIDDEN TESTS

# %% [markdown]
# **The data.** The shipped text (`course.data.load_text()`) is public-domain Shakespeare: the Sonnets,
# *Hamlet*, *Macbeth*, *King Lear*, *Othello* and *Romeo and Juliet*, about 821,000 characters. It is split
# into contiguous train, validation and test pieces (90/5/5) so that no line leaks across. The score of a
# language model is the mean cross-entropy of the next character on held-out text, in **nats per
# character**, or in **bits per character** after dividing by $\ln 2$ (a uniform guess over the $V$
# characters costs $\log_2 V$ bits). Below, every order $n$ and smoothing $k$ is scored on the validation
# text, the model-selection table for the baseline.

# %%
text = load_text()
train_text, val_text, _ = text_splits(text, (0.9, 0.05, 0.05))
vocab = CharVocab(text)
train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
print(f"{len(text):,} characters, V = {vocab.size}; train {len(train_ids):,}, validation {len(val_ids):,}")
print(f"uniform over V: {np.log2(vocab.size):.3f} bits/char")
print(f"{'n':>3} {'k':>6} {'val bits/char':>14}")
ngram_bits = {}
for n in range(1, 7):
    for k in (1.0, 0.1, 0.01):
        ngram_bits[n, k] = NGramLM(n, vocab.size, k).fit(train_ids).nats_per_char(val_ids) / np.log(2)
        print(f"{n:>3} {k:>6} {ngram_bits[n, k]:>14.3f}")
best_ngram = min(ngram_bits, key=ngram_bits.get)
print(f"best n-gram: n = {best_ngram[0]}, k = {best_ngram[1]}: {ngram_bits[best_ngram]:.3f} bits/char")


# %% [markdown]
# **What to see:** longer contexts help up to $n = 4$ (about 2.5 bits per character, against 6.2 for a
# uniform guess), then the counts run out: most 5- and 6-character contexts of the validation text never
# occur in training, add-k spreads their probability uniformly, and the score gets worse again, faster the
# larger $k$ is. A fixed window cannot use more context without more data; a recurrent net can.
#
# ## 9. Sampling with a temperature
#
# A language model generates text by feeding back its own samples: draw the next character from its
# predicted distribution, feed it in, repeat (lectures 002 and 003). The **temperature** $\tau$ divides the
# scores before the softmax,
#
# $$P(c) = \operatorname{softmax}(s / \tau)_c :$$
#
# $\tau = 1$ samples the model's own distribution, $\tau < 1$ sharpens it (safer, more repetitive text),
# $\tau > 1$ flattens it (more varied, more mistakes), and $\tau \to 0$ is the argmax (greedy decoding).
# **Top-k** sampling keeps only the $k$ highest scores (the others get probability 0) before drawing.
#
# **Exercise 9.** `sample_next(scores, rng, temperature=1.0, top_k=None)` returns one id (a Python `int`)
# drawn from `softmax(scores / temperature)` with `rng` (a `numpy.random.Generator`: `rng.choice(V, p=p)`
# draws one index with probabilities `p`); `temperature=0` means the argmax, and with `top_k` only the
# `top_k` largest scores can be drawn (ties broken by the lower index).

# %% nbgrader={"grade": false, "grade_id": "sample_next", "locked": false, "schema_version": 3, "solution": true}
def sample_next(scores, rng, temperature=1.0, top_k=None):
    """One id drawn from softmax(scores / temperature) restricted to the top_k largest; the argmax at 0."""
    ### BEGIN SOLUTION a06.sample_next
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sample_next_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
scores = np.array([1.0, 2.0, 0.5, -1.0])
greedy = sample_next(scores, np.random.default_rng(0), 0.0)
grading.expect_equal("sample_next(scores, rng, temperature=0)", greedy, 1,
                     hint="temperature 0 means greedy: the argmax.")
grading.expect_equal("type of the sample", type(sample_next(scores, np.random.default_rng(0))).__name__,
                     "int",
                     hint="return int(...), not a NumPy integer or an array.")


def frequencies(temperature, top_k=None, draws=4000):
    rng = np.random.default_rng(0)
    counts = np.bincount([sample_next(scores, rng, temperature, top_k) for _ in range(draws)], minlength=4)
    return counts / draws


grading.expect_close("frequencies of 4000 draws at temperature 1", frequencies(1.0),
                     np.array([0.224207818, 0.6094600376, 0.1359889158, 0.03034322856]), rtol=0, atol=0.035,
                     hint="draw from softmax(scores) with rng.choice(len(scores), p=probs).")
grading.expect_close("frequencies of 4000 draws at temperature 0.5", frequencies(0.5),
                     np.array([0.113956852, 0.8420335724, 0.04192238304, 0.00208719255]), rtol=0, atol=0.035,
                     hint="divide the scores by the temperature before the softmax (not multiply).")
grading.expect_close("frequencies of 4000 draws at temperature 0.5 with top_k = 2", frequencies(0.5, top_k=2),
                     np.array([0.119202922, 0.880797078, 0.0, 0.0]), rtol=0, atol=0.035,
                     hint="give every score outside the top k the probability 0 (a score of -inf) and "
                          "renormalise over the k kept.")

# %% nbgrader={"grade": true, "grade_id": "sample_next_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader checks greedy decoding and the frequencies of many draws for other scores,
# temperatures and top-k.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a06.sample_next", sample_next)
### END HIDDEN TESTS

# %% [markdown]
# ## 10. A character-level language model
#
# The pieces make a language model (lectures 002 and 003): embedding $(V, E)$ $\to$ LSTM (or vanilla RNN)
# $(E \to H)$ $\to$ temporal affine $(H \to V)$ $\to$ temporal softmax loss against the next character. The
# `Module` below only wires **your** functions together and owns the parameters and their gradients; the
# LSTM and its training run on your code, not on the library's (the teaching loop over time steps is
# about 1.4 times slower than the library's fused LSTM, which still fits the time budget).
#
# `forward(ids, state)` takes `(N, T)` ids and the state carried from the previous chunk (`None` for
# zeros) and leaves `final_state` for the next one; `backward(dscores)` drops the gradient of the initial
# state: that is where the truncation happens.

# %%
class CharLM(Module):
    """Embedding -> LSTM or vanilla RNN -> temporal affine: next-character scores, from your functions."""

    def __init__(self, V, embed_dim=32, hidden_dim=128, cell="lstm", seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.cell = cell
        init = lstm_init if cell == "lstm" else rnn_init
        Wx, Wh, b = init(embed_dim, hidden_dim, rng)
        self.add_param("W_embed", rng.standard_normal((V, embed_dim)).astype(np.float32))
        self.add_param("Wx", Wx)
        self.add_param("Wh", Wh)
        self.add_param("b", b)
        W_out = rng.standard_normal((hidden_dim, V)) / np.sqrt(hidden_dim)
        self.add_param("W_out", W_out.astype(np.float32))
        self.add_param("b_out", np.zeros(V, dtype=np.float32))
        self.final_state = None

    def forward(self, ids, state=None):
        p = self.params
        zeros = np.zeros((ids.shape[0], p["Wh"].shape[0]), dtype=np.float32)
        x, embed_cache = word_embedding_forward(ids, p["W_embed"])  # (N, T, E)
        if self.cell == "lstm":
            h0, c0 = (zeros, zeros) if state is None else state
            h, c_T, recurrent_cache = lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"], c0=c0, return_state=True)
            self.final_state = (h[:, -1].copy(), c_T)
        else:
            h, recurrent_cache = rnn_forward(x, zeros if state is None else state, p["Wx"], p["Wh"], p["b"])
            self.final_state = h[:, -1].copy()
        scores, head_cache = temporal_affine_forward(h, p["W_out"], p["b_out"])  # (N, T, V)
        self.cache = (embed_cache, recurrent_cache, head_cache)
        return scores

    def backward(self, dscores):
        embed_cache, recurrent_cache, head_cache = self.cache
        dh, dW_out, db_out = temporal_affine_backward(dscores, head_cache)
        recurrent_backward = lstm_backward if self.cell == "lstm" else rnn_backward
        dx, _, dWx, dWh, db = recurrent_backward(dh, recurrent_cache)  # dh0 dropped: the truncation
        grads = {"W_embed": word_embedding_backward(dx, embed_cache), "Wx": dWx, "Wh": dWh, "b": db,
                 "W_out": dW_out, "b_out": db_out}
        for name, grad in grads.items():
            self.accumulate(name, grad)


def chunk_loss(scores, targets):
    """Cross-entropy per character of a chunk in nats: the temporal softmax loss divided by k as well."""
    k = targets.shape[1]
    loss, dscores = temporal_softmax_loss(scores, targets, np.ones(targets.shape, dtype=bool))
    return loss / k, dscores / k


def evaluate_nats(model, ids, n_streams=16, k=100):
    """Mean cross-entropy of the next character over ids, in nats, the state carried as in training."""
    total, count, state = 0.0, 0, None
    for inputs, targets in tbptt_chunks(batchify(ids, n_streams), k):
        scores = model.forward(inputs, state)
        state = model.final_state
        loss, _ = temporal_softmax_loss(scores, targets, np.ones(targets.shape, dtype=bool))
        total += loss * targets.shape[0]  # the loss is summed over steps and divided by N
        count += targets.size
    return total / count


def generate(model, prefix, n, rng, temperature=1.0):
    """n characters after prefix: read the prefix, then feed every sample back in, one step at a time."""
    scores = model.forward(vocab.encode(prefix)[None, :], None)  # (1, len(prefix), V)
    out = []
    for _ in range(n):
        out.append(sample_next(scores[0, -1], rng, temperature))
        scores = model.forward(np.array([[out[-1]]]), model.final_state)  # (1, 1, V)
    return vocab.decode(out)


# %% [markdown]
# **Clipping an exploding run.** First a vanilla RNN language model (H = 64) trained with plain SGD and a
# large learning rate (5.0), twice from the same initialisation: once as is, once with the gradient's
# global norm clipped to 1 (`Optimizer(..., max_grad_norm=1.0)`, assignment 04's `clip_grad_norm`). Plain
# SGD shows the explosion as it is; an adaptive optimiser such as Adam rescales every gradient and partly
# hides it. Each run is 250 updates of 32 streams $\times$ 50 characters.

# %%
def exploding_run(max_norm, steps=250):
    """A vanilla RNN model trained by SGD with learning rate 5; returns (losses, gradient norms before
    clipping). max_norm = inf measures the norm and never clips."""
    model = CharLM(vocab.size, embed_dim=16, hidden_dim=64, cell="rnn", seed=0)
    optimizer = Optimizer(model, sgd, max_grad_norm=max_norm, learning_rate=5.0)
    norms = []
    with np.errstate(over="ignore", invalid="ignore"):
        losses = train_tbptt(model, batchify(train_ids, 32), 50, chunk_loss, optimizer, max_steps=steps,
                             callback=lambda step, loss: norms.append(optimizer.last_grad_norm))
    return np.array(losses), np.array(norms)


clip_runs = {max_norm: exploding_run(max_norm) for max_norm in (np.inf, 1.0)}

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
for max_norm, label in [(np.inf, "no clipping"), (1.0, "clipped to norm 1")]:
    losses, norms = clip_runs[max_norm]
    ax1.plot(losses / np.log(2), label=label)
    ax2.semilogy(norms, label=label)
ax1.set_xlabel("update")
ax1.set_ylabel("training loss (bits/char)")
ax1.set_title("Vanilla RNN LM, SGD with learning rate 5")
ax1.legend()
ax2.axhline(1.0, color="gray", ls=":", label="clipping threshold")
ax2.set_xlabel("update")
ax2.set_ylabel("gradient norm before clipping (log scale)")
ax2.set_title("Global gradient norm per update")
ax2.legend()
plt.tight_layout()
plt.show()
for max_norm, (losses, norms) in clip_runs.items():
    print(f"max_grad_norm={max_norm}: largest gradient norm {norms.max():.3g}, "
          f"mean loss of the last 50 updates {losses[-50:].mean() / np.log(2):.2f} bits/char")

# %% [markdown]
# **What to see:** in its first dozen updates the unclipped run's gradient norm climbs from below 1 to
# about 30 and then to several hundred. With a learning rate of 5, each of those steps moves the weights by
# the learning rate times the norm, from 150 to over 2000: the loss jumps to 30 bits per character (a
# uniform guess costs 6.2), and the rest of the run is spent recovering, still about 8 bits after 250
# updates. The clipped run takes the same directions with a length of at most 5 and trains steadily to
# about 3 bits. Clipping changes nothing on the ordinary updates: after the first few, the clipped run's
# gradient norms stay below the threshold and its steps are plain SGD.
#
# **Training the LSTM language model.** Embedding 32, H = 128, 32 streams, chunks of $k = 50$ characters,
# Adam with learning rate $3 \cdot 10^{-3}$ and clipping at norm 5, 2000 updates (about 3.2 million
# characters, a little over four passes over the training text). Every 250 updates the model is scored on
# the first 20,000 validation characters, and after 100, 500 and 2000 updates it writes 200 characters at
# temperature 1 after a newline. The cell then plots the learning curves and lets the trained model write
# at three temperatures.

# %%
lm = CharLM(vocab.size, embed_dim=32, hidden_dim=128, cell="lstm", seed=0)
optimizer = Optimizer(lm, adam, max_grad_norm=5.0, learning_rate=3e-3)
val_check = val_ids[:20_000]
history = {"val": [], "samples": {}, "grad_norm": []}


def monitor(step, loss):
    history["grad_norm"].append(optimizer.last_grad_norm)
    if step % 250 and step not in (100, 500):
        return
    carried = lm.final_state  # evaluation and sampling overwrite it
    if step % 250 == 0:
        history["val"].append((step, evaluate_nats(lm, val_check)))
    if step in (100, 500, 2000):
        history["samples"][step] = generate(lm, "\n", 200, np.random.default_rng(0))
    lm.final_state = carried


start = time.perf_counter()
train_losses = train_tbptt(lm, batchify(train_ids, 32), 50, chunk_loss, optimizer, max_steps=2000,
                           callback=monitor)
seconds = time.perf_counter() - start
val_nats = history["val"][-1][1]
print("validation bits/char:", ", ".join(f"{nats / np.log(2):.3f} ({step})" for step, nats in history["val"]))
print(f"{len(train_losses)} updates in {seconds:.0f} s; validation {val_nats:.3f} nats/char "
      f"= {val_nats / np.log(2):.3f} bits/char (best n-gram: {ngram_bits[best_ngram]:.3f} bits/char)")
print("reached 2.2 nats/char:", val_nats <= 2.2)
print()
for step, sample_text in history["samples"].items():
    print(f"--- 200 characters at temperature 1 after {step} updates ---")
    print(sample_text)
    print()

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
smooth = np.convolve(train_losses, np.ones(50) / 50, mode="valid") / np.log(2)
ax1.plot(np.arange(50, len(train_losses) + 1), smooth, color="C0", lw=1,
         label="training (mean of 50 updates)")
val_steps, val_values = zip(*history["val"])
ax1.plot(val_steps, np.array(val_values) / np.log(2), "o-", color="C1", label="validation")
ax1.axhline(ngram_bits[best_ngram], color="C2", ls="--",
            label=f"best n-gram (n = {best_ngram[0]}, k = {best_ngram[1]})")
ax1.axhline(np.log2(vocab.size), color="gray", ls=":", label=f"uniform over V = {vocab.size}")
ax1.set_ylim(1.5, 7)
ax1.set_xlabel("update")
ax1.set_ylabel("cross-entropy (bits per character)")
ax1.set_title("LSTM character model on Shakespeare")
ax1.legend()
ax2.semilogy(history["grad_norm"], lw=0.6)
ax2.axhline(5.0, color="gray", ls=":", label="clipping threshold 5")
ax2.set_xlabel("update")
ax2.set_ylabel("gradient norm before clipping (log scale)")
ax2.set_title("Global gradient norm of the LSTM model")
ax2.legend()
plt.tight_layout()
plt.show()

for temperature in (0.5, 1.0, 1.5):  # the trained model, one seed, three temperatures
    print(f"--- 160 characters at temperature {temperature} ---")
    print(generate(lm, "\n", 160, np.random.default_rng(1), temperature))
    print()

# %% [markdown]
# **What to see:**
#
# 1. The samples. After 100 updates the model has learnt the characters' frequencies, spaces and line
#    breaks, and a few short words; after 500 it writes more real words, capitals after line breaks, and
#    speakers' names in capitals followed by a full stop, as the plays print them; after 2000 the lines
#    look like verse and dialogue, mostly made of English words with punctuation in plausible places,
#    though the sentences mean nothing.
# 2. The curves (left). The validation loss falls below the best n-gram's after about 1100 updates and is
#    still falling at the end: the model is far from converged (the library's longer run,
#    `experiments/train_charlm.py`, reaches about 2.24 bits per character in 5 minutes). The training
#    loss is only a little lower than the validation loss, so the model is not overfitting yet.
# 3. The gradient norm (right) stays far below the threshold of 5 in this run: with the LSTM's additive
#    cell path and Adam, whose step size does not grow with the gradient, clipping is insurance here
#    rather than a necessity.
# 4. The temperatures. At 0.5 the text is cautious and repetitive (common words, the same phrases again);
#    at 1.0 it is the model's own distribution; at 1.5 rare characters get through and words fall apart.
#
# ## Summary
#
# A recurrent net applies one step with shared weights along a sequence; BPTT is ordinary backpropagation
# through the unrolled steps, with two rules: a state's gradient is the sum over its uses, and shared
# weights sum their per-step gradients. The product of Jacobians through time makes gradients vanish (the
# scalar recurrence, the vanilla RNN) or explode (the wall); clipping bounds the damage of the second, and
# gated cells (LSTM, GRU) answer the first with an additive path whose gain the gates control, which the
# forget-gate bias opens at the start. Truncated BPTT makes training on long text affordable by carrying
# the state forward while cutting the gradient. With these pieces a small LSTM beats the best n-gram on
# Shakespeare after about a thousand updates. The library's versions (`course.layers.lstm.LSTM`,
# `course.models.charlm`) wrap the same pairs; the LSTM module there runs a fused, faster path that
# `tests/test_lstm.py` checks equal to your loop. Assignment 07 uses the LSTM as an encoder and a decoder.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a06_recurrent_nets.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a06_recurrent_nets.ipynb")
