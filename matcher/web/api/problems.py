"""RFC 9457 problem details for every API error, with the bad fields named."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

from matcher.schemas.fields import flatten_errors

PROBLEM_MIMETYPE = "application/problem+json"

# Which headers of an HTTP error are the client's to see (Allow on 405, Retry-After on 429...).
_PASSED_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem+json response."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if errors:
        body["errors"] = dict(errors)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _detail_for(error: HTTPException, errors: Mapping[str, list[str]]) -> str:
    if error.code == 422 and errors:
        return "Invalid fields: " + ", ".join(sorted(errors)) + "."
    if error.code == 404:
        return f"Nothing at {request.method} {request.path}."
    if error.code == 405:
        return f"{request.method} is not allowed on {request.path}."
    if error.code == 500:
        return "Internal error; it has been logged."
    return error.description or HTTPStatus(error.code or 500).phrase


def from_http_exception(error: HTTPException) -> Response:
    """Render any HTTP error (abort, routing, body limits) as problem+json."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    raw_errors = data.get("errors", data.get("messages"))
    errors: dict[str, list[str]] = {}
    if isinstance(raw_errors, Mapping):
        # webargs nests messages under the request location ("json", "query"): drop it.
        locations = {"json", "query", "path", "headers", "form", "files", "cookies"}
        if set(raw_errors) <= locations:
            for value in raw_errors.values():
                for path, msgs in flatten_errors(value).items():
                    errors.setdefault(path, []).extend(msgs)
        else:
            errors = flatten_errors(raw_errors)
    detail = data.get("message") or _detail_for(error, errors)
    headers = {name: value for name, value in error.get_headers() if name in _PASSED_HEADERS}
    headers.update(data.get("headers") or {})
    return problem(status, detail, errors=errors or None, headers=headers)
