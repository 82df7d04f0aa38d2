"""Decoding a trained sequence model: greedy, sampling and beam search (lecture 003, "training vs inference").

Training maximises log P(y | x) with the true previous token fed in (teacher forcing); at inference the
model must choose its own tokens, and the best sequence y* = argmax_y P(y | x) cannot be found by
enumeration. Three strategies, all built on the same *step function*:

    step_fn(prev_tokens, state) -> (log_probs, new_state)

- prev_tokens: (B,) int64 NumPy array, the token each row emitted last (the start token at first);
- state: anything the model carries (a tuple/list/dict of arrays whose first axis is the B rows, or
  None), e.g. (h, c, encoder states, attention keys, source mask) for seq2seq or the mask of already
  chosen positions for a pointer network;
- log_probs: (B, V) log-probabilities of the next token, normalised over V.

The decoders never look inside the state except to reorder its rows (``reorder_state``), so any model
that provides such a step function gets all three for free.

- greedy: take the argmax at every step (beam search with k = 1);
- sampling: draw from softmax(log_probs / temperature);
- beam search: keep the k best partial sequences by total log-probability; a sequence that has emitted
  the end token is frozen (it can only continue with the end token, at cost 0). Optionally the final
  choice divides each total by length^alpha, because a sum of log-probabilities favours short outputs.

``exhaustive_search`` scores every sequence of a tiny vocabulary: the exact answer the other three
approximate, for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.validation import check_array, check_positive
from course.layers.losses import softmax

StepFn = Callable[[Any, Any], tuple[Any, Any]]


def reorder_state(state: Any, index: Any) -> Any:
    """Rows ``index`` of every array in ``state`` (tuples, lists and dicts are walked; None passes).

    Beam search uses it to let each surviving beam continue from its parent's state.
    """
    if state is None:
        return None
    if isinstance(state, dict):
        return {k: reorder_state(v, index) for k, v in state.items()}
    if isinstance(state, (tuple, list)):
        return type(state)(reorder_state(v, index) for v in state)
    return state[index]


def repeat_state(state: Any, k: int) -> Any:
    """Each row of every array in ``state`` repeated ``k`` times: row n becomes rows n k .. n k + k - 1."""
    if state is None:
        return None
    if isinstance(state, dict):
        return {key: repeat_state(v, k) for key, v in state.items()}
    if isinstance(state, (tuple, list)):
        return type(state)(repeat_state(v, k) for v in state)
    return get_array_module(state).repeat(state, k, axis=0)


def host_log_probs(func: str, log_probs: Any, B: int) -> np.ndarray:
    """step_fn's log-probabilities checked ((B, V) floats) and brought to the host as float64 NumPy.

    The decoders keep their bookkeeping (tokens, scores, which rows are finished) in NumPy, whatever
    array library the model runs on; ``func`` names the decoder in the error message.
    """
    check_array(func, "log_probs returned by step_fn", log_probs, (B, None), dtype_kind="f")
    xp = get_array_module(log_probs)
    return np.asarray(log_probs.get() if xp is not np else log_probs, dtype=np.float64)


def greedy_decode(
    step_fn: StepFn, state: Any, start_token: int, max_len: int, n: int, end_token: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding: y_t = argmax_v log P(v | y_<t, x), for ``n`` rows at once.

    Inputs:
    - step_fn, state: the model (see the module docstring); state has ``n`` rows.
    - start_token: fed as the previous token at the first step.
    - max_len: the most tokens generated.
    - n: the number of rows (sequences decoded together).
    - end_token: once a row emits it, the row is finished (its later tokens are ``end_token`` and add
      nothing to its score); None means every row runs ``max_len`` steps.

    Returns:
    - tokens: (n, max_len) int64 (NumPy, like the prev_tokens handed to step_fn).
    - scores: (n,) total log-probability of each row's tokens (up to and including its end token).
    """
    check_positive("greedy_decode", "max_len", max_len)
    # BEGIN GRADED a07.greedy_decode
    tokens = np.full((n, max_len), -1 if end_token is None else end_token, dtype=np.int64)
    scores = np.zeros(n)
    done = np.zeros(n, dtype=bool)
    prev = np.full(n, start_token, dtype=np.int64)
    for t in range(max_len):
        log_probs, state = step_fn(prev, state)
        lp = host_log_probs("greedy_decode", log_probs, n)  # (n, V)
        choice = np.where(done, tokens[:, t], lp.argmax(axis=1))  # a finished row repeats its end token
        scores += np.where(done, 0.0, lp[np.arange(n), choice])
        tokens[:, t] = choice
        if end_token is not None:
            done |= choice == end_token
            if done.all():
                break
        prev = choice
    return tokens, scores
    # END GRADED


def sample_decode(
    step_fn: StepFn,
    state: Any,
    start_token: int,
    max_len: int,
    n: int,
    rng: np.random.Generator,
    end_token: int | None = None,
    temperature: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Ancestral sampling: y_t ~ softmax(log P(. | y_<t, x) / temperature).

    Temperature < 1 sharpens the distribution (towards greedy), > 1 flattens it. Inputs and outputs as
    ``greedy_decode`` plus ``rng`` (a numpy Generator); scores are the model's log-probabilities of the
    sampled tokens (at temperature 1).
    """
    check_positive("sample_decode", "max_len", max_len)
    check_positive("sample_decode", "temperature", temperature)
    # BEGIN GRADED a07.sample_decode
    tokens = np.full((n, max_len), -1 if end_token is None else end_token, dtype=np.int64)
    scores = np.zeros(n)
    done = np.zeros(n, dtype=bool)
    prev = np.full(n, start_token, dtype=np.int64)
    for t in range(max_len):
        log_probs, state = step_fn(prev, state)
        lp = host_log_probs("sample_decode", log_probs, n)  # (n, V)
        p = softmax(lp / temperature, axis=1)  # (n, V)
        # inverse-CDF sampling with one uniform per row, vectorised over the rows; the minimum guards
        # against a cumulative sum that ends at 1 - 1e-16
        drawn = np.minimum((p.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1), lp.shape[1] - 1)
        choice = np.where(done, tokens[:, t], drawn)
        scores += np.where(done, 0.0, lp[np.arange(n), choice])
        tokens[:, t] = choice
        if end_token is not None:
            done |= choice == end_token
            if done.all():
                break
        prev = choice
    return tokens, scores
    # END GRADED


def beam_search(
    step_fn: StepFn,
    state: Any,
    start_token: int,
    max_len: int,
    n: int,
    beam_width: int,
    end_token: int | None = None,
    length_alpha: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Beam search of width k = ``beam_width`` for ``n`` rows at once (all n k beams in one step_fn call).

    At each step every beam is extended by every token, and the k best totals log P(y_1..y_t | x) per
    row survive (their states are copied from their parents with ``reorder_state``). The beams start
    identical, so at first only beam 0 is live (the others have score -inf) and the k survivors of the
    first step are k different tokens. A beam that has emitted ``end_token`` is frozen: its only
    continuation is ``end_token`` at log-probability 0, so its total stays and it competes with the
    live beams until the end.

    Length normalisation: the final ranking uses total / length^alpha (length = tokens up to and
    including the end token); alpha = 0 ranks by the total log-probability, alpha = 1 by the mean per
    token. The search itself ranks by totals, as in Wu et al. 2016 without their (5 + length) / 6 form.

    Inputs: as ``greedy_decode`` plus beam_width (k >= 1) and length_alpha (>= 0).

    Returns:
    - tokens: (n, k, max_len) int64 beams, best first (after an end token, the end token repeats).
    - scores: (n, k) their (length-normalised when alpha > 0) scores, best first.
    """
    check_positive("beam_search", "max_len", max_len)
    check_positive("beam_search", "beam_width", beam_width)
    check_positive("beam_search", "length_alpha", length_alpha, allow_zero=True)
    # BEGIN GRADED a07.beam_search
    k = beam_width
    state = repeat_state(state, k)
    scores = np.full((n, k), -np.inf)
    scores[:, 0] = 0.0
    tokens = np.full((n, k, max_len), -1 if end_token is None else end_token, dtype=np.int64)
    lengths = np.zeros((n, k), dtype=np.int64)
    done = np.zeros((n, k), dtype=bool)
    rows = np.arange(n)[:, None]  # (n, 1)
    prev = np.full(n * k, start_token, dtype=np.int64)
    for t in range(max_len):
        log_probs, state = step_fn(prev, state)
        lp = host_log_probs("beam_search", log_probs, n * k)  # (n k, V)
        xp = get_array_module(log_probs)
        V = lp.shape[1]
        lp = lp.reshape(n, k, V)
        if end_token is not None:
            frozen = np.full(V, -np.inf)
            frozen[end_token] = 0.0
            lp = np.where(done[:, :, None], frozen, lp)
        total = (scores[:, :, None] + lp).reshape(n, k * V)  # (n, k V): every extension of every beam
        best = np.argsort(-total, axis=1, kind="stable")[:, :k]  # (n, k)
        parent, choice = best // V, best % V
        scores = np.take_along_axis(total, best, axis=1)
        state = reorder_state(state, xp.asarray((rows * k + parent).reshape(-1)))
        tokens = tokens[rows, parent]  # (n, k, max_len): each survivor inherits its parent's prefix
        done, lengths = done[rows, parent], lengths[rows, parent]
        tokens[:, :, t] = np.where(done, tokens[:, :, t], choice)
        lengths = lengths + ~done
        if end_token is not None:
            done = done | (choice == end_token)
            if done.all():
                break
        prev = choice.reshape(-1)
    final = scores / np.maximum(lengths, 1) ** length_alpha if length_alpha else scores
    order = np.argsort(-final, axis=1, kind="stable")
    return tokens[rows, order], np.take_along_axis(final, order, axis=1)
    # END GRADED


def exhaustive_search(
    step_fn: StepFn,
    state: Any,
    start_token: int,
    max_len: int,
    vocab_size: int,
    end_token: int | None = None,
    length_alpha: float = 0.0,
) -> tuple[np.ndarray, float]:
    """The exact y* = argmax_y score(y) of one row, by scoring every one of the V^max_len sequences.

    What beam search approximates, for tests on tiny vocabularies (V = ``vocab_size``). The rules are
    ``beam_search``'s: a sequence ends at its first end token (the tokens after it count for nothing), its
    length counts the tokens up to and including that end token, and the score is the total
    log-probability divided by length^alpha. All V^max_len sequences run through ``step_fn`` as one batch.

    Inputs: as ``beam_search`` with n = 1 (``state`` has one row), plus vocab_size.

    Returns:
    - tokens: (max_len,) int64, the best sequence (after its end token, the end token repeats);
    - score: its (length-normalised when alpha > 0) score.
    """
    check_positive("exhaustive_search", "max_len", max_len)
    check_positive("exhaustive_search", "vocab_size", vocab_size)
    check_positive("exhaustive_search", "length_alpha", length_alpha, allow_zero=True)
    grid = np.meshgrid(*[np.arange(vocab_size)] * max_len, indexing="ij")
    seqs = np.stack(grid, axis=-1).reshape(-1, max_len)  # (V^max_len, max_len): every sequence once
    B = seqs.shape[0]
    state = repeat_state(state, B)
    totals, lengths = np.zeros(B), np.zeros(B, dtype=np.int64)
    done = np.zeros(B, dtype=bool)
    prev = np.full(B, start_token, dtype=np.int64)
    for t in range(max_len):
        log_probs, state = step_fn(prev, state)
        lp = host_log_probs("exhaustive_search", log_probs, B)  # (B, V)
        totals += np.where(done, 0.0, lp[np.arange(B), seqs[:, t]])
        lengths += ~done
        if end_token is not None:
            done |= seqs[:, t] == end_token
        prev = seqs[:, t]
    if end_token is not None:  # one spelling per output: the end token repeats after the first one
        seqs = np.where(np.cumsum(seqs == end_token, axis=1) > 0, end_token, seqs)
    final = totals / lengths**length_alpha if length_alpha else totals
    best = int(np.argmax(final))
    return seqs[best], float(final[best])
