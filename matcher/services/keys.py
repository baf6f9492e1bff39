"""API keys: issued once, stored as digests, carrying scopes."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from limits import parse
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from matcher.services.errors import Invalid, NotFound
from matcher.services.organisations import check_organisation
from matcher.storage import keys as stored_keys
from matcher.storage.tables import DEFAULT_ORGANISATION, ApiKey
from matcher.storage.types import utcnow

SCOPES: tuple[str, ...] = ("match", "profiles", "outcomes", "admin")
log = logging.getLogger(__name__)

__all__ = [
    "SCOPES",
    "ApiKey",
    "KeyCache",
    "UseLog",
    "allows",
    "check_rate_limit",
    "create_key",
    "list_keys",
    "move_key",
    "revoke",
]
KEY_PREFIX = "mk_"


def digest(secret: str) -> str:
    """The stored form of a key.

    Keys are 256 random bits, so one SHA-256 is enough: there is no dictionary to guess from,
    which is what slow password hashes defend against.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_rate_limit(text: str | None) -> str | None:
    """A rate limit as Flask-Limiter reads it ("6000 per minute"), or None for the default."""
    if text is None or not text.strip():
        return None
    try:
        parse(text.strip())
    except ValueError as err:
        raise Invalid(
            f"Not a rate limit: {text[:40]!r}.",
            {"rate_limit": ["Write it like '6000 per minute' or '100/second'."]},
        ) from err
    return text.strip()


def _new_key(name: str, scopes: Iterable[str], rate_limit: str | None = None) -> tuple[ApiKey, str]:
    """A checked, unsaved key record and its secret."""
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise Invalid(
            f"scopes must be among {', '.join(SCOPES)}; got {unknown or 'none'}",
            {"scopes": [f"Use {', '.join(SCOPES)}."]},
        )
    if not name.strip() or len(name) > 100:
        raise Invalid("name must be 1-100 characters", {"name": ["Use 1-100 characters."]})
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        id="k-" + secrets.token_hex(6),
        name=name.strip(),
        digest=digest(secret),
        scopes=wanted,
        created_at=utcnow(),
        rate_limit=check_rate_limit(rate_limit),
    )
    return record, secret


def create_key(
    session: Session,
    *,
    name: str,
    scopes: Iterable[str],
    rate_limit: str | None = None,
    organisation_id: str = DEFAULT_ORGANISATION,
) -> tuple[ApiKey, str]:
    """Issue a key of an organisation (with its own request limit, if given); the secret is
    returned only here."""
    record, secret = _new_key(name, scopes, rate_limit)
    record.organisation_id = check_organisation(session, organisation_id)
    stored_keys.add(session, key=record)
    return record, secret


def move_key(session: Session, *, key_id: str, organisation_id: str) -> ApiKey:
    """Put a key in another organisation (the key cache picks it up within its lifetime)."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"No key {key_id}.")
    key.organisation_id = check_organisation(session, organisation_id)
    session.add(key)
    return key


def replace_key(
    session: Session, *, name: str, scopes: Iterable[str]
) -> tuple[ApiKey, str, list[str]]:
    """Issue a key and revoke the live keys of the same name and scopes (their ids returned)."""
    record, secret = _new_key(name, scopes)
    revoked = []
    for key in stored_keys.all_keys(session):
        if key.revoked_at is None and key.name == record.name and key.scopes == record.scopes:
            key.revoked_at = record.created_at
            session.add(key)
            revoked.append(key.id)
    stored_keys.add(session, key=record)
    return record, secret, revoked


def _plausible(secret: str) -> bool:
    """Whether ``secret`` could be a key at all (so junk never reaches the database)."""
    return secret.startswith(KEY_PREFIX) and len(secret) <= 200


def authenticate(session: Session, *, secret: str) -> ApiKey | None:
    """The live key whose secret this is, or None."""
    if not _plausible(secret):
        return None
    return stored_keys.by_digest(session, digest=digest(secret))


class KeyCache:
    """Known keys by digest for a few seconds, so most requests skip the key lookup.

    Only keys that were found are kept; a revoked key stops working within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._keys: dict[str, tuple[float, ApiKey]] = {}

    def cached(self, secret: str) -> ApiKey | None:
        """The live key for ``secret`` if this worker looked it up recently (no database)."""
        found = self._keys.get(digest(secret)) if _plausible(secret) else None
        return found[1] if found is not None and time.monotonic() - found[0] < self.ttl else None

    def authenticate(self, session_factory: Callable[[], Session], *, secret: str) -> ApiKey | None:
        """The live key for ``secret``, from the cache when it was looked up recently."""
        if not _plausible(secret):
            return None
        key_digest = digest(secret)
        now = time.monotonic()
        cached = self._keys.get(key_digest)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        with session_factory() as session:
            key = stored_keys.by_digest(session, digest=key_digest)
        if key is not None:
            if len(self._keys) >= self.size:
                self._keys.clear()
            self._keys[key_digest] = (now, key)
        return key


# A key's last use is written at most this often per worker: a write on every request would
# queue behind every other writer for a figure nobody reads to the second.
LAST_USE_EVERY = 60.0


class UseLog:
    """Notes when each key was last used, at most once a minute per key in this worker."""

    def __init__(self, every: float = LAST_USE_EVERY) -> None:
        self.every = every
        self._noted: dict[str, float] = {}

    def note(self, writer: Callable[[], AbstractContextManager[Session]], key: ApiKey) -> None:
        """Record that ``key`` was used now, unless this worker did so in the last minute."""
        now = time.monotonic()
        if now - self._noted.get(key.id, -self.every) < self.every:
            return
        self._noted[key.id] = now
        try:
            with writer() as session:
                stored_keys.touch(session, key_id=key.id, at=utcnow())
        except OperationalError:  # the database is busy: the next minute's request notes it
            log.warning("could not note a key's last use; will try again")


def revoke(session: Session, *, key_id: str) -> None:
    """Revoke a key (it stops working within the key cache's lifetime); NotFound if unknown."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"No key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first (never a secret: only digests are stored)."""
    return stored_keys.all_keys(session)


def allows(key: ApiKey, scope: str) -> bool:
    """Whether ``key`` may act in ``scope`` (admin implies every scope)."""
    return "admin" in key.scopes or scope in key.scopes
