"""The client's side of a match: an intake read once, every preference normalised."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matcher import vocabulary as vocab
from matcher.core.scoring.week import week_mask

DEFAULT_RADIUS_KM = 30.0
STYLE_KEYS: tuple[str, ...] = tuple(vocab.STYLE_DIMENSIONS)


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

    @property
    def country(self) -> str | None:
        """The client's country, from the jurisdiction (``US-CA`` is in ``US``)."""
        return self.jurisdiction.split("-", 1)[0] if self.jurisdiction else None
