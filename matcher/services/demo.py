"""The demo directory: synthetic profiles and an all-scopes key, for a first look."""

from __future__ import annotations

from matcher.bundled import data_dir
from matcher.services import directory
from matcher.services.keys import SCOPES, create_key
from matcher.storage import therapists as stored
from matcher.storage.database import Database

DEMO_FILE = "demo-directory.ndjson"


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


def create_demo_key(db: Database) -> str:
    """Issue a key with every scope for the demo."""
    _, secret = create_key(db, name="demo", scopes=SCOPES)
    return secret
