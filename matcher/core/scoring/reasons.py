"""Plain-language reasons for the shown results: what fits first, then the honest gaps.

Each feature says its own sentences (``Feature.explain``); this module only orders them. Every
feature the client gave a preference on is spoken for, so every feature that counted for a
result (a non-zero contribution) is named, and so is every gap on a stated preference. There is
no cap: a feature says at most a fit and a gap, so a result has at most two sentences a feature,
and in practice one for each preference the client stated, plus the alliance record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from matcher.core.scoring.feature import Kind, Shown
from matcher.core.scoring.features import REGISTRY
from matcher.core.scoring.index import Floats, Rows, TherapistIndex
from matcher.core.scoring.query import ClientQuery
from matcher.core.scoring.weights import WeightSet


class Reason(NamedTuple):
    """One sentence about one result, with the feature it speaks for."""

    feature: str
    kind: Kind
    text: str


def explain(
    index: TherapistIndex,
    q: ClientQuery,
    rows: Rows,
    values: Floats,
    weights: WeightSet,
    now: datetime,
) -> list[list[Reason]]:
    """Reasons for each of ``rows`` (the shown results), given their feature rows ``values``.

    Fits come first, largest contribution first; then neutral notes that counted; then gaps,
    the heaviest feature first, since that is what the client gives up most by choosing it.
    """
    return _ordered(Shown(index, q, rows, now), values, weights, named=True)


def texts(
    index: TherapistIndex,
    q: ClientQuery,
    rows: Rows,
    values: Floats,
    weights: WeightSet,
    now: datetime,
) -> list[list[str]]:
    """``explain``'s sentences alone, in the same order (what a match shows)."""
    return _ordered(Shown(index, q, rows, now), values, weights, named=False)


def _ordered(shown: Shown, values: Floats, weights: WeightSet, *, named: bool) -> list[list[Any]]:
    """Each row's sentences (or ``Reason``s when ``named``): fits, notes, gaps, as ``explain``.

    Notes and gaps are ordered by feature alone (heaviest first, then registry order), so the
    features are visited in that order and they need no sorting; a row's fits are sorted by
    contribution, ties in registry order, and a feature's own sentences keep their order.
    """
    q, w = shown.query, weights.weights
    given = [k for k, feature in enumerate(REGISTRY) if feature.gave(q)]
    given.sort(key=lambda k: (-w[REGISTRY[k].name], k))
    size = len(shown.rows)
    fits: list[list[tuple[float, int, int, Any]]] = [[] for _ in range(size)]
    notes: list[list[Any]] = [[] for _ in range(size)]
    gaps: list[list[Any]] = [[] for _ in range(size)]
    arrival = 0  # counts every fit: keeps a feature's own order, so no two items are compared
    for k in given:
        feature = REGISTRY[k]
        name, weight = feature.name, w[feature.name]
        column = values[:, k]
        said_per_row = feature.explain(shown, column)
        counted = (weight * column).tolist()
        for i, said in enumerate(said_per_row):
            for kind, text in said:
                item = Reason(name, kind, text) if named else text
                if kind is Kind.FIT:
                    arrival += 1
                    fits[i].append((-counted[i], k, arrival, item))
                elif kind is Kind.GAP:
                    gaps[i].append(item)
                elif counted[i] != 0:  # a neutral fact that did not count is not a line
                    notes[i].append(item)
    out: list[list[Any]] = []
    for found, noted, missing in zip(fits, notes, gaps, strict=True):
        found.sort()
        out.append([fit[3] for fit in found] + noted + missing)
    return out
