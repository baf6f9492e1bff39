"""A client's page, early alliance entry, rupture alerts with re-match and resolve, erasure."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from matcher.core.learning.instruments import INSTRUMENTS
from matcher.schemas.fields import flatten_errors
from matcher.schemas.outcomes import RatingRequestSchema
from matcher.services import alerts, clients, directory, recording, referrals
from matcher.services.errors import Conflict, Invalid, NotFound
from matcher.web.context import services
from matcher.web.coordinator import bp
from matcher.web.coordinator.intake import form_context
from matcher.web.coordinator.results import intake_form
from matcher.web.people import role_required

_RATING = RatingRequestSchema()


@bp.get("/clients")
@role_required("coordinator")
def find_client() -> ResponseReturnValue:
    """Go to a client's page by their reference."""
    ref = request.args.get("client_ref", "").strip()
    if ref:
        return redirect(url_for("coordinator.client", client_ref=ref))
    errors = (
        {"client_ref": ["Enter the client's reference."]} if "client_ref" in request.args else {}
    )
    page = render_template("coordinator/find.html", title="Find a client", errors=errors)
    return make_response(page, 400 if errors else 200)


@bp.get("/clients/<string:client_ref>")
@role_required("coordinator")
def client(client_ref: str) -> ResponseReturnValue:
    """Everything recorded for one client: matches, referrals, ratings per session, flags."""
    app = services()
    with app.reading() as session:
        found = clients.history(session, client_ref=client_ref, organisation_id=current_user.reach)
        names = directory.get_therapists(
            session, ids=[referral.therapist_id for referral, _ in found.referrals]
        )
    flags = {
        referral.id: alerts.weak_or_falling(
            ratings, wai_below=app.settings.wai_alert_below, drop=app.settings.alert_drop_share
        )
        for referral, ratings in found.referrals
    }
    return render_template(
        "coordinator/client.html",
        title=f"Client {client_ref}",
        found=found,
        names={k: v.name for k, v in names.items()},
        flags=flags,
        instruments=INSTRUMENTS,
        errors={},
    )


@bp.route("/clients/<string:client_ref>/erase", methods=["GET", "POST"])
@role_required("coordinator")
def erase(client_ref: str) -> ResponseReturnValue:
    """Erase a client's recorded intakes, after a confirmation page."""
    if request.method == "GET":
        return render_template(
            "coordinator/erase.html", title="Erase client", client_ref=client_ref, errors={}
        )
    if request.form.get("confirm") != "yes":
        errors = {"confirm": ["Tick the box to confirm the erasure."]}
        page = render_template(
            "coordinator/erase.html", title="Erase client", client_ref=client_ref, errors=errors
        )
        return page, 400
    with services().writing() as session:
        erased = clients.erase(
            session,
            client_ref=client_ref,
            actor=current_user.actor,
            organisation_id=current_user.reach,
        )
    flash(f"Erased {erased} recorded intake(s). Ratings stay for learning, unlinked.", "success")
    return redirect(url_for("coordinator.home"), code=303)


@bp.route("/referrals/<string:referral_id>/rate", methods=["GET", "POST"])
@role_required("coordinator")
def rate(referral_id: str) -> ResponseReturnValue:
    """Enter one session's early alliance (WAI-SR or SRS items), saved as the API saves it."""
    app = services()
    with app.reading() as session:
        try:
            referral, ratings = referrals.get_referral(
                session, referral_id=referral_id, organisation_id=current_user.reach
            )
        except NotFound:
            abort(404)
        client_ref = recording.get_match(session, match_id=referral.match_id).client_ref
        therapist = directory.get_therapists(session, ids=[referral.therapist_id])
    source = request.form if request.method == "POST" else request.args
    instrument = source.get("instrument", "wai-sr")
    if instrument not in INSTRUMENTS:
        instrument = "wai-sr"
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        body, errors = _rating_body(request.form, instrument)
        if not errors:
            try:
                with app.writing() as session:
                    rating, created = referrals.rate(
                        session,
                        referral_id=referral_id,
                        key_id=current_user.ref,
                        organisation_id=current_user.reach,
                        **body,
                    )
                word = "Saved" if created else "Already saved (the same answers)"
                flash(f"{word}: session {rating.session}, total {rating.total:g}.", "success")
                target = (
                    url_for("coordinator.client", client_ref=client_ref)
                    if client_ref
                    else url_for("coordinator.rate", referral_id=referral_id)
                )
                return redirect(target, code=303)
            except (Conflict, Invalid) as refusal:
                errors = {"session": [refusal.detail]}
    page = render_template(
        "coordinator/rate.html",
        title="Early alliance",
        referral=referral,
        ratings=ratings,
        therapist=therapist.get(referral.therapist_id),
        client_ref=client_ref,
        instrument=INSTRUMENTS[instrument],
        instruments=INSTRUMENTS,
        wording=app.wording.get(instrument),
        form=source,
        errors=errors,
    )
    return make_response(page, 400 if errors else 200)


def _rating_body(
    form: MultiDict[str, str], instrument: str
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form's answers through the API's rating schema, with errors by form field."""
    key = INSTRUMENTS[instrument]
    items: list[Any] = []
    for number in range(1, key.n_items + 1):
        raw = form.get(f"item-{number}", "").strip()
        try:
            items.append(float(raw) if raw else None)
        except ValueError:
            items.append(raw)
    missing = {
        f"items[{i}]": [f"Answer item {i + 1}."] for i, value in enumerate(items) if value is None
    }
    raw_session = form.get("session", "")
    body = {
        "instrument": instrument,
        "session": int(raw_session) if raw_session.isdigit() else raw_session,
        "items": [int(v) if isinstance(v, float) and v.is_integer() else v for v in items],
    }
    if missing or not raw_session:
        errors = {"session": ["Choose the session (1, 2 or 3)."]} if not raw_session else {}
        return {}, {**errors, **missing}
    try:
        loaded = _RATING.load(body)
    except ValidationError as err:
        return {}, flatten_errors(err.normalized_messages())  # type: ignore[no-untyped-call]
    return {
        "instrument": loaded["instrument"],
        "session_number": loaded["session"],
        "items": loaded["items"],
    }, {}


@bp.get("/alerts")
@role_required("coordinator")
def alerts_page() -> ResponseReturnValue:
    """Referrals whose early alliance is weak or falling, each with re-match and resolve."""
    app = services()
    with app.reading() as session:
        found = alerts.open_alerts(
            session,
            wai_below=app.settings.wai_alert_below,
            drop=app.settings.alert_drop_share,
            organisation_id=current_user.reach,
        )
        names = directory.get_therapists(session, ids=[a.referral.therapist_id for a in found])
    return render_template(
        "coordinator/alerts.html",
        title="Rupture alerts",
        alerts=found,
        names={k: v.name for k, v in names.items()},
        outcomes=alerts.OUTCOMES,
        errors={},
    )


@bp.post("/alerts/<string:referral_id>/resolve")
@role_required("coordinator")
def resolve(referral_id: str) -> ResponseReturnValue:
    """Close an alert with what happened."""
    try:
        with services().writing() as session:
            alerts.resolve(
                session,
                referral_id=referral_id,
                outcome=request.form.get("outcome", ""),
                note=request.form.get("note", ""),
                by=current_user.email,
                organisation_id=current_user.reach,
            )
    except NotFound:
        abort(404)
    except Invalid as refusal:
        flash(f"Not resolved: {refusal.detail}", "info")
        return redirect(url_for("coordinator.alerts_page"), code=303)
    flash("Alert resolved.", "success")
    return redirect(url_for("coordinator.alerts_page"), code=303)


@bp.get("/referrals/<string:referral_id>/rematch")
@role_required("coordinator")
def rematch(referral_id: str) -> ResponseReturnValue:
    """A new intake prefilled from the earlier one, leaving out every therapist already tried."""
    with services().reading() as session:
        try:
            referral, _ = referrals.get_referral(
                session, referral_id=referral_id, organisation_id=current_user.reach
            )
        except NotFound:
            abort(404)
        record = recording.get_match(session, match_id=referral.match_id)
        tried = {referral.therapist_id}
        if record.client_ref:
            history = clients.history(
                session, client_ref=record.client_ref, organisation_id=record.organisation_id
            )
            tried |= {r.therapist_id for r, _ in history.referrals}
    form = intake_form(record.intake or {}, client_ref=record.client_ref)
    form.setlist("exclude_therapists", sorted(set(form.getlist("exclude_therapists")) | tried))
    form["rematch_of"] = record.id
    context = form_context(form, {})
    context["title"] = "Re-match"
    return render_template("coordinator/intake.html", **context)
