"""Structured logs: one JSON object per line, each with the request id of the request it is about.

A request's id is its ``X-Request-ID`` when that is sane (1-128 letters, digits, ``._:-``), else
a new one; either way it is echoed in the response. One line per request names the route (the URL
rule, never the raw path, which can hold a client reference), method, status and duration: no
query, no body, no client reference, no intake content.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from matcher.web.metrics import route

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
HEADER = "X-Request-ID"
# The loggers this service writes to; gunicorn keeps its own for its start-up and worker news.
LOGGERS = ("matcher", "flask-limiter")  # "matcher" is also the Flask app's own logger
log = logging.getLogger("matcher.requests")


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record logged while serving it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach ``request_id`` (``-`` outside a request)."""
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever standard error is now (a test's capture, a redirected stream)."""

    @property
    def stream(self) -> Any:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def json_handler() -> logging.Handler:
    """A standard-error handler writing one JSON object per record."""
    handler = StandardError()
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(RequestIdFilter())
    handler.set_name("matcher-json")
    return handler


def configure(level: str) -> None:
    """Send the service's loggers to one JSON handler (once per process)."""
    handler = json_handler()
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(h.get_name() == handler.get_name() for h in logger.handlers):
            logger.addHandler(handler)
        for existing in logger.handlers:
            existing.addFilter(RequestIdFilter())


def init_logs(app: Flask, level: str) -> None:
    """JSON logs with request ids, and one line per request."""
    configure(level)

    @app.before_request
    def _request_id() -> None:
        given = request.headers.get(HEADER, "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        g.logs_started = time.perf_counter()

    @app.after_request
    def _echo_and_log(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id is None:
            return response
        response.headers[HEADER] = request_id
        if not log.isEnabledFor(logging.INFO):
            return response
        started = g.get("logs_started", time.perf_counter())
        log.info(
            "request",
            extra={
                "route": route(),
                "method": request.method,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response
