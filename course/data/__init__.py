"""course.data: the data sets of the course, shipped offline, and the helpers to split and batch them.

- ``load_digits``: 8x8 handwritten digits (1797 images, fixed stratified train/val/test split).
- ``load_text``, ``CharVocab``, ``text_splits``: public-domain Shakespeare for character models.
- ``make_spirals``, ``make_circles``, ``make_xor``, ``make_polynomial_regression``: seeded toy sets.
- ``make_sbm``: a seeded stochastic block model graph for node classification (assignment 10).
- ``train_val_test_split``, ``iterate_minibatches``: the workflow helpers.

Every shipped file is checked against its SHA-256 (``checksums.sha256``) when first loaded.
Provenance and licences: ``course/data/README.md``.
"""

from course.data.batching import iterate_minibatches, train_val_test_split
from course.data.digits import load_digits, load_digits_raw, stratified_order
from course.data.files import verified_path
from course.data.graphs import make_sbm
from course.data.text import CharVocab, load_text, text_splits
from course.data.toy import make_circles, make_polynomial_regression, make_spirals, make_xor

__all__ = [
    "CharVocab",
    "iterate_minibatches",
    "load_digits",
    "load_digits_raw",
    "load_text",
    "make_circles",
    "make_polynomial_regression",
    "make_sbm",
    "make_spirals",
    "make_xor",
    "stratified_order",
    "text_splits",
    "train_val_test_split",
    "verified_path",
]
