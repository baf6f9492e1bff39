"""``/metrics`` for Prometheus: requests and latency per route, match latency, index, model.

Under ``matcher serve`` every gunicorn worker writes its figures to files in one folder
(``PROMETHEUS_MULTIPROC_DIR``, made by ``matcher.serving``) and a scrape adds them up, so both
workers count whichever answers the scrape. The library reads that variable when it is first
imported, which is why it is imported here only once the app is being built.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request
from flask_smorest import abort

from matcher.services.keys import allows
from matcher.web.context import services

# Latency buckets in seconds, from a cached match (a few ms) to a large import (a minute).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class Instruments:
    """The service's metrics, made once per process."""

    requests: Any
    latency: Any
    match_latency: Any
    index_size: Any
    model_version: Any


_made: Instruments | None = None


def instruments() -> Instruments:
    """The metrics of this process (made on first use, after the multiprocess folder is set)."""
    global _made
    if _made is None:
        from prometheus_client import Counter, Gauge, Histogram

        _made = Instruments(
            requests=Counter(
                "matcher_http_requests_total",
                "Requests answered, by route (never the raw path), method and status",
                ["route", "method", "status"],
            ),
            latency=Histogram(
                "matcher_http_request_duration_seconds",
                "Time to answer a request, by route and method",
                ["route", "method"],
                buckets=BUCKETS,
            ),
            match_latency=Histogram(
                "matcher_match_duration_seconds",
                "Time to rank and explain one match (POST /api/v1/match), recorded or not",
                buckets=BUCKETS,
            ),
            index_size=Gauge(
                "matcher_index_therapists",
                "Therapists in the matching index of the worker that last matched",
                multiprocess_mode="mostrecent",
            ),
            model_version=Gauge(
                "matcher_model_version",
                "The model version in force for the worker that last matched",
                multiprocess_mode="mostrecent",
            ),
        )
    return _made


def route() -> str:
    """The request's URL rule (``/api/v1/referrals/<id:referral_id>``), never its raw path."""
    rule = request.url_rule
    return rule.rule if rule is not None else "(no route)"


@contextmanager
def timing_match() -> Iterator[None]:
    """Time one match."""
    started = time.perf_counter()
    try:
        yield
    finally:
        instruments().match_latency.observe(time.perf_counter() - started)


def note_index(therapists: int, model_version: int) -> None:
    """Note the size of the index and the model version a match ran on."""
    made = instruments()
    made.index_size.set(therapists)
    made.model_version.set(model_version)


def _may_read() -> bool:
    """The metrics token (``MATCHER_METRICS_TOKEN``) or an admin API key."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        return False
    app = services()
    token = app.settings.metrics_token
    if token and hmac.compare_digest(secret.encode(), token.encode()):
        return True
    key = app.keys.authenticate(app.db.session, secret=secret)
    return key is not None and allows(key, "admin")


def exposition() -> Response:
    """Every worker's metrics (or this process's alone outside gunicorn), in text format."""
    import prometheus_client
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = prometheus_client.REGISTRY
    if services().settings.metrics_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST.split(";")[0])


def init_metrics(app: Flask) -> None:
    """Count every request and serve ``/metrics`` to the metrics token or an admin key."""
    instruments()

    @app.before_request
    def _start_clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            made, where = instruments(), route()
            made.latency.labels(where, request.method).observe(time.perf_counter() - started)
            made.requests.labels(where, request.method, str(response.status_code)).inc()
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        """Prometheus metrics (the metrics token or an admin key)."""
        if not _may_read():
            abort(
                401,
                message="Send the metrics token or an admin API key: Authorization: Bearer ...",
                headers={"WWW-Authenticate": 'Bearer realm="matcher"'},
            )
        return exposition()
