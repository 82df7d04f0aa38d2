"""Checks of assignment 10, beyond: every task against ``course.models.autoencoder``,
``course.models.adversarial`` and ``course.layers.graph`` on random inputs.

Backward passes are compared with the reference on random inputs and upstream gradients, then
gradient-checked against central differences on fresh random inputs (float64, h = 1e-5). Those gradient
checks use the threshold 1e-6 instead of the library's 1e-7: an entry of a gradient on random inputs is a
sum of products of random sign, which now and then cancels to ~1e-5 of the others, and the centred
difference's round-off (~1e-11 absolute) is then ~1e-6 of it for a correct backward pass; a wrong term
gives errors of order 0.1 to 1.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks.core import (
    Spec,
    check_forward,
    check_function,
    check_pair_spec,
    check_seed,
    check_with_reference,
    forward_spec,
    public_seed,
    reference,
    sandbox_library,
)

GRADCHECK_TOL = 1e-6  # see the module docstring


# ---- inputs -------------------------------------------------------------------------------------------


def _autoencoder(rng):
    n, d = int(rng.integers(1, 7)), int(rng.integers(2, 8))
    k = int(rng.integers(1, d + 1))
    return {
        "x": rng.standard_normal((n, d)),
        "w_enc": rng.standard_normal((d, k)),
        "w_dec": rng.standard_normal((k, d)),
    }


def _angles_random(rng):
    d = int(rng.integers(3, 10))
    k, l = (int(v) for v in rng.integers(1, d + 1, size=2))
    return {"A": rng.standard_normal((d, k)) * 3, "B": rng.standard_normal((d, l))}


def _angles_nested(rng):  # span(A) inside span(B): every angle is 0, so a round-off floor of atol
    d = int(rng.integers(3, 10))
    k = int(rng.integers(1, d))
    A = rng.standard_normal((d, k))
    B = np.concatenate([A @ rng.standard_normal((k, k)), rng.standard_normal((d, 1))], axis=1)
    return {"A": A, "B": B} if rng.random() < 0.5 else {"A": B, "B": A}


def _mlp(rng, activation: str = "ReLU", library: Callable[[str], Any] = reference):
    """A float64 D-H-C net of ``library`` (the reference's by default), with inputs and labels for it."""
    Sequential = library("core.module.Sequential")
    Linear = library("layers.affine.Linear")
    Activation = library(f"layers.activations.{activation}")
    n, d, h, c = (int(v) for v in rng.integers([1, 2, 2, 2], [6, 7, 8, 5]))
    first, second = (int(v) for v in rng.integers(0, 2**31, size=2))
    model = Sequential(
        Linear(d, h, rng=first, dtype="float64"),  # a dtype's name: a class cannot cross into the sandbox
        Activation(),
        Linear(h, c, rng=second, dtype="float64"),
    )
    return {"model": model, "x": rng.uniform(0, 1, (n, d)), "y": rng.integers(0, c, n)}


def _fgsm_defaults(rng):
    n, d = int(rng.integers(1, 6)), int(rng.integers(1, 10))
    dx = rng.standard_normal((n, d))
    dx[rng.random((n, d)) < 0.2] = 0.0  # sign(0) = 0: such a pixel does not move
    return {"x": rng.uniform(0, 1, (n, d)), "dx": dx, "epsilon": float(rng.choice([0.0, 0.05, 0.3]))}


def _fgsm_range(rng):
    inputs = _fgsm_defaults(rng)
    low, high = float(rng.uniform(-1, 0)), float(rng.uniform(1, 2))
    inputs["x"] = rng.uniform(low, high, inputs["x"].shape)
    return {**inputs, "epsilon": float(rng.uniform(0, 1)), "low": low, "high": high}


def _adjacency(rng, n: int, self_loops: bool) -> np.ndarray:
    """A directed random graph, weighted or 0/1; without self loops some nodes may have no neighbour."""
    adj = (rng.random((n, n)) < rng.uniform(0.2, 0.7)).astype(np.float64)
    if rng.random() < 0.4:
        adj *= rng.uniform(0.5, 2.0, (n, n))
    if self_loops:
        adj[np.arange(n), np.arange(n)] = 1.0
    else:
        adj[np.arange(n), np.arange(n)] = 0.0
        adj[int(rng.integers(0, n))] = 0.0  # one isolated node: no message for it
    return adj


def _message_passing(rng):
    n, d, h = int(rng.integers(2, 7)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
    return {
        "h": rng.standard_normal((n, d)),
        "adj": _adjacency(rng, n, self_loops=False),
        "w_self": rng.standard_normal((d, h)),
        "w_neigh": rng.standard_normal((d, h)),
        "b": rng.standard_normal(h),
        "aggregation": str(rng.choice(["mean", "sum"])),
    }


def _gat(rng):
    n, d, h = int(rng.integers(2, 7)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
    return {
        "h": rng.standard_normal((n, d)),
        "adj": _adjacency(rng, n, self_loops=True),
        "w": rng.standard_normal((d, h)),
        "a_self": rng.standard_normal(h),
        "a_neigh": rng.standard_normal(h),
        "negative_slope": float(rng.uniform(0.05, 0.3)),
    }


# ---- procedures ---------------------------------------------------------------------------------------


def _student(label: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the student's function; a stub that still raises NotImplementedError fails the check plainly."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(f"{label} is not implemented yet (it raised NotImplementedError).") from None


def _check_cases(spec: Spec, fn: Callable) -> None:
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
            label=spec.takes[0],
        )


def _check_pair_and_gradients(spec: Spec, forward: Callable, backward: Callable) -> None:
    """The pair against the reference (``spec.trials`` input sets), then ``options['gradchecks']``
    gradient checks on inputs seeded from ``options['seed_name']``: the arguments named in
    ``options['bind']`` (the graph, the aggregation) are bound, the others are differentiated."""
    name = spec.takes[0].removesuffix("_forward")
    check_pair_spec(spec, forward, backward)
    check_pair = reference("core.gradcheck.check_pair")
    bind, count = spec.options.get("bind", ()), spec.options["gradchecks"]
    for trial in range(count):
        inputs = spec.inputs(np.random.default_rng(public_seed(spec.options["seed_name"], trial)))
        bound = {k: inputs[k] for k in bind}
        free = {k: v for k, v in inputs.items() if k not in bind}
        shown = ", ".join(f"{k}={v!r}" for k, v in bound.items() if not isinstance(v, np.ndarray))
        _student(
            f"{name}_backward",
            check_pair,
            # check_pair passes the free inputs by position; bind everything by name (adj sits between)
            lambda *values, bound=bound, names=tuple(free): forward(**bound, **dict(zip(names, values))),
            backward,
            free,
            tol=GRADCHECK_TOL,
            context=f"{name}_backward on a random graph" + (f", {shown}" if shown else ""),
        )
    print(f"ok: {name}_backward passes {count} gradient check{'s' if count > 1 else ''} on random inputs")


def _student_library(fn: Any) -> Callable[[str], Any]:
    """``name -> object`` of the student's library ('core.module.Sequential'): the sandbox's edition in the
    judge, so the student's code gets a model of its own side (the same weights), never the reference's."""
    return lambda name: sandbox_library(fn, "course." + name.rpartition(".")[0], name.rpartition(".")[2])


def _check_input_gradient(spec: Spec, input_gradient: Callable) -> None:
    """(loss, dx) against the reference on ReLU nets, then dx against central differences on tanh nets.

    Each net is built twice from one seed: on the student's side for ``input_gradient``, and with the
    reference for the expected values."""
    reference_input_gradient = reference(spec.reference)
    student_library = _student_library(input_gradient)
    for trial in range(spec.trials):
        seed = check_seed(spec.reference, trial)
        inputs = _mlp(np.random.default_rng(seed))
        mine = _mlp(np.random.default_rng(seed), library=student_library)
        x = mine["x"].copy()
        got = _student("input_gradient", input_gradient, mine["model"], x, mine["y"].copy())
        if not np.array_equal(x, inputs["x"]):
            raise AssertionError(
                "input_gradient modified its input x in place; work on a copy or build a new array."
            )
        expected = reference_input_gradient(inputs["model"], inputs["x"].copy(), inputs["y"].copy())
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise AssertionError("input_gradient must return a tuple of 2 values (loss, dx).")
        where = f"x of shape {inputs['x'].shape}, a random ReLU net"
        for name, value, ref_value in zip(spec.outputs, got, expected, strict=True):
            check_with_reference(
                "input_gradient",
                value,
                ref_value,
                rtol=spec.rtol,
                atol=spec.atol,
                what=f"output {name!r}",
                inputs=where,
            )
    print(f"ok: input_gradient agrees with the reference on {spec.trials} random input sets")
    numerical_gradient = reference("core.gradcheck.numerical_gradient")
    assert_gradient_close = reference("core.gradcheck.assert_gradient_close")
    loss_fn = reference("layers.losses.softmax_cross_entropy")
    for trial in range(2):
        seed = public_seed("a10.input_gradient_gradcheck", trial)
        inputs = _mlp(np.random.default_rng(seed), "Tanh")
        mine = _mlp(np.random.default_rng(seed), "Tanh", library=student_library)
        model, x, y = inputs["model"], inputs["x"], inputs["y"]
        _, dx = _student("input_gradient", input_gradient, mine["model"], x.copy(), y.copy())
        numeric = numerical_gradient(lambda m=model, x=x, y=y: float(loss_fn(m.forward(x), y)[0]), x)
        assert_gradient_close("x", dx, numeric, GRADCHECK_TOL, context="input_gradient on a random tanh net")
    print("ok: input_gradient matches central differences of the loss on 2 random nets")


def _check_gat_attention(spec: Spec, gat_forward: Callable) -> None:
    """gat_forward's output against the reference, and attention that ignores the non-neighbours."""
    check_forward(gat_forward, spec.reference, spec.inputs, trials=spec.trials, label="gat_forward")
    for trial in range(2):
        inputs = _gat(np.random.default_rng(check_seed("a10.gat_mask", trial)))
        n = len(inputs["h"])
        inputs["adj"][0, n - 1] = 0.0  # node 0 (at least) does not hear node n - 1
        far = np.zeros_like(inputs["h"])
        far[-1] = 1e3  # node n - 1's features are huge: a node that does not hear it must not change
        changed = {**inputs, "h": inputs["h"] + far}
        out = _student("gat_forward", gat_forward, **copy.deepcopy(inputs))[0]
        out_far = _student("gat_forward", gat_forward, **copy.deepcopy(changed))[0]
        rows = np.flatnonzero(inputs["adj"][:, n - 1] == 0)
        check_with_reference(
            "gat_forward",
            np.asarray(out_far)[rows],
            np.asarray(out)[rows],
            what=f"the output of nodes that are not neighbours of node {n - 1}",
            inputs=f"node {n - 1}'s features changed; the adjacency must mask it out of their attention",
        )
    print("ok: gat_forward attends to neighbours only")


# ---- specifications -----------------------------------------------------------------------------------

SPECS = [
    forward_spec(
        "linear_autoencoder_forward",
        "models.autoencoder.linear_autoencoder_forward",
        _autoencoder,
        outputs=("x_hat",),
    ),
    Spec(
        "linear_autoencoder_backward",
        ("linear_autoencoder_forward", "linear_autoencoder_backward"),
        _check_pair_and_gradients,
        reference="models.autoencoder.linear_autoencoder",
        inputs=_autoencoder,
        trials=3,
        grads=("x", "w_enc", "w_dec"),
        options={"gradchecks": 2, "seed_name": "a10.linear_autoencoder_gradcheck"},
    ),
    Spec(
        "principal_angles",
        ("principal_angles",),
        _check_cases,
        reference="models.autoencoder.principal_angles",
        outputs=("theta",),
        options={
            "cases": [
                {"inputs": _angles_random, "trials": 4},
                # angles of 0 computed as arccos(1 - round-off) come out ~1e-8, whatever the method
                {"inputs": _angles_nested, "trials": 2, "atol": 1e-6},
            ]
        },
    ),
    Spec(
        "input_gradient",
        ("input_gradient",),
        _check_input_gradient,
        reference="models.adversarial.input_gradient",
        inputs=_mlp,
        trials=3,
        outputs=("loss", "dx"),
    ),
    Spec(
        "fgsm_step",
        ("fgsm_step",),
        _check_cases,
        reference="models.adversarial.fgsm_step",
        outputs=("x_adv",),
        options={"cases": [{"inputs": _fgsm_defaults, "trials": 3}, {"inputs": _fgsm_range, "trials": 2}]},
    ),
    forward_spec(
        "message_passing_forward", "layers.graph.message_passing_forward", _message_passing, trials=4
    ),
    Spec(
        "message_passing_backward",
        ("message_passing_forward", "message_passing_backward"),
        _check_pair_and_gradients,
        reference="layers.graph.message_passing",
        inputs=_message_passing,
        trials=4,
        grads=("h", "w_self", "w_neigh", "b"),
        options={
            "gradchecks": 2,
            "seed_name": "a10.message_passing_gradcheck",
            "bind": ("adj", "aggregation"),
        },
    ),
    Spec(
        "gat_forward",
        ("gat_forward",),
        _check_gat_attention,
        reference="layers.graph.gat_forward",
        inputs=_gat,
        trials=4,
    ),
    Spec(
        "gat_backward",
        ("gat_forward", "gat_backward"),
        _check_pair_and_gradients,
        reference="layers.graph.gat",
        inputs=_gat,
        trials=4,
        grads=("h", "w", "a_self", "a_neigh"),
        options={"gradchecks": 2, "seed_name": "a10.gat_gradcheck", "bind": ("adj", "negative_slope")},
    ),
]
