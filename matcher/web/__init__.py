"""The web faces: the JSON API, the coordinator pages and the admin pages."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user

from matcher import vocabulary
from matcher.web import admin, availability, coordinator, pages
from matcher.web.api import init_api
from matcher.web.bodies import BoundedRequest, DrainedBodies
from matcher.web.forms import field_id
from matcher.web.headers import init_headers
from matcher.web.logs import init_logs
from matcher.web.metrics import init_metrics
from matcher.web.people import bp as people_bp
from matcher.web.people import init_people
from matcher.web.redaction import redact_werkzeug_log
from matcher.web.storable import init_storable


def nav_items() -> list[tuple[str, str]]:
    """The navigation a signed-in person sees: (endpoint, label)."""
    items = [
        ("coordinator.home", "Coordinator"),
        ("coordinator.intake", "New intake"),
        ("coordinator.urgent", "Urgent"),
        ("coordinator.alerts_page", "Alerts"),
        ("coordinator.waitlist_page", "Waitlist"),
    ]
    if current_user.is_authenticated and current_user.service_admin:
        items.extend(("admin." + name, label) for name, label in (("home", "Admin"),))
    return [
        (endpoint, label) for endpoint, label in items if endpoint in current_app.view_functions
    ]


def init_web(app: Flask) -> None:
    """Attach every face to ``app``: the API first (its error handler), then the pages."""
    settings = app.config["MATCHER_SETTINGS"]
    app.request_class = BoundedRequest
    app.wsgi_app = DrainedBodies(app.wsgi_app, settings.drain_bytes)  # type: ignore[method-assign]
    init_logs(app, settings.log_level)  # first: every later hook's lines carry the request id
    init_metrics(app)
    init_headers(app)
    init_storable(app)  # before the limiter and the key lookup
    init_api(app)
    init_people(app)
    redact_werkzeug_log()
    # Sign-in attempts are limited per address as well as per account (see services.users).
    limiter = next(iter(app.extensions["limiter"]))
    limiter.limit(
        settings.login_rate_limit,
        key_func=lambda: "login:" + (request.remote_addr or "unknown"),
        methods=["POST"],
    )(people_bp)
    for blueprint in (pages.bp, coordinator.bp, admin.bp, availability.bp):
        app.register_blueprint(blueprint)
    app.add_template_filter(field_id, "field_id")
    app.add_template_global(nav_items, "nav_items")
    app.add_template_global(vocabulary.jurisdictions, "jurisdictions")
    app.add_template_global(lambda name: name in app.view_functions, "has_endpoint")
