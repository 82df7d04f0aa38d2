# %% [markdown]
# # Assignment 07: sequence to sequence and attention
#
# A sequence-to-sequence model reads a source $x_1 \dots x_{T_s}$ and writes a target one token at a time,
#
# $$P(y \mid x) = \prod_{t=1}^{T_t} P(y_t \mid y_{<t}, x).$$
#
# An **encoder** RNN turns the source into states $e_1 \dots e_{T_s}$; a **decoder** RNN with state $d$
# emits the target. Squeezing the whole source into one vector is the bottleneck of the plain encoder-decoder;
# **attention** removes it: at every step the decoder reads a weighted average $d' = \sum_j a_j e_j$ of all
# the encoder states, with weights $a = \text{softmax}(u)$ that it chooses itself (lecture 003).
#
# You will implement, in this notebook:
#
# 1. attention as a differentiable read, forward and backward, with four ways of making the scores $u_j$:
#    position-based (a window over positions), content-based (a dot product), Bahdanau's additive score
#    $u_j = v^\top \tanh(W_1 e_j + W_2 d)$, and the Neural Turing Machine's content addressing (cosine
#    similarity and a strength); then scaled dot-product self-attention with causal and padding masks
#    (lecture 004);
# 2. the attention encoder-decoder: one decoder step, and the teacher-forced pass over a batch, forward and
#    backward;
# 3. decoding: greedy, sampling, and beam search with length normalisation, tested against an exhaustive
#    search.
#
# Then you will train the model on string reversal with your code, look at its attention maps, and compare
# greedy decoding with beam search of several widths on a model stopped early.
#
# **Time budget: 3 minutes** on one CPU core, top to bottom. Measured: 26 s on one core of the course's
# build machine, of which the training run of section 4 took 17 s (under load from other jobs, up to
# about twice that).
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
# a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
# the reference on fresh random inputs when the course grader runs it. Both carry points. Do not edit,
# copy or delete test cells: the grader restores them. Use NumPy and the library of earlier assignments
# (the softmax of assignment 02, the LSTM step and the embedding of assignment 06, Adam of assignment 04);
# in the grader the library functions you are asked to write here (`course.layers.attention`,
# `course.models.seq2seq`, `course.models.decoding`) raise `NotImplementedError`.
#
# Shapes use the course's letters: N batch, T positions ($T_s$ source, $T_t$ target), H encoder state size,
# Hd decoder state size, A attention size, D input features, V vocabulary, k beam width.

# %%
import functools
import math  # noqa: F401 (self_attention_forward's 1/sqrt(dk))
import time

import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import get_array_module  # noqa: F401 (NumPy for NumPy arrays; the solutions use it)
from course.core.gradcheck import check_pair, numerical_gradient
from course.data.seq_tasks import EOS, PAD, SOS, encode_pairs, make_task
from course.layers.activations import sigmoid_forward  # noqa: F401 (softplus' = sigmoid, in the NTM backward)
from course.layers.attention import attention_read_backward, attention_read_forward  # noqa: F401 (the read)
from course.layers.attention import NTM_EPS, masked_softmax, self_attention_mask  # noqa: F401 (given helpers)
from course.layers.embedding import word_embedding_backward, word_embedding_forward  # noqa: F401 (a06)
from course.layers.losses import log_softmax, softmax, softmax_backward  # noqa: F401 (a02)
from course.layers.lstm import lstm_backward, lstm_step_backward, lstm_step_forward  # noqa: F401 (a06)
from course.layers.temporal import temporal_affine_backward, temporal_affine_forward  # noqa: F401 (a06)
from course.layers.temporal import temporal_softmax_loss
from course.models.decoding import exhaustive_search
from course.models.decoding import host_log_probs, reorder_state, repeat_state  # noqa: F401 (given helpers)
from course.models.seq2seq import Seq2Seq, encode, exact_match, init_seq2seq_params, train_seq2seq


# %% [markdown]
# ## 1. Attention: a differentiable read
#
# Every attention mechanism below ends with the same **read**: given weights $a_{n,:}$ over the $T$
# positions of row $n$ (non-negative, summing to 1) and the vectors $e_{n,j}$ at those positions,
#
# $$\text{context}_n = \sum_{j} a_{nj}\, e_{nj}, \qquad
# \frac{\partial L}{\partial a_{nj}} = e_{nj} \cdot \text{dcontext}_n, \qquad
# \frac{\partial L}{\partial e_{nj}} = a_{nj}\, \text{dcontext}_n .$$
#
# It is given: `attention_read_forward(a, E) -> (context, (a, E))` and `attention_read_backward(dcontext,
# (a, E)) -> (da, dE)`, with `a (N, T)`, `E (N, T, H)`, `context (N, H)`. What differs between the
# mechanisms is how the **scores** $u_j$ are made; the weights are always $a = \text{softmax}(u)$.
#
# Two more given helpers:
#
# - `masked_softmax(u, mask)`: the softmax over the last axis, where `mask` is a boolean *keep* array
#   (True where a position may be attended to; `None` keeps everything). A masked position gets the score
#   $-\infty$, so its weight is exactly 0. This is how a batch of sources of different lengths is
#   attended to: right-padded, with the padding masked.
# - `softmax_backward(da, a)` (assignment 02): for $a = \text{softmax}(u)$ and an upstream gradient $da$,
#   $du = a \odot (da - \sum_j a_j\, da_j)$. A masked position has $a_j = 0$, so its $du_j$ is 0 too.
#
# Every attention pair returns the weights as a second output (for heat maps), and its backward takes an
# upstream gradient for them too, `da` (or `None`, meaning zero). The weights then feed two things, the
# read and the output, so their gradient is the sum $da_{\text{read}} + da$ before the softmax backward.

# %% [markdown]
# ### 1.1 Position-based attention
#
# The lecture's form: the decoder maps its state straight to the $T$ weights, $a = \text{softmax}(W d)$ with
# $W$ of shape $(T, H_d)$. The weights depend only on *where* to look, never on what the $e_j$ contain. But
# $W$ has one row per source position, so it only works for sources of one fixed length $T$, and nothing
# ties the weight of position $j$ to that of $j + 1$.
#
# The course's form keeps the idea (where, not what) and drops the fixed length: the decoder emits just
# two numbers, a centre $\mu$ and a width $\sigma > 0$ (in positions), and the weights are a Gaussian
# window over the positions $j = 0, \dots, T - 1$, normalised with a softmax:
#
# $$u_j = -\frac{(j - \mu)^2}{2 \sigma^2}, \qquad a = \text{softmax}(u), \qquad
# \text{context} = \sum_j a_j e_j .$$
#
# It works for any $T$, moving $\mu$ by one moves the attention by one position (the idea behind the soft
# windows of Graves's handwriting synthesis and the NTM's location-based shifts), and $\mu$ and $\sigma$
# are learned through the gradient. Dividing by the sum (the softmax) rather than by the Gaussian's
# constant $\sqrt{2\pi}\sigma$ makes the weights sum to 1 over the kept positions, even where the window
# hangs over an edge.
#
# **Exercise 1a.** `position_attention_forward(E, mu, sigma, mask=None)` returns `(context, a, cache)`:
# `E (N, T, H)`, `mu (N,)`, `sigma (N,)`, `mask (N, T)` bool or None; `context (N, H)`, `a (N, T)`. Use
# `masked_softmax` and `attention_read_forward`.

# %% nbgrader={"grade": false, "grade_id": "position_attention_forward", "locked": false, "schema_version": 3, "solution": true}
def position_attention_forward(E, mu, sigma, mask=None):
    """u_j = -(j - mu)^2 / (2 sigma^2), a = masked_softmax(u, mask), context = sum_j a_j e_j.

    E: (N, T, H), mu: (N,), sigma: (N,) > 0, mask: (N, T) bool or None.
    Returns (context (N, H), a (N, T), cache).
    """
    ### BEGIN SOLUTION a07.position_attention_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "position_attention_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
E_check = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                    [[0.5, -1.0], [-1.0, 0.5], [2.0, 0.0]]])  # (N, T, H) = (2, 3, 2)
mask_check = np.array([[True, True, True], [True, True, False]])  # row 1 has 2 real positions
result = position_attention_forward(E_check, np.array([1.0, 0.5]), np.array([1.0, 0.5]))
assert isinstance(result, tuple) and len(result) == 3, "return (context, a, cache)."
context, a, _ = result
grading.expect_shape("context", context, (2, 2), hint="one read vector per row: (N, H).")
grading.expect_shape("a", a, (2, 3), hint="one weight per position: (N, T).")
grading.expect_close("a.sum(axis=1)", a.sum(axis=1), np.ones(2), hint="the weights are a softmax over j.")
grading.expect_close("a for mu = (1, 0.5), sigma = (1, 0.5)", a,
                     np.array([[0.2740686191, 0.4518627619, 0.2740686191],
                               [0.4954626426, 0.4954626426, 0.009074714844]]),
                     hint="u_j = -(j - mu)^2 / (2 sigma^2) with positions j = 0, 1, 2 (np.arange(T)); "
                     "mu and sigma are per row, so broadcast them as (N, 1).")
grading.expect_close("context", context,
                     np.array([[0.5481372381, 0.7259313809], [-0.2295818916, -0.2477313213]]),
                     hint="context_n = sum_j a_nj E[n, j]: attention_read_forward(a, E).")
context, _, _ = position_attention_forward(E_check, np.array([0.0, 2.0]), np.array([0.05, 0.05]))
grading.expect_close("context of a narrow window at mu = (0, 2)", context, np.array([[1.0, 0.0], [2.0, 0.0]]),
                     atol=1e-12, hint="a window much narrower than one position reads the row at mu itself.")
_, a, _ = position_attention_forward(E_check, np.array([1.0, 2.0]), np.array([1.0, 1.0]), mask_check)
grading.expect_close("a with row 1's last position masked", a,
                     np.array([[0.2740686191, 0.4518627619, 0.2740686191],
                               [0.1824255238, 0.8175744762, 0.0]]),
                     hint="pass the mask to masked_softmax: a masked weight is exactly 0 and the kept ones "
                     "sum to 1.")

# %% nbgrader={"grade": true, "grade_id": "position_attention_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.position_attention_forward", position_attention_forward)
### END HIDDEN TESTS

# %% [markdown]
# The two forms side by side, over a source of 12 positions. Left: the lecture's $a = \text{softmax}(W d)$
# with a random $W$ of 12 rows; right: the window for three centres. **What to see:** the lecture's weights
# can take any shape, but only over exactly 12 positions; the window is one bump whose place and width are
# two numbers, and it slides when $\mu$ changes.

# %%
rng = np.random.default_rng(3)
T_demo = 12
d_demo = rng.standard_normal((1, 8))  # a decoder state, Hd = 8
W_lecture = rng.standard_normal((T_demo, 8))  # (T, Hd): one row per source position, so T is fixed
a_lecture = masked_softmax(d_demo @ W_lecture.T)  # (1, T)
windows = [position_attention_forward(np.zeros((1, T_demo, 1)), np.array([mu]), np.array([1.2]))[1][0]
           for mu in (2.0, 5.5, 9.0)]

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.2), sharey=True)
ax1.bar(np.arange(T_demo), a_lecture[0], color="C1")
ax1.set_title("lecture: a = softmax(W d), W of shape (12, Hd)")
ax1.set_xlabel("source position j")
ax1.set_ylabel("attention weight a_j")
for mu, a_window in zip((2.0, 5.5, 9.0), windows):
    ax2.plot(np.arange(T_demo), a_window, "o-", label=f"mu = {mu}, sigma = 1.2")
ax2.set_title("course: Gaussian window, u_j = -(j - mu)^2 / (2 sigma^2)")
ax2.set_xlabel("source position j")
ax2.legend()
plt.show()


# %% [markdown]
# **Backward.** With $du = $ `softmax_backward(da_read + da, a)` and the offsets $j - \mu$,
#
# $$\frac{\partial u_j}{\partial \mu} = \frac{j - \mu}{\sigma^2}, \qquad
# \frac{\partial u_j}{\partial \sigma} = \frac{(j - \mu)^2}{\sigma^3}, \qquad
# d\mu = \sum_j du_j \frac{j - \mu}{\sigma^2}, \qquad d\sigma = \sum_j du_j \frac{(j - \mu)^2}{\sigma^3},$$
#
# and $dE_j = a_j\, \text{dcontext}$ (here $E$ enters only through the read). Keep in the cache what this
# needs (the offsets, $\sigma$, $a$, $E$).
#
# **Exercise 1b.** `position_attention_backward(dcontext, da, cache)` returns `(dE, dmu, dsigma)`:
# `dcontext (N, H)`, `da (N, T)` or None.

# %% nbgrader={"grade": false, "grade_id": "position_attention_backward", "locked": false, "schema_version": 3, "solution": true}
def position_attention_backward(dcontext, da, cache):
    """dcontext: (N, H); da: (N, T) or None (zero). Returns dE (N, T, H), dmu (N,), dsigma (N,)."""
    ### BEGIN SOLUTION a07.position_attention_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "position_attention_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
E_check = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                    [[0.5, -1.0], [-1.0, 0.5], [2.0, 0.0]]])  # (N, T, H) = (2, 3, 2)
a_check = np.array([[0.2740686191, 0.4518627619, 0.2740686191], [0.4954626426, 0.4954626426, 0.009074714844]])
dcontext_check = np.array([[1.0, -0.5], [0.5, 2.0]])
_, _, cache = position_attention_forward(E_check, np.array([1.0, 0.5]), np.array([1.0, 0.5]))
grads = position_attention_backward(dcontext_check, None, cache)
assert isinstance(grads, tuple) and len(grads) == 3, "return (dE, dmu, dsigma)."
dE, dmu, dsigma = grads
grading.expect_close("dE", dE, a_check[:, :, None] * dcontext_check[:, None, :],
                     hint="E enters only through the read: dE_j = a_j dcontext (attention_read_backward).")
grading.expect_close("dmu with da = None", dmu, np.array([-0.1370343095, 2.317257444]),
                     hint="dmu = sum_j du_j (j - mu) / sigma^2 with du = softmax_backward(da_read, a).")
grading.expect_close("dsigma with da = None", dsigma, np.array([0.3096035079, 0.2338014743]),
                     hint="dsigma = sum_j du_j (j - mu)^2 / sigma^3.")
_, dmu, dsigma = position_attention_backward(np.zeros((2, 2)), np.array([[0.5, 0.0, -0.5], [1.0, 0.0, 0.0]]),
                                             cache)
grading.expect_close("dmu with dcontext = 0 (the weights' own gradient da alone)", dmu,
                     np.array([-0.2740686191, -1.017902378]),
                     hint="the weights are an output too: add da to the read's da before the softmax "
                     "backward.")
grading.expect_close("dsigma with dcontext = 0", dsigma, np.array([0.0, -0.07193891516]),
                     hint="the same du as for dmu, times (j - mu)^2 / sigma^3.")
# Gradient check against central differences (float64): every input, a mask, an upstream gradient on both
# outputs; the relative error of every entry must be below 1e-7 (a wrong term gives errors of order 1).
rng = np.random.default_rng(0)
padding = np.arange(4)[None, :] < np.array([4, 2, 1])[:, None]  # three sources of lengths 4, 2 and 1
check_pair(functools.partial(position_attention_forward, mask=padding), position_attention_backward,
           {"E": rng.standard_normal((3, 4, 3)), "mu": np.array([1.3, 1.4, 0.2]),
            "sigma": np.array([0.8, 1.5, 2.0])},
           tol=1e-7, context="position attention")
print("ok: gradient check of dE, dmu and dsigma within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "position_attention_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.position_attention_backward", position_attention_forward, position_attention_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### 1.2 Content-based attention: the dot product
#
# Now the weights depend on *what* is at each position: the decoder state is a query, and a position scores
# high when its state points the same way,
#
# $$u_j = e_j \cdot d, \qquad a = \text{softmax}(u), \qquad \text{context} = \sum_j a_j e_j$$
#
# (so $d$ must have the size $H$ of the $e_j$). In the lecture's example, `d` matches "cat", the third word,
# and the weights come out as $[0, 0.05, 0.9, 0.05]$.
#
# **Exercise 1c.** `dot_attention_forward(E, d, mask=None)` returns `(context, a, cache)`: `E (N, T, H)`,
# `d (N, H)`. A batched product does the sums over the features: `E @ d[:, :, None]` is `(N, T, 1)`.

# %% nbgrader={"grade": false, "grade_id": "dot_attention_forward", "locked": false, "schema_version": 3, "solution": true}
def dot_attention_forward(E, d, mask=None):
    """u_j = e_j . d, a = masked_softmax(u, mask), context = sum_j a_j e_j.

    E: (N, T, H), d: (N, H), mask: (N, T) bool or None. Returns (context (N, H), a (N, T), cache).
    """
    ### BEGIN SOLUTION a07.dot_attention_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "dot_attention_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
E_check = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                    [[0.5, -1.0], [-1.0, 0.5], [2.0, 0.0]]])  # (N, T, H) = (2, 3, 2)
mask_check = np.array([[True, True, True], [True, True, False]])
d_check = np.array([[1.0, 0.5], [-0.5, 1.0]])
result = dot_attention_forward(E_check, d_check)
assert isinstance(result, tuple) and len(result) == 3, "return (context, a, cache)."
context, a, _ = result
grading.expect_shape("a", a, (2, 3), hint="one weight per position: (N, T).")
_, a_zero, _ = dot_attention_forward(E_check, np.zeros((2, 2)))
grading.expect_close("a for the query d = 0", a_zero, np.full((2, 3), 1 / 3),
                     hint="a zero query scores every position 0: uniform weights.")
grading.expect_close("a", a, np.array([[0.3071958857, 0.1863237232, 0.5064803911],
                                       [0.0849490555, 0.8059741981, 0.1090767464]]),
                     hint="u_j = E[n, j] . d[n], one dot product per position (E @ d[:, :, None]).")
grading.expect_close("context", context,
                     np.array([[0.8136762768, 0.6928041143], [-0.5453461776, 0.3180380436]]),
                     hint="context_n = sum_j a_nj E[n, j].")
context, a, _ = dot_attention_forward(E_check, d_check, mask_check)
grading.expect_close("a with row 1's last position masked", a,
                     np.array([[0.3071958857, 0.1863237232, 0.5064803911],
                               [0.0953494649, 0.9046505351, 0.0]]),
                     hint="pass the mask to masked_softmax.")

# %% nbgrader={"grade": true, "grade_id": "dot_attention_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.dot_attention_forward", dot_attention_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Backward.** $E$ is used twice, in the scores and in the read, so $dE$ sums two paths:
#
# $$dE_j = a_j\, \text{dcontext} + du_j\, d, \qquad dd = \sum_j du_j\, e_j, \qquad
# du = \texttt{softmax\_backward}(da_{\text{read}} + da, a).$$
#
# **Exercise 1d.** `dot_attention_backward(dcontext, da, cache)` returns `(dE, dd)`.

# %% nbgrader={"grade": false, "grade_id": "dot_attention_backward", "locked": false, "schema_version": 3, "solution": true}
def dot_attention_backward(dcontext, da, cache):
    """dcontext: (N, H); da: (N, T) or None. Returns dE (N, T, H) (both paths), dd (N, H)."""
    ### BEGIN SOLUTION a07.dot_attention_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "dot_attention_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
E_check = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                    [[0.5, -1.0], [-1.0, 0.5], [2.0, 0.0]]])  # (N, T, H) = (2, 3, 2)
d_check = np.array([[1.0, 0.5], [-0.5, 1.0]])
dcontext_check = np.array([[1.0, -0.5], [0.5, 2.0]])
_, _, cache = dot_attention_forward(E_check, d_check)
grads = dot_attention_backward(dcontext_check, None, cache)
assert isinstance(grads, tuple) and len(grads) == 2, "return (dE, dd)."
dE, dd = grads
grading.expect_close("dd", dd, np.array([[0.180226134, -0.1636511679], [-0.06098359379, 0.234578418]]),
                     hint="dd = sum_j du_j E[n, j] with du = softmax_backward(da_read, a).")
grading.expect_close("dE", dE, np.array([[[0.4708470537, -0.07177235889], [0.006097589243, -0.1832749286],
                                          [0.5230553571, -0.2449527125]],
                                         [[0.132240322, -0.009633477598], [0.3479402696, 1.722042055],
                                          [0.01981940834, 0.2875914225]]]),
                     hint="dE has two paths: a_j dcontext (the read) plus du_j d (the score).")
rng = np.random.default_rng(7)
padding = np.arange(4)[None, :] < np.array([4, 2, 1])[:, None]
check_pair(functools.partial(dot_attention_forward, mask=padding), dot_attention_backward,
           {"E": rng.standard_normal((3, 4, 3)), "d": rng.standard_normal((3, 3))}, tol=1e-7,
           context="dot attention")
print("ok: gradient check of dE and dd within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "dot_attention_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.dot_attention_backward", dot_attention_forward, dot_attention_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### 1.3 Bahdanau's additive attention
#
# The dot product needs the query and the keys to live in the same space. Bahdanau, Cho and Bengio (2014)
# score with a small network instead, so the decoder state may have any size $H_d$:
#
# $$u_j = v^\top \tanh(W_1 e_j + W_2 d), \qquad a = \text{softmax}(u), \qquad d' = \sum_j a_j e_j,$$
#
# with $W_1$ `(H, A)`, $W_2$ `(Hd, A)`, $v$ `(A,)` and the attention size A. In row-vector form:
# `keys = E @ W1` `(N, T, A)`, `query = d @ W2` `(N, A)`, `hidden = tanh(keys + query[:, None, :])`
# `(N, T, A)`, `u = hidden @ v` `(N, T)`.
#
# A decoder asks the same source a question at every output step, so the expensive `keys = E @ W1` is
# computed **once per sequence**; each step only adds its own `d @ W2`. So the exercise comes in two
# layers: the *step*, given the precomputed keys, and the full attention, which computes the keys and calls
# the step.
#
# **Exercise 1e.** `additive_attention_step_forward(E, keys, d, W2, v, mask=None)` returns `(context, a,
# cache)`: `E (N, T, H)`, `keys (N, T, A)`, `d (N, Hd)`, `W2 (Hd, A)`, `v (A,)`.

# %% nbgrader={"grade": false, "grade_id": "additive_attention_step_forward", "locked": false, "schema_version": 3, "solution": true}
def additive_attention_step_forward(E, keys, d, W2, v, mask=None):
    """u_j = v^T tanh(keys_j + W2^T d), a = masked_softmax(u, mask), context = sum_j a_j e_j.

    E: (N, T, H), keys: (N, T, A) = E @ W1, d: (N, Hd), W2: (Hd, A), v: (A,), mask: (N, T) bool or None.
    Returns (context (N, H), a (N, T), cache).
    """
    ### BEGIN SOLUTION a07.additive_attention_step_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "additive_attention_step_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
E_check = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                    [[0.5, -1.0], [-1.0, 0.5], [2.0, 0.0]]])  # (N, T, H) = (2, 3, 2)
mask_check = np.array([[True, True, True], [True, True, False]])
W1_check = np.array([[0.5, -1.0], [1.0, 0.5]])  # (H, A) = (2, 2)
d_check = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])  # (N, Hd) = (2, 3)
W2_check = np.array([[0.5, 0.0], [-0.5, 1.0], [1.0, 0.5]])  # (Hd, A) = (3, 2)
v_check = np.array([1.0, -2.0])
keys_check = E_check @ W1_check  # (2, 3, 2)
result = additive_attention_step_forward(E_check, keys_check, d_check, W2_check, v_check)
assert isinstance(result, tuple) and len(result) == 3, "return (context, a, cache)."
context, a, _ = result
grading.expect_shape("a", a, (2, 3), hint="one weight per position: (N, T).")
_, a_zero, _ = additive_attention_step_forward(E_check, keys_check, d_check, W2_check, np.zeros(2))
grading.expect_close("a with v = 0", a_zero, np.full((2, 3), 1 / 3), hint="v = 0 scores every position 0.")
grading.expect_close("a", a, np.array([[0.3488087566, 0.09059005571, 0.5606011877],
                                       [0.08519489531, 0.0153956477, 0.899409457]]),
                     hint="u = tanh(keys + (d @ W2)[:, None, :]) @ v: the query d @ W2 is added to every "
                     "position's key.")
grading.expect_close("context", context,
                     np.array([[0.9094099443, 0.6511912434], [1.826020714, -0.07749707146]]),
                     hint="the read is over E, not over the keys.")
_, a, _ = additive_attention_step_forward(E_check, keys_check, d_check, W2_check, v_check, mask_check)
grading.expect_close("a with row 1's last position masked", a,
                     np.array([[0.3488087566, 0.09059005571, 0.5606011877],
                               [0.8469473646, 0.1530526354, 0.0]]),
                     hint="pass the mask to masked_softmax.")

# %% nbgrader={"grade": true, "grade_id": "additive_attention_step_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.additive_attention_step_forward", additive_attention_step_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Backward of the step.** With $du = $ `softmax_backward(da_read + da, a)` and $\tanh' = 1 - \tanh^2$
# (read from the output `hidden`):
#
# $$d\,\text{keys}_j = du_j\; v \odot (1 - \text{hidden}_j^2), \qquad
# d\,\text{query} = \sum_j d\,\text{keys}_j, \qquad dd = d\,\text{query}\, W_2^\top, \qquad
# dW_2 = d^\top d\,\text{query}, \qquad dv = \sum_{n, j} du_{nj}\, \text{hidden}_{nj},$$
#
# and $dE$ through the read only (the keys' path is the caller's business: it returns $d\,\text{keys}$).
#
# **Exercise 1f.** `additive_attention_step_backward(dcontext, da, cache)` returns `(dE, dkeys, dd, dW2,
# dv)`.

# %% nbgrader={"grade": false, "grade_id": "additive_attention_step_backward", "locked": false, "schema_version": 3, "solution": true}
def additive_attention_step_backward(dcontext, da, cache):
    """dcontext: (N, H); da: (N, T) or None.

    Returns dE (N, T, H) (through the read only), dkeys (N, T, A), dd (N, Hd), dW2 (Hd, A), dv (A,).
    """
    ### BEGIN SOLUTION a07.additive_attention_step_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "additive_attention_step_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
E_check = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                    [[0.5, -1.0], [-1.0, 0.5], [2.0, 0.0]]])  # (N, T, H) = (2, 3, 2)
W1_check = np.array([[0.5, -1.0], [1.0, 0.5]])
d_check = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
W2_check = np.array([[0.5, 0.0], [-0.5, 1.0], [1.0, 0.5]])
v_check = np.array([1.0, -2.0])
dcontext_check = np.array([[1.0, -0.5], [0.5, 2.0]])
_, a, cache = additive_attention_step_forward(E_check, E_check @ W1_check, d_check, W2_check, v_check)
grads = additive_attention_step_backward(dcontext_check, None, cache)
assert isinstance(grads, tuple) and len(grads) == 5, "return (dE, dkeys, dd, dW2, dv)."
dE, dkeys, dd, dW2, dv = grads
grading.expect_close("dE (the read path)", dE, a[:, :, None] * dcontext_check[:, None, :],
                     hint="the step's dE is the read's alone, a_j dcontext: the keys' path is returned as "
                     "dkeys.")
grading.expect_close("dv", dv, np.array([0.1663383371, -0.2317352763]),
                     hint="dv = sum over n and j of du_nj hidden_nj, du = softmax_backward(da_read, a).")
grading.expect_close("dkeys[0]", dkeys[0], np.array([[0.1451692087, -0.05246607954],
                                                     [-0.07721564037, 0.1963655997],
                                                     [-0.0197330861, 0.03946617219]]),
                     hint="dkeys_j = du_j * v * (1 - hidden_j**2).")
grading.expect_close("dd", dd, np.array([[0.02411024109, 0.1592554513, 0.1399033284],
                                         [-0.08232386126, 0.3625310511, -0.0245441276]]),
                     hint="the query was added at every position: dquery = dkeys.sum(axis=1), "
                     "dd = dquery @ W2.T.")
grading.expect_close("dW2", dW2, np.array([[-0.03410337907, 0.3234692873], [-0.08232386126, 0.1401035949],
                                           [-0.1305443434, -0.04326209747]]), hint="dW2 = d.T @ dquery.")
rng = np.random.default_rng(4)
padding = np.arange(4)[None, :] < np.array([4, 2, 1])[:, None]
E_rand = rng.standard_normal((3, 4, 3))
check_pair(functools.partial(additive_attention_step_forward, mask=padding), additive_attention_step_backward,
           {"E": E_rand, "keys": E_rand @ (0.3 * rng.standard_normal((3, 4))),
            "d": rng.standard_normal((3, 5)), "W2": 0.3 * rng.standard_normal((5, 4)),
            "v": rng.standard_normal(4)},
           tol=1e-7, context="additive attention step")
print("ok: gradient check of dE, dkeys, dd, dW2 and dv within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "additive_attention_step_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.additive_attention_step_backward", additive_attention_step_forward, additive_attention_step_backward)
### END HIDDEN TESTS

# %% [markdown]
# The full attention for one query computes the keys, `keys = E @ W1`, and calls your step.
#
# **Exercise 1g.** `additive_attention_forward(E, d, W1, W2, v, mask=None)` returns `(context, a, cache)`,
# with `W1 (H, A)`.

# %% nbgrader={"grade": false, "grade_id": "additive_attention_forward", "locked": false, "schema_version": 3, "solution": true}
def additive_attention_forward(E, d, W1, W2, v, mask=None):
    """Bahdanau attention for one query: keys = E @ W1, then additive_attention_step_forward.

    E: (N, T, H), d: (N, Hd), W1: (H, A), W2: (Hd, A), v: (A,). Returns (context (N, H), a (N, T), cache).
    """
    ### BEGIN SOLUTION a07.additive_attention_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "additive_attention_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
E_check = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                    [[0.5, -1.0], [-1.0, 0.5], [2.0, 0.0]]])  # (N, T, H) = (2, 3, 2)
W1_check = np.array([[0.5, -1.0], [1.0, 0.5]])
d_check = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
W2_check = np.array([[0.5, 0.0], [-0.5, 1.0], [1.0, 0.5]])
v_check = np.array([1.0, -2.0])
result = additive_attention_forward(E_check, d_check, W1_check, W2_check, v_check)
assert isinstance(result, tuple) and len(result) == 3, "return (context, a, cache)."
context, a, _ = result
grading.expect_close("a (the same inputs as the step's test, keys = E @ W1)", a,
                     np.array([[0.3488087566, 0.09059005571, 0.5606011877],
                               [0.08519489531, 0.0153956477, 0.899409457]]),
                     hint="keys = E @ W1 (N, T, A), then call additive_attention_step_forward.")
grading.expect_close("context", context,
                     np.array([[0.9094099443, 0.6511912434], [1.826020714, -0.07749707146]]),
                     hint="the step's context.")

# %% nbgrader={"grade": true, "grade_id": "additive_attention_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.additive_attention_forward", additive_attention_forward)
### END HIDDEN TESTS

# %% [markdown]
# $E$ is used twice, in the keys and in the read, so its gradient adds the keys' path to the step's:
#
# $$dE \mathrel{+}= d\,\text{keys}\, W_1^\top, \qquad dW_1 = \sum_{n, j} e_{nj}^\top\, d\,\text{keys}_{nj}$$
#
# (reshape `E` to `(N T, H)` and `dkeys` to `(N T, A)` for one matrix product).
#
# **Exercise 1h.** `additive_attention_backward(dcontext, da, cache)` returns `(dE, dd, dW1, dW2, dv)`.

# %% nbgrader={"grade": false, "grade_id": "additive_attention_backward", "locked": false, "schema_version": 3, "solution": true}
def additive_attention_backward(dcontext, da, cache):
    """dcontext: (N, H); da: (N, T) or None. Returns dE (N, T, H) (read and keys), dd, dW1, dW2, dv."""
    ### BEGIN SOLUTION a07.additive_attention_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "additive_attention_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
E_check = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                    [[0.5, -1.0], [-1.0, 0.5], [2.0, 0.0]]])  # (N, T, H) = (2, 3, 2)
W1_check = np.array([[0.5, -1.0], [1.0, 0.5]])
d_check = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
W2_check = np.array([[0.5, 0.0], [-0.5, 1.0], [1.0, 0.5]])
v_check = np.array([1.0, -2.0])
dcontext_check = np.array([[1.0, -0.5], [0.5, 2.0]])
_, _, cache = additive_attention_forward(E_check, d_check, W1_check, W2_check, v_check)
grads = additive_attention_backward(dcontext_check, None, cache)
assert isinstance(grads, tuple) and len(grads) == 5, "return (dE, dd, dW1, dW2, dv)."
dE, dd, dW1, dW2, dv = grads
grading.expect_close("dW1", dW1, np.array([[0.1067924708, -0.05682883911], [0.1023424007, -0.1655938616]]),
                     hint="dW1 = E.reshape(-1, H).T @ dkeys.reshape(-1, A), dkeys from the step's backward.")
grading.expect_close("dE[0] (read path plus keys path)", dE[0],
                     np.array([[0.4738594405, -0.05546820942], [-0.1443833642, -0.02432786836],
                               [0.5112684724, -0.2803005938]]),
                     hint="add dkeys @ W1.T to the step's dE: E feeds the keys too.")
rng = np.random.default_rng(2)
padding = np.arange(4)[None, :] < np.array([4, 2, 1])[:, None]
check_pair(functools.partial(additive_attention_forward, mask=padding), additive_attention_backward,
           {"E": rng.standard_normal((3, 4, 3)), "d": rng.standard_normal((3, 5)),
            "W1": 0.3 * rng.standard_normal((3, 4)), "W2": 0.3 * rng.standard_normal((5, 4)),
            "v": rng.standard_normal(4)}, tol=1e-7, context="additive attention")
print("ok: gradient check of dE, dd, dW1, dW2 and dv within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "additive_attention_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.additive_attention_backward", additive_attention_forward, additive_attention_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### 1.4 Neural Turing Machine: content addressing
#
# A Neural Turing Machine's controller reads from a memory $M$ of $R$ rows (locations) $m_1 \dots m_R$ of
# width $D$. To find a row by its content, it emits a **key** $k$ and a **strength** $s$, and the weighting
# over the locations is (lecture 003)
#
# $$w_i = \frac{e^{\hat w_i}}{\sum_j e^{\hat w_j}}, \qquad \hat w_i = \beta\, C(k, m_i), \qquad
# \beta = \log(1 + e^{s}), \qquad C(k, m_i) = \frac{k \cdot m_i}{\lVert k \rVert\, \lVert m_i \rVert} .$$
#
# The **cosine similarity** $C$ ignores the lengths of $k$ and $m_i$, so only directions matter, and it lies
# in $[-1, 1]$; the strength $\beta = \text{softplus}(s) > 0$ (we call the unconstrained $s$ `beta_hat`)
# sets how sharply the best match wins. Two numerical details:
#
# - the norms are $\lVert x \rVert = \sqrt{x \cdot x + \varepsilon}$ with $\varepsilon$ = `NTM_EPS`
#   $= 10^{-8}$, so an all-zero row or key gives $C = 0$ instead of $0/0$;
# - $\log(1 + e^{s})$ overflows for $s > 709$; write it as $\max(s, 0) + \log(1 + e^{-|s|})$ (`np.log1p`).
#
# **Exercise 1i.** `ntm_content_addressing_forward(M, k, beta_hat)` returns `(w, cache)`: `M (N, R, D)`,
# `k (N, D)`, `beta_hat (N,)`, `w (N, R)`. (A softmax without a mask: `masked_softmax(u)`.)

# %% nbgrader={"grade": false, "grade_id": "ntm_content_addressing_forward", "locked": false, "schema_version": 3, "solution": true}
def ntm_content_addressing_forward(M, k, beta_hat):
    """w = softmax(softplus(beta_hat) * cos(k, m_i)), norms sqrt(x . x + NTM_EPS).

    M: (N, R, D), k: (N, D), beta_hat: (N,). Returns (w (N, R), cache).
    """
    ### BEGIN SOLUTION a07.ntm_content_addressing_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ntm_content_addressing_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
M_check = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, -1.0]]])  # (1, 4, 3)
k_check = np.array([[1.0, 0.5, 0.0]])
result = ntm_content_addressing_forward(M_check, k_check, np.array([1.0]))
assert isinstance(result, tuple) and len(result) == 2, "return (w, cache)."
w, _ = result
grading.expect_shape("w", w, (1, 4), hint="one weight per memory row: (N, R).")
w_expected = np.array([[0.3402968411, 0.1891442257, 0.3654285476, 0.1051303856]])
grading.expect_close("w for beta_hat = 1", w, w_expected,
                     hint="beta = log(1 + e^1) = 1.3133; the cosines are (0.894, 0.447, 0.949, 0).")
w_long, _ = ntm_content_addressing_forward(M_check, 10 * k_check, np.array([1.0]))
grading.expect_close("w for the key 10 k", w_long, w_expected, hint="the cosine does not depend on the key's "
                     "length: divide k . m_i by both norms.")
w_weak, _ = ntm_content_addressing_forward(M_check, k_check, np.array([-30.0]))
grading.expect_close("w for beta_hat = -30 (strength ~1e-13)", w_weak, np.full((1, 4), 0.25),
                     hint="beta = softplus(beta_hat) is ~0 here, so every row gets the same weight.")
w_strong, _ = ntm_content_addressing_forward(M_check, k_check, np.array([1000.0]))
grading.expect_close("w for beta_hat = 1000", w_strong, np.array([[0.0, 0.0, 1.0, 0.0]]), atol=1e-9,
                     hint="a huge strength puts all the weight on the best match; compute softplus as "
                     "max(x, 0) + log1p(exp(-|x|)), which cannot overflow.")
M_zero = M_check.copy()
M_zero[0, 1] = 0.0  # an empty memory row
w_zero, _ = ntm_content_addressing_forward(M_zero, k_check, np.array([1.0]))
grading.expect_close("w with an all-zero memory row", w_zero,
                     np.array([[0.3715087149, 0.1147728974, 0.3989454903, 0.1147728974]]),
                     hint="with the norms sqrt(x . x + NTM_EPS), an all-zero row has cosine 0, not nan.")

# %% nbgrader={"grade": true, "grade_id": "ntm_content_addressing_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.ntm_content_addressing_forward", ntm_content_addressing_forward)
### END HIDDEN TESTS

# %% [markdown]
# The strength at work: one key against a memory of 8 random rows, for four strengths. **What to see:** at
# small $\beta$ the weighting is nearly uniform (the key is ignored), and as $\beta$ grows the weight
# concentrates on the row most similar to the key, while the ranking of the rows never changes.

# %%
rng = np.random.default_rng(5)
M_demo = rng.standard_normal((1, 8, 4))
k_demo = M_demo[:, 5] + 0.5 * rng.standard_normal((1, 4))  # a noisy copy of row 5
fig, ax = plt.subplots(figsize=(7, 3.2))
for i, beta_hat in enumerate([-3.0, 0.5, 3.0, 10.0]):
    w, _ = ntm_content_addressing_forward(M_demo, k_demo, np.array([beta_hat]))
    beta = np.log1p(np.exp(beta_hat))
    ax.bar(np.arange(8) + 0.2 * (i - 1.5), w[0], width=0.2, label=f"beta = {beta:.2f}")
ax.set_xlabel("memory row i (the key is a noisy copy of row 5)")
ax.set_ylabel("weight w_i")
ax.set_title("NTM content addressing: the strength sharpens the weighting")
ax.legend()
plt.show()


# %% [markdown]
# **Backward.** With $du = $ `softmax_backward(dw, w)` and $c_i = C(k, m_i)$: $d\beta = \sum_i du_i\, c_i$,
# $d\hat\beta = d\beta\, \sigma(\hat\beta)$ (the derivative of softplus is the sigmoid; use assignment 02's
# overflow-safe `sigmoid_forward`), $dc_i = \beta\, du_i$, and the derivatives of the cosine,
#
# $$\frac{\partial c_i}{\partial k} = \frac{m_i}{\lVert k \rVert \lVert m_i \rVert}
# - c_i \frac{k}{\lVert k \rVert^2}, \qquad
# \frac{\partial c_i}{\partial m_i} = \frac{k}{\lVert k \rVert \lVert m_i \rVert}
# - c_i \frac{m_i}{\lVert m_i \rVert^2},$$
#
# so $dk = \sum_i dc_i \,\partial c_i / \partial k$ and $dm_i = dc_i\, \partial c_i / \partial m_i$ (with the
# $\varepsilon$-norms of the forward pass, these are exact).
#
# **Exercise 1j.** `ntm_content_addressing_backward(dw, cache)` returns `(dM, dk, dbeta_hat)`.

# %% nbgrader={"grade": false, "grade_id": "ntm_content_addressing_backward", "locked": false, "schema_version": 3, "solution": true}
def ntm_content_addressing_backward(dw, cache):
    """dw: (N, R). Returns dM (N, R, D), dk (N, D), dbeta_hat (N,)."""
    ### BEGIN SOLUTION a07.ntm_content_addressing_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ntm_content_addressing_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
M_check = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, -1.0]]])  # (1, 4, 3)
k_check = np.array([[1.0, 0.5, 0.0]])
_, cache = ntm_content_addressing_forward(M_check, k_check, np.array([1.0]))
grads = ntm_content_addressing_backward(np.array([[1.0, -0.5, 0.25, 0.0]]), cache)
assert isinstance(grads, tuple) and len(grads) == 3, "return (dM, dk, dbeta_hat)."
dM, dk, dbeta_hat = grads
grading.expect_close("dbeta_hat", dbeta_hat, np.array([0.07367369068]),
                     hint="dbeta = sum_i du_i cos_i with du = softmax_backward(dw, w); then times "
                     "sigmoid(beta_hat).")
grading.expect_close("dk", dk, np.array([[0.1326727607, -0.2653455192, 0.04162554279]]),
                     hint="dk = sum_i dcos_i (m_i / (|k||m_i|) - cos_i k / |k|^2), dcos = beta du.")
grading.expect_close("dM[0, 3]", dM[0, 3], np.array([-0.04162554279, -0.02081277139, 0.0]),
                     hint="dm_i = dcos_i (k / (|k||m_i|) - cos_i m_i / |m_i|^2).")
rng = np.random.default_rng(4)
check_pair(ntm_content_addressing_forward, ntm_content_addressing_backward,
           {"M": rng.standard_normal((3, 5, 3)), "k": rng.standard_normal((3, 3)),
            "beta_hat": np.array([1.0, 2.0, 3.0])}, tol=1e-7, context="NTM content addressing")
print("ok: gradient check of dM, dk and dbeta_hat within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "ntm_content_addressing_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.ntm_content_addressing_backward", ntm_content_addressing_forward, ntm_content_addressing_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### 1.5 Scaled dot-product self-attention
#
# In self-attention (lecture 004; Vaswani et al. 2017) a sequence attends to **itself**: every position
# $i$ emits a query, a key and a value, $Q = X W_q$, $K = X W_k$, $V = X W_v$, and its output is the
# average of the values of the positions it may see, weighted by query-key similarity:
#
# $$S = \frac{Q K^\top}{\sqrt{d_k}}, \qquad A = \text{softmax}(S + \text{mask}), \qquad \text{out} = A V,$$
#
# with the softmax over the keys (the last axis) and the mask's entries 0 (keep) or $-\infty$. $A$ is
# `(N, T, T)`: row $i$ says how much query $i$ reads from each key $j$. Dividing by $\sqrt{d_k}$ keeps the
# scores' variance near 1 as $d_k$ grows (a sum of $d_k$ products of unit-variance numbers has variance
# $d_k$), so the softmax does not saturate.
#
# Two masks, combined by the given `self_attention_mask(key_mask, causal, T)` into one boolean keep array
# of shape `(N or 1, T, T)` (or None): a **causal** mask lets query $i$ see only keys $j \le i$ (a decoder
# must not read the future), and a **key mask** `(N, T)` hides padding positions from every query.
#
# **Exercise 1k.** `self_attention_forward(X, Wq, Wk, Wv, key_mask=None, causal=False)` returns `(out, A,
# cache)`: `X (N, T, D)`, `Wq, Wk (D, dk)`, `Wv (D, dv)`, `out (N, T, dv)`, `A (N, T, T)`. Batched
# transposes are `.transpose(0, 2, 1)`.

# %% nbgrader={"grade": false, "grade_id": "self_attention_forward", "locked": false, "schema_version": 3, "solution": true}
def self_attention_forward(X, Wq, Wk, Wv, key_mask=None, causal=False):
    """out = softmax(Q K^T / sqrt(dk) + mask) V with Q, K, V = X Wq, X Wk, X Wv.

    X: (N, T, D), Wq, Wk: (D, dk), Wv: (D, dv), key_mask: (N, T) bool or None.
    Returns (out (N, T, dv), A (N, T, T), cache).
    """
    ### BEGIN SOLUTION a07.self_attention_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "self_attention_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
X_check = np.linspace(-1.0, 1.0, 12).reshape(2, 3, 2)  # (N, T, D) = (2, 3, 2)
Wq_check = np.array([[1.0, 0.5], [-0.5, 1.0]])
Wk_check = np.array([[0.5, -1.0], [1.0, 0.0]])
Wv_check = np.array([[1.0, 0.0], [0.5, -1.0]])
mask_check = np.array([[True, True, True], [True, True, False]])
result = self_attention_forward(X_check, Wq_check, Wk_check, Wv_check)
assert isinstance(result, tuple) and len(result) == 3, "return (out, A, cache)."
out, A, _ = result
grading.expect_shape("out", out, (2, 3, 2), hint="one value-sized output per position: (N, T, dv).")
grading.expect_shape("A", A, (2, 3, 3), hint="one weight per (query, key) pair: (N, T, T).")
grading.expect_close("A[0]", A[0], np.array([[0.2970808857, 0.3319677217, 0.3709513926],
                                             [0.3197943938, 0.3331474796, 0.3470581266],
                                             [0.3431191319, 0.3332384906, 0.3236423775]]),
                     hint="S = Q @ K.transpose(0, 2, 1) / sqrt(dk), dk = Wq.shape[1], softmax over the keys "
                     "(last axis).")
grading.expect_close("out[0]", out[0], np.array([[-0.8233433599, 0.4276834521], [-0.8487652367, 0.4446313699],
                                                 [-0.8742600478, 0.4616279107]]),
                     hint="out = A @ V, V = X @ Wv.")
out_causal, A_causal, _ = self_attention_forward(X_check, Wq_check, Wk_check, Wv_check, causal=True)
grading.expect_close("A[0] with causal=True", np.triu(A_causal[0], k=1), np.zeros((3, 3)),
                     hint="query i must not see keys j > i: build the mask with self_attention_mask.")
grading.expect_close("out[:, 0] with causal=True", out_causal[:, 0], X_check[:, 0] @ Wv_check,
                     hint="the first position sees only itself, so its output is its own value.")
grading.expect_close("out[0] with causal=True", out_causal[0],
                     np.array([[-1.409090909, 0.8181818182], [-1.130786186, 0.6326453363],
                               [-0.8742600478, 0.4616279107]]), hint="the last position sees every key.")
_, A_padded, _ = self_attention_forward(X_check, Wq_check, Wk_check, Wv_check, key_mask=mask_check)
grading.expect_close("A[1] with row 1's last key masked", A_padded[1],
                     np.array([[0.5248159884, 0.4751840116, 0.0], [0.5422668555, 0.4577331445, 0.0],
                               [0.5596146211, 0.4403853789, 0.0]]),
                     hint="a padded key is hidden from every query: column 2 of row 1 is zero.")

# %% nbgrader={"grade": true, "grade_id": "self_attention_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.self_attention_forward", self_attention_forward)
### END HIDDEN TESTS

# %% [markdown]
# The weights $A$ of one random sequence of 6 positions, the last two of them padding, under the three
# masks. **What to see:** without a mask every query reads every key; the causal mask keeps the lower
# triangle (the future is hidden); the key mask blanks the padded columns for every query, padded queries
# included (their outputs are ignored later).

# %%
rng = np.random.default_rng(6)
X_demo, W_demo = rng.standard_normal((1, 6, 4)), rng.standard_normal((3, 4, 4))
lengths_demo = np.arange(6)[None, :] < 4  # (1, 6): 4 real positions, 2 padded
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
for ax, (title, key_mask, causal) in zip(axes, [("no mask", None, False), ("causal", None, True),
                                                ("causal + key mask (2 padded)", lengths_demo, True)]):
    _, A_demo, _ = self_attention_forward(X_demo, *W_demo, key_mask=key_mask, causal=causal)
    image = ax.imshow(A_demo[0], cmap="viridis", vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_xlabel("key position j")
    ax.set_ylabel("query position i")
fig.colorbar(image, ax=axes, label="weight A[i, j]")
plt.show()


# %% [markdown]
# **Backward.** $X$ is used three times, so $dX$ sums three paths:
#
# $$dV = A^\top \text{dout}, \quad dA = \text{dout}\, V^\top \,(+\, dA_{\text{upstream}}), \quad
# dS = \frac{\texttt{softmax\_backward}(dA, A)}{\sqrt{d_k}}, \quad dQ = dS\, K, \quad dK = dS^\top Q,$$
#
# $$dW_q = X^\top dQ, \quad dW_k = X^\top dK, \quad dW_v = X^\top dV, \quad
# dX = dQ\, W_q^\top + dK\, W_k^\top + dV\, W_v^\top$$
#
# (the transposes of $A$ and $dS$ are per sequence; for the weights' gradients, reshape to `(N T, .)`
# first).
#
# **Exercise 1l.** `self_attention_backward(dout, dA, cache)` returns `(dX, dWq, dWk, dWv)`.

# %% nbgrader={"grade": false, "grade_id": "self_attention_backward", "locked": false, "schema_version": 3, "solution": true}
def self_attention_backward(dout, dA, cache):
    """dout: (N, T, dv); dA: (N, T, T) or None. Returns dX (N, T, D), dWq, dWk (D, dk), dWv (D, dv)."""
    ### BEGIN SOLUTION a07.self_attention_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "self_attention_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
X_check = np.linspace(-1.0, 1.0, 12).reshape(2, 3, 2)
Wq_check = np.array([[1.0, 0.5], [-0.5, 1.0]])
Wk_check = np.array([[0.5, -1.0], [1.0, 0.0]])
Wv_check = np.array([[1.0, 0.0], [0.5, -1.0]])
dout_check = np.array([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]], [[0.5, 0.5], [1.0, -1.0], [0.0, 2.0]]])
_, A, cache = self_attention_forward(X_check, Wq_check, Wk_check, Wv_check)
grads = self_attention_backward(dout_check, None, cache)
assert isinstance(grads, tuple) and len(grads) == 4, "return (dX, dWq, dWk, dWv)."
dX, dWq, dWk, dWv = grads
grading.expect_close("dWv", dWv, np.array([[0.6628518719, -0.3525588601], [0.9355791447, 0.1928956853]]),
                     hint="dV = A^T dout (per sequence), dWv = X^T dV summed over the batch.")
grading.expect_close("dWq", dWq, np.array([[-0.07080544517, 0.04720363011], [-0.08335232941, 0.0555682196]]),
                     hint="dS = softmax_backward(dout @ V^T, A) / sqrt(dk), dQ = dS @ K, dWq = X^T dQ.")
grading.expect_close("dWk", dWk,
                     np.array([[-0.01941952031, -0.07917003466], [-0.01941952031, -0.07917003466]]),
                     hint="dK = dS^T @ Q (transpose the last two axes of dS), dWk = X^T dK.")
grading.expect_close("dX[0]", dX[0],
                     np.array([[-0.01129814514, -0.678165318], [-0.07227865043, -0.3860158584],
                               [-0.01039340863, -0.2713709663]]),
                     hint="X feeds Q, K and V: dX = dQ Wq^T + dK Wk^T + dV Wv^T.")
rng = np.random.default_rng(8)
padding = np.arange(4)[None, :] < np.array([4, 2, 1])[:, None]
check_pair(functools.partial(self_attention_forward, key_mask=padding, causal=True), self_attention_backward,
           {"X": rng.standard_normal((3, 4, 4)), "Wq": rng.standard_normal((4, 3)),
            "Wk": rng.standard_normal((4, 3)), "Wv": rng.standard_normal((4, 5))},
           tol=1e-7, context="causal self-attention with padding")
print("ok: gradient check of dX, dWq, dWk and dWv within relative error 1e-7 of central differences")

# %% nbgrader={"grade": true, "grade_id": "self_attention_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs and
# gradient-checks it.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.self_attention_backward", self_attention_forward, self_attention_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The attention encoder-decoder
#
# The model (`course.models.seq2seq`; lecture 003, "sequence to sequence"):
#
# - **encoder**: source embeddings, then an LSTM from a zero state, giving $e_1 \dots e_{T_s}$ `(N, Ts, H)`;
#   the attention keys $W_1 e_j$ are computed here, once per batch. Given: `encode(params, src, src_mask)`
#   returns `(enc, h_last, keys, enc_cache)`, where `h_last (N, H)` is each row's state at its last real
#   character and `enc_cache = (src_emb_cache, enc_lstm_cache, last)` (`last (N,)`: those positions).
# - **decoder**, starting from $d_0$ = `h_last` and a zero cell; at step $t$:
#
#   1. attend with the previous state: $c_t, a_t$ = your `additive_attention_step_forward(enc, keys,
#      d_{t-1}, att_W2, att_v, src_mask)`;
#   2. read the previous token and the context: $d_t$ = `lstm_step_forward([emb(y_{t-1}), c_t], d_{t-1})`
#      (assignment 06, with `dec_Wx (E + H, 4H)`, `dec_Wh`, `dec_b`);
#   3. score the next token: $\text{logits}_t = [d_t, c_t]\, W_{\text{out}} + b_{\text{out}}$.
#
# **Teacher forcing.** Training maximises $\log P(y \mid x) = \sum_t \log P(y_t \mid y_{<t}, x)$ with the
# *true* previous token fed in: the decoder's inputs `tgt_in` are the target shifted right behind the start
# token `<s>`, and what it must predict, `tgt_out`, is the target followed by the end token `</s>`:
#
# | step $t$ | 0 | 1 | 2 | 3 |
# | --- | --- | --- | --- | --- |
# | `tgt_in` (fed in) | `<s>` | 2 | 7 | 1 |
# | `tgt_out` (predicted) | 2 | 7 | 1 | `</s>` |
#
# So all $T_t$ steps of the loss are computed in one pass, with no decoding, and the loss is assignment 06's
# `temporal_softmax_loss` (masked at padding). At inference there is no true previous token: the model must
# feed its own choices back (section 3).
#
# The parameters are a dict (`init_seq2seq_params`): `src_embed (Vs, E)`, `tgt_embed (Vt, E)`, `enc_Wx`,
# `enc_Wh`, `enc_b`, `att_W1 (H, A)`, `att_W2 (H, A)`, `att_v (A,)`, `dec_Wx (E + H, 4H)`, `dec_Wh (H, 4H)`,
# `dec_b (4H,)`, `out_W (2H, Vt)`, `out_b (Vt,)`. The tests use a tiny model in float64 (source vocabulary
# 6, target vocabulary 5, E = 3, H = 4, A = 3) and a batch of two sources, one of them padded:

# %%
params_check = init_seq2seq_params(6, 5, embed_dim=3, hidden_dim=4, attn_dim=3, rng=np.random.default_rng(0),
                                   dtype=np.float64)
for name in ("att_W1", "att_W2", "att_v"):
    params_check[name] *= 3  # sharper attention at initialisation, so that it matters in the tests
src_check = np.array([[3, 4, PAD], [5, 4, 3]])  # (N, Ts): row 0 has 2 real characters, row 1 has 3
tgt_in_check = np.array([[SOS, 3, 4], [SOS, 4, PAD]])  # (N, Tt)
tgt_out_check = np.array([[3, 4, EOS], [4, EOS, PAD]])
enc_check, h_last_check, keys_check, _ = encode(params_check, src_check, src_check != PAD)
print("enc", enc_check.shape, "h_last", h_last_check.shape, "keys", keys_check.shape)


def check_scalar_gradients(f, arrays, analytic, tol, context):
    """Centred differences of the scalar f() with respect to each array (perturbed in place) vs `analytic`.

    Asserts max |analytic - numeric| / max |numeric| < tol for every array: the error relative to the
    gradient's largest entry, since some entries of these gradients are tiny sums of cancelling terms.
    """
    for name, x in arrays.items():
        numeric = numerical_gradient(f, x)
        error = np.abs(analytic[name] - numeric).max() / np.abs(numeric).max()
        assert error < tol, (f"d{name} in {context}: the error {error:.1e} (relative to the largest entry) "
                             f"exceeds {tol:.0e}; central differences give {numeric.ravel()[:4]} ...")


# %% [markdown]
# **Exercise 2a.** `decoder_step_forward(y_emb, prev_h, prev_c, enc, keys, src_mask, params)` performs steps
# 1 and 2 above and returns `(h, c, context, a, cache)`: `y_emb (N, E)` the embedding of the previous token,
# `prev_h, prev_c (N, H)`, `h, c, context (N, H)`, `a (N, Ts)`.

# %% nbgrader={"grade": false, "grade_id": "decoder_step_forward", "locked": false, "schema_version": 3, "solution": true}
def decoder_step_forward(y_emb, prev_h, prev_c, enc, keys, src_mask, params):
    """Attend with prev_h, then d_t = LSTM([y_emb, context], d_{t-1}).

    y_emb: (N, E); prev_h, prev_c: (N, H); enc: (N, Ts, H); keys: (N, Ts, A); src_mask: (N, Ts) bool;
    params: uses att_W2, att_v, dec_Wx, dec_Wh, dec_b. Returns (h, c, context, a, cache).
    """
    ### BEGIN SOLUTION a07.decoder_step_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "decoder_step_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
y_emb_check = params_check["tgt_embed"][[SOS, SOS]]  # (N, E): step 0 reads the start token
result = decoder_step_forward(y_emb_check, h_last_check, np.zeros((2, 4)), enc_check, keys_check,
                              src_check != PAD, params_check)
assert isinstance(result, tuple) and len(result) == 5, "return (h, c, context, a, cache)."
h, c, context, a, _ = result
grading.expect_shape("h", h, (2, 4), hint="the new decoder state d_t: (N, H).")
grading.expect_shape("a", a, (2, 3), hint="one weight per source position: (N, Ts).")
grading.expect_close("a[0, 2] (a padded source position)", a[0, 2], 0.0, atol=0,
                     hint="pass src_mask to the attention.")
grading.expect_close("a", a,
                     np.array([[0.4832688033, 0.5167311967, 0.0],
                               [0.2622548345, 0.3390643709, 0.3986807945]]),
                     hint="attend with the previous state prev_h as the query d (not with the new h).")
grading.expect_close("context", context, np.einsum("nt,nth->nh", a, enc_check),
                     hint="the context is the attention read of enc with the weights a.")
grading.expect_close("h", h, np.array([[0.02278479695, 0.166508679, 0.07574804014, 0.1337497904],
                                       [0.02526499844, 0.1841880763, 0.004048656908, 0.1510963433]]),
                     hint="the LSTM input is np.concatenate([y_emb, context], axis=1), (N, E + H), in that "
                     "order.")

# %% nbgrader={"grade": true, "grade_id": "decoder_step_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.decoder_step_forward", decoder_step_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Backward of one step.** Two variables are used twice: the context feeds the output layer *and* the LSTM
# input, and $d_{t-1}$ is the LSTM's previous state *and* the attention query. So
#
# - run `lstm_step_backward(dh, dc, lstm_cache)` first; split its `dx (N, E + H)` into `dy_emb = dx[:, :E]`
#   and a context part, and add that part to the `dcontext` coming from the output layer;
# - then the attention step's backward with that total (`da = None`: nothing else reads the weights), and
#   add its `dd` (the query's gradient) to the LSTM's `dprev_h`.
#
# **Exercise 2b.** `decoder_step_backward(dh, dc, dcontext, cache)` returns `(dy_emb, dprev_h, dprev_c,
# denc, dkeys, grads)`: `denc (N, Ts, H)` through the read only, `dkeys (N, Ts, A)`, and `grads` a dict with
# the gradients of `att_W2`, `att_v`, `dec_Wx`, `dec_Wh`, `dec_b`.

# %% nbgrader={"grade": false, "grade_id": "decoder_step_backward", "locked": false, "schema_version": 3, "solution": true}
def decoder_step_backward(dh, dc, dcontext, cache):
    """dh, dc: (N, H) on the new state; dcontext: (N, H) from the output layer.

    Returns dy_emb (N, E), dprev_h (N, H), dprev_c (N, H), denc (N, Ts, H), dkeys (N, Ts, A), grads (dict).
    """
    ### BEGIN SOLUTION a07.decoder_step_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "decoder_step_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
y_emb_check = params_check["tgt_embed"][[SOS, SOS]]
prev_c_check = 0.5 * np.random.default_rng(2).standard_normal((2, 4))
dh_check, dc_check, dcontext_check = np.random.default_rng(1).standard_normal((3, 2, 4))
_, _, _, _, cache = decoder_step_forward(y_emb_check, h_last_check, np.zeros((2, 4)), enc_check, keys_check,
                                         src_check != PAD, params_check)
result = decoder_step_backward(dh_check, dc_check, dcontext_check, cache)
assert isinstance(result, tuple) and len(result) == 6, (
    "return (dy_emb, dprev_h, dprev_c, denc, dkeys, grads).")
dy_emb, dprev_h, _, _, _, grads = result
assert isinstance(grads, dict), "the last output is a dict of parameter gradients."
grading.expect_equal("the keys of grads", sorted(grads), ["att_W2", "att_v", "dec_Wh", "dec_Wx", "dec_b"],
                     hint="one gradient per parameter the step uses.")
grading.expect_close("dy_emb", dy_emb, np.array([[-0.03106834452, -0.2943941464, -0.1040986343],
                                                 [0.2004060613, 0.3634970806, 0.3213491179]]),
                     hint="dy_emb is the first E columns of the LSTM's dx.")
grading.expect_close("dprev_h", dprev_h,
                     np.array([[0.1176504706, 0.07845034606, -0.1660692013, -0.3002465433],
                               [-0.14838071, -0.6371454711, 0.08186958605, 0.2695521192]]),
                     hint="prev_h was also the attention query: add the attention's dd to the LSTM's "
                     "dprev_h, and add the LSTM's context gradient dx[:, E:] to dcontext before the "
                     "attention backward.")
# Gradient check (float64) of the scalar sum(h dh) + sum(c dc) + sum(context dcontext) with respect to every
# input and parameter of the step, with a non-zero initial cell; threshold 1e-6 on the error relative to
# each gradient's largest entry (a correct step gives ~1e-9, a wrong term ~1).
inputs = {"y_emb": y_emb_check, "prev_h": h_last_check.copy(), "prev_c": prev_c_check,
          "enc": enc_check.copy(), "keys": keys_check.copy(), **{name: params_check[name] for name in grads}}


def step_objective():
    h, c, context, _, _ = decoder_step_forward(inputs["y_emb"], inputs["prev_h"], inputs["prev_c"],
                                               inputs["enc"], inputs["keys"], src_check != PAD, params_check)
    return float((h * dh_check).sum() + (c * dc_check).sum() + (context * dcontext_check).sum())


_, _, _, _, cache = decoder_step_forward(inputs["y_emb"], inputs["prev_h"], inputs["prev_c"], inputs["enc"],
                                         inputs["keys"], src_check != PAD, params_check)
names = ("y_emb", "prev_h", "prev_c", "enc", "keys")
*step_grads, param_grads = decoder_step_backward(dh_check, dc_check, dcontext_check, cache)
check_scalar_gradients(step_objective, inputs, {**dict(zip(names, step_grads)), **param_grads}, tol=1e-6,
                       context="decoder_step_backward")
print("ok: gradient check of every input and parameter of the step within 1e-6 of central differences")

# %% nbgrader={"grade": true, "grade_id": "decoder_step_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.decoder_step_backward", decoder_step_forward, decoder_step_backward)
### END HIDDEN TESTS

# %% [markdown]
# **The teacher-forced pass.** Encode the batch, embed `tgt_in` once (`word_embedding_forward`, `(N, Tt, E)`),
# run your decoder step for $t = 0, \dots, T_t - 1$ from $d_0$ = `h_last` and a zero cell, keeping each
# step's $[d_t, c_t]$ `(N, 2H)` and weights $a_t$, and compute all the logits after the loop with one
# `temporal_affine_forward([d, c], out_W, out_b)` (assignment 06).
#
# **Exercise 2c.** `seq2seq_forward(params, src, src_mask, tgt_in)` returns `(logits, attn, cache)`:
# `logits (N, Tt, Vt)`, `attn (N, Tt, Ts)` (row $t$: where step $t$ looked).

# %% nbgrader={"grade": false, "grade_id": "seq2seq_forward", "locked": false, "schema_version": 3, "solution": true}
def seq2seq_forward(params, src, src_mask, tgt_in):
    """Teacher-forced pass. src, src_mask: (N, Ts); tgt_in: (N, Tt).

    Returns logits (N, Tt, Vt), attn (N, Tt, Ts), cache.
    """
    ### BEGIN SOLUTION a07.seq2seq_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "seq2seq_forward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
result = seq2seq_forward(params_check, src_check, src_check != PAD, tgt_in_check)
assert isinstance(result, tuple) and len(result) == 3, "return (logits, attn, cache)."
logits, attn, _ = result
grading.expect_shape("logits", logits, (2, 3, 5), hint="scores of the next token at every step: (N, Tt, Vt).")
grading.expect_shape("attn", attn, (2, 3, 3), hint="one weight row per step: (N, Tt, Ts).")
grading.expect_close("attn[0, :, 2] (row 0's padding)", attn[0, :, 2], np.zeros(3), atol=0,
                     hint="every step attends with src_mask.")
grading.expect_close("logits[:, 0] (step 0)", logits[:, 0],
                     np.array([[-0.1044923374, 0.1505635744, 0.03337394831, 0.2105583526, 0.1041080588],
                               [-0.1607715303, 0.1452124756, 0.07999476028, 0.1520876712, 0.0699701663]]),
                     hint="start from d_0 = h_last and a zero cell; logits_t = [d_t, c_t] @ out_W + out_b.")
grading.expect_close("attn[1]", attn[1], np.array([[0.2622548345, 0.3390643709, 0.3986807945],
                                                   [0.2031010772, 0.4528674515, 0.3440314713],
                                                   [0.2432459263, 0.3698538473, 0.3869002264]]),
                     hint="carry h and c from step to step; step t reads tgt_in[:, t].")
changed = tgt_in_check.copy()
changed[:, 2] = 2
logits_changed, _, _ = seq2seq_forward(params_check, src_check, src_check != PAD, changed)
grading.expect_close("logits[:, :2] after changing tgt_in[:, 2]", logits_changed[:, :2], logits[:, :2],
                     hint="teacher forcing: the scores at step t depend on tgt_in[:, :t + 1] only.")

# %% nbgrader={"grade": true, "grade_id": "seq2seq_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.seq2seq_forward", seq2seq_forward)
### END HIDDEN TESTS

# %% [markdown]
# **Backpropagation through the decoder, the attention and the encoder.** Walk the steps backwards. The
# gradient reaching $d_t$ is the output layer's (the first H columns of `temporal_affine_backward`'s
# `dx`) plus what step $t + 1$ sends back as its `dprev_h`; the cell's gradient comes only from step $t + 1$.
# Every step reads `enc` and `keys`: sum their gradients over the steps. After the loop:
#
# 1. the decoder's initial state was the encoder's state at each row's last real character: add the final
#    `dprev_h` to `denc[n, last[n]]`;
# 2. `keys = enc @ att_W1`: `grads["att_W1"] = enc^T dkeys` (reshaped to `(N Ts, .)`) and
#    `denc += dkeys @ att_W1.T`;
# 3. `lstm_backward(denc, enc_lstm_cache)` (assignment 06) gives `(dxs, dh0, dWx, dWh, db)` of the encoder,
#    and `word_embedding_backward` the two embedding tables' gradients.
#
# **Exercise 2d.** `seq2seq_backward(dlogits, cache)` returns a dict with one gradient per parameter (same
# names and shapes as `params`).

# %% nbgrader={"grade": false, "grade_id": "seq2seq_backward", "locked": false, "schema_version": 3, "solution": true}
def seq2seq_backward(dlogits, cache):
    """dlogits: (N, Tt, Vt). Returns {parameter name: gradient}, every parameter of params."""
    ### BEGIN SOLUTION a07.seq2seq_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "seq2seq_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
logits, _, cache = seq2seq_forward(params_check, src_check, src_check != PAD, tgt_in_check)
_, dlogits = temporal_softmax_loss(logits, tgt_out_check, tgt_out_check != PAD)
grads = seq2seq_backward(dlogits, cache)
assert isinstance(grads, dict), "return a dict {parameter name: gradient}."
grading.expect_equal("the keys of grads", sorted(grads), sorted(params_check),
                     hint="one gradient for every parameter, named as in params.")
grading.expect_close("grads['out_b']", grads["out_b"],
                     np.array([0.425921589, 0.5246248253, -0.5369350272, 0.08114913212, -0.4947605193]),
                     hint="temporal_affine_backward of the output layer gives dout_W and dout_b.")
grading.expect_close("grads['att_v']", grads["att_v"],
                     np.array([-0.0003802618599, 0.002278750632, -0.001084225599]),
                     hint="sum each step's attention gradients over the steps.")


# Gradient check (float64) of the whole loss with respect to every entry of every parameter; threshold 1e-6
# on the error relative to each gradient's largest entry (the loss is ~4, so the centred difference carries
# ~1e-10 of round-off; a wrong term gives errors of the order of the gradient itself).
def loss_check():
    logits, _, _ = seq2seq_forward(params_check, src_check, src_check != PAD, tgt_in_check)
    return temporal_softmax_loss(logits, tgt_out_check, tgt_out_check != PAD)[0]


check_scalar_gradients(loss_check, params_check, grads, tol=1e-6, context="seq2seq_backward")
print("ok: gradient check of every parameter of the model within 1e-6 of central differences")

# %% nbgrader={"grade": true, "grade_id": "seq2seq_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your pair with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.seq2seq_backward", seq2seq_forward, seq2seq_backward)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Decoding: from a model to an output
#
# Training fits $P(y \mid x)$; inference wants the most probable output,
#
# $$y^* = \arg\max_{y} P(y \mid x) = \arg\max_{y_1 \dots y_{T'}} \sum_t \log P(y_t \mid y_{<t}, x),$$
#
# and there are $V^{T'}$ candidates, far too many to enumerate. The decoders below work with any model
# through a **step function** `step_fn(prev_tokens, state) -> (log_probs, new_state)`: `prev_tokens (B,)`
# the token each row emitted last (the start token at first), `state` whatever the model carries (a tuple
# of arrays whose first axis is the B rows, or None), `log_probs (B, V)` the log-probabilities of the next
# token. The decoders never look inside the state except to reorder its rows with the given
# `reorder_state(state, index)` and `repeat_state(state, k)`; they check each step's output and bring it to
# NumPy float64 with the given `host_log_probs(name, log_probs, B)`.
#
# Once a row emits the **end token** it is finished: its later tokens are the end token again and add
# nothing to its score (an end token of `None` means every row runs `max_len` steps).
#
# Two toy models to test decoders on. `greedy_trap` is a Markov chain on tokens `START, END, A, B`: the
# first token is A (0.6) or B (0.4); after A the chain ends with probability 0.4, after B with 0.9. The
# greedy choice A gives at best $0.6 \cdot 0.4 = 0.24$, while B then END has $0.4 \cdot 0.9 = 0.36$: a
# decoder that looks one step ahead falls into the trap. `ToyRNN` is a fixed random recurrent model, a
# stand-in for a trained decoder.

# %%
START, END, A, B = 0, 1, 2, 3  # the token ids of the toy models


def markov_step(table, V=4):
    """A step function whose next-token distribution depends only on the previous token (no state)."""
    log_table = np.full((V, V), -np.inf)
    for prev, dist in table.items():
        for token, p in dist.items():
            log_table[prev, token] = np.log(p)
    return lambda prev_tokens, state: (log_table[prev_tokens], state)


greedy_trap = markov_step({START: {A: 0.6, B: 0.4}, A: {END: 0.4, A: 0.3, B: 0.3},
                           B: {END: 0.9, A: 0.05, B: 0.05}, END: {END: 1.0}})


class ToyRNN:
    """A fixed random recurrent model over V tokens: h' = tanh(h W + U[prev]), log P = log_softmax(h' O)."""

    def __init__(self, seed, V=4, H=5):
        rng = np.random.default_rng(seed)
        self.W, self.U = rng.standard_normal((H, H)), rng.standard_normal((V, H))
        self.O = 2 * rng.standard_normal((H, V))

    def __call__(self, prev_tokens, h):
        h = np.tanh(h @ self.W + self.U[prev_tokens])  # (B, H)
        return log_softmax(h @ self.O, axis=1), h


toy = ToyRNN(0)
h0_toy = np.random.default_rng(100).standard_normal((3, 5))  # three rows (sequences)
print("log P(first token) of row 0:", np.round(toy(np.full(3, START), h0_toy)[0][0], 3))


# %% [markdown]
# ### 3.1 Greedy decoding
#
# Take the most probable token at every step, $y_t = \arg\max_v \log P(v \mid y_{<t}, x)$, and feed it back.
# Keep for each row its tokens, its score (the sum of the log-probabilities of its tokens, up to and
# including its end token) and whether it is finished; stop early once every row is.
#
# **Exercise 3a.** `greedy_decode(step_fn, state, start_token, max_len, n, end_token=None)` returns
# `(tokens, scores)`: `tokens (n, max_len)` int64 (after a row's end token, the end token repeats, also in
# the positions never reached when every row finished early), `scores (n,)`.

# %% nbgrader={"grade": false, "grade_id": "greedy_decode", "locked": false, "schema_version": 3, "solution": true}
def greedy_decode(step_fn, state, start_token, max_len, n, end_token=None):
    """y_t = argmax log P(. | y_<t), for n rows at once. Returns tokens (n, max_len) int64, scores (n,)."""
    ### BEGIN SOLUTION a07.greedy_decode
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "greedy_decode_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
result = greedy_decode(greedy_trap, None, START, max_len=4, n=1, end_token=END)
assert isinstance(result, tuple) and len(result) == 2, "return (tokens, scores)."
tokens, scores = result
grading.expect_shape("tokens", tokens, (1, 4), hint="(n, max_len).")
grading.expect_equal("greedy tokens on the trap", tokens[0].tolist(), [A, END, END, END],
                     hint="A is the argmax at step 0, then END; after the end token, the end token repeats.")
grading.expect_close("greedy score on the trap", scores, np.array([np.log(0.6 * 0.4)]),
                     hint="the score sums log P of the tokens up to and including the end token.")
tokens, scores = greedy_decode(toy, h0_toy, START, max_len=5, n=3, end_token=END)
grading.expect_equal("greedy tokens of the toy RNN", tokens.tolist(),
                     [[2, 2, 1, 1, 1], [0, 2, 2, 2, 1], [2, 1, 1, 1, 1]],
                     hint="feed each row's own choice back as prev_tokens, and the state returned by "
                     "step_fn.")
grading.expect_close("greedy scores of the toy RNN", scores,
                     np.array([-0.80294284, -2.21315636, -0.634539582]),
                     hint="a finished row adds nothing to its score.")
tokens, _ = greedy_decode(toy, h0_toy, START, max_len=5, n=3)
grading.expect_equal("greedy tokens with end_token=None", tokens.tolist(),
                     [[2, 2, 1, 0, 1], [0, 2, 2, 2, 1], [2, 1, 0, 1, 0]],
                     hint="without an end token every row runs max_len steps.")

# %% nbgrader={"grade": true, "grade_id": "greedy_decode_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random models.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.greedy_decode", greedy_decode)
### END HIDDEN TESTS

# %% [markdown]
# ### 3.2 Sampling
#
# Instead of the argmax, draw the next token from the model, $y_t \sim \text{softmax}(\log P(\cdot \mid
# y_{<t}, x) / \tau)$ (lecture 003, "softmax sampling"). The temperature $\tau < 1$ sharpens the
# distribution (towards greedy), $\tau > 1$ flattens it. Sampling gives varied outputs, which greedy and beam
# search never do.
#
# Draw by inverting the cumulative distribution, so that a seeded generator gives the same samples
# everywhere: at **every** step, draw `u = rng.random(n)` (one uniform per row, finished rows included) and
# pick for each row the first token whose cumulative probability `p.cumsum(axis=1)` exceeds its `u`, i.e.
# the number of entries of the cumulative sum below `u` (clipped to $V - 1$, in case round-off leaves the
# total just under 1). The scores are the model's log-probabilities of the drawn tokens (at temperature 1).
#
# **Exercise 3b.** `sample_decode(step_fn, state, start_token, max_len, n, rng, end_token=None,
# temperature=1.0)` returns `(tokens, scores)` as `greedy_decode`.

# %% nbgrader={"grade": false, "grade_id": "sample_decode", "locked": false, "schema_version": 3, "solution": true}
def sample_decode(step_fn, state, start_token, max_len, n, rng, end_token=None, temperature=1.0):
    """y_t ~ softmax(log P(. | y_<t) / temperature), one rng.random(n) per step. Returns (tokens, scores)."""
    ### BEGIN SOLUTION a07.sample_decode
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sample_decode_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
result = sample_decode(greedy_trap, None, START, max_len=3, n=4000, rng=np.random.default_rng(0),
                       end_token=END)
assert isinstance(result, tuple) and len(result) == 2, "return (tokens, scores)."
tokens, scores = result
grading.expect_shape("tokens", tokens, (4000, 3), hint="(n, max_len).")
grading.expect_equal("the first 4 samples", tokens[:4].tolist(),
                     [[B, END, END], [A, A, B], [A, A, B], [A, B, END]],
                     hint="one u = rng.random(n) per step; the token is "
                     "(p.cumsum(axis=1) < u[:, None]).sum(axis=1).")
share_a = float(np.mean(tokens[:, 0] == A))
assert abs(share_a - 0.6) < 4 * np.sqrt(0.6 * 0.4 / 4000), (
    "the first token should be A in 60% of the samples (within four standard errors): sample from "
    "softmax(log_probs), not from log_probs.")
print("ok: the first token is A in 60% of 4000 samples, within four standard errors")
grading.expect_close("scores of the first 4 samples", scores[:4],
                     np.log([0.4 * 0.9, 0.6 * 0.3 * 0.3, 0.6 * 0.3 * 0.3, 0.6 * 0.3 * 0.9]),
                     hint="the score is the sum of log P of the drawn tokens, up to and including the end "
                     "token.")
cold, _ = sample_decode(greedy_trap, None, START, max_len=3, n=50, rng=np.random.default_rng(1),
                        end_token=END, temperature=1e-3)
grading.expect_equal("distinct samples at temperature 0.001", np.unique(cold, axis=0).tolist(),
                     [[A, END, END]],
                     hint="divide the log-probabilities by the temperature before the softmax: a cold "
                     "temperature is greedy.")

# %% nbgrader={"grade": true, "grade_id": "sample_decode_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random models and seeds.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.sample_decode", sample_decode)
### END HIDDEN TESTS

# %% [markdown]
# ### 3.3 Beam search
#
# Keep the $k$ best partial sequences (**beams**) per row instead of one (lecture 003, "decoding in a
# nutshell, beam size 2"). At each step every beam is extended by every token, and the $k$ best totals
# $\log P(y_1 \dots y_t \mid x)$ among the $k V$ extensions survive. In detail, for $n$ rows at once (the
# $n k$ beams go through `step_fn` as one batch of $n k$ rows, row $i$'s beams at rows
# $i k \dots i k + k - 1$):
#
# 1. *start*: `repeat_state(state, k)`; scores `(n, k)` are $[0, -\infty, \dots, -\infty]$ per row, so that
#    at the first step only beam 0 is live and the $k$ survivors are $k$ different first tokens;
# 2. *extend*: reshape the log-probabilities to `(n, k, V)`; a **finished** beam (it emitted the end token)
#    may only continue with the end token, at log-probability 0, so replace its row by $-\infty$ everywhere
#    except 0 at the end token; `total = scores[:, :, None] + lp`, reshaped to `(n, k V)`;
# 3. *select*: the $k$ best entries of each row of `total`, best first, with
#    `np.argsort(-total, axis=1, kind="stable")[:, :k]`; entry $b$ is the extension of beam
#    `parent = b // V` by the token `b % V`;
# 4. *copy from the parents*: each survivor inherits its parent's tokens, finished flag, length and state
#    (`reorder_state(state, rows * k + parent)` flattened to `(n k,)`); then write the new token at step $t$
#    (a finished parent's survivor keeps its end token), add 1 to the length of every unfinished beam, and
#    mark the beams whose new token is the end token as finished. Stop once every beam is finished.
#
# **Length normalisation.** A sum of log-probabilities only falls as the output grows, so beam search
# prefers short outputs. The final ranking divides each total by $\text{length}^\alpha$ (the length counts
# the tokens up to and including the end token): $\alpha = 0$ ranks by the total, $\alpha = 1$ by the mean
# log-probability per token. The search itself ranks by the totals (Wu et al. 2016 use the same idea with
# a $((5 + \text{length}) / 6)^\alpha$ penalty).
#
# **Exercise 3c.** `beam_search(step_fn, state, start_token, max_len, n, beam_width, end_token=None,
# length_alpha=0.0)` returns `(tokens, scores)`: `tokens (n, k, max_len)` int64, the beams best first (after
# an end token the end token repeats), and `scores (n, k)` their final (normalised when $\alpha > 0$)
# scores, best first.

# %% nbgrader={"grade": false, "grade_id": "beam_search", "locked": false, "schema_version": 3, "solution": true}
def beam_search(step_fn, state, start_token, max_len, n, beam_width, end_token=None, length_alpha=0.0):
    """Beam search of width k for n rows; final ranking by total / length**alpha.

    Returns tokens (n, k, max_len) int64 and scores (n, k), best first.
    """
    ### BEGIN SOLUTION a07.beam_search
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "beam_search_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
result = beam_search(greedy_trap, None, START, max_len=4, n=1, beam_width=2, end_token=END)
assert isinstance(result, tuple) and len(result) == 2, "return (tokens, scores)."
tokens, scores = result
grading.expect_shape("tokens", tokens, (1, 2, 4), hint="(n, k, max_len).")
grading.expect_equal("the beams on the trap, best first", tokens[0].tolist(),
                     [[B, END, END, END], [A, END, END, END]],
                     hint="keep the k best totals over every extension of every beam; a finished beam stays "
                     "(it continues with the end token at log-probability 0) and competes until the end.")
grading.expect_close("their scores", scores, np.log([[0.4 * 0.9, 0.6 * 0.4]]),
                     hint="the score of a beam is the sum of log P of its tokens.")
tokens, scores = beam_search(toy, h0_toy, START, max_len=5, n=3, beam_width=1, end_token=END)
grading.expect_equal("beam search of width 1 (= greedy) on the toy RNN", tokens[:, 0].tolist(),
                     [[2, 2, 1, 1, 1], [0, 2, 2, 2, 1], [2, 1, 1, 1, 1]],
                     hint="with k = 1 the search is greedy; the states must follow their beams "
                     "(reorder_state).")
tokens, scores = beam_search(toy, h0_toy, START, max_len=5, n=3, beam_width=3, end_token=END)
grading.expect_equal("best beams of width 3 on the toy RNN", tokens[:, 0].tolist(),
                     [[2, 2, 1, 1, 1], [1, 1, 1, 1, 1], [2, 1, 1, 1, 1]],
                     hint="row 1: ending at once is more probable than greedy's 0 2 2 2 END.")
grading.expect_close("their scores", scores[:, 0], np.array([-0.80294284, -1.070781598, -0.634539582]),
                     hint="a beam's score is the total log-probability of its tokens, never below greedy's.")
short_vs_long = markov_step({START: {END: 0.4, A: 0.6}, A: {B: 0.8, END: 0.2},
                             B: {END: 0.7, A: 0.15, B: 0.15}, END: {END: 1.0}})
tokens, scores = beam_search(short_vs_long, None, START, max_len=4, n=1, beam_width=2, end_token=END)
grading.expect_equal("best beam with alpha = 0", tokens[0, 0].tolist(), [END, END, END, END],
                     hint="by total log-probability the empty output (END alone, 0.4) beats A B END (0.336).")
tokens, scores = beam_search(short_vs_long, None, START, max_len=4, n=1, beam_width=2, end_token=END,
                             length_alpha=1.0)
grading.expect_equal("best beam with alpha = 1", tokens[0, 0].tolist(), [A, B, END, END],
                     hint="with alpha = 1 rank by total / length: A B END has the better mean "
                     "log-probability.")
grading.expect_close("its normalised score", scores[0, 0], np.log(0.6 * 0.8 * 0.7) / 3,
                     hint="the length counts the tokens up to and including the end token (3 here).")
# Against exhaustive search: a toy RNN over 4 tokens, 4 steps, 256 sequences. A beam of 256 holds every
# sequence, so it must find the exact best one, with and without length normalisation.
toy4 = ToyRNN(10)
h0_one = np.random.default_rng(210).standard_normal((1, 5))
for alpha in (0.0, 1.0):
    best, best_score = exhaustive_search(toy4, h0_one, START, 4, 4, end_token=END, length_alpha=alpha)
    tokens, scores = beam_search(toy4, h0_one, START, max_len=4, n=1, beam_width=256, end_token=END,
                                 length_alpha=alpha)
    grading.expect_equal(f"best beam of width 256 (alpha = {alpha}) vs exhaustive search",
                         tokens[0, 0].tolist(), best.tolist(),
                         hint="a beam that holds every sequence must find the exact argmax.")
    grading.expect_close(f"its score (alpha = {alpha})", scores[0, 0], best_score,
                         hint="score = total log-probability / length**alpha, the length up to and "
                         "including END.")

# %% nbgrader={"grade": true, "grade_id": "beam_search_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference and with exhaustive search on fresh
# random models.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a07.beam_search", beam_search)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Experiments: learning to reverse a string
#
# The task (`course.data.seq_tasks`): a string of 1 to 10 digits in, the same digits reversed out,
# `"38172" -> "27183"`. The first output character is the last input character, so the plain
# encoder-decoder must carry the whole string in one state; with attention the decoder can look it up.
# 20 000 training pairs; the validation and test pairs (500 and 1000) come from other seeds and exclude every
# training source.
#
# The model below is the library's `Seq2Seq` (which owns the parameters, so the optimiser of assignment 04
# can update them), with every computation replaced by **your** functions: the loss by your
# `seq2seq_forward` / `seq2seq_backward`, the decoding step by your `decoder_step_forward`, and greedy and
# beam decoding by yours. `train_seq2seq` runs Adam with gradient-norm clipping and a learning rate
# decaying from $3 \cdot 10^{-3}$ to $10^{-3}$; `exact_match` counts the outputs that are right in every
# character and stop at the right place.

# %%
class YourSeq2Seq(Seq2Seq):
    """course.models.seq2seq.Seq2Seq (parameters, start state, shapes) running on your functions."""

    def loss(self, batch):
        logits, _, cache = seq2seq_forward(self.params, batch.src, batch.src_mask, batch.tgt_in)
        loss, dlogits = temporal_softmax_loss(logits, batch.tgt_out, batch.tgt_mask)
        for name, grad in seq2seq_backward(dlogits, cache).items():
            self.accumulate(name, grad)
        return loss

    def step(self, prev_tokens, state):
        h, c, enc, keys, src_mask = state
        y_emb = self.params["tgt_embed"][prev_tokens]  # (B, E)
        h, c, context, _, _ = decoder_step_forward(y_emb, h, c, enc, keys, src_mask, self.params)
        logits = np.concatenate([h, context], axis=1) @ self.params["out_W"] + self.params["out_b"]  # (B, Vt)
        return log_softmax(logits, axis=1), (h, c, enc, keys, src_mask)

    def greedy(self, src, src_mask, max_len):
        return greedy_decode(self.step, self.start_state(src, src_mask), SOS, max_len, len(src), EOS)[0]

    def beam(self, src, src_mask, max_len, beam_width, length_alpha=0.0):
        state = self.start_state(src, src_mask)
        return beam_search(self.step, state, SOS, max_len, len(src), beam_width, EOS, length_alpha)

    def attention_maps(self, src, src_mask, tgt_in):
        return seq2seq_forward(self.params, src, src_mask, tgt_in)[1]


def held_out(n, seed, exclude):
    """n reversal pairs whose sources are not in `exclude`, from their own seed."""
    return [pair for pair in make_task("reversal", 3 * n, seed).pairs if pair[0] not in exclude][:n]


task = make_task("reversal", 20_000, seed=0)
vocabs = (task.src_vocab, task.tgt_vocab)
val_pairs = held_out(500, 1, {s for s, _ in task.pairs})
test_pairs = held_out(1000, 2, {s for s, _ in task.pairs + val_pairs})
train_set, val_set, test_set = (encode_pairs(pairs, *vocabs) for pairs in (task.pairs, val_pairs, test_pairs))
print("vocabulary:", task.src_vocab, "| e.g.", task.pairs[:3])

# %% [markdown]
# Training: 800 steps of 64 pairs, the validation exact match every 50 steps, and a copy of the parameters
# after 250 steps, an **under-trained** model kept for the beam-search experiment below. (On one core this
# cell takes about 20 s.) **What to see:** the loss falls steadily on a log scale, while the exact match,
# which needs every character right, climbs in an S; it ends above 95% on the test set.

# %%
sizes = {"embed_dim": 32, "hidden_dim": 64, "attn_dim": 32}
model = YourSeq2Seq(len(task.src_vocab), len(task.tgt_vocab), **sizes, rng=0)
early = YourSeq2Seq(len(task.src_vocab), len(task.tgt_vocab), **sizes, rng=0)  # gets the weights of step 250
curve = []


def evaluate(step, loss):
    if (step + 1) % 50 == 0:
        curve.append((step + 1, exact_match(model, val_set)))
    if step + 1 == 250:
        early.load_state_dict(model.state_dict())


start = time.perf_counter()
losses = train_seq2seq(model, train_set, steps=800, batch_size=64, learning_rate=3e-3,
                       final_learning_rate=1e-3, rng=0, callback=evaluate)
train_seconds = time.perf_counter() - start
test_greedy = exact_match(model, test_set)
print(f"{len(losses)} steps in {train_seconds:.0f} s; test exact match (greedy) {test_greedy:.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.6))
ax1.semilogy(np.arange(1, len(losses) + 1), losses, lw=0.8)
ax1.set_xlabel("training step")
ax1.set_ylabel("loss (nats per sequence, log scale)")
ax1.set_title("Teacher-forced training loss")
ax2.plot(*zip(*curve), "o-")
ax2.axvline(250, color="0.5", ls="--", label="the under-trained copy")
ax2.set_xlabel("training step")
ax2.set_ylabel("validation exact match")
ax2.set_ylim(0, 1)
ax2.set_title("Greedy exact match on 500 unseen strings")
ax2.legend()
plt.show()

# %% [markdown]
# ### 4.1 Where does the decoder look?
#
# The attention weights of a teacher-forced pass (`attention_maps`, rows: output steps, columns: source
# characters) for three test strings, for the trained model (top) and the under-trained copy (bottom).
# **What to see:** the trained model's weights form an anti-diagonal: to write output character $t$ it reads
# the source from the other end. The peak often sits one position to the right of the character being
# written, on the one written at the step before: the query is the previous state $d_{t-1}$, and the
# left-to-right encoder's state at position $j + 1$ has read character $j$ too. The under-trained copy's
# maps are sharp for the first characters and blur further into the output, which is where its errors
# are.

# %%
examples = encode_pairs(test_pairs[:3], *vocabs)
fig, axes = plt.subplots(2, 3, figsize=(13, 7))
for row, (name, which) in enumerate([("trained", model), ("after 250 steps", early)]):
    maps = which.attention_maps(examples.src, examples.src_mask, examples.tgt_in)  # (3, Tt, Ts)
    outputs = which.greedy(examples.src, examples.src_mask, examples.tgt_out.shape[1])
    for i, ax in enumerate(axes[row]):
        source, target = test_pairs[i]
        ax.imshow(maps[i, : len(target) + 1, : len(source)], cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(len(source)), list(source))
        ax.set_yticks(range(len(target) + 1), list(target) + ["</s>"])
        ax.set_xlabel("source character")
        ax.set_ylabel("output step (true target)")
        ax.set_title(f"{name}: {source} -> greedy {task.tgt_vocab.decode(outputs[i])}", fontsize=9)
fig.suptitle("Attention weights a_t (brighter = more weight; each row sums to 1)")
plt.tight_layout()
plt.show()


# %% [markdown]
# ### 4.2 Greedy vs beam search, and the beam width
#
# The trained model is right almost everywhere with greedy decoding, so a search has little to add. The
# under-trained copy makes mistakes, and some of them are **search errors**: the model gives the right output
# a higher probability than the greedy one, but greedy never looked at it. Beam search fixes those; the
# others are **model errors** (the model prefers a wrong output) and no search fixes them.
#
# For both models and beam widths 1 (greedy) to 8: the test exact match, and the mean log-probability of
# the chosen outputs; the plots show the under-trained copy (the trained model's numbers are flat, see the
# table). **What to see:** the log-probability of what the search finds rises with the width (a wider beam
# may in principle do worse, but rarely does), while the exact match of the under-trained copy gains a
# couple of points at width 2 and then stays flat: the search errors are used up, what remains is the
# model's. Length normalisation ($\alpha = 1$) changes little on this task, whose output length is the
# input's.

# %%
def beam_results(which, data, width, length_alpha=0.0):
    """Exact match of the best beams on `data` and their mean score (chunks of 500 sources)."""
    hits, best_scores = 0, []
    for chunk in range(0, len(data), 500):
        batch = data.subset(slice(chunk, chunk + 500))
        tokens, scores = which.beam(batch.src, batch.src_mask, batch.tgt_out.shape[1], width, length_alpha)
        best = np.where(batch.tgt_mask, tokens[:, 0], PAD)  # what follows the end token does not count
        hits += int(np.all(best == batch.tgt_out, axis=1).sum())
        best_scores.append(scores[:, 0])
    return hits / len(data), float(np.mean(np.concatenate(best_scores)))


widths = [1, 2, 3, 5, 8]
table = {(name, width): beam_results(which, test_set, width)
         for name, which in [("after 250 steps", early), ("trained", model)] for width in widths}
exact_alpha_one, _ = beam_results(early, test_set, 5, length_alpha=1.0)
print(f"{'model':<17} {'beam width':>10} {'test exact match':>17} {'mean log P of the output':>25}")
for (name, width), (exact, mean_log_p) in table.items():
    print(f"{name:<17} {width:>10} {exact:>17.3f} {mean_log_p:>25.3f}")
print(f"after 250 steps, width 5 with length normalisation alpha = 1: exact match {exact_alpha_one:.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.6))
ax1.plot(widths, [table["after 250 steps", w][0] for w in widths], "o-", color="C1")
ax1.set_xlabel("beam width k (1 = greedy)")
ax1.set_ylabel("test exact match")
ax1.set_title("Under-trained copy: exact match over the beam width")
ax2.plot(widths, [table["after 250 steps", w][1] for w in widths], "o-", color="C1")
ax2.set_xlabel("beam width k (1 = greedy)")
ax2.set_ylabel("mean log P(output | source) (nats)")
ax2.set_title("Under-trained copy: log-probability of the outputs found")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### 4.3 Sampling
#
# Five samples from the under-trained copy for one test string, at three temperatures. **What to see:** at
# $\tau = 0.5$ the samples stay close to the greedy output; at $\tau = 1$ they vary where the model is
# unsure; at $\tau = 2$ the distribution is flattened and the samples stray from the string, in their
# characters and in their length.

# %%
source, target = test_pairs[3]
one = encode_pairs([(source, target)] * 5, *vocabs)
greedy_output = task.tgt_vocab.decode(early.greedy(one.src[:1], one.src_mask[:1], 12)[0])
print(f"source {source}, target {target}, greedy {greedy_output}")
for temperature in (0.5, 1.0, 2.0):
    tokens, _ = sample_decode(early.step, early.start_state(one.src, one.src_mask), SOS, 12, 5,
                              np.random.default_rng(0), EOS, temperature)
    print(f"temperature {temperature}:", ", ".join(task.tgt_vocab.decode(row) for row in tokens))

# %% [markdown]
# ## Summary
#
# Attention is a differentiable read, $d' = \sum_j a_j e_j$ with $a = \text{softmax}(u)$; the mechanisms
# differ only in the scores: where to look (a window over positions), what to look for (a dot product, a
# small network, a cosine with a strength), or, in self-attention, every position asking every other. With
# it, a sequence-to-sequence model learns to reverse strings in a few hundred steps, and its attention maps
# show the alignment it found. Training uses teacher forcing; inference must search, and beam search trades
# computation for fewer search errors, which matters only while the model is unsure. Assignment 08 turns
# the attention weights themselves into the output: pointer networks.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a07_seq2seq_attention.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a07_seq2seq_attention.ipynb")
