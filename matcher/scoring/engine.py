"""Matching: hard filters, the transparent score, the top results with their reasons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.scoring.features import FEATURES, ClientQuery, feature_matrix
from matcher.scoring.filters import screen
from matcher.scoring.index import Floats, Rows, TherapistIndex
from matcher.scoring.reasons import explain
from matcher.scoring.weights import WeightSet


@dataclass(frozen=True)
class Result:
    """One ranked therapist: its score, what each feature added, and why in words."""

    rank: int
    therapist_id: str
    name: str
    score: float
    contributions: dict[str, float]
    features: dict[str, float]
    reasons: list[str]


@dataclass(frozen=True)
class MatchOutcome:
    """Everything a match returns: counts from the filters and the ranked results."""

    eligible: int
    excluded: dict[str, int]
    relaxations: list[dict[str, Any]]
    results: list[Result]


def _instant(now: datetime | None) -> datetime:
    """The match instant, in UTC; a naive datetime is read as UTC."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def scores(values: Floats, weights: WeightSet) -> Floats:
    """intercept + sum_k w_k f_k per row, summed in FEATURES order."""
    total = np.full(len(values), weights.intercept)
    for k, w in enumerate(weights.vector()):
        total = total + w * values[:, k]
    return total


def top(score: Floats, limit: int) -> Rows:
    """Positions of the ``limit`` best scores; ties go to the earlier position (lower id)."""
    size = min(limit, len(score))
    if size <= 0:
        return np.empty(0, dtype=np.intp)
    candidates = np.arange(len(score))
    if size < len(score):
        kth = score[np.argpartition(-score, size - 1)[:size]].min()
        # Fewer than ``size`` beat the k-th score; the rest are the lowest ids tied with it.
        above = np.flatnonzero(score > kth)
        tied = np.flatnonzero(score == kth)[: size - len(above)]
        candidates = np.concatenate([above, tied])
    return candidates[np.lexsort((candidates, -score[candidates]))]


def match(
    index: TherapistIndex,
    intake: Mapping[str, Any],
    weights: WeightSet,
    *,
    limit: int = 10,
    now: datetime | None = None,
) -> MatchOutcome:
    """Rank the therapists who pass every hard filter for this intake."""
    when = _instant(now)
    q = ClientQuery.from_intake(intake)
    screening = screen(index, q, when, limit=limit)
    values = feature_matrix(index, q, screening.rows, when)
    score = scores(values, weights)
    w = weights.vector()
    shown = top(score, limit)
    rows = screening.rows[shown]
    reasons = explain(index, q, rows, values[shown], weights, when)
    results = [
        Result(
            rank=rank,
            therapist_id=str(index.ids[row]),
            name=str(index.names[row]),
            score=float(score[pos]),
            contributions=dict(zip(FEATURES, (w * values[pos]).tolist(), strict=True)),
            features=dict(zip(FEATURES, values[pos].tolist(), strict=True)),
            reasons=reasons[rank - 1],
        )
        for rank, (pos, row) in enumerate(zip(shown.tolist(), rows.tolist(), strict=True), 1)
    ]
    return MatchOutcome(
        eligible=len(screening.rows),
        excluded=screening.excluded,
        relaxations=list(screening.relaxations),
        results=results,
    )


def feature_values(
    index: TherapistIndex,
    intake: Mapping[str, Any],
    therapist_ids: Iterable[str],
    *,
    now: datetime | None = None,
) -> Floats:
    """Feature rows (FEATURES order) for given therapists, eligible or not; KeyError if unknown."""
    rows = np.array([index.rows[k] for k in therapist_ids], dtype=np.intp)
    return feature_matrix(index, ClientQuery.from_intake(intake), rows, _instant(now))


def eligible_ids(
    index: TherapistIndex, intake: Mapping[str, Any], *, now: datetime | None = None
) -> npt.NDArray[np.str_]:
    """Ids of every therapist passing the hard filters, in id order."""
    screening = screen(index, ClientQuery.from_intake(intake), _instant(now))
    return index.ids[screening.rows]
