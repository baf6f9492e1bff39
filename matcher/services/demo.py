"""The demo directory: synthetic profiles and an all-scopes key, for a first look."""

from __future__ import annotations

import os
from pathlib import Path

from matcher.bundled import data_dir
from matcher.services import directory
from matcher.services.keys import SCOPES, replace_key
from matcher.storage import therapists as stored
from matcher.storage.database import Database

DEMO_FILE = "demo-directory.ndjson"
DEMO_KEY_NAME = "demo"
# Where ``matcher serve --demo`` leaves the demo key, in the instance folder, for scripts and docs.
DEMO_KEY_FILE = "demo-key"


def load_demo_directory(db: Database) -> int:
    """Import the demo profiles when the directory is empty; how many were imported."""
    with db.session() as session:
        if stored.count_active(session):
            return 0
    text = (data_dir("profiles") / DEMO_FILE).read_text(encoding="utf-8")
    records = directory.parse_records(text, ndjson=True)
    profiles = directory.validate_records(records)
    created, updated = directory.import_profiles(db, profiles=profiles)
    return created + updated


def create_demo_key(db: Database) -> tuple[str, int]:
    """Issue the demo's all-scopes key and revoke earlier ones; the secret and how many."""
    # A demo key is one named "demo" with every scope, so each run leaves exactly one valid.
    _, secret, revoked = replace_key(db, name=DEMO_KEY_NAME, scopes=SCOPES)
    return secret, len(revoked)


def save_demo_key(instance_path: str | Path, secret: str) -> Path:
    """Write the demo key to the instance folder, readable by its owner only."""
    path = Path(instance_path) / DEMO_KEY_FILE
    path.unlink(missing_ok=True)  # a fresh file, so the mode below holds whoever made the old one
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secret + "\n")
    return path
