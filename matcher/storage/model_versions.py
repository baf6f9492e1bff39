"""Queries on model versions and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session, col

from matcher.storage.tables import AuditEvent, ModelVersion
from matcher.storage.types import utcnow


def all_versions(session: Session) -> list[ModelVersion]:
    """Every version, newest first."""
    return list(
        session.execute(select(ModelVersion).order_by(col(ModelVersion.version).desc())).scalars()
    )


def get(session: Session, *, version: int) -> ModelVersion | None:
    """One version."""
    return session.get(ModelVersion, version)


def active(session: Session) -> ModelVersion | None:
    """The version every match uses."""
    return session.execute(
        select(ModelVersion).where(col(ModelVersion.status) == "active")
    ).scalar_one_or_none()


def next_version(session: Session) -> int:
    """The number the next version gets."""
    newest = session.execute(select(func.max(col(ModelVersion.version)))).scalar_one()
    return int(newest or 0) + 1


def add(session: Session, *, model: ModelVersion) -> ModelVersion:
    """Store a new version."""
    session.add(model)
    session.flush()
    return model


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the audit log."""
    event = AuditEvent(
        at=utcnow(), actor=actor, action=action, subject=subject, note=note, details=details or {}
    )
    session.add(event)
    return event


def audit_events(session: Session, *, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
    """The newest audit events first."""
    return list(
        session.execute(
            select(AuditEvent).order_by(col(AuditEvent.id).desc()).offset(offset).limit(limit)
        ).scalars()
    )


def audit_page(
    session: Session,
    *,
    actions: Sequence[str] = (),
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AuditEvent], int]:
    """Audit events newest first, narrowed by action, subject and time (``until`` excluded)."""
    conditions: list[ColumnElement[bool]] = []
    if actions:
        conditions.append(col(AuditEvent.action).in_(list(actions)))
    if subject is not None:
        conditions.append(col(AuditEvent.subject) == subject)
    if since is not None:
        conditions.append(col(AuditEvent.at) >= since)
    if until is not None:
        conditions.append(col(AuditEvent.at) < until)
    total = session.execute(
        select(func.count()).select_from(AuditEvent).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        select(AuditEvent)
        .where(*conditions)
        .order_by(col(AuditEvent.id).desc())
        .offset(offset)
        .limit(limit)
    ).scalars()
    return list(rows), int(total)


def audit_actions(session: Session) -> list[str]:
    """Every kind of action the audit log holds, in name order."""
    query = select(col(AuditEvent.action)).distinct().order_by(col(AuditEvent.action))
    return [str(action) for action in session.execute(query).scalars()]
