"""Schema changes through Alembic, the only way the schema is made or changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from matcher.storage.database import Database

SCRIPT_LOCATION = "matcher.storage:migrations"
# PostgreSQL advisory lock key held while a process migrates (any constant; "matcher" in ASCII).
SCHEMA_LOCK_KEY = 0x6D617463686572


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate ``db`` to ``revision`` (the newest by default)."""
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def schema_lock(db: Database) -> Iterator[None]:
    """Hold the schema lock: hosts starting together migrate one after another.

    On PostgreSQL, a session advisory lock; on SQLite nothing (its writers already queue).
    """
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
            connection.commit()


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision the code knows."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def is_current(db: Database) -> bool:
    """Whether ``db`` is migrated to the newest revision."""
    return current_revision(db) == head_revision()
