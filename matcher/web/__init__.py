"""The web faces: the JSON API, the coordinator pages and the admin pages."""

from __future__ import annotations

from flask import Flask

from matcher.web import admin, coordinator, pages
from matcher.web.api import init_api


def init_web(app: Flask) -> None:
    """Attach every face to ``app``: the API first (its error handler), then the pages."""
    init_api(app)
    for blueprint in (pages.bp, coordinator.bp, admin.bp):
        app.register_blueprint(blueprint)
