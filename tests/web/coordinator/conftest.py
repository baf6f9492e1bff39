"""Helpers for the coordinator pages: a signed-in test client and a form token."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matcher.services import users

PASSWORD = "correct horse battery staple"


def token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page's forms carry."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"no form token on {path}"
    return found.group(1)


@pytest.fixture
def sign_in(demo_app: Flask) -> Callable[[str], FlaskClient]:
    """A test client signed in as a new user with ``role``."""

    def signed(role: str = "coordinator") -> FlaskClient:
        email = f"{role}-{len(role)}@clinic.test"
        with demo_app.extensions["matcher"].db.transaction() as session:
            if users.find_user(session, email=email) is None:
                users.create_user(session, email=email, role=role, password=PASSWORD)
        client = demo_app.test_client()
        answer = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token(client)}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return client

    return signed
