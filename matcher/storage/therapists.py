"""Queries on therapist profiles."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, bindparam, case, cast, column, func, null, select, true
from sqlalchemy import table as sa_table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from matcher.storage.tables import Therapist
from matcher.storage.types import position

# Codes kept in the "tags" column so lists can filter on them.
TAGGED: dict[str, str] = {
    "jurisdiction": "licenses",
    "language": "languages",
    "modality": "modalities",
    "concern": "concerns",
    "population": "populations",
    "format": "formats",
}
# The lists of plain codes among them (licenses hold their jurisdiction in an object), each with
# what goes before each of its codes in the tags column.
_CODE_LISTS = tuple(
    (f"|{kind}:", field) for kind, field in TAGGED.items() if kind != "jurisdiction"
)
_CHUNK = 500
# From this many profiles PostgreSQL takes them by COPY: new ones straight into the table, stored
# ones into a temporary table, then one INSERT ... SELECT; fewer (a PUT) go by executemany.
_COPY_FROM = 500


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


def tag(kind: str, code: str) -> str:
    """One code as it appears in the tags column."""
    return f"|{kind}:{code}|"


def tag_text(profile: dict[str, Any]) -> str:
    """The tags column of ``profile``: "|kind:code|kind:code|" for every searchable code."""
    # One join a list, with the prefix as its separator: 1.8 µs a profile, not 4.1.
    licenses = profile.get("licenses")
    parts = (
        ["|jurisdiction:" + "|jurisdiction:".join([value["jurisdiction"] for value in licenses])]
        if licenses
        else []
    )
    for prefix, field in _CODE_LISTS:
        codes = profile.get(field)
        if codes:
            parts.append(prefix + prefix.join(codes))
    return "".join(parts) + "|"


def existing_ids(session: Session, *, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are stored (active or not), in one query with the ids as one value."""
    connection = session.connection()
    given: list[str] | str
    if connection.dialect.name == "postgresql":
        sql, given = "SELECT id FROM therapist WHERE id = ANY(%s)", list(ids)
    else:
        sql = "SELECT id FROM therapist WHERE id IN (SELECT value FROM json_each(?))"
        given = json.dumps(list(ids))
    return {row[0] for row in connection.exec_driver_sql(sql, (given,))}


# What a batch row holds, in this order: the columns a profile sets.
ROW = ("id", "name", "accepting_new_clients", "capacity", "profile", "tags")


Row = tuple[str, str, bool, int, str, str]


@dataclass(frozen=True)
class Batch:
    """Profiles made ready to write, before any lock: one tuple per profile, as ``ROW``."""

    rows: list[Row]


def row(profile: dict[str, Any]) -> Row:
    """The row of one validated profile; JSON and tags are serialised here, outside any lock."""
    document = dict(profile)
    # Capacity lives in its column only: referrals take slots there.
    del document["capacity"]
    return (
        profile["id"],
        profile["name"],
        profile["accepting_new_clients"],
        profile["capacity"],
        orjson.dumps(document).decode(),
        tag_text(profile),
    )


def prepare(profiles: Sequence[dict[str, Any]]) -> Batch:
    """The rows of ``profiles``, made before the write transaction."""
    return Batch(rows=[row(profile) for profile in profiles])


def _on_conflict(statement: Any) -> dict[str, Any]:
    """What a write changes in a stored row (reactivating a deactivated one)."""
    table = Therapist.__table__  # type: ignore[attr-defined]
    new = statement.excluded
    kept = ("id", "created_at", "accepting_confirmed_at", "full_until", "availability_answered_at")
    changes: dict[str, Any] = {c.name: new[c.name] for c in table.columns if c.name not in kept}
    # Written saying "accepting": confirmed now, and a "full until" answer is overridden; saying
    # "not accepting": the last confirmation and "full until" stay (read only while accepting).
    changes["accepting_confirmed_at"] = func.coalesce(
        new.accepting_confirmed_at, table.c.accepting_confirmed_at
    )
    changes["full_until"] = case((new.accepting_new_clients, null()), else_=table.c.full_until)
    return changes


def _written(accepting: Any, now: Any) -> dict[str, Any]:
    """The columns every write sets besides the profile's own (``now`` once, as bound)."""
    return {
        "active": true(),
        "revision": bindparam("revision"),
        "created_at": now,
        "updated_at": now,
        "deactivated_at": null(),
        # Written saying "accepting": confirmed now.
        "accepting_confirmed_at": case((accepting, now), else_=null()),
        "full_until": null(),
    }


def _values_statement(postgres: bool) -> Any:
    """INSERT ... VALUES (one row of ``ROW`` a parameter set) ... ON CONFLICT (id) DO UPDATE."""
    table = Therapist.__table__  # type: ignore[attr-defined]
    text_json = bindparam("profile", type_=Text)
    own: dict[str, Any] = {name: bindparam(name) for name in ROW}
    # SQLite keeps JSON as text; PostgreSQL reads the text as jsonb.
    own["profile"] = cast(text_json, JSONB) if postgres else text_json
    now = bindparam("now", type_=table.c.updated_at.type)
    values = own | _written(bindparam("accepting_new_clients"), now)
    statement = (postgres_insert if postgres else sqlite_insert)(table).values(**values)
    return statement.on_conflict_do_update(index_elements=["id"], set_=_on_conflict(statement))


def upsert(session: Session, *, batch: Batch, revision: int, now: datetime) -> tuple[int, int]:
    """Create or replace the batch's profiles with bulk statements: (created, updated)."""
    ids = [row[0] for row in batch.rows]
    known = existing_ids(session, ids=ids)
    connection = session.connection()
    if connection.dialect.name == "postgresql" and len(batch.rows) >= _COPY_FROM:
        _copy_upsert(connection, batch, known, revision=revision, now=now)
    else:
        _executemany_upsert(connection, batch, revision=revision, now=now)
    return len(ids) - len(known), len(known)


def _executemany_upsert(connection: Any, batch: Batch, *, revision: int, now: datetime) -> None:
    """The rows through the driver's executemany, the statement compiled and bound once.

    Only the profile's own columns vary from row to row, so the constants are converted once
    here instead of once a row (SQLAlchemy's per-row parameter handling cost more than
    SQLite's own insert).
    """
    dialect = connection.dialect
    compiled = _values_statement(dialect.name == "postgresql").compile(dialect=dialect)
    stamp_type = Therapist.__table__.c.updated_at.type.dialect_impl(dialect)  # type: ignore[attr-defined]
    stamp = stamp_type.bind_processor(dialect)
    constants = {"revision": revision, "now": stamp(now) if stamp else now}
    if compiled.positiontup is None:  # a named paramstyle (psycopg)
        parameters: list[Any] = [dict(zip(ROW, row, strict=True)) | constants for row in batch.rows]
    else:  # positional: each row's values then the constants, picked in the statement's order
        extra = tuple(constants.values())
        where = {name: i for i, name in enumerate((*ROW, *constants))}
        pick = itemgetter(*(where[name] for name in compiled.positiontup))
        parameters = [pick(row + extra) for row in batch.rows]
    connection.exec_driver_sql(compiled.string, parameters)


# The columns a new profile's row is copied into, after ``ROW``: what ``_written`` sets, the
# nulls left out (every column left out is null).
_NEW = ("active", "revision", "created_at", "updated_at", "accepting_confirmed_at")
_ROW_TYPES = ("text", "text", "bool", "int4", "jsonb", "text")
_NEW_TYPES = (*_ROW_TYPES, "bool", "int4", "timestamptz", "timestamptz", "timestamptz")


def _copy_upsert(
    connection: Any, batch: Batch, known: set[str], *, revision: int, now: datetime
) -> None:
    """New profiles by binary COPY into the table itself; stored ones as ``copy_staged``.

    Copied straight in, PostgreSQL converts no text and writes no temporary table: about half
    the time. Should another writer store one of the new ids meanwhile, the copy is undone (a
    savepoint) and every row goes the staged way, which replaces.
    """
    from psycopg.errors import UniqueViolation  # the PostgreSQL driver, only here

    new = [each for each in batch.rows if each[0] not in known] if known else batch.rows
    stored_rows = [each for each in batch.rows if each[0] in known] if known else []
    if new:
        try:
            with connection.begin_nested():
                _copy_new(connection, new, revision=revision, now=now)
        except UniqueViolation:
            stored_rows = batch.rows
    if stored_rows:
        copy_staged(connection, Batch(rows=stored_rows), revision=revision, now=now)


def _copy_new(connection: Any, rows: list[Row], *, revision: int, now: datetime) -> None:
    """Rows of profiles not stored yet, by binary COPY: as the upsert would insert them."""
    copy_new_blocks(connection, [rows], revision=revision, now=now)


def copy_new_blocks(
    connection: Any, blocks: Iterable[Sequence[Row]], *, revision: int, now: datetime
) -> None:
    """Rows of profiles not stored yet, block by block as they come, by one binary COPY."""
    from psycopg.types.json import set_json_dumps

    stamp = now.astimezone(UTC)
    cursor = connection.connection.driver_connection.cursor()
    set_json_dumps(_as_is, context=cursor)  # the profile is JSON already (``row``)
    columns = ", ".join((*ROW, *_NEW))
    with cursor.copy(f"COPY therapist ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_NEW_TYPES)
        write_row = copy.write_row
        for rows in blocks:
            for each in rows:  # accepting: confirmed now (as ``_written``)
                write_row((*each, True, revision, stamp, stamp, stamp if each[2] else None))


def _as_is(document: str) -> str:
    """JSON text sent as it is."""
    return document


def copy_staged(connection: Any, batch: Batch, *, revision: int, now: datetime) -> None:
    """The rows by COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT."""
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {STAGED} (id text, name text, "
        "accepting_new_clients boolean, capacity integer, profile text, tags text) "
        "ON COMMIT DROP"
    )
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {STAGED} ({', '.join(ROW)}) FROM STDIN") as copy:
        for row in batch.rows:
            copy.write_row(row)
    connection.execute(staged_upsert(postgres=True, now=now), {"revision": revision})


# The temporary table staged rows are put in, one column a name of ``ROW``.
STAGED = "therapist_import"


def staged_upsert(*, postgres: bool, now: datetime) -> Any:
    """INSERT ... SELECT the rows staged in ``STAGED`` ... ON CONFLICT (id) DO UPDATE, as the
    upsert writes them (``revision`` bound at execution)."""
    table = Therapist.__table__  # type: ignore[attr-defined]
    staged = sa_table(STAGED, *(column(name) for name in ROW))
    now_bound = bindparam("now", now, type_=table.c.updated_at.type)
    written = _written(staged.c.accepting_new_clients, now_bound)
    own: list[Any] = [staged.c[name] for name in ROW]
    if postgres:  # staged as text
        own[ROW.index("profile")] = cast(staged.c.profile, JSONB)
    columns = [*ROW, *written]
    # SQLite reads "SELECT ... ON CONFLICT" as a join's ON without a WHERE between them.
    rows = select(*own, *written.values()).where(true())
    insert = postgres_insert if postgres else sqlite_insert
    statement = insert(table).from_select(columns, rows)
    return statement.on_conflict_do_update(index_elements=["id"], set_=_on_conflict(statement))


def _documents(session: Session, where: ColumnElement[bool]) -> Any:
    """(id, active, profile, capacity, confirmed) of the therapists meeting ``where``."""
    return session.execute(
        select(
            col(Therapist.id),
            col(Therapist.active),
            col(Therapist.profile),
            col(Therapist.capacity),
            col(Therapist.accepting_confirmed_at),
        )
        .where(where)
        # Streamed in batches (a server-side cursor on PostgreSQL): a large directory is read
        # without holding every profile at once, and without building ORM objects.
        .execution_options(yield_per=5_000)
    )


def active_profiles(session: Session) -> Iterator[dict[str, Any]]:
    """Every matchable therapist's profile (for building the matching index)."""
    rows = _documents(session, col(Therapist.active).is_(True))
    return (
        dict(profile, capacity=capacity, accepting_confirmed_at=confirmed)
        for _, _, profile, capacity, confirmed in rows
    )


def changed_since(
    session: Session, *, revision: int
) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(id, profile) of every therapist written after directory revision ``revision``; the
    profile is None for a deactivated one (for refreshing the matching index)."""
    rows = _documents(session, col(Therapist.revision) > revision)
    return (
        (
            therapist_id,
            dict(profile, capacity=capacity, accepting_confirmed_at=confirmed) if active else None,
        )
        for therapist_id, active, profile, capacity, confirmed in rows
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
            # A whole "|kind:code|" inside the column, by position: exact, as LIKE is not.
            conditions.append(position(col(Therapist.tags), tag(kind, code)) > 0)
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
