"""Rows staged while an import is checked hold no lock on SQLite; its write comes after."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from matcher.services.streamed_import import write_checked
from matcher.storage import therapists as stored
from matcher.storage.database import Database
from matcher.storage.schema import upgrade
from tests.storage.test_therapists import COUNT, _check_written, _profiles, _stored

Profile = Callable[..., dict[str, Any]]


def test_other_writers_are_not_held_while_rows_are_staged(
    tmp_path: Path, make_profile: Profile
) -> None:
    """Another writer commits between the blocks with no wait (a 0.1 s timeout, where the
    import's lock would hold it until the import ends), and the import's revision is after."""
    path = tmp_path / "staged.sqlite3"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    profiles = _profiles(make_profile, accepting=True)
    rows = stored.prepare(profiles).rows
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    revisions: list[int] = []

    def blocks() -> Iterator[list[stored.Row]]:
        for start in range(0, COUNT, 100):
            yield rows[start : start + 100]
            other.execute("BEGIN IMMEDIATE")  # "database is locked" after 0.1 s if held
            bumped = "UPDATE counter SET value = value + 1 WHERE name = 'directory' RETURNING value"
            revisions.append(other.execute(bumped).fetchone()[0])
            other.execute("COMMIT")

    imported = write_checked(db, blocks())
    assert (imported.created, imported.updated) == (COUNT, 0)
    assert len(revisions) == COUNT // 100
    assert {t.revision for t in _stored(db).values()} == {revisions[-1] + 1}
    _check_written(db, profiles, {})
    other.close()
    db.close()
