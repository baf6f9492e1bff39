"""Organisations: who owns which keys, people and client records.

Keys and people belong to one organisation. Recorded matches, referrals, ratings, urgent cases
and alerts are seen and changed only within the organisation of the key or person asking. The
service's admins see every organisation's records: an ``admin`` key, or a person with the admin
role, in the default organisation (the one migration 0008 creates). Therapist profiles and
models are the service's, one for all.
"""

from __future__ import annotations

import re
import secrets

from sqlmodel import Session

from matcher.services.errors import Conflict, Invalid
from matcher.storage import organisations as stored
from matcher.storage.tables import DEFAULT_ORGANISATION, Organisation
from matcher.storage.types import utcnow

__all__ = [
    "DEFAULT_ORGANISATION",
    "Organisation",
    "check_organisation",
    "create_organisation",
    "find_organisation",
    "list_organisations",
    "reach",
]

NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def create_organisation(session: Session, *, name: str) -> Organisation:
    """Add an organisation; Conflict when the name is taken."""
    cleaned = name.strip()
    if not NAME.match(cleaned):
        raise Invalid(
            "Name the organisation in 1-100 printable characters.", {"name": ["Not valid."]}
        )
    if stored.by_name(session, name=cleaned) is not None:
        raise Conflict(f"An organisation named {cleaned!r} exists.", {"name": ["Taken."]})
    organisation = Organisation(id="o-" + secrets.token_hex(6), name=cleaned, created_at=utcnow())
    return stored.add(session, organisation=organisation)


def list_organisations(session: Session) -> list[Organisation]:
    """Every organisation, by name."""
    return stored.all_organisations(session)


def find_organisation(session: Session, *, name_or_id: str | None) -> Organisation:
    """The organisation with this id or name (the default one when none is given)."""
    wanted = (name_or_id or DEFAULT_ORGANISATION).strip()
    found = stored.get(session, organisation_id=wanted) or stored.by_name(session, name=wanted)
    if found is None:
        raise Invalid(f"No organisation {wanted!r}.", {"organisation": ["Unknown organisation."]})
    return found


def check_organisation(session: Session, organisation_id: str) -> str:
    """An existing organisation's id (Invalid, naming ``organisation``, when there is none)."""
    if stored.get(session, organisation_id=organisation_id) is None:
        raise Invalid(
            f"No organisation {organisation_id!r}.", {"organisation": ["Unknown organisation."]}
        )
    return organisation_id


def reach(organisation_id: str, *, admin: bool) -> str | None:
    """Whose records a key or person sees: their organisation's, or everyone's (None) for an
    admin of the service (the default organisation)."""
    return None if admin and organisation_id == DEFAULT_ORGANISATION else organisation_id
