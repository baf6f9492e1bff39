"""The model's features: what each one means, and its value for many therapists at once.

Every feature is a number in [0, 1] for one (client, therapist) pair. A preference the client did
not give (absent, None or empty) yields 0 for every therapist, so it neither rewards nor penalises
anyone. Ordered lists are weighted by the rank discount d_i = max(0.25, 1 - 0.25 i), i from 0.

- modality: max_i d_i [offers m_i].
- concerns: sum_i d_i [lists c_i] / sum_i d_i.
- language: max_i d_i [speaks l_i].
- identity: competence = |I & (competencies | identities)| / |I|; with wants_shared_identity,
  0.5 competence + 0.5 |I & identities| / |I|.
- faith: 1 if the therapist's faith is the client's.
- availability: min(1, overlap / min(120, client minutes)), on 15-minute slots of the week; a
  slot counts only if a window covers it entirely; both zones are read at the match instant.
- format: max_i d_i q_i, q = 1 for video or phone offered; in person within the radius
  (max_distance_km, default 30) q = 1 - 0.5 dist / radius, beyond it 0; q = 1 when the client gave
  no location, 0.5 when the therapist has none (distance unknown: valued as at the radius edge).
- gender: max_i d_i [gender is g_i].
- cost: 1 if the client's insurance is accepted; else, with max_fee, 1 if the fee is within it,
  0.7 if the sliding-scale minimum is; else 0. No fee listed: affordable only through insurance.
- style: 1 - mean_dims |client - therapist| / 6 over the client's dimensions (missing: 0).
- alliance: the therapist's early-alliance record on [0, 1]; 0.5 (the prior) without ratings.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

import numpy as np

from matcher.core.scoring.index import (
    MASK_WORDS,
    SLOT_MINUTES,
    STYLE_KEYS,
    Floats,
    Rows,
    TherapistIndex,
    mask_words,
    offset_slots,
    rotate,
    week_mask,
)

FEATURES: tuple[str, ...] = (
    "modality",
    "concerns",
    "language",
    "identity",
    "faith",
    "availability",
    "format",
    "gender",
    "cost",
    "style",
    "alliance",
)

FEATURE_MEANINGS: Mapping[str, str] = MappingProxyType(
    {
        "modality": "Offers a therapy the client asked for; the first choice counts fully.",
        "concerns": "Share of the client's concerns the therapist lists, weighted by rank.",
        "language": "Speaks a language the client asked for; the first choice counts fully.",
        "identity": "Competent with (and, if asked, shares) the client's communities.",
        "faith": "Has the faith the client asked for.",
        "availability": "Weekly hours in common with the client's times, up to two hours.",
        "format": "Offers a session format the client can attend; in person closer is better.",
        "gender": "Is of a gender the client asked for; the first choice counts fully.",
        "cost": "Affordable to the client: insurance accepted, fee or sliding scale in budget.",
        "style": "Closeness of therapy style on the client's Cooper-Norcross dimensions.",
        "alliance": "The therapist's early-alliance record, 0.5 (the prior) without ratings.",
    }
)

DEFAULT_RADIUS_KM = 30.0
EARTH_RADIUS_KM = 6371.0088
# Two hours in common is plenty to book weekly sessions: more overlap adds nothing.
AVAILABILITY_TARGET_MINUTES = 120
# Between the fee (1) and nothing (0): a sliding scale needs asking, and may not be granted.
SLIDING_SCALE_FIT = 0.7
# Distance inside the radius costs at most half of the in-person value.
DISTANCE_PENALTY = 0.5
STYLE_RANGE = 6  # |c - t| is at most 3 - (-3)


def rank_discount(i: int) -> float:
    """Weight of the client's i-th choice (from 0): 1, 0.75, 0.5, then 0.25 for the rest."""
    return max(0.25, 1.0 - 0.25 * i)


def _codes(value: Any) -> tuple[str, ...]:
    """An ordered code list without repeats (the first mention is the preference)."""
    return tuple(dict.fromkeys(v for v in value or () if v is not None))


@dataclass(frozen=True)
class ClientQuery:
    """An intake read once per match: every preference normalised, absent ones empty."""

    jurisdiction: str | None
    age_group: str | None
    concerns: tuple[str, ...]
    modalities: tuple[str, ...]
    languages: tuple[str, ...]
    identities: tuple[str, ...]
    wants_shared_identity: bool
    genders: tuple[str, ...]
    faith: str | None
    formats: tuple[str, ...]
    location: tuple[float, float] | None  # degrees
    radius_km: float
    timezone: str | None
    availability: int  # weekly quarter hours in the client's zone
    gave_availability: bool
    max_fee: float | None
    insurance: str | None
    style: tuple[tuple[str, int], ...]
    must_have: tuple[str, ...]
    exclude: tuple[str, ...]

    @classmethod
    def from_intake(cls, intake: Mapping[str, Any]) -> ClientQuery:
        """Read an intake dict as validated by the API layer."""
        location = intake.get("location") or {}
        radius = intake.get("max_distance_km")
        max_fee = intake.get("max_fee")
        style = intake.get("style") or {}
        return cls(
            jurisdiction=intake.get("jurisdiction"),
            age_group=intake.get("age_group") or None,
            concerns=_codes(intake.get("concerns")),
            modalities=_codes(intake.get("modalities")),
            languages=_codes(intake.get("languages")),
            identities=_codes(intake.get("identities")),
            wants_shared_identity=bool(intake.get("wants_shared_identity")),
            genders=_codes(intake.get("therapist_genders")),
            faith=intake.get("faith") or None,
            formats=_codes(intake.get("formats")),
            location=(
                (float(location["lat"]), float(location["lon"]))
                if location.get("lat") is not None and location.get("lon") is not None
                else None
            ),
            # A non-positive radius is read as no radius given.
            radius_km=float(radius) if radius is not None and radius > 0 else DEFAULT_RADIUS_KM,
            timezone=intake.get("timezone") or None,
            availability=week_mask(intake.get("availability")),
            gave_availability=bool(intake.get("availability")),
            max_fee=None if max_fee is None else float(max_fee),
            insurance=intake.get("insurance") or None,
            style=tuple((k, int(v)) for k, v in style.items() if k in STYLE_KEYS and v is not None),
            must_have=_codes(intake.get("must_have")),
            exclude=_codes(intake.get("exclude_therapists")),
        )

    def gave(self, dimension: str) -> bool:
        """Whether the client gave a preference on a dimension (must-haves and style)."""
        return self._given.get(dimension, False)

    @functools.cached_property
    def _given(self) -> Mapping[str, bool]:
        return {
            "language": bool(self.languages),
            "modality": bool(self.modalities),
            "concerns": bool(self.concerns),
            "identity": bool(self.identities),
            "gender": bool(self.genders),
            "faith": self.faith is not None,
            "format": bool(self.formats),
            "availability": self.gave_availability,
            "cost": self.max_fee is not None or self.insurance is not None,
            "style": bool(self.style),
        }


def _best_ranked(hits: Iterable[np.ndarray], size: int) -> Floats:
    """max_i d_i * hit_i over the client's ordered choices."""
    out = np.zeros(size)
    for i, hit in enumerate(hits):
        out = np.maximum(out, rank_discount(i) * hit)
    return out


def modality(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """max_i d_i * [offers the client's i-th modality] (Swift et al. 2018: preferences matter)."""
    return _best_ranked((index.has("modalities", m, rows) for m in q.modalities), len(rows))


def concerns(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """sum_i d_i * [lists concern i] / sum_i d_i: every concern counts, earlier ones more."""
    hits = np.zeros(len(rows))
    total = 0.0
    for i, concern in enumerate(q.concerns):
        hits = hits + rank_discount(i) * index.has("concerns", concern, rows)
        total += rank_discount(i)
    return hits / total if q.concerns else hits


def language(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """max_i d_i * [speaks language i]: one shared language is enough to work in."""
    return _best_ranked((index.has("languages", code, rows) for code in q.languages), len(rows))


def identity_hits(index: TherapistIndex, q: ClientQuery, rows: Rows, *, shared: bool) -> Floats:
    """How many of the client's communities each therapist belongs to (shared) or knows."""
    column = "identities" if shared else "competent"
    return index.count(column, q.identities, rows).astype(np.float64)


def identity(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """|I & competent|/|I|, averaged half and half with |I & identities|/|I| if shared is asked."""
    if not q.identities:
        return np.zeros(len(rows))
    size = len(q.identities)
    competence = identity_hits(index, q, rows, shared=False) / size
    if not q.wants_shared_identity:
        return competence
    return 0.5 * competence + 0.5 * (identity_hits(index, q, rows, shared=True) / size)


def faith(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """1 when the therapist has the faith the client asked for."""
    position = index.tables.faiths.position.get(q.faith) if q.faith else None
    if position is None:
        return np.zeros(len(rows))
    return np.asarray(index.faith.take(rows) == position, np.float64)


def overlap_minutes(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """Weekly minutes both free, with each side's zone read at ``now`` (so DST is right)."""
    if not q.availability or not len(rows):
        return np.zeros(len(rows))
    zone_of = index.timezone.take(rows)
    names = index.tables.timezones.codes
    client = offset_slots(q.timezone, now)
    # The client's week rotated into each therapist zone present, as one row per zone.
    shifted = np.zeros((len(names), MASK_WORDS), dtype=np.uint64)
    for zone in np.flatnonzero(np.bincount(zone_of, minlength=len(names))).tolist():
        shifted[zone] = mask_words(rotate(q.availability, offset_slots(names[zone], now) - client))
    common = np.zeros(len(rows), dtype=np.int64)
    for word in np.flatnonzero(shifted.any(axis=0)).tolist():  # words the client never uses: 0
        therapist = index.availability[:, word].take(rows)
        common += np.bitwise_count(therapist & shifted[:, word].take(zone_of))
    return np.asarray(SLOT_MINUTES * common, np.float64)


def client_minutes(q: ClientQuery) -> int:
    """Weekly minutes the client gave."""
    return SLOT_MINUTES * q.availability.bit_count()


def availability(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """min(1, overlap / min(120, client's minutes)): enough common time to book sessions."""
    needed = min(AVAILABILITY_TARGET_MINUTES, client_minutes(q))
    if not needed:
        return np.zeros(len(rows))
    return np.asarray(np.minimum(1.0, overlap_minutes(index, q, rows, now) / needed), np.float64)


def distance_km(index: TherapistIndex, q: ClientQuery, rows: Rows) -> Floats:
    """Great-circle (haversine) distance to the client, NaN where either location is unknown."""
    if q.location is None:
        return np.full(len(rows), np.nan)
    lat0, lon0 = math.radians(q.location[0]), math.radians(q.location[1])
    lat, lon = index.lat.take(rows), index.lon.take(rows)
    a = np.sin((lat - lat0) / 2) ** 2 + math.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0))), np.float64)


def in_person_fit(index: TherapistIndex, q: ClientQuery, rows: Rows) -> Floats:
    """1 - 0.5 * distance / radius within the radius, 0 beyond it or if not offered."""
    offered = index.has("formats", "in_person", rows)
    if q.location is None:
        return offered.astype(np.float64)
    dist = distance_km(index, q, rows)
    known = ~np.isnan(dist)
    near = known & (np.where(known, dist, np.inf) <= q.radius_km)
    # Unknown distance (no therapist location): valued as if at the edge of the radius.
    fit = np.where(near, 1.0 - DISTANCE_PENALTY * np.where(near, dist, 0.0) / q.radius_km, 0.0)
    fit = np.where(known, fit, 1.0 - DISTANCE_PENALTY)
    return np.where(offered, fit, 0.0)


def format_fit(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """max_i d_i * q_i: video or phone offered gives 1, in person decays with distance."""
    hits = (
        in_person_fit(index, q, rows)
        if code == "in_person"
        else index.has("formats", code, rows).astype(np.float64)
        for code in q.formats
    )
    return _best_ranked(hits, len(rows))


def gender(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """max_i d_i * [therapist's gender is the client's i-th choice]."""
    positions = index.tables.genders.position
    genders = index.gender.take(rows)
    hits = (genders == positions.get(g, -2) for g in q.genders)
    return _best_ranked(hits, len(rows))


def cost(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """1 if insurance accepted or fee within budget, 0.7 via sliding scale, else 0."""
    out = np.zeros(len(rows))
    if q.max_fee is not None:
        # NaN (no fee listed) compares False: an unknown fee is never taken as affordable.
        sliding = np.where(index.sliding.take(rows) <= q.max_fee, SLIDING_SCALE_FIT, 0.0)
        out = np.where(index.fee.take(rows) <= q.max_fee, 1.0, sliding)
    if q.insurance is not None:
        out = np.where(index.has("insurance", q.insurance, rows), 1.0, out)
    return out


def style(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """1 - mean(|client - therapist|) / 6 over the client's dimensions (therapist default 0)."""
    if not q.style:
        return np.zeros(len(rows))
    gap = np.zeros(len(rows), dtype=np.int64)
    for dim, wanted in q.style:
        theirs = index.style[:, STYLE_KEYS.index(dim)].take(rows).astype(np.int64)
        gap += np.abs(wanted - theirs)
    return np.asarray(1.0 - (gap / len(q.style)) / STYLE_RANGE, np.float64)


def alliance(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """The therapist's early-alliance record on [0, 1], given to the index from ratings."""
    return index.alliance.take(rows)


FeatureFunction = Callable[[TherapistIndex, ClientQuery, Rows, datetime], Floats]

FEATURE_FUNCTIONS: Mapping[str, FeatureFunction] = MappingProxyType(
    {
        "modality": modality,
        "concerns": concerns,
        "language": language,
        "identity": identity,
        "faith": faith,
        "availability": availability,
        "format": format_fit,
        "gender": gender,
        "cost": cost,
        "style": style,
        "alliance": alliance,
    }
)


def feature_matrix(index: TherapistIndex, q: ClientQuery, rows: Rows, now: datetime) -> Floats:
    """An (len(rows), 11) array of feature values in FEATURES order."""
    out = np.empty((len(rows), len(FEATURES)), order="F")  # filled and read by column
    for k, name in enumerate(FEATURES):
        out[:, k] = FEATURE_FUNCTIONS[name](index, q, rows, now)
    return out
