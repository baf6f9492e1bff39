"""The therapist directory: validated upserts, all-or-nothing imports, deactivation."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session

from matcher.schemas.fields import field_path, flatten_errors, invalid_text
from matcher.schemas.profile import validate_profile
from matcher.services.errors import Invalid, Malformed, NotFound
from matcher.storage import counters
from matcher.storage import therapists as stored
from matcher.storage.tables import Therapist
from matcher.storage.therapists import TherapistFilter
from matcher.storage.types import utcnow

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})

__all__ = ["NDJSON_TYPES", "Therapist", "TherapistFilter"]


def parse_records(text: str, *, ndjson: bool) -> list[Any]:
    """Read a JSON array or NDJSON (one JSON object a line; blank lines ignored)."""
    if not ndjson:
        try:
            records = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise Malformed("Body is not JSON.", {"body": [f"Invalid JSON: {err}"]}) from err
        if not isinstance(records, list):
            raise Invalid(
                "Body is not a JSON array.", {"body": ["Expected a JSON array of profiles."]}
            )
        return records
    records, errors = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (ValueError, RecursionError) as err:
            errors[f"line {number}"] = [f"Invalid JSON: {err}"]
    if errors:
        detail = f"{len(errors)} NDJSON lines are not JSON; nothing imported."
        raise Malformed(detail, errors)
    return records


def validate_records(
    records: Sequence[Any], *, progress: Callable[[int], None] | None = None
) -> list[dict[str, Any]]:
    """Validate every record; refuse (Invalid) naming each bad record and field."""
    if not records:
        raise Invalid("Nothing to import.", {"body": ["No profiles given."]})
    profiles: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    first_seen: dict[str, int] = {}
    for index, record in enumerate(records):
        unreadable = invalid_text(record, [index])
        if unreadable is not None:
            errors[unreadable] = ["Not valid Unicode (unpaired surrogate)."]
            continue
        profile, messages = validate_profile(record)
        if profile is None:
            for path, msgs in flatten_errors(messages, [index]).items():
                errors[path] = msgs
        else:
            earlier = first_seen.setdefault(profile["id"], index)
            if earlier != index:
                errors[field_path([index, "id"])] = [f"Same id as record {earlier}."]
            profiles.append(profile)
        if progress:
            progress(1)
    if errors:
        bad = len({path.split("]")[0] for path in errors})
        raise Invalid(f"{bad} of {len(records)} records are invalid; nothing imported.", errors)
    return profiles


def import_profiles(session: Session, *, profiles: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Create or replace every profile in the caller's transaction: (created, updated)."""
    revision = counters.bump(session, name=counters.DIRECTORY)
    return stored.upsert(session, profiles=profiles, revision=revision, now=utcnow())


def upsert_profile(session: Session, *, profile: dict[str, Any]) -> bool:
    """Create or replace one profile; True when it was created."""
    created, _ = import_profiles(session, profiles=[profile])
    return created == 1


def get_therapist(session: Session, *, therapist_id: str) -> Therapist:
    """One therapist, active or not; NotFound when there is none."""
    therapist = stored.get(session, therapist_id=therapist_id)
    if therapist is None:
        raise NotFound(f"No therapist {therapist_id!r}.")
    return therapist


def get_therapists(session: Session, *, ids: Sequence[str]) -> dict[str, Therapist]:
    """Therapists by id, active or not (unknown ids left out)."""
    return stored.get_many(session, ids=ids)


def list_therapists(
    session: Session, *, where: TherapistFilter, page: int, page_size: int
) -> tuple[list[Therapist], int]:
    """One page of therapists in id order, and how many match in all."""
    return stored.page(session, where=where, page=page, page_size=page_size)


def deactivate(session: Session, *, therapist_id: str) -> None:
    """Stop matching a therapist (history stays); NotFound when there is none."""
    therapist = get_therapist(session, therapist_id=therapist_id)
    if therapist.active:
        revision = counters.bump(session, name=counters.DIRECTORY)
        stored.deactivate(session, therapist=therapist, revision=revision, now=utcnow())


def count_active(session: Session) -> int:
    """How many therapists are matchable."""
    return stored.count_active(session)


def search_therapists(
    session: Session, *, text: str | None, jurisdiction: str | None, page: int, page_size: int
) -> tuple[list[Therapist], int]:
    """One page of therapists, active or not, found by part of a name or id and jurisdiction."""
    return stored.search(
        session, text=text, jurisdiction=jurisdiction, page=page, page_size=page_size
    )
