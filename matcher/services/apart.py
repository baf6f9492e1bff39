"""The first index build in a forked child: its scratch heap leaves with the child.

A build parses every profile and encodes it in chunks; the heap it uses and frees stays with
the process that ran it (glibc and Python's allocator keep most of it), so a server that built
in its master process kept about 200 MB it would never use again at 100,000 therapists, and
every worker forked from it shared that. Built in a child, only the finished arrays come back
(through a pipe) and are laid out afresh in the master.
"""

from __future__ import annotations

import multiprocessing
import traceback
from multiprocessing.connection import Connection

from matcher.core.scoring import TherapistIndex
from matcher.storage import therapists as stored
from matcher.storage.database import Database


def _build_and_send(db: Database, out: Connection) -> None:
    """In the child: build from the database and send the index's parts (or the error)."""
    try:
        db.dispose()  # the parent's pooled connections stay the parent's
        with db.session() as session:
            index = TherapistIndex.build(stored.active_profiles(session))
        out.send(("ok", index.parts()))
    except BaseException:  # whatever failed is reported to the parent
        out.send(("error", traceback.format_exc()))
    finally:
        out.close()


def build_apart(db: Database) -> TherapistIndex:
    """Every active therapist's index, built in a forked child and received whole."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_build_and_send, args=(db, send), daemon=True)
    child.start()
    send.close()
    try:
        status, payload = receive.recv()
    except EOFError:
        status, payload = "error", "the build process ended without an answer"
    finally:
        receive.close()
        child.join()
    if status != "ok":
        raise RuntimeError(f"Building the matching index failed:\n{payload}")
    return TherapistIndex.from_parts(*payload)
