"""Pointer networks (lecture 003, "Pointer Networks"; Vinyals, Fortunato and Jaitly 2015).

A sequence-to-sequence model whose output vocabulary *is its input*: at each decoding step the
attention weights over the n encoder states are themselves the output distribution,

    u_j = v^T tanh(W1 e_j + W2 d_t),    p(y_t = j | y_<t, x) = softmax_j(u_j)   (j = 1 .. n)

so the same network handles any n and can only answer with positions it was given (sorting, convex
hulls, travelling-salesman tours; see ``course.data.combinatorial`` for the tasks and exact solvers).

The pieces:
- encoder: an input embedding x_j W_e + b_e followed by an LSTM, giving e_1 .. e_n;
- decoder: an LSTM started from the encoder's final (h, c); its input at step 0 is a learned ``go``
  vector and at step t > 0 the embedding of the position chosen at t - 1 (the true one during training:
  teacher forcing);
- pointer scores (``pointer_scores_forward/backward``): the additive attention scores above, with the
  positions that may not be chosen *masked*: their score is set to ``MASK_SCORE`` = -1e9 rather than -inf,
  so a fully masked row still gives a finite softmax (no NaN from -inf - (-inf)), while exp(-1e9 - max)
  underflows to exactly 0 in float32 and float64: a masked position gets probability exactly 0 and,
  because the output there is a constant, gradient exactly 0;
- masks: each position may be chosen once. For closed outputs (convex hulls) the first chosen position
  becomes available again from step 3 on, and choosing it again closes the polygon and ends the output
  (the closing-index convention of ``course.data.combinatorial``);
- decoding: greedy, or a beam search restricted to valid outputs (masked positions get log-probability
  -inf, finished beams stay finished).

Training minimises the mean cross-entropy of the true position over all valid output steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array, check_positive
from course.layers.losses import log_softmax, softmax_cross_entropy
from course.layers.lstm import lstm_backward, lstm_forward, lstm_init, lstm_step_forward
from course.layers.temporal import temporal_affine_backward, temporal_affine_forward
from course.training.optim import Optimizer, adam

MASK_SCORE = -1e9
CLOSE_AFTER = 3  # a closed output may return to its first position once it has this many vertices

PARAM_NAMES = ("We", "be", "go", "enc_Wx", "enc_Wh", "enc_b", "dec_Wx", "dec_Wh", "dec_b", "W1", "W2", "v")


# ------------------------------------------------------------------------------------ pointer scores
def pointer_scores_forward(E: Any, D: Any, W1: Any, W2: Any, v: Any, mask: Any = None) -> tuple[Any, tuple]:
    """Masked pointer scores u_tj = v^T tanh(W1 e_j + W2 d_t) for every decoder step t and input position j.

    Inputs:
    - E: (N, n, H) encoder states e_j.
    - D: (N, T, Hd) decoder states d_t (T = 1 for one decoding step).
    - W1: (H, A), W2: (Hd, A), v: (A,), A the attention size.
    - mask: None or (N, T, n) bool, True where position j may be chosen at step t.

    Returns:
    - scores: (N, T, n); MASK_SCORE where the mask is False.
    - cache: (E, D, W1, W2, v, hidden, mask).
    """
    dims: dict[str, int] = {}
    func = "pointer_scores_forward"
    check_array(func, "E", E, ("N", "n", "H"), dims=dims, dtype_kind="f")
    check_array(func, "D", D, ("N", "T", "Hd"), dims=dims, dtype_kind="f")
    check_array(func, "W1", W1, ("H", "A"), dims=dims, dtype_kind="f")
    check_array(func, "W2", W2, ("Hd", "A"), dims=dims, dtype_kind="f")
    check_array(func, "v", v, ("A",), dims=dims, dtype_kind="f")
    if mask is not None:
        check_array(func, "mask", mask, ("N", "T", "n"), dims=dims, dtype_kind="b")
    # BEGIN GRADED a08.pointer_scores_forward
    xp = get_array_module(E, D, W1, W2, v)
    keys = E @ W1  # (N, n, A): once per sequence, shared by every decoder step
    queries = D @ W2  # (N, T, A)
    # (N, T, n, A): every step's query meets every key
    hidden = xp.tanh(keys[:, None, :, :] + queries[:, :, None, :])
    scores = hidden @ v  # (N, T, n)
    if mask is not None:
        scores = xp.where(mask, scores, xp.asarray(MASK_SCORE, dtype=scores.dtype))
    cache = (E, D, W1, W2, v, hidden, mask)
    return scores, cache
    # END GRADED


def pointer_scores_backward(dscores: Any, cache: tuple) -> tuple[Any, Any, Any, Any, Any]:
    """Backward pass of ``pointer_scores_forward``.

    A masked score is a constant, so its upstream gradient is dropped. With du the remaining gradient and
    s = tanh(W1 e_j + W2 d_t): dv = sum du s, and the pre-activation gradient du v (1 - s^2) flows to
    e_j summed over the steps t (each key is used by every step) and to d_t summed over the positions j.

    Inputs:
    - dscores: (N, T, n) upstream gradient.
    - cache: from ``pointer_scores_forward``.

    Returns:
    - dE: (N, n, H), dD: (N, T, Hd), dW1: (H, A), dW2: (Hd, A), dv: (A,).
    """
    N, T, n, _ = cache[5].shape  # hidden, (N, T, n, A)
    check_array("pointer_scores_backward", "dscores", dscores, (N, T, n), dtype_kind="f")
    # BEGIN GRADED a08.pointer_scores_backward
    E, D, W1, W2, v, hidden, mask = cache
    A = hidden.shape[-1]
    du = dscores if mask is None else dscores * mask  # (N, T, n)
    dv = hidden.reshape(-1, A).T @ du.reshape(-1)  # (A,)
    dpre = du[..., None] * v * (1 - hidden * hidden)  # (N, T, n, A): tanh' = 1 - s^2 read from the output
    dkeys = dpre.sum(axis=1)  # (N, n, A): summed over the T steps that used each key
    dqueries = dpre.sum(axis=2)  # (N, T, A): summed over the n positions each query met
    dE = dkeys @ W1.T  # (N, n, H)
    dW1 = E.reshape(-1, E.shape[2]).T @ dkeys.reshape(-1, A)  # (H, A)
    dD = dqueries @ W2.T  # (N, T, Hd)
    dW2 = D.reshape(-1, D.shape[2]).T @ dqueries.reshape(-1, A)  # (Hd, A)
    return dE, dD, dW1, dW2, dv
    # END GRADED


# --------------------------------------------------------------------------------------------- masks
def update_mask(allowed: Any, choice: Any, first: Any, t: int, closed: bool) -> Any:
    """The mask for step t + 1 after ``choice`` was made at step t.

    The chosen position is used up; for ``closed`` outputs the first position is allowed again from step
    CLOSE_AFTER on, until it is chosen a second time (which closes the polygon).

    Inputs:
    - allowed: (N, n) bool mask used at step t.
    - choice: (N,) int positions chosen at step t.
    - first: (N,) int positions chosen at step 0 (only read when ``closed``).
    - t: the step just taken; closed: whether outputs close back on their first position.

    Returns: (N, n) bool, a new array.
    """
    dims: dict[str, int] = {}
    check_array("update_mask", "allowed", allowed, ("N", "n"), dims=dims, dtype_kind="b")
    check_array("update_mask", "choice", choice, ("N",), dims=dims, dtype_kind="i")
    check_array("update_mask", "first", first, ("N",), dims=dims, dtype_kind="i")
    # BEGIN GRADED a08.update_mask
    xp = get_array_module(allowed, choice)
    rows = xp.arange(allowed.shape[0])
    nxt = allowed.copy()
    nxt[rows, choice] = False
    if closed and t + 1 >= CLOSE_AFTER:
        nxt[rows, first] = nxt[rows, first] | (choice != first)  # reopen the start until it is used to close
    return nxt
    # END GRADED


def teacher_forcing_masks(
    targets: Any, n: int, closed: bool = False, *, update: Callable[..., Any] = update_mask
) -> Any:
    """The mask of every decoding step when the true outputs ``targets`` are fed back.

    ``update`` (``update_mask``) applied to each true output in turn, so training sees exactly the masks
    decoding builds: position j is allowed at step t if it is not among targets[:, :t]; for ``closed``
    outputs the first target is allowed again from step CLOSE_AFTER on (so the polygon can be closed). A
    padding step (target -1) chooses nothing and leaves the mask as it was; its loss is ignored.

    Inputs: targets (N, T) int, -1 for padding; n the number of input positions; update the mask update
    (a notebook passes its own ``update_mask``).
    Returns: (N, T, n) bool.
    """
    check_array("teacher_forcing_masks", "targets", targets, ("N", "T"), dtype_kind="i")
    xp = get_array_module(targets)
    N, T = targets.shape
    first = xp.maximum(targets[:, 0], 0)
    allowed = xp.ones((N, n), dtype=bool)  # (N, n): nothing chosen yet
    masks = [allowed]
    for t in range(T - 1):
        choice = targets[:, t]
        chosen = update(allowed, xp.maximum(choice, 0), first, t, closed)
        allowed = xp.where((choice >= 0)[:, None], chosen, allowed)  # (N, n)
        masks.append(allowed)
    return xp.stack(masks, axis=1)  # (N, T, n)


# ----------------------------------------------------------------------------------------- the model
def init_pointer_params(
    F: int, D: int, H: int, A: int, rng: np.random.Generator, dtype: Any = np.float32
) -> dict[str, np.ndarray]:
    """Initial parameters of a pointer network.

    F input features per position (1 for sorting, 2 for points), D embedding size, H LSTM size, A attention
    size. LSTMs use ``lstm_init`` (forget bias 1); W_e, W1, W2 and v are normals with std 1/sqrt(fan_in),
    the ``go`` input a standard normal, b_e zero.
    """
    enc = lstm_init(D, H, rng, dtype=dtype)
    dec = lstm_init(D, H, rng, dtype=dtype)
    p = {
        "We": rng.standard_normal((F, D)) / math.sqrt(F),
        "be": np.zeros(D),
        "go": rng.standard_normal(D),
        "enc_Wx": enc[0],
        "enc_Wh": enc[1],
        "enc_b": enc[2],
        "dec_Wx": dec[0],
        "dec_Wh": dec[1],
        "dec_b": dec[2],
        "W1": rng.standard_normal((H, A)) / math.sqrt(H),
        "W2": rng.standard_normal((H, A)) / math.sqrt(H),
        "v": rng.standard_normal(A) / math.sqrt(A),
    }
    return {k: p[k].astype(dtype) for k in PARAM_NAMES}


def pointer_encode(params: dict[str, Any], x: Any) -> tuple[Any, Any, Any, Any, tuple]:
    """The encoder: embed every input position, emb_j = x_j W_e + b_e, and run an LSTM over them.

    Inputs: params (see ``init_pointer_params``); x (N, n, F).
    Returns: emb (N, n, D), E (N, n, H) the encoder states, h_n and c_n (N, H) its final state (the
    decoder starts from it), and the caches (embedding cache, encoder LSTM cache) for the backward pass.
    """
    xp = get_array_module(x)
    N = x.shape[0]
    H = params["enc_Wh"].shape[0]
    emb, emb_cache = temporal_affine_forward(x, params["We"], params["be"])  # (N, n, D)
    h0 = xp.zeros((N, H), dtype=emb.dtype)
    E, cN, enc_cache = lstm_forward(
        emb, h0, params["enc_Wx"], params["enc_Wh"], params["enc_b"], return_state=True
    )  # (N, n, H)
    return emb, E, E[:, -1, :], cN, (emb_cache, enc_cache)


def pointer_network_loss(
    params: dict[str, Any], x: Any, targets: Any, closed: bool = False
) -> tuple[float, dict[str, Any]]:
    """Teacher-forced loss of a pointer network and the gradient of every parameter.

    loss = mean over valid steps (targets >= 0) of -log p(y_t = targets_t | targets_<t, x).

    Inputs:
    - params: dict of the arrays named in PARAM_NAMES (see ``init_pointer_params``).
    - x: (N, n, F) inputs.
    - targets: (N, T) int true positions, -1 after the end.
    - closed: closing-index outputs (convex hull) instead of permutations.

    Returns:
    - loss: float.
    - grads: dict, same keys and shapes as params.
    """
    dims: dict[str, int] = {}
    check_array("pointer_network_loss", "x", x, ("N", "n", "F"), dims=dims, dtype_kind="f")
    check_array("pointer_network_loss", "targets", targets, ("N", "T"), dims=dims, dtype_kind="i")
    check_array("pointer_network_loss", "We", params["We"], ("F", "D"), dims=dims, dtype_kind="f")
    # BEGIN GRADED a08.pointer_network_loss
    xp = get_array_module(x, targets)
    N, n, _ = x.shape
    T = targets.shape[1]
    rows = xp.arange(N)[:, None]
    # forward: encoder, teacher-forced decoder, pointer scores, cross-entropy on the valid steps
    emb, E, hN, cN, (emb_cache, enc_cache) = pointer_encode(params, x)
    fed = xp.maximum(targets[:, :-1], 0)  # (N, T-1): the true previous outputs (pads fed as 0, unused)
    go = xp.broadcast_to(params["go"], (N, 1, emb.shape[2]))
    dec_in = xp.concatenate([go, emb[rows, fed]], axis=1)  # (N, T, D)
    Dh, _, dec_cache = lstm_forward(
        dec_in, hN, params["dec_Wx"], params["dec_Wh"], params["dec_b"], c0=cN, return_state=True
    )  # (N, T, H)
    mask = teacher_forcing_masks(targets, n, closed, update=update_mask)  # (N, T, n)
    scores, sc_cache = pointer_scores_forward(E, Dh, params["W1"], params["W2"], params["v"], mask)
    valid = (targets >= 0).reshape(-1)  # (N T,)
    loss, dvalid = softmax_cross_entropy(scores.reshape(N * T, n)[valid], targets.reshape(-1)[valid])
    # backward, in reverse order; E and emb are each used twice, so their gradients accumulate
    dscores = xp.zeros((N * T, n), dtype=scores.dtype)
    dscores[valid] = dvalid
    dE, dDh, dW1, dW2, dv = pointer_scores_backward(dscores.reshape(N, T, n), sc_cache)
    ddec_in, dhN, dcN, ddec_Wx, ddec_Wh, ddec_b = lstm_backward(dDh, dec_cache, return_state=True)
    # the gather emb[rows, fed] is a product with a one-hot matrix, so its backward is the transposed
    # product: a position fed at several steps receives the sum of their gradients
    fed_onehot = (fed[:, :, None] == xp.arange(n)).astype(emb.dtype)  # (N, T-1, n)
    demb = fed_onehot.transpose(0, 2, 1) @ ddec_in[:, 1:, :]  # (N, n, D)
    dgo = ddec_in[:, 0, :].sum(axis=0)
    dE[:, -1, :] += dhN  # the last encoder state also started the decoder
    demb_enc, _, denc_Wx, denc_Wh, denc_b = lstm_backward(dE, enc_cache, dcT=dcN)
    demb += demb_enc
    _, dWe, dbe = temporal_affine_backward(demb, emb_cache)  # the input points get no gradient
    grads = {
        "We": dWe,
        "be": dbe,
        "go": dgo,
        "enc_Wx": denc_Wx,
        "enc_Wh": denc_Wh,
        "enc_b": denc_b,
        "dec_Wx": ddec_Wx,
        "dec_Wh": ddec_Wh,
        "dec_b": ddec_b,
        "W1": dW1,
        "W2": dW2,
        "v": dv,
    }
    return float(loss), grads
    # END GRADED


def pointer_decode_step(
    params: dict[str, Any], E: Any, prev_emb: Any, prev_h: Any, prev_c: Any, allowed: Any
) -> tuple[Any, Any, Any]:
    """One decoding step: LSTM step, masked pointer scores, log-probabilities over the input positions.

    Inputs:
    - params: the network's parameters; E: (N, n, H) encoder states.
    - prev_emb: (N, D) embedding of the previous output (``params['go']`` at the first step).
    - prev_h, prev_c: (N, H) decoder state.
    - allowed: (N, n) bool, the positions that may be chosen now.

    Returns:
    - log_probs: (N, n), exactly -inf where not allowed (so no search can pick them).
    - next_h, next_c: (N, H).
    """
    dims: dict[str, int] = {}
    check_array("pointer_decode_step", "E", E, ("N", "n", "H"), dims=dims, dtype_kind="f")
    check_array("pointer_decode_step", "allowed", allowed, ("N", "n"), dims=dims, dtype_kind="b")
    # BEGIN GRADED a08.pointer_decode_step
    xp = get_array_module(E, allowed)
    next_h, next_c, _ = lstm_step_forward(
        prev_emb, prev_h, prev_c, params["dec_Wx"], params["dec_Wh"], params["dec_b"]
    )
    scores, _ = pointer_scores_forward(
        E, next_h[:, None, :], params["W1"], params["W2"], params["v"], allowed[:, None, :]
    )  # (N, 1, n)
    log_probs = xp.where(allowed, log_softmax(scores[:, 0, :], axis=-1), -xp.inf)  # (N, n)
    return log_probs, next_h, next_c
    # END GRADED


def greedy_decode(
    params: dict[str, Any],
    x: Any,
    closed: bool = False,
    *,
    step: Callable[..., tuple[Any, Any, Any]] = pointer_decode_step,
    update: Callable[..., Any] = update_mask,
) -> Any:
    """Most probable position at every step, each position used once (closed outputs may close).

    Inputs: x (N, n, F); step and update: the decoding step and the mask update (a notebook passes its
    own ``pointer_decode_step`` and ``update_mask``). Returns (N, n) int permutations, or (N, n + 1)
    closing-index sequences padded with -1 when ``closed``.
    """
    check_array("greedy_decode", "x", x, ("N", "n", "F"), dtype_kind="f")
    # BEGIN GRADED a08.greedy_decode
    xp = get_array_module(x)
    N, n, _ = x.shape
    T = n + 1 if closed else n
    emb, E, h, c, _ = pointer_encode(params, x)
    rows = xp.arange(N)
    allowed = xp.ones((N, n), dtype=bool)
    done = xp.zeros(N, dtype=bool)
    out = xp.full((N, T), -1, dtype=np.int64)
    prev = xp.broadcast_to(params["go"], (N, emb.shape[2]))
    first = xp.zeros(N, dtype=np.int64)
    for t in range(T):
        log_probs, h, c = step(params, E, prev, h, c, allowed)
        choice = xp.argmax(log_probs, axis=1)
        if t == 0:
            first = choice
        out[:, t] = xp.where(done, -1, choice)
        done = done | (closed & (t > 0) & (choice == first))
        allowed = update(allowed, choice, first, t, closed)
        allowed[done] = True  # finished rows keep decoding harmlessly; their outputs are discarded
        prev = emb[rows, choice]
    return out
    # END GRADED


def beam_decode(
    params: dict[str, Any],
    x: Any,
    width: int,
    closed: bool = False,
    *,
    step: Callable[..., tuple[Any, Any, Any]] = pointer_decode_step,
    update: Callable[..., Any] = update_mask,
) -> tuple[Any, Any]:
    """Beam search over valid outputs only, batched over the N inputs and the ``width`` beams.

    Each step extends every live beam by every allowed position (log-probability -inf otherwise), keeps
    the ``width`` best totals per input, and reorders the decoder states by their parent beam. A finished
    (closed) beam is extended only by a padding step of log-probability 0. If fewer than ``width`` valid
    outputs exist, the extra beams have score -inf. (The same algorithm as
    ``course.models.decoding.beam_search``,
    which freezes a beam on one fixed end token; a closed output ends instead when it returns to its own
    first position, and every step needs the beam's mask, so the pointer network keeps its own loop.)

    Inputs: x (N, n, F); width >= 1; step and update as in ``greedy_decode``.
    Returns:
    - seqs: (N, width, T) int outputs, best first (T = n, or n + 1 padded with -1 when ``closed``).
    - scores: (N, width) total log-probabilities (-inf for beams that are not valid outputs).
    """
    check_array("beam_decode", "x", x, ("N", "n", "F"), dtype_kind="f")
    check_positive("beam_decode", "width", width)
    # BEGIN GRADED a08.beam_decode
    xp = get_array_module(x)
    N, n, _ = x.shape
    K, T = width, (n + 1 if closed else n)
    emb, E, h, c, _ = pointer_encode(params, x)
    Dm = emb.shape[2]
    # every input gets K beams; they start identical, so only beam 0 is live (score 0) at first
    E = xp.repeat(E, K, axis=0)  # (N K, n, H)
    emb_k = xp.repeat(emb, K, axis=0)  # (N K, n, D)
    h, c = xp.repeat(h, K, axis=0), xp.repeat(c, K, axis=0)  # (N K, H)
    scores = xp.full((N, K), -xp.inf)
    scores[:, 0] = 0.0
    allowed = xp.ones((N * K, n), dtype=bool)
    done = xp.zeros(N * K, dtype=bool)
    first = xp.zeros(N * K, dtype=np.int64)
    seqs = xp.full((N, K, T), -1, dtype=np.int64)
    prev = xp.broadcast_to(params["go"], (N * K, Dm))
    flat_rows = xp.arange(N * K)
    pad_step = xp.full(n, -xp.inf)
    pad_step[0] = 0.0  # a finished beam continues along one path only, at no cost
    for t in range(T):
        log_probs, h, c = step(params, E, prev, h, c, allowed)  # (N K, n)
        log_probs = xp.where(done[:, None], pad_step, log_probs)
        total = (scores[:, :, None] + log_probs.reshape(N, K, n)).reshape(N, K * n)
        best = xp.argsort(-total, axis=1, kind="stable")[:, :K]  # (N, K)
        parent, choice = best // n, best % n
        scores = xp.take_along_axis(total, best, axis=1)
        src = (xp.arange(N)[:, None] * K + parent).reshape(-1)  # (N K,) flat index of each parent beam
        choice = choice.reshape(-1)
        h, c, allowed, done, first = h[src], c[src], allowed[src], done[src], first[src]
        seqs = seqs.reshape(N * K, T)[src].reshape(N, K, T)
        if t == 0:
            first = choice
        seqs[:, :, t] = xp.where(done, -1, choice).reshape(N, K)
        done = done | (closed & (t > 0) & (choice == first))
        allowed = update(allowed, choice, first, t, closed)
        allowed[done] = True
        prev = emb_k[flat_rows, choice]
    return seqs, scores
    # END GRADED


def pointer_train_step(model: PointerNetwork, optimizer: Optimizer, x: Any, targets: Any) -> float:
    """One step of training: zero the gradients, teacher-forced loss and gradients, one optimiser update.

    Inputs: a ``PointerNetwork``; an ``Optimizer`` built on it (it clips and applies its rule); x (N, n, F);
    targets (N, T). Returns the loss before the update.
    """
    # BEGIN GRADED a08.pointer_train_step
    optimizer.zero_grad()
    loss = model.loss(x, targets)
    optimizer.step()
    return loss
    # END GRADED


def fit_pointer_network(
    model: PointerNetwork,
    sample_batch: Callable[[], tuple[Any, Any]],
    steps: int,
    *,
    learning_rate: float = 1e-3,
    decay_at: float = 0.7,
    decay: float = 0.3,
    max_grad_norm: float = 2.0,
    callback: Callable[[int, float], None] | None = None,
    train_step: Callable[..., float] = pointer_train_step,
) -> list[float]:
    """Train with Adam and gradient-norm clipping (Vinyals et al. clip at 2); returns the loss of every step.

    The learning rate is multiplied by ``decay`` once ``decay_at`` of the steps are done (a short run
    gains most from a lower rate at the end). ``sample_batch()`` returns (x, targets) (see
    ``course.data.combinatorial.batch_sampler``); ``callback(step, loss)`` is called after every step;
    ``train_step(model, optimizer, x, targets)`` makes one step (a notebook passes its own
    ``pointer_train_step``).
    """
    check_positive("fit_pointer_network", "steps", steps)
    optimizer = Optimizer(model, adam, learning_rate=learning_rate, max_grad_norm=max_grad_norm)
    losses = []
    for step in range(steps):
        if step == int(decay_at * steps):
            optimizer.set_learning_rate(learning_rate * decay)
        x, targets = sample_batch()
        losses.append(train_step(model, optimizer, x, targets))
        if callback is not None:
            callback(step, losses[-1])
    return losses


class PointerNetwork(Module):
    """A pointer network with parameters named as in PARAM_NAMES; ``closed`` for closing-index outputs.

    ``loss(x, targets)`` accumulates the gradients and returns the loss; ``greedy(x)`` and
    ``beam(x, width)`` decode. ``rng`` is a Generator or an int seed (None means seed 0).
    """

    def __init__(
        self,
        F: int,
        D: int = 128,
        H: int = 128,
        A: int = 128,
        *,
        closed: bool = False,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(0 if rng is None else rng)
        for name, value in init_pointer_params(F, D, H, A, rng, dtype).items():
            self.add_param(name, value)
        self.closed = closed

    def loss(self, x: Any, targets: Any) -> float:
        loss, grads = pointer_network_loss(self.params, x, targets, self.closed)
        for name, g in grads.items():
            self.accumulate(name, g)
        return loss

    def greedy(self, x: Any) -> Any:
        return greedy_decode(self.params, x, self.closed)

    def beam(self, x: Any, width: int) -> tuple[Any, Any]:
        return beam_decode(self.params, x, width, self.closed)
