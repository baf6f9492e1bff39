"""MATCHER_PROXIES: behind nginx, per-address limits count each client, not the proxy."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from flask import Flask

from matcher.config import Settings
from tests.web.coordinator.conftest import token


def _sign_in_codes(app: Flask, forwarded_for: list[str]) -> list[int]:
    """Wrong sign-ins, each forwarded by a proxy for the given client address."""
    codes = []
    for address in forwarded_for:
        client = app.test_client()
        form = token(client)
        codes.append(
            client.post(
                "/login",
                data={"email": "x@y.test", "password": "z", "csrf_token": form},
                headers={"X-Forwarded-For": address},
            ).status_code
        )
    return codes


def test_one_trusted_proxy_counts_each_client(
    settings: Settings, make_app: Callable[..., Flask]
) -> None:
    app = make_app(dataclasses.replace(settings, proxies=1, login_rate_limit="2 per hour"))
    # The proxy appends the address it saw to whatever the client sent; only that one counts.
    guesser = ["203.0.113.5", "203.0.113.5", "198.51.100.1, 203.0.113.5"]
    assert _sign_in_codes(app, guesser) == [400, 400, 429]
    assert _sign_in_codes(app, ["203.0.113.6"]) == [400]


def test_without_proxies_forwarded_addresses_are_ignored(
    settings: Settings, make_app: Callable[..., Flask]
) -> None:
    app = make_app(dataclasses.replace(settings, login_rate_limit="2 per hour"))
    codes = _sign_in_codes(app, ["203.0.113.5", "203.0.113.6", "203.0.113.7"])
    assert codes == [400, 400, 429]


def test_proxies_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="MATCHER_PROXIES"):
        Settings(proxies=-1)
