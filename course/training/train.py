"""The minibatch training loop (lecture 001, "mini-batches"; lecture 004, SGD vs GD, validation sets).

One step (``train_step``): zero the gradients, forward a minibatch, loss and its gradient, backward,
update. An epoch (``train_epoch``) walks the shuffled training set once in minibatches. ``train`` runs
many epochs (with accuracies and a progress bar); after each one the model is evaluated on the
validation set and, with ``checkpoint='best'``, the parameters with the lowest validation loss (or the
highest accuracy) are kept and put back at the end, which is early stopping without the stopping.

Interfaces:
- ``model``: a ``course.core.module.Module`` (``forward``, ``backward``, ``zero_grad``, ``train``/``eval``,
  ``state_dict``/``load_state_dict``);
- ``loss_fn(scores, y) -> (loss, dscores)``, e.g. ``course.layers.losses.softmax_cross_entropy``;
- ``optimizer``: a ``course.training.optim.Optimizer`` (``zero_grad``, ``step``).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.validation import check_choice, check_positive
from course.data.batching import iterate_minibatches, minibatch_indices

LossFn = Callable[[Any, Any], tuple[Any, Any]]


def train_step(model: Any, loss_fn: LossFn, optimizer: Any, x: Any, y: Any) -> tuple[float, Any]:
    """One minibatch SGD step; returns (loss as a float, the scores of the forward pass).

    Inputs:
    - model: a Module in training mode; loss_fn(scores, y) -> (loss, dscores); optimizer: an Optimizer.
    - x: (B, ...) minibatch inputs; y: (B, ...) its targets.

    Gradients accumulate in the modules, so they are zeroed before the backward pass, not after.
    """
    # BEGIN GRADED a04.train_step
    optimizer.zero_grad()
    scores = model.forward(x)
    loss, dscores = loss_fn(scores, y)
    model.backward(dscores)
    optimizer.step()
    return float(loss), scores
    # END GRADED


def train_epoch(
    model: Any, loss_fn: LossFn, optimizer: Any, X: Any, y: Any, batch_size: int, rng: np.random.Generator
) -> float:
    """One pass over (X, y) in shuffled mini-batches (``minibatch_indices``); returns the loss per example.

    Inputs:
    - model, loss_fn, optimizer: as for ``train_step``; the model is put in training mode first.
    - X: (N, ...) inputs; y: (N, ...) targets; batch_size: B; rng: the generator of the epoch's order.

    Each batch's loss is weighted by its size, (1/N) sum_i B_i loss_i: a plain mean of the batch losses
    would over-weight a smaller last batch.
    """
    if len(X) != len(y):
        raise ValueError(f"train_epoch: X and y must have the same length, got {len(X)} and {len(y)}")
    check_positive("train_epoch", "batch_size", batch_size)
    # BEGIN GRADED a04.train_epoch
    model.train()
    total = 0.0
    for idx in minibatch_indices(len(X), batch_size, rng):
        loss, _ = train_step(model, loss_fn, optimizer, X[idx], y[idx])
        total += loss * len(idx)  # the batch's share of the sum over examples
    return total / len(X)
    # END GRADED


def predict(model: Any, X: Any, batch_size: int = 1024) -> Any:
    """Scores of ``model`` on X in evaluation mode (dropout off, batch norm running statistics).

    Runs in batches of ``batch_size`` to bound memory, restores the model's previous mode, and returns
    an array with X's first dimension.
    """
    check_positive("predict", "batch_size", batch_size)
    was_training = model.training
    model.eval()
    try:
        outs = [model.forward(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return get_array_module(outs[0]).concatenate(outs, axis=0)


def _correct(scores: Any, y: Any) -> int:
    """How many predictions equal the integer labels y.

    Class scores have one more axis than y ((N, C) for y (N,), (N, T, V) for y (N, T)): the prediction
    is the argmax over that last axis. Otherwise scores are binary logits shaped like y (or (N, 1)): the
    prediction is score > 0, i.e. probability above 1/2.
    """
    if scores.ndim == y.ndim + 1 and scores.shape[-1] > 1:
        pred = scores.argmax(axis=-1)
    else:
        pred = scores.reshape(y.shape) > 0
    return int((pred == y).sum())


def _is_classification(scores: Any, y: Any) -> bool:
    """Integer labels, or float 0/1 targets of a binary classifier (binary cross-entropy)."""
    if y.dtype.kind in "iub":
        return scores.shape[: y.ndim] == y.shape
    return scores.shape == y.shape and bool(((y == 0) | (y == 1)).all())


def accuracy(model: Any, X: Any, y: Any, batch_size: int = 1024) -> float:
    """Fraction of labels predicted right, in evaluation mode.

    Inputs:
    - X: (N, ...) inputs; y: (N,) integer labels ((N, T) for sequence models), or 0/1 targets shaped
      like the scores of a binary classifier.
    - The model's scores are class scores (N, C) or (N, T, V) (prediction: argmax over the last axis),
      or logits of a binary classifier, (N,) or (N, 1) (prediction: logit > 0).
    """
    if len(X) != len(y):
        raise ValueError(f"accuracy: X and y must have the same length, got {len(X)} and {len(y)}")
    scores = predict(model, X, batch_size)
    if not _is_classification(scores, y):
        raise ValueError(
            f"accuracy: y must hold class labels matching scores of shape {tuple(scores.shape)}, "
            f"got y of shape {tuple(y.shape)} and dtype {y.dtype}"
        )
    return _correct(scores, y) / y.size


def evaluate(model: Any, loss_fn: LossFn, X: Any, y: Any, batch_size: int = 1024) -> tuple[float, float]:
    """(mean loss, accuracy) over (X, y) in evaluation mode; accuracy is NaN unless y holds class labels."""
    scores = predict(model, X, batch_size)
    loss, _ = loss_fn(scores, y)
    acc = _correct(scores, y) / y.size if _is_classification(scores, y) else math.nan
    return float(loss), acc


def _progress_mode(progress: bool) -> str:
    """'off', 'bar' (tqdm in a terminal or notebook) or 'lines' (one printed line per epoch, for CI/logs)."""
    if not progress:
        return "off"
    if os.environ.get("CI"):
        return "lines"
    in_notebook = "ipykernel" in sys.modules
    return "bar" if in_notebook or sys.stdout.isatty() else "lines"


def _make_bar(total: int) -> Any:
    if "ipykernel" in sys.modules:
        from tqdm.auto import tqdm  # noqa: PLC0415  (widgets in Jupyter, text elsewhere)
    else:
        from tqdm import tqdm  # noqa: PLC0415
    return tqdm(total=total, unit="batch", leave=True)


def _format_epoch(epoch: int, epochs: int, history: dict[str, Any]) -> str:
    parts = [f"epoch {epoch}/{epochs}", f"train_loss {history['train_loss'][-1]:.4f}"]
    for key in ("train_acc", "val_loss", "val_acc"):
        if history[key] and not math.isnan(history[key][-1]):
            parts.append(f"{key} {history[key][-1]:.4f}")
    return ", ".join(parts)


def train(
    model: Any,
    loss_fn: LossFn,
    optimizer: Any,
    data: tuple[Any, Any],
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    val_data: tuple[Any, Any] | None = None,
    progress: bool = True,
    checkpoint: str | None = "best",
    monitor: str = "val_loss",
) -> dict[str, Any]:
    """Train ``model`` with minibatches for ``epochs`` passes over ``data``; return the history.

    Inputs:
    - data: (X_train (N, ...), y_train (N, ...)); val_data: (X_val, y_val) or None.
    - epochs, batch_size: E passes, minibatches of B examples (the last one may be smaller).
    - rng: the generator that shuffles each epoch; with seeded model and rng, training is repeatable.
    - progress: a tqdm bar in a terminal or notebook, one printed line per epoch elsewhere (CI, logs).
    - checkpoint: 'best' keeps a copy of the parameters at the best validation epoch and loads it back at
      the end; 'keep' keeps the copy in ``history['best_state']`` without loading it (load it on request
      with ``model.load_state_dict``); None keeps no copy. Needs ``val_data`` unless None.
    - monitor: 'val_loss' (lowest is best) or 'val_acc' (highest is best).

    Returns a dict of per-epoch lists ``train_loss`` (mean minibatch loss), ``train_acc`` (on the
    minibatches, while training), ``val_loss``, ``val_acc``, ``epoch_time`` (seconds), plus
    ``best_epoch`` (1-based) and ``best_state`` when checkpointing. Accuracies are NaN for targets that
    are not class labels (integers, or 0/1 floats for a binary classifier). The model is left in
    training mode.
    """
    check_positive("train", "epochs", epochs)
    check_positive("train", "batch_size", batch_size)
    check_choice("train", "checkpoint", checkpoint, ("best", "keep", None))
    check_choice("train", "monitor", monitor, ("val_loss", "val_acc"))
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"train: rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if checkpoint is not None and val_data is None:
        raise ValueError(f"train: checkpoint={checkpoint!r} needs val_data (or pass checkpoint=None)")
    X, y = data
    if len(X) != len(y):
        raise ValueError(f"train: X and y must have the same length, got {len(X)} and {len(y)}")

    history: dict[str, Any] = {
        k: [] for k in ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_time")
    }
    history["best_epoch"], history["best_state"] = None, None
    best = math.inf
    mode = _progress_mode(progress)
    batches_per_epoch = math.ceil(len(X) / batch_size)
    bar = _make_bar(epochs * batches_per_epoch) if mode == "bar" else None
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            total_loss, correct, seen, labels = 0.0, 0, 0, 0
            classification = True
            for xb, yb in iterate_minibatches(X, y, batch_size, rng):
                loss, scores = train_step(model, loss_fn, optimizer, xb, yb)
                total_loss += loss * len(xb)
                seen += len(xb)
                classification = classification and _is_classification(scores, yb)
                if classification:
                    correct += _correct(scores, yb)
                    labels += yb.size
                if bar is not None:
                    bar.update(1)
            history["train_loss"].append(total_loss / seen)
            history["train_acc"].append(correct / labels if classification else math.nan)
            if val_data is not None:
                val_loss, val_acc = evaluate(model, loss_fn, *val_data)
                history["val_loss"].append(val_loss)
                history["val_acc"].append(val_acc)
                # lower is better for both: the loss, and minus the accuracy
                score = val_loss if monitor == "val_loss" else -val_acc
                if checkpoint is not None and score < best:
                    best = score
                    history["best_epoch"], history["best_state"] = epoch, model.state_dict()
            history["epoch_time"].append(time.perf_counter() - start)
            if bar is not None:
                bar.set_postfix_str(_format_epoch(epoch, epochs, history), refresh=True)
            elif mode == "lines":
                print(_format_epoch(epoch, epochs, history), flush=True)
    finally:
        if bar is not None:
            bar.close()
    if checkpoint == "best" and history["best_state"] is not None:
        model.load_state_dict(history["best_state"])
    model.train()
    return history
