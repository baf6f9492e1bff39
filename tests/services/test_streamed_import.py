"""An import written as its blocks are checked: the upsert's rows, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import select

from matcher.services import directory
from matcher.services.errors import Invalid
from matcher.services.streamed_import import write_checked
from matcher.storage import counters
from matcher.storage import therapists as stored
from matcher.storage.database import Database
from matcher.storage.tables import Counter
from tests.storage.test_therapists import COUNT, _check_written, _profiles, _stored, _write

Profile = Callable[..., dict[str, Any]]


def _blocks(rows: Sequence[stored.Row], size: int = 70) -> Iterator[list[stored.Row]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


def _revision(db: Database) -> int:
    with db.session() as session:
        return session.execute(
            select(Counter.value).where(Counter.name == counters.DIRECTORY)
        ).scalar_one()


@pytest.mark.parametrize(
    "stored_first",
    [slice(0), slice(None, None, 2), slice(COUNT - 3, None)],
    ids=["all-new", "every-other-stored", "stored-in-the-last-block"],
)
def test_rows_written_as_checked_are_what_the_upsert_writes(
    db_url: str, make_profile: Profile, stored_first: slice
) -> None:
    """PostgreSQL copies new profiles straight in; a stored id, first or last, undoes that and
    every row goes the staged way. SQLite stages them all. One result either way."""
    db = Database(db_url)
    profiles = _profiles(make_profile, accepting=False)
    earlier = profiles[stored_first]
    if earlier:
        _write(db, earlier, one_by_one=False)
    before, revision = _stored(db), _revision(db)
    imported = write_checked(db, _blocks(stored.prepare(profiles).rows))
    assert (imported.created, imported.updated) == (COUNT - len(earlier), len(earlier))
    assert imported.held > 0
    assert _revision(db) == revision + 1
    _check_written(db, profiles, before)
    db.close()


@pytest.mark.parametrize("stored_first", [False, True], ids=["all-new", "some-stored"])
def test_a_refusal_after_rows_were_written_changes_nothing(
    db_url: str, make_profile: Profile, stored_first: bool
) -> None:
    db = Database(db_url)
    profiles = _profiles(make_profile, accepting=True)
    if stored_first:
        _write(db, profiles[:5], one_by_one=False)
    before, revision = _stored(db), _revision(db)
    rows = stored.prepare(profiles).rows

    def refused_after_some() -> Iterator[list[stored.Row]]:
        yield from _blocks(rows[:400])
        raise Invalid("1 of 600 records are invalid; nothing imported.", {})

    with pytest.raises(Invalid):
        write_checked(db, refused_after_some())
    after = _stored(db)
    assert after.keys() == before.keys()
    assert all(after[key].updated_at == before[key].updated_at for key in before)
    assert _revision(db) == revision
    if db.is_sqlite:  # the staged rows went with the refusal (the pool gives the same one back)
        with db.engine.connect() as connection:
            left = connection.exec_driver_sql("SELECT count(*) FROM sqlite_temp_master")
            assert left.scalar_one() == 0
    # and the next import goes through
    assert write_checked(db, _blocks(rows)).created == COUNT - len(before)
    db.close()


def test_other_directory_writers_do_not_wait_for_the_checking(
    db_url: str, make_profile: Profile
) -> None:
    """A profile written between two blocks goes through at once (PostgreSQL: a 1 s lock
    timeout; SQLite: the lock is free), and the import's rows come after it in revision."""
    db, other = Database(db_url), Database(db_url)
    profiles = _profiles(make_profile, accepting=True)
    rows = stored.prepare(profiles).rows
    written: list[int] = []

    def blocks() -> Iterator[list[stored.Row]]:
        for block in _blocks(rows, 100):
            yield block
            with other.transaction() as session:
                if not other.is_sqlite:
                    session.connection().exec_driver_sql("SET LOCAL lock_timeout = '1s'")
                directory.upsert_profile(session, profile=make_profile(id=f"w-{len(written)}"))
            written.append(_revision(other))

    assert write_checked(db, blocks()).created == COUNT
    assert len(written) == COUNT // 100 and written == sorted(written)
    stamped = _stored(db)
    assert {stamped[profile["id"]].revision for profile in profiles} == {written[-1] + 1}
    assert _revision(db) == written[-1] + 1
    other.close()
    db.close()
