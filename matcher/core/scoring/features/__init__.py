"""The model's features, one record each (``Feature``), in the order of the weight vector.

Adding a feature: write its module here (value, meaning, reasons, must-have filter, the profile
columns it reads), list it in REGISTRY, and give it a weight in ``models/default.json``. Everything
else (FEATURES, meanings, reasons, hard filters, must-have names, index columns) is read from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from matcher.core.scoring.columns import Column, Floats, Rows
from matcher.core.scoring.feature import Feature
from matcher.core.scoring.features import (
    alliance,
    availability,
    concerns,
    cost,
    faith,
    gender,
    identity,
    language,
    modality,
    style,
)
from matcher.core.scoring.features import format as format_
from matcher.core.scoring.query import ClientQuery

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

REGISTRY: tuple[Feature, ...] = (
    modality.FEATURE,
    concerns.FEATURE,
    language.FEATURE,
    identity.FEATURE,
    faith.FEATURE,
    availability.FEATURE,
    format_.FEATURE,
    gender.FEATURE,
    cost.FEATURE,
    style.FEATURE,
    alliance.FEATURE,
)


def _checked(registry: tuple[Feature, ...]) -> tuple[Feature, ...]:
    """The registry, refused at import if two records clash or a must-have cannot be stated."""
    names = [f.name for f in registry]
    if len(set(names)) != len(names):
        raise ValueError(f"Feature names must be unique: {names}.")
    for f in registry:
        if (f.must_have is not None or f.always_filter) and not (f.given and f.intake_fields):
            raise ValueError(f"Feature {f.name!r} filters, so it needs given and intake_fields.")
        if f.always_filter and f.must_have is None:
            raise ValueError(f"Feature {f.name!r} always filters, so it needs a must_have test.")
    columns: dict[str, Column] = {}
    for f in registry:
        for column in f.columns:
            if columns.setdefault(column.name, column) is not column:
                raise ValueError(f"Column {column.name!r} is declared twice; share one object.")
    return registry


REGISTRY = _checked(REGISTRY)
BY_NAME: Mapping[str, Feature] = MappingProxyType({f.name: f for f in REGISTRY})
FEATURES: tuple[str, ...] = tuple(BY_NAME)
FEATURE_MEANINGS: Mapping[str, str] = MappingProxyType({f.name: f.meaning for f in REGISTRY})
# must_have names -> the intake fields that state that preference (the intake schema's codes).
MUST_HAVE_SOURCES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {f.name: f.intake_fields for f in REGISTRY if f.must_have is not None}
)
# Every profile column a feature reads, once each, in registry order.
COLUMNS: tuple[Column, ...] = tuple({c.name: c for f in REGISTRY for c in f.columns}.values())


def feature_matrix(
    index: TherapistArrays,
    q: ClientQuery,
    rows: Rows,
    now: datetime,
    known: Mapping[str, Floats] | None = None,
) -> Floats:
    """An (len(rows), len(FEATURES)) array of feature values in FEATURES order.

    ``known`` holds values already computed for these rows (by the hard filters); a preference
    the client did not give is 0 for everyone and is not computed.
    """
    out = np.zeros((len(rows), len(REGISTRY)), order="F")  # filled and read by column
    for k, feature in enumerate(REGISTRY):
        out[:, k] = feature_column(index, q, rows, now, feature, known)
    return out


def feature_column(
    index: TherapistArrays,
    q: ClientQuery,
    rows: Rows,
    now: datetime,
    feature: Feature,
    known: Mapping[str, Floats] | None = None,
) -> Floats | float:
    """One feature's values for ``rows``: known, 0 when not given, else computed."""
    if known is not None and feature.name in known:
        return known[feature.name]
    if not feature.gave(q):
        return 0.0
    return feature.compute(index, q, rows, now)


__all__ = [
    "BY_NAME",
    "COLUMNS",
    "FEATURES",
    "FEATURE_MEANINGS",
    "MUST_HAVE_SOURCES",
    "REGISTRY",
    "Feature",
    "feature_column",
    "feature_matrix",
]
