"""The waitlist page: recorded or uploaded clients placed at once, greedy beside, committed."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.web.coordinator.conftest import token

Headers = dict[str, str]
URL = "/coordinator/waitlist"


def record_waiting(client: FlaskClient, headers: Headers, refs: list[str]) -> None:
    """Recorded matches with no referral: clients waiting in the clinic."""
    for ref in refs:
        body = {
            "intake": {"jurisdiction": "US-CA", "languages": ["es"], "must_have": ["language"]},
            "record": True,
            "client_ref": ref,
        }
        assert client.post("/api/v1/match", json=body, headers=headers).status_code == 200


def test_recorded_clients_proposed_then_committed(
    sign_in: Callable[[str], FlaskClient], demo_client: FlaskClient, demo_admin: Headers
) -> None:
    record_waiting(demo_client, demo_admin, ["C-1", "C-2", "C-3"])
    page = sign_in("coordinator")
    listed = page.get(URL)
    html = listed.get_data(as_text=True)
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    assert 'href="/coordinator/waitlist"' in html  # in the navigation
    assert all(ref in html for ref in ("C-1", "C-2", "C-3"))
    form = {"csrf_token": token(page, URL), "client": ["C-1", "C-3"]}
    proposed = page.post(URL, data=form)
    html = proposed.get_data(as_text=True)
    assert proposed.status_code == 200, html
    assert "Proposed waitlist assignment" in html and "Speaks Spanish" in html
    assert "2 of 2" in html and "C-2</th>" not in html
    expected = re.search(r'name="expected" value="([^"]+)"', html)
    assert expected
    # Without the confirmation nothing is written.
    commit = {**form, "expected": expected.group(1).replace("&#34;", '"')}
    refused = page.post(f"{URL}/commit", data=commit)
    assert refused.status_code == 400
    assert 'href="#confirm"' in refused.get_data(as_text=True)
    done = page.post(f"{URL}/commit", data={**commit, "confirm": "yes"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "Referred 2 clients; 0 still waiting." in html
    assert "C-2" in html and "C-1," not in html and "C-3," not in html
    every = page.post(URL, data={"csrf_token": token(page, URL), "all_waiting": "yes"})
    assert "1 of 1" in every.get_data(as_text=True)  # C-2, the one still waiting
    for ref in ("C-1", "C-3"):
        referrals = page.get(f"/coordinator/clients/{ref}").get_data(as_text=True)
        assert "Referred" in referrals or "referral" in referrals.lower()


def test_nothing_chosen_or_a_bad_file_is_named(sign_in: Callable[[str], FlaskClient]) -> None:
    page = sign_in("coordinator")
    empty = page.post(URL, data={"csrf_token": token(page, URL)})
    assert empty.status_code == 400
    assert 'href="#client"' in empty.get_data(as_text=True)
    csv = "client_ref,jurisdiction,languages\nw-1,US-CA,es;en\nw-2,,en\n"
    bad = page.post(
        URL,
        data={"csrf_token": token(page, URL), "file": (io.BytesIO(csv.encode()), "list.csv")},
        content_type="multipart/form-data",
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'href="#file"' in html and "Client 2" in html and "intake.jurisdiction" in html


def test_an_uploaded_file_is_placed_and_committed(
    sign_in: Callable[[str], FlaskClient], demo_app: Flask
) -> None:
    page = sign_in("coordinator")
    lines = [
        {"client_ref": "u-1", "intake": {"jurisdiction": "US-CA", "modalities": ["cbt"]}},
        {"client_ref": "u-2", "intake": {"jurisdiction": "US-NY", "formats": ["video"]}},
    ]
    ndjson = "\n".join(json.dumps(line) for line in lines)
    proposed = page.post(
        URL,
        data={"csrf_token": token(page, URL), "file": (io.BytesIO(ndjson.encode()), "w.ndjson")},
        content_type="multipart/form-data",
    )
    html = proposed.get_data(as_text=True)
    assert proposed.status_code == 200, html
    carried = re.search(r'name="uploaded" value="([^"]+)"', html)
    expected = re.search(r'name="expected" value="([^"]+)"', html)
    assert carried and expected
    unescape = lambda text: text.replace("&#34;", '"')  # noqa: E731
    done = page.post(
        f"{URL}/commit",
        data={
            "csrf_token": token(page, URL),
            "uploaded": unescape(carried.group(1)),
            "expected": unescape(expected.group(1)),
            "confirm": "yes",
        },
        follow_redirects=True,
    )
    assert "Referred 2 clients" in done.get_data(as_text=True)
