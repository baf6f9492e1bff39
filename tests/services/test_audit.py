"""The audit log's search: by kind, by subject, by time, a page at a time."""

from __future__ import annotations

from datetime import timedelta

from matcher.services import audit
from matcher.storage.database import Database
from matcher.storage.types import utcnow


def test_events_are_found_by_kind_and_time_newest_first_in_pages(db: Database) -> None:
    with db.transaction() as session:
        for n in range(5):
            audit.record(
                session, actor="user:u-1 (a@x.org)", action="key.create", subject=f"key:k-{n}"
            )
        audit.record(session, actor="user:u-1 (a@x.org)", action="user.create", subject="user:u-2")
    with db.session() as session:
        keys = audit.search(session, actions=["key.create"], page=1, page_size=2)
        assert keys.total == 5 and keys.pages == 3
        assert [e.subject for e in keys.events] == ["key:k-4", "key:k-3"]
        last = audit.search(session, actions=["key.create"], page=3, page_size=2)
        assert [e.subject for e in last.events] == ["key:k-0"]
        assert "user.create" in audit.kinds(session) and "model.create" in audit.kinds(session)
        later = audit.search(session, since=utcnow() + timedelta(minutes=1))
        assert later.total == 0
        one = audit.search(session, subject="user:u-2")
        assert [e.action for e in one.events] == ["user.create"]
        assert audit.published(session, version=1) is None  # the default was never "published"
