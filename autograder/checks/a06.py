"""Checks of assignment 06, recurrent nets: every task against ``course.layers.embedding``, ``rnn``, ``lstm``,
``gru``, ``temporal``, ``course.training.tbptt``, ``course.models.ngram`` and ``course.models.charlm``.

Recurrent backward passes get a random upstream gradient on every time step (and on every output of a
step: next_h and next_c), as the generic pair check does; then each backward pass is run twice on the
same cache and upstream gradients, which must come back unchanged and give the same gradients: an
in-place update of ``dnext_c`` (or of the cache) shows up there. The LSTM sequence is also checked on
the path truncated BPTT and seq2seq use: an initial cell c0 in, the final cell c_T out, dc_T in, dc0 out.
Tasks that are not pure functions (``train_tbptt``, ``sample_next``, ``lstm_init``) are checked on the
calls they make, on sampled frequencies and on properties, never on one exact random draw.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks.core import (
    Spec,
    check_forward,
    check_pair_spec,
    check_seed,
    check_with_reference,
    forward_spec,
    function_spec,
    reference,
)

# ---- inputs -------------------------------------------------------------------------------------------


def _sizes(rng, count: int, low: int = 1, high: int = 5) -> list[int]:
    return [int(v) for v in rng.integers(low, high + 1, size=count)]


def _embedding(rng):
    V, D, N, T = _sizes(rng, 4, 1, 5)
    V, T = V + 1, T + 1
    x = rng.integers(0, V, (N, T))
    x.flat[-1] = x.flat[0]  # at least one id occurs twice: its gradients must add up
    return {"x": x, "W": rng.standard_normal((V, D))}


def _rnn_step(rng):
    N, D, H = _sizes(rng, 3)
    return {
        "x": rng.standard_normal((N, D)),
        "prev_h": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
        "Wh": rng.standard_normal((H, H)) / np.sqrt(H),
        "b": rng.standard_normal(H),
    }


def _rnn_sequence(rng):
    N, T, D, H = _sizes(rng, 4)
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
        "Wh": rng.standard_normal((H, H)) / np.sqrt(H),
        "b": rng.standard_normal(H),
    }


def _gated_step(gates: int):
    def make(rng):
        N, D, H = _sizes(rng, 3)
        inputs = {
            "x": rng.standard_normal((N, D)),
            "prev_h": rng.standard_normal((N, H)),
            "prev_c": rng.standard_normal((N, H)),
            "Wx": rng.standard_normal((D, gates * H)) / np.sqrt(D),
            "Wh": rng.standard_normal((H, gates * H)) / np.sqrt(H),
            "b": rng.standard_normal(gates * H),
        }
        if gates == 3:  # the GRU has no cell
            del inputs["prev_c"]
        return inputs

    return make


def _gated_sequence(gates: int):
    def make(rng):
        N, T, D, H = _sizes(rng, 4)
        return {
            "x": rng.standard_normal((N, T, D)),
            "h0": rng.standard_normal((N, H)),
            "Wx": rng.standard_normal((D, gates * H)) / np.sqrt(D),
            "Wh": rng.standard_normal((H, gates * H)) / np.sqrt(H),
            "b": rng.standard_normal(gates * H),
        }

    return make


def _temporal_affine(rng):
    N, T, D, M = _sizes(rng, 4)
    return {
        "x": rng.standard_normal((N, T, D)),
        "w": rng.standard_normal((D, M)),
        "b": rng.standard_normal(M),
    }


def _temporal_softmax(rng):
    N, T, V = _sizes(rng, 3, 1, 5)
    V += 1
    scale = float(rng.choice([1.0, 10.0, 300.0]))  # scores up to 300: the softmax must not overflow
    mask = rng.random((N, T)) < 0.7
    mask.flat[int(rng.integers(0, N * T))] = True
    return {"x": rng.uniform(-scale, scale, (N, T, V)), "y": rng.integers(0, V, (N, T)), "mask": mask}


# ---- procedures ---------------------------------------------------------------------------------------


def _call(label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(f"{label} is not implemented yet (it raised NotImplementedError).") from None


def _as_tuple(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _shapes(inputs: dict[str, Any]) -> str:
    return ", ".join(f"{k} of shape {np.shape(v)}" for k, v in inputs.items())


def _compare_all(label: str, got: Any, expected: tuple, names: tuple[str, ...], where: str) -> None:
    """Each returned value against the reference's, by name; the count first."""
    if not isinstance(got, tuple) or len(got) != len(expected):
        count = len(got) if isinstance(got, tuple) else type(got).__name__
        raise AssertionError(f"{label} must return {len(expected)} values ({', '.join(names)}), got {count}.")
    for name, g, e in zip(names, got, expected, strict=True):
        check_with_reference(label, g, e, what=f"output {name!r}", inputs=where)


def _check_repeatable(label: str, backward: Callable[..., Any], douts: list, cache: Any, desc: str) -> None:
    """Backward twice on one cache: the upstream gradients untouched, the same gradients both times."""
    kept = [d.copy() for d in douts]
    first = _as_tuple(_call(label, backward, *douts, cache))
    first = tuple(np.array(g, copy=True) if g is not None else None for g in first)
    for d, k in zip(douts, kept, strict=True):
        if not np.array_equal(d, k):
            raise AssertionError(
                f"{label} modified an upstream gradient it was given in place (as the lecture's "
                "'dnext_c += ...' does); build new arrays instead, so the caller's gradients stay intact."
            )
    second = _as_tuple(_call(label, backward, *douts, cache))
    if len(second) != len(first):
        raise AssertionError(f"{label} returned a different number of values on a second call.")
    for i, (g, f) in enumerate(zip(second, first, strict=True)):
        check_with_reference(
            label,
            g,
            f,
            rtol=1e-12,
            atol=1e-12,
            what=f"gradient {i} of a second backward pass on the same cache (the cache must not be changed)",
            inputs=desc,
        )


def _check_backward(spec: Spec, forward: Callable[..., Any], backward: Callable[..., Any]) -> None:
    """The pair against the reference, an upstream gradient on every output (and time step); then
    backward must be repeatable on one cache (nothing it is given is modified in place)."""
    name = spec.takes[0].removesuffix("_forward")
    check_pair_spec(spec, forward, backward)
    rng = np.random.default_rng(check_seed(f"a06.{spec.task}/repeat", 0))
    inputs = dict(spec.inputs(rng))
    result = _as_tuple(_call(f"{name}_forward", forward, **copy.deepcopy(inputs)))
    douts = [rng.standard_normal(np.shape(o)) for o in result[:-1]]
    _check_repeatable(f"{name}_backward", backward, douts, result[-1], _shapes(inputs))
    print(f"ok: {name}_backward leaves its upstream gradients and its cache unchanged")


def _lstm_state_inputs(rng):
    inputs = _gated_sequence(4)(rng)
    inputs["c0"] = rng.standard_normal(inputs["h0"].shape)
    return inputs


def _check_lstm_state_path(name: str, forward: Callable, backward: Callable | None, trials: int) -> None:
    """lstm_forward(..., c0=c0, return_state=True) -> (h, c_T, cache) and, with a backward pass,
    lstm_backward(dh, cache, dcT=dcT, return_state=True) -> (dx, dh0, dc0, dWx, dWh, db)."""
    ref_forward = reference("layers.lstm.lstm_forward")
    ref_backward = reference("layers.lstm.lstm_backward")
    for trial in range(trials):
        rng = np.random.default_rng(check_seed(f"a06.{name}/state", trial))
        inputs = _lstm_state_inputs(rng)
        desc = _shapes(inputs) + ", return_state=True"
        got = _call(name, forward, **copy.deepcopy(inputs), return_state=True)
        expected = ref_forward(**copy.deepcopy(inputs), return_state=True)
        if not isinstance(got, tuple) or len(got) != 3:
            raise AssertionError(
                f"{name}(..., c0=c0, return_state=True) must return (h, c_T, cache), got "
                f"{len(got) if isinstance(got, tuple) else type(got).__name__}."
            )
        _compare_all(name, got[:2], expected[:2], ("h", "c_T"), desc)
        if backward is None:
            continue
        dh = rng.standard_normal(expected[0].shape)
        dcT = rng.standard_normal(expected[1].shape)
        label = "lstm_backward(dh, cache, dcT=dcT, return_state=True)"
        grads = _call(label, backward, dh.copy(), got[2], dcT=dcT.copy(), return_state=True)
        ref_grads = ref_backward(dh.copy(), expected[2], dcT=dcT.copy(), return_state=True)
        names = ("dx", "dh0", "dc0", "dWx", "dWh", "db")
        _compare_all(label, grads, ref_grads, names, desc + ", random dh and dcT")
        _check_repeatable(
            label, lambda d, c, cache: backward(d, cache, dcT=c, return_state=True), [dh, dcT], got[2], desc
        )
    print(f"ok: {name} agrees with the reference with c0 given and the final cell returned")


def _check_lstm_forward(spec: Spec, lstm_forward: Callable) -> None:
    """The default path (h0 only, h returned), then c0 in and the final cell out."""
    check_forward(
        lstm_forward,
        spec.reference,
        spec.inputs,
        trials=spec.trials,
        output_names=("h",),
        label="lstm_forward",
    )
    _check_lstm_state_path("lstm_forward", lstm_forward, None, trials=2)


def _check_lstm_backward(spec: Spec, lstm_forward: Callable, lstm_backward: Callable) -> None:
    _check_backward(spec, lstm_forward, lstm_backward)
    _check_lstm_state_path("lstm_forward", lstm_forward, lstm_backward, trials=2)


def _check_lstm_init(spec: Spec, lstm_init: Callable) -> None:
    """Shapes, dtype; b zero but for the forget block; each (H, H) block of Wh orthogonal; Wx ~ N(0, 1/D)."""
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(f"a06.{spec.task}", trial))
        D, H = int(rng.choice([24, 48])), int(rng.choice([8, 12]))
        forget_bias = float(rng.choice([0.0, 1.0, 2.5]))
        dtype = (np.float32, np.float64)[trial % 2]
        where = f"D={D}, H={H}, forget_bias={forget_bias}, dtype={np.dtype(dtype).name}"
        got = _call(
            "lstm_init", lstm_init, D, H, np.random.default_rng(trial), forget_bias=forget_bias, dtype=dtype
        )
        if not (isinstance(got, tuple) and len(got) == 3):
            raise AssertionError("lstm_init must return the triple (Wx, Wh, b).")
        for name, value, shape in zip(
            ("Wx", "Wh", "b"), got, ((D, 4 * H), (H, 4 * H), (4 * H,)), strict=True
        ):
            if np.shape(value) != shape:
                raise AssertionError(
                    f"lstm_init: {name} has shape {np.shape(value)}, expected {shape} ({where})."
                )
            if np.asarray(value).dtype != dtype:
                raise AssertionError(
                    f"lstm_init: {name} has dtype {np.asarray(value).dtype}, expected the dtype argument "
                    f"({where})."
                )
        Wx, Wh, b = (np.asarray(v, dtype=np.float64) for v in got)
        expected_b = np.zeros(4 * H)
        expected_b[H : 2 * H] = forget_bias
        check_with_reference(
            "lstm_init",
            b,
            expected_b,
            rtol=0,
            atol=1e-7,
            what="b (zero, the forget block forget_bias)",
            inputs=where,
        )
        for block in range(4):
            Q = Wh[:, block * H : (block + 1) * H]
            if not np.allclose(Q.T @ Q, np.eye(H), atol=1e-5):
                raise AssertionError(
                    f"lstm_init: block {block} of Wh (columns {block * H}:{(block + 1) * H}) is not "
                    f"orthogonal (Q^T Q != I) ({where})."
                )
        std, mean = float(Wx.std()), float(Wx.mean())
        target = 1 / np.sqrt(D)
        if not (abs(std / target - 1) < 0.1 and abs(mean) < 4 * target / np.sqrt(Wx.size)):
            raise AssertionError(
                f"lstm_init: Wx has mean {mean:.3g} and standard deviation {std:.3g}, expected entries drawn "
                f"from N(0, 1/D) ({where})."
            )
        again = _call(
            "lstm_init",
            lstm_init,
            D,
            H,
            np.random.default_rng(trial + 100),
            forget_bias=forget_bias,
            dtype=dtype,
        )
        if np.allclose(np.asarray(again[0]), got[0]):
            raise AssertionError("lstm_init: Wx is the same for two different generators: draw it from rng.")
    print(
        f"ok: lstm_init has the right shapes, biases, orthogonal blocks and scale on {spec.trials} settings"
    )


class _Recorder:
    """A stand-in model and optimizer for ``train_tbptt`` that log every call, so that two training loops
    can be compared call by call. Its state depends on the whole history of the current pass."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.forwards: list[tuple[np.ndarray, Any]] = []
        self.final_state: Any = None
        self.callbacks: list[tuple[int, float]] = []

    def forward(self, inputs, state=None):
        self.events.append("forward")
        received = None if state is None else np.array(state, dtype=np.float64, copy=True).reshape(-1)
        self.forwards.append((np.array(inputs, copy=True), received))
        base = np.zeros(inputs.shape[0]) if state is None else received
        self.final_state = base + inputs.sum(axis=1) + 1.0  # (N,)
        return (inputs + base[:, None])[..., None] * np.array([1.0, -0.5, 0.25])  # (N, k, 3)

    def backward(self, dscores):
        self.events.append("backward")

    def zero_grad(self):
        self.events.append("zero_grad")

    def step(self):
        self.events.append("step")

    def loss_fn(self, scores, targets):
        residual = scores[..., 0] - targets
        return float(np.mean(residual**2)), np.zeros_like(scores)

    def callback(self, step, loss):
        self.callbacks.append((int(step), float(loss)))


def _updates_are_well_formed(events: list[str]) -> str | None:
    """None if every update is zero_grad (since the last step) -> ... -> backward -> step."""
    zeroed, backed = False, False
    for event in events:
        if event == "zero_grad":
            zeroed = True
        elif event == "backward":
            if not zeroed:
                return "call optimizer.zero_grad() before every backward pass (gradients accumulate)."
            backed = True
        elif event == "step":
            if not backed:
                return "call model.backward(dscores) before every optimizer.step()."
            zeroed, backed = False, False
    return None


def _check_train_tbptt(spec: Spec, train_tbptt: Callable) -> None:
    """The student's loop and the reference's on the same recording stand-in model: the same chunks, the
    same states carried in (None at the start of each pass), the same losses, callbacks and updates."""
    ref = reference(spec.reference)
    cases = []
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(f"a06.{spec.task}", trial))
        N, L, k = int(rng.integers(1, 4)), int(rng.integers(8, 20)), int(rng.integers(2, 7))
        chunks = (L - 2) // k + 1  # chunks in one pass over the streams
        if trial == 0:
            limits = {"time_budget_s": 0.0}  # a budget of 0 s: exactly one update
        elif trial == 1:
            limits = {"max_steps": 3, "time_budget_s": 1e9}
        else:  # two passes and part of a third: the state must restart from None at each pass
            limits = {"max_steps": 2 * chunks + int(rng.integers(1, chunks + 1))}
        cases.append((rng.integers(0, 9, (N, L)), k, limits))
    for streams, k, limits in cases:
        where = f"streams of shape {streams.shape}, k={k}, " + ", ".join(
            f"{a}={b}" for a, b in limits.items()
        )
        student, expected = _Recorder(), _Recorder()
        losses = _call(
            "train_tbptt",
            train_tbptt,
            student,
            streams.copy(),
            k,
            student.loss_fn,
            student,
            callback=student.callback,
            **limits,
        )
        ref_losses = ref(
            expected, streams.copy(), k, expected.loss_fn, expected, callback=expected.callback, **limits
        )
        if not isinstance(losses, list) or len(losses) != len(ref_losses):
            got = len(losses) if isinstance(losses, list) else type(losses).__name__
            raise AssertionError(
                f"train_tbptt must return the list of losses, one per update; got {got} values ({where})."
            )
        steps = student.events.count("step")
        if steps != len(ref_losses):
            raise AssertionError(f"train_tbptt made {steps} optimizer steps, not one per update ({where}).")
        problem = _updates_are_well_formed(student.events)
        if problem:
            raise AssertionError(f"train_tbptt: {problem} ({where})")
        if len(student.forwards) != len(expected.forwards):
            raise AssertionError(
                f"train_tbptt ran {len(student.forwards)} forward passes for {steps} updates."
            )
        for j, ((inp, state), (ref_inp, ref_state)) in enumerate(zip(student.forwards, expected.forwards)):
            if inp.shape != ref_inp.shape or not np.array_equal(inp, ref_inp):
                raise AssertionError(
                    f"train_tbptt: the inputs of update {j + 1} are not the next chunk of k steps of the "
                    f"streams ({where}); use tbptt_chunks(streams, k) and start again at the end."
                )
            if (state is None) != (ref_state is None):
                when = "at the start of a pass over the streams" if ref_state is None else "within a pass"
                raise AssertionError(
                    f"train_tbptt: update {j + 1} (which comes {when}) received state "
                    f"{'None' if state is None else 'a carried state'}; start each pass from None and "
                    f"carry model.final_state from one chunk to the next ({where})."
                )
            if state is not None and not np.allclose(state, ref_state):
                raise AssertionError(
                    f"train_tbptt: update {j + 1} did not receive the final state of the chunk before it "
                    f"({where})."
                )
        check_with_reference(
            "train_tbptt",
            np.array(losses, dtype=np.float64),
            np.array(ref_losses),
            what="the list of losses",
            inputs=where,
        )
        if [c[0] for c in student.callbacks] != [c[0] for c in expected.callbacks]:
            raise AssertionError(
                f"train_tbptt must call callback(step, loss) after every update with step = 1, 2, ... "
                f"({where})."
            )
        check_with_reference(
            "train_tbptt",
            np.array([c[1] for c in student.callbacks]),
            np.array([c[1] for c in expected.callbacks]),
            what="the losses given to callback",
            inputs=where,
        )
    print(f"ok: train_tbptt makes the reference's calls on {len(cases)} stream sets")


def _check_ngram_log_probs(spec: Spec, NGramLM: type) -> None:
    """The student's NGramLM (the library's counting, their log_probs) against the reference's."""
    ref_class = reference(spec.reference)
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(f"a06.{spec.task}", trial))
        V, n = int(rng.integers(2, 6)), int(rng.integers(1, 5))
        k = float(rng.choice([1.0, 0.5, 0.01]))
        probs = rng.dirichlet(np.ones(V) * 0.5)  # a skewed alphabet: some n-grams common, some unseen
        train, test = rng.choice(V, 150, p=probs), rng.integers(0, V, int(rng.integers(n, 40)))
        where = f"n={n}, V={V}, k={k}, {len(train)} training ids, {len(test)} test ids"
        model = _call("NGramLM", NGramLM, n, V, k)
        _call("NGramLM.fit", model.fit, train.copy())
        got = _call("NGramLM.log_probs", model.log_probs, test.copy())
        expected = ref_class(n, V, k).fit(train.copy()).log_probs(test.copy())
        check_with_reference(
            "NGramLM.log_probs",
            got,
            expected,
            rtol=1e-9,
            atol=1e-12,
            what="the log-probabilities",
            inputs=where,
        )
    print(f"ok: NGramLM.log_probs agrees with the reference on {spec.trials} random texts")


def _check_sample_next(spec: Spec, sample_next: Callable) -> None:
    """Greedy at temperature 0; a Python int; the frequencies of many draws against
    softmax(scores / temperature) (restricted to the top k); nothing drawn outside the top k."""
    softmax = reference("layers.losses.softmax")
    draws, tol = spec.options["draws"], spec.options["tol"]
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(f"a06.{spec.task}", trial))
        V = int(rng.integers(3, 7))
        scores = rng.standard_normal(V) * 1.5
        scores = scores.astype(np.float32) if trial % 2 else scores
        greedy = _call("sample_next", sample_next, scores.copy(), np.random.default_rng(0), 0.0)
        if not isinstance(greedy, (int, np.integer)) or isinstance(greedy, bool):
            raise AssertionError(f"sample_next must return an int (an id), got {type(greedy).__name__}.")
        if int(greedy) != int(np.argmax(scores)):
            raise AssertionError("sample_next with temperature 0 must return the argmax of the scores.")
        top1 = _call("sample_next", sample_next, scores.copy(), np.random.default_rng(1), 1.0, top_k=1)
        if int(top1) != int(np.argmax(scores)):
            raise AssertionError("sample_next with top_k=1 must return the argmax of the scores.")
        temperature = float(rng.choice([0.5, 1.0, 2.0]))
        top_k = None if trial < 2 else int(rng.integers(2, V))
        logits = scores.astype(np.float64) / temperature
        if top_k is not None:
            keep = np.argsort(-logits, kind="stable")[:top_k]
            logits = np.where(np.isin(np.arange(V), keep), logits, -np.inf)
        expected = softmax(logits)
        draw_rng = np.random.default_rng(check_seed(f"a06.{spec.task}/draws", trial))
        counts = np.zeros(V)
        for _ in range(draws):
            i = int(_call("sample_next", sample_next, scores.copy(), draw_rng, temperature, top_k=top_k))
            if not 0 <= i < V:
                raise AssertionError(f"sample_next returned {i}, outside [0, V) for V={V}.")
            counts[i] += 1
        where = f"V={V}, temperature={temperature}, top_k={top_k}"
        if np.any(counts[expected == 0] > 0):
            raise AssertionError(f"sample_next drew an id outside the top k ({where}).")
        off = float(np.max(np.abs(counts / draws - expected)))
        if off > tol:
            raise AssertionError(
                f"sample_next: the frequencies of {draws} draws differ from softmax(scores / temperature) "
                f"by up to {off:.3f} (allowed {tol}) ({where}); divide the scores by the temperature "
                "before the softmax and draw with the rng you are given."
            )
    print(f"ok: sample_next draws from softmax(scores / temperature) on {spec.trials} score vectors")


# ---- specifications -----------------------------------------------------------------------------------

RNN_GRADS = ("x", "prev_h", "Wx", "Wh", "b")
SEQUENCE_GRADS = ("x", "h0", "Wx", "Wh", "b")

SPECS = [
    forward_spec("word_embedding_forward", "layers.embedding.word_embedding_forward", _embedding, trials=3),
    Spec(
        "word_embedding_backward",
        ("word_embedding_forward", "word_embedding_backward"),
        _check_backward,
        "layers.embedding.word_embedding",
        _embedding,
        trials=4,
        grads=("W",),
    ),
    forward_spec("rnn_step_forward", "layers.rnn.rnn_step_forward", _rnn_step, outputs=("next_h",)),
    Spec(
        "rnn_step_backward",
        ("rnn_step_forward", "rnn_step_backward"),
        _check_backward,
        "layers.rnn.rnn_step",
        _rnn_step,
        trials=3,
        outputs=("next_h",),
        grads=RNN_GRADS,
    ),
    forward_spec("rnn_forward", "layers.rnn.rnn_forward", _rnn_sequence, outputs=("h",)),
    Spec(
        "rnn_backward",
        ("rnn_forward", "rnn_backward"),
        _check_backward,
        "layers.rnn.rnn",
        _rnn_sequence,
        trials=3,
        outputs=("h",),
        grads=SEQUENCE_GRADS,
    ),
    forward_spec(
        "lstm_step_forward", "layers.lstm.lstm_step_forward", _gated_step(4), outputs=("next_h", "next_c")
    ),
    Spec(
        "lstm_step_backward",
        ("lstm_step_forward", "lstm_step_backward"),
        _check_backward,
        "layers.lstm.lstm_step",
        _gated_step(4),
        trials=3,
        outputs=("next_h", "next_c"),
        grads=("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
    ),
    Spec(
        "lstm_forward",
        ("lstm_forward",),
        _check_lstm_forward,
        "layers.lstm.lstm_forward",
        _gated_sequence(4),
        trials=3,
    ),
    Spec(
        "lstm_backward",
        ("lstm_forward", "lstm_backward"),
        _check_lstm_backward,
        "layers.lstm.lstm",
        _gated_sequence(4),
        trials=3,
        outputs=("h",),
        grads=SEQUENCE_GRADS,
    ),
    Spec("lstm_init", ("lstm_init",), _check_lstm_init, "layers.lstm.lstm_init", trials=3),
    forward_spec("gru_step_forward", "layers.gru.gru_step_forward", _gated_step(3), outputs=("next_h",)),
    Spec(
        "gru_step_backward",
        ("gru_step_forward", "gru_step_backward"),
        _check_backward,
        "layers.gru.gru_step",
        _gated_step(3),
        trials=3,
        outputs=("next_h",),
        grads=RNN_GRADS,
    ),
    forward_spec("gru_forward", "layers.gru.gru_forward", _gated_sequence(3), outputs=("h",)),
    Spec(
        "gru_backward",
        ("gru_forward", "gru_backward"),
        _check_backward,
        "layers.gru.gru",
        _gated_sequence(3),
        trials=3,
        outputs=("h",),
        grads=SEQUENCE_GRADS,
    ),
    forward_spec("temporal_affine_forward", "layers.temporal.temporal_affine_forward", _temporal_affine),
    Spec(
        "temporal_affine_backward",
        ("temporal_affine_forward", "temporal_affine_backward"),
        _check_backward,
        "layers.temporal.temporal_affine",
        _temporal_affine,
        trials=3,
        grads=("x", "w", "b"),
    ),
    function_spec(
        "temporal_softmax_loss",
        "layers.temporal.temporal_softmax_loss",
        _temporal_softmax,
        trials=5,
        outputs=("loss", "dx"),
    ),
    Spec("train_tbptt", ("train_tbptt",), _check_train_tbptt, "training.tbptt.train_tbptt", trials=5),
    Spec("ngram_log_probs", ("NGramLM",), _check_ngram_log_probs, "models.ngram.NGramLM", trials=5),
    Spec(
        "sample_next",
        ("sample_next",),
        _check_sample_next,
        "models.charlm.sample_next",
        trials=4,
        options={"draws": 3000, "tol": 0.045},
    ),
]
