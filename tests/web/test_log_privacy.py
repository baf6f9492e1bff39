"""No intake content or client reference in any log line, over the API and page flows.

Every logger is captured (the root logger at DEBUG: the app's, werkzeug's access lines from a
real development server, libraries'), while the API and the coordinator's pages run through a
live server: recorded match, referral, rating, reading it back, a refused intake, the client's
page, the find form and erasure. A marker value stands in every intake field and the client
reference; none may appear. Gunicorn's access lines are checked in tests/test_serving.py.
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from matcher.services import users
from matcher.web.redaction import redact
from tests.browser import live_server

REF = "MARKER-REF-31337"
PASSWORD = "correct horse battery staple"
INTAKE: dict[str, Any] = {
    "jurisdiction": "US-CA",
    "age_group": "older_adults",
    "concerns": ["perinatal"],
    "modalities": ["behavioral_activation"],
    "languages": ["en"],
    "identities": ["deaf_hoh"],
    "wants_shared_identity": True,
    "therapist_genders": ["nonbinary"],
    "faith": "sikh",
    "formats": ["video", "in_person"],
    "location": {"lat": 37.76543, "lon": -122.41234},
    "max_distance_km": 4321.5,
    "timezone": "America/Los_Angeles",
    "availability": [{"day": "sat", "start": "06:35", "end": "08:55"}],
    "max_fee": 987.65,
    "insurance": "marker_plan_4242",
    "style": {"directiveness": 2},
    "must_have": [],
    "exclude_therapists": ["t-marker-0042"],
}
# What would give an intake or a client away if it reached a log line.
MARKERS = (
    REF, "older_adults", "perinatal", "behavioral_activation", "deaf_hoh", "nonbinary", "sikh",
    "in_person", "37.76543", "122.41234", "37.77", "122.41", "4321.5", "America/Los_Angeles",
    "'06:35'", '"06:35"', "'08:55'", '"08:55"', "987.65", "marker_plan_4242", "t-marker-0042",
    "MARKER-BAD-VALUE", PASSWORD,
)  # fmt: skip


class Everything(logging.Handler):
    """Keeps every record's formatted line."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the line and any exception text with it."""
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("werkzeug", "matcher"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    # SQL echo prints bound values by design (an operator's debugging switch, off unless set);
    # it stays at its default here, as in production.
    sql = logging.getLogger("sqlalchemy")
    sql_before = sql.level
    sql.setLevel(logging.WARNING)
    yield handler
    root.removeHandler(handler)
    root.setLevel(before)
    sql.setLevel(sql_before)


class Browser:
    """A cookie-keeping HTTP client for the live server (no redirects followed)."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()

        class Stay(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), Stay)

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        form: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, dict[str, str]]:
        """One request: (status, body text, headers)."""
        data = None
        sent = dict(headers or {}, Referer=self.base + path)
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data, sent, method=method)
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode(), dict(answer.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(), dict(err.headers)

    def token(self, path: str) -> str:
        """The CSRF token on a page's forms."""
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.send("GET", path)[1])
        assert found, path
        return found.group(1)


def _api_flow(web: Browser, key: dict[str, str]) -> None:
    request = {"intake": INTAKE, "limit": 5, "record": True, "client_ref": REF}
    status, text, _ = web.send("POST", "/api/v1/match", body=request, headers=key)
    assert status == 200, text
    shown = json.loads(text)
    loose = dict(INTAKE, formats=["video"], max_distance_km=None, must_have=[])
    status, text, _ = web.send(
        "POST", "/api/v1/match", body=dict(request, intake=loose), headers=key
    )
    assert status == 200, text
    shown = json.loads(text) if not shown["results"] else shown
    assert shown["results"], "the markers' intake should still find someone"
    referral = {"match_id": shown["match_id"], "therapist_id": shown["results"][0]["therapist_id"]}
    status, text, _ = web.send("POST", "/api/v1/referrals", body=referral, headers=key)
    assert status == 201, text
    referral_id = json.loads(text)["id"]
    rating = {"instrument": "wai-sr", "session": 1, "items": [2] * 12}
    path = f"/api/v1/referrals/{referral_id}/alliance"
    assert web.send("POST", path, body=rating, headers=key)[0] == 201
    assert web.send("GET", f"/api/v1/referrals/{referral_id}", headers=key)[0] == 200
    bad = dict(INTAKE, faith="MARKER-BAD-VALUE")
    assert web.send("POST", "/api/v1/match", body={"intake": bad}, headers=key)[0] == 422
    assert web.send("DELETE", f"/api/v1/clients/{REF}", headers=key)[0] == 204


def _page_flow(web: Browser, email: str) -> None:
    status, _, _ = web.send(
        "POST",
        "/login",
        form={"email": email, "password": PASSWORD, "csrf_token": web.token("/login")},
    )
    assert status == 302
    form = {
        "csrf_token": web.token("/coordinator/intake"),
        "client_ref": REF,
        "jurisdiction": "US-CA",
        "age_group": "older_adults",
        "risk": "not_sure",
        "concerns": ["perinatal"],
        "modalities": ["behavioral_activation"],
        "language_first": "en",
        "identities": ["deaf_hoh"],
        "wants_shared_identity": "on",
        "therapist_genders": ["nonbinary"],
        "faith": "sikh",
        "formats": ["video", "in_person"],
        "place": "US-CA|San Francisco",
        "max_distance_km": "4321.5",
        "timezone": "America/Los_Angeles",
        "times": ["sat-morning"],
        "max_fee": "987.65",
        "insurance": "aetna",
        "style_directiveness": "2",
    }
    status, text, headers = web.send("POST", "/coordinator/intake", form=form)
    assert status == 303, text[:3000]
    results = urllib.parse.urlsplit(headers["Location"]).path
    assert web.send("GET", results)[0] == 200
    match_id = results.rsplit("/", 1)[1]
    assert web.send("GET", "/coordinator/referrals/none/rematch")[0] == 404
    relax = {"csrf_token": web.token(results), "drop": "faith"}
    assert web.send("POST", f"/coordinator/matches/{match_id}/relax", form=relax)[0] == 303
    assert web.send("GET", f"/coordinator/clients/{REF}")[0] == 200
    assert web.send("GET", f"/coordinator/clients?client_ref={REF}")[0] == 302
    assert web.send("GET", "/coordinator/urgent")[0] == 200
    erase = {"csrf_token": web.token(f"/coordinator/clients/{REF}/erase"), "confirm": "yes"}
    assert web.send("POST", f"/coordinator/clients/{REF}/erase", form=erase)[0] == 303


def test_no_intake_or_reference_in_any_log_line(
    demo_app: Flask, demo_admin: dict[str, str], logs: Everything
) -> None:
    with demo_app.extensions["matcher"].db.transaction() as session:
        users.create_user(session, email="kim@clinic.test", role="coordinator", password=PASSWORD)
    with live_server(demo_app) as base:
        _api_flow(Browser(base), demo_admin)
        _page_flow(Browser(base), "kim@clinic.test")
    logged = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(logs.lines))  # werkzeug's colours
    # The flows ran and were logged: access lines for the client's own pages among them.
    assert '"DELETE /api/v1/clients/- HTTP/1.1" 204' in logged
    assert '"GET /coordinator/clients/- HTTP/1.1" 200' in logged
    found = [
        marker
        for marker in MARKERS
        if re.search(rf"(?<![\w.-]){re.escape(marker)}(?![\w-])", logged)
    ]
    assert not found, found


def test_redaction_covers_paths_queries_and_referrers() -> None:
    line = (
        f'"GET /coordinator/clients/{REF}/erase?x=1 HTTP/1.1" '
        f'"http://h/coordinator/clients?client_ref={REF}&a=b"'
    )
    assert REF not in redact(line)
    assert "/coordinator/clients/-/erase?x=1" in redact(line)
    assert "client_ref=-&a=b" in redact(line)
