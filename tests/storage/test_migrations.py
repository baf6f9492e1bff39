"""Alembic migrations and the table models agree: no drift, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from matcher.storage import tables  # noqa: F401  (registers the models)
from matcher.storage.database import Database
from matcher.storage.schema import current_revision, head_revision, upgrade
from matcher.storage.tables import Therapist


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


def test_capacity_leaves_the_profile_document(tmp_path: object) -> None:
    """0005: a profile stored with its capacity inside keeps it only in the column."""
    db = Database(f"sqlite:///{tmp_path}/old.sqlite3")
    upgrade(db, "0004")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO therapist (id, name, active, accepting_new_clients, capacity,"
                " profile, revision, created_at, updated_at)"
                " VALUES ('t-1', 'A', 1, 1, 2, :profile, 1, :now, :now)"
            ),
            {"profile": json.dumps({"id": "t-1", "capacity": 5}), "now": "2026-11-01 00:00:00"},
        )
    upgrade(db)
    with db.session() as session:
        row = session.get(Therapist, "t-1")
        assert row is not None
        assert "capacity" not in row.profile
        assert row.document()["capacity"] == 2  # the column, which referrals decrement
    db.engine.dispose()
