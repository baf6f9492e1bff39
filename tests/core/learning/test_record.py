"""Therapist alliance records: shrunk toward the population mean, never zeroed."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.core.learning.record import (
    ALLIANCE_SPAN,
    FLOOR_FACTOR,
    PRIOR_MEAN,
    THERAPIST_SHARE,
    estimate_records,
)
from matcher.core.scoring import PRIOR_ALLIANCE


def _population(therapists: int, per_therapist: int, tau: float, sigma: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(therapists), per_therapist)
    effect = rng.normal(0, tau, therapists)
    scores = np.clip(0.73 + effect[ids] + rng.normal(0, sigma, len(ids)), 0, 1)
    return [f"t{i}" for i in ids], scores


def test_one_rating_is_shrunk_much_more_than_fifty() -> None:
    ids, scores = _population(200, 10, 0.03, 0.12)
    ids += ["one"] + ["fifty"] * 50
    scores = np.concatenate([scores, [0.9], np.full(50, 0.85)])
    records = estimate_records(ids, scores)
    row = {t: i for i, t in enumerate(records.therapist_ids)}
    one, fifty = row["one"], row["fifty"]
    assert records.n[one] == 1 and records.n[fifty] == 50
    assert records.shrinkage[one] < 0.2 < 0.5 < records.shrinkage[fifty]
    # A single very good rating moves its therapist less than fifty good ones move theirs.
    assert records.estimate[one] - records.mean < records.estimate[fifty] - records.mean
    assert records.mean < records.estimate[one] < records.raw_mean[one]


def test_variance_components_are_recovered() -> None:
    ids, scores = _population(400, 25, tau=0.04, sigma=0.1, seed=1)
    records = estimate_records(ids, scores)
    assert records.between_var == pytest.approx(0.04**2, rel=0.3)
    assert records.within_var == pytest.approx(0.1**2, rel=0.1)
    assert records.mean == pytest.approx(0.73, abs=0.01)


def test_no_between_therapist_spread_still_keeps_some_evidence() -> None:
    """tau^2 is floored at half the 5% therapist share (Johns et al. 2019): never full shrinkage."""
    ids = np.repeat(np.arange(6), 4)
    scores = np.tile([0.6, 0.7, 0.8, 0.9], 6)  # every therapist has the same mean
    records = estimate_records(ids, scores)
    assert records.between_var == pytest.approx(FLOOR_FACTOR * THERAPIST_SHARE * scores.var(ddof=1))
    assert (records.shrinkage > 0).all()


def test_no_ratings_gives_the_prior_and_no_records() -> None:
    records = estimate_records([], [])
    assert records.mean == PRIOR_MEAN
    assert records.therapist_ids == ()
    assert records.feature_values() == {}
    assert records.between_var > 0 and records.within_var > 0


def test_a_single_rating_is_enough_to_start() -> None:
    records = estimate_records(["a"], [0.9])
    assert records.mean == pytest.approx(0.9)
    assert records.feature_values() == {"a": pytest.approx(PRIOR_ALLIANCE)}


def test_feature_values_sit_on_0_to_1_around_the_prior() -> None:
    ids, scores = _population(50, 8, 0.05, 0.1, seed=2)
    records = estimate_records(ids, scores)
    values = records.feature_values()
    expected = np.clip(PRIOR_ALLIANCE + (records.estimate - records.mean) / ALLIANCE_SPAN, 0, 1)
    assert [values[t] for t in records.therapist_ids] == pytest.approx(expected.tolist())
    assert all(0 <= v <= 1 for v in values.values())
    # Better records get larger features: the order of the shrunken estimates is kept.
    order = np.argsort(records.estimate)
    assert np.all(np.diff(np.array([values[records.therapist_ids[i]] for i in order])) >= 0)


def test_integer_ids_become_string_keys() -> None:
    records = estimate_records([7, 7, 9], [0.8, 0.9, 0.7])
    assert set(records.feature_values()) == {"7", "9"}


@pytest.mark.parametrize(
    ("ids", "scores"),
    [(["a", "b"], [0.5]), (["a"], [float("inf")]), (["a"], [float("nan")])],
)
def test_bad_inputs_are_refused(ids: list[str], scores: list[float]) -> None:
    with pytest.raises(ValueError):
        estimate_records(ids, scores)
