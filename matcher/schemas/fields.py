"""Marshmallow field types for the service's codes, and how their errors are named.

Each type used in the profile has a compiled counterpart in compiled.py (what ``_deserialize``
accepts, restated as plain checks); change one and tests/schemas/test_compiled.py says if the other
no longer agrees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate

from matcher import vocabulary as vocab

CODE_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")
# [0-9], not \d: Python's \d also takes other scripts' digits, ECMA-262's does not.
_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]"
CLOCK_PATTERN = re.compile(f"^{_CLOCK}$")
CLOCK_END_PATTERN = re.compile(f"^({_CLOCK}|24:00)$")

Choices = Collection[str] | Mapping[str, str] | Callable[[], Collection[str]]


def _resolve(choices: Choices) -> Collection[str]:
    return choices() if callable(choices) else choices


class Pattern(validate.Validator):
    """A regular expression the whole value must match, as the document's pattern means it."""

    # Not validate.Regexp: it uses re.match, whose "$" also matches before a final newline, so
    # "aetna\n" would pass here and fail the ECMA-262 pattern the document shows.
    def __init__(self, regex: str | re.Pattern[str], *, error: str) -> None:
        self.regex = re.compile(regex)
        self.message = error

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self.message)
        return value


class Code(fields.String):
    """A code from one vocabulary, refused with a short message naming the vocabulary."""

    def __init__(self, choices: Choices, vocabulary: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = choices
        self.vocabulary = vocabulary

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        if code not in _resolve(self.choices):
            raise ValidationError(
                f"Unknown {self.vocabulary} code {code[:40]!r}; see GET /api/v1/vocabulary."
            )
        return code


def code_choices(field: Code) -> list[str]:
    """A Code field's allowed values, sorted, for the document."""
    return sorted(_resolve(field.choices))


class CodeList(fields.List[str]):
    """An ordered list of distinct codes from one vocabulary."""

    def __init__(
        self, choices: Choices, vocabulary: str, *, min_items: int = 0, **kwargs: Any
    ) -> None:
        if not kwargs.get("required"):
            kwargs.setdefault("load_default", list)
        super().__init__(
            Code(choices, vocabulary),
            validate=[validate.Length(min=min_items, max=64), distinct],
            **kwargs,
        )

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> list[str | None]:
        # The same rules as the inner Code field, checked in one loop: a list of codes is the
        # commonest thing in a profile, and a field call per item was most of its cost.
        if isinstance(value, list):
            known = _resolve(self.inner.choices)  # type: ignore[attr-defined]
            if all(type(item) is str and item in known for item in value):
                return list(value)
        return super()._deserialize(value, attr, data, **kwargs)


class OpaqueCode(fields.String):
    """A free lower_snake_case code (insurance plans, credentials' keys)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            validate=Pattern(CODE_PATTERN, error="Use lower_snake_case, 1-40 characters."),
            **kwargs,
        )


class Text(fields.String):
    """Free text: any characters but NUL, which PostgreSQL cannot store in text or JSON."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": r"^[^\u0000]*$", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Must not contain NUL (\\u0000) characters.")
        if not unicode_text(text):
            raise ValidationError(UNPAIRED)
        return text


UNPAIRED = "Not valid Unicode (unpaired surrogate)."


def unicode_text(text: str) -> bool:
    """Whether ``text`` can be stored as UTF-8 (JSON may escape a lone surrogate, "\\ud800")."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StrictBoolean(fields.Boolean):
    """A JSON boolean: refuses the strings and numbers marshmallow would otherwise coerce."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean (use true or false).")
        return value


class Number(fields.Float):
    """A finite JSON number: refuses strings and booleans."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Not a valid number.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictInteger(fields.Integer):
    """A JSON integer: refuses 2.5, "2" and booleans."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


class Clock(fields.String):
    """A local time of day as ``HH:MM``; ``24:00`` is allowed where a window may end."""

    def __init__(self, *, allow_midnight_end: bool = False, **kwargs: Any) -> None:
        self.pattern = CLOCK_END_PATTERN if allow_midnight_end else CLOCK_PATTERN
        kwargs["metadata"] = {"pattern": self.pattern.pattern, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if self.pattern.fullmatch(text):
            return text
        if self.pattern is CLOCK_END_PATTERN:
            raise ValidationError("Use HH:MM, 24-hour clock (00:00 to 24:00).")
        raise ValidationError("Use HH:MM, 24-hour clock (00:00 to 23:59).")


class TimeZone(fields.String):
    """An IANA time zone; an alias (``US/Pacific``) is kept as its zone (America/Los_Angeles)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "format": "time-zone",
            "example": "America/Los_Angeles",
            "description": (
                "An IANA time zone (tz database) such as America/Los_Angeles; GET "
                "/api/v1/vocabulary lists them under `timezones`. An alias such as US/Pacific "
                "is accepted and stored as its zone. Not a zone: Factory, localtime."
            ),
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        zone = vocab.zone_named(name)
        if zone is None:
            raise ValidationError(
                f"Unknown time zone {name[:64]!r}; use an IANA zone such as America/Los_Angeles."
            )
        return zone


def distinct(values: list[Any]) -> None:
    """Refuse a list that names the same item twice."""
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValidationError(f"{value!r} is listed twice.")
        seen.add(value)


def field_path(parts: list[str | int]) -> str:
    """Render a path into a document as ``a.b[0].c`` (``[3].name`` for a record index)."""
    out = ""
    for part in parts:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def flatten_errors(messages: Any, prefix: list[str | int] | None = None) -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into ``{"field.path": [messages]}``."""
    prefix = prefix or []
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping) and messages and set(messages) <= {"key", "value"}:
        # marshmallow's Dict field nests its errors under "key"/"value": name the entry itself.
        for sub in messages.values():
            for path, msgs in flatten_errors(sub, prefix).items():
                flat.setdefault(path, []).extend(msgs)
    elif isinstance(messages, Mapping):
        for key, value in messages.items():
            part: list[str | int] = [] if key == "_schema" else [key]
            for path, msgs in flatten_errors(value, prefix + part).items():
                flat.setdefault(path, []).extend(msgs)
    elif isinstance(messages, list | tuple):
        path = field_path(prefix) or "body"
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                for sub, msgs in flatten_errors(item, prefix).items():
                    flat.setdefault(sub, []).extend(msgs)
            else:
                flat.setdefault(path, []).append(str(item))
    else:
        flat.setdefault(field_path(prefix) or "body", []).append(str(messages))
    return flat


def count_messages(messages: Any) -> int:
    """How many messages marshmallow's nested error messages hold."""
    if isinstance(messages, dict):
        return sum(count_messages(value) for value in messages.values())
    if isinstance(messages, list | tuple):
        return sum(count_messages(item) for item in messages)
    return 1


def invalid_text(value: Any, path: list[str | int] | None = None) -> str | None:
    """The path of the first string that is not valid Unicode (a lone surrogate), if any.

    JSON may escape such code points (``"\\ud800"``), but they cannot be stored as UTF-8.
    """
    try:  # one pass in C over the whole value; the walk below only says where
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return None
    except (UnicodeEncodeError, TypeError, ValueError):
        return _invalid_text_at(value, path or [])


def _invalid_text_at(value: Any, path: list[str | int]) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return field_path(path) or "body"
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _invalid_text_at(key, path) or _invalid_text_at(item, [*path, str(key)])
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _invalid_text_at(item, [*path, index])
            if found:
                return found
    return None
