"""Launch helpers shared by the hand-written CUDA kernels (lecture 000, "GPU"; assignment 09).

Numba compiles a Python function written against ``numba.cuda`` (``cuda.grid``, ``cuda.shared.array``,
``cuda.syncthreads``) into a GPU kernel. Numba is imported here lazily, on the first kernel launch, for
two reasons: importing ``course`` must not need numba, and numba decides once, when ``numba.cuda`` is
first imported, whether it talks to a real GPU or to its *simulator* (``NUMBA_ENABLE_CUDASIM=1``),
which runs every CUDA thread as a Python thread on NumPy arrays. The simulator is slow (about a
millisecond per thread) but exact, so the same kernel source is tested on a laptop and timed on a GPU.

Which path a kernel dispatch function takes (``backend=``):
- ``"auto"``: CuPy arrays go to the compiled kernel, NumPy arrays to the NumPy twin;
- ``"numpy"``: the twin, written with ``xp = get_array_module(...)`` so it also runs on CuPy (that is
  the "unfused chain of array expressions" each kernel is measured against);
- ``"cuda"``: the kernel, on the real GPU or, when the simulator is on, in the simulator (NumPy arrays
  are copied to the device and back by numba).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

import numpy as np

from course.core.backend import get_array_module, gpu_available
from course.core.validation import check_choice

BACKENDS = ("auto", "numpy", "cuda")


def use_simulator_unless_gpu() -> bool:
    """Turn numba's CUDA simulator on unless a GPU is visible; return True when the simulator is on.

    Must run before ``numba.cuda`` is first imported in this process (tests call it at the top of the
    module). With a GPU present the kernels run on it, so the same tests check the real hardware.
    """
    if "numba.cuda" not in sys.modules and not gpu_available():
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    return simulator_enabled()


def simulator_enabled() -> bool:
    """True when numba's CUDA target is (or, once imported, will be) the simulator."""
    if "numba.cuda" in sys.modules:
        from numba.core import config  # noqa: PLC0415  (numba is optional)

        return bool(config.ENABLE_CUDASIM)
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def import_cuda() -> ModuleType:
    """``numba.cuda`` (imported on first use), with a clear error when numba is missing."""
    try:
        from numba.core import config  # noqa: PLC0415
    except ImportError as err:  # pragma: no cover - numba is in the dev extra
        raise ImportError(
            "the CUDA kernels need numba: pip install numba (and numba-cuda + cupy for a real GPU)"
        ) from err
    if "numba.cuda" not in sys.modules:
        # numba reads its environment once, at import; re-read it in case numba itself was imported
        # before NUMBA_ENABLE_CUDASIM was set.
        config.reload_config()
    from numba import cuda  # noqa: PLC0415

    if not config.ENABLE_CUDASIM and not cuda.is_available():
        raise RuntimeError(
            "backend='cuda' needs a CUDA GPU (numba.cuda.is_available() is False); "
            "set NUMBA_ENABLE_CUDASIM=1 before the first kernel call to run the kernels in the simulator"
        )
    return cuda


def numba_dtype(dtype: Any) -> Any:
    """The numba scalar type for a NumPy dtype (shared/local arrays need it as a compile-time constant)."""
    import numba  # noqa: PLC0415

    return numba.from_dtype(np.dtype(dtype))


def resolve_backend(func: str, backend: str, *arrays: Any) -> str:
    """'numpy' or 'cuda' for ``backend`` in ('auto', 'numpy', 'cuda'); 'auto' follows the arrays' device."""
    check_choice(func, "backend", backend, BACKENDS)
    if backend != "auto":
        return backend
    return "numpy" if get_array_module(*arrays) is np else "cuda"


def kernel_args(cuda: ModuleType, *arrays: Any) -> list[Any]:
    """Arguments for a kernel launch: CuPy arrays become numba device arrays without a synchronisation.

    By default numba synchronises the producer's stream for every array it receives through the CUDA
    array interface; CuPy and numba both launch on the legacy default stream here, so the order is
    already guaranteed and that per-argument device synchronisation would only stall the pipeline.
    NumPy arrays pass through (numba copies them to the device and back, or the simulator uses them).
    """
    out = []
    for x in arrays:
        if isinstance(x, np.ndarray) or not hasattr(x, "__cuda_array_interface__"):
            out.append(x)
        else:
            out.append(cuda.as_cuda_array(x, sync=False))
    return out


def blocks(n: int, threads: int) -> int:
    """Number of blocks of ``threads`` needed to cover ``n`` items: ceil(n / threads), at least 1."""
    return max(1, -(-n // threads))
