"""The 8x8 handwritten digits (UCI optical digits, test set as shipped by scikit-learn).

1797 grey images of 8x8 pixels with integer intensities 0..16 and labels 0..9, used from lecture 001
on (MLP, CNN in assignment 05, adversarial examples in assignment 10). Provenance and licence are in
``course/data/README.md``.

The fixed split is stratified: every class is spread evenly over train/val/test, so the 300-image
validation and test sets each hold about 30 images of every digit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.validation import check_choice
from course.data.files import verified_path

DIGITS_SPLIT_SIZES = {"test": 300, "val": 300, "train": 1197}


def load_digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """The shipped arrays, unscaled: images uint8 (1797, 8, 8) in 0..16 and labels uint8 (1797,)."""
    with np.load(verified_path("digits.npz")) as f:
        return f["images"], f["labels"]


def stratified_order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A permutation of ``range(len(y))`` in which every prefix is (nearly) class balanced.

    Each example gets the key (rank within its class + 0.5) / (class size) after a random shuffle;
    sorting by that key interleaves the classes in proportion, so consecutive slices of the result
    are stratified samples.
    """
    n = len(y)
    perm = rng.permutation(n)
    classes, inverse, counts = np.unique(y[perm], return_inverse=True, return_counts=True)
    rank = np.zeros(n)
    seen = np.zeros(len(classes), dtype=np.int64)
    for i, c in enumerate(inverse):
        rank[i] = seen[c]
        seen[c] += 1
    key = (rank + 0.5) / counts[inverse]
    return perm[np.argsort(key, kind="stable")]


def load_digits(
    split: str | None = None,
    seed: int = 0,
    dtype: Any = np.float32,
    flatten: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load the digits scaled to [0, 1].

    Inputs:
    - split: None for all 1797 images, or 'train' (1197), 'val' (300), 'test' (300). The three splits
      are disjoint, stratified by class, and fixed by ``seed``.
    - seed: seed of the split (keep 0 so everyone's numbers are comparable).
    - dtype: float dtype of the images (float32 for training, float64 for gradient checks).
    - flatten: True gives X of shape (N, 64) for MLPs, False gives (N, 1, 8, 8) for convolutions.

    Returns:
    - X: (N, 64) or (N, 1, 8, 8) of ``dtype`` with values in [0, 1] (pixel / 16).
    - y: (N,) int64 labels in 0..9.
    """
    check_choice("load_digits", "split", split, (None, "train", "val", "test"))
    images, labels = load_digits_raw()
    if split is not None:
        order = stratified_order(labels, np.random.default_rng(seed))
        start = {"test": 0, "val": 300, "train": 600}[split]
        idx = np.sort(order[start : start + DIGITS_SPLIT_SIZES[split]])
        images, labels = images[idx], labels[idx]
    X = (images.astype(dtype) / 16).astype(dtype, copy=False)
    X = X.reshape(len(X), 64) if flatten else X.reshape(len(X), 1, 8, 8)  # (N, 64) or (N, 1, 8, 8)
    return X, labels.astype(np.int64)
