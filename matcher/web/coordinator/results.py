"""A recorded match's results: ranked therapists with reasons, bars, details; refer; relax."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from matcher import vocabulary as vocab
from matcher.core.scoring import FEATURE_MEANINGS, PRIOR_ALLIANCE
from matcher.schemas.intake import MUST_HAVE_SOURCES
from matcher.services import crisis, directory, recording, referrals
from matcher.services.errors import Conflict, Invalid, NotFound
from matcher.services.runtime import Services
from matcher.web.context import services
from matcher.web.coordinator import bp, display
from matcher.web.coordinator.intake import DAY_PARTS, places, submit, validate
from matcher.web.people import role_required

RELAXATION_WORDS = {
    "format": "the session format",
    "language": "the language requirement",
    "modality": "the therapy type requirement",
    "concerns": "the focus-area requirement",
    "identity": "the cultural-experience requirement",
    "gender": "the therapist-gender requirement",
    "faith": "the faith requirement",
    "availability": "the times requirement",
    "cost": "the cost requirement",
}


def _page(app: Services, match_id: str) -> dict[str, Any]:
    with app.reading() as session:
        try:
            record = recording.get_match(
                session, match_id=match_id, organisation_id=current_user.reach
            )
        except NotFound:
            abort(404)
        shown = (record.results or {}).get("results", [])
        therapists = directory.get_therapists(session, ids=[r["therapist_id"] for r in shown])
        made = {r.therapist_id: r for r in referrals.referrals_of_match(session, match_id=match_id)}
        mine = record.organisation_id
        case = crisis.case_for_match(
            session,
            match_id=record.rematch_of or match_id,
            client_ref=record.client_ref,
            organisation_id=mine,
        ) or crisis.case_for_match(session, match_id=match_id, organisation_id=mine)
        weights = app.matching.snapshot().weights
    intake = record.intake or {}
    zone = intake.get("timezone")
    asked = asked_for(intake)
    results = []
    for result in shown:
        therapist = therapists.get(result["therapist_id"])
        profile = therapist.document() if therapist is not None else {}
        fee = profile.get("fee") or {}
        results.append(
            {
                **result,
                "wai": display.wai_equivalent(result["score"]),
                "bars": _bars(
                    result["contributions"], result.get("features", {}), weights.weights, asked
                ),
                "languages": display.language_labels(profile.get("languages", [])),
                "formats": display.labels(profile.get("formats", []), vocab.FORMATS),
                "times": display.windows_in_zone(
                    profile.get("availability", []), profile.get("timezone", "UTC"), zone
                ),
                "fee": display.money(fee.get("amount"), fee.get("currency")),
                "sliding": display.money(fee.get("sliding_scale_min"), fee.get("currency"))
                if fee.get("sliding_scale_min") is not None
                else None,
                "insurance": display.insurance_labels(profile.get("insurance", [])),
                "referral": made.get(result["therapist_id"]),
            }
        )
    jurisdiction = intake.get("jurisdiction", "")
    return {
        "title": "Results",
        "record": record,
        "answer": record.results or {},
        "results": results,
        "case": case,
        "resources": crisis.resources_for(jurisdiction, path=app.settings.crisis_resources)
        if case is not None
        else [],
        "jurisdiction": vocab.jurisdictions().get(jurisdiction, jurisdiction),
        "relax_words": RELAXATION_WORDS,
        "meanings": FEATURE_MEANINGS,
        "zone": zone,
        "searched": searched_for(intake),
        "few_preferences": len(asked) < 3,
        "tied": len({round(r["score"], 6) for r in shown}) == 1 and len(shown) > 1,
    }


FEATURE_LABELS = {
    "modality": "Therapy type",
    "concerns": "Focus areas",
    "language": "Language",
    "identity": "Cultural experience",
    "faith": "Faith",
    "availability": "Times",
    "format": "Format and distance",
    "gender": "Therapist gender",
    "cost": "Cost",
    "style": "Therapy style",
    "alliance": "Track record",
}
# Which intake fields state the preference behind each feature (the record is always counted).
ASKED_BY = {**MUST_HAVE_SOURCES, "style": ("style",)}


def asked_for(intake: dict[str, Any]) -> set[str]:
    """The features the client gave a preference for."""
    return {name for name, fields in ASKED_BY.items() if any(intake.get(f) for f in fields)}


def _bars(
    contributions: dict[str, float], features: dict[str, float], weights: Any, asked: set[str]
) -> list[dict[str, Any]]:
    """Each feature's contribution beside the most it could add (its weight), for small bars."""
    top = max(weights.values()) or 1.0
    return [
        {
            "name": name,
            "label": FEATURE_LABELS.get(name, name.capitalize()),
            "meaning": FEATURE_MEANINGS.get(name, ""),
            "value": value,
            "most": weights.get(name, 0.0),
            "width": round(120 * value / top),
            "track": round(120 * weights.get(name, 0.0) / top),
            "asked": name == "alliance" or name in asked,
            "note": "no ratings yet"
            if name == "alliance" and abs(features.get(name, 0.0) - PRIOR_ALLIANCE) < 1e-9
            else "",
        }
        for name, value in contributions.items()
        if weights.get(name, 0.0) > 0
    ]


def searched_for(intake: dict[str, Any]) -> list[tuple[str, str]]:
    """What the client asked for, in a line a coordinator can check at a glance."""
    must = set(intake.get("must_have") or ())
    shown: list[tuple[str, str]] = []

    def add(label: str, text: str, dimension: str) -> None:
        if text:
            shown.append((label, text + (" (must)" if dimension in must else "")))

    add("Concerns", display.labels(intake.get("concerns") or [], vocab.CONCERNS), "concerns")
    add("Therapy", display.labels(intake.get("modalities") or [], vocab.MODALITIES), "modality")
    add("Language", display.language_labels(intake.get("languages") or []), "language")
    add("Communities", display.labels(intake.get("identities") or [], vocab.IDENTITIES), "identity")
    add("Gender", display.labels(intake.get("therapist_genders") or [], vocab.GENDERS), "gender")
    add("Faith", vocab.FAITHS.get(intake.get("faith") or "", ""), "faith")
    add("Format", display.labels(intake.get("formats") or [], vocab.FORMATS), "format")
    windows = intake.get("availability") or []
    add("Times", f"{len(windows)} time blocks a week" if windows else "", "availability")
    fee = intake.get("max_fee")
    cost = " or ".join(
        part
        for part in (
            f"up to {display.money(fee, 'USD')}" if fee is not None else "",
            display.insurance_labels([intake["insurance"]]) if intake.get("insurance") else "",
        )
        if part
    )
    add("Cost", cost, "cost")
    return [(label, text) for label, text in shown if text and text != "none listed"]


@bp.get("/matches/<string:match_id>")
@role_required("coordinator")
def match(match_id: str) -> ResponseReturnValue:
    """The ranked therapists of a recorded match, each explained."""
    return render_template("coordinator/results.html", **_page(services(), match_id))


@bp.post("/matches/<string:match_id>/refer")
@role_required("coordinator")
def refer(match_id: str) -> ResponseReturnValue:
    """Refer the client to one result; POST-redirect-GET, so a second submit changes nothing."""
    therapist_id = request.form.get("therapist_id", "")
    try:
        with services().writing() as session:
            recording.get_match(session, match_id=match_id, organisation_id=current_user.reach)
            made = referrals.refer(
                session,
                match_id=match_id,
                therapist_id=therapist_id,
                key_id=current_user.ref,
                organisation_id=current_user.reach,
            )
            client_ref = recording.get_match(session, match_id=match_id).client_ref
            made_name = directory.get_therapist(session, therapist_id=made.therapist_id).name
        flash(f"Referred to {made_name}. One of their open slots is now taken.", "success")
    except NotFound:
        abort(404)
    except (Conflict, Invalid) as refusal:
        flash(f"Not referred: {refusal.detail}", "info")
        return redirect(url_for("coordinator.match", match_id=match_id), code=303)
    if client_ref:
        return redirect(url_for("coordinator.client", client_ref=client_ref), code=303)
    return redirect(url_for("coordinator.match", match_id=match_id), code=303)


@bp.post("/matches/<string:match_id>/relax")
@role_required("coordinator")
def relax(match_id: str) -> ResponseReturnValue:
    """Run the match again without one requirement (a relaxation the results offered)."""
    drop = request.form.get("drop", "")
    with services().reading() as session:
        try:
            record = recording.get_match(
                session, match_id=match_id, organisation_id=current_user.reach
            )
        except NotFound:
            abort(404)
    form = intake_form(record.intake or {}, client_ref=record.client_ref)
    form.setlist("must_have", [m for m in form.getlist("must_have") if m != drop])
    if drop == "format":
        for name in ("formats", "place", "max_distance_km"):
            form.poplist(name)
    form["risk"] = "no"  # already answered with the first intake; an urgent case stays open
    loaded, _ = validate(form)
    if loaded is None:
        abort(400)
    # The relaxed match keeps a link to the first, so an urgent case opened there still leads.
    new_id = submit(loaded, risk="no", rematch_of=match_id, organisation_id=record.organisation_id)
    flash(f"Matched again without {RELAXATION_WORDS.get(drop, drop)}.", "success")
    return redirect(url_for("coordinator.match", match_id=new_id), code=303)


# Recorded locations are coarsened to 2 decimals (services.recording); listed cities lie far
# further apart than this.
PLACE_TOLERANCE = 0.01


def intake_form(intake: dict[str, Any], *, client_ref: str | None) -> MultiDict[str, str]:
    """A stored intake as the form that would submit it (for re-running or re-matching)."""
    form: MultiDict[str, str] = MultiDict()
    if client_ref:
        form["client_ref"] = client_ref
    for name in ("jurisdiction", "age_group", "faith", "insurance", "timezone"):
        if intake.get(name):
            form[name] = str(intake[name])
    for name in ("concerns", "modalities", "identities", "therapist_genders", "formats",
                 "must_have", "exclude_therapists"):  # fmt: skip
        form.setlist(name, [str(v) for v in intake.get(name) or []])
    languages = intake.get("languages") or []
    for field, code in zip(("language_first", "language_second"), languages, strict=False):
        form[field] = code
    if intake.get("wants_shared_identity"):
        form["wants_shared_identity"] = "on"
    location = intake.get("location")
    if location:
        form["place"] = _nearest_place(intake.get("jurisdiction", ""), location)
    for name in ("max_distance_km", "max_fee"):
        if intake.get(name) is not None:
            form[name] = f"{intake[name]:g}"
    for dimension, value in (intake.get("style") or {}).items():
        form[f"style_{dimension}"] = str(value)
    parts = {(start, end): code for code, _, start, end in DAY_PARTS}
    form.setlist(
        "times",
        [
            f"{w['day']}-{parts[(w['start'], w['end'])]}"
            for w in intake.get("availability") or []
            if (w["start"], w["end"]) in parts
        ],
    )
    return form


def _nearest_place(jurisdiction: str, location: dict[str, float]) -> str:
    """The listed city a stored location stands for (stored to 2 decimals: within 0.01)."""
    for code, cities in places().items():
        for city in cities:
            if (
                abs(city["lat"] - location["lat"]) <= PLACE_TOLERANCE
                and abs(city["lon"] - location["lon"]) <= PLACE_TOLERANCE
            ):
                return f"{code}|{city['name']}"
    return ""
