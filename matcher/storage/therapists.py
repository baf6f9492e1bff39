"""Queries on therapist profiles."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlmodel import Session, col

from matcher.storage.tables import Therapist, TherapistTag

# Codes copied into therapist_tag so lists can filter on them with an index.
TAGGED: dict[str, str] = {
    "jurisdiction": "licenses",
    "language": "languages",
    "modality": "modalities",
    "concern": "concerns",
    "population": "populations",
    "format": "formats",
}
_CHUNK = 500


@dataclass(frozen=True)
class TherapistFilter:
    """What a therapist list is narrowed to; None means no narrowing."""

    jurisdiction: str | None = None
    language: str | None = None
    modality: str | None = None
    concern: str | None = None
    population: str | None = None
    format: str | None = None
    accepting: bool | None = None
    include_inactive: bool = False


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _tags(profile: dict[str, Any]) -> Iterator[dict[str, str]]:
    for kind, field in TAGGED.items():
        values = profile.get(field) or []
        for value in values:
            code = value["jurisdiction"] if kind == "jurisdiction" else value
            yield {"therapist_id": profile["id"], "kind": kind, "code": code}


def existing_ids(session: Session, *, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are stored (active or not)."""
    found: set[str] = set()
    for chunk in _chunks(ids):
        query = select(col(Therapist.id)).where(col(Therapist.id).in_(chunk))
        found.update(session.execute(query).scalars())
    return found


def upsert(
    session: Session, *, profiles: Sequence[dict[str, Any]], revision: int, now: datetime
) -> tuple[int, int]:
    """Create or replace ``profiles`` (reactivating any that were deactivated)."""
    ids = [p["id"] for p in profiles]
    known = existing_ids(session, ids=ids)
    rows = [
        {
            "id": p["id"],
            "name": p["name"],
            "active": True,
            "accepting_new_clients": p["accepting_new_clients"],
            "capacity": p["capacity"],
            # Capacity lives in its column only: referrals take slots there.
            "profile": {k: v for k, v in p.items() if k != "capacity"},
            "revision": revision,
            "updated_at": now,
            "deactivated_at": None,
        }
        for p in profiles
    ]
    new_rows = [dict(r, created_at=now) for r in rows if r["id"] not in known]
    changed_rows = [r for r in rows if r["id"] in known]
    for chunk in _chunks(new_rows):
        session.execute(insert(Therapist), list(chunk))
    for chunk in _chunks(changed_rows):
        session.execute(update(Therapist), list(chunk))
    for chunk in _chunks(ids):
        session.execute(delete(TherapistTag).where(col(TherapistTag.therapist_id).in_(chunk)))
    tags = [tag for p in profiles for tag in _tags(p)]
    for chunk in _chunks(tags, 2000):
        session.execute(insert(TherapistTag), list(chunk))
    return len(new_rows), len(changed_rows)


def active_profiles(session: Session) -> Iterator[dict[str, Any]]:
    """Every matchable therapist's profile (for building the matching index)."""
    rows = session.execute(
        select(col(Therapist.profile), col(Therapist.capacity))
        .where(col(Therapist.active).is_(True))
        # Streamed in batches (a server-side cursor on PostgreSQL): the index build reads a
        # large directory without holding every profile at once.
        .execution_options(yield_per=5_000)
    )
    return (dict(profile, capacity=capacity) for profile, capacity in rows)


def get(session: Session, *, therapist_id: str) -> Therapist | None:
    """One therapist by id, active or not."""
    return session.get(Therapist, therapist_id)


def get_many(session: Session, *, ids: Sequence[str]) -> dict[str, Therapist]:
    """Therapists by id (active or not); unknown ids are left out."""
    found: dict[str, Therapist] = {}
    for chunk in _chunks(list(ids)):
        rows = session.execute(select(Therapist).where(col(Therapist.id).in_(chunk))).scalars()
        found.update((row.id, row) for row in rows)
    return found


def deactivate(session: Session, *, therapist: Therapist, revision: int, now: datetime) -> None:
    """Stop matching ``therapist``; its row and history stay."""
    therapist.active = False
    therapist.deactivated_at = now
    therapist.updated_at = now
    therapist.revision = revision
    session.add(therapist)


def _conditions(where: TherapistFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not where.include_inactive:
        conditions.append(col(Therapist.active).is_(True))
    if where.accepting is not None:
        conditions.append(col(Therapist.accepting_new_clients).is_(where.accepting))
    for kind in TAGGED:
        code = getattr(where, kind)
        if code is not None:
            tagged = select(col(TherapistTag.therapist_id)).where(
                col(TherapistTag.kind) == kind, col(TherapistTag.code) == code
            )
            conditions.append(col(Therapist.id).in_(tagged))
    return conditions


def _paged(
    session: Session, conditions: Sequence[ColumnElement[bool]], *, page: int, page_size: int
) -> tuple[list[Therapist], int]:
    """One page (by id) of the therapists meeting ``conditions``, and how many meet them."""
    total = session.execute(
        select(func.count()).select_from(Therapist).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        select(Therapist)
        .where(*conditions)
        .order_by(col(Therapist.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).scalars()
    return list(rows), int(total)


def page(
    session: Session, *, where: TherapistFilter, page: int, page_size: int
) -> tuple[list[Therapist], int]:
    """One page of therapists (ordered by id) and how many match in all."""
    conditions = _conditions(where)
    return _paged(session, conditions, page=page, page_size=page_size)


def changed_since(session: Session, *, revision: int) -> Iterable[Therapist]:
    """Every therapist written after directory revision ``revision`` (for index refresh)."""
    return session.execute(
        select(Therapist)
        .where(col(Therapist.revision) > revision)
        .order_by(col(Therapist.revision))
    ).scalars()


def count_active(session: Session) -> int:
    """How many therapists are matchable."""
    return int(
        session.execute(
            select(func.count()).select_from(Therapist).where(col(Therapist.active).is_(True))
        ).scalar_one()
    )


def search(
    session: Session, *, text: str | None, jurisdiction: str | None, page: int, page_size: int
) -> tuple[list[Therapist], int]:
    """One page (by id) of therapists, active or not, whose id or name contains ``text``."""
    conditions: list[ColumnElement[bool]] = []
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            col(Therapist.id).ilike(pattern, escape="\\")
            | col(Therapist.name).ilike(pattern, escape="\\")
        )
    if jurisdiction:
        where = TherapistFilter(jurisdiction=jurisdiction, include_inactive=True)
        conditions.extend(_conditions(where))
    return _paged(session, conditions, page=page, page_size=page_size)
