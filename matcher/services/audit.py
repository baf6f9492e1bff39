"""The audit log: every change an admin makes, who made it, when, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from matcher.storage import model_versions as stored
from matcher.storage.tables import AuditEvent

__all__ = ["PUBLISHING", "AuditEvent", "AuditPage", "kinds", "published", "record", "search"]


@dataclass(frozen=True)
class AuditPage:
    """One page of audit events, newest first, and how many match in all."""

    events: list[AuditEvent]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages the matching events fill (at least one)."""
        return max(1, -(-self.total // self.page_size))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (so it is kept only if the change is)."""
    return stored.audit(
        session, actor=actor, action=action, subject=subject, note=note, details=details
    )


def search(
    session: Session,
    *,
    actions: Sequence[str] = (),
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> AuditPage:
    """Events of the given kinds (about ``subject``) from ``since`` up to ``until``, by page."""
    events, total = stored.audit_page(
        session,
        actions=actions,
        subject=subject,
        since=since,
        until=until,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return AuditPage(events=events, total=total, page=page, page_size=page_size)


def kinds(session: Session) -> list[str]:
    """Every kind of action recorded so far."""
    return stored.audit_actions(session)


def published(session: Session, *, version: int) -> AuditEvent | None:
    """The latest event that put model ``version`` in force (None for the first default)."""
    found = search(
        session, actions=PUBLISHING, subject=f"model:{version}", page=1, page_size=1
    ).events
    return found[0] if found else None


PUBLISHING = ("model.activate", "model.rollback")
