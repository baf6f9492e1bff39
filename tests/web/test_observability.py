"""/metrics by route for the metrics token or an admin key; JSON log lines with a request id."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matcher.config import Settings
from matcher.web.logs import json_handler

Headers = dict[str, str]


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + ("{" if labels else " ")):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_by_route_never_by_path(
    client: FlaskClient, admin: Headers, make_key: Callable[..., Headers], make_profile: object
) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=make_key("match")).status_code == 401
    before = client.get("/metrics", headers=admin).get_data(as_text=True)
    route = "/api/v1/referrals/<id:referral_id>"
    for _ in range(3):
        assert client.get("/api/v1/referrals/r-secret-ref", headers=admin).status_code == 404
    profile = make_profile(id="t-met")  # type: ignore[operator]
    assert client.put("/api/v1/therapists/t-met", json=profile, headers=admin).status_code == 201
    body = {"intake": {"jurisdiction": "US-CA"}}
    assert client.post("/api/v1/match", json=body, headers=admin).status_code == 200
    scraped = client.get("/metrics", headers=admin)
    assert scraped.status_code == 200 and scraped.mimetype == "text/plain"
    text = scraped.get_data(as_text=True)
    assert "r-secret-ref" not in text
    counted = "matcher_http_requests_total"
    labels = {"route": route, "method": "GET", "status": "404"}
    assert sample(text, counted, **labels) - sample(before, counted, **labels) == 3
    matches = "matcher_match_duration_seconds_count"
    assert sample(text, matches) - sample(before, matches) == 1
    assert sample(text, "matcher_index_therapists") == 1
    assert sample(text, "matcher_model_version") == 1
    latency = "matcher_http_request_duration_seconds_count"
    assert sample(text, latency, route="/api/v1/match", method="POST") >= 1


def test_a_metrics_token_reads_metrics(settings: Settings, make_app: Callable[..., Flask]) -> None:
    client = make_app(replace(settings, metrics_token="scrape-me-0123456789")).test_client()
    assert (
        client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}).status_code
        == 200
    )
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 401


def test_request_ids_are_echoed_or_made(client: FlaskClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "edge-42.a:b"})
    assert given.headers["X-Request-ID"] == "edge-42.a:b"
    for bad in ("", "x" * 129, "no spaces", "nul\x01"):
        made = client.get("/healthz", headers={"X-Request-ID": bad} if bad else {})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"]), bad


def test_log_lines_are_json_with_the_request_id_and_no_client_ref(
    client: FlaskClient, admin: Headers, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    client.delete("/api/v1/clients/c-marker-7731", headers={**admin, "X-Request-ID": "rid-1"})
    logging.getLogger("matcher.test").warning("after")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    request_lines = [r for r in records if r["message"] == "request"]
    assert request_lines and request_lines[-1]["request_id"] == "rid-1"
    assert request_lines[-1]["route"] == "/api/v1/clients/<id:client_ref>"
    assert request_lines[-1]["status"] == 204 and {"time", "level", "duration_ms"} <= set(
        request_lines[-1]
    )
    assert records[-1]["message"] == "after" and records[-1]["request_id"] == "-"
    assert all("c-marker-7731" not in line for line in lines)


def test_the_handler_writes_one_object_per_line() -> None:
    handler = json_handler()
    record = logging.LogRecord("matcher", logging.INFO, __file__, 1, "two\nlines", None, None)
    handler.filter(record)
    assert json.loads(handler.format(record))["message"] == "two\nlines"
