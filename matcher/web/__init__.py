"""The web faces: the JSON API, the coordinator pages and the admin pages."""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, request
from flask_login import current_user

from matcher import vocabulary
from matcher.web import admin, coordinator, pages
from matcher.web.api import init_api
from matcher.web.forms import field_id
from matcher.web.people import bp as people_bp
from matcher.web.people import init_people

# Pages that show client information are never kept by a browser or proxy cache.
PRIVATE_PREFIXES = ("/coordinator", "/admin", "/login")


def nav_items() -> list[tuple[str, str]]:
    """The navigation a signed-in person sees: (endpoint, label)."""
    items = [
        ("coordinator.home", "Coordinator"),
        ("coordinator.intake", "New intake"),
        ("coordinator.urgent", "Urgent"),
        ("coordinator.alerts_page", "Alerts"),
        ("coordinator.waitlist_page", "Waitlist"),
    ]
    if current_user.is_authenticated and current_user.role == "admin":
        items.extend(("admin." + name, label) for name, label in (("home", "Admin"),))
    return [
        (endpoint, label) for endpoint, label in items if endpoint in current_app.view_functions
    ]


def init_web(app: Flask) -> None:
    """Attach every face to ``app``: the API first (its error handler), then the pages."""
    init_api(app)
    init_people(app)
    # Sign-in attempts are limited per address as well as per account (see services.users).
    limiter = next(iter(app.extensions["limiter"]))
    limiter.limit(
        app.config["MATCHER_SETTINGS"].login_rate_limit,
        key_func=lambda: "login:" + (request.remote_addr or "unknown"),
        methods=["POST"],
    )(people_bp)
    for blueprint in (pages.bp, coordinator.bp, admin.bp):
        app.register_blueprint(blueprint)
    app.add_template_filter(field_id, "field_id")
    app.add_template_global(nav_items, "nav_items")
    app.add_template_global(vocabulary.jurisdictions, "jurisdictions")
    app.add_template_global(lambda name: name in app.view_functions, "has_endpoint")

    @app.before_request
    def _refuse_nul_in_forms() -> None:
        # A NUL character cannot be stored by PostgreSQL: a page's form carrying one is refused
        # here, before any service sees it (the API's schemas refuse it field by field).
        if request.method == "POST" and not request.path.startswith("/api/"):
            fields = [*request.form.keys(), *request.form.values(), *request.args.values()]
            if any("\x00" in value for value in fields):
                abort(400)

    @app.after_request
    def _no_store(response: Response) -> Response:
        if request.path.startswith(PRIVATE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        return response
