"""Off-policy estimates recover a known policy value from explored logs."""

from __future__ import annotations

import numpy as np

from matcher.core.learning.offpolicy import LoggedMatch, off_policy
from matcher.services.exploration import inclusion_probabilities, systematic_sample


def _logs(
    rng: np.random.Generator, n: int, explored_share: float
) -> tuple[list[LoggedMatch], float]:
    """Matches of 40 eligible therapists, 5 shown; alliance = 0.6 + 0.3 * feature 0 + noise."""
    truth_coef = np.array([0.3, 0.0])
    logs, values = [], []
    for _ in range(n):
        x = rng.random((40, 2))
        reward = 0.6 + x @ truth_coef
        logged = x[:, 1]  # the logging ranking looks at the useless feature
        explored = bool(rng.random() < explored_share)
        shown = rng.permutation(40)[:5] if explored else np.argsort(-logged)[:5]
        referred = int(rng.choice(shown))
        candidate_top = np.argsort(-x[:, 0])[:5]
        values.append(float(reward[candidate_top].mean()))
        logs.append(
            LoggedMatch(
                features=x,
                logged_score=logged,
                referred=referred,
                alliance=float(reward[referred] + rng.normal(0, 0.05)),
                explored=explored,
                shown=5,
                eligible=40,
            )
        )
    return logs, float(np.mean(values))


def test_both_estimators_cover_the_candidates_true_value_and_rank_it_above_the_logger() -> None:
    logs, true_value = _logs(np.random.default_rng(3), 1500, 0.3)
    estimates = off_policy(logs, lambda x: x[:, 0])
    assert [e["estimator"] for e in estimates] == ["snips", "doubly_robust"]
    for e in estimates:
        low, high = e["candidate_interval"]
        assert low <= true_value <= high
        assert e["candidate"] > e["active"] + 0.05
        assert e["n"] == sum(m.explored for m in logs)


def test_without_exploration_nothing_is_estimated() -> None:
    logs, _ = _logs(np.random.default_rng(4), 200, 0.0)
    assert off_policy(logs, lambda x: x[:, 0]) == []


def _targeted_logs(
    rng: np.random.Generator, n: int, *, log_chance: bool
) -> tuple[list[LoggedMatch], float]:
    """Exploration that favours high feature 1 (which lifts the alliance but not the candidate's
    ranking): 40 eligible, 5 shown by systematic PPS, half the matches explored."""
    logs, values = [], []
    for _ in range(n):
        x = rng.random((40, 2))
        reward = 0.5 + 0.3 * x[:, 0] + 0.3 * x[:, 1]
        explored = bool(rng.random() < 0.5)
        chance = inclusion_probabilities(0.05 + x[:, 1] ** 4, 5)
        shown = systematic_sample(chance, rng) if explored else np.argsort(-x[:, 1])[:5]
        referred = int(rng.choice(shown))
        values.append(float(reward[np.argsort(-x[:, 0])[:5]].mean()))
        logs.append(
            LoggedMatch(
                features=x,
                logged_score=x[:, 1],
                referred=referred,
                alliance=float(reward[referred] + rng.normal(0, 0.05)),
                explored=explored,
                shown=5,
                eligible=40,
                exploration_propensity=float(chance[referred]) if log_chance else None,
            )
        )
    return logs, float(np.mean(values))


def test_targeted_exploration_is_weighted_by_its_logged_chance() -> None:
    logs, true_value = _targeted_logs(np.random.default_rng(5), 2000, log_chance=True)
    blind, same = _targeted_logs(np.random.default_rng(5), 2000, log_chance=False)
    assert same == true_value
    for weighted, unweighted in zip(
        off_policy(logs, lambda x: x[:, 0]), off_policy(blind, lambda x: x[:, 0]), strict=True
    ):
        low, high = weighted["candidate_interval"]
        assert low <= true_value <= high
        # Read as uniform, the sample's tilt towards high feature 1 inflates the estimate.
        assert unweighted["candidate"] > high
