"""Tests for course.core.plots on the Agg backend: titles and labels are set, curves hold the history's
numbers, the decision regions are the classifier's predictions, and plt.show is never called."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course.core.plots import plot_accuracy_curves, plot_decision_boundary, plot_loss_curves  # noqa: E402

HISTORY = {
    "train_loss": [1.0, 0.6, 0.4, 0.3],
    "val_loss": [1.1, 0.7, 0.5, 0.6],
    "train_acc": [0.5, 0.7, 0.8, 0.9],
    "val_acc": [0.4, 0.6, 0.75, 0.7],
    "best_epoch": 3,
}


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("library code must not call plt.show()")

    monkeypatch.setattr(plt, "show", fail)
    yield
    plt.close("all")


def _labelled(ax):
    return ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_loss_curves_plot_both_losses_against_epochs_and_mark_the_best_epoch():
    ax = plot_loss_curves(HISTORY)
    assert _labelled(ax)
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["training"].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(lines["validation"].get_ydata(), HISTORY["val_loss"])
    assert lines["best checkpoint"].get_xdata()[0] == 3


def test_loss_curves_draw_on_a_given_axes_without_validation_data():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    out = plot_loss_curves({"train_loss": [2.0, 1.0], "val_loss": []}, ax=ax2, log_scale=True)
    assert out is ax2 and len(ax1.get_lines()) == 0 and len(ax2.get_lines()) == 1
    assert ax2.get_yscale() == "log"
    with pytest.raises(ValueError, match="train_loss"):
        plot_loss_curves({"train_loss": []})


def test_accuracy_curves_are_in_percent():
    ax = plot_accuracy_curves(HISTORY)
    assert _labelled(ax) and "%" in ax.get_ylabel()
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [40, 60, 75, 70])
    with pytest.raises(ValueError, match="no accuracies"):
        plot_accuracy_curves({"train_loss": [1.0], "train_acc": [float("nan")], "val_acc": []})


def _mesh_labels(ax, resolution):
    return np.asarray(ax.collections[0].get_array()).reshape(resolution, resolution)


@pytest.mark.parametrize(
    "predict_fn",
    [
        lambda g: (g[:, 0] > 0).astype(np.int64),  # labels
        lambda g: np.stack([-g[:, 0], g[:, 0]], axis=1),  # class scores
        lambda g: g[:, :1].astype(np.float64),  # a binary logit, (M, 1)
    ],
    ids=["labels", "scores", "logits"],
)
def test_decision_regions_are_the_predictions_on_the_grid(predict_fn):
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [-0.5, 0.8], [0.7, -0.2]], dtype=np.float32)
    y = np.array([0, 1, 0, 1])
    ax = plot_decision_boundary(predict_fn, X, y, resolution=40)
    assert _labelled(ax)
    xx = np.linspace(-1.5, 1.5, 40)  # data range [-1, 1] padded by 25% of 2 on each side
    expected = np.tile((xx > 0).astype(float), (40, 1))  # the class changes along x1 only
    np.testing.assert_array_equal(_mesh_labels(ax, 40), expected)
    assert ax.get_xlim() == pytest.approx((-1.5, 1.5))
    np.testing.assert_array_equal(ax.collections[1].get_offsets(), X)


def test_decision_boundary_checks_shapes():
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        plot_decision_boundary(lambda g: g[:, 0] > 0, np.zeros((5, 3)), np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match="y must have shape"):
        plot_decision_boundary(lambda g: g[:, 0] > 0, np.zeros((5, 2)), np.zeros(4, dtype=np.int64))
