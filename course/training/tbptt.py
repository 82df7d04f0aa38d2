"""Truncated backpropagation through time (lecture 002, "Truncated Backpropagation through time").

A long text is cut into N parallel streams (rows); training walks along them k steps at a time. The
hidden state is *carried forward* from one chunk to the next, so the model conditions on everything it
has read, but the gradient is *truncated*: each chunk backpropagates through its own k steps only. In
an autograd framework that is ``state.detach()``; here it is simply that a chunk's backward pass stops
at its initial state (the gradient on h0 / c0 is computed and dropped), and the next chunk's forward
pass receives the state as plain numbers.

Cost per update is O(k), independent of the text length; the price is that no gradient signal
reaches further back than k steps, although information in the state does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from course.core.backend import get_array_module
from course.core.validation import check_array, check_positive
from course.layers.temporal import temporal_softmax_loss


def batchify(ids: Any, batch_size: int) -> Any:
    """Cut a 1-D id sequence into ``batch_size`` contiguous streams, (N, L) with L = len(ids) // N.

    Row n holds ids[n L : (n + 1) L]; the leftover tail (fewer than N ids) is dropped. Reading the rows
    k columns at a time then continues every stream exactly where the previous chunk stopped.
    """
    check_array("batchify", "ids", ids, ndim=1, dtype_kind="i")
    check_positive("batchify", "batch_size", batch_size)
    L = ids.shape[0] // batch_size
    if L < 2:
        raise ValueError(f"batchify: {ids.shape[0]} ids are too few for {batch_size} streams of length >= 2")
    return ids[: batch_size * L].reshape(batch_size, L)  # (N, L)


def tbptt_chunks(streams: Any, k: int) -> Iterator[tuple[Any, Any]]:
    """Consecutive (inputs, targets) chunks of k steps from (N, L) streams, each (N, k) (the last may be
    shorter); targets are the inputs shifted by one (next-character prediction)."""
    check_array("tbptt_chunks", "streams", streams, ndim=2, dtype_kind="i")
    check_positive("tbptt_chunks", "k", k)
    L = streams.shape[1]
    for start in range(0, L - 1, k):
        stop = min(start + k, L - 1)
        yield streams[:, start:stop], streams[:, start + 1 : stop + 1]


def train_tbptt(
    model: Any,
    streams: Any,
    k: int,
    loss_fn: Callable[[Any, Any], tuple[float, Any]],
    optimizer: Any,
    *,
    max_steps: int | None = None,
    time_budget_s: float | None = None,
    callback: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train with truncated BPTT: carry the recurrent state across chunks of k steps, backpropagate k steps.

    Inputs:
    - model: a Module with ``forward(inputs, state) -> scores``, ``final_state`` (set by forward; the
      state after the chunk's last step) and ``backward(dscores)``; state None means "start at zero".
    - streams: (N, L) integer ids from ``batchify``.
    - k: truncation length (steps per chunk).
    - loss_fn: ``loss_fn(scores, targets) -> (loss, dscores)``.
    - optimizer: has ``zero_grad()`` and ``step()`` (``course.training.optim.Optimizer``; clipping lives
      there).
    - max_steps, time_budget_s: stop after this many updates or seconds (at least one must be given);
      the streams are re-read from the start as often as needed, with the state reset to zero at the
      start of each pass (the text does not continue across the end).
    - callback: called as ``callback(step, loss)`` after every update (for logging or evaluation).

    Returns the list of training losses, one per update.
    """
    if max_steps is None and time_budget_s is None:
        raise ValueError("train_tbptt: give max_steps or time_budget_s (or both)")
    # BEGIN GRADED a06.train_tbptt
    losses: list[float] = []
    start = time.perf_counter()
    while True:
        state = None  # a new pass over the text starts from the zero state
        for inputs, targets in tbptt_chunks(streams, k):
            optimizer.zero_grad()
            scores = model.forward(inputs, state)
            loss, dscores = loss_fn(scores, targets)
            model.backward(dscores)  # stops at this chunk's initial state: the truncation
            optimizer.step()
            state = model.final_state  # carried into the next chunk as plain values
            losses.append(float(loss))
            if callback is not None:
                callback(len(losses), float(loss))
            if max_steps is not None and len(losses) >= max_steps:
                return losses
            if time_budget_s is not None and time.perf_counter() - start >= time_budget_s:
                return losses
    # END GRADED


def chunk_loss_fn(scores: Any, targets: Any) -> tuple[float, Any]:
    """Per-character cross-entropy of a chunk: temporal softmax loss over all N k positions, divided by k
    so that the loss (and the gradient scale) is nats per character whatever the chunk length."""
    xp = get_array_module(scores, targets)
    k = targets.shape[1]
    loss, dscores = temporal_softmax_loss(scores, targets, xp.ones(targets.shape, dtype=bool))
    return loss / k, dscores / k
