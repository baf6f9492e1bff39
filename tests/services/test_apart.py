"""The first index build in a forked child gives the index a build in the process gives."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.core.scoring import TherapistIndex
from matcher.services.apart import build_apart
from matcher.services.matching import MatchService
from matcher.storage import therapists as stored
from matcher.storage.database import Database


def test_the_child_builds_the_index_the_process_would(demo_db_url: str) -> None:
    db = Database(demo_db_url)
    try:
        with db.session() as session:
            here = TherapistIndex.build(stored.active_profiles(session))
        there = build_apart(db)
        assert len(there) == len(here) > 1000
        assert dict(there.rows) == dict(here.rows)
        assert {k: list(t.codes) for k, t in there.tables.items()} == {
            k: list(t.codes) for k, t in here.tables.items()
        }
        for name, column in here.columns.items():
            assert np.array_equal(there.columns[name], column, equal_nan=column.dtype.kind == "f")
        assert {k: v.tolist() for k, v in there.open_postings.items()} == {
            k: v.tolist() for k, v in here.open_postings.items()
        }
        # The parent's own connections still work after the child used the database.
        with db.session() as session:
            assert sum(1 for _ in stored.active_profiles(session)) == len(here)
    finally:
        db.close()


def test_a_server_snapshot_built_apart_matches_like_one_built_here(demo_db_url: str) -> None:
    db = Database(demo_db_url)
    try:
        apart, here = MatchService(db), MatchService(db)
        apart.build_apart = True
        intake = {"jurisdiction": "US-CA", "languages": ["es"], "formats": ["video"]}
        assert apart.match(intake)[0] == here.match(intake)[0]
    finally:
        db.close()


def test_a_failed_build_is_reported_with_its_cause(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/empty.sqlite3")  # never migrated: no therapist table
    try:
        with pytest.raises(RuntimeError, match="no such table"):
            build_apart(db)
    finally:
        db.close()
