"""Tests for course/training/tbptt.py: streams, chunks and the truncated-BPTT training loop."""

import math

import numpy as np
import pytest

from course.data.text import CharVocab
from course.models.charlm import CharLM
from course.training.optim import Optimizer, adam
from course.training.tbptt import batchify, chunk_loss_fn, tbptt_chunks, train_tbptt


def test_batchify_cuts_contiguous_streams_and_drops_the_tail():
    ids = np.arange(23)
    streams = batchify(ids, 4)
    assert streams.shape == (4, 5)
    np.testing.assert_array_equal(streams[1], np.arange(5, 10))
    with pytest.raises(ValueError, match=r"batchify: 3 ids are too few for 2 streams"):
        batchify(np.arange(3), 2)


def test_tbptt_chunks_shift_targets_by_one_and_cover_every_transition_once():
    streams = np.arange(22).reshape(2, 11)
    chunks = list(tbptt_chunks(streams, 4))
    assert [c[0].shape[1] for c in chunks] == [4, 4, 2]  # 10 transitions per stream
    for inputs, targets in chunks:
        np.testing.assert_array_equal(targets, inputs + 1)
    np.testing.assert_array_equal(np.concatenate([c[0] for c in chunks], axis=1), streams[:, :-1])


class _SpyModel:
    """Records the state each chunk starts from; its 'state' is the number of steps read so far."""

    def __init__(self, V):
        self.V, self.seen, self.final_state = V, [], None

    def forward(self, inputs, state):
        self.seen.append(state)
        self.final_state = (0 if state is None else state) + inputs.shape[1]
        return np.zeros((*inputs.shape, self.V))

    def backward(self, dscores):
        pass


class _NoOpOptimizer:
    def zero_grad(self):
        pass

    def step(self):
        pass


def test_train_tbptt_carries_the_state_across_chunks_and_resets_it_each_pass():
    model = _SpyModel(V=30)
    streams = np.arange(22).reshape(2, 11)  # 3 chunks of k = 4 per pass
    losses = train_tbptt(model, streams, 4, chunk_loss_fn, _NoOpOptimizer(), max_steps=5)
    assert len(losses) == 5
    assert model.seen == [None, 4, 8, None, 4]
    assert losses[0] == pytest.approx(math.log(30))  # uniform scores: log V nats per character


def test_train_tbptt_requires_a_stopping_rule_and_honours_the_time_budget():
    with pytest.raises(ValueError, match="max_steps or time_budget_s"):
        train_tbptt(_SpyModel(3), np.zeros((2, 5), dtype=np.int64), 2, chunk_loss_fn, _NoOpOptimizer())
    losses = train_tbptt(
        _SpyModel(3), np.zeros((2, 5), dtype=np.int64), 2, chunk_loss_fn, _NoOpOptimizer(), time_budget_s=0.0
    )
    assert len(losses) == 1  # the budget is checked after each update


def test_chunk_loss_is_per_character_whatever_the_chunk_length():
    scores = np.random.default_rng(0).standard_normal((2, 6, 4))
    targets = np.random.default_rng(1).integers(0, 4, size=(2, 6))
    loss6, d6 = chunk_loss_fn(scores, targets)
    loss3, _ = chunk_loss_fn(scores[:, :3], targets[:, :3])
    loss3b, _ = chunk_loss_fn(scores[:, 3:], targets[:, 3:])
    assert loss6 == pytest.approx((loss3 + loss3b) / 2, rel=1e-12)
    assert d6.shape == scores.shape


def test_train_tbptt_learns_a_repeating_text():
    text = "the cat sat on the mat. " * 40
    vocab = CharVocab(text)
    model = CharLM(vocab, embed_dim=8, hidden_dim=24, rng=0)
    optimizer = Optimizer(model, adam, max_grad_norm=5.0, learning_rate=1e-2)
    losses = train_tbptt(model, batchify(vocab.encode(text), 4), 12, chunk_loss_fn, optimizer, max_steps=120)
    assert losses[0] == pytest.approx(math.log(vocab.size), abs=0.3)
    assert np.mean(losses[-10:]) < 0.5  # from log 11 = 2.4 nats to a nearly deterministic text
