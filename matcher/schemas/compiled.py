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
    for name, field in schema.load_fields.items():
        if "." in name:
            raise NotCompilable(f"{where}.{name}: dotted names are not supported")
        field_check = compile_field(field, f"{where}.{name}")
        steps.append((name, field_check, field.required, _default(field)))
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

    # One function an object, written out here: each field of a kind that returns the value
    # itself checked by its condition in place, the others by their check, null decided in
    # place, the rules called directly. Calls, loops and a dict comprehension took a sixth of
    # a profile's check (25.6 -> 21.3 µs at best, both in one process taking turns). No value
    # is written into the source, only names.
    bound: dict[str, Any] = {
        "Undecided": Undecided,
        "ValidationError": ValidationError,
        "names": names,
        "filled": filled,
        "partial": partial,
        "unknown": unknown,
    }
    lines = [
        "def check(value):",
        "    if type(value) is not dict or not value.keys() <= names:",
        "        raise Undecided",
        f"    if len(value) != {len(steps)}:  # fields left out: defaults to fill in, or missing",
        "        out = filled(value)",
        "    else:",
    ]
    entries = []
    for index, (name, field) in enumerate(schema.load_fields.items()):
        v, key = f"v_{index}", f"name_{index}"
        bound[key] = name
        entries.append(f"{key}: {v}")
        lines.append(f"        {v} = value[{key}]")
        accepted = _accepts(field, f"{where}.{name}", v, f"f_{index}")
        if accepted is None:
            bound[f"field_{index}"] = _given(field, f"{where}.{name}")
            check_it = f"{v} = field_{index}({v})"
        else:
            condition, used = accepted
            bound.update(used)
            check_it = f"if not ({condition}): raise Undecided"
        if field.allow_none:
            lines.append(f"        if {v} is not None:")
            lines.append(f"            {check_it}")
        else:
            lines.append(f"        {check_it}")
    lines.append(f"        out = {{{', '.join(entries)}}}")
    for index, (rule, pass_original) in enumerate(rules):
        bound[f"rule_{index}"] = rule
        original = "value, " if pass_original else ""
        if not index:
            lines.append("    try:")
        lines.append(
            f"        rule_{index}(out, {original}partial=partial, many=False, unknown=unknown)"
        )
    if rules:
        lines += ["    except ValidationError:", "        raise Undecided from None"]
    lines.append("    return out")
    exec("\n".join(lines), bound)
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


# The kinds that return the value itself when they accept it: each is one condition over a
# variable, written into the object's function (``_object``) and into the field's own check
# alike, so the property tests of each field test the code the objects run.
Condition = tuple[str, dict[str, Any]]


def _string_accepts(field: fields.String, v: str, prefix: str) -> Condition:
    # bytes (which marshmallow decodes) and str subclasses included: load decides
    return f"type({v}) is str", {}


def _text_accepts(field: Text, v: str, prefix: str) -> Condition:
    nul, stored = f"{prefix}_nul", f"{prefix}_unicode"
    condition = f"type({v}) is str and {nul} not in {v} and ({v}.isascii() or {stored}({v}))"
    return condition, {nul: "\x00", stored: unicode_text}


def _code_accepts(field: Code, v: str, prefix: str) -> Condition:
    known, name = _choices(field), f"{prefix}_known"
    # jurisdictions follow the served countries: asked at each check
    codes = f"{name}()" if callable(known) else name
    return f"type({v}) is str and {v} in {codes}", {name: known}


def _clock_accepts(field: Clock, v: str, prefix: str) -> Condition:
    name = f"{prefix}_clock"
    return f"type({v}) is str and {name}({v}) is not None", {name: field.pattern.fullmatch}


def _boolean_accepts(field: StrictBoolean, v: str, prefix: str) -> Condition:
    return f"({v} is True or {v} is False)", {}


def _integer_accepts(field: StrictInteger, v: str, prefix: str) -> Condition:
    # bool, 2.5, "2" and int subclasses: load decides
    return f"type({v}) is int", {}


_ACCEPTS: Mapping[type, Callable[[Any, str, str], Condition]] = {
    fields.String: _string_accepts,
    OpaqueCode: _string_accepts,  # its pattern is a validator
    Text: _text_accepts,
    Code: _code_accepts,
    Clock: _clock_accepts,
    StrictBoolean: _boolean_accepts,
    StrictInteger: _integer_accepts,
}


def _accepts(field: fields.Field[Any], where: str, v: str, prefix: str) -> Condition | None:
    """The condition on variable ``v`` under which the field returns it as it is, its
    validators included (None: the field's kind is not one of those)."""
    kind = _ACCEPTS.get(type(field))
    if kind is None:
        return None
    condition, names = kind(field, v, prefix)
    if field.validators:
        rules, bound = _rules_condition(field.validators, where, subject=v, prefix=prefix)
        condition, names = f"{condition} and {rules}", names | bound
    return condition, names


def _accepting(field: fields.Field[Any], where: str, test: Test | None) -> Check:
    """The check of a field of one of the ``_ACCEPTS`` kinds, from its condition."""
    accepted = _accepts(field, where, "value", "")
    if accepted is None:
        raise NotCompilable(f"{where}: {type(field).__name__} has no condition")
    condition, names = accepted
    source = ["def check(value):", f"    if not ({condition}):", "        raise Undecided"]
    namespace = names | {"Undecided": Undecided}
    exec("\n".join([*source, "    return value"]), namespace)
    check: Check = namespace["check"]
    return check


def _time_zone(field: TimeZone, where: str, test: Test | None) -> Check:
    def check(value: Any) -> str:
        zone = vocab.zone_named(value) if type(value) is str else None
        if zone is None or (test is not None and not test(zone)):
            raise Undecided
        return zone

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
    **dict.fromkeys(_ACCEPTS, _accepting),
    TimeZone: _time_zone,
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
    condition, names = _rules_condition(rules, where, subject="value", prefix="")
    # One expression over names bound here (no value is written into it), compiled once: a
    # call per field rather than one per rule, which cost about a quarter of the check.
    test: Test = eval(f"lambda value: {condition}", names)
    return test


def _rules_condition(
    rules: list[Any], where: str, *, subject: str, prefix: str
) -> tuple[str, dict[str, Any]]:
    """The condition every rule sets on ``subject`` (a variable's name), and the names it uses
    (each starting with ``prefix``)."""
    conditions: list[str] = []
    names: dict[str, Any] = {}
    for index, rule in enumerate(rules):
        condition, bound = _condition(rule, f"{prefix}_{index}", where, subject)
        conditions.append(f"({condition})")
        names.update(bound)
    return " and ".join(conditions), names


def _condition(rule: Any, name: str, where: str, value: str) -> tuple[str, dict[str, Any]]:
    """The condition ``rule`` sets on the variable named ``value``, and the names it uses."""
    if type(rule) is validate.Length:
        if rule.equal is not None:
            return f"len({value}) == {name}", {name: rule.equal}
        return _between(f"len({value})", rule.min, rule.max, name, inclusive=(True, True))
    if type(rule) is validate.Range:
        inclusive = (rule.min_inclusive, rule.max_inclusive)
        return _between(value, rule.min, rule.max, name, inclusive=inclusive)
    if type(rule) is Pattern:
        return f"{name}({value}) is not None", {name: rule.regex.fullmatch}
    if rule is distinct:
        return f"len(set({value})) == len({value})", {}
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
