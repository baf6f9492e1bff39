"""Hard filters: who may be shown at all, each therapist counted under the first that removes it.

Filters are constraints, never traded off against the score (product.md). The order is fixed:
jurisdiction, capacity, age_group, excluded, then the features' filters in registry order: first
those always on when their preference is given (format), then the client's must-haves. The
features' filters are relaxable: when too few therapists are left, the service says how many
dropping each one would add. A must-have naming a preference the client did not give filters
nothing, and the match says so in its warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from matcher.core.scoring.feature import Positive, Test
from matcher.core.scoring.features import REGISTRY, Feature
from matcher.core.scoring.index import (
    Bools,
    Floats,
    Partition,
    Rows,
    TherapistArrays,
    TherapistIndex,
)
from matcher.core.scoring.query import ClientQuery

FIXED_FILTERS: tuple[str, ...] = ("jurisdiction", "capacity", "age_group", "excluded")
_FILTERING: tuple[Feature, ...] = (
    *(f for f in REGISTRY if f.always_filter),
    *(f for f in REGISTRY if f.must_have is not None and not f.always_filter),
)
MUST_HAVE_ORDER: tuple[str, ...] = tuple(f.name for f in _FILTERING if not f.always_filter)
RELAXABLE_FILTERS: tuple[str, ...] = tuple(f.name for f in _FILTERING)
FILTER_ORDER: tuple[str, ...] = FIXED_FILTERS + RELAXABLE_FILTERS


@dataclass(frozen=True)
class Screening:
    """The outcome of the hard filters for one intake."""

    rows: Rows  # eligible rows, ascending (so in therapist-id order)
    excluded: dict[str, int]
    relaxations: list[dict[str, int | str]]
    warnings: list[str]  # how the intake was read, where that differs from what it said
    # Feature values the filters computed anyway (feature name -> values aligned with rows).
    known: Mapping[str, Floats] = field(default_factory=dict)
    # Where ``rows`` lie in their jurisdiction's partition, when screened there.
    within: Within | None = None

    def located(self, index: TherapistIndex) -> tuple[TherapistArrays, Rows]:
        """The arrays to compute features on and ``rows`` there: the partition the rows were
        screened in and their positions in it, or (rows changed since and not all in it, or
        no partition) the index and ``rows``."""
        within = self.within
        if within is None:
            return index, self.rows
        if within.rows is self.rows:
            return within.partition, within.positions
        positions = within.partition.positions(self.rows)
        return (index, self.rows) if positions is None else (within.partition, positions)

    def narrowed(self, keep: Bools | Rows, *, known: bool = True) -> Screening:
        """The screening of the eligible rows ``keep`` marks (or the positions it lists) only;
        without the values the filters computed unless ``known``."""
        rows = self.rows[keep]
        within = self.within
        if within is not None and within.rows is self.rows:
            within = Within(within.partition, rows, within.positions[keep])
        values = {name: v[keep] for name, v in self.known.items()} if known else {}
        return replace(self, rows=rows, known=values, within=within)


@dataclass(frozen=True)
class Within:
    """A screening's rows as positions in the partition it was screened in."""

    partition: Partition
    rows: Rows  # the index rows these positions are for (``Screening.rows``, that object)
    positions: Rows  # each row's position in the partition


def active_relaxable(q: ClientQuery) -> tuple[tuple[str, Test], ...]:
    """The relaxable filters this intake turns on, in filter order, with their tests."""
    return tuple(
        (f.name, f.must_have)
        for f in _FILTERING
        if f.must_have is not None and (f.always_filter or f.name in q.must_have) and f.gave(q)
    )


def warnings(q: ClientQuery) -> list[str]:
    """Plain notes on what the intake asked that the match could not do as said."""
    out = [
        f"must_have '{f.name}' ignored: no {' or '.join(f.intake_fields)} given"
        for f in _FILTERING
        if f.name in q.must_have and not f.gave(q)
    ]
    for f in REGISTRY:
        if f.caveats is not None:
            out.extend(f.caveats(q))
    return out


def _fixed(
    index: TherapistIndex, q: ClientQuery
) -> tuple[TherapistArrays, Rows, Partition | None, Bools | None, dict[str, int]]:
    """Where to screen: the arrays (the jurisdiction's partition, or the index), the open rows
    there, the partition (if the arrays are one), which of those rows pass the other fixed
    filters (None: all), and how many each fixed filter removed.

    The age and exclusion filters are masks over every open row rather than a narrower row
    list: the relaxable filters then read a partition's columns whole, without a gather.
    """
    counts: dict[str, int] = {}
    # Jurisdiction first (it removes the most), straight from the index's per-jurisdiction rows.
    licensed = len(index.licensed_in(q.jurisdiction))
    counts["jurisdiction"] = len(index) - licensed
    # Capacity next: the index keeps each jurisdiction's open rows, contiguous (a partition).
    part = index.partition(q.jurisdiction)
    arrays: TherapistArrays = index if part is None else part
    rows = index.open_in(q.jurisdiction) if part is None else part.everyone
    counts["capacity"] = licensed - len(rows)
    keep: Bools | None = None
    if q.age_group is not None:
        keep = arrays.has("populations", q.age_group, rows)
        counts["age_group"] = len(rows) - int(np.count_nonzero(keep))
    if q.exclude:
        unwanted = [index.rows[k] for k in q.exclude if k in index.rows]
        wanted = ~np.isin(rows if part is None else part.rows, unwanted)
        before = len(rows) if keep is None else int(np.count_nonzero(keep))
        keep = wanted if keep is None else keep & wanted
        counts["excluded"] = before - int(np.count_nonzero(keep))
    return arrays, rows, part, keep, counts


def screen(index: TherapistIndex, q: ClientQuery, now: datetime, *, limit: int = 0) -> Screening:
    """Apply every hard filter; suggest relaxations when fewer than ``limit`` remain."""
    arrays, rows, part, fixed, counts = _fixed(index, q)
    active = active_relaxable(q)
    passes = np.empty((len(active), len(rows)), dtype=np.bool_)
    computed: dict[str, Floats] = {}
    for i, (name, test) in enumerate(active):
        if isinstance(test, Positive):  # the filter is the feature's value: keep it for scoring
            computed[name] = test.compute(arrays, q, rows, now)
            np.greater(computed[name], 0, out=passes[i])
        else:
            passes[i] = test(arrays, q, rows, now)
    alive = np.ones(len(rows), dtype=np.bool_) if fixed is None else fixed.copy()
    left = int(np.count_nonzero(alive))
    for i, (name, _) in enumerate(active):
        alive &= passes[i]
        still = int(np.count_nonzero(alive))
        counts[name], left = left - still, still
    positions = np.flatnonzero(alive)
    eligible = rows.take(positions) if part is None else part.rows.take(positions)
    within = None if part is None else Within(part, eligible, positions)
    known = {name: values.take(positions) for name, values in computed.items()}
    relaxations: list[dict[str, int | str]] = []
    if len(eligible) < limit:
        # A therapist failing exactly one filter comes back when that filter is dropped.
        only_failure = (~passes).sum(axis=0) == 1
        if fixed is not None:
            only_failure &= fixed
        adds = [
            (name, int((~passes[i] & only_failure).sum())) for i, (name, _) in enumerate(active)
        ]
        ranked = sorted((pair for pair in adds if pair[1] > 0), key=lambda pair: -pair[1])
        relaxations = [{"drop": name, "adds": n} for name, n in ranked]
    excluded = {name: counts[name] for name in FILTER_ORDER if counts.get(name)}
    return Screening(
        rows=eligible,
        excluded=excluded,
        relaxations=relaxations,
        warnings=warnings(q),
        known=known,
        within=within,
    )
