"""Exploration policies: every logged chance of being shown is the true one under the policy."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from matcher.config import Settings
from matcher.core.scoring import load_default
from matcher.services import exploration as exploring
from matcher.services.freshness import Freshness
from matcher.services.matching import RecordedMatch, Snapshot, recorded, referrals_per_row
from tests.core.scoring.test_pruning import NOW
from tests.services.test_freshness import INDEXES

# Frequencies over N draws are compared with the chances within 5 binomial standard errors
# (sqrt(p (1 - p) / N)), plus 1e-9 for a chance of exactly 0 or 1: a true chance fails a
# given check with probability under 1e-6, and the seeds are fixed.
SIGMAS = 5.0


def within_tolerance(frequency: np.ndarray, chance: np.ndarray, draws: int) -> np.ndarray:
    """Whether each observed frequency is within SIGMAS standard errors of its chance."""
    return np.abs(frequency - chance) <= SIGMAS * np.sqrt(chance * (1 - chance) / draws) + 1e-9


def test_inclusion_probabilities_sum_to_k_proportional_and_capped_at_one() -> None:
    w = np.array([50.0, 1.0, 1.0, 2.0, 4.0, 0.5, 0.5, 1.0])
    pi = exploring.inclusion_probabilities(w, 3)
    assert pi.sum() == pytest.approx(3.0)
    assert pi[0] == 1.0  # 3 * 50 / 60 > 1: taken for certain
    rest = pi[1:] / w[1:]
    assert np.allclose(rest, rest[0])  # the others share what is left in proportion
    assert rest[0] == pytest.approx(2 / w[1:].sum())
    # A second round: capping the first pushes the next over 1.
    pi = exploring.inclusion_probabilities(np.array([10.0, 6.0, 1.0, 1.0, 1.0, 1.0]), 3)
    assert pi.tolist()[:2] == [1.0, 1.0]
    assert pi[2:] == pytest.approx([0.25] * 4)
    assert exploring.inclusion_probabilities(w, 8).tolist() == [1.0] * 8
    assert exploring.inclusion_probabilities(np.ones(8), 2) == pytest.approx([0.25] * 8)


def test_systematic_sampling_includes_each_row_with_its_probability() -> None:
    rng = np.random.default_rng(11)
    w = np.concatenate([[30.0], rng.random(39) + 0.05])
    pi = exploring.inclusion_probabilities(w, 6)
    assert pi[0] == 1.0 and pi.min() < 0.1
    draws = 20_000
    counts = np.zeros(len(pi))
    for _ in range(draws):
        picked = exploring.systematic_sample(pi, rng)
        assert len(picked) == len(set(picked.tolist())) == 6
        counts[picked] += 1
    assert within_tolerance(counts / draws, pi, draws).all()


def test_uncertainty_favours_the_least_rated() -> None:
    counts = np.array([0.0, 0.0, 3.0, 8.0, 24.0, 99.0])
    chance = exploring.chances("uncertainty", 2, counts)
    assert chance.sum() == pytest.approx(2.0)
    assert list(chance) == sorted(chance, reverse=True)
    assert chance[0] / chance[5] == pytest.approx(10.0)  # 1/sqrt(1) against 1/sqrt(100)
    assert exploring.chances("uniform", 2, counts) == pytest.approx([1 / 3] * 6)
    with pytest.raises(ValueError, match="exploration policy"):
        exploring.chances("greedy", 2, counts)


def snapshot(referrals: np.ndarray | None) -> Snapshot:
    """The first test directory under the default weights, with these rated referrals."""
    index = INDEXES[sorted(INDEXES)[0]]
    return Snapshot(index, load_default(), {}, referral_rows=referrals)


def referral_counts(n: int) -> np.ndarray:
    """Rated referrals per row: half never rated, the rest 1 to 30."""
    return np.where(np.arange(n) % 2 == 0, 0.0, 1.0 + (np.arange(n) * 7) % 30)


CASE = {"jurisdiction": "US-CA"}
FRESHNESS = Freshness()  # the service's default stale policy


@pytest.mark.parametrize(
    ("policy", "exploration"), [("uncertainty", 0.3), ("uncertainty", 1.0), ("uniform", 0.3)]
)
def test_logged_propensities_are_the_frequencies_of_being_shown(
    policy: str, exploration: float
) -> None:
    snap = snapshot(None)
    snap = replace(snap, referral_rows=referral_counts(len(snap.index)))
    rng = np.random.default_rng(2026)
    draws = 4_000
    shown: Counter[str] = Counter()
    logged: dict[str, tuple[float, float]] = {}
    explored = 0
    for _ in range(draws):
        got = recorded(
            snap,
            FRESHNESS,
            CASE,
            limit=5,
            exploration=exploration,
            rng=rng,
            now=NOW,
            exploration_policy=policy,
        )
        explored += got.explored
        shown.update(c.therapist_id for c in got.candidates if c.rank is not None)
        for c in got.candidates:
            chances = (c.propensity, c.exploration_propensity)
            assert logged.setdefault(c.therapist_id, chances) == chances  # one chance each
    eligible = got.outcome.eligible
    assert eligible > 20 and len(logged) > 40
    ids = sorted(logged)
    propensity = np.array([logged[t][0] for t in ids])
    frequency = np.array([shown[t] for t in ids]) / draws
    assert within_tolerance(frequency, propensity, draws).all()
    # Every eligible therapist's chance adds up to the results shown, kept or not.
    assert propensity.sum() <= 5 + 1e-9
    if policy == "uncertainty":  # the least rated are shown more often than the most rated
        never = [t for t in ids if logged[t][1] == max(v[1] for v in logged.values())]
        most = [t for t in ids if logged[t][1] == min(v[1] for v in logged.values())]
        assert np.mean([shown[t] for t in never]) > np.mean([shown[t] for t in most])
    # Given that it explored, each one was shown with its exploration propensity.
    if exploration == 1.0:
        chance = np.array([logged[t][1] for t in ids])
        assert np.array_equal(chance, propensity)
        assert explored == draws


def test_uniform_exploration_ignores_referral_counts() -> None:
    """Uniform is what it always was: the same draws whatever the counts say."""
    plain = snapshot(None)
    counted = replace(plain, referral_rows=referral_counts(len(plain.index)))
    runs: list[list[RecordedMatch]] = []
    for snap in (plain, counted):
        rng = np.random.default_rng(7)
        runs.append(
            [
                recorded(snap, FRESHNESS, CASE, limit=8, exploration=0.5, rng=rng, now=NOW)
                for _ in range(40)
            ]
        )
    for a, b in zip(*runs, strict=True):
        assert replace(a, snapshot=None) == replace(b, snapshot=None)  # type: ignore[arg-type]
    eligible = runs[0][0].outcome.eligible
    explored = [m for m in runs[0] if m.explored]
    assert explored and all(
        c.exploration_propensity == 8 / eligible for m in explored for c in m.candidates
    )


def test_referral_counts_land_on_their_rows() -> None:
    ids = np.array(["t-1", "t-2", "t-3", "t-4"], dtype=np.str_)
    got = referrals_per_row(ids, {"t-3": 5, "t-1": 2, "t-9": 7})
    assert got.tolist() == [2.0, 0.0, 5.0, 0.0]
    assert referrals_per_row(ids, {}).tolist() == [0.0] * 4


def test_the_policy_is_a_setting_and_uniform_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHER_EXPLORATION_POLICY", raising=False)
    assert Settings.from_env().exploration_policy == "uniform"
    monkeypatch.setenv("MATCHER_EXPLORATION_POLICY", "uncertainty")
    assert Settings.from_env().exploration_policy == "uncertainty"
    monkeypatch.setenv("MATCHER_EXPLORATION_POLICY", "thompson")
    with pytest.raises(ValueError, match="MATCHER_EXPLORATION_POLICY"):
        Settings.from_env()
