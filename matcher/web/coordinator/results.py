"""A recorded match's results: ranked therapists with reasons, bars, details; refer; relax."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from matcher import vocabulary as vocab
from matcher.core.scoring import FEATURE_MEANINGS
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
            record = recording.get_match(session, match_id=match_id)
        except NotFound:
            abort(404)
        shown = (record.results or {}).get("results", [])
        therapists = directory.get_therapists(session, ids=[r["therapist_id"] for r in shown])
        made = {r.therapist_id: r for r in referrals.referrals_of_match(session, match_id=match_id)}
        case = crisis.case_for_match(session, match_id=match_id)
        weights = app.matching.snapshot().weights
    intake = record.intake or {}
    zone = intake.get("timezone")
    results = []
    for result in shown:
        therapist = therapists.get(result["therapist_id"])
        profile = therapist.document() if therapist is not None else {}
        fee = profile.get("fee") or {}
        results.append(
            {
                **result,
                "wai": display.wai_equivalent(result["score"]),
                "bars": _bars(result["contributions"], weights.weights),
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
    }


def _bars(contributions: dict[str, float], weights: Any) -> list[dict[str, Any]]:
    """Each feature's contribution beside the most it could add (its weight), for small bars."""
    top = max(weights.values()) or 1.0
    return [
        {
            "name": name,
            "value": value,
            "most": weights.get(name, 0.0),
            "width": round(120 * value / top),
            "track": round(120 * weights.get(name, 0.0) / top),
        }
        for name, value in contributions.items()
        if weights.get(name, 0.0) > 0
    ]


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
            made = referrals.refer(
                session, match_id=match_id, therapist_id=therapist_id, key_id=current_user.ref
            )
            client_ref = recording.get_match(session, match_id=match_id).client_ref
        flash(f"Referred to {therapist_id} ({made.id}). That slot is now taken.", "success")
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
            record = recording.get_match(session, match_id=match_id)
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
    new_id = submit(loaded, risk="no", rematch_of=None)
    flash(f"Matched again without {RELAXATION_WORDS.get(drop, drop)}.", "success")
    return redirect(url_for("coordinator.match", match_id=new_id), code=303)


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
    for code, cities in places().items():
        for city in cities:
            if (
                abs(city["lat"] - location["lat"]) < 1e-6
                and abs(city["lon"] - location["lon"]) < 1e-6
            ):
                return f"{code}|{city['name']}"
    return ""
