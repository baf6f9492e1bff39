"""Hard filters: who may be shown at all, each therapist counted under the first that removes it.

Filters are constraints, never traded off against the score (product.md). The order is fixed:
jurisdiction, capacity, age_group, excluded, format, then the client's must-haves in
MUST_HAVE_ORDER. Format and the must-haves are relaxable: when too few therapists are left, the
service says how many dropping each one would add.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

import numpy as np

from matcher.core.scoring import features as ft
from matcher.core.scoring.features import ClientQuery
from matcher.core.scoring.index import Bools, Rows, TherapistIndex

FIXED_FILTERS: tuple[str, ...] = ("jurisdiction", "capacity", "age_group", "excluded")
MUST_HAVE_ORDER: tuple[str, ...] = (
    "language",
    "modality",
    "concerns",
    "identity",
    "gender",
    "faith",
    "availability",
    "cost",
)
RELAXABLE_FILTERS: tuple[str, ...] = ("format", *MUST_HAVE_ORDER)
FILTER_ORDER: tuple[str, ...] = FIXED_FILTERS + RELAXABLE_FILTERS
# About one 50-minute session with a little slack.
MIN_OVERLAP_MINUTES = 60

Test = Callable[[TherapistIndex, ClientQuery, Rows, datetime], Bools]


@dataclass(frozen=True)
class Screening:
    """The outcome of the hard filters for one intake."""

    rows: Rows  # eligible rows, ascending (so in therapist-id order)
    excluded: dict[str, int]
    relaxations: list[dict[str, int | str]]


def _positive(feature: ft.FeatureFunction) -> Test:
    """A must-have that any non-zero value of its feature satisfies."""

    def test(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Bools:
        return feature(index, q, rows, now) > 0

    return test


def _identity(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Bools:
    """Competent with one of the client's communities; a member of one if shared is asked."""
    return ft.identity_hits(index, q, rows, shared=q.wants_shared_identity) > 0


def _availability(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Bools:
    """At least MIN_OVERLAP_MINUTES of the client's weekly times in common."""
    return ft.overlap_minutes(index, q, rows, now) >= MIN_OVERLAP_MINUTES


RELAXABLE_TESTS: Mapping[str, Test] = MappingProxyType(
    {
        # Format's value is positive exactly when a listed format is offered (in person: in range).
        "format": _positive(ft.format_fit),
        "language": _positive(ft.language),
        "modality": _positive(ft.modality),
        "concerns": _positive(ft.concerns),
        "identity": _identity,
        "gender": _positive(ft.gender),
        "faith": _positive(ft.faith),
        "availability": _availability,
        "cost": _positive(ft.cost),
    }
)


def active_relaxable(q: ClientQuery) -> tuple[str, ...]:
    """The relaxable filters this intake turns on, in filter order."""
    wanted = {"format"} | set(q.must_have)
    return tuple(name for name in RELAXABLE_FILTERS if name in wanted and q.gave(name))


def _fixed(index: TherapistIndex, q: ClientQuery) -> tuple[Rows, dict[str, int]]:
    """Rows passing the fixed filters, and how many each removed."""
    counts: dict[str, int] = {}
    # Jurisdiction first (it removes the most), straight from the index's per-jurisdiction rows.
    rows = index.licensed_in(q.jurisdiction)
    counts["jurisdiction"] = len(index) - len(rows)
    keep = index.accepting.take(rows) & (index.capacity.take(rows) > 0)
    counts["capacity"], rows = len(rows) - int(keep.sum()), rows[keep]
    if q.age_group is not None:
        keep = index.has("populations", q.age_group, rows)
        counts["age_group"], rows = len(rows) - int(keep.sum()), rows[keep]
    if q.exclude:
        unwanted = [index.rows[k] for k in q.exclude if k in index.rows]
        keep = ~np.isin(rows, unwanted)
        counts["excluded"], rows = len(rows) - int(keep.sum()), rows[keep]
    return rows, counts


def screen(index: TherapistIndex, q: ClientQuery, now: datetime, *, limit: int = 0) -> Screening:
    """Apply every hard filter; suggest relaxations when fewer than ``limit`` remain."""
    rows, counts = _fixed(index, q)
    names = active_relaxable(q)
    passes = np.ones((len(names), len(rows)), dtype=np.bool_)
    for i, name in enumerate(names):
        passes[i] = RELAXABLE_TESTS[name](index, q, rows, now)
    alive = np.ones(len(rows), dtype=np.bool_)
    for i, name in enumerate(names):
        counts[name] = int((alive & ~passes[i]).sum())
        alive &= passes[i]
    eligible = rows[alive]
    relaxations: list[dict[str, int | str]] = []
    if len(eligible) < limit:
        # A therapist failing exactly one filter comes back when that filter is dropped.
        only_failure = (~passes).sum(axis=0) == 1
        adds = [(name, int((~passes[i] & only_failure).sum())) for i, name in enumerate(names)]
        ranked = sorted((pair for pair in adds if pair[1] > 0), key=lambda pair: -pair[1])
        relaxations = [{"drop": name, "adds": n} for name, n in ranked]
    excluded = {name: counts[name] for name in FILTER_ORDER if counts.get(name)}
    return Screening(rows=eligible, excluded=excluded, relaxations=relaxations)
