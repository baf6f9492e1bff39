"""Bearer API keys on every protected endpoint: 401 without a valid key, 403 without scope."""

from __future__ import annotations

from typing import NoReturn

from flask import g, request
from flask_smorest import abort

from matcher.services.keys import ApiKey, allows
from matcher.services.organisations import DEFAULT_ORGANISATION, reach
from matcher.web.api.limits import client_address, failed_keys
from matcher.web.context import services as app_services

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="matcher"'}


def _unauthorized(detail: str) -> NoReturn:
    abort(401, message=detail, headers=CHALLENGE)
    raise AssertionError("abort returned")


def current_key() -> ApiKey:
    """The key the current request was authenticated with."""
    key: ApiKey = g.api_key
    return key


def current_reach() -> str | None:
    """Whose records the current key sees: its organisation's, or every one's (None) for an
    admin key of the service (the default organisation)."""
    key = current_key()
    return reach(key.organisation_id, admin="admin" in key.scopes)


def authorize(scope: str) -> ApiKey:
    """Authenticate the request's bearer key and check that it carries ``scope``."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header:
        _unauthorized("Send an API key: Authorization: Bearer <key>.")
    if scheme.lower() != "bearer" or not secret.strip():
        _unauthorized("Use the Bearer scheme: Authorization: Bearer <key>.")
    services = app_services()
    key: ApiKey | None = services.keys.authenticate(services.db.session, secret=secret.strip())
    if key is None:
        failed_keys().note_failure(client_address())
        _unauthorized("Unknown or revoked API key.")
    services.uses.note(services.db.transaction, key)
    if not allows(key, scope):
        abort(403, message=f"This key lacks the {scope!r} scope.")
    if scope == "admin" and key.organisation_id != DEFAULT_ORGANISATION:
        # Models are the service's, one for all: only the service's admin keys change them.
        abort(403, message="The 'admin' endpoints take an admin key of the service organisation.")
    g.api_key = key
    return key
