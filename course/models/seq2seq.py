"""Sequence to sequence with Bahdanau attention (lecture 003, "sequence to sequence", "attention").

An encoder LSTM reads the source x_1 .. x_Ts into states e_1 .. e_Ts. A decoder LSTM then writes the
target one token at a time; at step t it

    1. attends with its previous state:      c_t, a_t = attention(e, d_{t-1})   (Bahdanau additive)
    2. reads the previous token and c_t:      d_t = LSTM([emb(y_{t-1}), c_t], d_{t-1})
    3. scores the next token from both:       logits_t = [d_t, c_t] W_out + b_out

Training maximises log P(y | x) = sum_t log P(y_t | y_<t, x) with the *true* previous token fed in
(teacher forcing: ``tgt_in`` is the target shifted right behind a start token), so all Tt steps of the
loss are computed in one pass. At inference the model feeds its own choices back (``course.models.decoding``).

The decoder starts from the encoder's hidden state at each row's last real character (and a zero
cell). Sources are right-padded, so the encoder states at real characters do not depend on the padding;
the attention mask hides the padded positions. Hence a row's output does not depend on the batch it is in.

Speed: the attention keys W1 e_j are computed once per batch (one GEMM), not once per decoder step;
every step works on the whole batch; the output layer runs once over all Tt steps after the loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array, check_positive
from course.data.seq_tasks import EOS, PAD, SOS, EncodedPairs
from course.layers.affine import affine_forward
from course.layers.attention import additive_attention_step_backward, additive_attention_step_forward
from course.layers.embedding import word_embedding_backward, word_embedding_forward
from course.layers.losses import log_softmax
from course.layers.lstm import lstm_backward, lstm_forward, lstm_init, lstm_step_backward, lstm_step_forward
from course.layers.temporal import temporal_affine_backward, temporal_affine_forward, temporal_softmax_loss
from course.models.decoding import beam_search, greedy_decode
from course.training.optim import Optimizer, adam

PARAM_NAMES = (
    "src_embed",
    "tgt_embed",
    "enc_Wx",
    "enc_Wh",
    "enc_b",
    "att_W1",
    "att_W2",
    "att_v",
    "dec_Wx",
    "dec_Wh",
    "dec_b",
    "out_W",
    "out_b",
)


def init_seq2seq_params(
    src_vocab: int,
    tgt_vocab: int,
    embed_dim: int,
    hidden_dim: int,
    attn_dim: int,
    rng: np.random.Generator,
    dtype: Any = np.float32,
) -> dict[str, np.ndarray]:
    """Initial parameters (shapes with E = embed_dim, H = hidden_dim, A = attn_dim).

    - src_embed (Vs, E), tgt_embed (Vt, E): N(0, 1) rows;
    - enc_Wx (E, 4H), enc_Wh (H, 4H), enc_b (4H,): ``lstm_init`` (forget bias 1);
    - att_W1 (H, A), att_W2 (H, A), att_v (A,): N(0, 1/fan_in);
    - dec_Wx (E + H, 4H), dec_Wh (H, 4H), dec_b (4H,): the decoder LSTM reads [emb(y), context];
    - out_W (2H, Vt), out_b (Vt,): logits from [d_t, c_t].
    """
    E, H, A = embed_dim, hidden_dim, attn_dim
    p: dict[str, np.ndarray] = {
        "src_embed": rng.standard_normal((src_vocab, E)),
        "tgt_embed": rng.standard_normal((tgt_vocab, E)),
    }
    p["enc_Wx"], p["enc_Wh"], p["enc_b"] = lstm_init(E, H, rng, dtype=np.float64)
    p["att_W1"] = rng.standard_normal((H, A)) / np.sqrt(H)
    p["att_W2"] = rng.standard_normal((H, A)) / np.sqrt(H)
    p["att_v"] = rng.standard_normal(A) / np.sqrt(A)
    p["dec_Wx"], p["dec_Wh"], p["dec_b"] = lstm_init(E + H, H, rng, dtype=np.float64)
    p["out_W"] = rng.standard_normal((2 * H, tgt_vocab)) / np.sqrt(2 * H)
    p["out_b"] = np.zeros(tgt_vocab)
    return {name: p[name].astype(dtype) for name in PARAM_NAMES}


def decoder_step_forward(
    y_emb: Any, prev_h: Any, prev_c: Any, enc: Any, keys: Any, src_mask: Any, params: dict[str, Any]
) -> tuple[Any, Any, Any, Any, tuple]:
    """One decoder step: attend with the previous state, then update the LSTM on [emb(y_{t-1}), context].

    Inputs:
    - y_emb: (N, E) embedding of the previous target token.
    - prev_h, prev_c: (N, H) decoder state d_{t-1}.
    - enc: (N, Ts, H) encoder states; keys: (N, Ts, A) = enc @ att_W1, computed once per batch.
    - src_mask: (N, Ts) bool, True at real source characters.
    - params: uses att_W2, att_v, dec_Wx, dec_Wh, dec_b.

    Returns:
    - h, c: (N, H) the new state d_t; context: (N, H); a: (N, Ts) attention weights; cache.
    """
    # BEGIN GRADED a07.decoder_step_forward
    xp = get_array_module(y_emb, prev_h)
    context, a, att_cache = additive_attention_step_forward(
        enc, keys, prev_h, params["att_W2"], params["att_v"], src_mask
    )
    x = xp.concatenate([y_emb, context], axis=1)  # (N, E + H)
    h, c, lstm_cache = lstm_step_forward(
        x, prev_h, prev_c, params["dec_Wx"], params["dec_Wh"], params["dec_b"]
    )
    cache = (att_cache, lstm_cache, y_emb.shape[1])
    return h, c, context, a, cache
    # END GRADED


def decoder_step_backward(dh: Any, dc: Any, dcontext: Any, cache: tuple) -> tuple:
    """Backward pass of ``decoder_step_forward``.

    prev_h is used twice (attention query and LSTM recurrence) and the context twice (LSTM input and
    output layer), so both gradients are sums.

    Inputs:
    - dh, dc: (N, H) gradients on the new state; dcontext: (N, H) from the output layer.

    Returns, in order: dy_emb (N, E), dprev_h (N, H), dprev_c (N, H), denc (N, Ts, H) (read path only),
    dkeys (N, Ts, A), and a dict of parameter gradients (att_W2, att_v, dec_Wx, dec_Wh, dec_b).
    """
    # BEGIN GRADED a07.decoder_step_backward
    att_cache, lstm_cache, E = cache
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dh, dc, lstm_cache)
    dy_emb = dx[:, :E]
    dcontext = dcontext + dx[:, E:]  # the context fed both the output layer and the LSTM input
    denc, dkeys, dquery, dW2, dv = additive_attention_step_backward(dcontext, None, att_cache)
    dprev_h += dquery  # d_{t-1} was also the attention query
    grads = {"att_W2": dW2, "att_v": dv, "dec_Wx": dWx, "dec_Wh": dWh, "dec_b": db}
    return dy_emb, dprev_h, dprev_c, denc, dkeys, grads
    # END GRADED


def _check_batch(func: str, src: Any, src_mask: Any, tgt_in: Any | None = None) -> None:
    dims: dict[str, int] = {}
    check_array(func, "src", src, ("N", "Ts"), dims=dims, dtype_kind="i")
    check_array(func, "src_mask", src_mask, ("N", "Ts"), dims=dims, dtype_kind="b")
    if tgt_in is not None:
        check_array(func, "tgt_in", tgt_in, ("N", "Tt"), dims=dims, dtype_kind="i")
    if not bool(src_mask[:, 0].all()):
        raise ValueError(f"{func}: sources must be right-padded and non-empty (src_mask[:, 0] all True)")


def encode(params: dict[str, Any], src: Any, src_mask: Any) -> tuple[Any, Any, Any, tuple]:
    """Encoder: embeddings then an LSTM from a zero state; also the attention keys enc @ att_W1.

    Returns enc (N, Ts, H), h_last (N, H) the state at each row's last real character, keys (N, Ts, A)
    and the cache for ``seq2seq_backward``.
    """
    _check_batch("encode", src, src_mask)
    xp = get_array_module(params["enc_Wx"])
    xs, emb_cache = word_embedding_forward(src, params["src_embed"])  # (N, Ts, E)
    N = src.shape[0]
    h0 = xp.zeros((N, params["enc_Wh"].shape[0]), dtype=params["enc_Wh"].dtype)
    enc, lstm_cache = lstm_forward(xs, h0, params["enc_Wx"], params["enc_Wh"], params["enc_b"])
    last = src_mask.sum(axis=1) - 1  # (N,) index of each row's last real character
    h_last = enc[xp.arange(N), last]  # (N, H)
    keys = enc @ params["att_W1"]  # (N, Ts, A): once per sequence, reused by every decoder step
    return enc, h_last, keys, (emb_cache, lstm_cache, last)


def seq2seq_forward(params: dict[str, Any], src: Any, src_mask: Any, tgt_in: Any) -> tuple[Any, Any, tuple]:
    """Teacher-forced forward pass over a batch.

    Inputs:
    - params: from ``init_seq2seq_params``.
    - src: (N, Ts) int source ids, right-padded; src_mask: (N, Ts) bool, True at real characters.
    - tgt_in: (N, Tt) int decoder inputs (start id, then the target).

    Returns:
    - logits: (N, Tt, Vt) scores of the next token at every step.
    - attn: (N, Tt, Ts) attention weights (row t: where step t looked), for heat maps.
    - cache.
    """
    _check_batch("seq2seq_forward", src, src_mask, tgt_in)
    # BEGIN GRADED a07.seq2seq_forward
    xp = get_array_module(params["enc_Wx"])
    enc, h, keys, enc_cache = encode(params, src, src_mask)  # the decoder starts from h_last
    ys, tgt_emb_cache = word_embedding_forward(tgt_in, params["tgt_embed"])  # (N, Tt, E)
    N, Tt = tgt_in.shape
    H = enc.shape[2]
    c = xp.zeros_like(h)
    outs = xp.empty((N, Tt, 2 * H), dtype=enc.dtype)  # [d_t, c_t] for the output layer
    attn = xp.empty((N, Tt, src.shape[1]), dtype=enc.dtype)
    step_caches = []
    for t in range(Tt):
        h, c, context, a, step_cache = decoder_step_forward(ys[:, t], h, c, enc, keys, src_mask, params)
        outs[:, t, :H], outs[:, t, H:], attn[:, t] = h, context, a
        step_caches.append(step_cache)
    logits, out_cache = temporal_affine_forward(outs, params["out_W"], params["out_b"])  # (N, Tt, Vt)
    cache = (params, enc, keys, enc_cache, tgt_emb_cache, step_caches, out_cache)
    return logits, attn, cache
    # END GRADED


def seq2seq_backward(dlogits: Any, cache: tuple) -> dict[str, Any]:
    """Backpropagation through the decoder steps, the attention and the encoder.

    Inputs:
    - dlogits: (N, Tt, Vt) gradient of the loss on the logits.

    Returns a dict of gradients, one per parameter (same names and shapes as ``params``).
    """
    # BEGIN GRADED a07.seq2seq_backward
    params, enc, keys, (src_emb_cache, enc_lstm_cache, last), tgt_emb_cache, step_caches, out_cache = cache
    xp = get_array_module(dlogits)
    grads = {name: xp.zeros_like(p) for name, p in params.items()}
    douts, grads["out_W"], grads["out_b"] = temporal_affine_backward(dlogits, out_cache)  # (N, Tt, 2H)
    N, Tt, _ = douts.shape
    H = enc.shape[2]
    denc = xp.zeros_like(enc)  # every step reads enc: sum over steps
    dkeys = xp.zeros_like(keys)
    dys = xp.empty((N, Tt, params["tgt_embed"].shape[1]), dtype=dlogits.dtype)
    dh = xp.zeros((N, H), dtype=dlogits.dtype)  # gradient reaching d_t from step t + 1
    dc = xp.zeros((N, H), dtype=dlogits.dtype)
    for t in reversed(range(Tt)):
        dh_t = douts[:, t, :H] + dh  # d_t feeds the output layer and step t + 1
        dys[:, t], dh, dc, denc_t, dkeys_t, step_grads = decoder_step_backward(
            dh_t, dc, douts[:, t, H:], step_caches[t]
        )
        denc += denc_t
        dkeys += dkeys_t
        for name, g in step_grads.items():
            grads[name] += g
    denc[xp.arange(N), last] += dh  # the decoder's initial h was the encoder's state at the last character
    grads["att_W1"] += enc.reshape(-1, H).T @ dkeys.reshape(-1, dkeys.shape[2])  # keys = enc W1: one GEMM
    denc += dkeys @ params["att_W1"].T
    dxs, _, dWx, dWh, db = lstm_backward(denc, enc_lstm_cache)  # (the decoder's zero initial cell: no grad)
    grads["enc_Wx"] += dWx
    grads["enc_Wh"] += dWh
    grads["enc_b"] += db
    grads["src_embed"] += word_embedding_backward(dxs, src_emb_cache)
    grads["tgt_embed"] += word_embedding_backward(dys, tgt_emb_cache)
    return grads
    # END GRADED


def seq2seq_loss(
    params: dict[str, Any], src: Any, src_mask: Any, tgt_in: Any, tgt_out: Any, tgt_mask: Any
) -> tuple[float, dict[str, Any]]:
    """Teacher-forced cross-entropy, summed over the real target tokens and divided by N, and its gradients.

    Inputs: as ``seq2seq_forward`` plus tgt_out (N, Tt) the ids to predict and tgt_mask (N, Tt) bool.
    Returns (loss, grads).
    """
    logits, _, cache = seq2seq_forward(params, src, src_mask, tgt_in)
    loss, dlogits = temporal_softmax_loss(logits, tgt_out, tgt_mask)
    return loss, seq2seq_backward(dlogits, cache)


class Seq2Seq(Module):
    """An attention encoder-decoder: owns the parameters, computes the loss and decodes.

    ``rng`` is a numpy Generator or an int seed. Decoding goes through ``course.models.decoding`` with the
    step
    function ``step``; ``attention_maps`` gives the weights of a teacher-forced pass for heat maps.
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        *,
        embed_dim: int = 32,
        hidden_dim: int = 64,
        attn_dim: int = 64,
        rng: np.random.Generator | int = 0,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(rng)  # a Generator passes through unchanged
        for name, value in init_seq2seq_params(
            src_vocab, tgt_vocab, embed_dim, hidden_dim, attn_dim, rng, dtype
        ).items():
            self.add_param(name, value)

    def loss(self, batch: EncodedPairs) -> float:
        """Teacher-forced loss on ``batch``; its gradients are *added* into ``self.grads``."""
        loss, grads = seq2seq_loss(
            self.params, batch.src, batch.src_mask, batch.tgt_in, batch.tgt_out, batch.tgt_mask
        )
        for name, g in grads.items():
            self.accumulate(name, g)
        return loss

    def start_state(self, src: Any, src_mask: Any) -> tuple:
        """The decoder state after reading the source: (h, c, enc, keys, src_mask), N rows."""
        enc, h, keys, _ = encode(self.params, src, src_mask)
        return (h, get_array_module(h).zeros_like(h), enc, keys, src_mask)

    def step(self, prev_tokens: Any, state: tuple) -> tuple[Any, tuple]:
        """A ``course.models.decoding`` step function: log P(y_t | y_<t, x) (B, Vt) and the next state."""
        h, c, enc, keys, src_mask = state
        xp = get_array_module(enc)
        ids = xp.asarray(prev_tokens)[:, None]  # (B, 1): one step of the target sequence
        y_emb, _ = word_embedding_forward(ids, self.params["tgt_embed"])  # (B, 1, E)
        h, c, context, _, _ = decoder_step_forward(y_emb[:, 0], h, c, enc, keys, src_mask, self.params)
        logits, _ = affine_forward(
            xp.concatenate([h, context], axis=1), self.params["out_W"], self.params["out_b"]
        )  # (B, Vt)
        return log_softmax(logits, axis=1), (h, c, enc, keys, src_mask)

    def greedy(self, src: Any, src_mask: Any, max_len: int) -> np.ndarray:
        """Greedy outputs (N, max_len) int64; after the end id the end id repeats."""
        tokens, _ = greedy_decode(self.step, self.start_state(src, src_mask), SOS, max_len, src.shape[0], EOS)
        return tokens

    def beam(
        self, src: Any, src_mask: Any, max_len: int, beam_width: int, length_alpha: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Beam-search outputs (N, k, max_len) and scores (N, k), best first."""
        return beam_search(
            self.step,
            self.start_state(src, src_mask),
            SOS,
            max_len,
            src.shape[0],
            beam_width,
            EOS,
            length_alpha,
        )

    def attention_maps(self, src: Any, src_mask: Any, tgt_in: Any) -> Any:
        """Attention weights (N, Tt, Ts) of a teacher-forced pass (for heat maps)."""
        _, attn, _ = seq2seq_forward(self.params, src, src_mask, tgt_in)
        return attn


def trim_padding(batch: EncodedPairs) -> EncodedPairs:
    """Drop the trailing columns that are padding in every row (short batches then run fewer steps)."""
    s1 = int(batch.src_mask.sum(axis=1).max())
    t1 = int(batch.tgt_mask.sum(axis=1).max())
    return EncodedPairs(
        batch.src[:, :s1],
        batch.src_mask[:, :s1],
        batch.tgt_in[:, :t1],
        batch.tgt_out[:, :t1],
        batch.tgt_mask[:, :t1],
    )


def exact_match(model: Seq2Seq, data: EncodedPairs, beam_width: int = 1, batch_size: int = 500) -> float:
    """Fraction of rows whose decoded output (greedy, or the best beam) equals the target exactly.

    A row matches when every real target token and the end id are produced, in place (so an output
    that stops early or runs on counts as wrong).
    """
    check_positive("exact_match", "beam_width", beam_width)
    hits = 0
    for start in range(0, len(data), batch_size):
        batch = trim_padding(data.subset(slice(start, start + batch_size)))
        Tt = batch.tgt_out.shape[1]
        if beam_width == 1:
            pred = model.greedy(batch.src, batch.src_mask, Tt)
        else:
            pred = model.beam(batch.src, batch.src_mask, Tt, beam_width)[0][:, 0]
        pred = np.where(batch.tgt_mask, pred, PAD)
        hits += int(np.all(pred == batch.tgt_out, axis=1).sum())
    return hits / len(data)


def train_seq2seq(
    model: Seq2Seq,
    train: EncodedPairs,
    *,
    steps: int,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    final_learning_rate: float | None = None,
    max_grad_norm: float = 5.0,
    rng: np.random.Generator | int = 0,
    max_seconds: float | None = None,
    callback: Callable[[int, float], bool | None] | None = None,
) -> list[float]:
    """Minibatch training with Adam and gradient-norm clipping; returns the loss of every step taken.

    The learning rate decays geometrically from ``learning_rate`` to ``final_learning_rate`` (default:
    constant) over ``steps``: late in training a constant Adam step keeps knocking a converged model off
    its minimum, and exact match (every token right) is sensitive to that. Stops after ``steps`` updates
    or ``max_seconds`` of wall time, whichever comes first. ``callback(step, loss)`` is called after
    every update (for logging or evaluation); if it returns True, training stops there.
    """
    check_positive("train_seq2seq", "steps", steps)
    check_positive("train_seq2seq", "batch_size", batch_size)
    rng = np.random.default_rng(rng)  # a Generator passes through unchanged
    optimizer = Optimizer(model, adam, learning_rate=learning_rate, max_grad_norm=max_grad_norm)
    decay = (final_learning_rate / learning_rate) ** (1 / steps) if final_learning_rate else 1.0
    losses: list[float] = []
    start = time.perf_counter()
    for step in range(steps):
        optimizer.set_learning_rate(learning_rate * decay**step)
        batch = trim_padding(train.subset(rng.integers(0, len(train), size=batch_size)))
        optimizer.zero_grad()
        losses.append(model.loss(batch))
        optimizer.step()
        if callback is not None and callback(step, losses[-1]):
            break
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
    return losses
