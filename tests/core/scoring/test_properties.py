"""Properties over random small directories: the engine agrees with the plain reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from matcher.core.scoring import (
    FEATURES,
    MUST_HAVE_SOURCES,
    REGISTRY,
    TherapistIndex,
    WeightSet,
    eligible_ids,
    evaluate,
    feature_values,
    match,
    top,
)
from matcher.core.scoring.feature import Kind
from tests.core.scoring import reference

# Most clients and therapists are in California, so most directories have candidates.
JURISDICTIONS = ["US-CA"] * 4 + ["US-NY"]
LICENSE_SETS = [["US-CA"], ["US-CA"], ["US-CA"], ["US-CA", "US-NY"], ["US-NY"]]
MODALITIES = ["cbt", "ipt", "dbt", "act", "emdr"]
CONCERNS = ["depression", "anxiety", "trauma", "grief", "sleep"]
LANGUAGES = ["en", "es", "zh", "zu"]  # zu sits in the third bitset word
IDENTITIES = ["latinx", "black", "lgbtq", "veteran"]
GENDERS = ["woman", "man", "nonbinary"]
FAITHS = ["christian", "muslim", "secular"]
FORMATS = ["in_person", "video", "phone"]
INSURANCE = ["aetna", "medicaid", "bcbs", "kaiser"]
STYLE = ["directiveness", "emotional_intensity", "past_orientation", "challenge"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Zones with DST on different dates, half- and quarter-hour offsets, and both hemispheres.
ZONES = [
    "America/Los_Angeles",
    "America/New_York",
    "America/St_Johns",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "UTC",
]
# Points 0-250 km apart around Los Angeles, so radii of 5-100 km cut through them.
POINTS = [(34.05, -118.24), (34.10, -118.30), (34.20, -118.50), (33.90, -118.10), (34.60, -118.9)]
# Every dimension a must-have may name.
DIMENSIONS = list(MUST_HAVE_SOURCES)


def ordered(codes: list[str], max_size: int = 3) -> st.SearchStrategy[list[str]]:
    """A list of distinct codes in a random order of preference."""
    return st.lists(st.sampled_from(codes), unique=True, max_size=max_size)


@st.composite
def clock_window(draw: st.DrawFn) -> dict[str, str]:
    """A weekly window; times in 5-minute steps so some quarter hours are only partly covered."""
    start = draw(st.integers(0, 1435 // 5)) * 5
    end = draw(st.integers(start // 5 + 1, 1440 // 5)) * 5
    return {
        "day": draw(st.sampled_from(DAYS)),
        "start": f"{start // 60:02d}:{start % 60:02d}",
        "end": f"{end // 60:02d}:{end % 60:02d}",
    }


def location() -> st.SearchStrategy[dict[str, float]]:
    """One of the test points."""
    return st.sampled_from(POINTS).map(lambda p: {"lat": p[0], "lon": p[1]})


@st.composite
def profile(draw: st.DrawFn, therapist_id: str) -> dict[str, Any]:
    """A therapist profile with optional fields sometimes absent or None."""
    fee = draw(
        st.none()
        | st.builds(
            lambda amount, sliding: {
                "amount": amount,
                "currency": "USD",
                "sliding_scale_min": sliding,
            },
            st.sampled_from([0, 60, 100, 120, 150, 200]),
            st.sampled_from([None, 40, 80, 100]),
        )
    )
    p: dict[str, Any] = {
        "id": therapist_id,
        "name": f"Dr {therapist_id}",
        "licenses": [
            {"jurisdiction": j, "credential": "LP"} for j in draw(st.sampled_from(LICENSE_SETS))
        ],
        "modalities": draw(ordered(MODALITIES).filter(bool)),
        "languages": draw(ordered(LANGUAGES).filter(bool)),
        "formats": draw(ordered(FORMATS).filter(bool)),
        "timezone": draw(st.sampled_from(ZONES)),
        "accepting_new_clients": draw(st.sampled_from([True] * 7 + [False])),
        "capacity": draw(st.sampled_from([0, 1, 2, 3, 3, 3, 3, 3])),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "gender": st.none() | st.sampled_from(GENDERS),
        "concerns": ordered(CONCERNS, 4),
        "populations": st.sampled_from([["adults"], ["couples", "adults"], ["adolescents"], []]),
        "identities": ordered(IDENTITIES, 2),
        "competencies": ordered(IDENTITIES, 3),
        "faith": st.none() | st.sampled_from(FAITHS),
        "location": st.none() | location(),
        "availability": st.lists(clock_window(), max_size=3),
        "fee": st.just(fee),
        "insurance": ordered(INSURANCE, 3),
        "style": st.dictionaries(st.sampled_from(STYLE), st.integers(-3, 3)),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            p[key] = draw(strategy)
    return p


@st.composite
def directory(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One to nine therapists; ids of mixed lengths so string order is not numeric order."""
    pool = ["a", "b", "t-1", "t-10", "t-2", "t-9", "z", "Z", "0"]
    ids = draw(st.permutations(pool))[: draw(st.integers(1, len(pool)))]
    return [draw(profile(therapist_id)) for therapist_id in ids]


@st.composite
def intake(draw: st.DrawFn, known_ids: list[str]) -> dict[str, Any]:
    """An intake where each preference is given, absent, None or empty at random."""
    out: dict[str, Any] = {"jurisdiction": draw(st.sampled_from(JURISDICTIONS))}
    wanted: dict[str, st.SearchStrategy[Any]] = {
        "age_group": st.sampled_from(["adults", "adults", "adults", "couples"]),
        "concerns": ordered(CONCERNS, 4),
        "modalities": ordered(MODALITIES),
        "languages": ordered(LANGUAGES),
        "identities": ordered(IDENTITIES),
        "wants_shared_identity": st.booleans(),
        "therapist_genders": ordered(GENDERS, 2),
        "faith": st.sampled_from(FAITHS),
        "formats": ordered(FORMATS),
        "location": location(),
        "max_distance_km": st.sampled_from([5.0, 10, 25.5, 100]),
        "availability": st.lists(clock_window(), max_size=3),
        "max_fee": st.sampled_from([0, 50, 100, 150]),
        "insurance": st.sampled_from(INSURANCE),
        "style": st.dictionaries(st.sampled_from(STYLE), st.integers(-3, 3)),
        "exclude_therapists": st.lists(st.sampled_from([*known_ids, "nobody"]), max_size=2),
    }
    for key, strategy in wanted.items():
        if draw(st.booleans()):
            out[key] = draw(strategy)
    if out.get("availability"):  # the API guarantees a zone with availability
        out["timezone"] = draw(st.sampled_from(ZONES))
    client = reference.Client(out)
    given_dims = [dim for dim in DIMENSIONS if client.gave(dim)]
    # Mostly must-haves on stated preferences; sometimes any dimension (accepted, then ignored).
    pool = given_dims if given_dims and draw(st.sampled_from([True, True, True, False])) else None
    if pool or draw(st.booleans()):
        chosen = st.sampled_from(pool or DIMENSIONS)
        out["must_have"] = draw(st.lists(chosen, unique=True, max_size=2))
    return out


@st.composite
def weight_set(draw: st.DrawFn) -> WeightSet:
    """Any valid model: non-negative weights with intercept + sum <= 1."""
    size = len(FEATURES) + 1  # the intercept and one weight per feature
    raw = draw(st.lists(st.integers(0, 1000), min_size=size, max_size=size))
    raw[0] += 1  # never all zero
    scale = draw(st.floats(0.1, 1)) / sum(raw)
    return WeightSet(
        version=1,
        intercept=raw[0] * scale,
        weights={name: w * scale for name, w in zip(FEATURES, raw[1:], strict=True)},
    )


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    """A directory, an intake, a model, alliance records, a limit and an instant."""
    profiles = draw(directory())
    ids = [p["id"] for p in profiles]
    alliance = draw(st.dictionaries(st.sampled_from(ids), st.floats(0, 1))) if ids else {}
    return {
        "profiles": profiles,
        "intake": draw(intake(ids)),
        "weights": draw(weight_set()),
        "alliance": alliance,
        "limit": draw(st.integers(1, 6)),
        "now": draw(instants),
    }


def assert_same_ranking(
    ranked: list[str], engine: dict[str, float], ref: dict[str, float], limit: int
) -> None:
    """Same top list as the reference, up to scores equal within rounding."""
    expected = sorted(ref, key=lambda t: (-ref[t], t))[:limit]
    assert len(ranked) == len(expected)
    for mine, theirs in zip(ranked, expected, strict=True):
        assert abs(ref[mine] - ref[theirs]) <= 1e-9
    # The engine's own order is score descending, then id ascending.
    assert ranked == sorted(ranked, key=lambda t: (-engine[t], t))


# The agreement test carries most of the weight; the others are cheaper spot checks. How many
# examples each runs comes from the Hypothesis profile (tests/conftest.py).
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(SETTINGS, max_examples=3 * settings.default.max_examples)


@THOROUGH
@given(scenario())
def test_engine_agrees_with_the_reference(case: dict[str, Any]) -> None:
    profiles, w = case["profiles"], case["weights"]
    index = TherapistIndex.build(profiles, alliance=case["alliance"])
    outcome = match(index, case["intake"], w, limit=case["limit"], now=case["now"])
    ref = reference.reference_match(
        profiles,
        case["intake"],
        w.intercept,
        w.weights,
        limit=case["limit"],
        now=case["now"],
        alliance=case["alliance"],
    )
    assert outcome.eligible == len(ref["eligible"])
    assert eligible_ids(index, case["intake"], now=case["now"]).tolist() == ref["eligible"]
    assert outcome.excluded == ref["excluded"]
    assert outcome.relaxations == ref["relaxations"]
    assert outcome.warnings == reference.reference_warnings(case["intake"])
    engine_scores = {r.therapist_id: r.score for r in outcome.results}
    for result in outcome.results:
        assert abs(result.score - ref["scores"][result.therapist_id]) <= 1e-9
        for name in FEATURES:
            assert abs(result.features[name] - ref["features"][result.therapist_id][name]) <= 1e-9
    ranked = [r.therapist_id for r in outcome.results]
    assert_same_ranking(ranked, engine_scores, ref["scores"], case["limit"])
    event(f"eligible: {min(outcome.eligible, 3)}{'+' if outcome.eligible >= 3 else ''}")
    event(f"relaxations offered: {bool(outcome.relaxations)}")
    event(f"excluded by: {', '.join(outcome.excluded) or 'nothing'}")


@SETTINGS
@given(scenario())
def test_features_agree_for_every_therapist_eligible_or_not(case: dict[str, Any]) -> None:
    profiles = case["profiles"]
    index = TherapistIndex.build(profiles, alliance=case["alliance"])
    ids = [p["id"] for p in profiles]
    values = feature_values(index, case["intake"], ids, now=case["now"])
    client = reference.Client(case["intake"])
    for row, p in enumerate(profiles):
        expected = reference.features(p, client, case["now"], case["alliance"])
        for k, name in enumerate(FEATURES):
            assert 0 <= values[row, k] <= 1
            assert abs(values[row, k] - expected[name]) <= 1e-9, name


@SETTINGS
@given(scenario())
def test_no_result_breaks_a_hard_filter(case: dict[str, Any]) -> None:
    index = TherapistIndex.build(case["profiles"])
    outcome = match(index, case["intake"], case["weights"], limit=10, now=case["now"])
    by_id = {p["id"]: p for p in case["profiles"]}
    client = reference.Client(case["intake"])
    for result in outcome.results:
        p = by_id[result.therapist_id]
        assert reference.fixed_failure(p, client) is None
        assert reference.relaxable_failures(p, client, case["now"]) == []


BLANKS: dict[str, list[Any]] = {
    "age_group": [None],
    "concerns": [None, []],
    "modalities": [None, []],
    "languages": [None, []],
    "identities": [None, []],
    "wants_shared_identity": [None, False],
    "therapist_genders": [None, []],
    "faith": [None],
    "formats": [None, []],
    "location": [None],
    "max_distance_km": [None],
    "timezone": [None],
    "availability": [None, []],
    "max_fee": [None],
    "insurance": [None],
    "style": [None, {}],
    "must_have": [None, []],
    "exclude_therapists": [None, []],
}


@SETTINGS
@given(scenario(), st.data())
def test_omitted_and_empty_preferences_are_the_same(
    case: dict[str, Any], data: st.DataObject
) -> None:
    index = TherapistIndex.build(case["profiles"])
    base = case["intake"]
    variant = dict(base)
    for key, blanks in BLANKS.items():
        value = base.get(key)
        if not (value is None or value is False or value == [] or value == {}):
            continue  # a real preference (0 is one too): blanking it would change the question
        if key == "timezone" and base.get("availability"):
            continue
        choice = data.draw(st.sampled_from(["absent", *blanks]), label=key)
        if choice == "absent":
            variant.pop(key, None)
        else:
            variant[key] = choice
    a = match(index, base, case["weights"], limit=case["limit"], now=case["now"])
    b = match(index, variant, case["weights"], limit=case["limit"], now=case["now"])
    assert a == b


@SETTINGS
@given(scenario())
def test_contributions_add_up_to_the_score(case: dict[str, Any]) -> None:
    w = case["weights"]
    index = TherapistIndex.build(case["profiles"], alliance=case["alliance"])
    outcome = match(index, case["intake"], w, limit=case["limit"], now=case["now"])
    for result in outcome.results:
        assert list(result.contributions) == list(FEATURES)
        assert abs(w.intercept + sum(result.contributions.values()) - result.score) <= 1e-6
        assert -1e-12 <= result.score <= 1 + 1e-9


@SETTINGS
@given(scenario())
def test_relaxations_are_what_dropping_the_filter_adds(case: dict[str, Any]) -> None:
    index = TherapistIndex.build(case["profiles"])
    outcome = match(index, case["intake"], case["weights"], limit=case["limit"], now=case["now"])
    assert [r["adds"] for r in outcome.relaxations] == sorted(
        (r["adds"] for r in outcome.relaxations), reverse=True
    )
    for hint in outcome.relaxations:
        relaxed = dict(case["intake"])
        if hint["drop"] == "format":
            relaxed.pop("formats")
        relaxed["must_have"] = [m for m in relaxed.get("must_have", []) if m != hint["drop"]]
        wider = match(index, relaxed, case["weights"], limit=case["limit"], now=case["now"])
        assert wider.eligible == outcome.eligible + hint["adds"]


@SETTINGS
@given(scenario())
def test_reasons_name_every_feature_that_counted_and_every_unmet_preference(
    case: dict[str, Any],
) -> None:
    w = case["weights"]
    index = TherapistIndex.build(case["profiles"], alliance=case["alliance"])
    evaluation = evaluate(index, case["intake"], w, limit=case["limit"], now=case["now"])
    positions = top(evaluation.score, case["limit"])
    stated = {f.name for f in REGISTRY if f.gave(evaluation.query)}
    for position, reasons in zip(positions, evaluation.reasons(positions), strict=True):
        values = dict(zip(FEATURES, evaluation.values[position].tolist(), strict=True))
        counted = {name for name, value in values.items() if w.weights[name] * value != 0}
        named = {r.feature for r in reasons}
        assert counted <= named
        assert named <= stated  # nothing said about what the client did not ask
        unmet = {name for name in stated if values[name] == 0}
        assert unmet <= {r.feature for r in reasons if r.kind is Kind.GAP}
        # Fits, then neutral notes, then gaps; short sentences, each said once.
        assert [r.kind for r in reasons] == sorted(r.kind for r in reasons)
        texts = [r.text for r in reasons]
        assert len(set(texts)) == len(texts)
        assert all(text[0].isupper() and len(text) <= 120 for text in texts)
        event(f"reasons: {min(len(texts), 8)}")
