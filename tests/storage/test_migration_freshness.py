"""Migration 0009: a profile last written saying "accepting" counts as confirmed then."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from matcher.storage.database import Database
from matcher.storage.schema import upgrade
from matcher.storage.tables import Therapist


def test_accepting_profiles_were_confirmed_when_last_written(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/old.sqlite3")
    upgrade(db, "0007")
    with db.engine.begin() as conn:
        for therapist_id, accepting in (("t-yes", 1), ("t-no", 0)):
            conn.execute(
                text(
                    "INSERT INTO therapist (id, name, active, accepting_new_clients, capacity,"
                    " profile, revision, created_at, updated_at)"
                    " VALUES (:id, 'A', 1, :accepting, 2, '{}', 1, :made, :written)"
                ),
                {
                    "id": therapist_id,
                    "accepting": accepting,
                    "made": "2026-01-01 00:00:00",
                    "written": "2026-10-02 08:30:00",
                },
            )
    upgrade(db)
    with db.session() as session:
        yes, no = session.get(Therapist, "t-yes"), session.get(Therapist, "t-no")
        assert yes is not None and no is not None
        assert yes.accepting_confirmed_at == datetime(2026, 10, 2, 8, 30, tzinfo=UTC)
        assert no.accepting_confirmed_at is None
        assert yes.document()["accepting_confirmed_at"] == yes.accepting_confirmed_at
    db.engine.dispose()
