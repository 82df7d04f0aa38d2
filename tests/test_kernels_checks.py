"""Tests for autograder/checks/a09.py, the hidden checks of the kernels: the library's own kernels pass
every check, and a kernel that is wrong (or writes only part of its output, or changes an input) fails
with a message that names what is off and never the expected values. And the NumPy twins hand out no
answer of an earlier assignment: in that assignment's student edition they raise.

The checks take the student's ``make_..._kernel`` factories; here the factories hand out the library's
compiled kernels (or a broken one). In numba's simulator when no GPU is visible.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from autograder.checks import run
from autograder.editions import build_student_edition
from course.kernels import lstm_cell, matmul, softmax
from course.kernels.launch import import_cuda, use_simulator_unless_gpu

pytest.importorskip("numba")
use_simulator_unless_gpu()  # before the first kernel launch imports numba.cuda
pytestmark = pytest.mark.a09

cuda = import_cuda()  # a module global named cuda: the simulator swaps it while it runs a kernel here


def _np(dt):
    """The NumPy dtype of a numba scalar type (the factories receive numba types)."""
    return np.dtype(str(dt))


FACTORIES = {
    "lstm_cell_forward_kernel": lambda dt: lstm_cell._kernels(_np(dt))[0],
    "lstm_cell_backward_kernel": lambda dt: lstm_cell._kernels(_np(dt))[1],
    "softmax_rows_kernel": lambda threads, dt: softmax._kernel(_np(dt), threads),
    "matmul_tiled_kernel": lambda tile, dt: matmul._tiled_kernel(_np(dt), tile),
    "matmul_register_blocked_kernel": lambda BM, BN, BK, TM, TN, dt: matmul._register_blocked_kernel(
        _np(dt), BM, BN, BK, TM, TN
    ),
}


@pytest.mark.parametrize("task", sorted(FACTORIES))
def test_the_librarys_kernels_pass_their_hidden_checks(task, capsys):
    run(f"a09.{task}", FACTORIES[task])
    assert capsys.readouterr().out.startswith(f"ok: {task} agrees with")


def _writes_all_but_the_last_column(threads, dt):
    @cuda.jit
    def kernel(x, out):
        row, D = cuda.blockIdx.x, x.shape[1]
        if cuda.threadIdx.x == 0:
            for j in range(D - 1):
                out[row, j] = dt(1) / D

    return kernel


def test_a_softmax_kernel_that_leaves_entries_unwritten_fails_without_revealing_values():
    with pytest.raises(AssertionError, match=r"softmax_rows_kernel: output 'out' contains inf or nan") as err:
        run("a09.softmax_rows_kernel", _writes_all_but_the_last_column)
    assert "threads" in str(err.value)  # the message names the launch, not the expected probabilities


def _sums_only_the_first_tile(tile, dt):
    @cuda.jit
    def kernel(A, B, C):
        row = cuda.blockIdx.y * tile + cuda.threadIdx.y
        col = cuda.blockIdx.x * tile + cuda.threadIdx.x
        if row < C.shape[0] and col < C.shape[1]:
            acc = dt(0)
            for k in range(min(tile, A.shape[1])):  # wrong as soon as K > tile
                acc += A[row, k] * B[k, col]
            C[row, col] = acc

    return kernel


def test_a_matmul_kernel_that_stops_after_one_tile_fails_with_how_far_off():
    with pytest.raises(
        AssertionError, match=r"matmul_tiled_kernel: output 'C' differs from the reference"
    ) as err:
        run("a09.matmul_tiled_kernel", _sums_only_the_first_tile)
    assert "largest absolute error" in str(err.value) and "tiles of" in str(err.value)


def _writes_into_prev_c(dt):
    @cuda.jit
    def kernel(a, prev_c, next_h, next_c, gates, tanh_c):
        j, n = cuda.grid(2)
        if n < prev_c.shape[0] and j < prev_c.shape[1]:
            prev_c[n, j] = dt(0)

    return kernel


def test_an_lstm_kernel_that_writes_into_its_input_fails():
    with pytest.raises(AssertionError, match="lstm_cell_forward_kernel modified its input prev_c in place"):
        run("a09.lstm_cell_forward_kernel", _writes_into_prev_c)


@pytest.mark.parametrize(
    "assignment, call, graded",
    [
        ("a02_backprop_modules", "softmax.softmax_rows_numpy(np.ones((2, 3)))", "softmax"),
        ("a06_recurrent_nets", "lstm_cell.lstm_cell_forward_numpy(np.ones((2, 12)), np.ones((2, 3)))",
         "lstm_step_forward"),
        ("a06_recurrent_nets", "lstm_cell.lstm_cell_backward_numpy(np.ones((2, 3)), np.ones((2, 3)), "
         "(np.ones((2, 12)), np.ones((2, 3)), np.ones((2, 3))))", "lstm_step_backward"),
    ],
)  # fmt: skip
def test_twins_raise_in_the_student_edition_of_the_assignment_that_grades_their_answer(
    tmp_path, assignment, call, graded
):
    build_student_edition(assignment, tmp_path)
    code = f"import numpy as np\nfrom course.kernels import lstm_cell, softmax\n{call}"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode != 0, f"{call} works in the {assignment} edition: it hands out {graded}"
    # The kernels are a09's: an earlier edition leaves them out altogether, a later one stubs the answer.
    stderr = result.stderr
    absent = ("ImportError" in stderr or "ModuleNotFoundError" in stderr) and "kernels" in stderr
    assert absent or f"NotImplementedError: {graded} is graded in assignment" in result.stderr, result.stderr
