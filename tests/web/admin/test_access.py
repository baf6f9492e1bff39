"""Only admins reach the console: every page and form, signed out, as a coordinator, as an admin."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

SignIn = Callable[[str], FlaskClient]
PAGES = (
    "/admin/",
    "/admin/models/1",
    "/admin/models/new",
    "/admin/models/learn",
    "/admin/models/1/preview",
    "/admin/models/1/restore",
    "/admin/audit",
    "/admin/people",
    "/admin/keys",
    "/admin/directory",
)
FORMS = (
    "/admin/models/new",
    "/admin/models/learn",
    "/admin/models/1/publish",
    "/admin/models/1/restore",
    "/admin/people",
    "/admin/people/u-1/role",
    "/admin/people/u-1/disable",
    "/admin/keys",
    "/admin/keys/k-1/revoke",
    "/admin/directory/import",
    "/admin/directory/t-000001/deactivate",
)


@pytest.mark.parametrize("path", PAGES)
def test_a_coordinator_gets_403_on_every_page(sign_in: SignIn, path: str) -> None:
    assert sign_in("coordinator").get(path).status_code == 403


@pytest.mark.parametrize("path", FORMS)
def test_a_coordinator_gets_403_on_every_form(sign_in: SignIn, path: str) -> None:
    client = sign_in("coordinator")
    from tests.web.admin.conftest import token

    answer = client.post(path, data={"csrf_token": token(client, "/coordinator/")})
    assert answer.status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_people_are_sent_to_sign_in(demo_client: FlaskClient, path: str) -> None:
    answer = demo_client.get(path)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
def test_an_admin_sees_every_page_never_cached(sign_in: SignIn, path: str) -> None:
    answer = sign_in("admin").get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    assert answer.headers["Cache-Control"] == "no-store"
    assert "<h1" in answer.get_data(as_text=True)


@pytest.mark.parametrize("path", FORMS)
def test_forms_without_a_token_are_refused(sign_in: SignIn, path: str) -> None:
    answer = sign_in("admin").post(path, data={})
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)
