"""The operator experts of the mini TensorFlow (lecture 000, part 2: "computation operator experts").

Each operator is a small class with two methods side by side:
- ``forward(*input_values) -> value``: the maths on arrays;
- ``gradient(g, node, dout) -> [d_input_1, ...]``: the local chain rule, written with *graph* ops of the
  builder ``g``, one entry per input of ``node`` (``None`` where no gradient flows). ``dout`` is the node
  holding dLoss/d(output). Because the rule returns graph nodes, the gradient is itself a graph, and
  differentiating it again gives second derivatives (lecture 000, "tf.gradients, second-order derivatives").

An operator knows nothing about the rest of the graph: the DAG expert (``course.minitf.session``) orders the
nodes and sums the contributions that arrive at a node from every path.

A forward rule that assignment 02 already wrote (ReLU, tanh, softmax, ``unbroadcast``) calls that function
of ``course.layers`` instead of repeating its maths; the rules written here are assignment 03's exercises.

Broadcasting: ``add``/``subtract``/``multiply``/``divide`` follow NumPy broadcasting, so their gradient is
``dout`` summed back to each input's shape (``sum_to``); its adjoint ``broadcast_to`` undoes that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from course.core.backend import get_array_module
from course.core.validation import check_array
from course.layers.activations import relu_backward, relu_forward, tanh_forward
from course.layers.elementwise import unbroadcast
from course.layers.losses import softmax

if TYPE_CHECKING:
    from course.minitf.graph import Graph, Node

Grads = list["Node | None"]


def _shape(value: Any) -> tuple[int, ...]:
    """Shape of an array or of a Python scalar (``()``)."""
    return tuple(np.shape(value))


class Op:
    """An operator expert: ``forward`` computes the value, ``gradient`` builds the local chain rule."""

    name = "op"

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        raise NotImplementedError(f"{type(self).__name__}.gradient")

    def __repr__(self) -> str:
        return type(self).__name__


# --------------------------------------------------------------------------------------------------------
# Element-wise arithmetic (with broadcasting)
# --------------------------------------------------------------------------------------------------------


class Add(Op):
    """out = a + b (NumPy broadcasting)."""

    name = "add"

    def forward(self, a: Any, b: Any) -> Any:
        # BEGIN GRADED a03.add_forward
        return a + b
        # END GRADED

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d(a + b)/da = 1, d(a + b)/db = 1; dout is summed back over broadcast axes to each input's shape."""
        # BEGIN GRADED a03.add_gradient
        a, b = node.inputs
        return [g.sum_to(dout, a), g.sum_to(dout, b)]
        # END GRADED


class Subtract(Op):
    """out = a - b (NumPy broadcasting)."""

    name = "subtract"

    def forward(self, a: Any, b: Any) -> Any:
        return a - b

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d(a - b)/da = 1, d(a - b)/db = -1."""
        a, b = node.inputs
        return [g.sum_to(dout, a), g.sum_to(g.negative(dout), b)]


class Negative(Op):
    """out = -x."""

    name = "negative"

    def forward(self, x: Any) -> Any:
        return -x

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        return [g.negative(dout)]


class Multiply(Op):
    """out = a * b, element-wise (NumPy broadcasting; a Python number gives a scalar multiply)."""

    name = "multiply"

    def forward(self, a: Any, b: Any) -> Any:
        # BEGIN GRADED a03.multiply_forward
        return a * b
        # END GRADED

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d(a * b)/da = b, d(a * b)/db = a, each summed back to its input's shape."""
        # BEGIN GRADED a03.multiply_gradient
        a, b = node.inputs
        return [g.sum_to(g.multiply(dout, b), a), g.sum_to(g.multiply(dout, a), b)]
        # END GRADED


class Divide(Op):
    """out = a / b, element-wise (NumPy broadcasting)."""

    name = "divide"

    def forward(self, a: Any, b: Any) -> Any:
        return a / b

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d(a / b)/da = 1 / b, d(a / b)/db = -a / b^2 = -out / b (reuses the output)."""
        a, b = node.inputs
        return [g.sum_to(g.divide(dout, b), a), g.sum_to(g.negative(g.multiply(dout, g.divide(node, b))), b)]


# --------------------------------------------------------------------------------------------------------
# Matrix product and transpose
# --------------------------------------------------------------------------------------------------------


class MatMul(Op):
    """out = a @ b with a (N, D), b (D, M) -> out (N, M)."""

    name = "matmul"

    def forward(self, a: Any, b: Any) -> Any:
        dims: dict[str, int] = {}
        check_array("matmul", "a", a, ("N", "D"), dims=dims)
        check_array("matmul", "b", b, ("D", "M"), dims=dims)
        # BEGIN GRADED a03.matmul_forward
        return a @ b  # (N, M)
        # END GRADED

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """dL/da = dout @ b^T (N, D), dL/db = a^T @ dout (D, M)."""
        # BEGIN GRADED a03.matmul_gradient
        a, b = node.inputs
        return [g.matmul(dout, g.transpose(b)), g.matmul(g.transpose(a), dout)]
        # END GRADED


class Transpose(Op):
    """out = x^T (axes reversed)."""

    name = "transpose"

    def forward(self, x: Any) -> Any:
        return get_array_module(x).transpose(x)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """Reversing the axes twice is the identity, so the gradient is transposed back."""
        return [g.transpose(dout)]


# --------------------------------------------------------------------------------------------------------
# Element-wise non-linearities
# --------------------------------------------------------------------------------------------------------


class Square(Op):
    """out = x^2."""

    name = "square"

    def forward(self, x: Any) -> Any:
        # BEGIN GRADED a03.square_forward
        return x * x
        # END GRADED

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d(x^2)/dx = 2x."""
        # BEGIN GRADED a03.square_gradient
        (x,) = node.inputs
        return [g.multiply(dout, g.multiply(2.0, x))]
        # END GRADED


class Sigmoid(Op):
    """out = 1 / (1 + exp(-x))."""

    name = "sigmoid"

    def forward(self, x: Any) -> Any:
        # BEGIN GRADED a03.sigmoid_forward
        xp = get_array_module(x)
        # exp(-log(1 + exp(-x))) is 1 / (1 + exp(-x)) without overflowing exp for very negative x.
        return xp.exp(-xp.logaddexp(0, -x))
        # END GRADED

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d sigma/dx = sigma (1 - sigma): reuses the output node, no exp recomputed."""
        # BEGIN GRADED a03.sigmoid_gradient
        return [g.multiply(dout, g.multiply(node, g.subtract(1.0, node)))]
        # END GRADED


class Tanh(Op):
    """out = tanh(x)."""

    name = "tanh"

    def forward(self, x: Any) -> Any:
        out, _ = tanh_forward(x)
        return out

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d tanh/dx = 1 - tanh^2 (reuses the output)."""
        return [g.multiply(dout, g.subtract(1.0, g.square(node)))]


class ReLU(Op):
    """out = max(0, x)."""

    name = "relu"

    def forward(self, x: Any) -> Any:
        out, _ = relu_forward(x)
        return out

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d relu/dx = 1 where x > 0, else 0 (the step function; its own derivative is 0)."""
        (x,) = node.inputs
        return [g.multiply(dout, g.step(x))]


class Step(Op):
    """out = 1 where x > 0 else 0, in x's dtype (the derivative of relu). Piecewise constant: no gradient."""

    name = "step"

    def forward(self, x: Any) -> Any:
        _, cache = relu_forward(x)
        return relu_backward(get_array_module(x).ones_like(x), cache)  # d relu/dx times an upstream 1

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        return [None]


class Exp(Op):
    """out = exp(x)."""

    name = "exp"

    def forward(self, x: Any) -> Any:
        return get_array_module(x).exp(x)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d exp/dx = exp(x): the output itself."""
        return [g.multiply(dout, node)]


class Log(Op):
    """out = log(x), x > 0."""

    name = "log"

    def forward(self, x: Any) -> Any:
        return get_array_module(x).log(x)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """d log/dx = 1 / x."""
        (x,) = node.inputs
        return [g.divide(dout, x)]


# --------------------------------------------------------------------------------------------------------
# Reductions and the shape plumbing their gradients need
# --------------------------------------------------------------------------------------------------------


class Sum(Op):
    """out = sum of x over ``axis`` (all axes when None)."""

    name = "sum"

    def __init__(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: Any) -> Any:
        return get_array_module(x).sum(x, axis=self.axis, keepdims=self.keepdims)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """Every summed element receives dout: put the reduced axes back and broadcast to x's shape."""
        (x,) = node.inputs
        if self.axis is not None and not self.keepdims:
            dout = g.expand_dims(dout, self.axis)
        return [g.broadcast_to(dout, x)]


class ReduceMax(Op):
    """out = max of x over ``axis`` (all axes when None)."""

    name = "reduce_max"

    def __init__(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: Any) -> Any:
        return get_array_module(x).max(x, axis=self.axis, keepdims=self.keepdims)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """dout goes to the arg-max (shared equally between tied maxima, as PyTorch's amax does)."""
        (x,) = node.inputs
        if self.axis is not None and not self.keepdims:
            dout = g.expand_dims(dout, self.axis)
        return [g.multiply(g.broadcast_to(dout, x), g.max_mask(x, self.axis))]


class MaxMask(Op):
    """out = 1 / (number of maxima) at the maxima of x over ``axis``, 0 elsewhere. Piecewise constant."""

    name = "max_mask"

    def __init__(self, axis: int | tuple[int, ...] | None = None) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        hits = (x == xp.max(x, axis=self.axis, keepdims=True)).astype(x.dtype)
        return hits / xp.sum(hits, axis=self.axis, keepdims=True)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        return [None]


class Count(Op):
    """out = how many elements a reduction over ``axis`` combines (a Python float, so dtypes survive)."""

    name = "count"

    def __init__(self, axis: int | tuple[int, ...] | None = None) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        shape = _shape(x)
        if self.axis is None:
            return float(np.prod(shape))
        axes = (self.axis,) if isinstance(self.axis, int) else self.axis
        return float(np.prod([shape[a] for a in axes]))

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        return [None]


class ExpandDims(Op):
    """out = x with size-1 axes inserted at ``axis`` (undoes a reduction without keepdims)."""

    name = "expand_dims"

    def __init__(self, axis: int | tuple[int, ...]) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        return get_array_module(x).expand_dims(x, self.axis)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """Summing over the inserted size-1 axes removes them again."""
        return [g.sum(dout, axis=self.axis)]


class BroadcastTo(Op):
    """out = x broadcast (NumPy rules) to the shape of ``like``'s value; ``like`` gets no gradient."""

    name = "broadcast_to"

    def forward(self, x: Any, like: Any) -> Any:
        return get_array_module(x).broadcast_to(x, _shape(like)).copy()

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """A value copied along an axis receives the sum of the copies' gradients."""
        x, _ = node.inputs
        return [g.sum_to(dout, x), None]


class SumTo(Op):
    """out = x summed over broadcast axes down to the shape of ``like``'s value (see ``unbroadcast``)."""

    name = "sum_to"

    def forward(self, x: Any, like: Any) -> Any:
        return unbroadcast(get_array_module(x).asarray(x), _shape(like))

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """The adjoint of a sum over copies is copying: broadcast dout back to x's shape."""
        x, _ = node.inputs
        return [g.broadcast_to(dout, x), None]


class OnesLike(Op):
    """out = ones shaped like x (the seed dy/dy = 1 of a gradient walk). Constant: no gradient."""

    name = "ones_like"

    def forward(self, x: Any) -> Any:
        return get_array_module(x).ones_like(x)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        return [None]


class ZerosLike(Op):
    """out = zeros shaped like x (the gradient of something y does not depend on). Constant: no gradient."""

    name = "zeros_like"

    def forward(self, x: Any) -> Any:
        return get_array_module(x).zeros_like(x)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        return [None]


# --------------------------------------------------------------------------------------------------------
# Softmax and the fused softmax-cross-entropy
# --------------------------------------------------------------------------------------------------------


class Softmax(Op):
    """out_i = exp(x_i) / sum_j exp(x_j) on the last axis, max-shifted (``course.layers.losses.softmax``)."""

    name = "softmax"

    def forward(self, x: Any) -> Any:
        return softmax(x, axis=-1)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """dx = s * (dout - sum(dout * s)) on the last axis, s the output (Jacobian diag(s) - s s^T)."""
        weighted = g.sum(g.multiply(dout, node), axis=-1, keepdims=True)
        return [g.multiply(node, g.subtract(dout, weighted))]


class OneHot(Op):
    """out[n, c] = 1 if labels[n] == c, shaped and typed like ``logits``. Constant: no gradient."""

    name = "one_hot"

    def forward(self, labels: Any, logits: Any) -> Any:
        xp = get_array_module(labels, logits)
        return xp.eye(logits.shape[-1], dtype=logits.dtype)[labels]  # (N, C)

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        return [None, None]


class SoftmaxCrossEntropy(Op):
    """loss = -(1/N) sum_n log softmax(logits_n)[labels_n], fused; logits (N, C), integer labels (N,)."""

    name = "softmax_cross_entropy"

    def forward(self, logits: Any, labels: Any) -> Any:
        dims: dict[str, int] = {}
        check_array("softmax_cross_entropy", "logits", logits, ("N", "C"), dims=dims, dtype_kind="f")
        check_array("softmax_cross_entropy", "labels", labels, ("N",), dims=dims, dtype_kind="i")
        # BEGIN GRADED a03.softmax_cross_entropy_forward
        xp = get_array_module(logits, labels)
        n = logits.shape[0]
        shifted = logits - xp.max(logits, axis=1, keepdims=True)  # (N, C), every entry <= 0
        log_probs = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))  # (N, C)
        return -xp.sum(log_probs[xp.arange(n), labels]) / n
        # END GRADED

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        """dlogits = dout * (softmax(logits) - onehot(labels)) / N; the integer labels get no gradient."""
        # BEGIN GRADED a03.softmax_cross_entropy_gradient
        logits, labels = node.inputs
        residual = g.subtract(g.softmax(logits), g.one_hot(labels, logits))  # (N, C)
        return [g.divide(g.multiply(residual, dout), g.count(labels)), None]
        # END GRADED


# --------------------------------------------------------------------------------------------------------
# The optimiser node
# --------------------------------------------------------------------------------------------------------


def sgd_update(variables: Sequence[Node], grads: Sequence[Any], learning_rate: float) -> None:
    """var.value <- var.value - learning_rate * grad for each variable node and its gradient value.

    The variable is rebound to a new array, never changed in place (``-=``): a value fetched earlier in the
    same run is that very array and keeps the old numbers.
    """
    # BEGIN GRADED a03.sgd_update
    for variable, grad in zip(variables, grads, strict=True):
        variable.value = variable.value - learning_rate * grad
    # END GRADED


class SGDUpdate(Op):
    """Running it applies var <- var - learning_rate * grad to every variable and returns the loss.

    Inputs are ``[loss, grad_1, ..., grad_k]``, so by the time the update runs the loss and every gradient
    have been computed from the *old* values. A variable is rebound to a new array rather than changed in
    place, so values fetched earlier in the same run keep the old numbers.
    """

    name = "sgd_update"

    def __init__(self, variables: list[Node], learning_rate: float) -> None:
        self.variables, self.learning_rate = list(variables), learning_rate

    def forward(self, loss: Any, *grads: Any) -> Any:
        sgd_update(self.variables, grads, self.learning_rate)
        return loss

    def gradient(self, g: Graph, node: Node, dout: Node) -> Grads:
        raise ValueError("sgd_update: an optimiser step has no gradient; differentiate the loss instead")
