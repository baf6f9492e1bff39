"""Queries on therapist profiles."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, bindparam, case, cast, delete, func, null, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
_ID_CHUNK = 5_000  # ids in one IN (...): under SQLite's 32,766 bound variables
_ROW_CHUNK = 5_000  # rows per executemany


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


def _tags(profile: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(therapist_id, kind, code) for each searchable code of ``profile``."""
    for kind, field in TAGGED.items():
        values = profile.get(field) or []
        for value in values:
            code = value["jurisdiction"] if kind == "jurisdiction" else value
            yield profile["id"], kind, code


def existing_ids(session: Session, *, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are stored (active or not)."""
    found: set[str] = set()
    for chunk in _chunks(ids, _ID_CHUNK):
        query = select(col(Therapist.id)).where(col(Therapist.id).in_(chunk))
        found.update(session.execute(query).scalars())
    return found


@dataclass(frozen=True)
class Batch:
    """Profiles made ready to write (rows with their JSON, and tags), before any lock."""

    rows: list[dict[str, Any]]
    tags: list[tuple[str, str, str]]


def prepare(profiles: Sequence[dict[str, Any]]) -> Batch:
    """The rows and tags of ``profiles``; the JSON is serialised here, outside the write lock."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    rows = [
        {
            "id": p["id"],
            "name": p["name"],
            "accepting_new_clients": p["accepting_new_clients"],
            "capacity": p["capacity"],
            # Capacity lives in its column only: referrals take slots there.
            "profile_json": dumps({k: v for k, v in p.items() if k != "capacity"}),
        }
        for p in profiles
    ]
    return Batch(rows=rows, tags=[tag for p in profiles for tag in _tags(p)])


def _upsert_statement(session: Session, *, revision: int, now: datetime) -> Any:
    """One INSERT ... ON CONFLICT (id) DO UPDATE for every row (reactivating deactivated ones)."""
    table = Therapist.__table__  # type: ignore[attr-defined]
    postgres = session.get_bind().dialect.name == "postgresql"
    text_json = bindparam("profile_json", type_=Text)
    # SQLite keeps JSON as text; PostgreSQL reads the text as jsonb.
    document = cast(text_json, JSONB) if postgres else text_json
    dialect_insert = postgres_insert if postgres else sqlite_insert
    statement = dialect_insert(table).values(
        id=bindparam("id"),
        name=bindparam("name"),
        active=True,
        accepting_new_clients=bindparam("accepting_new_clients"),
        capacity=bindparam("capacity"),
        profile=document,
        revision=revision,
        created_at=now,
        updated_at=now,
        deactivated_at=None,
        accepting_confirmed_at=bindparam("accepting_confirmed_at"),
        full_until=None,
    )
    new = statement.excluded
    kept = ("id", "created_at", "accepting_confirmed_at", "full_until")
    changes: dict[str, Any] = {c.name: new[c.name] for c in table.columns if c.name not in kept}
    # Written saying "accepting": confirmed now, and a "full until" answer is overridden; saying
    # "not accepting": the last confirmation and "full until" stay (read only while accepting).
    changes["accepting_confirmed_at"] = func.coalesce(
        new.accepting_confirmed_at, table.c.accepting_confirmed_at
    )
    changes["full_until"] = case((new.accepting_new_clients, null()), else_=table.c.full_until)
    return statement.on_conflict_do_update(index_elements=["id"], set_=changes)


def upsert(session: Session, *, batch: Batch, revision: int, now: datetime) -> tuple[int, int]:
    """Create or replace the batch's profiles with bulk statements: (created, updated)."""
    ids = [row["id"] for row in batch.rows]
    known = existing_ids(session, ids=ids)
    statement = _upsert_statement(session, revision=revision, now=now)
    for row in batch.rows:  # written saying "accepting": confirmed now
        row["accepting_confirmed_at"] = now if row["accepting_new_clients"] else None
    for chunk in _chunks(batch.rows, _ROW_CHUNK):
        session.execute(statement, list(chunk))
    # New therapists have no tags yet: only replaced ones lose their old tags.
    replaced = [i for i in ids if i in known]
    for chunk in _chunks(replaced, _ID_CHUNK):
        session.execute(delete(TherapistTag).where(col(TherapistTag.therapist_id).in_(chunk)))
    _insert_tags(session, batch.tags)
    return len(ids) - len(replaced), len(replaced)


def _insert_tags(session: Session, tags: Sequence[tuple[str, str, str]]) -> None:
    """Insert tag rows as the driver takes them: COPY on PostgreSQL, executemany on SQLite."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy("COPY therapist_tag (therapist_id, kind, code) FROM STDIN") as copy:
            for tag in tags:
                copy.write_row(tag)
        return
    sql = "INSERT INTO therapist_tag (therapist_id, kind, code) VALUES (?, ?, ?)"
    for chunk in _chunks(tags, _ROW_CHUNK * 4):
        connection.exec_driver_sql(sql, list(chunk))


def active_profiles(session: Session) -> Iterator[dict[str, Any]]:
    """Every matchable therapist's profile (for building the matching index)."""
    rows = session.execute(
        select(
            col(Therapist.profile),
            col(Therapist.capacity),
            col(Therapist.accepting_confirmed_at),
        )
        .where(col(Therapist.active).is_(True))
        # Streamed in batches (a server-side cursor on PostgreSQL): the index build reads a
        # large directory without holding every profile at once.
        .execution_options(yield_per=5_000)
    )
    return (
        dict(profile, capacity=capacity, accepting_confirmed_at=confirmed)
        for profile, capacity, confirmed in rows
    )


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


def stale(
    session: Session, *, cutoff: datetime, now: datetime, limit: int
) -> tuple[list[Therapist], int]:
    """Active therapists whose "accepting" was last confirmed before ``cutoff`` (or never), or
    whose "full until" has passed; the first ``limit`` by id, and how many in all."""
    confirmed = col(Therapist.accepting_confirmed_at)
    accepting = col(Therapist.accepting_new_clients)
    full_until = col(Therapist.full_until)
    conditions = [
        col(Therapist.active).is_(True),
        (accepting.is_(True) & (confirmed.is_(None) | (confirmed < cutoff)))
        | (accepting.is_(False) & full_until.is_not(None) & (full_until <= now)),
    ]
    return _paged(session, conditions, page=1, page_size=limit)
