"""Per-key rate limits (the limits library): in Redis when configured, else in each process.

API requests are counted by one before-request check that calls ``limits`` directly: one bucket
per key, its limit parsed once. Flask-Limiter's own per-request resolution (every limit of every
scope, on every request) cost about 0.19 ms of a 2 ms match; it still guards the sign-in form.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_smorest import abort
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import RateLimiter, SlidingWindowCounterRateLimiter

from matcher.config import Settings

log = logging.getLogger(__name__)
FAILED = "failed-auth"
LIMITED = "matcher-key"  # the namespace of the per-key buckets
DEAD_STORAGE_RETRY = 30.0  # seconds before an unreachable Redis is tried again


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
    secret = bearer_secret()
    if secret is not None:
        return "key:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")


def _exempt() -> bool:
    path = request.path
    return not path.startswith("/api/v1/") or path.startswith(("/api/v1/docs", "/api/v1/openapi"))


def bearer_secret() -> str | None:
    """The request's bearer key, if it sends one."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


class Counters:
    """Sliding-window counters (O(1) a hit) in the shared storage, in memory while it is down."""

    def __init__(self, shared: RateLimiter | None) -> None:
        self.shared = shared
        self.local: RateLimiter = SlidingWindowCounterRateLimiter(SweptMemoryStorage())
        self._shared_dead_until = 0.0

    def _strategy(self) -> RateLimiter:
        if self.shared is not None and time.monotonic() >= self._shared_dead_until:
            return self.shared
        return self.local

    def run(self, call: str, item: RateLimitItem, *keys: str) -> bool:
        """``hit`` or ``test`` ``item`` for ``keys``: whether it is within its allowance."""
        strategy = self._strategy()
        try:
            return bool(getattr(strategy, call)(item, *keys))
        except Exception:  # any storage failure: count in memory for a while
            if strategy is self.local:
                raise
            log.warning("Rate limit storage unreachable: counting in memory for 30 s")
            self._shared_dead_until = time.monotonic() + DEAD_STORAGE_RETRY
            return bool(getattr(self.local, call)(item, *keys))

    def retry_after(self, item: RateLimitItem, *keys: str) -> int:
        """Seconds until ``keys`` may be counted against ``item`` again (at least 1)."""
        try:
            reset = self._strategy().get_window_stats(item, *keys).reset_time
        except Exception:  # storage gone since the check: the memory count
            reset = self.local.get_window_stats(item, *keys).reset_time
        return max(1, int(reset - time.time()) + 1)


@functools.lru_cache(maxsize=256)
def parsed(limit: str) -> RateLimitItem:
    """A limit such as "100 per minute", parsed once (keys' limits are checked when stored)."""
    return parse(limit)


class FailedKeys:
    """Unknown keys per client address: past the limit, 429 before any key is looked up.

    Without it every wrong key cost a database lookup and a bucket of its own (90 random keys,
    0 refused). Counted in the limiter's storage (Redis when configured), in memory while that
    is unreachable. A key this worker found recently still passes, so one address trying keys
    behind a shared proxy does not lock out the keys that work.
    """

    def __init__(self, limit: str, counters: Counters) -> None:
        self.item = parse(limit)
        self.counters = counters

    def refused(self, address: str) -> bool:
        """Whether ``address`` has used up its allowance of unknown keys."""
        return not self.counters.run("test", self.item, FAILED, address)

    def note_failure(self, address: str) -> None:
        """Count one unknown key from ``address``."""
        self.counters.run("hit", self.item, FAILED, address)

    def retry_after(self, address: str) -> int:
        """Seconds until ``address`` may try a key again (at least 1)."""
        return self.counters.retry_after(self.item, FAILED, address)


def client_address() -> str:
    """The address a request came from (the proxy's own unless one passes it on)."""
    return request.remote_addr or "unknown"


def failed_keys() -> FailedKeys:
    """This app's count of unknown keys per address."""
    guard: FailedKeys = current_app.extensions["failed_keys"]
    return guard


def init_limits(app: Flask, settings: Settings) -> Limiter:
    """Limit every API request per key, all endpoints together, by the key's own limit.

    Without ``MATCHER_REDIS_URL`` each gunicorn worker counts on its own, so the effective limit
    is the configured one times the number of workers; Redis is the only way the limit holds
    across workers and hosts. If Redis is unreachable, requests are still served (the counts
    fall back to memory and it is logged) rather than failing. The returned Flask-Limiter
    instance limits pages (the sign-in form); it leaves API requests to the check here.
    """
    shared = None
    if settings.redis_url:
        storage = storage_from_string(
            settings.redis_url, socket_connect_timeout=1, socket_timeout=1
        )
        shared = SlidingWindowCounterRateLimiter(storage)
    counters = Counters(shared)
    guard = FailedKeys(settings.failed_key_limit, counters)
    app.extensions["failed_keys"] = guard
    app.extensions["key_limits"] = counters

    @app.before_request
    def _refuse_key_guessing() -> None:
        # Before the key's own limit, which looks the key up.
        secret = bearer_secret()
        if secret is None or _exempt() or app.extensions["matcher"].keys.cached(secret) is not None:
            return  # a known key is never refused here: no need to count the address
        if not guard.refused(client_address()):
            return
        abort(
            429,
            message="Too many unknown API keys from this address; wait before trying again.",
            headers={"Retry-After": str(guard.retry_after(client_address()))},
        )

    def limit_of_key() -> str:
        """The request's key's own limit, else ``MATCHER_RATE_LIMIT`` (unknown keys too)."""
        secret = bearer_secret()
        if secret is None:
            return settings.rate_limit
        services = app.extensions["matcher"]
        key = services.keys.authenticate(services.db.session, secret=secret)
        return (key.rate_limit if key is not None else None) or settings.rate_limit

    @app.before_request
    def _limit_per_key() -> None:
        # One bucket per key over every endpoint.
        if _exempt():
            return
        item, who = parsed(limit_of_key()), rate_limit_key()
        if counters.run("hit", item, LIMITED, who):
            return
        abort(
            429,
            message=f"Rate limit exceeded: {item}. Wait before sending more requests.",
            headers={"Retry-After": str(counters.retry_after(item, LIMITED, who))},
        )

    limiter = Limiter(
        rate_limit_key,
        app=app,
        storage_uri=settings.redis_url or "matcher-memory://",
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1}
        if settings.redis_url
        else {},
        strategy="sliding-window-counter",
        headers_enabled=False,
        swallow_errors=True,
        in_memory_fallback_enabled=bool(settings.redis_url),
        key_prefix="matcher",
    )

    # The API is counted above: Flask-Limiter checks the other requests only. Its request filter
    # would exempt API requests too, but only after resolving their endpoint's limits (about a
    # twentieth of a match request's time), so its hook is swapped for one that skips them.
    def api_request() -> bool:
        return request.path.startswith("/api/")

    limiter.request_filter(api_request)
    hooks = app.before_request_funcs[None]
    at = hooks.index(limiter._check_request_limit)
    check = hooks[at]

    def _limit_pages() -> None:
        if not api_request():
            check()

    hooks[at] = _limit_pages
    return limiter


def retry_after(limiter: Limiter) -> str:
    """Seconds until the breached limit lets the next request through (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return "60"
    return str(max(1, int(current.reset_at - time.time()) + 1))
