"""Checks of assignment 09, GPU kernels: each kernel the student writes, built by the student's
``make_..._kernel`` factory and launched on fresh random inputs with block shapes other than the
notebook's, against the library's NumPy twin (``course.kernels``) or ``A @ B``.

In numba's CUDA simulator (no GPU visible) every CUDA thread is a Python thread, so the sizes and blocks
are tiny; on a GPU they are GPU-sized. Inputs are copied to the device, outputs start filled with NaN (an
entry no thread writes shows up), and the inputs must come back unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from autograder.checks.core import Spec, check_seed, check_with_reference, reference, sandbox_library


def _simulator(side: Any) -> bool:
    """Whether the student's side (``side``: one of its objects) runs numba's CUDA simulator."""
    return sandbox_library(side, "course.kernels.launch", "simulator_enabled")()


def _blocks(n: int, threads: int) -> int:
    return reference("kernels.launch.blocks")(n, threads)


def _numba_dtype(side: Any, dtype: Any) -> Any:
    """The numba type of ``dtype`` on the student's side (a kernel is compiled there); sent by name."""
    return sandbox_library(side, "course.kernels.launch", "numba_dtype")(np.dtype(dtype).name)


def _launch(
    label: str, kernel: Any, grid: Any, block: Any, inputs: Mapping[str, np.ndarray], out_shapes: Sequence
) -> list[np.ndarray]:
    """kernel[grid, block](*inputs, *outputs) on device copies; the outputs, after checking the inputs.

    The device arrays are made where the kernel runs (the sandbox, in the judge) by that side's numba."""
    cuda = sandbox_library(kernel, "course.kernels.launch", "import_cuda")()
    dtype = next(iter(inputs.values())).dtype
    dev_in = [cuda.to_device(x.copy()) for x in inputs.values()]
    dev_out = [cuda.to_device(np.full(shape, np.nan, dtype=dtype)) for shape in out_shapes]
    try:
        kernel[grid, block](*dev_in, *dev_out)
    except NotImplementedError:
        raise AssertionError(f"{label} is not implemented yet (it raised NotImplementedError).") from None
    for (name, x), d in zip(inputs.items(), dev_in, strict=True):
        if not np.array_equal(d.copy_to_host(), x):
            raise AssertionError(
                f"{label} modified its input {name} in place: write only to the output arrays."
            )
    return [d.copy_to_host() for d in dev_out]


def _compare(spec: Spec, got: Sequence, expected: Sequence, names: Sequence[str], desc: str, **tol) -> None:
    tol = {"rtol": spec.rtol, "atol": spec.atol, **tol}
    for name, g, e in zip(names, got, expected, strict=True):
        check_with_reference(spec.task, g, e, what=f"output {name!r}", inputs=desc, **tol)


def _cell_size(rng: np.random.Generator, simulator: bool) -> tuple[int, int]:
    """(N, H) of a hidden LSTM-cell check."""
    if simulator:
        return int(rng.integers(1, 7)), int(rng.integers(1, 12))
    return int(rng.integers(1, 200)), int(rng.integers(1, 700))


def _check_lstm_cell_forward_kernel(spec: Spec, make_kernel: Callable[..., Any]) -> None:
    forward = reference(spec.reference)
    simulator = _simulator(make_kernel)
    launches = spec.options["launches_sim" if simulator else "launches_gpu"]
    for trial, (block, dtype) in enumerate(zip(launches, spec.options["dtypes"], strict=True)):
        rng = np.random.default_rng(check_seed(spec.task, trial))
        N, H = _cell_size(rng, simulator)
        inputs = {
            "a": (3 * rng.standard_normal((N, 4 * H))).astype(dtype),
            "prev_c": rng.standard_normal((N, H)).astype(dtype),
        }
        grid = (_blocks(H, block[0]), _blocks(N, block[1]))
        got = _launch(
            spec.task,
            make_kernel(_numba_dtype(make_kernel, dtype)),
            grid,
            block,
            inputs,
            [(N, H), (N, H), (N, 4 * H), (N, H)],
        )
        next_h, next_c, (gates, _, tanh_c) = forward(**inputs)
        tol = spec.options["float32_tolerance"] if dtype == np.float32 else {}
        desc = (
            f"a of shape {(N, 4 * H)}, prev_c of shape {(N, H)}, {np.dtype(dtype).name}, "
            f"blocks of {block} threads"
        )
        _compare(
            spec, got, [next_h, next_c, gates, tanh_c], ["next_h", "next_c", "gates", "tanh_c"], desc, **tol
        )
    print(f"ok: {spec.task} agrees with the reference on {len(launches)} random input sets and launch shapes")


def _check_lstm_cell_backward_kernel(spec: Spec, make_kernel: Callable[..., Any]) -> None:
    forward = reference("kernels.lstm_cell.lstm_cell_forward_numpy")
    backward = reference(spec.reference)
    simulator = _simulator(make_kernel)
    launches = spec.options["launches_sim" if simulator else "launches_gpu"]
    for trial, block in enumerate(launches):
        rng = np.random.default_rng(check_seed(spec.task, trial))
        N, H = _cell_size(rng, simulator)
        _, _, (gates, prev_c, tanh_c) = forward(
            3 * rng.standard_normal((N, 4 * H)), rng.standard_normal((N, H))
        )
        inputs = {
            "dnext_h": rng.standard_normal((N, H)),
            "dnext_c": rng.standard_normal((N, H)),
            "gates": gates,
            "prev_c": prev_c,
            "tanh_c": tanh_c,
        }
        grid = (_blocks(H, block[0]), _blocks(N, block[1]))
        kernel = make_kernel(_numba_dtype(make_kernel, np.float64))
        got = _launch(spec.task, kernel, grid, block, inputs, [(N, 4 * H), (N, H)])
        expected = backward(inputs["dnext_h"], inputs["dnext_c"], (gates, prev_c, tanh_c))
        desc = f"N={N}, H={H}, random dnext_h and dnext_c, blocks of {block} threads"
        _compare(spec, got, expected, ["da", "dprev_c"], desc)
    print(f"ok: {spec.task} agrees with the reference on {len(launches)} random input sets and launch shapes")


def _check_softmax_rows_kernel(spec: Spec, make_kernel: Callable[..., Any]) -> None:
    softmax_rows = reference(spec.reference)
    simulator = _simulator(make_kernel)
    launches = spec.options["launches_sim" if simulator else "launches_gpu"]
    for trial, threads in enumerate(launches):
        rng = np.random.default_rng(check_seed(spec.task, trial))
        if simulator:
            N, D = int(rng.integers(1, 4)), int(rng.integers(1, 20))
        else:
            N, D = int(rng.integers(1, 100)), int(rng.integers(1, 3000))
        # trial 1: every score far below zero (the maximum must start at -inf); trial 2: exp overflows
        # without the shift by the row maximum
        scale, offset = {1: (5.0, -1000.0), 2: (400.0, 0.0)}.get(trial, (5.0, 0.0))
        inputs = {"x": scale * rng.standard_normal((N, D)) + offset}
        kernel = make_kernel(threads, _numba_dtype(make_kernel, np.float64))
        got = _launch(spec.task, kernel, N, threads, inputs, [(N, D)])
        desc = (
            f"x of shape {(N, D)} with scores {offset:g} + {scale:g} * standard normal, "
            f"blocks of {threads} threads"
        )
        _compare(spec, got, [softmax_rows(inputs["x"])], ["out"], desc)
    print(f"ok: {spec.task} agrees with the reference on {len(launches)} random inputs and block sizes")


def _matmul_operands(
    rng: np.random.Generator, sim_max: int, gpu_max: int, simulator: bool
) -> dict[str, np.ndarray]:
    M, K, N = (int(v) for v in rng.integers(1, sim_max if simulator else gpu_max, 3))
    return {"A": rng.standard_normal((M, K)), "B": rng.standard_normal((K, N))}


def _check_matmul_tiled_kernel(spec: Spec, make_kernel: Callable[..., Any]) -> None:
    simulator = _simulator(make_kernel)
    launches = spec.options["launches_sim" if simulator else "launches_gpu"]
    for trial, tile in enumerate(launches):
        rng = np.random.default_rng(check_seed(spec.task, trial))
        inputs = _matmul_operands(rng, 10, 300, simulator)
        (M, K), N = inputs["A"].shape, inputs["B"].shape[1]
        kernel = make_kernel(tile, _numba_dtype(make_kernel, np.float64))
        got = _launch(spec.task, kernel, (_blocks(N, tile), _blocks(M, tile)), (tile, tile), inputs, [(M, N)])
        desc = f"A of shape {(M, K)}, B of shape {(K, N)}, tiles of {tile} x {tile}"
        _compare(spec, got, [inputs["A"] @ inputs["B"]], ["C"], desc)
    print(f"ok: {spec.task} agrees with A @ B on {len(launches)} random shapes and tile sizes")


def _check_matmul_register_blocked_kernel(spec: Spec, make_kernel: Callable[..., Any]) -> None:
    simulator = _simulator(make_kernel)
    launches = spec.options["launches_sim" if simulator else "launches_gpu"]
    for trial, (BM, BN, BK, TM, TN) in enumerate(launches):
        rng = np.random.default_rng(check_seed(spec.task, trial))
        inputs = _matmul_operands(rng, 14, 400, simulator)
        (M, K), N = inputs["A"].shape, inputs["B"].shape[1]
        kernel = make_kernel(BM, BN, BK, TM, TN, _numba_dtype(make_kernel, np.float64))
        grid, block = (_blocks(N, BN), _blocks(M, BM)), (BN // TN, BM // TM)
        got = _launch(spec.task, kernel, grid, block, inputs, [(M, N)])
        desc = (
            f"A of shape {(M, K)}, B of shape {(K, N)}, blocking (BM, BN, BK, TM, TN) = "
            f"{(BM, BN, BK, TM, TN)}"
        )
        _compare(spec, got, [inputs["A"] @ inputs["B"]], ["C"], desc)
    print(f"ok: {spec.task} agrees with A @ B on {len(launches)} random shapes and blockings")


SPECS = [
    Spec(
        "lstm_cell_forward_kernel",
        ("make_lstm_cell_forward_kernel",),
        _check_lstm_cell_forward_kernel,
        reference="kernels.lstm_cell.lstm_cell_forward_numpy",
        options={
            "launches_sim": [(8, 4), (4, 2), (16, 1), (2, 8)],  # threads per block along (H, N)
            "launches_gpu": [(32, 8), (64, 4), (16, 16), (128, 1)],
            "dtypes": [np.float64, np.float64, np.float64, np.float32],
            "float32_tolerance": {"rtol": 1e-5, "atol": 1e-6},
        },
    ),
    Spec(
        "lstm_cell_backward_kernel",
        ("make_lstm_cell_backward_kernel",),
        _check_lstm_cell_backward_kernel,
        reference="kernels.lstm_cell.lstm_cell_backward_numpy",
        options={"launches_sim": [(8, 4), (4, 2), (16, 1)], "launches_gpu": [(32, 8), (64, 4), (16, 16)]},
    ),
    Spec(
        "softmax_rows_kernel",
        ("make_softmax_rows_kernel",),
        _check_softmax_rows_kernel,
        reference="kernels.softmax.softmax_rows_numpy",
        atol=1e-300,
        options={"launches_sim": [8, 4, 16, 1], "launches_gpu": [256, 128, 1024, 32]},  # threads per row
    ),
    Spec(
        "matmul_tiled_kernel",
        ("make_matmul_tiled_kernel",),
        _check_matmul_tiled_kernel,
        rtol=1e-9,
        atol=1e-9,
        options={"launches_sim": [4, 2, 3], "launches_gpu": [32, 16, 8]},  # tile sizes
    ),
    Spec(
        "matmul_register_blocked_kernel",
        ("make_matmul_register_blocked_kernel",),
        _check_matmul_register_blocked_kernel,
        rtol=1e-9,
        atol=1e-9,
        options={  # (BM, BN, BK, TM, TN)
            "launches_sim": [(8, 8, 4, 2, 2), (4, 8, 2, 2, 2), (8, 4, 4, 4, 2)],
            "launches_gpu": [(128, 128, 8, 8, 8), (64, 64, 8, 4, 4), (128, 64, 8, 8, 4)],
        },
    ),
]
