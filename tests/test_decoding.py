"""Tests for course/models/decoding.py on hand-built and random step functions (no trained model needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course.models.decoding import (
    beam_search,
    exhaustive_search,
    greedy_decode,
    reorder_state,
    repeat_state,
    sample_decode,
)

START, END, A, B = 0, 1, 2, 3


def _markov_step(table: dict[int, dict[int, float]]):
    """A step function whose next-token distribution depends only on the previous token (state unused)."""
    V = 4
    log_table = np.full((V, V), -np.inf)
    for prev, dist in table.items():
        for tok, p in dist.items():
            log_table[prev, tok] = math.log(p)

    def step(prev, state):
        return log_table[prev], state

    return step


# Greedy takes A (0.6) and then ends (0.4): 0.24. Taking B (0.4) first and then ending (0.9) gives 0.36.
GREEDY_TRAP = {START: {A: 0.6, B: 0.4}, A: {END: 0.4, A: 0.3, B: 0.3}, B: {END: 0.9, A: 0.05, B: 0.05}}
# [END] alone has probability 0.4; [A, B, END] has 0.6 * 0.8 * 0.7 = 0.336: less in total, more per token.
SHORT_VS_LONG = {START: {END: 0.4, A: 0.6}, A: {B: 0.8, END: 0.2}, B: {END: 0.7, A: 0.15, B: 0.15}}


def test_greedy_falls_into_the_trap_and_beam_search_finds_the_most_probable_sequence():
    step = _markov_step(GREEDY_TRAP)
    tokens, score = greedy_decode(step, None, START, max_len=4, n=1, end_token=END)
    np.testing.assert_array_equal(tokens[0], [A, END, END, END])
    assert score[0] == pytest.approx(math.log(0.6 * 0.4), abs=1e-12)
    beams, scores = beam_search(step, None, START, max_len=4, n=1, beam_width=2, end_token=END)
    np.testing.assert_array_equal(beams[0, 0], [B, END, END, END])
    assert scores[0, 0] == pytest.approx(math.log(0.4 * 0.9), abs=1e-12)
    assert scores[0, 1] == pytest.approx(math.log(0.6 * 0.4), abs=1e-12)  # the greedy answer is second


def test_length_normalisation_prefers_the_longer_sequence_with_the_better_mean_log_probability():
    step = _markov_step(SHORT_VS_LONG)
    beams, scores = beam_search(step, None, START, max_len=5, n=1, beam_width=2, end_token=END)
    np.testing.assert_array_equal(beams[0, 0, :1], [END])
    assert scores[0, 0] == pytest.approx(math.log(0.4), abs=1e-12)
    beams, scores = beam_search(
        step, None, START, max_len=5, n=1, beam_width=2, end_token=END, length_alpha=1.0
    )
    np.testing.assert_array_equal(beams[0, 0, :3], [A, B, END])
    assert scores[0, 0] == pytest.approx(math.log(0.6 * 0.8 * 0.7) / 3, abs=1e-12)
    assert scores[0, 1] == pytest.approx(math.log(0.4) / 1, abs=1e-12)


class _RandomRNN:
    """A random recurrent step function: h' = tanh(h W + U[prev]), log_probs = log_softmax(h' O)."""

    def __init__(self, seed: int, V: int = 6, H: int = 5) -> None:
        rng = np.random.default_rng(seed)
        self.W, self.U = rng.standard_normal((H, H)), rng.standard_normal((V, H))
        self.O = rng.standard_normal((H, V)) * 2
        self.calls = 0

    def __call__(self, prev, h):
        self.calls += 1
        h = np.tanh(h @ self.W + self.U[prev])
        z = h @ self.O
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True)), h

    def sequence_log_prob(self, h0, tokens):
        """log P(tokens) by teacher forcing, counting tokens up to and including the first END."""
        total, h, prev = 0.0, h0[None], np.array([START])
        for tok in tokens:
            lp, h = self(prev, h)
            total += lp[0, tok]
            if tok == END:
                break
            prev = np.array([tok])
        return total


def test_beam_search_with_width_one_equals_greedy_on_a_random_model():
    model = _RandomRNN(0)
    h0 = np.random.default_rng(1).standard_normal((20, 5))
    g_tokens, g_scores = greedy_decode(model, h0, START, max_len=8, n=20, end_token=END)
    b_tokens, b_scores = beam_search(model, h0, START, max_len=8, n=20, beam_width=1, end_token=END)
    np.testing.assert_array_equal(b_tokens[:, 0], g_tokens)
    np.testing.assert_allclose(b_scores[:, 0], g_scores, rtol=1e-12)


def test_beam_scores_are_the_log_probabilities_of_their_tokens_and_beat_greedy():
    model = _RandomRNN(2)
    h0 = np.random.default_rng(3).standard_normal((10, 5))
    _, g_scores = greedy_decode(model, h0, START, max_len=6, n=10, end_token=END)
    beams, scores = beam_search(model, h0, START, max_len=6, n=10, beam_width=4, end_token=END)
    assert np.all(scores[:, 0] >= g_scores - 1e-12)
    assert np.all(np.diff(scores, axis=1) <= 0)  # best first
    for i in range(10):
        for j in range(4):
            assert scores[i, j] == pytest.approx(model.sequence_log_prob(h0[i], beams[i, j]), abs=1e-10)
    assert any(scores[i, 0] > g_scores[i] + 1e-9 for i in range(10))  # the search did find something better


def test_beam_search_equals_exhaustive_search_when_the_beam_holds_every_sequence():
    model = _RandomRNN(4, V=3)
    h0 = np.random.default_rng(5).standard_normal((1, 5))
    T = 3
    every_sequence = np.stack(np.meshgrid(*[range(3)] * T, indexing="ij"), -1).reshape(-1, T)  # (27, T)
    best = max(model.sequence_log_prob(h0[0], seq) for seq in every_sequence)
    _, scores = beam_search(model, h0, START, max_len=T, n=1, beam_width=27, end_token=END)
    assert scores[0, 0] == pytest.approx(best, abs=1e-12)


def test_exhaustive_search_finds_the_best_sequence_by_teacher_forcing_and_canonical_spelling():
    model = _RandomRNN(7, V=4)
    h0 = np.random.default_rng(8).standard_normal((1, 5))
    T = 4
    every_sequence = np.stack(np.meshgrid(*[range(4)] * T, indexing="ij"), -1).reshape(-1, T)  # (256, T)

    def score(seq, alpha):
        length = (list(seq).index(END) + 1) if END in seq else T
        return model.sequence_log_prob(h0[0], seq) / length**alpha

    for alpha in (0.0, 1.0):
        best = max(score(seq, alpha) for seq in every_sequence)
        tokens, top = exhaustive_search(model, h0, START, T, 4, end_token=END, length_alpha=alpha)
        assert top == pytest.approx(best, abs=1e-12)
        assert score(tokens, alpha) == pytest.approx(best, abs=1e-12)  # the tokens are that sequence
        if END in tokens:  # after the end token, the end token repeats
            assert np.all(tokens[list(tokens).index(END) :] == END)


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
def test_beam_search_holding_every_sequence_equals_exhaustive_search_with_length_normalisation(alpha):
    model = _RandomRNN(9, V=4)
    h0 = np.random.default_rng(10).standard_normal((1, 5))
    tokens, top = exhaustive_search(model, h0, START, 4, 4, end_token=END, length_alpha=alpha)
    beams, scores = beam_search(
        model, h0, START, max_len=4, n=1, beam_width=4**4, end_token=END, length_alpha=alpha
    )
    np.testing.assert_array_equal(beams[0, 0], tokens)
    assert scores[0, 0] == pytest.approx(top, abs=1e-12)


def test_sampling_follows_the_model_distribution_and_low_temperature_becomes_greedy():
    step = _markov_step(GREEDY_TRAP)
    rng = np.random.default_rng(0)
    tokens, _ = sample_decode(step, None, START, max_len=1, n=20000, rng=rng, end_token=END)
    frac_a = float(np.mean(tokens[:, 0] == A))
    assert abs(frac_a - 0.6) < 4 * math.sqrt(0.6 * 0.4 / 20000)  # four standard errors
    cold, _ = sample_decode(
        step, None, START, max_len=4, n=50, rng=np.random.default_rng(1), end_token=END, temperature=1e-3
    )
    greedy, _ = greedy_decode(step, None, START, max_len=4, n=50, end_token=END)
    np.testing.assert_array_equal(cold, greedy)


def test_sampling_is_reproducible_under_a_seed():
    model = _RandomRNN(6)
    h0 = np.zeros((30, 5))
    a, _ = sample_decode(model, h0, START, max_len=7, n=30, rng=np.random.default_rng(9), end_token=END)
    b, _ = sample_decode(model, h0, START, max_len=7, n=30, rng=np.random.default_rng(9), end_token=END)
    np.testing.assert_array_equal(a, b)


def test_repeat_and_reorder_state_walk_tuples_and_dicts():
    state = (np.array([[1], [2]]), {"m": np.array([10, 20])}, None)
    rep = repeat_state(state, 2)
    np.testing.assert_array_equal(rep[0][:, 0], [1, 1, 2, 2])
    np.testing.assert_array_equal(rep[1]["m"], [10, 10, 20, 20])
    back = reorder_state(rep, np.array([3, 0]))
    np.testing.assert_array_equal(back[0][:, 0], [2, 1])
    assert back[2] is None


def test_step_function_returning_the_wrong_rows_is_reported():
    with pytest.raises(ValueError, match="log_probs returned by step_fn"):
        greedy_decode(lambda prev, s: (np.zeros((1, 3)), s), None, START, max_len=2, n=2)
