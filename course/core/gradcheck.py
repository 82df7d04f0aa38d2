"""Gradient checking: centred differences against the analytic backward pass (lecture 000).

The lecture's own checker had its assert commented out, so nothing it checked could fail. Every helper
here *asserts*: a failure is an ``AssertionError`` that names the input, the largest relative error, the
index where it happens and both values there.

Formulas:
- centred difference: df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h), error O(h^2);
- with an upstream gradient dout on an array-valued f:
  dL/dx_i ~ sum((f(x + h e_i) - f(x - h e_i)) * dout) / (2h);
- relative error (CS231n): max_i |a_i - n_i| / max(1e-8, |a_i| + |n_i|).

Thresholds: in float64 with h = 1e-5 a correct smooth backward gives relative errors around 1e-9 to 1e-11;
``DEFAULT_TOL = 1e-7`` leaves two orders of margin and still catches a wrong term, which gives O(1) errors.
Gradient checks need float64 (in float32 the round-off eps/h ~ 1e-2 swamps everything).

``rel_error``, ``numerical_gradient`` and ``numerical_gradient_array`` are what assignment 02 asks students
to write, so they are graded regions, and every check below is built on them (no second copy of the
formulas): in the a01 and a02 student editions they raise NotImplementedError (and the checks with them);
from a03 on they work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from course.core.backend import get_array_module, to_cpu

DEFAULT_H = 1e-5
DEFAULT_TOL = 1e-7


def rel_error(x: Any, y: Any) -> float:
    """Largest element-wise relative error, max |x - y| / max(1e-8, |x| + |y|) (CS231n)."""
    x, y = np.asarray(to_cpu(x), dtype=np.float64), np.asarray(to_cpu(y), dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: shapes differ, {x.shape} vs {y.shape}")
    if x.size == 0:
        return 0.0
    # BEGIN GRADED a02.rel_error
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
    # END GRADED


def numerical_gradient(f: Callable[[], float], x: Any, h: float = DEFAULT_H) -> Any:
    """Centred-difference gradient of a scalar function of ``x``.

    ``f`` takes no arguments and reads ``x``, which is perturbed in place one element at a time and
    restored, so ``f`` may close over it (as ``lambda: loss(x, w)``). Returns an array shaped like ``x``.
    """
    if not x.flags.c_contiguous:
        raise ValueError("numerical_gradient: x must be C-contiguous so it can be perturbed in place")
    # BEGIN GRADED a02.numerical_gradient
    xp = get_array_module(x)
    grad = xp.zeros(x.shape, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: writing flat[i] perturbs x
    for i in range(x.size):
        old = flat[i].item()
        flat[i] = old + h
        f_plus = float(f())
        flat[i] = old - h
        f_minus = float(f())
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad
    # END GRADED


def numerical_gradient_array(f: Callable[[], Any], x: Any, dout: Any, h: float = DEFAULT_H) -> Any:
    """Centred-difference gradient of sum(f() * dout) with respect to ``x`` (f array-valued).

    ``dout`` is the upstream gradient, shaped like f's output. ``x`` is perturbed in place and restored.
    """
    # BEGIN GRADED a02.numerical_gradient_array
    return numerical_gradient(lambda: float((f() * dout).sum()), x, h)
    # END GRADED


def assert_gradient_close(
    name: str, analytic: Any, numeric: Any, tol: float = DEFAULT_TOL, *, context: str = ""
) -> float:
    """Assert that the analytic gradient matches the numeric one; return the relative error.

    The failure message names the input, the largest relative error, its index and both values.
    """
    a = np.asarray(to_cpu(analytic), dtype=np.float64)
    n = np.asarray(to_cpu(numeric), dtype=np.float64)
    where = f" in {context}" if context else ""
    if a.shape != n.shape:
        raise AssertionError(
            f"d{name}{where}: gradient has shape {a.shape}, expected {n.shape} (the shape of {name})"
        )
    if a.size == 0:
        return 0.0
    if not np.all(np.isfinite(a)):
        idx = np.unravel_index(int(np.argmax(~np.isfinite(a))), a.shape)
        raise AssertionError(f"d{name}{where}: analytic gradient is not finite at index {idx} ({a[idx]})")
    worst = rel_error(a, n)
    if not worst < tol:
        # the worst entry (a nan, from a non-finite numeric gradient, counts as the worst)
        idx = max(np.ndindex(a.shape), key=lambda i: np.nan_to_num(rel_error(a[i], n[i]), nan=np.inf))
        raise AssertionError(
            f"d{name}{where}: relative error {worst:.3e} exceeds {tol:.0e} "
            f"at index {tuple(int(i) for i in idx)}: "
            f"backward gave {a[idx]:.10g}, central differences expect {n[idx]:.10g}"
        )
    return worst


def _as_tuple(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def check_pair(
    forward: Callable[..., tuple],
    backward: Callable[..., Any],
    inputs: Mapping[str, Any],
    *,
    seed: int = 0,
    tol: float = DEFAULT_TOL,
    h: float = DEFAULT_H,
    context: str = "",
) -> dict[str, float]:
    """Gradient-check a forward/backward pair on every input and parameter; assert; return the errors.

    Inputs:
    - forward: called as ``forward(*inputs.values())``; returns ``(out, cache)`` or, for pairs with
      several outputs, ``(out_1, ..., out_k, cache)``. Bind non-differentiable arguments first with
      ``functools.partial`` (integer ids, stride, a bn_param dict, a seeded rng factory).
    - backward: called as ``backward(dout_1, ..., dout_k, cache)``; returns the gradients of the inputs,
      in the order of ``inputs``.
    - inputs: name -> float64 array, in the order backward returns their gradients.

    A random upstream gradient (seeded) is put on every output, so every output's path is checked.
    Returns {input name: relative error}.
    """
    arrays = dict(inputs)
    for name, arr in arrays.items():
        if getattr(arr, "dtype", None) != np.float64:
            raise ValueError(
                f"check_pair: input {name!r} must be float64 for a gradient check, got "
                f"{getattr(arr, 'dtype', type(arr).__name__)}"
            )
    values = list(arrays.values())
    xp = get_array_module(*values)
    rng = np.random.default_rng(seed)

    result = _as_tuple(forward(*values))
    outs, cache = result[:-1], result[-1]
    douts = [xp.asarray(rng.standard_normal(np.shape(o))) for o in outs]
    grads = _as_tuple(backward(*douts, cache))
    if len(grads) != len(arrays):
        raise AssertionError(
            f"backward returned {len(grads)} gradient(s), expected {len(arrays)}: "
            f"one per input {list(arrays)}"
        )

    def all_outputs() -> Any:  # every output flattened into one vector, so one dout covers them all
        return xp.concatenate([xp.asarray(o).reshape(-1) for o in _as_tuple(forward(*values))[:-1]])

    dout_all = xp.concatenate([d.reshape(-1) for d in douts])
    errors = {}
    for (name, x), g in zip(arrays.items(), grads):
        numeric = numerical_gradient_array(all_outputs, x, dout_all, h)
        errors[name] = assert_gradient_close(name, g, numeric, tol, context=context)
    return errors


def check_loss(
    loss_fn: Callable[..., tuple],
    inputs: Mapping[str, Any],
    *,
    tol: float = DEFAULT_TOL,
    h: float = DEFAULT_H,
    context: str = "",
) -> dict[str, float]:
    """Gradient-check ``loss_fn(*inputs) -> (loss, d_1, ..., d_k)``: a scalar, one gradient per input."""
    values = list(inputs.values())
    result = _as_tuple(loss_fn(*values))
    grads = result[1:]
    if len(grads) != len(inputs):
        raise AssertionError(
            f"loss returned {len(grads)} gradient(s), expected {len(inputs)}: one per input {list(inputs)}"
        )
    errors = {}
    for (name, x), g in zip(inputs.items(), grads):
        numeric = numerical_gradient(lambda: float(loss_fn(*values)[0]), x, h)
        errors[name] = assert_gradient_close(name, g, numeric, tol, context=context)
    return errors


def check_module(
    module: Any, x: Any, *, seed: int = 0, tol: float = DEFAULT_TOL, h: float = DEFAULT_H
) -> dict[str, float]:
    """Gradient-check a ``Module``: the input and every parameter (``module.parameters()``); assert.

    The module must be deterministic between calls (put dropout in eval mode or give it a fixed seed).
    Returns {'x': err, '<param name>': err, ...}.
    """
    xp = get_array_module(x)
    rng = np.random.default_rng(seed)
    out = module.forward(x)
    dout = xp.asarray(rng.standard_normal(out.shape))
    module.zero_grad()
    dx = module.backward(dout)
    analytic = {name: g.copy() for name, _, g in module.parameters()}

    errors = {}
    for name, value, grad in [("x", x, dx), *((n, p, analytic[n]) for n, p, _ in module.parameters())]:
        numeric = numerical_gradient_array(lambda: module.forward(x), value, dout, h)
        errors[name] = assert_gradient_close(name, grad, numeric, tol, context=type(module).__name__)
    return errors
