"""The demo directory: synthetic profiles and an all-scopes key, for a first look."""

from __future__ import annotations

import secrets

from sqlmodel import Session

from matcher.bundled import data_dir
from matcher.services import directory, users
from matcher.services.keys import SCOPES, create_key

DEMO_FILE = "demo-directory.ndjson"


def demo_profiles() -> list[dict[str, object]]:
    """The demo directory's profiles, validated."""
    text = (data_dir("profiles") / DEMO_FILE).read_text(encoding="utf-8")
    return directory.validate_records(directory.parse_records(text, ndjson=True))


def load_demo_directory(session: Session) -> int:
    """Import the demo profiles when the directory is empty; how many were imported."""
    if directory.count_active(session):
        return 0
    created, updated = directory.import_profiles(session, profiles=demo_profiles())
    return created + updated


def create_demo_key(session: Session) -> str:
    """Issue a key with every scope for the demo."""
    _, secret = create_key(session, name="demo", scopes=SCOPES)
    return secret


DEMO_USERS = (("coordinator@demo.invalid", "coordinator"), ("admin@demo.invalid", "admin"))


def create_demo_users(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo coordinator and admin when missing: (email, role, password) of each new one.

    The passwords are random and shown once, like the demo key.
    """
    made = []
    for email, role in DEMO_USERS:
        if users.find_user(session, email=email) is None:
            password = secrets.token_urlsafe(12)
            users.create_user(session, email=email, role=role, password=password)
            made.append((email, role, password))
    return made
