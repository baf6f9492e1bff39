"""A marshmallow schema compiled, once, into plain checks that return what ``load`` returns.

The schema stays the definition: the compiler walks its fields, their validators, defaults and
the schema-level rules (whose own methods it calls), and builds one closure per field. A closure
accepts only what it is sure ``load`` accepts, and returns the same value (same types, defaults,
key order); for anything else it raises ``Undecided`` and the caller asks ``load``, so every
refusal and its messages are the schema's own. A field type, validator or hook the compiler does
not know stops the compilation (``NotCompilable``) rather than being guessed at.
"""

from __future__ import annotations

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
    unicode_text,
)

Check = Callable[[Any], Any]
Test = Callable[[Any], bool]


class Undecided(Exception):
    """The compiled check does not accept this value; the schema's ``load`` decides."""


class NotCompilable(Exception):
    """The schema uses a field type, validator or hook the compiler does not know."""


def compile_schema(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """A check returning exactly what ``schema.load`` returns, or raising ``Undecided``."""
    return _object(schema, unknown=schema.unknown, where=type(schema).__name__)


class CompiledLoad(Schema):
    """A schema whose ``load`` answers from its compiled check when it can: the same answer.

    Compiled once per instance, when it is made (an API view's schema is made once), so a
    schema the compiler does not know fails at start-up, not on a request.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._accept = compile_schema(self)

    def load(
        self,
        data: Any,
        *,
        many: bool | None = None,
        partial: Any = None,
        unknown: Any = None,
    ) -> Any:
        """What ``Schema.load`` returns; the compiled check first, marshmallow when it cannot."""
        if many is None and partial is None and unknown in (None, self.unknown):
            try:
                return self._accept(data)
            except Undecided:
                pass
        return super().load(data, many=many, partial=partial, unknown=unknown)


def compile_field(field: fields.Field[Any], where: str = "") -> Check:
    """A check returning exactly what ``field.deserialize`` returns for a value that is given."""
    check = _given(field, where or type(field).__name__)
    if not field.allow_none:
        return check  # every check refuses None on its own: None is of no accepted type

    def nullable(value: Any) -> Any:
        return None if value is None else check(value)

    return nullable


def _given(field: fields.Field[Any], where: str) -> Check:
    """``compile_field`` but for null, which the check refuses whether the field allows it."""
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
    return build(field, where, _test(field.validators, where))


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
    given: list[tuple[str, Check, bool]] = []  # each field's check of a value not null
    for name, field in schema.load_fields.items():
        if "." in name:
            raise NotCompilable(f"{where}.{name}: dotted names are not supported")
        field_check = compile_field(field, f"{where}.{name}")
        steps.append((name, field_check, field.required, _default(field)))
        given.append((name, _given(field, f"{where}.{name}"), field.allow_none))
    names = frozenset(name for name, *_ in steps)
    # The rules get what load passes them (the schema's partial and unknown, many=False).
    partial = schema.partial

    def filled(value: Any) -> dict[str, Any]:
        """The object of a value that leaves fields out: defaults in, a required one refused."""
        out = {}
        for name, field_check, required, default in steps:
            raw = value.get(name, missing)
            if raw is not missing:
                out[name] = field_check(raw)
            elif required:
                raise Undecided
            elif default is not None:
                out[name] = default()
        return out

    # One function an object, written out here: the fields as one dict display (null decided
    # in it) and the rules as direct calls, where loops and a call more for null took a sixth
    # of a profile's check (27.6 -> 22.5 µs). No value is written into the source, only names.
    bound: dict[str, Any] = {
        "Undecided": Undecided,
        "ValidationError": ValidationError,
        "names": names,
        "filled": filled,
        "partial": partial,
        "unknown": unknown,
    }
    entries = []
    for index, (name, field_check, allow_none) in enumerate(given):
        bound[f"field_{index}"], bound[f"name_{index}"] = field_check, name
        if allow_none:  # null decided here rather than by one more call
            entries.append(
                f"name_{index}: None if (raw_{index} := value[name_{index}]) is None "
                f"else field_{index}(raw_{index})"
            )
        else:
            entries.append(f"name_{index}: field_{index}(value[name_{index}])")
    calls = []
    for index, (rule, pass_original) in enumerate(rules):
        bound[f"rule_{index}"] = rule
        original = "value, " if pass_original else ""
        calls.append(f"rule_{index}(out, {original}partial=partial, many=False, unknown=unknown)")
    source = [
        "def check(value):",
        "    if type(value) is not dict or not value.keys() <= names:",
        "        raise Undecided",
        f"    if len(value) == {len(given)}:  # every field given: nothing to fill in or to miss",
        f"        out = {{{', '.join(entries)}}}",
        "    else:",
        "        out = filled(value)",
    ]
    if calls:
        source += ["    try:", *(f"        {call}" for call in calls)]
        source += ["    except ValidationError:", "        raise Undecided from None"]
    source.append("    return out")
    exec("\n".join(source), bound)
    check: Callable[[Any], dict[str, Any]] = bound["check"]
    return check


def _default(field: fields.Field[Any]) -> Callable[[], Any] | None:
    """How ``load`` fills the field when it is left out (None: it stays out)."""
    default = field.load_default
    if default is missing:
        return None
    if callable(default):
        return default  # type: ignore[no-any-return]
    return lambda: default  # the same object each time, as marshmallow returns it


# Field types: each builder restates what that type's ``_deserialize`` accepts and returns, then
# applies ``test`` (the field's validators, or None) to it; compile_field adds null. tests/schemas
# compare each one with ``field.deserialize`` over arbitrary values.


def _choices(field: Code) -> Any:
    """The field's codes: a container, or the function giving them at each call."""
    choices = field.choices
    if callable(choices):
        return choices  # jurisdictions follow the served countries, set after import
    return frozenset(choices) if isinstance(choices, tuple) else choices


def _string(field: fields.String, where: str, test: Test | None) -> Check:
    def check(value: Any) -> str:
        # bytes (which marshmallow decodes) and str subclasses included: load decides
        if type(value) is not str or (test is not None and not test(value)):
            raise Undecided
        return value

    return check


def _text(field: Text, where: str, test: Test | None) -> Check:
    def check(value: Any) -> str:
        if type(value) is not str or "\x00" in value or not unicode_text(value):
            raise Undecided
        if test is not None and not test(value):
            raise Undecided
        return value

    return check


def _code(field: Code, where: str, test: Test | None) -> Check:
    known = _choices(field)
    if callable(known):

        def check_now(value: Any) -> str:
            if type(value) is not str or value not in known():
                raise Undecided
            if test is not None and not test(value):
                raise Undecided
            return value

        return check_now

    def check(value: Any) -> str:
        if type(value) is not str or value not in known or (test is not None and not test(value)):
            raise Undecided
        return value

    return check


def _clock(field: Clock, where: str, test: Test | None) -> Check:
    fullmatch = field.pattern.fullmatch

    def check(value: Any) -> str:
        if type(value) is not str or fullmatch(value) is None:
            raise Undecided
        if test is not None and not test(value):
            raise Undecided
        return value

    return check


def _time_zone(field: TimeZone, where: str, test: Test | None) -> Check:
    def check(value: Any) -> str:
        zone = vocab.zone_named(value) if type(value) is str else None
        if zone is None or (test is not None and not test(zone)):
            raise Undecided
        return zone

    return check


def _boolean(field: StrictBoolean, where: str, test: Test | None) -> Check:
    def check(value: Any) -> bool:
        if value is not True and value is not False:
            raise Undecided
        if test is not None and not test(value):
            raise Undecided
        return value

    return check


def _integer(field: StrictInteger, where: str, test: Test | None) -> Check:
    def check(value: Any) -> int:
        # bool, 2.5, "2" and int subclasses: load decides
        if type(value) is not int or (test is not None and not test(value)):
            raise Undecided
        return value

    return check


def _number(field: Number, where: str, test: Test | None) -> Check:
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
        if test is not None and not test(number):
            raise Undecided
        return number

    return check


def _list(field: fields.List[Any], where: str, test: Test | None) -> Check:
    item = compile_field(field.inner, f"{where}[]")

    def check(value: Any) -> list[Any]:
        if type(value) is not list:
            raise Undecided  # tuples and other collections: load decides
        out = list(map(item, value))
        if test is not None and not test(out):
            raise Undecided
        return out

    return check


def _code_list(field: CodeList, where: str, test: Test | None) -> Check:
    inner = field.inner
    plain = not (inner.validators or inner.allow_none or inner.pre_load or inner.post_load)
    if type(inner) is not Code or not plain:
        return _list(field, where, test)  # the inner field compiled (or refused) on its own
    known = _choices(inner)
    resolve = known if callable(known) else lambda: known

    def check(value: Any) -> list[str]:
        if type(value) is not list:
            raise Undecided
        codes = resolve()
        for each in value:
            if type(each) is not str or each not in codes:
                raise Undecided
        out = list(value)
        if test is not None and not test(out):
            raise Undecided
        return out

    return check


def _nested(field: fields.Nested, where: str, test: Test | None) -> Check:
    schema = field.schema
    if field.many:
        raise NotCompilable(f"{where}: Nested(many=True) is not supported; use List(Nested)")
    unknown = field.unknown if field.unknown is not None else schema.unknown
    loaded = _object(schema, unknown=unknown, where=f"{where}<{type(schema).__name__}>")
    if test is None:
        return loaded

    def check(value: Any) -> dict[str, Any]:
        out = loaded(value)
        if not test(out):
            raise Undecided
        return out

    return check


_BUILDERS: Mapping[type, Callable[[Any, str, Test | None], Check]] = {
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


# Validators: each known kind becomes a condition, and a field's conditions one predicate; any
# other validator stops the compilation.


def _test(rules: list[Any], where: str) -> Test | None:
    """A predicate true exactly when every rule lets the value through (None: no rules)."""
    if not rules:
        return None
    conditions: list[str] = []
    names: dict[str, Any] = {}
    for index, rule in enumerate(rules):
        condition, bound = _condition(rule, f"_{index}", where)
        conditions.append(f"({condition})")
        names.update(bound)
    # One expression over names bound here (no value is written into it), compiled once: a
    # call per field rather than one per rule, which cost about a quarter of the check.
    test: Test = eval(f"lambda value: {' and '.join(conditions)}", names)
    return test


def _condition(rule: Any, name: str, where: str) -> tuple[str, dict[str, Any]]:
    """The condition ``rule`` sets on ``value``, and the names it uses."""
    if type(rule) is validate.Length:
        if rule.equal is not None:
            return f"len(value) == {name}", {name: rule.equal}
        return _between("len(value)", rule.min, rule.max, name, inclusive=(True, True))
    if type(rule) is validate.Range:
        inclusive = (rule.min_inclusive, rule.max_inclusive)
        return _between("value", rule.min, rule.max, name, inclusive=inclusive)
    if type(rule) is Pattern:
        return f"{name}(value) is not None", {name: rule.regex.fullmatch}
    if rule is distinct:
        return "len(set(value)) == len(value)", {}
    raise NotCompilable(f"{where}: validator {rule!r} is unknown to matcher/schemas/compiled.py")


def _between(
    subject: str, low: Any, high: Any, name: str, *, inclusive: tuple[bool, bool]
) -> tuple[str, dict[str, Any]]:
    """``low <= subject <= high`` (one chained comparison) with either bound left out or open."""
    condition, names = subject, {}
    if low is not None:
        condition = f"{name}_min {'<=' if inclusive[0] else '<'} {condition}"
        names[f"{name}_min"] = low
    if high is not None:
        condition = f"{condition} {'<=' if inclusive[1] else '<'} {name}_max"
        names[f"{name}_max"] = high
    return (condition if names else "True"), names
