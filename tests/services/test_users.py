"""People who sign in: slow hashes, one message for every wrong answer, lockout after failures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from matcher.services import users
from matcher.services.errors import Conflict, Invalid
from matcher.storage.database import Database
from matcher.storage.types import utcnow

PASSWORD = "correct horse battery staple"


def _make(db: Database, email: str = "ana@clinic.test", role: str = "coordinator") -> None:
    with db.transaction() as session:
        users.create_user(session, email=email, role=role, password=PASSWORD)


def _try(db: Database, email: str, password: str, **kwargs: object) -> users.SignIn:
    with db.transaction() as session:
        return users.authenticate(session, email=email, password=password, **kwargs)  # type: ignore[arg-type]


def test_passwords_are_stored_as_argon2id(db: Database) -> None:
    _make(db, "Ana@Clinic.test")
    with db.session() as session:
        user = users.find_user(session, email="ana@clinic.test")
    assert user is not None and user.email == "ana@clinic.test"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_bad_accounts_are_refused_with_the_field_named(db: Database) -> None:
    _make(db)
    with db.transaction() as session, pytest.raises(Conflict):
        users.create_user(session, email="ANA@clinic.test", role="admin", password=PASSWORD)
    for email, role, password, field in (
        ("not-an-email", "admin", PASSWORD, "email"),
        ("b@clinic.test", "owner", PASSWORD, "role"),
        ("b@clinic.test", "admin", "short", "password"),
    ):
        with db.transaction() as session, pytest.raises(Invalid) as refused:
            users.create_user(session, email=email, role=role, password=password)
        assert field in refused.value.errors


def test_one_message_for_unknown_email_wrong_password_and_disabled(db: Database) -> None:
    _make(db)
    assert _try(db, "ana@clinic.test", PASSWORD).user is not None
    unknown = _try(db, "nobody@clinic.test", PASSWORD).refusal
    wrong = _try(db, "ana@clinic.test", "wrong password here").refusal
    with db.transaction() as session:
        users.disable_user(session, email="ana@clinic.test")
    disabled = _try(db, "ana@clinic.test", PASSWORD).refusal
    assert unknown == wrong == disabled != ""


def test_five_failures_lock_the_account_for_a_while(db: Database) -> None:
    _make(db)
    for _ in range(users.MAX_FAILURES):
        assert _try(db, "ana@clinic.test", "wrong password here").user is None
    locked = _try(db, "ana@clinic.test", PASSWORD)
    assert locked.user is None and "Too many failed sign-ins" in locked.refusal
    later = utcnow() + timedelta(minutes=users.LOCK_MINUTES + 1)
    assert _try(db, "ana@clinic.test", PASSWORD, now=later).user is not None
