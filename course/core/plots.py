"""Plots used across the notebooks: learning curves and 2-D decision boundaries (lectures 002 and 004).

Every function draws on a matplotlib ``Axes`` (a new figure when ``ax`` is None), sets a title and axis
labels, and returns the axes. Nothing here calls ``plt.show()``: the notebook displays the figure, and
scripts and tests can use the non-interactive Agg backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from course.core.backend import to_cpu
from course.core.validation import check_array, check_positive


def _axes(ax: Any) -> Any:
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def _epochs(values: list[float]) -> np.ndarray:
    return np.arange(1, len(values) + 1)


def _has_values(values: Any) -> bool:
    return bool(values) and not all(math.isnan(v) for v in values)


def plot_loss_curves(history: dict[str, Any], ax: Any = None, log_scale: bool = False) -> Any:
    """Training and validation loss per epoch, from the history ``course.training.train.train`` returns.

    A gap that opens between the two curves is over-fitting; the best checkpoint epoch is marked.
    """
    if not _has_values(history.get("train_loss")):
        raise ValueError("plot_loss_curves: history must hold a non-empty 'train_loss' list")
    ax = _axes(ax)
    ax.plot(_epochs(history["train_loss"]), history["train_loss"], label="training")
    if _has_values(history.get("val_loss")):
        ax.plot(_epochs(history["val_loss"]), history["val_loss"], label="validation")
    if history.get("best_epoch") is not None:
        ax.axvline(history["best_epoch"], color="grey", linestyle="--", linewidth=1, label="best checkpoint")
    if log_scale:
        ax.set_yscale("log")
    ax.set_title("Loss per epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss (per example)")
    ax.legend()
    return ax


def plot_accuracy_curves(history: dict[str, Any], ax: Any = None) -> Any:
    """Training (on the minibatches while training) and validation accuracy per epoch, in percent."""
    if not (_has_values(history.get("train_acc")) or _has_values(history.get("val_acc"))):
        raise ValueError("plot_accuracy_curves: history holds no accuracies (were the targets class labels?)")
    ax = _axes(ax)
    for key, label in (("train_acc", "training"), ("val_acc", "validation")):
        if _has_values(history.get(key)):
            ax.plot(_epochs(history[key]), 100 * np.asarray(history[key]), label=label)
    ax.set_title("Accuracy per epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.legend()
    return ax


def plot_decision_boundary(
    predict_fn: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    ax: Any = None,
    resolution: int = 200,
    padding: float = 0.25,
    title: str = "Decision regions",
) -> Any:
    """Colour the plane by the class ``predict_fn`` assigns and scatter the labelled points on top.

    Inputs:
    - predict_fn: maps (M, 2) points to labels (M,), class scores (M, C) (argmax is taken) or binary
      logits (M,) / (M, 1) of a float dtype (class 1 where the logit is > 0). Called once on a float32
      grid of resolution^2 points.
    - X: (N, 2) points; y: (N,) integer labels.
    - resolution: grid points per axis; padding: margin around the data, as a fraction of its range.
    """
    X, y = to_cpu(X), to_cpu(y)
    dims: dict[str, int] = {}
    check_array("plot_decision_boundary", "X", X, ("N", 2), dims=dims)
    check_array("plot_decision_boundary", "y", y, ("N",), dims=dims, dtype_kind="i")
    check_positive("plot_decision_boundary", "resolution", resolution)
    ax = _axes(ax)
    lo, hi = X.min(axis=0), X.max(axis=0)
    margin = padding * (hi - lo)
    gx = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    gy = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    xx, yy = np.meshgrid(gx, gy)  # (R, R) each
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)  # (R*R, 2)
    out = np.asarray(to_cpu(predict_fn(grid)))
    if out.ndim == 2 and out.shape[1] > 1:
        labels = out.argmax(axis=1)
    elif out.dtype.kind == "f":
        labels = (out.reshape(-1) > 0).astype(np.int64)
    else:
        labels = out.reshape(-1)
    n_classes = int(max(labels.max(), y.max())) + 1
    cmap = plt.get_cmap("tab10" if n_classes <= 10 else "tab20")
    ax.pcolormesh(
        xx, yy, labels.reshape(xx.shape), cmap=cmap, vmin=-0.5, vmax=cmap.N - 0.5, alpha=0.3, shading="auto"
    )
    ax.scatter(
        X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=cmap.N - 0.5, s=12, edgecolors="k", linewidths=0.3
    )
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax
