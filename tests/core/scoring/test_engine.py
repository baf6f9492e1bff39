"""Matching as a client sees it: filters and their counts, scores, ranking, reasons, weights."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matcher import bundled as bundled_module
from matcher.core.scoring import (
    FEATURE_MEANINGS,
    FEATURES,
    TherapistIndex,
    WeightSet,
    eligible_ids,
    feature_values,
    load_default,
    match,
    models_dir,
    rank_discount,
)
from matcher.core.scoring import weights as weights_module
from matcher.core.scoring.engine import kth_best, top
from tests.core.scoring.reference import make_intake, make_profile

# A Tuesday in March when US clocks have moved to summer time and UK clocks have not yet.
NOW = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


@pytest.fixture
def weights() -> WeightSet:
    """The shipped default model."""
    return load_default()


def run(profiles: list[dict[str, Any]], weights: WeightSet, **intake: Any) -> Any:
    """Match one intake against a small directory at NOW."""
    limit = intake.pop("limit", 10)
    return match(
        TherapistIndex.build(profiles), make_intake(**intake), weights, limit=limit, now=NOW
    )


def feature(profile: dict[str, Any], name: str, **intake: Any) -> float:
    """One feature value of one therapist for an intake."""
    index = TherapistIndex.build([profile])
    values = feature_values(index, make_intake(**intake), [profile["id"]], now=NOW)
    return float(values[0, FEATURES.index(name)])


# --- weights and the model file --------------------------------------------------------------


def test_the_default_model_is_valid_and_explained(weights: WeightSet) -> None:
    assert weights.version == 1
    assert tuple(weights.weights) == FEATURES
    assert weights.intercept + sum(weights.weights.values()) <= 1
    data = json.loads((models_dir() / "default.json").read_text(encoding="utf-8"))
    assert set(data["rationale"]) >= set(FEATURES)
    assert set(FEATURE_MEANINGS) == set(FEATURES)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weights": {"modality": -0.1}}, ">= 0"),
        ({"weights": {"modality": float("nan")}}, "finite"),
        ({"weights": {"unknown": 0.0}}, "unknown"),
        ({"intercept": 1.2}, "intercept"),
        ({"intercept": 0.9}, "<= 1"),
    ],
)
def test_weight_sets_are_validated(
    weights: WeightSet, change: dict[str, Any], message: str
) -> None:
    data = weights.to_dict()
    data["weights"] = {**data["weights"], **change.get("weights", {})}
    data["intercept"] = change.get("intercept", data["intercept"])
    with pytest.raises(ValueError, match=message):
        WeightSet.from_dict(data)


def test_a_weight_set_needs_every_feature(weights: WeightSet) -> None:
    partial = dict(weights.weights)
    del partial["style"]
    with pytest.raises(ValueError, match="missing"):
        WeightSet(version=2, intercept=0.5, weights=partial)


def test_weight_sets_are_frozen_plain_data(weights: WeightSet) -> None:
    assert WeightSet.from_dict(weights.to_dict()) == weights
    assert hash(WeightSet.from_dict(weights.to_dict())) == hash(weights)
    assert weights.vector().tolist() == [weights.weights[name] for name in FEATURES]
    with pytest.raises(TypeError):
        weights.weights["modality"] = 1.0  # type: ignore[index]


def test_models_are_found_bundled_in_a_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weights: WeightSet
) -> None:
    bundled = tmp_path / "site" / "matcher" / "_bundled" / "models"
    bundled.mkdir(parents=True)
    (bundled / "default.json").write_text(json.dumps(weights.to_dict()), encoding="utf-8")
    monkeypatch.setattr(bundled_module, "PACKAGE", tmp_path / "site" / "matcher")
    assert models_dir() == bundled
    assert weights_module.load_default() == weights
    monkeypatch.setattr(bundled_module, "PACKAGE", tmp_path / "x" / "matcher")
    with pytest.raises(FileNotFoundError):
        models_dir()


# --- hard filters ----------------------------------------------------------------------------


def test_each_therapist_counts_under_the_first_filter_that_removes_it(weights: WeightSet) -> None:
    profiles = [
        make_profile("ok"),
        make_profile("elsewhere", licenses=[{"jurisdiction": "US-NY", "credential": "LP"}]),
        make_profile("full", capacity=0, languages=["fr"]),  # capacity comes before language
        make_profile("closed", accepting_new_clients=False),
        make_profile("teens", populations=["adolescents"]),
        make_profile("unwanted"),
        make_profile("phone_only", formats=["phone"]),
        make_profile("french", languages=["fr"]),
    ]
    outcome = run(
        profiles,
        weights,
        age_group="adults",
        exclude_therapists=["unwanted"],
        formats=["video"],
        languages=["en"],
        must_have=["language"],
    )
    assert outcome.excluded == {
        "jurisdiction": 1,
        "capacity": 2,
        "age_group": 1,
        "excluded": 1,
        "format": 1,
        "language": 1,
    }
    assert list(outcome.excluded) == [
        "jurisdiction",
        "capacity",
        "age_group",
        "excluded",
        "format",
        "language",
    ]
    assert outcome.eligible == 1
    assert [r.therapist_id for r in outcome.results] == ["ok"]


def test_relaxations_say_what_dropping_one_filter_adds(weights: WeightSet) -> None:
    profiles = [
        make_profile("ok", languages=["es"], modalities=["cbt"]),
        make_profile("no_spanish_1", languages=["en"], modalities=["cbt"]),
        make_profile("no_spanish_2", languages=["en"], modalities=["cbt"]),
        make_profile("no_cbt", languages=["es"], modalities=["ipt"]),
        make_profile("neither", languages=["en"], modalities=["ipt"]),
        make_profile("phone", languages=["es"], modalities=["cbt"], formats=["phone"]),
    ]
    intake = {"languages": ["es"], "modalities": ["cbt"], "formats": ["video"]}
    outcome = run(profiles, weights, must_have=["language", "modality"], **intake)
    assert outcome.eligible == 1
    assert outcome.relaxations == [
        {"drop": "language", "adds": 2},
        {"drop": "format", "adds": 1},
        {"drop": "modality", "adds": 1},
    ]
    # Checked by dropping each for real.
    assert run(profiles, weights, must_have=["modality"], **intake).eligible == 3
    assert run(profiles, weights, must_have=["language"], **intake).eligible == 2
    # Enough results: no hints.
    assert run(profiles, weights, limit=1, must_have=["language"], **intake).relaxations == []


def test_in_person_only_counts_within_the_radius(weights: WeightSet) -> None:
    near = make_profile("near", formats=["in_person"], location={"lat": 34.05, "lon": -118.24})
    far = make_profile("far", formats=["in_person"], location={"lat": 37.77, "lon": -122.42})
    client = {"lat": 34.10, "lon": -118.30}
    outcome = run([near, far], weights, formats=["in_person"], location=client)
    assert [r.therapist_id for r in outcome.results] == ["near"]
    assert outcome.excluded == {"format": 1}
    assert run([near, far], weights, formats=["in_person"]).eligible == 2  # no location: no radius
    wide = run([near, far], weights, formats=["in_person"], location=client, max_distance_km=700)
    assert wide.eligible == 2


@pytest.mark.parametrize(
    ("must_have", "profile", "passes"),
    [
        ("availability", {}, True),  # 2 hours in common
        (
            "availability",
            {"availability": [{"day": "tue", "start": "17:00", "end": "18:30"}]},
            True,
        ),
        (
            "availability",
            {"availability": [{"day": "tue", "start": "17:00", "end": "18:15"}]},
            False,
        ),
        ("cost", {"fee": {"amount": 150, "currency": "USD", "sliding_scale_min": 90}}, True),
        ("cost", {"fee": None}, False),
        ("cost", {"fee": None, "insurance": ["aetna"]}, True),
        ("identity", {"competencies": ["latinx"]}, True),
        ("gender", {"gender": None}, False),
        ("faith", {"faith": "muslim"}, True),
        ("concerns", {"concerns": ["grief"]}, False),
    ],
)
def test_must_haves_filter(
    weights: WeightSet, must_have: str, profile: dict[str, Any], passes: bool
) -> None:
    intake = {
        "timezone": "America/Los_Angeles",
        "availability": [{"day": "tue", "start": "17:30", "end": "21:00"}],
        "max_fee": 100,
        "insurance": "aetna",
        "identities": ["latinx"],
        "therapist_genders": ["woman"],
        "faith": "muslim",
        "concerns": ["depression"],
    }
    outcome = run([make_profile(**profile)], weights, must_have=[must_have], **intake)
    assert outcome.eligible == int(passes)


def test_a_shared_identity_must_have_needs_a_member(weights: WeightSet) -> None:
    ally = make_profile("ally", competencies=["lgbtq"])
    member = make_profile("member", identities=["lgbtq"])
    intake = {"identities": ["lgbtq"], "must_have": ["identity"]}
    assert run([ally, member], weights, **intake).eligible == 2
    shared = run([ally, member], weights, wants_shared_identity=True, **intake)
    assert [r.therapist_id for r in shared.results] == ["member"]


def test_a_must_have_without_a_preference_is_ignored_with_a_warning(weights: WeightSet) -> None:
    outcome = run([make_profile()], weights, must_have=["language", "faith", "cost"])
    assert outcome.eligible == 1
    assert outcome.excluded == {}
    assert outcome.warnings == [
        "must_have 'language' ignored: no languages given",
        "must_have 'faith' ignored: no faith given",
        "must_have 'cost' ignored: no max_fee or insurance given",
    ]
    # With the preference given, the same must-have filters and nothing is said.
    enforced = run([make_profile()], weights, must_have=["language"], languages=["fr"])
    assert (enforced.eligible, enforced.warnings) == (0, [])


def test_in_person_without_a_location_is_not_distance_checked_and_says_so(
    weights: WeightSet,
) -> None:
    far = make_profile("far", formats=["in_person"], location={"lat": 37.77, "lon": -122.42})
    outcome = run([far], weights, formats=["in_person"])
    assert outcome.eligible == 1
    assert outcome.results[0].features["format"] == 1.0  # full credit: distance unknown
    assert outcome.warnings == [
        "formats 'in_person' given without a location: distance not checked"
    ]
    placed = run([far], weights, formats=["in_person"], location={"lat": 34.1, "lon": -118.3})
    assert (placed.eligible, placed.warnings) == (0, [])
    assert run([far], weights, formats=["video"]).warnings == []


# --- features --------------------------------------------------------------------------------


def test_rank_discount() -> None:
    assert [rank_discount(i) for i in range(6)] == [1.0, 0.75, 0.5, 0.25, 0.25, 0.25]


def test_ordered_choices_are_discounted() -> None:
    ipt = make_profile(modalities=["ipt"], languages=["en"], gender="man")
    assert feature(ipt, "modality", modalities=["cbt", "ipt"]) == 0.75
    assert feature(ipt, "modality", modalities=["ipt", "cbt"]) == 1.0
    assert feature(ipt, "language", languages=["es"]) == 0.0
    assert feature(ipt, "language", languages=["es", "fr", "en"]) == 0.5
    assert feature(ipt, "gender", therapist_genders=["woman", "man"]) == 0.75


def test_concerns_count_every_concern_weighted_by_rank() -> None:
    profile = make_profile(concerns=["anxiety", "grief"])
    value = feature(profile, "concerns", concerns=["depression", "anxiety", "grief"])
    assert value == pytest.approx((0.75 + 0.5) / (1 + 0.75 + 0.5))


def test_identity_is_competence_or_half_shared() -> None:
    profile = make_profile(identities=["latinx"], competencies=["lgbtq"])
    asked = {"identities": ["latinx", "lgbtq", "veteran"]}
    assert feature(profile, "identity", **asked) == pytest.approx(2 / 3)
    shared = feature(profile, "identity", wants_shared_identity=True, **asked)
    assert shared == pytest.approx(0.5 * 2 / 3 + 0.5 * 1 / 3)


def test_faith_style_and_alliance() -> None:
    profile = make_profile(faith="buddhist", style={"directiveness": 2, "challenge": -1})
    assert feature(profile, "faith", faith="buddhist") == 1.0
    assert feature(profile, "faith", faith="hindu") == 0.0
    # |(-1) - 2| = 3 and |0 - 0| = 0 (a dimension the therapist left out counts as 0).
    style = {"directiveness": -1, "past_orientation": 0}
    assert feature(profile, "style", style=style) == pytest.approx(1 - 1.5 / 6)
    assert feature(profile, "alliance") == 0.5


@pytest.mark.parametrize(
    ("intake", "expected"),
    [
        ({"insurance": "aetna"}, 1.0),
        ({"insurance": "cigna"}, 0.0),
        ({"insurance": "cigna", "max_fee": 150}, 1.0),
        ({"max_fee": 100}, 0.7),
        ({"max_fee": 80}, 0.0),
        ({}, 0.0),
    ],
)
def test_cost(intake: dict[str, Any], expected: float) -> None:
    fee = {"amount": 150, "currency": "USD", "sliding_scale_min": 90}
    assert feature(make_profile(fee=fee, insurance=["aetna"]), "cost", **intake) == expected


def test_no_fee_listed_is_affordable_only_through_insurance() -> None:
    profile = make_profile(fee=None, insurance=["aetna"])
    assert feature(profile, "cost", max_fee=1000) == 0.0
    assert feature(profile, "cost", max_fee=1000, insurance="aetna") == 1.0


def test_format_prefers_near_in_person_and_discounts_later_choices() -> None:
    at = {"lat": 34.0, "lon": -118.0}
    profile = make_profile(formats=["in_person", "phone"], location=at)
    # 0.1 degrees of latitude is about 11.1 km: 1 - 0.5 * 11.1 / 30.
    value = feature(profile, "format", formats=["in_person"], location={"lat": 34.1, "lon": -118.0})
    assert value == pytest.approx(1 - 0.5 * 11.119 / 30, abs=1e-3)
    assert feature(profile, "format", formats=["in_person"]) == 1.0
    assert feature(profile, "format", formats=["video", "phone"]) == 0.75
    no_location = make_profile(formats=["in_person"], location=None)
    assert feature(no_location, "format", formats=["in_person"], location=at) == 0.5


def test_availability_overlap_is_capped_at_two_hours() -> None:
    profile = make_profile(availability=[{"day": "tue", "start": "17:00", "end": "18:00"}])
    zone = {"timezone": "America/Los_Angeles"}
    one_hour = feature(
        profile,
        "availability",
        availability=[{"day": "tue", "start": "17:00", "end": "21:00"}],
        **zone,
    )
    assert one_hour == 0.5  # 60 of 120 minutes
    short = [{"day": "tue", "start": "17:30", "end": "18:00"}]
    assert feature(profile, "availability", availability=short, **zone) == 1.0  # all 30 they gave


def test_availability_is_compared_at_the_match_instant() -> None:
    # New York moved to UTC-4 on 8 March 2026, London stays UTC+0 until 29 March: 4 hours apart.
    london = make_profile(
        timezone="Europe/London", availability=[{"day": "tue", "start": "22:00", "end": "23:00"}]
    )
    intake = make_intake(
        timezone="America/New_York", availability=[{"day": "tue", "start": "18:00", "end": "19:00"}]
    )
    index = TherapistIndex.build([london])
    column = FEATURES.index("availability")
    april = datetime(2026, 4, 7, tzinfo=UTC)
    values = [feature_values(index, intake, ["t-1"], now=when)[0, column] for when in (NOW, april)]
    assert values == [1.0, 0.0]


def test_availability_wraps_from_sunday_into_monday() -> None:
    # Sunday 16:00-18:00 in Los Angeles (UTC-7) is Monday 08:00-10:00 in Tokyo (UTC+9).
    therapist = make_profile(availability=[{"day": "sun", "start": "16:00", "end": "18:00"}])
    window = [{"day": "mon", "start": "08:00", "end": "10:00"}]
    value = feature(therapist, "availability", timezone="Asia/Tokyo", availability=window)
    assert value == 1.0


def test_omitted_preferences_give_zero_to_everyone() -> None:
    profiles = [make_profile("t-1"), make_profile("t-2", modalities=["ipt"], gender="man")]
    values = feature_values(TherapistIndex.build(profiles), make_intake(), ["t-1", "t-2"], now=NOW)
    assert values[:, : FEATURES.index("alliance")].tolist() == [[0.0] * 10, [0.0] * 10]


# --- scores and ranking ----------------------------------------------------------------------


def test_contributions_add_up_to_the_score(weights: WeightSet) -> None:
    outcome = run(
        [make_profile(insurance=["aetna"])],
        weights,
        modalities=["cbt"],
        languages=["en"],
        insurance="aetna",
    )
    result = outcome.results[0]
    assert set(result.contributions) == set(FEATURES)
    assert weights.intercept + sum(result.contributions.values()) == pytest.approx(result.score)
    assert result.contributions["language"] == pytest.approx(weights.weights["language"])
    assert result.features["modality"] == 1.0


def test_ties_go_to_the_lower_id_and_limit_cuts_the_list(weights: WeightSet) -> None:
    profiles = [make_profile(f"t-{i}") for i in (5, 3, 9, 1, 7)]
    profiles.append(make_profile("t-8", modalities=["ipt"]))
    outcome = run(profiles, weights, limit=3, modalities=["ipt"])
    assert [r.therapist_id for r in outcome.results] == ["t-8", "t-1", "t-3"]
    assert [r.rank for r in outcome.results] == [1, 2, 3]
    assert outcome.eligible == 6


def test_a_better_alliance_record_ranks_higher(weights: WeightSet) -> None:
    index = TherapistIndex.build([make_profile("t-1"), make_profile("t-2")])
    rated = index.with_alliance({"t-2": 0.9})
    assert [r.therapist_id for r in match(rated, make_intake(), weights, now=NOW).results] == [
        "t-2",
        "t-1",
    ]


def test_eligible_ids_and_feature_values_serve_the_learning_loop(weights: WeightSet) -> None:
    index = TherapistIndex.build([make_profile("t-1"), make_profile("t-2", capacity=0)])
    assert eligible_ids(index, make_intake(), now=NOW).tolist() == ["t-1"]
    values = feature_values(index, make_intake(modalities=["cbt"]), ["t-2", "t-1"], now=NOW)
    assert values.shape == (2, len(FEATURES))
    assert values[:, 0].tolist() == [1.0, 1.0]
    with pytest.raises(KeyError):
        feature_values(index, make_intake(), ["t-unknown"])


def test_the_match_instant_defaults_to_now(weights: WeightSet) -> None:
    index = TherapistIndex.build([make_profile()])
    assert match(index, make_intake(), weights).eligible == 1
    naive = datetime(2026, 3, 10, 17, 0)  # read as UTC
    assert match(index, make_intake(), weights, now=naive) == match(
        index, make_intake(), weights, now=NOW
    )


# --- scores are plain floats -------------------------------------------------------------


def test_scores_are_not_rounded(weights: WeightSet) -> None:
    profile = make_profile(concerns=["anxiety"])
    outcome = run([profile], weights, concerns=["depression", "anxiety", "grief"])
    prior = weights.weights["alliance"] * 0.5  # the alliance record at its prior
    expected = weights.intercept + weights.weights["concerns"] * (0.75 / 2.25) + prior
    assert outcome.results[0].score == pytest.approx(expected, abs=1e-12)
    assert np.isfinite(outcome.results[0].score)


def test_top_keeps_the_best_and_breaks_ties_by_position() -> None:
    rng = np.random.default_rng(0)
    for _ in range(500):
        score = rng.integers(0, 4, int(rng.integers(0, 30))).astype(np.float64)
        limit = int(rng.integers(0, 35))
        expected = sorted(range(len(score)), key=lambda i: (-score[i], i))[:limit]
        assert top(score, limit).tolist() == expected


def test_top_over_long_score_lists_agrees_with_a_full_sort() -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):  # long enough for kth_best to take its strided sample first
        size = int(rng.integers(600, 20_000))
        levels = int(rng.choice([3, 50, 1_000_000]))  # many ties, some, almost none
        score = rng.integers(0, levels, size) / levels
        limit = int(rng.integers(1, 12))
        expected = np.lexsort((np.arange(size), -score))[:limit]
        assert top(score, limit).tolist() == expected.tolist()


def test_kth_best_is_the_kth_largest_whatever_the_order_and_ties() -> None:
    rng = np.random.default_rng(2)
    for _ in range(500):
        size = int(rng.integers(1, 5_000))
        values = rng.integers(0, int(rng.integers(1, 100)), size).astype(np.float64)
        if rng.random() < 0.3:  # sorted either way: the strided sample sees only one end's values
            values = np.sort(values)[:: int(rng.choice([1, -1]))].copy()
        k = int(rng.integers(1, min(size, 40) + 1))
        assert kth_best(values, k) == np.sort(values)[size - k]


@pytest.mark.parametrize("above", [0, 1, 9, 10, 11, 40])
def test_kth_best_when_few_values_stand_above_a_tied_crowd(above: int) -> None:
    # Ties by the thousand at the sample's k-th value (as lower bounds are) and a few values
    # above it, kept off the strided sample: the k-th largest is the tie unless k stand above.
    values = np.zeros(20_000)
    values[np.arange(above) * 97 + 1] = np.arange(above, 0, -1)  # 1..above, mostly off the stride
    for k in (1, 5, 10):
        assert kth_best(values, k) == np.sort(values)[len(values) - k]
