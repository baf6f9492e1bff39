"""Training: learn a candidate weight set from the early-alliance ratings collected so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher import model_versions
from matcher.learning.evaluation import NotEnoughRatings, check_enough, evaluate
from matcher.scoring import FEATURES
from matcher.storage import outcomes as stored
from matcher.storage.database import Database
from matcher.storage.tables import ModelVersion

# One session's rating has dependability about .77; the mean of n sessions is more dependable
# (Spearman-Brown), as Crits-Christoph et al. (2011) found for averaged alliance ratings.
SESSION_DEPENDABILITY = 0.77
# Inverse-propensity weights are clipped (Swaminathan & Joachims 2015 clip too) so a few
# explored pairs cannot dominate the fit: in the simulator a cap of 20 made the fit unstable.
MAX_IPW = 5.0

__all__ = ["NotEnoughRatings", "TrainingData", "train", "training_data"]


@dataclass(frozen=True)
class TrainingData:
    """One row per rated referral: its features at match time and its mean early alliance."""

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


def training_data(db: Database) -> TrainingData:
    """Gather every rated referral with the features its pair had when the match was made."""
    with db.session() as session:
        rows = stored.rated_referrals(session)
    features = np.array(
        [[float(ref.features.get(name, 0.0)) for name in FEATURES] for ref, _, _, _ in rows],
        dtype=np.float64,
    ).reshape(len(rows), len(FEATURES))
    overall = features.mean(axis=0) if len(rows) else np.zeros(len(FEATURES))
    baseline = np.array(
        [
            [float(means[name]) for name in FEATURES] if means else overall.tolist()
            for _, _, _, means in rows
        ],
        dtype=np.float64,
    ).reshape(len(rows), len(FEATURES))
    alliance = np.array([mean for _, mean, _, _ in rows], dtype=np.float64)
    counts = np.array([n for _, _, n, _ in rows], dtype=np.float64)
    propensity = np.array([max(ref.propensity, 1.0 / MAX_IPW) for ref, _, _, _ in rows])
    weight = (1.0 / propensity) * dependability(counts) / SESSION_DEPENDABILITY
    return TrainingData(
        features=features,
        baseline=baseline,
        alliance=alliance,
        therapists=np.array([ref.therapist_id for ref, _, _, _ in rows], dtype=np.str_),
        sample_weight=weight,
        n_ratings=int(counts.sum()),
    )


def _fit_within_bounds(
    coef: npt.NDArray[np.float64], intercept: float
) -> tuple[dict[str, float], float, list[str]]:
    """Keep the learned score on 0..1 (weights >= 0, intercept + sum <= 1), saying if it had to."""
    notes: list[str] = []
    weights = np.clip(coef, 0.0, None)
    total = float(weights.sum())
    if total > 1.0:
        weights = weights / total * 0.99
        notes.append(
            "Learned weights summed above 1; they were scaled down to keep scores in 0..1."
        )
        total = float(weights.sum())
    bounded = min(max(intercept, 0.0), 1.0 - total)
    if abs(bounded - intercept) > 1e-9:
        notes.append(
            f"Learned intercept {intercept:.3f} was moved to {bounded:.3f} so scores stay in 0..1."
        )
    return dict(zip(FEATURES, weights.tolist(), strict=True)), bounded, notes


def train(
    db: Database,
    *,
    note: str,
    actor: str,
    progress: Callable[[str], None] | None = None,
) -> ModelVersion:
    """Fit, evaluate against the active model, and store the result as a candidate."""
    say = progress or (lambda _step: None)
    say("gathering ratings")
    data = training_data(db)
    n_therapists = len(set(data.therapists.tolist()))
    check_enough(len(data.alliance), n_therapists)
    with db.session() as session:
        active = model_versions.active_weights(session)
    prior = active.vector()
    say("fitting and evaluating on held-out therapists")
    evaluation: dict[str, Any] = evaluate(
        data.features,
        data.alliance,
        groups=data.therapists,
        sample_weight=data.sample_weight,
        active_coef=prior,
        active_intercept=active.intercept,
        feature_names=list(FEATURES),
        baseline=data.baseline,
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
    evaluation["warnings"] = list(evaluation.get("warnings", [])) + notes
    say("storing the candidate")
    return model_versions.create_candidate(
        db,
        weights=weights,
        intercept=intercept,
        note=note,
        actor=actor,
        source="learned",
        evaluation=evaluation,
    )
