"""The small CNN of assignment 05 for the 8x8 digits (lecture 002, "ConvNet architectures").

Two convolution-ReLU-pooling stages, then one affine layer to the 10 class scores:
    (N, 1, 8, 8) -> conv 3x3 (16), relu, pool 2 -> conv 3x3 (32), relu, pool 2 -> affine (10).
The 3x3 convolutions with pad 1 keep the height and width; each 2x2 pooling halves them, so the affine
layer reads 32 * 2 * 2 = 128 features. 6,090 parameters, against 9,610 for the 64-128-10 MLP of the
notebook's comparison. (``experiments/digits.py`` trains a larger variant with a hidden affine layer.)
"""

from __future__ import annotations

from course.core.module import Sequential
from course.layers.activations import ReLU
from course.layers.affine import Linear
from course.layers.convolution import Conv2d
from course.layers.pooling import MaxPool2d


def digits_cnn(seed: int) -> Sequential:
    """conv3x3(16)-relu-pool2, conv3x3(32)-relu-pool2, affine(10) for (N, 1, 8, 8) digits.

    Inputs:
    - seed: the layers draw their weights from seeds ``seed``, ``seed + 1`` and ``seed + 2``.

    Returns:
    - a ``Sequential`` mapping (N, 1, 8, 8) images to (N, 10) class scores.
    """
    # BEGIN GRADED a05.digits_cnn
    return Sequential(
        Conv2d(1, 16, 3, pad=1, rng=seed),  # (N, 16, 8, 8)
        ReLU(),
        MaxPool2d(2),  # (N, 16, 4, 4)
        Conv2d(16, 32, 3, pad=1, rng=seed + 1),  # (N, 32, 4, 4)
        ReLU(),
        MaxPool2d(2),  # (N, 32, 2, 2)
        Linear(32 * 2 * 2, 10, rng=seed + 2),  # flattens to (N, 128), then (N, 10)
    )
    # END GRADED
