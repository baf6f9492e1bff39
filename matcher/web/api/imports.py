"""Reading a bulk import's body: the same formats, limits and streaming for every import."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import request
from flask_smorest import abort

from matcher.services import directory
from matcher.web.context import services


def import_records() -> tuple[Iterable[Any], directory.ImportLimits]:
    """The request's records (NDJSON read as it arrives, a JSON array whole) and their limits.

    Each format has its own body limit: a JSON array is read whole, NDJSON a line at a time.
    """
    settings = services().settings
    ndjson = request.mimetype in directory.NDJSON_TYPES
    json = request.mimetype == "application/json" or request.mimetype.endswith("+json")
    if not (ndjson or json):
        abort(415, message="Send a JSON array (application/json) or NDJSON.")
    request.max_content_length = (
        settings.max_import_bytes if ndjson else settings.max_import_json_bytes
    )
    records: Iterable[Any] = (
        directory.ndjson_records(directory.read_chunks(request.stream))
        if ndjson
        else directory.json_array(request.get_data(cache=False))
    )
    limits = directory.ImportLimits(settings.max_import_records, settings.max_import_errors)
    return records, limits
