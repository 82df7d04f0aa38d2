"""The array backend: NumPy path, device switch, and the GPU path where a GPU exists."""

import numpy as np
import pytest

import course.core.backend as backend


def test_numpy_arrays_and_scalars_select_numpy():
    assert backend.get_array_module(np.zeros(2), 3.0, None) is np
    assert backend.get_array_module() is np


def test_to_cpu_passes_numpy_through_and_recurses_into_containers():
    x = np.arange(3)
    assert backend.to_cpu(x) is x
    out = backend.to_cpu({"a": x, "b": [x, (x,)]})
    assert out["a"] is x and out["b"][1][0] is x


def test_use_device_rejects_unknown_names():
    with pytest.raises(ValueError, match="device must be one of"):
        backend.use_device("tpu")


def test_use_device_gpu_without_gpu_says_why():
    if backend.gpu_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        backend.use_device("gpu")


@pytest.mark.gpu
def test_cupy_arrays_select_cupy_and_round_trip():
    if not backend.gpu_available():
        pytest.skip("no GPU: cupy missing or no CUDA device")
    x = np.arange(6.0).reshape(2, 3)
    g = backend.to_device(x, "gpu")
    assert backend.get_array_module(g) is not np
    assert np.array_equal(backend.to_cpu(g), x)
