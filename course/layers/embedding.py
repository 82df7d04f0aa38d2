"""Word embeddings: a lookup table W (V, D) indexed by word ids (lecture 003, "word embeddings").

Looking up row x of W is the matrix product onehot(x) @ W with a sparse one-hot matrix, which is how the
lecture presents it; the backward pass is then onehot(x)^T @ dout: every occurrence of a word adds its
upstream gradient into that word's row. A word that appears twice gets *both* gradients, so the backward
pass must accumulate (``add.at``), not assign (``dW[x] = dout`` would keep only one of them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array


def _check_ids(func: str, x: Any, vocab_size: int) -> None:
    check_array(func, "x", x, ("N", "T"), dtype_kind="i")
    if x.size and (int(x.min()) < 0 or int(x.max()) >= vocab_size):
        raise ValueError(
            f"{func}: x must hold word ids in [0, V) = [0, {vocab_size}), "
            f"got values in [{int(x.min())}, {int(x.max())}]"
        )


def word_embedding_forward(x: Any, W: Any) -> tuple[Any, tuple]:
    """Embedding lookup, out[n, t] = W[x[n, t]].

    Inputs:
    - x: (N, T) integer word ids in [0, V).
    - W: (V, D) embedding table, one row per word.

    Returns:
    - out: (N, T, D).
    - cache: (x, W.shape, W.dtype): backward needs the ids and the table's shape, not its values.
    """
    check_array("word_embedding_forward", "W", W, ("V", "D"), dtype_kind="f")
    _check_ids("word_embedding_forward", x, W.shape[0])
    # BEGIN GRADED a06.word_embedding_forward
    out = W[x]  # (N, T, D)
    return out, (x, W.shape, W.dtype)
    # END GRADED


def word_embedding_backward(dout: Any, cache: tuple) -> Any:
    """Embedding backward, dW[v] = sum of dout[n, t] over every (n, t) with x[n, t] = v.

    Inputs:
    - dout: (N, T, D) upstream gradient.
    - cache: from ``word_embedding_forward``.

    Returns:
    - dW: (V, D); rows of words that did not occur are zero. (The ids get no gradient.)
    """
    check_array("word_embedding_backward", "dout", dout, (*cache[0].shape, cache[1][1]), dtype_kind="f")
    # BEGIN GRADED a06.word_embedding_backward
    x, w_shape, w_dtype = cache
    xp = get_array_module(dout)
    dW = xp.zeros(w_shape, dtype=w_dtype)
    xp.add.at(dW, x.reshape(-1), dout.reshape(-1, w_shape[1]))  # unbuffered: repeated ids accumulate
    return dW
    # END GRADED


class Embedding(Module):
    """An embedding table ``W`` (num_embeddings, embedding_dim), initialised from N(0, 1).

    ``forward`` takes (N, T) integer ids; ``backward`` accumulates into ``grads['W']`` and returns None,
    since integer ids have no gradient. ``rng`` is a Generator or an int seed (None means seed 0).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(0 if rng is None else rng)
        self.add_param("W", rng.standard_normal((num_embeddings, embedding_dim)).astype(dtype))

    def forward(self, x: Any) -> Any:
        out, self.cache = word_embedding_forward(x, self.params["W"])
        return out

    def backward(self, dout: Any) -> None:
        self.accumulate("W", word_embedding_backward(dout, self.cache))
        return None
