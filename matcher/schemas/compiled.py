"""A marshmallow schema compiled, once, into plain checks that return what ``load`` returns.

The schema stays the definition: the compiler walks its fields, their validators, defaults and
the schema-level rules (whose own methods it calls), and builds one closure per field. A closure
accepts only what it is sure ``load`` accepts, and returns the same value (same types, defaults,
key order); for anything else it raises ``Undecided`` and the caller asks ``load``, so every
refusal and its messages are the schema's own. A field type, validator or hook the compiler does
not know stops the compilation (``NotCompilable``) rather than being guessed at.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

from matcher import vocabulary as vocab
from matcher.schemas.fields import (
    Clock,
    Code,
    CodeList,
    Number,
    OpaqueCode,
    Pattern,
    StrictBoolean,
    StrictInteger,
    Text,
    TimeZone,
    distinct,
)

Check = Callable[[Any], Any]


class Undecided(Exception):
    """The compiled check does not accept this value; the schema's ``load`` decides."""


class NotCompilable(Exception):
    """The schema uses a field type, validator or hook the compiler does not know."""


def compile_schema(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """A check returning exactly what ``schema.load`` returns, or raising ``Undecided``."""
    return _object(schema, unknown=schema.unknown, where=type(schema).__name__)


def compile_field(field: fields.Field[Any], where: str = "") -> Check:
    """A check returning exactly what ``field.deserialize`` returns for a value that is given."""
    where = where or type(field).__name__
    for option in ("data_key", "attribute"):
        if getattr(field, option) is not None:
            raise NotCompilable(f"{where}: {option} is not supported by the compiled check")
    if field.pre_load or field.post_load:
        raise NotCompilable(f"{where}: field pre_load/post_load functions are not supported")
    build = _BUILDERS.get(type(field))
    if build is None:
        raise NotCompilable(
            f"{where}: {type(field).__name__} is unknown to matcher/schemas/compiled.py; "
            "teach it there (and its property test) before using it in a compiled schema"
        )
    check = _validated(build(field, where), field, where)
    if not field.allow_none:
        return check  # every check refuses None on its own: None is of no accepted type

    def nullable(value: Any) -> Any:
        return None if value is None else check(value)

    return nullable


def _object(schema: Schema, *, unknown: str, where: str) -> Callable[[Any], dict[str, Any]]:
    """A check for one object of ``schema``: its fields in order, defaults, then its rules."""
    if schema.many or schema.partial or unknown != RAISE or schema.dict_class is not dict:
        raise NotCompilable(f"{where}: only many=False, partial=None, unknown=RAISE are supported")
    hooks = type(schema).resolve_hooks()
    for tag in (PRE_LOAD, POST_LOAD, VALIDATES):
        if hooks.get(tag):
            raise NotCompilable(f"{where}: {tag} hooks are not supported")
    rules: list[tuple[Callable[..., Any], bool]] = []
    for name, many, options in hooks.get(VALIDATES_SCHEMA, ()):
        if many:
            raise NotCompilable(f"{where}.{name}: pass_collection rules are not supported")
        rules.append((getattr(schema, name), bool(options.get("pass_original"))))

    steps: list[tuple[str, Check, bool, Callable[[], Any] | None]] = []
    for name, field in schema.load_fields.items():
        if "." in name:
            raise NotCompilable(f"{where}.{name}: dotted names are not supported")
        field_check = compile_field(field, f"{where}.{name}")
        steps.append((name, field_check, field.required, _default(field)))
    names = frozenset(name for name, *_ in steps)
    given = tuple((name, field_check) for name, field_check, *_ in steps)
    # The rules get what load passes them (the schema's partial and unknown, many=False).
    bound = [
        (functools.partial(rule, partial=schema.partial, many=False, unknown=unknown), original)
        for rule, original in rules
    ]

    def check(value: Any) -> dict[str, Any]:
        if type(value) is not dict or not value.keys() <= names:
            raise Undecided
        if len(value) == len(given):  # every field given: nothing to fill in or to miss
            out = {name: field_check(value[name]) for name, field_check in given}
        else:
            out = {}
            for name, field_check, required, default in steps:
                raw = value.get(name, missing)
                if raw is not missing:
                    out[name] = field_check(raw)
                elif required:
                    raise Undecided
                elif default is not None:
                    out[name] = default()
        for rule, pass_original in bound:
            try:
                rule(out, value) if pass_original else rule(out)
            except ValidationError:
                raise Undecided from None
        return out

    return check


def _default(field: fields.Field[Any]) -> Callable[[], Any] | None:
    """How ``load`` fills the field when it is left out (None: it stays out)."""
    default = field.load_default
    if default is missing:
        return None
    if callable(default):
        return default  # type: ignore[no-any-return]
    return lambda: default  # the same object each time, as marshmallow returns it


# Field types: each builder restates what that type's ``_deserialize`` accepts and returns, and
# nothing more (validators and null are added by compile_field). tests/schemas compare each one
# with ``field.deserialize`` over arbitrary values.


def _choices(field: Code) -> Any:
    """The field's codes: a container, or the function giving them at each call."""
    choices = field.choices
    if callable(choices):
        return choices  # jurisdictions follow the served countries, set after import
    return frozenset(choices) if isinstance(choices, tuple) else choices


def _string(field: fields.String, where: str) -> Check:
    def check(value: Any) -> str:
        if type(value) is not str:
            raise Undecided  # bytes (which marshmallow decodes) included: load decides
        return value

    return check


def _text(field: Text, where: str) -> Check:
    def check(value: Any) -> str:
        if type(value) is not str or "\x00" in value:
            raise Undecided
        return value

    return check


def _code(field: Code, where: str) -> Check:
    known = _choices(field)
    if callable(known):

        def check_now(value: Any) -> str:
            if type(value) is not str or value not in known():
                raise Undecided
            return value

        return check_now

    def check(value: Any) -> str:
        if type(value) is not str or value not in known:
            raise Undecided
        return value

    return check


def _clock(field: Clock, where: str) -> Check:
    fullmatch = field.pattern.fullmatch

    def check(value: Any) -> str:
        if type(value) is not str or fullmatch(value) is None:
            raise Undecided
        return value

    return check


def _time_zone(field: TimeZone, where: str) -> Check:
    def check(value: Any) -> str:
        zone = vocab.zone_named(value) if type(value) is str else None
        if zone is None:
            raise Undecided
        return zone

    return check


def _boolean(field: StrictBoolean, where: str) -> Check:
    def check(value: Any) -> bool:
        if value is not True and value is not False:
            raise Undecided
        return value

    return check


def _integer(field: StrictInteger, where: str) -> Check:
    def check(value: Any) -> int:
        if type(value) is not int:
            raise Undecided  # bool, 2.5, "2" and int subclasses: load decides
        return value

    return check


def _number(field: Number, where: str) -> Check:
    finite_only = field.allow_nan is False

    def check(value: Any) -> float:
        kind = type(value)
        if kind is float:
            number: float = value
        elif kind is int:
            try:
                number = float(value)
            except OverflowError:
                raise Undecided from None
        else:
            raise Undecided
        if finite_only and not math.isfinite(number):
            raise Undecided
        return number

    return check


def _list(field: fields.List[Any], where: str) -> Check:
    item = compile_field(field.inner, f"{where}[]")

    def check(value: Any) -> list[Any]:
        if type(value) is not list:
            raise Undecided  # tuples and other collections: load decides
        return [item(each) for each in value]

    return check


def _code_list(field: CodeList, where: str) -> Check:
    inner = field.inner
    if type(inner) is not Code or inner.validators or inner.allow_none:
        return _list(field, where)
    known = _choices(inner)

    def check(value: Any) -> list[str]:
        if type(value) is not list:
            raise Undecided
        codes = known() if callable(known) else known
        for each in value:
            if type(each) is not str or each not in codes:
                raise Undecided
        return list(value)

    return check


def _nested(field: fields.Nested, where: str) -> Check:
    schema = field.schema
    if field.many:
        raise NotCompilable(f"{where}: Nested(many=True) is not supported; use List(Nested)")
    unknown = field.unknown if field.unknown is not None else schema.unknown
    return _object(schema, unknown=unknown, where=f"{where}<{type(schema).__name__}>")


_BUILDERS: Mapping[type, Callable[[Any, str], Check]] = {
    fields.String: _string,
    OpaqueCode: _string,  # its pattern is a validator
    Text: _text,
    Code: _code,
    Clock: _clock,
    TimeZone: _time_zone,
    StrictBoolean: _boolean,
    StrictInteger: _integer,
    Number: _number,
    fields.List: _list,
    CodeList: _code_list,
    fields.Nested: _nested,
}


# Validators: each known kind becomes an inline test; any other stops the compilation.


def _validated(check: Check, field: fields.Field[Any], where: str) -> Check:
    """``check`` followed by the field's validators, in order."""
    tests = [_validator(rule, where) for rule in field.validators]
    if not tests:
        return check
    if len(tests) == 1:
        (test,) = tests

        def validated_once(value: Any) -> Any:
            out = check(value)
            if not test(out):
                raise Undecided
            return out

        return validated_once

    def validated(value: Any) -> Any:
        out = check(value)
        for test in tests:
            if not test(out):
                raise Undecided
        return out

    return validated


def _validator(rule: Any, where: str) -> Callable[[Any], bool]:
    """A test that is true exactly when ``rule`` lets the value through."""
    if type(rule) is validate.Length:
        return _length(rule)
    if type(rule) is validate.Range:
        return _range(rule)
    if type(rule) is Pattern:
        fullmatch = rule.regex.fullmatch
        return lambda value: fullmatch(value) is not None
    if rule is distinct:
        return lambda values: len(set(values)) == len(values)
    raise NotCompilable(f"{where}: validator {rule!r} is unknown to matcher/schemas/compiled.py")


def _length(rule: validate.Length) -> Callable[[Any], bool]:
    if rule.equal is not None:
        equal = rule.equal
        return lambda value: len(value) == equal
    low = rule.min if rule.min is not None else 0
    high = rule.max if rule.max is not None else math.inf
    return lambda value: low <= len(value) <= high


def _range(rule: validate.Range) -> Callable[[Any], bool]:
    low, high = rule.min, rule.max
    if low is not None and high is not None and rule.min_inclusive and rule.max_inclusive:
        return lambda value: low <= value <= high
    above = _bound(low, lambda v: v >= low, lambda v: v > low, inclusive=rule.min_inclusive)
    below = _bound(high, lambda v: v <= high, lambda v: v < high, inclusive=rule.max_inclusive)
    return lambda value: above(value) and below(value)


def _bound(
    limit: Any, closed: Callable[[Any], bool], open_: Callable[[Any], bool], *, inclusive: bool
) -> Callable[[Any], bool]:
    if limit is None:
        return lambda _: True
    return closed if inclusive else open_
