"""Rate limits per API key: 429 problem+json with Retry-After; shared through Redis."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask

from matcher.config import Settings
from matcher.services.errors import Invalid
from matcher.services.keys import create_key, list_keys
from matcher.storage.database import Database
from matcher.web.api.limits import SweptMemoryStorage

REDIS_URL = os.environ.get("MATCHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_limit_gives_429_with_retry_after(
    settings: Settings, make_app: Callable[..., Flask]
) -> None:
    app = make_app(replace(settings, rate_limit="3 per minute"))
    with app.extensions["matcher"].db.transaction() as session:
        _, secret = create_key(session, name="t", scopes=["profiles"])
    client, headers = app.test_client(), {"Authorization": f"Bearer {secret}"}
    statuses = [client.get("/api/v1/therapists", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/therapists", headers=headers)
    assert limited.mimetype == "application/problem+json"
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    # Another key has its own allowance; health checks are never limited.
    with app.extensions["matcher"].db.transaction() as session:
        _, other = create_key(session, name="u", scopes=["profiles"])
    assert (
        client.get("/api/v1/therapists", headers={"Authorization": f"Bearer {other}"}).status_code
        == 200
    )
    assert all(client.get("/healthz").status_code == 200 for _ in range(5))


def test_redis_shares_the_limit_across_workers(
    settings: Settings, make_app: Callable[..., Flask]
) -> None:
    redis = pytest.importorskip("redis")
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1) as probe:
            probe.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    shared = replace(settings, rate_limit="4 per minute", redis_url=REDIS_URL)
    first, second = make_app(shared, "a"), make_app(shared, "b")
    with first.extensions["matcher"].db.transaction() as session:
        _, secret = create_key(session, name="t", scopes=["profiles"])
    headers = {"Authorization": f"Bearer {secret}"}
    a, b = first.test_client(), second.test_client()
    statuses = [
        c.get("/api/v1/therapists", headers=headers).status_code for c in (a, b, a, b, a, b)
    ]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_one_bucket_per_key_over_every_endpoint_and_the_keys_own_limit(
    settings: Settings, make_app: Callable[..., Flask]
) -> None:
    app = make_app(replace(settings, rate_limit="100 per minute"))
    with app.extensions["matcher"].db.transaction() as session:
        _, tight = create_key(session, name="t", scopes=["admin"], rate_limit="4 per minute")
        _, roomy = create_key(session, name="u", scopes=["admin"])
    client = app.test_client()
    paths = ["/api/v1/therapists", "/api/v1/models", "/api/v1/instruments", "/api/v1/audit"]
    headers = {"Authorization": f"Bearer {tight}"}
    statuses = [client.get(path, headers=headers).status_code for path in [*paths, paths[0]]]
    assert statuses == [200, 200, 200, 200, 429]  # four endpoints, one allowance of 4
    roomy_headers = {"Authorization": f"Bearer {roomy}"}
    assert all(client.get(p, headers=roomy_headers).status_code == 200 for p in paths * 2)


def test_a_keys_last_use_is_noted(settings: Settings, make_app: Callable[..., Flask]) -> None:
    app = make_app(settings)
    db = app.extensions["matcher"].db
    with db.transaction() as session:
        key, secret = create_key(session, name="t", scopes=["profiles"])
    assert key.last_used_at is None
    app.test_client().get("/api/v1/therapists", headers={"Authorization": f"Bearer {secret}"})
    with db.session() as session:
        used = next(k for k in list_keys(session) if k.id == key.id)
    assert used.last_used_at is not None


def test_a_bad_rate_limit_is_refused_naming_the_field(db: Database) -> None:
    with db.transaction() as session, pytest.raises(Invalid) as refused:
        create_key(session, name="t", scopes=["match"], rate_limit="lots")
    assert "rate_limit" in refused.value.errors


def test_unknown_keys_from_one_address_are_refused_before_any_lookup(
    settings: Settings, make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the allowance of unknown keys, 429 without a database lookup; good keys still pass."""
    app = make_app(replace(settings, failed_key_limit="5 per minute"))
    with app.extensions["matcher"].db.transaction() as session:
        _, good = create_key(session, name="t", scopes=["profiles"])
    client = app.test_client()
    good_headers = {"Authorization": f"Bearer {good}"}
    assert client.get("/api/v1/therapists", headers=good_headers).status_code == 200
    guesses = [f"{good[:-6]}{n:06d}" for n in range(8)]
    statuses = [
        client.get("/api/v1/therapists", headers={"Authorization": f"Bearer {g}"}).status_code
        for g in guesses
    ]
    assert statuses == [401] * 5 + [429] * 3
    lookups: list[str] = []
    real = Database.session

    def counted(db: Database) -> object:
        lookups.append("session")
        return real(db)

    monkeypatch.setattr(Database, "session", counted)
    refused = client.get("/api/v1/therapists", headers={"Authorization": "Bearer " + guesses[0]})
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert lookups == []
    # The key this worker knows keeps working from the same address.
    assert client.get("/api/v1/therapists", headers=good_headers).status_code == 200
    # Another address has its own allowance.
    other = client.get(
        "/api/v1/therapists",
        headers={"Authorization": "Bearer " + guesses[0]},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other.status_code == 401


def test_redis_unreachable_is_logged_and_limits_hold_in_memory(
    settings: Settings, make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    closed = "redis://127.0.0.1:9/1"  # the discard port: nothing listens there
    app = make_app(
        replace(
            settings, rate_limit="3 per minute", failed_key_limit="2 per minute", redis_url=closed
        )
    )
    with app.extensions["matcher"].db.transaction() as session:
        _, secret = create_key(session, name="t", scopes=["profiles"])
    client, headers = app.test_client(), {"Authorization": f"Bearer {secret}"}
    with caplog.at_level("WARNING"):
        statuses = [client.get("/api/v1/therapists", headers=headers).status_code for _ in range(5)]
        wrong = {"Authorization": f"Bearer {secret[:-4]}0000"}
        guessed = [client.get("/api/v1/therapists", headers=wrong).status_code for _ in range(3)]
    assert statuses == [200, 200, 200, 429, 429]
    assert guessed == [401, 401, 429]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("unreachable" in message for message in warnings), warnings


def test_the_in_process_limit_counts_without_a_thread_per_request(
    settings: Settings, make_app: Callable[..., Flask]
) -> None:
    app = make_app(replace(settings, rate_limit="5 per minute"))
    storage = app.extensions["key_limits"].local.storage
    assert isinstance(storage, SweptMemoryStorage)
    with app.extensions["matcher"].db.transaction() as session:
        _, secret = create_key(session, name="t", scopes=["profiles"])
    client, headers = app.test_client(), {"Authorization": f"Bearer {secret}"}
    first_timer = storage.timer  # the stock storage replaces it with a new thread as it runs out
    statuses = []
    for _ in range(6):
        statuses.append(client.get("/api/v1/therapists", headers=headers).status_code)
        time.sleep(0.02)  # longer than the stock storage's 10 ms timer
    assert statuses == [200] * 5 + [429]
    assert storage.timer is first_timer
