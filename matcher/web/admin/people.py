"""People who sign in (create, set a role, disable) and API keys (create, shown once, revoke)."""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlmodel import Session

from matcher.services import audit, keys, organisations, users
from matcher.services.errors import Conflict, Invalid, NotFound, Refused
from matcher.web.admin import bp
from matcher.web.context import services


def _people_page(
    errors: dict[str, list[str]], form: dict[str, str], created: tuple[str, str] | None = None
) -> ResponseReturnValue:
    with services().reading() as session:
        people = users.list_users(session)
        orgs = _organisation_choices(session)
    page = render_template(
        "admin/people.html",
        organisations=orgs,
        organisation_names=dict(orgs),
        title="People",
        errors=errors,
        people=people,
        roles=users.ROLES,
        form=form,
        created=created,
        me=current_user.id,
    )
    return page, 400 if errors else 200


def _organisation_choices(session: Session) -> list[tuple[str, str]]:
    """(id, name) of every organisation, for the forms' selects."""
    return [(o.id, o.name) for o in organisations.list_organisations(session)]


DEFAULT_PERSON = {"role": "coordinator", "organisation": organisations.DEFAULT_ORGANISATION}


@bp.get("/people")
def people() -> ResponseReturnValue:
    """Everyone who can sign in, with their role and organisation, and a form to add a person."""
    return _people_page({}, dict(DEFAULT_PERSON))


@bp.post("/people")
def add_person() -> ResponseReturnValue:
    """Add a person with a one-time password, shown here once, to hand over in person."""
    email, role = request.form.get("email", "").strip(), request.form.get("role", "")
    organisation = request.form.get("organisation") or organisations.DEFAULT_ORGANISATION
    password = secrets.token_urlsafe(12)  # 16 characters: above the 12-character minimum
    try:
        with services().writing() as session:
            user = users.create_user(
                session,
                email=email,
                role=role,
                password=password,
                organisation_id=organisation,
            )
            audit.record(
                session,
                actor=current_user.actor,
                action="user.create",
                subject=f"user:{user.id}",
                details={"email": user.email, "role": role, "organisation": organisation},
            )
    except (Invalid, Conflict) as refusal:
        form = {"email": email, "role": role, "organisation": organisation}
        return _people_page(_by_field(refusal), form)
    return _people_page({}, dict(DEFAULT_PERSON), created=(email.lower(), password))


def _by_field(refusal: Refused) -> dict[str, list[str]]:
    """A refusal's messages under the form fields they concern (the detail when none)."""
    fields = [name for name in refusal.errors if name in ("email", "role", "organisation")]
    return {name: [refusal.detail] for name in fields[:1]} or {"email": [refusal.detail]}


@bp.post("/people/<string:user_id>/role")
def set_role(user_id: str) -> ResponseReturnValue:
    """Give a person another role (never the last admin's, never your own)."""
    role = request.form.get("role", "")
    try:
        with services().writing() as session:
            user = users.set_role(session, user_id=user_id, role=role, actor_id=current_user.id)
            audit.record(
                session,
                actor=current_user.actor,
                action="user.role",
                subject=f"user:{user_id}",
                details={"email": user.email, "role": role},
            )
    except NotFound:
        abort(404)
    except Refused as refusal:
        return _people_page({f"role-{user_id}": [refusal.detail]}, dict(DEFAULT_PERSON))
    flash(f"{user.email} is now {'an' if role == 'admin' else 'a'} {role}.", "success")
    return redirect(url_for("admin.people"), code=303)


@bp.post("/people/<string:user_id>/disable")
def disable_person(user_id: str) -> ResponseReturnValue:
    """Stop a person signing in; their history stays."""
    try:
        with services().writing() as session:
            user = users.disable_by_id(session, user_id=user_id, actor_id=current_user.id)
            audit.record(
                session,
                actor=current_user.actor,
                action="user.disable",
                subject=f"user:{user_id}",
                details={"email": user.email},
            )
    except NotFound:
        abort(404)
    except Refused as refusal:
        return _people_page({f"role-{user_id}": [refusal.detail]}, dict(DEFAULT_PERSON))
    flash(f"{user.email} can no longer sign in.", "success")
    return redirect(url_for("admin.people"), code=303)


@bp.post("/people/<string:user_id>/organisation")
def move_person(user_id: str) -> ResponseReturnValue:
    """Put a person in another organisation (they sign in again)."""
    organisation = request.form.get("organisation", "")
    try:
        with services().writing() as session:
            user = users.move_user(
                session, user_id=user_id, organisation_id=organisation, actor_id=current_user.id
            )
            audit.record(
                session,
                actor=current_user.actor,
                action="user.organisation",
                subject=f"user:{user_id}",
                details={"email": user.email, "organisation": organisation},
            )
    except NotFound:
        abort(404)
    except Refused as refusal:
        return _people_page({f"org-{user_id}": [refusal.detail]}, dict(DEFAULT_PERSON))
    flash(f"{user.email} now belongs to organisation {organisation}.", "success")
    return redirect(url_for("admin.people"), code=303)


def _keys_page(
    errors: dict[str, list[str]], form: dict[str, object], secret: tuple[str, str] | None = None
) -> ResponseReturnValue:
    with services().reading() as session:
        found = keys.list_keys(session)
        orgs = _organisation_choices(session)
    page = render_template(
        "admin/keys.html",
        organisations=orgs,
        organisation_names=dict(orgs),
        title="API keys",
        errors=errors,
        keys=found,
        scopes=keys.SCOPES,
        form=form,
        secret=secret,
    )
    return page, 400 if errors else 200


DEFAULT_KEY: dict[str, object] = {
    "scopes": [],
    "organisation": organisations.DEFAULT_ORGANISATION,
}


@bp.get("/keys")
def keys_page() -> ResponseReturnValue:
    """Every API key with its scopes, and a form to create one."""
    return _keys_page({}, dict(DEFAULT_KEY))


@bp.post("/keys")
def create_key() -> ResponseReturnValue:
    """Create a key; its secret is on this page once and never again."""
    name, scopes = request.form.get("name", "").strip(), request.form.getlist("scopes")
    rate_limit = request.form.get("rate_limit", "").strip() or None
    organisation = request.form.get("organisation") or organisations.DEFAULT_ORGANISATION
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Name the key after who or what uses it."]
    if not scopes:
        errors["scopes"] = ["Choose at least one scope."]
    if not errors:
        try:
            with services().writing() as session:
                key, secret = keys.create_key(
                    session,
                    name=name,
                    scopes=scopes,
                    rate_limit=rate_limit,
                    organisation_id=organisation,
                )
                audit.record(
                    session,
                    actor=current_user.actor,
                    action="key.create",
                    subject=f"key:{key.id}",
                    details={
                        "name": key.name,
                        "scopes": list(key.scopes),
                        "rate_limit": key.rate_limit,
                        "organisation": key.organisation_id,
                    },
                )
        except Invalid as refusal:
            errors = dict(refusal.errors) or {"name": [refusal.detail]}
        else:
            return _keys_page({}, dict(DEFAULT_KEY), secret=(key.name, secret))
    form: dict[str, object] = {
        "name": name,
        "scopes": scopes,
        "rate_limit": rate_limit,
        "organisation": organisation,
    }
    return _keys_page(errors, form)


@bp.post("/keys/<string:key_id>/revoke")
def revoke_key(key_id: str) -> ResponseReturnValue:
    """Revoke a key: it stops working within seconds (the key cache's lifetime)."""
    try:
        with services().writing() as session:
            keys.revoke(session, key_id=key_id)
            audit.record(
                session, actor=current_user.actor, action="key.revoke", subject=f"key:{key_id}"
            )
    except NotFound:
        abort(404)
    flash(f"Key {key_id} is revoked: requests with it are refused within seconds.", "success")
    return redirect(url_for("admin.keys_page"), code=303)


@bp.post("/keys/<string:key_id>/organisation")
def move_key(key_id: str) -> ResponseReturnValue:
    """Put a key in another organisation: its requests see that one's records within seconds."""
    organisation = request.form.get("organisation", "")
    try:
        with services().writing() as session:
            keys.move_key(session, key_id=key_id, organisation_id=organisation)
            audit.record(
                session,
                actor=current_user.actor,
                action="key.organisation",
                subject=f"key:{key_id}",
                details={"organisation": organisation},
            )
    except NotFound:
        abort(404)
    except Invalid as refusal:
        return _keys_page({f"org-{key_id}": [refusal.detail]}, dict(DEFAULT_KEY))
    flash(f"Key {key_id} now belongs to organisation {organisation}.", "success")
    return redirect(url_for("admin.keys_page"), code=303)
