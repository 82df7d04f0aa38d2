"""Digits experiments: a two-layer MLP and a small CNN trained with the library on the 8x8 digits.

Issue figures: MLP >= 97% and CNN >= 98% test accuracy (mean of 3 seeds), each under 2 minutes on one
CPU core. ``python experiments/run_digits.py`` prints them; tests/test_digits.py asserts a looser bound.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from course.core.module import Sequential
from course.data import load_digits
from course.layers.activations import ReLU
from course.layers.affine import Linear
from course.layers.convolution import Conv2d
from course.layers.losses import softmax_cross_entropy
from course.layers.pooling import MaxPool2d
from course.training.optim import Optimizer, adam
from course.training.train import accuracy, train


def digits_mlp(seed: int, hidden: int = 128) -> Sequential:
    """64 -> hidden -> 10 with ReLU (He initialisation)."""
    return Sequential(
        Linear(64, hidden, rng=seed, input_grad=False), ReLU(), Linear(hidden, 10, rng=seed + 1000)
    )


def wide_digits_cnn(seed: int) -> Sequential:
    """The results run's CNN (wider than a05's graded `course.models.digits_cnn`): conv3x3(16)-relu-pool2 ->
    conv3x3(32)-relu-pool2 -> affine(64)-relu -> affine(10) on (N, 1, 8, 8)."""
    return Sequential(
        Conv2d(1, 16, 3, pad=1, rng=seed),  # (N, 16, 8, 8)
        ReLU(),
        MaxPool2d(2),  # (N, 16, 4, 4)
        Conv2d(16, 32, 3, pad=1, rng=seed + 1),  # (N, 32, 4, 4)
        ReLU(),
        MaxPool2d(2),  # (N, 32, 2, 2)
        Linear(128, 64, rng=seed + 2),  # flattens (N, 32, 2, 2) -> (N, 128) -> (N, 64)
        ReLU(),
        Linear(64, 10, rng=seed + 3),
    )


def train_digits(kind: str, seed: int, epochs: int | None = None, progress: bool = False) -> dict[str, Any]:
    """Train the 'mlp' or 'cnn' (best validation epoch kept); return test accuracy and time."""
    if kind not in ("mlp", "cnn"):
        raise ValueError(f"train_digits: kind must be 'mlp' or 'cnn', got {kind!r}")
    flatten = kind == "mlp"
    data = {s: load_digits(s, flatten=flatten) for s in ("train", "val", "test")}
    model = digits_mlp(seed) if flatten else wide_digits_cnn(seed)
    epochs = epochs if epochs is not None else (60 if flatten else 30)
    opt = Optimizer(model, adam, learning_rate=2e-3 if flatten else 3e-3)
    start = time.perf_counter()
    history = train(
        model,
        softmax_cross_entropy,
        opt,
        data["train"],
        epochs=epochs,
        batch_size=32,
        rng=np.random.default_rng(seed),
        val_data=data["val"],
        progress=progress,
        monitor="val_acc",
    )
    seconds = time.perf_counter() - start
    model.eval()
    return {
        "kind": kind,
        "seed": seed,
        "test_acc": float(accuracy(model, *data["test"])),
        "val_acc": float(max(history["val_acc"])),
        "seconds": seconds,
        "epochs": epochs,
    }
