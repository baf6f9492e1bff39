"""Refusals: what a use case will not do, in plain words, with the fields at fault.

Services raise these and never an HTTP status; the web edge turns each kind into one status
(``matcher.web.errors``), the command line into a message and an exit code.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError


class Refused(Exception):
    """A request the service will not carry out; nothing it asked for was changed."""

    def __init__(self, detail: str, errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: dict[str, list[str]] = dict(errors or {})


class Malformed(Refused):
    """The input cannot be read at all (not JSON, not UTF-8)."""


class Invalid(Refused):
    """The input was read but breaks a rule; ``errors`` names each field at fault."""


class NotFound(Refused):
    """The thing asked for does not exist."""


class Conflict(Refused):
    """The request clashes with what is stored (no slot left, a different rating stored)."""


# A write that lost a race to an identical one: the database's unique constraints refused it after
# the service's own checks passed. ``Database.transaction`` has rolled it back when this is raised.
LOST_RACES: tuple[type[Exception], ...] = (IntegrityError,)
