"""Adversarial examples by the fast gradient sign method (lecture 004: "panda + .007 x noise = gibbon").

Goodfellow, Shlens & Szegedy (2014), "Explaining and Harnessing Adversarial Examples": a classifier
that is nearly linear in its input can be fooled by a perturbation too small to see, if it is aligned
with the gradient. Backpropagation gives that gradient for free: run the backward pass one step further
than training does, down to the pixels, dL/dx. Among all perturbations with ||delta||_inf <= epsilon
(every pixel changed by at most epsilon), the one that raises the linearised loss most is
delta = epsilon sign(dL/dx), the fast gradient sign method (FGSM):

    x_adv = clip(x + epsilon sign(dL/dx), 0, 1).

The clip keeps a valid image. In D dimensions the change of the linearised loss is epsilon ||dL/dx||_1,
which grows with D, so the more pixels the smaller the epsilon that suffices (the panda: 224x224x3).
"""

from __future__ import annotations

from typing import Any

from course.core.backend import get_array_module
from course.core.validation import check_array, check_positive
from course.layers.losses import softmax, softmax_cross_entropy


def input_gradient(model: Any, x: Any, y: Any) -> tuple[float, Any]:
    """The loss of a classifier and its gradient with respect to the *input*, dL/dx.

    L = softmax_cross_entropy(model(x), y), the mean over the batch; the backward pass runs through
    every layer down to x (so its first layer must return dx). The parameter gradients the backward pass
    accumulates on the way are a by-product (zero them before training on).

    Inputs:
    - model: a ``Module`` whose ``forward`` maps (N, D) inputs to (N, C) class scores.
    - x: (N, D) inputs.
    - y: (N,) integer labels in [0, C).

    Returns:
    - loss: float, the mean cross-entropy.
    - dx: (N, D), dL/dx.
    """
    check_array("input_gradient", "x", x, ndim=2, dtype_kind="f")
    # BEGIN GRADED a10.input_gradient
    scores = model.forward(x)  # (N, C)
    loss, dscores = softmax_cross_entropy(scores, y)
    dx = model.backward(dscores)  # (N, D): the chain rule carried one layer further, to the pixels
    return float(loss), dx
    # END GRADED


def fgsm_step(x: Any, dx: Any, epsilon: float, low: float = 0.0, high: float = 1.0) -> Any:
    """One fast-gradient-sign step, x_adv = clip(x + epsilon sign(dx), low, high).

    Inputs:
    - x: (N, D) inputs with values in [low, high].
    - dx: (N, D) gradient of the loss with respect to x (only its sign is used).
    - epsilon: the step, the largest change of any pixel (>= 0).
    - low, high: the valid range of a pixel.

    Returns:
    - x_adv: (N, D), a new array (x is not modified).
    """
    check_array("fgsm_step", "x", x, ndim=2, dtype_kind="f")
    check_array("fgsm_step", "dx", dx, tuple(x.shape), dtype_kind="f")
    check_positive("fgsm_step", "epsilon", epsilon, allow_zero=True)
    # BEGIN GRADED a10.fgsm_step
    xp = get_array_module(x, dx)
    x_adv = x + epsilon * xp.sign(dx)  # every pixel moves by epsilon, uphill for the loss
    return xp.clip(x_adv, low, high)  # and the result is still a valid image
    # END GRADED


def fgsm_attack(model: Any, x: Any, y: Any, epsilon: float) -> Any:
    """Adversarial versions of the inputs: ``fgsm_step(x, input_gradient(model, x, y)[1], epsilon)``.

    Inputs: model, x (N, D) in [0, 1], y (N,), epsilon. Returns x_adv: (N, D).
    """
    _, dx = input_gradient(model, x, y)
    return fgsm_step(x, dx, epsilon)


def predict_with_confidence(model: Any, x: Any) -> tuple[Any, Any]:
    """The predicted classes and the probability the model gives them (its "confidence").

    Inputs: model, x (N, D). Returns labels (N,) int and confidences (N,) in (0, 1].
    """
    xp = get_array_module(x)
    probs = softmax(model.forward(x), axis=1)  # (N, C)
    labels = probs.argmax(axis=1)
    return labels, probs[xp.arange(len(labels)), labels]
