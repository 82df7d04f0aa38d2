"""Checks of assignment 02, backpropagation with modules: every task against the library on random inputs.

References: ``core.gradcheck`` (the gradient-check tools), ``layers.affine``, ``layers.activations``,
``layers.elementwise``, ``layers.losses`` (the forward/backward pairs and losses) and ``models.two_layer``
(the network built from them and its SGD training).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks.core import (
    Spec,
    check_function,
    check_seed,
    check_with_reference,
    forward_spec,
    function_spec,
    pair_spec,
    reference,
)

# ---- inputs -------------------------------------------------------------------------------------------


def _shape(rng, low: int, high: int, max_ndim: int) -> tuple[int, ...]:
    return tuple(int(s) for s in rng.integers(low, high, size=int(rng.integers(1, max_ndim + 1))))


def _rel_error(rng):
    shape = _shape(rng, 1, 6, 2)
    x = rng.standard_normal(shape)
    y = x + rng.standard_normal(shape) * 10.0 ** rng.integers(-9, 1)
    y.flat[0] = x.flat[0] = 0.0  # an entry where both are zero
    return {"x": x, "y": y}


def _affine(rng):
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    shape = (n, *(int(s) for s in rng.integers(1, 4, size=int(rng.integers(1, 3)))))
    d = int(np.prod(shape[1:]))
    return {"x": rng.standard_normal(shape), "w": rng.standard_normal((d, m)), "b": rng.standard_normal(m)}


def _activation(rng):
    return {"x": rng.standard_normal(_shape(rng, 1, 6, 3)) * 3}


def _unbroadcast(rng):
    ndim = int(rng.integers(1, 5))
    full = tuple(int(s) for s in rng.integers(1, 5, size=ndim))
    keep = int(rng.integers(0, ndim + 1))  # the input has the last `keep` axes ...
    shape = tuple(1 if rng.random() < 0.4 else s for s in full[ndim - keep :])  # ... some of size 1
    return {"grad": rng.standard_normal(full), "shape": shape}


def _broadcast_pair(rng):
    shape = _shape(rng, 1, 5, 3)
    keep = int(rng.integers(0, len(shape) + 1))
    small = tuple(1 if rng.random() < 0.4 else s for s in shape[len(shape) - keep :])
    x, y = rng.standard_normal(shape), rng.standard_normal(small)
    return {"x": x, "y": y} if rng.random() < 0.5 else {"x": y, "y": x}  # either side may be broadcast


def _mse(rng):
    shape = _shape(rng, 1, 6, 3)
    return {"pred": rng.standard_normal(shape), "target": rng.standard_normal(shape)}


def _bce(rng):
    shape = _shape(rng, 1, 6, 2)
    z = rng.standard_normal(shape) * 10.0 ** rng.integers(0, 4)  # logits up to a few thousand
    z.flat[0] = float(rng.choice([-1000.0, 1000.0]))  # a saturated logit: the naive formula gives inf
    y = (rng.random(shape) < 0.5).astype(np.float64) if rng.random() < 0.7 else rng.random(shape)
    return {"z": z, "y": y}


def _softmax_inputs(max_scale: float):
    def make(rng):
        shape = _shape(rng, 1, 7, 3)
        scale = float(rng.choice([1.0, 30.0, max_scale]))
        return {"x": rng.uniform(-scale, scale, shape), "axis": int(rng.integers(-len(shape), len(shape)))}

    return make


def _softmax32(rng):  # logits up to 300 over 1000 classes, in float32
    x = rng.uniform(-300, 300, (int(rng.integers(1, 5)), 1000)).astype(np.float32)
    x[:, int(rng.integers(0, 1000))] = 300.0
    return {"x": x}


def _softmax_offset(rng):  # rows whose logits differ by thousands: each row needs its own maximum
    n, c = int(rng.integers(2, 6)), int(rng.integers(2, 8))
    return {"x": rng.uniform(-1, 1, (n, c)) + 3000 * rng.standard_normal((n, 1))}


def _cross_entropy(rng):
    n, c = int(rng.integers(1, 8)), int(rng.integers(2, 12))
    scale = float(rng.choice([1.0, 10.0, 300.0]))
    return {"logits": rng.uniform(-scale, scale, (n, c)), "y": rng.integers(0, c, n)}


def _cross_entropy32(rng):  # logits up to 300 over 1000 classes, in float32
    n = int(rng.integers(1, 5))
    x = rng.uniform(-300, 300, (n, 1000)).astype(np.float32)
    x[:, int(rng.integers(0, 1000))] = 300.0
    return {"logits": x, "y": rng.integers(0, 1000, n)}


# ---- procedures ---------------------------------------------------------------------------------------


def _call(label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(f"{label} is not implemented yet (it raised NotImplementedError).") from None


def _check_cases(spec: Spec, fn: Callable[..., Any]) -> None:
    """``check_function`` on each input distribution of ``spec.options['cases']`` (its own tolerances)."""
    for case in spec.options["cases"]:
        check_function(
            fn,
            spec.reference,
            case["inputs"],
            trials=case.get("trials", spec.trials),
            rtol=case.get("rtol", spec.rtol),
            atol=case.get("atol", spec.atol),
            output_names=spec.outputs or None,
            label=case.get("label", spec.takes[0]),
        )


def _smooth_objective(x: np.ndarray, coef: np.ndarray) -> Callable[[], float]:
    return lambda: np.sum(np.sin(x) * coef) + np.sum(x**2) ** 2


def _check_numerical_gradient(spec: Spec, numerical_gradient: Callable[..., Any]) -> None:
    """The student's and the reference's centred differences of one smooth function, and x restored."""
    ref = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        shape = _shape(rng, 1, 5, 3)
        coef, x0 = rng.standard_normal(shape), rng.standard_normal(shape)
        h = float(rng.choice([1e-5, 1e-2]))  # a large h too, so a hard-coded step shows
        x_student, x_ref = x0.copy(), x0.copy()
        got = _call(
            "numerical_gradient", numerical_gradient, _smooth_objective(x_student, coef), x_student, h
        )
        expected = ref(_smooth_objective(x_ref, coef), x_ref, h)
        where = f"x of shape {shape}, h={h}"
        check_with_reference(
            "numerical_gradient",
            got,
            expected,
            rtol=spec.rtol,
            atol=spec.atol,
            what="the gradient",
            inputs=where,
        )
        check_with_reference(
            "numerical_gradient",
            x_student,
            x0,
            rtol=0,
            atol=0,
            what="x after the call (it must be restored)",
            inputs=where,
        )
    print(f"ok: numerical_gradient agrees with the reference on {spec.trials} random functions")


def _tanh_objective(x: np.ndarray, w: np.ndarray) -> Callable[[], np.ndarray]:
    return lambda: np.tanh(x @ w)


def _check_numerical_gradient_array(spec: Spec, numerical_gradient_array: Callable[..., Any]) -> None:
    """The student's and the reference's gradient of sum(tanh(x @ w) * dout) with respect to x."""
    ref = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        n, d = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        x0, w, dout = rng.standard_normal((n, d)), rng.standard_normal((d, 3)), rng.standard_normal((n, 3))
        x_student, x_ref = x0.copy(), x0.copy()
        label = "numerical_gradient_array"
        got = _call(label, numerical_gradient_array, _tanh_objective(x_student, w), x_student, dout)
        expected = ref(_tanh_objective(x_ref, w), x_ref, dout)
        check_with_reference(
            "numerical_gradient_array",
            got,
            expected,
            rtol=spec.rtol,
            atol=spec.atol,
            what="the gradient",
            inputs=f"x of shape {(n, d)}, tanh(x @ w)",
        )
    print(f"ok: numerical_gradient_array agrees with the reference on {spec.trials} random functions")


PARAM_NAMES = ("w1", "b1", "w2", "b2")


def _check_two_layer_loss(spec: Spec, two_layer_loss: Callable[..., Any]) -> None:
    """Loss and every gradient of the student's net against the reference on random nets and batches."""
    ref = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(f"a02.{spec.task}", trial))
        n, d, h, c = (int(v) for v in rng.integers(2, 8, size=4))
        params = {
            "w1": rng.standard_normal((d, h)),
            "b1": rng.standard_normal(h),
            "w2": rng.standard_normal((h, c)),
            "b2": rng.standard_normal(c),
        }
        X, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
        got = _call(
            "two_layer_loss", two_layer_loss, {k: v.copy() for k, v in params.items()}, X.copy(), y.copy()
        )
        if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], dict)):
            raise AssertionError("two_layer_loss must return a pair (loss, grads) with grads a dict.")
        loss, grads = got
        missing = [k for k in PARAM_NAMES if k not in grads]
        if missing:
            raise AssertionError(f"two_layer_loss: grads has no entry for {', '.join(missing)}.")
        ref_loss, ref_grads = ref(params, X, y)
        where = f"N={n}, D={d}, H={h}, C={c}"
        check_with_reference("two_layer_loss", loss, ref_loss, what="the loss", inputs=where)
        for key in PARAM_NAMES:
            check_with_reference(
                "two_layer_loss", grads[key], ref_grads[key], what=f"grads['{key}']", inputs=where
            )
    print(f"ok: two_layer_loss agrees with the reference on {spec.trials} random nets")


def _check_train_two_layer(spec: Spec, train_two_layer: Callable[..., Any]) -> None:
    """Graded by its result: the trained net must fit fresh spirals to ``min_accuracy``."""
    make_spirals = reference("data.make_spirals")
    min_accuracy = spec.options["min_accuracy"]
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(f"a02.{spec.task}", trial))
        X, y = make_spirals(n_per_class=100, n_classes=3, noise=0.2, rng=rng, dtype=np.float64)
        hidden_dim = int(rng.choice([64, 100]))
        settings = dict(
            hidden_dim=hidden_dim, lr=0.5, epochs=100, batch_size=32, seed=int(rng.integers(1000))
        )
        got = _call("train_two_layer", train_two_layer, X.copy(), y.copy(), **settings)
        if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], dict)):
            raise AssertionError("train_two_layer must return a pair (params, losses) with params a dict.")
        params, losses = got
        if len(losses) != 100 * 10:
            raise AssertionError(f"train_two_layer recorded {len(losses)} losses, expected one per update.")
        shapes = {"w1": (2, hidden_dim), "b1": (hidden_dim,), "w2": (hidden_dim, 3), "b2": (3,)}
        for key, shape in shapes.items():
            if key not in params or np.shape(params[key]) != shape:
                raise AssertionError(
                    f"train_two_layer: params['{key}'] must have shape {shape} (hidden_dim={hidden_dim})."
                )
        p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
        scores = np.maximum(X @ p["w1"] + p["b1"], 0) @ p["w2"] + p["b2"]
        accuracy = float(np.mean(scores.argmax(axis=1) == y))
        if not accuracy >= min_accuracy:
            raise AssertionError(
                f"train_two_layer: training accuracy {accuracy:.3f} < {min_accuracy} on a fresh spiral "
                f"(hidden_dim={hidden_dim})."
            )
    print(f"ok: train_two_layer reaches {min_accuracy:.0%} training accuracy on {spec.trials} fresh spirals")


# ---- specifications -----------------------------------------------------------------------------------

SPECS = [
    function_spec("rel_error", "core.gradcheck.rel_error", _rel_error),
    Spec(
        "numerical_gradient",
        ("numerical_gradient",),
        _check_numerical_gradient,
        reference="core.gradcheck.numerical_gradient",
        trials=3,
        atol=1e-8,
    ),
    Spec(
        "numerical_gradient_array",
        ("numerical_gradient_array",),
        _check_numerical_gradient_array,
        reference="core.gradcheck.numerical_gradient_array",
        trials=2,
        atol=1e-8,
    ),
    forward_spec("affine_forward", "layers.affine.affine_forward", _affine),
    pair_spec("affine_backward", "layers.affine.affine", _affine, grads=("x", "w", "b"), trials=3),
    forward_spec("relu_forward", "layers.activations.relu_forward", _activation),
    pair_spec("relu_backward", "layers.activations.relu", _activation, grads=("x",), trials=3),
    forward_spec("sigmoid_forward", "layers.activations.sigmoid_forward", _activation),
    pair_spec("sigmoid_backward", "layers.activations.sigmoid", _activation, grads=("x",), trials=3),
    forward_spec("tanh_forward", "layers.activations.tanh_forward", _activation),
    pair_spec("tanh_backward", "layers.activations.tanh", _activation, grads=("x",), trials=3),
    function_spec("unbroadcast", "layers.elementwise.unbroadcast", _unbroadcast, trials=6),
    forward_spec("add_forward", "layers.elementwise.add_forward", _broadcast_pair, trials=4),
    pair_spec("add_backward", "layers.elementwise.add", _broadcast_pair, grads=("x", "y"), trials=4),
    forward_spec("multiply_forward", "layers.elementwise.multiply_forward", _broadcast_pair, trials=4),
    pair_spec(
        "multiply_backward", "layers.elementwise.multiply", _broadcast_pair, grads=("x", "y"), trials=4
    ),
    function_spec("mse_loss", "layers.losses.mse_loss", _mse, outputs=("loss", "dpred")),
    function_spec(
        "binary_cross_entropy_with_logits",
        "layers.losses.binary_cross_entropy_with_logits",
        _bce,
        trials=4,
        outputs=("loss", "dz"),
    ),
    Spec(
        "softmax",
        ("softmax",),
        _check_cases,
        reference="layers.losses.softmax",
        options={
            "cases": [
                {"inputs": _softmax_inputs(300.0), "trials": 4, "atol": 1e-12},
                {
                    "inputs": _softmax32,
                    "trials": 2,
                    "rtol": 1e-4,
                    "atol": 1e-7,
                    "label": "softmax (float32, logits up to 300 over 1000 classes)",
                },
                {
                    "inputs": _softmax_offset,
                    "trials": 2,
                    "atol": 1e-12,
                    "label": "softmax (rows offset by thousands)",
                },
            ]
        },
    ),
    function_spec("log_softmax", "layers.losses.log_softmax", _softmax_inputs(1000.0), trials=4),
    Spec(
        "softmax_cross_entropy",
        ("softmax_cross_entropy",),
        _check_cases,
        reference="layers.losses.softmax_cross_entropy",
        outputs=("loss", "dlogits"),
        options={
            "cases": [
                {"inputs": _cross_entropy, "trials": 4},
                {
                    "inputs": _cross_entropy32,
                    "trials": 2,
                    "rtol": 1e-4,
                    "atol": 1e-6,
                    "label": "softmax_cross_entropy (float32, logits up to 300 over 1000 classes)",
                },
            ]
        },
    ),
    Spec(
        "two_layer_loss",
        ("two_layer_loss",),
        _check_two_layer_loss,
        reference="models.two_layer.two_layer_loss",
        trials=3,
    ),
    Spec(
        "train_two_layer",
        ("train_two_layer",),
        _check_train_two_layer,
        reference="models.two_layer.train_two_layer",
        trials=2,
        options={"min_accuracy": 0.9},
    ),
]
