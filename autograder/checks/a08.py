"""Checks of assignment 08, pointer networks: every task against ``course.models.pointer`` on random inputs.

The masked pointer scores (forward and backward), the mask update, the whole network's teacher-forced loss
with every gradient, one decoding step (whose masked log-probabilities must be exactly -inf) and one
training step (its loss and the parameters after several steps, so gradients that are not zeroed show).
Inputs are float64 and small; decoding states are built the way decoding builds them.
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
    pair_spec,
    reference,
)

PARAM_NAMES = ("We", "be", "go", "enc_Wx", "enc_Wh", "enc_b", "dec_Wx", "dec_Wh", "dec_b", "W1", "W2", "v")

# ---- inputs -------------------------------------------------------------------------------------------


def _scores(rng):
    N, T, n, H, Hd, A = (int(s) for s in rng.integers(1, 6, size=6))
    inputs = {
        "E": rng.standard_normal((N, n, H)),
        "D": rng.standard_normal((N, T, Hd)),
        "W1": rng.standard_normal((H, A)) * 0.5,  # pre-activations of order 1: tanh not saturated
        "W2": rng.standard_normal((Hd, A)) * 0.5,
        "v": rng.standard_normal(A),
        "mask": None,
    }
    if rng.random() < 0.75:
        inputs["mask"] = rng.random((N, T, n)) < 0.6
    return inputs


def _decoding_state(rng, N: int, n: int, t: int, closed: bool) -> dict[str, Any]:
    """The mask of step t as decoding builds it: t positions used, the first one reopened when closed."""
    allowed = np.ones((N, n), dtype=bool)
    first = np.zeros(N, dtype=np.int64)
    choice = np.zeros(N, dtype=np.int64)
    close_after = reference("models.pointer.CLOSE_AFTER")
    for row in range(N):
        order = rng.permutation(n)
        allowed[row, order[:t]] = False
        first[row] = order[0]
        if closed and t >= close_after:
            allowed[row, first[row]] = True  # the start is open again: the polygon may close now
        options = np.flatnonzero(allowed[row])
        choice[row] = (
            first[row] if closed and t >= close_after and rng.random() < 0.4 else rng.choice(options)
        )
    return {"allowed": allowed, "choice": choice, "first": first, "t": t, "closed": closed}


def _mask_inputs(closed: bool, steps: str):
    """Decoding states at a step t: any t ('any'), or for closed outputs before the step whose update
    reopens the start ('before'), that step ('reopen', t = CLOSE_AFTER - 1) or later ones ('after')."""

    def make(rng):
        close_after = reference("models.pointer.CLOSE_AFTER")
        n = int(rng.integers(close_after + 3, 9))
        low, high = {
            "any": (0, n),
            "before": (0, close_after - 1),
            "reopen": (close_after - 1, close_after),
            "after": (close_after, n),
        }[steps]
        return _decoding_state(rng, int(rng.integers(1, 7)), n, int(rng.integers(low, high)), closed)

    return make


def _small_params(rng, F: int) -> dict[str, np.ndarray]:
    D, H, A = (int(s) for s in rng.integers(2, 6, size=3))
    init = reference("models.pointer.init_pointer_params")
    return init(F, D, H, A, rng, dtype=np.float64)


def _loss_problem(rng, trial: int) -> tuple[dict, np.ndarray, np.ndarray, bool]:
    """Trial 0: sorting (F = 1); 1: tours (F = 2); 2 and 3: convex hulls with their closing index."""
    N, n = int(rng.integers(1, 5)), int(rng.integers(4, 8))
    if trial == 0:
        x = rng.random((N, n, 1))
        return _small_params(rng, 1), x, np.argsort(x[:, :, 0], axis=1), False
    if trial == 1:
        return _small_params(rng, 2), rng.random((N, n, 2)), np.argsort(rng.random((N, n)), axis=1), False
    x, targets = reference("data.combinatorial.hull_dataset")(N, n, rng)
    return _small_params(rng, 2), x, targets, True


# ---- procedures ---------------------------------------------------------------------------------------


def _call(label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(f"{label} is not implemented yet (it raised NotImplementedError).") from None


def _check_mask_cases(spec: Spec, update_mask: Callable[..., Any]) -> None:
    """``check_function`` on each kind of decoding state (open outputs; closed before and after reopening)."""
    for case in spec.options["cases"]:
        check_function(
            update_mask,
            spec.reference,
            case,
            trials=spec.trials,
            rtol=0,
            atol=0,
            output_names=("allowed",),
            label="update_mask",
        )


def _check_network_loss(spec: Spec, pointer_network_loss: Callable[..., Any]) -> None:
    """Loss and the gradient of every parameter against the reference, on sorting, tours and hulls."""
    ref = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        params, x, targets, closed = _loss_problem(rng, trial)
        student_params = {k: v.copy() for k, v in params.items()}
        got = _call(
            "pointer_network_loss", pointer_network_loss, student_params, x.copy(), targets.copy(), closed
        )
        if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], dict)):
            raise AssertionError("pointer_network_loss must return a pair (loss, grads) with grads a dict.")
        loss, grads = got
        missing = [k for k in PARAM_NAMES if k not in grads]
        if missing:
            raise AssertionError(f"pointer_network_loss: grads has no entry for {', '.join(missing)}.")
        for key in PARAM_NAMES:
            if not np.array_equal(student_params[key], params[key]):
                raise AssertionError(f"pointer_network_loss modified params['{key}'] in place.")
        ref_loss, ref_grads = ref(params, x, targets, closed)
        where = f"N={x.shape[0]}, n={x.shape[1]}, F={x.shape[2]}, closed={closed}"
        check_with_reference(
            "pointer_network_loss",
            loss,
            ref_loss,
            rtol=spec.rtol,
            atol=spec.atol,
            what="the loss",
            inputs=where,
        )
        for key in PARAM_NAMES:
            check_with_reference(
                "pointer_network_loss",
                grads[key],
                ref_grads[key],
                rtol=spec.rtol,
                atol=spec.atol,
                what=f"grads['{key}']",
                inputs=where,
            )
    print(f"ok: pointer_network_loss agrees with the reference on {spec.trials} random networks and tasks")


def _check_decode_step(spec: Spec, pointer_decode_step: Callable[..., Any]) -> None:
    """Log-probabilities exactly -inf where not allowed, the rest and the new state against the reference."""
    ref = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        params = _small_params(rng, 2)
        N, n = int(rng.integers(1, 6)), int(rng.integers(3, 8))
        H, D = params["enc_Wh"].shape[0], params["We"].shape[1]
        closed = trial % 2 == 1
        state = _decoding_state(rng, N, n, int(rng.integers(0, n)), closed)
        inputs = {
            "E": rng.standard_normal((N, n, H)),
            "prev_emb": rng.standard_normal((N, D)),
            "prev_h": rng.standard_normal((N, H)),
            "prev_c": rng.standard_normal((N, H)),
            "allowed": state["allowed"],
        }
        where = f"N={N}, n={n}, H={H}, D={D}"
        got = _call(
            "pointer_decode_step",
            pointer_decode_step,
            {k: v.copy() for k, v in params.items()},
            **{k: v.copy() for k, v in inputs.items()},
        )
        if not (isinstance(got, tuple) and len(got) == 3):
            raise AssertionError("pointer_decode_step must return three values (log_probs, next_h, next_c).")
        expected = ref(params, **inputs)
        log_probs = np.asarray(got[0], dtype=np.float64)
        if log_probs.shape != expected[0].shape:
            raise AssertionError(
                f"pointer_decode_step: log_probs has shape {log_probs.shape}, expected {expected[0].shape} "
                f"({where})."
            )
        allowed = inputs["allowed"]
        if not (np.isneginf(log_probs) == ~allowed).all():
            raise AssertionError(
                "pointer_decode_step: log_probs must be exactly -inf where a position is not allowed and "
                f"finite where it is ({where})."
            )
        check_with_reference(
            "pointer_decode_step",
            log_probs[allowed],
            expected[0][allowed],
            rtol=spec.rtol,
            atol=spec.atol,
            what="log_probs at the allowed positions",
            inputs=where,
        )
        for name, g, e in zip(("next_h", "next_c"), got[1:], expected[1:], strict=True):
            check_with_reference(
                "pointer_decode_step", g, e, rtol=spec.rtol, atol=spec.atol, what=name, inputs=where
            )
    print(f"ok: pointer_decode_step agrees with the reference on {spec.trials} random decoding states")


def _check_train_step(spec: Spec, pointer_train_step: Callable[..., Any]) -> None:
    """Several steps on the reference network: the losses and every parameter after each step."""
    PointerNetwork = reference("models.pointer.PointerNetwork")
    Optimizer, adam = reference("training.optim.Optimizer"), reference("training.optim.adam")
    ref_step = reference(spec.reference)
    sample_batch = reference("data.combinatorial.batch_sampler")
    steps = spec.options["steps"]
    for trial in range(spec.trials):
        seed = check_seed(spec.reference, trial)
        rng = np.random.default_rng(seed)
        task, n, F = ("sort", int(rng.integers(3, 7)), 1) if trial % 2 == 0 else ("hull", 6, 2)
        size = int(rng.integers(3, 7))
        models = [
            PointerNetwork(F, size, size, size, closed=task == "hull", rng=seed, dtype=np.float64)
            for _ in range(2)
        ]
        optimizers = [Optimizer(m, adam, learning_rate=1e-2, max_grad_norm=1.0) for m in models]
        batches = [sample_batch(task, n, 8, rng)() for _ in range(steps)]
        where = f"task {task}, n={n}, hidden size {size}"
        for step, (x, targets) in enumerate(batches):
            x = x.astype(np.float64)
            got = _call(
                "pointer_train_step", pointer_train_step, models[0], optimizers[0], x.copy(), targets.copy()
            )
            expected = ref_step(models[1], optimizers[1], x, targets)
            label = f"{where}, step {step + 1}"
            check_with_reference("pointer_train_step", got, expected, what="the returned loss", inputs=label)
            for name, value, _ in models[1].parameters():
                check_with_reference(
                    "pointer_train_step",
                    models[0].params[name],
                    value,
                    rtol=spec.rtol,
                    atol=spec.atol,
                    what=f"parameter {name!r} after the step",
                    inputs=label,
                )
    print(f"ok: pointer_train_step agrees with the reference over {steps} steps on {spec.trials} networks")


# ---- specifications -----------------------------------------------------------------------------------

SPECS = [
    forward_spec(
        "pointer_scores_forward",
        "models.pointer.pointer_scores_forward",
        _scores,
        trials=5,
        outputs=("scores",),
    ),
    pair_spec(
        "pointer_scores_backward",
        "models.pointer.pointer_scores",
        _scores,
        grads=("E", "D", "W1", "W2", "v"),
        trials=5,
        outputs=("scores",),
    ),
    Spec(
        "update_mask",
        ("update_mask",),
        _check_mask_cases,
        reference="models.pointer.update_mask",
        trials=3,
        options={
            "cases": [
                _mask_inputs(closed=False, steps="any"),
                _mask_inputs(closed=True, steps="before"),  # the start stays used up
                _mask_inputs(closed=True, steps="reopen"),  # the start becomes available again
                _mask_inputs(closed=True, steps="after"),  # the start stays open, or closes the polygon
            ]
        },
    ),
    Spec(
        "pointer_network_loss",
        ("pointer_network_loss",),
        _check_network_loss,
        reference="models.pointer.pointer_network_loss",
        trials=4,
        rtol=1e-6,
        atol=1e-9,
    ),
    Spec(
        "pointer_decode_step",
        ("pointer_decode_step",),
        _check_decode_step,
        reference="models.pointer.pointer_decode_step",
        trials=4,
    ),
    Spec(
        "pointer_train_step",
        ("pointer_train_step",),
        _check_train_step,
        reference="models.pointer.pointer_train_step",
        trials=2,
        rtol=1e-6,
        atol=1e-9,
        options={"steps": 3},
    ),
]
