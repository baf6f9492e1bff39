"""Many intakes screened and scored on one index: the engine's functions, less per-client work.

A waitlist needs only each client's eligible rows and their scores, not the filters' counts,
relaxations or warnings a match page shows. So the fixed filters of each jurisdiction
(licensed there, accepting, a slot open) are computed once per waitlist, each relaxable filter
runs only on the rows still left, and features and scores come from the engine's own
``feature_matrix`` and ``scores``. The rows and scores equal ``evaluate``'s (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from matcher.core.scoring import ClientQuery, TherapistIndex, WeightSet, explain, scores
from matcher.core.scoring.features import feature_matrix
from matcher.core.scoring.filters import active_relaxable
from matcher.core.scoring.index import Floats, Rows


@dataclass(frozen=True)
class Scored:
    """One client's eligible rows (ascending), their feature values and scores."""

    query: ClientQuery
    rows: Rows
    values: Floats
    score: Floats


@dataclass
class BatchScorer:
    """Scores a waitlist's intakes on one index and weight set at one instant."""

    index: TherapistIndex
    weights: WeightSet
    when: datetime
    _open: dict[str | None, Rows] = field(default_factory=dict)

    @classmethod
    def at(cls, index: TherapistIndex, weights: WeightSet, now: datetime | None) -> BatchScorer:
        """A scorer for ``now`` (UTC; a naive time is read as UTC; None: the present)."""
        when = datetime.now(UTC) if now is None else now
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        return cls(index, weights, when)

    def _open_rows(self, jurisdiction: str | None) -> Rows:
        """Rows licensed in the jurisdiction, accepting, with a slot open: once per waitlist."""
        found = self._open.get(jurisdiction)
        if found is None:
            rows = self.index.licensed_in(jurisdiction)
            keep = self.index.column("accepting").take(rows) & (
                self.index.column("capacity").take(rows) > 0
            )
            found = self._open[jurisdiction] = rows[keep]
        return found

    def score(self, intake: dict[str, Any]) -> Scored:
        """The client's eligible rows under every hard filter, with features and scores."""
        q = ClientQuery.from_intake(intake)
        rows = self._open_rows(q.jurisdiction)
        if q.age_group is not None and len(rows):
            rows = rows[self.index.has("populations", q.age_group, rows)]
        if q.exclude and len(rows):
            unwanted = [self.index.rows[k] for k in q.exclude if k in self.index.rows]
            rows = rows[~np.isin(rows, unwanted)]
        for _, test in active_relaxable(q):
            if not len(rows):
                break
            rows = rows[test(self.index, q, rows, self.when)]
        values = feature_matrix(self.index, q, rows, self.when)
        return Scored(q, rows, values, scores(values, self.weights))

    def reasons(self, scored: Scored, position: int) -> list[str]:
        """The reasons in words for one of the client's eligible rows, as a match gives them."""
        rows = scored.rows[position : position + 1]
        found = explain(
            self.index, scored.query, rows, scored.values[position : position + 1],
            self.weights, self.when,
        )  # fmt: skip
        return [reason.text for reason in found[0]]
