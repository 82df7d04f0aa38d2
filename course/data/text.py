"""Text corpora for the character-level language models (lecture 003, assignment 06).

``shakespeare.txt`` is public-domain Shakespeare (the Sonnets, then Hamlet, Macbeth, King Lear, Othello
and Romeo and Juliet), about 0.8 MB of ASCII; see ``course/data/README.md`` for where it comes from.
``CharVocab`` maps characters to integer ids and back; ``text_splits`` cuts a text into contiguous
train/val/test pieces (contiguous, not shuffled, so no line leaks across the split).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course.core.validation import check_choice, check_positive
from course.data.files import verified_path

TEXTS = {"shakespeare": "shakespeare.txt"}


def load_text(name: str = "shakespeare", max_chars: int | None = None) -> str:
    """Return a shipped corpus as one string (checksum verified).

    Inputs:
    - name: 'shakespeare'.
    - max_chars: keep only the first ``max_chars`` characters (the Sonnets are the first ~95,000), for
      quick experiments on a slow machine.
    """
    check_choice("load_text", "name", name, tuple(TEXTS))
    text = verified_path(TEXTS[name]).read_text(encoding="ascii")
    if max_chars is not None:
        check_positive("load_text", "max_chars", max_chars)
        text = text[:max_chars]
    return text


class CharVocab:
    """Character vocabulary: ``stoi`` (char -> id) and ``itos`` (id -> char), ids sorted by character.

    Build it from the training text: ``vocab = CharVocab(text)``; ``vocab.size`` is V.
    """

    def __init__(self, text: str) -> None:
        if len(text) == 0:
            raise ValueError("CharVocab: text must not be empty")
        self.itos: list[str] = sorted(set(text))
        self.stoi: dict[str, int] = {ch: i for i, ch in enumerate(self.itos)}

    @property
    def size(self) -> int:
        """Number of distinct characters V."""
        return len(self.itos)

    def __len__(self) -> int:
        return self.size

    def encode(self, text: str) -> np.ndarray:
        """(T,) int64 ids of the characters of ``text``; an unknown character raises ValueError."""
        try:
            return np.array([self.stoi[ch] for ch in text], dtype=np.int64)
        except KeyError as err:
            raise ValueError(
                f"CharVocab.encode: character {err.args[0]!r} is not in the vocabulary"
            ) from None

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """The string spelled by the ids (any integer sequence or array)."""
        return "".join(self.itos[int(i)] for i in ids)


def text_splits(text: str, fractions: Sequence[float] = (0.9, 0.05, 0.05)) -> tuple[str, str, str]:
    """Split ``text`` into contiguous (train, val, test) pieces of the given fractions (summing to 1)."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(
            f"text_splits: fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    n = len(text)
    a = int(round(fractions[0] * n))
    b = a + int(round(fractions[1] * n))
    return text[:a], text[a:b], text[b:]
