"""The edge refuses text a database cannot store, naming where it was, before any service runs."""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask, request
from flask_smorest import abort

# PostgreSQL refuses NUL in text and JSON; neither database stores a lone surrogate as UTF-8;
# an API key, path id or header value never needs another control character.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
MESSAGE = "Must not contain NUL, control characters or unpaired surrogates."


def _bad(pairs: Iterable[tuple[str, str]], pattern: re.Pattern[str]) -> dict[str, list[str]]:
    return {
        name: [MESSAGE] for name, value in pairs if pattern.search(value) or UNSTORABLE.search(name)
    }


def unstorable_parts() -> dict[str, list[str]]:
    """Every path id, query parameter, form field and credential header of this request that a
    database could not store, by name."""
    bad = _bad(((k, str(v)) for k, v in (request.view_args or {}).items()), UNPRINTABLE)
    bad |= _bad(request.args.items(multi=True), UNSTORABLE)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        bad |= _bad(request.form.items(multi=True), UNSTORABLE)
    bad |= _bad(
        ((name, request.headers[name]) for name in ("Authorization",) if name in request.headers),
        UNPRINTABLE,
    )
    return bad


def init_storable(app: Flask) -> None:
    """Check every request's path, query, form and key before anything else reads them."""

    @app.before_request
    def _refuse_unstorable() -> None:
        bad = unstorable_parts()
        if bad:
            abort(422, message="Invalid fields: " + ", ".join(sorted(bad)) + ".", errors=bad)
