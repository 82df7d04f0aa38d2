"""Checks of assignment 07, sequence to sequence and attention: every task against ``layers.attention``,
``models.seq2seq`` and ``models.decoding`` on random inputs.

- Attention pairs: the forward outputs (context or out, and the weights) and the backward's gradients are
  compared with the reference on random sizes, with and without right-padded masks, with a random upstream
  gradient on both outputs; then the student's pair is gradient-checked against central differences on
  fresh inputs (float64). Those gradient checks use the threshold 1e-5 rather than the library's 1e-7: on
  random inputs an entry of a gradient can cancel to ~1e-5 of the others, and the centred difference's
  round-off is then that large relative to it for a correct pass; a wrong term still gives errors of order
  0.1 to 1.
- The encoder-decoder: a tiny random model (float64, attention weights scaled up so that they matter) and
  a random right-padded batch; the decoder step's and the whole pass's outputs, and every gradient by name.
- The decoders: random recurrent step functions defined here (no library code in the model), tokens
  compared exactly and scores to 1e-6; beam widths at most V, so that every beam is a finite-scoring
  sequence and no tie decides the result. Beam search is also checked against an exhaustive search.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks.core import (
    Spec,
    check_function,
    check_pair_spec,
    check_seed,
    check_with_reference,
    forward_spec,
    function_spec,
    public_seed,
    reference,
)

GRADCHECK_TOL = 1e-5  # see the module docstring
START, END = 0, 1  # the start and end tokens of the random step functions


# ---- inputs: attention ----------------------------------------------------------------------------------


def _padding(rng, n: int, t: int) -> np.ndarray:
    """A right-padded keep mask (N, T): random lengths 1..T, one row at full length."""
    lengths = rng.integers(1, t + 1, size=n)
    lengths[0] = t
    return np.arange(t)[None, :] < lengths[:, None]


def _maybe_padding(rng, n: int, t: int) -> np.ndarray | None:
    return _padding(rng, n, t) if rng.random() < 0.6 else None


def _sizes(rng) -> tuple[int, int, int]:
    return int(rng.integers(1, 5)), int(rng.integers(1, 7)), int(rng.integers(1, 5))  # N, T, H


def _position(rng):
    n, t, h = _sizes(rng)
    return {
        "E": rng.standard_normal((n, t, h)),
        "mu": rng.uniform(-1.0, t, n),
        "sigma": rng.uniform(0.4, 3.0, n),
        "mask": _maybe_padding(rng, n, t),
    }


def _dot(rng):
    n, t, h = _sizes(rng)
    return {
        "E": rng.standard_normal((n, t, h)),
        "d": rng.standard_normal((n, h)),
        "mask": _maybe_padding(rng, n, t),
    }


def _additive(rng):
    n, t, h = _sizes(rng)
    hd, a = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    return {
        "E": rng.standard_normal((n, t, h)),
        "d": rng.standard_normal((n, hd)),
        "W1": 0.5 * rng.standard_normal((h, a)),
        "W2": 0.5 * rng.standard_normal((hd, a)),
        "v": rng.standard_normal(a),
        "mask": _maybe_padding(rng, n, t),
    }


def _additive_step(rng):
    x = _additive(rng)
    return {
        "E": x["E"],
        "keys": x["E"] @ x["W1"],
        "d": x["d"],
        "W2": x["W2"],
        "v": x["v"],
        "mask": x["mask"],
    }


def _self_attention(rng):
    n, t, d = _sizes(rng)
    dk, dv = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    return {
        "X": rng.standard_normal((n, t, d)),
        "Wq": rng.standard_normal((d, dk)),
        "Wk": rng.standard_normal((d, dk)),
        "Wv": rng.standard_normal((d, dv)),
        "key_mask": _maybe_padding(rng, n, t),
        "causal": bool(rng.random() < 0.5),
    }


def _ntm(rng, zero_rows: bool = True):
    n, r, d = int(rng.integers(1, 5)), int(rng.integers(1, 7)), int(rng.integers(1, 5))
    M = rng.standard_normal((n, r, d))
    if zero_rows and rng.random() < 0.3:
        M[0, 0] = 0.0  # an empty memory row: cosine 0 thanks to the eps in the norms
    return {"M": M, "k": rng.standard_normal((n, d)), "beta_hat": rng.uniform(-3.0, 5.0, n)}


# ---- procedures: attention ------------------------------------------------------------------------------


def _check_attention_pair(spec: Spec, forward, backward) -> None:
    """The pair against the reference (``spec.trials`` input sets, random upstream gradients on every
    output), then ``options['gradchecks']`` gradient checks of the student's pair on fresh inputs; the
    arguments in ``options['bind']`` (masks, flags) are bound, the others differentiated."""
    name = spec.takes[0].removesuffix("_forward")
    check_pair_spec(spec, forward, backward)
    check_pair = reference("core.gradcheck.check_pair")
    make = spec.options.get("gradcheck_inputs", spec.inputs)
    bind, count = spec.options.get("bind", ()), spec.options["gradchecks"]
    for trial in range(count):
        inputs = make(np.random.default_rng(public_seed(f"{spec.reference}_gradcheck", trial)))
        bound = {k: inputs[k] for k in bind}
        try:
            check_pair(
                functools.partial(forward, **bound),
                backward,
                {k: v for k, v in inputs.items() if k not in bind},
                tol=GRADCHECK_TOL,
                context=f"{name}_backward"
                + (", with a mask" if any(v is not None and v is not False for v in bound.values()) else ""),
            )
        except NotImplementedError:
            raise AssertionError(
                f"{name}_backward is not implemented yet (it raised NotImplementedError)."
            ) from None
    print(f"ok: {name}_backward passes {count} gradient checks on random inputs")


def _attention_pair(task: str, prefix: str, inputs: Callable, grads: tuple[str, ...], outputs, bind, **kw):
    return Spec(
        task,
        (f"{task.removesuffix('_backward')}_forward", task),
        _check_attention_pair,
        reference=prefix,
        inputs=inputs,
        trials=3,
        outputs=outputs,
        grads=grads,
        options={"gradchecks": 2, "bind": bind, **kw},
    )


# ---- the encoder-decoder --------------------------------------------------------------------------------


def _tiny_params(rng) -> dict[str, np.ndarray]:
    vs, vt = int(rng.integers(4, 8)), int(rng.integers(4, 7))
    e, h, a = (int(v) for v in rng.integers(2, 5, size=3))
    params = reference("models.seq2seq.init_seq2seq_params")(vs, vt, e, h, a, rng, np.float64)
    for name in ("att_W1", "att_W2", "att_v"):
        params[name] = 3 * params[name]  # sharper attention, so that a wrong attention term shows
    return params


def _batch(rng, params) -> dict[str, np.ndarray]:
    """A right-padded source batch and teacher-forced decoder inputs (start token, then ids >= 3)."""
    vs, vt = params["src_embed"].shape[0], params["tgt_embed"].shape[0]
    n, ts, tt = int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
    src_mask = _padding(rng, n, ts)
    src = np.where(src_mask, rng.integers(3, vs, size=(n, ts)), 0)
    tgt_in = rng.integers(3, vt, size=(n, tt))
    tgt_in[:, 0] = 1  # the start id
    tgt_in[:, 1:] = np.where(_padding(rng, n, tt)[:, 1:], tgt_in[:, 1:], 0)
    return {"src": src, "src_mask": src_mask, "tgt_in": tgt_in}


def _decoder_step(rng):
    params = _tiny_params(rng)
    n, ts = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    h = params["enc_Wh"].shape[0]
    enc = rng.standard_normal((n, ts, h)) * 0.5
    return {
        "y_emb": rng.standard_normal((n, params["tgt_embed"].shape[1])),
        "prev_h": 0.5 * rng.standard_normal((n, h)),
        "prev_c": 0.5 * rng.standard_normal((n, h)),
        "enc": enc,
        "keys": enc @ params["att_W1"],
        "src_mask": _padding(rng, n, ts),
        "params": params,
    }


def _seq2seq(rng):
    params = _tiny_params(rng)
    return {"params": params, **_batch(rng, params)}


def _call(label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(f"{label} is not implemented yet (it raised NotImplementedError).") from None


def _compare_grads(label: str, got: Any, expected: dict, rtol: float, atol: float, inputs: str) -> None:
    if not isinstance(got, dict):
        raise AssertionError(f"{label} must return a dict of parameter gradients, got {type(got).__name__}.")
    if set(got) != set(expected):
        raise AssertionError(
            f"{label}'s gradient dict has the keys {sorted(got)}; it needs one entry per parameter: "
            f"{sorted(expected)}."
        )
    for name in sorted(expected):
        check_with_reference(
            label, got[name], expected[name], rtol=rtol, atol=atol, what=f"grads[{name!r}]", inputs=inputs
        )


def _check_decoder_step_backward(spec: Spec, forward, backward) -> None:
    """The step's outputs, then its backward from the student's own cache, against the reference."""
    ref_forward = reference("models.seq2seq.decoder_step_forward")
    ref_backward = reference("models.seq2seq.decoder_step_backward")
    names = ("dy_emb", "dprev_h", "dprev_c", "denc", "dkeys")
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        inputs = _decoder_step(rng)
        n, ts = inputs["enc"].shape[:2]
        desc = f"a random model and batch of {n} rows, {ts} source positions"
        got = _call("decoder_step_forward", forward, **copy.deepcopy(inputs))
        expected = ref_forward(**copy.deepcopy(inputs))
        if not isinstance(got, tuple) or len(got) != 5:
            raise AssertionError("decoder_step_forward must return (h, c, context, a, cache).")
        for what, g, e in zip(("h", "c", "context", "a"), got[:4], expected[:4], strict=True):
            check_with_reference(
                "decoder_step_forward", g, e, rtol=spec.rtol, atol=spec.atol, what=what, inputs=desc
            )
        n, h = inputs["prev_h"].shape
        douts = [rng.standard_normal((n, h)) for _ in range(3)]
        got_grads = _call("decoder_step_backward", backward, *[d.copy() for d in douts], got[4])
        ref_grads = ref_backward(*[d.copy() for d in douts], expected[4])
        if not isinstance(got_grads, tuple) or len(got_grads) != 6:
            raise AssertionError(
                "decoder_step_backward must return (dy_emb, dprev_h, dprev_c, denc, dkeys, grads)."
            )
        for what, g, e in zip(names, got_grads[:5], ref_grads[:5], strict=True):
            check_with_reference(
                "decoder_step_backward",
                g,
                e,
                rtol=spec.rtol,
                atol=spec.atol,
                what=what,
                inputs=desc + ", random dh",
            )
        _compare_grads("decoder_step_backward", got_grads[5], ref_grads[5], spec.rtol, spec.atol, desc)
    print(
        "ok: decoder_step_forward and decoder_step_backward agree with the reference on "
        f"{spec.trials} random models"
    )


def _check_seq2seq_backward(spec: Spec, forward, backward) -> None:
    """The teacher-forced pass and every parameter's gradient against the reference."""
    ref_forward = reference("models.seq2seq.seq2seq_forward")
    ref_backward = reference("models.seq2seq.seq2seq_backward")
    for trial in range(spec.trials):
        rng = np.random.default_rng(check_seed(spec.reference, trial))
        inputs = _seq2seq(rng)
        desc = f"a random model, src of shape {inputs['src'].shape}, tgt_in of shape {inputs['tgt_in'].shape}"
        got = _call("seq2seq_forward", forward, **copy.deepcopy(inputs))
        expected = ref_forward(**copy.deepcopy(inputs))
        if not isinstance(got, tuple) or len(got) != 3:
            raise AssertionError("seq2seq_forward must return (logits, attn, cache).")
        for what, g, e in zip(("logits", "attn"), got[:2], expected[:2], strict=True):
            check_with_reference(
                "seq2seq_forward", g, e, rtol=spec.rtol, atol=spec.atol, what=what, inputs=desc
            )
        dlogits = rng.standard_normal(np.shape(expected[0]))
        got_grads = _call("seq2seq_backward", backward, dlogits.copy(), got[2])
        _compare_grads(
            "seq2seq_backward",
            got_grads,
            ref_backward(dlogits.copy(), expected[2]),
            spec.rtol,
            spec.atol,
            desc + ", random dlogits",
        )
    print(f"ok: seq2seq_forward and seq2seq_backward agree with the reference on {spec.trials} random models")


# ---- the decoders ---------------------------------------------------------------------------------------


class _RandomRNN:
    """A random recurrent step function over V tokens: h' = tanh(h W + U[prev]), log_softmax(h' O)."""

    def __init__(self, rng, V: int, H: int = 5) -> None:
        self.W, self.U = rng.standard_normal((H, H)), rng.standard_normal((V, H))
        self.O = 2 * rng.standard_normal((H, V))

    def __call__(self, prev: Any, h: Any) -> tuple[np.ndarray, np.ndarray]:
        h = np.tanh(h @ self.W + self.U[np.asarray(prev)])
        z = h @ self.O
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True)), h


def _decoding(rng) -> dict[str, Any]:
    V, n = int(rng.integers(3, 7)), int(rng.integers(1, 7))
    return {
        "step_fn": _RandomRNN(rng, V),
        "state": rng.standard_normal((n, 5)),
        "start_token": START,
        "max_len": int(rng.integers(1, 8)),
        "n": n,
        "end_token": None if rng.random() < 0.25 else END,
    }


def _sampling(rng) -> dict[str, Any]:
    inputs = _decoding(rng)
    inputs["n"] = n = int(rng.integers(20, 60))  # enough rows that a wrong distribution shows
    inputs["state"] = rng.standard_normal((n, 5))
    return {
        **inputs,
        "rng": np.random.default_rng(int(rng.integers(2**31))),
        "temperature": float(rng.choice([0.5, 1.0, 2.0])),
    }


def _beam(rng) -> dict[str, Any]:
    inputs = _decoding(rng)
    V = inputs["step_fn"].U.shape[0]
    return {
        **inputs,
        "beam_width": int(rng.integers(1, V + 1)),
        "length_alpha": float(rng.choice([0.0, 0.6, 1.0])),
    }


def _check_beam_search(spec: Spec, beam_search) -> None:
    """Against the reference on random models, then a beam holding every sequence vs exhaustive search."""
    check_function(
        beam_search,
        spec.reference,
        spec.inputs,
        trials=spec.trials,
        output_names=("tokens", "scores"),
        label="beam_search",
    )
    exhaustive = reference("models.decoding.exhaustive_search")
    count = spec.options["exhaustive"]
    for trial in range(count):
        rng = np.random.default_rng(check_seed("a07.beam_search_exhaustive", trial))
        V, T = int(rng.integers(3, 5)), int(rng.integers(2, 5))
        model, h0 = _RandomRNN(rng, V), rng.standard_normal((1, 5))
        alpha = float(rng.choice([0.0, 1.0]))
        best, best_score = exhaustive(model, h0, START, T, V, END, alpha)
        got = _call(
            "beam_search",
            beam_search,
            model,
            h0.copy(),
            START,
            max_len=T,
            n=1,
            beam_width=V**T,
            end_token=END,
            length_alpha=alpha,
        )
        inputs = (
            f"V = {V}, max_len = {T}, a beam of V**max_len holding every sequence, length_alpha = {alpha}"
        )
        check_with_reference(
            "beam_search", np.asarray(got[0])[0, 0], best, what="the best beam", inputs=inputs
        )
        check_with_reference(
            "beam_search", np.asarray(got[1])[0, 0], best_score, what="its score", inputs=inputs
        )
    print(f"ok: beam_search finds the exact best sequence of exhaustive search on {count} small models")


SPECS = [
    forward_spec(
        "position_attention_forward",
        "layers.attention.position_attention_forward",
        _position,
        outputs=("context", "a"),
    ),
    _attention_pair(
        "position_attention_backward",
        "layers.attention.position_attention",
        _position,
        ("E", "mu", "sigma"),
        ("context", "a"),
        ("mask",),
    ),
    forward_spec(
        "dot_attention_forward", "layers.attention.dot_attention_forward", _dot, outputs=("context", "a")
    ),
    _attention_pair(
        "dot_attention_backward",
        "layers.attention.dot_attention",
        _dot,
        ("E", "d"),
        ("context", "a"),
        ("mask",),
    ),
    forward_spec(
        "additive_attention_step_forward",
        "layers.attention.additive_attention_step_forward",
        _additive_step,
        outputs=("context", "a"),
    ),
    _attention_pair(
        "additive_attention_step_backward",
        "layers.attention.additive_attention_step",
        _additive_step,
        ("E", "keys", "d", "W2", "v"),
        ("context", "a"),
        ("mask",),
    ),
    forward_spec(
        "additive_attention_forward",
        "layers.attention.additive_attention_forward",
        _additive,
        outputs=("context", "a"),
    ),
    _attention_pair(
        "additive_attention_backward",
        "layers.attention.additive_attention",
        _additive,
        ("E", "d", "W1", "W2", "v"),
        ("context", "a"),
        ("mask",),
    ),
    forward_spec(
        "ntm_content_addressing_forward",
        "layers.attention.ntm_content_addressing_forward",
        _ntm,
        outputs=("w",),
    ),
    _attention_pair(
        "ntm_content_addressing_backward",
        "layers.attention.ntm_content_addressing",
        _ntm,
        ("M", "k", "beta_hat"),
        ("w",),
        (),
        gradcheck_inputs=functools.partial(_ntm, zero_rows=False),
    ),
    forward_spec(
        "self_attention_forward",
        "layers.attention.self_attention_forward",
        _self_attention,
        outputs=("out", "A"),
    ),
    _attention_pair(
        "self_attention_backward",
        "layers.attention.self_attention",
        _self_attention,
        ("X", "Wq", "Wk", "Wv"),
        ("out", "A"),
        ("key_mask", "causal"),
    ),
    forward_spec(
        "decoder_step_forward",
        "models.seq2seq.decoder_step_forward",
        _decoder_step,
        outputs=("h", "c", "context", "a"),
    ),
    Spec(
        "decoder_step_backward",
        ("decoder_step_forward", "decoder_step_backward"),
        _check_decoder_step_backward,
        reference="models.seq2seq.decoder_step",
        trials=3,
    ),
    forward_spec("seq2seq_forward", "models.seq2seq.seq2seq_forward", _seq2seq, outputs=("logits", "attn")),
    Spec(
        "seq2seq_backward",
        ("seq2seq_forward", "seq2seq_backward"),
        _check_seq2seq_backward,
        reference="models.seq2seq.seq2seq",
        trials=3,
    ),
    function_spec(
        "greedy_decode", "models.decoding.greedy_decode", _decoding, trials=4, outputs=("tokens", "scores")
    ),
    function_spec(
        "sample_decode", "models.decoding.sample_decode", _sampling, trials=4, outputs=("tokens", "scores")
    ),
    Spec(
        "beam_search",
        ("beam_search",),
        _check_beam_search,
        reference="models.decoding.beam_search",
        inputs=_beam,
        trials=5,
        options={"exhaustive": 3},
    ),
]
