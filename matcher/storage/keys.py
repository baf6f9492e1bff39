"""Queries on API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session, col

from matcher.storage.tables import ApiKey


def add(session: Session, *, key: ApiKey) -> ApiKey:
    """Store a new key record."""
    session.add(key)
    return key


def by_digest(session: Session, *, digest: str) -> ApiKey | None:
    """The unrevoked key with this digest, if any."""
    return session.execute(
        select(ApiKey).where(col(ApiKey.digest) == digest, col(ApiKey.revoked_at).is_(None))
    ).scalar_one_or_none()


def all_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first."""
    return list(session.execute(select(ApiKey).order_by(col(ApiKey.created_at))).scalars())


def touch(session: Session, *, key_id: str, at: datetime) -> None:
    """Set a key's last use."""
    session.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=at))
