"""A character-level language model: embedding -> LSTM (or vanilla RNN) -> affine at every step -> softmax
(lectures 002 and 003, "char-level language model", "sampling"; assignment 06).

The model reads characters and predicts the next one; its quality is the cross-entropy of the next
character on held-out text, in nats per character (divide by ln 2 for bits). Training uses truncated
BPTT (``course.training.tbptt``) with Adam and gradient-norm clipping (``course.training.optim``, lecture
003: clipping is
what keeps one exploding step from wrecking the weights). Generation feeds the model its own samples,
one character at a time, carrying the recurrent state; the temperature divides the scores before the
softmax (below 1 sharper, above 1 flatter, 0 means greedy) and top-k keeps only the k most likely.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array, check_choice, check_positive
from course.data.text import CharVocab
from course.layers.embedding import Embedding
from course.layers.losses import softmax
from course.layers.lstm import LSTM
from course.layers.rnn import RNN
from course.layers.temporal import TemporalAffine, temporal_softmax_loss
from course.training.optim import Optimizer, adam
from course.training.tbptt import batchify, chunk_loss_fn, tbptt_chunks, train_tbptt


class CharLM(Module):
    """Embedding (V, E) -> LSTM or RNN (E -> H) -> temporal affine (H -> V): next-character scores.

    ``forward(ids, state=None)`` takes (N, T) ids and returns (N, T, V) scores, leaving
    ``final_state`` for the next chunk (truncated BPTT) or the next character (sampling).
    ``vocab`` (a ``CharVocab``) travels with the model so that sampling can speak in characters.
    """

    def __init__(
        self,
        vocab: CharVocab,
        *,
        embed_dim: int = 32,
        hidden_dim: int = 128,
        cell: str = "lstm",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        check_choice("CharLM", "cell", cell, ("lstm", "rnn"))
        rng = np.random.default_rng(0 if rng is None else rng)
        self.vocab = vocab
        self.cell = cell
        self.children["embed"] = Embedding(vocab.size, embed_dim, rng=rng, dtype=dtype)
        recurrent = LSTM if cell == "lstm" else RNN
        self.children["rnn"] = recurrent(embed_dim, hidden_dim, rng=rng, dtype=dtype)
        self.children["head"] = TemporalAffine(hidden_dim, vocab.size, rng=rng, dtype=dtype)
        self.final_state: Any = None

    def forward(self, ids: Any, state: Any = None) -> Any:
        check_array("CharLM.forward", "ids", ids, ndim=2, dtype_kind="i")
        x = self.children["embed"].forward(ids)  # (N, T, E)
        h = self.children["rnn"].forward(x, state)  # (N, T, H)
        self.final_state = self.children["rnn"].final_state
        return self.children["head"].forward(h)  # (N, T, V)

    def backward(self, dscores: Any) -> None:
        dh = self.children["head"].backward(dscores)
        dx = self.children["rnn"].backward(dh)
        self.children["embed"].backward(dx)


def evaluate_nats(model: CharLM, ids: Any, *, batch_size: int = 16, k: int = 100) -> float:
    """Mean cross-entropy of the next character, in nats per character, over a held-out id sequence.

    The sequence is cut into ``batch_size`` streams read k steps at a time with the state carried over,
    as in training, so each prediction conditions on everything before it in its stream.
    """
    check_array("evaluate_nats", "ids", ids, ndim=1, dtype_kind="i")
    streams = batchify(ids, batch_size)
    xp = get_array_module(streams)
    total, count, state = 0.0, 0, None
    for inputs, targets in tbptt_chunks(streams, k):
        scores = model.forward(inputs, state)
        state = model.final_state
        loss, _ = temporal_softmax_loss(scores, targets, xp.ones(targets.shape, dtype=bool))
        total += loss * targets.shape[0]  # the loss is summed over steps and divided by N
        count += targets.size
    return total / count


def sample_next(
    scores: Any, rng: np.random.Generator, temperature: float = 1.0, top_k: int | None = None
) -> int:
    """Draw one id from (V,) scores: softmax(scores / temperature), restricted to the ``top_k`` largest.

    temperature 0 means greedy (the argmax). Ties in the top-k cut are broken by index (lowest first).
    """
    check_array("sample_next", "scores", scores, ndim=1, dtype_kind="f")
    check_positive("sample_next", "temperature", temperature, allow_zero=True)
    if top_k is not None:
        check_positive("sample_next", "top_k", top_k)
    # BEGIN GRADED a06.sample_next
    scores = np.asarray(scores, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(scores))
    logits = scores / temperature
    if top_k is not None and top_k < logits.size:
        cut = np.sort(logits)[-top_k]
        keep = np.flatnonzero(logits >= cut)[:top_k]
        masked = np.full_like(logits, -np.inf)
        masked[keep] = logits[keep]
        logits = masked
    return int(rng.choice(logits.size, p=softmax(logits)))
    # END GRADED


def sample(
    model: CharLM,
    prefix: str,
    n: int,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
) -> str:
    """Generate ``n`` characters after ``prefix`` (which must be non-empty and in the vocabulary).

    The prefix is read in one forward pass to build the state; then each generated character is fed
    back in, one step at a time, carrying the state. Returns the generated characters only.
    """
    if not prefix:
        raise ValueError("sample: prefix must contain at least one character")
    check_positive("sample", "n", n, allow_zero=True)
    ids = model.vocab.encode(prefix)[None, :]  # (1, len(prefix))
    scores = model.forward(ids, None)
    out = []
    for _ in range(n):
        next_id = sample_next(scores[0, -1], rng, temperature, top_k)
        out.append(next_id)
        scores = model.forward(np.array([[next_id]], dtype=np.int64), model.final_state)  # (1, 1, V)
    return model.vocab.decode(out)


def bits_per_char(nats: float) -> float:
    """Convert nats per character to bits per character (divide by ln 2)."""
    return nats / math.log(2)


def train_charlm(
    train_text: str,
    val_text: str,
    vocab: CharVocab,
    *,
    cell: str = "lstm",
    embed_dim: int = 32,
    hidden_dim: int = 128,
    batch_size: int = 32,
    k: int = 50,
    learning_rate: float = 3e-3,
    max_grad_norm: float = 5.0,
    time_budget_s: float | None = 300.0,
    max_steps: int | None = None,
    eval_every: int | None = None,
    sample_at: tuple[int, ...] = (),
    seed: int = 0,
) -> tuple[CharLM, dict[str, Any]]:
    """Train a ``CharLM`` with truncated BPTT, Adam and clipping; return (model, history).

    Stops after ``time_budget_s`` seconds or ``max_steps`` updates, whichever comes first. History:
    'train_loss' (nats/char per update), 'val' (list of (step, val nats/char), every ``eval_every``
    updates and at the end), 'samples' ({step: 200 sampled characters} at the steps in ``sample_at``),
    'steps', 'seconds' (wall time of the training loop, which the budget bounds, periodic evaluation
    and sampling included), 'eval_seconds' (the part of it spent evaluating and sampling) and
    'val_nats', 'val_bits' (final, after the budget).
    """
    rng = np.random.default_rng(seed)
    model = CharLM(vocab, embed_dim=embed_dim, hidden_dim=hidden_dim, cell=cell, rng=rng)
    optimizer = Optimizer(model, adam, max_grad_norm=max_grad_norm, learning_rate=learning_rate)
    streams = batchify(vocab.encode(train_text), batch_size)
    val_ids = vocab.encode(val_text)
    history: dict[str, Any] = {"val": [], "samples": {}}
    eval_seconds = 0.0

    def callback(step: int, loss: float) -> None:
        nonlocal eval_seconds
        if (eval_every and step % eval_every == 0) or step in sample_at:
            start = time.perf_counter()
            saved_state = model.final_state  # evaluation and sampling overwrite it
            if eval_every and step % eval_every == 0:
                history["val"].append((step, evaluate_nats(model, val_ids)))
            if step in sample_at:
                history["samples"][step] = sample(model, "\n", 200, np.random.default_rng(seed), 1.0)
            model.final_state = saved_state
            eval_seconds += time.perf_counter() - start

    start = time.perf_counter()
    history["train_loss"] = train_tbptt(
        model,
        streams,
        k,
        chunk_loss_fn,
        optimizer,
        max_steps=max_steps,
        time_budget_s=time_budget_s,
        callback=callback,
    )
    history["seconds"] = time.perf_counter() - start
    history["eval_seconds"] = eval_seconds
    history["steps"] = len(history["train_loss"])
    history["val_nats"] = evaluate_nats(model, val_ids)
    history["val_bits"] = bits_per_char(history["val_nats"])
    history["val"].append((history["steps"], history["val_nats"]))
    return model, history
