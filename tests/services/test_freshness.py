"""A served match prunes like the engine: every stale policy must still show exactly the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.core.scoring import (
    Evaluation,
    MatchOutcome,
    TherapistIndex,
    WeightSet,
    evaluate,
    load_default,
    top,
)
from matcher.core.scoring.index import Bools, Rows
from matcher.services import freshness as fresh
from tests.core.scoring.test_properties import SETTINGS, intake, weight_set
from tests.core.scoring.test_pruning import DIRECTORIES, NOW

POLICIES = fresh.STALE_POLICIES


def confirmed(profiles: list[dict[str, Any]], seed: int, fresh: float) -> list[dict[str, Any]]:
    """The profiles with accepting confirmed recently (share ``fresh``), long ago, or never."""
    rng = np.random.default_rng(seed)
    draws = rng.random(len(profiles))
    long_ago = NOW - timedelta(days=400)
    return [
        {
            **p,
            "accepting_confirmed_at": NOW - timedelta(days=3)
            if u < fresh
            else (None, long_ago)[i % 2],
        }
        for i, (p, u) in enumerate(zip(profiles, draws, strict=True))
    ]


# Mostly fresh, and so few fresh that "rank_after" must fill the top from stale therapists.
INDEXES = {
    (seed, share): TherapistIndex.build(confirmed(p, seed, share))
    for seed, p in DIRECTORIES.items()
    for share in (0.02, 0.6)
}


def ranked(
    evaluation: Evaluation, limit: int, freshness: fresh.Freshness
) -> tuple[Evaluation, Rows, Bools]:
    """The stale policy over every eligible therapist scored, written out plainly: (the
    evaluation, stale rows removed under "exclude"; the positions to show; which are stale)."""
    rows = evaluation.screening.rows
    stale = fresh.stale_rows(evaluation.index, rows, evaluation.when, freshness)
    if freshness.policy == "exclude" and stale.any():
        keep = ~stale
        screening = evaluation.screening
        excluded = dict(screening.excluded, stale=int(stale.sum()))
        evaluation = replace(
            evaluation,
            screening=replace(screening, rows=rows[keep], excluded=excluded),
            values=evaluation.values[keep],
            score=evaluation.score[keep],
        )
        stale = stale[keep]
    if freshness.policy == "rank_after":
        # Every stale one after every fresh, each part by score, ties by position (compared as
        # a key: subtracting a penalty would round away the last bits of close scores).
        order = sorted(range(len(stale)), key=lambda i: (bool(stale[i]), -evaluation.score[i], i))
        return evaluation, np.array(order[:limit], dtype=np.intp), stale
    return evaluation, top(evaluation.score, limit), stale


def served(
    index: TherapistIndex, case: dict[str, Any], w: WeightSet, limit: int, policy: str
) -> MatchOutcome:
    """What the match service shows: the pruned path."""
    freshness = fresh.Freshness(policy=policy)
    evaluation, shown, stale, eligible = fresh.shortlisted(index, case, w, limit, NOW, freshness)
    outcome = replace(evaluation.outcome(shown), eligible=eligible)
    return fresh.explained(outcome, evaluation, shown, stale, freshness)


def everyone(
    index: TherapistIndex, case: dict[str, Any], w: WeightSet, limit: int, policy: str
) -> MatchOutcome:
    """Every eligible therapist scored, then the policy: what the pruned path must equal."""
    freshness = fresh.Freshness(policy=policy)
    evaluation = evaluate(index, case, w, limit=limit, now=NOW)
    evaluation, shown, stale = ranked(evaluation, limit, freshness)
    return fresh.explained(evaluation.outcome(shown), evaluation, shown, stale, freshness)


@settings(SETTINGS, max_examples=2 * settings.default.max_examples)
@given(
    st.sampled_from(sorted(INDEXES)),
    intake([]),
    weight_set(),
    st.integers(1, 12),
    st.sampled_from(POLICIES),
)
def test_every_policy_shows_what_scoring_everyone_shows(
    seed: int, case: dict[str, Any], w: WeightSet, limit: int, policy: str
) -> None:
    index = INDEXES[seed]
    case = {**case, "jurisdiction": "US-CA"}
    assert served(index, case, w, limit, policy) == everyone(index, case, w, limit, policy)


def test_rank_after_fills_from_stale_therapists_when_too_few_are_fresh() -> None:
    base = {
        "licenses": [{"jurisdiction": "US-CA", "credential": "LP"}],
        "modalities": ["cbt"],
        "formats": ["video"],
        "accepting_new_clients": True,
        "capacity": 3,
    }
    recent = NOW - timedelta(days=1)
    profiles = [
        {**base, "id": f"t-{i}", "name": f"T {i}", "accepting_confirmed_at": when}
        for i, when in enumerate([None, recent, None, None, recent])
    ]
    # Only t-1 and t-4 are fresh: they come first, then the stale ones.
    index = TherapistIndex.build(profiles)
    case = {"jurisdiction": "US-CA", "modalities": ["cbt"], "formats": ["video"]}
    w = load_default()
    outcome = served(index, case, w, 4, "rank_after")
    assert [r.therapist_id for r in outcome.results][:2] == ["t-1", "t-4"]
    assert len(outcome.results) == 4
    assert outcome.eligible == 5
    assert outcome == everyone(index, case, w, 4, "rank_after")
    excluded = served(index, case, w, 4, "exclude")
    assert [r.therapist_id for r in excluded.results] == ["t-1", "t-4"]
    assert excluded.excluded["stale"] == 3 and excluded.eligible == 2
    assert datetime.fromisoformat(excluded.results[0].accepting_confirmed_at or "") == recent
