"""Tests for course/models/charlm.py: the character language model, its gradients, sampling and training."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course.core.gradcheck import assert_gradient_close, numerical_gradient
from course.data.text import CharVocab
from course.models.charlm import CharLM, bits_per_char, evaluate_nats, sample, sample_next
from course.training.tbptt import chunk_loss_fn

TEXT = "to be, or not to be: that is the question. "


def _tiny_model(cell, dtype=np.float64):
    model = CharLM(CharVocab(TEXT), embed_dim=3, hidden_dim=4, cell=cell, rng=0, dtype=dtype)
    for _, p, _ in model.parameters():  # non-zero biases, so every parameter's gradient is exercised
        if p.ndim == 1:
            p += np.random.default_rng(5).standard_normal(p.shape) * 0.3
    return model


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_charlm_gradients_match_central_differences_for_every_parameter(cell):
    # float64. Tolerance 1e-6, not 1e-7: the loss is a mean over 12 characters, so many of the ~300
    # gradient entries are ~1e-5, where finite-difference round-off (~1e-11 absolute) is 1e-6 relative.
    # Each layer pair is checked at 1e-7 in its own test file; this checks the wiring, where a wrong
    # connection gives errors of order 1. (Measured worst error: 4e-8 for the LSTM, 7e-8 for the RNN.)
    model = _tiny_model(cell)
    ids = model.vocab.encode(TEXT[:13]).reshape(1, 13)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    state = None if cell == "rnn" else (np.full((1, 4), 0.1), np.full((1, 4), -0.2))
    model.zero_grad()
    _, dscores = chunk_loss_fn(model.forward(inputs, state), targets)
    model.backward(dscores)
    for name, p, g in model.parameters():
        numeric = numerical_gradient(lambda: chunk_loss_fn(model.forward(inputs, state), targets)[0], p)
        assert_gradient_close(name, g, numeric, tol=1e-6, context=f"CharLM({cell})")


def test_charlm_forward_shapes_and_state_carrying():
    model = _tiny_model("lstm", dtype=np.float32)
    ids = model.vocab.encode(TEXT[:20]).reshape(2, 10)
    scores = model.forward(ids)
    assert scores.shape == (2, 10, model.vocab.size) and scores.dtype == np.float32
    h, c = model.final_state
    assert h.shape == c.shape == (2, 4)
    first = model.forward(ids[:, :6])
    second = model.forward(ids[:, 6:], model.final_state)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), scores, rtol=1e-5, atol=1e-6)


def test_untrained_model_scores_about_log_v_nats_per_character():
    model = _tiny_model("lstm", dtype=np.float32)
    nats = evaluate_nats(model, model.vocab.encode(TEXT * 3), batch_size=2, k=7)
    assert nats == pytest.approx(math.log(model.vocab.size), abs=0.5)
    assert bits_per_char(nats) == pytest.approx(nats / math.log(2))


def test_sample_next_greedy_top_k_and_temperature():
    scores = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    rng = np.random.default_rng(0)
    assert sample_next(scores, rng, temperature=0) == 3
    assert all(sample_next(scores, rng, top_k=1) == 3 for _ in range(20))
    draws = np.array([sample_next(scores, rng, top_k=2) for _ in range(4000)])
    assert set(np.unique(draws)) == {2, 3}
    assert np.mean(draws == 3) == pytest.approx(0.4 / 0.7, abs=0.03)
    # temperature 0.5 squares the probabilities before renormalising
    draws = np.array([sample_next(scores, rng, temperature=0.5) for _ in range(4000)])
    p = np.array([0.1, 0.2, 0.3, 0.4]) ** 2
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 4000, p / p.sum(), atol=0.03)


def test_sample_is_reproducible_and_speaks_the_vocabulary():
    model = _tiny_model("lstm", dtype=np.float32)
    a = sample(model, "to ", 30, np.random.default_rng(5), temperature=1.0, top_k=5)
    b = sample(model, "to ", 30, np.random.default_rng(5), temperature=1.0, top_k=5)
    assert a == b and len(a) == 30 and set(a) <= set(TEXT)
    greedy = sample(model, "to ", 10, np.random.default_rng(0), temperature=0)
    assert greedy == sample(model, "to ", 10, np.random.default_rng(99), temperature=0)
    with pytest.raises(ValueError, match="prefix must contain"):
        sample(model, "", 5, np.random.default_rng(0))


@pytest.mark.slow
def test_train_charlm_script_reaches_2_3_nats_per_character_within_300_steps():
    # Runs experiments/train_charlm.py in a subprocess so that BLAS really uses one thread (it must be set
    # before NumPy is imported; with two threads on a loaded machine training was 15x slower).
    # Measured on one core of a shared machine: 2.31 nats/char after 100 steps, 1.97 after 300 (19 s);
    # the best n-gram baseline is 1.73 and the full 5-minute run goes well below it. The bound holds
    # from about step 100. The 100 s time cap is only a safety net: on any ordinary machine the 300-step
    # budget ends training, so the asserted number does not depend on how loaded the machine is.
    script = Path(__file__).resolve().parents[1] / "experiments" / "train_charlm.py"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(script), "--budget", "100", "--max-steps", "300", "--no-baseline"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=True,
    )
    fields = dict(item.split("=") for item in result.stdout.strip().splitlines()[-1].split())
    assert float(fields["val_nats"]) <= 2.3, result.stdout
