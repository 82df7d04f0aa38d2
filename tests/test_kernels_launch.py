"""Tests for course/kernels/launch.py: the backend choice and the grid arithmetic."""

import numpy as np
import pytest

from course.kernels.launch import blocks, resolve_backend

pytestmark = pytest.mark.a09


def test_auto_backend_sends_numpy_arrays_to_the_twin_and_explicit_choices_stand():
    x = np.zeros(3)
    assert resolve_backend("f", "auto", x, None) == "numpy"
    assert resolve_backend("f", "cuda", x) == "cuda"
    assert resolve_backend("f", "numpy", x) == "numpy"


def test_unknown_backend_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match=r"f: backend must be one of \('auto', 'numpy', 'cuda'\), got 'gpu'"):
        resolve_backend("f", "gpu", np.zeros(1))


@pytest.mark.parametrize("n,threads,expected", [(1, 32, 1), (32, 32, 1), (33, 32, 2), (100, 7, 15)])
def test_blocks_is_the_ceiling_of_items_over_threads(n, threads, expected):
    assert blocks(n, threads) == expected


def test_an_empty_launch_still_gets_one_block():
    assert blocks(0, 8) == 1
