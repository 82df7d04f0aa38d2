# %% [markdown]
# # Assignment 10: beyond classification: autoencoders, adversarial examples, graphs, linear regions
#
# The same few pieces (affine maps, a non-linearity, a loss, backpropagation) go a long way past the
# classifiers of the first nine assignments. This notebook takes four short trips, each from the lectures:
#
# 1. **Autoencoders** (lecture 002, "Auto-encoders"): a network trained to give back its input through a
#    narrow code. Without a non-linearity it "performs SVD decomposition": you will train one on the digits
#    and measure that its decoder spans exactly the top principal subspace, with principal angles. Then a
#    small non-linear **denoising** autoencoder learns to repair corrupted digits.
# 2. **Adversarial examples** (lecture 004, "panda + .007 x noise = gibbon"): the gradient of the loss with
#    respect to the *input*, and the fast gradient sign method, against your own digits classifier.
# 3. **Graph networks** (lecture 004, "Graph Neural Networks", "Graph Attention Nets"): a message-passing
#    layer and a graph-attention layer, forward and backward, and a node-classification task on a
#    generated graph where they beat a classifier that looks at one node at a time.
# 4. **Linear regions** (lecture 004, "What does depth provide?"): the pieces a ReLU net cuts the plane
#    into, counted and drawn, depth against width, and the lecture's bounds.
#
# You will implement: the linear autoencoder's forward and backward pass, principal angles between
# subspaces, the input gradient of a classifier's loss, the FGSM step, message passing (mean or sum) forward
# and backward, and graph attention forward and backward (30 points).
#
# **How this notebook is graded.** Write your code between the `# YOUR CODE HERE` line and the end of each
# answer cell (delete the `raise NotImplementedError()`). The *visible* test cell after each answer checks
# a small fixed example and tells you what is wrong; the *hidden* test cell compares your function with
# the reference on fresh random inputs (random shapes and graphs, gradient checks included) when the course
# grader runs it. Both carry points. Do not edit, copy or delete test cells: the grader restores them. Use
# NumPy and the library of earlier assignments (`course.layers`, `course.training`, `course.core`); in the
# grader the library functions you are asked to write here (`course.models.autoencoder`,
# `course.models.adversarial`, `course.layers.graph`) raise `NotImplementedError`.
#
# **Budget.** Everything is seeded, and the whole notebook runs top to bottom in under 3 minutes on one CPU
# core (the reference solution took about 11 seconds on one core, figures included; no cell needs a GPU).
#
# Shapes use the course's letters: N examples (or nodes), D input features, K code size, C classes,
# H output features of a graph layer.

# %%
import matplotlib.pyplot as plt
import numpy as np

from course import grading
from course.core.backend import get_array_module  # noqa: F401 (the library's solutions use it)
from course.core.gradcheck import check_pair, numerical_gradient
from course.core.module import Module, Sequential
from course.data import load_digits, make_sbm
from course.layers.activations import ReLU, Tanh
from course.layers.affine import Linear
from course.layers.attention import masked_softmax  # noqa: F401 (used by the solution of gat_forward)
from course.layers.losses import mse_loss, softmax, softmax_cross_entropy
from course.layers.losses import softmax_backward  # noqa: F401 (used by the solution of gat_backward)
from course.models.autoencoder import corrupt, denoising_autoencoder, pca_basis
from course.models.linear_regions import (
    count_linear_regions,
    folding_net,
    grid_points,
    montufar_bound,
    random_relu_net,
    region_labels,
    zaslavsky_bound,
)
from course.training.optim import Optimizer, adam, sgd_momentum
from course.training.train import accuracy, train, train_epoch, train_step


# %% [markdown]
# ## 1. The linear autoencoder is PCA
#
# An autoencoder encodes each input $x \in \mathbb R^D$ into a code $z \in \mathbb R^K$ with $K < D$ and
# decodes it back, and is trained to reproduce its input, $\mathcal L = \lVert f(x) - x \rVert^2$
# (lecture 002). Take the simplest one: no non-linearity and no bias (centre the data instead). With the
# examples as rows,
#
# $$z = x\, W_{enc}, \qquad \hat x = z\, W_{dec}, \qquad W_{enc} \in \mathbb R^{D \times K},\;
#   W_{dec} \in \mathbb R^{K \times D}.$$
#
# **Exercise 1a.** `linear_autoencoder_forward(x, w_enc, w_dec)` returns `(x_hat, cache)`: `x` is `(N, D)`,
# `x_hat` is `(N, D)`; keep in the cache what the backward pass needs (the codes `z` of shape `(N, K)`
# among them).

# %% nbgrader={"grade": false, "grade_id": "linear_autoencoder_forward", "locked": false, "schema_version": 3, "solution": true}
def linear_autoencoder_forward(x, w_enc, w_dec):
    """x_hat = (x w_enc) w_dec. x: (N, D), w_enc: (D, K), w_dec: (K, D). Returns (x_hat (N, D), cache)."""
    ### BEGIN SOLUTION a10.linear_autoencoder_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "linear_autoencoder_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_check = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])  # N = 2, D = 3
w_enc_check = np.array([[1.0], [0.5], [-1.0]])  # K = 1: z = x_1 + x_2 / 2 - x_3
w_dec_check = np.array([[2.0, 0.0, 1.0]])
result = linear_autoencoder_forward(x_check, w_enc_check, w_dec_check)
assert isinstance(result, tuple) and len(result) == 2, (
    "linear_autoencoder_forward must return (x_hat, cache).")
x_hat_check, _ = result
grading.expect_shape("x_hat", x_hat_check, (2, 3), hint="the reconstruction has the shape of x, (N, D).")
grading.expect_close("x_hat", x_hat_check, np.array([[4.0, 0.0, 2.0], [-7.0, 0.0, -3.5]]),
                     hint="the codes are z = x @ w_enc = [[2], [-3.5]]; then x_hat = z @ w_dec.")

# %% nbgrader={"grade": true, "grade_id": "linear_autoencoder_forward_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a10.linear_autoencoder_forward", linear_autoencoder_forward)
### END HIDDEN TESTS

# %% [markdown]
# The backward pass is two affine layers without bias, walked in reverse. With $G$ = `dout`
# $= \partial \mathcal L / \partial \hat x$ `(N, D)`:
#
# $$dW_{dec} = z^\top G, \qquad dz = G\, W_{dec}^\top, \qquad dW_{enc} = x^\top dz, \qquad
#   dx = dz\, W_{enc}^\top .$$
#
# **Exercise 1b.** `linear_autoencoder_backward(dout, cache)` returns `(dx, dw_enc, dw_dec)`, shaped like
# `x`, `w_enc` and `w_dec`.

# %% nbgrader={"grade": false, "grade_id": "linear_autoencoder_backward", "locked": false, "schema_version": 3, "solution": true}
def linear_autoencoder_backward(dout, cache):
    """dout: (N, D). Returns (dx (N, D), dw_enc (D, K), dw_dec (K, D))."""
    ### BEGIN SOLUTION a10.linear_autoencoder_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "linear_autoencoder_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
_, cache_check = linear_autoencoder_forward(x_check, w_enc_check, w_dec_check)  # the inputs of exercise 1a
dout_check = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])
grads = linear_autoencoder_backward(dout_check, cache_check)
assert isinstance(grads, tuple) and len(grads) == 3, (
    "linear_autoencoder_backward must return (dx, dw_enc, dw_dec).")
dx_check, dw_enc_check, dw_dec_check = grads
grading.expect_close("dw_dec", dw_dec_check, np.array([[0.25, -7.0, -2.0]]),
                     hint="dw_dec = z.T @ dout, with the codes z = x @ w_enc from the cache: shape (K, D).")
grading.expect_close("dw_enc", dw_enc_check, np.array([[1.0], [1.0], [3.0]]),
                     hint="dw_enc = x.T @ dz with dz = dout @ w_dec.T: shape (D, K).")
grading.expect_close("dx", dx_check, np.array([[1.0, 0.5, -1.0], [1.0, 0.5, -1.0]]),
                     hint="dx = dz @ w_enc.T with dz = dout @ w_dec.T.")
rng = np.random.default_rng(0)
errors = check_pair(linear_autoencoder_forward, linear_autoencoder_backward,
                    {"x": rng.standard_normal((5, 6)), "w_enc": rng.standard_normal((6, 2)),
                     "w_dec": rng.standard_normal((2, 6))})
assert max(errors.values()) < 1e-7  # check_pair asserts per input and names the wrong one
print("ok: dx, dw_enc and dw_dec match central differences (relative error below 1e-7, float64)")

# %% nbgrader={"grade": true, "grade_id": "linear_autoencoder_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a10.linear_autoencoder_backward", linear_autoencoder_forward, linear_autoencoder_backward)
### END HIDDEN TESTS

# %% [markdown]
# **What should the autoencoder learn?** Write the centred data as $X = U S V^\top$ (its SVD; the columns of
# $V$ are the principal directions, by decreasing singular value $s_1 \ge s_2 \ge \dots$). The
# reconstruction $X W_{enc} W_{dec}$ has rank at most $K$, and the Eckart-Young theorem says that the best
# rank-$K$ approximation of $X$ is $X V_K V_K^\top$. So the **closed form** of the optimal linear
# autoencoder is
#
# $$W_{enc} = V_K, \qquad W_{dec} = V_K^\top, \qquad
#   \text{with error } \frac{1}{N D}\lVert X - X V_K V_K^\top\rVert^2 = \frac{1}{N D}\sum_{i > K} s_i^2 ,$$
#
# and also $W_{enc} = V_K A$, $W_{dec} = A^{-1} V_K^\top$ for any invertible $A$: training need not find the
# principal directions themselves, only the subspace they span. (Every other critical point of this loss
# is a saddle, so gradient descent does not get stuck; Baldi & Hornik 1989.) To compare subspaces we need
# a number that ignores the basis: the **principal angles**. With orthonormal bases $Q_A$, $Q_B$ of the two
# spans (`np.linalg.qr`), the cosines of the angles $0 \le \theta_1 \le \theta_2 \le \dots \le \pi/2$ are the
# singular values of $Q_A^\top Q_B$:
#
# $$\cos \theta_i = \sigma_i\big(Q_A^\top Q_B\big), \qquad \theta_i = \arccos \sigma_i .$$
#
# All angles zero means the spans are equal (for equal dimensions).
#
# **Exercise 1c.** `principal_angles(A, B)` takes `A` `(D, K)` and `B` `(D, L)` of full column rank (any
# bases, not necessarily orthonormal) and returns the `min(K, L)` angles in radians, **smallest first**.
# Round-off can give a singular value just above 1: clip before `arccos`.

# %% nbgrader={"grade": false, "grade_id": "principal_angles", "locked": false, "schema_version": 3, "solution": true}
def principal_angles(A, B):
    """Angles between span(A) and span(B). A: (D, K), B: (D, L). Returns (min(K, L),) ascending, radians."""
    ### BEGIN SOLUTION a10.principal_angles
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "principal_angles_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
plane = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # the (x, y) plane of R^3
tilted = np.array([[2.0, 0.0], [0.0, np.cos(0.3)], [0.0, np.sin(0.3)]])  # turned by 0.3 rad about x
angles_check = principal_angles(plane, tilted)
grading.expect_shape("principal_angles(plane, tilted)", angles_check, (2,), hint="one angle per dimension.")
# round-off in arccos near 1 leaves ~1e-8 where the exact angle is 0: compared with atol = 1e-6
grading.expect_close("principal_angles(plane, tilted)", angles_check, np.array([0.0, 0.3]), atol=1e-6,
                     hint="the planes share the x axis (angle 0) and are 0.3 rad apart otherwise; "
                     "smallest angle first (np.sort, or reverse the singular values), in radians; "
                     "orthonormalise both bases (np.linalg.qr) before the SVD: tilted's columns are not.")
z_axis = np.array([[0.0], [0.0], [5.0]])
grading.expect_close("principal_angles of the plane and the z axis", principal_angles(plane, z_axis),
                     np.array([np.pi / 2]), atol=1e-6, hint="orthogonal spans are pi / 2 apart.")

# %% nbgrader={"grade": true, "grade_id": "principal_angles_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a10.principal_angles", principal_angles)
### END HIDDEN TESTS

# %% [markdown]
# **Training the linear autoencoder on the digits.** The cell below wraps your pair in a module (it owns
# `w_enc` and `w_dec`, starting from small random values, and accumulates their gradients), centres the
# 1197 training digits (64 pixels each), and runs 2000 full-batch steps of gradient descent with momentum
# on the mean squared error (`train_step` of assignment 04), with a code of $K = 8$ numbers. It compares the
# decoder's span with the top 8 principal directions from `np.linalg.svd`, and the loss with the
# closed-form optimum.
#
# A note on "column space": the lecture writes $\hat x = W_{dec} W_{enc}\, x$ with column vectors, so the
# decoder's outputs are combinations of the *columns* of its $D \times K$ matrix. With our batch-first rows
# that matrix is `w_dec.T`: its columns (the rows of `w_dec`) are the directions the decoder can produce.
#
# **What to see:** the largest principal angle falls from about 1.5 rad (random start) below $10^{-3}$ rad
# (printed below), and the loss reaches the Eckart-Young optimum; the decoder's rows themselves are not
# the principal directions (the middle row of images: any mixture is as good), but projecting the
# principal directions onto the decoder's span changes nothing (bottom row = top row). The
# reconstructions of the autoencoder and of PCA are the same images.

# %%
class LinearAE(Module):
    """Your linear_autoencoder pair as a module: w_enc (D, K) and w_dec (K, D), N(0, 0.1^2) at the start."""

    def __init__(self, in_features, code_size, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.add_param("w_enc", rng.standard_normal((in_features, code_size)) * 0.1)
        self.add_param("w_dec", rng.standard_normal((code_size, in_features)) * 0.1)

    def forward(self, x):
        out, self.cache = linear_autoencoder_forward(x, self.params["w_enc"], self.params["w_dec"])
        return out

    def backward(self, dout):
        dx, dw_enc, dw_dec = linear_autoencoder_backward(dout, self.cache)
        self.accumulate("w_enc", dw_enc)
        self.accumulate("w_dec", dw_dec)
        return dx


# %%
X_digits, _ = load_digits("train", dtype=np.float64)  # (1197, 64), pixels in [0, 1]
X_digits_test, _ = load_digits("test", dtype=np.float64)
pixel_mean = X_digits.mean(axis=0)
Xc = X_digits - pixel_mean  # centred: the linear autoencoder has no bias
K = 8
_, S, Vt = np.linalg.svd(Xc, full_matrices=False)
V_K = Vt[:K].T  # (64, K): the top-K principal directions, the closed-form encoder
best_mse = float((S[K:] ** 2).sum()) / Xc.size  # Eckart-Young: the energy of the discarded directions
closed_form_mse = float(np.mean((Xc @ V_K @ V_K.T - Xc) ** 2))

ae = LinearAE(64, K, seed=0)
optimizer = Optimizer(ae, sgd_momentum, learning_rate=4.0, momentum=0.9)
logged_steps, largest_angle, excess_loss = [], [], []
for step in range(1, 2001):
    loss, _ = train_step(ae, mse_loss, optimizer, Xc, Xc)
    if step % 20 == 0 or step < 20:
        logged_steps.append(step)
        largest_angle.append(principal_angles(ae.params["w_dec"].T, V_K).max())
        excess_loss.append(loss / best_mse - 1)
angles = principal_angles(ae.params["w_dec"].T, V_K)
ae_mse = float(mse_loss(ae.forward(Xc), Xc)[0])
print(f"principal angles between the decoder's span and the top {K} principal directions (rad):")
print("  " + ", ".join(f"{a:.1e}" for a in angles) + f"   (largest {angles.max():.1e}, bound 1e-3)")
print(f"mean squared error: autoencoder {ae_mse:.6f}, closed form {closed_form_mse:.6f}, "
      f"sum of discarded s_i^2 / (N D) {best_mse:.6f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
ax1.semilogy(logged_steps, largest_angle)
ax1.axhline(1e-3, color="0.5", ls="--", label="1e-3 rad")
ax1.set_xlabel("gradient step")
ax1.set_ylabel("largest principal angle (rad, log scale)")
ax1.set_title("Decoder span vs top-8 principal subspace")
ax1.legend()
ax2.semilogy(logged_steps, np.maximum(excess_loss, 1e-16))
ax2.set_xlabel("gradient step")
ax2.set_ylabel("loss / optimal loss - 1 (log scale)")
ax2.set_title("Training loss above the Eckart-Young optimum")
plt.tight_layout()
plt.show()

decoder_rows = ae.params["w_dec"]  # (K, 64)
q_dec, _ = np.linalg.qr(decoder_rows.T)  # (64, K): orthonormal basis of the decoder's span
projected = q_dec @ (q_dec.T @ V_K)  # the principal directions projected onto that span
fig, axes = plt.subplots(3, K, figsize=(12, 4.6))
for i in range(K):
    for row, (images, name) in enumerate([(V_K.T, "PCA v"), (decoder_rows, "decoder row "),
                                          (projected.T, "projected v")]):
        limit = np.abs(images[i]).max()
        axes[row, i].imshow(images[i].reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[row, i].set_title(f"{name}{i + 1}", fontsize=8)
        axes[row, i].axis("off")
fig.suptitle("Top: principal directions. Middle: the trained decoder's rows. Bottom: top row projected on "
             "the decoder's span (red +, blue -)")
plt.show()

shown = X_digits_test[:8]
rows = [("test digit", shown), ("autoencoder", ae.forward(shown - pixel_mean) + pixel_mean),
        ("PCA, closed form", (shown - pixel_mean) @ V_K @ V_K.T + pixel_mean)]
fig, axes = plt.subplots(3, 8, figsize=(10, 4))
for r, (name, images) in enumerate(rows):
    for i in range(8):
        axes[r, i].imshow(images[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[r, i].axis("off")
    axes[r, 0].set_title(name, fontsize=9, loc="left")
fig.suptitle(f"Reconstructions from K = {K} numbers per digit (8x8 pixels, darker = more ink)")
plt.show()

# %% [markdown]
# ## 2. A denoising autoencoder
#
# A linear autoencoder can only project onto a subspace. A non-linear one can learn what digits look like:
# train it on **corrupted** inputs against the **clean** targets (lecture 002, "corrupted image" ->
# "predicted image"), so copying pixels is no longer a solution,
#
# $$\mathcal L = \lVert f(\tilde x) - x \rVert^2, \qquad \tilde x = \text{corrupt}(x).$$
#
# The cell below builds it from the library's layers: Linear(64, 32) - ReLU - Linear(32, 64) - Sigmoid (the
# sigmoid keeps the pixels in (0, 1)), and trains it for 30 epochs with Adam on digits whose pixels are
# each set to 0 with probability 1/2 (masking noise), with fresh noise every epoch. It then repairs masked
# **test** digits, next to the best a linear method can do from the same masked input: projecting onto the
# top-16 principal subspace of the clean digits.
#
# **What to see:** the masked digits are hard to read; the denoising autoencoder fills the strokes back in
# and its error is well below both the corrupted input's and PCA's (printed). PCA keeps the holes, because
# a masked digit is still a plausible combination of principal directions, just a fainter one.

# %%
X_clean, _ = load_digits("train")  # float32 for training
X_clean_test, _ = load_digits("test")
rng = np.random.default_rng(0)
dae = denoising_autoencoder(64, 32, rng=0)
optimizer = Optimizer(dae, adam, learning_rate=3e-3)
for _ in range(30):
    train_epoch(dae, mse_loss, optimizer, corrupt(X_clean, 0.5, rng), X_clean, 32, rng)  # fresh noise

masked_test = corrupt(X_clean_test, 0.5, np.random.default_rng(1))
denoised = dae.forward(masked_test)
V16, clean_mean = pca_basis(X_clean.astype(np.float64), 16), X_clean.mean(axis=0)
pca_repaired = np.clip((masked_test - clean_mean) @ V16 @ V16.T + clean_mean, 0, 1)
for name, images in [("masked input", masked_test), ("PCA, 16 directions", pca_repaired),
                     ("denoising autoencoder", denoised)]:
    error = np.mean((images - X_clean_test) ** 2)
    print(f"{name:>22}: mean squared error to the clean test digits {error:.4f}")

fig, axes = plt.subplots(4, 10, figsize=(11, 4.8))
for r, (name, images) in enumerate([("clean", X_clean_test), ("masked (p = 0.5)", masked_test),
                                    ("PCA-16 of masked", pca_repaired), ("denoising AE", denoised)]):
    for i in range(10):
        axes[r, i].imshow(images[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[r, i].axis("off")
    axes[r, 0].set_title(name, fontsize=9, loc="left")
fig.suptitle("Denoising masked test digits (8x8 pixels, darker = more ink)")
plt.show()

# %% [markdown]
# ## 3. Adversarial examples: the fast gradient sign method
#
# Lecture 004 shows a panda, classified "panda" with 57.7% confidence, plus 0.007 times a pattern of noise,
# classified "gibbon" with 99.3% confidence, and the two images look the same (Goodfellow et al. 2014).
# The noise is not random: it is the **sign of the gradient of the loss with respect to the pixels**.
# Backpropagation computes that gradient for free: it is the `dx` that the first layer returns and that
# training throws away.
#
# First a victim: the course's own digits classifier, a two-layer MLP (64 -> 128 -> 10, ReLU) built from
# the library's modules and trained with Adam for 20 epochs (seeded), keeping the epoch with the best
# validation accuracy.

# %%
digits = {split: load_digits(split) for split in ("train", "val", "test")}
classifier = Sequential(Linear(64, 128, rng=0), ReLU(), Linear(128, 10, rng=1))
history = train(classifier, softmax_cross_entropy, Optimizer(classifier, adam, learning_rate=3e-3),
                digits["train"], epochs=20, batch_size=32, rng=np.random.default_rng(0),
                val_data=digits["val"], progress=False, monitor="val_acc")
print(f"clean test accuracy of the classifier: {accuracy(classifier, *digits['test']):.3f}")


# %% [markdown]
# **Exercise 3a.** `input_gradient(model, x, y)` returns `(loss, dx)`: the mean cross-entropy
# $L = \frac{1}{N}\sum_n -\log \text{softmax}(f(x_n))_{y_n}$ of the model's scores (use
# `softmax_cross_entropy`) as a float, and its gradient with respect to the input,
#
# $$dx = \frac{\partial L}{\partial x} \quad (N, D),$$
#
# by one forward pass, the loss's gradient with respect to the scores, and one backward pass of the model
# (`model.forward(x)`, `model.backward(dscores)`, which returns the gradient of its input).

# %% nbgrader={"grade": false, "grade_id": "input_gradient", "locked": false, "schema_version": 3, "solution": true}
def input_gradient(model, x, y):
    """Mean cross-entropy of model(x) against y, and its gradient in x. x: (N, D). Returns (loss, dx)."""
    ### BEGIN SOLUTION a10.input_gradient
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "input_gradient_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
tiny = Sequential(Linear(2, 2, dtype=np.float64), Tanh(), Linear(2, 3, dtype=np.float64))  # 2 -> 2 -> 3
tiny.layers[0].params["w"][...] = [[1.0, -1.0], [0.5, 2.0]]
tiny.layers[0].params["b"][...] = [0.0, 0.5]
tiny.layers[2].params["w"][...] = [[1.0, 0.0, -1.0], [0.0, 2.0, 1.0]]
x_check = np.array([[0.5, -0.25], [0.1, 0.2]])
y_check = np.array([2, 1])
result = input_gradient(tiny, x_check, y_check)
assert isinstance(result, tuple) and len(result) == 2, "input_gradient must return (loss, dx)."
loss_check, dx_check = result
grading.expect_close("loss", loss_check, 1.098178215,
                     hint="the mean over the batch of softmax_cross_entropy(model.forward(x), y).")
grading.expect_shape("dx", dx_check, (2, 2), hint="dx has the shape of x (not of a parameter).")
grading.expect_close("dx", dx_check, np.array([[0.8054536383, -0.0455128172], [0.1436085548, -0.3558778958]]),
                     hint="dx is what model.backward(dscores) returns, with dscores the loss's gradient.")
numeric = numerical_gradient(lambda: float(softmax_cross_entropy(tiny.forward(x_check), y_check)[0]), x_check)
grading.expect_close("dx against central differences of the loss", dx_check, numeric, rtol=1e-6,
                     hint="the gradient must be of the loss with respect to x.")

# %% nbgrader={"grade": true, "grade_id": "input_gradient_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a10.input_gradient", input_gradient)
### END HIDDEN TESTS

# %% [markdown]
# Which perturbation $\delta$ of size $\lVert \delta \rVert_\infty \le \epsilon$ (no pixel changed by more
# than $\epsilon$) raises the loss most? To first order $L(x + \delta) \approx L(x) + \delta \cdot dx$, and
# $\delta \cdot dx$ is largest for $\delta = \epsilon\, \text{sign}(dx)$, which raises the loss by
# $\epsilon \lVert dx \rVert_1$: a sum over all $D$ pixels, so the more pixels, the smaller the $\epsilon$
# that suffices (the panda had 150 528). That is the **fast gradient sign method**, one step, then clipped
# back to valid pixel values:
#
# $$x_{adv} = \text{clip}\big(x + \epsilon\, \text{sign}(dx),\ \text{low},\ \text{high}\big).$$
#
# **Exercise 3b.** `fgsm_step(x, dx, epsilon, low=0.0, high=1.0)` returns `x_adv` `(N, D)`, a new array
# (do not modify `x`). A pixel whose gradient is exactly 0 does not move (`np.sign(0) = 0`).

# %% nbgrader={"grade": false, "grade_id": "fgsm_step", "locked": false, "schema_version": 3, "solution": true}
def fgsm_step(x, dx, epsilon, low=0.0, high=1.0):
    """x_adv = clip(x + epsilon * sign(dx), low, high). x, dx: (N, D). Returns x_adv (N, D)."""
    ### BEGIN SOLUTION a10.fgsm_step
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "fgsm_step_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
x_check = np.array([[0.5, 0.95, 0.02, 0.3]])
dx_check = np.array([[2.0, 1.0, -3.0, 0.0]])
x_adv_check = fgsm_step(x_check, dx_check, 0.1)
grading.expect_close("fgsm_step(x, dx, 0.1)", x_adv_check, np.array([[0.6, 1.0, 0.0, 0.3]]),
                     hint="each pixel moves by 0.1 in the direction of sign(dx) (not by dx itself), then "
                     "np.clip to [0, 1]; sign(0) = 0 leaves the last pixel.")
grading.expect_close("x after fgsm_step", x_check, np.array([[0.5, 0.95, 0.02, 0.3]]), rtol=0, atol=0,
                     hint="do not change x in place: build x_adv as a new array.")
x_wide = fgsm_step(x_check, dx_check, 0.1, low=-1.0, high=2.0)
grading.expect_close("fgsm_step(x, dx, 0.1, low=-1.0, high=2.0)", x_wide, np.array([[0.6, 1.05, -0.08, 0.3]]),
                     hint="clip to [low, high], the arguments.")

# %% nbgrader={"grade": true, "grade_id": "fgsm_step_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a10.fgsm_step", fgsm_step)
### END HIDDEN TESTS

# %% [markdown]
# **The attack.** The cell below attacks the classifier on the 300 test digits at a range of $\epsilon$,
# and, as a control, adds random signs of the same size, $\text{clip}(x + \epsilon\, \text{sign}(g))$ with
# $g \sim \mathcal N(0, I)$. Then it shows six test digits before and after the attack at $\epsilon = 0.15$,
# with the predicted class and the model's confidence in it (its softmax probability).
#
# **What to see:** random signs cost a few points up to $\epsilon = 0.2$ and about 15 at 0.3, while the
# gradient's sign at $\epsilon = 0.1$, less than two of the digits' 17 grey levels, brings the accuracy
# down by some 40 points, and at $\epsilon = 0.2$ to nearly zero (both printed). The attacked digits are
# still easy to read for us (the blank background turns light grey where the gradient asks for ink), and
# the classifier can be *more* confident in its wrong answer than it was in the right one.

# %%
X_test, y_test = digits["test"]
epsilons = np.linspace(0.0, 0.3, 13)
noise_rng = np.random.default_rng(0)
fgsm_accuracy, random_accuracy = [], []
for eps in epsilons:
    _, dx = input_gradient(classifier, X_test, y_test)
    fgsm_accuracy.append(accuracy(classifier, fgsm_step(X_test, dx, eps), y_test))
    random_signs = np.sign(noise_rng.standard_normal(X_test.shape)).astype(X_test.dtype)
    random_accuracy.append(accuracy(classifier, fgsm_step(X_test, random_signs, eps), y_test))
for eps in (0.1, 0.2):
    i = int(np.argmin(np.abs(epsilons - eps)))
    print(f"epsilon = {eps}: test accuracy under FGSM {fgsm_accuracy[i]:.3f}, "
          f"under random signs {random_accuracy[i]:.3f} (clean {fgsm_accuracy[0]:.3f})")

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(epsilons, fgsm_accuracy, "o-", label="FGSM, epsilon * sign(dL/dx)")
ax.plot(epsilons, random_accuracy, "s-", label="random signs, same size")
ax.set_xlabel("epsilon (largest change of a pixel; pixels in [0, 1])")
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.set_title("Digits MLP under attack")
ax.legend()
plt.show()

shown, labels_shown = X_test[:6], y_test[:6]
_, dx = input_gradient(classifier, shown, labels_shown)
attacked = fgsm_step(shown, dx, 0.15)
probs_clean, probs_adv = softmax(classifier.forward(shown)), softmax(classifier.forward(attacked))
fig, axes = plt.subplots(3, 6, figsize=(10, 5.4))
for i in range(6):
    for r, (image, probs, name) in enumerate([(shown[i], probs_clean[i], "clean"),
                                              (np.sign(dx[i]), None, "sign(dx)"),
                                              (attacked[i], probs_adv[i], "eps = 0.15")]):
        ax = axes[r, i]
        if probs is None:
            ax.imshow(image.reshape(8, 8), cmap="RdBu_r", vmin=-1, vmax=1)
            ax.set_title(name, fontsize=8)
        else:
            ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"{name}: {probs.argmax()} ({probs.max():.0%})", fontsize=8)
        ax.axis("off")
fig.suptitle("Test digits (true labels " + ", ".join(str(v) for v in labels_shown) + "): prediction and "
             "confidence, before and after FGSM")
plt.show()

# %% [markdown]
# ## 4. Graph networks
#
# In a graph the items are **nodes** and the data says which nodes are neighbours. Lecture 004: "the new
# state of the node is a function of its neighbourhood, but it should be order invariant with respect to
# the elements in the neighbourhood (by using commutative operations like summation)" (Battaglia et al.
# 2018). The adjacency matrix $A$ `(N, N)` holds the graph: $A_{ij} > 0$ when node $j$ sends a message to
# node $i$, so row $i$ lists $i$'s neighbours.
#
# The task: **node classification** on a graph drawn from a *stochastic block model*. 240 nodes fall into 4
# blocks (the classes) of 60; two nodes of the same block are linked with probability 0.1, of different
# blocks with probability 0.01, so most of a node's neighbours share its class. Each node has 16 noisy
# features around its class's mean, too noisy to classify a node from its own features alone: the graph
# must help. We see the labels of 48 nodes only, and predict the rest.

# %%
X_nodes, y_nodes, adj_nodes = make_sbm(signal=1.5, rng=np.random.default_rng(0))
degrees = adj_nodes.sum(axis=1)
same_block = (adj_nodes * (y_nodes[:, None] == y_nodes[None, :])).sum(axis=1) / np.maximum(degrees, 1)
print(f"{len(y_nodes)} nodes, {int(adj_nodes.sum() / 2)} edges, mean degree {degrees.mean():.1f}, "
      f"{np.mean(same_block):.0%} of a node's neighbours in its own block on average")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
ax1.imshow(adj_nodes, cmap="gray_r", interpolation="nearest")
ax1.set_title("Adjacency matrix (nodes ordered by block)")
ax1.set_xlabel("node j")
ax1.set_ylabel("node i")
two = X_nodes @ np.linalg.svd(X_nodes - X_nodes.mean(axis=0), full_matrices=False)[2][:2].T
ax2.scatter(two[:, 0], two[:, 1], c=y_nodes, cmap="tab10", vmin=0, vmax=9, s=12)
ax2.set_title("Node features, top two principal directions (colour = block)")
ax2.set_xlabel("first principal direction")
ax2.set_ylabel("second principal direction")
plt.show()


# %% [markdown]
# **What to see:** the adjacency is four dense diagonal blocks with a sprinkle of edges between them, while
# the node features overlap heavily: the classes are in the graph more than in the features.
#
# ### 4a. Message passing
#
# Each node aggregates its neighbours' features into a message $m_i$, by a sum or a mean (both are
# commutative), then mixes it with its own features:
#
# $$m_i = \sum_j A_{ij}\, h_j \;\;\text{(sum)}, \qquad m_i = \frac{1}{\deg_i} \sum_j A_{ij}\, h_j \;\;
#   \text{(mean, } \deg_i = \textstyle\sum_j A_{ij}), \qquad
#   \text{out}_i = h_i W_{self} + m_i W_{neigh} + b .$$
#
# In matrix form $m = \tilde A h$ with $\tilde A = A$ (sum) or $\tilde A = D^{-1} A$ (each row divided by
# its degree; a node without neighbours gets $m_i = 0$, so divide by 1 where the degree is 0).
#
# **Exercise 4a.** `message_passing_forward(h, adj, w_self, w_neigh, b, aggregation="mean")` returns
# `(out, cache)`: `h` `(N, D)`, `adj` `(N, N)` (floats, weights allowed), `w_self` and `w_neigh` `(D, H)`,
# `b` `(H,)`, `out` `(N, H)`, `aggregation` `'mean'` or `'sum'`. No non-linearity: a ReLU comes after, as a
# layer of its own.

# %% nbgrader={"grade": false, "grade_id": "message_passing_forward", "locked": false, "schema_version": 3, "solution": true}
def message_passing_forward(h, adj, w_self, w_neigh, b, aggregation="mean"):
    """out = h w_self + m w_neigh + b, m = adj h (sum) or its rows averaged (mean). Returns (out, cache)."""
    ### BEGIN SOLUTION a10.message_passing_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "message_passing_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
h_check = np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]])  # N = 3 nodes, D = 2 features
adj_check = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # 0 hears 1, 2; 1 hears 0; 2 nobody
eye, zeros = np.eye(2), np.zeros((2, 2))
w_self_check = np.array([[1.0, -1.0], [0.5, 0.0]])
w_neigh_check = np.array([[0.0, 1.0], [-1.0, 0.5]])
b_check = np.array([0.1, -0.2])
# Isolation cases: w_self = 0 and w_neigh = I leave the message m alone.
result = message_passing_forward(h_check, adj_check, zeros, eye, np.zeros(2), "mean")
assert isinstance(result, tuple) and len(result) == 2, "message_passing_forward must return (out, cache)."
grading.expect_close("the mean message m (w_self = 0, w_neigh = I)", result[0],
                     np.array([[2.0, 3.0], [1.0, 0.0], [0.0, 0.0]]),
                     hint="row i of m averages the h_j of i's neighbours (row i of adj); node 2 has none, so "
                     "its message is 0 (divide by 1, not by 0, where the degree is 0).")
grading.expect_close("the sum message m (w_self = 0, w_neigh = I)",
                     message_passing_forward(h_check, adj_check, zeros, eye, np.zeros(2), "sum")[0],
                     np.array([[4.0, 6.0], [1.0, 0.0], [0.0, 0.0]]), hint="m = adj @ h for 'sum'.")
grading.expect_close("out with w_neigh = 0 (the node's own term and b)",
                     message_passing_forward(h_check, adj_check, 2 * eye, zeros, np.array([1.0, -1.0]))[0],
                     2 * h_check + np.array([1.0, -1.0]), hint="out = h @ w_self + m @ w_neigh + b.")
out_check = message_passing_forward(h_check, adj_check, w_self_check, w_neigh_check, b_check)[0]
grading.expect_close("out (mean)", out_check, np.array([[-1.9, 2.3], [1.1, 0.8], [6.1, -4.2]]),
                     hint="mean is the default aggregation.")

# %% nbgrader={"grade": true, "grade_id": "message_passing_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a10.message_passing_forward", message_passing_forward)
### END HIDDEN TESTS

# %% [markdown]
# The backward pass. $h$ is read twice, as each node's own features and inside the neighbours' messages, so
# its gradient has two terms that add; the transpose $\tilde A^\top$ sends the gradient of each message back
# to the nodes that sent it. With $G$ = `dout` `(N, H)`:
#
# $$dm = G\, W_{neigh}^\top, \quad dh = G\, W_{self}^\top + \tilde A^\top dm, \quad dW_{self} = h^\top G,
#   \quad dW_{neigh} = m^\top G, \quad db = \textstyle\sum_i G_i .$$
#
# The adjacency is the structure of the data, not a parameter: no gradient for it.
#
# **Exercise 4b.** `message_passing_backward(dout, cache)` returns `(dh, dw_self, dw_neigh, db)`.

# %% nbgrader={"grade": false, "grade_id": "message_passing_backward", "locked": false, "schema_version": 3, "solution": true}
def message_passing_backward(dout, cache):
    """dout: (N, H). Returns (dh (N, D), dw_self (D, H), dw_neigh (D, H), db (H,))."""
    ### BEGIN SOLUTION a10.message_passing_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "message_passing_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
dout_check = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])  # with the inputs of exercise 4a
for aggregation, dh_expected, dw_neigh_expected in [
    ("mean", np.array([[2.0, 1.0], [-1.0, -0.5], [2.0, 0.0]]), np.array([[2.0, 1.0], [3.0, 0.0]])),
    ("sum", np.array([[2.0, 1.0], [-1.0, -1.0], [2.0, -0.5]]), np.array([[4.0, 1.0], [6.0, 0.0]])),
]:
    _, cache_check = message_passing_forward(h_check, adj_check, w_self_check, w_neigh_check, b_check,
                                             aggregation)
    grads = message_passing_backward(dout_check, cache_check)
    assert isinstance(grads, tuple) and len(grads) == 4, (
        "message_passing_backward must return (dh, dw_self, dw_neigh, db).")
    grading.expect_close(f"dw_self ({aggregation})", grads[1], np.array([[5.0, -4.0], [4.0, -2.0]]),
                         hint="dw_self = h.T @ dout.")
    grading.expect_close(f"dw_neigh ({aggregation})", grads[2], dw_neigh_expected,
                         hint="dw_neigh = m.T @ dout with the messages m of the forward pass.")
    grading.expect_close(f"db ({aggregation})", grads[3], np.array([2.0, 0.0]), hint="db = dout.sum(axis=0).")
    grading.expect_close(f"dh ({aggregation})", grads[0], dh_expected,
                         hint="dh = dout @ w_self.T + A.T @ (dout @ w_neigh.T), with A the averaging (mean) "
                         "or the adjacency (sum) matrix: both uses of h add, and the transpose matters here.")
rng = np.random.default_rng(1)
adj_random = (rng.random((5, 5)) < 0.5) * rng.uniform(0.5, 2.0, (5, 5))  # weighted and directed
errors = check_pair(lambda h, w_self, w_neigh, b: message_passing_forward(h, adj_random, w_self, w_neigh, b),
                    message_passing_backward,
                    {"h": rng.standard_normal((5, 3)), "w_self": rng.standard_normal((3, 2)),
                     "w_neigh": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)})
assert max(errors.values()) < 1e-7  # check_pair asserts per input and names the wrong one
print("ok: dh, dw_self, dw_neigh and db match central differences on a random graph "
      "(relative error below 1e-7, float64)")

# %% nbgrader={"grade": true, "grade_id": "message_passing_backward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a10.message_passing_backward", message_passing_forward, message_passing_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### 4b. Graph attention
#
# The mean listens to every neighbour equally. A **graph-attention** layer (GAT, Velickovic et al. 2018;
# lecture 004: $h_j^{(t)} = \sigma\big(\sum_i g(h_i^{(t-1)}, h_j^{(t-1)})\, f(h_i^{(t-1)})\big)$) learns the
# weights from the features. With $z = h W$ `(N, H)` and two attention vectors $a_{self}$, $a_{neigh}$ `(H,)`:
#
# $$s_{ij} = a_{self} \cdot z_i + a_{neigh} \cdot z_j, \qquad e_{ij} = \text{LeakyReLU}(s_{ij}) =
#   \begin{cases} s_{ij} & s_{ij} > 0 \\ 0.2\, s_{ij} & \text{otherwise,}\end{cases}$$
#
# $$\alpha_{ij} = \frac{\exp e_{ij}}{\sum_{k:\, A_{ik} > 0} \exp e_{ik}} \;\text{ for } A_{ij} > 0, \quad
#   \alpha_{ij} = 0 \text{ otherwise}, \qquad \text{out}_i = \sum_j \alpha_{ij}\, z_j .$$
#
# The adjacency is the attention's **mask**: `masked_softmax(e, adj > 0)` (assignment 07) gives each row's
# softmax over the neighbours only. Each node needs at least one neighbour: add self loops, $A + I$, so that
# a node also attends to itself. (A transformer's self-attention is this layer on the complete graph.) The
# scores are the $N \times N$ matrix $s = (z a_{self})_{:, \text{None}} + (z a_{neigh})_{\text{None}, :}$,
# built by broadcasting.
#
# **Exercise 4c.** `gat_forward(h, adj, w, a_self, a_neigh, negative_slope=0.2)` returns `(out, cache)`: `h`
# `(N, D)`, `adj` `(N, N)`, `w` `(D, H)`, `a_self` and `a_neigh` `(H,)`, `out` `(N, H)`.

# %% nbgrader={"grade": false, "grade_id": "gat_forward", "locked": false, "schema_version": 3, "solution": true}
def gat_forward(h, adj, w, a_self, a_neigh, negative_slope=0.2):
    """out_i = sum_j alpha_ij z_j, z = h w, alpha = masked softmax of the scores. Returns (out, cache)."""
    ### BEGIN SOLUTION a10.gat_forward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gat_forward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
h_check = np.array([[1.0, 1.0], [0.0, 2.0], [4.0, 4.0]])
adj_loops = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]])  # self loops; 2 hears only itself
w_check = np.array([[0.5, 0.0], [0.0, 0.25]])
a_self_check, a_neigh_check = np.array([0.5, -1.0]), np.array([-1.0, 0.5])
z_check = h_check @ w_check
# Isolation case 1: zero attention vectors give equal weights, the mean of z over each neighbourhood.
result = gat_forward(h_check, adj_loops, w_check, np.zeros(2), np.zeros(2))
assert isinstance(result, tuple) and len(result) == 2, "gat_forward must return (out, cache)."
grading.expect_close("out with a_self = a_neigh = 0 (uniform attention)", result[0],
                     np.array([z_check[:2].mean(axis=0), z_check.mean(axis=0), z_check[2]]),
                     hint="with all scores 0 each node averages z over its neighbours (row i of adj > 0), "
                     "and nothing else: are the non-neighbours masked out of the softmax?")
# Isolation case 2: a node whose only neighbour is itself returns its own z, whatever the scores.
out_check = gat_forward(h_check, adj_loops, w_check, a_self_check, a_neigh_check)[0]
grading.expect_close("out of node 2 (its only neighbour is itself)", out_check[2], z_check[2],
                     hint="one neighbour gets all the attention: alpha_22 = 1, so out_2 = z_2 = (h @ w)[2].")
grading.expect_close("out", out_check, np.array([[0.2097288476, 0.3951355762], [0.7153043312, 0.5509124085],
                                                 [2.0, 1.0]]),
                     hint="scores s_ij = a_self . z_i + a_neigh . z_j, LeakyReLU with slope 0.2 for s <= 0, "
                     "softmax over each row's neighbours, out = alpha @ z.")

# %% nbgrader={"grade": true, "grade_id": "gat_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a10.gat_forward", gat_forward)
### END HIDDEN TESTS

# %% [markdown]
# The backward pass, step by step in reverse, with $G$ = `dout` `(N, H)`:
#
# 1. $\text{out} = \alpha z$: $\;d\alpha = G z^\top$ `(N, N)`, and a first term of $dz$, $\alpha^\top G$
#    ($z_j$ is read by every node that attends to $j$).
# 2. Softmax of each row (`softmax_backward(dalpha, alpha)`, assignment 02):
#    $de_{ij} = \alpha_{ij}\big(d\alpha_{ij} - \sum_k \alpha_{ik}\, d\alpha_{ik}\big)$, automatically 0
#    off the mask, where $\alpha = 0$.
# 3. LeakyReLU: $ds_{ij} = de_{ij}$ where $s_{ij} > 0$, $0.2\, de_{ij}$ elsewhere.
# 4. $s_{ij} = a_{self} \cdot z_i + a_{neigh} \cdot z_j$ reads $z_i$ for every $j$ and $z_j$ for every $i$:
#    with the row sums $r_i = \sum_j ds_{ij}$ and the column sums $c_j = \sum_i ds_{ij}$,
#    $dz \mathrel{+}= r\, a_{self}^\top + c\, a_{neigh}^\top$, $\;da_{self} = z^\top r$,
#    $\;da_{neigh} = z^\top c$.
# 5. $z = h W$: $\;dW = h^\top dz$, $\;dh = dz\, W^\top$.
#
# (A curiosity of step 4: a softmax ignores a constant added to a whole row, and $a_{self} \cdot z_i$ is the
# same for the whole row $i$, so $a_{self}$ acts only through the LeakyReLU's kink; its gradient vanishes
# where a row's scores all have one sign. This is why GATv2, Brody et al. 2022, applies the non-linearity
# before the dot product.)
#
# **Exercise 4d.** `gat_backward(dout, cache)` returns `(dh, dw, da_self, da_neigh)`.

# %% nbgrader={"grade": false, "grade_id": "gat_backward", "locked": false, "schema_version": 3, "solution": true}
def gat_backward(dout, cache):
    """dout: (N, H). Returns (dh (N, D), dw (D, H), da_self (H,), da_neigh (H,))."""
    ### BEGIN SOLUTION a10.gat_backward
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gat_backward_visible", "locked": true, "points": 2, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
_, cache_check = gat_forward(h_check, adj_loops, w_check, a_self_check, a_neigh_check)  # as in exercise 4c
grads = gat_backward(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]), cache_check)
assert isinstance(grads, tuple) and len(grads) == 4, "gat_backward must return (dh, dw, da_self, da_neigh)."
for name, got, shape in zip(("dh", "dw", "da_self", "da_neigh"), grads, [(3, 2), (2, 2), (2,), (2,)]):
    grading.expect_shape(name, got, shape, hint="each gradient has the shape of its input.")
grading.expect_close("da_neigh", grads[3], np.array([0.0508397719, -0.0374262172]),
                     hint="da_neigh = z.T @ (column sums of dscores), dscores = de through the LeakyReLU.")
grading.expect_close("da_self", grads[2], np.array([-0.0487025874, -0.0243512937]),
                     hint="da_self = z.T @ (row sums of dscores); with only de (no LeakyReLU factor) the row "
                     "sums of a softmax's gradient are 0.")
grading.expect_close("dw", grads[1], np.array([[4.269075564, -2.4211463908], [5.6815445864, -1.7737976256]]),
                     hint="dw = h.T @ dz, with all three terms of dz: alpha.T @ dout, two from the scores.")
grading.expect_close("dh", grads[0], np.array([[0.1834661235, 0.1101049342], [0.3531172556, 0.0809185956],
                                               [0.4877679146, -0.178847883]]), hint="dh = dz @ w.T.")
rng = np.random.default_rng(2)
adj_random = ((rng.random((5, 5)) < 0.5) | np.eye(5, dtype=bool)).astype(float)
errors = check_pair(lambda h, w, a_self, a_neigh: gat_forward(h, adj_random, w, a_self, a_neigh),
                    gat_backward,
                    {"h": rng.standard_normal((5, 3)), "w": rng.standard_normal((3, 2)),
                     "a_self": rng.standard_normal(2), "a_neigh": rng.standard_normal(2)})
assert max(errors.values()) < 1e-7  # check_pair asserts per input and names the wrong one
print("ok: dh, dw, da_self and da_neigh match central differences on a random graph "
      "(relative error below 1e-7, float64)")

# %% nbgrader={"grade": true, "grade_id": "gat_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hidden tests: the grader compares your function with the reference on fresh random inputs.
### BEGIN HIDDEN TESTS
from autograder.checks import run

run("a10.gat_backward", gat_forward, gat_backward)
### END HIDDEN TESTS

# %% [markdown]
# **Node classification.** The layers below wrap your pairs as modules on a fixed graph (the library's
# `course.layers.graph.MessagePassing` and `GraphAttention` are the same, around the reference pairs).
# The graph-attention layer adds self loops and starts with zero attention vectors, i.e. as the plain mean
# over each neighbourhood, and learns from there where to look. Four models, each two layers with 16
# hidden units and a ReLU between: a per-node **MLP** (it never sees the graph), message passing with the
# **mean** and with the **sum**, and **GAT**. Each is trained full-batch with Adam (learning rate 0.01, weight
# decay $5 \cdot 10^{-4}$, 200 steps) on the loss of the 48 labelled nodes only: the scores of all 240 nodes
# are computed (a node's prediction needs its neighbours), and the gradient of the unlabelled ones is 0. The
# step with the best accuracy on 72 validation nodes is kept, and the accuracy on the remaining 120 test
# nodes is reported, averaged over three graphs drawn with different seeds.
#
# **What to see:** the MLP stays near 50% (4 classes: chance is 25%), while both graph networks, which
# average over neighbours that mostly share the label, reach 80 to 90% (printed below).

# %%
class MessagePassingLayer(Module):
    """Your message-passing pair on the fixed graph adj: w_self, w_neigh (D, H) He-normal, b (H,) zero."""

    def __init__(self, in_features, out_features, adj, aggregation="mean", seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        std = np.sqrt(2.0 / in_features)
        self.add_param("w_self", (rng.standard_normal((in_features, out_features)) * std).astype(np.float32))
        self.add_param("w_neigh", (rng.standard_normal((in_features, out_features)) * std).astype(np.float32))
        self.add_param("b", np.zeros(out_features, dtype=np.float32))
        self.adj, self.aggregation = adj, aggregation

    def forward(self, x):
        p = self.params
        out, self.cache = message_passing_forward(x, self.adj, p["w_self"], p["w_neigh"], p["b"],
                                                  self.aggregation)
        return out

    def backward(self, dout):
        dh, dw_self, dw_neigh, db = message_passing_backward(dout, self.cache)
        self.accumulate("w_self", dw_self)
        self.accumulate("w_neigh", dw_neigh)
        self.accumulate("b", db)
        return dh


class GATLayer(Module):
    """Your graph-attention pair on adj + I: w (D, H) Glorot-normal, a_self and a_neigh (H,) zero."""

    def __init__(self, in_features, out_features, adj, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        std = np.sqrt(2.0 / (in_features + out_features))
        self.add_param("w", (rng.standard_normal((in_features, out_features)) * std).astype(np.float32))
        self.add_param("a_self", np.zeros(out_features, dtype=np.float32))
        self.add_param("a_neigh", np.zeros(out_features, dtype=np.float32))
        self.adj = adj + np.eye(len(adj), dtype=adj.dtype)  # self loops: a node attends to itself too

    def forward(self, x):
        p = self.params
        out, self.cache = gat_forward(x, self.adj, p["w"], p["a_self"], p["a_neigh"])
        return out

    def backward(self, dout):
        dh, dw, da_self, da_neigh = gat_backward(dout, self.cache)
        self.accumulate("w", dw)
        self.accumulate("a_self", da_self)
        self.accumulate("a_neigh", da_neigh)
        return dh


def fit_nodes(model, X, y, splits, steps=200):
    """Full-batch Adam on the labelled nodes; returns the test accuracy at the best validation step."""
    train_idx, val_idx, test_idx = splits
    optimizer = Optimizer(model, adam, learning_rate=1e-2, weight_decay=5e-4)
    best_val, best_test = -1.0, 0.0
    for _ in range(steps):
        optimizer.zero_grad()
        scores = model.forward(X)  # (N, C): every node, so that each sees its neighbours
        predicted = scores.argmax(axis=1)
        val_acc, test_acc = (np.mean(predicted[idx] == y[idx]) for idx in (val_idx, test_idx))
        if val_acc > best_val:  # the parameters before this step
            best_val, best_test = val_acc, test_acc
        _, dlabelled = softmax_cross_entropy(scores[train_idx], y[train_idx])
        dscores = np.zeros_like(scores)
        dscores[train_idx] = dlabelled  # the unlabelled nodes add nothing to the loss
        model.backward(dscores)
        optimizer.step()
    return best_test


def node_models(adj, features=16, hidden=16, classes=4):
    """The four two-layer models of the comparison, seeded, on the graph adj."""
    def two_layers(first, second):
        return Sequential(first, ReLU(), second)

    return {
        "MLP (per node)": two_layers(Linear(features, hidden, rng=0), Linear(hidden, classes, rng=1)),
        "message passing, mean": two_layers(MessagePassingLayer(features, hidden, adj, "mean", seed=0),
                                            MessagePassingLayer(hidden, classes, adj, "mean", seed=1)),
        "message passing, sum": two_layers(MessagePassingLayer(features, hidden, adj, "sum", seed=0),
                                           MessagePassingLayer(hidden, classes, adj, "sum", seed=1)),
        "GAT": two_layers(GATLayer(features, hidden, adj, seed=0), GATLayer(hidden, classes, adj, seed=1)),
    }


# %%
node_accuracy = {}
for graph_seed in range(3):
    X_g, y_g, adj_g = make_sbm(signal=1.5, rng=np.random.default_rng(graph_seed))
    order = np.random.default_rng(100 + graph_seed).permutation(len(y_g))
    splits = (order[:48], order[48:120], order[120:])  # 48 labelled, 72 validation, 120 test nodes
    for name, model in node_models(adj_g).items():
        node_accuracy.setdefault(name, []).append(fit_nodes(model, X_g, y_g, splits))
for name, accs in node_accuracy.items():
    per_graph = ", ".join(f"{a:.3f}" for a in accs)
    print(f"{name:>22}: test accuracy {np.mean(accs):.3f} (the three graphs: {per_graph})")

fig, ax = plt.subplots(figsize=(7, 3.6))
names = list(node_accuracy)
ax.bar(range(len(names)), [np.mean(node_accuracy[n]) for n in names], color=["0.6", "C0", "C1", "C2"])
ax.axhline(0.25, color="0.4", ls=":", label="chance (4 classes)")
ax.set_xticks(range(len(names)), [n.replace(", ", "\n") for n in names], fontsize=8)
ax.set_ylabel("test accuracy (mean of 3 graphs)")
ax.set_ylim(0, 1)
ax.set_title("Node classification on a stochastic block model, 48 labelled nodes")
ax.legend()
plt.show()

# %% [markdown]
# ## 5. Linear regions of a ReLU network
#
# A ReLU network is piecewise linear. Fix its **activation pattern** (which units are on, pre-activation
# $> 0$, in every layer): each layer is then an affine map followed by a fixed 0/1 mask, so the whole net is
# one affine function, and the inputs with that pattern form a convex polytope (an intersection of
# half-spaces). These are the **linear regions**. The library's `region_labels(layers, X)` labels every
# point of a grid by its pattern and `count_linear_regions` counts the distinct ones (regions thinner
# than the grid's step are missed: the count is a lower bound for the window).
#
# Lecture 004 ("What does depth provide?") gives the numbers to compare with:
#
# - **one hidden layer** of $m$ units in 2-D cuts the plane with $m$ lines $W_{1,[i:]} x + b_{1,[i]} = 0$.
#   By **Zaslavsky's theorem** (1975), $m$ lines make at most $r(\mathcal A_m) = \binom{m}{2} + m + 1$
#   regions (reached when they are in general position): the most a shallow net can have;
# - a **second layer** cuts every region again, along lines bent by the first ("partitioning into regions by
#   second hidden layer"), and Montufar et al. (2014, "On the number of linear regions of deep neural
#   networks", cited in the lecture) show that by *folding* the space, $L$ layers of $n \ge 2$ units can make
#   at least $\lfloor n/2 \rfloor^{2(L-1)} \big(\binom{n}{2} + n + 1\big)$ regions: exponentially many in
#   the depth for a number of units only linear in it.
#
# The cell below draws the regions of three nets with 24 hidden units each on $[-1, 1]^2$ (random
# He-normal weights, biases $\mathcal N(0, 0.5^2)$): one layer of 24, two of 12, three of 8. Then it counts
# the regions of all depths at 24 units, averaged over 5 random nets, next to Zaslavsky's bound for 24
# units, and builds one deep net that does fold the square: each of its layers applies the tent map
# $t(u) = 2\,\text{relu}(u) - 4\,\text{relu}(u - 1/2)$ to both coordinates (4 units per layer), so after $L$
# layers the square $[0, 1]^2$ holds $4^L$ regions.
#
# **What to see:** at the same 24 units the random deep nets do **not** have more regions than the shallow
# one (rather fewer), all below Zaslavsky's 301; yet the folding net passes the shallow bound for the same
# number of units from 4 layers (16 units) on, and by 5 layers it has 1024 regions where 20 units in one
# layer can make at most 211 (printed). Depth *can* buy exponentially many regions, but random or trained
# nets are nowhere near those maxima (Hanin & Rolnick 2019 find the count grows with the number of units,
# not exponentially with depth): the lecture's question whether this explains the success of deep
# learning, "the answer is probably no".

# %%
grid = grid_points(-1.0, 1.0, 300)  # (90 000, 2) cell centres
fig, axes = plt.subplots(1, 4, figsize=(15, 3.9))
for ax, widths in zip(axes[:3], ([24], [12, 12], [8, 8, 8])):
    labels, count = region_labels(random_relu_net(widths, np.random.default_rng(0)), grid)
    shuffled = np.random.default_rng(1).permutation(count)[labels]  # neighbours get unrelated colours
    ax.imshow(shuffled.reshape(300, 300), cmap="tab20", origin="lower", extent=(-1, 1, -1, 1))
    ax.set_title(f"widths {widths}: {count} regions", fontsize=9)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
square = grid_points(0.0, 1.0, 320)
labels, count = region_labels(folding_net(3), square)
axes[3].imshow(np.random.default_rng(1).permutation(count)[labels].reshape(320, 320), cmap="tab20",
               origin="lower", extent=(0, 1, 0, 1))
axes[3].set_title(f"folding net, 3 layers of 4: {count} regions", fontsize=9)
axes[3].set_xlabel("x1")
axes[3].set_ylabel("x2")
fig.suptitle("Linear regions (one colour per activation pattern; colours repeat)")
plt.tight_layout()
plt.show()

print("random nets with 24 hidden units on [-1, 1]^2 (mean over 5 nets; Zaslavsky's bound for 24 units in "
      f"one layer: {zaslavsky_bound(24)})")
for widths in ([24], [12, 12], [8, 8, 8], [6, 6, 6, 6], [4] * 6):
    counts = [count_linear_regions(random_relu_net(widths, np.random.default_rng(s)), grid) for s in range(5)]
    print(f"  {len(widths)} x {widths[0]:>2} units: {np.mean(counts):6.1f} regions "
          f"(Montufar's lower bound on the maximum for this shape: {montufar_bound(widths[0], len(widths))})")
print("folding nets on [0, 1]^2 against the most one layer of the same number of units can make:")
fold_depths = range(1, 6)
fold_counts = [count_linear_regions(folding_net(L), grid_points(0.0, 1.0, 400)) for L in fold_depths]
for L, count in zip(fold_depths, fold_counts):
    print(f"  {L} layer(s), {4 * L:>2} units: {count:5d} regions; Zaslavsky's bound for {4 * L} units in one "
          f"layer: {zaslavsky_bound(4 * L)}")

fig, ax = plt.subplots(figsize=(6.5, 4))
units = [4 * L for L in fold_depths]
ax.semilogy(units, fold_counts, "o-", label="folding net (L layers of 4 units)")
ax.semilogy(units, [zaslavsky_bound(u) for u in units], "s--", label="one layer: Zaslavsky's bound")
ax.set_xlabel("number of hidden units")
ax.set_ylabel("linear regions (log scale)")
ax.set_title("Depth against width at a fixed number of units")
ax.legend()
plt.show()

# %% [markdown]
# ## Summary
#
# One toolbox, four directions. An autoencoder without a non-linearity rediscovers PCA: gradient descent
# lands on the principal subspace (to a thousandth of a radian), though not on the principal directions
# themselves; with a non-linearity and corrupted inputs it learns enough about digits to repair them. The
# gradient of the loss with respect to the input, one more step of the backward pass, is all an attacker
# needs: a perturbation of a pixel grey level or two, aligned with its sign, undoes the classifier, while
# random noise of the same size does nothing. On graphs, a layer that aggregates over neighbours with a
# commutative operation (a mean, a sum, or learned attention weights) uses the structure a per-node model
# cannot see. And a ReLU network is a patchwork of linear pieces whose number depth can make exponential,
# though nothing forces a trained network to use that capacity.

# %% nbgrader={"grade": false, "grade_id": "check_my_work", "locked": true, "schema_version": 3, "solution": false}
# Check your work: save the notebook (Ctrl+S), then run this cell. It runs the saved notebook top to bottom
# in a fresh kernel and lists every exercise with its visible test's result and its points. From a terminal:
# python -m course.check a10_beyond.ipynb
# The hidden tests run only when your work is graded.
from course.check import check_my_work

check_my_work("a10_beyond.ipynb")
