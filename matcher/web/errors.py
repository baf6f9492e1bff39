"""The one place a service's refusal becomes an HTTP status."""

from __future__ import annotations

from collections.abc import Mapping

from matcher.services.errors import LOST_RACES, Conflict, Invalid, Malformed, NotFound, Refused

STATUS: Mapping[type[Refused], int] = {
    Malformed: 400,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
}


def status_of(refusal: Refused) -> int:
    """The HTTP status a refusal is answered with (422 for a kind not listed)."""
    for kind in type(refusal).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 422


def conflict_of(_error: Exception) -> Conflict:
    """A write refused by a unique constraint (it lost a race; rolled back): a 409 refusal."""
    return Conflict(
        "The same change was made at the same moment by another request; it was kept once. "
        "Read it back before trying again."
    )


__all__ = ["LOST_RACES", "STATUS", "conflict_of", "status_of"]
