"""Named monotonic counters: the directory and model revisions every worker polls."""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from matcher.storage.tables import Counter

DIRECTORY = "directory"
MODELS = "models"
ALLIANCE = "alliance"


def bump(session: Session, *, name: str) -> int:
    """Increment counter ``name`` inside the caller's transaction and return its new value."""
    # The UPDATE holds the row lock until commit, so revisions commit in increasing order.
    statement = (
        update(Counter)
        .where(col(Counter.name) == name)
        .values(value=col(Counter.value) + 1)
        .returning(col(Counter.value))
    )
    value = session.execute(statement).scalar_one()
    return int(value)


def read(session: Session, *, name: str) -> int:
    """Counter ``name`` as the caller's transaction sees it, without taking its lock."""
    statement = select(col(Counter.value)).where(col(Counter.name) == name)
    return int(session.execute(statement).scalar_one())


def read_all(engine: Engine) -> dict[str, int]:
    """Every counter's value through a pooled connection, without an ORM session.

    Every match request asks this once, so it skips the session machinery.
    """
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT name, value FROM counter").all()
    return {str(name): int(value) for name, value in rows}


_READ_ALL = "SELECT name, value FROM counter"


class RevisionReader:
    """``read_all`` on a connection of each thread's own, kept open: one round trip a read.

    Every match asks for the revisions. Through the pool that is a checkout, a liveness ping
    (PostgreSQL), the query and a rollback on return: about 0.4 ms on PostgreSQL against
    0.03 ms for the query alone. The connection here is detached from the pool and reads in
    autocommit, so it never holds a transaction open; a forked process opens its own, and a
    failed read drops the connection and asks through the pool instead (which reconnects).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        # (process, connection) of every thread's connection: closed with the reader, each by
        # the process that opened it (a forked child only forgets its parent's).
        self._opened: list[tuple[int, Any]] = []
        weakref.finalize(self, _close_each, self._opened)

    def read(self) -> dict[str, int]:
        """Every counter's value."""
        connection = self._connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(_READ_ALL)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        except Exception:  # a lost connection (a database restart): start over through the pool
            self._drop()
            return read_all(self.engine)
        return {str(name): int(value) for name, value in rows}

    def _connection(self) -> Any:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # new thread, or forked: never share
            pooled = self.engine.raw_connection()
            connection = pooled.driver_connection
            pooled.detach()  # the pool forgets it: this thread keeps it
            if self.engine.dialect.name == "postgresql":
                connection.autocommit = True  # type: ignore[union-attr]
            local.connection, local.pid = connection, os.getpid()
            self._opened.append((os.getpid(), connection))
        return local.connection

    def close(self) -> None:
        """Close the calling thread's connection (a later read opens another)."""
        self._drop()

    def _drop(self) -> None:
        local = self._local
        connection, local.connection, local.pid = getattr(local, "connection", None), None, None
        if connection is not None:
            mine = (os.getpid(), connection)
            with contextlib.suppress(ValueError):
                self._opened.remove(mine)
            _close_each([mine])


def _close_each(opened: list[tuple[int, Any]]) -> None:
    """Close the connections this process opened, whatever state they are in."""
    for pid, connection in opened:
        if pid == os.getpid():
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                connection.close()
