"""One pytest marker per assignment (``pytest -m a05`` runs a05's tests only, notebook included).

A test file belongs to the assignment that grades what it tests; a test that spans assignments (the
pipeline, the build) is marked with each assignment it is parametrised over. The solution notebooks under
``solutions/aNN_*`` carry their folder's marker.
"""

from __future__ import annotations

import re

import pytest

# test file (without .py) -> the assignments whose graded code or notebook it checks
ASSIGNMENT_OF_FILE = {
    "test_linear": ("a01",),
    "test_affine": ("a02",),
    "test_activations": ("a02",),
    "test_elementwise": ("a02",),
    "test_losses": ("a02",),
    "test_gradcheck": ("a02",),
    "test_two_layer": ("a02",),
    "test_minitf": ("a03",),
    "test_minitf_gradients": ("a03",),
    "test_minitf_ops": ("a03",),
    "test_minitf_training": ("a03",),
    "test_optim": ("a04",),
    "test_init": ("a04",),
    "test_train": ("a04",),
    "test_hyperparameter_search": ("a04",),
    "test_dropout": ("a04",),
    "test_batchnorm": ("a04",),
    "test_convolution": ("a05",),
    "test_pooling": ("a05",),
    "test_residual": ("a05",),
    "test_digits": ("a05",),
    "test_digits_cnn": ("a05",),
    "test_broken_variants": ("a02", "a05"),
    "test_embedding": ("a06",),
    "test_rnn": ("a06",),
    "test_lstm": ("a06",),
    "test_gru": ("a06",),
    "test_temporal": ("a06",),
    "test_tbptt": ("a06",),
    "test_charlm": ("a06",),
    "test_ngram": ("a06",),
    "test_vanishing": ("a06",),
    "test_recurrent_broken_variants": ("a06",),
    "test_seq2seq": ("a07",),
    "test_attention": ("a07",),
    "test_decoding": ("a07",),
    "test_seq_tasks": ("a07",),
    "test_pointer": ("a08",),
    "test_combinatorial": ("a08",),
    "test_kernels_launch": ("a09",),
    "test_kernels_lstm_cell": ("a09",),
    "test_kernels_matmul": ("a09",),
    "test_kernels_softmax": ("a09",),
    "test_kernels_gpu_bench": ("a09",),
    "test_gpu_layers": ("a09",),
    "test_kernels_timing": ("a09",),
    "test_kernels_checks": ("a09",),
    "test_bench_gpu": ("a09",),
    "test_autoencoder": ("a10",),
    "test_adversarial": ("a10",),
    "test_graph": ("a10",),
    "test_linear_regions": ("a10",),
}
ASSIGNMENT_PARAM = re.compile(r"\b(a\d\d)_[a-z0-9_]+")


def pytest_collection_modifyitems(items):
    for item in items:
        path = item.path
        found: set[str] = set()
        folder = re.match(r"(a\d\d)_", path.parent.name)
        if path.suffix == ".ipynb" and folder:
            found.add(folder.group(1))
        found.update(ASSIGNMENT_OF_FILE.get(path.stem, ()))
        # a test parametrised over assignments (the build, the pipeline) belongs to the one it runs on
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            for value in callspec.params.values():
                match = ASSIGNMENT_PARAM.fullmatch(value) if isinstance(value, str) else None
                if match:
                    found.add(match.group(1))
        for assignment in sorted(found):
            item.add_marker(getattr(pytest.mark, assignment))
