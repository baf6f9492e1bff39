"""The demo directory: synthetic profiles and an all-scopes key, for a first look."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlmodel import Session

from matcher.bundled import data_dir
from matcher.services import directory, users
from matcher.services.keys import SCOPES, replace_key

DEMO_FILE = "demo-directory.ndjson"
DEMO_KEY_NAME = "demo"
# Where ``matcher serve --demo`` leaves the demo key, in the instance folder, for scripts and docs.
DEMO_KEY_FILE = "demo-key"
# The demo coordinator's and admin's sign-ins, written when they are made (only then).
DEMO_LOGINS_FILE = "demo-logins"


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


def create_demo_key(session: Session) -> tuple[str, int]:
    """Issue the demo's all-scopes key and revoke earlier ones; the secret and how many."""
    # A demo key is one named "demo" with every scope, so each run leaves exactly one valid.
    _, secret, revoked = replace_key(session, name=DEMO_KEY_NAME, scopes=SCOPES)
    return secret, len(revoked)


def save_demo_key(instance_path: str | Path, secret: str) -> Path:
    """Write the demo key to the instance folder, readable by its owner only."""
    return _private_file(Path(instance_path) / DEMO_KEY_FILE, secret + "\n")


def save_demo_logins(instance_path: str | Path, logins: list[tuple[str, str, str]]) -> Path:
    """Write the demo users' sign-ins (made once) to the instance folder, owner-only."""
    lines = "".join(f"{role}: {email} {password}\n" for email, role, password in logins)
    return _private_file(Path(instance_path) / DEMO_LOGINS_FILE, lines)


def _private_file(path: Path, text: str) -> Path:
    path.unlink(missing_ok=True)  # a fresh file, so the mode below holds whoever made the old one
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    return path


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
