"""The therapist directory: validated upserts, all-or-nothing imports, deactivation."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from matcher.schemas.fields import field_path, flatten_errors, invalid_text
from matcher.schemas.profile import validate_profile
from matcher.storage import counters
from matcher.storage import therapists as stored
from matcher.storage.database import Database
from matcher.storage.types import utcnow

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})


class ImportRejected(Exception):
    """An import refused whole, with every bad record's errors by field path."""

    def __init__(self, errors: dict[str, list[str]], detail: str, *, status: int = 422) -> None:
        super().__init__(detail)
        self.errors = errors
        self.detail = detail
        self.status = status


def parse_records(text: str, *, ndjson: bool) -> list[Any]:
    """Read a JSON array or NDJSON (one JSON object a line; blank lines ignored)."""
    if not ndjson:
        try:
            records = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise ImportRejected(
                {"body": [f"Invalid JSON: {err}"]}, "Body is not JSON.", status=400
            ) from err
        if not isinstance(records, list):
            raise ImportRejected(
                {"body": ["Expected a JSON array of profiles."]}, "Body is not a JSON array."
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
        raise ImportRejected(errors, detail, status=400)
    return records


def validate_records(
    records: Sequence[Any], *, progress: Callable[[int], None] | None = None
) -> list[dict[str, Any]]:
    """Validate every record; raise ImportRejected naming each bad record and field."""
    if not records:
        raise ImportRejected({"body": ["No profiles given."]}, "Nothing to import.")
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
        raise ImportRejected(
            errors, f"{bad} of {len(records)} records are invalid; nothing imported."
        )
    return profiles


def import_profiles(db: Database, *, profiles: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Create or replace every profile in one transaction: (created, updated)."""
    now = utcnow()
    with db.transaction() as session:
        revision = counters.bump(session, name=counters.DIRECTORY)
        return stored.upsert(session, profiles=profiles, revision=revision, now=now)


def upsert_profile(db: Database, *, profile: dict[str, Any]) -> bool:
    """Create or replace one profile; True when it was created."""
    created, _ = import_profiles(db, profiles=[profile])
    return created == 1


def deactivate(db: Database, *, therapist_id: str) -> bool:
    """Stop matching a therapist; False when there is no such therapist."""
    with db.transaction() as session:
        therapist = stored.get(session, therapist_id=therapist_id)
        if therapist is None:
            return False
        if therapist.active:
            revision = counters.bump(session, name=counters.DIRECTORY)
            stored.deactivate(session, therapist=therapist, revision=revision, now=utcnow())
        return True
