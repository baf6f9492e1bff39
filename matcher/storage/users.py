"""Queries on the people who sign in."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session, col

from matcher.storage.tables import User


def by_email(session: Session, *, email: str) -> User | None:
    """The user with this email (stored lowercased), active or not."""
    return session.execute(
        select(User).where(col(User.email) == email.strip().lower())
    ).scalar_one_or_none()


def get(session: Session, *, user_id: str) -> User | None:
    """One user by id."""
    return session.get(User, user_id)


def all_users(session: Session) -> list[User]:
    """Every user, by email."""
    return list(session.execute(select(User).order_by(col(User.email))).scalars())


def count_with_role(session: Session, *, role: str, organisation_id: str | None = None) -> int:
    """How many active users have ``role`` (in one organisation, when given)."""
    query = (
        select(func.count())
        .select_from(User)
        .where(col(User.role) == role, col(User.active).is_(True))
    )
    if organisation_id is not None:
        query = query.where(col(User.organisation_id) == organisation_id)
    return int(session.execute(query).scalar_one())
