"""Tests for course.data: shipped files match their checksums, splits are fixed, disjoint and stratified,
toy sets are seeded, minibatches cover every example once in the order of minibatch_indices."""

import shutil

import numpy as np
import pytest

import course.data.files as files
from course.data import (
    CharVocab,
    iterate_minibatches,
    load_digits,
    load_digits_raw,
    load_text,
    make_circles,
    make_polynomial_regression,
    make_spirals,
    make_xor,
    text_splits,
    train_val_test_split,
)
from course.data.batching import minibatch_indices


def test_shipped_files_match_their_sha256():
    for name, digest in files.expected_checksums().items():
        assert files.sha256_of(files.DATA_DIR / name) == digest, f"{name} does not match checksums.sha256"


def test_modified_file_raises_an_error_naming_both_digests(tmp_path, monkeypatch):
    shutil.copy(files.CHECKSUM_FILE, tmp_path / "checksums.sha256")
    (tmp_path / "digits.npz").write_bytes(b"not the digits")
    monkeypatch.setattr(files, "DATA_DIR", tmp_path)
    monkeypatch.setattr(files, "CHECKSUM_FILE", tmp_path / "checksums.sha256")
    monkeypatch.setattr(files, "_verified", set())
    with pytest.raises(RuntimeError, match="corrupted or was modified.*expected"):
        files.verified_path("digits.npz")


def test_digits_raw_has_1797_images_of_8x8_counts_0_to_16_and_ten_classes():
    images, labels = load_digits_raw()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and images.max() == 16 and images.min() == 0
    assert np.array_equal(np.unique(labels), np.arange(10))
    # first row of sklearn's digits.csv.gz, a zero
    assert labels[0] == 0 and images[0, 0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_digits_splits_are_disjoint_cover_everything_and_are_stratified():
    images, labels = load_digits_raw()
    parts = {s: load_digits(s, dtype=np.float64) for s in ("train", "val", "test")}
    assert [len(parts[s][0]) for s in ("train", "val", "test")] == [1197, 300, 300]

    # the three splits together are the full data set as a multiset of (image, label) rows, so none
    # is repeated or missing (a few digits images are exact duplicates, hence multisets, not sets)
    def rows(X, y):
        return sorted(x.tobytes() + bytes([int(t)]) for x, t in zip(X, y, strict=True))

    split_rows = sorted(r for s in parts for r in rows((parts[s][0] * 16).astype(np.uint8), parts[s][1]))
    assert split_rows == rows(images.reshape(1797, 64), labels)
    for s in ("val", "test"):
        counts = np.bincount(parts[s][1], minlength=10)
        assert counts.min() >= 28 and counts.max() <= 32, f"{s} split is not stratified: {counts}"


def test_digits_split_is_fixed_by_seed_and_changes_with_it():
    a, b, c = load_digits("val", seed=0), load_digits("val", seed=0), load_digits("val", seed=1)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_digits_scaling_dtype_and_image_layout():
    X, y = load_digits("test", dtype=np.float32)
    assert X.shape == (300, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    X4, _ = load_digits("test", dtype=np.float64, flatten=False)
    assert X4.shape == (300, 1, 8, 8) and X4.dtype == np.float64
    assert np.array_equal(X4.reshape(300, 64), X.astype(np.float64))
    with pytest.raises(ValueError, match="split must be one of"):
        load_digits("validation")


def test_shakespeare_text_opens_with_sonnet_1_and_is_ascii():
    text = load_text()
    assert 700_000 < len(text) < 1_100_000
    assert "From fairest creatures we desire increase," in text[:200]
    assert "To be, or not to be" in text
    assert text.isascii() and "\r" not in text
    assert load_text(max_chars=1000) == text[:1000]


def test_char_vocab_round_trips_and_rejects_unknown_characters():
    text = load_text(max_chars=5000)
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.max() == vocab.size - 1 and vocab.decode(ids) == text
    assert vocab.itos == sorted(vocab.itos) and all(vocab.stoi[c] == i for i, c in enumerate(vocab.itos))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("~")


def test_text_splits_are_contiguous_and_rejoin_to_the_text():
    text = "abcdefghij" * 100
    train, val, test = text_splits(text, (0.8, 0.1, 0.1))
    assert (len(train), len(val), len(test)) == (800, 100, 100) and train + val + test == text
    with pytest.raises(ValueError):
        text_splits(text, (0.8, 0.3, 0.1))


@pytest.mark.parametrize(
    "make",
    [
        lambda r: make_spirals(50, 3, 0.2, r),
        lambda r: make_circles(150, rng=r),
        lambda r: make_xor(150, 0.1, r),
    ],
)
def test_toy_sets_are_reproducible_from_the_generator(make):
    X1, y1 = make(np.random.default_rng(3))
    X2, y2 = make(np.random.default_rng(3))
    X3, _ = make(np.random.default_rng(4))
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2) and not np.array_equal(X1, X3)
    assert X1.shape == (150, 2) and X1.dtype == np.float32 and y1.dtype == np.int64


def test_spirals_have_balanced_classes_within_the_unit_disc_when_noise_free():
    X, y = make_spirals(40, 4, noise=0.0, rng=np.random.default_rng(0))
    assert np.array_equal(np.bincount(y), [40] * 4)
    assert np.all(np.linalg.norm(X, axis=1) <= 1 + 1e-6)


def test_circles_radii_and_xor_labels_follow_their_definitions():
    X, y = make_circles(200, noise=0.0, factor=0.3, rng=np.random.default_rng(0))
    r = np.linalg.norm(X, axis=1)
    assert np.allclose(r[y == 0], 1.0, atol=1e-6) and np.allclose(r[y == 1], 0.3, atol=1e-6)
    X, y = make_xor(500, noise=0.0, rng=np.random.default_rng(0))
    assert np.array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))


def test_polynomial_regression_noise_free_targets_equal_the_true_function():
    x, t = make_polynomial_regression(30, noise=0.0, rng=np.random.default_rng(0))
    assert x.dtype == np.float64 and np.all(np.diff(x) >= 0)
    assert np.allclose(t, np.sin(2 * np.pi * x))
    x, t = make_polynomial_regression(30, true_fn=lambda v: 3 * v, noise=0.1, rng=np.random.default_rng(0))
    assert 0.03 < np.std(t - 3 * x) < 0.2


def test_train_val_test_split_is_a_disjoint_cover():
    X = np.arange(100, dtype=np.float64)[:, None]
    y = np.arange(100)
    (a, ya), (b, yb), (c, yc) = train_val_test_split(X, y, (0.7, 0.2, 0.1), np.random.default_rng(0))
    assert (len(a), len(b), len(c)) == (70, 20, 10)
    assert sorted(np.concatenate([ya, yb, yc]).tolist()) == list(range(100))
    assert np.array_equal(a[:, 0], ya)  # rows stay paired with their labels
    with pytest.raises(ValueError, match="same length"):
        train_val_test_split(X, y[:5])


def test_minibatches_cover_each_example_once_and_reshuffle_each_epoch():
    X = np.arange(103, dtype=np.float32)[:, None]
    y = np.arange(103)
    rng = np.random.default_rng(0)
    epoch1 = list(iterate_minibatches(X, y, 10, rng))
    epoch2 = list(iterate_minibatches(X, y, 10, rng))
    assert [len(b[0]) for b in epoch1] == [10] * 10 + [3]
    seen = np.concatenate([b[1] for b in epoch1])
    assert sorted(seen.tolist()) == list(range(103))
    assert all(np.array_equal(xb[:, 0], yb) for xb, yb in epoch1)
    assert not np.array_equal(seen, np.concatenate([b[1] for b in epoch2]))
    ordered = np.concatenate([b[1] for b in iterate_minibatches(X, y, 10, shuffle=False)])
    assert np.array_equal(ordered, y)


@pytest.mark.a04  # minibatch_indices is graded in assignment 04
def test_minibatch_indices_cut_one_permutation_into_consecutive_pieces():
    batches = minibatch_indices(10, 4, np.random.default_rng(0))
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(batches), np.random.default_rng(0).permutation(10))
    assert len(minibatch_indices(7, 7, np.random.default_rng(1))) == 1
    assert len(minibatch_indices(7, 100, np.random.default_rng(1))) == 1
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        minibatch_indices(7, 2, 0)


@pytest.mark.a04
def test_shuffled_minibatches_are_the_batches_of_minibatch_indices():
    X = np.arange(23, dtype=np.float32)[:, None] * 10
    y = np.arange(23)
    batches = list(iterate_minibatches(X, y, 5, np.random.default_rng(3)))
    indices = minibatch_indices(23, 5, np.random.default_rng(3))
    assert len(batches) == len(indices)
    for (xb, yb), idx in zip(batches, indices, strict=True):
        np.testing.assert_array_equal(yb, idx)
        np.testing.assert_array_equal(xb, X[idx])
