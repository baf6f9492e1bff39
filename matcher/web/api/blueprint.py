"""The API's blueprint and request parser: JSON only, scopes declared beside each view."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest
from flask import Flask, Request
from flask_smorest import Api, abort
from marshmallow import Schema, missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import BaseConverter

from matcher.schemas.common import ProblemSchema
from matcher.schemas.fields import invalid_text
from matcher.web.api.auth import authorize
from matcher.web.api.problems import PROBLEM_MIMETYPE

F = TypeVar("F", bound=Callable[..., Any])

# The body is decoded as strict UTF-8, so a lone surrogate can only come from an escape: a body
# without ``\uD800``-``\uDFFF`` (either case) holds none, and needs no walk over its values.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


class IdConverter(BaseConverter):
    """A stored thing's id in a path: one segment (NUL is refused with 422 at the edge)."""

    regex = r"[^/]+"
    part_isolating = True
    # As documented: no control characters (the edge refuses them with 422, naming the part).
    SCHEMA: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "pattern": r"^[^\u0000-\u001F\u007F]+$",
    }


def register_converter(
    app: Flask, api: Api, name: str, converter: type[BaseConverter], schema: dict[str, Any]
) -> None:
    """Route ``<name:...>`` path parts with ``converter``; the document shows them as ``schema``."""
    app.url_map.converters[name] = converter
    api.register_converter(converter, lambda _: dict(schema))


class JsonParser(FlaskParser):
    """Refuse a body that is not JSON with 415 instead of reading it as missing."""

    # Query strings load with their schema's own setting (Strict: an unknown, say misspelt,
    # parameter is refused rather than silently ignored).
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }

    def load_json(self, req: Request, schema: Schema) -> Any:
        """Load the JSON body, or abort 415 when the request says it is something else."""
        if not is_json_request(req):
            if not req.content_length and not req.headers.get("Transfer-Encoding"):
                return missing  # no body at all: required fields are reported as missing
            abort(415, message="Send the body as JSON: Content-Type: application/json.")
        try:
            data = super().load_json(req, schema)
        except (RecursionError, ValueError):
            # Nesting too deep for the decoder, or an integer too long to convert.
            abort(400, message="Malformed JSON body.", errors={"body": ["Cannot be decoded."]})
        if not SURROGATE_ESCAPE.search(req.get_data(cache=True)):
            return data
        bad = invalid_text(data)
        if bad is not None:
            abort(422, errors={bad: ["Not valid Unicode (unpaired surrogate)."]})
        return data


class ApiBlueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose views declare the scope they need."""

    ARGUMENTS_PARSER = JsonParser()

    def problem(self, status: int, description: str) -> Callable[[F], F]:
        """Document a problem+json response of ``status``."""
        decorator: Callable[[F], F] = self.alt_response(
            status,
            schema=ProblemSchema,
            description=description,
            content_type=PROBLEM_MIMETYPE,
        )
        return decorator

    def requires(self, scope: str) -> Callable[[F], F]:
        """Require a bearer key with ``scope`` (checked before the body is read) and say so."""

        def decorator(view: F) -> F:
            @functools.wraps(view)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                authorize(scope)
                return view(*args, **kwargs)

            documented: F = self.doc(security=[{"bearerAuth": []}])(guarded)
            documented = self.problem(401, "No API key, or an unknown or revoked one")(documented)
            return self.problem(403, f"The key lacks the `{scope}` scope")(documented)

        return decorator
