"""Per-key rate limits (Flask-Limiter): in Redis when configured, else in each process."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage

from matcher.config import Settings

log = logging.getLogger(__name__)


class SweptMemoryStorage(MemoryStorage):
    """limits' in-process storage, swept inline at most once a second instead of by a thread.

    The stock storage starts a timer thread whenever its last one has run out (10 ms), so under
    steady traffic a worker started a thread for nearly every request (bench/request_path.py).
    Counters still expire on read, as in the stock storage; the sweep only drops idle keys.
    """

    STORAGE_SCHEME = ["matcher-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._swept = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (overrides a private name)
        now = time.monotonic()
        if now - self._swept >= self.SWEEP_SECONDS:
            self._swept = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def rate_limit_key() -> str:
    """Who a request counts against: its API key (hashed), or its address without one."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return "key:" + hashlib.sha256(secret.strip().encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")


def _exempt() -> bool:
    path = request.path
    return not path.startswith("/api/v1/") or path.startswith(("/api/v1/docs", "/api/v1/openapi"))


def init_limits(app: Flask, settings: Settings) -> Limiter:
    """Limit every API request per key, all endpoints together, by the key's own limit.

    Without ``MATCHER_REDIS_URL`` each gunicorn worker counts on its own, so the effective limit
    is the configured one times the number of workers; Redis is the only way the limit holds
    across workers and hosts. If Redis is unreachable, requests are still served (the limiter
    falls back to memory and logs it) rather than failing.
    """

    def limit_of_key() -> str:
        """The request's key's own limit, else ``MATCHER_RATE_LIMIT`` (unknown keys too)."""
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return settings.rate_limit
        services = app.extensions["matcher"]
        key = services.keys.authenticate(services.db.session, secret=secret.strip())
        return (key.rate_limit if key is not None else None) or settings.rate_limit

    return Limiter(
        rate_limit_key,
        app=app,
        # One bucket per key over every endpoint (application limits are shared by all routes).
        application_limits=[limit_of_key],
        application_limits_exempt_when=_exempt,
        storage_uri=settings.redis_url or "matcher-memory://",
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1}
        if settings.redis_url
        else {},
        # O(1) per hit, unlike the moving window whose cost grows with the requests it holds.
        strategy="sliding-window-counter",
        headers_enabled=False,
        swallow_errors=True,
        in_memory_fallback_enabled=bool(settings.redis_url),
        key_prefix="matcher",
    )


def retry_after(limiter: Limiter) -> str:
    """Seconds until the breached limit lets the next request through (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return "60"
    return str(max(1, int(current.reset_at - time.time()) + 1))
