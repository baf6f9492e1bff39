"""Plain-language reasons for the shown results: what fits first, then the honest gaps.

Each feature says its own sentences (``Feature.explain``); this module only orders them. Every
feature the client gave a preference on is spoken for, so every feature that counted for a
result (a non-zero contribution) is named, and so is every gap on a stated preference. There is
no cap: a feature says at most a fit and a gap, so a result has at most two sentences a feature,
and in practice one for each preference the client stated, plus the alliance record.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

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
    shown = Shown(index, q, rows, now)
    by_feature = values.T.tolist()
    # (kind, order within the kind, feature position, arrival, reason): arrival keeps a
    # feature's own order between its sentences of one kind, and no two reasons are compared.
    out: list[list[tuple[Kind, float, int, int, Reason]]] = [[] for _ in range(len(rows))]
    for k, feature in enumerate(REGISTRY):
        if not feature.gave(q):
            continue
        name, weight = feature.name, weights.weights[feature.name]
        said_per_row = feature.explain(shown, values[:, k])
        for pairs, said, value in zip(out, said_per_row, by_feature[k], strict=True):
            contribution = weight * value
            for kind, text in said:
                if kind is Kind.FIT:
                    pairs.append((kind, -contribution, k, len(pairs), Reason(name, kind, text)))
                elif kind is Kind.GAP or contribution != 0:
                    # A neutral fact that did not count is not worth a line.
                    pairs.append((kind, -weight, k, len(pairs), Reason(name, kind, text)))
    return [[pair[4] for pair in sorted(pairs)] for pairs in out]
