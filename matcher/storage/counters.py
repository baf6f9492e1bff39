"""Named monotonic counters: the directory and model revisions every worker polls."""

from __future__ import annotations

from sqlalchemy import update
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


def read_all(engine: Engine) -> dict[str, int]:
    """Every counter's value through a pooled connection, without an ORM session.

    Every match request asks this once, so it skips the session machinery.
    """
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT name, value FROM counter").all()
    return {str(name): int(value) for name, value in rows}
