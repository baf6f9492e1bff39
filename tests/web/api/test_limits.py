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


def test_the_in_process_limit_counts_without_a_thread_per_request(
    settings: Settings, make_app: Callable[..., Flask]
) -> None:
    app = make_app(replace(settings, rate_limit="5 per minute"))
    limiter = next(iter(app.extensions["limiter"]))
    storage = limiter.storage
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
