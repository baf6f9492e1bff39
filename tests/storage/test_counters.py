"""The revision reader: every read sees the last commit, on its own connection, and recovers."""

from __future__ import annotations

import os

from matcher.storage import counters
from matcher.storage.database import Database


def _bump(db: Database, name: str) -> int:
    with db.transaction() as session:
        return counters.bump(session, name=name)


def test_every_read_sees_what_was_committed_since(db_url: str) -> None:
    db = Database(db_url)
    reader = counters.RevisionReader(db.engine)
    try:
        assert reader.read() == counters.read_all(db.engine)
        for expected in (1, 2, 3):
            assert _bump(db, counters.DIRECTORY) == expected
            assert reader.read()[counters.DIRECTORY] == expected
        # The reader holds no transaction open: a writer is not kept waiting by it.
        assert _bump(db, counters.MODELS) == reader.read()[counters.MODELS]
    finally:
        reader.close()
        db.close()


def test_a_lost_connection_is_replaced_and_the_read_still_answers(db_url: str) -> None:
    db = Database(db_url)
    reader = counters.RevisionReader(db.engine)
    try:
        reader.read()
        reader._local.connection.close()  # as a database restart would leave it
        _bump(db, counters.DIRECTORY)
        assert reader.read()[counters.DIRECTORY] == 1  # answered through the pool
        assert reader.read()[counters.DIRECTORY] == 1  # and on a new connection of its own
        assert reader._local.pid == os.getpid()
    finally:
        reader.close()
        db.close()


def test_a_forked_process_reads_on_a_connection_of_its_own(db_url: str) -> None:
    db = Database(db_url)
    reader = counters.RevisionReader(db.engine)
    try:
        reader.read()
        parent_connection = reader._local.connection
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its reads must not go through the parent's connection
            try:
                db.dispose()
                ok = reader.read() == counters.read_all(db.engine)
                ok = ok and reader._local.connection is not parent_connection
                os.write(write, b"1" if ok else b"0")
            finally:
                os._exit(0)
        os.close(write)
        answer = os.read(read, 1)
        os.waitpid(pid, 0)
        assert answer == b"1"
        assert reader._local.connection is parent_connection
        assert reader.read() == counters.read_all(db.engine)
    finally:
        reader.close()
        db.close()
