"""Profiles' rows written while the import is still being checked, visible only at its commit.

SQLite: each checked block goes into a temporary table of the import's own connection, which
takes no lock on the database (a temporary table is that connection's alone); one short write
transaction then moves the rows into ``therapist`` (``therapists.staged_upsert``), so other
writers wait for that alone. PostgreSQL: by binary COPY straight into ``therapist`` inside the
write transaction (MVCC: nothing shows before the commit), with the revision the directory's
counter is expected to give, stamped again if another writer took it (``restamp``); should an
id turn out to be stored already, the copy is undone (a savepoint) and every row goes the staged
way, which replaces (``write_stored``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection
from sqlmodel import Session

from matcher.storage import therapists
from matcher.storage.therapists import ROW, STAGED, Row

_STAGE = f"INSERT INTO temp.{STAGED} ({', '.join(ROW)}) VALUES ({', '.join('?' * len(ROW))})"


def start_staging(connection: Connection) -> None:
    """SQLite: an empty temporary table, in memory, for this connection's staged rows.

    Call it on a connection out of any transaction, and discard the connection after the
    import (``discard_staged``): the pragma stays with the connection.
    """
    # In memory: the rows were held in a list before this (as many bytes again), and a
    # temporary file cost a third more to fill and to read.
    cursor = connection.connection.cursor()  # the driver's own: a pragma outside a transaction
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()
    columns = ", ".join(ROW)  # untyped: each value is kept as it is bound
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGED} ({columns})")


def stage(connection: Connection, *, rows: Sequence[Row]) -> None:
    """SQLite: ``rows`` added to the connection's staged rows, outside any write lock."""
    if rows:
        connection.exec_driver_sql(_STAGE, list(rows))


def discard_staged(connection: Connection) -> None:
    """SQLite: the staged rows gone with the connection, which leaves the pool.

    Dropping the table frees its pages one by one (0.2-0.9 s at 100,000 profiles); closing
    the connection lets them all go at once.
    """
    connection.invalidate()


def write_staged(session: Session, *, revision: int, now: datetime) -> tuple[int, int]:
    """SQLite: the staged rows written as the upsert writes them: (created, updated)."""
    connection = session.connection()
    staged, known = connection.exec_driver_sql(
        f"SELECT count(*), count(therapist.id) FROM temp.{STAGED} "
        f"LEFT JOIN therapist ON therapist.id = {STAGED}.id"
    ).one()
    connection.execute(therapists.staged_upsert(postgres=False, now=now), {"revision": revision})
    return staged - known, known


@dataclass(frozen=True)
class Copied:
    """What ``copy_blocks`` wrote: every block's rows, and whether they went in as new."""

    rows: list[Row]
    new: bool


def copy_blocks(
    session: Session, *, blocks: Iterable[Sequence[Row]], revision: int, now: datetime
) -> Copied:
    """PostgreSQL: every block's rows copied straight into the table as they come.

    The first stored id met undoes the copy (a savepoint); the rest of the blocks are taken all
    the same, and then the rows are for ``write_stored`` to write.
    """
    from psycopg.errors import UniqueViolation  # the PostgreSQL driver, only here

    connection = session.connection()
    kept: list[Row] = []

    def keeping() -> Iterable[Sequence[Row]]:
        for rows in blocks:
            kept.extend(rows)
            yield rows

    remaining = keeping()
    try:
        with connection.begin_nested():
            therapists.copy_new_blocks(connection, remaining, revision=revision, now=now)
    except UniqueViolation:
        for _ in remaining:  # the blocks not copied yet: a refusal still raises here
            pass
        return Copied(rows=kept, new=False)
    return Copied(rows=kept, new=True)


def restamp(session: Session, *, ids: Sequence[str], revision: int) -> None:
    """PostgreSQL: the rows of ``ids`` given directory revision ``revision``."""
    session.connection().exec_driver_sql(
        "UPDATE therapist SET revision = %s WHERE id = ANY(%s)", (revision, list(ids))
    )


def write_stored(
    session: Session, *, rows: list[Row], revision: int, now: datetime
) -> tuple[int, int]:
    """PostgreSQL: rows some of whose ids are stored, written the staged way: (created, updated)."""
    known = therapists.existing_ids(session, ids=[each[0] for each in rows])
    batch = therapists.Batch(rows=rows)
    therapists.copy_staged(session.connection(), batch, revision=revision, now=now)
    return len(rows) - len(known), len(known)
