"""The array backend: one code path for CPU (NumPy) and GPU (CuPy).

Every layer starts with ``xp = get_array_module(x)`` and then writes ``xp.exp``, ``xp.zeros``...
so the same source runs on NumPy arrays and on CuPy arrays (lecture 000: "what it is not: GPU").
This is the only file in the library that imports cupy.

Choosing the device:
- ``use_device("cpu" | "gpu")`` is the explicit switch; ``default_device()`` reads it;
- the environment variable ``COURSE_DEVICE`` (``cpu`` or ``gpu``) sets the starting value, so a
  notebook can be moved to the GPU without editing it;
- ``to_device(x)`` moves an array to the current device, ``to_cpu(x)`` always returns NumPy.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import numpy as np

_VALID_DEVICES = ("cpu", "gpu")


def _import_cupy() -> ModuleType | None:
    try:
        import cupy  # noqa: PLC0415  (the one place cupy is imported)
    except Exception:  # ImportError, or a CUDA driver error raised at import time
        return None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
    except Exception:
        return None
    return cupy


_cupy: ModuleType | None = None
_cupy_probed = False


def cupy_module() -> ModuleType | None:
    """The cupy module if it imports and a CUDA device is present, else None (probed once)."""
    global _cupy, _cupy_probed
    if not _cupy_probed:
        _cupy, _cupy_probed = _import_cupy(), True
    return _cupy


def gpu_available() -> bool:
    """True when cupy imports and sees at least one CUDA device."""
    return cupy_module() is not None


def _device_from_env() -> str:
    value = os.environ.get("COURSE_DEVICE", "cpu").strip().lower()
    if value not in _VALID_DEVICES:
        raise ValueError(f"COURSE_DEVICE must be one of {_VALID_DEVICES}, got {value!r}")
    return value


_device = _device_from_env()


def use_device(device: str) -> None:
    """Set the device that ``to_device`` and the data helpers put new arrays on."""
    global _device
    if device not in _VALID_DEVICES:
        raise ValueError(f"device must be one of {_VALID_DEVICES}, got {device!r}")
    if device == "gpu" and not gpu_available():
        raise RuntimeError("use_device('gpu'): cupy is not installed or no CUDA device is visible")
    _device = device


def default_device() -> str:
    """The current device, 'cpu' or 'gpu'."""
    if _device == "gpu" and not gpu_available():
        raise RuntimeError("COURSE_DEVICE=gpu but cupy is not installed or no CUDA device is visible")
    return _device


def get_array_module(*arrays: Any) -> ModuleType:
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``.

    Non-array arguments (None, Python scalars, dicts) are ignored, so it can be called on a whole
    argument list.
    """
    cp = _cupy if _cupy_probed else None
    if cp is None:
        # Only look for cupy when something that is not NumPy was passed: keeps the CPU path free of
        # the (slow) CUDA probe.
        if all(isinstance(a, (np.ndarray, np.generic, int, float, bool, type(None))) for a in arrays):
            return np
        cp = cupy_module()
        if cp is None:
            return np
    for a in arrays:
        if isinstance(a, cp.ndarray):
            return cp
    return np


def is_gpu_array(x: Any) -> bool:
    """True for a CuPy array."""
    return get_array_module(x) is not np


def to_device(x: Any, device: str | None = None) -> Any:
    """Move an array (or a dict/list/tuple of arrays) to ``device`` (default: the current device)."""
    device = device or default_device()
    if isinstance(x, dict):
        return {k: to_device(v, device) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_device(v, device) for v in x)
    if device == "cpu":
        return to_cpu(x)
    cp = cupy_module()
    if cp is None:
        raise RuntimeError("to_device(..., 'gpu'): cupy is not installed or no CUDA device is visible")
    return cp.asarray(x) if isinstance(x, (np.ndarray, np.generic, cp.ndarray)) else x


def to_cpu(x: Any) -> Any:
    """Return a NumPy copy of a CuPy array; NumPy arrays and non-arrays pass through unchanged."""
    if isinstance(x, dict):
        return {k: to_cpu(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_cpu(v) for v in x)
    if is_gpu_array(x):
        return x.get()
    return x
