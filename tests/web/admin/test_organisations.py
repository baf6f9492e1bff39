"""The console shows and sets the organisation of each key and person."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from matcher.services import keys, users
from matcher.services.organisations import DEFAULT_ORGANISATION, create_organisation
from tests.web.admin.conftest import PASSWORD, token

SignIn = Callable[[str], FlaskClient]


def _riverside(app: Flask) -> str:
    with app.extensions["matcher"].db.transaction() as session:
        return create_organisation(session, name="Riverside Clinic").id


def test_an_admin_creates_a_key_in_an_organisation_and_moves_it(
    sign_in: SignIn, demo_app: Flask
) -> None:
    riverside = _riverside(demo_app)
    client = sign_in("admin")
    form = {"name": "river site", "scopes": ["outcomes"], "organisation": riverside}
    answer = client.post("/admin/keys", data=dict(form, csrf_token=token(client, "/admin/keys")))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'id="new-key"' in page
    with demo_app.extensions["matcher"].db.session() as session:
        made = next(k for k in keys.list_keys(session) if k.name == "river site")
    assert made.organisation_id == riverside
    # The table shows it: the key's own select has Riverside chosen.
    row = re.search(rf'id="org-{made.id}"[^>]*>(.*?)</select>', page, re.S)
    assert row and f'<option value="{riverside}" selected>Riverside Clinic</option>' in row[1]
    move = {"organisation": DEFAULT_ORGANISATION, "csrf_token": token(client, "/admin/keys")}
    assert client.post(f"/admin/keys/{made.id}/organisation", data=move).status_code == 303
    with demo_app.extensions["matcher"].db.session() as session:
        assert session.get(type(made), made.id).organisation_id == DEFAULT_ORGANISATION  # type: ignore[union-attr]
    bad = {"organisation": "o-nowhere", "csrf_token": token(client, "/admin/keys")}
    refused = client.post(f"/admin/keys/{made.id}/organisation", data=bad)
    assert refused.status_code == 400 and "No organisation" in refused.get_data(as_text=True)


def test_an_admin_moves_a_person_who_then_signs_in_again(sign_in: SignIn, demo_app: Flask) -> None:
    riverside = _riverside(demo_app)
    moved = sign_in("coordinator")
    admin = sign_in("admin")
    with demo_app.extensions["matcher"].db.session() as session:
        person = users.find_user(session, email="coordinator-11@clinic.test")
    assert person is not None and person.organisation_id == DEFAULT_ORGANISATION
    form = {"organisation": riverside, "csrf_token": token(admin, "/admin/people")}
    assert admin.post(f"/admin/people/{person.id}/organisation", data=form).status_code == 303
    page = admin.get("/admin/people").get_data(as_text=True)
    row = re.search(rf'id="org-{person.id}"[^>]*>(.*?)</select>', page, re.S)
    assert row and f'<option value="{riverside}" selected>Riverside Clinic</option>' in row[1]
    # Their old session carried the old organisation's reach: it is over.
    assert moved.get("/coordinator/").status_code == 302
    again = demo_app.test_client()
    login = {"email": person.email, "password": PASSWORD, "csrf_token": token(again)}
    assert again.post("/login", data=login).status_code == 302
    with demo_app.extensions["matcher"].db.session() as session:
        assert users.find_user(session, email=person.email).organisation_id == riverside  # type: ignore[union-attr]
