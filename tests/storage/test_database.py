"""SQLite runs in WAL mode with foreign keys; writes are all-or-nothing."""

from __future__ import annotations

import pytest

from matcher.storage import counters
from matcher.storage.database import Database


def test_sqlite_pragmas(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_failed_transaction_changes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        counters.bump(session, name=counters.DIRECTORY)
        raise RuntimeError("boom")
    assert counters.read_all(db.engine)[counters.DIRECTORY] == 0


def test_counter_bumps_are_sequential(db: Database) -> None:
    models_before = counters.read_all(db.engine)[counters.MODELS]
    values = []
    for _ in range(3):
        with db.transaction() as session:
            values.append(counters.bump(session, name=counters.DIRECTORY))
    assert values == [1, 2, 3]
    assert counters.read_all(db.engine)[counters.MODELS] == models_before
