"""The database: SQLite (WAL, foreign keys) by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

_WRITE = "matcher_write"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own handling is broken
    # for this), and set the pragmas every connection needs.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the lock at BEGIN, so concurrent writers wait (busy_timeout) instead of
    # failing with "database is locked" when a read lock cannot be upgraded. Readers stay
    # deferred so that WAL lets them run beside a writer.
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``, tuned for its backend."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            hide_parameters=True,  # an error logged with its SQL must not carry an intake
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)


class Database:
    """One engine with a session for reads and a transaction helper for writes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._writer = self.engine.execution_options(**{_WRITE: True})

    @property
    def is_sqlite(self) -> bool:
        """Whether this database is SQLite."""
        return self.engine.dialect.name == "sqlite"

    def session(self) -> Session:
        """A session for reading (and for writes that take care of their own commit)."""
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on error."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def transaction_on(self, connection: Connection) -> Iterator[Session]:
        """``transaction`` on a connection of the caller's (which sees its temporary tables)."""
        connection.execution_options(**{_WRITE: True})  # in place: SQLite's BEGIN IMMEDIATE
        try:
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session
        finally:
            connection.execution_options(**{_WRITE: False})

    def dispose(self) -> None:
        """Forget pooled connections without closing them (in a forked child)."""
        self.engine.dispose(close=False)

    def close(self) -> None:
        """Close every pooled connection (when a command or test is done)."""
        self.engine.dispose()
