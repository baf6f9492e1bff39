"""Queries on organisations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlmodel import Session, col

from matcher.storage.tables import Organisation


def add(session: Session, *, organisation: Organisation) -> Organisation:
    """Store a new organisation."""
    session.add(organisation)
    return organisation


def get(session: Session, *, organisation_id: str) -> Organisation | None:
    """One organisation by id."""
    return session.get(Organisation, organisation_id)


def by_name(session: Session, *, name: str) -> Organisation | None:
    """The organisation with this name (names are unique, compared as stored)."""
    return session.execute(
        select(Organisation).where(col(Organisation.name) == name)
    ).scalar_one_or_none()


def all_organisations(session: Session) -> list[Organisation]:
    """Every organisation, by name."""
    return list(session.execute(select(Organisation).order_by(col(Organisation.name))).scalars())


def within(column: Any, organisation_id: str | None) -> ColumnElement[bool]:
    """A condition keeping rows of one organisation (None: every organisation's rows)."""
    if organisation_id is None:
        return true()
    condition: ColumnElement[bool] = column == organisation_id
    return condition
