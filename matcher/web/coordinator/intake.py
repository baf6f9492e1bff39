"""The intake form: what a client asks for, validated by the same schema as the API."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from matcher import vocabulary as vocab
from matcher.schemas.fields import flatten_errors
from matcher.schemas.intake import MUST_HAVE_SOURCES
from matcher.schemas.match import MatchRequestSchema
from matcher.services import crisis, recording
from matcher.web.context import services
from matcher.web.coordinator import bp
from matcher.web.forms import merge_errors, number, text
from matcher.web.people import role_required

DATA = Path(__file__).resolve().parent / "data"
# Parts of the day a person ticks instead of typing times: (code, label, start, end).
DAY_PARTS: tuple[tuple[str, str, str, str], ...] = (
    ("morning", "Morning (8am to 12pm)", "08:00", "12:00"),
    ("afternoon", "Afternoon (12pm to 5pm)", "12:00", "17:00"),
    ("evening", "Evening (5pm to 9pm)", "17:00", "21:00"),
)
DAY_LABELS = dict(zip(vocab.DAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))
MUST_HAVE_LABELS: Mapping[str, str] = {
    "language": "language",
    "modality": "therapy type",
    "concerns": "focus areas",
    "identity": "cultural experience",
    "gender": "therapist gender",
    "faith": "faith",
    "format": "session format",
    "availability": "times",
    "cost": "cost",
}
OTHER_ZONES = (
    "America/Denver", "America/Phoenix", "America/Anchorage", "Pacific/Honolulu",
    "America/Halifax", "America/St_Johns", "America/Winnipeg", "America/Edmonton",
    "America/Regina",
)  # fmt: skip
_REQUEST = MatchRequestSchema()


@cache
def places() -> dict[str, list[dict[str, Any]]]:
    """Cities a client may travel from, by jurisdiction, with coordinates and time zone."""
    loaded: dict[str, list[dict[str, Any]]] = json.loads(
        (DATA / "places.json").read_text(encoding="utf-8")
    )
    return loaded


@cache
def zone_choices() -> list[tuple[str, str]]:
    """The time zones a coordinator picks from (those of the served places, and the usual)."""
    zones = {p["timezone"] for cities in places().values() for p in cities}
    zones |= set(OTHER_ZONES)
    named = ((zone, zone.split("/")[-1].replace("_", " ") + f" ({zone})") for zone in zones)
    return sorted(named, key=lambda pair: pair[1])


def _place_value(jurisdiction: str, city: str) -> str:
    return f"{jurisdiction}|{city}"


def read_form(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The match request a form describes, and the errors only the form can see."""
    errors: dict[str, list[str]] = {}
    intake: dict[str, Any] = {"jurisdiction": text(form, "jurisdiction") or ""}
    for name in ("concerns", "modalities", "identities", "therapist_genders", "formats"):
        intake[name] = form.getlist(name)
    chosen = (text(form, "language_first"), text(form, "language_second"))
    intake["languages"] = list(dict.fromkeys(code for code in chosen if code))
    intake["wants_shared_identity"] = form.get("wants_shared_identity") == "on"
    for name in ("age_group", "faith", "insurance", "timezone"):
        intake[name] = text(form, name)
    place = text(form, "place")
    if place:
        jurisdiction, _, city = place.partition("|")
        found = [p for p in places().get(jurisdiction, []) if p["name"] == city]
        if found:
            intake["location"] = {"lat": found[0]["lat"], "lon": found[0]["lon"]}
            intake["timezone"] = intake["timezone"] or found[0]["timezone"]
        else:
            errors["place"] = ["Choose a city from the list."]
    if "in_person" in intake["formats"] and not place:
        errors["place"] = [
            "Choose the nearest city, so distance can be checked, or untick In person."
        ]
    intake["max_distance_km"] = number(form, "max_distance_km", errors)
    intake["max_fee"] = number(form, "max_fee", errors)
    intake["availability"] = [
        {"day": day, "start": start, "end": end}
        for day in vocab.DAYS
        for code, _, start, end in DAY_PARTS
        if f"{day}-{code}" in form.getlist("times")
    ]
    if intake["availability"] and not intake["timezone"]:
        errors["timezone"] = ["Choose the client's time zone, so times can be compared."]
    style = {}
    for dimension in vocab.STYLE_DIMENSIONS:
        raw = text(form, f"style_{dimension}")
        if raw is not None:
            try:
                style[dimension] = int(raw)
            except ValueError:
                errors[f"style_{dimension}"] = ["Choose a point on the scale."]
    intake["style"] = style
    intake["must_have"] = [m for m in form.getlist("must_have") if m in MUST_HAVE_SOURCES]
    intake["exclude_therapists"] = form.getlist("exclude_therapists")
    intake = {k: v for k, v in intake.items() if v not in (None, [], {})}
    return {
        "intake": intake,
        "limit": 10,
        "record": True,
        "client_ref": text(form, "client_ref"),
    }, errors


def validate(form: MultiDict[str, str]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The form through the API's own schema: the request, or every error by form field."""
    raw, errors = read_form(form)
    if not raw["intake"]["jurisdiction"]:
        errors["jurisdiction"] = ["Choose the state or province where the client lives."]
    if form.get("risk") not in crisis.RISK_ANSWERS:
        errors["risk"] = ["Answer whether the client may be at risk now: yes, no or not sure."]
    try:
        loaded: dict[str, Any] = _REQUEST.load(raw)
    except ValidationError as err:
        found = flatten_errors(err.normalized_messages())  # type: ignore[no-untyped-call]
        # A field the form already explained keeps the form's plainer message only, and a
        # schema message meant for integrators is said in the form's words where one exists.
        schema_errors = {
            _form_path(path): FORM_MESSAGES.get(_form_path(path), msgs)
            for path, msgs in found.items()
            if _form_path(path) not in errors
        }
        return None, in_form_order(merge_errors(errors, schema_errors))
    return (None, in_form_order(errors)) if errors else (loaded, {})


FORM_MESSAGES: Mapping[str, list[str]] = {
    "max_distance_km": ["Enter a distance in km greater than 0, or leave it blank for 30 km."],
    "max_fee": ["Enter an amount of 0 or more, like 120."],
    "timezone": ["Choose the client's time zone."],
    "must_have": ["A ticked Must have needs its preference filled in."],
    "place": ["Choose the nearest city from the list."],
    "language_first": ["Choose a language from the list."],
}
# Languages most asked for in US and Canadian clinics first (census home-language counts).
COMMON_LANGUAGES = (
    "en", "es", "fr", "zh", "ar", "vi", "tl", "ko", "ru", "pt", "ht", "hi", "pa", "ur", "fa",
    "pl", "it", "de", "ja", "bn",
)  # fmt: skip


def language_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """Languages for a select: the common ones first, then every language by name."""
    names = vocab.languages()
    common = [(code, names[code]) for code in COMMON_LANGUAGES if code in names]
    every = sorted(names.items(), key=lambda pair: pair[1])
    return [("Most asked for", common), ("All languages", every)]


def jurisdiction_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """States and provinces by country, each list by name."""
    countries = {"US": "United States", "CA": "Canada"}
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name in vocab.jurisdictions().items():
        country = code.split("-")[0]
        groups.setdefault(countries.get(country, country), []).append((code, name))
    order = sorted(groups, key=lambda label: label != "United States")
    return [(label, sorted(groups[label], key=lambda pair: pair[1])) for label in order]


# The form's fields top to bottom, so the error summary reads in the order of the page.
FORM_ORDER = (
    "client_ref", "jurisdiction", "age_group", "risk", "concerns", "modalities",
    "language_first", "language_second", "identities", "therapist_genders", "faith", "formats",
    "place", "max_distance_km", "timezone", "times", "max_fee", "insurance",
    *(f"style_{dimension}" for dimension in vocab.STYLE_DIMENSIONS), "must_have",
)  # fmt: skip


def in_form_order(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors sorted as their fields stand on the page (unknown paths last)."""
    rank = {name: i for i, name in enumerate(FORM_ORDER)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def _form_path(path: str) -> str:
    """An intake error path as the form field it belongs to."""
    path = path.removeprefix("intake.")
    if path.startswith("languages"):
        return "language_first"
    if path.startswith("location"):
        return "place"
    if path.startswith("availability"):
        return "times"
    if path.startswith("style."):
        return "style_" + path.split(".")[1]
    return path.split("[")[0].split(".")[0]


def form_context(form: Mapping[str, Any], errors: Mapping[str, list[str]]) -> dict[str, Any]:
    """What the intake template needs besides the values typed."""
    return {
        "title": "New intake",
        "errors": errors,
        "form": form,
        "vocab": vocab,
        "places": places(),
        "zones": zone_choices(),
        "day_parts": DAY_PARTS,
        "day_labels": DAY_LABELS,
        "risk_answers": list(crisis.RISK_ANSWERS.items()),
        "must_labels": MUST_HAVE_LABELS,
        "insurance": _insurance_choices(),
        "place_value": _place_value,
        "language_groups": language_groups(),
        "jurisdiction_groups": jurisdiction_groups(),
    }


def _insurance_choices() -> list[tuple[str, str]]:
    listed = getattr(vocab, "INSURANCE", None)
    tables = services().matching.snapshot().index.tables
    codes = (
        list(listed) if listed else list(tables["insurance"].codes if "insurance" in tables else ())
    )
    return [(code, (listed or {}).get(code) or code.replace("_", " ").title()) for code in codes]


@bp.route("/intake", methods=["GET", "POST"])
@role_required("coordinator")
def intake() -> ResponseReturnValue:
    """A new intake: on success the match is recorded and its results shown."""
    if request.method == "GET":
        return render_template("coordinator/intake.html", **form_context(request.args, {}))
    loaded, errors = validate(request.form)
    if loaded is None:
        page = render_template("coordinator/intake.html", **form_context(request.form, errors))
        return page, 400
    match_id = submit(
        loaded, risk=request.form["risk"], rematch_of=text(request.form, "rematch_of")
    )
    return redirect(url_for("coordinator.match", match_id=match_id), code=303)


def submit(
    loaded: dict[str, Any],
    *,
    risk: str,
    rematch_of: str | None = None,
    organisation_id: str | None = None,
) -> str:
    """Record the match (and an urgent case when the client may be at risk) in one transaction,
    in ``organisation_id`` (the signed-in person's when not given)."""
    app = services()
    owner = organisation_id or current_user.organisation_id
    with app.writing() as session:
        _, match_id = recording.record_match(
            session,
            matching=app.matching,
            intake=loaded["intake"],
            limit=loaded["limit"],
            client_ref=loaded["client_ref"],
            key_id=current_user.ref,
            exploration=app.settings.exploration,
            exploration_policy=app.settings.exploration_policy,
            rng=app.rng,
            rematch_of=rematch_of,
            organisation_id=owner,
        )
        crisis.open_case(
            session,
            risk=risk,
            jurisdiction=loaded["intake"]["jurisdiction"],
            match_id=match_id,
            client_ref=loaded["client_ref"],
            created_by=current_user.actor,
            organisation_id=owner,
        )
    return match_id
