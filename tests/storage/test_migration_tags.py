"""Migration 0011: the tag rows of each profile become its tags column, and back."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from sqlalchemy import text

from matcher.storage.database import Database
from matcher.storage.schema import alembic_config, upgrade
from matcher.storage.therapists import TherapistFilter, page
from matcher.storage.therapists import tag_text as current_tag_text

PROFILE = {
    "id": "t-1",
    "licenses": [{"jurisdiction": "US-CA", "credential": "LMFT"}],
    "languages": ["en", "es"],
    "modalities": ["cbt"],
    "concerns": ["anxiety"],
    "populations": [],
    "formats": ["video"],
}


def _old_database(tmp_path: Path) -> Database:
    """A database at 0010 with one profile and its tag rows, as 0010 wrote them."""
    db = Database(f"sqlite:///{tmp_path}/old.sqlite3")
    upgrade(db, "0010")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO therapist (id, name, active, accepting_new_clients, capacity,"
                " profile, revision, created_at, updated_at)"
                " VALUES ('t-1', 'A', 1, 1, 2, :profile, 1, :now, :now)"
            ),
            {"profile": json.dumps(PROFILE), "now": "2026-11-01 00:00:00"},
        )
        for kind, code in [
            ("jurisdiction", "US-CA"),
            ("language", "en"),
            ("language", "es"),
            ("modality", "cbt"),
            ("concern", "anxiety"),
            ("format", "video"),
        ]:
            conn.execute(
                text("INSERT INTO therapist_tag VALUES ('t-1', :kind, :code)"),
                {"kind": kind, "code": code},
            )
    return db


def test_tag_rows_become_the_tags_column(tmp_path: Path) -> None:
    db = _old_database(tmp_path)
    upgrade(db)
    with db.session() as session:
        stored = session.execute(text("SELECT tags FROM therapist")).scalar_one()
        assert stored == current_tag_text(PROFILE)
        for where, found in [
            (TherapistFilter(language="es"), 1),
            (TherapistFilter(language="fr"), 0),
            (TherapistFilter(jurisdiction="US-CA", modality="cbt"), 1),
            (TherapistFilter(jurisdiction="US-NY"), 0),
        ]:
            assert page(session, where=where, page=1, page_size=10)[1] == found
        tables = session.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        assert "therapist_tag" not in set(tables.scalars())
    db.engine.dispose()


def test_downgrade_gives_the_tag_rows_back(tmp_path: Path) -> None:
    db = _old_database(tmp_path)
    with db.engine.connect() as conn:
        before = sorted(conn.execute(text("SELECT * FROM therapist_tag")).all())
    upgrade(db)
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    with db.engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT * FROM therapist_tag")).all()) == before
    db.engine.dispose()
