"""Checks of assignment 05, convolutional nets: every task against ``course.layers.convolution``,
``course.layers.pooling``, ``course.layers.residual`` and ``course.models.digits_cnn`` on random inputs.

Backward passes are compared with the reference on random inputs and upstream gradients, then
gradient-checked against central differences on fresh random inputs. Those gradient checks use the
threshold 1e-5 instead of the library's default 1e-7: on random inputs an entry of dx or dw sums dozens
of products of random sign, which can cancel to ~1e-4, and the centred difference's round-off (~1e-11)
is then up to ~1e-6 of it for a correct backward pass; a wrong term still gives errors of order 0.1 to 1.
"""

from __future__ import annotations

import functools

import numpy as np

from autograder.checks.core import (
    Spec,
    check_function,
    check_pair_spec,
    check_seed,
    check_with_reference,
    class_name,
    forward_spec,
    function_spec,
    is_instance,
    public_seed,
    reference,
    sandbox_library,
)

GRADCHECK_TOL = 1e-5  # see the module docstring


def _conv(rng):
    n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
    hh, ww = (int(v) for v in rng.integers(1, 4, size=2))
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h = int(rng.integers(max(1, hh - 2 * pad), 8))  # the filter must fit in the padded image
    w = int(rng.integers(max(1, ww - 2 * pad), 8))
    return {
        "x": rng.standard_normal((n, c, h, w)),
        "w": rng.standard_normal((f, c, hh, ww)),
        "b": rng.standard_normal(f),
        "stride": stride,
        "pad": pad,
    }


def _im2col(rng):
    n, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    hh, ww = (int(v) for v in rng.integers(1, 5, size=2))
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h, w = int(rng.integers(max(1, hh - 2 * pad), 10)), int(rng.integers(max(1, ww - 2 * pad), 10))
    return {"x": rng.standard_normal((n, c, h, w)), "HH": hh, "WW": ww, "stride": stride, "pad": pad}


def _col2im(rng):
    n, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    hh, ww = (int(v) for v in rng.integers(1, 5, size=2))
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h, w = int(rng.integers(max(1, hh - 2 * pad), 10)), int(rng.integers(max(1, ww - 2 * pad), 10))
    ho, wo = 1 + (h + 2 * pad - hh) // stride, 1 + (w + 2 * pad - ww) // stride
    return {
        "cols": rng.standard_normal((n, c * hh * ww, ho * wo)),
        "x_shape": (n, c, h, w),
        "HH": hh,
        "WW": ww,
        "stride": stride,
        "pad": pad,
    }


def _conv_as_matrix(rng):
    c, f = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    hh, ww = (int(v) for v in rng.integers(1, 4, size=2))
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h, w = int(rng.integers(max(1, hh - 2 * pad), 7)), int(rng.integers(max(1, ww - 2 * pad), 7))
    return {"w": rng.standard_normal((f, c, hh, ww)), "input_shape": (c, h, w), "stride": stride, "pad": pad}


def _pool(rng):
    size, stride = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    shape = (n, c, int(rng.integers(size, 9)), int(rng.integers(size, 9)))
    # Distinct values at least 0.05 apart: no ties, so max is differentiable and the winner unambiguous.
    x = (rng.permutation(int(np.prod(shape))).reshape(shape) + rng.uniform(0, 0.5, shape)) / 10
    return {"x": x, "size": size, "stride": stride}


def _residual(rng):
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    h, w = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    return {
        "x": rng.standard_normal((n, c, h, w)),
        "w1": 0.5 * rng.standard_normal((c, c, 3, 3)),
        "b1": rng.standard_normal(c),
        "w2": 0.5 * rng.standard_normal((c, c, 3, 3)),
        "b2": rng.standard_normal(c),
    }


def _check_pair_and_gradients(spec: Spec, forward, backward) -> None:
    """The pair against the reference (``spec.trials`` input sets), then ``options['gradchecks']``
    gradient checks on inputs seeded from ``options['seed_name']``: the arguments named in
    ``options['bind']`` (stride, pad, size) are bound, the others are differentiated."""
    name = spec.takes[0].removesuffix("_forward")
    check_pair_spec(spec, forward, backward)
    check_pair = reference("core.gradcheck.check_pair")
    bind, count = spec.options.get("bind", ()), spec.options["gradchecks"]
    for trial in range(count):
        inputs = spec.inputs(np.random.default_rng(public_seed(spec.options["seed_name"], trial)))
        bound = {k: inputs[k] for k in bind}
        where = ", ".join(f"{k} {v}" for k, v in bound.items())
        check_pair(
            functools.partial(forward, **bound),
            backward,
            {k: v for k, v in inputs.items() if k not in bind},
            tol=spec.options.get("tol", GRADCHECK_TOL),
            context=f"{name}_backward" + (f", {where}" if where else ""),
        )
    print(f"ok: {name}_backward passes {count} gradient check{'s' if count > 1 else ''} on random inputs")


def _check_col2im(spec: Spec, col2im) -> None:
    """col2im against the reference, then the adjoint identity <im2col(x), cols> = <x, col2im(cols)>."""
    check_function(
        col2im, spec.reference, spec.inputs, trials=spec.trials, output_names=("dx",), label="col2im"
    )
    im2col = reference("layers.convolution.im2col")
    for trial in range(2):
        inputs = spec.inputs(np.random.default_rng(check_seed("a05.col2im_adjoint", trial)))
        x = np.random.default_rng(trial).standard_normal(inputs["x_shape"])
        cols_x = im2col(x, inputs["HH"], inputs["WW"], inputs["stride"], inputs["pad"])
        lhs = float(np.sum(cols_x * inputs["cols"]))
        rhs = float(np.sum(x * np.asarray(col2im(**inputs))))
        check_with_reference(
            "col2im",
            rhs,
            lhs,
            what="<x, col2im(cols)>",
            inputs="the adjoint identity <im2col(x), cols> = <x, col2im(cols)>",
        )
    print("ok: col2im is the adjoint of im2col on 2 random inputs")


def _check_digits_cnn(spec: Spec, digits_cnn, conv_class, pool_class) -> None:
    """The student's CNN, built with another seed and trained on another split, must reach the bound."""
    o = spec.options
    load_digits = reference("data.load_digits")
    accuracy = reference("training.train.accuracy")
    # training runs where the model lives (the sandbox in the judge), with that side's library
    train = sandbox_library(digits_cnn, "course.training.train", "train")
    optim = sandbox_library(digits_cnn, "course.training.optim", "Optimizer")
    adam = sandbox_library(digits_cnn, "course.training.optim", "adam")
    loss = sandbox_library(digits_cnn, "course.layers.losses", "softmax_cross_entropy")
    data = {s: load_digits(s, seed=o["data_seed"], flatten=False) for s in ("train", "val", "test")}
    model = digits_cnn(seed=o["seed"])
    layers = list(getattr(model, "layers", []))
    n_conv = sum(is_instance(layer, conv_class) for layer in layers)
    n_pool = sum(is_instance(layer, pool_class) for layer in layers)
    if n_conv < 2 or n_pool < 2:
        raise AssertionError(
            f"digits_cnn must be a Sequential with two {class_name(conv_class)} and two "
            f"{class_name(pool_class)} layers, found {n_conv} and {n_pool}."
        )
    train(
        model,
        loss,
        optim(model, adam, learning_rate=3e-3),
        data["train"],
        epochs=o["epochs"],
        batch_size=32,
        rng=np.random.default_rng(o["seed"]),
        val_data=data["val"],
        progress=False,
        monitor="val_acc",
    )
    test_accuracy = float(accuracy(model, *data["test"]))
    if not test_accuracy >= o["bound"]:
        raise AssertionError(
            f"digits_cnn(seed={o['seed']}) reached test accuracy {test_accuracy:.3f} < {o['bound']} after "
            f"{o['epochs']} epochs on another split of the digits."
        )
    print("ok: digits_cnn trains to the accuracy bound on another split of the digits")


SPECS = [
    forward_spec("conv_naive_forward", "layers.convolution.conv_naive_forward", _conv),
    Spec(
        "conv_naive_backward",
        ("conv_naive_forward", "conv_naive_backward"),
        _check_pair_and_gradients,
        reference="layers.convolution.conv_naive",
        inputs=_conv,
        trials=3,
        grads=("x", "w", "b"),
        options={"gradchecks": 2, "seed_name": "a05.conv_naive_gradcheck", "bind": ("stride", "pad")},
    ),
    function_spec("im2col", "layers.convolution.im2col", _im2col, trials=4, outputs=("cols",)),
    Spec(
        "col2im", ("col2im",), _check_col2im, reference="layers.convolution.col2im", inputs=_col2im, trials=4
    ),
    forward_spec("conv_im2col_forward", "layers.convolution.conv_im2col_forward", _conv, trials=4),
    Spec(
        "conv_im2col_backward",
        ("conv_im2col_forward", "conv_im2col_backward"),
        _check_pair_and_gradients,
        reference="layers.convolution.conv_im2col",
        inputs=_conv,
        trials=4,
        grads=("x", "w", "b"),
        options={"gradchecks": 2, "seed_name": "a05.conv_im2col_gradcheck", "bind": ("stride", "pad")},
    ),
    function_spec(
        "conv_as_matrix", "layers.convolution.conv_as_matrix", _conv_as_matrix, trials=4, outputs=("M",)
    ),
    forward_spec("max_pool_forward", "layers.pooling.max_pool_forward", _pool, trials=4),
    Spec(
        "max_pool_backward",
        ("max_pool_forward", "max_pool_backward"),
        _check_pair_and_gradients,
        reference="layers.pooling.max_pool",
        inputs=_pool,
        trials=4,
        grads=("x",),
        # No cancellation here (each dx entry is one dout entry or a few added), so the default 1e-7.
        options={
            "gradchecks": 2,
            "seed_name": "a05.max_pool_gradcheck",
            "bind": ("size", "stride"),
            "tol": 1e-7,
        },
    ),
    Spec(
        "digits_cnn",
        ("digits_cnn", "Conv2d", "MaxPool2d"),
        _check_digits_cnn,
        reference="models.digits_cnn.digits_cnn",
        options={"seed": 5, "data_seed": 1, "epochs": 10, "bound": 0.94},
    ),
    forward_spec("residual_block_forward", "layers.residual.residual_block_forward", _residual),
    Spec(
        "residual_block_backward",
        ("residual_block_forward", "residual_block_backward"),
        _check_pair_and_gradients,
        reference="layers.residual.residual_block",
        inputs=_residual,
        trials=3,
        grads=("x", "w1", "b1", "w2", "b2"),
        options={"gradchecks": 1, "seed_name": "a05.residual_gradcheck"},
    ),
]
