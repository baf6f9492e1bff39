"""Matching: hard filters, the transparent score, the top results with their reasons."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.core.scoring.features import FEATURES, REGISTRY, feature_column, feature_matrix
from matcher.core.scoring.filters import Screening, screen
from matcher.core.scoring.index import Floats, Rows, TherapistIndex
from matcher.core.scoring.query import ClientQuery
from matcher.core.scoring.reasons import Reason, explain, texts
from matcher.core.scoring.weights import WeightSet


@dataclass(slots=True)
class Result:
    """One ranked therapist: its score, what each feature added, and why in words.

    Not frozen: each match makes its own, and the service fills in what the core cannot know
    (``accepting_confirmed_at``, a stale listing's reason) without copying them.
    """

    rank: int
    therapist_id: str
    name: str
    score: float
    contributions: dict[str, float]
    features: dict[str, float]
    reasons: list[str]
    accepting_confirmed_at: str | None = None  # ISO time; the service fills it in


@dataclass(frozen=True, slots=True)
class MatchOutcome:
    """Everything a match returns: counts from the filters, the ranked results, warnings."""

    eligible: int
    excluded: dict[str, int]
    relaxations: list[dict[str, Any]]
    results: list[Result]
    warnings: list[str]  # plain notes on parts of the intake read differently than said


def instant(now: datetime | None) -> datetime:
    """The match instant, in UTC; a naive datetime is read as UTC."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def scores(values: Floats, weights: WeightSet, *, zero: Collection[int] = ()) -> Floats:
    """intercept + sum_k w_k f_k per row, summed in FEATURES order.

    Terms that are exactly 0 (a zero weight, or a feature in ``zero``, known to be 0 for every
    row) are skipped: adding 0.0 changes no sum, so the result is the same to the last bit.
    """
    total = np.full(len(values), weights.intercept)
    for k, w in enumerate(weights.vector().tolist()):
        if w and k not in zero:
            total += w * values[:, k]
    return total


def kth_best(values: Floats, k: int) -> float:
    """The ``k``-th largest of ``values`` (1 <= k <= len), exactly, without partitioning them all.

    The k-th largest of any subset is at most the k-th largest of the whole, so the k-th largest
    is at least the k-th of an evenly strided sample of about ``sqrt(k * len)`` values, the
    floor. If fewer than k values exceed the floor, the floor is the k-th largest; else it is
    the k-th of those. Lower bounds are sums of a few weights, tied by the thousand at the
    floor: leaving the ties out keeps the last partition small.
    """
    n = len(values)
    stride = int(np.sqrt(n / k)) if n > 64 * k else 1
    if stride > 1:
        sample = values[::stride]
        floor = np.partition(sample, len(sample) - k)[len(sample) - k]
        values = values[values > floor]
        if len(values) < k:
            return float(floor)
    return float(np.partition(values, len(values) - k)[len(values) - k])


def top(score: Floats, limit: int) -> Rows:
    """Positions of the ``limit`` best scores; ties go to the earlier position (lower id)."""
    size = min(limit, len(score))
    if size <= 0:
        return np.empty(0, dtype=np.intp)
    if size == len(score):
        candidates = np.arange(len(score))
    else:
        kth = kth_best(score, size)
        # Fewer than ``size`` beat the k-th score; the rest are the lowest ids tied with it.
        above = np.flatnonzero(score > kth)
        tied = np.flatnonzero(score == kth)[: size - len(above)]
        candidates = np.concatenate([above, tied])
    return candidates[np.lexsort((candidates, -score[candidates]))]


@dataclass(frozen=True)
class Evaluation:
    """One intake screened and scored once: every eligible row, its features and its score."""

    index: TherapistIndex
    query: ClientQuery
    when: datetime
    weights: WeightSet
    screening: Screening
    values: Floats  # (eligible, FEATURES) in row order
    score: Floats

    @property
    def ids(self) -> npt.NDArray[np.str_]:
        """The eligible therapists' ids, aligned with ``values`` and ``score``."""
        return self.index.ids[self.screening.rows]

    def reasons(self, positions: Rows) -> list[list[Reason]]:
        """The reasons for the eligible ``positions`` given, each naming its feature."""
        rows = self.screening.rows[positions]
        return explain(
            self.index, self.query, rows, self.values[positions], self.weights, self.when
        )

    def results(self, positions: Rows) -> list[Result]:
        """Results ranked 1.. for the eligible ``positions`` given, in that order, explained."""
        rows = self.screening.rows[positions]
        values = self.values[positions]
        reasons = texts(self.index, self.query, rows, values, self.weights, self.when)
        contributions = (values * self.weights.vector()).tolist()
        return [
            Result(
                rank=rank,
                therapist_id=therapist_id,
                name=name,
                score=score,
                contributions=dict(zip(FEATURES, contributed, strict=True)),
                features=dict(zip(FEATURES, valued, strict=True)),
                reasons=said,
            )
            for rank, (therapist_id, name, score, contributed, valued, said) in enumerate(
                zip(
                    self.index.ids[rows].tolist(),
                    self.index.names[rows].tolist(),
                    self.score[positions].tolist(),
                    contributions,
                    values.tolist(),
                    reasons,
                    strict=True,
                ),
                1,
            )
        ]

    def outcome(self, positions: Rows, eligible: int | None = None) -> MatchOutcome:
        """The match answer showing the eligible ``positions`` given, ranked in that order
        (``eligible``: how many passed the filters, when more than this evaluation scored)."""
        return MatchOutcome(
            eligible=len(self.screening.rows) if eligible is None else eligible,
            excluded=self.screening.excluded,
            relaxations=list(self.screening.relaxations),
            results=self.results(positions),
            warnings=list(self.screening.warnings),
        )


def evaluate(
    index: TherapistIndex,
    intake: Mapping[str, Any],
    weights: WeightSet,
    *,
    limit: int = 10,
    now: datetime | None = None,
) -> Evaluation:
    """Screen an intake and score every therapist who passes the hard filters."""
    when = instant(now)
    q = ClientQuery.from_intake(intake)
    screening = screen(index, q, when, limit=limit)
    arrays, rows = screening.located(index)
    values = feature_matrix(arrays, q, rows, when, screening.known)
    return Evaluation(index, q, when, weights, screening, values, scores(values, weights))


def match(
    index: TherapistIndex,
    intake: Mapping[str, Any],
    weights: WeightSet,
    *,
    limit: int = 10,
    now: datetime | None = None,
) -> MatchOutcome:
    """Rank the therapists who pass every hard filter for this intake.

    The same ranking as ``evaluate`` then ``top``, with less work: the costly features are
    computed only for the therapists who can still reach the top ``limit`` (``contenders``).
    """
    when = instant(now)
    q = ClientQuery.from_intake(intake)
    screening = screen(index, q, when, limit=limit)
    evaluation = shortlist(index, q, screening, weights, when, limit)
    return evaluation.outcome(top(evaluation.score, limit), len(screening.rows))


def shortlist(
    index: TherapistIndex,
    q: ClientQuery,
    screening: Screening,
    weights: WeightSet,
    when: datetime,
    limit: int,
) -> Evaluation:
    """The screened intake scored for its contenders only (``contenders``): its top ``limit``
    is the top ``limit`` of every eligible therapist, but it counts fewer of them."""
    positions, values, zero = _contenders(index, q, screening, weights, when, limit)
    narrowed = screening.narrowed(positions, known=False)
    score = scores(values, weights, zero=zero)
    return Evaluation(index, q, when, weights, narrowed, values, score)


# Slack on the bounds: partial sums taken in another order may differ by a few ulps.
_SLACK = 1e-9


def contenders(
    index: TherapistIndex,
    q: ClientQuery,
    screening: Screening,
    weights: WeightSet,
    when: datetime,
    limit: int,
) -> tuple[Rows, Floats]:
    """The eligible positions that can still make the top ``limit``, with their feature rows.

    The score is ``intercept + sum_k w_k f_k`` with every f_k in [0, 1] and w_k >= 0, so a
    therapist's score lies between its partial sum over the features computed so far and that
    plus the weights of the features still to compute. Cheap features are computed for every
    eligible therapist; then each costly feature, heaviest first, only for those whose upper
    bound still reaches the ``limit``-th best lower bound; last, with every feature counted,
    those whose sum still reaches the ``limit``-th best. Nobody dropped can reach the top,
    ties included, so the ranking is exactly the one every eligible therapist scored gives.
    """
    positions, values, _ = _contenders(index, q, screening, weights, when, limit)
    return positions, values


def _contenders(
    index: TherapistIndex,
    q: ClientQuery,
    screening: Screening,
    weights: WeightSet,
    when: datetime,
    limit: int,
) -> tuple[Rows, Floats, frozenset[int]]:
    """``contenders``, and the features that are 0 for everyone (preferences not given)."""
    arrays, rows = screening.located(index)
    known = screening.known
    w = weights.vector()
    # Computed for every eligible row (cheap ones, or known from screening): narrowed once, at
    # the end; costly ones are computed for the positions alive then and narrowed with them.
    cheap: dict[int, Floats] = {}
    costly: dict[int, Floats] = {}
    zero: set[int] = set()
    pending: list[int] = []
    for k, feature in enumerate(REGISTRY):
        if feature.costly and feature.name not in known and feature.gave(q):
            pending.append(k)
            continue
        column = feature_column(arrays, q, rows, when, feature, known)
        if isinstance(column, float):  # a preference not given: 0 for everyone
            zero.add(k)
        else:
            cheap[k] = column
    pending.sort(key=lambda k: -w[k])
    positions: Rows = np.arange(len(rows))
    narrowed = False
    if 0 < limit < len(rows):
        lower = np.full(len(rows), weights.intercept)
        for k, column in cheap.items():
            if w[k]:
                lower += w[k] * column
        remaining = float(sum(w[k] for k in pending))
        # Before each costly feature, then once more with every feature counted (the sums
        # are then the scores, to a few ulps): the rows kept are all that can still place.
        for then in [*pending, None]:
            if len(positions) > limit:
                kth = kth_best(lower, limit)  # the limit-th best lower bound
                alive = np.flatnonzero(lower + (remaining + _SLACK) >= kth - _SLACK)
                if len(alive) < len(positions):
                    positions, lower, narrowed = positions.take(alive), lower.take(alive), True
                    costly = {j: c.take(alive) for j, c in costly.items()}
            if then is None:
                break
            costly[then] = REGISTRY[then].compute(arrays, q, rows.take(positions), when)
            lower += w[then] * costly[then]
            remaining -= w[then]
    else:
        for k in pending:
            costly[k] = REGISTRY[k].compute(arrays, q, rows, when)
    values = np.empty((len(positions), len(REGISTRY)), order="F")
    for k in range(len(REGISTRY)):
        if k in zero:
            values[:, k] = 0.0
        elif k in costly:
            values[:, k] = costly[k]
        else:
            values[:, k] = cheap[k].take(positions) if narrowed else cheap[k]
    return positions, values, frozenset(zero)


def feature_values(
    index: TherapistIndex,
    intake: Mapping[str, Any],
    therapist_ids: Iterable[str],
    *,
    now: datetime | None = None,
) -> Floats:
    """Feature rows (FEATURES order) for given therapists, eligible or not; KeyError if unknown."""
    rows = np.array([index.rows[k] for k in therapist_ids], dtype=np.intp)
    return feature_matrix(index, ClientQuery.from_intake(intake), rows, instant(now))


def eligible_ids(
    index: TherapistIndex, intake: Mapping[str, Any], *, now: datetime | None = None
) -> npt.NDArray[np.str_]:
    """Ids of every therapist passing the hard filters, in id order."""
    screening = screen(index, ClientQuery.from_intake(intake), instant(now))
    return index.ids[screening.rows]
