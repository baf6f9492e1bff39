"""Alembic migrations and the table models agree: no drift, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from matcher.storage import tables  # noqa: F401  (registers the models)
from matcher.storage.database import Database
from matcher.storage.schema import current_revision, head_revision, upgrade


def test_migrations_match_models(db_url: str) -> None:
    db = Database(db_url)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    db.engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent_and_reaches_head(db_url: str) -> None:
    db = Database(db_url)
    upgrade(db)
    upgrade(db)
    assert current_revision(db) == head_revision()
    db.engine.dispose()


def test_upgrade_from_empty(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/fresh.sqlite3")
    assert current_revision(db) is None
    upgrade(db)
    assert current_revision(db) == head_revision()
    db.engine.dispose()
