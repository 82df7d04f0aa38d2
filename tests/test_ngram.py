"""Tests for course/models/ngram.py: the add-k smoothed character n-gram baseline."""

import math

import numpy as np
import pytest

from course.models.ngram import NGramLM, ngram_sweep, window_codes


def test_bigram_probabilities_match_hand_counts():
    # text "abab a" as ids: a=0, b=1, c=2 (V=3); bigrams: ab, ba, ab, ba, aa -> count(a,b)=2, count(a)=3
    ids = np.array([0, 1, 0, 1, 0, 0])
    model = NGramLM(2, 3, k=1.0).fit(ids)
    logp = model.log_probs(np.array([0, 1, 0, 2, 2]))  # p(b|a), p(a|b), p(c|a), p(c|c)
    expected = [(2 + 1) / (3 + 3), (2 + 1) / (2 + 3), (0 + 1) / (3 + 3), (0 + 1) / (0 + 3)]
    np.testing.assert_allclose(np.exp(logp), expected, rtol=1e-12)


def test_window_codes_are_base_V_digits_and_code_div_V_is_the_context():
    ids = np.array([2, 0, 1, 2])
    np.testing.assert_array_equal(window_codes(ids, 2, 3), [2 * 3 + 0, 0 * 3 + 1, 1 * 3 + 2])
    np.testing.assert_array_equal(window_codes(ids, 3, 3) // 3, window_codes(ids[:-1], 2, 3))
    np.testing.assert_array_equal(window_codes(ids, 1, 3), ids)


def test_gram_and_context_counts_are_the_fit_counts_and_zero_when_unseen():
    model = NGramLM(2, 3).fit(np.array([0, 1, 0, 1, 0, 0]))  # bigrams ab, ba, ab, ba, aa
    codes = window_codes(np.array([0, 1, 0, 0, 2, 2]), 2, 3)  # ab, ba, aa, ac, cc
    np.testing.assert_array_equal(model.gram_count(codes), [2, 2, 1, 0, 0])
    np.testing.assert_array_equal(model.context_count(codes // 3), [3, 2, 3, 3, 0])


@pytest.mark.parametrize("n,k", [(1, 1.0), (2, 0.5), (3, 0.01)])
def test_ngram_distribution_sums_to_one_for_seen_and_unseen_contexts(n, k):
    rng = np.random.default_rng(0)
    V = 4
    model = NGramLM(n, V, k).fit(rng.integers(0, V, size=200))
    for context in ([0] * (n - 1), [3] * (n - 1), list(rng.integers(0, V, size=n - 1))):
        total = sum(math.exp(model.log_probs(np.array([*context, c]))[0]) for c in range(V))
        assert total == pytest.approx(1.0, rel=1e-12)


def test_longer_context_fits_the_training_text_better():
    text = np.array(list(b"the quick brown fox jumps over the lazy dog " * 5)) - 32
    nats = [NGramLM(n, 96, k=0.01).fit(text).nats_per_char(text) for n in (1, 2, 3)]
    assert nats[0] > nats[1] > nats[2]


def test_ngram_rejects_ids_outside_the_vocabulary_and_unfit_use():
    model = NGramLM(2, 3)
    with pytest.raises(ValueError, match="call fit first"):
        model.log_probs(np.array([0, 1]))
    model.fit(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, V\) = \[0, 3\)"):
        model.log_probs(np.array([0, 3]))
    with pytest.raises(ValueError, match="does not fit the int64"):
        NGramLM(12, 100)


def test_ngram_sweep_reports_every_pair_in_nats_and_bits():
    rng = np.random.default_rng(1)
    rows = ngram_sweep(rng.integers(0, 5, 300), rng.integers(0, 5, 100), 5, ns=(1, 2), ks=(1.0, 0.1))
    assert [(r["n"], r["k"]) for r in rows] == [(1, 1.0), (1, 0.1), (2, 1.0), (2, 0.1)]
    for r in rows:
        assert r["val_bits"] == pytest.approx(r["val_nats"] / math.log(2))
        assert r["val_nats"] == pytest.approx(math.log(5), abs=0.3)  # uniform random text: about log V
