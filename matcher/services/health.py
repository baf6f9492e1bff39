"""Readiness: the database reachable and migrated, and every other check the app registered."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import text

from matcher.storage.database import Database
from matcher.storage.schema import is_current


def readiness(db: Database, checks: Mapping[str, Callable[[], str]]) -> dict[str, str]:
    """Run every readiness check: "ok" or what is wrong, by check."""
    found: dict[str, str] = {}
    try:
        with db.session() as session:
            session.execute(text("SELECT 1"))
        found["database"] = "ok"
        found["schema"] = "ok" if is_current(db) else "not migrated: run matcher db upgrade"
    except Exception as err:
        found["database"] = f"unreachable: {type(err).__name__}"
    for name, check in checks.items():
        found[name] = check()
    return found
