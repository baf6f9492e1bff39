"""The therapist index: encoding, read-only arrays, copy-on-change updates."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from matcher.core.scoring import PRIOR_ALLIANCE, TherapistIndex, load_default, match
from matcher.core.scoring.week import (
    MASK_WORDS,
    clock_minutes,
    mask_words,
    rotate,
    week_mask,
    words_mask,
)
from tests.core.scoring.reference import make_intake, make_profile


def rows_of(index: TherapistIndex) -> np.ndarray:
    """Every row, for the per-row helpers."""
    return np.arange(len(index), dtype=np.intp)


def test_rows_are_ordered_by_id_and_looked_up_by_id() -> None:
    index = TherapistIndex.build([make_profile("t-b"), make_profile("t-a"), make_profile("t-c")])
    assert index.ids.tolist() == ["t-a", "t-b", "t-c"]
    assert dict(index.rows) == {"t-a": 0, "t-b": 1, "t-c": 2}
    assert index.names.tolist() == ["Therapist t-a", "Therapist t-b", "Therapist t-c"]


def test_a_repeated_id_keeps_the_last_profile() -> None:
    index = TherapistIndex.build([make_profile("t-1", name="Old"), make_profile("t-1", name="New")])
    assert index.names.tolist() == ["New"]


def test_code_sets_are_bitsets_readable_per_code() -> None:
    profile = make_profile(
        modalities=["cbt", "emdr"],
        languages=["en", "zu"],  # zu is the last ISO 639-1 code: third word
        identities=["latinx"],
        competencies=["lgbtq"],
        licenses=[
            {"jurisdiction": "US-CA", "credential": "LP"},
            {"jurisdiction": "CA-ON", "credential": "RP"},
        ],
    )
    index = TherapistIndex.build([profile])
    row = rows_of(index)
    assert index.column("languages").shape == (1, 3)
    assert index.has("languages", "zu", row).tolist() == [True]
    assert index.has("languages", "es", row).tolist() == [False]
    assert index.has("modalities", "emdr", row).tolist() == [True]
    # A member of a community counts as competent with it.
    assert index.codes_of("competent", 0) == {"latinx", "lgbtq"}
    assert index.codes_of("identities", 0) == {"latinx"}
    assert index.licensed_in("CA-ON").tolist() == [0]
    assert index.licensed_in("US-NY").tolist() == []


def test_tally_counts_each_code_over_the_rows_given() -> None:
    profiles = [
        make_profile(therapist_id="t-1", languages=["en", "zu"], identities=["latinx"]),
        make_profile(therapist_id="t-2", languages=["zu"], identities=["latinx", "lgbtq"]),
        make_profile(therapist_id="t-3", languages=["es"], identities=[]),
    ]
    index = TherapistIndex.build(profiles)
    languages = list(index.table("languages").codes)
    every = index.tally("languages", rows_of(index))
    assert len(every) == len(languages)  # every code, the third word's included
    assert {code: n for code, n in zip(languages, every, strict=True) if n} == {
        "en": 1,
        "zu": 2,
        "es": 1,
    }
    first_two = dict(
        zip(
            index.table("identities").codes,
            index.tally("identities", np.array([0, 1])),
            strict=True,
        )
    )
    assert first_two["latinx"] == 2 and first_two["lgbtq"] == 1
    assert sum(index.tally("identities", np.array([2]))) == 0
    assert sum(index.tally("identities", np.empty(0, dtype=np.intp))) == 0


def test_missing_populations_mean_adults() -> None:
    index = TherapistIndex.build(
        [make_profile(populations=[]), make_profile("t-2", populations=None)]
    )
    assert index.has("populations", "adults", rows_of(index)).tolist() == [True, True]


def test_unknown_codes_get_new_bits() -> None:
    plans = [f"plan_{i}" for i in range(70)]
    index = TherapistIndex.build([make_profile(insurance=plans)])
    assert index.column("insurance").shape == (1, 2)
    assert index.has("insurance", "plan_69", rows_of(index)).tolist() == [True]
    assert index.has("insurance", "plan_70", rows_of(index)).tolist() == [False]


def test_scalars_and_missing_values() -> None:
    with_all = make_profile(
        "t-1",
        gender="man",
        faith="jewish",
        fee={"amount": 150, "currency": "USD", "sliding_scale_min": 90},
        style={"directiveness": -2},
        location={"lat": 45.0, "lon": -90.0},
    )
    bare = make_profile("t-2", gender=None, faith=None, fee=None, style=None, location=None)
    index = TherapistIndex.build([with_all, bare])
    assert index.column("fee")[0] == 150 and index.column("sliding")[0] == 90
    assert math.isnan(index.column("fee")[1]) and math.isnan(index.column("sliding")[1])
    assert index.code("gender", 0) == "man" and index.code("gender", 1) is None
    assert index.code("faith", 0) == "jewish" and index.code("faith", 1) is None
    assert index.column("lat")[0] == pytest.approx(math.pi / 4)
    assert math.isnan(index.column("lat")[1])
    assert index.column("style")[0].tolist() == [-2, 0, 0, 0]  # unrated dimensions are 0
    assert index.alliance.tolist() == [PRIOR_ALLIANCE, PRIOR_ALLIANCE]


def test_arrays_are_read_only() -> None:
    index = TherapistIndex.build([make_profile()])
    with pytest.raises(ValueError, match="read-only"):
        index.column("fee")[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        index.column("availability")[0, 0] = 0


def test_week_masks_count_whole_quarter_hours() -> None:
    assert clock_minutes("24:00") == 1440
    tuesday = 96
    assert week_mask([{"day": "tue", "start": "17:00", "end": "20:00"}]) == ((1 << 12) - 1) << (
        tuesday + 68
    )
    # 17:10-18:00 only covers 17:15-18:00 entirely.
    assert week_mask([{"day": "mon", "start": "17:10", "end": "18:00"}]).bit_count() == 3
    assert week_mask([{"day": "mon", "start": "17:10", "end": "17:20"}]) == 0
    assert week_mask([{"day": "sun", "start": "23:00", "end": "24:00"}]) == 0b1111 << 668
    assert week_mask(None) == 0


def test_rotation_wraps_the_week_and_words_round_trip() -> None:
    sunday_late = 0b11 << 670
    assert rotate(sunday_late, 2) == 0b11  # Sunday 23:30 + 30 min = Monday 00:00
    assert rotate(0b11, -1) == (1 << 671) | 1
    mask = (1 << 671) | (1 << 64) | 1
    assert mask_words(mask).shape == (MASK_WORDS,)
    assert words_mask(mask_words(mask)) == mask


def test_availability_is_stored_in_local_time() -> None:
    profile = make_profile(availability=[{"day": "mon", "start": "00:00", "end": "01:00"}])
    index = TherapistIndex.build([profile])
    assert index.column("availability").shape == (1, MASK_WORDS)
    assert words_mask(index.column("availability")[0]) == 0b1111
    assert index.code("timezone", 0) == "America/Los_Angeles"


def test_with_changes_adds_replaces_and_removes_without_touching_the_old_index() -> None:
    old = TherapistIndex.build(
        [make_profile("t-1"), make_profile("t-2"), make_profile("t-3")],
        alliance={"t-2": 0.9},
    )
    new = old.with_changes(
        [make_profile("t-2", modalities=["ipt"]), make_profile("t-0", name="Newcomer")],
        removed_ids=["t-3", "t-unknown"],
    )
    assert new.ids.tolist() == ["t-0", "t-1", "t-2"]
    assert new.has("modalities", "ipt", rows_of(new)).tolist() == [False, False, True]
    # The replaced therapist keeps its alliance record; the newcomer starts at the prior.
    assert new.alliance.tolist() == [PRIOR_ALLIANCE, PRIOR_ALLIANCE, 0.9]
    assert old.ids.tolist() == ["t-1", "t-2", "t-3"]
    assert old.has("modalities", "ipt", rows_of(old)).tolist() == [False, False, False]
    assert old.licensed_in("US-CA").tolist() == [0, 1, 2]


def test_removal_wins_over_an_upsert_in_the_same_batch() -> None:
    index = TherapistIndex.build([make_profile("t-1")]).with_changes(
        [make_profile("t-2")], removed_ids=["t-2"]
    )
    assert index.ids.tolist() == ["t-1"]


def test_with_changes_widens_code_tables() -> None:
    old = TherapistIndex.build([make_profile("t-1", insurance=["aetna"])])
    plans = [f"plan_{i}" for i in range(80)]
    new = old.with_changes([make_profile("t-2", insurance=plans)])
    assert new.column("insurance").shape == (2, 2)
    assert new.has("insurance", "aetna", rows_of(new)).tolist() == [True, False]
    assert new.has("insurance", "plan_79", rows_of(new)).tolist() == [False, True]
    assert old.column("insurance").shape == (1, 1)


def test_changes_match_a_fresh_build() -> None:
    rng = random.Random(4)
    langs, plans = ["en", "es", "zh", "zu"], ["aetna", "kaiser", "new_plan"]
    live: dict[str, dict[str, object]] = {}
    index = TherapistIndex.build([])
    for _ in range(6):
        upserts = [
            make_profile(
                f"t-{rng.randrange(12)}",
                languages=rng.sample(langs, rng.randint(1, 3)),
                insurance=rng.sample(plans, rng.randint(0, 3)),
                capacity=rng.randint(0, 2),
            )
            for _ in range(rng.randint(0, 4))
        ]
        removed = [f"t-{rng.randrange(12)}" for _ in range(rng.randint(0, 2))]
        index = index.with_changes(upserts, removed)
        live.update({str(p["id"]): p for p in upserts})
        for therapist_id in removed:
            live.pop(therapist_id, None)
    fresh = TherapistIndex.build(live.values())
    intake = make_intake(languages=["zu", "es"], insurance="new_plan", max_fee=100)
    weights = load_default()
    a, b = match(index, intake, weights), match(fresh, intake, weights)
    assert index.ids.tolist() == fresh.ids.tolist()
    assert [(r.therapist_id, r.score) for r in a.results] == [
        (r.therapist_id, r.score) for r in b.results
    ]
    assert (a.eligible, a.excluded) == (b.eligible, b.excluded)


def test_with_alliance_replaces_records_and_validates_them() -> None:
    index = TherapistIndex.build([make_profile("t-1"), make_profile("t-2")])
    rated = index.with_alliance({"t-2": 0.8, "t-unknown": 0.1})
    assert rated.alliance.tolist() == [PRIOR_ALLIANCE, 0.8]
    assert index.alliance.tolist() == [PRIOR_ALLIANCE, PRIOR_ALLIANCE]
    assert rated.with_alliance(None).alliance.tolist() == [PRIOR_ALLIANCE, PRIOR_ALLIANCE]
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match="Alliance"):
            index.with_alliance({"t-1": bad})


def test_an_empty_index_matches_nobody() -> None:
    index = TherapistIndex.build([])
    outcome = match(index, make_intake(), load_default())
    assert (len(index), outcome.eligible, outcome.results) == (0, 0, [])
    assert outcome.excluded == {}


def test_memory_is_reported() -> None:
    index = TherapistIndex.build([make_profile(f"t-{i}") for i in range(10)])
    assert 0 < index.nbytes() < 10 * 1000


def test_a_build_read_in_chunks_equals_one_read_at_once() -> None:
    rng = random.Random(9)
    plans = [f"plan_{i}" for i in range(80)]  # later chunks push the table past one word
    profiles = [
        make_profile(
            f"t-{rng.randrange(40)}",  # repeats across chunks: the last one wins
            insurance=rng.sample(plans[: 10 + 7 * i // 5], 2),
            capacity=rng.randint(0, 2),
        )
        for i in range(60)
    ]
    whole = TherapistIndex.build(profiles, chunk=1_000)
    streamed = TherapistIndex.build(iter(profiles), chunk=7)
    assert streamed.ids.tolist() == whole.ids.tolist()
    assert streamed.tables == whole.tables
    for name, array in whole.columns.items():
        assert np.array_equal(streamed.columns[name], array, equal_nan=array.dtype.kind == "f")
    assert streamed.open_in("US-CA").tolist() == whole.open_in("US-CA").tolist()
    last = {p["id"]: p for p in profiles}
    for therapist_id, p in last.items():
        row = whole.rows[therapist_id]
        assert whole.has("insurance", p["insurance"][0], np.array([row])).tolist() == [True]
