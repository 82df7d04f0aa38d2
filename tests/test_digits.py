"""Digits learning results on a reduced budget (full figures: experiments/run_digits.py,
docs/results_digits.md)."""

import pytest

from experiments.digits import train_digits


@pytest.mark.slow
def test_two_layer_mlp_learns_digits_above_96_percent():
    # full budget (60 epochs, 3 seeds): 97.8% mean; 30 epochs, seed 0: 97.7%
    assert train_digits("mlp", seed=0, epochs=30)["test_acc"] >= 0.96


@pytest.mark.slow
def test_small_cnn_learns_digits_above_95_percent_in_eight_epochs():
    # full budget (30 epochs, 3 seeds): 99.2% mean; 8 epochs, seed 0: 96.7%
    assert train_digits("cnn", seed=0, epochs=8)["test_acc"] >= 0.95


def test_train_digits_rejects_unknown_model():
    with pytest.raises(ValueError, match="kind must be"):
        train_digits("rnn", seed=0)
