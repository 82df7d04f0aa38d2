"""Argument checks: errors name the function, the argument, the expected and the received shape."""

import numpy as np
import pytest

from course.core.validation import check_array, check_choice, check_positive


def test_letters_bind_across_arguments_and_report_bound_values():
    dims = {}
    check_array("f", "x", np.zeros((4, 12)), ("N", "D"), dims=dims)
    with pytest.raises(ValueError, match=r"f: w must have shape \(D, M\) = \(12, \*\), got \(10, 5\)"):
        check_array("f", "w", np.zeros((10, 5)), ("D", "M"), dims=dims)


def test_wrong_rank_and_dtype_are_named():
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        check_array("conv", "x", np.zeros((2, 3)), ndim=4)
    with pytest.raises(ValueError, match="y must be an integer array"):
        check_array("loss", "y", np.zeros(3), dtype_kind="i")
    with pytest.raises(ValueError, match="must be an array"):
        check_array("f", "x", [1, 2, 3])


def test_choice_and_positive():
    with pytest.raises(ValueError, match="mode must be one of"):
        check_choice("bn", "mode", "test", ("train", "eval"))
    with pytest.raises(ValueError, match="p must be > 0"):
        check_positive("f", "p", 0)
    check_positive("f", "p", 0, allow_zero=True)
