"""The therapist's one-click availability answer: public pages reached by a signed link.

Mail scanners fetch every link in a message. A "yes" from a therapist listed as accepting only
confirms what its link says, so its GET acts at once; "no", "full until", and a "yes" from one
listed as not accepting change what clients see, so their GET shows a page with a single button
(a POST, which works without JavaScript) and only that acts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue

from matcher.services import freshness
from matcher.services.errors import Invalid, NotFound
from matcher.services.freshness import Therapist
from matcher.web.context import services

bp = Blueprint("availability", __name__, url_prefix="/availability")
ANSWERS = {"yes", "no", "full"}


def availability_links(token: str, expires_in_days: int) -> dict[str, Any]:
    """The three answer links of one signed token, as absolute URLs."""
    links: dict[str, Any] = {
        answer: url_for("availability.answer", token=token, answer=path, _external=True)
        for answer, path in (("yes", "yes"), ("no", "no"), ("full_until", "full"))
    }
    links["expires_at"] = freshness.link_expiry(expires_in_days)
    return links


def _verified(token: str, session: object) -> tuple[Therapist, freshness.LinkClaim]:
    settings = services().settings
    return freshness.verify(
        session,  # type: ignore[arg-type]
        secret=settings.secret_key,
        token=token,
        max_age_days=settings.availability_link_days,
    )


def _unusable(message: str, status: int) -> ResponseReturnValue:
    body = render_template(
        "availability/unusable.html", title="This link cannot be used", message=message
    )
    return body, status


def _until(raw: str, errors: dict[str, list[str]]) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors["until"] = ["Enter the date you expect to take new clients, like 2027-03-01."]
        return None


@bp.route("/<string:token>/<string:answer>", methods=["GET", "POST"])
def answer(token: str, answer: str) -> ResponseReturnValue:
    """Show or take a therapist's answer to "Still accepting new clients?"."""
    if answer not in ANSWERS:
        abort(404)
    errors: dict[str, list[str]] = {}
    until_raw = request.form.get("until", "")
    try:
        with services().writing() as session:
            therapist, claim = _verified(token, session)
            name = therapist.name
            # "Yes" from someone listed as not accepting changes what clients see: ask first.
            confirms_only = therapist.accepting_new_clients or request.method == "POST"
            if answer == "yes" and confirms_only:
                changed = freshness.answer_yes(session, therapist=therapist, claim=claim)
                return render_template(
                    "availability/done.html",
                    title="Thank you",
                    name=name,
                    answer="yes",
                    changed=changed,
                )
            if request.method == "GET":
                return render_template(
                    "availability/ask.html",
                    title="Update your availability",
                    name=name,
                    answer=answer,
                    errors=errors,
                    until=until_raw,
                )
            until = _until(until_raw, errors) if answer == "full" else None
            if not errors:
                try:
                    freshness.answer_no(session, therapist=therapist, until=until)
                except Invalid as refusal:
                    errors.update(refusal.errors)
            if errors:
                body = render_template(
                    "availability/ask.html",
                    title="Update your availability",
                    name=name,
                    answer=answer,
                    errors=errors,
                    until=until_raw,
                )
                return body, 400
            return render_template(
                "availability/done.html",
                title="Thank you",
                name=name,
                answer=answer,
                changed=True,
                until=until,
            )
    except NotFound as refusal:
        return _unusable(refusal.detail, 404)
    except Invalid as refusal:
        return _unusable(refusal.detail, 400)
