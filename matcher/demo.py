"""The demo directory: synthetic profiles and an all-scopes key, for a first look."""

from __future__ import annotations

from pathlib import Path

from matcher import directory
from matcher.access import SCOPES, create_key
from matcher.storage import therapists as stored
from matcher.storage.database import Database

DEMO_FILE = "demo-directory.ndjson"


def data_dir(name: str) -> Path:
    """A top-level data folder (``profiles``, ``models``): the repo's, or the wheel's copy."""
    repo = Path(__file__).resolve().parents[1] / name
    if repo.is_dir():
        return repo
    return Path(__file__).resolve().parent / "_bundled" / name


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
