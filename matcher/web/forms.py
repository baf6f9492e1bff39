"""Forms on the pages: field ids from error paths, and form data read into the API's shapes."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

_SEPARATORS = re.compile(r"[^A-Za-z0-9_-]+")


def field_id(path: str) -> str:
    """The element id of an error path: ``licenses[0].jurisdiction`` -> ``licenses-0-jurisdiction``.

    The error summary links to it and the field macro gives its input the same id, so both
    sides use this one function.
    """
    return _SEPARATORS.sub("-", path).strip("-").replace("_", "-") or "main-content"


def text(form: MultiDict[str, str], name: str) -> str | None:
    """A text field as typed, trimmed; None when left empty."""
    value = form.get(name, "").strip()
    return value or None


def number(form: MultiDict[str, str], name: str, errors: dict[str, list[str]]) -> Any:
    """A number field: int or float as typed, None when empty; a note in ``errors`` if not one."""
    raw = text(form, name)
    if raw is None:
        return None
    try:
        value = float(raw.replace(",", "").lstrip("$€£").removeprefix("CA$").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors[name] = ["Enter a number, like 120."]
        return None
    return int(value) if value.is_integer() else value


def merge_errors(*sources: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Error lists by path, in the order given, without repeating a message."""
    merged: dict[str, list[str]] = {}
    for source in sources:
        for path, messages in source.items():
            kept = merged.setdefault(path, [])
            kept.extend(m for m in messages if m not in kept)
    return merged
