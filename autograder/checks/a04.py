"""Checks of assignment 04, training deep nets: the training loop, update rules, regularisers, initialisers,
batch norm and hyper-parameter search, each against the library on seeded random inputs.

Library objects (models, optimisers, losses) come from ``core.reference`` inside the procedures, never from
an import of ``course`` here: in the grader ``course`` is the student edition.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks.core import (
    Spec,
    check_seed,
    check_with_reference,
    forward_spec,
    function_spec,
    pair_spec,
    reference,
    sandbox_library,
)


def _student(label: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the student's function; a stub that still raises NotImplementedError fails the check plainly."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(f"{label} is not implemented yet (it raised NotImplementedError).") from None


# ---- the training loop --------------------------------------------------------------------------------


def _student_library(fn: Any) -> Callable[[str], Any]:
    """``name -> object`` of the student's library ('core.module.Sequential'): the sandbox's edition in the
    judge, so the student's code is handed models and optimisers of its own side, never the reference's."""
    return lambda name: sandbox_library(fn, "course." + name.rpartition(".")[0], name.rpartition(".")[2])


def reference_sgd(w: Any, dw: Any, config: Any = None) -> Any:
    """The reference's sgd, called back from the student's side (its edition's rules are stubs in a04)."""
    return reference("training.optim.sgd")(w, dw, config)


def reference_adam(w: Any, dw: Any, config: Any = None) -> Any:
    """The reference's adam, called back from the student's side (its edition's rules are stubs in a04)."""
    return reference("training.optim.adam")(w, dw, config)


def reference_he_normal(rng: np.random.Generator, shape: Any) -> Any:
    """The reference's he_normal (``Linear``'s default draw), called back from the student's side, where
    it is an exercise of a04 (a stub in the library the student's code runs with)."""
    return reference("training.init.he_normal")(tuple(shape), rng, np.float64)


def _mlp(d: int, h: int, c: int, seed: int, seed2: int, library: Callable[[str], Any] = reference) -> Any:
    """A float64 d-h-c ReLU net of ``library`` (the same He-normal weights every time it is built)."""
    Sequential = library("core.module.Sequential")
    Linear = library("layers.affine.Linear")
    ReLU = library("layers.activations.ReLU")
    return Sequential(
        Linear(d, h, rng=seed, init=reference_he_normal, dtype="float64"),  # a name: a dtype cannot cross
        ReLU(),
        Linear(h, c, rng=seed2, init=reference_he_normal, dtype="float64"),
    )


def _compare_parameters(label: str, model: Any, model_ref: Any, when: str, where: str) -> None:
    for (name, p, _), (_, p_ref, _) in zip(model.parameters(), model_ref.parameters(), strict=True):
        check_with_reference(label, p, p_ref, what=f"parameter {name} {when}", inputs=where)


def _check_train_step(spec: Spec, train_step: Callable) -> None:
    reference_step = reference(spec.reference)
    student_library = _student_library(train_step)
    Optimizer = reference("training.optim.Optimizer")
    rules = {"sgd": reference("training.optim.sgd"), "adam": reference("training.optim.adam")}
    student_rules = {"sgd": reference_sgd, "adam": reference_adam}
    loss_fn = reference("layers.losses.softmax_cross_entropy")
    student_loss_fn = student_library("layers.losses.softmax_cross_entropy")
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        n, d, h, c = (int(v) for v in rng.integers(2, 9, size=4))
        s1, s2 = (int(s) for s in rng.integers(0, 1000, size=2))
        rule = ["sgd", "adam"][trial % 2]
        models = [_mlp(d, h, c, s1, s2, student_library), _mlp(d, h, c, s1, s2)]
        optimizers = [
            student_library("training.optim.Optimizer")(models[0], student_rules[rule], learning_rate=0.1),
            Optimizer(models[1], rules[rule], learning_rate=0.1),
        ]
        where = f"a {d}-{h}-{c} net, batches of {n}, {rule}"
        for step in range(spec.options["steps"]):
            x, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
            got = _student(
                "train_step", train_step, models[0], student_loss_fn, optimizers[0], x.copy(), y.copy()
            )
            if not (isinstance(got, tuple) and len(got) == 2):
                raise AssertionError("train_step must return a pair (loss, scores).")
            expected = reference_step(models[1], loss_fn, optimizers[1], x, y)
            check_with_reference(
                "train_step", got[0], expected[0], what=f"the loss of step {step + 1}", inputs=where
            )
            check_with_reference(
                "train_step", got[1], expected[1], what=f"the scores of step {step + 1}", inputs=where
            )
            _compare_parameters("train_step", models[0], models[1], f"after step {step + 1}", where)
    steps = spec.options["steps"]
    print(f"ok: train_step agrees with the reference over {steps} steps on {spec.trials} random nets")


def _minibatch_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "n": int(rng.integers(1, 30)),
        "batch_size": int(rng.integers(1, 12)),
        "seed": int(rng.integers(0, 10**6)),
    }


def _check_minibatch_indices(spec: Spec, minibatch_indices: Callable) -> None:
    reference_indices = reference(spec.reference)
    for trial in range(spec.trials):
        case = spec.inputs(np.random.default_rng(check_seed(spec.reference, trial)))
        n, batch_size = case["n"], case["batch_size"]
        where = f"n={n}, batch_size={batch_size}, a seeded rng"
        student_rng = np.random.default_rng(case["seed"])
        got = _student("minibatch_indices", minibatch_indices, n=n, batch_size=batch_size, rng=student_rng)
        expected = reference_indices(n, batch_size, np.random.default_rng(case["seed"]))
        if not isinstance(got, (list, tuple)):
            raise AssertionError(
                f"minibatch_indices must return a list of index arrays, got {type(got).__name__}."
            )
        if len(got) != len(expected):
            raise AssertionError(
                f"minibatch_indices returned {len(got)} batches for {where}; "
                "there must be ceil(n / batch_size)."
            )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            g = np.asarray(g)
            if g.shape != e.shape or not np.array_equal(g, e):
                raise AssertionError(
                    f"minibatch_indices: batch {i} differs from the reference ({where}): take "
                    f"order = rng.permutation(n) once and cut it into consecutive pieces."
                )
    print(f"ok: minibatch_indices agrees with the reference on {spec.trials} random sizes and generators")


def _check_train_epoch(spec: Spec, train_epoch: Callable) -> None:
    reference_epoch = reference(spec.reference)
    student_library = _student_library(train_epoch)
    Optimizer = reference("training.optim.Optimizer")
    sgd = reference("training.optim.sgd")
    loss_fn = reference("layers.losses.softmax_cross_entropy")
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.options["seed_name"], trial))
        n, d, h, c = (
            int(rng.integers(5, 25)),
            int(rng.integers(2, 6)),
            int(rng.integers(2, 8)),
            int(rng.integers(2, 5)),
        )
        batch_size, seed = int(rng.integers(1, 9)), int(rng.integers(0, 1000))
        X, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
        models = [_mlp(d, h, c, seed, seed + 1, student_library), _mlp(d, h, c, seed, seed + 1)]
        optimizers = [
            student_library("training.optim.Optimizer")(models[0], reference_sgd, learning_rate=0.2),
            Optimizer(models[1], sgd, learning_rate=0.2),
        ]
        student_rng = np.random.default_rng(seed)
        got = _student(
            "train_epoch",
            train_epoch,
            models[0],
            student_library("layers.losses.softmax_cross_entropy"),
            optimizers[0],
            X.copy(),
            y.copy(),
            batch_size,
            student_rng,
        )
        expected = reference_epoch(
            models[1], loss_fn, optimizers[1], X, y, batch_size, np.random.default_rng(seed)
        )
        where = f"N={n}, batch_size={batch_size}, a {d}-{h}-{c} net"
        check_with_reference("train_epoch", got, expected, what="the mean loss", inputs=where)
        _compare_parameters("train_epoch", models[0], models[1], "after the epoch", where)
    print(f"ok: train_epoch agrees with the reference on {spec.trials} random data sets and batch sizes")


# ---- update rules -------------------------------------------------------------------------------------


def _check_rule(spec: Spec, rule: Callable) -> None:
    """Several steps of the student's rule and the reference's from the same w, gradients and config.

    Trial 0 passes config=None (every default); each step starts both from the reference's w, so one wrong
    step is reported once.
    """
    name, steps = spec.task, spec.options["steps"]
    reference_rule = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        shape = tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 3))))
        config = None if trial == 0 else dict(spec.inputs(rng))
        config_student, config_reference = copy.deepcopy(config), copy.deepcopy(config)
        where = f"w of shape {shape}, config " + ("None (every default)" if config is None else str(config))
        w = rng.standard_normal(shape)
        for step in range(steps):
            dw = rng.standard_normal(shape) * float(rng.choice([0.1, 1.0, 10.0]))
            w_in, dw_in = w.copy(), dw.copy()
            result = _student(name, rule, w_in, dw_in, config_student)
            if not (isinstance(result, tuple) and len(result) == 2):
                raise AssertionError(f"{name} must return a pair (next_w, config).")
            next_w, config_student = result
            if not isinstance(config_student, dict):
                raise AssertionError(f"{name} must return the config dict, with the rule's state in it.")
            if not (np.array_equal(w_in, w) and np.array_equal(dw_in, dw)):
                raise AssertionError(f"{name} modified w or dw in place: return a new array next_w.")
            expected_w, config_reference = reference_rule(w.copy(), dw.copy(), config_reference)
            check_with_reference(
                name, next_w, expected_w, what=f"next_w after step {step + 1} of {steps}", inputs=where
            )
            w = expected_w
    print(f"ok: {name} agrees with the reference over {steps} steps on {spec.trials} random runs")


def _rule_spec(name: str, make_config: Callable[[np.random.Generator], dict], steps: int = 4) -> Spec:
    return Spec(
        name, (name,), _check_rule, f"training.optim.{name}", make_config, trials=3, options={"steps": steps}
    )


def _momentum_config(rng: np.random.Generator) -> dict:
    return {"learning_rate": float(rng.uniform(0.01, 1.0)), "momentum": float(rng.uniform(0.5, 0.99))}


def _adadelta_config(rng: np.random.Generator) -> dict:
    return {
        "learning_rate": float(rng.uniform(0.5, 2.0)),
        "rho": float(rng.uniform(0.5, 0.99)),
        "eps": float(rng.choice([1e-3, 1e-1])),
    }


def _rmsprop_config(rng: np.random.Generator) -> dict:
    return {
        "learning_rate": float(rng.uniform(0.01, 1.0)),
        "decay_rate": float(rng.uniform(0.5, 0.999)),
        "eps": float(rng.choice([1e-3, 1e-1])),
    }


def _adam_config(rng: np.random.Generator) -> dict:
    return {
        "learning_rate": float(rng.uniform(0.001, 0.5)),
        "beta1": float(rng.uniform(0.5, 0.95)),
        "beta2": float(rng.uniform(0.9, 0.9999)),
        "eps": float(rng.choice([1e-3, 1e-1])),
    }


# ---- weight decay and clipping ------------------------------------------------------------------------


def _shapes(rng: np.random.Generator) -> list[tuple[int, ...]]:
    count = int(rng.integers(1, 4))
    return [tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 3)))) for _ in range(count)]


def _check_add_weight_decay(spec: Spec, add_weight_decay: Callable) -> None:
    reference_decay = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        shapes = _shapes(rng)
        grads: Any = [rng.standard_normal(s) for s in shapes]
        params: Any = [rng.standard_normal(s) for s in shapes]
        lam = float(rng.uniform(0, 0.5))
        if trial % 2:
            grads, params = dict(zip("abc", grads)), dict(zip("abc", params))
        before = {k: v.copy() for k, v in (grads.items() if isinstance(grads, dict) else enumerate(grads))}
        got = _student("add_weight_decay", add_weight_decay, grads, params, lam)
        expected = reference_decay(grads, params, lam)
        where = f"{type(grads).__name__} of arrays of shapes {shapes}, weight_decay={lam:.3g}"
        if type(got) is not type(expected):
            raise AssertionError(
                f"add_weight_decay returned a {type(got).__name__} for a {type(grads).__name__} ({where})."
            )
        if len(got) != len(expected):
            raise AssertionError(
                f"add_weight_decay returned {len(got)} gradients, expected {len(expected)} ({where})."
            )
        keys = list(expected) if isinstance(expected, dict) else range(len(expected))
        for k in keys:
            check_with_reference(
                "add_weight_decay", got[k], expected[k], what=f"gradient {k!r}", inputs=where
            )
            check_with_reference(
                "add_weight_decay",
                grads[k],
                before[k],
                rtol=0,
                atol=0,
                what=f"the input grads[{k!r}] (it must not change)",
                inputs=where,
            )
    print("ok: add_weight_decay agrees with the reference on lists and dicts")


def _check_clip_grad_norm(spec: Spec, clip_grad_norm: Callable) -> None:
    reference_clip = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        shapes = _shapes(rng)
        grads = [rng.standard_normal(s) * 3 for s in shapes]
        norm = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
        max_norm = float(norm * rng.choice([0.1, 0.5, 2.0]))  # clipped in some trials, not in others
        mine: Any = [g.copy() for g in grads]
        theirs: Any = [g.copy() for g in grads]
        if trial == 3:
            mine, theirs = dict(enumerate(mine)), dict(enumerate(theirs))
        where = f"{len(shapes)} arrays of shapes {shapes}, max_norm = {max_norm / norm:.1f} x the norm"
        got = _student("clip_grad_norm", clip_grad_norm, mine, max_norm)
        expected = reference_clip(theirs, max_norm)
        check_with_reference("clip_grad_norm", got, expected, what="the returned norm", inputs=where)
        for i in range(len(shapes)):
            check_with_reference(
                "clip_grad_norm",
                mine[i],
                theirs[i],
                what=f"gradient {i} after the call (in place)",
                inputs=where,
            )
    print(f"ok: clip_grad_norm agrees with the reference on {spec.trials} random gradient lists")


# ---- initialisers -------------------------------------------------------------------------------------


def _init_inputs(gain: bool) -> Callable[[np.random.Generator], dict[str, Any]]:
    def inputs(rng: np.random.Generator) -> dict[str, Any]:
        shape = tuple(int(s) for s in rng.integers(1, 7, size=int(rng.choice([2, 2, 4]))))
        case = {
            "shape": shape,
            "rng": np.random.default_rng(int(rng.integers(0, 10**6))),
            "dtype": ["float32", "float64"][int(rng.integers(0, 2))],
        }
        if gain:
            case["gain"] = float(rng.uniform(0.5, 2.0))
        return case

    return inputs


# ---- dropout and batch norm ---------------------------------------------------------------------------


def _dropout_inputs(rng: np.random.Generator) -> dict[str, Any]:
    shape = tuple(int(s) for s in rng.integers(1, 7, size=int(rng.integers(1, 4))))
    mode = "train" if rng.random() < 0.75 else "eval"
    return {
        "x": rng.standard_normal(shape),
        "p": float(rng.choice([0.0, 0.2, 0.5, 0.8])),
        "mode": mode,
        "rng": np.random.default_rng(int(rng.integers(0, 10**6))),
    }


def _dropconnect_inputs(rng: np.random.Generator) -> dict[str, Any]:
    n, d, m = (int(v) for v in rng.integers(1, 6, size=3))
    return {
        "x": rng.standard_normal((n, d)),
        "w": rng.standard_normal((d, m)),
        "b": rng.standard_normal(m),
        "p": float(rng.choice([0.0, 0.3, 0.5])),
        "mode": "train" if rng.random() < 0.75 else "eval",
        "rng": np.random.default_rng(int(rng.integers(0, 10**6))),
    }


def _batchnorm_inputs(rng: np.random.Generator) -> dict[str, Any]:
    n, d = int(rng.integers(2, 9)), int(rng.integers(1, 6))
    bn_param: dict[str, Any] = {"mode": "train" if rng.random() < 0.7 else "eval"}
    if rng.random() < 0.5:
        bn_param["momentum"] = float(rng.uniform(0.5, 0.99))
        bn_param["eps"] = float(rng.choice([1e-5, 1e-2]))
    if bn_param["mode"] == "eval" or rng.random() < 0.5:
        bn_param["running_mean"] = rng.standard_normal(d)
        bn_param["running_var"] = rng.uniform(0.5, 2.0, d)
    return {
        "x": rng.standard_normal((n, d)) * rng.uniform(0.5, 3) + rng.standard_normal(d),
        "gamma": rng.standard_normal(d),
        "beta": rng.standard_normal(d),
        "bn_param": bn_param,
    }


def _check_batchnorm_forward(spec: Spec, batchnorm_forward: Callable) -> None:
    """The output and, in training mode, the running averages the call leaves in bn_param."""
    reference_forward = reference(spec.reference)
    for trial in range(spec.trials):
        inputs = spec.inputs(np.random.default_rng(check_seed(spec.reference, trial)))
        mine, theirs = copy.deepcopy(inputs), copy.deepcopy(inputs)
        bn_param = inputs["bn_param"]
        where = f"x of shape {inputs['x'].shape}, bn_param with keys {sorted(bn_param)}"
        where += f", mode {bn_param['mode']!r}"
        got = _student("batchnorm_forward", batchnorm_forward, **mine)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise AssertionError("batchnorm_forward must return a pair (out, cache).")
        expected = reference_forward(**theirs)
        check_with_reference("batchnorm_forward", got[0], expected[0], what="output 'out'", inputs=where)
        if bn_param["mode"] == "train":
            for key in ("running_mean", "running_var"):
                if key not in mine["bn_param"]:
                    raise AssertionError(f"batchnorm_forward must store bn_param[{key!r}] in 'train' mode.")
                check_with_reference(
                    "batchnorm_forward",
                    mine["bn_param"][key],
                    theirs["bn_param"][key],
                    what=f"bn_param[{key!r}] after the call",
                    inputs=where,
                )
    print(
        "ok: batchnorm_forward (outputs and running averages) agrees with the reference on "
        f"{spec.trials} random inputs"
    )


# ---- hyper-parameter search ---------------------------------------------------------------------------


def _space(rng: np.random.Generator) -> dict[str, tuple[float, float, str]]:
    space = {}
    for name in ["a", "b", "c"][: int(rng.integers(1, 4))]:
        if rng.random() < 0.5:
            low = float(10 ** rng.uniform(-6, -1))
            space[name] = (low, low * float(10 ** rng.uniform(1, 4)), "log")
        else:
            low = float(rng.uniform(-2, 1))
            space[name] = (low, low + float(rng.uniform(0.5, 3)), "linear")
    return space


def _rows(points: Any, space: dict, label: str, where: str) -> np.ndarray:
    """The points as an array, one row per point, after checking they are dicts with the keys of space."""
    if not (isinstance(points, list) and all(isinstance(p, dict) for p in points)):
        raise AssertionError(f"{label} must return a list of dicts ({where}).")
    if not all(list(p) == list(space) for p in points):
        raise AssertionError(f"{label}: every point must have the keys of space, in order ({where}).")
    return np.array([[p[k] for k in space] for p in points])


def _compare_points(label: str, fn: Callable, reference_fn: Callable, args: tuple, where: str) -> None:
    """fn(*args) against reference_fn(*args); an rng among the args is copied, so both draw the same."""
    space = args[0]
    expected = _rows(reference_fn(*copy.deepcopy(args)), space, label, where)
    got = _rows(_student(label, fn, *copy.deepcopy(args)), space, label, where)
    check_with_reference(label, got, expected, what="the points, one row per point", inputs=where)


def _check_grid_points(spec: Spec, grid_points: Callable) -> None:
    reference_grid = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        space, per_axis = _space(rng), int(rng.integers(1, 5))
        where = f"space {space}, per_axis={per_axis}"
        _compare_points("grid_points", grid_points, reference_grid, (space, per_axis), where)
    print(f"ok: grid_points agrees with the reference on {spec.trials} random spaces")


def _check_random_points(spec: Spec, random_points: Callable) -> None:
    reference_random = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        space, n, seed = _space(rng), int(rng.integers(1, 12)), int(rng.integers(0, 10**6))
        where = f"space {space}, n={n}, a seeded rng"
        _compare_points(
            "random_points", random_points, reference_random, (space, n, np.random.default_rng(seed)), where
        )
    print(f"ok: random_points agrees with the reference on {spec.trials} random spaces")


SPECS = [
    Spec(
        "train_step",
        ("train_step",),
        _check_train_step,
        "training.train.train_step",
        trials=3,
        options={"steps": 3},
    ),
    Spec(
        "minibatch_indices",
        ("minibatch_indices",),
        _check_minibatch_indices,
        "data.batching.minibatch_indices",
        _minibatch_inputs,
        trials=4,
    ),
    Spec(
        "train_epoch",
        ("train_epoch",),
        _check_train_epoch,
        "training.train.train_epoch",
        trials=3,
        options={"seed_name": "a04.train_epoch"},
    ),
    _rule_spec("sgd", lambda rng: {"learning_rate": float(rng.uniform(0.01, 1.0))}),
    _rule_spec("sgd_momentum", _momentum_config),
    _rule_spec("nesterov", _momentum_config),
    _rule_spec(
        "adagrad",
        lambda rng: {"learning_rate": float(rng.uniform(0.01, 1.0)), "eps": float(rng.choice([1e-3, 1e-1]))},
    ),
    _rule_spec("adadelta", _adadelta_config),
    _rule_spec("rmsprop", _rmsprop_config),
    _rule_spec("adam", _adam_config, steps=5),
    Spec(
        "add_weight_decay",
        ("add_weight_decay",),
        _check_add_weight_decay,
        "training.optim.add_weight_decay",
        trials=4,
    ),
    Spec(
        "clip_grad_norm",
        ("clip_grad_norm",),
        _check_clip_grad_norm,
        "training.optim.clip_grad_norm",
        trials=4,
    ),
    function_spec("glorot_uniform", "training.init.glorot_uniform", _init_inputs(gain=True), trials=4),
    function_spec("glorot_normal", "training.init.glorot_normal", _init_inputs(gain=True), trials=4),
    function_spec("he_normal", "training.init.he_normal", _init_inputs(gain=False), trials=4),
    function_spec("he_uniform", "training.init.he_uniform", _init_inputs(gain=False), trials=4),
    forward_spec("dropout_forward", "layers.dropout.dropout_forward", _dropout_inputs, trials=4),
    pair_spec("dropout_backward", "layers.dropout.dropout", _dropout_inputs, grads=("x",), trials=4),
    forward_spec("dropconnect_forward", "layers.dropout.dropconnect_forward", _dropconnect_inputs, trials=4),
    pair_spec(
        "dropconnect_backward",
        "layers.dropout.dropconnect",
        _dropconnect_inputs,
        grads=("x", "w", "b"),
        trials=4,
    ),
    Spec(
        "batchnorm_forward",
        ("batchnorm_forward",),
        _check_batchnorm_forward,
        "layers.batchnorm.batchnorm_forward",
        _batchnorm_inputs,
        trials=5,
    ),
    pair_spec(
        "batchnorm_backward",
        "layers.batchnorm.batchnorm",
        _batchnorm_inputs,
        grads=("x", "gamma", "beta"),
        trials=5,
    ),
    Spec(
        "grid_points",
        ("grid_points",),
        _check_grid_points,
        "training.hyperparameter_search.grid_points",
        trials=4,
    ),
    Spec(
        "random_points",
        ("random_points",),
        _check_random_points,
        "training.hyperparameter_search.random_points",
        trials=4,
    ),
]
