"""Reasons as a client reads them: every feature that counted, every gap, fees in their money."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from matcher.core.scoring import TherapistIndex, WeightSet, load_default, match
from matcher.core.scoring.feature import Shown
from matcher.core.scoring.features.cost import money
from matcher.core.scoring.query import ClientQuery
from tests.core.scoring.reference import make_intake, make_profile

NOW = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # US on summer time, UK not yet
AVERAGE = "No early-alliance ratings yet, so counted as average"


@pytest.fixture
def weights() -> WeightSet:
    """The shipped default model."""
    return load_default()


def reasons(
    profile: dict[str, Any], weights: WeightSet, alliance: float | None = None, **intake: Any
) -> list[str]:
    """The reasons shown for one therapist (who must be eligible) for an intake."""
    index = TherapistIndex.build([profile])
    if alliance is not None:
        index = index.with_alliance({profile["id"]: alliance})
    outcome = match(index, make_intake(**intake), weights, now=NOW)
    assert outcome.eligible == 1, outcome.excluded
    return outcome.results[0].reasons


def test_every_feature_that_counted_is_named_in_order_of_what_it_added(
    weights: WeightSet,
) -> None:
    ana = make_profile(
        "ana",
        modalities=["ipt", "cbt"],
        languages=["en", "es"],
        identities=["latinx"],
        concerns=["depression", "anxiety"],
        insurance=["aetna"],
        style={"directiveness": -1, "challenge": 1},
        availability=[{"day": "tue", "start": "17:00", "end": "20:00"}],
    )
    said = reasons(
        ana,
        weights,
        modalities=["cbt", "ipt"],
        languages=["es", "en"],
        identities=["latinx"],
        concerns=["depression", "anxiety"],
        timezone="America/Los_Angeles",
        availability=[{"day": "tue", "start": "18:00", "end": "21:00"}],
        insurance="aetna",
        formats=["video"],
        therapist_genders=["woman"],
        style={"directiveness": -1, "challenge": 1},
    )
    # The small weights (format 0.03, style 0.02, gender 0.01) are named like the large ones.
    assert said == [
        "Speaks Spanish",
        "Shares your identity: Latinx",
        "Offers CBT, your first choice",
        "Works with depression and anxiety",
        "Available Tue 18:00\u201320:00 your time",
        "Offers video sessions",
        "Accepts Aetna",
        "Therapy style close to what you asked for",
        "A woman, as you asked",
        AVERAGE,
    ]


def test_gaps_come_last_heaviest_first(weights: WeightSet) -> None:
    bob = make_profile(
        "bob",
        modalities=["psychodynamic"],
        languages=["en"],
        formats=["in_person"],
        location={"lat": 34.05, "lon": -118.24},
        fee={"amount": 150, "currency": "USD", "sliding_scale_min": 90},
        competencies=["lgbtq"],
    )
    said = reasons(
        bob,
        weights,
        modalities=["cbt", "ipt"],
        languages=["es", "en"],
        identities=["lgbtq"],
        formats=["in_person"],
        location={"lat": 34.07, "lon": -118.20},
        max_fee=100,
        timezone="America/New_York",
        availability=[{"day": "tue", "start": "17:00", "end": "18:00"}],
    )
    assert said == [
        "Experienced with LGBTQ+ clients",
        "Speaks English",
        "In person, 4 km away",
        "Fee $150 is above your $100 limit; sliding scale from $90",
        AVERAGE,
        "Does not speak Spanish",  # language weighs 0.08
        "Does not offer CBT or IPT",  # modality 0.06
        "No availability in the times you gave",  # availability 0.04
    ]


def test_partial_matches_name_what_is_missing(weights: WeightSet) -> None:
    therapist = make_profile(
        concerns=["depression"], identities=["latinx"], competencies=["lgbtq"], insurance=[]
    )
    said = reasons(
        therapist,
        weights,
        concerns=["depression", "anxiety", "grief", "sleep", "stress"],
        identities=["latinx", "lgbtq", "veteran"],
        max_fee=150,
        insurance="aetna",
    )
    assert "Works with depression" in said
    # At most three named, then how many more.
    assert (
        "Does not list anxiety, grief and loss, sleep problems or 1 more among their focus areas"
        in said
    )
    assert "Shares your identity: Latinx" in said
    assert "Experienced with LGBTQ+ clients" in said
    assert "No listed experience with veterans" in said
    # Affordable by its fee, but the insurance the client named is not taken: both are said.
    assert "Fee $120 is within your $150 limit" in said
    assert said[-1] == "Does not accept Aetna"


def test_a_shared_identity_asked_for_and_missing_is_a_gap(weights: WeightSet) -> None:
    ally = make_profile(competencies=["lgbtq"])
    said = reasons(ally, weights, identities=["lgbtq"], wants_shared_identity=True)
    assert said == ["Experienced with LGBTQ+ clients", AVERAGE, "Does not share your identity"]


@pytest.mark.parametrize(
    ("theirs", "expected"),
    [
        ({"directiveness": 2, "challenge": -1}, "Therapy style close to what you asked for"),
        ({"directiveness": 0, "challenge": 0}, "Therapy style partly what you asked for"),
        ({"directiveness": -3, "challenge": 3}, "Therapy style differs from what you asked for"),
    ],
)
def test_style_is_always_named_once_asked(
    weights: WeightSet, theirs: dict[str, int], expected: str
) -> None:
    wanted = {"directiveness": 2, "challenge": -2}
    assert expected in reasons(make_profile(style=theirs), weights, style=wanted)


def test_formats_say_which_choice_and_how_far(weights: WeightSet) -> None:
    video = make_profile(formats=["video"])
    assert "Offers video sessions, your second choice" in reasons(
        video, weights, formats=["in_person", "video"], location={"lat": 34.1, "lon": -118.3}
    )
    unplaced = make_profile(formats=["in_person"], location=None)
    placed = reasons(
        unplaced, weights, formats=["in_person"], location={"lat": 34.1, "lon": -118.3}
    )
    assert "Offers in-person sessions; distance unknown" in placed
    # No client location: the in-person offer is named, its distance is not claimed.
    assert "Offers in-person sessions" in reasons(unplaced, weights, formats=["in_person"])


def test_genders_say_which_choice(weights: WeightSet) -> None:
    man = make_profile(gender="man")
    assert "A man, your second choice" in reasons(man, weights, therapist_genders=["woman", "man"])
    assert reasons(man, weights, therapist_genders=["woman"])[-1] == (
        "Not the therapist gender you asked for"
    )


def test_reasons_say_when_times_do_or_do_not_fit(weights: WeightSet) -> None:
    therapist = make_profile(availability=[{"day": "tue", "start": "17:00", "end": "20:00"}])
    zone = {"timezone": "America/Los_Angeles"}
    fits = reasons(
        therapist, weights, availability=[{"day": "tue", "start": "18:00", "end": "21:00"}], **zone
    )
    assert "Available Tue 18:00\u201320:00 your time" in fits
    misses = reasons(
        therapist, weights, availability=[{"day": "wed", "start": "18:00", "end": "21:00"}], **zone
    )
    assert "No availability in the times you gave" in misses
    short = reasons(
        therapist, weights, availability=[{"day": "tue", "start": "19:15", "end": "21:00"}], **zone
    )
    assert "Only 45 minutes a week in common with your times" in short
    # 20:00-23:00 in New York is 17:00-20:00 in Los Angeles (both on summer time at NOW).
    new_york = make_profile(
        timezone="America/New_York",
        availability=[{"day": "tue", "start": "20:00", "end": "23:00"}],
    )
    later = reasons(
        new_york, weights, availability=[{"day": "tue", "start": "16:00", "end": "21:00"}], **zone
    )
    assert "Available Tue 17:00\u201320:00 your time" in later


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (0.9, ["Past clients rated their first sessions with this therapist highly"]),
        (0.5, [AVERAGE]),
        (0.2, ["Past clients rated their first sessions with this therapist below average"]),
    ],
)
def test_without_preferences_only_the_record_is_said(
    weights: WeightSet, record: float, expected: list[str]
) -> None:
    assert reasons(make_profile(), weights, alliance=record) == expected


def test_an_average_record_that_did_not_count_is_not_said(weights: WeightSet) -> None:
    unweighted = WeightSet(version=2, intercept=0.5, weights={**weights.weights, "alliance": 0.0})
    assert reasons(make_profile(), unweighted) == []


@pytest.mark.parametrize(
    ("jurisdiction", "currency", "expected"),
    [
        ("US-CA", "USD", "Fee $120 is within your $150 limit"),
        ("US-CA", "CAD", "Fee CA$120 is within your CA$150 limit"),
        ("CA-ON", "CAD", "Fee $120 is within your $150 limit"),
        ("CA-ON", "USD", "Fee US$120 is within your US$150 limit"),
        ("US-CA", "EUR", "Fee €120 is within your €150 limit"),
        ("US-CA", "GBP", "Fee £120 is within your £150 limit"),
        ("US-CA", "CHF", "Fee 120 CHF is within your 150 CHF limit"),
    ],
)
def test_fees_carry_their_currency(
    weights: WeightSet, jurisdiction: str, currency: str, expected: str
) -> None:
    therapist = make_profile(
        licenses=[{"jurisdiction": jurisdiction, "credential": "Licensed Psychologist"}],
        fee={"amount": 120, "currency": currency, "sliding_scale_min": None},
    )
    said = reasons(therapist, weights, jurisdiction=jurisdiction, max_fee=150)
    assert expected in said


def test_money_formats_amounts_plainly() -> None:
    assert money(1200, "USD", "US") == "$1,200"
    assert money(95.5, "USD", "US") == "$95.50"
    assert money(80, "AUD", "US") == "A$80"
    assert money(80, "NZD", "NZ") == "$80"
    assert money(7000, "JPY", "US") == "7,000 JPY"


def test_the_format_reason_values_each_row_as_the_score_does() -> None:
    """The reason's in-person value and distance (plain arithmetic, one row at a time) are the
    engine's own (``in_person_fit`` and ``distance_km`` over arrays), row for row."""
    import math
    import random

    import numpy as np

    from matcher.core.scoring.features.format import _place, distance_km, in_person_fit
    from matcher.core.scoring.query import ClientQuery

    rng = random.Random(3)
    profiles = []
    for i in range(300):
        where = rng.random()
        location = (
            None
            if where < 0.1
            else {"lat": 34 + rng.uniform(-1, 1), "lon": -118 + rng.uniform(-1, 1)}
        )
        profiles.append(make_profile(id=f"t-{i:03d}", formats=["in_person"], location=location))
    index = TherapistIndex.build(profiles)
    rows = np.arange(len(index))
    for radius in (5, 30, 80):
        for lat, lon in ((34.0, -118.0), (34.9, -117.2)):
            q = ClientQuery.from_intake(
                make_intake(
                    formats=["in_person"], location={"lat": lat, "lon": lon}, max_distance_km=radius
                )
            )
            fits, far = in_person_fit(index, q, rows), distance_km(index, q, rows)
            for row in rows.tolist():
                value, distance = _place(index, q, row)
                assert value == pytest.approx(fits[row], abs=1e-12)
                assert (math.isnan(distance) and math.isnan(far[row])) or distance == pytest.approx(
                    far[row], abs=1e-9
                )


def test_listed_rows_reads_every_shown_row_as_one_row_at_a_time() -> None:
    """The code sets of all shown rows at once, across words, unknown codes never listed."""
    many = [f"x{i}" for i in range(70)]  # concerns past the first 64 bits: a second word
    profiles = [
        make_profile("a", concerns=["depression", "x3"]),
        make_profile("b", concerns=["x68", "anxiety"]),
        make_profile("c", concerns=many),
        make_profile("d", concerns=["grief"]),
    ]
    index = TherapistIndex.build(profiles)
    codes = ("x68", "nobody-lists-this", "depression", "x3", "anxiety")
    rows = np.array([index.rows[k] for k in ("d", "c", "a", "b")], dtype=np.intp)
    shown = Shown(index, ClientQuery.from_intake(make_intake()), rows, NOW)
    assert shown.listed_rows("concerns", codes) == [
        (False, False, False, False, False),
        (True, False, False, True, False),
        (False, False, True, True, False),
        (True, False, False, False, True),
    ]
    assert shown.listed_rows("concerns", codes) == [
        tuple(shown.lists("concerns", row, code) for code in codes) for row in rows.tolist()
    ]
    assert shown.listed_rows("concerns", ()) == [(), (), (), ()]
