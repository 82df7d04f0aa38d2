"""Tests for course/data/seq_tasks.py: seeded, correct targets, the date task round-trips, padding and
masks."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from course.data.seq_tasks import (
    DATE_FORMATS,
    EOS,
    PAD,
    SOS,
    TASKS,
    Vocab,
    date_pairs,
    encode_pairs,
    format_date,
    make_task,
)

# strptime patterns for the DATE_FORMATS fields; strptime accepts an unpadded day for %d and matches
# month and weekday names case-insensitively (in the default C locale, i.e. English).
_STRPTIME = {"{Y}": "%Y", "{m}": "%m", "{d}": "%d", "{e}": "%d", "{B}": "%B", "{b}": "%b", "{A}": "%A"}


def _strptime_pattern(template: str) -> str:
    for field, code in _STRPTIME.items():
        template = template.replace(field, code)
    return template


@pytest.mark.parametrize("name", TASKS)
def test_every_task_is_deterministic_under_a_seed_and_changes_with_it(name):
    assert make_task(name, 50, seed=3).pairs == make_task(name, 50, seed=3).pairs
    assert make_task(name, 50, seed=3).pairs != make_task(name, 50, seed=4).pairs


def test_reversal_sorting_and_addition_targets_are_correct():
    for s, t in make_task("reversal", 200, 0).pairs:
        assert t == s[::-1] and 1 <= len(s) <= 10
    for s, t in make_task("sorting", 200, 0).pairs:
        assert t == "".join(sorted(s))
    for s, t in make_task("addition", 200, 0).pairs:
        a, b = s.split("+")
        assert int(t) == int(a) + int(b)


def test_date_task_round_trips_through_strptime_to_the_iso_target():
    patterns = [_strptime_pattern(f) for f in DATE_FORMATS]
    for source, target in date_pairs(500, seed=0):
        parsed = set()
        for p in patterns:
            try:
                parsed.add(datetime.datetime.strptime(source, p).date())
            except ValueError:
                continue
        assert parsed == {datetime.date.fromisoformat(target)}, (source, target, parsed)


def test_date_task_covers_every_format_and_uses_english_names():
    assert format_date(datetime.date(2021, 3, 5), "{A}, {B} {e}, {Y}") == "Friday, March 5, 2021"
    assert format_date(datetime.date(2021, 3, 5), "{d}.{m}.{Y}") == "05.03.2021"
    assert format_date(datetime.date(1999, 12, 31), "{b} {e}, {Y}", case="upper") == "DEC 31, 1999"
    sources = [s for s, _ in date_pairs(300, seed=1)]
    assert any("/" in s for s in sources) and any("." in s for s in sources)
    assert any(s.isupper() for s in sources) and any(s.islower() and s[0].isalpha() for s in sources)


def test_vocab_reserves_pad_start_end_and_decode_stops_at_end():
    v = Vocab("ba")
    assert len(v) == 5 and (PAD, SOS, EOS) == (0, 1, 2)
    assert v.encode("ab") == [3, 4]
    assert v.decode([SOS, 3, 4, EOS, 3]) == "ab"
    with pytest.raises(ValueError, match="'z'"):
        v.encode("z")


def test_encode_pairs_pads_on_the_right_and_shifts_targets_for_teacher_forcing():
    v = Vocab("0123456789")
    enc = encode_pairs([("12", "21"), ("345", "543")], v, v)
    one, two, three = v.stoi["1"], v.stoi["2"], v.stoi["3"]
    np.testing.assert_array_equal(enc.src[0], [one, two, PAD])
    np.testing.assert_array_equal(enc.src_mask, [[True, True, False], [True, True, True]])
    np.testing.assert_array_equal(enc.tgt_in[0], [SOS, two, one, PAD])
    np.testing.assert_array_equal(enc.tgt_out[0], [two, one, EOS, PAD])
    np.testing.assert_array_equal(enc.tgt_mask[0], [True, True, True, False])
    assert enc.tgt_in[1, 1] == v.stoi["5"] and enc.src[1, 0] == three
    assert len(enc.subset(np.array([1]))) == 1
