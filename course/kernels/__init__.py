"""Hand-written GPU kernels, each with a NumPy twin that it is tested against (lecture 000, "GPU";
assignment 09).

- ``course.kernels.lstm_cell``: the element-wise part of an LSTM step fused into one kernel (forward and
  backward), and an LSTM sequence pair and module that use it;
- ``course.kernels.softmax``: row-wise stable softmax with a shared-memory block reduction;
- ``course.kernels.matmul``: matrix multiply with shared-memory tiles, then with register blocking;
- ``course.kernels.launch``: the backend choice, the lazy numba import and the simulator switch;
- ``course.kernels.timing``: round-robin timing, the device's peaks, a report and the roofline plot.

The kernels are written with numba.cuda, which is imported only when a kernel is first launched, so the
rest of the library needs neither numba nor a GPU. ``python -m bench.gpu`` (the benchmark, outside the
library) times them on a GPU.
"""
