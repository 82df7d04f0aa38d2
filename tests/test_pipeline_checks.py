"""course.grading's visible checks and autograder.checks' hidden ones: messages and verdicts (no nbgrader)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograder import editions
from autograder.checks import core
from course import grading
from course.models.linear import ridge_loss, squared_loss


def test_expect_close_names_the_entry_both_values_and_a_constant_factor():
    with pytest.raises(AssertionError) as err:
        grading.expect_close(
            "dw", np.array([1.0, -2.0, 4.0]), np.array([2.0, -4.0, 8.0]), hint="check the 2/N."
        )
    message = str(err.value)
    assert "dw is wrong at index (0,): got 1, expected 2 (3 of 3 entries are off)" in message
    assert "0.5 times the expected one" in message and message.endswith("Hint: check the 2/N.")


def test_expect_close_reports_shape_none_and_nan_before_values():
    with pytest.raises(AssertionError, match=r"has shape \(3, 1\), expected \(3,\)"):
        grading.expect_close("y_hat", np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(AssertionError, match="forget the return statement"):
        grading.expect_close("loss", None, 1.0)
    with pytest.raises(AssertionError, match=r"not finite at index \(1,\)"):
        grading.expect_close("w", np.array([0.0, np.nan]), np.zeros(2))


def test_expect_close_passes_within_tolerance_and_says_what_it_checked(capsys):
    grading.expect_close("loss", 1.0 + 1e-9, 1.0)
    grading.expect_shape("X", np.zeros((2, 3)), (2, 3))
    grading.expect_equal("best degree", 2, 2)
    out = capsys.readouterr().out
    assert "ok: loss matches" in out and "ok: X has shape (2, 3)" in out and "ok: best degree == 2" in out


def _inputs(rng):
    return {"X": rng.standard_normal((6, 3)), "w": rng.standard_normal(3), "y": rng.standard_normal(6)}


def test_check_function_accepts_the_reference_itself():
    core.check_function(squared_loss, "models.linear.squared_loss", _inputs, output_names=("loss", "dw"))


def test_check_function_rejects_a_wrong_term_without_revealing_expected_values():
    def half_gradient(X, w, y):
        loss, dw = squared_loss(X, w, y)
        return loss, dw / 2

    with pytest.raises(AssertionError) as err:
        core.check_function(half_gradient, "models.linear.squared_loss", _inputs, output_names=("loss", "dw"))
    message = str(err.value)
    assert "output 'dw' differs from the reference" in message and "X of shape (6, 3)" in message
    rng = np.random.default_rng(core.check_seed("models.linear.squared_loss", 0))
    expected = squared_loss(**_inputs(rng))[1]
    assert not any(f"{v:.3g}" in message for v in expected), "the message leaks an expected value"


def test_check_function_catches_in_place_modification_and_wrong_arity():
    def in_place(X, w, y, lam):
        w[0] = 0.0  # the classic ridge mistake: zeroing the bias of w itself
        return ridge_loss(X, w, y, lam)

    make = lambda rng: {**_inputs(rng), "lam": 0.5}
    with pytest.raises(AssertionError, match="modified its input w in place"):
        core.check_function(in_place, "models.linear.ridge_loss", make)
    with pytest.raises(AssertionError, match=r"returned a float, expected a tuple of 2 values \(loss, dw\)"):
        core.check_function(
            lambda X, w, y, lam: 0.0, "models.linear.ridge_loss", make, output_names=("loss", "dw")
        )


def test_check_function_turns_not_implemented_into_a_plain_failure():
    def stub(X, w, y):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="not implemented yet"):
        core.check_function(stub, "models.linear.squared_loss", _inputs)


def test_check_forward_backward_compares_outputs_and_every_gradient():
    import course.models.linear as L

    def forward(X, w):
        return L.linear_predict(X, w), (X, w)

    def backward(dout, cache):
        X, w = cache
        return np.outer(dout, w), X.T @ dout

    def wrong_backward(dout, cache):
        dX, dw = backward(dout, cache)
        return dX, 2 * dw

    # a tiny reference pair registered under course_reference for this test only
    import types

    module = types.ModuleType("course_reference.pairs_for_test")
    module.lin_forward, module.lin_backward = forward, backward
    sys.modules["course_reference.pairs_for_test"] = module
    try:
        make = lambda rng: {"X": rng.standard_normal((4, 3)), "w": rng.standard_normal(3)}
        core.check_forward_backward(forward, backward, "pairs_for_test.lin", make, grads=("X", "w"))
        with pytest.raises(AssertionError, match="lin_backward: output 'dw' differs"):
            core.check_forward_backward(forward, wrong_backward, "pairs_for_test.lin", make, grads=("X", "w"))
    finally:
        del sys.modules["course_reference.pairs_for_test"]


def test_hidden_checks_refuse_to_run_in_a_student_edition_without_the_reference(tmp_path):
    editions.build_student_edition("a01_linear_models", tmp_path)
    code = textwrap.dedent(
        """
        import numpy as np
        from autograder.checks import core
        try:
            core.check_function(lambda x: x, "models.linear.linear_features", lambda rng: {"x": np.zeros(2)})
        except core.GraderOnlyError as err:
            print("refused:", err)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONSAFEPATH": "1"}
    env.pop("COURSE_REFERENCE_PATH", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: Hidden tests run only in the course grader" in result.stdout


def test_course_preprocessors_are_enabled_and_do_their_job():
    import nbformat

    from autograder.preprocessors import HideHiddenTestsAndTracebacks, StripCellTags

    cell = nbformat.v4.new_code_cell("x = 1\n### BEGIN HIDDEN TESTS\nsecret_check()\n### END HIDDEN TESTS")
    cell.metadata["tags"] = ["skip-execution"]
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="dw is off",
            traceback=["Traceback (most recent call last)", "  File x", "boom"],
        )
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    for pp in (StripCellTags(), HideHiddenTestsAndTracebacks()):
        assert pp.enabled, f"{type(pp).__name__} would be skipped by nbconvert"
        nb, _ = pp(nb, {})
    out = nb.cells[0]
    assert "tags" not in out.metadata
    assert "secret_check" not in out.source and "hidden tests: their code is not shown" in out.source
    assert out.outputs[0].traceback == ["AssertionError: dw is off"]


def test_submission_copy_renames_a_lone_misnamed_notebook_and_rejects_broken_json(tmp_path):
    import nbformat

    from autograder import pipeline

    src = tmp_path / "in"
    src.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), src / "a01_linear_models (1).ipynb")
    reason, notes = pipeline._prepare_submission(src, tmp_path / "out", ["a01_linear_models.ipynb"])
    assert reason is None and notes == ["a01_linear_models (1).ipynb graded as a01_linear_models.ipynb"]
    assert (tmp_path / "out" / "a01_linear_models.ipynb").is_file()
    assert (src / "a01_linear_models (1).ipynb").is_file(), "the submitted file must stay as it was"
    (src / "a01_linear_models (1).ipynb").write_text('{"cells": [')
    reason, _ = pipeline._prepare_submission(src, tmp_path / "out", ["a01_linear_models.ipynb"])
    assert reason.startswith("a01_linear_models.ipynb is not a readable notebook")
