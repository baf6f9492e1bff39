"""Instrument scoring: totals, subscales, 0..1 scores and flags, bad items refused by number."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.core.learning.instruments import SRS, WAI_SR, load_wording, score_items


def test_wai_sr_total_subscales_and_score() -> None:
    items = [5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 5, 4]
    rating = score_items("wai-sr", items)
    assert rating.total == 39
    # task = items 1, 2, 10, 12; bond = 3, 5, 7, 9; goal = 4, 6, 8, 11
    assert rating.subscales == {"task": 14, "bond": 10, "goal": 15}
    assert rating.score == pytest.approx((39 - 12) / 48)
    assert rating.flags == {}  # no official cut-offs (Horvath)


def test_wai_sr_ends_of_the_scale() -> None:
    assert score_items("wai-sr", [1] * 12).score == 0
    assert score_items("wai-sr", [5] * 12).score == 1
    assert score_items("wai-sr", [5] * 12).total == 60


def test_wai_sr_reads_integral_floats_as_integers() -> None:
    assert score_items("wai-sr", [4.0] * 12).total == 48


def test_srs_total_score_and_subscales() -> None:
    rating = score_items("srs", [9.1, 8.7, 9.3, 8.9])
    assert rating.total == 36
    assert rating.score == pytest.approx(36 / 40)
    assert rating.subscales == {
        "relationship": 9.1,
        "goals": 8.7,
        "approach": 9.3,
        "overall": 8.9,
    }


@pytest.mark.parametrize(
    ("items", "concern"),
    [
        ([9.1, 8.7, 9.3, 8.9], False),
        ([9, 9, 9, 8.9], True),
        ([0, 0, 0, 0], True),
        ([10] * 4, False),
    ],
)
def test_srs_concern_below_36(items: list[float], concern: bool) -> None:
    assert score_items("srs", items).flags == {"concern": concern}


@pytest.mark.parametrize(
    ("code", "items", "message"),
    [
        ("wai-sr", [3] * 11, "takes 12 items, got 11"),
        ("wai-sr", [3] * 13, "takes 12 items, got 13"),
        ("srs", [5] * 3, "takes 4 items, got 3"),
        ("wai-sr", [3, 3, 0, *[3] * 9], "item 3 must be an integer from 1 to 5"),
        ("wai-sr", [*[3] * 11, 6], "item 12 must be an integer from 1 to 5"),
        ("wai-sr", [3, 3.5, *[3] * 10], "item 2 must be an integer"),
        ("wai-sr", [True, *[3] * 11], "item 1 must be an integer"),
        ("wai-sr", ["3", *[3] * 11], "item 1 must be an integer"),
        ("wai-sr", [None, *[3] * 11], "item 1 must be an integer"),
        ("srs", [5, 10.5, 5, 5], "item 2 must be a number from 0 to 10"),
        ("srs", [5, 5, -0.1, 5], "item 3 must be a number from 0 to 10"),
        ("srs", [5, 5, 5, math.nan], "item 4 must be a finite number"),
        ("srs", [math.inf, 5, 5, 5], "item 1 must be a finite number"),
        ("srs", [5, 5, False, 5], "item 3 must be a number"),
        ("srs", "5555", "must be a list of 4 numbers"),
        ("phq-9", [1] * 9, "Unknown instrument 'phq-9'"),
    ],
)
def test_bad_items_are_refused_by_number(code: str, items: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        score_items(code, items)


@pytest.mark.parametrize("inst", [WAI_SR, SRS])
def test_subscales_cover_every_item_once(inst: Any) -> None:
    numbers = sorted(i for items in inst.subscales.values() for i in items)
    assert numbers == list(range(1, inst.n_items + 1))


@given(st.lists(st.integers(1, 5), min_size=12, max_size=12))
def test_wai_sr_subscales_add_up_to_the_total(items: list[int]) -> None:
    rating = score_items("wai-sr", items)
    assert sum(rating.subscales.values()) == rating.total == sum(items)
    assert 0 <= rating.score <= 1


@given(st.lists(st.floats(0, 10), min_size=4, max_size=4))
def test_srs_score_stays_on_0_to_1(items: list[float]) -> None:
    rating = score_items("srs", items)
    assert 0 <= rating.score <= 1
    assert rating.flags["concern"] == (rating.total < 36)


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "wording.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_load_wording_reads_a_licensed_file(tmp_path: Path) -> None:
    data = {
        "wai-sr": [f"item {i}" for i in range(1, 13)],
        "srs": [f"item {i}" for i in range(1, 5)],
    }
    assert load_wording(_write(tmp_path, data)) == data


def test_load_wording_accepts_one_licensed_instrument(tmp_path: Path) -> None:
    data = {"srs": [f"item {i}" for i in range(1, 5)]}
    assert load_wording(_write(tmp_path, data)) == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"wai-sr": ["item"] * 11}, "wai-sr must be a list of 12 texts"),
        ({"srs": "item 1"}, "srs must be a list of 4 texts"),
        ({"srs": ["item 1", 2, "item 3", "item 4"]}, "srs item 2 must be non-empty text"),
        ({"srs": ["item 1", "  ", "item 3", "item 4"]}, "srs item 2 must be non-empty text"),
        ({"oq-45": ["item"] * 45}, "Unknown instrument 'oq-45'"),
        (["item 1"], "must be a JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_load_wording_refuses_bad_files(tmp_path: Path, data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_wording(_write(tmp_path, data))
