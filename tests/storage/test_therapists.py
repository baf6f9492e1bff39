"""Bulk writes of profiles: one row per profile, the same result whichever path writes it."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from matcher.lab.synthetic import generate_profiles
from matcher.services import directory
from matcher.storage import therapists
from matcher.storage.database import Database
from matcher.storage.schema import upgrade
from matcher.storage.tables import Therapist
from matcher.storage.therapists import TherapistFilter

Profile = Callable[..., dict[str, Any]]
COUNT = 600  # above therapists._COPY_FROM: PostgreSQL takes the batch by COPY


def _profiles(make_profile: Profile, *, accepting: bool) -> list[dict[str, Any]]:
    return [
        make_profile(
            id=f"t-{n:04d}",
            name=f"Therapist {n}",
            languages=["en", "es"] if n % 3 == 0 else ["en"],
            accepting_new_clients=accepting or n % 2 == 0,
            capacity=n % 4,
        )
        for n in range(COUNT)
    ]


def _write(db: Database, profiles: list[dict[str, Any]], *, one_by_one: bool) -> tuple[int, int]:
    """Write ``profiles`` as one import, or one upsert each (as PUT does)."""
    batches = [[p] for p in profiles] if one_by_one else [profiles]
    created = updated = 0
    for batch in batches:
        with db.transaction() as session:
            made, replaced = directory.import_profiles(session, profiles=batch)
        created, updated = created + made, updated + replaced
    return created, updated


@pytest.mark.parametrize("one_by_one", [False, True], ids=["bulk", "one-by-one"])
def test_a_rewrite_keeps_what_the_profile_does_not_say(
    db_url: str, make_profile: Profile, one_by_one: bool
) -> None:
    db = Database(db_url)
    assert _write(db, _profiles(make_profile, accepting=True), one_by_one=one_by_one) == (
        COUNT,
        0,
    )
    answered = datetime(2026, 11, 1, tzinfo=UTC)
    full_until = datetime.now(UTC) + timedelta(days=30)
    with db.transaction() as session:
        session.execute(
            update(Therapist).values(availability_answered_at=answered, full_until=full_until)
        )
        therapist = session.get(Therapist, "t-0001")
        assert therapist is not None
        therapists.deactivate(session, therapist=therapist, revision=1, now=answered)
    with db.session() as session:
        first = {t.id: t for t in session.execute(select(Therapist)).scalars()}
    # Written again: odd numbers now say "not accepting".
    assert _write(db, _profiles(make_profile, accepting=False), one_by_one=one_by_one) == (
        0,
        COUNT,
    )
    with db.session() as session:
        again = {t.id: t for t in session.execute(select(Therapist)).scalars()}
        es = TherapistFilter(language="es")
        assert therapists.page(session, where=es, page=1, page_size=1)[1] == COUNT // 3
        assert therapists.count_active(session) == COUNT  # t-0001 reactivated
    for n in range(COUNT):
        before, after = first[f"t-{n:04d}"], again[f"t-{n:04d}"]
        assert after.active and after.deactivated_at is None
        assert after.created_at == before.created_at
        assert after.availability_answered_at == answered  # a used link stays used
        assert (
            after.capacity == n % 4 and after.document()["languages"] == before.profile["languages"]
        )
        if n % 2 == 0:  # said "accepting" again: confirmed at this write, "full until" cleared
            assert after.accepting_confirmed_at is not None
            assert after.accepting_confirmed_at > before.accepting_confirmed_at
            assert after.full_until is None
        else:  # said "not accepting": the last confirmation and "full until" stay
            assert after.accepting_confirmed_at == before.accepting_confirmed_at
            assert after.full_until == full_until
    db.close()


def test_a_list_filters_on_a_whole_code(db_url: str, make_profile: Profile) -> None:
    """A code is matched whole, within its kind: "en" is not found in "eng", nor a kind's
    code under another kind."""
    db = Database(db_url)
    with db.transaction() as session:
        directory.import_profiles(
            session,
            profiles=[
                make_profile(id="t-a", languages=["en"], concerns=["anxiety"]),
                make_profile(id="t-b", languages=["es"], concerns=["depression"]),
            ],
        )
    with db.session() as session:
        for where, ids in [
            (TherapistFilter(language="en"), ["t-a"]),
            (TherapistFilter(language="e"), []),
            (TherapistFilter(concern="depression"), ["t-b"]),
            (TherapistFilter(language="depression"), []),
            (TherapistFilter(language="es", concern="depression"), ["t-b"]),
            (TherapistFilter(language="es", concern="anxiety"), []),
        ]:
            found, total = therapists.page(session, where=where, page=1, page_size=10)
            assert [t.id for t in found] == ids and total == len(ids), where
    db.close()


def test_other_writers_get_their_turn_during_a_large_import(tmp_path: Path) -> None:
    """Issue 11: a 60,000-profile import held SQLite's write lock for 92 s and writers waiting
    past their timeout failed with "database is locked". Writers waiting at most 5 s (half the
    service's timeout) now all get through while 30,000 profiles are written."""
    url = f"sqlite:///{tmp_path}/import.sqlite3"
    db = Database(url)
    upgrade(db)
    batch = therapists.prepare(generate_profiles(30_000, seed=3))
    stop, failures, writes = threading.Event(), [], []

    def write() -> None:
        connection = sqlite3.connect(f"{tmp_path}/import.sqlite3", timeout=5, isolation_level=None)
        while not stop.is_set():
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("UPDATE counter SET value = value WHERE name = 'models'")
                connection.execute("COMMIT")
                writes.append(1)
            except sqlite3.OperationalError as err:
                failures.append(str(err))
            time.sleep(0.005)
        connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.05)
        with db.transaction() as session:
            assert directory.import_profiles(session, profiles=batch) == (30_000, 0)
        time.sleep(0.05)
    finally:
        stop.set()
        writer.join()
    assert failures == [] and writes
    db.close()


def _stored(db: Database) -> dict[str, Therapist]:
    with db.session() as session:
        return {t.id: t for t in session.execute(select(Therapist)).scalars()}


def _check_written(db: Database, profiles: list[dict[str, Any]], before: dict[str, Any]) -> None:
    """Each profile stored as written by one import, what was stored before kept where it is."""
    validated = directory.validate_records(profiles)
    after = _stored(db)
    stamps = {t.updated_at for t in after.values()}
    assert len(stamps) == 1 and len({t.revision for t in after.values()}) == 1  # one write
    for profile in validated:
        row, old = after[profile["id"]], before.get(profile["id"])
        assert row.active and row.deactivated_at is None and row.full_until is None
        document = row.document()
        assert document.pop("accepting_confirmed_at") == row.accepting_confirmed_at
        assert document == profile
        assert row.tags == therapists.tag_text(profile)
        assert row.created_at == (old.created_at if old else row.updated_at)
        confirmed = row.updated_at if row.accepting_new_clients else None
        assert row.accepting_confirmed_at == confirmed


def test_an_import_of_new_and_stored_profiles_writes_each_as_the_upsert_says(
    db_url: str, make_profile: Profile
) -> None:
    """On PostgreSQL new profiles are copied straight in and stored ones staged: one result."""
    db = Database(db_url)
    profiles = _profiles(make_profile, accepting=False)
    assert _write(db, profiles[::2], one_by_one=False) == (COUNT // 2, 0)
    before = _stored(db)
    assert _write(db, profiles, one_by_one=False) == (COUNT // 2, COUNT // 2)
    _check_written(db, profiles, before)
    db.close()


def test_a_profile_stored_meanwhile_is_replaced_not_refused(
    db_url: str, make_profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An id stored by another writer after the import looked (here: looked and saw none)."""
    db = Database(db_url)
    profiles = _profiles(make_profile, accepting=False)
    _write(db, profiles[:3], one_by_one=True)
    before = _stored(db)
    monkeypatch.setattr(therapists, "existing_ids", lambda session, ids: set())
    assert _write(db, profiles, one_by_one=False) == (COUNT, 0)  # what it saw
    _check_written(db, profiles, before)
    db.close()


def test_the_tags_column_names_every_code_once_between_bars() -> None:
    profile = {
        "licenses": [{"jurisdiction": "US-CA"}, {"jurisdiction": "US-NY"}],
        "languages": ["en", "es"],
        "modalities": ["cbt"],
        "concerns": [],
        "formats": ["video"],
    }
    assert therapists.tag_text(profile) == (
        "|jurisdiction:US-CA|jurisdiction:US-NY|language:en|language:es|modality:cbt|format:video|"
    )
    assert therapists.tag_text({"licenses": [], "languages": []}) == "|"
