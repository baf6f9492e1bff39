"""Format: offers a session format the client can attend; in person, nearer is better.

Value: max_i d_i q_i, q = 1 for video or phone offered; in person within the radius
(max_distance_km, default 30) q = 1 - 0.5 dist / radius, beyond it 0; q = 0.5 when the therapist
lists no location (distance unknown: valued as at the radius edge). Without a client location
distance cannot be checked: every in-person offer counts fully (q = 1), and the match warns.
A format the client cannot attend is never an option, so the format filter is always on.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from matcher import vocabulary as vocab
from matcher.core.scoring.columns import CodeSet, Floats, Number, Rows, Table
from matcher.core.scoring.feature import (
    Feature,
    Said,
    Shown,
    best_ranked,
    fit,
    gap,
    positive,
    rank_discount,
)
from matcher.core.scoring.query import ClientQuery
from matcher.core.scoring.wording import ordinal

if TYPE_CHECKING:
    from matcher.core.scoring.index import TherapistArrays

FORMATS = CodeSet("formats", "formats", Table("formats", tuple(vocab.FORMATS)))
LATITUDE = Number("lat", "location.lat", scale=math.pi / 180)  # radians, NaN without a location
LONGITUDE = Number("lon", "location.lon", scale=math.pi / 180)

EARTH_RADIUS_KM = 6371.0088
# Distance inside the radius costs at most half of the in-person value.
DISTANCE_PENALTY = 0.5
NO_LOCATION_WARNING = "formats 'in_person' given without a location: distance not checked"


def distance_km(index: TherapistArrays, q: ClientQuery, rows: Rows) -> Floats:
    """Great-circle (haversine) distance to the client, NaN where either location is unknown."""
    if q.location is None:
        return np.full(len(rows), np.nan)
    lat, lon = index.gather(index.column("lat"), rows), index.gather(index.column("lon"), rows)
    return _haversine(q.location, lat, lon)


def _haversine(location: tuple[float, float], lat: Floats, lon: Floats) -> Floats:
    """Great-circle distance in km from ``location`` (degrees) to points given in radians."""
    lat0, lon0 = math.radians(location[0]), math.radians(location[1])
    a = np.sin((lat - lat0) / 2) ** 2 + math.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0))), np.float64)


def in_person_fit(index: TherapistArrays, q: ClientQuery, rows: Rows) -> Floats:
    """1 - 0.5 * distance / radius within the radius, 0 beyond it or if not offered."""
    offered = index.has("formats", "in_person", rows)
    if q.location is None:
        return offered.astype(np.float64)
    out = np.zeros(len(rows))
    where = np.flatnonzero(offered)
    picked = rows.take(where)
    lat = index.column("lat").take(picked)
    # Unknown distance (no therapist location): valued as if at the edge of the radius.
    out[where[np.isnan(lat)]] = 1.0 - DISTANCE_PENALTY
    # A great-circle distance is at least the latitude difference times the radius of the
    # earth: only rows inside that band can be near (a margin covers rounding; NaN is outside).
    band = np.abs(lat - math.radians(q.location[0])) * EARTH_RADIUS_KM <= q.radius_km + 1
    inside = where[band]
    dist = _haversine(q.location, lat[band], index.column("lon").take(picked[band]))
    near = dist <= q.radius_km
    out[inside[near]] = 1.0 - DISTANCE_PENALTY * dist[near] / q.radius_km
    out[inside[np.isnan(dist)]] = 1.0 - DISTANCE_PENALTY  # a latitude without a longitude
    return out


def compute(index: TherapistArrays, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """max_i d_i * q_i: video or phone offered gives 1, in person decays with distance."""
    hits = (
        in_person_fit(index, q, rows) if code == "in_person" else index.has("formats", code, rows)
        for code in q.formats
    )
    return best_ranked(hits, len(rows))


@functools.cache  # a handful of formats
def _offers(code: str) -> str:
    """'Offers video sessions'."""
    return f"Offers {vocab.FORMATS.get(code, code).lower()} sessions"


@functools.lru_cache(maxsize=1024)  # formats, whole kilometres and choices: a few hundred
def _said(text: str, position: int) -> Said:
    """A format's sentence, and which choice it was."""
    # The first choice goes without saying; a later one tells the client the first is missing.
    return fit(text if position == 0 else f"{text}, your {ordinal(position)} choice")


def _sentence(code: str, position: int, distance: float, q: ClientQuery) -> Said:
    """The format that counted, where (for in person), and which choice it was."""
    if code != "in_person":
        text = _offers(code)
    elif q.location is None:
        text = "Offers in-person sessions"
    elif math.isnan(distance):
        text = "Offers in-person sessions; distance unknown"
    else:
        text = (
            "In person, under 1 km away" if distance < 1 else f"In person, {distance:.0f} km away"
        )
    return _said(text, position)


def _place(index: TherapistArrays, q: ClientQuery, row: int) -> tuple[float, float]:
    """One offering therapist's in-person value and distance (NaN: unknown), as
    ``in_person_fit`` and ``distance_km`` value it, for a single shown row."""
    if q.location is None:
        return 1.0, math.nan
    lat, lon = float(index.column("lat")[row]), float(index.column("lon")[row])
    if math.isnan(lat) or math.isnan(lon):
        return 1.0 - DISTANCE_PENALTY, math.nan
    lat0, lon0 = math.radians(q.location[0]), math.radians(q.location[1])
    a = (
        math.sin((lat - lat0) / 2) ** 2
        + math.cos(lat0) * math.cos(lat) * math.sin((lon - lon0) / 2) ** 2
    )
    distance = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(a, 1.0)))
    if distance > q.radius_km:
        return 0.0, distance
    return 1.0 - DISTANCE_PENALTY * distance / q.radius_km, distance


NOTHING_TO_ATTEND = (gap("Does not offer a session format you can attend"),)


def explain(shown: Shown, values: Floats) -> list[Sequence[Said]]:
    """The best-valued format of each shown therapist (a handful of rows: plain arithmetic)."""
    q, index = shown.query, shown.index
    said: list[Sequence[Said]] = []
    for row, offered in zip(
        shown.rows.tolist(), shown.listed_rows("formats", q.formats), strict=True
    ):
        best, chosen, distance = 0.0, -1, math.nan
        for position, code in enumerate(q.formats):
            if not offered[position]:
                continue
            value = 1.0
            if code == "in_person":
                value, distance = _place(index, q, row)
            if rank_discount(position) * value > best:
                best, chosen = rank_discount(position) * value, position
        if chosen < 0:
            said.append(NOTHING_TO_ATTEND)
        else:
            said.append((_sentence(q.formats[chosen], chosen, distance, q),))
    return said


def caveats(q: ClientQuery) -> list[str]:
    """In person without a client location: every in-person offer counts as near."""
    return [NO_LOCATION_WARNING] if "in_person" in q.formats and q.location is None else []


FEATURE = Feature(
    name="format",
    meaning=(
        "Offers a session format the client can attend; in person closer is better "
        "(without a client location, any in-person offer counts fully)."
    ),
    compute=compute,
    explain=explain,
    given=lambda q: bool(q.formats),
    intake_fields=("formats",),
    # Positive exactly when a listed format is offered (in person: within the radius).
    must_have=positive(compute),
    always_filter=True,
    caveats=caveats,
    columns=(FORMATS, LATITUDE, LONGITUDE),
    costly=True,
)
