"""A recorded match scores only its contenders in full: what it shows and keeps must not change."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.core.scoring import FEATURES, TherapistIndex, WeightSet, evaluate
from matcher.services import freshness as fresh
from matcher.services.exploration import (
    inclusion_probabilities,
    systematic_sample,
    uncertainty_weight,
)
from matcher.services.exposure import exposure_counts
from matcher.services.matching import (
    MEANS_SAMPLE,
    RECORDED_CANDIDATES,
    TOP_EXPOSURE,
    Candidate,
    RecordedMatch,
    Snapshot,
    recorded,
)
from tests.core.scoring.test_properties import SETTINGS, intake, weight_set
from tests.core.scoring.test_pruning import NOW
from tests.services.test_freshness import INDEXES, ranked


def everyone(
    snap: Snapshot,
    case: dict[str, Any],
    limit: int,
    exploration: float,
    rng: np.random.Generator,
    freshness: fresh.Freshness,
    chosen: str | None,
    sample: int,
    policy: str,
) -> RecordedMatch:
    """Every eligible therapist scored, then what a recorded match keeps (the reference)."""
    evaluation = evaluate(snap.index, case, snap.weights, limit=limit, now=NOW)
    evaluation, greedy, stale = ranked(evaluation, limit, freshness)
    eligible = len(evaluation.score)
    if eligible == 0:
        return RecordedMatch(evaluation.outcome(greedy), snap, [], False, None)
    explore = exploration > 0 and rng.random() < exploration
    k = len(greedy)
    if policy == "uniform":  # exactly what a recorded match always did
        chance = np.full(eligible, k / eligible)
        shown = rng.permutation(eligible)[:k] if explore else greedy
        propensity = np.full(eligible, exploration * k / eligible)
    else:  # P(shown | explores) from each eligible therapist's rated referrals
        assert snap.referral_rows is not None
        counts = snap.referral_rows[evaluation.screening.rows]
        chance = inclusion_probabilities(uncertainty_weight(counts), k)
        shown = systematic_sample(chance, rng) if explore else greedy
        propensity = exploration * chance
    outcome = fresh.explained(evaluation.outcome(shown), evaluation, shown, stale, freshness)
    propensity[greedy] += 1 - exploration
    rank = dict(zip(shown.tolist(), range(1, len(shown) + 1), strict=True))
    best = np.lexsort((np.arange(eligible), -evaluation.score))[:RECORDED_CANDIDATES]
    kept = set(best.tolist()) | set(rank)
    if chosen is not None:
        hit = np.flatnonzero(evaluation.ids == chosen)
        kept.update(hit.tolist())
        propensity[hit] = chance[hit] = 1.0
    candidates = [
        Candidate(
            therapist_id=str(evaluation.ids[i]),
            rank=rank.get(i),
            score=float(evaluation.score[i]),
            propensity=float(propensity[i]),
            features=dict(zip(FEATURES, evaluation.values[i].tolist(), strict=True)),
            exploration_propensity=float(chance[i]),
        )
        for i in sorted(kept)
    ]
    pool = evaluation.values
    if eligible > sample:  # the service's evenly spaced sample of a large pool
        pool = pool[np.linspace(0, eligible - 1, sample).astype(np.intp)]
    means = dict(zip(FEATURES, pool.mean(axis=0).tolist(), strict=True))
    rows = evaluation.screening.rows
    exposure = exposure_counts(
        snap.index, rows, rows[shown[:TOP_EXPOSURE]], snap.rated_rows, case.get("jurisdiction")
    )
    return RecordedMatch(outcome, snap, candidates, explore, means, exposure)


@settings(SETTINGS, max_examples=2 * settings.default.max_examples)
@given(
    st.sampled_from(sorted(INDEXES)),
    intake([]),
    weight_set(),
    st.integers(1, 12),
    st.sampled_from(fresh.STALE_POLICIES),
    st.sampled_from([0.0, 0.3, 1.0]),
    st.integers(0, 2**32 - 1),
    st.one_of(st.none(), st.integers(0, 299)),
    # Pools larger than the sample take the pruned path; the whole pool is scored up to it.
    st.sampled_from([MEANS_SAMPLE, 40]),
    st.sampled_from(["uniform", "uncertainty"]),
)
def test_a_recorded_match_keeps_what_scoring_everyone_keeps(
    key: tuple[int, float],
    case: dict[str, Any],
    w: WeightSet,
    limit: int,
    policy: str,
    exploration: float,
    seed: int,
    chosen_row: int | None,
    sample: int,
    exploration_policy: str,
) -> None:
    index: TherapistIndex = INDEXES[key]
    case = {**case, "jurisdiction": "US-CA"}
    rated = np.zeros(len(index), dtype=np.bool_)
    rated[::3] = True
    # Rated referrals: none for two thirds, 1 to 12 for the rest (uniform ignores them).
    referrals = np.where(rated, 1 + np.arange(len(index)) % 12, 0).astype(np.float64)
    snap = Snapshot(index, w, {}, rated_rows=rated, referral_rows=referrals)
    freshness = fresh.Freshness(policy=policy)
    chosen = None if chosen_row is None else str(index.ids[chosen_row])
    got = recorded(
        snap,
        freshness,
        case,
        limit=limit,
        exploration=exploration,
        rng=np.random.default_rng(seed),
        now=NOW,
        chosen=chosen,
        exploration_policy=exploration_policy,
        means_sample=sample,
    )
    expected = everyone(
        snap,
        case,
        limit,
        exploration,
        np.random.default_rng(seed),
        freshness,
        chosen,
        sample,
        exploration_policy,
    )
    # Means summed in another order may differ in the last bits; everything else is exact.
    if expected.feature_means is None:
        assert got.feature_means is None
    else:
        assert got.feature_means == pytest.approx(expected.feature_means, rel=1e-12, abs=1e-15)
    assert replace(got, feature_means=None) == replace(expected, feature_means=None)
