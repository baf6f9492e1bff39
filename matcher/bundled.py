"""Where the data folders beside the package live: the repository's, or the wheel's copy."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """A top-level data folder (``profiles``, ``models``): the repo's, or the wheel's copy."""
    repo = PACKAGE.parent / name
    if repo.is_dir():
        return repo
    return PACKAGE / "_bundled" / name
