"""Tests for course.training.train: one step is one SGD update on fresh gradients, the loop learns a spiral,
is repeatable from its seeds, restores the best checkpoint, and reports progress without a terminal."""

import math
import sys

import numpy as np
import pytest

import course.training.train as train_module
from course.core.module import Sequential
from course.data import load_digits, make_spirals, make_xor, train_val_test_split
from course.data.batching import minibatch_indices
from course.layers.activations import ReLU
from course.layers.affine import Linear
from course.layers.dropout import Dropout
from course.layers.losses import binary_cross_entropy_with_logits, mse_loss, softmax_cross_entropy
from course.training.optim import Optimizer, adam, sgd
from course.training.train import accuracy, evaluate, predict, train, train_epoch, train_step


def _spiral_data():
    X, y = make_spirals(100, 3, 0.2, np.random.default_rng(0))
    (Xt, yt), (Xv, yv), _ = train_val_test_split(X, y, (0.8, 0.2, 0.0), np.random.default_rng(1))
    return (Xt, yt), (Xv, yv)


def _mlp(seed=1, dropout=0.0):
    layers = [Linear(2, 64, rng=seed), ReLU()]
    if dropout:
        layers.append(Dropout(dropout, rng=seed))
    return Sequential(*layers, Linear(64, 3, rng=seed + 1))


def test_train_step_is_one_sgd_update_on_freshly_zeroed_gradients():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 2)), rng.integers(0, 3, 5)
    model = Sequential(Linear(2, 3, rng=0, dtype=np.float64))
    opt = Optimizer(model, sgd, learning_rate=0.5)
    for _ in range(2):  # the second step must not see the first step's gradients
        w, b = model.layers[0].params["w"].copy(), model.layers[0].params["b"].copy()
        scores = x @ w + b
        loss, dscores = softmax_cross_entropy(scores, y)
        got_loss, got_scores = train_step(model, softmax_cross_entropy, opt, x, y)
        assert got_loss == pytest.approx(float(loss)) and np.allclose(got_scores, scores)
        np.testing.assert_allclose(model.layers[0].params["w"], w - 0.5 * x.T @ dscores, rtol=1e-12)
        np.testing.assert_allclose(model.layers[0].params["b"], b - 0.5 * dscores.sum(0), rtol=1e-12)


def test_train_epoch_is_the_size_weighted_mean_of_train_steps_over_minibatch_indices():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((11, 2)), rng.integers(0, 3, 11)
    model, reference = (Sequential(Linear(2, 3, rng=0, dtype=np.float64)) for _ in range(2))
    opt, opt_ref = Optimizer(model, sgd, learning_rate=0.3), Optimizer(reference, sgd, learning_rate=0.3)
    model.eval()  # train_epoch must switch it back to training mode
    got = train_epoch(model, softmax_cross_entropy, opt, X, y, 4, np.random.default_rng(5))
    total = 0.0
    for idx in minibatch_indices(11, 4, np.random.default_rng(5)):  # batches of 4, 4 and 3
        total += train_step(reference, softmax_cross_entropy, opt_ref, X[idx], y[idx])[0] * len(idx)
    assert isinstance(got, float) and got == pytest.approx(total / 11, rel=1e-12)
    assert model.training
    np.testing.assert_array_equal(model.layers[0].params["w"], reference.layers[0].params["w"])


def test_training_a_two_layer_relu_net_on_spirals_reaches_over_90_percent():
    train_data, val_data = _spiral_data()
    model = _mlp()
    history = train(
        model, softmax_cross_entropy, Optimizer(model, adam, learning_rate=1e-2), train_data, 60, 32,
        np.random.default_rng(0), val_data, progress=False,
    )  # fmt: skip
    train_acc = accuracy(model, *train_data)
    assert train_acc > 0.9, f"spiral train accuracy {train_acc:.3f}, expected > 0.9"
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert len(history["val_acc"]) == 60 and history["val_acc"][history["best_epoch"] - 1] > 0.85


def test_training_is_deterministic_given_the_seeds_even_with_dropout():
    train_data, val_data = _spiral_data()
    runs = []
    for _ in range(2):
        model = _mlp(seed=3, dropout=0.2)
        history = train(
            model, softmax_cross_entropy, Optimizer(model, adam, learning_rate=1e-2), train_data, 5, 16,
            np.random.default_rng(7), val_data, progress=False,
        )  # fmt: skip
        runs.append((history, model.state_dict()))
    (h1, s1), (h2, s2) = runs
    for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
        assert h1[key] == h2[key], f"{key} differs between two runs with the same seeds"
    assert all(np.array_equal(s1[k], s2[k]) for k in s1)


def test_best_checkpoint_is_restored_at_the_end_and_kept_on_request():
    train_data, val_data = _spiral_data()
    # a learning rate so large that validation loss goes up and down, so the best epoch is not the last
    kwargs = dict(epochs=12, batch_size=16, val_data=val_data, progress=False)
    model = _mlp(seed=5)
    history = train(
        model, softmax_cross_entropy, Optimizer(model, sgd, learning_rate=1.0), train_data,
        rng=np.random.default_rng(0), checkpoint="keep", **kwargs,
    )  # fmt: skip
    best = history["best_epoch"]
    assert best is not None and history["val_loss"][best - 1] == min(history["val_loss"])
    assert best != 12, "test needs a run whose best epoch is not the last; change the learning rate"
    final = model.state_dict()
    assert not all(np.array_equal(final[k], history["best_state"][k]) for k in final)

    model = _mlp(seed=5)
    history = train(
        model, softmax_cross_entropy, Optimizer(model, sgd, learning_rate=1.0), train_data,
        rng=np.random.default_rng(0), checkpoint="best", **kwargs,
    )  # fmt: skip
    restored = model.state_dict()
    assert all(np.array_equal(restored[k], history["best_state"][k]) for k in restored)
    val_loss, _ = evaluate(model, softmax_cross_entropy, *val_data)
    assert val_loss == pytest.approx(min(history["val_loss"]), rel=1e-6)


def test_monitoring_validation_accuracy_picks_the_most_accurate_epoch():
    train_data, val_data = _spiral_data()
    model = _mlp(seed=2)
    history = train(
        model, softmax_cross_entropy, Optimizer(model, adam, learning_rate=1e-2), train_data, 15, 32,
        np.random.default_rng(0), val_data, progress=False, monitor="val_acc",
    )  # fmt: skip
    best = history["best_epoch"]
    assert history["val_acc"][best - 1] == max(history["val_acc"])
    assert history["val_acc"].index(max(history["val_acc"])) == best - 1  # the first of ties


def test_regression_targets_train_with_nan_accuracies():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 1)).astype(np.float32)
    y = (3 * X - 1).astype(np.float32)
    model = Sequential(Linear(1, 1, rng=0))
    history = train(
        model, mse_loss, Optimizer(model, sgd, learning_rate=0.1), (X, y), 30, 20, rng, progress=False,
        checkpoint=None,
    )  # fmt: skip
    assert history["train_loss"][-1] < 1e-4 and math.isnan(history["train_acc"][-1])
    assert history["val_loss"] == [] and history["best_state"] is None
    np.testing.assert_allclose(model.layers[0].params["w"], [[3.0]], atol=1e-2)


def test_binary_classifier_with_float_targets_gets_an_accuracy():
    X, y = make_xor(400, 0.0, np.random.default_rng(0))
    t = y.astype(np.float32)[:, None]  # (N, 1) 0/1 targets for binary cross-entropy
    model = Sequential(Linear(2, 32, rng=0), ReLU(), Linear(32, 1, rng=1))
    history = train(
        model, binary_cross_entropy_with_logits, Optimizer(model, adam, learning_rate=2e-2), (X, t), 40, 32,
        np.random.default_rng(0), (X, t), progress=False,
    )  # fmt: skip
    assert history["val_acc"][-1] > 0.9
    assert accuracy(model, X, y) == pytest.approx(accuracy(model, X, t))


def test_accuracy_reads_class_scores_binary_logits_and_sequences():
    class Fixed(Sequential):
        def __init__(self, scores):
            super().__init__()
            self.scores = scores

        def forward(self, x):
            return self.scores  # predict() sends all four rows in one batch

    X = np.arange(4, dtype=np.float32)[:, None]
    scores = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    assert accuracy(Fixed(scores), X, np.array([0, 1, 1, 1])) == 0.75
    assert accuracy(Fixed(np.array([[0.5], [-1.0], [2.0], [-0.1]])), X, np.array([1, 0, 0, 0])) == 0.75
    seq = np.zeros((4, 2, 3))
    seq[:, :, 2] = 1.0  # always predicts class 2
    assert accuracy(Fixed(seq), X, np.array([[2, 2], [2, 0], [1, 1], [2, 2]])) == 5 / 8
    with pytest.raises(ValueError, match="class labels"):
        accuracy(Fixed(scores), X, np.array([0.5, 1.0, 0.0, 1.0]))


def test_predict_uses_eval_mode_in_batches_and_restores_the_mode():
    model = Sequential(Dropout(0.5, rng=0))
    X = np.ones((10, 3), dtype=np.float32)
    np.testing.assert_array_equal(predict(model, X, batch_size=3), X)  # dropout is the identity in eval
    assert model.training
    model.eval()
    predict(model, X)
    assert not model.training


def test_progress_prints_one_line_per_epoch_outside_a_terminal(capsys, monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    train_data, val_data = _spiral_data()
    model = _mlp()
    train(
        model,
        softmax_cross_entropy,
        Optimizer(model, sgd),
        train_data,
        3,
        64,
        np.random.default_rng(0),
        val_data,
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3, train_loss") and "val_acc" in lines[-1]
    train(
        model, softmax_cross_entropy, Optimizer(model, sgd), train_data, 2, 64, np.random.default_rng(0),
        val_data, progress=False,
    )  # fmt: skip
    assert capsys.readouterr().out == ""


def test_progress_mode_uses_a_bar_in_a_terminal_and_lines_in_ci(monkeypatch):
    class Terminal:
        def isatty(self):
            return True

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert train_module._progress_mode(True) == "bar"
    assert train_module._progress_mode(False) == "off"
    monkeypatch.setenv("CI", "true")
    assert train_module._progress_mode(True) == "lines"


def test_progress_bar_run_writes_the_bar_to_stderr_not_stdout(capsys, monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(train_module, "_progress_mode", lambda progress: "bar")
    train_data, val_data = _spiral_data()
    model = _mlp()
    train(
        model,
        softmax_cross_entropy,
        Optimizer(model, sgd),
        train_data,
        2,
        64,
        np.random.default_rng(0),
        val_data,
    )
    captured = capsys.readouterr()
    assert captured.out == "" and "8/8" in captured.err and "val_loss" in captured.err


def test_train_rejects_checkpointing_without_validation_data_and_bad_arguments():
    train_data, _ = _spiral_data()
    model = _mlp()
    opt = Optimizer(model, sgd)
    with pytest.raises(ValueError, match="needs val_data"):
        train(model, softmax_cross_entropy, opt, train_data, 1, 32, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        train(model, softmax_cross_entropy, opt, train_data, 1, 32, 0, checkpoint=None)
    with pytest.raises(ValueError, match="checkpoint must be one of"):
        train(
            model, softmax_cross_entropy, opt, train_data, 1, 32, np.random.default_rng(0), checkpoint="last"
        )


def test_mlp_on_the_digits_reaches_95_percent_on_the_test_split():
    train_data, val_data, test_data = (load_digits(s) for s in ("train", "val", "test"))
    model = Sequential(Linear(64, 128, rng=0), ReLU(), Linear(128, 10, rng=1))
    train(
        model, softmax_cross_entropy, Optimizer(model, adam, learning_rate=1e-3), train_data, 20, 32,
        np.random.default_rng(0), val_data, progress=False,
    )  # fmt: skip
    test_acc = accuracy(model, *test_data)
    assert test_acc > 0.95, f"digits test accuracy {test_acc:.3f} (measured 0.97 when written)"
