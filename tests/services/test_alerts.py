"""Rupture alerts: weak or falling early alliance, by the documented rules."""

from __future__ import annotations

from matcher.services.alerts import weak_or_falling
from matcher.storage.tables import AllianceRating
from matcher.storage.types import utcnow


def _rating(instrument: str, session: int, total: float) -> AllianceRating:
    return AllianceRating(
        id=f"a-{instrument}-{session}",
        referral_id="r-1",
        instrument=instrument,
        session=session,
        items=[],
        total=total,
        subscales={},
        score=0.0,
        flags={},
        created_at=utcnow(),
        key_id="k",
    )


def test_srs_below_36_is_a_concern() -> None:
    assert weak_or_falling([_rating("srs", 1, 37)]) == []
    assert weak_or_falling([_rating("srs", 1, 36)]) == []
    assert "below 36" in weak_or_falling([_rating("srs", 1, 35.9)])[0]


def test_wai_sr_below_its_threshold_and_configurable() -> None:
    assert weak_or_falling([_rating("wai-sr", 1, 40)]) == []
    assert weak_or_falling([_rating("wai-sr", 1, 35)]) != []
    assert weak_or_falling([_rating("wai-sr", 1, 40)], wai_below=45) != []


def test_a_fall_of_a_tenth_of_the_range_between_sessions() -> None:
    # WAI-SR spans 48 points: a fall of 5 (>= 4.8) is flagged, a fall of 4 is not.
    assert weak_or_falling([_rating("wai-sr", 1, 55), _rating("wai-sr", 2, 51)]) == []
    fell = weak_or_falling([_rating("wai-sr", 2, 50), _rating("wai-sr", 1, 55)])
    assert fell == ["WAI-SR fell from 55 (session 1) to 50 (session 2)"]
    # SRS spans 40 points: a fall of 4 is flagged even while the total stays above 36.
    assert weak_or_falling([_rating("srs", 1, 40), _rating("srs", 2, 36)]) != []


def test_only_the_latest_session_counts_for_the_level() -> None:
    recovered = [_rating("srs", 1, 30), _rating("srs", 2, 37)]
    assert weak_or_falling(recovered) == []


def test_a_dip_the_client_recovered_from_raises_nothing() -> None:
    dipped = [_rating("wai-sr", 1, 48), _rating("wai-sr", 2, 24)]
    assert len(weak_or_falling(dipped)) == 2  # below 36, and fell from 48
    assert weak_or_falling([*dipped, _rating("wai-sr", 3, 48)]) == []
