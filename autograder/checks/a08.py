"""Checks of assignment 08, pointer networks: every task against the library on random inputs.

The exact targets (Held-Karp against brute force and the reference, the monotone-chain hull on random,
collinear and repeated points), the tour metrics, greedy and beam decoding (beam search against exhaustive
search where the beam can hold every order), the masked pointer scores (forward and backward), the mask
update, the whole network's teacher-forced loss with every gradient, one decoding step (whose masked
log-probabilities must be exactly -inf) and one training step (its loss and the parameters after several
steps, so gradients that are not zeroed show). Inputs are float64 and small; decoding states are built the
way decoding builds them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from itertools import permutations
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
    sandbox_library,
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


def _tours(rng):
    B, n = int(rng.integers(1, 6)), int(rng.integers(3, 10))
    return {"points": rng.random((B, n, 2)), "tours": np.argsort(rng.random((B, n)), axis=1)}


def _candidate_tours(rng):
    """Rows that are permutations and rows that are not (a repeat, an index n, an index -1)."""
    B, n = int(rng.integers(4, 9)), int(rng.integers(3, 9))
    tours = np.argsort(rng.random((B, n)), axis=1)
    for row in range(1, B):
        kind = int(rng.integers(0, 4))
        col = int(rng.integers(0, n))
        if kind == 1:
            tours[row, col] = tours[row, (col + 1) % n]  # a city twice, another never
        elif kind == 2:
            tours[row, col] = n
        elif kind == 3:
            tours[row, col] = -1
    return {"tours": tours, "n": n}


def _hull_points(rng, trial: int) -> np.ndarray:
    """Even trials: uniform points; odd trials: points on a coarse grid (collinear and repeated points),
    drawn again until they are not all on one line."""
    n = int(rng.integers(3, 13))
    if trial % 2 == 0:
        return rng.random((n, 2))
    while True:
        points = rng.integers(0, 4, size=(n, 2)) / 4.0
        if len(reference("data.combinatorial.convex_hull")(points)) >= 3:
            return points


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


def _check_held_karp(spec: Spec, held_karp: Callable[..., Any]) -> None:
    """Tours and lengths against brute force (every order) for small n, against the reference up to n = 10."""
    brute_force = reference("data.combinatorial.brute_force_tsp")
    ref = reference(spec.reference)
    for trial, n in enumerate(spec.options["sizes"]):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        points = rng.random((int(rng.integers(1, 6)), n, 2))
        got = _call("held_karp", held_karp, points.copy())
        if not (isinstance(got, tuple) and len(got) == 2):
            raise AssertionError("held_karp must return a pair (tours, lengths).")
        if n <= spec.options["brute_force_up_to"]:
            solved = [brute_force(p) for p in points]
            tours, lengths = np.stack([t for t, _ in solved]), np.array([length for _, length in solved])
            against = "brute force over every order"
        else:
            tours, lengths = ref(points)
            against = "the reference"
        where = f"{len(points)} instances of n={n} cities, compared with {against}"
        check_with_reference(
            "held_karp", got[1], lengths, rtol=1e-9, atol=1e-12, what="lengths", inputs=where
        )
        got_tours = np.asarray(got[0])
        if got_tours.shape != tours.shape:
            raise AssertionError(
                f"held_karp: tours has shape {got_tours.shape}, expected {tours.shape} ({where})."
            )
        if not np.array_equal(got_tours, tours):
            raise AssertionError(
                "held_karp: the lengths are optimal but some tours differ: return each tour in the canonical "
                f"form, starting at city 0 and counter-clockwise, canonical_tour(points, tours) ({where})."
            )
    print(f"ok: held_karp agrees with brute force and the reference on {len(spec.options['sizes'])} sizes")


def _check_convex_hull(spec: Spec, convex_hull: Callable[..., Any]) -> None:
    """The vertex indices against the reference; where points repeat, either copy may be the vertex, so
    there the polygon's corners are compared (counter-clockwise, any starting corner)."""
    ref = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        points = _hull_points(rng, trial)
        repeats = len(np.unique(points, axis=0)) < len(points)
        where = f"n={len(points)} points" + (", some collinear or repeated" if trial % 2 else "")
        got = np.asarray(_call("convex_hull", convex_hull, points.copy())).reshape(-1)
        expected = ref(points)
        if got.dtype.kind not in "iu" or len(got) != len(expected):
            raise AssertionError(
                "convex_hull: the number of vertices differs from the reference, or they are not integer "
                f"indices ({where}); collinear points and second copies of a point are not vertices."
            )
        if repeats:
            corners, want = points[got], points[expected]
            same = any(np.array_equal(np.roll(corners, -r, axis=0), want) for r in range(len(got)))
        else:
            same = np.array_equal(got, expected)
        if not same:
            raise AssertionError(
                f"convex_hull: the vertices differ from the reference ({where}): keep only strict left "
                "turns, list them counter-clockwise and start at the lowest index."
            )
    print(
        f"ok: convex_hull agrees with the reference on {spec.trials} point sets (collinear and repeated too)"
    )


def _decoding_problem(rng, trial: int) -> tuple[dict, np.ndarray, bool]:
    closed = trial % 2 == 1
    x = rng.random((int(rng.integers(1, 5)), int(rng.integers(4, 8)), 2))
    return _small_params(rng, 2), x, closed


def _check_greedy(spec: Spec, greedy_decode: Callable[..., Any]) -> None:
    """Outputs against the reference, both decoding with the reference step and mask update."""
    step, update = reference_decode_step, reference_update_mask
    ref = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        params, x, closed = _decoding_problem(rng, trial)
        got = _call("greedy_decode", greedy_decode, params, x.copy(), closed, step=step, update=update)
        expected = ref(params, x, closed, step=step, update=update)
        where = f"N={x.shape[0]}, n={x.shape[1]}, closed={closed}"
        check_with_reference("greedy_decode", got, expected, rtol=0, atol=0, what="the outputs", inputs=where)
    print(f"ok: greedy_decode agrees with the reference on {spec.trials} random networks")


def _check_beam_outputs(label: str, got: Any, seqs: np.ndarray, scores: np.ndarray, where: str) -> None:
    if not (isinstance(got, tuple) and len(got) == 2):
        raise AssertionError(f"{label} must return a pair (seqs, scores).")
    got_seqs, got_scores = np.asarray(got[0]), np.asarray(got[1], dtype=np.float64)
    for what, g, e in (("seqs", got_seqs, seqs), ("scores", got_scores, scores)):
        if g.shape != e.shape:
            raise AssertionError(f"{label}: {what} has shape {g.shape}, expected {e.shape} ({where}).")
    live = np.isfinite(scores)
    if not (np.isfinite(got_scores) == live).all():
        raise AssertionError(
            f"{label}: the beams of score -inf differ from the reference ({where}): a beam is -inf only "
            "when fewer valid outputs than beams exist."
        )
    check_with_reference(label, got_scores[live], scores[live], what="the finite scores", inputs=where)
    check_with_reference(label, got_seqs[live], seqs[live], rtol=0, atol=0, what="seqs", inputs=where)


def _check_beam(spec: Spec, beam_decode: Callable[..., Any]) -> None:
    """With width n! every order fits in the beam, so it must return exhaustive search's ranking; smaller
    beams and closed outputs against the reference. All with the reference step and mask update."""
    step, update = reference_decode_step, reference_update_mask
    loss = reference("models.pointer.pointer_network_loss")
    ref = reference(spec.reference)
    for trial, n in enumerate(spec.options["exhaustive_sizes"]):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        params, x = _small_params(rng, 2), rng.random((1, n, 2))
        orders = np.array(list(permutations(range(n))))
        totals = np.array([-n * loss(params, x, order[None])[0] for order in orders])  # log p(order)
        rank = np.argsort(-totals, kind="stable")
        where = f"n={n}, width={len(orders)} = n!, compared with exhaustive search over every order"
        got = _call("beam_decode", beam_decode, params, x.copy(), len(orders), step=step, update=update)
        _check_beam_outputs("beam_decode", got, orders[rank][None], totals[rank][None], where)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, 100 + trial))
        params, x, closed = _decoding_problem(rng, trial)
        width = int(rng.integers(2, 6))
        where = f"N={x.shape[0]}, n={x.shape[1]}, width={width}, closed={closed}"
        got = _call("beam_decode", beam_decode, params, x.copy(), width, closed, step=step, update=update)
        seqs, scores = ref(params, x, width, closed, step=step, update=update)
        _check_beam_outputs("beam_decode", got, seqs, scores, where)
    print(f"ok: beam_decode agrees with exhaustive search and the reference on {spec.trials + 2} networks")


def reference_decode_step(*args: Any, **kwargs: Any) -> Any:
    """The reference's decoding step, called back from the student's decoding loop (the sandbox's side)."""
    return reference("models.pointer.pointer_decode_step")(*args, **kwargs)


def reference_update_mask(*args: Any, **kwargs: Any) -> Any:
    """The reference's mask update, called back from the student's decoding loop (the sandbox's side)."""
    return reference("models.pointer.update_mask")(*args, **kwargs)


@contextlib.contextmanager
def _reference_loss(pointer_module: Any):
    """While the check runs, the student's library's ``PointerNetwork.loss`` gets the reference's loss and
    gradients, so ``pointer_train_step`` is checked on its own; the library's function is put back after.

    The reference is looked up before the module is patched: in an instructor's run the student's library
    is the library itself, and a lookup through the patched module would find the patch."""
    ref = reference("models.pointer.pointer_network_loss")

    def reference_pointer_network_loss(params: dict, x: Any, targets: Any, closed: bool = False) -> Any:
        """The reference's loss and gradients, called back from the student's side, where it is an
        exercise (a stub in the library the student's code runs with)."""
        return ref(params, x, targets, closed)

    original = pointer_module.pointer_network_loss
    pointer_module.pointer_network_loss = reference_pointer_network_loss
    try:
        yield
    finally:
        pointer_module.pointer_network_loss = original


def _check_train_step(spec: Spec, pointer_train_step: Callable[..., Any]) -> None:
    """Several steps on the reference network: the losses and every parameter after each step.

    The student's step gets a network and an optimiser of its own side (the sandbox's library in the
    judge: the reference never crosses), with the same weights, and the reference's loss."""
    with _reference_loss(sandbox_library(pointer_train_step, "course.models", "pointer")):
        _check_train_steps(spec, pointer_train_step)


def _check_train_steps(spec: Spec, pointer_train_step: Callable[..., Any]) -> None:
    PointerNetwork = reference("models.pointer.PointerNetwork")
    Optimizer, adam = reference("training.optim.Optimizer"), reference("training.optim.adam")
    StudentNetwork = sandbox_library(pointer_train_step, "course.models.pointer", "PointerNetwork")
    StudentOptimizer = sandbox_library(pointer_train_step, "course.training.optim", "Optimizer")
    student_adam = sandbox_library(pointer_train_step, "course.training.optim", "adam")
    ref_step = reference(spec.reference)
    sample_batch = reference("data.combinatorial.batch_sampler")
    steps = spec.options["steps"]
    for trial in range(spec.trials):
        seed = check_seed(spec.reference, trial)
        rng = np.random.default_rng(seed)
        task, n, F = ("sort", int(rng.integers(3, 7)), 1) if trial % 2 == 0 else ("hull", 6, 2)
        size = int(rng.integers(3, 7))
        models = [
            # a dtype's name: a class cannot cross into the sandbox
            network(F, size, size, size, closed=task == "hull", rng=seed, dtype="float64")
            for network in (StudentNetwork, PointerNetwork)
        ]
        optimizers = [
            optimizer(m, rule, learning_rate=1e-2, max_grad_norm=1.0)
            for optimizer, m, rule in zip(
                (StudentOptimizer, Optimizer), models, (student_adam, adam), strict=True
            )
        ]
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
    function_spec("tour_length", "data.combinatorial.tour_length", _tours, trials=4, outputs=("lengths",)),
    function_spec(
        "is_permutation", "data.combinatorial.is_permutation", _candidate_tours, trials=4, outputs=("valid",)
    ),
    Spec(
        "held_karp",
        ("held_karp",),
        _check_held_karp,
        reference="data.combinatorial.held_karp",
        options={"sizes": (3, 4, 5, 6, 7, 8, 9, 10), "brute_force_up_to": 7},
    ),
    Spec(
        "convex_hull",
        ("convex_hull",),
        _check_convex_hull,
        reference="data.combinatorial.convex_hull",
        trials=8,
    ),
    Spec(
        "greedy_decode", ("greedy_decode",), _check_greedy, reference="models.pointer.greedy_decode", trials=4
    ),
    Spec(
        "beam_decode",
        ("beam_decode",),
        _check_beam,
        reference="models.pointer.beam_decode",
        trials=4,
        options={"exhaustive_sizes": (3, 4)},
    ),
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
