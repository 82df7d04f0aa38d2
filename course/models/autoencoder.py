"""Autoencoders: the linear autoencoder is PCA, and a small non-linear denoising one (lecture 002).

An autoencoder maps x to a short code z and back, and is trained to give back its input:
L = ||f(x) - x||^2. Lecture 002 ("Auto-encoders"): with the identity as non-linearity the network
x_hat = x W_enc W_dec "performs SVD decomposition". The Eckart-Young theorem makes that exact: the best
rank-K approximation of the centred data X = U S V^T is X V_K V_K^T, so the optimal decoder spans the
top-K right singular vectors V_K (the principal subspace), and gradient descent on the linear autoencoder
finds that subspace (Baldi & Hornik 1989: every other critical point is a saddle). It need not find
V_K itself: any W_enc = V_K A, W_dec = A^{-1} V_K^T is optimal, so the subspace is compared with
principal angles, not the matrices entry by entry.

Shapes (batch-first rows): x (N, D), w_enc (D, K), code z (N, K), w_dec (K, D), x_hat (N, D). In the
lecture's column notation x_hat = W_dec W_enc x, the decoder's column space is the span of the rows of
our ``w_dec`` (the columns of ``w_dec.T``): the D-dimensional directions the decoder can produce.

The denoising autoencoder (lecture 002, "corrupted image" -> "predicted image") is trained on corrupted
inputs against the clean targets, so it must learn what digits look like rather than copy pixels; it is
built from the existing layers (``Linear``, ``ReLU``, ``Sigmoid``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module, Sequential
from course.core.validation import check_array, check_choice, check_positive
from course.layers.activations import ReLU, Sigmoid
from course.layers.affine import Linear


def linear_autoencoder_forward(x: Any, w_enc: Any, w_dec: Any) -> tuple[Any, tuple]:
    """Linear autoencoder, x_hat = (x W_enc) W_dec (no non-linearity, no biases: centre x first).

    Inputs:
    - x: (N, D) inputs.
    - w_enc: (D, K) encoder weights.
    - w_dec: (K, D) decoder weights.

    Returns:
    - x_hat: (N, D) reconstructions.
    - cache: (x, w_enc, w_dec, z) with z = x W_enc (N, K), the codes.
    """
    dims: dict[str, int] = {}
    check_array("linear_autoencoder_forward", "x", x, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("linear_autoencoder_forward", "w_enc", w_enc, ("D", "K"), dims=dims, dtype_kind="f")
    check_array("linear_autoencoder_forward", "w_dec", w_dec, ("K", "D"), dims=dims, dtype_kind="f")
    # BEGIN GRADED a10.linear_autoencoder_forward
    z = x @ w_enc  # (N, D) @ (D, K) -> (N, K): the codes
    x_hat = z @ w_dec  # (N, K) @ (K, D) -> (N, D): the reconstructions
    cache = (x, w_enc, w_dec, z)
    return x_hat, cache
    # END GRADED


def linear_autoencoder_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward pass of the linear autoencoder: two affine layers without bias, in reverse.

    dw_dec = z^T dout, dz = dout W_dec^T, dw_enc = x^T dz, dx = dz W_enc^T.

    Inputs:
    - dout: (N, D) upstream gradient (of the reconstructions x_hat).
    - cache: (x, w_enc, w_dec, z) from ``linear_autoencoder_forward``.

    Returns:
    - dx: (N, D), dw_enc: (D, K), dw_dec: (K, D).
    """
    x = cache[0]
    check_array("linear_autoencoder_backward", "dout", dout, tuple(x.shape), dtype_kind="f")
    # BEGIN GRADED a10.linear_autoencoder_backward
    x, w_enc, w_dec, z = cache
    dw_dec = z.T @ dout  # (K, N) @ (N, D) -> (K, D)
    dz = dout @ w_dec.T  # (N, K): the gradient reaching the codes
    dw_enc = x.T @ dz  # (D, N) @ (N, K) -> (D, K)
    dx = dz @ w_enc.T  # (N, D)
    return dx, dw_enc, dw_dec
    # END GRADED


def tied_autoencoder_forward(x: Any, w: Any) -> tuple[Any, tuple]:
    """Tied linear autoencoder, x_hat = x W W^T: the decoder is the encoder transposed.

    Inputs:
    - x: (N, D); w: (D, K), used twice (as W_enc = w and W_dec = w^T).

    Returns:
    - x_hat: (N, D); cache: the cache of ``linear_autoencoder_forward``.
    """
    return linear_autoencoder_forward(x, w, w.T)


def tied_autoencoder_backward(dout: Any, cache: tuple) -> tuple[Any, Any]:
    """Backward pass of the tied autoencoder: w is used twice, so its two gradients add.

    dw = dw_enc + dw_dec^T (the gradient of the use as W_dec = w^T, transposed back to w's shape).

    Inputs:
    - dout: (N, D); cache: from ``tied_autoencoder_forward``.

    Returns:
    - dx: (N, D); dw: (D, K).
    """
    dx, dw_enc, dw_dec = linear_autoencoder_backward(dout, cache)
    return dx, dw_enc + dw_dec.T


def pca_basis(X: Any, k: int) -> Any:
    """The top-k principal directions of X: right singular vectors of the centred X, X - mean = U S V^T.

    Inputs:
    - X: (N, D) data (centred here; centring twice changes nothing).
    - k: number of directions, 1 <= k <= min(N, D).

    Returns:
    - V_k: (D, k), orthonormal columns, by decreasing singular value.
    """
    check_array("pca_basis", "X", X, ndim=2, dtype_kind="f")
    if not 1 <= k <= min(X.shape):
        raise ValueError(f"pca_basis: k must be in [1, min(N, D)] = [1, {min(X.shape)}], got {k}")
    xp = get_array_module(X)
    _, _, vt = xp.linalg.svd(X - X.mean(axis=0), full_matrices=False)  # vt: (min(N, D), D)
    return vt[:k].T  # (D, k)


def linear_autoencoder_closed_form(X: Any, k: int) -> tuple[Any, Any, float]:
    """The optimal linear autoencoder of the centred data (Eckart-Young): W_enc = V_k, W_dec = V_k^T.

    Its mean squared reconstruction error, over all N D entries, is the energy of the discarded
    directions, sum_{i > k} s_i^2 / (N D) with s the singular values of the centred X.

    Inputs:
    - X: (N, D) data; k: the code size K.

    Returns:
    - w_enc: (D, K); w_dec: (K, D); mse: the optimal mean squared error, a float.
    """
    check_array("linear_autoencoder_closed_form", "X", X, ndim=2, dtype_kind="f")
    xp = get_array_module(X)
    v = pca_basis(X, k)  # (D, K)
    s = xp.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    mse = float((s[k:] ** 2).sum()) / X.size
    return v, v.T, mse


def principal_angles(A: Any, B: Any) -> Any:
    """Principal angles between span(A) and span(B), in radians, smallest first.

    With orthonormal bases Q_A, Q_B of the two spans, the cosines of the angles are the singular values
    of Q_A^T Q_B (Bjorck & Golub 1973). All angles 0 means one span contains the other.

    Inputs:
    - A: (D, K) and B: (D, L), each of full column rank (any basis: it is orthonormalised first).

    Returns:
    - theta: (min(K, L),) angles in [0, pi/2], ascending.
    """
    dims: dict[str, int] = {}
    check_array("principal_angles", "A", A, ("D", None), dims=dims, dtype_kind="f")
    check_array("principal_angles", "B", B, ("D", None), dims=dims, dtype_kind="f")
    # BEGIN GRADED a10.principal_angles
    xp = get_array_module(A, B)
    qa, _ = xp.linalg.qr(A)  # (D, K): orthonormal basis of span(A)
    qb, _ = xp.linalg.qr(B)  # (D, L)
    cosines = xp.linalg.svd(qa.T @ qb, compute_uv=False)  # (min(K, L),), largest cosine first
    return xp.arccos(xp.clip(cosines, -1.0, 1.0))  # round-off can push a cosine just above 1
    # END GRADED


class LinearAutoencoder(Module):
    """The linear autoencoder as a module: ``w_enc`` (D, K) and ``w_dec`` (K, D), or one tied ``w`` (D, K).

    Both start as small Gaussian draws (std ``init_std``) of ``rng`` (an int seed or a Generator).
    Forward and backward call the pairs above; the parameter gradients accumulate.
    """

    def __init__(
        self,
        in_features: int,
        code_size: int,
        *,
        tied: bool = False,
        rng: np.random.Generator | int | None = None,
        init_std: float = 0.1,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        check_positive("LinearAutoencoder", "code_size", code_size)
        rng = np.random.default_rng(0 if rng is None else rng)
        self.tied = tied
        w_enc = rng.standard_normal((in_features, code_size)) * init_std
        self.add_param("w" if tied else "w_enc", w_enc.astype(dtype))
        if not tied:
            w_dec = rng.standard_normal((code_size, in_features)) * init_std
            self.add_param("w_dec", w_dec.astype(dtype))

    def decoder_directions(self) -> Any:
        """(D, K): the directions the decoder produces (the lecture's decoder column space)."""
        return self.params["w"] if self.tied else self.params["w_dec"].T

    def forward(self, x: Any) -> Any:
        if self.tied:
            out, self.cache = tied_autoencoder_forward(x, self.params["w"])
        else:
            out, self.cache = linear_autoencoder_forward(x, self.params["w_enc"], self.params["w_dec"])
        return out

    def backward(self, dout: Any) -> Any:
        if self.tied:
            dx, dw = tied_autoencoder_backward(dout, self.cache)
            self.accumulate("w", dw)
        else:
            dx, dw_enc, dw_dec = linear_autoencoder_backward(dout, self.cache)
            self.accumulate("w_enc", dw_enc)
            self.accumulate("w_dec", dw_dec)
        return dx


def corrupt(X: Any, level: float, rng: np.random.Generator, kind: str = "mask") -> Any:
    """A corrupted copy of images with values in [0, 1], for training a denoising autoencoder.

    - kind 'mask': each pixel is set to 0 with probability ``level`` (masking noise);
    - kind 'gaussian': x + level * N(0, 1) per pixel, clipped back to [0, 1].

    Inputs:
    - X: (N, D) images in [0, 1]; level: the drop probability or the noise's standard deviation;
      rng: a ``numpy.random.Generator``.

    Returns:
    - X_noisy: (N, D), same dtype as X (X itself is not modified).
    """
    check_array("corrupt", "X", X, dtype_kind="f")
    check_choice("corrupt", "kind", kind, ("mask", "gaussian"))
    check_positive("corrupt", "level", level, allow_zero=True)
    if kind == "mask" and level > 1:
        raise ValueError(f"corrupt: a masking level is a probability in [0, 1], got {level}")
    xp = get_array_module(X)
    if kind == "mask":
        keep = xp.asarray(rng.random(X.shape) >= level)
        return X * keep
    noise = xp.asarray(rng.standard_normal(X.shape)).astype(X.dtype)
    return xp.clip(X + level * noise, 0, 1)


def denoising_autoencoder(
    in_features: int = 64, hidden: int = 32, rng: np.random.Generator | int | None = None
) -> Sequential:
    """A one-hidden-layer non-linear autoencoder: Linear(D, H) - ReLU - Linear(H, D) - Sigmoid.

    The sigmoid keeps the reconstructions in (0, 1), the range of the pixels. ``rng`` seeds both layers
    (an int ``s`` gives the seeds ``s`` and ``s + 1``). Train it on ``corrupt(X)`` against ``X``.
    """
    seed = 0 if rng is None else rng
    first, second = (seed, seed + 1) if isinstance(seed, int) else (seed, seed)
    return Sequential(
        Linear(in_features, hidden, rng=first, input_grad=False),
        ReLU(),
        Linear(hidden, in_features, rng=second, init="glorot"),
        Sigmoid(),
    )
