"""Per-jurisdiction partitions: a match screened and scored in one gives what the index gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.core.scoring import (
    ClientQuery,
    TherapistIndex,
    WeightSet,
    evaluate,
    load_default,
    match,
    screen,
    shortlist,
)
from matcher.core.scoring.features.availability import overlap_minutes
from matcher.core.scoring.index import PARTITION_COLUMNS, TABLE_OF, Partition
from matcher.lab.synthetic import generate_profiles
from tests.core.scoring.test_properties import SETTINGS, instants, intake, scenario, weight_set

NOW = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
# Several jurisdictions of different sizes, so partitions hold a fraction of the index.
JURISDICTIONS = ["US-CA", "US-NY", "US-TX"]
DIRECTORIES = {
    seed: generate_profiles(400, seed=seed, jurisdictions=JURISDICTIONS) for seed in (3, 4)
}


def unpartitioned(index: TherapistIndex) -> TherapistIndex:
    """The same index with no partitions: every match reads the index's own columns."""
    return replace(index, partitions=MappingProxyType({}))


def assert_partitions_follow(index: TherapistIndex) -> None:
    """Every partition is the index's open rows of its jurisdiction, column by column."""
    assert set(index.partitions) == {j for j, rows in index.open_postings.items() if len(rows)}
    for jurisdiction, part in index.partitions.items():
        rows = index.open_in(jurisdiction)
        assert np.array_equal(part.rows, rows)
        assert np.array_equal(part.everyone, np.arange(len(rows)))
        assert set(part.columns) == set(PARTITION_COLUMNS)
        for name in PARTITION_COLUMNS:
            expected = index.column(name)[rows]
            np.testing.assert_array_equal(part.column(name), expected)
            if expected.ndim == 2:
                assert part.column(name).flags.f_contiguous
            if name in TABLE_OF and expected.shape[1:] == (1,):  # a one-word bitset: as narrow
                codes = len(index.table(name).codes)  # as its table allows
                width = 8 * part.column(name).dtype.itemsize
                assert codes <= width and (width == 8 or codes > width // 2)
            else:
                assert part.column(name).dtype == expected.dtype
            assert not part.column(name).flags.writeable
        np.testing.assert_array_equal(part.alliance, index.alliance[rows])
        assert not part.alliance.flags.writeable
    own = sum(a.nbytes for a in index.columns.values()) + index.alliance.nbytes
    assert index.nbytes() == own + sum(p.nbytes() for p in index.partitions.values())


@settings(SETTINGS, max_examples=2 * settings.default.max_examples)
@given(scenario())
def test_small_directories_match_as_without_partitions(case: dict[str, Any]) -> None:
    index = TherapistIndex.build(case["profiles"], alliance=case["alliance"])
    assert_partitions_follow(index)
    plain = unpartitioned(index)
    w, limit, now = case["weights"], case["limit"], case["now"]
    assert match(index, case["intake"], w, limit=limit, now=now) == match(
        plain, case["intake"], w, limit=limit, now=now
    )
    mine, theirs = (evaluate(i, case["intake"], w, limit=limit, now=now) for i in (index, plain))
    np.testing.assert_array_equal(mine.screening.rows, theirs.screening.rows)
    np.testing.assert_array_equal(mine.values, theirs.values)
    np.testing.assert_array_equal(mine.score, theirs.score)


@settings(SETTINGS, max_examples=2 * settings.default.max_examples)
@given(
    st.sampled_from(sorted(DIRECTORIES)),
    intake([]),
    weight_set(),
    st.integers(1, 12),
    instants,
    st.sampled_from(JURISDICTIONS),
    st.booleans(),
)
def test_synthetic_directories_match_as_without_partitions(
    seed: int,
    case: dict[str, Any],
    w: WeightSet,
    limit: int,
    now: datetime,
    jurisdiction: str,
    rated: bool,
) -> None:
    profiles = DIRECTORIES[seed]
    rng = np.random.default_rng(seed)
    alliance = {p["id"]: float(rng.random()) for p in profiles} if rated else None
    index = TherapistIndex.build(profiles, alliance=alliance)
    case = {**case, "jurisdiction": jurisdiction}
    if "location" in case:  # the synthetic directory's own places, so distances cut through it
        place = profiles[int(rng.integers(len(profiles)))].get("location")
        if place:
            case["location"] = {"lat": place["lat"], "lon": place["lon"]}
    expected = match(unpartitioned(index), case, w, limit=limit, now=now)
    assert match(index, case, w, limit=limit, now=now) == expected
    # The screening itself: the same rows, counts, relaxations and values kept for scoring.
    q = ClientQuery.from_intake(case)
    mine, theirs = screen(index, q, now, limit=limit), screen(unpartitioned(index), q, now)
    np.testing.assert_array_equal(mine.rows, theirs.rows)
    assert mine.excluded == theirs.excluded
    assert mine.known.keys() == theirs.known.keys()
    for name, values in mine.known.items():
        np.testing.assert_array_equal(values, theirs.known[name])


def test_a_screening_whose_rows_changed_is_read_where_its_rows_are() -> None:
    index = TherapistIndex.build(DIRECTORIES[3])
    q = ClientQuery.from_intake({"jurisdiction": "US-CA", "languages": ["en"]})
    screening = screen(index, q, NOW)
    assert screening.within is not None
    arrays, positions = screening.located(index)
    assert isinstance(arrays, Partition)
    np.testing.assert_array_equal(arrays.rows[positions], screening.rows)
    # Narrowed by the method, the positions follow.
    keep = np.arange(len(screening.rows)) % 3 == 0
    narrowed = screening.narrowed(keep)
    arrays, positions = narrowed.located(index)
    assert positions is narrowed.within.positions  # type: ignore[union-attr]
    np.testing.assert_array_equal(index.open_in("US-CA")[positions], narrowed.rows)
    # Rows replaced by hand (in any order) are found in the partition again.
    shuffled = replace(screening, rows=screening.rows[::-1].copy())
    arrays, positions = shuffled.located(index)
    assert isinstance(arrays, Partition)
    np.testing.assert_array_equal(arrays.rows[positions], shuffled.rows)
    # A row outside the partition: the index and the rows themselves.
    outside = np.setdiff1d(np.arange(len(index)), index.open_in("US-CA"))[:1]
    stray = replace(screening, rows=np.concatenate([screening.rows[:3], outside]))
    arrays, rows = stray.located(index)
    assert arrays is index and rows is stray.rows
    # Shortlisting the hand-made screening scores the rows it names.
    w = load_default()
    mine = shortlist(index, q, shuffled, w, NOW, 5)
    plain = shortlist(unpartitioned(index), q, replace(shuffled, within=None), w, NOW, 5)
    np.testing.assert_array_equal(mine.screening.rows, plain.screening.rows)
    np.testing.assert_array_equal(mine.score, plain.score)


def test_partitions_follow_changes_alliance_and_parts() -> None:
    profiles = DIRECTORIES[4]
    index = TherapistIndex.build(profiles[:300])
    assert_partitions_follow(index)
    # Changes: new therapists, a replaced one now closed, one removed.
    closed = dict(profiles[0], accepting_new_clients=False)
    changed = index.with_changes([*profiles[300:], closed], removed_ids=[profiles[1]["id"]])
    assert_partitions_follow(changed)
    assert changed.rows[closed["id"]] not in changed.partition("US-CA").rows  # type: ignore[union-attr]
    assert_partitions_follow(index)  # the old index is untouched
    rng = np.random.default_rng(0)
    rated = changed.with_alliance({p["id"]: float(rng.random()) for p in profiles[::2]})
    assert_partitions_follow(rated)
    assert not np.array_equal(
        rated.partition("US-CA").alliance,  # type: ignore[union-attr]
        changed.partition("US-CA").alliance,  # type: ignore[union-attr]
    )
    rebuilt = TherapistIndex.from_parts(*rated.parts())
    assert_partitions_follow(rebuilt)
    w = load_default()
    case = {"jurisdiction": "US-NY", "formats": ["video"], "concerns": ["anxiety"]}
    assert match(rebuilt, case, w, now=NOW) == match(unpartitioned(rated), case, w, now=NOW)


def test_a_jurisdiction_nobody_is_open_in_has_no_partition() -> None:
    profiles = [dict(p, accepting_new_clients=False) for p in DIRECTORIES[3][:20]]
    index = TherapistIndex.build(profiles)
    assert dict(index.partitions) == {}
    outcome = match(index, {"jurisdiction": "US-CA"}, load_default(), now=NOW)
    assert outcome.eligible == 0 and outcome.results == []


@settings(SETTINGS, max_examples=settings.default.max_examples)
@given(
    st.lists(
        st.sampled_from(["America/Los_Angeles", "America/New_York", "Asia/Kolkata"]),
        min_size=2,
        max_size=8,
    ),
    intake([]),
    instants,
)
def test_overlap_is_the_same_read_one_zone_at_a_time(
    zones: list[str], case: dict[str, Any], now: datetime
) -> None:
    """Rows sharing one zone take the one-zone path; mixed with other zones, the table path."""
    windows = [
        {"day": day, "start": start, "end": "21:00"}
        for day in ("mon", "wed", "sat")
        for start in ("07:15", "18:00")
    ]
    # Whole days for the client: each therapist's windows spill over into other days by zone.
    whole_days = [{"day": day, "start": "00:00", "end": "23:45"} for day in ("mon", "wed", "sat")]
    profiles = [
        dict(p, timezone=zone, availability=windows[i % 3 :: 2])
        for i, (p, zone) in enumerate(zip(DIRECTORIES[3], zones, strict=False))
    ]
    index = TherapistIndex.build(profiles)
    q = ClientQuery.from_intake({**case, "timezone": "Europe/London", "availability": whole_days})
    every = np.arange(len(index))
    together = overlap_minutes(index, q, every, now)
    assert together.any()  # windows that meet, so a wrong rotation shows
    for row in every:
        alone = overlap_minutes(index, q, every[row : row + 1], now)
        assert alone.tolist() == [together[row]]
