"""A character n-gram language model with add-k smoothing: the baseline for the char-level RNN (lecture 003,
"n-grams").

The chain rule writes p(text) = prod_t p(c_t | c_1..c_{t-1}); an n-gram model keeps only the last n - 1
characters of the history and estimates from counts
    p(c | ctx) = (count(ctx, c) + k) / (count(ctx) + k V),
where add-k smoothing gives every unseen continuation a little probability (k = 1 is Laplace) so held-out
text never gets probability zero. Its "memory" is exactly n - 1 characters: no gradient, no state, the
strongest possible vanishing of long-range information. Reported, like the RNN, in nats per character.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course.core.validation import check_array, check_positive


def window_codes(ids: np.ndarray, n: int, V: int) -> np.ndarray:
    """One integer per window of n consecutive ids, code_t = sum_j ids[t + j] V^(n - 1 - j); (len - n + 1,).

    The ids are the digits of the code in base V, oldest first, so ``code // V`` is the code of the
    window's context (its first n - 1 ids) and ``code % V`` its last id.
    """
    L = ids.shape[0] - n + 1
    code = np.zeros(L, dtype=np.int64)
    for j in range(n):
        code = code * V + ids[j : j + L]
    return code


class NGramLM:
    """Add-k smoothed character n-gram model over ids in [0, V).

    ``NGramLM(n, V, k).fit(train_ids)`` counts every n-gram and (n-1)-gram context;
    ``log_probs(ids)`` gives log p(ids[t] | ids[t-n+1 .. t-1]) for t = n-1 .. len-1; ``nats_per_char(ids)``
    is their negative mean. Counts are stored by ``window_codes`` in sorted arrays: ``gram_count(codes)``
    and ``context_count(context_codes)`` look them up (binary searches; 0 for what was never seen).
    """

    def __init__(self, n: int, V: int, k: float = 1.0) -> None:
        check_positive("NGramLM", "n", n)
        check_positive("NGramLM", "V", V)
        check_positive("NGramLM", "k", k)
        if V**n >= 2**62:
            raise ValueError(f"NGramLM: V^n = {V}^{n} does not fit the int64 n-gram codes; use a smaller n")
        self.n, self.V, self.k = int(n), int(V), float(k)
        self.gram_codes: np.ndarray | None = None

    def fit(self, ids: Any) -> NGramLM:
        """Count the n-grams and their contexts in a 1-D id array; returns self."""
        check_array("NGramLM.fit", "ids", ids, ndim=1, dtype_kind="i")
        ids = np.asarray(ids, dtype=np.int64)
        if ids.shape[0] < self.n:
            raise ValueError(f"NGramLM.fit: need at least n = {self.n} ids, got {ids.shape[0]}")
        self.gram_codes, self.gram_counts = np.unique(window_codes(ids, self.n, self.V), return_counts=True)
        # the context counts come from the n-grams themselves, so count(ctx) = sum_c count(ctx, c) exactly
        ctx = self.gram_codes // self.V
        self.ctx_codes, first = np.unique(ctx, return_index=True)
        self.ctx_counts = np.add.reduceat(self.gram_counts, first)
        return self

    @staticmethod
    def _lookup(table: np.ndarray, counts: np.ndarray, codes: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(table, codes), table.shape[0] - 1)
        return np.where(table[pos] == codes, counts[pos], 0)

    def gram_count(self, codes: Any) -> np.ndarray:
        """count(ctx, c) of each n-gram, given its ``window_codes``; 0 for an n-gram never seen in fit."""
        return self._lookup(self.gram_codes, self.gram_counts, codes)

    def context_count(self, context_codes: Any) -> np.ndarray:
        """count(ctx) = sum_c count(ctx, c) of each context (code // V of its n-gram); 0 if never seen."""
        return self._lookup(self.ctx_codes, self.ctx_counts, context_codes)

    def log_probs(self, ids: Any) -> np.ndarray:
        """Natural-log probabilities of ids[n-1:], each given its n - 1 predecessors; (len(ids) - n + 1,)."""
        if self.gram_codes is None:
            raise ValueError("NGramLM.log_probs: call fit first")
        check_array("NGramLM.log_probs", "ids", ids, ndim=1, dtype_kind="i")
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.V):
            raise ValueError(f"NGramLM.log_probs: ids must lie in [0, V) = [0, {self.V})")
        # BEGIN GRADED a06.ngram_log_probs
        codes = window_codes(ids, self.n, self.V)  # (len(ids) - n + 1,): one code per n-gram
        gram = self.gram_count(codes)  # count(ctx, c)
        context = self.context_count(codes // self.V)  # count(ctx): the code without its last id
        return np.log((gram + self.k) / (context + self.k * self.V))
        # END GRADED

    def nats_per_char(self, ids: Any) -> float:
        """Mean negative log-likelihood in nats per predicted character."""
        return float(-self.log_probs(ids).mean())


def ngram_sweep(
    train_ids: Any,
    val_ids: Any,
    V: int,
    ns: tuple[int, ...] = (1, 2, 3, 4, 5, 6),
    ks: tuple[float, ...] = (1.0, 0.1, 0.01),
) -> list[dict[str, float]]:
    """Validation nats/char of every (n, k) pair: the model-selection table for the baseline.

    Returns rows {'n', 'k', 'val_nats', 'val_bits'}, in the order of ``ns`` then ``ks``.
    """
    rows = []
    for n in ns:
        for k in ks:
            nats = NGramLM(n, V, k).fit(train_ids).nats_per_char(val_ids)
            rows.append({"n": n, "k": k, "val_nats": nats, "val_bits": nats / math.log(2)})
    return rows
