"""Softmax and the losses: cross-entropy, mean squared error, binary cross-entropy (lectures 000, 001, 002).

Overflow (lecture 000, "softmax module: overflow handling"): with 1000 classes and logits up to 300,
exp(300) ~ 1.9e130 is still finite in float64 but overflows float32 (limit ~ exp(88.7)), and at 1e4 it
overflows both. Softmax does not change when a constant is subtracted from every logit, so we subtract the
row maximum first: every exponent is then <= 0 and the largest term is exactly 1.

Fusing (lecture 000, "softmax-cross entropy module: faster than softmax and then cross entropy"): the
gradient of -log softmax(x)_y with respect to x is simply softmax(x) - onehot(y), one exp and no Jacobian.
``softmax_cross_entropy_separate`` keeps the three steps apart, only to time and compare against.

Every loss here is a *mean*: over the batch for cross-entropy, over all elements for MSE and BCE, so
the returned gradient carries the 1/N (or 1/size) factor.
"""

from __future__ import annotations

from typing import Any

from course.core.backend import get_array_module
from course.core.validation import check_array
from course.layers.activations import sigmoid_forward


def _check_labels(func: str, y: Any, num_classes: int, n: int) -> None:
    check_array(func, "y", y, (n,), dtype_kind="i")
    if y.size and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"{func}: y must hold class ids in [0, C) = [0, {num_classes}), "
            f"got values in [{int(y.min())}, {int(y.max())}]"
        )


def softmax(x: Any, axis: int = -1) -> Any:
    """Numerically stable softmax, softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x).

    Inputs:
    - x: any shape, float.
    - axis: the axis that is normalised (the classes).

    Returns:
    - probabilities, same shape as x, summing to 1 along ``axis``.
    """
    check_array("softmax", "x", x, min_ndim=1, dtype_kind="f")
    # BEGIN GRADED a02.softmax
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))  # every exponent <= 0: no overflow
    return e / e.sum(axis=axis, keepdims=True)
    # END GRADED


def log_softmax(x: Any, axis: int = -1) -> Any:
    """Numerically stable log-softmax, log softmax(x)_i = (x_i - m) - log sum_j exp(x_j - m), m = max x.

    Computing log(softmax(x)) instead would give log(0) = -inf for classes far below the maximum.

    Inputs:
    - x: any shape, float.
    - axis: the axis that is normalised.

    Returns:
    - log-probabilities, same shape as x, all <= 0.
    """
    check_array("log_softmax", "x", x, min_ndim=1, dtype_kind="f")
    # BEGIN GRADED a02.log_softmax
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))  # the sum is >= 1: log is safe
    # END GRADED


def softmax_forward(x: Any) -> tuple[Any, Any]:
    """Softmax over the last axis as a forward/backward pair (for use inside larger graphs).

    Inputs:
    - x: (..., C) scores.

    Returns:
    - out: (..., C) probabilities.
    - cache: out.
    """
    out = softmax(x, axis=-1)
    return out, out


def softmax_backward(dout: Any, cache: Any) -> Any:
    """Softmax Jacobian-vector product, dx = s * (dout - sum(dout * s)) along the last axis.

    The Jacobian is diag(s) - s s^T; multiplying it by dout never needs the (C, C) matrix.

    Inputs:
    - dout: (..., C) upstream gradient.
    - cache: s, the forward output.

    Returns:
    - dx: (..., C).
    """
    s = cache
    check_array("softmax_backward", "dout", dout, tuple(s.shape), dtype_kind="f")
    return s * (dout - (dout * s).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(logits: Any, y: Any) -> tuple[Any, Any]:
    """Fused softmax + cross-entropy, loss = -(1/N) sum_n log softmax(logits_n)_{y_n}.

    Inputs:
    - logits: (N, C) unnormalised scores.
    - y: (N,) integer class ids in [0, C).

    Returns:
    - loss: scalar, the mean over the batch.
    - dlogits: (N, C), (softmax(logits) - onehot(y)) / N.
    """
    check_array("softmax_cross_entropy", "logits", logits, ndim=2, dtype_kind="f")
    _check_labels("softmax_cross_entropy", y, logits.shape[1], logits.shape[0])
    # BEGIN GRADED a02.softmax_cross_entropy
    xp = get_array_module(logits)
    n = logits.shape[0]
    rows = xp.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, C), every entry <= 0
    e = xp.exp(shifted)
    total = e.sum(axis=1)  # (N,), >= 1 because the maximum contributes exp(0)
    loss = -(shifted[rows, y] - xp.log(total)).mean()
    dlogits = e / total[:, None]  # (N, C), softmax(logits)
    dlogits[rows, y] -= 1
    dlogits /= n
    return loss, dlogits
    # END GRADED


def softmax_cross_entropy_separate(logits: Any, y: Any) -> tuple[Any, Any]:
    """Softmax, then log, then negative log-likelihood, each with its own backward step (unfused).

    Same value and gradient as ``softmax_cross_entropy`` (up to round-off) but slower, and fragile:
    when softmax underflows to 0 for the true class, log gives -inf. It exists to be timed against the
    fused version (assignment 02); do not train with it.

    Inputs:
    - logits: (N, C); y: (N,) integer class ids in [0, C).

    Returns:
    - loss: scalar mean over the batch; dlogits: (N, C).
    """
    check_array("softmax_cross_entropy_separate", "logits", logits, ndim=2, dtype_kind="f")
    _check_labels("softmax_cross_entropy_separate", y, logits.shape[1], logits.shape[0])
    xp = get_array_module(logits)
    n = logits.shape[0]
    rows = xp.arange(n)
    probs, cache = softmax_forward(logits)  # (N, C)
    p_true = probs[rows, y]  # (N,)
    loss = -xp.log(p_true).mean()
    # backward, one step at a time: d loss / d p_true = -1 / (N p_true), scattered back to (N, C)
    dprobs = xp.zeros_like(probs)
    dprobs[rows, y] = -1.0 / (n * p_true)
    dlogits = softmax_backward(dprobs, cache)
    return loss, dlogits


def mse_loss(pred: Any, target: Any) -> tuple[Any, Any]:
    """Mean squared error over *all* elements, loss = mean((pred - target)^2) (PyTorch's default too).

    Inputs:
    - pred: any shape.
    - target: same shape as pred.

    Returns:
    - loss: scalar.
    - dpred: same shape as pred, 2 (pred - target) / pred.size.
    """
    check_array("mse_loss", "pred", pred, dtype_kind="f")
    check_array("mse_loss", "target", target, tuple(pred.shape), dtype_kind="f")
    # BEGIN GRADED a02.mse_loss
    diff = pred - target
    loss = (diff * diff).mean()
    dpred = diff * (2.0 / diff.size)
    return loss, dpred
    # END GRADED


def binary_cross_entropy_with_logits(z: Any, y: Any) -> tuple[Any, Any]:
    """Binary cross-entropy on logits, mean over all elements, computed without overflow.

    loss_i = -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] = max(z, 0) - z y + log(1 + exp(-|z|)),
    the log-sum-exp form: exp(-|z|) <= 1, so nothing overflows and log1p keeps small terms accurate.
    The gradient is (sigmoid(z) - y) / size, with the stable ``sigmoid_forward``.

    Inputs:
    - z: any shape, logits.
    - y: same shape as z, targets in [0, 1] (float).

    Returns:
    - loss: scalar.
    - dz: same shape as z.
    """
    check_array("binary_cross_entropy_with_logits", "z", z, dtype_kind="f")
    check_array("binary_cross_entropy_with_logits", "y", y, tuple(z.shape), dtype_kind="f")
    # BEGIN GRADED a02.binary_cross_entropy_with_logits
    xp = get_array_module(z, y)
    loss = (xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-xp.abs(z)))).mean()  # exp(-|z|) <= 1
    s, _ = sigmoid_forward(z)  # the stable sigmoid
    dz = (s - y) / z.size
    return loss, dz
    # END GRADED
