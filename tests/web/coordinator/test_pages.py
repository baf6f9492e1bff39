"""The coordinator pages through Flask's client: access, forms, privacy, single submission."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from matcher.storage.tables import MatchRecord, Referral
from tests.web.coordinator.conftest import PASSWORD, token

SignIn = Callable[[str], FlaskClient]
INTAKE = {
    "client_ref": "C-7001",
    "jurisdiction": "US-CA",
    "risk": "no",
    "concerns": ["grief"],
    "language_first": "es",
    "formats": ["video"],
    "times": ["tue-evening", "thu-evening"],
    "timezone": "America/Los_Angeles",
    "max_fee": "140",
}


def _submit(client: FlaskClient, **changes: object) -> str:
    data = dict(INTAKE, **changes, csrf_token=token(client, "/coordinator/intake"))
    answer = client.post("/coordinator/intake", data=data)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    return str(answer.headers["Location"])


def test_pages_need_a_sign_in_and_say_no_store(demo_client: FlaskClient) -> None:
    for path in ("/coordinator/", "/coordinator/intake", "/coordinator/urgent",
                 "/coordinator/alerts", "/coordinator/clients/C-1"):  # fmt: skip
        answer = demo_client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    assert demo_client.get("/login").headers["Cache-Control"] == "no-store"


def test_forms_without_a_token_are_refused(sign_in: SignIn) -> None:
    client = sign_in("coordinator")
    answer = client.post("/coordinator/intake", data=INTAKE)
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)


def test_sign_in_errors_name_the_field_and_keep_the_email(demo_client: FlaskClient) -> None:
    answer = demo_client.post(
        "/login",
        data={"email": "kim@clinic.test", "password": "nope", "csrf_token": token(demo_client)},
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'href="#email"' in page and 'value="kim@clinic.test"' in page
    assert "There is a problem" in page


def test_sign_in_attempts_are_limited_per_address(demo_app: Flask) -> None:
    client = demo_app.test_client()
    codes = [
        client.post(
            "/login", data={"email": "x@y.test", "password": "z", "csrf_token": token(client)}
        ).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [400] * 10 and codes[-1] == 429


def test_an_intake_error_keeps_everything_typed(sign_in: SignIn) -> None:
    client = sign_in("coordinator")
    data = dict(INTAKE, max_fee="lots", risk="", csrf_token=token(client, "/coordinator/intake"))
    answer = client.post("/coordinator/intake", data=data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    links = re.findall(r'<li><a href="#([^"]+)">', page)
    assert links == ["risk", "max-fee"]  # in the order of the page
    assert 'value="C-7001"' in page and 'value="grief" checked' in page
    assert 'value="tue-evening" checked' in page and 'value="lots"' in page


def test_a_must_have_without_a_preference_is_not_an_error(sign_in: SignIn) -> None:
    client = sign_in("coordinator")
    location = _submit(client, must_have=["language"])
    assert client.get(location).status_code == 200


def test_referring_twice_takes_one_slot(sign_in: SignIn, demo_app: Flask) -> None:
    client = sign_in("coordinator")
    location = _submit(client)
    match_id = location.rsplit("/", 1)[1]
    page = client.get(location).get_data(as_text=True)
    therapist = re.search(r'name="therapist_id" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"therapist_id": therapist, "csrf_token": token(client, location)}
    first = client.post(f"/coordinator/matches/{match_id}/refer", data=form)
    again = client.post(f"/coordinator/matches/{match_id}/refer", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"].endswith("/coordinator/clients/C-7001")
    with demo_app.extensions["matcher"].db.session() as session:
        made = session.exec(select(Referral).where(Referral.match_id == match_id)).all()
    assert len(made) == 1
    assert "Already referred" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_erasure_needs_confirmation_and_removes_the_intake(
    sign_in: SignIn, demo_app: Flask
) -> None:
    client = sign_in("coordinator")
    _submit(client)
    url = "/coordinator/clients/C-7001/erase"
    unconfirmed = client.post(url, data={"csrf_token": token(client, url)})
    assert unconfirmed.status_code == 400
    done = client.post(url, data={"confirm": "yes", "csrf_token": token(client, url)})
    assert done.status_code == 303
    with demo_app.extensions["matcher"].db.session() as session:
        kept = session.exec(select(MatchRecord)).all()
    assert kept and all(m.client_ref is None and m.intake == {} for m in kept)
    assert "Nothing is recorded" in client.get("/coordinator/clients/C-7001").get_data(as_text=True)


def test_no_intake_content_reaches_the_logs(
    sign_in: SignIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = sign_in("coordinator")
    location = _submit(client, client_ref="MARKER-REF-31337", max_fee="987.65",
                       identities=["deaf_hoh"], risk="not_sure")  # fmt: skip
    client.get(location)
    client.get("/coordinator/clients/MARKER-REF-31337")
    client.get("/coordinator/urgent")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for marker in ("MARKER-REF-31337", "987.65", "deaf_hoh", PASSWORD):
        assert marker not in logged


def test_signing_out_ends_every_copy_of_the_session(sign_in: SignIn, demo_app: Flask) -> None:
    client = sign_in("coordinator")
    copied = demo_app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    copied.set_cookie("session", cookie.value)
    assert copied.get("/coordinator/").status_code == 200
    form = {"csrf_token": token(client, "/coordinator/")}
    assert client.post("/logout", data=form).status_code == 302
    assert copied.get("/coordinator/").status_code == 302  # back to the sign-in page


def test_a_relaxed_match_keeps_the_crisis_resources_first(sign_in: SignIn) -> None:
    client = sign_in("coordinator")
    location = _submit(client, risk="not_sure", client_ref="", must_have=["language"],
                       language_first="ko", jurisdiction="US-WA")  # fmt: skip
    page = client.get(location).get_data(as_text=True)
    assert "may be at risk now" in page
    drops = re.findall(r'name="drop" value="([^"]+)"', page)
    assert drops, "a must-have Korean speaker in Washington should leave few therapists"
    match_id = location.rsplit("/", 1)[1]
    form = {"drop": drops[0], "csrf_token": token(client, location)}
    relaxed = client.post(f"/coordinator/matches/{match_id}/relax", data=form)
    assert relaxed.status_code == 303
    assert "may be at risk now" in client.get(relaxed.headers["Location"]).get_data(as_text=True)


def test_a_nul_character_in_a_form_is_refused_not_stored(sign_in: SignIn) -> None:
    client = sign_in("coordinator")
    data = dict(INTAKE, client_ref="C-\x00", csrf_token=token(client, "/coordinator/intake"))
    answer = client.post("/coordinator/intake", data=data)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Something in that form cannot be kept" in page and "<code>client_ref</code>" in page
