"""Toy sequence-to-sequence tasks, generated offline from a seed (lecture 003, "sequence to sequence").

Each task is a list of (source, target) string pairs, read and written one character at a time:

- reversal:  "38172"           -> "27183"
- sorting:   "38172"           -> "12378"
- addition:  "123+45"          -> "168"
- dates:     "March 5, 2021", "05.03.2021", "FRIDAY, MARCH 5, 2021" ... -> "2021-03-05" (ISO 8601)

The date task is the classic attention demo: the model must find the day, the month and the year
wherever the human format put them, so its attention maps are easy to read. Month and weekday names
are English and written out here (never taken from the locale), so the data are the same everywhere.

``Vocab`` maps characters to ids with three reserved ids: 0 padding, 1 start-of-sequence, 2
end-of-sequence. ``encode_pairs`` turns pairs into padded integer arrays with masks.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.core.validation import check_choice, check_positive

PAD, SOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<s>", "</s>")

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Date formats as str.format templates over these fields (strftime-like names, but never locale-dependent):
# {Y} 4-digit year, {m} 2-digit month, {d} 2-digit day, {e} day without padding, {B} month name,
# {b} its first three letters, {A} weekday name.
DATE_FORMATS = (
    "{B} {e}, {Y}",  # March 5, 2021
    "{e} {B} {Y}",  # 5 March 2021
    "{b} {e}, {Y}",  # Mar 5, 2021
    "{d} {b} {Y}",  # 05 Mar 2021
    "{A}, {B} {e}, {Y}",  # Friday, March 5, 2021
    "{A} {e} {b} {Y}",  # Friday 5 Mar 2021
    "{d}.{m}.{Y}",  # 05.03.2021 (day first, as in most of Europe)
    "{m}/{d}/{Y}",  # 03/05/2021 (month first, as in the US)
    "{Y}/{m}/{d}",  # 2021/03/05
)
DATE_CASES = ("as is", "lower", "upper")
FIRST_DATE, LAST_DATE = datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)


class Vocab:
    """Characters <-> integer ids, with 0 = padding, 1 = start and 2 = end of sequence.

    ``Vocab("0123456789")`` has 13 ids: the three specials, then the characters in sorted order.
    """

    def __init__(self, chars: str | Sequence[str]) -> None:
        symbols = sorted(set(chars))
        self.itos: list[str] = [*SPECIALS, *symbols]
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"Vocab({''.join(self.itos[len(SPECIALS) :])!r})"

    def encode(self, text: str) -> list[int]:
        """Ids of the characters of ``text`` (no specials added); raises ValueError on an unknown one."""
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError as err:
            raise ValueError(f"Vocab.encode: character {err.args[0]!r} is not in {self!r}") from None

    def decode(self, ids: Sequence[int] | Any) -> str:
        """Text of ``ids``, stopping at the first end-of-sequence and skipping padding and start ids."""
        out = []
        for i in (int(i) for i in ids):
            if i == EOS:
                break
            if i >= len(SPECIALS):
                out.append(self.itos[i])
        return "".join(out)


def _random_strings(n: int, rng: np.random.Generator, min_len: int, max_len: int, alphabet: str) -> list[str]:
    lengths = rng.integers(min_len, max_len + 1, size=n)
    return ["".join(rng.choice(list(alphabet), size=int(L))) for L in lengths]


def reversal_pairs(
    n: int, seed: int | np.random.Generator, min_len: int = 1, max_len: int = 10, alphabet: str = "0123456789"
) -> list[tuple[str, str]]:
    """``n`` pairs (s, reversed s), s a uniform string over ``alphabet`` of length min_len .. max_len."""
    check_positive("reversal_pairs", "min_len", min_len)
    rng = np.random.default_rng(seed)
    return [(s, s[::-1]) for s in _random_strings(n, rng, min_len, max_len, alphabet)]


def sorting_pairs(
    n: int, seed: int | np.random.Generator, min_len: int = 1, max_len: int = 10, alphabet: str = "0123456789"
) -> list[tuple[str, str]]:
    """``n`` pairs (s, sorted s)."""
    check_positive("sorting_pairs", "min_len", min_len)
    rng = np.random.default_rng(seed)
    return [(s, "".join(sorted(s))) for s in _random_strings(n, rng, min_len, max_len, alphabet)]


def addition_pairs(n: int, seed: int | np.random.Generator, max_digits: int = 3) -> list[tuple[str, str]]:
    """``n`` pairs ("a+b", "a+b evaluated"), a and b with 1 to ``max_digits`` digits (no leading zeros)."""
    check_positive("addition_pairs", "max_digits", max_digits)
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(n):
        a, b = (int(rng.integers(0, 10 ** int(rng.integers(1, max_digits + 1)))) for _ in range(2))
        pairs.append((f"{a}+{b}", str(a + b)))
    return pairs


def format_date(date: datetime.date, template: str, case: str = "as is") -> str:
    """Write ``date`` with one of ``DATE_FORMATS`` (English names, independent of the locale)."""
    check_choice("format_date", "case", case, DATE_CASES)
    text = template.format(
        Y=f"{date.year:04d}",
        m=f"{date.month:02d}",
        d=f"{date.day:02d}",
        e=str(date.day),
        B=MONTHS[date.month - 1],
        b=MONTHS[date.month - 1][:3],
        A=WEEKDAYS[date.weekday()],
    )
    return text.lower() if case == "lower" else text.upper() if case == "upper" else text


def date_pairs(
    n: int, seed: int | np.random.Generator, formats: Sequence[str] = DATE_FORMATS
) -> list[tuple[str, str]]:
    """``n`` pairs (a date in a random human format and case, the same date as YYYY-MM-DD).

    Dates are uniform over 1900-01-01 .. 2099-12-31; format and case are uniform over ``formats`` and
    ``DATE_CASES``.
    """
    rng = np.random.default_rng(seed)
    first, span = FIRST_DATE.toordinal(), LAST_DATE.toordinal() - FIRST_DATE.toordinal() + 1
    pairs = []
    for ordinal, f, c in zip(
        rng.integers(0, span, size=n),
        rng.integers(0, len(formats), size=n),
        rng.integers(0, len(DATE_CASES), size=n),
        strict=True,
    ):
        date = datetime.date.fromordinal(first + int(ordinal))
        pairs.append((format_date(date, formats[int(f)], DATE_CASES[int(c)]), date.isoformat()))
    return pairs


def _date_source_chars() -> str:
    names = "".join(MONTHS) + "".join(WEEKDAYS)
    return names + names.lower() + names.upper() + "0123456789 ,./"


TASKS = ("reversal", "sorting", "addition", "dates")


@dataclass
class SeqTask:
    """A task's pairs and its source and target vocabularies (fixed by the task, not by the sample)."""

    name: str
    pairs: list[tuple[str, str]]
    src_vocab: Vocab
    tgt_vocab: Vocab


def make_task(name: str, n: int, seed: int | np.random.Generator, **kwargs: Any) -> SeqTask:
    """``n`` pairs of task ``name`` (one of ``TASKS``) and its vocabularies; kwargs go to the generator."""
    check_choice("make_task", "name", name, TASKS)
    if name == "reversal":
        alphabet = kwargs.get("alphabet", "0123456789")
        return SeqTask(name, reversal_pairs(n, seed, **kwargs), Vocab(alphabet), Vocab(alphabet))
    if name == "sorting":
        alphabet = kwargs.get("alphabet", "0123456789")
        return SeqTask(name, sorting_pairs(n, seed, **kwargs), Vocab(alphabet), Vocab(alphabet))
    if name == "addition":
        return SeqTask(name, addition_pairs(n, seed, **kwargs), Vocab("0123456789+"), Vocab("0123456789"))
    return SeqTask(name, date_pairs(n, seed, **kwargs), Vocab(_date_source_chars()), Vocab("0123456789-"))


@dataclass
class EncodedPairs:
    """Padded integer arrays for a list of pairs.

    - src: (N, Ts) source ids, right-padded (a left-to-right encoder's states at the real characters
      then do not depend on how much padding follows).
    - src_mask: (N, Ts) bool, True at real characters.
    - tgt_in: (N, Tt) decoder inputs, start id then the target (teacher forcing), right-padded.
    - tgt_out: (N, Tt) what the decoder must predict: the target then the end id, right-padded.
    - tgt_mask: (N, Tt) bool, True where tgt_out counts in the loss.
    """

    src: np.ndarray
    src_mask: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    tgt_mask: np.ndarray

    def __len__(self) -> int:
        return self.src.shape[0]

    def subset(self, index: Any) -> EncodedPairs:
        """The rows ``index`` (an int array or a slice), e.g. one minibatch."""
        return EncodedPairs(
            self.src[index],
            self.src_mask[index],
            self.tgt_in[index],
            self.tgt_out[index],
            self.tgt_mask[index],
        )


def encode_pairs(pairs: Sequence[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab) -> EncodedPairs:
    """Pad and stack ``pairs`` into integer arrays (int64) and boolean masks; see ``EncodedPairs``."""
    if len(pairs) == 0:
        raise ValueError("encode_pairs: pairs is empty")
    srcs = [src_vocab.encode(s) for s, _ in pairs]
    tgts = [tgt_vocab.encode(t) for _, t in pairs]
    N, Ts, Tt = len(pairs), max(map(len, srcs)), max(map(len, tgts)) + 1
    src = np.full((N, Ts), PAD, dtype=np.int64)
    tgt_in = np.full((N, Tt), PAD, dtype=np.int64)
    tgt_out = np.full((N, Tt), PAD, dtype=np.int64)
    for i, (s, t) in enumerate(zip(srcs, tgts, strict=True)):
        src[i, : len(s)] = s
        tgt_in[i, : len(t) + 1] = [SOS, *t]
        tgt_out[i, : len(t) + 1] = [*t, EOS]
    return EncodedPairs(src, src != PAD, tgt_in, tgt_out, tgt_out != PAD)
