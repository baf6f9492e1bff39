"""Training: learn a candidate weight set from the early-alliance ratings collected so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from matcher.core.learning.minimums import NotEnoughRatings, check_enough
from matcher.core.learning.offpolicy import LoggedMatch, off_policy
from matcher.core.learning.record import ALLIANCE_SPAN
from matcher.core.scoring import FEATURES
from matcher.services import alliance
from matcher.services import models as model_versions
from matcher.services.errors import Invalid
from matcher.storage import outcomes as stored
from matcher.storage.tables import ModelVersion

# One session's rating has dependability about .77; the mean of n sessions is more dependable
# (Spearman-Brown), as Crits-Christoph et al. (2011) found for averaged alliance ratings.
SESSION_DEPENDABILITY = 0.77
# The alliance record is itself an empirical-Bayes estimate of how much better than average a
# therapist's clients rate the early alliance, on the scale learning uses; at a weight of
# ALLIANCE_SPAN its contribution is exactly that estimate, so that weight is held, not fitted.
# Fitted from the values records had at match time (often from no rating at all) it was noise:
# in the simulator its standard error was 0.04 to 0.10 against a value of 0.2.
HELD_WEIGHTS = {"alliance": ALLIANCE_SPAN}
# Inverse-propensity weights are clipped (Swaminathan & Joachims 2015 clip too) so a few
# explored pairs cannot dominate the fit: in the simulator a cap of 20 made the fit unstable.
MAX_IPW = 5.0
# How the learner chooses its penalty (``AllianceRegressor(rule=...)``); see learn().
RULE = "one_se"
# The joint model (``AllianceRegressor(therapist_effects=...)``): random therapist intercepts
# beside the weights, their variance estimated as the records estimate it. The therapist's effect
# is then the intercept itself, so the alliance record a pair had at match time (an earlier,
# noisier estimate of the same effect) is not subtracted as an offset while fitting; its weight
# stays ALLIANCE_SPAN, so in a score the record's contribution is the shrunk estimate.
THERAPIST_EFFECTS: str | None = "estimate"

__all__ = ["LearnedCandidate", "TrainingData", "learn", "store", "training_data"]


@dataclass(frozen=True)
class TrainingData:
    """One row per rated referral: its features at match time and its mean early alliance.

    The alliance is the mean of the referral's ratings on the scale shared by all instruments
    (``matcher.core.learning.scale``), not the contract's per-instrument 0..1 score.
    """

    features: npt.NDArray[np.float64]
    baseline: npt.NDArray[np.float64]  # the mean features of each rating's eligible pool
    alliance: npt.NDArray[np.float64]
    therapists: npt.NDArray[np.str_]
    sample_weight: npt.NDArray[np.float64]
    n_ratings: int


def dependability(sessions: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Spearman-Brown dependability of the mean of ``sessions`` ratings."""
    rho = SESSION_DEPENDABILITY
    return sessions * rho / (1 + (sessions - 1) * rho)


def training_data(session: Session) -> TrainingData:
    """Gather every rated referral with the features its pair had when the match was made."""
    rows = stored.rated_referrals(session)
    rated = alliance.referral_alliance(session)
    # Both are ordered by referral id; a rating stored in between would add a referral to one.
    position = {referral: i for i, referral in enumerate(rated.referral_ids.tolist())}
    rows = [(ref, means) for ref, means in rows if ref.id in position]
    keep = np.array([position[ref.id] for ref, _ in rows], dtype=np.intp)
    features = np.array(
        [[float(ref.features.get(name, 0.0)) for name in FEATURES] for ref, _ in rows],
        dtype=np.float64,
    ).reshape(len(rows), len(FEATURES))
    overall = features.mean(axis=0) if len(rows) else np.zeros(len(FEATURES))
    baseline = np.array(
        [
            [float(means[name]) for name in FEATURES] if means else overall.tolist()
            for _, means in rows
        ],
        dtype=np.float64,
    ).reshape(len(rows), len(FEATURES))
    counts = rated.ratings[keep].astype(np.float64)
    # An imported past referral has no logged propensity: it counts as if shown for sure.
    propensity = np.array(
        [1.0 if ref.propensity is None else max(ref.propensity, 1.0 / MAX_IPW) for ref, _ in rows]
    )
    weight = (1.0 / propensity) * dependability(counts) / SESSION_DEPENDABILITY
    return TrainingData(
        features=features,
        baseline=baseline,
        alliance=rated.mean[keep],
        therapists=np.array([ref.therapist_id for ref, _ in rows], dtype=np.str_),
        sample_weight=weight,
        n_ratings=int(counts.sum()),
    )


def logged_matches(session: Session, *, explored_only: bool = True) -> list[LoggedMatch]:
    """Recorded matches with a rated referral, as off-policy evaluation reads them."""
    out = []
    for match, referral, score, kept in stored.logged_matches(session, explored_only=explored_only):
        ids = [c.therapist_id for c in kept]
        if referral.therapist_id not in ids:
            continue
        referred = ids.index(referral.therapist_id)
        out.append(
            LoggedMatch(
                features=np.array(
                    [[float(c.features.get(name, 0.0)) for name in FEATURES] for c in kept],
                    dtype=np.float64,
                ).reshape(len(kept), len(FEATURES)),
                logged_score=np.array([c.score for c in kept], dtype=np.float64),
                referred=referred,
                alliance=score,
                explored=match.exploration,
                shown=max(1, sum(c.rank is not None for c in kept)),
                eligible=max(match.eligible, 1),
                exploration_propensity=kept[referred].exploration_propensity,
            )
        )
    return out


def _off_policy(session: Session, weights: dict[str, float]) -> dict[str, Any] | None:
    """The doubly robust estimate (the contract's object), with the SNIPS one beside it."""
    coef = np.array([weights[name] for name in FEATURES], dtype=np.float64)
    estimates = off_policy(logged_matches(session), lambda x: x @ coef)
    if not estimates:
        return None
    by_name = {e["estimator"]: e for e in estimates}
    primary = dict(by_name["doubly_robust"])
    primary["alternatives"] = [e for name, e in by_name.items() if name != "doubly_robust"]
    return primary


def _fit_within_bounds(
    coef: npt.NDArray[np.float64], intercept: float
) -> tuple[dict[str, float], float, list[str]]:
    """Keep the learned score on 0..1 (weights >= 0, intercept + sum <= 1), saying if it had to.

    Held weights (HELD_WEIGHTS) keep their values; only the fitted ones are scaled down.
    """
    notes: list[str] = []
    weights = np.clip(coef, 0.0, None)
    held = np.array([name in HELD_WEIGHTS for name in FEATURES])
    room = 0.99 - float(weights[held].sum())
    fitted = float(weights[~held].sum())
    if fitted + float(weights[held].sum()) > 1.0 and fitted > 0:
        weights[~held] *= max(room, 0.0) / fitted
        notes.append(
            "Learned weights summed above 1; the fitted ones were scaled down to keep scores "
            "in 0..1."
        )
    total = float(weights.sum())
    bounded = min(max(intercept, 0.0), 1.0 - total)
    if abs(bounded - intercept) > 1e-9:
        notes.append(
            f"Learned intercept {intercept:.3f} was moved to {bounded:.3f} so scores stay in 0..1."
        )
    return dict(zip(FEATURES, weights.tolist(), strict=True)), bounded, notes


@dataclass(frozen=True)
class LearnedCandidate:
    """Weights learned from the ratings, with their evaluation, not yet stored."""

    weights: dict[str, float]
    intercept: float
    evaluation: dict[str, Any]


def learn(session: Session, *, progress: Callable[[str], None] | None = None) -> LearnedCandidate:
    """Fit and evaluate against the active model, reading only (no lock held while fitting).

    Refused (Invalid) when there are too few ratings to learn from.
    """
    from matcher.core.learning.evaluation import evaluate  # the learner: scikit-learn

    say = progress or (lambda _step: None)
    say("gathering ratings")
    data = training_data(session)
    n_therapists = len(set(data.therapists.tolist()))
    try:
        check_enough(len(data.alliance), n_therapists)
    except NotEnoughRatings as few:
        raise Invalid(str(few), {"ratings": [str(few)]}) from few
    active = model_versions.active_weights(session)
    prior = active.vector()
    say("fitting and evaluating on held-out therapists")
    baseline = data.baseline
    if THERAPIST_EFFECTS is not None:
        # Centred on itself, the match-time record drops out of the fit (no offset); held-out
        # predictions still read it from the raw features.
        baseline = baseline.copy()
        column = FEATURES.index("alliance")
        baseline[:, column] = data.features[:, column]
    evaluation: dict[str, Any] = evaluate(
        data.features,
        data.alliance,
        groups=data.therapists,
        sample_weight=data.sample_weight,
        active_coef=prior,
        active_intercept=active.intercept,
        feature_names=list(FEATURES),
        baseline=baseline,
        learner_params={
            "fixed_coef": [HELD_WEIGHTS.get(name, np.nan) for name in FEATURES],
            "rule": RULE,
            "therapist_effects": THERAPIST_EFFECTS,
        },
    )
    # evaluate() fits the learner on all ratings (same prior, same seed) besides its held-out
    # folds; its fit is the candidate.
    learned = evaluation["learned"]
    coef = np.array([learned["weights"][name] for name in FEATURES], dtype=np.float64)
    weights, intercept, notes = _fit_within_bounds(coef, float(learned["intercept"]))
    evaluation["n_ratings"] = data.n_ratings
    evaluation["n_referrals"] = len(data.alliance)
    evaluation["n_therapists"] = n_therapists
    evaluation["compared_with_version"] = active.version
    evaluation["alpha"] = float(learned["alpha"])
    evaluation["held_weights"] = dict(HELD_WEIGHTS)
    evaluation["warnings"] = list(evaluation.get("warnings", [])) + notes
    say("off-policy evaluation")
    evaluation["off_policy"] = _off_policy(session, weights)
    return LearnedCandidate(weights=weights, intercept=intercept, evaluation=evaluation)


def store(session: Session, *, learned: LearnedCandidate, note: str, actor: str) -> ModelVersion:
    """Store a learned candidate; it does nothing until an admin activates it."""
    return model_versions.create_candidate(
        session,
        weights=learned.weights,
        intercept=learned.intercept,
        note=note,
        actor=actor,
        source="learned",
        evaluation=learned.evaluation,
    )
