"""Off-policy evaluation: the early alliance a ranking would reach, estimated from logged matches.

A policy's value is the expected early alliance (the contract's 0..1 score, averaged over a
referral's ratings) of a client referred to one of the ``k`` therapists it shows. Only explored
matches inform it: their results were a random sample of the eligible therapists in random
order, so which one a client took cannot depend on the rank the ranking would have given it.
The referred therapist was shown with the logged chance ``pi`` the exploring policy gave it
(``k / eligible`` under uniform exploration, and for matches logged before ``pi`` was kept), and
then taken with chance ``1/k`` (its position was random). Against that, a ranking that shows the
therapist among its own top ``k`` would refer to it with chance ``1/k``, so the importance weight
is ``1 / pi`` when it would show it and 0 otherwise.

- ``snips``: self-normalised inverse propensity scoring (Swaminathan & Joachims 2015):
  ``sum w y / sum w``.
- ``doubly_robust``: a reward model (a ridge fit of the alliance on the match features over
  every logged referral) gives each match the mean predicted alliance of the policy's top ``k``;
  the explored referrals correct its error, ``mean r(top k) + mean w (y - r(referred))``
  (Dudik, Langford & Li 2011). The direct part averages over every logged match, the correction
  over the explored ones (exploration is drawn independently of the client).
Intervals are the central 95% of a bootstrap over matches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.core.scoring.index import Floats

ESTIMATORS = ("snips", "doubly_robust")
BOOTSTRAP = 400
RIDGE = 1.0  # the reward model's penalty, relative to the mean diagonal of its Gram matrix
MINIMUM_EXPLORED = 10

Score = Callable[[Floats], Floats]


@dataclass(frozen=True)
class LoggedMatch:
    """One recorded match with a rated referral: its candidates, and what happened."""

    features: Floats  # one row per kept candidate (FEATURES order, as at match time)
    logged_score: Floats  # each candidate's score under the model that ranked the match
    referred: int  # row of the referred therapist
    alliance: float  # the referral's mean rating score (0..1)
    explored: bool
    shown: int  # how many results were shown (k)
    eligible: int
    exploration_propensity: float | None = None  # P(referred shown | explored); None: k/eligible


def _top(score: Floats, k: int) -> npt.NDArray[np.intp]:
    """Rows of the k highest scores, ties broken by row (as the engine's ``top``)."""
    order = np.lexsort((np.arange(len(score)), -score))
    return order[:k]


def _reward_model(matches: Sequence[LoggedMatch]) -> tuple[float, Floats]:
    """Ridge fit of the referral's alliance on its features (intercept unpenalised)."""
    x = np.array([m.features[m.referred] for m in matches], dtype=np.float64)
    y = np.array([m.alliance for m in matches], dtype=np.float64)
    mean_x, mean_y = x.mean(axis=0), float(y.mean())
    xc = x - mean_x
    gram = xc.T @ xc
    penalty = RIDGE * max(float(np.trace(gram)) / max(len(gram), 1), 1e-12)
    coef = np.linalg.solve(gram + penalty * np.eye(len(gram)), xc.T @ (y - mean_y))
    return mean_y - float(mean_x @ coef), coef


@dataclass(frozen=True)
class _Terms:
    """Per match: the direct-method value, the importance weight, reward and its prediction."""

    direct: Floats
    weight: Floats
    reward: Floats
    predicted: Floats
    explored: npt.NDArray[np.bool_]


def _terms(
    matches: Sequence[LoggedMatch], policy: Score | None, model: tuple[float, Floats]
) -> _Terms:
    intercept, coef = model
    n = len(matches)
    direct, weight = np.empty(n), np.zeros(n)
    reward, predicted = np.empty(n), np.empty(n)
    explored = np.array([m.explored for m in matches], dtype=np.bool_)
    for i, m in enumerate(matches):
        score = m.logged_score if policy is None else policy(m.features)
        shows = _top(score, m.shown)
        value = intercept + m.features @ coef
        direct[i] = float(value[shows].mean())
        predicted[i] = float(value[m.referred])
        reward[i] = m.alliance
        if m.explored and m.referred in shows:
            pi = m.exploration_propensity
            weight[i] = m.eligible / m.shown if pi is None else 1.0 / pi
    return _Terms(direct, weight, reward, predicted, explored)


def _snips(t: _Terms, rows: npt.NDArray[np.intp]) -> float:
    w = t.weight[rows]
    total = float(w.sum())
    return float(w @ t.reward[rows]) / total if total > 0 else float("nan")


def _doubly_robust(t: _Terms, rows: npt.NDArray[np.intp]) -> float:
    explored = rows[t.explored[rows]]
    if not len(explored):
        return float("nan")
    correction = t.weight[explored] * (t.reward[explored] - t.predicted[explored])
    return float(t.direct[rows].mean() + correction.mean())


_ESTIMATE = {"snips": _snips, "doubly_robust": _doubly_robust}


def _interval(values: Floats) -> list[float] | None:
    kept = values[np.isfinite(values)]
    if not len(kept):
        return None
    low, high = np.quantile(kept, [0.025, 0.975]).tolist()
    return [float(low), float(high)]


def off_policy(
    matches: Sequence[LoggedMatch],
    candidate: Score,
    *,
    random_state: int | None = 0,
    n_bootstrap: int = BOOTSTRAP,
) -> list[dict[str, Any]]:
    """Each estimator's value of the active (logging) ranking and of the candidate, with intervals.

    Empty when fewer than MINIMUM_EXPLORED explored matches led to a rated referral.
    """
    explored = sum(m.explored for m in matches)
    if explored < MINIMUM_EXPLORED:
        return []
    model = _reward_model(matches)
    terms = {"active": _terms(matches, None, model), "candidate": _terms(matches, candidate, model)}
    rng = np.random.default_rng(random_state)
    everything = np.arange(len(matches))
    draws = rng.integers(0, len(matches), (n_bootstrap, len(matches)))
    out = []
    for name in ESTIMATORS:
        estimate = _ESTIMATE[name]
        active = estimate(terms["active"], everything)
        value = estimate(terms["candidate"], everything)
        spread = np.array([estimate(terms["candidate"], rows) for rows in draws])
        out.append(
            {
                "estimator": name,
                "active": None if np.isnan(active) else active,
                "candidate": None if np.isnan(value) else value,
                "candidate_interval": _interval(spread),
                "n": int(explored),
                "n_candidate_overlap": int((terms["candidate"].weight > 0).sum()),
            }
        )
    return out
