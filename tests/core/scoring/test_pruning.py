"""A top-k match computes the costly features only for contenders: the ranking must not change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.core.scoring import TherapistIndex, WeightSet, evaluate, load_default, match, top
from matcher.core.scoring.engine import contenders
from matcher.core.scoring.filters import screen
from matcher.core.scoring.query import ClientQuery
from matcher.lab.synthetic import generate_profiles
from tests.core.scoring.test_properties import SETTINGS, instants, intake, weight_set

NOW = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
# One jurisdiction, so nearly every therapist is eligible: the wide pools pruning is for.
DIRECTORIES = {seed: generate_profiles(300, seed=seed, jurisdictions=["US-CA"]) for seed in (1, 2)}


def full_ranking(index: TherapistIndex, case: dict[str, Any], w: WeightSet, limit: int) -> Any:
    """Every eligible therapist scored, then the top: what match must equal."""
    evaluation = evaluate(index, case, w, limit=limit, now=NOW)
    return evaluation.outcome(top(evaluation.score, limit))


@settings(SETTINGS, max_examples=2 * settings.default.max_examples)
@given(
    st.sampled_from(sorted(DIRECTORIES)),
    intake([]),
    weight_set(),
    st.integers(1, 12),
    instants,
    st.booleans(),
)
def test_wide_pools_rank_exactly_as_when_every_therapist_is_scored(
    seed: int, case: dict[str, Any], w: WeightSet, limit: int, now: datetime, rated: bool
) -> None:
    profiles = DIRECTORIES[seed]
    rng = np.random.default_rng(seed)
    # Without ratings every record sits at the prior: many ties among the cheap features.
    alliance = {p["id"]: float(rng.random()) for p in profiles} if rated else None
    index = TherapistIndex.build(profiles, alliance=alliance)
    case = {**case, "jurisdiction": "US-CA"}
    evaluation = evaluate(index, case, w, limit=limit, now=now)
    expected = evaluation.outcome(top(evaluation.score, limit))
    assert match(index, case, w, limit=limit, now=now) == expected


def test_ties_at_the_cut_go_to_the_lower_ids_whatever_is_left_uncomputed() -> None:
    same = {
        "licenses": [{"jurisdiction": "US-CA", "credential": "LP"}],
        "modalities": ["cbt"],
        "languages": ["en"],
        "formats": ["video"],
        "timezone": "America/Los_Angeles",
        "accepting_new_clients": True,
        "capacity": 3,
        "availability": [{"day": "mon", "start": "09:00", "end": "12:00"}],
        "style": {"directiveness": 1},
    }
    profiles = [{**same, "id": f"t-{i:03d}", "name": f"T {i}"} for i in range(50)]
    # The last therapists differ only on costly features, some better and some worse.
    profiles[40] = {**profiles[40], "style": {"directiveness": 3}}
    profiles[41] = {**profiles[41], "availability": []}
    w = load_default()
    case = {
        "jurisdiction": "US-CA",
        "modalities": ["cbt"],
        "timezone": "America/Los_Angeles",
        "availability": [{"day": "mon", "start": "09:00", "end": "12:00"}],
        "style": {"directiveness": 3},
    }
    index = TherapistIndex.build(profiles)
    outcome = match(index, case, w, limit=3, now=NOW)
    assert [r.therapist_id for r in outcome.results] == ["t-040", "t-000", "t-001"]
    assert outcome == full_ranking(index, case, w, 3)
    assert outcome.eligible == 50


def test_only_contenders_get_the_costly_features() -> None:
    profiles = DIRECTORIES[1]
    w = load_default()
    case = {
        "jurisdiction": "US-CA",
        "languages": ["es"],
        "modalities": ["cbt", "emdr"],
        "max_fee": 120.0,
        "style": {"directiveness": 2},
    }
    index = TherapistIndex.build(profiles)
    q = ClientQuery.from_intake(case)
    screening = screen(index, q, NOW, limit=5)
    positions, values = contenders(index, q, screening, w, NOW, 5)
    assert 5 <= len(positions) < len(screening.rows)
    full = evaluate(index, case, w, limit=5, now=NOW)
    assert np.array_equal(values, full.values[positions])
    narrowed = replace(screening, rows=screening.rows[positions], known={})
    assert narrowed.rows.tolist() == full.screening.rows[positions].tolist()
