"""People, API keys and the directory, as an admin manages them."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from matcher.services import users
from tests.web.admin.conftest import token

SignIn = Callable[[str], FlaskClient]


def test_an_admin_adds_a_coordinator_who_can_sign_in(
    sign_in: SignIn, demo_client: FlaskClient
) -> None:
    client = sign_in("admin")
    answer = client.post(
        "/admin/people",
        data={
            "email": "Lee@Clinic.test",
            "role": "coordinator",
            "csrf_token": token(client, "/admin/people"),
        },
    )
    page = answer.get_data(as_text=True)
    password = re.search(r'<code class="matcher-secret">([^<]+)</code>', page)
    assert answer.status_code == 200 and password, page[:3000]
    assert "shown only now" in page
    signed = demo_client.post(
        "/login",
        data={
            "email": "lee@clinic.test",
            "password": password.group(1),
            "csrf_token": token(demo_client),
        },
    )
    assert signed.status_code == 302
    again = client.get("/admin/people").get_data(as_text=True)
    assert "lee@clinic.test" in again and password.group(1) not in again
    assert "<code>user.create</code>" in client.get("/admin/audit").get_data(as_text=True)


def _user_id(app: Flask, email: str) -> str:
    with app.extensions["matcher"].db.session() as session:
        found = users.find_user(session, email=email)
        assert found is not None
        return found.id


def test_roles_change_and_the_last_admin_is_kept(sign_in: SignIn, demo_app: Flask) -> None:
    admin = sign_in("admin")
    coordinator = sign_in("coordinator")
    me = _user_id(demo_app, "admin-5@clinic.test")
    other = _user_id(demo_app, "coordinator-11@clinic.test")

    def post(path: str, **data: str) -> Any:
        return admin.post(path, data={**data, "csrf_token": token(admin, "/admin/people")})

    refused = post(f"/admin/people/{me}/role", role="coordinator")
    assert refused.status_code == 400
    assert "You cannot take the admin role from your own account" in refused.get_data(as_text=True)
    assert post(f"/admin/people/{me}/disable").status_code == 400
    assert post(f"/admin/people/{other}/role", role="admin").status_code == 303
    assert coordinator.get("/admin/").status_code == 200  # the new role applies at once
    assert post(f"/admin/people/{other}/disable").status_code == 303
    assert coordinator.get("/admin/").status_code == 302  # disabled: signed out
    log = admin.get("/admin/audit").get_data(as_text=True)
    assert "<code>user.role</code>" in log and "<code>user.disable</code>" in log


def test_a_key_is_shown_once_and_works_until_revoked(sign_in: SignIn) -> None:
    client = sign_in("admin")
    answer = client.post(
        "/admin/keys",
        data={
            "name": "clinic website",
            "scopes": ["admin"],
            "csrf_token": token(client, "/admin/keys"),
        },
    )
    page = answer.get_data(as_text=True)
    secret = re.search(r'<code class="matcher-secret" id="new-key">([^<]+)</code>', page)
    assert answer.status_code == 200 and secret
    api = client.get("/api/v1/models", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert api.status_code == 200
    listing = client.get("/admin/keys").get_data(as_text=True)
    assert secret.group(1) not in listing and "clinic website" in listing
    key_id = re.search(r"/admin/keys/(k-[0-9a-f]+)/revoke", listing)
    assert key_id
    revoked = client.post(
        f"/admin/keys/{key_id.group(1)}/revoke", data={"csrf_token": token(client, "/admin/keys")}
    )
    assert revoked.status_code == 303
    assert "revoked" in client.get("/admin/keys").get_data(as_text=True)
    missing = client.post(
        "/admin/keys", data={"name": "", "csrf_token": token(client, "/admin/keys")}
    )
    assert missing.status_code == 400 and 'href="#scopes"' in missing.get_data(as_text=True)


def _upload(client: FlaskClient, records: list[dict[str, Any]], name: str) -> Any:
    body = "\n".join(json.dumps(r) for r in records).encode()
    return client.post(
        "/admin/directory/import",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(body), name), "csrf_token": token(client, "/admin/directory")},
    )


def test_an_upload_with_one_bad_record_imports_nothing_and_says_what_to_fix(
    sign_in: SignIn, make_profile: Callable[..., dict[str, Any]]
) -> None:
    client = sign_in("admin")
    good = make_profile(id="t-new-1", name="Zephyrine Quill, LMFT")
    bad = make_profile(id="t-9", licenses=[{"jurisdiction": "XX-YY", "credential": "LMFT"}])
    answer = _upload(client, [good, bad], "profiles.ndjson")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Record 2 (id t-9): licenses[0].jurisdiction: Unknown jurisdiction code" in page
    assert "Nothing was imported" in page
    assert "0 therapists found" in client.get("/admin/directory?q=Zephyrine").get_data(as_text=True)

    fixed = _upload(client, [good], "profiles.ndjson")
    assert fixed.status_code == 303
    found = client.get("/admin/directory?q=zephyrine").get_data(as_text=True)
    assert "1 therapist found" in found and "t-new-1" in found
    gone = client.post(
        "/admin/directory/t-new-1/deactivate",
        data={
            "csrf_token": token(client, "/admin/directory"),
            "back": "/admin/directory?q=zephyrine",
        },
    )
    assert gone.status_code == 303 and gone.headers["Location"].endswith("?q=zephyrine")
    assert "no (deactivated" in client.get("/admin/directory?q=zephyrine").get_data(as_text=True)
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "<code>directory.import</code>" in log and "<code>therapist.deactivate</code>" in log


def test_therapists_are_found_by_jurisdiction_a_page_at_a_time(sign_in: SignIn) -> None:
    page = sign_in("admin").get("/admin/directory?jurisdiction=CA-ON&page=2").get_data(as_text=True)
    found = re.search(r"(\d+) therapists found; page 2 of (\d+)", page)
    assert found and int(found.group(1)) > 25
    assert "Previous page" in page
