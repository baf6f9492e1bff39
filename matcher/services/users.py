"""People who sign in to the pages: coordinators and admins, with slow password hashes."""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session

from matcher.services.errors import Conflict, Invalid, NotFound
from matcher.services.organisations import check_organisation
from matcher.storage import users as stored
from matcher.storage.tables import DEFAULT_ORGANISATION, User
from matcher.storage.types import utcnow

__all__ = [
    "ROLES",
    "SignIn",
    "User",
    "authenticate",
    "create_user",
    "disable_user",
    "get_user",
]

ROLES: tuple[str, ...] = ("coordinator", "admin")
MIN_PASSWORD = 12  # NIST SP 800-63B asks for at least 8; pass phrases are easier at 12+
# After this many failed sign-ins in a row the account waits LOCK_MINUTES before the next try.
MAX_FAILURES = 5
LOCK_MINUTES = 15
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s]{2,}$")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so both answers take the same time.


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown email (made on first use: ~0.3 s at start-up)."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class SignIn:
    """A sign-in attempt's answer: the user, or why not (failures are counted either way)."""

    user: User | None
    refusal: str = ""


def _check_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not EMAIL.match(cleaned):
        raise Invalid("Enter an email address like name@example.org.", {"email": ["Not valid."]})
    return cleaned


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            f"Use a password of at least {MIN_PASSWORD} characters.",
            {"password": [f"At least {MIN_PASSWORD} characters."]},
        )


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    password: str,
    organisation_id: str = DEFAULT_ORGANISATION,
) -> User:
    """Add a person of an organisation who can sign in; Conflict when the email is taken."""
    address = _check_email(email)
    if role not in ROLES:
        raise Invalid(f"Role must be one of {', '.join(ROLES)}.", {"role": ["Unknown role."]})
    _check_password(password)
    check_organisation(session, organisation_id)
    if stored.by_email(session, email=address) is not None:
        raise Conflict(f"A user with email {address} already exists.", {"email": ["Taken."]})
    user = User(
        id="u-" + secrets.token_hex(8),
        email=address,
        role=role,
        password_hash=_hasher.hash(password),
        created_at=utcnow(),
        organisation_id=organisation_id,
    )
    session.add(user)
    return user


def get_user(session: Session, *, user_id: str) -> User | None:
    """The active user with this id, if any (for each signed-in request)."""
    user = stored.get(session, user_id=user_id)
    return user if user is not None and user.active else None


def end_sessions(session: Session, *, user_id: str) -> None:
    """Sign the user out everywhere: every session cookie issued before now stops working."""
    user = stored.get(session, user_id=user_id)
    if user is not None:
        user.session_epoch += 1
        session.add(user)


def find_user(session: Session, *, email: str) -> User | None:
    """The user with this email, active or not."""
    return stored.by_email(session, email=email)


def list_users(session: Session) -> list[User]:
    """Every user, by email."""
    return stored.all_users(session)


def disable_user(session: Session, *, email: str) -> User:
    """Stop a person signing in (their history stays); NotFound when unknown."""
    user = stored.by_email(session, email=email)
    if user is None:
        raise NotFound(f"No user {email.strip().lower()}.")
    user.active = False
    session.add(user)
    return user


def authenticate(
    session: Session, *, email: str, password: str, now: datetime | None = None
) -> SignIn:
    """Check credentials, counting failures (the caller commits either way).

    One message for an unknown email, a wrong password and a disabled account, so the page
    does not tell which emails exist; the unknown email costs the same hash as a real one.
    """
    now = now or utcnow()
    wrong = SignIn(None, "Email or password is not right, or the account is not active.")
    user = stored.by_email(session, email=email)
    if user is None:
        _verify(_dummy_hash(), password)
        return wrong
    if user.locked_until is not None and user.locked_until > now:
        wait = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return SignIn(None, f"Too many failed sign-ins: try again in {wait} minutes.")
    if not _verify(user.password_hash, password) or not user.active:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        session.add(user)
        return wrong
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    return SignIn(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_role(session: Session, *, user_id: str, role: str, actor_id: str) -> User:
    """Give a person another role; refused when it would leave no active admin."""
    if role not in ROLES:
        raise Invalid(f"Role must be one of {', '.join(ROLES)}.", {"role": ["Unknown role."]})
    user = stored.get(session, user_id=user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    if _service_admin(user) and role != "admin":
        _keep_an_admin(session, user=user, actor_id=actor_id, doing="take the admin role from")
    user.role = role
    session.add(user)
    return user


def move_user(session: Session, *, user_id: str, organisation_id: str, actor_id: str) -> User:
    """Put a person in another organisation; they are signed out everywhere (their cookie
    carried the old one's reach). Nobody moves themselves."""
    user = stored.get(session, user_id=user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    check_organisation(session, organisation_id)
    if user.organisation_id == organisation_id:
        return user
    if user.id == actor_id:
        raise Conflict(
            "You cannot move your own account; ask another admin.",
            {"organisation": ["That is you."]},
        )
    if _service_admin(user):
        _keep_an_admin(session, user=user, actor_id=actor_id, doing="move")
    user.organisation_id = organisation_id
    user.session_epoch += 1
    session.add(user)
    return user


def disable_by_id(session: Session, *, user_id: str, actor_id: str) -> User:
    """Stop a person signing in, by id; nobody disables themselves or the last active admin."""
    user = stored.get(session, user_id=user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    if user.id == actor_id:
        raise Conflict("You cannot disable your own account.", {"user": ["That is you."]})
    if _service_admin(user):
        _keep_an_admin(session, user=user, actor_id=actor_id, doing="disable")
    return disable_user(session, email=user.email)


def _service_admin(user: User) -> bool:
    """Whether ``user`` is an active admin of the service (the default organisation)."""
    return user.role == "admin" and user.active and user.organisation_id == DEFAULT_ORGANISATION


def _keep_an_admin(session: Session, *, user: User, actor_id: str, doing: str) -> None:
    """Refuse a change that would leave the console without an active admin, or lock you out."""
    if user.id == actor_id:
        raise Conflict(
            f"You cannot {doing} your own account; ask another admin.", {"role": ["That is you."]}
        )
    if stored.count_with_role(session, role="admin", organisation_id=DEFAULT_ORGANISATION) <= 1:
        raise Conflict(
            f"{user.email} is the only active admin; make another admin first.",
            {"role": ["The last active admin."]},
        )
